// SPDX-License-Identifier: MIT
/*
 * PCI configuration access for firmware: conf1 through ports 0xcf8/0xcfc
 * and ECAM at the address the device tree gives, BAR sizing and the
 * capability list. All of it works at CPL3 (IOPL 3, user-mapped MMIO).
 */
#include "runtime.h"
#include "abi/machine.h"

#define CONF1_ADDRESS	PCI_CONF1_ADDRESS_PORT
#define CONF1_DATA	PCI_CONF1_DATA_PORT
#define CONF1_ENABLE	0x80000000u
#define CAP_WALK_MAX	48

static bool initialised;
static u64 ecam_base;
static unsigned int ecam_bus_start, ecam_bus_end;
static struct {
	bool found;
	u64 base;
	u64 size;
} windows[3];

/* ranges: <phys.hi phys.mid phys.lo  parent (#address-cells)  size (2)> */
static void read_windows(int node)
{
	u32 len = 0, parent_cells, i, entry;
	const u8 *p = dt_prop(node, "ranges", &len);

	parent_cells = dt_address_cells(dt_parent(node));
	if (!p || parent_cells < 1 || parent_cells > 2)
		return;
	entry = 4 * (3 + parent_cells + 2);
	for (i = 0; i + entry <= len; i += entry) {
		u32 space = (dt_be32(p + i) >> 24) & 3;
		unsigned int kind;

		switch (space) {
		case 1:
			kind = PCI_WINDOW_IO;
			break;
		case 2:
			kind = PCI_WINDOW_MEM32;
			break;
		case 3:
			kind = PCI_WINDOW_MEM64;
			break;
		default:
			continue;
		}
		windows[kind].found = true;
		/* The CPU's address (the parent's), which is what we use. */
		windows[kind].base = dt_cells(p + i + 12, parent_cells);
		windows[kind].size = dt_cells(p + i + 12 + 4 * parent_cells, 2);
	}
}

bool pci_init(void)
{
	u32 len = 0;
	const u8 *range;
	u64 size;
	int node;

	if (initialised)
		return ecam_base != 0;
	initialised = true;
	if (!dt_ready() && !dt_init_boot())
		return false;
	node = dt_find_compatible(-1, "pci-host-ecam-generic");
	if (node < 0 || !dt_reg(node, 0, &ecam_base, &size)) {
		ecam_base = 0;
		return false;
	}
	ecam_bus_start = 0;
	ecam_bus_end = size / MiB ? size / MiB - 1 : 0;
	range = dt_prop(node, "bus-range", &len);
	if (range && len == 8) {
		ecam_bus_start = dt_be32(range);
		ecam_bus_end = MIN((u32)dt_be32(range + 4), ecam_bus_end);
	}
	read_windows(node);
	return true;
}

u64 pci_ecam_base(void)
{
	pci_init();
	return ecam_base;
}

bool pci_window(unsigned int kind, u64 *base, u64 *size)
{
	pci_init();
	if (kind > PCI_WINDOW_MEM64 || !windows[kind].found)
		return false;
	*base = windows[kind].base;
	*size = windows[kind].size;
	return true;
}

static u32 ones(u32 len)
{
	return len >= 4 ? ~0u : (1u << (8 * len)) - 1;
}

static bool valid(u32 off, u32 len)
{
	return (len == 1 || len == 2 || len == 4) && off < 4096 &&
	       (off & 3) + len <= 4;
}

u32 pci_conf1_read(u32 bdf, u32 off, u32 len)
{
	u16 port = CONF1_DATA + (off & 3);

	if (!valid(off, len) || off >= 256)
		return ones(len);
	outl(CONF1_ADDRESS, CONF1_ENABLE | bdf << 8 | (off & 0xfc));
	if (len == 1)
		return inb(port);
	if (len == 2)
		return inw(port);
	return inl(port);
}

void pci_conf1_write(u32 bdf, u32 off, u32 len, u32 val)
{
	u16 port = CONF1_DATA + (off & 3);

	if (!valid(off, len) || off >= 256)
		return;
	outl(CONF1_ADDRESS, CONF1_ENABLE | bdf << 8 | (off & 0xfc));
	if (len == 1)
		outb(port, val);
	else if (len == 2)
		outw(port, val);
	else
		outl(port, val);
}

/* The ECAM address of (bdf, off), or 0 when ECAM does not reach it. */
static u64 ecam_addr(u32 bdf, u32 off, u32 len)
{
	unsigned int bus = PCI_BDF_BUS(bdf);

	if (!pci_init() || !valid(off, len) || bus < ecam_bus_start ||
	    bus > ecam_bus_end)
		return 0;
	return ecam_base + ((u64)(bus - ecam_bus_start) << 20) +
	       ((u64)(bdf & 0xff) << 12) + off;
}

u32 pci_ecam_read(u32 bdf, u32 off, u32 len)
{
	u64 addr = ecam_addr(bdf, off, len);

	if (!addr)
		return ones(len);
	if (len == 1)
		return readb(addr);
	if (len == 2)
		return readw(addr);
	return readl(addr);
}

void pci_ecam_write(u32 bdf, u32 off, u32 len, u32 val)
{
	u64 addr = ecam_addr(bdf, off, len);

	if (!addr)
		return;
	if (len == 1)
		writeb(addr, val);
	else if (len == 2)
		writew(addr, val);
	else
		writel(addr, val);
}

