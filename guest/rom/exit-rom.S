/* SPDX-License-Identifier: MIT */
/*
 * exit-rom: the least a guest can do, for `make bench` row 1d. The reset
 * vector (real mode, 0xfffffff0) writes 0 to the debug-exit port, so
 * uvmm exits with status 1 after one port exit: what is left of the
 * time from exec to exit is uvmm's own start-up and tear-down, beside
 * bench/kvm_min, which does the same one port write with the same
 * machine around it.
 */

#define DEBUG_EXIT	0xf4

	.text
	.code16
rom_start:
	.org 0xfff0, 0xff
reset_vector:
	xorb %al, %al
	outb %al, $DEBUG_EXIT
	hlt
	.org 0x10000, 0xff
