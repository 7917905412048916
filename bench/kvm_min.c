// SPDX-License-Identifier: MIT
/*
 * The floor for "start a VM and get an exit": open /dev/kvm, create a VM
 * with one page of RAM holding `hlt`, run one vCPU in real mode until the
 * HLT exit, and leave. Nothing uvmm does to start a guest can be cheaper.
 * Exit status 0 on the HLT exit, 1 on anything else.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

int main(void)
{
	struct kvm_userspace_memory_region slot;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, size;
	unsigned char *page;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm_min: /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (vm < 0 || page == MAP_FAILED) {
		perror("kvm_min: KVM_CREATE_VM");
		return 1;
	}
	page[0] = 0xf4;		/* hlt */
	memset(&slot, 0, sizeof(slot));
	slot.guest_phys_addr = 0x1000;
	slot.memory_size = 4096;
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
	return run->exit_reason == KVM_EXIT_HLT ? 0 : 1;
}
