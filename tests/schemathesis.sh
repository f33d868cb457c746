#!/usr/bin/env bash
# Fuzzes `engage serve` against infra/openapi.yaml with schemathesis: every check,
# a fixed seed, a bounded time. Run by ./tests/run after `cargo test`; by hand:
#
#   tests/schemathesis.sh [path/to/engage]      # default: the debug binary of cargo test
#
# The server is seeded with tests/fixtures/sample-events.ndjson at the fixtures' clock,
# so the fuzzer meets real brands, campaigns, reviews and promotions, and is called with
# a token for brand B1 holding both roles (every operation reachable).
# ENGAGE_SCHEMATHESIS_SECONDS (default 120) bounds the run, ENGAGE_SCHEMATHESIS_SEED
# (default 20261126) fixes the generated requests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${ENGAGE_VENV:-$root/.venv}
target=${CARGO_TARGET_DIR:-$root/target}
engage=${1:-$target/debug/engage}
seconds=${ENGAGE_SCHEMATHESIS_SECONDS:-120}
seed=${ENGAGE_SCHEMATHESIS_SEED:-20261126}
now=2026-11-26T12:00:00Z

[ -x "$engage" ] || { echo "no engage binary at $engage (run cargo test first)"; exit 1; }
work=$(mktemp -d -t engage-schemathesis.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The development signing key, the same for `engage token` and `engage serve`.
unset ENGAGE_TOKEN_SECRET
"$engage" event --data "$work/data" --now "$now" tests/fixtures/sample-events.ndjson >/dev/null
# A long tick: the fuzzer meets the data as seeded, not a send run halfway.
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

# --workers 1: the debug server on a shared 2-core machine; the seed alone fixes the
# requests only with one worker.
"$venv/bin/st" --config-file tests/schemathesis.toml run infra/openapi.yaml \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --seed "$seed" \
  --max-time "$seconds" \
  --workers 1 \
  --request-timeout 10 \
  --report junit --report-dir "$work/report" \
  --warnings off
