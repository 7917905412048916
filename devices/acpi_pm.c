// SPDX-License-Identifier: MIT
/*
 * ACPI PM registers at ACPI_PM_BASE: what kvm-unit-tests' vmexit test
 * (inl of the PM timer) and an OS's ACPI core read. The timer is
 * CLOCK_MONOTONIC scaled to 3.579545 MHz, its low 24 bits (the FADT does
 * not set TMR_VAL_EXT).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "devices/acpi_pm.h"
#include "abi/machine.h"
#include "vmm/services.h"

#define PM1_SCI_EN 0x0001
#define PM_TMR_MASK 0xffffff

struct acpi_pm {
	const struct dev_services *svc;
	pthread_mutex_t lock;
	u16 pm1_sts;
	u16 pm1_en;
	u16 pm1_cnt;
	bool sleeping;		/* in S3, until an enabled wake event */
	u64 (*now_ns)(void);
};

/* Ticks since the clock's zero; exact in 128 bits. */
static u32 timer_value(struct acpi_pm *pm)
{
	unsigned __int128 t = pm->now_ns();

	return (u32)(t * ACPI_PM_TIMER_HZ / 1000000000ULL) & PM_TMR_MASK;
}

static void pm_read(void *opaque, u64 off, void *data, u32 len)
{
	struct acpi_pm *pm = opaque;
	u8 regs[ACPI_PM_LEN];
	u32 tmr;

	pthread_mutex_lock(&pm->lock);
	memcpy(regs + 0, &pm->pm1_sts, 2);
	memcpy(regs + 2, &pm->pm1_en, 2);
	memcpy(regs + 4, &pm->pm1_cnt, 2);
	memset(regs + 6, 0, 2);
	pthread_mutex_unlock(&pm->lock);
	tmr = timer_value(pm);
	memcpy(regs + 8, &tmr, 4);
	/* The bus hands only accesses inside the block. */
	memcpy(data, regs + off, len);
}

static void pm_write(void *opaque, u64 off, const void *data, u32 len)
{
	struct acpi_pm *pm = opaque;
	u8 b[4] = { 0 };
	int sleep_type = -1;
	u32 i;

	memcpy(b, data, MIN(len, sizeof(b)));
	pthread_mutex_lock(&pm->lock);
	for (i = 0; i < len && i < sizeof(b); i++) {
		u64 at = off + i;
		u16 lane = (u16)b[i] << ((at & 1) * 8);

		if (at < 2)		/* status: write 1 to clear */
			pm->pm1_sts &= ~lane;
		else if (at < 4)	/* enable */
			pm->pm1_en = (pm->pm1_en & ~(0xff << ((at & 1) * 8))) | lane;
		else if (at < 6)	/* control: SCI_EN stays set */
			pm->pm1_cnt = ((pm->pm1_cnt & ~(0xff << ((at & 1) * 8))) |
				       lane) | PM1_SCI_EN;
		/* 6-7 reserved, 8-11 the timer: read-only */
	}
	/* SLP_EN is write-only: it acts, then reads as 0. */
	if (pm->pm1_cnt & ACPI_PM1_CNT_SLP_EN) {
		pm->pm1_cnt &= ~ACPI_PM1_CNT_SLP_EN;
		sleep_type = (pm->pm1_cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >>
			     ACPI_PM1_CNT_SLP_TYP_SHIFT;
		/* Entering S3 clears the wake status of the last one. */
		if (sleep_type == ACPI_SLP_TYP_S3) {
			pm->sleeping = true;
			pm->pm1_sts &= ~ACPI_PM1_WAK_STS;
		}
	}
	pthread_mutex_unlock(&pm->lock);
	/*
	 * Soft off (the DSDT's _S5), as an OS powers off: the VM ends with
	 * status 0. Sleep to RAM (_S3): the vCPUs park until a wake event.
	 * Other sleep types are not offered, so not acted on.
	 */
	if (sleep_type == ACPI_SLP_TYP_S5)
		svc_request_stop(pm->svc, STATUS_OK, NULL);
	else if (sleep_type == ACPI_SLP_TYP_S3)
		svc_request_suspend(pm->svc);
}

void acpi_pm_wake_event(struct acpi_pm *pm, u16 source)
{
	bool wake = false;

	pthread_mutex_lock(&pm->lock);
	if (pm->sleeping && (pm->pm1_en & source)) {
		pm->pm1_sts |= source | ACPI_PM1_WAK_STS;
		pm->sleeping = false;
		wake = true;
	}
	pthread_mutex_unlock(&pm->lock);
	if (wake)
		svc_request_wake(pm->svc);
}

static const struct bus_ops pm_ops = {
	.read = pm_read,
	.write = pm_write,
};

int acpi_pm_create(const struct dev_services *svc, struct acpi_pm **out)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int ret;

	if (!pm)
		return -ENOMEM;
	pm->svc = svc;
	pm->pm1_cnt = PM1_SCI_EN;
	pm->now_ns = mono_ns;
	pthread_mutex_init(&pm->lock, NULL);
	ret = bus_register(svc->pio, ACPI_PM_BASE, ACPI_PM_LEN, &pm_ops, pm,
			   "acpi-pm");
	if (ret) {
		pthread_mutex_destroy(&pm->lock);
		free(pm);
		return ret;
	}
	*out = pm;
	return 0;
}

void acpi_pm_set_clock(struct acpi_pm *pm, u64 (*now_ns)(void))
{
	pm->now_ns = now_ns;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	bus_unregister(pm->svc->pio, ACPI_PM_BASE, pm);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
