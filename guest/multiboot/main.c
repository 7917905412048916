// SPDX-License-Identifier: MIT
/*
 * multiboot: booted as a Multiboot 1 kernel (a 32-bit ELF, as
 * kvm-unit-tests' x86 tests are), it checks what the loader handed over
 * and what fw_cfg says against the command line the boot test passes:
 *   mem=SIZE cpus=N module=TEXT [pc-testdev] [shutdown]
 * (the module file holds TEXT followed by a newline). With pc-testdev it
 * checks that device's ports, IRQ lines and iomem, without it that they
 * are absent; with shutdown it ends by writing "Shutdown" to port 0x8900.
 */
#include "guest.h"

#define MB_BOOT_MAGIC	0x2badb002
#define MBI_MEMORY	(1 << 0)
#define MBI_CMDLINE	(1 << 2)
#define MBI_MODS	(1 << 3)
#define MBI_MEM_MAP	(1 << 6)
#define MBI_LOADER_NAME	(1 << 9)

#define FW_CFG_SEL	0x510
#define FW_CFG_DATA	0x511

struct mbi {
	u32 flags;
	u32 mem_lower;
	u32 mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count;
	u32 mods_addr;
	u32 syms[4];
	u32 mmap_length;
	u32 mmap_addr;
	u32 drives_length;
	u32 drives_addr;
	u32 config_table;
	u32 boot_loader_name;
} __attribute__((packed));

struct mb_mmap {
	u32 size;
	u64 addr;
	u64 len;
	u32 type;
} __attribute__((packed));

struct mb_module {
	u32 start;
	u32 end;
	u32 cmdline;
	u32 reserved;
};

#define TESTDEV_PORT	0xe0
#define TESTDEV_FLUSH	0xe4
#define TESTDEV_BYTE	0xe8
#define TESTDEV_IRQ	0x2000
#define TESTDEV_IOMEM	0xff000000ULL
#define SHUTDOWN_PORT	0x8900
#define VEC_LINE	0x60

extern u32 mb_entry_eax, mb_entry_ebx, mb_entry_cr0, mb_entry_eflags;
extern char __image_end[];

static u64 fw_cfg_get(u16 key, unsigned int bytes)
{
	u64 r = 0;
	unsigned int i;

	outw(FW_CFG_SEL, key);
	for (i = 0; i < bytes; i++)
		r |= (u64)inb(FW_CFG_DATA) << (i * 8);
	return r;
}

static u64 param_u64(const char *name, bool size)
{
	char val[64];
	u64 v = 0;

	if (!cmdline_param(name, val, sizeof(val)))
		abort_test("no %s= on the command line", name);
	if (size ? !parse_size(val, &v) : !(v = strtoull(val, NULL, 0)))
		abort_test("%s=%s is not a number", name, val);
	return v;
}

/* The RAM entry of the map that starts at addr; its end, or 0. */
static u64 ram_end_from(const struct mbi *mbi, u64 addr)
{
	u32 off;

	for (off = 0; off < mbi->mmap_length; ) {
		const struct mb_mmap *e = (const void *)(u64)(mbi->mmap_addr + off);

		if (e->type == 1 && e->addr == addr)
			return e->addr + e->len;
		off += e->size + 4;
	}
	return 0;
}

static void check_entry(void)
{
	report(mb_entry_eax == MB_BOOT_MAGIC, "eax at entry is %#x (want %#x)",
	       mb_entry_eax, MB_BOOT_MAGIC);
	report((mb_entry_cr0 & CR0_PE) && !(mb_entry_cr0 & CR0_PG),
	       "entered in protected mode with paging off (cr0 %#x)",
	       mb_entry_cr0);
	report(!(mb_entry_eflags & RFLAGS_IF), "interrupts off at entry");
}

static void check_memory(const struct mbi *mbi, u64 mem)
{
	u64 ram = 0, low_end, high_end;
	unsigned int n = 0, bad_size = 0;
	u32 off;

	report((mbi->flags & (MBI_MEMORY | MBI_MEM_MAP)) ==
	       (MBI_MEMORY | MBI_MEM_MAP), "flags %#x: memory fields and map",
	       mbi->flags);
	for (off = 0; off < mbi->mmap_length; n++) {
		const struct mb_mmap *e = (const void *)(u64)(mbi->mmap_addr + off);

		if (e->size != 20)
			bad_size++;
		if (e->type == 1)
			ram += e->len;
		report_info("mmap: addr %#lx len %#lx type %u", e->addr, e->len,
			    e->type);
		off += e->size + 4;
	}
	report(n > 0 && !bad_size, "%u memory map entries of 20 bytes", n);
	report(boot_memmap_count() == n, "the runtime sees the same map");
	/* Below 1 MiB the map keeps the EBDA and the BIOS area out. */
	report(ram + 0x400 + 0x60000 == mem,
	       "RAM in the map %#lx + 1 MiB's holes = mem=%#lx", ram, mem);
	low_end = ram_end_from(mbi, 0);
	high_end = ram_end_from(mbi, 0x100000);
	report(low_end && mbi->mem_lower == low_end >> 10,
	       "mem_lower %u KiB matches the map", mbi->mem_lower);
	report(high_end && mbi->mem_upper == (high_end - 0x100000) >> 10,
	       "mem_upper %u KiB matches the map", mbi->mem_upper);
}

