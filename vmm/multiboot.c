// SPDX-License-Identifier: MIT
/*
 * Multiboot 1 boot: what GRUB legacy and QEMU's -kernel give a kernel with
 * a Multiboot header, so firmware test suites written for them
 * (kvm-unit-tests' x86 tests among them) boot unchanged.
 */
#define LOG_PREFIX "multiboot"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "abi/machine.h"
#include "vmm/multiboot.h"

#define MB_MAX_SEGMENTS 64
#define MB_MAX_MODULES 8
#define MB_INFO LAYOUT_START_INFO
#define MB_MMAP (LAYOUT_START_INFO + 0x80)
#define MB_MODS (LAYOUT_START_INFO + 0x300)
#define MB_STRINGS (LAYOUT_START_INFO + 0x400)
#define MB_LOADER_NAME "uvmm"

long multiboot_find_header(const u8 *image, size_t size)
{
	size_t off, end = MIN(size, (size_t)MULTIBOOT_SEARCH);
	u32 w[3];

	for (off = 0; off + sizeof(w) <= end; off += 4) {
		memcpy(w, image + off, sizeof(w));
		if (w[0] == MULTIBOOT_HEADER_MAGIC &&
		    (u32)(w[0] + w[1] + w[2]) == 0)
			return off;
	}
	return -1;
}

/* Is [off, off + len) inside a buffer of size bytes? */
static bool in_file(u64 off, u64 len, size_t size)
{
	return off <= size && len <= size - off;
}

/* Checks [addr, addr + len) as a place to load: above 1 MiB, in RAM, 32-bit. */
static int check_range(struct guest_memory *mem, const char *what,
		       unsigned int idx, u64 addr, u64 len, char *err,
		       size_t err_len)
{
	if (addr + len < addr || addr + len > 4 * GiB)
		return err_fmt(err, err_len, -EINVAL,
			    "%s %u [%#llx, +%#llx) does not fit below 4 GiB",
			    what, idx, (unsigned long long)addr,
			    (unsigned long long)len);
	if (addr < LAYOUT_IMAGE_MIN)
		return err_fmt(err, err_len, -EINVAL,
			    "%s %u at %#llx is below 1 MiB, where uvmm keeps the boot tables",
			    what, idx, (unsigned long long)addr);
	if (!mem_gpa_to_hva(mem, addr, len))
		return err_fmt(err, err_len, -ENOSPC,
			    "%s %u [%#llx, %#llx) does not fit in guest RAM (%llu MiB; it needs at least %llu MiB)",
			    what, idx, (unsigned long long)addr,
			    (unsigned long long)(addr + len),
			    (unsigned long long)(mem->size >> 20),
			    (unsigned long long)((addr + len + MiB - 1) >> 20));
	return 0;
}

/* The a.out kludge: one flat piece of the file at load_addr, then bss. */
static int load_kludge(struct guest_memory *mem, const u8 *image, size_t size,
		       long hdr_off, const struct multiboot_header *h,
		       struct multiboot_image *out, char *err, size_t err_len)
{
	u64 file_off, load_len, mem_len;
	u8 *dst;
	int ret;

