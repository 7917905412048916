// SPDX-License-Identifier: MIT
/*
 * The NVMe controller model (see ctrl.h). Admin commands, Write Zeroes,
 * deallocation and anything that needs DMA by messages run to completion
 * in nvme_ctrl_process(). Reads, writes and flushes with guest memory
 * mapped go to ops->submit when there is one and complete later, in any
 * order, through nvme_ctrl_io_done() (with cfg.read_nowait, a read the
 * page cache holds completes at once). Each such command holds a slot in
 * its CQ from submission on, so its completion always has room. What
 * would leave I/O behind (a reset, deleting an SQ, a shutdown) first
 * drains it through ops->drain; after a reset the late completions are
 * recognised by the epoch they were submitted in and dropped. Abort
 * never aborts ("not aborted" is always a valid answer).
 *
 * Page size is 4 KiB only (CAP.MPSMIN = MPSMAX = 0) and queues must be
 * physically contiguous (CAP.CQR), which keeps every queue entry a
 * single DMA at base + index * size.
 */
#define LOG_PREFIX "nvme"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "nvme/ctrl.h"

#define NR_QUEUES	(NVME_MAX_IOQ + 1)
#define MAX_AER		4	/* AERL + 1 */
#define MAX_EVENTS	8
#define ABORT_LIMIT	4	/* ACL + 1 */
#define PRP_MAX_SEGS	(NVME_MAX_XFER / NVME_PAGE_SIZE + 1)
#define IDENTIFY_SIZE	4096
#define DSM_MAX_RANGES	256
#define SQES		6	/* 64-byte SQ entries */
#define CQES		4	/* 16-byte CQ entries */
#define MODEL		"uvmm-nvme"
#define FW_REV		"1.0"

struct nvme_queue {
	bool present;
	u64 base;
	u32 size;		/* entries */
	u32 head, tail;
	/* SQ */
	u16 cqid;
	/* CQ */
	bool phase;
	bool ien;
	u16 iv;
	u16 nr_sqs;		/* SQs posting here */
	bool irq_due;
	u32 inflight;		/* submitted commands holding an entry */
};

struct error_entry {
	u64 count;
	u16 sqid, cid, status, loc;
	u64 lba;
	u32 nsid;
};

struct nvme_ctrl {
	struct nvme_ctrl_config cfg;
	u64 nsze;		/* blocks */
	unsigned int lbads;	/* log2(block_size) */

	/* Registers. */
	u64 cap;
	u32 intms, cc, csts, aqa;
	u64 asq, acq;

	struct nvme_queue sq[NR_QUEUES], cq[NR_QUEUES];

	/* Features. */
	u32 arbitration, vwc, irq_coalesce, async_config;
	u16 nsqa, ncqa;		/* allocated I/O queues, 0-based */

	/* Doorbell buffer config: guest addresses, 0 when off. */
	u64 dbbuf_dbs, dbbuf_eis;

	/* Outstanding AERs (their CIDs) and events waiting for one. */
	u16 aer_cid[MAX_AER];
	unsigned int nr_aer;
	u32 events[MAX_EVENTS];
	unsigned int nr_events;
	bool error_event_masked;	/* until the error log is read */

	struct error_entry errlog[NVME_ERROR_LOG_ENTRIES];
	u64 error_count;

	struct nvme_ctrl_stats stats;
	u8 *bounce;		/* NVME_MAX_XFER */

	/* Commands out with ops->submit; the reset count they belong to. */
	unsigned int inflight;
	u32 epoch;
	u16 cur_sqid;		/* the SQ process_sq() runs */
};

/* io_command()'s answer for a command that completes later. */
#define SC_PENDING	0xffff

/* ---- guest memory ------------------------------------------------------- */

static int dma_read(struct nvme_ctrl *c, u64 addr, void *buf, u64 len)
{
	void *p;

	if (addr + len < addr)
		return -EFAULT;
	p = c->cfg.ops->dma_ptr ?
	    c->cfg.ops->dma_ptr(c->cfg.opaque, addr, len, false) : NULL;
	if (p) {
		memcpy(buf, p, len);
		return 0;
	}
	return c->cfg.ops->dma_rw(c->cfg.opaque, addr, buf, len, false);
}

static int dma_write(struct nvme_ctrl *c, u64 addr, const void *buf, u64 len)
{
	void *p;

	if (addr + len < addr)
		return -EFAULT;
	p = c->cfg.ops->dma_ptr ?
	    c->cfg.ops->dma_ptr(c->cfg.opaque, addr, len, true) : NULL;
	if (p) {
		memcpy(p, buf, len);
		return 0;
	}
	return c->cfg.ops->dma_rw(c->cfg.opaque, addr, (void *)buf, len,
				  true);
}

/* ---- PRPs --------------------------------------------------------------- */

struct prp_seg {
	u64 addr;
	u32 len;
};

/*
 * Walk PRP1/PRP2 for len bytes (at most NVME_MAX_XFER) into segs, one per
 * page. PRP list pages chain through their last entry.
 */
static u16 prp_map(struct nvme_ctrl *c, u64 prp1, u64 prp2, u32 len,
		   struct prp_seg *segs, unsigned int *nr)
{
	u32 off = prp1 & (NVME_PAGE_SIZE - 1), done, n;
	u64 list, entry;
	unsigned int i = 0, left_in_page;

	*nr = 0;
	if (!len)
		return NVME_SC_SUCCESS;
	if (len > NVME_MAX_XFER)
		return NVME_SC_INVALID_FIELD;
	if (prp1 & 3)
		return NVME_SC_PRP_OFFSET;
	n = MIN(len, NVME_PAGE_SIZE - off);
	segs[i++] = (struct prp_seg){ prp1, n };
	done = n;
	if (done == len)
		goto out;
	if (len - done <= NVME_PAGE_SIZE) {
		if (prp2 & (NVME_PAGE_SIZE - 1))
			return NVME_SC_PRP_OFFSET;
		segs[i++] = (struct prp_seg){ prp2, len - done };
		goto out;
	}
	/* A PRP list: entries are 8 bytes, the list may start mid-page. */
	list = prp2;
	if (list & 7)
		return NVME_SC_PRP_OFFSET;
	while (done < len) {
		u64 ents[NVME_PAGE_SIZE / 8];
		unsigned int nr_ents, k;

		/*
		 * The rest of this list page that the transfer uses, in one
		 * read: no entry past the ones consumed below is read.
		 */
		left_in_page = (NVME_PAGE_SIZE - (list & (NVME_PAGE_SIZE - 1))) / 8;
		nr_ents = MIN(left_in_page,
			      (len - done + NVME_PAGE_SIZE - 1) / NVME_PAGE_SIZE);
		if (dma_read(c, list, ents, nr_ents * 8))
			return NVME_SC_DATA_XFER_ERROR;
		for (k = 0; k < nr_ents; k++) {
			entry = ents[k];
			/* The last entry of a full list page points to the next. */
			if (left_in_page - k == 1 && len - done > NVME_PAGE_SIZE) {
				if (entry & 7)
					return NVME_SC_PRP_OFFSET;
				list = entry;
				break;
			}
			if (entry & (NVME_PAGE_SIZE - 1))
				return NVME_SC_PRP_OFFSET;
			if (i >= PRP_MAX_SEGS)
				return NVME_SC_INVALID_FIELD;
			n = MIN(len - done, NVME_PAGE_SIZE);
			segs[i++] = (struct prp_seg){ entry, n };
			done += n;
			list += 8;
		}
	}
out:
	*nr = i;
	return NVME_SC_SUCCESS;
}

