/* SPDX-License-Identifier: MIT */
#ifndef UVMM_RTC_H
#define UVMM_RTC_H

#include <time.h>

#include "abi/machine.h"
#include "abi/mc146818.h"
#include "common/types.h"

struct dev_services;
struct rtc;

/*
 * The PC's MC146818 RTC and CMOS RAM at ports 0x70/0x71: the time is the
 * host's (UTC) plus whatever offset the guest sets, BCD and 24-hour by
 * default as a BIOS leaves it, and the CMOS holds the memory-size bytes a
 * BIOS would write (base, extended, above 16 MiB, above 4 GiB) and the
 * CPU count. IRQ 8 rises while a flag of register C is set whose
 * interrupt register B enables (update ended once a second, the alarm,
 * the periodic rate of register A) and falls when the guest reads C; a
 * guest that polls C with interrupts off still sees the update flag.
 */
int rtc_create(const struct dev_services *svc, struct rtc **out);
void rtc_destroy(struct rtc *rtc);

/* For tests: the clock the RTC reads instead of CLOCK_REALTIME. */
void rtc_set_clock(struct rtc *rtc, time_t (*now)(void));

#endif
