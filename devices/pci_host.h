/* SPDX-License-Identifier: MIT */
#ifndef UVMM_PCI_HOST_H
#define UVMM_PCI_HOST_H

#include "abi/machine.h"

/*
 * The PCI host bridge: bus 0, reached through conf1 (ports 0xcf8/0xcfc)
 * and through ECAM; both lead to the same functions. It owns the host
 * bridge function at 00:00.0, assigns BAR addresses before the guest
 * starts (as firmware would), and runs the thread that re-asserts
 * built-in devices' INTx lines after an EOI.
 *
 * The address windows are in docs/design.md, "The machine"; the device
 * tree and the MP table describe them from these constants.
 */

#include "common/types.h"

struct dev_services;
struct pci_function;
struct pci_host;
struct mptable_intx;

#define PCI_ECAM_BUS_SHIFT 20
#define PCI_BUS_MAX 255
#define PCI_CONF1_ENABLE 0x80000000u

/* The host bridge's identity: QEMU's generic PCIe host bridge (gpex). */
#define PCI_HOST_VENDOR_ID 0x1b36
#define PCI_HOST_DEVICE_ID 0x0008
#define PCI_HOST_CLASS 0x060000			/* bridge, host */

/*
 * Start of the 64-bit window: the first 1 GiB boundary at or above both
 * 4 GiB and the end of RAM, for ram_bytes of guest RAM (pure).
 */
u64 pci_mmio64_base(u64 ram_bytes);

int pci_host_create(const struct dev_services *svc, struct pci_host **out);
/* Destroys the host bridge function and every function still added. */
void pci_host_destroy(struct pci_host *host);

/*
 * Put fn on bus 0 at devfn (PCI_DEVFN(slot, func)), or at function 0 of
 * the first free slot when devfn < 0. A function other than 0 needs
 * function 0 of its slot present. The host owns fn from then on.
 */
int pci_host_add(struct pci_host *host, struct pci_function *fn, int devfn);
/* Take fn off the bus (ownership back to the caller). */
int pci_host_remove(struct pci_host *host, struct pci_function *fn);
struct pci_function *pci_host_function(struct pci_host *host, u8 devfn);

/*
 * Give every BAR and ROM an address, as firmware would: I/O BARs in the
 * I/O window, 32-bit ones in the 32-bit window, 64-bit ones in the 64-bit
 * window (the 32-bit one if that is full), each aligned to its size,
 * largest first; then turn on I/O and memory decode for the functions
 * that have such BARs and set interrupt line to the INTx GSI.
 */
int pci_host_assign_bars(struct pci_host *host, char *err, size_t err_len);

/*
 * The INTx routing of bus 0 for the MP table: all four pins of every slot
 * as pci_intx_gsi() wires them (the table then holds for any device,
 * present now or not). Returns the number of entries (at most max).
 */
unsigned int pci_host_intx_routes(struct mptable_intx *routes,
				  unsigned int max);

/* Config access as the guest makes it (tests, and conf1/ECAM). */
u32 pci_host_config_read(struct pci_host *host, u8 bus, u8 devfn, u32 reg,
			 u32 len);
void pci_host_config_write(struct pci_host *host, u8 bus, u8 devfn, u32 reg,
			   u32 len, u32 val);

#endif
