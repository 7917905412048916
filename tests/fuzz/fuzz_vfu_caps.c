// SPDX-License-Identifier: MIT
/*
 * The VERSION JSON: vfu_caps_parse() on the input as it comes (NUL or
 * not) and NUL-terminated. What it accepts must lie inside the limits the
 * client and server size their buffers by, and must survive a round trip
 * through vfu_caps_format(): what we would announce, we parse back alike.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "vfio-user/protocol.h"

static void check_caps(const struct vfu_caps *caps)
{
	FUZZ_CHECK(caps->max_msg_fds <= VFU_MAX_MSG_FDS_LIMIT);
	FUZZ_CHECK(caps->max_data_xfer_size >= 1 &&
		   caps->max_data_xfer_size <= VFU_MAX_DATA_XFER_LIMIT);
	FUZZ_CHECK(caps->pgsizes >= 4096 && caps->pgsizes % 4096 == 0);
	FUZZ_CHECK(caps->max_dma_maps >= 1 && caps->max_dma_maps <= 65535);
	if (caps->twin_fd_index_set)
		FUZZ_CHECK(caps->twin_fd_index <= VFU_MAX_MSG_FDS_LIMIT);
}

static void round_trip(const struct vfu_caps *caps)
{
	struct vfu_caps again;
	char buf[1024], why[200];
	int n;

	n = vfu_caps_format(caps, buf, sizeof(buf));
	FUZZ_CHECK(n > 0 && (size_t)n <= sizeof(buf));
	FUZZ_CHECK(buf[n - 1] == '\0' && strlen(buf) == (size_t)n - 1);
	FUZZ_CHECK(vfu_caps_parse(buf, n, &again, why, sizeof(why)) == 0);
	FUZZ_CHECK(again.max_msg_fds == caps->max_msg_fds);
	FUZZ_CHECK(again.max_data_xfer_size == caps->max_data_xfer_size);
	FUZZ_CHECK(again.pgsizes == caps->pgsizes);
	FUZZ_CHECK(again.max_dma_maps == caps->max_dma_maps);
	FUZZ_CHECK(again.twin_socket == caps->twin_socket);
	/* fd_index is only written beside "supported": true. */
	if (caps->twin_socket) {
		FUZZ_CHECK(again.twin_fd_index_set == caps->twin_fd_index_set);
		if (caps->twin_fd_index_set)
			FUZZ_CHECK(again.twin_fd_index == caps->twin_fd_index);
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
	struct vfu_caps caps;
	char why[200];
	char *json;
	int ret;

	if (size > 64 * 1024)
		return 0;
	/* As received: the parser must notice a missing NUL itself. */
	json = (char *)fuzz_dup(data, size);
	ret = vfu_caps_parse(json, size, &caps, why, sizeof(why));
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	if (size && data[size - 1] != '\0')
		FUZZ_CHECK(ret != 0);
	if (!ret) {
		check_caps(&caps);
		round_trip(&caps);
	}
	free(json);

	/* NUL-terminated, as a well-behaved peer sends it. */
	json = malloc(size + 1);
	if (!json)
		abort();
	memcpy(json, data, size);
	json[size] = '\0';
	ret = vfu_caps_parse(json, size + 1, &caps, why, sizeof(why));
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	if (!ret) {
		check_caps(&caps);
		round_trip(&caps);
	}
	free(json);
	return 0;
}
