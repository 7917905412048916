// SPDX-License-Identifier: MIT
/* vfio-user wire format: validators, capabilities, region cap chains. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "vfio-user/protocol.h"

static char why[256];

static struct vfu_hdr req_hdr(u16 id, u16 cmd, u32 len)
{
	struct vfu_hdr h;

	vfu_hdr_init(&h, id, cmd, len, VFU_F_TYPE_COMMAND);
	return h;
}

static struct vfu_hdr rep_hdr(u16 id, u16 cmd, u32 len)
{
	struct vfu_hdr h;

	vfu_hdr_init(&h, id, cmd, len, VFU_F_TYPE_REPLY);
	return h;
}

/* ---- header -------------------------------------------------------------- */

static void test_check_hdr_rejects_bad_headers(void **state)
{
	struct vfu_hdr h = rep_hdr(1, VFU_CMD_REGION_READ, 20);

	(void)state;
	assert_int_equal(vfu_check_hdr(&h, 1024, why, sizeof(why)), 0);
	h.size = 15;
	assert_int_equal(vfu_check_hdr(&h, 1024, why, sizeof(why)), -EPROTO);
	h.size = 0xffffffffu;
	assert_int_equal(vfu_check_hdr(&h, 1024, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "above limit"));
	h.size = 16;
	h.flags = 2;
	assert_int_equal(vfu_check_hdr(&h, 1024, why, sizeof(why)), -EPROTO);
	h.flags = VFU_F_TYPE_REPLY | 0x100;
	assert_int_equal(vfu_check_hdr(&h, 1024, why, sizeof(why)), -EPROTO);
	h.flags = VFU_F_TYPE_REPLY | VFU_F_ERROR;
	assert_int_equal(vfu_check_hdr(&h, 1024, why, sizeof(why)), 0);
}

static void test_reply_errno_mapping(void **state)
{
	struct vfu_hdr h = rep_hdr(1, 1, 0);

	(void)state;
	h.flags |= VFU_F_ERROR;
	h.error_no = EBUSY;
	assert_int_equal(vfu_reply_errno(&h), -EBUSY);
	h.error_no = 0;
	assert_int_equal(vfu_reply_errno(&h), -EIO);
	h.error_no = 4097;
	assert_int_equal(vfu_reply_errno(&h), -EIO);
	h.error_no = 0x80000000u;
	assert_int_equal(vfu_reply_errno(&h), -EIO);
	assert_int_equal(vfu_errno_for_reply(-ECONNRESET), EIO);
	assert_int_equal(vfu_errno_for_reply(-EINVAL), EINVAL);
	assert_int_equal(vfu_errno_for_reply(0), EIO);
}

static void test_cmd_names(void **state)
{
	(void)state;
	assert_string_equal(vfu_cmd_name(VFU_CMD_REGION_READ), "REGION_READ");
	assert_string_equal(vfu_cmd_name(0), "UNKNOWN");
	assert_string_equal(vfu_cmd_name(999), "UNKNOWN");
}

/* ---- replies --------------------------------------------------------------- */

static void test_reply_id_cmd_type_checked(void **state)
{
	struct vfu_region_access rq = { .offset = 8, .region = 0, .count = 4 };
	u8 rep[20] = { 0 };
	struct vfu_hdr q = req_hdr(7, VFU_CMD_REGION_READ, sizeof(rq));
	struct vfu_hdr r = rep_hdr(7, VFU_CMD_REGION_READ, sizeof(rep));

	(void)state;
	memcpy(rep, &rq, sizeof(rq));
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 0, why, sizeof(why)),
			 0);
	r.msg_id = 8;
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 0, why, sizeof(why)),
			 -EPROTO);
	r.msg_id = 7;
	r.cmd = VFU_CMD_REGION_WRITE;
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 0, why, sizeof(why)),
			 -EPROTO);
	r.cmd = VFU_CMD_REGION_READ;
	r.flags = VFU_F_TYPE_COMMAND;
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 0, why, sizeof(why)),
			 -EPROTO);
	r.flags = VFU_F_TYPE_REPLY | VFU_F_NO_REPLY;
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 0, why, sizeof(why)),
			 -EPROTO);
	/* fds on a reply that takes none */
	r.flags = VFU_F_TYPE_REPLY;
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 1, why, sizeof(why)),
			 -EPROTO);
	/* error_no without ERROR */
	r.error_no = 5;
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 0, why, sizeof(why)),
			 -EPROTO);
}

