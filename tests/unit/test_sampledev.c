// SPDX-License-Identifier: MIT
/*
 * The test device server (tests/servers/sampledev) driven from the client
 * side: the built binary is started on a socket in a temp dir and our
 * client talks to it, with a memfd as "guest RAM". No KVM needed.
 * The server is $BUILD/tests/servers/sampledev (BUILD defaults to "build").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "vfio-user/client.h"
#include "abi/sampledev.h"
#include "tests/unit/support/fake_vm.h"

#define GUEST_BASE	0x100000ULL	/* IOVA = GPA of "guest RAM" */
#define GUEST_SIZE	(4 * MiB)
#define RO_BASE		0x10000000ULL	/* a read-only DMA_MAP'ed range */
#define RO_SIZE		(64 * KiB)
#define EXIT_WAIT_MS	5000

/* ---- helpers ------------------------------------------------------------- */

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static u32 fnv1a(const u8 *p, u64 len)
{
	u32 h = SAMPLEDEV_FNV1A_INIT;
	u64 i;

	for (i = 0; i < len; i++)
		h = SAMPLEDEV_FNV1A_STEP(h, p[i]);
	return h;
}

static void fill_pattern(u8 *p, u64 len, u32 seed)
{
	u64 i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (u8)(seed >> 16);
	}
}

static const char *server_path(void)
{
	static char path[512];
	const char *build = getenv("BUILD");

	snprintf(path, sizeof(path), "%s/tests/servers/sampledev",
		 build && *build ? build : "build");
	if (access(path, X_OK))
		fail_msg("no server binary at %s (make all; BUILD=%s)", path,
			 build ? build : "");
	return path;
}

/* ---- guest memory, served to the client's DMA callbacks ------------------ */

struct guest {
	int fd;
	u8 *mem;		/* GUEST_SIZE, then RO_SIZE */
	unsigned int reads, writes;	/* DMA_READ/DMA_WRITE served */
};

static u8 *guest_ptr(struct guest *g, u64 addr, u64 len)
{
	if (addr >= GUEST_BASE && addr - GUEST_BASE <= GUEST_SIZE &&
	    len <= GUEST_SIZE - (addr - GUEST_BASE))
		return g->mem + (addr - GUEST_BASE);
	if (addr >= RO_BASE && addr - RO_BASE <= RO_SIZE &&
	    len <= RO_SIZE - (addr - RO_BASE))
		return g->mem + GUEST_SIZE + (addr - RO_BASE);
	return NULL;
}

