// SPDX-License-Identifier: MIT
/*
 * hostile: a guest that does what a broken or malicious driver would, so
 * that a test can check uvmm (and a vfio-user server behind it) lives
 * through it:
 *  - every I/O port 0-0xffff read and written in 1, 2 and 4 bytes;
 *  - reads and writes all over the MMIO holes: above RAM, ECAM (absent
 *    functions on bus 0, every device of buses 1-255), the 32-bit and
 *    64-bit PCI windows, the rest of the hole below 4 GiB;
 *  - garbage in every config register of every function on bus 0
 *    (the host bridge, the built-in test function, vfio-user functions);
 *  - BARs moved over RAM, over each other, over the LAPIC, the IOAPIC,
 *    ECAM, COM1 and conf1, and past the end of their address space;
 *  - MSI-X and MSI enabled with garbage messages, interrupts raised;
 *  - with a vfio-user device: INTx disabled and enabled again through
 *    1-byte writes of the command register, which the server must hear
 *    of to hold the line back.
 * After each part it puts back what it needs to go on (the console, the
 * 8259s and the PIT, every function's header) and checks that the
 * devices still work: a final MSI-X interrupt from each device must
 * arrive.
 *
 * What it never does (see port_write_skipped() and aim_away()): write
 * the debug-exit port or pulse the i8042's reset line, which end the VM
 * by design; write COM1's transmit register, whose bytes would land in
 * the output the test reads; aim a garbage interrupt message at its own
 * CPU, where an NMI, INIT or SMI would wreck the guest, not uvmm.
 *
 * The sweeps run at CPL3 with IOPL 3: CPL0 code is emulated instruction
 * by instruction on software KVM. "INFO: ... took N ms" lines time each
 * part (TSC calibrated against the local APIC timer).
 */
#include "sampledev.h"
#include "abi/machine.h"
#include "abi/pci_testdev.h"

#define MAX_FNS			32

/* Platform ports (uvmm's devices/, KVM's in-kernel PIC and PIT). */
#define PIC1_CMD		0x20
#define PIC1_DATA		0x21
#define PIC2_CMD		0xa0
#define PIC2_DATA		0xa1
#define PIC_ELCR1		0x4d0
#define PIC_ELCR2		0x4d1
#define PIT_CH0			0x40
#define PIT_CMD			0x43
#define I8042_CMD		I8042_COMMAND_PORT
#define DEBUG_EXIT_SIZE		DEBUG_EXIT_PORT_SIZE
#define COM1			UART_COM1_BASE
#define CONF1_ADDRESS		PCI_CONF1_ADDRESS_PORT

/* Local APIC registers (xAPIC MMIO). */
#define LAPIC_VERSION		0x030
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CUR		0x390
#define LAPIC_TIMER_DIV		0x3e0
#define LAPIC_MASKED		0x10000
#define LAPIC_TICKS_PER_MS	62500u	/* KVM's 1 GHz bus, divided by 16 */

/* KVM's TSS and identity-map pages (vmm/vm.c): KVM's memory on Intel. */
#define KVM_PRIVATE_START	0xfffbc000ULL
#define KVM_PRIVATE_END		0xfffc0000ULL

#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSI_CTRL_ENABLE		0x0001
#define MSI_CTRL_64BIT		0x0080
#define MSI_CTRL_MASKBIT	0x0100

#define VEC_CHECK		0x60	/* the interrupt each device must still deliver */
#define VEC_INTX		0x61
#define IRQ_MS			2000
#define NO_IRQ_MS		200	/* how long "no interrupt came" waits */

struct fn {
	u32 bdf;
	u16 vendor;
	u16 device;
	bool builtin;		/* uvmm's test function, 1234:7e57 */
	bool vfu;		/* tests/servers/sampledev behind vfio-user */
	u8 msi_cap;
	u8 msix_cap;
	struct pci_bar bars[7];
	u32 saved[64];		/* the first 256 bytes as found */
};

static struct fn fns[MAX_FNS];
static unsigned int nr_fns;
static u8 apic;
static u64 tsc_per_ms;
static u64 phase_start;

static u32 ones(unsigned int width)
{
	return width >= 4 ? ~0u : (1u << (8 * width)) - 1;
}

/* Deterministic garbage: a multiplicative hash of the seed. */
static u32 garbage32(u32 seed)
{
	seed *= 0x9e3779b1u;
	return seed ^ (seed >> 15);
}

static u32 port_in(u16 port, unsigned int width)
{
	if (width == 1)
		return inb(port);
	if (width == 2)
		return inw(port);
	return inl(port);
}

static void port_out(u16 port, unsigned int width, u32 val)
{
	if (width == 1)
		outb(port, val);
	else if (width == 2)
		outw(port, val);
	else
		outl(port, val);
}

/* ---- timing ---------------------------------------------------------------- */

static int calibrate_tsc(void *arg)
{
	u64 t0, t1;
	u32 c0, c1, spins = 0;

	(void)arg;
	writel(LAPIC_BASE + LAPIC_TIMER_DIV, 3);	/* divide by 16 */
	writel(LAPIC_BASE + LAPIC_LVT_TIMER, LAPIC_MASKED | TIMER_VECTOR);
	writel(LAPIC_BASE + LAPIC_TIMER_INIT, 0xffffffff);
	c0 = readl(LAPIC_BASE + LAPIC_TIMER_CUR);
	t0 = rdtsc();
	do {
		c1 = readl(LAPIC_BASE + LAPIC_TIMER_CUR);
	} while (c0 - c1 < 20 * LAPIC_TICKS_PER_MS && ++spins < 1000000);
	t1 = rdtsc();
	writel(LAPIC_BASE + LAPIC_TIMER_INIT, 0);
	/* A timer that does not count leaves the parts untimed. */
	if (c0 != c1)
		tsc_per_ms = (t1 - t0) * LAPIC_TICKS_PER_MS / (c0 - c1);
	return 0;
}

static void phase_begin(void)
{
	phase_start = rdtsc();
}

static void phase_end(const char *what)
{
	if (tsc_per_ms)
		report_info("%s took %lu ms", what,
			    (rdtsc() - phase_start) / tsc_per_ms);
}

