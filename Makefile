# uvmm: one non-recursive Makefile. Everything it builds lands under build/.
#
#   make                 uvmm, the guest programs, the test servers
#   make check           set-up, unit tests, boot tests (SANITIZE=1: ASan+UBSan)
#   make check-linux     Debian's kernel and nvme driver on uvmm-nvme, to a shell
#   make demo            boot the demo and show what happens
#   make bench           benchmarks (QUICK=1 for a smoke run)
#   make fuzz            libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make check-robust    check SANITIZE=1, valgrind on the unit tests, fuzz
#                        (FUZZ_SECONDS default 20 there)
#   make install         PREFIX=/usr/local DESTDIR=

VERSION := 0.1.0

# Plain `make` builds everything; rules below come before `all` is defined.
.DEFAULT_GOAL := all
PREFIX ?= /usr/local
DESTDIR ?=

ifeq ($(SANITIZE),1)
BUILD ?= build/sanitize
CC := clang
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
else
BUILD ?= build
# make's built-in CC is "cc": take gcc unless the user named a compiler.
ifeq ($(origin CC),default)
CC := gcc
endif
SAN_FLAGS :=
endif

OPT ?= -O2
CPPFLAGS := -I. -D_GNU_SOURCE -DUVMM_VERSION='"$(VERSION)"'
CFLAGS := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -MMD -MP \
	-fno-strict-aliasing $(SAN_FLAGS)
LDFLAGS := $(SAN_FLAGS)
LDLIBS := -lfdt -ljson-c -lpthread -lseccomp

# ---- host code ------------------------------------------------------------

