// SPDX-License-Identifier: MIT
/*
 * uvmm-nvme: an NVMe controller served over vfio-user, backed by a disk
 * image or a sparse memory disk. The controller is nvme/ctrl.c; this file
 * is the PCI function around it (config space, MSI-X, INTx), the DMA and
 * interrupt glue to the server library, and the program's life: one
 * client at a time, the next one after it goes, a flush on SIGTERM.
 *
 * Threads: the main thread runs the server loop and every callback, so
 * the controller needs no lock. A doorbell write only records the tail
 * and kicks the loop; the commands run in ops->work after the write's
 * reply went out, as a device works after its doorbell. Reads, writes
 * and flushes go on to the I/O threads (aio.c, --io-threads), so a slow
 * image never stalls the loop: a finished batch kicks the loop, whose
 * ops->work posts the completions and raises the vectors. The signal
 * thread only asks the loop to stop.
 *
 * Once the socket listens and the threads run, a seccomp filter
 * (sandbox.c) bounds what the process can do; a small helper process
 * forked before it removes the socket file when the server exits.
 */
#define LOG_PREFIX NULL

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/parse.h"
#include "nvme/aio.h"
#include "nvme/ctrl.h"
#include "nvme/sandbox.h"
#include "vfio-user/server.h"

#define NVME_VENDOR_ID		0x5555
#define NVME_DEVICE_ID		0x0002
#define NVME_CLASS		0x010802	/* mass storage, NVM, NVMe */
#define CFG_SIZE		256
#define MSIX_CAP		0x40
#define PCI_COMMAND		0x04
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS		0x06
#define PCI_STATUS_INTERRUPT	0x08
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_BAR_MEM64		0x04
#define PCI_CAP_ID_MSIX		0x11
#define MAX_MAPS		64
#define DEFAULT_QUEUES		4
#define DEFAULT_DEPTH		1024
#define DEFAULT_IO_THREADS	4

struct map {
	u64 iova, size;
	u8 *vaddr;
	u32 flags;
};

