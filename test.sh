#!/usr/bin/env bash
# Set everything up and run the test suite (the same command CI runs).
# Arguments go to pytest: ./test.sh tests/unit (fast: no model, no index, no subprocess), tests/integration,
# tests/e2e (the real app: browser, Gradio API, load), or nothing for all of them plus assistant/'s doctests.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
if [ ! -x /usr/bin/chromium ]; then
  echo "test: installing Debian chromium for the browser tests"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
