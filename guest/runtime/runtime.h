/* SPDX-License-Identifier: MIT */
/* Runtime-internal declarations, shared between guest/runtime/ files. */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include "guest.h"

extern u64 pvh_start_info_paddr;
extern u64 pml4[512], pdpt[512];
extern char __bss_start[], __bss_end[];

void runtime_start(u32 start_info_paddr) __attribute__((noreturn));
void trap_init(void);
void serial_init(void);
int boot_info_init(u64 paddr);
void heap_init(void);
void paging_map_high_ram(void);
/* An interrupt (vector 32-255) arrived: apic.c. */
void irq_dispatch(struct trap_frame *tf);
/* Point IDT entry vector (32-255) at its interrupt stub. */
void trap_set_irq_gate(unsigned int vector);
/* Count one failure that did not go through report() (a fatal exception). */
void report_count_failure(void);

#endif