static int guest_read(void *opaque, u64 addr, void *buf, u64 len)
{
	struct guest *g = opaque;
	u8 *p = guest_ptr(g, addr, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	__atomic_fetch_add(&g->reads, 1, __ATOMIC_RELAXED);
	return 0;
}

static int guest_write(void *opaque, u64 addr, const void *buf, u64 len)
{
	struct guest *g = opaque;
	u8 *p = guest_ptr(g, addr, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	__atomic_fetch_add(&g->writes, 1, __ATOMIC_RELAXED);
	return 0;
}

static const struct vfu_client_dma_ops guest_dma_ops = {
	.read = guest_read,
	.write = guest_write,
};

/* ---- one server process -------------------------------------------------- */

struct td {
	char dir[64];
	char sock[128];
	char log[128];
	pid_t pid;
	int fds_before;
	struct guest g;
	struct vfu_client *c;
	int bar2_fd;
	u8 *bar2;		/* the test's own mapping of BAR2 */
};

static bool log_has(struct td *t, const char *needle)
{
	char buf[64 * 1024];
	ssize_t n;
	int fd = open(t->log, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

static void dump_log(struct td *t)
{
	char line[512];
	FILE *f = fopen(t->log, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		print_message("    | %s", line);
	fclose(f);
}

/* Start the server with extra arguments; don't wait for it. */
static void td_spawn_at(struct td *t, const char *sock, const char *arg1,
			const char *arg2)
{
	const char *bin = server_path();
	const char *argv[5];
	int n = 0, fd;

	argv[n++] = bin;
	if (arg1)
		argv[n++] = arg1;
	if (arg2)
		argv[n++] = arg2;
	argv[n++] = sock;
	argv[n] = NULL;
	/* Not the last run's "listening" line. */
	unlink(t->log);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
}

/* Status of the server once it exits, within EXIT_WAIT_MS (else killed). */
static int td_wait_exit(struct td *t)
{
	int status, waited;

	for (waited = 0; waited < EXIT_WAIT_MS; waited++) {
		pid_t r = waitpid(t->pid, &status, WNOHANG);

		if (r == t->pid) {
			t->pid = 0;
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			return 128 + WTERMSIG(status);
		}
		sleep_ms(1);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &status, 0);
	t->pid = 0;
	dump_log(t);
	fail_msg("server did not exit within %d ms", EXIT_WAIT_MS);
	return -1;
}

static void td_wait_listening(struct td *t)
{
	char want[256];
	int waited, status;

	snprintf(want, sizeof(want), "sampledev: listening on %s\n", t->sock);
	for (waited = 0; waited < EXIT_WAIT_MS; waited++) {
		if (log_has(t, want))
			return;
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			dump_log(t);
			fail_msg("server exited (status 0x%x) before listening",
				 status);
		}
		sleep_ms(1);
	}
	dump_log(t);
	fail_msg("no \"%s\" within %d ms", want, EXIT_WAIT_MS);
}

static void td_cleanup_files(struct td *t)
{
	unlink(t->log);
	unlink(t->sock);
	rmdir(t->dir);
	t->dir[0] = 0;
}

/* A fresh temp dir (the last one, if any, removed). */
static void td_dirs(struct td *t)
{
	if (t->dir[0])
		td_cleanup_files(t);
	memset(t, 0, sizeof(*t));
	t->bar2_fd = -1;
	t->g.fd = -1;
	t->fds_before = fake_count_fds();
	snprintf(t->dir, sizeof(t->dir), "/tmp/sampledev-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->sock, sizeof(t->sock), "%s/sock", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/log", t->dir);
}

static void td_connect(struct td *t, bool twin)
{
	struct vfu_client_options co = {
		.name = "test-client",
		.no_twin_socket = !twin,
		.dma_ops = &guest_dma_ops,
		.dma_opaque = &t->g,
	};

	assert_int_equal(vfu_client_connect(t->sock, &co, &t->c), 0);
	assert_int_equal(vfu_client_has_twin_socket(t->c), twin);
	t->g.fd = memfd_create("guest", MFD_CLOEXEC);
	assert_true(t->g.fd >= 0);
	assert_int_equal(ftruncate(t->g.fd, GUEST_SIZE + RO_SIZE), 0);
	t->g.mem = mmap(NULL, GUEST_SIZE + RO_SIZE, PROT_READ | PROT_WRITE,
			MAP_SHARED, t->g.fd, 0);
	assert_true(t->g.mem != MAP_FAILED);
	/* The fd goes along as uvmm sends it; --no-dma-fd ignores it. */
	assert_int_equal(vfu_client_dma_map(t->c, GUEST_BASE, GUEST_SIZE,
					    t->g.fd, 0,
					    VFU_DMA_MAP_F_READ |
					    VFU_DMA_MAP_F_WRITE), 0);
	assert_int_equal(vfu_client_dma_map(t->c, RO_BASE, RO_SIZE, t->g.fd,
					    GUEST_SIZE, VFU_DMA_MAP_F_READ),
			 0);
}

/* A server on a fresh socket, connected, guest RAM mapped. */
static void td_start(struct td *t, const char *arg1, const char *arg2,
		     bool twin)
{
	td_dirs(t);
	td_spawn_at(t, t->sock, arg1, arg2);
	td_wait_listening(t);
	td_connect(t, twin);
}

static void td_map_bar2(struct td *t)
{
	struct vfu_client_region r;

	assert_int_equal(vfu_client_region_info(t->c, 2, &r), 0);
	assert_true(r.fd >= 0);
	t->bar2_fd = r.fd;
	t->bar2 = mmap(NULL, SAMPLEDEV_BAR2_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, r.fd, r.info.offset);
	assert_true(t->bar2 != MAP_FAILED);
}

static void td_unmap(struct td *t)
{
	if (t->bar2) {
		munmap(t->bar2, SAMPLEDEV_BAR2_SIZE);
		close(t->bar2_fd);
		t->bar2 = NULL;
	}
	if (t->g.mem) {
		munmap(t->g.mem, GUEST_SIZE + RO_SIZE);
		t->g.mem = NULL;
	}
	if (t->g.fd >= 0) {
		close(t->g.fd);
		t->g.fd = -1;
	}
}

static int td_setup(void **state)
{
	struct td *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->bar2_fd = -1;
	t->g.fd = -1;
	*state = t;
	return 0;
}

/* After a failed assertion too: no process, file or fd left behind. */
static int td_teardown(void **state)
{
	struct td *t = *state;
	int status;

	if (t->c)
		vfu_client_close(t->c);
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
	}
	td_unmap(t);
	if (t->dir[0])
		td_cleanup_files(t);
	free(t);
	return 0;
}

/* Close the client: the server must exit 0, socket removed, no fd leak. */
static void td_finish(struct td *t)
{
	struct stat st;
	int status;

	vfu_client_close(t->c);
	t->c = NULL;
	status = td_wait_exit(t);
	if (status)
		dump_log(t);
	assert_int_equal(status, 0);
	assert_int_equal(lstat(t->sock, &st), -1);	/* removed on exit */
	td_unmap(t);
	/* The log stays for the test to read; teardown removes it. */
	assert_int_equal(fake_count_fds(), t->fds_before);
}

static u32 rd(struct td *t, u64 off)
{
	u32 v = 0xdeadbeef;

	assert_int_equal(vfu_client_region_read(t->c, 0, off, &v, 4), 0);
	return v;
}

static void wr(struct td *t, u64 off, u32 v)
{
	assert_int_equal(vfu_client_region_write(t->c, 0, off, &v, 4), 0);
}

static void wr64(struct td *t, u64 off, u64 v)
{
	assert_int_equal(vfu_client_region_write(t->c, 0, off, &v, 8), 0);
}

static u32 cfg_rd(struct td *t, u64 off, u32 size)
{
	u32 v = 0;

	assert_int_equal(vfu_client_region_read(t->c, VFU_PCI_CONFIG, off, &v,
						size), 0);
	return v;
}

static void cfg_wr(struct td *t, u64 off, u32 v, u32 size)
{
	assert_int_equal(vfu_client_region_write(t->c, VFU_PCI_CONFIG, off, &v,
						 size), 0);
}

/* How many times an eventfd fired since the last look (0: not at all). */
static u64 efd_take(int fd)
{
	u64 v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void set_efds(struct td *t, u32 index, int *efds, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++) {
		efds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(efds[i] >= 0);
	}
	assert_int_equal(vfu_client_set_irqs(t->c, index,
					     VFU_IRQ_SET_DATA_EVENTFD |
					     VFU_IRQ_SET_ACTION_TRIGGER, 0,
					     count, efds, NULL), 0);
}

static void close_efds(int *efds, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++)
		if (efds[i] >= 0)
			close(efds[i]);
}

static void irq_mask(struct td *t, u32 index, u32 start, bool mask)
{
	assert_int_equal(vfu_client_set_irqs(t->c, index,
					     VFU_IRQ_SET_DATA_NONE |
					     (mask ? VFU_IRQ_SET_ACTION_MASK :
						     VFU_IRQ_SET_ACTION_UNMASK),
					     start, 1, NULL, NULL), 0);
}

/* Program and run one DMA operation; its final status. */
static u32 dma(struct td *t, u32 op, u64 src, u64 dst, u32 len)
{
	u32 status = SAMPLEDEV_DMA_BUSY;
	int i;

	wr64(t, SAMPLEDEV_REG_DMA_SRC_LO, src);
	wr64(t, SAMPLEDEV_REG_DMA_DST_LO, dst);
	wr(t, SAMPLEDEV_REG_DMA_LEN, len);
	wr(t, SAMPLEDEV_REG_DMA_CMD, op);
	for (i = 0; i < 5000 && status == SAMPLEDEV_DMA_BUSY; i++) {
		status = rd(t, SAMPLEDEV_REG_DMA_STATUS);
		if (status == SAMPLEDEV_DMA_BUSY)
			sleep_ms(1);
	}
	return status;
}

/* ---- identity and config space ------------------------------------------- */

static void test_ids_and_header_from_config_region(void **state)
{
	struct td *t = *state;

	td_start(t, NULL, NULL, true);
	assert_int_equal(cfg_rd(t, 0x00, 2), SAMPLEDEV_VENDOR_ID);
	assert_int_equal(cfg_rd(t, 0x02, 2), SAMPLEDEV_DEVICE_ID);
	assert_int_equal(cfg_rd(t, 0x08, 1), SAMPLEDEV_REVISION);
	assert_int_equal(cfg_rd(t, 0x08, 4) >> 8, SAMPLEDEV_CLASS);
	assert_int_equal(cfg_rd(t, 0x0e, 1), 0);	/* type 0, one function */
	assert_int_equal(cfg_rd(t, 0x2c, 2), SAMPLEDEV_SUBSYS_VENDOR_ID);
	assert_int_equal(cfg_rd(t, 0x2e, 2), SAMPLEDEV_SUBSYS_ID);
	assert_int_equal(cfg_rd(t, 0x06, 2) & 0x10, 0x10);	/* cap list */
	assert_int_equal(cfg_rd(t, 0x3d, 1), 1);		/* INTA# */
	assert_int_equal(cfg_rd(t, 0x10, 4), 0);	/* BAR0: 32-bit mem */
	assert_int_equal(cfg_rd(t, 0x14, 4), 0);	/* BAR1 absent */
	assert_int_equal(cfg_rd(t, 0x18, 4), 0x8);	/* BAR2 prefetchable */
	assert_int_equal(cfg_rd(t, 0x30, 4), 0);	/* no ROM */
	/* Outside the 256 bytes: refused, connection alive. */
	{
		u32 v;

		assert_int_equal(vfu_client_region_read(t->c, VFU_PCI_CONFIG,
							254, &v, 4), -EINVAL);
	}
	td_finish(t);
}

static void test_capability_list_walk(void **state)
{
	struct td *t = *state;
	bool msi = false, msix = false, vndr = false;
	u32 pos, steps = 0;

	td_start(t, NULL, NULL, true);
	pos = cfg_rd(t, 0x34, 1);
	while (pos) {
		u32 id = cfg_rd(t, pos, 1);

		assert_true(pos >= 0x40 && pos < SAMPLEDEV_CFG_SIZE &&
			    !(pos & 3));
		assert_true(++steps <= 48);		/* no loop */
		switch (id) {
		case 0x05: {
			u32 ctl = cfg_rd(t, pos + 2, 2);

			assert_int_equal(pos, SAMPLEDEV_CFG_MSI_CAP);
			assert_true(ctl & 0x80);		/* 64-bit */
			assert_int_equal((ctl >> 1) & 7, 0);	/* 1 vector */
			assert_int_equal(ctl & 1, 0);		/* disabled */
			msi = true;
			break;
		}
		case 0x11: {
			u32 ctl = cfg_rd(t, pos + 2, 2);
			u32 table = cfg_rd(t, pos + 4, 4);
			u32 pba = cfg_rd(t, pos + 8, 4);

			assert_int_equal(pos, SAMPLEDEV_CFG_MSIX_CAP);
			assert_int_equal((ctl & 0x7ff) + 1,
					 SAMPLEDEV_MSIX_VECTORS);
			assert_true((ctl & 0x7ff) + 1 >= 4);
			assert_int_equal(table & 7, 0);		/* BIR: BAR0 */
			assert_int_equal(table & ~7u, SAMPLEDEV_MSIX_TABLE);
			assert_int_equal(pba & 7, 0);
			assert_int_equal(pba & ~7u, SAMPLEDEV_MSIX_PBA);
			assert_int_equal(SAMPLEDEV_MSIX_TABLE % 4096, 0);
			assert_int_equal(SAMPLEDEV_MSIX_PBA % 4096, 0);
			msix = true;
			break;
		}
		case 0x09:
			assert_int_equal(pos, SAMPLEDEV_CFG_VNDR_CAP);
			assert_int_equal(cfg_rd(t, pos + 2, 1),
					 SAMPLEDEV_CFG_VNDR_LEN);
			assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_VNDR_SIG_OFF, 4),
					 SAMPLEDEV_CFG_VNDR_SIG);
			assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_VNDR_SCRATCH_OFF,
						2), SAMPLEDEV_CFG_SCRATCH);
			assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_VNDR_SCRATCH_LEN,
						2), SAMPLEDEV_CFG_SCRATCH_SIZE);
			vndr = true;
			break;
		default:
			fail_msg("unexpected capability 0x%x at 0x%x", id, pos);
		}
		pos = cfg_rd(t, pos + 1, 1);
	}
	assert_true(msi && msix && vndr);
	td_finish(t);
}

