// SPDX-License-Identifier: MIT
/*
 * Our client against our server over a socketpair (and a listening
 * socket), then against a hostile peer driven by the test.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/log.h"
#include "vfio-user/client.h"
#include "vfio-user/server.h"
#include "tests/unit/support/fake_vm.h"

/* ---- the device ------------------------------------------------------------ */

#define BAR0_SIZE	4096
#define BAR1_SIZE	(256 * 1024)
#define BAR2_SIZE	(16 * 1024)
#define GUEST_SIZE	(64 * 1024)
#define GUEST_IOVA	0x100000
#define REG_DMA_READ	0x200	/* reading it makes the device DMA */

struct dev {
	struct vfu_server *srv;
	pthread_t thread;
	int run_ret;
	int sv[2];
	u8 bar0[BAR0_SIZE];
	int bar2_fd;
	u8 *bar2;
	int resets;
	int masked;
	int ioeventfd;
	unsigned long bar1_accesses;
	/* the device's DMA test: read 8 bytes at GUEST_IOVA, write back + 1 */
	int dma_ret;
};

static int bar_access(void *opaque, u32 region, u64 offset, void *buf,
		      u32 count, bool is_write)
{
	struct dev *d = opaque;
	u8 *base;

	if (region == 1) {
		/* Data derived from the offset: replies can be matched. */
		u32 i;

		__atomic_fetch_add(&d->bar1_accesses, 1, __ATOMIC_RELAXED);
		if (is_write)
			return 0;
		for (i = 0; i < count; i++)
			((u8 *)buf)[i] = (u8)((offset + i) * 7 + ((offset + i) >> 8));
		return 0;
	}
	if (region == 0 && offset == REG_DMA_READ && !is_write) {
		u64 v = 0;

		d->dma_ret = vfu_server_dma_read(d->srv, GUEST_IOVA, &v,
						 sizeof(v));
		if (!d->dma_ret) {
			v++;
			d->dma_ret = vfu_server_dma_write(d->srv,
							  GUEST_IOVA + 8, &v,
							  sizeof(v));
		}
		memcpy(buf, &v, MIN(count, (u32)sizeof(v)));
		return 0;
	}
	if (region == 0 && offset == 0x300)
		return -EBUSY;
	base = region == 0 ? d->bar0 : region == 2 ? d->bar2 : d->bar0;
	if (is_write)
		memcpy(base + offset, buf, count);
	else
		memcpy(buf, base + offset, count);
	return 0;
}

static int dev_reset(void *opaque)
{
	struct dev *d = opaque;

	d->resets++;
	return 0;
}

static void dev_irq_state(void *opaque, u32 index, u32 start, u32 count,
			  bool masked)
{
	struct dev *d = opaque;

	(void)index;
	(void)start;
	(void)count;
	d->masked += masked ? 1 : -1;
}

static const struct vfu_server_ops dev_ops = {
	.reset = dev_reset,
	.irq_state = dev_irq_state,
};

static void *server_thread(void *arg)
{
	struct dev *d = arg;

	d->run_ret = vfu_server_attach_fd(d->srv, d->sv[1]);
	if (!d->run_ret)
		d->run_ret = vfu_server_run(d->srv);
	return NULL;
}

static struct dev *dev_create(const struct vfu_server_options *extra)
{
	struct vfu_server_options o = {
		.name = "test-dev",
		.ops = &dev_ops,
	};
	static const struct vfu_sparse_area areas[] = {
		{ 0, 0x1000 }, { 0x2000, 0x2000 },
	};
	struct vfu_server_region bar0 = {
		.size = BAR0_SIZE,
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = bar_access,
		.fd = -1,
	};
	struct vfu_server_region bar1 = bar0, bar2 = bar0, cfg = bar0;
	struct dev *d = calloc(1, sizeof(*d));
	int efd;

	assert_non_null(d);
	if (extra)
		o = *extra;
	o.ops = &dev_ops;
	o.opaque = d;
	assert_int_equal(vfu_server_create(&o, &d->srv), 0);
	d->bar2_fd = memfd_create("bar2", MFD_CLOEXEC);
	assert_true(d->bar2_fd >= 0);
	assert_int_equal(ftruncate(d->bar2_fd, BAR2_SIZE), 0);
	d->bar2 = mmap(NULL, BAR2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->bar2_fd, 0);
	assert_true(d->bar2 != MAP_FAILED);
	bar1.size = BAR1_SIZE;
	bar2.size = BAR2_SIZE;
	bar2.fd = d->bar2_fd;
	bar2.areas = areas;
	bar2.nr_areas = 2;
	bar2.has_type = true;
	bar2.type = 0x8086;
	bar2.subtype = 7;
	cfg.size = 256;
	assert_int_equal(vfu_server_setup_region(d->srv, 0, &bar0), 0);
	assert_int_equal(vfu_server_setup_region(d->srv, 1, &bar1), 0);
	assert_int_equal(vfu_server_setup_region(d->srv, 2, &bar2), 0);
	assert_int_equal(vfu_server_setup_region(d->srv, VFU_PCI_CONFIG, &cfg),
			 0);
	assert_int_equal(vfu_server_setup_irq(d->srv, VFU_IRQ_INTX, 1), 0);
	assert_int_equal(vfu_server_setup_irq(d->srv, VFU_IRQ_MSI, 4), 0);
	assert_int_equal(vfu_server_setup_irq(d->srv, VFU_IRQ_MSIX, 64), 0);
	efd = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(vfu_server_add_ioeventfd(d->srv, 0, 0x100, 4, efd, 1,
						  0xabcd), 0);
	close(efd);
	return d;
}

static void dev_start(struct dev *d)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    d->sv), 0);
	assert_int_equal(pthread_create(&d->thread, NULL, server_thread, d),
			 0);
}

static void dev_destroy(struct dev *d)
{
	pthread_join(d->thread, NULL);
	vfu_server_destroy(d->srv);
	munmap(d->bar2, BAR2_SIZE);
	close(d->bar2_fd);
	free(d);
}

struct guest {
	int fd;
	u8 *mem;
};

static int guest_read(void *opaque, u64 addr, void *buf, u64 len)
{
	struct guest *g = opaque;

	if (addr < GUEST_IOVA || addr - GUEST_IOVA + len > GUEST_SIZE)
		return -EFAULT;
	memcpy(buf, g->mem + (addr - GUEST_IOVA), len);
	return 0;
}

static int guest_write(void *opaque, u64 addr, const void *buf, u64 len)
{
	struct guest *g = opaque;

	if (addr < GUEST_IOVA || addr - GUEST_IOVA + len > GUEST_SIZE)
		return -EFAULT;
	memcpy(g->mem + (addr - GUEST_IOVA), buf, len);
	return 0;
}

static const struct vfu_client_dma_ops guest_dma_ops = {
	.read = guest_read,
	.write = guest_write,
};

static struct guest *guest_create(void)
{
	struct guest *g = calloc(1, sizeof(*g));

	g->fd = memfd_create("guest", MFD_CLOEXEC);
	assert_true(g->fd >= 0);
	assert_int_equal(ftruncate(g->fd, GUEST_SIZE), 0);
	g->mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->fd, 0);
	assert_true(g->mem != MAP_FAILED);
	return g;
}

static void guest_destroy(struct guest *g)
{
	munmap(g->mem, GUEST_SIZE);
	close(g->fd);
	free(g);
}

