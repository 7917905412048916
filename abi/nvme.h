/* SPDX-License-Identifier: MIT */
/*
 * NVMe as uvmm-nvme (nvme/ctrl.h) serves it and the firmware drivers
 * (guest/include/nvme.h) drive it: the registers of BAR0, the opcodes
 * both use, and the queue entries. The NVMe 1.4 specification's values.
 */
#ifndef UVMM_ABI_NVME_H
#define UVMM_ABI_NVME_H

#include "common/types.h"

/* SQ y's tail doorbell at 8y from here, CQ y's head at 8y + 4 (DSTRD 0). */
#define NVME_DOORBELL_BASE	0x1000

/* Registers (offsets in BAR0). */
#define NVME_REG_CAP		0x00
#define NVME_REG_VS		0x08
#define NVME_REG_INTMS		0x0c
#define NVME_REG_INTMC		0x10
#define NVME_REG_CC		0x14
#define NVME_REG_CSTS		0x1c
#define NVME_REG_NSSR		0x20
#define NVME_REG_AQA		0x24
#define NVME_REG_ASQ		0x28
#define NVME_REG_ACQ		0x30

#define NVME_CC_EN		(1u << 0)
#define NVME_CC_CSS(cc)		(((cc) >> 4) & 7)
#define NVME_CC_MPS(cc)		(((cc) >> 7) & 0xf)
#define NVME_CC_AMS(cc)		(((cc) >> 11) & 7)
#define NVME_CC_SHN(cc)		(((cc) >> 14) & 3)
#define NVME_CC_IOSQES(cc)	(((cc) >> 16) & 0xf)
#define NVME_CC_IOCQES(cc)	(((cc) >> 20) & 0xf)
#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)
#define NVME_CSTS_SHST_MASK	(3u << 2)
#define NVME_CSTS_SHST_DONE	(2u << 2)

/* Admin opcodes. */
#define NVME_ADM_DELETE_SQ	0x00
#define NVME_ADM_CREATE_SQ	0x01
#define NVME_ADM_GET_LOG	0x02
#define NVME_ADM_DELETE_CQ	0x04
#define NVME_ADM_CREATE_CQ	0x05
#define NVME_ADM_IDENTIFY	0x06
#define NVME_ADM_ABORT		0x08
#define NVME_ADM_SET_FEATURES	0x09
#define NVME_ADM_GET_FEATURES	0x0a
#define NVME_ADM_AER		0x0c
#define NVME_ADM_DBBUF_CONFIG	0x7c

/* NVM opcodes. */
#define NVME_CMD_FLUSH		0x00
#define NVME_CMD_WRITE		0x01
#define NVME_CMD_READ		0x02
#define NVME_CMD_WRITE_ZEROES	0x08
#define NVME_CMD_DSM		0x09

struct nvme_sqe {
	u32 cdw0;		/* opcode 7:0, fuse 9:8, psdt 15:14, cid 31:16 */
	u32 nsid;
	u32 cdw2, cdw3;
	u64 mptr;
	u64 prp1, prp2;
	u32 cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	u32 dw0;
	u32 dw1;
	u16 sqhd, sqid;
	u16 cid;
	u16 status;		/* phase bit 0, status field 15:1 */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "SQ entry size");
_Static_assert(sizeof(struct nvme_cqe) == 16, "CQ entry size");

#endif
