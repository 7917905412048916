// SPDX-License-Identifier: MIT
/*
 * Server library behaviour not covered by test_vfu_client.c: the loop
 * with ops->work doing DMA by messages on the main socket, and a kick
 * ioeventfd (a doorbell that makes the loop run ops->work).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/log.h"
#include "vfio-user/client.h"
#include "vfio-user/server.h"

#define GUEST_IOVA	0x10000
#define REG_HOLD	0x10	/* a write blocks the loop until released */

struct dev {
	struct vfu_server *srv;
	int sv[2];
	pthread_t loop;
	int run_ret;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool release;		/* lets a REG_HOLD write return */
	u64 dma_value;
	int dma_ret;
	int work_calls;
};

static int dev_access(void *opaque, u32 region, u64 offset, void *buf,
		      u32 count, bool is_write)
{
	struct dev *d = opaque;

	(void)region;
	if (is_write && offset == REG_HOLD) {
		pthread_mutex_lock(&d->lock);
		while (!d->release)
			pthread_cond_wait(&d->cond, &d->lock);
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	if (!is_write)
		memset(buf, 0x42, count);
	return 0;
}

/* The device's work: DMA by messages (no fd), from the loop thread. */
static void dev_work(void *opaque)
{
	struct dev *d = opaque;

	d->work_calls++;
	d->dma_ret = vfu_server_dma_read(d->srv, GUEST_IOVA, &d->dma_value,
					 sizeof(d->dma_value));
}

static const struct vfu_server_ops dev_ops = {
	.work = dev_work,
};

static void *loop_thread(void *arg)
{
	struct dev *d = arg;

	d->run_ret = vfu_server_attach_fd(d->srv, d->sv[1]);
	if (!d->run_ret)
		d->run_ret = vfu_server_run(d->srv);
	return NULL;
}

static u64 guest_word = 0x1122334455667788ULL;

static int guest_read(void *opaque, u64 addr, void *buf, u64 len)
{
	(void)opaque;
	if (addr != GUEST_IOVA || len != sizeof(guest_word))
		return -EFAULT;
	memcpy(buf, &guest_word, len);
	return 0;
}

static int guest_write(void *opaque, u64 addr, const void *buf, u64 len)
{
	(void)opaque;
	(void)addr;
	(void)buf;
	(void)len;
	return -EPERM;
}

static const struct vfu_client_dma_ops guest_ops = {
	.read = guest_read,
	.write = guest_write,
};

struct req {
	struct vfu_client *c;
	u64 offset;
	bool write;
	int ret;
	u64 ms;
};

static void *req_thread(void *arg)
{
	struct req *r = arg;
	u32 v = 0;
	u64 start = mono_ms();

	r->ret = r->write ? vfu_client_region_write(r->c, 0, r->offset, &v, 4)
			  : vfu_client_region_read(r->c, 0, r->offset, &v, 4);
	if (!r->ret && !r->write && v != 0x42424242)
		r->ret = -EBADMSG;
	r->ms = mono_ms() - start;
	return NULL;
}

/*
 * A kick and a client command become ready in the same poll; the work
 * then does DMA by messages on the main socket and stashes the command
 * it reads meanwhile. The loop must answer the stashed command at once,
 * not block reading the (now empty) socket until its timeout.
 */
/* Both tests' server: one socket, BAR0 of 4 KiB through dev_access. */
static struct vfu_server_options server_options(const struct vfu_server_ops *ops,
						void *opaque)
{
	return (struct vfu_server_options){
		.name = "test-server",
		.ops = ops,
		.opaque = opaque,
		.no_twin_socket = true,
		.timeout_ms = 3000,
	};
}

static const struct vfu_server_region bar0 = {
	.size = 4096,
	.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
	.access = dev_access,
	.fd = -1,
};

static void test_work_dma_messages_then_stashed_command_answered(void **state)
{
	struct dev d = { 0 };
	struct vfu_server_options so = server_options(&dev_ops, &d);
	struct vfu_client_options co = {
		.name = "test-client",
		.timeout_ms = 2000,
		.dma_ops = &guest_ops,
	};
	struct req hold, rd;
	pthread_t th, tr;

	(void)state;
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	assert_int_equal(vfu_server_create(&so, &d.srv), 0);
	assert_int_equal(vfu_server_setup_region(d.srv, 0, &bar0), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    d.sv), 0);
	assert_int_equal(pthread_create(&d.loop, NULL, loop_thread, &d), 0);
	assert_int_equal(vfu_client_connect_fd(d.sv[0], &co, &hold.c), 0);
	assert_false(vfu_client_has_twin_socket(hold.c));
	assert_int_equal(vfu_client_dma_map(hold.c, GUEST_IOVA, 4096, -1, 0,
					    VFU_DMA_MAP_F_READ), 0);

	/* Hold the loop in a callback while a kick and a read queue up. */
	hold.offset = REG_HOLD;
	hold.write = true;
	pthread_create(&th, NULL, req_thread, &hold);
	usleep(50 * 1000);
	assert_int_equal(vfu_server_kick(d.srv), 0);
	rd = (struct req){ .c = hold.c, .offset = 0 };
	pthread_create(&tr, NULL, req_thread, &rd);
	usleep(50 * 1000);
	pthread_mutex_lock(&d.lock);
	d.release = true;
	pthread_cond_signal(&d.cond);
	pthread_mutex_unlock(&d.lock);
	pthread_join(th, NULL);
	pthread_join(tr, NULL);

	assert_int_equal(hold.ret, 0);
	assert_int_equal(rd.ret, 0);
	assert_true(rd.ms < 1000);
	assert_int_equal(d.work_calls, 1);
	assert_int_equal(d.dma_ret, 0);
	assert_true(d.dma_value == guest_word);
	assert_int_equal(vfu_client_get_state(hold.c), VFU_CLIENT_CONNECTED);

	vfu_client_close(hold.c);
	pthread_join(d.loop, NULL);
	assert_int_equal(d.run_ret, 0);
	vfu_server_destroy(d.srv);
	pthread_mutex_destroy(&d.lock);
	pthread_cond_destroy(&d.cond);
}

