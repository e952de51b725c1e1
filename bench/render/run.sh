#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Render time of the whole exposition with 10,200 series (issue 4's budget:
# 10,000 series in 10 ms), from tests/unit/test_pipeline.c built optimised
# and without sanitizers (the unit suite's build is sanitized and only checks
# a loose bound). Prints the test's own figures.
set -eu
cd "$(dirname "$0")/../.."
out=${OUTPUT:-build}/bench
mkdir -p "$out"
srcs=$(sed -n 's/^PURE_SRCS := $(wildcard $(addprefix src\/,\(.*\)))$/\1/p' Makefile)
# shellcheck disable=SC2086
cc -O2 -std=gnu11 -D_GNU_SOURCE -Iinclude tests/unit/test_pipeline.c $(printf 'src/%s ' $srcs) \
	-lz -lnettle -lm -lpthread -o "$out/test_pipeline"
"$out/test_pipeline"
