/* SPDX-License-Identifier: MIT */
#ifndef UVMM_ROM_H
#define UVMM_ROM_H

#include "abi/machine.h"

#include "common/types.h"

struct vm;

/* --bios: a raw image that ends at 4 GiB, so its last 16 bytes hold the reset vector. */

/*
 * The ROM lives in its own anonymous mapping, not in guest RAM: it is
 * neither in the e820 map nor shared with vfio-user servers.
 */
struct rom {
	void *hva;
	u64 gpa;		/* ROM_END - size */
	u64 size;		/* page multiple; the image sits at its top */
	int slot;		/* KVM memslot, -1 until rom_install() */
};

/*
 * Reads the ROM file (1 byte to ROM_MAX_SIZE) into a fresh mapping padded
 * below with 0xff, and hangs it on vm->rom. Needs no KVM.
 */
int rom_load(struct vm *vm, const char *path, char *err, size_t err_len);

/* Maps vm->rom read-only into the guest: writes there exit as MMIO. */
int rom_install(struct vm *vm, char *err, size_t err_len);

/* Removes the memslot (if any) and frees vm->rom. */
void rom_destroy(struct vm *vm);

#endif
