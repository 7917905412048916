// SPDX-License-Identifier: MIT
/*
 * ports: reads of unclaimed I/O ports and MMIO addresses return all-ones in
 * every width, writes there are dropped, and the VM keeps running. The
 * sweep runs at CPL3 (IOPL 3 allows port I/O); the ports the VMM's devices
 * claim (COM1, debug-exit, i8042, RTC, PCI conf1, PIC, PIT) are left out,
 * and so is every PCI BAR that enumeration of bus 0 finds.
 *
 * "unclaimed_mmio=zero" on the command line expects zeros from MMIO
 * instead, which is what QEMU returns, so the program can be checked there.
 */
#include "guest.h"

static const u16 unclaimed_ports[] = {
	0x0010, 0x00e0, 0x0100, 0x0200, 0x0278, 0x02f8, 0x0300, 0x0400,
	0x0700, 0x0800, 0x0a00, 0x1000, 0x2000, 0x4000, 0x8000, 0xc000,
	0xd000, 0xe000, 0xfff0,
};

/*
 * In the 3-4 GiB hole, away from ECAM (0xb0000000-0xbfffffff), the IOAPIC
 * (0xfec00000), the local APIC (0xfee00000) and the top 64 KiB (ROM with
 * --bios). Those inside a BAR of the PCI windows are skipped at run time.
 */
static const u64 unclaimed_mmio[] = {
	0xc0000000, 0xc0001000, 0xd0000000, 0xe0000000, 0xf0000000,
	0xf8000000, 0xfbfff000, 0xfed80000, 0xfef00000, 0xff000000,
};

/* What an unclaimed MMIO read returns: all-ones unless told otherwise. */
static u64 mmio_fill = ~0ULL;

#define MAX_BARS 64

/* BARs found on bus 0: [start, end) in port or memory space. */
static struct {
	bool io;
	u64 start;
	u64 end;
} bars[MAX_BARS];
static unsigned int nr_bars;

static int find_bars(void *arg)
{
	u32 bdfs[64];
	unsigned int n, i, index, step;
	struct pci_bar bar;

	(void)arg;
	n = MIN(pci_scan_bus(0, bdfs, ARRAY_SIZE(bdfs)), (unsigned int)ARRAY_SIZE(bdfs));
	for (i = 0; i < n; i++) {
		for (index = 0; index <= 6; index += step) {
			step = pci_bar_probe(bdfs[i], index, &bar);
			if (!bar.type || !bar.addr || nr_bars == MAX_BARS)
				continue;
			bars[nr_bars].io = bar.type == PCI_BAR_IO;
			bars[nr_bars].start = bar.addr;
			bars[nr_bars].end = bar.addr + bar.size;
			nr_bars++;
		}
	}
	return 0;
}

static bool in_bar(bool io, u64 addr, u64 len)
{
	unsigned int i;

	for (i = 0; i < nr_bars; i++)
		if (bars[i].io == io && addr < bars[i].end &&
		    bars[i].start < addr + len)
			return true;
	return false;
}

static bool in_memmap(u64 addr)
{
	unsigned int i;

	for (i = 0; i < boot_memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = boot_memmap(i);

		if (e->addr <= addr && addr < e->addr + e->size)
			return true;
	}
	return false;
}

static int sweep_ports(void *arg)
{
	unsigned int i, bad = 0;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(unclaimed_ports); i++) {
		u16 port = unclaimed_ports[i];
		u8 b;
		u16 w;
		u32 l;
		bool ok;

		if (in_bar(true, port, 4)) {
			report_info("port %#06x is in a PCI BAR: skipped", port);
			continue;
		}
		b = inb(port);
		w = inw(port);
		l = inl(port);

		outb(port, 0x5a);
		outw(port, 0x1234);
		outl(port, 0xdeadbeef);
		ok = b == 0xff && w == 0xffff && l == 0xffffffff &&
		     inb(port) == 0xff && inl(port) == 0xffffffff;
		if (!ok) {
			bad++;
			report_info("port %#06x: inb %#x inw %#x inl %#x", port, b, w, l);
		}
	}
	report(bad == 0, "%u unclaimed ports read all-ones in 1, 2 and 4 bytes, before and after writes (%u wrong)",
	       (unsigned int)ARRAY_SIZE(unclaimed_ports), bad);
	return cpl();
}

static int sweep_mmio(void *arg)
{
	unsigned int i, bad = 0, tried = 0;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(unclaimed_mmio); i++) {
		u64 addr = unclaimed_mmio[i];
		u8 b;
		u16 w;
		u32 l;
		u64 q;
		bool ok;

		if (in_memmap(addr)) {
			report_info("MMIO %#lx is in the memory map: skipped", addr);
			continue;
		}
		if (in_bar(false, addr, 16)) {
			report_info("MMIO %#lx is in a PCI BAR: skipped", addr);
			continue;
		}
		tried++;
		b = readb(addr);
		w = readw(addr + 2);
		l = readl(addr + 4);
		q = readq(addr + 8);
		writeb(addr, 0x5a);
		writel(addr + 4, 0xdeadbeef);
		writeq(addr + 8, 0x0123456789abcdefULL);
		ok = b == (u8)mmio_fill && w == (u16)mmio_fill &&
		     l == (u32)mmio_fill && q == mmio_fill &&
		     readl(addr + 4) == (u32)mmio_fill && readq(addr + 8) == mmio_fill;
		if (!ok) {
			bad++;
			report_info("MMIO %#lx: b %#x w %#x l %#x q %#lx", addr, b, w, l, q);
		}
	}
	report(tried > 0 && bad == 0,
	       "%u unclaimed MMIO addresses read %s in 1, 2, 4 and 8 bytes, before and after writes (%u wrong)",
	       tried, mmio_fill ? "all-ones" : "zeros", bad);
	return cpl();
}

int main(void)
{
	char val[16];

	if (cmdline_param("unclaimed_mmio", val, sizeof(val)) && !strcmp(val, "zero"))
		mmio_fill = 0;
	run_user(find_bars, NULL);
	report_info("%u PCI BARs on bus 0 are left out of the sweeps", nr_bars);
	report(run_user(sweep_ports, NULL) == 3, "port sweep ran at CPL3");
	report(run_user(sweep_mmio, NULL) == 3, "MMIO sweep ran at CPL3");
	/* and once at CPL0, where the emulator does the I/O */
	report(inb(0x0100) == 0xff && inl(0x2000) == 0xffffffff,
	       "unclaimed ports read all-ones at CPL0");
	report(readl(0xd0000000) == (u32)mmio_fill,
	       "unclaimed MMIO reads %s at CPL0", mmio_fill ? "all-ones" : "zeros");
	report(true, "still running after the sweeps");
	return report_summary();
}
