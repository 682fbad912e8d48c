"""HF transformers' batched sampling on the same weights as `probable bench sample`.

Two modes, run by hand through scripts/bench-vs-transformers.sh so that both sides are
measured in one run on the same exported model:

  --save DIR --shape NAME   create a randomly initialised Llama (or Phi) of a named shape with
                            transformers and save it (config.json + model.safetensors);
                            with --nucleus K, first scale its final norm weight so that
                            the top-p 0.9 nucleus holds about K tokens per step, as a
                            trained model's peaked logits do (random weights give
                            near-flat logits: the nucleus is most of the vocabulary);
  --model DIR               time generate(do_sample=True, num_return_sequences=N) on it
                            (16-token prompt, T=1, top-p 0.9, a fixed new-token count), then
                            torch's sgemm rate in the same process;
  --model DIR --decode      time one cached decode step at --batch sizes after a --context
                            token prompt (what `probable bench decode` measures), after
                            reporting load time and peak RSS.

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
    # Llama-3.2-1B(-Instruct)'s shape: tied 128k embedding, GQA 32/8, llama3 rope.
    "llama3.2-1b": dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                        num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                        head_dim=64, rms_norm_eps=1e-5, tie_word_embeddings=True,
                        max_position_embeddings=131072,
                        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0,
                                         "factor": 32.0, "low_freq_factor": 1.0,
                                         "high_freq_factor": 4.0,
                                         "original_max_position_embeddings": 8192},
                        bos_token_id=128000, eos_token_id=[128001, 128008, 128009]),
    # Phi-1.5's shape (a PhiForCausalLM, --save only): parallel attention and MLP, partial
    # rotary 0.5, LayerNorm, untied 51200-token head.
    "phi-1.5": dict(arch="phi", vocab_size=51200, hidden_size=2048, intermediate_size=8192,
                    num_hidden_layers=24, num_attention_heads=32, num_key_value_heads=32,
                    partial_rotary_factor=0.5, layer_norm_eps=1e-5, hidden_act="gelu_new",
                    max_position_embeddings=2048),
}
# The same layout scaled down so that a peer comparison runs in minutes on two cores: GQA 4:1
# with head_dim 64, the tied 128k embedding and llama3 rope kept (the vocabulary is where the
# time goes at this size), hidden 2048 -> 512, 16 -> 4 layers.
SHAPES["llama3.2-1b-small"] = dict(SHAPES["llama3.2-1b"], hidden_size=512, intermediate_size=2048,
                                   num_hidden_layers=4, num_attention_heads=8,
                                   num_key_value_heads=2)

p = argparse.ArgumentParser()
p.add_argument("--save")
p.add_argument("--shape", choices=sorted(SHAPES), default="5m")
p.add_argument("--model")
p.add_argument("--samples", default="16,64,256")
p.add_argument("--max-new-tokens", type=int, default=32)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--save-dtype", choices=["float32", "bfloat16"], default="float32",
               help="storage dtype of --save (the real Llama-3.2-1B ships bf16)")
p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
               help="dtype --model is loaded in (from_pretrained(dtype=...)); bfloat16 keeps a "
                    "bf16 checkpoint as stored, as `probable --dtype stored` does")
p.add_argument("--nucleus", type=float,
               help="with --save: scale the final norm so the mean top-p 0.9 nucleus is this size")
p.add_argument("--decode", action="store_true")
p.add_argument("--batch", default="1,16")
p.add_argument("--context", type=int, default=32)
p.add_argument("--iters", type=int, default=10)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)



def mean_nucleus(model, rows=8, steps=16):
    """Mean size of the top-p 0.9 nucleus over `steps` sampled steps of `rows` streams from the
    benchmark prompt: generate's processed scores keep the nucleus finite and the rest -inf."""
    prompt = torch.tensor([[3 + (i * 37) % (model.config.vocab_size - 3) for i in range(16)]])
    torch.manual_seed(1)
    with torch.no_grad():
        out = model.generate(prompt, do_sample=True, top_p=0.9, temperature=1.0, top_k=0,
                             num_return_sequences=rows, max_new_tokens=steps,
                             min_new_tokens=steps, pad_token_id=0, output_scores=True,
                             return_dict_in_generate=True)
    return torch.stack([s.isfinite().sum(-1) for s in out.scores]).float().mean().item()


