// SPDX-License-Identifier: MIT
/*
 * evil: a hostile vfio-user server, for the tests of how uvmm's client
 * copes with a server that lies, breaks the framing or goes away. One
 * misbehaviour per run:
 *
 *	build/tests/servers/evil --mode MODE [--at STEP | --on-signal |
 *		--now-on-signal] [options] SOCKET_PATH
 *	build/tests/servers/evil --close-at STEP [--before] SOCKET_PATH
 *
 * The device is a small look-alike of tests/servers/sampledev (same IDs,
 * capability list, config scratch area, BAR0 ID and scratch registers,
 * BAR2 as an mmap-able memfd), enough for guest/vfio-user-basic.c and
 * guest/vfio-user-loop.c, served by the server library on one end of a
 * socketpair. The main thread sits between the client's socket and the
 * other end and passes every message through unchanged, fds included,
 * until the chosen moment; then it misbehaves by writing its own bytes
 * to the client, since the library never sends anything malformed.
 *
 * When (one of):
 *   --at STEP       STEP is "accept" (at once, before VERSION) or
 *                   CMD[:N], the reply to the N-th command CMD (a
 *                   vfu_cmd_name(): VERSION, DMA_MAP, DEVICE_GET_INFO,
 *                   DEVICE_GET_REGION_INFO, DEVICE_GET_IRQ_INFO,
 *                   DEVICE_SET_IRQS, REGION_READ, DEVICE_RESET, ...;
 *                   N defaults to 1). Default: VERSION.
 *   --on-signal     the next reply after SIGUSR1.
 *   --now-on-signal at once on SIGUSR1, with no request pending: an
 *                   unsolicited reply (id 0x7777, REGION_READ) is the
 *                   message that is mangled.
 * A SIGUSR1 that comes before the client counts once it is in. With --at
 * accept or --now-on-signal, the modes that answer a request (no-reply,
 * busy-no-reply, late-reply, the region and irq modes) are refused.
 *
 * Modes (what is sent instead of the reply):
 *   none            nothing: a faithful proxy (checks the set-up)
 *   wrong-id        the reply with another id (id ^ 0x8000)
 *   duplicate       the reply, twice
 *   wrong-size      the reply 4 bytes short (4 bytes long if empty),
 *                   its header saying so
 *   truncated       the header and half the payload (8 header bytes
 *                   when there is none), then the socket is closed
 *   huge-size       the reply with 0xffffffff (4 GiB) as its size, then
 *                   nothing more
 *   small-size      the reply with 15 as its size, then nothing more
 *   too-many-fds    the reply with --fds N fds attached (default 506:
 *                   253 to each half of the header, the most one
 *                   sendmsg() carries)
 *   garbage         64 pseudo-random bytes, then nothing more
 *   error           the ERROR flag (EIO) on this reply and every later one
 *   no-reply        the reply is dropped; the rest goes on
 *   busy-no-reply   the reply is dropped, and a valid DMA_READ goes out
 *                   every --delay-ms (default 100), so the socket never
 *                   falls silent
 *   late-reply      the reply is held back --delay-ms (default 1500)
 *   trickle         the reply with a header claiming 1 MiB of payload,
 *                   one byte every --delay-ms (default 200), forever
 *   trickle-body    the same, but the header goes out whole at once
 *   close           the reply, then the socket is closed; with --before
 *                   the socket is closed on receiving the command
 *   dma             the reply, then, one at a time, DMA_READ and
 *                   DMA_WRITE requests for ranges outside guest RAM,
 *                   across its end, wrapping around 2^64, of count 0,
 *                   and one inside it; all must be refused but the one
 *                   inside ("evil: dma: all N requests answered, W
 *                   wrongly" at the end); a faithful proxy otherwise
 *   dma-flood       the reply, then --count (default 1000) valid
 *                   DMA_READ requests at once, not waiting for answers
 * Modes that rewrite every DEVICE_GET_REGION_INFO reply of region
 * --region (default 2, BAR2, which has the sparse mmap capability):
 *   region-size-odd     size 1.5 times the real one
 *   region-size-huge    size 2^63
 *   region-offset-wrap  mmap offset 2^64 - 4 KiB (offset + size wraps)
 *   region-offset-far   mmap offset 1 TiB, past the end of the fd
 *   sparse-outside      the sparse area starts at the region's end
 *   sparse-overlap      the sparse area runs 4 KiB past the region's end
 *   sparse-wrap         the sparse area starts at 2^64 - 4 KiB
 *   sparse-count        nr_areas 0xffffffff
 * and of every DEVICE_GET_IRQ_INFO reply of index --irq (default 2,
 * MSI-X):
 *   irq-count           count 0xffffffff
 * and, with four ioeventfds offered on BAR0 (0x80-0x8c), of the
 * DEVICE_GET_REGION_IO_FDS reply that lists them:
 *   io-fd-types         entry 0 an IOREGIONFD, entry 1 a shadow
 *                       ioeventfd, entry 2 of size 3, entry 3 with
 *                       unknown flags (0x80)
 *
 * --close-at STEP is --mode close --at STEP.
 *
 * It prints "evil: listening on PATH" once a client can connect, and
 * "evil: MISBEHAVE MODE at T ms: WHAT" when it misbehaves, T being
 * CLOCK_REALTIME in milliseconds, so a script can time the client's
 * reaction ("evil: again ..." for each later time, e.g. the error
 * mode's later replies). One client; it exits 0 once that client is gone, or on
 * SIGTERM/SIGINT, 1 on errors, 2 on a bad command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "vfio-user/server.h"
#include "vfio-user/transport.h"
#include "abi/sampledev.h"

#define BAR0_REGION		0
#define BAR2_REGION		2
#define CONFIG_REGION		7
#define MAX_MSG			(VFU_HDR_SIZE + VFU_DEFAULT_MAX_DATA_XFER + \
				 VFU_MSG_SLACK)
#define UNSOLICITED_ID		0x7777
#define MAX_MAPS		16
#define MAX_PROBES		32

/* ---- the device ---------------------------------------------------------- */

struct device {
	struct vfu_server *srv;
	u8 cfg[SAMPLEDEV_CFG_SIZE];
	u32 scratch;
	u32 resets;
	int bar2_fd;
	u8 *bar2;
	bool io_fds;		/* offer ioeventfds (io-fd-types) */
};

static void put16(u8 *p, unsigned int off, u16 v)
{
	p[off] = (u8)v;
	p[off + 1] = (u8)(v >> 8);
}

static void put32(u8 *p, unsigned int off, u32 v)
{
	put16(p, off, (u16)v);
	put16(p, off + 2, (u16)(v >> 16));
}

