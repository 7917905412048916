// SPDX-License-Identifier: MIT
/*
 * vfio-user-reconnect: keeps the sample device busy for secs=N seconds
 * (--cmdline, default 5) while the test kills its server and starts a
 * new one on the same socket (uvmm with on-error=reconnect). Each round
 * reads a trapped register, writes and reads back the scratch register,
 * writes BAR2 through its mapping and has the server checksum what the
 * guest reads there (the mapping must be the new server's memory), copies
 * a buffer by DMA and checks the bytes and the checksum, and rings MSI-X
 * vector 0 and waits for it.
 *
 * A server that restarts loses its state (scratch, BAR2, DMA registers),
 * so a round that spans a restart may see fresh values. The round tells
 * by a marker it keeps in the device's config scratch area: written when
 * found missing at the start of a round, and read again at its end. When
 * the marker survived the round, the same server answered all of it, and
 * every result must be exact; a round whose marker vanished is counted
 * and run again. Rounds that must be exact and fail are failures.
 *
 * The longest single access (wall time, TSC calibrated against the ACPI
 * PM timer) is printed: the longest stall a vCPU saw across the
 * restarts; so is the longest round (it includes the wait for an MSI-X
 * whose doorbell went to a server that died before it rang).
 */
#include "sampledev.h"

#define VEC_MSIX	0x40
#define MARKER		0x52434e54	/* "TNCR" */
#define DMA_LEN		512
#define WAIT_MS		2000
#define PM_TMR_PORT	0x608		/* 24 bits at 3.579545 MHz */
#define PM_TMR_HZ	3579545ULL

static struct sampledev dev;
static u64 tsc_per_ms;
/* The longest single device access: what a vCPU waited through. */
static u64 longest_access_us;

/* TSC ticks per millisecond, over ~50 ms of the PM timer. */
static void calibrate(void)
{
	u32 start = inl(PM_TMR_PORT) & 0xffffff, now;
	u64 t0 = rdtsc(), ticks = PM_TMR_HZ / 20;

	do {
		now = inl(PM_TMR_PORT) & 0xffffff;
	} while (((now - start) & 0xffffff) < ticks);
	tsc_per_ms = (rdtsc() - t0) * 20 / 1000;
	if (!tsc_per_ms)
		tsc_per_ms = 1;
}

static u64 now_us(void)
{
	return rdtsc() * 1000 / tsc_per_ms;
}

static void access_took(u64 t0)
{
	u64 took = now_us() - t0;

	if (took > longest_access_us)
		longest_access_us = took;
}

static u32 reg(u32 off)
{
	u64 t0 = now_us();
	u32 val = sampledev_reg(&dev, off);

	access_took(t0);
	return val;
}

static void set(u32 off, u32 val)
{
	u64 t0 = now_us();

	sampledev_set(&dev, off, val);
	access_took(t0);
}

static void msix_handler(unsigned int vector)
{
	(void)vector;
}

static void msix_setup(void)
{
	u8 cap = pci_find_cap(dev.bdf, PCI_CAP_MSIX);
	u64 table = dev.bar0.addr + SAMPLEDEV_MSIX_TABLE;
	u8 apic = lapic_id();

	writel(table, (u32)msi_address(apic));
	writel(table + 4, msi_address(apic) >> 32);
	writel(table + 8, msi_data(VEC_MSIX));
	writel(table + 12, 0);			/* unmasked */
	pci_write(dev.bdf, cap + 2, 2, 0x8000);	/* MSI-X enable */
}

static bool marker_held(void)
{
	u64 t0 = now_us();
	u32 val = pci_read(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4);

	access_took(t0);
	return val == MARKER;
}

struct round {
	u32 id, scratch, bar2_csum, bar2_want, dma_status, dma_csum;
	bool dma_bytes, bar2_back, irq;
};

