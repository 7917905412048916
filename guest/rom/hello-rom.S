/* SPDX-License-Identifier: MIT */
/*
 * hello-rom: a raw 64 KiB ROM for `uvmm --bios`. The CPU starts where
 * every x86 starts, in real mode at 0xfffffff0 (CS base 0xffff0000, IP
 * 0xfff0), so this file is laid out as the top 64 KiB of the 4 GiB space:
 * data at the bottom, code from CODE_AT, the reset jump at 0xfff0.
 *
 * It greets on COM1 from real mode, enters flat 32-bit protected mode to
 * show that the ROM is reachable at its 0xffffxxxx address, checks that a
 * write into the ROM changes nothing and that uvmm left its tables in RAM,
 * then writes 0 to the debug-exit port (uvmm exits with status 1). A
 * failed check prints FAIL and writes 1 (status 3).
 *
 * No linker: every address is a difference of labels in this one section,
 * so the object has no relocations and objcopy -O binary is the ROM.
 */

#define ROM_BASE	0xffff0000
#define CODE_AT		0xc000	/* near jumps reach +-32K: code near the top */
#define COM1		0x3f8
#define COM1_LSR	(COM1 + 5)
#define LSR_THRE	0x20

/* Waits for COM1's transmitter, then sends %al (uses %ah, %dx; either mode). */
.macro uart_put_al
	movb %al, %ah
	movw $COM1_LSR, %dx
1:	inb %dx, %al
	testb $LSR_THRE, %al
	jz 1b
	movw $COM1, %dx
	movb %ah, %al
	outb %al, %dx
.endm
#define DEBUG_EXIT	0xf4
#define STACK_TOP	0x5000	/* low RAM that uvmm leaves unused */
#define START_INFO	0x6000	/* LAYOUT_START_INFO: hvm_start_info */
#define START_MAGIC	0x336ec578
#define MPTABLE		0xf0000	/* LAYOUT_MPTABLE: the MP floating pointer */
#define MP_SIGNATURE	0x5f504d5f	/* "_MP_" */
#define PROBE_VALUE	0x600dc0de

/* Offset in the ROM (real mode, through CS) and linear address (flat). */
#define OFF(x)		((x) - rom_start)
#define LIN(x)		(ROM_BASE + OFF(x))

	.text
rom_start:

/* ---- data, at the bottom of the ROM ------------------------------------- */

	/*
	 * The accessed bits are preset (0x9b, 0x93): loading a selector
	 * would otherwise make the CPU write them into the read-only ROM,
	 * and KVM stalls the guest on that write instead of dropping it.
	 */
	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: code, base 0, 4 GiB, 32-bit */
	.quad 0x00cf93000000ffff	/* 0x10: data, base 0, 4 GiB */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long LIN(gdt)

	.p2align 2
rom_probe:
	.long PROBE_VALUE

hex_digits:
	.ascii "0123456789abcdef"
msg_hello:
	.asciz "ROM: hello from the reset vector\n"
msg_pm:
	.asciz "ROM: 32-bit protected mode, code at 0x"
msg_nl:
	.asciz "\n"
msg_probe_ok:
	.asciz "PASS: a write into the ROM left it unchanged\n"
msg_probe_bad:
	.asciz "FAIL: a write into the ROM changed it\n"
msg_start_info_ok:
	.asciz "PASS: hvm_start_info at 0x6000\n"
msg_start_info_bad:
	.asciz "FAIL: no hvm_start_info magic at 0x6000\n"
msg_mp_ok:
	.asciz "PASS: MP floating pointer at 0xf0000\n"
msg_mp_bad:
	.asciz "FAIL: no MP floating pointer at 0xf0000\n"
msg_done:
	.asciz "ROM: done\n"

/* ---- real mode ---------------------------------------------------------- */

	.org CODE_AT, 0xff
	.code16
start16:
	cli
	cld
	/*
	 * Reloading CS or DS here would give them a base of selector * 16,
	 * which is RAM, not the ROM: the ROM is read through CS's reset base.
	 */
	xorw %ax, %ax
	movw %ax, %ss
	movw $STACK_TOP, %sp
	movw $OFF(msg_hello), %si
	call puts16

	lgdtl %cs:OFF(gdt_desc)
	movl %cr0, %eax
	orl $1, %eax			/* PE */
	movl %eax, %cr0
	ljmpl $0x08, $LIN(start32)

/* Prints the NUL-terminated string at %cs:%si. */
puts16:
1:	movb %cs:(%si), %al
	testb %al, %al
	jz 2f
	call putc16
	incw %si
	jmp 1b
2:	ret

/* Prints %al. */
putc16:
	uart_put_al
	ret

/* ---- 32-bit protected mode, flat ---------------------------------------- */

	.code32
start32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $STACK_TOP, %esp
	xorl %edi, %edi			/* failures */

	/* Where this code runs: a 0xffffxxxx address, the ROM itself. */
	movl $LIN(msg_pm), %esi
	call puts32
	call 1f
1:	popl %eax
	call puthex32
	movl $LIN(msg_nl), %esi
	call puts32

	/* The memslot is read-only: the write exits as MMIO and is dropped. */
	movl $LIN(rom_probe), %ebx
	movl $0x5a5a5a5a, (%ebx)
	movl (%ebx), %eax
	cmpl $PROBE_VALUE, %eax
	movl $LIN(msg_probe_ok), %esi
	movl $LIN(msg_probe_bad), %edx
	call report32

	cmpl $START_MAGIC, START_INFO
	movl $LIN(msg_start_info_ok), %esi
	movl $LIN(msg_start_info_bad), %edx
	call report32

	cmpl $MP_SIGNATURE, MPTABLE
	movl $LIN(msg_mp_ok), %esi
	movl $LIN(msg_mp_bad), %edx
	call report32

	movl $LIN(msg_done), %esi
	call puts32
	/* 0: status 1, all passed; 1: status 3. */
	movl %edi, %eax
	testl %eax, %eax
	jz 5f
	movl $1, %eax
5:	outb %al, $DEBUG_EXIT
6:	hlt
	jmp 6b

/*
 * After a cmp (mov and call leave the flags alone): equal prints the PASS
 * line at %esi; otherwise the FAIL line at %edx, counted in %edi.
 */
report32:
	je 1f
	movl %edx, %esi
	incl %edi
1:	jmp puts32

/* Prints the NUL-terminated string at %esi. */
puts32:
	pushl %esi
1:	movb (%esi), %al
	testb %al, %al
	jz 2f
	call putc32
	incl %esi
	jmp 1b
2:	popl %esi
	ret

/* Prints %eax as eight hex digits. */
puthex32:
	pushl %ebx
	pushl %ecx
	movl %eax, %ebx
	movl $8, %ecx
1:	roll $4, %ebx
	movl %ebx, %eax
	andl $0xf, %eax
	movb LIN(hex_digits)(%eax), %al
	call putc32
	loop 1b
	popl %ecx
	popl %ebx
	ret

/* Prints %al. */
putc32:
	pushl %edx
	uart_put_al
	popl %edx
	ret

/* ---- the reset vector: 0xfffffff0 --------------------------------------- */

	.org 0xfff0, 0xff
	.code16
reset_vector:
	jmp start16
	.org 0x10000, 0xff
