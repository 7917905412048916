// SPDX-License-Identifier: MIT
/*
 * vfio-user framing on a UNIX stream socket. See transport.h for the
 * contract; the comments here say why the code is shaped as it is.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "vfio-user"
#include "common/clock.h"
#include "common/log.h"
#include "vfio-user/transport.h"

static void rx_free(struct vfu_transport *t);

static ssize_t sock_recvmsg(void *opaque, int fd, struct msghdr *msg,
			    int flags)
{
	(void)opaque;
	return recvmsg(fd, msg, flags);
}

static ssize_t sock_sendmsg(void *opaque, int fd, const struct msghdr *msg,
			    int flags)
{
	(void)opaque;
	return sendmsg(fd, msg, flags);
}

const struct vfu_transport_ops vfu_transport_socket_ops = {
	.recvmsg = sock_recvmsg,
	.sendmsg = sock_sendmsg,
};

void vfu_transport_init(struct vfu_transport *t, int fd,
			const struct vfu_transport_ops *ops, void *opaque)
{
	t->fd = fd;
	t->ops = ops ? ops : &vfu_transport_socket_ops;
	t->opaque = opaque;
	t->rx = NULL;
	t->deadline_ns = 0;
}

void vfu_transport_close(struct vfu_transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	rx_free(t);
}

void vfu_transport_shutdown(struct vfu_transport *t)
{
	if (t->fd >= 0)
		shutdown(t->fd, SHUT_RDWR);
}

int vfu_transport_set_timeout(struct vfu_transport *t, u32 ms)
{
	struct timeval tv = {
		.tv_sec = ms / 1000,
		.tv_usec = (ms % 1000) * 1000,
	};

	if (setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

void vfu_fds_close(struct vfu_fds *fds, unsigned int first)
{
	unsigned int i, held = MIN(fds->nr, VFU_MAX_RECV_FDS);

	for (i = first; i < held; i++)
		if (fds->fd[i] >= 0)
			close(fds->fd[i]);
	if (fds->nr > first)
		fds->nr = first;
}

int vfu_transport_send(struct vfu_transport *t, const struct vfu_hdr *hdr,
		       const struct iovec *iov, int iovcnt, const int *fds,
		       unsigned int nr_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VFU_SCM_MAX_FD)];
		struct cmsghdr align;
	} ctl;
	struct iovec vec[8];
	struct msghdr msg = { 0 };
	size_t total = sizeof(*hdr), sent = 0;
	int i, n = 0;

	if (iovcnt < 0 || iovcnt > (int)ARRAY_SIZE(vec) - 1 ||
	    nr_fds > VFU_SCM_MAX_FD)
		return -EINVAL;
	vec[n].iov_base = (void *)hdr;
	vec[n++].iov_len = sizeof(*hdr);
	for (i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_len)
			continue;
		vec[n++] = iov[i];
		total += iov[i].iov_len;
	}
	if (total != hdr->size)
		return -EINVAL;

	msg.msg_iov = vec;
	msg.msg_iovlen = n;
	if (nr_fds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
	}

	while (sent < total) {
		ssize_t r = t->ops->sendmsg(t->opaque, t->fd, &msg,
					    MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		sent += r;
		/* A short write: the fds went with the first part. */
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		while (r > 0 && msg.msg_iovlen) {
			if ((size_t)r >= msg.msg_iov->iov_len) {
				r -= msg.msg_iov->iov_len;
				msg.msg_iov++;
				msg.msg_iovlen--;
			} else {
				msg.msg_iov->iov_base =
					(char *)msg.msg_iov->iov_base + r;
				msg.msg_iov->iov_len -= r;
				r = 0;
			}
		}
	}
	return 0;
}

/* Take the fds out of every SCM_RIGHTS message; refuse anything else. */
static int collect_fds(struct msghdr *msg, struct vfu_fds *fds)
{
	struct cmsghdr *cm;
	int ret = 0;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		size_t i, n;
		int fd;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS) {
			ret = -EPROTO;
			continue;
		}
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			if (fds->nr < VFU_MAX_RECV_FDS)
				fds->fd[fds->nr] = fd;
			else
				close(fd);	/* counted, never kept */
			fds->nr++;
		}
	}
	if (msg->msg_flags & MSG_CTRUNC)
		ret = -EPROTO;
	return ret;
}

