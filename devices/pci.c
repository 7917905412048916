// SPDX-License-Identifier: MIT
/*
 * The PCI function model (see pci.h): a type-0 config space whose
 * guest-visible behaviour comes from two masks per byte (writable bits,
 * write-1-to-clear bits), plus the registers with side effects: the
 * command register and the BARs (bus registrations follow them), and the
 * MSI and MSI-X capabilities (KVM routes and irqfds follow them).
 */
#define LOG_PREFIX "pci"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "devices/pci.h"
#include "vmm/irq.h"
#include "vmm/pci_irq.h"
#include "vmm/services.h"

#define PCI_CAP_FIRST 0x40
#define PCI_CAP_MAX_WALK 48		/* 192 bytes / 4: a loop guard */
#define PCI_IO_SPACE_END 0x10000ULL
#define PCI_MEM32_SPACE_END (4 * GiB)
#define PCI_MEM64_SPACE_END (1ULL << 52)	/* the architectural MAXPHYADDR */
#define PCI_MAX_BAR_SIZE (1ULL << 40)
#define PCI_MAX_ROM_SIZE (16 * MiB)

/* Command bits a guest may set; the others are hardwired to 0. */
#define PCI_COMMAND_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | \
			      PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
			      PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
/* Status error bits, cleared by writing 1. */
#define PCI_STATUS_W1C (PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
			PCI_STATUS_REC_TARGET_ABORT | \
			PCI_STATUS_REC_MASTER_ABORT | \
			PCI_STATUS_SIG_SYSTEM_ERROR | \
			PCI_STATUS_DETECTED_PARITY)

#define MSIX_ENTRY_DWORDS 4
#define MSIX_CTRL_MASKBIT 1u

/* One BAR, or the expansion ROM (index PCI_ROM_BAR). */
struct pci_region {
	struct pci_function *fn;
	unsigned int index;
	enum pci_bar_type type;		/* the ROM is PCI_BAR_MEM32 */
	u64 size;
	bool prefetchable;
	u64 addr;			/* as the guest programmed it */
	bool on;			/* registered on its bus at addr */
	bool lost;			/* wants to decode; another range is there */
	char name[48];			/* bus range name; lives as long */
};

/* One MSI or MSI-X vector: an eventfd, and its KVM route once used. */
struct pci_vector {
	int fd;
	u32 gsi;
	bool routed;			/* gsi holds a KVM MSI route */
	bool attached;			/* irqfd bound: KVM delivers writes */
	bool pending;			/* raised while masked */
	u64 addr;			/* what the route says */
	u32 data;
};

struct pci_msi_state {
	u8 cap;				/* 0: no MSI capability */
	unsigned int max_vectors;
	bool addr64;
	bool maskable;
	bool enabled;
	unsigned int nr_enabled;
	u32 mask;			/* last mask register seen, for the hook */
	struct pci_vector vec[PCI_MSI_MAX_VECTORS];
};

struct pci_msix_state {
	u8 cap;				/* 0: no MSI-X capability */
	unsigned int nr;
	unsigned int table_bar;
	unsigned int pba_bar;
	u32 table_off;
	u32 pba_off;
	u32 (*table)[MSIX_ENTRY_DWORDS];
	struct pci_vector *vec;
	bool enabled;
	bool masked;			/* the function mask */
};

/*
 * attached, external and level are also read without the lock (atomics)
 * by the host's resample thread, which never takes a function's lock.
 */
struct pci_intx_state {
	u8 pin;				/* 0: none, 1-4 */
	int gsi;			/* -1 before attach */
	int trigger_fd;
	int resample_fd;
	bool attached;			/* irqfd with resample bound */
	bool external;			/* handed out: not ours to resample */
	bool level;			/* built-in device's line */
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

struct pci_function {
	const struct dev_services *svc;
	const struct pci_function_ops *ops;
	void *priv;
	char name[32];

