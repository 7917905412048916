// SPDX-License-Identifier: MIT
#define LOG_PREFIX "vcpu"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "common/phase.h"
#include "vmm/multiboot.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static void kick_handler(int sig)
{
	(void)sig;	/* only there to make KVM_RUN return EINTR */
}

void vcpu_install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the point is to interrupt KVM_RUN. */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

/* Subleaves vcpu_cpuid_for may add (0xb and 0x1f: 0-2 each). */
#define CPUID_TOPOLOGY_EXTRA 6
/* What KVM_SET_CPUID2 takes (the kernel's KVM_MAX_CPUID_ENTRIES). */
#define CPUID_MAX_ENTRIES 256

static unsigned int order_of(unsigned int n)
{
	unsigned int shift = 0;

	while ((1u << shift) < n)
		shift++;
	return shift;
}

struct kvm_cpuid2 *vcpu_cpuid_for(const struct kvm_cpuid2 *supported,
				  unsigned int apic_id, unsigned int nr_cpus)
{
	size_t size = sizeof(*supported) +
		      supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size + CPUID_TOPOLOGY_EXTRA *
					  sizeof(supported->entries[0]));
	static const u32 topology_leaves[] = { 0xb, 0x1f };
	unsigned int i, leaf, sub;

	if (!cpuid)
		return NULL;
	memcpy(cpuid, supported, size);
	/*
	 * A topology leaf needs its SMT and core subleaves and the invalid
	 * one that ends the list; KVM may report only subleaf 0 (seen with
	 * nested SVM), which leaves the guest without a core level. Add the
	 * missing ones; the loop below fills them.
	 */
	for (leaf = 0; leaf < ARRAY_SIZE(topology_leaves); leaf++) {
		bool present[3] = { false, false, false }, any = false;

		for (i = 0; i < cpuid->nent; i++) {
			if (cpuid->entries[i].function != topology_leaves[leaf])
				continue;
			any = true;
			if (cpuid->entries[i].index < 3)
				present[cpuid->entries[i].index] = true;
		}
		for (sub = 0; any && sub < 3; sub++) {
			if (present[sub] || cpuid->nent >= CPUID_MAX_ENTRIES)
				continue;
			cpuid->entries[cpuid->nent++] = (struct kvm_cpuid_entry2) {
				.function = topology_leaves[leaf],
				.index = sub,
				.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			};
		}
	}
	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC ID and logical processor count. */
			e->ebx = (e->ebx & 0x0000ffff) | (apic_id << 24) |
				 ((nr_cpus & 0xff) << 16);
			if (nr_cpus > 1)
				e->edx |= 1u << 28;	/* HTT: count valid */
			/* Running under a hypervisor. */
			e->ecx |= 1u << 31;
			break;
		case 0xb:
		case 0x1f:
			/*
			 * Topology: one thread per core, nr_cpus cores in
			 * one package; x2APIC ID in edx for every subleaf.
			 */
			e->edx = apic_id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = order_of(nr_cpus);
				e->ebx = nr_cpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = 0;
				e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 4:
			/* Subleaves past the last cache (type 0) stay all-zero. */
			if (!(e->eax & 0x1f))
				break;
			/* Cores per package - 1 in eax[31:26]. */
			e->eax = (e->eax & 0x03ffffff) |
				 ((MIN(nr_cpus, 64u) - 1) << 26);
			e->eax &= ~(0xfffu << 14);	/* one thread shares each cache */
			break;
		case 0x80000008:
			/* AMD: cores per package - 1 in ecx[7:0]. */
			e->ecx = (e->ecx & ~0xf0ffu) | (nr_cpus - 1) |
				 (order_of(nr_cpus) << 12);
			break;
		case 0x8000001e:
			/*
			 * AMD TOPOEXT: KVM reports this leaf all-zero, which
			 * tells a guest that every vCPU has extended APIC ID
			 * 0 and core 0 (Linux then takes them for threads of
			 * one core, and newer kernels report an APIC ID
			 * mismatch). One thread per core, one node.
			 */
			e->eax = apic_id;
			e->ebx = apic_id & 0xff;	/* core ID; threads - 1 = 0 */
			e->ecx = 0;			/* node 0, one node */
			e->edx = 0;
			break;
		default:
			break;
		}
	}
	return cpuid;
}

int vcpu_create(struct vm *vm, unsigned int id, const struct kvm_cpuid2 *supported,
		struct vcpu **out)
{
	struct kvm_cpuid2 *cpuid = NULL;
	struct vcpu *vcpu;
	int ret;

	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->run = MAP_FAILED;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		ret = -errno;
		log_debug("KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		goto err;
	}
	vcpu->run_size = vm->vcpu_mmap_size;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		log_debug("mmap of vCPU %u run area: %s", id, strerror(errno));
		goto err;
	}
	cpuid = vcpu_cpuid_for(supported, id, vm->nr_vcpus);
	if (!cpuid) {
		ret = -ENOMEM;
		goto err;
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		ret = -errno;
		log_debug("KVM_SET_CPUID2 on vCPU %u: %s", id, strerror(errno));
		goto err;
	}
	free(cpuid);
	*out = vcpu;
	return 0;
