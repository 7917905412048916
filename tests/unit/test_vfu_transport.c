// SPDX-License-Identifier: MIT
/* vfio-user framing: whole messages, fds, short transfers, bad input. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfio-user/transport.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct pair {
	struct vfu_transport a, b;
	int fds_before;
};

static int setup(void **state)
{
	static struct pair p;
	int sv[2];

	p.fds_before = count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	vfu_transport_init(&p.a, sv[0], NULL, NULL);
	vfu_transport_init(&p.b, sv[1], NULL, NULL);
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	vfu_transport_close(&p->a);
	vfu_transport_close(&p->b);
	vfu_transport_close(&p->a);	/* idempotent */
	assert_int_equal(count_fds(), p->fds_before);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
