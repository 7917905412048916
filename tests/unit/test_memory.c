// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/e820.h"
#include "vmm/memory.h"
#include "tests/unit/support/fake_vm.h"

static void test_layout_small_is_one_region(void **state)
{
	struct mem_region r[MEM_MAX_REGIONS];

	(void)state;
	assert_int_equal(mem_layout(128 * MiB, r), 1);
	assert_int_equal(r[0].gpa, 0);
	assert_int_equal(r[0].size, 128 * MiB);
	assert_int_equal(mem_layout(0xb0000000, r), 1);
	assert_int_equal(r[0].size, 0xb0000000);
}

static void test_layout_splits_around_hole(void **state)
{
	struct mem_region r[MEM_MAX_REGIONS];

	(void)state;
	assert_int_equal(mem_layout(4 * GiB, r), 2);
	assert_int_equal(r[0].gpa, 0);
	/* Low RAM stops at the ECAM window; the rest goes above 4 GiB. */
	assert_int_equal(r[0].size, 0xb0000000);
	assert_int_equal(r[0].fd_offset, 0);
	assert_int_equal(r[1].gpa, 4 * GiB);
	assert_int_equal(r[1].size, 4 * GiB - 0xb0000000);
	assert_int_equal(r[1].fd_offset, 0xb0000000);
}

static void test_gpa_to_hva_checks_ranges(void **state)
{
	struct guest_memory mem;
	u8 *base;

	(void)state;
	assert_int_equal(mem_create(&mem, 4 * GiB), 0);
	base = mem.base;
	assert_ptr_equal(mem_gpa_to_hva(&mem, 0, 4096), base);
	assert_ptr_equal(mem_gpa_to_hva(&mem, 0xb0000000 - 8, 8),
			 base + 0xb0000000 - 8);
	/* Across the end of low RAM, inside the hole, across the top. */
	assert_null(mem_gpa_to_hva(&mem, 0xb0000000 - 8, 16));
	assert_null(mem_gpa_to_hva(&mem, 0xb0000000, 1));
	assert_null(mem_gpa_to_hva(&mem, 0xfee00000, 4));
	assert_ptr_equal(mem_gpa_to_hva(&mem, 4 * GiB, 1), base + 0xb0000000);
	assert_ptr_equal(mem_gpa_to_hva(&mem, 0x150000000ULL - 1, 1), base + 4 * GiB - 1);
	assert_null(mem_gpa_to_hva(&mem, 0x150000000ULL - 1, 2));
	assert_null(mem_gpa_to_hva(&mem, 0x150000000ULL, 1));
	/* Lengths that wrap must not pass. */
	assert_null(mem_gpa_to_hva(&mem, 4096, ~0ULL));
	assert_null(mem_gpa_to_hva(&mem, ~0ULL, 2));
	mem_destroy(&mem);
}

static void test_memfd_is_sealed_and_shared(void **state)
{
	struct guest_memory mem;
	int seals;
	u8 byte = 0;

	(void)state;
	assert_int_equal(mem_create(&mem, 16 * MiB), 0);
	seals = fcntl(mem.memfd, F_GET_SEALS);
	assert_true(seals & F_SEAL_SHRINK);
	assert_true(seals & F_SEAL_GROW);
	assert_true(seals & F_SEAL_SEAL);
	assert_int_not_equal(ftruncate(mem.memfd, 4096), 0);
	assert_true(fcntl(mem.memfd, F_GETFD) & FD_CLOEXEC);
	/* A write through the mapping is what another mapper of the fd sees. */
	((u8 *)mem.base)[12345] = 0x5a;
	assert_int_equal(pread(mem.memfd, &byte, 1, 12345), 1);
	assert_int_equal(byte, 0x5a);
	mem_destroy(&mem);
}

static void test_create_destroy_leaks_no_fd(void **state)
{
	struct guest_memory mem;
	int before = fake_count_fds();

	(void)state;
	assert_int_equal(mem_create(&mem, 8 * MiB), 0);
	assert_int_equal(fake_count_fds(), before + 1);
	mem_destroy(&mem);
	assert_int_equal(fake_count_fds(), before);
}

static void test_e820_small(void **state)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	struct guest_memory mem;
	unsigned int n;

	(void)state;
	assert_int_equal(mem_create(&mem, 128 * MiB), 0);
	n = e820_build(&mem, e);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, 0x9fc00);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].addr, 0x9fc00);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, 0xf0000);
	assert_int_equal(e[2].size, 0x10000);
	assert_int_equal(e[2].type, E820_RESERVED);
	assert_int_equal(e[3].addr, 0x100000);
	assert_int_equal(e[3].size, 127 * MiB);
	assert_int_equal(e[3].type, E820_RAM);
	mem_destroy(&mem);
}

static void test_e820_across_hole_sorted_and_covering(void **state)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	struct guest_memory mem;
	unsigned int n, i;
	u64 ram = 0;

	(void)state;
	assert_int_equal(mem_create(&mem, 4 * GiB), 0);
	n = e820_build(&mem, e);
	assert_int_equal(n, 5);
	for (i = 1; i < n; i++)
		assert_true(e[i - 1].addr + e[i - 1].size <= e[i].addr);
	for (i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			ram += e[i].size;
	/* RAM entries plus the holes below 1 MiB account for every byte. */
	assert_int_equal(ram + (0x100000 - 0x9fc00), 4 * GiB);
	assert_int_equal(e[4].addr, 4 * GiB);
	assert_int_equal(e[4].size, 4 * GiB - 0xb0000000);
	assert_int_equal(e[3].addr + e[3].size, 0xb0000000);
	mem_destroy(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_small_is_one_region),
		cmocka_unit_test(test_layout_splits_around_hole),
		cmocka_unit_test(test_gpa_to_hva_checks_ranges),
		cmocka_unit_test(test_memfd_is_sealed_and_shared),
		cmocka_unit_test(test_create_destroy_leaks_no_fd),
		cmocka_unit_test(test_e820_small),
		cmocka_unit_test(test_e820_across_hole_sorted_and_covering),
	};

	return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
