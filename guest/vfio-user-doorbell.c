// SPDX-License-Identifier: MIT
/*
 * vfio-user-doorbell: the test device's ioeventfd doorbells (offered by
 * DEVICE_GET_REGION_IO_FDS) ring its eventfd inside KVM: the server counts
 * the signals (EFD_COUNT) and no REGION_WRITE for them (EFD_TRAPPED). A
 * datamatch doorbell lets other values through as messages. The doorbells
 * follow BAR0 when it moves and are gone while memory decoding is off.
 */
#include "sampledev.h"

#define RINGS 32

static void ring(u64 bar0, u32 reg, u32 val, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		writel(bar0 + reg, val + i);
}

static void check(const struct sampledev *dev, u32 want_count, u32 want_trapped,
		  const char *what)
{
	u32 count = sampledev_reg(dev, SAMPLEDEV_REG_EFD_COUNT);
	u32 trapped = sampledev_reg(dev, SAMPLEDEV_REG_EFD_TRAPPED);

	report(count == want_count && trapped == want_trapped,
	       "%s: %u eventfd signals (want %u), %u by message (want %u)",
	       what, count, want_count, trapped, want_trapped);
}

int main(void)
{
	struct sampledev dev;
	u64 win, win_size, moved;
	u16 cmd;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	check(&dev, 0, 0, "before any ring");
	ring(dev.bar0.addr, SAMPLEDEV_REG_EFD_DOORBELL, 1, RINGS);
	check(&dev, RINGS, 0, "doorbell rung 32 times");
	ring(dev.bar0.addr, SAMPLEDEV_REG_EFD_MATCH, SAMPLEDEV_EFD_MATCH_VALUE, 1);
	ring(dev.bar0.addr, SAMPLEDEV_REG_EFD_MATCH, SAMPLEDEV_EFD_MATCH_VALUE + 1, 3);
	check(&dev, RINGS + 1, 3, "datamatch doorbell: 1 match, 3 other values");

	/* Decoding off: nothing reaches the device, no signal. */
	cmd = pci_read(dev.bdf, PCI_CFG_COMMAND, 2);
	pci_write(dev.bdf, PCI_CFG_COMMAND, 2, cmd & ~0x2);
	ring(dev.bar0.addr, SAMPLEDEV_REG_EFD_DOORBELL, 1, 4);
	pci_write(dev.bdf, PCI_CFG_COMMAND, 2, cmd);
	check(&dev, RINGS + 1, 3, "decoding off: no signal");

	/* BAR0 moved to the top of the 32-bit window: the doorbell follows. */
	if (!pci_window(PCI_WINDOW_MEM32, &win, &win_size)) {
		report(false, "32-bit PCI window known");
		return report_summary();
	}
	moved = win + win_size - SAMPLEDEV_BAR0_SIZE;
	if (moved < dev.bar2.addr + dev.bar2.size && dev.bar2.addr < moved + SAMPLEDEV_BAR0_SIZE)
		moved = dev.bar2.addr - SAMPLEDEV_BAR0_SIZE;
	pci_write(dev.bdf, PCI_CFG_COMMAND, 2, cmd & ~0x2);
	pci_bar_set(dev.bdf, 0, moved);
	pci_write(dev.bdf, PCI_CFG_COMMAND, 2, cmd);
	ring(dev.bar0.addr, SAMPLEDEV_REG_EFD_DOORBELL, 1, 2);	/* old place */
	dev.bar0.addr = moved;
	check(&dev, RINGS + 1, 3, "old BAR0 address: no signal");
	ring(dev.bar0.addr, SAMPLEDEV_REG_EFD_DOORBELL, 1, 5);
	check(&dev, RINGS + 6, 3, "BAR0 moved: doorbell rung 5 times there");
	return report_summary();
}