struct setup {
	struct dev *dev;
	struct guest *guest;
	struct vfu_client *c;
	int fds_before;
};

static struct setup *setup_with(const struct vfu_server_options *so,
				struct vfu_client_options *co)
{
	struct setup *s = calloc(1, sizeof(*s));
	struct vfu_client_options def = { .name = "test-client" };

	s->fds_before = fake_count_fds();
	s->dev = dev_create(so);
	s->guest = guest_create();
	dev_start(s->dev);
	if (!co)
		co = &def;
	co->dma_ops = &guest_dma_ops;
	co->dma_opaque = s->guest;
	assert_int_equal(vfu_client_connect_fd(s->dev->sv[0], co, &s->c), 0);
	return s;
}

static void teardown_setup(struct setup *s)
{
	vfu_client_close(s->c);
	dev_destroy(s->dev);
	guest_destroy(s->guest);
	assert_int_equal(fake_count_fds(), s->fds_before);
	free(s);
}

/* ---- round trips ---------------------------------------------------------------- */

static void test_version_and_device_info(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	struct vfu_device_info di;
	struct vfu_caps caps;
	u16 major, minor;

	(void)state;
	vfu_client_server_caps(s->c, &caps, &major, &minor);
	assert_int_equal(major, 0);
	assert_int_equal(minor, 0);
	assert_int_equal(caps.max_msg_fds, 16);
	assert_int_equal(caps.max_data_xfer_size, 1 << 20);
	assert_true(vfu_client_has_twin_socket(s->c));
	assert_true(vfu_server_has_twin_socket(s->dev->srv));
	assert_int_equal(vfu_client_device_get_info(s->c, &di), 0);
	assert_int_equal(di.flags, VFU_DEVICE_F_PCI | VFU_DEVICE_F_RESET);
	assert_int_equal(di.num_regions, 9);
	assert_int_equal(di.num_irqs, 5);
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_CONNECTED);
	assert_string_equal(vfu_client_error_string(s->c), "");
	teardown_setup(s);
}

static void test_region_info_requery_caps_and_fd(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	struct vfu_client_region r;
	u8 *map;

	(void)state;
	assert_int_equal(vfu_client_region_info(s->c, 2, &r), 0);
	assert_int_equal(r.info.size, BAR2_SIZE);
	assert_int_equal(r.info.argsz, 32 + 16 + 32 + 16);
	assert_int_equal(r.info.flags, VFU_REGION_F_READ | VFU_REGION_F_WRITE |
				       VFU_REGION_F_MMAP | VFU_REGION_F_CAPS);
	assert_true(r.caps.has_sparse);
	assert_int_equal(r.caps.nr_areas, 2);
	assert_int_equal(r.caps.areas[1].offset, 0x2000);
	assert_int_equal(r.caps.areas[1].size, 0x2000);
	assert_true(r.caps.has_type);
	assert_int_equal(r.caps.type, 0x8086);
	assert_int_equal(r.caps.subtype, 7);
	assert_true(r.fd >= 0);
	/* The region fd maps the server's memory. */
	map = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd,
		   r.info.offset + 0x2000);
	assert_true(map != MAP_FAILED);
	s->dev->bar2[0x2010] = 0x5a;
	assert_int_equal(map[0x10], 0x5a);
	map[0x20] = 0xa5;
	assert_int_equal(s->dev->bar2[0x2020], 0xa5);
	munmap(map, 0x2000);
	close(r.fd);

	assert_int_equal(vfu_client_region_info(s->c, 0, &r), 0);
	assert_int_equal(r.info.size, BAR0_SIZE);
	assert_int_equal(r.info.flags, VFU_REGION_F_READ | VFU_REGION_F_WRITE);
	assert_int_equal(r.fd, -1);
	assert_false(r.caps.has_sparse);

	assert_int_equal(vfu_client_region_info(s->c, 5, &r), 0);
	assert_int_equal(r.info.size, 0);
	assert_int_equal(vfu_client_region_info(s->c, 9, &r), -EINVAL);
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_CONNECTED);
	teardown_setup(s);
}

static void test_region_read_write_and_error_reply(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	u32 v = 0xdeadbeef, r = 0;
	u8 buf[64];

	(void)state;
	assert_int_equal(vfu_client_region_write(s->c, 0, 0x10, &v, 4), 0);
	assert_int_equal(vfu_client_region_read(s->c, 0, 0x10, &r, 4), 0);
	assert_int_equal(r, 0xdeadbeef);
	memset(buf, 0x33, sizeof(buf));
	assert_int_equal(vfu_client_region_write(s->c, VFU_PCI_CONFIG, 0, buf,
						 64), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vfu_client_region_read(s->c, VFU_PCI_CONFIG, 0, buf,
						64), 0);
	assert_int_equal(buf[63], 0x33);
	/* out of range, unknown region, device error: -errno, still alive */
	assert_int_equal(vfu_client_region_read(s->c, 0, BAR0_SIZE - 2, &r, 4),
			 -EINVAL);
	assert_int_equal(vfu_client_region_read(s->c, 8, 0, &r, 4), -EINVAL);
	assert_int_equal(vfu_client_region_read(s->c, 0, 0x300, &r, 4), -EBUSY);
	assert_int_equal(vfu_client_region_read(s->c, 0, 0x10, &r, 4), 0);
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_CONNECTED);
	teardown_setup(s);
}

static void test_region_access_split_above_max_xfer(void **state)
{
	struct vfu_server_options so = { .max_data_xfer_size = 64 * 1024 };
	struct setup *s = setup_with(&so, NULL);
	u8 *buf = malloc(BAR1_SIZE);
	u32 i;

	(void)state;
	assert_int_equal(vfu_client_region_read(s->c, 1, 0, buf, BAR1_SIZE),
			 0);
	for (i = 0; i < BAR1_SIZE; i++)
		if (buf[i] != (u8)(i * 7 + (i >> 8)))
			fail_msg("byte %u: %u", i, buf[i]);
	assert_int_equal(s->dev->bar1_accesses, BAR1_SIZE / (64 * 1024));
	assert_int_equal(vfu_client_region_write(s->c, 1, 0, buf, BAR1_SIZE),
			 0);
	/*
	 * Writes go in 32 KiB messages whatever the server announced:
	 * libvfio-user loses larger bodies (see vfu_client_region_write).
	 */
	assert_int_equal(s->dev->bar1_accesses,
			 BAR1_SIZE / (64 * 1024) + BAR1_SIZE / (32 * 1024));
	free(buf);
	teardown_setup(s);
}