/* What vfio-user-basic looks at: IDs, class, BAR types, the capabilities. */
static void cfg_init(struct device *d)
{
	u8 *c = d->cfg;

	memset(c, 0, sizeof(d->cfg));
	put16(c, 0x00, SAMPLEDEV_VENDOR_ID);
	put16(c, 0x02, SAMPLEDEV_DEVICE_ID);
	put16(c, 0x06, 0x10);			/* status: capability list */
	put32(c, 0x08, SAMPLEDEV_REVISION | (u32)SAMPLEDEV_CLASS << 8);
	put32(c, 0x10, 0);			/* BAR0: 32-bit memory */
	put32(c, 0x18, 0x08);			/* BAR2: prefetchable */
	put16(c, 0x2c, SAMPLEDEV_SUBSYS_VENDOR_ID);
	put16(c, 0x2e, SAMPLEDEV_SUBSYS_ID);
	c[0x34] = SAMPLEDEV_CFG_MSI_CAP;
	c[0x3d] = 1;				/* INTA# */
	/* MSI, 64-bit, one vector. */
	c[SAMPLEDEV_CFG_MSI_CAP] = 0x05;
	c[SAMPLEDEV_CFG_MSI_CAP + 1] = SAMPLEDEV_CFG_MSIX_CAP;
	put16(c, SAMPLEDEV_CFG_MSI_CAP + 2, 0x0080);
	/* MSI-X, 8 vectors, table and PBA in BAR0. */
	c[SAMPLEDEV_CFG_MSIX_CAP] = 0x11;
	c[SAMPLEDEV_CFG_MSIX_CAP + 1] = SAMPLEDEV_CFG_VNDR_CAP;
	put16(c, SAMPLEDEV_CFG_MSIX_CAP + 2, SAMPLEDEV_MSIX_VECTORS - 1);
	put32(c, SAMPLEDEV_CFG_MSIX_CAP + 4, SAMPLEDEV_MSIX_TABLE);
	put32(c, SAMPLEDEV_CFG_MSIX_CAP + 8, SAMPLEDEV_MSIX_PBA);
	/* Vendor-specific, with the signature. */
	c[SAMPLEDEV_CFG_VNDR_CAP] = 0x09;
	c[SAMPLEDEV_CFG_VNDR_CAP + 2] = SAMPLEDEV_CFG_VNDR_LEN;
	put32(c, SAMPLEDEV_CFG_VNDR_SIG_OFF, SAMPLEDEV_CFG_VNDR_SIG);
	put16(c, SAMPLEDEV_CFG_VNDR_SCRATCH_OFF, SAMPLEDEV_CFG_SCRATCH);
	put16(c, SAMPLEDEV_CFG_VNDR_SCRATCH_LEN, SAMPLEDEV_CFG_SCRATCH_SIZE);
}

static u32 bar0_word(struct device *d, u64 off)
{
	switch (off) {
	case SAMPLEDEV_REG_ID:
		return SAMPLEDEV_ID_MAGIC;
	case SAMPLEDEV_REG_VERSION:
		return SAMPLEDEV_VERSION;
	case SAMPLEDEV_REG_SCRATCH:
		return d->scratch;
	case SAMPLEDEV_REG_RESET_COUNT:
		return d->resets;
	case SAMPLEDEV_REG_BAR2_SIZE:
		return SAMPLEDEV_BAR2_SIZE;
	default:
		return 0;
	}
}

static int dev_access(void *opaque, u32 region, u64 off, void *buf,
		      u32 count, bool is_write)
{
	struct device *d = opaque;
	u8 *p = buf;
	u32 i;

	/* The library checked off + count against the region size. */
	switch (region) {
	case CONFIG_REGION:
		for (i = 0; i < count; i++) {
			u64 at = off + i;

			if (!is_write)
				p[i] = d->cfg[at];
			else if (at >= SAMPLEDEV_CFG_SCRATCH ||
				 at == 4 || at == 5)	/* COMMAND */
				d->cfg[at] = p[i];
		}
		return 0;
	case BAR0_REGION:
		for (i = 0; i < count; i++) {
			u64 at = off + i, word = at & ~3ull;
			unsigned int shift = (at & 3) * 8;

			if (!is_write) {
				p[i] = (u8)(bar0_word(d, word) >> shift);
			} else if (word == SAMPLEDEV_REG_SCRATCH) {
				d->scratch &= ~(0xffu << shift);
				d->scratch |= (u32)p[i] << shift;
			}
		}
		return 0;
	case BAR2_REGION:
		if (is_write)
			memcpy(d->bar2 + off, buf, count);
		else
			memcpy(buf, d->bar2 + off, count);
		return 0;
	default:
		return -EINVAL;
	}
}

static int dev_reset(void *opaque)
{
	struct device *d = opaque;

	d->resets++;
	d->scratch = 0;
	return 0;
}

static const struct vfu_server_ops dev_ops = {
	.reset = dev_reset,
};

static int dev_init(struct device *d)
{
	struct vfu_server_options opts = {
		.name = "evil-dev",
		/* Server requests go on the main socket, through the proxy. */
		.no_twin_socket = true,
		.ops = &dev_ops,
		.opaque = d,
	};
	struct vfu_server_region r;
	unsigned int i;
	int ret;

	cfg_init(d);
	d->bar2_fd = memfd_create("evil-bar2", MFD_CLOEXEC);
	if (d->bar2_fd < 0 || ftruncate(d->bar2_fd, SAMPLEDEV_BAR2_SIZE))
		return -errno;
	d->bar2 = mmap(NULL, SAMPLEDEV_BAR2_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, d->bar2_fd, 0);
	if (d->bar2 == MAP_FAILED) {
		d->bar2 = NULL;
		return -errno;
	}
	ret = vfu_server_create(&opts, &d->srv);
	if (ret)
		return ret;
	r = (struct vfu_server_region){
		.size = SAMPLEDEV_CFG_SIZE,
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = dev_access,
		.fd = -1,
	};
	ret = vfu_server_setup_region(d->srv, CONFIG_REGION, &r);
	r.size = SAMPLEDEV_BAR0_SIZE;
	if (!ret)
		ret = vfu_server_setup_region(d->srv, BAR0_REGION, &r);
	r.size = SAMPLEDEV_BAR2_SIZE;
	r.fd = d->bar2_fd;
	if (!ret)
		ret = vfu_server_setup_region(d->srv, BAR2_REGION, &r);
	if (!ret)
		ret = vfu_server_setup_irq(d->srv, VFU_IRQ_INTX, 1);
	if (!ret)
		ret = vfu_server_setup_irq(d->srv, VFU_IRQ_MSI, 1);
	if (!ret)
		ret = vfu_server_setup_irq(d->srv, VFU_IRQ_MSIX,
					   SAMPLEDEV_MSIX_VECTORS);
	for (i = 0; !ret && d->io_fds && i < 4; i++) {
		int efd = eventfd(0, EFD_CLOEXEC);

		if (efd < 0)
			return -errno;
		ret = vfu_server_add_ioeventfd(d->srv, BAR0_REGION, 0x80 + 4 * i,
					       4, efd, 0, 0);
		close(efd);
	}
	return ret;
}

static void dev_fini(struct device *d)
{
	vfu_server_destroy(d->srv);
	if (d->bar2)
		munmap(d->bar2, SAMPLEDEV_BAR2_SIZE);
	if (d->bar2_fd >= 0)
		close(d->bar2_fd);
}

struct dev_thread_arg {
	struct device *d;
	int fd;
};

