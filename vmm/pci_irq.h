/* SPDX-License-Identifier: MIT */
#ifndef UVMM_PCI_IRQ_H
#define UVMM_PCI_IRQ_H

/*
 * INTx routing of bus 0, shared by the PCI model, the MP table and the
 * device tree so all three tell the guest the same thing: pin A-D (1-4)
 * of slot S goes to IOAPIC GSI 16 + (S + pin - 1) % 8, level-triggered,
 * active low (the usual swizzle over GSIs 16-23).
 */
#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_GSI_COUNT 8

static inline unsigned int pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return PCI_INTX_GSI_BASE + (slot + pin - 1) % PCI_INTX_GSI_COUNT;
}

#endif
