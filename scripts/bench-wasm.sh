#!/usr/bin/env bash
# The CPU fallback's engine against the native CPU: the shipped demo model (npo) sampled
# by probable-core compiled to wasm32 with SIMD under Node (web/tests/wasm_bench.rs; V8 is
# the engine of Chromium's workers) and by `probable bench sample` on one thread, same
# prompt and settings. Run it on a quiet machine.
#
#   bash scripts/bench-wasm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"
TOOLS_BIN="$(bash scripts/build-web.sh | tail -1)"
cargo build --release --locked -p probable-cli >&2
PATH="$TOOLS_BIN:$PATH" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --profile wasm --locked --target wasm32-unknown-unknown -p probable-web --test wasm_bench \
  -- --nocapture 2>&1 | grep -E "wasm32|tokens/s"
echo "native, 1 thread (probable bench sample):"
RAYON_NUM_THREADS=1 "$CARGO_TARGET_DIR/release/probable" bench sample --model public/models/npo \
  --samples 32,256 --max-new-tokens 32 --loop-samples 1
