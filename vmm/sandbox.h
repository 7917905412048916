/* SPDX-License-Identifier: MIT */
#ifndef UVMM_SANDBOX_H
#define UVMM_SANDBOX_H

#include <stddef.h>

/*
 * Once the VM is built and running, uvmm needs a few dozen system calls:
 * KVM's ioctls, reads and writes on its fds and sockets, memory, futexes,
 * clocks. sandbox_install() puts a seccomp filter allowing just those on
 * every thread (TSYNC); any other call raises SIGSYS, which ends uvmm with
 * STATUS_SANDBOX and one line naming the call. Returns 0, -ENOSYS where the
 * kernel has no seccomp filters (err says so), or another negative errno.
 */
int sandbox_install(char *err, size_t err_len);

/*
 * A vfio-user device with on-error=reconnect must connect again, and its
 * client starts threads: call before sandbox_install() to allow AF_UNIX
 * socket(), connect(), SOL_SOCKET setsockopt() and clone() of threads
 * (clone3 answers ENOSYS, so glibc falls back to clone, whose flags a
 * filter can check).
 */
void sandbox_allow_reconnect(void);

/* UVMM_SANDBOX_SELFTEST=1: make one forbidden call, socket() (tests only). */
void sandbox_selftest(void);

#endif
