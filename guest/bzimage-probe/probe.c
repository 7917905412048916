// SPDX-License-Identifier: MIT
/*
 * bzimage-probe: a kernel of our own, built as a real bzImage, that checks
 * what a Linux kernel relies on from the loader and the machine: the
 * 64-bit entry state, the zero page, the command line, the e820 map
 * against -m, the initrd's bytes, the setup_data chain, the MP table, ACPI, the
 * APIC IDs in CPUID, the RTC/CMOS, the UART's interrupt through the
 * IOAPIC, and every AP started with INIT/SIPI/SIPI. It prints
 * kvm-unit-tests-style lines and exits through the debug-exit port.
 *
 * What it is told (kernel command line; absent ones skip their checks):
 *   probe.cpus=N            vCPUs given with -c
 *   probe.mem=SIZE          RAM given with -m (128M, 4G, ...)
 *   probe.initrd_size=N     bytes of the --initrd file, and
 *   probe.initrd_cksum=N    its POSIX cksum (what `cksum FILE` prints);
 *   probe.initrd=none       or: no initrd expected
 *   probe.reset             end with a reset through the i8042, not 0xf4
 *   probe.vmm=other         the loader and machine are not uvmm's (QEMU for
 *                           the benchmark's reference): what only uvmm
 *                           promises is skipped, not failed
 *   probe.tail=end          last, so a cut command line shows
 *
 * The zero-page offsets (probe.h) are written out from the boot protocol
 * documents, independently of the VMM's structs, so that a wrong offset
 * on either side shows up.
 */
#include "guest.h"
#include "guest/runtime/runtime.h"
#include "abi/machine.h"

/* ---- machine ------------------------------------------------------------- */
#define LAPIC_BASE		0xfee00000ULL
#define LAPIC_ID		0x020
#define LAPIC_EOI		0x0b0
#define LAPIC_TPR		0x080
#define LAPIC_SVR		0x0f0
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310
#define ICR_BUSY		(1u << 12)
#define ICR_INIT_ASSERT		0x0000c500	/* INIT, level, assert */
#define ICR_INIT_DEASSERT	0x00008500
#define ICR_STARTUP		0x00000600

#define IOAPIC_DEFAULT_BASE	0xfec00000ULL
#define IOAPIC_VERSION_REG	0x01
#define IOAPIC_REDIR(pin)	(0x10 + 2 * (pin))
#define IOAPIC_MASKED		(1u << 16)

#define COM1			0x3f8
#define UART_IER		1
#define UART_IIR		2
#define UART_MCR		4
#define UART_IER_THRI		0x02
#define UART_MCR_OUT2		0x08

#define CMOS_INDEX		0x70
#define CMOS_DATA		0x71
#define DEBUG_EXIT_PORT		0xf4

/* Where uvmm's RAM below 4 GiB ends and the PCI hole starts. */
#define PCI_HOLE_START		((u64)MEM_LOW_RAM_MAX)
#define GiB_			((u64)1 << 30)
#define MiB_			((u64)1 << 20)

/* ---- what head.S provides ------------------------------------------------- */
struct entry_state {
	u16 cs, ds, es, ss;
	u64 rflags;
	u64 rsi;
} __attribute__((packed));

struct entry_state entry_state;
u8 boot_stack[BOOT_STACK_SIZE] __attribute__((aligned(16)));
extern char _kernel_start[], _end[];
extern char exception_stubs[], irq_stub[], spurious_stub[];
extern char trampoline_start[], trampoline_end[], tr_gdt[], tr_gdt_desc[],
	    tr_far_ptr[], tr_pm[], tr_count[], tr_records[];
void load_gdt(const struct desc_ptr *gdt);
void probe_main(u64 zero_page) __attribute__((noreturn));
void probe_exception(const u64 *frame) __attribute__((noreturn));
void probe_irq(void);

/* ---- state ---------------------------------------------------------------- */
static const u8 *zp;
static u64 load_addr, init_size;
static char cmdline[PROBE_CMDLINE_SIZE + 2];
static bool have_params;
static bool other_vmm;		/* probe.vmm=other */

struct e820 {
	u64 addr, size;
	u32 type;
};
static struct e820 e820[E820_MAX];
static unsigned int nr_e820;

static u8 mp_ap_ids[TR_MAX_CPUS];
static unsigned int mp_nr_cpus, mp_nr_aps;
static int mp_isa_irq4_pin = -1;
static u64 ioapic_base = IOAPIC_DEFAULT_BASE;
static unsigned int bsp_apic_id;

static volatile unsigned int uart_irqs;
static volatile u8 uart_iir_seen;

static u64 idt[256 * 2] __attribute__((aligned(16)));
static u64 gdt[4] __attribute__((aligned(16)));
#define MAX_PD_PAGES 72		/* 72 GiB: 4 GiB + the most high RAM -m allows */
static u64 probe_pml4[512] __attribute__((aligned(4096)));
static u64 probe_pdpt[512] __attribute__((aligned(4096)));
static u64 pds[MAX_PD_PAGES][512] __attribute__((aligned(4096)));

/* ---- helpers ---------------------------------------------------------------- */
static u64 rd(const void *p, unsigned int size)
{
	u64 v = 0;

	memcpy(&v, p, size);
	return v;
}

#define ZP8(off)	((u8)rd(zp + (off), 1))
#define ZP16(off)	((u16)rd(zp + (off), 2))
#define ZP32(off)	((u32)rd(zp + (off), 4))
#define ZP64(off)	rd(zp + (off), 8)

static u32 lapic_read(u32 reg)
{
	return readl(LAPIC_BASE + reg);
}

static void lapic_write(u32 reg, u32 val)
{
	writel(LAPIC_BASE + reg, val);
}

static u32 ioapic_rd(u32 reg)
{
	writel(ioapic_base, reg);
	return readl(ioapic_base + 0x10);
}

static void ioapic_wr(u32 reg, u32 val)
{
	writel(ioapic_base, reg);
	writel(ioapic_base + 0x10, val);
}

static u8 cmos_read(u8 index)
{
	outb(CMOS_INDEX, index);
	return inb(CMOS_DATA);
}

static bool overlaps(u64 a, u64 a_len, u64 b, u64 b_len)
{
	return a < b + b_len && b < a + a_len;
}

