// SPDX-License-Identifier: MIT
/*
 * multiboot: booted as a Multiboot 1 kernel (a 32-bit ELF, as
 * kvm-unit-tests' x86 tests are), it checks what the loader handed over
 * and what fw_cfg says against the command line the boot test passes:
 *   mem=SIZE cpus=N module=TEXT
 * (the module file holds TEXT followed by a newline).
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

int main(void)
{
	const struct mbi *mbi = (const void *)(u64)mb_entry_ebx;
	u64 mem = param_u64("mem", true), cpus = param_u64("cpus", false);

	report_prefix_push("multiboot");
	check_entry();
	check_memory(mbi, mem);
	check_cmdline(mbi);
	check_module(mbi);
	report_prefix_pop();
	check_fw_cfg(mem, cpus);
	return report_summary();
}
