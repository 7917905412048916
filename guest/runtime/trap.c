// SPDX-License-Identifier: MIT
/*
 * IDT, TSS and the C side of exception handling: per-vector handlers, the
 * catch_exception() unwinding, and the fatal report for everything else.
 */
#include "runtime.h"
#include "abi/machine.h"

struct idt_entry {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_entry) == 16, "IDT entries are 16 bytes");

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "TSS is 104 bytes");
_Static_assert(offsetof(struct tss64, rsp) == 4, "rsp0 at 4 (trap.S)");

/* Must match the CTX_* offsets in trap.S. */
struct catch_ctx {
	struct catch_ctx *prev;
	u64 rsp;
	struct exception_info *info;
	u64 cs;		/* only its RPL counts (trap_dispatch) */
	u64 pad;	/* keeps catch_exception's stack 16-byte aligned */
};
_Static_assert(sizeof(struct catch_ctx) == 40, "CTX_SIZE in trap.S");

#define GATE_INTERRUPT		0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define GATE_DPL3		0x60
#define DF_IST			1

extern const u64 exception_stubs[32];
extern char irq_stubs[];
extern char user_return_stub[], catch_resume[], df_stack_top[];
extern u64 gdt[];

struct tss64 tss __attribute__((aligned(16)));
u64 user_return_rsp;
/* Innermost armed catch_exception(); written from user mode too. */
struct catch_ctx *current_catch;

static struct idt_entry idt[256] __attribute__((aligned(16)));
static exception_handler_t handlers[32];
static int fatal_depth;

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "coprocessor segment overrun", "#TS", "#NP", "#SS", "#GP",
	"#PF", "reserved 15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "#HV", "#VC", "#SX", "reserved 31",
};

const char *exception_name(unsigned int vector)
{
	if (vector < 32)
		return exception_names[vector];
	return "interrupt";
}

static void set_gate(unsigned int vector, u64 handler, u8 type_attr, u8 ist)
{
	struct idt_entry *e = &idt[vector];

	e->offset_low = handler & 0xffff;
	e->selector = KERNEL_CS;
	e->ist = ist;
	e->type_attr = type_attr;
	e->offset_mid = (handler >> 16) & 0xffff;
	e->offset_high = handler >> 32;
	e->reserved = 0;
}

static void tss_init(void)
{
	u64 base = (u64)&tss;
	u64 limit = sizeof(tss) - 1;

	tss.ist[DF_IST - 1] = (u64)df_stack_top;
	tss.iomap_base = sizeof(tss);	/* no I/O bitmap: IOPL decides */
	/* 64-bit available TSS (type 9), present */
	gdt[TSS_SEL / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
			   (0x89ULL << 40) | (((limit >> 16) & 0xf) << 48) |
			   (((base >> 24) & 0xff) << 56);
	gdt[TSS_SEL / 8 + 1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(TSS_SEL));
}

void trap_init(void)
{
	struct desc_ptr ptr = { .limit = sizeof(idt) - 1, .base = (u64)idt };
	unsigned int v;

	tss_init();
	for (v = 0; v < 32; v++) {
		u8 attr = GATE_INTERRUPT;

		/* int3 and into are meant to work from user mode */
		if (v == BP_VECTOR || v == OF_VECTOR)
			attr |= GATE_DPL3;
		set_gate(v, exception_stubs[v], attr,
			 v == DF_VECTOR ? DF_IST : 0);
	}
	trap_set_user_return_gate(true);
	lidt(&ptr);
}

/*
 * DPL 3 lets run_user()'s "int $USER_RETURN_VECTOR" through its gate; with
 * DPL 0 it raises #GP and returns through user.c's fault path instead.
 */
void trap_set_user_return_gate(bool dpl3)
{
	set_gate(USER_RETURN_VECTOR, (u64)user_return_stub,
		 GATE_INTERRUPT | (dpl3 ? GATE_DPL3 : 0), 0);
}

/*
 * Interrupt gates are installed one by one as handlers are (the loop over
 * 224 vectors would be emulated instruction by instruction at boot on
 * software KVM); a vector without one raises #NP, reported as fatal.
 */
void trap_set_irq_gate(unsigned int vector)
{
	if (vector >= 32 && vector < 256 && vector != USER_RETURN_VECTOR)
		set_gate(vector, (u64)irq_stubs + 16 * (vector - 32),
			 GATE_INTERRUPT, 0);
}

void set_exception_handler(unsigned int vector, exception_handler_t handler)
{
	if (vector < 32)
		handlers[vector] = handler;
}

static void dump_frame(const struct trap_frame *tf)
{
	printf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n",
	       tf->rax, tf->rbx, tf->rcx, tf->rdx);
	printf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n",
	       tf->rsi, tf->rdi, tf->rbp, tf->rsp);
	printf("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n",
	       tf->r8, tf->r9, tf->r10, tf->r11);
	printf("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n",
	       tf->r12, tf->r13, tf->r14, tf->r15);
	printf("  cs %lx ss %lx rflags %lx cr3 %lx\n",
	       tf->cs, tf->ss, tf->rflags, read_cr3());
}

static void __attribute__((noreturn)) trap_fatal(struct trap_frame *tf, u64 cr2)
{
	if (fatal_depth++) {
		/* faulted while reporting: say the least and leave */
		console_write("FAIL: exception while reporting an exception\n", 46);
		outb(DEBUG_EXIT_PORT, 1);
		for (;;)
			hlt();
	}
	printf("FAIL: unexpected exception %s (vector %lu) error 0x%lx at RIP 0x%lx",
	       exception_name(tf->vector), tf->vector, tf->error_code, tf->rip);
	if (tf->vector == PF_VECTOR)
		printf(" CR2 0x%lx", cr2);
	printf("%s\n", (tf->cs & 3) ? " (user mode)" : "");
	dump_frame(tf);
	report_count_failure();
	exit(report_summary());
}

void trap_dispatch(struct trap_frame *tf);

void trap_dispatch(struct trap_frame *tf)
{
	u64 cr2 = tf->vector == PF_VECTOR ? read_cr2() : 0;
	struct catch_ctx *ctx = current_catch;

	if (tf->vector >= 32 && tf->vector != USER_RETURN_VECTOR) {
		irq_dispatch(tf);
		return;
	}
	/* user-mode I/O and returns the host made fault: finish them here */
	if (user_fault_complete(tf))
		return;
	if (tf->vector < 32 && handlers[tf->vector] && handlers[tf->vector](tf))
		return;
	/* a catch is for exceptions the code raises, not for these */
	if (!ctx || tf->vector >= 32 || tf->vector == NMI_VECTOR ||
	    tf->vector == DF_VECTOR || tf->vector == MC_VECTOR)
		trap_fatal(tf, cr2);

	if (ctx->info) {
		ctx->info->vector = tf->vector;
		ctx->info->error_code = tf->error_code;
		ctx->info->rip = tf->rip;
		ctx->info->cr2 = cr2;
		ctx->info->cpl = tf->cs & 3;
	}
	current_catch = ctx->prev;
	/* unwind into catch_exception() at the level it was called from */
	tf->rax = tf->vector;
	tf->rip = (u64)catch_resume;
	tf->rsp = ctx->rsp;
	/*
	 * Only the privilege level of the saved selectors is trusted: PVM runs
	 * CPL3 natively, where "mov %cs"/"mov %ss" read the host's selectors.
	 */
	tf->cs = (ctx->cs & 3) ? USER_CS : KERNEL_CS;
	tf->ss = (ctx->cs & 3) ? USER_DS : KERNEL_DS;
}
