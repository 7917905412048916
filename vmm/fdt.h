/* SPDX-License-Identifier: MIT */
#ifndef UVMM_FDT_H
#define UVMM_FDT_H

#include "abi/machine.h"

/*
 * The flattened device tree every guest gets, built with libfdt: memory,
 * CPUs, /chosen (bootargs, stdout-path), the local APIC and IOAPIC, the
 * ISA devices in port space (COM1, debug-exit) and the PCI host as a
 * pci-host-ecam-generic node with its windows and INTx interrupt-map.
 *
 * Bindings follow Linux's x86 device tree ("intel,ce4100-ioapic" with two
 * interrupt cells: GSI, then 0 edge rising / 1 level low / 2 level high /
 * 3 edge falling; "intel,ce4100-lapic"; cpus by APIC ID) and the ISA bus
 * binding (reg = <1 port size> for I/O ports). On x86 port space has no
 * memory address, so the PCI I/O window's parent address is the port.
 *
 * The prefix is dtb_: libfdt owns fdt_.
 */

#include "common/types.h"
#include "vmm/config.h"

/* IOAPIC interrupt specifier types (second cell). */
#define DTB_IRQ_EDGE_RISING 0
#define DTB_IRQ_LEVEL_LOW 1

#define DTB_IOAPIC_PHANDLE 1
#define DTB_MAX_SIZE (64 * KiB)		/* what LAYOUT_DTB holds */

/* Node paths other code and tests rely on. */
#define DTB_PATH_PCI "/pci@b0000000"
#define DTB_PATH_SERIAL "/isa/serial@3f8"
#define DTB_PATH_DEBUG_EXIT "/isa/debug-exit@f4"
#define DTB_PATH_RTC "/isa/rtc@70"

/*
 * Builds the tree for cfg: a pure function of the configuration (memory
 * size, CPUs, command line, debug-exit rule), so --dump-dtb writes exactly
 * what the guest gets. *blob is malloc'ed, packed, at most DTB_MAX_SIZE.
 */
int dtb_build(const struct vm_config *cfg, void **blob, size_t *size,
	      char *err, size_t err_len);

/* Writes blob to path (created or truncated). On error err says why. */
int dtb_write_file(const char *path, const void *blob, size_t size,
		   char *err, size_t err_len);

#endif
