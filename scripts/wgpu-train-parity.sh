#!/usr/bin/env bash
# Training on wgpu from the same start as on the CPU: a few finetune steps and a few unlearn
# steps (NPO + entropy optimisation) on each backend, losses compared step by step (the test
# `train::wgpu_parity`, built only with `--features wgpu`). Run by hand: it builds into its
# own target dir. Software Vulkan: Debian's mesa-vulkan-drivers (lavapipe). Also runs
# `wgpu_sample_parity`: token selection on wgpu vs. the CPU's at a 128k vocabulary.
# And `wgpu_f16_computation_agrees_with_f32` (tests/tests/model_parity.rs): `--dtype f16`
# (f16 weights and activations, f32 accumulation) against f32 on every fixture architecture.
# PARITY_TEST_BIN / PARITY_MODEL_TEST_BIN=path run prebuilt test executables instead
# (scripts/gpu-bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${PARITY_TEST_BIN:-}" ]; then
  status=0
  "$PARITY_TEST_BIN" wgpu_ --nocapture || status=1
  # Built elsewhere: its fixtures are this checkout's.
  PROBABLE_REPO_ROOT="$PWD" "$PARITY_MODEL_TEST_BIN" wgpu_ --nocapture || status=1
  exit $status
fi
export CARGO_TARGET_DIR="${WGPU_TARGET_DIR:-$HOME/.cache/probable/target-wgpu}"
cargo test --release -p probable-cli --features wgpu --bin probable wgpu_ -- --nocapture
cargo test --release -p probable-tests --features wgpu --test model_parity wgpu_ -- --nocapture
