// SPDX-License-Identifier: MIT
/* The Multiboot 1 loader on good and corrupt images built in memory. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/machine.h"
#include "vmm/multiboot.h"

#define IMG_SIZE 8192
#define PAYLOAD_OFF 0x1000
#define HDR_OFF 0x100
#define LOAD_AT 0x400000	/* kvm-unit-tests links at 4 MiB */

struct test_image {
	u8 bytes[IMG_SIZE];
	Elf32_Ehdr *eh;
	Elf32_Phdr *ph;		/* [0] = LOAD, [1] = spare LOAD */
	struct multiboot_header *mb;
};

static void set_header(struct test_image *t, u32 flags)
{
	t->mb->magic = MULTIBOOT_HEADER_MAGIC;
	t->mb->flags = flags;
	t->mb->checksum = -(MULTIBOOT_HEADER_MAGIC + flags);
}

/* A 32-bit ELF: one LOAD of 256 bytes at 4 MiB, bss to 8 KiB, a header. */
static void build_image(struct test_image *t)
{
	memset(t->bytes, 0, sizeof(t->bytes));
	t->eh = (Elf32_Ehdr *)t->bytes;
	t->ph = (Elf32_Phdr *)(t->bytes + sizeof(Elf32_Ehdr));
	t->mb = (struct multiboot_header *)(t->bytes + HDR_OFF);
	memcpy(t->eh->e_ident, ELFMAG, SELFMAG);
	t->eh->e_ident[EI_CLASS] = ELFCLASS32;
	t->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	t->eh->e_ident[EI_VERSION] = EV_CURRENT;
	t->eh->e_type = ET_EXEC;
	t->eh->e_machine = EM_386;
	t->eh->e_version = EV_CURRENT;
	t->eh->e_entry = LOAD_AT + 0x10;
	t->eh->e_phoff = sizeof(Elf32_Ehdr);
	t->eh->e_phentsize = sizeof(Elf32_Phdr);
	t->eh->e_ehsize = sizeof(Elf32_Ehdr);
	t->eh->e_phnum = 1;
	t->ph[0] = (Elf32_Phdr) {
		.p_type = PT_LOAD, .p_offset = PAYLOAD_OFF,
		.p_vaddr = LOAD_AT, .p_paddr = LOAD_AT,
		.p_filesz = 256, .p_memsz = 8192, .p_flags = PF_R | PF_X,
	};
	memset(t->bytes + PAYLOAD_OFF, 0x90, 256);
	set_header(t, 0);
}

struct fixture {
	struct guest_memory mem;
	struct test_image img;
	char err[512];
	struct multiboot_image info;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(mem_create(&f->mem, 16 * MiB), 0);
	build_image(&f->img);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_destroy(&f->mem);
	free(f);
	return 0;
}

static int load(struct fixture *f, size_t size)
{
	f->err[0] = '\0';
	return multiboot_load(&f->mem, f->img.bytes, size, &f->info, f->err,
			      sizeof(f->err));
}

static void expect_refusal(struct fixture *f, size_t size, const char *what)
{
	assert_int_not_equal(load(f, size), 0);
	if (!strstr(f->err, what))
		fail_msg("error '%s' does not say '%s'", f->err, what);
}

static void test_finds_header(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(multiboot_find_header(f->img.bytes, IMG_SIZE), HDR_OFF);
	/* A bad checksum is no header. */
	f->img.mb->checksum++;
	assert_int_equal(multiboot_find_header(f->img.bytes, IMG_SIZE), -1);
	f->img.mb->checksum--;
	/* Past the first 8 KiB or cut off: not found. */
	assert_int_equal(multiboot_find_header(f->img.bytes, HDR_OFF + 8), -1);
	/* Only 4-byte aligned offsets count. */
	memmove(f->img.bytes + HDR_OFF + 2, f->img.bytes + HDR_OFF, 12);
	memset(f->img.bytes + HDR_OFF, 0, 2);
	assert_int_equal(multiboot_find_header(f->img.bytes, IMG_SIZE), -1);
}

