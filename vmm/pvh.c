// SPDX-License-Identifier: MIT
/*
 * PVH boot: an ELF whose XEN_ELFNOTE_PHYS32_ENTRY note names a 32-bit
 * entry point, entered in flat protected mode with ebx = hvm_start_info.
 */
#define LOG_PREFIX "pvh"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "abi/machine.h"
#include "vmm/pvh.h"

#define PVH_MAX_SEGMENTS 64
#define START_INFO_MEMMAP (LAYOUT_START_INFO + 0x40)
#define START_INFO_MODLIST (LAYOUT_START_INFO + 0x200)
#define START_INFO_MOD_CMDLINES (LAYOUT_START_INFO + 0x400)
#define START_INFO_MAX_MODULES 8

bool pvh_is_elf(const u8 *image, size_t size)
{
	return size >= SELFMAG && !memcmp(image, ELFMAG, SELFMAG);
}

/* Is [off, off + len) inside a buffer of size bytes? */
static bool in_file(u64 off, u64 len, size_t size)
{
	return off <= size && len <= size - off;
}

/* Finds the PVH entry in one PT_NOTE segment; 0 if it holds none. */
static int find_pvh_note(const u8 *image, size_t size, const Elf64_Phdr *ph,
			 u64 *entry, char *err, size_t err_len)
{
	u64 off = ph->p_offset, end = ph->p_offset + ph->p_filesz;

	while (end - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nhdr;
		u64 name_off, desc_off, next;

		memcpy(&nhdr, image + off, sizeof(nhdr));
		name_off = off + sizeof(nhdr);
		desc_off = name_off + ALIGN_UP((u64)nhdr.n_namesz, 4);
		next = desc_off + ALIGN_UP((u64)nhdr.n_descsz, 4);
		if (next > end || next < off)
			return err_fmt(err, err_len, -EINVAL,
				    "ELF note at offset %#llx runs past its segment",
				    (unsigned long long)off);
		if (nhdr.n_type == XEN_ELFNOTE_PHYS32_ENTRY &&
		    nhdr.n_namesz == 4 && !memcmp(image + name_off, "Xen", 4)) {
			u32 e32;
			u64 e64;

			if (nhdr.n_descsz == 4) {
				memcpy(&e32, image + desc_off, 4);
				*entry = e32;
			} else if (nhdr.n_descsz == 8) {
				memcpy(&e64, image + desc_off, 8);
				*entry = e64;
			} else {
				return err_fmt(err, err_len, -EINVAL,
					    "PVH entry note has a %u-byte value, expected 4 or 8",
					    nhdr.n_descsz);
			}
			return 1;
		}
		off = next;
	}
	(void)size;
	return 0;
}

int pvh_load(struct guest_memory *mem, const u8 *image, size_t size,
	     struct pvh_image *out, char *err, size_t err_len)
{
	const Elf64_Phdr *loads[PVH_MAX_SEGMENTS];
	unsigned int nr_loads = 0, i, j;
	Elf64_Ehdr eh;
	Elf64_Phdr phdrs[PVH_MAX_SEGMENTS];
	u64 entry = 0;
	bool have_entry = false, entry_loaded = false;
	int ret;