/* [addr, addr + len) lies inside one e820 RAM entry. */
static bool in_ram(u64 addr, u64 len)
{
	unsigned int i;

	for (i = 0; i < nr_e820; i++)
		if (e820[i].type == E820_RAM && addr >= e820[i].addr &&
		    addr + len <= e820[i].addr + e820[i].size)
			return true;
	return false;
}

static const char *strstr_(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncmp(hay, needle, n))
			return hay;
	return NULL;
}

/* "name=value" (or a bare "name", value "") from the command line. */
static bool param(const char *name, char *val, size_t size)
{
	size_t n = strlen(name), i;
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, n) && (p[n] == '=' || p[n] == ' ' || !p[n])) {
			p += n;
			if (*p == '=')
				p++;
			for (i = 0; p[i] && p[i] != ' ' && i + 1 < size; i++)
				val[i] = p[i];
			val[i] = '\0';
			return true;
		}
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

/* A number with an optional K/M/G suffix. */
static bool param_u64(const char *name, u64 *out)
{
	char buf[32], *end;
	u64 v;

	if (!param(name, buf, sizeof(buf)) || !buf[0])
		return false;
	v = strtoull(buf, &end, 0);
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

/* ---- exceptions and interrupts ------------------------------------------- */
static const char *vector_name(u64 v)
{
	static const char names[32][6] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "#CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
		"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
	};

	return v < 32 ? names[v] : "?";
}

void probe_exception(const u64 *frame)
{
	/* frame: vector, error code, rip, cs, rflags, rsp, ss */
	printf("FAIL: unexpected exception %s (vector %lu) error %#lx at RIP %#lx CR2 %#lx\n",
	       vector_name(frame[0]), frame[0], frame[1], frame[2], read_cr2());
	report_count_failure();
	exit(report_summary());
}

void probe_irq(void)
{
	uart_iir_seen = inb(COM1 + UART_IIR);	/* reading IIR acks THRI */
	outb(COM1 + UART_IER, 0);
	uart_irqs++;
	lapic_write(LAPIC_EOI, 0);
}

static void set_gate(unsigned int vector, u64 handler)
{
	idt[vector * 2] = (handler & 0xffff) | ((u64)BOOT_CS << 16) |
			  (0x8eULL << 40) | ((handler >> 16 & 0xffff) << 48);
	idt[vector * 2 + 1] = handler >> 32;
}

static void idt_init(void)
{
	struct desc_ptr desc = { sizeof(idt) - 1, (u64)idt };
	unsigned int v;

	for (v = 0; v < 32; v++)
		set_gate(v, (u64)exception_stubs + 16 * v);
	set_gate(PROBE_UART_VECTOR, (u64)irq_stub);
	set_gate(PROBE_SPURIOUS_VECTOR, (u64)spurious_stub);
	lidt(&desc);
}

/* ---- checks ---------------------------------------------------------------- */
static void check_entry_state(void)
{
	struct desc_ptr g;
	u64 code, data;

	report_prefix_push("entry");
	report(entry_state.cs == BOOT_CS, "CS is __BOOT_CS (%#x)", entry_state.cs);
	report(entry_state.ds == BOOT_DS && entry_state.es == BOOT_DS &&
	       entry_state.ss == BOOT_DS,
	       "DS, ES, SS are __BOOT_DS (%#x %#x %#x)", entry_state.ds,
	       entry_state.es, entry_state.ss);
	report(!(entry_state.rflags & RFLAGS_IF), "interrupts disabled (rflags %#lx)",
	       entry_state.rflags);
	report((read_cr0() & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE) &&
	       (read_cr4() & CR4_PAE) && (rdmsr(MSR_EFER) & (1 << 10)),
	       "long mode with paging (CR0 %#lx CR4 %#lx EFER %#lx)",
	       read_cr0(), read_cr4(), rdmsr(MSR_EFER));
	asm volatile("sgdt %0" : "=m"(g));
	if (!report(g.limit >= BOOT_DS + 7, "GDT holds __BOOT_DS (limit %#x)", g.limit)) {
		report_prefix_pop();
		return;
	}
	code = rd((void *)(g.base + BOOT_CS), 8);
	data = rd((void *)(g.base + BOOT_DS), 8);
	/* present, code, long mode, DPL 0 */
	report((code >> 47 & 1) && (code >> 43 & 1) && (code >> 53 & 1) &&
	       !(code >> 54 & 1) && !(code >> 45 & 3),
	       "__BOOT_CS descriptor is 64-bit code (%#lx)", code);
	/* present, writable data, base 0, limit 4 GiB */
	report((data >> 47 & 1) && !(data >> 43 & 1) && (data >> 41 & 1) &&
	       (data & 0xffffff0000ULL) == 0 && (data >> 56) == 0 &&
	       (data & 0xffff) == 0xffff && (data >> 48 & 0xf) == 0xf &&
	       (data >> 55 & 1),
	       "__BOOT_DS descriptor is flat 4 GiB read/write data (%#lx)", data);
	report_prefix_pop();
}

static void check_header(void)
{
	u64 pref = ZP64(ZP_PREF_ADDRESS), align = ZP32(ZP_KERNEL_ALIGNMENT), want;

	report_prefix_push("zero page");
	report(ZP16(ZP_BOOT_FLAG) == 0xaa55 && ZP32(ZP_HEADER) == 0x53726448 &&
	       ZP16(ZP_VERSION) == PROBE_VERSION,
	       "setup header copied (boot flag, HdrS, version %#x)", ZP16(ZP_VERSION));
	report(ZP16(ZP_XLOADFLAGS) == PROBE_XLOADFLAGS &&
	       ZP32(ZP_INITRD_ADDR_MAX) == PROBE_INITRD_ADDR_MAX &&
	       ZP32(ZP_CMDLINE_SIZE) == PROBE_CMDLINE_SIZE &&
	       ZP8(ZP_RELOCATABLE) == 1 && align == PROBE_KERNEL_ALIGNMENT,
	       "header fields as built (xloadflags, initrd_addr_max, cmdline_size, alignment)");
	report(ZP32(ZP_INIT_SIZE) == init_size, "init_size %#x is the image and its bss (%#lx)",
	       ZP32(ZP_INIT_SIZE), init_size);
	if (other_vmm)
		report_skip("probe.vmm=other: type_of_loader %#x and the load address are its own",
			    ZP8(ZP_TYPE_OF_LOADER));
	else
		report(ZP8(ZP_TYPE_OF_LOADER) == 0xff,
		       "type_of_loader is 0xff, no assigned ID (%#x)",
		       ZP8(ZP_TYPE_OF_LOADER));
	report((ZP8(ZP_LOADFLAGS) & LOADED_HIGH) && (ZP8(ZP_LOADFLAGS) & CAN_USE_HEAP) &&
	       ZP16(ZP_HEAP_END_PTR) == 0xfe00,
	       "loadflags %#x: LOADED_HIGH kept, CAN_USE_HEAP with heap_end_ptr %#x",
	       ZP8(ZP_LOADFLAGS), ZP16(ZP_HEAP_END_PTR));
	report(ZP8(ZP_SENTINEL) == 0, "sentinel byte is 0");
	/* boot.rst: a relocatable kernel runs at pref_address rounded up to
	 * kernel_alignment (and never below 1 MiB); init_size counts from there. */
	want = pref < MiB_ ? MiB_ : pref;
	want = (want + align - 1) & ~(align - 1);
	if (!other_vmm)
		report(load_addr == want,
		       "loaded at %#lx: pref_address %#lx rounded up to kernel_alignment %#lx",
		       load_addr, pref, align);
	report_prefix_pop();
}