static void test_loads_elf32(void **state)
{
	struct fixture *f = *state;
	u8 *ram = f->mem.base;

	memset(ram + LOAD_AT, 0xee, 16384);
	assert_int_equal(load(f, IMG_SIZE), 0);
	assert_int_equal(f->info.entry, LOAD_AT + 0x10);
	assert_int_equal(f->info.lowest, LOAD_AT);
	assert_int_equal(f->info.highest, LOAD_AT + 8192);
	assert_int_equal(ram[LOAD_AT], 0x90);
	assert_int_equal(ram[LOAD_AT + 255], 0x90);
	assert_int_equal(ram[LOAD_AT + 256], 0);	/* bss zeroed */
	assert_int_equal(ram[LOAD_AT + 8191], 0);
	assert_int_equal(ram[LOAD_AT + 8192], 0xee);	/* nothing past it */
}

static void test_loads_aout_kludge(void **state)
{
	struct fixture *f = *state;
	u8 *ram = f->mem.base;

	/* The file from offset 0 is loaded at 2 MiB: the header at +HDR_OFF. */
	set_header(&f->img, MULTIBOOT_AOUT_KLUDGE | MULTIBOOT_MEMORY_INFO);
	f->img.mb->header_addr = 0x200000 + HDR_OFF;
	f->img.mb->load_addr = 0x200000;
	f->img.mb->load_end_addr = 0x200000 + PAYLOAD_OFF + 256;
	f->img.mb->bss_end_addr = 0x200000 + 0x3000;
	f->img.mb->entry_addr = 0x200000 + PAYLOAD_OFF;
	memset(ram + 0x200000 + PAYLOAD_OFF + 256, 0xee, 0x3000);
	assert_int_equal(load(f, IMG_SIZE), 0);
	assert_int_equal(f->info.entry, 0x200000 + PAYLOAD_OFF);
	assert_int_equal(f->info.highest, 0x203000);
	assert_memory_equal(ram + 0x200000, f->img.bytes, PAYLOAD_OFF + 256);
	assert_int_equal(ram[0x202fff], 0);
	assert_int_equal(ram[0x203000], 0xee);

	/* header_addr that does not match the header's offset. */
	f->img.mb->header_addr = 0x200000 + IMG_SIZE * 2;
	set_header(&f->img, f->img.mb->flags);
	expect_refusal(f, IMG_SIZE, "header_addr");
	/* load_end_addr past the file. */
	f->img.mb->header_addr = 0x200000 + HDR_OFF;
	f->img.mb->load_end_addr = 0x200000 + IMG_SIZE + 1;
	expect_refusal(f, IMG_SIZE, "past the end of the file");
	/* bss_end below the loaded end. */
	f->img.mb->load_end_addr = 0x200000 + PAYLOAD_OFF;
	f->img.mb->bss_end_addr = 0x200000 + 16;
	expect_refusal(f, IMG_SIZE, "bss_end_addr");
	/* entry outside. */
	f->img.mb->bss_end_addr = 0;
	f->img.mb->entry_addr = 0x100000;
	expect_refusal(f, IMG_SIZE, "entry");
	/* load address below 1 MiB. */
	f->img.mb->header_addr = 0x1000 + HDR_OFF;
	f->img.mb->load_addr = 0x1000;
	f->img.mb->load_end_addr = 0;
	f->img.mb->entry_addr = 0x1000;
	expect_refusal(f, IMG_SIZE, "below 1 MiB");
}

static void test_rejects_unknown_requirements(void **state)
{
	struct fixture *f = *state;

	set_header(&f->img, MULTIBOOT_VIDEO_MODE);
	expect_refusal(f, IMG_SIZE, "a video mode");
	set_header(&f->img, 1u << 9);
	expect_refusal(f, IMG_SIZE, "does not offer");
	/* Bits 16-31 are optional features: not a refusal. */
	set_header(&f->img, MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO |
		   (1u << 20));
	assert_int_equal(load(f, IMG_SIZE), 0);
}

