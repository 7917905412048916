// SPDX-License-Identifier: MIT
/*
 * vfio-user-reset: uvmm resets the device when it attaches it (a fresh
 * device for a fresh VM): the guest finds RESET_COUNT at 1 and every
 * register at its power-on value.
 */
#include "testdev.h"

int main(void)
{
	struct testdev dev;

	if (!testdev_find(0, &dev)) {
		report(false, "testdev found on bus 0");
		return report_summary();
	}
	report(testdev_reg(&dev, TESTDEV_REG_RESET_COUNT) == 1,
	       "the device was reset once, when uvmm attached it (count %u)",
	       testdev_reg(&dev, TESTDEV_REG_RESET_COUNT));
	report(testdev_reg(&dev, TESTDEV_REG_SCRATCH) == 0 &&
	       testdev_reg(&dev, TESTDEV_REG_DMA_COUNT) == 0 &&
	       testdev_reg(&dev, TESTDEV_REG_INTX_STATUS) == 0,
	       "registers at their power-on values after the reset");
	return report_summary();
}
