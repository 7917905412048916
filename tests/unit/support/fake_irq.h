/* SPDX-License-Identifier: MIT */
#ifndef UVMM_TEST_FAKE_IRQ_H
#define UVMM_TEST_FAKE_IRQ_H

#include <linux/kvm.h>

#include "vmm/irq.h"

#define FAKE_IRQ_MAX_ROUTES 1100
#define FAKE_IRQ_MAX_IRQFDS 256

/*
 * An irq router whose KVM calls are recorded instead: the last committed
 * routing table and the irqfds currently bound, so tests see what KVM
 * would have been told.
 */
struct fake_irq {
	struct irq_router *router;
	unsigned int commits;
	int fail_commits;		/* fail this many commits with -EIO */
	struct kvm_irq_routing_entry table[FAKE_IRQ_MAX_ROUTES];
	unsigned int nr_table;
	struct {
		int fd;
		u32 gsi;
		int resample_fd;	/* -1: edge */
	} irqfds[FAKE_IRQ_MAX_IRQFDS];
	unsigned int nr_irqfds;
	unsigned int assigns, deassigns;
};

int fake_irq_init(struct fake_irq *f, unsigned int max_msi_routes);
void fake_irq_fini(struct fake_irq *f);
/* The committed entry of an MSI gsi, or NULL. */
const struct kvm_irq_routing_entry *fake_irq_msi_route(struct fake_irq *f,
							u32 gsi);
/* The GSI fd is bound to, or -1. */
int fake_irq_gsi_of(struct fake_irq *f, int fd);
/* Resample fd bound with fd, or -1. */
int fake_irq_resample_of(struct fake_irq *f, int fd);
/* Read (and clear) an eventfd's counter without blocking; 0 if empty. */
u64 fake_eventfd_take(int fd);

#endif