/* ---- the functions on bus 0 ------------------------------------------------ */

static int enumerate(void *arg)
{
	u32 bdfs[MAX_FNS];
	unsigned int n, i, index, step, off;

	(void)arg;
	n = MIN(pci_scan_bus(0, bdfs, MAX_FNS), (unsigned int)MAX_FNS);
	for (i = 0; i < n; i++) {
		struct fn *f = &fns[nr_fns++];

		f->bdf = bdfs[i];
		f->vendor = pci_read(f->bdf, PCI_CFG_VENDOR, 2);
		f->device = pci_read(f->bdf, PCI_CFG_DEVICE, 2);
		f->builtin = f->vendor == PCI_TESTDEV_VENDOR_ID &&
			     f->device == PCI_TESTDEV_DEVICE_ID;
		f->vfu = f->vendor == SAMPLEDEV_VENDOR_ID &&
			 f->device == SAMPLEDEV_DEVICE_ID;
		f->msi_cap = pci_find_cap(f->bdf, PCI_CAP_MSI);
		f->msix_cap = pci_find_cap(f->bdf, PCI_CAP_MSIX);
		for (index = 0; index <= 6; index += step)
			step = pci_bar_probe(f->bdf, index, &f->bars[index]);
		/* The test devices need memory decoding and bus mastering. */
		if (f->builtin || f->vfu)
			pci_write(f->bdf, PCI_CFG_COMMAND, 2,
				  pci_read(f->bdf, PCI_CFG_COMMAND, 2) |
				  PCI_CMD_MEM | PCI_CMD_MASTER);
		for (off = 0; off < 256; off += 4)
			f->saved[off / 4] = pci_read(f->bdf, off, 4);
	}
	return 0;
}

static struct fn *find_fn(bool vfu)
{
	unsigned int i;

	for (i = 0; i < nr_fns; i++)
		if (vfu ? fns[i].vfu : fns[i].builtin)
			return &fns[i];
	return NULL;
}

/*
 * Put the header and capabilities back as enumeration found them: decode
 * off while the BARs go back, the command register last. Every dword of
 * the first 256 bytes is written; read-only bits ignore it.
 */
static void restore_fn(const struct fn *f)
{
	unsigned int off;

	pci_write(f->bdf, PCI_CFG_COMMAND, 2, 0);
	for (off = 0x08; off < 256; off += 4)
		pci_write(f->bdf, off, 4, f->saved[off / 4]);
	pci_write(f->bdf, PCI_CFG_COMMAND, 2, f->saved[1] & 0xffff);
}

/* The header (status aside) reads as saved. */
static bool fn_intact(const struct fn *f)
{
	unsigned int off;

	if (pci_read(f->bdf, PCI_CFG_COMMAND, 2) != (f->saved[1] & 0xffff))
		return false;
	for (off = 0x08; off < 0x40; off += 4)
		if (pci_read(f->bdf, off, 4) != f->saved[off / 4])
			return false;
	return pci_read(f->bdf, 0, 4) == f->saved[0];
}

/* Each test device answers its ID and its scratch register works. */
static bool devices_work(void)
{
	struct fn *b = find_fn(false), *v = find_fn(true);
	bool ok = true;
	u32 old;

	if (b) {
		ok &= readl(b->bars[PCI_TESTDEV_BAR_REGS].addr) == PCI_TESTDEV_MAGIC;
		ok &= inl(b->bars[PCI_TESTDEV_BAR_IO].addr) == PCI_TESTDEV_MAGIC;
		ok &= readl(b->bars[PCI_TESTDEV_BAR_MEM64].addr) == PCI_TESTDEV_MAGIC;
		old = readl(b->bars[0].addr + PCI_TESTDEV_REG_SCRATCH);
		writel(b->bars[0].addr + PCI_TESTDEV_REG_SCRATCH, ~old);
		ok &= readl(b->bars[0].addr + PCI_TESTDEV_REG_SCRATCH) == ~old;
	}
	if (v) {
		ok &= readl(v->bars[0].addr + SAMPLEDEV_REG_ID) == SAMPLEDEV_ID_MAGIC;
		old = readl(v->bars[0].addr + SAMPLEDEV_REG_SCRATCH);
		writel(v->bars[0].addr + SAMPLEDEV_REG_SCRATCH, ~old);
		ok &= readl(v->bars[0].addr + SAMPLEDEV_REG_SCRATCH) == ~old;
	}
	return ok;
}

static bool all_fns_intact(void)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < nr_fns; i++) {
		if (!fn_intact(&fns[i])) {
			report_info("%02x:%02x.%u: header differs from the saved one",
				    PCI_BDF_BUS(fns[i].bdf), PCI_BDF_DEV(fns[i].bdf),
				    PCI_BDF_FN(fns[i].bdf));
			ok = false;
		}
	}
	return ok;
}

/* ---- I/O ports -------------------------------------------------------------- */

/*
 * The i8042 resets the machine on command 0xfe and on any other command
 * 0xf0-0xff that pulses output line 0 (even values); 0xd1 arms a write
 * of the output port whose next data byte may clear the reset bit.
 */
static bool i8042_resets(u8 cmd)
{
	return ((cmd & 0xf0) == 0xf0 && !(cmd & 1)) || cmd == 0xd1;
}

/*
 * The writes the sweep leaves out, and why (NULL: none):
 *  - debug-exit (0xf4-0xf7): any write ends the VM with a status made from
 *    the value; that is the port's purpose. Conservative: also a write
 *    that only overlaps it (uvmm ignores those, another VMM may not).
 *  - the i8042 command port with a reset command (see i8042_resets()):
 *    uvmm ends the VM on a guest reset, as it should.
 *  - COM1's THR (0x3f8, any width: the UART takes the low byte): the byte
 *    goes to the console, which is the output the test checks; garbage
 *    there could break a PASS line. COM1's other registers do get garbage
 *    (restore_platform() sets the UART up again).
 * 0xcf9 (reset control) and 0x92 (fast reset) are not implemented by
 * uvmm: they are swept like any port.
 */
