// SPDX-License-Identifier: MIT
/*
 * The NVMe controller model (nvme/ctrl.c) driven by a hostile guest:
 * register writes and reads, submission queue entries and PRP lists
 * written into a small guest memory, processing passes and resets, in
 * any order. The controller must never touch guest memory outside what
 * the ops give (ASan traps a copy past the heap block), never ask for a
 * DMA larger than a command can move, never raise a vector it does not
 * have, and never grow or shrink the namespace's file.
 *
 * With config bit 3 data commands go out through ops->submit (as in
 * uvmm-nvme's I/O threads) and come back, one per process operation
 * before the pass, newest first (bit 4: oldest first), so completions
 * arrive out of order and resets and queue deletions meet I/O in
 * flight. Each io must stay inside guest memory, and no more may be in
 * flight than the completion queues have room for.
 *
 * Input: [u8 config] then operations, each [u8 op][fields...]:
 *   0 mmio write: u16 off, u8 len (1/2/4/8 by its low 2 bits), u64 value
 *   1 mmio read:  u16 off, u8 len
 *   2 SQ entry:   u16 slot (64-byte units into guest memory), 64 bytes
 *   3 u64 store:  u16 slot (8-byte units), u64 (PRP list entries)
 *   4 process
 *   5 reset (power-on state)
 *   6 bring-up:   admin queues at their usual place, CC.EN
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "nvme/ctrl.h"

#define MEM_BASE	0x100000ull
#define MEM_SIZE	(256 * 1024)
#define DISK_SIZE	(64 * 1024)
#define NR_VECTORS	3

static int disk_fd = -1;

static bool in_mem(u64 addr, u64 len)
{
	return addr >= MEM_BASE && addr - MEM_BASE <= MEM_SIZE &&
	       len <= MEM_SIZE - (addr - MEM_BASE);
}

#define MAX_HELD	32	/* more than 2 I/O CQs of 8 entries can hold */

struct fenv {
	u8 *mem;		/* its own heap block: ASan sees overruns */
	bool no_ptr;
	bool fifo;
	struct nvme_ctrl *c;
	struct nvme_io *held[MAX_HELD];
	unsigned int nr_held;
};

static void *f_dma_ptr(void *opaque, u64 addr, u64 len, bool write)
{
	struct fenv *e = opaque;

	(void)write;
	FUZZ_CHECK(len <= NVME_MAX_XFER);
	if (e->no_ptr || !in_mem(addr, len))
		return NULL;
	return e->mem + (addr - MEM_BASE);
}

static int f_dma_rw(void *opaque, u64 addr, void *buf, u64 len, bool write)
{
	struct fenv *e = opaque;

	FUZZ_CHECK(len <= NVME_MAX_XFER);
	if (!in_mem(addr, len))
		return -EFAULT;
	if (write)
		memcpy(e->mem + (addr - MEM_BASE), buf, len);
	else
		memcpy(buf, e->mem + (addr - MEM_BASE), len);
	return 0;
}

static void f_irq(void *opaque, u16 vector)
{
	(void)opaque;
	FUZZ_CHECK(vector < NR_VECTORS);
}

static void f_submit(void *opaque, struct nvme_io *io)
{
	struct fenv *e = opaque;
	u64 total = 0;
	unsigned int i;

	FUZZ_CHECK(e->nr_held < MAX_HELD);
	FUZZ_CHECK(io->nr_iov <= NVME_IO_MAX_IOV);
	for (i = 0; i < io->nr_iov; i++) {
		u8 *b = io->iov[i].iov_base;

		FUZZ_CHECK(b >= e->mem && b - e->mem <= MEM_SIZE &&
			   io->iov[i].iov_len <= (size_t)(MEM_SIZE - (b - e->mem)));
		total += io->iov[i].iov_len;
	}
	FUZZ_CHECK(io->op == NVME_IO_FLUSH || total == io->len);
	FUZZ_CHECK(io->off + io->len <= DISK_SIZE);
	e->held[e->nr_held++] = io;
}

/* One held io runs and comes back: the newest, or with fifo the oldest. */
static void finish_one(struct fenv *e)
{
	struct nvme_io *io;

	if (!e->nr_held)
		return;
	if (e->fifo) {
		io = e->held[0];
		memmove(e->held, e->held + 1, --e->nr_held * sizeof(io));
	} else {
		io = e->held[--e->nr_held];
	}
	nvme_io_run(io);
	nvme_ctrl_io_done(e->c, io);
}

