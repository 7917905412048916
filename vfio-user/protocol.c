// SPDX-License-Identifier: MIT
/*
 * vfio-user wire format: encoders, validators, VERSION capabilities and
 * the region info capability chain. Every check here runs before the
 * caller looks at a field, so handlers only ever see validated messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#define LOG_PREFIX "vfio-user"
#include "common/log.h"
#include "vfio-user/protocol.h"

#define PAGE_4K 4096ull

static const char *const cmd_names[VFU_CMD_MAX] = {
	[VFU_CMD_VERSION] = "VERSION",
	[VFU_CMD_DMA_MAP] = "DMA_MAP",
	[VFU_CMD_DMA_UNMAP] = "DMA_UNMAP",
	[VFU_CMD_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
	[VFU_CMD_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
	[VFU_CMD_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
	[VFU_CMD_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
	[VFU_CMD_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
	[VFU_CMD_REGION_READ] = "REGION_READ",
	[VFU_CMD_REGION_WRITE] = "REGION_WRITE",
	[VFU_CMD_DMA_READ] = "DMA_READ",
	[VFU_CMD_DMA_WRITE] = "DMA_WRITE",
	[VFU_CMD_DEVICE_RESET] = "DEVICE_RESET",
	[VFU_CMD_DIRTY_PAGES] = "DIRTY_PAGES",
	[VFU_CMD_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
	[VFU_CMD_DEVICE_FEATURE] = "DEVICE_FEATURE",
	[VFU_CMD_MIG_DATA_READ] = "MIG_DATA_READ",
	[VFU_CMD_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
};

const char *vfu_cmd_name(u16 cmd)
{
	if (cmd < VFU_CMD_MAX && cmd_names[cmd])
		return cmd_names[cmd];
	return "UNKNOWN";
}

void vfu_hdr_init(struct vfu_hdr *h, u16 msg_id, u16 cmd, u32 payload_len,
		  u32 flags)
{
	h->msg_id = msg_id;
	h->cmd = cmd;
	h->size = VFU_HDR_SIZE + payload_len;
	h->flags = flags;
	h->error_no = 0;
}

int vfu_reply_errno(const struct vfu_hdr *h)
{
	if (h->error_no == 0 || h->error_no > VFU_MAX_ERRNO)
		return -EIO;
	return -(int)h->error_no;
}

u32 vfu_errno_for_reply(int err)
{
	if (err < 0)
		err = -err;
	/* libvfio-user resets the connection on these two. */
	if (err == 0 || err > (int)VFU_MAX_ERRNO || err == ECONNRESET ||
	    err == ENOMSG)
		return EIO;
	return (u32)err;
}

/* Record why a check failed; returns err so callers can `return fail()`. */
static int __attribute__((format(printf, 4, 5)))
fail(char *why, size_t why_len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return err;
}

int vfu_check_hdr(const struct vfu_hdr *h, u32 max_size, char *why,
		  size_t why_len)
{
	u32 type = vfu_hdr_type(h);

	if (h->size < VFU_HDR_SIZE)
		return fail(why, why_len, -EPROTO, "msg_size %u below 16",
			    h->size);
	if (h->size > max_size)
		return fail(why, why_len, -EPROTO,
			    "msg_size %u above limit %u", h->size, max_size);
	if (type != VFU_F_TYPE_COMMAND && type != VFU_F_TYPE_REPLY)
		return fail(why, why_len, -EPROTO, "unknown message type %u",
			    type);
	if (h->flags & ~VFU_F_KNOWN)
		return fail(why, why_len, -EPROTO, "unknown flags 0x%x",
			    h->flags);
	return 0;
}

/* ---- replies --------------------------------------------------------------- */

static int check_len(u32 len, u32 want, const char *what, char *why,
		     size_t why_len)
{
	if (len != want)
		return fail(why, why_len, -EPROTO,
			    "%s reply payload %u bytes, expected %u", what,
			    len, want);
	return 0;
}