err:
	free(cpuid);
	vcpu_destroy(vcpu);
	return ret;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	if (vcpu->run != MAP_FAILED && vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu);
}

static void set_segment(struct kvm_segment *seg, u16 selector, u8 type,
			bool code64)
{
	memset(seg, 0, sizeof(*seg));
	seg->base = 0;
	seg->limit = 0xffffffff;
	seg->selector = selector;
	seg->type = type;
	seg->present = 1;
	seg->s = 1;
	seg->g = 1;
	seg->l = code64;
	seg->db = !code64;
}

/* Registers of the boot CPU, as the image's boot protocol specifies. */
int vcpu_set_boot_state(struct vcpu *vcpu)
{
	const struct boot_state *boot = &vcpu->vm->boot;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;

	switch (boot->mode) {
	case BOOT_PVH32:
	case BOOT_MULTIBOOT:
		/*
		 * PVH and Multiboot: flat 32-bit protected mode, paging off,
		 * ebx = start_info or multiboot_info.
		 */
		set_segment(&sregs.cs, 0x10, 0xb, false);
		set_segment(&sregs.ds, 0x18, 0x3, false);
		sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
		sregs.cr0 = 0x11;	/* PE | ET */
		sregs.cr4 = 0;
		sregs.efer = 0;
		regs.rip = boot->entry;
		regs.rbx = boot->rbx;
		if (boot->mode == BOOT_MULTIBOOT)
			regs.rax = MULTIBOOT_BOOT_MAGIC;
		break;
	case BOOT_LINUX64:
		set_segment(&sregs.cs, 0x10, 0xb, true);
		set_segment(&sregs.ds, 0x18, 0x3, false);
		sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
		sregs.gdt.base = boot->gdt_gpa;
		sregs.gdt.limit = 4 * 8 - 1;
		sregs.cr3 = boot->pml4_gpa;
		sregs.cr4 = 0x20;		/* PAE */
		sregs.cr0 = 0x80000011;		/* PG | ET | PE */
		sregs.efer = 0x500;		/* LME | LMA */
		regs.rip = boot->entry;
		regs.rsi = boot->rsi;
		break;
	case BOOT_RESET_VECTOR:
		/* The architectural reset state is what KVM gives a new vCPU. */
		return 0;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void real_segment(struct kvm_segment *seg, u16 selector, u8 type)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = selector;
	seg->base = (u64)selector << 4;
	seg->limit = 0xffff;
	seg->type = type;
	seg->present = 1;
	seg->s = 1;
}

/*
 * Back from ACPI S3, as firmware hands a resumed machine to the OS: the
 * boot CPU in real mode at the FACS waking vector (CS = vector >> 4, IP
 * its low 4 bits, data segments at 0, caches on, no paging), every
 * other CPU reset and waiting for INIT/SIPI as at power-on.
 */
static int vcpu_enter_resume_state(struct vcpu *vcpu, u32 vector)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_INIT_RECEIVED };
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (vcpu->id != 0) {
		if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0)
			return -errno;
		return 0;
	}
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	real_segment(&sregs.cs, vector >> 4, 0xb);
	real_segment(&sregs.ds, 0, 0x3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	memset(&sregs.gdt, 0, sizeof(sregs.gdt));
	memset(&sregs.idt, 0, sizeof(sregs.idt));
	sregs.gdt.limit = 0xffff;
	sregs.idt.limit = 0x3ff;
	sregs.cr0 = 0x10;		/* ET */
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = vector & 0xf;
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0)
		return -errno;
	return 0;
}

/* An ACPI sleep began: park until the wake, then resume. 1: the VM stops. */
static int vcpu_sleep(struct vcpu *vcpu, u64 epoch)
{
	u32 vector;
	int ret;

	if (!vm_sleep_wait(vcpu->vm, &vector))
		return 1;
	vcpu->sleep_epoch = epoch;
	ret = vcpu_enter_resume_state(vcpu, vector);
	if (ret) {
		vm_request_stop(vcpu->vm, STATUS_GUEST_CRASH,
				"cannot resume vCPU %u from ACPI S3: %s",
				vcpu->id, strerror(-ret));
		return 1;
	}
	if (vcpu->id == 0)
		log_info("ACPI S3: vCPU 0 resumes in real mode at %#x", vector);
	return 0;
}

