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
#include "abi/pvh.h"

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
 *
 * Where the host does not honour IOPL at CPL3 or turns "int N" from CPL3
 * into #UD (PVM), the #GP/#UD handlers finish in/out/sti/cli and the return
 * at CPL0, so fn behaves the same; "rt.user_io=trap" on the command line
 * forces that path (IOPL 0, a DPL 0 return gate) on any KVM. An sti/cli in
 * fn sets the flag of the CPL3 frame, which PVM does not honour: code that
 * must run with interrupts off belongs at CPL0.
 */
int run_user(int (*fn)(void *arg), void *arg);

enum user_io_mode {
	USER_IO_IOPL,	/* IOPL 3 and a DPL 3 return gate; faults still handled */
	USER_IO_TRAP,	/* rt.user_io=trap: every port access and return faults */
};
/* What user.c's handlers completed so far. */
struct user_trap_counts {
	u64 port_io;	/* in/out */
	u64 irq_flag;	/* sti/cli */
	u64 returns;	/* run_user() returns through the fault path */
};
extern enum user_io_mode user_io_mode;
const char *user_io_mode_name(void);
void user_trap_counts(struct user_trap_counts *out);

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
/*
 * The number "name=N" gives (parse_size's forms), or def when it is
 * absent, not a number, or outside [min, max].
 */
u64 cmdline_num(const char *name, u64 def, u64 min, u64 max);

/* ---- benchmarks ----------------------------------------------------------- */

/*
 * Print samples as bench/measure.sh reads them, in lines of about 400
 * characters: "BENCH <name> <unit> <ops per sample> <sample>...", more
 * lines of the same name continuing it. Unit "ticks" (TSC) or "ns".
 */
void bench_emit(const char *name, const char *unit, u64 ops, const u64 *v,
		unsigned int n);

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


/* ---- device tree (the "dtb" boot module), read-only --------------------- */

/*
 * A node is the offset of its FDT_BEGIN_NODE token; -1 means none. Every
 * read is bounds-checked against the blob, so a corrupt tree gives -1 and
 * NULL, never a fault.
 */
bool dt_init(const void *blob, u64 size);	/* checks the header */
bool dt_init_boot(void);	/* dt_init() on the "dtb" module */
bool dt_ready(void);
u32 dt_version(void);
int dt_root(void);
/* "/isa/serial@3f8"; a component without '@' also matches "name@...". */
int dt_path(const char *path);
int dt_first_child(int node);
int dt_next_sibling(int node);
int dt_parent(int node);
const char *dt_name(int node);			/* "" for the root */
const void *dt_prop(int node, const char *name, u32 *len);
const char *dt_prop_string(int node, const char *name);	/* NUL-terminated */
bool dt_prop_u32(int node, const char *name, u32 *val);
bool dt_is_compatible(int node, const char *compat);
/* The next node after from (-1: the first) whose compatible has compat. */
int dt_find_compatible(int from, const char *compat);
int dt_find_phandle(u32 phandle);
/* #address-cells / #size-cells a node gives its children (2 and 1 if unset). */
u32 dt_address_cells(int node);
u32 dt_size_cells(int node);
/*
 * Entry index of reg, with the parent's cell counts (each at most 2; an
 * ISA address <space port> comes back as space << 32 | port).
 */
bool dt_reg(int node, unsigned int index, u64 *addr, u64 *size);
/* Big-endian cells: one or two of them as a number. */
u32 dt_be32(const void *p);
u64 dt_cells(const void *p, unsigned int n);

/* ---- PCI configuration space --------------------------------------------- */

#define PCI_BDF(bus, dev, fn)	(((u32)(bus) << 8) | ((dev) << 3) | (fn))
#define PCI_BDF_BUS(bdf)	(((bdf) >> 8) & 0xff)
#define PCI_BDF_DEV(bdf)	(((bdf) >> 3) & 0x1f)
#define PCI_BDF_FN(bdf)		((bdf) & 7)

#define PCI_CFG_VENDOR		0x00
#define PCI_CFG_DEVICE		0x02
#define PCI_CFG_COMMAND		0x04
#define PCI_CFG_STATUS		0x06
#define PCI_CFG_CLASS_REV	0x08
#define PCI_CFG_HEADER_TYPE	0x0e
#define PCI_CFG_BAR0		0x10
#define PCI_CFG_ROM		0x30
#define PCI_CFG_CAP_PTR		0x34
#define PCI_CFG_INT_LINE	0x3c
#define PCI_CFG_INT_PIN		0x3d
#define PCI_CMD_IO		0x1
#define PCI_CMD_MEM		0x2
#define PCI_CMD_MASTER		0x4
#define PCI_CMD_INTX_DISABLE	0x400
#define PCI_STATUS_INTX		0x8
#define PCI_STATUS_CAPS		0x10
#define PCI_CAP_MSI		0x05
#define PCI_CAP_MSIX		0x11