/* Copy a buffer to or from the guest through PRPs (admin data). */
static u16 prp_copy(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
		    void *buf, u32 len, bool to_guest)
{
	struct prp_seg segs[PRP_MAX_SEGS];
	unsigned int nr, i;
	u8 *p = buf;
	u16 sc;
	int ret;

	sc = prp_map(c, sqe->prp1, sqe->prp2, len, segs, &nr);
	if (sc)
		return sc;
	for (i = 0; i < nr; i++) {
		ret = to_guest ? dma_write(c, segs[i].addr, p, segs[i].len) :
				 dma_read(c, segs[i].addr, p, segs[i].len);
		if (ret)
			return NVME_SC_DATA_XFER_ERROR;
		p += segs[i].len;
	}
	return NVME_SC_SUCCESS;
}

/* ---- interrupts and events ---------------------------------------------- */

static void post_cqe(struct nvme_ctrl *c, u16 cqid, struct nvme_cqe *cqe);
static bool cq_full(struct nvme_ctrl *c, u16 cqid);

static void error_log_add(struct nvme_ctrl *c, u16 sqid, u16 cid, u16 status,
			  u32 nsid, u64 lba)
{
	struct error_entry *e;

	c->stats.errors++;
	memmove(&c->errlog[1], &c->errlog[0],
		sizeof(c->errlog[0]) * (NVME_ERROR_LOG_ENTRIES - 1));
	e = &c->errlog[0];
	*e = (struct error_entry){
		.count = ++c->error_count, .sqid = sqid, .cid = cid,
		.status = status, .loc = 0xffff, .lba = lba, .nsid = nsid,
	};
}

/* Complete outstanding AERs with queued events. */
static void aer_flush(struct nvme_ctrl *c)
{
	struct nvme_cqe cqe;

	/* A full admin CQ keeps the event for later, never overwrites. */
	while (c->nr_aer && c->nr_events && (c->csts & NVME_CSTS_RDY) &&
	       !cq_full(c, 0)) {
		memset(&cqe, 0, sizeof(cqe));
		cqe.dw0 = c->events[0];
		cqe.cid = c->aer_cid[--c->nr_aer];
		memmove(&c->events[0], &c->events[1],
			sizeof(c->events[0]) * --c->nr_events);
		if ((cqe.dw0 & 7) == NVME_AER_TYPE_ERROR)
			c->error_event_masked = true;
		post_cqe(c, 0, &cqe);
	}
}

static void event_add(struct nvme_ctrl *c, u8 type, u8 info, u8 log)
{
	u32 ev = type | (u32)info << 8 | (u32)log << 16;
	unsigned int i;

	/* Events of a type are masked until the host reads their log page. */
	if (type == NVME_AER_TYPE_ERROR && c->error_event_masked)
		return;
	for (i = 0; i < c->nr_events; i++)
		if (c->events[i] == ev)
			return;
	if (c->nr_events < MAX_EVENTS)
		c->events[c->nr_events++] = ev;
	aer_flush(c);
}

/* ---- doorbells (MMIO and shadow) ----------------------------------------- */

static u32 shadow_off(u16 qid, bool cq)
{
	return (2 * qid + cq) * 4;
}

static bool dbbuf_on(struct nvme_ctrl *c, u16 qid)
{
	/* The admin queue keeps MMIO doorbells, as Linux expects. */
	return c->dbbuf_dbs && qid;
}

/* The shadow doorbell's value if it is valid, else the current one. */
static u32 shadow_read(struct nvme_ctrl *c, u16 qid, bool cq, u32 cur,
		       u32 size)
{
	u32 v;

	if (!dbbuf_on(c, qid) ||
	    dma_read(c, c->dbbuf_dbs + shadow_off(qid, cq), &v, 4) || v >= size)
		return cur;
	return v;
}

static void eventidx_write(struct nvme_ctrl *c, u16 qid, bool cq, u32 v)
{
	if (dbbuf_on(c, qid))
		dma_write(c, c->dbbuf_eis + shadow_off(qid, cq), &v, 4);
}

static bool doorbell_write(struct nvme_ctrl *c, u64 off, u32 val)
{
	u64 idx = (off - NVME_DOORBELL_BASE) / 4;
	u16 qid = (u16)(idx / 2);
	bool is_cq = idx & 1;
	struct nvme_queue *q;

	if (!(c->csts & NVME_CSTS_RDY))
		return false;
	if (idx / 2 >= NR_QUEUES || off & 3) {
		event_add(c, NVME_AER_TYPE_ERROR, NVME_AER_INFO_INVALID_DB_REG,
			  NVME_LOG_ERROR);
		return false;
	}
	q = is_cq ? &c->cq[qid] : &c->sq[qid];
	if (!q->present) {
		event_add(c, NVME_AER_TYPE_ERROR, NVME_AER_INFO_INVALID_DB_REG,
			  NVME_LOG_ERROR);
		return false;
	}
	if (val >= q->size) {
		log_debug("doorbell %s %u: %u past the queue's %u entries",
			  is_cq ? "CQ" : "SQ", qid, val, q->size);
		event_add(c, NVME_AER_TYPE_ERROR,
			  NVME_AER_INFO_INVALID_DB_VALUE, NVME_LOG_ERROR);
		return false;
	}
	if (is_cq) {
		q->head = val;
		/* Room again: SQs that stopped on a full CQ may go on. */
		return true;
	}
	q->tail = val;
	return q->tail != q->head;
}

/* ---- completions -------------------------------------------------------- */

/* No entry left once the commands in flight have theirs. */
static bool cq_full(struct nvme_ctrl *c, u16 cqid)
{
	struct nvme_queue *q = &c->cq[cqid];
	u32 used;

	q->head = shadow_read(c, cqid, true, q->head, q->size);
	used = (q->tail + q->size - q->head) % q->size;
	return used + q->inflight + 1 >= q->size;
}

/* Every submitted command back (ops->drain) before the caller goes on. */
static void drain(struct nvme_ctrl *c)
{
	if (c->inflight && c->cfg.ops->drain)
		c->cfg.ops->drain(c->cfg.opaque);
}

static void cfs(struct nvme_ctrl *c, const char *why)
{
	if (!(c->csts & NVME_CSTS_CFS))
		log_info("controller fatal status: %s", why);
	c->csts |= NVME_CSTS_CFS;
}

/* The caller checked the CQ has room. */
static void post_cqe(struct nvme_ctrl *c, u16 cqid, struct nvme_cqe *cqe)
{
	struct nvme_queue *q = &c->cq[cqid];
	u64 addr = q->base + (u64)q->tail * sizeof(*cqe);
	void *p;

	cqe->status = (u16)(cqe->status & ~1u) | q->phase;
	p = c->cfg.ops->dma_ptr ?
	    c->cfg.ops->dma_ptr(c->cfg.opaque, addr, sizeof(*cqe), true) : NULL;
	if (p) {
		/* The phase word last: the driver polls on it. */
		memcpy(p, cqe, 12);
		__atomic_store_n((u32 *)((u8 *)p + 12),
				 (u32)cqe->cid | (u32)cqe->status << 16,
				 __ATOMIC_RELEASE);
	} else if (dma_write(c, addr, cqe, 12) ||
		   dma_write(c, addr + 12, (u8 *)cqe + 12, 4)) {
		cfs(c, "completion queue not writable");
		return;
	}
	if (++q->tail == q->size) {
		q->tail = 0;
		q->phase = !q->phase;
	}
	q->irq_due = true;
}