static void test_config_write_masks_bar_sizing_and_scratch(void **state)
{
	u8 pat[SAMPLEDEV_CFG_SCRATCH_SIZE], back[SAMPLEDEV_CFG_SCRATCH_SIZE];
	struct td *t = *state;

	td_start(t, NULL, NULL, true);
	/* BAR sizing: all-ones reads back the size mask with the flags. */
	cfg_wr(t, 0x10, 0xffffffff, 4);
	assert_int_equal(cfg_rd(t, 0x10, 4), ~(u32)(SAMPLEDEV_BAR0_SIZE - 1));
	cfg_wr(t, 0x18, 0xffffffff, 4);
	assert_int_equal(cfg_rd(t, 0x18, 4),
			 ~(u32)(SAMPLEDEV_BAR2_SIZE - 1) | 0x8);
	cfg_wr(t, 0x14, 0xffffffff, 4);
	assert_int_equal(cfg_rd(t, 0x14, 4), 0);	/* absent BAR */
	cfg_wr(t, 0x10, 0xc0001234, 4);
	assert_int_equal(cfg_rd(t, 0x10, 4), 0xc0000000);
	/* IDs, class, header type and capability pointer are read-only. */
	cfg_wr(t, 0x00, 0x12345678, 4);
	assert_int_equal(cfg_rd(t, 0x00, 2), SAMPLEDEV_VENDOR_ID);
	cfg_wr(t, 0x08, 0xffffffff, 4);
	assert_int_equal(cfg_rd(t, 0x08, 4) >> 8, SAMPLEDEV_CLASS);
	cfg_wr(t, 0x34, 0, 1);
	assert_int_equal(cfg_rd(t, 0x34, 1), SAMPLEDEV_CFG_MSI_CAP);
	cfg_wr(t, SAMPLEDEV_CFG_VNDR_SIG_OFF, 0, 4);
	assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_VNDR_SIG_OFF, 4),
			 SAMPLEDEV_CFG_VNDR_SIG);
	/* COMMAND keeps only the bits it implements. */
	cfg_wr(t, 0x04, 0xffff, 2);
	assert_int_equal(cfg_rd(t, 0x04, 2), SAMPLEDEV_CFG_COMMAND_WMASK);
	cfg_wr(t, 0x04, 0x0006, 2);
	assert_int_equal(cfg_rd(t, 0x04, 2), 0x0006);
	/* MSI-X control: enable and mask bits only, table size read-only. */
	cfg_wr(t, SAMPLEDEV_CFG_MSIX_CAP + 2, 0xffff, 2);
	assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_MSIX_CAP + 2, 2),
			 0xc000 | (SAMPLEDEV_MSIX_VECTORS - 1));
	/* Scratch: every byte, odd sizes and alignments. */
	fill_pattern(pat, sizeof(pat), 7);
	assert_int_equal(vfu_client_region_write(t->c, VFU_PCI_CONFIG,
						 SAMPLEDEV_CFG_SCRATCH, pat,
						 sizeof(pat)), 0);
	assert_int_equal(vfu_client_region_read(t->c, VFU_PCI_CONFIG,
						SAMPLEDEV_CFG_SCRATCH, back,
						sizeof(back)), 0);
	assert_memory_equal(pat, back, sizeof(pat));
	cfg_wr(t, SAMPLEDEV_CFG_SCRATCH + 3, 0xa5, 1);
	cfg_wr(t, SAMPLEDEV_CFG_SCRATCH + 5, 0xbeef, 2);
	assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_SCRATCH + 3, 1), 0xa5);
	assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_SCRATCH + 5, 2), 0xbeef);
	assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_SCRATCH + 4, 1), pat[4]);
	td_finish(t);
}

