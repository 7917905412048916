/* SPDX-License-Identifier: MIT */
#ifndef UVMM_NVME_AIO_H
#define UVMM_NVME_AIO_H

/*
 * The I/O threads of uvmm-nvme: a fixed pool that runs struct nvme_io
 * (ctrl.h) with run() (nvme_io_run() in the server), so that a slow image
 * never holds up the vfio-user message loop. Submitted ios run in any
 * order, several at a time; finished ones wait on a list for
 * nvme_aio_reap(), and notify(opaque) is called (from a worker) when that
 * list stops being empty.
 */

#include "nvme/ctrl.h"

#define NVME_AIO_MAX_THREADS	64

struct nvme_aio;

/* 0 or -errno. The threads exist on return (before any sandbox). */
int nvme_aio_create(unsigned int threads, void (*run)(struct nvme_io *io),
		    void (*notify)(void *opaque), void *opaque,
		    struct nvme_aio **out);
/* Waits for every io still running; ios never reaped are freed. */
void nvme_aio_destroy(struct nvme_aio *a);

void nvme_aio_submit(struct nvme_aio *a, struct nvme_io *io);
/* The finished ios (linked by ->next, in the order they finished), or NULL. */
struct nvme_io *nvme_aio_reap(struct nvme_aio *a);
/* Returns once no submitted io is queued or running. */
void nvme_aio_wait_idle(struct nvme_aio *a);

#endif