static void test_irq_info_and_set_irqs_chunked(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	struct vfu_irq_info ii;
	int efds[40];
	u8 bools[4] = { 0, 1, 0, 0 };
	u64 v;
	int i;

	(void)state;
	assert_int_equal(vfu_client_irq_info(s->c, VFU_IRQ_MSIX, &ii), 0);
	assert_int_equal(ii.count, 64);
	assert_int_equal(ii.flags,
			 VFU_IRQ_INFO_F_EVENTFD | VFU_IRQ_INFO_F_MASKABLE);
	assert_int_equal(vfu_client_irq_info(s->c, VFU_IRQ_MSI, &ii), 0);
	assert_int_equal(ii.count, 4);
	assert_int_equal(vfu_client_irq_info(s->c, 7, &ii), -EINVAL);

	for (i = 0; i < 40; i++)
		efds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	close(efds[20]);
	efds[20] = -1;	/* no eventfd for vector 22 */
	assert_int_equal(vfu_client_set_irqs(s->c, VFU_IRQ_MSIX,
					     VFU_IRQ_SET_DATA_EVENTFD |
					     VFU_IRQ_SET_ACTION_TRIGGER, 2, 40,
					     efds, NULL), 0);
	assert_true(vfu_server_irq_enabled(s->dev->srv, VFU_IRQ_MSIX, 2));
	assert_true(vfu_server_irq_enabled(s->dev->srv, VFU_IRQ_MSIX, 41));
	assert_false(vfu_server_irq_enabled(s->dev->srv, VFU_IRQ_MSIX, 22));
	assert_false(vfu_server_irq_enabled(s->dev->srv, VFU_IRQ_MSIX, 1));
	assert_int_equal(vfu_server_irq_trigger(s->dev->srv, VFU_IRQ_MSIX, 39),
			 0);
	assert_int_equal(read(efds[37], &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	assert_int_equal(read(efds[36], &v, sizeof(v)), -1);
	assert_int_equal(vfu_server_irq_trigger(s->dev->srv, VFU_IRQ_MSIX, 22),
			 -ENOENT);
	/* BOOL trigger from the client side: vector 3 (= efds[1]) */
	assert_int_equal(vfu_client_set_irqs(s->c, VFU_IRQ_MSIX,
					     VFU_IRQ_SET_DATA_BOOL |
					     VFU_IRQ_SET_ACTION_TRIGGER, 2, 4,
					     NULL, bools), 0);
	assert_int_equal(read(efds[1], &v, sizeof(v)), sizeof(v));
	/* mask / unmask reach the device */
	assert_int_equal(vfu_client_set_irqs(s->c, VFU_IRQ_MSIX,
					     VFU_IRQ_SET_DATA_NONE |
					     VFU_IRQ_SET_ACTION_MASK, 0, 2,
					     NULL, NULL), 0);
	assert_int_equal(s->dev->masked, 2);
	assert_int_equal(vfu_client_set_irqs(s->c, VFU_IRQ_MSIX,
					     VFU_IRQ_SET_DATA_NONE |
					     VFU_IRQ_SET_ACTION_UNMASK, 0, 2,
					     NULL, NULL), 0);
	assert_int_equal(s->dev->masked, 0);
	/* out of range */
	assert_int_equal(vfu_client_set_irqs(s->c, VFU_IRQ_MSI,
					     VFU_IRQ_SET_DATA_EVENTFD |
					     VFU_IRQ_SET_ACTION_TRIGGER, 2, 4,
					     efds, NULL), -EINVAL);
	/* disable all */
	assert_int_equal(vfu_client_set_irqs(s->c, VFU_IRQ_MSIX,
					     VFU_IRQ_SET_DATA_NONE |
					     VFU_IRQ_SET_ACTION_TRIGGER, 0, 0,
					     NULL, NULL), 0);
	assert_false(vfu_server_irq_enabled(s->dev->srv, VFU_IRQ_MSIX, 2));
	for (i = 0; i < 40; i++)
		if (efds[i] >= 0)
			close(efds[i]);
	teardown_setup(s);
}

static void test_io_fds_and_reset(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	struct vfu_io_fd_entry e[4];
	int fds[4];
	unsigned int nr;

	(void)state;
	assert_int_equal(vfu_client_region_io_fds(s->c, 0, e, 4, fds, 4, &nr),
			 1);
	assert_int_equal(nr, 1);
	assert_int_equal(e[0].offset, 0x100);
	assert_int_equal(e[0].size, 4);
	assert_int_equal(e[0].datamatch, 0xabcd);
	assert_int_equal(e[0].fd_index, 0);
	assert_int_equal(e[0].flags, 1);
	close(fds[0]);
	assert_int_equal(vfu_client_region_io_fds(s->c, 1, e, 4, fds, 4, &nr),
			 0);
	assert_int_equal(vfu_client_device_reset(s->c), 0);
	assert_int_equal(vfu_client_device_reset(s->c), 0);
	assert_int_equal(s->dev->resets, 2);
	teardown_setup(s);
}

static void test_dma_map_fd_shared_both_ways(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	u8 buf[16];

	(void)state;
	assert_int_equal(vfu_client_dma_map(s->c, GUEST_IOVA, GUEST_SIZE,
					    s->guest->fd, 0,
					    VFU_DMA_MAP_F_READ |
					    VFU_DMA_MAP_F_WRITE), 0);
	/* The server writes through its mapping; the client sees it. */
	assert_int_equal(vfu_server_dma_write(s->dev->srv, GUEST_IOVA + 100,
					      "hello", 5), 0);
	assert_memory_equal(s->guest->mem + 100, "hello", 5);
	memcpy(s->guest->mem + 200, "world", 5);
	assert_int_equal(vfu_server_dma_read(s->dev->srv, GUEST_IOVA + 200, buf,
					     5), 0);
	assert_memory_equal(buf, "world", 5);
	/* outside the map */
	assert_int_equal(vfu_server_dma_read(s->dev->srv,
					     GUEST_IOVA + GUEST_SIZE - 2, buf,
					     4), -EFAULT);
	/* overlapping map refused, exact duplicate fine */
	assert_int_equal(vfu_client_dma_map(s->c, GUEST_IOVA + 4096, 4096,
					    s->guest->fd, 0, 3), -EEXIST);
	assert_int_equal(vfu_client_dma_map(s->c, GUEST_IOVA, GUEST_SIZE,
					    s->guest->fd, 0, 3), 0);
	assert_int_equal(vfu_client_dma_unmap(s->c, GUEST_IOVA, 4096, 0),
			 -ENOENT);
	assert_int_equal(vfu_client_dma_unmap(s->c, GUEST_IOVA, GUEST_SIZE, 0),
			 0);
	assert_int_equal(vfu_server_dma_read(s->dev->srv, GUEST_IOVA + 200,
					     buf, 5), -EFAULT);
	/* read-only map: the device may not write */
	assert_int_equal(vfu_client_dma_map(s->c, GUEST_IOVA, GUEST_SIZE,
					    s->guest->fd, 0,
					    VFU_DMA_MAP_F_READ), 0);
	assert_int_equal(vfu_server_dma_write(s->dev->srv, GUEST_IOVA, buf, 4),
			 -EPERM);
	assert_int_equal(vfu_client_dma_unmap(s->c, 0, 0, VFU_DMA_UNMAP_F_ALL),
			 0);
	teardown_setup(s);
}

/* DMA without fds: messages on the twin socket, from a non-loop thread. */
static void test_dma_messages_twin_from_other_thread(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	u8 big[100000], back[100000];
	u32 i;

	(void)state;
	assert_int_equal(vfu_client_dma_map(s->c, GUEST_IOVA, GUEST_SIZE, -1, 0,
					    3), 0);
	for (i = 0; i < sizeof(big) && i < GUEST_SIZE; i++)
		big[i] = (u8)(i * 13);
	assert_int_equal(vfu_server_dma_write(s->dev->srv, GUEST_IOVA, big,
					      GUEST_SIZE), 0);
	assert_memory_equal(s->guest->mem, big, GUEST_SIZE);
	memset(back, 0, sizeof(back));
	assert_int_equal(vfu_server_dma_read(s->dev->srv, GUEST_IOVA, back,
					     GUEST_SIZE), 0);
	assert_memory_equal(back, big, GUEST_SIZE);
	/* Client-side range check: unmapped address is refused. */
	assert_int_equal(vfu_server_dma_read(s->dev->srv, GUEST_IOVA - 8, back,
					     8), -EFAULT);
	teardown_setup(s);
}

/* refuse_dma_fds: the fd is passed but the server maps nothing. */
static void test_dma_fd_refused_goes_by_messages(void **state)
{
	struct vfu_server_options so = { .refuse_dma_fds = true };
	struct setup *s = setup_with(&so, NULL);
	u8 buf[8];

	(void)state;
	assert_int_equal(vfu_client_dma_map(s->c, GUEST_IOVA, GUEST_SIZE,
					    s->guest->fd, 0, 3), 0);
	assert_int_equal(vfu_server_dma_write(s->dev->srv, GUEST_IOVA + 8,
					      "abcdefgh", 8), 0);
	assert_memory_equal(s->guest->mem + 8, "abcdefgh", 8);
	assert_int_equal(vfu_server_dma_read(s->dev->srv, GUEST_IOVA + 8, buf,
					     8), 0);
	assert_memory_equal(buf, "abcdefgh", 8);
	teardown_setup(s);
}

struct reader_arg {
	struct vfu_client *c;
	int id;
	int iterations;
	int errors;
	bool dma;
};

static void *reader_thread(void *p)
{
	struct reader_arg *a = p;
	int i;

	for (i = 0; i < a->iterations; i++) {
		u32 off = (u32)((a->id * 4096 + (i % 1024) * 4) % BAR1_SIZE);
		u8 v[4];
		int j;

		if (a->dma) {
			u64 x;

			if (vfu_client_region_read(a->c, 0, REG_DMA_READ, &x,
						   8))
				a->errors++;
			continue;
		}
		if (vfu_client_region_read(a->c, 1, off, v, 4)) {
			a->errors++;
			continue;
		}
		for (j = 0; j < 4; j++)
			if (v[j] != (u8)((off + j) * 7 + ((off + j) >> 8)))
				a->errors++;
	}
	return NULL;
}

static void test_concurrent_reads_matched(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	struct reader_arg args[8];
	pthread_t t[8];
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		args[i] = (struct reader_arg){ s->c, i, 10000, 0, false };
		pthread_create(&t[i], NULL, reader_thread, &args[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].errors, 0);
	}
	assert_int_equal(s->dev->bar1_accesses, 80000);
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_CONNECTED);
	teardown_setup(s);
}