static void test_region_and_irq_info(void **state)
{
	struct vfu_device_info di;
	struct vfu_client_region r;
	struct vfu_irq_info ii;
	struct td *t = *state;
	u32 i;

	td_start(t, NULL, NULL, true);
	assert_int_equal(vfu_client_device_get_info(t->c, &di), 0);
	assert_int_equal(di.flags, VFU_DEVICE_F_PCI | VFU_DEVICE_F_RESET);
	assert_int_equal(di.num_regions, 9);
	assert_int_equal(di.num_irqs, 5);

	assert_int_equal(vfu_client_region_info(t->c, 0, &r), 0);
	assert_int_equal(r.info.size, SAMPLEDEV_BAR0_SIZE);
	assert_int_equal(r.info.flags, VFU_REGION_F_READ | VFU_REGION_F_WRITE);
	assert_int_equal(r.fd, -1);

	assert_int_equal(vfu_client_region_info(t->c, 2, &r), 0);
	assert_int_equal(r.info.size, SAMPLEDEV_BAR2_SIZE);
	assert_true(r.info.flags & VFU_REGION_F_MMAP);
	assert_true(r.caps.has_sparse);
	assert_int_equal(r.caps.nr_areas, 1);
	assert_int_equal(r.caps.areas[0].offset, 0);
	assert_int_equal(r.caps.areas[0].size, SAMPLEDEV_BAR2_SIZE);
	assert_true(r.fd >= 0);
	close(r.fd);

	for (i = 0; i < 9; i++) {
		if (i == 0 || i == 2 || i == VFU_PCI_CONFIG)
			continue;
		assert_int_equal(vfu_client_region_info(t->c, i, &r), 0);
		assert_int_equal(r.info.size, 0);
		assert_int_equal(r.fd, -1);
	}
	assert_int_equal(vfu_client_region_info(t->c, VFU_PCI_CONFIG, &r), 0);
	assert_int_equal(r.info.size, SAMPLEDEV_CFG_SIZE);
	assert_int_equal(r.info.flags, VFU_REGION_F_READ | VFU_REGION_F_WRITE);

	assert_int_equal(vfu_client_irq_info(t->c, VFU_IRQ_INTX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_true(ii.flags & VFU_IRQ_INFO_F_EVENTFD);
	assert_true(ii.flags & VFU_IRQ_INFO_F_MASKABLE);
	assert_int_equal(vfu_client_irq_info(t->c, VFU_IRQ_MSI, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(vfu_client_irq_info(t->c, VFU_IRQ_MSIX, &ii), 0);
	assert_int_equal(ii.count, SAMPLEDEV_MSIX_VECTORS);
	assert_int_equal(vfu_client_irq_info(t->c, VFU_IRQ_ERR, &ii), 0);
	assert_int_equal(ii.count, 0);
	td_finish(t);
}

/* ---- BAR0 registers and BAR2 --------------------------------------------- */

static void test_registers_read_write(void **state)
{
	struct td *t = *state;
	u64 v64 = 0;
	u8 b;

	td_start(t, NULL, NULL, true);
	assert_int_equal(rd(t, SAMPLEDEV_REG_ID), SAMPLEDEV_ID_MAGIC);
	assert_int_equal(rd(t, SAMPLEDEV_REG_VERSION), SAMPLEDEV_VERSION);
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_SIZE), SAMPLEDEV_BAR2_SIZE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_SCRATCH), 0);
	wr(t, SAMPLEDEV_REG_SCRATCH, 0x12345678);
	assert_int_equal(rd(t, SAMPLEDEV_REG_SCRATCH), 0x12345678);
	/* A byte write merges into the register; a byte read picks one. */
	b = 0xab;
	assert_int_equal(vfu_client_region_write(t->c, 0,
						 SAMPLEDEV_REG_SCRATCH + 2, &b,
						 1), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_SCRATCH), 0x12ab5678);
	assert_int_equal(vfu_client_region_read(t->c, 0,
						SAMPLEDEV_REG_SCRATCH + 1, &b,
						1), 0);
	assert_int_equal(b, 0x56);
	/* Read-only registers ignore writes. */
	wr(t, SAMPLEDEV_REG_ID, 0);
	wr(t, SAMPLEDEV_REG_RESET_COUNT, 5);
	wr(t, SAMPLEDEV_REG_DMA_STATUS, SAMPLEDEV_DMA_DONE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_ID), SAMPLEDEV_ID_MAGIC);
	assert_int_equal(rd(t, SAMPLEDEV_REG_RESET_COUNT), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_STATUS), SAMPLEDEV_DMA_IDLE);
	/* 64-bit access covers both halves, in order. */
	wr64(t, SAMPLEDEV_REG_DMA_SRC_LO, 0x1122334455667788ULL);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_SRC_LO), 0x55667788);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_SRC_HI), 0x11223344);
	assert_int_equal(vfu_client_region_read(t->c, 0, SAMPLEDEV_REG_DMA_SRC_LO,
						&v64, 8), 0);
	assert_int_equal(v64, 0x1122334455667788ULL);
	/* Unused offsets read 0; beyond the BAR is an error reply. */
	wr(t, 0x200, 0xffffffff);
	assert_int_equal(rd(t, 0x200), 0);
	assert_int_equal(rd(t, SAMPLEDEV_BAR0_SIZE - 4), 0);
	assert_int_equal(vfu_client_region_read(t->c, 0, SAMPLEDEV_BAR0_SIZE - 2,
						&v64, 4), -EINVAL);
	/* MSI-X table: plain storage, vectors masked out of reset. */
	assert_int_equal(rd(t, SAMPLEDEV_MSIX_TABLE + 12), 1);
	wr(t, SAMPLEDEV_MSIX_TABLE + 16 + 8, 0x4041);
	assert_int_equal(rd(t, SAMPLEDEV_MSIX_TABLE + 16 + 8), 0x4041);
	wr(t, SAMPLEDEV_MSIX_TABLE + 16 + 12, 0xfffffffe);
	assert_int_equal(rd(t, SAMPLEDEV_MSIX_TABLE + 16 + 12), 0);
	assert_int_equal(rd(t, SAMPLEDEV_MSIX_PBA), 0);
	assert_int_equal(vfu_client_get_state(t->c), VFU_CLIENT_CONNECTED);
	td_finish(t);
}