/*
 * The library's side of the pair: negotiate (the VERSION comes through
 * the proxy, so not on the proxy's thread), then serve until EOF.
 */
static void *dev_thread(void *arg)
{
	struct dev_thread_arg *a = arg;
	int ret;

	ret = vfu_server_attach_fd(a->d->srv, a->fd);
	if (!ret)
		ret = vfu_server_run(a->d->srv);
	if (ret && ret != -ECANCELED)
		log_info("device side: %s", strerror(-ret));
	return NULL;
}

/* ---- options ------------------------------------------------------------- */

enum mode {
	M_NONE,
	M_WRONG_ID,
	M_DUPLICATE,
	M_WRONG_SIZE,
	M_TRUNCATED,
	M_HUGE_SIZE,
	M_SMALL_SIZE,
	M_TOO_MANY_FDS,
	M_GARBAGE,
	M_ERROR,
	M_NO_REPLY,
	M_LATE_REPLY,
	M_CLOSE,
	M_DMA,
	M_DMA_FLOOD,
	M_BUSY_NO_REPLY,
	M_TRICKLE,
	M_TRICKLE_BODY,
	M_REGION_SIZE_ODD,
	M_REGION_SIZE_HUGE,
	M_REGION_OFFSET_WRAP,
	M_REGION_OFFSET_FAR,
	M_SPARSE_OUTSIDE,
	M_SPARSE_OVERLAP,
	M_SPARSE_WRAP,
	M_SPARSE_COUNT,
	M_IRQ_COUNT,
	M_IO_FD_TYPES,
	M_NR,
};

static const char *const mode_names[M_NR] = {
	[M_NONE] = "none",
	[M_WRONG_ID] = "wrong-id",
	[M_DUPLICATE] = "duplicate",
	[M_WRONG_SIZE] = "wrong-size",
	[M_TRUNCATED] = "truncated",
	[M_HUGE_SIZE] = "huge-size",
	[M_SMALL_SIZE] = "small-size",
	[M_TOO_MANY_FDS] = "too-many-fds",
	[M_GARBAGE] = "garbage",
	[M_ERROR] = "error",
	[M_NO_REPLY] = "no-reply",
	[M_LATE_REPLY] = "late-reply",
	[M_CLOSE] = "close",
	[M_DMA] = "dma",
	[M_DMA_FLOOD] = "dma-flood",
	[M_BUSY_NO_REPLY] = "busy-no-reply",
	[M_TRICKLE] = "trickle",
	[M_TRICKLE_BODY] = "trickle-body",
	[M_REGION_SIZE_ODD] = "region-size-odd",
	[M_REGION_SIZE_HUGE] = "region-size-huge",
	[M_REGION_OFFSET_WRAP] = "region-offset-wrap",
	[M_REGION_OFFSET_FAR] = "region-offset-far",
	[M_SPARSE_OUTSIDE] = "sparse-outside",
	[M_SPARSE_OVERLAP] = "sparse-overlap",
	[M_SPARSE_WRAP] = "sparse-wrap",
	[M_SPARSE_COUNT] = "sparse-count",
	[M_IRQ_COUNT] = "irq-count",
	[M_IO_FD_TYPES] = "io-fd-types",
};

static bool is_region_mode(enum mode m)
{
	return m >= M_REGION_SIZE_ODD && m <= M_SPARSE_COUNT;
}

/* Modes that answer a particular request, so need one to be pending. */
static bool needs_request(enum mode m)
{
	return m == M_NO_REPLY || m == M_LATE_REPLY || m == M_BUSY_NO_REPLY ||
	       is_region_mode(m) || m == M_IRQ_COUNT || m == M_IO_FD_TYPES;
}

enum trigger { T_STEP, T_ACCEPT, T_SIGNAL, T_SIGNAL_NOW };

struct options {
	enum mode mode;
	enum trigger trigger;
	u16 step_cmd;
	u32 step_nth;
	bool before;
	u32 region;
	u32 irq;
	u32 delay_ms;
	u32 nr_fds;
	u32 count;
	const char *path;
};

/* "accept", or CMD[:N]. */
static int parse_step(const char *s, struct options *o)
{
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	char *end;
	u16 c;

	if (!strcasecmp(s, "accept")) {
		o->trigger = T_ACCEPT;
		return 0;
	}
	for (c = 1; c < VFU_CMD_MAX; c++) {
		const char *name = vfu_cmd_name(c);

		if (strlen(name) == len && !strncasecmp(s, name, len))
			break;
	}
	if (c == VFU_CMD_MAX)
		return -EINVAL;
	o->trigger = T_STEP;
	o->step_cmd = c;
	o->step_nth = 1;
	if (colon) {
		unsigned long n = strtoul(colon + 1, &end, 10);

		if (*end || !n || n > 1000000)
			return -EINVAL;
		o->step_nth = (u32)n;
	}
	return 0;
}

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"usage: evil --mode MODE [--at STEP | --on-signal | --now-on-signal]\n"
		"            [--before] [--region N] [--irq N] [--delay-ms MS]\n"
		"            [--fds N] [--count N] [-v] SOCKET_PATH\n"
		"       evil --close-at STEP [--before] SOCKET_PATH\n"
		"  STEP: accept, or CMD[:N] (the N-th command CMD, e.g. DMA_MAP:2)\n"
		"  a hostile vfio-user server; see tests/servers/evil.c\n"
		"  modes:");
	for (i = 0; i < M_NR; i++)
		fprintf(f, "%s %s", i % 6 ? "" : "\n   ", mode_names[i]);
	fprintf(f, "\n");
}

