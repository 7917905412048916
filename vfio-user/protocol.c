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

/* ---- the commands, one row each ------------------------------------------ */

/* How a payload's length is judged before its validator runs. */
enum vfu_len_rule {
	LEN_NONE,		/* no such message (unsupported) */
	LEN_EXACT,		/* exactly size bytes */
	LEN_MIN,		/* at least size bytes, the rest is checked */
};

/* Checks a command's payload after the row's size, fd and argsz checks. */
typedef int (*vfu_check_cmd_fn)(u16 cmd, const void *p, u32 len,
				unsigned int nr_fds, u32 max_xfer, char *why,
				size_t why_len);
/*
 * Checks a success reply after the row's size and fd checks, against the
 * request it answers (the caller's own, so trusted).
 */
typedef int (*vfu_check_reply_fn)(u16 cmd, const void *req, u32 req_len,
				  const void *rep, u32 rep_len,
				  unsigned int nr_fds, char *why,
				  size_t why_len);

/*
 * One vfio-user command: its name; the command's payload (length rule and
 * size, whether it starts with an argsz that must cover the fixed part,
 * the most fds it may carry, its validator); the same for its success
 * reply, where rep_empty_ok sends an empty payload straight to the
 * validator (libvfio-user's short answers); and whether the server sends
 * it (DMA_READ/DMA_WRITE) rather than the client. Every check of a
 * command or a reply starts from this row: vfu_validate_command() and
 * vfu_validate_server_request() for commands, vfu_validate_reply() for
 * replies.
 */
struct vfu_cmd_desc {
	const char *name;
	bool to_client;

	enum vfu_len_rule req_rule;
	u32 req_size;
	bool req_argsz;
	unsigned int req_fds;
	vfu_check_cmd_fn check_cmd;

	enum vfu_len_rule rep_rule;
	u32 rep_size;
	bool rep_empty_ok;
	unsigned int rep_fds;
	vfu_check_reply_fn check_reply;
};

static int check_len(u32 len, u32 want, const char *what, char *why,
		     size_t why_len)
{
	if (len != want)
		return fail(why, why_len, -EPROTO,
			    "%s reply payload %u bytes, expected %u", what,
			    len, want);
	return 0;
}

