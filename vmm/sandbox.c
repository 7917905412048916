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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
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

/*
 * Sanitizer builds (make check SANITIZE=1) run without the filter: their
 * runtime makes calls uvmm never does (alternate signal stacks, and
 * LeakSanitizer's stop-the-world at exit, which ptraces every thread and
 * hangs under a filter). The release build is the one users run.
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

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

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
		if (ret)
			return ret;
	}
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
	/* New memory, and mprotect of malloc's arenas, but never PROT_EXEC. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (ret)
		return ret;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

/*
 * A forbidden call: say which, then end. The message is made here, in
 * the signal handler, because the process goes no further than _exit().
 */
static void on_sigsys(int sig, siginfo_t *info, void *ucontext)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
						      info->si_syscall);
	char line[160];
	int n;

	(void)sig;
	(void)ucontext;
	n = snprintf(line, sizeof(line),
		     "uvmm: sandbox: forbidden system call %s (%d) on thread %d; stopping\n",
		     name ? name : "?", info->si_syscall, (int)gettid());
	if (n > 0 && write(STDERR_FILENO, line, MIN((size_t)n, sizeof(line) - 1)) < 0)
		n = 0;
	_exit(STATUS_SANDBOX);
}

int sandbox_install(char *err, size_t err_len)
{
	struct sigaction sa = {
		.sa_sigaction = on_sigsys,
		.sa_flags = SA_SIGINFO,
	};
	scmp_filter_ctx ctx;
	int ret;

#ifdef UNDER_SANITIZER
	return err_fmt(err, err_len, -ENOSYS,
		       "not in a sanitizer build (its runtime needs ptrace)");
#endif
	if (seccomp_api_get() < 1)
		return err_fmt(err, err_len, -ENOSYS,
			       "the kernel has no seccomp filters");
	/* The RTC reads local time: glibc opens the zone file on first use. */
	tzset();
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return err_fmt(err, err_len, -errno, "sigaction(SIGSYS): %s",
			       strerror(errno));
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return err_fmt(err, err_len, -ENOMEM, "seccomp_init failed");
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = add_rules(ctx);
	if (!ret && allow_reconnect)
		ret = add_reconnect_rules(ctx);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		return err_fmt(err, err_len, ret, "cannot install the filter: %s",
			       strerror(-ret));
	log_debug("seccomp filter on every thread: %zu system calls, KVM's ioctls",
		  sizeof(allowed) / sizeof(allowed[0]));
	return 0;
}

void sandbox_selftest(void)
{
	const char *v = getenv("UVMM_SANDBOX_SELFTEST");

	/* a new socket: what a compromised uvmm would want first */
	if (v && !strcmp(v, "1"))
		log_info("selftest: socket() -> %d", socket(AF_UNIX, SOCK_STREAM, 0));
}
