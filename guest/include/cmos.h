/* SPDX-License-Identifier: MIT */
#ifndef GUEST_CMOS_H
#define GUEST_CMOS_H

/*
 * An RTC/CMOS register through the index and data ports of
 * abi/machine.h; abi/mc146818.h names the registers.
 */
#include "x86.h"
#include "abi/machine.h"

static inline u8 cmos_read(u8 index)
{
	outb(RTC_INDEX_PORT, index);
	return inb(RTC_DATA_PORT);
}

static inline void cmos_write(u8 index, u8 value)
{
	outb(RTC_INDEX_PORT, index);
	outb(RTC_DATA_PORT, value);
}

#endif