static void test_reply_error_may_carry_payload(void **state)
{
	struct vfu_region_access rq = { .offset = 8, .region = 0, .count = 4 };
	u8 rep[20] = { 0 };
	struct vfu_hdr q = req_hdr(7, VFU_CMD_REGION_READ, sizeof(rq));
	struct vfu_hdr r = rep_hdr(7, VFU_CMD_REGION_READ, sizeof(rep));

	(void)state;
	r.flags |= VFU_F_ERROR;
	r.error_no = EINVAL;
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 0, why, sizeof(why)),
			 0);
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep,
					    sizeof(rep), 2, why, sizeof(why)),
			 -EPROTO);
}

static void test_region_read_reply_sizes_and_echo(void **state)
{
	struct vfu_region_access rq = { .offset = 8, .region = 1, .count = 4 };
	struct vfu_region_access ra = rq;
	u8 rep[64] = { 0 };
	struct vfu_hdr q = req_hdr(1, VFU_CMD_REGION_READ, sizeof(rq));
	struct vfu_hdr r;

	(void)state;
	memcpy(rep, &ra, sizeof(ra));
	r = rep_hdr(1, VFU_CMD_REGION_READ, 18);
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep, 18,
					    0, why, sizeof(why)),
			 -EPROTO);
	r = rep_hdr(1, VFU_CMD_REGION_READ, 24);
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep, 24,
					    0, why, sizeof(why)),
			 -EPROTO);
	/* msg_size disagrees with what was read */
	r = rep_hdr(1, VFU_CMD_REGION_READ, 20);
	r.size = 40;
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep, 20,
					    0, why, sizeof(why)),
			 -EPROTO);
	/* echoed offset differs */
	ra.offset = 12;
	memcpy(rep, &ra, sizeof(ra));
	r = rep_hdr(1, VFU_CMD_REGION_READ, 20);
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep, 20,
					    0, why, sizeof(why)),
			 -EPROTO);
	/* count above the request */
	ra = rq;
	ra.count = 8;
	memcpy(rep, &ra, sizeof(ra));
	r = rep_hdr(1, VFU_CMD_REGION_READ, 24);
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep, 24,
					    0, why, sizeof(why)),
			 -EPROTO);
	/* write reply: head only */
	q = req_hdr(1, VFU_CMD_REGION_WRITE, 20);
	memcpy(rep, &rq, sizeof(rq));
	r = rep_hdr(1, VFU_CMD_REGION_WRITE, 16);
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep, 16,
					    0, why, sizeof(why)),
			 0);
	r = rep_hdr(1, VFU_CMD_REGION_WRITE, 20);
	assert_int_equal(vfu_validate_reply(&q, &rq, sizeof(rq), &r, rep, 20,
					    0, why, sizeof(why)),
			 -EPROTO);
}

static void test_fixed_size_replies(void **state)
{
	struct vfu_device_info di = { 16, 3, 9, 5 };
	struct vfu_irq_info iq = { .argsz = 16, .index = 2 };
	struct vfu_irq_info ii = { 16, 1, 2, 64 };
	struct vfu_dma_unmap du = { 24, 0, 0x1000, 0x2000 };
	struct vfu_hdr q, r;

	(void)state;
	q = req_hdr(3, VFU_CMD_DEVICE_GET_INFO, 16);
	r = rep_hdr(3, VFU_CMD_DEVICE_GET_INFO, 16);
	assert_int_equal(vfu_validate_reply(&q, &di, 16, &r, &di, 16, 0, why,
					    sizeof(why)), 0);
	di.num_regions = 101;
	assert_int_equal(vfu_validate_reply(&q, &di, 16, &r, &di, 16, 0, why,
					    sizeof(why)), -EPROTO);
	di.num_regions = 9;
	di.num_irqs = 51;
	assert_int_equal(vfu_validate_reply(&q, &di, 16, &r, &di, 16, 0, why,
					    sizeof(why)), -EPROTO);

	q = req_hdr(4, VFU_CMD_DEVICE_GET_IRQ_INFO, 16);
	r = rep_hdr(4, VFU_CMD_DEVICE_GET_IRQ_INFO, 16);
	assert_int_equal(vfu_validate_reply(&q, &iq, 16, &r, &ii, 16, 0, why,
					    sizeof(why)), 0);
	ii.count = 4096;
	assert_int_equal(vfu_validate_reply(&q, &iq, 16, &r, &ii, 16, 0, why,
					    sizeof(why)), -EPROTO);
	ii.count = 1;
	ii.index = 1;
	assert_int_equal(vfu_validate_reply(&q, &iq, 16, &r, &ii, 16, 0, why,
					    sizeof(why)), -EPROTO);

	q = req_hdr(5, VFU_CMD_DMA_UNMAP, 24);
	r = rep_hdr(5, VFU_CMD_DMA_UNMAP, 24);
	assert_int_equal(vfu_validate_reply(&q, &du, 24, &r, &du, 24, 0, why,
					    sizeof(why)), 0);
	r = rep_hdr(5, VFU_CMD_DMA_UNMAP, 0);
	assert_int_equal(vfu_validate_reply(&q, &du, 24, &r, NULL, 0, 0, why,
					    sizeof(why)), 0);

	q = req_hdr(6, VFU_CMD_DMA_MAP, 32);
	r = rep_hdr(6, VFU_CMD_DMA_MAP, 4);
	assert_int_equal(vfu_validate_reply(&q, &du, 24, &r, &du, 4, 0, why,
					    sizeof(why)), -EPROTO);
	q = req_hdr(6, VFU_CMD_DEVICE_RESET, 0);
	r = rep_hdr(6, VFU_CMD_DEVICE_RESET, 0);
	assert_int_equal(vfu_validate_reply(&q, NULL, 0, &r, NULL, 0, 0, why,
					    sizeof(why)), 0);
}