static void f_drain(void *opaque)
{
	struct fenv *e = opaque;

	while (e->nr_held)
		finish_one(e);
}

static const struct nvme_ctrl_ops f_ops = {
	.dma_ptr = f_dma_ptr,
	.dma_rw = f_dma_rw,
	.irq = f_irq,
};

static const struct nvme_ctrl_ops f_ops_async = {
	.dma_ptr = f_dma_ptr,
	.dma_rw = f_dma_rw,
	.irq = f_irq,
	.submit = f_submit,
	.drain = f_drain,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERR);
	disk_fd = memfd_create("fuzz-nvme", MFD_CLOEXEC);
	if (disk_fd < 0 || ftruncate(disk_fd, DISK_SIZE))
		abort();
	return 0;
}

static bool take(const u8 **p, size_t *left, void *out, size_t n)
{
	if (*left < n)
		return false;
	memcpy(out, *p, n);
	*p += n;
	*left -= n;
	return true;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fenv e = { 0 };
	struct nvme_ctrl_config cfg = {
		.fd = disk_fd, .size = DISK_SIZE, .max_ioq = 2,
		.queue_depth = 8, .nr_vectors = NR_VECTORS,
		.serial = "FUZZ", .ops = &f_ops,
	};
	struct nvme_ctrl *c;
	struct stat st;
	u8 conf, op, len, sqe[64];
	u16 off;
	u64 val;

	if (!take(&data, &size, &conf, 1))
		return 0;
	cfg.block_size = conf & 1 ? 4096 : 512;
	cfg.readonly = conf & 2;
	e.no_ptr = conf & 4;
	if (conf & 8)
		cfg.ops = &f_ops_async;
	e.fifo = conf & 16;
	e.mem = calloc(1, MEM_SIZE);
	if (!e.mem)
		return 0;
	cfg.opaque = &e;
	FUZZ_CHECK(nvme_ctrl_create(&cfg, &c) == 0);
	e.c = c;
	while (take(&data, &size, &op, 1)) {
		switch (op % 7) {
		case 0:
			if (!take(&data, &size, &off, 2) ||
			    !take(&data, &size, &len, 1) ||
			    !take(&data, &size, &val, 8))
				goto out;
			nvme_ctrl_mmio_write(c, off, val, 1u << (len & 3));
			break;
		case 1:
			if (!take(&data, &size, &off, 2) ||
			    !take(&data, &size, &len, 1))
				goto out;
			nvme_ctrl_mmio_read(c, off, 1u << (len & 3));
			break;
		case 2:
			if (!take(&data, &size, &off, 2) ||
			    !take(&data, &size, sqe, sizeof(sqe)))
				goto out;
			memcpy(e.mem + (off % (MEM_SIZE / 64)) * 64, sqe, 64);
			break;
		case 3:
			if (!take(&data, &size, &off, 2) ||
			    !take(&data, &size, &val, 8))
				goto out;
			memcpy(e.mem + (off % (MEM_SIZE / 8)) * 8, &val, 8);
			break;
		case 4:
			finish_one(&e);
			nvme_ctrl_process(c);
			break;
		case 5:
			nvme_ctrl_reset(c);
			break;
		case 6:
			/* ASQ at the start of memory, ACQ a page later. */
			nvme_ctrl_mmio_write(c, NVME_REG_AQA, 0x00070007, 4);
			nvme_ctrl_mmio_write(c, NVME_REG_ASQ, MEM_BASE, 8);
			nvme_ctrl_mmio_write(c, NVME_REG_ACQ, MEM_BASE + 4096, 8);
			nvme_ctrl_mmio_write(c, NVME_REG_CC,
					     1 | 6u << 16 | 4u << 20, 4);
			break;
		}
	}
out:
	nvme_ctrl_process(c);
	nvme_ctrl_destroy(c);	/* drains what is still held */
	FUZZ_CHECK(!e.nr_held);
	free(e.mem);
	/* Nothing wrote past the namespace's end. */
	FUZZ_CHECK(!fstat(disk_fd, &st) && st.st_size == DISK_SIZE);
	return 0;
}
