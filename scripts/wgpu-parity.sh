#!/usr/bin/env bash
# Greedy parity with transformers on the wgpu device (run by hand: it needs a second burn
# feature set, so it builds into its own target dir). Software Vulkan: Debian's
# mesa-vulkan-drivers (lavapipe). PROBABLE_BIN=path runs a prebuilt `--features wgpu`
# binary instead of building one (scripts/gpu-bench.sh on a machine without cargo);
# PARITY_DEVICE=cuda checks that device instead (a binary built with `--features cuda`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PROBABLE_BIN:-}" ]; then
  export CARGO_TARGET_DIR="${WGPU_TARGET_DIR:-$HOME/.cache/probable/target-wgpu}"
  cargo build --release -p probable-cli --features wgpu
  PROBABLE_BIN="$CARGO_TARGET_DIR/release/probable"
fi
python3 - "$PROBABLE_BIN" "${PARITY_DEVICE:-wgpu}" <<'PY'
import json, subprocess, sys
bin_, device = sys.argv[1:3]
g = json.load(open("tests/golden/model_golden.json"))
ok = bad = 0
for name, m in g["models"].items():
    for p, (prompt, want) in enumerate(zip(m["prompts"], m["greedy"])):
        out = subprocess.run([bin_, "generate", "--device", device, "--model", m["dir"], "--prompt-ids",
                              ",".join(map(str, prompt)), "--max-new-tokens", str(len(want)), "--json"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{name} prompt {p}: error: {out.stderr.strip()}"); bad += 1; continue
        got = json.loads(out.stdout)["token_ids"]
        agree = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), len(want))
        if got == want:
            ok += 1
        else:
            bad += 1
        print(f"{name} prompt {p}: {agree}/{len(want)} greedy tokens identical")
print(f"{ok} passed, {bad} failed")
sys.exit(1 if bad else 0)
PY