static void test_version_reply(void **state)
{
	u8 buf[32] = { 0 };
	struct vfu_hdr q = req_hdr(0, VFU_CMD_VERSION, 4);
	struct vfu_hdr r = rep_hdr(0, VFU_CMD_VERSION, 4);

	(void)state;
	assert_int_equal(vfu_validate_reply(&q, buf, 4, &r, buf, 4, 0, why,
					    sizeof(why)), 0);
	memcpy(buf + 4, "{}x", 3);
	r = rep_hdr(0, VFU_CMD_VERSION, 7);
	assert_int_equal(vfu_validate_reply(&q, buf, 4, &r, buf, 7, 0, why,
					    sizeof(why)), -EPROTO);
	r = rep_hdr(0, VFU_CMD_VERSION, 3);
	assert_int_equal(vfu_validate_reply(&q, buf, 4, &r, buf, 3, 0, why,
					    sizeof(why)), -EPROTO);
	r = rep_hdr(0, VFU_CMD_VERSION, 4);
	assert_int_equal(vfu_validate_reply(&q, buf, 4, &r, buf, 4, 2, why,
					    sizeof(why)), -EPROTO);
}

/* Build a region info reply with a sparse cap (2 areas) and a type cap. */
static u32 build_region_info(u8 *buf, u64 size, u32 flags)
{
	struct vfu_region_info ri = {
		.argsz = 32 + 48 + 16, .flags = flags, .index = 2,
		.cap_offset = 32, .size = size, .offset = 0x10000,
	};
	struct vfu_cap_sparse_mmap sm = {
		.header = { VFU_CAP_SPARSE_MMAP, 1, 32 + 48 }, .nr_areas = 2,
	};
	struct vfu_sparse_area a[2] = { { 0, 0x1000 }, { 0x2000, 0x2000 } };
	struct vfu_cap_type ct = { .header = { VFU_CAP_TYPE, 1, 0 },
				   .type = 3, .subtype = 1 };

	memset(buf, 0, 128);
	memcpy(buf, &ri, sizeof(ri));
	memcpy(buf + 32, &sm, sizeof(sm));
	memcpy(buf + 48, a, sizeof(a));
	memcpy(buf + 80, &ct, sizeof(ct));
	return ri.argsz;
}

static void test_region_caps_parse_chain(void **state)
{
	struct vfu_region_caps caps;
	u8 buf[128];
	u32 len = build_region_info(buf, 0x4000, 0xf);

	(void)state;
	assert_int_equal(vfu_region_caps_parse(buf, len, &caps, why,
					       sizeof(why)), 0);
	assert_true(caps.has_sparse);
	assert_int_equal(caps.nr_areas, 2);
	assert_int_equal(caps.areas[1].offset, 0x2000);
	assert_int_equal(caps.areas[1].size, 0x2000);
	assert_true(caps.has_type);
	assert_int_equal(caps.type, 3);
	assert_int_equal(caps.subtype, 1);
}

