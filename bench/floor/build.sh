#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the floor's no-op observer (noop.c, noop.bpf.c) into
# ${OUTPUT:-build}/floor/noop and prints its path.
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out=${OUTPUT:-$root/build}/floor
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
mkdir -p "$out"
clang -g -O2 -target bpf -D__TARGET_ARCH_$arch -I"$root/vmlinux/$arch" -c noop.bpf.c -o "$out/noop.bpf.o"
bpftool gen skeleton "$out/noop.bpf.o" name noop_bpf > "$out/noop.skel.h"
cc -O2 -Wall -I"$out" noop.c -lbpf -o "$out/noop"
echo "$out/noop"