	/*
	 * lock (recursive, so callbacks may call back into the model)
	 * protects everything below.
	 */
	pthread_mutex_t lock;
	int devfn;
	u8 config[PCI_CONFIG_SPACE_SIZE];
	u8 wmask[PCI_CONFIG_SPACE_SIZE];
	u8 w1c[PCI_CONFIG_SPACE_SIZE];
	u8 last_cap;			/* 0: empty list */
	u32 cap_end;			/* where the next appended one goes */
	u16 command;			/* applied value; atomic reads too */
	struct pci_region regions[PCI_NUM_REGIONS];
	struct pci_msi_state msi;
	struct pci_msix_state msix;
	struct pci_intx_state intx;
};

/* ---- config space bytes ----------------------------------------------- */

static u32 get_le(const u8 *array, u32 off, u32 len)
{
	u32 val = 0, i;

	for (i = 0; i < len; i++)
		val |= (u32)array[off + i] << (8 * i);
	return val;
}

static void put_le(u8 *array, u32 off, u32 len, u32 val)
{
	u32 i;

	for (i = 0; i < len; i++)
		array[off + i] = val >> (8 * i);
}

static u32 ones(u32 len)
{
	return len >= 4 ? ~0u : (1u << (8 * len)) - 1;
}

/* A guest access: 1, 2 or 4 bytes inside one dword of the 4 KiB. */
static bool valid_access(u32 off, u32 len)
{
	return (len == 1 || len == 2 || len == 4) &&
	       off < PCI_CONFIG_SPACE_SIZE && (off & 3) + len <= 4;
}

/* Set-up helpers accept any 1/2/4-byte field inside the space. */
static bool valid_field(u32 off, u32 len)
{
	return (len == 1 || len == 2 || len == 4) &&
	       off + len <= PCI_CONFIG_SPACE_SIZE;
}

void pci_config_set(struct pci_function *fn, u32 off, u32 len, u32 val)
{
	if (!valid_field(off, len))
		return;
	pthread_mutex_lock(&fn->lock);
	put_le(fn->config, off, len, val);
	pthread_mutex_unlock(&fn->lock);
}

void pci_config_set_wmask(struct pci_function *fn, u32 off, u32 len, u32 mask)
{
	if (!valid_field(off, len))
		return;
	pthread_mutex_lock(&fn->lock);
	put_le(fn->wmask, off, len, mask);
	pthread_mutex_unlock(&fn->lock);
}

static bool overlaps(u32 off, u32 len, u32 start, u32 size)
{
	return off < start + size && start < off + len;
}

/* ---- capabilities ------------------------------------------------------- */

int pci_add_capability(struct pci_function *fn, u8 id, u8 size, u8 *offset)
{
	u32 at;

	if (size < 2)
		return -EINVAL;
	pthread_mutex_lock(&fn->lock);
	at = ALIGN_UP(fn->cap_end, 4u);
	if (at + size > PCI_LEGACY_CONFIG_SIZE) {
		pthread_mutex_unlock(&fn->lock);
		log_warn("%s: no room for a %u-byte capability %#x", fn->name,
			 size, id);
		return -ENOSPC;
	}
	memset(&fn->config[at], 0, size);
	memset(&fn->wmask[at], 0, size);
	fn->config[at] = id;
	if (fn->last_cap)
		fn->config[fn->last_cap + 1] = at;
	else
		fn->config[PCI_CAPABILITY_LIST] = at;
	fn->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	fn->last_cap = at;
	fn->cap_end = at + size;
	pthread_mutex_unlock(&fn->lock);
	*offset = at;
	return 0;
}

u8 pci_find_capability(struct pci_function *fn, u8 id)
{
	unsigned int steps;
	u8 at, found = 0;

	pthread_mutex_lock(&fn->lock);
	if (get_le(fn->config, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) {
		at = fn->config[PCI_CAPABILITY_LIST] & ~3;
		for (steps = 0; at >= PCI_CAP_FIRST && steps < PCI_CAP_MAX_WALK;
		     steps++) {
			if (fn->config[at] == id) {
				found = at;
				break;
			}
			at = fn->config[at + 1] & ~3;
		}
	}
	pthread_mutex_unlock(&fn->lock);
	return found;
}

/* ---- creation ----------------------------------------------------------- */

static bool is_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

static int check_bars(const struct pci_function_info *info)
{
	unsigned int i;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_desc *d = &info->bars[i];

		switch (d->type) {
		case PCI_BAR_NONE:
			continue;
		case PCI_BAR_IO:
			if (!is_pow2(d->size) || d->size < 4 || d->size > 256)
				return -EINVAL;
			break;
		case PCI_BAR_MEM32:
			if (!is_pow2(d->size) || d->size < 16 || d->size > 2 * GiB)
				return -EINVAL;
			break;
		case PCI_BAR_MEM64:
			if (!is_pow2(d->size) || d->size < 16 ||
			    d->size > PCI_MAX_BAR_SIZE || i == PCI_NUM_BARS - 1 ||
			    info->bars[i + 1].type != PCI_BAR_NONE)
				return -EINVAL;
			i++;	/* the upper half */
			break;
		default:
			return -EINVAL;
		}
	}
	if (info->rom_size && (!is_pow2(info->rom_size) ||
			       info->rom_size < 2 * KiB ||
			       info->rom_size > PCI_MAX_ROM_SIZE))
		return -EINVAL;
	if (info->irq_pin > 4)
		return -EINVAL;
	return 0;
}

static void init_region(struct pci_function *fn, unsigned int index,
			enum pci_bar_type type, u64 size, bool prefetchable)
{
	struct pci_region *r = &fn->regions[index];

	r->fn = fn;
	r->index = index;
	r->type = type;
	r->size = size;
	r->prefetchable = prefetchable;
	if (index == PCI_ROM_BAR)
		snprintf(r->name, sizeof(r->name), "%s ROM", fn->name);
	else
		snprintf(r->name, sizeof(r->name), "%s BAR%u", fn->name, index);
}

static void init_header(struct pci_function *fn,
			const struct pci_function_info *info)
{
	unsigned int i;

	put_le(fn->config, PCI_VENDOR_ID, 2, info->vendor_id);
	put_le(fn->config, PCI_DEVICE_ID, 2, info->device_id);
	put_le(fn->config, PCI_CLASS_REVISION, 4,
	       (info->class_code << 8) | info->revision);
	put_le(fn->config, PCI_SUBSYSTEM_VENDOR_ID, 2,
	       info->subsystem_vendor_id);
	put_le(fn->config, PCI_SUBSYSTEM_ID, 2, info->subsystem_id);
	fn->config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	fn->config[PCI_INTERRUPT_PIN] = info->irq_pin;

	put_le(fn->wmask, PCI_COMMAND, 2, PCI_COMMAND_WRITABLE);
	put_le(fn->w1c, PCI_STATUS, 2, PCI_STATUS_W1C);
	fn->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	fn->wmask[PCI_INTERRUPT_LINE] = 0xff;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_desc *d = &info->bars[i];
		u32 off = PCI_BASE_ADDRESS_0 + 4 * i;
		u32 flags = d->prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;

		switch (d->type) {
		case PCI_BAR_NONE:
			break;
		case PCI_BAR_IO:
			init_region(fn, i, d->type, d->size, false);
			put_le(fn->config, off, 4, PCI_BASE_ADDRESS_SPACE_IO);
			put_le(fn->wmask, off, 4, ~(u32)(d->size - 1) & ~3u);
			break;
		case PCI_BAR_MEM32:
			init_region(fn, i, d->type, d->size, d->prefetchable);
			put_le(fn->config, off, 4, flags);
			put_le(fn->wmask, off, 4, ~(u32)(d->size - 1) & ~0xfu);
			break;
		case PCI_BAR_MEM64:
			init_region(fn, i, d->type, d->size, d->prefetchable);
			put_le(fn->config, off, 4,
			       flags | PCI_BASE_ADDRESS_MEM_TYPE_64);
			put_le(fn->wmask, off, 4, (u32)~(d->size - 1) & ~0xfu);
			put_le(fn->wmask, off + 4, 4, (u32)(~(d->size - 1) >> 32));
			i++;
			break;
		}
	}
	if (info->rom_size) {
		init_region(fn, PCI_ROM_BAR, PCI_BAR_MEM32, info->rom_size,
			    false);
		put_le(fn->wmask, PCI_ROM_ADDRESS, 4,
		       ((u32)~(info->rom_size - 1) & PCI_ROM_ADDRESS_MASK) |
		       PCI_ROM_ADDRESS_ENABLE);
	}
}

