// SPDX-License-Identifier: MIT
/*
 * fw_cfg through its two ports, as kvm-unit-tests reads it: select with a
 * 16-bit write to 0x510, read bytes from 0x511. The keys against the
 * machine (-m, -c), an empty file directory, unknown keys and guest
 * garbage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/fw_cfg.h"
#include "tests/unit/support/fake_vm.h"

struct fixture {
	struct vm_config cfg;
	struct vm *vm;
	struct fw_cfg *dev;
};

static struct fixture *fixture_new(u64 mem_bytes, unsigned int cpus)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.nr_cpus = cpus;
	f->cfg.memory_bytes = mem_bytes;
	f->vm = fake_vm_create(&f->cfg, mem_bytes);
	assert_non_null(f->vm);
	assert_int_equal(fw_cfg_create(vm_services(f->vm), &f->dev), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	fw_cfg_destroy(f->dev);
	fake_vm_destroy(f->vm);
	free(f);
}

static void select_key(struct fixture *f, u16 key)
{
	assert_true(bus_write(&f->vm->pio, FW_CFG_PORT_SEL, &key, 2));
}

/* fwcfg_get_u() of kvm-unit-tests: select, then bytes little-endian. */
static u64 get(struct fixture *f, u16 key, unsigned int bytes)
{
	u64 r = 0;
	unsigned int i;

	select_key(f, key);
	for (i = 0; i < bytes; i++) {
		u8 b = 0xaa;

		assert_true(bus_read(&f->vm->pio, FW_CFG_PORT_DATA, &b, 1));
		r |= (u64)b << (i * 8);
	}
	return r;
}

static void test_keys_follow_the_machine(void **state)
{
	struct fixture *f;
	char sig[5] = "";
	unsigned int i;

	(void)state;
	f = fixture_new(256 * MiB, 3);
	select_key(f, FW_CFG_SIGNATURE);
	for (i = 0; i < 4; i++)
		bus_read(&f->vm->pio, FW_CFG_PORT_DATA, &sig[i], 1);
	assert_string_equal(sig, "QEMU");
	assert_int_equal(get(f, FW_CFG_ID, 4), FW_CFG_ID_TRADITIONAL);
	assert_int_equal(get(f, FW_CFG_RAM_SIZE, 8), 256 * MiB);
	assert_int_equal(get(f, FW_CFG_NB_CPUS, 2), 3);
	assert_int_equal(get(f, FW_CFG_MAX_CPUS, 2), 3);
	assert_int_equal(get(f, FW_CFG_MAX_RAM, 8), 256 * MiB);
	/* The directory: count 0, and nothing after it. */
	assert_int_equal(get(f, FW_CFG_FILE_DIR, 8), 0);
	fixture_free(f);

	/* Above the PCI hole: MAX_RAM is the end of RAM above 4 GiB. */
	f = fixture_new(4 * GiB, 1);
	assert_int_equal(get(f, FW_CFG_RAM_SIZE, 8), 4 * GiB);
	assert_int_equal(get(f, FW_CFG_NB_CPUS, 2), 1);
	assert_int_equal(get(f, FW_CFG_MAX_RAM, 8),
			 4 * GiB + (4 * GiB - MEM_LOW_RAM_MAX));
	fixture_free(f);
}

static void test_reads_past_the_end_and_unknown_keys(void **state)
{
	struct fixture *f = fixture_new(64 * MiB, 2);

	(void)state;
	/* NB_CPUS is 2 bytes: the next ones read 0. */
	assert_int_equal(get(f, FW_CFG_NB_CPUS, 8), 2);
	assert_int_equal(get(f, 0x1234, 8), 0);
	assert_int_equal(get(f, 0xffff, 4), 0);
	/* Selecting again starts over. */
	assert_int_equal(get(f, FW_CFG_NB_CPUS, 1), 2);
	assert_int_equal(get(f, FW_CFG_NB_CPUS, 1), 2);
	fixture_free(f);
}

static void test_garbage_is_harmless(void **state)
{
	struct fixture *f = fixture_new(64 * MiB, 2);
	u32 v = 0xdeadbeef;
	u8 b;

	(void)state;
	/* Byte writes to the selector and writes to data change nothing. */
	select_key(f, FW_CFG_NB_CPUS);
	bus_write(&f->vm->pio, FW_CFG_PORT_SEL, &v, 1);
	bus_write(&f->vm->pio, FW_CFG_PORT_DATA, &v, 1);
	b = 0;
	bus_read(&f->vm->pio, FW_CFG_PORT_DATA, &b, 1);
	assert_int_equal(b, 2);
	/* A 16-bit read returns one byte, zero-extended. */
	select_key(f, FW_CFG_SIGNATURE);
	v = 0xffffffff;
	bus_read(&f->vm->pio, FW_CFG_PORT_SEL, &v, 2);
	assert_int_equal(v, 0xffff0000 | 'Q');
	/* 0x512 and up are not fw_cfg's (no DMA interface). */
	v = 0;
	assert_false(bus_read(&f->vm->pio, FW_CFG_PORT_SEL + 2, &v, 4));
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_follow_the_machine),
		cmocka_unit_test(test_reads_past_the_end_and_unknown_keys),
		cmocka_unit_test(test_garbage_is_harmless),
	};

	return cmocka_run_group_tests_name("fw_cfg", tests, NULL, NULL);
}
