// SPDX-License-Identifier: MIT
/*
 * sampledev: the vfio-user sample device server, a PCI function
 * (5555:0001) with registers, a shared-memory BAR, a DMA engine and every
 * interrupt kind, served with the server library. The tests and the demo
 * attach it to guests; the guest-visible contract is abi/sampledev.h.
 *
 *	build/tests/servers/sampledev [-v] [--no-dma-fd] [--strict-pci]
 *		[--reply-always] [--poll-us N] [--exit-in-dma-read N] SOCKET_PATH
 *
 * It replaces a stale socket at SOCKET_PATH, prints "sampledev: listening
 * on PATH" on stderr once a client can connect, serves one client, and
 * exits 0 when that client disconnects or on SIGTERM/SIGINT (the socket
 * file is removed either way); 1 on errors, 2 on a bad command line.
 * (--help says what each option does.)
 * -v prints one line per device event on stderr. --no-dma-fd maps none
 * of the client's memory, so every DMA goes by DMA_READ/DMA_WRITE
 * messages.
 *
 * --strict-pci makes the device hold to its own config space the way
 * QEMU's vfio-user server does (hw/remote/vfio-user-obj.c): a BAR access
 * gets an error reply unless that BAR is programmed (an address that is
 * neither 0 nor past 4 GiB) and memory decoding is on in the server's
 * COMMAND register; an MSI-X vector fires only while MSI-X is enabled
 * and not function-masked in the server's capability and the vector was
 * unmasked by SET_IRQS (all start masked, and a reset masks them again);
 * MSI only while enabled there. What cannot fire stays pending until it
 * can. So a client that keeps the server's config and mask state in step
 * passes, and one that only emulates them fails.
 *
 * Threads: the main thread runs the server loop, and every device
 * callback runs on it, so the device state needs no lock. The signal
 * thread (the server library's vfu_stop_on_signals()) removes the socket
 * and asks the loop to stop. The EFD_IRQ doorbell's thread only raises
 * MSI-X vector 0 and counts (efd_irq_main()).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/phase.h"
#include "vfio-user/server.h"
#include "vfio-user/transport.h"
#include "abi/sampledev.h"

#define BAR2_REGION		2	/* vfio-user region index = BAR number */
#define MSIX_ENTRY_SIZE		16
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS		0x06
#define PCI_STATUS_INTERRUPT	0x08
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_BAR_PREFETCH	0x08
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define PCI_MSI_FLAGS_64BIT	0x0080
#define PCI_MSI_FLAGS_ENABLE	0x0001
#define PCI_MSIX_FLAGS_ENABLE	0x8000
#define PCI_MSIX_FLAGS_MASKALL	0x4000
#define PCI_BASE_ADDRESS_0	0x10
#define DMA_CHUNK		0x100000	/* the bounce buffer */
#define MAX_MAPS		16

/* Guest RAM the server library mapped (DMA_MAP with an fd). */
struct td_map {
	u64 iova, size;
	u8 *vaddr;
	u32 flags;
};

struct sampledev {
	struct vfu_server *srv;
	bool strict;		/* --strict-pci */

	/* Config space and which bits of it the client may write. */
	u8 cfg[SAMPLEDEV_CFG_SIZE];
	u8 cfg_wmask[SAMPLEDEV_CFG_SIZE];
	u8 msix_table[SAMPLEDEV_MSIX_VECTORS * MSIX_ENTRY_SIZE];

	/* BAR0 registers (sampledev.h). */
	u32 scratch;
	u32 reset_count;
	u32 intx_status;
	u32 irq_count, irq_lost;
	u32 bar2_csum_len;
	u64 dma_src, dma_dst;
	u32 dma_len, dma_status, dma_err, dma_csum, dma_count, dma_irq;
	u32 dma_ns;
	u32 dma_cmd;		/* latched by DMA_CMD for the engine */
	u32 seq_hash, seq_count;
	u32 efd_count, efd_trapped;
	int doorbell_efd;	/* offered as an ioeventfd */
	/* EFD_IRQ: its eventfd, and its thread's stop and count. */
	int irq_efd, irq_stop_efd;
	pthread_t irq_thread;
	bool irq_thread_started;
	u32 efd_irq_count;	/* atomic: the thread adds, the loop reads */
	u32 poll_us;		/* --poll-us: busy look before sleeping */
	u32 exit_in_dma_read;	/* --exit-in-dma-read */

	/* Mask state from SET_IRQS, and what it holds back. */
	bool intx_masked;
	bool msi_masked, msi_pending;
	bool msix_masked[SAMPLEDEV_MSIX_VECTORS];
	bool msix_pending[SAMPLEDEV_MSIX_VECTORS];

	int bar2_fd;
	u8 *bar2;
	u8 *dma_buf;		/* DMA_CHUNK bounce buffer */
	/* The mapped ranges, for copies without the bounce buffer. */
	struct td_map maps[MAX_MAPS];
	unsigned int nr_maps;
};

/* FNV-1a, continued from h over len more bytes. */
static u32 fnv1a_more(u32 h, const u8 *p, u64 len)
{
	u64 i;

	for (i = 0; i < len; i++)
		h = SAMPLEDEV_FNV1A_STEP(h, p[i]);
	return h;
}

static u32 fnv1a(const u8 *p, u64 len)
{
	return fnv1a_more(SAMPLEDEV_FNV1A_INIT, p, len);
}

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

/* ---- interrupts ---------------------------------------------------------- */

static const char *irq_name(u32 index)
{
	return index == VFU_IRQ_INTX ? "INTx" :
	       index == VFU_IRQ_MSI ? "MSI" : "MSI-X";
}

/* Signal one vector's eventfd; count it as sent or lost. */
static void irq_send(struct sampledev *td, u32 index, u32 vector,
		     const char *why)
{
	int ret = vfu_server_irq_trigger(td->srv, index, vector);

	if (ret) {
		td->irq_lost++;
		log_info("%s: %s vector %u not sent: %s", why, irq_name(index),
			 vector, ret == -ENOENT ? "no eventfd from the client" :
			 strerror(-ret));
		return;
	}
	td->irq_count++;
	log_info("%s: raised %s vector %u", why, irq_name(index), vector);
}