static int validate_region_info_reply(const struct vfu_region_info *rq,
				      u32 req_len, const void *rep,
				      u32 rep_len, unsigned int nr_fds,
				      char *why, size_t why_len)
{
	struct vfu_region_info ri;
	u32 want;
	bool full;

	if (req_len < sizeof(*rq) || rq->argsz < sizeof(*rq))
		return fail(why, why_len, -EPROTO, "bad region info request");
	if (rep_len < sizeof(ri))
		return fail(why, why_len, -EPROTO,
			    "region info reply %u bytes, below 32", rep_len);
	memcpy(&ri, rep, sizeof(ri));
	if (ri.argsz < sizeof(ri) || ri.argsz > VFU_MAX_REGION_INFO_ARGSZ)
		return fail(why, why_len, -EPROTO,
			    "region info argsz %u out of [32, %u]", ri.argsz,
			    VFU_MAX_REGION_INFO_ARGSZ);
	want = MIN(ri.argsz, rq->argsz);
	if (rep_len != want)
		return fail(why, why_len, -EPROTO,
			    "region info reply %u bytes, expected %u", rep_len,
			    want);
	if (ri.index != rq->index)
		return fail(why, why_len, -EPROTO,
			    "region info for index %u, asked %u", ri.index,
			    rq->index);
	if (ri.flags & ~VFU_REGION_F_KNOWN)
		return fail(why, why_len, -EPROTO,
			    "region %u: unknown flags 0x%x", ri.index,
			    ri.flags);
	if (ri.size && ri.offset + ri.size < ri.offset)
		return fail(why, why_len, -EPROTO,
			    "region %u: offset + size overflows", ri.index);
	full = ri.argsz <= rq->argsz;
	if (!full) {
		/* Short reply: the client asks again with ri.argsz. */
		if (nr_fds)
			return fail(why, why_len, -EPROTO,
				    "region %u: %u fds with a short reply",
				    ri.index, nr_fds);
		return 0;
	}
	if (nr_fds > 1)
		return fail(why, why_len, -EPROTO, "region %u: %u fds",
			    ri.index, nr_fds);
	if ((ri.flags & VFU_REGION_F_MMAP) && nr_fds != 1)
		return fail(why, why_len, -EPROTO,
			    "region %u: MMAP without an fd", ri.index);
	if (!(ri.flags & VFU_REGION_F_MMAP) && nr_fds)
		return fail(why, why_len, -EPROTO,
			    "region %u: fd without MMAP", ri.index);
	return vfu_region_caps_parse(rep, rep_len, NULL, why, why_len);
}

static int validate_io_fds_reply(const struct vfu_io_fds *rq, u32 req_len,
				 const u8 *rep, u32 rep_len,
				 unsigned int nr_fds, char *why,
				 size_t why_len)
{
	struct vfu_io_fds head;
	u32 stride, i;

	if (req_len < sizeof(*rq))
		return fail(why, why_len, -EPROTO, "bad io fds request");
	if (rep_len < sizeof(head))
		return fail(why, why_len, -EPROTO,
			    "io fds reply %u bytes, below 16", rep_len);
	memcpy(&head, rep, sizeof(head));
	if (head.index != rq->index)
		return fail(why, why_len, -EPROTO,
			    "io fds for region %u, asked %u", head.index,
			    rq->index);
	if (head.argsz < sizeof(head) || head.argsz > VFU_MAX_IO_FDS_ARGSZ)
		return fail(why, why_len, -EPROTO, "io fds argsz %u",
			    head.argsz);
	if (head.count > VFU_MAX_IO_FDS_COUNT)
		return fail(why, why_len, -EPROTO, "io fds count %u",
			    head.count);
	if (head.argsz > rq->argsz || head.count == 0) {
		/* Head only: needed size (and count) filled in, no fds. */
		if (rep_len != sizeof(head) || nr_fds)
			return fail(why, why_len, -EPROTO,
				    "io fds head-only reply: %u bytes, %u fds",
				    rep_len, nr_fds);
		return 0;
	}
	if ((head.argsz - sizeof(head)) % head.count)
		return fail(why, why_len, -EPROTO,
			    "io fds argsz %u not a multiple of count %u",
			    head.argsz, head.count);
	stride = (head.argsz - sizeof(head)) / head.count;
	if (stride != sizeof(struct vfu_ioeventfd) &&
	    stride != sizeof(struct vfu_ioeventfd_spec))
		return fail(why, why_len, -EPROTO, "io fds entry size %u",
			    stride);
	if (rep_len != head.argsz)
		return fail(why, why_len, -EPROTO,
			    "io fds reply %u bytes, argsz %u", rep_len,
			    head.argsz);
	if (nr_fds == 0 || nr_fds > 2 * head.count)
		return fail(why, why_len, -EPROTO,
			    "io fds reply with %u fds for %u entries", nr_fds,
			    head.count);
	for (i = 0; i < head.count; i++) {
		struct vfu_ioeventfd_spec e;

		memcpy(&e, rep + sizeof(head) + (size_t)i * stride, sizeof(e));
		if (e.fd_index >= nr_fds)
			return fail(why, why_len, -EPROTO,
				    "io fds entry %u: fd_index %u of %u", i,
				    e.fd_index, nr_fds);
		if (e.type > VFU_IO_FD_IOEVENTFD_SHADOW)
			return fail(why, why_len, -EPROTO,
				    "io fds entry %u: type %u", i, e.type);
		if (e.offset + e.size < e.offset)
			return fail(why, why_len, -EPROTO,
				    "io fds entry %u: range overflows", i);
	}
	return 0;
}

static u32 irq_count_limit(u32 index)
{
	switch (index) {
	case VFU_IRQ_INTX:
	case VFU_IRQ_ERR:
	case VFU_IRQ_REQ:
		return 1;
	case VFU_IRQ_MSI:
		return VFU_MAX_MSI_COUNT;
	case VFU_IRQ_MSIX:
		return VFU_MAX_IRQ_COUNT;
	default:
		return VFU_MAX_IRQ_COUNT;
	}
}

