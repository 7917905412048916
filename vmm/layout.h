/* SPDX-License-Identifier: MIT */
#ifndef UVMM_LAYOUT_H
#define UVMM_LAYOUT_H

/*
 * Where uvmm puts the boot structures in low guest RAM. Images load at
 * 1 MiB and above; everything here stays below the EBDA at 0x9fc00.
 */
#define LAYOUT_LINUX_GDT 0x1000ULL		/* bzImage: boot GDT */
#define LAYOUT_START_INFO 0x6000ULL		/* PVH: hvm_start_info + tables */
#define LAYOUT_START_INFO_END 0x7000ULL
#define LAYOUT_ZERO_PAGE 0x7000ULL		/* bzImage: boot_params */
#define LAYOUT_PAGE_TABLES 0x9000ULL		/* bzImage: PML4, PDPT, PDs */
#define LAYOUT_PAGE_TABLES_END 0x10000ULL
#define LAYOUT_CMDLINE 0x20000ULL
#define LAYOUT_CMDLINE_MAX 0x10000ULL
#define LAYOUT_DTB 0x30000ULL
#define LAYOUT_DTB_MAX 0x10000ULL
#define LAYOUT_MPTABLE 0xf0000ULL		/* inside the reserved BIOS area */
#define LAYOUT_IMAGE_MIN 0x100000ULL		/* nothing of an image below 1 MiB */

#endif
