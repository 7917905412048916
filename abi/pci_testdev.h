/* SPDX-License-Identifier: MIT */
#ifndef UVMM_ABI_PCI_TESTDEV_H
#define UVMM_ABI_PCI_TESTDEV_H

/*
 * uvmm's built-in PCI test function (--device pci-testdev, 1234:7e57)
 * has one of everything the function model offers, so firmware tests
 * (guest/pci-enum) and unit tests exercise the model through a real
 * device: a 32-bit memory BAR of registers, an I/O BAR, a 64-bit prefetchable BAR, a BAR for the MSI-X table and PBA, an
 * expansion ROM, MSI (4 vectors, 64-bit, maskable), MSI-X (8 vectors)
 * and INTx pin A.
 *
 * Every BAR answers at offset 0 with PCI_TESTDEV_MAGIC and keeps a
 * scratch register at 4; from PCI_TESTDEV_PATTERN_START on, a dword read
 * at offset o returns o ^ PCI_TESTDEV_PATTERN, so a guest can check that
 * offsets arrive intact. BAR0 also drives the interrupts.
 *
 * devices/pci_testdev.c implements it; guest programs (guest/pci-enum.c,
 * hostile.c, bench-vfu.c) drive it. Plain #defines only, for both.
 */

#define PCI_TESTDEV_VENDOR_ID 0x1234
#define PCI_TESTDEV_DEVICE_ID 0x7e57
#define PCI_TESTDEV_CLASS 0xff0000		/* "unassigned class" */

#define PCI_TESTDEV_MAGIC 0x7e57de01u
#define PCI_TESTDEV_PATTERN 0x5a5a5a5au
#define PCI_TESTDEV_PATTERN_START 0x100

/* BARs */
#define PCI_TESTDEV_BAR_REGS 0			/* 4 KiB, 32-bit memory */
#define PCI_TESTDEV_BAR_IO 1			/* 256 ports */
#define PCI_TESTDEV_BAR_MEM64 2			/* 1 MiB, 64-bit, prefetchable */
#define PCI_TESTDEV_BAR_MSIX 4			/* 4 KiB: table at 0, PBA */
#define PCI_TESTDEV_REGS_SIZE 0x1000
#define PCI_TESTDEV_IO_SIZE 0x100
#define PCI_TESTDEV_MEM64_SIZE 0x100000
#define PCI_TESTDEV_MSIX_SIZE 0x1000
#define PCI_TESTDEV_MSIX_PBA 0x800
#define PCI_TESTDEV_ROM_SIZE 0x800
#define PCI_TESTDEV_MSI_VECTORS 4
#define PCI_TESTDEV_MSIX_VECTORS 8

/* BAR0 registers (dwords) */
#define PCI_TESTDEV_REG_MAGIC 0x00		/* R */
#define PCI_TESTDEV_REG_SCRATCH 0x04		/* RW */
#define PCI_TESTDEV_REG_MSIX 0x08		/* W: raise MSI-X vector N */
#define PCI_TESTDEV_REG_MSI 0x0c		/* W: raise MSI vector N */
#define PCI_TESTDEV_REG_INTX 0x10		/* RW: INTx line level (bit 0) */
#define PCI_TESTDEV_REG_IRQ_MODE 0x14		/* R: mode | vectors << 16 */
#define PCI_TESTDEV_REG_RAISE 0x18		/* W: vector N, mode in force */
#define PCI_TESTDEV_REG_RAISED 0x1c		/* R: interrupts raised so far */
/*
 * W: a doorbell registered as a KVM ioeventfd where KVM has them (a write
 * signals the device's eventfd without an exit to uvmm), trapped
 * otherwise; DOORBELLS reads how many rang either way.
 */
#define PCI_TESTDEV_REG_DOORBELL 0x20
#define PCI_TESTDEV_REG_DOORBELLS 0x24		/* R */

#endif
