#!/usr/bin/env bash
# Build the Python package and install it, with pytest, into the reference-statistics venv
# (tests/golden/setup_venv.sh: conbo, statsmodels, rouge-score, numpy), so the tests and the
# benchmark see probable_eval next to the packages it is compared with.
#
#   bash python/setup_venv.sh      # prints the venv's python as its last stdout line
#
# The wheel is built once, by `pip install ./python` (maturin, release profile, into
# $CARGO_TARGET_DIR when set, so CI reuses the workspace's build cache).
set -euo pipefail
cd "$(dirname "$0")/.."

PY="$(bash tests/golden/setup_venv.sh | tail -n1)"
PINS=("maturin==1.16.0" "pytest==9.2.0")
if ! "$PY" -m pip show -q maturin pytest >/dev/null 2>&1 \
  || [ "$("$PY" -c 'import maturin, pytest; print(pytest.__version__)' 2>/dev/null)" != "9.2.0" ]; then
  "$PY" -m pip install -q --disable-pip-version-check "${PINS[@]}" >&2
fi
# No build isolation: the pinned maturin above builds it, nothing is fetched per build
# (its PEP 517 hook runs the `maturin` binary of the venv, hence the PATH).
PATH="$(dirname "$PY"):$PATH" "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
  --force-reinstall ./python >&2
echo "$PY"
