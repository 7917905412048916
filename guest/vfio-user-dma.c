// SPDX-License-Identifier: MIT
/*
 * vfio-user-dma: the device's DMA engine copies within guest RAM and into
 * and out of BAR2, checked byte for byte and by checksum. Against a
 * server started with --no-dma-fd the same DMA goes through DMA_READ and
 * DMA_WRITE messages served by uvmm.
 */
#include "sampledev.h"

#define LEN (64 * 1024)

static u8 src[LEN] __attribute__((aligned(4096)));
static u8 dst[LEN] __attribute__((aligned(4096)));
static u8 back[LEN] __attribute__((aligned(4096)));

int main(void)
{
	struct sampledev dev;
	u32 i, csum, count;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	for (i = 0; i < LEN; i++)
		src[i] = (u8)(i * 31 + (i >> 9));
	csum = sampledev_fnv1a(src, LEN);
	count = sampledev_reg(&dev, SAMPLEDEV_REG_DMA_COUNT);

	report(sampledev_dma(&dev, SAMPLEDEV_DMA_OP_COPY, (u64)src, (u64)dst, LEN) ==
	       SAMPLEDEV_DMA_DONE && !memcmp(src, dst, LEN) &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_DMA_CSUM) == csum,
	       "DMA copy of 64 KiB within guest RAM, checksum %#x", csum);
	report(sampledev_dma(&dev, SAMPLEDEV_DMA_OP_COPY, (u64)src, SAMPLEDEV_DMA_BAR2,
			   LEN) == SAMPLEDEV_DMA_DONE &&
	       sampledev_dma(&dev, SAMPLEDEV_DMA_OP_COPY, SAMPLEDEV_DMA_BAR2, (u64)back,
			   LEN) == SAMPLEDEV_DMA_DONE &&
	       !memcmp(src, back, LEN),
	       "DMA into BAR2 and back out to guest RAM");
	report(sampledev_dma(&dev, SAMPLEDEV_DMA_OP_CSUM, (u64)dst, 0, LEN) ==
	       SAMPLEDEV_DMA_DONE &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_DMA_CSUM) == csum,
	       "DMA checksum of the copy matches");
	report(sampledev_reg(&dev, SAMPLEDEV_REG_DMA_COUNT) == count + 4,
	       "DMA count went up by 4");
	/* Outside guest RAM: the server must be refused, not crash uvmm. */
	report(sampledev_dma(&dev, SAMPLEDEV_DMA_OP_COPY, 0xe0000000ULL, (u64)dst,
			   4096) == SAMPLEDEV_DMA_ERROR,
	       "DMA from outside guest RAM ends in ERROR");
	return report_summary();
}
