/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VFIO_USER_DISCOVER_H
#define UVMM_VFIO_USER_DISCOVER_H

/*
 * What a vfio-user server offers as a PCI device, read and checked over a
 * connected client: DEVICE_GET_INFO, the regions of a PCI device (sizes,
 * flags, mmap-able fds and sparse areas), the IRQ counts and its config
 * space. It knows nothing of the VM: vfio-user/device.c builds a PCI
 * function from an offer, and compares the offer of a server that came
 * back after a restart with the one its function was built from.
 */

#include "common/types.h"
#include "vfio-user/client.h"
#include "vfio-user/protocol.h"

/* The regions a PCI function is made of: BAR0-5, the ROM, config space. */
#define VFU_OFFER_REGIONS	(VFU_PCI_CONFIG + 1)
/* INTx, MSI, MSI-X: the kinds a PCI function uses. */
#define VFU_OFFER_IRQ_KINDS	(VFU_IRQ_MSIX + 1)
/* ECAM reaches 4 KiB of config space; more is not read. */
#define VFU_OFFER_CONFIG_MAX	4096u

/*
 * Bounds on what a server may claim
 * (docs/vfio-user.md, "Limits on what a server claims").
 */
#define VFU_MAX_REGIONS		100
#define VFU_MAX_IRQS		50
#define VFU_MAX_BAR_SIZE	(64ULL * 1024 * 1024 * 1024)

struct vfu_offer_region {
	u64 size;
	u32 flags;
	int fd;			/* mmap-able backing or -1; the offer's */
	u64 fd_offset;		/* where the region starts in fd */
	struct vfu_region_caps caps;
};

struct vfu_offer {
	u32 flags;		/* DEVICE_GET_INFO */
	u32 num_regions;
	u32 num_irqs;
	struct vfu_offer_region regions[VFU_OFFER_REGIONS];
	/* Clamped to what PCI allows: INTx 1, MSI 32, MSI-X 2048. */
	u32 irq_count[VFU_OFFER_IRQ_KINDS];
	u32 config_size;	/* bytes of config read, <= 4096 */
	u8 config[VFU_OFFER_CONFIG_MAX];
};

/*
 * Reads and checks what the server behind c offers. On error, err holds
 * one line starting with name, and nothing is left open.
 */
int vfu_discover(struct vfu_client *c, const char *name, struct vfu_offer *o,
		 char *err, size_t err_len);
/* Closes the fds the offer still holds. */
void vfu_offer_release(struct vfu_offer *o);
/* len (1, 2, 4) bytes of the config space read, little-endian; 0 outside. */
u32 vfu_offer_config(const struct vfu_offer *o, u32 off, u32 len);

/*
 * Whether got offers the same device as want: IDs, class, revision,
 * header type, interrupt pin, BAR types, capability pointer, regions'
 * sizes and flags, IRQ counts. Returns 0, or -ENODEV with why naming the
 * first difference.
 */
int vfu_offer_compare(const struct vfu_offer *want, const struct vfu_offer *got,
		      char *why, size_t why_len);

#endif
