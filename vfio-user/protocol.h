/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VFIO_USER_PROTOCOL_H
#define UVMM_VFIO_USER_PROTOCOL_H

/*
 * vfio-user wire format: packed structs pinned with static assertions,
 * constants, small encoders and one validator per direction. Nothing here
 * does I/O. Layouts follow the vfio-user specification; where it and
 * libvfio-user differ, we follow what servers send
 * (docs/vfio-user.md, "Where the spec and servers differ").
 *
 * All integers are host-endian. "payload" means the bytes after the
 * 16-byte header; offsets inside payload structs start at 0.
 */

#include <stddef.h>

#include "common/types.h"

/* ---- header ------------------------------------------------------------ */

struct vfu_hdr {
	u16 msg_id;
	u16 cmd;
	u32 size;	/* whole message, header included */
	u32 flags;
	u32 error_no;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_hdr) == 16, "header is 16 bytes");
_Static_assert(offsetof(struct vfu_hdr, cmd) == 2, "cmd at 2");
_Static_assert(offsetof(struct vfu_hdr, size) == 4, "size at 4");
_Static_assert(offsetof(struct vfu_hdr, flags) == 8, "flags at 8");
_Static_assert(offsetof(struct vfu_hdr, error_no) == 12, "error_no at 12");

#define VFU_HDR_SIZE		16u

#define VFU_F_TYPE_MASK		0xfu
#define VFU_F_TYPE_COMMAND	0x0u
#define VFU_F_TYPE_REPLY	0x1u
#define VFU_F_NO_REPLY		0x10u
#define VFU_F_ERROR		0x20u
#define VFU_F_KNOWN		(VFU_F_TYPE_MASK | VFU_F_NO_REPLY | VFU_F_ERROR)

enum vfu_cmd {
	VFU_CMD_VERSION = 1,
	VFU_CMD_DMA_MAP = 2,
	VFU_CMD_DMA_UNMAP = 3,
	VFU_CMD_DEVICE_GET_INFO = 4,
	VFU_CMD_DEVICE_GET_REGION_INFO = 5,
	VFU_CMD_DEVICE_GET_REGION_IO_FDS = 6,
	VFU_CMD_DEVICE_GET_IRQ_INFO = 7,
	VFU_CMD_DEVICE_SET_IRQS = 8,
	VFU_CMD_REGION_READ = 9,
	VFU_CMD_REGION_WRITE = 10,
	VFU_CMD_DMA_READ = 11,
	VFU_CMD_DMA_WRITE = 12,
	VFU_CMD_DEVICE_RESET = 13,
	VFU_CMD_DIRTY_PAGES = 14,	/* removed from the protocol */
	VFU_CMD_REGION_WRITE_MULTI = 15,
	VFU_CMD_DEVICE_FEATURE = 16,
	VFU_CMD_MIG_DATA_READ = 17,
	VFU_CMD_MIG_DATA_WRITE = 18,
	VFU_CMD_MAX = 19,
};

/* ---- limits and defaults ------------------------------------------------ */

#define VFU_DEFAULT_MAX_MSG_FDS		1u
#define VFU_DEFAULT_MAX_DATA_XFER	(1024u * 1024u)
#define VFU_DEFAULT_PGSIZES		4096ull
#define VFU_DEFAULT_MAX_DMA_MAPS	65535u

#define VFU_SCM_MAX_FD			253u	/* Linux, per sendmsg */
#define VFU_MAX_MSG_FDS_ANNOUNCE	16u	/* we announce; QEMU's cap */
#define VFU_MAX_MSG_FDS_LIMIT		1024u	/* largest value accepted */
#define VFU_MAX_DATA_XFER_LIMIT		(64u * 1024u * 1024u)
#define VFU_MAX_ERRNO			4096u
#define VFU_MAX_NUM_REGIONS		100u
#define VFU_MAX_NUM_IRQS		50u
#define VFU_MAX_REGION_INFO_ARGSZ	(64u * 1024u)
#define VFU_MAX_IO_FDS_ARGSZ		(1024u * 1024u)
#define VFU_MAX_IO_FDS_COUNT		1024u
#define VFU_MAX_IRQ_COUNT		2048u	/* MSI-X */
#define VFU_MAX_MSI_COUNT		32u
#define VFU_MAX_DMA_SIZE		(8ull << 40)
/* Largest fixed part of any message besides the data it carries. */
#define VFU_MSG_SLACK			64u

