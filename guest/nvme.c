// SPDX-License-Identifier: MIT
/*
 * nvme: a firmware NVMe driver against uvmm-nvme (or any NVMe controller
 * with 4 KiB pages). It resets and enables the controller, identifies it
 * and its namespace, creates several I/O queue pairs each with its own
 * MSI-X vector, writes a pattern over the whole namespace with PRP lists
 * (several commands in flight per queue), reads it back, reads it again
 * with shadow doorbells (Doorbell Buffer Config), checks Flush,
 * Write Zeroes and deallocation, and provokes the error statuses a
 * controller owes a bad driver. Exit status 1 when all passed.
 *
 * The pattern: every block starts with "uvmm-nvme lba XXXXXXXX\n" (hex),
 * the rest is pattern_byte(lba, offset). The host checks the image with
 * that (tests/boot/cases/45-nvme.sh). Afterwards blocks [ZERO_LBA,
 * ZERO_LBA + ZERO_NLB) and [DEALLOC_LBA, DEALLOC_LBA + DEALLOC_NLB) are
 * zero.
 *
 * Command line: nvme.mode=malformed only sends the bad commands and
 * checks the controller still works; nvme.mode=hang writes until the
 * VMM gives up (the server-killed test); nvme.mode=reconnect secs=N
 * writes and reads back for N seconds while the server is restarted,
 * resetting the controller as a driver must (check_reconnect()).
 *
 * Hot loops (filling and checking buffers) run at CPL3, where software
 * KVM runs code natively; they print nothing there.
 */
#include "nvme.h"

#define NR_IOQ		4
#define QSIZE		32
#define ADMIN_QSIZE	16
#define VEC_BASE	0x40	/* vector of CQ i: VEC_BASE + i */
#define CHUNK		(128 * 1024)	/* MDTS of uvmm-nvme */
#define PAGE		4096
#define ZERO_LBA	64
#define ZERO_NLB	16
#define DEALLOC_LBA	256
#define DEALLOC_NLB	128
#define WAIT_LOOPS	200000000ull

struct queue {
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	u32 size, tail, head;
	bool phase;
	u16 qid;
	/* Shadow doorbell and event index (Doorbell Buffer Config), or NULL. */
	volatile u32 *sq_db, *sq_ei, *cq_db, *cq_ei;
	u64 mmio_rings;
};

static struct {
	u32 bdf;
	u64 bar;
	u32 lbads;
	u64 nsze;
	u16 cid;
	struct queue adm, io[NR_IOQ];
	/* One buffer and PRP list per in-flight slot of each queue. */
	u8 *buf[NR_IOQ][QSIZE / 4];
	u64 *list[NR_IOQ][QSIZE / 4];
	u8 *scratch;
} d;

static u32 rd(u32 off)
{
	return readl(d.bar + off);
}

static void wr(u32 off, u32 v)
{
	writel(d.bar + off, v);
}

/* ---- queues ---------------------------------------------------------------- */

static void queue_init(struct queue *q, u16 qid, u32 size)
{
	q->sq = alloc_pages(ALIGN_UP(size * 64, PAGE) / PAGE);
	q->cq = alloc_pages(ALIGN_UP(size * 16, PAGE) / PAGE);
	q->size = size;
	q->tail = q->head = 0;
	q->phase = true;
	q->qid = qid;
}

static u16 push(struct queue *q, struct nvme_sqe *s)
{
	s->cdw0 = (s->cdw0 & 0xffff) | (u32)++d.cid << 16;
	q->sq[q->tail] = *s;
	q->tail = (q->tail + 1) % q->size;
	return d.cid;
}

static void ring_sq(struct queue *q)
{
	if (nvme_ring(d.bar, q->sq_db, q->sq_ei, NVME_DOORBELL_BASE + 8 * q->qid,
		      q->tail))
		q->mmio_rings++;
}

