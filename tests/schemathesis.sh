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
seconds=${ENGAGE_SCHEMATHESIS_SECONDS:-120}
seed=${ENGAGE_SCHEMATHESIS_SEED:-20261126}

# shellcheck source=tests/sample-server.sh
. tests/sample-server.sh

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
