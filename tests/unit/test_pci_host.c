// SPDX-License-Identifier: MIT
/*
 * The PCI host bridge through the guest's eyes: conf1 and ECAM on the
 * buses of a fake VM, the host bridge function, slots, the boot-time BAR
 * allocator, the MP table routes, and the built-in test function.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/pci.h"
#include "devices/pci_host.h"
#include "devices/pci_testdev.h"
#include "vmm/mptable.h"
#include "vmm/pci_irq.h"
#include "tests/unit/support/fake_irq.h"
#include "tests/unit/support/fake_vm.h"

#define RAM_SIZE (16 * MiB)

struct fixture {
	struct vm_config cfg;
	struct vm *vm;
	struct fake_irq irq;
	struct pci_host *host;
	int fds_before;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->fds_before = fake_count_fds();
	f->cfg.memory_bytes = RAM_SIZE;
	f->cfg.nr_cpus = 1;
	f->vm = fake_vm_create(&f->cfg, RAM_SIZE);
	assert_non_null(f->vm);
	assert_int_equal(fake_irq_init(&f->irq, 64), 0);
	f->vm->irq = f->irq.router;
	assert_int_equal(pci_host_create(vm_services(f->vm), &f->host), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_host_destroy(f->host);
	fake_irq_fini(&f->irq);
	fake_vm_destroy(f->vm);
	assert_int_equal(fake_count_fds(), f->fds_before);
	free(f);
	return 0;
}

static u32 conf1_addr(u8 bus, u8 slot, u8 func, u8 reg)
{
	return PCI_CONF1_ENABLE | bus << 16 | slot << 11 | func << 8 | reg;
}

static void outl(struct fixture *f, u16 port, u32 v)
{
	bus_write(&f->vm->pio, port, &v, 4);
}

static u32 in(struct fixture *f, u16 port, u32 len)
{
	u32 v = 0;

	bus_read(&f->vm->pio, port, &v, len);
	return v;
}

static void out(struct fixture *f, u16 port, u32 len, u32 v)
{
	bus_write(&f->vm->pio, port, &v, len);
}

static u32 ecam_read(struct fixture *f, u8 bus, u8 devfn, u32 reg, u32 len)
{
	u64 v = 0;

	bus_read(&f->vm->mmio, PCI_ECAM_BASE + ((u64)bus << 20) +
		 ((u64)devfn << 12) + reg, &v, len);
	return v;
}

static void ecam_write(struct fixture *f, u8 bus, u8 devfn, u32 reg, u32 len,
		       u32 v)
{
	bus_write(&f->vm->mmio, PCI_ECAM_BASE + ((u64)bus << 20) +
		  ((u64)devfn << 12) + reg, &v, len);
}

/* ---- conf1 --------------------------------------------------------------- */

static void test_conf1_address_register(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(in(f, 0xcf8, 4), 0);
	outl(f, 0xcf8, 0x80000000);
	assert_int_equal(in(f, 0xcf8, 4), 0x80000000);
	/* Reserved bits 30:24 and 1:0 read 0. */
	outl(f, 0xcf8, 0xffffffff);
	assert_int_equal(in(f, 0xcf8, 4), 0x80fffffc);
	/* Narrower accesses are not the address register. */
	out(f, 0xcf8, 1, 0);
	out(f, 0xcfa, 2, 0);
	assert_int_equal(in(f, 0xcf8, 4), 0x80fffffc);
	assert_int_equal(in(f, 0xcf9, 1), 0xff);
	assert_int_equal(in(f, 0xcf8, 2), 0xffff);
}

static void test_conf1_reads_host_bridge(void **state)
{
	struct fixture *f = *state;

	outl(f, 0xcf8, conf1_addr(0, 0, 0, 0));
	assert_int_equal(in(f, 0xcfc, 4),
			 PCI_HOST_DEVICE_ID << 16 | PCI_HOST_VENDOR_ID);
	assert_int_equal(in(f, 0xcfc, 2), PCI_HOST_VENDOR_ID);
	assert_int_equal(in(f, 0xcfe, 2), PCI_HOST_DEVICE_ID);
	assert_int_equal(in(f, 0xcfd, 1), PCI_HOST_VENDOR_ID >> 8);
	assert_int_equal(in(f, 0xcfd, 2), (PCI_HOST_DEVICE_ID & 0xff) << 8 |
			 PCI_HOST_VENDOR_ID >> 8);
	outl(f, 0xcf8, conf1_addr(0, 0, 0, PCI_CLASS_REVISION));
	assert_int_equal(in(f, 0xcfc, 4) >> 8, PCI_HOST_CLASS);
	outl(f, 0xcf8, conf1_addr(0, 0, 0, PCI_HEADER_TYPE & ~3));
	assert_int_equal(in(f, 0xcfe, 1), 0);
}

