/* SPDX-License-Identifier: MIT */
/*
 * The machine a guest sees, in one place: every guest-physical address and
 * I/O port uvmm decodes, and where the loaders put the boot structures.
 * The memory map, the MP table, the device tree and the devices all read
 * their numbers from here, and the relations between them are checked at
 * compile time below. docs/design.md, "The machine", draws the same map.
 *
 *   0x00000000 -  0x0009fbff  RAM (boot structures, LAYOUT_* below)
 *   0x0009fc00 -  0x0009ffff  EBDA, reserved
 *   0x000e0000 -  0x000effff  ACPI tables (vmm/acpi.c)
 *   0x000f0000 -  0x000fffff  reserved: the MP table
 *   0x00100000 -  MEM_LOW_RAM_MAX  RAM (images load at 1 MiB)
 *   0xb0000000 -  0xbfffffff  PCI ECAM, buses 0-255
 *   0xc0000000 -  0xfbffffff  32-bit PCI memory window
 *   0xfec00000                IOAPIC
 *   0xfee00000                local APICs
 *   0xff000000 -  0xff00ffff  --device pc-testdev's iomem
 *   0xfffbc000 -  0xfffbffff  KVM's identity map page and TSS (not RAM)
 *   0xffff0000 -  0xffffffff  --bios ROM (at most 64 KiB, ending at 4 GiB)
 *   4 GiB      -              RAM above the hole
 *   above RAM, 1 GiB aligned   64-bit PCI memory window (64 GiB)
 */
#ifndef UVMM_ABI_MACHINE_H
#define UVMM_ABI_MACHINE_H

/* ---- guest RAM ------------------------------------------------------------ */
#define MEM_LOW_RAM_MAX		0xb0000000ULL	/* RAM below 4 GiB ends here */
#define MEM_HIGH_RAM_BASE	0x100000000ULL	/* the rest starts at 4 GiB */
#define MEM_EBDA_BASE		0x9fc00ULL	/* reserved up to 640 KiB */
#define MEM_BIOS_BASE		0xf0000ULL	/* reserved up to 1 MiB */

/* ---- boot structures in low RAM (the loaders) ------------------------------ */
#define LAYOUT_LINUX_GDT	0x1000ULL	/* bzImage: boot GDT */
#define LAYOUT_START_INFO	0x6000ULL	/* PVH: hvm_start_info + tables */
#define LAYOUT_START_INFO_END	0x7000ULL
#define LAYOUT_ZERO_PAGE	0x7000ULL	/* bzImage: boot_params */
#define LAYOUT_PAGE_TABLES	0x9000ULL	/* bzImage: PML4, PDPT, PDs */
#define LAYOUT_PAGE_TABLES_END	0x10000ULL
#define LAYOUT_CMDLINE		0x20000ULL
#define LAYOUT_CMDLINE_MAX	0x10000ULL
#define LAYOUT_DTB		0x30000ULL
#define LAYOUT_DTB_MAX		0x10000ULL
#define LAYOUT_ACPI		0xe0000ULL	/* the RSDP is searched for here */
#define LAYOUT_ACPI_SIZE	0x10000ULL
#define LAYOUT_MPTABLE		0xf0000ULL	/* inside the reserved BIOS area */
#define LAYOUT_IMAGE_MIN	0x100000ULL	/* nothing of an image below 1 MiB */

/* ---- MMIO in the hole below 4 GiB ------------------------------------------ */
#define PCI_ECAM_BASE		MEM_LOW_RAM_MAX
#define PCI_ECAM_SIZE		0x10000000ULL	/* buses 0-255, 1 MiB each */
#define PCI_WIN_MMIO32_BASE	0xc0000000ULL
#define PCI_WIN_MMIO32_SIZE	0x3c000000ULL	/* up to 0xfbffffff */
#define IOAPIC_BASE		0xfec00000ULL
#define LAPIC_BASE		0xfee00000ULL
#define APIC_MMIO_SIZE		0x1000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL	/* one page, KVM's own */
#define KVM_TSS_ADDR		0xfffbd000ULL	/* three pages, KVM's own */
#define PC_TESTDEV_IOMEM	0xff000000ULL	/* --device pc-testdev only */
#define PC_TESTDEV_IOMEM_LEN	0x10000ULL
#define ROM_MAX_SIZE		0x10000ULL
#define ROM_END			0x100000000ULL