/* ---- VERSION (1) ---------------------------------------------------------- */

struct vfu_version {
	u16 major;
	u16 minor;
	char data[];	/* NUL-terminated JSON, NUL counted in the size */
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_version) == 4, "version head is 4 bytes");
_Static_assert(offsetof(struct vfu_version, data) == 4, "json at 4");

#define VFU_VERSION_MAJOR	0
#define VFU_VERSION_MINOR	0

/* Negotiated capabilities of one side, with the protocol's defaults. */
struct vfu_caps {
	u32 max_msg_fds;
	u32 max_data_xfer_size;
	u64 pgsizes;
	u32 max_dma_maps;
	bool twin_socket;		/* "twin_socket": {"supported": ...} */
	bool twin_fd_index_set;
	u32 twin_fd_index;
	bool migration;			/* present: logged and ignored */
};

/* ---- DMA_MAP (2) / DMA_UNMAP (3) ----------------------------------------- */

struct vfu_dma_map {
	u32 argsz;
	u32 flags;
	u64 offset;
	u64 addr;
	u64 size;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_dma_map) == 32, "dma_map is 32 bytes");
_Static_assert(offsetof(struct vfu_dma_map, offset) == 8, "offset at 8");
_Static_assert(offsetof(struct vfu_dma_map, addr) == 16, "addr at 16");
_Static_assert(offsetof(struct vfu_dma_map, size) == 24, "size at 24");

#define VFU_DMA_MAP_F_READ	0x1u
#define VFU_DMA_MAP_F_WRITE	0x2u
#define VFU_DMA_MAP_F_MMAP	0x4u	/* LVU only; never sent */
#define VFU_DMA_MAP_F_FILE_IO	0x8u	/* LVU only; never sent */

struct vfu_dma_unmap {
	u32 argsz;
	u32 flags;
	u64 addr;
	u64 size;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_dma_unmap) == 24, "dma_unmap is 24 bytes");
_Static_assert(offsetof(struct vfu_dma_unmap, addr) == 8, "addr at 8");
_Static_assert(offsetof(struct vfu_dma_unmap, size) == 16, "size at 16");

#define VFU_DMA_UNMAP_F_GET_DIRTY_BITMAP	0x1u
#define VFU_DMA_UNMAP_F_ALL			0x2u

struct vfu_bitmap {
	u64 pgsize;
	u64 size;
	u8 data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_bitmap) == 16, "bitmap head is 16 bytes");
_Static_assert(offsetof(struct vfu_bitmap, size) == 8, "size at 8");

/* ---- DEVICE_GET_INFO (4) -------------------------------------------------- */

struct vfu_device_info {
	u32 argsz;
	u32 flags;
	u32 num_regions;
	u32 num_irqs;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_device_info) == 16, "device_info is 16");
_Static_assert(offsetof(struct vfu_device_info, num_regions) == 8, "@8");
_Static_assert(offsetof(struct vfu_device_info, num_irqs) == 12, "@12");

#define VFU_DEVICE_F_RESET	0x1u
#define VFU_DEVICE_F_PCI	0x2u

/* ---- DEVICE_GET_REGION_INFO (5) ------------------------------------------ */

struct vfu_region_info {
	u32 argsz;
	u32 flags;
	u32 index;
	u32 cap_offset;
	u64 size;
	u64 offset;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_region_info) == 32, "region_info is 32");
_Static_assert(offsetof(struct vfu_region_info, index) == 8, "index at 8");
_Static_assert(offsetof(struct vfu_region_info, cap_offset) == 12, "@12");
_Static_assert(offsetof(struct vfu_region_info, size) == 16, "size at 16");
_Static_assert(offsetof(struct vfu_region_info, offset) == 24, "@24");

#define VFU_REGION_F_READ	0x1u
#define VFU_REGION_F_WRITE	0x2u
#define VFU_REGION_F_MMAP	0x4u
#define VFU_REGION_F_CAPS	0x8u
#define VFU_REGION_F_KNOWN	0xfu

