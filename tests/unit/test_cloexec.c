// SPDX-License-Identifier: MIT
/*
 * Limits: every fd uvmm's own code opens is close-on-exec, so nothing it
 * holds (guest RAM, device sockets, eventfds, fds a server sent) leaks
 * into a program started beside it; guest RAM is sealed; loaders leave no
 * fd behind. Each test sweeps /proc/self/fd for every fd that was not open
 * when it started and checks FD_CLOEXEC on each, so a new fd anywhere in
 * the code under test is covered without naming it here. The KVM fds
 * (/dev/kvm, VM, vCPUs, irqfds) are checked on the real binary by the boot
 * test tests/boot/cases/90-limits.sh.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfio-user/client.h"
#include "vfio-user/server.h"
#include "vmm/loader.h"
#include "vmm/memory.h"

#define MAX_FD 4096

struct fd_set_snapshot {
	bool open[MAX_FD];
};

/*
 * Whether fd is the program's own: valgrind keeps fds of its own at and
 * above the fd limit it gives the program, listed in /proc/self/fd.
 */
static bool ours(int fd)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if ((rlim_t)fd >= rl.rlim_cur)
		return false;
	assert_true(fd < MAX_FD);
	return true;
}

static void snapshot(struct fd_set_snapshot *s)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	assert_non_null(dir);
	memset(s, 0, sizeof(*s));
	while ((de = readdir(dir))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd != dirfd(dir) && ours(fd))
			s->open[fd] = true;
	}
	closedir(dir);
}

/*
 * Every fd open now that was not in before must be close-on-exec; returns
 * how many were checked, so a test can tell that it checked something.
 */
static int check_new_fds_cloexec(const struct fd_set_snapshot *before)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int checked = 0;

	assert_non_null(dir);
	while ((de = readdir(dir))) {
		char link[64], target[256] = "";
		int fd = atoi(de->d_name), flags;

		if (de->d_name[0] == '.' || fd == dirfd(dir) || !ours(fd))
			continue;
		if (before->open[fd])
			continue;
		flags = fcntl(fd, F_GETFD);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if (readlink(link, target, sizeof(target) - 1) < 0)
			strcpy(target, "?");
		if (flags < 0 || !(flags & FD_CLOEXEC))
			fail_msg("fd %d (%s) is not close-on-exec", fd, target);
		checked++;
	}
	closedir(dir);
	return checked;
}

static int count_new_fds(const struct fd_set_snapshot *before)
{
	struct fd_set_snapshot now;
	int fd, n = 0;

	snapshot(&now);
	for (fd = 0; fd < MAX_FD; fd++)
		if (now.open[fd] && !before->open[fd])
			n++;
	return n;
}

static void test_guest_ram_cloexec_and_sealed(void **state)
{
	struct fd_set_snapshot before;
	struct guest_memory mem;
	int seals;

	(void)state;
	snapshot(&before);
	assert_int_equal(mem_create(&mem, 4 * MiB), 0);
	assert_int_equal(check_new_fds_cloexec(&before), 1);
	/* A server maps this fd: it must never shrink (or grow) under it. */
	seals = fcntl(mem.memfd, F_GET_SEALS);
	assert_true(seals >= 0);
	assert_true(seals & F_SEAL_SHRINK);
	assert_true(seals & F_SEAL_GROW);
	assert_true(seals & F_SEAL_SEAL);
	assert_int_equal(ftruncate(mem.memfd, MiB), -1);
	assert_int_equal(errno, EPERM);
	mem_destroy(&mem);
	assert_int_equal(count_new_fds(&before), 0);
}

static void test_loader_keeps_no_fd(void **state)
{
	char dir[] = "/tmp/uvmm-cloexec.XXXXXX", path[128], err[256];
	struct fd_set_snapshot before;
	size_t size;
	u8 *data;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/image", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x7f" "ELF", 4), 4);
	close(fd);

	snapshot(&before);
	assert_int_equal(loader_read_file(path, MiB, &data, &size, err,
					  sizeof(err)), 0);
	assert_int_equal(size, 4);
	free(data);
	/* Refused without blocking: a FIFO, a directory. */
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_true(loader_read_file(path, MiB, &data, &size, err,
				     sizeof(err)) < 0);
	assert_true(loader_read_file(dir, MiB, &data, &size, err,
				     sizeof(err)) < 0);
	assert_int_equal(count_new_fds(&before), 0);
	unlink(path);
	rmdir(dir);
}