/* ---- above RAM ------------------------------------------------------------- */
#define PCI_WIN_MMIO64_ALIGN	0x40000000ULL	/* starts at the next GiB */
#define PCI_WIN_MMIO64_SIZE	0x1000000000ULL	/* 64 GiB */

/* ---- I/O ports and ISA interrupts ------------------------------------------ */
#define I8042_DATA_PORT		0x60
#define I8042_COMMAND_PORT	0x64
#define RTC_INDEX_PORT		0x70
#define RTC_DATA_PORT		0x71
#define RTC_IRQ			8
#define DEBUG_EXIT_PORT		0xf4
#define DEBUG_EXIT_PORT_SIZE	4
#define UART_COM1_BASE		0x3f8
#define UART_COM1_IRQ		4
#define PCI_CONF1_ADDRESS_PORT	0xcf8
#define PCI_CONF1_DATA_PORT	0xcfc
#define FW_CFG_PORT_SEL		0x510		/* QEMU's fw_cfg, I/O interface */
#define FW_CFG_PORT_DATA	0x511
#define FW_CFG_PORT_LEN		2
/* ACPI's PM block, where QEMU's PIIX4 has it: events, control, timer. */
#define ACPI_PM_BASE		0x600
#define ACPI_PM1_EVT		(ACPI_PM_BASE + 0)	/* 4 bytes */
#define ACPI_PM1_CNT		(ACPI_PM_BASE + 4)	/* 2 bytes */
#define ACPI_PM_TMR		(ACPI_PM_BASE + 8)	/* 4 bytes, 24-bit timer */
#define ACPI_PM_LEN		12
#define ACPI_PM_TIMER_HZ	3579545ULL	/* the PM timer's rate */
#define ACPI_SCI_IRQ		9
/* PM1a control: the sleep type of the DSDT's _S5 and the enable bit. */
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7 << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN	(1 << 13)
#define ACPI_SLP_TYP_S3		1	/* the DSDT's _S3: sleep to RAM */
#define ACPI_SLP_TYP_S5		5
/* PM1 status and enable bits: the RTC alarm as a wake source, and WAK_STS. */
#define ACPI_PM1_RTC_STS	(1 << 10)
#define ACPI_PM1_WAK_STS	(1 << 15)
/* QEMU's pc-testdev (--device pc-testdev only), kvm-unit-tests' ports. */
#define PC_TESTDEV_PORT		0xe0		/* 4-byte scratch register */
#define PC_TESTDEV_FLUSH_PORT	0xe4		/* 4 bytes: flush a page */
#define PC_TESTDEV_BYTE_PORT	0xe8		/* the scratch, byte-wise */
#define PC_TESTDEV_IRQ_PORT	0x2000		/* + N: ISA line N, N < 24 */
#define PC_TESTDEV_NR_IRQS	24
#define PC_TESTDEV_SHUTDOWN_PORT 0x8900		/* "Shutdown" ends the run */
#define PCI_WIN_IO_BASE		0xc000ULL
#define PCI_WIN_IO_SIZE		0x4000ULL	/* up to 0xffff */

/* ---- what must hold between them ------------------------------------------- */
_Static_assert(LAYOUT_DTB + LAYOUT_DTB_MAX <= MEM_EBDA_BASE,
	       "boot structures stay below the EBDA");
_Static_assert(LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX <= LAYOUT_DTB,
	       "the command line and the device tree do not overlap");
_Static_assert(LAYOUT_MPTABLE >= MEM_BIOS_BASE && LAYOUT_MPTABLE < LAYOUT_IMAGE_MIN,
	       "the MP table lies in the reserved BIOS area");
