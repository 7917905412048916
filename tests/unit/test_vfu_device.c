// SPDX-License-Identifier: MIT
/*
 * Discovery (vfio-user/discover.c) against the server library over a
 * socketpair: what a server offers is read and checked, and the offer of
 * a server that comes back is compared with the first one, as uvmm's
 * on-error=reconnect does before it replays anything. Then the PCI
 * function device.c builds on it, on the fake VM with a host bridge,
 * against a server listening on a socket: config and BAR forwarding, a
 * BAR move, MSI-X switched on and off, and a server that dies.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "vfio-user/client.h"
#include "vfio-user/discover.h"
#include "vfio-user/server.h"
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "tests/unit/support/fake_irq.h"
#include "tests/unit/support/fake_vm.h"
#include "vfio-user/device.h"
#include "vmm/config.h"

#define BAR0_SIZE	0x4000
#define BAR2_SIZE	0x10000

/* What the fake server offers; each test changes one thing. */
struct fake_spec {
	u16 vendor, device;
	u64 bar0_size;
	u32 cfg_size;
	u32 msix;		/* MSI-X vectors */
	u32 msi;		/* MSI vectors */
	u32 device_flags;	/* 0: PCI | RESET */
	bool msix_cap;		/* an MSI-X capability in config space */
};

struct fake {
	struct fake_spec spec;
	struct vfu_server *srv;
	pthread_t thread;
	int sv[2];
	int run_ret;
	u8 config[4096];
	int bar2_fd;
	/* What the device side saw (the loop thread writes, tests read after
	 * a synchronous request). */
	u64 bar0_write_off;
	u32 bar0_write_val;
	unsigned int bar0_writes, bar_reads;
	u64 dma_size;
	bool dma_mapped;
	bool listening;		/* vfu_server_listen() instead of sv[] */
	char path[108];
};

static int cfg_access(void *opaque, u32 region, u64 offset, void *buf,
		      u32 count, bool is_write)
{
	struct fake *f = opaque;

	(void)region;
	if (offset + count > sizeof(f->config))
		return -EINVAL;
	if (is_write)
		memcpy(f->config + offset, buf, count);
	else
		memcpy(buf, f->config + offset, count);
	return 0;
}

/* Reads return 0xab0000NN-style words (NN the offset), writes are kept. */
static int bar_access(void *opaque, u32 region, u64 offset, void *buf,
		      u32 count, bool is_write)
{
	struct fake *f = opaque;
	u32 v = 0xab000000u | (u32)offset;

	if (is_write) {
		if (region == 0) {
			f->bar0_write_off = offset;
			f->bar0_write_val = 0;
			memcpy(&f->bar0_write_val, buf, MIN(count, 4u));
			f->bar0_writes++;
		}
		return 0;
	}
	f->bar_reads++;
	memset(buf, 0, count);
	memcpy(buf, &v, MIN(count, 4u));
	return 0;
}

static void fake_dma_map(void *opaque, u64 iova, u64 size, void *vaddr,
			 u32 flags)
{
	struct fake *f = opaque;

	(void)flags;
	if (iova == 0 && vaddr)
		f->dma_mapped = true;
	f->dma_size += size;
}

static const struct vfu_server_ops fake_ops = {
	.dma_map = fake_dma_map,
};

static void *fake_thread(void *arg)
{
	struct fake *f = arg;

	f->run_ret = f->listening ? vfu_server_accept(f->srv) :
				    vfu_server_attach_fd(f->srv, f->sv[1]);
	if (!f->run_ret)
		f->run_ret = vfu_server_run(f->srv);
	return NULL;
}

static const struct fake_spec good = {
	.vendor = 0x5555, .device = 0x0001, .bar0_size = BAR0_SIZE,
	.cfg_size = 256, .msix = 8, .msi = 1,
};

