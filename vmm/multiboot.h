/* SPDX-License-Identifier: MIT */
#ifndef UVMM_MULTIBOOT_H
#define UVMM_MULTIBOOT_H

#include "abi/multiboot.h"
#include "common/types.h"
#include "vmm/e820.h"
#include "vmm/memory.h"

struct multiboot_image {
	u32 entry;
	u32 flags;		/* the header's */
	u64 lowest;		/* lowest loaded address */
	u64 highest;		/* end of the image, bss included */
};

/* Offset of a valid header (magic and checksum) in the first 8 KiB, or -1. */
long multiboot_find_header(const u8 *image, size_t size);

/*
 * Loads a Multiboot kernel: with the a.out kludge flag by the header's
 * address fields, otherwise as a 32-bit ELF by its program headers. Every
 * field is checked against the file and RAM before anything is copied.
 */
int multiboot_load(struct guest_memory *mem, const u8 *image, size_t size,
		   struct multiboot_image *out, char *err, size_t err_len);

struct multiboot_mod {
	const u8 *data;
	size_t size;
	const char *cmdline;
};

/*
 * Places the modules after the image (page-aligned) and writes the
 * multiboot_info, memory map, command line and module list in low RAM.
 * Returns the info's address (for ebx), or a negative errno with err set.
 */
long multiboot_write_info(struct guest_memory *mem,
			  const struct multiboot_image *img,
			  const char *cmdline,
			  const struct e820_entry *e820, unsigned int nr_e820,
			  const struct multiboot_mod *mods, unsigned int nr_mods,
			  char *err, size_t err_len);

#endif
