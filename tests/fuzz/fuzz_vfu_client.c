// SPDX-License-Identifier: MIT
/*
 * The whole client against a fuzzed server: vfu_client_connect_fd() on
 * one end of a socketpair whose receive side is the transport ops table
 * serving the input, then the calls device.c makes when it sets a device
 * up and runs it (device info, region info with its re-query, IRQ info,
 * io fds, DMA map, SET_IRQS with eventfds, region read and write, DMA
 * unmap, reset), then close. The server's DMA_READ/DMA_WRITE requests in
 * the stream are served by the client's worker from a 64 KiB guest
 * buffer. Checked besides memory errors: every DMA access lies inside
 * the mapped range, and no fd is left open after vfu_client_close().
 *
 * Input: records [u8 ctl][u16 len][len bytes], each what the "server"
 * sent with one sendmsg(): ctl bits 0-1 the number of fds (eventfds)
 * that come with its first byte, bit 2 delivers it in pieces of at most 7
 * bytes, bit 3 makes one receive call time out (EAGAIN) before it. After
 * the last record the peer is gone (EOF). tests/fuzz/gen-corpus.c writes
 * the seeds: a valid conversation with the ids the client uses (0 for
 * VERSION, then one up per request).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "vfio-user/client.h"

#define CTL_FDS_MASK	0x3u
#define CTL_PIECES	0x4u
#define CTL_STALL	0x8u
#define PIECE_MAX	7u

#define DMA_BASE	0x100000ull
#define DMA_SIZE	(64 * 1024ull)

struct stream {
	const u8 *p;		/* the rest of the input */
	size_t len;
	const u8 *rec;		/* current record's remaining bytes */
	size_t rec_len;
	unsigned int rec_fds;	/* fds still to hand out with it */
	bool pieces;
};

static u8 *guest;	/* DMA_SIZE bytes at DMA_BASE */

static bool next_record(struct stream *s)
{
	u8 ctl;
	size_t len;

	while (!s->rec_len) {
		if (s->len < 3)
			return false;
		ctl = s->p[0];
		len = s->p[1] | (size_t)s->p[2] << 8;
		s->p += 3;
		s->len -= 3;
		len = MIN(len, s->len);
		s->rec = s->p;
		s->rec_len = len;
		s->p += len;
		s->len -= len;
		s->rec_fds = ctl & CTL_FDS_MASK;
		s->pieces = ctl & CTL_PIECES;
		if (ctl & CTL_STALL) {
			/* Returned on the next call, before any byte of it. */
			errno = EAGAIN;
			if (!len)
				continue;
			return true;
		}
	}
	errno = 0;
	return true;
}

