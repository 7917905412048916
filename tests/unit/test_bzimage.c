// SPDX-License-Identifier: MIT
/*
 * The bzImage loader on images built in memory: zero page and e820,
 * kernel and initrd placement rules, the boot GDT and page tables, the
 * setup_data chain, and the headers it must refuse.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/bzimage.h"
#include "vmm/e820.h"
#include "abi/machine.h"

#define SETUP_SECTS 4
#define SETUP_BYTES ((SETUP_SECTS + 1) * 512)
#define KERNEL_BYTES (16 * 1024)
#define IMAGE_BYTES (SETUP_BYTES + KERNEL_BYTES)
#define INIT_SIZE (4 * MiB)
#define PREF_ADDRESS (16 * MiB)

struct fixture {
	u8 image[IMAGE_BYTES];
	struct guest_memory mem;
	struct bzimage_info info;
	char err[512];
};

/* A protocol 2.15 image of a relocatable 64-bit kernel, as Linux builds it. */
static void build_image(struct fixture *f)
{
	struct setup_header h;
	unsigned int i;

	memset(f->image, 0, sizeof(f->image));
	memset(&h, 0, sizeof(h));
	h.setup_sects = SETUP_SECTS;
	h.syssize = KERNEL_BYTES / 16;
	h.boot_flag = BZIMAGE_BOOT_FLAG;
	h.jump = 0xeb | ((0x26c - 0x202) << 8);	/* header ends at 0x26c */
	h.header = BZIMAGE_HDRS_MAGIC;
	h.version = 0x020f;
	h.loadflags = LOADED_HIGH;
	h.code32_start = 0x100000;
	h.initrd_addr_max = 0x7fffffff;
	h.kernel_alignment = 2 * MiB;
	h.relocatable_kernel = 1;
	h.min_alignment = 21;
	h.xloadflags = XLF_KERNEL_64;
	h.cmdline_size = 2047;
	h.pref_address = PREF_ADDRESS;
	h.init_size = INIT_SIZE;
	memcpy(f->image + BZIMAGE_HDR_OFFSET, &h, sizeof(h));
	for (i = 0; i < KERNEL_BYTES; i++)
		f->image[SETUP_BYTES + i] = (u8)(i * 7 + 3);
}

/* Change one header field of the image. */
#define SET_HDR(f, field, value)                                             \
	do {                                                                 \
		struct setup_header h_;                                      \
		memcpy(&h_, (f)->image + BZIMAGE_HDR_OFFSET, sizeof(h_));    \
		h_.field = (value);                                          \
		memcpy((f)->image + BZIMAGE_HDR_OFFSET, &h_, sizeof(h_));    \
	} while (0)

static struct fixture *fixture_new(u64 mem_bytes)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(mem_create(&f->mem, mem_bytes), 0);
	build_image(f);
	return f;
}

static void fixture_free(struct fixture *f)
{
	mem_destroy(&f->mem);
	free(f);
}

static int load(struct fixture *f, const char *cmdline, const u8 *initrd,
		size_t initrd_size)
{
	f->err[0] = '\0';
	return bzimage_load(&f->mem, f->image, sizeof(f->image), cmdline,
			    initrd, initrd_size, &f->info, f->err,
			    sizeof(f->err));
}

static struct boot_params *zero_page(struct fixture *f)
{
	return mem_gpa_to_hva(&f->mem, f->info.zero_page, sizeof(struct boot_params));
}

static void test_detects_bzimage(void **state)
{
	struct fixture *f = fixture_new(16 * MiB);
	static const u8 elf[0x300] = { 0x7f, 'E', 'L', 'F' };

	(void)state;
	assert_true(bzimage_is(f->image, sizeof(f->image)));
	assert_false(bzimage_is(f->image, 0x204));
	assert_false(bzimage_is(elf, sizeof(elf)));
	fixture_free(f);
}