static void test_region_caps_parse_rejects(void **state)
{
	struct vfu_region_info ri;
	struct vfu_cap_header ch;
	u8 buf[128];
	u32 len, v;

	(void)state;
	/* area outside the region */
	len = build_region_info(buf, 0x3000, 0xf);
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), -EPROTO);
	/* cap_offset beyond the buffer */
	len = build_region_info(buf, 0x4000, 0xf);
	memcpy(&ri, buf, sizeof(ri));
	ri.cap_offset = len - 4;
	memcpy(buf, &ri, sizeof(ri));
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), -EPROTO);
	/* cap_offset inside the fixed part */
	ri.cap_offset = 16;
	memcpy(buf, &ri, sizeof(ri));
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), -EPROTO);
	/* loop: the type cap points back at the sparse cap */
	len = build_region_info(buf, 0x4000, 0xf);
	memcpy(&ch, buf + 80, sizeof(ch));
	ch.next = 32;
	memcpy(buf + 80, &ch, sizeof(ch));
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), -EPROTO);
	/* next overlapping the sparse cap's body */
	len = build_region_info(buf, 0x4000, 0xf);
	memcpy(&ch, buf + 32, sizeof(ch));
	ch.next = 40;
	memcpy(buf + 32, &ch, sizeof(ch));
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), -EPROTO);
	/* nr_areas that does not fit */
	len = build_region_info(buf, 0x4000, 0xf);
	v = 1000;
	memcpy(buf + 40, &v, sizeof(v));
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), -EPROTO);
	/* unaligned area */
	len = build_region_info(buf, 0x4000, 0xf);
	v = 0x10;
	memcpy(buf + 48, &v, sizeof(v));
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), -EPROTO);
	/* CAPS flag with cap_offset 0 */
	len = build_region_info(buf, 0x4000, 0xf);
	memcpy(&ri, buf, sizeof(ri));
	ri.cap_offset = 0;
	memcpy(buf, &ri, sizeof(ri));
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), -EPROTO);
	/* unknown cap ids are skipped */
	len = build_region_info(buf, 0x4000, 0xf);
	memcpy(&ch, buf + 80, sizeof(ch));
	ch.id = 77;
	memcpy(buf + 80, &ch, sizeof(ch));
	assert_int_equal(vfu_region_caps_parse(buf, len, NULL, why,
					       sizeof(why)), 0);
}

static void test_region_info_reply_argsz_rules(void **state)
{
	struct vfu_region_info rq = { .argsz = 32, .index = 2 };
	struct vfu_hdr q = req_hdr(9, VFU_CMD_DEVICE_GET_REGION_INFO, 32);
	struct vfu_hdr r;
	u8 buf[128];
	u32 len = build_region_info(buf, 0x4000, 0xf);

	(void)state;
	/* short reply: argsz says 96, we asked 32, 32 bytes, no fd */
	r = rep_hdr(9, VFU_CMD_DEVICE_GET_REGION_INFO, 32);
	assert_int_equal(vfu_validate_reply(&q, &rq, 32, &r, buf, 32, 0, why,
					    sizeof(why)), 0);
	assert_int_equal(vfu_validate_reply(&q, &rq, 32, &r, buf, 32, 1, why,
					    sizeof(why)), -EPROTO);
	/* full reply with MMAP: exactly one fd */
	rq.argsz = len;
	r = rep_hdr(9, VFU_CMD_DEVICE_GET_REGION_INFO, len);
	assert_int_equal(vfu_validate_reply(&q, &rq, 32, &r, buf, len, 1, why,
					    sizeof(why)), 0);
	assert_int_equal(vfu_validate_reply(&q, &rq, 32, &r, buf, len, 0, why,
					    sizeof(why)), -EPROTO);
	assert_int_equal(vfu_validate_reply(&q, &rq, 32, &r, buf, len, 2, why,
					    sizeof(why)), -EPROTO);
	/* wrong payload length for argsz */
	r = rep_hdr(9, VFU_CMD_DEVICE_GET_REGION_INFO, len - 8);
	assert_int_equal(vfu_validate_reply(&q, &rq, 32, &r, buf, len - 8, 1,
					    why, sizeof(why)), -EPROTO);
	/* index mismatch */
	rq.index = 3;
	r = rep_hdr(9, VFU_CMD_DEVICE_GET_REGION_INFO, len);
	assert_int_equal(vfu_validate_reply(&q, &rq, 32, &r, buf, len, 1, why,
					    sizeof(why)), -EPROTO);
}