static void intx_signal(struct sampledev *td, const char *why)
{
	if (get16(td->cfg, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) {
		log_info("%s: INTx asserted, held back by INTX_DISABLE", why);
		return;
	}
	if (td->intx_masked) {
		log_info("%s: INTx asserted, held back: masked", why);
		return;
	}
	irq_send(td, VFU_IRQ_INTX, 0, why);
}

static void intx_assert(struct sampledev *td, u32 cause, const char *why)
{
	u32 was = td->intx_status;

	td->intx_status |= cause;
	/* Level: the line is already up, nothing new to signal. */
	if (!was)
		intx_signal(td, why);
	else
		log_info("%s: INTx already asserted (status 0x%x)", why,
			 td->intx_status);
}

/*
 * --strict-pci: whether the server's own config space lets MSI-X or MSI
 * fire (always, without it).
 */
static bool strict_msix_on(struct sampledev *td)
{
	u16 flags = get16(td->cfg, SAMPLEDEV_CFG_MSIX_CAP + 2);

	return !td->strict || ((flags & PCI_MSIX_FLAGS_ENABLE) &&
			       !(flags & PCI_MSIX_FLAGS_MASKALL));
}

static bool strict_msi_on(struct sampledev *td)
{
	return !td->strict ||
	       (get16(td->cfg, SAMPLEDEV_CFG_MSI_CAP + 2) & PCI_MSI_FLAGS_ENABLE);
}

/* Raise the interrupt a doorbell value names (sampledev.h). */
static void irq_raise(struct sampledev *td, u32 doorbell, u32 intx_cause,
		      const char *why)
{
	u32 vector = doorbell & SAMPLEDEV_IRQ_VECTOR_MASK;

	switch (doorbell & SAMPLEDEV_IRQ_KIND_MASK) {
	case 0:		/* MSI-X */
		if (vector >= SAMPLEDEV_MSIX_VECTORS)
			break;
		if (td->msix_masked[vector] || !strict_msix_on(td)) {
			td->msix_pending[vector] = true;
			log_info("%s: MSI-X vector %u %s, pending", why, vector,
				 td->msix_masked[vector] ? "masked" :
				 "off in the server's config space");
			return;
		}
		irq_send(td, VFU_IRQ_MSIX, vector, why);
		return;
	case SAMPLEDEV_IRQ_MSI:
		if (vector)
			break;
		if (td->msi_masked || !strict_msi_on(td)) {
			td->msi_pending = true;
			log_info("%s: MSI %s, pending", why, td->msi_masked ?
				 "masked" : "off in the server's config space");
			return;
		}
		irq_send(td, VFU_IRQ_MSI, 0, why);
		return;
	case SAMPLEDEV_IRQ_INTX:
		if (vector)
			break;
		intx_assert(td, intx_cause, why);
		return;
	}
	td->irq_lost++;
	log_info("%s: no such interrupt: doorbell value 0x%x", why, doorbell);
}

/* SET_IRQS MASK/UNMASK: hold interrupts back, send what is pending. */
static void td_irq_state(void *opaque, u32 index, u32 start, u32 count,
			 bool masked)
{
	struct sampledev *td = opaque;
	u32 v;

	log_info("SET_IRQS: %s %s vectors %u-%u", masked ? "mask" : "unmask",
		 irq_name(index), start, start + count - 1);
	switch (index) {
	case VFU_IRQ_INTX:
		if (start || !count)
			return;
		td->intx_masked = masked;
		/* Unmask after a resample: a line still asserted fires again. */
		if (!masked && td->intx_status)
			intx_signal(td, "INTx unmask");
		return;
	case VFU_IRQ_MSI:
		if (start || !count)
			return;
		td->msi_masked = masked;
		if (!masked && td->msi_pending && strict_msi_on(td)) {
			td->msi_pending = false;
			irq_send(td, VFU_IRQ_MSI, 0, "MSI unmask");
		}
		return;
	case VFU_IRQ_MSIX:
		for (v = start; v - start < count && v < SAMPLEDEV_MSIX_VECTORS;
		     v++) {
			td->msix_masked[v] = masked;
			if (!masked && td->msix_pending[v] &&
			    strict_msix_on(td)) {
				td->msix_pending[v] = false;
				irq_send(td, VFU_IRQ_MSIX, v, "MSI-X unmask");
			}
		}
		return;
	}
}

/*
 * --strict-pci: MSI or MSI-X just got enabled (or unmasked as a whole)
 * in the server's config space: what waited for it fires now.
 */
static void strict_irq_flush(struct sampledev *td)
{
	u32 v;

	if (td->msi_pending && !td->msi_masked && strict_msi_on(td)) {
		td->msi_pending = false;
		irq_send(td, VFU_IRQ_MSI, 0, "MSI enabled");
	}
	if (!strict_msix_on(td))
		return;
	for (v = 0; v < SAMPLEDEV_MSIX_VECTORS; v++) {
		if (td->msix_pending[v] && !td->msix_masked[v]) {
			td->msix_pending[v] = false;
			irq_send(td, VFU_IRQ_MSIX, v, "MSI-X enabled");
		}
	}
}

/* ---- DMA engine ---------------------------------------------------------- */

static bool bar2_range(u64 addr, u64 len, u64 *off)
{
	*off = addr & ~SAMPLEDEV_DMA_BAR2;
	return *off <= SAMPLEDEV_BAR2_SIZE && len <= SAMPLEDEV_BAR2_SIZE - *off;
}

/*
 * Where [addr, addr + len) lies in this process, if it does in one piece:
 * BAR2, or guest RAM the library mapped with the right access. NULL means
 * go through the library (messages, or an error it reports).
 */
static u8 *dma_direct(struct sampledev *td, u64 addr, u64 len, bool write)
{
	u32 need = write ? VFU_DMA_MAP_F_WRITE : VFU_DMA_MAP_F_READ;
	unsigned int i;
	u64 off;

	if (addr & SAMPLEDEV_DMA_BAR2)
		return bar2_range(addr, len, &off) ? td->bar2 + off : NULL;
	for (i = 0; i < td->nr_maps; i++) {
		struct td_map *m = &td->maps[i];

		if (addr >= m->iova && addr - m->iova < m->size &&
		    len <= m->size - (addr - m->iova) && (m->flags & need))
			return m->vaddr + (addr - m->iova);
	}
	return NULL;
}

static int dma_from(struct sampledev *td, u64 addr, void *buf, u64 len)
{
	u64 off;

	if (!(addr & SAMPLEDEV_DMA_BAR2))
		return vfu_server_dma_read(td->srv, addr, buf, len);
	if (!bar2_range(addr, len, &off))
		return -EFAULT;
	memcpy(buf, td->bar2 + off, len);
	return 0;
}

static int dma_to(struct sampledev *td, u64 addr, const void *buf, u64 len)
{
	u64 off;

	if (!(addr & SAMPLEDEV_DMA_BAR2))
		return vfu_server_dma_write(td->srv, addr, buf, len);
	if (!bar2_range(addr, len, &off))
		return -EFAULT;
	memcpy(td->bar2 + off, buf, len);
	return 0;
}

static void dma_finish(struct sampledev *td, u32 err, int ret, u64 start)
{
	td->dma_ns = (u32)MIN(mono_ns() - start, (u64)UINT32_MAX);
	td->dma_err = err;
	td->dma_status = err ? SAMPLEDEV_DMA_ERROR : SAMPLEDEV_DMA_DONE;
	if (err) {
		log_info("DMA: error %u (%s)", err,
			 ret ? strerror(-ret) : "bad request");
	} else {
		td->dma_count++;
		log_info("DMA: done, checksum 0x%08x, %u ns", td->dma_csum,
			 td->dma_ns);
	}
	if (td->dma_irq & SAMPLEDEV_DMA_IRQ_EN)
		irq_raise(td, td->dma_irq & ~SAMPLEDEV_DMA_IRQ_EN,
			  SAMPLEDEV_INTX_DMA, "DMA");
}

/* Read len bytes at addr chunk by chunk, into *h unless NULL. */
static int dma_sum(struct sampledev *td, u64 addr, u64 len, u32 *h)
{
	u64 done, n;
	int ret;

	for (done = 0; done < len; done += n) {
		n = MIN(len - done, (u64)DMA_CHUNK);
		ret = dma_from(td, addr + done, td->dma_buf, n);
		if (ret)
			return ret;
		if (h)
			*h = fnv1a_more(*h, td->dma_buf, n);
	}
	return 0;
}

/*
 * A copy through the bounce buffer, one chunk at a time, as memmove: from
 * the top down when the destination overlaps the source from above, so
 * that no chunk overwrites source bytes not yet read (the checksum, which
 * goes bottom up, then takes a pass of its own first). The source's
 * checksum goes into *h unless NULL; *err_src says which side failed.
 */
static int dma_copy_bounced(struct sampledev *td, u64 src, u64 dst, u64 len,
			    u32 *h, bool *err_src)
{
	bool down = dst > src && dst - src < len;
	u64 done, n, off;
	int ret;

	*err_src = true;
	if (down && h) {
		ret = dma_sum(td, src, len, h);
		if (ret)
			return ret;
		h = NULL;
	}
	for (done = 0; done < len; done += n) {
		n = MIN(len - done, (u64)DMA_CHUNK);
		off = down ? len - done - n : done;
		ret = dma_from(td, src + off, td->dma_buf, n);
		if (ret) {
			*err_src = true;
			return ret;
		}
		if (h)
			*h = fnv1a_more(*h, td->dma_buf, n);
		ret = dma_to(td, dst + off, td->dma_buf, n);
		if (ret) {
			*err_src = false;
			return ret;
		}
	}
	return 0;
}

/* Runs the latched operation; on the loop thread, like everything. */
static void dma_run(struct sampledev *td)
{
	u32 op = td->dma_cmd & SAMPLEDEV_DMA_OP_MASK;
	bool csum = !(td->dma_cmd & SAMPLEDEV_DMA_NO_CSUM), err_src = true;
	u64 len = td->dma_len, start = mono_ns();
	u32 h = SAMPLEDEV_FNV1A_INIT;
	u8 *from, *to;
	int ret = 0;

	if (op != SAMPLEDEV_DMA_OP_COPY && op != SAMPLEDEV_DMA_OP_CSUM) {
		dma_finish(td, SAMPLEDEV_DMA_ERR_OP, 0, start);
		return;
	}
	if (len > SAMPLEDEV_DMA_MAX_LEN) {
		dma_finish(td, SAMPLEDEV_DMA_ERR_LEN, 0, start);
		return;
	}
	log_info("DMA: %s 0x%llx -> 0x%llx, %llu bytes%s",
		 op == SAMPLEDEV_DMA_OP_COPY ? "copy" : "checksum",
		 (unsigned long long)td->dma_src,
		 (unsigned long long)td->dma_dst, (unsigned long long)len,
		 csum ? "" : ", no checksum");
	if (op == SAMPLEDEV_DMA_OP_CSUM) {
		ret = dma_sum(td, td->dma_src, len, csum ? &h : NULL);
	} else if ((from = dma_direct(td, td->dma_src, len, false)) &&
		   (to = dma_direct(td, td->dma_dst, len, true))) {
		/* Both ends in this process: what a device's DMA would do. */
		if (csum)
			h = fnv1a_more(h, from, len);
		memmove(to, from, len);
	} else {
		ret = dma_copy_bounced(td, td->dma_src, td->dma_dst, len,
				       csum ? &h : NULL, &err_src);
	}
	if (ret) {
		dma_finish(td, err_src ? SAMPLEDEV_DMA_ERR_SRC :
					 SAMPLEDEV_DMA_ERR_DST, ret, start);
		return;
	}
	td->dma_csum = csum ? h : 0;
	dma_finish(td, SAMPLEDEV_DMA_ERR_NONE, 0, start);
}

static void dma_command(struct sampledev *td, u32 cmd)
{
	u32 op = cmd & SAMPLEDEV_DMA_OP_MASK;

	if (td->dma_status == SAMPLEDEV_DMA_BUSY || !op) {
		log_info("DMA_CMD 0x%x ignored: %s", cmd,
			 op ? "busy" : "no op");
		return;
	}
	td->dma_cmd = cmd;
	td->dma_status = SAMPLEDEV_DMA_BUSY;
	td->dma_err = SAMPLEDEV_DMA_ERR_NONE;
	/*
	 * Asynchronous by default: the write's reply goes out first and the
	 * loop runs the engine from ops->work, as hardware would after a
	 * doorbell. SYNC does it before the reply, while the writer waits.
	 */
	if ((cmd & SAMPLEDEV_DMA_SYNC) || vfu_server_kick(td->srv))
		dma_run(td);
}

static void td_work(void *opaque)
{
	struct sampledev *td = opaque;

	if (td->dma_status == SAMPLEDEV_DMA_BUSY)
		dma_run(td);
}

/* ---- BAR0 ---------------------------------------------------------------- */

/*
 * The doorbell's signals so far: KVM writes the eventfd before the
 * guest's write completes, so everything rung before a read is counted.
 */
static void efd_drain(struct sampledev *td)
{
	u64 n;

	if (read(td->doorbell_efd, &n, sizeof(n)) == sizeof(n))
		td->efd_count += (u32)n;
}

/* EFD_IRQ rang: vector 0, from whichever thread saw it. */
static void efd_irq_raise(struct sampledev *td)
{
	if (!vfu_server_irq_trigger(td->srv, VFU_IRQ_MSIX, 0))
		__atomic_fetch_add(&td->efd_irq_count, 1, __ATOMIC_RELAXED);
}

/*
 * The EFD_IRQ doorbell's thread: a guest write wakes it through KVM's
 * ioeventfd and it raises the interrupt at once. It touches no device
 * state but its counter (the library's trigger takes its own lock).
 */
static void *efd_irq_main(void *arg)
{
	struct sampledev *td = arg;
	struct pollfd pfd[2] = {
		{ .fd = td->irq_efd, .events = POLLIN },
		{ .fd = td->irq_stop_efd, .events = POLLIN },
	};
	u64 n;

	for (;;) {
		/* --poll-us: catch the next ring before the CPU sleeps. */
		if (!(td->poll_us && vfu_poll_busy(pfd, 2, td->poll_us)) &&
		    poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("EFD_IRQ thread: poll: %s", strerror(errno));
			return NULL;
		}
		if (pfd[1].revents)
			return NULL;
		if (read(td->irq_efd, &n, sizeof(n)) == sizeof(n))
			efd_irq_raise(td);
	}
}

static void seq_fold(struct sampledev *td, u32 v)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		td->seq_hash = SAMPLEDEV_FNV1A_STEP(td->seq_hash, (v >> (8 * i)) & 0xff);
	td->seq_count++;
}

