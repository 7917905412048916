// SPDX-License-Identifier: MIT
/*
 * Round trip of a 4-byte REGION_READ through our client to our server
 * over a socketpair, beside a bare blocking socketpair ping-pong of the
 * same message sizes (16+16 request, 16+16+4 reply) between two threads,
 * in the same run. Prints the medians and their ratio.
 *
 * Build: make build/bench/vfu_rtt
 * Run: build/bench/vfu_rtt [iterations]   (default 100000)
 *      build/bench/vfu_rtt --raw N        N round trips of each, every
 *	one printed as "BENCH bare_rtt ns 1 ..." and "BENCH vfu_rtt ns 1
 *	...", for bench/measure.sh, "BENCH bare_rtt_process ..." for
 *	the bare ping-pong with the answering side in a child process, and
 *	"BENCH bare_send ..." for one blocking send of a posted write's 36
 *	bytes to a thread that reads them (the limit of a posted write
 *	beside the exit)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "vfio-user/client.h"
#include "vfio-user/server.h"

#define REQ_SIZE	(16 + 16)
#define REP_SIZE	(16 + 16 + 4)
#define WRITE_SIZE	(16 + 16 + 4)

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 median(u64 *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* ---- bare ping-pong ------------------------------------------------------- */

static int full_io(int fd, void *buf, size_t len, bool wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = wr ? send(fd, (char *)buf + done, len - done,
				      MSG_NOSIGNAL) :
				 recv(fd, (char *)buf + done, len - done,
				      MSG_WAITALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

static void *bare_server(void *arg)
{
	int fd = *(int *)arg;
	u8 req[REQ_SIZE], rep[REP_SIZE] = { 0 };

	while (!full_io(fd, req, sizeof(req), false)) {
		memcpy(rep, req, 16);
		if (full_io(fd, rep, sizeof(rep), true))
			break;
	}
	return NULL;
}

static int ping_pong(int fd, int iters, u64 *samples)
{
	u8 req[REQ_SIZE] = { 1 }, rep[REP_SIZE];
	int i;

	for (i = 0; i < iters; i++) {
		u64 t0 = mono_ns();

		if (full_io(fd, req, sizeof(req), true) ||
		    full_io(fd, rep, sizeof(rep), false))
			break;
		samples[i] = mono_ns() - t0;
	}
	return i;
}

/* Fills samples[0..iters) in the order taken; false if a run failed. */
static bool run_bare(int iters, u64 *samples)
{
	pthread_t t;
	int sv[2], i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return false;
	pthread_create(&t, NULL, bare_server, &sv[1]);
	i = ping_pong(sv[0], iters, samples);
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	return i == iters;
}

static void *bare_sink(void *arg)
{
	int fd = *(int *)arg;
	u8 msg[WRITE_SIZE];

	while (!full_io(fd, msg, sizeof(msg), false))
		;
	return NULL;
}

/* One send each, nothing waited for: what a posted write costs uvmm. */
static bool run_bare_send(int iters, u64 *samples)
{
	u8 msg[WRITE_SIZE] = { 2 };
	pthread_t t;
	int sv[2], i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return false;
	pthread_create(&t, NULL, bare_sink, &sv[1]);
	for (i = 0; i < iters; i++) {
		u64 t0 = mono_ns();

		if (full_io(sv[0], msg, sizeof(msg), true))
			break;
		samples[i] = mono_ns() - t0;
	}
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	return i == iters;
}

/*
 * The same with the answering side in a child process, as a real server
 * is: where switching address spaces costs (a TLB flush without PCID,
 * QEMU's TCG), this is the part of uvmm's round trip threads do not show.
 */
static bool run_bare_process(int iters, u64 *samples)
{
	int sv[2], i, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		close(sv[0]);
		bare_server(&sv[1]);
		_exit(0);
	}
	close(sv[1]);
	i = ping_pong(sv[0], iters, samples);
	shutdown(sv[0], SHUT_RDWR);
	close(sv[0]);
	waitpid(pid, &status, 0);
	return i == iters;
}

/* ---- our client and server ------------------------------------------------- */

static int bar_read(void *opaque, u32 region, u64 offset, void *buf,
		    u32 count, bool is_write)
{
	(void)opaque;
	(void)region;
	if (!is_write)
		memset(buf, (int)offset, count);
	return 0;
}

struct srv_arg {
	struct vfu_server *srv;
	int fd;
};

static void *vfu_server_thread(void *p)
{
	struct srv_arg *a = p;

	if (!vfu_server_attach_fd(a->srv, a->fd))
		vfu_server_run(a->srv);
	return NULL;
}

static bool run_vfu(int iters, u64 *samples)
{
	struct vfu_server_options so = { .name = "bench-server" };
	struct vfu_server_region bar0 = {
		.size = 4096, .flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = bar_read, .fd = -1,
	};
	struct srv_arg a;
	struct vfu_client *c;
	pthread_t t;
	int sv[2], i;
	u32 v;

	if (vfu_server_create(&so, &a.srv) ||
	    vfu_server_setup_region(a.srv, 0, &bar0) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return false;
	a.fd = sv[1];
	pthread_create(&t, NULL, vfu_server_thread, &a);
	if (vfu_client_connect_fd(sv[0], NULL, &c))
		return false;
	for (i = 0; i < iters; i++) {
		u64 t0 = mono_ns();

		if (vfu_client_region_read(c, 0, 16, &v, 4))
			break;
		samples[i] = mono_ns() - t0;
	}
	vfu_client_close(c);
	pthread_join(t, NULL);
	vfu_server_destroy(a.srv);
	return i == iters;
}

static void print_raw(const char *name, const u64 *v, int n)
{
	int i;

	/* Several short lines: the parser takes any number per name. */
	for (i = 0; i < n; i++) {
		if (i % 32 == 0)
			printf("%sBENCH %s ns 1", i ? "\n" : "", name);
		printf(" %llu", (unsigned long long)v[i]);
	}
	printf("\n");
}

/* Every sample of both, in the order taken (not sorted). */
static int run_raw(int iters)
{
	u64 *bare = calloc(iters, sizeof(u64)), *vfu = calloc(iters, sizeof(u64));
	u64 *proc = calloc(iters, sizeof(u64));
	u64 *send = calloc(iters, sizeof(u64));
	int ret = 1;

	if (bare && vfu && proc && send && run_bare(iters, bare) &&
	    run_vfu(iters, vfu) && run_bare_process(iters, proc) &&
	    run_bare_send(iters, send)) {
		print_raw("bare_rtt", bare, iters);
		print_raw("vfu_rtt", vfu, iters);
		print_raw("bare_rtt_process", proc, iters);
		print_raw("bare_send", send, iters);
		ret = 0;
	} else {
		fprintf(stderr, "vfu_rtt: a run failed\n");
	}
	free(bare);
	free(vfu);
	free(proc);
	free(send);
	return ret;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 100000;
	u64 *samples, bare, vfu, bare2, vfu2;

	if (argc == 3 && !strcmp(argv[1], "--raw")) {
		iters = atoi(argv[2]);
		return iters > 0 ? run_raw(iters) : 2;
	}

	if (iters < 1)
		return 2;
	samples = calloc(iters, sizeof(*samples));
	if (!samples)
		return 1;
	/* Interleave and take the better of two rounds each, to even out
	 * frequency scaling and scheduler placement. */
	bare = run_bare(iters, samples) ? median(samples, iters) : 0;
	vfu = run_vfu(iters, samples) ? median(samples, iters) : 0;
	bare2 = run_bare(iters, samples) ? median(samples, iters) : 0;
	vfu2 = run_vfu(iters, samples) ? median(samples, iters) : 0;
	free(samples);
	if (!bare || !vfu || !bare2 || !vfu2) {
		fprintf(stderr, "vfu_rtt: a run failed\n");
		return 1;
	}
	bare = MIN(bare, bare2);
	vfu = MIN(vfu, vfu2);
	printf("iterations              %d\n", iters);
	printf("bare ping-pong median   %.2f us\n", bare / 1000.0);
	printf("vfio-user client median %.2f us\n", vfu / 1000.0);
	printf("ratio                   %.2fx (target <= 1.20x)\n",
	       (double)vfu / (double)bare);
	return 0;
}
