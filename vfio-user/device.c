// SPDX-License-Identifier: MIT
/*
 * A PCI function whose device model runs in a vfio-user server.
 *
 * uvmm emulates what a client must (docs/vfio-user.md, "What uvmm emulates"):
 * the standard header with the BARs and their sizing, the ROM
 * BAR, the MSI and MSI-X capabilities, the MSI-X table and PBA. The rest of
 * config space and every BAR access go to the server as REGION_READ/WRITE
 * on the vCPU thread, which blocks on its message until the reply, except
 * memory-BAR writes, which are posted (NO_REPLY). BAR areas the server
 * offers as mmap-able fds become KVM memslots (no exits), its ioeventfd
 * doorbells KVM ioeventfds (no exit to uvmm).
 * Interrupt eventfds are the PCI model's own: the server writes them and
 * KVM's irqfds deliver, so no uvmm thread is on the interrupt path.
 * on-error=reconnect lives in device_reconnect.c, on the state in
 * device_priv.h.
 */
#define LOG_PREFIX NULL

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "devices/pci.h"
#include "vfio-user/client.h"
#include "vfio-user/device.h"
#include "vfio-user/device_priv.h"
#include "vfio-user/discover.h"
#include "vmm/sandbox.h"
#include "vmm/vm.h"

const char *vfu_device_name(struct vfu_device *dev)
{
	return dev->name;
}

struct pci_function *vfu_device_function(struct vfu_device *dev)
{
	return dev->fn;
}

static int vfu_link(struct vfu_device *dev)
{
	return __atomic_load_n(&dev->link, __ATOMIC_ACQUIRE);
}

static bool vfu_device_dead(struct vfu_device *dev)
{
	return vfu_link(dev) == VFU_LINK_DEAD;
}

