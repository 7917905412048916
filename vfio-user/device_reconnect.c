// SPDX-License-Identifier: MIT
/*
 * on-error=reconnect (docs/vfio-user.md, "Reconnect"): when the server's
 * connection is lost, accesses wait while a thread of the device connects
 * to the same path again, checks that the server there offers the same
 * device, and replays what the old one had been told (DMA maps, BAR
 * areas and doorbells, interrupts and their masks, the config space the
 * guest wrote through); then the accesses go on.
 */
#define LOG_PREFIX NULL

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "vfio-user/device_priv.h"

/* The MSI-X table and PBA stay uvmm's with the new server's areas too. */
static void vfu_drop_msix_areas(struct vfu_device *dev)
{
	u32 table, pba;

	if (!dev->msix_cap)
		return;
	table = config_get(dev, dev->msix_cap + PCI_MSIX_TABLE, 4);
	pba = config_get(dev, dev->msix_cap + PCI_MSIX_PBA, 4);
	vfu_drop_areas_over(dev, table & PCI_MSIX_TABLE_BIR,
			    table & PCI_MSIX_TABLE_OFFSET,
			    dev->msix_nr * PCI_MSIX_ENTRY_SIZE);
	vfu_drop_areas_over(dev, pba & PCI_MSIX_PBA_BIR,
			    pba & PCI_MSIX_PBA_OFFSET,
			    DIV_ROUND_UP(dev->msix_nr, 64) * 8);
}

/*
 * Takes the mmap'ed areas and doorbells of a server out of the guest
 * (accesses there trap, and wait) and out of uvmm.
 */
static void vfu_device_unplug(struct vfu_device *dev)
{
	struct pci_bar_window off = { .on = false };
	unsigned int i, j;

	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < PCI_NUM_BARS; i++)
		vfu_bar_place(dev, i, off);
	pthread_mutex_unlock(&dev->lock);
	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct vfu_device_region *region = &dev->regions[i];

		for (j = 0; j < region->nr_ioeventfds; j++)
			close(region->ioeventfds[j].fd);
		region->nr_ioeventfds = 0;
		for (j = 0; j < region->nr_areas; j++) {
			struct vfu_mmap_area *area = &region->areas[j];

			munmap(area->hva, area->size);
			vm_memslot_free(dev->vm, area->slot);
			area->hva = NULL;
			area->slot = -1;
		}
		region->nr_areas = 0;
	}
}

/*
 * Writes the emulated registers the guest wrote in [from, to) through to
 * the server again, each dword as the guest's writes covered it. An
 * error reply drops that write, as it did the first time.
 */
static int vfu_replay_config(struct vfu_device *dev, u32 from, u32 to,
			     unsigned int *bytes)
{
	u32 d, i, len, val;
	u8 b[4];
	bool set[4];
	int ret;

	for (d = from; d < to; d += 4) {
		if (d == PCI_COMMAND)
			continue;	/* COMMAND goes after the header */
		pthread_mutex_lock(&dev->lock);
		for (i = 0; i < 4; i++) {
			b[i] = dev->shadow[d + i];
			set[i] = dev->shadow_set[d + i];
		}
		pthread_mutex_unlock(&dev->lock);
		for (i = 0; i < 4; i += len) {
			len = set[0] && set[1] && set[2] && set[3] && !i ? 4 :
			      !(i & 1) && set[i] && set[i + 1] ? 2 : 1;
			if (!set[i])
				continue;
			val = 0;
			memcpy(&val, &b[i], len);
			ret = vfu_client_region_write(dev->client,
						      VFU_PCI_CONFIG, d + i,
						      &val, len);
			if (ret && vfu_client_get_state(dev->client) !=
				   VFU_CLIENT_CONNECTED)
				return ret;
			*bytes += len;
		}
	}
	return 0;
}

/*
 * The guest's configuration, from the registers uvmm emulates to the
 * interrupts it enabled, onto a server that has none of it.
 */