static void complete(struct nvme_ctrl *c, u16 sqid, const struct nvme_sqe *sqe,
		     u16 sc, u32 dw0)
{
	struct nvme_queue *sq = &c->sq[sqid];
	struct nvme_cqe cqe = {
		.dw0 = dw0,
		.sqhd = (u16)sq->head,
		.sqid = sqid,
		.cid = (u16)(sqe->cdw0 >> 16),
	};

	if (sc) {
		cqe.status = (u16)((sc | NVME_STATUS_DNR) << 1);
		error_log_add(c, sqid, cqe.cid, sc, sqe->nsid,
			      sqe->cdw10 | (u64)sqe->cdw11 << 32);
	}
	post_cqe(c, sq->cqid, &cqe);
}

/* ---- the namespace ------------------------------------------------------ */

static bool lba_range_ok(struct nvme_ctrl *c, u64 slba, u64 nlb)
{
	return slba < c->nsze && nlb <= c->nsze - slba;
}

static int backing_sync(struct nvme_ctrl *c)
{
	if (c->cfg.readonly)
		return 0;
	return fdatasync(c->cfg.fd) && errno != EINVAL ? -errno : 0;
}

static u16 bounce_io(struct nvme_ctrl *c, struct prp_seg *segs,
		     unsigned int nr, u64 off, bool write);

/*
 * Appends [p, p + len) to iov's nr entries, into the last one when it
 * ends where p starts (guest pages that are contiguous here too: one
 * 128 KiB buffer is one entry, not 32). Returns the new count.
 */
static unsigned int iov_append(struct iovec *iov, unsigned int nr, void *p,
			       u32 len)
{
	if (nr && (u8 *)iov[nr - 1].iov_base + iov[nr - 1].iov_len == p) {
		iov[nr - 1].iov_len += len;
		return nr;
	}
	iov[nr] = (struct iovec){ p, len };
	return nr + 1;
}

/*
 * The guest pages of segs as host pointers in iov, when every one is
 * mapped here (to_guest: the device writes them); zero copies then.
 * Returns the number of entries, 0 when a page is not mapped.
 */
static unsigned int segs_to_iov(struct nvme_ctrl *c,
				const struct prp_seg *segs, unsigned int nr,
				bool to_guest, struct iovec *iov)
{
	unsigned int i, nr_iov = 0;

	if (!c->cfg.ops->dma_ptr)
		return 0;
	for (i = 0; i < nr; i++) {
		void *p = c->cfg.ops->dma_ptr(c->cfg.opaque, segs[i].addr,
					      segs[i].len, to_guest);

		if (!p)
			return 0;
		nr_iov = iov_append(iov, nr_iov, p, segs[i].len);
	}
	return nr_iov;
}

/* Read or write [off, off + len) of the image against the PRP segments. */
static u16 data_io(struct nvme_ctrl *c, struct prp_seg *segs, unsigned int nr,
		   u64 off, bool write)
{
	struct iovec iov[PRP_MAX_SEGS];
	unsigned int i, nr_iov = segs_to_iov(c, segs, nr, !write, iov);
	u64 total = 0;
	ssize_t n;

	if (!nr_iov)
		return bounce_io(c, segs, nr, off, write);
	for (i = 0; i < nr; i++)
		total += segs[i].len;
	n = write ? pwritev(c->cfg.fd, iov, (int)nr_iov, (off_t)off) :
		    preadv(c->cfg.fd, iov, (int)nr_iov, (off_t)off);
	return n == (ssize_t)total ? NVME_SC_SUCCESS : NVME_SC_INTERNAL;
}

/* The guest pages of a read or write as host pointers: true with io->iov. */
static bool io_map(struct nvme_ctrl *c, struct prp_seg *segs, unsigned int nr,
		   struct nvme_io *io)
{
	io->nr_iov = segs_to_iov(c, segs, nr, io->op == NVME_IO_READ,
				 io->iov);
	return io->nr_iov > 0;
}

static u16 bounce_io(struct nvme_ctrl *c, struct prp_seg *segs,
		     unsigned int nr, u64 off, bool write)
{
	unsigned int i;
	u64 total;
	ssize_t n;
	u8 *b;

	/* Otherwise through the bounce buffer and the dma_rw op. */
	for (i = 0, total = 0, b = c->bounce; i < nr; i++) {
		if (write && c->cfg.ops->dma_rw(c->cfg.opaque, segs[i].addr,
						b + total, segs[i].len, false))
			return NVME_SC_DATA_XFER_ERROR;
		total += segs[i].len;
	}
	n = write ? pwrite(c->cfg.fd, c->bounce, total, (off_t)off) :
		    pread(c->cfg.fd, c->bounce, total, (off_t)off);
	if (n != (ssize_t)total)
		return NVME_SC_INTERNAL;
	for (i = 0, total = 0; i < nr && !write; i++) {
		if (dma_write(c, segs[i].addr, b + total, segs[i].len))
			return NVME_SC_DATA_XFER_ERROR;
		total += segs[i].len;
	}
	return NVME_SC_SUCCESS;
}

/* An io for sqe, from the SQ process_sq() is running (c->cur_sqid). */
static struct nvme_io *io_new(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			      enum nvme_io_op op)
{
	struct nvme_io *io = malloc(sizeof(*io));

	if (!io)
		return NULL;
	/* Not the iov array: the data path fills what it uses of it. */
	memset(io, 0, offsetof(struct nvme_io, iov));
	io->len = 0;		/* after iov: a flush has none */
	io->op = op;
	io->fd = c->cfg.fd;
	io->sqe = *sqe;
	io->sqid = c->cur_sqid;
	io->cqid = c->sq[c->cur_sqid].cqid;
	io->epoch = c->epoch;
	return io;
}

static void io_submit(struct nvme_ctrl *c, struct nvme_io *io)
{
	c->inflight++;
	c->cq[io->cqid].inflight++;
	c->cfg.ops->submit(c->cfg.opaque, io);
}

void nvme_io_run(struct nvme_io *io)
{
	ssize_t n;

	io->result = 0;
	if (io->op != NVME_IO_FLUSH) {
		n = io->op == NVME_IO_WRITE ?
		    pwritev(io->fd, io->iov, (int)io->nr_iov, (off_t)io->off) :
		    preadv(io->fd, io->iov, (int)io->nr_iov, (off_t)io->off);
		if (n < 0)
			io->result = -errno;
		else if ((u64)n != io->len)
			io->result = -EIO;
		if (io->result || !io->sync)
			return;
	}
	/* EINVAL: a memfd or a pipe has nothing to sync. */
	if (fdatasync(io->fd) && errno != EINVAL)
		io->result = -errno;
}

void nvme_ctrl_io_done(struct nvme_ctrl *c, struct nvme_io *io)
{
	u16 sc = io->result ? NVME_SC_INTERNAL : NVME_SC_SUCCESS;

	c->inflight--;
	/* Submitted before a reset: the queues it belonged to are gone. */
	if (io->epoch != c->epoch) {
		free(io);
		return;
	}
	c->cq[io->cqid].inflight--;
	if (!sc && io->op == NVME_IO_WRITE) {
		c->stats.write_cmds++;
		c->stats.bytes_written += io->len;
	} else if (!sc && io->op == NVME_IO_READ) {
		c->stats.read_cmds++;
		c->stats.bytes_read += io->len;
	}
	complete(c, io->sqid, &io->sqe, sc, 0);
	free(io);
}

/*
 * A read whose blocks are all in the page cache is a copy: done here it
 * costs less than the two thread switches of handing it out. RWF_NOWAIT
 * makes the kernel refuse (EAGAIN, or a short read) instead of waiting
 * for the disk; a file system without it says EOPNOTSUPP. Either way the
 * read then goes to ops->submit, so a slow image still never stalls.
 */
