/* SPDX-License-Identifier: MIT */
/*
 * The PVH boot ABI, one definition for both sides: uvmm writes the
 * start_info block whose physical address arrives in %ebx, its memory map
 * and its module list (vmm/pvh.c); the guest runtime reads them
 * (guest/runtime/boot.c). Layouts follow Xen's public
 * arch-x86/hvm/start_info.h (version 1).
 */
#ifndef UVMM_ABI_PVH_H
#define UVMM_ABI_PVH_H

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC_VALUE		0x336ec578

#ifndef __ASSEMBLY__

#include "common/types.h"

/* Memory map entry types (XEN_HVM_MEMMAP_TYPE_*, same as e820). */
#define HVM_MEMMAP_RAM		1
#define HVM_MEMMAP_RESERVED	2
#define HVM_MEMMAP_ACPI		3
#define HVM_MEMMAP_NVS		4
#define HVM_MEMMAP_UNUSABLE	5
#define HVM_MEMMAP_DISABLED	6
#define HVM_MEMMAP_PMEM		7

struct hvm_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr;
	u64 cmdline_paddr;
	u64 rsdp_paddr;
	/* version 1 and later */
	u64 memmap_paddr;
	u32 memmap_entries;
	u32 reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info is 56 bytes");
_Static_assert(__builtin_offsetof(struct hvm_start_info, memmap_paddr) == 40,
	       "memmap_paddr at 40");

struct hvm_modlist_entry {
	u64 paddr;
	u64 size;
	u64 cmdline_paddr;
	u64 reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "module entry is 32 bytes");

struct hvm_memmap_table_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
	       "memmap entry is 24 bytes");

#endif /* __ASSEMBLY__ */
#endif
