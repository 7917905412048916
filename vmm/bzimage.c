// SPDX-License-Identifier: MIT
/*
 * bzImage loader, 64-bit boot protocol: the protected-mode kernel goes
 * where it will run, the initrd as high as the kernel allows, and the boot
 * CPU enters the 64-bit entry point in long mode with rsi = zero page.
 * Nothing of the kernel is trusted: every header field that decides an
 * address or a size is checked before use.
 */
#define LOG_PREFIX "bzimage"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "vmm/bzimage.h"
#include "abi/machine.h"

#define SECTOR 512
#define PAGE 4096ULL

/* Boot GDT selectors the 64-bit protocol names: __BOOT_CS, __BOOT_DS. */
#define GDT_ENTRIES 4
#define GDT_CODE64 0x00af9b000000ffffULL	/* 0x10: flat, L, exec/read */
#define GDT_DATA 0x00cf93000000ffffULL		/* 0x18: flat, read/write */

#define PTE_PRESENT 0x001ULL
#define PTE_WRITE 0x002ULL
#define PTE_PWT 0x008ULL
#define PTE_PCD 0x010ULL
#define PTE_LARGE 0x080ULL

static u64 mib_up(u64 bytes)
{
	return (bytes + MiB - 1) / MiB;
}

bool bzimage_is(const u8 *image, size_t size)
{
	u32 magic;

	if (size < BZIMAGE_HDR_OFFSET + offsetof(struct setup_header, header) + 4)
		return false;
	memcpy(&magic, image + 0x202, sizeof(magic));
	return magic == BZIMAGE_HDRS_MAGIC;
}

int bzimage_parse(const u8 *image, size_t size, struct bzimage_header *out,
		  char *err, size_t err_len)
{
	struct setup_header *hdr = &out->hdr;
	unsigned int sects;
	size_t hdr_end;

	memset(out, 0, sizeof(*out));
	if (!bzimage_is(image, size))
		return err_fmt(err, err_len, -ENOEXEC, "no bzImage setup header");
	/* The header ends at 0x202 + the jump's displacement byte. */
	hdr_end = 0x202 + image[0x201];
	hdr_end = MIN(hdr_end, (size_t)BZIMAGE_HDR_OFFSET + sizeof(*hdr));
	hdr_end = MIN(hdr_end, size);
	out->hdr_len = hdr_end - BZIMAGE_HDR_OFFSET;
	memcpy(hdr, image + BZIMAGE_HDR_OFFSET, out->hdr_len);

	if (hdr->boot_flag != BZIMAGE_BOOT_FLAG)
		return err_fmt(err, err_len, -ENOEXEC,
			    "bzImage boot flag is %#x, expected 0xaa55",
			    hdr->boot_flag);
	if (hdr->version < BZIMAGE_MIN_VERSION)
		return err_fmt(err, err_len, -ENOTSUP,
			    "bzImage boot protocol %u.%02u is too old: uvmm needs 2.12 or later (64-bit entry)",
			    hdr->version >> 8, hdr->version & 0xff);
	/* 2.12 headers reach xloadflags; everything below depends on it. */
	if (out->hdr_len < offsetof(struct setup_header, init_size) + 4)
		return err_fmt(err, err_len, -ENOEXEC,
			    "bzImage setup header is %zu bytes, too short for protocol %u.%02u",
			    out->hdr_len, hdr->version >> 8,
			    hdr->version & 0xff);
	if (!(hdr->xloadflags & XLF_KERNEL_64))
		return err_fmt(err, err_len, -ENOTSUP,
			    "bzImage has no 64-bit entry point (XLF_KERNEL_64 clear): a 32-bit kernel?");
	if (!(hdr->loadflags & LOADED_HIGH))
		return err_fmt(err, err_len, -ENOTSUP,
			    "bzImage is not loaded high (zImage): not supported");

	sects = hdr->setup_sects ? hdr->setup_sects : BZIMAGE_DEFAULT_SETUP_SECTS;
	out->setup_size = (u64)(sects + 1) * SECTOR;
	if (out->setup_size >= size)
		return err_fmt(err, err_len, -ENOEXEC,
			    "bzImage setup is %llu bytes but the file has %zu",
			    (unsigned long long)out->setup_size, size);
	out->kernel_size = size - out->setup_size;
	if (out->kernel_size <= BZIMAGE_ENTRY64_OFFSET)
		return err_fmt(err, err_len, -ENOEXEC,
			    "bzImage kernel is %llu bytes: no room for the 64-bit entry at %#x",
			    (unsigned long long)out->kernel_size,
			    BZIMAGE_ENTRY64_OFFSET);
	if ((u64)hdr->syssize * 16 > out->kernel_size)
		return err_fmt(err, err_len, -ENOEXEC,
			    "bzImage is truncated: syssize says %llu bytes, the file has %llu",
			    (unsigned long long)hdr->syssize * 16,
			    (unsigned long long)out->kernel_size);
	if (hdr->relocatable_kernel &&
	    (hdr->kernel_alignment < PAGE ||
	     (hdr->kernel_alignment & (hdr->kernel_alignment - 1))))
		return err_fmt(err, err_len, -ENOEXEC,
			    "bzImage kernel_alignment %#x is not a power of two of at least 4K",
			    hdr->kernel_alignment);
	if (hdr->init_size == 0)
		return err_fmt(err, err_len, -ENOEXEC, "bzImage init_size is 0");
	return 0;
}