static int parse_u32(const char *s, u32 max, u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v > max)
		return -EINVAL;
	*out = (u32)v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option long_opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "at", required_argument, NULL, 'a' },
		{ "close-at", required_argument, NULL, 'c' },
		{ "before", no_argument, NULL, 'b' },
		{ "on-signal", no_argument, NULL, 's' },
		{ "now-on-signal", no_argument, NULL, 'n' },
		{ "region", required_argument, NULL, 'r' },
		{ "irq", required_argument, NULL, 'i' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "fds", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_mode = false;
	int opt, i;

	*o = (struct options){
		.mode = M_NONE,
		.trigger = T_STEP,
		.step_cmd = VFU_CMD_VERSION,
		.step_nth = 1,
		.region = BAR2_REGION,
		.irq = VFU_IRQ_MSIX,
		.nr_fds = 2 * VFU_SCM_MAX_FD,
		.count = 1000,
	};
	while ((opt = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			for (i = 0; i < M_NR; i++)
				if (!strcmp(optarg, mode_names[i]))
					break;
			if (i == M_NR) {
				fprintf(stderr, "evil: unknown mode %s\n", optarg);
				return 2;
			}
			o->mode = i;
			have_mode = true;
			break;
		case 'c':
			o->mode = M_CLOSE;
			have_mode = true;
			/* fall through */
		case 'a':
			if (parse_step(optarg, o)) {
				fprintf(stderr, "evil: bad step %s\n", optarg);
				return 2;
			}
			break;
		case 'b':
			o->before = true;
			break;
		case 's':
			o->trigger = T_SIGNAL;
			break;
		case 'n':
			o->trigger = T_SIGNAL_NOW;
			break;
		case 'r':
			if (parse_u32(optarg, VFU_PCI_NUM_REGIONS - 1, &o->region))
				return 2;
			break;
		case 'i':
			if (parse_u32(optarg, VFU_NUM_IRQ_INDEXES - 1, &o->irq))
				return 2;
			break;
		case 'd':
			if (parse_u32(optarg, 600000, &o->delay_ms))
				return 2;
			break;
		case 'f':
			if (parse_u32(optarg, 2 * VFU_SCM_MAX_FD, &o->nr_fds) ||
			    !o->nr_fds)
				return 2;
			break;
		case 'C':
			if (parse_u32(optarg, 60000, &o->count) || !o->count)
				return 2;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return 2;
		}
	}
	if (!have_mode || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if ((o->trigger == T_ACCEPT || o->trigger == T_SIGNAL_NOW) &&
	    needs_request(o->mode)) {
		fprintf(stderr, "evil: mode %s needs a request to answer\n",
			mode_names[o->mode]);
		return 2;
	}
	if (o->before && (o->mode != M_CLOSE || o->trigger != T_STEP)) {
		fprintf(stderr, "evil: --before goes with --close-at CMD[:N]\n");
		return 2;
	}
	if (!o->delay_ms)
		o->delay_ms = o->mode == M_LATE_REPLY ? 1500 :
			      o->mode == M_TRICKLE ||
			      o->mode == M_TRICKLE_BODY ? 200 : 100;
	o->path = argv[optind];
	return 0;
}

/* ---- the proxy ------------------------------------------------------------ */

struct msg {
	struct vfu_hdr h;
	u8 *p;
	u32 len;
	struct vfu_fds *fds;
};

struct probe {
	u16 id;
	u16 cmd;
	u64 addr, count;
	bool inside;		/* the one that must be served */
	bool answered;
	const char *what;
};

struct proxy {
	const struct options *o;
	bool announced;			/* the MISBEHAVE line is out */
	struct vfu_transport client;	/* to uvmm; unbuffered, we poll it */
	struct vfu_transport dev;	/* to the library */
	int sig_fd;
	u32 cmds[VFU_CMD_MAX];		/* commands seen, per command */
	u32 replies[VFU_CMD_MAX];	/* replies seen, per command */
	bool armed;			/* SIGUSR1 came (--on-signal) */
	bool fired;			/* misbehaved already */
	bool idle;			/* forward nothing any more */
	bool closed;			/* the client socket is closed */
	struct msg held;		/* late-reply */
	bool holding;
	u64 tick_due;			/* late-reply, busy, trickle; 0: none */
	u32 trickled;			/* bytes of the trickle sent */
	struct { u64 addr, size; } maps[MAX_MAPS];
	unsigned int nr_maps;
	struct probe probes[MAX_PROBES];
	unsigned int nr_probes, nr_sent, nr_answered, nr_wrong;
	u32 flood_sent, flood_answered;
	u16 next_id;
	int dummy_fd;			/* what too-many-fds attaches */
};

static void __attribute__((format(printf, 2, 3)))
announce(struct proxy *px, const char *fmt, ...)
{
	char what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* One line (stderr is unbuffered): scripts read it while we run. */
	fprintf(stderr, "evil: %s %s at %llu ms: %s\n",
		px->announced ? "again" : "MISBEHAVE", mode_names[px->o->mode],
		(unsigned long long)(clock_ns(CLOCK_REALTIME) / 1000000),
		what);
	px->announced = true;
}

static void msg_free(struct msg *m)
{
	if (m->fds) {
		vfu_fds_close(m->fds, 0);
		free(m->fds);
	}
	free(m->p);
	memset(m, 0, sizeof(*m));
}

/* One whole message from t. Returns 0, -ECONNRESET on EOF, or -errno. */
static int msg_read(struct vfu_transport *t, struct msg *m, const char *from)
{
	char why[200] = "";
	int ret;

	memset(m, 0, sizeof(*m));
	m->fds = malloc(sizeof(*m->fds));
	if (!m->fds)
		return -ENOMEM;
	vfu_fds_init(m->fds);
	ret = vfu_transport_recv_hdr(t, &m->h, MAX_MSG, m->fds, why,
				     sizeof(why));
	if (!ret) {
		m->len = m->h.size - VFU_HDR_SIZE;
		m->p = malloc(m->len ? m->len : 1);
		ret = m->p ? vfu_transport_recv_body(t, m->p, m->len, m->fds) :
			     -ENOMEM;
		if (ret)
			snprintf(why, sizeof(why), "payload: %s",
				 strerror(-ret));
	}
	if (ret) {
		if (ret != -ECONNRESET)
			log_warn("reading from %s: %s", from,
				 why[0] ? why : strerror(-ret));
		msg_free(m);
	}
	return ret;
}

/* Whatever bytes and fds, in one sendmsg() (the rest without fds). */
static int raw_send(int fd, const void *buf, size_t len, const int *fds,
		    unsigned int nr_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VFU_SCM_MAX_FD)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (nr_fds > VFU_SCM_MAX_FD)
		return -EINVAL;
	if (nr_fds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
	}
	while (iov.iov_len) {
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		iov.iov_base = (u8 *)iov.iov_base + r;
		iov.iov_len -= r;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

/* A well-formed message (as far as its header goes) with its fds. */
static int msg_send(struct vfu_transport *t, const struct msg *m)
{
	struct iovec iov = { m->p, m->len };
	unsigned int nr = m->fds ? MIN(m->fds->nr, VFU_MAX_RECV_FDS) : 0;

	return vfu_transport_send(t, &m->h, &iov, m->len ? 1 : 0,
				  nr ? m->fds->fd : NULL, nr);
}

/* The header and payload as one buffer, as they go on the wire. */
static u8 *msg_flatten(const struct msg *m, size_t *len)
{
	u8 *buf = malloc(VFU_HDR_SIZE + m->len);

	if (!buf)
		return NULL;
	memcpy(buf, &m->h, VFU_HDR_SIZE);
	if (m->len)
		memcpy(buf + VFU_HDR_SIZE, m->p, m->len);
	*len = VFU_HDR_SIZE + m->len;
	return buf;
}

static void close_client(struct proxy *px)
{
	if (px->closed)
		return;
	vfu_transport_close(&px->client);
	px->closed = true;
}

static int send_to_client(struct proxy *px, const struct msg *m)
{
	int ret = msg_send(&px->client, m);

	if (ret)
		log_info("sending %s reply id %u: %s", vfu_cmd_name(m->h.cmd),
			 m->h.msg_id, strerror(-ret));
	return ret;
}

/* ---- DMA requests ------------------------------------------------------------ */

static struct probe *add_probe(struct proxy *px, u16 cmd, u64 addr,
			       u64 count, bool inside, const char *what)
{
	static struct probe spare;
	struct probe *p;

	if (px->nr_probes >= MAX_PROBES)
		return &spare;
	p = &px->probes[px->nr_probes++];
	*p = (struct probe){
		.id = px->next_id++,
		.cmd = cmd,
		.addr = addr,
		.count = count,
		.inside = inside,
		.what = what,
	};
	return p;
}

/* One DMA request; data is what a DMA_WRITE carries (pattern bytes). */
static int send_dma(struct proxy *px, u16 id, u16 cmd, u64 addr, u64 count)
{
	static u8 data[4096];
	struct vfu_dma_access da = { .addr = addr, .count = count };
	bool write = cmd == VFU_CMD_DMA_WRITE;
	u32 data_len = write ? (u32)MIN(count, sizeof(data)) : 0;
	struct iovec iov[2] = { { &da, sizeof(da) }, { data, data_len } };
	struct vfu_hdr h;
	int ret;

	memset(data, 0xe5, sizeof(data));
	vfu_hdr_init(&h, id, cmd, sizeof(da) + data_len, VFU_F_TYPE_COMMAND);
	ret = vfu_transport_send(&px->client, &h, iov, 2, NULL, 0);
	if (ret)
		log_info("sending %s id %u: %s", vfu_cmd_name(cmd), id,
			 strerror(-ret));
	return ret;
}

static void send_next_probe(struct proxy *px)
{
	struct probe *p;

	if (px->nr_sent >= px->nr_probes)
		return;
	p = &px->probes[px->nr_sent++];
	send_dma(px, p->id, p->cmd, p->addr, p->count);
}

/*
 * For each RAM range the client mapped: just past its end and across its
 * end; then a range wrapping around 2^64, one far above any RAM, a count
 * of 0, and one inside the first range, which must work. Reads and
 * writes each, one at a time, as servers wait for each answer.
 */
static void start_probes(struct proxy *px)
{
	static const u16 cmds[2] = { VFU_CMD_DMA_READ, VFU_CMD_DMA_WRITE };
	unsigned int i, j;

	for (j = 0; j < 2; j++) {
		for (i = 0; i < px->nr_maps; i++) {
			u64 end = px->maps[i].addr + px->maps[i].size;

			add_probe(px, cmds[j], end, 8, false,
				  "just past the end of RAM");
			add_probe(px, cmds[j], end - 4, 8, false,
				  "across the end of RAM");
			add_probe(px, cmds[j], end - 8, 4096, false,
				  "a page across the end of RAM");
		}
		add_probe(px, cmds[j], ~0ull - 3, 8, false,
			  "wrapping around 2^64");
		add_probe(px, cmds[j], ~0ull, 1, false, "the last byte of 2^64");
		add_probe(px, cmds[j], 1ull << 48, 4096, false,
			  "far above RAM");
		if (px->nr_maps)
			add_probe(px, cmds[j], px->maps[0].addr, 0, false,
				  "inside RAM with count 0");
	}
	/* Reads only: writing guest RAM would disturb the guest. */
	if (px->nr_maps)
		add_probe(px, VFU_CMD_DMA_READ, px->maps[0].addr + 0x1000, 64,
			  true, "inside RAM");
	announce(px, "%u DMA requests, one at a time: outside RAM, across its end, wrapping, one inside",
		 px->nr_probes);
	send_next_probe(px);
}

/* Ids of the flood and of busy-no-reply's requests. */
#define FLOOD_ID_BASE	0x1000u

static bool is_flood_id(u16 id)
{
	return id >= FLOOD_ID_BASE && id < FLOOD_ID_BASE + 0x2000u;
}

/* A valid DMA_READ inside RAM (the first mapped range). */
static int send_flood_one(struct proxy *px)
{
	u16 id = FLOOD_ID_BASE + px->flood_sent++ % 0x2000u;

	return send_dma(px, id, VFU_CMD_DMA_READ,
			px->nr_maps ? px->maps[0].addr + 0x1000 : 0x1000, 8);
}

/* A reply from the client: to one of our DMA requests. */
static void probe_reply(struct proxy *px, const struct msg *m)
{
	struct probe *p = NULL;
	bool refused = m->h.flags & VFU_F_ERROR;
	unsigned int i;

	if (is_flood_id(m->h.msg_id)) {
		px->flood_answered++;
		return;
	}
	for (i = 0; i < px->nr_sent; i++)
		if (px->probes[i].id == m->h.msg_id && !px->probes[i].answered)
			p = &px->probes[i];
	if (!p) {
		fprintf(stderr, "evil: dma: FAIL: reply id %u matches no request\n",
			m->h.msg_id);
		return;
	}
	p->answered = true;
	px->nr_answered++;
	if (refused == p->inside ||
	    (!refused && m->len != sizeof(struct vfu_dma_access) +
	     (p->cmd == VFU_CMD_DMA_READ ? p->count : 0))) {
		fprintf(stderr, "evil: dma: FAIL: %s 0x%llx+%llu (%s): %s\n",
			vfu_cmd_name(p->cmd), (unsigned long long)p->addr,
			(unsigned long long)p->count, p->what,
			refused ? "refused" : "served");
		px->nr_wrong++;
	} else {
		log_info("dma: %s 0x%llx+%llu (%s): %s %u", vfu_cmd_name(p->cmd),
			 (unsigned long long)p->addr,
			 (unsigned long long)p->count, p->what,
			 refused ? "refused, errno" : "served, bytes",
			 refused ? m->h.error_no : m->len);
	}
	if (px->nr_answered < px->nr_probes) {
		send_next_probe(px);
		return;
	}
	fprintf(stderr, "evil: dma: all %u requests answered, %u wrongly\n",
		px->nr_probes, px->nr_wrong);
}

/* ---- misbehaving ------------------------------------------------------------ */

enum after { GO_ON, END };

/* The region info payload of m, when it is region o->region's. */
static struct vfu_region_info *region_info_of(struct proxy *px, struct msg *m)
{
	struct vfu_region_info *ri = (struct vfu_region_info *)m->p;

	if (m->h.cmd != VFU_CMD_DEVICE_GET_REGION_INFO ||
	    (m->h.flags & VFU_F_ERROR) || m->len < sizeof(*ri) ||
	    ri->index != px->o->region)
		return NULL;
	return ri;
}

/* The first sparse area of a full region info reply, or NULL. */
static struct vfu_cap_sparse_mmap *sparse_of(struct msg *m,
					     struct vfu_region_info *ri)
{
	struct vfu_cap_sparse_mmap *sm;

	if (!(ri->flags & VFU_REGION_F_CAPS) || ri->cap_offset < sizeof(*ri) ||
	    ri->cap_offset > m->len ||
	    m->len - ri->cap_offset < sizeof(*sm) + sizeof(sm->areas[0]))
		return NULL;
	sm = (struct vfu_cap_sparse_mmap *)(m->p + ri->cap_offset);
	if (sm->header.id != VFU_CAP_SPARSE_MMAP || !sm->nr_areas)
		return NULL;
	return sm;
}

/* Region and IRQ info rewrites: every matching reply, true if changed. */
/* io-fd-types: the full reply (entries and fds) gets four bad entries. */
static bool rewrite_io_fds(struct proxy *px, struct msg *m)
{
	struct vfu_io_fds head;
	u32 stride;
	u8 *e;

	if (m->h.cmd != VFU_CMD_DEVICE_GET_REGION_IO_FDS ||
	    (m->h.flags & VFU_F_ERROR) || m->len < sizeof(head))
		return false;
	memcpy(&head, m->p, sizeof(head));
	if (head.count < 4 || m->len != head.argsz)
		return false;	/* the head-only first reply */
	stride = (head.argsz - sizeof(head)) / head.count;
	e = m->p + sizeof(head);
	put32(e, 20, VFU_IO_FD_IOREGIONFD);
	put32(e + stride, 20, VFU_IO_FD_IOEVENTFD_SHADOW);
	put32(e + 2 * stride, 8, 3);
	put32(e + 3 * stride, 24, 0x80);
	announce(px, "region %u io fds: types 1 and 2, size 3, flags 0x80",
		 head.index);
	return true;
}

static bool rewrite_info(struct proxy *px, struct msg *m)
{
	const struct options *o = px->o;
	struct vfu_region_info *ri = region_info_of(px, m);
	struct vfu_cap_sparse_mmap *sm;
	struct vfu_sparse_area *a;

	if (o->mode == M_IO_FD_TYPES)
		return rewrite_io_fds(px, m);
	if (o->mode == M_IRQ_COUNT) {
		struct vfu_irq_info *ii = (struct vfu_irq_info *)m->p;

		if (m->h.cmd != VFU_CMD_DEVICE_GET_IRQ_INFO ||
		    (m->h.flags & VFU_F_ERROR) || m->len != sizeof(*ii) ||
		    ii->index != o->irq)
			return false;
		announce(px, "irq index %u: count %u -> 0xffffffff", ii->index,
			 ii->count);
		ii->count = 0xffffffff;
		return true;
	}
	if (!ri)
		return false;
	switch (o->mode) {
	case M_REGION_SIZE_ODD:
		announce(px, "region %u: size 0x%llx -> 0x%llx", ri->index,
			 (unsigned long long)ri->size,
			 (unsigned long long)(ri->size + ri->size / 2));
		ri->size += ri->size / 2;
		return true;
	case M_REGION_SIZE_HUGE:
		announce(px, "region %u: size 0x%llx -> 2^63", ri->index,
			 (unsigned long long)ri->size);
		ri->size = 1ull << 63;
		return true;
	case M_REGION_OFFSET_WRAP:
		announce(px, "region %u: mmap offset -> 2^64 - 4 KiB", ri->index);
		ri->offset = ~0ull - 4095;
		return true;
	case M_REGION_OFFSET_FAR:
		announce(px, "region %u: mmap offset -> 1 TiB", ri->index);
		ri->offset = 1ull << 40;
		return true;
	default:
		break;
	}
	sm = sparse_of(m, ri);
	if (!sm)
		return false;	/* the short first reply has no capability */
	a = &sm->areas[0];
	switch (o->mode) {
	case M_SPARSE_OUTSIDE:
		a->offset = ri->size;
		a->size = 4096;
		break;
	case M_SPARSE_OVERLAP:
		a->offset = ri->size - 4096;
		a->size = 8192;
		break;
	case M_SPARSE_WRAP:
		a->offset = ~0ull - 4095;
		a->size = 8192;
		break;
	case M_SPARSE_COUNT:
		sm->nr_areas = 0xffffffff;
		break;
	default:
		return false;
	}
	announce(px, "region %u (size 0x%llx): sparse area 0x%llx+0x%llx, %u areas",
		 ri->index, (unsigned long long)ri->size,
		 (unsigned long long)a->offset, (unsigned long long)a->size,
		 sm->nr_areas);
	return true;
}

/* The header's two halves carry the fds, then the payload. */
static int send_with_fds(struct proxy *px, const struct msg *m)
{
	int fds[VFU_SCM_MAX_FD];
	unsigned int i, first, second;
	size_t len;
	u8 *buf = msg_flatten(m, &len);
	int ret;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < VFU_SCM_MAX_FD; i++)
		fds[i] = px->dummy_fd;
	first = MIN(px->o->nr_fds, VFU_SCM_MAX_FD);
	second = px->o->nr_fds - first;
	if (!second) {
		ret = raw_send(px->client.fd, buf, len, fds, first);
	} else {
		ret = raw_send(px->client.fd, buf, 8, fds, first);
		if (!ret)
			ret = raw_send(px->client.fd, buf + 8, 8, fds, second);
		if (!ret && len > VFU_HDR_SIZE)
			ret = raw_send(px->client.fd, buf + VFU_HDR_SIZE,
				       len - VFU_HDR_SIZE, NULL, 0);
	}
	free(buf);
	return ret;
}

/* Misbehave with m, the reply due (or a made-up one). */
static enum after misbehave(struct proxy *px, struct msg *m)
{
	const struct options *o = px->o;
	u8 junk[64];
	u8 *buf;
	size_t len;
	u32 x = 0x9e3779b9, i;
	bool first = !px->fired;
	int ret = 0;

	px->fired = true;
	switch (o->mode) {
	case M_NONE:
		return send_to_client(px, m) ? END : GO_ON;
	case M_WRONG_ID:
		announce(px, "%s reply id %u sent as id %u",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id,
			 m->h.msg_id ^ 0x8000);
		m->h.msg_id ^= 0x8000;
		return send_to_client(px, m) ? END : GO_ON;
	case M_DUPLICATE:
		announce(px, "%s reply id %u sent twice",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id);
		/* The fds go with the first copy only. */
		if (send_to_client(px, m))
			return END;
		vfu_fds_close(m->fds, 0);
		return send_to_client(px, m) ? END : GO_ON;
	case M_WRONG_SIZE:
		if (m->len >= 4) {
			m->len -= 4;
		} else {
			u8 *p = realloc(m->p, m->len + 4);

			if (!p)
				return END;
			memset(p + m->len, 0, 4);
			m->p = p;
			m->len += 4;
		}
		announce(px, "%s reply id %u with %u payload bytes instead of %u",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id, m->len,
			 m->h.size - VFU_HDR_SIZE);
		m->h.size = VFU_HDR_SIZE + m->len;
		return send_to_client(px, m) ? END : GO_ON;
	case M_TRUNCATED:
		buf = msg_flatten(m, &len);
		if (!buf)
			return END;
		len = m->len >= 2 ? VFU_HDR_SIZE + m->len / 2 : 8;
		announce(px, "%s reply id %u: %zu of %u bytes, then close",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id, len, m->h.size);
		ret = raw_send(px->client.fd, buf, len, NULL, 0);
		free(buf);
		close_client(px);
		return END;
	case M_HUGE_SIZE:
	case M_SMALL_SIZE:
		announce(px, "%s reply id %u with size %u in its header",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id,
			 o->mode == M_HUGE_SIZE ? 0xffffffffu : 15u);
		buf = msg_flatten(m, &len);
		if (!buf)
			return END;
		((struct vfu_hdr *)buf)->size =
			o->mode == M_HUGE_SIZE ? 0xffffffffu : 15u;
		ret = raw_send(px->client.fd, buf, len, NULL, 0);
		free(buf);
		px->idle = true;
		break;
	case M_TOO_MANY_FDS:
		announce(px, "%s reply id %u with %u fds", vfu_cmd_name(m->h.cmd),
			 m->h.msg_id, o->nr_fds);
		ret = send_with_fds(px, m);
		break;
	case M_GARBAGE:
		for (i = 0; i < sizeof(junk); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			junk[i] = (u8)x;
		}
		announce(px, "64 bytes of garbage instead of the %s reply id %u",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id);
		ret = raw_send(px->client.fd, junk, sizeof(junk), NULL, 0);
		px->idle = true;
		break;
	case M_ERROR:
		announce(px, "ERROR flag (EIO) on the %s reply id %u%s",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id,
			 first ? " and every later one" : "");
		m->h.flags |= VFU_F_ERROR;
		m->h.error_no = EIO;
		m->h.size = VFU_HDR_SIZE;
		m->len = 0;
		vfu_fds_close(m->fds, 0);
		return send_to_client(px, m) ? END : GO_ON;
	case M_NO_REPLY:
		announce(px, "no reply to %s id %u", vfu_cmd_name(m->h.cmd),
			 m->h.msg_id);
		return GO_ON;
	case M_LATE_REPLY:
		announce(px, "the %s reply id %u held back %u ms",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id, o->delay_ms);
		px->held = *m;
		memset(m, 0, sizeof(*m));
		px->holding = true;
		px->tick_due = mono_ms() + o->delay_ms;
		return GO_ON;
	case M_BUSY_NO_REPLY:
		announce(px, "no reply to %s id %u, but a DMA_READ every %u ms",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id, o->delay_ms);
		px->tick_due = mono_ms() + o->delay_ms;
		return GO_ON;
	case M_TRICKLE:
	case M_TRICKLE_BODY:
		announce(px, "instead of the %s reply id %u, a header claiming %u payload bytes, %s one byte every %u ms",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id,
			 VFU_DEFAULT_MAX_DATA_XFER,
			 o->mode == M_TRICKLE ? "all of it" : "then",
			 o->delay_ms);
		/* The rest goes out byte by byte from the tick. */
		m->h.size = VFU_HDR_SIZE + VFU_DEFAULT_MAX_DATA_XFER;
		px->held = *m;
		memset(m, 0, sizeof(*m));
		px->tick_due = mono_ms();
		return GO_ON;
	case M_CLOSE:
		if (m->h.size) {
			ret = send_to_client(px, m);
			announce(px, "closing the socket after the %s reply id %u",
				 vfu_cmd_name(m->h.cmd), m->h.msg_id);
		} else {
			announce(px, "closing the socket");
		}
		close_client(px);
		return END;
	case M_DMA:
		if (m->h.size && send_to_client(px, m))
			return END;
		start_probes(px);
		return GO_ON;
	case M_DMA_FLOOD:
		if (m->h.size && send_to_client(px, m))
			return END;
		announce(px, "%u DMA_READ requests at once", o->count);
		for (i = 0; i < o->count && !ret; i++)
			ret = send_flood_one(px);
		break;
	default:
		return GO_ON;
	}
	if (ret)
		log_info("sending: %s", strerror(-ret));
	return GO_ON;
}

/* A made-up reply nobody asked for: what --now-on-signal and accept mangle. */
static enum after misbehave_now(struct proxy *px)
{
	struct vfu_region_access ra = { .offset = 0, .region = 0, .count = 4 };
	struct msg m = { 0 };
	enum after next;

	if (px->o->mode == M_CLOSE || px->o->mode == M_DMA ||
	    px->o->mode == M_DMA_FLOOD)
		return misbehave(px, &m);
	m.fds = malloc(sizeof(*m.fds));
	m.p = calloc(1, sizeof(ra) + 4);
	if (!m.fds || !m.p) {
		msg_free(&m);
		return END;
	}
	vfu_fds_init(m.fds);
	memcpy(m.p, &ra, sizeof(ra));
	m.len = sizeof(ra) + 4;
	vfu_hdr_init(&m.h, UNSOLICITED_ID, VFU_CMD_REGION_READ, m.len,
		     VFU_F_TYPE_REPLY);
	next = misbehave(px, &m);
	msg_free(&m);
	return next;
}

static bool reply_triggers(struct proxy *px, const struct msg *m)
{
	const struct options *o = px->o;

	if (o->mode == M_ERROR && px->fired)
		return true;	/* sticky */
	if (px->fired || is_region_mode(o->mode) || o->mode == M_IRQ_COUNT ||
	    o->mode == M_IO_FD_TYPES)
		return false;
	switch (o->trigger) {
	case T_SIGNAL:
		return px->armed;
	case T_STEP:
		return !o->before && m->h.cmd == o->step_cmd &&
		       px->replies[m->h.cmd] == o->step_nth;
	default:
		return false;
	}
}

/* From the library: a reply to forward, or to misbehave with. */
static enum after on_device_msg(struct proxy *px, struct msg *m)
{
	if (vfu_hdr_type(&m->h) != VFU_F_TYPE_REPLY) {
		log_warn("the device sent a command (%s): dropped",
			 vfu_cmd_name(m->h.cmd));
		return GO_ON;
	}
	if (m->h.cmd < VFU_CMD_MAX)
		px->replies[m->h.cmd]++;
	if (px->idle || px->closed)
		return GO_ON;
	if (rewrite_info(px, m))
		return send_to_client(px, m) ? END : GO_ON;
	if (reply_triggers(px, m))
		return misbehave(px, m);
	return send_to_client(px, m) ? END : GO_ON;
}

/* From the client: a command to pass on, or a reply to our DMA request. */
static enum after on_client_msg(struct proxy *px, struct msg *m)
{
	const struct options *o = px->o;
	int ret;

	if (vfu_hdr_type(&m->h) == VFU_F_TYPE_REPLY) {
		probe_reply(px, m);
		return GO_ON;
	}
	if (m->h.cmd < VFU_CMD_MAX)
		px->cmds[m->h.cmd]++;
	if (m->h.cmd == VFU_CMD_DMA_MAP && m->len == sizeof(struct vfu_dma_map) &&
	    px->nr_maps < MAX_MAPS) {
		struct vfu_dma_map dm;

		memcpy(&dm, m->p, sizeof(dm));
		px->maps[px->nr_maps].addr = dm.addr;
		px->maps[px->nr_maps++].size = dm.size;
	}
	if (px->idle)
		return GO_ON;
	if (o->before && m->h.cmd == o->step_cmd &&
	    px->cmds[m->h.cmd] == o->step_nth && !px->fired) {
		px->fired = true;
		announce(px, "closing the socket on receiving %s id %u",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id);
		close_client(px);
		return END;
	}
	ret = msg_send(&px->dev, m);
	if (ret) {
		log_warn("passing %s id %u to the device: %s",
			 vfu_cmd_name(m->h.cmd), m->h.msg_id, strerror(-ret));
		return END;
	}
	return GO_ON;
}

/* The timer of late-reply, busy-no-reply and trickle. */
static void tick(struct proxy *px, bool client_gone)
{
	const struct options *o = px->o;
	u8 byte = 0;
	int ret;

	px->tick_due = 0;
	switch (o->mode) {
	case M_LATE_REPLY:
		/* Sent even to a client that left: it must not matter. */
		ret = px->closed ? -EBADF : msg_send(&px->client, &px->held);
		fprintf(stderr, "evil: late %s reply id %u sent after %u ms: %s\n",
			vfu_cmd_name(px->held.h.cmd), px->held.h.msg_id,
			o->delay_ms, ret ? strerror(-ret) : "delivered");
		msg_free(&px->held);
		px->holding = false;
		return;
	case M_BUSY_NO_REPLY:
		if (client_gone || px->closed || send_flood_one(px))
			return;
		break;
	case M_TRICKLE:
	case M_TRICKLE_BODY:
		if (client_gone || px->closed)
			return;
		if (o->mode == M_TRICKLE_BODY && !px->trickled) {
			if (raw_send(px->client.fd, &px->held.h, VFU_HDR_SIZE,
				     NULL, 0))
				return;
			px->trickled = VFU_HDR_SIZE;
			break;
		}
		/* The header, then the payload and zeros after it. */
		if (px->trickled < VFU_HDR_SIZE)
			byte = ((u8 *)&px->held.h)[px->trickled];
		else if (px->trickled - VFU_HDR_SIZE < px->held.len)
			byte = px->held.p[px->trickled - VFU_HDR_SIZE];
		if (raw_send(px->client.fd, &byte, 1, NULL, 0))
			return;
		px->trickled++;
		if (px->trickled >= px->held.h.size)
			return;
		break;
	default:
		return;
	}
	px->tick_due = mono_ms() + o->delay_ms;
}

/* 0 when the client is gone, 1 on a stop signal, -errno on errors. */
static int proxy_run(struct proxy *px)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[3];
	bool client_gone = false;
	struct msg m;
	int timeout, ret;

	for (;;) {
		if (px->tick_due && mono_ms() >= px->tick_due)
			tick(px, client_gone);
		if ((client_gone || px->closed) && !px->holding)
			return 0;
		timeout = px->tick_due ? (int)MAX((s64)px->tick_due -
						  (s64)mono_ms(), 0) : -1;
		pfd[0] = (struct pollfd){ .fd = px->sig_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){
			.fd = client_gone || px->closed ? -1 : px->client.fd,
			.events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = px->dev.fd, .events = POLLIN };
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(px->sig_fd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGUSR1)
				return 1;
			if (px->o->trigger == T_SIGNAL_NOW && !px->fired) {
				if (misbehave_now(px) == END)
					client_gone = true;
			} else if (px->o->trigger == T_SIGNAL) {
				px->armed = true;
			}
			continue;
		}
		if (pfd[2].revents) {
			ret = msg_read(&px->dev, &m, "the device");
			if (ret) {
				log_warn("the device side ended: %s",
					 strerror(-ret));
				return ret == -ECONNRESET ? 0 : ret;
			}
			if (on_device_msg(px, &m) == END)
				client_gone = true;
			msg_free(&m);
			continue;
		}
		if (pfd[1].revents) {
			ret = msg_read(&px->client, &m, "the client");
			if (ret) {
				log_info("client gone: %s", strerror(-ret));
				client_gone = true;
				continue;
			}
			if (on_client_msg(px, &m) == END)
				client_gone = true;
			msg_free(&m);
		}
	}
}

