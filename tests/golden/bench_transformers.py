"""Throughput of HF transformers' batched sampling on the same shapes as `probable bench
sample` (a ~5.5M-parameter Llama, 16-token prompt, T=1, top-p 0.9, fixed new-token count).
Run by hand through scripts/bench-vs-transformers.sh so both are measured in one run.
"""
import argparse
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

p = argparse.ArgumentParser()
p.add_argument("--samples", default="16,64,256")
p.add_argument("--max-new-tokens", type=int, default=32)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=2048, hidden_size=256, intermediate_size=704, num_hidden_layers=6,
                  num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=1024,
                  bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
model = LlamaForCausalLM(cfg).eval()
params = sum(t.numel() for t in model.parameters())
prompt = torch.tensor([[3 + (i * 37) % 2045 for i in range(16)]])
print(f"transformers: {params} parameters")
print(f"{'N':>6}  {'tok/s':>10}  {'GFLOP/s':>8}")
for n in [int(x) for x in a.samples.split(",")]:
    with torch.no_grad():
        t = time.perf_counter()
        out = model.generate(prompt, do_sample=True, top_p=0.9, temperature=1.0, num_return_sequences=n,
                             max_new_tokens=a.max_new_tokens, min_new_tokens=a.max_new_tokens,
                             pad_token_id=0)
        dt = time.perf_counter() - t
    tokens = n * (out.shape[1] - prompt.shape[1])
    print(f"{n:>6}  {tokens / dt:>10.0f}  {2 * params * tokens / dt / 1e9:>8.2f}")
# The sgemm ceiling of this machine right now (same process, same threads).
x = torch.randn(1024, 1024)
t = time.perf_counter()
for _ in range(10):
    x @ x
print(f"torch sgemm 1024^3: {10 * 2 * 1024**3 / (time.perf_counter() - t) / 1e9:.1f} GFLOP/s")