int pci_function_new(const struct dev_services *svc,
		     const struct pci_function_info *info,
		     const struct pci_function_ops *ops, void *priv,
		     struct pci_function **out)
{
	static const struct pci_function_ops no_ops;
	pthread_mutexattr_t attr;
	struct pci_function *fn;
	int ret;

	ret = check_bars(info);
	if (ret) {
		log_debug("%s: invalid BAR, ROM or pin description",
			info->name ? info->name : "?");
		return ret;
	}
	fn = calloc(1, sizeof(*fn));
	if (!fn)
		return -ENOMEM;
	fn->svc = svc;
	fn->ops = ops ? ops : &no_ops;
	fn->priv = priv;
	fn->devfn = -1;
	fn->cap_end = PCI_CAP_FIRST;
	fn->intx.gsi = -1;
	fn->intx.trigger_fd = fn->intx.resample_fd = -1;
	snprintf(fn->name, sizeof(fn->name), "%s",
		 info->name ? info->name : "pci");
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&fn->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	init_header(fn, info);

	if (info->irq_pin) {
		fn->intx.pin = info->irq_pin;
		fn->intx.trigger_fd = irq_eventfd_create();
		fn->intx.resample_fd = irq_eventfd_create();
		if (fn->intx.trigger_fd < 0 || fn->intx.resample_fd < 0) {
			ret = fn->intx.trigger_fd < 0 ? fn->intx.trigger_fd :
							fn->intx.resample_fd;
			pci_function_destroy(fn);
			return ret;
		}
	}
	*out = fn;
	return 0;
}

static void vector_release(struct pci_function *fn, struct pci_vector *v)
{
	struct irq_router *irq = fn->svc->irq;

	if (v->attached)
		irq_irqfd_deassign(irq, v->fd, v->gsi);
	if (v->routed)
		irq_msi_route_remove(irq, v->gsi);
	if (v->fd >= 0)
		close(v->fd);
	v->attached = v->routed = false;
	v->fd = -1;
}

void pci_function_destroy(struct pci_function *fn)
{
	unsigned int i;

	if (!fn)
		return;
	for (i = 0; i < PCI_NUM_REGIONS; i++) {
		struct pci_region *r = &fn->regions[i];

		if (r->on)
			bus_unregister(r->type == PCI_BAR_IO ? fn->svc->pio :
				       fn->svc->mmio, r->addr, r);
	}
	if (fn->msi.cap)
		for (i = 0; i < fn->msi.max_vectors; i++)
			vector_release(fn, &fn->msi.vec[i]);
	if (fn->msix.vec)
		for (i = 0; i < fn->msix.nr; i++)
			vector_release(fn, &fn->msix.vec[i]);
	free(fn->msix.vec);
	free(fn->msix.table);
	if (fn->intx.attached)
		irq_irqfd_deassign(fn->svc->irq, fn->intx.trigger_fd,
				   fn->intx.gsi);
	if (fn->intx.trigger_fd >= 0)
		close(fn->intx.trigger_fd);
	if (fn->intx.resample_fd >= 0)
		close(fn->intx.resample_fd);
	pthread_mutex_destroy(&fn->lock);
	free(fn);
}

void *pci_function_priv(struct pci_function *fn)
{
	return fn->priv;
}

const char *pci_function_name(struct pci_function *fn)
{
	return fn->name;
}

int pci_function_devfn(struct pci_function *fn)
{
	int devfn;

	pthread_mutex_lock(&fn->lock);
	devfn = fn->devfn;
	pthread_mutex_unlock(&fn->lock);
	return devfn;
}

/* ---- vectors: eventfd + route + irqfd ----------------------------------- */

static int vectors_create(struct pci_vector *vec, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		vec[i].fd = -1;
	for (i = 0; i < n; i++) {
		vec[i].fd = irq_eventfd_create();
		if (vec[i].fd < 0)
			return vec[i].fd;
	}
	return 0;
}

/* Forget what was raised while the vector could not be delivered. */
static void vector_drain(struct pci_vector *v)
{
	irq_eventfd_consume(v->fd);
	v->pending = false;
}

/*
 * Bring one vector in line with the guest's programming. Active: a route
 * with this address/data and an attached irqfd, so KVM delivers writes to
 * the eventfd (a count that built up meanwhile is delivered once). Not
 * active: no irqfd, so writes stay in the counter (pending).
 */
static void vector_sync(struct pci_function *fn, struct pci_vector *v,
			bool active, u64 addr, u32 data)
{
	struct irq_router *irq = fn->svc->irq;

	if (!active) {
		if (v->attached && !irq_irqfd_deassign(irq, v->fd, v->gsi))
			v->attached = false;
		return;
	}
	if (!irq)
		return;		/* no KVM (unit tests without a router) */
	if (!v->routed) {
		if (irq_msi_route_add(irq, addr, data, &v->gsi))
			return;
		v->routed = true;
		v->addr = addr;
		v->data = data;
	} else if ((v->addr != addr || v->data != data) &&
		   !irq_msi_route_update(irq, v->gsi, addr, data)) {
		v->addr = addr;
		v->data = data;
	}
	if (v->attached)
		return;
	if (irq_eventfd_consume(v->fd))
		v->pending = true;
	if (irq_irqfd_assign(irq, v->fd, v->gsi, -1))
		return;
	v->attached = true;
	if (v->pending) {
		v->pending = false;
		irq_eventfd_signal(v->fd);
	}
}

/* A vector without an irqfd turns its counter into the pending bit. */
static void vector_refresh_pending(struct pci_vector *v)
{
	if (!v->attached && irq_eventfd_consume(v->fd))
		v->pending = true;
}

/* ---- MSI ---------------------------------------------------------------- */

