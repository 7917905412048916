// SPDX-License-Identifier: MIT
/*
 * vfio-user-basic: the test device served by another process looks like
 * any PCI function: IDs, BAR sizes, config space reads and writes (the
 * scratch area lives in the server), BAR0 registers.
 */
#include "sampledev.h"

int main(void)
{
	struct sampledev dev;
	u32 before, after;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	report(true, "sampledev %04x:%04x found at 00:%02x.%u",
	       pci_read(dev.bdf, PCI_CFG_VENDOR, 2),
	       pci_read(dev.bdf, PCI_CFG_DEVICE, 2), PCI_BDF_DEV(dev.bdf),
	       PCI_BDF_FN(dev.bdf));
	report((pci_read(dev.bdf, PCI_CFG_CLASS_REV, 4) >> 8) == SAMPLEDEV_CLASS,
	       "class %06x", pci_read(dev.bdf, PCI_CFG_CLASS_REV, 4) >> 8);
	report(dev.bar0.size == SAMPLEDEV_BAR0_SIZE &&
	       dev.bar2.size == SAMPLEDEV_BAR2_SIZE,
	       "BAR0 %#lx bytes at %#lx, BAR2 %#lx bytes at %#lx",
	       dev.bar0.size, dev.bar0.addr, dev.bar2.size, dev.bar2.addr);
	report(pci_find_cap(dev.bdf, PCI_CAP_MSI) == SAMPLEDEV_CFG_MSI_CAP &&
	       pci_find_cap(dev.bdf, PCI_CAP_MSIX) == SAMPLEDEV_CFG_MSIX_CAP,
	       "capability list: MSI at %#x, MSI-X at %#x",
	       SAMPLEDEV_CFG_MSI_CAP, SAMPLEDEV_CFG_MSIX_CAP);
	report(pci_read(dev.bdf, SAMPLEDEV_CFG_VNDR_SIG_OFF, 4) == SAMPLEDEV_CFG_VNDR_SIG,
	       "vendor capability signature read from the server");

	pci_write(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4, 0x12345678);
	pci_write(dev.bdf, SAMPLEDEV_CFG_SCRATCH + 5, 1, 0xab);
	report(pci_read(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4) == 0x12345678 &&
	       pci_read(dev.bdf, SAMPLEDEV_CFG_SCRATCH + 5, 1) == 0xab,
	       "config scratch space written and read back through the server");

	report(sampledev_reg(&dev, SAMPLEDEV_REG_ID) == SAMPLEDEV_ID_MAGIC,
	       "BAR0 ID register reads %#x", sampledev_reg(&dev, SAMPLEDEV_REG_ID));
	before = sampledev_reg(&dev, SAMPLEDEV_REG_SCRATCH);
	sampledev_set(&dev, SAMPLEDEV_REG_SCRATCH, ~before);
	after = sampledev_reg(&dev, SAMPLEDEV_REG_SCRATCH);
	report(after == ~before, "BAR0 scratch register written and read back (%#x)",
	       after);
	return report_summary();
}
