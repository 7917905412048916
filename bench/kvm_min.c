// SPDX-License-Identifier: MIT
/*
 * The floor for "start a VM and get an exit": open /dev/kvm, create a VM
 * with what uvmm's machine cannot do without (the in-kernel irqchip and
 * PIT, the TSS pages, 128 MiB of RAM in a memfd: uvmm's default), one
 * page of it holding `out %al, $0xf4` (with the in-kernel irqchip a `hlt`
 * stays in KVM, so the port write is the exit, as uvmm's guests end), run
 * one vCPU in real mode until that exit, and leave. Nothing uvmm does to
 * start a guest can be cheaper. Exit status 0 on the port exit, 1 on
 * anything else.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#define RAM_SIZE	(128ul << 20)
#define TSS_ADDR	0xfffbd000ul

int main(void)
{
	struct kvm_userspace_memory_region slot;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, size;
	struct kvm_pit_config pit = { .flags = 0 };
	unsigned char *page;
	int ram;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm_min: /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ram = memfd_create("kvm_min-ram", MFD_CLOEXEC);
	if (vm < 0 || ram < 0 || ftruncate(ram, RAM_SIZE)) {
		perror("kvm_min: KVM_CREATE_VM, RAM");
		return 1;
	}
	if (ioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDR) < 0 ||
	    ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0 ||
	    ioctl(vm, KVM_CREATE_PIT2, &pit) < 0) {
		perror("kvm_min: irqchip, PIT");
		return 1;
	}
	page = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram, 0);
	if (page == MAP_FAILED) {
		perror("kvm_min: mmap");
		return 1;
	}
	page[0x1000] = 0xe6;	/* out %al, $0xf4 */
	page[0x1001] = 0xf4;
	memset(&slot, 0, sizeof(slot));
	slot.guest_phys_addr = 0;
	slot.memory_size = RAM_SIZE;
	slot.userspace_addr = (unsigned long)page;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		perror("kvm_min: KVM_SET_USER_MEMORY_REGION");
		return 1;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || size <= 0) {
		perror("kvm_min: KVM_CREATE_VCPU");
		return 1;
	}
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		perror("kvm_min: vCPU setup");
		return 1;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 0x2;
	ioctl(vcpu, KVM_SET_REGS, &regs);
	if (ioctl(vcpu, KVM_RUN, 0) < 0) {
		perror("kvm_min: KVM_RUN");
		return 1;
	}
	return run->exit_reason == KVM_EXIT_IO && run->io.port == 0xf4 ? 0 : 1;
}
