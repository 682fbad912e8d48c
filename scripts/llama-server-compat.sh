#!/usr/bin/env bash
# `probable eval --engine openai` against llama.cpp's llama-server (not in CI: the build
# takes ~10 min on 2 cores). Builds llama-server from the llama.cpp tree vendored in the
# pinned llama-cpp-python sdist, writes a demo bundle as an f32 GGUF
# (scripts/gguf_from_bundle.py), serves it, evaluates the same questions with the local
# engine and through the server, and compares:
#   - greedy answers: the fraction of questions whose greedy ids are identical (expected
#     1.0 up to float rounding: both run the same f32 weights on the CPU);
#   - leak rates: per question, the fraction of samples scoring ≥ the leak threshold, local
#     vs llama-server; a paired t-test over questions of the difference (clustering by
#     question respected), consistent when p ≥ 0.01. The two engines draw with different
#     random streams, so only the distributions can agree.
#
#   bash scripts/llama-server-compat.sh      # WORK=/tmp/llama-compat MODEL=public/models/npo
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-/tmp/llama-compat}
VERSION=${LLAMA_CPP_PYTHON:-0.3.36}
M=${MODEL:-public/models/npo}
D=${DATA:-public/models/data}
SPLIT=${SPLIT:-forget10}
Q=${QUESTIONS:-20}
N=${SAMPLES:-64}
T=${TOKENS:-32}
SLOTS=${SLOTS:-8}
B=${PROBABLE:-${CARGO_TARGET_DIR:-$ROOT/target}/release/probable}
mkdir -p "$WORK"
cd "$WORK"

# 1. llama-server from the sdist's vendored llama.cpp.
SRC=llama_cpp_python-$VERSION/vendor/llama.cpp
if [ ! -x build/bin/llama-server ]; then
  [ -f "llama_cpp_python-$VERSION.tar.gz" ] ||
    pip download "llama-cpp-python==$VERSION" --no-deps --no-binary :all: -d .
  [ -d "$SRC" ] || tar xzf "llama_cpp_python-$VERSION.tar.gz"
  command -v cmake > /dev/null || { echo "needs cmake (apt-get install cmake)"; exit 1; }
  cmake -S "$SRC" -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON > cmake.log
  nice cmake --build build -j2 --target llama-server > build.log
fi

# 2. The bundle as GGUF (numpy and llama.cpp's gguf-py; no torch, no transformers).
[ -x venv/bin/python ] || { python3 -m venv venv && venv/bin/pip install -q numpy pyyaml; }
name=$(basename "$M")
PYTHONPATH="$SRC/gguf-py" venv/bin/python "$ROOT/scripts/gguf_from_bundle.py" "$ROOT/$M" "$name.gguf"

# 3. Serve it: SLOTS parallel slots of the model's context each, all sampling knobs left
#    to the requests.
ctx=$(python3 -c "import json; print(json.load(open('$ROOT/$M/config.json'))['max_position_embeddings'])")
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
build/bin/llama-server -m "$name.gguf" --host 127.0.0.1 --port "$port" -np "$SLOTS" \
  -c $((ctx * SLOTS)) -t 2 > server.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null 2>&1 && break
  sleep 0.5
done
url="http://127.0.0.1:$port/v1"

# 4. The same evaluation both ways.
cd "$ROOT"
common=(--model "$M" --data "$D" --split "$SPLIT" --limit "$Q" --samples "$N" --max-new-tokens "$T" --seed 0)
rm -f "$WORK/local.json.journal.jsonl" "$WORK/llama.json.journal.jsonl"
"$B" eval "${common[@]}" --out "$WORK/local.json" > /dev/null
"$B" eval "${common[@]}" --engine openai --endpoint "$url" --chunk "$SLOTS" --concurrency "$SLOTS" \
  --out "$WORK/llama.json" > /dev/null

# 5. Compare.
python3 - "$WORK/local.json" "$WORK/llama.json" <<'PY'
import json, math, sys
l, r = (json.load(open(p)) for p in sys.argv[1:3])
tau = l["config"]["bounds"]["leak_threshold"]
qs = list(zip(l["questions"], r["questions"]))
same = sum(a["greedy"]["ids"] == b["greedy"]["ids"] for a, b in qs)
text = sum(a["greedy"]["text"].strip() == b["greedy"]["text"].strip() for a, b in qs)
# llama-server's /v1/completions returns text only: its answers are re-tokenised, so ids
# can differ where the text is the same.
print(f"greedy text identical: {text}/{len(qs)} questions; ids identical: {same}/{len(qs)} (token ids from: {r['engine']['token_ids']})")
rate = lambda q: sum(s["score"] >= tau for s in q["samples"]) / len(q["samples"])
d = [rate(a) - rate(b) for a, b in qs]
n = len(d)
mean = sum(d) / n
sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1)) if n > 1 else 0.0
if sd == 0:
    p = 1.0 if mean == 0 else 0.0
else:
    t = mean / (sd / math.sqrt(n))
    # Two-sided p from Student's t with n-1 degrees of freedom (regularised incomplete
    # beta by continued fraction).
    def betacf(a, b, x):
        qab, qap, qam = a + b, a + 1, a - 1
        c, dd = 1.0, 1 - qab * x / qap
        dd = 1 / dd
        h = dd
        for m in range(1, 200):
            m2 = 2 * m
            aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            dd = 1 / (1 + aa * dd); c = 1 + aa / c; h *= dd * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            dd = 1 / (1 + aa * dd); c = 1 + aa / c; h *= dd * c
        return h
    def ibeta(a, b, x):
        lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
        front = math.exp(lbeta + a * math.log(x) + b * math.log(1 - x))
        return front * betacf(a, b, x) / a if x < (a + 1) / (a + b + 2) else 1 - front * betacf(b, a, 1 - x) / b
    df = n - 1
    p = ibeta(df / 2, 0.5, df / (df + t * t))
lr = sum(rate(a) for a, _ in qs) / n
rr = sum(rate(b) for _, b in qs) / n
print(f"leak rate (score >= {tau}): local {lr:.3f}, llama-server {rr:.3f}; paired t-test over {n} questions p = {p:.3f} -> {'consistent' if p >= 0.01 else 'NOT consistent'}")
print("engine record:", json.dumps({k: r["engine"][k] for k in ("served_model", "token_ids", "retries", "warnings") if k in r["engine"]}))
PY