static int validate_success_reply(u16 cmd, const void *req, u32 req_len,
				  const void *rep, u32 rep_len,
				  unsigned int nr_fds, char *why,
				  size_t why_len)
{
	const char *name = vfu_cmd_name(cmd);
	int ret;

	/* Only these replies may carry fds at all. */
	if (nr_fds && cmd != VFU_CMD_VERSION &&
	    cmd != VFU_CMD_DEVICE_GET_REGION_INFO &&
	    cmd != VFU_CMD_DEVICE_GET_REGION_IO_FDS)
		return fail(why, why_len, -EPROTO, "%s reply with %u fds",
			    name, nr_fds);

	switch (cmd) {
	case VFU_CMD_VERSION: {
		if (rep_len < sizeof(struct vfu_version))
			return fail(why, why_len, -EPROTO,
				    "VERSION reply %u bytes, below 4",
				    rep_len);
		if (rep_len > sizeof(struct vfu_version) &&
		    ((const char *)rep)[rep_len - 1] != '\0')
			return fail(why, why_len, -EPROTO,
				    "VERSION reply JSON not NUL-terminated");
		if (nr_fds > 1)
			return fail(why, why_len, -EPROTO,
				    "VERSION reply with %u fds", nr_fds);
		return 0;
	}
	case VFU_CMD_DMA_MAP:
	case VFU_CMD_DEVICE_SET_IRQS:
	case VFU_CMD_DEVICE_RESET:
		return check_len(rep_len, 0, name, why, why_len);
	case VFU_CMD_DMA_UNMAP: {
		struct vfu_dma_unmap rq, rp;

		/* A DMA-less libvfio-user device answers with nothing. */
		if (rep_len == 0)
			return 0;
		ret = check_len(rep_len, sizeof(rp), name, why, why_len);
		if (ret)
			return ret;
		memcpy(&rq, req, sizeof(rq));
		memcpy(&rp, rep, sizeof(rp));
		if (rp.addr != rq.addr || rp.size != rq.size)
			return fail(why, why_len, -EPROTO,
				    "DMA_UNMAP reply for 0x%llx+0x%llx, asked 0x%llx+0x%llx",
				    (unsigned long long)rp.addr,
				    (unsigned long long)rp.size,
				    (unsigned long long)rq.addr,
				    (unsigned long long)rq.size);
		return 0;
	}
	case VFU_CMD_DEVICE_GET_INFO: {
		struct vfu_device_info di;

		ret = check_len(rep_len, sizeof(di), name, why, why_len);
		if (ret)
			return ret;
		memcpy(&di, rep, sizeof(di));
		if (di.argsz < sizeof(di))
			return fail(why, why_len, -EPROTO,
				    "DEVICE_GET_INFO argsz %u", di.argsz);
		if (di.num_regions > VFU_MAX_NUM_REGIONS ||
		    di.num_irqs > VFU_MAX_NUM_IRQS)
			return fail(why, why_len, -EPROTO,
				    "DEVICE_GET_INFO: %u regions, %u irqs",
				    di.num_regions, di.num_irqs);
		return 0;
	}
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		return validate_region_info_reply(req, req_len, rep, rep_len,
						  nr_fds, why, why_len);
	case VFU_CMD_DEVICE_GET_REGION_IO_FDS:
		return validate_io_fds_reply(req, req_len, rep, rep_len,
					     nr_fds, why, why_len);
	case VFU_CMD_DEVICE_GET_IRQ_INFO: {
		struct vfu_irq_info rq, ii;

		ret = check_len(rep_len, sizeof(ii), name, why, why_len);
		if (ret)
			return ret;
		memcpy(&rq, req, sizeof(rq));
		memcpy(&ii, rep, sizeof(ii));
		if (ii.index != rq.index)
			return fail(why, why_len, -EPROTO,
				    "irq info for index %u, asked %u",
				    ii.index, rq.index);
		if (ii.argsz < sizeof(ii))
			return fail(why, why_len, -EPROTO, "irq info argsz %u",
				    ii.argsz);
		if (ii.flags & ~VFU_IRQ_INFO_F_KNOWN)
			return fail(why, why_len, -EPROTO,
				    "irq info flags 0x%x", ii.flags);
		if (ii.count > irq_count_limit(ii.index))
			return fail(why, why_len, -EPROTO,
				    "irq index %u: count %u above %u",
				    ii.index, ii.count,
				    irq_count_limit(ii.index));
		return 0;
	}
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE: {
		struct vfu_region_access rq, ra;
		u32 want;

		memcpy(&rq, req, sizeof(rq));
		/* count 0: libvfio-user answers with an empty payload. */
		if (rq.count == 0 && rep_len == 0)
			return 0;
		if (rep_len < sizeof(ra))
			return fail(why, why_len, -EPROTO,
				    "%s reply %u bytes, below 16", name,
				    rep_len);
		memcpy(&ra, rep, sizeof(ra));
		if (ra.region != rq.region || ra.offset != rq.offset)
			return fail(why, why_len, -EPROTO,
				    "%s reply for region %u offset 0x%llx, asked region %u offset 0x%llx",
				    name, ra.region,
				    (unsigned long long)ra.offset, rq.region,
				    (unsigned long long)rq.offset);
		if (ra.count > rq.count)
			return fail(why, why_len, -EPROTO,
				    "%s reply count %u above requested %u",
				    name, ra.count, rq.count);
		want = sizeof(ra) + (cmd == VFU_CMD_REGION_READ ? ra.count : 0);
		return check_len(rep_len, want, name, why, why_len);
	}
	case VFU_CMD_DMA_READ:
	case VFU_CMD_DMA_WRITE: {
		struct vfu_dma_access rq, da;
		u64 want;

		memcpy(&rq, req, sizeof(rq));
		if (rep_len < sizeof(da))
			return fail(why, why_len, -EPROTO,
				    "%s reply %u bytes, below 16", name,
				    rep_len);
		memcpy(&da, rep, sizeof(da));
		if (da.addr != rq.addr || da.count != rq.count)
			return fail(why, why_len, -EPROTO,
				    "%s reply for 0x%llx+%llu, asked 0x%llx+%llu",
				    name, (unsigned long long)da.addr,
				    (unsigned long long)da.count,
				    (unsigned long long)rq.addr,
				    (unsigned long long)rq.count);
		want = sizeof(da) + (cmd == VFU_CMD_DMA_READ ? da.count : 0);
		if (rep_len != want)
			return fail(why, why_len, -EPROTO,
				    "%s reply %u bytes, expected %llu", name,
				    rep_len, (unsigned long long)want);
		return 0;
	}
	default:
		return fail(why, why_len, -EPROTO, "reply to unsupported %s",
			    name);
	}
}

