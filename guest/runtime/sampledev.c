// SPDX-License-Identifier: MIT
#include "sampledev.h"

bool sampledev_find(unsigned int index, struct sampledev *dev)
{
	u32 bdfs[32];
	unsigned int n, i, seen = 0;

	pci_init();
	n = pci_scan_bus(0, bdfs, 32);
	for (i = 0; i < n; i++) {
		if (pci_read(bdfs[i], PCI_CFG_VENDOR, 2) != SAMPLEDEV_VENDOR_ID ||
		    pci_read(bdfs[i], PCI_CFG_DEVICE, 2) != SAMPLEDEV_DEVICE_ID)
			continue;
		if (seen++ != index)
			continue;
		dev->bdf = bdfs[i];
		pci_bar_probe(dev->bdf, 0, &dev->bar0);
		pci_bar_probe(dev->bdf, 2, &dev->bar2);
		/* memory decode + bus master */
		pci_write(dev->bdf, PCI_CFG_COMMAND, 2,
			  pci_read(dev->bdf, PCI_CFG_COMMAND, 2) | 0x6);
		return dev->bar0.addr && dev->bar2.addr;
	}
	return false;
}

u32 sampledev_fnv1a(const void *buf, u64 len)
{
	const u8 *p = buf;
	u32 h = SAMPLEDEV_FNV1A_INIT;
	u64 i;

	for (i = 0; i < len; i++)
		h = SAMPLEDEV_FNV1A_STEP(h, p[i]);
	return h;
}

u32 sampledev_dma(const struct sampledev *dev, u32 op, u64 src, u64 dst, u32 len)
{
	sampledev_set(dev, SAMPLEDEV_REG_DMA_SRC_LO, (u32)src);
	sampledev_set(dev, SAMPLEDEV_REG_DMA_SRC_HI, src >> 32);
	sampledev_set(dev, SAMPLEDEV_REG_DMA_DST_LO, (u32)dst);
	sampledev_set(dev, SAMPLEDEV_REG_DMA_DST_HI, dst >> 32);
	sampledev_set(dev, SAMPLEDEV_REG_DMA_LEN, len);
	sampledev_set(dev, SAMPLEDEV_REG_DMA_CMD, op | SAMPLEDEV_DMA_SYNC);
	return sampledev_reg(dev, SAMPLEDEV_REG_DMA_STATUS);
}