u32 pci_read(u32 bdf, u32 off, u32 len)
{
	return pci_init() ? pci_ecam_read(bdf, off, len) :
			    pci_conf1_read(bdf, off, len);
}

void pci_write(u32 bdf, u32 off, u32 len, u32 val)
{
	if (pci_init())
		pci_ecam_write(bdf, off, len, val);
	else
		pci_conf1_write(bdf, off, len, val);
}

unsigned int pci_scan_bus(unsigned int bus, u32 *bdfs, unsigned int max)
{
	unsigned int dev, fn, n = 0, fns;

	for (dev = 0; dev < 32; dev++) {
		if (pci_read(PCI_BDF(bus, dev, 0), PCI_CFG_VENDOR, 2) == 0xffff)
			continue;
		fns = pci_read(PCI_BDF(bus, dev, 0), PCI_CFG_HEADER_TYPE, 1) &
		      0x80 ? 8 : 1;
		for (fn = 0; fn < fns; fn++) {
			u32 bdf = PCI_BDF(bus, dev, fn);

			if (pci_read(bdf, PCI_CFG_VENDOR, 2) == 0xffff)
				continue;
			if (n < max)
				bdfs[n] = bdf;
			n++;
		}
	}
	return n;
}

bool pci_find_class(unsigned int bus, u32 class, u32 *bdf)
{
	u32 bdfs[256];
	unsigned int n, i;

	n = MIN(pci_scan_bus(bus, bdfs, 256), 256u);
	for (i = 0; i < n; i++) {
		if ((pci_read(bdfs[i], PCI_CFG_CLASS_REV, 4) >> 8) == class) {
			*bdf = bdfs[i];
			return true;
		}
	}
	return false;
}

u8 pci_find_cap(u32 bdf, u8 id)
{
	unsigned int steps;
	u8 at;

	if (!(pci_read(bdf, PCI_CFG_STATUS, 2) & PCI_STATUS_CAPS))
		return 0;
	at = pci_read(bdf, PCI_CFG_CAP_PTR, 1) & ~3;
	for (steps = 0; at >= 0x40 && steps < CAP_WALK_MAX; steps++) {
		if (pci_read(bdf, at, 1) == id)
			return at;
		at = pci_read(bdf, at + 1, 1) & ~3;
	}
	return 0;
}

static u32 bar_off(unsigned int index)
{
	return index == 6 ? PCI_CFG_ROM : PCI_CFG_BAR0 + 4 * index;
}

unsigned int pci_bar_probe(u32 bdf, unsigned int index, struct pci_bar *bar)
{
	u32 off = bar_off(index), lo, mask, hi = 0, hi_mask = 0;
	u16 cmd = pci_read(bdf, PCI_CFG_COMMAND, 2);
	u64 full;

	memset(bar, 0, sizeof(*bar));
	if (index > 6)
		return 1;
	lo = pci_read(bdf, off, 4);
	/* Decode off while the BAR holds the all-ones pattern. */
	pci_write(bdf, PCI_CFG_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	pci_write(bdf, off, 4, index == 6 ? 0xfffff800 : 0xffffffff);
	mask = pci_read(bdf, off, 4);
	pci_write(bdf, off, 4, lo);
	if (index < 5 && !(lo & 1) && ((lo >> 1) & 3) == 2) {
		hi = pci_read(bdf, off + 4, 4);
		pci_write(bdf, off + 4, 4, 0xffffffff);
		hi_mask = pci_read(bdf, off + 4, 4);
		pci_write(bdf, off + 4, 4, hi);
	}
	pci_write(bdf, PCI_CFG_COMMAND, 2, cmd);

	if (index == 6) {
		mask &= 0xfffff800;
		if (!mask)
			return 1;
		bar->type = PCI_BAR_MEM32;
		bar->addr = lo & 0xfffff800;
		bar->size = (u32)(~mask + 1);
		return 1;
	}
	if (lo & 1) {
		mask &= ~3u;
		if (!mask)
			return 1;
		bar->type = PCI_BAR_IO;
		bar->addr = lo & ~3u;
		/* I/O BARs may implement only the low 16 bits */
		bar->size = (u32)(~(mask | 0xffff0000u) + 1) & 0xffff;
		return 1;
	}
	bar->prefetchable = lo & 8;
	if (((lo >> 1) & 3) == 2) {
		full = ((u64)hi_mask << 32 | (mask & ~0xfu));
		if (!full)
			return 2;
		bar->type = PCI_BAR_MEM64;
		bar->addr = ((u64)hi << 32) | (lo & ~0xfu);
		bar->size = ~full + 1;
		return 2;
	}
	mask &= ~0xfu;
	if (!mask)
		return 1;
	bar->type = PCI_BAR_MEM32;
	bar->addr = lo & ~0xfu;
	bar->size = (u32)(~mask + 1);
	return 1;
}

void pci_bar_set(u32 bdf, unsigned int index, u64 addr)
{
	u32 off = bar_off(index), lo = pci_read(bdf, off, 4);

	if (index == 6) {
		pci_write(bdf, off, 4, (u32)addr | (lo & 1));
		return;
	}
	pci_write(bdf, off, 4, (u32)addr | (lo & ((lo & 1) ? 3 : 0xf)));
	if (!(lo & 1) && ((lo >> 1) & 3) == 2 && index < 5)
		pci_write(bdf, off + 4, 4, addr >> 32);
}