static int vfu_replay_state(struct vfu_device *dev)
{
	enum pci_irq_mode mode;
	unsigned int nr, bytes = 0;
	bool command_set;
	u16 command;
	int ret;

	ret = vfu_replay_config(dev, 0, PCI_STD_HEADER_SIZEOF, &bytes);
	if (ret)
		return ret;
	pthread_mutex_lock(&dev->lock);
	command = dev->command;
	command_set = dev->command_set;
	mode = dev->want_mode;
	nr = dev->want_nr;
	pthread_mutex_unlock(&dev->lock);
	if (command_set) {
		ret = vfu_client_region_write(dev->client, VFU_PCI_CONFIG,
					      PCI_COMMAND, &command, 2);
		if (ret && vfu_client_get_state(dev->client) !=
			   VFU_CLIENT_CONNECTED)
			return ret;
	}
	ret = vfu_replay_config(dev, PCI_STD_HEADER_SIZEOF,
				PCI_LEGACY_CONFIG_SIZE, &bytes);
	if (ret)
		return ret;
	log_info("%s: replay: config space, %u bytes, COMMAND %#x", dev->name,
		 bytes, command);
	/* A fresh server holds no eventfds: the same ones again. */
	dev->server_irq_index = -1;
	dev->server_irq_count = 0;
	if (nr && (mode != PCI_IRQ_INTX || dev->intx_trigger_fd >= 0)) {
		ret = vfu_irq_assign(dev, mode, nr);
		if (ret && vfu_client_get_state(dev->client) !=
			   VFU_CLIENT_CONNECTED)
			return ret;
		if (ret)
			log_warn("%s: replay: SET_IRQS: %s", dev->name,
				 strerror(-ret));
		if (mode != PCI_IRQ_INTX && dev->server_irq_count)
			vfu_irq_push_masks(dev, dev->server_irq_index,
					   dev->server_irq_count - 1);
		log_info("%s: replay: SET_IRQS %s, %u vectors", dev->name,
			 mode == PCI_IRQ_MSIX ? "MSI-X" :
			 mode == PCI_IRQ_MSI ? "MSI" : "INTx",
			 dev->server_irq_count);
	}
	return vfu_client_get_state(dev->client) == VFU_CLIENT_CONNECTED ?
	       0 : -EPIPE;
}

/*
 * Everything the device had, onto the server that answered: its RAM, a
 * check that it is the same device, its areas and doorbells, then the
 * guest's state, again until no guest write raced it. Then the waiting
 * accesses go. *fatal: a different device (no retry).
 */
static int vfu_device_replay(struct vfu_device *dev, char *why,
			     size_t why_len, bool *fatal)
{
	struct vfu_offer *offer;
	unsigned int i, areas = 0, doorbells = 0;
	u64 seq;
	int ret;

	ret = vfu_device_map_ram(dev, why, why_len);
	if (ret)
		return ret;
	log_info("%s: replay: DMA_MAP of %u RAM regions", dev->name,
		 dev->vm->mem.nr_regions);
	offer = calloc(1, sizeof(*offer));
	if (!offer)
		return -ENOMEM;
	ret = vfu_discover(dev->client, dev->name, offer, why, why_len);
	if (!ret) {
		ret = vfu_offer_compare(&dev->offer, offer, why, why_len);
		*fatal = ret != 0;
	}
	if (!ret)
		ret = vfu_device_map_areas(dev, offer, why, why_len);
	vfu_offer_release(offer);
	free(offer);
	if (ret) {
		/* A server that dies while answering may come back yet. */
		if (vfu_client_get_state(dev->client) != VFU_CLIENT_CONNECTED)
			*fatal = false;
		return ret;
	}
	vfu_drop_msix_areas(dev);
	ret = vfu_device_take_ioeventfds(dev, why, why_len);
	if (ret)
		return ret;
	for (i = 0; i < PCI_NUM_BARS; i++) {
		areas += dev->regions[i].nr_areas;
		doorbells += dev->regions[i].nr_ioeventfds;
	}
	log_info("%s: replay: same device; %u mmap areas, %u doorbells",
		 dev->name, areas, doorbells);
	for (;;) {
		pthread_mutex_lock(&dev->lock);
		seq = dev->seq;
		pthread_mutex_unlock(&dev->lock);
		ret = vfu_replay_state(dev);
		if (ret) {
			snprintf(why, why_len, "replay: %s",
				 vfu_client_error_string(dev->client));
			return ret;
		}
		pthread_mutex_lock(&dev->lock);
		if (dev->seq == seq)
			break;
		pthread_mutex_unlock(&dev->lock);
		log_info("%s: replay: the guest changed the device meanwhile; again",
			 dev->name);
	}
	/* Under the lock: the BARs cannot move until the link is up. */
	for (i = 0; i < PCI_NUM_BARS; i++)
		vfu_bar_place(dev, i, dev->bar_win[i]);
	ret = -ETIMEDOUT;	/* given up meanwhile, or uvmm is stopping */
	if (dev->link == VFU_LINK_RECONNECTING && !dev->stopping) {
		__atomic_store_n(&dev->link, VFU_LINK_UP, __ATOMIC_RELEASE);
		dev->reconnects++;
		ret = 0;
	}
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		snprintf(why, why_len, "stopped during the replay");
	return ret;
}

