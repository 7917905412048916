// SPDX-License-Identifier: MIT
/*
 * PCI host bridge (see pci_host.h): the conf1 and ECAM decoders in front
 * of bus 0, the boot-time BAR allocator, and the INTx resample thread.
 */
#define LOG_PREFIX "pci-host"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "vmm/irq.h"
#include "vmm/mptable.h"
#include "vmm/pci_irq.h"
#include "vmm/config.h"
#include "vmm/services.h"

#define PCI_DEVFNS 256
#define PCI_SLOTS 32
/* conf1 address: enable, bus, device, function, dword register. */
#define CONF1_ADDRESS_MASK (PCI_CONF1_ENABLE | 0x00fffffcu)

struct pci_host {
	const struct dev_services *svc;
	struct pci_function *bridge;
	u64 mmio64_base;
	int wake_fd;			/* wakes the resample thread */
	pthread_t thread;
	bool thread_started;

	/*
	 * lock protects functions, conf1_address, generation, stopping and notifying.
	 * No function's lock is taken while it is held (a function's hooks
	 * run under their lock and may call back into the host).
	 */
	pthread_mutex_t lock;
	struct pci_function *functions[PCI_DEVFNS];
	u32 conf1_address;
	u64 generation;			/* bumped when functions changes */
	bool stopping;
	/* The thread is telling models of an EOI, without the lock. */
	bool notifying;
	pthread_cond_t notified;
};

u64 pci_mmio64_base(u64 ram_bytes)
{
	struct mem_region regions[MEM_MAX_REGIONS];
	unsigned int n = mem_layout(ram_bytes, regions);
	u64 top = MAX(4 * GiB, regions[n - 1].gpa + regions[n - 1].size);

	return ALIGN_UP(top, PCI_WIN_MMIO64_ALIGN);
}

/* ---- config access ---------------------------------------------------- */

static struct pci_function *lookup(struct pci_host *host, u8 bus, u8 devfn)
{
	struct pci_function *fn;

	if (bus != 0)
		return NULL;
	pthread_mutex_lock(&host->lock);
	fn = host->functions[devfn];
	pthread_mutex_unlock(&host->lock);
	return fn;
}

/*
 * Functions stay allocated while the guest runs (only removed by their
 * owner with the vCPUs stopped), so the pointer outlives the lock.
 */
u32 pci_host_config_read(struct pci_host *host, u8 bus, u8 devfn, u32 reg,
			 u32 len)
{
	struct pci_function *fn = lookup(host, bus, devfn);

	/* Nobody answers: the master abort reads all-ones. */
	if (!fn)
		return len >= 4 ? ~0u : (1u << (8 * len)) - 1;
	return pci_config_read(fn, reg, len);
}

static bool moves_ranges(u32 reg, u32 len)
{
	return (reg < PCI_COMMAND + 2 && PCI_COMMAND < reg + len) ||
	       (reg < PCI_BASE_ADDRESS_5 + 4 && PCI_BASE_ADDRESS_0 < reg + len) ||
	       (reg < PCI_ROM_ADDRESS + 4 && PCI_ROM_ADDRESS < reg + len);
}

void pci_host_config_write(struct pci_host *host, u8 bus, u8 devfn, u32 reg,
			   u32 len, u32 val)
{
	struct pci_function *fn = lookup(host, bus, devfn);
	struct pci_function *fns[PCI_DEVFNS];
	unsigned int i;

	if (!fn)
		return;
	pci_config_write(fn, reg, len, val);
	if (!moves_ranges(reg, len))
		return;
	/* A BAR that moved or stopped decoding may free another's range. */
	pthread_mutex_lock(&host->lock);
	memcpy(fns, host->functions, sizeof(fns));
	pthread_mutex_unlock(&host->lock);
	for (i = 0; i < PCI_DEVFNS; i++)
		if (fns[i])
			pci_function_retry_decode(fns[i]);
}

static u32 load_le(const void *data, u32 len)
{
	const u8 *p = data;
	u32 val = 0, i;

	for (i = 0; i < len && i < 4; i++)
		val |= (u32)p[i] << (8 * i);
	return val;
}

static void store_le(void *data, u32 len, u32 val)
{
	u8 *p = data;
	u32 i;

	for (i = 0; i < len && i < 4; i++)
		p[i] = val >> (8 * i);
}

/*
 * 0xcf8: only a dword access reaches the address register (narrower ones
 * are other chipset registers on a PC, absent here).
 */
