// SPDX-License-Identifier: MIT
/*
 * rtc: the RTC's interrupts reach the CPU on ISA IRQ 8 through the IOAPIC
 * (pin 8, edge, active high, as the MP table routes ISA IRQs): the
 * update-ended interrupt once a second, an alarm whose bytes match any
 * time, the periodic interrupt at 2 Hz; the handler acknowledges each by
 * reading register C, and once disabled the line stays quiet.
 */
#include "guest.h"
#include "cmos.h"

#define VEC_RTC 0x48
#define RTC_GSI 8
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define B_24H 0x02
#define B_UIE 0x10
#define B_AIE 0x20
#define B_PIE 0x40
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define ALARM_ANY 0xc0

static volatile u8 c_seen;

static void rtc_handler(unsigned int vector)
{
	(void)vector;
	c_seen |= cmos_read(REG_C);
}

/* Enable the interrupts in enables, wait for want more of them, disable. */
static u64 interrupts(u8 enables, u64 want, unsigned int timeout_ms)
{
	u64 base = irq_count(VEC_RTC);

	c_seen = 0;
	cmos_write(REG_B, B_24H | enables);
	irq_wait(VEC_RTC, base + want, timeout_ms);
	cmos_write(REG_B, B_24H);
	cmos_read(REG_C);
	return irq_count(VEC_RTC) - base;
}

int main(void)
{
	u64 n;

	lapic_enable();
	set_irq_handler(VEC_RTC, rtc_handler);
	cmos_read(REG_C);
	ioapic_route(RTC_GSI, VEC_RTC, false, false, lapic_id());

	n = interrupts(B_UIE, 2, 3500);
	report(n >= 2 && (c_seen & (C_IRQF | C_UF)) == (C_IRQF | C_UF),
	       "update-ended interrupt on IRQ 8, once a second (%lu in the wait, C %#x)",
	       n, c_seen);

	cmos_write(0x01, ALARM_ANY);
	cmos_write(0x03, ALARM_ANY);
	cmos_write(0x05, ALARM_ANY);
	n = interrupts(B_AIE, 1, 2500);
	report(n >= 1 && (c_seen & (C_IRQF | C_AF)) == (C_IRQF | C_AF),
	       "alarm interrupt (%lu, C %#x)", n, c_seen);

	cmos_write(REG_A, 0x20 | 15);		/* 2 Hz */
	n = interrupts(B_PIE, 3, 3500);
	report(n >= 3 && (c_seen & (C_IRQF | C_PF)) == (C_IRQF | C_PF),
	       "periodic interrupt at 2 Hz (%lu, C %#x)", n, c_seen);

	n = interrupts(0, 1, 1500);
	report(n == 0, "no interrupt with none enabled (%lu)", n);
	ioapic_mask(RTC_GSI);
	return report_summary();
}
