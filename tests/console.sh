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
root=$PWD
venv=${ENGAGE_VENV:-$root/.venv}
target=${CARGO_TARGET_DIR:-$root/target}
engage=${1:-$target/debug/engage}
now=2026-11-26T12:00:00Z

[ -x "$engage" ] || { echo "no engage binary at $engage (run cargo test first)"; exit 1; }
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (Debian package)"
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

work=$(mktemp -d -t engage-console.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The development signing key, the same for `engage token` and `engage serve`.
unset ENGAGE_TOKEN_SECRET
"$engage" event --data "$work/data" --now "$now" tests/fixtures/sample-events.ndjson >/dev/null
# A long tick: nothing is sent while the walk runs.
"$engage" serve --addr 127.0.0.1:0 --data "$work/data" --outbox "$work/outbox" \
  --now "$now" --tick 86400 >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
base=
for _ in $(seq 1 100); do
  base=$(sed -n 's/^listening on //p' "$work/serve.out")
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "engage serve did not start:"; cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "engage serve did not print its address"; exit 1; }
token=$("$engage" token --seller S1 --brand B1 --role brand_representative --role moderator)

shots=$work/shots
[ "${ENGAGE_UPDATE_GOLDEN:-}" = 1 ] && shots=$root/tests/golden
"$venv/bin/python" tests/console.py --base "$base" --token "$token" --shots "$shots"
