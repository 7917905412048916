/* SPDX-License-Identifier: MIT */
#ifndef UVMM_NVME_CTRL_H
#define UVMM_NVME_CTRL_H

/*
 * An NVMe 1.4 controller model with one namespace, separate from any
 * transport: BAR0 accesses go in through nvme_ctrl_mmio_read/write(), the
 * queues are walked by nvme_ctrl_process(), and everything that touches
 * the host (guest memory, interrupts) goes out through the ops. The
 * namespace is a file descriptor (an image file or a memfd) read and
 * written with preadv/pwritev, on the caller's thread or, with
 * ops->submit, on threads of the caller's choosing (struct nvme_io).
 * The controller itself is not thread-safe: one thread drives it.
 *
 * Every value a guest writes is checked; a bad one gets the status the
 * spec names, CSTS.CFS where the spec says so, or an asynchronous event,
 * and never an access outside the image or the guest memory the ops give.
 */

#include <sys/uio.h>
#include "common/types.h"
#include "abi/nvme.h"

#define NVME_BAR0_SIZE		0x4000	/* registers, doorbells, MSI-X */
#define NVME_MSIX_TABLE		0x2000	/* in BAR0, emulated by the client */
#define NVME_MSIX_PBA		0x3000
#define NVME_MAX_IOQ		64	/* I/O queue pairs at most */
#define NVME_MAX_QUEUE_DEPTH	4096
#define NVME_PAGE_SIZE		4096u
#define NVME_MDTS		5	/* 2^5 pages: 128 KiB per command */
#define NVME_MAX_XFER		(NVME_PAGE_SIZE << NVME_MDTS)

/* Feature identifiers. */
#define NVME_FEAT_ARBITRATION	0x01
#define NVME_FEAT_VWC		0x06
#define NVME_FEAT_NUM_QUEUES	0x07
#define NVME_FEAT_IRQ_COALESCE	0x08
#define NVME_FEAT_ASYNC_EVENT	0x0b

/* Log pages. */
#define NVME_LOG_ERROR		0x01
#define NVME_LOG_SMART		0x02
#define NVME_LOG_FW_SLOT	0x03
#define NVME_ERROR_LOG_ENTRIES	16

/* Status: SCT << 8 | SC, as in the completion's status field. */
#define NVME_SC(sct, sc)		((u16)((sct) << 8 | (sc)))
#define NVME_SC_SUCCESS			NVME_SC(0, 0x00)
#define NVME_SC_INVALID_OPCODE		NVME_SC(0, 0x01)
#define NVME_SC_INVALID_FIELD		NVME_SC(0, 0x02)
#define NVME_SC_DATA_XFER_ERROR		NVME_SC(0, 0x04)
#define NVME_SC_INTERNAL		NVME_SC(0, 0x06)
#define NVME_SC_INVALID_NS		NVME_SC(0, 0x0b)
#define NVME_SC_CMD_SEQ_ERROR		NVME_SC(0, 0x0c)
#define NVME_SC_PRP_OFFSET		NVME_SC(0, 0x13)
#define NVME_SC_NS_WRITE_PROTECTED	NVME_SC(0, 0x20)
#define NVME_SC_LBA_RANGE		NVME_SC(0, 0x80)
#define NVME_SC_CQ_INVALID		NVME_SC(1, 0x00)
#define NVME_SC_QID_INVALID		NVME_SC(1, 0x01)
#define NVME_SC_QUEUE_SIZE		NVME_SC(1, 0x02)
#define NVME_SC_AER_LIMIT		NVME_SC(1, 0x05)
#define NVME_SC_INVALID_VECTOR		NVME_SC(1, 0x08)
#define NVME_SC_INVALID_LOG_PAGE	NVME_SC(1, 0x09)
#define NVME_SC_INVALID_QUEUE_DELETION	NVME_SC(1, 0x0c)
#define NVME_SC_FEATURE_NOT_SAVEABLE	NVME_SC(1, 0x0d)
#define NVME_STATUS_DNR			0x4000	/* bit 14 of the 15-bit field */

/* Asynchronous events (completion dword 0 of an AER). */
#define NVME_AER_TYPE_ERROR		0
#define NVME_AER_INFO_INVALID_DB_REG	0x00
#define NVME_AER_INFO_INVALID_DB_VALUE	0x01

/*
 * A data command handed to ops->submit to run on another thread: a read
 * or write of the namespace straight to or from guest memory (iov), or a
 * flush. nvme_io_run() does it (blocking) and sets result; the io then
 * goes back to the controller through nvme_ctrl_io_done() on the
 * controller's thread, which posts its completion and frees it.
 */
#define NVME_IO_MAX_IOV		(NVME_MAX_XFER / NVME_PAGE_SIZE + 1)

