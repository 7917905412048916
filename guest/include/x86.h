/* SPDX-License-Identifier: MIT */
/*
 * x86-64 definitions and one-instruction helpers for guest programs.
 * Everything here is usable at CPL0 and, with IOPL 3, port I/O also at
 * CPL3; the privileged ones (control registers, MSRs, hlt, lidt) fault
 * with #GP in user mode.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

/* GDT layout (guest/runtime/entry.S); selectors with their RPL. */
#define KERNEL_CS	0x08
#define KERNEL_DS	0x10
#define USER_DS		0x1b	/* GDT entry 3, RPL 3 */
#define USER_CS		0x23	/* GDT entry 4, RPL 3 */
#define TSS_SEL		0x28	/* 16-byte descriptor, entries 5 and 6 */

/* Vector a user-mode function returns through (gate DPL 3). */
#define USER_RETURN_VECTOR	0x80

#define CR0_PE		(1 << 0)
#define CR0_WP		(1 << 16)
#define CR0_PG		0x80000000
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)

#define RFLAGS_FIXED	(1 << 1)
#define RFLAGS_IF	(1 << 9)
#define RFLAGS_IOPL3	(3 << 12)

#define PTE_P		(1 << 0)
#define PTE_W		(1 << 1)
#define PTE_U		(1 << 2)
#define PTE_PWT		(1 << 3)
#define PTE_PCD		(1 << 4)
#define PTE_PS		(1 << 7)

/* #PF error code bits */
#define PF_ERR_P	(1 << 0)
#define PF_ERR_W	(1 << 1)
#define PF_ERR_U	(1 << 2)
#define PF_ERR_I	(1 << 4)

#define DE_VECTOR	0
#define DB_VECTOR	1
#define NMI_VECTOR	2
#define BP_VECTOR	3
#define OF_VECTOR	4
#define BR_VECTOR	5
#define UD_VECTOR	6
#define NM_VECTOR	7
#define DF_VECTOR	8
#define TS_VECTOR	10
#define NP_VECTOR	11
#define SS_VECTOR	12
#define GP_VECTOR	13
#define PF_VECTOR	14
#define MF_VECTOR	16
#define AC_VECTOR	17
#define MC_VECTOR	18
#define XM_VECTOR	19
#define VE_VECTOR	20
#define CP_VECTOR	21

#define PAGE_SIZE	4096
#define LARGE_PAGE_SIZE	(2 * 1024 * 1024)

#ifndef __ASSEMBLY__

#include "common/types.h"

static inline void outb(u16 port, u8 val)
{
	asm volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline void outw(u16 port, u16 val)
{
	asm volatile("outw %0, %1" : : "a"(val), "Nd"(port));
}

static inline void outl(u16 port, u32 val)
{
	asm volatile("outl %0, %1" : : "a"(val), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 val;

	asm volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline u16 inw(u16 port)
{
	u16 val;

	asm volatile("inw %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline u32 inl(u16 port)
{
	u32 val;

	asm volatile("inl %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

/*
 * MMIO: one plain mov each, so the VMM's (and KVM's) instruction decoder
 * sees the simplest form.
 */
static inline u8 readb(u64 addr)
{
	u8 val;

	asm volatile("movb %1, %0" : "=q"(val) : "m"(*(volatile u8 *)addr));
	return val;
}

static inline u16 readw(u64 addr)
{
	u16 val;

	asm volatile("movw %1, %0" : "=r"(val) : "m"(*(volatile u16 *)addr));
	return val;
}

static inline u32 readl(u64 addr)
{
	u32 val;

	asm volatile("movl %1, %0" : "=r"(val) : "m"(*(volatile u32 *)addr));
	return val;
}

static inline u64 readq(u64 addr)
{
	u64 val;

	asm volatile("movq %1, %0" : "=r"(val) : "m"(*(volatile u64 *)addr));
	return val;
}

static inline void writeb(u64 addr, u8 val)
{
	asm volatile("movb %1, %0" : "=m"(*(volatile u8 *)addr) : "q"(val));
}

static inline void writew(u64 addr, u16 val)
{
	asm volatile("movw %1, %0" : "=m"(*(volatile u16 *)addr) : "r"(val));
}

static inline void writel(u64 addr, u32 val)
{
	asm volatile("movl %1, %0" : "=m"(*(volatile u32 *)addr) : "r"(val));
}

static inline void writeq(u64 addr, u64 val)
{
	asm volatile("movq %1, %0" : "=m"(*(volatile u64 *)addr) : "r"(val));
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline u64 rdmsr(u32 index)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 index, u64 val)
{
	asm volatile("wrmsr" : : "c"(index), "a"((u32)val), "d"((u32)(val >> 32))
		     : "memory");
}

static inline void cpuid(u32 leaf, u32 subleaf, u32 *eax, u32 *ebx, u32 *ecx,
			 u32 *edx)
{
	asm volatile("cpuid"
		     : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx)
		     : "a"(leaf), "c"(subleaf));
}

static inline u64 read_cr0(void)
{
	u64 val;

	asm volatile("mov %%cr0, %0" : "=r"(val));
	return val;
}

static inline u64 read_cr2(void)
{
	u64 val;

	asm volatile("mov %%cr2, %0" : "=r"(val));
	return val;
}

static inline u64 read_cr3(void)
{
	u64 val;

	asm volatile("mov %%cr3, %0" : "=r"(val));
	return val;
}

static inline void write_cr3(u64 val)
{
	asm volatile("mov %0, %%cr3" : : "r"(val) : "memory");
}

static inline u64 read_cr4(void)
{
	u64 val;

	asm volatile("mov %%cr4, %0" : "=r"(val));
	return val;
}

static inline u16 read_cs(void)
{
	u16 val;

	asm volatile("mov %%cs, %0" : "=r"(val));
	return val;
}

/* Current privilege level: 0 in the runtime, 3 inside run_user(). */
static inline unsigned int cpl(void)
{
	return read_cs() & 3;
}

static inline u64 read_rflags(void)
{
	u64 val;

	asm volatile("pushfq; popq %0" : "=r"(val));
	return val;
}

static inline void invlpg(u64 addr)
{
	asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

static inline void hlt(void)
{
	asm volatile("hlt" : : : "memory");
}

struct desc_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

static inline void lidt(const struct desc_ptr *ptr)
{
	asm volatile("lidt %0" : : "m"(*ptr) : "memory");
}

static inline void sidt(struct desc_ptr *ptr)
{
	asm volatile("sidt %0" : "=m"(*ptr));
}

#endif /* __ASSEMBLY__ */
#endif
