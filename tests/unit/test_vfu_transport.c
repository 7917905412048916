// SPDX-License-Identifier: MIT
/* vfio-user framing: whole messages, fds, short transfers, bad input. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfio-user/transport.h"
#include "tests/unit/support/fake_vm.h"

struct pair {
	struct vfu_transport a, b;
	int fds_before;
};

static int setup(void **state)
{
	static struct pair p;
	int sv[2];

	p.fds_before = fake_count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	vfu_transport_init(&p.a, sv[0], NULL, NULL);
	vfu_transport_init(&p.b, sv[1], NULL, NULL);
	*state = &p;
	return 0;
}

/* The same, the receiving end buffered as the client's and server's are. */
static int setup_buffered(void **state)
{
	struct pair *p;

	if (setup(state))
		return -1;
	p = *state;
	return vfu_transport_rx_buffer(&p->b, VFU_TRANSPORT_RX_BUFFER);
}

static int teardown(void **state)
{
	struct pair *p = *state;

	vfu_transport_close(&p->a);
	vfu_transport_close(&p->b);
	vfu_transport_close(&p->a);	/* idempotent */
	assert_int_equal(fake_count_fds(), p->fds_before);
	return 0;
}

static void send_msg(struct vfu_transport *t, u16 id, const void *payload,
		     u32 len, const int *fds, unsigned int nr)
{
	struct vfu_hdr h;
	struct iovec iov = { (void *)payload, len };

	vfu_hdr_init(&h, id, VFU_CMD_REGION_READ, len, VFU_F_TYPE_COMMAND);
	assert_int_equal(vfu_transport_send(t, &h, &iov, len ? 1 : 0, fds, nr),
			 0);
}

static char why[200];

static void test_round_trip_with_fds(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;
	char buf[32];
	int efd[3], i;

	for (i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	send_msg(&p->a, 9, "hello world", 11, efd, 3);
	for (i = 0; i < 3; i++)
		close(efd[i]);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(h.msg_id, 9);
	assert_int_equal(h.size, 27);
	assert_int_equal(fds.nr, 3);
	assert_int_equal(vfu_transport_recv_body(&p->b, buf, 11, &fds), 0);
	assert_memory_equal(buf, "hello world", 11);
	for (i = 0; i < 3; i++)
		assert_true(fcntl(fds.fd[i], F_GETFD) & FD_CLOEXEC);
	vfu_fds_close(&fds, 0);
	assert_int_equal(fds.nr, 0);
}

static void test_never_reads_past_the_message(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;
	char buf[8];

	send_msg(&p->a, 1, "aaaa", 4, NULL, 0);
	send_msg(&p->a, 2, "bbbbbbbb", 8, NULL, 0);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(vfu_transport_discard(&p->b, h.size - 16, &fds), 0);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(h.msg_id, 2);
	assert_int_equal(vfu_transport_recv_body(&p->b, buf, 8, &fds), 0);
	assert_memory_equal(buf, "bbbbbbbb", 8);
}

static void test_eof_and_truncation(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;
	char buf[16];

	vfu_fds_init(&fds);
	/* whole header, body cut short */
	vfu_hdr_init(&h, 1, VFU_CMD_REGION_READ, 8, VFU_F_TYPE_REPLY);
	assert_int_equal(write(p->a.fd, &h, 16), 16);
	assert_int_equal(write(p->a.fd, "abc", 3), 3);
	shutdown(p->a.fd, SHUT_WR);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(vfu_transport_recv_body(&p->b, buf, 8, &fds), -EPROTO);
	/* EOF at a message boundary */
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -ECONNRESET);
	assert_non_null(strstr(why, "closed"));
}

static void test_truncated_header(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;

	vfu_fds_init(&fds);
	assert_int_equal(write(p->a.fd, "12345", 5), 5);
	shutdown(p->a.fd, SHUT_WR);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "5 of 16"));
}

static void test_bad_headers_rejected_before_body(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;

	vfu_fds_init(&fds);
	vfu_hdr_init(&h, 1, VFU_CMD_REGION_READ, 0, VFU_F_TYPE_REPLY);
	h.size = 0xffffffffu;
	assert_int_equal(write(p->a.fd, &h, 16), 16);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EPROTO);
	vfu_hdr_init(&h, 1, VFU_CMD_REGION_READ, 0, VFU_F_TYPE_REPLY);
	h.size = 8;
	assert_int_equal(write(p->a.fd, &h, 16), 16);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EPROTO);
	vfu_hdr_init(&h, 1, VFU_CMD_REGION_READ, 0, 0x3);
	assert_int_equal(write(p->a.fd, &h, 16), 16);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EPROTO);
}

