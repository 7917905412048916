// SPDX-License-Identifier: MIT
/*
 * vm_build() is the one place that wires the machine together: KVM, guest
 * RAM, the buses, the devices, the image and the vCPUs. Everything it
 * creates, vm_destroy() releases, in reverse order.
 */
#define LOG_PREFIX "vm"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "common/clock.h"
#include "common/log.h"
#include "devices/acpi_pm.h"
#include "devices/debug_exit.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/pc_testdev.h"
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "devices/pci_testdev.h"
#include "devices/rtc.h"
#include "devices/uart16550.h"
#include "vfio-user/device.h"
#include "vmm/fdt.h"
#include "vmm/irq.h"
#include "vmm/loader.h"
#include "vmm/rom.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "abi/machine.h"

#define KVM_DEVICE "/dev/kvm"
#define KVM_MAX_CPUID_ENTRIES 256

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
	{ KVM_CAP_USER_MEMORY, "user memory" },
	{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
	{ KVM_CAP_PIT2, "in-kernel PIT" },
	{ KVM_CAP_EXT_CPUID, "CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
};

void *gpa_to_hva(struct vm *vm, u64 gpa, u64 len)
{
	return mem_gpa_to_hva(&vm->mem, gpa, len);
}

int vm_set_irq_line(struct vm *vm, unsigned int gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (vm->vm_fd < 0)
		return -ENODEV;
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

/* The services' requests, back to the VM they were made for. */
static int svc_vm_set_irq_line(void *ctx, unsigned int gsi, bool level)
{
	return vm_set_irq_line(ctx, gsi, level);
}

static void svc_vm_request_stop(void *ctx, int status, const char *reason)
{
	if (reason)
		vm_request_stop(ctx, status, "%s", reason);
	else
		vm_request_stop(ctx, status, NULL);
}

static void svc_vm_request_reset(void *ctx, const char *why)
{
	vm_request_reset(ctx, why);
}

static bool svc_vm_has_ioeventfd(void *ctx)
{
	return vm_has_ioeventfd(ctx);
}

static int svc_vm_ioeventfd(void *ctx, const struct vm_ioeventfd *e,
			    bool assign)
{
	return vm_ioeventfd(ctx, e, assign);
}

static void vm_suspend(void *ctx)
{
	struct vm *vm = ctx;
	unsigned int i;

	pthread_mutex_lock(&vm->sleep_lock);
	if (!vm->suspended) {
		vm->suspended = true;
		__atomic_add_fetch(&vm->sleep_epoch, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&vm->sleep_lock);
	log_info("ACPI S3: the guest sleeps; every vCPU parks until a wake event");
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
}

static void vm_wake(void *ctx)
{
	struct vm *vm = ctx;

	log_info("ACPI S3: a wake event: the vCPUs resume");
	pthread_mutex_lock(&vm->sleep_lock);
	vm->suspended = false;
	pthread_cond_broadcast(&vm->sleep_cond);
	pthread_mutex_unlock(&vm->sleep_lock);
}

static void vm_wake_event(void *ctx, u16 source)
{
	struct vm *vm = ctx;

	if (vm->acpi_pm)
		acpi_pm_wake_event(vm->acpi_pm, source);
}

u64 vm_sleep_epoch(struct vm *vm)
{
	return __atomic_load_n(&vm->sleep_epoch, __ATOMIC_SEQ_CST);
}

bool vm_sleep_wait(struct vm *vm, u32 *waking_vector)
{
	const u32 *vector;
	bool stopping;

	pthread_mutex_lock(&vm->sleep_lock);
	while (vm->suspended && !vm_stopping(vm))
		pthread_cond_wait(&vm->sleep_cond, &vm->sleep_lock);
	stopping = vm_stopping(vm);
	pthread_mutex_unlock(&vm->sleep_lock);
	if (stopping)
		return false;
	/* FACS: Firmware Waking Vector at offset 12, real mode. */
	vector = vm->facs_gpa ? gpa_to_hva(vm, vm->facs_gpa + 12, 4) : NULL;
	*waking_vector = vector ? *vector : 0;
	return true;
}

const struct dev_services *vm_services(struct vm *vm)
{
	struct dev_services *svc = &vm->services;

	svc->pio = &vm->pio;
	svc->mmio = &vm->mmio;
	svc->mem = &vm->mem;
	svc->irq = vm->irq;
	svc->nr_cpus = vm->cfg ? vm->cfg->nr_cpus : 1;
	svc->ctx = vm;
	svc->set_irq_line = svc_vm_set_irq_line;
	svc->request_stop = svc_vm_request_stop;
	svc->request_reset = svc_vm_request_reset;
	svc->has_ioeventfd = svc_vm_has_ioeventfd;
	svc->ioeventfd = svc_vm_ioeventfd;
	svc->request_suspend = vm_suspend;
	svc->request_wake = vm_wake;
	svc->wake_event = vm_wake_event;
	return svc;
}

int pci_function_create(struct vm *vm, const struct pci_function_info *info,
			const struct pci_function_ops *ops, void *opaque,
			struct pci_function **out)
{
	return pci_function_new(vm_services(vm), info, ops, opaque, out);
}

int vm_memslot_alloc(struct vm *vm)
{
	int slot, ret = -ENOSPC;

	pthread_mutex_lock(&vm->memslot_lock);
	/* Slots below MEM_MAX_REGIONS belong to guest RAM. */
	for (slot = MEM_MAX_REGIONS; slot < 256; slot++) {
		if (!(vm->memslots_used[slot / 64] & (1ULL << (slot % 64)))) {
			vm->memslots_used[slot / 64] |= 1ULL << (slot % 64);
			ret = slot;
			break;
		}
	}
	pthread_mutex_unlock(&vm->memslot_lock);
	return ret;
}

void vm_memslot_free(struct vm *vm, int slot)
{
	if (slot < MEM_MAX_REGIONS || slot >= 256)
		return;
	pthread_mutex_lock(&vm->memslot_lock);
	vm->memslots_used[slot / 64] &= ~(1ULL << (slot % 64));
	pthread_mutex_unlock(&vm->memslot_lock);
}

int vm_memslot_set_flags(struct vm *vm, int slot, u64 gpa, u64 size,
			 void *hva, u32 flags)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = size ? flags : 0,
		.guest_phys_addr = size ? gpa : 0,
		.memory_size = size,
		.userspace_addr = size ? (u64)(unsigned long)hva : 0,
	};

	if (vm->vm_fd < 0)
		return -ENODEV;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

int vm_memslot_set(struct vm *vm, int slot, u64 gpa, u64 size, void *hva)
{
	return vm_memslot_set_flags(vm, slot, gpa, size, hva, 0);
}

bool vm_has_ioeventfd(struct vm *vm)
{
	return vm->vm_fd >= 0 &&
	       ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
}

int vm_ioeventfd(struct vm *vm, const struct vm_ioeventfd *e, bool assign)
{
	struct kvm_ioeventfd req = {
		.datamatch = e->datamatch,
		.addr = e->addr,
		.len = e->len,
		.fd = e->fd,
		.flags = (e->pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (e->match ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (vm->vm_fd < 0)
		return -ENODEV;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &req) < 0)
		return -errno;
	return 0;
}

static void vm_stop(struct vm *vm, int status, bool guest_reset,
		    const char *reason)
{
	u64 one = 1;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_requested) {
		pthread_mutex_unlock(&vm->stop_lock);
		return;
	}
	vm->stop_requested = true;
	vm->guest_reset = guest_reset;
	vm->exit_status = status;
	snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s", reason);
	pthread_mutex_unlock(&vm->stop_lock);
	/* vCPUs parked in an ACPI sleep see the stop too. */
	pthread_mutex_lock(&vm->sleep_lock);
	pthread_cond_broadcast(&vm->sleep_cond);
	pthread_mutex_unlock(&vm->sleep_lock);
	if (vm->stop_eventfd >= 0 &&
	    write(vm->stop_eventfd, &one, sizeof(one)) < 0)
		log_warn("cannot signal the stop: %s", strerror(errno));
}

void vm_request_stop(struct vm *vm, int status, const char *fmt, ...)
{
	char reason[sizeof(vm->exit_reason)] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	}
	vm_stop(vm, status, false, reason);
}

void vm_request_reset(struct vm *vm, const char *why)
{
	char reason[sizeof(vm->exit_reason)];

	snprintf(reason, sizeof(reason), "guest reset %s", why);
	vm_stop(vm, STATUS_OK, true, reason);
}

bool vm_stopping(struct vm *vm)
{
	bool stopping;

	pthread_mutex_lock(&vm->stop_lock);
	stopping = vm->stop_requested;
	pthread_mutex_unlock(&vm->stop_lock);
	return stopping;
}

static int kvm_open(struct vm *vm, char *err, size_t err_len)
{
	unsigned int i;
	int version;

	vm->kvm_fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		snprintf(err, err_len, "cannot open %s: %s%s", KVM_DEVICE,
			 strerror(errno),
			 errno == EACCES ? " (is this user in the kvm group?)" :
			 errno == ENOENT ? " (no KVM on this host)" : "");
		return -errno;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, err_len, "KVM API version %d, uvmm needs %d",
			 version, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
			  required_caps[i].cap) <= 0) {
			snprintf(err, err_len,
				 "KVM lacks a capability uvmm needs: %s (%d)",
				 required_caps[i].name, required_caps[i].cap);
			return -ENOTSUP;
		}
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		snprintf(err, err_len, "KVM_GET_VCPU_MMAP_SIZE: %s",
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static int kvm_create_vm(struct vm *vm, char *err, size_t err_len)
{
	struct kvm_pit_config pit = { .flags = 0 };
	u64 identity_map = KVM_IDENTITY_MAP_ADDR;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		snprintf(err, err_len, "KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	/* Intel needs these three pages below 4 GiB; they sit in the hole. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		snprintf(err, err_len, "KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0 &&
	    errno != EINVAL && errno != ENOTTY)
		log_debug("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		snprintf(err, err_len, "KVM_CREATE_IRQCHIP: %s",
			 strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		snprintf(err, err_len, "KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int vm_setup_memory(struct vm *vm, char *err, size_t err_len)
{
	int ret;

	ret = mem_create(&vm->mem, vm->cfg->memory_bytes);
	if (ret)
		snprintf(err, err_len, "cannot allocate %llu MiB of guest RAM: %s",
			 (unsigned long long)(vm->cfg->memory_bytes >> 20),
			 strerror(-ret));
	return ret;
}

static int vm_setup_memslots(struct vm *vm, char *err, size_t err_len)
{
	unsigned int i;

	for (i = 0; i < vm->mem.nr_regions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (u64)(unsigned long)r->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			snprintf(err, err_len,
				 "KVM_SET_USER_MEMORY_REGION slot %u: %s", i,
				 strerror(errno));
			return -errno;
		}
	}
	if (vm->rom)
		return rom_install(vm, err, err_len);
	return 0;
}

static int vm_setup_devices(struct vm *vm, char *err, size_t err_len)
{
	const struct vm_config *cfg = vm->cfg;
	int out_fd = -1, in_fd = -1;
	int ret;

	switch (cfg->serial) {
	case SERIAL_STDIO:
		out_fd = STDOUT_FILENO;
		in_fd = STDIN_FILENO;
		break;
	case SERIAL_FILE:
		vm->serial_fd = open(cfg->serial_path,
				     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				     0644);
		if (vm->serial_fd < 0) {
			snprintf(err, err_len, "--serial: cannot open %s: %s",
				 cfg->serial_path, strerror(errno));
			return -errno;
		}
		out_fd = vm->serial_fd;
		break;
	case SERIAL_NONE:
		break;
	}
	ret = uart_create(vm_services(vm), UART_COM1_BASE, UART_COM1_IRQ, out_fd, in_fd,
			  &vm->uart);
	if (ret)
		goto fail;
	ret = debug_exit_create(vm_services(vm), cfg->debug_exit, &vm->debug_exit);
	if (ret)
		goto fail;
	ret = i8042_create(vm_services(vm), &vm->i8042);
	if (ret)
		goto fail;
	ret = rtc_create(vm_services(vm), &vm->rtc);
	if (ret)
		goto fail;
	ret = fw_cfg_create(vm_services(vm), &vm->fw_cfg);
	if (ret)
		goto fail;
	ret = acpi_pm_create(vm_services(vm), &vm->acpi_pm);
	if (ret)
		goto fail;
	if (cfg->pc_testdev) {
		ret = pc_testdev_create(vm_services(vm), &vm->pc_testdev);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, err_len, "cannot create the platform devices: %s",
		 strerror(-ret));
	return ret;
}

/* The device tree depends on the configuration only: built before the image. */
static int vm_setup_dtb(struct vm *vm, char *err, size_t err_len)
{
	int ret = dtb_build(vm->cfg, &vm->dtb, &vm->dtb_size, err, err_len);

	if (ret)
		return ret;
	if (vm->cfg->dump_dtb_path)
		return dtb_write_file(vm->cfg->dump_dtb_path, vm->dtb,
				      vm->dtb_size, err, err_len);
	return 0;
}

/* GSI routing, the PCI host bridge and, if asked for, the built-in PCI test function. */
static int vm_setup_pci(struct vm *vm, char *err, size_t err_len)
{
	int ret;

	ret = irq_router_create(vm->vm_fd, &vm->irq, err, err_len);
	if (ret)
		return ret;
	ret = pci_host_create(vm_services(vm), &vm->pci);
	/* test scaffolding only where asked for: a production guest never sees it */
	if (!ret && vm->cfg->pci_testdev)
		ret = pci_testdev_create(vm_services(vm), vm->pci, &vm->pci_testdev);
	if (ret)
		snprintf(err, err_len, "cannot create the PCI bus: %s",
			 strerror(-ret));
	return ret;
}

/*
 * One PCI function per --device, each in its own slot. A server that
 * cannot be reached is fatal, unless its device said on-error=continue:
 * then the VM runs without it.
 */
static int vm_setup_vfio_user(struct vm *vm, char *err, size_t err_len)
{
	const struct vm_config *cfg = vm->cfg;
	struct vfu_device *dev;
	unsigned int i;
	int ret;

	for (i = 0; i < cfg->nr_devices; i++) {
		ret = vfu_device_create(vm, &cfg->devices[i], i, &dev, err,
					err_len);
		if (ret) {
			if (cfg->devices[i].on_error != DEVICE_ON_ERROR_CONTINUE)
				return ret;
			log_err("%s; going on without it (on-error=continue)",
				err);
			err[0] = '\0';
			continue;
		}
		ret = pci_host_add(vm->pci, vfu_device_function(dev), -1);
		if (ret) {
			snprintf(err, err_len, "%s: %s", vfu_device_name(dev),
				 ret == -ENOSPC ? "every slot of PCI bus 0 is taken" :
				 strerror(-ret));
			vfu_device_destroy(dev);
			return ret;
		}
		vm->vfu_devices[vm->nr_vfu_devices++] = dev;
		ret = vfu_device_attached(dev);
		if (ret) {
			snprintf(err, err_len, "%s: wiring INTx: %s",
				 vfu_device_name(dev), strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int vm_setup_vcpus(struct vm *vm, char *err, size_t err_len)
{
	struct kvm_cpuid2 *supported;
	unsigned int i;
	int ret;

	supported = calloc(1, sizeof(*supported) +
			   KVM_MAX_CPUID_ENTRIES * sizeof(supported->entries[0]));
	vm->vcpus = calloc(vm->cfg->nr_cpus, sizeof(*vm->vcpus));
	if (!supported || !vm->vcpus) {
		ret = -ENOMEM;
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	supported->nent = KVM_MAX_CPUID_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, supported) < 0) {
		ret = -errno;
		snprintf(err, err_len, "KVM_GET_SUPPORTED_CPUID: %s",
			 strerror(errno));
		goto out;
	}
	vm->nr_vcpus = vm->cfg->nr_cpus;
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_create(vm, i, supported, &vm->vcpus[i]);
		if (ret) {
			snprintf(err, err_len, "cannot create vCPU %u: %s", i,
				 strerror(-ret));
			goto out;
		}
	}
	/*
	 * Only the boot CPU gets registers; the others wait for INIT/SIPI in
	 * the in-kernel LAPIC, as on hardware.
	 */
	ret = vcpu_set_boot_state(vm->vcpus[0]);
	if (ret)
		snprintf(err, err_len, "cannot set the boot CPU's registers: %s",
			 strerror(-ret));
out:
	free(supported);
	return ret;
}

int vm_build(const struct vm_config *cfg, struct vm **out, int *status)
{
	char err[512] = "";
	struct vm *vm;
	int ret;

	*status = STATUS_HOST_SETUP;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		log_err("out of memory");
		return -ENOMEM;
	}
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_eventfd = vm->serial_fd = -1;
	vm->mem.memfd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->memslot_lock, NULL);
	pthread_mutex_init(&vm->sleep_lock, NULL);
	pthread_cond_init(&vm->sleep_cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");

	vm->stop_eventfd = eventfd(0, EFD_CLOEXEC);
	if (vm->stop_eventfd < 0) {
		ret = -errno;
		snprintf(err, sizeof(err), "eventfd: %s", strerror(errno));
		goto fail;
	}
	/*
	 * RAM and the image come first: a bad image is reported as such
	 * even on a host without KVM.
	 */
	ret = vm_setup_memory(vm, err, sizeof(err));
	if (ret)
		goto fail;
	ret = vm_setup_dtb(vm, err, sizeof(err));
	if (ret)
		goto fail;
	ret = loader_load(vm, err, sizeof(err));
	if (ret) {
		*status = STATUS_BAD_IMAGE;
		goto fail;
	}
	ret = kvm_open(vm, err, sizeof(err));
	if (ret)
		goto fail;
	ret = kvm_create_vm(vm, err, sizeof(err));
	if (ret)
		goto fail;
	ret = vm_setup_memslots(vm, err, sizeof(err));
	if (ret)
		goto fail;
	ret = vm_setup_devices(vm, err, sizeof(err));
	if (ret)
		goto fail;
	ret = vm_setup_pci(vm, err, sizeof(err));
	if (ret)
		goto fail;
	ret = vm_setup_vfio_user(vm, err, sizeof(err));
	if (ret) {
		*status = STATUS_DEVICE_FAILED;
		goto fail;
	}
	/* Every PCI function exists by now: BARs get addresses, as firmware would. */
	ret = pci_host_assign_bars(vm->pci, err, sizeof(err));
	if (ret)
		goto fail;
	ret = vm_setup_vcpus(vm, err, sizeof(err));
	if (ret)
		goto fail;
	*status = STATUS_OK;
	*out = vm;
	return 0;
fail:
	log_err("%s", err[0] ? err : strerror(-ret));
	vm_destroy(vm);
	return ret ? ret : -EINVAL;
}

int vm_start(struct vm *vm)
{
	unsigned int i;
	int ret;

	vcpu_install_kick_handler();
	ret = uart_start_input(vm->uart);
	if (ret)
		log_warn("no console input: %s", strerror(-ret));
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_start(vm->vcpus[i]);
		if (ret) {
			vm_request_stop(vm, STATUS_HOST_SETUP,
					"cannot start vCPU %u: %s", i,
					strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int vm_run_until_stop(struct vm *vm)
{
	unsigned int timeout = vm->cfg->timeout_seconds;
	s64 deadline = timeout ? (s64)mono_ms() + timeout * 1000LL : 0;
	struct pollfd fds[2];
	sigset_t signals;
	int sfd, status;
	unsigned int i;

	/* main() blocked these before any thread was created. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGHUP);
	sfd = signalfd(-1, &signals, SFD_CLOEXEC);

	fds[0] = (struct pollfd) { .fd = vm->stop_eventfd, .events = POLLIN };
	fds[1] = (struct pollfd) { .fd = sfd, .events = POLLIN };
	while (!vm_stopping(vm)) {
		int wait_ms = -1, n;

		if (deadline) {
			s64 left = deadline - (s64)mono_ms();

			if (left <= 0) {
				vm_request_stop(vm, STATUS_TIMEOUT,
						"guest still running after --timeout %u s: stopped",
						timeout);
				break;
			}
			wait_ms = left > 60000 ? 60000 : (int)left;
		}
		n = poll(fds, sfd >= 0 ? 2 : 1, wait_ms);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && sfd >= 0 && (fds[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				vm_request_stop(vm, 128 + si.ssi_signo,
						"stopped by signal %u (%s)",
						si.ssi_signo,
						strsignal(si.ssi_signo));
		}
	}
	if (sfd >= 0)
		close(sfd);

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(vm->vcpus[i]);

	pthread_mutex_lock(&vm->stop_lock);
	status = vm->exit_status;
	pthread_mutex_unlock(&vm->stop_lock);
	return status;
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	if (vm->vcpus) {
		for (i = 0; i < vm->nr_vcpus; i++) {
			if (!vm->vcpus[i])
				continue;
			vcpu_kick(vm->vcpus[i]);
			vcpu_join(vm->vcpus[i]);
		}
		for (i = 0; i < vm->cfg->nr_cpus; i++)
			vcpu_destroy(vm->vcpus[i]);
		free(vm->vcpus);
	}
	/* No vCPU runs now: nothing can race the servers' resets. */
	if (vm->guest_reset) {
		for (i = 0; i < vm->nr_vfu_devices; i++)
			vfu_device_guest_reset(vm->vfu_devices[i]);
	}
	/* Functions detach their irqfds: before the router and the VM fd go. */
	for (i = 0; i < vm->nr_vfu_devices; i++) {
		struct vfu_device *dev = vm->vfu_devices[i];

		pci_host_remove(vm->pci, vfu_device_function(dev));
		vfu_device_destroy(dev);
	}
	pci_testdev_destroy(vm->pci_testdev);
	pci_host_destroy(vm->pci);
	irq_router_destroy(vm->irq);
	free(vm->dtb);
	pc_testdev_destroy(vm->pc_testdev);
	acpi_pm_destroy(vm->acpi_pm);
	fw_cfg_destroy(vm->fw_cfg);
	rtc_destroy(vm->rtc);
	i8042_destroy(vm->i8042);
	debug_exit_destroy(vm->debug_exit);
	uart_destroy(vm->uart);
	if (vm->serial_fd >= 0)
		close(vm->serial_fd);
	rom_destroy(vm);
	if (vm->mem.base)
		mem_destroy(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_eventfd >= 0)
		close(vm->stop_eventfd);
	bus_destroy(&vm->mmio);
	bus_destroy(&vm->pio);
	pthread_mutex_destroy(&vm->memslot_lock);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_cond_destroy(&vm->sleep_cond);
	pthread_mutex_destroy(&vm->sleep_lock);
	free(vm);
}