/*
 * The device does DMA by messages while serving a REGION_READ, and other
 * client threads are blocked on their own replies meanwhile.
 */
static void dma_while_blocked(bool twin)
{
	struct vfu_client_options co = {
		.name = "test-client", .no_twin_socket = !twin,
	};
	struct setup *s = setup_with(NULL, &co);
	struct reader_arg args[4];
	pthread_t t[4];
	u64 x = 41, y;
	int i;

	assert_int_equal(vfu_client_has_twin_socket(s->c), twin);
	assert_int_equal(vfu_client_dma_map(s->c, GUEST_IOVA, GUEST_SIZE, -1, 0,
					    3), 0);
	memcpy(s->guest->mem, &x, 8);
	for (i = 0; i < 4; i++) {
		args[i] = (struct reader_arg){ s->c, i, 300, 0, i < 2 };
		pthread_create(&t[i], NULL, reader_thread, &args[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].errors, 0);
	}
	assert_int_equal(s->dev->dma_ret, 0);
	memcpy(&y, s->guest->mem + 8, 8);
	assert_int_equal(y, 42);
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_CONNECTED);
	teardown_setup(s);
}

static void test_dma_messages_while_waiters_blocked_twin(void **state)
{
	(void)state;
	dma_while_blocked(true);
}

static void test_dma_messages_while_waiters_blocked_main_socket(void **state)
{
	(void)state;
	dma_while_blocked(false);
}

struct listen_arg {
	struct dev *d;
	int rounds;
	int ret[2];
};

static void *listen_thread(void *p)
{
	struct listen_arg *a = p;
	int i;

	for (i = 0; i < a->rounds; i++) {
		a->ret[i] = vfu_server_accept(a->d->srv);
		if (!a->ret[i])
			a->ret[i] = vfu_server_run(a->d->srv);
	}
	return NULL;
}

static void test_listening_socket_and_reconnect(void **state)
{
	int before = fake_count_fds();
	struct dev *d = dev_create(NULL);
	struct listen_arg a = { d, 2, { -1, -1 } };
	struct vfu_client *c;
	char path[64];
	pthread_t t;
	u32 v = 7, r = 0;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/vfu-test-%d.sock", getpid());
	assert_int_equal(vfu_server_listen(d->srv, path), 0);
	pthread_create(&t, NULL, listen_thread, &a);
	for (i = 0; i < 2; i++) {
		assert_int_equal(vfu_client_connect(path, NULL, &c), 0);
		assert_int_equal(vfu_client_region_write(c, 0, 0, &v, 4), 0);
		assert_int_equal(vfu_client_region_read(c, 0, 0, &r, 4), 0);
		assert_int_equal(r, 7);
		vfu_client_close(c);
	}
	pthread_join(t, NULL);
	assert_int_equal(a.ret[0], 0);
	assert_int_equal(a.ret[1], 0);
	assert_int_equal(vfu_client_connect("/nonexistent/x.sock", NULL, &c),
			 -ENOENT);
	vfu_server_destroy(d->srv);
	munmap(d->bar2, BAR2_SIZE);
	close(d->bar2_fd);
	free(d);
	assert_int_equal(fake_count_fds(), before);
}

static void test_server_disconnect_fails_client(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	u32 r;

	(void)state;
	vfu_server_stop(s->dev->srv);
	pthread_join(s->dev->thread, NULL);
	assert_int_equal(s->dev->run_ret, -ECANCELED);
	assert_int_not_equal(vfu_client_region_read(s->c, 0, 0, &r, 4), 0);
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_ERROR);
	assert_string_not_equal(vfu_client_error_string(s->c), "");
	/* later requests fail with the same error */
	assert_int_equal(vfu_client_region_read(s->c, 0, 0, &r, 4),
			 vfu_client_error(s->c));
	vfu_client_close(s->c);
	vfu_server_destroy(s->dev->srv);
	munmap(s->dev->bar2, BAR2_SIZE);
	close(s->dev->bar2_fd);
	free(s->dev);
	guest_destroy(s->guest);
	assert_int_equal(fake_count_fds(), s->fds_before);
	free(s);
}

/* ---- a hostile server driven by the test ---------------------------------------------- */

struct hostile {
	int raw;		/* the test's end */
	struct vfu_client *c;
	int fds_before;
	int dead_calls;
	int dead_err;
};

static void hostile_on_dead(void *opaque, int err, const char *reason)
{
	struct hostile *h = opaque;

	(void)reason;
	h->dead_calls++;
	h->dead_err = err;
}

