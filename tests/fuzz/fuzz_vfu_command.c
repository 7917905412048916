// SPDX-License-Identifier: MIT
/*
 * Commands as the server receives them from a client:
 * vfu_validate_command() on the input, then the promises server.c's
 * handlers rely on once a command passed (sizes per command, counts inside
 * their limits, ranges that do not wrap, fds only where allowed), and for
 * VERSION the capabilities parser on its JSON.
 *
 * Input:  [u8 fds + patch bits][u32 max_xfer][16-byte header][payload...]
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "vfio-user/protocol.h"

#define PATCH_KEEP_SIZE	0x80u

static void use_command(const struct vfu_hdr *h, const u8 *p, u32 len,
			unsigned int nr_fds, u32 max_xfer)
{
	char why[200];

	switch (h->cmd) {
	case VFU_CMD_VERSION: {
		struct vfu_caps caps;

		FUZZ_CHECK(len >= sizeof(struct vfu_version) && nr_fds == 0);
		vfu_caps_parse((const char *)p + 4, len - 4, &caps, why,
			       sizeof(why));
		break;
	}
	case VFU_CMD_DMA_MAP: {
		struct vfu_dma_map m;

		FUZZ_CHECK(len == sizeof(m) && nr_fds <= 1);
		memcpy(&m, p, sizeof(m));
		FUZZ_CHECK(m.size && m.size <= VFU_MAX_DMA_SIZE);
		FUZZ_CHECK(m.addr + m.size > m.addr);
		FUZZ_CHECK(m.offset + m.size > m.offset);
		break;
	}
	case VFU_CMD_DMA_UNMAP: {
		struct vfu_dma_unmap u;

		FUZZ_CHECK(len == sizeof(u) && nr_fds == 0);
		memcpy(&u, p, sizeof(u));
		if (!(u.flags & VFU_DMA_UNMAP_F_ALL))
			FUZZ_CHECK(u.size && u.addr + u.size > u.addr);
		break;
	}
	case VFU_CMD_DEVICE_GET_INFO:
	case VFU_CMD_DEVICE_GET_IRQ_INFO:
	case VFU_CMD_DEVICE_GET_REGION_IO_FDS:
		FUZZ_CHECK(len == 16 && nr_fds == 0);
		break;
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		FUZZ_CHECK(len == sizeof(struct vfu_region_info) && nr_fds == 0);
		break;
	case VFU_CMD_DEVICE_SET_IRQS: {
		struct vfu_irq_set is;
		u32 data;

		FUZZ_CHECK(len >= sizeof(is));
		memcpy(&is, p, sizeof(is));
		data = is.flags & VFU_IRQ_SET_DATA_MASK;
		/* server.c indexes its eventfd table with start + i. */
		FUZZ_CHECK(is.start + is.count <= VFU_MAX_IRQ_COUNT);
		FUZZ_CHECK(len == sizeof(is) +
			   (data == VFU_IRQ_SET_DATA_BOOL ? is.count : 0));
		FUZZ_CHECK(nr_fds == 0 || nr_fds == is.count);
		break;
	}
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE: {
		struct vfu_region_access ra;

		FUZZ_CHECK(len >= sizeof(ra) && nr_fds == 0);
		memcpy(&ra, p, sizeof(ra));
		FUZZ_CHECK(ra.count <= max_xfer);
		FUZZ_CHECK(ra.offset + ra.count >= ra.offset);
		FUZZ_CHECK(len == sizeof(ra) +
			   (h->cmd == VFU_CMD_REGION_WRITE ? ra.count : 0));
		break;
	}
	case VFU_CMD_DEVICE_RESET:
		FUZZ_CHECK(len == 0 && nr_fds == 0);
		break;
	default:
		/* Nothing else may pass. */
		FUZZ_CHECK(0);
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
	struct vfu_hdr hdr;
	unsigned int nr_fds;
	char why[200];
	u32 max_xfer, len;
	u8 bits, *p;
	int ret;

	bits = fuzz_take(&in, 1);
	/* 0-3 fds, or one more than a SET_IRQS may carry. */
	nr_fds = (bits & 0x20) ? VFU_MAX_IRQ_COUNT + 1 : bits & 3;
	max_xfer = fuzz_take(&in, 4);
	if (!(bits & 0x40))
		max_xfer = VFU_DEFAULT_MAX_DATA_XFER;
	if (in.len < sizeof(hdr))
		return 0;
	memcpy(&hdr, in.p, sizeof(hdr));
	in.p += sizeof(hdr);
	in.len -= sizeof(hdr);
	if (in.len > VFU_HDR_SIZE + VFU_DEFAULT_MAX_DATA_XFER + VFU_MSG_SLACK)
		return 0;
	len = in.len;
	if (!(bits & PATCH_KEEP_SIZE))
		hdr.size = VFU_HDR_SIZE + len;
	p = fuzz_dup(in.p, len);

	if (vfu_check_hdr(&hdr, VFU_HDR_SIZE + VFU_DEFAULT_MAX_DATA_XFER +
			  VFU_MSG_SLACK, why, sizeof(why)))
		goto out;
	ret = vfu_validate_command(&hdr, p, len, nr_fds, max_xfer, why,
				   sizeof(why));
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOSYS);
		goto out;
	}
	FUZZ_CHECK(vfu_hdr_type(&hdr) == VFU_F_TYPE_COMMAND);
	FUZZ_CHECK(!(hdr.flags & VFU_F_ERROR) && hdr.error_no == 0);
	FUZZ_CHECK(hdr.size == VFU_HDR_SIZE + len);
	use_command(&hdr, p, len, nr_fds, max_xfer);
out:
	free(p);
	return 0;
}
