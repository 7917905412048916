// SPDX-License-Identifier: MIT
/*
 * The identity map beyond the static 4 GiB of entry.S: page directories
 * for RAM above 4 GiB (up to 512 GiB, one PML4 entry), and lookups.
 */
#include "runtime.h"

#define GiB_SHIFT	30
#define PT_FLAGS	(PTE_P | PTE_W | PTE_U)

u64 *pde_of(u64 addr)
{
	unsigned int i_pml4 = (addr >> 39) & 511, i_pdpt = (addr >> 30) & 511;
	u64 *pd;

	if (addr >> 47 || i_pml4 != 0 || !(pml4[0] & PTE_P))
		return NULL;
	if (!(pdpt[i_pdpt] & PTE_P))
		return NULL;
	pd = (u64 *)(pdpt[i_pdpt] & ~0xfffULL);
	return &pd[(addr >> 21) & 511];
}

struct fill_args {
	u64 *pd;
	u64 base;
	u64 flags;
};

/* Runs at CPL3: 512 stores are cheap there, slow through the emulator. */
static int fill_pd(void *arg)
{
	struct fill_args *a = arg;
	unsigned int i;

	for (i = 0; i < 512; i++)
		a->pd[i] = (a->base + (u64)i * LARGE_PAGE_SIZE) | a->flags;
	return 0;
}

void paging_map_high_ram(void)
{
	unsigned int i, gib;
	bool changed = false;

	for (i = 0; i < boot_memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = boot_memmap(i);
		u64 end = e->addr + e->size;

		if (e->type != HVM_MEMMAP_RAM || end <= 4 * GiB)
			continue;
		if (end > 512 * GiB) {
			printf("INFO: RAM above 512 GiB is not mapped\n");
			end = 512 * GiB;
		}
		for (gib = 4; gib < (end + GiB - 1) >> GiB_SHIFT; gib++) {
			struct fill_args args;

			if (pdpt[gib] & PTE_P)
				continue;
			/* not alloc_pages(): fill_pd writes every entry anyway */
			args.pd = memalign(PAGE_SIZE, PAGE_SIZE);
			if (!args.pd)
				abort_test("no heap for the page directory of GiB %u", gib);
			args.base = (u64)gib << GiB_SHIFT;
			args.flags = PT_FLAGS | PTE_PS;
			run_user(fill_pd, &args);
			pdpt[gib] = (u64)args.pd | PT_FLAGS;
			changed = true;
		}
	}
	if (changed)
		write_cr3(read_cr3());
}

bool map_mmio(u64 addr, u64 size)
{
	u64 gib, first = addr >> GiB_SHIFT;
	u64 last = (addr + size - 1) >> GiB_SHIFT;
	struct fill_args args;

	if (!size || addr + size < addr || last >= 512)
		return false;
	for (gib = first; gib <= last; gib++) {
		/* Below 4 GiB the static map already covers it (3-4 GiB uncached). */
		if (pdpt[gib] & PTE_P)
			continue;
		args.pd = memalign(PAGE_SIZE, PAGE_SIZE);
		if (!args.pd)
			return false;
		args.base = gib << GiB_SHIFT;
		args.flags = PT_FLAGS | PTE_PS | PTE_PCD | PTE_PWT;
		run_user(fill_pd, &args);
		pdpt[gib] = (u64)args.pd | PT_FLAGS;
	}
	write_cr3(read_cr3());
	return true;
}