static void check_cmdline(const struct mbi *mbi)
{
	const char *cmd = (const char *)(u64)mbi->cmdline;
	const char *sp;
	static const char name[] = "multiboot.elf";

	if (!report(mbi->flags & MBI_CMDLINE, "command line given"))
		return;
	report_info("command line: %s", cmd);
	sp = strchr(cmd, ' ');
	if (!sp)
		sp = cmd + strlen(cmd);
	/* argv[0] first, as QEMU gives it: the kernel's file name. */
	report(sp - cmd >= (long)sizeof(name) - 1 &&
	       !strncmp(sp - (sizeof(name) - 1), name, sizeof(name) - 1),
	       "the first word is the kernel's name");
	report(!strcmp(boot_cmdline(), cmd), "the runtime sees the same line");
	if (mbi->flags & MBI_LOADER_NAME)
		report_info("boot loader: %s",
			    (const char *)(u64)mbi->boot_loader_name);
}

static void check_module(const struct mbi *mbi)
{
	const struct mb_module *m = (const void *)(u64)mbi->mods_addr;
	char want[128];
	size_t len;

	if (!report((mbi->flags & MBI_MODS) && mbi->mods_count == 1,
		    "one module (flags %#x, count %u)", mbi->flags,
		    mbi->mods_count))
		return;
	if (!cmdline_param("module", want, sizeof(want)))
		abort_test("no module= on the command line");
	len = strlen(want);
	report(m->end - m->start == len + 1, "module is %u bytes (want %zu)",
	       m->end - m->start, len + 1);
	report(!memcmp((const void *)(u64)m->start, want, len) &&
	       ((const char *)(u64)m->start)[len] == '\n',
	       "module holds the file's bytes");
	report(!(m->start & 0xfff) && m->start >= (u64)__image_end,
	       "module at %#x: page-aligned, after the image (ends %#lx)",
	       m->start, (u64)__image_end);
	report(m->cmdline && strlen((const char *)(u64)m->cmdline) > 0,
	       "module command line '%s'",
	       m->cmdline ? (const char *)(u64)m->cmdline : "");
}

static void check_fw_cfg(u64 mem, u64 cpus)
{
	char sig[5];
	unsigned int i;
	u64 ram_size, max_ram;

	outw(FW_CFG_SEL, 0);
	for (i = 0; i < 4; i++)
		sig[i] = inb(FW_CFG_DATA);
	sig[4] = '\0';
	report(!strcmp(sig, "QEMU"), "fw_cfg signature '%s'", sig);
	report(fw_cfg_get(0x01, 4) & 1, "fw_cfg ID: traditional interface");
	ram_size = fw_cfg_get(0x03, 8);
	report(ram_size == mem, "fw_cfg RAM_SIZE %#lx = mem=%#lx", ram_size, mem);
	report(fw_cfg_get(0x05, 2) == cpus, "fw_cfg NB_CPUS %lu = cpus=%lu",
	       fw_cfg_get(0x05, 2), cpus);
	report(fw_cfg_get(0x0f, 2) == cpus, "fw_cfg MAX_CPUS %lu = cpus=%lu",
	       fw_cfg_get(0x0f, 2), cpus);
	max_ram = fw_cfg_get(0x11, 8);
	report(max_ram >= mem, "fw_cfg MAX_RAM %#lx at or above the RAM size",
	       max_ram);
	report(fw_cfg_get(0x19, 4) == 0, "fw_cfg file directory is empty");
}

static u8 sum8(const void *p, u32 len)
{
	const u8 *b = p;
	u8 s = 0;

	while (len--)
		s += *b++;
	return s;
}

/* The RSDP as an OS finds it: 16-byte steps through 0xe0000-0xfffff. */
static const u8 *find_rsdp(void)
{
	u64 a;

	for (a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8) &&
		    !sum8((const void *)a, 20))
			return (const u8 *)a;
	return NULL;
}

static void check_acpi(u64 cpus)
{
	const u8 *rsdp = find_rsdp(), *rsdt, *t, *fadt = NULL, *madt = NULL, *e;
	u32 i, n, len, bad = 0, lapics = 0, addr, port, t0, t1, tries;

	report_prefix_push("acpi");
	if (!report(rsdp != NULL, "RSDP found in the BIOS area"))
		goto out;
	report(!sum8(rsdp, 36), "RSDP extended checksum");
	memcpy(&addr, rsdp + 16, 4);
	rsdt = (const u8 *)(u64)addr;
	memcpy(&len, rsdt + 4, 4);
	report(!memcmp(rsdt, "RSDT", 4) && !sum8(rsdt, len), "RSDT checksum");
	n = (len - 36) / 4;
	for (i = 0; i < n; i++) {
		memcpy(&addr, rsdt + 36 + i * 4, 4);
		t = (const u8 *)(u64)addr;
		memcpy(&len, t + 4, 4);
		bad += sum8(t, len) != 0;
		if (!memcmp(t, "FACP", 4))
			fadt = t;
		if (!memcmp(t, "APIC", 4))
			madt = t;
	}
	report(n >= 3 && !bad, "%u tables in the RSDT, every checksum right", n);
	if (report(madt != NULL, "MADT present")) {
		memcpy(&len, madt + 4, 4);
		for (e = madt + 44; e < madt + len && e[1]; e += e[1])
			lapics += e[0] == 0 && (e[4] & 1);
		report(lapics == cpus, "MADT: %u enabled local APICs = cpus=%lu",
		       lapics, cpus);
	}
	if (report(fadt != NULL, "FADT present")) {
		memcpy(&port, fadt + 76, 4);
		t0 = inl(port) & 0xffffff;
		/* It counts: a later read differs (no rate here: see test_acpi). */
		for (tries = 0, t1 = t0; t1 == t0 && tries < 1000000; tries++)
			t1 = inl(port) & 0xffffff;
		report(port && t1 != t0, "PM timer at port %#x counts (%#x, then %#x)",
		       port, t0, t1);
	}
out:
	report_prefix_pop();
}

static void line_handler(unsigned int vector)
{
	(void)vector;
}

/* Pulse ISA line gsi through port 0x2000 + gsi: one edge, one interrupt. */
static bool line_interrupts(unsigned int gsi)
{
	u64 before = irq_count(VEC_LINE);
	bool got;

	ioapic_route(gsi, VEC_LINE, false, false, lapic_id());
	outb(TESTDEV_IRQ + gsi, 1);
	outb(TESTDEV_IRQ + gsi, 0);
	got = irq_wait(VEC_LINE, before + 1, 2000);
	ioapic_mask(gsi);
	return got && irq_count(VEC_LINE) == before + 1;
}

static void check_pc_testdev(void)
{
	static u32 flushed[1024] __attribute__((aligned(4096)));
	u64 q = 0x0123456789abcdefULL;
	unsigned int i, bad = 0;

	report_prefix_push("pc-testdev");
	outl(TESTDEV_PORT, 0x12345678);
	outb(TESTDEV_PORT + 2, 0xab);
	report(inl(TESTDEV_PORT) == 0x12ab5678 && inw(TESTDEV_PORT + 1) == 0xab56,
	       "0xe0: scratch register with byte lanes (%#x)",
	       inl(TESTDEV_PORT));
	outw(TESTDEV_BYTE, 0xcafe);
	report(inl(TESTDEV_PORT) == 0x12abcafe && inl(TESTDEV_BYTE) == 0x12abcafe,
	       "0xe8: the same register byte by byte (%#x)", inl(TESTDEV_BYTE));

	writeq(TESTDEV_IOMEM + 0x100, q);
	writel(TESTDEV_IOMEM + 0xfffc, 0x55aa55aa);
	report(readq(TESTDEV_IOMEM + 0x100) == q &&
	       readb(TESTDEV_IOMEM + 0x101) == 0xcd &&
	       readl(TESTDEV_IOMEM + 0xfffc) == 0x55aa55aa,
	       "iomem at 0xff000000 keeps what is written");

	for (i = 0; i < 1024; i++)
		flushed[i] = i * 7;
	outl(TESTDEV_FLUSH, (u32)(u64)flushed);
	for (i = 0; i < 1024; i++)
		bad += flushed[i] != i * 7;
	flushed[3] = 1;
	report(!bad && flushed[3] == 1, "0xe4: a flushed page keeps its contents");

	lapic_enable();
	set_irq_handler(VEC_LINE, line_handler);
	report(line_interrupts(10), "0x200a: ISA line 10 interrupts through the IOAPIC");
	report(line_interrupts(14), "0x200e: ISA line 14 interrupts through the IOAPIC");
	report(line_interrupts(23), "0x2017: line 23 interrupts through the IOAPIC");
	report_prefix_pop();
}

static void check_no_pc_testdev(void)
{
	report(inl(TESTDEV_PORT) == 0xffffffff &&
	       readl(TESTDEV_IOMEM) == 0xffffffff,
	       "no pc-testdev unless asked for: 0xe0 and 0xff000000 read all-ones");
}

static void shutdown(void)
{
	const char *s = "Shutdown";

	printf("shutdown: writing \"%s\" to port %#x\n", s, SHUTDOWN_PORT);
	while (*s)
		outb(SHUTDOWN_PORT, *s++);
	report(false, "still running after the shutdown string");
}

int main(void)
{
	const struct mbi *mbi = (const void *)(u64)mb_entry_ebx;
	u64 mem = param_u64("mem", true), cpus = param_u64("cpus", false);
	char flag[8];

	report_prefix_push("multiboot");
	check_entry();
	check_memory(mbi, mem);
	check_cmdline(mbi);
	check_module(mbi);
	report_prefix_pop();
	check_fw_cfg(mem, cpus);
	check_acpi(cpus);
	if (cmdline_param("pc-testdev", flag, sizeof(flag)))
		check_pc_testdev();
	else
		check_no_pc_testdev();
	if (cmdline_param("shutdown", flag, sizeof(flag)))
		shutdown();
	return report_summary();
}
