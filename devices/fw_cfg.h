/* SPDX-License-Identifier: MIT */
#ifndef UVMM_FW_CFG_H
#define UVMM_FW_CFG_H

#include "abi/fw_cfg.h"
#include "abi/machine.h"
#include "common/types.h"

struct dev_services;
struct fw_cfg;

/*
 * QEMU's firmware configuration device, legacy I/O interface only: write
 * a 16-bit key to the selector port, read its bytes one at a time from the
 * data port. Firmware test suites (kvm-unit-tests) read the CPU count and
 * the RAM size from it.
 */

/* Keys from the machine: RAM size and end, CPU count (svc->mem, nr_cpus). */
int fw_cfg_create(const struct dev_services *svc, struct fw_cfg **out);
void fw_cfg_destroy(struct fw_cfg *dev);

#endif
