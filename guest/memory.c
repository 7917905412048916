// SPDX-License-Identifier: MIT
/*
 * memory: the start_info memory map must describe exactly the RAM the VMM
 * was given (the boot test passes it as "mem=SIZE" on the command line),
 * and every page of RAM above the image must hold what is written to it.
 * The pattern loop runs at CPL3, natively even on software KVM.
 */
#include "guest.h"

#define MAX_SKIP	48

struct pattern_job {
	u64 start;
	u64 end;
	struct mem_range skip[MAX_SKIP];
	unsigned int nr_skip;
	u64 step;	/* bytes between tested pages: PAGE_SIZE tests them all */
	u64 pages;
	u64 errors;
	u64 first_bad;
};

static bool page_skipped(const struct pattern_job *job, u64 page)
{
	unsigned int i;

	for (i = 0; i < job->nr_skip; i++) {
		if (page < job->skip[i].end && job->skip[i].start < page + PAGE_SIZE)
			return true;
	}
	return false;
}

/* Unique per address and not a plain address, so aliasing shows. */
static inline u64 pattern(u64 addr)
{
	return addr ^ 0xa5a5a5a55a5a5a5aULL ^ (addr << 32);
}

static int pattern_run(void *arg)
{
	struct pattern_job *job = arg;
	u64 page, addr;

	for (page = job->start; page < job->end; page += job->step) {
		if (page_skipped(job, page))
			continue;
		for (addr = page; addr < page + PAGE_SIZE; addr += 8)
			*(volatile u64 *)addr = pattern(addr);
	}
	/* verify only after everything is written */
	for (page = job->start; page < job->end; page += job->step) {
		if (page_skipped(job, page))
			continue;
		job->pages++;
		for (addr = page; addr < page + PAGE_SIZE; addr += 8) {
			if (*(volatile u64 *)addr != pattern(addr)) {
				if (!job->errors)
					job->first_bad = addr;
				job->errors++;
			}
		}
	}
	return cpl();
}

/* Bytes of [start, end) that no RAM entry covers (entries do not overlap). */
static u64 uncovered(u64 start, u64 end)
{
	u64 covered = 0;
	unsigned int i;

	for (i = 0; i < boot_memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = boot_memmap(i);
		u64 lo = MAX(e->addr, start), hi = MIN(e->addr + e->size, end);

		if (e->type == HVM_MEMMAP_RAM && lo < hi)
			covered += hi - lo;
	}
	return end - start - covered;
}

static void check_map(void)
{
	u64 ram = 0, prev_end = 0, low_gap, mem;
	char val[32];
	bool ordered = true;
	unsigned int i;

	report(boot_memmap_count() > 0, "memory map has %u entries",
	       boot_memmap_count());
	for (i = 0; i < boot_memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = boot_memmap(i);

		report_info("memmap[%u] addr %#010llx size %#010llx type %u", i,
			    (unsigned long long)e->addr,
			    (unsigned long long)e->size, e->type);
		if (!e->size)
			continue;
		if (e->type == HVM_MEMMAP_RAM)
			ram += e->size;
		if (prev_end > e->addr)
			ordered = false;
		prev_end = e->addr + e->size;
	}
	report(ordered, "memory map entries are sorted and do not overlap (empty ones ignored)");
	report(pde_of((u64)__image_start) &&
	       uncovered((u64)__image_start, (u64)__image_end) == 0,
	       "the image %#lx-%#lx lies in RAM",
	       (u64)__image_start, (u64)__image_end - 1);

	if (!cmdline_param("mem", val, sizeof(val)) || !parse_size(val, &mem)) {
		report_skip("no mem=SIZE on the command line (\"%s\")",
			    boot_cmdline());
		return;
	}
	low_gap = uncovered(0, 1 * MiB);
	report(ram + low_gap == mem,
	       "RAM entries (%llu KiB) + reserved below 1 MiB (%llu KiB) = mem=%s (%llu KiB)",
	       (unsigned long long)(ram >> 10), (unsigned long long)(low_gap >> 10),
	       val, (unsigned long long)(mem >> 10));
}

static void check_pattern(void)
{
	static struct pattern_job job;
	u64 floor = heap_top(), pages = 0, errors = 0, step = 1;
	unsigned int i;
	bool user = true;
	char val[32];

	/*
	 * pattern_step=N tests every Nth page: big RAM sizes stay quick on
	 * hosts where every guest instruction is emulated.
	 */
	if (cmdline_param("pattern_step", val, sizeof(val)) &&
	    (!parse_size(val, &step) || step == 0))
		step = 1;
	job.step = step * PAGE_SIZE;

	job.nr_skip = boot_reserved_ranges(job.skip, MAX_SKIP);
	if (job.nr_skip > MAX_SKIP) {
		report_skip("too many boot structures to step around (%u)",
			    job.nr_skip);
		return;
	}
	for (i = 0; i < boot_memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = boot_memmap(i);

		if (e->type != HVM_MEMMAP_RAM)
			continue;
		job.start = ALIGN_UP(MAX(e->addr, floor), (u64)PAGE_SIZE);
		job.end = ALIGN_DOWN(e->addr + e->size, (u64)PAGE_SIZE);
		if (job.start >= job.end)
			continue;
		if (!pde_of(job.end - 1)) {
			report_skip("RAM %#lx-%#lx is not mapped", job.start, job.end - 1);
			continue;
		}
		job.pages = 0;
		job.errors = 0;
		if (run_user(pattern_run, &job) != 3)
			user = false;
		report_info("pattern %#lx-%#lx: %lu pages, %lu bad words",
			    job.start, job.end - 1, job.pages, job.errors);
		if (job.errors)
			report_info("first bad word at %#lx: %#lx, want %#lx",
				    job.first_bad, *(u64 *)job.first_bad,
				    pattern(job.first_bad));
		pages += job.pages;
		errors += job.errors;
	}
	report(user, "pattern loop ran at CPL3");
	if (step == 1)
		report(pages > 0 && errors == 0,
		       "pattern in every page above the image: %lu pages (%lu MiB), %lu bad words",
		       pages, pages >> 8, errors);
	else
		report(pages > 0 && errors == 0,
		       "pattern in every %luth page above the image: %lu pages, %lu bad words",
		       step, pages, errors);
}

int main(void)
{
	check_map();
	check_pattern();
	return report_summary();
}
