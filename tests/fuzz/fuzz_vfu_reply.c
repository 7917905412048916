// SPDX-License-Identifier: MIT
/*
 * Replies as their receiver sees them: the client (uvmm) receiving a
 * server's reply, and the server library receiving the reply to its own
 * DMA_READ/DMA_WRITE. The request is built the way client.c and server.c
 * build it, from a few input bytes; the reply is the rest of the input.
 * What vfu_validate_reply() accepts is then decoded the way the callers
 * decode it, with the promises they rely on checked.
 *
 * Input:  [u8 cmd selector][u8 fds + patch bits][u32 p1][u32 p2][u64 p3]
 *         [u64 p4][16-byte header][payload...]
 * Unless a patch bit says otherwise, the header's msg_id, cmd and size are
 * made to match, so the fuzzer spends its time in the command's payload
 * checks rather than on the first comparisons.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "vfio-user/client.h"
#include "vfio-user/protocol.h"

static const u16 request_cmds[] = {
	VFU_CMD_VERSION, VFU_CMD_DMA_MAP, VFU_CMD_DMA_UNMAP,
	VFU_CMD_DEVICE_GET_INFO, VFU_CMD_DEVICE_GET_REGION_INFO,
	VFU_CMD_DEVICE_GET_REGION_IO_FDS, VFU_CMD_DEVICE_GET_IRQ_INFO,
	VFU_CMD_DEVICE_SET_IRQS, VFU_CMD_REGION_READ, VFU_CMD_REGION_WRITE,
	VFU_CMD_DMA_READ, VFU_CMD_DMA_WRITE, VFU_CMD_DEVICE_RESET,
};

#define PATCH_KEEP_ID	0x40u	/* leave msg_id and cmd as given */
#define PATCH_KEEP_SIZE	0x80u	/* leave size as given */

union request {
	struct vfu_version version;
	struct vfu_dma_map dma_map;
	struct vfu_dma_unmap dma_unmap;
	struct vfu_device_info device_info;
	struct vfu_region_info region_info;
	struct vfu_io_fds io_fds;
	struct vfu_irq_info irq_info;
	struct vfu_irq_set irq_set;
	struct vfu_region_access region_access;
	struct vfu_dma_access dma_access;
};

/* The fixed part of the request as the sender builds it; its length. */
static u32 build_request(u16 cmd, u32 p1, u32 p2, u64 p3, u64 p4,
			 union request *rq)
{
	memset(rq, 0, sizeof(*rq));
	switch (cmd) {
	case VFU_CMD_VERSION:
		return sizeof(rq->version);
	case VFU_CMD_DMA_MAP:
		rq->dma_map = (struct vfu_dma_map){ sizeof(rq->dma_map),
			p1 & 3, p3, p4, p2 ? p2 : 4096 };
		return sizeof(rq->dma_map);
	case VFU_CMD_DMA_UNMAP:
		rq->dma_unmap = (struct vfu_dma_unmap){ sizeof(rq->dma_unmap),
			p1 & VFU_DMA_UNMAP_F_ALL, p3, p4 };
		return sizeof(rq->dma_unmap);
	case VFU_CMD_DEVICE_GET_INFO:
		rq->device_info.argsz = sizeof(rq->device_info);
		return sizeof(rq->device_info);
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		/* First query with 32 bytes, the re-query with the server's
		 * argsz (client.c caps it at what validation allows). */
		rq->region_info.argsz = p1 & 1 ? MAX(32u, p2 % (VFU_MAX_REGION_INFO_ARGSZ + 1)) : 32;
		rq->region_info.index = p1 >> 1;
		return sizeof(rq->region_info);
	case VFU_CMD_DEVICE_GET_REGION_IO_FDS:
		rq->io_fds.argsz = p1 & 1 ? MAX(16u, p2 % (VFU_MAX_IO_FDS_ARGSZ + 1)) : 16;
		rq->io_fds.index = p1 >> 1;
		return sizeof(rq->io_fds);
	case VFU_CMD_DEVICE_GET_IRQ_INFO:
		rq->irq_info.argsz = sizeof(rq->irq_info);
		rq->irq_info.index = p1;
		return sizeof(rq->irq_info);
	case VFU_CMD_DEVICE_SET_IRQS:
		rq->irq_set = (struct vfu_irq_set){ sizeof(rq->irq_set), p1,
			p2, (u32)p3, (u32)p4 };
		return sizeof(rq->irq_set);
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE:
		/* client.c splits at max_data_xfer_size (1 MiB at most). */
		rq->region_access = (struct vfu_region_access){ p3, p1,
			p2 % (VFU_CLIENT_MAX_DATA_XFER + 1) };
		return sizeof(rq->region_access);
	case VFU_CMD_DMA_READ:
	case VFU_CMD_DMA_WRITE:
		rq->dma_access = (struct vfu_dma_access){ p3,
			p4 % (VFU_CLIENT_MAX_DATA_XFER + 1) };
		return sizeof(rq->dma_access);
	default:
		return 0;
	}
}