static void test_io_fds_reply(void **state)
{
	struct vfu_io_fds rq = { .argsz = 16, .index = 0 };
	struct vfu_io_fds head = { .argsz = 16 + 48, .index = 0, .count = 1 };
	struct vfu_ioeventfd e = { .offset = 0, .size = 4, .fd_index = 0 };
	struct vfu_hdr q = req_hdr(2, VFU_CMD_DEVICE_GET_REGION_IO_FDS, 16);
	struct vfu_hdr r;
	u8 buf[64];

	(void)state;
	memcpy(buf, &head, 16);
	memcpy(buf + 16, &e, sizeof(e));
	/* head only while our argsz is too small */
	r = rep_hdr(2, VFU_CMD_DEVICE_GET_REGION_IO_FDS, 16);
	assert_int_equal(vfu_validate_reply(&q, &rq, 16, &r, buf, 16, 0, why,
					    sizeof(why)), 0);
	rq.argsz = 64;
	r = rep_hdr(2, VFU_CMD_DEVICE_GET_REGION_IO_FDS, 64);
	assert_int_equal(vfu_validate_reply(&q, &rq, 16, &r, buf, 64, 1, why,
					    sizeof(why)), 0);
	assert_int_equal(vfu_validate_reply(&q, &rq, 16, &r, buf, 64, 0, why,
					    sizeof(why)), -EPROTO);
	e.fd_index = 3;
	memcpy(buf + 16, &e, sizeof(e));
	assert_int_equal(vfu_validate_reply(&q, &rq, 16, &r, buf, 64, 1, why,
					    sizeof(why)), -EPROTO);
	/* 40-byte (spec) entries are accepted too */
	head.argsz = 16 + 40;
	memcpy(buf, &head, 16);
	e.fd_index = 0;
	memcpy(buf + 16, &e, 40);
	r = rep_hdr(2, VFU_CMD_DEVICE_GET_REGION_IO_FDS, 56);
	assert_int_equal(vfu_validate_reply(&q, &rq, 16, &r, buf, 56, 1, why,
					    sizeof(why)), 0);
	head.argsz = 16 + 44;
	memcpy(buf, &head, 16);
	r = rep_hdr(2, VFU_CMD_DEVICE_GET_REGION_IO_FDS, 60);
	assert_int_equal(vfu_validate_reply(&q, &rq, 16, &r, buf, 60, 1, why,
					    sizeof(why)), -EPROTO);
}

/* ---- commands as the server sees them ------------------------------------------ */

static int cmd(u16 c, const void *p, u32 len, unsigned int nr_fds)
{
	struct vfu_hdr h = req_hdr(1, c, len);

	return vfu_validate_command(&h, p, len, nr_fds, 1 << 20, why,
				    sizeof(why));
}

static void test_command_validation(void **state)
{
	struct vfu_dma_map m = { 32, 3, 0, 0x1000, 0x1000 };
	struct vfu_dma_unmap u = { 24, 0, 0x1000, 0x1000 };
	struct vfu_region_access ra = { 0, 0, 4 };
	u8 wbuf[20] = { 0 };
	u8 zero[32] = { 0 };

	(void)state;
	assert_int_equal(cmd(VFU_CMD_DMA_MAP, &m, 32, 1), 0);
	assert_int_equal(cmd(VFU_CMD_DMA_MAP, &m, 32, 2), -EINVAL);
	m.flags = 0x4;
	assert_int_equal(cmd(VFU_CMD_DMA_MAP, &m, 32, 1), -EINVAL);
	m.flags = 3;
	m.addr = ~0ull - 10;
	assert_int_equal(cmd(VFU_CMD_DMA_MAP, &m, 32, 0), -EINVAL);
	assert_int_equal(cmd(VFU_CMD_DMA_UNMAP, &u, 24, 0), 0);
	u.flags = VFU_DMA_UNMAP_F_ALL;
	assert_int_equal(cmd(VFU_CMD_DMA_UNMAP, &u, 24, 0), -EINVAL);
	u.addr = u.size = 0;
	assert_int_equal(cmd(VFU_CMD_DMA_UNMAP, &u, 24, 0), 0);
	u.flags = VFU_DMA_UNMAP_F_GET_DIRTY_BITMAP;
	assert_int_equal(cmd(VFU_CMD_DMA_UNMAP, &u, 24, 0), -EINVAL);

	assert_int_equal(cmd(VFU_CMD_REGION_READ, &ra, 16, 0), 0);
	assert_int_equal(cmd(VFU_CMD_REGION_READ, &ra, 16, 1), -EINVAL);
	memcpy(wbuf, &ra, 16);
	assert_int_equal(cmd(VFU_CMD_REGION_WRITE, wbuf, 20, 0), 0);
	assert_int_equal(cmd(VFU_CMD_REGION_WRITE, wbuf, 16, 0), -EINVAL);
	ra.count = (1 << 20) + 1;
	assert_int_equal(cmd(VFU_CMD_REGION_READ, &ra, 16, 0), -EINVAL);

	assert_int_equal(cmd(VFU_CMD_DEVICE_RESET, NULL, 0, 0), 0);
	assert_int_equal(cmd(VFU_CMD_DEVICE_RESET, zero, 4, 0), -EINVAL);
	assert_int_equal(cmd(VFU_CMD_DEVICE_GET_INFO, zero, 16, 0), -EINVAL);
	assert_int_equal(cmd(VFU_CMD_DMA_READ, zero, 16, 0), -EINVAL);
	assert_int_equal(cmd(99, zero, 16, 0), -ENOSYS);
	assert_int_equal(cmd(VFU_CMD_REGION_WRITE_MULTI, zero, 8, 0), -ENOSYS);
}

