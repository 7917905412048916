// SPDX-License-Identifier: MIT
/*
 * The seccomp filter uvmm-nvme serves under (sandbox.h). The list is
 * what the server loop, the I/O threads and the signal thread call; a
 * guest or a client that finds a bug in the server can then not make it
 * open, connect or run anything. The socket file is removed at exit by
 * a helper process forked before the filter (main.c): unlink takes a
 * path, and a filter cannot say which path.
 */
#define LOG_PREFIX "sandbox"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "common/types.h"
#include "nvme/sandbox.h"

static const int allowed[] = {
	/* fds it has or is sent: sockets, eventfds, the image */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(lseek),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(fcntl),
	/* the namespace: data, flush, Write Zeroes and deallocate */
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(preadv2), SCMP_SYS(pwritev), SCMP_SYS(fdatasync),
	SCMP_SYS(fsync),
	SCMP_SYS(fallocate),
	/* clients: accept on the listening socket, messages with fds */
	SCMP_SYS(accept4), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(shutdown),
	/* memory: malloc, the clients' DMA maps; never executable (below) */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(mremap),
	/* threads, locks, time, signals (sigwait), the exit helper */
	SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettid), SCMP_SYS(getpid),
	SCMP_SYS(tgkill), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sched_yield),
	SCMP_SYS(restart_syscall), SCMP_SYS(wait4),
	/* json-c seeds its hash tables when it parses a VERSION message */
	SCMP_SYS(getrandom),
	SCMP_SYS(rseq), SCMP_SYS(set_robust_list),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* As in vmm/sandbox.c: the sanitizers' runtime needs calls (ptrace) we refuse. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

static int add_rules(scmp_filter_ctx ctx)
{
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
		if (ret)
			return ret;
	}
	/* The twin socket of each client: a UNIX socketpair, nothing else. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
			       SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	if (ret)
		return ret;
	/* Send and receive timeouts on those sockets. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
			       SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET, 0));
	if (ret)
		return ret;
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (ret)
		return ret;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

/* A forbidden call: one line made in the handler, then the status. */
static void on_sigsys(int sig, siginfo_t *info, void *ucontext)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
						      info->si_syscall);
	char line[160];
	int n;

	(void)sig;
	(void)ucontext;
	n = snprintf(line, sizeof(line),
		     "uvmm-nvme: sandbox: forbidden system call %s (%d) on thread %d; stopping\n",
		     name ? name : "?", info->si_syscall, (int)gettid());
	if (n > 0 && write(STDERR_FILENO, line, MIN((size_t)n, sizeof(line) - 1)) < 0)
		n = 0;
	_exit(NVME_STATUS_SANDBOX);
}

int nvme_sandbox_install(char *err, size_t err_len)
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
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		return err_fmt(err, err_len, ret, "cannot install the filter: %s",
			       strerror(-ret));
	log_debug("seccomp filter on every thread: %zu system calls and 4 with argument checks",
		  sizeof(allowed) / sizeof(allowed[0]));
	return 0;
}

void nvme_sandbox_selftest(void)
{
	const char *v = getenv("UVMM_NVME_SANDBOX_SELFTEST");

	if (v && !strcmp(v, "1"))
		log_info("selftest: socket() -> %d", socket(AF_INET, SOCK_STREAM, 0));
}