/* Value a partial write merges into: read/write registers only. */
static u32 reg_stored(struct sampledev *td, u64 off)
{
	switch (off) {
	case SAMPLEDEV_REG_SCRATCH:	return td->scratch;
	case SAMPLEDEV_REG_BAR2_CSUM_LEN:	return td->bar2_csum_len;
	case SAMPLEDEV_REG_DMA_SRC_LO:	return (u32)td->dma_src;
	case SAMPLEDEV_REG_DMA_SRC_HI:	return (u32)(td->dma_src >> 32);
	case SAMPLEDEV_REG_DMA_DST_LO:	return (u32)td->dma_dst;
	case SAMPLEDEV_REG_DMA_DST_HI:	return (u32)(td->dma_dst >> 32);
	case SAMPLEDEV_REG_DMA_LEN:	return td->dma_len;
	case SAMPLEDEV_REG_DMA_IRQ:	return td->dma_irq;
	}
	return 0;
}

static u32 reg_read(struct sampledev *td, u64 off)
{
	switch (off) {
	case SAMPLEDEV_REG_ID:		return SAMPLEDEV_ID_MAGIC;
	case SAMPLEDEV_REG_VERSION:	return SAMPLEDEV_VERSION;
	case SAMPLEDEV_REG_RESET_COUNT:	return td->reset_count;
	case SAMPLEDEV_REG_INTX_STATUS:	return td->intx_status;
	case SAMPLEDEV_REG_IRQ_COUNT:	return td->irq_count;
	case SAMPLEDEV_REG_IRQ_LOST:	return td->irq_lost;
	case SAMPLEDEV_REG_BAR2_CSUM:
		return fnv1a(td->bar2, td->bar2_csum_len);
	case SAMPLEDEV_REG_BAR2_SIZE:	return SAMPLEDEV_BAR2_SIZE;
	case SAMPLEDEV_REG_DMA_STATUS:	return td->dma_status;
	case SAMPLEDEV_REG_DMA_ERR:	return td->dma_err;
	case SAMPLEDEV_REG_DMA_CSUM:	return td->dma_csum;
	case SAMPLEDEV_REG_DMA_COUNT:	return td->dma_count;
	case SAMPLEDEV_REG_DMA_NS:	return td->dma_ns;
	case SAMPLEDEV_REG_SEQ_HASH:	return td->seq_hash;
	case SAMPLEDEV_REG_SEQ_COUNT:	return td->seq_count;
	case SAMPLEDEV_REG_POSTED_COUNT:
		return (u32)vfu_server_no_reply_count(td->srv);
	case SAMPLEDEV_REG_EFD_COUNT:
		efd_drain(td);
		return td->efd_count;
	case SAMPLEDEV_REG_EFD_TRAPPED:	return td->efd_trapped;
	case SAMPLEDEV_REG_EFD_IRQ_COUNT:
		return __atomic_load_n(&td->efd_irq_count, __ATOMIC_RELAXED);
	}
	return reg_stored(td, off);
}