/* What the callers do with an accepted success reply, with its promises. */
static void use_reply(u16 cmd, const union request *rq, const u8 *rep,
		      u32 len, unsigned int nr_fds)
{
	char why[200];

	switch (cmd) {
	case VFU_CMD_VERSION: {
		struct vfu_caps caps;

		FUZZ_CHECK(len >= sizeof(struct vfu_version));
		if (!vfu_caps_parse((const char *)rep + 4, len - 4, &caps, why,
				    sizeof(why))) {
			FUZZ_CHECK(caps.max_msg_fds <= VFU_MAX_MSG_FDS_LIMIT);
			FUZZ_CHECK(caps.max_data_xfer_size >= 1 &&
				   caps.max_data_xfer_size <= VFU_MAX_DATA_XFER_LIMIT);
			FUZZ_CHECK(caps.pgsizes && caps.pgsizes % 4096 == 0);
		}
		break;
	}
	case VFU_CMD_DEVICE_GET_INFO: {
		struct vfu_device_info di;

		FUZZ_CHECK(len == sizeof(di));
		memcpy(&di, rep, sizeof(di));
		FUZZ_CHECK(di.num_regions <= VFU_MAX_NUM_REGIONS);
		FUZZ_CHECK(di.num_irqs <= VFU_MAX_NUM_IRQS);
		break;
	}
	case VFU_CMD_DEVICE_GET_REGION_INFO: {
		struct vfu_region_caps caps;
		struct vfu_region_info ri;
		u32 i;

		FUZZ_CHECK(len >= sizeof(ri) && len <= rq->region_info.argsz);
		memcpy(&ri, rep, sizeof(ri));
		FUZZ_CHECK(ri.index == rq->region_info.index);
		FUZZ_CHECK(nr_fds <= 1);
		if (ri.argsz > rq->region_info.argsz) {
			FUZZ_CHECK(nr_fds == 0);	/* short: asks again */
			break;
		}
		/* client.c parses the chain of a full reply once more. */
		FUZZ_CHECK(!vfu_region_caps_parse(rep, len, &caps, why,
						  sizeof(why)));
		FUZZ_CHECK(caps.nr_areas <= VFU_MAX_SPARSE_AREAS);
		for (i = 0; i < caps.nr_areas; i++) {
			const struct vfu_sparse_area *a = &caps.areas[i];

			FUZZ_CHECK(a->size && a->offset + a->size > a->offset);
			FUZZ_CHECK(a->offset + a->size <= ri.size);
		}
		break;
	}
	case VFU_CMD_DEVICE_GET_REGION_IO_FDS: {
		struct vfu_io_fds head;
		u32 i, stride;

		FUZZ_CHECK(len >= sizeof(head));
		memcpy(&head, rep, sizeof(head));
		if (head.count == 0 || head.argsz > rq->io_fds.argsz) {
			FUZZ_CHECK(len == sizeof(head) && nr_fds == 0);
			break;
		}
		/* client.c's decoding loop. */
		FUZZ_CHECK(head.argsz == len && head.count <= VFU_MAX_IO_FDS_COUNT);
		stride = (head.argsz - sizeof(head)) / head.count;
		FUZZ_CHECK(stride == sizeof(struct vfu_ioeventfd) ||
			   stride == sizeof(struct vfu_ioeventfd_spec));
		for (i = 0; i < head.count; i++) {
			struct vfu_ioeventfd_spec e;

			FUZZ_CHECK(sizeof(head) + (size_t)(i + 1) * stride <= len);
			memcpy(&e, rep + sizeof(head) + (size_t)i * stride,
			       sizeof(e));
			FUZZ_CHECK(e.fd_index < nr_fds);
		}
		break;
	}
	case VFU_CMD_DEVICE_GET_IRQ_INFO: {
		struct vfu_irq_info ii;

		FUZZ_CHECK(len == sizeof(ii));
		memcpy(&ii, rep, sizeof(ii));
		FUZZ_CHECK(ii.index == rq->irq_info.index);
		FUZZ_CHECK(ii.count <= VFU_MAX_IRQ_COUNT);
		break;
	}
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE: {
		struct vfu_region_access ra;

		if (len == 0) {
			FUZZ_CHECK(rq->region_access.count == 0);
			break;
		}
		FUZZ_CHECK(len >= sizeof(ra));
		memcpy(&ra, rep, sizeof(ra));
		FUZZ_CHECK(ra.count <= rq->region_access.count);
		FUZZ_CHECK(len == sizeof(ra) +
			   (cmd == VFU_CMD_REGION_READ ? ra.count : 0));
		break;
	}
	case VFU_CMD_DMA_READ:
	case VFU_CMD_DMA_WRITE: {
		struct vfu_dma_access da;

		FUZZ_CHECK(len >= sizeof(da));
		memcpy(&da, rep, sizeof(da));
		FUZZ_CHECK(da.count == rq->dma_access.count);
		FUZZ_CHECK(len == sizeof(da) +
			   (cmd == VFU_CMD_DMA_READ ? da.count : 0));
		break;
	}
	default:
		FUZZ_CHECK(nr_fds == 0);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vfu_hdr req_hdr, rep_hdr;
	union request rq;
	unsigned int nr_fds;
	char why[200];
	u32 req_len, rep_len, p1, p2;
	u64 p3, p4;
	u16 cmd;
	u8 bits;
	u8 *rep;
	int ret;

	cmd = request_cmds[fuzz_take(&in, 1) % ARRAY_SIZE(request_cmds)];
	bits = fuzz_take(&in, 1);
	/* 0-3 fds, or the most one message can carry. */
	nr_fds = (bits & 0x20) ? VFU_SCM_MAX_FD + 1 : bits & 3;
	p1 = fuzz_take(&in, 4);
	p2 = fuzz_take(&in, 4);
	p3 = fuzz_take(&in, 8);
	p4 = fuzz_take(&in, 8);
	if (in.len < sizeof(rep_hdr))
		return 0;
	memcpy(&rep_hdr, in.p, sizeof(rep_hdr));
	in.p += sizeof(rep_hdr);
	in.len -= sizeof(rep_hdr);
	if (in.len > VFU_HDR_SIZE + VFU_CLIENT_MAX_DATA_XFER + VFU_MSG_SLACK)
		return 0;
	rep_len = in.len;
	rep = fuzz_dup(in.p, rep_len);

	req_len = build_request(cmd, p1, p2, p3, p4, &rq);
	vfu_hdr_init(&req_hdr, (u16)p1 ^ 0x5a5a, cmd, req_len,
		     VFU_F_TYPE_COMMAND);
	if (!(bits & PATCH_KEEP_ID)) {
		rep_hdr.msg_id = req_hdr.msg_id;
		rep_hdr.cmd = cmd;
	}
	if (!(bits & PATCH_KEEP_SIZE))
		rep_hdr.size = VFU_HDR_SIZE + rep_len;

	/* The transport checks the header first, the caller the rest. */
	if (vfu_check_hdr(&rep_hdr, VFU_HDR_SIZE + VFU_CLIENT_MAX_DATA_XFER +
			  VFU_MSG_SLACK, why, sizeof(why)))
		goto out;
	ret = vfu_validate_reply(&req_hdr, req_len ? &rq : NULL, req_len,
				 &rep_hdr, rep, rep_len, nr_fds, why,
				 sizeof(why));
	if (ret) {
		FUZZ_CHECK(ret == -EPROTO);
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)));
		goto out;
	}
	FUZZ_CHECK(rep_hdr.msg_id == req_hdr.msg_id && rep_hdr.cmd == cmd);
	FUZZ_CHECK(rep_hdr.size == VFU_HDR_SIZE + rep_len);
	if (rep_hdr.flags & VFU_F_ERROR) {
		ret = vfu_reply_errno(&rep_hdr);
		FUZZ_CHECK(ret < 0 && ret >= -(int)VFU_MAX_ERRNO);
		FUZZ_CHECK(nr_fds == 0);
		goto out;
	}
	use_reply(cmd, &rq, rep, rep_len, nr_fds);
out:
	free(rep);
	return 0;
}
