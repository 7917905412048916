// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "vmm/bus.h"

struct recorder {
	u64 last_off;
	u32 last_len;
	u64 last_value;
	int reads, writes;
};

static void rec_read(void *dev, u64 off, void *data, u32 len)
{
	struct recorder *r = dev;
	u64 value = 0x1122334455667788ULL;

	r->reads++;
	r->last_off = off;
	r->last_len = len;
	memcpy(data, &value, len);
}

static void rec_write(void *dev, u64 off, const void *data, u32 len)
{
	struct recorder *r = dev;

	r->writes++;
	r->last_off = off;
	r->last_len = len;
	r->last_value = 0;
	memcpy(&r->last_value, data, len);
}

static const struct bus_ops rec_ops = { .read = rec_read, .write = rec_write };

static void test_register_and_dispatch_with_offset(void **state)
{
	struct recorder a = { 0 };
	struct bus bus;
	u32 value = 0;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &rec_ops, &a, "a"), 0);
	assert_true(bus_read(&bus, 0x3fd, &value, 1));
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.last_off, 5);
	assert_int_equal(value & 0xff, 0x88);
	value = 0xabcd;
	assert_true(bus_write(&bus, 0x3f8, &value, 2));
	assert_int_equal(a.last_off, 0);
	assert_int_equal(a.last_len, 2);
	assert_int_equal(a.last_value, 0xabcd);
	bus_destroy(&bus);
}

static void test_register_rejects_overlap(void **state)
{
	struct recorder a = { 0 }, b = { 0 };
	struct bus bus;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x1000, 0x100, &rec_ops, &a, "a"), 0);
	/* Same start, inside, straddling either end, covering. */
	assert_int_equal(bus_register(&bus, 0x1000, 1, &rec_ops, &b, "b"), -EBUSY);
	assert_int_equal(bus_register(&bus, 0x1080, 4, &rec_ops, &b, "b"), -EBUSY);
	assert_int_equal(bus_register(&bus, 0xff0, 0x20, &rec_ops, &b, "b"), -EBUSY);
	assert_int_equal(bus_register(&bus, 0x10ff, 2, &rec_ops, &b, "b"), -EBUSY);
	assert_int_equal(bus_register(&bus, 0x0, 0x10000, &rec_ops, &b, "b"), -EBUSY);
	/* Adjacent on both sides is fine. */
	assert_int_equal(bus_register(&bus, 0x1100, 0x10, &rec_ops, &b, "b"), 0);
	assert_int_equal(bus_register(&bus, 0xf00, 0x100, &rec_ops, &b, "b2"), 0);
	assert_int_equal(bus.nr_ranges, 3);
	bus_destroy(&bus);
}

static void test_register_rejects_empty_and_wrapping(void **state)
{
	struct recorder a = { 0 };
	struct bus bus;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x10, 0, &rec_ops, &a, "a"), -EINVAL);
	assert_int_equal(bus_register(&bus, ~0ULL - 1, 4, &rec_ops, &a, "a"), -EINVAL);
	assert_int_equal(bus_register(&bus, ~0ULL, 1, &rec_ops, &a, "a"), 0);
	bus_destroy(&bus);
}

static void test_unclaimed_reads_all_ones_writes_dropped(void **state)
{
	struct recorder a = { 0 };
	struct bus bus;
	u64 value = 0;
	u32 v32 = 0x12345678;
	u16 v16 = 0;
	u8 v8 = 0;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x100, 4, &rec_ops, &a, "a"), 0);
	assert_false(bus_read(&bus, 0x200, &value, 8));
	assert_int_equal(value, ~0ULL);
	assert_false(bus_read(&bus, 0x200, &v16, 2));
	assert_int_equal(v16, 0xffff);
	assert_false(bus_read(&bus, 0xff, &v8, 1));
	assert_int_equal(v8, 0xff);
	assert_false(bus_write(&bus, 0x104, &v32, 4));
	assert_int_equal(a.writes, 0);
	assert_int_equal(a.reads, 0);
	bus_destroy(&bus);
}

static void test_access_straddling_range_end_is_unclaimed(void **state)
{
	struct recorder a = { 0 };
	struct bus bus;
	u32 value = 0;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x100, 4, &rec_ops, &a, "a"), 0);
	assert_false(bus_read(&bus, 0x102, &value, 4));
	assert_int_equal(value, 0xffffffff);
	assert_int_equal(a.reads, 0);
	assert_true(bus_read(&bus, 0x100, &value, 4));
	bus_destroy(&bus);
}

static void test_unregister_and_move(void **state)
{
	struct recorder a = { 0 }, b = { 0 };
	struct bus bus;
	u32 value;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0xc0000000, 0x1000, &rec_ops, &a, "bar"), 0);
	/* Only the owner may unregister its range. */
	assert_int_equal(bus_unregister(&bus, 0xc0000000, &b), -ENOENT);
	assert_int_equal(bus_unregister(&bus, 0xc0000000, &a), 0);
	assert_false(bus_read(&bus, 0xc0000000, &value, 4));
	assert_int_equal(bus_register(&bus, 0xd0000000, 0x1000, &rec_ops, &a, "bar"), 0);
	assert_true(bus_read(&bus, 0xd0000010, &value, 4));
	assert_int_equal(a.last_off, 0x10);
	assert_int_equal(bus_unregister(&bus, 0xc0000000, &a), -ENOENT);
	bus_destroy(&bus);
}

static void test_many_ranges_stay_sorted(void **state)
{
	struct recorder devs[64];
	struct bus bus;
	unsigned int i;
	u32 value;

	(void)state;
	memset(devs, 0, sizeof(devs));
	bus_init(&bus, "test");
	/* Insert in a scrambled order; lookups must still find each. */
	for (i = 0; i < 64; i++) {
		unsigned int slot = (i * 37) % 64;

		assert_int_equal(bus_register(&bus, slot * 0x100, 0x80, &rec_ops,
					      &devs[slot], "d"), 0);
	}
	for (i = 1; i < bus.nr_ranges; i++)
		assert_true(bus.ranges[i - 1].base < bus.ranges[i].base);
	for (i = 0; i < 64; i++) {
		assert_true(bus_read(&bus, i * 0x100 + 0x7c, &value, 4));
		assert_int_equal(devs[i].reads, 1);
		assert_false(bus_read(&bus, i * 0x100 + 0x80, &value, 4));
	}
	bus_destroy(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_dispatch_with_offset),
		cmocka_unit_test(test_register_rejects_overlap),
		cmocka_unit_test(test_register_rejects_empty_and_wrapping),
		cmocka_unit_test(test_unclaimed_reads_all_ones_writes_dropped),
		cmocka_unit_test(test_access_straddling_range_end_is_unclaimed),
		cmocka_unit_test(test_unregister_and_move),
		cmocka_unit_test(test_many_ranges_stay_sorted),
	};

	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