static void raw_send(int fd, u16 id, u16 cmd, u32 flags, u32 error_no,
		     const void *payload, u32 len, const int *fds,
		     unsigned int nr_fds)
{
	struct vfu_hdr h;
	struct iovec iov = { (void *)payload, len };

	vfu_hdr_init(&h, id, cmd, len, flags);
	h.error_no = error_no;
	struct vfu_transport t = { .fd = fd, .ops = &vfu_transport_socket_ops };
	assert_int_equal(vfu_transport_send(&t, &h, &iov, len ? 1 : 0, fds,
					    nr_fds), 0);
}

/* Read one whole message from the raw end; returns its header. */
static struct vfu_hdr raw_recv(int fd, void *payload, u32 cap)
{
	struct vfu_transport t = { .fd = fd, .ops = &vfu_transport_socket_ops };
	struct vfu_fds fds;
	struct vfu_hdr h;
	char why[128];

	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&t, &h, 1 << 21, &fds, why,
						sizeof(why)), 0);
	assert_true(h.size - 16 <= cap);
	assert_int_equal(vfu_transport_recv_body(&t, payload, h.size - 16,
						 &fds), 0);
	vfu_fds_close(&fds, 0);
	return h;
}

static struct hostile *hostile_connect(u32 timeout_ms,
				       const struct vfu_transport_ops *ops)
{
	static const char caps[] =
		"{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576}}";
	struct hostile *h = calloc(1, sizeof(*h));
	struct vfu_client_options co = {
		.name = "hostile-client",
		.timeout_ms = timeout_ms,
		.on_dead = hostile_on_dead,
		.transport_ops = ops,
	};
	u8 payload[256] = { 0 };
	int sv[2];

	co.dead_opaque = h;
	h->fds_before = fake_count_fds();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	h->raw = sv[1];
	/* The VERSION reply is already waiting when the client asks. */
	memcpy(payload + 4, caps, sizeof(caps));
	raw_send(h->raw, 0, VFU_CMD_VERSION, VFU_F_TYPE_REPLY, 0, payload,
		 4 + sizeof(caps), NULL, 0);
	assert_int_equal(vfu_client_connect_fd(sv[0], &co, &h->c), 0);
	raw_recv(h->raw, payload, sizeof(payload));	/* its VERSION */
	return h;
}

static void hostile_close(struct hostile *h)
{
	vfu_client_close(h->c);
	if (h->raw >= 0)
		close(h->raw);
	assert_int_equal(fake_count_fds(), h->fds_before);
	free(h);
}

enum scenario {
	SC_CLOSE,
	SC_SILENT,
	SC_WRONG_ID,
	SC_WRONG_SIZE,
	SC_TRUNC_HDR,
	SC_HUGE_SIZE,
	SC_TOO_MANY_FDS,
	SC_UNKNOWN_CMD,
	SC_ERROR_EBUSY,
	SC_ERROR_ZERO,
	SC_ERROR_WITH_PAYLOAD,
	SC_GARBAGE_TYPE,
	SC_MMAP_NO_FD,
};

struct responder {
	struct hostile *h;
	enum scenario sc;
};

static void *responder_thread(void *p)
{
	struct responder *r = p;
	int raw = r->h->raw;
	u8 req[64], rep[64] = { 0 };
	struct vfu_hdr q = raw_recv(raw, req, sizeof(req));
	struct vfu_hdr bad;
	int efd[2];

	memcpy(rep, req, 16);
	switch (r->sc) {
	case SC_CLOSE:
		shutdown(raw, SHUT_RDWR);
		break;
	case SC_SILENT:
		break;
	case SC_WRONG_ID:
		raw_send(raw, q.msg_id + 1, q.cmd, VFU_F_TYPE_REPLY, 0, rep,
			 20, NULL, 0);
		break;
	case SC_WRONG_SIZE:
		raw_send(raw, q.msg_id, q.cmd, VFU_F_TYPE_REPLY, 0, rep, 18,
			 NULL, 0);
		break;
	case SC_TRUNC_HDR:
		vfu_hdr_init(&bad, q.msg_id, q.cmd, 4, VFU_F_TYPE_REPLY);
		assert_int_equal(write(raw, &bad, 8), 8);
		shutdown(raw, SHUT_WR);
		break;
	case SC_HUGE_SIZE:
		vfu_hdr_init(&bad, q.msg_id, q.cmd, 0, VFU_F_TYPE_REPLY);
		bad.size = 0xffffffffu;
		assert_int_equal(write(raw, &bad, 16), 16);
		break;
	case SC_TOO_MANY_FDS:
		efd[0] = eventfd(0, EFD_CLOEXEC);
		efd[1] = eventfd(0, EFD_CLOEXEC);
		raw_send(raw, q.msg_id, q.cmd, VFU_F_TYPE_REPLY, 0, rep, 20,
			 efd, 2);
		close(efd[0]);
		close(efd[1]);
		break;
	case SC_UNKNOWN_CMD:
		raw_send(raw, q.msg_id, 99, VFU_F_TYPE_REPLY, 0, rep, 20, NULL,
			 0);
		break;
	case SC_ERROR_EBUSY:
		raw_send(raw, q.msg_id, q.cmd, VFU_F_TYPE_REPLY | VFU_F_ERROR,
			 EBUSY, NULL, 0, NULL, 0);
		break;
	case SC_ERROR_ZERO:
		raw_send(raw, q.msg_id, q.cmd, VFU_F_TYPE_REPLY | VFU_F_ERROR,
			 0, NULL, 0, NULL, 0);
		break;
	case SC_ERROR_WITH_PAYLOAD:
		raw_send(raw, q.msg_id, q.cmd, VFU_F_TYPE_REPLY | VFU_F_ERROR,
			 5000, rep, 20, NULL, 0);
		break;
	case SC_GARBAGE_TYPE:
		raw_send(raw, q.msg_id, q.cmd, 0x7, 0, rep, 20, NULL, 0);
		break;
	case SC_MMAP_NO_FD: {
		struct vfu_region_info ri = {
			.argsz = 32,
			.flags = VFU_REGION_F_READ | VFU_REGION_F_MMAP,
			.index = 0, .size = 4096,
		};

		raw_send(raw, q.msg_id, q.cmd, VFU_F_TYPE_REPLY, 0, &ri,
			 sizeof(ri), NULL, 0);
		break;
	}
	}
	return NULL;
}

/* One REGION_READ of 4 bytes against scenario sc; returns its result. */
static int hostile_read(struct hostile *h, enum scenario sc)
{
	struct responder r = { h, sc };
	pthread_t t;
	u32 v;
	int ret;

	pthread_create(&t, NULL, responder_thread, &r);
	ret = vfu_client_region_read(h->c, 0, 0, &v, 4);
	pthread_join(t, NULL);
	return ret;
}

static void expect_dead(enum scenario sc, int want, const char *needle)
{
	struct hostile *h = hostile_connect(1000, NULL);
	u32 v;

	assert_int_equal(hostile_read(h, sc), want);
	assert_int_equal(vfu_client_get_state(h->c), VFU_CLIENT_ERROR);
	if (!strstr(vfu_client_error_string(h->c), needle))
		fail_msg("reason '%s' lacks '%s'",
			 vfu_client_error_string(h->c), needle);
	assert_int_equal(h->dead_calls, 1);
	assert_int_equal(h->dead_err, want);
	/* later requests fail at once with the same error */
	assert_int_equal(vfu_client_region_read(h->c, 0, 0, &v, 4), want);
	hostile_close(h);
}