enum vfu_pci_region {
	VFU_PCI_BAR0 = 0,
	VFU_PCI_BAR5 = 5,
	VFU_PCI_ROM = 6,
	VFU_PCI_CONFIG = 7,
	VFU_PCI_VGA = 8,
	VFU_PCI_NUM_REGIONS = 9,
};

struct vfu_cap_header {
	u16 id;
	u16 version;
	u32 next;	/* from the start of vfu_region_info; 0 ends */
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_cap_header) == 8, "cap header is 8");
_Static_assert(offsetof(struct vfu_cap_header, next) == 4, "next at 4");

#define VFU_CAP_SPARSE_MMAP	1u
#define VFU_CAP_TYPE		2u

struct vfu_sparse_area {
	u64 offset;
	u64 size;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_sparse_area) == 16, "area is 16");

struct vfu_cap_sparse_mmap {
	struct vfu_cap_header header;
	u32 nr_areas;
	u32 reserved;
	struct vfu_sparse_area areas[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_cap_sparse_mmap) == 16, "sparse head 16");
_Static_assert(offsetof(struct vfu_cap_sparse_mmap, nr_areas) == 8, "@8");
_Static_assert(offsetof(struct vfu_cap_sparse_mmap, areas) == 16, "@16");

struct vfu_cap_type {
	struct vfu_cap_header header;
	u32 type;
	u32 subtype;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_cap_type) == 16, "cap type is 16");
_Static_assert(offsetof(struct vfu_cap_type, subtype) == 12, "@12");

/* What the cap chain parser hands back. */
#define VFU_MAX_SPARSE_AREAS	32u

struct vfu_region_caps {
	bool has_sparse;
	u32 nr_areas;
	struct vfu_sparse_area areas[VFU_MAX_SPARSE_AREAS];
	bool has_type;
	u32 type;
	u32 subtype;
};

/* ---- DEVICE_GET_REGION_IO_FDS (6) ----------------------------------------- */

struct vfu_io_fds {
	u32 argsz;
	u32 flags;
	u32 index;
	u32 count;
	u8 sub_regions[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_io_fds) == 16, "io_fds head is 16");
_Static_assert(offsetof(struct vfu_io_fds, count) == 12, "count at 12");

/* libvfio-user's entry: 48 bytes, what we send. */
struct vfu_ioeventfd {
	u64 offset;
	u64 size;
	u32 fd_index;
	u32 type;
	u32 flags;
	u32 shadow_mem_fd_index;
	u64 shadow_offset;
	u64 datamatch;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_ioeventfd) == 48, "LVU ioeventfd is 48");
_Static_assert(offsetof(struct vfu_ioeventfd, fd_index) == 16, "@16");
_Static_assert(offsetof(struct vfu_ioeventfd, type) == 20, "@20");
_Static_assert(offsetof(struct vfu_ioeventfd, flags) == 24, "@24");
_Static_assert(offsetof(struct vfu_ioeventfd, shadow_offset) == 32, "@32");
_Static_assert(offsetof(struct vfu_ioeventfd, datamatch) == 40, "@40");

/* The spec's 40-byte entry (datamatch at 32), accepted on receive. */
struct vfu_ioeventfd_spec {
	u64 offset;
	u64 size;
	u32 fd_index;
	u32 type;
	u32 flags;
	u32 padding;
	u64 datamatch;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_ioeventfd_spec) == 40, "spec entry is 40");
_Static_assert(offsetof(struct vfu_ioeventfd_spec, datamatch) == 32, "@32");

struct vfu_ioregionfd {
	u64 offset;
	u64 size;
	u32 fd_index;
	u32 type;
	u32 flags;
	u32 padding;
	u64 user_data;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_ioregionfd) == 40, "ioregionfd is 40");
_Static_assert(offsetof(struct vfu_ioregionfd, user_data) == 32, "@32");

#define VFU_IO_FD_IOEVENTFD		0u
#define VFU_IO_FD_IOREGIONFD		1u
#define VFU_IO_FD_IOEVENTFD_SHADOW	2u

/* One sub-region as the client API hands it back (either entry size). */
struct vfu_io_fd_entry {
	u64 offset;
	u64 size;
	u32 fd_index;
	u32 type;
	u32 flags;
	u64 datamatch;
};

/* ---- DEVICE_GET_IRQ_INFO (7) / DEVICE_SET_IRQS (8) ----------------------- */

