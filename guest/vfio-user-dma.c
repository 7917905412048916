// SPDX-License-Identifier: MIT
/*
 * vfio-user-dma: the device's DMA engine copies within guest RAM and into
 * and out of BAR2, checked byte for byte and by checksum. Against a
 * server started with --no-dma-fd the same DMA goes through DMA_READ and
 * DMA_WRITE messages served by uvmm.
 */
#include "testdev.h"

#define LEN (64 * 1024)

static u8 src[LEN] __attribute__((aligned(4096)));
static u8 dst[LEN] __attribute__((aligned(4096)));
static u8 back[LEN] __attribute__((aligned(4096)));

int main(void)
{
	struct testdev dev;
	u32 i, csum, count;

	if (!testdev_find(0, &dev)) {
		report(false, "testdev found on bus 0");
		return report_summary();
	}
	for (i = 0; i < LEN; i++)
		src[i] = (u8)(i * 31 + (i >> 9));
	csum = testdev_fnv1a(src, LEN);
	count = testdev_reg(&dev, TESTDEV_REG_DMA_COUNT);

	report(testdev_dma(&dev, TESTDEV_DMA_OP_COPY, (u64)src, (u64)dst, LEN) ==
	       TESTDEV_DMA_DONE && !memcmp(src, dst, LEN) &&
	       testdev_reg(&dev, TESTDEV_REG_DMA_CSUM) == csum,
	       "DMA copy of 64 KiB within guest RAM, checksum %#x", csum);
	report(testdev_dma(&dev, TESTDEV_DMA_OP_COPY, (u64)src, TESTDEV_DMA_BAR2,
			   LEN) == TESTDEV_DMA_DONE &&
	       testdev_dma(&dev, TESTDEV_DMA_OP_COPY, TESTDEV_DMA_BAR2, (u64)back,
			   LEN) == TESTDEV_DMA_DONE &&
	       !memcmp(src, back, LEN),
	       "DMA into BAR2 and back out to guest RAM");
	report(testdev_dma(&dev, TESTDEV_DMA_OP_CSUM, (u64)dst, 0, LEN) ==
	       TESTDEV_DMA_DONE &&
	       testdev_reg(&dev, TESTDEV_REG_DMA_CSUM) == csum,
	       "DMA checksum of the copy matches");
	report(testdev_reg(&dev, TESTDEV_REG_DMA_COUNT) == count + 4,
	       "DMA count went up by 4");
	/* Outside guest RAM: the server must be refused, not crash uvmm. */
	report(testdev_dma(&dev, TESTDEV_DMA_OP_COPY, 0xe0000000ULL, (u64)dst,
			   4096) == TESTDEV_DMA_ERROR,
	       "DMA from outside guest RAM ends in ERROR");
	return report_summary();
}
