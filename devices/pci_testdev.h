/* SPDX-License-Identifier: MIT */
#ifndef UVMM_PCI_TESTDEV_H
#define UVMM_PCI_TESTDEV_H

#include "abi/pci_testdev.h"
#include "common/types.h"

/* The built-in PCI test function; its register map: abi/pci_testdev.h. */

struct dev_services;
struct pci_host;
struct pci_testdev;

/* Adds the function at the first free slot of host's bus 0. */
int pci_testdev_create(const struct dev_services *svc, struct pci_host *host,
		       struct pci_testdev **out);
/* The function belongs to the host; this frees the device's own state. */
void pci_testdev_destroy(struct pci_testdev *dev);

#endif
