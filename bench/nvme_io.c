// SPDX-License-Identifier: MIT
/*
 * 4 KiB random reads through uvmm-nvme, beside pread() of the same blocks
 * of the same image, in the same run (rows 8a and 8b of make bench).
 *
 * This program is the vfio-user client and the "guest": it shares a
 * memfd as guest RAM (DMA_MAP with its fd, so the server reads the image
 * straight into it), brings the controller up with BAR0 writes, creates
 * one I/O queue pair without interrupts, and polls the completion queue's
 * phase bit in that memory, the way a polling driver would. Doorbells are
 * posted REGION_WRITEs, as uvmm sends a guest's trapped doorbell write.
 * What it times is the server's path (doorbell message, command fetch,
 * the read by an I/O thread, the completion) without a vCPU's exits,
 * which rows 3b-3d measure on their own.
 *
 *	nvme_io --make-image FILE MIB     FILE of MIB MiB, each 4 KiB block
 *					  starting with its number
 *	nvme_io --raw N SOCKET FILE       N reads at queue depth 1 and N
 *					  batches of 32 at depth 32, each
 *					  way, as BENCH lines:
 *	  nvme_qd1 / pread_qd1 ns 1       one read each
 *	  nvme_qd32 / pread_qd32 ns 32    32 reads (pread: one after another)
 *	  nvme_seq128 / pread_seq128 ns 4 4 sequential 128 KiB reads (PRP
 *					  lists), in flight together (pread:
 *					  one after another), through the
 *					  image from start to end
 * Every block read is checked against its number; a wrong one is status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "nvme/ctrl.h"
#include "vfio-user/client.h"

#define IOVA		0x100000ull
#define MEM_SIZE	(1u << 20)
#define ASQ_OFF		0x0000
#define ACQ_OFF		0x1000
#define IOSQ_OFF	0x2000		/* 64 entries of 64 bytes */
#define IOCQ_OFF	0x3000		/* 64 entries of 16 bytes */
#define DATA_OFF	0x10000		/* DEPTH buffers of 4 KiB */
#define SEQ_DEPTH	4		/* 128 KiB reads in flight */
#define PRPL_OFF	0x38000		/* their PRP lists, a page each */
#define SEQ_OFF		0x40000		/* their buffers */
#define SEQ_BYTES	(128u << 10)
#define QSIZE		64
#define DEPTH		32
#define BLOCK		4096u
#define SPIN_LIMIT	(1ull << 34)	/* a dead server, not a slow one */

struct q {
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	u32 tail, head, qid;
	bool phase;
};

static struct vfu_client *cl;
static u8 *mem;
static struct q adm, io;
static u16 cid;

static void die(const char *what, int err)
{
	fprintf(stderr, "nvme_io: %s: %s\n", what, err ? strerror(-err) : "failed");
	exit(1);
}

static void reg_write(u64 off, u64 v, u32 len)
{
	int ret = vfu_client_region_write(cl, 0, off, &v, len);

	if (ret)
		die("BAR0 write", ret);
}

static u32 reg_read32(u64 off)
{
	u32 v;
	int ret = vfu_client_region_read(cl, 0, off, &v, 4);

	if (ret)
		die("BAR0 read", ret);
	return v;
}

static void doorbell(u64 off, u32 v)
{
	int ret = vfu_client_region_write_posted(cl, 0, off, &v, 4);

	if (ret)
		die("doorbell", ret);
}

static void push(struct q *q, struct nvme_sqe *s)
{
	s->cdw0 = (s->cdw0 & 0xffff) | (u32)++cid << 16;
	q->sq[q->tail] = *s;
	q->tail = (q->tail + 1) % QSIZE;
}

static u16 pop(struct q *q)
{
	volatile struct nvme_cqe *c = &q->cq[q->head];
	u64 n = 0;
	u16 st;

	while ((c->status & 1) != q->phase)
		if (++n > SPIN_LIMIT)
			die("no completion", 0);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	st = (c->status >> 1) & 0x7ff;
	if (++q->head == QSIZE) {
		q->head = 0;
		q->phase = !q->phase;
	}
	return st;
}

/*
 * Rings queue qid's SQ tail, reaps n completions (any error status ends
 * the run, naming what) and rings its CQ head once.
 */
static void run_queue(struct q *q, unsigned int qid, unsigned int n,
		      const char *what)
{
	doorbell(NVME_DOORBELL_BASE + 8 * qid, q->tail);
	while (n--)
		if (pop(q))
			die(what, 0);
	doorbell(NVME_DOORBELL_BASE + 8 * qid + 4, q->head);
}

static void admin(struct nvme_sqe s, const char *what)
{
	push(&adm, &s);
	run_queue(&adm, 0, 1, what);
}

