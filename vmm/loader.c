// SPDX-License-Identifier: MIT
#define LOG_PREFIX "loader"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "devices/pci_host.h"
#include "vmm/acpi.h"
#include "vmm/bzimage.h"
#include "vmm/e820.h"
#include "abi/machine.h"
#include "vmm/loader.h"
#include "vmm/mptable.h"
#include "vmm/multiboot.h"
#include "vmm/pvh.h"
#include "vmm/rom.h"
#include "vmm/vm.h"

int loader_read_file_within(const char *path, u64 max_size, const char *limit,
			    u8 **data, size_t *size, char *err, size_t err_len)
{
	struct stat st;
	size_t done = 0;
	u8 *buf = NULL;
	int fd, ret;

	*data = NULL;
	*size = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return err_fmt(err, err_len, -errno, "%s: %s", path,
			    strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = err_fmt(err, err_len, -errno, "%s: %s", path,
			   strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = err_fmt(err, err_len, -EINVAL, "%s: not a regular file",
			   path);
		goto out;
	}
	if (st.st_size == 0) {
		ret = err_fmt(err, err_len, -EINVAL, "%s: the file is empty", path);
		goto out;
	}
	if ((u64)st.st_size > max_size) {
		ret = err_fmt(err, err_len, -EFBIG,
			   "%s: %lld bytes do not fit in %s", path,
			   (long long)st.st_size, limit);
		goto out;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		ret = err_fmt(err, err_len, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = err_fmt(err, err_len, n < 0 ? -errno : -EIO,
				   "%s: read failed: %s", path,
				   n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		done += n;
	}
	*data = buf;
	*size = done;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

int loader_read_file(const char *path, u64 max_size, u8 **data, size_t *size,
		     char *err, size_t err_len)
{
	char limit[64];

	snprintf(limit, sizeof(limit), "%llu MiB of guest RAM",
		 (unsigned long long)(max_size >> 20));
	return loader_read_file_within(path, max_size, limit, data, size, err,
				       err_len);
}

/*
 * hvm_start_info at LAYOUT_START_INFO: the memory map, the command line and
 * the device tree as the one module, its command line "dtb".
 */
static int write_start_info(struct vm *vm, char *err, size_t err_len)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct pvh_module dtb = {
		.paddr = LAYOUT_DTB, .size = vm->dtb_size, .cmdline = "dtb",
	};
	unsigned int nr_e820, nr_modules = 0;
	void *dst;

	if (vm->dtb) {
		dst = gpa_to_hva(vm, LAYOUT_DTB, vm->dtb_size);
		if (vm->dtb_size > LAYOUT_DTB_MAX || !dst)
			return err_fmt(err, err_len, -E2BIG,
				    "the device tree (%zu bytes) does not fit at %#llx",
				    vm->dtb_size, (unsigned long long)LAYOUT_DTB);
		memcpy(dst, vm->dtb, vm->dtb_size);
		nr_modules = 1;
	}
	nr_e820 = e820_build(&vm->mem, e820);
	vm->boot.rbx = pvh_write_start_info(&vm->mem, vm->cfg->cmdline, e820,
					    nr_e820, nr_modules ? &dtb : NULL,
					    nr_modules);
	if (!vm->boot.rbx)
		return err_fmt(err, err_len, -E2BIG,
			    "cannot place the boot information (command line longer than %llu bytes?)",
			    (unsigned long long)LAYOUT_CMDLINE_MAX - 1);
	return 0;
}

static int load_pvh(struct vm *vm, const u8 *image, size_t size, char *err,
		    size_t err_len)
{
	struct pvh_image info;
	int ret;

	ret = pvh_load(&vm->mem, image, size, &info, err, err_len);
	if (!ret)
		ret = write_start_info(vm, err, err_len);
	if (ret)
		return ret;
	vm->boot.mode = BOOT_PVH32;
	vm->boot.entry = info.entry;
	log_info("PVH image [%#llx, %#llx), entry %#llx",
		 (unsigned long long)info.lowest,
		 (unsigned long long)info.highest,
		 (unsigned long long)info.entry);
	return 0;
}

static int load_bzimage(struct vm *vm, const u8 *image, size_t size,
			char *err, size_t err_len)
{
	const struct vm_config *cfg = vm->cfg;
	struct bzimage_info info;
	size_t initrd_size = 0;
	u8 *initrd = NULL;
	int ret;

	/* Any size below the hole is read; bzimage_load says if it fits. */
	if (cfg->initrd_path) {
		ret = loader_read_file(cfg->initrd_path, MEM_LOW_RAM_MAX,
				       &initrd, &initrd_size, err, err_len);
		if (ret)
			return ret;
	}
	ret = bzimage_load(&vm->mem, image, size, cfg->cmdline, initrd,
			   initrd_size, &info, err, err_len);
	free(initrd);
	if (ret)
		return ret;
	if (vm->dtb) {
		ret = bzimage_add_setup_data(&vm->mem, info.zero_page, SETUP_DTB,
					     vm->dtb, vm->dtb_size);
		if (ret)
			return err_fmt(err, err_len, ret,
				    "cannot add the device tree to setup_data: %s",
				    strerror(-ret));
	}
	vm->boot.mode = BOOT_LINUX64;
	vm->boot.entry = info.entry;
	vm->boot.rsi = info.zero_page;
	vm->boot.gdt_gpa = LAYOUT_LINUX_GDT;
	vm->boot.pml4_gpa = LAYOUT_PAGE_TABLES;
	return 0;
}

/*
 * --bios: the ROM runs from the reset vector. RAM holds the same
 * description a PVH kernel gets, at fixed addresses, for the ROM to read:
 * hvm_start_info (e820 map, command line, device tree) and the MP table.
 */
static int load_rom(struct vm *vm, char *err, size_t err_len)
{
	int ret;

	ret = rom_load(vm, vm->cfg->bios_path, err, err_len);
	if (!ret)
		ret = write_start_info(vm, err, err_len);
	if (ret)
		return ret;
	vm->boot.mode = BOOT_RESET_VECTOR;
	return 0;
}

/*
 * ACPI tables for every boot: Multiboot firmware tests read them, Linux
 * takes its CPUs, interrupt routing and PCI host bridge from them. The
 * RSDP sits in the BIOS area, where an OS scans for it; a PVH start_info
 * (PVH kernels, --bios) also points at it.
 */
static int write_acpi(struct vm *vm, char *err, size_t err_len)
{
	struct acpi_table tables[ACPI_MAX_TABLES];
	struct hvm_start_info *si;
	int nr, i;

	nr = acpi_build(&vm->mem, vm->cfg->nr_cpus, tables);
	if (nr < 0)
		return err_fmt(err, err_len, nr, "cannot build the ACPI tables: %s",
			    strerror(-nr));
	for (i = 0; i < nr; i++)
		if (!strcmp(tables[i].name, "FACS"))
			vm->facs_gpa = tables[i].gpa;
	if (vm->boot.mode == BOOT_PVH32 || vm->boot.mode == BOOT_RESET_VECTOR) {
		si = gpa_to_hva(vm, vm->boot.rbx, sizeof(*si));
		if (!si)
			return err_fmt(err, err_len, -EFAULT,
				    "start_info at %#llx is not in RAM",
				    (unsigned long long)vm->boot.rbx);
		si->rsdp_paddr = tables[0].gpa;
	}
	if (vm->cfg->dump_acpi_dir)
		return acpi_dump(&vm->mem, tables, nr, vm->cfg->dump_acpi_dir,
				 err, err_len);
	return 0;
}

/*
 * Multiboot: the kernel, then --initrd as the one module (its command line
 * the file's name), and the command line with the kernel's name in front,
 * as QEMU's -kernel gives it: kvm-unit-tests reads argv[0] from there.
 */
static int load_multiboot(struct vm *vm, const u8 *image, size_t size,
			  char *err, size_t err_len)
{
	const struct vm_config *cfg = vm->cfg;
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct multiboot_mod mod = { .cmdline = cfg->initrd_path };
	struct multiboot_image img;
	size_t initrd_size = 0;
	u8 *initrd = NULL;
	char *cmdline;
	long info;
	int ret;

	ret = multiboot_load(&vm->mem, image, size, &img, err, err_len);
	if (ret)
		return ret;
	if (cfg->initrd_path) {
		struct stat st;

		/* An empty module is valid (an empty environment file). */
		if (stat(cfg->initrd_path, &st) || !S_ISREG(st.st_mode) ||
		    st.st_size) {
			ret = loader_read_file(cfg->initrd_path, vm->mem.size,
					       &initrd, &initrd_size, err,
					       err_len);
			if (ret)
				return ret;
		}
		mod.data = initrd;
		mod.size = initrd_size;
	}
	if (asprintf(&cmdline, "%s%s%s", cfg->image_path,
		     cfg->cmdline ? " " : "", cfg->cmdline ? cfg->cmdline : "") < 0) {
		free(initrd);
		return err_fmt(err, err_len, -ENOMEM, "out of memory");
	}
	info = multiboot_write_info(&vm->mem, &img, cmdline, e820,
				    e820_build(&vm->mem, e820), &mod,
				    cfg->initrd_path ? 1 : 0, err, err_len);
	free(cmdline);
	free(initrd);
	if (info < 0)
		return info;
	vm->boot.mode = BOOT_MULTIBOOT;
	vm->boot.entry = img.entry;
	vm->boot.rbx = info;
	log_info("Multiboot image [%#llx, %#llx), entry %#x",
		 (unsigned long long)img.lowest,
		 (unsigned long long)img.highest, img.entry);
	return 0;
}

/* An ELF64 with a PVH note goes through PVH even with a Multiboot header. */
static bool is_elf64(const u8 *image, size_t size)
{
	return pvh_is_elf(image, size) && size > EI_CLASS &&
	       image[EI_CLASS] == ELFCLASS64;
}

static int load_image(struct vm *vm, char *err, size_t err_len)
{
	const struct vm_config *cfg = vm->cfg;
	size_t size;
	u8 *image;
	int ret;

	ret = loader_read_file(cfg->image_path, vm->mem.size, &image, &size,
			       err, err_len);
	if (ret)
		return ret;
	if (!is_elf64(image, size) && multiboot_find_header(image, size) >= 0) {
		ret = load_multiboot(vm, image, size, err, err_len);
	} else if (pvh_is_elf(image, size)) {
		if (cfg->initrd_path)
			ret = err_fmt(err, err_len, -EINVAL,
				   "%s: --initrd is for bzImage and Multiboot kernels, not PVH ELF images",
				   cfg->image_path);
		else
			ret = load_pvh(vm, image, size, err, err_len);
		/* No PVH note but a Multiboot header: say what Multiboot wants. */
		if (ret == -ENOEXEC && multiboot_find_header(image, size) >= 0)
			ret = load_multiboot(vm, image, size, err, err_len);
	} else if (bzimage_is(image, size)) {
		ret = load_bzimage(vm, image, size, err, err_len);
	} else {
		ret = err_fmt(err, err_len, -ENOEXEC,
			   "%s: unknown image format (not an ELF with a PVH note, a Multiboot kernel or a bzImage)",
			   cfg->image_path);
	}
	free(image);
	return ret;
}

int loader_load(struct vm *vm, char *err, size_t err_len)
{
	const struct vm_config *cfg = vm->cfg;
	/* config_parse() lets --bios stand only without IMAGE. */
	const char *path = cfg->bios_path ? cfg->bios_path : cfg->image_path;
	int ret;

	if (cfg->bios_path)
		ret = load_rom(vm, err, err_len);
	else
		ret = load_image(vm, err, err_len);
	if (!ret)
		ret = write_acpi(vm, err, err_len);
	/*
	 * Every boot type gets the MP table, so firmware can start the APs
	 * too. It routes every slot's INTx pins, as the device tree does.
	 */
	if (!ret) {
		struct mptable_intx intx[MPTABLE_MAX_INTX];
		unsigned int nr_intx = pci_host_intx_routes(intx,
							     ARRAY_SIZE(intx));

		ret = mptable_write(&vm->mem, cfg->nr_cpus, intx, nr_intx);
		if (ret)
			err_fmt(err, err_len, ret, "cannot write the MP table: %s",
			     strerror(-ret));
	}
	if (ret && strncmp(err, path, strlen(path))) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", path, err);
		snprintf(err, err_len, "%s", msg);
	}
	return ret;
}