int bzimage_place_kernel(const struct bzimage_header *bz, u64 low_ram_end,
			 u64 *load_addr, u64 *kernel_end, u64 *ram_needed)
{
	const struct setup_header *hdr = &bz->hdr;
	u64 start, span;

	*ram_needed = 0;
	span = MAX((u64)hdr->init_size, bz->kernel_size);
	if (hdr->relocatable_kernel) {
		start = MAX(hdr->pref_address, LAYOUT_IMAGE_MIN);
		if (start > MEM_LOW_RAM_MAX)	/* also keeps ALIGN_UP from wrapping */
			return -E2BIG;
		start = ALIGN_UP(start, (u64)hdr->kernel_alignment);
	} else {
		start = hdr->pref_address ? hdr->pref_address : LAYOUT_IMAGE_MIN;
		if (start < LAYOUT_IMAGE_MIN)
			return -EINVAL;
	}
	/* Overflow: an absurd pref_address or init_size. */
	if (start + span < start || start + span > MEM_LOW_RAM_MAX)
		return -E2BIG;
	*load_addr = start;
	*kernel_end = start + span;
	if (*kernel_end > low_ram_end) {
		*ram_needed = *kernel_end;
		return -ENOSPC;
	}
	return 0;
}

int bzimage_place_initrd(const struct bzimage_header *bz, u64 kernel_end,
			 u64 initrd_size, u64 low_ram_end, u64 *addr,
			 u64 *ram_needed)
{
	u64 limit = MIN(low_ram_end, (u64)bz->hdr.initrd_addr_max + 1);
	u64 size = ALIGN_UP(initrd_size, PAGE), lowest = ALIGN_UP(kernel_end, PAGE);

	*ram_needed = 0;
	if (initrd_size == 0 || size < initrd_size)
		return -EINVAL;
	if (size <= limit && ALIGN_DOWN(limit - size, PAGE) >= lowest) {
		*addr = ALIGN_DOWN(limit - size, PAGE);
		return 0;
	}
	/* More RAM helps only while the kernel's own ceiling allows it. */
	if (lowest + size - 1 <= bz->hdr.initrd_addr_max &&
	    lowest + size <= MEM_LOW_RAM_MAX)
		*ram_needed = lowest + size;
	return -ENOSPC;
}

/* The GDT and a 4 GiB identity map with 2 MiB pages; the hole uncached. */
static int write_boot_tables(struct guest_memory *mem)
{
	u64 *gdt = mem_gpa_to_hva(mem, LAYOUT_LINUX_GDT, GDT_ENTRIES * 8);
	u64 *tables = mem_gpa_to_hva(mem, LAYOUT_PAGE_TABLES,
				     BZIMAGE_PAGE_TABLE_PAGES * PAGE);
	u64 *pml4, *pdpt, *pd;
	unsigned int i;

	_Static_assert(LAYOUT_PAGE_TABLES + BZIMAGE_PAGE_TABLE_PAGES * PAGE <=
		       LAYOUT_PAGE_TABLES_END, "page tables fit their area");
	if (!gdt || !tables)
		return -EFAULT;
	memset(gdt, 0, GDT_ENTRIES * 8);
	gdt[2] = GDT_CODE64;
	gdt[3] = GDT_DATA;

	memset(tables, 0, BZIMAGE_PAGE_TABLE_PAGES * PAGE);
	pml4 = tables;
	pdpt = tables + 512;
	pd = tables + 2 * 512;
	pml4[0] = (LAYOUT_PAGE_TABLES + PAGE) | PTE_PRESENT | PTE_WRITE;
	for (i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PAGE_TABLES + (2 + i) * PAGE) | PTE_PRESENT |
			  PTE_WRITE;
	for (i = 0; i < 4 * 512; i++) {
		u64 addr = (u64)i * 2 * MiB;

		pd[i] = addr | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
		if (addr >= MEM_LOW_RAM_MAX)	/* ECAM, MMIO, APICs: no caching */
			pd[i] |= PTE_PCD | PTE_PWT;
	}
	return 0;
}

