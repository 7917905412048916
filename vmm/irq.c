// SPDX-License-Identifier: MIT
/*
 * The VM's GSI routing table and irqfds (see irq.h). One mutex serializes
 * table changes with their commit, so KVM always holds the table the
 * router describes.
 */
#define LOG_PREFIX "irq"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "vmm/irq.h"

#define IRQ_DEFAULT_ROUTES (IRQ_IOAPIC_PINS + IRQ_PIC_PINS)

struct irq_router {
	const struct irq_backend_ops *ops;
	void *opaque;
	int vm_fd;			/* KVM backend only */

	/* lock protects msi, msi_used, nr_msi and the committed table. */
	pthread_mutex_t lock;
	unsigned int max_msi;
	struct kvm_irq_routing_msi *msi;	/* index = gsi - IRQ_MSI_GSI_BASE */
	bool *msi_used;
	unsigned int nr_msi;
	bool full_logged;		/* a guest can ask again and again */
	struct kvm_irq_routing *table;	/* scratch for commits */
};

static int kvm_set_routing(void *opaque, const struct kvm_irq_routing *table)
{
	struct irq_router *router = opaque;

	if (ioctl(router->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		return -errno;
	return 0;
}

static int kvm_irqfd(void *opaque, const struct kvm_irqfd *req)
{
	struct irq_router *router = opaque;

	if (ioctl(router->vm_fd, KVM_IRQFD, req) < 0)
		return -errno;
	return 0;
}

static const struct irq_backend_ops kvm_backend = {
	.set_routing = kvm_set_routing,
	.irqfd = kvm_irqfd,
};

int irq_router_create_with(const struct irq_backend_ops *ops, void *opaque,
			   unsigned int max_msi_routes, struct irq_router **out)
{
	struct irq_router *router;

	if (!ops || !ops->set_routing || !ops->irqfd || !max_msi_routes)
		return -EINVAL;
	router = calloc(1, sizeof(*router));
	if (!router)
		return -ENOMEM;
	pthread_mutex_init(&router->lock, NULL);
	router->ops = ops;
	router->opaque = opaque;
	router->vm_fd = -1;
	router->max_msi = MIN(max_msi_routes, (unsigned int)IRQ_MAX_MSI_ROUTES);
	router->msi = calloc(router->max_msi, sizeof(*router->msi));
	router->msi_used = calloc(router->max_msi, sizeof(*router->msi_used));
	router->table = calloc(1, sizeof(*router->table) +
			       (IRQ_DEFAULT_ROUTES + router->max_msi) *
			       sizeof(router->table->entries[0]));
	if (!router->msi || !router->msi_used || !router->table) {
		irq_router_destroy(router);
		return -ENOMEM;
	}
	*out = router;
	return 0;
}

int irq_router_create(int vm_fd, struct irq_router **out, char *err,
		      size_t err_len)
{
	struct irq_router *router;
	int max_routes, ret;

	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0 ||
	    ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE) <= 0) {
		return err_fmt(err, err_len, -ENOTSUP,
			       "KVM lacks irqfd with resampling (KVM_CAP_IRQFD_RESAMPLE)");
	}
	/* The capability's value is the table's size limit. */
	max_routes = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	if (max_routes <= IRQ_DEFAULT_ROUTES) {
		return err_fmt(err, err_len, -ENOTSUP,
			       "KVM GSI routing holds %d routes, uvmm needs more than %d",
			       max_routes, IRQ_DEFAULT_ROUTES);
	}
	ret = irq_router_create_with(&kvm_backend, NULL,
				     max_routes - IRQ_DEFAULT_ROUTES, &router);
	if (ret)
		return ret;
	router->opaque = router;
	router->vm_fd = vm_fd;
	*out = router;
	return 0;
}

void irq_router_destroy(struct irq_router *router)
{
	if (!router)
		return;
	pthread_mutex_destroy(&router->lock);
	free(router->table);
	free(router->msi_used);
	free(router->msi);
	free(router);
}

/* Caller holds lock. */
static int irq_commit(struct irq_router *router)
{
	struct kvm_irq_routing_entry *e = router->table->entries;
	unsigned int i, n = 0;

	memset(router->table, 0, sizeof(*router->table));
	for (i = 0; i < IRQ_IOAPIC_PINS; i++) {
		memset(&e[n], 0, sizeof(e[n]));
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n].u.irqchip.pin = i;
		n++;
		if (i >= IRQ_PIC_PINS)
			continue;
		memset(&e[n], 0, sizeof(e[n]));
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
						 KVM_IRQCHIP_PIC_SLAVE;
		e[n].u.irqchip.pin = i % 8;
		n++;
	}
	for (i = 0; i < router->max_msi; i++) {
		if (!router->msi_used[i])
			continue;
		memset(&e[n], 0, sizeof(e[n]));
		e[n].gsi = IRQ_MSI_GSI_BASE + i;
		e[n].type = KVM_IRQ_ROUTING_MSI;
		e[n].u.msi = router->msi[i];
		n++;
	}
	router->table->nr = n;
	return router->ops->set_routing(router->opaque, router->table);
}

