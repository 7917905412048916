// SPDX-License-Identifier: MIT
/*
 * pc-testdev through the buses: the scratch register's byte lanes through
 * both port windows, the MMIO iomem, the flush port keeping the page's
 * contents, the shutdown string and guest garbage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pc_testdev.h"
#include "tests/unit/support/fake_vm.h"

struct fixture {
	struct vm_config cfg;
	struct vm *vm;
	struct pc_testdev *dev;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.nr_cpus = 1;
	f->cfg.memory_bytes = 16 * MiB;
	f->vm = fake_vm_create(&f->cfg, 16 * MiB);
	assert_non_null(f->vm);
	assert_int_equal(pc_testdev_create(vm_services(f->vm), &f->dev), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pc_testdev_destroy(f->dev);
	fake_vm_destroy(f->vm);
	free(f);
	return 0;
}

static u32 pin(struct fixture *f, u16 port, u32 len)
{
	u32 v = 0;

	assert_true(bus_read(&f->vm->pio, port, &v, len));
	return v;
}

static void pout(struct fixture *f, u16 port, u32 v, u32 len)
{
	assert_true(bus_write(&f->vm->pio, port, &v, len));
}

static void test_scratch_lanes(void **state)
{
	struct fixture *f = *state;

	pout(f, PC_TESTDEV_PORT, 0x12345678, 4);
	assert_int_equal(pin(f, PC_TESTDEV_PORT, 4), 0x12345678);
	/* A byte at 0xe2 replaces its lane only. */
	pout(f, PC_TESTDEV_PORT + 2, 0xab, 1);
	assert_int_equal(pin(f, PC_TESTDEV_PORT, 4), 0x12ab5678);
	assert_int_equal(pin(f, PC_TESTDEV_PORT + 1, 2), 0xab56);
	assert_int_equal(pin(f, PC_TESTDEV_PORT + 3, 1), 0x12);
	/* 0xe8 is the same register, byte by byte. */
	assert_int_equal(pin(f, PC_TESTDEV_BYTE_PORT, 4), 0x12ab5678);
	pout(f, PC_TESTDEV_BYTE_PORT, 0xcafe, 2);
	assert_int_equal(pin(f, PC_TESTDEV_PORT, 4), 0x12abcafe);
}

static void test_iomem(void **state)
{
	struct fixture *f = *state;
	u64 q = 0x0123456789abcdefULL, r = 0;
	u8 b = 0;

	assert_true(bus_write(&f->vm->mmio, PC_TESTDEV_IOMEM + 0x100, &q, 8));
	assert_true(bus_read(&f->vm->mmio, PC_TESTDEV_IOMEM + 0x100, &r, 8));
	assert_int_equal(r, q);
	assert_true(bus_read(&f->vm->mmio, PC_TESTDEV_IOMEM + 0x101, &b, 1));
	assert_int_equal(b, 0xcd);
	/* The last bytes are in; the next one is not pc-testdev's. */
	assert_true(bus_write(&f->vm->mmio,
			      PC_TESTDEV_IOMEM + PC_TESTDEV_IOMEM_LEN - 8, &q, 8));
	assert_false(bus_read(&f->vm->mmio,
			      PC_TESTDEV_IOMEM + PC_TESTDEV_IOMEM_LEN, &r, 8));
}

static void test_flush_keeps_the_page(void **state)
{
	struct fixture *f = *state;
	u8 *page = gpa_to_hva(f->vm, 0x200000, 4096);

	memset(page, 0x5a, 4096);
	pout(f, PC_TESTDEV_FLUSH_PORT, 0x200123, 4);
	assert_int_equal(page[0], 0x5a);
	assert_int_equal(page[4095], 0x5a);
	page[7] = 1;	/* still writable */
	/* Addresses outside RAM are ignored. */
	pout(f, PC_TESTDEV_FLUSH_PORT, 0xfff00000, 4);
	assert_false(vm_stopping(f->vm));
}

static void write_string(struct fixture *f, const char *s)
{
	while (*s)
		pout(f, PC_TESTDEV_SHUTDOWN_PORT, (u8)*s++, 1);
}

static void test_shutdown_string(void **state)
{
	struct fixture *f = *state;

	write_string(f, "Shutdow");
	write_string(f, "x");
	write_string(f, "hutdown");
	assert_false(vm_stopping(f->vm));
	/* Restarting inside a partial match counts. */
	write_string(f, "ShutShutdown");
	assert_true(vm_stopping(f->vm));
	assert_int_equal(f->vm->exit_status, STATUS_OK);
}

static void test_shutdown_needs_the_whole_word(void **state)
{
	struct fixture *f = *state;

	write_string(f, "shutdown SHUTDOWN Shutdow");
	assert_false(vm_stopping(f->vm));
}

static void test_irq_ports_take_garbage(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	/* No irqchip in the fake VM: the lines fail quietly, nothing else. */
	for (i = 0; i < PC_TESTDEV_NR_IRQS; i++) {
		pout(f, PC_TESTDEV_IRQ_PORT + i, 1, 1);
		assert_int_equal(pin(f, PC_TESTDEV_IRQ_PORT + i, 1), 0);
	}
	pout(f, PC_TESTDEV_IRQ_PORT + 20, 0xffffffff, 4);
	assert_false(bus_write(&f->vm->pio,
			       PC_TESTDEV_IRQ_PORT + PC_TESTDEV_NR_IRQS,
			       &i, 1));
	assert_false(vm_stopping(f->vm));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_scratch_lanes),
		T(test_iomem),
		T(test_flush_keeps_the_page),
		T(test_shutdown_string),
		T(test_shutdown_needs_the_whole_word),
		T(test_irq_ports_take_garbage),
	};

	return cmocka_run_group_tests_name("pc_testdev", tests, NULL, NULL);
}