static void bring_up(const char *sock)
{
	int fd, ret, i;

	ret = vfu_client_connect(sock, NULL, &cl);
	if (ret)
		die(sock, ret);
	fd = memfd_create("nvme_io", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, MEM_SIZE))
		die("memfd", -errno);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		die("mmap", -errno);
	ret = vfu_client_dma_map(cl, IOVA, MEM_SIZE, fd, 0,
				 VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE);
	if (ret)
		die("DMA_MAP", ret);
	close(fd);
	adm = (struct q){ (void *)(mem + ASQ_OFF), (void *)(mem + ACQ_OFF),
			  0, 0, 0, true };
	io = (struct q){ (void *)(mem + IOSQ_OFF), (void *)(mem + IOCQ_OFF),
			 0, 0, 1, true };
	reg_write(NVME_REG_CC, 0, 4);
	reg_write(NVME_REG_AQA, (QSIZE - 1) << 16 | (QSIZE - 1), 4);
	reg_write(NVME_REG_ASQ, IOVA + ASQ_OFF, 8);
	reg_write(NVME_REG_ACQ, IOVA + ACQ_OFF, 8);
	reg_write(NVME_REG_CC, NVME_CC_EN | 6u << 16 | 4u << 20, 4);
	for (i = 0; !(reg_read32(NVME_REG_CSTS) & NVME_CSTS_RDY); i++)
		if (i > 1000)
			die("CSTS.RDY never came", 0);
	/* CQ 1 physically contiguous, no interrupts: polled. */
	admin((struct nvme_sqe){ .cdw0 = NVME_ADM_CREATE_CQ,
				 .prp1 = IOVA + IOCQ_OFF,
				 .cdw10 = (QSIZE - 1) << 16 | 1, .cdw11 = 1 },
	      "Create I/O CQ");
	admin((struct nvme_sqe){ .cdw0 = NVME_ADM_CREATE_SQ,
				 .prp1 = IOVA + IOSQ_OFF,
				 .cdw10 = (QSIZE - 1) << 16 | 1,
				 .cdw11 = 1u << 16 | 1 },
	      "Create I/O SQ");
}

static u64 rnd_state = 0x9e3779b97f4a7c15ull;

static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void check(const u8 *buf, u64 block)
{
	u64 got;

	memcpy(&got, buf, 8);
	if (got != block) {
		fprintf(stderr, "nvme_io: block %llu read as %llu\n",
			(unsigned long long)block, (unsigned long long)got);
		exit(1);
	}
}

/* depth reads of random blocks through the queue pair: ns for all. */
static u64 nvme_batch(u64 blocks, unsigned int depth)
{
	u64 blk[DEPTH], t0;
	unsigned int i;

	for (i = 0; i < depth; i++)
		blk[i] = rnd() % blocks;
	t0 = mono_ns();
	for (i = 0; i < depth; i++) {
		struct nvme_sqe s = {
			.cdw0 = NVME_CMD_READ, .nsid = 1,
			.prp1 = IOVA + DATA_OFF + i * BLOCK,
			.cdw10 = (u32)(blk[i] * (BLOCK / 512)),
			.cdw11 = (u32)(blk[i] * (BLOCK / 512) >> 32),
			.cdw12 = BLOCK / 512 - 1,
		};

		push(&io, &s);
	}
	run_queue(&io, 1, depth, "read");
	t0 = mono_ns() - t0;
	/* Completions come in any order: each buffer holds its own block. */
	for (i = 0; i < depth; i++)
		check(mem + DATA_OFF + i * BLOCK, blk[i]);
	return t0;
}

static u64 pread_batch(int fd, u64 blocks, unsigned int depth)
{
	u64 blk[DEPTH], t0;
	unsigned int i;

	for (i = 0; i < depth; i++)
		blk[i] = rnd() % blocks;
	t0 = mono_ns();
	for (i = 0; i < depth; i++)
		if (pread(fd, mem + DATA_OFF + i * BLOCK, BLOCK,
			  (off_t)(blk[i] * BLOCK)) != BLOCK)
			die("pread", -errno);
	t0 = mono_ns() - t0;
	for (i = 0; i < depth; i++)
		check(mem + DATA_OFF + i * BLOCK, blk[i]);
	return t0;
}

/*
 * SEQ_DEPTH sequential 128 KiB reads from block0, all in flight at once
 * (as readahead keeps a disk busy): ns for all.
 */
static u64 nvme_seq(u64 block0)
{
	unsigned int i, k, pages = SEQ_BYTES / BLOCK;
	u64 t0;

	t0 = mono_ns();
	for (k = 0; k < SEQ_DEPTH; k++) {
		u64 *prpl = (u64 *)(mem + PRPL_OFF + k * BLOCK);
		u64 buf = IOVA + SEQ_OFF + (u64)k * SEQ_BYTES;
		u64 lba = (block0 + (u64)k * pages) * (BLOCK / 512);
		struct nvme_sqe s = {
			.cdw0 = NVME_CMD_READ, .nsid = 1,
			.prp1 = buf, .prp2 = IOVA + PRPL_OFF + k * BLOCK,
			.cdw10 = (u32)lba, .cdw11 = (u32)(lba >> 32),
			.cdw12 = SEQ_BYTES / 512 - 1,
		};

		/* PRP1 is the first page; the list holds the other 31. */
		for (i = 1; i < pages; i++)
			prpl[i - 1] = buf + (u64)i * BLOCK;
		push(&io, &s);
	}
	run_queue(&io, 1, SEQ_DEPTH, "128 KiB read");
	t0 = mono_ns() - t0;
	for (i = 0; i < SEQ_DEPTH * pages; i++)
		check(mem + SEQ_OFF + (u64)i * BLOCK, block0 + i);
	return t0;
}