static void read_cmdline(void)
{
	u64 ptr = ZP32(ZP_CMD_LINE_PTR) | (u64)ZP32(ZP_EXT_CMD_LINE_PTR) << 32;
	size_t len;

	report_prefix_push("cmdline");
	if (!report(ptr != 0, "cmd_line_ptr set (%#lx)", ptr)) {
		report_prefix_pop();
		return;
	}
	len = strnlen((const char *)ptr, PROBE_CMDLINE_SIZE + 1);
	report(len <= PROBE_CMDLINE_SIZE, "NUL-terminated within cmdline_size (%zu bytes)", len);
	memcpy(cmdline, (const char *)ptr, len > PROBE_CMDLINE_SIZE ? PROBE_CMDLINE_SIZE : len);
	report_info("command line: \"%s\"", cmdline);
	have_params = strstr_(cmdline, "probe.") != NULL;
	if (have_params) {
		const char *tail = "probe.tail=end";
		size_t n = strlen(tail);

		report(len >= n && !strcmp(cmdline + len - n, tail),
		       "arrived whole (ends with %s)", tail);
	} else {
		report_skip("no probe.* parameters: nothing to compare with");
	}
	report_prefix_pop();
}

/* Physical address va maps to in the tables at cr3, or ~0. */
static u64 translate(u64 cr3, u64 va)
{
	u64 e = cr3 & ~0xfffULL;
	int level;

	for (level = 3; level >= 0; level--) {
		e = ((const u64 *)(e & 0x000ffffffffff000ULL))[(va >> (12 + 9 * level)) & 511];
		if (!(e & PTE_P))
			return ~0ULL;
		if (level == 0)
			return (e & 0x000ffffffffff000ULL) | (va & 0xfff);
		if ((level == 1 || level == 2) && (e & PTE_PS)) {
			u64 mask = (1ULL << (12 + 9 * level)) - 1;

			return (e & 0x000ffffffffff000ULL & ~mask) | (va & mask);
		}
	}
	return ~0ULL;
}

static bool identity(u64 cr3, u64 start, u64 len)
{
	u64 a;

	for (a = start; a < start + len; a += 0x1000)
		if (translate(cr3, a) != a)
			return false;
	return translate(cr3, start + len - 1) == start + len - 1;
}

static void check_boot_page_tables(void)
{
	u64 cr3 = read_cr3(), cl = ZP32(ZP_CMD_LINE_PTR);

	report(identity(cr3, load_addr, init_size) &&
	       identity(cr3, (u64)zp, 4096) &&
	       identity(cr3, cl, strlen(cmdline) + 1),
	       "boot page tables identity-map the kernel's init_size, the zero page and the command line");
}

static void sort_e820(void)
{
	unsigned int i, j;

	for (i = 1; i < nr_e820; i++) {
		struct e820 e = e820[i];

		for (j = i; j > 0 && e820[j - 1].addr > e.addr; j--)
			e820[j] = e820[j - 1];
		e820[j] = e;
	}
}

static void read_e820(u64 mem)
{
	unsigned int i;
	u64 ram_above_1m = 0, low_end = 0, high = 0;
	bool sorted = true, hole_free = true;

	report_prefix_push("e820");
	nr_e820 = ZP8(ZP_E820_ENTRIES);
	if (!report(nr_e820 > 0 && nr_e820 <= E820_MAX, "%u entries", nr_e820)) {
		nr_e820 = 0;
		report_prefix_pop();
		return;
	}
	for (i = 0; i < nr_e820; i++) {
		const u8 *e = zp + ZP_E820_TABLE + i * E820_ENTRY_SIZE;

		e820[i].addr = rd(e, 8);
		e820[i].size = rd(e + 8, 8);
		e820[i].type = rd(e + 16, 4);
		printf("INFO: e820: [%#014lx, %#014lx) type %u\n", e820[i].addr,
		       e820[i].addr + e820[i].size, e820[i].type);
	}
	/*
	 * uvmm hands over a sorted map. Another VMM's zero page holds what
	 * its BIOS said (qboot: KVM's reserved pages before high RAM), which
	 * Linux sorts: so does the probe, before the same checks.
	 */
	if (other_vmm)
		sort_e820();
	for (i = 0; i < nr_e820; i++) {
		if (!e820[i].size ||
		    (i && e820[i - 1].addr + e820[i - 1].size > e820[i].addr))
			sorted = false;
		if (e820[i].type != E820_RAM)
			continue;
		if (overlaps(e820[i].addr, e820[i].size, PCI_HOLE_START,
			     4 * GiB_ - PCI_HOLE_START))
			hole_free = false;
		if (e820[i].addr + e820[i].size > MiB_) {
			u64 start = e820[i].addr < MiB_ ? MiB_ : e820[i].addr;

			ram_above_1m += e820[i].addr + e820[i].size - start;
		}
		if (e820[i].addr < 4 * GiB_)
			low_end = e820[i].addr + e820[i].size;
		else
			high += e820[i].size;
	}
	report(sorted, "sorted, non-empty, non-overlapping entries");
	report(hole_free, "no RAM in the PCI hole [%#lx, 4 GiB)", PCI_HOLE_START);
	report(e820[0].type == E820_RAM && e820[0].addr == 0 && e820[0].size >= 0x9f000,
	       "RAM from 0 up to the EBDA (%#lx bytes)", e820[0].size);
	report(!in_ram(0xf0000, 16), "the MP table's BIOS area is not RAM");
	if (mem) {
		report(ram_above_1m + MiB_ == mem,
		       "RAM adds up to -m %lu MiB (%lu MiB above 1 MiB)", mem >> 20,
		       ram_above_1m >> 20);
		report(low_end == (mem < PCI_HOLE_START ? mem : PCI_HOLE_START) &&
		       high == (mem > PCI_HOLE_START ? mem - PCI_HOLE_START : 0),
		       "low RAM ends at %#lx, %lu MiB above 4 GiB", low_end, high >> 20);
	} else {
		report_skip("no probe.mem=: RAM size not compared");
	}
	report(in_ram((u64)zp, 4096), "the zero page is in RAM");
	report(in_ram(ZP32(ZP_CMD_LINE_PTR), strlen(cmdline) + 1),
	       "the command line is in RAM");
	report(in_ram(load_addr, init_size), "the kernel's init_size area is in RAM");
	report_prefix_pop();
}

