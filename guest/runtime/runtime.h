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
/* Set the gate of USER_RETURN_VECTOR to DPL 3 (through) or 0 (faults). */
void trap_set_user_return_gate(bool dpl3);
/* rt.user_io= from the command line: 0, or -1 for an unknown value. */
int user_io_init(void);
/* A #GP/#UD that user.c completes (trapped port I/O, sti/cli, run_user's return). */
bool user_fault_complete(struct trap_frame *tf);
/* Called by report_summary() before its line, when set. */
extern void (*report_summary_hook)(void);
/* Count one failure that did not go through report() (a fatal exception). */
void report_count_failure(void);

#endif
