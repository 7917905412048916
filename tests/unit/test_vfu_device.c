// SPDX-License-Identifier: MIT
/*
 * Discovery (vfio-user/discover.c) against the server library over a
 * socketpair: what a server offers is read and checked, and the offer of
 * a server that comes back is compared with the first one, as uvmm's
 * on-error=reconnect does before it replays anything.
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
#include "tests/unit/support/fake_vm.h"

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
};

struct fake {
	struct fake_spec spec;
	struct vfu_server *srv;
	pthread_t thread;
	int sv[2];
	int run_ret;
	u8 config[4096];
	int bar2_fd;
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

static int bar_access(void *opaque, u32 region, u64 offset, void *buf,
		      u32 count, bool is_write)
{
	(void)opaque, (void)region, (void)offset;
	if (!is_write)
		memset(buf, 0, count);
	return 0;
}

static void *fake_thread(void *arg)
{
	struct fake *f = arg;

	f->run_ret = vfu_server_attach_fd(f->srv, f->sv[1]);
	if (!f->run_ret)
		f->run_ret = vfu_server_run(f->srv);
	return NULL;
}

static const struct fake_spec good = {
	.vendor = 0x5555, .device = 0x0001, .bar0_size = BAR0_SIZE,
	.cfg_size = 256, .msix = 8, .msi = 1,
};

static struct fake *fake_start(const struct fake_spec *spec)
{
	static const struct vfu_sparse_area area = { 0, BAR2_SIZE };
	struct vfu_server_options o = {
		.name = "fake-dev",
		.device_flags = spec->device_flags,
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
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    f->sv), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_thread, f), 0);
	return f;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_read),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_server_gone),
	};

	log_set_level(getenv("VFU_TEST_LOG") ? LOG_TRACE : LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
