/* SPDX-License-Identifier: MIT */
#ifndef UVMM_ACPI_H
#define UVMM_ACPI_H

#include "abi/machine.h"
#include "common/types.h"
#include "vmm/memory.h"

/*
 * ACPI tables for firmware tests: RSDP, RSDT and XSDT, FADT (PM timer,
 * PM1a event and control blocks), FACS, the DSDT of vmm/dsdt.asl (the
 * PCI host bridge, its windows and INTx routing, _S5), MADT (every CPU's
 * local APIC and the IOAPIC) and MCFG (the ECAM window). They describe
 * the same machine as the MP table and the device tree.
 */
/*
 * Where they go (LAYOUT_ACPI), the PM block and its PM1a control bits
 * (the sleep type of vmm/dsdt.asl's _S5): abi/machine.h.
 */

/* The placeholder bounds of the 64-bit window in vmm/dsdt.asl. */
#define ACPI_DSDT_MMIO64_MIN 0x5556560000000000ULL
#define ACPI_DSDT_MMIO64_MAX 0x5556560FFFFFFFFFULL

struct acpi_table_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_table_header) == 36, "ACPI header is 36 bytes");

struct acpi_rsdp {
	char signature[8];
	u8 checksum;		/* over the first 20 bytes */
	char oem_id[6];
	u8 revision;		/* 2: XSDT present */
	u32 rsdt_address;
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;	/* over all 36 bytes */
	u8 reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP is 36 bytes");

/* One table as built, for --dump-acpi and the tests. */
struct acpi_table {
	char name[5];		/* signature, "RSDP" for the RSDP */
	u64 gpa;
	u32 length;
};

#define ACPI_MAX_TABLES 10

/*
 * Builds the tables into [LAYOUT_ACPI, + LAYOUT_ACPI_SIZE) of guest RAM.
 * Returns the number of tables (listed in tables, the RSDP first), or a
 * negative errno.
 */
int acpi_build(struct guest_memory *mem, unsigned int nr_cpus,
	       struct acpi_table tables[ACPI_MAX_TABLES]);

/* The 8-bit sum of len bytes (0 for a table with a right checksum). */
u8 acpi_sum(const void *data, size_t len);

/* Writes each table to DIR/NAME.dat (lower case), for iasl -d. */
int acpi_dump(struct guest_memory *mem, const struct acpi_table *tables,
	      unsigned int nr, const char *dir, char *err, size_t err_len);

#endif
