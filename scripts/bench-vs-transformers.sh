#!/usr/bin/env bash
# probable's batched sampler vs. its own batch-size-1 loop vs. HF transformers' batched
# generate, on the same exported weights, measured back to back in one run (run by hand;
# needs the torch venv). SHAPE=5m (default) or 15m (stories15M's shape, 32k vocabulary).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"
N="${N:-16,64,256}"
SHAPE="${SHAPE:-5m}"
cargo build --release -p probable-cli
PY="$(bash tests/golden/setup_torch_venv.sh | tail -n1)"
MODEL="$(mktemp -d)"
trap 'rm -rf "$MODEL"' EXIT
"$PY" tests/golden/bench_transformers.py --save "$MODEL" --shape "$SHAPE"
"$CARGO_TARGET_DIR/release/probable" bench sample --model "$MODEL" --samples "$N" --max-new-tokens 32
"$PY" tests/golden/bench_transformers.py --model "$MODEL" --samples "$N" --max-new-tokens 32
"$CARGO_TARGET_DIR/release/probable" bench decode --model "$MODEL"
