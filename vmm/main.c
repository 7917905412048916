// SPDX-License-Identifier: MIT
/*
 * uvmm: command line in, exit status out. The only file that decides to
 * exit, and with which status (docs/design.md, "Exit status").
 */
#define LOG_PREFIX NULL

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/phase.h"
#include "vmm/config.h"
#include "vmm/sandbox.h"
#include "vmm/vm.h"

static void block_signals(void)
{
	sigset_t set;

	/*
	 * Blocked before any thread exists, so every thread inherits the
	 * mask and only the main thread's signalfd sees them.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A closed serial pipe must be an EPIPE, not a death. */
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Every thread runs by now: the filter goes on all of them at once. Where
 * it cannot, --sandbox=on stops the VM; the default goes on without it
 * only where the kernel has no seccomp filters at all.
 */
static void start_sandbox(struct vm *vm, enum sandbox_mode mode)
{
	char err[256];
	int ret;

	if (mode == SANDBOX_OFF)
		return;
	ret = sandbox_install(err, sizeof(err));
	if (ret == -ENOSYS && mode == SANDBOX_AUTO) {
		log_info("sandbox: off: %s", err);
		return;
	}
	if (ret) {
		vm_request_stop(vm, STATUS_HOST_SETUP, "sandbox: %s", err);
		return;
	}
	sandbox_selftest();
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct vm *vm = NULL;
	char err[512];
	int status;

	switch (config_parse(argc, argv, &cfg, err, sizeof(err))) {
	case CONFIG_HELP:
		config_usage(stdout);
		config_free(&cfg);
		return STATUS_OK;
	case CONFIG_VERSION:
		printf("uvmm %s\n", UVMM_VERSION);
		config_free(&cfg);
		return STATUS_OK;
	case CONFIG_ERROR:
		log_err("%s", err);
		config_free(&cfg);
		return STATUS_BAD_CLI;
	case CONFIG_RUN:
		break;
	}
	log_set_level(cfg.verbosity >= 2 ? LOG_TRACE :
		      cfg.verbosity == 1 ? LOG_DEBUG : LOG_WARN);

	/*
	 * --dump-dtb needs nothing here: vm_build() writes the tree it hands
	 * the guest as soon as it is built, before KVM is opened, so the
	 * file appears even on a host where the VM then cannot start.
	 */

	block_signals();
	phase_start_from_env();		/* make bench's breakdown, off by default */
	if (vm_build(&cfg, &vm, &status)) {
		config_free(&cfg);
		return status;
	}
	if (vm_start(vm) == 0 || vm_stopping(vm)) {
		start_sandbox(vm, cfg.sandbox);
		status = vm_run_until_stop(vm);
	}

	/* The VMM's own failures carry a message; the guest's word does not. */
	if (vm->exit_reason[0]) {
		if (status != STATUS_OK && (status == STATUS_HOST_SETUP ||
					    status == STATUS_GUEST_CRASH ||
					    status == STATUS_DEVICE_FAILED ||
					    status == STATUS_TIMEOUT ||
					    status >= 128))
			log_err("%s", vm->exit_reason);
		else
			log_info("%s", vm->exit_reason);
	}
	vm_destroy(vm);
	phase_finish();
	config_free(&cfg);
	return status;
}
