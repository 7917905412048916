// SPDX-License-Identifier: MIT
/*
 * exceptions: raise #UD, #PF, #GP, #DE and #BP on purpose, at CPL0 and at
 * CPL3, and check the vector, RIP, error code and CR2 the handlers saw.
 */
#include "guest.h"

/* PML4 entry 128: the identity map never reaches it. */
#define UNMAPPED_ADDR	0x400000000000ULL
#define NONCANONICAL	0x800000000000ULL

/* Where the faulting instruction is, stored by the instruction before it. */
static volatile u64 expected_rip;

#define MARK_RIP	"lea 1f(%%rip), %%rax\n\tmov %%rax, %0\n"

static void do_ud2(void *arg)
{
	(void)arg;
	asm volatile(MARK_RIP "1: ud2" : "=m"(expected_rip) : : "rax", "memory");
}

static void do_read(void *arg)
{
	asm volatile(MARK_RIP "1: mov (%1), %%rcx"
		     : "=m"(expected_rip) : "r"(arg) : "rax", "rcx", "memory");
}

static void do_write(void *arg)
{
	asm volatile(MARK_RIP "1: movl $0x12345678, (%1)"
		     : "=m"(expected_rip) : "r"(arg) : "rax", "memory");
}

static void do_divide_error(void *arg)
{
	(void)arg;
	asm volatile(MARK_RIP "xor %%edx, %%edx\n\txor %%ecx, %%ecx\n\t"
		     "mov $1, %%eax\n\t"
		     "1: div %%ecx"
		     : "=m"(expected_rip) : : "rax", "rcx", "rdx", "memory");
}

static void do_hlt(void *arg)
{
	(void)arg;
	asm volatile(MARK_RIP "1: hlt" : "=m"(expected_rip) : : "rax", "memory");
}

/* int3 is a trap: the CPU reports the RIP after it. */
static void do_int3(void *arg)
{
	(void)arg;
	asm volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, %0\n\tint3\n1:"
		     : "=m"(expected_rip) : : "rax", "memory");
}

/* Run fn(arg), expect vector with error_code at CPL want_cpl; *out gets the details. */
static bool check(const char *what, void (*fn)(void *), void *arg,
		  unsigned int vector, u64 error_code, unsigned int want_cpl,
		  struct exception_info *out)
{
	struct exception_info info = { 0 };
	int got = catch_exception(fn, arg, &info);

	if (out)
		*out = info;
	if (got < 0)
		return report(false, "%s: no exception", what);
	return report(got == (int)vector && info.vector == vector &&
		      info.rip == expected_rip && info.error_code == error_code &&
		      info.cpl == want_cpl,
		      "%s: %s (vector %u) error %#lx at RIP %#lx CPL%u", what,
		      exception_name(info.vector), info.vector, info.error_code,
		      info.rip, info.cpl);
}

static void check_pf(const char *what, void (*fn)(void *), u64 addr,
		     u64 error_code, unsigned int want_cpl)
{
	struct exception_info info;

	check(what, fn, (void *)addr, PF_VECTOR, error_code, want_cpl, &info);
	report(info.vector == PF_VECTOR && info.cr2 == addr, "%s: CR2 %#lx",
	       what, info.cr2);
}

static unsigned int bp_count;
static u64 bp_rip;

static bool bp_handler(struct trap_frame *frame)
{
	bp_count++;
	bp_rip = frame->rip;
	return true;	/* resume after the int3 */
}

/* A 2 MiB page that this test takes out of the identity map. */
static void check_unmapped_page(void)
{
	u64 page = (u64)memalign(LARGE_PAGE_SIZE, LARGE_PAGE_SIZE);
	u64 *pde = page ? pde_of(page) : NULL;
	u64 saved, addr = page + 0x1238;
	struct exception_info info;
	int vec;

	if (!pde) {
		report_skip("no 2 MiB page to unmap");
		return;
	}
	saved = *pde;
	*pde = 0;
	invlpg(page);
	vec = catch_exception(do_write, (void *)addr, &info);
	*pde = saved;
	invlpg(page);
	report(vec == PF_VECTOR && info.cr2 == addr && info.rip == expected_rip &&
	       info.error_code == PF_ERR_W,
	       "write to an unmapped page: vector %d CR2 %#lx error %#lx",
	       vec, info.cr2, info.error_code);
	vec = catch_exception(do_write, (void *)addr, NULL);
	report(vec == -1 && *(volatile u32 *)addr == 0x12345678,
	       "the page works again once mapped");
}

static void check_kernel(void)
{
	report_prefix_push("CPL0");
	check("ud2", do_ud2, NULL, UD_VECTOR, 0, 0, NULL);
	check_pf("read of an unmapped address", do_read, UNMAPPED_ADDR, 0, 0);
	check_pf("write to an unmapped address", do_write, UNMAPPED_ADDR,
		 PF_ERR_W, 0);
	check_unmapped_page();
	check("non-canonical read", do_read, (void *)NONCANONICAL, GP_VECTOR,
	      0, 0, NULL);
	check("divide by zero", do_divide_error, NULL, DE_VECTOR, 0, 0, NULL);
	/*
	 * No int3 here: PVM runs CPL0 code in KVM's instruction emulator,
	 * which cannot emulate it (KVM internal error). The breakpoint is
	 * checked at CPL3, where every KVM runs it, with and without a handler.
	 */
	report_prefix_pop();
}

static int user_checks(void *arg)
{
	(void)arg;
	report_prefix_push("CPL3");
	check("ud2", do_ud2, NULL, UD_VECTOR, 0, 3, NULL);
	check_pf("read of an unmapped address", do_read, UNMAPPED_ADDR,
		 PF_ERR_U, 3);
	check("hlt", do_hlt, NULL, GP_VECTOR, 0, 3, NULL);
	check("int3", do_int3, NULL, BP_VECTOR, 0, 3, NULL);
	/* the handler runs at CPL0 and resumes CPL3 after the int3 */
	set_exception_handler(BP_VECTOR, bp_handler);
	do_int3(NULL);
	do_int3(NULL);
	set_exception_handler(BP_VECTOR, NULL);
	report(bp_count == 2 && bp_rip == expected_rip,
	       "int3 with a handler: %u calls, resumed after int3 at %#lx",
	       bp_count, bp_rip);
	report_prefix_pop();
	return 0;
}

static int user_ud2(void *arg)
{
	do_ud2(arg);
	return 0;
}

static void enter_user_ud2(void *arg)
{
	run_user(user_ud2, arg);
}

static int user_answer(void *arg)
{
	(void)arg;
	return 40 + cpl() - 1;
}

int main(void)
{
	check_kernel();
	run_user(user_checks, NULL);
	check("CPL3 ud2 caught at CPL0", enter_user_ud2, NULL, UD_VECTOR, 0, 3,
	      NULL);
	report(cpl() == 0 && run_user(user_answer, NULL) == 42,
	       "back at CPL0, and user mode still works");
	return report_summary();
}
