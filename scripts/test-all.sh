#!/usr/bin/env bash
# Runs every test of probable on a fresh machine of the project's kind (Debian, Rust 1.95,
# Python 3 with pip, Node with npm, network access to crates.io, PyPI, npm and Debian only).
# Installs what it needs: the wasm32 target, wasm-bindgen-cli, a Python venv (reference
# packages, maturin, pytest), Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

# The clone's own target/ by default, the one `cargo run --release -- demo` builds into, so
# the README's two commands share one build; .ci/run points it at a cache outside the clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export PROBABLE_TOFU_DIR="${PROBABLE_TOFU_DIR:-$PWD/../shared/data/tofu}"
export PROBABLE_STORIES_DIR="${PROBABLE_STORIES_DIR:-$PWD/../shared/data/models/stories260K}"
BIN="$CARGO_TARGET_DIR/release/probable"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target"
rustup target add wasm32-unknown-unknown

step "fixtures: the real Llama 3.1, Qwen3 and Llama 2 tokenizers (npm, pinned in tests/tokenizers)"
(cd tests/tokenizers && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

step "native: build and test the workspace (one profile: release)"
cargo build --release --workspace --bins --locked
cargo test --release --workspace --locked

# The tests that need ../shared/data are #[ignore]d (cargo lists them as ignored, by name);
# here they run on purpose for each data set that is present, and there a missing or broken
# data set fails them. The name filters pick them: every such test names its data set.
if [ -f "$PROBABLE_TOFU_DIR/full.json" ]; then
  step "native: the tests on the real TOFU export ($PROBABLE_TOFU_DIR)"
  cargo test --release --workspace --locked -- --ignored tofu
else
  echo "NOTICE: no TOFU export at $PROBABLE_TOFU_DIR: its tests stay ignored"
fi
if [ -f "$PROBABLE_STORIES_DIR/model.safetensors" ]; then
  step "native: the tests on the stories260K checkpoint ($PROBABLE_STORIES_DIR)"
  cargo test --release --workspace --locked -- --ignored stories260k
else
  echo "NOTICE: no stories260K at $PROBABLE_STORIES_DIR: its tests stay ignored"
fi

step "structure: no import cycles between the files or folders of any crate"
python3 scripts/import-cycles.py

step "wasm32: build the web app into web/dist and a static site (installs the pinned wasm-bindgen CLI)"
SITE="$(mktemp -d)/site"
TOOLS_BIN="$(bash scripts/build-web.sh --site "$SITE" --models npo | tail -n1)"

step "wasm32: probable-core under Node (tokenizer ids, ROUGE-L, bounds vs. the goldens)"
PATH="$TOOLS_BIN:$PATH" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --profile wasm --locked --target wasm32-unknown-unknown -p probable-web --test wasm_parity

step "browser: the web app in headless Chromium (WebGPU via SwiftShader, and the CPU fallback)"
if ! command -v chromium >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
node tests/browser/run.mjs --probable "$BIN" --chromium "$(command -v chromium)" --site "$SITE"

step "reference check: probable bounds/rouge vs conbo, statsmodels, rouge-score on fresh random inputs"
PY="$(bash tests/golden/setup_venv.sh | tail -n1)"
"$PY" tests/golden/check_cli_against_reference.py --probable "$BIN" --trials 40

step "python: build the probable-eval wheel once (pip install ./python, maturin) and run its pytest suite"
PY="$(bash python/setup_venv.sh | tail -n1)"
PROBABLE_BIN="$BIN" "$PY" -m pytest -q -p no:cacheprovider python/tests

step "fuzzing: a short budget of every target from the committed corpus (0 crashes expected)"
"$BIN" fuzz all --executions 200000 --seconds 3 --corpus native-trainer/fuzz/corpus --crashes "$(mktemp -d)"

step "the web app's first screen: public/models/demo-summary.json equals a fresh probable demo run (256 samples)"
bash scripts/make-demo-summary.sh --probable "$BIN" --check

step "main job smoke test: bounds on the example scores, and the demo (16 samples)"
"$BIN" bounds public/examples/scores.txt > /dev/null
"$BIN" demo --samples 16 --out "$(mktemp -d)" > /dev/null

echo
echo "all test stages passed"
