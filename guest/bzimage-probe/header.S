/* SPDX-License-Identifier: MIT */
/*
 * The real-mode part of the bzImage: a boot sector nobody runs and the
 * setup header at 0x1f1 with the boot protocol 2.15 fields a loader reads.
 * syssize and init_size come from the linker script. uvmm (and any 64-bit
 * loader) skips all of this and enters startup_64 in head.S.
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

	/* 0x26c: the real-mode setup code, which only a 16-bit loader would run. */
setup_code:
	cli
2:	hlt
	jmp	2b

version_string:
	.asciz	"uvmm bzimage-probe"

	.org	(PROBE_SETUP_SECTS + 1) * 512

	.section .note.GNU-stack, "", @progbits