int bzimage_load(struct guest_memory *mem, const u8 *image, size_t size,
		 const char *cmdline, const u8 *initrd, size_t initrd_size,
		 struct bzimage_info *info, char *err, size_t err_len)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	u64 low_end = mem_low_end(mem), need;
	struct bzimage_header bz;
	struct boot_params *zp;
	size_t cmdline_len;
	unsigned int nr_e820, i;
	void *dst;
	char *cl;
	int ret;

	memset(info, 0, sizeof(*info));
	ret = bzimage_parse(image, size, &bz, err, err_len);
	if (ret)
		return ret;

	if (!cmdline)
		cmdline = "";
	cmdline_len = strlen(cmdline);
	if (cmdline_len > bz.hdr.cmdline_size ||
	    cmdline_len >= LAYOUT_CMDLINE_MAX)
		return err_fmt(err, err_len, -E2BIG,
			    "the command line is %zu bytes; this kernel takes at most %llu",
			    cmdline_len,
			    (unsigned long long)MIN((u64)bz.hdr.cmdline_size,
						    LAYOUT_CMDLINE_MAX - 1));

	ret = bzimage_place_kernel(&bz, low_end, &info->load_addr,
				   &info->kernel_end, &need);
	if (ret == -ENOSPC) {
		info->ram_needed = need;
		return err_fmt(err, err_len, ret,
			    "the kernel needs RAM up to %#llx (pref_address %#llx + init_size %#x): at least %llu MiB of RAM, -m has %llu MiB",
			    (unsigned long long)info->kernel_end,
			    (unsigned long long)info->load_addr, bz.hdr.init_size,
			    (unsigned long long)mib_up(need),
			    (unsigned long long)(mem->size / MiB));
	}
	if (ret)
		return err_fmt(err, err_len, ret,
			    "the kernel cannot run at pref_address %#llx with init_size %#x: outside low RAM (below %#llx)",
			    (unsigned long long)bz.hdr.pref_address,
			    bz.hdr.init_size,
			    (unsigned long long)MEM_LOW_RAM_MAX);

	if (initrd) {
		ret = bzimage_place_initrd(&bz, info->kernel_end, initrd_size,
					   low_end, &info->initrd_addr, &need);
		if (ret == -ENOSPC && need) {
			info->ram_needed = need;
			return err_fmt(err, err_len, ret,
				    "the initrd (%zu bytes) does not fit above the kernel: at least %llu MiB of RAM needed, -m has %llu MiB",
				    initrd_size,
				    (unsigned long long)mib_up(need),
				    (unsigned long long)(mem->size / MiB));
		}
		if (ret)
			return err_fmt(err, err_len, ret,
				    "the initrd (%zu bytes) does not fit between the kernel's end %#llx and its initrd_addr_max %#x",
				    initrd_size,
				    (unsigned long long)info->kernel_end,
				    bz.hdr.initrd_addr_max);
		info->initrd_size = initrd_size;
		dst = mem_gpa_to_hva(mem, info->initrd_addr, initrd_size);
		if (!dst)
			return err_fmt(err, err_len, -EFAULT,
				    "initrd placement %#llx is not RAM",
				    (unsigned long long)info->initrd_addr);
		memcpy(dst, initrd, initrd_size);
	}

	dst = mem_gpa_to_hva(mem, info->load_addr, bz.kernel_size);
	if (!dst)
		return err_fmt(err, err_len, -EFAULT, "kernel placement %#llx is not RAM",
			    (unsigned long long)info->load_addr);
	memcpy(dst, image + bz.setup_size, bz.kernel_size);
	info->entry = info->load_addr + BZIMAGE_ENTRY64_OFFSET;

	cl = mem_gpa_to_hva(mem, LAYOUT_CMDLINE, cmdline_len + 1);
	zp = mem_gpa_to_hva(mem, LAYOUT_ZERO_PAGE, sizeof(*zp));
	if (!cl || !zp || write_boot_tables(mem))
		return err_fmt(err, err_len, -EFAULT,
			    "low RAM cannot hold the boot structures");
	memcpy(cl, cmdline, cmdline_len + 1);
	info->cmdline = LAYOUT_CMDLINE;

	/* A zeroed page, the image's own header, then what the loader fills. */
	memset(zp, 0, sizeof(*zp));
	memcpy(&zp->hdr, &bz.hdr, bz.hdr_len);
	zp->hdr.type_of_loader = BZIMAGE_LOADER_TYPE;
	zp->hdr.loadflags |= CAN_USE_HEAP;
	zp->hdr.loadflags &= ~KEEP_SEGMENTS;
	zp->hdr.heap_end_ptr = BZIMAGE_HEAP_END;
	zp->hdr.code32_start = info->load_addr;
	zp->hdr.cmd_line_ptr = LAYOUT_CMDLINE;
	zp->hdr.ramdisk_image = info->initrd_addr;
	zp->hdr.ramdisk_size = info->initrd_size;
	zp->hdr.setup_data = 0;
	zp->hdr.hardware_subarch = 0;		/* a PC */
	nr_e820 = e820_build(mem, e820);
	for (i = 0; i < nr_e820; i++)
		zp->e820_table[i] = e820[i];
	zp->e820_entries = nr_e820;
	info->zero_page = LAYOUT_ZERO_PAGE;

	log_info("kernel [%#llx, %#llx), entry %#llx, initrd %#llx+%#llx, protocol %u.%02u",
		 (unsigned long long)info->load_addr,
		 (unsigned long long)info->kernel_end,
		 (unsigned long long)info->entry,
		 (unsigned long long)info->initrd_addr,
		 (unsigned long long)info->initrd_size,
		 bz.hdr.version >> 8, bz.hdr.version & 0xff);
	return 0;
}

