/* SPDX-License-Identifier: MIT */
#ifndef UVMM_SERVICES_H
#define UVMM_SERVICES_H

#include "common/types.h"
#include "vmm/bus.h"
#include "vmm/memory.h"
#include "vmm/status.h"

struct irq_router;

/*
 * A guest write of len bytes (1, 2, 4 or 8) at addr, in memory or port
 * space (pio), equal to datamatch when match, signals fd inside KVM: no
 * exit reaches uvmm. Removing one takes the same description.
 */
struct vm_ioeventfd {
	u64 addr;
	u32 len;
	int fd;
	bool pio;
	bool match;
	u64 datamatch;
};

/*
 * What the machine offers a device, and all a device in devices/ gets at
 * creation instead of the whole struct vm: the two buses to register its
 * ranges on, guest RAM (size, layout, mem_gpa_to_hva()), the GSI router
 * for PCI interrupts, the CPU count for the tables that report it, and a
 * few requests that go back to the VM through ctx. The VM owns it
 * (vm_services()), and it lives as long as the VM; unit tests get theirs
 * from the fake VM the same way.
 */
struct dev_services {
	struct bus *pio;
	struct bus *mmio;
	const struct guest_memory *mem;
	struct irq_router *irq;		/* GSI routes and irqfds; PCI only */
	unsigned int nr_cpus;

	void *ctx;			/* the VM, passed back below */
	/* Assert or deassert a line of the in-kernel irqchip (ISA IRQs). */
	int (*set_irq_line)(void *ctx, unsigned int gsi, bool level);
	/* Stop the VM with status; reason (or NULL) is printed for uvmm's own. */
	void (*request_stop)(void *ctx, int status, const char *reason);
	/* The guest reset the machine (uvmm ends with status 0). */
	void (*request_reset)(void *ctx, const char *why);
	/* KVM ioeventfds: whether KVM has them, and (de)assigning one. */
	bool (*has_ioeventfd)(void *ctx);
	int (*ioeventfd)(void *ctx, const struct vm_ioeventfd *e, bool assign);
	/*
	 * ACPI sleep to RAM (S3): suspend parks every vCPU; wake lets them
	 * go as a resumed machine (the boot CPU in real mode at the FACS
	 * waking vector, the others waiting for INIT/SIPI).
	 */
	void (*request_suspend)(void *ctx);
	void (*request_wake)(void *ctx);
	/* A wake source fired (its ACPI_PM1_*_STS bit); the PM block decides. */
	void (*wake_event)(void *ctx, u16 source);
};

static inline int svc_set_irq_line(const struct dev_services *svc,
				   unsigned int gsi, bool level)
{
	return svc->set_irq_line(svc->ctx, gsi, level);
}

static inline void svc_request_stop(const struct dev_services *svc,
				    int status, const char *reason)
{
	svc->request_stop(svc->ctx, status, reason);
}

static inline void svc_request_reset(const struct dev_services *svc,
				     const char *why)
{
	svc->request_reset(svc->ctx, why);
}

static inline bool svc_has_ioeventfd(const struct dev_services *svc)
{
	return svc->has_ioeventfd(svc->ctx);
}

static inline int svc_ioeventfd(const struct dev_services *svc,
				const struct vm_ioeventfd *e, bool assign)
{
	return svc->ioeventfd(svc->ctx, e, assign);
}

static inline void svc_request_suspend(const struct dev_services *svc)
{
	svc->request_suspend(svc->ctx);
}

static inline void svc_request_wake(const struct dev_services *svc)
{
	svc->request_wake(svc->ctx);
}

static inline void svc_wake_event(const struct dev_services *svc, u16 source)
{
	svc->wake_event(svc->ctx, source);
}

#endif
