// SPDX-License-Identifier: MIT
/*
 * The NVMe controller model (nvme/ctrl.c) driven the way a driver does:
 * queues in a fake guest memory, doorbells through BAR0 writes, the
 * namespace in a memfd read back with pread.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvme/ctrl.h"

#define MEM_BASE	0x100000ull	/* guest address of mem[0] */
#define MEM_SIZE	(4 * 1024 * 1024)
#define ASQ		(MEM_BASE + 0x0000)
#define ACQ		(MEM_BASE + 0x1000)
#define IOSQ		(MEM_BASE + 0x2000)
#define IOCQ		(MEM_BASE + 0x3000)
#define DBS		(MEM_BASE + 0x4000)
#define EIS		(MEM_BASE + 0x5000)
#define LIST		(MEM_BASE + 0x6000)	/* PRP list pages */
#define DATA		(MEM_BASE + 0x10000)
#define DISK_SIZE	(1024 * 1024)
#define QDEPTH		16

struct env {
	u8 *mem;
	int fd;
	bool no_ptr;		/* force the dma_rw path */
	unsigned int irqs[NVME_MAX_IOQ + 1];
	struct nvme_ctrl *c;
	u32 sq_tail[2], cq_head[2], sq_size[2], cq_size[2];
	bool phase[2];
	u16 cid;
	bool readonly;
	u32 block_size;
	/* With t_ops_async: submitted ios, run when the test says. */
	struct nvme_io *held[QDEPTH];
	unsigned int nr_held, drains;
};

static void *mem_at(struct env *e, u64 addr)
{
	return e->mem + (addr - MEM_BASE);
}

static bool in_mem(u64 addr, u64 len)
{
	return addr >= MEM_BASE && addr - MEM_BASE <= MEM_SIZE &&
	       len <= MEM_SIZE - (addr - MEM_BASE);
}

static void *t_dma_ptr(void *opaque, u64 addr, u64 len, bool write)
{
	struct env *e = opaque;

	(void)write;
	if (e->no_ptr || !in_mem(addr, len))
		return NULL;
	return mem_at(e, addr);
}

static int t_dma_rw(void *opaque, u64 addr, void *buf, u64 len, bool write)
{
	struct env *e = opaque;

	if (!in_mem(addr, len))
		return -EFAULT;
	if (write)
		memcpy(mem_at(e, addr), buf, len);
	else
		memcpy(buf, mem_at(e, addr), len);
	return 0;
}

static void t_irq(void *opaque, u16 vector)
{
	struct env *e = opaque;

	assert_true(vector <= NVME_MAX_IOQ);
	e->irqs[vector]++;
}

static const struct nvme_ctrl_ops t_ops = {
	.dma_ptr = t_dma_ptr,
	.dma_rw = t_dma_rw,
	.irq = t_irq,
};

static void t_submit(void *opaque, struct nvme_io *io)
{
	struct env *e = opaque;

	assert_true(e->nr_held < QDEPTH);
	e->held[e->nr_held++] = io;
}

/* Runs held io i and hands it back, as an I/O thread and the loop would. */
static void finish(struct env *e, unsigned int i)
{
	struct nvme_io *io = e->held[i];

	assert_true(i < e->nr_held);
	e->held[i] = e->held[--e->nr_held];
	nvme_io_run(io);
	nvme_ctrl_io_done(e->c, io);
}

static void t_drain(void *opaque)
{
	struct env *e = opaque;

	e->drains++;
	while (e->nr_held)
		finish(e, 0);
}

static const struct nvme_ctrl_ops t_ops_async = {
	.dma_ptr = t_dma_ptr,
	.dma_rw = t_dma_rw,
	.irq = t_irq,
	.submit = t_submit,
	.drain = t_drain,
};

static bool env_read_nowait;	/* the next env_new_ops() sets it */

static struct env *env_new_ops(u32 block_size, bool readonly,
			       const struct nvme_ctrl_ops *ops)
{
	struct env *e = calloc(1, sizeof(*e));
	struct nvme_ctrl_config cfg = {
		.size = DISK_SIZE, .block_size = block_size,
		.readonly = readonly, .max_ioq = 4, .queue_depth = QDEPTH,
		.nr_vectors = 5, .serial = "UNIT0001", .vid = 0x5555,
		.ssvid = 0x5555, .ops = ops,
	};

	assert_non_null(e);
	e->mem = calloc(1, MEM_SIZE);
	assert_non_null(e->mem);
	e->fd = memfd_create("nvme-test", MFD_CLOEXEC);
	assert_true(e->fd >= 0);
	assert_int_equal(ftruncate(e->fd, DISK_SIZE), 0);
	cfg.fd = e->fd;
	cfg.opaque = e;
	cfg.read_nowait = env_read_nowait;
	e->block_size = block_size;
	e->readonly = readonly;
	assert_int_equal(nvme_ctrl_create(&cfg, &e->c), 0);
	return e;
}

static struct env *env_new(u32 block_size, bool readonly)
{
	return env_new_ops(block_size, readonly, &t_ops);
}

static void env_free(struct env *e)
{
	nvme_ctrl_destroy(e->c);
	close(e->fd);
	free(e->mem);
	free(e);
}

static u32 rd32(struct env *e, u64 off)
{
	return (u32)nvme_ctrl_mmio_read(e->c, off, 4);
}

static bool wr32(struct env *e, u64 off, u32 v)
{
	return nvme_ctrl_mmio_write(e->c, off, v, 4);
}

static void enable(struct env *e, u32 asize, u32 csize)
{
	wr32(e, NVME_REG_AQA, (csize - 1) << 16 | (asize - 1));
	nvme_ctrl_mmio_write(e->c, NVME_REG_ASQ, ASQ, 8);
	nvme_ctrl_mmio_write(e->c, NVME_REG_ACQ, ACQ, 8);
	wr32(e, NVME_REG_CC, NVME_CC_EN | 6u << 16 | 4u << 20);
	assert_int_equal(rd32(e, NVME_REG_CSTS), NVME_CSTS_RDY);
	memset(e->sq_tail, 0, sizeof(e->sq_tail));
	memset(e->cq_head, 0, sizeof(e->cq_head));
	e->sq_size[0] = asize;
	e->cq_size[0] = csize;
	e->phase[0] = e->phase[1] = true;
}

/* Queue one command on queue q (0 or 1) without ringing. */
static u16 queue_cmd(struct env *e, int q, struct nvme_sqe *sqe)
{
	u64 base = q ? IOSQ : ASQ;

	sqe->cdw0 = (sqe->cdw0 & 0xffff) | (u32)++e->cid << 16;
	memcpy(mem_at(e, base + e->sq_tail[q] * 64), sqe, 64);
	e->sq_tail[q] = (e->sq_tail[q] + 1) % e->sq_size[q];
	return e->cid;
}

static void ring(struct env *e, int q)
{
	wr32(e, NVME_DOORBELL_BASE + 8 * q, e->sq_tail[q]);
}

/* The next completion on CQ q, or false if none is posted. */
static bool reap(struct env *e, int q, struct nvme_cqe *cqe)
{
	u64 base = q ? IOCQ : ACQ;

	memcpy(cqe, mem_at(e, base + e->cq_head[q] * 16), 16);
	if ((cqe->status & 1) != e->phase[q])
		return false;
	if (++e->cq_head[q] == e->cq_size[q]) {
		e->cq_head[q] = 0;
		e->phase[q] = !e->phase[q];
	}
	wr32(e, NVME_DOORBELL_BASE + 8 * q + 4, e->cq_head[q]);
	return true;
}