/* The probe's own GDT (same selectors) and identity map, as Linux builds its own. */
static void switch_to_own_tables(void)
{
	struct desc_ptr desc = { sizeof(gdt) - 1, (u64)gdt };
	u64 top = 4 * GiB_, i, gib;

	/* Linked at 2 MiB: a load address off a page boundary breaks these. */
	if ((u64)probe_pml4 & 0xfff)
		abort_test("loaded at %#lx, not page-aligned: no page tables possible",
			   load_addr);
	gdt[2] = 0x00af9b000000ffffULL;
	gdt[3] = 0x00cf93000000ffffULL;
	load_gdt(&desc);

	for (i = 0; i < nr_e820; i++)
		if (e820[i].addr + e820[i].size > top)
			top = e820[i].addr + e820[i].size;
	gib = (top + GiB_ - 1) / GiB_;
	if (gib > MAX_PD_PAGES)
		abort_test("RAM ends at %#lx: the probe maps at most %u GiB", top,
			   MAX_PD_PAGES);
	probe_pml4[0] = (u64)probe_pdpt | PTE_P | PTE_W;
	for (i = 0; i < gib; i++) {
		u64 j;

		probe_pdpt[i] = (u64)pds[i] | PTE_P | PTE_W;
		for (j = 0; j < 512; j++) {
			u64 addr = (i << 30) | (j << 21);

			pds[i][j] = addr | PTE_P | PTE_W | PTE_PS;
			if (addr >= PCI_HOLE_START && addr < 4 * GiB_)
				pds[i][j] |= PTE_PCD | PTE_PWT;
		}
	}
	write_cr3((u64)probe_pml4);
}

/* Both ends of every RAM entry hold what is written there. */
static void check_ram_is_ram(void)
{
	unsigned int i, bad = 0;

	for (i = 0; i < nr_e820; i++) {
		volatile u64 *ends[2];
		unsigned int k;

		if (e820[i].type != E820_RAM || e820[i].size < 16)
			continue;
		ends[0] = (volatile u64 *)e820[i].addr;
		ends[1] = (volatile u64 *)(e820[i].addr + e820[i].size - 8);
		for (k = 0; k < 2; k++) {
			u64 saved = *ends[k], pattern = 0x5aa5c33c0ff0e11eULL ^ (u64)ends[k];

			*ends[k] = pattern;
			if (*ends[k] != pattern)
				bad++;
			*ends[k] = saved;
		}
	}
	report(!bad, "e820: both ends of every RAM entry are RAM (%u bad)", bad);
}

static u32 cksum_table[256];

/* POSIX cksum: CRC-32 (0x04c11db7, MSB first) over the bytes, then the length. */
static u32 posix_cksum(const u8 *data, u64 len)
{
	u32 crc = 0, c;
	unsigned int i, k;
	u64 n;

	for (i = 0; i < 256; i++) {
		c = i << 24;
		for (k = 0; k < 8; k++)
			c = (c & 0x80000000) ? (c << 1) ^ 0x04c11db7 : c << 1;
		cksum_table[i] = c;
	}
	for (n = 0; n < len; n++)
		crc = (crc << 8) ^ cksum_table[(crc >> 24) ^ data[n]];
	for (n = len; n; n >>= 8)
		crc = (crc << 8) ^ cksum_table[(crc >> 24) ^ (n & 0xff)];
	return ~crc;
}

static void check_initrd(void)
{
	u64 image = ZP32(ZP_RAMDISK_IMAGE) | (u64)ZP32(ZP_EXT_RAMDISK_IMAGE) << 32;
	u64 size = ZP32(ZP_RAMDISK_SIZE) | (u64)ZP32(ZP_EXT_RAMDISK_SIZE) << 32;
	u64 want_size, want_sum;
	char none[8];

	report_prefix_push("initrd");
	if (param("probe.initrd", none, sizeof(none)) && !strcmp(none, "none")) {
		report(image == 0 && size == 0, "none given, none announced (%#lx+%#lx)",
		       image, size);
		report_prefix_pop();
		return;
	}
	if (!param_u64("probe.initrd_size", &want_size) ||
	    !param_u64("probe.initrd_cksum", &want_sum)) {
		report_skip("no probe.initrd_size= and probe.initrd_cksum=");
		report_prefix_pop();
		return;
	}
	report_info("ramdisk_image %#lx ramdisk_size %#lx", image, size);
	if (!report(size == want_size, "ramdisk_size is the file's %lu bytes (%lu)",
		    want_size, size) ||
	    !report(image && in_ram(image, size), "in one e820 RAM entry")) {
		report_prefix_pop();
		return;
	}
	report(!(image & 0xfff), "page-aligned");
	report(image + size - 1 <= ZP32(ZP_INITRD_ADDR_MAX),
	       "ends at or below initrd_addr_max %#x", ZP32(ZP_INITRD_ADDR_MAX));
	report(!overlaps(image, size, load_addr, init_size) &&
	       !overlaps(image, size, (u64)zp, 4096) &&
	       !overlaps(image, size, ZP32(ZP_CMD_LINE_PTR), strlen(cmdline) + 1),
	       "clear of the kernel's init_size area, the zero page and the command line");
	report(posix_cksum((const u8 *)image, size) == want_sum,
	       "bytes intact: POSIX cksum %lu", want_sum);
	report_prefix_pop();
}