COMMON_SRCS := $(wildcard common/*.c)
# The vfio-user library: everything in vfio-user/ but the one file that
# knows the VMM (device.c), so tests, servers and fuzzers link it alone.
VFU_SRCS := $(filter-out vfio-user/device%.c,$(wildcard vfio-user/*.c))
CORE_SRCS := $(filter-out vmm/main.c,$(wildcard vmm/*.c)) \
	$(wildcard devices/*.c) $(wildcard vfio-user/device*.c)

# The NVMe controller model (nvme/ but the server program's main.c), a
# library of its own so unit tests and the fuzzer drive it without a socket.
NVME_SRCS := $(filter-out nvme/main.c,$(wildcard nvme/*.c))

host_obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBVFU := $(BUILD)/libvfu.a
LIBNVME := $(BUILD)/libnvme.a
UVMM_NVME := $(BUILD)/uvmm-nvme
LIBCORE := $(BUILD)/libuvmm-core.a
UVMM := $(BUILD)/uvmm

# Plain `make` on a machine without the build packages stops here, naming
# them and the command that installs them, not at a missing header.
$(BUILD)/.build-deps-ok:
	@bash scripts/setup-deps.sh --missing build
	@mkdir -p $(dir $@) && touch $@

$(BUILD)/obj/%.o: %.c | $(BUILD)/.build-deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The DSDT's AML, compiled by iasl (acpica-tools) into a C array that
# vmm/acpi.c includes. iasl is quiet on success and names the line on error.
DSDT_HEX := $(BUILD)/gen/dsdt.hex
$(DSDT_HEX): vmm/dsdt.asl | $(BUILD)/.build-deps-ok
	@mkdir -p $(dir $@)
	@iasl -p $(basename $@) -tc $< >$(basename $@).log 2>&1 || \
		{ cat $(basename $@).log; exit 1; }
	@rm -f $(basename $@).aml $(basename $@).log
$(call host_obj,vmm/acpi.c): $(DSDT_HEX)
$(call host_obj,vmm/acpi.c): CPPFLAGS += -I$(BUILD)/gen

$(LIBVFU): $(call host_obj,$(VFU_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBCORE): $(call host_obj,$(CORE_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(UVMM): $(call host_obj,vmm/main.c) $(LIBCORE) $(LIBVFU)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIBNVME): $(call host_obj,$(NVME_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(UVMM_NVME): $(call host_obj,nvme/main.c) $(LIBNVME) $(LIBVFU)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# QEMU's command line on uvmm, for firmware test runners (kvm-unit-tests).
UVMM_QEMU := $(BUILD)/uvmm-qemu
$(UVMM_QEMU): $(call host_obj,tools/uvmm-qemu.c)
	$(CC) $(LDFLAGS) -o $@ $^

# Unit tests: tests/unit/test_NAME.c, each its own cmocka program.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_SUPPORT_SRCS := $(wildcard tests/unit/support/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

$(BUILD)/tests/unit/%: $(call host_obj,tests/unit/%.c) \
		$(call host_obj,$(UNIT_SUPPORT_SRCS)) $(LIBCORE) $(LIBNVME) $(LIBVFU)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Test device servers: tests/servers/NAME.c on the server library.
SERVER_SRCS := $(wildcard tests/servers/*.c)
SERVER_BINS := $(patsubst tests/servers/%.c,$(BUILD)/tests/servers/%,$(SERVER_SRCS))

$(BUILD)/tests/servers/%: $(call host_obj,tests/servers/%.c) $(LIBVFU)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Put into check-linux's initramfs: static, they need nothing there.
LINUX_HELPER := $(BUILD)/tests/linux/bar-read $(BUILD)/tests/linux/rtc-tick
$(BUILD)/tests/linux/%: tests/linux/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -static -o $@ $<

# ---- guest programs (freestanding, PVH ELF) -------------------------------

GUEST_CC := gcc
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -MMD -MP \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fcf-protection=none \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small -m64 \
	-fno-builtin -nostdinc -isystem $(shell $(GUEST_CC) -print-file-name=include) \
	-Iguest/include -I.
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,guest/guest.ld \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096

GUEST_RT_SRCS := $(wildcard guest/runtime/*.c) $(wildcard guest/runtime/*.S)
GUEST_RT_OBJS := $(patsubst %,$(BUILD)/guest-obj/%.o,$(GUEST_RT_SRCS))
GUEST_PROG_SRCS := $(wildcard guest/*.c)
GUEST_ELFS := $(patsubst guest/%.c,$(BUILD)/guest/%.elf,$(GUEST_PROG_SRCS))

$(BUILD)/guest-obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest-obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c -o $@ $<

$(BUILD)/guest/%.elf: $(BUILD)/guest-obj/guest/%.c.o $(GUEST_RT_OBJS) guest/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_RT_OBJS)

# ---- multiboot.elf: a Multiboot 1 kernel of our own (guest/multiboot/) ------

# The runtime, entered through guest/multiboot/entry.S's Multiboot header
# and 32-bit entry, then converted to a 32-bit ELF the way kvm-unit-tests
# builds its .flat files.
MB_SRCS := $(wildcard guest/multiboot/*.c guest/multiboot/*.S)
MB_OBJS := $(patsubst %,$(BUILD)/guest-obj/%.o,$(MB_SRCS))
MB_ELF := $(BUILD)/guest/multiboot.elf

$(BUILD)/guest-obj/multiboot64.elf: $(MB_OBJS) $(GUEST_RT_OBJS) guest/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -Wl,-e,mb_start -o $@ \
		$(MB_OBJS) $(GUEST_RT_OBJS)

$(MB_ELF): $(BUILD)/guest-obj/multiboot64.elf
	@mkdir -p $(dir $@)
	objcopy -O elf32-i386 $< $@

# ---- bzimage-probe: a real bzImage of our own (guest/bzimage-probe/) -------

# Setup header + a position-independent 64-bit kernel (the loader picks
# where it runs), with three runtime files for printf and report(). The
# link keeps its relocations (-q) so check-pic.sh can refuse any absolute
# one; objcopy then flattens it into the bzImage file.
PROBE_DIR := guest/bzimage-probe
PROBE := $(BUILD)/guest/bzimage-probe
PROBE_SRCS := $(wildcard $(PROBE_DIR)/*.c $(PROBE_DIR)/*.S) \
	guest/runtime/console.c guest/runtime/report.c guest/runtime/string.c
PROBE_OBJS := $(patsubst %,$(BUILD)/probe-obj/%.o,$(PROBE_SRCS))
PROBE_CFLAGS := $(filter-out -fno-pic -fno-pie,$(GUEST_CFLAGS)) -fpie \
	-include $(PROBE_DIR)/probe.h

$(BUILD)/probe-obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(PROBE_CFLAGS) -c -o $@ $<

$(BUILD)/probe-obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(PROBE_CFLAGS) -D__ASSEMBLY__ -c -o $@ $<

$(PROBE).elf: $(PROBE_OBJS) $(PROBE_DIR)/probe.ld $(PROBE_DIR)/check-pic.sh
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(PROBE_CFLAGS) -nostdlib -static -no-pie \
		-Wl,-T,$(PROBE_DIR)/probe.ld -Wl,--build-id=none -Wl,-q \
		-Wl,-z,noexecstack -Wl,-z,max-page-size=4096 \
		-Wl,--no-warn-rwx-segments -o $@ $(PROBE_OBJS)
	@bash $(PROBE_DIR)/check-pic.sh $@

$(PROBE): $(PROBE).elf
	objcopy -O binary $< $@

# ---- guest ROMs for --bios (guest/rom/NAME.S -> NAME.bin) ------------------

# The source lays out the whole image itself (.org, the reset jump at
# 0xfff0) and addresses by label differences: no linker, and an object
# with a relocation would come out wrong, so it is refused.
ROM_SRCS := $(wildcard guest/rom/*.S)
GUEST_ROMS := $(patsubst guest/rom/%.S,$(BUILD)/guest/%.bin,$(ROM_SRCS))

$(BUILD)/guest/%.bin: $(BUILD)/guest-obj/guest/rom/%.S.o
	@mkdir -p $(dir $@)
	@if readelf -r $< | grep -q "section '.rela\?.text'"; then \
		echo "$<: a ROM object must have no relocations" >&2; exit 1; fi
	objcopy -O binary -j .text $< $@

all: $(GUEST_ROMS)

# ---- fuzz targets (clang + libFuzzer) --------------------------------------

# Each tests/fuzz/fuzz_NAME.c is a libFuzzer program. The code it drives is
# compiled again with coverage hooks (fuzzer-no-link), ASan and UBSan into
# its own archive, so the fuzzer steers by what it reaches in uvmm's code.
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -MMD -MP \
	-fno-strict-aliasing $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))
FUZZ_LIB := $(FUZZ_DIR)/libuvmm-fuzz.a
fuzz_obj = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(1))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

# acpi.c includes the DSDT's AML, as in the host build.
$(call fuzz_obj,vmm/acpi.c): $(DSDT_HEX)
$(call fuzz_obj,vmm/acpi.c): CPPFLAGS += -I$(BUILD)/gen

$(FUZZ_LIB): $(call fuzz_obj,$(CORE_SRCS) $(VFU_SRCS) $(NVME_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The seed corpus generator: a plain host program, so `make fuzz-corpus`
# rewrites tests/fuzz/corpus/ the same way on any machine. It needs only
# the wire encoders (the loaders' layouts come from their headers).
$(FUZZ_DIR)/gen-corpus: $(call host_obj,tests/fuzz/gen-corpus.c \
		vfio-user/protocol.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- benchmark helpers (bench/, run by bench/run-bench.sh) -----------------

BENCH_BINS := $(BUILD)/bench/kvm_min $(BUILD)/bench/benchtool \
	$(BUILD)/bench/vfu_rtt $(BUILD)/bench/nvme_io

$(BUILD)/bench/kvm_min $(BUILD)/bench/benchtool: $(BUILD)/bench/%: \
		$(call host_obj,bench/%.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/bench/vfu_rtt $(BUILD)/bench/nvme_io: $(BUILD)/bench/%: \
		$(call host_obj,bench/%.c) $(LIBVFU)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- the installed vfio-user library --------------------------------------

# `make install` puts libvfu.a (server and client, as the servers here
# link it) as libuvmm-vfio-user.a, the headers a device model includes
# under include/uvmm/, and a pkg-config file naming both.
VFU_HEADERS := vfio-user/server.h vfio-user/protocol.h common/types.h
# Written at install time: it names PREFIX, which only install knows.
VFU_PC_LINES := 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' \
	'includedir=$${prefix}/include/uvmm' '' \
	'Name: uvmm-vfio-user' \
	'Description: vfio-user device server library from uvmm' \
	'Version: $(VERSION)' 'Requires.private: json-c' \
	'Cflags: -I$${includedir}' \
	'Libs: -L$${libdir} -luvmm-vfio-user -ljson-c -lpthread'

# The example device builds here too (from the tree's headers), so it
# keeps compiling; tests/cli/install-lib.sh builds it from an install.
EXAMPLES := $(BUILD)/examples/counter
$(BUILD)/examples/counter: examples/counter/counter.c $(LIBVFU)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBVFU) $(LDLIBS)

# ---- top-level targets ----------------------------------------------------

ALL := $(UVMM) $(UVMM_NVME) $(UVMM_QEMU) $(UNIT_BINS) $(SERVER_BINS) $(GUEST_ELFS) $(MB_ELF) $(PROBE) $(LINUX_HELPER) \
	$(BENCH_BINS) $(EXAMPLES)

.PHONY: all deps check check-linux check-robust demo bench fuzz fuzz-build \
	fuzz-corpus install clean
all: $(ALL)

deps:
	@bash scripts/setup-deps.sh

# Debian's kernel (tests/boot/cases/20-linux.sh) is fetched before the
# tests: they may run in the kvm-host VM, which has no network. A failed
# fetch is reported by the test that needs the kernel.
check: deps
	@$(MAKE) --no-print-directory all
	@bash tests/lib/debian-kernel.sh --quiet || true
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) bash tests/run-tests.sh

check-linux:
	@bash scripts/setup-deps.sh linux
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/linux/run-linux.sh

# The robustness suite: check SANITIZE=1, valgrind, bounded fuzzing; it
# runs its own sub-makes with the settings each part needs.
check-robust: deps
	@FUZZ_SECONDS=$(or $(FUZZ_SECONDS),20) bash tests/robust/run-robust.sh

fuzz-build: $(FUZZ_BINS)

# Replays tests/fuzz/regressions/, then fuzzes each target on a copy of
# its seed corpus; a crash fails and is kept as a new regression input.
fuzz:
	@bash scripts/setup-deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@BUILD=$(BUILD) FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) \
		bash tests/fuzz/run-fuzz.sh

fuzz-corpus: $(FUZZ_DIR)/gen-corpus
	$(FUZZ_DIR)/gen-corpus tests/fuzz/corpus

# The figures are the release build's: the default flags (-O2 -g, no
# sanitizers) into build/. QUICK=1: a smoke run of every row (make check).
# LINUX=1: row 2c in the nested kvm-host VM too (bench/run-bench.sh).
bench:
	@if [ "$(SANITIZE)" = 1 ]; then \
		echo "make bench: measures the release build; drop SANITIZE=1" >&2; \
		exit 2; fi
	@bash scripts/setup-deps.sh bench
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) QUICK=$(QUICK) LINUX=$(LINUX) bash bench/run-bench.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash scripts/demo.sh

install: $(UVMM) $(UVMM_NVME) $(UVMM_QEMU) $(LIBVFU)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/uvmm/vfio-user \
		$(DESTDIR)$(PREFIX)/include/uvmm/common
	install -m 0644 $(LIBVFU) $(DESTDIR)$(PREFIX)/lib/libuvmm-vfio-user.a
	printf '%s\n' $(VFU_PC_LINES) \
		>$(DESTDIR)$(PREFIX)/lib/pkgconfig/uvmm-vfio-user.pc
	for h in $(VFU_HEADERS); do \
		install -m 0644 $$h $(DESTDIR)$(PREFIX)/include/uvmm/$$h || exit 1; done
	install -m 0755 $(UVMM) $(DESTDIR)$(PREFIX)/bin/uvmm
	install -m 0755 $(UVMM_NVME) $(DESTDIR)$(PREFIX)/bin/uvmm-nvme
	install -m 0755 $(UVMM_QEMU) $(DESTDIR)$(PREFIX)/bin/uvmm-qemu
	install -m 0644 nvme/uvmm-nvme.1 $(DESTDIR)$(PREFIX)/share/man/man1/uvmm-nvme.1

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
.SECONDARY:
