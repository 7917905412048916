/* SPDX-License-Identifier: MIT */
/*
 * The Multiboot 1 boot ABI, one definition for both sides: uvmm finds the
 * header in an image and writes the information structure (vmm/multiboot.c);
 * guest/multiboot reads what it was handed. Layouts follow the GNU
 * Multiboot Specification 0.6.96.
 */
#ifndef UVMM_ABI_MULTIBOOT_H
#define UVMM_ABI_MULTIBOOT_H

/*
 * Multiboot 1 (the GNU Multiboot Specification 0.6.96): a header in the
 * image's first 8 KiB, entry in flat 32-bit protected mode with paging off,
 * eax = MULTIBOOT_BOOT_MAGIC and ebx = the multiboot_info below.
 */
#define MULTIBOOT_HEADER_MAGIC 0x1badb002
#define MULTIBOOT_BOOT_MAGIC 0x2badb002
#define MULTIBOOT_SEARCH 8192

/* Header flags: bits 0-15 are requirements a loader must honour or refuse. */
#define MULTIBOOT_PAGE_ALIGN (1 << 0)	/* modules on 4 KiB boundaries */
#define MULTIBOOT_MEMORY_INFO (1 << 1)	/* mem_* and the memory map */
#define MULTIBOOT_VIDEO_MODE (1 << 2)	/* a graphics mode: not offered */
#define MULTIBOOT_AOUT_KLUDGE (1 << 16)	/* the header's address fields */
#define MULTIBOOT_UNDERSTOOD (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

/* multiboot_info.flags: which fields are valid. */
#define MBI_MEMORY (1 << 0)
#define MBI_CMDLINE (1 << 2)
#define MBI_MODS (1 << 3)
#define MBI_MEM_MAP (1 << 6)
#define MBI_BOOT_LOADER_NAME (1 << 9)

#ifndef __ASSEMBLY__

#include "common/types.h"

struct multiboot_header {
	u32 magic;
	u32 flags;
	u32 checksum;
	/* Valid with MULTIBOOT_AOUT_KLUDGE only. */
	u32 header_addr;
	u32 load_addr;
	u32 load_end_addr;
	u32 bss_end_addr;
	u32 entry_addr;
} __attribute__((packed));

struct multiboot_info {
	u32 flags;
	u32 mem_lower;		/* KiB below 640 KiB */
	u32 mem_upper;		/* KiB from 1 MiB to the first hole */
	u32 boot_device;
	u32 cmdline;
	u32 mods_count;
	u32 mods_addr;
	u32 syms[4];
	u32 mmap_length;
	u32 mmap_addr;
	u32 drives_length;
	u32 drives_addr;
	u32 config_table;
	u32 boot_loader_name;
	u32 apm_table;
	u32 vbe[4];		/* VBE fields: no video mode offered */
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_info) == 88, "multiboot_info is 88 bytes");
_Static_assert(__builtin_offsetof(struct multiboot_info, mmap_length) == 44,
	       "mmap_length at 44");

struct multiboot_module {
	u32 mod_start;
	u32 mod_end;
	u32 cmdline;
	u32 reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_module) == 16, "module entry is 16 bytes");

/* size counts the bytes after itself: 20. */
struct multiboot_mmap_entry {
	u32 size;
	u64 addr;
	u64 len;
	u32 type;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "mmap entry is 24 bytes");

#endif /* __ASSEMBLY__ */
#endif
