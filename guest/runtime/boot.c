// SPDX-License-Identifier: MIT
/*
 * The PVH start_info: accessors, the command line, the ranges the boot
 * structures occupy, and the bump heap that steps around them.
 */
#include "runtime.h"

#define MAX_RESERVED	40

static const struct hvm_start_info *info;
static struct mem_range reserved[MAX_RESERVED];
static unsigned int nr_reserved;
static u64 heap_next, heap_limit;

static void add_reserved(u64 start, u64 len)
{
	if (!start || !len || nr_reserved == MAX_RESERVED)
		return;
	reserved[nr_reserved].start = start;
	reserved[nr_reserved].end = start + len;
	nr_reserved++;
}

int boot_info_init(u64 paddr)
{
	unsigned int i;

	info = (const struct hvm_start_info *)paddr;
	if (!info || info->magic != HVM_START_MAGIC_VALUE) {
		info = NULL;
		return -1;
	}
	add_reserved(paddr, sizeof(*info));
	add_reserved(info->modlist_paddr,
		     (u64)info->nr_modules * sizeof(struct hvm_modlist_entry));
	if (info->cmdline_paddr)
		add_reserved(info->cmdline_paddr,
			     strlen((const char *)info->cmdline_paddr) + 1);
	add_reserved(info->version >= 1 ? info->memmap_paddr : 0,
		     (u64)boot_memmap_count() * sizeof(struct hvm_memmap_table_entry));
	for (i = 0; i < boot_module_count(); i++) {
		const struct hvm_modlist_entry *m = boot_module(i);

		add_reserved(m->paddr, m->size);
		if (m->cmdline_paddr)
			add_reserved(m->cmdline_paddr,
				     strlen((const char *)m->cmdline_paddr) + 1);
	}
	return 0;
}

const struct hvm_start_info *boot_info(void)
{
	return info;
}

const char *boot_cmdline(void)
{
	if (!info || !info->cmdline_paddr)
		return "";
	return (const char *)info->cmdline_paddr;
}

unsigned int boot_memmap_count(void)
{
	if (!info || info->version < 1 || !info->memmap_paddr)
		return 0;
	return info->memmap_entries;
}

const struct hvm_memmap_table_entry *boot_memmap(unsigned int index)
{
	const struct hvm_memmap_table_entry *map;

	if (index >= boot_memmap_count())
		return NULL;
	map = (const struct hvm_memmap_table_entry *)info->memmap_paddr;
	return &map[index];
}

unsigned int boot_module_count(void)
{
	if (!info || !info->modlist_paddr)
		return 0;
	return info->nr_modules;
}

const struct hvm_modlist_entry *boot_module(unsigned int index)
{
	const struct hvm_modlist_entry *list;

	if (index >= boot_module_count())
		return NULL;
	list = (const struct hvm_modlist_entry *)info->modlist_paddr;
	return &list[index];
}

const char *boot_module_cmdline(unsigned int index)
{
	const struct hvm_modlist_entry *m = boot_module(index);

	if (!m || !m->cmdline_paddr)
		return "";
	return (const char *)m->cmdline_paddr;
}

const struct hvm_modlist_entry *boot_find_module(const char *cmdline)
{
	unsigned int i;

	for (i = 0; i < boot_module_count(); i++) {
		if (!strcmp(boot_module_cmdline(i), cmdline))
			return boot_module(i);
	}
	return NULL;
}

unsigned int boot_reserved_ranges(struct mem_range *ranges, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < nr_reserved && i < max; i++)
		ranges[i] = reserved[i];
	return nr_reserved;
}

bool cmdline_param(const char *name, char *val, size_t size)
{
	const char *p = boot_cmdline();
	size_t name_len = strlen(name);

	while (*p) {
		const char *word = p;
		size_t len;

		while (*p && *p != ' ')
			p++;
		len = p - word;
		while (*p == ' ')
			p++;
		if (len < name_len || strncmp(word, name, name_len))
			continue;
		if (len == name_len) {
			if (size)
				val[0] = '\0';
			return size > 0;
		}
		if (word[name_len] != '=')
			continue;
		len -= name_len + 1;
		if (len + 1 > size)
			return false;
		memcpy(val, word + name_len + 1, len);
		val[len] = '\0';
		return true;
	}
	return false;
}

bool parse_size(const char *s, u64 *out)
{
	char *end;
	u64 val = strtoull(s, &end, 0);
	unsigned int shift = 0;

	if (end == s)
		return false;
	switch (*end | 0x20) {		/* lower case */
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	}
	if (shift)
		end++;
	if (*end == 'i' && shift)	/* "MiB" style */
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end)
		return false;
	*out = val << shift;
	return true;
}

/* ---- heap ---------------------------------------------------------------- */

void heap_init(void)
{
	unsigned int i;

	heap_next = ALIGN_UP((u64)__image_end, PAGE_SIZE);
	/* up to the end of the RAM entry holding the image */
	heap_limit = 0;
	for (i = 0; i < boot_memmap_count(); i++) {
		const struct hvm_memmap_table_entry *e = boot_memmap(i);

		if (e->type == HVM_MEMMAP_RAM && e->addr <= heap_next &&
		    heap_next < e->addr + e->size)
			heap_limit = e->addr + e->size;
	}
	if (!heap_limit)	/* no memory map: assume 16 MiB */
		heap_limit = 16 * MiB;
}

void *memalign(size_t align, size_t size)
{
	u64 start;
	unsigned int i;

	if (align < 16)
		align = 16;
	start = ALIGN_UP(heap_next, (u64)align);
again:
	for (i = 0; i < nr_reserved; i++) {
		if (start < reserved[i].end && reserved[i].start < start + size) {
			start = ALIGN_UP(reserved[i].end, (u64)align);
			goto again;
		}
	}
	if (start + size > heap_limit || start + size < start)
		return NULL;
	heap_next = start + size;
	return (void *)start;
}

void *malloc(size_t size)
{
	return memalign(16, size);
}

void *calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > (size_t)-1 / size)
		return NULL;
	p = malloc(nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

void *alloc_pages(size_t npages)
{
	void *p = memalign(PAGE_SIZE, npages * PAGE_SIZE);

	if (p)
		memset(p, 0, npages * PAGE_SIZE);
	return p;
}

void free(void *ptr)
{
	(void)ptr;
}

u64 heap_top(void)
{
	return ALIGN_UP(heap_next, PAGE_SIZE);
}

u64 cmdline_num(const char *name, u64 def, u64 min, u64 max)
{
	char val[24];
	u64 v;

	if (!cmdline_param(name, val, sizeof(val)) || !parse_size(val, &v) ||
	    v < min || v > max)
		return def;
	return v;
}
