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
	return report_summary();
}