static void test_timeouts(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;
	char buf[8];

	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_set_timeout(&p->b, 50), 0);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EAGAIN);
	assert_int_equal(write(p->a.fd, "1234", 4), 4);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -ETIMEDOUT);
	assert_int_equal(vfu_transport_recv_body(&p->b, buf, 8, &fds),
			 -ETIMEDOUT);
}

static void test_send_argument_checks(void **state)
{
	struct pair *p = *state;
	struct vfu_hdr h;
	struct iovec iov = { "abc", 3 };
	int fds[VFU_SCM_MAX_FD + 1] = { 0 };

	vfu_hdr_init(&h, 1, VFU_CMD_REGION_READ, 4, VFU_F_TYPE_COMMAND);
	assert_int_equal(vfu_transport_send(&p->a, &h, &iov, 1, NULL, 0),
			 -EINVAL);
	vfu_hdr_init(&h, 1, VFU_CMD_REGION_READ, 3, VFU_F_TYPE_COMMAND);
	assert_int_equal(vfu_transport_send(&p->a, &h, &iov, 1, fds,
					    VFU_SCM_MAX_FD + 1), -EINVAL);
	vfu_transport_close(&p->b);
	assert_int_equal(vfu_transport_send(&p->a, &h, &iov, 1, NULL, 0),
			 -EPIPE);
}

static void test_fds_spread_over_reads_are_all_counted(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;
	char buf[8];
	int efd = eventfd(0, EFD_CLOEXEC);

	/* A hostile peer: fds with the header and again with the body. */
	vfu_hdr_init(&h, 1, VFU_CMD_REGION_READ, 8, VFU_F_TYPE_REPLY);
	{
		struct iovec iov = { &h, 16 };
		union {
			char b[CMSG_SPACE(sizeof(int))];
			struct cmsghdr a;
		} ctl;
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl.b,
				    .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &efd, sizeof(int));
		assert_int_equal(sendmsg(p->a.fd, &m, 0), 16);
		iov.iov_base = "12345678";
		iov.iov_len = 8;
		assert_int_equal(sendmsg(p->a.fd, &m, 0), 8);
	}
	close(efd);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(vfu_transport_recv_body(&p->b, buf, 8, &fds), 0);
	assert_int_equal(fds.nr, 2);
	vfu_fds_close(&fds, 0);
}

/* Fault injection: one byte per call, and EINTR every other call. */
static ssize_t trickle_recvmsg(void *opaque, int fd, struct msghdr *msg,
			       int flags)
{
	int *calls = opaque;
	struct iovec one = { msg->msg_iov[0].iov_base, 1 };
	struct iovec *saved = msg->msg_iov;
	ssize_t r;

	if ((*calls)++ % 2) {
		errno = EINTR;
		return -1;
	}
	msg->msg_iov = &one;
	msg->msg_iovlen = 1;
	r = recvmsg(fd, msg, flags);
	msg->msg_iov = saved;
	msg->msg_iovlen = 1;
	return r;
}

static ssize_t trickle_sendmsg(void *opaque, int fd, const struct msghdr *msg,
			       int flags)
{
	struct msghdr m = *msg;
	struct iovec first = msg->msg_iov[0];

	(void)opaque;
	if (first.iov_len > 3)
		first.iov_len = 3;
	m.msg_iov = &first;
	m.msg_iovlen = 1;
	return sendmsg(fd, &m, flags);
}

static const struct vfu_transport_ops trickle_ops = {
	.recvmsg = trickle_recvmsg,
	.sendmsg = trickle_sendmsg,
};

static void test_short_transfers_and_eintr(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;
	int calls = 0, efd = eventfd(0, EFD_CLOEXEC);
	char buf[32];

	p->a.ops = &trickle_ops;
	p->b.ops = &trickle_ops;
	p->b.opaque = &calls;
	send_msg(&p->a, 3, "0123456789abcdef", 16, &efd, 1);
	close(efd);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(h.msg_id, 3);
	assert_int_equal(vfu_transport_recv_body(&p->b, buf, 16, &fds), 0);
	assert_memory_equal(buf, "0123456789abcdef", 16);
	assert_int_equal(fds.nr, 1);
	assert_true(calls >= 2 * 32 - 1);
	vfu_fds_close(&fds, 0);
}

