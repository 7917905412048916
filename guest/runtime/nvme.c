// SPDX-License-Identifier: MIT
#include "nvme.h"

bool nvme_find(struct nvme_dev *dev)
{
	struct pci_bar bar;

	pci_init();
	if (!pci_find_class(0, NVME_CLASS, &dev->bdf))
		return false;
	pci_bar_probe(dev->bdf, 0, &bar);
	if ((bar.type != PCI_BAR_MEM64 && bar.type != PCI_BAR_MEM32) ||
	    !bar.addr || bar.size < 0x2000)
		return false;
	if (bar.addr + bar.size > 4 * GiB && !map_mmio(bar.addr, bar.size))
		return false;
	dev->bar = bar.addr;
	pci_write(dev->bdf, PCI_CFG_COMMAND, 2,
		  pci_read(dev->bdf, PCI_CFG_COMMAND, 2) | PCI_CMD_MEM |
		  PCI_CMD_MASTER);
	return true;
}
