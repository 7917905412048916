// SPDX-License-Identifier: MIT
/*
 * Writes the seed corpus of the fuzz targets: a few valid inputs of each
 * kind, built from the same structs and encoders uvmm uses, so the seeds
 * stay right when a layout changes. `make fuzz-corpus` runs it into
 * tests/fuzz/corpus/; the output is committed and reproducible (no time,
 * no randomness).
 *
 *	gen-corpus DIR	writes DIR/TARGET/SEED for every target
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/types.h"
#include "vfio-user/protocol.h"
#include "nvme/ctrl.h"
#include "vmm/bzimage.h"
#include "vmm/multiboot.h"
#include "vmm/pvh.h"

static const char *out_dir;

/* A growing byte buffer. */
struct buf {
	u8 data[16384];
	size_t len;
};

static void put(struct buf *b, const void *p, size_t len)
{
	if (b->len + len > sizeof(b->data)) {
		fprintf(stderr, "gen-corpus: seed too large\n");
		exit(1);
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
}

static void put8(struct buf *b, u8 v) { put(b, &v, 1); }
static void put16(struct buf *b, u16 v) { put(b, &v, 2); }
static void put32(struct buf *b, u32 v) { put(b, &v, 4); }
static void put64(struct buf *b, u64 v) { put(b, &v, 8); }

static void emit(const char *target, const char *seed, const struct buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, seed);
	f = fopen(path, "we");
	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void put_hdr(struct buf *b, u16 id, u16 cmd, u32 payload, u32 flags)
{
	struct vfu_hdr h;

	vfu_hdr_init(&h, id, cmd, payload, flags);
	put(b, &h, sizeof(h));
}

static const char client_json[] =
	"{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
	"\"twin_socket\":{\"supported\":true}}}";
static const char server_json[] =
	"{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
	"\"pgsizes\":4096,\"max_dma_maps\":65535}}";

/* ---- region info with a sparse mmap and a type capability ------------- */

static u32 put_region_info(struct buf *b, u32 index, bool with_caps,
			   bool mmap)
{
	struct vfu_region_info ri = {
		.argsz = sizeof(ri),
		.flags = VFU_REGION_F_READ | VFU_REGION_F_WRITE |
			 (mmap ? VFU_REGION_F_MMAP : 0),
		.index = index,
		.size = 0x4000,
	};
	struct vfu_cap_sparse_mmap sm = {
		.header = { VFU_CAP_SPARSE_MMAP, 1, 0 },
		.nr_areas = 2,
	};
	struct vfu_sparse_area areas[2] = { { 0x0, 0x1000 }, { 0x2000, 0x2000 } };
	struct vfu_cap_type ct = {
		.header = { VFU_CAP_TYPE, 1, 0 },
		.type = 1, .subtype = 2,
	};

	if (with_caps) {
		ri.flags |= VFU_REGION_F_CAPS;
		ri.cap_offset = sizeof(ri);
		sm.header.next = sizeof(ri) + sizeof(sm) + sizeof(areas);
		ri.argsz = sm.header.next + sizeof(ct);
	}
	put(b, &ri, sizeof(ri));
	if (with_caps) {
		put(b, &sm, sizeof(sm));
		put(b, areas, sizeof(areas));
		put(b, &ct, sizeof(ct));
	}
	return ri.argsz;
}

/* ---- fuzz_vfu_reply: [sel][bits][p1][p2][p3][p4][reply] ----------------- */

static unsigned int reply_sel(u16 cmd)
{
	/* Must match request_cmds[] in fuzz_vfu_reply.c. */
	static const u16 order[] = {
		VFU_CMD_VERSION, VFU_CMD_DMA_MAP, VFU_CMD_DMA_UNMAP,
		VFU_CMD_DEVICE_GET_INFO, VFU_CMD_DEVICE_GET_REGION_INFO,
		VFU_CMD_DEVICE_GET_REGION_IO_FDS, VFU_CMD_DEVICE_GET_IRQ_INFO,
		VFU_CMD_DEVICE_SET_IRQS, VFU_CMD_REGION_READ,
		VFU_CMD_REGION_WRITE, VFU_CMD_DMA_READ, VFU_CMD_DMA_WRITE,
		VFU_CMD_DEVICE_RESET,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(order); i++)
		if (order[i] == cmd)
			return i;
	exit(1);
}

static void reply_prefix(struct buf *b, u16 cmd, u8 nr_fds, u32 p1, u32 p2,
			 u64 p3, u64 p4)
{
	b->len = 0;
	put8(b, reply_sel(cmd));
	put8(b, nr_fds);
	put32(b, p1);
	put32(b, p2);
	put64(b, p3);
	put64(b, p4);
}

static void gen_vfu_reply(void)
{
	struct buf b, payload;
	struct vfu_device_info di = { sizeof(di), VFU_DEVICE_F_PCI | VFU_DEVICE_F_RESET, 9, 5 };
	struct vfu_irq_info ii = { sizeof(ii), VFU_IRQ_INFO_F_EVENTFD, VFU_IRQ_MSIX, 16 };
	struct vfu_dma_unmap du = { sizeof(du), 0, 0x100000, 0x10000 };
	struct vfu_region_access ra = { 0x10, 0, 8 };
	struct vfu_dma_access da = { 0x200000, 8 };
	struct vfu_io_fds io = { 16 + 2 * sizeof(struct vfu_ioeventfd), 0, 0, 2 };
	struct vfu_ioeventfd ev[2] = {
		{ .offset = 0x100, .size = 4, .fd_index = 0 },
		{ .offset = 0x104, .size = 4, .fd_index = 1, .datamatch = 7 },
	};
	struct vfu_version v = { 0, 0 };
	struct vfu_hdr err;
	u32 argsz;
	u8 data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	reply_prefix(&b, VFU_CMD_VERSION, 0, 0, 0, 0, 0);
	put_hdr(&b, 0, VFU_CMD_VERSION, sizeof(v) + sizeof(server_json),
		VFU_F_TYPE_REPLY);
	put(&b, &v, sizeof(v));
	put(&b, server_json, sizeof(server_json));
	emit("vfu_reply", "version", &b);

	reply_prefix(&b, VFU_CMD_DMA_MAP, 0, 3, 0x10000, 0, 0x100000);
	put_hdr(&b, 0, VFU_CMD_DMA_MAP, 0, VFU_F_TYPE_REPLY);
	emit("vfu_reply", "dma-map", &b);

	reply_prefix(&b, VFU_CMD_DMA_UNMAP, 0, 0, 0, du.addr, du.size);
	put_hdr(&b, 0, VFU_CMD_DMA_UNMAP, sizeof(du), VFU_F_TYPE_REPLY);
	put(&b, &du, sizeof(du));
	emit("vfu_reply", "dma-unmap", &b);

	reply_prefix(&b, VFU_CMD_DEVICE_GET_INFO, 0, 0, 0, 0, 0);
	put_hdr(&b, 0, VFU_CMD_DEVICE_GET_INFO, sizeof(di), VFU_F_TYPE_REPLY);
	put(&b, &di, sizeof(di));
	emit("vfu_reply", "device-info", &b);

	/* Short first answer, then the full one with caps and an fd. */
	payload.len = 0;
	argsz = put_region_info(&payload, 2, true, true);
	reply_prefix(&b, VFU_CMD_DEVICE_GET_REGION_INFO, 0, 2 << 1, 0, 0, 0);
	put_hdr(&b, 0, VFU_CMD_DEVICE_GET_REGION_INFO, 32, VFU_F_TYPE_REPLY);
	put(&b, payload.data, 32);
	emit("vfu_reply", "region-info-short", &b);
	reply_prefix(&b, VFU_CMD_DEVICE_GET_REGION_INFO, 1, 2 << 1 | 1, argsz,
		     0, 0);
	put_hdr(&b, 0, VFU_CMD_DEVICE_GET_REGION_INFO, payload.len,
		VFU_F_TYPE_REPLY);
	put(&b, payload.data, payload.len);
	emit("vfu_reply", "region-info-caps", &b);

	reply_prefix(&b, VFU_CMD_DEVICE_GET_REGION_IO_FDS, 2, 0 << 1 | 1,
		     io.argsz, 0, 0);
	put_hdr(&b, 0, VFU_CMD_DEVICE_GET_REGION_IO_FDS, io.argsz,
		VFU_F_TYPE_REPLY);
	put(&b, &io, sizeof(io));
	put(&b, ev, sizeof(ev));
	emit("vfu_reply", "io-fds", &b);

	reply_prefix(&b, VFU_CMD_DEVICE_GET_IRQ_INFO, 0, VFU_IRQ_MSIX, 0, 0, 0);
	put_hdr(&b, 0, VFU_CMD_DEVICE_GET_IRQ_INFO, sizeof(ii), VFU_F_TYPE_REPLY);
	put(&b, &ii, sizeof(ii));
	emit("vfu_reply", "irq-info", &b);

	reply_prefix(&b, VFU_CMD_REGION_READ, 0, ra.region, ra.count,
		     ra.offset, 0);
	put_hdr(&b, 0, VFU_CMD_REGION_READ, sizeof(ra) + 8, VFU_F_TYPE_REPLY);
	put(&b, &ra, sizeof(ra));
	put(&b, data, sizeof(data));
	emit("vfu_reply", "region-read", &b);

	reply_prefix(&b, VFU_CMD_REGION_WRITE, 0, ra.region, ra.count,
		     ra.offset, 0);
	put_hdr(&b, 0, VFU_CMD_REGION_WRITE, sizeof(ra), VFU_F_TYPE_REPLY);
	put(&b, &ra, sizeof(ra));
	emit("vfu_reply", "region-write", &b);

	reply_prefix(&b, VFU_CMD_DMA_READ, 0, 0, 0, da.addr, da.count);
	put_hdr(&b, 0, VFU_CMD_DMA_READ, sizeof(da) + 8, VFU_F_TYPE_REPLY);
	put(&b, &da, sizeof(da));
	put(&b, data, sizeof(data));
	emit("vfu_reply", "dma-read", &b);

	/* An error reply: errno 22, no payload. */
	reply_prefix(&b, VFU_CMD_DEVICE_RESET, 0, 0, 0, 0, 0);
	vfu_hdr_init(&err, 0, VFU_CMD_DEVICE_RESET, 0,
		     VFU_F_TYPE_REPLY | VFU_F_ERROR);
	err.error_no = EINVAL;
	put(&b, &err, sizeof(err));
	emit("vfu_reply", "error", &b);
}

/* ---- fuzz_vfu_server_request: [bits][max_xfer][request] ---------------- */

static void gen_vfu_server_request(void)
{
	struct vfu_dma_access da = { 0x200000, 8 };
	u8 data[8] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4 };
	struct buf b = { .len = 0 };

	put8(&b, 0);
	put32(&b, 0);
	put_hdr(&b, 7, VFU_CMD_DMA_READ, sizeof(da), VFU_F_TYPE_COMMAND);
	put(&b, &da, sizeof(da));
	emit("vfu_server_request", "dma-read", &b);

	b.len = 0;
	put8(&b, 0);
	put32(&b, 0);
	put_hdr(&b, 8, VFU_CMD_DMA_WRITE, sizeof(da) + 8, VFU_F_TYPE_COMMAND);
	put(&b, &da, sizeof(da));
	put(&b, data, sizeof(data));
	emit("vfu_server_request", "dma-write", &b);
}

