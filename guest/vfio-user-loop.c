// SPDX-License-Identifier: MIT
/*
 * vfio-user-loop: keeps reading BAR0's ID register, for the fault tests
 * that kill or stop the server meanwhile. With on-error=continue the dead
 * device reads all-ones and the program passes; otherwise uvmm stops it.
 */
#include "sampledev.h"

int main(void)
{
	struct sampledev dev;
	u64 reads = 0;
	u32 id;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	printf("vfio-user-loop: reading BAR0 until the device goes away\n");
	do {
		id = sampledev_reg(&dev, SAMPLEDEV_REG_ID);
		reads++;
	} while (id == SAMPLEDEV_ID_MAGIC);
	report(id == 0xffffffff,
	       "BAR0 reads all-ones after the server died (after %lu reads)",
	       reads);
	report(pci_read(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4) == 0xffffffff,
	       "its config space reads all-ones too");
	return report_summary();
}