/* Status as NVME_SC(): SCT << 8 | SC. */
static u16 status_of(const struct nvme_cqe *cqe)
{
	return (cqe->status >> 1) & 0x7ff;
}

static u16 submit(struct env *e, int q, struct nvme_sqe *sqe, u32 *dw0)
{
	struct nvme_cqe cqe;
	u16 cid = queue_cmd(e, q, sqe);

	ring(e, q);
	nvme_ctrl_process(e->c);
	assert_true(reap(e, q, &cqe));
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(cqe.sqid, q);
	assert_int_equal(cqe.sqhd, e->sq_tail[q]);
	if (dw0)
		*dw0 = cqe.dw0;
	if (status_of(&cqe))
		assert_true(cqe.status & (NVME_STATUS_DNR << 1));
	return status_of(&cqe);
}

static u16 admin(struct env *e, struct nvme_sqe *sqe, u32 *dw0)
{
	return submit(e, 0, sqe, dw0);
}

static u16 create_cq(struct env *e, u16 qid, u32 size, u64 base, u32 flags)
{
	struct nvme_sqe s = {
		.cdw0 = NVME_ADM_CREATE_CQ, .prp1 = base,
		.cdw10 = (size - 1) << 16 | qid, .cdw11 = flags,
	};

	return admin(e, &s, NULL);
}

static u16 create_sq(struct env *e, u16 qid, u32 size, u64 base, u16 cqid)
{
	struct nvme_sqe s = {
		.cdw0 = NVME_ADM_CREATE_SQ, .prp1 = base,
		.cdw10 = (size - 1) << 16 | qid, .cdw11 = (u32)cqid << 16 | 1,
	};

	return admin(e, &s, NULL);
}

/* Admin queue plus I/O pair 1 with vector 1. */
static struct env *ready_env_ops(u32 bs, bool ro,
				 const struct nvme_ctrl_ops *ops)
{
	struct env *e = env_new_ops(bs, ro, ops);

	enable(e, 8, 8);
	assert_int_equal(create_cq(e, 1, QDEPTH, IOCQ, 3 | 1u << 16), 0);
	assert_int_equal(create_sq(e, 1, QDEPTH, IOSQ, 1), 0);
	e->sq_size[1] = e->cq_size[1] = QDEPTH;
	return e;
}

static struct env *ready_env(u32 bs, bool ro)
{
	return ready_env_ops(bs, ro, &t_ops);
}

static u16 rw(struct env *e, u8 opc, u64 slba, u32 nlb, u64 prp1, u64 prp2)
{
	struct nvme_sqe s = {
		.cdw0 = opc, .nsid = 1, .prp1 = prp1, .prp2 = prp2,
		.cdw10 = (u32)slba, .cdw11 = (u32)(slba >> 32),
		.cdw12 = nlb - 1,
	};

	return submit(e, 1, &s, NULL);
}

static void fill(u8 *p, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 7 + (i >> 8));
}

/* ---- registers ------------------------------------------------------------ */

static void test_registers(void **state)
{
	struct env *e = env_new(512, false);
	u64 cap = nvme_ctrl_mmio_read(e->c, NVME_REG_CAP, 8);

	(void)state;
	assert_int_equal(cap & 0xffff, QDEPTH - 1);		/* MQES */
	assert_true(cap & 1ull << 16);				/* CQR */
	assert_int_equal((cap >> 32) & 0xf, 0);			/* DSTRD */
	assert_true(cap & 1ull << 37);				/* CSS NVM */
	assert_int_equal((cap >> 48) & 0xff, 0);		/* MPS 4K */
	assert_int_equal(rd32(e, NVME_REG_VS), 0x00010400);
	assert_int_equal(nvme_ctrl_mmio_read(e->c, NVME_REG_VS + 2, 2), 1);
	assert_int_equal(rd32(e, NVME_REG_CSTS), 0);

	/* INTMS sets, INTMC clears, both read the mask. */
	wr32(e, NVME_REG_INTMS, 1);
	assert_int_equal(rd32(e, NVME_REG_INTMC), 1);
	wr32(e, NVME_REG_INTMC, 1);
	assert_int_equal(rd32(e, NVME_REG_INTMS), 0);

	/* ASQ's reserved low bits read 0; AQA is fixed while enabled. */
	nvme_ctrl_mmio_write(e->c, NVME_REG_ASQ, ASQ | 0xfff, 8);
	assert_int_equal(nvme_ctrl_mmio_read(e->c, NVME_REG_ASQ, 8), ASQ);
	enable(e, 4, 4);
	wr32(e, NVME_REG_AQA, 0x00070007);
	assert_int_equal(rd32(e, NVME_REG_AQA), 0x00030003);
	/* A byte write to a register is dropped. */
	nvme_ctrl_mmio_write(e->c, NVME_REG_CC, 0, 1);
	assert_int_equal(rd32(e, NVME_REG_CSTS), NVME_CSTS_RDY);

	/* Shutdown: flushed and reported done. */
	wr32(e, NVME_REG_CC, rd32(e, NVME_REG_CC) | 1u << 14);
	assert_int_equal(rd32(e, NVME_REG_CSTS) & NVME_CSTS_SHST_MASK,
			 NVME_CSTS_SHST_DONE);
	/* Disable: not ready; enable again clears the shutdown state. */
	wr32(e, NVME_REG_CC, 0);
	assert_int_equal(rd32(e, NVME_REG_CSTS) & NVME_CSTS_RDY, 0);
	enable(e, 4, 4);
	assert_int_equal(rd32(e, NVME_REG_CSTS), NVME_CSTS_RDY);

	/* Out of BAR0 and odd sizes read 0 and change nothing. */
	assert_int_equal(nvme_ctrl_mmio_read(e->c, NVME_BAR0_SIZE, 4), 0);
	assert_false(nvme_ctrl_mmio_write(e->c, NVME_BAR0_SIZE - 2, ~0ull, 4));
	assert_int_equal(nvme_ctrl_mmio_read(e->c, 0, 3), 0);
	env_free(e);
}

static void test_enable_errors(void **state)
{
	struct env *e = env_new(512, false);

	(void)state;
	/* An 8 KiB page size is not offered: fatal status, not ready. */
	wr32(e, NVME_REG_AQA, 0x00030003);
	wr32(e, NVME_REG_CC, NVME_CC_EN | 1u << 7);
	assert_int_equal(rd32(e, NVME_REG_CSTS), NVME_CSTS_CFS);
	/* Disabling clears it. */
	wr32(e, NVME_REG_CC, 0);
	assert_int_equal(rd32(e, NVME_REG_CSTS), 0);
	/* One-entry admin queues. */
	wr32(e, NVME_REG_AQA, 0);
	wr32(e, NVME_REG_CC, NVME_CC_EN);
	assert_int_equal(rd32(e, NVME_REG_CSTS), NVME_CSTS_CFS);
	wr32(e, NVME_REG_CC, 0);
	/* An unknown command set. */
	wr32(e, NVME_REG_AQA, 0x00030003);
	wr32(e, NVME_REG_CC, NVME_CC_EN | 1u << 4);
	assert_int_equal(rd32(e, NVME_REG_CSTS), NVME_CSTS_CFS);
	wr32(e, NVME_REG_CC, 0);
	/* The admin SQ outside guest memory: fatal at the first command. */
	wr32(e, NVME_REG_AQA, 0x00030003);
	nvme_ctrl_mmio_write(e->c, NVME_REG_ASQ, 0x7000000000ull, 8);
	nvme_ctrl_mmio_write(e->c, NVME_REG_ACQ, ACQ, 8);
	wr32(e, NVME_REG_CC, NVME_CC_EN | 6u << 16 | 4u << 20);
	assert_true(wr32(e, NVME_DOORBELL_BASE, 1));
	assert_int_equal(nvme_ctrl_process(e->c), 0);
	assert_true(rd32(e, NVME_REG_CSTS) & NVME_CSTS_CFS);
	env_free(e);
}

