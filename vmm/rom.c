// SPDX-License-Identifier: MIT
#define LOG_PREFIX "rom"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "vmm/loader.h"
#include "vmm/rom.h"
#include "vmm/vm.h"

#define ROM_PAGE_SIZE 4096ULL

int rom_load(struct vm *vm, const char *path, char *err, size_t err_len)
{
	char limit[64];
	struct rom *rom;
	size_t size;
	u8 *image;
	int ret;

	snprintf(limit, sizeof(limit), "the %llu KiB ROM window below 4 GiB",
		 ROM_MAX_SIZE / KiB);
	ret = loader_read_file_within(path, ROM_MAX_SIZE, limit, &image, &size,
				      err, err_len);
	if (ret)
		return ret;
	rom = calloc(1, sizeof(*rom));
	if (!rom) {
		ret = err_fmt(err, err_len, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	rom->slot = -1;
	rom->size = ALIGN_UP((u64)size, ROM_PAGE_SIZE);
	rom->gpa = ROM_END - rom->size;
	rom->hva = mmap(NULL, rom->size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rom->hva == MAP_FAILED) {
		ret = err_fmt(err, err_len, -errno, "%s: cannot map the ROM: %s",
			      path, strerror(errno));
		free(rom);
		goto out;
	}
	/* Below a short image, what an erased flash part reads: all-ones. */
	memset(rom->hva, 0xff, rom->size - size);
	memcpy((u8 *)rom->hva + rom->size - size, image, size);
	/* uvmm never writes it again; KVM maps it read-only for the guest. */
	if (mprotect(rom->hva, rom->size, PROT_READ) < 0)
		log_debug("mprotect: %s", strerror(errno));
	vm->rom = rom;
	log_info("ROM %s: %zu bytes at [%#llx, %#llx)", path, size,
		 (unsigned long long)(ROM_END - size),
		 (unsigned long long)ROM_END);
	ret = 0;
out:
	free(image);
	return ret;
}

int rom_install(struct vm *vm, char *err, size_t err_len)
{
	struct rom *rom = vm->rom;
	int slot, ret;

	if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return err_fmt(err, err_len, -ENOTSUP,
			       "--bios: KVM lacks read-only memory (KVM_CAP_READONLY_MEM), which the ROM needs");
	slot = vm_memslot_alloc(vm);
	if (slot < 0)
		return err_fmt(err, err_len, slot, "--bios: no free KVM memslot");
	ret = vm_memslot_set_flags(vm, slot, rom->gpa, rom->size, rom->hva,
				   KVM_MEM_READONLY);
	if (ret) {
		vm_memslot_free(vm, slot);
		return err_fmt(err, err_len, ret,
			       "--bios: cannot map the ROM at %#llx: %s",
			       (unsigned long long)rom->gpa, strerror(-ret));
	}
	rom->slot = slot;
	return 0;
}

void rom_destroy(struct vm *vm)
{
	struct rom *rom = vm->rom;

	if (!rom)
		return;
	if (rom->slot >= 0) {
		vm_memslot_set(vm, rom->slot, 0, 0, NULL);
		vm_memslot_free(vm, rom->slot);
	}
	munmap(rom->hva, rom->size);
	free(rom);
	vm->rom = NULL;
}
