// SPDX-License-Identifier: MIT
/*
 * uvmm-nvme's I/O threads (nvme/aio.c): ios run on several threads at
 * once and come back in the order they finish, with real preadv/pwritev
 * on a memfd; what is never reaped is freed with the pool.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvme/aio.h"

static struct nvme_io *io_alloc(enum nvme_io_op op, int fd, u64 off,
				void *buf, size_t len)
{
	struct nvme_io *io = calloc(1, sizeof(*io));

	assert_non_null(io);
	io->op = op;
	io->fd = fd;
	io->off = off;
	io->len = len;
	io->iov[0].iov_base = buf;
	io->iov[0].iov_len = len;
	io->nr_iov = len ? 1 : 0;
	return io;
}

/* ---- two ios at once ---------------------------------------------------- */

/*
 * run() for the concurrency test: io A (off 0) waits until io B (off 1)
 * has run and been listed as finished (the pool's notification), so A
 * can only finish if B ran while A was still running: on another thread,
 * and finished first. The wait is bounded only so that a broken pool
 * fails instead of hanging; nothing is timed.
 */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t order_cond = PTHREAD_COND_INITIALIZER;
static bool b_listed, a_saw_b;

static void run_ordered(struct nvme_io *io)
{
	struct timespec limit;

	io->result = 0;
	if (io->off == 1)
		return;
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 60;
	pthread_mutex_lock(&order_lock);
	while (!b_listed &&
	       pthread_cond_timedwait(&order_cond, &order_lock, &limit) !=
	       ETIMEDOUT)
		;
	a_saw_b = b_listed;
	pthread_mutex_unlock(&order_lock);
}

/* The done list went from empty to one io: only B can be on it. */
static void notify_ordered(void *opaque)
{
	(void)opaque;
	pthread_mutex_lock(&order_lock);
	b_listed = true;
	pthread_cond_broadcast(&order_cond);
	pthread_mutex_unlock(&order_lock);
}

static int notify_fd = -1;

static void notify(void *opaque)
{
	u64 one = 1;

	(void)opaque;
	assert_int_equal(write(notify_fd, &one, sizeof(one)), sizeof(one));
}

static void test_concurrent_out_of_order(void **state)
{
	struct nvme_aio *a;
	struct nvme_io *list, *io;
	unsigned int n = 0;
	u64 order[2];

	(void)state;
	assert_int_equal(nvme_aio_create(2, run_ordered, notify_ordered, NULL, &a), 0);
	nvme_aio_submit(a, io_alloc(NVME_IO_READ, -1, 0, NULL, 0));
	nvme_aio_submit(a, io_alloc(NVME_IO_READ, -1, 1, NULL, 0));
	nvme_aio_wait_idle(a);
	assert_true(a_saw_b);
	/* Finished B first, then A: reaped in that order, one batch or two. */
	while (n < 2) {
		for (list = nvme_aio_reap(a); list; list = io) {
			io = list->next;
			assert_true(n < 2);
			order[n++] = list->off;
			free(list);
		}
	}
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 0);
	nvme_aio_destroy(a);
}

/* ---- real I/O ----------------------------------------------------------- */

static void test_real_io_and_notify(void **state)
{
	struct nvme_aio *a;
	struct nvme_io *io, *list;
	u8 out[8192], in[8192], other[8192];
	unsigned int i, n = 0;
	int fd;
	u64 v;

	(void)state;
	fd = memfd_create("aio-test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	notify_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(notify_fd >= 0);
	for (i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i * 13 + 5);
	assert_int_equal(nvme_aio_create(4, nvme_io_run, notify, NULL, &a), 0);

	io = io_alloc(NVME_IO_WRITE, fd, 4096, out, sizeof(out));
	io->sync = true;	/* fdatasync on a memfd: EINVAL, not an error */
	nvme_aio_submit(a, io);
	/* The notification says something is there to reap. */
	assert_int_equal(read(notify_fd, &v, sizeof(v)), sizeof(v));
	nvme_aio_wait_idle(a);
	list = nvme_aio_reap(a);
	assert_non_null(list);
	assert_null(list->next);
	assert_int_equal(list->result, 0);
	free(list);
	assert_null(nvme_aio_reap(a));

	memset(in, 0, sizeof(in));
	nvme_aio_submit(a, io_alloc(NVME_IO_READ, fd, 4096, in, sizeof(in)));
	nvme_aio_submit(a, io_alloc(NVME_IO_FLUSH, fd, 0, NULL, 0));
	/* Past the end of the file: a short read is an error. */
	nvme_aio_submit(a, io_alloc(NVME_IO_READ, fd, (1 << 20) - 512, other,
				    sizeof(other)));
	/* A bad fd: the errno comes back. */
	nvme_aio_submit(a, io_alloc(NVME_IO_READ, -1, 0, other, 512));
	nvme_aio_wait_idle(a);
	for (list = nvme_aio_reap(a); list; list = io, n++) {
		io = list->next;
		if (list->fd < 0)
			assert_int_equal(list->result, -EBADF);
		else if (list->op == NVME_IO_FLUSH)
			assert_int_equal(list->result, 0);
		else if (list->off == 4096)
			assert_int_equal(list->result, 0);
		else
			assert_int_equal(list->result, -EIO);
		free(list);
	}
	assert_int_equal(n, 4);
	assert_memory_equal(in, out, sizeof(out));

	/* Never reaped: the pool frees it (the sanitizers would see a leak). */
	nvme_aio_submit(a, io_alloc(NVME_IO_READ, fd, 0, other, 512));
	nvme_aio_destroy(a);
	close(notify_fd);
	close(fd);
}

static void test_create_refusals(void **state)
{
	struct nvme_aio *a = NULL;

	(void)state;
	assert_int_equal(nvme_aio_create(0, nvme_io_run, NULL, NULL, &a),
			 -EINVAL);
	assert_int_equal(nvme_aio_create(NVME_AIO_MAX_THREADS + 1, nvme_io_run,
					 NULL, NULL, &a), -EINVAL);
	assert_int_equal(nvme_aio_create(1, NULL, NULL, NULL, &a), -EINVAL);
	assert_null(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_out_of_order),
		cmocka_unit_test(test_real_io_and_notify),
		cmocka_unit_test(test_create_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
