#!/usr/bin/env bash
# Create (or reuse) the Python venv used to regenerate / check golden fixtures.
# Idempotent: re-running only installs what is missing or at a different version.
# Only PyPI is used (the torch wheel from PyPI is large, ~5 GB with its nvidia deps).
# The last line printed on stdout is the path of the venv's python.
set -euo pipefail

VENV="${PROBABLE_TORCH_VENV:-$HOME/.cache/probable/venv-torch}"
PY_BOOT="${PYTHON:-python3}"

TORCH_VERSION="2.15.0"
TRANSFORMERS_VERSION="5.24.0"
SAFETENSORS_VERSION="0.8.0"
TOKENIZERS_VERSION="0.23.3"
NUMPY_VERSION="2.4.6"

PINS=(
  "torch==${TORCH_VERSION}"
  "transformers==${TRANSFORMERS_VERSION}"
  "safetensors==${SAFETENSORS_VERSION}"
  "tokenizers==${TOKENIZERS_VERSION}"
  "numpy==${NUMPY_VERSION}"
)

if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  "$PY_BOOT" -m venv "$VENV" >&2
fi
PY="$VENV/bin/python"

# Fast path: everything already installed at the pinned versions.
if "$PY" - "${PINS[@]}" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    if version(name) != want:
        sys.exit(1)
PYEOF
then
  echo "venv up to date: $VENV" >&2
else
  "$PY" -m pip install --disable-pip-version-check --quiet --upgrade pip >&2 || true
  "$PY" -m pip install --disable-pip-version-check "${PINS[@]}" >&2
fi

echo "$PY"
