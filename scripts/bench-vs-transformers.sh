#!/usr/bin/env bash
# probable's batched sampler vs. its own batch-size-1 loop vs. HF transformers' batched
# generate, measured back to back in one run (run by hand; needs the torch venv).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"
N="${N:-16,64,256}"
cargo build --release -p probable-trainer
PY="$(bash tests/golden/setup_torch_venv.sh | tail -n1)"
"$CARGO_TARGET_DIR/release/probable" bench sample --samples "$N" --max-new-tokens 32
"$PY" tests/golden/bench_transformers.py --samples "$N" --max-new-tokens 32
"$CARGO_TARGET_DIR/release/probable" bench decode
