#!/usr/bin/env bash
# Set everything up, bring the index up to date with corpus/, and start the chat app.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
.venv/bin/python -m assistant index || echo "run: some articles could not be indexed (see above); starting anyway"
exec .venv/bin/python app.py "$@"