static bool read_now(struct nvme_ctrl *c, struct nvme_io *io)
{
	ssize_t n;

	if (!c->cfg.read_nowait)
		return false;
	n = preadv2(io->fd, io->iov, (int)io->nr_iov, (off_t)io->off,
		    RWF_NOWAIT);
	return n == (ssize_t)io->len;
}

static u16 cmd_rw(struct nvme_ctrl *c, const struct nvme_sqe *sqe, bool write)
{
	struct prp_seg segs[PRP_MAX_SEGS];
	u64 slba = sqe->cdw10 | (u64)sqe->cdw11 << 32;
	u64 nlb = (sqe->cdw12 & 0xffff) + 1;
	u64 len = nlb << c->lbads;
	unsigned int nr;
	u16 sc;

	if (write && c->cfg.readonly)
		return NVME_SC_NS_WRITE_PROTECTED;
	if (!lba_range_ok(c, slba, nlb))
		return NVME_SC_LBA_RANGE;
	if (len > NVME_MAX_XFER)
		return NVME_SC_INVALID_FIELD;
	sc = prp_map(c, sqe->prp1, sqe->prp2, (u32)len, segs, &nr);
	if (sc)
		return sc;
	if (c->cfg.ops->submit) {
		struct nvme_io *io = io_new(c, sqe,
					    write ? NVME_IO_WRITE : NVME_IO_READ);

		if (io && io_map(c, segs, nr, io)) {
			io->off = slba << c->lbads;
			io->len = len;
			if (!write && read_now(c, io)) {
				free(io);
				c->stats.read_cmds++;
				c->stats.bytes_read += len;
				return NVME_SC_SUCCESS;
			}
			/* FUA, or no volatile cache: stable before done. */
			io->sync = write && ((sqe->cdw12 >> 30) & 1 ||
					     !(c->vwc & 1)) &&
				   !c->cfg.readonly;
			io_submit(c, io);
			return SC_PENDING;
		}
		free(io);
	}
	sc = data_io(c, segs, nr, slba << c->lbads, write);
	if (sc)
		return sc;
	if (write) {
		c->stats.write_cmds++;
		c->stats.bytes_written += len;
		/* FUA, or no volatile cache: on stable storage before done. */
		if (((sqe->cdw12 >> 30) & 1 || !(c->vwc & 1)) &&
		    backing_sync(c))
			return NVME_SC_INTERNAL;
	} else {
		c->stats.read_cmds++;
		c->stats.bytes_read += len;
	}
	return NVME_SC_SUCCESS;
}

