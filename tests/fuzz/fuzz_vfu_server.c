// SPDX-License-Identifier: MIT
/*
 * The server library against a fuzzed client: one vfu_server with two
 * regions and two IRQ types serves, for each input, a fresh connection on
 * a socketpair whose other end a feeder thread fills with the input's
 * messages (with fds by SCM_RIGHTS) and then drains. Checked besides
 * memory errors: region callbacks only ever see accesses inside their
 * region, a DMA mapping the server reports is readable end to end, and
 * a connection leaves no fd behind once it is over.
 *
 * Input: records [u8 ctl][u16 len][len bytes], each one sendmsg() of the
 * "client": ctl bits 0-1 the number of fds sent with it, bit 2 makes them
 * one 64 KiB memfd (as guest RAM for DMA_MAP) instead of eventfds.
 * tests/fuzz/gen-corpus.c writes the seeds (VERSION first, as a client
 * must).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "vfio-user/server.h"

#define CTL_FDS_MASK	0x3u
#define CTL_MEMFD	0x4u
#define RAM_SIZE	(64 * 1024)
#define BAR0_SIZE	0x1000
#define CONFIG_SIZE	0x100

static struct vfu_server *srv;
static u8 bar0[BAR0_SIZE], config[CONFIG_SIZE];

struct feeder {
	int fd;
	const u8 *p;
	size_t len;
};

static int region_access(void *opaque, u32 region, u64 offset, void *buf,
			 u32 count, bool is_write)
{
	u8 *mem = region == 0 ? bar0 : config;
	u64 size = region == 0 ? BAR0_SIZE : CONFIG_SIZE;

	(void)opaque;
	FUZZ_CHECK(region == 0 || region == VFU_PCI_CONFIG);
	FUZZ_CHECK(count && offset < size && count <= size - offset);
	if (is_write)
		memcpy(mem + offset, buf, count);
	else
		memcpy(buf, mem + offset, count);
	return 0;
}

static void dma_map(void *opaque, u64 iova, u64 size, void *vaddr,
		    u32 flags)
{
	(void)opaque;
	(void)iova;
	FUZZ_CHECK(size > 0);
	/* The server checked the fd's size: both ends must be there. */
	if (vaddr && (flags & VFU_DMA_MAP_F_READ)) {
		volatile const u8 *p = vaddr;

		(void)p[0];
		(void)p[size - 1];
	}
}

static const struct vfu_server_ops ops = {
	.dma_map = dma_map,
};

static int make_fd(bool memfd)
{
	int fd;

	if (memfd) {
		fd = memfd_create("fuzz-ram", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, RAM_SIZE))
			abort();
	} else {
		fd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0)
			abort();
	}
	return fd;
}

static bool send_record(int sock, const u8 *p, size_t len, u8 ctl)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CTL_FDS_MASK)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { (void *)p, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int nr = ctl & CTL_FDS_MASK, i;
	int fds[CTL_FDS_MASK];
	ssize_t r;

	if (!len)
		return true;
	if (nr) {
		struct cmsghdr *cm;

		for (i = 0; i < nr; i++)
			fds[i] = make_fd(ctl & CTL_MEMFD);
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nr);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nr);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr);
	}
	r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	for (i = 0; i < nr; i++)
		close(fds[i]);
	if (r < 0)
		return false;	/* the server dropped us */
	iov.iov_base = (u8 *)p + r;
	len -= r;
	while (len) {
		r = send(sock, iov.iov_base, len, MSG_NOSIGNAL);
		if (r <= 0)
			return false;
		iov.iov_base = (u8 *)iov.iov_base + r;
		len -= r;
	}
	return true;
}

/* Sends every record, says EOF, reads replies until the server closes. */
static void *feeder_main(void *arg)
{
	struct feeder *f = arg;
	char sink[4096];

	while (f->len >= 3) {
		u8 ctl = f->p[0];
		size_t len = f->p[1] | (size_t)f->p[2] << 8;

		f->p += 3;
		f->len -= 3;
		len = MIN(len, f->len);
		if (!send_record(f->fd, f->p, len, ctl))
			break;
		f->p += len;
		f->len -= len;
	}
	shutdown(f->fd, SHUT_WR);
	/* Replies (and any fds in them, which recv drops) go nowhere. */
	while (recv(f->fd, sink, sizeof(sink), 0) > 0)
		;
	return NULL;
}

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		abort();
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vfu_server_options so = {
		.name = "fuzz-server",
		.max_data_xfer_size = 4096,
		/* A stuck peer ends the connection fast, not the run. */
		.timeout_ms = 500,
		.ops = &ops,
	};
	struct vfu_server_region r0 = {
		.size = BAR0_SIZE,
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = region_access,
		.fd = -1,
	};
	struct vfu_server_region cfg = r0;

	(void)argc;
	(void)argv;
	/* FUZZ_TRACE=1: the server's log, to see how far an input gets. */
	log_set_level(getenv("FUZZ_TRACE") ? LOG_DEBUG : LOG_ERR);
	cfg.size = CONFIG_SIZE;
	if (vfu_server_create(&so, &srv) ||
	    vfu_server_setup_region(srv, 0, &r0) ||
	    vfu_server_setup_region(srv, VFU_PCI_CONFIG, &cfg) ||
	    vfu_server_setup_irq(srv, VFU_IRQ_INTX, 1) ||
	    vfu_server_setup_irq(srv, VFU_IRQ_MSIX, 8))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct feeder f = { .p = data, .len = size };
	pthread_t feeder;
	int sv[2], before;

	if (size > 64 * 1024)
		return 0;
	before = count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	f.fd = sv[1];
	if (pthread_create(&feeder, NULL, feeder_main, &f))
		abort();
	/* Takes sv[0]; the connection is closed when run returns. */
	if (!vfu_server_attach_fd(srv, sv[0]))
		vfu_server_run(srv);
	pthread_join(feeder, NULL);
	close(sv[1]);
	FUZZ_CHECK(count_fds() == before);
	return 0;
}
