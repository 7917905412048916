/* SPDX-License-Identifier: MIT */
/*
 * Multiboot 1 entry of multiboot.elf: the header a Multiboot loader looks
 * for, and mb_start, entered in 32-bit protected mode with paging off,
 * eax = 0x2badb002 and ebx = the multiboot_info. It keeps what it was
 * given for main() to check, then hands the runtime what it expects from a
 * PVH boot: an hvm_start_info made from the Multiboot memory map, command
 * line and modules (so the heap steps around the modules), and enters
 * through pvh_start.
 */
#include "x86.h"
#include "abi/multiboot.h"
#include "abi/pvh.h"

#define MB_HEADER_FLAGS		MULTIBOOT_MEMORY_INFO
#define MAX_MEMMAP		16
#define MAX_MODULES		8

	/* First in .text: well inside the file's first 8 KiB. */
	.section .text.entry, "ax"
	.balign 4
mb_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MULTIBOOT_HEADER_MAGIC + MB_HEADER_FLAGS)

	.code32
	.globl mb_start
mb_start:
	/*
	 * The entry state, before anything changes it. Multiboot leaves esp
	 * undefined: a stack of our own first.
	 */
	movl $mb_stack_top, %esp
	movl %eax, mb_entry_eax
	movl %ebx, mb_entry_ebx
	movl %cr0, %eax
	movl %eax, mb_entry_cr0
	pushfl
	popl mb_entry_eflags
	cli
	cld

	movl $mb_si, %edi
	movl (%ebx), %edx			/* mbi->flags */

	testl $MBI_CMDLINE, %edx
	jz 1f
	movl 16(%ebx), %eax			/* mbi->cmdline */
	movl %eax, 24(%edi)			/* si.cmdline_paddr */
1:
	testl $MBI_MEM_MAP, %edx
	jz 3f
	movl 48(%ebx), %esi			/* mbi->mmap_addr */
	movl 44(%ebx), %ecx			/* mbi->mmap_length */
	addl %esi, %ecx				/* end */
	movl $mb_memmap, %ebp
	xorl %eax, %eax
2:	cmpl %ecx, %esi
	jae 3f
	cmpl $MAX_MEMMAP, %eax
	jae 3f
	/* {size, addr64, len64, type} -> {addr64, size64, type, 0} */
	pushl %eax
	movl 4(%esi), %eax
	movl %eax, 0(%ebp)
	movl 8(%esi), %eax
	movl %eax, 4(%ebp)
	movl 12(%esi), %eax
	movl %eax, 8(%ebp)
	movl 16(%esi), %eax
	movl %eax, 12(%ebp)
	movl 20(%esi), %eax
	movl %eax, 16(%ebp)
	popl %eax
	incl %eax
	addl $24, %ebp
	addl (%esi), %esi			/* size field ... */
	addl $4, %esi				/* ... counts what follows it */
	jmp 2b
3:	movl %eax, 48(%edi)			/* si.memmap_entries */

	testl $MBI_MODS, %edx
	jz 5f
	movl 20(%ebx), %ecx			/* mbi->mods_count */
	cmpl $MAX_MODULES, %ecx
	jbe 4f
	movl $MAX_MODULES, %ecx
4:	movl %ecx, 12(%edi)			/* si.nr_modules */
	movl 24(%ebx), %esi			/* mbi->mods_addr */
	movl $mb_modlist, %ebp
	/* {start, end, cmdline, 0} -> {paddr64, size64, cmdline64, 0} */
6:	testl %ecx, %ecx
	jz 5f
	movl 0(%esi), %eax
	movl %eax, 0(%ebp)
	movl 4(%esi), %eax
	subl 0(%esi), %eax
	movl %eax, 8(%ebp)
	movl 8(%esi), %eax
	movl %eax, 16(%ebp)
	addl $16, %esi
	addl $32, %ebp
	decl %ecx
	jmp 6b
5:
	movl $mb_si, %ebx
	jmp pvh_start

	/* .data, not .bss: the runtime clears .bss after this ran. */
	.data
	.balign 8
	.globl mb_entry_eax, mb_entry_ebx, mb_entry_cr0, mb_entry_eflags
mb_entry_eax:	.long 0
mb_entry_ebx:	.long 0
mb_entry_cr0:	.long 0
mb_entry_eflags: .long 0

	.balign 8
mb_si:
	.long HVM_START_MAGIC_VALUE		/* magic */
	.long 1					/* version */
	.long 0					/* flags */
	.long 0					/* nr_modules */
	.quad mb_modlist			/* modlist_paddr */
	.quad 0					/* cmdline_paddr */
	.quad 0					/* rsdp_paddr */
	.quad mb_memmap				/* memmap_paddr */
	.long 0					/* memmap_entries */
	.long 0
mb_memmap:
	.fill MAX_MEMMAP * 24, 1, 0
mb_modlist:
	.fill MAX_MODULES * 32, 1, 0
	.balign 16
	.fill 64, 1, 0
mb_stack_top:
