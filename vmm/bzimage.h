/* SPDX-License-Identifier: MIT */
#ifndef UVMM_BZIMAGE_H
#define UVMM_BZIMAGE_H

/*
 * The x86 Linux boot protocol, 64-bit entry: a bzImage's setup header, the
 * zero page (struct boot_params) we hand the kernel, and the setup_data
 * chain. Layouts follow Documentation/arch/x86/boot.rst and zero-page.rst;
 * offsets are pinned with static assertions.
 */

#include "common/types.h"
#include "vmm/e820.h"
#include "vmm/memory.h"

#define BZIMAGE_MIN_VERSION 0x020c	/* 2.12: xloadflags, 64-bit entry */
#define BZIMAGE_HDRS_MAGIC 0x53726448	/* "HdrS" */
#define BZIMAGE_BOOT_FLAG 0xaa55
#define BZIMAGE_ENTRY64_OFFSET 0x200	/* from the protected-mode kernel */
#define BZIMAGE_DEFAULT_SETUP_SECTS 4	/* what setup_sects == 0 means */

/* loadflags */
#define LOADED_HIGH 0x01
#define KEEP_SEGMENTS 0x40
#define CAN_USE_HEAP 0x80

/* xloadflags */
#define XLF_KERNEL_64 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02

/* type_of_loader: 0xff is "no ID assigned", what uvmm says it is. */
#define BZIMAGE_LOADER_TYPE 0xff
/*
 * heap_end_ptr: the end of the real-mode setup heap, as an offset from the
 * start of the real-mode code, minus 0x200 (0xe000 - 0x200, as GRUB does).
 * Only the 16-bit setup code reads it; set for the protocol's sake.
 */
#define BZIMAGE_HEAP_END 0xfe00

/* setup_data types */
#define SETUP_NONE 0
#define SETUP_E820_EXT 1
#define SETUP_DTB 2
#define SETUP_PCI 3
#define SETUP_RNG_SEED 9

/*
 * Where the setup_data entries go: low RAM the layout leaves free (after
 * the DTB area of abi/machine.h, below the EBDA).
 */
#define BZIMAGE_SETUP_DATA_START 0x40000ULL
#define BZIMAGE_SETUP_DATA_END 0x90000ULL

#define BZIMAGE_E820_MAX 128

struct setup_header {
	u8 setup_sects;			/* 0x1f1 */
	u16 root_flags;
	u32 syssize;
	u16 ram_size;
	u16 vid_mode;
	u16 root_dev;
	u16 boot_flag;			/* 0x1fe */
	u16 jump;			/* 0x200 */
	u32 header;			/* 0x202 "HdrS" */
	u16 version;			/* 0x206 */
	u32 realmode_swtch;
	u16 start_sys_seg;
	u16 kernel_version;
	u8 type_of_loader;		/* 0x210 */
	u8 loadflags;
	u16 setup_move_size;
	u32 code32_start;		/* 0x214 */
	u32 ramdisk_image;		/* 0x218 */
	u32 ramdisk_size;		/* 0x21c */
	u32 bootsect_kludge;
	u16 heap_end_ptr;		/* 0x224 */
	u8 ext_loader_ver;
	u8 ext_loader_type;
	u32 cmd_line_ptr;		/* 0x228 */
	u32 initrd_addr_max;		/* 0x22c */
	u32 kernel_alignment;		/* 0x230 */
	u8 relocatable_kernel;		/* 0x234 */
	u8 min_alignment;
	u16 xloadflags;			/* 0x236 */
	u32 cmdline_size;		/* 0x238 */
	u32 hardware_subarch;
	u64 hardware_subarch_data;
	u32 payload_offset;
	u32 payload_length;
	u64 setup_data;			/* 0x250 */
	u64 pref_address;		/* 0x258 */
	u32 init_size;			/* 0x260 */
	u32 handover_offset;
	u32 kernel_info_offset;		/* 0x268 */
} __attribute__((packed));

#define BZIMAGE_HDR_OFFSET 0x1f1

_Static_assert(BZIMAGE_HDR_OFFSET + offsetof(struct setup_header, header) == 0x202,
	       "HdrS at 0x202");
_Static_assert(BZIMAGE_HDR_OFFSET + offsetof(struct setup_header, cmd_line_ptr) == 0x228,
	       "cmd_line_ptr at 0x228");
_Static_assert(BZIMAGE_HDR_OFFSET + offsetof(struct setup_header, setup_data) == 0x250,
	       "setup_data at 0x250");
_Static_assert(BZIMAGE_HDR_OFFSET + sizeof(struct setup_header) == 0x26c,
	       "setup header ends at 0x26c (protocol 2.15)");