/*
 * One recvmsg() of at most len bytes into p, its fds added to fds.
 * Returns the bytes read, 0 on EOF, -EAGAIN when the receive timeout
 * passed, -EPROTO for a truncated or foreign control message (its fds
 * are in fds all the same) or another negative errno.
 */
static ssize_t recv_once(struct vfu_transport *t, void *p, size_t len,
			 struct vfu_fds *fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VFU_SCM_MAX_FD)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { p, len };
	struct msghdr msg;
	int flags = MSG_CMSG_CLOEXEC;
	ssize_t r;
	int ret;

	if (t->deadline_ns && mono_ns() >= t->deadline_ns)
		flags |= MSG_DONTWAIT;
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		r = t->ops->recvmsg(t->opaque, t->fd, &msg, flags);
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN :
								 -errno;
	if (r == 0)
		return 0;		/* EOF never brings fds */
	if (msg.msg_controllen > sizeof(ctl.buf))
		return -EPROTO;		/* a broken ops table */
	ret = collect_fds(&msg, fds);
	if (ret)
		return ret;
	if ((size_t)r > len)
		return -EPROTO;		/* a broken ops table */
	return r;
}

/*
 * Read exactly len bytes (buf NULL: drop them). *got counts the bytes
 * read so far so the caller can tell "nothing came" from "stalled".
 */
static int recv_exact(struct vfu_transport *t, void *buf, size_t len,
		      struct vfu_fds *fds, size_t *got)
{
	char scratch[4096];

	while (*got < len) {
		ssize_t r;

		if (buf)
			r = recv_once(t, (char *)buf + *got, len - *got, fds);
		else
			r = recv_once(t, scratch,
				      MIN(len - *got, sizeof(scratch)), fds);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0)
			return (int)r;
		*got += r;
	}
	return 0;
}

/* ---- the receive buffer ---------------------------------------------------- */

/*
 * Which message owns the fds.
 *
 * Linux AF_UNIX stream sockets (net/unix/af_unix.c, read in v6.18):
 *  - unix_stream_sendmsg() cuts one sendmsg() into skbs and attaches its
 *    fds to the first skb only ("Only send the fds in the first
 *    buffer"); every sendmsg() starts a new skb, nothing is appended to
 *    an skb already queued.
 *  - unix_stream_read_generic() hands an skb's fds over (unix_detach_fds)
 *    with the first read that copies bytes of it, which, as a stream is
 *    read in order, is the read that takes its first byte. The read ends
 *    after that skb ("if (scm.fp) break;" once it is used up; a read
 *    that leaves part of an skb ends there anyway). So one recvmsg()
 *    returns at most one skb's fds, and that skb holds its last byte.
 *
 * Every sender we talk to sends a message (header + payload) with one
 * sendmsg(), fds included (the rest of a short write follows without
 * fds), so the skb that carries fds starts at a message's header and
 * ends inside that message. Hence the rule used here:
 *
 *   the fds of a read belong to the message that holds the read's last
 *   byte.
 *
 * They are kept beside the buffer with the position of that byte
 * (fds_at) and handed to that message when its header is taken (or,
 * when they come while its payload is read, at once). Two rules keep
 * at most one such group waiting, so it always has one owner:
 *  - nothing is read while a whole message waits in the buffer, so
 *    waiting fds belong to the message at the front, or to a message
 *    wholly buffered behind the one being read;
 *  - while the front message's header is incomplete and fds wait for
 *    it, a read takes only the rest of that header, so whatever fds it
 *    brings belong to the same message.
 * A peer that puts several messages into one sendmsg() with fds breaks
 * the premise: its fds may be charged to a later message of that
 * sendmsg(), whose validator then refuses a wrong fd count. No fd is
 * ever lost: each is handed to a message, or closed by
 * vfu_transport_close().
 */
