// SPDX-License-Identifier: MIT
/*
 * triple-fault: crash on purpose. With an empty IDT, #UD cannot be
 * delivered, neither can the #GP nor the #DF that follow: the CPU shuts
 * down. uvmm must report a guest crash (status 8); QEMU with -no-reboot
 * exits with 0.
 */
#include "guest.h"

int main(void)
{
	struct desc_ptr empty = { .limit = 0, .base = 0 };

	printf("triple-fault: loading an empty IDT and executing ud2\n");
	lidt(&empty);
	asm volatile("ud2");
	/* not reached: there is no IDT left to report through */
	abort_test("still running after a triple fault");
}