/* ---- fuzz_vfu_command: [fds][max_xfer][command] ------------------------ */

static void command(const char *seed, u8 nr_fds, u16 cmd, const void *p,
		    u32 len, const void *p2, u32 len2)
{
	struct buf b = { .len = 0 };

	put8(&b, nr_fds);
	put32(&b, 0);
	put_hdr(&b, 3, cmd, len + len2, VFU_F_TYPE_COMMAND);
	put(&b, p, len);
	if (len2)
		put(&b, p2, len2);
	emit("vfu_command", seed, &b);
}

static void gen_vfu_command(void)
{
	struct vfu_version v = { 0, 0 };
	struct vfu_dma_map dm = { sizeof(dm), VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE, 0, 0x100000, 0x10000 };
	struct vfu_dma_unmap du = { sizeof(du), 0, 0x100000, 0x10000 };
	struct vfu_dma_unmap du_all = { sizeof(du), VFU_DMA_UNMAP_F_ALL, 0, 0 };
	struct vfu_device_info di = { sizeof(di), 0, 0, 0 };
	struct vfu_region_info ri = { .argsz = sizeof(ri), .index = 2 };
	struct vfu_io_fds io = { sizeof(io), 0, 0, 0 };
	struct vfu_irq_info ii = { sizeof(ii), 0, VFU_IRQ_MSIX, 0 };
	struct vfu_irq_set is_fd = { sizeof(is_fd), VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER, VFU_IRQ_MSIX, 0, 2 };
	struct vfu_irq_set is_bool = { sizeof(is_bool) + 2, VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_ACTION_MASK, VFU_IRQ_MSIX, 1, 2 };
	struct vfu_region_access rr = { 0x10, 0, 4 };
	u8 bools[2] = { 1, 0 }, data[4] = { 9, 8, 7, 6 };

	command("version", 0, VFU_CMD_VERSION, &v, sizeof(v), client_json,
		sizeof(client_json));
	command("dma-map", 1, VFU_CMD_DMA_MAP, &dm, sizeof(dm), NULL, 0);
	command("dma-unmap", 0, VFU_CMD_DMA_UNMAP, &du, sizeof(du), NULL, 0);
	command("dma-unmap-all", 0, VFU_CMD_DMA_UNMAP, &du_all, sizeof(du_all),
		NULL, 0);
	command("device-info", 0, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di),
		NULL, 0);
	command("region-info", 0, VFU_CMD_DEVICE_GET_REGION_INFO, &ri,
		sizeof(ri), NULL, 0);
	command("io-fds", 0, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &io, sizeof(io),
		NULL, 0);
	command("irq-info", 0, VFU_CMD_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii),
		NULL, 0);
	command("set-irqs-eventfd", 2, VFU_CMD_DEVICE_SET_IRQS, &is_fd,
		sizeof(is_fd), NULL, 0);
	command("set-irqs-bool", 0, VFU_CMD_DEVICE_SET_IRQS, &is_bool,
		sizeof(is_bool), bools, sizeof(bools));
	command("region-read", 0, VFU_CMD_REGION_READ, &rr, sizeof(rr), NULL, 0);
	command("region-write", 0, VFU_CMD_REGION_WRITE, &rr, sizeof(rr), data,
		sizeof(data));
	command("reset", 0, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0);
}