struct vfu_rx_buffer {
	u32 size;
	u32 head, tail;		/* unparsed bytes: data[head, tail) */
	u32 fds_at;		/* owner of fds: message holding data[fds_at] */
	struct vfu_fds fds;	/* received, not yet handed to a message */
	u8 data[];
};

/* Move every fd of from into to (those beyond the array: counted). */
static void fds_move(struct vfu_fds *to, struct vfu_fds *from)
{
	unsigned int i, held = MIN(from->nr, VFU_MAX_RECV_FDS);

	for (i = 0; i < held; i++) {
		if (to->nr < VFU_MAX_RECV_FDS)
			to->fd[to->nr] = from->fd[i];
		else if (from->fd[i] >= 0)
			close(from->fd[i]);
		to->nr++;
	}
	to->nr += from->nr - held;	/* closed on arrival */
	from->nr = 0;
}

int vfu_transport_rx_buffer(struct vfu_transport *t, u32 size)
{
	struct vfu_rx_buffer *rx;

	if (size < 64 || t->rx)
		return -EINVAL;
	rx = malloc(sizeof(*rx) + size);
	if (!rx)
		return -ENOMEM;
	rx->size = size;
	rx->head = rx->tail = 0;
	rx->fds_at = 0;
	vfu_fds_init(&rx->fds);
	t->rx = rx;
	return 0;
}

bool vfu_transport_rx_pending(const struct vfu_transport *t)
{
	return t->rx && t->rx->head != t->rx->tail;
}

static void rx_free(struct vfu_transport *t)
{
	if (!t->rx)
		return;
	vfu_fds_close(&t->rx->fds, 0);
	free(t->rx);
	t->rx = NULL;
}

/*
 * One read into the buffer behind its bytes, at most max of them.
 * Returns what recv_once() does; fds go to rx->fds, owned by the message
 * that holds the last byte read.
 */
static ssize_t rx_fill(struct vfu_transport *t, u32 max)
{
	struct vfu_rx_buffer *rx = t->rx;
	ssize_t r;

	if (rx->head == rx->tail) {
		rx->head = rx->tail = 0;
	} else if (rx->head) {
		/* Only a header's start is ever left: a few bytes. */
		memmove(rx->data, rx->data + rx->head, rx->tail - rx->head);
		rx->tail -= rx->head;
		rx->fds_at -= MIN(rx->fds_at, rx->head);
		rx->head = 0;
	}
	max = MIN(max, rx->size - rx->tail);
	r = recv_once(t, rx->data + rx->tail, max, &rx->fds);
	if (r > 0) {
		rx->tail += r;
		if (rx->fds.nr)
			rx->fds_at = rx->tail - 1;
	}
	return r;
}

/* The stream is lost: the caller closes every fd received so far. */
static int rx_fail(struct vfu_transport *t, struct vfu_fds *fds, int ret)
{
	fds_move(fds, &t->rx->fds);
	return ret;
}

static int rx_recv_hdr(struct vfu_transport *t, struct vfu_hdr *hdr,
		       struct vfu_fds *fds, size_t *got)
{
	struct vfu_rx_buffer *rx = t->rx;
	ssize_t r;

	while ((*got = rx->tail - rx->head) < sizeof(*hdr)) {
		/* fds waiting now are this message's: stay inside it. */
		r = rx_fill(t, rx->fds.nr ? sizeof(*hdr) - *got : rx->size);
		if (r == 0)
			return rx_fail(t, fds, -ECONNRESET);
		if (r == -EAGAIN && !*got)
			return -EAGAIN;		/* nothing waits: no fds */
		if (r < 0)
			return rx_fail(t, fds, (int)r);
	}
	memcpy(hdr, rx->data + rx->head, sizeof(*hdr));
	if (rx->fds.nr && (u64)rx->fds_at < (u64)rx->head + hdr->size)
		fds_move(fds, &rx->fds);
	rx->head += sizeof(*hdr);
	return 0;
}