/* ---- a vfio-user server in a thread, a client, fds both ways ------------- */

struct server {
	struct vfu_server *srv;
	pthread_t thread;
	int ret;
};

static int region_access(void *opaque, u32 region, u64 offset, void *buf,
			 u32 count, bool is_write)
{
	(void)opaque;
	(void)region;
	(void)offset;
	if (!is_write)
		memset(buf, 0, count);
	return 0;
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	s->ret = vfu_server_accept(s->srv);
	if (!s->ret)
		s->ret = vfu_server_run(s->srv);
	return NULL;
}

static void test_vfio_user_fds_cloexec(void **state)
{
	static const struct vfu_server_ops no_ops;
	char dir[] = "/tmp/uvmm-cloexec.XXXXXX", path[128];
	struct vfu_server_options so = { .name = "cloexec", .ops = &no_ops };
	struct vfu_server_region bar0 = {
		.size = 0x4000,
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = region_access,
	};
	struct fd_set_snapshot before;
	struct vfu_client_region region;
	struct guest_memory mem;
	struct server s = { 0 };
	struct vfu_client *c;
	int efds[2], bar_fd, checked;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dev.sock", dir);
	snapshot(&before);

	/* The server lends an mmap-able BAR: the client receives its fd. */
	bar_fd = memfd_create("bar0", MFD_CLOEXEC);
	assert_true(bar_fd >= 0);
	assert_int_equal(ftruncate(bar_fd, bar0.size), 0);
	bar0.fd = bar_fd;
	assert_int_equal(vfu_server_create(&so, &s.srv), 0);
	assert_int_equal(vfu_server_setup_region(s.srv, 0, &bar0), 0);
	assert_int_equal(vfu_server_setup_irq(s.srv, VFU_IRQ_MSIX, 2), 0);
	assert_int_equal(vfu_server_listen(s.srv, path), 0);
	assert_int_equal(pthread_create(&s.thread, NULL, server_main, &s), 0);

	/* Twin socket on (the default): a socketpair end comes over. */
	assert_int_equal(vfu_client_connect(path, NULL, &c), 0);
	assert_true(vfu_client_has_twin_socket(c));
	/* Guest RAM goes to the server by SCM_RIGHTS, as uvmm sends it. */
	assert_int_equal(mem_create(&mem, 2 * MiB), 0);
	assert_int_equal(vfu_client_dma_map(c, 0, mem.size, mem.memfd, 0,
					    VFU_DMA_MAP_F_READ |
					    VFU_DMA_MAP_F_WRITE), 0);
	assert_int_equal(vfu_client_region_info(c, 0, &region), 0);
	assert_true(region.fd >= 0);
	/* Interrupt eventfds go to the server too. */
	efds[0] = eventfd(0, EFD_CLOEXEC);
	efds[1] = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(vfu_client_set_irqs(c, VFU_IRQ_MSIX,
					     VFU_IRQ_SET_DATA_EVENTFD |
					     VFU_IRQ_SET_ACTION_TRIGGER, 0, 2,
					     efds, NULL), 0);
	assert_true(vfu_server_irq_enabled(s.srv, VFU_IRQ_MSIX, 1));

	/*
	 * Both ends' sockets, the twin pair, the server's copies of the BAR,
	 * guest RAM and the eventfds, the fd the client received, the
	 * server's kick eventfd: at least 12 fds, all close-on-exec.
	 */
	checked = check_new_fds_cloexec(&before);
	assert_true(checked >= 12);

	close(region.fd);
	close(efds[0]);
	close(efds[1]);
	vfu_client_close(c);
	pthread_join(s.thread, NULL);
	assert_int_equal(s.ret, 0);
	vfu_server_destroy(s.srv);
	close(bar_fd);
	mem_destroy(&mem);
	/* And nothing stays open once everything is closed. */
	assert_int_equal(count_new_fds(&before), 0);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_ram_cloexec_and_sealed),
		cmocka_unit_test(test_loader_keeps_no_fd),
		cmocka_unit_test(test_vfio_user_fds_cloexec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
