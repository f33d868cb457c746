#!/usr/bin/env bash
# Submit latency through `engage serve` on the embedded store under 50
# concurrent clients (issue 3). Not part of the test command: a measurement.
#
#   tests/bench/submit-load.sh [SECONDS]
#
# Builds the release binary, loads the sample events into a fresh data folder,
# runs wrk (Debian's package) with 2 threads and 50 connections against
# POST /v1/campaigns and prints p50/p90/p99.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-20}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk"; exit 1; }
cargo build --release --quiet --bin engage
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/engage
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
now=2026-11-26T12:00:00Z
"$bin" event --data "$dir/data" --now $now tests/fixtures/sample-events.ndjson >/dev/null
RUST_LOG=warn "$bin" serve --data "$dir/data" --outbox "$dir/outbox" --now $now --addr 127.0.0.1:18089 >"$dir/serve.out" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null 127.0.0.1:18089/healthz && break; sleep 0.1; done
export TOKEN=$("$bin" token --seller S1 --brand B1 --role brand_representative)
export CAMPAIGN_JSON=$PWD/tests/fixtures/campaign.json
wrk -t2 -c50 -d"${secs}s" --timeout 10s -s tests/bench/submit.lua http://127.0.0.1:18089/v1/campaigns
# What the load created: every 201 is a stored campaign.
curl -s "127.0.0.1:18089/v1/campaigns?brandId=B1" -H "authorization: Bearer $TOKEN" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]), "campaigns stored")'
