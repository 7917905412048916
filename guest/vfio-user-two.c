// SPDX-License-Identifier: MIT
/* vfio-user-two: two servers, two slots, two sets of BARs, no crosstalk. */
#include "testdev.h"

int main(void)
{
	struct testdev a, b;

	if (!testdev_find(0, &a) || !testdev_find(1, &b)) {
		report(false, "two testdevs found on bus 0");
		return report_summary();
	}
	report(PCI_BDF_DEV(a.bdf) != PCI_BDF_DEV(b.bdf) &&
	       a.bar0.addr != b.bar0.addr && a.bar2.addr != b.bar2.addr,
	       "two devices in slots %u and %u with their own BARs",
	       PCI_BDF_DEV(a.bdf), PCI_BDF_DEV(b.bdf));
	testdev_set(&a, TESTDEV_REG_SCRATCH, 0xaaaa0001);
	testdev_set(&b, TESTDEV_REG_SCRATCH, 0xbbbb0002);
	*(volatile u32 *)a.bar2.addr = 0x11111111;
	*(volatile u32 *)b.bar2.addr = 0x22222222;
	report(testdev_reg(&a, TESTDEV_REG_SCRATCH) == 0xaaaa0001 &&
	       testdev_reg(&b, TESTDEV_REG_SCRATCH) == 0xbbbb0002,
	       "each server keeps its own registers");
	report(*(volatile u32 *)a.bar2.addr == 0x11111111 &&
	       *(volatile u32 *)b.bar2.addr == 0x22222222,
	       "each BAR2 maps its own server's memory");
	return report_summary();
}