/* Zeroes [off, off + len): a punched hole, else written zeros. */
static int zero_range(struct nvme_ctrl *c, u64 off, u64 len)
{
	static const u8 zeros[65536];
	ssize_t n;

	if (!fallocate(c->cfg.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		return 0;
	while (len) {
		n = pwrite(c->cfg.fd, zeros, MIN(len, (u64)sizeof(zeros)),
			   (off_t)off);
		if (n <= 0)
			return -EIO;
		off += (u64)n;
		len -= (u64)n;
	}
	return 0;
}

static u16 cmd_write_zeroes(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	u64 slba = sqe->cdw10 | (u64)sqe->cdw11 << 32;
	u64 nlb = (sqe->cdw12 & 0xffff) + 1;

	if (c->cfg.readonly)
		return NVME_SC_NS_WRITE_PROTECTED;
	if (!lba_range_ok(c, slba, nlb))
		return NVME_SC_LBA_RANGE;
	if (zero_range(c, slba << c->lbads, nlb << c->lbads))
		return NVME_SC_INTERNAL;
	c->stats.write_cmds++;
	return NVME_SC_SUCCESS;
}

struct dsm_range {
	u32 attr;
	u32 nlb;
	u64 slba;
};

static u16 cmd_dsm(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	struct dsm_range r[DSM_MAX_RANGES];
	unsigned int nr = (sqe->cdw10 & 0xff) + 1, i;
	u16 sc;

	if (!(sqe->cdw11 & 4))		/* only deallocate does anything */
		return NVME_SC_SUCCESS;
	if (c->cfg.readonly)
		return NVME_SC_NS_WRITE_PROTECTED;
	sc = prp_copy(c, sqe, r, nr * sizeof(r[0]), false);
	if (sc)
		return sc;
	/* All ranges checked before any is touched. */
	for (i = 0; i < nr; i++)
		if (!lba_range_ok(c, r[i].slba, r[i].nlb) && r[i].nlb)
			return NVME_SC_LBA_RANGE;
	for (i = 0; i < nr; i++)
		if (r[i].nlb && zero_range(c, r[i].slba << c->lbads,
					   (u64)r[i].nlb << c->lbads))
			return NVME_SC_INTERNAL;
	return NVME_SC_SUCCESS;
}

/*
 * The data of every write completed so far on stable storage. Writes
 * still in flight need not be (the spec's Flush covers completed
 * commands), so a flush never waits for them.
 */
static u16 cmd_flush(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	struct nvme_io *io;

	if (c->cfg.readonly)
		return NVME_SC_SUCCESS;
	if (c->cfg.ops->submit) {
		io = io_new(c, sqe, NVME_IO_FLUSH);
		if (io) {
			io_submit(c, io);
			return SC_PENDING;
		}
	}
	return backing_sync(c) ? NVME_SC_INTERNAL : NVME_SC_SUCCESS;
}

static u16 io_command(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	u8 opc = sqe->cdw0 & 0xff;

	if (opc == NVME_CMD_FLUSH && sqe->nsid == 0xffffffff)
		return cmd_flush(c, sqe);
	switch (opc) {
	case NVME_CMD_FLUSH:
	case NVME_CMD_WRITE:
	case NVME_CMD_READ:
	case NVME_CMD_WRITE_ZEROES:
	case NVME_CMD_DSM:
		break;
	default:
		return NVME_SC_INVALID_OPCODE;
	}
	if (sqe->nsid != 1)
		return NVME_SC_INVALID_NS;
	switch (opc) {
	case NVME_CMD_FLUSH:
		return cmd_flush(c, sqe);
	case NVME_CMD_WRITE:
		return cmd_rw(c, sqe, true);
	case NVME_CMD_READ:
		return cmd_rw(c, sqe, false);
	case NVME_CMD_WRITE_ZEROES:
		return cmd_write_zeroes(c, sqe);
	default:
		return cmd_dsm(c, sqe);
	}
}

/* ---- identify ----------------------------------------------------------- */

static void put_str(u8 *dst, const char *s, size_t len)
{
	size_t n = strnlen(s, len);

	memset(dst, ' ', len);
	memcpy(dst, s, n);
}

static void put16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static void identify_ctrl(struct nvme_ctrl *c, u8 *d)
{
	char nqn[256];

	put16(d + 0, c->cfg.vid);
	put16(d + 2, c->cfg.ssvid);
	put_str(d + 4, c->cfg.serial, 20);
	put_str(d + 24, MODEL, 40);
	put_str(d + 64, FW_REV, 8);
	d[72] = 6;				/* RAB */
	d[77] = NVME_MDTS;
	put16(d + 78, 1);			/* CNTLID */
	put32(d + 80, 0x00010400);		/* VER */
	put32(d + 92, 1u << 8);			/* OAES: namespace attribute */
	d[111] = 1;				/* CNTRLTYPE: I/O controller */
	put16(d + 256, 1u << 8);		/* OACS: doorbell buffer config */
	d[258] = ABORT_LIMIT - 1;		/* ACL */
	d[259] = MAX_AER - 1;			/* AERL */
	d[260] = 1u << 1 | 1;			/* FRMW: 1 slot, read-only */
	d[262] = NVME_ERROR_LOG_ENTRIES - 1;	/* ELPE */
	put16(d + 266, 0x157);			/* WCTEMP 343 K */
	put16(d + 268, 0x175);			/* CCTEMP 373 K */
	d[512] = SQES << 4 | SQES;
	d[513] = CQES << 4 | CQES;
	put16(d + 514, c->cfg.queue_depth);	/* MAXCMD */
	put32(d + 516, 1);			/* NN */
	put16(d + 520, 1u << 2 | 1u << 3);	/* ONCS: DSM, write zeroes */
	d[525] = 1;				/* VWC present */
	d[530] = 1;				/* NVSCC */
	snprintf(nqn, sizeof(nqn), "nqn.2026-12.dev.uvmm:nvme:%s",
		 c->cfg.serial);
	memcpy(d + 768, nqn, strlen(nqn));	/* SUBNQN */
	put16(d + 2048, 2500);			/* PSD0 max power 25 W */
}

static void identify_ns(struct nvme_ctrl *c, u8 *d)
{
	put64(d + 0, c->nsze);			/* NSZE */
	put64(d + 8, c->nsze);			/* NCAP */
	put64(d + 16, c->nsze);			/* NUSE */
	d[25] = 0;				/* NLBAF: one format */
	d[26] = 0;				/* FLBAS: format 0 */
	d[33] = 1;				/* DLFEAT: deallocated read 0 */
	put32(d + 128, (u32)c->lbads << 16);	/* LBAF0: LBADS */
}

/* One NGUID descriptor, derived from the serial so it is stable. */
static void identify_ns_descs(struct nvme_ctrl *c, u8 *d)
{
	const char *s = c->cfg.serial;
	unsigned int i;

	d[0] = 2;				/* NIDT: NGUID */
	d[1] = 16;
	for (i = 0; s[i]; i++)
		d[4 + i % 16] ^= (u8)(s[i] + i);
	d[4] |= 0x80;				/* never all zeros */
}

static u16 cmd_identify(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	u8 d[IDENTIFY_SIZE];
	u8 cns = sqe->cdw10 & 0xff;

	memset(d, 0, sizeof(d));
	switch (cns) {
	case 0x00:
		if (sqe->nsid != 1)
			return NVME_SC_INVALID_NS;
		identify_ns(c, d);
		break;
	case 0x01:
		identify_ctrl(c, d);
		break;
	case 0x02:
		if (sqe->nsid >= 0xfffffffe)
			return NVME_SC_INVALID_NS;
		if (sqe->nsid < 1)
			put32(d, 1);
		break;
	case 0x03:
		if (sqe->nsid != 1)
			return NVME_SC_INVALID_NS;
		identify_ns_descs(c, d);
		break;
	case 0x06:
		/*
		 * The NVM command set's controller data (Linux asks from
		 * VS 1.4 on): all zeros, no limits beyond MDTS.
		 */
		if (sqe->cdw11 >> 24)		/* CSI other than NVM */
			return NVME_SC_INVALID_FIELD;
		break;
	default:
		return NVME_SC_INVALID_FIELD;
	}
	return prp_copy(c, sqe, d, sizeof(d), true);
}

/* ---- queues ------------------------------------------------------------- */

static u16 cmd_create_cq(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	u16 qid = sqe->cdw10 & 0xffff;
	u32 size = (sqe->cdw10 >> 16) + 1;
	u16 iv = sqe->cdw11 >> 16;
	struct nvme_queue *q;

	if (!qid || qid > (u32)c->ncqa + 1 || qid >= NR_QUEUES ||
	    c->cq[qid].present)
		return NVME_SC_QID_INVALID;
	if (size < 2 || size > c->cfg.queue_depth)
		return NVME_SC_QUEUE_SIZE;
	if (!(sqe->cdw11 & 1))			/* CAP.CQR: contiguous only */
		return NVME_SC_INVALID_FIELD;
	if (sqe->prp1 & (NVME_PAGE_SIZE - 1))
		return NVME_SC_PRP_OFFSET;
	if (iv >= c->cfg.nr_vectors)
		return NVME_SC_INVALID_VECTOR;
	if (NVME_CC_IOCQES(c->cc) != CQES)
		return NVME_SC_INVALID_FIELD;
	q = &c->cq[qid];
	*q = (struct nvme_queue){
		.present = true, .base = sqe->prp1, .size = size, .phase = 1,
		.ien = sqe->cdw11 & 2, .iv = iv,
	};
	eventidx_write(c, qid, true, 0);
	return NVME_SC_SUCCESS;
}

static u16 cmd_create_sq(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	u16 qid = sqe->cdw10 & 0xffff;
	u32 size = (sqe->cdw10 >> 16) + 1;
	u16 cqid = sqe->cdw11 >> 16;

	if (!qid || qid > (u32)c->nsqa + 1 || qid >= NR_QUEUES ||
	    c->sq[qid].present)
		return NVME_SC_QID_INVALID;
	if (!cqid || cqid >= NR_QUEUES || !c->cq[cqid].present)
		return NVME_SC_CQ_INVALID;
	if (size < 2 || size > c->cfg.queue_depth)
		return NVME_SC_QUEUE_SIZE;
	if (!(sqe->cdw11 & 1))
		return NVME_SC_INVALID_FIELD;
	if (sqe->prp1 & (NVME_PAGE_SIZE - 1))
		return NVME_SC_PRP_OFFSET;
	if (NVME_CC_IOSQES(c->cc) != SQES)
		return NVME_SC_INVALID_FIELD;
	c->sq[qid] = (struct nvme_queue){
		.present = true, .base = sqe->prp1, .size = size, .cqid = cqid,
	};
	c->cq[cqid].nr_sqs++;
	eventidx_write(c, qid, false, 0);
	return NVME_SC_SUCCESS;
}

static u16 cmd_delete_sq(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	u16 qid = sqe->cdw10 & 0xffff;

	if (!qid || qid >= NR_QUEUES || !c->sq[qid].present)
		return NVME_SC_QID_INVALID;
	/* Its commands in flight complete first, while it still exists. */
	drain(c);
	c->cq[c->sq[qid].cqid].nr_sqs--;
	c->sq[qid].present = false;
	return NVME_SC_SUCCESS;
}

static u16 cmd_delete_cq(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	u16 qid = sqe->cdw10 & 0xffff;

	if (!qid || qid >= NR_QUEUES || !c->cq[qid].present)
		return NVME_SC_QID_INVALID;
	if (c->cq[qid].nr_sqs)
		return NVME_SC_INVALID_QUEUE_DELETION;
	c->cq[qid].present = false;
	return NVME_SC_SUCCESS;
}

static bool io_queues_exist(struct nvme_ctrl *c)
{
	unsigned int i;

	for (i = 1; i < NR_QUEUES; i++)
		if (c->sq[i].present || c->cq[i].present)
			return true;
	return false;
}

/* ---- features and logs -------------------------------------------------- */

static u16 cmd_set_features(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			    u32 *dw0)
{
	u8 fid = sqe->cdw10 & 0xff;
	u32 v = sqe->cdw11;
	u16 nsq, ncq;

	if (sqe->cdw10 >> 31)
		return NVME_SC_FEATURE_NOT_SAVEABLE;
	switch (fid) {
	case NVME_FEAT_ARBITRATION:
		c->arbitration = v;
		return NVME_SC_SUCCESS;
	case NVME_FEAT_VWC:
		c->vwc = v & 1;
		return NVME_SC_SUCCESS;
	case NVME_FEAT_NUM_QUEUES:
		nsq = v & 0xffff;
		ncq = v >> 16;
		if (nsq == 0xffff || ncq == 0xffff)
			return NVME_SC_INVALID_FIELD;
		if (io_queues_exist(c))
			return NVME_SC_CMD_SEQ_ERROR;
		c->nsqa = MIN(nsq, (u16)(c->cfg.max_ioq - 1));
		c->ncqa = MIN(ncq, (u16)(c->cfg.max_ioq - 1));
		*dw0 = c->nsqa | (u32)c->ncqa << 16;
		return NVME_SC_SUCCESS;
	case NVME_FEAT_IRQ_COALESCE:
		c->irq_coalesce = v & 0xffff;
		return NVME_SC_SUCCESS;
	case NVME_FEAT_ASYNC_EVENT:
		c->async_config = v & 0x3ff;
		return NVME_SC_SUCCESS;
	}
	return NVME_SC_INVALID_FIELD;
}

static u16 cmd_get_features(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			    u32 *dw0)
{
	u8 fid = sqe->cdw10 & 0xff;
	u8 sel = (sqe->cdw10 >> 8) & 7;
	bool dflt = sel == 1 || sel == 2;	/* nothing is saved */

	if (sel > 3)
		return NVME_SC_INVALID_FIELD;
	switch (fid) {
	case NVME_FEAT_ARBITRATION:
	case NVME_FEAT_VWC:
	case NVME_FEAT_NUM_QUEUES:
	case NVME_FEAT_IRQ_COALESCE:
	case NVME_FEAT_ASYNC_EVENT:
		break;
	default:
		return NVME_SC_INVALID_FIELD;
	}
	if (sel == 3) {
		*dw0 = 1u << 2;		/* changeable, not saveable */
		return NVME_SC_SUCCESS;
	}
	switch (fid) {
	case NVME_FEAT_ARBITRATION:
		*dw0 = dflt ? 0 : c->arbitration;
		break;
	case NVME_FEAT_VWC:
		*dw0 = dflt ? 1 : c->vwc;
		break;
	case NVME_FEAT_NUM_QUEUES:
		*dw0 = dflt ? (u32)(c->cfg.max_ioq - 1) * 0x10001u :
			      c->nsqa | (u32)c->ncqa << 16;
		break;
	case NVME_FEAT_IRQ_COALESCE:
		*dw0 = dflt ? 0 : c->irq_coalesce;
		break;
	default:
		*dw0 = dflt ? 0 : c->async_config;
		break;
	}
	return NVME_SC_SUCCESS;
}

/* Little-endian 128-bit counter (only the low 64 bits are ever used). */
static void put128(u8 *p, u64 v)
{
	put64(p, v);
	put64(p + 8, 0);
}

static u16 cmd_get_log(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	u8 lid = sqe->cdw10 & 0xff;
	bool rae = (sqe->cdw10 >> 15) & 1;
	u64 numd = ((sqe->cdw10 >> 16) | (u64)(sqe->cdw11 & 0xffff) << 16) + 1;
	u64 off = sqe->cdw12 | (u64)sqe->cdw13 << 32;
	u64 len = numd * 4;
	u8 log[NVME_ERROR_LOG_ENTRIES * 64];
	u32 size;
	unsigned int i;

	memset(log, 0, sizeof(log));
	switch (lid) {
	case NVME_LOG_ERROR:
		size = sizeof(log);
		for (i = 0; i < NVME_ERROR_LOG_ENTRIES; i++) {
			u8 *e = log + i * 64;
			struct error_entry *x = &c->errlog[i];

			if (!x->count)
				break;
			put64(e, x->count);
			put16(e + 8, x->sqid);
			put16(e + 10, x->cid);
			put16(e + 12, (u16)(x->status << 1));
			put16(e + 14, x->loc);
			put64(e + 16, x->lba);
			put32(e + 24, x->nsid);
		}
		if (!rae)
			c->error_event_masked = false;
		break;
	case NVME_LOG_SMART:
		size = 512;
		put16(log + 1, 313);		/* composite temperature, K */
		log[3] = 100;			/* available spare */
		log[4] = 10;			/* spare threshold */
		/* Data units are thousands of 512-byte units, rounded up. */
		put128(log + 32, (c->stats.bytes_read / 512 + 999) / 1000);
		put128(log + 48, (c->stats.bytes_written / 512 + 999) / 1000);
		put128(log + 64, c->stats.read_cmds);
		put128(log + 80, c->stats.write_cmds);
		put128(log + 112, 1);		/* power cycles */
		put128(log + 176, c->error_count);
		break;
	case NVME_LOG_FW_SLOT:
		size = 512;
		log[0] = 1;			/* AFI: slot 1 active */
		put_str(log + 8, FW_REV, 8);
		break;
	default:
		return NVME_SC_INVALID_LOG_PAGE;
	}
	if (off & 3 || off >= size)
		return NVME_SC_INVALID_FIELD;
	if (len > NVME_MAX_XFER)
		return NVME_SC_INVALID_FIELD;
	if (len <= size - off)
		return prp_copy(c, sqe, log + off, (u32)len, true);
	/* Past the log's end the host gets zeros. */
	{
		u8 *buf = calloc(1, len);
		u16 sc;

		if (!buf)
			return NVME_SC_INTERNAL;
		memcpy(buf, log + off, size - off);
		sc = prp_copy(c, sqe, buf, (u32)len, true);
		free(buf);
		return sc;
	}
}

static u16 cmd_dbbuf_config(struct nvme_ctrl *c, const struct nvme_sqe *sqe)
{
	unsigned int i;

	if (!sqe->prp1 || !sqe->prp2 ||
	    sqe->prp1 & (NVME_PAGE_SIZE - 1) ||
	    sqe->prp2 & (NVME_PAGE_SIZE - 1))
		return NVME_SC_INVALID_FIELD;
	if (dma_read(c, sqe->prp1, &i, 4) || dma_read(c, sqe->prp2, &i, 4))
		return NVME_SC_DATA_XFER_ERROR;
	c->dbbuf_dbs = sqe->prp1;
	c->dbbuf_eis = sqe->prp2;
	log_info("shadow doorbells on: buffer 0x%llx, event indexes 0x%llx",
		 (unsigned long long)c->dbbuf_dbs,
		 (unsigned long long)c->dbbuf_eis);
	/* Queues that exist now carry on from where their doorbells are. */
	for (i = 1; i < NR_QUEUES; i++) {
		if (c->sq[i].present)
			eventidx_write(c, i, false, c->sq[i].tail);
		if (c->cq[i].present)
			eventidx_write(c, i, true, c->cq[i].head);
	}
	return NVME_SC_SUCCESS;
}

/* Returns true when the command completes now (AERs wait). */
static bool admin_command(struct nvme_ctrl *c, const struct nvme_sqe *sqe,
			  u16 *sc, u32 *dw0)
{
	u8 opc = sqe->cdw0 & 0xff;

	switch (opc) {
	case NVME_ADM_DELETE_SQ:
		*sc = cmd_delete_sq(c, sqe);
		break;
	case NVME_ADM_CREATE_SQ:
		*sc = cmd_create_sq(c, sqe);
		break;
	case NVME_ADM_GET_LOG:
		*sc = cmd_get_log(c, sqe);
		break;
	case NVME_ADM_DELETE_CQ:
		*sc = cmd_delete_cq(c, sqe);
		break;
	case NVME_ADM_CREATE_CQ:
		*sc = cmd_create_cq(c, sqe);
		break;
	case NVME_ADM_IDENTIFY:
		*sc = cmd_identify(c, sqe);
		break;
	case NVME_ADM_ABORT:
		/* "Not aborted": the command completes as it would have. */
		*sc = NVME_SC_SUCCESS;
		*dw0 = 1;
		break;
	case NVME_ADM_SET_FEATURES:
		*sc = cmd_set_features(c, sqe, dw0);
		break;
	case NVME_ADM_GET_FEATURES:
		*sc = cmd_get_features(c, sqe, dw0);
		break;
	case NVME_ADM_AER:
		if (c->nr_aer >= MAX_AER) {
			*sc = NVME_SC_AER_LIMIT;
			break;
		}
		c->aer_cid[c->nr_aer++] = (u16)(sqe->cdw0 >> 16);
		return false;
	case NVME_ADM_DBBUF_CONFIG:
		*sc = cmd_dbbuf_config(c, sqe);
		break;
	default:
		*sc = NVME_SC_INVALID_OPCODE;
		break;
	}
	return true;
}

/* ---- queue processing --------------------------------------------------- */

/* Runs what sits in one SQ; stops when its CQ is full. */
static unsigned int process_sq(struct nvme_ctrl *c, u16 qid)
{
	struct nvme_queue *sq = &c->sq[qid];
	struct nvme_sqe sqe;
	unsigned int done = 0;
	u32 dw0;
	u16 sc;

	sq->tail = shadow_read(c, qid, false, sq->tail, sq->size);
	while (sq->present && sq->head != sq->tail &&
	       !(c->csts & NVME_CSTS_CFS) && !cq_full(c, sq->cqid)) {
		if (dma_read(c, sq->base + (u64)sq->head * sizeof(sqe), &sqe,
			     sizeof(sqe))) {
			cfs(c, "submission queue not readable");
			break;
		}
		sq->head = (sq->head + 1) % sq->size;
		dw0 = 0;
		if ((sqe.cdw0 >> 8) & 0xff) {
			/* Fused operations and SGLs are not supported. */
			sc = NVME_SC_INVALID_FIELD;
		} else if (!qid) {
			if (!admin_command(c, &sqe, &sc, &dw0))
				continue;
		} else {
			c->cur_sqid = qid;
			sc = io_command(c, &sqe);
			if (sc == SC_PENDING) {
				done++;
				goto next;
			}
		}
		complete(c, qid, &sqe, sc, dw0);
		done++;
		if (!qid)
			aer_flush(c);
next:
		/* A shadow tail may have moved on meanwhile. */
		if (sq->head == sq->tail)
			sq->tail = shadow_read(c, qid, false, sq->tail,
					       sq->size);
	}
	eventidx_write(c, qid, false, sq->tail);
	return done;
}

static void raise_irqs(struct nvme_ctrl *c)
{
	unsigned int i;

	for (i = 0; i < NR_QUEUES; i++) {
		struct nvme_queue *q = &c->cq[i];

		if (!q->present)
			continue;
		/*
		 * The host's CQ head matters only to a full CQ, which holds
		 * its SQs back: then its next head update asks for a register
		 * write (the caller reads the shadow again afterwards, so an
		 * update made meanwhile is not missed). Otherwise the shadow
		 * head, read before every completion, is enough, and the
		 * index one behind the head asks for no write at all: at
		 * queue depth 1 that is one trapped exit less per command.
		 */
		if (dbbuf_on(c, (u16)i))
			eventidx_write(c, (u16)i, true,
				       cq_full(c, (u16)i) ? q->head :
				       (q->head + q->size - 1) % q->size);
		if (!q->irq_due)
			continue;
		q->irq_due = false;
		if (!q->ien || (c->intms & 1))
			continue;
		c->stats.irqs++;
		c->cfg.ops->irq(c->cfg.opaque, q->iv);
	}
}

/*
 * An SQ with commands left and room in its CQ. With shadow doorbells the
 * host may have freed CQ entries without a register write (the event
 * index did not ask for one): the shadow is read again here, after
 * raise_irqs() wrote the event index, so no such update is missed.
 */
static bool sq_runnable(struct nvme_ctrl *c, u16 qid)
{
	struct nvme_queue *sq = &c->sq[qid];

	if (!sq->present)
		return false;
	sq->tail = shadow_read(c, qid, false, sq->tail, sq->size);
	return sq->head != sq->tail && !cq_full(c, sq->cqid);
}

unsigned int nvme_ctrl_process(struct nvme_ctrl *c)
{
	unsigned int total = 0, n, i;
	bool again;

	if (!(c->csts & NVME_CSTS_RDY))
		return 0;
	do {
		/* Round robin over the queues until a pass finds nothing. */
		do {
			n = 0;
			for (i = 0; i < NR_QUEUES; i++)
				if (c->sq[i].present)
					n += process_sq(c, (u16)i);
			total += n;
		} while (n && !(c->csts & NVME_CSTS_CFS));
		raise_irqs(c);
		again = false;
		for (i = 1; i < NR_QUEUES && c->dbbuf_dbs &&
			    !(c->csts & NVME_CSTS_CFS); i++)
			again |= sq_runnable(c, (u16)i);
	} while (again);
	return total;
}

bool nvme_ctrl_intx_pending(struct nvme_ctrl *c)
{
	unsigned int i;

	if (!(c->csts & NVME_CSTS_RDY) || (c->intms & 1))
		return false;
	for (i = 0; i < NR_QUEUES; i++) {
		struct nvme_queue *q = &c->cq[i];

		if (!q->present || !q->ien)
			continue;
		/* With shadow doorbells the head may have moved unannounced. */
		q->head = shadow_read(c, (u16)i, true, q->head, q->size);
		if (q->tail != q->head)
			return true;
	}
	return false;
}

/* ---- registers ---------------------------------------------------------- */

/* CC.EN 1 -> 0, or a function reset: queues, features and events go. */
static void ctrl_disable(struct nvme_ctrl *c)
{
	/* I/O in flight writes guest memory: let it end, drop its completions. */
	c->epoch++;
	drain(c);
	memset(c->sq, 0, sizeof(c->sq));
	memset(c->cq, 0, sizeof(c->cq));
	c->csts &= ~(NVME_CSTS_RDY | NVME_CSTS_CFS);
	c->arbitration = 0;
	c->vwc = 1;
	c->irq_coalesce = 0;
	c->async_config = 0;
	c->nsqa = c->ncqa = (u16)(c->cfg.max_ioq - 1);
	c->dbbuf_dbs = c->dbbuf_eis = 0;
	c->nr_aer = 0;
	c->nr_events = 0;
	c->error_event_masked = false;
}

static void ctrl_enable(struct nvme_ctrl *c)
{
	u32 asqs = (c->aqa & 0xfff) + 1, acqs = ((c->aqa >> 16) & 0xfff) + 1;

	if (NVME_CC_MPS(c->cc) || NVME_CC_CSS(c->cc) || NVME_CC_AMS(c->cc)) {
		cfs(c, "CC: unsupported page size, command set or arbitration");
		return;
	}
	if (asqs < 2 || acqs < 2) {
		cfs(c, "AQA: an admin queue of fewer than 2 entries");
		return;
	}
	c->sq[0] = (struct nvme_queue){
		.present = true, .base = c->asq, .size = asqs,
	};
	c->cq[0] = (struct nvme_queue){
		.present = true, .base = c->acq, .size = acqs, .phase = 1,
		.ien = true, .nr_sqs = 1,
	};
	c->csts = (c->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_RDY;
}

static void cc_write(struct nvme_ctrl *c, u32 v)
{
	u32 old = c->cc;

	/* Only the enable, shutdown and entry-size fields change live. */
	if (old & NVME_CC_EN)
		v = (v & (NVME_CC_EN | 3u << 14 | 0xffu << 16)) |
		    (old & ~(NVME_CC_EN | 3u << 14 | 0xffu << 16));
	c->cc = v & 0x00fffff1;
	if ((old & NVME_CC_EN) && !(v & NVME_CC_EN)) {
		ctrl_disable(c);
	} else if (!(old & NVME_CC_EN) && (v & NVME_CC_EN) &&
		   !(c->csts & NVME_CSTS_CFS)) {
		ctrl_enable(c);
	}
	if (NVME_CC_SHN(v) && !(NVME_CC_SHN(old))) {
		/* Shutdown complete means every command's data is stored. */
		drain(c);
		if (nvme_ctrl_flush(c))
			log_warn("flush at shutdown failed");
		c->csts = (c->csts & ~NVME_CSTS_SHST_MASK) |
			  NVME_CSTS_SHST_DONE;
	}
}

static u32 reg_read32(struct nvme_ctrl *c, u64 off)
{
	switch (off) {
	case NVME_REG_CAP:	return (u32)c->cap;
	case NVME_REG_CAP + 4:	return (u32)(c->cap >> 32);
	case NVME_REG_VS:	return 0x00010400;
	case NVME_REG_INTMS:
	case NVME_REG_INTMC:	return c->intms;
	case NVME_REG_CC:	return c->cc;
	case NVME_REG_CSTS:	return c->csts;
	case NVME_REG_AQA:	return c->aqa;
	case NVME_REG_ASQ:	return (u32)c->asq;
	case NVME_REG_ASQ + 4:	return (u32)(c->asq >> 32);
	case NVME_REG_ACQ:	return (u32)c->acq;
	case NVME_REG_ACQ + 4:	return (u32)(c->acq >> 32);
	}
	return 0;
}

static bool reg_write32(struct nvme_ctrl *c, u64 off, u32 v)
{
	bool live = c->cc & NVME_CC_EN;
	unsigned int i;

	if (off >= NVME_DOORBELL_BASE && off < NVME_MSIX_TABLE)
		return doorbell_write(c, off, v);
	switch (off) {
	case NVME_REG_INTMS:
		c->intms |= v & 1;
		break;
	case NVME_REG_INTMC:
		c->intms &= ~(v & 1);
		if (!nvme_ctrl_intx_pending(c))
			return false;
		/* Unmasked with entries unread: the line asserts again. */
		for (i = 0; i < NR_QUEUES; i++)
			if (c->cq[i].present && c->cq[i].tail != c->cq[i].head)
				c->cq[i].irq_due = true;
		return true;
	case NVME_REG_CC:
		cc_write(c, v);
		break;
	/* The admin queue registers are fixed while enabled. */
	case NVME_REG_AQA:
		if (!live)
			c->aqa = v & 0x0fff0fff;
		break;
	case NVME_REG_ASQ:
		if (!live)
			c->asq = (c->asq & ~0xffffffffull) | (v & ~0xfffu);
		break;
	case NVME_REG_ASQ + 4:
		if (!live)
			c->asq = (c->asq & 0xffffffffull) | (u64)v << 32;
		break;
	case NVME_REG_ACQ:
		if (!live)
			c->acq = (c->acq & ~0xffffffffull) | (v & ~0xfffu);
		break;
	case NVME_REG_ACQ + 4:
		if (!live)
			c->acq = (c->acq & 0xffffffffull) | (u64)v << 32;
		break;
	}
	return false;
}

u64 nvme_ctrl_mmio_read(struct nvme_ctrl *c, u64 off, unsigned int len)
{
	u64 w, v;

	if (off >= NVME_BAR0_SIZE || len > NVME_BAR0_SIZE - off ||
	    (len != 1 && len != 2 && len != 4 && len != 8))
		return 0;
	if (len == 8 && !(off & 7))
		return reg_read32(c, off) | (u64)reg_read32(c, off + 4) << 32;
	/* Narrower or unaligned: the bytes of the dwords it covers. */
	w = ALIGN_DOWN(off, 4);
	v = reg_read32(c, w) | (u64)reg_read32(c, w + 4) << 32;
	v >>= (off - w) * 8;
	return len == 8 ? v : v & ((1ull << (len * 8)) - 1);
}

bool nvme_ctrl_mmio_write(struct nvme_ctrl *c, u64 off, u64 val,
			  unsigned int len)
{
	bool work;

	if (off >= NVME_BAR0_SIZE || len > NVME_BAR0_SIZE - off)
		return false;
	if (len == 8 && !(off & 7)) {
		work = reg_write32(c, off, (u32)val);
		/* A doorbell is 4 bytes: the upper half names the next one. */
		return reg_write32(c, off + 4, (u32)(val >> 32)) || work;
	}
	if (len != 4 || off & 3) {
		/* Registers are written whole; anything else is dropped. */
		log_debug("BAR0 write of %u bytes at 0x%llx ignored", len,
			  (unsigned long long)off);
		return false;
	}
	work = reg_write32(c, off, (u32)val);
	/* An event completed an AER: its interrupt is raised by a pass. */
	return work || c->cq[0].irq_due;
}

/* ---- life --------------------------------------------------------------- */

void nvme_ctrl_reset(struct nvme_ctrl *c)
{
	ctrl_disable(c);
	c->cc = 0;
	c->csts = 0;
	c->intms = 0;
	c->aqa = 0;
	c->asq = c->acq = 0;
}

int nvme_ctrl_flush(struct nvme_ctrl *c)
{
	return backing_sync(c);
}

int nvme_ctrl_create(const struct nvme_ctrl_config *cfg,
		     struct nvme_ctrl **out)
{
	struct nvme_ctrl *c;

	if (cfg->block_size != 512 && cfg->block_size != 4096)
		return -EINVAL;
	if (cfg->size < cfg->block_size || !cfg->max_ioq ||
	    cfg->max_ioq > NVME_MAX_IOQ || cfg->queue_depth < 2 ||
	    cfg->queue_depth > NVME_MAX_QUEUE_DEPTH || !cfg->nr_vectors ||
	    !cfg->ops || !cfg->ops->dma_rw || !cfg->ops->irq || !cfg->serial ||
	    strlen(cfg->serial) > 20)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->bounce = malloc(NVME_MAX_XFER);
	if (!c->bounce) {
		free(c);
		return -ENOMEM;
	}
	c->cfg = *cfg;
	c->lbads = cfg->block_size == 512 ? 9 : 12;
	c->nsze = cfg->size >> c->lbads;
	/*
	 * MQES, CQR, TO = 15 s, DSTRD 0, CSS: NVM, MPSMIN = MPSMAX = 4 KiB.
	 */
	c->cap = (u64)(cfg->queue_depth - 1) | 1ull << 16 | 30ull << 24 |
		 1ull << 37;
	nvme_ctrl_reset(c);
	*out = c;
	return 0;
}

void nvme_ctrl_destroy(struct nvme_ctrl *c)
{
	if (!c)
		return;
	c->epoch++;
	drain(c);
	free(c->bounce);
	free(c);
}

void nvme_ctrl_get_stats(struct nvme_ctrl *c, struct nvme_ctrl_stats *st)
{
	*st = c->stats;
}
