#!/usr/bin/env bash
# Set everything up and run the test suite (the same command CI runs).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
if [ ! -x /usr/bin/chromium ]; then
  echo "test: installing Debian chromium for the browser tests"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
