"""One table from the raw logs of scripts/bench-peers.sh, plus the checks on llama.cpp's streams.

Usage: bench_peers_report.py RUN_DIR N_LIST PROMPT_TOKENS NEW_TOKENS

End to end (tok/s of generated tokens): `probable bench sample` (prefill included),
llama.cpp `batched` (its own "decoded ... speed", after the shared prompt's prefill) and
transformers `generate` (prefill included). Forward pass: `probable bench decode` and
transformers' cached decode step (batch N after a 16-token prompt, argmax only) against
llama.cpp `batched-bench` S_TG (the same N, PP = 16 shared, TG = 32, no sampling).
"""
import json
import re
import sys
from pathlib import Path

run, ns, prompt_tokens, new_tokens = Path(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:5])
ns = [int(x) for x in ns.split(",")]


def read(name):
    path = run / name
    return path.read_text(errors="replace") if path.exists() else None


def row_value(text, n, pattern, group):
    """The `group`-th number of the table row that starts with `n` and matches `pattern`."""
    if text is None:
        return None
    for line in text.splitlines():
        m = re.fullmatch(rf"\s*{n}\s+{pattern}\s*", line)
        if m:
            return float(m.group(group))
    return None


NUM = r"([\d.]+)"
rows, checks = [], []
for n in ns:
    p_sample = row_value(read(f"probable-sample-{n}.txt"), n, rf"{NUM}\s+{NUM}\s+{NUM}x\s+{NUM}", 1)
    # ms/step, tokens/s, GFLOP/s, then (newer builds) % of sgemm and the copied-KV layout.
    p_decode = row_value(read(f"probable-decode-{n}.txt"), n, rf"{NUM}\s+{NUM}\s+{NUM}(?:\s+.*)?", 2)
    t_sample = row_value(read(f"transformers-sample-{n}.txt"), n, rf"{NUM}\s+{NUM}", 1)
    t_decode = row_value(read(f"transformers-decode-{n}.txt"), n, rf"{NUM}\s+{NUM}", 2)
    l_sample = l_tg = None
    out, err = read(f"llama-batched-{n}.txt"), read(f"llama-batched-{n}.err")
    if out is not None and err is not None:
        log = out + err
        m = re.search(r"decoded (\d+) tokens in ([\d.]+) s, speed: ([\d.]+) t/s", log)
        l_sample = float(m.group(3)) if m else None
        m = re.search(r"n_predict = (\d+), .*n_parallel = (\d+), n_kv_req = (\d+)", log)
        if m:
            n_predict, n_par, n_kv_req = map(int, m.groups())
            # n_kv_req = P + (n_predict - P) * n_parallel, so the prompt's real token count is:
            p = prompt_tokens if n_par == 1 else (n_predict * n_par - n_kv_req) // (n_par - 1)
            # A stream that stops at n_cur keeps n_cur - P tokens; n_cur = n_predict is full length.
            ends = [int(x) for x in re.findall(r"stream \d+ finished at n_cur = (\d+)", log)]
            short = [e - p for e in ends if e < n_predict]
            seqs = re.findall(r"^sequence \d+:\n\n(.*?)\n\n(?=sequence \d+:|\Z)", out, re.S | re.M)
            checks.append(
                f"llama.cpp batched N={n}: prompt {p} tokens (with BOS), {n_predict - p} new; "
                f"{len(set(seqs))} distinct of {len(seqs)} streams; "
                f"{len(ends) - len(short)} of {len(ends)} full length"
                + (f", {len(short)} ended early by EOS (kept {sorted(short)} tokens)" if short else "")
            )
    skipped = read(f"llama-skipped-{n}.txt")
    if skipped:
        checks.append(skipped.strip())
    bench = read(f"llama-batched-bench-{n}.txt")
    if bench is not None:
        for line in bench.splitlines():
            if line.startswith("{"):
                rec = json.loads(line)
                if rec.get("pl") == n:
                    l_tg = rec["speed_tg"]
    rows.append((n, p_sample, l_sample, t_sample, p_decode, l_tg, t_decode))


def fmt(x):
    return "—" if x is None else f"{x:.0f}"


def ratio(a, b):
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


print(f"\n{prompt_tokens}-token prompt, {new_tokens} new tokens, T=1, top-p 0.9, top-k off, 2 threads "
      f"each; tok/s")
print("| N | probable sample | llama.cpp batched | transformers generate | probable/llama.cpp "
      "| probable/transformers | probable decode | llama.cpp S_TG | transformers decode "
      "| probable/llama.cpp | probable/transformers |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for n, ps, ls, ts, pd, lt, td in rows:
    print(f"| {n} | {fmt(ps)} | {fmt(ls)} | {fmt(ts)} | {ratio(ps, ls)} | {ratio(ps, ts)} "
          f"| {fmt(pd)} | {fmt(lt)} | {fmt(td)} | {ratio(pd, lt)} | {ratio(pd, td)} |")
print("(end to end: columns 2-6; forward pass: columns 7-11)")
for c in checks:
    print(c)
