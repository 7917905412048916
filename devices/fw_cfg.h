/* SPDX-License-Identifier: MIT */
#ifndef UVMM_FW_CFG_H
#define UVMM_FW_CFG_H

#include "common/types.h"

struct vm;
struct fw_cfg;

/*
 * QEMU's firmware configuration device, legacy I/O interface only: write
 * a 16-bit key to the selector port, read its bytes one at a time from the
 * data port. Firmware test suites (kvm-unit-tests) read the CPU count and
 * the RAM size from it.
 */
#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_LEN 2

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_MAX_RAM 0x11
#define FW_CFG_FILE_DIR 0x19

#define FW_CFG_ID_TRADITIONAL 0x1	/* the I/O interface; no DMA */

/* Keys from the machine: RAM size and end, CPU count (vm->cfg, vm->mem). */
int fw_cfg_create(struct vm *vm, struct fw_cfg **out);
void fw_cfg_destroy(struct fw_cfg *dev);

#endif
