// SPDX-License-Identifier: MIT
/*
 * The PCI function model: the header's read-only and writable bits, BAR
 * sizing and relocation on the buses, capabilities, MSI and MSI-X state
 * with their KVM routes and irqfds (recorded by a fake backend), INTx,
 * and the device hooks.
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
#include "tests/unit/support/fake_irq.h"
#include "tests/unit/support/fake_vm.h"

#define RAM_SIZE (16 * MiB)
#define MSI_ADDR 0xfee00000u

struct remap {
	unsigned int bar;
	struct pci_bar_window old_win, new_win;
};

struct fixture {
	struct vm_config cfg;
	struct vm *vm;
	struct fake_irq irq;
	struct pci_function *fn;
	int fds_before;

	/* What the device saw */
	unsigned int bar_reads, bar_writes;
	unsigned int last_bar;
	u64 last_off;
	u32 last_len;
	struct remap remaps[16];
	unsigned int nr_remaps;
	unsigned int intx_eois;
	u16 cmd_old, cmd_new;
	unsigned int cmd_changes;
	enum pci_irq_mode mode;
	unsigned int mode_vectors, mode_changes;
	u32 hook_writes;
	u32 hook_last_val;
	/* vector_mask_changed calls, in order: mode, vector, masked. */
	struct {
		enum pci_irq_mode mode;
		unsigned int vector;
		bool masked;
	} masks[16];
	unsigned int nr_masks;
};

static struct fixture *current;

static void dev_bar_read(struct pci_function *fn, unsigned int bar, u64 off,
			 void *data, u32 len)
{
	struct fixture *f = pci_function_priv(fn);
	u64 v = 0xab00 + bar;

	f->bar_reads++;
	f->last_bar = bar;
	f->last_off = off;
	f->last_len = len;
	memcpy(data, &v, len);
}

static void dev_bar_write(struct pci_function *fn, unsigned int bar, u64 off,
			  const void *data, u32 len)
{
	struct fixture *f = pci_function_priv(fn);

	(void)data;
	f->bar_writes++;
	f->last_bar = bar;
	f->last_off = off;
	f->last_len = len;
}

static void dev_bar_remap(struct pci_function *fn, unsigned int bar,
			  struct pci_bar_window old_win,
			  struct pci_bar_window new_win)
{
	struct fixture *f = pci_function_priv(fn);

	if (f->nr_remaps < ARRAY_SIZE(f->remaps))
		f->remaps[f->nr_remaps++] = (struct remap) { bar, old_win, new_win };
}

static void dev_command(struct pci_function *fn, u16 old_cmd, u16 new_cmd)
{
	struct fixture *f = pci_function_priv(fn);

	f->cmd_old = old_cmd;
	f->cmd_new = new_cmd;
	f->cmd_changes++;
}

static void dev_irq_mode(struct pci_function *fn, enum pci_irq_mode mode,
			 unsigned int nr)
{
	struct fixture *f = pci_function_priv(fn);

	f->mode = mode;
	f->mode_vectors = nr;
	f->mode_changes++;
}

static void dev_vector_mask(struct pci_function *fn, enum pci_irq_mode mode,
			    unsigned int vector, bool masked)
{
	struct fixture *f = pci_function_priv(fn);

	if (f->nr_masks < ARRAY_SIZE(f->masks)) {
		f->masks[f->nr_masks].mode = mode;
		f->masks[f->nr_masks].vector = vector;
		f->masks[f->nr_masks].masked = masked;
	}
	f->nr_masks++;
}

/* Device-specific register 0xf8 lives "elsewhere"; 0xfc is forwarded too. */
static bool dev_config_read(struct pci_function *fn, u32 off, u32 len, u32 *val)
{
	(void)fn;
	if ((off & ~3u) != 0xf8)
		return false;
	*val = 0xcafef00d >> (8 * (off & 3));
	(void)len;
	return true;
}

static bool dev_config_write(struct pci_function *fn, u32 off, u32 len, u32 val)
{
	struct fixture *f = pci_function_priv(fn);

	(void)len;
	if ((off & ~3u) == 0xf8 || (off & ~3u) == 0xfc) {
		f->hook_writes++;
		f->hook_last_val = val;
		/* 0xf8 is the device's; 0xfc is also the model's. */
		return (off & ~3u) == 0xf8;
	}
	return false;
}

static void dev_intx_resampled(struct pci_function *fn)
{
	struct fixture *f = pci_function_priv(fn);

	f->intx_eois++;
}

/* A model that drives its own INTx line (a vfio-user server's). */
static const struct pci_function_ops own_line_ops = {
	.intx_resampled = dev_intx_resampled,
};

static const struct pci_function_ops dev_ops = {
	.config_read = dev_config_read,
	.config_write = dev_config_write,
	.bar_read = dev_bar_read,
	.bar_write = dev_bar_write,
	.bar_remap = dev_bar_remap,
	.command_changed = dev_command,
	.irq_mode_changed = dev_irq_mode,
	.vector_mask_changed = dev_vector_mask,
};

static const struct pci_function_info dev_info = {
	.name = "dev",
	.vendor_id = 0x1234,
	.device_id = 0x5678,
	.subsystem_vendor_id = 0x1af4,
	.subsystem_id = 0x1100,
	.class_code = 0x020000,
	.revision = 3,
	.irq_pin = 2,
	.bars = {
		[0] = { .type = PCI_BAR_MEM32, .size = 0x1000 },
		[1] = { .type = PCI_BAR_IO, .size = 0x100 },
		[2] = { .type = PCI_BAR_MEM64, .size = 0x100000,
			.prefetchable = true },
		[4] = { .type = PCI_BAR_MEM32, .size = 0x4000 },
	},
	.rom_size = 0x800,
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
	assert_int_equal(pci_function_create(f->vm, &dev_info, &dev_ops, f,
					     &f->fn), 0);
	current = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_function_destroy(f->fn);
	fake_irq_fini(&f->irq);
	fake_vm_destroy(f->vm);
	/* Every eventfd the function opened is closed again. */
	assert_int_equal(fake_count_fds(), f->fds_before);
	free(f);
	return 0;
}