static void test_conf1_disabled_and_absent(void **state)
{
	struct fixture *f = *state;

	/* Enable bit clear: all-ones, and writes go nowhere. */
	outl(f, 0xcf8, conf1_addr(0, 0, 0, PCI_INTERRUPT_LINE) & ~PCI_CONF1_ENABLE);
	assert_int_equal(in(f, 0xcfc, 4), 0xffffffff);
	out(f, 0xcfc, 1, 0x5a);
	outl(f, 0xcf8, conf1_addr(0, 0, 0, PCI_INTERRUPT_LINE));
	assert_int_equal(in(f, 0xcfc, 1), 0);
	out(f, 0xcfc, 1, 0x5a);
	assert_int_equal(in(f, 0xcfc, 1), 0x5a);
	/* Nothing at slot 9, function 3 of slot 0, or on bus 1. */
	outl(f, 0xcf8, conf1_addr(0, 9, 0, 0));
	assert_int_equal(in(f, 0xcfc, 4), 0xffffffff);
	outl(f, 0xcf8, conf1_addr(0, 0, 3, 0));
	assert_int_equal(in(f, 0xcfc, 2), 0xffff);
	outl(f, 0xcf8, conf1_addr(1, 0, 0, 0));
	assert_int_equal(in(f, 0xcfc, 4), 0xffffffff);
	/* Past 0xcff: the data window is not the target. */
	outl(f, 0xcf8, conf1_addr(0, 0, 0, 0));
	assert_false(bus_read(&f->vm->pio, 0xcfe, &(u32){ 0 }, 4));
}

/* ---- ECAM ----------------------------------------------------------------- */

static void test_ecam_matches_conf1(void **state)
{
	struct fixture *f = *state;
	u32 reg;

	for (reg = 0; reg < 0x40; reg += 4) {
		outl(f, 0xcf8, conf1_addr(0, 0, 0, reg));
		assert_int_equal(ecam_read(f, 0, 0, reg, 4), in(f, 0xcfc, 4));
	}
	/* A write through one is seen through the other. */
	ecam_write(f, 0, 0, PCI_INTERRUPT_LINE, 1, 0x33);
	outl(f, 0xcf8, conf1_addr(0, 0, 0, PCI_INTERRUPT_LINE));
	assert_int_equal(in(f, 0xcfc, 1), 0x33);
	out(f, 0xcfc, 1, 0x44);
	assert_int_equal(ecam_read(f, 0, 0, PCI_INTERRUPT_LINE, 1), 0x44);
	assert_int_equal(ecam_read(f, 0, 0, 2, 2), PCI_HOST_DEVICE_ID);
	assert_int_equal(ecam_read(f, 0, 0, 1, 1), PCI_HOST_VENDOR_ID >> 8);
	/* Extended space: reachable through ECAM only, empty here. */
	assert_int_equal(ecam_read(f, 0, 0, 0x100, 4), 0);
}

static void test_ecam_misaligned_and_absent(void **state)
{
	struct fixture *f = *state;
	u64 q = 0;

	assert_int_equal(ecam_read(f, 0, 0, 1, 2), 0xffff);
	assert_int_equal(ecam_read(f, 0, 0, 2, 4), 0xffffffff);
	ecam_write(f, 0, 0, PCI_INTERRUPT_LINE - 1, 2, 0x7777);
	assert_int_equal(ecam_read(f, 0, 0, PCI_INTERRUPT_LINE, 1), 0);
	assert_int_equal(ecam_read(f, 0, PCI_DEVFN(31, 7), 0, 4), 0xffffffff);
	assert_int_equal(ecam_read(f, 255, 0, 0, 4), 0xffffffff);
	/* An aligned 8-byte read is two dwords. */
	assert_true(bus_read(&f->vm->mmio, PCI_ECAM_BASE, &q, 8));
	assert_int_equal(q & 0xffffffff,
			 PCI_HOST_DEVICE_ID << 16 | PCI_HOST_VENDOR_ID);
	assert_int_equal(q >> 32, 0);		/* command and status */
}