struct nvme_dev {
	struct vfu_server *srv;
	struct nvme_ctrl *ctrl;
	struct nvme_aio *aio;		/* NULL: I/O on the loop thread */
	u8 cfg[CFG_SIZE], wmask[CFG_SIZE];
	u16 nr_vectors;
	bool intx_masked;
	bool msix_masked[NVME_MAX_IOQ + 1], msix_pending[NVME_MAX_IOQ + 1];
	struct map maps[MAX_MAPS];
	unsigned int nr_maps;
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

static u16 get16(const u8 *p, unsigned int off)
{
	return (u16)(p[off] | p[off + 1] << 8);
}

/* ---- DMA and interrupts (the controller's ops) ----------------------------- */

static void *dev_dma_ptr(void *opaque, u64 addr, u64 len, bool write)
{
	struct nvme_dev *d = opaque;
	u32 need = write ? VFU_DMA_MAP_F_WRITE : VFU_DMA_MAP_F_READ;
	unsigned int i;

	for (i = 0; i < d->nr_maps; i++) {
		struct map *m = &d->maps[i];

		if (addr >= m->iova && addr - m->iova < m->size &&
		    len <= m->size - (addr - m->iova) && (m->flags & need))
			return m->vaddr + (addr - m->iova);
	}
	return NULL;
}

static int dev_dma_rw(void *opaque, u64 addr, void *buf, u64 len, bool write)
{
	struct nvme_dev *d = opaque;

	return write ? vfu_server_dma_write(d->srv, addr, buf, len) :
		       vfu_server_dma_read(d->srv, addr, buf, len);
}

static void intx_raise(struct nvme_dev *d, const char *why)
{
	if (d->intx_masked ||
	    (get16(d->cfg, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE))
		return;
	if (vfu_server_irq_trigger(d->srv, VFU_IRQ_INTX, 0))
		log_debug("INTx not sent: no eventfd");
	else
		log_debug("INTx raised: %s", why);
}

/* A CQ's vector: MSI-X when the client gave its eventfd, else INTx. */
static void dev_irq(void *opaque, u16 vector)
{
	struct nvme_dev *d = opaque;

	if (vector < d->nr_vectors &&
	    vfu_server_irq_enabled(d->srv, VFU_IRQ_MSIX, vector)) {
		if (d->msix_masked[vector]) {
			d->msix_pending[vector] = true;
			return;
		}
		if (vfu_server_irq_trigger(d->srv, VFU_IRQ_MSIX, vector))
			log_debug("MSI-X vector %u not sent", vector);
		return;
	}
	if (vfu_server_irq_enabled(d->srv, VFU_IRQ_INTX, 0))
		intx_raise(d, "completion");
}

/* Finished I/O back to the controller: completions posted, not yet raised. */
static void dev_reap(struct nvme_dev *d)
{
	struct nvme_io *io, *next;

	for (io = d->aio ? nvme_aio_reap(d->aio) : NULL; io; io = next) {
		next = io->next;
		nvme_ctrl_io_done(d->ctrl, io);
	}
}

static void dev_submit(void *opaque, struct nvme_io *io)
{
	struct nvme_dev *d = opaque;

	nvme_aio_submit(d->aio, io);
}

static void dev_drain(void *opaque)
{
	struct nvme_dev *d = opaque;

	nvme_aio_wait_idle(d->aio);
	dev_reap(d);
}

/* From an I/O thread: the loop reaps in ops->work. */
static void dev_io_notify(void *opaque)
{
	struct nvme_dev *d = opaque;

	vfu_server_kick(d->srv);
}

static const struct nvme_ctrl_ops ctrl_ops = {
	.dma_ptr = dev_dma_ptr,
	.dma_rw = dev_dma_rw,
	.irq = dev_irq,
};

static const struct nvme_ctrl_ops ctrl_ops_aio = {
	.dma_ptr = dev_dma_ptr,
	.dma_rw = dev_dma_rw,
	.irq = dev_irq,
	.submit = dev_submit,
	.drain = dev_drain,
};

/* ---- config space -------------------------------------------------------- */

static void cfg_reset(struct nvme_dev *d)
{
	u8 *c = d->cfg, *m = d->wmask;

	memset(c, 0, CFG_SIZE);
	put16(c, 0x00, NVME_VENDOR_ID);
	put16(c, 0x02, NVME_DEVICE_ID);
	put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c[0x09] = (u8)NVME_CLASS;
	c[0x0a] = (u8)(NVME_CLASS >> 8);
	c[0x0b] = (u8)(NVME_CLASS >> 16);
	put32(c, 0x10, PCI_BAR_MEM64);		/* BAR0/1: 64-bit memory */
	put16(c, 0x2c, NVME_VENDOR_ID);
	put16(c, 0x2e, NVME_DEVICE_ID);
	c[0x34] = MSIX_CAP;
	c[0x3d] = 1;				/* INTA# */
	c[MSIX_CAP] = PCI_CAP_ID_MSIX;
	put16(c, MSIX_CAP + 2, (u16)(d->nr_vectors - 1));
	put32(c, MSIX_CAP + 4, NVME_MSIX_TABLE);	/* BIR 0 */
	put32(c, MSIX_CAP + 8, NVME_MSIX_PBA);

	memset(m, 0, CFG_SIZE);
	put16(m, PCI_COMMAND, 0x0406);	/* memory, bus master, INTx disable */
	m[0x0c] = 0xff;
	m[0x0d] = 0xff;
	put32(m, 0x10, ~(u32)(NVME_BAR0_SIZE - 1));
	put32(m, 0x14, 0xffffffff);
	m[0x3c] = 0xff;
	m[MSIX_CAP + 3] = 0xc0;		/* MSI-X enable, function mask */
}

static int cfg_access(struct nvme_dev *d, u64 off, u8 *buf, u32 count,
		      bool is_write)
{
	u16 old_cmd;
	u32 i;

	if (off > CFG_SIZE || count > CFG_SIZE - off)
		return -EINVAL;
	if (!is_write) {
		memcpy(buf, d->cfg + off, count);
		if (nvme_ctrl_intx_pending(d->ctrl) && off <= PCI_STATUS &&
		    PCI_STATUS - off < count)
			buf[PCI_STATUS - off] |= PCI_STATUS_INTERRUPT;
		return 0;
	}
	old_cmd = get16(d->cfg, PCI_COMMAND);
	for (i = 0; i < count; i++)
		d->cfg[off + i] = (u8)((d->cfg[off + i] & ~d->wmask[off + i]) |
				       (buf[i] & d->wmask[off + i]));
	if ((old_cmd & PCI_COMMAND_INTX_DISABLE) &&
	    !(get16(d->cfg, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) &&
	    nvme_ctrl_intx_pending(d->ctrl))
		intx_raise(d, "INTX_DISABLE cleared");
	return 0;
}

/* ---- server callbacks ------------------------------------------------------ */

static int bar0_access(struct nvme_dev *d, u64 off, u8 *buf, u32 count,
		       bool is_write)
{
	u64 v = 0;

	if (off > NVME_BAR0_SIZE || count > NVME_BAR0_SIZE - off ||
	    (count != 1 && count != 2 && count != 4 && count != 8))
		return -EINVAL;
	if (!is_write) {
		v = nvme_ctrl_mmio_read(d->ctrl, off, count);
		memcpy(buf, &v, count);
		return 0;
	}
	memcpy(&v, buf, count);
	/* Commands run after the reply: the vCPU does not wait for I/O. */
	if (nvme_ctrl_mmio_write(d->ctrl, off, v, count) &&
	    vfu_server_kick(d->srv))
		nvme_ctrl_process(d->ctrl);
	return 0;
}

static int dev_access(void *opaque, u32 region, u64 off, void *buf,
		      u32 count, bool is_write)
{
	struct nvme_dev *d = opaque;

	if (region == VFU_PCI_BAR0)
		return bar0_access(d, off, buf, count, is_write);
	if (region == VFU_PCI_CONFIG)
		return cfg_access(d, off, buf, count, is_write);
	return -EINVAL;
}

static void dev_work(void *opaque)
{
	struct nvme_dev *d = opaque;

	dev_reap(d);
	nvme_ctrl_process(d->ctrl);
}

static int dev_reset(void *opaque)
{
	struct nvme_dev *d = opaque;

	nvme_ctrl_reset(d->ctrl);
	cfg_reset(d);
	memset(d->msix_pending, 0, sizeof(d->msix_pending));
	log_info("DEVICE_RESET");
	return 0;
}

static void dev_irq_state(void *opaque, u32 index, u32 start, u32 count,
			  bool masked)
{
	struct nvme_dev *d = opaque;
	u32 v;

	if (index == VFU_IRQ_INTX && !start && count) {
		log_debug("INTx %s", masked ? "masked" : "unmasked");
		d->intx_masked = masked;
		/* Unmasked after a resample: a line still up fires again. */
		if (!masked && nvme_ctrl_intx_pending(d->ctrl))
			intx_raise(d, "still pending after a resample");
		return;
	}
	if (index != VFU_IRQ_MSIX)
		return;
	for (v = start; v - start < count && v < d->nr_vectors; v++) {
		d->msix_masked[v] = masked;
		if (!masked && d->msix_pending[v]) {
			d->msix_pending[v] = false;
			vfu_server_irq_trigger(d->srv, VFU_IRQ_MSIX, v);
		}
	}
}

static void dev_dma_map(void *opaque, u64 iova, u64 size, void *vaddr,
			u32 flags)
{
	struct nvme_dev *d = opaque;

	/* Without room the library still reaches it by copies. */
	if (vaddr && d->nr_maps < MAX_MAPS)
		d->maps[d->nr_maps++] = (struct map){
			.iova = iova, .size = size, .vaddr = vaddr,
			.flags = flags,
		};
	log_info("DMA_MAP 0x%llx+0x%llx: %s", (unsigned long long)iova,
		 (unsigned long long)size,
		 vaddr ? "mapped" : "by DMA_READ/DMA_WRITE messages");
}

static void dev_dma_unmap(void *opaque, u64 iova, u64 size)
{
	struct nvme_dev *d = opaque;
	unsigned int i;

	/*
	 * An I/O thread may be reading or writing that memory: wait for
	 * them all before the library unmaps it. Their completions are
	 * posted later, from ops->work.
	 */
	if (d->aio)
		nvme_aio_wait_idle(d->aio);
	for (i = 0; i < d->nr_maps;) {
		if (d->maps[i].iova == iova && d->maps[i].size == size)
			d->maps[i] = d->maps[--d->nr_maps];
		else
			i++;
	}
}

static void dev_disconnected(void *opaque)
{
	struct nvme_dev *d = opaque;

	/* The next client finds a controller fresh from power-on. */
	d->nr_maps = 0;
	if (nvme_ctrl_flush(d->ctrl))
		log_warn("flush after the client left failed");
	dev_reset(d);
	log_info("client disconnected");
}

static const struct vfu_server_ops srv_ops = {
	.reset = dev_reset,
	.irq_state = dev_irq_state,
	.dma_map = dev_dma_map,
	.dma_unmap = dev_dma_unmap,
	.work = dev_work,
	.disconnected = dev_disconnected,
};

/* ---- setup ----------------------------------------------------------------- */

enum sandbox_mode { SANDBOX_AUTO, SANDBOX_ON, SANDBOX_OFF };

/* Busy-waiting longer than a scheduler tick buys nothing. */
#define MAX_POLL_US 10000
/* uvmm takes 16 ioeventfds per BAR; the queues past that trap. */
#define MAX_DOORBELL_EVENTFDS 16

struct options {
	const char *image, *serial, *socket;
	u64 size;
	bool readonly, no_dma_fd, eventfd_doorbells;
	unsigned int queues, depth, block_size, io_threads, poll_us;
	enum sandbox_mode sandbox;
};

static int open_backing(const struct options *o, int *fd, u64 *size)
{
	struct stat st;

	if (!o->image) {
		*fd = memfd_create("uvmm-nvme", MFD_CLOEXEC);
		if (*fd < 0 || ftruncate(*fd, (off_t)o->size)) {
			log_err("memory disk of %llu bytes: %s",
				(unsigned long long)o->size, strerror(errno));
			return -errno;
		}
		*size = o->size;
		return 0;
	}
	/* Checked before opening: a FIFO would block the open itself. */
	if (!stat(o->image, &st) && !S_ISREG(st.st_mode) &&
	    !S_ISBLK(st.st_mode)) {
		log_err("%s: not a regular file or block device", o->image);
		return -EINVAL;
	}
	*fd = open(o->image, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (*fd < 0) {
		log_err("%s: %s", o->image, strerror(errno));
		return -errno;
	}
	if (fstat(*fd, &st)) {
		log_err("%s: %s", o->image, strerror(errno));
		return -errno;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(*fd, BLKGETSIZE64, size)) {
			log_err("%s: %s", o->image, strerror(errno));
			return -errno;
		}
	} else if (S_ISREG(st.st_mode)) {
		*size = (u64)st.st_size;
	} else {
		log_err("%s: not a regular file or block device", o->image);
		return -EINVAL;
	}
	if (*size < o->block_size) {
		log_err("%s: %llu bytes, less than one %u-byte block", o->image,
			(unsigned long long)*size, o->block_size);
		return -EINVAL;
	}
	if (*size % o->block_size)
		log_warn("%s: the last %llu bytes are not a whole block and are not served",
			 o->image, (unsigned long long)(*size % o->block_size));
	return 0;
}

/*
 * --doorbells eventfd: each I/O submission queue's tail doorbell becomes
 * a KVM ioeventfd on the server loop's kick (DEVICE_GET_REGION_IO_FDS),
 * so the vCPU's write never waits for this process: the loop wakes and
 * ops->work runs the queues, whose tails it reads from the shadow
 * doorbell buffer, since an ioeventfd carries no value. A driver must
 * therefore use shadow doorbells (Doorbell Buffer Config, as Linux's
 * does); tails written before it sends that command are picked up from
 * the buffer when it does (process_sq() reads the shadow first). The
 * admin queue and the completion queues' head doorbells keep trapping:
 * their values arrive in the message. A client that does not ask for
 * the ioeventfds traps them all, as with --doorbells trap.
 */
static int add_doorbell_eventfds(struct nvme_dev *d, unsigned int queues)
{
	unsigned int qid;
	int ret;

	for (qid = 1; qid <= MIN(queues, MAX_DOORBELL_EVENTFDS); qid++) {
		ret = vfu_server_add_kick_ioeventfd(d->srv, VFU_PCI_BAR0,
						    NVME_DOORBELL_BASE + 8 * qid,
						    4);
		if (ret)
			return ret;
	}
	return 0;
}

static int dev_init(struct nvme_dev *d, const struct options *o, int fd,
		    u64 size)
{
	struct vfu_server_options so = {
		.name = "uvmm-nvme",
		.refuse_dma_fds = o->no_dma_fd,
		.poll_us = o->poll_us,
		.ops = &srv_ops,
		.opaque = d,
	};
	struct nvme_ctrl_config cc = {
		.fd = fd, .size = size, .block_size = o->block_size,
		.readonly = o->readonly, .max_ioq = (u16)o->queues,
		.queue_depth = (u16)o->depth,
		.nr_vectors = (u16)(o->queues + 1), .serial = o->serial,
		.vid = NVME_VENDOR_ID, .ssvid = NVME_VENDOR_ID,
		.ops = o->io_threads ? &ctrl_ops_aio : &ctrl_ops, .opaque = d,
		.read_nowait = true,
	};
	struct vfu_server_region bar0 = {
		.size = NVME_BAR0_SIZE,
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = dev_access,
		.fd = -1,
	};
	struct vfu_server_region cfg = bar0;
	int ret;

	d->nr_vectors = (u16)(o->queues + 1);
	if (o->io_threads) {
		ret = nvme_aio_create(o->io_threads, nvme_io_run,
				      dev_io_notify, d, &d->aio);
		if (ret)
			return ret;
	}
	ret = nvme_ctrl_create(&cc, &d->ctrl);
	if (ret)
		return ret;
	cfg_reset(d);
	ret = vfu_server_create(&so, &d->srv);
	if (ret)
		return ret;
	cfg.size = CFG_SIZE;
	ret = vfu_server_setup_region(d->srv, VFU_PCI_BAR0, &bar0);
	if (!ret)
		ret = vfu_server_setup_region(d->srv, VFU_PCI_CONFIG, &cfg);
	if (!ret)
		ret = vfu_server_setup_irq(d->srv, VFU_IRQ_INTX, 1);
	if (!ret)
		ret = vfu_server_setup_irq(d->srv, VFU_IRQ_MSIX, d->nr_vectors);
	if (!ret && o->eventfd_doorbells)
		ret = add_doorbell_eventfds(d, o->queues);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: uvmm-nvme [--image FILE | --size SIZE] [options] SOCKET\n"
"  An NVMe controller (one namespace) served over vfio-user on SOCKET.\n"
"      --image FILE       the namespace: a disk image or block device\n"
"      --size SIZE        or a sparse memory disk of SIZE (e.g. 64M, 1G)\n"
"      --readonly         refuse writes (status Namespace Write Protected)\n"
"      --block-size N     512 or 4096 (default 512)\n"
"      --queues N         I/O queue pairs, 1-%d (default %d)\n"
"      --queue-depth N    entries per queue, 2-%d (default %d)\n"
"      --serial STR       serial number, at most 20 characters\n"
"      --no-dma-fd        map no guest memory: DMA by messages\n"
"      --io-threads N     threads doing reads, writes and flushes, 0-%d\n"
"                         (default %d; 0: on the message loop's thread)\n"
"      --poll-us N        after each message, look for the next for N\n"
"                         microseconds before sleeping, 0-%d (default 0)\n"
"      --doorbells MODE   trap: every doorbell write is a message (default);\n"
"                         eventfd: I/O queues' tail doorbells are offered as\n"
"                         ioeventfds (for drivers using shadow doorbells)\n"
"      --sandbox on|off   seccomp filter once listening (default: on where\n"
"                         the kernel has seccomp; never in sanitizer builds)\n"
"  -v, --verbose          log device events (twice: protocol traces)\n"
"  -h, --help\n"
"  Serves one client at a time and waits for the next; SIGTERM flushes\n"
"  the image and exits 0. Status 1 on errors, 2 on a bad command line,\n"
"  12 when the sandbox stopped a forbidden system call (one line names it).\n",
		NVME_MAX_IOQ, DEFAULT_QUEUES, NVME_MAX_QUEUE_DEPTH,
		DEFAULT_DEPTH, NVME_AIO_MAX_THREADS, DEFAULT_IO_THREADS,
		MAX_POLL_US);
}

/* 0 for the word first, 1 for second; else one line naming opt, -1. */
static int parse_either(const char *opt, const char *arg, const char *first,
			const char *second)
{
	if (!strcmp(arg, first))
		return 0;
	if (!strcmp(arg, second))
		return 1;
	log_err("%s: '%s' is not %s or %s", opt, arg, first, second);
	return -1;
}

/* A decimal number of lo to hi (common/parse.h's reading). */
static bool parse_uint_in(const char *s, unsigned int lo, unsigned int hi,
			  unsigned int *out)
{
	unsigned int v;

	if (parse_uint(s, hi, &v) || v < lo)
		return false;
	*out = v;
	return true;
}

static bool parse_size(const char *s, u64 *out)
{
	unsigned long long v;
	char *end;
	u64 mult = 1;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'K': case 'k': mult = KiB; end++; break;
	case 'M': case 'm': mult = MiB; end++; break;
	case 'G': case 'g': mult = GiB; end++; break;
	case 'T': case 't': mult = 1024 * GiB; end++; break;
	}
	if (*end || !v || v > (u64)INT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option long_opts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 's' },
		{ "readonly", no_argument, NULL, 'r' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "queues", required_argument, NULL, 'q' },
		{ "queue-depth", required_argument, NULL, 'd' },
		{ "serial", required_argument, NULL, 'S' },
		{ "no-dma-fd", no_argument, NULL, 'n' },
		{ "sandbox", required_argument, NULL, 'X' },
		{ "io-threads", required_argument, NULL, 'T' },
		{ "poll-us", required_argument, NULL, 'P' },
		{ "doorbells", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, ret, verbose = 0;

	opterr = 0;	/* one line of our own instead of getopt's */
	while ((opt = getopt_long(argc, argv, ":vh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			o->image = optarg;
			break;
		case 's':
			if (!parse_size(optarg, &o->size)) {
				log_err("--size: not a size: '%s'", optarg);
				return 2;
			}
			break;
		case 'r':
			o->readonly = true;
			break;
		case 'b':
			if (!parse_uint_in(optarg, 512, 4096, &o->block_size) ||
			    (o->block_size != 512 && o->block_size != 4096)) {
				log_err("--block-size: 512 or 4096, not '%s'",
					optarg);
				return 2;
			}
			break;
		case 'q':
			if (!parse_uint_in(optarg, 1, NVME_MAX_IOQ, &o->queues)) {
				log_err("--queues: 1-%d, not '%s'",
					NVME_MAX_IOQ, optarg);
				return 2;
			}
			break;
		case 'd':
			if (!parse_uint_in(optarg, 2, NVME_MAX_QUEUE_DEPTH,
					&o->depth)) {
				log_err("--queue-depth: 2-%d, not '%s'",
					NVME_MAX_QUEUE_DEPTH, optarg);
				return 2;
			}
			break;
		case 'S':
			if (!*optarg || strlen(optarg) > 20) {
				log_err("--serial: 1-20 characters");
				return 2;
			}
			o->serial = optarg;
			break;
		case 'n':
			o->no_dma_fd = true;
			break;
		case 'T':
			if (!parse_uint_in(optarg, 0, NVME_AIO_MAX_THREADS,
					&o->io_threads)) {
				log_err("--io-threads: 0-%d, not '%s'",
					NVME_AIO_MAX_THREADS, optarg);
				return 2;
			}
			break;
		case 'P':
			if (!parse_uint_in(optarg, 0, MAX_POLL_US, &o->poll_us)) {
				log_err("--poll-us: 0-%d, not '%s'", MAX_POLL_US,
					optarg);
				return 2;
			}
			break;
		case 'D':
			ret = parse_either("--doorbells", optarg, "trap",
					   "eventfd");
			if (ret < 0)
				return 2;
			o->eventfd_doorbells = ret;
			break;
		case 'X':
			ret = parse_either("--sandbox", optarg, "on", "off");
			if (ret < 0)
				return 2;
			o->sandbox = ret ? SANDBOX_OFF : SANDBOX_ON;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			log_err("%s needs a value", argv[optind - 1]);
			return 2;
		default:
			log_err("unknown option '%s' (see --help)",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		log_err(optind < argc ? "one SOCKET only" : "no SOCKET given");
		return 2;
	}
	if (!o->image == !o->size) {
		log_err("give either --image FILE or --size SIZE");
		return 2;
	}
	if (o->size && o->readonly) {
		log_err("--readonly needs --image");
		return 2;
	}
	if (o->size && o->size < o->block_size) {
		log_err("--size: less than one %u-byte block", o->block_size);
		return 2;
	}
	o->socket = argv[optind];
	log_set_level(verbose >= 2 ? LOG_TRACE : verbose ? LOG_DEBUG :
				     LOG_WARN);
	return 0;
}

/*
 * The socket file's remover: a child that waits for its pipe to close
 * (the server exiting, however it exits) and unlinks the path. The
 * sandboxed server cannot unlink, and should not be able to unlink
 * whatever path it likes. SIGTERM and SIGINT stay blocked in the child,
 * as in the server when it forks, so a Ctrl-C to the process group
 * leaves the removal to the server's end. Returns its pid, or -errno.
 */
static pid_t start_remover(const char *path, int listen_fd, int *pipe_wr)
{
	pid_t pid;
	int p[2];
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid) {
		close(p[1]);
		close(listen_fd);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		unlink(path);
		_exit(0);
	}
	close(p[0]);
	*pipe_wr = p[1];
	return pid;
}

/*
 * --sandbox: auto goes on without a filter where there is none (a note at
 * -v), on makes that a failure. 0 or -1 (said).
 */
static int start_sandbox(const struct options *o, const char *path,
			 int listen_fd, pid_t *remover, int *remover_fd)
{
	char err[200];
	int ret;

	if (o->sandbox == SANDBOX_OFF)
		return 0;
	*remover = start_remover(path, listen_fd, remover_fd);
	if (*remover < 0) {
		log_err("sandbox: the socket remover: %s", strerror(-*remover));
		return -1;
	}
	ret = nvme_sandbox_install(err, sizeof(err));
	if (ret == -ENOSYS && o->sandbox == SANDBOX_AUTO) {
		log_info("sandbox: off: %s", err);
		return 0;
	}
	if (ret) {
		log_err("sandbox: %s", err);
		return -1;
	}
	nvme_sandbox_selftest();
	return 0;
}

/* Serve clients one after the other until a stop; the exit status. */
static int serve(struct nvme_dev *d, int listen_fd, int stop_fd)
{
	int fd, ret;

	for (;;) {
		fd = vfu_accept_stoppable(listen_fd, stop_fd);
		if (fd == -ECANCELED)
			return 0;
		if (fd < 0) {
			log_err("accept: %s", strerror(-fd));
			return 1;
		}
		ret = vfu_server_attach_fd(d->srv, fd);
		if (ret) {
			log_warn("client negotiation failed: %s",
				 strerror(-ret));
			continue;
		}
		log_info("client connected");
		ret = vfu_server_run(d->srv);
		if (vfu_stop_requested())
			return 0;
		if (ret)
			log_warn("client dropped: %s", strerror(-ret));
		else
			log_info("client gone; waiting for the next");
	}
}

int main(int argc, char **argv)
{
	struct options o = {
		.queues = DEFAULT_QUEUES, .depth = DEFAULT_DEPTH,
		.block_size = 512, .serial = "UVMMNVME0001",
		.io_threads = DEFAULT_IO_THREADS,
	};
	struct nvme_dev d = { 0 };
	char err[256];
	int ret, fd = -1, listen_fd = -1, stop_fd, status = 1, remover_fd = -1;
	pid_t remover = -1;
	sigset_t set;
	u64 size = 0;

	log_set_program("uvmm-nvme");
	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (open_backing(&o, &fd, &size))
		goto out;
	ret = dev_init(&d, &o, fd, size);
	if (ret) {
		log_err("device setup: %s", strerror(-ret));
		goto out;
	}
	listen_fd = vfu_listen_unix(o.socket, err, sizeof(err));
	if (listen_fd < 0) {
		log_err("%s", err);
		goto out;
	}
	/* No path: under the sandbox only the remover may unlink it. */
	stop_fd = vfu_stop_on_signals(NULL);
	if (stop_fd < 0) {
		log_err("signal thread: %s", strerror(-stop_fd));
		goto out_unlink;
	}
	vfu_stop_server(d.srv);
	if (start_sandbox(&o, o.socket, listen_fd, &remover, &remover_fd))
		goto out_unlink;
	/* Scripts wait for this line: a client may connect from now on. */
	fprintf(stderr, "uvmm-nvme: listening on %s (%llu blocks of %u bytes%s)\n",
		o.socket, (unsigned long long)(size / o.block_size),
		o.block_size, o.readonly ? ", read-only" : "");
	status = serve(&d, listen_fd, stop_fd);
	if (nvme_ctrl_flush(d.ctrl)) {
		log_err("flushing the image: %s", strerror(errno));
		status = 1;
	}
out_unlink:
	vfu_stop_server(NULL);
	if (remover > 0) {
		/* Its pipe closed, it removes the socket; wait for that. */
		close(remover_fd);
		while (waitpid(remover, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		unlink(o.socket);
	}
	close(listen_fd);
out:
	/* The controller drains the I/O threads; they kick the server. */
	nvme_ctrl_destroy(d.ctrl);
	nvme_aio_destroy(d.aio);
	vfu_server_destroy(d.srv);
	if (fd >= 0)
		close(fd);
	return status;
}
