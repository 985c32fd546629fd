#!/bin/bash
# `make test` from fresh clones of this repository while stress-ng keeps every core busy
# (Debian's stress-ng): the suite must pass on a busy machine. Usage:
#   bench/stress_make_test.sh [RUNS]     (default 3; logs and a summary in $OUT)
set -u
runs=${1:-3}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
out=${OUT:-/tmp/longform-stress}
mkdir -p "$out"
command -v stress-ng >/dev/null || { echo "stress-ng is not installed (apt install stress-ng)" >&2; exit 2; }
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  git clone -q "$repo" "$dir/longform"
  stress-ng --cpu "$(nproc)" --timeout 0 >/dev/null 2>&1 &
  load=$!
  start=$(date +%s)
  # -v: each test's result is logged as it ends, so a run stopped early still names
  # the tests that failed.
  (cd "$dir/longform" && PYTEST_ADDOPTS="-v ${PYTEST_ADDOPTS:-}" make test >"$out/run-$i.log" 2>&1)
  rc=$?
  kill "$load"; wait "$load" 2>/dev/null
  result=$(grep -E '^=+ .*(passed|failed)' "$out/run-$i.log" | tail -1)
  failed=$(grep -E '^\[gw[0-9]+\] .*FAILED|FAILED tests/' "$out/run-$i.log" | grep -oE 'tests/[^ ]+' | sort -u | tr '\n' ' ')
  echo "run $i: exit $rc, $(( $(date +%s) - start )) s, $(git -C "$dir/longform" rev-parse --short HEAD) $result ${failed:+failed: $failed}" | tee -a "$out/summary.txt"
  rm -rf "$dir"
  [ "$rc" -eq 0 ] || exit "$rc"
done