/* ---- fuzz_vfu_caps: JSON text, NUL included ---------------------------- */

static void caps_seed(const char *seed, const char *json)
{
	struct buf b = { .len = 0 };

	put(&b, json, strlen(json) + 1);
	emit("vfu_caps", seed, &b);
}

static void gen_vfu_caps(void)
{
	struct vfu_caps caps;
	char json[512];
	int n;

	caps_seed("client", client_json);
	caps_seed("server", server_json);
	caps_seed("twin-fd-index",
		  "{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}");
	caps_seed("migration",
		  "{\"capabilities\":{\"max_msg_fds\":1,\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":1048576}},\"extra\":[1,2.5,null,\"x\"]}");
	caps_seed("empty-object", "{}");
	/* What vfu_caps_format writes for non-default values. */
	vfu_caps_defaults(&caps);
	caps.pgsizes = 8192;
	caps.max_dma_maps = 100;
	caps.twin_socket = true;
	caps.twin_fd_index_set = true;
	caps.twin_fd_index = 1;
	n = vfu_caps_format(&caps, json, sizeof(json));
	if (n < 0)
		exit(1);
	caps_seed("formatted", json);
}

/* ---- fuzz_pvh: ELF64 images with a PVH note ----------------------------- */

/* ehdr, phdrs (LOADs then the NOTE), the note, then the LOAD contents. */
static void pvh_image(struct buf *b, const u64 *paddr, const u64 *filesz,
		      const u64 *memsz, unsigned int nr_loads, u64 entry,
		      bool entry64)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = entry,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = nr_loads + 1,
	};
	Elf64_Nhdr nh = { 4, entry64 ? 8 : 4, XEN_ELFNOTE_PHYS32_ENTRY };
	u64 note_off = sizeof(eh) + (nr_loads + 1) * sizeof(Elf64_Phdr);
	u64 note_size = sizeof(nh) + 4 + (entry64 ? 8 : 4);
	u64 off = note_off + note_size;
	unsigned int i;
	u64 k;

	b->len = 0;
	put(b, &eh, sizeof(eh));
	for (i = 0; i < nr_loads; i++) {
		Elf64_Phdr ph = {
			.p_type = PT_LOAD, .p_flags = PF_R | PF_X,
			.p_offset = off, .p_vaddr = paddr[i], .p_paddr = paddr[i],
			.p_filesz = filesz[i], .p_memsz = memsz[i],
			.p_align = 16,
		};

		put(b, &ph, sizeof(ph));
		off += filesz[i];
	}
	{
		Elf64_Phdr ph = {
			.p_type = PT_NOTE, .p_flags = PF_R,
			.p_offset = note_off, .p_filesz = note_size,
			.p_memsz = note_size, .p_align = 4,
		};

		put(b, &ph, sizeof(ph));
	}
	put(b, &nh, sizeof(nh));
	put(b, "Xen", 4);
	if (entry64)
		put64(b, entry);
	else
		put32(b, (u32)entry);
	for (i = 0; i < nr_loads; i++)
		for (k = 0; k < filesz[i]; k++)
			put8(b, (u8)(0xf4 ^ k));	/* hlt, then a pattern */
}