enum nvme_io_op { NVME_IO_READ, NVME_IO_WRITE, NVME_IO_FLUSH };

struct nvme_io {
	struct nvme_io *next;	/* free for the submitter's lists */
	enum nvme_io_op op;
	int fd;
	u64 off;		/* byte offset in the namespace */
	bool sync;		/* a write: fdatasync before it is done */
	unsigned int nr_iov;
	struct iovec iov[NVME_IO_MAX_IOV];
	int result;		/* 0 or -errno, from nvme_io_run() */
	/* The controller's: where and what the completion says. */
	struct nvme_sqe sqe;
	u16 sqid, cqid;
	u32 epoch;
	u64 len;
};

/* Runs io on the calling thread: preadv/pwritev (+ fdatasync), or fdatasync. */
void nvme_io_run(struct nvme_io *io);

struct nvme_ctrl_ops {
	/*
	 * Host pointer for guest [addr, addr + len) when it is mapped in one
	 * piece with that access, else NULL (then dma_rw is used).
	 */
	void *(*dma_ptr)(void *opaque, u64 addr, u64 len, bool write);
	/* Copy to/from guest memory: 0 or -errno (not mapped, refused). */
	int (*dma_rw)(void *opaque, u64 addr, void *buf, u64 len, bool write);
	/* Raise interrupt vector (MSI-X vector, or INTx when none). */
	void (*irq)(void *opaque, u16 vector);
	/*
	 * Optional: run io asynchronously and give it back with
	 * nvme_ctrl_io_done() on the controller's thread, in any order.
	 * Without it, every command completes inside nvme_ctrl_process().
	 */
	void (*submit)(void *opaque, struct nvme_io *io);
	/*
	 * With submit: wait until every submitted io has run and give each
	 * back with nvme_ctrl_io_done() before returning. The controller
	 * calls it when it must not leave I/O behind: a reset, a queue
	 * deletion, a shutdown, nvme_ctrl_destroy().
	 */
	void (*drain)(void *opaque);
};

struct nvme_ctrl_config {
	int fd;			/* the namespace's backing, read/write */
	u64 size;		/* bytes; the namespace is size / block_size */
	u32 block_size;		/* 512 or 4096 */
	bool readonly;
	u16 max_ioq;		/* 1..NVME_MAX_IOQ */
	u16 queue_depth;	/* 2..NVME_MAX_QUEUE_DEPTH: CAP.MQES + 1 */
	u16 nr_vectors;		/* MSI-X vectors offered (>= 1) */
	const char *serial;	/* at most 20 characters */
	/*
	 * With ops->submit: a read first tries preadv2(RWF_NOWAIT) on the
	 * controller's thread and is only handed out when that would wait.
	 */
	bool read_nowait;
	u16 vid, ssvid;
	const struct nvme_ctrl_ops *ops;
	void *opaque;
};

struct nvme_ctrl;

int nvme_ctrl_create(const struct nvme_ctrl_config *cfg,
		     struct nvme_ctrl **out);
void nvme_ctrl_destroy(struct nvme_ctrl *c);

/* Power-on state (a function-level reset): registers, queues, features. */
void nvme_ctrl_reset(struct nvme_ctrl *c);

/*
 * BAR0 access of len 1, 2, 4 or 8 bytes at off. Reads of anything that is
 * not a register give zeros. A doorbell write only records the new value:
 * the return is true when nvme_ctrl_process() has work to do.
 */
u64 nvme_ctrl_mmio_read(struct nvme_ctrl *c, u64 off, unsigned int len);
bool nvme_ctrl_mmio_write(struct nvme_ctrl *c, u64 off, u64 val,
			  unsigned int len);

/*
 * Runs every queued command, posts the completions and raises each
 * completion queue's interrupt once. Returns the commands completed.
 */
unsigned int nvme_ctrl_process(struct nvme_ctrl *c);

/*
 * A submitted io is done: its completion is posted (unless the controller
 * was reset since) and io freed. Interrupts go out at the next
 * nvme_ctrl_process(), which also runs what the freed CQ room allows.
 */
void nvme_ctrl_io_done(struct nvme_ctrl *c, struct nvme_io *io);

/* Whether any enabled completion queue holds unread entries (INTx level). */
bool nvme_ctrl_intx_pending(struct nvme_ctrl *c);

/* Flush the backing (clean shutdown): 0 or -errno. */
int nvme_ctrl_flush(struct nvme_ctrl *c);

/* Counters for logs and tests. */
struct nvme_ctrl_stats {
	u64 read_cmds, write_cmds;
	u64 bytes_read, bytes_written;
	u64 errors;
	u64 irqs;
};
void nvme_ctrl_get_stats(struct nvme_ctrl *c, struct nvme_ctrl_stats *st);

#endif