/*
 * The rules every command's row states, command by command: a payload of
 * the wrong size, an argsz below the fixed part, one fd too many. Each
 * message is otherwise well formed, so the row's check is what refuses.
 */
static void test_command_rows(void **state)
{
	static const struct {
		u16 cmd;
		u32 size;		/* fixed part */
		bool exact;		/* no data after it */
		unsigned int max_fds;
	} rows[] = {
		{ VFU_CMD_DMA_MAP, sizeof(struct vfu_dma_map), true, 1 },
		{ VFU_CMD_DMA_UNMAP, sizeof(struct vfu_dma_unmap), true, 0 },
		{ VFU_CMD_DEVICE_GET_INFO, sizeof(struct vfu_device_info), true, 0 },
		{ VFU_CMD_DEVICE_GET_REGION_INFO, sizeof(struct vfu_region_info),
		  true, 0 },
		{ VFU_CMD_DEVICE_GET_REGION_IO_FDS, sizeof(struct vfu_io_fds),
		  true, 0 },
		{ VFU_CMD_DEVICE_GET_IRQ_INFO, sizeof(struct vfu_irq_info), true, 0 },
		{ VFU_CMD_DEVICE_SET_IRQS, sizeof(struct vfu_irq_set), false,
		  VFU_MAX_IRQ_COUNT },
	};
	u8 buf[64];
	unsigned int i;
	u32 argsz;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(buf, 0, sizeof(buf));
		argsz = rows[i].size - 1;
		memcpy(buf, &argsz, sizeof(argsz));
		assert_int_equal(cmd(rows[i].cmd, buf, rows[i].size, 0), -EINVAL);
		assert_non_null(strstr(why, "argsz"));
		argsz = rows[i].size;
		memcpy(buf, &argsz, sizeof(argsz));
		assert_int_equal(cmd(rows[i].cmd, buf, rows[i].size - 1, 0),
				 -EINVAL);
		assert_non_null(strstr(why, vfu_cmd_name(rows[i].cmd)));
		if (rows[i].exact) {
			assert_int_equal(cmd(rows[i].cmd, buf, rows[i].size + 4,
					     0), -EINVAL);
			assert_non_null(strstr(why, "expected"));
		}
		assert_int_equal(cmd(rows[i].cmd, buf, rows[i].size,
				     rows[i].max_fds + 1), -EINVAL);
		assert_non_null(strstr(why, "fds"));
	}
	/* Unknown and name-only commands: fds are the complaint, then ENOSYS. */
	assert_int_equal(cmd(VFU_CMD_MIG_DATA_READ, buf, 8, 1), -EINVAL);
	assert_int_equal(cmd(VFU_CMD_MIG_DATA_READ, buf, 8, 0), -ENOSYS);
	assert_non_null(strstr(why, "MIG_DATA_READ"));
	/* The server's own commands are not the client's to send, and back. */
	assert_int_equal(cmd(VFU_CMD_DMA_WRITE, buf, 16, 0), -EINVAL);
	assert_non_null(strstr(why, "server to client"));
}