int vfu_validate_reply(const struct vfu_hdr *req_hdr, const void *req,
		       u32 req_len, const struct vfu_hdr *rep_hdr,
		       const void *rep, u32 rep_len, unsigned int nr_fds,
		       char *why, size_t why_len)
{
	if (vfu_hdr_type(rep_hdr) != VFU_F_TYPE_REPLY)
		return fail(why, why_len, -EPROTO, "id %u: not a reply",
			    rep_hdr->msg_id);
	if (rep_hdr->msg_id != req_hdr->msg_id)
		return fail(why, why_len, -EPROTO, "reply id %u, expected %u",
			    rep_hdr->msg_id, req_hdr->msg_id);
	if (rep_hdr->cmd != req_hdr->cmd)
		return fail(why, why_len, -EPROTO,
			    "id %u: reply for %s (%u) to a %s",
			    rep_hdr->msg_id, vfu_cmd_name(rep_hdr->cmd),
			    rep_hdr->cmd, vfu_cmd_name(req_hdr->cmd));
	if (rep_hdr->size != VFU_HDR_SIZE + rep_len)
		return fail(why, why_len, -EPROTO,
			    "id %u: msg_size %u with %u payload bytes",
			    rep_hdr->msg_id, rep_hdr->size, rep_len);
	if (rep_hdr->flags & VFU_F_NO_REPLY)
		return fail(why, why_len, -EPROTO, "id %u: NO_REPLY in a reply",
			    rep_hdr->msg_id);
	if (rep_hdr->flags & VFU_F_ERROR) {
		/* Any payload is drained and ignored; fds are not allowed. */
		if (nr_fds)
			return fail(why, why_len, -EPROTO,
				    "id %u: error reply with %u fds",
				    rep_hdr->msg_id, nr_fds);
		return 0;
	}
	if (rep_hdr->error_no)
		return fail(why, why_len, -EPROTO,
			    "id %u: error_no %u without ERROR flag",
			    rep_hdr->msg_id, rep_hdr->error_no);
	return validate_success_reply(req_hdr->cmd, req, req_len, rep, rep_len,
				      nr_fds, why, why_len);
}

/* ---- commands the server receives ----------------------------------------- */

static bool one_bit(u32 v)
{
	return v && !(v & (v - 1));
}

static int validate_set_irqs(const void *p, u32 len, unsigned int nr_fds,
			     char *why, size_t why_len)
{
	struct vfu_irq_set is;
	u32 data, action;

	if (len < sizeof(is))
		return fail(why, why_len, -EINVAL, "SET_IRQS %u bytes", len);
	memcpy(&is, p, sizeof(is));
	data = is.flags & VFU_IRQ_SET_DATA_MASK;
	action = is.flags & VFU_IRQ_SET_ACTION_MASK_ALL;
	if (is.argsz < sizeof(is))
		return fail(why, why_len, -EINVAL, "SET_IRQS argsz %u",
			    is.argsz);
	if (is.flags & ~(VFU_IRQ_SET_DATA_MASK | VFU_IRQ_SET_ACTION_MASK_ALL))
		return fail(why, why_len, -EINVAL, "SET_IRQS flags 0x%x",
			    is.flags);
	if (!one_bit(data) || !one_bit(action))
		return fail(why, why_len, -EINVAL,
			    "SET_IRQS flags 0x%x: need one data type and one action",
			    is.flags);
	if (is.count > VFU_MAX_IRQ_COUNT || is.start > VFU_MAX_IRQ_COUNT ||
	    is.start + is.count > VFU_MAX_IRQ_COUNT)
		return fail(why, why_len, -EINVAL,
			    "SET_IRQS start %u count %u", is.start, is.count);
	if (len != sizeof(is) + (data == VFU_IRQ_SET_DATA_BOOL ? is.count : 0))
		return fail(why, why_len, -EINVAL,
			    "SET_IRQS %u bytes for count %u flags 0x%x", len,
			    is.count, is.flags);
	if (is.count == 0 && is.start != 0)
		return fail(why, why_len, -EINVAL,
			    "SET_IRQS count 0 with start %u", is.start);
	if (nr_fds) {
		if (data != VFU_IRQ_SET_DATA_EVENTFD ||
		    action != VFU_IRQ_SET_ACTION_TRIGGER)
			return fail(why, why_len, -EINVAL,
				    "SET_IRQS %u fds with flags 0x%x", nr_fds,
				    is.flags);
		if (nr_fds != is.count)
			return fail(why, why_len, -EINVAL,
				    "SET_IRQS %u fds for count %u", nr_fds,
				    is.count);
	}
	return 0;
}