static struct kvm_irq_routing_msi msi_entry(u64 addr, u32 data)
{
	return (struct kvm_irq_routing_msi) {
		.address_lo = (u32)addr,
		.address_hi = (u32)(addr >> 32),
		.data = data,
	};
}

int irq_msi_route_add(struct irq_router *router, u64 addr, u32 data, u32 *gsi)
{
	unsigned int i;
	int ret;

	pthread_mutex_lock(&router->lock);
	for (i = 0; i < router->max_msi && router->msi_used[i]; i++)
		;
	if (i == router->max_msi) {
		if (!router->full_logged)
			log_warn("all %u MSI routes are in use: further vectors stay undelivered",
				 router->max_msi);
		router->full_logged = true;
		pthread_mutex_unlock(&router->lock);
		return -ENOSPC;
	}
	router->msi[i] = msi_entry(addr, data);
	router->msi_used[i] = true;
	ret = irq_commit(router);
	if (ret) {
		router->msi_used[i] = false;
		log_warn("KVM_SET_GSI_ROUTING adding GSI %u: %s",
			 IRQ_MSI_GSI_BASE + i, strerror(-ret));
	} else {
		router->nr_msi++;
		*gsi = IRQ_MSI_GSI_BASE + i;
	}
	pthread_mutex_unlock(&router->lock);
	return ret;
}

/* Caller holds lock: the MSI slot of gsi, or -1 if it is not a live route. */
static int msi_slot(struct irq_router *router, u32 gsi)
{
	if (gsi < IRQ_MSI_GSI_BASE || gsi - IRQ_MSI_GSI_BASE >= router->max_msi ||
	    !router->msi_used[gsi - IRQ_MSI_GSI_BASE])
		return -1;
	return gsi - IRQ_MSI_GSI_BASE;
}

int irq_msi_route_update(struct irq_router *router, u32 gsi, u64 addr,
			 u32 data)
{
	struct kvm_irq_routing_msi old;
	int slot, ret;

	pthread_mutex_lock(&router->lock);
	slot = msi_slot(router, gsi);
	if (slot < 0) {
		pthread_mutex_unlock(&router->lock);
		return -ENOENT;
	}
	old = router->msi[slot];
	router->msi[slot] = msi_entry(addr, data);
	if (!memcmp(&old, &router->msi[slot], sizeof(old))) {
		pthread_mutex_unlock(&router->lock);
		return 0;
	}
	ret = irq_commit(router);
	if (ret) {
		router->msi[slot] = old;
		log_warn("KVM_SET_GSI_ROUTING updating GSI %u: %s", gsi,
			 strerror(-ret));
	}
	pthread_mutex_unlock(&router->lock);
	return ret;
}

int irq_msi_route_remove(struct irq_router *router, u32 gsi)
{
	int slot, ret;

	pthread_mutex_lock(&router->lock);
	slot = msi_slot(router, gsi);
	if (slot < 0) {
		pthread_mutex_unlock(&router->lock);
		return -ENOENT;
	}
	router->msi_used[slot] = false;
	ret = irq_commit(router);
	if (ret) {
		router->msi_used[slot] = true;
		log_warn("KVM_SET_GSI_ROUTING removing GSI %u: %s", gsi,
			 strerror(-ret));
	} else {
		router->nr_msi--;
	}
	pthread_mutex_unlock(&router->lock);
	return ret;
}

unsigned int irq_msi_route_count(struct irq_router *router)
{
	unsigned int n;

	pthread_mutex_lock(&router->lock);
	n = router->nr_msi;
	pthread_mutex_unlock(&router->lock);
	return n;
}

int irq_irqfd_assign(struct irq_router *router, int fd, u32 gsi,
		     int resample_fd)
{
	struct kvm_irqfd req = { .fd = fd, .gsi = gsi };
	int ret;

	if (fd < 0)
		return -EBADF;
	if (resample_fd >= 0) {
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = resample_fd;
	}
	ret = router->ops->irqfd(router->opaque, &req);
	if (ret)
		log_warn("KVM_IRQFD fd %d -> GSI %u: %s", fd, gsi,
			 strerror(-ret));
	return ret;
}

int irq_irqfd_deassign(struct irq_router *router, int fd, u32 gsi)
{
	struct kvm_irqfd req = {
		.fd = fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN,
	};
	int ret;

	if (fd < 0)
		return -EBADF;
	ret = router->ops->irqfd(router->opaque, &req);
	if (ret)
		log_warn("KVM_IRQFD deassign fd %d from GSI %u: %s", fd, gsi,
			 strerror(-ret));
	return ret;
}

int irq_eventfd_create(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

int irq_eventfd_signal(int fd)
{
	u64 one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

bool irq_eventfd_consume(int fd)
{
	u64 count = 0;

	return read(fd, &count, sizeof(count)) == sizeof(count) && count;
}