static void conf1_address_read(void *dev, u64 off, void *data, u32 len)
{
	struct pci_host *host = dev;

	if (off != 0 || len != 4) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&host->lock);
	store_le(data, 4, host->conf1_address);
	pthread_mutex_unlock(&host->lock);
}

static void conf1_address_write(void *dev, u64 off, const void *data, u32 len)
{
	struct pci_host *host = dev;

	if (off != 0 || len != 4)
		return;
	pthread_mutex_lock(&host->lock);
	host->conf1_address = load_le(data, 4) & CONF1_ADDRESS_MASK;
	pthread_mutex_unlock(&host->lock);
}

/*
 * 0xcfc-0xcff: the dword the address register selects, at byte off.
 * The bus range is exactly these four ports, so an access that would
 * run past 0xcff never gets here (it reads all-ones, unclaimed).
 */
static bool conf1_target(struct pci_host *host, u64 off, u8 *bus, u8 *devfn,
			 u32 *reg)
{
	u32 address;

	pthread_mutex_lock(&host->lock);
	address = host->conf1_address;
	pthread_mutex_unlock(&host->lock);
	if (!(address & PCI_CONF1_ENABLE))
		return false;
	*bus = address >> 16;
	*devfn = address >> 8;
	*reg = (address & 0xfc) + off;
	return true;
}

static void conf1_data_read(void *dev, u64 off, void *data, u32 len)
{
	struct pci_host *host = dev;
	u8 bus, devfn;
	u32 reg;

	if (len > 4 || !conf1_target(host, off, &bus, &devfn, &reg)) {
		memset(data, 0xff, len);
		return;
	}
	store_le(data, len, pci_host_config_read(host, bus, devfn, reg, len));
}

static void conf1_data_write(void *dev, u64 off, const void *data, u32 len)
{
	struct pci_host *host = dev;
	u8 bus, devfn;
	u32 reg;

	if (len > 4 || !conf1_target(host, off, &bus, &devfn, &reg))
		return;
	pci_host_config_write(host, bus, devfn, reg, len, load_le(data, len));
}

static const struct bus_ops conf1_address_ops = {
	.read = conf1_address_read,
	.write = conf1_address_write,
};

static const struct bus_ops conf1_data_ops = {
	.read = conf1_data_read,
	.write = conf1_data_write,
};

/*
 * ECAM: bus << 20 | devfn << 12 | register. Naturally aligned 1, 2 and 4
 * byte accesses; an aligned 8-byte one is taken as two dwords (PCIe
 * leaves it undefined, splitting is the harmless choice). Anything
 * misaligned reads all-ones and writes nothing.
 */
static void ecam_read(void *dev, u64 off, void *data, u32 len)
{
	struct pci_host *host = dev;
	u8 bus = off >> PCI_ECAM_BUS_SHIFT, devfn = off >> 12;
	u32 reg = off & 0xfff;

	if (off % len) {
		memset(data, 0xff, len);
		return;
	}
	if (len == 8) {
		store_le(data, 4, pci_host_config_read(host, bus, devfn, reg, 4));
		store_le((u8 *)data + 4, 4,
			 pci_host_config_read(host, bus, devfn, reg + 4, 4));
		return;
	}
	store_le(data, len, pci_host_config_read(host, bus, devfn, reg, len));
}

static void ecam_write(void *dev, u64 off, const void *data, u32 len)
{
	struct pci_host *host = dev;
	u8 bus = off >> PCI_ECAM_BUS_SHIFT, devfn = off >> 12;
	u32 reg = off & 0xfff;

	if (off % len)
		return;
	if (len == 8) {
		pci_host_config_write(host, bus, devfn, reg, 4, load_le(data, 4));
		pci_host_config_write(host, bus, devfn, reg + 4, 4,
				      load_le((const u8 *)data + 4, 4));
		return;
	}
	pci_host_config_write(host, bus, devfn, reg, len, load_le(data, len));
}

static const struct bus_ops ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
};

/* ---- INTx resampling ---------------------------------------------------- */

/*
 * KVM drops a level-triggered irqfd line when the guest EOIs and signals
 * the resample eventfd. This thread waits on those eventfds, for every
 * function: a built-in device whose line is still high asserts it again;
 * a model that drives its line itself (a vfio-user server's) is told,
 * without the lock, since telling it may take a round trip.
 */