static int set_irqs(u32 flags, u32 start, u32 count, u32 len,
		    unsigned int nr_fds)
{
	u8 buf[64] = { 0 };
	struct vfu_irq_set is = { 20, flags, 2, start, count };

	memcpy(buf, &is, sizeof(is));
	return cmd(VFU_CMD_DEVICE_SET_IRQS, buf, len, nr_fds);
}

static void test_set_irqs_validation(void **state)
{
	u32 trig_efd = VFU_IRQ_SET_ACTION_TRIGGER | VFU_IRQ_SET_DATA_EVENTFD;

	(void)state;
	assert_int_equal(set_irqs(trig_efd, 0, 4, 20, 4), 0);
	assert_int_equal(set_irqs(trig_efd, 0, 4, 20, 3), -EINVAL);
	assert_int_equal(set_irqs(trig_efd, 0, 4, 20, 0), 0);
	assert_int_equal(set_irqs(trig_efd | VFU_IRQ_SET_DATA_NONE, 0, 4, 20,
				  0), -EINVAL);
	assert_int_equal(set_irqs(VFU_IRQ_SET_ACTION_TRIGGER |
				  VFU_IRQ_SET_ACTION_MASK |
				  VFU_IRQ_SET_DATA_NONE, 0, 1, 20, 0), -EINVAL);
	assert_int_equal(set_irqs(VFU_IRQ_SET_ACTION_TRIGGER |
				  VFU_IRQ_SET_DATA_BOOL, 0, 4, 24, 0), 0);
	assert_int_equal(set_irqs(VFU_IRQ_SET_ACTION_TRIGGER |
				  VFU_IRQ_SET_DATA_BOOL, 0, 4, 20, 0), -EINVAL);
	assert_int_equal(set_irqs(VFU_IRQ_SET_ACTION_MASK |
				  VFU_IRQ_SET_DATA_EVENTFD, 0, 1, 20, 1),
			 -EINVAL);
	assert_int_equal(set_irqs(VFU_IRQ_SET_ACTION_TRIGGER |
				  VFU_IRQ_SET_DATA_NONE, 3, 0, 20, 0), -EINVAL);
	assert_int_equal(set_irqs(trig_efd, 0xffffffff, 2, 20, 0), -EINVAL);
	assert_int_equal(set_irqs(trig_efd | 0x100, 0, 1, 20, 0), -EINVAL);
}

static void test_server_request_validation(void **state)
{
	struct vfu_dma_access da = { 0x1000, 8 };
	u8 buf[32] = { 0 };
	struct vfu_hdr h = req_hdr(1, VFU_CMD_DMA_READ, 16);

	(void)state;
	assert_int_equal(vfu_validate_server_request(&h, &da, 16, 0, 4096, why,
						     sizeof(why)), 0);
	assert_int_equal(vfu_validate_server_request(&h, &da, 16, 1, 4096, why,
						     sizeof(why)), -EINVAL);
	da.count = 8192;
	assert_int_equal(vfu_validate_server_request(&h, &da, 16, 0, 4096, why,
						     sizeof(why)), -EINVAL);
	da.count = 8;
	memcpy(buf, &da, 16);
	h = req_hdr(1, VFU_CMD_DMA_WRITE, 24);
	assert_int_equal(vfu_validate_server_request(&h, buf, 24, 0, 4096, why,
						     sizeof(why)), 0);
	h = req_hdr(1, VFU_CMD_DMA_WRITE, 20);
	assert_int_equal(vfu_validate_server_request(&h, buf, 20, 0, 4096, why,
						     sizeof(why)), -EINVAL);
	h = req_hdr(1, 42, 16);
	assert_int_equal(vfu_validate_server_request(&h, buf, 16, 0, 4096, why,
						     sizeof(why)), -ENOSYS);
	da.addr = ~0ull - 2;
	h = req_hdr(1, VFU_CMD_DMA_READ, 16);
	assert_int_equal(vfu_validate_server_request(&h, &da, 16, 0, 4096, why,
						     sizeof(why)), -EINVAL);
}

/* ---- VERSION capabilities -------------------------------------------------------- */

static int parse(const char *json, struct vfu_caps *caps)
{
	return vfu_caps_parse(json, strlen(json) + 1, caps, why, sizeof(why));
}

