/* SPDX-License-Identifier: MIT */
#ifndef UVMM_PCI_H
#define UVMM_PCI_H

/*
 * The PCI function model: what every PCI device of uvmm plugs into, built
 * in (devices/pci_testdev.c) or fronting a device in another process
 * (vfio-user/device.c).
 *
 * A device describes its function (IDs, class, BARs, ROM, INTx pin), adds
 * capabilities, and gives an ops table. The model owns the standard
 * header: read-only fields, the command register's decode bits, BAR sizing
 * and relocation (it moves the BAR's bus registration and tells the
 * device), the expansion ROM BAR, the capability list, interrupt line and
 * pin, and the MSI and MSI-X capabilities with their state. The device
 * only says "raise vector N".
 *
 * Interrupts are eventfds bound to KVM with irqfds: one per MSI or MSI-X
 * vector (routed through a KVM MSI route that follows the guest's
 * address/data), and a trigger + resample pair for the INTx pin (a
 * level-triggered IOAPIC GSI, pci_intx_gsi()). Each eventfd can be handed
 * to another process, which then raises the interrupt without the VMM.
 * While a vector is masked its irqfd is detached, so a write to its
 * eventfd stays in the counter: the model turns that into the pending bit
 * (MSI-X PBA, MSI pending register) and delivers it on unmask.
 *
 * Locking: each function has one (recursive) lock. Config accesses hold it
 * for their whole duration, device hooks and callbacks included; MSI-X
 * table and PBA accesses take it too. BAR accesses for the device
 * (bar_read/bar_write) run without it, so many vCPUs may be in a device's
 * BAR at once and a hook may block (vfio-user forwards to its server).
 * The host bridge never takes a function's lock while it holds its own,
 * so hooks and callbacks may call pci_host_*().
 */

#include <linux/pci_regs.h>

#include "common/types.h"

struct dev_services;
struct pci_function;

#define PCI_CONFIG_SPACE_SIZE 4096	/* ECAM reaches all of it */
#define PCI_LEGACY_CONFIG_SIZE 256	/* conf1 reaches this much */
#define PCI_NUM_BARS 6
#define PCI_ROM_BAR 6			/* the ROM's index in BAR callbacks */
#define PCI_NUM_REGIONS 7
#define PCI_MSI_MAX_VECTORS 32
#define PCI_MSIX_MAX_VECTORS 2048

#define PCI_DEVFN(slot, func) ((((slot) & 0x1f) << 3) | ((func) & 7))
#define PCI_DEVFN_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_DEVFN_FUNC(devfn) ((devfn) & 7)

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,		/* takes the next BAR slot as its upper half */
};

struct pci_bar_desc {
	enum pci_bar_type type;
	/* Power of two: I/O 4-256 bytes, memory at least 16 (4 KiB is wise). */
	u64 size;
	bool prefetchable;
};

struct pci_function_info {
	const char *name;	/* log prefix; copied */
	u16 vendor_id;
	u16 device_id;
	u16 subsystem_vendor_id;
	u16 subsystem_id;
	u32 class_code;		/* base << 16 | sub-class << 8 | prog-if */
	u8 revision;
	u8 irq_pin;		/* 0: none; 1-4: INTA-INTD */
	struct pci_bar_desc bars[PCI_NUM_BARS];
	u64 rom_size;		/* 0: no ROM; else a power of two >= 2 KiB */
};

/* Where a BAR decodes: addr is meaningful only when on. */
struct pci_bar_window {
	u64 addr;
	bool on;
};

enum pci_irq_mode {
	PCI_IRQ_INTX,
	PCI_IRQ_MSI,
	PCI_IRQ_MSIX,
};

/* Every member is optional. Called with the function's lock held, except
 * bar_read and bar_write. */
