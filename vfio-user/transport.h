/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VFIO_USER_TRANSPORT_H
#define UVMM_VFIO_USER_TRANSPORT_H

/*
 * Framed vfio-user messages on a connected UNIX stream socket, fds by
 * SCM_RIGHTS. One sendmsg() per message (header + payload + fds; the
 * rest of a short write follows without fds). Receiving is two steps so
 * the caller can choose where the payload goes once it knows the header:
 * vfu_transport_recv_hdr() takes 16 bytes and checks them, then
 * vfu_transport_recv_body() or vfu_transport_discard() takes exactly the
 * payload.
 *
 * Without a receive buffer nothing ever reads past the message being
 * received (two recvmsg() per message at least). With one
 * (vfu_transport_rx_buffer()) a recvmsg() takes whatever the socket
 * holds, up to the buffer's size, and later messages are parsed out of
 * the buffer: one recvmsg() per small message, or fewer. Which message
 * the fds of such a read belong to is worked out in transport.c
 * ("Which message owns the fds"); it is exact for peers that send each
 * message with one sendmsg(), as the protocol asks.
 *
 * The socket calls go through an ops table so tests can inject faults
 * (short transfers, garbage, a closed peer). The struct is not locked:
 * one sender and one receiver at a time, serialised by the caller.
 */

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/types.h"
#include "vfio-user/protocol.h"

/* Most fds one message can bring (Linux SCM_MAX_FD). */
#define VFU_MAX_RECV_FDS	VFU_SCM_MAX_FD

struct vfu_transport_ops {
	/* Same contract as recvmsg(2)/sendmsg(2) on fd: -1 and errno. */
	ssize_t (*recvmsg)(void *opaque, int fd, struct msghdr *msg, int flags);
	ssize_t (*sendmsg)(void *opaque, int fd, const struct msghdr *msg,
			   int flags);
};

/* The default ops: plain recvmsg/sendmsg. */
extern const struct vfu_transport_ops vfu_transport_socket_ops;

struct vfu_rx_buffer;

/*
 * A struct with only fd/ops/opaque filled in (rx NULL) is a valid,
 * unbuffered transport.
 */
struct vfu_transport {
	int fd;
	const struct vfu_transport_ops *ops;
	void *opaque;
	struct vfu_rx_buffer *rx;	/* NULL: exact reads */
	/*
	 * CLOCK_MONOTONIC ns, 0 for none: a receive call that starts after
	 * it takes only what has already arrived (-EAGAIN if nothing), so a
	 * peer that trickles bytes cannot hold the receiver past it. Set by
	 * the receiver.
	 */
	u64 deadline_ns;
};

/* The receive buffer the client and server use. */
#define VFU_TRANSPORT_RX_BUFFER	(64u * 1024u)

/*
 * fds received with one message. nr counts every fd that arrived, also
 * those beyond VFU_MAX_RECV_FDS, which were closed at once: nr larger
 * than the array says "too many".
 */
struct vfu_fds {
	unsigned int nr;
	int fd[VFU_MAX_RECV_FDS];
};

/* Takes ownership of fd. ops NULL means vfu_transport_socket_ops. */
void vfu_transport_init(struct vfu_transport *t, int fd,
			const struct vfu_transport_ops *ops, void *opaque);
/*
 * Read ahead into a receive buffer of size bytes (>= 64) from now on.
 * Call before the first receive. Returns 0 or -ENOMEM.
 */
int vfu_transport_rx_buffer(struct vfu_transport *t, u32 size);
/*
 * Whether received bytes wait in the buffer: then the next message (or
 * its start) is there and poll() on the socket would not say so. The
 * caller must be the receiver, or otherwise exclude it.
 */
bool vfu_transport_rx_pending(const struct vfu_transport *t);

/*
 * Look at fds (POLLIN) without sleeping until one is readable or us
 * microseconds have passed, yielding the CPU between looks: where waking
 * a sleeping thread costs more than a message, a caller that expects one
 * soon spins here before it blocks (poll-us). Returns whether one is.
 */
bool vfu_poll_busy(struct pollfd *fds, unsigned int nfds, u32 us);
/* Close the socket (idempotent), drop the buffer and the fds in it. */
void vfu_transport_close(struct vfu_transport *t);
/* shutdown(SHUT_RDWR): wakes blocked readers/writers; keeps the fd. */
void vfu_transport_shutdown(struct vfu_transport *t);
/* Bound every blocking send and receive call (SO_RCVTIMEO/SO_SNDTIMEO);
 * 0 = no limit. */
int vfu_transport_set_timeout(struct vfu_transport *t, u32 ms);

/*
 * Send one message: hdr (its size must equal 16 + the iov bytes), the
 * payload iovs and nr_fds fds (at most VFU_SCM_MAX_FD; the caller chunks
 * to the peer's max_msg_fds). Returns 0, -EPIPE/-ECONNRESET (peer gone),
 * -ETIMEDOUT (send timeout) or another negative errno.
 */
int vfu_transport_send(struct vfu_transport *t, const struct vfu_hdr *hdr,
		       const struct iovec *iov, int iovcnt, const int *fds,
		       unsigned int nr_fds);

/*
 * Read one header and check it (vfu_check_hdr against max_size). fds
 * that belong to the message and have arrived so far are added to fds
 * (which the caller initialised); the rest come with its payload.
 * Returns 0; -EAGAIN when nothing arrived within the timeout; -ECONNRESET
 * on EOF before the first byte; -EPROTO for a truncated or bad header or
 * a truncated control message; -ETIMEDOUT when the header stalled half
 * way. On error every fd received so far is in fds for the caller to
 * close (vfu_fds_close); the stream is then out of step.
 */
int vfu_transport_recv_hdr(struct vfu_transport *t, struct vfu_hdr *hdr,
			   u32 max_size, struct vfu_fds *fds, char *why,
			   size_t why_len);

/* Read exactly len payload bytes into buf (fds added to fds). Returns 0,
 * -EPROTO (EOF or control truncation inside the message), -ETIMEDOUT. */
int vfu_transport_recv_body(struct vfu_transport *t, void *buf, u32 len,
			    struct vfu_fds *fds);

/* Read and drop len payload bytes. */
int vfu_transport_discard(struct vfu_transport *t, u32 len,
			  struct vfu_fds *fds);

static inline void vfu_fds_init(struct vfu_fds *fds)
{
	fds->nr = 0;
}

/* Close every fd still held in fds, from index first on; nr = first. */
void vfu_fds_close(struct vfu_fds *fds, unsigned int first);

#endif
