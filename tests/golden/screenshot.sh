#!/usr/bin/env bash
# Regenerates tests/golden/campaign-preview.png: renders the sample campaign email (the
# ignored test `write_sample_campaign_html` in tests/it/mail.rs, images are SVG data URIs, no
# network) and screenshots it with headless Chromium (Debian: apt-get install chromium).
# Not part of ./tests/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
html=$work/campaign-preview.html

ENGAGE_SAMPLE_HTML=$html cargo test --quiet --test it mail::write_sample_campaign_html -- --ignored >/dev/null

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$work/profile" --window-size=700,${HEIGHT:-1860} \
  --screenshot="$PWD/tests/golden/campaign-preview.png" "file://$html" 2>/dev/null
echo "wrote tests/golden/campaign-preview.png"
