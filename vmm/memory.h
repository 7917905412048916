/* SPDX-License-Identifier: MIT */
#ifndef UVMM_MEMORY_H
#define UVMM_MEMORY_H

#include "abi/machine.h"

#include "common/types.h"

/* Guest-physical layout: RAM below the PCI hole, the rest above 4 GiB. */
/* Low RAM stops where the PCI ECAM window begins (DESIGN.md memory map). */
#define MEM_MAX_REGIONS 2

/* One contiguous piece of guest RAM, backed by [fd_offset, +size) of the memfd. */
struct mem_region {
	u64 gpa;
	u64 size;
	u64 fd_offset;
	void *hva;
};

/*
 * All guest RAM: one memfd, sealed so it cannot shrink under a mapping
 * (a server mapping it, or us), mapped once.
 */
struct guest_memory {
	int memfd;
	void *base;		/* mapping of the whole memfd */
	u64 size;		/* total RAM bytes */
	struct mem_region regions[MEM_MAX_REGIONS];
	unsigned int nr_regions;
};

/* Splits size around the 3 GiB hole; no side effects (unit-tested). */
unsigned int mem_layout(u64 size, struct mem_region regions[MEM_MAX_REGIONS]);

int mem_create(struct guest_memory *mem, u64 size);
void mem_destroy(struct guest_memory *mem);

/*
 * The one checked accessor: a host pointer for [gpa, gpa + len) when the
 * whole range is RAM inside a single region, NULL otherwise.
 */
void *mem_gpa_to_hva(const struct guest_memory *mem, u64 gpa, u64 len);

/* End of low RAM (the highest low address + 1). */
u64 mem_low_end(const struct guest_memory *mem);

#endif