static u32 be32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

#define SETUP_DTB 2
#define FDT_MAGIC 0xd00dfeed

static void check_setup_data(void)
{
	u64 next = ZP64(ZP_SETUP_DATA);
	unsigned int n = 0, dtbs = 0;
	bool ok = true, dtb_ok = false;

	while (next && n < 64) {
		u32 type, len;

		if (!in_ram(next, 16)) {
			ok = false;
			break;
		}
		type = rd((void *)(next + 8), 4);
		len = rd((void *)(next + 12), 4);
		report_info("setup_data at %#lx: type %u, %u bytes", next, type, len);
		if (!in_ram(next, 16 + (u64)len)) {
			ok = false;
			break;
		}
		/* Linux takes the first SETUP_DTB entry: a whole FDT blob. */
		if (type == SETUP_DTB && len >= 40 && dtbs++ == 0)
			dtb_ok = be32((void *)(next + 16)) == FDT_MAGIC &&
				 be32((void *)(next + 20)) <= len;
		next = rd((void *)next, 8);
		n++;
	}
	report(ok && !next, "setup_data: a chain of %u entries, all in RAM, terminated", n);
	if (other_vmm)
		report_skip("setup_data: probe.vmm=other: no device tree expected (%u found)", dtbs);
	else
		report(dtbs == 1 && dtb_ok,
		       "setup_data: one SETUP_DTB entry holding a whole device tree (%u found)",
		       dtbs);
}

static u8 sum8(const u8 *p, u64 len)
{
	u8 s = 0;

	while (len--)
		s += *p++;
	return s;
}

static const u8 *find_mpf(u64 start, u64 len)
{
	u64 a;

	for (a = start; a + 16 <= start + len; a += 16)
		if (!memcmp((const void *)a, "_MP_", 4) && !sum8((const u8 *)a, 16))
			return (const u8 *)a;
	return NULL;
}

/* Bus 0 through conf1, the way Linux's PCI probing first reaches it. */
static u32 probe_conf1_read(unsigned int slot, unsigned int reg)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc));
	return inl(0xcfc);
}

#define PCI_SLOTS 32
#define INTX_GSI_BASE 16	/* the swizzle uvmm documents (vmm/pci_irq.h) */
#define MP_IRQ_LOW_LEVEL 0x0f	/* polarity active low, trigger level */

static void check_mptable(u64 want_cpus)
{
	const u8 *mpf, *mpc, *e, *end;
	unsigned int count = 0, entries, bsps = 0, i, ioapics = 0, lint = 0;
	int isa_bus = -1, pci_bus = -1, ioapic_id = -1;
	bool sizes_ok = true, ids_unique = true, bsp_ok = false, refs_ok = true;
	unsigned int pci_entries = 0, pci_bad = 0, slot, pin, fns = 0, unrouted = 0;
	u8 routed[PCI_SLOTS] = { 0 };	/* bit pin - 1: an entry seen */
	u32 ver;

	report_prefix_push("MP table");
	bsp_apic_id = lapic_read(LAPIC_ID) >> 24;
	mpf = find_mpf(0, 0x400);
	if (!mpf)
		mpf = find_mpf(0x9fc00, 0x400);
	if (!mpf)
		mpf = find_mpf(0xf0000, 0x10000);
	if (!report(mpf != NULL, "floating pointer found, checksum 0 (at %p)", mpf)) {
		report_prefix_pop();
		return;
	}
	report(mpf[8] == 1 && (mpf[9] == 1 || mpf[9] == 4) && mpf[11] == 0,
	       "floating pointer: 16 bytes, spec 1.%u, a configuration table follows",
	       mpf[9]);
	mpc = (const u8 *)rd(mpf + 4, 4);
	if (!report(mpc && !memcmp(mpc, "PCMP", 4) && !sum8(mpc, rd(mpc + 4, 2)),
		    "configuration table at %p: PCMP, %lu bytes, checksum 0", mpc,
		    rd(mpc + 4, 2))) {
		report_prefix_pop();
		return;
	}
	entries = rd(mpc + 34, 2);
	e = mpc + 44;
	end = mpc + rd(mpc + 4, 2);
	while (e < end) {
		unsigned int size = e[0] == 0 ? 20 : e[0] <= 4 ? 8 : 0;

		if (!size || e + size > end) {
			sizes_ok = false;
			break;
		}
		switch (e[0]) {
		case 0:		/* processor */
			if (!(e[3] & 1))
				break;
			for (i = 0; i < count; i++)
				if (i < TR_MAX_CPUS && mp_ap_ids[i] == e[1])
					ids_unique = false;
			if (e[3] & 2) {
				bsps++;
				bsp_ok = e[1] == bsp_apic_id;
			} else if (mp_nr_aps < TR_MAX_CPUS) {
				mp_ap_ids[mp_nr_aps++] = e[1];
			}
			count++;
			break;
		case 1:		/* bus */
			if (!memcmp(e + 2, "ISA   ", 6))
				isa_bus = e[1];
			if (!memcmp(e + 2, "PCI   ", 6))
				pci_bus = e[1];
			break;
		case 2:		/* IOAPIC */
			if (e[3] & 1) {
				ioapics++;
				ioapic_id = e[1];
				ioapic_base = rd(e + 4, 4);
			}
			break;
		case 3:		/* I/O interrupt */
			if (e[6] != ioapic_id || e[7] >= 24)
				refs_ok = false;
			if (e[4] == isa_bus && e[5] == 4 && e[1] == 0)
				mp_isa_irq4_pin = e[7];
			if (pci_bus >= 0 && e[4] == pci_bus) {
				/* Source: slot in bits 2-6, pin A-D in 0-1. */
				slot = (e[5] >> 2) & 31;
				pin = (e[5] & 3) + 1;
				pci_entries++;
				if (e[1] != 0 || rd(e + 2, 2) != MP_IRQ_LOW_LEVEL ||
				    e[7] != INTX_GSI_BASE + (slot + pin - 1) % 8 ||
				    (routed[slot] & 1 << (pin - 1)))
					pci_bad++;
				routed[slot] |= 1 << (pin - 1);
			}
			break;
		case 4:		/* local interrupt */
			if ((e[1] == 3 && e[7] == 0) || (e[1] == 1 && e[7] == 1))
				lint++;
			break;
		}
		e += size;
	}
	mp_nr_cpus = count;
	/* qboot leaves the entry count 0: only the sizes hold it to account. */
	report(sizes_ok && e == end && (other_vmm || count <= entries),
	       "%u entries of known types fill it exactly", entries);
	if (want_cpus)
		report(count == want_cpus, "one enabled processor per vCPU (%u, -c %lu)",
		       count, want_cpus);
	else
		report_skip("no probe.cpus=: processor count not compared (%u)", count);
	report(bsps == 1 && bsp_ok && ids_unique,
	       "one BSP, APIC ID %u as the LAPIC says; APIC IDs unique", bsp_apic_id);
	report(isa_bus >= 0 && (pci_bus >= 0 || other_vmm) && isa_bus != pci_bus,
	       "ISA bus %d and PCI bus %d", isa_bus, pci_bus);
	report(ioapics == 1 && ioapic_base == IOAPIC_DEFAULT_BASE && refs_ok,
	       "IOAPIC %d at %#lx; every interrupt entry targets it", ioapic_id,
	       ioapic_base);
	report(mp_isa_irq4_pin >= 0, "ISA IRQ 4 (COM1) routed, to IOAPIC pin %d",
	       mp_isa_irq4_pin);
	report(lint == 2, "ExtINT on LINT0 and NMI on LINT1");
	if (other_vmm && pci_bus < 0) {
		report_skip("probe.vmm=other: no PCI bus, no INTx entries");
	} else {
		report(pci_entries > 0 && !pci_bad,
		       "PCI INTx: %u entries, level/active-low, pin A-D of slot S on IOAPIC pin 16 + (S + pin - 1) %% 8 (%u bad)",
		       pci_entries, pci_bad);
		for (slot = 0; slot < PCI_SLOTS; slot++) {
			if ((probe_conf1_read(slot, 0) & 0xffff) == 0xffff)
				continue;
			fns++;
			pin = (probe_conf1_read(slot, 0x3c) >> 8) & 0xff;
			if (pin >= 1 && pin <= 4 && !(routed[slot] & 1 << (pin - 1))) {
				report_info("00:%02x.0 uses pin %u: no MP entry", slot, pin);
				unrouted++;
			}
		}
		report(fns > 0 && !unrouted,
		       "every function's interrupt pin on bus 0 has its MP entry (%u functions)",
		       fns);
	}
	ver = ioapic_rd(IOAPIC_VERSION_REG);
	report((ver & 0xff) >= 0x11 && ((ver >> 16) & 0xff) + 1 == 24,
	       "the IOAPIC answers there: version %#x, %u pins", ver & 0xff,
	       ((ver >> 16) & 0xff) + 1);
	report_prefix_pop();
}

