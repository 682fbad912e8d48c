#!/usr/bin/env bash
# Runs every test of probable on a fresh machine of the project's kind (Debian, Rust 1.95,
# Python 3 with pip, network access to crates.io and PyPI only). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# A build cache outside the clone speeds repeated runs up; it is never required.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"
export PROBABLE_TOFU_DIR="${PROBABLE_TOFU_DIR:-$PWD/../shared/data/tofu}"
export PROBABLE_STORIES_DIR="${PROBABLE_STORIES_DIR:-$PWD/../shared/data/models/stories260K}"
BIN="$CARGO_TARGET_DIR/release/probable"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target"
rustup target add wasm32-unknown-unknown

step "native: build and test the workspace (one profile: release)"
cargo build --release --workspace --bins --locked
cargo test --release --workspace --locked

step "wasm32: build probable-core and the web app"
cargo build --release --locked --target wasm32-unknown-unknown -p probable-web

step "wasm32: probable-core under Node (tokenizer ids, ROUGE-L, bounds vs. the goldens)"
# wasm-bindgen-cli must equal the wasm-bindgen crate version in Cargo.lock exactly.
WB_VERSION="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')"
TOOLS="$HOME/.cache/probable/tools"
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -qF "$WB_VERSION"; then
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --root "$TOOLS"
fi
PATH="$TOOLS/bin:$PATH" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --release --locked --target wasm32-unknown-unknown -p probable-web --test wasm_parity

step "reference check: probable bounds/rouge vs conbo, statsmodels, rouge-score on fresh random inputs"
PY="$(bash tests/golden/setup_venv.sh | tail -n1)"
"$PY" tests/golden/check_cli_against_reference.py --probable "$BIN" --trials 40

step "main job smoke test: bounds on the example scores, and the demo (16 samples)"
"$BIN" bounds public/examples/scores.txt > /dev/null
"$BIN" demo --samples 16 --out "$(mktemp -d)" > /dev/null

echo
echo "all test stages passed"