/* Put n fresh eventfds in msg's control buffer, as the kernel would. */
static void attach_fds(struct msghdr *msg, unsigned int n)
{
	struct cmsghdr *cm;
	int fds[CTL_FDS_MASK];
	unsigned int i;

	for (i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		if (fds[i] < 0)
			abort();
	}
	if (!msg->msg_control ||
	    msg->msg_controllen < CMSG_SPACE(n * sizeof(int))) {
		for (i = 0; i < n; i++)
			close(fds[i]);
		msg->msg_controllen = 0;
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	cm = (struct cmsghdr *)msg->msg_control;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	msg->msg_controllen = CMSG_SPACE(n * sizeof(int));
}

static ssize_t stream_recvmsg(void *opaque, int fd, struct msghdr *msg,
			      int flags)
{
	struct stream *s = opaque;
	size_t n;

	(void)fd;
	(void)flags;
	msg->msg_flags = 0;
	if (!s->rec_len) {
		if (!next_record(s)) {
			msg->msg_controllen = 0;
			return 0;	/* the server is gone */
		}
		if (errno == EAGAIN) {
			msg->msg_controllen = 0;
			return -1;
		}
	}
	n = MIN(s->rec_len, msg->msg_iov[0].iov_len);
	if (s->pieces)
		n = MIN(n, PIECE_MAX);
	memcpy(msg->msg_iov[0].iov_base, s->rec, n);
	s->rec += n;
	s->rec_len -= n;
	if (s->rec_fds) {
		attach_fds(msg, s->rec_fds);
		s->rec_fds = 0;
	} else {
		msg->msg_controllen = 0;
	}
	return n;
}

/* Everything the client sends reaches the "server" whole. */
static ssize_t stream_sendmsg(void *opaque, int fd, const struct msghdr *msg,
			      int flags)
{
	size_t i, total = 0;

	(void)opaque;
	(void)fd;
	(void)flags;
	for (i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	return total;
}

static const struct vfu_transport_ops stream_ops = {
	.recvmsg = stream_recvmsg,
	.sendmsg = stream_sendmsg,
};

/* The client checked the range against its DMA map table first. */
static int dma_read(void *opaque, u64 addr, void *buf, u64 len)
{
	(void)opaque;
	FUZZ_CHECK(len && addr >= DMA_BASE && addr - DMA_BASE <= DMA_SIZE &&
		   len <= DMA_SIZE - (addr - DMA_BASE));
	memcpy(buf, guest + (addr - DMA_BASE), len);
	return 0;
}

static int dma_write(void *opaque, u64 addr, const void *buf, u64 len)
{
	(void)opaque;
	FUZZ_CHECK(len && addr >= DMA_BASE && addr - DMA_BASE <= DMA_SIZE &&
		   len <= DMA_SIZE - (addr - DMA_BASE));
	memcpy(guest + (addr - DMA_BASE), buf, len);
	return 0;
}

static const struct vfu_client_dma_ops dma_ops = {
	.read = dma_read,
	.write = dma_write,
};

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

static void close_region(struct vfu_client_region *r)
{
	if (r->fd >= 0)
		close(r->fd);
}

/* FUZZ_TRACE=1 in the environment: each call's result on stderr, to see
 * how far an input gets (run the binary on that one file). */
static bool trace;

#define STEP(call)                                                       \
	({                                                               \
		int ret_ = (call);                                       \
		if (trace)                                               \
			fprintf(stderr, "fuzz: %s = %d\n", #call, ret_);  \
		ret_;                                                    \
	})

/* The calls device.c makes, in its order; errors end nothing here. */
static void drive(struct vfu_client *c)
{
	struct vfu_io_fd_entry entries[8];
	struct vfu_client_region region;
	struct vfu_device_info info;
	struct vfu_irq_info irq;
	int io_fds[8], efds[2];
	unsigned int nr_io_fds = 0, i;
	u8 buf[64];
	int ret;

	STEP(vfu_client_device_get_info(c, &info));
	if (!STEP(vfu_client_region_info(c, 0, &region)))
		close_region(&region);
	if (!STEP(vfu_client_region_info(c, VFU_PCI_CONFIG, &region)))
		close_region(&region);
	STEP(vfu_client_irq_info(c, VFU_IRQ_MSIX, &irq));
	ret = STEP(vfu_client_region_io_fds(c, 0, entries, ARRAY_SIZE(entries),
					    io_fds, ARRAY_SIZE(io_fds),
					    &nr_io_fds));
	if (ret >= 0) {
		FUZZ_CHECK((unsigned int)ret <= ARRAY_SIZE(entries));
		FUZZ_CHECK(nr_io_fds <= ARRAY_SIZE(io_fds));
		for (i = 0; i < nr_io_fds; i++)
			close(io_fds[i]);
	}
	STEP(vfu_client_dma_map(c, DMA_BASE, DMA_SIZE, -1, 0,
				VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE));
	efds[0] = eventfd(0, EFD_CLOEXEC);
	efds[1] = eventfd(0, EFD_CLOEXEC);
	STEP(vfu_client_set_irqs(c, VFU_IRQ_MSIX, VFU_IRQ_SET_DATA_EVENTFD |
				 VFU_IRQ_SET_ACTION_TRIGGER, 0, 2, efds, NULL));
	close(efds[0]);
	close(efds[1]);
	STEP(vfu_client_region_read(c, 0, 0x10, buf, 8));
	STEP(vfu_client_region_write(c, 0, 0x10, buf, 8));
	STEP(vfu_client_region_read(c, VFU_PCI_CONFIG, 0, buf, sizeof(buf)));
	STEP(vfu_client_dma_unmap(c, DMA_BASE, DMA_SIZE, 0));
	STEP(vfu_client_device_reset(c));
	if (trace)
		fprintf(stderr, "fuzz: state %d: %s\n", vfu_client_get_state(c),
			vfu_client_error_string(c));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_TRACE");
	log_set_level(trace ? LOG_DEBUG : LOG_ERR);
	guest = calloc(1, DMA_SIZE);
	if (!guest)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct stream s = { .p = data, .len = size };
	struct vfu_client_options opts = {
		.name = "fuzz",
		.timeout_ms = 2000,
		/* The twin socket would be a real socket: not the input. */
		.no_twin_socket = true,
		.dma_ops = &dma_ops,
		.transport_ops = &stream_ops,
		.transport_opaque = &s,
	};
	struct vfu_client *c;
	int sv[2], before;

	if (size > 256 * 1024)
		return 0;
	before = count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	if (!vfu_client_connect_fd(sv[0], &opts, &c)) {
		drive(c);
		vfu_client_close(c);
	}
	close(sv[1]);
	FUZZ_CHECK(count_fds() == before);
	return 0;
}