/* The same SEQ_DEPTH x 128 KiB with pread(), one after another. */
static u64 pread_seq(int fd, u64 block0)
{
	unsigned int i, pages = SEQ_BYTES / BLOCK;
	u64 t0 = mono_ns();

	for (i = 0; i < SEQ_DEPTH; i++)
		if (pread(fd, mem + SEQ_OFF + (u64)i * SEQ_BYTES, SEQ_BYTES,
			  (off_t)((block0 + (u64)i * pages) * BLOCK)) !=
		    SEQ_BYTES)
			die("pread", -errno);
	t0 = mono_ns() - t0;
	for (i = 0; i < SEQ_DEPTH * pages; i++)
		check(mem + SEQ_OFF + (u64)i * BLOCK, block0 + i);
	return t0;
}

/* Where the i-th batch of SEQ_DEPTH x 128 KiB starts. */
static u64 seq_block(int i, u64 blocks)
{
	u64 batch = (u64)SEQ_DEPTH * (SEQ_BYTES / BLOCK);

	return (u64)i * batch % (blocks - blocks % batch);
}

static void print_raw(const char *name, unsigned int ops, const u64 *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i % 32 == 0)
			printf("%sBENCH %s ns %u", i ? "\n" : "", name, ops);
		printf(" %llu", (unsigned long long)v[i]);
	}
	printf("\n");
}

static int run_raw(int n, const char *sock, const char *image)
{
	u64 *v = calloc((size_t)n, sizeof(u64)), blocks;
	int fd = open(image, O_RDONLY | O_CLOEXEC), i, depth;
	off_t size;

	if (!v || fd < 0)
		die(image, -errno);
	size = lseek(fd, 0, SEEK_END);
	blocks = (u64)size / BLOCK;
	if (blocks < SEQ_DEPTH * (SEQ_BYTES / BLOCK))
		die("an image smaller than 512 KiB", 0);
	bring_up(sock);
	/* Warm both: every block in the page cache, the threads awake. */
	for (i = 0; (u64)i * SEQ_DEPTH * (SEQ_BYTES / BLOCK) < blocks; i++)
		pread_seq(fd, seq_block(i, blocks));
	for (i = 0; i < 64; i++) {
		nvme_batch(blocks, DEPTH);
		pread_batch(fd, blocks, DEPTH);
		nvme_seq(seq_block(i, blocks));
	}
	for (depth = 1; depth <= DEPTH; depth += DEPTH - 1) {
		char name[32];

		for (i = 0; i < n; i++)
			v[i] = nvme_batch(blocks, (unsigned int)depth);
		snprintf(name, sizeof(name), "nvme_qd%d", depth);
		print_raw(name, (unsigned int)depth, v, n);
		for (i = 0; i < n; i++)
			v[i] = pread_batch(fd, blocks, (unsigned int)depth);
		snprintf(name, sizeof(name), "pread_qd%d", depth);
		print_raw(name, (unsigned int)depth, v, n);
	}
	/* Sequential: through the image and around, each way. */
	for (i = 0; i < n; i++)
		v[i] = nvme_seq(seq_block(i, blocks));
	print_raw("nvme_seq128", SEQ_DEPTH, v, n);
	for (i = 0; i < n; i++)
		v[i] = pread_seq(fd, seq_block(i, blocks));
	print_raw("pread_seq128", SEQ_DEPTH, v, n);
	vfu_client_close(cl);
	munmap(mem, MEM_SIZE);
	close(fd);
	free(v);
	return 0;
}

static int make_image(const char *path, unsigned int mib)
{
	u8 block[BLOCK];
	u64 i, n = (u64)mib * (1024 * 1024 / BLOCK);
	FILE *f = fopen(path, "w");

	if (!f)
		die(path, -errno);
	memset(block, 0x5a, sizeof(block));
	for (i = 0; i < n; i++) {
		memcpy(block, &i, 8);
		if (fwrite(block, BLOCK, 1, f) != 1)
			die(path, -errno);
	}
	if (fclose(f))
		die(path, -errno);
	return 0;
}

int main(int argc, char **argv)
{
	log_set_program("nvme_io");
	if (argc == 4 && !strcmp(argv[1], "--make-image") && atoi(argv[3]) > 0)
		return make_image(argv[2], (unsigned int)atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "--raw") && atoi(argv[2]) > 0)
		return run_raw(atoi(argv[2]), argv[3], argv[4]);
	fprintf(stderr, "usage: nvme_io --make-image FILE MIB | --raw N SOCKET FILE\n");
	return 2;
}
