// SPDX-License-Identifier: MIT
/*
 * MC146818 RTC and CMOS RAM. The time is not kept in registers: it is the
 * host clock plus an offset the guest may change, turned into the
 * register encoding (BCD or binary, 12 or 24 hours) on every read, so it
 * never drifts. Register C's update and alarm flags are worked out when
 * they are looked at (latch_updates()). A timer thread exists for the
 * interrupts alone: it sleeps until register B enables one, then wakes at
 * each second boundary (update ended, alarm) or periodic tick, sets
 * register C's flags and raises IRQ 8.
 */
#define LOG_PREFIX "rtc"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/machine.h"
#include "common/clock.h"
#include "common/log.h"
#include "devices/rtc.h"
#include "vmm/services.h"

#define RTC_A_WRITABLE 0x7f
#define RTC_A_DEFAULT 0x26		/* 32.768 kHz divider, 1024 Hz rate */
#define RTC_HOUR_PM 0x80
#define CMOS_CHECKSUM_FIRST 0x10
#define CMOS_CHECKSUM_LAST 0x2d
#define RTC_B_IRQ_ENABLES (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)
/* 244 us of warning plus the 1984 us update cycle, per the datasheet. */
#define RTC_UIP_NS 2228000ULL
/* A host thread cannot tick at 8192 Hz usefully: 1024 Hz (rate 6) at most. */
#define RTC_MIN_PERIOD_NS 976562

struct rtc {
	const struct dev_services *svc;
	time_t (*now)(void);

	/* lock protects every field below. */
	pthread_mutex_t lock;
	u8 index;
	u8 cmos[CMOS_SIZE];		/* all but the time registers */
	s64 offset;			/* guest time - host time, seconds */
	time_t set_time;		/* while RTC_B_SET: the time being set */
	time_t latched_to;		/* guest time whose updates are in flags */
	u8 flags;			/* C's PF/AF/UF, set and not yet read */
	bool irq_level;
	u64 next_periodic_ns;		/* CLOCK_MONOTONIC; 0: restart */

	pthread_cond_t wake;		/* register A or B changed, or stopping */
	bool stopping;
	pthread_t thread;
};

/*
 * CLOCK_REALTIME, not time(): time() reads the coarse clock, which turns
 * the second a few milliseconds late, after UIP and the timer thread have
 * already seen the update.
 */
static time_t host_now(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000000ULL;
}

/* Caller holds lock. */
static time_t guest_now(const struct rtc *rtc)
{
	if (rtc->cmos[RTC_REG_B] & RTC_B_SET)
		return rtc->set_time;
	return rtc->now() + rtc->offset;
}

static bool binary_mode(const struct rtc *rtc)
{
	return rtc->cmos[RTC_REG_B] & RTC_B_DM_BINARY;
}

static u8 encode(const struct rtc *rtc, unsigned int value)
{
	value %= 100;
	return binary_mode(rtc) ? value : ((value / 10) << 4) | (value % 10);
}

/* Any byte a guest writes decodes to some number; timegm() normalises it. */
static int decode(const struct rtc *rtc, u8 value)
{
	return binary_mode(rtc) ? value : (value >> 4) * 10 + (value & 0xf);
}

static u8 encode_hour(const struct rtc *rtc, int hour)
{
	int h12;

	if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
		return encode(rtc, hour);
	h12 = hour % 12 ? hour % 12 : 12;
	return encode(rtc, h12) | (hour >= 12 ? RTC_HOUR_PM : 0);
}

static int decode_hour(const struct rtc *rtc, u8 value)
{
	int hour;

	if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
		return decode(rtc, value);
	hour = decode(rtc, value & ~RTC_HOUR_PM) % 12;
	return (value & RTC_HOUR_PM) ? hour + 12 : hour;
}

