#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one libFuzzer binary for a fixed time over its seed corpus and reports
# one result line. A crash, leak or timeout is a failure; its input is kept
# under build/fuzz-crashes/ for replay (`$fuzzer FILE`).
set -u
fuzzer=$1 seconds=${2:-20}
name=${fuzzer##*/}
out=${OUTPUT:-build}
work="$out/fuzz-corpus/$name" crashes="$out/fuzz-crashes/$name"
mkdir -p "$work" "$crashes"
seeds=()
[ -d "tests/fuzz/corpus/$name" ] && seeds+=("tests/fuzz/corpus/$name")
if "$fuzzer" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 \
	-artifact_prefix="$crashes/" "$work" "${seeds[@]}" >"$out/fuzz-$name.log" 2>&1; then
	tail -n 3 "$out/fuzz-$name.log"
	echo "1 passed, 0 failed"
else
	tail -n 40 "$out/fuzz-$name.log"
	echo "0 passed, 1 failed"
fi
