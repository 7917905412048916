/* SPDX-License-Identifier: MIT */
#ifndef UVMM_NVME_SANDBOX_H
#define UVMM_NVME_SANDBOX_H

#include <stddef.h>

/*
 * uvmm-nvme's seccomp filter, the server's counterpart of vmm/sandbox.c.
 * Installed on every thread (TSYNC) once the listening socket, the image
 * and the threads exist: from then on the server may accept clients,
 * talk vfio-user on their sockets, map the memory they send, read and
 * write the image and signal its eventfds, and nothing else (no new
 * files, no sockets but the twin socketpair, no processes, no executable
 * memory). A forbidden call raises SIGSYS, which ends the server with
 * NVME_STATUS_SANDBOX and one line naming the call.
 *
 * Returns 0, -ENOSYS when there is no filter to install (no seccomp in
 * the kernel, or a sanitizer build; err says which), or another negative
 * errno with err naming the problem.
 */
#define NVME_STATUS_SANDBOX	12	/* as uvmm's own sandbox status */

int nvme_sandbox_install(char *err, size_t err_len);

/* UVMM_NVME_SANDBOX_SELFTEST=1: make one forbidden call, socket() (tests). */
void nvme_sandbox_selftest(void);

#endif
