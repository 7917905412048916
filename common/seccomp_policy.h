/* SPDX-License-Identifier: MIT */
#ifndef UVMM_COMMON_SECCOMP_POLICY_H
#define UVMM_COMMON_SECCOMP_POLICY_H

#include <stddef.h>
#include <seccomp.h>

/*
 * One program's seccomp filter (uvmm's vmm/sandbox.c, uvmm-nvme's
 * nvme/sandbox.c): the calls it may make with any arguments, and a hook
 * for the rules that look at arguments. What they share is here: the
 * install (every thread, TSYNC), mmap and mprotect never with PROT_EXEC,
 * and a forbidden call ending the process with status after one line,
 * "PROGRAM: sandbox: forbidden system call NAME (NR) on thread TID;
 * stopping".
 */
struct seccomp_policy {
	const char *program;
	int status;
	const int *allowed;
	unsigned int nr_allowed;
	/* Rules with argument checks beyond the shared ones; may be NULL. */
	int (*add_rules)(scmp_filter_ctx ctx);
	/* For the debug line after "N system calls". */
	const char *also;
};

/*
 * Installs the filter on every thread of the process. -ENOSYS (with the
 * reason in err) where it cannot be had: no seccomp in the kernel, or a
 * sanitizer build, whose runtime makes calls no program here does.
 */
int seccomp_policy_install(const struct seccomp_policy *p, char *err,
			   size_t err_len);

#endif
