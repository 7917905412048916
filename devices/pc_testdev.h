/* SPDX-License-Identifier: MIT */
#ifndef UVMM_PC_TESTDEV_H
#define UVMM_PC_TESTDEV_H

#include "abi/machine.h"
#include "common/types.h"

struct dev_services;
struct pc_testdev;

/*
 * QEMU's pc-testdev, the ISA test device kvm-unit-tests' x86 tests use
 * (--device pc-testdev):
 *   0xe0-0xe3   a 4-byte scratch register, any access width
 *   0xe4        write a guest-physical address: "flush" its page, so
 *               KVM must fault it in again on the next guest access
 *   0xe8-0xeb   the same register, taken one byte at a time
 *   0x2000+N    write: set (non-zero) or clear ISA IRQ line N, N < 24
 *   0xff000000  64 KiB of memory behind MMIO exits (not a memslot)
 *   0x8900      the string "Shutdown" ends the run with status 0
 */

int pc_testdev_create(const struct dev_services *svc, struct pc_testdev **out);
void pc_testdev_destroy(struct pc_testdev *dev);

#endif