/* ---- admin commands -------------------------------------------------------- */

static void test_identify(void **state)
{
	struct env *e = env_new(4096, false);
	struct nvme_sqe s = { .cdw0 = NVME_ADM_IDENTIFY, .prp1 = DATA,
			      .cdw10 = 1 };
	u8 *d = mem_at(e, DATA);
	u64 nsze;
	u32 v;

	(void)state;
	enable(e, 4, 4);
	assert_int_equal(admin(e, &s, NULL), 0);
	assert_memory_equal(d + 4, "UNIT0001            ", 20);
	assert_memory_equal(d + 24, "uvmm-nvme ", 10);
	memcpy(&v, d + 80, 4);
	assert_int_equal(v, 0x00010400);
	assert_int_equal(d[77], NVME_MDTS);
	assert_int_equal(d[512], 0x66);
	assert_int_equal(d[513], 0x44);
	assert_true(d[256 + 1] & 1);			/* OACS bit 8 */
	memcpy(&v, d + 516, 4);
	assert_int_equal(v, 1);				/* NN */

	/* Namespace 1: 1 MiB of 4 KiB blocks; an identify across pages. */
	memset(d, 0xee, 8192);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .nsid = 1,
			       .prp1 = DATA + 0x800, .prp2 = DATA + 0x1000 };
	assert_int_equal(admin(e, &s, NULL), 0);
	memcpy(&nsze, d + 0x800, 8);
	assert_int_equal(nsze, DISK_SIZE / 4096);
	memcpy(&v, d + 0x800 + 128, 4);
	assert_int_equal((v >> 16) & 0xff, 12);
	assert_int_equal(d[0x7ff], 0xee);
	assert_int_equal(d[0x1800], 0xee);		/* 4096 bytes exactly */

	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .nsid = 2,
			       .prp1 = DATA };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_NS);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .nsid = 0,
			       .prp1 = DATA, .cdw10 = 2 };
	assert_int_equal(admin(e, &s, NULL), 0);
	memcpy(&v, d, 4);
	assert_int_equal(v, 1);
	memcpy(&v, d + 4, 4);
	assert_int_equal(v, 0);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .nsid = 1,
			       .prp1 = DATA, .cdw10 = 2 };
	assert_int_equal(admin(e, &s, NULL), 0);
	memcpy(&v, d, 4);
	assert_int_equal(v, 0);				/* none above 1 */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .nsid = 1,
			       .prp1 = DATA, .cdw10 = 3 };
	assert_int_equal(admin(e, &s, NULL), 0);
	assert_int_equal(d[0], 2);
	assert_int_equal(d[1], 16);
	assert_int_equal(d[20], 0);			/* list ends */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .prp1 = DATA,
			       .cdw10 = 0x10 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	/* The NVM command set's controller data: zeros (no extra limits). */
	memset(d, 0xee, 4096);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .prp1 = DATA,
			       .cdw10 = 0x06 };
	assert_int_equal(admin(e, &s, NULL), 0);
	assert_int_equal(d[0] | d[1] | d[4095], 0);
	s.cdw11 = 2u << 24;			/* the zoned command set */
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	/* The buffer outside guest memory. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .prp1 = 0x1000,
			       .cdw10 = 1 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_DATA_XFER_ERROR);
	/* PRP1 not dword aligned. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .prp1 = DATA + 2,
			       .cdw10 = 1 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_PRP_OFFSET);
	s = (struct nvme_sqe){ .cdw0 = 0x7f };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_OPCODE);
	/* A fused command. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY | 1 << 8,
			       .prp1 = DATA, .cdw10 = 1 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	env_free(e);
}

static void test_queues(void **state)
{
	struct env *e = env_new(512, false);
	struct nvme_sqe s;

	(void)state;
	enable(e, 8, 8);
	/* Queue ids: 0, above the allowed four, in use. */
	assert_int_equal(create_cq(e, 0, 8, IOCQ, 1), NVME_SC_QID_INVALID);
	assert_int_equal(create_cq(e, 5, 8, IOCQ, 1), NVME_SC_QID_INVALID);
	assert_int_equal(create_cq(e, 1, QDEPTH + 1, IOCQ, 1),
			 NVME_SC_QUEUE_SIZE);
	assert_int_equal(create_cq(e, 1, 1, IOCQ, 1), NVME_SC_QUEUE_SIZE);
	assert_int_equal(create_cq(e, 1, 8, IOCQ, 0), NVME_SC_INVALID_FIELD);
	assert_int_equal(create_cq(e, 1, 8, IOCQ + 8, 1), NVME_SC_PRP_OFFSET);
	assert_int_equal(create_cq(e, 1, 8, IOCQ, 3 | 5u << 16),
			 NVME_SC_INVALID_VECTOR);
	assert_int_equal(create_cq(e, 1, 8, IOCQ, 3 | 4u << 16), 0);
	assert_int_equal(create_cq(e, 1, 8, IOCQ, 1), NVME_SC_QID_INVALID);

	assert_int_equal(create_sq(e, 1, 8, IOSQ, 0), NVME_SC_CQ_INVALID);
	assert_int_equal(create_sq(e, 1, 8, IOSQ, 2), NVME_SC_CQ_INVALID);
	assert_int_equal(create_sq(e, 1, QDEPTH + 1, IOSQ, 1),
			 NVME_SC_QUEUE_SIZE);
	assert_int_equal(create_sq(e, 5, 8, IOSQ, 1), NVME_SC_QID_INVALID);
	assert_int_equal(create_sq(e, 1, 8, IOSQ, 1), 0);
	assert_int_equal(create_sq(e, 1, 8, IOSQ, 1), NVME_SC_QID_INVALID);

	/* A CQ with an SQ on it stays. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_DELETE_CQ, .cdw10 = 1 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_QUEUE_DELETION);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_DELETE_SQ, .cdw10 = 0 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_QID_INVALID);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_DELETE_SQ, .cdw10 = 2 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_QID_INVALID);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_DELETE_SQ, .cdw10 = 1 };
	assert_int_equal(admin(e, &s, NULL), 0);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_DELETE_CQ, .cdw10 = 1 };
	assert_int_equal(admin(e, &s, NULL), 0);
	assert_int_equal(admin(e, &s, NULL), NVME_SC_QID_INVALID);
	/* A doorbell of a deleted queue does nothing. */
	assert_false(wr32(e, NVME_DOORBELL_BASE + 8, 1));
	env_free(e);
}

