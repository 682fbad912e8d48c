#!/usr/bin/env bash
# Builds the web app into web/dist (index.html, style.css, the wasm-bindgen JS glue and the
# wasm, twice: the baseline build every browser with WebAssembly SIMD runs, and
# probable-web_bg.relaxed.wasm, the same program built with `--cfg probable_relaxed`, whose
# projection kernel uses relaxed SIMD's fused multiply-add; web/wasm.js has the page and the
# workers load it where the browser has relaxed SIMD). Installs the wasm32 target and the
# wasm-bindgen CLI pinned to the exact version of the wasm-bindgen crate in Cargo.lock (from
# crates.io; nothing is downloaded at build time).
# Prints the wasm-bindgen CLI's directory on its last line.
#
#   bash scripts/build-web.sh [--site DIR [--models npo,ga,…]]
#
# --site DIR also writes one self-contained static folder: the app, the shipped bundles
# (all, or those --models names; the index lists only those), the questions and the demo's
# summary (models/demo-summary.json, which the first screen shows). Every path
# in the app is relative, so DIR works served from any sub-path (e.g. GitHub Pages).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/probable/target}"

SITE="" MODELS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --site) SITE="${2:?--site needs a directory}"; shift 2 ;;
    --models) MODELS="${2:?--models needs a comma-separated list of model names}"; shift 2 ;;
    *) echo "build-web.sh: unknown argument \`$1\` (known: --site DIR, --models a,b)" >&2; exit 2 ;;
  esac
done
[ -z "$MODELS" ] || [ -n "$SITE" ] || { echo "build-web.sh: --models needs --site DIR" >&2; exit 2; }

rustup target add wasm32-unknown-unknown >&2
WB_VERSION="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')"
TOOLS="$HOME/.cache/probable/tools"
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -qF "$WB_VERSION"; then
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --root "$TOOLS" >&2
fi

cargo build --profile wasm --locked --target wasm32-unknown-unknown -p probable-web >&2
# The relaxed-SIMD build: the config's rustflags plus one cfg (`--config` appends to the
# array), in a target directory of its own, since other flags rebuild every crate.
RELAXED_TARGET="$CARGO_TARGET_DIR-relaxed"
CARGO_TARGET_DIR="$RELAXED_TARGET" cargo build --profile wasm --locked --target wasm32-unknown-unknown -p probable-web \
  --config 'target.wasm32-unknown-unknown.rustflags = ["--cfg", "probable_relaxed"]' >&2
OUT=web/dist
rm -rf "$OUT.tmp" "$OUT.relaxed.tmp" && mkdir -p "$OUT.tmp" "$OUT.relaxed.tmp"
bindgen() {
  "$TOOLS/bin/wasm-bindgen" --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$2" \
    "$1/wasm32-unknown-unknown/wasm/probable-web.wasm" >&2
}
bindgen "$CARGO_TARGET_DIR" "$OUT.tmp"
bindgen "$RELAXED_TARGET" "$OUT.relaxed.tmp"
# One JS glue serves both builds: it must be the same code (its comments name function-table
# indices, which differ).
code() { grep -v '^ *// ' "$1"; }
cmp -s <(code "$OUT.tmp/probable-web.js") <(code "$OUT.relaxed.tmp/probable-web.js") || {
  echo "build-web.sh: the relaxed-SIMD build's JS glue differs from the baseline build's" >&2
  exit 1
}
mv "$OUT.relaxed.tmp/probable-web_bg.wasm" "$OUT.tmp/probable-web_bg.relaxed.wasm"
rm -rf "$OUT.relaxed.tmp"
cp web/index.html web/style.css web/worker.js web/wasm.js "$OUT.tmp/"
# Replace the previous build in one step, so a failed build never leaves half a dist.
rm -rf "$OUT.old" && { [ ! -d "$OUT" ] || mv "$OUT" "$OUT.old"; } && mv "$OUT.tmp" "$OUT" && rm -rf "$OUT.old"
WASM="$OUT/probable-web_bg.wasm"
echo "web app built in $OUT: $(du -k "$WASM" | cut -f1) KiB wasm, $(gzip -9 -c "$WASM" | wc -c | awk '{printf "%.0f", $1/1024}') KiB gzipped (and the relaxed-SIMD build beside it)" >&2

if [ -n "$SITE" ]; then
  # Built beside DIR and moved into place in one step, as web/dist is.
  rm -rf "$SITE.tmp" && mkdir -p "$SITE.tmp/models"
  cp -r "$OUT"/. "$SITE.tmp/"
  cp -r public/models/data "$SITE.tmp/models/"
  # The first screen's numbers (scripts/make-demo-summary.sh, from a real demo run).
  cp public/models/demo-summary.json "$SITE.tmp/models/"
  python3 - "$SITE.tmp/models" "$MODELS" <<'PY'
import json, shutil, sys
out, wanted = sys.argv[1], [m for m in sys.argv[2].split(",") if m]
index = json.load(open("public/models/index.json"))
names = [m["name"] for m in index["models"]]
unknown = [w for w in wanted if w not in names]
if unknown:
    sys.exit(f"build-web.sh: --models: no model named {', '.join(unknown)} in public/models/index.json (known: {', '.join(names)})")
if wanted:
    index["models"] = [m for m in index["models"] if m["name"] in wanted]
for m in index["models"]:
    shutil.copytree(f"public/models/{m['dir']}", f"{out}/{m['dir']}")
with open(f"{out}/index.json", "w") as f:
    json.dump(index, f, indent=2)
    f.write("\n")
PY
  rm -rf "$SITE.old" && { [ ! -d "$SITE" ] || mv "$SITE" "$SITE.old"; } && mv "$SITE.tmp" "$SITE" && rm -rf "$SITE.old"
  echo "static site written to $SITE: $(du -sk "$SITE" | cut -f1) KiB" >&2
fi
echo "$TOOLS/bin"
