// SPDX-License-Identifier: MIT
/*
 * run_user()'s fallback for hosts where CPL3 is not what the architecture
 * promises. PVM (KVM without VMX/SVM) runs guest CPL3 code natively in host
 * ring 3, so the guest's IOPL is not honoured there (in/out/sti/cli raise
 * #GP) and "int N" from CPL3 arrives as #UD. The exception handlers below
 * finish such an instruction at CPL0 and step over it, so user-mode code
 * behaves the same on every KVM; on hardware KVM they never run unless
 * "rt.user_io=trap" on the command line forces this path (IOPL 0 and a DPL 0
 * return gate) so that it is tested everywhere.
 */
#include "runtime.h"

#define OPSIZE_PREFIX	0x66
#define OP_INT		0xcd
#define OP_CLI		0xfa
#define OP_STI		0xfb

enum user_io_mode user_io_mode = USER_IO_IOPL;
/* rflags run_user() enters CPL3 with (trap.S reads it) */
u64 user_rflags = RFLAGS_IOPL3 | RFLAGS_FIXED;
static struct user_trap_counts counts;

extern char user_return_resume[];
extern u64 user_return_rsp;

void user_trap_counts(struct user_trap_counts *out)
{
	*out = counts;
}

/* Only the runtime's own code runs at CPL3: never decode anything else. */
static const u8 *user_insn(const struct trap_frame *tf, size_t len)
{
	if (!(tf->cs & 3) || tf->rip < (u64)__image_start ||
	    tf->rip + len > (u64)__image_end)
		return NULL;
	return (const u8 *)tf->rip;
}

/* "int $USER_RETURN_VECTOR" that faulted (#UD on PVM, #GP with a DPL 0 gate). */
static bool complete_user_return(struct trap_frame *tf)
{
	const u8 *ip = user_insn(tf, 2);

	if (!ip || ip[0] != OP_INT || ip[1] != USER_RETURN_VECTOR)
		return false;
	counts.returns++;
	/* iretq to CPL0 at the common tail of run_user's return path */
	tf->rip = (u64)user_return_resume;
	tf->cs = KERNEL_CS;
	tf->ss = KERNEL_DS;
	tf->rsp = user_return_rsp;
	tf->rflags = RFLAGS_FIXED;
	return true;
}

static u64 merge_in(u64 rax, u32 val, unsigned int size)
{
	switch (size) {
	case 1:
		return (rax & ~0xffULL) | (u8)val;
	case 2:
		return (rax & ~0xffffULL) | (u16)val;
	default:
		return val;	/* a 32-bit destination clears the upper half */
	}
}

/*
 * in/out in every form the compiler and our assembly use: E4-E7 (imm8
 * port), EC-EF (port in DX), with or without the 0x66 operand-size prefix;
 * and sti/cli. Bit 1 of the opcode says out, bit 0 a wide access.
 */
static bool complete_user_io(struct trap_frame *tf)
{
	const u8 *ip = user_insn(tf, 3);
	unsigned int n = 0, size;
	u8 op;
	u16 port;
	u32 val;

	if (!ip || tf->error_code)
		return false;
	if (ip[0] == OPSIZE_PREFIX)
		n = 1;
	op = ip[n];
	if (!n && (op == OP_CLI || op == OP_STI)) {
		if (op == OP_STI)
			tf->rflags |= RFLAGS_IF;
		else
			tf->rflags &= ~(u64)RFLAGS_IF;
		tf->rip += 1;
		counts.irq_flag++;
		return true;
	}
	if (op >= 0xe4 && op <= 0xe7) {
		port = ip[n + 1];
		tf->rip += n + 2;
	} else if (op >= 0xec && op <= 0xef) {
		port = tf->rdx & 0xffff;
		tf->rip += n + 1;
	} else {
		return false;
	}
	size = !(op & 1) ? 1 : n ? 2 : 4;
	if (op & 2) {
		if (size == 1)
			outb(port, tf->rax);
		else if (size == 2)
			outw(port, tf->rax);
		else
			outl(port, tf->rax);
	} else {
		val = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
		tf->rax = merge_in(tf->rax, val, size);
	}
	counts.port_io++;
	return true;
}

bool user_fault_complete(struct trap_frame *tf)
{
	if (tf->vector == UD_VECTOR)
		return complete_user_return(tf);
	if (tf->vector == GP_VECTOR)
		return complete_user_io(tf) || complete_user_return(tf);
	return false;
}

const char *user_io_mode_name(void)
{
	return user_io_mode == USER_IO_TRAP ? "trap" : "iopl";
}

/* so a boot test can tell the forced fallback really ran */
static void print_trap_counts(void)
{
	printf("INFO: rt.user_io=trap: %lu in/out, %lu sti/cli, %lu returns finished at CPL0\n",
	       counts.port_io, counts.irq_flag, counts.returns);
}

int user_io_init(void)
{
	char val[8];

	if (!cmdline_param("rt.user_io", val, sizeof(val)) || !strcmp(val, "iopl"))
		return 0;
	if (strcmp(val, "trap"))
		return -1;
	user_io_mode = USER_IO_TRAP;
	user_rflags = RFLAGS_FIXED;
	report_summary_hook = print_trap_counts;
	return 0;
}