static void test_rejects_corrupt_elf(void **state)
{
	struct fixture *f = *state;

	expect_refusal(f, 0x20, "no Multiboot header");
	expect_refusal(f, PAYLOAD_OFF + 100, "past the end of the file");

	f->img.eh->e_ident[EI_CLASS] = ELFCLASS64;
	expect_refusal(f, IMG_SIZE, "must be 32-bit");
	f->img.eh->e_ident[EI_CLASS] = ELFCLASS32;

	f->img.eh->e_machine = EM_X86_64;
	expect_refusal(f, IMG_SIZE, "not for i386");
	f->img.eh->e_machine = EM_386;

	f->img.eh->e_type = ET_DYN;
	expect_refusal(f, IMG_SIZE, "not an executable");
	f->img.eh->e_type = ET_EXEC;

	f->img.eh->e_phnum = 0;
	expect_refusal(f, IMG_SIZE, "malformed");
	f->img.eh->e_phnum = 1;

	f->img.eh->e_phoff = IMG_SIZE - 8;
	expect_refusal(f, IMG_SIZE, "program headers lie past");
	f->img.eh->e_phoff = sizeof(Elf32_Ehdr);

	/* Not an ELF and no address fields. */
	memset(f->img.bytes, 0, 4);
	expect_refusal(f, IMG_SIZE, "not an ELF file");
}

static void test_rejects_bad_segments(void **state)
{
	struct fixture *f = *state;
	Elf32_Phdr *ph = f->img.ph;

	ph[0].p_filesz = 9000;
	expect_refusal(f, IMG_SIZE, "past the end of the file");
	ph[0].p_filesz = 256;

	ph[0].p_memsz = 128;
	expect_refusal(f, IMG_SIZE, "more file bytes");
	ph[0].p_memsz = 8192;

	ph[0].p_paddr = 0x80000;
	expect_refusal(f, IMG_SIZE, "below 1 MiB");
	ph[0].p_paddr = 0xfffff000;
	expect_refusal(f, IMG_SIZE, "below 4 GiB");
	ph[0].p_paddr = 15 * MiB;
	ph[0].p_memsz = 2 * MiB;
	expect_refusal(f, IMG_SIZE, "needs at least 17 MiB");
	ph[0].p_paddr = LOAD_AT;
	ph[0].p_memsz = 8192;

	f->img.eh->e_phnum = 2;
	ph[1] = ph[0];
	ph[1].p_paddr = LOAD_AT + 4096;
	expect_refusal(f, IMG_SIZE, "overlap");
	f->img.eh->e_phnum = 1;

	f->img.eh->e_entry = LOAD_AT + 8192;
	expect_refusal(f, IMG_SIZE, "not inside a loaded segment");

	ph[0].p_type = PT_NOTE;
	expect_refusal(f, IMG_SIZE, "nothing to load");
}

static void test_random_bytes_never_crash(void **state)
{
	struct fixture *f = *state;
	unsigned int round, i;

	srand(18);
	for (round = 0; round < 2000; round++) {
		build_image(&f->img);
		for (i = 0; i < 8; i++)
			f->img.bytes[rand() % 0x200] = rand();
		/* Keep the header valid half of the time, so the loader runs. */
		if (round & 1)
			set_header(&f->img, f->img.mb->flags & ~0xfffcu);
		if (load(f, IMG_SIZE))
			assert_true(f->err[0] != '\0');
		else
			assert_true(f->info.lowest >= LAYOUT_IMAGE_MIN &&
				    f->info.entry >= f->info.lowest &&
				    f->info.entry < f->info.highest);
	}
}

