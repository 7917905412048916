// SPDX-License-Identifier: MIT
/*
 * nvme-bench: the guest side of `make bench` row 9, a firmware NVMe
 * driver that times 4 KiB I/O on whatever NVMe controller it finds on
 * bus 0 (uvmm-nvme under uvmm, QEMU's -device nvme under QEMU -M pc):
 * the same program and the same image under both, so their figures
 * compare.
 *
 * It resets and enables the controller, reads the namespace's block size,
 * creates one I/O queue pair whose CQ has no interrupt (the timed loops
 * poll its phase bit) and, with nvmeb.shadow=1, sends Doorbell Buffer
 * Config and rings doorbells as Linux does with it: the shadow first,
 * the register only when the controller's event index asks for it.
 * uvmm-nvme --doorbells eventfd needs that mode: its SQ tail doorbells
 * are ioeventfds that carry no value, so it reads the tails from the
 * shadow buffer.
 *
 * What is timed, on a region of nvmeb.mib MiB written once untimed
 * first, every I/O one 4 KiB block at a random 4 KiB offset:
 *
 *	nvmeb_rd_qd1	a read at queue depth 1: ticks per I/O, from one
 *	nvmeb_wr_qd1	completion seen to the next (the CQ head and SQ
 *			tail doorbells, the device's work, the CQ poll)
 *	nvmeb_rd_qdN	reads with N (nvmeb.depth, default 32) in flight:
 *	nvmeb_wr_qdN	each round reaps what completed, submits as many
 *			anew, then rings the CQ head and SQ tail once;
 *			ticks per nvmeb.batch (default N) completions
 *
 * printed as "BENCH <name> ticks <ops per sample> <sample>..." lines
 * (bench_emit). Every block starts with a stamp, its slot number and
 * generation: a write stamps its buffer, a read checks the stamp it got
 * (16 bytes, inside the timing), and an untimed read of the whole region
 * at the end checks that every write landed. Two writes to one block are
 * never in flight together, so the generation a read must see is known.
 *
 * Every loop runs at CPL3 (run_user), where software KVM (PVM) runs code
 * natively; only the set-up (a dozen admin commands) runs at CPL0.
 * Command line: nvmeb.n=N samples of each measure (default 1000),
 * nvmeb.mib=M region (default 64, at most the namespace), nvmeb.shadow=1,
 * nvmeb.depth=N (2-63), nvmeb.batch=N. Exit status 1 when every I/O
 * completed with success and every stamp was right.
 */
#include "nvme.h"

#define ADMIN_QSIZE	8
#define IO_QSIZE	64
#define MAX_DEPTH	(IO_QSIZE - 1)	/* a full queue keeps one entry free */
#define BLOCK		4096u		/* every I/O: one page, PRP1 alone */
#define STAMP_TAG	0x6e766d6542656e63ull
/* No completion for this many ticks: the device lost it (~10 s at 3 GHz). */
#define GIVE_UP		(32ull << 30)
#define OACS_DBBUF	(1u << 8)

/* The first bytes of every block of the region. */
struct stamp {
	u64 tag;		/* STAMP_TAG ^ slot */
	u64 gen;		/* how many times the slot was written */
};

struct nq {
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	u16 size, tail, head, qid;
	bool phase;
	/* Shadow doorbells and event indexes, or NULL. */
	volatile u32 *sq_db, *sq_ei, *cq_db, *cq_ei;
	/* Doorbells rung, and how many of them reached the register. */
	u64 rings, mmio;
};

/* One measure (or an untimed pass) of the region. */
struct job {
	const char *name;
	bool write;
	bool sequential;	/* slots 0, 1, ... once each; else random */
	unsigned int depth;
	u64 ios;		/* submitted in all */
	unsigned int batch;	/* completions per sample; 0: untimed */
	unsigned int samples;
};