static void test_features(void **state)
{
	struct env *e = env_new(512, false);
	struct nvme_sqe s;
	u32 dw0;

	(void)state;
	enable(e, 8, 8);
	/* Ask for 16 pairs, get the 4 there are (0-based 3). */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_SET_FEATURES,
			       .cdw10 = NVME_FEAT_NUM_QUEUES,
			       .cdw11 = 15 | 15u << 16 };
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 3 | 3u << 16);
	s.cdw11 = 1 | 1u << 16;
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 1 | 1u << 16);
	/* Now queue 3 is beyond what was allocated. */
	assert_int_equal(create_cq(e, 3, 8, IOCQ, 1), NVME_SC_QID_INVALID);
	assert_int_equal(create_cq(e, 2, 8, IOCQ, 1), 0);
	s.cdw11 = 0xffff;
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	s.cdw11 = 0;
	assert_int_equal(admin(e, &s, NULL), NVME_SC_CMD_SEQ_ERROR);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_FEATURES,
			       .cdw10 = NVME_FEAT_NUM_QUEUES };
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 1 | 1u << 16);

	/* Write cache on by default, off when set. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_FEATURES,
			       .cdw10 = NVME_FEAT_VWC };
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 1);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_SET_FEATURES,
			       .cdw10 = NVME_FEAT_VWC, .cdw11 = 0 };
	assert_int_equal(admin(e, &s, NULL), 0);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_FEATURES,
			       .cdw10 = NVME_FEAT_VWC };
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 0);
	s.cdw10 |= 1u << 8;			/* the default */
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 1);
	s.cdw10 = NVME_FEAT_VWC | 3u << 8;	/* capabilities */
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 4);

	/* Coalescing, async event config, arbitration: stored. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_SET_FEATURES,
			       .cdw10 = NVME_FEAT_IRQ_COALESCE,
			       .cdw11 = 0x0a04 };
	assert_int_equal(admin(e, &s, NULL), 0);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_SET_FEATURES,
			       .cdw10 = NVME_FEAT_ASYNC_EVENT, .cdw11 = 0x1ff };
	assert_int_equal(admin(e, &s, NULL), 0);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_SET_FEATURES,
			       .cdw10 = NVME_FEAT_ARBITRATION, .cdw11 = 3 };
	assert_int_equal(admin(e, &s, NULL), 0);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_FEATURES,
			       .cdw10 = NVME_FEAT_IRQ_COALESCE };
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 0x0a04);
	s.cdw10 = NVME_FEAT_ASYNC_EVENT;
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 0x1ff);
	s.cdw10 = NVME_FEAT_ARBITRATION;
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 3);

	/* Saving, unknown features, a reserved select. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_SET_FEATURES,
			       .cdw10 = NVME_FEAT_VWC | 1u << 31 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_FEATURE_NOT_SAVEABLE);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_SET_FEATURES, .cdw10 = 0x42 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_FEATURES, .cdw10 = 0x42 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_FEATURES,
			       .cdw10 = NVME_FEAT_VWC | 4u << 8 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);

	/* A controller reset brings the defaults back. */
	wr32(e, NVME_REG_CC, 0);
	enable(e, 8, 8);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_FEATURES,
			       .cdw10 = NVME_FEAT_IRQ_COALESCE };
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0, 0);
	env_free(e);
}

static void test_logs_and_abort(void **state)
{
	struct env *e = ready_env(512, false);
	struct nvme_sqe s;
	u8 *d = mem_at(e, DATA + 0x20000);
	u64 v;
	u16 cid;
	u32 dw0;

	(void)state;
	/* One good write, one bad read: the logs say so. */
	assert_int_equal(rw(e, NVME_CMD_WRITE, 0, 8, DATA, 0), 0);
	cid = e->cid + 1;
	assert_int_equal(rw(e, NVME_CMD_READ, DISK_SIZE / 512, 1, DATA, 0),
			 NVME_SC_LBA_RANGE);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_LOG, .prp1 = DATA + 0x20000,
			       .cdw10 = NVME_LOG_ERROR | (64 / 4 - 1) << 16 };
	assert_int_equal(admin(e, &s, NULL), 0);
	memcpy(&v, d, 8);
	assert_int_equal(v, 1);				/* error count */
	assert_int_equal(d[8], 1);			/* SQID */
	assert_int_equal(d[10] | d[11] << 8, cid);
	assert_int_equal((d[12] | d[13] << 8) >> 1 & 0x7ff,
			 NVME_SC_LBA_RANGE);

	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_LOG, .prp1 = DATA + 0x20000,
			       .cdw10 = NVME_LOG_SMART | (512 / 4 - 1) << 16 };
	assert_int_equal(admin(e, &s, NULL), 0);
	assert_int_equal(d[3], 100);
	memcpy(&v, d + 48, 8);
	assert_int_equal(v, 1);				/* 4 KiB written */
	memcpy(&v, d + 80, 8);
	assert_int_equal(v, 1);				/* write commands */

	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_LOG, .prp1 = DATA + 0x20000,
			       .cdw10 = NVME_LOG_FW_SLOT | (512 / 4 - 1) << 16 };
	assert_int_equal(admin(e, &s, NULL), 0);
	assert_int_equal(d[0], 1);
	assert_memory_equal(d + 8, "1.0     ", 8);

	/* Offset into SMART, past its end: zeros after it. */
	memset(d, 0xaa, 1024);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_LOG, .prp1 = DATA + 0x20000,
			       .cdw10 = NVME_LOG_SMART | (512 / 4 - 1) << 16,
			       .cdw12 = 256 };
	assert_int_equal(admin(e, &s, NULL), 0);
	assert_int_equal(d[300], 0);
	assert_int_equal(d[512], 0xaa);
	s.cdw12 = 2;
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	s.cdw12 = 512;
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_LOG, .prp1 = DATA,
			       .cdw10 = 0x70 | 3u << 16 };
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_LOG_PAGE);

	/* Abort: everything has completed, so "not aborted". */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_ABORT,
			       .cdw10 = 1 | (u32)cid << 16 };
	assert_int_equal(admin(e, &s, &dw0), 0);
	assert_int_equal(dw0 & 1, 1);
	env_free(e);
}

