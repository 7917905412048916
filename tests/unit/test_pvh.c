// SPDX-License-Identifier: MIT
/* The PVH ELF loader on good and corrupt images built in memory. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/machine.h"
#include "vmm/pvh.h"

#define IMG_SIZE 8192
#define PAYLOAD_OFF 0x1000

struct test_image {
	u8 bytes[IMG_SIZE];
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;		/* [0] = LOAD, [1] = NOTE, [2] = spare LOAD */
};

/* A minimal valid image: one LOAD of 256 bytes at 1 MiB, bss to 4 KiB. */
static void build_image(struct test_image *t, u32 entry)
{
	u8 *note;
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 4,
			  .n_type = XEN_ELFNOTE_PHYS32_ENTRY };

	memset(t->bytes, 0, sizeof(t->bytes));
	t->eh = (Elf64_Ehdr *)t->bytes;
	t->ph = (Elf64_Phdr *)(t->bytes + sizeof(Elf64_Ehdr));
	memcpy(t->eh->e_ident, ELFMAG, SELFMAG);
	t->eh->e_ident[EI_CLASS] = ELFCLASS64;
	t->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	t->eh->e_ident[EI_VERSION] = EV_CURRENT;
	t->eh->e_type = ET_EXEC;
	t->eh->e_machine = EM_X86_64;
	t->eh->e_version = EV_CURRENT;
	t->eh->e_phoff = sizeof(Elf64_Ehdr);
	t->eh->e_phentsize = sizeof(Elf64_Phdr);
	t->eh->e_ehsize = sizeof(Elf64_Ehdr);
	t->eh->e_phnum = 2;

	t->ph[0] = (Elf64_Phdr) {
		.p_type = PT_LOAD, .p_offset = PAYLOAD_OFF,
		.p_vaddr = 0x100000, .p_paddr = 0x100000,
		.p_filesz = 256, .p_memsz = 4096, .p_flags = PF_R | PF_X,
	};
	note = t->bytes + 0x800;
	memcpy(note, &nh, sizeof(nh));
	memcpy(note + sizeof(nh), "Xen", 4);
	memcpy(note + sizeof(nh) + 4, &entry, 4);
	t->ph[1] = (Elf64_Phdr) {
		.p_type = PT_NOTE, .p_offset = 0x800,
		.p_filesz = sizeof(nh) + 8,
	};
	memset(t->bytes + PAYLOAD_OFF, 0x90, 256);
}

struct fixture {
	struct guest_memory mem;
	struct test_image img;
	char err[512];
	struct pvh_image info;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(mem_create(&f->mem, 16 * MiB), 0);
	build_image(&f->img, 0x100010);
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
	return pvh_load(&f->mem, f->img.bytes, size, &f->info, f->err,
			sizeof(f->err));
}

static void test_loads_segments_and_entry(void **state)
{
	struct fixture *f = *state;
	u8 *ram = f->mem.base;

	memset(ram + 0x100000, 0xee, 8192);
	assert_int_equal(load(f, IMG_SIZE), 0);
	assert_int_equal(f->info.entry, 0x100010);
	assert_int_equal(f->info.lowest, 0x100000);
	assert_int_equal(f->info.highest, 0x101000);
	assert_int_equal(ram[0x100000], 0x90);
	assert_int_equal(ram[0x1000ff], 0x90);
	/* bss is zeroed, and nothing past memsz is touched. */
	assert_int_equal(ram[0x100100], 0);
	assert_int_equal(ram[0x100fff], 0);
	assert_int_equal(ram[0x101000], 0xee);
}

static void test_rejects_truncated(void **state)
{
	struct fixture *f = *state;

	assert_int_not_equal(load(f, 10), 0);
	assert_non_null(strstr(f->err, "truncated"));
	/* Headers present, segment data cut off. */
	assert_int_not_equal(load(f, PAYLOAD_OFF + 100), 0);
	assert_non_null(strstr(f->err, "past the end"));
}

static void test_rejects_missing_pvh_note(void **state)
{
	struct fixture *f = *state;

	f->img.eh->e_phnum = 1;
	assert_int_equal(load(f, IMG_SIZE), -ENOEXEC);
	assert_non_null(strstr(f->err, "PVH"));
}

static void test_rejects_wrong_note_name(void **state)
{
	struct fixture *f = *state;

	memcpy(f->img.bytes + 0x800 + sizeof(Elf64_Nhdr), "Xyz", 4);
	assert_int_equal(load(f, IMG_SIZE), -ENOEXEC);
}

static void test_rejects_note_running_past_segment(void **state)
{
	struct fixture *f = *state;
	Elf64_Nhdr *nh = (Elf64_Nhdr *)(f->img.bytes + 0x800);

	nh->n_descsz = 0x10000;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	assert_non_null(strstr(f->err, "note"));
}

static void test_rejects_segment_outside_ram(void **state)
{
	struct fixture *f = *state;

	f->img.ph[0].p_paddr = 15 * MiB;
	f->img.ph[0].p_memsz = 2 * MiB;
	assert_int_equal(load(f, IMG_SIZE), -ENOSPC);
	assert_non_null(strstr(f->err, "needs at least 17 MiB"));
}

static void test_rejects_segment_below_1mib(void **state)
{
	struct fixture *f = *state;

	f->img.ph[0].p_paddr = 0x8000;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	assert_non_null(strstr(f->err, "below 1 MiB"));
}

