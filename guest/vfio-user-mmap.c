// SPDX-License-Identifier: MIT
/*
 * vfio-user-mmap: BAR2 is memory the server shares (mapped into the guest
 * by uvmm, no exits): what the guest writes the server checksums, and
 * what the server writes (a DMA into BAR2) the guest reads.
 */
#include "sampledev.h"

#define LEN 4096

static u8 source[LEN] __attribute__((aligned(4096)));

int main(void)
{
	struct sampledev dev;
	volatile u8 *bar2;
	u32 i, want, bad = 0;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	bar2 = (volatile u8 *)dev.bar2.addr;
	for (i = 0; i < LEN; i++)
		bar2[i] = (u8)(i * 13 + 7);
	for (i = 0; i < LEN; i++)
		source[i] = (u8)(i * 13 + 7);
	want = sampledev_fnv1a(source, LEN);
	sampledev_set(&dev, SAMPLEDEV_REG_BAR2_CSUM_LEN, LEN);
	report(sampledev_reg(&dev, SAMPLEDEV_REG_BAR2_CSUM) == want,
	       "BAR2 written by the guest: the server's checksum %#x matches",
	       want);

	/* The reverse: the server fills BAR2 from guest RAM. */
	for (i = 0; i < LEN; i++)
		source[i] = (u8)(i ^ 0x5a);
	report(sampledev_dma(&dev, SAMPLEDEV_DMA_OP_COPY, (u64)source,
			   SAMPLEDEV_DMA_BAR2 | 0x1000, LEN) == SAMPLEDEV_DMA_DONE,
	       "server copied guest RAM into BAR2");
	for (i = 0; i < LEN; i++)
		if (bar2[0x1000 + i] != (u8)(i ^ 0x5a))
			bad++;
	report(bad == 0, "BAR2 written by the server reads back in the guest (%u bad bytes)",
	       bad);
	return report_summary();
}