int vfu_validate_command(const struct vfu_hdr *h, const void *p, u32 len,
			 unsigned int nr_fds, u32 max_xfer, char *why,
			 size_t why_len)
{
	const char *name = vfu_cmd_name(h->cmd);
	unsigned int max_fds = 0;

	if (vfu_hdr_type(h) != VFU_F_TYPE_COMMAND)
		return fail(why, why_len, -EINVAL, "id %u: not a command",
			    h->msg_id);
	if (h->flags & VFU_F_ERROR)
		return fail(why, why_len, -EINVAL, "id %u: ERROR in a command",
			    h->msg_id);
	if (h->error_no)
		return fail(why, why_len, -EINVAL,
			    "id %u: error_no %u in a command", h->msg_id,
			    h->error_no);
	if (h->size != VFU_HDR_SIZE + len)
		return fail(why, why_len, -EINVAL,
			    "id %u: msg_size %u with %u payload bytes",
			    h->msg_id, h->size, len);
	if (h->cmd == VFU_CMD_DMA_MAP)
		max_fds = 1;
	else if (h->cmd == VFU_CMD_DEVICE_SET_IRQS)
		max_fds = VFU_MAX_IRQ_COUNT;
	if (nr_fds > max_fds)
		return fail(why, why_len, -EINVAL, "%s id %u with %u fds", name,
			    h->msg_id, nr_fds);

	switch (h->cmd) {
	case VFU_CMD_VERSION:
		if (len < sizeof(struct vfu_version))
			return fail(why, why_len, -EINVAL,
				    "VERSION %u bytes, below 4", len);
		if (len > sizeof(struct vfu_version) &&
		    ((const char *)p)[len - 1] != '\0')
			return fail(why, why_len, -EINVAL,
				    "VERSION JSON not NUL-terminated");
		return 0;
	case VFU_CMD_DMA_MAP: {
		struct vfu_dma_map m;

		if (len != sizeof(m))
			return fail(why, why_len, -EINVAL, "DMA_MAP %u bytes",
				    len);
		memcpy(&m, p, sizeof(m));
		if (m.argsz < sizeof(m))
			return fail(why, why_len, -EINVAL, "DMA_MAP argsz %u",
				    m.argsz);
		if (m.flags & ~(VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE))
			return fail(why, why_len, -EINVAL,
				    "DMA_MAP flags 0x%x", m.flags);
		if (m.size == 0 || m.size > VFU_MAX_DMA_SIZE ||
		    m.addr + m.size < m.addr || m.offset + m.size < m.offset)
			return fail(why, why_len, -EINVAL,
				    "DMA_MAP range 0x%llx+0x%llx offset 0x%llx",
				    (unsigned long long)m.addr,
				    (unsigned long long)m.size,
				    (unsigned long long)m.offset);
		return 0;
	}
	case VFU_CMD_DMA_UNMAP: {
		struct vfu_dma_unmap u;

		if (len != sizeof(u))
			return fail(why, why_len, -EINVAL,
				    "DMA_UNMAP %u bytes", len);
		memcpy(&u, p, sizeof(u));
		if (u.argsz < sizeof(u))
			return fail(why, why_len, -EINVAL,
				    "DMA_UNMAP argsz %u", u.argsz);
		if (u.flags & ~VFU_DMA_UNMAP_F_ALL)
			return fail(why, why_len, -EINVAL,
				    "DMA_UNMAP flags 0x%x", u.flags);
		if ((u.flags & VFU_DMA_UNMAP_F_ALL) && (u.addr || u.size))
			return fail(why, why_len, -EINVAL,
				    "DMA_UNMAP ALL with a range");
		if (!(u.flags & VFU_DMA_UNMAP_F_ALL) &&
		    (u.size == 0 || u.addr + u.size < u.addr))
			return fail(why, why_len, -EINVAL,
				    "DMA_UNMAP range 0x%llx+0x%llx",
				    (unsigned long long)u.addr,
				    (unsigned long long)u.size);
		return 0;
	}
	case VFU_CMD_DEVICE_GET_INFO:
	case VFU_CMD_DEVICE_GET_IRQ_INFO: {
		u32 argsz;

		if (len != 16)
			return fail(why, why_len, -EINVAL, "%s %u bytes", name,
				    len);
		memcpy(&argsz, p, sizeof(argsz));
		if (argsz < 16)
			return fail(why, why_len, -EINVAL, "%s argsz %u", name,
				    argsz);
		return 0;
	}
	case VFU_CMD_DEVICE_GET_REGION_INFO: {
		struct vfu_region_info ri;

		if (len != sizeof(ri))
			return fail(why, why_len, -EINVAL,
				    "GET_REGION_INFO %u bytes", len);
		memcpy(&ri, p, sizeof(ri));
		if (ri.argsz < sizeof(ri))
			return fail(why, why_len, -EINVAL,
				    "GET_REGION_INFO argsz %u", ri.argsz);
		return 0;
	}
	case VFU_CMD_DEVICE_GET_REGION_IO_FDS: {
		struct vfu_io_fds io;

		if (len != sizeof(io))
			return fail(why, why_len, -EINVAL,
				    "GET_REGION_IO_FDS %u bytes", len);
		memcpy(&io, p, sizeof(io));
		if (io.argsz < sizeof(io) || io.argsz > VFU_MAX_IO_FDS_ARGSZ ||
		    io.flags || io.count)
			return fail(why, why_len, -EINVAL,
				    "GET_REGION_IO_FDS argsz %u flags 0x%x count %u",
				    io.argsz, io.flags, io.count);
		return 0;
	}
	case VFU_CMD_DEVICE_SET_IRQS:
		return validate_set_irqs(p, len, nr_fds, why, why_len);
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE: {
		struct vfu_region_access ra;
		u64 want;

		if (len < sizeof(ra))
			return fail(why, why_len, -EINVAL, "%s %u bytes", name,
				    len);
		memcpy(&ra, p, sizeof(ra));
		if (ra.count > max_xfer)
			return fail(why, why_len, -EINVAL,
				    "%s count %u above %u", name, ra.count,
				    max_xfer);
		if (ra.offset + ra.count < ra.offset)
			return fail(why, why_len, -EINVAL,
				    "%s offset 0x%llx + %u overflows", name,
				    (unsigned long long)ra.offset, ra.count);
		want = sizeof(ra) +
		       (h->cmd == VFU_CMD_REGION_WRITE ? ra.count : 0);
		if (len != want)
			return fail(why, why_len, -EINVAL,
				    "%s %u bytes for count %u", name, len,
				    ra.count);
		return 0;
	}
	case VFU_CMD_DEVICE_RESET:
		if (len)
			return fail(why, why_len, -EINVAL,
				    "DEVICE_RESET with %u bytes", len);
		return 0;
	case VFU_CMD_DMA_READ:
	case VFU_CMD_DMA_WRITE:
		return fail(why, why_len, -EINVAL,
			    "%s is a server to client command", name);
	default:
		return fail(why, why_len, -ENOSYS, "unsupported command %s (%u)",
			    name, h->cmd);
	}
}