struct pci_function_ops {
	/*
	 * Config space hooks, called first for every guest access (off and
	 * len inside one dword). Return true when the access is handled
	 * (*val filled for a read); false lets the model do its own, so a
	 * hook may forward a write elsewhere and still return false to have
	 * the model apply it too. pci_config_emulated_read() gives a hook the
	 * model's value.
	 */
	bool (*config_read)(struct pci_function *fn, u32 off, u32 len, u32 *val);
	bool (*config_write)(struct pci_function *fn, u32 off, u32 len, u32 val);
	/*
	 * Accesses to a BAR (or PCI_ROM_BAR) outside the MSI-X table and PBA,
	 * with the offset inside the BAR. Without bar_read, reads return
	 * all-ones.
	 */
	void (*bar_read)(struct pci_function *fn, unsigned int bar, u64 off,
			 void *data, u32 len);
	void (*bar_write)(struct pci_function *fn, unsigned int bar, u64 off,
			  const void *data, u32 len);
	/*
	 * A BAR started or stopped decoding, or moved (a 64-bit BAR is told
	 * by its lower index). The bus registration has already moved; a
	 * device with memslots inside the BAR moves those.
	 */
	void (*bar_remap)(struct pci_function *fn, unsigned int bar,
			  struct pci_bar_window old_win,
			  struct pci_bar_window new_win);
	void (*command_changed)(struct pci_function *fn, u16 old_cmd,
				u16 new_cmd);
	/*
	 * MSI or MSI-X was enabled or disabled, or MSI's number of enabled
	 * vectors changed: mode is now in force with nr_vectors (1 for INTx).
	 * Masks are handled by the model and not reported.
	 */
	void (*irq_mode_changed)(struct pci_function *fn, enum pci_irq_mode mode,
				 unsigned int nr_vectors);
	/*
	 * The guest changed a vector's own mask bit: MSI-X vector control
	 * in the table, or a bit of MSI's mask register. Once per vector
	 * whose bit changed; not for the enable and function-mask bits,
	 * which are config writes.
	 */
	void (*vector_mask_changed)(struct pci_function *fn,
				    enum pci_irq_mode mode, unsigned int vector,
				    bool masked);
	/*
	 * A model that took its INTx eventfds (pci_intx_eventfds()) and
	 * drives the line itself: the guest's EOI dropped it. Called from
	 * the host's resample thread with no lock held; may block (a server
	 * round trip), but only that long: the function is not removed
	 * meanwhile. Without it, such a line is not resampled.
	 */
	void (*intx_resampled)(struct pci_function *fn);
};

/* ---- building a function ------------------------------------------------ */

/*
 * Checks info (BAR sizes and types, pin, ROM) and builds the header. The
 * function is inert until pci_host_add() gives it a device number.
 */
int pci_function_new(const struct dev_services *svc,
		     const struct pci_function_info *info,
		     const struct pci_function_ops *ops, void *priv,
		     struct pci_function **out);
/* Unmaps its BARs, detaches its irqfds, closes its eventfds, frees it. */
void pci_function_destroy(struct pci_function *fn);
void *pci_function_priv(struct pci_function *fn);
const char *pci_function_name(struct pci_function *fn);
/* devfn on bus 0, or -1 before pci_host_add(). */
int pci_function_devfn(struct pci_function *fn);

/*
 * Appends a capability of size bytes (id and next pointer included) to
 * the list; *offset says where. Fill it with pci_config_set() and make
 * bits guest-writable with pci_config_set_wmask().
 */
int pci_add_capability(struct pci_function *fn, u8 id, u8 size, u8 *offset);
/* Set initial register values and masks (len 1, 2 or 4, inside 4 KiB). */
void pci_config_set(struct pci_function *fn, u32 off, u32 len, u32 val);
void pci_config_set_wmask(struct pci_function *fn, u32 off, u32 len, u32 mask);
/* Capability offset of id, or 0 (walks the list as a guest would). */
u8 pci_find_capability(struct pci_function *fn, u8 id);

/*
 * MSI and MSI-X capabilities whose state the model keeps. cap_offset 0
 * appends a new capability; otherwise the capability of the right id
 * already at cap_offset is taken over (a device that copied a config
 * space with its own list, as vfio-user does). Creates the vectors'
 * eventfds.
 *
 * MSI: nr_vectors a power of two up to 32; 32- or 64-bit address;
 * optional per-vector masking (mask and pending registers).
 */
