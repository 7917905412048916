/* SPDX-License-Identifier: MIT */
#ifndef UVMM_PVH_H
#define UVMM_PVH_H

#include "abi/pvh.h"
#include "common/types.h"
#include "vmm/e820.h"
#include "vmm/memory.h"

struct pvh_image {
	u64 entry;		/* 32-bit physical entry point */
	u64 lowest;		/* lowest loaded address */
	u64 highest;		/* end of the highest segment (memsz) */
};

/*
 * Loads an ELF64 image with a PVH entry note into guest RAM. Every header
 * field is checked against the file and every segment against RAM before
 * anything is copied. On error, err names the problem.
 */
int pvh_load(struct guest_memory *mem, const u8 *image, size_t size,
	     struct pvh_image *out, char *err, size_t err_len);

/* True when the bytes look like an ELF file (magic only). */
bool pvh_is_elf(const u8 *image, size_t size);

struct pvh_module {
	u64 paddr;
	u64 size;
	const char *cmdline;
};

/*
 * Writes hvm_start_info, its memory map, the command line and the module
 * list at LAYOUT_START_INFO. Returns the start_info's address or 0.
 */
u64 pvh_write_start_info(struct guest_memory *mem, const char *cmdline,
			 const struct e820_entry *e820, unsigned int nr_e820,
			 const struct pvh_module *modules,
			 unsigned int nr_modules);

#endif
