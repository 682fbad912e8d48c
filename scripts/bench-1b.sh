#!/usr/bin/env bash
# Loading and decoding a Llama-3.2-1B-shaped model (random weights, bf16 on disk as the
# real checkpoint ships, llama3 rope, tied 128k embedding) with probable and with HF
# transformers on the same files, back to back in one run: load time, peak RSS and the
# cached decode step at batch 1 and 16. Run by hand (needs the torch venv, ~3 GB disk and
# ~12 GB memory; both sides run f32 on the CPU, 2 threads).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"
BATCH="${BATCH:-1,16}"
MODEL="${MODEL:-$HOME/.cache/probable/bench-llama3.2-1b}"
cargo build --release -p probable-cli
PY="$(bash tests/golden/setup_torch_venv.sh | tail -n1)"
if [ ! -f "$MODEL/model.safetensors" ]; then
  "$PY" tests/golden/bench_transformers.py --save "$MODEL" --shape llama3.2-1b --save-dtype bfloat16
fi
echo "== probable"
RAYON_NUM_THREADS=2 "$CARGO_TARGET_DIR/release/probable" bench decode --model "$MODEL" --batch "$BATCH" --context 32 --iters 10
echo "== transformers"
"$PY" tests/golden/bench_transformers.py --model "$MODEL" --decode --batch "$BATCH" --context 32 --iters 10 --threads 2
