// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/support/fake_irq.h"

static int fake_set_routing(void *opaque, const struct kvm_irq_routing *table)
{
	struct fake_irq *f = opaque;

	if (f->fail_commits > 0) {
		f->fail_commits--;
		return -EIO;
	}
	if (table->nr > FAKE_IRQ_MAX_ROUTES)
		return -E2BIG;
	memcpy(f->table, table->entries, table->nr * sizeof(f->table[0]));
	f->nr_table = table->nr;
	f->commits++;
	return 0;
}

static int fake_irqfd(void *opaque, const struct kvm_irqfd *req)
{
	struct fake_irq *f = opaque;
	unsigned int i;

	for (i = 0; i < f->nr_irqfds; i++)
		if (f->irqfds[i].fd == (int)req->fd &&
		    f->irqfds[i].gsi == req->gsi)
			break;
	if (req->flags & KVM_IRQFD_FLAG_DEASSIGN) {
		if (i == f->nr_irqfds)
			return -ENOENT;
		f->irqfds[i] = f->irqfds[--f->nr_irqfds];
		f->deassigns++;
		return 0;
	}
	/* KVM refuses an eventfd that is already bound. */
	for (i = 0; i < f->nr_irqfds; i++)
		if (f->irqfds[i].fd == (int)req->fd)
			return -EBUSY;
	if (f->nr_irqfds == FAKE_IRQ_MAX_IRQFDS)
		return -ENOSPC;
	f->irqfds[f->nr_irqfds].fd = req->fd;
	f->irqfds[f->nr_irqfds].gsi = req->gsi;
	f->irqfds[f->nr_irqfds].resample_fd =
		req->flags & KVM_IRQFD_FLAG_RESAMPLE ? (int)req->resamplefd : -1;
	f->nr_irqfds++;
	f->assigns++;
	return 0;
}

static const struct irq_backend_ops fake_ops = {
	.set_routing = fake_set_routing,
	.irqfd = fake_irqfd,
};

int fake_irq_init(struct fake_irq *f, unsigned int max_msi_routes)
{
	memset(f, 0, sizeof(*f));
	return irq_router_create_with(&fake_ops, f, max_msi_routes, &f->router);
}

void fake_irq_fini(struct fake_irq *f)
{
	irq_router_destroy(f->router);
	f->router = NULL;
}

const struct kvm_irq_routing_entry *fake_irq_msi_route(struct fake_irq *f,
							u32 gsi)
{
	unsigned int i;

	for (i = 0; i < f->nr_table; i++)
		if (f->table[i].gsi == gsi &&
		    f->table[i].type == KVM_IRQ_ROUTING_MSI)
			return &f->table[i];
	return NULL;
}

int fake_irq_gsi_of(struct fake_irq *f, int fd)
{
	unsigned int i;

	for (i = 0; i < f->nr_irqfds; i++)
		if (f->irqfds[i].fd == fd)
			return f->irqfds[i].gsi;
	return -1;
}

int fake_irq_resample_of(struct fake_irq *f, int fd)
{
	unsigned int i;

	for (i = 0; i < f->nr_irqfds; i++)
		if (f->irqfds[i].fd == fd)
			return f->irqfds[i].resample_fd;
	return -1;
}

u64 fake_eventfd_take(int fd)
{
	u64 count = 0;

	if (read(fd, &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}
