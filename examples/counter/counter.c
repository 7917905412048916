// SPDX-License-Identifier: MIT
/*
 * counter: the smallest useful device on uvmm's vfio-user server library,
 * built from the installed files alone (see Makefile here):
 *
 *	cc counter.c $(pkg-config --cflags --libs uvmm-vfio-user) -o counter
 *	./counter /tmp/counter.sock &
 *	uvmm --device vfio-user,socket=/tmp/counter.sock,wait=5 GUEST
 *
 * A PCI function 5555:c0de with one 4 KiB memory BAR: the register at 0
 * reads how many times it has been read, the one at 4 keeps what is
 * written to it. The library negotiates and checks every message; the
 * device only answers region accesses, its config space included.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vfio-user/server.h>

#define CFG_SIZE	256
#define BAR0_SIZE	4096

struct counter {
	u8 cfg[CFG_SIZE];
	u32 bar0;		/* the BAR as the guest last wrote it */
	u32 reads, scratch;
};

/* Config space: IDs read-only, command register and BAR0 writable. */
static int cfg_access(struct counter *c, u64 off, u8 *buf, u32 count,
		      bool is_write)
{
	if (off > CFG_SIZE || count > CFG_SIZE - off)
		return -EINVAL;
	if (!is_write) {
		memcpy(buf, c->cfg + off, count);
		return 0;
	}
	if (off == 0x04 && count == 2)
		memcpy(c->cfg + 0x04, buf, 2);
	if (off == 0x10 && count == 4) {
		/* Size probing: only the address bits above the size stick. */
		memcpy(&c->bar0, buf, 4);
		c->bar0 &= ~(u32)(BAR0_SIZE - 1);
		memcpy(c->cfg + 0x10, &c->bar0, 4);
	}
	return 0;
}

static int bar0_access(struct counter *c, u64 off, u8 *buf, u32 count,
		       bool is_write)
{
	u32 v = 0;

	if (count != 4 || (off != 0 && off != 4))
		return -EINVAL;	/* the client's guest reads all-ones */
	if (is_write) {
		memcpy(&v, buf, 4);
		if (off == 4)
			c->scratch = v;
		return 0;
	}
	v = off == 0 ? ++c->reads : c->scratch;
	memcpy(buf, &v, 4);
	return 0;
}

static int access_fn(void *opaque, u32 region, u64 off, void *buf, u32 count,
		     bool is_write)
{
	struct counter *c = opaque;

	if (region == VFU_PCI_CONFIG)
		return cfg_access(c, off, buf, count, is_write);
	return bar0_access(c, off, buf, count, is_write);
}

static int reset_fn(void *opaque)
{
	struct counter *c = opaque;

	c->reads = c->scratch = 0;
	return 0;
}

static const struct vfu_server_ops ops = { .reset = reset_fn };

int main(int argc, char **argv)
{
	struct counter c = { 0 };
	struct vfu_server_options opts = {
		.name = "counter", .ops = &ops, .opaque = &c,
	};
	struct vfu_server_region bar0 = {
		.size = BAR0_SIZE,
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = access_fn,
		.fd = -1,
	};
	struct vfu_server_region cfg = bar0;
	struct vfu_server *srv;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: counter SOCKET\n");
		return 2;
	}
	/* 5555:c0de, class ff0000 (unclassified), header type 0. */
	c.cfg[0x00] = 0x55;
	c.cfg[0x01] = 0x55;
	c.cfg[0x02] = 0xde;
	c.cfg[0x03] = 0xc0;
	c.cfg[0x0b] = 0xff;
	cfg.size = CFG_SIZE;
	ret = vfu_server_create(&opts, &srv);
	if (!ret)
		ret = vfu_server_setup_region(srv, VFU_PCI_BAR0, &bar0);
	if (!ret)
		ret = vfu_server_setup_region(srv, VFU_PCI_CONFIG, &cfg);
	if (!ret)
		ret = vfu_server_listen(srv, argv[1]);
	if (ret) {
		fprintf(stderr, "counter: %s: %s\n", argv[1], strerror(-ret));
		vfu_server_destroy(srv);
		return 1;
	}
	fprintf(stderr, "counter: listening on %s\n", argv[1]);
	/* One client at a time, for ever (stop it with a signal). */
	for (;;) {
		ret = vfu_server_accept(srv);
		if (ret) {
			fprintf(stderr, "counter: accept: %s\n", strerror(-ret));
			continue;
		}
		ret = vfu_server_run(srv);
		fprintf(stderr, "counter: client gone (%s), %u reads\n",
			ret ? strerror(-ret) : "disconnected", c.reads);
	}
}