static u32 msi_data_off(const struct pci_msi_state *m)
{
	return m->cap + (m->addr64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
}

static u32 msi_mask_off(const struct pci_msi_state *m)
{
	return m->cap + (m->addr64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

static u32 msi_pending_off(const struct pci_msi_state *m)
{
	return m->cap + (m->addr64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
}

static u32 msi_cap_size(bool addr64, bool maskable)
{
	if (maskable)
		return addr64 ? PCI_MSI_PENDING_64 + 4 : PCI_MSI_PENDING_32 + 4;
	return addr64 ? PCI_MSI_DATA_64 + 2 : PCI_MSI_DATA_32 + 2;
}

static u32 vector_bits(unsigned int n)
{
	return n >= 32 ? ~0u : (1u << n) - 1;
}

static void msi_store_pending(struct pci_function *fn)
{
	struct pci_msi_state *m = &fn->msi;
	u32 bits = 0;
	unsigned int i;

	if (!m->maskable)
		return;
	for (i = 0; i < m->max_vectors; i++)
		if (m->vec[i].pending)
			bits |= 1u << i;
	put_le(fn->config, msi_pending_off(m), 4, bits);
}

static void msi_refresh_pending(struct pci_function *fn)
{
	unsigned int i;

	/* Only vectors the guest enabled can be pending; others drop. */
	for (i = 0; i < fn->msi.max_vectors; i++)
		if (fn->msi.enabled && i < fn->msi.nr_enabled)
			vector_refresh_pending(&fn->msi.vec[i]);
	msi_store_pending(fn);
}

/* The MSI capability was written: apply enable, MME, address, data, mask. */
static void msi_update(struct pci_function *fn)
{
	struct pci_msi_state *m = &fn->msi;
	u16 flags = get_le(fn->config, m->cap + PCI_MSI_FLAGS, 2);
	bool enabled = flags & PCI_MSI_FLAGS_ENABLE;
	unsigned int mme = (flags & PCI_MSI_FLAGS_QSIZE) >> 4;
	unsigned int nr = MIN(1u << MIN(mme, 5u), m->max_vectors);
	unsigned int old_nr = m->enabled ? m->nr_enabled : 0;
	bool was_enabled = m->enabled;
	u64 addr;
	u32 data, mask = 0;
	unsigned int i;

	addr = get_le(fn->config, m->cap + PCI_MSI_ADDRESS_LO, 4);
	if (m->addr64)
		addr |= (u64)get_le(fn->config, m->cap + PCI_MSI_ADDRESS_HI, 4)
			<< 32;
	data = get_le(fn->config, msi_data_off(m), 2);
	if (m->maskable)
		mask = get_le(fn->config, msi_mask_off(m), 4);

	/* Vectors that just became usable start clean. */
	for (i = old_nr; enabled && i < nr; i++)
		vector_drain(&m->vec[i]);
	m->enabled = enabled;
	m->nr_enabled = nr;
	for (i = 0; i < m->max_vectors; i++) {
		bool active = enabled && i < nr && !(mask & (1u << i));

		/* Multiple messages: the low bits of data are the vector. */
		vector_sync(fn, &m->vec[i], active, addr,
			    (data & ~(nr - 1)) | i);
		if (!(enabled && i < nr))
			m->vec[i].pending = false;
	}
	msi_store_pending(fn);
	for (i = 0; i < m->max_vectors && fn->ops->vector_mask_changed; i++)
		if ((mask ^ m->mask) & (1u << i))
			fn->ops->vector_mask_changed(fn, PCI_IRQ_MSI, i,
						     mask & (1u << i));
	m->mask = mask;
	if ((enabled != was_enabled || (enabled && nr != old_nr)) &&
	    fn->ops->irq_mode_changed)
		fn->ops->irq_mode_changed(fn, enabled ? PCI_IRQ_MSI : PCI_IRQ_INTX,
					  enabled ? nr : 1);
}

/* Reserve or take over the capability at *cap_offset. */
static int claim_capability(struct pci_function *fn, u8 id, u32 size,
			    u8 *cap_offset)
{
	if (!*cap_offset)
		return pci_add_capability(fn, id, size, cap_offset);
	if (*cap_offset < PCI_CAP_FIRST || (*cap_offset & 3) ||
	    *cap_offset + size > PCI_LEGACY_CONFIG_SIZE ||
	    fn->config[*cap_offset] != id)
		return -EINVAL;
	return 0;
}

int pci_msi_init(struct pci_function *fn, u8 cap_offset,
		 unsigned int nr_vectors, bool addr64, bool per_vector_mask)
{
	struct pci_msi_state *m = &fn->msi;
	u32 size = msi_cap_size(addr64, per_vector_mask);
	unsigned int log2 = 0;
	u16 flags;
	int ret;

	if (m->cap || !is_pow2(nr_vectors) || nr_vectors > PCI_MSI_MAX_VECTORS)
		return -EINVAL;
	while ((1u << log2) < nr_vectors)
		log2++;
	ret = claim_capability(fn, PCI_CAP_ID_MSI, size, &cap_offset);
	if (ret)
		return ret;
	ret = vectors_create(m->vec, nr_vectors);
	if (ret) {
		while (nr_vectors--)
			if (m->vec[nr_vectors].fd >= 0)
				close(m->vec[nr_vectors].fd);
		return ret;
	}

	pthread_mutex_lock(&fn->lock);
	m->max_vectors = nr_vectors;
	m->addr64 = addr64;
	m->maskable = per_vector_mask;
	m->cap = cap_offset;
	flags = log2 << 1;
	if (addr64)
		flags |= PCI_MSI_FLAGS_64BIT;
	if (per_vector_mask)
		flags |= PCI_MSI_FLAGS_MASKBIT;
	/* Clear everything after id and next, then describe. */
	memset(&fn->config[m->cap + 2], 0, size - 2);
	memset(&fn->wmask[m->cap + 2], 0, size - 2);
	put_le(fn->config, m->cap + PCI_MSI_FLAGS, 2, flags);
	put_le(fn->wmask, m->cap + PCI_MSI_FLAGS, 2,
	       PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	put_le(fn->wmask, m->cap + PCI_MSI_ADDRESS_LO, 4, ~3u);
	if (addr64)
		put_le(fn->wmask, m->cap + PCI_MSI_ADDRESS_HI, 4, ~0u);
	put_le(fn->wmask, msi_data_off(m), 2, 0xffff);
	if (per_vector_mask)
		put_le(fn->wmask, msi_mask_off(m), 4, vector_bits(nr_vectors));
	pthread_mutex_unlock(&fn->lock);
	return 0;
}

int pci_msi_notify(struct pci_function *fn, unsigned int vector)
{
	if (!fn->msi.cap || vector >= fn->msi.max_vectors)
		return -EINVAL;
	return irq_eventfd_signal(fn->msi.vec[vector].fd);
}

int pci_msi_eventfd(struct pci_function *fn, unsigned int vector)
{
	if (!fn->msi.cap || vector >= fn->msi.max_vectors)
		return -EINVAL;
	return fn->msi.vec[vector].fd;
}

/* ---- MSI-X -------------------------------------------------------------- */

static u32 msix_pba_size(unsigned int nr)
{
	return ALIGN_UP(nr, 64u) / 8;
}

static void msix_sync_vector(struct pci_function *fn, unsigned int n)
{
	struct pci_msix_state *x = &fn->msix;
	const u32 *e = x->table[n];
	bool active = x->enabled && !x->masked &&
		      !(e[PCI_MSIX_ENTRY_VECTOR_CTRL / 4] & MSIX_CTRL_MASKBIT);

	vector_sync(fn, &x->vec[n], active,
		    e[PCI_MSIX_ENTRY_LOWER_ADDR / 4] |
		    (u64)e[PCI_MSIX_ENTRY_UPPER_ADDR / 4] << 32,
		    e[PCI_MSIX_ENTRY_DATA / 4]);
}

/* Message control was written: enable and function mask. */
static void msix_update(struct pci_function *fn)
{
	struct pci_msix_state *x = &fn->msix;
	u16 flags = get_le(fn->config, x->cap + PCI_MSIX_FLAGS, 2);
	bool enabled = flags & PCI_MSIX_FLAGS_ENABLE;
	bool masked = flags & PCI_MSIX_FLAGS_MASKALL;
	bool was_enabled = x->enabled;
	unsigned int i;

	if (enabled == x->enabled && masked == x->masked)
		return;
	if (enabled && !was_enabled)
		for (i = 0; i < x->nr; i++)
			vector_drain(&x->vec[i]);
	x->enabled = enabled;
	x->masked = masked;
	for (i = 0; i < x->nr; i++)
		msix_sync_vector(fn, i);
	if (enabled != was_enabled && fn->ops->irq_mode_changed)
		fn->ops->irq_mode_changed(fn, enabled ? PCI_IRQ_MSIX : PCI_IRQ_INTX,
					  enabled ? x->nr : 1);
}

int pci_msix_init(struct pci_function *fn, u8 cap_offset,
		  unsigned int nr_vectors, unsigned int table_bar,
		  u32 table_off, unsigned int pba_bar, u32 pba_off)
{
	struct pci_msix_state *x = &fn->msix;
	u64 table_end = table_off + (u64)nr_vectors * PCI_MSIX_ENTRY_SIZE;
	u64 pba_end = pba_off + (u64)msix_pba_size(nr_vectors);
	unsigned int i;
	int ret;

	if (x->cap || !nr_vectors || nr_vectors > PCI_MSIX_MAX_VECTORS ||
	    table_bar >= PCI_NUM_BARS || pba_bar >= PCI_NUM_BARS ||
	    (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	/* Both inside memory BARs, and apart when they share one. */
	if (fn->regions[table_bar].type < PCI_BAR_MEM32 ||
	    fn->regions[pba_bar].type < PCI_BAR_MEM32 ||
	    table_end > fn->regions[table_bar].size ||
	    pba_end > fn->regions[pba_bar].size ||
	    (table_bar == pba_bar && table_off < pba_end && pba_off < table_end))
		return -EINVAL;
	ret = claim_capability(fn, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF,
			       &cap_offset);
	if (ret)
		return ret;
	x->table = calloc(nr_vectors, sizeof(*x->table));
	x->vec = calloc(nr_vectors, sizeof(*x->vec));
	if (!x->table || !x->vec) {
		ret = -ENOMEM;
		goto err;
	}
	/* vectors_create() marks them all closed before it opens any. */
	ret = vectors_create(x->vec, nr_vectors);
	if (ret)
		goto err;

	pthread_mutex_lock(&fn->lock);
	x->nr = nr_vectors;
	x->table_bar = table_bar;
	x->table_off = table_off;
	x->pba_bar = pba_bar;
	x->pba_off = pba_off;
	/* Every vector starts masked (PCI spec, MSI-X vector control). */
	for (i = 0; i < nr_vectors; i++)
		x->table[i][PCI_MSIX_ENTRY_VECTOR_CTRL / 4] = MSIX_CTRL_MASKBIT;
	x->cap = cap_offset;
	memset(&fn->config[x->cap + 2], 0, PCI_CAP_MSIX_SIZEOF - 2);
	memset(&fn->wmask[x->cap + 2], 0, PCI_CAP_MSIX_SIZEOF - 2);
	put_le(fn->config, x->cap + PCI_MSIX_FLAGS, 2, nr_vectors - 1);
	put_le(fn->wmask, x->cap + PCI_MSIX_FLAGS, 2,
	       PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	put_le(fn->config, x->cap + PCI_MSIX_TABLE, 4, table_off | table_bar);
	put_le(fn->config, x->cap + PCI_MSIX_PBA, 4, pba_off | pba_bar);
	pthread_mutex_unlock(&fn->lock);
	return 0;
err:
	if (x->vec && x->table)
		for (i = 0; i < nr_vectors; i++)
			if (x->vec[i].fd >= 0)
				close(x->vec[i].fd);
	free(x->vec);
	free(x->table);
	x->vec = NULL;
	x->table = NULL;
	return ret;
}

int pci_msix_notify(struct pci_function *fn, unsigned int vector)
{
	if (!fn->msix.cap || vector >= fn->msix.nr)
		return -EINVAL;
	return irq_eventfd_signal(fn->msix.vec[vector].fd);
}

int pci_msix_eventfd(struct pci_function *fn, unsigned int vector)
{
	if (!fn->msix.cap || vector >= fn->msix.nr)
		return -EINVAL;
	return fn->msix.vec[vector].fd;
}

/* Caller holds lock; [off, off + len) is inside the table. */
static void msix_table_read(struct pci_function *fn, u64 off, u8 *data,
			    u32 len)
{
	u32 i;

	for (i = 0; i < len; i++) {
		u64 o = off + i;
		u32 dword = fn->msix.table[o / 16][(o % 16) / 4];

		data[i] = dword >> (8 * (o % 4));
	}
}

static void msix_table_write(struct pci_function *fn, u64 off,
			     const u8 *data, u32 len)
{
	/* Writable bits of the four dwords of an entry. */
	static const u32 wmask[MSIX_ENTRY_DWORDS] = {
		~3u, ~0u, ~0u, MSIX_CTRL_MASKBIT,
	};
	u64 first = off / 16, last = (off + len - 1) / 16, n;
	u32 ctrl[2], i;

	for (n = first; n <= last && n - first < 2; n++)
		ctrl[n - first] = fn->msix.table[n][PCI_MSIX_ENTRY_VECTOR_CTRL / 4];
	for (i = 0; i < len; i++) {
		u64 o = off + i;
		u32 *dword = &fn->msix.table[o / 16][(o % 16) / 4];
		u32 shift = 8 * (o % 4);
		u32 m = wmask[(o % 16) / 4] & (0xffu << shift);

		*dword = (*dword & ~m) | (((u32)data[i] << shift) & m);
	}
	for (n = first; n <= last; n++) {
		u32 now = fn->msix.table[n][PCI_MSIX_ENTRY_VECTOR_CTRL / 4];

		msix_sync_vector(fn, n);
		if (n - first < 2 && ((now ^ ctrl[n - first]) & MSIX_CTRL_MASKBIT) &&
		    fn->ops->vector_mask_changed)
			fn->ops->vector_mask_changed(fn, PCI_IRQ_MSIX, n,
						     now & MSIX_CTRL_MASKBIT);
	}
}

static void msix_pba_read(struct pci_function *fn, u64 off, u8 *data,
			  u32 len)
{
	struct pci_msix_state *x = &fn->msix;
	u32 i, bit;

	for (i = 0; i < len; i++) {
		u8 byte = 0;

		for (bit = 0; bit < 8; bit++) {
			u64 n = (off + i) * 8 + bit;

			if (n >= x->nr)
				break;
			if (x->enabled)
				vector_refresh_pending(&x->vec[n]);
			if (x->vec[n].pending)
				byte |= 1u << bit;
		}
		data[i] = byte;
	}
}

enum msix_part { MSIX_NONE, MSIX_TABLE, MSIX_PBA, MSIX_STRADDLE };

static enum msix_part msix_claims(struct pci_function *fn, unsigned int bar,
				  u64 off, u32 len, u64 *rel)
{
	struct pci_msix_state *x = &fn->msix;
	u64 table_size = (u64)x->nr * PCI_MSIX_ENTRY_SIZE;
	u64 pba_size = msix_pba_size(x->nr);

	if (!x->cap)
		return MSIX_NONE;
	if (bar == x->table_bar && off < x->table_off + table_size &&
	    x->table_off < off + len) {
		if (off < x->table_off || off + len > x->table_off + table_size)
			return MSIX_STRADDLE;
		*rel = off - x->table_off;
		return MSIX_TABLE;
	}
	if (bar == x->pba_bar && off < x->pba_off + pba_size &&
	    x->pba_off < off + len) {
		if (off < x->pba_off || off + len > x->pba_off + pba_size)
			return MSIX_STRADDLE;
		*rel = off - x->pba_off;
		return MSIX_PBA;
	}
	return MSIX_NONE;
}

/* ---- BARs on the buses ---------------------------------------------------- */

static void region_read(void *dev, u64 off, void *data, u32 len)
{
	struct pci_region *r = dev;
	struct pci_function *fn = r->fn;
	u64 rel = 0;

	switch (msix_claims(fn, r->index, off, len, &rel)) {
	case MSIX_TABLE:
		pthread_mutex_lock(&fn->lock);
		msix_table_read(fn, rel, data, len);
		pthread_mutex_unlock(&fn->lock);
		return;
	case MSIX_PBA:
		pthread_mutex_lock(&fn->lock);
		msix_pba_read(fn, rel, data, len);
		pthread_mutex_unlock(&fn->lock);
		return;
	case MSIX_STRADDLE:
		memset(data, 0xff, len);
		return;
	case MSIX_NONE:
		break;
	}
	if (fn->ops->bar_read)
		fn->ops->bar_read(fn, r->index, off, data, len);
	else
		memset(data, 0xff, len);
}

static void region_write(void *dev, u64 off, const void *data, u32 len)
{
	struct pci_region *r = dev;
	struct pci_function *fn = r->fn;
	u64 rel = 0;

	switch (msix_claims(fn, r->index, off, len, &rel)) {
	case MSIX_TABLE:
		pthread_mutex_lock(&fn->lock);
		msix_table_write(fn, rel, data, len);
		pthread_mutex_unlock(&fn->lock);
		return;
	case MSIX_PBA:		/* read-only */
	case MSIX_STRADDLE:
		return;
	case MSIX_NONE:
		break;
	}
	/* The ROM is read-only. */
	if (r->index != PCI_ROM_BAR && fn->ops->bar_write)
		fn->ops->bar_write(fn, r->index, off, data, len);
}

static const struct bus_ops region_ops = {
	.read = region_read,
	.write = region_write,
};

static bool overlaps_ram(struct pci_function *fn, u64 addr, u64 size)
{
	const struct guest_memory *mem = fn->svc->mem;
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *m = &mem->regions[i];

		if (addr < m->gpa + m->size && m->gpa < addr + size)
			return true;
	}
	return false;
}

/* What the config space says about region r: address and decode. */
static struct pci_bar_window region_wanted(struct pci_function *fn,
					   const struct pci_region *r)
{
	u32 off = PCI_BASE_ADDRESS_0 + 4 * r->index;
	struct pci_bar_window w = { 0 };
	u64 limit;
	u32 raw;

	switch (r->type) {
	case PCI_BAR_IO:
		w.addr = get_le(fn->config, off, 4) & PCI_BASE_ADDRESS_IO_MASK;
		w.on = fn->command & PCI_COMMAND_IO;
		limit = PCI_IO_SPACE_END;
		break;
	case PCI_BAR_MEM32:
		if (r->index == PCI_ROM_BAR) {
			raw = get_le(fn->config, PCI_ROM_ADDRESS, 4);
			w.addr = raw & PCI_ROM_ADDRESS_MASK;
			w.on = (fn->command & PCI_COMMAND_MEMORY) &&
			       (raw & PCI_ROM_ADDRESS_ENABLE);
		} else {
			w.addr = get_le(fn->config, off, 4) &
				 PCI_BASE_ADDRESS_MEM_MASK;
			w.on = fn->command & PCI_COMMAND_MEMORY;
		}
		limit = PCI_MEM32_SPACE_END;
		break;
	case PCI_BAR_MEM64:
		w.addr = (get_le(fn->config, off, 4) & PCI_BASE_ADDRESS_MEM_MASK) |
			 (u64)get_le(fn->config, off + 4, 4) << 32;
		w.on = fn->command & PCI_COMMAND_MEMORY;
		limit = PCI_MEM64_SPACE_END;
		break;
	default:
		return w;
	}
	/*
	 * Address 0 means unassigned; a BAR past its space's end (the
	 * all-ones of sizing) or over RAM decodes nothing.
	 */
	if (!w.addr || w.addr > limit - r->size ||
	    (r->type != PCI_BAR_IO && overlaps_ram(fn, w.addr, r->size)))
		w.on = false;
	return w;
}

/* Caller holds lock: make the bus registration match the config space. */
static void region_update(struct pci_function *fn, struct pci_region *r)
{
	struct bus *bus = r->type == PCI_BAR_IO ? fn->svc->pio : fn->svc->mmio;
	struct pci_bar_window want;
	struct pci_region old = *r;
	int ret;

	if (r->type == PCI_BAR_NONE)
		return;
	want = region_wanted(fn, r);
	if (want.on == r->on && (!want.on || want.addr == r->addr)) {
		r->addr = want.addr;
		r->lost = false;	/* turned off: it wants nothing now */
		return;
	}
	if (r->on)
		bus_unregister(bus, r->addr, r);
	r->on = false;
	r->lost = false;
	r->addr = want.addr;
	if (want.on) {
		ret = bus_register(bus, r->addr, r->size, &region_ops, r,
				   r->name);
		if (ret && !old.lost)
			log_debug("%s: [%#llx, +%#llx) overlaps another range: not decoded (%s)",
				  r->name, (unsigned long long)r->addr,
				  (unsigned long long)r->size, strerror(-ret));
		r->lost = ret != 0;
		r->on = !ret;
	}
	if (old.on == r->on && (!r->on || old.addr == r->addr))
		return;
	log_debug("%s: %s %#llx", r->name, r->on ? "decodes at" : "off, was at",
		  (unsigned long long)(r->on ? r->addr : old.addr));
	if (fn->ops->bar_remap)
		fn->ops->bar_remap(fn, r->index,
				   (struct pci_bar_window) { old.addr, old.on },
				   (struct pci_bar_window) { r->addr, r->on });
}

/*
 * Two BARs programmed over each other: the one programmed second decodes
 * nothing (real hardware would answer twice). When the first moves away,
 * the second takes its place; the host calls this after every BAR or
 * COMMAND write, since the two may belong to different functions.
 */
void pci_function_retry_decode(struct pci_function *fn)
{
	unsigned int i;

	pthread_mutex_lock(&fn->lock);
	for (i = 0; i < PCI_NUM_REGIONS; i++)
		if (fn->regions[i].lost)
			region_update(fn, &fn->regions[i]);
	pthread_mutex_unlock(&fn->lock);
}

static void command_update(struct pci_function *fn)
{
	u16 cmd = get_le(fn->config, PCI_COMMAND, 2), old = fn->command;
	unsigned int i;

	if (cmd == old)
		return;
	STORE(fn->command, cmd);
	if ((old ^ cmd) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
		for (i = 0; i < PCI_NUM_REGIONS; i++)
			region_update(fn, &fn->regions[i]);
	/* INTx enabled again with the line high: assert it now. */
	if ((old & PCI_COMMAND_INTX_DISABLE) &&
	    !(cmd & PCI_COMMAND_INTX_DISABLE) && fn->intx.level &&
	    !fn->intx.external)
		irq_eventfd_signal(fn->intx.trigger_fd);
	if (fn->ops->command_changed)
		fn->ops->command_changed(fn, old, cmd);
}

struct pci_bar_window pci_bar_window(struct pci_function *fn, unsigned int bar)
{
	struct pci_bar_window w = { 0 };

	if (bar >= PCI_NUM_REGIONS)
		return w;
	pthread_mutex_lock(&fn->lock);
	w.addr = fn->regions[bar].addr;
	w.on = fn->regions[bar].on;
	pthread_mutex_unlock(&fn->lock);
	return w;
}

u64 pci_bar_size(struct pci_function *fn, unsigned int bar)
{
	return bar < PCI_NUM_REGIONS ? fn->regions[bar].size : 0;
}

enum pci_bar_type pci_bar_type(struct pci_function *fn, unsigned int bar)
{
	return bar < PCI_NUM_REGIONS ? fn->regions[bar].type : PCI_BAR_NONE;
}

/* ---- guest config access ---------------------------------------------------- */

u32 pci_config_emulated_read(struct pci_function *fn, u32 off, u32 len)
{
	u32 val;

	if (!valid_access(off, len))
		return ones(len);
	pthread_mutex_lock(&fn->lock);
	if (fn->msi.cap && fn->msi.maskable &&
	    overlaps(off, len, msi_pending_off(&fn->msi), 4))
		msi_refresh_pending(fn);
	val = get_le(fn->config, off, len);
	pthread_mutex_unlock(&fn->lock);
	return val;
}

u32 pci_config_read(struct pci_function *fn, u32 off, u32 len)
{
	u32 val;

	if (!valid_access(off, len))
		return ones(len);
	pthread_mutex_lock(&fn->lock);
	if (fn->ops->config_read && fn->ops->config_read(fn, off, len, &val))
		val &= ones(len);
	else
		val = pci_config_emulated_read(fn, off, len);
	pthread_mutex_unlock(&fn->lock);
	return val;
}

/* Caller holds lock: the side effects of a write to [off, off + len). */
static void config_written(struct pci_function *fn, u32 off, u32 len)
{
	struct pci_msi_state *m = &fn->msi;
	struct pci_msix_state *x = &fn->msix;
	unsigned int bar;

	if (overlaps(off, len, PCI_COMMAND, 2))
		command_update(fn);
	if (overlaps(off, len, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS)) {
		bar = (off - PCI_BASE_ADDRESS_0) / 4;
		region_update(fn, &fn->regions[bar]);
		/* The upper half of a 64-bit BAR moves the lower one. */
		if (bar && fn->regions[bar - 1].type == PCI_BAR_MEM64)
			region_update(fn, &fn->regions[bar - 1]);
	}
	if (overlaps(off, len, PCI_ROM_ADDRESS, 4))
		region_update(fn, &fn->regions[PCI_ROM_BAR]);
	if (m->cap && overlaps(off, len, m->cap,
			       msi_cap_size(m->addr64, m->maskable)))
		msi_update(fn);
	if (x->cap && overlaps(off, len, x->cap + PCI_MSIX_FLAGS, 2))
		msix_update(fn);
}

void pci_config_write(struct pci_function *fn, u32 off, u32 len, u32 val)
{
	u32 i;

	if (!valid_access(off, len))
		return;
	pthread_mutex_lock(&fn->lock);
	if (fn->ops->config_write && fn->ops->config_write(fn, off, len, val)) {
		pthread_mutex_unlock(&fn->lock);
		return;
	}
	for (i = 0; i < len; i++) {
		u32 o = off + i;
		u8 byte = val >> (8 * i);
		u8 cur = fn->config[o];

		cur = (cur & ~fn->wmask[o]) | (byte & fn->wmask[o]);
		cur &= ~(byte & fn->w1c[o]);
		fn->config[o] = cur;
	}
	config_written(fn, off, len);
	pthread_mutex_unlock(&fn->lock);
}

enum pci_irq_mode pci_irq_mode(struct pci_function *fn, unsigned int *nr_vectors)
{
	enum pci_irq_mode mode = PCI_IRQ_INTX;
	unsigned int nr = 1;

	pthread_mutex_lock(&fn->lock);
	if (fn->msix.cap && fn->msix.enabled) {
		mode = PCI_IRQ_MSIX;
		nr = fn->msix.nr;
	} else if (fn->msi.cap && fn->msi.enabled) {
		mode = PCI_IRQ_MSI;
		nr = fn->msi.nr_enabled;
	}
	pthread_mutex_unlock(&fn->lock);
	if (nr_vectors)
		*nr_vectors = nr;
	return mode;
}

/* ---- INTx ----------------------------------------------------------------- */

static void intx_set_status(struct pci_function *fn, bool level)
{
	if (level)
		fn->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		fn->config[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
}

int pci_intx_set_level(struct pci_function *fn, bool level)
{
	int ret = 0;

	if (!fn->intx.pin)
		return -ENODEV;
	pthread_mutex_lock(&fn->lock);
	STORE(fn->intx.level, level);
	intx_set_status(fn, level);
	if (level && !(fn->command & PCI_COMMAND_INTX_DISABLE) &&
	    !fn->intx.external)
		ret = irq_eventfd_signal(fn->intx.trigger_fd);
	pthread_mutex_unlock(&fn->lock);
	return ret;
}

int pci_intx_eventfds(struct pci_function *fn, int *trigger_fd,
		      int *resample_fd)
{
	if (!fn->intx.pin)
		return -ENODEV;
	pthread_mutex_lock(&fn->lock);
	STORE(fn->intx.external, true);
	*trigger_fd = fn->intx.trigger_fd;
	if (resample_fd)
		*resample_fd = fn->intx.resample_fd;
	pthread_mutex_unlock(&fn->lock);
	return 0;
}

int pci_function_intx_gsi(struct pci_function *fn)
{
	int gsi;

	pthread_mutex_lock(&fn->lock);
	gsi = fn->intx.pin ? fn->intx.gsi : -1;
	pthread_mutex_unlock(&fn->lock);
	return gsi;
}

/* Lock-free: the host's resample thread calls these under the host lock. */
int pci_intx_watch_fd(struct pci_function *fn)
{
	if (!fn->intx.pin || !LOAD(fn->intx.attached))
		return -1;
	/* A line driven elsewhere with nobody to tell is left alone. */
	if (LOAD(fn->intx.external) && !fn->ops->intx_resampled)
		return -1;
	return fn->intx.resample_fd;
}

bool pci_intx_resampled(struct pci_function *fn)
{
	if (!fn->intx.pin)
		return false;
	irq_eventfd_consume(fn->intx.resample_fd);
	if (LOAD(fn->intx.external))
		return fn->ops->intx_resampled != NULL;
	/*
	 * KVM dropped the line at the EOI: a level still high asserts again.
	 * A level cleared just after this check costs one spurious interrupt
	 * on a level line, which its handler finds nothing to do for.
	 */
	if (LOAD(fn->intx.level) &&
	    !(LOAD(fn->command) & PCI_COMMAND_INTX_DISABLE))
		irq_eventfd_signal(fn->intx.trigger_fd);
	return false;
}

void pci_intx_notify_resampled(struct pci_function *fn)
{
	if (fn->ops->intx_resampled)
		fn->ops->intx_resampled(fn);
}

/* ---- attaching to the host -------------------------------------------------- */

int pci_function_attach(struct pci_function *fn, u8 devfn)
{
	struct irq_router *irq = fn->svc->irq;
	int ret = 0;

	pthread_mutex_lock(&fn->lock);
	if (fn->devfn >= 0) {
		ret = -EBUSY;
		goto out;
	}
	fn->devfn = devfn;
	if (!fn->intx.pin)
		goto out;
	fn->intx.gsi = pci_intx_gsi(PCI_DEVFN_SLOT(devfn), fn->intx.pin);
	if (!irq)
		goto out;	/* no KVM: the line stays unconnected */
	ret = irq_irqfd_assign(irq, fn->intx.trigger_fd, fn->intx.gsi,
			       fn->intx.resample_fd);
	if (ret) {
		fn->devfn = -1;
		fn->intx.gsi = -1;
		goto out;
	}
	STORE(fn->intx.attached, true);
out:
	pthread_mutex_unlock(&fn->lock);
	return ret;
}

void pci_function_set_multifunction(struct pci_function *fn)
{
	pthread_mutex_lock(&fn->lock);
	fn->config[PCI_HEADER_TYPE] |= 0x80;
	pthread_mutex_unlock(&fn->lock);
}