/* Sleeps ms, or less when the device is being destroyed. */
static void vfu_reconnect_pause(struct vfu_device *dev, unsigned int ms)
{
	s64 until = (s64)mono_ms() + ms;
	struct timespec ts = {
		.tv_sec = until / 1000,
		.tv_nsec = until % 1000 * 1000000,
	};

	pthread_mutex_lock(&dev->lock);
	if (!dev->stopping)
		pthread_cond_timedwait(&dev->cond, &dev->lock, &ts);
	pthread_mutex_unlock(&dev->lock);
}

static bool vfu_device_stopping(struct vfu_device *dev)
{
	bool stopping;

	pthread_mutex_lock(&dev->lock);
	stopping = dev->stopping || dev->link == VFU_LINK_DEAD;
	pthread_mutex_unlock(&dev->lock);
	return stopping || vm_stopping(dev->vm);
}

/*
 * The connection is lost and no access holds the old client: connect to
 * the same path until a server answers there and takes the replay, or
 * the reconnect timeout passes.
 */
static void vfu_device_reconnect(struct vfu_device *dev)
{
	struct vfu_client_options opts;
	unsigned int attempts = 0;
	s64 lost, deadline;
	char why[256] = "";
	bool fatal = false;
	int ret;

	vfu_device_client_options(dev, &opts);
	pthread_mutex_lock(&dev->lock);
	lost = dev->lost_ms;
	deadline = dev->deadline_ms;
	pthread_mutex_unlock(&dev->lock);
	vfu_device_unplug(dev);
	vfu_client_close(dev->client);
	dev->client = NULL;
	while (!vfu_device_stopping(dev)) {
		struct vfu_client *c;

		attempts++;
		ret = vfu_client_connect(dev->cfg->socket_path, &opts, &c);
		if (!ret) {
			dev->client = c;
			ret = vfu_device_replay(dev, why, sizeof(why), &fatal);
			if (!ret) {
				log_warn("%s (%s): reconnected after %lld ms (reconnect %u, %u attempts); the device's state was replayed",
					 dev->name, dev->cfg->socket_path,
					 (long long)((s64)mono_ms() - lost),
					 dev->reconnects, attempts);
				return;
			}
			if (ret == -ETIMEDOUT && vfu_device_stopping(dev))
				return;
			if (fatal) {
				char line[300];

				snprintf(line, sizeof(line),
					 "the server came back as a different device: %s",
					 why);
				vfu_device_give_up(dev, line);
				return;
			}
			log_info("%s: the server failed during the replay (%s); trying again",
				 dev->name, why);
			vfu_device_unplug(dev);
			vfu_client_close(dev->client);
			dev->client = NULL;
		} else if (ret != -ENOENT && ret != -ECONNREFUSED) {
			log_debug("%s: connect: %s", dev->name, strerror(-ret));
		}
		if ((s64)mono_ms() >= deadline)
			break;
		vfu_reconnect_pause(dev, VFU_CONNECT_RETRY_MS);
	}
	if (vfu_device_stopping(dev))
		return;
	snprintf(why, sizeof(why),
		 "the server did not come back within %u s (reconnect-timeout)",
		 dev->cfg->reconnect_timeout);
	vfu_device_give_up(dev, why);
}

static void *vfu_reconnect_main(void *arg)
{
	struct vfu_device *dev = arg;

	pthread_mutex_lock(&dev->lock);
	for (;;) {
		/* The accesses on the old client fail out first. */
		while (!dev->stopping &&
		       (dev->link != VFU_LINK_RECONNECTING || dev->users))
			pthread_cond_wait(&dev->cond, &dev->lock);
		if (dev->stopping)
			break;
		pthread_mutex_unlock(&dev->lock);
		vfu_device_reconnect(dev);
		pthread_mutex_lock(&dev->lock);
	}
	pthread_mutex_unlock(&dev->lock);
	return NULL;
}

int vfu_device_start_reconnect(struct vfu_device *dev)
{
	pthread_condattr_t attr;
	int ret;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	ret = -pthread_cond_init(&dev->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		return ret;
	ret = -pthread_mutex_init(&dev->lock, NULL);
	if (ret) {
		pthread_cond_destroy(&dev->cond);
		return ret;
	}
	dev->reconnect = true;
	ret = -pthread_create(&dev->reconnect_thread, NULL, vfu_reconnect_main,
			      dev);
	if (ret)
		return ret;
	dev->reconnect_started = true;
	return 0;
}