/* An ACPI table at addr: its length if the signature and checksum hold. */
static u32 acpi_table(u64 addr, const char *sig)
{
	const u8 *t = (const u8 *)addr;
	u32 len;

	if (!addr || addr >= 0x100000000ull || memcmp(t, sig, 4))
		return 0;
	len = rd(t + 4, 4);
	return len >= 36 && len < 0x10000 && !sum8(t, len) ? len : 0;
}

static bool aml_has(const u8 *aml, u32 len, const char *name)
{
	u32 i;

	for (i = 36; i + 4 <= len; i++)
		if (!memcmp(aml + i, name, 4))
			return true;
	return false;
}

/*
 * ACPI, as Linux finds it on a legacy boot: the RSDP by scanning the BIOS
 * area, then the XSDT. Its MADT must say what the MP table says (the same
 * CPUs and IOAPIC), and the DSDT must carry the PCI host bridge and its
 * routing (vmm/dsdt.asl), since an ACPI kernel ignores the MP table.
 */
static void check_acpi(u64 want_cpus)
{
	const u8 *rsdp = NULL, *xsdt, *madt = NULL, *fadt = NULL, *dsdt, *e;
	unsigned int lapics = 0, ioapics = 0, ids_in_mp = 0, i, j;
	bool mcfg = false;
	u32 len, n;
	u64 a;

	report_prefix_push("ACPI");
	for (a = 0xe0000; a < 0x100000 && !rsdp; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8) &&
		    !sum8((const u8 *)a, 20))
			rsdp = (const u8 *)a;
	if (other_vmm) {
		/* Another VMM's tables describe its own machine. */
		report_skip("probe.vmm=other: ACPI not compared (RSDP %s)",
			    rsdp ? "found" : "not found");
		report_prefix_pop();
		return;
	}
	if (!report(rsdp && rsdp[15] >= 2 && !sum8(rsdp, 36),
		    "RSDP in 0xe0000-0xfffff (at %p), revision 2, both checksums",
		    rsdp)) {
		report_prefix_pop();
		return;
	}
	report(!in_ram((u64)rsdp, 36), "the RSDP is not in e820 RAM");
	xsdt = (const u8 *)rd(rsdp + 24, 8);
	len = acpi_table((u64)xsdt, "XSDT");
	if (!report(len, "XSDT at %p: checksum 0", xsdt)) {
		report_prefix_pop();
		return;
	}
	for (i = 0; 36 + i * 8 + 8 <= len; i++) {
		u64 t = rd(xsdt + 36 + i * 8, 8);

		if (acpi_table(t, "APIC"))
			madt = (const u8 *)t;
		else if (acpi_table(t, "FACP"))
			fadt = (const u8 *)t;
		else if (acpi_table(t, "MCFG"))
			mcfg = true;
	}
	report(madt && fadt && mcfg, "the XSDT lists a MADT, a FADT and an MCFG");
	if (madt) {
		n = rd(madt + 4, 4);
		for (e = madt + 44; e + 2 <= madt + n && e[1] >= 2; e += e[1]) {
			if (e[0] == 0 && (rd(e + 4, 4) & 1)) {
				lapics++;
				if (e[3] == bsp_apic_id)
					ids_in_mp++;
				for (j = 0; j < mp_nr_aps; j++)
					if (mp_ap_ids[j] == e[3])
						ids_in_mp++;
			} else if (e[0] == 1 && rd(e + 4, 4) == ioapic_base) {
				ioapics++;
			}
		}
		report(lapics == mp_nr_cpus && ids_in_mp == lapics &&
		       (!want_cpus || lapics == want_cpus),
		       "MADT: %u enabled LAPICs, the MP table's processors", lapics);
		report(ioapics == 1, "MADT: the IOAPIC at %#lx, as the MP table", ioapic_base);
	}
	if (fadt) {
		dsdt = (const u8 *)rd(fadt + 140, 8);	/* X_DSDT */
		if (!dsdt)
			dsdt = (const u8 *)rd(fadt + 40, 4);
		len = acpi_table((u64)dsdt, "DSDT");
		report(len && aml_has(dsdt, len, "PCI0") && aml_has(dsdt, len, "_PRT") &&
		       aml_has(dsdt, len, "_CRS") && aml_has(dsdt, len, "_S5_"),
		       "DSDT (%u bytes): PCI0 with _CRS and _PRT, and _S5", len);
	}
	report_prefix_pop();
}