_Static_assert(LAYOUT_IMAGE_MIN <= MEM_LOW_RAM_MAX, "images load in low RAM");
_Static_assert(LAYOUT_ACPI >= LAYOUT_DTB + LAYOUT_DTB_MAX &&
	       LAYOUT_ACPI + LAYOUT_ACPI_SIZE <= LAYOUT_MPTABLE,
	       "the ACPI tables lie between the boot structures and the MP table");
_Static_assert(PCI_ECAM_BASE == MEM_LOW_RAM_MAX,
	       "low RAM ends where ECAM starts");
_Static_assert(PCI_ECAM_BASE + PCI_ECAM_SIZE <= PCI_WIN_MMIO32_BASE,
	       "ECAM ends before the 32-bit window");
_Static_assert(PCI_WIN_MMIO32_BASE + PCI_WIN_MMIO32_SIZE <= IOAPIC_BASE,
	       "the 32-bit window ends before the IOAPIC");
_Static_assert(IOAPIC_BASE + APIC_MMIO_SIZE <= LAPIC_BASE,
	       "IOAPIC and local APIC apart");
_Static_assert(LAPIC_BASE + APIC_MMIO_SIZE <= KVM_IDENTITY_MAP_ADDR,
	       "the local APIC ends before KVM's pages");
_Static_assert(KVM_IDENTITY_MAP_ADDR + 0x1000 <= KVM_TSS_ADDR &&
	       KVM_TSS_ADDR + 0x3000 <= ROM_END - ROM_MAX_SIZE,
	       "KVM's pages end before the ROM");
_Static_assert(LAPIC_BASE + APIC_MMIO_SIZE <= PC_TESTDEV_IOMEM &&
	       PC_TESTDEV_IOMEM + PC_TESTDEV_IOMEM_LEN <= KVM_IDENTITY_MAP_ADDR,
	       "pc-testdev's iomem lies between the local APIC and KVM's pages");
_Static_assert(ROM_END == MEM_HIGH_RAM_BASE, "the ROM ends at 4 GiB, where RAM resumes");
_Static_assert(PCI_WIN_IO_BASE > PCI_CONF1_DATA_PORT + 3 &&
	       PCI_WIN_IO_BASE > UART_COM1_BASE + 7 &&
	       PCI_WIN_IO_BASE + PCI_WIN_IO_SIZE <= 0x10000,
	       "the PCI I/O window holds no fixed port and ends at 0xffff");
_Static_assert(PCI_WIN_IO_BASE > PC_TESTDEV_SHUTDOWN_PORT &&
	       PCI_WIN_IO_BASE > PC_TESTDEV_IRQ_PORT + PC_TESTDEV_NR_IRQS - 1 &&
	       PCI_WIN_IO_BASE > ACPI_PM_BASE + ACPI_PM_LEN - 1 &&
	       PCI_WIN_IO_BASE > FW_CFG_PORT_SEL + FW_CFG_PORT_LEN - 1,
	       "no fixed port falls in the PCI I/O window");
_Static_assert(PC_TESTDEV_PORT > RTC_DATA_PORT &&
	       PC_TESTDEV_BYTE_PORT + 3 < DEBUG_EXIT_PORT &&
	       DEBUG_EXIT_PORT + DEBUG_EXIT_PORT_SIZE <= UART_COM1_BASE &&
	       UART_COM1_BASE + 8 <= FW_CFG_PORT_SEL &&
	       FW_CFG_PORT_SEL + FW_CFG_PORT_LEN <= ACPI_PM_BASE &&
	       ACPI_PM_BASE + ACPI_PM_LEN <= PCI_CONF1_ADDRESS_PORT &&
	       PCI_CONF1_DATA_PORT + 4 <= PC_TESTDEV_IRQ_PORT &&
	       PC_TESTDEV_IRQ_PORT + PC_TESTDEV_NR_IRQS <= PC_TESTDEV_SHUTDOWN_PORT,
	       "the fixed ports, in ascending order, do not overlap");

#endif
