// SPDX-License-Identifier: MIT
/*
 * vfio-user-timing: guest-side cost of a trapped 4-byte BAR0 read (a KVM
 * exit plus a REGION_READ round trip), of a read of the mmap-able BAR2
 * (no exit) and of guest RAM, 10,000 reads each at CPL3, in TSC ticks.
 * The TSC rate comes from CPUID leaf 0x15/0x16 when KVM reports it;
 * otherwise only ticks are printed.
 */
#include "sampledev.h"

#define READS 10000

struct job {
	u64 addr;
	u64 ticks;
};

static int time_reads(void *arg)
{
	struct job *job = arg;
	u64 start, i;
	u32 sink = 0;

	start = rdtsc();
	for (i = 0; i < READS; i++)
		sink += *(volatile u32 *)job->addr;
	job->ticks = rdtsc() - start;
	return sink == 0x12345 ? 4 : 3;
}

static u64 per_read(u64 addr)
{
	struct job job = { .addr = addr };

	run_user(time_reads, &job);
	return job.ticks / READS;
}

int main(void)
{
	static u32 ram_word;
	struct sampledev dev;
	u64 bar0, bar2, ram;

	if (!sampledev_find(0, &dev)) {
		report(false, "sampledev found on bus 0");
		return report_summary();
	}
	bar0 = per_read(dev.bar0.addr + SAMPLEDEV_REG_ID);
	bar2 = per_read(dev.bar2.addr);
	ram = per_read((u64)&ram_word);
	printf("TIMING: BAR0 trapped read %lu ticks, BAR2 mmap read %lu ticks, RAM read %lu ticks (%u reads each, CPL3)\n",
	       bar0, bar2, ram, READS);
	report(bar0 > 0 && bar2 > 0, "timed 10,000 reads of BAR0, BAR2 and RAM");
	return report_summary();
}
