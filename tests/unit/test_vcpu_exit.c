// SPDX-License-Identifier: MIT
/* The exit dispatcher, driven by hand-filled kvm_run structures: no KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/debug_exit.h"
#include "vmm/vcpu.h"
#include "tests/unit/support/fake_vm.h"

#define RUN_SIZE 4096

struct port_dev {
	u8 regs[16];
	int reads, writes;
};

static void port_read(void *dev, u64 off, void *data, u32 len)
{
	struct port_dev *p = dev;

	p->reads++;
	memcpy(data, &p->regs[off], len);
}

static void port_write(void *dev, u64 off, const void *data, u32 len)
{
	struct port_dev *p = dev;

	p->writes++;
	memcpy(&p->regs[off], data, len);
}

static const struct bus_ops port_ops = { .read = port_read, .write = port_write };

struct fixture {
	struct vm_config cfg;
	struct vm *vm;
	struct vcpu vcpu;
	struct kvm_run *run;
	struct port_dev dev;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->vm = fake_vm_create(&f->cfg, 0);
	f->run = calloc(1, RUN_SIZE);
	f->vcpu.vm = f->vm;
	f->vcpu.fd = -1;
	f->vcpu.run = f->run;
	f->vcpu.run_size = RUN_SIZE;
	assert_int_equal(bus_register(&f->vm->pio, 0x500, 16, &port_ops, &f->dev, "dev"), 0);
	assert_int_equal(bus_register(&f->vm->mmio, 0xd0000000, 16, &port_ops, &f->dev, "dev"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_vm_destroy(f->vm);
	free(f->run);
	free(f);
	return 0;
}

static void fill_io(struct kvm_run *run, u8 dir, u16 port, u8 size, u32 count)
{
	memset(run, 0, RUN_SIZE);
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = dir;
	run->io.port = port;
	run->io.size = size;
	run->io.count = count;
	run->io.data_offset = 1024;
}

static void test_pio_out_reaches_device(void **state)
{
	struct fixture *f = *state;

	fill_io(f->run, KVM_EXIT_IO_OUT, 0x504, 4, 1);
	memcpy((u8 *)f->run + 1024, "\x11\x22\x33\x44", 4);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_int_equal(f->dev.writes, 1);
	assert_memory_equal(&f->dev.regs[4], "\x11\x22\x33\x44", 4);
	assert_false(vm_stopping(f->vm));
}

static void test_pio_in_fills_run_data(void **state)
{
	struct fixture *f = *state;

	f->dev.regs[2] = 0xab;
	f->dev.regs[3] = 0xcd;
	fill_io(f->run, KVM_EXIT_IO_IN, 0x502, 2, 1);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_memory_equal((u8 *)f->run + 1024, "\xab\xcd", 2);
}

static void test_pio_string_ops_repeat(void **state)
{
	struct fixture *f = *state;

	/* rep outsb of 3 bytes: three writes, the last one wins. */
	fill_io(f->run, KVM_EXIT_IO_OUT, 0x500, 1, 3);
	memcpy((u8 *)f->run + 1024, "abc", 3);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_int_equal(f->dev.writes, 3);
	assert_int_equal(f->dev.regs[0], 'c');
}

static void test_unclaimed_port_reads_all_ones_and_continues(void **state)
{
	struct fixture *f = *state;

	fill_io(f->run, KVM_EXIT_IO_IN, 0x1234, 4, 1);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_memory_equal((u8 *)f->run + 1024, "\xff\xff\xff\xff", 4);
	fill_io(f->run, KVM_EXIT_IO_OUT, 0x1234, 1, 1);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_false(vm_stopping(f->vm));
}

static void test_bad_io_sizes_are_ignored(void **state)
{
	struct fixture *f = *state;

	fill_io(f->run, KVM_EXIT_IO_OUT, 0x500, 3, 1);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	/* A count that would run past the run area is refused. */
	fill_io(f->run, KVM_EXIT_IO_OUT, 0x500, 4, 100000);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_int_equal(f->dev.writes, 0);
}