static void test_hostile_peer_closes_mid_request(void **state)
{
	(void)state;
	expect_dead(SC_CLOSE, -ECONNRESET, "closed");
}

static void test_hostile_never_answers_times_out(void **state)
{
	struct hostile *h = hostile_connect(200, NULL);
	u64 t0 = mono_ms();

	(void)state;
	assert_int_equal(hostile_read(h, SC_SILENT), -ETIMEDOUT);
	/*
	 * Not before the timeout (behaviour). No upper bound: how late the
	 * thread wakes is the machine's load, and -ETIMEDOUT says it did.
	 */
	assert_true(mono_ms() - t0 >= 190);
	assert_non_null(strstr(vfu_client_error_string(h->c), "no reply"));
	hostile_close(h);
}

static void test_hostile_wrong_id(void **state)
{
	(void)state;
	expect_dead(SC_WRONG_ID, -EPROTO, "matches no request");
}

static void test_hostile_wrong_size(void **state)
{
	(void)state;
	expect_dead(SC_WRONG_SIZE, -EPROTO, "REGION_READ");
}

static void test_hostile_truncated_header(void **state)
{
	(void)state;
	expect_dead(SC_TRUNC_HDR, -EPROTO, "truncated header");
}

static void test_hostile_size_4gib(void **state)
{
	(void)state;
	expect_dead(SC_HUGE_SIZE, -EPROTO, "above limit");
}

static void test_hostile_too_many_fds(void **state)
{
	(void)state;
	expect_dead(SC_TOO_MANY_FDS, -EPROTO, "fds");
}

static void test_hostile_unknown_cmd_in_reply(void **state)
{
	(void)state;
	expect_dead(SC_UNKNOWN_CMD, -EPROTO, "UNKNOWN");
}

static void test_hostile_bad_type(void **state)
{
	(void)state;
	expect_dead(SC_GARBAGE_TYPE, -EPROTO, "type");
}

static void test_hostile_error_flag_keeps_connection(void **state)
{
	struct hostile *h = hostile_connect(1000, NULL);

	(void)state;
	assert_int_equal(hostile_read(h, SC_ERROR_EBUSY), -EBUSY);
	assert_int_equal(hostile_read(h, SC_ERROR_ZERO), -EIO);
	assert_int_equal(hostile_read(h, SC_ERROR_WITH_PAYLOAD), -EIO);
	assert_int_equal(vfu_client_get_state(h->c), VFU_CLIENT_CONNECTED);
	assert_int_equal(h->dead_calls, 0);
	hostile_close(h);
}

/* ---- posted writes ------------------------------------------------------------ */

/* A posted write goes out NO_REPLY with its data; the read sent after it
 * comes after it on the socket; nothing waits for a reply. */
static void test_posted_write_goes_out_no_reply_in_order(void **state)
{
	struct hostile *h = hostile_connect(1000, NULL);
	struct responder r = { h, SC_ERROR_EBUSY };
	u8 req[64];
	u32 v = 0x11223344, got;
	struct vfu_region_access ra;
	struct vfu_hdr q;
	pthread_t t;

	(void)state;
	assert_true(vfu_client_posting(h->c));
	assert_int_equal(vfu_client_region_write_posted(h->c, 0, 0x40, &v, 4),
			 0);
	q = raw_recv(h->raw, req, sizeof(req));
	assert_int_equal(q.cmd, VFU_CMD_REGION_WRITE);
	assert_int_equal(q.flags, VFU_F_TYPE_COMMAND | VFU_F_NO_REPLY);
	assert_int_equal(q.size, 16 + sizeof(ra) + 4);
	memcpy(&ra, req, sizeof(ra));
	memcpy(&got, req + sizeof(ra), 4);
	assert_int_equal(ra.offset, 0x40);
	assert_int_equal(ra.region, 0);
	assert_int_equal(ra.count, 4);
	assert_int_equal(got, v);

	/* Two more posted, then a read: the read is the third message after. */
	v++;
	assert_int_equal(vfu_client_region_write_posted(h->c, 0, 0x44, &v, 4),
			 0);
	v++;
	assert_int_equal(vfu_client_region_write_posted(h->c, 0, 0x48, &v, 4),
			 0);
	q = raw_recv(h->raw, req, sizeof(req));
	assert_true(q.flags & VFU_F_NO_REPLY);
	memcpy(&ra, req, sizeof(ra));
	assert_int_equal(ra.offset, 0x44);
	q = raw_recv(h->raw, req, sizeof(req));
	memcpy(&ra, req, sizeof(ra));
	assert_int_equal(ra.offset, 0x48);
	/* The responder takes the read and answers it with an error. */
	pthread_create(&t, NULL, responder_thread, &r);
	assert_int_equal(vfu_client_region_read(h->c, 0, 0, &got, 4), -EBUSY);
	pthread_join(t, NULL);
	assert_int_equal(vfu_client_get_state(h->c), VFU_CLIENT_CONNECTED);
	assert_true(vfu_client_posting(h->c));
	hostile_close(h);
}

/* A server that answers a NO_REPLY write: the reply is dropped, the
 * connection lives, later writes wait for their replies. */
static void test_posted_write_answered_anyway_stops_posting(void **state)
{
	struct hostile *h = hostile_connect(1000, NULL);
	struct responder r = { h, SC_ERROR_EBUSY };
	struct vfu_region_access ra = { 0 };
	u8 req[64], rep[64];
	u32 v = 7, got;
	struct vfu_hdr q;
	pthread_t t;

	(void)state;
	assert_int_equal(vfu_client_region_write_posted(h->c, 0, 0x40, &v, 4),
			 0);
	q = raw_recv(h->raw, req, sizeof(req));
	assert_true(q.flags & VFU_F_NO_REPLY);
	memcpy(rep, req, sizeof(ra));
	raw_send(h->raw, q.msg_id, q.cmd, VFU_F_TYPE_REPLY, 0, rep,
		 sizeof(ra), NULL, 0);
	/* A read behind it: its reader meets the stray reply first. */
	pthread_create(&t, NULL, responder_thread, &r);
	assert_int_equal(vfu_client_region_read(h->c, 0, 0, &got, 4), -EBUSY);
	pthread_join(t, NULL);
	assert_int_equal(vfu_client_get_state(h->c), VFU_CLIENT_CONNECTED);
	assert_int_equal(h->dead_calls, 0);
	assert_false(vfu_client_posting(h->c));

	/* Posting is off: the next "posted" write waits for its reply. */
	r.sc = SC_ERROR_EBUSY;
	pthread_create(&t, NULL, responder_thread, &r);
	assert_int_equal(vfu_client_region_write_posted(h->c, 0, 0x40, &v, 4),
			 -EBUSY);
	pthread_join(t, NULL);
	assert_int_equal(vfu_client_get_state(h->c), VFU_CLIENT_CONNECTED);
	hostile_close(h);
}

/* Our server: posted writes land in order, no reply comes, it counts them. */
static void test_posted_writes_to_our_server(void **state)
{
	struct setup *s = setup_with(NULL, NULL);
	u32 i, v, r = 0;

	(void)state;
	for (i = 0; i < 100; i++) {
		v = 0x1000 + i;
		assert_int_equal(vfu_client_region_write_posted(s->c, 0, 0x20,
								&v, 4), 0);
	}
	assert_int_equal(vfu_client_region_read(s->c, 0, 0x20, &r, 4), 0);
	assert_int_equal(r, 0x1000 + 99);
	assert_int_equal(vfu_server_no_reply_count(s->dev->srv), 100);
	assert_true(vfu_client_posting(s->c));
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_CONNECTED);
	teardown_setup(s);
}