struct vfu_irq_info {
	u32 argsz;
	u32 flags;
	u32 index;
	u32 count;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_irq_info) == 16, "irq_info is 16");
_Static_assert(offsetof(struct vfu_irq_info, index) == 8, "index at 8");
_Static_assert(offsetof(struct vfu_irq_info, count) == 12, "count at 12");

#define VFU_IRQ_INFO_F_EVENTFD		0x1u
#define VFU_IRQ_INFO_F_MASKABLE		0x2u
#define VFU_IRQ_INFO_F_AUTOMASKED	0x4u
#define VFU_IRQ_INFO_F_NORESIZE		0x8u
#define VFU_IRQ_INFO_F_KNOWN		0xfu

enum vfu_irq_index {
	VFU_IRQ_INTX = 0,
	VFU_IRQ_MSI = 1,
	VFU_IRQ_MSIX = 2,
	VFU_IRQ_ERR = 3,
	VFU_IRQ_REQ = 4,
	VFU_NUM_IRQ_INDEXES = 5,
};

struct vfu_irq_set {
	u32 argsz;
	u32 flags;
	u32 index;
	u32 start;
	u32 count;
	u8 data[];	/* DATA_BOOL only: count bytes */
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_irq_set) == 20, "irq_set is 20");
_Static_assert(offsetof(struct vfu_irq_set, start) == 12, "start at 12");
_Static_assert(offsetof(struct vfu_irq_set, count) == 16, "count at 16");
_Static_assert(offsetof(struct vfu_irq_set, data) == 20, "data at 20");

#define VFU_IRQ_SET_DATA_NONE		0x1u
#define VFU_IRQ_SET_DATA_BOOL		0x2u
#define VFU_IRQ_SET_DATA_EVENTFD	0x4u
#define VFU_IRQ_SET_DATA_MASK		0x7u
#define VFU_IRQ_SET_ACTION_MASK		0x8u
#define VFU_IRQ_SET_ACTION_UNMASK	0x10u
#define VFU_IRQ_SET_ACTION_TRIGGER	0x20u
#define VFU_IRQ_SET_ACTION_MASK_ALL	0x38u

/* ---- REGION_READ (9) / REGION_WRITE (10) ---------------------------------- */

struct vfu_region_access {
	u64 offset;
	u32 region;
	u32 count;
	u8 data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_region_access) == 16, "region_access 16");
_Static_assert(offsetof(struct vfu_region_access, region) == 8, "@8");
_Static_assert(offsetof(struct vfu_region_access, count) == 12, "@12");

/* ---- DMA_READ (11) / DMA_WRITE (12), server to client (LVU layout) ------- */

struct vfu_dma_access {
	u64 addr;
	u64 count;
	u8 data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_dma_access) == 16, "dma_access is 16");
_Static_assert(offsetof(struct vfu_dma_access, count) == 8, "count at 8");

/* ---- REGION_WRITE_MULTI (15): layout only, never sent ----------------------- */

struct vfu_write_multi_entry {
	u64 offset;
	u32 region;
	u32 count;
	u8 data[8];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_write_multi_entry) == 24, "wm entry 24");
_Static_assert(offsetof(struct vfu_write_multi_entry, data) == 16, "@16");

struct vfu_write_multi {
	u64 wr_cnt;
	struct vfu_write_multi_entry wrs[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_write_multi) == 8, "wm head is 8");

/* ---- migration (16-18): layouts only, not supported ------------------------ */

struct vfu_device_feature {
	u32 argsz;
	u32 flags;
	u8 data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_device_feature) == 8, "feature head 8");

struct vfu_feature_migration {
	u64 flags;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_feature_migration) == 8, "mig feature 8");

struct vfu_feature_mig_state {
	u32 device_state;
	u32 data_fd;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_feature_mig_state) == 8, "mig state 8");

struct vfu_dma_logging_range {
	u64 iova;
	u64 length;
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_dma_logging_range) == 16, "range 16");

struct vfu_dma_logging_control {
	u64 page_size;
	u32 num_ranges;
	u32 reserved;
	struct vfu_dma_logging_range ranges[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_dma_logging_control) == 16, "log ctl 16");
