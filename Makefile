# uvmm: one non-recursive Makefile. Everything it builds lands under build/.
#
#   make                 uvmm, the guest programs, the test servers
#   make check           set-up, unit tests, boot tests (SANITIZE=1: ASan+UBSan)
#   make check-linux     Debian kernel to a shell (hosts with hardware KVM)
#   make demo            boot the demo and show what happens
#   make bench           benchmarks (QUICK=1 for a smoke run)
#   make fuzz            libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make install         PREFIX=/usr/local DESTDIR=

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=

ifeq ($(SANITIZE),1)
BUILD ?= build/sanitize
CC := clang
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
else
BUILD ?= build
CC ?= gcc
SAN_FLAGS :=
endif

OPT ?= -O2
CPPFLAGS := -I. -D_GNU_SOURCE -DUVMM_VERSION='"$(VERSION)"'
CFLAGS := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -MMD -MP \
	-fno-strict-aliasing $(SAN_FLAGS)
LDFLAGS := $(SAN_FLAGS)
LDLIBS := -lfdt -ljson-c -lpthread

# ---- host code ------------------------------------------------------------

COMMON_SRCS := $(wildcard common/*.c)
# The vfio-user library: everything in vfio-user/ but the one file that
# knows the VMM (device.c), so tests, servers and fuzzers link it alone.
VFU_SRCS := $(filter-out vfio-user/device.c,$(wildcard vfio-user/*.c))
CORE_SRCS := $(filter-out vmm/main.c,$(wildcard vmm/*.c)) \
	$(wildcard devices/*.c) $(wildcard vfio-user/device.c)

host_obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBVFU := $(BUILD)/libvfu.a
LIBCORE := $(BUILD)/libuvmm-core.a
UVMM := $(BUILD)/uvmm

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBVFU): $(call host_obj,$(VFU_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBCORE): $(call host_obj,$(CORE_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(UVMM): $(call host_obj,vmm/main.c) $(LIBCORE) $(LIBVFU)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: tests/unit/test_NAME.c, each its own cmocka program.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_SUPPORT_SRCS := $(wildcard tests/unit/support/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

$(BUILD)/tests/unit/%: $(call host_obj,tests/unit/%.c) \
		$(call host_obj,$(UNIT_SUPPORT_SRCS)) $(LIBCORE) $(LIBVFU)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Test device servers: tests/servers/NAME.c on the server library.
SERVER_SRCS := $(wildcard tests/servers/*.c)
SERVER_BINS := $(patsubst tests/servers/%.c,$(BUILD)/tests/servers/%,$(SERVER_SRCS))

$(BUILD)/tests/servers/%: $(call host_obj,tests/servers/%.c) $(LIBVFU)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

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

# ---- top-level targets ----------------------------------------------------

ALL := $(UVMM) $(UNIT_BINS) $(SERVER_BINS) $(GUEST_ELFS)

.PHONY: all deps check check-linux demo bench fuzz install clean
all: $(ALL)

deps:
	@bash scripts/setup-deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/run-tests.sh

check-linux: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/linux/run-linux.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash scripts/demo.sh

install: $(UVMM)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(UVMM) $(DESTDIR)$(PREFIX)/bin/uvmm

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
.SECONDARY:
