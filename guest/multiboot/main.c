// SPDX-License-Identifier: MIT
/*
 * multiboot: booted as a Multiboot 1 kernel (a 32-bit ELF, as
 * kvm-unit-tests' x86 tests are), it checks what the loader handed over
 * and what fw_cfg says against the command line the boot test passes:
 *   mem=SIZE cpus=N module=TEXT [pc-testdev] [shutdown] [s3=wake|nowake]
 * (the module file holds TEXT followed by a newline). With pc-testdev it
 * checks that device's ports, IRQ lines and iomem, without it that they
 * are absent; with shutdown it ends by writing "Shutdown" to port 0x8900;
 * with s3 it ends by sleeping to RAM (check_s3()).
 */
#include "guest.h"
#include "cmos.h"
#include "abi/fw_cfg.h"
#include "abi/machine.h"
#include "abi/mc146818.h"
#include "abi/multiboot.h"

#define VEC_LINE	0x60

extern u32 mb_entry_eax, mb_entry_ebx, mb_entry_cr0, mb_entry_eflags;
extern char __image_end[];

static u64 fw_cfg_get(u16 key, unsigned int bytes)
{
	u64 r = 0;
	unsigned int i;

	outw(FW_CFG_PORT_SEL, key);
	for (i = 0; i < bytes; i++)
		r |= (u64)inb(FW_CFG_PORT_DATA) << (i * 8);
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
static u64 ram_end_from(const struct multiboot_info *mbi, u64 addr)
{
	u32 off;

	for (off = 0; off < mbi->mmap_length; ) {
		const struct multiboot_mmap_entry *e =
			(const void *)(u64)(mbi->mmap_addr + off);

		if (e->type == 1 && e->addr == addr)
			return e->addr + e->len;
		off += e->size + 4;
	}
	return 0;
}

static void check_entry(void)
{
	report(mb_entry_eax == MULTIBOOT_BOOT_MAGIC, "eax at entry is %#x (want %#x)",
	       mb_entry_eax, MULTIBOOT_BOOT_MAGIC);
	report((mb_entry_cr0 & CR0_PE) && !(mb_entry_cr0 & CR0_PG),
	       "entered in protected mode with paging off (cr0 %#x)",
	       mb_entry_cr0);
	report(!(mb_entry_eflags & RFLAGS_IF), "interrupts off at entry");
}

static void check_memory(const struct multiboot_info *mbi, u64 mem)
{
	u64 ram = 0, low_end, high_end;
	unsigned int n = 0, bad_size = 0;
	u32 off;

	report((mbi->flags & (MBI_MEMORY | MBI_MEM_MAP)) ==
	       (MBI_MEMORY | MBI_MEM_MAP), "flags %#x: memory fields and map",
	       mbi->flags);
	for (off = 0; off < mbi->mmap_length; n++) {
		const struct multiboot_mmap_entry *e =
			(const void *)(u64)(mbi->mmap_addr + off);

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

static void check_cmdline(const struct multiboot_info *mbi)
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
	if (mbi->flags & MBI_BOOT_LOADER_NAME)
		report_info("boot loader: %s",
			    (const char *)(u64)mbi->boot_loader_name);
}

static void check_module(const struct multiboot_info *mbi)
{
	const struct multiboot_module *m = (const void *)(u64)mbi->mods_addr;
	char want[128];
	size_t len;

	if (!report((mbi->flags & MBI_MODS) && mbi->mods_count == 1,
		    "one module (flags %#x, count %u)", mbi->flags,
		    mbi->mods_count))
		return;
	if (!cmdline_param("module", want, sizeof(want)))
		abort_test("no module= on the command line");
	len = strlen(want);
	report(m->mod_end - m->mod_start == len + 1, "module is %u bytes (want %zu)",
	       m->mod_end - m->mod_start, len + 1);
	report(!memcmp((const void *)(u64)m->mod_start, want, len) &&
	       ((const char *)(u64)m->mod_start)[len] == '\n',
	       "module holds the file's bytes");
	report(!(m->mod_start & 0xfff) && m->mod_start >= (u64)__image_end,
	       "module at %#x: page-aligned, after the image (ends %#lx)",
	       m->mod_start, (u64)__image_end);
	report(m->cmdline && strlen((const char *)(u64)m->cmdline) > 0,
	       "module command line '%s'",
	       m->cmdline ? (const char *)(u64)m->cmdline : "");
}

static void check_fw_cfg(u64 mem, u64 cpus)
{
	char sig[5];
	unsigned int i;
	u64 ram_size, max_ram;

	outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	for (i = 0; i < 4; i++)
		sig[i] = inb(FW_CFG_PORT_DATA);
	sig[4] = '\0';
	report(!strcmp(sig, "QEMU"), "fw_cfg signature '%s'", sig);
	report(fw_cfg_get(FW_CFG_ID, 4) & FW_CFG_ID_TRADITIONAL,
	       "fw_cfg ID: traditional interface");
	ram_size = fw_cfg_get(FW_CFG_RAM_SIZE, 8);
	report(ram_size == mem, "fw_cfg RAM_SIZE %#lx = mem=%#lx", ram_size, mem);
	report(fw_cfg_get(FW_CFG_NB_CPUS, 2) == cpus,
	       "fw_cfg NB_CPUS %lu = cpus=%lu",
	       fw_cfg_get(FW_CFG_NB_CPUS, 2), cpus);
	report(fw_cfg_get(FW_CFG_MAX_CPUS, 2) == cpus,
	       "fw_cfg MAX_CPUS %lu = cpus=%lu",
	       fw_cfg_get(FW_CFG_MAX_CPUS, 2), cpus);
	max_ram = fw_cfg_get(FW_CFG_MAX_RAM, 8);
	report(max_ram >= mem, "fw_cfg MAX_RAM %#lx at or above the RAM size",
	       max_ram);
	report(fw_cfg_get(FW_CFG_FILE_DIR, 4) == 0,
	       "fw_cfg file directory is empty");
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

/*
 * ACPI S3, the way kvm-unit-tests' s3 test sleeps: a real-mode stub copied
 * to S3_STUB is the FACS waking vector; the RTC alarm fires every second
 * and RTC_EN (s3=wake) makes it a wake event; then _S3's SLP_TYP with
 * SLP_EN. The stub, in real mode after the wake, reports through the
 * debug-exit port: 0 (status 1) when PM1 status shows WAK_STS and RTC_STS
 * and the marker written before the sleep is intact (nothing after the
 * sleep write ran); 1 (status 3) without the status bits, 2 (status 5)
 * with the marker overwritten. With s3=nowake RTC_EN stays clear, so the
 * machine must sleep until uvmm's --timeout.
 */
#define S3_STUB		0x1000
#define S3_MARKER	0x1100
#define S3_MARKER_VALUE	0x5a5a5a5a
#define S3_STR(x)	#x
#define S3_XSTR(x)	S3_STR(x)

extern char s3_stub_start[], s3_stub_end[];
asm(".pushsection .text.s3stub, \"ax\"\n"
    ".code16\n"
    "s3_stub_start:\n"
    "	mov $" S3_XSTR(ACPI_PM1_EVT) ", %dx\n"
    "	in %dx, %ax\n"
    "	and $0x8400, %ax\n"		/* WAK_STS | RTC_STS */
    "	mov $1, %ebx\n"
    "	cmp $0x8400, %ax\n"
    "	jne 1f\n"
    "	mov $2, %ebx\n"
    "	mov " S3_XSTR(S3_MARKER) ", %eax\n"
    "	cmp $" S3_XSTR(S3_MARKER_VALUE) ", %eax\n"
    "	jne 1f\n"
    "	xor %ebx, %ebx\n"
    "1:	mov %ebx, %eax\n"
    "	mov $" S3_XSTR(DEBUG_EXIT_PORT) ", %dx\n"
    "	out %eax, %dx\n"
    "2:	hlt\n"
    "	jmp 2b\n"
    "s3_stub_end:\n"
    ".code64\n"
    ".popsection\n");

static void check_s3(bool wake)
{
	const u8 *rsdp = find_rsdp(), *rsdt, *t, *fadt = NULL;
	volatile u32 *marker = (volatile u32 *)S3_MARKER;
	u32 i, n, len, addr, facs, evt, cnt;

	report_prefix_push("s3");
	if (!rsdp)
		abort_test("no RSDP");
	memcpy(&addr, rsdp + 16, 4);
	rsdt = (const u8 *)(u64)addr;
	memcpy(&len, rsdt + 4, 4);
	n = (len - 36) / 4;
	for (i = 0; i < n; i++) {
		memcpy(&addr, rsdt + 36 + i * 4, 4);
		t = (const u8 *)(u64)addr;
		if (!memcmp(t, "FACP", 4))
			fadt = t;
	}
	if (!fadt)
		abort_test("no FADT");
	memcpy(&facs, fadt + 36, 4);
	memcpy(&evt, fadt + 56, 4);
	memcpy(&cnt, fadt + 64, 4);
	memcpy((void *)S3_STUB, s3_stub_start, s3_stub_end - s3_stub_start);
	memcpy((void *)(u64)(facs + 12), &(u32){ S3_STUB }, 4);
	*marker = S3_MARKER_VALUE;
	outw(evt + 2, wake ? ACPI_PM1_RTC_STS : 0);	/* PM1 enable */

	/* The alarm every second, armed just after an update, as s3 does. */
	while (!(cmos_read(RTC_REG_A) & RTC_A_UIP))
		;
	while (cmos_read(RTC_REG_A) & RTC_A_UIP)
		;
	cmos_read(RTC_REG_C);
	cmos_write(RTC_SECONDS_ALARM, RTC_ALARM_ANY);
	cmos_write(RTC_MINUTES_ALARM, RTC_ALARM_ANY);
	cmos_write(RTC_HOURS_ALARM, RTC_ALARM_ANY);
	cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) | RTC_B_AIE);

	printf("s3: sleeping (%s), waking vector %#x in the FACS at %#x\n",
	       wake ? "RTC alarm enabled as a wake event" : "no wake event enabled",
	       S3_STUB, facs);
	outw(cnt, ACPI_PM1_CNT_SLP_EN |
		  (ACPI_SLP_TYP_S3 << ACPI_PM1_CNT_SLP_TYP_SHIFT));
	/* Never here: a CPU that runs on overwrites the marker. */
	for (;;)
		*marker = 0xdead;
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
	outb(PC_TESTDEV_IRQ_PORT + gsi, 1);
	outb(PC_TESTDEV_IRQ_PORT + gsi, 0);
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
	outl(PC_TESTDEV_PORT, 0x12345678);
	outb(PC_TESTDEV_PORT + 2, 0xab);
	report(inl(PC_TESTDEV_PORT) == 0x12ab5678 &&
	       inw(PC_TESTDEV_PORT + 1) == 0xab56,
	       "0xe0: scratch register with byte lanes (%#x)",
	       inl(PC_TESTDEV_PORT));
	outw(PC_TESTDEV_BYTE_PORT, 0xcafe);
	report(inl(PC_TESTDEV_PORT) == 0x12abcafe &&
	       inl(PC_TESTDEV_BYTE_PORT) == 0x12abcafe,
	       "0xe8: the same register byte by byte (%#x)",
	       inl(PC_TESTDEV_BYTE_PORT));

	writeq(PC_TESTDEV_IOMEM + 0x100, q);
	writel(PC_TESTDEV_IOMEM + 0xfffc, 0x55aa55aa);
	report(readq(PC_TESTDEV_IOMEM + 0x100) == q &&
	       readb(PC_TESTDEV_IOMEM + 0x101) == 0xcd &&
	       readl(PC_TESTDEV_IOMEM + 0xfffc) == 0x55aa55aa,
	       "iomem at 0xff000000 keeps what is written");

	for (i = 0; i < 1024; i++)
		flushed[i] = i * 7;
	outl(PC_TESTDEV_FLUSH_PORT, (u32)(u64)flushed);
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
	report(inl(PC_TESTDEV_PORT) == 0xffffffff &&
	       readl(PC_TESTDEV_IOMEM) == 0xffffffff,
	       "no pc-testdev unless asked for: 0xe0 and 0xff000000 read all-ones");
}

static void shutdown(void)
{
	const char *s = "Shutdown";

	printf("shutdown: writing \"%s\" to port %#x\n", s,
	       PC_TESTDEV_SHUTDOWN_PORT);
	while (*s)
		outb(PC_TESTDEV_SHUTDOWN_PORT, *s++);
	report(false, "still running after the shutdown string");
}

int main(void)
{
	const struct multiboot_info *mbi = (const void *)(u64)mb_entry_ebx;
	u64 mem = param_u64("mem", true), cpus = param_u64("cpus", false);
	char flag[8];
	int status;

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
	if (!cmdline_param("s3", flag, sizeof(flag)))
		return report_summary();
	/* The sleep ends the run: the summary of the rest comes first. */
	status = report_summary();
	if (!status)
		check_s3(strcmp(flag, "nowake") != 0);
	return status;
}
