// SPDX-License-Identifier: MIT
/*
 * Discovery: what a vfio-user server offers as a PCI device, checked
 * before anything is built from it, and compared again when a server
 * comes back after a restart (vfio-user/device.c, on-error=reconnect).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "vfio-user/discover.h"

u32 vfu_offer_config(const struct vfu_offer *o, u32 off, u32 len)
{
	u32 val = 0;

	if (off + len > o->config_size)
		return 0;
	memcpy(&val, &o->config[off], len);
	return val;
}

void vfu_offer_release(struct vfu_offer *o)
{
	unsigned int i;

	for (i = 0; i < VFU_OFFER_REGIONS; i++) {
		if (o->regions[i].fd >= 0)
			close(o->regions[i].fd);
		o->regions[i].fd = -1;
	}
}

static int discover_regions(struct vfu_client *c, const char *name,
			    struct vfu_offer *o, char *err, size_t err_len)
{
	unsigned int i;
	int ret;

	for (i = 0; i < VFU_OFFER_REGIONS; i++) {
		struct vfu_offer_region *r = &o->regions[i];
		struct vfu_client_region info;

		memset(&info, 0, sizeof(info));
		info.fd = -1;
		ret = vfu_client_region_info(c, i, &info);
		if (ret) {
			snprintf(err, err_len, "%s: region %u info: %s", name,
				 i, strerror(-ret));
			return ret;
		}
		r->size = info.info.size;
		r->flags = info.info.flags;
		r->fd = info.fd;
		r->fd_offset = info.info.offset;
		r->caps = info.caps;
		if (i < VFU_PCI_CONFIG && r->size &&
		    ((r->size & (r->size - 1)) || r->size > VFU_MAX_BAR_SIZE)) {
			snprintf(err, err_len,
				 "%s: region %u size %#llx is not a power of two up to 64 GiB",
				 name, i, (unsigned long long)r->size);
			return -EINVAL;
		}
	}
	if (o->regions[VFU_PCI_CONFIG].size < 256) {
		snprintf(err, err_len, "%s: config region is %llu bytes, at least 256 needed",
			 name, (unsigned long long)o->regions[VFU_PCI_CONFIG].size);
		return -EINVAL;
	}
	return 0;
}

static int discover_irqs(struct vfu_client *c, const char *name,
			 struct vfu_offer *o, char *err, size_t err_len)
{
	unsigned int i;
	int ret;

	for (i = 0; i < VFU_OFFER_IRQ_KINDS && i < o->num_irqs; i++) {
		struct vfu_irq_info irq;

		ret = vfu_client_irq_info(c, i, &irq);
		if (ret) {
			snprintf(err, err_len, "%s: irq %u info: %s", name, i,
				 strerror(-ret));
			return ret;
		}
		o->irq_count[i] = irq.count;
	}
	/* MSI at most 32, MSI-X at most 2048, INTx 1 (docs/vfio-user.md). */
	o->irq_count[VFU_IRQ_INTX] = MIN(o->irq_count[VFU_IRQ_INTX], 1u);
	o->irq_count[VFU_IRQ_MSI] = MIN(o->irq_count[VFU_IRQ_MSI], 32u);
	o->irq_count[VFU_IRQ_MSIX] = MIN(o->irq_count[VFU_IRQ_MSIX], 2048u);
	return 0;
}