static u32 cfg_read(struct fixture *f, u32 off, u32 len)
{
	return pci_config_read(f->fn, off, len);
}

static void cfg_write(struct fixture *f, u32 off, u32 len, u32 val)
{
	pci_config_write(f->fn, off, len, val);
}

/* ---- header ------------------------------------------------------------- */

static void test_header_identity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cfg_read(f, PCI_VENDOR_ID, 4), 0x56781234);
	assert_int_equal(cfg_read(f, PCI_DEVICE_ID, 2), 0x5678);
	assert_int_equal(cfg_read(f, PCI_CLASS_REVISION, 4), 0x02000003);
	assert_int_equal(cfg_read(f, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_read(f, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
	assert_int_equal(cfg_read(f, PCI_INTERRUPT_PIN, 1), 2);
	assert_int_equal(cfg_read(f, PCI_COMMAND, 2), 0);
	/* Conventional function: nothing in extended space. */
	assert_int_equal(cfg_read(f, 0x100, 4), 0);
	assert_int_equal(cfg_read(f, 0xffc, 4), 0);
}

static void test_header_read_only_fields(void **state)
{
	struct fixture *f = *state;
	u32 off;

	for (off = 0; off < 0x40; off += 4)
		if (off < PCI_BASE_ADDRESS_0 || off > PCI_ROM_ADDRESS)
			cfg_write(f, off, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, PCI_VENDOR_ID, 4), 0x56781234);
	assert_int_equal(cfg_read(f, PCI_CLASS_REVISION, 4), 0x02000003);
	assert_int_equal(cfg_read(f, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
	/* Only the implemented command bits stick. */
	assert_int_equal(cfg_read(f, PCI_COMMAND, 2),
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
			 PCI_COMMAND_INTX_DISABLE);
	/* Cache line size is writable, latency timer and BIST are not. */
	assert_int_equal(cfg_read(f, PCI_CACHE_LINE_SIZE, 1), 0xff);
	assert_int_equal(cfg_read(f, PCI_LATENCY_TIMER, 1), 0);
	assert_int_equal(cfg_read(f, PCI_BIST, 1), 0);
	assert_int_equal(cfg_read(f, PCI_HEADER_TYPE, 1), 0);
	/* Line is the guest's, pin is the device's. */
	assert_int_equal(cfg_read(f, PCI_INTERRUPT_LINE, 1), 0xff);
	assert_int_equal(cfg_read(f, PCI_INTERRUPT_PIN, 1), 2);
	assert_int_equal(cfg_read(f, PCI_CAPABILITY_LIST, 1), 0);
	/* Writing the status register set nothing. */
	assert_int_equal(cfg_read(f, PCI_STATUS, 2), 0);
}

static void test_status_error_bits_clear_on_one(void **state)
{
	struct fixture *f = *state;

	pci_config_set(f->fn, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT |
		       PCI_STATUS_SIG_SYSTEM_ERROR);
	cfg_write(f, PCI_STATUS, 2, 0);
	assert_int_equal(cfg_read(f, PCI_STATUS, 2),
			 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR);
	cfg_write(f, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	assert_int_equal(cfg_read(f, PCI_STATUS, 2), PCI_STATUS_SIG_SYSTEM_ERROR);
	/* A dword write to command/status: both halves apply. */
	cfg_write(f, PCI_COMMAND, 4, 0xffff0000 | PCI_COMMAND_MASTER);
	assert_int_equal(cfg_read(f, PCI_COMMAND, 4), PCI_COMMAND_MASTER);
	assert_int_equal(f->cmd_changes, 1);
	assert_int_equal(f->cmd_new, PCI_COMMAND_MASTER);
}

static void test_invalid_accesses(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cfg_read(f, 0x1000, 4), 0xffffffff);
	assert_int_equal(cfg_read(f, 0x3, 2), 0xffff);		/* crosses a dword */
	assert_int_equal(cfg_read(f, 0x2, 4), 0xffffffff);
	assert_int_equal(cfg_read(f, 0x0, 3), 0xffffff);
	cfg_write(f, 0x3, 2, 0xffff);
	cfg_write(f, 0x1000, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, PCI_COMMAND, 2), 0);
	/* Unaligned but inside a dword is fine. */
	assert_int_equal(cfg_read(f, 0x1, 2), 0x7812);
}

/* ---- BARs ---------------------------------------------------------------- */

static u32 size_bar(struct fixture *f, u32 off)
{
	u32 saved = cfg_read(f, off, 4), mask;

	cfg_write(f, off, 4, 0xffffffff);
	mask = cfg_read(f, off, 4);
	cfg_write(f, off, 4, saved);
	return mask;
}

static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cfg_read(f, PCI_BASE_ADDRESS_0, 4), 0);
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_0), 0xfffff000);
	assert_int_equal(cfg_read(f, PCI_BASE_ADDRESS_1, 4), 1);
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_1), 0xffffff01);
	/* 64-bit prefetchable: type bits in the low half, the rest above. */
	assert_int_equal(cfg_read(f, PCI_BASE_ADDRESS_2, 4), 0xc);
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_2), 0xfff0000c);
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_3), 0xffffffff);
	/* Unused BARs read 0 whatever is written. */
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_5), 0);
	assert_int_equal(size_bar(f, PCI_BASE_ADDRESS_4), 0xffffc000);
	/* ROM: address bits and the enable bit. */
	assert_int_equal(size_bar(f, PCI_ROM_ADDRESS), 0xfffff801);
	assert_int_equal(pci_bar_size(f->fn, 2), 0x100000);
	assert_int_equal(pci_bar_type(f->fn, 3), PCI_BAR_NONE);
	assert_int_equal(f->nr_remaps, 0);	/* decode was off throughout */
}

