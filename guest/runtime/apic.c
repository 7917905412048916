// SPDX-License-Identifier: MIT
/*
 * Local APIC (xAPIC, MMIO), IOAPIC and the interrupt side of the IDT:
 * per-vector handlers, counts and EOI, and a wait that sleeps in hlt with
 * the local APIC timer as its alarm clock.
 */
#include "runtime.h"

#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_DIV		0x3e0
#define LAPIC_SVR_ENABLE	0x100
#define LAPIC_LVT_MASKED	0x10000
#define LAPIC_DIV_16		0x3
/* KVM's APIC bus runs at 1 GHz: 62500 ticks of 16 ns per millisecond. */
#define LAPIC_TICKS_PER_MS	62500u

#define IOAPIC_INDEX		0x00
#define IOAPIC_DATA		0x10
#define IOAPIC_VERSION		0x01
#define IOAPIC_REDIR(gsi)	(0x10 + 2 * (gsi))
#define IOAPIC_LEVEL		(1u << 15)
#define IOAPIC_ACTIVE_LOW	(1u << 13)
#define IOAPIC_MASKED		(1u << 16)

#define PIC1_DATA		0x21
#define PIC2_DATA		0xa1

static irq_handler_t irq_handlers[256];
static volatile u64 irq_counts[256];
static volatile bool alarm_rang;
static bool lapic_on;

static u32 lapic_read(u32 reg)
{
	return readl(LAPIC_BASE + reg);
}

static void lapic_write(u32 reg, u32 val)
{
	writel(LAPIC_BASE + reg, val);
}

void lapic_enable(void)
{
	/* Only the APICs deliver: both 8259s fully masked. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	trap_set_irq_gate(SPURIOUS_VECTOR);
	trap_set_irq_gate(TIMER_VECTOR);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | TIMER_VECTOR);
	lapic_on = true;
}

u32 lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

u32 ioapic_read(u32 reg)
{
	writel(IOAPIC_BASE + IOAPIC_INDEX, reg);
	return readl(IOAPIC_BASE + IOAPIC_DATA);
}

void ioapic_write(u32 reg, u32 val)
{
	writel(IOAPIC_BASE + IOAPIC_INDEX, reg);
	writel(IOAPIC_BASE + IOAPIC_DATA, val);
}

unsigned int ioapic_pins(void)
{
	return ((ioapic_read(IOAPIC_VERSION) >> 16) & 0xff) + 1;
}

void ioapic_route(unsigned int gsi, u8 vector, bool level, bool active_low,
		  u8 dest)
{
	u32 low = vector;

	if (level)
		low |= IOAPIC_LEVEL;
	if (active_low)
		low |= IOAPIC_ACTIVE_LOW;
	/* Masked while the two halves are inconsistent. */
	ioapic_write(IOAPIC_REDIR(gsi), IOAPIC_MASKED);
	ioapic_write(IOAPIC_REDIR(gsi) + 1, (u32)dest << 24);
	ioapic_write(IOAPIC_REDIR(gsi), low);
}

void ioapic_mask(unsigned int gsi)
{
	ioapic_write(IOAPIC_REDIR(gsi),
		     ioapic_read(IOAPIC_REDIR(gsi)) | IOAPIC_MASKED);
}

u64 msi_address(u8 dest)
{
	return LAPIC_BASE | (u64)dest << 12;
}

u32 msi_data(u8 vector)
{
	return vector;		/* fixed delivery, edge */
}

void set_irq_handler(unsigned int vector, irq_handler_t handler)
{
	if (vector < 32 || vector >= 256 || vector == USER_RETURN_VECTOR ||
	    vector == SPURIOUS_VECTOR || vector == TIMER_VECTOR)
		return;
	irq_handlers[vector] = handler;
	trap_set_irq_gate(vector);
}

u64 irq_count(unsigned int vector)
{
	return vector < 256 ? irq_counts[vector] : 0;
}

/* From trap_dispatch() for vectors 32-255, interrupts off. */
void irq_dispatch(struct trap_frame *tf)
{
	unsigned int vector = tf->vector;

	if (vector == SPURIOUS_VECTOR) {
		irq_counts[vector]++;
		return;		/* a spurious interrupt takes no EOI */
	}
	if (vector == TIMER_VECTOR)
		alarm_rang = true;
	else if (irq_handlers[vector])
		irq_handlers[vector](vector);
	else
		report(false, "interrupt on vector %u, which has no handler",
		       vector);
	irq_counts[vector]++;
	lapic_eoi();
}

bool irq_wait(unsigned int vector, u64 count, unsigned int timeout_ms)
{
	bool reached;

	/* Without the APIC on, the alarm would never ring. */
	if (!lapic_on)
		lapic_enable();
	alarm_rang = false;
	lapic_write(LAPIC_TIMER_DIV, LAPIC_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR);	/* one-shot */
	lapic_write(LAPIC_TIMER_INIT, timeout_ms * LAPIC_TICKS_PER_MS);
	/* sti's one-instruction shadow makes "check, then sleep" atomic. */
	while (irq_counts[vector] < count && !alarm_rang)
		asm volatile("sti; hlt; cli" : : : "memory");
	reached = irq_counts[vector] >= count;
	lapic_write(LAPIC_TIMER_INIT, 0);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | TIMER_VECTOR);
	return reached;
}