int vfu_discover(struct vfu_client *c, const char *name, struct vfu_offer *o,
		 char *err, size_t err_len)
{
	struct vfu_device_info info;
	unsigned int i;
	u16 vendor;
	int ret;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < VFU_OFFER_REGIONS; i++)
		o->regions[i].fd = -1;
	ret = vfu_client_device_get_info(c, &info);
	if (ret) {
		snprintf(err, err_len, "%s: DEVICE_GET_INFO: %s", name,
			 strerror(-ret));
		return ret;
	}
	o->flags = info.flags;
	o->num_regions = info.num_regions;
	o->num_irqs = info.num_irqs;
	if (!(info.flags & VFU_DEVICE_F_PCI) ||
	    info.num_regions <= VFU_PCI_CONFIG ||
	    info.num_regions > VFU_MAX_REGIONS || info.num_irqs > VFU_MAX_IRQS) {
		snprintf(err, err_len,
			 "%s: not a usable PCI device (flags %#x, %u regions, %u irqs)",
			 name, info.flags, info.num_regions, info.num_irqs);
		return -EINVAL;
	}
	ret = discover_regions(c, name, o, err, err_len);
	if (!ret)
		ret = discover_irqs(c, name, o, err, err_len);
	if (ret)
		goto fail;
	o->config_size = MIN(o->regions[VFU_PCI_CONFIG].size,
			     (u64)VFU_OFFER_CONFIG_MAX);
	ret = vfu_client_region_read(c, VFU_PCI_CONFIG, 0, o->config,
				     o->config_size);
	if (ret) {
		snprintf(err, err_len, "%s: reading config space: %s", name,
			 strerror(-ret));
		goto fail;
	}
	vendor = vfu_offer_config(o, PCI_VENDOR_ID, 2);
	if (vendor == 0xffff || vendor == 0) {
		snprintf(err, err_len, "%s: config space has no vendor ID (%#x)",
			 name, vendor);
		ret = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	vfu_offer_release(o);
	return ret;
}

/* The config registers that say which device this is (not its state). */
static const struct {
	u8 off, len;
	const char *name;
} identity[] = {
	{ PCI_VENDOR_ID, 2, "vendor ID" },
	{ PCI_DEVICE_ID, 2, "device ID" },
	{ PCI_REVISION_ID, 1, "revision" },
	{ PCI_CLASS_PROG, 1, "programming interface" },
	{ PCI_CLASS_DEVICE, 2, "class" },
	{ PCI_HEADER_TYPE, 1, "header type" },
	{ PCI_SUBSYSTEM_VENDOR_ID, 2, "subsystem vendor ID" },
	{ PCI_SUBSYSTEM_ID, 2, "subsystem ID" },
	{ PCI_CAPABILITY_LIST, 1, "capability pointer" },
	{ PCI_INTERRUPT_PIN, 1, "interrupt pin" },
};

int vfu_offer_compare(const struct vfu_offer *want, const struct vfu_offer *got,
		      char *why, size_t why_len)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(identity); i++) {
		u32 a = vfu_offer_config(want, identity[i].off, identity[i].len);
		u32 b = vfu_offer_config(got, identity[i].off, identity[i].len);

		if (a != b) {
			snprintf(why, why_len, "%s %#x, was %#x",
				 identity[i].name, b, a);
			return -ENODEV;
		}
	}
	for (i = 0; i < VFU_OFFER_REGIONS; i++) {
		const struct vfu_offer_region *a = &want->regions[i];
		const struct vfu_offer_region *b = &got->regions[i];

		if (a->size != b->size || a->flags != b->flags) {
			snprintf(why, why_len,
				 "region %u is %#llx bytes, flags %#x; was %#llx, flags %#x",
				 i, (unsigned long long)b->size, b->flags,
				 (unsigned long long)a->size, a->flags);
			return -ENODEV;
		}
		/* A BAR's type bits: I/O or memory, 32/64-bit, prefetch. */
		if (i < 6 && (vfu_offer_config(want, PCI_BASE_ADDRESS_0 + 4 * i, 4) & 0xf) !=
			     (vfu_offer_config(got, PCI_BASE_ADDRESS_0 + 4 * i, 4) & 0xf)) {
			snprintf(why, why_len, "BAR%u has another type", i);
			return -ENODEV;
		}
	}
	for (i = 0; i < VFU_OFFER_IRQ_KINDS; i++) {
		if (want->irq_count[i] != got->irq_count[i]) {
			snprintf(why, why_len, "irq index %u has %u vectors, was %u",
				 i, got->irq_count[i], want->irq_count[i]);
			return -ENODEV;
		}
	}
	if (want->config_size != got->config_size) {
		snprintf(why, why_len, "config space is %u bytes, was %u",
			 got->config_size, want->config_size);
		return -ENODEV;
	}
	return 0;
}