static void test_bar2_mmap_seen_by_server_checksum(void **state)
{
	u8 buf[256];
	struct td *t = *state;
	u32 n = 100000;

	td_start(t, NULL, NULL, true);
	td_map_bar2(t);
	/* Whole-BAR default length; zeros at start. */
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_CSUM_LEN), SAMPLEDEV_BAR2_SIZE);
	fill_pattern(t->bar2, n, 42);
	wr(t, SAMPLEDEV_REG_BAR2_CSUM_LEN, n);
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_CSUM), fnv1a(t->bar2, n));
	/* The checksum follows the memory, not a copy. */
	t->bar2[n - 1] ^= 0xff;
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_CSUM), fnv1a(t->bar2, n));
	wr(t, SAMPLEDEV_REG_BAR2_CSUM_LEN, 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_CSUM), SAMPLEDEV_FNV1A_INIT);
	wr(t, SAMPLEDEV_REG_BAR2_CSUM_LEN, 0xffffffff);
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_CSUM_LEN), SAMPLEDEV_BAR2_SIZE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_CSUM),
			 fnv1a(t->bar2, SAMPLEDEV_BAR2_SIZE));
	/* REGION_READ/WRITE of BAR2 reach the same bytes. */
	assert_int_equal(vfu_client_region_read(t->c, 2, 1000, buf, 256), 0);
	assert_memory_equal(buf, t->bar2 + 1000, 256);
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(vfu_client_region_write(t->c, 2,
						 SAMPLEDEV_BAR2_SIZE - 256, buf,
						 256), 0);
	assert_int_equal(t->bar2[SAMPLEDEV_BAR2_SIZE - 1], 0x77);
	td_finish(t);
}

/* ---- interrupts ---------------------------------------------------------- */

static void test_doorbell_msix_each_vector(void **state)
{
	int efds[SAMPLEDEV_MSIX_VECTORS];
	struct td *t = *state;
	u32 v, w, sent = 0;

	td_start(t, NULL, NULL, true);
	set_efds(t, VFU_IRQ_MSIX, efds, SAMPLEDEV_MSIX_VECTORS);
	for (v = 0; v < SAMPLEDEV_MSIX_VECTORS; v++) {
		wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(v));
		sent++;
		/* Signalled before the write's reply: exactly that one. */
		for (w = 0; w < SAMPLEDEV_MSIX_VECTORS; w++)
			assert_int_equal(efd_take(efds[w]), w == v ? 1 : 0);
	}
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_COUNT), sent);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_LOST), 0);
	/* Out of range vectors and kinds are counted, not sent. */
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(SAMPLEDEV_MSIX_VECTORS));
	wr(t, SAMPLEDEV_REG_DOORBELL, 0x30000);
	/* A vector with no eventfd from the client is lost too. */
	assert_int_equal(vfu_client_set_irqs(t->c, VFU_IRQ_MSIX,
					     VFU_IRQ_SET_DATA_EVENTFD |
					     VFU_IRQ_SET_ACTION_TRIGGER, 5, 1,
					     (int[]){ -1 }, NULL), 0);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(5));
	assert_int_equal(efd_take(efds[5]), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_LOST), 3);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_COUNT), sent);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(6));
	assert_int_equal(efd_take(efds[6]), 1);
	close_efds(efds, SAMPLEDEV_MSIX_VECTORS);
	td_finish(t);
}

static void test_msix_masked_vector_pending_until_unmask(void **state)
{
	int efds[SAMPLEDEV_MSIX_VECTORS];
	struct td *t = *state;

	td_start(t, NULL, NULL, true);
	set_efds(t, VFU_IRQ_MSIX, efds, SAMPLEDEV_MSIX_VECTORS);
	irq_mask(t, VFU_IRQ_MSIX, 2, true);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(2));
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(2));
	assert_int_equal(efd_take(efds[2]), 0);
	assert_int_equal(rd(t, SAMPLEDEV_MSIX_PBA), 1u << 2);
	irq_mask(t, VFU_IRQ_MSIX, 2, false);
	assert_int_equal(efd_take(efds[2]), 1);		/* once, not twice */
	assert_int_equal(rd(t, SAMPLEDEV_MSIX_PBA), 0);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(2));
	assert_int_equal(efd_take(efds[2]), 1);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_COUNT), 2);
	close_efds(efds, SAMPLEDEV_MSIX_VECTORS);
	td_finish(t);
}

static void test_doorbell_msi(void **state)
{
	struct td *t = *state;
	int efd;

	td_start(t, NULL, NULL, true);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSI);	/* no eventfd yet */
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_LOST), 1);
	set_efds(t, VFU_IRQ_MSI, &efd, 1);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSI);
	assert_int_equal(efd_take(efd), 1);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSI | 1);	/* one vector */
	assert_int_equal(efd_take(efd), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_LOST), 2);
	irq_mask(t, VFU_IRQ_MSI, 0, true);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSI);
	assert_int_equal(efd_take(efd), 0);
	irq_mask(t, VFU_IRQ_MSI, 0, false);
	assert_int_equal(efd_take(efd), 1);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_COUNT), 2);
	close(efd);
	td_finish(t);
}

static void test_intx_level_until_ack(void **state)
{
	struct td *t = *state;
	int efd;

	td_start(t, NULL, NULL, true);
	set_efds(t, VFU_IRQ_INTX, &efd, 1);
	assert_int_equal(cfg_rd(t, 0x06, 2) & 0x08, 0);
	/* Assert: one edge on the eventfd, status and STATUS.INT up. */
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
	assert_int_equal(efd_take(efd), 1);
	assert_int_equal(rd(t, SAMPLEDEV_REG_INTX_STATUS),
			 SAMPLEDEV_INTX_DOORBELL);
	assert_int_equal(cfg_rd(t, 0x06, 2) & 0x08, 0x08);
	/* Already asserted: no second edge. */
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
	assert_int_equal(efd_take(efd), 0);
	/* A resample (unmask) while still asserted signals again. */
	irq_mask(t, VFU_IRQ_INTX, 0, false);
	assert_int_equal(efd_take(efd), 1);
	/* Ack clears the cause: deasserted, an unmask is quiet. */
	wr(t, SAMPLEDEV_REG_INTX_ACK, SAMPLEDEV_INTX_DOORBELL);
	assert_int_equal(rd(t, SAMPLEDEV_REG_INTX_STATUS), 0);
	assert_int_equal(cfg_rd(t, 0x06, 2) & 0x08, 0);
	irq_mask(t, VFU_IRQ_INTX, 0, false);
	assert_int_equal(efd_take(efd), 0);
	/* Masked: held back, sent on unmask. */
	irq_mask(t, VFU_IRQ_INTX, 0, true);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
	assert_int_equal(efd_take(efd), 0);
	irq_mask(t, VFU_IRQ_INTX, 0, false);
	assert_int_equal(efd_take(efd), 1);
	wr(t, SAMPLEDEV_REG_INTX_ACK, 0xffffffff);
	/* COMMAND.INTX_DISABLE: status set, no signal until cleared. */
	cfg_wr(t, 0x04, 0x0400, 2);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
	assert_int_equal(efd_take(efd), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_INTX_STATUS),
			 SAMPLEDEV_INTX_DOORBELL);
	assert_int_equal(cfg_rd(t, 0x06, 2) & 0x08, 0x08);
	cfg_wr(t, 0x04, 0x0000, 2);
	assert_int_equal(efd_take(efd), 1);
	wr(t, SAMPLEDEV_REG_INTX_ACK, SAMPLEDEV_INTX_DOORBELL);
	assert_int_equal(rd(t, SAMPLEDEV_REG_INTX_STATUS), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_COUNT), 4);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_LOST), 0);
	close(efd);
	td_finish(t);
}

