// SPDX-License-Identifier: MIT
/*
 * bench-idle: says "BENCH-IDLE" and then waits for good with interrupts
 * off, so that `make bench` can read the VMM's resident memory and
 * threads (bench/measure.sh) while the guest touches nothing more.
 * uvmm and QEMU boot it alike; it never exits (the bench kills the VMM).
 */
#include "guest.h"

int main(void)
{
	puts("BENCH-IDLE");
	for (;;) {
		cli();
		hlt();
	}
}
