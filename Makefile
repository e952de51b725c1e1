# SPDX-License-Identifier: Apache-2.0
# sba-observer build. Everything generated goes to $(OUTPUT) (default build/);
# the source tree stays clean. `make V=1` shows the commands, `make help` lists targets.

OUTPUT ?= build
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=

CLANG ?= clang
LLVM_STRIP ?= $(shell command -v llvm-strip || command -v llvm-strip-14 || echo true)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
CC ?= cc
PKG_CONFIG ?= pkg-config

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ifeq ($(filter x86 arm64,$(ARCH)),)
$(error unsupported architecture $(ARCH): only x86_64 and aarch64 are supported)
endif
VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
	  -Iinclude -I$(OUTPUT) -DSBA_VERSION='"$(VERSION)"'
LIBS := $(shell $(PKG_CONFIG) --libs libbpf libmicrohttpd gnutls nettle 2>/dev/null || \
	  echo -lbpf -lmicrohttpd -lgnutls -lnettle) -lelf -lz -lm -lpthread
# What the pure modules link (expo: zlib, libm; auth: nettle: SHA-256, memeql_sec).
PURE_LIBS := -lz -lnettle -lm
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX_H)) -Iinclude -Ibpf \
	-Wall -Werror -Wno-unused-function -Wno-compare-distinct-pointer-types $(BPF_EXTRA)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Pure modules: no libbpf, no kernel; unit tests and fuzzers link only these.
PURE_SRCS := $(wildcard $(addprefix src/,json.c buf.c ringbuf.c drainreq.c http1.c httpconn.c route.c tenant.c resp.c redisconn.c bullmq.c conntab.c service.c procstat.c pipeline.c hist.c window.c agg.c slowlog.c expo.c auth.c pktconv.c cgroup.c))
# Everything else in src/ needs libbpf and the generated skeleton. The binary
# links the pure modules it uses, listed in APP_PURE, not every pure module.
APP_PURE := src/json.c src/buf.c src/ringbuf.c src/drainreq.c src/expo.c src/auth.c src/pipeline.c src/conntab.c src/service.c \
	src/procstat.c \
	src/http1.c src/httpconn.c src/route.c src/tenant.c src/resp.c src/redisconn.c src/bullmq.c \
	src/agg.c src/hist.c src/window.c src/slowlog.c src/pktconv.c src/cgroup.c
APP_SRCS := $(filter-out $(PURE_SRCS),$(wildcard src/*.c)) $(APP_PURE)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
APP_OBJS := $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(APP_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(wildcard tests/unit/test_*.c))
BPF_TESTS := $(patsubst tests/bpf/%.c,$(OUTPUT)/bpftest/%,$(wildcard tests/bpf/test_*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all run demo test unit fuzz fuzz-long check install uninstall clean vmlinux deps help bench bench-pipeline

all: $(OUTPUT)/sba-observer

help:
	@echo 'make            build $(OUTPUT)/sba-observer (installs nothing)'
	@echo 'make run        install missing dependencies, build, run the observer with --trace'
	@echo 'make demo       install missing dependencies, build, run a small SaaS watched by the observer (docs/MONITORING.md)'
	@echo 'make test       install missing dependencies, build, run every test suite'
	@echo 'make unit       unit tests of the pure modules (ASan+UBSan, no root)'
	@echo 'make fuzz       run every fuzzer for FUZZ_SECONDS (default 60) each'
	@echo 'make bench      overhead benchmark (bench/README.md)'
	@echo 'make bench-pipeline  userspace pipeline replay, ns per HTTP exchange (bench/pipeline/)'
	@echo 'make vmlinux    regenerate $(VMLINUX_H) from /sys/kernel/btf/vmlinux'
	@echo 'make install    install to $$(DESTDIR)$$(PREFIX)/bin'
	@echo 'make deps       install build and test dependencies (Debian 12)'
	@echo 'V=1 shows commands; OUTPUT=dir moves the build directory'

deps:
	$(Q)scripts/install-deps.sh

run: deps all
	$(OUTPUT)/sba-observer --trace

demo: deps all
	$(Q)OUTPUT=$(OUTPUT) scripts/demo.sh

test: deps all $(UNIT_TESTS) $(BPF_TESTS) $(FUZZERS)
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh

unit: $(UNIT_TESTS)
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh unit

fuzz: $(FUZZERS)
	$(Q)OUTPUT=$(OUTPUT) FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/run.sh fuzz

bench: all
	$(Q)bench/run.sh

bench-pipeline: $(OUTPUT)/bench/replay
	$(Q)OUTPUT=$(OUTPUT) bench/pipeline/run.sh

# The pipeline replay (bench/pipeline/): optimised like the binary, no sanitizer.
$(OUTPUT)/bench/replay: bench/pipeline/replay.c $(PURE_SRCS) src/events.c $(wildcard include/*.h)
	$(call msg,CC-BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $< $(PURE_SRCS) src/events.c $(PURE_LIBS) -lpthread -o $@

vmlinux:
	$(call msg,GEN,$(VMLINUX_H))
	$(Q)mkdir -p $(dir $(VMLINUX_H))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_H).tmp
	$(Q)mv $(VMLINUX_H).tmp $(VMLINUX_H)

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/unit $(OUTPUT)/fuzz $(OUTPUT)/bpftest:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/sba_abi.h $(VMLINUX_H) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp 2>/dev/null || true
	$(Q)mv $@.tmp $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp
	$(Q)mv $@.tmp $@

$(OUTPUT)/obj/%.o: src/%.c $(wildcard include/*.h) $(SKELS) | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/sba-observer: $(APP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/unit/%: tests/unit/%.c $(PURE_SRCS) $(wildcard include/*.h) tests/unit/check.h | $(OUTPUT)/unit
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -pthread -Itests/unit $< $(PURE_SRCS) $(PURE_LIBS) -o $@

$(OUTPUT)/bpftest/%: tests/bpf/%.c $(filter-out $(OUTPUT)/obj/main.o,$(APP_OBJS)) tests/unit/check.h tests/bpf/recorder.h | $(OUTPUT)/bpftest
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(filter-out $(OUTPUT)/obj/main.o,$(APP_OBJS)) $(LIBS) -o $@

FUZZ_CC ?= clang
$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(PURE_SRCS) $(wildcard include/*.h) | $(OUTPUT)/fuzz
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -fsanitize=fuzzer,address,undefined $< $(PURE_SRCS) $(PURE_LIBS) -o $@

install: $(OUTPUT)/sba-observer
	$(call msg,INSTALL,$(DESTDIR)$(BINDIR)/sba-observer)
	$(Q)install -d $(DESTDIR)$(BINDIR)
	$(Q)install -m 0755 $(OUTPUT)/sba-observer $(DESTDIR)$(BINDIR)/sba-observer

uninstall:
	$(Q)rm -f $(DESTDIR)$(BINDIR)/sba-observer

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
#