/* Our server told to answer NO_REPLY anyway: the client stops posting. */
static void test_posted_writes_to_a_server_that_replies(void **state)
{
	struct vfu_server_options so = { .name = "replier",
					 .reply_to_no_reply = true };
	struct setup *s = setup_with(&so, NULL);
	u32 i, v, r = 0;

	(void)state;
	for (i = 0; i < 10; i++) {
		v = 0x2000 + i;
		assert_int_equal(vfu_client_region_write_posted(s->c, 0, 0x20,
								&v, 4), 0);
	}
	/* The read's reader meets the replies first and drops them. */
	assert_int_equal(vfu_client_region_read(s->c, 0, 0x20, &r, 4), 0);
	assert_int_equal(r, 0x2000 + 9);
	assert_false(vfu_client_posting(s->c));
	v = 0x3000;
	assert_int_equal(vfu_client_region_write_posted(s->c, 0, 0x20, &v, 4),
			 0);
	/* Posting may have stopped within the loop already, at the first
	 * reply the receive thread saw; never before the first write. */
	assert_true(vfu_server_no_reply_count(s->dev->srv) >= 1);
	assert_true(vfu_server_no_reply_count(s->dev->srv) <= 10);
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_CONNECTED);
	teardown_setup(s);
}

static void test_hostile_too_few_fds_region_info(void **state)
{
	struct hostile *h = hostile_connect(1000, NULL);
	struct responder r = { h, SC_MMAP_NO_FD };
	struct vfu_client_region reg;
	pthread_t t;

	(void)state;
	pthread_create(&t, NULL, responder_thread, &r);
	assert_int_equal(vfu_client_region_info(h->c, 0, &reg), -EPROTO);
	pthread_join(t, NULL);
	assert_int_equal(reg.fd, -1);
	assert_non_null(strstr(vfu_client_error_string(h->c), "MMAP without"));
	hostile_close(h);
}

struct blocked_arg {
	struct vfu_client *c;
	int ret;
};

static void *blocked_reader(void *p)
{
	struct blocked_arg *a = p;
	u32 v;

	a->ret = vfu_client_region_read(a->c, 0, 0, &v, 4);
	return NULL;
}

static void test_hostile_close_fails_all_waiters(void **state)
{
	struct hostile *h = hostile_connect(5000, NULL);
	struct blocked_arg a[4];
	pthread_t t[4];
	u8 req[64];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		a[i].c = h->c;
		pthread_create(&t[i], NULL, blocked_reader, &a[i]);
	}
	for (i = 0; i < 4; i++)
		raw_recv(h->raw, req, sizeof(req));
	close(h->raw);
	h->raw = -1;
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].ret, -ECONNRESET);
	}
	assert_int_equal(h->dead_calls, 1);
	hostile_close(h);
}

static void test_client_close_wakes_waiters(void **state)
{
	struct hostile *h = hostile_connect(5000, NULL);
	struct blocked_arg a[3];
	pthread_t t[3];
	u8 req[64];
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		a[i].c = h->c;
		pthread_create(&t[i], NULL, blocked_reader, &a[i]);
	}
	for (i = 0; i < 3; i++)
		raw_recv(h->raw, req, sizeof(req));
	/* close() waits for the callers to leave; run it beside them. */
	vfu_client_close(h->c);
	h->c = NULL;
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].ret, -ESHUTDOWN);
	}
	assert_int_equal(h->dead_calls, 0);
	hostile_close(h);
}

static void test_hostile_server_requests(void **state)
{
	struct hostile *h = hostile_connect(1000, NULL);
	struct vfu_dma_access da = { 0x1000, 8 };
	u8 rep[64];
	struct vfu_hdr r;

	(void)state;
	/* unknown server command: ENOSYS reply, connection lives on */
	raw_send(h->raw, 500, 99, VFU_F_TYPE_COMMAND, 0, &da, sizeof(da), NULL,
		 0);
	r = raw_recv(h->raw, rep, sizeof(rep));
	assert_int_equal(r.msg_id, 500);
	assert_int_equal(r.flags, VFU_F_TYPE_REPLY | VFU_F_ERROR);
	assert_int_equal(r.error_no, ENOSYS);
	/* DMA to memory never mapped: EFAULT */
	raw_send(h->raw, 501, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, 0, &da,
		 sizeof(da), NULL, 0);
	r = raw_recv(h->raw, rep, sizeof(rep));
	assert_int_equal(r.error_no, EFAULT);
	/* a count above our max_data_xfer_size: EINVAL */
	da.count = 2 << 20;
	raw_send(h->raw, 502, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, 0, &da,
		 sizeof(da), NULL, 0);
	r = raw_recv(h->raw, rep, sizeof(rep));
	assert_int_equal(r.error_no, EINVAL);
	assert_int_equal(vfu_client_get_state(h->c), VFU_CLIENT_CONNECTED);
	hostile_close(h);
}

/* ---- fault injection through the transport ops -------------------------------------- */

static ssize_t short_recvmsg(void *opaque, int fd, struct msghdr *msg,
			     int flags)
{
	struct iovec one = { msg->msg_iov[0].iov_base, 1 };
	struct iovec *saved = msg->msg_iov;
	size_t saved_len = msg->msg_iovlen;
	ssize_t r;

	(void)opaque;
	msg->msg_iov = &one;
	msg->msg_iovlen = 1;
	r = recvmsg(fd, msg, flags);
	msg->msg_iov = saved;
	msg->msg_iovlen = saved_len;
	return r;
}

static ssize_t eintr_sendmsg(void *opaque, int fd, const struct msghdr *msg,
			     int flags)
{
	int *calls = opaque;

	if ((*calls)++ % 2 == 0) {
		errno = EINTR;
		return -1;
	}
	return sendmsg(fd, msg, flags);
}

static const struct vfu_transport_ops short_ops = {
	.recvmsg = short_recvmsg,
	.sendmsg = eintr_sendmsg,
};

static void test_short_reads_and_eintr_still_work(void **state)
{
	int calls = 0;
	struct vfu_client_options co = {
		.name = "short-client",
		.transport_ops = &short_ops,
		.transport_opaque = &calls,
	};
	struct setup *s = setup_with(NULL, &co);
	struct vfu_client_region r;
	u32 v = 0x1234, x = 0;

	(void)state;
	assert_int_equal(vfu_client_region_write(s->c, 0, 4, &v, 4), 0);
	assert_int_equal(vfu_client_region_read(s->c, 0, 4, &x, 4), 0);
	assert_int_equal(x, 0x1234);
	assert_int_equal(vfu_client_region_info(s->c, 2, &r), 0);
	assert_true(r.fd >= 0);
	close(r.fd);
	assert_true(calls > 4);
	teardown_setup(s);
}

/*
 * The injectors act once armed, after connect: how many recvmsg() calls
 * the VERSION reply takes is the transport's business.
 */
static bool armed(void *opaque)
{
	return __atomic_load_n((int *)opaque, __ATOMIC_ACQUIRE);
}

