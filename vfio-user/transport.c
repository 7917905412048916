// SPDX-License-Identifier: MIT
/*
 * vfio-user framing on a UNIX stream socket. See transport.h for the
 * contract; the comments here say why the code is shaped as it is.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LOG_PREFIX "vfio-user"
#include "common/log.h"
#include "vfio-user/transport.h"

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
}

void vfu_transport_close(struct vfu_transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
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
 * Read exactly len bytes (buf NULL: drop them). *got counts the bytes
 * read so far so the caller can tell "nothing came" from "stalled".
 */
static int recv_exact(struct vfu_transport *t, void *buf, size_t len,
		      struct vfu_fds *fds, size_t *got)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VFU_SCM_MAX_FD)];
		struct cmsghdr align;
	} ctl;
	char scratch[4096];

	while (*got < len) {
		struct msghdr msg = { 0 };
		struct iovec iov;
		ssize_t r;
		int ret;

		if (buf) {
			iov.iov_base = (char *)buf + *got;
			iov.iov_len = len - *got;
		} else {
			iov.iov_base = scratch;
			iov.iov_len = MIN(len - *got, sizeof(scratch));
		}
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		r = t->ops->recvmsg(t->opaque, t->fd, &msg, MSG_CMSG_CLOEXEC);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;	/* EOF never brings fds */
		if (msg.msg_controllen > sizeof(ctl.buf))
			return -EPROTO;		/* a broken ops table */
		ret = collect_fds(&msg, fds);
		if (ret)
			return ret;
		if ((size_t)r > iov.iov_len)
			return -EPROTO;		/* a broken ops table */
		*got += r;
	}
	return 0;
}

int vfu_transport_recv_hdr(struct vfu_transport *t, struct vfu_hdr *hdr,
			   u32 max_size, struct vfu_fds *fds, char *why,
			   size_t why_len)
{
	size_t got = 0;
	int ret;

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
	return vfu_check_hdr(hdr, max_size, why, why_len);
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

	return body_ret(recv_exact(t, buf, len, fds, &got));
}

int vfu_transport_discard(struct vfu_transport *t, u32 len,
			  struct vfu_fds *fds)
{
	size_t got = 0;

	return body_ret(recv_exact(t, NULL, len, fds, &got));
}