int pci_msi_init(struct pci_function *fn, u8 cap_offset,
		 unsigned int nr_vectors, bool addr64, bool per_vector_mask);
/*
 * MSI-X: nr_vectors up to 2048; table and PBA inside memory BARs (8-byte
 * aligned, inside the BAR, not overlapping each other).
 */
int pci_msix_init(struct pci_function *fn, u8 cap_offset,
		  unsigned int nr_vectors, unsigned int table_bar,
		  u32 table_off, unsigned int pba_bar, u32 pba_off);

/* ---- guest access (from the host bridge) --------------------------------- */

/*
 * off < PCI_CONFIG_SPACE_SIZE, len 1, 2 or 4, inside one dword; anything
 * else reads all-ones and writes nothing.
 */
u32 pci_config_read(struct pci_function *fn, u32 off, u32 len);
void pci_config_write(struct pci_function *fn, u32 off, u32 len, u32 val);
void pci_function_retry_decode(struct pci_function *fn);
/* The model's value of a register, bypassing the hook (for hooks). */
u32 pci_config_emulated_read(struct pci_function *fn, u32 off, u32 len);

/* Where BAR bar (or PCI_ROM_BAR) decodes now, and its size. */
struct pci_bar_window pci_bar_window(struct pci_function *fn, unsigned int bar);
u64 pci_bar_size(struct pci_function *fn, unsigned int bar);
enum pci_bar_type pci_bar_type(struct pci_function *fn, unsigned int bar);

/* ---- interrupts --------------------------------------------------------- */

/*
 * Raise a vector: a write to its eventfd. KVM delivers it when the vector
 * is enabled and unmasked; otherwise it becomes pending (MSI-X) or is
 * dropped when MSI(-X) gets enabled.
 */
int pci_msi_notify(struct pci_function *fn, unsigned int vector);
int pci_msix_notify(struct pci_function *fn, unsigned int vector);
/* The vector's eventfd (owned by the model), for another process to write. */
int pci_msi_eventfd(struct pci_function *fn, unsigned int vector);
int pci_msix_eventfd(struct pci_function *fn, unsigned int vector);
/* Which mode the guest enabled, and with how many vectors. */
enum pci_irq_mode pci_irq_mode(struct pci_function *fn, unsigned int *nr_vectors);

/*
 * INTx of a built-in device: the line follows level (also while INTx is
 * disabled in the command register, it is then just not asserted). After
 * the guest's EOI KVM drops the line; the host bridge's resample thread
 * asserts it again while level stays high.
 */
int pci_intx_set_level(struct pci_function *fn, bool level);
/*
 * Hand the INTx line to someone else (a vfio-user server): the trigger
 * and resample eventfds (owned by the model; resample_fd may be NULL).
 * From then on the caller asserts on trigger; the guest's EOIs reach it
 * through the ops' intx_resampled, from the host's one resample thread.
 */
int pci_intx_eventfds(struct pci_function *fn, int *trigger_fd,
		      int *resample_fd);
/* The IOAPIC GSI of the pin, or -1 without INTx or before pci_host_add(). */
int pci_function_intx_gsi(struct pci_function *fn);

/* ---- for devices/pci_host.c only ---------------------------------------- */

/* Give the function its devfn and wire its INTx pin's irqfd. */
int pci_function_attach(struct pci_function *fn, u8 devfn);
/* Header type's multi-function bit (function 0 of a slot with others). */
void pci_function_set_multifunction(struct pci_function *fn);
/* Resample eventfd the host must watch, or -1. Lock-free. */
int pci_intx_watch_fd(struct pci_function *fn);
/*
 * The resample fd fired: a built-in line asserts again if its level is
 * still high. Returns true when the model drives the line itself: the
 * caller then calls pci_intx_notify_resampled() without its locks.
 * Lock-free.
 */
bool pci_intx_resampled(struct pci_function *fn);
void pci_intx_notify_resampled(struct pci_function *fn);

#endif