static void test_aer(void **state)
{
	struct env *e = ready_env(512, false);
	struct nvme_sqe s = { .cdw0 = NVME_ADM_AER };
	struct nvme_cqe cqe;
	u16 cids[4];
	unsigned int irqs;
	int i;

	(void)state;
	/* Four outstanding (AERL 3); a fifth fails at once. */
	for (i = 0; i < 4; i++) {
		s.cdw0 = NVME_ADM_AER;
		cids[i] = queue_cmd(e, 0, &s);
	}
	ring(e, 0);
	nvme_ctrl_process(e->c);
	assert_false(reap(e, 0, &cqe));
	s.cdw0 = NVME_ADM_AER;
	assert_int_equal(admin(e, &s, NULL), NVME_SC_AER_LIMIT);

	/* A doorbell past its queue's end: ignored, reported by an AER. */
	irqs = e->irqs[0];
	assert_true(wr32(e, NVME_DOORBELL_BASE + 8, QDEPTH + 3));
	nvme_ctrl_process(e->c);
	assert_int_equal(e->irqs[0], irqs + 1);
	assert_true(reap(e, 0, &cqe));
	assert_int_equal(status_of(&cqe), 0);
	assert_int_equal(cqe.dw0, NVME_AER_TYPE_ERROR |
			 NVME_AER_INFO_INVALID_DB_VALUE << 8 |
			 NVME_LOG_ERROR << 16);
	assert_true(cqe.cid == cids[3]);
	/* Masked until the error log is read. */
	wr32(e, NVME_DOORBELL_BASE + 8 * 9, 1);
	assert_false(reap(e, 0, &cqe));
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_LOG, .prp1 = DATA,
			       .cdw10 = NVME_LOG_ERROR | 15u << 16 };
	assert_int_equal(admin(e, &s, NULL), 0);
	/* A doorbell of a queue that does not exist. */
	wr32(e, NVME_DOORBELL_BASE + 8 * 9, 1);
	assert_true(reap(e, 0, &cqe));
	assert_int_equal(cqe.dw0, NVME_AER_TYPE_ERROR |
			 NVME_AER_INFO_INVALID_DB_REG << 8 |
			 NVME_LOG_ERROR << 16);
	/* The I/O queue still works. */
	assert_int_equal(rw(e, NVME_CMD_READ, 0, 1, DATA, 0), 0);
	env_free(e);
}

/* ---- I/O --------------------------------------------------------------------- */

static void test_read_write(void **state)
{
	struct env *e = ready_env(512, false);
	u8 *buf = mem_at(e, DATA), disk[8192];
	struct nvme_ctrl_stats st;

	(void)state;
	fill(buf, 8192, 1);
	/* Two pages: PRP1 and PRP2 both data. */
	assert_int_equal(rw(e, NVME_CMD_WRITE, 16, 16, DATA, DATA + 4096), 0);
	assert_int_equal(pread(e->fd, disk, 8192, 16 * 512), 8192);
	assert_memory_equal(disk, buf, 8192);
	memset(buf, 0, 8192);
	assert_int_equal(rw(e, NVME_CMD_READ, 16, 16, DATA, DATA + 4096), 0);
	assert_memory_equal(disk, buf, 8192);
	/* The last block, and one past it. */
	assert_int_equal(rw(e, NVME_CMD_WRITE, DISK_SIZE / 512 - 1, 1, DATA,
			    0), 0);
	assert_int_equal(rw(e, NVME_CMD_WRITE, DISK_SIZE / 512 - 1, 2, DATA,
			    0), NVME_SC_LBA_RANGE);
	assert_int_equal(rw(e, NVME_CMD_READ, ~0ull, 1, DATA, 0),
			 NVME_SC_LBA_RANGE);
	/* More than MDTS. */
	assert_int_equal(rw(e, NVME_CMD_READ, 0, NVME_MAX_XFER / 512 + 1,
			    DATA, LIST), NVME_SC_INVALID_FIELD);
	/* PRP2 of a two-page transfer must be page aligned. */
	assert_int_equal(rw(e, NVME_CMD_READ, 0, 16, DATA, DATA + 4100),
			 NVME_SC_PRP_OFFSET);
	/* Guest memory that is not there. */
	assert_int_equal(rw(e, NVME_CMD_READ, 0, 1, 0x1000, 0),
			 NVME_SC_DATA_XFER_ERROR);
	/* Wrong namespace, unknown opcode, flush. */
	{
		struct nvme_sqe s = { .cdw0 = NVME_CMD_READ, .nsid = 2,
				      .prp1 = DATA };

		assert_int_equal(submit(e, 1, &s, NULL), NVME_SC_INVALID_NS);
		s = (struct nvme_sqe){ .cdw0 = 0x55, .nsid = 1 };
		assert_int_equal(submit(e, 1, &s, NULL),
				 NVME_SC_INVALID_OPCODE);
		s = (struct nvme_sqe){ .cdw0 = NVME_CMD_FLUSH, .nsid = 1 };
		assert_int_equal(submit(e, 1, &s, NULL), 0);
		s.nsid = 0xffffffff;
		assert_int_equal(submit(e, 1, &s, NULL), 0);
	}
	nvme_ctrl_get_stats(e->c, &st);
	assert_int_equal(st.write_cmds, 2);
	assert_int_equal(st.read_cmds, 1);
	/* Each completion raised vector 1. */
	assert_true(e->irqs[1] >= 10);
	env_free(e);
}

/*
 * 128 KiB starting 0x200 into a page: 33 pages, PRP2 a list that starts
 * 16 bytes before the end of its page and chains to a second list page.
 */
static void test_prp_lists(void **state)
{
	struct env *e = ready_env(512, false);
	u32 len = NVME_MAX_XFER, nlb = len / 512, i;
	u64 list1 = LIST + 4096 - 16, list2 = LIST + 8192;
	u64 pages[33], *l1 = mem_at(e, list1), *l2 = mem_at(e, list2);
	static u8 want[NVME_MAX_XFER], got[NVME_MAX_XFER];
	u64 first = DATA + 0x200;

	(void)state;
	/* Pages deliberately out of order in guest memory. */
	for (i = 0; i < 33; i++)
		pages[i] = DATA + (u64)(40 - i) * 4096;
	first = pages[0] + 0x200;
	/* PRP1 holds 0xe00 bytes; 32 more pages, the last one 0x200. */
	l1[0] = pages[1];
	l1[1] = list2;				/* chain */
	for (i = 2; i < 33; i++)
		l2[i - 2] = pages[i];
	fill(want, len, 9);
	{
		u32 off = 0, n;

		for (i = 0; i < 33 && off < len; i++) {
			u64 a = i ? pages[i] : first;

			n = MIN(len - off, 4096 - (u32)(a & 4095));
			memcpy(mem_at(e, a), want + off, n);
			off += n;
		}
		assert_int_equal(off, len);
	}
	assert_int_equal(rw(e, NVME_CMD_WRITE, 100, nlb, first, list1), 0);
	assert_int_equal(pread(e->fd, got, len, 100 * 512), len);
	assert_memory_equal(got, want, len);

	/* Read back into one contiguous run through a plain list. */
	{
		u64 *l = mem_at(e, LIST);
		u8 *dst = mem_at(e, DATA + 0x40000);

		for (i = 0; i < 32; i++)
			l[i] = DATA + 0x40000 + (u64)(i + 1) * 4096;
		memset(dst, 0, len + 4096);
		assert_int_equal(rw(e, NVME_CMD_READ, 100, nlb, DATA + 0x40000,
				    LIST), 0);
		assert_memory_equal(dst, want, len);
	}
	/* A list entry with an offset. */
	l1[0] = pages[1] + 8;
	assert_int_equal(rw(e, NVME_CMD_READ, 100, nlb, first, list1),
			 NVME_SC_PRP_OFFSET);
	/* A list pointer that is not 8-byte aligned. */
	l1[0] = pages[1];
	assert_int_equal(rw(e, NVME_CMD_READ, 100, nlb, first, list1 + 4),
			 NVME_SC_PRP_OFFSET);
	/* A list outside guest memory. */
	assert_int_equal(rw(e, NVME_CMD_READ, 100, nlb, first, 0x2000),
			 NVME_SC_DATA_XFER_ERROR);
	env_free(e);
}