static void reg_write(struct sampledev *td, u64 off, u32 v)
{
	switch (off) {
	case SAMPLEDEV_REG_SCRATCH:
		td->scratch = v;
		break;
	case SAMPLEDEV_REG_DOORBELL:
		log_info("doorbell 0x%x", v);
		irq_raise(td, v, SAMPLEDEV_INTX_DOORBELL, "doorbell");
		break;
	case SAMPLEDEV_REG_INTX_ACK:
		td->intx_status &= ~v;
		log_info("INTx ack 0x%x: status 0x%x%s", v, td->intx_status,
			 td->intx_status ? "" : ", deasserted");
		break;
	case SAMPLEDEV_REG_BAR2_CSUM_LEN:
		td->bar2_csum_len = MIN(v, (u32)SAMPLEDEV_BAR2_SIZE);
		break;
	case SAMPLEDEV_REG_DMA_SRC_LO:
		td->dma_src = (td->dma_src & ~0xffffffffULL) | v;
		break;
	case SAMPLEDEV_REG_DMA_SRC_HI:
		td->dma_src = (td->dma_src & 0xffffffffULL) | (u64)v << 32;
		break;
	case SAMPLEDEV_REG_DMA_DST_LO:
		td->dma_dst = (td->dma_dst & ~0xffffffffULL) | v;
		break;
	case SAMPLEDEV_REG_DMA_DST_HI:
		td->dma_dst = (td->dma_dst & 0xffffffffULL) | (u64)v << 32;
		break;
	case SAMPLEDEV_REG_DMA_LEN:
		td->dma_len = v;
		break;
	case SAMPLEDEV_REG_DMA_CMD:
		dma_command(td, v);
		break;
	case SAMPLEDEV_REG_DMA_IRQ:
		td->dma_irq = v;
		break;
	case SAMPLEDEV_REG_SEQ:
		seq_fold(td, v);
		break;
	case SAMPLEDEV_REG_EFD_DOORBELL:
	case SAMPLEDEV_REG_EFD_MATCH:
	case SAMPLEDEV_REG_EFD_IRQ:
		td->efd_trapped++;
		log_info("ioeventfd register 0x%llx written by message: 0x%x",
			 (unsigned long long)off, v);
		if (off == SAMPLEDEV_REG_EFD_IRQ)
			efd_irq_raise(td);
		break;
	}
}