static void *resample_thread(void *arg)
{
	struct pci_host *host = arg;
	struct pollfd fds[1 + PCI_DEVFNS];
	struct pci_function *owners[1 + PCI_DEVFNS];
	struct pci_function *tell[PCI_DEVFNS];
	unsigned int n, i, nr_tell;
	u64 built;

	pthread_mutex_lock(&host->lock);
	while (!host->stopping) {
		fds[0] = (struct pollfd) { .fd = host->wake_fd, .events = POLLIN };
		n = 1;
		for (i = 0; i < PCI_DEVFNS; i++) {
			int fd;

			if (!host->functions[i])
				continue;
			fd = pci_intx_watch_fd(host->functions[i]);
			if (fd < 0)
				continue;
			fds[n] = (struct pollfd) { .fd = fd, .events = POLLIN };
			owners[n++] = host->functions[i];
		}
		built = host->generation;
		pthread_mutex_unlock(&host->lock);

		if (poll(fds, n, -1) < 0 && errno != EINTR)
			log_warn("resample poll: %s", strerror(errno));

		pthread_mutex_lock(&host->lock);
		if (fds[0].revents & POLLIN)
			irq_eventfd_consume(host->wake_fd);
		/* A function removed meanwhile is not touched; others retry. */
		if (host->generation != built)
			continue;
		nr_tell = 0;
		for (i = 1; i < n; i++)
			if ((fds[i].revents & POLLIN) &&
			    pci_intx_resampled(owners[i]))
				tell[nr_tell++] = owners[i];
		if (!nr_tell)
			continue;
		/* pci_host_remove() waits for this: the functions stay. */
		host->notifying = true;
		pthread_mutex_unlock(&host->lock);
		for (i = 0; i < nr_tell; i++)
			pci_intx_notify_resampled(tell[i]);
		pthread_mutex_lock(&host->lock);
		host->notifying = false;
		pthread_cond_broadcast(&host->notified);
	}
	pthread_mutex_unlock(&host->lock);
	return NULL;
}

static void wake_thread(struct pci_host *host)
{
	irq_eventfd_signal(host->wake_fd);
}

/* ---- functions on the bus ---------------------------------------------- */

int pci_host_add(struct pci_host *host, struct pci_function *fn, int devfn)
{
	struct pci_function *fn0 = NULL;
	unsigned int slot;
	int ret = 0;

	pthread_mutex_lock(&host->lock);
	if (devfn < 0) {
		for (slot = 0; slot < PCI_SLOTS; slot++)
			if (!host->functions[PCI_DEVFN(slot, 0)])
				break;
		devfn = slot == PCI_SLOTS ? -ENOSPC : (int)PCI_DEVFN(slot, 0);
	}
	if (devfn == -ENOSPC) {
		ret = -ENOSPC;
	} else if (devfn >= PCI_DEVFNS || host->functions[devfn] ||
		   (PCI_DEVFN_FUNC(devfn) &&
		    !host->functions[PCI_DEVFN(PCI_DEVFN_SLOT(devfn), 0)])) {
		ret = -EBUSY;
	} else {
		/* Taken now; attached below without the host lock. */
		host->functions[devfn] = fn;
		if (PCI_DEVFN_FUNC(devfn))
			fn0 = host->functions[PCI_DEVFN(PCI_DEVFN_SLOT(devfn), 0)];
	}
	pthread_mutex_unlock(&host->lock);
	if (ret == -ENOSPC) {
		log_debug("%s: all %u slots of bus 0 are taken",
			pci_function_name(fn), PCI_SLOTS);
		return ret;
	}
	if (ret) {
		log_debug("%s: devfn %#x is taken or its function 0 is missing",
			pci_function_name(fn), devfn);
		return ret;
	}
	ret = pci_function_attach(fn, devfn);
	pthread_mutex_lock(&host->lock);
	if (ret)
		host->functions[devfn] = NULL;
	host->generation++;
	pthread_mutex_unlock(&host->lock);
	if (ret) {
		log_debug("%s: cannot wire its INTx line: %s",
			pci_function_name(fn), strerror(-ret));
		return ret;
	}
	if (fn0)
		pci_function_set_multifunction(fn0);
	log_debug("%s at 00:%02x.%x", pci_function_name(fn),
		  PCI_DEVFN_SLOT(devfn), PCI_DEVFN_FUNC(devfn));
	wake_thread(host);
	return 0;
}

