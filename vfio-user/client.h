/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VFIO_USER_CLIENT_H
#define UVMM_VFIO_USER_CLIENT_H

/*
 * vfio-user client: one connection to one device server.
 *
 * Any number of threads may call vfu_client_request() (and the typed
 * calls built on it) at once. Each call takes a message slot, gives it
 * the next id, sends it under the connection's send lock and waits on
 * the slot's own mutex/condvar until its reply, matched by id, has been
 * validated and copied into the caller's buffers, or until the timeout.
 * The socket is read by whoever needs it: a waiter that finds no other
 * reader reads for everyone (delivering other replies to their slots and
 * server requests to the worker) until its own reply comes; the receive
 * thread reads only while nobody waits. Server requests (DMA_READ/WRITE)
 * are served by a worker thread through struct vfu_client_dma_ops, on the
 * twin socket when the server accepted it, so they never queue behind a
 * blocked waiter.
 *
 * States: CONNECTED -> ERROR (dead server: bad reply, unknown id, closed
 * socket, timeout; every pending and later request fails with the error
 * that killed it) -> CLOSING -> CLOSED (vfu_client_close). An ERROR-flag
 * reply only fails that request with its -errno.
 */

#include <sys/uio.h>

#include "common/types.h"
#include "vfio-user/protocol.h"
#include "vfio-user/transport.h"

struct vfu_client;

enum vfu_client_state {
	VFU_CLIENT_CONNECTED,
	VFU_CLIENT_ERROR,
	VFU_CLIENT_CLOSING,
	VFU_CLIENT_CLOSED,
};

#define VFU_CLIENT_DEFAULT_TIMEOUT_MS	5000u
#define VFU_CLIENT_MAX_MSG_FDS		16u
#define VFU_CLIENT_MAX_DATA_XFER	(1024u * 1024u)

/*
 * Guest memory for the server's DMA_READ/DMA_WRITE. Called on the
 * connection's worker thread, after the client checked that the range
 * lies inside one DMA_MAP'ed range (and that a write targets a writable
 * one). Return 0 or -errno (sent back to the server).
 */
struct vfu_client_dma_ops {
	int (*read)(void *opaque, u64 addr, void *buf, u64 len);
	int (*write)(void *opaque, u64 addr, const void *buf, u64 len);
};

struct vfu_client_options {
	const char *name;		/* log prefix; NULL: "vfio-user" */
	u32 timeout_ms;			/* per reply; 0: 5000 */
	u32 reset_timeout_ms;		/* DEVICE_RESET; 0: 4 x timeout */
	bool no_twin_socket;		/* do not offer twin_socket */
	/*
	 * A caller waiting for its reply looks at the socket this long
	 * without sleeping before it blocks (0: blocks at once): a reply
	 * that comes sooner skips the thread's wake-up.
	 */
	u32 poll_us;
	const struct vfu_client_dma_ops *dma_ops;
	void *dma_opaque;
	/* Called once, from whichever thread saw the connection die, with
	 * no lock held. Must not call vfu_client_close(). */
	void (*on_dead)(void *opaque, int err, const char *reason);
	void *dead_opaque;
	/* The owner reports a death itself: "connection failed" at info. */
	bool quiet_death;
	/*
	 * Where a failed VERSION negotiation is described, for the caller
	 * to report in its own words; NULL: the client logs it.
	 */
	char *err;
	size_t err_len;
	/* Fault injection: socket calls of the main connection. */
	const struct vfu_transport_ops *transport_ops;
	void *transport_opaque;
};

/* Connect to a server's UNIX socket, negotiate VERSION, start threads. */
int vfu_client_connect(const char *path, const struct vfu_client_options *opts,
		       struct vfu_client **out);
/* Same on an already connected socket; takes ownership of fd always. */
int vfu_client_connect_fd(int fd, const struct vfu_client_options *opts,
			  struct vfu_client **out);
/* Fail every waiter, join the threads, close the sockets, free. No call
 * on c may be running or start once this is called. */
void vfu_client_close(struct vfu_client *c);

enum vfu_client_state vfu_client_get_state(struct vfu_client *c);
/* The error that killed the connection (negative errno), 0 if alive. */
int vfu_client_error(struct vfu_client *c);
/* One line saying why the connection died; "" while connected. */
const char *vfu_client_error_string(struct vfu_client *c);
/* What the server announced in its VERSION reply. */
void vfu_client_server_caps(struct vfu_client *c, struct vfu_caps *caps,
			    u16 *major, u16 *minor);