static u32 pba_word(struct sampledev *td, u64 off)
{
	u32 v = 0, i;

	for (i = 0; i < SAMPLEDEV_MSIX_VECTORS; i++)
		if (td->msix_pending[i] && i / 32 == off / 4)
			v |= 1u << (i % 32);
	return v;
}

/* One 32-bit word of BAR0 (off 4-aligned, inside the BAR). */
static u32 bar0_word_read(struct sampledev *td, u64 off)
{
	u64 t = off - SAMPLEDEV_MSIX_TABLE;

	if (off < SAMPLEDEV_MSIX_TABLE)
		return reg_read(td, off);
	if (t < sizeof(td->msix_table)) {
		u8 *e = td->msix_table + t;

		return (u32)(e[0] | e[1] << 8 | e[2] << 16 | (u32)e[3] << 24);
	}
	if (off >= SAMPLEDEV_MSIX_PBA &&
	    off - SAMPLEDEV_MSIX_PBA < ALIGN_UP(SAMPLEDEV_MSIX_VECTORS, 64) / 8)
		return pba_word(td, off - SAMPLEDEV_MSIX_PBA);
	return 0;
}

/* mask: the bits of v the access carries; the rest are merged. */
static void bar0_word_write(struct sampledev *td, u64 off, u32 v, u32 mask)
{
	u64 t = off - SAMPLEDEV_MSIX_TABLE;

	if (off < SAMPLEDEV_MSIX_TABLE) {
		reg_write(td, off, (reg_stored(td, off) & ~mask) | (v & mask));
		return;
	}
	if (t < sizeof(td->msix_table)) {
		u32 w = (bar0_word_read(td, off) & ~mask) | (v & mask);

		if (t % MSIX_ENTRY_SIZE == 12)
			w &= 1;		/* vector control: the mask bit */
		put32(td->msix_table, (unsigned int)t, w);
	}
	/* The PBA is read-only; the rest of the BAR ignores writes. */
}

/* Any size, any alignment: split into the 32-bit words it touches. */
static int bar0_access(struct sampledev *td, u64 offset, u8 *buf, u32 count,
		       bool is_write)
{
	u64 end = offset + count, word;

	if (offset > SAMPLEDEV_BAR0_SIZE || count > SAMPLEDEV_BAR0_SIZE - offset)
		return -EINVAL;
	for (word = ALIGN_DOWN(offset, 4); word < end; word += 4) {
		u64 lo = MAX(word, offset), hi = MIN(word + 4, end);
		unsigned int shift = (unsigned int)(lo - word) * 8;
		unsigned int n = (unsigned int)(hi - lo), i;
		u8 *p = buf + (lo - offset);
		u32 v = 0, mask;

		mask = (n == 4 ? 0xffffffffu : (1u << (n * 8)) - 1) << shift;
		if (is_write) {
			for (i = 0; i < n; i++)
				v |= (u32)p[i] << (shift + 8 * i);
			bar0_word_write(td, word, v, mask);
		} else {
			v = bar0_word_read(td, word);
			for (i = 0; i < n; i++)
				p[i] = (u8)(v >> (shift + 8 * i));
		}
	}
	return 0;
}

/* ---- config space -------------------------------------------------------- */

static void cfg_reset(struct sampledev *td)
{
	u8 *c = td->cfg;

	memset(c, 0, sizeof(td->cfg));
	put16(c, 0x00, SAMPLEDEV_VENDOR_ID);
	put16(c, 0x02, SAMPLEDEV_DEVICE_ID);
	put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c[0x08] = SAMPLEDEV_REVISION;
	c[0x09] = (u8)SAMPLEDEV_CLASS;
	c[0x0a] = (u8)(SAMPLEDEV_CLASS >> 8);
	c[0x0b] = (u8)(SAMPLEDEV_CLASS >> 16);
	put32(c, 0x10, 0);			/* BAR0: 32-bit memory */
	put32(c, 0x18, PCI_BAR_PREFETCH);	/* BAR2: 32-bit, prefetchable */
	put16(c, 0x2c, SAMPLEDEV_SUBSYS_VENDOR_ID);
	put16(c, 0x2e, SAMPLEDEV_SUBSYS_ID);
	c[0x34] = SAMPLEDEV_CFG_MSI_CAP;
	c[0x3d] = 1;				/* INTA# */

	c[SAMPLEDEV_CFG_MSI_CAP] = PCI_CAP_ID_MSI;
	c[SAMPLEDEV_CFG_MSI_CAP + 1] = SAMPLEDEV_CFG_MSIX_CAP;
	put16(c, SAMPLEDEV_CFG_MSI_CAP + 2, PCI_MSI_FLAGS_64BIT); /* 1 vector */

	c[SAMPLEDEV_CFG_MSIX_CAP] = PCI_CAP_ID_MSIX;
	c[SAMPLEDEV_CFG_MSIX_CAP + 1] = SAMPLEDEV_CFG_VNDR_CAP;
	put16(c, SAMPLEDEV_CFG_MSIX_CAP + 2, SAMPLEDEV_MSIX_VECTORS - 1);
	put32(c, SAMPLEDEV_CFG_MSIX_CAP + 4, SAMPLEDEV_MSIX_TABLE | 0);	/* BIR 0 */
	put32(c, SAMPLEDEV_CFG_MSIX_CAP + 8, SAMPLEDEV_MSIX_PBA | 0);

	c[SAMPLEDEV_CFG_VNDR_CAP] = PCI_CAP_ID_VNDR;
	c[SAMPLEDEV_CFG_VNDR_CAP + 2] = SAMPLEDEV_CFG_VNDR_LEN;
	put32(c, SAMPLEDEV_CFG_VNDR_SIG_OFF, SAMPLEDEV_CFG_VNDR_SIG);
	put16(c, SAMPLEDEV_CFG_VNDR_SCRATCH_OFF, SAMPLEDEV_CFG_SCRATCH);
	put16(c, SAMPLEDEV_CFG_VNDR_SCRATCH_LEN, SAMPLEDEV_CFG_SCRATCH_SIZE);
}

