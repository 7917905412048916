// SPDX-License-Identifier: MIT
/*
 * vfio-user-reset: uvmm resets the device when it attaches it (a fresh
 * device for a fresh VM): the guest finds RESET_COUNT at 1 and every
 * register at its power-on value.
 */
#include "sampledev.h"

int main(void)
{
	struct sampledev dev;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	report(sampledev_reg(&dev, SAMPLEDEV_REG_RESET_COUNT) == 1,
	       "the device was reset once, when uvmm attached it (count %u)",
	       sampledev_reg(&dev, SAMPLEDEV_REG_RESET_COUNT));
	report(sampledev_reg(&dev, SAMPLEDEV_REG_SCRATCH) == 0 &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_DMA_COUNT) == 0 &&
	       sampledev_reg(&dev, SAMPLEDEV_REG_INTX_STATUS) == 0,
	       "registers at their power-on values after the reset");
	return report_summary();
}
