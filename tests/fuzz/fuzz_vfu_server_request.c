// SPDX-License-Identifier: MIT
/*
 * Requests from the server as the client receives them (DMA_READ and
 * DMA_WRITE on the main or the twin socket): vfu_validate_server_request()
 * on the input, then what client.c's serve_request() relies on before it
 * copies guest memory: a count inside max_xfer, a range that does not
 * wrap, and for DMA_WRITE exactly count bytes of data.
 *
 * Input:  [u8 fds + patch bits][u32 max_xfer][16-byte header][payload...]
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "vfio-user/client.h"
#include "vfio-user/protocol.h"

#define PATCH_KEEP_SIZE	0x80u

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
	struct vfu_dma_access da;
	struct vfu_hdr hdr;
	unsigned int nr_fds;
	char why[200];
	u32 max_xfer, len;
	u8 bits, *p;
	int ret;

	bits = fuzz_take(&in, 1);
	nr_fds = bits & 3;
	/* The client's own limit, or whatever a caller might pass. */
	max_xfer = fuzz_take(&in, 4);
	if (!(bits & 0x40))
		max_xfer = VFU_CLIENT_MAX_DATA_XFER;
	if (in.len < sizeof(hdr))
		return 0;
	memcpy(&hdr, in.p, sizeof(hdr));
	in.p += sizeof(hdr);
	in.len -= sizeof(hdr);
	if (in.len > VFU_HDR_SIZE + VFU_CLIENT_MAX_DATA_XFER + VFU_MSG_SLACK)
		return 0;
	len = in.len;
	if (!(bits & PATCH_KEEP_SIZE))
		hdr.size = VFU_HDR_SIZE + len;
	p = fuzz_dup(in.p, len);

	if (vfu_check_hdr(&hdr, VFU_HDR_SIZE + VFU_CLIENT_MAX_DATA_XFER +
			  VFU_MSG_SLACK, why, sizeof(why)))
		goto out;
	ret = vfu_validate_server_request(&hdr, p, len, nr_fds, max_xfer, why,
					  sizeof(why));
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOSYS);
		goto out;
	}
	FUZZ_CHECK(hdr.cmd == VFU_CMD_DMA_READ || hdr.cmd == VFU_CMD_DMA_WRITE);
	FUZZ_CHECK(nr_fds == 0 && vfu_hdr_type(&hdr) == VFU_F_TYPE_COMMAND);
	FUZZ_CHECK(len >= sizeof(da) && hdr.size == VFU_HDR_SIZE + len);
	memcpy(&da, p, sizeof(da));
	FUZZ_CHECK(da.count > 0 && da.count <= max_xfer);
	FUZZ_CHECK(da.addr + da.count > da.addr);
	FUZZ_CHECK(len == sizeof(da) +
		   (hdr.cmd == VFU_CMD_DMA_WRITE ? da.count : 0));
out:
	free(p);
	return 0;
}
