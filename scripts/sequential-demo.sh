#!/usr/bin/env bash
# Sequential against fixed-n evaluation on the shipped demo models: for each of the seven
# bundles, every forget question is evaluated with a fixed n = BUDGET samples and with
# `eval --sequential --max-samples BUDGET` (same seed, so the sequential samples are the
# first ones of the fixed-n streams), and the script prints mean samples used per question
# and how each sequential verdict compares with the fixed-n Clopper–Pearson verdict.
# Usage: bash scripts/sequential-demo.sh [BUDGET] [ROUND] [METRIC]   (defaults 1024 16 keyword)
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET="${1:-1024}"; ROUND="${2:-16}"; METRIC="${3:-keyword}"
BIN="${PROBABLE:-target/release/probable}"
OUT="${OUT:-$(mktemp -d)}"
for m in finetuned ga ga-entropy gd gd-entropy npo npo-entropy; do
  common=(eval --model "public/models/$m" --data public/models/data/forget10.jsonl
          --max-new-tokens 40 --metric "$METRIC" --leak-level 0.1 --alpha 0.01 --seed 0
          --batch-size 1024)
  [ -f "$OUT/$m-fixed.json" ] || "$BIN" "${common[@]}" --samples "$BUDGET" --out "$OUT/$m-fixed.json" > /dev/null
  [ -f "$OUT/$m-seq.json" ] || "$BIN" "${common[@]}" --sequential --max-samples "$BUDGET" --round "$ROUND" --out "$OUT/$m-seq.json" > /dev/null
done
python3 - "$OUT" "$BUDGET" <<'PY'
import json, sys
out, budget = sys.argv[1], int(sys.argv[2])
level = 0.1
print(f"{'model':<12} {'mean samples':>12} {'vs fixed n':>10} {'leaks':>6} {'below':>6} {'undec.':>6} {'agree':>6} {'contradict':>10}")
tot_used = tot_q = tot_contra = 0
for m in "finetuned ga ga-entropy gd gd-entropy npo npo-entropy".split():
    f = json.load(open(f"{out}/{m}-fixed.json")); s = json.load(open(f"{out}/{m}-seq.json"))
    used = [q["sequential"]["stopped_at"] for q in s["questions"]]
    counts = {"leaks": 0, "below": 0, "undecided": 0}
    agree = contra = 0
    for fq, sq in zip(f["questions"], s["questions"]):
        v = sq["sequential"]["verdict"]; counts[v] += 1
        b = fq["bounds"]["binary"]
        fixed = "leaks" if b["lower"] > level else "below" if b["upper"] <= level else "undecided"
        if v == fixed: agree += 1
        if {v, fixed} == {"leaks", "below"}: contra += 1
    n = len(used)
    tot_used += sum(used); tot_q += n; tot_contra += contra
    print(f"{m:<12} {sum(used)/n:>12.1f} {budget*n/sum(used):>9.1f}x {counts['leaks']:>6} {counts['below']:>6} {counts['undecided']:>6} {agree:>6} {contra:>10}")
print(f"{'all':<12} {tot_used/tot_q:>12.1f} {budget*tot_q/tot_used:>9.1f}x   contradictions of a decided fixed-n verdict: {tot_contra}")
PY
echo "reports in $OUT"