static u64 vcpu_rip(struct vcpu *vcpu)
{
	struct kvm_regs regs;

	if (vcpu->fd < 0 || ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return ~0ULL;
	return regs.rip;
}

/*
 * Whether the vCPU, at rip, sits at the reset vector (CS 0xf000, base
 * 0xffff0000, RIP 0xfff0). KVM on SVM re-initialises the VMCB at a shutdown
 * intercept before it returns KVM_EXIT_SHUTDOWN, so a triple fault there
 * always reads as this state, whatever the guest was running.
 */
static bool vcpu_at_reset_vector(struct vcpu *vcpu, u64 rip)
{
	struct kvm_sregs sregs;

	if (rip != 0xfff0 || vcpu->fd < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return false;
	return sregs.cs.selector == 0xf000 && sregs.cs.base == 0xffff0000;
}

static int handle_io(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vm *vm = vcpu->vm;
	u8 *data = (u8 *)run + run->io.data_offset;
	u32 size = run->io.size;
	u32 i;

	/* A string instruction (rep ins/outs) arrives as count elements. */
	if (size != 1 && size != 2 && size != 4)
		return 0;
	if (run->io.data_offset + (u64)size * run->io.count >
	    (u64)vcpu->run_size && vcpu->run_size)
		return 0;
	for (i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&vm->pio, run->io.port, data, size);
		else
			bus_read(&vm->pio, run->io.port, data, size);
	}
	return 0;
}

static int handle_mmio(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vm *vm = vcpu->vm;
	u32 len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data))
		return 0;
	if (run->mmio.is_write)
		bus_write(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	return 0;
}

static const char *internal_error_name(u32 suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION:
		return "instruction emulation failed";
	case KVM_INTERNAL_ERROR_SIMUL_EX:
		return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return "event delivery failed";
	default:
		return "internal error";
	}
}

int vcpu_handle_exit(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vm *vm = vcpu->vm;
	u64 rip;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vcpu, run);
	case KVM_EXIT_MMIO:
		return handle_mmio(vcpu, run);
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; with one, KVM waits itself. */
		return 0;
	case KVM_EXIT_SHUTDOWN:
		rip = vcpu_rip(vcpu);
		if (vcpu_at_reset_vector(vcpu, rip)) {
			vm_request_stop(vm, STATUS_GUEST_CRASH,
					"guest crashed: triple fault on vCPU %u, its registers at the reset vector (RIP 0xfff0): KVM on AMD SVM resets them at a shutdown, so where it faulted may be lost",
					vcpu->id);
			return 1;
		}
		vm_request_stop(vm, STATUS_GUEST_CRASH,
				"guest crashed: triple fault on vCPU %u at RIP %#llx",
				vcpu->id, (unsigned long long)rip);
		return 1;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_request_stop(vm, STATUS_GUEST_CRASH,
				"guest crashed: KVM internal error %u (%s) on vCPU %u at RIP %#llx",
				run->internal.suberror,
				internal_error_name(run->internal.suberror),
				vcpu->id, (unsigned long long)vcpu_rip(vcpu));
		return 1;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_stop(vm, STATUS_GUEST_CRASH,
				"guest crashed: VM entry failed on vCPU %u (hardware reason %#llx)",
				vcpu->id,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_stop(vm, STATUS_OK, "guest shut down");
			return 1;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_reset(vm, "through KVM");
			return 1;
		default:
			vm_request_stop(vm, STATUS_GUEST_CRASH,
					"guest crashed: system event %u on vCPU %u",
					run->system_event.type, vcpu->id);
			return 1;
		}
	default:
		vm_request_stop(vm, STATUS_GUEST_CRASH,
				"guest crashed: unhandled KVM exit %u on vCPU %u at RIP %#llx",
				run->exit_reason, vcpu->id,
				(unsigned long long)vcpu_rip(vcpu));
		return 1;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t set;

	/* Only the kick signal reaches a vCPU thread; the main thread takes the rest. */
	sigfillset(&set);
	sigdelset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	while (!vm_stopping(vm)) {
		u64 epoch = vm_sleep_epoch(vm);

		if (epoch != vcpu->sleep_epoch) {
			if (vcpu_sleep(vcpu, epoch))
				break;
			continue;
		}
		if (phase_enabled && phase_cur.set) {
			phase_record(phase_cur.id, phase_cur.cmd,
				     phase_cur.region, phase_cur.exit,
				     phase_cur.sent, phase_cur.reply,
				     phase_now());
			phase_cur.set = false;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->run->immediate_exit = 0;
				continue;
			}
			vm_request_stop(vm, STATUS_GUEST_CRASH,
					"KVM_RUN on vCPU %u failed: %s",
					vcpu->id, strerror(errno));
			break;
		}
		if (phase_enabled)
			phase_cur.exit = phase_now();
		if (vcpu_handle_exit(vcpu, vcpu->run))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret)
		return -ret;
	vcpu->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->thread_started)
		return;
	/*
	 * immediate_exit covers a kick that lands just before KVM_RUN is
	 * entered; the signal covers one that lands while it runs.
	 */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->thread_started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->thread_started = false;
}