struct bench {
	struct nvme_dev dev;
	u32 stride;		/* doorbell stride, bytes */
	u32 lbads;
	u64 nsze;
	u16 cid;
	struct nq adm, io;
	u8 *scratch;
	/* What each command id in flight is doing. */
	u8 *buf[MAX_DEPTH];
	u32 slot_of[MAX_DEPTH];
	bool in_flight[MAX_DEPTH];
	u32 slots;		/* 4 KiB blocks in the region */
	u32 *gen;		/* per slot, what a read must find */
	u8 *busy;		/* per slot, a write in flight */
	u64 rng;
	unsigned int n, depth, batch;
	bool shadow;
	u64 *samples;
	u64 bad_status, bad_data;
	bool stalled;
};

/* ---- queues ------------------------------------------------------------ */

static void nq_init(struct nq *q, u16 qid, u16 size)
{
	size_t sq_bytes = size * sizeof(struct nvme_sqe);
	size_t cq_bytes = size * sizeof(struct nvme_cqe);

	q->sq = alloc_pages(ALIGN_UP(sq_bytes, PAGE_SIZE) / PAGE_SIZE);
	q->cq = alloc_pages(ALIGN_UP(cq_bytes, PAGE_SIZE) / PAGE_SIZE);
	q->size = size;
	q->qid = qid;
	q->phase = true;
}

static u32 db_off(const struct bench *b, u16 qid, bool cq)
{
	return NVME_DOORBELL_BASE + (2 * qid + cq) * b->stride;
}

static void nq_push(struct nq *q, const struct nvme_sqe *s)
{
	q->sq[q->tail] = *s;
	q->tail = (q->tail + 1) % q->size;
}

static void nq_ring_sq(const struct bench *b, struct nq *q)
{
	q->rings++;
	q->mmio += nvme_ring(b->dev.bar, q->sq_db, q->sq_ei,
			     db_off(b, q->qid, false), q->tail);
}

static void nq_ring_cq(const struct bench *b, struct nq *q)
{
	q->rings++;
	q->mmio += nvme_ring(b->dev.bar, q->cq_db, q->cq_ei,
			     db_off(b, q->qid, true), q->head);
}

/* The next completion if the controller posted it; the head moves on. */
static bool nq_peek(struct nq *q, struct nvme_cqe *out)
{
	volatile struct nvme_cqe *c = &q->cq[q->head];

	if ((c->status & 1) != q->phase)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	*out = *(struct nvme_cqe *)c;
	if (++q->head == q->size) {
		q->head = 0;
		q->phase = !q->phase;
	}
	return true;
}

/* An admin command, polled; its status, 0xffff when none came. */
static u16 admin(struct bench *b, struct nvme_sqe *s, u32 *dw0)
{
	struct nvme_cqe c;
	u16 cid = ++b->cid;
	u64 start = rdtsc();

	s->cdw0 = (s->cdw0 & 0xffff) | (u32)cid << 16;
	nq_push(&b->adm, s);
	nq_ring_sq(b, &b->adm);
	while (!nq_peek(&b->adm, &c)) {
		if (rdtsc() - start > GIVE_UP)
			return 0xffff;
		cpu_relax();
	}
	nq_ring_cq(b, &b->adm);
	if (dw0)
		*dw0 = c.dw0;
	return c.cid == cid ? nvme_status(&c) : 0xffff;
}

/* ---- bring-up (CPL0) ---------------------------------------------------- */

static bool wait_ready(const struct bench *b, u32 want)
{
	u64 start = rdtsc();

	while ((readl(b->dev.bar + NVME_REG_CSTS) & 1) != want) {
		if (rdtsc() - start > GIVE_UP)
			return false;
		cpu_relax();
	}
	return true;
}

static bool enable(struct bench *b)
{
	u64 cap = readq(b->dev.bar + NVME_REG_CAP);

	b->stride = 4u << ((cap >> 32) & 0xf);
	/* Firmware (SeaBIOS under QEMU) may have left it running. */
	writel(b->dev.bar + NVME_REG_CC, 0);
	if (!report(wait_ready(b, 0), "controller disabled (CAP %#lx)", cap))
		return false;
	nq_init(&b->adm, 0, ADMIN_QSIZE);
	writel(b->dev.bar + NVME_REG_AQA,
	       (ADMIN_QSIZE - 1) << 16 | (ADMIN_QSIZE - 1));
	writeq(b->dev.bar + NVME_REG_ASQ, (u64)b->adm.sq);
	writeq(b->dev.bar + NVME_REG_ACQ, (u64)b->adm.cq);
	writel(b->dev.bar + NVME_REG_CC, NVME_CC_ENABLE);
	return report(wait_ready(b, 1), "controller enabled (CSTS %#x)",
		      readl(b->dev.bar + NVME_REG_CSTS));
}

