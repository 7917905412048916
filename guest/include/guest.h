/* SPDX-License-Identifier: MIT */
/*
 * The test-firmware runtime: what a guest program (guest/NAME.c) gets.
 *
 * The runtime enters from PVH in 32-bit mode, switches to long mode with an
 * identity map of the first 4 GiB and all RAM (2 MiB pages, user-accessible),
 * installs a GDT, TSS and IDT, starts COM1, and calls main() at CPL0. main's
 * return value goes to exit(); by convention it is report_summary().
 * See guest/README.md.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include "common/types.h"
#include "x86.h"
#include "pvh.h"

int main(void);

/* ---- console (COM1) ---------------------------------------------------- */

/*
 * %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '+' ' ' '#', a width (or *),
 * a precision for %s, and the length modifiers hh h l ll z. Lines longer
 * than 511 characters are cut.
 */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int puts(const char *s);		/* adds the newline */
void console_write(const char *buf, size_t len);

/* ---- results (kvm-unit-tests style) ------------------------------------ */

/* Print "PASS: what" or "FAIL: what"; returns pass. */
bool report(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "INFO: ..." (not counted). */
void report_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefix later lines with "prefix: " (nestable, up to 128 bytes in all). */
void report_prefix_push(const char *prefix);
void report_prefix_pop(void);
/*
 * Print "SUMMARY: N tests, N unexpected failures, N skipped" and return the
 * status for exit(): 0 when nothing failed, 1 otherwise.
 */
int report_summary(void);

/*
 * Leave the VM through the isa-debug-exit port 0xf4: the VMM (or QEMU)
 * exits with status (code << 1) | 1, so exit(0) reads 1 (pass) and exit(1)
 * reads 3 (fail). Without that device it halts for good.
 */
void exit(int code) __attribute__((noreturn));
/* Print "FAIL: <msg>", count it, print the summary and exit. */
void abort_test(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* ---- user mode (CPL3 runs natively on software KVM) --------------------- */

/*
 * Run fn(arg) at CPL3 with IOPL 3 (port I/O allowed), on the runtime's user
 * stack (32 KiB), and return its return value at CPL0. All memory is
 * identity-mapped with the U bit, so fn sees every global and can call any
 * runtime function that does not need CPL0 (printf, report, exit, malloc,
 * port and MMIO helpers, catch_exception). From user mode it just calls fn.
 * An exception in fn is handled exactly as at CPL0: a catch_exception()
 * around it (at either level) catches it, otherwise the test fails.
 */
int run_user(int (*fn)(void *arg), void *arg);

/* ---- exceptions -------------------------------------------------------- */

/* Saved state on the stack when an exception is taken (trap_common). */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	/* pushed by the CPU */
	u64 rip, cs, rflags, rsp, ss;
};

struct exception_info {
	unsigned int vector;
	u64 error_code;		/* 0 for exceptions without one */
	u64 rip;		/* as pushed: the faulting insn, or after a trap */
	u64 cr2;		/* #PF only */
	unsigned int cpl;	/* privilege level of the code that faulted */
};

/*
 * Call fn(arg). If it (or anything it calls, in user mode or not) raises an
 * exception, unwind back here like longjmp, fill *info (may be NULL) and
 * return the vector; otherwise return -1. Nestable; the innermost catches.
 * Handlers installed with set_exception_handler() run first.
 */
int catch_exception(void (*fn)(void *arg), void *arg, struct exception_info *info);

/*
 * Install a handler for vector (0-31); NULL removes it. It sees the saved
 * frame and returns true to resume at frame->rip (which it may change), or
 * false to pass the exception on (to catch_exception, then to the fatal
 * report).
 */
typedef bool (*exception_handler_t)(struct trap_frame *frame);
void set_exception_handler(unsigned int vector, exception_handler_t handler);
const char *exception_name(unsigned int vector);	/* "#PF" */

/* ---- memory ------------------------------------------------------------ */

/*
 * Bump allocator over the RAM after the image; it steps over the boot
 * structures (start_info, memory map, command line, modules). free() does
 * nothing. Returns NULL when the RAM region holding the heap runs out.
 */
void *malloc(size_t size);
void *calloc(size_t nmemb, size_t size);
void *memalign(size_t align, size_t size);
void *alloc_pages(size_t npages);		/* page-aligned, zeroed */
void free(void *ptr);
/* First byte the heap has not handed out (page-aligned). */
u64 heap_top(void);

/* Image bounds from the linker script. */
extern char __image_start[], __image_end[];

/* The 2 MiB page-directory entry mapping addr, or NULL if none. */
u64 *pde_of(u64 addr);

/* ---- boot information (PVH start_info) ---------------------------------- */

const struct hvm_start_info *boot_info(void);
const char *boot_cmdline(void);			/* "" when none */
unsigned int boot_memmap_count(void);
const struct hvm_memmap_table_entry *boot_memmap(unsigned int index);
unsigned int boot_module_count(void);
const struct hvm_modlist_entry *boot_module(unsigned int index);
const char *boot_module_cmdline(unsigned int index);	/* "" when none */
/* The module whose command line is exactly cmdline ("dtb"), or NULL. */
const struct hvm_modlist_entry *boot_find_module(const char *cmdline);

struct mem_range {
	u64 start;
	u64 end;	/* exclusive */
};
/*
 * The ranges the boot structures occupy (start_info, memory map, module
 * list, command lines, module contents): tests must not overwrite them.
 * Returns the count, fills at most max.
 */
unsigned int boot_reserved_ranges(struct mem_range *ranges, unsigned int max);

/*
 * Copy the value of "name=value" from the command line into val; returns
 * false if absent or it does not fit. A bare "name" gives "".
 */
bool cmdline_param(const char *name, char *val, size_t size);
/* "128M", "4G", "65536", "0x1000" with an optional K/M/G/T suffix. */
bool parse_size(const char *s, u64 *out);

/* ---- strings (gcc may also emit calls to the mem* ones) ----------------- */

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
unsigned long long strtoull(const char *s, char **end, int base);

#endif
