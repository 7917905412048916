// SPDX-License-Identifier: MIT
/*
 * uvmm-nvme's I/O threads (aio.h).
 *
 * Why threads and not io_uring (liburing): io_uring is often not there
 * where a device server runs. Container runtimes' default seccomp
 * profiles refuse its system calls, kernels can turn it off
 * (kernel.io_uring_disabled), and buffered file I/O on many file systems
 * is punted to the kernel's own worker threads anyway. A pool of
 * threads doing preadv/pwritev works on every kernel and file type (a
 * block device, a memfd, a file on 9p), needs no fallback path, and its
 * system calls are the ones the sandbox already allows. The cost is a
 * futex wake per submission and per batch of completions, small next to
 * a vfio-user round trip.
 */
#define LOG_PREFIX "aio"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "nvme/aio.h"

struct nvme_aio {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* todo not empty, or stopping */
	pthread_cond_t idle;		/* busy reached 0 */
	struct nvme_io *todo_head, *todo_tail;
	struct nvme_io *done_head, *done_tail;
	unsigned int busy;		/* submitted, not yet on done */
	bool stopping;
	void (*run)(struct nvme_io *io);
	void (*notify)(void *opaque);
	void *opaque;
	unsigned int nr_threads;
	pthread_t threads[NVME_AIO_MAX_THREADS];
};

static void *worker(void *arg)
{
	struct nvme_aio *a = arg;
	struct nvme_io *io;
	bool wake;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->todo_head && !a->stopping)
			pthread_cond_wait(&a->work, &a->lock);
		io = a->todo_head;
		if (!io)
			break;
		a->todo_head = io->next;
		if (!a->todo_head)
			a->todo_tail = NULL;
		pthread_mutex_unlock(&a->lock);

		a->run(io);

		pthread_mutex_lock(&a->lock);
		io->next = NULL;
		/* One notification per batch: the reaper takes them all. */
		wake = !a->done_head;
		if (a->done_tail)
			a->done_tail->next = io;
		else
			a->done_head = io;
		a->done_tail = io;
		if (wake && a->notify) {
			pthread_mutex_unlock(&a->lock);
			a->notify(a->opaque);
			pthread_mutex_lock(&a->lock);
		}
		/* Idle only after the notification: its target may go next. */
		if (!--a->busy)
			pthread_cond_broadcast(&a->idle);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int nvme_aio_create(unsigned int threads, void (*run)(struct nvme_io *io),
		    void (*notify)(void *opaque), void *opaque,
		    struct nvme_aio **out)
{
	struct nvme_aio *a;
	int ret;

	if (!threads || threads > NVME_AIO_MAX_THREADS || !run)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->idle, NULL);
	a->run = run;
	a->notify = notify;
	a->opaque = opaque;
	for (a->nr_threads = 0; a->nr_threads < threads; a->nr_threads++) {
		ret = pthread_create(&a->threads[a->nr_threads], NULL, worker,
				     a);
		if (ret) {
			nvme_aio_destroy(a);
			return -ret;
		}
	}
	*out = a;
	return 0;
}

void nvme_aio_destroy(struct nvme_aio *a)
{
	struct nvme_io *io;
	unsigned int i;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	/* The workers finish what is queued first: no io is left running. */
	for (i = 0; i < a->nr_threads; i++)
		pthread_join(a->threads[i], NULL);
	while ((io = a->done_head)) {
		a->done_head = io->next;
		free(io);
	}
	pthread_cond_destroy(&a->idle);
	pthread_cond_destroy(&a->work);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void nvme_aio_submit(struct nvme_aio *a, struct nvme_io *io)
{
	io->next = NULL;
	pthread_mutex_lock(&a->lock);
	if (a->todo_tail)
		a->todo_tail->next = io;
	else
		a->todo_head = io;
	a->todo_tail = io;
	a->busy++;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
}

struct nvme_io *nvme_aio_reap(struct nvme_aio *a)
{
	struct nvme_io *list;

	pthread_mutex_lock(&a->lock);
	list = a->done_head;
	a->done_head = a->done_tail = NULL;
	pthread_mutex_unlock(&a->lock);
	return list;
}

void nvme_aio_wait_idle(struct nvme_aio *a)
{
	pthread_mutex_lock(&a->lock);
	while (a->busy)
		pthread_cond_wait(&a->idle, &a->lock);
	pthread_mutex_unlock(&a->lock);
}
