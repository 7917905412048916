// SPDX-License-Identifier: MIT
/*
 * The built-in PCI test function (see pci_testdev.h): small on purpose,
 * its job is to put every feature of the function model in front of a
 * guest.
 */
#define LOG_PREFIX "pci-testdev"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "devices/pci_testdev.h"
#include "vmm/services.h"

struct pci_testdev {
	struct pci_function *fn;
	/* Scratch registers, one per BAR; accessed atomically. */
	u32 scratch[PCI_NUM_REGIONS];
	u32 raised;
	/* The ioeventfd doorbell: registered while BAR0 decodes. */
	const struct dev_services *svc;
	int doorbell_fd;
	bool doorbell_on;
	struct vm_ioeventfd doorbell;
	u32 doorbells;		/* rung and counted; atomic */
};

/* The doorbell's eventfd signals so far, plus the trapped rings. */
static u32 pci_testdev_doorbells(struct pci_testdev *dev)
{
	u64 n;

	if (dev->doorbell_fd >= 0 &&
	    read(dev->doorbell_fd, &n, sizeof(n)) == sizeof(n))
		__atomic_fetch_add(&dev->doorbells, (u32)n, __ATOMIC_RELAXED);
	return __atomic_load_n(&dev->doorbells, __ATOMIC_RELAXED);
}

static void pci_testdev_remap(struct pci_function *fn, unsigned int bar,
			  struct pci_bar_window old_win,
			  struct pci_bar_window new_win)
{
	struct pci_testdev *dev = pci_function_priv(fn);

	(void)old_win;
	if (bar != PCI_TESTDEV_BAR_REGS || dev->doorbell_fd < 0)
		return;
	if (dev->doorbell_on)
		svc_ioeventfd(dev->svc, &dev->doorbell, false);
	dev->doorbell_on = false;
	if (!new_win.on)
		return;
	dev->doorbell = (struct vm_ioeventfd){
		.addr = new_win.addr + PCI_TESTDEV_REG_DOORBELL,
		.len = 4,
		.fd = dev->doorbell_fd,
	};
	dev->doorbell_on = !svc_ioeventfd(dev->svc, &dev->doorbell, true);
}

static u32 pattern_at(u64 off)
{
	return (u32)off ^ PCI_TESTDEV_PATTERN;
}

static void pci_testdev_read(struct pci_function *fn, unsigned int bar, u64 off,
			 void *data, u32 len)
{
	struct pci_testdev *dev = pci_function_priv(fn);
	u64 value = ~0ULL;
	unsigned int nr;

	if (bar == PCI_ROM_BAR && off < 2) {
		/* The expansion ROM signature, 0x55 0xaa. */
		value = off == 0 ? 0xaa55 : 0xaa;
	} else if (bar == PCI_TESTDEV_BAR_REGS &&
		   off == PCI_TESTDEV_REG_DOORBELLS) {
		value = pci_testdev_doorbells(dev);
	} else if (off == PCI_TESTDEV_REG_MAGIC) {
		value = PCI_TESTDEV_MAGIC;
	} else if (off == PCI_TESTDEV_REG_SCRATCH) {
		value = __atomic_load_n(&dev->scratch[bar], __ATOMIC_RELAXED);
	} else if (bar == PCI_TESTDEV_BAR_REGS &&
		   off == PCI_TESTDEV_REG_IRQ_MODE) {
		value = pci_irq_mode(fn, &nr);
		value |= (u64)nr << 16;
	} else if (bar == PCI_TESTDEV_BAR_REGS &&
		   off == PCI_TESTDEV_REG_RAISED) {
		value = __atomic_load_n(&dev->raised, __ATOMIC_RELAXED);
	} else if (off >= PCI_TESTDEV_PATTERN_START) {
		/* A pattern per dword; an 8-byte read gets two of them. */
		u64 base = off & ~3ULL;

		value = pattern_at(base) | (u64)pattern_at(base + 4) << 32;
		value >>= 8 * (off & 3);
	}
	memcpy(data, &value, MIN(len, (u32)sizeof(value)));
}

static void pci_testdev_raise(struct pci_testdev *dev, enum pci_irq_mode mode, u32 vector)
{
	struct pci_function *fn = dev->fn;
	int ret;

	switch (mode) {
	case PCI_IRQ_MSIX:
		ret = pci_msix_notify(fn, vector);
		break;
	case PCI_IRQ_MSI:
		ret = pci_msi_notify(fn, vector);
		break;
	default:
		ret = pci_intx_set_level(fn, true);
		break;
	}
	if (ret)
		log_debug("raising vector %u (mode %d): %s", vector, mode,
			  strerror(-ret));
	else
		__atomic_add_fetch(&dev->raised, 1, __ATOMIC_RELAXED);
}