static void test_rejects_wrapping_segment(void **state)
{
	struct fixture *f = *state;

	f->img.ph[0].p_paddr = ~0ULL - 100;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	assert_non_null(strstr(f->err, "wraps"));
}

static void test_rejects_overlapping_segments(void **state)
{
	struct fixture *f = *state;

	f->img.ph[2] = f->img.ph[0];
	f->img.ph[2].p_paddr = 0x100800;
	f->img.eh->e_phnum = 3;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	assert_non_null(strstr(f->err, "overlap"));
}

static void test_rejects_filesz_above_memsz(void **state)
{
	struct fixture *f = *state;

	f->img.ph[0].p_filesz = 8192;
	f->img.ph[0].p_memsz = 4096;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
}

static void test_rejects_entry_outside_segments(void **state)
{
	struct fixture *f = *state;

	build_image(&f->img, 0x200000);
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	assert_non_null(strstr(f->err, "entry"));
}

static void test_rejects_bad_headers(void **state)
{
	struct fixture *f = *state;

	f->img.eh->e_ident[EI_CLASS] = ELFCLASS32;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	build_image(&f->img, 0x100010);
	f->img.eh->e_machine = EM_AARCH64;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	build_image(&f->img, 0x100010);
	f->img.eh->e_phentsize = 12;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	build_image(&f->img, 0x100010);
	f->img.eh->e_phoff = IMG_SIZE - 8;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	build_image(&f->img, 0x100010);
	f->img.eh->e_phoff = ~0ULL - 8;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	build_image(&f->img, 0x100010);
	f->img.ph[0].p_offset = ~0ULL - 16;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
	build_image(&f->img, 0x100010);
	f->img.eh->e_type = ET_DYN;
	assert_int_not_equal(load(f, IMG_SIZE), 0);
}

static void test_random_bytes_never_crash(void **state)
{
	struct fixture *f = *state;
	unsigned int seed = 12345, i, round;

	/* Corrupt random bytes of a valid image: any result but a crash. */
	for (round = 0; round < 2000; round++) {
		build_image(&f->img, 0x100010);
		for (i = 0; i < 4; i++) {
			seed = seed * 1103515245 + 12345;
			f->img.bytes[(seed >> 8) % 0x900] = seed >> 24;
		}
		load(f, IMG_SIZE);
	}
}

static void test_start_info_layout(void **state)
{
	struct fixture *f = *state;
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct pvh_module mod = { .paddr = 0x30000, .size = 100, .cmdline = "dtb" };
	const struct hvm_start_info *si;
	const struct hvm_memmap_table_entry *mm;
	const struct hvm_modlist_entry *ml;
	unsigned int n = e820_build(&f->mem, e820);
	u64 at;

	at = pvh_write_start_info(&f->mem, "console=ttyS0 mem=16M", e820, n,
				  &mod, 1);
	assert_int_equal(at, LAYOUT_START_INFO);
	si = mem_gpa_to_hva(&f->mem, at, sizeof(*si));
	assert_int_equal(si->magic, HVM_START_MAGIC_VALUE);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->memmap_entries, n);
	assert_string_equal((char *)mem_gpa_to_hva(&f->mem, si->cmdline_paddr, 1),
			    "console=ttyS0 mem=16M");
	mm = mem_gpa_to_hva(&f->mem, si->memmap_paddr, n * sizeof(*mm));
	assert_int_equal(mm[n - 1].addr + mm[n - 1].size, 16 * MiB);
	assert_int_equal(mm[n - 1].type, 1);
	assert_int_equal(si->nr_modules, 1);
	ml = mem_gpa_to_hva(&f->mem, si->modlist_paddr, sizeof(*ml));
	assert_int_equal(ml->paddr, 0x30000);
	assert_int_equal(ml->size, 100);
	assert_string_equal((char *)mem_gpa_to_hva(&f->mem, ml->cmdline_paddr, 1), "dtb");
}

static void test_start_info_rejects_huge_cmdline(void **state)
{
	struct fixture *f = *state;
	struct e820_entry e820[E820_MAX_ENTRIES];
	unsigned int n = e820_build(&f->mem, e820);
	char *huge = malloc(LAYOUT_CMDLINE_MAX + 10);

	memset(huge, 'x', LAYOUT_CMDLINE_MAX + 9);
	huge[LAYOUT_CMDLINE_MAX + 9] = '\0';
	assert_int_equal(pvh_write_start_info(&f->mem, huge, e820, n, NULL, 0), 0);
	free(huge);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_loads_segments_and_entry),
		T(test_rejects_truncated),
		T(test_rejects_missing_pvh_note),
		T(test_rejects_wrong_note_name),
		T(test_rejects_note_running_past_segment),
		T(test_rejects_segment_outside_ram),
		T(test_rejects_segment_below_1mib),
		T(test_rejects_wrapping_segment),
		T(test_rejects_overlapping_segments),
		T(test_rejects_filesz_above_memsz),
		T(test_rejects_entry_outside_segments),
		T(test_rejects_bad_headers),
		T(test_random_bytes_never_crash),
		T(test_start_info_layout),
		T(test_start_info_rejects_huge_cmdline),
	};

	return cmocka_run_group_tests_name("pvh", tests, NULL, NULL);
}
