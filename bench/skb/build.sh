#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds build/skb/skb (the loader, with skb.bpf.c and probe.bpf.c inside).
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out=${OUTPUT:-$root/build}/skb
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
mkdir -p "$out"
for b in skb probe; do
	clang -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_"$arch" -I"$root/vmlinux/$arch" -Wall -Werror \
		-c "$b.bpf.c" -o "$out/$b.bpf.o"
	bpftool gen skeleton "$out/$b.bpf.o" name "${b}_bpf" > "$out/$b.skel.h"
done
cc -O2 -Wall -Wextra -I. -I"$out" skb.c -lbpf -o "$out/skb"
echo "$out/skb"