static void check_cpuid_bsp(u64 want_cpus)
{
	u32 a, b, c, d, max, ext;
	bool ok;

	report_prefix_push("CPUID");
	cpuid(0, 0, &max, &b, &c, &d);
	cpuid(1, 0, &a, &b, &c, &d);
	report(b >> 24 == bsp_apic_id, "leaf 1 initial APIC ID %u is the LAPIC's", b >> 24);
	if (want_cpus > 1)
		report((d & (1u << 28)) && ((b >> 16) & 0xff) >= want_cpus,
		       "leaf 1: HTT and %u logical processors per package", (b >> 16) & 0xff);
	report(c & (1u << 31), "leaf 1: hypervisor bit");
	if (max >= 0xb) {
		u32 b1;

		cpuid(0xb, 0, &a, &b, &c, &d);
		if (b & 0xffff) {
			ok = d == bsp_apic_id;
			cpuid(0xb, 1, &a, &b1, &c, &d);
			if (want_cpus)
				ok = ok && (b1 & 0xffff) == want_cpus &&
				     (1u << (a & 0x1f)) >= want_cpus;
			report(ok, "leaf 0xb: x2APIC ID %u, %u logical processors at core level",
			       d, b1 & 0xffff);
		} else {
			report_skip("leaf 0xb not reported");
		}
	}
	cpuid(0x80000000, 0, &ext, &b, &c, &d);
	if (ext >= 0x8000001e) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		if (c & (1u << 22)) {	/* TOPOEXT */
			cpuid(0x8000001e, 0, &a, &b, &c, &d);
			report(a == bsp_apic_id && (b & 0xff) == bsp_apic_id &&
			       !((b >> 8) & 0xff),
			       "leaf 0x8000001e: extended APIC ID %u, core %u, 1 thread", a,
			       b & 0xff);
		}
	}
	report_prefix_pop();
}

static unsigned int bcd(u8 v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

static void check_rtc(u64 mem, u64 want_cpus)
{
	bool binary = cmos_read(0x0b) & 0x04;
	unsigned int sec, min, hour, day, mon, year;
	u64 low = mem < PCI_HOLE_START ? mem : PCI_HOLE_START, high;

	report_prefix_push("RTC");
	report(cmos_read(0x0d) & 0x80, "register D: valid RAM and time");
	sec = bcd(cmos_read(0x00), binary);
	min = bcd(cmos_read(0x02), binary);
	hour = bcd(cmos_read(0x04) & 0x7f, binary);
	day = bcd(cmos_read(0x07), binary);
	mon = bcd(cmos_read(0x08), binary);
	year = bcd(cmos_read(0x09), binary) + 100 * bcd(cmos_read(0x32), binary);
	report(year >= 2024 && mon >= 1 && mon <= 12 && day >= 1 && day <= 31 &&
	       hour < 24 && min < 60 && sec < 60,
	       "the time is a date: %04u-%02u-%02u %02u:%02u:%02u UTC", year, mon, day,
	       hour, min, sec);
	if (mem) {
		high = mem > PCI_HOLE_START ? mem - PCI_HOLE_START : 0;
		report((u64)(cmos_read(0x34) | cmos_read(0x35) << 8) ==
		       (low > 16 * MiB_ ? (low - 16 * MiB_) >> 16 : 0) &&
		       (cmos_read(0x5b) | cmos_read(0x5c) << 8 | (u64)cmos_read(0x5d) << 16) ==
		       high >> 16,
		       "CMOS memory bytes: %lu MiB above 16 MiB, %lu MiB above 4 GiB",
		       low > 16 * MiB_ ? (low - 16 * MiB_) >> 20 : 0, high >> 20);
	}
	/* Byte 0x5f is a QEMU pc convention uvmm keeps; microvm leaves it 0. */
	if (want_cpus && other_vmm)
		report_skip("probe.vmm=other: CMOS CPU count %u not compared",
			    cmos_read(0x5f) + 1U);
	else if (want_cpus)
		report(cmos_read(0x5f) + 1U == want_cpus, "CMOS CPU count %u",
		       cmos_read(0x5f) + 1U);
	report_prefix_pop();
}

/* The UART's THR-empty interrupt, routed as the MP table says, reaches the CPU. */
static void check_serial_irq(void)
{
	unsigned int pin = mp_isa_irq4_pin >= 0 ? (unsigned int)mp_isa_irq4_pin : 4;
	unsigned long spins;
	u8 mcr;

	outb(0x21, 0xff);		/* the PICs stay out of it */
	outb(0xa1, 0xff);
	lapic_write(LAPIC_SVR, 0x100 | PROBE_SPURIOUS_VECTOR);
	lapic_write(LAPIC_TPR, 0);
	ioapic_wr(IOAPIC_REDIR(pin) + 1, bsp_apic_id << 24);
	ioapic_wr(IOAPIC_REDIR(pin), PROBE_UART_VECTOR);	/* fixed, edge, high */
	uart_irqs = 0;
	mcr = inb(COM1 + UART_MCR);
	outb(COM1 + UART_MCR, mcr | UART_MCR_OUT2);
	outb(COM1 + UART_IER, UART_IER_THRI);
	asm volatile("sti" : : : "memory");
	for (spins = 0; spins < 20000000 && !uart_irqs; spins++)
		cpu_relax();
	asm volatile("cli" : : : "memory");
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_MCR, mcr);
	ioapic_wr(IOAPIC_REDIR(pin), IOAPIC_MASKED);
	report(uart_irqs >= 1 && (uart_iir_seen & 0x0f) == 0x02,
	       "serial: THR-empty interrupt through IOAPIC pin %u (%u interrupts, IIR %#x)",
	       pin, uart_irqs, uart_iir_seen);
}