int bzimage_add_setup_data(struct guest_memory *mem, u64 zero_page, u32 type,
			   const void *data, u32 len)
{
	struct boot_params *zp = mem_gpa_to_hva(mem, zero_page, sizeof(*zp));
	u64 next_free = BZIMAGE_SETUP_DATA_START, gpa;
	struct setup_data sd;
	unsigned int hops = 0;
	u8 *link, *entry;

	if (!zp || zp->hdr.header != BZIMAGE_HDRS_MAGIC)
		return -EINVAL;
	/*
	 * Walk to the end of the chain. Only this function writes it, so
	 * every entry is in our area and after the previous one; anything
	 * else means the zero page is not the one bzimage_load wrote.
	 */
	link = (u8 *)zp + offsetof(struct boot_params, hdr) +
	       offsetof(struct setup_header, setup_data);
	for (;;) {
		memcpy(&gpa, link, sizeof(gpa));
		if (!gpa)
			break;
		if (gpa < next_free || gpa >= BZIMAGE_SETUP_DATA_END ||
		    ++hops > 1024)
			return -EINVAL;
		entry = mem_gpa_to_hva(mem, gpa, sizeof(sd));
		if (!entry)
			return -EINVAL;
		memcpy(&sd, entry, sizeof(sd));
		if (gpa + sizeof(sd) + sd.len > BZIMAGE_SETUP_DATA_END)
			return -EINVAL;
		next_free = ALIGN_UP(gpa + sizeof(sd) + sd.len, 8);
		link = entry + offsetof(struct setup_data, next);
	}
	if (next_free + sizeof(sd) + (u64)len > BZIMAGE_SETUP_DATA_END)
		return -ENOSPC;
	entry = mem_gpa_to_hva(mem, next_free, sizeof(sd) + (u64)len);
	if (!entry)
		return -EFAULT;
	sd = (struct setup_data) { .next = 0, .type = type, .len = len };
	memcpy(entry, &sd, sizeof(sd));
	if (len)
		memcpy(entry + sizeof(sd), data, len);
	memcpy(link, &next_free, sizeof(next_free));
	return 0;
}