static bool mmio_read32(struct fixture *f, u64 addr, u32 *v)
{
	return bus_read(&f->vm->mmio, addr, v, 4);
}

static void test_bar_relocation_moves_bus_range(void **state)
{
	struct fixture *f = *state;
	u32 v = 0;

	cfg_write(f, PCI_BASE_ADDRESS_0, 4, 0xc0000000);
	assert_false(mmio_read32(f, 0xc0000000, &v));	/* decode off */
	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(mmio_read32(f, 0xc0000010, &v));
	assert_int_equal(v, 0xab00);
	assert_int_equal(f->last_bar, 0);
	assert_int_equal(f->last_off, 0x10);
	assert_int_equal(f->nr_remaps, 1);
	assert_int_equal(f->remaps[0].bar, 0);
	assert_false(f->remaps[0].old_win.on);
	assert_true(f->remaps[0].new_win.on);
	assert_int_equal(f->remaps[0].new_win.addr, 0xc0000000);

	/* Move it: the old place goes quiet, the new one answers. */
	cfg_write(f, PCI_BASE_ADDRESS_0, 4, 0xc0100000);
	assert_false(mmio_read32(f, 0xc0000010, &v));
	assert_int_equal(v, 0xffffffff);
	assert_true(mmio_read32(f, 0xc0100ffc, &v));
	assert_int_equal(f->last_off, 0xffc);
	assert_int_equal(f->nr_remaps, 2);
	assert_int_equal(f->remaps[1].old_win.addr, 0xc0000000);
	assert_int_equal(f->remaps[1].new_win.addr, 0xc0100000);
	assert_true(pci_bar_window(f->fn, 0).on);
	assert_int_equal(pci_bar_window(f->fn, 0).addr, 0xc0100000);

	/* Writes reach the device with the offset. */
	v = 1;
	assert_true(bus_write(&f->vm->mmio, 0xc0100008, &v, 4));
	assert_int_equal(f->bar_writes, 1);
	assert_int_equal(f->last_off, 8);

	/* Decode off: gone, and the device is told. */
	cfg_write(f, PCI_COMMAND, 2, 0);
	assert_false(mmio_read32(f, 0xc0100000, &v));
	assert_int_equal(f->nr_remaps, 3);
	assert_false(f->remaps[2].new_win.on);
	assert_int_equal(f->remaps[2].old_win.addr, 0xc0100000);
}

static void test_bar_64bit_follows_both_halves(void **state)
{
	struct fixture *f = *state;
	u32 v;

	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_write(f, PCI_BASE_ADDRESS_2, 4, 0x00000000);
	cfg_write(f, PCI_BASE_ADDRESS_3, 4, 0x2);
	assert_true(mmio_read32(f, 0x200000000ULL + 0x40, &v));
	assert_int_equal(f->last_bar, 2);
	assert_int_equal(f->last_off, 0x40);
	/* The upper half alone moves it. */
	cfg_write(f, PCI_BASE_ADDRESS_3, 4, 0x3);
	assert_false(mmio_read32(f, 0x200000040ULL, &v));
	assert_true(mmio_read32(f, 0x300000040ULL, &v));
	assert_int_equal(pci_bar_window(f->fn, 2).addr, 0x300000000ULL);
	assert_int_equal(f->remaps[f->nr_remaps - 1].bar, 2);
	/* And the lower half too. */
	cfg_write(f, PCI_BASE_ADDRESS_2, 4, 0x00100000);
	assert_true(mmio_read32(f, 0x300100000ULL, &v));
	assert_int_equal(f->last_off, 0);
}

