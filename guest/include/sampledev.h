/* SPDX-License-Identifier: MIT */
/*
 * Finding and driving tests/servers/sampledev (a vfio-user server) from a
 * guest program. The register map is the shared one in abi/.
 */
#ifndef UVMM_GUEST_SAMPLEDEV_H
#define UVMM_GUEST_SAMPLEDEV_H

#include "guest.h"
#include "abi/sampledev.h"

struct sampledev {
	u32 bdf;
	struct pci_bar bar0;
	struct pci_bar bar2;
};

/*
 * Finds the index-th sampledev on bus 0, sizes BAR0 and BAR2 and turns on
 * memory decoding and bus mastering. False when there is none.
 */
bool sampledev_find(unsigned int index, struct sampledev *dev);

static inline u32 sampledev_reg(const struct sampledev *dev, u32 reg)
{
	return readl(dev->bar0.addr + reg);
}

static inline void sampledev_set(const struct sampledev *dev, u32 reg, u32 val)
{
	writel(dev->bar0.addr + reg, val);
}

u32 sampledev_fnv1a(const void *buf, u64 len);

/* SRC -> DST copy of len bytes, synchronous; the DMA status. */
u32 sampledev_dma(const struct sampledev *dev, u32 op, u64 src, u64 dst, u32 len);

#endif
