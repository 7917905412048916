// SPDX-License-Identifier: MIT
/*
 * The part of uvmm's and uvmm-nvme's seccomp filters that is the same
 * (seccomp_policy.h).
 */
#define LOG_PREFIX "sandbox"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "common/seccomp_policy.h"
#include "common/types.h"

/*
 * Sanitizer builds run without a filter: their runtime makes calls the
 * programs never do (alternate signal stacks, and LeakSanitizer's
 * stop-the-world at exit, which ptraces every thread and hangs under a
 * filter). The release build is the one users run.
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

/* What the SIGSYS handler says and does; set once, before the filter. */
static const char *sigsys_program;
static int sigsys_status;

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
		     "%s: sandbox: forbidden system call %s (%d) on thread %d; stopping\n",
		     sigsys_program, name ? name : "?", info->si_syscall,
		     (int)gettid());
	if (n > 0 && write(STDERR_FILENO, line, MIN((size_t)n, sizeof(line) - 1)) < 0)
		n = 0;
	_exit(sigsys_status);
}

static int add_rules(const struct seccomp_policy *p, scmp_filter_ctx ctx)
{
	unsigned int i;
	int ret;

	for (i = 0; i < p->nr_allowed; i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, p->allowed[i], 0);
		if (ret)
			return ret;
	}
	/* New memory, and mprotect of malloc's arenas, but never PROT_EXEC. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!ret && p->add_rules)
		ret = p->add_rules(ctx);
	return ret;
}

int seccomp_policy_install(const struct seccomp_policy *p, char *err,
			   size_t err_len)
{
	struct sigaction sa = {
		.sa_sigaction = on_sigsys,
		.sa_flags = SA_SIGINFO,
	};
	scmp_filter_ctx ctx;
	int ret;

	if (UNDER_SANITIZER)
		return err_fmt(err, err_len, -ENOSYS,
			       "not in a sanitizer build (its runtime needs ptrace)");
	if (seccomp_api_get() < 1)
		return err_fmt(err, err_len, -ENOSYS,
			       "the kernel has no seccomp filters");
	sigsys_program = p->program;
	sigsys_status = p->status;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return err_fmt(err, err_len, -errno, "sigaction(SIGSYS): %s",
			       strerror(errno));
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return err_fmt(err, err_len, -ENOMEM, "seccomp_init failed");
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = add_rules(p, ctx);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		return err_fmt(err, err_len, ret, "cannot install the filter: %s",
			       strerror(-ret));
	log_debug("seccomp filter on every thread: %u system calls%s",
		  p->nr_allowed, p->also ? p->also : "");
	return 0;
}
