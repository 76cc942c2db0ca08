#!/usr/bin/env bash
# tests/run.sh: run the bats suite and end with a plain "N passed, M failed" line.
# Exit status: bats's own (non-zero if any test failed).
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# SVGE_TEST_FILTER (make check FILTER=...): only the tests whose names match (bats --filter)
bats --timing ${SVGE_TEST_FILTER:+--filter "$SVGE_TEST_FILTER"} "$(dirname "$0")" | tee "$out"
status=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$out")
failed=$(grep -c '^not ok ' "$out")
echo "tests: $passed passed, $failed failed"
exit "$status"