static void test_caps_defaults_when_absent(void **state)
{
	struct vfu_caps caps;

	(void)state;
	assert_int_equal(parse("{}", &caps), 0);
	assert_int_equal(caps.max_msg_fds, 1);
	assert_int_equal(caps.max_data_xfer_size, 1048576);
	assert_int_equal(caps.pgsizes, 4096);
	assert_int_equal(caps.max_dma_maps, 65535);
	assert_false(caps.twin_socket);
	assert_int_equal(parse("{\"capabilities\":{}}", &caps), 0);
	assert_int_equal(caps.max_msg_fds, 1);
	assert_int_equal(vfu_caps_parse("", 0, &caps, why, sizeof(why)), 0);
	assert_int_equal(caps.max_data_xfer_size, 1048576);
}

static void test_caps_round_trip(void **state)
{
	struct vfu_caps in, out;
	char buf[512];
	int n;

	(void)state;
	vfu_caps_defaults(&in);
	in.max_msg_fds = 16;
	in.max_data_xfer_size = 65536;
	in.pgsizes = 4096 | (2 << 20);
	in.max_dma_maps = 100;
	in.twin_socket = true;
	in.twin_fd_index_set = true;
	in.twin_fd_index = 0;
	n = vfu_caps_format(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\0');
	assert_int_equal(vfu_caps_parse(buf, n, &out, why, sizeof(why)), 0);
	assert_int_equal(out.max_msg_fds, 16);
	assert_int_equal(out.max_data_xfer_size, 65536);
	assert_int_equal(out.pgsizes, 4096 | (2 << 20));
	assert_int_equal(out.max_dma_maps, 100);
	assert_true(out.twin_socket);
	assert_true(out.twin_fd_index_set);
	assert_int_equal(out.twin_fd_index, 0);
	assert_int_equal(vfu_caps_format(&in, buf, 10), -ENOSPC);
}

static void test_caps_rejects_bad_types_and_ranges(void **state)
{
	struct vfu_caps caps;

	(void)state;
	assert_int_equal(parse("{\"capabilities\":{\"max_msg_fds\":\"8\"}}",
			       &caps), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"max_msg_fds\":-1}}",
			       &caps), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"max_msg_fds\":2000}}",
			       &caps), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"max_data_xfer_size\":0}}",
			       &caps), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"pgsizes\":4097}}", &caps),
			 -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"twin_socket\":true}}",
			       &caps), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":{\"twin_socket\":{\"supported\":1}}}",
			       &caps), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":[]}", &caps), -EINVAL);
	assert_int_equal(parse("{\"capabilities\":", &caps), -EINVAL);
	assert_int_equal(parse("[1]", &caps), -EINVAL);
	assert_int_equal(parse("{} {}", &caps), -EINVAL);
	assert_int_equal(vfu_caps_parse("{}", 2, &caps, why, sizeof(why)),
			 -EINVAL);
}

static void test_caps_migration_ignored_unknown_keys(void **state)
{
	struct vfu_caps caps;

	(void)state;
	assert_int_equal(parse("{\"capabilities\":{\"migration\":{\"pgsize\":4096},"
			       "\"write_multiple\":true,\"max_msg_fds\":8,"
			       "\"future\":[1,2]},\"other\":1}", &caps), 0);
	assert_true(caps.migration);
	assert_int_equal(caps.max_msg_fds, 8);
	assert_int_equal(parse("{\"capabilities\":{\"migration\":1}}", &caps),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_hdr_rejects_bad_headers),
		cmocka_unit_test(test_reply_errno_mapping),
		cmocka_unit_test(test_cmd_names),
		cmocka_unit_test(test_reply_id_cmd_type_checked),
		cmocka_unit_test(test_reply_error_may_carry_payload),
		cmocka_unit_test(test_region_read_reply_sizes_and_echo),
		cmocka_unit_test(test_fixed_size_replies),
		cmocka_unit_test(test_version_reply),
		cmocka_unit_test(test_region_caps_parse_chain),
		cmocka_unit_test(test_region_caps_parse_rejects),
		cmocka_unit_test(test_region_info_reply_argsz_rules),
		cmocka_unit_test(test_io_fds_reply),
		cmocka_unit_test(test_command_validation),
		cmocka_unit_test(test_command_rows),
		cmocka_unit_test(test_set_irqs_validation),
		cmocka_unit_test(test_server_request_validation),
		cmocka_unit_test(test_caps_defaults_when_absent),
		cmocka_unit_test(test_caps_round_trip),
		cmocka_unit_test(test_caps_rejects_bad_types_and_ranges),
		cmocka_unit_test(test_caps_migration_ignored_unknown_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
