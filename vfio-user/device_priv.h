/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VFIO_USER_DEVICE_PRIV_H
#define UVMM_VFIO_USER_DEVICE_PRIV_H

/*
 * Inside the vfio-user PCI function: its state, shared by device.c (the
 * function, its accesses and interrupts) and device_reconnect.c
 * (on-error=reconnect: the link lost, a server found again, the replay).
 * Nothing outside these two files includes it.
 */
#include <pthread.h>

#include "common/types.h"
#include "devices/pci.h"
#include "vfio-user/client.h"
#include "vfio-user/discover.h"
#include "vmm/config.h"
#include "vmm/vm.h"

/* Between two connect attempts (wait=, reconnect). */
#define VFU_CONNECT_RETRY_MS 50
/* ioeventfd entries taken per region; more and the region's writes trap. */
#define VFU_MAX_IOEVENTFDS 16
/* Entry flags are KVM's ioeventfd flags (docs/vfio-user.md, "BARs"). */
#define VFU_IO_FD_F_DATAMATCH 0x1u
#define VFU_IO_FD_F_PIO 0x2u
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

/* PCI command bits a server accepts (docs/vfio-user.md, "Config space"). */
#define VFU_COMMAND_MASK (PCI_COMMAND_IO | PCI_COMMAND_MEMORY |          \
			  PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |      \
			  PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE |  \
			  PCI_COMMAND_SPECIAL)

/* The connection as accesses see it. */
enum {
	VFU_LINK_UP,
	VFU_LINK_RECONNECTING,		/* on-error=reconnect: accesses wait */
	VFU_LINK_DEAD,			/* for good: all-ones, writes dropped */
};

struct vfu_mmap_area {
	u64 offset;		/* inside the BAR */
	u64 size;
	void *hva;
	int slot;		/* KVM memslot number, reserved at create */
	bool installed;
};

/* A doorbell the server wants as a KVM ioeventfd (GET_REGION_IO_FDS). */
struct vfu_doorbell {
	u64 offset;		/* inside the BAR */
	u32 len;
	bool match;
	u64 datamatch;
	int fd;			/* ours (a dup of the server's) */
	bool installed;
	struct vm_ioeventfd kvm;	/* as registered, to remove it */
};

struct vfu_device_region {
	u64 size;
	u32 flags;
	/* A trapped write to this memory BAR is posted (NO_REPLY). */
	bool posted;
	unsigned int nr_areas;
	struct vfu_mmap_area areas[VFU_MAX_SPARSE_AREAS];
	unsigned int nr_ioeventfds;
	struct vfu_doorbell ioeventfds[VFU_MAX_IOEVENTFDS];
};

struct vfu_device {
	struct vm *vm;
	const struct device_config *cfg;
	unsigned int index;
	char name[32];
	struct vfu_client *client;
	struct pci_function *fn;
	struct vfu_device_region regions[VFU_OFFER_REGIONS];
	/* What the server offered at connect time; its fds are released. */
	struct vfu_offer offer;
	u8 msi_cap, msi_cap_size;
	bool msi_pvm;			/* MSI with per-vector mask bits */
	u8 msix_cap;
	unsigned int msix_nr;
	/*
	 * The guest's per-vector masks as the model holds them (MSI-X
	 * vector control, MSI mask register), mirrored from its
	 * vector_mask_changed hook under the function's lock, and pushed
	 * to the server as SET_IRQS MASK/UNMASK.
	 */
	bool msix_masked[PCI_MSIX_MAX_VECTORS];
	u32 msi_mask;
	/* An error reply to a BAR access was logged (on-error=continue). */
	bool bar_error_logged;
	/*
	 * What the server was last told, under the function's lock (the
	 * model calls irq_mode_changed with it held).
	 */
	int server_irq_index;		/* -1: none */
	unsigned int server_irq_count;
	/* VFU_LINK_*: set by whoever sees the server die; read by every access. */
	int link;
	/*
	 * on-error=reconnect (docs/vfio-user.md, "Reconnect"). lock is a
	 * leaf lock over everything below and the memslot and ioeventfd
	 * placement; it is never held across a request. Accesses take the
	 * client with vfu_device_get() (counted in users), which waits
	 * while the link is RECONNECTING; the reconnect thread swaps the
	 * client once users is 0, replays, and lets them through.
	 */
	bool reconnect;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* CLOCK_MONOTONIC */
	unsigned int users;
	bool stopping;
	s64 lost_ms, deadline_ms;
	char lost_reason[160];
	/* Bumped by each change below that the replay carries to a server. */
	u64 seq;
	struct pci_bar_window bar_win[PCI_NUM_BARS];
	/* Bytes of the emulated registers the guest wrote through. */
	u8 shadow[PCI_LEGACY_CONFIG_SIZE];
	bool shadow_set[PCI_LEGACY_CONFIG_SIZE];
	u16 command;			/* as last sent, masked */
	bool command_set;
	/* The interrupt mode the guest enabled and its vector count. */
	enum pci_irq_mode want_mode;
	unsigned int want_nr;
	int intx_trigger_fd;		/* the model's; not owned */
	pthread_t reconnect_thread;
	bool reconnect_started;
	unsigned int reconnects;
};

/* ---- device.c, for the reconnect ---------------------------------------- */

/* The client options of every connection of dev (connect, reconnect). */
void vfu_device_client_options(struct vfu_device *dev,
			       struct vfu_client_options *opts);
/* Ends the device for good: status 10 unless on-error=continue. */
void vfu_device_give_up(struct vfu_device *dev, const char *why);
/* The server's config space as discovered (its offer). */
u32 config_get(const struct vfu_device *dev, u32 off, u32 len);
/* DMA_MAP of every RAM region, with its memfd. */
int vfu_device_map_ram(struct vfu_device *dev, char *err, size_t err_len);
/* The mmap-able areas offer lists, as memslots-to-be. */
int vfu_device_map_areas(struct vfu_device *dev, const struct vfu_offer *offer,
			 char *err, size_t err_len);
/* GET_REGION_IO_FDS of every BAR, as doorbells-to-be. */
int vfu_device_take_ioeventfds(struct vfu_device *dev, char *err,
			       size_t err_len);
/* Areas overlapping [off, off + len) of bar stay trapped. */
void vfu_drop_areas_over(struct vfu_device *dev, unsigned int bar, u64 off,
			 u64 len);
/* The BAR's memslots and doorbells where new_win puts them. */
void vfu_bar_place(struct vfu_device *dev, unsigned int bar,
		   struct pci_bar_window new_win);
/* SET_IRQS: the server gets mode's first nr eventfds. */
int vfu_irq_assign(struct vfu_device *dev, enum pci_irq_mode mode,
		   unsigned int nr);
/* SET_IRQS MASK/UNMASK of index's vectors below top, as the guest has them. */
void vfu_irq_push_masks(struct vfu_device *dev, int index, unsigned int top);

/* ---- device_reconnect.c ------------------------------------------------- */

/* Sets up the lock and starts the thread that waits for a lost link. */
int vfu_device_start_reconnect(struct vfu_device *dev);

#endif