static void gen_pvh(void)
{
	struct buf b;
	u64 one_addr[] = { 0x100000 }, one_file[] = { 64 }, one_mem[] = { 64 };
	u64 two_addr[] = { 0x100000, 0x200000 }, two_file[] = { 128, 32 },
	    two_mem[] = { 128, 0x3000 };
	u64 high_addr[] = { 0x100000, 0x100000000ull }, high_file[] = { 32, 32 },
	    high_mem[] = { 32, 0x1000 };

	pvh_image(&b, one_addr, one_file, one_mem, 1, 0x100000, false);
	emit("pvh", "one-segment", &b);
	pvh_image(&b, two_addr, two_file, two_mem, 2, 0x100010, true);
	emit("pvh", "two-segments-bss-entry64", &b);
	pvh_image(&b, high_addr, high_file, high_mem, 2, 0x100000, false);
	emit("pvh", "segment-above-4g", &b);
}

/* ---- fuzz_multiboot: 32-bit ELFs and a.out-kludge images ---------------- */

static void mb_header(struct buf *b, u32 flags)
{
	put32(b, MULTIBOOT_HEADER_MAGIC);
	put32(b, flags);
	put32(b, -(MULTIBOOT_HEADER_MAGIC + flags));
}

/* ehdr, one LOAD at paddr, the Multiboot header, then the contents. */
static void mb_elf(struct buf *b, u32 paddr, u32 filesz, u32 memsz)
{
	Elf32_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS32,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC,
		.e_machine = EM_386,
		.e_version = EV_CURRENT,
		.e_entry = paddr,
		.e_phoff = sizeof(Elf32_Ehdr),
		.e_ehsize = sizeof(Elf32_Ehdr),
		.e_phentsize = sizeof(Elf32_Phdr),
		.e_phnum = 1,
	};
	u32 off = sizeof(eh) + sizeof(Elf32_Phdr) + 12;
	Elf32_Phdr ph = {
		.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = off,
		.p_vaddr = paddr, .p_paddr = paddr, .p_filesz = filesz,
		.p_memsz = memsz, .p_align = 4,
	};
	u32 k;

	b->len = 0;
	put(b, &eh, sizeof(eh));
	put(b, &ph, sizeof(ph));
	mb_header(b, MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO);
	for (k = 0; k < filesz; k++)
		put8(b, (u8)(0xf4 ^ k));
}