/* ---- DMA engine ---------------------------------------------------------- */

static void test_dma_copy_within_guest_ram_raises_irq(void **state)
{
	int efds[SAMPLEDEV_MSIX_VECTORS];
	u8 *ref = malloc(200000);
	u64 src = GUEST_BASE + 0x1000, dst = GUEST_BASE + 0x200000;
	u32 len = 199999;
	struct td *t = *state;

	assert_non_null(ref);
	td_start(t, NULL, NULL, true);
	set_efds(t, VFU_IRQ_MSIX, efds, SAMPLEDEV_MSIX_VECTORS);
	wr(t, SAMPLEDEV_REG_DMA_IRQ, SAMPLEDEV_DMA_IRQ_EN | SAMPLEDEV_IRQ_MSIX(3));
	fill_pattern(t->g.mem + 0x1000, len, 1);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, src, dst, len),
			 SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->g.mem + 0x200000, t->g.mem + 0x1000, len);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM),
			 fnv1a(t->g.mem + 0x1000, len));
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_NONE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_COUNT), 1);
	assert_int_equal(efd_take(efds[3]), 1);
	assert_int_equal(efd_take(efds[0]), 0);
	/* Overlapping ranges copy as memmove. */
	fill_pattern(t->g.mem, 4096, 2);
	memcpy(ref, t->g.mem, 4096);
	memmove(ref + 100, ref, 3000);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE,
			     GUEST_BASE + 100, 3000), SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->g.mem, ref, 4096);
	/* The CHECKSUM op reads only. */
	memcpy(ref, t->g.mem + 0x3000, 4096);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_CSUM, GUEST_BASE + 0x3000,
			     GUEST_BASE + 0x3000 + 7, 4096), SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->g.mem + 0x3000, ref, 4096);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM),
			 fnv1a(t->g.mem + 0x3000, 4096));
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_COUNT), 3);
	assert_int_equal(efd_take(efds[3]), 2);
	/* Fd mapped: the client served no DMA messages. */
	assert_int_equal(t->g.reads + t->g.writes, 0);
	close_efds(efds, SAMPLEDEV_MSIX_VECTORS);
	free(ref);
	td_finish(t);
}

/* Into and out of BAR2, checked through the test's mapping of it. */
static void dma_bar2_round_trip(struct td *t)
{
	u32 len = 65536 + 123, count = rd(t, SAMPLEDEV_REG_DMA_COUNT);
	u64 bar2_off = 0x40000;

	td_map_bar2(t);
	/* Guest RAM -> BAR2 at 0: BAR2_CSUM sees what landed. */
	fill_pattern(t->g.mem + 0x10000, len, 3);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE + 0x10000,
			     SAMPLEDEV_DMA_BAR2, len), SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->bar2, t->g.mem + 0x10000, len);
	wr(t, SAMPLEDEV_REG_BAR2_CSUM_LEN, len);
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_CSUM),
			 fnv1a(t->g.mem + 0x10000, len));
	/* BAR2 -> guest RAM: what the client wrote into its mapping. */
	fill_pattern(t->bar2 + bar2_off, len, 4);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY,
			     SAMPLEDEV_DMA_BAR2 | bar2_off,
			     GUEST_BASE + 0x300000, len), SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->g.mem + 0x300000, t->bar2 + bar2_off, len);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM),
			 fnv1a(t->bar2 + bar2_off, len));
	/* Checksums of BAR2 and of guest RAM by the engine. */
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_CSUM,
			     SAMPLEDEV_DMA_BAR2 | bar2_off, 0, len),
			 SAMPLEDEV_DMA_DONE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM),
			 fnv1a(t->bar2 + bar2_off, len));
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_CSUM, GUEST_BASE + 0x300000, 0,
			     len), SAMPLEDEV_DMA_DONE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM),
			 fnv1a(t->bar2 + bar2_off, len));
	/* BAR2 -> BAR2, and the largest copy: the whole BAR. */
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY,
			     SAMPLEDEV_DMA_BAR2 | bar2_off,
			     SAMPLEDEV_DMA_BAR2 | 0x80000, 4096),
			 SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->bar2 + 0x80000, t->bar2 + bar2_off, 4096);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, SAMPLEDEV_DMA_BAR2,
			     GUEST_BASE + 0x200000, SAMPLEDEV_BAR2_SIZE),
			 SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->g.mem + 0x200000, t->bar2, SAMPLEDEV_BAR2_SIZE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_COUNT), count + 6);
}

static void test_dma_into_and_out_of_bar2(void **state)
{
	struct td *t = *state;

	td_start(t, NULL, NULL, true);
	dma_bar2_round_trip(t);
	assert_int_equal(t->g.reads + t->g.writes, 0);
	td_finish(t);
}

static void test_dma_sync_and_errors(void **state)
{
	struct td *t = *state;
	int efd;

	td_start(t, NULL, NULL, true);
	set_efds(t, VFU_IRQ_MSI, &efd, 1);
	wr(t, SAMPLEDEV_REG_DMA_IRQ, SAMPLEDEV_DMA_IRQ_EN | SAMPLEDEV_IRQ_MSI);
	/* SYNC: done by the time the DMA_CMD write returns. */
	fill_pattern(t->g.mem, 5000, 5);
	wr64(t, SAMPLEDEV_REG_DMA_SRC_LO, GUEST_BASE);
	wr64(t, SAMPLEDEV_REG_DMA_DST_LO, GUEST_BASE + 0x100000);
	wr(t, SAMPLEDEV_REG_DMA_LEN, 5000);
	wr(t, SAMPLEDEV_REG_DMA_CMD, SAMPLEDEV_DMA_OP_COPY | SAMPLEDEV_DMA_SYNC);
	assert_memory_equal(t->g.mem + 0x100000, t->g.mem, 5000);
	assert_int_equal(efd_take(efd), 1);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_STATUS), SAMPLEDEV_DMA_DONE);
	/* Zero length: done, checksum of nothing. */
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE, GUEST_BASE,
			     0), SAMPLEDEV_DMA_DONE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM), SAMPLEDEV_FNV1A_INIT);
	assert_int_equal(efd_take(efd), 1);

	/* Errors end in ERROR with a reason, and still interrupt. */
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE - 0x1000,
			     GUEST_BASE, 16), SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_SRC);
	assert_int_equal(efd_take(efd), 1);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY,
			     GUEST_BASE + GUEST_SIZE - 8, GUEST_BASE, 16),
			 SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_SRC);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE, RO_BASE,
			     16), SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_DST);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_CSUM, RO_BASE, 0, 16),
			 SAMPLEDEV_DMA_DONE);		/* readable though */
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE,
			     GUEST_BASE + 0x100000, SAMPLEDEV_DMA_MAX_LEN + 1),
			 SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_LEN);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY,
			     SAMPLEDEV_DMA_BAR2 | (SAMPLEDEV_BAR2_SIZE - 8),
			     GUEST_BASE, 16), SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_SRC);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE,
			     SAMPLEDEV_DMA_BAR2 | 0x7fffffffffffff00ULL, 16),
			 SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_DST);
	assert_int_equal(dma(t, 7, GUEST_BASE, GUEST_BASE, 16),
			 SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_OP);
	/* No op: ignored, the last status stays. */
	wr(t, SAMPLEDEV_REG_DMA_CMD, SAMPLEDEV_DMA_SYNC);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_STATUS), SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_COUNT), 3);
	assert_int_equal(efd_take(efd), 7);
	assert_int_equal(vfu_client_get_state(t->c), VFU_CLIENT_CONNECTED);
	close(efd);
	td_finish(t);
}