/* The same I/O when guest memory is reachable only by copies. */
static void test_no_direct_dma(void **state)
{
	struct env *e = ready_env(4096, false);
	u8 *buf = mem_at(e, DATA), disk[16384];
	u64 *l = mem_at(e, LIST);

	(void)state;
	e->no_ptr = true;
	fill(buf, 16384, 3);
	l[0] = DATA + 4096;
	l[1] = DATA + 8192;
	l[2] = DATA + 12288;
	assert_int_equal(rw(e, NVME_CMD_WRITE, 3, 4, DATA, LIST), 0);
	assert_int_equal(pread(e->fd, disk, 16384, 3 * 4096), 16384);
	assert_memory_equal(disk, buf, 16384);
	memset(buf, 0, 16384);
	assert_int_equal(rw(e, NVME_CMD_READ, 3, 4, DATA, LIST), 0);
	assert_memory_equal(disk, buf, 16384);
	assert_int_equal(rw(e, NVME_CMD_READ, 0, 1, 0x1000, 0),
			 NVME_SC_DATA_XFER_ERROR);
	env_free(e);
}

static void test_zeroes_dsm_readonly(void **state)
{
	struct env *e = ready_env(512, false);
	struct nvme_sqe s;
	u8 *buf = mem_at(e, DATA);
	static u8 disk[65536], zero[65536];
	struct dsm { u32 attr, nlb; u64 slba; } *r = mem_at(e, DATA + 0x30000);
	u64 *l = mem_at(e, LIST);
	int i;

	(void)state;
	memset(zero, 0, sizeof(zero));
	fill(buf, 65536, 5);
	for (i = 0; i < 15; i++)
		l[i] = DATA + (u64)(i + 1) * 4096;
	assert_int_equal(rw(e, NVME_CMD_WRITE, 0, 128, DATA, LIST), 0);

	/* Write Zeroes over blocks 8-15. */
	s = (struct nvme_sqe){ .cdw0 = NVME_CMD_WRITE_ZEROES, .nsid = 1,
			       .cdw10 = 8, .cdw12 = 7 };
	assert_int_equal(submit(e, 1, &s, NULL), 0);
	assert_int_equal(pread(e->fd, disk, 65536, 0), 65536);
	assert_memory_equal(disk, buf, 8 * 512);
	assert_memory_equal(disk + 8 * 512, zero, 8 * 512);
	assert_memory_equal(disk + 16 * 512, buf + 16 * 512, 112 * 512);
	s.cdw10 = DISK_SIZE / 512 - 4;
	assert_int_equal(submit(e, 1, &s, NULL), NVME_SC_LBA_RANGE);

	/* Deallocate two ranges (a hole; blocks read back zero). */
	r[0] = (struct dsm){ 0, 16, 32 };
	r[1] = (struct dsm){ 0, 8, 100 };
	s = (struct nvme_sqe){ .cdw0 = NVME_CMD_DSM, .nsid = 1,
			       .prp1 = DATA + 0x30000, .cdw10 = 1, .cdw11 = 4 };
	assert_int_equal(submit(e, 1, &s, NULL), 0);
	assert_int_equal(pread(e->fd, disk, 65536, 0), 65536);
	assert_memory_equal(disk + 16 * 512, buf + 16 * 512, 16 * 512);
	assert_memory_equal(disk + 32 * 512, zero, 16 * 512);
	assert_memory_equal(disk + 48 * 512, buf + 48 * 512, 52 * 512);
	assert_memory_equal(disk + 100 * 512, zero, 8 * 512);
	assert_memory_equal(disk + 108 * 512, buf + 108 * 512, 20 * 512);
	/* A range past the end: nothing of the command happens. */
	r[0] = (struct dsm){ 0, 8, 0 };
	r[1] = (struct dsm){ 0, 8, DISK_SIZE / 512 - 4 };
	assert_int_equal(submit(e, 1, &s, NULL), NVME_SC_LBA_RANGE);
	assert_int_equal(pread(e->fd, disk, 512, 0), 512);
	assert_memory_equal(disk, buf, 512);
	/* Without the deallocate attribute it is a hint: nothing changes. */
	s.cdw11 = 1;
	assert_int_equal(submit(e, 1, &s, NULL), 0);
	env_free(e);

	/* Read-only: every write kind is refused, reads work. */
	e = ready_env(512, true);
	assert_int_equal(rw(e, NVME_CMD_WRITE, 0, 1, DATA, 0),
			 NVME_SC_NS_WRITE_PROTECTED);
	s = (struct nvme_sqe){ .cdw0 = NVME_CMD_WRITE_ZEROES, .nsid = 1 };
	assert_int_equal(submit(e, 1, &s, NULL), NVME_SC_NS_WRITE_PROTECTED);
	s = (struct nvme_sqe){ .cdw0 = NVME_CMD_DSM, .nsid = 1,
			       .prp1 = DATA + 0x30000, .cdw11 = 4 };
	assert_int_equal(submit(e, 1, &s, NULL), NVME_SC_NS_WRITE_PROTECTED);
	assert_int_equal(rw(e, NVME_CMD_READ, 0, 1, DATA, 0), 0);
	env_free(e);
}

/* A CQ with one free slot holds the SQ back until its head moves. */
static void test_cq_full_and_irqs(void **state)
{
	struct env *e = env_new(512, false);
	struct nvme_sqe s = { .cdw0 = NVME_CMD_READ, .nsid = 1, .prp1 = DATA };
	struct nvme_cqe cqe;

	(void)state;
	enable(e, 8, 8);
	assert_int_equal(create_cq(e, 1, 2, IOCQ, 3 | 2u << 16), 0);
	assert_int_equal(create_sq(e, 1, 8, IOSQ, 1), 0);
	e->sq_size[1] = 8;
	e->cq_size[1] = 2;
	queue_cmd(e, 1, &s);
	queue_cmd(e, 1, &s);
	queue_cmd(e, 1, &s);
	ring(e, 1);
	assert_int_equal(nvme_ctrl_process(e->c), 1);
	assert_int_equal(e->irqs[2], 1);
	assert_true(nvme_ctrl_intx_pending(e->c));
	assert_true(reap(e, 1, &cqe));		/* rings the CQ head */
	assert_int_equal(nvme_ctrl_process(e->c), 1);
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(nvme_ctrl_process(e->c), 1);
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(cqe.sqhd, 3);
	assert_false(nvme_ctrl_intx_pending(e->c));
	assert_int_equal(e->irqs[2], 3);

	/* INTMS masks the interrupt; IEN off never raises one. */
	wr32(e, NVME_REG_INTMS, 1);
	queue_cmd(e, 1, &s);
	ring(e, 1);
	assert_int_equal(nvme_ctrl_process(e->c), 1);
	assert_int_equal(e->irqs[2], 3);
	assert_false(nvme_ctrl_intx_pending(e->c));
	assert_true(wr32(e, NVME_REG_INTMC, 1));	/* now pending */
	assert_true(reap(e, 1, &cqe));
	env_free(e);
}

/*
 * Shadow doorbells: the controller follows the buffer, writes eventidx;
 * a CQ's index asks for a head write only while the CQ is full.
 */