/* Waits for the next completion; false when none came. */
static bool pop(struct queue *q, struct nvme_cqe *out)
{
	volatile struct nvme_cqe *c = &q->cq[q->head];
	u64 n;

	for (n = 0; (c->status & 1) != q->phase; n++) {
		if (n > WAIT_LOOPS)
			return false;
		cpu_relax();
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	*out = *(struct nvme_cqe *)c;
	if (++q->head == q->size) {
		q->head = 0;
		q->phase = !q->phase;
	}
	nvme_ring(d.bar, q->cq_db, q->cq_ei, NVME_DOORBELL_BASE + 8 * q->qid + 4,
		  q->head);
	return true;
}

static u16 run_cmd(struct queue *q, struct nvme_sqe *s, u32 *dw0)
{
	struct nvme_cqe c;
	u16 cid = push(q, s);

	ring_sq(q);
	if (!pop(q, &c) || c.cid != cid)
		return 0xffff;
	if (dw0)
		*dw0 = c.dw0;
	return nvme_status(&c);
}

static u16 admin(struct nvme_sqe *s, u32 *dw0)
{
	return run_cmd(&d.adm, s, dw0);
}

/* ---- the pattern (also run at CPL3) ---------------------------------------- */

static u8 pattern_byte(u64 lba, u32 off)
{
	return (u8)(lba * 131 + off * 7 + (off >> 8) + 1);
}

static void fill_block(u8 *p, u64 lba, u32 bs)
{
	u32 i;

	for (i = 0; i < bs; i++)
		p[i] = pattern_byte(lba, i);
	snprintf((char *)p, 24, "uvmm-nvme lba %08x", (u32)lba);
	p[23] = '\n';
}

struct fill_args {
	u8 *p;
	u64 lba;
	u32 nlb, bs;
	bool zero;		/* check for zeros instead */
	u64 bad;		/* first bad block + 1, or 0 */
};

static int fill_user(void *arg)
{
	struct fill_args *a = arg;
	u32 i;

	for (i = 0; i < a->nlb; i++)
		fill_block(a->p + (u64)i * a->bs, a->lba + i, a->bs);
	return 0;
}

static int check_user(void *arg)
{
	struct fill_args *a = arg;
	u8 want[4096];
	u32 i, j;

	a->bad = 0;
	for (i = 0; i < a->nlb && !a->bad; i++) {
		u8 *p = a->p + (u64)i * a->bs;

		if (a->zero) {
			for (j = 0; j < a->bs; j++)
				if (p[j])
					a->bad = a->lba + i + 1;
			continue;
		}
		fill_block(want, a->lba + i, a->bs);
		if (memcmp(p, want, a->bs))
			a->bad = a->lba + i + 1;
	}
	return 0;
}

/* ---- I/O ------------------------------------------------------------------- */

/* Build the command for nlb blocks at lba in slot's buffer. */
static void rw_cmd(struct nvme_sqe *s, u8 opc, u64 lba, u32 nlb, u8 *buf,
		   u64 *list)
{
	u64 len = (u64)nlb << d.lbads, off;
	unsigned int i;

	*s = (struct nvme_sqe){ .cdw0 = opc, .nsid = 1, .prp1 = (u64)buf,
			   .cdw10 = (u32)lba, .cdw11 = (u32)(lba >> 32),
			   .cdw12 = nlb - 1 };
	if (len > 2 * PAGE) {
		for (i = 0, off = PAGE; off < len; off += PAGE, i++)
			list[i] = (u64)buf + off;
		s->prp2 = (u64)list;
	} else if (len > PAGE) {
		s->prp2 = (u64)buf + PAGE;
	}
}

/*
 * The whole namespace written (or read and checked), CHUNK bytes per
 * command, spread over the queues with `depth` commands in flight on
 * each before the doorbell rings.
 */
static bool pass(u8 opc, unsigned int depth, u64 *bad_lba)
{
	u32 bs = 1u << d.lbads, per = CHUNK / bs;
	u64 lba = 0;
	unsigned int q, k;
	struct fill_args a = { .bs = bs };
	struct nvme_sqe s;
	struct nvme_cqe c;

	while (lba < d.nsze) {
		u64 start[NR_IOQ][QSIZE / 4];
		u32 cnt[NR_IOQ][QSIZE / 4], issued[NR_IOQ] = { 0 };

		for (q = 0; q < NR_IOQ; q++) {
			for (k = 0; k < depth && lba < d.nsze; k++) {
				u32 n = (u32)MIN((u64)per, d.nsze - lba);

				start[q][k] = lba;
				cnt[q][k] = n;
				if (opc == 0x01) {
					a.p = d.buf[q][k];
					a.lba = lba;
					a.nlb = n;
					run_user(fill_user, &a);
				}
				rw_cmd(&s, opc, lba, n, d.buf[q][k],
				       d.list[q][k]);
				push(&d.io[q], &s);
				lba += n;
				issued[q]++;
			}
			if (issued[q])
				ring_sq(&d.io[q]);
		}
		for (q = 0; q < NR_IOQ; q++) {
			for (k = 0; k < issued[q]; k++) {
				if (!pop(&d.io[q], &c) || nvme_status(&c)) {
					report_info("queue %u: status %#x",
						    q + 1, nvme_status(&c));
					*bad_lba = start[q][k];
					return false;
				}
			}
			if (opc != 0x02)
				continue;
			for (k = 0; k < issued[q]; k++) {
				a.p = d.buf[q][k];
				a.lba = start[q][k];
				a.nlb = cnt[q][k];
				a.zero = false;
				run_user(check_user, &a);
				if (a.bad) {
					*bad_lba = a.bad - 1;
					return false;
				}
			}
		}
	}
	return true;
}

static u16 io1(u8 opc, u64 lba, u32 nlb, u8 *buf)
{
	struct nvme_sqe s;

	rw_cmd(&s, opc, lba, nlb, buf, d.list[0][0]);
	return run_cmd(&d.io[0], &s, NULL);
}

/* Reads nlb blocks at lba and checks them: pattern or zeros. */
static bool read_check(u64 lba, u32 nlb, bool zero)
{
	struct fill_args a = { .p = d.buf[0][0], .bs = 1u << d.lbads,
			       .zero = zero };
	u32 n;

	for (; nlb; nlb -= n, lba += n) {
		n = MIN(nlb, (u32)CHUNK >> d.lbads);
		a.lba = lba;
		a.nlb = n;
		if (io1(0x02, lba, n, d.buf[0][0]))
			return false;
		run_user(check_user, &a);
		if (a.bad)
			return false;
	}
	return true;
}

/* ---- bring-up ------------------------------------------------------------- */

static bool find_controller(void)
{
	struct nvme_dev dev;

	if (!nvme_find(&dev))
		return false;
	d.bdf = dev.bdf;
	d.bar = dev.bar;
	return true;
}

static bool wait_csts(u32 mask, u32 want)
{
	u64 n;

	for (n = 0; n < WAIT_LOOPS; n++) {
		if ((rd(0x1c) & mask) == want)
			return true;
		cpu_relax();
	}
	return false;
}

static void msix_setup(unsigned int nr)
{
	u8 cap = pci_find_cap(d.bdf, PCI_CAP_MSIX);
	u32 table = pci_read(d.bdf, cap + 4, 4);
	u64 base = d.bar + (table & ~7u);
	u8 apic = (u8)lapic_id();
	unsigned int i;

	for (i = 0; i < nr; i++) {
		writel(base + 16 * i, (u32)msi_address(apic));
		writel(base + 16 * i + 4, msi_address(apic) >> 32);
		writel(base + 16 * i + 8, msi_data(VEC_BASE + i));
		writel(base + 16 * i + 12, 0);
	}
	pci_write(d.bdf, cap + 2, 2, 0x8000);
}

static void irq_handler(unsigned int vector)
{
	(void)vector;
}

static bool enable_controller(void)
{
	u64 cap = readq(d.bar);
	bool ok;

	report((cap & 0xffff) >= QSIZE - 1 && ((cap >> 32) & 0xf) == 0 &&
	       (cap >> 37) & 1 && ((cap >> 48) & 0xf) == 0,
	       "CAP %#lx: MQES %lu, DSTRD 0, NVM command set, 4 KiB pages",
	       cap, cap & 0xffff);
	report(rd(0x08) == 0x00010400, "VS 1.4 (%#x)", rd(0x08));
	wr(0x14, 0);
	if (!report(wait_csts(1, 0), "CSTS.RDY 0 after CC.EN 0"))
		return false;
	queue_init(&d.adm, 0, ADMIN_QSIZE);
	wr(0x24, (ADMIN_QSIZE - 1) << 16 | (ADMIN_QSIZE - 1));
	writeq(d.bar + 0x28, (u64)d.adm.sq);
	writeq(d.bar + 0x30, (u64)d.adm.cq);
	wr(0x14, 1 | 6u << 16 | 4u << 20);
	ok = wait_csts(3, 1);
	return report(ok, "CSTS.RDY 1 after CC.EN 1 (CSTS %#x)", rd(0x1c));
}

static bool identify(void)
{
	u8 *id = d.scratch;
	struct nvme_sqe s = { .cdw0 = 0x06, .prp1 = (u64)id, .cdw10 = 1 };
	u32 lbaf;
	u16 sc;

	if (!report(admin(&s, NULL) == 0, "Identify Controller"))
		return false;
	report(!memcmp(id + 24, "uvmm-nvme", 9) || id[24] != ' ',
	       "model '%.20s', serial '%.20s'", (char *)id + 24,
	       (char *)id + 4);
	report(id[512] == 0x66 && id[513] == 0x44 && id[516] == 1,
	       "SQES 64, CQES 16, one namespace");
	s = (struct nvme_sqe){ .cdw0 = 0x06, .nsid = 1, .prp1 = (u64)id };
	if (!report(admin(&s, NULL) == 0, "Identify Namespace 1"))
		return false;
	memcpy(&d.nsze, id, 8);
	memcpy(&lbaf, id + 128 + 4 * (id[26] & 0xf), 4);
	d.lbads = (lbaf >> 16) & 0xff;
	report((d.lbads == 9 || d.lbads == 12) && d.nsze >= 1024,
	       "namespace: %lu blocks of %u bytes", d.nsze, 1u << d.lbads);
	s = (struct nvme_sqe){ .cdw0 = 0x06, .prp1 = (u64)id, .cdw10 = 2 };
	report(admin(&s, NULL) == 0 && id[0] == 1 && id[4] == 0,
	       "active namespace list: 1");
	s = (struct nvme_sqe){ .cdw0 = 0x06, .nsid = 1, .prp1 = (u64)id,
			  .cdw10 = 3 };
	/* Arguments are evaluated in any order: the command goes first. */
	sc = admin(&s, NULL);
	report(sc == 0 && id[0] && id[1],
	       "namespace descriptors (type %u, %u bytes)", id[0], id[1]);
	return d.lbads == 9 || d.lbads == 12;
}

static bool create_queues(void)
{
	struct nvme_sqe s = { .cdw0 = 0x09, .cdw10 = 0x07,
			 .cdw11 = (NR_IOQ - 1) | (NR_IOQ - 1) << 16 };
	u32 dw0 = 0;
	unsigned int q, k;
	bool ok = true;
	u16 sc = admin(&s, &dw0);

	report(sc == 0 && (dw0 & 0xffff) >= NR_IOQ - 1 &&
	       (dw0 >> 16) >= NR_IOQ - 1,
	       "Set Features number of queues: %u SQs, %u CQs",
	       (dw0 & 0xffff) + 1, (dw0 >> 16) + 1);
	for (q = 0; q < NR_IOQ; q++) {
		queue_init(&d.io[q], (u16)(q + 1), QSIZE);
		s = (struct nvme_sqe){ .cdw0 = 0x05, .prp1 = (u64)d.io[q].cq,
				  .cdw10 = (QSIZE - 1) << 16 | (q + 1),
				  .cdw11 = (q + 1) << 16 | 3 };
		ok &= admin(&s, NULL) == 0;
		s = (struct nvme_sqe){ .cdw0 = 0x01, .prp1 = (u64)d.io[q].sq,
				  .cdw10 = (QSIZE - 1) << 16 | (q + 1),
				  .cdw11 = (q + 1) << 16 | 1 };
		ok &= admin(&s, NULL) == 0;
		for (k = 0; k < QSIZE / 4; k++) {
			d.buf[q][k] = alloc_pages(CHUNK / PAGE);
			d.list[q][k] = alloc_pages(1);
			ok &= d.buf[q][k] && d.list[q][k];
		}
	}
	return report(ok, "%u I/O queue pairs of %u entries, CQ i on MSI-X vector i",
		      NR_IOQ, QSIZE);
}

/* ---- checks ------------------------------------------------------------- */

static void check_data(void)
{
	u64 bad = 0;
	unsigned int q;
	u64 before[NR_IOQ];
	bool irqs = true, ok;

	for (q = 0; q < NR_IOQ; q++)
		before[q] = irq_count(VEC_BASE + 1 + q);
	ok = pass(0x01, 4, &bad);
	report(ok, "wrote the pattern over all %lu blocks, 4 commands of 128 KiB in flight per queue (bad at %lu)",
	       d.nsze, bad);
	ok = pass(0x02, 8, &bad);
	report(ok, "read all %lu blocks back through PRP lists, pattern intact (bad at %lu)",
	       d.nsze, bad);
	for (q = 0; q < NR_IOQ; q++) {
		irqs &= irq_wait(VEC_BASE + 1 + q, before[q] + 1, 2000);
		report_info("queue %u: %lu MSI-X interrupts on vector %#x",
			    q + 1, irq_count(VEC_BASE + 1 + q) - before[q],
			    VEC_BASE + 1 + q);
	}
	report(irqs, "every I/O queue raised its own MSI-X vector");

	/* A transfer that starts mid-page: PRP1 offset, PRP2 a list. */
	{
		u8 *b = d.buf[1][0] + 512;
		u32 nlb = (3 * PAGE) >> d.lbads;
		struct fill_args a = { .p = b, .lba = 8, .nlb = nlb,
				       .bs = 1u << d.lbads };
		struct nvme_sqe s;

		if (d.lbads == 9) {
			memset(b, 0, 3 * PAGE);
			s = (struct nvme_sqe){ .cdw0 = 0x02, .nsid = 1,
					  .prp1 = (u64)b, .cdw10 = 8,
					  .cdw12 = nlb - 1 };
			d.list[1][0][0] = (u64)d.buf[1][0] + PAGE;
			d.list[1][0][1] = (u64)d.buf[1][0] + 2 * PAGE;
			d.list[1][0][2] = (u64)d.buf[1][0] + 3 * PAGE;
			s.prp2 = (u64)d.list[1][0];
			report(run_cmd(&d.io[1], &s, NULL) == 0 &&
			       (run_user(check_user, &a), !a.bad),
			       "a read at a 512-byte page offset across 4 pages");
		}
	}
}

static void check_flush_zero_dealloc(void)
{
	struct nvme_sqe s = { .cdw0 = 0x00, .nsid = 1 };
	struct { u32 attr, nlb; u64 slba; } *r = (void *)d.scratch;

	report(run_cmd(&d.io[2], &s, NULL) == 0, "Flush");
	s = (struct nvme_sqe){ .cdw0 = 0x08, .nsid = 1, .cdw10 = ZERO_LBA,
			  .cdw12 = ZERO_NLB - 1 };
	report(run_cmd(&d.io[0], &s, NULL) == 0 &&
	       read_check(ZERO_LBA, ZERO_NLB, true) &&
	       read_check(ZERO_LBA + ZERO_NLB, 16, false) &&
	       read_check(ZERO_LBA - 16, 16, false),
	       "Write Zeroes of %u blocks: zeros there, pattern around",
	       ZERO_NLB);
	memset(r, 0, PAGE);
	r[0].nlb = DEALLOC_NLB / 2;
	r[0].slba = DEALLOC_LBA;
	r[1].nlb = DEALLOC_NLB / 2;
	r[1].slba = DEALLOC_LBA + DEALLOC_NLB / 2;
	s = (struct nvme_sqe){ .cdw0 = 0x09, .nsid = 1, .prp1 = (u64)r,
			  .cdw10 = 1, .cdw11 = 4 };
	report(run_cmd(&d.io[3], &s, NULL) == 0 &&
	       read_check(DEALLOC_LBA, DEALLOC_NLB, true) &&
	       read_check(DEALLOC_LBA + DEALLOC_NLB, 8, false),
	       "Dataset Management deallocate of 2 ranges reads back zeros");
	s = (struct nvme_sqe){ .cdw0 = 0x00, .nsid = 1 };
	report(run_cmd(&d.io[2], &s, NULL) == 0, "Flush after the changes");
}

/* Every status a bad driver earns; later good commands still work. */
static void check_errors(void)
{
	u8 *b = d.buf[0][0];
	struct nvme_sqe s;
	struct nvme_cqe c;
	u32 dw0;
	bool ok;
	u16 sc;

	report(io1(0x02, d.nsze, 1, b) == 0x80, "read past the end: LBA Out of Range");
	report(io1(0x01, d.nsze - 1, 2, b) == 0x80,
	       "write across the end: LBA Out of Range");
	s = (struct nvme_sqe){ .cdw0 = 0x02, .nsid = 7, .prp1 = (u64)b };
	report(run_cmd(&d.io[0], &s, NULL) == 0x0b, "namespace 7: Invalid Namespace");
	s = (struct nvme_sqe){ .cdw0 = 0x7e, .nsid = 1 };
	report(run_cmd(&d.io[0], &s, NULL) == 0x01, "NVM opcode 0x7e: Invalid Opcode");
	s = (struct nvme_sqe){ .cdw0 = 0xc5 };
	report(admin(&s, NULL) == 0x01, "admin opcode 0xc5: Invalid Opcode");
	s = (struct nvme_sqe){ .cdw0 = 0x02, .nsid = 1, .prp1 = (u64)b + 2 };
	report(run_cmd(&d.io[0], &s, NULL) == 0x13, "PRP1 not dword aligned: PRP Offset Invalid");
	s = (struct nvme_sqe){ .cdw0 = 0x02, .nsid = 1, .prp1 = (u64)b,
			  .cdw12 = (2 * CHUNK >> d.lbads) - 1 };
	report(run_cmd(&d.io[0], &s, NULL) == 0x02, "256 KiB read, over MDTS: Invalid Field");
	s = (struct nvme_sqe){ .cdw0 = 0x02, .nsid = 1, .prp1 = 0xe0000000ull,
			  .cdw12 = 0 };
	report(run_cmd(&d.io[0], &s, NULL) == 0x04,
	       "buffer outside guest RAM: Data Transfer Error");
	s = (struct nvme_sqe){ .cdw0 = 0x05, .prp1 = (u64)d.scratch,
			  .cdw10 = (QSIZE - 1) << 16 | 1, .cdw11 = 3 };
	report(admin(&s, NULL) == 0x101, "Create I/O CQ 1 again: Invalid Queue Identifier");
	s.cdw10 = 0xffffu << 16 | 9;
	report(admin(&s, NULL) == 0x101, "Create I/O CQ 9: Invalid Queue Identifier");
	s = (struct nvme_sqe){ .cdw0 = 0x01, .prp1 = (u64)d.scratch,
			  .cdw10 = (QSIZE - 1) << 16 | 1, .cdw11 = 9u << 16 | 1 };
	report(admin(&s, NULL) == 0x101, "Create I/O SQ 1 again: Invalid Queue Identifier");
	s = (struct nvme_sqe){ .cdw0 = 0x04, .cdw10 = 1 };
	report(admin(&s, NULL) == 0x10c, "Delete I/O CQ 1 under its SQ: Invalid Queue Deletion");
	s = (struct nvme_sqe){ .cdw0 = 0x02, .prp1 = (u64)d.scratch,
			  .cdw10 = 0x7f | 127u << 16 };
	report(admin(&s, NULL) == 0x109, "log page 0x7f: Invalid Log Page");
	s = (struct nvme_sqe){ .cdw0 = 0x0a, .cdw10 = 0x7f };
	report(admin(&s, NULL) == 0x02, "feature 0x7f: Invalid Field");
	s = (struct nvme_sqe){ .cdw0 = 0x09, .cdw10 = 0x07, .cdw11 = 0 };
	report(admin(&s, NULL) == 0x0c,
	       "number of queues after queues exist: Command Sequence Error");
	s = (struct nvme_sqe){ .cdw0 = 0x06, .prp1 = (u64)d.scratch, .cdw10 = 0x55 };
	report(admin(&s, NULL) == 0x02, "Identify CNS 0x55: Invalid Field");

	/* An AER reports a doorbell written past its queue's end. */
	s = (struct nvme_sqe){ .cdw0 = 0x0c };
	push(&d.adm, &s);
	ring_sq(&d.adm);
	wr(0x1000 + 8 * 1, QSIZE + 5);
	ok = pop(&d.adm, &c);
	report(ok && nvme_status(&c) == 0 && (c.dw0 & 0xffff) == 0x0100,
	       "AER: Invalid Doorbell Write Value event (dw0 %#x)", c.dw0);
	s = (struct nvme_sqe){ .cdw0 = 0x02, .prp1 = (u64)d.scratch,
			  .cdw10 = 0x01 | 15u << 16 };
	sc = admin(&s, NULL);
	report(sc == 0 && d.scratch[0] >= 14,
	       "error log lists %u errors", d.scratch[0]);
	s = (struct nvme_sqe){ .cdw0 = 0x02, .prp1 = (u64)d.scratch,
			  .cdw10 = 0x02 | 127u << 16 };
	sc = admin(&s, NULL);
	report(sc == 0 && d.scratch[3] == 100 && d.scratch[48],
	       "SMART log: available spare %u%%, %u thousand sectors written",
	       d.scratch[3], d.scratch[48]);
	s = (struct nvme_sqe){ .cdw0 = 0x0a, .cdw10 = 0x06 };
	sc = admin(&s, &dw0);
	report(sc == 0 && dw0 == 1, "volatile write cache on");
	s = (struct nvme_sqe){ .cdw0 = 0x08, .cdw10 = 1 };
	sc = admin(&s, &dw0);
	report(sc == 0 && (dw0 & 1), "Abort: nothing left to abort");
	report(read_check(0, 16, false), "the controller still reads after all that");
}

/*
 * Doorbell Buffer Config: the I/O queues switch to shadow doorbells with
 * event indexes; the pattern still reads back through them, and a tail
 * the register never names is found in the shadow.
 */
static void check_shadow_doorbells(void)
{
	u32 *dbs = alloc_pages(1), *eis = alloc_pages(1);
	struct nvme_sqe s = { .cdw0 = 0x7c, .prp1 = (u64)dbs, .prp2 = (u64)eis };
	struct nvme_cqe c;
	unsigned int q, k;
	u64 bad = 0;
	u16 sc;
	bool ok = true;

	/* The shadows start from where the queues are now. */
	for (q = 0; q < NR_IOQ; q++) {
		struct queue *io = &d.io[q];

		dbs[2 * io->qid] = io->tail;
		dbs[2 * io->qid + 1] = io->head;
	}
	sc = admin(&s, NULL);
	if (!report(sc == 0, "Doorbell Buffer Config (status %#x)", sc))
		return;
	for (q = 0; q < NR_IOQ; q++) {
		struct queue *io = &d.io[q];

		io->sq_db = &dbs[2 * io->qid];
		io->sq_ei = &eis[2 * io->qid];
		io->cq_db = &dbs[2 * io->qid + 1];
		io->cq_ei = &eis[2 * io->qid + 1];
		io->mmio_rings = 0;
	}
	ok = pass(0x02, 8, &bad);
	report(ok, "read all %lu blocks back with shadow doorbells (bad at %lu)",
	       d.nsze, bad);
	ok = true;
	report(eis[2 * d.io[0].qid] == d.io[0].tail,
	       "the controller keeps SQ 1's event index at its tail (%u)",
	       eis[2 * d.io[0].qid]);

	/* Three reads; the register is told of one, the shadow of three. */
	for (k = 0; k < 3; k++) {
		rw_cmd(&s, 0x02, k * 8, 8, d.buf[0][k], d.list[0][k]);
		push(&d.io[0], &s);
	}
	dbs[2 * d.io[0].qid] = d.io[0].tail;
	wr(0x1000 + 8 * d.io[0].qid, (d.io[0].tail + d.io[0].size - 2) %
				     d.io[0].size);
	for (k = 0; k < 3; k++)
		ok &= pop(&d.io[0], &c) && nvme_status(&c) == 0;
	report(ok, "three commands run on a shadow tail the register did not name");
	/* Only a reset ends shadow doorbells: the queues keep using them. */
}

static void teardown(void)
{
	struct nvme_sqe s;
	unsigned int q;
	bool ok = true;

	for (q = 0; q < NR_IOQ; q++) {
		s = (struct nvme_sqe){ .cdw0 = 0x00, .cdw10 = q + 1 };
		ok &= admin(&s, NULL) == 0;
		s = (struct nvme_sqe){ .cdw0 = 0x04, .cdw10 = q + 1 };
		ok &= admin(&s, NULL) == 0;
	}
	report(ok, "deleted every I/O queue");
	wr(0x14, rd(0x14) | 1u << 14);
	report(wait_csts(0xc, 0x8), "normal shutdown: CSTS.SHST complete");
	wr(0x14, 0);
	report(wait_csts(1, 0), "disabled");
}

/*
 * INTx instead of MSI-X (nvme.mode=intx): one I/O queue pair on vector 0,
 * the line level-triggered through the IOAPIC. The handler reaps the
 * completion and rings the CQ head before its EOI. INTMS holds the line
 * back, INTMC lets it assert again for an entry still unread.
 *
 * A completion may bring a second, empty interrupt: on this PVM host the
 * resample that makes uvmm send SET_IRQS UNMASK can reach the server
 * before the handler's CQ head write, and a line still pending then
 * asserts again (correct for a level interrupt). So the checks count
 * completions reaped in the handler, and interrupts only as "at least".
 */
#define VEC_INTX 0x60
static struct nvme_cqe intx_cqe;
static unsigned int intx_reaped;

static void intx_handler(unsigned int vector)
{
	volatile struct nvme_cqe *c = &d.io[0].cq[d.io[0].head];

	(void)vector;
	if ((c->status & 1) == d.io[0].phase && pop(&d.io[0], &intx_cqe))
		intx_reaped++;
}

static inline void sti(void)
{
	asm volatile("sti; nop" ::: "memory");
}

static void quiet(void)
{
	unsigned int i;

	for (i = 0; i < 100000; i++)
		cpu_relax();
}

static void check_intx(void)
{
	unsigned int slot = PCI_BDF_DEV(d.bdf);
	unsigned int pin = pci_read(d.bdf, PCI_CFG_INT_PIN, 1);
	unsigned int gsi = 16 + (slot + pin - 1) % 8;
	struct nvme_sqe s;
	u64 seen;
	u16 cid;
	bool ok;

	report(pin == 1, "INTx: pin A, GSI %u", gsi);
	/* Quiet while the queues are created: the admin CQ polls. */
	wr(0x0c, 1);
	queue_init(&d.io[0], 1, QSIZE);
	s = (struct nvme_sqe){ .cdw0 = 0x05, .prp1 = (u64)d.io[0].cq,
			  .cdw10 = (QSIZE - 1) << 16 | 1, .cdw11 = 3 };
	ok = admin(&s, NULL) == 0;
	s = (struct nvme_sqe){ .cdw0 = 0x01, .prp1 = (u64)d.io[0].sq,
			  .cdw10 = (QSIZE - 1) << 16 | 1, .cdw11 = 1u << 16 | 1 };
	ok &= admin(&s, NULL) == 0;
	d.buf[0][0] = alloc_pages(CHUNK / PAGE);
	d.list[0][0] = alloc_pages(1);
	if (!report(ok, "INTx: I/O queue pair 1 on vector 0"))
		return;
	set_irq_handler(VEC_INTX, intx_handler);
	ioapic_route(gsi, VEC_INTX, true, true, (u8)lapic_id());
	wr(0x10, 1);			/* INTMC: unmasked */

	rw_cmd(&s, 0x02, 0, 8, d.buf[0][0], d.list[0][0]);
	cid = push(&d.io[0], &s);
	ring_sq(&d.io[0]);
	irq_wait(VEC_INTX, 1, 2000);
	/* Let a late second assertion come and go before going on. */
	sti();
	quiet();
	cli();
	seen = irq_count(VEC_INTX);
	report(seen >= 1 && intx_reaped == 1 && intx_cqe.cid == cid &&
	       nvme_status(&intx_cqe) == 0,
	       "INTx: a read completed through its level interrupt (%lu)",
	       seen);

	/* Masked: the completion waits unannounced until INTMC. */
	wr(0x0c, 1);
	rw_cmd(&s, 0x02, 8, 8, d.buf[0][0], d.list[0][0]);
	cid = push(&d.io[0], &s);
	ring_sq(&d.io[0]);
	{
		volatile struct nvme_cqe *c = &d.io[0].cq[d.io[0].head];
		u64 n;

		for (n = 0; (c->status & 1) != d.io[0].phase && n < WAIT_LOOPS; n++)
			cpu_relax();
	}
	sti();
	quiet();
	cli();
	report(irq_count(VEC_INTX) == seen && intx_reaped == 1,
	       "INTx: INTMS held the line back");
	wr(0x10, 1);
	irq_wait(VEC_INTX, seen + 1, 2000);
	quiet();
	report(irq_count(VEC_INTX) > seen && intx_reaped == 2 &&
	       intx_cqe.cid == cid,
	       "INTx: INTMC let the unread completion assert the line");
	ioapic_mask(gsi);
}

/* Keep writing until the VMM stops (the server is killed meanwhile). */
/*
 * nvme.mode=reconnect secs=N: one block at a time written, read back and
 * checked on queue 1 for N seconds, while the test kills uvmm-nvme and
 * starts it again on its disk image (uvmm's on-error=reconnect). The
 * controller that comes back is a fresh one (CC.EN 0): what Linux's
 * driver does then is what this does: a command without a completion
 * within RC_TIMEOUT_MS resets the controller, sets the queues up again
 * and goes again. After each reset the first block written is read and
 * checked too: what was written before the restart is on the image.
 */
#define RC_TIMEOUT_MS	1000
#define PM_TMR_PORT	0x608		/* 24 bits at 3.579545 MHz */

static u64 rc_tsc_per_ms;

static u64 rc_now_ms(void)
{
	return rdtsc() / rc_tsc_per_ms;
}

static void rc_calibrate(void)
{
	u32 start = inl(PM_TMR_PORT) & 0xffffff, now;
	u64 t0 = rdtsc();

	do {
		now = inl(PM_TMR_PORT) & 0xffffff;
	} while (((now - start) & 0xffffff) < 3579545 / 20);
	rc_tsc_per_ms = (rdtsc() - t0) / 50;
	if (!rc_tsc_per_ms)
		rc_tsc_per_ms = 1;
}

/*
 * One command on q (CQ n raises MSI-X vector n); its status, 0xffff when
 * none came within RC_TIMEOUT_MS: the controller may be a fresh one.
 */
static u16 rc_cmd(struct queue *q, struct nvme_sqe *s, u32 *dw0)
{
	unsigned int vec = VEC_BASE + q->qid;
	volatile struct nvme_cqe *c;
	struct nvme_cqe done;
	u64 seen = irq_count(vec), until = rc_now_ms() + RC_TIMEOUT_MS;
	u16 cid;

	cid = push(q, s);
	ring_sq(q);
	c = &q->cq[q->head];
	while ((c->status & 1) != q->phase) {
		if (rc_now_ms() >= until)
			return 0xffff;
		irq_wait(vec, seen + 1, 100);
		seen = irq_count(vec);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	done = *(struct nvme_cqe *)c;
	if (++q->head == q->size) {
		q->head = 0;
		q->phase = !q->phase;
	}
	nvme_ring(d.bar, q->cq_db, q->cq_ei, NVME_DOORBELL_BASE + 8 * q->qid + 4,
		  q->head);
	if (dw0)
		*dw0 = done.dw0;
	return done.cid == cid ? nvme_status(&done) : 0xffff;
}

static u16 rc_io(u8 opc, u64 lba, u32 nlb, u8 *buf)
{
	struct nvme_sqe s;

	rw_cmd(&s, opc, lba, nlb, buf, d.list[0][0]);
	return rc_cmd(&d.io[0], &s, NULL);
}

static bool rc_wait_csts(u32 mask, u32 want)
{
	u64 until = rc_now_ms() + RC_TIMEOUT_MS;

	while ((rd(0x1c) & mask) != want)
		if (rc_now_ms() >= until)
			return false;
	return true;
}

/* A queue's memory reused: empty, the phase back to 1. */
static void rc_queue_reset(struct queue *q)
{
	memset(q->cq, 0, ALIGN_UP(q->size * 16, PAGE));
	q->tail = q->head = 0;
	q->phase = true;
}

/*
 * The controller again from CC.EN 0, with I/O queue pair 1: each step
 * bounded in time, since the server may go away again meanwhile.
 */
static bool rc_reset(void)
{
	struct nvme_sqe s;

	printf("nvme: no completion (CSTS %#x): resetting the controller\n",
	       rd(0x1c));
	wr(0x14, 0);
	if (!rc_wait_csts(1, 0))
		return false;
	rc_queue_reset(&d.adm);
	rc_queue_reset(&d.io[0]);
	wr(0x24, (ADMIN_QSIZE - 1) << 16 | (ADMIN_QSIZE - 1));
	writeq(d.bar + 0x28, (u64)d.adm.sq);
	writeq(d.bar + 0x30, (u64)d.adm.cq);
	wr(0x14, 1 | 6u << 16 | 4u << 20);
	if (!rc_wait_csts(3, 1))
		return false;
	s = (struct nvme_sqe){ .cdw0 = 0x05, .prp1 = (u64)d.io[0].cq,
			  .cdw10 = (QSIZE - 1) << 16 | 1,
			  .cdw11 = 1u << 16 | 3 };
	if (rc_cmd(&d.adm, &s, NULL))
		return false;
	s = (struct nvme_sqe){ .cdw0 = 0x01, .prp1 = (u64)d.io[0].sq,
			  .cdw10 = (QSIZE - 1) << 16 | 1,
			  .cdw11 = 1u << 16 | 1 };
	return rc_cmd(&d.adm, &s, NULL) == 0;
}

/* op on [lba, +nlb), resetting the controller until it completes. */
static bool rc_io_retry(u8 opc, u64 lba, u32 nlb, u64 *resets, bool *reset)
{
	unsigned int tries;

	for (tries = 0; tries < 10; tries++) {
		u16 sc = rc_io(opc, lba, nlb, d.buf[0][0]);

		if (!sc)
			return true;
		if (sc != 0xffff) {
			report(false, "%s at lba %lu: status %#x",
			       opc == 1 ? "write" : "read", lba, sc);
			return false;
		}
		(*resets)++;
		*reset = true;
		/* A reset that times out (the server went again) is retried. */
		while (!rc_reset() && ++tries < 10)
			;
	}
	report(false, "lba %lu: no completion after 10 resets", lba);
	return false;
}

static void check_reconnect(void)
{
	u32 bs = 1u << d.lbads, nlb = PAGE / bs;
	u64 secs = 10, lba = 0, ios = 0, resets = 0, end, first_ok = 0;
	struct fill_args a = { .bs = bs, .nlb = nlb };
	char val[16];

	if (cmdline_param("secs", val, sizeof(val)))
		secs = strtoull(val, NULL, 0);
	rc_calibrate();
	printf("nvme: %lu s of writes and reads; restart the server at will\n",
	       secs);
	end = rc_now_ms() + secs * 1000;
	while (rc_now_ms() < end) {
		bool reset = false;

		a.p = d.buf[0][0];
		a.lba = lba;
		run_user(fill_user, &a);
		if (!rc_io_retry(0x01, lba, nlb, &resets, &reset))
			return;
		/* A reset lost the buffer's contents: write it again. */
		if (reset) {
			a.p = d.buf[0][0];
			run_user(fill_user, &a);
			if (!rc_io_retry(0x01, lba, nlb, &resets, &reset))
				return;
		}
		memset(d.buf[0][0], 0, PAGE);
		if (!rc_io_retry(0x02, lba, nlb, &resets, &reset))
			return;
		a.p = d.buf[0][0];
		a.zero = false;
		run_user(check_user, &a);
		if (a.bad) {
			report(false, "lba %lu read back as written", lba);
			return;
		}
		ios++;
		/* Written before a restart: still there after it. */
		if (reset && lba) {
			memset(d.buf[0][0], 0, PAGE);
			if (!rc_io_retry(0x02, 0, nlb, &resets, &reset))
				return;
			a.lba = 0;
			a.p = d.buf[0][0];
			run_user(check_user, &a);
			if (a.bad) {
				report(false, "lba 0, written before a restart, read back after it");
				return;
			}
			first_ok++;
		}
		lba = (lba + nlb) % (d.nsze - nlb);
	}
	report(true, "%lu blocks written and read back exact, %lu controller resets, lba 0 intact after %lu of them",
	       ios, resets, first_ok);
}

static void hang(void)
{
	u64 lba = 0;

	printf("nvme: writing until stopped\n");
	for (;;) {
		if (io1(0x01, lba, 8, d.buf[0][0]) == 0xffff)
			printf("nvme: no completion\n");
		lba = (lba + 8) % (d.nsze - 8);
	}
}

int main(void)
{
	char mode[16] = "";
	unsigned int i;

	cmdline_param("nvme.mode", mode, sizeof(mode));
	if (!report(find_controller(), "NVMe controller (class 010802) on bus 0"))
		return report_summary();
	lapic_enable();
	d.scratch = alloc_pages(1);
	if (!strcmp(mode, "intx")) {
		if (enable_controller())
			check_intx();
		return report_summary();
	}
	for (i = 0; i <= NR_IOQ; i++)
		set_irq_handler(VEC_BASE + i, irq_handler);
	msix_setup(NR_IOQ + 1);
	if (!enable_controller() || !identify() || !create_queues())
		return report_summary();
	if (!strcmp(mode, "hang"))
		hang();
	if (!strcmp(mode, "reconnect")) {
		check_reconnect();
		return report_summary();
	}
	if (!strcmp(mode, "malformed")) {
		check_errors();
		return report_summary();
	}
	check_data();
	check_shadow_doorbells();
	check_flush_zero_dealloc();
	check_errors();
	teardown();
	return report_summary();
}