static void test_bar_not_decoded_over_ram_or_others(void **state)
{
	struct fixture *f = *state;
	static const struct bus_ops none = { 0 };
	u32 v;

	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	/* Inside guest RAM: ignored. */
	cfg_write(f, PCI_BASE_ADDRESS_0, 4, 0x100000);
	assert_false(pci_bar_window(f->fn, 0).on);
	/* Over another range: ignored until it moves away. */
	assert_int_equal(bus_register(&f->vm->mmio, 0xd0000000, 0x1000, &none,
				      f, "other"), 0);
	cfg_write(f, PCI_BASE_ADDRESS_0, 4, 0xd0000000);
	assert_false(pci_bar_window(f->fn, 0).on);
	cfg_write(f, PCI_BASE_ADDRESS_0, 4, 0xd0001000);
	assert_true(pci_bar_window(f->fn, 0).on);
	assert_true(mmio_read32(f, 0xd0001000, &v));
	/* Sizing with decode on leaves it at 0xfffff000, still valid... */
	cfg_write(f, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	assert_int_equal(pci_bar_window(f->fn, 0).addr, 0xfffff000);
	/* ...but an I/O BAR past 64 KiB is not. */
	cfg_write(f, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	assert_false(pci_bar_window(f->fn, 1).on);
	cfg_write(f, PCI_BASE_ADDRESS_1, 4, 0xc100);
	assert_true(pci_bar_window(f->fn, 1).on);
	assert_true(bus_read(&f->vm->pio, 0xc1ff, &v, 1));
	assert_int_equal(f->last_bar, 1);
	assert_int_equal(f->last_off, 0xff);
	/* I/O decode alone governs I/O BARs. */
	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_false(bus_read(&f->vm->pio, 0xc100, &v, 1));
	assert_true(pci_bar_window(f->fn, 0).on);
	/* Address 0 means unassigned. */
	cfg_write(f, PCI_BASE_ADDRESS_0, 4, 0);
	assert_false(pci_bar_window(f->fn, 0).on);
	/* A 64-bit BAR at the top of the address space: refused, not wrapped. */
	cfg_write(f, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	cfg_write(f, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	assert_false(pci_bar_window(f->fn, 2).on);
	assert_int_equal(pci_bar_window(f->fn, 2).addr, 0xfffffffffff00000ULL);
	bus_unregister(&f->vm->mmio, 0xd0000000, f);
}

static void test_rom_needs_enable_bit_and_is_read_only(void **state)
{
	struct fixture *f = *state;
	u32 v = 0x12345678;

	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_write(f, PCI_ROM_ADDRESS, 4, 0xc0200000);
	assert_false(pci_bar_window(f->fn, PCI_ROM_BAR).on);
	cfg_write(f, PCI_ROM_ADDRESS, 4, 0xc0200000 | PCI_ROM_ADDRESS_ENABLE);
	assert_true(mmio_read32(f, 0xc0200004, &v));
	assert_int_equal(f->last_bar, PCI_ROM_BAR);
	assert_int_equal(f->last_off, 4);
	assert_true(bus_write(&f->vm->mmio, 0xc0200004, &v, 4));
	assert_int_equal(f->bar_writes, 0);
}

static void test_bad_descriptions_refused(void **state)
{
	struct fixture *f = *state;
	struct pci_function_info info = dev_info;
	struct pci_function *fn;

	info.bars[0].size = 0x1800;			/* not a power of two */
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &fn),
			 -EINVAL);
	info = dev_info;
	info.bars[1].size = 512;			/* I/O BARs stop at 256 */
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &fn),
			 -EINVAL);
	info = dev_info;
	info.bars[3].type = PCI_BAR_IO;			/* 64-bit BAR's upper half */
	info.bars[3].size = 16;
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &fn),
			 -EINVAL);
	info = dev_info;
	info.bars[5] = (struct pci_bar_desc) {
		.type = PCI_BAR_MEM64, .size = 0x1000,
	};
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &fn),
			 -EINVAL);
	info = dev_info;
	info.rom_size = 0x400;
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &fn),
			 -EINVAL);
	info = dev_info;
	info.irq_pin = 5;
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &fn),
			 -EINVAL);
}

/* ---- capabilities --------------------------------------------------------- */

static void test_capability_list_walk(void **state)
{
	struct fixture *f = *state;
	u8 vndr = 0, ids[8], n = 0, at;

	assert_int_equal(pci_add_capability(f->fn, PCI_CAP_ID_VNDR, 8, &vndr), 0);
	assert_int_equal(pci_msi_init(f->fn, 0, 4, true, true), 0);
	assert_int_equal(pci_msix_init(f->fn, 0, 16, 4, 0, 4, 0x800), 0);
	assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* As a guest walks it, through config reads. */
	at = cfg_read(f, PCI_CAPABILITY_LIST, 1);
	while (at && n < ARRAY_SIZE(ids)) {
		assert_true(at >= 0x40 && !(at & 3));
		ids[n++] = cfg_read(f, at, 1);
		at = cfg_read(f, at + 1, 1);
	}
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], PCI_CAP_ID_VNDR);
	assert_int_equal(ids[1], PCI_CAP_ID_MSI);
	assert_int_equal(ids[2], PCI_CAP_ID_MSIX);
	assert_int_equal(pci_find_capability(f->fn, PCI_CAP_ID_VNDR), vndr);
	assert_int_equal(pci_find_capability(f->fn, PCI_CAP_ID_PM), 0);
	/* Capability bytes are read-only unless made writable. */
	cfg_write(f, vndr + 4, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, vndr + 4, 4), 0);
	pci_config_set_wmask(f->fn, vndr + 4, 2, 0x0ff0);
	cfg_write(f, vndr + 4, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, vndr + 4, 4), 0x0ff0);
	/* MSI-X message control reports the table size. */
	at = pci_find_capability(f->fn, PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_read(f, at + PCI_MSIX_FLAGS, 2), 15);
	assert_int_equal(cfg_read(f, at + PCI_MSIX_TABLE, 4), 4);
	assert_int_equal(cfg_read(f, at + PCI_MSIX_PBA, 4), 0x804);
}

static void test_capability_space_runs_out(void **state)
{
	struct fixture *f = *state;
	u8 at;
	int i, ret = 0;

	for (i = 0; i < 64 && !ret; i++)
		ret = pci_add_capability(f->fn, PCI_CAP_ID_VNDR, 16, &at);
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(i, 13);		/* (0x100 - 0x40) / 16 + 1 */
}

/* ---- MSI -------------------------------------------------------------------- */

static u8 msi_setup(struct fixture *f, unsigned int nr, bool maskable)
{
	assert_int_equal(pci_msi_init(f->fn, 0, nr, true, maskable), 0);
	return pci_find_capability(f->fn, PCI_CAP_ID_MSI);
}

static int vector_gsi(struct fixture *f, int fd)
{
	return fake_irq_gsi_of(&f->irq, fd);
}

static void test_msi_capability_layout(void **state)
{
	struct fixture *f = *state;
	u8 cap = msi_setup(f, 8, true);

	/* 8 vectors (MMC 3), 64-bit, per-vector mask. */
	assert_int_equal(cfg_read(f, cap + PCI_MSI_FLAGS, 2),
			 (3 << 1) | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	cfg_write(f, cap + PCI_MSI_ADDRESS_LO, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, cap + PCI_MSI_ADDRESS_LO, 4), 0xfffffffc);
	cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, cap + PCI_MSI_MASK_64, 4), 0xff);
	cfg_write(f, cap + PCI_MSI_PENDING_64, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, cap + PCI_MSI_PENDING_64, 4), 0);
	assert_int_equal(pci_msi_init(f->fn, 0, 4, true, true), -EINVAL);
}

