/* SPDX-License-Identifier: MIT */
#ifndef UVMM_ABI_MC146818_H
#define UVMM_ABI_MC146818_H

/*
 * The MC146818 RTC and CMOS register map at ports RTC_INDEX_PORT and
 * RTC_DATA_PORT (abi/machine.h), as devices/rtc.c answers it and guests
 * program it; the CMOS bytes are those a PC BIOS leaves for the OS.
 */

/* CMOS registers (MC146818 and the PC's CMOS RAM map). */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define CMOS_BASE_MEM_LO 0x15		/* KiB below 1 MiB */
#define CMOS_EXT_MEM_LO 0x17		/* KiB above 1 MiB, up to 64 MiB */
#define CMOS_CHECKSUM_HI 0x2e		/* sum of 0x10-0x2d, big-endian */
#define CMOS_EXT_MEM2_LO 0x30		/* same as 0x17 */
#define RTC_CENTURY 0x32
#define CMOS_MEM_ABOVE_16M_LO 0x34	/* 64 KiB units, up to the hole */
#define CMOS_MEM_ABOVE_4G 0x5b		/* 64 KiB units, 3 bytes */
#define CMOS_NR_CPUS_MINUS_1 0x5f

#define RTC_A_UIP 0x80
#define RTC_A_RATE 0x0f			/* periodic interrupt rate select */
#define RTC_B_SET 0x80			/* updates stopped: the guest sets the time */
#define RTC_B_PIE 0x40			/* interrupt enables, one per C flag */
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40			/* periodic */
#define RTC_C_AF 0x20			/* alarm */
#define RTC_C_UF 0x10			/* update ended */
#define RTC_ALARM_ANY 0xc0		/* an alarm byte >= this matches any value */
#define RTC_D_VRT 0x80

#define CMOS_SIZE 128

#endif