static int kicks;
static pthread_mutex_t kick_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t kick_cond = PTHREAD_COND_INITIALIZER;

static void count_work(void *opaque)
{
	(void)opaque;
	pthread_mutex_lock(&kick_lock);
	kicks++;
	pthread_cond_signal(&kick_cond);
	pthread_mutex_unlock(&kick_lock);
}

/* Waits up to 2 s for ops->work to have run want times. */
static int wait_kicks(int want)
{
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&kick_lock);
	while (kicks < want &&
	       !pthread_cond_timedwait(&kick_cond, &kick_lock, &ts))
		;
	n = kicks;
	pthread_mutex_unlock(&kick_lock);
	return n;
}

/*
 * vfu_server_add_kick_ioeventfd(): the client gets the entry through
 * GET_REGION_IO_FDS, and a write to its fd (what KVM does on the guest's
 * doorbell write) makes the loop call ops->work, with no message. A
 * server without ops->work has nothing to kick and refuses.
 */
static void test_kick_ioeventfd_runs_work(void **state)
{
	static const struct vfu_server_ops work_ops = { .work = count_work };
	struct dev d = { 0 };
	struct vfu_server_options so = server_options(NULL, &d);
	struct vfu_client_options co = {
		.name = "test-client",
		.timeout_ms = 2000,
	};
	struct vfu_server *plain;
	struct vfu_io_fd_entry e[4];
	struct vfu_client *c;
	u64 one = 1;
	unsigned int nr;
	int fds[4];

	(void)state;
	assert_int_equal(vfu_server_create(&so, &plain), 0);
	assert_int_equal(vfu_server_setup_region(plain, 0, &bar0), 0);
	assert_int_equal(vfu_server_add_kick_ioeventfd(plain, 0, 0x8, 4),
			 -EINVAL);
	vfu_server_destroy(plain);

	so.ops = &work_ops;
	assert_int_equal(vfu_server_create(&so, &d.srv), 0);
	assert_int_equal(vfu_server_setup_region(d.srv, 0, &bar0), 0);
	assert_int_equal(vfu_server_add_kick_ioeventfd(d.srv, 0, 0x8, 4), 0);
	assert_int_equal(vfu_server_add_kick_ioeventfd(d.srv, 0, 0x10, 4), 0);
	assert_int_equal(vfu_server_add_kick_ioeventfd(d.srv, 0, 0xffe, 4),
			 -EINVAL);	/* past the region's end */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    d.sv), 0);
	assert_int_equal(pthread_create(&d.loop, NULL, loop_thread, &d), 0);
	assert_int_equal(vfu_client_connect_fd(d.sv[0], &co, &c), 0);

	assert_int_equal(vfu_client_region_io_fds(c, 0, e, 4, fds, 4, &nr), 2);
	assert_int_equal(e[0].offset, 0x8);
	assert_int_equal(e[1].offset, 0x10);
	assert_int_equal(e[0].size, 4);
	assert_int_equal(e[0].flags, 0);	/* no datamatch: any value */
	assert_int_equal(wait_kicks(0), 0);
	assert_int_equal(write(fds[e[0].fd_index], &one, sizeof(one)),
			 sizeof(one));
	assert_int_equal(wait_kicks(1), 1);
	assert_int_equal(write(fds[e[1].fd_index], &one, sizeof(one)),
			 sizeof(one));
	assert_int_equal(wait_kicks(2), 2);
	while (nr)
		close(fds[--nr]);

	vfu_client_close(c);
	pthread_join(d.loop, NULL);
	assert_int_equal(d.run_ret, 0);
	vfu_server_destroy(d.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_work_dma_messages_then_stashed_command_answered),
		cmocka_unit_test(test_kick_ioeventfd_runs_work),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