static void run_round(u32 n, u8 *src, u8 *dst, struct round *r)
{
	volatile u32 *bar2 = (volatile u32 *)dev.bar2.addr;
	u32 value = n * 2654435761u + 1, copy[64];
	u64 before = irq_count(VEC_MSIX), t0;
	unsigned int i;

	r->id = reg(SAMPLEDEV_REG_ID);
	set(SAMPLEDEV_REG_SCRATCH, value);
	r->scratch = reg(SAMPLEDEV_REG_SCRATCH);

	/* The server reads the bytes the guest sees through the mapping. */
	bar2[n % 64] = value;
	r->bar2_back = bar2[n % 64] == value;
	for (i = 0; i < 64; i++)
		copy[i] = bar2[i];
	set(SAMPLEDEV_REG_BAR2_CSUM_LEN, sizeof(copy));
	r->bar2_csum = reg(SAMPLEDEV_REG_BAR2_CSUM);
	r->bar2_want = sampledev_fnv1a(copy, sizeof(copy));

	for (i = 0; i < DMA_LEN; i++)
		src[i] = (u8)(i * 7 + n);
	memset(dst, 0, DMA_LEN);
	t0 = now_us();
	r->dma_status = sampledev_dma(&dev, SAMPLEDEV_DMA_OP_COPY, (u64)src,
				    (u64)dst, DMA_LEN);
	access_took(t0);
	r->dma_csum = reg(SAMPLEDEV_REG_DMA_CSUM);
	r->dma_bytes = !memcmp(src, dst, DMA_LEN);

	/*
	 * A doorbell the server took but never rang, because it died, is
	 * not waited for: the marker tells, every 100 ms of the wait.
	 */
	set(SAMPLEDEV_REG_DOORBELL, SAMPLEDEV_IRQ_MSIX(0));
	for (i = 0; i < WAIT_MS / 100; i++) {
		r->irq = irq_wait(VEC_MSIX, before + 1, 100);
		if (r->irq || !marker_held())
			break;
	}
}

int main(void)
{
	u64 secs = 5, start, t0, took, longest = 0, rounds = 0, redone = 0;
	u64 since_restart = 0;
	unsigned int restarts_seen = 0, bad = 0;
	char val[16];
	u8 *src, *dst;
	u32 n = 0;

	if (cmdline_param("secs", val, sizeof(val)))
		secs = strtoull(val, NULL, 0);
	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	calibrate();
	lapic_enable();
	set_irq_handler(VEC_MSIX, msix_handler);
	msix_setup();
	src = alloc_pages(1);
	dst = alloc_pages(1);
	pci_write(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4, MARKER);
	printf("vfio-user-reconnect: %lu s of I/O; restart the server at will\n",
	       secs);
	start = now_us();
	while (now_us() - start < secs * 1000000) {
		struct round r;

		t0 = now_us();
		if (!marker_held()) {
			restarts_seen++;
			since_restart = 0;
			pci_write(dev.bdf, SAMPLEDEV_CFG_SCRATCH, 4, MARKER);
		}
		run_round(n, src, dst, &r);
		if (!marker_held()) {
			redone++;
			took = now_us() - t0;
			longest = took > longest ? took : longest;
			continue;	/* spanned a restart: run it again */
		}
		if (r.id != SAMPLEDEV_ID_MAGIC ||
		    r.scratch != n * 2654435761u + 1 || !r.bar2_back ||
		    r.bar2_csum != r.bar2_want ||
		    r.dma_status != SAMPLEDEV_DMA_DONE || !r.dma_bytes ||
		    r.dma_csum != sampledev_fnv1a(src, DMA_LEN) || !r.irq) {
			if (bad++ < 5)
				report(false,
				       "round %u: id %#x scratch %#x bar2 %d csum %#x dma %u/%d/%#x msix %d",
				       n, r.id, r.scratch, r.bar2_back,
				       r.bar2_csum, r.dma_status, r.dma_bytes,
				       r.dma_csum, r.irq);
		}
		took = now_us() - t0;
		longest = took > longest ? took : longest;
		rounds++;
		since_restart++;
		n++;
	}
	report(bad == 0, "%lu rounds exact (%u wrong), %lu spanned a restart and ran again",
	       rounds, bad, redone);
	report(restarts_seen == 0 || since_restart > 0,
	       "%lu rounds (reads, scratch, BAR2, DMA, MSI-X) after the last restart seen",
	       since_restart);
	report_info("restarts seen %u, longest access %lu us, longest round %lu us",
		    restarts_seen, longest_access_us, longest);
	report(sampledev_reg(&dev, SAMPLEDEV_REG_IRQ_LOST) == 0,
	       "the last server lost no interrupt");
	return report_summary();
}
