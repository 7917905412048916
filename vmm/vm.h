/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VM_H
#define UVMM_VM_H

#include <pthread.h>

#include "common/types.h"
#include "vmm/bus.h"
#include "vmm/config.h"
#include "vmm/memory.h"
#include "vmm/services.h"
#include "vmm/status.h"

struct vcpu;
struct uart;
struct debug_exit;
struct i8042;
struct rtc;
struct fw_cfg;
struct pc_testdev;
struct acpi_pm;
struct vfu_device;
struct irq_router;
struct pci_host;
struct pci_testdev;
struct rom;

/* How the boot CPU starts: filled by the image loader. */
enum boot_mode {
	BOOT_PVH32,		/* 32-bit protected mode, paging off */
	BOOT_LINUX64,		/* 64-bit long mode, identity paging */
	BOOT_RESET_VECTOR,	/* real mode at 0xfffffff0 (--bios) */
	BOOT_MULTIBOOT,		/* as PVH32, eax = 0x2badb002 */
};

struct boot_state {
	enum boot_mode mode;
	u64 entry;		/* rip */
	u64 rbx;		/* PVH: start_info; Multiboot: its info */
	u64 rsi;		/* Linux: zero page */
	u64 gdt_gpa;		/* Linux: GDT the loader placed */
	u64 pml4_gpa;		/* Linux: identity page tables */
};

/*
 * The whole machine. Everything mutable lives here, never in globals.
 * stop_lock protects stop_requested, guest_reset, exit_status and
 * exit_reason.
 */
struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct guest_memory mem;
	struct bus pio;
	struct bus mmio;
	struct boot_state boot;

	struct vcpu **vcpus;
	unsigned int nr_vcpus;

	int serial_fd;		/* --serial file:PATH, owned; -1 otherwise */
	struct uart *uart;
	struct debug_exit *debug_exit;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct fw_cfg *fw_cfg;
	struct acpi_pm *acpi_pm;
	struct pc_testdev *pc_testdev;	/* --device pc-testdev, or NULL */

	struct irq_router *irq;		/* KVM GSI routes and irqfds */
	struct pci_host *pci;		/* bus 0: conf1, ECAM, functions */
	struct pci_testdev *pci_testdev;
	void *dtb;			/* the device tree handed to the guest */
	size_t dtb_size;
	struct rom *rom;		/* --bios image below 4 GiB, or NULL */

	/* KVM memslots beyond RAM's (mmap-able device BAR areas). */
	pthread_mutex_t memslot_lock;	/* protects memslots_used */
	u64 memslots_used[4];		/* bitmap, slot numbers 0-255 */

	struct dev_services services;	/* what devices get: vm_services() */

	struct vfu_device *vfu_devices[CONFIG_MAX_DEVICES];
	unsigned int nr_vfu_devices;

	/*
	 * ACPI S3. sleep_lock protects suspended; sleep_epoch counts the
	 * sleeps (atomic reads), so a vCPU that never saw one parked still
	 * resets as a resumed CPU. facs_gpa: where the waking vector is.
	 */
	pthread_mutex_t sleep_lock;
	pthread_cond_t sleep_cond;
	bool suspended;
	u64 sleep_epoch;
	u64 facs_gpa;

	pthread_mutex_t stop_lock;
	bool stop_requested;
	bool guest_reset;	/* the stop is the guest resetting the machine */
	int exit_status;
	char exit_reason[256];
	int stop_eventfd;	/* written once when a stop is requested */
};

/* The one builder: KVM, memory, devices, image, vCPUs (not yet running). */
int vm_build(const struct vm_config *cfg, struct vm **out, int *status);
int vm_start(struct vm *vm);
/* Waits for the first of: stop request, timeout, signal. Returns status. */
int vm_run_until_stop(struct vm *vm);
void vm_destroy(struct vm *vm);

/*
 * Any thread may ask the VM to stop; the first request wins. reason is
 * printed on stderr when status is the VMM's own (not the guest's).
 */
void vm_request_stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The guest reset the machine: uvmm ends with status 0, and first resets
 * each vfio-user device so that the next VM to connect finds it fresh.
 */
void vm_request_reset(struct vm *vm, const char *why);
bool vm_stopping(struct vm *vm);

/*
 * ACPI S3, for the vCPU threads: the number of sleeps so far, and the wait
 * for the wake that ends the current one. vm_sleep_wait() returns false
 * when the VM stops instead, else true with the FACS waking vector.
 */
u64 vm_sleep_epoch(struct vm *vm);
bool vm_sleep_wait(struct vm *vm, u32 *waking_vector);

/* Guest RAM through the one checked helper; NULL unless the range is RAM. */
void *gpa_to_hva(struct vm *vm, u64 gpa, u64 len);

/*
 * Memslots for memory that is not guest RAM (a device's mmap-able BAR
 * areas): alloc reserves a slot number, set maps [gpa, gpa + size) to hva
 * (size 0 removes the mapping), free releases the number.
 */
int vm_memslot_alloc(struct vm *vm);
int vm_memslot_set(struct vm *vm, int slot, u64 gpa, u64 size, void *hva);
/* The same with KVM_MEM_* flags (KVM_MEM_READONLY for a ROM). */
int vm_memslot_set_flags(struct vm *vm, int slot, u64 gpa, u64 size,
			 void *hva, u32 flags);
void vm_memslot_free(struct vm *vm, int slot);

/* KVM ioeventfds (struct vm_ioeventfd: vmm/services.h). */
bool vm_has_ioeventfd(struct vm *vm);
int vm_ioeventfd(struct vm *vm, const struct vm_ioeventfd *e, bool assign);

/* Assert or deassert an interrupt line of the in-kernel irqchip. */
int vm_set_irq_line(struct vm *vm, unsigned int gsi, bool level);

/*
 * The services a device is created with (vmm/services.h), brought up to
 * date with the VM (its irq router, CPU count) on each call.
 */
const struct dev_services *vm_services(struct vm *vm);

/*
 * A PCI function on this VM's services (devices/pci.h,
 * pci_function_new()), for callers that hold the VM (vfio-user/device.c).
 */
struct pci_function;
struct pci_function_info;
struct pci_function_ops;
int pci_function_create(struct vm *vm, const struct pci_function_info *info,
			const struct pci_function_ops *ops, void *opaque,
			struct pci_function **out);

#endif
