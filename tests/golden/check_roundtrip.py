#!/usr/bin/env python3
"""Check that a model bundle (e.g. exported by probable) loads in HF transformers and
reproduces the golden logits.

    PY=$(bash tests/golden/setup_torch_venv.sh | tail -n 1)
    "$PY" tests/golden/check_roundtrip.py BUNDLE_DIR --golden tests/golden/model_golden.json --model llama-tiny

BUNDLE_DIR must hold config.json + model.safetensors (what save_pretrained writes).
The bundle is loaded with AutoModelForCausalLM.from_pretrained(BUNDLE_DIR, dtype=float32):
transformers 5.x defaults to dtype="auto" (the config's dtype), so float32 is forced to
match how the goldens were made. Prints the max |diff| over every golden logit; exits 1
if it exceeds --tol (default 1e-4), 2 on usage errors.
--model stories260K compares against the stories260K record (logits_last, logits_first_rows).
"""

import argparse
import json
import sys

import torch
from transformers import AutoModelForCausalLM

torch.set_num_threads(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle_dir")
    ap.add_argument("--golden", default="tests/golden/model_golden.json")
    ap.add_argument("--model", required=True, help="key under 'models' in the golden file, or stories260K")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--greedy", action="store_true", help="also check greedy ids (argmax loop, no cache)")
    args = ap.parse_args()

    with open(args.golden) as f:
        golden = json.load(f)
    if args.model == "stories260K":
        rec = golden["stories260K"]
        prompts = [rec["prompt"]]
        checks = [(0, len(rec["prompt"]) - 1, [rec["logits_last"]]),
                  (0, 0, rec["logits_first_rows"])]
        greedy = [rec["greedy"]]
    elif args.model in golden["models"]:
        rec = golden["models"][args.model]
        prompts = rec["prompts"]
        checks = [(i, 0, rows) for i, rows in enumerate(rec["logits"])]
        greedy = rec["greedy"]
    else:
        print(f"unknown model {args.model!r}; have {sorted(golden['models'])} and stories260K", file=sys.stderr)
        return 2

    model = AutoModelForCausalLM.from_pretrained(
        args.bundle_dir, dtype=torch.float32, attn_implementation="eager"
    ).eval()

    max_diff = 0.0
    with torch.no_grad():
        logits = [model(input_ids=torch.tensor([p]), use_cache=False).logits[0] for p in prompts]
        for pi, start, rows in checks:
            want = torch.tensor(rows, dtype=torch.float32)
            got = logits[pi][start:start + want.shape[0]]
            if got.shape != want.shape:
                print(f"shape mismatch for prompt {pi}: got {tuple(got.shape)} want {tuple(want.shape)}")
                return 1
            d = float((got - want).abs().max())
            print(f"prompt {pi} (len {len(prompts[pi])}): max |diff| = {d:.3e}")
            max_diff = max(max_diff, d)

        greedy_ok = True
        if args.greedy:
            for p, want in zip(prompts, greedy):
                seq = list(p)
                for _ in range(len(want)):
                    seq.append(int(model(input_ids=torch.tensor([seq]), use_cache=False).logits[0, -1].argmax()))
                if seq[len(p):] != want:
                    greedy_ok = False
                    print(f"greedy mismatch: got {seq[len(p):]} want {want}")

    ok = max_diff <= args.tol and greedy_ok
    print(f"{args.model}: max |diff| = {max_diff:.3e} (tol {args.tol:g}) -> {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
