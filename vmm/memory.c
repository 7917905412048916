// SPDX-License-Identifier: MIT
#define LOG_PREFIX "memory"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/memory.h"

unsigned int mem_layout(u64 size, struct mem_region regions[MEM_MAX_REGIONS])
{
	u64 low = MIN(size, MEM_LOW_RAM_MAX);

	memset(regions, 0, sizeof(regions[0]) * MEM_MAX_REGIONS);
	regions[0] = (struct mem_region) {
		.gpa = 0, .size = low, .fd_offset = 0,
	};
	if (size == low)
		return 1;
	regions[1] = (struct mem_region) {
		.gpa = MEM_HIGH_RAM_BASE, .size = size - low, .fd_offset = low,
	};
	return 2;
}

int mem_create(struct guest_memory *mem, u64 size)
{
	unsigned int i;
	int ret;

	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->base = MAP_FAILED;

	mem->memfd = memfd_create("uvmm-guest-ram", MFD_CLOEXEC |
				  MFD_ALLOW_SEALING);
	if (mem->memfd < 0) {
		ret = -errno;
		log_debug("memfd_create: %s", strerror(errno));
		goto err;
	}
	if (ftruncate(mem->memfd, size) < 0) {
		ret = -errno;
		log_debug("cannot size guest RAM to %llu bytes: %s",
			(unsigned long long)size, strerror(errno));
		goto err;
	}
	/*
	 * Servers map this fd: sealing it against shrinking means no mapping,
	 * theirs or ours, can ever SIGBUS on a truncated file.
	 */
	if (fcntl(mem->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_SEAL) < 0) {
		ret = -errno;
		log_debug("cannot seal guest RAM: %s", strerror(errno));
		goto err;
	}
	mem->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, mem->memfd, 0);
	if (mem->base == MAP_FAILED) {
		ret = -errno;
		log_debug("cannot map %llu bytes of guest RAM: %s",
			(unsigned long long)size, strerror(errno));
		goto err;
	}
	madvise(mem->base, size, MADV_MERGEABLE);
	mem->size = size;
	mem->nr_regions = mem_layout(size, mem->regions);
	for (i = 0; i < mem->nr_regions; i++)
		mem->regions[i].hva = (u8 *)mem->base + mem->regions[i].fd_offset;
	return 0;
err:
	mem_destroy(mem);
	return ret;
}

void mem_destroy(struct guest_memory *mem)
{
	if (mem->base != MAP_FAILED && mem->base)
		munmap(mem->base, mem->size);
	if (mem->memfd >= 0)
		close(mem->memfd);
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->base = MAP_FAILED;
}

void *mem_gpa_to_hva(const struct guest_memory *mem, u64 gpa, u64 len)
{
	unsigned int i;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (gpa < r->gpa || gpa - r->gpa > r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return (u8 *)r->hva + (gpa - r->gpa);
	}
	return NULL;
}

u64 mem_low_end(const struct guest_memory *mem)
{
	return mem->nr_regions ? mem->regions[0].size : 0;
}
