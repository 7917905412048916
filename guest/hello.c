// SPDX-License-Identifier: MIT
/* The smallest test: greet on COM1, show what the VMM handed over, pass. */
#include "guest.h"

static int user_hello(void *arg)
{
	printf("Hello from CPL%u, %s\n", cpl(), (const char *)arg);
	return 7;
}

int main(void)
{
	const struct hvm_start_info *si = boot_info();
	struct user_trap_counts traps;
	unsigned int i;

	printf("Hello from uvmm guest\n");
	report(si && si->magic == HVM_START_MAGIC_VALUE,
	       "start_info at %p, version %u", si, si ? si->version : 0);
	report_info("command line: \"%s\"", boot_cmdline());
	report_info("%u memory map entries, %u modules",
		    boot_memmap_count(), boot_module_count());
	for (i = 0; i < boot_module_count(); i++)
		report_info("module %u: %#llx, %llu bytes, \"%s\"", i,
			    (unsigned long long)boot_module(i)->paddr,
			    (unsigned long long)boot_module(i)->size,
			    boot_module_cmdline(i));
	report(cpl() == 0, "main runs at CPL0");
	report(run_user(user_hello, "with port I/O") == 7,
	       "run_user() returns the function's value");
	user_trap_counts(&traps);
	report_info("user-mode port I/O by %s: %lu in/out, %lu sti/cli, %lu returns finished at CPL0",
		    user_io_mode_name(), traps.port_io, traps.irq_flag,
		    traps.returns);
	/* the forced fallback must really have been taken */
	if (user_io_mode == USER_IO_TRAP)
		report(traps.port_io > 0 && traps.returns == 1,
		       "rt.user_io=trap: CPL3 port I/O and the return went through the fault handlers");
	return report_summary();
}
