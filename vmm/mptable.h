/* SPDX-License-Identifier: MIT */
#ifndef UVMM_MPTABLE_H
#define UVMM_MPTABLE_H

#include "abi/machine.h"

/*
 * The Intel MultiProcessor Specification 1.4 table: a floating pointer in
 * the BIOS area and the configuration table after it, describing the
 * vCPUs, the buses (PCI 0 and ISA), the IOAPIC, the interrupt routing and
 * the local interrupts. Linux (without ACPI) and our own firmware find the
 * CPUs and the IOAPIC through it.
 */

#include "common/types.h"
#include "vmm/memory.h"

#define MPTABLE_SIGNATURE "_MP_"
#define MPTABLE_CONFIG_SIGNATURE "PCMP"
#define MPTABLE_SPEC_REV 4		/* 1.4 */

#define MPTABLE_IOAPIC_PINS 24
#define MPTABLE_LAPIC_VERSION 0x14	/* integrated xAPIC, as KVM's */
#define MPTABLE_IOAPIC_VERSION 0x11	/* KVM's in-kernel IOAPIC */

#define MPTABLE_BUS_PCI 0		/* bus IDs: PCI bus 0, then ISA */
#define MPTABLE_BUS_ISA 1

/* Entry types, in the order the table lists them. */
#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4

/* Interrupt types */
#define MP_INT 0
#define MP_NMI 1
#define MP_SMI 2
#define MP_EXTINT 3

/* Interrupt flags: polarity bits 1:0, trigger bits 3:2 (0 = bus default). */
#define MP_IRQ_ACTIVE_LOW 0x3
#define MP_IRQ_LEVEL 0xc

#define MP_CPU_ENABLED 0x1
#define MP_CPU_BSP 0x2

struct mpf_intel {
	char signature[4];		/* "_MP_" */
	u32 physptr;			/* configuration table */
	u8 length;			/* in 16-byte units: 1 */
	u8 specification;
	u8 checksum;			/* the 16 bytes sum to 0 */
	u8 feature1;			/* 0: a configuration table follows */
	u8 feature2;			/* bit 7: IMCR (0: virtual wire) */
	u8 feature3, feature4, feature5;
} __attribute__((packed));
_Static_assert(sizeof(struct mpf_intel) == 16, "floating pointer is 16 bytes");

struct mpc_table {
	char signature[4];		/* "PCMP" */
	u16 length;			/* base table, header included */
	u8 spec;
	u8 checksum;			/* the base table sums to 0 */
	char oem[8];
	char productid[12];
	u32 oemptr;
	u16 oemsize;
	u16 oemcount;			/* entries */
	u32 lapic;			/* local APIC address */
	u16 ext_length;
	u8 ext_checksum;
	u8 reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_table) == 44, "config header is 44 bytes");

struct mpc_cpu {
	u8 type;
	u8 apicid;
	u8 apicver;
	u8 cpuflag;
	u32 cpufeature;			/* CPUID 1 eax: family/model/stepping */
	u32 featureflag;		/* CPUID 1 edx */
	u32 reserved[2];
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_cpu) == 20, "processor entry is 20 bytes");

struct mpc_bus {
	u8 type;
	u8 busid;
	char bustype[6];		/* "PCI   ", "ISA   " */
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_bus) == 8, "bus entry is 8 bytes");

struct mpc_ioapic {
	u8 type;
	u8 apicid;
	u8 apicver;
	u8 flags;
	u32 apicaddr;
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_ioapic) == 8, "IOAPIC entry is 8 bytes");

/* I/O (type 3) and local (type 4) interrupt assignments share a layout. */
struct mpc_intsrc {
	u8 type;
	u8 irqtype;
	u16 irqflag;
	u8 srcbus;
	u8 srcbusirq;			/* ISA: IRQ; PCI: slot << 2 | (pin - 1) */
	u8 dstapic;			/* IOAPIC ID; 0xff: every local APIC */
	u8 dstirq;			/* IOAPIC pin, or LINT0/1 */
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_intsrc) == 8, "interrupt entry is 8 bytes");

/*
 * One PCI INTx line of bus 0 for the MP table: slot S pin P (1 = INTA#)
 * reaches IOAPIC input gsi, level-triggered, active low. The PCI code
 * fills gsi with pci_intx_gsi(slot, pin) (vmm/pci_irq.h).
 */
struct mptable_intx {
	u8 slot;			/* 0-31 */
	u8 pin;				/* 1-4 */
	u8 gsi;				/* < MPTABLE_IOAPIC_PINS */
};

#define MPTABLE_MAX_CPUS 64
#define MPTABLE_MAX_INTX 128

/* The IOAPIC gets the first ID after the vCPUs' APIC IDs (0..nr_cpus-1). */
static inline unsigned int mptable_ioapic_id(unsigned int nr_cpus)
{
	return nr_cpus;
}

/*
 * Builds the floating pointer and the configuration table into buf (which
 * will sit at guest-physical base; the table follows the pointer). Returns
 * the bytes used, or -EINVAL (bad CPU count or INTx entry), -ENOSPC (buf
 * too small). Pure: unit tests parse the result back.
 */
int mptable_build(u8 *buf, size_t buf_len, u32 base, unsigned int nr_cpus,
		  const struct mptable_intx *pci_intx, unsigned int nr_intx);

/*
 * Writes the table at LAYOUT_MPTABLE (the reserved BIOS area, where
 * Linux's scan of 0xf0000-0xfffff finds it). pci_intx may be NULL when
 * nr_intx is 0.
 */
int mptable_write(struct guest_memory *mem, unsigned int nr_cpus,
		  const struct mptable_intx *pci_intx, unsigned int nr_intx);

#endif