/* A fake server on a socketpair, or listening at path (NULL: the pair). */
static struct fake *fake_start_at(const struct fake_spec *spec,
				  const char *path)
{
	static const struct vfu_sparse_area area = { 0, BAR2_SIZE };
	struct vfu_server_options o = {
		.name = "fake-dev",
		.device_flags = spec->device_flags,
		.ops = &fake_ops,
	};
	struct vfu_server_region bar0 = {
		.size = spec->bar0_size,
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = bar_access,
		.fd = -1,
	};
	struct vfu_server_region bar2 = bar0, cfg = bar0;
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->spec = *spec;
	o.opaque = f;
	assert_int_equal(vfu_server_create(&o, &f->srv), 0);
	/* The header: IDs, class, a 32-bit BAR0, a prefetchable BAR2. */
	memcpy(&f->config[0x00], &spec->vendor, 2);
	memcpy(&f->config[0x02], &spec->device, 2);
	f->config[0x08] = 1;			/* revision */
	f->config[0x0b] = 0xff;			/* class */
	f->config[0x18] = 0x08;			/* BAR2 prefetchable */
	f->config[0x3d] = 1;			/* INTA */
	if (spec->msix_cap) {
		/* MSI-X: table at BAR0 + 0x2000, PBA at BAR0 + 0x3000. */
		u16 ctl = spec->msix - 1;
		u32 table = 0x2000, pba = 0x3000;

		f->config[0x06] = 0x10;		/* status: capability list */
		f->config[0x34] = 0x40;
		f->config[0x40] = 0x11;
		memcpy(&f->config[0x42], &ctl, 2);
		memcpy(&f->config[0x44], &table, 4);
		memcpy(&f->config[0x48], &pba, 4);
	}
	f->bar2_fd = memfd_create("bar2", MFD_CLOEXEC);
	assert_true(f->bar2_fd >= 0);
	assert_int_equal(ftruncate(f->bar2_fd, BAR2_SIZE), 0);
	bar2.size = BAR2_SIZE;
	bar2.fd = f->bar2_fd;
	bar2.areas = &area;
	bar2.nr_areas = 1;
	cfg.size = spec->cfg_size;
	cfg.access = cfg_access;
	if (spec->bar0_size)
		assert_int_equal(vfu_server_setup_region(f->srv, 0, &bar0), 0);
	assert_int_equal(vfu_server_setup_region(f->srv, 2, &bar2), 0);
	assert_int_equal(vfu_server_setup_region(f->srv, VFU_PCI_CONFIG, &cfg),
			 0);
	assert_int_equal(vfu_server_setup_irq(f->srv, VFU_IRQ_INTX, 1), 0);
	if (spec->msi)
		assert_int_equal(vfu_server_setup_irq(f->srv, VFU_IRQ_MSI,
						      spec->msi), 0);
	if (spec->msix)
		assert_int_equal(vfu_server_setup_irq(f->srv, VFU_IRQ_MSIX,
						      spec->msix), 0);
	if (path) {
		f->listening = true;
		f->sv[0] = f->sv[1] = -1;
		snprintf(f->path, sizeof(f->path), "%s", path);
		assert_int_equal(vfu_server_listen(f->srv, path), 0);
	} else {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					    0, f->sv), 0);
	}
	assert_int_equal(pthread_create(&f->thread, NULL, fake_thread, f), 0);
	return f;
}

static struct fake *fake_start(const struct fake_spec *spec)
{
	return fake_start_at(spec, NULL);
}

static struct vfu_client *fake_connect(struct fake *f)
{
	struct vfu_client_options co = { .name = "test-client" };
	struct vfu_client *c;

	assert_int_equal(vfu_client_connect_fd(f->sv[0], &co, &c), 0);
	return c;
}

static void fake_stop(struct fake *f, struct vfu_client *c)
{
	vfu_client_close(c);
	pthread_join(f->thread, NULL);
	vfu_server_destroy(f->srv);
	close(f->bar2_fd);
	free(f);
}

/* Discovers what spec's server offers; returns discovery's status. */
static int discover(const struct fake_spec *spec, struct vfu_offer *o,
		    char *err, size_t err_len)
{
	struct fake *f = fake_start(spec);
	struct vfu_client *c = fake_connect(f);
	int ret;

	ret = vfu_discover(c, "dev", o, err, err_len);
	fake_stop(f, c);
	return ret;
}

