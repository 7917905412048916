/* SPDX-License-Identifier: MIT */
/*
 * bzimage-probe: what its setup header says (header.S) and what probe.c
 * checks against, in one place. Included in every probe object with
 * -include, assembly too.
 */
#ifndef BZIMAGE_PROBE_H
#define BZIMAGE_PROBE_H

#define PROBE_SETUP_SECTS	1		/* setup = 2 sectors, 0x400 bytes */
#define PROBE_VERSION		0x020f		/* boot protocol 2.15 */
#define PROBE_LOADFLAGS		0x01		/* LOADED_HIGH */
#define PROBE_PREF_ADDRESS	0x1000000	/* 16 MiB, as Linux */
#define PROBE_KERNEL_ALIGNMENT	0x200000	/* 2 MiB, as Linux */
#define PROBE_MIN_ALIGNMENT	21
#define PROBE_XLOADFLAGS	0x0001		/* XLF_KERNEL_64 */
#define PROBE_INITRD_ADDR_MAX	0x7fffffff
#define PROBE_CMDLINE_SIZE	2047

/* ---- boot protocol: zero page offsets ----------------------------------- */
#define ZP_EXT_RAMDISK_IMAGE	0x0c0
#define ZP_EXT_RAMDISK_SIZE	0x0c4
#define ZP_EXT_CMD_LINE_PTR	0x0c8
#define ZP_E820_ENTRIES		0x1e8
#define ZP_SENTINEL		0x1ef
#define ZP_BOOT_FLAG		0x1fe
#define ZP_HEADER		0x202
#define ZP_VERSION		0x206
#define ZP_TYPE_OF_LOADER	0x210
#define ZP_LOADFLAGS		0x211
#define ZP_CODE32_START		0x214
#define ZP_RAMDISK_IMAGE	0x218
#define ZP_RAMDISK_SIZE		0x21c
#define ZP_HEAP_END_PTR		0x224
#define ZP_CMD_LINE_PTR		0x228
#define ZP_INITRD_ADDR_MAX	0x22c
#define ZP_KERNEL_ALIGNMENT	0x230
#define ZP_RELOCATABLE		0x234
#define ZP_XLOADFLAGS		0x236
#define ZP_CMDLINE_SIZE		0x238
#define ZP_SETUP_DATA		0x250
#define ZP_PREF_ADDRESS		0x258
#define ZP_INIT_SIZE		0x260
#define ZP_E820_TABLE		0x2d0
#define E820_ENTRY_SIZE		20
#define E820_MAX		128
#define E820_RAM		1

#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80

/* The boot protocol's 64-bit entry selectors (__BOOT_CS, __BOOT_DS); the
 * probe's own GDT keeps them. */
#define BOOT_CS			0x10
#define BOOT_DS			0x18

/* Vectors: UART interrupt through the IOAPIC, LAPIC spurious. */
#define PROBE_UART_VECTOR	0x40
#define PROBE_SPURIOUS_VECTOR	0xff

#define BOOT_STACK_SIZE		16384

/* AP trampoline: per-APIC-ID check-in records. */
#define TR_MAX_CPUS		64
#define TR_RECORD_SIZE		16
#define TR_MAGIC		0x41504f4b	/* "KOPA" */

#ifndef __ASSEMBLY__
/*
 * Every symbol is local to the image: references stay RIP-relative, no
 * GOT, so the image runs wherever the loader puts it (the Makefile checks
 * that no absolute relocation made it in).
 */
#pragma GCC visibility push(hidden)
#endif

#endif