int vfu_validate_server_request(const struct vfu_hdr *h, const void *p,
				u32 len, unsigned int nr_fds, u32 max_xfer,
				char *why, size_t why_len)
{
	struct vfu_dma_access da;
	const char *name = vfu_cmd_name(h->cmd);
	u64 want;

	if (vfu_hdr_type(h) != VFU_F_TYPE_COMMAND ||
	    (h->flags & VFU_F_ERROR) || h->error_no)
		return fail(why, why_len, -EINVAL,
			    "server request id %u: flags 0x%x error_no %u",
			    h->msg_id, h->flags, h->error_no);
	if (h->size != VFU_HDR_SIZE + len)
		return fail(why, why_len, -EINVAL,
			    "server request id %u: msg_size %u, %u bytes",
			    h->msg_id, h->size, len);
	if (h->cmd != VFU_CMD_DMA_READ && h->cmd != VFU_CMD_DMA_WRITE)
		return fail(why, why_len, -ENOSYS,
			    "server request %s (%u) not supported", name,
			    h->cmd);
	if (nr_fds)
		return fail(why, why_len, -EINVAL, "%s id %u with %u fds", name,
			    h->msg_id, nr_fds);
	if (len < sizeof(da))
		return fail(why, why_len, -EINVAL, "%s %u bytes", name, len);
	memcpy(&da, p, sizeof(da));
	if (da.count == 0 || da.count > max_xfer)
		return fail(why, why_len, -EINVAL, "%s count %llu (max %u)",
			    name, (unsigned long long)da.count, max_xfer);
	if (da.addr + da.count < da.addr)
		return fail(why, why_len, -EINVAL, "%s 0x%llx+%llu overflows",
			    name, (unsigned long long)da.addr,
			    (unsigned long long)da.count);
	want = sizeof(da) + (h->cmd == VFU_CMD_DMA_WRITE ? da.count : 0);
	if (len != want)
		return fail(why, why_len, -EINVAL, "%s %u bytes, expected %llu",
			    name, len, (unsigned long long)want);
	return 0;
}

/* ---- VERSION capabilities ---------------------------------------------------- */

