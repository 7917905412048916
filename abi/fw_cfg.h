/* SPDX-License-Identifier: MIT */
/*
 * QEMU's firmware configuration device as a guest reads it (legacy I/O
 * interface; the ports are in abi/machine.h): write a 16-bit key to the
 * selector port, then read the item's bytes, little-endian, one at a time
 * from the data port. devices/fw_cfg.c serves these keys; guest programs
 * read them.
 */
#ifndef UVMM_ABI_FW_CFG_H
#define UVMM_ABI_FW_CFG_H

#define FW_CFG_SIGNATURE	0x00	/* "QEMU" */
#define FW_CFG_ID		0x01	/* u32: interface bits */
#define FW_CFG_UUID		0x02
#define FW_CFG_RAM_SIZE		0x03	/* u64: bytes of RAM */
#define FW_CFG_NOGRAPHIC	0x04
#define FW_CFG_NB_CPUS		0x05	/* u16 */
#define FW_CFG_MAX_CPUS		0x0f	/* u16 */
#define FW_CFG_MAX_RAM		0x11	/* u64: end of RAM */
#define FW_CFG_FILE_DIR		0x19	/* u32 count, big-endian, then files */

#define FW_CFG_ID_TRADITIONAL	0x1	/* the I/O interface; no DMA */

#endif
