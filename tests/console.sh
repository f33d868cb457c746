#!/usr/bin/env bash
# The brand console's end-to-end browser walk (tests/console.py): Playwright for Python
# driving the Debian Chromium package, headless, against `engage serve` seeded with
# tests/fixtures/sample-events.ndjson at the fixtures' clock. Run by ./tests/run after
# schemathesis; by hand:
#
#   tests/console.sh [path/to/engage]            # default: the debug binary of cargo test
#   ENGAGE_UPDATE_GOLDEN=1 tests/console.sh      # also rewrites tests/golden/console-*.png
#
# Installs chromium with apt when /usr/bin/chromium is missing (never `playwright install`:
# the browser comes from Debian, Playwright's own download would need the network).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (Debian package)"
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

# shellcheck source=tests/sample-server.sh
. tests/sample-server.sh

shots=$work/shots
[ "${ENGAGE_UPDATE_GOLDEN:-}" = 1 ] && shots=$root/tests/golden
"$venv/bin/python" tests/console.py --base "$base" --token "$token" --shots "$shots"
