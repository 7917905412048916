/* SPDX-License-Identifier: MIT */
#ifndef UVMM_E820_H
#define UVMM_E820_H

#include "common/types.h"
#include "vmm/memory.h"

#define E820_RAM 1
#define E820_RESERVED 2

#define E820_MAX_ENTRIES 8

/* The BIOS areas below 1 MiB that a PC keeps out of RAM. */
#define E820_EBDA_START 0x9fc00ULL
#define E820_LOW_RAM_END 0xa0000ULL
#define E820_BIOS_START 0xf0000ULL
#define E820_BIOS_END 0x100000ULL

struct e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} __attribute__((packed));
_Static_assert(sizeof(struct e820_entry) == 20, "e820 entry is 20 bytes");

/*
 * The memory map every guest gets: RAM around the 3 GiB hole, with the
 * EBDA and the BIOS area (which holds the MP table) reserved. Returns the
 * number of entries, sorted and non-overlapping.
 */
unsigned int e820_build(const struct guest_memory *mem,
			struct e820_entry entries[E820_MAX_ENTRIES]);

#endif