/*
 * Finds the ECAM window in the device tree (pci-host-ecam-generic: reg,
 * bus-range) and the host's windows (ranges). Without it only conf1
 * works. Idempotent.
 */
bool pci_init(void);
u64 pci_ecam_base(void);			/* 0: not found */
/* The host's windows from "ranges"; false when the tree has none. */
bool pci_window(unsigned int kind, u64 *base, u64 *size);
#define PCI_WINDOW_IO		0
#define PCI_WINDOW_MEM32	1
#define PCI_WINDOW_MEM64	2

/* Any offset and width inside a dword; out-of-range reads give all-ones. */
u32 pci_conf1_read(u32 bdf, u32 off, u32 len);
void pci_conf1_write(u32 bdf, u32 off, u32 len, u32 val);
u32 pci_ecam_read(u32 bdf, u32 off, u32 len);
void pci_ecam_write(u32 bdf, u32 off, u32 len, u32 val);
/* ECAM when known, conf1 otherwise. */
u32 pci_read(u32 bdf, u32 off, u32 len);
void pci_write(u32 bdf, u32 off, u32 len, u32 val);

/* Functions present on bus: function 0 of each slot, 1-7 if multi-function. */
unsigned int pci_scan_bus(unsigned int bus, u32 *bdfs, unsigned int max);
/* The first function on bus whose class code (class, subclass, prog-if) is class. */
bool pci_find_class(unsigned int bus, u32 class, u32 *bdf);
/* Capability offset, 0 if absent; walks with a loop guard. */
u8 pci_find_cap(u32 bdf, u8 id);

#define PCI_BAR_IO		1
#define PCI_BAR_MEM32		2
#define PCI_BAR_MEM64		3

struct pci_bar {
	unsigned int type;	/* 0: not implemented */
	bool prefetchable;
	u64 addr;
	u64 size;
};

/*
 * Size BAR index (6: the expansion ROM) the usual way: decode off, write
 * all-ones, read the mask back, restore. Returns the BAR slots it takes:
 * 2 for a 64-bit BAR, 1 otherwise (also when unimplemented: type 0).
 */
unsigned int pci_bar_probe(u32 bdf, unsigned int index, struct pci_bar *bar);
/* Program a BAR's address (both halves of a 64-bit one); decode untouched. */
void pci_bar_set(u32 bdf, unsigned int index, u64 addr);

/* ---- local APIC, IOAPIC and interrupts -------------------------------------- */

#define LAPIC_BASE		0xfee00000ULL
#define IOAPIC_BASE		0xfec00000ULL
#define SPURIOUS_VECTOR		0xff
#define TIMER_VECTOR		0xfe

/* Software-enable the local APIC (masks the 8259s); its APIC ID. */
void lapic_enable(void);
u32 lapic_id(void);
void lapic_eoi(void);
u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 val);
unsigned int ioapic_pins(void);
/* GSI -> vector on APIC dest, fixed delivery, unmasked. */
void ioapic_route(unsigned int gsi, u8 vector, bool level, bool active_low,
		  u8 dest);
void ioapic_mask(unsigned int gsi);
/* An MSI message for vector on APIC dest: fixed, edge. */
u64 msi_address(u8 dest);
u32 msi_data(u8 vector);

/*
 * Interrupt vectors 32-255 (not 0x80, TIMER_VECTOR, SPURIOUS_VECTOR):
 * handler(vector) runs at CPL0 with interrupts off; the runtime then
 * counts the vector and sends the local APIC an EOI. Setting a handler
 * installs the vector's IDT gate; an interrupt on a vector without one
 * is a fatal #NP.
 */
typedef void (*irq_handler_t)(unsigned int vector);
void set_irq_handler(unsigned int vector, irq_handler_t handler);
u64 irq_count(unsigned int vector);
/*
 * With interrupts enabled (sti; hlt), wait until vector has been taken
 * count times in all, or timeout_ms (local APIC timer) passed. CPL0 only.
 */
bool irq_wait(unsigned int vector, u64 count, unsigned int timeout_ms);

/*
 * Identity-map [addr, addr + size) uncached (MMIO above 4 GiB, such as
 * the PCI 64-bit window), up to 512 GiB. Returns false beyond that.
 */
bool map_mmio(u64 addr, u64 size);

#endif
