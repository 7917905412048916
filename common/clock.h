/* SPDX-License-Identifier: MIT */
#ifndef UVMM_COMMON_CLOCK_H
#define UVMM_COMMON_CLOCK_H

/*
 * The one way the tree reads a clock: nanoseconds (or milliseconds) of
 * CLOCK_MONOTONIC for timeouts, deadlines and durations, any clock in
 * nanoseconds where a device needs another (the RTC's CLOCK_REALTIME).
 * Header-only, so the bench tools, which link nothing of ours, use it too.
 */
#include <time.h>

#include "common/types.h"

static inline u64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static inline u64 mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static inline u64 mono_ms(void)
{
	return mono_ns() / 1000000;
}

#endif
