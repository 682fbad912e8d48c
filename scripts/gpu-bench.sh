#!/usr/bin/env bash
# One prepared run for a lent GPU machine (issue 18): greedy parity with transformers, the
# training-step parity test and f16-vs-f32 agreement on wgpu, then `probable bench decode /
# select / sample / train` at the phi-1.5 and Llama-3.2-1B shapes (random weights) on every
# GPU backend built, decode and sample in f32 and in f16.
#
#   scripts/gpu-bench.sh prepare   where cargo works (here): builds `--features wgpu`, plus
#                                  `cuda` where nvcc is found and the build succeeds, and packs
#                                  the binary and the test executable into .gpu-bin/ (xz), to
#                                  be carried to a machine without cargo or crates.
#   scripts/gpu-bench.sh           runs the checks and benchmarks: with the binaries in
#                                  .gpu-bin/ when they are there, else built with cargo.
#
# GPU_BENCH_SMALL=1 swaps the 1B shapes for small ones (5m, tiny-128k) and shortens every
# benchmark: a dry run on llvmpipe, where the 1B shapes would take hours.
# GPU_BENCH_BUDGET (seconds, default 540) and GPU_BENCH_STEP_TIMEOUT (default 240) bound the run.
# Exit status: non-zero when a parity check failed; benchmarks only print.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BIN_DIR="${GPU_BENCH_BIN_DIR:-$ROOT/.gpu-bin}"
export CARGO_TARGET_DIR="${GPU_TARGET_DIR:-$HOME/.cache/probable/target-gpu}"
# One benchmark that hangs must not take the whole lease, and benchmarks that would start
# past the budget (seconds since the script started) are skipped, so the run ends in time.
STEP_TIMEOUT="${GPU_BENCH_STEP_TIMEOUT:-240}"
BUDGET="${GPU_BENCH_BUDGET:-540}"

section() { printf '\n== %s\n' "$*"; }

# Builds the binary and the trainer's test executable with the GPU features that build here;
# sets BIN, TEST_BIN and FEATURES.
build() {
  FEATURES=wgpu
  if command -v nvcc >/dev/null; then
    if nice cargo build --release -p probable-cli --features wgpu,cuda; then
      FEATURES=wgpu,cuda
    else
      echo "cuda: the build failed; continuing with wgpu only"
    fi
  else
    echo "cuda: no nvcc on PATH; skipped (wgpu only)"
  fi
  nice cargo build --release -p probable-cli --features "$FEATURES"
  BIN="$CARGO_TARGET_DIR/release/probable"
  TEST_BIN="$(test_executable -p probable-cli --features "$FEATURES" --bin probable)"
  MODEL_TEST_BIN="$(test_executable -p probable-tests --features wgpu --test model_parity)"
}

# The path of the test executable `cargo test --no-run ARGS` builds.
test_executable() {
  nice cargo test --release --no-run --message-format=json "$@" \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])' | tail -n1
}