static void test_info_layout(void **state)
{
	struct fixture *f = *state;
	struct e820_entry e820[E820_MAX_ENTRIES];
	static const u8 env[] = "NR_CPUS=2\nMEMSIZE=16\n";
	struct multiboot_mod mods[2] = {
		{ .data = env, .size = sizeof(env), .cmdline = "env.txt" },
		{ .data = NULL, .size = 0, .cmdline = NULL },
	};
	const struct multiboot_info *mbi;
	const struct multiboot_mmap_entry *mm;
	const struct multiboot_module *ml;
	unsigned int n, i;
	u8 *ram = f->mem.base;
	u64 ram_total = 0;
	long at;

	assert_int_equal(load(f, IMG_SIZE), 0);
	n = e820_build(&f->mem, e820);
	at = multiboot_write_info(&f->mem, &f->info, "/x/test.flat -smp 2", e820,
				  n, mods, 2, f->err, sizeof(f->err));
	assert_true(at > 0 && at < (long)LAYOUT_IMAGE_MIN);
	mbi = (const void *)(ram + at);
	assert_int_equal(mbi->flags & (MBI_MEMORY | MBI_CMDLINE | MBI_MODS |
				       MBI_MEM_MAP),
			 MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MEM_MAP);
	assert_int_equal(mbi->mem_lower, 639);
	assert_int_equal(mbi->mem_upper, (16 * MiB - MiB) >> 10);
	assert_string_equal((const char *)ram + mbi->cmdline,
			    "/x/test.flat -smp 2");
	assert_string_equal((const char *)ram + mbi->boot_loader_name, "uvmm");

	/* The memory map: 20-byte entries, the RAM adding up to 16 MiB. */
	assert_int_equal(mbi->mmap_length, n * sizeof(*mm));
	mm = (const void *)(ram + mbi->mmap_addr);
	for (i = 0; i < n; i++) {
		assert_int_equal(mm[i].size, 20);
		assert_int_equal(mm[i].addr, e820[i].addr);
		if (mm[i].type == 1)
			ram_total += mm[i].len;
	}
	/* Below the EBDA, and from 1 MiB to the end. */
	assert_int_equal(ram_total, E820_EBDA_START + 15 * MiB);

	/* The modules: page-aligned after the image, the first one's bytes. */
	assert_int_equal(mbi->mods_count, 2);
	ml = (const void *)(ram + mbi->mods_addr);
	assert_int_equal(ml[0].mod_start, LOAD_AT + 8192);
	assert_int_equal(ml[0].mod_end, LOAD_AT + 8192 + sizeof(env));
	assert_memory_equal(ram + ml[0].mod_start, env, sizeof(env));
	assert_string_equal((const char *)ram + ml[0].cmdline, "env.txt");
	assert_int_equal(ml[1].mod_start, LOAD_AT + 8192 + 4096);
	assert_int_equal(ml[1].mod_end, ml[1].mod_start);
	assert_int_equal(ml[1].cmdline, 0);
}

static void test_info_refuses_what_does_not_fit(void **state)
{
	struct fixture *f = *state;
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct multiboot_mod mod = { .cmdline = "big" };
	unsigned int n;
	char *huge;

	assert_int_equal(load(f, IMG_SIZE), 0);
	n = e820_build(&f->mem, e820);

	mod.size = 16 * MiB;
	mod.data = calloc(1, mod.size);
	assert_int_equal(multiboot_write_info(&f->mem, &f->info, "k", e820, n,
					      &mod, 1, f->err, sizeof(f->err)),
			 -ENOSPC);
	assert_non_null(strstr(f->err, "does not fit"));
	free((void *)mod.data);

	huge = malloc(LAYOUT_CMDLINE_MAX + 10);
	memset(huge, 'x', LAYOUT_CMDLINE_MAX + 9);
	huge[LAYOUT_CMDLINE_MAX + 9] = '\0';
	assert_int_equal(multiboot_write_info(&f->mem, &f->info, huge, e820, n,
					      NULL, 0, f->err, sizeof(f->err)),
			 -E2BIG);
	assert_non_null(strstr(f->err, "command line"));
	free(huge);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_finds_header),
		T(test_loads_elf32),
		T(test_loads_aout_kludge),
		T(test_rejects_unknown_requirements),
		T(test_rejects_corrupt_elf),
		T(test_rejects_bad_segments),
		T(test_random_bytes_never_crash),
		T(test_info_layout),
		T(test_info_refuses_what_does_not_fit),
	};

	return cmocka_run_group_tests_name("multiboot", tests, NULL, NULL);
}
