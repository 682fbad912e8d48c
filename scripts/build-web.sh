#!/usr/bin/env bash
# Builds the web app into web/dist (index.html, style.css, the wasm-bindgen JS glue and the
# wasm). Installs the wasm32 target and the wasm-bindgen CLI pinned to the exact version of
# the wasm-bindgen crate in Cargo.lock (from crates.io; nothing is downloaded at build time).
# Prints the wasm-bindgen CLI's directory on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"

rustup target add wasm32-unknown-unknown >&2
WB_VERSION="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')"
TOOLS="$HOME/.cache/probable/tools"
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -qF "$WB_VERSION"; then
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --root "$TOOLS" >&2
fi

cargo build --release --locked --target wasm32-unknown-unknown -p probable-web >&2
OUT=web/dist
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
"$TOOLS/bin/wasm-bindgen" --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$OUT.tmp" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/probable-web.wasm" >&2
cp web/index.html web/style.css "$OUT.tmp/"
# Replace the previous build in one step, so a failed build never leaves half a dist.
rm -rf "$OUT.old" && { [ ! -d "$OUT" ] || mv "$OUT" "$OUT.old"; } && mv "$OUT.tmp" "$OUT" && rm -rf "$OUT.old"
WASM="$(ls "$OUT"/*.wasm)"
echo "web app built in $OUT: $(du -k "$WASM" | cut -f1) KiB wasm, $(gzip -9 -c "$WASM" | wc -c | awk '{printf "%.0f", $1/1024}') KiB gzipped" >&2
echo "$TOOLS/bin"