/* ---- functions on the bus ------------------------------------------------- */

static const struct pci_function_info plain_info = {
	.name = "plain",
	.vendor_id = 0x1111,
	.device_id = 0x2222,
	.class_code = 0x010000,
	.irq_pin = 1,
	.bars = { [0] = { .type = PCI_BAR_MEM32, .size = 0x1000 } },
};

static void test_slots_and_multifunction(void **state)
{
	struct fixture *f = *state;
	struct pci_function *a, *b, *c, *d;

	assert_int_equal(pci_function_create(f->vm, &plain_info, NULL, NULL, &a), 0);
	assert_int_equal(pci_function_create(f->vm, &plain_info, NULL, NULL, &b), 0);
	assert_int_equal(pci_function_create(f->vm, &plain_info, NULL, NULL, &c), 0);
	assert_int_equal(pci_function_create(f->vm, &plain_info, NULL, NULL, &d), 0);
	/* The first free slot after the host bridge. */
	assert_int_equal(pci_host_add(f->host, a, -1), 0);
	assert_int_equal(pci_function_devfn(a), PCI_DEVFN(1, 0));
	assert_int_equal(pci_host_add(f->host, b, PCI_DEVFN(1, 0)), -EBUSY);
	/* Function 2 of slot 5 needs function 0 there. */
	assert_int_equal(pci_host_add(f->host, b, PCI_DEVFN(5, 2)), -EBUSY);
	assert_int_equal(pci_host_add(f->host, b, PCI_DEVFN(5, 0)), 0);
	assert_int_equal(ecam_read(f, 0, PCI_DEVFN(5, 0), PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(pci_host_add(f->host, c, PCI_DEVFN(5, 2)), 0);
	assert_int_equal(ecam_read(f, 0, PCI_DEVFN(5, 0), PCI_HEADER_TYPE, 1), 0x80);
	assert_int_equal(ecam_read(f, 0, PCI_DEVFN(5, 2), 0, 4), 0x22221111);
	assert_ptr_equal(pci_host_function(f->host, PCI_DEVFN(5, 2)), c);
	/* Pins swizzle by slot. */
	assert_int_equal(pci_function_intx_gsi(b), pci_intx_gsi(5, 1));
	assert_int_equal(pci_function_intx_gsi(a), 17);
	/* Removed: gone from the bus, back to its owner. */
	assert_int_equal(pci_host_remove(f->host, d), -ENOENT);
	assert_int_equal(pci_host_remove(f->host, a), 0);
	assert_int_equal(ecam_read(f, 0, PCI_DEVFN(1, 0), 0, 4), 0xffffffff);
	pci_function_destroy(a);
	pci_function_destroy(d);
	/* b and c belong to the host: pci_host_destroy frees them. */
}

static void test_slots_run_out(void **state)
{
	struct fixture *f = *state;
	struct pci_function *fn;
	int i, ret = 0;

	for (i = 1; i <= 32 && !ret; i++) {
		assert_int_equal(pci_function_create(f->vm, &plain_info, NULL,
						     NULL, &fn), 0);
		ret = pci_host_add(f->host, fn, -1);
		if (ret)
			pci_function_destroy(fn);
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(i, 33);		/* slots 1-31 took 31 functions */
}

/*
 * Two BARs programmed onto one range: the second decodes nothing until the
 * first moves away or stops decoding, then takes the range, whichever
 * function the two belong to.
 */
static void test_bar_over_bar_decodes_once_freed(void **state)
{
	struct fixture *f = *state;
	struct pci_function *a, *b;
	const u32 x = 0xc0000000, y = 0xc0010000;
	u8 da = PCI_DEVFN(1, 0), db = PCI_DEVFN(2, 0);

	assert_int_equal(pci_function_create(f->vm, &plain_info, NULL, NULL, &a), 0);
	assert_int_equal(pci_function_create(f->vm, &plain_info, NULL, NULL, &b), 0);
	assert_int_equal(pci_host_add(f->host, a, da), 0);
	assert_int_equal(pci_host_add(f->host, b, db), 0);
	ecam_write(f, 0, da, PCI_BASE_ADDRESS_0, 4, x);
	ecam_write(f, 0, db, PCI_BASE_ADDRESS_0, 4, x);
	ecam_write(f, 0, da, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ecam_write(f, 0, db, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(pci_bar_window(a, 0).on);
	assert_false(pci_bar_window(b, 0).on);

	/* a moves: b takes x. */
	ecam_write(f, 0, da, PCI_BASE_ADDRESS_0, 4, y);
	assert_true(pci_bar_window(a, 0).on);
	assert_int_equal(pci_bar_window(a, 0).addr, y);
	assert_true(pci_bar_window(b, 0).on);
	assert_int_equal(pci_bar_window(b, 0).addr, x);

	/* a back onto x loses to b; b's decode turned off gives x to a. */
	ecam_write(f, 0, da, PCI_BASE_ADDRESS_0, 4, x);
	assert_false(pci_bar_window(a, 0).on);
	ecam_write(f, 0, db, PCI_COMMAND, 2, 0);
	assert_false(pci_bar_window(b, 0).on);
	assert_true(pci_bar_window(a, 0).on);
	assert_int_equal(pci_bar_window(a, 0).addr, x);

	/* b on again over a: loses; then off: it no longer waits for x. */
	ecam_write(f, 0, db, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_false(pci_bar_window(b, 0).on);
	ecam_write(f, 0, db, PCI_COMMAND, 2, 0);
	ecam_write(f, 0, da, PCI_COMMAND, 2, 0);
	assert_false(pci_bar_window(a, 0).on);
	assert_false(pci_bar_window(b, 0).on);
	/* a and b belong to the host now. */
}

static bool overlap(u64 a, u64 as, u64 b, u64 bs)
{
	return a < b + bs && b < a + as;
}

static void test_assign_bars_places_pci_testdev(void **state)
{
	struct fixture *f = *state;
	struct pci_testdev *dev;
	struct pci_function *fn, *big;
	struct pci_function_info big_info = plain_info;
	struct { u64 addr, size; } placed[16];
	unsigned int n = 0, i, j, bar;
	u64 m64 = pci_mmio64_base(RAM_SIZE);
	u16 cmd;

	big_info.bars[0].size = 256 * MiB;
	big_info.bars[2] = (struct pci_bar_desc) { .type = PCI_BAR_IO, .size = 4 };
	assert_int_equal(pci_testdev_create(vm_services(f->vm), f->host, &dev), 0);
	assert_int_equal(pci_function_create(f->vm, &big_info, NULL, NULL, &big), 0);
	assert_int_equal(pci_host_add(f->host, big, -1), 0);
	assert_int_equal(pci_host_assign_bars(f->host, NULL, 0), 0);

	fn = pci_host_function(f->host, PCI_DEVFN(1, 0));
	assert_non_null(fn);
	assert_int_equal(ecam_read(f, 0, PCI_DEVFN(1, 0), 0, 4),
			 PCI_TESTDEV_DEVICE_ID << 16 | PCI_TESTDEV_VENDOR_ID);
	for (j = 0; j < 2; j++) {
		struct pci_function *p = j ? big : fn;

		for (bar = 0; bar < PCI_NUM_REGIONS; bar++) {
			struct pci_bar_window w = pci_bar_window(p, bar);
			u64 size = pci_bar_size(p, bar);
			enum pci_bar_type type = pci_bar_type(p, bar);

			if (type == PCI_BAR_NONE)
				continue;
			assert_true(w.addr % size == 0);
			if (type == PCI_BAR_IO) {
				assert_true(w.addr >= PCI_WIN_IO_BASE &&
					    w.addr + size <= PCI_WIN_IO_BASE + PCI_WIN_IO_SIZE);
			} else if (type == PCI_BAR_MEM64) {
				assert_int_equal(w.addr, m64);
			} else {
				assert_true(w.addr >= PCI_WIN_MMIO32_BASE &&
					    w.addr + size <= PCI_WIN_MMIO32_BASE + PCI_WIN_MMIO32_SIZE);
			}
			/* The ROM is placed but left off. */
			assert_int_equal(w.on, bar != PCI_ROM_BAR);
			for (i = 0; i < n; i++)
				assert_false(overlap(w.addr, size, placed[i].addr,
						     placed[i].size) &&
					     type != PCI_BAR_IO);
			if (type != PCI_BAR_IO) {
				placed[n].addr = w.addr;
				placed[n++].size = size;
			}
		}
	}
	/* Largest first: the 256 MiB BAR opens the 32-bit window. */
	assert_int_equal(pci_bar_window(big, 0).addr, PCI_WIN_MMIO32_BASE);
	cmd = ecam_read(f, 0, PCI_DEVFN(1, 0), PCI_COMMAND, 2);
	assert_int_equal(cmd, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(ecam_read(f, 0, PCI_DEVFN(1, 0), PCI_INTERRUPT_LINE, 1),
			 pci_intx_gsi(1, 1));
	/* The host bridge has no BARs and stays as it was. */
	assert_int_equal(ecam_read(f, 0, 0, PCI_COMMAND, 2), 0);
	pci_testdev_destroy(dev);
}

static void test_assign_bars_reports_full_window(void **state)
{
	struct fixture *f = *state;
	struct pci_function_info info = plain_info;
	struct pci_function *a, *b;

	info.bars[0].size = 1 * GiB;
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &a), 0);
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &b), 0);
	assert_int_equal(pci_host_add(f->host, a, -1), 0);
	assert_int_equal(pci_host_add(f->host, b, -1), 0);
	/* The 32-bit window is 960 MiB: one 1 GiB BAR does not fit. */
	assert_int_equal(pci_host_assign_bars(f->host, NULL, 0), -ENOSPC);
}

static void test_mmio64_window_base(void **state)
{
	(void)state;
	assert_int_equal(pci_mmio64_base(128 * MiB), 4 * GiB);
	assert_int_equal(pci_mmio64_base(0xb0000000ULL), 4 * GiB);
	/* 4 GiB of RAM: 2.75 below the hole, 1.25 above 4 GiB. */
	assert_int_equal(pci_mmio64_base(4 * GiB), 6 * GiB);
	assert_int_equal(pci_mmio64_base(64 * GiB), 66 * GiB);
}

static void test_mptable_routes_every_pin(void **state)
{
	struct mptable_intx routes[MPTABLE_MAX_INTX + 4];
	unsigned int n, i;

	(void)state;
	n = pci_host_intx_routes(routes, ARRAY_SIZE(routes));
	assert_int_equal(n, 128);
	for (i = 0; i < n; i++) {
		assert_int_equal(routes[i].slot, i / 4);
		assert_int_equal(routes[i].pin, i % 4 + 1);
		assert_int_equal(routes[i].gsi, pci_intx_gsi(i / 4, i % 4 + 1));
		assert_true(routes[i].gsi >= 16 && routes[i].gsi < 24);
	}
	assert_int_equal(pci_host_intx_routes(routes, 5), 5);
}

/* ---- the built-in test function ---------------------------------------------- */

static void test_pci_testdev_registers_and_irqs(void **state)
{
	struct fixture *f = *state;
	struct pci_testdev *dev;
	struct pci_function *fn;
	u64 bar0, bar2, msix;
	u32 v = 0, cap;
	u64 q = 0;
	int fd;

	assert_int_equal(pci_testdev_create(vm_services(f->vm), f->host, &dev), 0);
	assert_int_equal(pci_host_assign_bars(f->host, NULL, 0), 0);
	fn = pci_host_function(f->host, PCI_DEVFN(1, 0));
	bar0 = pci_bar_window(fn, PCI_TESTDEV_BAR_REGS).addr;
	bar2 = pci_bar_window(fn, PCI_TESTDEV_BAR_MEM64).addr;
	msix = pci_bar_window(fn, PCI_TESTDEV_BAR_MSIX).addr;

	assert_true(bus_read(&f->vm->mmio, bar0, &v, 4));
	assert_int_equal(v, PCI_TESTDEV_MAGIC);
	v = 0xfeedbeef;
	assert_true(bus_write(&f->vm->mmio, bar2 + 4, &v, 4));
	assert_true(bus_read(&f->vm->mmio, bar2 + 4, &v, 4));
	assert_int_equal(v, 0xfeedbeef);
	assert_true(bus_read(&f->vm->mmio, bar0 + 4, &v, 4));
	assert_int_equal(v, 0);			/* scratch is per BAR */
	assert_true(bus_read(&f->vm->mmio, bar2 + 0x1234, &v, 4));
	assert_int_equal(v, 0x1234 ^ PCI_TESTDEV_PATTERN);
	v = 0;
	assert_true(bus_read(&f->vm->mmio, bar2 + 0x1236, &v, 2));
	assert_int_equal(v, (0x1234 ^ PCI_TESTDEV_PATTERN) >> 16);
	assert_true(bus_read(&f->vm->mmio, bar2 + 0x2000, &q, 8));
	assert_int_equal(q, (u64)(0x2004 ^ PCI_TESTDEV_PATTERN) << 32 |
			 (0x2000 ^ PCI_TESTDEV_PATTERN));
	v = in(f, pci_bar_window(fn, PCI_TESTDEV_BAR_IO).addr, 4);
	assert_int_equal(v, PCI_TESTDEV_MAGIC);

	/* Enable MSI-X, unmask vector 2, raise it through BAR0. */
	cap = pci_find_capability(fn, PCI_CAP_ID_MSIX);
	v = 0xfee00000;
	assert_true(bus_write(&f->vm->mmio, msix + 2 * 16, &v, 4));
	v = 0;
	assert_true(bus_write(&f->vm->mmio, msix + 2 * 16 + 12, &v, 4));
	ecam_write(f, 0, PCI_DEVFN(1, 0), cap + PCI_MSIX_FLAGS, 2,
		   PCI_MSIX_FLAGS_ENABLE);
	assert_true(bus_read(&f->vm->mmio, bar0 + PCI_TESTDEV_REG_IRQ_MODE, &v, 4));
	assert_int_equal(v, PCI_IRQ_MSIX | PCI_TESTDEV_MSIX_VECTORS << 16);
	fd = pci_msix_eventfd(fn, 2);
	assert_true(fake_irq_gsi_of(&f->irq, fd) >= 0);
	v = 2;
	assert_true(bus_write(&f->vm->mmio, bar0 + PCI_TESTDEV_REG_RAISE, &v, 4));
	assert_int_equal(fake_eventfd_take(fd), 1);
	/* Vector 3 is masked: pending in the PBA. */
	v = 3;
	assert_true(bus_write(&f->vm->mmio, bar0 + PCI_TESTDEV_REG_MSIX, &v, 4));
	assert_true(bus_read(&f->vm->mmio, msix + PCI_TESTDEV_MSIX_PBA, &v, 4));
	assert_int_equal(v, 1 << 3);
	assert_true(bus_read(&f->vm->mmio, bar0 + PCI_TESTDEV_REG_RAISED, &v, 4));
	assert_int_equal(v, 2);
	/* A vector out of range raises nothing. */
	v = 99;
	assert_true(bus_write(&f->vm->mmio, bar0 + PCI_TESTDEV_REG_MSIX, &v, 4));
	assert_true(bus_read(&f->vm->mmio, bar0 + PCI_TESTDEV_REG_RAISED, &v, 4));
	assert_int_equal(v, 2);
	/* The ROM, once enabled, starts with the signature. */
	ecam_write(f, 0, PCI_DEVFN(1, 0), PCI_ROM_ADDRESS, 4,
		   pci_bar_window(fn, PCI_ROM_BAR).addr | PCI_ROM_ADDRESS_ENABLE);
	assert_true(bus_read(&f->vm->mmio, pci_bar_window(fn, PCI_ROM_BAR).addr,
			     &v, 2));
	assert_int_equal(v, 0xaa55);
	pci_testdev_destroy(dev);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_conf1_address_register),
		T(test_conf1_reads_host_bridge),
		T(test_conf1_disabled_and_absent),
		T(test_ecam_matches_conf1),
		T(test_ecam_misaligned_and_absent),
		T(test_slots_and_multifunction),
		T(test_slots_run_out),
		T(test_bar_over_bar_decodes_once_freed),
		T(test_assign_bars_places_pci_testdev),
		T(test_assign_bars_reports_full_window),
		cmocka_unit_test(test_mmio64_window_base),
		cmocka_unit_test(test_mptable_routes_every_pin),
		T(test_pci_testdev_registers_and_irqs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
