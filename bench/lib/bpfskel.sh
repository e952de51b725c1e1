# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Sourced by the builds of the bench's own small BPF tools (bench/floor,
# bench/micro, bench/skb).
#   bpf_skel SRC OUTDIR [CLANG_FLAG...]
# compiles SRC (NAME.bpf.c) for this machine's architecture against the
# repository's vmlinux.h into OUTDIR/NAME.bpf.o, and writes its skeleton
# (struct NAME_bpf) to OUTDIR/NAME.skel.h.
bpf_skel() {
	local src=$1 out=$2 name root arch
	shift 2
	name=$(basename "$src" .bpf.c)
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
	mkdir -p "$out"
	clang -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -I"$root/vmlinux/$arch" "$@" \
		-c "$src" -o "$out/$name.bpf.o"
	bpftool gen skeleton "$out/$name.bpf.o" name "${name}_bpf" >"$out/$name.skel.h"
}