static void cfg_wmask_init(struct sampledev *td)
{
	u8 *m = td->cfg_wmask;

	memset(m, 0, sizeof(td->cfg_wmask));
	put16(m, PCI_COMMAND, SAMPLEDEV_CFG_COMMAND_WMASK);
	m[0x0c] = 0xff;				/* cache line size */
	m[0x0d] = 0xff;				/* latency timer */
	/* BAR sizing falls out of the mask: the size bits read back 0. */
	put32(m, 0x10, ~(u32)(SAMPLEDEV_BAR0_SIZE - 1));
	put32(m, 0x18, ~(u32)(SAMPLEDEV_BAR2_SIZE - 1));
	m[0x3c] = 0xff;				/* interrupt line */
	/* MSI: enable (one vector: MME stays 0), address, data. */
	m[SAMPLEDEV_CFG_MSI_CAP + 2] = 0x01;
	put32(m, SAMPLEDEV_CFG_MSI_CAP + 4, 0xfffffffc);
	put32(m, SAMPLEDEV_CFG_MSI_CAP + 8, 0xffffffff);
	put16(m, SAMPLEDEV_CFG_MSI_CAP + 12, 0xffff);
	/* MSI-X: enable and function mask. */
	m[SAMPLEDEV_CFG_MSIX_CAP + 3] = 0xc0;
	memset(m + SAMPLEDEV_CFG_SCRATCH, 0xff, SAMPLEDEV_CFG_SCRATCH_SIZE);
}

static int cfg_access(struct sampledev *td, u64 offset, u8 *buf, u32 count,
		      bool is_write)
{
	u16 old_cmd, new_cmd;
	u32 i;

	if (offset > SAMPLEDEV_CFG_SIZE || count > SAMPLEDEV_CFG_SIZE - offset)
		return -EINVAL;
	if (!is_write) {
		memcpy(buf, td->cfg + offset, count);
		/* STATUS.Interrupt: the INTx line, whatever INTX_DISABLE. */
		if (td->intx_status && offset <= PCI_STATUS &&
		    PCI_STATUS - offset < count)
			buf[PCI_STATUS - offset] |= PCI_STATUS_INTERRUPT;
		return 0;
	}
	old_cmd = get16(td->cfg, PCI_COMMAND);
	for (i = 0; i < count; i++) {
		u8 m = td->cfg_wmask[offset + i];

		td->cfg[offset + i] = (u8)((td->cfg[offset + i] & ~m) |
					   (buf[i] & m));
	}
	if (td->strict)
		strict_irq_flush(td);
	new_cmd = get16(td->cfg, PCI_COMMAND);
	if (new_cmd != old_cmd) {
		log_info("config: COMMAND 0x%04x -> 0x%04x", old_cmd, new_cmd);
		if ((old_cmd & PCI_COMMAND_INTX_DISABLE) &&
		    !(new_cmd & PCI_COMMAND_INTX_DISABLE) && td->intx_status)
			intx_signal(td, "INTX_DISABLE cleared");
	}
	return 0;
}

/* ---- callbacks ----------------------------------------------------------- */

/*
 * --strict-pci: QEMU's server resolves a BAR access through the BAR's
 * place in its own address space, so it has none until the client has
 * programmed the BAR and turned memory decoding on in its config space.
 * A 32-bit BAR at 0, or one that would reach 4 GiB (as a sizing value
 * does), is not mapped there.
 */
static bool strict_bar_mapped(struct sampledev *td, u32 region, u64 size)
{
	u64 addr = get16(td->cfg, PCI_BASE_ADDRESS_0 + 4 * region) |
		   (u64)get16(td->cfg, PCI_BASE_ADDRESS_0 + 4 * region + 2) << 16;

	addr &= ~0xfull;
	if (!td->strict)
		return true;
	return (get16(td->cfg, PCI_COMMAND) & PCI_COMMAND_MEMORY) && addr &&
	       addr + size - 1 < 0xffffffffull;
}

static int strict_bar_refused(struct sampledev *td, u32 region, u64 offset,
			      u32 count)
{
	log_info("BAR%u access at 0x%llx, %u bytes, refused: %s", region,
		 (unsigned long long)offset, count,
		 get16(td->cfg, PCI_COMMAND) & PCI_COMMAND_MEMORY ?
		 "the BAR is not programmed in the server's config space" :
		 "memory decoding is off in the server's config space");
	return -EINVAL;
}

static int td_access(void *opaque, u32 region, u64 offset, void *buf,
		     u32 count, bool is_write)
{
	struct sampledev *td = opaque;

	switch (region) {
	case VFU_PCI_BAR0:
		if (!strict_bar_mapped(td, region, SAMPLEDEV_BAR0_SIZE))
			return strict_bar_refused(td, region, offset, count);
		return bar0_access(td, offset, buf, count, is_write);
	case BAR2_REGION:
		if (!strict_bar_mapped(td, region, SAMPLEDEV_BAR2_SIZE))
			return strict_bar_refused(td, region, offset, count);
		/* Clients that do not map BAR2 reach the same bytes here. */
		if (offset > SAMPLEDEV_BAR2_SIZE ||
		    count > SAMPLEDEV_BAR2_SIZE - offset)
			return -EINVAL;
		if (is_write)
			memcpy(td->bar2 + offset, buf, count);
		else
			memcpy(buf, td->bar2 + offset, count);
		return 0;
	case VFU_PCI_CONFIG:
		return cfg_access(td, offset, buf, count, is_write);
	}
	return -EINVAL;
}

