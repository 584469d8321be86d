#!/usr/bin/env bash
# Smoke suite: every strategy on two small problems (configs/suites/smoke.yaml) with the release
# binary, then the report. Called by .ci/run; a few seconds on 2 cores after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

# LES=path/to/les skips the build (e.g. a binary built already).
if [ -z "${LES:-}" ]; then
  cargo build --release --bin les
  LES=${CARGO_TARGET_DIR:-target}/release/les
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

start=$(date +%s)
"$LES" bench configs/suites/smoke.yaml --out "$TMP" --jobs 2 --quiet
"$LES" report "$TMP"
test -s "$TMP/report/report.md"
test -s "$TMP/report/runs.csv"
ls "$TMP"/report/plots/*.svg > /dev/null
echo "smoke suite and report: OK in $(( $(date +%s) - start )) s"
sed -n '/^### /,$p' "$TMP/report/report.md" | grep -v '^!\[' | head -n 40
