// SPDX-License-Identifier: MIT
/*
 * vfio-user-irq: each interrupt kind of the test device reaches its
 * handler exactly once: every MSI-X vector, MSI, and INTx (level, acked
 * in the handler). The server writes eventfds that KVM irqfds deliver.
 * An INTx line the handler leaves asserted fires again after the EOI:
 * KVM's resample reaches uvmm, which tells the server (SET_IRQS UNMASK).
 * A write to the server's EFD_IRQ doorbell (a KVM ioeventfd) raises
 * MSI-X vector 0 from the server's own thread.
 */
#include "sampledev.h"

#define VEC_MSIX 0x40		/* + vector */
#define VEC_MSI 0x50
#define VEC_INTX 0x58
#define WAIT_MS 2000

static struct sampledev dev;
static u32 intx_status_seen;
static unsigned int intx_acks_skipped;	/* handler calls left unacked */

static void msi_handler(unsigned int vector)
{
	(void)vector;
}

static void intx_handler(unsigned int vector)
{
	(void)vector;
	/* Level-triggered: quiet the device before the EOI. */
	intx_status_seen |= sampledev_reg(&dev, SAMPLEDEV_REG_INTX_STATUS);
	if (intx_acks_skipped) {
		intx_acks_skipped--;
		return;		/* EOI with the line still up */
	}
	sampledev_set(&dev, SAMPLEDEV_REG_INTX_ACK, 0xffffffff);
}

static void wait_quiet(void)
{
	unsigned int i;

	/* Give a duplicate delivery the chance to show up. */
	for (i = 0; i < 100000; i++)
		cpu_relax();
}

static void check_msix(u8 apic)
{
	u8 cap = pci_find_cap(dev.bdf, PCI_CAP_MSIX);
	u64 table = dev.bar0.addr + SAMPLEDEV_MSIX_TABLE;
	unsigned int n;

	for (n = 0; n < 4; n++) {
		writel(table + 16 * n, (u32)msi_address(apic));
		writel(table + 16 * n + 4, msi_address(apic) >> 32);
		writel(table + 16 * n + 8, msi_data(VEC_MSIX + n));
		writel(table + 16 * n + 12, 0);
	}
	pci_write(dev.bdf, cap + 2, 2, 0x8000);		/* MSI-X enable */
	for (n = 0; n < 4; n++) {
		sampledev_set(&dev, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(n));
		irq_wait(VEC_MSIX + n, 1, WAIT_MS);
		wait_quiet();
		report(irq_count(VEC_MSIX + n) == 1,
		       "MSI-X vector %u delivered exactly once (%lu)", n,
		       irq_count(VEC_MSIX + n));
	}
	/*
	 * The server's EFD_IRQ doorbell: uvmm registered it as a KVM
	 * ioeventfd, so the write wakes the server's thread with no message,
	 * and vector 0 comes from there.
	 */
	writel(dev.bar0.addr + SAMPLEDEV_REG_EFD_IRQ, 1);
	irq_wait(VEC_MSIX, 2, WAIT_MS);
	wait_quiet();
	report(irq_count(VEC_MSIX) == 2 &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_EFD_IRQ_COUNT) == 1 &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_EFD_TRAPPED) == 0,
	       "MSI-X vector 0 raised by the server's ioeventfd doorbell thread (%lu of 2, %u by message)",
	       irq_count(VEC_MSIX),
	       sampledev_reg(&dev, SAMPLEDEV_REG_EFD_TRAPPED));
	pci_write(dev.bdf, cap + 2, 2, 0);
}

static void check_msi(u8 apic)
{
	u8 cap = pci_find_cap(dev.bdf, PCI_CAP_MSI);

	pci_write(dev.bdf, cap + 4, 4, (u32)msi_address(apic));
	pci_write(dev.bdf, cap + 8, 4, msi_address(apic) >> 32);
	pci_write(dev.bdf, cap + 12, 2, msi_data(VEC_MSI));
	pci_write(dev.bdf, cap + 2, 2, 0x1);		/* MSI enable */
	sampledev_set(&dev, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSI);
	irq_wait(VEC_MSI, 1, WAIT_MS);
	wait_quiet();
	report(irq_count(VEC_MSI) == 1, "MSI delivered exactly once (%lu)",
	       irq_count(VEC_MSI));
	pci_write(dev.bdf, cap + 2, 2, 0);
}

static void check_intx(u8 apic)
{
	unsigned int slot = PCI_BDF_DEV(dev.bdf);
	unsigned int pin = pci_read(dev.bdf, PCI_CFG_INT_PIN, 1);
	/* The swizzle uvmm describes in the MP table and the device tree. */
	unsigned int gsi = 16 + (slot + pin - 1) % 8;

	ioapic_route(gsi, VEC_INTX, true, true, apic);
	sampledev_set(&dev, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
	irq_wait(VEC_INTX, 1, WAIT_MS);
	wait_quiet();
	report(irq_count(VEC_INTX) == 1 &&
	       (intx_status_seen & SAMPLEDEV_INTX_DOORBELL),
	       "INTx (pin %u, GSI %u) delivered exactly once and acked (%lu)",
	       pin, gsi, irq_count(VEC_INTX));
	report(sampledev_reg(&dev, SAMPLEDEV_REG_INTX_STATUS) == 0,
	       "INTx status clear after the ack");

	intx_acks_skipped = 1;
	sampledev_set(&dev, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
	irq_wait(VEC_INTX, 3, WAIT_MS);
	wait_quiet();
	report(irq_count(VEC_INTX) == 3 &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_INTX_STATUS) == 0,
	       "INTx left asserted at the EOI delivered again, then acked (%lu of 3)",
	       irq_count(VEC_INTX));
	ioapic_mask(gsi);
}

int main(void)
{
	unsigned int n;
	u8 apic;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	lapic_enable();
	apic = lapic_id();
	for (n = 0; n < 4; n++)
		set_irq_handler(VEC_MSIX + n, msi_handler);
	set_irq_handler(VEC_MSI, msi_handler);
	set_irq_handler(VEC_INTX, intx_handler);
	check_msix(apic);
	check_msi(apic);
	check_intx(apic);
	report(sampledev_reg(&dev, SAMPLEDEV_REG_IRQ_LOST) == 0,
	       "the server lost no interrupt");
	return report_summary();
}