	if (!in_file(hdr_off, sizeof(*h), size))
		return err_fmt(err, err_len, -EINVAL,
			    "Multiboot header's address fields lie past the end of the file");
	if (h->header_addr < h->load_addr ||
	    h->header_addr - h->load_addr > (u64)hdr_off)
		return err_fmt(err, err_len, -EINVAL,
			    "Multiboot header_addr %#x and load_addr %#x do not match the header's place in the file",
			    h->header_addr, h->load_addr);
	file_off = hdr_off - (h->header_addr - h->load_addr);
	if (h->load_end_addr) {
		if (h->load_end_addr < h->load_addr)
			return err_fmt(err, err_len, -EINVAL,
				    "Multiboot load_end_addr %#x is below load_addr %#x",
				    h->load_end_addr, h->load_addr);
		load_len = h->load_end_addr - h->load_addr;
	} else {
		load_len = size - file_off;
	}
	if (!in_file(file_off, load_len, size))
		return err_fmt(err, err_len, -EINVAL,
			    "Multiboot load range lies past the end of the file (truncated?)");
	mem_len = load_len;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + load_len)
			return err_fmt(err, err_len, -EINVAL,
				    "Multiboot bss_end_addr %#x is below the loaded end %#llx",
				    h->bss_end_addr,
				    (unsigned long long)(h->load_addr + load_len));
		mem_len = h->bss_end_addr - h->load_addr;
	}
	if (!mem_len)
		return err_fmt(err, err_len, -EINVAL,
			    "Multiboot image has nothing to load");
	ret = check_range(mem, "Multiboot load range", 0, h->load_addr,
			  mem_len, err, err_len);
	if (ret)
		return ret;
	if (h->entry_addr < h->load_addr ||
	    h->entry_addr >= h->load_addr + mem_len)
		return err_fmt(err, err_len, -EINVAL,
			    "Multiboot entry %#x is not inside the loaded image",
			    h->entry_addr);
	dst = mem_gpa_to_hva(mem, h->load_addr, mem_len);
	memcpy(dst, image + file_off, load_len);
	memset(dst + load_len, 0, mem_len - load_len);
	out->entry = h->entry_addr;
	out->lowest = h->load_addr;
	out->highest = h->load_addr + mem_len;
	return 0;
}

/* A 32-bit ELF: its PT_LOAD segments at their physical addresses. */
static int load_elf32(struct guest_memory *mem, const u8 *image, size_t size,
		      struct multiboot_image *out, char *err, size_t err_len)
{
	Elf32_Phdr phdrs[MB_MAX_SEGMENTS];
	const Elf32_Phdr *loads[MB_MAX_SEGMENTS];
	unsigned int nr_loads = 0, i, j;
	bool entry_loaded = false;
	Elf32_Ehdr eh;
	int ret;

	if (size < SELFMAG || memcmp(image, ELFMAG, SELFMAG))
		return err_fmt(err, err_len, -ENOEXEC,
			    "Multiboot image is not an ELF file and its header has no address fields (flag 16)");
	if (size < sizeof(eh))
		return err_fmt(err, err_len, -EINVAL,
			    "ELF file is truncated: %zu bytes, the header alone is %zu",
			    size, sizeof(eh));
	memcpy(&eh, image, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS32)
		return err_fmt(err, err_len, -EINVAL,
			    "a Multiboot ELF must be 32-bit (class %u)",
			    eh.e_ident[EI_CLASS]);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_386)
		return err_fmt(err, err_len, -EINVAL,
			    "Multiboot ELF file is not for i386 (machine %u)",
			    eh.e_machine);
	if (eh.e_type != ET_EXEC)
		return err_fmt(err, err_len, -EINVAL,
			    "ELF file is not an executable (type %u)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > MB_MAX_SEGMENTS)
		return err_fmt(err, err_len, -EINVAL,
			    "ELF program header table is malformed (%u entries of %u bytes)",
			    eh.e_phnum, eh.e_phentsize);
	if (!in_file(eh.e_phoff, (u64)eh.e_phnum * sizeof(Elf32_Phdr), size))
		return err_fmt(err, err_len, -EINVAL,
			    "ELF program headers lie past the end of the file (truncated?)");
	memcpy(phdrs, image + eh.e_phoff, eh.e_phnum * sizeof(Elf32_Phdr));

	for (i = 0; i < eh.e_phnum; i++) {
		const Elf32_Phdr *ph = &phdrs[i];

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (!in_file(ph->p_offset, ph->p_filesz, size))
			return err_fmt(err, err_len, -EINVAL,
				    "ELF segment %u lies past the end of the file (truncated?)",
				    i);
		if (ph->p_filesz > ph->p_memsz)
			return err_fmt(err, err_len, -EINVAL,
				    "ELF segment %u has more file bytes than memory bytes",
				    i);
		ret = check_range(mem, "ELF segment", i, ph->p_paddr,
				  ph->p_memsz, err, err_len);
		if (ret)
			return ret;
		for (j = 0; j < nr_loads; j++) {
			const Elf32_Phdr *o = loads[j];

			if ((u64)ph->p_paddr < (u64)o->p_paddr + o->p_memsz &&
			    (u64)o->p_paddr < (u64)ph->p_paddr + ph->p_memsz)
				return err_fmt(err, err_len, -EINVAL,
					    "ELF segments overlap at %#x",
					    MAX(ph->p_paddr, o->p_paddr));
		}
		loads[nr_loads++] = ph;
	}
	if (!nr_loads)
		return err_fmt(err, err_len, -EINVAL, "ELF file has nothing to load");

	out->lowest = UINT64_MAX;
	out->highest = 0;
	for (j = 0; j < nr_loads; j++) {
		const Elf32_Phdr *ph = loads[j];

		if (eh.e_entry >= ph->p_paddr &&
		    eh.e_entry - ph->p_paddr < ph->p_memsz)
			entry_loaded = true;
		out->lowest = MIN(out->lowest, (u64)ph->p_paddr);
		out->highest = MAX(out->highest, (u64)ph->p_paddr + ph->p_memsz);
	}
	if (!entry_loaded)
		return err_fmt(err, err_len, -EINVAL,
			    "Multiboot entry %#x is not inside a loaded segment",
			    eh.e_entry);

	/* Everything checked: now copy. */
	for (j = 0; j < nr_loads; j++) {
		const Elf32_Phdr *ph = loads[j];
		u8 *dst = mem_gpa_to_hva(mem, ph->p_paddr, ph->p_memsz);

		memcpy(dst, image + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	out->entry = eh.e_entry;
	return 0;
}

int multiboot_load(struct guest_memory *mem, const u8 *image, size_t size,
		   struct multiboot_image *out, char *err, size_t err_len)
{
	struct multiboot_header h;
	long off;

	memset(out, 0, sizeof(*out));
	off = multiboot_find_header(image, size);
	if (off < 0)
		return err_fmt(err, err_len, -ENOEXEC,
			    "no Multiboot header in the first %u bytes",
			    MULTIBOOT_SEARCH);
	memset(&h, 0, sizeof(h));
	memcpy(&h, image + off, MIN(sizeof(h), size - off));
	/* The specification: refuse a requirement bit not understood. */
	if (h.flags & 0xffff & ~MULTIBOOT_UNDERSTOOD)
		return err_fmt(err, err_len, -ENOTSUP,
			    "Multiboot header asks for what uvmm does not offer (flags %#x%s)",
			    h.flags, h.flags & MULTIBOOT_VIDEO_MODE ?
			    ": a video mode" : "");
	out->flags = h.flags;
	if (h.flags & MULTIBOOT_AOUT_KLUDGE)
		return load_kludge(mem, image, size, off, &h, out, err, err_len);
	return load_elf32(mem, image, size, out, err, err_len);
}

/* Copies a string into the info area; returns its address or 0. */
static u32 put_string(struct guest_memory *mem, u64 *at, u64 end,
		      const char *s)
{
	size_t len = strlen(s) + 1;
	u64 gpa = *at;
	char *dst;

	if (len > end - gpa)
		return 0;
	dst = mem_gpa_to_hva(mem, gpa, len);
	if (!dst)
		return 0;
	memcpy(dst, s, len);
	*at = ALIGN_UP(gpa + len, 8);
	return gpa;
}

long multiboot_write_info(struct guest_memory *mem,
			  const struct multiboot_image *img,
			  const char *cmdline,
			  const struct e820_entry *e820, unsigned int nr_e820,
			  const struct multiboot_mod *mods, unsigned int nr_mods,
			  char *err, size_t err_len)
{
	struct multiboot_info *mbi;
	struct multiboot_mmap_entry *mm;
	struct multiboot_module *ml;
	u64 strings = MB_STRINGS, mod_at, low_end = mem_low_end(mem);
	unsigned int i;

	if (nr_mods > MB_MAX_MODULES)
		return err_fmt(err, err_len, -E2BIG,
			    "%u Multiboot modules, at most %u", nr_mods,
			    MB_MAX_MODULES);
	if (nr_e820 > (MB_MODS - MB_MMAP) / sizeof(*mm))
		return err_fmt(err, err_len, -E2BIG,
			    "the memory map has too many entries");
	mbi = mem_gpa_to_hva(mem, MB_INFO, sizeof(*mbi));
	mm = mem_gpa_to_hva(mem, MB_MMAP, MB_MODS - MB_MMAP);
	ml = mem_gpa_to_hva(mem, MB_MODS, MB_MAX_MODULES * sizeof(*ml));
	if (!mbi || !mm || !ml)
		return err_fmt(err, err_len, -ENOSPC,
			    "no RAM for the Multiboot information at %#llx",
			    (unsigned long long)MB_INFO);
	memset(mbi, 0, sizeof(*mbi));

	/*
	 * mem_lower: conventional memory up to the EBDA; mem_upper: from
	 * 1 MiB to the first hole (the end of low RAM, at most 3 GiB).
	 */
	mbi->flags = MBI_MEMORY | MBI_MEM_MAP | MBI_BOOT_LOADER_NAME;
	mbi->mem_lower = E820_EBDA_START >> 10;
	mbi->mem_upper = low_end > MiB ? (low_end - MiB) >> 10 : 0;
	for (i = 0; i < nr_e820; i++)
		mm[i] = (struct multiboot_mmap_entry) {
			.size = sizeof(mm[i]) - sizeof(mm[i].size),
			.addr = e820[i].addr, .len = e820[i].size,
			.type = e820[i].type,
		};
	mbi->mmap_addr = MB_MMAP;
	mbi->mmap_length = nr_e820 * sizeof(*mm);
	mbi->boot_loader_name = put_string(mem, &strings, LAYOUT_START_INFO_END,
					   MB_LOADER_NAME);

	/* Modules follow the image, each on a page boundary, as QEMU does. */
	mod_at = ALIGN_UP(img->highest, 4096);
	for (i = 0; i < nr_mods; i++) {
		u8 *dst = mem_gpa_to_hva(mem, mod_at, mods[i].size);

		if (!dst || mod_at + mods[i].size > low_end)
			return err_fmt(err, err_len, -ENOSPC,
				    "Multiboot module %u (%zu bytes) does not fit in low RAM at %#llx (needs at least %llu MiB)",
				    i, mods[i].size, (unsigned long long)mod_at,
				    (unsigned long long)((mod_at + mods[i].size + MiB - 1) >> 20));
		if (mods[i].size)	/* an empty module may have no data */
			memcpy(dst, mods[i].data, mods[i].size);
		ml[i] = (struct multiboot_module) {
			.mod_start = mod_at,
			.mod_end = mod_at + mods[i].size,
		};
		if (mods[i].cmdline) {
			ml[i].cmdline = put_string(mem, &strings,
						   LAYOUT_START_INFO_END,
						   mods[i].cmdline);
			if (!ml[i].cmdline)
				return err_fmt(err, err_len, -E2BIG,
					    "Multiboot module command lines do not fit in %u bytes",
					    (unsigned int)(LAYOUT_START_INFO_END - MB_STRINGS));
		}
		mod_at = ALIGN_UP(mod_at + mods[i].size, 4096);
	}
	mbi->flags |= MBI_MODS;
	mbi->mods_count = nr_mods;
	mbi->mods_addr = MB_MODS;

	if (cmdline) {
		u64 at = LAYOUT_CMDLINE;

		mbi->cmdline = put_string(mem, &at,
					  LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX,
					  cmdline);
		if (!mbi->cmdline)
			return err_fmt(err, err_len, -E2BIG,
				    "the command line is longer than %llu bytes",
				    (unsigned long long)LAYOUT_CMDLINE_MAX - 1);
		mbi->flags |= MBI_CMDLINE;
	}
	return MB_INFO;
}