int pci_host_remove(struct pci_host *host, struct pci_function *fn)
{
	int devfn = pci_function_devfn(fn);
	int ret = -ENOENT;

	pthread_mutex_lock(&host->lock);
	if (devfn >= 0 && host->functions[devfn] == fn) {
		host->functions[devfn] = NULL;
		host->generation++;
		ret = 0;
	}
	/* The owner frees fn next: not while the thread may be telling it. */
	while (host->notifying)
		pthread_cond_wait(&host->notified, &host->lock);
	pthread_mutex_unlock(&host->lock);
	if (!ret)
		wake_thread(host);
	return ret;
}

struct pci_function *pci_host_function(struct pci_host *host, u8 devfn)
{
	return lookup(host, 0, devfn);
}

/* ---- BAR allocation ------------------------------------------------------ */

struct bar_item {
	struct pci_function *fn;
	unsigned int bar;
	enum pci_bar_type type;
	u64 size;
};

struct window {
	const char *name;
	u64 next;
	u64 end;
};

/* Largest first, so every BAR lands aligned with no gap before it. */
static int bar_item_cmp(const void *a, const void *b)
{
	const struct bar_item *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (pci_function_devfn(x->fn) != pci_function_devfn(y->fn))
		return pci_function_devfn(x->fn) - pci_function_devfn(y->fn);
	return (int)x->bar - (int)y->bar;
}

static bool window_take(struct window *w, u64 size, u64 *addr)
{
	u64 at = ALIGN_UP(w->next, size);

	if (at < w->next || at + size > w->end || at + size < at)
		return false;
	*addr = at;
	w->next = at + size;
	return true;
}

static void program_bar(struct pci_function *fn, unsigned int bar, u64 addr)
{
	if (bar == PCI_ROM_BAR) {
		/* Address only: the ROM stays off until the guest enables it. */
		pci_config_write(fn, PCI_ROM_ADDRESS, 4, (u32)addr);
		return;
	}
	pci_config_write(fn, PCI_BASE_ADDRESS_0 + 4 * bar, 4, (u32)addr);
	if (pci_bar_type(fn, bar) == PCI_BAR_MEM64)
		pci_config_write(fn, PCI_BASE_ADDRESS_0 + 4 * bar + 4, 4,
				 addr >> 32);
}