static ssize_t garbage_recvmsg(void *opaque, int fd, struct msghdr *msg,
			       int flags)
{
	ssize_t r = recvmsg(fd, msg, flags);

	(void)opaque;
	if (r > 0)
		memset(msg->msg_iov[0].iov_base, 0xff, r);
	return r;
}

static const struct vfu_transport_ops garbage_ops = {
	.recvmsg = garbage_recvmsg,
	.sendmsg = trickle_sendmsg,
};

static void test_garbage_is_refused(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;

	p->b.ops = &garbage_ops;
	send_msg(&p->a, 3, "xy", 2, NULL, 0);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EPROTO);
}

/* ---- the receive buffer: which message gets which fds ------------------------ */

/* recvmsg() that takes at most max bytes per call, and counts calls. */
struct chunky {
	size_t max;
	int calls;
	size_t ctl_max;		/* nonzero: shrink the control buffer */
};

static ssize_t chunky_recvmsg(void *opaque, int fd, struct msghdr *msg,
			      int flags)
{
	struct chunky *ck = opaque;
	struct iovec *saved = msg->msg_iov, one = msg->msg_iov[0];
	ssize_t r;

	ck->calls++;
	if (ck->max && one.iov_len > ck->max)
		one.iov_len = ck->max;
	if (ck->ctl_max)
		msg->msg_controllen = ck->ctl_max;
	msg->msg_iov = &one;
	r = recvmsg(fd, msg, flags);
	msg->msg_iov = saved;
	return r;
}

static ssize_t plain_sendmsg(void *opaque, int fd, const struct msghdr *msg,
			     int flags)
{
	(void)opaque;
	return sendmsg(fd, msg, flags);
}

static const struct vfu_transport_ops chunky_ops = {
	.recvmsg = chunky_recvmsg,
	.sendmsg = plain_sendmsg,
};

/* Send a raw piece of a stream with one fd, as a hostile peer may. */
static void send_raw_with_fd(int sock, const void *data, size_t len, int fd)
{
	struct iovec iov = { (void *)data, len };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr a;
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	assert_int_equal(sendmsg(sock, &m, 0), (ssize_t)len);
}

/*
 * A burst of messages, each with its own sendmsg(), some with fds. The
 * fds are eventfds whose counter says which message and which slot they
 * were sent in: 100 * id + slot.
 */
#define BURST	6
static const struct {
	u32 len;
	unsigned int nr_fds;
} burst[BURST] = {
	{ 5, 0 }, { 11, 1 }, { 0, 0 }, { 7, 3 }, { 3, 2 }, { 9, 0 },
};

static void burst_send(struct vfu_transport *t)
{
	unsigned int i, j;
	int efd[4];
	u8 payload[16];

	for (i = 0; i < BURST; i++) {
		for (j = 0; j < burst[i].nr_fds; j++) {
			efd[j] = eventfd(100 * (i + 1) + j, EFD_CLOEXEC);
			assert_true(efd[j] >= 0);
		}
		memset(payload, 'a' + i, sizeof(payload));
		send_msg(t, i + 1, payload, burst[i].len, efd, burst[i].nr_fds);
		for (j = 0; j < burst[i].nr_fds; j++)
			close(efd[j]);
	}
}

/* A message must come with exactly its own fds, in order. */
static void check_fds(struct vfu_fds *fds, unsigned int id,
		      unsigned int nr)
{
	unsigned int j;
	u64 v;

	assert_int_equal(fds->nr, nr);
	for (j = 0; j < nr; j++) {
		assert_int_equal(read(fds->fd[j], &v, sizeof(v)), sizeof(v));
		assert_int_equal(v, 100 * id + j);
		assert_true(fcntl(fds->fd[j], F_GETFD) & FD_CLOEXEC);
	}
	vfu_fds_close(fds, 0);
}