/* The zero page: only the fields uvmm fills are named. */
struct boot_params {
	u8 screen_info[0x40];		/* 0x000: zero, so no VGA console */
	u8 pad1[0xc0 - 0x40];
	u32 ext_ramdisk_image;		/* 0x0c0 */
	u32 ext_ramdisk_size;		/* 0x0c4 */
	u32 ext_cmd_line_ptr;		/* 0x0c8 */
	u8 pad2[0x1e8 - 0xcc];
	u8 e820_entries;		/* 0x1e8 */
	u8 pad3[0x1ef - 0x1e9];
	u8 sentinel;			/* 0x1ef: must stay 0 */
	u8 pad4;
	struct setup_header hdr;	/* 0x1f1 */
	u8 pad5[0x2d0 - 0x26c];
	struct e820_entry e820_table[BZIMAGE_E820_MAX];	/* 0x2d0 */
	u8 pad6[0x1000 - 0xcd0];
} __attribute__((packed));

_Static_assert(sizeof(struct boot_params) == 4096, "zero page is one page");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820_entries at 0x1e8");
_Static_assert(offsetof(struct boot_params, hdr) == 0x1f1, "hdr at 0x1f1");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820_table at 0x2d0");

struct setup_data {
	u64 next;
	u32 type;
	u32 len;
	/* u8 data[len] */
} __attribute__((packed));
_Static_assert(sizeof(struct setup_data) == 16, "setup_data header is 16 bytes");

/* What a bzImage says about itself, checked (bzimage_parse). */
struct bzimage_header {
	struct setup_header hdr;	/* as in the image */
	size_t hdr_len;			/* bytes of it present: 0x202 + jump byte - 0x1f1 */
	u64 setup_size;			/* real-mode part: (setup_sects + 1) * 512 */
	u64 kernel_size;		/* protected-mode part: the rest of the file */
};

/* Where everything went; filled by bzimage_load. */
struct bzimage_info {
	u64 load_addr;			/* protected-mode kernel */
	u64 kernel_end;			/* load_addr + max(init_size, kernel_size) */
	u64 entry;			/* 64-bit entry point */
	u64 zero_page;
	u64 cmdline;
	u64 initrd_addr;		/* 0 without an initrd */
	u64 initrd_size;
	u64 ram_needed;			/* -ENOSPC: RAM that would have been enough */
};

/* True when the bytes carry a bzImage setup header ("HdrS" at 0x202). */
bool bzimage_is(const u8 *image, size_t size);

/*
 * Checks the header: boot flag, "HdrS", protocol 2.12 or later, a 64-bit
 * entry point (XLF_KERNEL_64), sane setup size, alignment and init_size.
 * Returns 0 or a negative errno with err naming the problem.
 */
int bzimage_parse(const u8 *image, size_t size, struct bzimage_header *out,
		  char *err, size_t err_len);

/*
 * Where the kernel runs (boot.rst: init_size is counted from the runtime
 * start, which a relocatable kernel takes as pref_address rounded up to
 * kernel_alignment, a fixed one as pref_address): that is where it is
 * loaded. -ENOSPC when [start, start + init_size) is not inside low RAM
 * ending at low_ram_end; *ram_needed then says how much RAM would do.
 */
int bzimage_place_kernel(const struct bzimage_header *bz, u64 low_ram_end,
			 u64 *load_addr, u64 *kernel_end, u64 *ram_needed);

/*
 * Where the initrd goes: as high as possible in low RAM, page-aligned,
 * its last byte at or below initrd_addr_max, above the kernel's init_size
 * area. -ENOSPC when it does not fit; *ram_needed as above (0 when no
 * amount of RAM helps, the initrd_addr_max limit being the problem).
 */
int bzimage_place_initrd(const struct bzimage_header *bz, u64 kernel_end,
			 u64 initrd_size, u64 low_ram_end, u64 *addr,
			 u64 *ram_needed);

/*
 * Loads the kernel and the initrd (may be NULL), writes the command line
 * (NULL: empty), the zero page with the e820 map, the boot GDT and the
 * identity page tables (first 4 GiB). The vCPU then enters at info->entry
 * in long mode with rsi = info->zero_page. On error err says why; a kernel
 * or initrd that does not fit gives -ENOSPC and the RAM it needs.
 */
int bzimage_load(struct guest_memory *mem, const u8 *image, size_t size,
		 const char *cmdline, const u8 *initrd, size_t initrd_size,
		 struct bzimage_info *info, char *err, size_t err_len);

/*
 * Appends an entry to the zero page's setup_data chain (SETUP_DTB from the
 * device-tree code, for instance). Entries live in
 * [BZIMAGE_SETUP_DATA_START, BZIMAGE_SETUP_DATA_END), 8-byte aligned.
 * Call after bzimage_load and before the guest runs. -ENOSPC when the
 * area is full, -EINVAL on a zero page that is not ours.
 */
int bzimage_add_setup_data(struct guest_memory *mem, u64 zero_page, u32 type,
			   const void *data, u32 len);

/* The identity map the boot CPU enters with: PML4, PDPT, 4 PDs. */
#define BZIMAGE_PAGE_TABLE_PAGES 6
#define BZIMAGE_IDENTITY_MAP_END (4 * GiB)

#endif
