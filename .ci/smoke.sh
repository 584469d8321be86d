#!/usr/bin/env bash
# Smoke suite: every strategy on two small problems (configs/suites/smoke.yaml), then the report.
# Runs the binary named by LES; .ci/run passes the dev-profile binary `cargo test` just built
# (opt-level 2, so no second build). Without LES it builds and runs the release binary. A few
# seconds on 2 cores after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

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
