#!/usr/bin/env bash
# Create (or reuse) the Python virtual environment holding the reference
# statistics / ROUGE packages used to generate and check the golden fixtures.
#
#   bash tests/golden/setup_venv.sh      # prints the venv's python as its last stdout line
#
# Location: $PROBABLE_STATS_VENV (default: ~/.cache/probable/venv-stats).
# Idempotent: re-running only checks that the pinned versions are installed.
# Needs only python3 (with the venv module) and access to PyPI.
set -euo pipefail

VENV="${PROBABLE_STATS_VENV:-$HOME/.cache/probable/venv-stats}"

# Pinned versions (the goldens in this folder were generated with exactly these).
PINS=(
  "conbo==0.1.1"
  "statsmodels==0.14.4"
  "rouge-score==0.1.2"
  "nltk==3.10.4"
  "numpy==2.4.6"
  "scipy==1.17.1"
  "mpmath==1.3.0"
)

PY="$VENV/bin/python"

make_venv() {
  mkdir -p "$(dirname "$VENV")"
  if ! python3 -m venv "$@" "$VENV" >&2; then
    echo "setup_venv.sh: 'python3 -m venv' failed; on Debian/Ubuntu install python3-venv" >&2
    exit 1
  fi
}
if [ ! -f "$VENV/pyvenv.cfg" ]; then
  if [ -e "$VENV" ] && [ -n "$(ls -A "$VENV" 2>/dev/null)" ]; then
    echo "setup_venv.sh: $VENV exists and is not a virtual environment; refusing to touch it" >&2
    exit 1
  fi
  make_venv
elif [ ! -x "$PY" ] || ! "$PY" -m pip --version >/dev/null 2>&1; then
  make_venv --clear   # broken venv (e.g. an interrupted earlier run): rebuild it
fi

# Fast path: everything already installed at the pinned versions.
if ! "$PY" - "${PINS[@]}" >/dev/null 2>&1 <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        sys.exit(1)
    if have != want:
        sys.exit(1)
PYEOF
then
  "$PY" -m pip install -q --disable-pip-version-check "${PINS[@]}" >&2
fi

echo "$PY"
