#!/usr/bin/env bash
# Writes public/models/demo-summary.json, the numbers the web app's first screen shows, from
# a real `probable demo` run (the shipped bundles, 256 samples per forget question): per
# model the share of forget questions greedy decoding calls forgotten, the share where a
# sample states the fact, and the share certified to leak (keyword judge); and the question
# the "watch it" button runs (greedy says forgotten, sampling certifies a leak, ROUGE-L
# judge as in the app), with its bounds. Generated, never typed: `--check` regenerates it
# and fails when the committed file differs (CI runs that).
#
#   bash scripts/make-demo-summary.sh [--probable BIN] [--check] [--demo-json FILE]
#
# --demo-json FILE summarises an existing `probable demo --samples 256` output instead.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${CARGO_TARGET_DIR:-target}/release/probable" CHECK=0 DEMO_JSON=""
while [ $# -gt 0 ]; do
  case "$1" in
    --probable) BIN="${2:?--probable needs a path}"; shift 2 ;;
    --check) CHECK=1; shift ;;
    --demo-json) DEMO_JSON="${2:?--demo-json needs a file}"; shift 2 ;;
    *) echo "make-demo-summary.sh: unknown argument \`$1\` (known: --probable BIN, --check, --demo-json FILE)" >&2; exit 2 ;;
  esac
done
SAMPLES=256
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ -z "$DEMO_JSON" ]; then
  "$BIN" demo --samples "$SAMPLES" --out "$WORK/demo" > /dev/null
  DEMO_JSON="$WORK/demo/demo.json"
fi
python3 - "$DEMO_JSON" "$SAMPLES" > "$WORK/demo-summary.json" <<'PY'
import json, sys
demo, samples = json.load(open(sys.argv[1])), int(sys.argv[2])
r4 = lambda x: round(x, 4)
models = []
for row, kw, rep in zip(demo["rows"], demo["keyword_rows"], demo["reports"]):
    assert row["model"] == kw["model"] == rep["model"]
    models.append({
        "name": row["model"],
        "questions": len(rep["questions"]),
        "greedy_forgotten": r4(kw["frac_greedy_forgotten"]),
        "sample_states_fact": r4(kw["frac_sample_states_fact"]),
        "forgotten_certified_leak": r4(kw["frac_forgotten_certified_leak"]),
        "rouge_greedy_forgotten": r4(row["frac_greedy_forgotten"]),
        "rouge_forgotten_but_sample_leaked": r4(row["frac_forgotten_but_sample_leaked"]),
    })
# The question to watch, per model: greedy says forgotten (ROUGE-L, the app's judge) and the
# certified lower bound on P(leak) is the highest; the first on ties. `watch` is the best over
# the unlearned models (the finetuned one is the "before" picture); the page takes the best
# among the models its site ships.
def watch_of(rep):
    best = None
    for q in rep["questions"]:
        b = q["bounds"]["binary"]
        if q["greedy_forgotten"] and b["lower"] > 0 and (best is None or b["lower"] > best[1]["lower"]):
            best = (q, b)
    if best is None:
        return None
    q, b = best
    c = rep["config"]
    return {
        "model": rep["model"], "q": q["index"], "question": q["question"], "answer": q["answer"],
        "greedy_score": r4(q["greedy"]["score"]), "leaks": b["leaks"], "n": q["bounds"]["n"],
        "lower": r4(b["lower"]), "upper": r4(b["upper"]), "tau": b["threshold"],
        "alpha": q["bounds"]["alpha"],
        "query": f"model={rep['model']}&set=forget&q={q['index']}&n={samples}"
                 f"&seed={c['decode']['seed']}&max_tokens={c['decode']['max_new_tokens']}"
                 f"&tau={b['threshold']}&alpha={q['bounds']['alpha']}",
    }
for m, rep in zip(models, demo["reports"]):
    m["watch"] = watch_of(rep) if rep["model"] != "finetuned" else None
picks = [m["watch"] for m in models if m["watch"]]
watch = max(picks, key=lambda w: w["lower"]) if picks else None
json.dump({
    "generated_by": f"scripts/make-demo-summary.sh (probable demo --samples {samples})",
    "samples": samples,
    "leak_level": demo["reports"][0]["config"]["leak_level"],
    "alpha": demo["reports"][0]["config"]["bounds"]["alpha"],
    "judge": "keyword: a sample states the fact when it contains the answer's keyword",
    "models": models,
    "watch": watch,
}, sys.stdout, indent=2, ensure_ascii=False)
print()
PY
if [ "$CHECK" = 1 ]; then
  diff -u public/models/demo-summary.json "$WORK/demo-summary.json" \
    || { echo "make-demo-summary.sh: public/models/demo-summary.json is stale: run bash scripts/make-demo-summary.sh" >&2; exit 1; }
  echo "public/models/demo-summary.json matches a fresh probable demo run" >&2
else
  mv "$WORK/demo-summary.json" public/models/demo-summary.json
  echo "wrote public/models/demo-summary.json" >&2
fi
