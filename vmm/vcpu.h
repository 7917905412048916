/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VCPU_H
#define UVMM_VCPU_H

#include <pthread.h>
#include <linux/kvm.h>

#include "common/types.h"

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int id;		/* also its APIC ID */
	int fd;
	struct kvm_run *run;
	int run_size;
	pthread_t thread;
	bool thread_started;
	u64 sleep_epoch;		/* the last ACPI sleep it woke from */
};

int vcpu_create(struct vm *vm, unsigned int id, const struct kvm_cpuid2 *cpuid,
		struct vcpu **out);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_set_boot_state(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);

/*
 * Handles one exit described by run: a pure function of the run structure
 * and the VM's buses, separate from the KVM_RUN loop so that unit tests
 * drive it with a hand-filled kvm_run. Returns 0 to re-enter the guest,
 * 1 when the VM must stop (the stop has been requested with its status).
 */
int vcpu_handle_exit(struct vcpu *vcpu, struct kvm_run *run);

/* CPUID for one vCPU: the supported table with its APIC ID and topology. */
struct kvm_cpuid2 *vcpu_cpuid_for(const struct kvm_cpuid2 *supported,
				  unsigned int apic_id, unsigned int nr_cpus);

/* Signal used to kick vCPU threads out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1
void vcpu_install_kick_handler(void);

#endif