static void test_dbbuf(void **state)
{
	struct env *e = ready_env(512, false);
	struct nvme_sqe s = { .cdw0 = NVME_ADM_DBBUF_CONFIG, .prp1 = DBS,
			      .prp2 = EIS };
	u32 *dbs = mem_at(e, DBS), *eis = mem_at(e, EIS);
	struct nvme_cqe cqe;
	int i;

	(void)state;
	assert_int_equal(admin(e, &s, NULL), 0);
	s.prp2 = EIS + 8;
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);
	s.prp2 = 0;
	assert_int_equal(admin(e, &s, NULL), NVME_SC_INVALID_FIELD);

	/* Three commands; the MMIO doorbell names only the first. */
	s = (struct nvme_sqe){ .cdw0 = NVME_CMD_READ, .nsid = 1, .prp1 = DATA };
	for (i = 0; i < 3; i++)
		queue_cmd(e, 1, &s);
	dbs[2] = e->sq_tail[1];
	wr32(e, NVME_DOORBELL_BASE + 8, 1);
	assert_int_equal(nvme_ctrl_process(e->c), 3);
	assert_int_equal(eis[2], 3);
	/* CQ 1 has room: its index, one behind the head, asks for no write. */
	assert_int_equal(eis[3], QDEPTH - 1);
	for (i = 0; i < 3; i++)
		assert_true(reap(e, 1, &cqe));
	/* The CQ head is read from the buffer too. */
	dbs[3] = e->cq_head[1];
	/* A shadow value past the queue is ignored. */
	dbs[2] = QDEPTH + 1;
	assert_false(wr32(e, NVME_DOORBELL_BASE + 8, 3));
	assert_int_equal(nvme_ctrl_process(e->c), 0);
	/*
	 * A full CQ: the event index asks for a register write at the next
	 * head update, so the SQ it holds back is not forgotten.
	 */
	{
		struct nvme_sqe q = { .cdw0 = NVME_ADM_CREATE_CQ,
				      .prp1 = MEM_BASE + 0x8000,
				      .cdw10 = 1u << 16 | 2, .cdw11 = 3 };

		assert_int_equal(admin(e, &q, NULL), 0);
		q = (struct nvme_sqe){ .cdw0 = NVME_ADM_CREATE_SQ,
				       .prp1 = MEM_BASE + 0x9000,
				       .cdw10 = 3u << 16 | 2,
				       .cdw11 = 2u << 16 | 1 };
		assert_int_equal(admin(e, &q, NULL), 0);
		q = (struct nvme_sqe){ .cdw0 = NVME_CMD_FLUSH | 0x77u << 16,
				       .nsid = 1 };
		memcpy(mem_at(e, MEM_BASE + 0x9000), &q, 64);
		memcpy(mem_at(e, MEM_BASE + 0x9040), &q, 64);
		dbs[4] = 2;
		assert_true(wr32(e, NVME_DOORBELL_BASE + 16, 2));
		assert_int_equal(nvme_ctrl_process(e->c), 1);
		assert_int_equal(eis[5], 0);	/* ring when head leaves 0 */
		dbs[5] = 1;			/* the host reaped one */
		assert_true(wr32(e, NVME_DOORBELL_BASE + 20, 1));
		assert_int_equal(nvme_ctrl_process(e->c), 1);
		assert_int_equal(eis[5], 1);
	}
	/* The admin queue keeps its MMIO doorbell. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .prp1 = DATA,
			       .cdw10 = 1 };
	assert_int_equal(admin(e, &s, NULL), 0);
	env_free(e);
}

static void test_reset_mid_io(void **state)
{
	struct env *e = ready_env(512, false);
	struct nvme_sqe s = { .cdw0 = NVME_CMD_WRITE, .nsid = 1, .prp1 = DATA };
	u8 disk[512], zero[512];
	struct nvme_cqe cqe;

	(void)state;
	memset(zero, 0, sizeof(zero));
	fill(mem_at(e, DATA), 512, 7);
	/* Queued and rung, but the controller is reset before it runs. */
	queue_cmd(e, 1, &s);
	assert_true(wr32(e, NVME_DOORBELL_BASE + 8, e->sq_tail[1]));
	wr32(e, NVME_REG_CC, 0);
	assert_int_equal(nvme_ctrl_process(e->c), 0);
	assert_int_equal(pread(e->fd, disk, 512, 0), 512);
	assert_memory_equal(disk, zero, 512);
	assert_false(reap(e, 1, &cqe));
	/* The I/O queues are gone: their doorbells do nothing. */
	assert_false(wr32(e, NVME_DOORBELL_BASE + 8, 1));
	/* A full reset clears the admin registers too. */
	nvme_ctrl_reset(e->c);
	assert_int_equal(rd32(e, NVME_REG_AQA), 0);
	/* And the controller comes back for a new driver. */
	enable(e, 8, 8);
	assert_int_equal(create_cq(e, 1, QDEPTH, IOCQ, 3 | 1u << 16), 0);
	assert_int_equal(create_sq(e, 1, QDEPTH, IOSQ, 1), 0);
	memset(mem_at(e, IOCQ), 0, 4096);
	assert_int_equal(rw(e, NVME_CMD_WRITE, 0, 1, DATA, 0), 0);
	assert_int_equal(pread(e->fd, disk, 512, 0), 512);
	assert_memory_equal(disk, mem_at(e, DATA), 512);
	env_free(e);
}


/* ---- asynchronous I/O (ops->submit) ----------------------------------------- */

static void queue_read(struct env *e, u64 slba, u64 buf)
{
	struct nvme_sqe s = { .cdw0 = NVME_CMD_READ, .nsid = 1, .prp1 = buf,
			      .cdw10 = (u32)slba };

	queue_cmd(e, 1, &s);
}

/*
 * Three reads handed to ops->submit complete in the order the test runs
 * them (3, 1, 2), each CQ entry naming its own command and its data in
 * its own buffer; nothing is posted before its io comes back.
 */
static void test_async_out_of_order(void **state)
{
	struct env *e = ready_env_ops(512, false, &t_ops_async);
	u8 blocks[3][512];
	struct nvme_cqe cqe;
	unsigned int i;
	u16 first;

	(void)state;
	for (i = 0; i < 3; i++) {
		fill(blocks[i], 512, 40 + i);
		assert_int_equal(pwrite(e->fd, blocks[i], 512, (100 + i) * 512),
				 512);
		queue_read(e, 100 + i, DATA + i * 4096);
	}
	first = e->cid - 2;
	ring(e, 1);
	assert_int_equal(nvme_ctrl_process(e->c), 3);
	assert_int_equal(e->nr_held, 3);
	assert_false(reap(e, 1, &cqe));
	assert_int_equal(e->irqs[1], 0);

	/* The third, then the first: held[] is {0, 1, 2}, then {0, 1}. */
	finish(e, 2);
	finish(e, 0);
	assert_int_equal(nvme_ctrl_process(e->c), 0);
	assert_int_equal(e->irqs[1], 1);	/* one vector for both */
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(cqe.cid, first + 2);
	assert_int_equal(status_of(&cqe), 0);
	assert_int_equal(cqe.sqhd, 3);
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(cqe.cid, first);
	assert_false(reap(e, 1, &cqe));
	assert_memory_equal(mem_at(e, DATA), blocks[0], 512);
	assert_memory_equal(mem_at(e, DATA + 2 * 4096), blocks[2], 512);
	/* The second has not run: its buffer is untouched. */
	{
		u8 zero[512] = { 0 };

		assert_memory_equal(mem_at(e, DATA + 4096), zero, 512);
	}
	finish(e, 0);
	nvme_ctrl_process(e->c);
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(cqe.cid, first + 1);
	assert_memory_equal(mem_at(e, DATA + 4096), blocks[1], 512);
	assert_int_equal(e->irqs[1], 2);
	assert_int_equal(e->drains, 0);
	env_free(e);
}

