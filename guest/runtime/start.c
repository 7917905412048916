// SPDX-License-Identifier: MIT
/* From entry.S in long mode to main(). */
#include "runtime.h"

void runtime_start(u32 start_info_paddr)
{
	void *bss = __bss_start;
	size_t bss_words = (__bss_end - __bss_start) / 8;	/* 8-aligned: guest.ld */

	/*
	 * Whatever the loader did: one instruction for the emulator (a C loop
	 * would be thousands at CPL0 on software KVM).
	 */
	asm volatile("rep stosq" : "+D"(bss), "+c"(bss_words) : "a"(0) : "memory");

	trap_init();
	serial_init();
	if (boot_info_init(start_info_paddr))
		abort_test("no PVH start_info at %#x (want magic %#x)",
			   start_info_paddr, HVM_START_MAGIC_VALUE);
	if (user_io_init())
		abort_test("rt.user_io= takes iopl or trap");
	trap_set_user_return_gate(user_io_mode == USER_IO_IOPL);
	heap_init();
	paging_map_high_ram();
	exit(main());
}