static void test_offer_read(void **state)
{
	int before = fake_count_fds();
	struct vfu_offer *o = calloc(1, sizeof(*o));
	char err[256] = "";

	(void)state;
	assert_int_equal(discover(&good, o, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_true(o->flags & VFU_DEVICE_F_PCI);
	assert_int_equal(o->regions[0].size, BAR0_SIZE);
	assert_int_equal(o->regions[0].fd, -1);
	assert_int_equal(o->regions[1].size, 0);
	assert_int_equal(o->regions[2].size, BAR2_SIZE);
	/* BAR2's backing came with its one sparse area, and is the offer's. */
	assert_true(o->regions[2].fd >= 0);
	assert_true(o->regions[2].caps.has_sparse);
	assert_int_equal(o->regions[2].caps.nr_areas, 1);
	assert_int_equal(o->regions[2].caps.areas[0].size, BAR2_SIZE);
	assert_int_equal(o->regions[VFU_PCI_CONFIG].size, 256);
	assert_int_equal(o->config_size, 256);
	assert_int_equal(vfu_offer_config(o, 0, 2), 0x5555);
	assert_int_equal(vfu_offer_config(o, 2, 2), 0x0001);
	assert_int_equal(vfu_offer_config(o, 0x18, 4), 0x08);
	/* Past the config read: 0, not the buffer's tail. */
	assert_int_equal(vfu_offer_config(o, 256, 4), 0);
	assert_int_equal(o->irq_count[VFU_IRQ_INTX], 1);
	assert_int_equal(o->irq_count[VFU_IRQ_MSI], 1);
	assert_int_equal(o->irq_count[VFU_IRQ_MSIX], 8);
	vfu_offer_release(o);
	assert_int_equal(o->regions[2].fd, -1);
	vfu_offer_release(o);	/* twice is harmless */
	assert_int_equal(fake_count_fds(), before);
	free(o);
}

/* A refused offer leaves nothing open and says why in one line. */
static void expect_refused(const struct fake_spec *spec, const char *why)
{
	int before = fake_count_fds();
	struct vfu_offer *o = calloc(1, sizeof(*o));
	char err[256] = "";

	assert_int_equal(discover(spec, o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, why));
	assert_true(strncmp(err, "dev: ", 5) == 0);
	assert_null(strchr(err, '\n'));
	assert_int_equal(fake_count_fds(), before);
	free(o);
}

static void test_refusals(void **state)
{
	struct fake_spec s;

	(void)state;
	s = good;
	s.bar0_size = 0x3000;
	expect_refused(&s, "region 0 size 0x3000 is not a power of two");
	s = good;
	s.cfg_size = 128;
	expect_refused(&s, "config region is 128 bytes, at least 256 needed");
	s = good;
	s.vendor = 0xffff;
	expect_refused(&s, "config space has no vendor ID (0xffff)");
	s = good;
	s.device_flags = VFU_DEVICE_F_RESET;
	expect_refused(&s, "not a usable PCI device");
}

/* What comparing a second server's offer with the first one finds. */
static void expect_compare(const struct fake_spec *second, int want,
			   const char *why)
{
	struct vfu_offer *a = calloc(1, sizeof(*a));
	struct vfu_offer *b = calloc(1, sizeof(*b));
	char err[256], diff[256] = "";

	assert_int_equal(discover(&good, a, err, sizeof(err)), 0);
	assert_int_equal(discover(second, b, err, sizeof(err)), 0);
	assert_int_equal(vfu_offer_compare(a, b, diff, sizeof(diff)), want);
	if (why)
		assert_non_null(strstr(diff, why));
	vfu_offer_release(a);
	vfu_offer_release(b);
	free(a);
	free(b);
}

static void test_compare(void **state)
{
	struct fake_spec s;

	(void)state;
	expect_compare(&good, 0, NULL);
	s = good;
	s.device = 0x0002;
	expect_compare(&s, -ENODEV, "device ID 0x2, was 0x1");
	s = good;
	s.bar0_size = 0x8000;
	expect_compare(&s, -ENODEV, "region 0 is 0x8000 bytes");
	s = good;
	s.msix = 4;
	expect_compare(&s, -ENODEV, "irq index 2 has 4 vectors, was 8");
	s = good;
	s.msi = 0;
	expect_compare(&s, -ENODEV, "irq index 1 has 0 vectors, was 1");
	s = good;
	s.cfg_size = 4096;
	expect_compare(&s, -ENODEV, "region 7 is 0x1000 bytes");
}

/* The server dies before it answers: an error, nothing left open. */
static void test_server_gone(void **state)
{
	int before = fake_count_fds();
	struct vfu_offer *o = calloc(1, sizeof(*o));
	struct fake *f = fake_start(&good);
	struct vfu_client *c = fake_connect(f);
	char err[256] = "";

	(void)state;
	vfu_server_stop(f->srv);
	pthread_join(f->thread, NULL);
	assert_true(vfu_discover(c, "dev", o, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "dev: DEVICE_GET_INFO"));
	vfu_client_close(c);
	vfu_server_destroy(f->srv);
	close(f->bar2_fd);
	free(f);
	assert_int_equal(fake_count_fds(), before);
	free(o);
}

/* ---- the PCI function device.c builds, on the fake VM -------------------- */

struct fn_fixture {
	struct vm_config vcfg;
	struct device_config dcfg;
	struct vm *vm;
	struct fake_irq irq;
	struct pci_host *host;
	struct vfu_device *dev;
	struct pci_function *fn;
	struct fake *f;
	char dir[64];
	char path[108];
};

/*
 * uvmm's side as vm.c builds it, against a server listening on a socket
 * in a temporary directory: the device connects, maps RAM, discovers,
 * builds its function; the host bridge places the BARs.
 */
static void fn_setup(struct fn_fixture *x, const struct fake_spec *spec,
		     enum device_on_error on_error)
{
	char err[256] = "";
	int ret;

	memset(x, 0, sizeof(*x));
	snprintf(x->dir, sizeof(x->dir), "/tmp/uvmm-vfu-dev.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/s.sock", x->dir);
	x->f = fake_start_at(spec, x->path);
	x->vcfg = (struct vm_config){ .nr_cpus = 1, .memory_bytes = 16 * MiB };
	x->dcfg = (struct device_config){
		.socket_path = x->path, .timeout_ms = 10000,
		.on_error = on_error,
	};
	x->vm = fake_vm_create(&x->vcfg, 16 * MiB);
	assert_non_null(x->vm);
	assert_int_equal(fake_irq_init(&x->irq, 64), 0);
	x->vm->irq = x->irq.router;
	assert_int_equal(pci_host_create(vm_services(x->vm), &x->host), 0);
	x->vm->pci = x->host;
	ret = vfu_device_create(x->vm, &x->dcfg, 0, &x->dev, err, sizeof(err));
	if (ret)
		fail_msg("vfu_device_create: %d: %s", ret, err);
	x->fn = vfu_device_function(x->dev);
	assert_true(pci_host_add(x->host, x->fn, -1) >= 0);
	assert_int_equal(vfu_device_attached(x->dev), 0);
	assert_int_equal(pci_host_assign_bars(x->host, err, sizeof(err)), 0);
}

static void fn_teardown(struct fn_fixture *x)
{
	pci_host_remove(x->host, x->fn);
	vfu_device_destroy(x->dev);
	pthread_join(x->f->thread, NULL);
	vfu_server_destroy(x->f->srv);
	close(x->f->bar2_fd);
	free(x->f);
	pci_host_destroy(x->host);
	fake_irq_fini(&x->irq);
	fake_vm_destroy(x->vm);
	unlink(x->path);
	rmdir(x->dir);
}

static u32 mmio_read32(struct vm *vm, u64 addr)
{
	u32 v = 0;

	bus_read(&vm->mmio, addr, &v, 4);
	return v;
}

static void mmio_write32(struct vm *vm, u64 addr, u32 v)
{
	bus_write(&vm->mmio, addr, &v, 4);
}

/*
 * Config space, BAR0 and BAR2 as a guest reaches them: IDs from the
 * server's config, RAM handed over for DMA, trapped BAR accesses
 * forwarded at the right offsets, a moved BAR followed, and BAR2's mmap
 * area left trapped (no KVM here) but still forwarded.
 */
static void test_function_forwards(void **state)
{
	int before = fake_count_fds();
	struct fn_fixture x;
	struct pci_bar_window w0, w2, moved;
	u32 cmd;

	(void)state;
	fn_setup(&x, &good, DEVICE_ON_ERROR_STOP);
	assert_int_equal(pci_config_read(x.fn, 0, 4), 0x00015555);
	assert_int_equal(pci_config_read(x.fn, 0x08, 1), 1);
	assert_true(x.f->dma_mapped);
	assert_int_equal(x.f->dma_size, 16 * MiB);

	w0 = pci_bar_window(x.fn, 0);
	w2 = pci_bar_window(x.fn, 2);
	assert_true(w0.on && w2.on);
	assert_int_equal(w0.addr % BAR0_SIZE, 0);
	mmio_write32(x.vm, w0.addr + 0x10, 0x12345678);
	assert_int_equal(x.f->bar0_writes, 1);
	assert_int_equal(x.f->bar0_write_off, 0x10);
	assert_int_equal(x.f->bar0_write_val, 0x12345678);
	assert_int_equal(mmio_read32(x.vm, w0.addr + 0x24), 0xab000024);
	assert_int_equal(mmio_read32(x.vm, w2.addr + 0x80), 0xab000080);

	/* The guest moves BAR0: the new place forwards, the old one is gone. */
	cmd = pci_config_read(x.fn, 0x04, 2);
	pci_config_write(x.fn, 0x04, 2, cmd & ~0x2u);
	pci_config_write(x.fn, 0x10, 4, (u32)w0.addr + 0x100000);
	pci_config_write(x.fn, 0x04, 2, cmd);
	moved = pci_bar_window(x.fn, 0);
	assert_true(moved.on);
	assert_int_equal(moved.addr, w0.addr + 0x100000);
	mmio_write32(x.vm, moved.addr + 0x44, 0xcafe);
	assert_int_equal(x.f->bar0_writes, 2);
	assert_int_equal(x.f->bar0_write_off, 0x44);
	mmio_write32(x.vm, w0.addr + 0x48, 0xdead);
	assert_int_equal(x.f->bar0_writes, 2);
	assert_false(vm_stopping(x.vm));
	fn_teardown(&x);
	assert_int_equal(fake_count_fds(), before);
}

/*
 * MSI-X switched on by the guest: the server is told (SET_IRQS) and has
 * an eventfd for each vector; switched off, it has none.
 */
static void test_function_msix(void **state)
{
	struct fn_fixture x;
	u8 cap;
	u16 ctl;
	struct pci_bar_window tw;
	u32 table;

	struct fake_spec spec = good;

	(void)state;
	spec.msix_cap = true;
	fn_setup(&x, &spec, DEVICE_ON_ERROR_STOP);
	cap = pci_find_capability(x.fn, 0x11);
	assert_true(cap != 0);
	table = pci_config_read(x.fn, cap + 4, 4);
	tw = pci_bar_window(x.fn, table & 7);
	assert_true(tw.on);
	/* Vector 0: an address and data, then unmasked. */
	mmio_write32(x.vm, tw.addr + (table & ~7u) + 0, 0xfee00000);
	mmio_write32(x.vm, tw.addr + (table & ~7u) + 8, 0x41);
	mmio_write32(x.vm, tw.addr + (table & ~7u) + 12, 0);
	ctl = pci_config_read(x.fn, cap + 2, 2);
	pci_config_write(x.fn, cap + 2, 2, ctl | 0x8000);
	assert_int_equal(pci_irq_mode(x.fn, NULL), PCI_IRQ_MSIX);
	/*
	 * Every vector gets its eventfd (masking stays in uvmm's table,
	 * unless the server asked for MASK/UNMASK), INTx none.
	 */
	assert_true(vfu_server_irq_enabled(x.f->srv, VFU_IRQ_MSIX, 0));
	assert_true(vfu_server_irq_enabled(x.f->srv, VFU_IRQ_MSIX, 7));
	assert_false(vfu_server_irq_enabled(x.f->srv, VFU_IRQ_INTX, 0));
	pci_config_write(x.fn, cap + 2, 2, ctl & ~0x8000);
	assert_int_equal(pci_irq_mode(x.fn, NULL), PCI_IRQ_INTX);
	assert_false(vfu_server_irq_enabled(x.f->srv, VFU_IRQ_MSIX, 0));
	assert_false(vfu_server_irq_enabled(x.f->srv, VFU_IRQ_MSIX, 7));
	fn_teardown(&x);
}

/*
 * The server dies: with on-error=stop the next access ends the VM with
 * status 10 and reads all-ones; with on-error=continue the VM goes on
 * and the device reads all-ones.
 */
static void expect_server_death(enum device_on_error on_error)
{
	struct fn_fixture x;
	struct pci_bar_window w0;

	fn_setup(&x, &good, on_error);
	w0 = pci_bar_window(x.fn, 0);
	vfu_server_stop(x.f->srv);
	pthread_join(x.f->thread, NULL);
	x.f->thread = pthread_self();	/* joined */
	assert_int_equal(mmio_read32(x.vm, w0.addr), 0xffffffff);
	if (on_error == DEVICE_ON_ERROR_STOP) {
		assert_true(vm_stopping(x.vm));
		assert_int_equal(x.vm->exit_status, STATUS_DEVICE_FAILED);
	} else {
		assert_false(vm_stopping(x.vm));
		assert_int_equal(mmio_read32(x.vm, w0.addr + 4), 0xffffffff);
	}
	pci_host_remove(x.host, x.fn);
	vfu_device_destroy(x.dev);
	vfu_server_destroy(x.f->srv);
	close(x.f->bar2_fd);
	free(x.f);
	pci_host_destroy(x.host);
	fake_irq_fini(&x.irq);
	fake_vm_destroy(x.vm);
	unlink(x.path);
	rmdir(x.dir);
}

static void test_function_server_dies(void **state)
{
	(void)state;
	expect_server_death(DEVICE_ON_ERROR_STOP);
	expect_server_death(DEVICE_ON_ERROR_CONTINUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_read),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_server_gone),
		cmocka_unit_test(test_function_forwards),
		cmocka_unit_test(test_function_msix),
		cmocka_unit_test(test_function_server_dies),
	};

	log_set_level(getenv("VFU_TEST_LOG") ? LOG_TRACE : LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