_Static_assert(offsetof(struct vfu_dma_logging_control, num_ranges) == 8,
	       "@8");

struct vfu_dma_logging_report {
	u64 iova;
	u64 length;
	u64 page_size;
	u8 bitmap[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_dma_logging_report) == 24, "report 24");

struct vfu_mig_data {
	u32 argsz;
	u32 size;
	u8 data[];
} __attribute__((packed));
_Static_assert(sizeof(struct vfu_mig_data) == 8, "mig data head 8");

/* ---- helpers ------------------------------------------------------------- */

const char *vfu_cmd_name(u16 cmd);

static inline u32 vfu_hdr_type(const struct vfu_hdr *h)
{
	return h->flags & VFU_F_TYPE_MASK;
}

/* Fill a header; size is header + payload_len. */
void vfu_hdr_init(struct vfu_hdr *h, u16 msg_id, u16 cmd, u32 payload_len,
		  u32 flags);

/*
 * errno of an ERROR reply as a negative number: 0, values above
 * VFU_MAX_ERRNO and what does not fit a positive int become -EIO.
 */
int vfu_reply_errno(const struct vfu_hdr *h);

/* Errno value to put in an error reply we send (never 0, never one that
 * makes libvfio-user drop the connection). */
u32 vfu_errno_for_reply(int err);

/*
 * Generic header check done before any body byte is read: size >= 16 and
 * <= max_size, type command or reply, no unknown flag bits.
 */
int vfu_check_hdr(const struct vfu_hdr *h, u32 max_size, char *why,
		  size_t why_len);

/*
 * A reply as the receiver of replies sees it (our client, or our server
 * for its DMA requests), given the request it answers. Checks id, cmd,
 * type, ERROR handling, payload size per command, echoed fields, the
 * number of fds and, for region info, the whole capability chain.
 * max_xfer is the largest data count we accept. Returns 0 or -EPROTO.
 */
int vfu_validate_reply(const struct vfu_hdr *req_hdr, const void *req,
		       u32 req_len, const struct vfu_hdr *rep_hdr,
		       const void *rep, u32 rep_len, unsigned int nr_fds,
		       char *why, size_t why_len);

/*
 * A command as the server receives it. max_xfer is the server's
 * max_data_xfer_size. Returns 0, -EINVAL (malformed: reply EINVAL) or
 * -ENOSYS (unknown or unsupported command).
 */
int vfu_validate_command(const struct vfu_hdr *h, const void *p, u32 len,
			 unsigned int nr_fds, u32 max_xfer, char *why,
			 size_t why_len);

/*
 * A server to client request (DMA_READ/DMA_WRITE) as the client receives
 * it. max_xfer is the client's max_data_xfer_size. Returns 0, -EINVAL or
 * -ENOSYS (unknown command).
 */
int vfu_validate_server_request(const struct vfu_hdr *h, const void *p,
				u32 len, unsigned int nr_fds, u32 max_xfer,
				char *why, size_t why_len);

/* ---- VERSION capabilities ------------------------------------------------ */

void vfu_caps_defaults(struct vfu_caps *caps);

/*
 * Parse the JSON of a VERSION payload (len bytes at json, NUL included).
 * Absent keys keep their defaults, unknown keys are ignored, known keys
 * of the wrong type or out of range fail with -EINVAL.
 */
int vfu_caps_parse(const char *json, size_t len, struct vfu_caps *caps,
		   char *why, size_t why_len);

/*
 * Write {"capabilities":{...}} for caps into buf (NUL-terminated).
 * Returns the length including the NUL, or -ENOSPC. twin_socket is
 * written as {"supported":true} plus fd_index when twin_fd_index_set.
 */
int vfu_caps_format(const struct vfu_caps *caps, char *buf, size_t len);

/* ---- region info capabilities -------------------------------------------- */

/*
 * Parse and check the capability chain of a full region info reply
 * (buf = the reply payload, len bytes, starting with vfu_region_info).
 * caps may be NULL to validate only. Checks: cap_offset and every next
 * inside the buffer and strictly increasing, headers and bodies fit,
 * nr_areas fits, every area inside the region and page aligned.
 */
int vfu_region_caps_parse(const void *buf, u32 len,
			  struct vfu_region_caps *caps, char *why,
			  size_t why_len);

#endif