/* ---- main -------------------------------------------------------------------- */

/* One client, or a stop signal (-ECANCELED). *early: SIGUSR1 came. */
static int accept_one(int listen_fd, int sig_fd, bool *early)
{
	struct pollfd pfd[2] = {
		{ .fd = listen_fd, .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	int fd;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents & POLLIN) {
			if (read(sig_fd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo != SIGUSR1)
				return -ECANCELED;
			*early = true;	/* acted on once the client is in */
			continue;
		}
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EINTR && errno != ECONNABORTED)
			return -errno;
	}
}

/* The proxy between the client on cfd and the device. */
static int serve(struct device *d, const struct options *o, int cfd,
		 int sig_fd, bool early_signal)
{
	struct proxy px = { .o = o, .sig_fd = sig_fd, .next_id = 0x4000 };
	struct dev_thread_arg arg = { .d = d };
	pthread_t thread;
	int sv[2], ret;

	vfu_transport_init(&px.client, cfd, NULL, NULL);
	/* What too-many-fds attaches, again and again. */
	px.dummy_fd = eventfd(0, EFD_CLOEXEC);
	if (px.dummy_fd < 0) {
		ret = -errno;
		vfu_transport_close(&px.client);
		return ret;
	}
	if (early_signal && o->trigger == T_SIGNAL)
		px.armed = true;
	if (o->trigger == T_ACCEPT ||
	    (early_signal && o->trigger == T_SIGNAL_NOW)) {
		misbehave_now(&px);
		/* Keep the socket (if still open) until the client leaves. */
		px.idle = true;
	}
	vfu_transport_init(&px.dev, -1, NULL, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		ret = -errno;
		goto out;
	}
	vfu_transport_init(&px.dev, sv[0], NULL, NULL);
	arg.fd = sv[1];
	ret = -pthread_create(&thread, NULL, dev_thread, &arg);
	if (ret) {
		close(sv[1]);
		goto out;
	}
	ret = proxy_run(&px);
	vfu_transport_shutdown(&px.dev);
	pthread_join(thread, NULL);
out:
	msg_free(&px.held);
	close(px.dummy_fd);
	vfu_transport_close(&px.dev);
	close_client(&px);
	return ret;
}