/* Block size and count of namespace 1; false when it cannot serve 4 KiB. */
static bool identify(struct bench *b, u16 *oacs)
{
	struct nvme_sqe s = { .cdw0 = NVME_ADM_IDENTIFY,
			      .prp1 = (u64)b->scratch, .cdw10 = 1 };
	u8 *id = b->scratch;
	u32 lbaf;

	if (!report(admin(b, &s, NULL) == 0, "Identify Controller"))
		return false;
	memcpy(oacs, id + 256, 2);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .nsid = 1,
			       .prp1 = (u64)b->scratch };
	if (!report(admin(b, &s, NULL) == 0, "Identify Namespace 1"))
		return false;
	memcpy(&b->nsze, id, 8);
	memcpy(&lbaf, id + 128 + 4 * (id[26] & 0xf), 4);
	b->lbads = (lbaf >> 16) & 0xff;
	return report(b->lbads >= 9 && b->lbads <= 12 &&
		      (b->nsze << b->lbads) >= 2 * MAX_DEPTH * BLOCK,
		      "namespace 1: %lu blocks of %u bytes", b->nsze,
		      1u << b->lbads);
}

/*
 * One I/O queue pair, its CQ without interrupts (IEN 0): the loops poll
 * it. A queue of IO_QSIZE entries, or what CAP.MQES allows.
 */