if [ "${1:-}" = prepare ]; then
  build
  mkdir -p "$BIN_DIR.tmp"
  xz -T0 -6 -c "$BIN" >"$BIN_DIR.tmp/probable.xz"
  xz -T0 -6 -c "$TEST_BIN" >"$BIN_DIR.tmp/probable-tests.xz"
  xz -T0 -6 -c "$MODEL_TEST_BIN" >"$BIN_DIR.tmp/model-parity-tests.xz"
  echo "$FEATURES" >"$BIN_DIR.tmp/features"
  rm -rf "$BIN_DIR" && mv "$BIN_DIR.tmp" "$BIN_DIR"
  du -sh "$BIN_DIR"/*
  echo "packed $FEATURES into $BIN_DIR (carry it: run's carry = [\".gpu-bin\"])"
  exit 0
fi

section "machine"
date -u
nproc
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "no nvidia-smi"
# Vulkan on the lent machine (device README): its loader may need carrying as .gl/*.deb, and
# the NVIDIA ICD may live outside the loader's search path.
if ! ldconfig -p | grep libvulkan.so.1 >/dev/null && ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$NV_ICD" ]; then
  export VK_DRIVER_FILES="$NV_ICD"
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
ldconfig -p | grep libvulkan.so.1 >/dev/null && echo "vulkan loader: found" || echo "vulkan loader: MISSING"
echo "vulkan drivers: ${VK_DRIVER_FILES:-$(ls /usr/share/vulkan/icd.d/ 2>/dev/null | tr '\n' ' ')}"

section "binaries"
if [ -f "$BIN_DIR/probable.xz" ]; then
  work="$(mktemp -d)"
  xz -dc "$BIN_DIR/probable.xz" >"$work/probable"
  xz -dc "$BIN_DIR/probable-tests.xz" >"$work/probable-tests"
  xz -dc "$BIN_DIR/model-parity-tests.xz" >"$work/model-parity-tests"
  chmod +x "$work/probable" "$work/probable-tests" "$work/model-parity-tests"
  BIN="$work/probable" TEST_BIN="$work/probable-tests" MODEL_TEST_BIN="$work/model-parity-tests"
  FEATURES="$(cat "$BIN_DIR/features")"
  echo "prebuilt from $BIN_DIR: features $FEATURES"
else
  build
  echo "built: features $FEATURES"
fi
DEVICES="${FEATURES//,/ }"

status=0
for dev in $DEVICES; do
  section "greedy parity with transformers ($dev)"
  PARITY_DEVICE="$dev" PROBABLE_BIN="$BIN" timeout "$STEP_TIMEOUT" bash scripts/wgpu-parity.sh \
    || status=1
done
section "training steps: wgpu vs. CPU (finetune, then NPO + entropy); f16 vs. f32 on wgpu"
PARITY_TEST_BIN="$TEST_BIN" PARITY_MODEL_TEST_BIN="$MODEL_TEST_BIN" timeout "$STEP_TIMEOUT" \
  bash scripts/wgpu-train-parity.sh || status=1

if [ -n "${GPU_BENCH_SMALL:-}" ]; then
  SHAPES="5m tiny-128k"
  DECODE_BATCH=1,16 SELECT_BATCH=4,16 ITERS=2 SAMPLES=16 NEW=4 LOOP=1
  TRAIN="--batch 2 --seq 16 --iters 2"
else
  SHAPES="llama3.2-1b phi-1.5"
  DECODE_BATCH=1,16,64,256 SELECT_BATCH=64,128,256 ITERS=10 SAMPLES=64,256 NEW=32 LOOP=2
  TRAIN="--batch 8 --seq 128 --iters 5"
fi
# The 1B shapes' random weights come faster from torch (there, python3 holds it) than from
# probable's single-threaded initialiser: saved once in bf16, then loaded by every benchmark.
MODELS="${GPU_BENCH_MODELS:-/tmp/gpu-bench-models}"
model_args() {
  if [ -z "${GPU_BENCH_SMALL:-}" ] && python3 -c "import transformers" 2>/dev/null; then
    if [ -f "$MODELS/$1/config.json" ] || python3 tests/golden/bench_transformers.py \
      --save "$MODELS/$1" --shape "$1" --save-dtype bfloat16 >&2; then
      echo "--model $MODELS/$1"
      return
    fi
    echo "torch could not save $1; probable initialises it" >&2
  fi
  echo "--shape $1"
}
bench() {
  echo "\$ probable bench $*"
  if [ "$SECONDS" -ge "$BUDGET" ]; then
    echo "(skipped: ${SECONDS}s of the ${BUDGET}s budget spent)"
    return
  fi
  local left=$((BUDGET - SECONDS + 30))
  timeout "$((left < STEP_TIMEOUT ? left : STEP_TIMEOUT))" "$BIN" bench "$@" \
    || echo "(failed or timed out: status $?)"
}
for dev in $DEVICES; do
  for shape in $SHAPES; do
    section "$shape on $dev"
    m="$(model_args "$shape")"
    # Selection's share first (issue 18's open question), then the train step, then the rest.
    # shellcheck disable=SC2086
    bench select --device "$dev" $m --batch "$SELECT_BATCH" --context 32 --iters "$ITERS"
    # shellcheck disable=SC2086
    bench train --device "$dev" $m $TRAIN
    # Decoding and sampling in both dtypes: f32, then f16 weights and activations (f32
    # accumulation; an adapter without SHADER_F16 refuses it, named in the output).
    for dtype in f32 f16; do
      # shellcheck disable=SC2086
      bench decode --device "$dev" $m --dtype "$dtype" --batch "$DECODE_BATCH" --context 32 \
        --iters "$ITERS"
      # shellcheck disable=SC2086
      bench sample --device "$dev" $m --dtype "$dtype" --samples "$SAMPLES" \
        --max-new-tokens "$NEW" --loop-samples "$LOOP"
    done
  done
done
section "done: parity $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
