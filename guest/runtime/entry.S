/* SPDX-License-Identifier: MIT */
/*
 * PVH entry: 32-bit protected mode, paging off, %ebx = start_info.
 * Load our GDT, turn on PAE paging with the static identity map below and
 * long mode, and call runtime_start(start_info) in C.
 *
 * The page tables are data, not code: on software KVM every CPL0
 * instruction is emulated, so the 4 GiB identity map is assembled at build
 * time instead of by a loop at boot.
 */
#include "x86.h"
#include "abi/pvh.h"

/* ELF note that makes this a PVH image (read by uvmm and QEMU). */
	.pushsection .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f			/* namesz */
	.long 4f - 3f			/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz "Xen"
2:	.balign 4
	/* 8 bytes as Linux writes it; readers taking 32 bits see the same */
3:	.quad pvh_start
4:	.balign 4
	.popsection

	.section .text.entry, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl %ebx, pvh_start_info_paddr
	lgdt gdt_ptr
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs

	movl $pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $KERNEL_CS, $long_mode_entry

	.code64
long_mode_entry:
	leaq boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	movl pvh_start_info_paddr(%rip), %edi
	call runtime_start
1:	hlt
	jmp 1b

	.data
	.balign 8
	.globl pvh_start_info_paddr
pvh_start_info_paddr:
	.quad 0

/*
 * GDT: kernel code/data, user data/code (in the order sysret would want,
 * should we ever use it), and the TSS whose descriptor runtime_start fills.
 */
	.balign 16
	.globl gdt
gdt:
	.quad 0				/* 0x00 null */
	.quad 0x00af9a000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
	.quad 0x00cff2000000ffff	/* 0x18 user data, DPL 3 */
	.quad 0x00affa000000ffff	/* 0x20 user code, 64-bit, DPL 3 */
	.quad 0, 0			/* 0x28 TSS (16 bytes) */
gdt_end:

	.balign 8
	.word 0				/* align the base */
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

/*
 * Identity map with 2 MiB pages, every level user-accessible (U) so that
 * run_user() code sees all memory. PML4[0] -> PDPT; PDPT[0..3] -> four page
 * directories for the first 4 GiB; 3-4 GiB (MMIO) is uncached. RAM above
 * 4 GiB gets directories at boot (paging.c), PDPT[4..511].
 */
	.balign PAGE_SIZE
	.globl pml4, pdpt
pml4:
	.quad pdpt + (PTE_P | PTE_W | PTE_U)
	.fill 511, 8, 0
pdpt:
	.quad pd0 + (PTE_P | PTE_W | PTE_U)
	.quad pd0 + PAGE_SIZE + (PTE_P | PTE_W | PTE_U)
	.quad pd0 + 2 * PAGE_SIZE + (PTE_P | PTE_W | PTE_U)
	.quad pd0 + 3 * PAGE_SIZE + (PTE_P | PTE_W | PTE_U)
	.fill 508, 8, 0
pd0:
	.set pd_addr, 0
	.rept 1536
	.quad pd_addr + (PTE_P | PTE_W | PTE_U | PTE_PS)
	.set pd_addr, pd_addr + LARGE_PAGE_SIZE
	.endr
	.rept 512
	.quad pd_addr + (PTE_P | PTE_W | PTE_U | PTE_PS | PTE_PCD | PTE_PWT)
	.set pd_addr, pd_addr + LARGE_PAGE_SIZE
	.endr

/* Stacks: not cleared, not in the file. */
	.section .noinit, "aw", @nobits
	.balign PAGE_SIZE
	.globl boot_stack_top, df_stack_top, user_stack_top
	.space 16384
boot_stack_top:
	.space 4096
df_stack_top:
	.space 32768
user_stack_top:

	.section .note.GNU-stack, "", @progbits
