/* SPDX-License-Identifier: MIT */
/*
 * The real-mode part of the bzImage: a boot sector nobody runs, the setup
 * header at 0x1f1 with the boot protocol 2.15 fields a loader reads, and
 * the 16-bit setup code a 16-bit loader enters. syssize and init_size come
 * from the linker script. uvmm (and any 64-bit loader) skips the code and
 * enters startup_64 in head.S itself.
 */
	.section .header, "a"
	.code16
	.globl	_header_start
_header_start:
	cli				/* a BIOS booting us from disk: stop */
1:	hlt
	jmp	1b

	.org	0x1f1
setup_sects:		.byte	PROBE_SETUP_SECTS
root_flags:		.word	0
syssize:		.long	_syssize	/* protected-mode part, 16-byte units */
ram_size:		.word	0
vid_mode:		.word	0xffff		/* normal */
root_dev:		.word	0
boot_flag:		.word	0xaa55
	/* 0x200: the jump's displacement byte also says where the header ends. */
			.byte	0xeb, setup_code - 1f
1:			.ascii	"HdrS"
version:		.word	PROBE_VERSION
realmode_swtch:		.long	0
start_sys_seg:		.word	0
kernel_version:		.word	version_string - _header_start - 0x200
type_of_loader:		.byte	0
loadflags:		.byte	PROBE_LOADFLAGS
setup_move_size:	.word	0x8000
code32_start:		.long	0x100000
ramdisk_image:		.long	0
ramdisk_size:		.long	0
bootsect_kludge:	.long	0
heap_end_ptr:		.word	0
ext_loader_ver:		.byte	0
ext_loader_type:	.byte	0
cmd_line_ptr:		.long	0
initrd_addr_max:	.long	PROBE_INITRD_ADDR_MAX
kernel_alignment:	.long	PROBE_KERNEL_ALIGNMENT
relocatable_kernel:	.byte	1
min_alignment:		.byte	PROBE_MIN_ALIGNMENT
xloadflags:		.word	PROBE_XLOADFLAGS
cmdline_size:		.long	PROBE_CMDLINE_SIZE
hardware_subarch:	.long	0
hardware_subarch_data:	.quad	0
payload_offset:		.long	0
payload_length:		.long	0
setup_data:		.quad	0
pref_address:		.quad	PROBE_PREF_ADDRESS
init_size:		.long	_init_size	/* image + bss, from the load address */
handover_offset:	.long	0
kernel_info_offset:	.long	0

/*
 * 0x26c: the setup code. A 16-bit loader (QEMU's qboot or linuxboot ROM, a
 * BIOS boot loader) jumps here in real mode with CS = setup segment + 0x20,
 * DS = ES = SS = setup segment, after filling in the header above. It does
 * the part of Linux's setup a 64-bit kernel needs: a zero page with the
 * header and the BIOS's e820 map, an identity map of the low 4 GiB, and
 * the way through 32-bit protected mode into long mode at the 64-bit entry
 * (code32_start + 0x200, rsi = zero page), the state a 64-bit loader gives.
 * Its scratch space, offsets in the setup segment (the heap the boot
 * protocol gives the setup code, heap_end_ptr + 0x200, ends at 0x10000):
 */
#define SETUP_STACK_TOP	0x1000		/* stack below the zero page */
#define SETUP_ZERO_PAGE	0x1000
#define SETUP_TABLES	0x2000		/* rounded up to 4 KiB: 6 pages */
#define SETUP_SCRATCH_END	0x9000
#define SMAP		0x534d4150
#define OFF(label)	((label) - _header_start)

setup_code:
	cli
	cld
	movw	%cs, %ax
	subw	$0x20, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$SETUP_STACK_TOP, %sp
	movw	$SETUP_ZERO_PAGE, %di
	movw	$(SETUP_SCRATCH_END - SETUP_ZERO_PAGE) / 2, %cx
	xorw	%ax, %ax
	rep stosw
	/* The header as the loader left it, up to this code. */
	movw	$OFF(setup_sects), %si
	movw	$SETUP_ZERO_PAGE + OFF(setup_sects), %di
	movw	$OFF(setup_code) - OFF(setup_sects), %cx
	rep movsb

	/*
	 * e820 from the BIOS, at most E820_MAX entries. Empty ones are
	 * dropped, as Linux's sanitizer would: qboot ends its map with one.
	 */
	xorl	%ebx, %ebx
	movw	$SETUP_ZERO_PAGE + ZP_E820_TABLE, %di
1:	movl	$0xe820, %eax
	movl	$SMAP, %edx
	movl	$E820_ENTRY_SIZE, %ecx
	int	$0x15
	jc	2f
	cmpl	$SMAP, %eax
	jne	2f
	movl	8(%di), %eax
	orl	12(%di), %eax
	jz	5f
	addw	$E820_ENTRY_SIZE, %di
	incb	SETUP_ZERO_PAGE + ZP_E820_ENTRIES
	cmpb	$E820_MAX, SETUP_ZERO_PAGE + ZP_E820_ENTRIES
	jae	2f
5:	testl	%ebx, %ebx
	jnz	1b
2:
	/* ebx: the segment's linear base; edi: the PML4, 4 KiB-aligned. */
	xorl	%ebx, %ebx
	movw	%ds, %bx
	shll	$4, %ebx
	leal	SETUP_TABLES + 0xfff(%ebx), %edi
	andl	$~0xfff, %edi
	movl	%edi, %eax
	shrl	$4, %eax
	movw	%ax, %es
	/* PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 2 MiB pages. */
	leal	0x1003(%edi), %eax
	movl	%eax, %es:0
	leal	0x2003(%edi), %eax
	movw	$0x1000, %si
	movw	$4, %cx
3:	movl	%eax, %es:(%si)
	addl	$0x1000, %eax
	addw	$8, %si
	loop	3b
	movl	$0x83, %eax			/* present, writable, 2 MiB */
	movw	$0x2000, %si
	movw	$4 * 512, %cx
4:	movl	%eax, %es:(%si)
	addl	$0x200000, %eax
	addw	$8, %si
	loop	4b

	leal	OFF(setup_gdt)(%ebx), %eax
	movl	%eax, OFF(setup_gdt_desc) + 2
	lgdtl	OFF(setup_gdt_desc)
	leal	SETUP_ZERO_PAGE(%ebx), %esi
	leal	OFF(setup_pm32)(%ebx), %eax
	movl	%cr0, %edx
	orl	$1, %edx			/* PE */
	movl	%edx, %cr0
	pushl	$0x08
	pushl	%eax
	lretl

	.code32
setup_pm32:
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	leal	SETUP_STACK_TOP(%ebx), %esp
	movl	%cr4, %eax
	orl	$0x20, %eax			/* PAE */
	movl	%eax, %cr4
	movl	%edi, %cr3
	movl	$0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000000, %eax		/* PG: long mode */
	movl	%eax, %cr0
	leal	OFF(setup_lm64)(%ebx), %eax
	pushl	$BOOT_CS
	pushl	%eax
	lret

	.code64
setup_lm64:
	movl	%esi, %esi			/* upper halves are undefined */
	movl	ZP_CODE32_START(%rsi), %eax
	addl	$0x200, %eax
	jmp	*%rax

	.balign	8
setup_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff		/* 0x08: flat 32-bit code */
	.quad	0x00af9b000000ffff		/* 0x10: __BOOT_CS, 64-bit code */
	.quad	0x00cf93000000ffff		/* 0x18: __BOOT_DS, flat data */
setup_gdt_desc:
	.word	4 * 8 - 1
	.long	0				/* patched: linear setup_gdt */

version_string:
	.asciz	"uvmm bzimage-probe"

	.org	(PROBE_SETUP_SECTS + 1) * 512

	.section .note.GNU-stack, "", @progbits
