/* SPDX-License-Identifier: MIT */
/*
 * The protected-mode part of the probe: the 32-bit entry at offset 0
 * (unused: the probe is 64-bit only, XLF_KERNEL_64), the 64-bit entry at
 * offset 0x200, exception and interrupt stubs, and the real-mode
 * trampoline the APs start in. Everything is RIP-relative: the loader
 * chooses where this runs.
 */

	.section .head32, "ax"
	.code32
	.globl	startup_32
startup_32:
	cli
1:	hlt
	jmp	1b

	.section .head64, "ax"
	.code64
	.globl	startup_64
startup_64:
	/*
	 * The boot protocol's state: long mode, CS __BOOT_CS, DS/ES/SS
	 * __BOOT_DS, interrupts off, rsi = zero page, no stack. Clear .bss
	 * (one instruction), then record the entry state for probe_main to
	 * check before anything changes it.
	 */
	cld
	movq	%rsi, %r12
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	xorl	%eax, %eax
	rep stosb
	leaq	entry_state(%rip), %rdi
	movw	%cs, 0(%rdi)
	movw	%ds, 2(%rdi)
	movw	%es, 4(%rdi)
	movw	%ss, 6(%rdi)
	movq	%r12, 16(%rdi)
	leaq	boot_stack + BOOT_STACK_SIZE(%rip), %rsp
	pushfq
	popq	8(%rdi)
	movq	%r12, %rdi
	call	probe_main
3:	cli
	hlt
	jmp	3b

	.text
	.code64

/* void load_gdt(const struct desc_ptr *gdt): reload CS and the data segments. */
	.globl	load_gdt
load_gdt:
	lgdt	(%rdi)
	pushq	$BOOT_CS
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	ret

/*
 * Exception stubs, 16 bytes each: push a zero error code where the CPU
 * pushes none, push the vector, and report from C (probe_exception never
 * returns).
 */
	.align	16
	.globl	exception_stubs
exception_stubs:
	vector = 0
	.rept	32
	.align	16
	.if	vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30
	.else
	pushq	$0
	.endif
	pushq	$vector
	jmp	exception_common
	vector = vector + 1
	.endr

exception_common:
	movq	%rsp, %rdi		/* vector, error code, rip, cs, rflags, ... */
	andq	$-16, %rsp
	call	probe_exception
4:	cli
	hlt
	jmp	4b

/* External interrupts (the UART's, the spurious vector): C does the EOI. */
	.globl	irq_stub
irq_stub:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	call	probe_irq
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	iretq

	.globl	spurious_stub
spurious_stub:
	iretq

/*
 * The AP trampoline, copied by the BSP to a free page below 1 MiB whose
 * number is the SIPI vector. The BSP patches the GDT pointer's base and
 * the far pointer's offset (absolute addresses of the copy). An AP enters
 * in real mode at CS = page << 8, IP = 0, goes to flat 32-bit protected
 * mode, and checks in: its LAPIC ID register, CPUID 1's initial APIC ID
 * and CPUID 0xb's x2APIC ID (0xffffffff without that leaf) go in the
 * record indexed by the LAPIC ID, then the count goes up. Then it halts
 * with interrupts off for good.
 */
	.section .rodata.trampoline, "a"
	.globl	trampoline_start, trampoline_end
	.globl	tr_gdt, tr_gdt_desc, tr_far_ptr, tr_pm, tr_count, tr_records
	.code16
trampoline_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	movzwl	%ax, %esi
	shll	$4, %esi			/* esi: the copy's linear address */
	lgdtl	tr_gdt_desc - trampoline_start
	movl	%cr0, %eax
	orl	$1, %eax			/* PE */
	movl	%eax, %cr0
	ljmpl	*(tr_far_ptr - trampoline_start)

	.code32
tr_pm:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	0xfee00020, %edi		/* LAPIC ID register */
	shrl	$24, %edi
	cmpl	$TR_MAX_CPUS, %edi
	jae	tr_halt
	movl	%edi, %ebp
	shll	$4, %ebp
	leal	(tr_records - trampoline_start)(%esi,%ebp), %ebp
	movl	$1, %eax
	cpuid
	shrl	$24, %ebx
	movl	%ebx, 4(%ebp)
	xorl	%eax, %eax
	cpuid
	cmpl	$0xb, %eax
	jb	1f
	movl	$0xb, %eax
	xorl	%ecx, %ecx
	cpuid
	testw	%bx, %bx			/* no logical processors: no leaf */
	jz	1f
	movl	%edx, 8(%ebp)
	jmp	2f
1:	movl	$0xffffffff, 8(%ebp)
2:	movl	%edi, 0(%ebp)
	movl	$TR_MAGIC, 12(%ebp)
	lock incl (tr_count - trampoline_start)(%esi)
tr_halt:
	cli
	hlt
	jmp	tr_halt

	.balign	8
tr_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: flat 32-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: flat data */
tr_gdt_desc:
	.word	3 * 8 - 1
	.long	0				/* patched: copy + tr_gdt */
tr_far_ptr:
	.long	0				/* patched: copy + tr_pm */
	.word	0x08
	.balign	4
tr_count:
	.long	0
	.balign	16
tr_records:
	.fill	TR_MAX_CPUS * TR_RECORD_SIZE, 1, 0
trampoline_end:

	.section .note.GNU-stack, "", @progbits