static void test_msi_enable_routes_each_vector(void **state)
{
	struct fixture *f = *state;
	u8 cap = msi_setup(f, 4, true);
	const struct kvm_irq_routing_entry *e;
	unsigned int i, nr;
	int gsi;

	cfg_write(f, cap + PCI_MSI_ADDRESS_LO, 4, MSI_ADDR | (1 << 12));
	cfg_write(f, cap + PCI_MSI_DATA_64, 2, 0x40);
	assert_int_equal(f->irq.nr_irqfds, 0);
	/* Enable with 4 messages (MME = 2). */
	cfg_write(f, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4));
	assert_int_equal(f->irq.nr_irqfds, 4);
	for (i = 0; i < 4; i++) {
		gsi = vector_gsi(f, pci_msi_eventfd(f->fn, i));
		assert_true(gsi >= IRQ_MSI_GSI_BASE);
		e = fake_irq_msi_route(&f->irq, gsi);
		assert_non_null(e);
		assert_int_equal(e->u.msi.address_lo, MSI_ADDR | (1 << 12));
		assert_int_equal(e->u.msi.data, 0x40 + i);	/* vector in low bits */
	}
	assert_int_equal(f->mode, PCI_IRQ_MSI);
	assert_int_equal(f->mode_vectors, 4);
	assert_int_equal(pci_irq_mode(f->fn, &nr), PCI_IRQ_MSI);
	assert_int_equal(nr, 4);

	/* A new data value re-points the routes. */
	cfg_write(f, cap + PCI_MSI_DATA_64, 2, 0x80);
	gsi = vector_gsi(f, pci_msi_eventfd(f->fn, 3));
	assert_int_equal(fake_irq_msi_route(&f->irq, gsi)->u.msi.data, 0x83);

	/* Fewer messages: the others are detached. */
	cfg_write(f, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (1 << 4));
	assert_int_equal(f->irq.nr_irqfds, 2);
	assert_int_equal(f->mode_vectors, 2);
	gsi = vector_gsi(f, pci_msi_eventfd(f->fn, 1));
	assert_int_equal(fake_irq_msi_route(&f->irq, gsi)->u.msi.data, 0x81);

	cfg_write(f, cap + PCI_MSI_FLAGS, 2, 0);
	assert_int_equal(f->irq.nr_irqfds, 0);
	assert_int_equal(f->mode, PCI_IRQ_INTX);
	assert_int_equal(pci_irq_mode(f->fn, NULL), PCI_IRQ_INTX);
	assert_int_equal(pci_msi_notify(f->fn, 4), -EINVAL);
}

static void test_msi_mask_pends_and_unmask_delivers(void **state)
{
	struct fixture *f = *state;
	u8 cap = msi_setup(f, 2, true);
	int fd1;

	cfg_write(f, cap + PCI_MSI_ADDRESS_LO, 4, MSI_ADDR);
	cfg_write(f, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (1 << 4));
	fd1 = pci_msi_eventfd(f->fn, 1);
	assert_true(vector_gsi(f, fd1) >= 0);

	cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0x2);
	assert_int_equal(vector_gsi(f, fd1), -1);	/* detached */
	assert_int_equal(pci_msi_notify(f->fn, 1), 0);
	assert_int_equal(cfg_read(f, cap + PCI_MSI_PENDING_64, 4), 0x2);
	/* Unmask: attached again, the pending message written once. */
	cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0);
	assert_true(vector_gsi(f, fd1) >= 0);
	assert_int_equal(fake_eventfd_take(fd1), 1);
	assert_int_equal(cfg_read(f, cap + PCI_MSI_PENDING_64, 4), 0);
}

static void test_msi_raised_while_disabled_is_dropped(void **state)
{
	struct fixture *f = *state;
	u8 cap;
	int fd;

	/* One vector, 32-bit address, no masking: data sits at 8. */
	assert_int_equal(pci_msi_init(f->fn, 0, 1, false, false), 0);
	cap = pci_find_capability(f->fn, PCI_CAP_ID_MSI);
	fd = pci_msi_eventfd(f->fn, 0);
	assert_int_equal(cfg_read(f, cap + PCI_MSI_FLAGS, 2), 0);
	assert_int_equal(pci_msi_notify(f->fn, 0), 0);
	cfg_write(f, cap + PCI_MSI_ADDRESS_LO, 4, MSI_ADDR);
	cfg_write(f, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	assert_true(vector_gsi(f, fd) >= 0);
	assert_int_equal(fake_eventfd_take(fd), 0);
	cfg_write(f, cap + PCI_MSI_DATA_32, 2, 0x21);
	assert_int_equal(fake_irq_msi_route(&f->irq, vector_gsi(f, fd))->u.msi.data,
			 0x21);
	/* Nothing writable past the 10-byte capability. */
	cfg_write(f, cap + PCI_MSI_MASK_32, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, cap + PCI_MSI_MASK_32, 4), 0);
}

/* ---- MSI-X -------------------------------------------------------------------- */

#define MSIX_BAR_ADDR 0xc0400000u

static u8 msix_setup(struct fixture *f)
{
	u8 cap;

	assert_int_equal(pci_msix_init(f->fn, 0, 8, 4, 0, 4, 0x800), 0);
	cap = pci_find_capability(f->fn, PCI_CAP_ID_MSIX);
	cfg_write(f, PCI_BASE_ADDRESS_4, 4, MSIX_BAR_ADDR);
	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	return cap;
}