static void gen_multiboot(void)
{
	struct buf b;
	u32 k;

	mb_elf(&b, 0x100000, 64, 64);
	emit("multiboot", "elf32-one-segment", &b);
	mb_elf(&b, 0x200000, 128, 0x3000);
	emit("multiboot", "elf32-bss", &b);
	/* a.out kludge: the whole file at 1 MiB, bss after it. */
	b.len = 0;
	mb_header(&b, MULTIBOOT_AOUT_KLUDGE | MULTIBOOT_MEMORY_INFO);
	put32(&b, 0x100000);		/* header_addr */
	put32(&b, 0x100000);		/* load_addr */
	put32(&b, 0);			/* load_end_addr: the whole file */
	put32(&b, 0x102000);		/* bss_end_addr */
	put32(&b, 0x100020);		/* entry_addr */
	for (k = 0; k < 96; k++)
		put8(&b, 0xf4);
	emit("multiboot", "aout-kludge", &b);
}

/* ---- fuzz_bzimage: [flags][bzImage] -------------------------------------- */

static void bzimage(struct buf *b, u8 flags, u8 relocatable, u64 pref)
{
	const unsigned int setup_sects = 1, kernel_size = 4096;
	struct setup_header h = {
		.setup_sects = setup_sects,
		.syssize = kernel_size / 16,
		.boot_flag = BZIMAGE_BOOT_FLAG,
		/* jmp over the header: its second byte is its length. */
		.jump = 0xeb | (u16)(0x26c - 0x202) << 8,
		.header = BZIMAGE_HDRS_MAGIC,
		.version = 0x020f,
		.loadflags = LOADED_HIGH,
		.code32_start = 0x100000,
		.initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 0x200000,
		.relocatable_kernel = relocatable,
		.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
		.cmdline_size = 2048,
		.pref_address = pref,
		.init_size = 0x20000,
	};
	u8 sector[512];
	unsigned int i;

	b->len = 0;
	put8(b, flags);
	memset(sector, 0, sizeof(sector));
	put(b, sector, BZIMAGE_HDR_OFFSET);
	put(b, &h, sizeof(h));
	put(b, sector, (setup_sects + 1) * 512 - BZIMAGE_HDR_OFFSET - sizeof(h));
	for (i = 0; i < kernel_size; i++)
		put8(b, (u8)i);
}

static void gen_bzimage(void)
{
	struct buf b;

	bzimage(&b, 0, 0, 0x100000);
	emit("bzimage", "fixed-1m", &b);
	/* initrd of 2 pages (minus 7 bytes) and a command line. */
	bzimage(&b, 1 << 2 | 3, 1, 0x200000);
	emit("bzimage", "relocatable-initrd-cmdline", &b);
}

/* ---- fuzz_config: arguments separated by NUL ----------------------------- */

static void config_seed(const char *seed, const char *const *args)
{
	struct buf b = { .len = 0 };
	unsigned int i;

	for (i = 0; args[i]; i++)
		put(&b, args[i], strlen(args[i]) + (args[i + 1] ? 1 : 0));
	emit("config", seed, &b);
}

static void gen_config(void)
{
	static const char *const all[] = {
		"-m", "512M", "--cpus", "2", "--device",
		"vfio-user,socket=/tmp/dev.sock,timeout-ms=100,wait=1,on-error=continue",
		"--serial", "file:/tmp/serial.txt", "--timeout", "5",
		"--debug-exit", "raw", "-vv", "--cmdline", "console=ttyS0",
		"--dump-dtb", "/tmp/x.dtb", "image.elf", NULL,
	};
	static const char *const bz[] = {
		"--memory=1GiB", "--initrd", "initrd.img", "--cmdline=quiet",
		"bzImage", NULL,
	};
	static const char *const bios[] = { "--bios", "rom.bin", "-c8", NULL };
	static const char *const help[] = { "--help", NULL };
	static const char *const bad[] = { "--device", "vfio-user,socket=", "x", NULL };

	config_seed("all-options", all);
	config_seed("bzimage-initrd", bz);
	config_seed("bios-only", bios);
	config_seed("help", help);
	config_seed("bad-device", bad);
}