static void test_load_fills_zero_page(void **state)
{
	struct fixture *f = fixture_new(128 * MiB);
	const char *cmdline = "console=ttyS0 root=/dev/ram0 quiet";
	struct boot_params *zp;
	u8 *initrd = malloc(3 * MiB + 123);
	size_t i;

	(void)state;
	for (i = 0; i < 3 * MiB + 123; i++)
		initrd[i] = (u8)(i ^ (i >> 9));
	assert_int_equal(load(f, cmdline, initrd, 3 * MiB + 123), 0);

	assert_int_equal(f->info.load_addr, PREF_ADDRESS);
	assert_int_equal(f->info.entry, PREF_ADDRESS + 0x200);
	assert_int_equal(f->info.kernel_end, PREF_ADDRESS + INIT_SIZE);
	assert_memory_equal(mem_gpa_to_hva(&f->mem, PREF_ADDRESS, KERNEL_BYTES),
			    f->image + SETUP_BYTES, KERNEL_BYTES);

	zp = zero_page(f);
	assert_non_null(zp);
	assert_int_equal(f->info.zero_page, LAYOUT_ZERO_PAGE);
	assert_int_equal(zp->hdr.header, BZIMAGE_HDRS_MAGIC);
	assert_int_equal(zp->hdr.version, 0x020f);
	assert_int_equal(zp->hdr.boot_flag, BZIMAGE_BOOT_FLAG);
	assert_int_equal(zp->hdr.pref_address, PREF_ADDRESS);
	assert_int_equal(zp->hdr.init_size, INIT_SIZE);
	assert_int_equal(zp->hdr.type_of_loader, 0xff);
	assert_int_equal(zp->hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP);
	assert_int_equal(zp->hdr.heap_end_ptr, 0xfe00);
	assert_int_equal(zp->hdr.code32_start, PREF_ADDRESS);
	assert_int_equal(zp->hdr.setup_data, 0);
	assert_int_equal(zp->sentinel, 0);
	assert_int_equal(zp->ext_cmd_line_ptr, 0);
	assert_int_equal(zp->ext_ramdisk_image, 0);

	assert_int_equal(zp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_string_equal(mem_gpa_to_hva(&f->mem, zp->hdr.cmd_line_ptr,
					   strlen(cmdline) + 1), cmdline);

	/* The initrd: its bytes, page-aligned, at the top of RAM, above the kernel. */
	assert_int_equal(zp->hdr.ramdisk_size, 3 * MiB + 123);
	assert_int_equal(zp->hdr.ramdisk_image % 4096, 0);
	assert_true(zp->hdr.ramdisk_image >= PREF_ADDRESS + INIT_SIZE);
	assert_true(zp->hdr.ramdisk_image + zp->hdr.ramdisk_size <= 128 * MiB);
	assert_true(128 * MiB - (zp->hdr.ramdisk_image + zp->hdr.ramdisk_size) < 4096);
	assert_memory_equal(mem_gpa_to_hva(&f->mem, zp->hdr.ramdisk_image,
					   zp->hdr.ramdisk_size),
			    initrd, 3 * MiB + 123);
	free(initrd);
	fixture_free(f);
}

static void test_header_copy_stops_at_its_end(void **state)
{
	struct fixture *f = fixture_new(64 * MiB);
	struct boot_params *zp;

	(void)state;
	/* A 2.12 kernel's header ends at 0x264 (jump byte 0x62). */
	f->image[0x201] = 0x264 - 0x202;
	SET_HDR(f, version, 0x020c);
	memset(f->image + 0x264, 0xa5, 8);
	assert_int_equal(load(f, NULL, NULL, 0), 0);
	zp = zero_page(f);
	assert_int_equal(zp->hdr.version, 0x020c);
	assert_int_equal(zp->hdr.kernel_info_offset, 0);
	assert_int_equal(zp->hdr.handover_offset, 0);
	/* No --cmdline: an empty string, not a NULL pointer. */
	assert_int_not_equal(zp->hdr.cmd_line_ptr, 0);
	assert_string_equal(mem_gpa_to_hva(&f->mem, zp->hdr.cmd_line_ptr, 1), "");
	assert_int_equal(zp->hdr.ramdisk_image, 0);
	assert_int_equal(zp->hdr.ramdisk_size, 0);
	fixture_free(f);
}

static void check_e820(struct fixture *f, u64 mem_bytes)
{
	struct e820_entry want[E820_MAX_ENTRIES];
	struct boot_params *zp = zero_page(f);
	unsigned int nr = e820_build(&f->mem, want), i;
	u64 ram = 0, low_end = MIN(mem_bytes, MEM_LOW_RAM_MAX);

	assert_int_equal(zp->e820_entries, nr);
	for (i = 0; i < nr; i++) {
		struct e820_entry e = zp->e820_table[i];

		assert_memory_equal(&e, &want[i], sizeof(e));
		if (i)
			assert_true(zp->e820_table[i - 1].addr +
				    zp->e820_table[i - 1].size <= e.addr);
		if (e.type == E820_RAM) {
			ram += e.size;
			/* No RAM in the hole: ECAM, MMIO window, APICs. */
			assert_true(e.addr + e.size <= MEM_LOW_RAM_MAX ||
				    e.addr >= 4 * GiB);
		}
	}
	/* All of -m but the BIOS areas below 1 MiB. */
	assert_int_equal(ram + (MiB - E820_EBDA_START), mem_bytes);
	/* The MP table's area is reserved. */
	for (i = 0; i < nr; i++)
		if (zp->e820_table[i].addr <= LAYOUT_MPTABLE &&
		    zp->e820_table[i].addr + zp->e820_table[i].size > LAYOUT_MPTABLE)
			assert_int_equal(zp->e820_table[i].type, E820_RESERVED);
	assert_int_equal(zp->e820_table[nr - 1].type, E820_RAM);
	if (mem_bytes > MEM_LOW_RAM_MAX) {
		assert_int_equal(zp->e820_table[nr - 1].addr, 4 * GiB);
		assert_int_equal(zp->e820_table[nr - 1].size, mem_bytes - MEM_LOW_RAM_MAX);
	} else {
		assert_int_equal(zp->e820_table[nr - 1].addr +
				 zp->e820_table[nr - 1].size, low_end);
	}
}

static void test_e820_128m(void **state)
{
	struct fixture *f = fixture_new(128 * MiB);

	(void)state;
	assert_int_equal(load(f, "", NULL, 0), 0);
	check_e820(f, 128 * MiB);
	fixture_free(f);
}

static void test_e820_across_the_hole(void **state)
{
	struct fixture *f = fixture_new(4 * GiB);
	u8 initrd[5000];
	struct boot_params *zp;

	(void)state;
	memset(initrd, 0x5a, sizeof(initrd));
	assert_int_equal(load(f, "", initrd, sizeof(initrd)), 0);
	check_e820(f, 4 * GiB);
	/* The initrd stays below initrd_addr_max (2 GiB here), not at 2.75 GiB. */
	zp = zero_page(f);
	assert_true((u64)zp->hdr.ramdisk_image + sizeof(initrd) - 1 <= 0x7fffffff);
	assert_true(zp->hdr.ramdisk_image >= 0x80000000ULL - 2 * 4096);
	fixture_free(f);
}

static void test_kernel_placement(void **state)
{
	struct bzimage_header bz = { 0 };
	u64 load, end, need;

	(void)state;
	bz.hdr.relocatable_kernel = 1;
	bz.hdr.kernel_alignment = 2 * MiB;
	bz.hdr.init_size = INIT_SIZE;
	bz.kernel_size = KERNEL_BYTES;

	/* pref_address honoured. */
	bz.hdr.pref_address = 16 * MiB;
	assert_int_equal(bzimage_place_kernel(&bz, 128 * MiB, &load, &end, &need), 0);
	assert_int_equal(load, 16 * MiB);
	assert_int_equal(end, 16 * MiB + INIT_SIZE);

	/* A relocatable kernel runs at pref_address rounded up to its alignment. */
	bz.hdr.pref_address = 17 * MiB + 4096;
	assert_int_equal(bzimage_place_kernel(&bz, 128 * MiB, &load, &end, &need), 0);
	assert_int_equal(load, 18 * MiB);

	/* No preference: 1 MiB, aligned. */
	bz.hdr.pref_address = 0;
	assert_int_equal(bzimage_place_kernel(&bz, 128 * MiB, &load, &end, &need), 0);
	assert_int_equal(load, 2 * MiB);

	/* A fixed kernel goes exactly where it says, aligned or not. */
	bz.hdr.relocatable_kernel = 0;
	bz.hdr.pref_address = 17 * MiB + 4096;
	assert_int_equal(bzimage_place_kernel(&bz, 128 * MiB, &load, &end, &need), 0);
	assert_int_equal(load, 17 * MiB + 4096);
	bz.hdr.pref_address = 0x8000;
	assert_int_equal(bzimage_place_kernel(&bz, 128 * MiB, &load, &end, &need), -EINVAL);

	/* init_size smaller than the file: the file counts. */
	bz.hdr.relocatable_kernel = 1;
	bz.hdr.pref_address = 16 * MiB;
	bz.hdr.init_size = 4096;
	assert_int_equal(bzimage_place_kernel(&bz, 128 * MiB, &load, &end, &need), 0);
	assert_int_equal(end, 16 * MiB + KERNEL_BYTES);

	/* Too little RAM: how much would do. */
	bz.hdr.init_size = INIT_SIZE;
	assert_int_equal(bzimage_place_kernel(&bz, 18 * MiB, &load, &end, &need), -ENOSPC);
	assert_int_equal(need, 16 * MiB + INIT_SIZE);

	/* Past the hole no amount of RAM helps. */
	bz.hdr.pref_address = MEM_LOW_RAM_MAX - MiB;
	assert_int_equal(bzimage_place_kernel(&bz, MEM_LOW_RAM_MAX, &load, &end, &need), -E2BIG);
	bz.hdr.pref_address = ~0ULL - 4096;
	assert_int_equal(bzimage_place_kernel(&bz, MEM_LOW_RAM_MAX, &load, &end, &need), -E2BIG);
}

static void test_initrd_placement(void **state)
{
	struct bzimage_header bz = { 0 };
	u64 addr, need;

	(void)state;
	bz.hdr.initrd_addr_max = 0x7fffffff;

	/* Top of RAM, page-aligned. */
	assert_int_equal(bzimage_place_initrd(&bz, 20 * MiB, 10000, 128 * MiB,
					      &addr, &need), 0);
	assert_int_equal(addr, 128 * MiB - 3 * 4096);

	/* RAM ending off a page boundary: still below the end, aligned. */
	assert_int_equal(bzimage_place_initrd(&bz, 20 * MiB, 4096, 128 * MiB - 100,
					      &addr, &need), 0);
	assert_int_equal(addr, 128 * MiB - 2 * 4096);

	/* initrd_addr_max is the last byte it may occupy. */
	bz.hdr.initrd_addr_max = 0x37ffffff;
	assert_int_equal(bzimage_place_initrd(&bz, 20 * MiB, 8192, 2 * GiB,
					      &addr, &need), 0);
	assert_int_equal(addr + 8192 - 1, 0x37ffffff);

	/* Exactly filling [kernel end, RAM end) fits; one page more does not. */
	bz.hdr.initrd_addr_max = 0x7fffffff;
	assert_int_equal(bzimage_place_initrd(&bz, 20 * MiB, 12 * MiB, 32 * MiB,
					      &addr, &need), 0);
	assert_int_equal(addr, 20 * MiB);
	assert_int_equal(bzimage_place_initrd(&bz, 20 * MiB, 12 * MiB + 1, 32 * MiB,
					      &addr, &need), -ENOSPC);
	assert_int_equal(need, 32 * MiB + 4096);

	/* The kernel end is rounded up to a page before the initrd. */
	assert_int_equal(bzimage_place_initrd(&bz, 20 * MiB + 1, 12 * MiB - 4096,
					      32 * MiB, &addr, &need), 0);
	assert_int_equal(addr, 20 * MiB + 4096);

	/* Blocked by initrd_addr_max, not by RAM: more RAM would not help. */
	bz.hdr.initrd_addr_max = 0x01ffffff;
	assert_int_equal(bzimage_place_initrd(&bz, 20 * MiB, 16 * MiB, 1 * GiB,
					      &addr, &need), -ENOSPC);
	assert_int_equal(need, 0);

	assert_int_equal(bzimage_place_initrd(&bz, 20 * MiB, 0, 1 * GiB,
					      &addr, &need), -EINVAL);
}

static void test_initrd_too_big_for_ram(void **state)
{
	struct fixture *f = fixture_new(24 * MiB);
	u8 *initrd = calloc(1, 8 * MiB);

	(void)state;
	assert_int_equal(load(f, "", initrd, 8 * MiB), -ENOSPC);
	assert_int_equal(f->info.ram_needed, 28 * MiB);
	assert_non_null(strstr(f->err, "at least 28 MiB"));
	free(initrd);
	fixture_free(f);
}

static void test_kernel_too_big_for_ram(void **state)
{
	struct fixture *f = fixture_new(16 * MiB);

	(void)state;
	assert_int_equal(load(f, "", NULL, 0), -ENOSPC);
	assert_int_equal(f->info.ram_needed, PREF_ADDRESS + INIT_SIZE);
	assert_non_null(strstr(f->err, "at least 20 MiB"));
	fixture_free(f);
}

static void test_rejects_old_protocol(void **state)
{
	struct fixture *f = fixture_new(64 * MiB);

	(void)state;
	SET_HDR(f, version, 0x020b);
	assert_int_equal(load(f, "", NULL, 0), -ENOTSUP);
	assert_non_null(strstr(f->err, "2.11"));
	assert_non_null(strstr(f->err, "2.12"));
	fixture_free(f);
}

static void test_rejects_bad_headers(void **state)
{
	struct fixture *f = fixture_new(64 * MiB);

	(void)state;
	SET_HDR(f, xloadflags, 0);
	assert_int_equal(load(f, "", NULL, 0), -ENOTSUP);
	assert_non_null(strstr(f->err, "64-bit"));

	build_image(f);
	SET_HDR(f, boot_flag, 0x1234);
	assert_int_equal(load(f, "", NULL, 0), -ENOEXEC);

	build_image(f);
	SET_HDR(f, syssize, KERNEL_BYTES / 16 + 1);
	assert_int_equal(load(f, "", NULL, 0), -ENOEXEC);
	assert_non_null(strstr(f->err, "truncated"));

	build_image(f);
	SET_HDR(f, setup_sects, 200);
	assert_int_equal(load(f, "", NULL, 0), -ENOEXEC);

	build_image(f);
	SET_HDR(f, kernel_alignment, 3 * MiB);
	assert_int_equal(load(f, "", NULL, 0), -ENOEXEC);

	build_image(f);
	SET_HDR(f, loadflags, 0);
	assert_int_equal(load(f, "", NULL, 0), -ENOTSUP);

	build_image(f);
	SET_HDR(f, init_size, 0);
	assert_int_equal(load(f, "", NULL, 0), -ENOEXEC);

	/* A header cut short before xloadflags. */
	build_image(f);
	f->image[0x201] = 0x10;
	assert_int_equal(load(f, "", NULL, 0), -ENOEXEC);
	fixture_free(f);
}

static void test_rejects_long_cmdline(void **state)
{
	struct fixture *f = fixture_new(64 * MiB);

	(void)state;
	SET_HDR(f, cmdline_size, 16);
	assert_int_equal(load(f, "0123456789abcdef", NULL, 0), 0);
	assert_int_equal(load(f, "0123456789abcdefg", NULL, 0), -E2BIG);
	assert_non_null(strstr(f->err, "at most 16"));
	fixture_free(f);
}

/* Walks the boot page tables like the MMU: the physical address of va, or ~0. */
static u64 walk(struct fixture *f, u64 va)
{
	u64 *pml4 = mem_gpa_to_hva(&f->mem, LAYOUT_PAGE_TABLES, 4096);
	u64 *pdpt, *pd, e;

	e = pml4[(va >> 39) & 511];
	if (!(e & 1))
		return ~0ULL;
	pdpt = mem_gpa_to_hva(&f->mem, e & ~0xfffULL, 4096);
	e = pdpt[(va >> 30) & 511];
	if (!pdpt || !(e & 1))
		return ~0ULL;
	pd = mem_gpa_to_hva(&f->mem, e & ~0xfffULL, 4096);
	e = pd[(va >> 21) & 511];
	if (!pd || !(e & 1) || !(e & 0x80))
		return ~0ULL;
	return (e & ~0x1fffffULL) | (va & 0x1fffff);
}

static void test_boot_gdt_and_page_tables(void **state)
{
	struct fixture *f = fixture_new(128 * MiB);
	u64 *gdt, addrs[] = { 0, LAYOUT_ZERO_PAGE, LAYOUT_CMDLINE,
			      PREF_ADDRESS, PREF_ADDRESS + INIT_SIZE - 1,
			      128 * MiB - 1, 0xfee00000, 0xffffffff };
	unsigned int i;

	(void)state;
	assert_int_equal(load(f, "x", NULL, 0), 0);
	gdt = mem_gpa_to_hva(&f->mem, LAYOUT_LINUX_GDT, 32);
	/* __BOOT_CS 0x10: present, code, exec/read, long mode; __BOOT_DS 0x18: data r/w, flat. */
	assert_int_equal((gdt[2] >> 47) & 1, 1);
	assert_int_equal((gdt[2] >> 43) & 1, 1);
	assert_int_equal((gdt[2] >> 53) & 1, 1);
	assert_int_equal((gdt[3] >> 43) & 1, 0);
	assert_int_equal((gdt[3] >> 41) & 1, 1);
	assert_int_equal(gdt[3] & 0xffff, 0xffff);
	assert_int_equal((gdt[3] >> 55) & 1, 1);
	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		assert_int_equal(walk(f, addrs[i]), addrs[i]);
	assert_int_equal(walk(f, 4 * GiB), ~0ULL);
	fixture_free(f);
}

static void test_setup_data_chain(void **state)
{
	struct fixture *f = fixture_new(64 * MiB);
	const char dtb[] = "a device tree", seed[] = "0123456789";
	struct boot_params *zp;
	struct setup_data sd;
	u64 gpa;
	u8 *p;
	void *big;

	(void)state;
	assert_int_equal(load(f, "", NULL, 0), 0);
	assert_int_equal(bzimage_add_setup_data(&f->mem, f->info.zero_page,
						SETUP_DTB, dtb, sizeof(dtb)), 0);
	assert_int_equal(bzimage_add_setup_data(&f->mem, f->info.zero_page,
						SETUP_RNG_SEED, seed, sizeof(seed)), 0);
	zp = zero_page(f);

	gpa = zp->hdr.setup_data;
	assert_int_equal(gpa, BZIMAGE_SETUP_DATA_START);
	p = mem_gpa_to_hva(&f->mem, gpa, sizeof(sd) + sizeof(dtb));
	memcpy(&sd, p, sizeof(sd));
	assert_int_equal(sd.type, SETUP_DTB);
	assert_int_equal(sd.len, sizeof(dtb));
	assert_memory_equal(p + sizeof(sd), dtb, sizeof(dtb));

	gpa = sd.next;
	assert_int_equal(gpa % 8, 0);
	assert_true(gpa >= BZIMAGE_SETUP_DATA_START + sizeof(sd) + sizeof(dtb));
	p = mem_gpa_to_hva(&f->mem, gpa, sizeof(sd) + sizeof(seed));
	memcpy(&sd, p, sizeof(sd));
	assert_int_equal(sd.type, SETUP_RNG_SEED);
	assert_memory_equal(p + sizeof(sd), seed, sizeof(seed));
	assert_int_equal(sd.next, 0);

	/* Full area: refused, chain intact. */
	big = calloc(1, BZIMAGE_SETUP_DATA_END - BZIMAGE_SETUP_DATA_START);
	assert_int_equal(bzimage_add_setup_data(&f->mem, f->info.zero_page, 99, big,
						BZIMAGE_SETUP_DATA_END - BZIMAGE_SETUP_DATA_START),
			 -ENOSPC);
	free(big);
	memcpy(&sd, mem_gpa_to_hva(&f->mem, gpa, sizeof(sd)), sizeof(sd));
	assert_int_equal(sd.next, 0);

	/* A zero page that is not ours, or a corrupt chain. */
	assert_int_equal(bzimage_add_setup_data(&f->mem, LAYOUT_ZERO_PAGE + 4096,
						SETUP_DTB, dtb, 1), -EINVAL);
	zp->hdr.setup_data = 0x1000;
	assert_int_equal(bzimage_add_setup_data(&f->mem, f->info.zero_page,
						SETUP_DTB, dtb, 1), -EINVAL);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detects_bzimage),
		cmocka_unit_test(test_load_fills_zero_page),
		cmocka_unit_test(test_header_copy_stops_at_its_end),
		cmocka_unit_test(test_e820_128m),
		cmocka_unit_test(test_e820_across_the_hole),
		cmocka_unit_test(test_kernel_placement),
		cmocka_unit_test(test_initrd_placement),
		cmocka_unit_test(test_initrd_too_big_for_ram),
		cmocka_unit_test(test_kernel_too_big_for_ram),
		cmocka_unit_test(test_rejects_old_protocol),
		cmocka_unit_test(test_rejects_bad_headers),
		cmocka_unit_test(test_rejects_long_cmdline),
		cmocka_unit_test(test_boot_gdt_and_page_tables),
		cmocka_unit_test(test_setup_data_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