static ssize_t garbage_recvmsg(void *opaque, int fd, struct msghdr *msg,
			       int flags)
{
	ssize_t r = recvmsg(fd, msg, flags);

	/* After the VERSION reply, corrupt every byte received. */
	if (r > 0 && armed(opaque))
		memset(msg->msg_iov[0].iov_base, 0xa5, r);
	return r;
}

static ssize_t closed_recvmsg(void *opaque, int fd, struct msghdr *msg,
			      int flags)
{
	if (armed(opaque))
		return 0;
	return recvmsg(fd, msg, flags);
}

static void injected(ssize_t (*fn)(void *, int, struct msghdr *, int),
		     int want)
{
	const struct vfu_transport_ops ops = {
		.recvmsg = fn,
		.sendmsg = vfu_transport_socket_ops.sendmsg,
	};
	int n = 0;
	struct vfu_client_options co = {
		.name = "inject-client",
		.transport_ops = &ops,
		.transport_opaque = &n,
		.timeout_ms = 1000,
	};
	struct setup *s = setup_with(NULL, &co);
	u32 x;

	/* Nothing is in flight: the receive thread sleeps in poll(). */
	__atomic_store_n(&n, 1, __ATOMIC_RELEASE);
	assert_int_equal(vfu_client_region_read(s->c, 0, 4, &x, 4), want);
	assert_int_equal(vfu_client_get_state(s->c), VFU_CLIENT_ERROR);
	teardown_setup(s);
}

static void test_injected_garbage_kills_connection(void **state)
{
	(void)state;
	injected(garbage_recvmsg, -EPROTO);
}

static void test_injected_closed_peer_kills_connection(void **state)
{
	(void)state;
	injected(closed_recvmsg, -ECONNRESET);
}

/* ---- a hostile client against our server ------------------------------------------------ */

static void test_server_rejects_malformed_commands(void **state)
{
	int before = fake_count_fds();
	struct dev *d = dev_create(NULL);
	static const char caps[] = "{\"capabilities\":{\"max_msg_fds\":4}}";
	u8 payload[128] = { 0 };
	struct vfu_region_access ra = { 0, 0, 4 };
	struct vfu_hdr r;
	int efd, raw;

	(void)state;
	dev_start(d);
	raw = d->sv[0];
	memcpy(payload + 4, caps, sizeof(caps));
	raw_send(raw, 0, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, payload,
		 4 + sizeof(caps), NULL, 0);
	r = raw_recv(raw, payload, sizeof(payload));
	assert_int_equal(r.flags, VFU_F_TYPE_REPLY);
	/* REGION_READ with a stray fd: EINVAL, fd closed by the server */
	efd = eventfd(0, EFD_CLOEXEC);
	raw_send(raw, 1, VFU_CMD_REGION_READ, VFU_F_TYPE_COMMAND, 0, &ra,
		 sizeof(ra), &efd, 1);
	close(efd);
	r = raw_recv(raw, payload, sizeof(payload));
	assert_int_equal(r.error_no, EINVAL);
	/* short payload */
	raw_send(raw, 2, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, &ra, 8,
		 NULL, 0);
	r = raw_recv(raw, payload, sizeof(payload));
	assert_int_equal(r.error_no, EINVAL);
	/* unknown command */
	raw_send(raw, 3, 77, VFU_F_TYPE_COMMAND, 0, &ra, 16, NULL, 0);
	r = raw_recv(raw, payload, sizeof(payload));
	assert_int_equal(r.error_no, ENOSYS);
	/* a second VERSION */
	raw_send(raw, 4, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, payload, 4,
		 NULL, 0);
	r = raw_recv(raw, payload, sizeof(payload));
	assert_int_equal(r.error_no, EINVAL);
	/* NO_REPLY: nothing comes back; the next one is answered */
	raw_send(raw, 5, VFU_CMD_REGION_READ,
		 VFU_F_TYPE_COMMAND | VFU_F_NO_REPLY, 0, &ra, sizeof(ra),
		 NULL, 0);
	raw_send(raw, 6, VFU_CMD_REGION_READ, VFU_F_TYPE_COMMAND, 0, &ra,
		 sizeof(ra), NULL, 0);
	r = raw_recv(raw, payload, sizeof(payload));
	assert_int_equal(r.msg_id, 6);
	/* garbage header: the server drops the connection */
	memset(payload, 0xff, 16);
	assert_int_equal(write(raw, payload, 16), 16);
	pthread_join(d->thread, NULL);
	assert_true(d->run_ret < 0);
	close(raw);
	vfu_server_destroy(d->srv);
	munmap(d->bar2, BAR2_SIZE);
	close(d->bar2_fd);
	free(d);
	assert_int_equal(fake_count_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_and_device_info),
		cmocka_unit_test(test_region_info_requery_caps_and_fd),
		cmocka_unit_test(test_region_read_write_and_error_reply),
		cmocka_unit_test(test_region_access_split_above_max_xfer),
		cmocka_unit_test(test_irq_info_and_set_irqs_chunked),
		cmocka_unit_test(test_io_fds_and_reset),
		cmocka_unit_test(test_dma_map_fd_shared_both_ways),
		cmocka_unit_test(test_dma_messages_twin_from_other_thread),
		cmocka_unit_test(test_dma_fd_refused_goes_by_messages),
		cmocka_unit_test(test_concurrent_reads_matched),
		cmocka_unit_test(test_dma_messages_while_waiters_blocked_twin),
		cmocka_unit_test(test_dma_messages_while_waiters_blocked_main_socket),
		cmocka_unit_test(test_listening_socket_and_reconnect),
		cmocka_unit_test(test_server_disconnect_fails_client),
		cmocka_unit_test(test_hostile_peer_closes_mid_request),
		cmocka_unit_test(test_hostile_never_answers_times_out),
		cmocka_unit_test(test_hostile_wrong_id),
		cmocka_unit_test(test_hostile_wrong_size),
		cmocka_unit_test(test_hostile_truncated_header),
		cmocka_unit_test(test_hostile_size_4gib),
		cmocka_unit_test(test_hostile_too_many_fds),
		cmocka_unit_test(test_hostile_unknown_cmd_in_reply),
		cmocka_unit_test(test_hostile_bad_type),
		cmocka_unit_test(test_hostile_error_flag_keeps_connection),
		cmocka_unit_test(test_hostile_too_few_fds_region_info),
		cmocka_unit_test(test_posted_write_goes_out_no_reply_in_order),
		cmocka_unit_test(test_posted_writes_to_our_server),
		cmocka_unit_test(test_posted_writes_to_a_server_that_replies),
		cmocka_unit_test(test_posted_write_answered_anyway_stops_posting),
		cmocka_unit_test(test_hostile_close_fails_all_waiters),
		cmocka_unit_test(test_client_close_wakes_waiters),
		cmocka_unit_test(test_hostile_server_requests),
		cmocka_unit_test(test_short_reads_and_eintr_still_work),
		cmocka_unit_test(test_injected_garbage_kills_connection),
		cmocka_unit_test(test_injected_closed_peer_kills_connection),
		cmocka_unit_test(test_server_rejects_malformed_commands),
	};

	/* Errors are expected here: they are logged, one line each. */
	log_set_level(getenv("VFU_TEST_LOG") ? LOG_TRACE : LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