/* The link goes DEAD for good; true for the caller that made it so. */
static bool vfu_device_kill(struct vfu_device *dev)
{
	int old;

	if (!dev->reconnect)
		return __atomic_exchange_n(&dev->link, VFU_LINK_DEAD,
					   __ATOMIC_ACQ_REL) != VFU_LINK_DEAD;
	pthread_mutex_lock(&dev->lock);
	old = dev->link;
	__atomic_store_n(&dev->link, VFU_LINK_DEAD, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
	return old != VFU_LINK_DEAD;
}

/*
 * on-error=reconnect: the connection failed. Accesses wait from now on,
 * and the reconnect thread takes over (vfu_reconnect_main()).
 */
static void vfu_device_lost(struct vfu_device *dev, const char *reason)
{
	pthread_mutex_lock(&dev->lock);
	if (dev->link == VFU_LINK_UP) {
		__atomic_store_n(&dev->link, VFU_LINK_RECONNECTING,
				 __ATOMIC_RELEASE);
		dev->lost_ms = (s64)mono_ms();
		dev->deadline_ms = dev->lost_ms +
				   dev->cfg->reconnect_timeout * 1000LL;
		snprintf(dev->lost_reason, sizeof(dev->lost_reason), "%s",
			 reason);
		log_info("%s (%s): %s; reconnecting (on-error=reconnect)",
			 dev->name, dev->cfg->socket_path, reason);
		pthread_cond_broadcast(&dev->cond);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* The reconnect timeout passed: the usual end of a failed device. */
void vfu_device_give_up(struct vfu_device *dev, const char *why)
{
	if (!vfu_device_kill(dev))
		return;
	vm_request_stop(dev->vm, STATUS_DEVICE_FAILED,
			"%s (%s): %s; %s", dev->name, dev->cfg->socket_path,
			dev->lost_reason, why);
}

/*
 * The server is gone or misbehaved: from now on the device reads
 * all-ones. Stop the VM unless the user asked to go on without it, or
 * to wait for the server to come back (a lost connection only).
 */
static void vfu_device_failed(struct vfu_device *dev, const char *reason,
			      bool lost)
{
	if (dev->reconnect && lost) {
		vfu_device_lost(dev, reason);
		return;
	}
	if (!vfu_device_kill(dev))
		return;
	if (dev->cfg->on_error == DEVICE_ON_ERROR_CONTINUE) {
		log_err("%s (%s): %s; the device is dead, guest reads of it return all-ones (on-error=continue)",
			dev->name, dev->cfg->socket_path, reason);
		return;
	}
	vm_request_stop(dev->vm, STATUS_DEVICE_FAILED, "%s (%s): %s",
			dev->name, dev->cfg->socket_path, reason);
}

static void vfu_device_on_dead(void *opaque, int err, const char *reason)
{
	(void)err;
	vfu_device_failed(opaque, reason, true);
}

/*
 * The client for one access to the server. While the device reconnects
 * this waits, bounded by the reconnect timeout (then the device is given
 * up). NULL: the device is dead. Every non-NULL return needs a
 * vfu_device_put().
 */
static struct vfu_client *vfu_device_get(struct vfu_device *dev)
{
	struct vfu_client *c = NULL;
	struct timespec ts;
	bool expired = false;

	if (!dev->reconnect)
		return vfu_device_dead(dev) ? NULL : dev->client;
	pthread_mutex_lock(&dev->lock);
	while (dev->link == VFU_LINK_RECONNECTING && !dev->stopping) {
		s64 now = (s64)mono_ms(), wake;

		if (now >= dev->deadline_ms) {
			expired = true;
			break;
		}
		/* A VM that stops (Ctrl-A x, a signal) stops waiting too. */
		if (vm_stopping(dev->vm))
			break;
		wake = MIN(dev->deadline_ms, now + 100);
		ts.tv_sec = wake / 1000;
		ts.tv_nsec = wake % 1000 * 1000000;
		pthread_cond_timedwait(&dev->cond, &dev->lock, &ts);
	}
	if (dev->link == VFU_LINK_UP && !dev->stopping) {
		dev->users++;
		c = dev->client;
	}
	pthread_mutex_unlock(&dev->lock);
	if (expired)
		vfu_device_give_up(dev, "the server did not come back within the reconnect-timeout");
	return c;
}

/* The client if the link is up now, without waiting; NULL otherwise. */
static struct vfu_client *vfu_device_try_get(struct vfu_device *dev)
{
	struct vfu_client *c = NULL;

	if (!dev->reconnect)
		return vfu_device_dead(dev) ? NULL : dev->client;
	pthread_mutex_lock(&dev->lock);
	if (dev->link == VFU_LINK_UP && !dev->stopping) {
		dev->users++;
		c = dev->client;
	}
	pthread_mutex_unlock(&dev->lock);
	return c;
}

/*
 * Ends the use of c. Returns whether the access that returned ret should
 * be made again: the connection was lost and the device reconnects, so
 * the next vfu_device_get() waits for the server to come back.
 */
static bool vfu_device_put(struct vfu_device *dev, struct vfu_client *c,
			   int ret)
{
	bool again;

	if (!dev->reconnect)
		return false;
	again = ret && vfu_client_get_state(c) != VFU_CLIENT_CONNECTED;
	pthread_mutex_lock(&dev->lock);
	if (!--dev->users)
		pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
	return again;
}

/* A request failed: a dead connection has already been reported. */
static void vfu_device_request_failed(struct vfu_device *dev, const char *what,
				      int ret)
{
	if (vfu_client_get_state(dev->client) != VFU_CLIENT_CONNECTED) {
		vfu_device_failed(dev, vfu_client_error_string(dev->client),
				  true);
		return;
	}
	/* An error reply: that access fails, the device lives on. */
	log_debug("%s: %s: %s", dev->name, what, strerror(-ret));
}

/* ---- guest memory for the server's DMA_READ/DMA_WRITE ------------------- */

static int vfu_device_dma_read(void *opaque, u64 addr, void *buf, u64 len)
{
	struct vfu_device *dev = opaque;
	void *hva = gpa_to_hva(dev->vm, addr, len);

	if (!hva)
		return -EFAULT;
	memcpy(buf, hva, len);
	return 0;
}

static int vfu_device_dma_write(void *opaque, u64 addr, const void *buf,
				u64 len)
{
	struct vfu_device *dev = opaque;
	void *hva = gpa_to_hva(dev->vm, addr, len);

	if (!hva)
		return -EFAULT;
	memcpy(hva, buf, len);
	return 0;
}

static const struct vfu_client_dma_ops vfu_device_dma_ops = {
	.read = vfu_device_dma_read,
	.write = vfu_device_dma_write,
};

/* ---- config space --------------------------------------------------------- */

u32 config_get(const struct vfu_device *dev, u32 off, u32 len)
{
	return vfu_offer_config(&dev->offer, off, len);
}

/* Registers uvmm emulates itself; everything else is the server's. */
static bool vfu_config_emulated(struct vfu_device *dev, u32 off)
{
	if (off < PCI_STD_HEADER_SIZEOF)
		return true;
	if (dev->msi_cap && off >= dev->msi_cap &&
	    off < (u32)dev->msi_cap + dev->msi_cap_size)
		return true;
	if (dev->msix_cap && off >= dev->msix_cap &&
	    off < (u32)dev->msix_cap + PCI_CAP_MSIX_SIZEOF)
		return true;
	return false;
}

/* What a read of len bytes returns from a device that is not there. */
static u32 all_ones(u32 len)
{
	return len >= 4 ? 0xffffffff : (1u << (len * 8)) - 1;
}

static bool vfu_config_read(struct pci_function *fn, u32 off, u32 len,
			    u32 *val)
{
	struct vfu_device *dev = pci_function_priv(fn);
	int ret;

	if (vfu_device_dead(dev)) {
		*val = all_ones(len);
		return true;
	}
	if (vfu_config_emulated(dev, off))
		return false;
	if (off + len > dev->offer.config_size) {
		*val = all_ones(len);
		return true;
	}
	do {
		struct vfu_client *c = vfu_device_get(dev);

		if (!c) {
			*val = all_ones(len);
			return true;
		}
		*val = 0;
		ret = vfu_client_region_read(c, VFU_PCI_CONFIG, off, val, len);
		if (ret)
			vfu_device_request_failed(dev, "config read", ret);
		if (!vfu_device_put(dev, c, ret))
			break;
	} while (true);
	if (ret)
		*val = all_ones(len);
	return true;
}

/*
 * The server keeps a PCI model of its own and acts on it: QEMU's, for
 * one, resolves a BAR access through the BAR's address in its own config
 * space and drops it unless memory decoding is on there, and fires an
 * MSI-X vector only when MSI-X is enabled and not function-masked there.
 * So a write uvmm emulates is also written through to the server, as it
 * came, in the guest's order (BARs and the ROM BAR before the COMMAND
 * write that turns decoding on, as on a real bus); uvmm's own BAR
 * assignment at start goes the same way. The server applies its own
 * write masks. An error reply drops the server's copy of that write
 * (servers that emulate nothing refuse some: libvfio-user's samples);
 * uvmm's emulation is what the guest sees either way.
 */
static void vfu_config_write_through(struct vfu_device *dev, u32 off, u32 len,
				     u32 val)
{
	struct vfu_client *c;
	int ret;

	if (off + len > dev->offer.config_size)
		return;
	/* While reconnecting, the replay carries it (vfu_config_record()). */
	c = vfu_device_try_get(dev);
	if (!c)
		return;
	ret = vfu_client_region_write(c, VFU_PCI_CONFIG, off, &val, len);
	if (ret)
		vfu_device_request_failed(dev, "config write-through", ret);
	vfu_device_put(dev, c, ret);
}

/*
 * on-error=reconnect: what the guest wrote to the registers uvmm emulates
 * is kept, for the replay to write through to a server that comes back.
 */
static void vfu_config_record(struct vfu_device *dev, u32 off, u32 len,
			      u32 val)
{
	u32 i;

	if (!dev->reconnect)
		return;
	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < len && off + i < PCI_LEGACY_CONFIG_SIZE; i++) {
		dev->shadow[off + i] = val >> (8 * i);
		dev->shadow_set[off + i] = true;
	}
	dev->seq++;
	pthread_mutex_unlock(&dev->lock);
}

/*
 * COMMAND goes to the server whole, masked to the bits a server accepts
 * (docs/vfio-user.md, "Config space"): a write of one byte of the register
 * (0x04 or 0x05) is merged into the current value first.
 */
static void vfu_config_write_command(struct vfu_device *dev, u32 off, u32 len,
				     u32 val)
{
	struct pci_function *fn = dev->fn;
	struct vfu_client *c;
	u16 command;
	int ret;

	command = pci_config_emulated_read(fn, PCI_COMMAND, 2);
	if (off == PCI_COMMAND)
		command = len == 1 ? (command & 0xff00) | (val & 0xff) : val;
	else
		command = (command & 0x00ff) | (val & 0xff) << 8;
	command &= VFU_COMMAND_MASK;
	if (dev->reconnect) {
		pthread_mutex_lock(&dev->lock);
		dev->command = command;
		dev->command_set = true;
		dev->seq++;
		pthread_mutex_unlock(&dev->lock);
	}
	c = vfu_device_try_get(dev);
	if (c) {
		ret = vfu_client_region_write(c, VFU_PCI_CONFIG, PCI_COMMAND,
					      &command, 2);
		if (ret)
			vfu_device_request_failed(dev, "command write", ret);
		vfu_device_put(dev, c, ret);
	}
	/* A dword write at 0x04 carries STATUS too (its write-1-to-clear bits). */
	if (off == PCI_COMMAND && len == 4)
		vfu_config_write_through(dev, PCI_STATUS, 2, val >> 16);
}

static bool vfu_config_write(struct pci_function *fn, u32 off, u32 len,
			     u32 val)
{
	struct vfu_device *dev = pci_function_priv(fn);
	int ret;

	if (vfu_device_dead(dev))
		return true;	/* dropped */
	if (off < PCI_COMMAND + 2 && PCI_COMMAND < off + len) {
		vfu_config_write_command(dev, off, len, val);
		return false;
	}
	if (vfu_config_emulated(dev, off)) {
		/* The model applies it too (return false). */
		vfu_config_record(dev, off, len, val);
		vfu_config_write_through(dev, off, len, val);
		return false;
	}
	if (off + len > dev->offer.config_size)
		return true;
	do {
		struct vfu_client *c = vfu_device_get(dev);

		if (!c)
			return true;
		ret = vfu_client_region_write(c, VFU_PCI_CONFIG, off, &val,
					      len);
		/* An error reply drops the write (docs/vfio-user.md, "Config space"). */
		if (ret)
			vfu_device_request_failed(dev, "config write", ret);
		if (!vfu_device_put(dev, c, ret))
			break;
	} while (true);
	return true;
}

/* ---- BARs ----------------------------------------------------------------- */

/*
 * A guest's BAR access failed. A dead connection is the device's end. An
 * error reply means the server refused this access (QEMU's does while the
 * BAR is not programmed or decoding is off in its own config space): the
 * guest cannot be given a true value, so with on-error=stop that ends the
 * VM (status 10) naming the access; with on-error=continue the access
 * reads all-ones or is dropped, said once per device.
 */
static void vfu_bar_access_failed(struct vfu_device *dev, bool write,
				  unsigned int bar, u64 off, u32 len, int ret)
{
	char what[128], region[8];

	if (vfu_client_get_state(dev->client) != VFU_CLIENT_CONNECTED) {
		vfu_device_failed(dev, vfu_client_error_string(dev->client),
				  true);
		return;
	}
	if (bar == PCI_ROM_BAR)
		snprintf(region, sizeof(region), "ROM");
	else
		snprintf(region, sizeof(region), "BAR%u", bar);
	snprintf(what, sizeof(what),
		 "the server refused the guest's %s %s offset 0x%llx size %u: %s",
		 region, write ? "write at" : "read at",
		 (unsigned long long)off, len, strerror(-ret));
	if (dev->cfg->on_error != DEVICE_ON_ERROR_CONTINUE) {
		vfu_device_failed(dev, what, false);
		return;
	}
	if (__atomic_exchange_n(&dev->bar_error_logged, true, __ATOMIC_ACQ_REL)) {
		log_debug("%s: %s", dev->name, what);
		return;
	}
	log_err("%s (%s): %s; %s (on-error=continue, said once)", dev->name,
		dev->cfg->socket_path, what,
		write ? "dropped" : "it reads all-ones");
}

static void vfu_bar_read(struct pci_function *fn, unsigned int bar, u64 off,
			 void *data, u32 len)
{
	struct vfu_device *dev = pci_function_priv(fn);
	int ret;

	do {
		struct vfu_client *c = vfu_device_get(dev);

		if (!c) {
			memset(data, 0xff, len);
			return;
		}
		ret = vfu_client_region_read(c, bar, off, data, len);
		if (ret)
			vfu_bar_access_failed(dev, false, bar, off, len, ret);
		if (!vfu_device_put(dev, c, ret))
			break;
	} while (true);
	if (ret)
		memset(data, 0xff, len);
}

/*
 * A memory BAR write is posted, as on PCI: the vCPU goes on once the
 * message is sent. A later read of the device (same socket) still sees
 * it done; an effect the guest looks for in RAM or a mapped area needs
 * such a read first, as with real posted writes. I/O BAR writes are
 * non-posted on PCI and stay so.
 */
static void vfu_bar_write(struct pci_function *fn, unsigned int bar, u64 off,
			  const void *data, u32 len)
{
	struct vfu_device *dev = pci_function_priv(fn);
	int ret;

	do {
		struct vfu_client *c = vfu_device_get(dev);

		if (!c)
			return;
		if (bar < PCI_NUM_BARS && dev->regions[bar].posted)
			ret = vfu_client_region_write_posted(c, bar, off, data,
							     len);
		else
			ret = vfu_client_region_write(c, bar, off, data, len);
		if (ret)
			vfu_bar_access_failed(dev, true, bar, off, len, ret);
		if (!vfu_device_put(dev, c, ret))
			break;
	} while (true);
}

static void vfu_area_unmap(struct vfu_device *dev, struct vfu_mmap_area *area)
{
	int ret;

	if (!area->installed)
		return;
	ret = vm_memslot_set(dev->vm, area->slot, 0, 0, NULL);
	if (ret)
		log_warn("%s: cannot remove memslot %d: %s", dev->name,
			 area->slot, strerror(-ret));
	area->installed = false;
}

/* ---- ioeventfd doorbells ------------------------------------------------ */

/* Whether [off, off + len) of bar touches the MSI-X table or PBA. */
static bool vfu_over_msix(struct vfu_device *dev, unsigned int bar, u64 off,
			  u64 len)
{
	u32 table, pba;
	u64 nr;

	if (!dev->msix_cap)
		return false;
	table = config_get(dev, dev->msix_cap + PCI_MSIX_TABLE, 4);
	pba = config_get(dev, dev->msix_cap + PCI_MSIX_PBA, 4);
	nr = (config_get(dev, dev->msix_cap + PCI_MSIX_FLAGS, 2) &
	      PCI_MSIX_FLAGS_QSIZE) + 1;
	if ((table & PCI_MSIX_TABLE_BIR) == bar &&
	    off < (table & PCI_MSIX_TABLE_OFFSET) + nr * PCI_MSIX_ENTRY_SIZE &&
	    (table & PCI_MSIX_TABLE_OFFSET) < off + len)
		return true;
	return (pba & PCI_MSIX_PBA_BIR) == bar &&
	       off < (pba & PCI_MSIX_PBA_OFFSET) + DIV_ROUND_UP(nr, 64) * 8 &&
	       (pba & PCI_MSIX_PBA_OFFSET) < off + len;
}

/* Why an entry cannot be a KVM ioeventfd, or NULL when it can. */
static const char *vfu_ioeventfd_refusal(struct vfu_device *dev,
					 unsigned int bar,
					 const struct vfu_io_fd_entry *e,
					 unsigned int nr_fds)
{
	u64 size = dev->regions[bar].size;

	if (e->type == VFU_IO_FD_IOREGIONFD ||
	    e->type == VFU_IO_FD_IOEVENTFD_SHADOW)
		return "IOREGIONFD and shadow ioeventfds are not in mainline KVM";
	if (e->type != VFU_IO_FD_IOEVENTFD)
		return "unknown type";
	if (e->fd_index >= nr_fds)
		return "fd_index beyond the fds sent";
	if (e->size != 1 && e->size != 2 && e->size != 4 && e->size != 8)
		return "size is not 1, 2, 4 or 8";
	if (e->offset > size || e->size > size - e->offset)
		return "outside the region";
	if (e->flags & ~(VFU_IO_FD_F_DATAMATCH | VFU_IO_FD_F_PIO))
		return "unknown flags";
	if (vfu_over_msix(dev, bar, e->offset, e->size))
		return "over the MSI-X table or PBA, which uvmm emulates";
	return NULL;
}

/*
 * DEVICE_GET_REGION_IO_FDS for one BAR: the entries KVM can take are kept
 * (their memslot-like registration follows the BAR in vfu_bar_remap());
 * the others are refused with a warning and those writes simply trap. A
 * server that has none answers an error or an empty list.
 */
static int vfu_region_take_ioeventfds(struct vfu_device *dev,
				      unsigned int bar)
{
	struct vfu_device_region *region = &dev->regions[bar];
	struct vfu_io_fd_entry entries[VFU_MAX_IOEVENTFDS];
	int fds[VFU_MAX_IOEVENTFDS];
	unsigned int nr_fds = 0, i;
	const char *why;
	int n;

	n = vfu_client_region_io_fds(dev->client, bar, entries,
				     ARRAY_SIZE(entries), fds, ARRAY_SIZE(fds),
				     &nr_fds);
	if (n < 0) {
		if (vfu_client_get_state(dev->client) != VFU_CLIENT_CONNECTED)
			return n;
		if (n == -E2BIG)
			log_warn("%s: BAR%u: more than %u io fds: its doorbells trap",
				 dev->name, bar, VFU_MAX_IOEVENTFDS);
		else
			log_debug("%s: BAR%u: no io fds (%s)", dev->name, bar,
				  strerror(-n));
		return 0;
	}
	for (i = 0; i < (unsigned int)n; i++) {
		const struct vfu_io_fd_entry *e = &entries[i];
		struct vfu_doorbell *io;

		why = vfu_ioeventfd_refusal(dev, bar, e, nr_fds);
		if (why) {
			log_warn("%s: BAR%u io fd [%#llx, +%llu) type %u refused: %s; those writes trap",
				 dev->name, bar, (unsigned long long)e->offset,
				 (unsigned long long)e->size, e->type, why);
			continue;
		}
		io = &region->ioeventfds[region->nr_ioeventfds];
		/* Entries may share an fd: each keeps its own. */
		io->fd = fcntl(fds[e->fd_index], F_DUPFD_CLOEXEC, 0);
		if (io->fd < 0) {
			log_warn("%s: BAR%u io fd: %s; those writes trap",
				 dev->name, bar, strerror(errno));
			continue;
		}
		io->offset = e->offset;
		io->len = (u32)e->size;
		io->match = e->flags & VFU_IO_FD_F_DATAMATCH;
		io->datamatch = e->datamatch;
		io->installed = false;
		region->nr_ioeventfds++;
	}
	for (i = 0; i < nr_fds; i++)
		close(fds[i]);
	if (region->nr_ioeventfds)
		log_debug("%s: BAR%u: %u doorbells taken as KVM ioeventfds (installed while the BAR decodes)",
			  dev->name, bar, region->nr_ioeventfds);
	return 0;
}

int vfu_device_take_ioeventfds(struct vfu_device *dev, char *err,
			       size_t err_len)
{
	unsigned int i;
	int ret;

	if (!vm_has_ioeventfd(dev->vm)) {
		log_debug("%s: KVM offers no ioeventfds: every doorbell traps",
			  dev->name);
		return 0;
	}
	for (i = 0; i < PCI_NUM_BARS; i++) {
		if (!dev->regions[i].size)
			continue;
		ret = vfu_region_take_ioeventfds(dev, i);
		if (ret) {
			snprintf(err, err_len, "%s: BAR%u io fds: %s", dev->name,
				 i, vfu_client_error_string(dev->client));
			return ret;
		}
	}
	return 0;
}

/* The BAR moved or stopped decoding: its ioeventfds follow it. */
static void vfu_bar_move_ioeventfds(struct vfu_device *dev, unsigned int bar,
				    struct pci_bar_window new_win)
{
	struct vfu_device_region *region = &dev->regions[bar];
	unsigned int i;
	int ret;

	for (i = 0; i < region->nr_ioeventfds; i++) {
		struct vfu_doorbell *io = &region->ioeventfds[i];

		if (io->installed) {
			ret = vm_ioeventfd(dev->vm, &io->kvm, false);
			if (ret)
				log_warn("%s: BAR%u: removing ioeventfd at %#llx: %s",
					 dev->name, bar,
					 (unsigned long long)io->kvm.addr,
					 strerror(-ret));
			io->installed = false;
		}
		if (!new_win.on || vfu_device_dead(dev))
			continue;
		io->kvm = (struct vm_ioeventfd){
			.addr = new_win.addr + io->offset,
			.len = io->len,
			.fd = io->fd,
			.pio = pci_bar_type(dev->fn, bar) == PCI_BAR_IO,
			.match = io->match,
			.datamatch = io->datamatch,
		};
		ret = vm_ioeventfd(dev->vm, &io->kvm, true);
		if (ret) {
			log_warn("%s: BAR%u doorbell at %#llx stays trapped: ioeventfd: %s",
				 dev->name, bar, (unsigned long long)io->kvm.addr,
				 strerror(-ret));
			continue;
		}
		io->installed = true;
		log_debug("%s: BAR%u doorbell at %#llx, %u bytes%s: ioeventfd, no exits to uvmm",
			  dev->name, bar, (unsigned long long)io->kvm.addr,
			  io->len, io->match ? ", datamatch" : "");
	}
}

/* With the device: unregistered, closed. */
static void vfu_device_drop_ioeventfds(struct vfu_device *dev)
{
	struct pci_bar_window off = { .on = false };
	unsigned int i, j;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct vfu_device_region *region = &dev->regions[i];

		vfu_bar_move_ioeventfds(dev, i, off);
		for (j = 0; j < region->nr_ioeventfds; j++)
			close(region->ioeventfds[j].fd);
		region->nr_ioeventfds = 0;
	}
}

/*
 * The BAR moved or its decoding changed: its mmap-able areas follow as
 * memslots. A guest may place a BAR over RAM or another BAR; KVM refuses
 * the overlapping memslot and those accesses simply keep trapping.
 */
void vfu_bar_place(struct vfu_device *dev, unsigned int bar,
		   struct pci_bar_window new_win)
{
	struct vfu_device_region *region;
	unsigned int i;
	int ret;

	vfu_bar_move_ioeventfds(dev, bar, new_win);
	region = &dev->regions[bar];
	for (i = 0; i < region->nr_areas; i++) {
		struct vfu_mmap_area *area = &region->areas[i];

		vfu_area_unmap(dev, area);
		if (!new_win.on || vfu_device_dead(dev))
			continue;
		ret = vm_memslot_set(dev->vm, area->slot,
				     new_win.addr + area->offset, area->size,
				     area->hva);
		if (ret) {
			log_warn("%s: BAR%u area at %#llx stays trapped: memslot: %s",
				 dev->name, bar,
				 (unsigned long long)(new_win.addr + area->offset),
				 strerror(-ret));
			continue;
		}
		area->installed = true;
		log_debug("%s: BAR%u [%#llx, +%#llx) mapped, no exits",
			  dev->name, bar,
			  (unsigned long long)(new_win.addr + area->offset),
			  (unsigned long long)area->size);
	}
}

/*
 * With on-error=reconnect the window is kept for the replay, and nothing
 * is placed while the device reconnects (its areas and doorbells are the
 * old server's, already taken out of the guest).
 */
static void vfu_bar_remap(struct pci_function *fn, unsigned int bar,
			  struct pci_bar_window old_win,
			  struct pci_bar_window new_win)
{
	struct vfu_device *dev = pci_function_priv(fn);

	(void)old_win;
	if (bar >= VFU_OFFER_REGIONS)
		return;
	if (!dev->reconnect) {
		vfu_bar_place(dev, bar, new_win);
		return;
	}
	pthread_mutex_lock(&dev->lock);
	if (bar < PCI_NUM_BARS) {
		dev->bar_win[bar] = new_win;
		dev->seq++;
	}
	if (dev->link == VFU_LINK_UP)
		vfu_bar_place(dev, bar, new_win);
	pthread_mutex_unlock(&dev->lock);
}

/* ---- interrupts ----------------------------------------------------------- */

static int vfu_irq_index_of(enum pci_irq_mode mode)
{
	switch (mode) {
	case PCI_IRQ_MSI:
		return VFU_IRQ_MSI;
	case PCI_IRQ_MSIX:
		return VFU_IRQ_MSIX;
	case PCI_IRQ_INTX:
	default:
		return VFU_IRQ_INTX;
	}
}

/* Hands the server the eventfds of mode's vectors (the model's own). */
int vfu_irq_assign(struct vfu_device *dev, enum pci_irq_mode mode,
		   unsigned int nr)
{
	int index = vfu_irq_index_of(mode);
	int fds[PCI_MSIX_MAX_VECTORS];
	unsigned int i;
	int ret;

	nr = MIN(nr, dev->offer.irq_count[index]);
	if (!nr)
		return 0;
	for (i = 0; i < nr; i++) {
		if (mode == PCI_IRQ_MSI)
			fds[i] = pci_msi_eventfd(dev->fn, i);
		else if (mode == PCI_IRQ_MSIX)
			fds[i] = pci_msix_eventfd(dev->fn, i);
		else if (dev->intx_trigger_fd >= 0)
			fds[i] = dev->intx_trigger_fd;
		else if (pci_intx_eventfds(dev->fn, &fds[i], NULL))
			fds[i] = -1;
		if (fds[i] < 0)
			return -ENODEV;
	}
	ret = vfu_client_set_irqs(dev->client, index,
				  VFU_IRQ_SET_DATA_EVENTFD |
				  VFU_IRQ_SET_ACTION_TRIGGER, 0, nr, fds,
				  NULL);
	if (ret)
		return ret;
	dev->server_irq_index = index;
	dev->server_irq_count = nr;
	return 0;
}

/*
 * De-assign from start 0 only, and never for an index the server has no
 * vectors of: libvfio-user mishandles both (docs/vfio-user.md, "Interrupts").
 */
static int vfu_irq_release(struct vfu_device *dev)
{
	int ret;

	if (dev->server_irq_index < 0)
		return 0;
	ret = vfu_client_set_irqs(dev->client, dev->server_irq_index,
				  VFU_IRQ_SET_DATA_NONE |
				  VFU_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL, NULL);
	dev->server_irq_index = -1;
	dev->server_irq_count = 0;
	return ret;
}

/* ---- interrupt masks: the server's copy ------------------------------------ */

static bool vfu_vector_masked(struct vfu_device *dev, int index,
			      unsigned int vector)
{
	if (index == VFU_IRQ_MSIX)
		return dev->msix_masked[vector];
	return dev->msi_mask & (1u << vector);
}

/*
 * Whether the server gets index's per-vector masks: only while it holds
 * the eventfds of that index (an unmask may fire a pending vector at
 * once), and for MSI only with per-vector masking, since QEMU's server
 * writes an MSI without it past the end of its capability.
 */
static bool vfu_masks_wanted(struct vfu_device *dev, int index)
{
	if (dev->server_irq_index != index || !dev->server_irq_count)
		return false;
	return index == VFU_IRQ_MSIX || (index == VFU_IRQ_MSI && dev->msi_pvm);
}

/*
 * Brings the server's masks of vectors [0, top] in line with the guest's,
 * by SET_IRQS MASK/UNMASK of ranges that all start at vector 0: QEMU
 * 7.2's server loops `for (vector = start; vector < count; ...)`
 * (vfu_msix_irq_state), so a range [s, s + n) with s > 0 reaches vectors
 * [s, n) there and [s, s + n) elsewhere; [0, n) means the same to both.
 * From top down, each range sets [0, k] to vector k's state whenever it
 * differs from vector k + 1's: vector k's last word is its own. One
 * message when [0, top] agree, as when a driver unmasks its vectors in
 * order. Servers without mask state accept and ignore these
 * (libvfio-user without an irq_state callback).
 */
void vfu_irq_push_masks(struct vfu_device *dev, int index,
			unsigned int top)
{
	bool cur = false, want;
	unsigned int k;
	int ret;

	if (!vfu_masks_wanted(dev, index) || vfu_device_dead(dev))
		return;
	top = MIN(top, dev->server_irq_count - 1);
	for (k = top + 1; k-- > 0;) {
		want = vfu_vector_masked(dev, index, k);
		if (k != top && want == cur)
			continue;
		ret = vfu_client_set_irqs(dev->client, index,
					  VFU_IRQ_SET_DATA_NONE |
					  (want ? VFU_IRQ_SET_ACTION_MASK :
					   VFU_IRQ_SET_ACTION_UNMASK),
					  0, k + 1, NULL, NULL);
		if (ret) {
			vfu_device_request_failed(dev, want ? "SET_IRQS mask" :
						  "SET_IRQS unmask", ret);
			return;
		}
		cur = want;
	}
}

/* The model's hook: the guest flipped one vector's mask bit. */
static void vfu_vector_mask_changed(struct pci_function *fn,
				    enum pci_irq_mode mode,
				    unsigned int vector, bool masked)
{
	struct vfu_device *dev = pci_function_priv(fn);
	int index = vfu_irq_index_of(mode);

	struct vfu_client *c;

	if (index == VFU_IRQ_MSIX ? vector >= dev->msix_nr :
	    index != VFU_IRQ_MSI || vector >= 32)
		return;
	if (dev->reconnect)
		pthread_mutex_lock(&dev->lock);
	if (index == VFU_IRQ_MSIX)
		dev->msix_masked[vector] = masked;
	else
		dev->msi_mask = masked ? dev->msi_mask | 1u << vector :
					 dev->msi_mask & ~(1u << vector);
	if (dev->reconnect) {
		dev->seq++;
		pthread_mutex_unlock(&dev->lock);
	}
	/* While reconnecting, the replay pushes every mask. */
	c = vfu_device_try_get(dev);
	if (!c)
		return;
	vfu_irq_push_masks(dev, index, vector);
	vfu_device_put(dev, c, 0);
}

static void vfu_irq_mode_changed(struct pci_function *fn,
				 enum pci_irq_mode mode, unsigned int nr)
{
	struct vfu_device *dev = pci_function_priv(fn);
	struct vfu_client *c;
	int ret;

	if (dev->reconnect) {
		pthread_mutex_lock(&dev->lock);
		dev->want_mode = mode;
		dev->want_nr = nr;
		dev->seq++;
		pthread_mutex_unlock(&dev->lock);
	}
	/* While reconnecting, the replay assigns what the guest enabled. */
	c = vfu_device_try_get(dev);
	if (!c)
		return;
	/* The server shares one eventfd table between the kinds: release first. */
	ret = vfu_irq_release(dev);
	if (!ret)
		ret = vfu_irq_assign(dev, mode, nr);
	if (ret) {
		vfu_device_request_failed(dev, "SET_IRQS", ret);
		vfu_device_put(dev, c, ret);
		return;
	}
	/* Its eventfds in place, the server learns which vectors may fire. */
	if (mode != PCI_IRQ_INTX && dev->server_irq_count)
		vfu_irq_push_masks(dev, dev->server_irq_index,
				   dev->server_irq_count - 1);
	vfu_device_put(dev, c, 0);
}

/*
 * INTx is level-triggered: after the guest's EOI, KVM dropped the line
 * and the host's resample thread calls this; the server signals the line
 * again if it is still asserted (SET_IRQS UNMASK of INTx).
 */
static void vfu_intx_resampled(struct pci_function *fn)
{
	struct vfu_device *dev = pci_function_priv(fn);
	struct vfu_client *c;
	int ret;

	if (__atomic_load_n(&dev->intx_trigger_fd, __ATOMIC_ACQUIRE) < 0)
		return;		/* the server never had the line */
	/* A server that came back starts with its line low. */
	c = vfu_device_try_get(dev);
	if (!c)
		return;
	ret = vfu_client_set_irqs(c, VFU_IRQ_INTX, VFU_IRQ_SET_DATA_NONE |
				  VFU_IRQ_SET_ACTION_UNMASK, 0, 1, NULL, NULL);
	if (ret)
		vfu_device_request_failed(dev, "INTx unmask", ret);
	vfu_device_put(dev, c, ret);
}

static const struct pci_function_ops vfu_function_ops = {
	.config_read = vfu_config_read,
	.config_write = vfu_config_write,
	.bar_read = vfu_bar_read,
	.bar_write = vfu_bar_write,
	.bar_remap = vfu_bar_remap,
	.irq_mode_changed = vfu_irq_mode_changed,
	.vector_mask_changed = vfu_vector_mask_changed,
	.intx_resampled = vfu_intx_resampled,
};

/* ---- connect time ----------------------------------------------------------- */

void vfu_device_client_options(struct vfu_device *dev,
			       struct vfu_client_options *opts)
{
	*opts = (struct vfu_client_options){
		.name = dev->name,
		.timeout_ms = dev->cfg->timeout_ms,
		.dma_ops = &vfu_device_dma_ops,
		.dma_opaque = dev,
		.on_dead = vfu_device_on_dead,
		.dead_opaque = dev,
		.quiet_death = dev->cfg->on_error == DEVICE_ON_ERROR_RECONNECT,
		.poll_us = dev->cfg->poll_us,
	};
}

static int vfu_device_connect(struct vfu_device *dev, char *err,
			      size_t err_len)
{
	char why[320] = "";
	struct vfu_client_options opts;
	s64 deadline = (s64)mono_ms() + dev->cfg->wait_seconds * 1000LL;
	int ret;

	vfu_device_client_options(dev, &opts);
	opts.err = why;
	opts.err_len = sizeof(why);
	for (;;) {
		ret = vfu_client_connect(dev->cfg->socket_path, &opts,
					 &dev->client);
		if (!ret)
			return 0;
		/* wait=S: the server may still be starting. */
		if ((ret != -ENOENT && ret != -ECONNREFUSED) ||
		    (s64)mono_ms() >= deadline)
			break;
		usleep(VFU_CONNECT_RETRY_MS * 1000);
	}
	snprintf(err, err_len, "%s: cannot connect to %s: %s%s", dev->name,
		 dev->cfg->socket_path, why[0] ? why : strerror(-ret),
		 dev->cfg->wait_seconds && !why[0] ? " (gave up after wait)" :
						     "");
	return ret;
}

/* Every RAM region, by its memfd: the server maps guest RAM, zero-copy. */
int vfu_device_map_ram(struct vfu_device *dev, char *err,
		       size_t err_len)
{
	const struct guest_memory *mem = &dev->vm->mem;
	unsigned int i;
	int ret;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		ret = vfu_client_dma_map(dev->client, r->gpa, r->size,
					 mem->memfd, r->fd_offset,
					 VFU_DMA_MAP_F_READ |
					 VFU_DMA_MAP_F_WRITE);
		if (ret) {
			snprintf(err, err_len, "%s: DMA_MAP of RAM [%#llx, +%#llx): %s",
				 dev->name, (unsigned long long)r->gpa,
				 (unsigned long long)r->size,
				 vfu_client_error(dev->client) ?
				 vfu_client_error_string(dev->client) :
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Maps one region's sparse areas (their memslots come with the BAR's address). */
static int vfu_region_map_areas(struct vfu_device *dev, unsigned int index,
				const struct vfu_offer_region *info)
{
	struct vfu_device_region *region = &dev->regions[index];
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	unsigned int i;

	if (info->fd < 0 || !info->caps.has_sparse)
		return 0;
	if (fstat(info->fd, &st) < 0)
		return -errno;
	for (i = 0; i < info->caps.nr_areas; i++) {
		const struct vfu_sparse_area *a = &info->caps.areas[i];
		struct vfu_mmap_area *area = &region->areas[region->nr_areas];
		u64 file_off = info->fd_offset + a->offset;

		/* Only whole pages inside the BAR and inside the file. */
		if (!a->size || a->offset % page || a->size % page ||
		    a->offset + a->size > region->size ||
		    file_off < info->fd_offset ||
		    (S_ISREG(st.st_mode) &&
		     file_off + a->size > (u64)st.st_size)) {
			log_warn("%s: region %u: sparse area [%#llx, +%#llx) unusable: trapping it instead",
				 dev->name, index,
				 (unsigned long long)a->offset,
				 (unsigned long long)a->size);
			continue;
		}
		area->hva = mmap(NULL, a->size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, info->fd, file_off);
		if (area->hva == MAP_FAILED) {
			log_warn("%s: region %u: mmap of area [%#llx, +%#llx): %s: trapping it instead",
				 dev->name, index,
				 (unsigned long long)a->offset,
				 (unsigned long long)a->size, strerror(errno));
			continue;
		}
		area->slot = vm_memslot_alloc(dev->vm);
		if (area->slot < 0) {
			munmap(area->hva, a->size);
			continue;
		}
		area->offset = a->offset;
		area->size = a->size;
		region->nr_areas++;
	}
	return 0;
}

/* The BARs' mmap-able areas of an offer, mapped into uvmm. */
int vfu_device_map_areas(struct vfu_device *dev,
			 const struct vfu_offer *offer, char *err,
			 size_t err_len)
{
	unsigned int i;
	int ret;

	for (i = 0; i < VFU_OFFER_REGIONS; i++) {
		dev->regions[i].size = offer->regions[i].size;
		dev->regions[i].flags = offer->regions[i].flags;
		if (i >= PCI_NUM_BARS)
			continue;
		ret = vfu_region_map_areas(dev, i, &offer->regions[i]);
		if (ret) {
			snprintf(err, err_len, "%s: region %u: %s", dev->name,
				 i, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* posted-writes=on: every memory BAR's trapped writes are posted. */
static void vfu_device_choose_posting(struct vfu_device *dev,
				      const struct pci_function_info *info)
{
	unsigned int i;

	for (i = 0; i < PCI_NUM_BARS; i++)
		dev->regions[i].posted = dev->cfg->posted_writes &&
					 info->bars[i].size &&
					 info->bars[i].type != PCI_BAR_IO;
}

/* The BAR types are the server's config space's; the sizes its regions'. */
static int vfu_device_describe(struct vfu_device *dev,
			       struct pci_function_info *info, char *err,
			       size_t err_len)
{
	unsigned int i;

	memset(info, 0, sizeof(*info));
	info->name = dev->name;
	info->vendor_id = config_get(dev, PCI_VENDOR_ID, 2);
	info->device_id = config_get(dev, PCI_DEVICE_ID, 2);
	info->revision = config_get(dev, PCI_REVISION_ID, 1);
	info->class_code = config_get(dev, PCI_CLASS_REVISION, 4) >> 8;
	info->subsystem_vendor_id = config_get(dev, PCI_SUBSYSTEM_VENDOR_ID, 2);
	info->subsystem_id = config_get(dev, PCI_SUBSYSTEM_ID, 2);
	info->irq_pin = dev->offer.irq_count[VFU_IRQ_INTX] ?
			MIN(MAX(config_get(dev, PCI_INTERRUPT_PIN, 1), 1u), 4u) : 0;
	for (i = 0; i < PCI_NUM_BARS; i++) {
		u32 bar = config_get(dev, PCI_BASE_ADDRESS_0 + 4 * i, 4);
		u64 size = dev->regions[i].size;

		if (!size)
			continue;
		if (bar & PCI_BASE_ADDRESS_SPACE_IO) {
			info->bars[i].type = PCI_BAR_IO;
		} else if ((bar & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
			   PCI_BASE_ADDRESS_MEM_TYPE_64 &&
			   i + 1 < PCI_NUM_BARS) {
			info->bars[i].type = PCI_BAR_MEM64;
			info->bars[i].prefetchable =
				bar & PCI_BASE_ADDRESS_MEM_PREFETCH;
			if (dev->regions[i + 1].size) {
				snprintf(err, err_len,
					 "%s: BAR%u is 64-bit but region %u has a size too",
					 dev->name, i, i + 1);
				return -EINVAL;
			}
			info->bars[i].size = size;
			i++;
			continue;
		} else {
			info->bars[i].type = size > 4 * GiB ? PCI_BAR_MEM64 :
					     PCI_BAR_MEM32;
			info->bars[i].prefetchable =
				bar & PCI_BASE_ADDRESS_MEM_PREFETCH;
		}
		info->bars[i].size = size;
	}
	info->rom_size = dev->regions[VFU_PCI_ROM].size;
	vfu_device_choose_posting(dev, info);
	return 0;
}

/*
 * The MSI-X table and PBA are uvmm's to emulate: an mmap-able area over
 * them would let the guest write the server's memory instead, so such an
 * area is given up and that part of the BAR traps.
 */
void vfu_drop_areas_over(struct vfu_device *dev, unsigned int bar,
			 u64 off, u64 len)
{
	struct vfu_device_region *region;
	unsigned int i;

	if (bar >= PCI_NUM_BARS)
		return;
	region = &dev->regions[bar];
	for (i = 0; i < region->nr_areas; i++) {
		struct vfu_mmap_area *area = &region->areas[i];

		if (off >= area->offset + area->size ||
		    area->offset >= off + len)
			continue;
		log_info("%s: BAR%u area [%#llx, +%#llx) holds MSI-X structures: trapped",
			 dev->name, bar, (unsigned long long)area->offset,
			 (unsigned long long)area->size);
		munmap(area->hva, area->size);
		vm_memslot_free(dev->vm, area->slot);
		region->areas[i] = region->areas[--region->nr_areas];
		i--;
	}
}

/*
 * Copies the server's capability list into the model and hands MSI and
 * MSI-X to it; the other capabilities stay the server's (forwarded).
 */
static int vfu_device_take_capabilities(struct vfu_device *dev, char *err,
					size_t err_len)
{
	u32 limit = MIN(dev->offer.config_size, (u32)PCI_LEGACY_CONFIG_SIZE);
	unsigned int hops = 0;
	u8 pos;
	u32 off;
	int ret;

	if (!(config_get(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	for (off = PCI_STD_HEADER_SIZEOF; off < limit; off++)
		pci_config_set(dev->fn, off, 1, dev->offer.config[off]);
	pci_config_set(dev->fn, PCI_CAPABILITY_LIST, 1,
		       config_get(dev, PCI_CAPABILITY_LIST, 1) & ~3u);
	pci_config_set(dev->fn, PCI_STATUS, 2,
		       pci_config_emulated_read(dev->fn, PCI_STATUS, 2) |
		       PCI_STATUS_CAP_LIST);

	for (pos = config_get(dev, PCI_CAPABILITY_LIST, 1) & ~3u;
	     pos && hops < 48; hops++) {
		u8 id, next;
		u16 ctrl;

		if (pos < PCI_STD_HEADER_SIZEOF || pos + 4u > limit)
			break;
		id = config_get(dev, pos, 1);
		next = config_get(dev, pos + 1, 1) & ~3u;
		ctrl = config_get(dev, pos + 2, 2);
		if (id == PCI_CAP_ID_MSI && dev->offer.irq_count[VFU_IRQ_MSI] &&
		    !dev->msi_cap) {
			bool addr64 = ctrl & PCI_MSI_FLAGS_64BIT;
			bool pvm = ctrl & PCI_MSI_FLAGS_MASKBIT;
			unsigned int nr = 1u << MIN((ctrl & PCI_MSI_FLAGS_QMASK) >> 1, 5);

			while (nr > dev->offer.irq_count[VFU_IRQ_MSI])
				nr >>= 1;
			dev->msi_cap_size = 10 + (addr64 ? 4 : 0) + (pvm ? 10 : 0);
			if (pos + dev->msi_cap_size > limit)
				break;
			ret = pci_msi_init(dev->fn, pos, nr, addr64, pvm);
			if (ret) {
				snprintf(err, err_len, "%s: MSI capability: %s",
					 dev->name, strerror(-ret));
				return ret;
			}
			dev->msi_cap = pos;
			dev->msi_pvm = pvm;
		} else if (id == PCI_CAP_ID_MSIX && dev->offer.irq_count[VFU_IRQ_MSIX] &&
			   !dev->msix_cap && pos + (u32)PCI_CAP_MSIX_SIZEOF <= limit) {
			u32 table = config_get(dev, pos + PCI_MSIX_TABLE, 4);
			u32 pba = config_get(dev, pos + PCI_MSIX_PBA, 4);
			unsigned int nr = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;

			nr = MIN(nr, dev->offer.irq_count[VFU_IRQ_MSIX]);
			ret = pci_msix_init(dev->fn, pos, nr,
					    table & PCI_MSIX_TABLE_BIR,
					    table & PCI_MSIX_TABLE_OFFSET,
					    pba & PCI_MSIX_PBA_BIR,
					    pba & PCI_MSIX_PBA_OFFSET);
			if (ret) {
				snprintf(err, err_len, "%s: MSI-X capability: %s",
					 dev->name, strerror(-ret));
				return ret;
			}
			dev->msix_cap = pos;
			dev->msix_nr = nr;
			/* The model's vectors start masked (PCI spec). */
			memset(dev->msix_masked, 1, nr * sizeof(bool));
			vfu_drop_areas_over(dev, table & PCI_MSIX_TABLE_BIR,
					    table & PCI_MSIX_TABLE_OFFSET,
					    nr * PCI_MSIX_ENTRY_SIZE);
			vfu_drop_areas_over(dev, pba & PCI_MSIX_PBA_BIR,
					    pba & PCI_MSIX_PBA_OFFSET,
					    DIV_ROUND_UP(nr, 64) * 8);
		}
		pos = next;
	}
	return 0;
}

int vfu_device_create(struct vm *vm, const struct device_config *cfg,
		      unsigned int index, struct vfu_device **out, char *err,
		      size_t err_len)
{
	struct pci_function_info info;
	struct vfu_device *dev;
	unsigned int i, j;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		snprintf(err, err_len, "vfio-user[%u]: out of memory", index);
		return -ENOMEM;
	}
	dev->vm = vm;
	dev->cfg = cfg;
	dev->index = index;
	dev->server_irq_index = -1;
	dev->intx_trigger_fd = -1;
	dev->want_mode = PCI_IRQ_INTX;
	for (i = 0; i < VFU_OFFER_REGIONS; i++)
		dev->offer.regions[i].fd = -1;
	snprintf(dev->name, sizeof(dev->name), "vfio-user[%u]", index);
	for (i = 0; i < VFU_OFFER_REGIONS; i++)
		for (j = 0; j < VFU_MAX_SPARSE_AREAS; j++)
			dev->regions[i].areas[j].slot = -1;

	ret = vfu_device_connect(dev, err, err_len);
	if (ret)
		goto fail;
	ret = vfu_device_map_ram(dev, err, err_len);
	if (ret)
		goto fail;
	ret = vfu_discover(dev->client, dev->name, &dev->offer, err, err_len);
	if (ret)
		goto fail;
	ret = vfu_device_map_areas(dev, &dev->offer, err, err_len);
	vfu_offer_release(&dev->offer);
	if (ret)
		goto fail;
	ret = vfu_device_describe(dev, &info, err, err_len);
	if (ret)
		goto fail;
	ret = pci_function_create(vm, &info, &vfu_function_ops, dev, &dev->fn);
	if (ret) {
		snprintf(err, err_len, "%s: the server's device does not make a valid PCI function: %s",
			 dev->name, strerror(-ret));
		goto fail;
	}
	ret = vfu_device_take_capabilities(dev, err, err_len);
	if (ret)
		goto fail;
	ret = vfu_device_take_ioeventfds(dev, err, err_len);
	if (ret)
		goto fail;
	/* A fresh device for a fresh VM. */
	ret = vfu_client_device_reset(dev->client);
	if (ret && ret != -EINVAL && ret != -ENOTSUP) {
		snprintf(err, err_len, "%s: DEVICE_RESET: %s", dev->name,
			 strerror(-ret));
		goto fail;
	}
	if (cfg->on_error == DEVICE_ON_ERROR_RECONNECT) {
		/* Connecting again needs socket() and threads under the filter. */
		sandbox_allow_reconnect();
		ret = vfu_device_start_reconnect(dev);
		if (ret) {
			snprintf(err, err_len, "%s: reconnect thread: %s",
				 dev->name, strerror(-ret));
			goto fail;
		}
	}
	log_info("%s: %04x:%04x class %06x from %s", dev->name,
		 info.vendor_id, info.device_id, info.class_code,
		 cfg->socket_path);
	*out = dev;
	return 0;
fail:
	vfu_device_destroy(dev);
	return ret;
}

/*
 * Called once the function has its slot: INTx is the mode a device
 * starts in, so the server gets the pin's eventfd now.
 */
int vfu_device_attached(struct vfu_device *dev)
{
	struct vfu_client *c;
	int trigger;
	int ret;

	if (!dev->offer.irq_count[VFU_IRQ_INTX] || pci_function_intx_gsi(dev->fn) < 0)
		return 0;
	ret = pci_intx_eventfds(dev->fn, &trigger, NULL);
	if (ret)
		return ret;
	c = vfu_device_try_get(dev);
	if (!c)
		return 0;
	/* Read by vfu_intx_resampled() on the host's resample thread. */
	__atomic_store_n(&dev->intx_trigger_fd, trigger, __ATOMIC_RELEASE);
	ret = vfu_irq_assign(dev, PCI_IRQ_INTX, 1);
	vfu_device_put(dev, c, ret);
	if (ret) {
		__atomic_store_n(&dev->intx_trigger_fd, -1, __ATOMIC_RELEASE);
		log_warn("%s: INTx not wired: %s", dev->name, strerror(-ret));
		return 0;
	}
	if (dev->reconnect) {
		pthread_mutex_lock(&dev->lock);
		dev->want_mode = PCI_IRQ_INTX;
		dev->want_nr = 1;
		dev->seq++;
		pthread_mutex_unlock(&dev->lock);
	}
	return 0;
}

void vfu_device_guest_reset(struct vfu_device *dev)
{
	struct vfu_client *c = vfu_device_get(dev);
	int ret;

	if (!c)
		return;
	ret = vfu_client_device_reset(c);
	vfu_device_put(dev, c, ret);
	if (ret && ret != -EINVAL && ret != -ENOTSUP)
		log_warn("%s: DEVICE_RESET after the guest's reset: %s",
			 dev->name, strerror(-ret));
	else
		log_debug("%s: reset with the machine", dev->name);
}

void vfu_device_destroy(struct vfu_device *dev)
{
	unsigned int i, j;

	if (!dev)
		return;
	if (dev->reconnect) {
		/* Waiting accesses and the reconnect thread give up. */
		pthread_mutex_lock(&dev->lock);
		dev->stopping = true;
		pthread_cond_broadcast(&dev->cond);
		pthread_mutex_unlock(&dev->lock);
		if (dev->reconnect_started)
			pthread_join(dev->reconnect_thread, NULL);
	}
	vfu_device_drop_ioeventfds(dev);
	/* Stop the server first: no request may be in flight after this. */
	if (dev->client)
		vfu_client_close(dev->client);
	for (i = 0; i < VFU_OFFER_REGIONS; i++) {
		struct vfu_device_region *region = &dev->regions[i];

		for (j = 0; j < region->nr_areas; j++) {
			struct vfu_mmap_area *area = &region->areas[j];

			vfu_area_unmap(dev, area);
			if (area->hva && area->hva != MAP_FAILED)
				munmap(area->hva, area->size);
			vm_memslot_free(dev->vm, area->slot);
		}
	}
	if (dev->fn)
		pci_function_destroy(dev->fn);
	if (dev->reconnect) {
		pthread_mutex_destroy(&dev->lock);
		pthread_cond_destroy(&dev->cond);
	}
	free(dev);
}