/* ---- fuzz_vfu_client: a server's side of a whole conversation ------------- */

#define REC_FDS(n)	((u8)(n))
#define REC_PIECES	0x4u
#define REC_STALL	0x8u

/* One record: what the server sends with one sendmsg(). */
static void record(struct buf *b, u8 ctl, const struct buf *msg)
{
	put8(b, ctl);
	put16(b, (u16)msg->len);
	put(b, msg->data, msg->len);
}

static void reply(struct buf *conv, u8 ctl, u16 id, u16 cmd,
		  const void *p, u32 len)
{
	struct buf m = { .len = 0 };

	put_hdr(&m, id, cmd, len, VFU_F_TYPE_REPLY);
	if (len)
		put(&m, p, len);
	record(conv, ctl, &m);
}

/*
 * The replies to fuzz_vfu_client.c's drive(), in order; the client's ids
 * start at 0 (VERSION) and go up by one per request. odd adds short
 * reads, a receive timeout and server DMA requests on the way.
 */
static void conversation(struct buf *conv, bool odd)
{
	struct vfu_device_info di = { sizeof(di), VFU_DEVICE_F_PCI | VFU_DEVICE_F_RESET, 9, 5 };
	struct vfu_irq_info ii = { sizeof(ii), VFU_IRQ_INFO_F_EVENTFD, VFU_IRQ_MSIX, 4 };
	struct vfu_io_fds io_head = { 16 + 2 * sizeof(struct vfu_ioeventfd), 0, 0, 2 };
	struct vfu_ioeventfd ev[2] = {
		{ .offset = 0x100, .size = 4, .fd_index = 0 },
		{ .offset = 0x104, .size = 4, .fd_index = 1 },
	};
	struct vfu_dma_unmap du = { sizeof(du), 0, 0x100000, 0x10000 };
	struct vfu_region_access rd = { 0x10, 0, 8 }, cfg = { 0, VFU_PCI_CONFIG, 64 };
	struct vfu_dma_access dw = { 0x100000 + 0x800, 4 }, dr = { 0x100000, 16 };
	struct vfu_version v = { 0, 0 };
	struct buf m, ri;
	u8 data[64];
	u32 argsz;
	u16 id = 0;

	memset(data, 0x5a, sizeof(data));
	conv->len = 0;
	m.len = 0;
	put(&m, &v, sizeof(v));
	put(&m, server_json, sizeof(server_json));
	reply(conv, odd ? REC_PIECES : 0, id++, VFU_CMD_VERSION, m.data, m.len);
	reply(conv, 0, id++, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di));
	/* Region 0: a short answer, then the full one with caps and an fd. */
	ri.len = 0;
	argsz = put_region_info(&ri, 0, true, true);
	reply(conv, 0, id++, VFU_CMD_DEVICE_GET_REGION_INFO, ri.data, 32);
	(void)argsz;
	reply(conv, REC_FDS(1) | (odd ? REC_STALL : 0), id++,
	      VFU_CMD_DEVICE_GET_REGION_INFO, ri.data, ri.len);
	/* Config space: no caps, no fd. */
	ri.len = 0;
	put_region_info(&ri, VFU_PCI_CONFIG, false, false);
	reply(conv, 0, id++, VFU_CMD_DEVICE_GET_REGION_INFO, ri.data, ri.len);
	reply(conv, 0, id++, VFU_CMD_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii));
	/* io fds: head only, then two entries with two fds. */
	reply(conv, 0, id++, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &io_head,
	      sizeof(io_head));
	m.len = 0;
	put(&m, &io_head, sizeof(io_head));
	put(&m, ev, sizeof(ev));
	reply(conv, REC_FDS(2), id++, VFU_CMD_DEVICE_GET_REGION_IO_FDS, m.data,
	      m.len);
	reply(conv, 0, id++, VFU_CMD_DMA_MAP, NULL, 0);
	reply(conv, 0, id++, VFU_CMD_DEVICE_SET_IRQS, NULL, 0);
	if (odd) {
		/* The server writes guest memory, then reads it back. */
		m.len = 0;
		put_hdr(&m, 100, VFU_CMD_DMA_WRITE, sizeof(dw) + 4,
			VFU_F_TYPE_COMMAND);
		put(&m, &dw, sizeof(dw));
		put(&m, data, 4);
		record(conv, REC_PIECES, &m);
		m.len = 0;
		put_hdr(&m, 101, VFU_CMD_DMA_READ, sizeof(dr), VFU_F_TYPE_COMMAND);
		put(&m, &dr, sizeof(dr));
		record(conv, 0, &m);
	}
	m.len = 0;
	put(&m, &rd, sizeof(rd));
	put(&m, data, 8);
	reply(conv, 0, id++, VFU_CMD_REGION_READ, m.data, m.len);
	reply(conv, odd ? REC_PIECES : 0, id++, VFU_CMD_REGION_WRITE, &rd,
	      sizeof(rd));
	m.len = 0;
	put(&m, &cfg, sizeof(cfg));
	put(&m, data, 64);
	reply(conv, 0, id++, VFU_CMD_REGION_READ, m.data, m.len);
	reply(conv, 0, id++, VFU_CMD_DMA_UNMAP, &du, sizeof(du));
	reply(conv, 0, id++, VFU_CMD_DEVICE_RESET, NULL, 0);
}