void vfu_caps_defaults(struct vfu_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->max_msg_fds = VFU_DEFAULT_MAX_MSG_FDS;
	caps->max_data_xfer_size = VFU_DEFAULT_MAX_DATA_XFER;
	caps->pgsizes = VFU_DEFAULT_PGSIZES;
	caps->max_dma_maps = VFU_DEFAULT_MAX_DMA_MAPS;
}

static int caps_int(struct json_object *obj, const char *key, s64 min,
		    s64 max, s64 *out, char *why, size_t why_len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return fail(why, why_len, -EINVAL, "capability %s not an integer",
			    key);
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno || *out < min || *out > max)
		return fail(why, why_len, -EINVAL,
			    "capability %s = %lld out of [%lld, %lld]", key,
			    (long long)*out, (long long)min, (long long)max);
	return 1;
}

static int caps_parse_object(struct json_object *c, struct vfu_caps *caps,
			     char *why, size_t why_len)
{
	struct json_object *twin, *v;
	s64 n;
	int ret;

	ret = caps_int(c, "max_msg_fds", 0, VFU_MAX_MSG_FDS_LIMIT, &n, why,
		       why_len);
	if (ret < 0)
		return ret;
	if (ret)
		caps->max_msg_fds = (u32)n;
	ret = caps_int(c, "max_data_xfer_size", 1, VFU_MAX_DATA_XFER_LIMIT, &n,
		       why, why_len);
	if (ret < 0)
		return ret;
	if (ret)
		caps->max_data_xfer_size = (u32)n;
	ret = caps_int(c, "pgsizes", 4096, INT64_MAX, &n, why, why_len);
	if (ret < 0)
		return ret;
	if (ret) {
		if (n % 4096)
			return fail(why, why_len, -EINVAL,
				    "pgsizes 0x%llx not a multiple of 4096",
				    (unsigned long long)n);
		caps->pgsizes = (u64)n;
	}
	ret = caps_int(c, "max_dma_maps", 1, 65535, &n, why, why_len);
	if (ret < 0)
		return ret;
	if (ret)
		caps->max_dma_maps = (u32)n;

	if (json_object_object_get_ex(c, "migration", &v)) {
		if (!json_object_is_type(v, json_type_object))
			return fail(why, why_len, -EINVAL,
				    "capability migration not an object");
		caps->migration = true;
		log_info("peer offers migration: not supported, ignored");
	}

	if (json_object_object_get_ex(c, "twin_socket", &twin)) {
		if (!json_object_is_type(twin, json_type_object))
			return fail(why, why_len, -EINVAL,
				    "capability twin_socket not an object");
		if (json_object_object_get_ex(twin, "supported", &v)) {
			if (!json_object_is_type(v, json_type_boolean))
				return fail(why, why_len, -EINVAL,
					    "twin_socket.supported not a boolean");
			caps->twin_socket = json_object_get_boolean(v);
		}
		ret = caps_int(twin, "fd_index", 0, VFU_MAX_MSG_FDS_LIMIT, &n,
			       why, why_len);
		if (ret < 0)
			return ret;
		if (ret) {
			caps->twin_fd_index_set = true;
			caps->twin_fd_index = (u32)n;
		}
	}
	return 0;
}

int vfu_caps_parse(const char *json, size_t len, struct vfu_caps *caps,
		   char *why, size_t why_len)
{
	struct json_tokener *tok;
	struct json_object *root, *c;
	int ret = 0;

	vfu_caps_defaults(caps);
	if (len == 0)
		return 0;
	if (json[len - 1] != '\0')
		return fail(why, why_len, -EINVAL, "JSON not NUL-terminated");
	if (len == 1)
		return 0;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len - 1);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len - 1) {
		ret = fail(why, why_len, -EINVAL, "invalid JSON");
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		ret = fail(why, why_len, -EINVAL, "JSON is not an object");
		goto out;
	}
	if (json_object_object_get_ex(root, "capabilities", &c)) {
		if (!json_object_is_type(c, json_type_object)) {
			ret = fail(why, why_len, -EINVAL,
				   "capabilities is not an object");
			goto out;
		}
		ret = caps_parse_object(c, caps, why, why_len);
	}
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int vfu_caps_format(const struct vfu_caps *caps, char *buf, size_t len)
{
	struct json_object *root, *c, *twin;
	const char *s;
	size_t n;
	int ret = -ENOMEM;

	root = json_object_new_object();
	c = json_object_new_object();
	if (!root || !c)
		goto err;
	json_object_object_add(root, "capabilities", c);
	json_object_object_add(c, "max_msg_fds",
			       json_object_new_int64(caps->max_msg_fds));
	json_object_object_add(c, "max_data_xfer_size",
			       json_object_new_int64(caps->max_data_xfer_size));
	if (caps->pgsizes != VFU_DEFAULT_PGSIZES)
		json_object_object_add(c, "pgsizes",
				       json_object_new_int64((s64)caps->pgsizes));
	if (caps->max_dma_maps != VFU_DEFAULT_MAX_DMA_MAPS)
		json_object_object_add(c, "max_dma_maps",
				       json_object_new_int64(caps->max_dma_maps));
	if (caps->twin_socket) {
		twin = json_object_new_object();
		if (!twin)
			goto err;
		json_object_object_add(twin, "supported",
				       json_object_new_boolean(1));
		if (caps->twin_fd_index_set)
			json_object_object_add(twin, "fd_index",
					       json_object_new_int64(caps->twin_fd_index));
		json_object_object_add(c, "twin_socket", twin);
	}
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	if (!s)
		goto err;
	n = strlen(s) + 1;
	if (n > len) {
		ret = -ENOSPC;
		goto err;
	}
	memcpy(buf, s, n);
	json_object_put(root);
	return (int)n;
err:
	if (root)
		json_object_put(root);
	else if (c)
		json_object_put(c);
	return ret;
}

