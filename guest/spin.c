// SPDX-License-Identifier: MIT
/*
 * spin: never exits. It loops at CPL3 with pause, so the VMM's --timeout
 * (status 124) and signal handling have a busy guest to stop.
 */
#include "guest.h"

static int spin(void *arg)
{
	(void)arg;
	for (;;)
		cpu_relax();
	return 0;
}

int main(void)
{
	printf("spin: spinning forever at CPL3\n");
	run_user(spin, NULL);
	abort_test("spin loop returned");
}
