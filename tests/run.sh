#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the test suites and adds up their results. Each suite prints its own
# "N passed, N failed" line (node's test runner prints "# pass N"/"# fail N");
# this script sums them and ends with one line for the whole run.
# Usage: tests/run.sh [unit|bpf|e2e|fuzz ...]   (default: all)
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit fuzz bpf e2e)

total_pass=0 total_fail=0 total_skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# record NAME CMD...: runs one suite, prints its output, adds its counts.
record() {
	local name=$1; shift
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
		s=$(sed -nE 's/.*, ([0-9]+) skipped.*/\1/p' <<<"$line")
	elif grep -qE '^# pass [0-9]+' "$log"; then
		p=$(grep -E '^# pass [0-9]+' "$log" | tail -n 1 | awk '{print $3}')
		f=$(grep -E '^# fail [0-9]+' "$log" | tail -n 1 | awk '{print $3}')
		s=$(grep -E '^# skipped [0-9]+' "$log" | tail -n 1 | awk '{print $3}')
	else
		p=0 f=1 s=0
		echo "$name: no result line (exit $rc), counted as one failure"
	fi
	s=${s:-0}
	# A suite that exits non-zero with no failure counted still failed.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$name: exit $rc"; fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
}

for suite in "${suites[@]}"; do
	case $suite in
	unit)
		for t in "$OUTPUT"/unit/test_*; do [ -x "$t" ] && record "unit/${t##*/}" "$t"; done ;;
	fuzz)
		for f in "$OUTPUT"/fuzz/fuzz_*; do
			[ -x "$f" ] || continue
			record "fuzz/${f##*/}" tests/fuzz/run-one.sh "$f" "${FUZZ_SECONDS:-20}"
		done ;;
	bpf)
		for t in "$OUTPUT"/bpftest/test_*; do [ -x "$t" ] && record "bpf/${t##*/}" "$t"; done ;;
	e2e)
		for t in tests/e2e/*.test.sh tests/e2e/*.test.mjs; do
			[ -e "$t" ] || continue
			case $t in
			*.sh) record "e2e/${t##*/}" timeout -s INT 900 bash "$t" ;;
			*.mjs) record "e2e/${t##*/}" timeout -s INT 900 node --test --test-reporter=tap "$t" ;;
			esac
		done ;;
	*) echo "unknown suite $suite"; exit 2 ;;
	esac
done
echo "=== total"
if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