int main(int argc, char **argv)
{
	struct device dev = { .bar2_fd = -1 };
	struct options o;
	sigset_t set;
	char why[300];
	int ret, listen_fd, cfd, sig_fd, status = 1;
	bool early = false;

	log_set_program("evil");
	ret = parse_options(argc, argv, &o);
	if (ret)
		return ret;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sig_fd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return 1;
	}
	dev.io_fds = o.mode == M_IO_FD_TYPES;
	ret = dev_init(&dev);
	if (ret) {
		log_err("device setup: %s", strerror(-ret));
		goto out_dev;
	}
	listen_fd = vfu_listen_unix(o.path, why, sizeof(why));
	if (listen_fd < 0) {
		log_err("%s", why);
		goto out_dev;
	}
	/* Scripts wait for this line. */
	fprintf(stderr, "evil: listening on %s (mode %s)\n", o.path,
		mode_names[o.mode]);
	cfd = accept_one(listen_fd, sig_fd, &early);
	close(listen_fd);
	if (cfd == -ECANCELED) {
		status = 0;
		goto out_unlink;
	}
	if (cfd < 0) {
		log_err("accept: %s", strerror(-cfd));
		goto out_unlink;
	}
	ret = serve(&dev, &o, cfd, sig_fd, early);
	status = ret < 0 ? 1 : 0;
out_unlink:
	unlink(o.path);
out_dev:
	dev_fini(&dev);
	close(sig_fd);
	return status;
}