/* After the row's check that the reply holds a whole vfu_region_info. */
static int check_region_info_reply(u16 cmd, const void *req, u32 req_len,
				   const void *rep, u32 rep_len,
				   unsigned int nr_fds, char *why,
				   size_t why_len)
{
	const struct vfu_region_info *rq = req;
	struct vfu_region_info ri;
	u32 want;
	bool full;

	(void)cmd;
	if (req_len < sizeof(*rq) || rq->argsz < sizeof(*rq))
		return fail(why, why_len, -EPROTO, "bad region info request");
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

/* After the row's check that the reply holds a whole vfu_io_fds head. */
static int check_io_fds_reply(u16 cmd, const void *req, u32 req_len,
			      const void *reply, u32 rep_len,
			      unsigned int nr_fds, char *why, size_t why_len)
{
	const struct vfu_io_fds *rq = req;
	const u8 *rep = reply;
	struct vfu_io_fds head;
	u32 stride, i;

	(void)cmd;
	if (req_len < sizeof(*rq))
		return fail(why, why_len, -EPROTO, "bad io fds request");
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


/* Largest count a device may report for each IRQ index. */
static const u32 irq_count_max[VFU_NUM_IRQ_INDEXES] = {
	[VFU_IRQ_INTX] = 1,
	[VFU_IRQ_MSI] = VFU_MAX_MSI_COUNT,
	[VFU_IRQ_MSIX] = VFU_MAX_IRQ_COUNT,
	[VFU_IRQ_ERR] = 1,
	[VFU_IRQ_REQ] = 1,
};

static u32 irq_count_limit(u32 index)
{
	return index < VFU_NUM_IRQ_INDEXES ? irq_count_max[index] :
					     VFU_MAX_IRQ_COUNT;
}

static bool one_bit(u32 v)
{
	return v && !(v & (v - 1));
}

/* ---- validators: commands ------------------------------------------------ */

static int check_version(u16 cmd, const void *p, u32 len, unsigned int nr_fds,
			 u32 max_xfer, char *why, size_t why_len)
{
	(void)cmd, (void)nr_fds, (void)max_xfer;
	if (len > sizeof(struct vfu_version) &&
	    ((const char *)p)[len - 1] != '\0')
		return fail(why, why_len, -EINVAL,
			    "VERSION JSON not NUL-terminated");
	return 0;
}

static int check_dma_map(u16 cmd, const void *p, u32 len, unsigned int nr_fds,
			 u32 max_xfer, char *why, size_t why_len)
{
	struct vfu_dma_map m;

	(void)cmd, (void)len, (void)nr_fds, (void)max_xfer;
	memcpy(&m, p, sizeof(m));
	if (m.flags & ~(VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE))
		return fail(why, why_len, -EINVAL, "DMA_MAP flags 0x%x",
			    m.flags);
	if (m.size == 0 || m.size > VFU_MAX_DMA_SIZE ||
	    m.addr + m.size < m.addr || m.offset + m.size < m.offset)
		return fail(why, why_len, -EINVAL,
			    "DMA_MAP range 0x%llx+0x%llx offset 0x%llx",
			    (unsigned long long)m.addr,
			    (unsigned long long)m.size,
			    (unsigned long long)m.offset);
	return 0;
}

static int check_dma_unmap(u16 cmd, const void *p, u32 len,
			   unsigned int nr_fds, u32 max_xfer, char *why,
			   size_t why_len)
{
	struct vfu_dma_unmap u;

	(void)cmd, (void)len, (void)nr_fds, (void)max_xfer;
	memcpy(&u, p, sizeof(u));
	if (u.flags & ~VFU_DMA_UNMAP_F_ALL)
		return fail(why, why_len, -EINVAL, "DMA_UNMAP flags 0x%x",
			    u.flags);
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

static int check_io_fds(u16 cmd, const void *p, u32 len, unsigned int nr_fds,
			u32 max_xfer, char *why, size_t why_len)
{
	struct vfu_io_fds io;

	(void)cmd, (void)len, (void)nr_fds, (void)max_xfer;
	memcpy(&io, p, sizeof(io));
	if (io.argsz > VFU_MAX_IO_FDS_ARGSZ || io.flags || io.count)
		return fail(why, why_len, -EINVAL,
			    "GET_REGION_IO_FDS argsz %u flags 0x%x count %u",
			    io.argsz, io.flags, io.count);
	return 0;
}

static int check_set_irqs(u16 cmd, const void *p, u32 len,
			  unsigned int nr_fds, u32 max_xfer, char *why,
			  size_t why_len)
{
	struct vfu_irq_set is;
	u32 data, action;

	(void)cmd, (void)max_xfer;
	memcpy(&is, p, sizeof(is));
	data = is.flags & VFU_IRQ_SET_DATA_MASK;
	action = is.flags & VFU_IRQ_SET_ACTION_MASK_ALL;
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

static int check_region_access(u16 cmd, const void *p, u32 len,
			       unsigned int nr_fds, u32 max_xfer, char *why,
			       size_t why_len)
{
	const char *name = vfu_cmd_name(cmd);
	struct vfu_region_access ra;
	u64 want;

	(void)nr_fds;
	memcpy(&ra, p, sizeof(ra));
	if (ra.count > max_xfer)
		return fail(why, why_len, -EINVAL, "%s count %u above %u",
			    name, ra.count, max_xfer);
	if (ra.offset + ra.count < ra.offset)
		return fail(why, why_len, -EINVAL,
			    "%s offset 0x%llx + %u overflows", name,
			    (unsigned long long)ra.offset, ra.count);
	want = sizeof(ra) + (cmd == VFU_CMD_REGION_WRITE ? ra.count : 0);
	if (len != want)
		return fail(why, why_len, -EINVAL, "%s %u bytes for count %u",
			    name, len, ra.count);
	return 0;
}

static int check_dma_access(u16 cmd, const void *p, u32 len,
			    unsigned int nr_fds, u32 max_xfer, char *why,
			    size_t why_len)
{
	const char *name = vfu_cmd_name(cmd);
	struct vfu_dma_access da;
	u64 want;

	(void)nr_fds;
	memcpy(&da, p, sizeof(da));
	if (da.count == 0 || da.count > max_xfer)
		return fail(why, why_len, -EINVAL, "%s count %llu (max %u)",
			    name, (unsigned long long)da.count, max_xfer);
	if (da.addr + da.count < da.addr)
		return fail(why, why_len, -EINVAL, "%s 0x%llx+%llu overflows",
			    name, (unsigned long long)da.addr,
			    (unsigned long long)da.count);
	want = sizeof(da) + (cmd == VFU_CMD_DMA_WRITE ? da.count : 0);
	if (len != want)
		return fail(why, why_len, -EINVAL, "%s %u bytes, expected %llu",
			    name, len, (unsigned long long)want);
	return 0;
}

/* ---- validators: replies ------------------------------------------------- */

static int check_version_reply(u16 cmd, const void *req, u32 req_len,
			       const void *rep, u32 rep_len,
			       unsigned int nr_fds, char *why, size_t why_len)
{
	(void)cmd, (void)req, (void)req_len, (void)nr_fds;
	if (rep_len > sizeof(struct vfu_version) &&
	    ((const char *)rep)[rep_len - 1] != '\0')
		return fail(why, why_len, -EPROTO,
			    "VERSION reply JSON not NUL-terminated");
	return 0;
}

static int check_dma_unmap_reply(u16 cmd, const void *req, u32 req_len,
				 const void *rep, u32 rep_len,
				 unsigned int nr_fds, char *why,
				 size_t why_len)
{
	struct vfu_dma_unmap rq, rp;

	(void)cmd, (void)req_len, (void)nr_fds;
	/* A DMA-less libvfio-user device answers with nothing. */
	if (rep_len == 0)
		return 0;
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

static int check_device_info_reply(u16 cmd, const void *req, u32 req_len,
				   const void *rep, u32 rep_len,
				   unsigned int nr_fds, char *why,
				   size_t why_len)
{
	struct vfu_device_info di;

	(void)cmd, (void)req, (void)req_len, (void)rep_len, (void)nr_fds;
	memcpy(&di, rep, sizeof(di));
	if (di.argsz < sizeof(di))
		return fail(why, why_len, -EPROTO, "DEVICE_GET_INFO argsz %u",
			    di.argsz);
	if (di.num_regions > VFU_MAX_NUM_REGIONS ||
	    di.num_irqs > VFU_MAX_NUM_IRQS)
		return fail(why, why_len, -EPROTO,
			    "DEVICE_GET_INFO: %u regions, %u irqs",
			    di.num_regions, di.num_irqs);
	return 0;
}

static int check_irq_info_reply(u16 cmd, const void *req, u32 req_len,
				const void *rep, u32 rep_len,
				unsigned int nr_fds, char *why, size_t why_len)
{
	struct vfu_irq_info rq, ii;

	(void)cmd, (void)req_len, (void)rep_len, (void)nr_fds;
	memcpy(&rq, req, sizeof(rq));
	memcpy(&ii, rep, sizeof(ii));
	if (ii.index != rq.index)
		return fail(why, why_len, -EPROTO,
			    "irq info for index %u, asked %u", ii.index,
			    rq.index);
	if (ii.argsz < sizeof(ii))
		return fail(why, why_len, -EPROTO, "irq info argsz %u",
			    ii.argsz);
	if (ii.flags & ~VFU_IRQ_INFO_F_KNOWN)
		return fail(why, why_len, -EPROTO, "irq info flags 0x%x",
			    ii.flags);
	if (ii.count > irq_count_limit(ii.index))
		return fail(why, why_len, -EPROTO,
			    "irq index %u: count %u above %u", ii.index,
			    ii.count, irq_count_limit(ii.index));
	return 0;
}

static int check_region_access_reply(u16 cmd, const void *req, u32 req_len,
				     const void *rep, u32 rep_len,
				     unsigned int nr_fds, char *why,
				     size_t why_len)
{
	const char *name = vfu_cmd_name(cmd);
	struct vfu_region_access rq, ra;
	u32 want;

	(void)req_len, (void)nr_fds;
	memcpy(&rq, req, sizeof(rq));
	if (rep_len == 0) {
		/* count 0: libvfio-user answers with an empty payload. */
		if (rq.count == 0)
			return 0;
		return fail(why, why_len, -EPROTO,
			    "%s reply 0 bytes, below %zu", name, sizeof(ra));
	}
	memcpy(&ra, rep, sizeof(ra));
	if (ra.region != rq.region || ra.offset != rq.offset)
		return fail(why, why_len, -EPROTO,
			    "%s reply for region %u offset 0x%llx, asked region %u offset 0x%llx",
			    name, ra.region, (unsigned long long)ra.offset,
			    rq.region, (unsigned long long)rq.offset);
	if (ra.count > rq.count)
		return fail(why, why_len, -EPROTO,
			    "%s reply count %u above requested %u", name,
			    ra.count, rq.count);
	want = sizeof(ra) + (cmd == VFU_CMD_REGION_READ ? ra.count : 0);
	return check_len(rep_len, want, name, why, why_len);
}

static int check_dma_access_reply(u16 cmd, const void *req, u32 req_len,
				  const void *rep, u32 rep_len,
				  unsigned int nr_fds, char *why,
				  size_t why_len)
{
	const char *name = vfu_cmd_name(cmd);
	struct vfu_dma_access rq, da;
	u64 want;

	(void)req_len, (void)nr_fds;
	memcpy(&rq, req, sizeof(rq));
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
			    "%s reply %u bytes, expected %llu", name, rep_len,
			    (unsigned long long)want);
	return 0;
}

/* ---- the table ----------------------------------------------------------- */

#define NO_LIMIT UINT32_MAX	/* the validator counts the fds */

static const struct vfu_cmd_desc cmd_table[VFU_CMD_MAX] = {
	[VFU_CMD_VERSION] = {
		.name = "VERSION",
		.req_rule = LEN_MIN, .req_size = sizeof(struct vfu_version),
		.check_cmd = check_version,
		.rep_rule = LEN_MIN, .rep_size = sizeof(struct vfu_version),
		.rep_fds = 1, .check_reply = check_version_reply,
	},
	[VFU_CMD_DMA_MAP] = {
		.name = "DMA_MAP",
		.req_rule = LEN_EXACT, .req_size = sizeof(struct vfu_dma_map),
		.req_argsz = true, .req_fds = 1, .check_cmd = check_dma_map,
		.rep_rule = LEN_EXACT,
	},
	[VFU_CMD_DMA_UNMAP] = {
		.name = "DMA_UNMAP",
		.req_rule = LEN_EXACT, .req_size = sizeof(struct vfu_dma_unmap),
		.req_argsz = true, .check_cmd = check_dma_unmap,
		.rep_rule = LEN_EXACT, .rep_size = sizeof(struct vfu_dma_unmap),
		.rep_empty_ok = true, .check_reply = check_dma_unmap_reply,
	},
	[VFU_CMD_DEVICE_GET_INFO] = {
		.name = "DEVICE_GET_INFO",
		.req_rule = LEN_EXACT,
		.req_size = sizeof(struct vfu_device_info), .req_argsz = true,
		.rep_rule = LEN_EXACT,
		.rep_size = sizeof(struct vfu_device_info),
		.check_reply = check_device_info_reply,
	},
	[VFU_CMD_DEVICE_GET_REGION_INFO] = {
		.name = "DEVICE_GET_REGION_INFO",
		.req_rule = LEN_EXACT,
		.req_size = sizeof(struct vfu_region_info), .req_argsz = true,
		.rep_rule = LEN_MIN, .rep_size = sizeof(struct vfu_region_info),
		.rep_fds = NO_LIMIT, .check_reply = check_region_info_reply,
	},
	[VFU_CMD_DEVICE_GET_REGION_IO_FDS] = {
		.name = "DEVICE_GET_REGION_IO_FDS",
		.req_rule = LEN_EXACT, .req_size = sizeof(struct vfu_io_fds),
		.req_argsz = true, .check_cmd = check_io_fds,
		.rep_rule = LEN_MIN, .rep_size = sizeof(struct vfu_io_fds),
		.rep_fds = NO_LIMIT, .check_reply = check_io_fds_reply,
	},
	[VFU_CMD_DEVICE_GET_IRQ_INFO] = {
		.name = "DEVICE_GET_IRQ_INFO",
		.req_rule = LEN_EXACT, .req_size = sizeof(struct vfu_irq_info),
		.req_argsz = true,
		.rep_rule = LEN_EXACT, .rep_size = sizeof(struct vfu_irq_info),
		.check_reply = check_irq_info_reply,
	},
	[VFU_CMD_DEVICE_SET_IRQS] = {
		.name = "DEVICE_SET_IRQS",
		.req_rule = LEN_MIN, .req_size = sizeof(struct vfu_irq_set),
		.req_argsz = true, .req_fds = VFU_MAX_IRQ_COUNT,
		.check_cmd = check_set_irqs,
		.rep_rule = LEN_EXACT,
	},
	[VFU_CMD_REGION_READ] = {
		.name = "REGION_READ",
		.req_rule = LEN_MIN,
		.req_size = sizeof(struct vfu_region_access),
		.check_cmd = check_region_access,
		.rep_rule = LEN_MIN,
		.rep_size = sizeof(struct vfu_region_access),
		.rep_empty_ok = true, .check_reply = check_region_access_reply,
	},
	[VFU_CMD_REGION_WRITE] = {
		.name = "REGION_WRITE",
		.req_rule = LEN_MIN,
		.req_size = sizeof(struct vfu_region_access),
		.check_cmd = check_region_access,
		.rep_rule = LEN_MIN,
		.rep_size = sizeof(struct vfu_region_access),
		.rep_empty_ok = true, .check_reply = check_region_access_reply,
	},
	[VFU_CMD_DMA_READ] = {
		.name = "DMA_READ", .to_client = true,
		.req_rule = LEN_MIN, .req_size = sizeof(struct vfu_dma_access),
		.check_cmd = check_dma_access,
		.rep_rule = LEN_MIN, .rep_size = sizeof(struct vfu_dma_access),
		.check_reply = check_dma_access_reply,
	},
	[VFU_CMD_DMA_WRITE] = {
		.name = "DMA_WRITE", .to_client = true,
		.req_rule = LEN_MIN, .req_size = sizeof(struct vfu_dma_access),
		.check_cmd = check_dma_access,
		.rep_rule = LEN_MIN, .rep_size = sizeof(struct vfu_dma_access),
		.check_reply = check_dma_access_reply,
	},
	[VFU_CMD_DEVICE_RESET] = {
		.name = "DEVICE_RESET",
		.req_rule = LEN_EXACT,
		.rep_rule = LEN_EXACT,
	},
	/* Known by name only: neither side sends or accepts them. */
	[VFU_CMD_DIRTY_PAGES] = { .name = "DIRTY_PAGES" },
	[VFU_CMD_REGION_WRITE_MULTI] = { .name = "REGION_WRITE_MULTI" },
	[VFU_CMD_DEVICE_FEATURE] = { .name = "DEVICE_FEATURE" },
	[VFU_CMD_MIG_DATA_READ] = { .name = "MIG_DATA_READ" },
	[VFU_CMD_MIG_DATA_WRITE] = { .name = "MIG_DATA_WRITE" },
};

static const struct vfu_cmd_desc *cmd_desc(u16 cmd)
{
	if (cmd < VFU_CMD_MAX && cmd_table[cmd].name)
		return &cmd_table[cmd];
	return NULL;
}

const char *vfu_cmd_name(u16 cmd)
{
	const struct vfu_cmd_desc *d = cmd_desc(cmd);

	return d ? d->name : "UNKNOWN";
}

/*
 * The row's command checks: fds, length, argsz, then its validator.
 * Errors are -EINVAL (what a server answers a bad command with).
 */
static int check_command(const struct vfu_cmd_desc *d, const struct vfu_hdr *h,
			 const void *p, u32 len, unsigned int nr_fds,
			 u32 max_xfer, char *why, size_t why_len)
{
	u32 argsz;

	if (nr_fds > d->req_fds)
		return fail(why, why_len, -EINVAL, "%s id %u with %u fds",
			    d->name, h->msg_id, nr_fds);
	if (d->req_rule == LEN_EXACT && len != d->req_size)
		return fail(why, why_len, -EINVAL, "%s %u bytes, expected %u",
			    d->name, len, d->req_size);
	if (d->req_rule == LEN_MIN && len < d->req_size)
		return fail(why, why_len, -EINVAL, "%s %u bytes, below %u",
			    d->name, len, d->req_size);
	if (d->req_argsz) {
		memcpy(&argsz, p, sizeof(argsz));
		if (argsz < d->req_size)
			return fail(why, why_len, -EINVAL, "%s argsz %u",
				    d->name, argsz);
	}
	if (!d->check_cmd)
		return 0;
	return d->check_cmd(h->cmd, p, len, nr_fds, max_xfer, why, why_len);
}

/* ---- replies ------------------------------------------------------------------ */

static int validate_success_reply(u16 cmd, const void *req, u32 req_len,
				  const void *rep, u32 rep_len,
				  unsigned int nr_fds, char *why,
				  size_t why_len)
{
	const struct vfu_cmd_desc *d = cmd_desc(cmd);
	int ret;

	if (!d || d->rep_rule == LEN_NONE)
		return fail(why, why_len, -EPROTO, "reply to unsupported %s",
			    vfu_cmd_name(cmd));
	if (nr_fds > d->rep_fds)
		return fail(why, why_len, -EPROTO, "%s reply with %u fds",
			    d->name, nr_fds);
	if (!(rep_len == 0 && d->rep_empty_ok)) {
		if (d->rep_rule == LEN_EXACT) {
			ret = check_len(rep_len, d->rep_size, d->name, why,
					why_len);
			if (ret)
				return ret;
		} else if (rep_len < d->rep_size) {
			return fail(why, why_len, -EPROTO,
				    "%s reply %u bytes, below %u", d->name,
				    rep_len, d->rep_size);
		}
	}
	if (!d->check_reply)
		return 0;
	return d->check_reply(cmd, req, req_len, rep, rep_len, nr_fds, why,
			      why_len);
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

/* ---- commands ----------------------------------------------------------------- */

int vfu_validate_command(const struct vfu_hdr *h, const void *p, u32 len,
			 unsigned int nr_fds, u32 max_xfer, char *why,
			 size_t why_len)
{
	const struct vfu_cmd_desc *d = cmd_desc(h->cmd);

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
	if (d && d->to_client)
		return fail(why, why_len, -EINVAL,
			    "%s is a server to client command", d->name);
	if (!d || d->req_rule == LEN_NONE) {
		/* fds first: a stray fd is the clearer complaint. */
		if (nr_fds)
			return fail(why, why_len, -EINVAL,
				    "%s id %u with %u fds",
				    vfu_cmd_name(h->cmd), h->msg_id, nr_fds);
		return fail(why, why_len, -ENOSYS,
			    "unsupported command %s (%u)",
			    vfu_cmd_name(h->cmd), h->cmd);
	}
	return check_command(d, h, p, len, nr_fds, max_xfer, why, why_len);
}

int vfu_validate_server_request(const struct vfu_hdr *h, const void *p,
				u32 len, unsigned int nr_fds, u32 max_xfer,
				char *why, size_t why_len)
{
	const struct vfu_cmd_desc *d = cmd_desc(h->cmd);

	if (vfu_hdr_type(h) != VFU_F_TYPE_COMMAND ||
	    (h->flags & VFU_F_ERROR) || h->error_no)
		return fail(why, why_len, -EINVAL,
			    "server request id %u: flags 0x%x error_no %u",
			    h->msg_id, h->flags, h->error_no);
	if (h->size != VFU_HDR_SIZE + len)
		return fail(why, why_len, -EINVAL,
			    "server request id %u: msg_size %u, %u bytes",
			    h->msg_id, h->size, len);
	if (!d || !d->to_client)
		return fail(why, why_len, -ENOSYS,
			    "server request %s (%u) not supported",
			    vfu_cmd_name(h->cmd), h->cmd);
	return check_command(d, h, p, len, nr_fds, max_xfer, why, why_len);
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