static void td_power_on(struct sampledev *td)
{
	u32 v;

	cfg_reset(td);
	memset(td->msix_table, 0, sizeof(td->msix_table));
	for (v = 0; v < SAMPLEDEV_MSIX_VECTORS; v++) {
		/* Vectors come out of reset masked (PCI spec). */
		td->msix_table[v * MSIX_ENTRY_SIZE + 12] = 1;
		td->msix_pending[v] = false;
	}
	td->msi_pending = false;
	td->scratch = 0;
	td->intx_status = 0;
	td->irq_count = 0;
	td->irq_lost = 0;
	td->bar2_csum_len = SAMPLEDEV_BAR2_SIZE;
	td->dma_src = 0;
	td->dma_dst = 0;
	td->dma_len = 0;
	td->dma_status = SAMPLEDEV_DMA_IDLE;
	td->dma_err = SAMPLEDEV_DMA_ERR_NONE;
	td->dma_csum = 0;
	td->dma_count = 0;
	td->dma_irq = 0;
	td->dma_ns = 0;
	td->dma_cmd = 0;
	td->seq_hash = SAMPLEDEV_FNV1A_INIT;
	td->seq_count = 0;
	efd_drain(td);
	td->efd_count = 0;
	td->efd_trapped = 0;
	__atomic_store_n(&td->efd_irq_count, 0, __ATOMIC_RELAXED);
	memset(td->bar2, 0, SAMPLEDEV_BAR2_SIZE);
}

static int td_reset(void *opaque)
{
	struct sampledev *td = opaque;

	/*
	 * Mask state is the client's (SET_IRQS), so it survives; QEMU's
	 * server masks every MSI-X vector again, and so does --strict-pci.
	 */
	td_power_on(td);
	if (td->strict)
		memset(td->msix_masked, 1, sizeof(td->msix_masked));
	td->reset_count++;
	log_info("DEVICE_RESET: reset %u", td->reset_count);
	return 0;
}

static void td_dma_map(void *opaque, u64 iova, u64 size, void *vaddr,
		       u32 flags)
{
	struct sampledev *td = opaque;

	/* Without room the library still reaches it, a chunk at a time. */
	if (vaddr && td->nr_maps < MAX_MAPS)
		td->maps[td->nr_maps++] = (struct td_map){
			.iova = iova, .size = size, .vaddr = vaddr,
			.flags = flags,
		};
	log_info("DMA_MAP 0x%llx+0x%llx %s%s: %s", (unsigned long long)iova,
		 (unsigned long long)size, flags & VFU_DMA_MAP_F_READ ? "r" : "",
		 flags & VFU_DMA_MAP_F_WRITE ? "w" : "",
		 vaddr ? "mapped" : "by DMA_READ/DMA_WRITE messages");
}

static void td_dma_unmap(void *opaque, u64 iova, u64 size)
{
	struct sampledev *td = opaque;
	unsigned int i;

	for (i = 0; i < td->nr_maps; ) {
		if (td->maps[i].iova == iova && td->maps[i].size == size)
			td->maps[i] = td->maps[--td->nr_maps];
		else
			i++;
	}
	log_info("DMA_UNMAP 0x%llx+0x%llx", (unsigned long long)iova,
		 (unsigned long long)size);
}

static void td_disconnected(void *opaque)
{
	(void)opaque;
	log_info("client disconnected");
}

static const struct vfu_server_ops td_ops = {
	.reset = td_reset,
	.irq_state = td_irq_state,
	.dma_map = td_dma_map,
	.dma_unmap = td_dma_unmap,
	.work = td_work,
	.disconnected = td_disconnected,
};

/* ---- setup --------------------------------------------------------------- */

