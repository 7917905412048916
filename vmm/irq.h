/* SPDX-License-Identifier: MIT */
#ifndef UVMM_IRQ_H
#define UVMM_IRQ_H

/*
 * KVM GSI routing and irqfds.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the router keeps all of
 * it: the in-kernel irqchip's default entries (GSIs 0-15 to the PIC and the
 * IOAPIC, 16-23 to the IOAPIC only, as KVM sets them up) plus one MSI entry
 * per vector a device routes, and commits it on every change. An irqfd
 * binds an eventfd to a GSI: a write to the eventfd, from the VMM or from
 * another process holding it, raises the interrupt without a VMM thread.
 *
 * The two KVM calls go through struct irq_backend_ops, so unit tests watch
 * the tables and irqfds without /dev/kvm.
 */

#include <linux/kvm.h>

#include "common/types.h"

#define IRQ_IOAPIC_PINS 24
#define IRQ_PIC_PINS 16
/* MSI routes take the GSIs after the IOAPIC's. */
#define IRQ_MSI_GSI_BASE IRQ_IOAPIC_PINS
#define IRQ_MAX_MSI_ROUTES 1024

struct irq_backend_ops {
	int (*set_routing)(void *opaque, const struct kvm_irq_routing *table);
	int (*irqfd)(void *opaque, const struct kvm_irqfd *req);
};

struct irq_router;

/* The KVM backend: ioctls on vm_fd (not owned), after KVM_CREATE_IRQCHIP. */
int irq_router_create(int vm_fd, struct irq_router **out, char *err,
		      size_t err_len);
int irq_router_create_with(const struct irq_backend_ops *ops, void *opaque,
			   unsigned int max_msi_routes, struct irq_router **out);
void irq_router_destroy(struct irq_router *router);

/*
 * MSI routes: add gives a new GSI for (addr, data), update re-points it,
 * remove frees it. Each call commits the table; on a failed commit the
 * router's table is left as it was.
 */
int irq_msi_route_add(struct irq_router *router, u64 addr, u32 data, u32 *gsi);
int irq_msi_route_update(struct irq_router *router, u32 gsi, u64 addr,
			 u32 data);
int irq_msi_route_remove(struct irq_router *router, u32 gsi);
/* Number of MSI routes in use (tests, statistics). */
unsigned int irq_msi_route_count(struct irq_router *router);

/*
 * Bind fd to gsi; with resample_fd >= 0 the line is level-triggered: KVM
 * asserts it on a write to fd and deasserts it when the guest EOIs, then
 * signals resample_fd so the source can assert again if still pending.
 * Neither fd is consumed.
 */
int irq_irqfd_assign(struct irq_router *router, int fd, u32 gsi,
		     int resample_fd);
int irq_irqfd_deassign(struct irq_router *router, int fd, u32 gsi);

/* Eventfds for interrupt sources: non-blocking, close-on-exec. */
int irq_eventfd_create(void);
/* Add one to the counter; 0 or -errno. */
int irq_eventfd_signal(int fd);
/* Read and clear the counter without blocking: was it non-zero? */
bool irq_eventfd_consume(int fd);

#endif