static bool create_queues(struct bench *b)
{
	u16 size = MIN((u16)IO_QSIZE,
		       (u16)((readq(b->dev.bar + NVME_REG_CAP) & 0xffff) + 1));
	/* Feature 7, number of queues: one SQ, one CQ (0's based). */
	struct nvme_sqe s = { .cdw0 = NVME_ADM_SET_FEATURES, .cdw10 = 0x07,
			      .cdw11 = 0 };
	bool ok;

	if (b->depth > size - 1u)
		b->depth = size - 1u;
	report(admin(b, &s, NULL) == 0, "Set Features: one I/O queue pair");
	nq_init(&b->io, 1, size);
	/* CQ 1: physically contiguous, IEN 0. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_CREATE_CQ,
			       .prp1 = (u64)b->io.cq,
			       .cdw10 = (u32)(size - 1) << 16 | 1,
			       .cdw11 = 1 };
	ok = admin(b, &s, NULL) == 0;
	/* SQ 1 on CQ 1, physically contiguous. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_CREATE_SQ,
			       .prp1 = (u64)b->io.sq,
			       .cdw10 = (u32)(size - 1) << 16 | 1,
			       .cdw11 = 1u << 16 | 1 };
	ok = ok && admin(b, &s, NULL) == 0;
	return report(ok, "I/O queue pair 1, %u entries, CQ polled (no interrupt)",
		      size);
}

/*
 * Doorbell Buffer Config, the last admin command: whether the admin queue
 * then uses the buffer too is where controllers may differ (uvmm-nvme's
 * keeps its register doorbells, which is what Linux expects), so nothing
 * goes on the admin queue after it.
 */
static bool shadow_doorbells(struct bench *b, u16 oacs)
{
	u32 *dbs = alloc_pages(1), *eis = alloc_pages(1);
	struct nvme_sqe s = { .cdw0 = NVME_ADM_DBBUF_CONFIG, .prp1 = (u64)dbs,
			      .prp2 = (u64)eis };
	u32 sq = db_off(b, 1, false) - NVME_DOORBELL_BASE;
	u32 cq = db_off(b, 1, true) - NVME_DOORBELL_BASE;
	u16 sc;

	if (!report(oacs & OACS_DBBUF,
		    "the controller offers Doorbell Buffer Config (OACS %#x)",
		    oacs))
		return false;
	/* The shadows start from where the queue is. */
	dbs[sq / 4] = b->io.tail;
	dbs[cq / 4] = b->io.head;
	sc = admin(b, &s, NULL);
	if (!report(sc == 0, "Doorbell Buffer Config (status %#x)", sc))
		return false;
	b->io.sq_db = &dbs[sq / 4];
	b->io.sq_ei = &eis[sq / 4];
	b->io.cq_db = &dbs[cq / 4];
	b->io.cq_ei = &eis[cq / 4];
	return true;
}

/* ---- I/O (CPL3) --------------------------------------------------------- */

static u64 next_random(struct bench *b)
{
	/* xorshift64: cheap, and the same sequence under every VMM. */
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

static void submit(struct bench *b, const struct job *j, u16 cid, u64 nth)
{
	struct stamp *st = (struct stamp *)b->buf[cid];
	u64 lba;
	u32 slot;

	if (j->sequential) {
		slot = (u32)nth;
	} else {
		do
			slot = (u32)(next_random(b) % b->slots);
		while (j->write && b->busy[slot]);
	}
	b->slot_of[cid] = slot;
	b->in_flight[cid] = true;
	if (j->write) {
		b->busy[slot] = 1;
		st->tag = STAMP_TAG ^ slot;
		st->gen = ++b->gen[slot];
	} else {
		/* A read that moved nothing must not find the last stamp. */
		st->tag = 0;
		st->gen = 0;
	}
	lba = (u64)slot * (BLOCK >> b->lbads);
	nq_push(&b->io, &(struct nvme_sqe){
		.cdw0 = (j->write ? NVME_CMD_WRITE : NVME_CMD_READ) |
			(u32)cid << 16,
		.nsid = 1, .prp1 = (u64)b->buf[cid],
		.cdw10 = (u32)lba, .cdw11 = (u32)(lba >> 32),
		.cdw12 = (BLOCK >> b->lbads) - 1 });
}

/* A completion's command id: its status and, for a read, its stamp. */
static bool finish(struct bench *b, const struct job *j,
		   const struct nvme_cqe *c)
{
	const struct stamp *st;
	u32 slot;

	if (c->cid >= j->depth || !b->in_flight[c->cid])
		return false;
	b->in_flight[c->cid] = false;
	slot = b->slot_of[c->cid];
	st = (const struct stamp *)b->buf[c->cid];
	if (nvme_status(c))
		b->bad_status++;
	if (j->write)
		b->busy[slot] = 0;
	else if (st->tag != (STAMP_TAG ^ slot) || st->gen != b->gen[slot])
		b->bad_data++;
	return true;
}

/*
 * Keeps j->depth commands in flight until j->ios were submitted: each
 * round reaps every completion there is, submits one command for each,
 * then rings the CQ head and the SQ tail once, as a polling driver does.
 * A sample ends whenever j->batch more completions were seen. False when
 * the controller stopped completing, or completed a command it was not
 * given.
 */
static bool run_job(struct bench *b, const struct job *j)
{
	u64 submitted = 0, done = 0, t, idle;
	unsigned int k = 0, reaped;
	struct nvme_cqe c;
	u16 cid;

	t = rdtsc();
	for (cid = 0; cid < j->depth && submitted < j->ios; cid++)
		submit(b, j, cid, submitted++);
	nq_ring_sq(b, &b->io);
	idle = rdtsc();
	while (done < submitted) {
		bool more = false;

		for (reaped = 0; nq_peek(&b->io, &c); reaped++) {
			if (!finish(b, j, &c))
				return false;
			done++;
			if (j->batch && done % j->batch == 0 &&
			    k < j->samples) {
				u64 now = rdtsc();

				b->samples[k++] = now - t;
				t = now;
			}
			if (submitted < j->ios) {
				submit(b, j, c.cid, submitted++);
				more = true;
			}
		}
		if (reaped) {
			nq_ring_cq(b, &b->io);
			if (more)
				nq_ring_sq(b, &b->io);
			idle = rdtsc();
		} else if (rdtsc() - idle > GIVE_UP) {
			b->stalled = true;
			return false;
		} else {
			cpu_relax();
		}
	}
	return true;
}

/* One measure: its samples printed, its doorbells counted. */
static bool measure(struct bench *b, const struct job *j)
{
	u64 rings = b->io.rings, mmio = b->io.mmio;
	bool ok = run_job(b, j);

	if (ok && j->batch) {
		char name[32];

		snprintf(name, sizeof(name), "nvmeb_%s", j->name);
		bench_emit(name, "ticks", j->batch, b->samples, j->samples);
	}
	printf("INFO: %s: %lu I/Os, %lu doorbell writes, %lu of them to the register\n",
	       j->name, j->ios, b->io.rings - rings, b->io.mmio - mmio);
	return ok;
}

static int run(void *arg)
{
	struct bench *b = arg;
	char qd_rd[16], qd_wr[16];
	struct job fill = { .name = "fill", .write = true, .sequential = true,
			    .depth = b->depth, .ios = b->slots };
	struct job check = fill;
	struct job jobs[4] = {
		{ .name = "rd_qd1", .depth = 1, .ios = b->n, .batch = 1,
		  .samples = b->n },
		{ .name = "wr_qd1", .write = true, .depth = 1, .ios = b->n,
		  .batch = 1, .samples = b->n },
		/* depth - 1 more than the samples need: depth stays full. */
		{ .name = qd_rd, .depth = b->depth,
		  .ios = (u64)b->n * b->batch + b->depth - 1,
		  .batch = b->batch, .samples = b->n },
		{ .name = qd_wr, .write = true, .depth = b->depth,
		  .ios = (u64)b->n * b->batch + b->depth - 1,
		  .batch = b->batch, .samples = b->n },
	};
	unsigned int i;

	snprintf(qd_rd, sizeof(qd_rd), "rd_qd%u", b->depth);
	snprintf(qd_wr, sizeof(qd_wr), "wr_qd%u", b->depth);
	check.name = "check";
	check.write = false;
	if (!measure(b, &fill))
		return 0;
	for (i = 0; i < 4; i++)
		if (!measure(b, &jobs[i]))
			return 0;
	return measure(b, &check);
}

int main(void)
{
	static struct bench b;
	unsigned int i;
	u64 mib;
	u16 oacs = 0;
	bool done;

	b.n = cmdline_num("nvmeb.n", 1000, 1, 1000000);
	mib = cmdline_num("nvmeb.mib", 64, 1, 1 << 20);
	b.shadow = cmdline_num("nvmeb.shadow", 0, 0, 1);
	b.depth = cmdline_num("nvmeb.depth", 32, 2, MAX_DEPTH);
	b.rng = 0x9e3779b97f4a7c15ull;
	/* Interrupts stay off; the 8259s SeaBIOS left running are masked. */
	lapic_enable();
	if (!report(nvme_find(&b.dev), "NVMe controller (class %06x) on bus 0",
		    NVME_CLASS))
		return report_summary();
	b.scratch = alloc_pages(1);
	if (!enable(&b) || !identify(&b, &oacs) || !create_queues(&b) ||
	    (b.shadow && !shadow_doorbells(&b, oacs)))
		return report_summary();
	b.batch = cmdline_num("nvmeb.batch", b.depth, 1, 1000000);
	b.slots = (u32)(MIN(mib << 20, b.nsze << b.lbads) / BLOCK);
	b.gen = calloc(b.slots, sizeof(*b.gen));
	b.busy = calloc(b.slots, 1);
	b.samples = calloc(b.n, sizeof(*b.samples));
	for (i = 0; i < b.depth; i++)
		b.buf[i] = alloc_pages(1);
	if (!b.gen || !b.busy || !b.samples || !b.buf[b.depth - 1])
		abort_test("memory for %u samples and %u slots (-m)", b.n,
			   b.slots);
	printf("BENCH-START n=%u region=%lu MiB depth=%u batch=%u doorbells=%s\n",
	       b.n, (u64)b.slots * BLOCK >> 20, b.depth, b.batch,
	       b.shadow ? "shadow" : "mmio");
	done = run_user(run, &b);
	report(done && !b.stalled, "every command completed%s",
	       b.stalled ? " (one did not within the give-up time)" : "");
	report(!b.bad_status, "every command succeeded (%lu did not)",
	       b.bad_status);
	report(done && !b.bad_data,
	       "every read found its block's latest stamp (%lu did not)",
	       b.bad_data);
	return report_summary();
}
