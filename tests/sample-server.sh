# Sourced by tests/schemathesis.sh and tests/console.sh: starts the debug `engage serve`
# over a fresh store seeded with tests/fixtures/sample-events.ndjson at the fixtures'
# clock, with a long tick (nothing is sent while the caller runs), and stops it on exit.
# Sourced from the repository root, with the caller's arguments: $1 is the engage binary
# (default: the debug binary of cargo test). Sets $root, $venv (ENGAGE_VENV or .venv),
# $engage, $work, $base (the server's URL) and $token (brand B1, both roles).
root=$PWD
venv=${ENGAGE_VENV:-$root/.venv}
target=${CARGO_TARGET_DIR:-$root/target}
engage=${1:-$target/debug/engage}
[ -x "$engage" ] || { echo "no engage binary at $engage (run cargo test first)"; exit 1; }
now=2026-11-26T12:00:00Z
work=$(mktemp -d -t engage-sample.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The development signing key, the same for `engage token` and `engage serve`.
unset ENGAGE_TOKEN_SECRET
"$engage" event --data "$work/data" --now "$now" tests/fixtures/sample-events.ndjson >/dev/null
# The background job opens its own redirections, maybe after the first read below: the
# file exists before it starts, so that read finds it empty rather than missing (under
# `set -e`, a missing file ended the caller).
: >"$work/serve.out"
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
