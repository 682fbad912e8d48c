#!/usr/bin/env bash
# Loading and decoding a Llama-3.2-1B-shaped model (random weights, bf16 on disk as the
# real checkpoint ships, llama3 rope, tied 128k embedding) with probable and with HF
# transformers on the same files, back to back in one run: load time, time to the first
# logit, peak RSS and the cached decode step at each batch size — each side twice, with the
# weights as stored (probable `--dtype stored`, transformers `dtype=bfloat16`) and widened
# to f32 (`--dtype f32`, `dtype=float32`). Every run gets 2 threads. Run by hand (needs the
# torch venv, ~3 GB disk and ~12 GB memory). The machine is shared: compare within a run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"
BATCH="${BATCH:-1,16,64}"
ITERS="${ITERS:-5}"
MODEL="${MODEL:-$HOME/.cache/probable/bench-llama3.2-1b}"
cargo build --release --workspace --bins --locked
PY="$(bash tests/golden/setup_torch_venv.sh | tail -n1)"
if [ ! -f "$MODEL/model.safetensors" ]; then
  "$PY" tests/golden/bench_transformers.py --save "$MODEL" --shape llama3.2-1b --save-dtype bfloat16
fi
# Each run reads the same files; warm the page cache first so that no side pays the disk.
cat "$MODEL"/*.safetensors > /dev/null
for dtype in stored f32; do
  echo "== probable --dtype $dtype"
  RAYON_NUM_THREADS=2 "$CARGO_TARGET_DIR/release/probable" bench decode --model "$MODEL" \
    --dtype "$dtype" --batch "$BATCH" --context 32 --iters "$ITERS"
done
for dtype in bfloat16 float32; do
  echo "== transformers dtype=$dtype"
  "$PY" tests/golden/bench_transformers.py --model "$MODEL" --dtype "$dtype" --decode \
    --batch "$BATCH" --context 32 --iters "$ITERS" --threads 2
done