bool vfu_client_has_twin_socket(struct vfu_client *c);

/* ---- raw request ----------------------------------------------------------- */

struct vfu_client_msg {
	u16 cmd;
	/* Request payload; iov[0] holds the command's fixed part. */
	const struct iovec *iov;
	int iovcnt;
	const int *fds;
	unsigned int nr_fds;
	/* Where the reply payload goes, in order. */
	const struct iovec *riov;
	int riovcnt;
	int *reply_fds;
	unsigned int max_reply_fds;
	u32 timeout_ms;			/* 0: the connection's */
	/* Out: */
	u32 reply_len;
	unsigned int nr_reply_fds;	/* now owned by the caller */
};

/*
 * Send one command and wait for its validated reply. Returns 0, the
 * -errno of an ERROR reply, or the connection's error once it is dead.
 */
int vfu_client_request(struct vfu_client *c, struct vfu_client_msg *m);

/* ---- typed commands -------------------------------------------------------- */

/* DMA_MAP [addr, addr+size) of guest memory; fd >= 0 is sent (not
 * consumed) with offset, fd < 0 means the server must use messages. */
int vfu_client_dma_map(struct vfu_client *c, u64 addr, u64 size, int fd,
		       u64 offset, u32 flags);
/* DMA_UNMAP an exact earlier range, or everything with
 * VFU_DMA_UNMAP_F_ALL and addr = size = 0. */
int vfu_client_dma_unmap(struct vfu_client *c, u64 addr, u64 size,
			 u32 flags);

int vfu_client_device_get_info(struct vfu_client *c,
			       struct vfu_device_info *info);

struct vfu_client_region {
	struct vfu_region_info info;	/* argsz is the full size */
	struct vfu_region_caps caps;	/* sparse mmap areas, type */
	int fd;				/* region fd or -1; caller owns it */
};

/* DEVICE_GET_REGION_INFO with the argsz re-query; caps parsed. */
int vfu_client_region_info(struct vfu_client *c, u32 index,
			   struct vfu_client_region *region);

/*
 * DEVICE_GET_REGION_IO_FDS: up to max_entries entries (either entry
 * layout) and their fds (caller owns them). Returns the number of
 * entries, or -E2BIG when more than max_entries / max_fds.
 */
int vfu_client_region_io_fds(struct vfu_client *c, u32 index,
			     struct vfu_io_fd_entry *entries,
			     unsigned int max_entries, int *fds,
			     unsigned int max_fds, unsigned int *nr_fds);

int vfu_client_irq_info(struct vfu_client *c, u32 index,
			struct vfu_irq_info *info);

/*
 * DEVICE_SET_IRQS. flags: one VFU_IRQ_SET_DATA_* and one ACTION_*.
 * DATA_EVENTFD: fds has count entries (-1: no eventfd for that vector)
 * or is NULL (de-assign); runs of fds go in chunks of the server's
 * max_msg_fds. DATA_BOOL: bools has count bytes. fds are not consumed.
 */
int vfu_client_set_irqs(struct vfu_client *c, u32 index, u32 flags,
			u32 start, u32 count, const int *fds, const u8 *bools);

/* REGION_READ/WRITE, split above the negotiated max_data_xfer_size. A
 * short transfer is -EIO. */
int vfu_client_region_read(struct vfu_client *c, u32 region, u64 offset,
			   void *buf, u32 count);
int vfu_client_region_write(struct vfu_client *c, u32 region, u64 offset,
			    const void *buf, u32 count);

/*
 * A posted REGION_WRITE: sent with NO_REPLY, returning once the message
 * is on the socket, without waiting for the server. The server takes the
 * connection's messages in order, so a later request (a read) cannot
 * overtake it; a failure of the write on the server's side is lost (the
 * protocol's rule for NO_REPLY). Falls back to vfu_client_region_write()
 * when the write needs more than one message or posting is off for this
 * connection: it turns off, for good, when the server answers a posted
 * write anyway (some servers ignore NO_REPLY); that reply is dropped.
 */
int vfu_client_region_write_posted(struct vfu_client *c, u32 region,
				   u64 offset, const void *buf, u32 count);
/* Whether posted writes still go out as NO_REPLY on this connection. */
bool vfu_client_posting(struct vfu_client *c);

int vfu_client_device_reset(struct vfu_client *c);

#endif