static void burst_recv(struct vfu_transport *t)
{
	struct vfu_fds fds;
	struct vfu_hdr h;
	u8 buf[16], want[16];
	unsigned int i;

	for (i = 0; i < BURST; i++) {
		vfu_fds_init(&fds);
		assert_int_equal(vfu_transport_recv_hdr(t, &h, 4096, &fds, why,
							sizeof(why)), 0);
		assert_int_equal(h.msg_id, i + 1);
		assert_int_equal(h.size, 16 + burst[i].len);
		assert_int_equal(vfu_transport_recv_body(t, buf, burst[i].len,
							 &fds), 0);
		memset(want, 'a' + i, sizeof(want));
		assert_memory_equal(buf, want, burst[i].len);
		check_fds(&fds, i + 1, burst[i].nr_fds);
	}
	assert_false(vfu_transport_rx_pending(t));
}

static void test_buffered_burst_each_message_gets_its_fds(void **state)
{
	struct pair *p = *state;
	struct chunky ck = { 0 };

	p->b.ops = &chunky_ops;
	p->b.opaque = &ck;
	burst_send(&p->a);
	burst_recv(&p->b);
	/*
	 * The kernel ends a read after an skb that carried fds: m1+m2,
	 * m3+m4, m5, m6. Fewer reads than messages, and the premise of
	 * the fd rule in transport.c holds on this kernel.
	 */
	assert_int_equal(ck.calls, 4);
}

static void test_buffered_reads_split_anywhere(void **state)
{
	struct pair *p = *state;
	static struct chunky ck;	/* outlives the test: p is static */

	/* Every read size from 1 byte up: reads end inside headers,
	 * inside payloads and across message boundaries. */
	p->b.ops = &chunky_ops;
	p->b.opaque = &ck;
	for (ck.max = 1; ck.max <= 40; ck.max++) {
		burst_send(&p->a);
		burst_recv(&p->b);
	}
}

struct big_sender {
	struct vfu_transport *t;
	u8 *payload;
	u32 big;
};

static void *big_sender_thread(void *arg)
{
	struct big_sender *bs = arg;
	int efd[2] = { eventfd(200, EFD_CLOEXEC), eventfd(201, EFD_CLOEXEC) };
	int one = eventfd(300, EFD_CLOEXEC);

	send_msg(bs->t, 1, "x", 1, NULL, 0);
	send_msg(bs->t, 2, bs->payload, bs->big, efd, 2);
	send_msg(bs->t, 3, bs->payload, 150, &one, 1);	/* > buffer / 2 */
	send_msg(bs->t, 4, bs->payload, 100, NULL, 0);	/* < buffer / 2 */
	send_msg(bs->t, 5, bs->payload, bs->big, NULL, 0);	/* dropped */
	send_msg(bs->t, 6, "yz", 2, NULL, 0);
	close(efd[0]);
	close(efd[1]);
	close(one);
	return NULL;
}

static void test_buffered_messages_larger_than_the_buffer(void **state)
{
	struct pair *p = *state;
	struct big_sender bs = { &p->a, NULL, 300 * 1024 };
	struct vfu_fds fds;
	struct vfu_hdr h;
	pthread_t t;
	u8 *buf = malloc(bs.big);
	u32 i;

	/* A small buffer, so messages 3 and 4 arrive in pieces too. */
	assert_int_equal(vfu_transport_rx_buffer(&p->b, 256), 0);
	bs.payload = malloc(bs.big);
	for (i = 0; i < bs.big; i++)
		bs.payload[i] = (u8)(i * 13 + (i >> 10));
	pthread_create(&t, NULL, big_sender_thread, &bs);
	for (i = 1; i <= 6; i++) {
		vfu_fds_init(&fds);
		assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 1 << 20, &fds,
							why, sizeof(why)), 0);
		assert_int_equal(h.msg_id, i);
		if (i == 5)
			assert_int_equal(vfu_transport_discard(&p->b,
							       h.size - 16,
							       &fds), 0);
		else
			assert_int_equal(vfu_transport_recv_body(&p->b, buf,
								 h.size - 16,
								 &fds), 0);
		if (i >= 2 && i <= 4)
			assert_memory_equal(buf, bs.payload, h.size - 16);
		check_fds(&fds, i, i == 2 ? 2 : i == 3 ? 1 : 0);
	}
	assert_memory_equal(buf, "yz", 2);
	pthread_join(t, NULL);
	free(bs.payload);
	free(buf);
}