/* Take len payload bytes into buf (NULL: drop them). */
static int rx_recv_payload(struct vfu_transport *t, u8 *buf, u32 len,
			   struct vfu_fds *fds)
{
	struct vfu_rx_buffer *rx = t->rx;
	ssize_t r;
	u32 n;

	for (;;) {
		n = MIN(len, rx->tail - rx->head);
		if (buf && n) {
			memcpy(buf, rx->data + rx->head, n);
			buf += n;
		}
		rx->head += n;
		len -= n;
		if (!len)
			return 0;
		/*
		 * The buffer is empty, so no fds wait in it (they would
		 * belong to a message behind this one, which would then be
		 * here). A large rest goes straight to its place, and its
		 * fds with it; a small one through the buffer, which may
		 * bring the next messages along.
		 */
		if (len > rx->size / 2) {
			size_t got = 0;
			int ret = recv_exact(t, buf, len, fds, &got);

			return ret ? rx_fail(t, fds, ret) : 0;
		}
		r = rx_fill(t, rx->size);
		if (r == 0)
			return rx_fail(t, fds, -ECONNRESET);
		if (r < 0)
			return rx_fail(t, fds, (int)r);
		/* The new data starts at head = 0 with our len bytes. */
		if (rx->fds.nr && rx->fds_at < len)
			fds_move(fds, &rx->fds);
	}
}

/* ---- receiving ----------------------------------------------------------------- */

int vfu_transport_recv_hdr(struct vfu_transport *t, struct vfu_hdr *hdr,
			   u32 max_size, struct vfu_fds *fds, char *why,
			   size_t why_len)
{
	size_t got = 0;
	int ret;

	if (t->rx)
		ret = rx_recv_hdr(t, hdr, fds, &got);
	else
		ret = recv_exact(t, hdr, sizeof(*hdr), fds, &got);
	if (ret == -EAGAIN && got) {
		snprintf(why, why_len, "header stalled after %zu bytes", got);
		return -ETIMEDOUT;
	}
	if (ret == -ECONNRESET && got) {
		snprintf(why, why_len, "truncated header: %zu of 16 bytes",
			 got);
		return -EPROTO;
	}
	if (ret == -ECONNRESET) {
		snprintf(why, why_len, "peer closed the connection");
		return ret;
	}
	if (ret == -EPROTO) {
		snprintf(why, why_len, "control message truncated or unknown");
		return ret;
	}
	if (ret) {
		if (ret != -EAGAIN)
			snprintf(why, why_len, "receive failed: %s",
				 strerror(-ret));
		return ret;
	}
	ret = vfu_check_hdr(hdr, max_size, why, why_len);
	if (ret && t->rx)
		rx_fail(t, fds, ret);
	return ret;
}

static int body_ret(int ret)
{
	if (ret == -EAGAIN)
		return -ETIMEDOUT;
	if (ret == -ECONNRESET)
		return -EPROTO;	/* EOF inside a message */
	return ret;
}

int vfu_transport_recv_body(struct vfu_transport *t, void *buf, u32 len,
			    struct vfu_fds *fds)
{
	size_t got = 0;

	if (t->rx)
		return body_ret(rx_recv_payload(t, buf, len, fds));
	return body_ret(recv_exact(t, buf, len, fds, &got));
}

int vfu_transport_discard(struct vfu_transport *t, u32 len,
			  struct vfu_fds *fds)
{
	size_t got = 0;

	if (t->rx)
		return body_ret(rx_recv_payload(t, NULL, len, fds));
	return body_ret(recv_exact(t, NULL, len, fds, &got));
}

bool vfu_poll_busy(struct pollfd *fds, unsigned int nfds, u32 us)
{
	u64 end = mono_ns() + (u64)us * 1000;

	do {
		if (poll(fds, nfds, 0) > 0)
			return true;
		/* A thread this CPU owes a turn (few CPUs) gets it. */
		sched_yield();
	} while (mono_ns() < end);
	return false;
}
