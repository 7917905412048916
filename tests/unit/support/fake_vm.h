/* SPDX-License-Identifier: MIT */
#ifndef UVMM_TEST_FAKE_VM_H
#define UVMM_TEST_FAKE_VM_H

#include "vmm/vm.h"

/*
 * A struct vm with buses, a stop state and (if mem_bytes) guest RAM, but
 * no KVM: enough for devices, the exit dispatcher and the loaders.
 */
struct vm *fake_vm_create(struct vm_config *cfg, u64 mem_bytes);
void fake_vm_destroy(struct vm *vm);

/* Number of open fds of this process, for leak checks. */
int fake_count_fds(void);

#endif
