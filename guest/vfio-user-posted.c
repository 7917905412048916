// SPDX-License-Identifier: MIT
/*
 * vfio-user-posted: BAR0 writes reach the server whole and in order,
 * posted or not, and a read after them sees them all. Two batches of
 * writes to the SEQ register, each followed by reads of SEQ_HASH and
 * SEQ_COUNT; the server's POSTED_COUNT tells how many of each batch came
 * as NO_REPLY messages, printed as "batch N: P of M writes posted" for the
 * boot test to compare with what the command line asked for.
 */
#include "sampledev.h"

#define BATCH 64

static u32 fold(u32 h, u32 v)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		h = SAMPLEDEV_FNV1A_STEP(h, (v >> (8 * i)) & 0xff);
	return h;
}

static void batch(const struct sampledev *dev, unsigned int n, u32 *hash,
		  u32 *count, u32 seed)
{
	u32 before = sampledev_reg(dev, SAMPLEDEV_REG_POSTED_COUNT);
	u32 v = seed, i, got_hash, got_count, posted;

	for (i = 0; i < BATCH; i++) {
		v = v * 1664525u + 1013904223u;
		sampledev_set(dev, SAMPLEDEV_REG_SEQ, v);
		*hash = fold(*hash, v);
	}
	*count += BATCH;
	/* The reads go behind every write on the socket. */
	got_hash = sampledev_reg(dev, SAMPLEDEV_REG_SEQ_HASH);
	got_count = sampledev_reg(dev, SAMPLEDEV_REG_SEQ_COUNT);
	report(got_hash == *hash && got_count == *count,
	       "batch %u: %u writes arrived in order (hash %#x, want %#x; count %u, want %u)",
	       n, BATCH, got_hash, *hash, got_count, *count);
	/* The reads above are not posted, so they do not count. */
	posted = sampledev_reg(dev, SAMPLEDEV_REG_POSTED_COUNT) - before;
	printf("batch %u: %u of %u writes posted\n", n, posted, BATCH);
}

int main(void)
{
	struct sampledev dev;
	u32 hash = SAMPLEDEV_FNV1A_INIT, count = 0, before;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	report(sampledev_reg(&dev, SAMPLEDEV_REG_SEQ_COUNT) == 0 &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_SEQ_HASH) == SAMPLEDEV_FNV1A_INIT,
	       "SEQ starts empty");
	batch(&dev, 1, &hash, &count, 1);
	batch(&dev, 2, &hash, &count, 2);
	/* Config writes are never posted. */
	before = sampledev_reg(&dev, SAMPLEDEV_REG_POSTED_COUNT);
	pci_write(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4, 0xc0ffee);
	report(pci_read(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4) == 0xc0ffee &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_POSTED_COUNT) == before,
	       "a config space write is not posted");
	return report_summary();
}
