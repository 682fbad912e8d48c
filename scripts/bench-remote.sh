#!/usr/bin/env bash
# The remote engine's cost: `probable eval` in-process vs the same evaluation through
# `probable serve --model` on loopback (same model, questions, n, seed, length), and the
# requests per second the client sustains when the server's work is one token per request.
#
#   bash scripts/bench-remote.sh            # MODEL=public/models/npo QUESTIONS=8 SAMPLES=64 TOKENS=32
#
# Both runs decode on this machine's CPU, so the difference is the client, HTTP, JSON and
# the server's request handling. Prints one line per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${PROBABLE:-${CARGO_TARGET_DIR:-target}/release/probable}
M=${MODEL:-public/models/npo}
D=${DATA:-public/models/data}
SPLIT=${SPLIT:-forget10}
Q=${QUESTIONS:-8}
N=${SAMPLES:-64}
T=${TOKENS:-32}
C=${CONCURRENCY:-8}
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
"$B" serve --model "$M" --port 0 --dist "$tmp/no-app" --workers 16 > "$tmp/serve.out" 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q http:// "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's#.*http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$tmp/serve.out" | head -1)
[ -n "$port" ] || { echo "probable serve did not start:"; cat "$tmp/serve.out"; exit 1; }
url="http://127.0.0.1:$port/v1"
common=(--model "$M" --data "$D" --split "$SPLIT" --limit "$Q" --samples "$N" --max-new-tokens "$T" --seed 0)
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

t0=$(now); "$B" eval "${common[@]}" --out "$tmp/local.json" > /dev/null 2>&1; t1=$(now)
"$B" eval "${common[@]}" --engine openai --endpoint "$url" --chunk "$N" --concurrency "$C" \
  --out "$tmp/remote.json" > /dev/null 2>&1; t2=$(now)
"$B" eval "${common[@]}" --engine openai --endpoint "$url" --chunk 8 --concurrency "$C" \
  --out "$tmp/remote8.json" > /dev/null 2>&1; t3=$(now)
echo "in-process: $Q questions x $N samples x <=$T tokens: $(secs "$t0" "$t1") s"
echo "through probable serve on loopback, one request of n=$N per question: $(secs "$t1" "$t2") s"
echo "through probable serve on loopback, requests of n=8: $(secs "$t2" "$t3") s"
python3 - "$tmp/local.json" "$tmp/remote.json" <<'PY'
import json, sys
l, r = (json.load(open(p)) for p in sys.argv[1:3])
same = all(a["greedy"]["ids"] == b["greedy"]["ids"] for a, b in zip(l["questions"], r["questions"]))
print(f"greedy answers identical: {same}; mean sample score local {l['summary']['mean_sample_score']:.3f}, remote {r['summary']['mean_sample_score']:.3f}")
PY

# Requests per second: one token per request, one choice per request.
RQ=${RQ_QUESTIONS:-20}
RN=${RQ_SAMPLES:-32}
t4=$(now)
"$B" eval --model "$M" --data "$D" --split "$SPLIT" --limit "$RQ" --samples "$RN" --max-new-tokens 1 \
  --engine openai --endpoint "$url" --chunk 1 --concurrency "$C" --out "$tmp/rps.json" > /dev/null 2>&1
t5=$(now)
python3 -c "
n = $RQ * ($RN + 1) + 3
s = $t5 - $t4
print(f'requests/s (n=1, max_tokens=1, concurrency $C): {n} requests in {s:.2f} s = {n / s:.0f}/s')"