static bool is_time_register(u8 index)
{
	switch (index) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

/* Caller holds lock. */
static u8 read_time_register(const struct rtc *rtc, u8 index)
{
	time_t t = guest_now(rtc);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return 0;
	switch (index) {
	case RTC_SECONDS:
		return encode(rtc, tm.tm_sec);
	case RTC_MINUTES:
		return encode(rtc, tm.tm_min);
	case RTC_HOURS:
		return encode_hour(rtc, tm.tm_hour);
	case RTC_DAY_OF_WEEK:
		return encode(rtc, tm.tm_wday + 1);	/* Sunday is 1 */
	case RTC_DAY_OF_MONTH:
		return encode(rtc, tm.tm_mday);
	case RTC_MONTH:
		return encode(rtc, tm.tm_mon + 1);
	case RTC_YEAR:
		return encode(rtc, (tm.tm_year + 1900) % 100);
	case RTC_CENTURY:
		return encode(rtc, (tm.tm_year + 1900) / 100);
	}
	return 0xff;
}

/* Caller holds lock. Changes one field of the guest's time. */
static void write_time_register(struct rtc *rtc, u8 index, u8 value)
{
	time_t t = guest_now(rtc);
	struct tm tm;
	int year;

	if (!gmtime_r(&t, &tm))
		return;
	year = tm.tm_year + 1900;
	switch (index) {
	case RTC_SECONDS:
		tm.tm_sec = decode(rtc, value);
		break;
	case RTC_MINUTES:
		tm.tm_min = decode(rtc, value);
		break;
	case RTC_HOURS:
		tm.tm_hour = decode_hour(rtc, value);
		break;
	case RTC_DAY_OF_WEEK:
		return;		/* follows from the date */
	case RTC_DAY_OF_MONTH:
		tm.tm_mday = decode(rtc, value);
		break;
	case RTC_MONTH:
		tm.tm_mon = decode(rtc, value) - 1;
		break;
	case RTC_YEAR:
		tm.tm_year = year - year % 100 + decode(rtc, value) - 1900;
		break;
	case RTC_CENTURY:
		tm.tm_year = decode(rtc, value) * 100 + year % 100 - 1900;
		break;
	}
	tm.tm_isdst = 0;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return;
	if (rtc->cmos[RTC_REG_B] & RTC_B_SET)
		rtc->set_time = t;
	else
		rtc->offset = (s64)t - (s64)rtc->now();
}

static bool alarm_byte_matches(u8 alarm, u8 now)
{
	return alarm >= RTC_ALARM_ANY || alarm == now;
}

/* Caller holds lock. Whether the alarm bytes match guest time t. */
static bool alarm_matches_at(const struct rtc *rtc, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return false;
	return alarm_byte_matches(rtc->cmos[RTC_SECONDS_ALARM],
				  encode(rtc, tm.tm_sec)) &&
	       alarm_byte_matches(rtc->cmos[RTC_MINUTES_ALARM],
				  encode(rtc, tm.tm_min)) &&
	       alarm_byte_matches(rtc->cmos[RTC_HOURS_ALARM],
				  encode_hour(rtc, tm.tm_hour));
}

/*
 * Caller holds lock. The updates since latched_to, as the MC146818 flags
 * them at each one whatever register B enables: UF, and AF when the new
 * time matched the alarm. Only IRQF (and the line) depends on the enables,
 * so an alarm that came due while AIE was off is still in C when AIE goes
 * on, as Linux's rtc-cmos expects: it reads C right after enabling AIE
 * to catch an alarm whose second passed while it was setting it. An
 * alarm's bytes repeat at least daily: a day of updates is enough to look at.
 */
static void latch_updates(struct rtc *rtc)
{
	time_t t = guest_now(rtc), s;

	if (rtc->cmos[RTC_REG_B] & RTC_B_SET)
		return;
	if (t <= rtc->latched_to) {
		rtc->latched_to = t;	/* the guest set the clock back */
		return;
	}
	rtc->flags |= RTC_C_UF;
	for (s = t; s > rtc->latched_to && s > t - 86400; s--) {
		if (alarm_matches_at(rtc, s)) {
			rtc->flags |= RTC_C_AF;
			/* An enabled alarm wakes a machine in ACPI S3. */
			if (rtc->cmos[RTC_REG_B] & RTC_B_AIE)
				svc_wake_event(rtc->svc, ACPI_PM1_RTC_STS);
			break;
		}
	}
	rtc->latched_to = t;
}

/* Caller holds lock. IRQ 8 is high while an enabled flag is unread. */
static void rtc_update_irq(struct rtc *rtc)
{
	bool level = rtc->flags & rtc->cmos[RTC_REG_B] & RTC_B_IRQ_ENABLES;

	if (level == rtc->irq_level)
		return;
	rtc->irq_level = level;
	svc_set_irq_line(rtc->svc, RTC_IRQ, level);
}

/*
 * UIP, as the MC146818 shows it: high from 244 us before each update
 * through the 1984 us the update takes, so software that waits for an
 * update edge (kvm-unit-tests' s3 test, firmware calibrating against the
 * RTC) sees one every second. The time itself never changes mid-read
 * here. Not while SET holds updates off, and never on a test's clock,
 * which has no fraction of a second. Caller holds lock.
 */
static bool update_in_progress(const struct rtc *rtc)
{
	u64 frac;

	if (rtc->now != host_now || (rtc->cmos[RTC_REG_B] & RTC_B_SET))
		return false;
	frac = clock_ns(CLOCK_REALTIME) % 1000000000ULL;
	return frac >= 1000000000ULL - RTC_UIP_NS;
}

/* Caller holds lock. */
static u8 rtc_read_register(struct rtc *rtc, u8 index)
{
	u8 value;

	if (is_time_register(index))
		return read_time_register(rtc, index);
	switch (index) {
	case RTC_REG_A:
		return (rtc->cmos[RTC_REG_A] & ~RTC_A_UIP) |
		       (update_in_progress(rtc) ? RTC_A_UIP : 0);
	case RTC_REG_C:
		/* Every flag set since the last read; reading clears them. */
		latch_updates(rtc);
		value = rtc->flags;
		if (value & rtc->cmos[RTC_REG_B] & RTC_B_IRQ_ENABLES)
			value |= RTC_C_IRQF;
		if (rtc->flags & RTC_C_PF)
			pthread_cond_signal(&rtc->wake);
		rtc->flags = 0;
		rtc_update_irq(rtc);
		return value;
	case RTC_REG_D:
		return RTC_D_VRT;	/* battery good, time valid */
	default:
		return rtc->cmos[index];
	}
}

/* Caller holds lock. */
static void rtc_write_register(struct rtc *rtc, u8 index, u8 value)
{
	u8 old_b;

	if (is_time_register(index)) {
		write_time_register(rtc, index, value);
		return;
	}
	switch (index) {
	case RTC_REG_A:
		rtc->cmos[RTC_REG_A] = value & RTC_A_WRITABLE;
		rtc->next_periodic_ns = 0;
		pthread_cond_signal(&rtc->wake);
		return;
	case RTC_REG_B:
		old_b = rtc->cmos[RTC_REG_B];
		/* SET freezes the time for the guest to write; clearing it resumes. */
		if (!(old_b & RTC_B_SET) && (value & RTC_B_SET))
			rtc->set_time = guest_now(rtc);
		rtc->cmos[RTC_REG_B] = value;
		if ((old_b & RTC_B_SET) && !(value & RTC_B_SET)) {
			rtc->offset = (s64)rtc->set_time - (s64)rtc->now();
			rtc->latched_to = rtc->set_time;
		}
		/* Newly enabled: a flag already set raises the line now. */
		if ((value & ~old_b) & (RTC_B_UIE | RTC_B_AIE))
			latch_updates(rtc);
		if ((value & ~old_b) & RTC_B_PIE)
			rtc->next_periodic_ns = 0;
		rtc_update_irq(rtc);
		pthread_cond_signal(&rtc->wake);
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return;		/* read-only */
	default:
		rtc->cmos[index] = value;
		return;
	}
}

static void rtc_io_read(void *dev, u64 off, void *data, u32 len)
{
	struct rtc *rtc = dev;

	memset(data, 0xff, len);
	if (off != 1)
		return;		/* the index port is write-only */
	pthread_mutex_lock(&rtc->lock);
	*(u8 *)data = rtc_read_register(rtc, rtc->index);
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_io_write(void *dev, u64 off, const void *data, u32 len)
{
	struct rtc *rtc = dev;
	u8 value = *(const u8 *)data;

	(void)len;
	pthread_mutex_lock(&rtc->lock);
	if (off == 0)
		rtc->index = value & (CMOS_SIZE - 1);	/* bit 7: NMI mask, no effect */
	else
		rtc_write_register(rtc, rtc->index, value);
	pthread_mutex_unlock(&rtc->lock);
}

static const struct bus_ops rtc_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
};

/* Register A's rate select as a period; 0 when it selects none. */
static u64 periodic_ns(u8 reg_a)
{
	unsigned int rate = reg_a & RTC_A_RATE;
	u64 ns;

	if (!rate)
		return 0;
	/* 32768 Hz >> (rate - 1); rates 1 and 2 repeat 8 and 9 (256, 128 Hz). */
	if (rate < 3)
		rate += 7;
	ns = (1000000000ULL << (rate - 1)) / 32768;
	return MAX(ns, (u64)RTC_MIN_PERIOD_NS);
}

/* Caller holds lock: set the flags that came due; the next wake-up time. */
static u64 rtc_tick(struct rtc *rtc, u64 mono)
{
	u8 b = rtc->cmos[RTC_REG_B];
	u64 period = (b & RTC_B_PIE) ? periodic_ns(rtc->cmos[RTC_REG_A]) : 0;
	u64 next = 0, rt;

	if ((b & (RTC_B_UIE | RTC_B_AIE)) && !(b & RTC_B_SET)) {
		latch_updates(rtc);
		/* The host's next second boundary, when time() moves on. */
		rt = clock_ns(CLOCK_REALTIME);
		next = mono + 1000000000ULL - rt % 1000000000ULL;
	}
	if (period && (rtc->flags & RTC_C_PF)) {
		/* Unread: more ticks change nothing. Reading C restarts them. */
		rtc->next_periodic_ns = 0;
	} else if (period) {
		if (rtc->next_periodic_ns && mono >= rtc->next_periodic_ns)
			rtc->flags |= RTC_C_PF;
		/* Restarted, or so late that the missed ticks are lost. */
		if (!rtc->next_periodic_ns || mono >= rtc->next_periodic_ns + period)
			rtc->next_periodic_ns = mono + period;
		else if (mono >= rtc->next_periodic_ns)
			rtc->next_periodic_ns += period;
		if (!next || rtc->next_periodic_ns < next)
			next = rtc->next_periodic_ns;
	}
	rtc_update_irq(rtc);
	return next;
}

static void *rtc_timer_thread(void *arg)
{
	struct rtc *rtc = arg;
	struct timespec ts;
	u64 next;

	pthread_mutex_lock(&rtc->lock);
	while (!rtc->stopping) {
		next = rtc_tick(rtc, clock_ns(CLOCK_MONOTONIC));
		if (!next) {
			pthread_cond_wait(&rtc->wake, &rtc->lock);
			continue;
		}
		ts.tv_sec = next / 1000000000ULL;
		ts.tv_nsec = next % 1000000000ULL;
		pthread_cond_timedwait(&rtc->wake, &rtc->lock, &ts);
	}
	pthread_mutex_unlock(&rtc->lock);
	return NULL;
}

static void put16(u8 *cmos, unsigned int index, u64 value)
{
	value = MIN(value, 0xffffULL);
	cmos[index] = value & 0xff;
	cmos[index + 1] = value >> 8;
}

/* The bytes a PC BIOS leaves for the OS, as SeaBIOS and QEMU lay them out. */
static void rtc_fill_cmos(struct rtc *rtc, const struct dev_services *svc)
{
	u64 low_end = mem_low_end(svc->mem);
	u64 high = svc->mem->size > low_end ? svc->mem->size - low_end : 0;
	unsigned int nr_cpus = svc->nr_cpus;
	u8 *cmos = rtc->cmos;
	u16 sum = 0;
	unsigned int i;

	cmos[RTC_REG_A] = RTC_A_DEFAULT;
	cmos[RTC_REG_B] = RTC_B_24H;
	put16(cmos, CMOS_BASE_MEM_LO, 640);
	if (low_end > MiB) {
		put16(cmos, CMOS_EXT_MEM_LO, (low_end - MiB) / KiB);
		put16(cmos, CMOS_EXT_MEM2_LO, (low_end - MiB) / KiB);
	}
	if (low_end > 16 * MiB)
		put16(cmos, CMOS_MEM_ABOVE_16M_LO, (low_end - 16 * MiB) / (64 * KiB));
	high /= 64 * KiB;
	cmos[CMOS_MEM_ABOVE_4G] = high & 0xff;
	cmos[CMOS_MEM_ABOVE_4G + 1] = (high >> 8) & 0xff;
	cmos[CMOS_MEM_ABOVE_4G + 2] = (high >> 16) & 0xff;
	cmos[CMOS_NR_CPUS_MINUS_1] = nr_cpus ? nr_cpus - 1 : 0;
	for (i = CMOS_CHECKSUM_FIRST; i <= CMOS_CHECKSUM_LAST; i++)
		sum += cmos[i];
	cmos[CMOS_CHECKSUM_HI] = sum >> 8;
	cmos[CMOS_CHECKSUM_HI + 1] = sum & 0xff;
}

static void rtc_stop_thread(struct rtc *rtc)
{
	pthread_mutex_lock(&rtc->lock);
	rtc->stopping = true;
	pthread_cond_signal(&rtc->wake);
	pthread_mutex_unlock(&rtc->lock);
	pthread_join(rtc->thread, NULL);
}

int rtc_create(const struct dev_services *svc, struct rtc **out)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));
	pthread_condattr_t attr;
	int ret;

	if (!rtc)
		return -ENOMEM;
	rtc->svc = svc;
	rtc->now = host_now;
	rtc_fill_cmos(rtc, svc);
	rtc->latched_to = rtc->now();
	ret = -pthread_mutex_init(&rtc->lock, NULL);
	if (ret)
		goto err_free;
	ret = -pthread_condattr_init(&attr);
	if (ret)
		goto err_mutex;
	ret = -pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = -pthread_cond_init(&rtc->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		goto err_mutex;
	ret = -pthread_create(&rtc->thread, NULL, rtc_timer_thread, rtc);
	if (ret)
		goto err_cond;
	ret = bus_register(svc->pio, RTC_INDEX_PORT, 2, &rtc_ops, rtc, "rtc");
	if (ret)
		goto err_thread;
	*out = rtc;
	return 0;

err_thread:
	rtc_stop_thread(rtc);
err_cond:
	pthread_cond_destroy(&rtc->wake);
err_mutex:
	pthread_mutex_destroy(&rtc->lock);
err_free:
	free(rtc);
	return ret;
}

void rtc_set_clock(struct rtc *rtc, time_t (*now)(void))
{
	pthread_mutex_lock(&rtc->lock);
	rtc->now = now ? now : host_now;
	rtc->latched_to = rtc->now() + rtc->offset;
	pthread_mutex_unlock(&rtc->lock);
}

void rtc_destroy(struct rtc *rtc)
{
	if (!rtc)
		return;
	bus_unregister(rtc->svc->pio, RTC_INDEX_PORT, rtc);
	rtc_stop_thread(rtc);
	pthread_cond_destroy(&rtc->wake);
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}
