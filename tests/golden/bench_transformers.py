"""HF transformers' batched sampling on the same weights as `probable bench sample`.

Two modes, run by hand through scripts/bench-vs-transformers.sh so that both sides are
measured in one run on the same exported model:

  --save DIR --shape NAME   create a randomly initialised Llama of a named shape with
                            transformers and save it (config.json + model.safetensors);
  --model DIR               time generate(do_sample=True, num_return_sequences=N) on it
                            (16-token prompt, T=1, top-p 0.9, a fixed new-token count), then
                            torch's sgemm rate in the same process.

FLOPs per token are counted as `ModelConfig::flops_per_token` counts them: two per weight
the token is multiplied by (not an untied embedding, a lookup) plus QK^T and PV.
"""
import argparse
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {
    # probable's default benchmark shape (~5.5M parameters, GQA).
    "5m": dict(vocab_size=2048, hidden_size=256, intermediate_size=704, num_hidden_layers=6,
               num_attention_heads=8, num_key_value_heads=4),
    # The shape of llama2.c's stories15M (~24M parameters with its 32k vocabulary).
    "15m": dict(vocab_size=32000, hidden_size=288, intermediate_size=768, num_hidden_layers=6,
                num_attention_heads=6, num_key_value_heads=6),
}

p = argparse.ArgumentParser()
p.add_argument("--save")
p.add_argument("--shape", choices=sorted(SHAPES), default="5m")
p.add_argument("--model")
p.add_argument("--samples", default="16,64,256")
p.add_argument("--max-new-tokens", type=int, default=32)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

if a.save:
    cfg = LlamaConfig(**SHAPES[a.shape], max_position_embeddings=1024, bos_token_id=1,
                      eos_token_id=2, tie_word_embeddings=False)
    LlamaForCausalLM(cfg).save_pretrained(a.save, safe_serialization=True)
    raise SystemExit(0)
if not a.model:
    p.error("give --save DIR (create a model) or --model DIR (time it)")

model = LlamaForCausalLM.from_pretrained(a.model).eval()
cfg = model.config
params = sum(t.numel() for t in model.parameters())
lookup = 0 if cfg.tie_word_embeddings else cfg.vocab_size * cfg.hidden_size
head_dim = cfg.hidden_size // cfg.num_attention_heads
prompt_len = 16


def flops_per_token(context):
    attention = 4 * cfg.num_hidden_layers * cfg.num_attention_heads * head_dim * context
    return 2 * (params - lookup) + attention


prompt = torch.tensor([[3 + (i * 37) % (cfg.vocab_size - 3) for i in range(prompt_len)]])
print(f"transformers {__import__('transformers').__version__}, torch {torch.__version__}: "
      f"{params} parameters, {a.threads} threads")
print(f"{'N':>6}  {'tok/s':>10}  {'GFLOP/s':>8}")
for n in [int(x) for x in a.samples.split(",")]:
    with torch.no_grad():
        t = time.perf_counter()
        out = model.generate(prompt, do_sample=True, top_p=0.9, temperature=1.0, top_k=0,
                             num_return_sequences=n, max_new_tokens=a.max_new_tokens,
                             min_new_tokens=a.max_new_tokens, pad_token_id=0)
        dt = time.perf_counter() - t
    tokens = n * (out.shape[1] - prompt.shape[1])
    gflops = flops_per_token(prompt_len + a.max_new_tokens // 2) * tokens / dt / 1e9
    print(f"{n:>6}  {tokens / dt:>10.0f}  {gflops:>8.2f}")
# The sgemm ceiling of this machine right now (same process, same threads).
x = torch.randn(1024, 1024)
x @ x
t = time.perf_counter()
for _ in range(10):
    x @ x
print(f"torch sgemm 1024^3: {10 * 2 * 1024**3 / (time.perf_counter() - t) / 1e9:.1f} GFLOP/s")