static bool send_ipi(unsigned int apic_id, u32 icr)
{
	unsigned int i;

	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	for (i = 0; i < 1000000; i++)
		if (!(lapic_read(LAPIC_ICR_LO) & ICR_BUSY))
			return true;
	return false;
}

/* A page below 1 MiB, in RAM, clear of everything the loader handed us. */
static u64 trampoline_page(void)
{
	u64 page, next;
	unsigned int n;

	for (page = 0x9e000; page >= 0x1000; page -= 0x1000) {
		bool clear = in_ram(page, 0x1000) &&
			     !overlaps(page, 0x1000, (u64)zp, 4096) &&
			     !overlaps(page, 0x1000, ZP32(ZP_CMD_LINE_PTR),
				       strlen(cmdline) + 1);

		for (next = ZP64(ZP_SETUP_DATA), n = 0; clear && next && n < 64; n++) {
			u32 len = rd((void *)(next + 12), 4);

			clear = !overlaps(page, 0x1000, next, 16 + (u64)len);
			next = rd((void *)next, 8);
		}
		if (clear)
			return page;
	}
	return 0;
}

static u8 rtc_seconds(void)
{
	return cmos_read(0x00);
}

static void check_smp(u64 want_cpus)
{
	u64 size = trampoline_end - trampoline_start, page;
	volatile u32 *count;
	unsigned int i, good = 0, ticks = 0;
	unsigned long spins;
	u8 *copy, sec, last;
	u32 gdt_base, pm;

	report_prefix_push("SMP");
	if (mp_nr_aps == 0) {
		report(want_cpus <= 1, "one vCPU: no AP to start");
		report_prefix_pop();
		return;
	}
	page = trampoline_page();
	if (!report(page != 0 && size <= 0x1000, "trampoline page %#lx for %lu bytes",
		    page, size)) {
		report_prefix_pop();
		return;
	}
	copy = (u8 *)page;
	memcpy(copy, trampoline_start, size);
	gdt_base = page + (tr_gdt - trampoline_start);
	pm = page + (tr_pm - trampoline_start);
	memcpy(copy + (tr_gdt_desc - trampoline_start) + 2, &gdt_base, 4);
	memcpy(copy + (tr_far_ptr - trampoline_start), &pm, 4);
	count = (volatile u32 *)(copy + (tr_count - trampoline_start));

	lapic_write(LAPIC_SVR, 0x100 | PROBE_SPURIOUS_VECTOR);
	for (i = 0; i < mp_nr_aps; i++) {
		unsigned int id = mp_ap_ids[i];

		if (!send_ipi(id, ICR_INIT_ASSERT) || !send_ipi(id, ICR_INIT_DEASSERT) ||
		    !send_ipi(id, ICR_STARTUP | (page >> 12)) ||
		    !send_ipi(id, ICR_STARTUP | (page >> 12)))
			report(false, "IPIs to APIC ID %u delivered", id);
	}
	/* Wait up to ~5 s of RTC time (and a bounded number of spins). */
	last = rtc_seconds();
	for (spins = 0; *count < mp_nr_aps && ticks < 5 && spins < 2000000000UL; spins++) {
		cpu_relax();
		if (spins % 4096 == 0) {
			sec = rtc_seconds();
			if (sec != last) {
				ticks++;
				last = sec;
			}
		}
	}
	report(*count == mp_nr_aps, "%u of %u APs checked in after INIT/SIPI/SIPI",
	       *count, mp_nr_aps);
	for (i = 0; i < mp_nr_aps; i++) {
		unsigned int id = mp_ap_ids[i];
		const u8 *rec;
		u32 lapic, cpuid1, x2apic, magic;

		if (id >= TR_MAX_CPUS)
			continue;
		rec = copy + (tr_records - trampoline_start) + id * TR_RECORD_SIZE;
		lapic = rd(rec, 4);
		cpuid1 = rd(rec + 4, 4);
		x2apic = rd(rec + 8, 4);
		magic = rd(rec + 12, 4);
		if (magic == TR_MAGIC && lapic == id && cpuid1 == id &&
		    (x2apic == id || x2apic == 0xffffffff))
			good++;
		else
			printf("INFO: AP %u: record magic %#x LAPIC ID %u CPUID 1 %u CPUID 0xb %#x\n",
			       id, magic, lapic, cpuid1, x2apic);
	}
	report(good == mp_nr_aps,
	       "every AP's LAPIC ID and CPUID APIC IDs (leaf 1, 0xb) match the MP table (%u of %u)",
	       good, mp_nr_aps);
	report_prefix_pop();
}

void probe_main(u64 zero_page)
{
	u64 mem = 0, cpus = 0;
	char flag[8];
	int status;

	serial_init();
	zp = (const u8 *)zero_page;
	load_addr = (u64)_kernel_start;
	init_size = (u64)_end - load_addr;
	idt_init();
	printf("bzimage-probe: running at %#lx, zero page at %#lx\n", load_addr, zero_page);

	check_entry_state();
	read_cmdline();
	other_vmm = param("probe.vmm", flag, sizeof(flag)) && !strcmp(flag, "other");
	check_header();
	param_u64("probe.mem", &mem);
	param_u64("probe.cpus", &cpus);
	check_boot_page_tables();
	read_e820(mem);
	switch_to_own_tables();
	check_ram_is_ram();
	check_initrd();
	check_setup_data();
	check_mptable(cpus);
	check_acpi(cpus);
	check_cpuid_bsp(cpus);
	check_rtc(mem, cpus);
	check_serial_irq();
	check_smp(cpus);

	status = report_summary();
	if (param("probe.reset", flag, sizeof(flag)) && status == 0) {
		printf("bzimage-probe: resetting through the i8042\n");
		outb(0x64, 0xfe);
		for (unsigned long i = 0; i < 100000000UL; i++)
			cpu_relax();
		printf("FAIL: the reset through the i8042 did not stop the VM\n");
		status = 1;
	}
	exit(status);
}