/* --no-dma-fd: every guest RAM access by DMA_READ/DMA_WRITE messages. */
static void dma_by_messages(struct td *t, bool twin)
{
	u32 len = 300000;

	td_start(t, "-v", "--no-dma-fd", twin);
	fill_pattern(t->g.mem, len, 9);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE,
			     GUEST_BASE + 0x100000, len), SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->g.mem + 0x100000, t->g.mem, len);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM), fnv1a(t->g.mem, len));
	assert_true(t->g.reads >= 1);
	assert_true(t->g.writes >= 1);
	/* While the DMA_CMD writer waits for its reply (SYNC). */
	fill_pattern(t->g.mem + 0x200000, 4096, 10);
	wr64(t, SAMPLEDEV_REG_DMA_SRC_LO, GUEST_BASE + 0x200000);
	wr64(t, SAMPLEDEV_REG_DMA_DST_LO, GUEST_BASE + 0x280000);
	wr(t, SAMPLEDEV_REG_DMA_LEN, 4096);
	wr(t, SAMPLEDEV_REG_DMA_CMD, SAMPLEDEV_DMA_OP_COPY | SAMPLEDEV_DMA_SYNC);
	assert_memory_equal(t->g.mem + 0x280000, t->g.mem + 0x200000, 4096);
	/* The client refuses what is not mapped or not writable. */
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE, RO_BASE,
			     16), SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_DST);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_CSUM, GUEST_BASE - 16, 0, 16),
			 SAMPLEDEV_DMA_ERROR);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_ERR), SAMPLEDEV_DMA_ERR_SRC);
	assert_int_equal(vfu_client_get_state(t->c), VFU_CLIENT_CONNECTED);
	t->g.reads = t->g.writes = 0;
	dma_bar2_round_trip(t);
	assert_true(t->g.reads >= 2 && t->g.writes >= 2);
	assert_true(log_has(t, "by DMA_READ/DMA_WRITE messages"));
	assert_true(log_has(t, "sampledev: DMA: done"));
	td_finish(t);
}

static void test_dma_no_dma_fd_twin_socket(void **state)
{
	dma_by_messages(*state, true);
}

static void test_dma_no_dma_fd_main_socket(void **state)
{
	dma_by_messages(*state, false);
}

/*
 * Copies larger than the server's 1 MiB bounce buffer, overlapping either
 * way (memmove), a checksum across chunks, and NO_CSUM; DMA_NS is set.
 */
static void dma_large(struct td *t)
{
	u32 len = 2 * MiB + 4097, up = 0x100003, down = 0x80000;
	u8 *ref = malloc(GUEST_SIZE);

	assert_non_null(ref);
	fill_pattern(t->g.mem, GUEST_SIZE, 11);
	memcpy(ref, t->g.mem, GUEST_SIZE);
	memmove(ref + up, ref, len);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY, GUEST_BASE,
			     GUEST_BASE + up, len), SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->g.mem, ref, GUEST_SIZE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM), fnv1a(ref + up, len));
	memmove(ref, ref + down, len);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_COPY | SAMPLEDEV_DMA_NO_CSUM,
			     GUEST_BASE + down, GUEST_BASE, len),
			 SAMPLEDEV_DMA_DONE);
	assert_memory_equal(t->g.mem, ref, GUEST_SIZE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM), 0);
	assert_int_not_equal(rd(t, SAMPLEDEV_REG_DMA_NS), 0);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_CSUM, GUEST_BASE, 0,
			     GUEST_SIZE), SAMPLEDEV_DMA_DONE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM), fnv1a(ref, GUEST_SIZE));
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_COUNT), 3);
	free(ref);
}

static void test_dma_large_through_the_mapping(void **state)
{
	struct td *t = *state;

	td_start(t, NULL, NULL, true);
	dma_large(t);
	assert_int_equal(t->g.reads + t->g.writes, 0);
	td_finish(t);
}

static void test_dma_large_by_messages(void **state)
{
	struct td *t = *state;

	td_start(t, "--no-dma-fd", NULL, true);
	dma_large(t);
	/* 1 MiB a message at most: three chunks each way, and more. */
	assert_true(t->g.reads >= 6 && t->g.writes >= 6);
	td_finish(t);
}

/* ---- reset --------------------------------------------------------------- */