static int td_init(struct sampledev *td, bool no_dma_fd, bool reply_always)
{
	struct vfu_server_options opts = {
		.name = "server",
		.refuse_dma_fds = no_dma_fd,
		.reply_to_no_reply = reply_always,
		.poll_us = td->poll_us,
		.exit_in_dma_read = td->exit_in_dma_read,
		.ops = &td_ops,
		.opaque = td,
	};
	struct vfu_server_region bar0 = {
		.size = SAMPLEDEV_BAR0_SIZE,
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE,
		.access = td_access,
		.fd = -1,
	};
	struct vfu_server_region bar2 = bar0, cfg = bar0;
	int ret;

	td->bar2_fd = memfd_create("sampledev-bar2",
				   MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (td->bar2_fd < 0)
		return -errno;
	/* Sealed: a client's mapping can never lose its pages (SIGBUS). */
	if (ftruncate(td->bar2_fd, SAMPLEDEV_BAR2_SIZE) ||
	    fcntl(td->bar2_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		return -errno;
	td->bar2 = mmap(NULL, SAMPLEDEV_BAR2_SIZE, PROT_READ | PROT_WRITE,
			MAP_SHARED, td->bar2_fd, 0);
	if (td->bar2 == MAP_FAILED) {
		td->bar2 = NULL;
		return -errno;
	}
	td->dma_buf = malloc(DMA_CHUNK);
	if (!td->dma_buf)
		return -ENOMEM;
	td->doorbell_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (td->doorbell_efd < 0)
		return -errno;
	td->irq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	td->irq_stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (td->irq_efd < 0 || td->irq_stop_efd < 0)
		return -errno;
	cfg_wmask_init(td);
	td_power_on(td);

	ret = vfu_server_create(&opts, &td->srv);
	if (ret)
		return ret;
	bar2.size = SAMPLEDEV_BAR2_SIZE;
	bar2.fd = td->bar2_fd;		/* no areas: the whole BAR maps */
	cfg.size = SAMPLEDEV_CFG_SIZE;
	ret = vfu_server_setup_region(td->srv, VFU_PCI_BAR0, &bar0);
	if (!ret)
		ret = vfu_server_setup_region(td->srv, BAR2_REGION, &bar2);
	if (!ret)
		ret = vfu_server_setup_region(td->srv, VFU_PCI_CONFIG, &cfg);
	if (!ret)
		ret = vfu_server_setup_irq(td->srv, VFU_IRQ_INTX, 1);
	if (!ret)
		ret = vfu_server_setup_irq(td->srv, VFU_IRQ_MSI, 1);
	if (!ret)
		ret = vfu_server_setup_irq(td->srv, VFU_IRQ_MSIX,
					   SAMPLEDEV_MSIX_VECTORS);
	/* Flags are KVM's ioeventfd flags: 1 is DATAMATCH. */
	if (!ret)
		ret = vfu_server_add_ioeventfd(td->srv, VFU_PCI_BAR0,
					       SAMPLEDEV_REG_EFD_DOORBELL, 4,
					       td->doorbell_efd, 0, 0);
	if (!ret)
		ret = vfu_server_add_ioeventfd(td->srv, VFU_PCI_BAR0,
					       SAMPLEDEV_REG_EFD_MATCH, 4,
					       td->doorbell_efd, 1,
					       SAMPLEDEV_EFD_MATCH_VALUE);
	if (!ret)
		ret = vfu_server_add_ioeventfd(td->srv, VFU_PCI_BAR0,
					       SAMPLEDEV_REG_EFD_IRQ, 4,
					       td->irq_efd, 0, 0);
	if (!ret) {
		ret = -pthread_create(&td->irq_thread, NULL, efd_irq_main, td);
		td->irq_thread_started = !ret;
	}
	return ret;
}

static void td_fini(struct sampledev *td)
{
	u64 one = 1;

	if (td->irq_thread_started) {
		if (write(td->irq_stop_efd, &one, sizeof(one)) == sizeof(one))
			pthread_join(td->irq_thread, NULL);
	}
	if (td->irq_efd >= 0)
		close(td->irq_efd);
	if (td->irq_stop_efd >= 0)
		close(td->irq_stop_efd);
	vfu_server_destroy(td->srv);
	if (td->bar2)
		munmap(td->bar2, SAMPLEDEV_BAR2_SIZE);
	if (td->bar2_fd >= 0)
		close(td->bar2_fd);
	free(td->dma_buf);
	if (td->doorbell_efd >= 0)
		close(td->doorbell_efd);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sampledev [-v] [--no-dma-fd] [--strict-pci] [--reply-always]\n"
		"                 [--poll-us N] [--exit-in-dma-read N] SOCKET_PATH\n"
		"  vfio-user sample device server (see abi/sampledev.h)\n"
		"  -v, --verbose   one line per device event on stderr\n"
		"      --no-dma-fd map no client memory: DMA by messages\n"
		"      --strict-pci act on its own config space as QEMU's server does:\n"
		"                  BAR accesses need the BAR programmed and decoding\n"
		"                  on, MSI-X needs enable and a SET_IRQS unmask\n"
		"      --reply-always  answer NO_REPLY commands too, as some servers\n"
		"                  do (tests that a client survives it)\n"
		"      --poll-us N after each message or doorbell, look for the next\n"
		"                  for N microseconds before sleeping (default 0)\n"
		"      --exit-in-dma-read N  die (status 9) once the N-th DMA_READ\n"
		"                  request is sent, before its reply (tests a client\n"
		"                  that reconnects; DMA by messages: --no-dma-fd)\n"
		"  -h, --help\n");
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-dma-fd", no_argument, NULL, 'n' },
		{ "strict-pci", no_argument, NULL, 's' },
		{ "reply-always", no_argument, NULL, 'r' },
		{ "poll-us", required_argument, NULL, 'p' },
		{ "exit-in-dma-read", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sampledev td = { .bar2_fd = -1, .doorbell_efd = -1,
				 .irq_efd = -1, .irq_stop_efd = -1 };
	bool no_dma_fd = false, reply_always = false;
	const char *path;
	sigset_t set;
	char err[256];
	int opt, listen_fd, stop_fd, fd, ret, status = 1;

	log_set_program("sampledev");
	while ((opt = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'n':
			no_dma_fd = true;
			break;
		case 's':
			td.strict = true;
			/* Vectors start masked until SET_IRQS unmasks them. */
			memset(td.msix_masked, 1, sizeof(td.msix_masked));
			break;
		case 'r':
			reply_always = true;
			break;
		case 'p':
			if (parse_uint(optarg, 1000000, &td.poll_us)) {
				fprintf(stderr, "sampledev: --poll-us takes 0 to 1000000, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'x':
			if (parse_uint(optarg, 1000000, &td.exit_in_dma_read) ||
			    !td.exit_in_dma_read) {
				fprintf(stderr, "sampledev: --exit-in-dma-read takes 1 to 1000000, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	path = argv[optind];

	/* Before any thread: only the signal thread takes these. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	phase_start_from_env();		/* make bench's breakdown */
	ret = td_init(&td, no_dma_fd, reply_always);
	if (ret) {
		log_err("device setup: %s", strerror(-ret));
		goto out_td;
	}
	listen_fd = vfu_listen_unix(path, err, sizeof(err));
	if (listen_fd < 0) {
		log_err("%s", err);
		goto out_td;
	}
	stop_fd = vfu_stop_on_signals(path);
	if (stop_fd < 0) {
		log_err("signal thread: %s", strerror(-stop_fd));
		close(listen_fd);
		unlink(path);
		goto out_td;
	}
	vfu_stop_server(td.srv);
	/* Scripts wait for this line: a client may connect from now on. */
	fprintf(stderr, "sampledev: listening on %s\n", path);
	log_info("%s", no_dma_fd ? "--no-dma-fd: DMA by messages only" :
				   "DMA through mapped fds when offered");
	if (td.strict)
		log_info("--strict-pci: BARs and interrupts follow the server's config space");

	fd = vfu_accept_stoppable(listen_fd, stop_fd);
	/* One client only: later ones are refused, not left queued. */
	close(listen_fd);
	if (fd == -ECANCELED) {
		status = 0;		/* stopped before any client came */
		goto out_unlink;
	}
	if (fd < 0) {
		log_err("accept: %s", strerror(-fd));
		goto out_unlink;
	}
	ret = vfu_server_attach_fd(td.srv, fd);
	if (ret) {
		log_err("client negotiation failed: %s", strerror(-ret));
		goto out_unlink;
	}
	log_info("client connected");
	ret = vfu_server_run(td.srv);
	if (!ret || (ret == -ECANCELED && vfu_stop_requested())) {
		status = 0;
		log_info("exiting: %s", ret ? "stopped" : "client gone");
	} else {
		log_err("client dropped: %s", strerror(-ret));
	}

out_unlink:
	vfu_stop_server(NULL);	/* the signal thread may not stop it now */
	vfu_stop_unlink();
out_td:
	td_fini(&td);
	phase_finish();
	return status;
}