int pci_host_assign_bars(struct pci_host *host, char *err, size_t err_len)
{
	struct window io = { "I/O", PCI_WIN_IO_BASE, PCI_WIN_IO_BASE + PCI_WIN_IO_SIZE };
	struct window m32 = { "32-bit", PCI_WIN_MMIO32_BASE,
			      PCI_WIN_MMIO32_BASE + PCI_WIN_MMIO32_SIZE };
	struct window m64 = { "64-bit", host->mmio64_base,
			      host->mmio64_base + PCI_WIN_MMIO64_SIZE };
	struct bar_item *items;
	struct pci_function *fns[PCI_DEVFNS];
	unsigned int nr_fns = 0, nr = 0, i, bar;
	int ret = 0;

	pthread_mutex_lock(&host->lock);
	for (i = 0; i < PCI_DEVFNS; i++)
		if (host->functions[i])
			fns[nr_fns++] = host->functions[i];
	pthread_mutex_unlock(&host->lock);

	items = calloc(nr_fns * PCI_NUM_REGIONS + 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (i = 0; i < nr_fns; i++)
		for (bar = 0; bar < PCI_NUM_REGIONS; bar++)
			if (pci_bar_type(fns[i], bar) != PCI_BAR_NONE)
				items[nr++] = (struct bar_item) {
					.fn = fns[i], .bar = bar,
					.type = pci_bar_type(fns[i], bar),
					.size = pci_bar_size(fns[i], bar),
				};
	qsort(items, nr, sizeof(*items), bar_item_cmp);

	for (i = 0; i < nr; i++) {
		struct bar_item *it = &items[i];
		struct window *w = it->type == PCI_BAR_IO ? &io :
				   it->type == PCI_BAR_MEM64 ? &m64 : &m32;
		u64 addr;

		if (!window_take(w, it->size, &addr) &&
		    !(w == &m64 && window_take(&m32, it->size, &addr))) {
			ret = err_fmt(err, err_len, -ENOSPC,
				      "%s: no room for BAR %u (%#llx bytes) in the %s window",
				      pci_function_name(it->fn), it->bar,
				      (unsigned long long)it->size, w->name);
			goto out;
		}
		program_bar(it->fn, it->bar, addr);
	}

	for (i = 0; i < nr_fns; i++) {
		u16 cmd = pci_config_read(fns[i], PCI_COMMAND, 2);
		int gsi = pci_function_intx_gsi(fns[i]);

		for (bar = 0; bar < PCI_NUM_BARS; bar++) {
			enum pci_bar_type type = pci_bar_type(fns[i], bar);

			if (type == PCI_BAR_IO)
				cmd |= PCI_COMMAND_IO;
			else if (type != PCI_BAR_NONE)
				cmd |= PCI_COMMAND_MEMORY;
		}
		pci_config_write(fns[i], PCI_COMMAND, 2, cmd);
		if (gsi >= 0)
			pci_config_write(fns[i], PCI_INTERRUPT_LINE, 1, gsi);
	}
out:
	free(items);
	return ret;
}

unsigned int pci_host_intx_routes(struct mptable_intx *routes,
				  unsigned int max)
{
	unsigned int slot, pin, n = 0;

	for (slot = 0; slot < PCI_SLOTS; slot++)
		for (pin = 1; pin <= 4 && n < max; pin++)
			routes[n++] = (struct mptable_intx) {
				.slot = slot, .pin = pin,
				.gsi = pci_intx_gsi(slot, pin),
			};
	return n;
}

/* ---- the host ------------------------------------------------------------ */

static const struct pci_function_info bridge_info = {
	.name = "pci-host",
	.vendor_id = PCI_HOST_VENDOR_ID,
	.device_id = PCI_HOST_DEVICE_ID,
	.subsystem_vendor_id = PCI_HOST_VENDOR_ID,
	.subsystem_id = PCI_HOST_DEVICE_ID,
	.class_code = PCI_HOST_CLASS,
};

int pci_host_create(const struct dev_services *svc, struct pci_host **out)
{
	struct pci_host *host;
	int ret;

	host = calloc(1, sizeof(*host));
	if (!host)
		return -ENOMEM;
	host->svc = svc;
	host->mmio64_base = pci_mmio64_base(svc->mem->size ? svc->mem->size :
					    CONFIG_MIN_MEMORY);
	pthread_mutex_init(&host->lock, NULL);
	pthread_cond_init(&host->notified, NULL);
	host->wake_fd = irq_eventfd_create();
	if (host->wake_fd < 0) {
		ret = host->wake_fd;
		goto err;
	}
	ret = pci_function_new(svc, &bridge_info, NULL, NULL, &host->bridge);
	if (ret)
		goto err;
	ret = pci_host_add(host, host->bridge, PCI_DEVFN(0, 0));
	if (ret)
		goto err;
	ret = bus_register(svc->pio, PCI_CONF1_ADDRESS_PORT, 4,
			   &conf1_address_ops, host, "pci conf1 address");
	if (ret)
		goto err;
	ret = bus_register(svc->pio, PCI_CONF1_DATA_PORT, 4, &conf1_data_ops,
			   host, "pci conf1 data");
	if (ret)
		goto err;
	ret = bus_register(svc->mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE, &ecam_ops,
			   host, "pci ecam");
	if (ret)
		goto err;
	ret = -pthread_create(&host->thread, NULL, resample_thread, host);
	if (ret)
		goto err;
	host->thread_started = true;
	*out = host;
	return 0;
err:
	log_debug("cannot create the PCI host bridge: %s", strerror(-ret));
	pci_host_destroy(host);
	return ret;
}

void pci_host_destroy(struct pci_host *host)
{
	unsigned int i;

	if (!host)
		return;
	if (host->thread_started) {
		pthread_mutex_lock(&host->lock);
		host->stopping = true;
		pthread_mutex_unlock(&host->lock);
		wake_thread(host);
		pthread_join(host->thread, NULL);
	}
	bus_unregister(host->svc->mmio, PCI_ECAM_BASE, host);
	bus_unregister(host->svc->pio, PCI_CONF1_DATA_PORT, host);
	bus_unregister(host->svc->pio, PCI_CONF1_ADDRESS_PORT, host);
	for (i = 0; i < PCI_DEVFNS; i++)
		if (host->functions[i] && host->functions[i] != host->bridge)
			pci_function_destroy(host->functions[i]);
	pci_function_destroy(host->bridge);
	if (host->wake_fd >= 0)
		close(host->wake_fd);
	pthread_mutex_destroy(&host->lock);
	pthread_cond_destroy(&host->notified);
	free(host);
}