static void test_reset_clears_state_and_counts(void **state)
{
	struct td *t = *state;
	u32 i;
	int efd;

	td_start(t, NULL, NULL, true);
	td_map_bar2(t);
	set_efds(t, VFU_IRQ_INTX, &efd, 1);
	wr(t, SAMPLEDEV_REG_SCRATCH, 0x5a5a5a5a);
	wr(t, SAMPLEDEV_REG_DMA_IRQ, SAMPLEDEV_DMA_IRQ_EN | SAMPLEDEV_IRQ_INTX);
	wr(t, SAMPLEDEV_REG_BAR2_CSUM_LEN, 16);
	wr(t, SAMPLEDEV_MSIX_TABLE, 0xfee00000);
	cfg_wr(t, SAMPLEDEV_CFG_SCRATCH, 0x11223344, 4);
	cfg_wr(t, 0x04, 0x0006, 2);
	cfg_wr(t, 0x10, 0xd0000000, 4);
	memset(t->bar2, 0xee, 4096);
	assert_int_equal(dma(t, SAMPLEDEV_DMA_OP_CSUM, GUEST_BASE, 0, 64),
			 SAMPLEDEV_DMA_DONE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_INTX_STATUS), SAMPLEDEV_INTX_DMA);
	assert_int_equal(efd_take(efd), 1);

	assert_int_equal(vfu_client_device_reset(t->c), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_RESET_COUNT), 1);
	assert_int_equal(rd(t, SAMPLEDEV_REG_ID), SAMPLEDEV_ID_MAGIC);
	assert_int_equal(rd(t, SAMPLEDEV_REG_SCRATCH), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_INTX_STATUS), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_STATUS), SAMPLEDEV_DMA_IDLE);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_COUNT), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_IRQ), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_DMA_CSUM), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_IRQ_COUNT), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_BAR2_CSUM_LEN), SAMPLEDEV_BAR2_SIZE);
	assert_int_equal(rd(t, SAMPLEDEV_MSIX_TABLE), 0);
	assert_int_equal(rd(t, SAMPLEDEV_MSIX_TABLE + 12), 1);
	assert_int_equal(cfg_rd(t, SAMPLEDEV_CFG_SCRATCH, 4), 0);
	assert_int_equal(cfg_rd(t, 0x04, 2), 0);
	assert_int_equal(cfg_rd(t, 0x10, 4), 0);
	assert_int_equal(cfg_rd(t, 0x06, 2) & 0x08, 0);
	assert_int_equal(cfg_rd(t, 0x00, 2), SAMPLEDEV_VENDOR_ID);
	for (i = 0; i < 4096; i++)
		if (t->bar2[i])
			fail_msg("BAR2 byte %u is 0x%x after reset", i,
				 t->bar2[i]);
	/* The device works after a reset; the count goes on. */
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_INTX);
	assert_int_equal(efd_take(efd), 1);
	assert_int_equal(vfu_client_device_reset(t->c), 0);
	assert_int_equal(rd(t, SAMPLEDEV_REG_RESET_COUNT), 2);
	close(efd);
	td_finish(t);
}

/* ---- process behaviour --------------------------------------------------- */

static void test_verbose_lines_are_prefixed(void **state)
{
	char line[512];
	struct td *t = *state;
	FILE *f;
	int n = 0;

	td_start(t, "-v", NULL, true);
	wr(t, SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(1));
	assert_int_equal(vfu_client_device_reset(t->c), 0);
	td_finish(t);
	f = fopen(t->log, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "sampledev: ", 9))
			fail_msg("unprefixed line: %s", line);
		n++;
	}
	fclose(f);
	assert_true(log_has(t, "sampledev: DMA_MAP 0x100000+0x400000 rw: mapped"));
	assert_true(log_has(t, "sampledev: doorbell: MSI-X vector 1 not sent"));
	assert_true(log_has(t, "sampledev: DEVICE_RESET: reset 1"));
	assert_true(log_has(t, "sampledev: client disconnected"));
	assert_true(n >= 6);
}

static void test_sigterm_before_client_and_sigint_while_serving(void **state)
{
	struct stat st;
	struct td *t = *state;
	u32 v;

	td_dirs(t);
	td_spawn_at(t, t->sock, NULL, NULL);
	td_wait_listening(t);
	assert_int_equal(kill(t->pid, SIGTERM), 0);
	assert_int_equal(td_wait_exit(t), 0);
	assert_int_equal(lstat(t->sock, &st), -1);

	td_spawn_at(t, t->sock, NULL, NULL);
	td_wait_listening(t);
	td_connect(t, true);
	assert_int_equal(rd(t, SAMPLEDEV_REG_ID), SAMPLEDEV_ID_MAGIC);
	assert_int_equal(kill(t->pid, SIGINT), 0);
	assert_int_equal(td_wait_exit(t), 0);
	assert_int_equal(lstat(t->sock, &st), -1);
	/* The client sees a dead server, not a hang. */
	assert_true(vfu_client_region_read(t->c, 0, 0, &v, 4) < 0);
	assert_int_equal(vfu_client_get_state(t->c), VFU_CLIENT_ERROR);
	vfu_client_close(t->c);
	t->c = NULL;
	td_unmap(t);
	assert_int_equal(fake_count_fds(), t->fds_before);
}

static void test_stale_socket_replaced_other_files_kept(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	struct vfu_client *c2;
	struct td *t = *state;
	int fd;

	td_dirs(t);
	/* A socket file left by a dead server. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	strcpy(sun.sun_path, t->sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	td_spawn_at(t, t->sock, NULL, NULL);
	td_wait_listening(t);
	td_connect(t, true);
	assert_int_equal(rd(t, SAMPLEDEV_REG_ID), SAMPLEDEV_ID_MAGIC);
	/* One client only: a second is refused, not queued. */
	assert_true(vfu_client_connect(t->sock, NULL, &c2) < 0);
	td_finish(t);

	/* Anything else at the path is left alone: an error, status 1. */
	td_dirs(t);
	fd = open(t->sock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	td_spawn_at(t, t->sock, "-v", NULL);
	assert_int_equal(td_wait_exit(t), 1);
	assert_true(log_has(t, "sampledev: "));
	assert_true(log_has(t, "is not a socket"));
	assert_int_equal(lstat(t->sock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(fake_count_fds(), t->fds_before);
}

static void test_bad_command_lines_exit_2(void **state)
{
	struct td *t = *state;

	td_dirs(t);
	td_spawn_at(t, t->sock, "--bogus", NULL);
	assert_int_equal(td_wait_exit(t), 2);
	assert_true(log_has(t, "usage: sampledev"));
	td_spawn_at(t, t->sock, "-v", "extra-path");
	assert_int_equal(td_wait_exit(t), 2);
	assert_int_equal(fake_count_fds(), t->fds_before);
}

#define TD_TEST(fn) cmocka_unit_test_setup_teardown(fn, td_setup, td_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TD_TEST(test_ids_and_header_from_config_region),
		TD_TEST(test_capability_list_walk),
		TD_TEST(test_config_write_masks_bar_sizing_and_scratch),
		TD_TEST(test_region_and_irq_info),
		TD_TEST(test_registers_read_write),
		TD_TEST(test_bar2_mmap_seen_by_server_checksum),
		TD_TEST(test_doorbell_msix_each_vector),
		TD_TEST(test_msix_masked_vector_pending_until_unmask),
		TD_TEST(test_doorbell_msi),
		TD_TEST(test_intx_level_until_ack),
		TD_TEST(test_dma_copy_within_guest_ram_raises_irq),
		TD_TEST(test_dma_into_and_out_of_bar2),
		TD_TEST(test_dma_sync_and_errors),
		TD_TEST(test_dma_no_dma_fd_twin_socket),
		TD_TEST(test_dma_no_dma_fd_main_socket),
		TD_TEST(test_dma_large_through_the_mapping),
		TD_TEST(test_dma_large_by_messages),
		TD_TEST(test_reset_clears_state_and_counts),
		TD_TEST(test_verbose_lines_are_prefixed),
		TD_TEST(test_sigterm_before_client_and_sigint_while_serving),
		TD_TEST(test_stale_socket_replaced_other_files_kept),
		TD_TEST(test_bad_command_lines_exit_2),
	};

	/* Quiet: only errors, some of which (connect refused) are expected. */
	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
