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
