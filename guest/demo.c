// SPDX-License-Identifier: MIT
/*
 * demo: drives the vfio-user test device through every path and says in
 * plain words what happens at each step (make demo).
 */
#include "sampledev.h"

#define VEC 0x40

static void on_msix(unsigned int vector)
{
	(void)vector;
}

int main(void)
{
	static u8 buf[4096] __attribute__((aligned(4096)));
	struct sampledev dev;
	u64 table;
	u8 cap, apic;
	u32 i;

	printf("demo: looking for the test device on PCI bus 0...\n");
	if (!sampledev_find(0, &dev)) {
		report(false, "found the device");
		return report_summary();
	}
	printf("demo: found %04x:%04x in slot %u; its config space lives in another process\n",
	       pci_read(dev.bdf, PCI_CFG_VENDOR, 2),
	       pci_read(dev.bdf, PCI_CFG_DEVICE, 2), PCI_BDF_DEV(dev.bdf));
	pci_write(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4, 0xc0ffee);
	report(pci_read(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4) == 0xc0ffee,
	       "config: wrote 0xc0ffee into the device's config scratch space and read it back");
	report(sampledev_reg(&dev, SAMPLEDEV_REG_ID) == SAMPLEDEV_ID_MAGIC,
	       "registers: BAR0 at %#lx says \"uvmm\" (%#x), each read a message to the server",
	       dev.bar0.addr, sampledev_reg(&dev, SAMPLEDEV_REG_ID));
	for (i = 0; i < sizeof(buf); i++)
		((volatile u8 *)dev.bar2.addr)[i] = buf[i] = (u8)(i * 7);
	sampledev_set(&dev, SAMPLEDEV_REG_BAR2_CSUM_LEN, sizeof(buf));
	report(sampledev_reg(&dev, SAMPLEDEV_REG_BAR2_CSUM) ==
	       sampledev_fnv1a(buf, sizeof(buf)),
	       "shared memory: wrote 4 KiB into BAR2 without a single exit; the server's checksum agrees");
	report(sampledev_dma(&dev, SAMPLEDEV_DMA_OP_CSUM, (u64)buf, 0, sizeof(buf)) ==
	       SAMPLEDEV_DMA_DONE &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_DMA_CSUM) ==
	       sampledev_fnv1a(buf, sizeof(buf)),
	       "DMA: the device read 4 KiB of guest RAM straight from its own mapping");
	lapic_enable();
	apic = lapic_id();
	set_irq_handler(VEC, on_msix);
	cap = pci_find_cap(dev.bdf, PCI_CAP_MSIX);
	table = dev.bar0.addr + SAMPLEDEV_MSIX_TABLE;
	writel(table, (u32)msi_address(apic));
	writel(table + 4, msi_address(apic) >> 32);
	writel(table + 8, msi_data(VEC));
	writel(table + 12, 0);
	pci_write(dev.bdf, cap + 2, 2, 0x8000);
	sampledev_set(&dev, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(0));
	report(irq_wait(VEC, 1, 2000),
	       "MSI-X: rang the doorbell; the server's eventfd reached the guest through KVM");
	printf("demo: done; exiting through port 0xf4\n");
	return report_summary();
}