static void test_mmio_read_and_write(void **state)
{
	struct fixture *f = *state;

	memset(f->run, 0, RUN_SIZE);
	f->run->exit_reason = KVM_EXIT_MMIO;
	f->run->mmio.phys_addr = 0xd0000008;
	f->run->mmio.len = 8;
	f->run->mmio.is_write = 1;
	memcpy(f->run->mmio.data, "ABCDEFGH", 8);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_memory_equal(&f->dev.regs[8], "ABCDEFGH", 8);

	f->run->mmio.is_write = 0;
	f->run->mmio.phys_addr = 0xd000000c;
	f->run->mmio.len = 4;
	memset(f->run->mmio.data, 0, 8);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_memory_equal(f->run->mmio.data, "EFGH", 4);

	/* Unclaimed MMIO reads are all-ones. */
	f->run->mmio.phys_addr = 0xe0000000;
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_memory_equal(f->run->mmio.data, "\xff\xff\xff\xff", 4);
}

static void test_triple_fault_is_a_crash(void **state)
{
	struct fixture *f = *state;

	memset(f->run, 0, RUN_SIZE);
	f->run->exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 1);
	assert_true(vm_stopping(f->vm));
	assert_int_equal(f->vm->exit_status, STATUS_GUEST_CRASH);
	assert_non_null(strstr(f->vm->exit_reason, "triple fault"));
}

static void test_internal_error_is_a_crash_naming_it(void **state)
{
	struct fixture *f = *state;

	memset(f->run, 0, RUN_SIZE);
	f->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	f->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 1);
	assert_int_equal(f->vm->exit_status, STATUS_GUEST_CRASH);
	assert_non_null(strstr(f->vm->exit_reason, "emulation"));
	assert_non_null(strstr(f->vm->exit_reason, "RIP"));
}

static void test_unknown_exit_is_a_crash(void **state)
{
	struct fixture *f = *state;

	memset(f->run, 0, RUN_SIZE);
	f->run->exit_reason = 9999;
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 1);
	assert_int_equal(f->vm->exit_status, STATUS_GUEST_CRASH);
	assert_non_null(strstr(f->vm->exit_reason, "unhandled"));
}

static void test_system_reset_is_normal_exit(void **state)
{
	struct fixture *f = *state;

	memset(f->run, 0, RUN_SIZE);
	f->run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	f->run->system_event.type = KVM_SYSTEM_EVENT_RESET;
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 1);
	assert_int_equal(f->vm->exit_status, STATUS_OK);
}

static void test_debug_exit_port_stops_with_status(void **state)
{
	struct fixture *f = *state;
	struct debug_exit *dev;

	assert_int_equal(debug_exit_create(vm_services(f->vm), DEBUG_EXIT_QEMU, &dev), 0);
	fill_io(f->run, KVM_EXIT_IO_OUT, 0xf4, 4, 1);
	memcpy((u8 *)f->run + 1024, "\x00\x00\x00\x00", 4);
	assert_int_equal(vcpu_handle_exit(&f->vcpu, f->run), 0);
	assert_true(vm_stopping(f->vm));
	assert_int_equal(f->vm->exit_status, 1);
	assert_string_equal(f->vm->exit_reason, "");
	/* The first stop wins: a later request does not change it. */
	vm_request_stop(f->vm, 99, "late");
	assert_int_equal(f->vm->exit_status, 1);
	debug_exit_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pio_out_reaches_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_in_fills_run_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_string_ops_repeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclaimed_port_reads_all_ones_and_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_io_sizes_are_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_read_and_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_triple_fault_is_a_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_internal_error_is_a_crash_naming_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_exit_is_a_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_reset_is_normal_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_exit_port_stops_with_status, setup, teardown),
	};

	return cmocka_run_group_tests_name("vcpu_exit", tests, NULL, NULL);
}
