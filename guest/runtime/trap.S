/* SPDX-License-Identifier: MIT */
/*
 * Exception entry stubs, the user-mode trampoline (run_user) and the
 * longjmp-like catch (catch_exception). The C side is trap.c.
 */
#include "x86.h"

/* Stubs for vectors 0-31: push a dummy error code where the CPU pushes none. */
.macro EXC_STUB vec, has_error
	.balign 16
exc_stub_\vec:
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm

	.text
EXC_STUB 0, 0
EXC_STUB 1, 0
EXC_STUB 2, 0
EXC_STUB 3, 0
EXC_STUB 4, 0
EXC_STUB 5, 0
EXC_STUB 6, 0
EXC_STUB 7, 0
EXC_STUB 8, 1
EXC_STUB 9, 0
EXC_STUB 10, 1
EXC_STUB 11, 1
EXC_STUB 12, 1
EXC_STUB 13, 1
EXC_STUB 14, 1
EXC_STUB 15, 0
EXC_STUB 16, 0
EXC_STUB 17, 1
EXC_STUB 18, 0
EXC_STUB 19, 0
EXC_STUB 20, 0
EXC_STUB 21, 1
EXC_STUB 22, 0
EXC_STUB 23, 0
EXC_STUB 24, 0
EXC_STUB 25, 0
EXC_STUB 26, 0
EXC_STUB 27, 0
EXC_STUB 28, 0
EXC_STUB 29, 1
EXC_STUB 30, 1
EXC_STUB 31, 0

/*
 * Stubs for vectors 32-255 (interrupts: no error code), 16 bytes apart,
 * so irq_stubs + 16 * (vector - 32) is vector's.
 */
	.balign 16
	.globl irq_stubs
irq_stubs:
	.set irq_vec, 32
	.rept 224
	.balign 16
	pushq $0
	pushq $irq_vec
	jmp trap_common
	.set irq_vec, irq_vec + 1
	.endr

	.section .rodata
	.balign 8
	.globl exception_stubs
exception_stubs:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exc_stub_\vec
	.endr

	.text
/*
 * The stack holds vector, error code and the CPU's frame: save the general
 * registers to complete a struct trap_frame, let trap_dispatch() look at
 * (and maybe change) it, and return to whatever it says.
 */
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/*
 * int run_user(int (*fn)(void *), void *arg)
 *
 * Save the callee-saved registers, make the current stack the one the CPU
 * switches to on the way back (TSS.rsp0), and iretq to CPL3 with IOPL 3.
 * The user side returns with "int $USER_RETURN_VECTOR", result in %edi:
 * through its gate, or, where that instruction faults (PVM, rt.user_io=trap),
 * through the fault handler, which irets to user_return_resume (user.c).
 */
	.globl run_user
run_user:
	movl %cs, %eax
	testl $3, %eax
	jnz 2f
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, user_return_rsp(%rip)
	movq %rsp, tss + 4(%rip)		/* rsp0 */
	pushq $USER_DS
	leaq user_stack_top(%rip), %rax
	pushq %rax
	pushq user_rflags(%rip)			/* IOPL 3, or 0 (user.c) */
	pushq $USER_CS
	leaq 1f(%rip), %rax
	pushq %rax
	xorl %eax, %eax
	movl %eax, %ds
	movl %eax, %es
	iretq
1:	/* CPL3, %rdi = fn, %rsi = arg */
	movq %rdi, %rax
	movq %rsi, %rdi
	xorl %ebp, %ebp
	call *%rax
	movl %eax, %edi
	int $USER_RETURN_VECTOR
	ud2
2:	/* already in user mode: a plain call */
	movq %rdi, %rax
	movq %rsi, %rdi
	jmp *%rax

/* Gate for USER_RETURN_VECTOR (DPL 3): back to run_user's caller. */
	.globl user_return_stub
user_return_stub:
	testb $3, 8(%rsp)			/* the CS the CPU pushed */
	jz 1f
	movl $KERNEL_DS, %eax
	movl %eax, %ss
	.globl user_return_resume
user_return_resume:			/* CPL0, %ss loaded, %edi = result */
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movq user_return_rsp(%rip), %rsp
	movl %edi, %eax
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
1:	/* raised at CPL0: not a user return, report it */
	pushq $0
	pushq $USER_RETURN_VECTOR
	jmp trap_common

/*
 * int catch_exception(void (*fn)(void *), void *arg, struct exception_info *info)
 *
 * A struct catch_ctx lives on this stack while fn runs; trap_dispatch()
 * unwinds to catch_resume with %rsp = the context and %eax = the vector.
 * Layout must match struct catch_ctx in trap.c.
 */
#define CTX_PREV	0
#define CTX_RSP		8
#define CTX_INFO	16
#define CTX_CS		24
#define CTX_SIZE	40

	.globl catch_exception, catch_resume
catch_exception:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $CTX_SIZE, %rsp		/* %rsp is 16-byte aligned again */
	movq current_catch(%rip), %rax
	movq %rax, CTX_PREV(%rsp)
	movq %rsp, CTX_RSP(%rsp)
	movq %rdx, CTX_INFO(%rsp)
	movl %cs, %eax
	movq %rax, CTX_CS(%rsp)
	movq %rsp, current_catch(%rip)
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	movq CTX_PREV(%rsp), %rax
	movq %rax, current_catch(%rip)
	movl $-1, %eax
catch_resume:				/* trap_dispatch restored current_catch */
	addq $CTX_SIZE, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