	memset(out, 0, sizeof(*out));
	if (size < sizeof(eh))
		return err_fmt(err, err_len, -EINVAL,
			    "ELF file is truncated: %zu bytes, the header alone is %zu",
			    size, sizeof(eh));
	memcpy(&eh, image, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return err_fmt(err, err_len, -EINVAL, "not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return err_fmt(err, err_len, -EINVAL,
			    "only 64-bit ELF files are supported (class %u)",
			    eh.e_ident[EI_CLASS]);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return err_fmt(err, err_len, -EINVAL,
			    "ELF file is not for x86-64 (machine %u)",
			    eh.e_machine);
	if (eh.e_type != ET_EXEC)
		return err_fmt(err, err_len, -EINVAL,
			    "ELF file is not an executable (type %u)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > PVH_MAX_SEGMENTS)
		return err_fmt(err, err_len, -EINVAL,
			    "ELF program header table is malformed (%u entries of %u bytes)",
			    eh.e_phnum, eh.e_phentsize);
	if (!in_file(eh.e_phoff, (u64)eh.e_phnum * sizeof(Elf64_Phdr), size))
		return err_fmt(err, err_len, -EINVAL,
			    "ELF program headers lie past the end of the file (truncated?)");
	memcpy(phdrs, image + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));

	for (i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *ph = &phdrs[i];

		if (ph->p_type != PT_LOAD && ph->p_type != PT_NOTE)
			continue;
		if (!in_file(ph->p_offset, ph->p_filesz, size))
			return err_fmt(err, err_len, -EINVAL,
				    "ELF segment %u lies past the end of the file (truncated?)",
				    i);
		if (ph->p_type == PT_NOTE) {
			if (have_entry)
				continue;
			ret = find_pvh_note(image, size, ph, &entry, err,
					    err_len);
			if (ret < 0)
				return ret;
			have_entry = ret;
			continue;
		}
		if (ph->p_filesz > ph->p_memsz)
			return err_fmt(err, err_len, -EINVAL,
				    "ELF segment %u has more file bytes than memory bytes",
				    i);
		if (ph->p_memsz == 0)
			continue;
		if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
			return err_fmt(err, err_len, -EINVAL,
				    "ELF segment %u wraps around the address space",
				    i);
		if (ph->p_paddr < LAYOUT_IMAGE_MIN)
			return err_fmt(err, err_len, -EINVAL,
				    "ELF segment %u at %#llx is below 1 MiB, where uvmm keeps the boot tables",
				    i, (unsigned long long)ph->p_paddr);
		if (!mem_gpa_to_hva(mem, ph->p_paddr, ph->p_memsz))
			return err_fmt(err, err_len, -ENOSPC,
				    "ELF segment %u [%#llx, %#llx) does not fit in guest RAM (%llu MiB; it needs at least %llu MiB)",
				    i, (unsigned long long)ph->p_paddr,
				    (unsigned long long)(ph->p_paddr + ph->p_memsz),
				    (unsigned long long)(mem->size >> 20),
				    (unsigned long long)((ph->p_paddr + ph->p_memsz + MiB - 1) >> 20));
		for (j = 0; j < nr_loads; j++) {
			const Elf64_Phdr *o = loads[j];

			if (ph->p_paddr < o->p_paddr + o->p_memsz &&
			    o->p_paddr < ph->p_paddr + ph->p_memsz)
				return err_fmt(err, err_len, -EINVAL,
					    "ELF segments overlap at %#llx",
					    (unsigned long long)MAX(ph->p_paddr,
								    o->p_paddr));
		}
		loads[nr_loads++] = ph;
	}
	if (!have_entry)
		return err_fmt(err, err_len, -ENOEXEC,
			    "ELF file has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); uvmm boots ELF images through PVH only");
	if (!nr_loads)
		return err_fmt(err, err_len, -EINVAL, "ELF file has nothing to load");

	out->lowest = UINT64_MAX;
	for (j = 0; j < nr_loads; j++) {
		const Elf64_Phdr *ph = loads[j];

		if (entry >= ph->p_paddr && entry < ph->p_paddr + ph->p_memsz)
			entry_loaded = true;
		out->lowest = MIN(out->lowest, ph->p_paddr);
		out->highest = MAX(out->highest, ph->p_paddr + ph->p_memsz);
	}
	if (!entry_loaded || entry > UINT32_MAX)
		return err_fmt(err, err_len, -EINVAL,
			    "PVH entry %#llx is not inside a loaded segment",
			    (unsigned long long)entry);

	/* Everything checked: now copy. */
	for (j = 0; j < nr_loads; j++) {
		const Elf64_Phdr *ph = loads[j];
		u8 *dst = mem_gpa_to_hva(mem, ph->p_paddr, ph->p_memsz);

		memcpy(dst, image + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	out->entry = entry;
	return 0;
}

static u64 put_string(struct guest_memory *mem, u64 gpa, u64 max,
		      const char *s)
{
	size_t len = strlen(s) + 1;
	char *dst;

	if (len > max)
		return 0;
	dst = mem_gpa_to_hva(mem, gpa, len);
	if (!dst)
		return 0;
	memcpy(dst, s, len);
	return gpa;
}

u64 pvh_write_start_info(struct guest_memory *mem, const char *cmdline,
			 const struct e820_entry *e820, unsigned int nr_e820,
			 const struct pvh_module *modules,
			 unsigned int nr_modules)
{
	struct hvm_start_info *si;
	struct hvm_memmap_table_entry *mm;
	struct hvm_modlist_entry *ml;
	u64 mod_cmdline = START_INFO_MOD_CMDLINES;
	unsigned int i;

	if (nr_modules > START_INFO_MAX_MODULES ||
	    nr_e820 > (START_INFO_MODLIST - START_INFO_MEMMAP) / sizeof(*mm))
		return 0;
	si = mem_gpa_to_hva(mem, LAYOUT_START_INFO, sizeof(*si));
	mm = mem_gpa_to_hva(mem, START_INFO_MEMMAP, nr_e820 * sizeof(*mm));
	ml = mem_gpa_to_hva(mem, START_INFO_MODLIST,
			    START_INFO_MAX_MODULES * sizeof(*ml));
	if (!si || !mm || !ml)
		return 0;
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC_VALUE;
	si->version = 1;
	for (i = 0; i < nr_e820; i++)
		mm[i] = (struct hvm_memmap_table_entry) {
			.addr = e820[i].addr, .size = e820[i].size,
			.type = e820[i].type,
		};
	si->memmap_paddr = START_INFO_MEMMAP;
	si->memmap_entries = nr_e820;

	for (i = 0; i < nr_modules; i++) {
		ml[i] = (struct hvm_modlist_entry) {
			.paddr = modules[i].paddr, .size = modules[i].size,
		};
		if (modules[i].cmdline) {
			u64 at = put_string(mem, mod_cmdline,
					    LAYOUT_START_INFO_END - mod_cmdline,
					    modules[i].cmdline);

			if (!at)
				return 0;
			ml[i].cmdline_paddr = at;
			mod_cmdline += ALIGN_UP(strlen(modules[i].cmdline) + 1, 8);
		}
	}
	si->nr_modules = nr_modules;
	si->modlist_paddr = nr_modules ? START_INFO_MODLIST : 0;

	if (cmdline) {
		si->cmdline_paddr = put_string(mem, LAYOUT_CMDLINE,
					       LAYOUT_CMDLINE_MAX, cmdline);
		if (!si->cmdline_paddr)
			return 0;
	}
	return LAYOUT_START_INFO;
}