/* ---- region info capability chain -------------------------------------------- */

int vfu_region_caps_parse(const void *buf, u32 len,
			  struct vfu_region_caps *caps, char *why,
			  size_t why_len)
{
	const u8 *base = buf;
	struct vfu_region_info ri;
	u32 off, prev = 0;
	bool seen_sparse = false, seen_type = false;

	if (caps)
		memset(caps, 0, sizeof(*caps));
	if (len < sizeof(ri))
		return fail(why, why_len, -EPROTO, "region info %u bytes", len);
	memcpy(&ri, base, sizeof(ri));
	if (!(ri.flags & VFU_REGION_F_CAPS)) {
		if (ri.cap_offset)
			return fail(why, why_len, -EPROTO,
				    "region %u: cap_offset %u without CAPS",
				    ri.index, ri.cap_offset);
		return 0;
	}
	if (ri.cap_offset == 0)
		return fail(why, why_len, -EPROTO,
			    "region %u: CAPS with cap_offset 0", ri.index);

	for (off = ri.cap_offset; off; ) {
		struct vfu_cap_header ch;
		u32 body;

		if (off < sizeof(ri) || off <= prev || off > len ||
		    len - off < sizeof(ch) || off % 4)
			return fail(why, why_len, -EPROTO,
				    "region %u: capability at %u outside [32, %u) or not after %u",
				    ri.index, off, len, prev);
		memcpy(&ch, base + off, sizeof(ch));
		body = sizeof(ch);
		switch (ch.id) {
		case VFU_CAP_SPARSE_MMAP: {
			struct vfu_cap_sparse_mmap sm;
			u32 i;

			if (seen_sparse)
				return fail(why, why_len, -EPROTO,
					    "region %u: two sparse mmap caps",
					    ri.index);
			seen_sparse = true;
			if (len - off < sizeof(sm))
				return fail(why, why_len, -EPROTO,
					    "region %u: sparse cap truncated",
					    ri.index);
			memcpy(&sm, base + off, sizeof(sm));
			if (sm.nr_areas > (len - off - sizeof(sm)) /
					  sizeof(struct vfu_sparse_area))
				return fail(why, why_len, -EPROTO,
					    "region %u: %u sparse areas do not fit",
					    ri.index, sm.nr_areas);
			if (sm.nr_areas > VFU_MAX_SPARSE_AREAS)
				return fail(why, why_len, -EPROTO,
					    "region %u: %u sparse areas, we take %u",
					    ri.index, sm.nr_areas,
					    VFU_MAX_SPARSE_AREAS);
			body = sizeof(sm) +
			       sm.nr_areas * sizeof(struct vfu_sparse_area);
			for (i = 0; i < sm.nr_areas; i++) {
				struct vfu_sparse_area a;

				memcpy(&a, base + off + sizeof(sm) +
					   i * sizeof(a), sizeof(a));
				if (a.size == 0 || a.offset + a.size < a.offset ||
				    a.offset + a.size > ri.size ||
				    !IS_ALIGNED(a.offset, PAGE_4K) ||
				    !IS_ALIGNED(a.size, PAGE_4K) ||
				    ri.offset + a.offset + a.size < ri.offset)
					return fail(why, why_len, -EPROTO,
						    "region %u: sparse area %u 0x%llx+0x%llx bad for size 0x%llx",
						    ri.index, i,
						    (unsigned long long)a.offset,
						    (unsigned long long)a.size,
						    (unsigned long long)ri.size);
				if (caps)
					caps->areas[i] = a;
			}
			if (caps) {
				caps->has_sparse = true;
				caps->nr_areas = sm.nr_areas;
			}
			break;
		}
		case VFU_CAP_TYPE: {
			struct vfu_cap_type ct;

			if (seen_type || len - off < sizeof(ct))
				return fail(why, why_len, -EPROTO,
					    "region %u: bad type cap", ri.index);
			seen_type = true;
			memcpy(&ct, base + off, sizeof(ct));
			body = sizeof(ct);
			if (caps) {
				caps->has_type = true;
				caps->type = ct.type;
				caps->subtype = ct.subtype;
			}
			break;
		}
		default:
			log_debug("region %u: skipping unknown cap id %u",
				  ri.index, ch.id);
			break;
		}
		if (ch.next && ch.next < off + body)
			return fail(why, why_len, -EPROTO,
				    "region %u: cap next %u overlaps cap at %u",
				    ri.index, ch.next, off);
		prev = off;
		off = ch.next;
	}
	return 0;
}
