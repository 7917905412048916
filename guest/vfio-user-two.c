// SPDX-License-Identifier: MIT
/* vfio-user-two: two servers, two slots, two sets of BARs, no crosstalk. */
#include "sampledev.h"

int main(void)
{
	struct sampledev a, b;

	if (!sampledev_find(0, &a) || !sampledev_find(1, &b)) {
		report(false, "two sampledevs found on bus 0");
		return report_summary();
	}
	report(PCI_BDF_DEV(a.bdf) != PCI_BDF_DEV(b.bdf) &&
	       a.bar0.addr != b.bar0.addr && a.bar2.addr != b.bar2.addr,
	       "two devices in slots %u and %u with their own BARs",
	       PCI_BDF_DEV(a.bdf), PCI_BDF_DEV(b.bdf));
	sampledev_set(&a, SAMPLEDEV_REG_SCRATCH, 0xaaaa0001);
	sampledev_set(&b, SAMPLEDEV_REG_SCRATCH, 0xbbbb0002);
	*(volatile u32 *)a.bar2.addr = 0x11111111;
	*(volatile u32 *)b.bar2.addr = 0x22222222;
	report(sampledev_reg(&a, SAMPLEDEV_REG_SCRATCH) == 0xaaaa0001 &&
	       sampledev_reg(&b, SAMPLEDEV_REG_SCRATCH) == 0xbbbb0002,
	       "each server keeps its own registers");
	report(*(volatile u32 *)a.bar2.addr == 0x11111111 &&
	       *(volatile u32 *)b.bar2.addr == 0x22222222,
	       "each BAR2 maps its own server's memory");
	return report_summary();
}
