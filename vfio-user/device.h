/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VFIO_USER_DEVICE_H
#define UVMM_VFIO_USER_DEVICE_H

/*
 * The PCI function that fronts a vfio-user server: the one file that knows
 * both the VMM (struct vm, the PCI model, memslots, irqfds) and the client
 * library. Everything else in vfio-user/ stands alone.
 */

#include "vmm/config.h"

struct vm;
struct pci_function;
struct vfu_device;

/*
 * Connects to the server (retrying while the socket is absent, up to
 * cfg->wait_seconds), hands it guest RAM with DMA_MAP, reads its regions
 * and IRQs and builds a PCI function from its config space. The function
 * still has to be added to the host bridge (vfu_device_function()).
 * On error, err holds one line naming the device and the cause.
 */
int vfu_device_create(struct vm *vm, const struct device_config *cfg,
		      unsigned int index, struct vfu_device **out, char *err,
		      size_t err_len);
struct pci_function *vfu_device_function(struct vfu_device *dev);
/* After the function got its slot: wires INTx, the mode it starts in. */
int vfu_device_attached(struct vfu_device *dev);
void vfu_device_destroy(struct vfu_device *dev);
/* The guest reset the machine: DEVICE_RESET, unless the device is dead. */
void vfu_device_guest_reset(struct vfu_device *dev);

/* The device's log name, "vfio-user[N]". */
const char *vfu_device_name(struct vfu_device *dev);

#endif