static void table_write(struct fixture *f, unsigned int n, u32 field, u32 v)
{
	assert_true(bus_write(&f->vm->mmio, MSIX_BAR_ADDR + 16 * n + field,
			      &v, 4));
}

static u64 pba(struct fixture *f)
{
	u64 v = 0;

	assert_true(bus_read(&f->vm->mmio, MSIX_BAR_ADDR + 0x800, &v, 8));
	return v;
}

static void test_msix_table_reset_and_access(void **state)
{
	struct fixture *f = *state;
	u64 q = 0;
	u32 v = 0;
	u8 b = 0;

	msix_setup(f);
	/* Every vector starts masked, everything else 0. */
	assert_true(mmio_read32(f, MSIX_BAR_ADDR + 16 * 7 + 12, &v));
	assert_int_equal(v, 1);
	/* 8-byte write of the address, byte read back. */
	q = 0x00000001fee01003ULL;
	assert_true(bus_write(&f->vm->mmio, MSIX_BAR_ADDR + 16, &q, 8));
	assert_true(bus_read(&f->vm->mmio, MSIX_BAR_ADDR + 16 + 1, &b, 1));
	assert_int_equal(b, 0x10);
	assert_true(mmio_read32(f, MSIX_BAR_ADDR + 16, &v));
	assert_int_equal(v, 0xfee01000);		/* low 2 bits read 0 */
	assert_true(mmio_read32(f, MSIX_BAR_ADDR + 20, &v));
	assert_int_equal(v, 1);
	/* Vector control: only the mask bit is writable. */
	table_write(f, 1, 12, 0xfffffffe);
	assert_true(mmio_read32(f, MSIX_BAR_ADDR + 28, &v));
	assert_int_equal(v, 0);
	/* The PBA is read-only; past the table the device answers. */
	q = ~0ULL;
	assert_true(bus_write(&f->vm->mmio, MSIX_BAR_ADDR + 0x800, &q, 8));
	assert_int_equal(pba(f), 0);
	assert_true(mmio_read32(f, MSIX_BAR_ADDR + 0x400, &v));
	assert_int_equal(f->last_bar, 4);
	assert_int_equal(f->last_off, 0x400);
	assert_int_equal(f->bar_reads, 1);
	/* Straddling the end of the table: all-ones, device not asked. */
	assert_true(bus_read(&f->vm->mmio, MSIX_BAR_ADDR + 16 * 8 - 4, &q, 8));
	assert_int_equal(q, ~0ULL);
	assert_int_equal(f->bar_reads, 1);
}

static void test_msix_unmasked_vector_routes(void **state)
{
	struct fixture *f = *state;
	u8 cap = msix_setup(f);
	const struct kvm_irq_routing_entry *e;
	int fd3 = pci_msix_eventfd(f->fn, 3), gsi;

	table_write(f, 3, 0, MSI_ADDR);
	table_write(f, 3, 8, 0x4e);
	table_write(f, 3, 12, 0);
	assert_int_equal(vector_gsi(f, fd3), -1);	/* MSI-X still off */
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->mode, PCI_IRQ_MSIX);
	assert_int_equal(f->mode_vectors, 8);
	gsi = vector_gsi(f, fd3);
	assert_true(gsi >= IRQ_MSI_GSI_BASE);
	assert_int_equal(f->irq.nr_irqfds, 1);		/* only vector 3 */
	e = fake_irq_msi_route(&f->irq, gsi);
	assert_non_null(e);
	assert_int_equal(e->u.msi.address_lo, MSI_ADDR);
	assert_int_equal(e->u.msi.data, 0x4e);
	/* The guest changes data while unmasked: the route follows. */
	table_write(f, 3, 8, 0x4f);
	assert_int_equal(fake_irq_msi_route(&f->irq, gsi)->u.msi.data, 0x4f);
	/* Function mask detaches it, unmask brings it back. */
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2,
		  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(vector_gsi(f, fd3), -1);
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(vector_gsi(f, fd3), gsi);	/* same route kept */
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2, 0);
	assert_int_equal(f->irq.nr_irqfds, 0);
	assert_int_equal(f->mode, PCI_IRQ_INTX);
}

static void test_msix_pending_bit_while_masked(void **state)
{
	struct fixture *f = *state;
	u8 cap = msix_setup(f);
	int fd5 = pci_msix_eventfd(f->fn, 5);

	table_write(f, 5, 0, MSI_ADDR);
	table_write(f, 5, 8, 0x55);
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	/* Vector 5 is masked: raising it sets its PBA bit. */
	assert_int_equal(pci_msix_notify(f->fn, 5), 0);
	assert_int_equal(pba(f), 1ULL << 5);
	assert_int_equal(pba(f), 1ULL << 5);		/* reading keeps it */
	/* Someone else writing the eventfd counts the same. */
	assert_int_equal(irq_eventfd_signal(pci_msix_eventfd(f->fn, 2)), 0);
	assert_int_equal(pba(f), (1ULL << 5) | (1ULL << 2));
	/* Unmask 5: attached, delivered once, PBA bit clear. */
	table_write(f, 5, 12, 0);
	assert_true(vector_gsi(f, fd5) >= 0);
	assert_int_equal(fake_eventfd_take(fd5), 1);
	assert_int_equal(pba(f), 1ULL << 2);
	/* Function mask: 5 pends again without a read in between. */
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2,
		  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(pci_msix_notify(f->fn, 5), 0);
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(fake_eventfd_take(fd5), 1);
	assert_int_equal(pci_msix_notify(f->fn, 8), -EINVAL);
}