/* ---- fuzz_vfu_server: a client's side of a whole conversation ------------- */

#define REC_MEMFD	0x4u

static void cmd_record(struct buf *conv, u8 ctl, u16 id, u16 cmd,
		       const void *p, u32 len, const void *p2, u32 len2)
{
	struct buf m = { .len = 0 };

	put_hdr(&m, id, cmd, len + len2, VFU_F_TYPE_COMMAND);
	if (len)
		put(&m, p, len);
	if (len2)
		put(&m, p2, len2);
	record(conv, ctl, &m);
}

static void client_conversation(struct buf *conv, bool twin)
{
	static const char plain_json[] =
		"{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":4096}}";
	struct vfu_version v = { 0, 0 };
	struct vfu_dma_map dm = { sizeof(dm), VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE, 0x1000, 0x100000, 0x8000 };
	struct vfu_dma_unmap du = { sizeof(du), 0, 0x100000, 0x8000 };
	struct vfu_device_info di = { sizeof(di), 0, 0, 0 };
	struct vfu_region_info r0 = { .argsz = sizeof(r0), .index = 0 };
	struct vfu_region_info r7 = { .argsz = sizeof(r7), .index = VFU_PCI_CONFIG };
	struct vfu_irq_info ii = { sizeof(ii), 0, VFU_IRQ_MSIX, 0 };
	struct vfu_irq_set is = { sizeof(is), VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER, VFU_IRQ_MSIX, 0, 2 };
	struct vfu_irq_set trig = { sizeof(trig), VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER, VFU_IRQ_MSIX, 1, 1 };
	struct vfu_region_access wr = { 0x20, 0, 4 }, rd = { 0x20, 0, 4 },
				 cfg = { 0, VFU_PCI_CONFIG, 64 };
	u8 data[4] = { 1, 2, 3, 4 };
	u16 id = 0;

	conv->len = 0;
	if (twin)
		cmd_record(conv, 0, id++, VFU_CMD_VERSION, &v, sizeof(v),
			   client_json, sizeof(client_json));
	else
		cmd_record(conv, 0, id++, VFU_CMD_VERSION, &v, sizeof(v),
			   plain_json, sizeof(plain_json));
	cmd_record(conv, REC_FDS(1) | REC_MEMFD, id++, VFU_CMD_DMA_MAP, &dm,
		   sizeof(dm), NULL, 0);
	cmd_record(conv, 0, id++, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di),
		   NULL, 0);
	cmd_record(conv, 0, id++, VFU_CMD_DEVICE_GET_REGION_INFO, &r0,
		   sizeof(r0), NULL, 0);
	cmd_record(conv, 0, id++, VFU_CMD_DEVICE_GET_REGION_INFO, &r7,
		   sizeof(r7), NULL, 0);
	cmd_record(conv, 0, id++, VFU_CMD_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii),
		   NULL, 0);
	cmd_record(conv, REC_FDS(2), id++, VFU_CMD_DEVICE_SET_IRQS, &is,
		   sizeof(is), NULL, 0);
	cmd_record(conv, 0, id++, VFU_CMD_DEVICE_SET_IRQS, &trig, sizeof(trig),
		   NULL, 0);
	cmd_record(conv, 0, id++, VFU_CMD_REGION_WRITE, &wr, sizeof(wr), data,
		   sizeof(data));
	cmd_record(conv, 0, id++, VFU_CMD_REGION_READ, &rd, sizeof(rd), NULL, 0);
	cmd_record(conv, 0, id++, VFU_CMD_REGION_READ, &cfg, sizeof(cfg), NULL,
		   0);
	cmd_record(conv, 0, id++, VFU_CMD_DMA_UNMAP, &du, sizeof(du), NULL, 0);
	cmd_record(conv, 0, id++, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0);
}

static void gen_vfu_server(void)
{
	struct buf conv;

	client_conversation(&conv, false);
	emit("vfu_server", "conversation", &conv);
	client_conversation(&conv, true);
	emit("vfu_server", "conversation-twin-socket", &conv);
}

static void gen_vfu_client(void)
{
	struct buf conv;

	conversation(&conv, false);
	emit("vfu_client", "conversation", &conv);
	conversation(&conv, true);
	emit("vfu_client", "conversation-dma-pieces-stall", &conv);
}


/* ---- nvme: operations on the controller model (fuzz_nvme.c) ---------------- */

