#!/usr/bin/env bash
# Create (or reuse) the Python virtual environment that generates sequential_golden.json
# (make_sequential_goldens.py): mpmath and confseq, the reference implementation of
# confidence sequences by Howard & Waudby-Smith.
#
#   bash tests/golden/setup_sequential_venv.sh    # prints the venv's python as its last stdout line
#
# Location: $PROBABLE_SEQUENTIAL_VENV (default: ~/.cache/probable/venv-sequential).
# Separate from setup_venv.sh because confseq 0.0.11 cannot share its pins: it is published
# only as source (C++/pybind11, built with cmake; needs a C++ compiler and the Boost headers,
# e.g. `apt-get install libboost-dev`), its declared build requirement pybind11~=2.6 does not
# compile for Python 3.11 (so it is built without isolation against pybind11 2.13), and its
# Python code uses `np.float_`, removed in NumPy 2 (so numpy 1.26 here, 2.4 there).
# Nothing at test time needs this venv: the goldens are committed.
set -euo pipefail

VENV="${PROBABLE_SEQUENTIAL_VENV:-$HOME/.cache/probable/venv-sequential}"
PINS=(
  "numpy==1.26.4"
  "scipy==1.17.1"
  "mpmath==1.3.0"
  "multiprocess==0.70.19"
)
BUILD=(
  "pybind11==2.13.6"
  "scikit-build==0.18.1"
  "cmake==3.31.6"
  "setuptools"
  "wheel"
)
CONFSEQ="confseq==0.0.11"
PY="$VENV/bin/python"

if [ ! -x "$PY" ]; then
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV" >&2
fi
if ! "$PY" - "${PINS[@]}" "$CONFSEQ" >/dev/null 2>&1 <<'PYEOF'
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    if version(name) != want:
        sys.exit(1)
PYEOF
then
  "$PY" -m pip install -q --disable-pip-version-check "${PINS[@]}" "${BUILD[@]}" >&2
  "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps "$CONFSEQ" >&2
fi
echo "$PY"