static void test_msix_raised_while_disabled_is_dropped(void **state)
{
	struct fixture *f = *state;
	u8 cap = msix_setup(f);
	int fd0 = pci_msix_eventfd(f->fn, 0);

	table_write(f, 0, 0, MSI_ADDR);
	table_write(f, 0, 12, 0);
	assert_int_equal(pci_msix_notify(f->fn, 0), 0);
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_true(vector_gsi(f, fd0) >= 0);
	assert_int_equal(fake_eventfd_take(fd0), 0);
	assert_int_equal(pba(f), 0);
}

/* The device hears of each vector whose own mask bit flipped, once. */
static void test_vector_mask_hook(void **state)
{
	struct fixture *f = *state;
	u8 cap = msix_setup(f);
	u64 q;

	table_write(f, 2, 12, 0);		/* unmask 2 */
	table_write(f, 2, 12, 0);		/* no change: not told */
	table_write(f, 2, 0, MSI_ADDR);		/* not the mask bit */
	cfg_write(f, cap + PCI_MSIX_FLAGS, 2,	/* function mask: config */
		  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	/* One 8-byte write across entries 3 and 4: vector control of 3. */
	q = 0;
	assert_true(bus_write(&f->vm->mmio, MSIX_BAR_ADDR + 16 * 3 + 12, &q, 8));
	table_write(f, 2, 12, 1);		/* mask 2 again */
	assert_int_equal(f->nr_masks, 3);
	assert_int_equal(f->masks[0].mode, PCI_IRQ_MSIX);
	assert_int_equal(f->masks[0].vector, 2);
	assert_false(f->masks[0].masked);
	assert_int_equal(f->masks[1].vector, 3);
	assert_false(f->masks[1].masked);
	assert_int_equal(f->masks[2].vector, 2);
	assert_true(f->masks[2].masked);
}

static void test_msi_vector_mask_hook(void **state)
{
	struct fixture *f = *state;
	u8 cap = msi_setup(f, 4, true);

	cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0x5);
	cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0x4);
	assert_int_equal(f->nr_masks, 3);
	assert_int_equal(f->masks[0].mode, PCI_IRQ_MSI);
	assert_int_equal(f->masks[0].vector, 0);
	assert_true(f->masks[0].masked);
	assert_int_equal(f->masks[1].vector, 2);
	assert_true(f->masks[1].masked);
	assert_int_equal(f->masks[2].vector, 0);
	assert_false(f->masks[2].masked);
}