static const char *port_write_skipped(u32 port, unsigned int width, u32 val)
{
	if (port < DEBUG_EXIT_PORT + DEBUG_EXIT_SIZE &&
	    DEBUG_EXIT_PORT < port + width)
		return "debug-exit";
	if (port == I8042_CMD && width == 1 && i8042_resets(val))
		return "i8042 reset";
	if (port == COM1)
		return "COM1 THR";
	return NULL;
}

struct port_stats {
	u64 reads;
	u64 writes;
	u64 skipped;
	u64 answered[5];	/* by width: reads that were not all-ones */
};

static int sweep_ports(void *arg)
{
	struct port_stats *s = arg;
	unsigned int width;
	u32 port, val;

	for (width = 1; width <= 4; width *= 2) {
		for (port = 0; port <= 0xffff; port++) {
			if (port_in(port, width) != ones(width))
				s->answered[width]++;
			s->reads++;
			val = garbage32(port << 3 | width);
			if (port_write_skipped(port, width, val)) {
				s->skipped++;
				continue;
			}
			port_out(port, width, val);
			s->writes++;
		}
	}
	return 0;
}

/* Every i8042 command but the resets, each followed by a data byte. */
static int i8042_commands(void *arg)
{
	unsigned int cmd;

	(void)arg;
	for (cmd = 0; cmd < 256; cmd++) {
		if (i8042_resets(cmd))
			continue;
		outb(I8042_CMD, cmd);
		(void)inb(0x60);
		outb(0x60, 0x01 | cmd);	/* bit 0 set: never a reset */
		(void)inb(I8042_CMD);
	}
	return 0;
}

/*
 * The sweep left the 8259s, the PIT, the UART and conf1 in whatever state
 * its garbage made: set them up as the runtime had them. The 8259s
 * are re-initialised (which drops their pending requests) and fully
 * masked; the PIT goes to one-shot mode so no periodic timer keeps
 * firing; COM1 as console.c sets it up.
 */
static int restore_platform(void *arg)
{
	(void)arg;
	outb(PIC1_CMD, 0x11);
	outb(PIC1_DATA, 0x20);
	outb(PIC1_DATA, 0x04);
	outb(PIC1_DATA, 0x01);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_CMD, 0x11);
	outb(PIC2_DATA, 0x28);
	outb(PIC2_DATA, 0x02);
	outb(PIC2_DATA, 0x01);
	outb(PIC2_DATA, 0xff);
	outb(PIC_ELCR1, 0);
	outb(PIC_ELCR2, 0);
	outb(PIT_CMD, 0x30);		/* channel 0, lobyte/hibyte, mode 0 */
	outb(PIT_CH0, 0xff);
	outb(PIT_CH0, 0xff);
	outb(COM1 + 1, 0);		/* IER */
	outb(COM1 + 3, 0x80);		/* LCR: DLAB */
	outb(COM1 + 0, 1);		/* 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + 3, 0x03);		/* 8N1 */
	outb(COM1 + 2, 0x07);		/* FIFO on, both cleared */
	outb(COM1 + 4, 0x03);		/* DTR, RTS; no loopback */
	(void)inb(COM1 + 5);
	(void)inb(COM1 + 6);
	outl(CONF1_ADDRESS, 0);
	return 0;
}

static void restore_all_fns(void)
{
	unsigned int i;

	for (i = 0; i < nr_fns; i++)
		restore_fn(&fns[i]);
}

static int restore_all_fns_user(void *arg)
{
	(void)arg;
	restore_all_fns();
	return 0;
}

static int check_fns_user(void *arg)
{
	(void)arg;
	return all_fns_intact() && devices_work();
}

static void test_ports(void)
{
	struct port_stats s = { 0 };

	report_prefix_push("ports");
	phase_begin();
	run_user(sweep_ports, &s);
	run_user(i8042_commands, NULL);
	run_user(restore_platform, NULL);
	phase_end("port sweep");
	report_info("%lu reads, %lu writes, %lu writes left out; ports answering: %lu (1 byte), %lu (2), %lu (4)",
		    s.reads, s.writes, s.skipped, s.answered[1], s.answered[2],
		    s.answered[4]);
	report(s.reads == 3 * 65536 && s.writes + s.skipped == 3 * 65536,
	       "every port 0-0xffff read and written in 1, 2 and 4 bytes");
	/* conf1 garbage may have reached a function: put them all back. */
	run_user(restore_all_fns_user, NULL);
	report(run_user(check_fns_user, NULL),
	       "PCI headers restored, the test devices answer");
	report_prefix_pop();
}

/* ---- MMIO ------------------------------------------------------------------- */

struct mmio_stats {
	u64 accesses;
	u64 wrong;		/* reads that were not all-ones */
	u64 first_wrong;
	unsigned int k;		/* rotates widths and offsets */
};

static bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * [addr, addr + len) holds something: RAM or a reserved range of the
 * memory map, a BAR, a present function's ECAM page, the LAPIC or IOAPIC
 * (in KVM; garbage in the LAPIC's ICR could INIT our own CPU), KVM's
 * private pages.
 */
static bool mmio_in_use(u64 addr, u64 len)
{
	unsigned int i, j;
	u64 ecam = pci_ecam_base();

	for (i = 0; i < boot_memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = boot_memmap(i);

		if (ranges_overlap(addr, len, e->addr, e->size))
			return true;
	}
	for (i = 0; i < nr_fns; i++) {
		for (j = 0; j <= 6; j++) {
			const struct pci_bar *b = &fns[i].bars[j];

			if (b->type && b->type != PCI_BAR_IO &&
			    ranges_overlap(addr, len, b->addr, b->size))
				return true;
		}
		if (ranges_overlap(addr, len, ecam + ((u64)fns[i].bdf << 12),
				   4096))
			return true;
	}
	return ranges_overlap(addr, len, LAPIC_BASE, 4096) ||
	       ranges_overlap(addr, len, IOAPIC_BASE, 4096) ||
	       ranges_overlap(addr, len, KVM_PRIVATE_START,
			      KVM_PRIVATE_END - KVM_PRIVATE_START);
}

/* A read (must be all-ones: nothing is there) and a garbage write. */
static void mmio_poke(struct mmio_stats *s, u64 addr, unsigned int width)
{
	u64 val = (u64)garbage32(addr) << 32 | garbage32(addr >> 32 ^ width);
	u64 got;

	switch (width) {
	case 1:
		got = readb(addr) ^ 0xff;
		writeb(addr, val);
		break;
	case 2:
		got = readw(addr) ^ 0xffff;
		writew(addr, val);
		break;
	case 4:
		got = readl(addr) ^ 0xffffffffu;
		writel(addr, val);
		break;
	default:
		got = ~readq(addr);
		writeq(addr, val);
		break;
	}
	s->accesses += 2;
	if (got && !s->wrong++)
		s->first_wrong = addr;
}

/*
 * One access every step through [start, end): widths 1, 2, 4, 8 in turn
 * at offsets that wander through the first 4 KiB of the step, misaligned
 * ones too. cross: every 16th access straddles a page boundary (KVM
 * splits it in two).
 */
static void mmio_sweep(struct mmio_stats *s, u64 start, u64 end, u64 step,
		       bool cross)
{
	u64 base, addr, span = MIN(step, 4096ULL);
	unsigned int width;
	u64 off;

	for (base = start; base < end && base >= start; base += step) {
		s->k++;
		width = 1u << (s->k & 3);
		off = (s->k * 0x3d7ULL) % span;
		if (cross && step > 4096 && !(s->k & 15)) {
			off = 0xffd;
			width = 8;
		} else if (off + width > span) {
			off = span - width;
		}
		addr = base + off;
		if (addr + width > end || mmio_in_use(addr, width))
			continue;
		mmio_poke(s, addr, width);
	}
}

struct mmio_areas {
	u64 ram_end;		/* end of RAM below 4 GiB */
	u64 win32, win32_size;
	u64 win64, win64_size;
	struct mmio_stats hole, ecam, win32s, top, win64s;
};

static int sweep_mmio(void *arg)
{
	struct mmio_areas *a = arg;
	u64 ecam = pci_ecam_base();
	unsigned int bus, devfn;

	mmio_sweep(&a->hole, ALIGN_UP(a->ram_end, MiB), ecam, MiB, true);
	/* bus 0: every absent function, four accesses each */
	for (devfn = 0; devfn < 256; devfn++) {
		u64 page = ecam + ((u64)devfn << 12);

		mmio_sweep(&a->ecam, page, page + 4096, 1024, false);
	}
	/* buses 1-255: function 0 of every device */
	for (bus = 1; bus < 256; bus++)
		mmio_sweep(&a->ecam, ecam + ((u64)bus << 20),
			   ecam + ((u64)(bus + 1) << 20), 32 * KiB, false);
	mmio_sweep(&a->win32s, a->win32, a->win32 + a->win32_size, 64 * KiB,
		   false);
	mmio_sweep(&a->top, a->win32 + a->win32_size, 4 * GiB, 64 * KiB, false);
	if (a->win64_size)
		mmio_sweep(&a->win64s, a->win64, a->win64 + a->win64_size,
			   64 * MiB, false);
	return 0;
}

static void report_mmio(const char *what, const struct mmio_stats *s)
{
	report(s->accesses && !s->wrong,
	       "%s: %lu accesses, reads all-ones (%lu not, first at %#lx)",
	       what, s->accesses, s->wrong, s->first_wrong);
}

static void test_mmio(void)
{
	struct mmio_areas a = { 0 };
	unsigned int i;

	report_prefix_push("mmio");
	for (i = 0; i < boot_memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = boot_memmap(i);

		if (e->addr < 4 * GiB)
			a.ram_end = MAX(a.ram_end, MIN(e->addr + e->size, 4 * GiB));
	}
	if (!pci_window(PCI_WINDOW_MEM32, &a.win32, &a.win32_size) ||
	    !pci_window(PCI_WINDOW_MEM64, &a.win64, &a.win64_size)) {
		report(false, "PCI windows in the device tree");
		report_prefix_pop();
		return;
	}
	if (!map_mmio(a.win64, a.win64_size))
		a.win64_size = 0;
	phase_begin();
	run_user(sweep_mmio, &a);
	phase_end("MMIO sweep");
	if (ALIGN_UP(a.ram_end, MiB) < pci_ecam_base())
		report_mmio("hole above RAM", &a.hole);
	else
		report_info("no hole between RAM and ECAM");
	report_mmio("ECAM, absent functions", &a.ecam);
	report_mmio("32-bit PCI window outside the BARs", &a.win32s);
	report_mmio("32-bit window end to 4 GiB", &a.top);
	report_mmio("64-bit PCI window outside the BARs", &a.win64s);
	report(run_user(check_fns_user, NULL),
	       "PCI headers unchanged, the test devices answer");
	report_prefix_pop();
}

/* ---- config space garbage ------------------------------------------------- */

static const u32 cfg_patterns[] = { 0xffffffff, 0x00000000, 0xdeadbeef };

/*
 * Every byte, word and dword of the 256-byte space in three patterns
 * through ECAM, then every dword through conf1, then a dword of garbage
 * in each of the extended space's 960 dwords: each access a read and a
 * write.
 */
static int garbage_config(void *arg)
{
	const struct fn *f = arg;
	unsigned int p, width, off;

	for (p = 0; p < ARRAY_SIZE(cfg_patterns); p++) {
		for (width = 1; width <= 4; width *= 2) {
			for (off = 0; off < 256; off += width) {
				(void)pci_ecam_read(f->bdf, off, width);
				pci_ecam_write(f->bdf, off, width,
					       cfg_patterns[p] >> (8 * (off & 3)));
			}
		}
	}
	for (off = 0; off < 256; off += 4) {
		(void)pci_conf1_read(f->bdf, off, 4);
		pci_conf1_write(f->bdf, off, 4, garbage32(off));
	}
	for (off = 256; off < 4096; off += 4) {
		(void)pci_ecam_read(f->bdf, off, 4);
		pci_ecam_write(f->bdf, off, 4, garbage32(off));
	}
	restore_fn(f);
	return 0;
}

static void test_config(void)
{
	unsigned int i;

	report_prefix_push("config");
	phase_begin();
	for (i = 0; i < nr_fns; i++) {
		const struct fn *f = &fns[i];

		run_user(garbage_config, (void *)f);
		report(run_user(check_fns_user, NULL),
		       "garbage in every register of %02x:%02x.%u (%04x:%04x), restored, devices answer",
		       PCI_BDF_BUS(f->bdf), PCI_BDF_DEV(f->bdf),
		       PCI_BDF_FN(f->bdf), f->vendor, f->device);
	}
	phase_end("config garbage");
	report_prefix_pop();
}

/* ---- BARs over everything --------------------------------------------------- */

struct bar_ref {
	struct fn *f;
	unsigned int index;
};

static struct bar_ref mem_bars[16];
static unsigned int nr_mem_bars;
static u8 *ram_buf;		/* 1 MiB of RAM, 1 MiB aligned */

static u64 bar_addr(const struct bar_ref *b)
{
	return b->f->bars[b->index].addr;
}

static u64 bar_size(const struct bar_ref *b)
{
	return b->f->bars[b->index].size;
}

static void bar_move(const struct bar_ref *b, u64 addr)
{
	pci_bar_set(b->f->bdf, b->index, addr);
}

static void bar_back(const struct bar_ref *b)
{
	pci_bar_set(b->f->bdf, b->index, bar_addr(b));
}

/* The BAR works at its own address again: it answers as before. */
static bool bar_back_ok(const struct bar_ref *b, u32 id)
{
	bar_back(b);
	return readl(bar_addr(b)) == id;
}

/*
 * Over RAM: uvmm does not decode a BAR there (RAM wins), so the guest
 * reads and writes its memory; the BAR register keeps the address.
 */
static int bars_over_ram(void *arg)
{
	unsigned int i, bad = 0;

	(void)arg;
	for (i = 0; i < nr_mem_bars; i++) {
		const struct bar_ref *b = &mem_bars[i];
		u64 ram = (u64)ram_buf;
		u32 id = readl(bar_addr(b)), off = PCI_CFG_BAR0 + 4 * b->index;
		bool ok;

		writel(ram, 0x52414d21);		/* "!MAR" */
		bar_move(b, ram);
		ok = readl(ram) == 0x52414d21;
		writel(ram + 4, 0x12345678);
		ok &= readl(ram + 4) == 0x12345678;
		ok &= (pci_read(b->f->bdf, off, 4) & ~0xfu) == (u32)ram;
		ok &= bar_back_ok(b, id);
		if (!ok) {
			bad++;
			report_info("BAR%u of %02x:%02x.%u over RAM at %#lx: wrong",
				    b->index, PCI_BDF_BUS(b->f->bdf),
				    PCI_BDF_DEV(b->f->bdf), PCI_BDF_FN(b->f->bdf),
				    ram);
		}
	}
	return bad;
}

/*
 * Over another BAR: the one already there keeps answering (uvmm decodes
 * the newcomer nowhere); the mover works again once back.
 */
static int bars_over_bars(void *arg)
{
	unsigned int i, j, bad = 0, *pairs = arg;

	for (i = 0; i < nr_mem_bars; i++) {
		for (j = 0; j < nr_mem_bars; j++) {
			const struct bar_ref *a = &mem_bars[i], *b = &mem_bars[j];
			u32 id_a, id_b, v;
			bool ok;

			if (i == j || bar_size(a) > bar_size(b) ||
			    (a->f->bars[a->index].type != PCI_BAR_MEM64 &&
			     bar_addr(b) >= 4 * GiB))
				continue;
			(*pairs)++;
			id_a = readl(bar_addr(a));
			id_b = readl(bar_addr(b));
			bar_move(a, bar_addr(b));
			ok = readl(bar_addr(b)) == id_b;
			v = readl(bar_addr(b) + 4);	/* a write that changes nothing */
			writel(bar_addr(b) + 4, v);
			ok &= bar_back_ok(a, id_a);
			ok &= readl(bar_addr(b)) == id_b;
			if (!ok) {
				bad++;
				report_info("BAR%u of %02x:%02x.%u over BAR%u of %02x:%02x.%u at %#lx: wrong",
					    a->index, PCI_BDF_BUS(a->f->bdf),
					    PCI_BDF_DEV(a->f->bdf),
					    PCI_BDF_FN(a->f->bdf), b->index,
					    PCI_BDF_BUS(b->f->bdf),
					    PCI_BDF_DEV(b->f->bdf),
					    PCI_BDF_FN(b->f->bdf), bar_addr(b));
			}
		}
	}
	return bad;
}

/*
 * Over the LAPIC, the IOAPIC and ECAM: KVM's LAPIC and IOAPIC come before
 * any device of uvmm's (a BAR mapped as a memslot may hide them while it
 * is there), ECAM is uvmm's and the BAR does not decode over it. Only
 * reads there, and a write to the read-only LAPIC version register:
 * garbage in the LAPIC would hit our own CPU. At the top of the hole, a
 * 1 MiB BAR covers KVM's private pages (on Intel): a mapped BAR traps
 * there instead. Each answers again at its own place afterwards.
 */
static int bars_over_platform(void *arg)
{
	u32 lapic_ver = readl(LAPIC_BASE + LAPIC_VERSION);
	u32 ecam_id = pci_ecam_read(fns[0].bdf, 0, 4);
	unsigned int i, bad = 0;

	(void)arg;
	for (i = 0; i < nr_mem_bars; i++) {
		const struct bar_ref *b = &mem_bars[i];
		u32 id = readl(bar_addr(b));
		bool ok = true;

		bar_move(b, LAPIC_BASE);
		(void)readl(LAPIC_BASE + LAPIC_VERSION);
		writel(LAPIC_BASE + LAPIC_VERSION, 0xdeadbeef);
		(void)readl(LAPIC_BASE + 0x3f0);
		bar_move(b, IOAPIC_BASE);
		(void)readl(IOAPIC_BASE + 0x10);
		bar_move(b, pci_ecam_base());
		ok &= pci_ecam_read(fns[0].bdf, 0, 4) == ecam_id;
		if (bar_size(b) <= MiB) {
			u64 top = 4 * GiB - MiB;

			writel(bar_addr(b) + 0x100, 0x70707070);
			bar_move(b, top);
			(void)readl(top + 0x100);
			writel(top + 0x104, 0);
		}
		ok &= bar_back_ok(b, id);
		ok &= readl(LAPIC_BASE + LAPIC_VERSION) == lapic_ver;
		if (!ok) {
			bad++;
			report_info("BAR%u of %02x:%02x.%u over the LAPIC, IOAPIC, ECAM: wrong",
				    b->index, PCI_BDF_BUS(b->f->bdf),
				    PCI_BDF_DEV(b->f->bdf), PCI_BDF_FN(b->f->bdf));
		}
	}
	return bad;
}

/*
 * The built-in function's I/O BAR over COM1 and conf1 (uvmm's devices
 * keep their ports), at port 0 (unassigned) and at the top of the space;
 * its 64-bit BAR near and past the architectural address limit; its ROM
 * over the LAPIC.
 */
static int builtin_odd_places(void *arg)
{
	struct fn *f = arg;
	u32 bdf = f->bdf, vendor0 = pci_conf1_read(fns[0].bdf, 0, 4);
	u64 io = f->bars[PCI_TESTDEV_BAR_IO].addr;
	u64 m64 = f->bars[PCI_TESTDEV_BAR_MEM64].addr;
	u32 rom = pci_read(bdf, PCI_CFG_ROM, 4);
	bool ok = true;

	pci_bar_set(bdf, PCI_TESTDEV_BAR_IO, COM1 & ~0xffu);
	outb(COM1 + 7, 0x5a);				/* UART scratch */
	ok &= inb(COM1 + 7) == 0x5a;
	pci_bar_set(bdf, PCI_TESTDEV_BAR_IO, CONF1_ADDRESS & ~0xffu);
	ok &= pci_conf1_read(fns[0].bdf, 0, 4) == vendor0;
	pci_bar_set(bdf, PCI_TESTDEV_BAR_IO, 0);
	ok &= inl(0) == 0xffffffff;			/* decodes nowhere */
	pci_bar_set(bdf, PCI_TESTDEV_BAR_IO, 0xff00);
	ok &= inl(0xff00) == PCI_TESTDEV_MAGIC;
	outl(0xfffc, 0x12345678);
	(void)inl(0xfffe);				/* runs past 0xffff */
	pci_bar_set(bdf, PCI_TESTDEV_BAR_IO, io);
	ok &= inl(io) == PCI_TESTDEV_MAGIC;

	pci_bar_set(bdf, PCI_TESTDEV_BAR_MEM64, (1ULL << 52) - MiB);
	ok &= pci_read(bdf, PCI_CFG_BAR0 + 4 * PCI_TESTDEV_BAR_MEM64 + 4, 4) ==
	      ((1u << 20) - 1);
	pci_bar_set(bdf, PCI_TESTDEV_BAR_MEM64, ~0ULL << 20);
	pci_bar_set(bdf, PCI_TESTDEV_BAR_MEM64, m64);
	ok &= readl(m64) == PCI_TESTDEV_MAGIC;

	pci_write(bdf, PCI_CFG_ROM, 4, (u32)LAPIC_BASE | 1);
	(void)readl(LAPIC_BASE + LAPIC_VERSION);
	pci_write(bdf, PCI_CFG_ROM, 4, rom);
	return ok;
}

static void test_bars(void)
{
	struct fn *b = find_fn(false);
	unsigned int i, j, pairs = 0;
	int bad;

	report_prefix_push("BARs");
	for (i = 0; i < nr_fns; i++) {
		struct fn *f = &fns[i];

		if (!f->builtin && !f->vfu)
			continue;
		for (j = 0; j < 6 && nr_mem_bars < ARRAY_SIZE(mem_bars); j++)
			if (f->bars[j].type == PCI_BAR_MEM32 ||
			    f->bars[j].type == PCI_BAR_MEM64)
				mem_bars[nr_mem_bars++] = (struct bar_ref) { f, j };
	}
	ram_buf = memalign(MiB, MiB);
	if (!nr_mem_bars || !ram_buf) {
		report(false, "memory BARs of the test devices, 1 MiB of heap");
		report_prefix_pop();
		return;
	}
	phase_begin();
	report(run_user(bars_over_ram, NULL) == 0,
	       "%u BARs over RAM: RAM answers, the BARs work again at home",
	       nr_mem_bars);
	bad = run_user(bars_over_bars, &pairs);
	report(pairs && !bad,
	       "%u BAR pairs overlapped: the BAR already there keeps answering",
	       pairs);
	report(run_user(bars_over_platform, NULL) == 0,
	       "BARs over the LAPIC, IOAPIC, ECAM and KVM's pages: those keep working");
	if (b)
		report(run_user(builtin_odd_places, b),
		       "I/O BAR over COM1, conf1, port 0 and 0xff00; 64-bit BAR past the limit; ROM over the LAPIC");
	run_user(restore_all_fns_user, NULL);
	phase_end("BAR games");
	report(run_user(check_fns_user, NULL),
	       "PCI headers restored, the test devices answer");
	report_prefix_pop();
}

/* ---- MSI-X and MSI with garbage --------------------------------------------- */

struct irq_dev {
	const char *name;
	struct fn *f;
	u64 table;
	u64 pba;
	unsigned int nr;
	u64 regs;		/* BAR0 */
};

/* Raise MSI-X vector n (MSI with msi set) the device's own way. */
static void irq_raise(const struct irq_dev *d, u32 n, bool msi)
{
	if (d->f->vfu)
		writel(d->regs + SAMPLEDEV_REG_DOORBELL,
		       msi ? SAMPLEDEV_IRQ_MSI : SAMPLEDEV_IRQ_MSIX(n));
	else
		writel(d->regs + (msi ? PCI_TESTDEV_REG_MSI : PCI_TESTDEV_REG_MSIX),
		       n);
}

/*
 * Garbage messages for the MSI-X table and the MSI capability: fixed and
 * illegal vectors, NMI, SMI, INIT, SIPI and ExtINT delivery, lowest
 * priority, logical destinations, addresses outside the LAPIC's 1 MiB
 * (in RAM, even), a high address dword. aim_away() keeps them off our
 * own CPU.
 */
static const struct {
	u64 addr;
	u32 data;
} garbage_msgs[] = {
	{ 0x0000000000001000ULL, 0x00000000 },	/* RAM address, vector 0 */
	{ 0x00000000deadb000ULL, 0xcafef00d },	/* level, asserted, vector 0x0d */
	{ 0x00000000fee7e000ULL, 0x00000400 },	/* NMI */
	{ 0x00000000fee7e000ULL, 0x00000500 },	/* INIT */
	{ 0x00000000fee7e000ULL, 0x00000600 },	/* SIPI */
	{ 0x00000000fee7e000ULL, 0x00000200 },	/* SMI */
	{ 0x00000000fee7e000ULL, 0x00000700 },	/* ExtINT */
	{ 0x00000000fee7e00cULL, 0x00000131 },	/* lowest priority, logical */
	{ 0xffffffff00000000ULL | 0xfee01000, 0x00000041 },
	{ 0x123456789abcd000ULL, 0xffffffff },
};

/*
 * The destination ID is address bits 19:12. Ours or the broadcast 0xff
 * would deliver an NMI, INIT or SMI to this very CPU: that kills the
 * guest, which is not what is being tested.
 */
static u64 aim_away(u64 addr)
{
	u32 dest = (addr >> 12) & 0xff;

	if (dest != apic && dest != 0xff)
		return addr;
	dest = apic == 0x7e ? 0x7d : 0x7e;
	return (addr & ~0xff000ULL) | (u64)dest << 12;
}

static void msix_entry(const struct irq_dev *d, unsigned int n, u64 addr,
		       u32 data, u32 ctrl)
{
	u64 e = d->table + 16 * n;

	writel(e, (u32)addr);
	writel(e + 4, addr >> 32);
	writel(e + 8, data);
	writel(e + 12, ctrl);
}

static void msix_ctrl(const struct irq_dev *d, u16 ctrl)
{
	pci_write(d->f->bdf, d->f->msix_cap + 2, 2, ctrl);
}

static void msi_garbage(const struct irq_dev *d, unsigned int g)
{
	u8 cap = d->f->msi_cap;
	u16 flags = pci_read(d->f->bdf, cap + 2, 2);
	u64 addr = aim_away(garbage_msgs[g].addr);
	u32 data_off = flags & MSI_CTRL_64BIT ? 12 : 8;

	pci_write(d->f->bdf, cap + 4, 4, (u32)addr);
	if (flags & MSI_CTRL_64BIT)
		pci_write(d->f->bdf, cap + 8, 4, addr >> 32);
	pci_write(d->f->bdf, cap + data_off, 2, garbage_msgs[g].data);
	if (flags & MSI_CTRL_MASKBIT)
		pci_write(d->f->bdf, cap + data_off + 4, 4, 0);	/* unmasked */
	/* every MME value, enabled: more vectors than the device has */
	pci_write(d->f->bdf, cap + 2, 2, MSI_CTRL_ENABLE | ((g & 7) << 4));
}

static int irq_garbage(void *arg)
{
	const struct irq_dev *d = arg;
	unsigned int n, g, i;
	u64 end = d->table + 16ULL * d->nr;

	for (n = 0; n < d->nr; n++) {
		g = n % ARRAY_SIZE(garbage_msgs);
		msix_entry(d, n, aim_away(garbage_msgs[g].addr),
			   garbage_msgs[g].data, 0);
	}
	msix_ctrl(d, MSIX_CTRL_ENABLE);
	for (n = 0; n < d->nr; n++)
		irq_raise(d, n, false);
	/* vectors the device does not have */
	irq_raise(d, d->nr, false);
	irq_raise(d, 0xffff, false);
	irq_raise(d, 0xffffffff, false);
	/* pending under the function mask, the routes change meanwhile */
	msix_ctrl(d, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	for (n = 0; n < d->nr; n++)
		irq_raise(d, n, false);
	(void)readq(d->pba);
	for (n = 0; n < d->nr; n++) {
		g = (n + 3) % ARRAY_SIZE(garbage_msgs);
		msix_entry(d, n, aim_away(garbage_msgs[g].addr),
			   garbage_msgs[g].data, n & 1);
	}
	msix_ctrl(d, MSIX_CTRL_ENABLE);
	/* odd accesses: bytes, 8 bytes across entries and past the table */
	for (i = 0; i < 16; i++)
		writeb(d->table + i, readb(d->table + i) ^ 0x5a);
	writeq(d->table + 12, ~0ULL);
	writeq(end - 4, ~0ULL);
	(void)readq(end - 4);
	writeq(d->pba, ~0ULL);
	(void)readl(d->pba + 1);
	for (n = 0; n < d->nr; n++)
		irq_raise(d, n, false);
	/* MSI with garbage as well, both enabled at once */
	if (d->f->msi_cap) {
		for (g = 0; g < ARRAY_SIZE(garbage_msgs); g++) {
			msi_garbage(d, g);
			for (n = 0; n < 4; n++)
				irq_raise(d, n, true);
		}
		msix_ctrl(d, 0);
		for (n = 0; n < 4; n++)
			irq_raise(d, n, true);
		pci_write(d->f->bdf, d->f->msi_cap + 2, 2, 0);
	}
	if (d->f->vfu) {
		/* a kind the device does not know, INTx raised and acked */
		writel(d->regs + SAMPLEDEV_REG_DOORBELL, 0x30000);
		writel(d->regs + SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
		writel(d->regs + SAMPLEDEV_REG_INTX_ACK, 0xffffffff);
	} else {
		writel(d->regs + PCI_TESTDEV_REG_INTX, 1);
		writel(d->regs + PCI_TESTDEV_REG_RAISE, 0xffffffff);
		writel(d->regs + PCI_TESTDEV_REG_INTX, 0);
	}
	msix_ctrl(d, 0);
	for (n = 0; n < d->nr; n++)
		msix_entry(d, n, 0, 0, 1);
	return 0;
}

static void irq_noop(unsigned int vector)
{
	(void)vector;
}

static const struct irq_dev *intx_dev;

/* Level-triggered: quiet the device before the EOI. */
static void intx_handler(unsigned int vector)
{
	(void)vector;
	writel(intx_dev->regs + SAMPLEDEV_REG_INTX_ACK, 0xffffffff);
}

/*
 * COMMAND.INTX_DISABLE set and cleared with 1-byte writes of the
 * command register's high byte: the vfio-user server holds INTx back
 * only if uvmm tells it about those writes too.
 */
static bool intx_disable_bytewise(const struct irq_dev *d)
{
	u32 bdf = d->f->bdf;
	unsigned int pin = pci_read(bdf, PCI_CFG_INT_PIN, 1);
	/* The swizzle uvmm describes in the MP table and the device tree. */
	unsigned int gsi = 16 + (PCI_BDF_DEV(bdf) + pin - 1) % 8;
	u8 high = pci_read(bdf, PCI_CFG_COMMAND + 1, 1);
	u64 before;
	bool quiet, arrived;

	intx_dev = d;
	set_irq_handler(VEC_INTX, intx_handler);
	ioapic_route(gsi, VEC_INTX, true, true, apic);
	/* The line irq_garbage() raised is still pending: take it first. */
	irq_wait(VEC_INTX, ~0ULL, NO_IRQ_MS);
	before = irq_count(VEC_INTX);
	pci_write(bdf, PCI_CFG_COMMAND + 1, 1, high | (PCI_CMD_INTX_DISABLE >> 8));
	writel(d->regs + SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
	quiet = !irq_wait(VEC_INTX, before + 1, NO_IRQ_MS);
	pci_write(bdf, PCI_CFG_COMMAND + 1, 1, high & ~(PCI_CMD_INTX_DISABLE >> 8));
	arrived = irq_wait(VEC_INTX, before + 1, IRQ_MS);
	ioapic_mask(gsi);
	report(quiet && arrived,
	       "%s: INTx held back while disabled by a 1-byte command write, delivered once enabled (%s, %s)",
	       d->name, quiet ? "quiet" : "arrived while disabled",
	       arrived ? "arrived" : "never arrived");
	return quiet && arrived;
}

static bool irq_dev_init(struct irq_dev *d, struct fn *f)
{
	u32 table, pba;
	u16 flags;

	if (!f || !f->msix_cap)
		return false;
	flags = pci_read(f->bdf, f->msix_cap + 2, 2);
	table = pci_read(f->bdf, f->msix_cap + 4, 4);
	pba = pci_read(f->bdf, f->msix_cap + 8, 4);
	d->f = f;
	d->name = f->vfu ? "vfio-user sampledev" : "built-in test function";
	d->nr = (flags & 0x7ff) + 1;
	d->table = f->bars[table & 7].addr + (table & ~7u);
	d->pba = f->bars[pba & 7].addr + (pba & ~7u);
	d->regs = f->bars[0].addr;
	return f->bars[table & 7].addr && f->bars[0].addr;
}

static void test_irqs(void)
{
	struct irq_dev devs[2];
	unsigned int i, nr = 0;
	u64 before;

	report_prefix_push("irq");
	if (irq_dev_init(&devs[nr], find_fn(false)))
		nr++;
	if (irq_dev_init(&devs[nr], find_fn(true)))
		nr++;
	lapic_enable();
	set_irq_handler(VEC_CHECK, irq_noop);
	phase_begin();
	for (i = 0; i < nr; i++) {
		struct irq_dev *d = &devs[i];

		run_user(irq_garbage, d);
		/* and now a message that reaches us: the device still works */
		msix_entry(d, 0, msi_address(apic), msi_data(VEC_CHECK), 0);
		msix_ctrl(d, MSIX_CTRL_ENABLE);
		before = irq_count(VEC_CHECK);
		irq_raise(d, 0, false);
		report(irq_wait(VEC_CHECK, before + 1, IRQ_MS),
		       "%s: MSI-X and MSI with garbage messages raised, then a good MSI-X vector arrives",
		       d->name);
		msix_ctrl(d, 0);
		msix_entry(d, 0, 0, 0, 1);
		if (d->f->vfu)
			intx_disable_bytewise(d);
	}
	phase_end("interrupt garbage");
	report(run_user(check_fns_user, NULL),
	       "PCI headers unchanged, the test devices answer");
	report_prefix_pop();
}

int main(void)
{
	struct fn *v;

	/*
	 * The guest's own safety: whatever the garbage makes the 8259s do,
	 * no ExtINT or NMI from them reaches this CPU.
	 */
	writel(LAPIC_BASE + LAPIC_LVT_LINT0, LAPIC_MASKED);
	writel(LAPIC_BASE + LAPIC_LVT_LINT1, LAPIC_MASKED);
	lapic_enable();
	apic = lapic_id();
	run_user(calibrate_tsc, NULL);
	if (!pci_init())
		abort_test("no ECAM in the device tree");
	run_user(enumerate, NULL);
	/* The 64-bit window holds the built-in function's BAR2. */
	if (find_fn(false) && find_fn(false)->bars[PCI_TESTDEV_BAR_MEM64].addr)
		map_mmio(find_fn(false)->bars[PCI_TESTDEV_BAR_MEM64].addr, MiB);
	report(nr_fns >= 2 && find_fn(false), "%u functions on bus 0, the built-in test function among them",
	       nr_fns);
	v = find_fn(true);
	if (v)
		report(true, "vfio-user sampledev at 00:%02x.%u", PCI_BDF_DEV(v->bdf),
		       PCI_BDF_FN(v->bdf));
	else
		report_info("no vfio-user sampledev attached");

	test_ports();
	test_mmio();
	test_config();
	test_bars();
	test_irqs();
	report(true, "uvmm still running after all of it");
	return report_summary();
}