def calibrate_nucleus(model, target):
    """Scales the final norm weight (it feeds only the output head, tied or not, so the logits
    scale by the same factor) by bisection on log(scale) until the mean nucleus is `target`."""
    norm = model.model.norm.weight
    base = norm.detach().clone()
    lo, hi = 0.0, 8.0  # log scale: 1 .. ~3000
    for _ in range(10):
        mid = (lo + hi) / 2
        with torch.no_grad():
            norm.copy_(base * float(torch.tensor(mid).exp()))
        size = mean_nucleus(model)
        if size > target:
            lo = mid
        else:
            hi = mid
    scale = float(torch.tensor((lo + hi) / 2).exp())
    with torch.no_grad():
        norm.copy_(base * scale)
    print(f"final norm scaled by {scale:.2f}: mean top-p 0.9 nucleus {mean_nucleus(model):.1f} "
          f"tokens (target {target:g}; 8 streams x 16 sampled steps)")


if a.save:
    shape = dict(max_position_embeddings=1024, bos_token_id=1, eos_token_id=2,
                 tie_word_embeddings=False)
    shape.update(SHAPES[a.shape])
    if shape.pop("arch", "llama") == "phi":
        from transformers import PhiConfig, PhiForCausalLM
        model = PhiForCausalLM(PhiConfig(**shape))
    else:
        model = LlamaForCausalLM(LlamaConfig(**shape))
        print(f"{a.shape}: mean top-p 0.9 nucleus {mean_nucleus(model):.0f} of "
              f"{model.config.vocab_size} tokens (random init)")
        if a.nucleus:
            calibrate_nucleus(model, a.nucleus)
    model = model.to(getattr(torch, a.save_dtype))
    kwargs = {}
    if "safe_serialization" in __import__("inspect").signature(model.save_pretrained).parameters:
        kwargs["safe_serialization"] = True
    model.save_pretrained(a.save, **kwargs)
    raise SystemExit(0)
if not a.model:
    p.error("give --save DIR (create a model) or --model DIR (time it)")

t0 = time.perf_counter()
model = LlamaForCausalLM.from_pretrained(a.model, dtype=getattr(torch, a.dtype)).eval()
t_load = time.perf_counter() - t0
# The first logit, as `probable bench` times it: one token through the model, read back.
with torch.no_grad():
    model(torch.tensor([[1]]), use_cache=True).logits.float().sum().item()
t_first = time.perf_counter() - t0
if a.decode:
    import resource
    cfg = model.config
    params = sum(t.numel() for t in model.parameters())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30
    held = sum(t.numel() * t.element_size() for t in model.parameters()) / 2**30
    print(f"transformers {__import__('transformers').__version__}, torch {torch.__version__}, "
          f"{a.threads} threads, {a.dtype}: {params} parameters")
    print(f"load: {t_load:.2f} s · first logit {t_first:.2f} s · peak RSS {peak:.2f} GiB · "
          f"weights {held:.2f} GiB as held")
    print(f"{'batch':>6}  {'ms/step':>12}  {'tokens/s':>14}")
    prompt = torch.tensor([[3 + i % 100 for i in range(a.context)]])
    with torch.no_grad():
        for b in [int(x) for x in a.batch.split(",")]:
            out = model(prompt.repeat(b, 1), use_cache=True)
            past = out.past_key_values
            ids = torch.full((b, 1), 5)
            pos = a.context
            model(ids, past_key_values=past, use_cache=True)  # warm-up step
            pos += 1
            t = time.perf_counter()
            for _ in range(a.iters):
                model(ids, past_key_values=past, use_cache=True).logits.argmax(-1)
                pos += 1
            ms = (time.perf_counter() - t) * 1e3 / a.iters
            print(f"{b:>6}  {ms:>12.2f}  {b / ms * 1e3:>14.0f}")
    raise SystemExit(0)
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