static void test_buffered_leftover_fds_closed_with_the_transport(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;
	u8 buf[16];

	/* m1 and m2 (with its fd) arrive in one read; only m1 is taken.
	 * teardown() counts the fds: m2's must go with close(). */
	burst_send(&p->a);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(vfu_transport_recv_body(&p->b, buf, 5, &fds), 0);
	assert_int_equal(fds.nr, 0);
	assert_true(vfu_transport_rx_pending(&p->b));
}

static void test_buffered_garbage_after_a_good_message(void **state)
{
	struct pair *p = *state;
	struct vfu_fds fds;
	struct vfu_hdr h;
	u8 junk[16];
	int efd = eventfd(0, EFD_CLOEXEC);

	/* The junk brings an fd: it must still reach the caller. */
	memset(junk, 0xff, sizeof(junk));
	send_msg(&p->a, 1, "ok", 2, NULL, 0);
	send_raw_with_fd(p->a.fd, junk, sizeof(junk), efd);
	close(efd);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(vfu_transport_discard(&p->b, 2, &fds), 0);
	assert_int_equal(fds.nr, 0);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EPROTO);
	assert_int_equal(fds.nr, 1);
	vfu_fds_close(&fds, 0);
}

static void test_buffered_eof_inside_a_header_with_fds(void **state)
{
	struct pair *p = *state;
	struct chunky ck = { .max = 3 };
	struct vfu_fds fds;
	struct vfu_hdr h;
	int efd = eventfd(0, EFD_CLOEXEC);
	u8 buf[16];

	/* A whole message, then a header with an fd cut after 10 bytes,
	 * read 3 bytes at a time so that the fd waits for its header. */
	p->b.ops = &chunky_ops;
	p->b.opaque = &ck;
	send_msg(&p->a, 1, "abcd", 4, NULL, 0);
	vfu_hdr_init(&h, 2, VFU_CMD_REGION_READ, 4, VFU_F_TYPE_COMMAND);
	send_raw_with_fd(p->a.fd, &h, 10, efd);
	close(efd);
	shutdown(p->a.fd, SHUT_WR);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), 0);
	assert_int_equal(vfu_transport_recv_body(&p->b, buf, 4, &fds), 0);
	assert_int_equal(fds.nr, 0);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "10 of 16"));
	assert_int_equal(fds.nr, 1);	/* handed over to be closed */
	vfu_fds_close(&fds, 0);
}

static void test_buffered_control_truncation_refused(void **state)
{
	struct pair *p = *state;
	struct chunky ck = { .ctl_max = CMSG_LEN(sizeof(int)) };
	struct vfu_fds fds;
	struct vfu_hdr h;
	int efd[3], i;

	/* Room for one fd of three: MSG_CTRUNC; the kernel closes two. */
	p->b.ops = &chunky_ops;
	p->b.opaque = &ck;
	for (i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	send_msg(&p->a, 1, "abcd", 4, efd, 3);
	for (i = 0; i < 3; i++)
		close(efd[i]);
	vfu_fds_init(&fds);
	assert_int_equal(vfu_transport_recv_hdr(&p->b, &h, 4096, &fds, why,
						sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "truncated"));
	assert_int_equal(fds.nr, 1);	/* what did arrive, to be closed */
	vfu_fds_close(&fds, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_with_fds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_never_reads_past_the_message,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_and_truncation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers_rejected_before_body,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_argument_checks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fds_spread_over_reads_are_all_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_transfers_and_eintr,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_is_refused, setup,
						teardown),
		/* The same behaviour through the receive buffer. */
		cmocka_unit_test_setup_teardown(test_round_trip_with_fds,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_never_reads_past_the_message,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_eof_and_truncation,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_header,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers_rejected_before_body,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup_buffered,
						teardown),
		cmocka_unit_test_setup_teardown(test_fds_spread_over_reads_are_all_counted,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_short_transfers_and_eintr,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_is_refused,
						setup_buffered, teardown),
		/* Only with the buffer. */
		cmocka_unit_test_setup_teardown(test_buffered_burst_each_message_gets_its_fds,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_reads_split_anywhere,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_messages_larger_than_the_buffer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_leftover_fds_closed_with_the_transport,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_garbage_after_a_good_message,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_eof_inside_a_header_with_fds,
						setup_buffered, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_control_truncation_refused,
						setup_buffered, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