#define NV_MEM	0x100000ull

static void nv_write(struct buf *b, u16 off, u8 lenc, u64 v)
{
	put8(b, 0);
	put16(b, off);
	put8(b, lenc);
	put64(b, v);
}

static void nv_sqe(struct buf *b, u64 addr, const struct nvme_sqe *s)
{
	put8(b, 2);
	put16(b, (u16)((addr - NV_MEM) / 64));
	put(b, s, sizeof(*s));
}

static void nv_u64(struct buf *b, u64 addr, u64 v)
{
	put8(b, 3);
	put16(b, (u16)((addr - NV_MEM) / 8));
	put64(b, v);
}

/* Admin command at slot tail of the ASQ, rung and processed. */
static void nv_admin(struct buf *b, unsigned int *tail, struct nvme_sqe *s)
{
	s->cdw0 |= (u32)(*tail + 1) << 16;
	nv_sqe(b, NV_MEM + *tail * 64, s);
	*tail = (*tail + 1) % 8;
	nv_write(b, NVME_DOORBELL_BASE, 2, *tail);
	put8(b, 4);
}

static void gen_nvme(void)
{
	struct nvme_sqe s;
	struct buf b = { .len = 0 };
	unsigned int tail = 0, i;

	put8(&b, 0);
	put8(&b, 6);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_IDENTIFY, .prp1 = NV_MEM + 0x2000,
			       .cdw10 = 1 };
	nv_admin(&b, &tail, &s);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_GET_LOG, .prp1 = NV_MEM + 0x2000,
			       .cdw10 = NVME_LOG_SMART | 127u << 16 };
	nv_admin(&b, &tail, &s);
	emit("nvme", "identify-log", &b);

	/* I/O pair 1, a 16 KiB write through a PRP list and a read back. */
	b.len = 0;
	tail = 0;
	put8(&b, 0);
	put8(&b, 6);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_CREATE_CQ, .prp1 = NV_MEM + 0x3000,
			       .cdw10 = 7u << 16 | 1, .cdw11 = 1u << 16 | 3 };
	nv_admin(&b, &tail, &s);
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_CREATE_SQ, .prp1 = NV_MEM + 0x4000,
			       .cdw10 = 7u << 16 | 1, .cdw11 = 1u << 16 | 1 };
	nv_admin(&b, &tail, &s);
	for (i = 0; i < 3; i++)
		nv_u64(&b, NV_MEM + 0x6000 + 8 * i, NV_MEM + 0x9000 + 0x1000 * i);
	s = (struct nvme_sqe){ .cdw0 = NVME_CMD_WRITE | 1u << 16, .nsid = 1,
			       .prp1 = NV_MEM + 0x8000, .prp2 = NV_MEM + 0x6000,
			       .cdw10 = 4, .cdw12 = 31 };
	nv_sqe(&b, NV_MEM + 0x4000, &s);
	s.cdw0 = NVME_CMD_READ | 2u << 16;
	nv_sqe(&b, NV_MEM + 0x4040, &s);
	s = (struct nvme_sqe){ .cdw0 = NVME_CMD_DSM | 3u << 16, .nsid = 1,
			       .prp1 = NV_MEM + 0x7000, .cdw11 = 4 };
	nv_sqe(&b, NV_MEM + 0x4080, &s);
	nv_u64(&b, NV_MEM + 0x7000, 8ull << 32);
	nv_u64(&b, NV_MEM + 0x7008, 16);
	nv_write(&b, NVME_DOORBELL_BASE + 8, 2, 3);
	put8(&b, 4);
	nv_write(&b, NVME_DOORBELL_BASE + 12, 2, 3);
	emit("nvme", "io-queue-prp-list-dsm", &b);

	/* Shadow doorbells on that pair. */
	s = (struct nvme_sqe){ .cdw0 = NVME_ADM_DBBUF_CONFIG,
			       .prp1 = NV_MEM + 0x10000, .prp2 = NV_MEM + 0x11000 };
	nv_admin(&b, &tail, &s);
	nv_u64(&b, NV_MEM + 0x10008, 4);
	s = (struct nvme_sqe){ .cdw0 = NVME_CMD_FLUSH | 4u << 16, .nsid = 1 };
	nv_sqe(&b, NV_MEM + 0x40c0, &s);
	nv_write(&b, NVME_DOORBELL_BASE + 8, 2, 4);
	put8(&b, 4);
	put8(&b, 5);
	emit("nvme", "dbbuf-reset", &b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-corpus DIR\n");
		return 2;
	}
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) && errno != EEXIST) {
		perror(out_dir);
		return 1;
	}
	gen_vfu_reply();
	gen_vfu_server_request();
	gen_vfu_command();
	gen_vfu_caps();
	gen_pvh();
	gen_multiboot();
	gen_bzimage();
	gen_config();
	gen_vfu_client();
	gen_vfu_server();
	gen_nvme();
	return 0;
}