/*
 * A command in flight holds its CQ entry: with a 2-entry CQ (one usable)
 * the second read is not even fetched until the first's entry is read.
 */
static void test_async_cq_room(void **state)
{
	struct env *e = env_new_ops(512, false, &t_ops_async);
	struct nvme_cqe cqe;

	(void)state;
	enable(e, 8, 8);
	assert_int_equal(create_cq(e, 1, 2, IOCQ, 3 | 1u << 16), 0);
	assert_int_equal(create_sq(e, 1, 8, IOSQ, 1), 0);
	e->sq_size[1] = 8;
	e->cq_size[1] = 2;
	queue_read(e, 0, DATA);
	queue_read(e, 1, DATA + 4096);
	ring(e, 1);
	assert_int_equal(nvme_ctrl_process(e->c), 1);
	assert_int_equal(e->nr_held, 1);
	assert_int_equal(nvme_ctrl_process(e->c), 0);
	finish(e, 0);
	nvme_ctrl_process(e->c);
	assert_int_equal(e->nr_held, 0);	/* CQ full: still waits */
	assert_true(reap(e, 1, &cqe));		/* frees the entry */
	assert_int_equal(nvme_ctrl_process(e->c), 1);
	assert_int_equal(e->nr_held, 1);
	finish(e, 0);
	nvme_ctrl_process(e->c);
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(cqe.sqhd, 2);
	env_free(e);
}

/*
 * What must not leave I/O behind drains it: deleting an SQ posts its
 * commands' completions first; a reset lets a write in flight finish but
 * posts nothing for it; a flush and the sync of a FUA write go out too.
 */
static void test_async_drain(void **state)
{
	struct env *e = ready_env_ops(512, false, &t_ops_async);
	struct nvme_sqe s = { .cdw0 = NVME_ADM_DELETE_SQ, .cdw10 = 1 };
	struct nvme_sqe w = { .cdw0 = NVME_CMD_WRITE, .nsid = 1, .prp1 = DATA,
			      .cdw12 = 1u << 30 };
	struct nvme_sqe f = { .cdw0 = NVME_CMD_FLUSH, .nsid = 1 };
	struct nvme_cqe cqe;
	u8 disk[512];
	u16 cid;

	(void)state;
	/* A FUA write and a flush both go to the I/O threads. */
	fill(mem_at(e, DATA), 512, 9);
	queue_cmd(e, 1, &w);
	queue_cmd(e, 1, &f);
	ring(e, 1);
	assert_int_equal(nvme_ctrl_process(e->c), 2);
	assert_int_equal(e->nr_held, 2);
	assert_true(e->held[0]->sync);
	assert_int_equal(e->held[1]->op, NVME_IO_FLUSH);
	finish(e, 1);
	finish(e, 0);
	nvme_ctrl_process(e->c);
	assert_true(reap(e, 1, &cqe));
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(pread(e->fd, disk, 512, 0), 512);
	assert_memory_equal(disk, mem_at(e, DATA), 512);

	/* Delete SQ 1 with a read in flight: its completion comes first. */
	queue_read(e, 5, DATA + 4096);
	cid = e->cid;
	ring(e, 1);
	nvme_ctrl_process(e->c);
	assert_int_equal(e->nr_held, 1);
	assert_int_equal(admin(e, &s, NULL), 0);
	assert_int_equal(e->drains, 1);
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(cqe.cid, cid);

	/* Reset with a write in flight: it runs, nothing is posted. */
	assert_int_equal(create_sq(e, 1, QDEPTH, IOSQ, 1), 0);
	e->sq_tail[1] = 0;
	fill(mem_at(e, DATA + 8192), 512, 77);
	w.prp1 = DATA + 8192;
	w.cdw10 = 9;
	queue_cmd(e, 1, &w);
	ring(e, 1);
	nvme_ctrl_process(e->c);
	assert_int_equal(e->nr_held, 1);
	memset(mem_at(e, IOCQ), 0, 4096);
	wr32(e, NVME_REG_CC, 0);
	assert_int_equal(e->drains, 2);
	assert_int_equal(e->nr_held, 0);
	assert_int_equal(pread(e->fd, disk, 512, 9 * 512), 512);
	assert_memory_equal(disk, mem_at(e, DATA + 8192), 512);
	e->phase[1] = true;
	e->cq_head[1] = 0;
	assert_false(reap(e, 1, &cqe));
	env_free(e);
}

/*
 * read_nowait: a read the page cache holds completes in the pass that
 * fetched it; one that would wait (or a file without RWF_NOWAIT) goes
 * out as before. Which one a memfd gets depends on the kernel: both must
 * end with the right data and one completion. Writes always go out.
 */
static void test_async_read_nowait(void **state)
{
	struct env *e;
	struct nvme_sqe w = { .cdw0 = NVME_CMD_WRITE, .nsid = 1, .prp1 = DATA,
			      .cdw10 = 3 };
	struct nvme_cqe cqe;
	u8 block[512];
	u16 cid;

	(void)state;
	env_read_nowait = true;
	e = ready_env_ops(512, false, &t_ops_async);
	env_read_nowait = false;
	fill(mem_at(e, DATA), 512, 21);
	memcpy(block, mem_at(e, DATA), 512);
	queue_cmd(e, 1, &w);
	ring(e, 1);
	nvme_ctrl_process(e->c);
	assert_int_equal(e->nr_held, 1);
	finish(e, 0);
	nvme_ctrl_process(e->c);
	assert_true(reap(e, 1, &cqe));

	queue_read(e, 3, DATA + 4096);
	cid = e->cid;
	ring(e, 1);
	nvme_ctrl_process(e->c);
	if (e->nr_held) {
		assert_false(reap(e, 1, &cqe));
		finish(e, 0);
		nvme_ctrl_process(e->c);
	}
	assert_true(reap(e, 1, &cqe));
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(status_of(&cqe), 0);
	assert_memory_equal(mem_at(e, DATA + 4096), block, 512);
	env_free(e);
}

/* With no way to hand it a pointer (DMA by messages) a read runs inline. */
static void test_async_inline_without_mapping(void **state)
{
	struct env *e = ready_env_ops(512, false, &t_ops_async);

	(void)state;
	e->no_ptr = true;
	assert_int_equal(rw(e, NVME_CMD_READ, 0, 1, DATA, 0), 0);
	assert_int_equal(e->nr_held, 0);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_enable_errors),
		cmocka_unit_test(test_identify),
		cmocka_unit_test(test_queues),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_logs_and_abort),
		cmocka_unit_test(test_aer),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_prp_lists),
		cmocka_unit_test(test_no_direct_dma),
		cmocka_unit_test(test_zeroes_dsm_readonly),
		cmocka_unit_test(test_cq_full_and_irqs),
		cmocka_unit_test(test_dbbuf),
		cmocka_unit_test(test_reset_mid_io),
		cmocka_unit_test(test_async_out_of_order),
		cmocka_unit_test(test_async_cq_room),
		cmocka_unit_test(test_async_drain),
		cmocka_unit_test(test_async_inline_without_mapping),
		cmocka_unit_test(test_async_read_nowait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
