// SPDX-License-Identifier: MIT
#include <string.h>

#include "vmm/e820.h"

static void e820_add(struct e820_entry *entries, unsigned int *nr, u64 addr,
		     u64 size, u32 type)
{
	if (!size || *nr == E820_MAX_ENTRIES)
		return;
	entries[(*nr)++] = (struct e820_entry) {
		.addr = addr, .size = size, .type = type,
	};
}

unsigned int e820_build(const struct guest_memory *mem,
			struct e820_entry entries[E820_MAX_ENTRIES])
{
	u64 low_end = mem_low_end(mem);
	unsigned int nr = 0, i;

	memset(entries, 0, sizeof(entries[0]) * E820_MAX_ENTRIES);
	e820_add(entries, &nr, 0, MIN(low_end, E820_EBDA_START), E820_RAM);
	if (low_end > E820_EBDA_START)
		e820_add(entries, &nr, E820_EBDA_START,
			 E820_LOW_RAM_END - E820_EBDA_START, E820_RESERVED);
	e820_add(entries, &nr, E820_BIOS_START,
		 E820_BIOS_END - E820_BIOS_START, E820_RESERVED);
	if (low_end > E820_BIOS_END)
		e820_add(entries, &nr, E820_BIOS_END, low_end - E820_BIOS_END,
			 E820_RAM);
	for (i = 1; i < mem->nr_regions; i++)
		e820_add(entries, &nr, mem->regions[i].gpa,
			 mem->regions[i].size, E820_RAM);
	return nr;
}
