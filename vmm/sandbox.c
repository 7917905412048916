// SPDX-License-Identifier: MIT
/*
 * The seccomp filter uvmm runs under once its VM is set up (sandbox.h).
 * What a guest or a vfio-user server can make uvmm do is then bounded by
 * this list: no new files, sockets, processes or executable memory.
 */
#define LOG_PREFIX "sandbox"

#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdbool.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>

#include "common/log.h"
#include "common/seccomp_policy.h"
#include "vmm/sandbox.h"
#include "vmm/vm.h"

/* Everything a running uvmm calls, by what it is for. */
static const int allowed[] = {
	/* fds it already has: eventfds, signalfd, the serial, sockets */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(lseek),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(fcntl),
	SCMP_SYS(signalfd4),
	/* the vfio-user transport (fds travel as SCM_RIGHTS) */
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
	SCMP_SYS(recvfrom), SCMP_SYS(shutdown),
	/* memory: malloc, thread stacks on exit; never executable (below) */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(mremap),
	/* threads, locks, time */
	SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettid), SCMP_SYS(getpid),
	SCMP_SYS(tgkill), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall),
	/* glibc unregisters these as a thread ends */
	SCMP_SYS(rseq), SCMP_SYS(set_robust_list),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static bool allow_reconnect;

void sandbox_allow_reconnect(void)
{
	allow_reconnect = true;
}

/*
 * What connecting to a vfio-user server again takes: a UNIX socket, its
 * timeouts, and the client's threads (never a new process: CLONE_THREAD).
 */
static int add_reconnect_rules(scmp_filter_ctx ctx)
{
	int ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			       SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0);
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt),
				       1, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET, 0));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
					       CLONE_THREAD));
	/* clone3's flags are behind a pointer: glibc then uses clone. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				       SCMP_SYS(clone3), 0);
	return ret;
}

/* The ioctls of a running VM: KVM's own, and the terminal's state. */
static const unsigned long allowed_tty_ioctls[] = { TCGETS, TCSETS, TCSETSW };

static int add_rules(scmp_filter_ctx ctx)
{
	unsigned int i;
	int ret;

	/* KVM's ioctls are all of type 0xAE (KVMIO). */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, KVMIO << 8));
	if (ret)
		return ret;
	for (i = 0; i < sizeof(allowed_tty_ioctls) / sizeof(allowed_tty_ioctls[0]); i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, allowed_tty_ioctls[i], 0));
		if (ret)
			return ret;
	}
	if (allow_reconnect)
		ret = add_reconnect_rules(ctx);
	return ret;
}

int sandbox_install(char *err, size_t err_len)
{
	static const struct seccomp_policy policy = {
		.program = "uvmm",
		.status = STATUS_SANDBOX,
		.allowed = allowed,
		.nr_allowed = sizeof(allowed) / sizeof(allowed[0]),
		.add_rules = add_rules,
		.also = ", KVM's ioctls",
	};

	/* The RTC reads local time: glibc opens the zone file on first use. */
	tzset();
	return seccomp_policy_install(&policy, err, err_len);
}

void sandbox_selftest(void)
{
	const char *v = getenv("UVMM_SANDBOX_SELFTEST");

	/* a new socket: what a compromised uvmm would want first */
	if (v && !strcmp(v, "1"))
		log_info("selftest: socket() -> %d", socket(AF_UNIX, SOCK_STREAM, 0));
}