static void test_msix_layout_checked(void **state)
{
	struct fixture *f = *state;

	/* Table past the BAR, in an I/O BAR, overlapping the PBA, odd offset. */
	assert_int_equal(pci_msix_init(f->fn, 0, 1024, 4, 0, 4, 0x3ff8), -EINVAL);
	assert_int_equal(pci_msix_init(f->fn, 0, 8, 1, 0, 4, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(f->fn, 0, 8, 4, 0, 4, 0x40), -EINVAL);
	assert_int_equal(pci_msix_init(f->fn, 0, 8, 4, 4, 4, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(f->fn, 0, 8, 3, 0, 4, 0x800), -EINVAL);
	/* Taking over a capability that is not there. */
	assert_int_equal(pci_msix_init(f->fn, 0x40, 8, 4, 0, 4, 0x800), -EINVAL);
	assert_int_equal(pci_find_capability(f->fn, PCI_CAP_ID_MSIX), 0);
}

static void test_msi_takes_over_existing_capability(void **state)
{
	struct fixture *f = *state;
	u8 at;

	/* A device that copied a capability list from elsewhere. */
	assert_int_equal(pci_add_capability(f->fn, PCI_CAP_ID_MSI, 0x18, &at), 0);
	assert_int_equal(pci_msi_init(f->fn, at, 2, true, true), 0);
	assert_int_equal(pci_find_capability(f->fn, PCI_CAP_ID_MSI), at);
	assert_int_equal(cfg_read(f, at + PCI_MSI_FLAGS, 2),
			 (1 << 1) | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	cfg_write(f, at + PCI_MSI_ADDRESS_LO, 4, MSI_ADDR);
	cfg_write(f, at + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	assert_int_equal(f->irq.nr_irqfds, 1);
}

/* ---- INTx ------------------------------------------------------------------ */

static void test_intx_level_and_resample(void **state)
{
	struct fixture *f = *state;
	int trigger, resample;

	assert_int_equal(pci_function_intx_gsi(f->fn), -1);	/* not on a bus */
	assert_int_equal(pci_function_attach(f->fn, PCI_DEVFN(3, 0)), 0);
	assert_int_equal(pci_function_attach(f->fn, PCI_DEVFN(4, 0)), -EBUSY);
	assert_int_equal(pci_function_devfn(f->fn), PCI_DEVFN(3, 0));
	/* Slot 3 pin B: 16 + (3 + 2 - 1) % 8 = 20. */
	assert_int_equal(pci_function_intx_gsi(f->fn), 20);
	trigger = f->irq.irqfds[0].fd;
	resample = f->irq.irqfds[0].resample_fd;
	assert_int_equal(f->irq.nr_irqfds, 1);
	assert_int_equal(f->irq.irqfds[0].gsi, 20);
	assert_true(resample >= 0);
	assert_int_equal(pci_intx_watch_fd(f->fn), resample);

	assert_int_equal(pci_intx_set_level(f->fn, true), 0);
	assert_int_equal(fake_eventfd_take(trigger), 1);
	assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* EOI with the line still high: asserted again. */
	irq_eventfd_signal(resample);
	pci_intx_resampled(f->fn);
	assert_int_equal(fake_eventfd_take(trigger), 1);
	assert_int_equal(fake_eventfd_take(resample), 0);	/* consumed */
	/* Low: an EOI asserts nothing. */
	pci_intx_set_level(f->fn, false);
	assert_false(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_intx_resampled(f->fn);
	assert_int_equal(fake_eventfd_take(trigger), 0);
	/* INTx disabled: the level is kept but not asserted... */
	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	pci_intx_set_level(f->fn, true);
	assert_int_equal(fake_eventfd_take(trigger), 0);
	assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* ...until INTx is enabled again. */
	cfg_write(f, PCI_COMMAND, 2, 0);
	assert_int_equal(fake_eventfd_take(trigger), 1);
}

static void test_intx_handed_out(void **state)
{
	struct fixture *f = *state;
	int trigger = -1, resample = -1;

	assert_int_equal(pci_function_attach(f->fn, PCI_DEVFN(1, 0)), 0);
	assert_int_equal(pci_intx_eventfds(f->fn, &trigger, &resample), 0);
	/* Slot 1 pin B: 16 + (1 + 2 - 1) % 8. */
	assert_int_equal(fake_irq_gsi_of(&f->irq, trigger), 18);
	assert_int_equal(fake_irq_resample_of(&f->irq, trigger), resample);
	/* The model no longer watches or drives the line. */
	assert_int_equal(pci_intx_watch_fd(f->fn), -1);
	pci_intx_set_level(f->fn, true);
	assert_int_equal(fake_eventfd_take(trigger), 0);
}

static void test_intx_handed_out_told_of_eoi(void **state)
{
	struct fixture *f = *state;
	struct pci_function *fn;
	int trigger = -1, resample = -1;

	assert_int_equal(pci_function_create(f->vm, &dev_info, &own_line_ops,
					     f, &fn), 0);
	assert_int_equal(pci_function_attach(fn, PCI_DEVFN(2, 0)), 0);
	assert_int_equal(pci_intx_eventfds(fn, &trigger, &resample), 0);
	/* The host's one resample thread watches it for the model... */
	assert_int_equal(pci_intx_watch_fd(fn), resample);
	irq_eventfd_signal(resample);
	/* ...consumes the EOI, asserts nothing itself, and has it told. */
	assert_true(pci_intx_resampled(fn));
	assert_int_equal(fake_eventfd_take(resample), 0);
	assert_int_equal(fake_eventfd_take(trigger), 0);
	assert_int_equal(f->intx_eois, 0);
	pci_intx_notify_resampled(fn);
	assert_int_equal(f->intx_eois, 1);
	/* A built-in line is never handed to a hook. */
	assert_int_equal(pci_function_attach(f->fn, PCI_DEVFN(3, 0)), 0);
	assert_false(pci_intx_resampled(f->fn));
	pci_function_destroy(fn);
}

static void test_no_pin_no_intx(void **state)
{
	struct fixture *f = *state;
	struct pci_function_info info = dev_info;
	struct pci_function *fn;
	int a, b;

	info.irq_pin = 0;
	assert_int_equal(pci_function_create(f->vm, &info, NULL, NULL, &fn), 0);
	assert_int_equal(pci_function_attach(fn, PCI_DEVFN(2, 0)), 0);
	assert_int_equal(pci_function_intx_gsi(fn), -1);
	assert_int_equal(pci_intx_set_level(fn, true), -ENODEV);
	assert_int_equal(pci_intx_eventfds(fn, &a, &b), -ENODEV);
	assert_int_equal(f->irq.nr_irqfds, 0);
	pci_function_destroy(fn);
}

/* ---- device hooks ------------------------------------------------------------ */

static void test_config_hooks_override_and_forward(void **state)
{
	struct fixture *f = *state;

	/* 0xf8 belongs to the device: its value, its write. */
	assert_int_equal(cfg_read(f, 0xf8, 4), 0xcafef00d);
	assert_int_equal(cfg_read(f, 0xfa, 2), 0xcafe);
	cfg_write(f, 0xf8, 4, 0x11);
	assert_int_equal(f->hook_writes, 1);
	assert_int_equal(pci_config_emulated_read(f->fn, 0xf8, 4), 0);
	/* 0xfc: the hook sees the write and the model applies it. */
	pci_config_set_wmask(f->fn, 0xfc, 4, 0xffff);
	cfg_write(f, 0xfc, 4, 0x12345678);
	assert_int_equal(f->hook_writes, 2);
	assert_int_equal(f->hook_last_val, 0x12345678);
	assert_int_equal(cfg_read(f, 0xfc, 4), 0x5678);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_header_identity),
		T(test_header_read_only_fields),
		T(test_status_error_bits_clear_on_one),
		T(test_invalid_accesses),
		T(test_bar_sizing),
		T(test_bar_relocation_moves_bus_range),
		T(test_bar_64bit_follows_both_halves),
		T(test_bar_not_decoded_over_ram_or_others),
		T(test_rom_needs_enable_bit_and_is_read_only),
		T(test_bad_descriptions_refused),
		T(test_capability_list_walk),
		T(test_capability_space_runs_out),
		T(test_msi_capability_layout),
		T(test_msi_enable_routes_each_vector),
		T(test_msi_mask_pends_and_unmask_delivers),
		T(test_msi_raised_while_disabled_is_dropped),
		T(test_msix_table_reset_and_access),
		T(test_msix_unmasked_vector_routes),
		T(test_msix_pending_bit_while_masked),
		T(test_msix_raised_while_disabled_is_dropped),
		T(test_msix_layout_checked),
		T(test_vector_mask_hook),
		T(test_msi_vector_mask_hook),
		T(test_msi_takes_over_existing_capability),
		T(test_intx_level_and_resample),
		T(test_intx_handed_out),
		T(test_intx_handed_out_told_of_eoi),
		T(test_no_pin_no_intx),
		T(test_config_hooks_override_and_forward),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
