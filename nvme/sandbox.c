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

#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/seccomp_policy.h"
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

/* Rules with arguments; the no-PROT_EXEC memory rules are shared. */
static int add_rules(scmp_filter_ctx ctx)
{
	int ret;

	/* The twin socket of each client: a UNIX socketpair, nothing else. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
			       SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	if (ret)
		return ret;
	/* Send and receive timeouts on those sockets. */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
				SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET, 0));
}

int nvme_sandbox_install(char *err, size_t err_len)
{
	static const struct seccomp_policy policy = {
		.program = "uvmm-nvme",
		.status = NVME_STATUS_SANDBOX,
		.allowed = allowed,
		.nr_allowed = sizeof(allowed) / sizeof(allowed[0]),
		.add_rules = add_rules,
		.also = " and 4 with argument checks",
	};

	return seccomp_policy_install(&policy, err, err_len);
}

void nvme_sandbox_selftest(void)
{
	const char *v = getenv("UVMM_NVME_SANDBOX_SELFTEST");

	if (v && !strcmp(v, "1"))
		log_info("selftest: socket() -> %d", socket(AF_INET, SOCK_STREAM, 0));
}