static void pci_testdev_write(struct pci_function *fn, unsigned int bar, u64 off,
			  const void *data, u32 len)
{
	struct pci_testdev *dev = pci_function_priv(fn);
	u32 value = 0;

	if (off & 3 || len < 4)
		return;		/* dword registers only */
	memcpy(&value, data, 4);
	if (off == PCI_TESTDEV_REG_SCRATCH) {
		__atomic_store_n(&dev->scratch[bar], value, __ATOMIC_RELAXED);
		return;
	}
	if (bar != PCI_TESTDEV_BAR_REGS)
		return;
	switch (off) {
	case PCI_TESTDEV_REG_MSIX:
		pci_testdev_raise(dev, PCI_IRQ_MSIX, value);
		break;
	case PCI_TESTDEV_REG_MSI:
		pci_testdev_raise(dev, PCI_IRQ_MSI, value);
		break;
	case PCI_TESTDEV_REG_INTX:
		if (value & 1)
			pci_testdev_raise(dev, PCI_IRQ_INTX, 0);
		else
			pci_intx_set_level(fn, false);
		break;
	case PCI_TESTDEV_REG_RAISE:
		pci_testdev_raise(dev, pci_irq_mode(fn, NULL), value);
		break;
	case PCI_TESTDEV_REG_DOORBELL:
		__atomic_fetch_add(&dev->doorbells, 1, __ATOMIC_RELAXED);
		break;
	}
}

static const struct pci_function_ops pci_testdev_ops = {
	.bar_read = pci_testdev_read,
	.bar_write = pci_testdev_write,
	.bar_remap = pci_testdev_remap,
};

static const struct pci_function_info testdev_info = {
	.name = "pci-testdev",
	.vendor_id = PCI_TESTDEV_VENDOR_ID,
	.device_id = PCI_TESTDEV_DEVICE_ID,
	.subsystem_vendor_id = PCI_TESTDEV_VENDOR_ID,
	.subsystem_id = PCI_TESTDEV_DEVICE_ID,
	.class_code = PCI_TESTDEV_CLASS,
	.revision = 1,
	.irq_pin = 1,
	.bars = {
		[PCI_TESTDEV_BAR_REGS] = {
			.type = PCI_BAR_MEM32, .size = PCI_TESTDEV_REGS_SIZE,
		},
		[PCI_TESTDEV_BAR_IO] = {
			.type = PCI_BAR_IO, .size = PCI_TESTDEV_IO_SIZE,
		},
		[PCI_TESTDEV_BAR_MEM64] = {
			.type = PCI_BAR_MEM64, .size = PCI_TESTDEV_MEM64_SIZE,
			.prefetchable = true,
		},
		[PCI_TESTDEV_BAR_MSIX] = {
			.type = PCI_BAR_MEM32, .size = PCI_TESTDEV_MSIX_SIZE,
		},
	},
	.rom_size = PCI_TESTDEV_ROM_SIZE,
};

int pci_testdev_create(const struct dev_services *svc, struct pci_host *host,
		       struct pci_testdev **out)
{
	struct pci_testdev *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->svc = svc;
	/* Without ioeventfds in KVM the doorbell traps like any register. */
	dev->doorbell_fd = svc_has_ioeventfd(svc) ?
			   eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
	ret = pci_function_new(svc, &testdev_info, &pci_testdev_ops, dev,
				  &dev->fn);
	if (ret)
		goto err_free;
	ret = pci_msi_init(dev->fn, 0, PCI_TESTDEV_MSI_VECTORS, true, true);
	if (ret)
		goto err_fn;
	ret = pci_msix_init(dev->fn, 0, PCI_TESTDEV_MSIX_VECTORS,
			    PCI_TESTDEV_BAR_MSIX, 0, PCI_TESTDEV_BAR_MSIX,
			    PCI_TESTDEV_MSIX_PBA);
	if (ret)
		goto err_fn;
	ret = pci_host_add(host, dev->fn, -1);
	if (ret)
		goto err_fn;
	*out = dev;
	return 0;

err_fn:
	pci_function_destroy(dev->fn);
err_free:
	if (dev->doorbell_fd >= 0)
		close(dev->doorbell_fd);
	free(dev);
	log_debug("cannot create the PCI test function: %s", strerror(-ret));
	return ret;
}

void pci_testdev_destroy(struct pci_testdev *dev)
{
	if (!dev)
		return;
	if (dev->doorbell_on)
		svc_ioeventfd(dev->svc, &dev->doorbell, false);
	if (dev->doorbell_fd >= 0)
		close(dev->doorbell_fd);
	free(dev);
}
