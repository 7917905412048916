/* SPDX-License-Identifier: MIT */
/*
 * What the firmware NVMe drivers share (guest/nvme.c, the functional
 * test, and guest/nvme-bench.c, the benchmark) beyond abi/nvme.h's
 * registers and queue entries: finding the controller and ringing a
 * doorbell, with or without shadow doorbells. Any NVMe controller will
 * do: uvmm-nvme, QEMU's, hardware.
 */
#ifndef UVMM_GUEST_NVME_H
#define UVMM_GUEST_NVME_H

#include "guest.h"
#include "abi/nvme.h"

#define NVME_CLASS		0x010802	/* mass storage, NVM, NVMe */

/* CC.EN, 4 KiB pages, 64-byte SQ and 16-byte CQ entries. */
#define NVME_CC_ENABLE		(1u | 6u << 16 | 4u << 20)

/* SCT << 8 | SC of a completion. */
static inline u16 nvme_status(const struct nvme_cqe *c)
{
	return (c->status >> 1) & 0x7ff;
}

struct nvme_dev {
	u32 bdf;
	u64 bar;		/* BAR0, mapped */
};

/*
 * The first NVMe controller on bus 0 (by class code, through conf1 or
 * ECAM: no device tree needed), BAR0 mapped, memory decoding and bus
 * mastering on. False when there is none or its BAR0 is no memory BAR
 * of at least 8 KiB (registers and the first doorbells).
 */
bool nvme_find(struct nvme_dev *dev);

/* The event-index rule: ring when the new value passed the index. */
static inline bool nvme_need_event(u16 idx, u16 new, u16 old)
{
	return (u16)(new - idx - 1) < (u16)(new - old);
}

/*
 * A doorbell at BAR0 offset off takes val. With a shadow doorbell (db
 * and its event index ei, from Doorbell Buffer Config) the value goes to
 * memory first and the register is written only when the controller's
 * event index asks for it, as Linux does. True when the register was
 * written.
 */
static inline bool nvme_ring(u64 bar, volatile u32 *db, volatile u32 *ei,
			     u32 off, u32 val)
{
	u32 old;

	/* The entries (or the freed slots) before the doorbell. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (db) {
		old = *db;
		*db = val;
		/* The shadow before the event index is read. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!nvme_need_event((u16)*ei, (u16)val, (u16)old))
			return false;
	}
	writel(bar + off, val);
	return true;
}

#endif
