// SPDX-License-Identifier: MIT
/*
 * The RTC/CMOS through its two ports, on a clock the test controls: the
 * time in BCD, binary and 12-hour encodings, setting it (with and without
 * the SET bit), register C's update flag, the timer's alarm and periodic
 * flags, an alarm latched while AIE was off, the memory-size bytes, and
 * guest garbage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "common/clock.h"
#include "devices/rtc.h"
#include "tests/unit/support/fake_vm.h"

/* 2024-02-29 13:45:56 UTC, a Thursday. */
#define T0 1709214356
static time_t fake_time = T0;

static time_t fake_now(void)
{
	return fake_time;
}

struct fixture {
	struct vm_config cfg;
	struct vm *vm;
	struct rtc *rtc;
};

static struct fixture *fixture_new(u64 mem_bytes, unsigned int cpus)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.nr_cpus = cpus;
	f->cfg.memory_bytes = mem_bytes;
	f->vm = fake_vm_create(&f->cfg, mem_bytes);
	assert_non_null(f->vm);
	assert_int_equal(rtc_create(vm_services(f->vm), &f->rtc), 0);
	fake_time = T0;
	rtc_set_clock(f->rtc, fake_now);
	return f;
}

static void fixture_free(struct fixture *f)
{
	rtc_destroy(f->rtc);
	fake_vm_destroy(f->vm);
	free(f);
}

static u8 cmos_read(struct fixture *f, u8 index)
{
	u8 value = 0;

	assert_true(bus_write(&f->vm->pio, 0x70, &index, 1));
	assert_true(bus_read(&f->vm->pio, 0x71, &value, 1));
	return value;
}

static void cmos_write(struct fixture *f, u8 index, u8 value)
{
	assert_true(bus_write(&f->vm->pio, 0x70, &index, 1));
	assert_true(bus_write(&f->vm->pio, 0x71, &value, 1));
}

static void test_time_in_bcd(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);

	(void)state;
	assert_int_equal(cmos_read(f, RTC_SECONDS), 0x56);
	assert_int_equal(cmos_read(f, RTC_MINUTES), 0x45);
	assert_int_equal(cmos_read(f, RTC_HOURS), 0x13);
	assert_int_equal(cmos_read(f, RTC_DAY_OF_WEEK), 5);	/* Sunday = 1 */
	assert_int_equal(cmos_read(f, RTC_DAY_OF_MONTH), 0x29);
	assert_int_equal(cmos_read(f, RTC_MONTH), 0x02);
	assert_int_equal(cmos_read(f, RTC_YEAR), 0x24);
	assert_int_equal(cmos_read(f, RTC_CENTURY), 0x20);
	/* 24-hour BCD, as a BIOS leaves it; valid, not updating. */
	assert_int_equal(cmos_read(f, RTC_REG_B), RTC_B_24H);
	assert_int_equal(cmos_read(f, RTC_REG_D), RTC_D_VRT);
	assert_int_equal(cmos_read(f, RTC_REG_A) & RTC_A_UIP, 0);
	/* The time moves with the host clock. */
	fake_time += 65;
	assert_int_equal(cmos_read(f, RTC_SECONDS), 0x01);
	assert_int_equal(cmos_read(f, RTC_MINUTES), 0x47);
	fixture_free(f);
}

static void test_real_clock(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);
	time_t now = time(NULL);
	struct tm tm;
	u8 year;

	(void)state;
	rtc_set_clock(f->rtc, NULL);
	gmtime_r(&now, &tm);
	year = cmos_read(f, RTC_YEAR);
	/* Unless the test runs across New Year's midnight UTC. */
	assert_int_equal((year >> 4) * 10 + (year & 0xf), tm.tm_year % 100);
	fixture_free(f);
}

/*
 * On the host's clock, UIP rises before each second's update and falls
 * with it: the seconds read while it is high are the old second, those
 * read after it falls the next one. Polled as kvm-unit-tests' s3 test
 * does; a second and a half covers one whole update.
 */
static void test_uip_each_second(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);
	u64 end = mono_ms() + 1500;
	u8 before = 0, after;
	bool seen = false;

	(void)state;
	rtc_set_clock(f->rtc, NULL);
	while (!seen && mono_ms() < end) {
		before = cmos_read(f, RTC_SECONDS);
		seen = cmos_read(f, RTC_REG_A) & RTC_A_UIP;
	}
	assert_true(seen);
	while ((cmos_read(f, RTC_REG_A) & RTC_A_UIP) && mono_ms() < end + 1000)
		;
	assert_int_equal(cmos_read(f, RTC_REG_A) & RTC_A_UIP, 0);
	after = cmos_read(f, RTC_SECONDS);
	assert_true(after != before);
	/* SET holds updates off: no update, no UIP. */
	cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_SET);
	end = mono_ms() + 1100;
	while (mono_ms() < end)
		assert_int_equal(cmos_read(f, RTC_REG_A) & RTC_A_UIP, 0);
	fixture_free(f);
}

static void test_binary_and_12_hour(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);

	(void)state;
	cmos_write(f, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
	assert_int_equal(cmos_read(f, RTC_SECONDS), 56);
	assert_int_equal(cmos_read(f, RTC_HOURS), 13);
	assert_int_equal(cmos_read(f, RTC_YEAR), 24);
	cmos_write(f, RTC_REG_B, RTC_B_DM_BINARY);
	assert_int_equal(cmos_read(f, RTC_HOURS), 0x80 | 1);	/* 1 PM */
	cmos_write(f, RTC_REG_B, 0);
	assert_int_equal(cmos_read(f, RTC_HOURS), 0x81);	/* BCD 1 PM */
	fake_time -= 13 * 3600;					/* 00:45 */
	assert_int_equal(cmos_read(f, RTC_HOURS), 0x12);	/* 12 AM */
	fixture_free(f);
}

static void test_set_time_with_set_bit(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);

	(void)state;
	/* How Linux writes the time: SET, fields, clear SET. */
	cmos_write(f, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(f, RTC_YEAR, 0x31);
	cmos_write(f, RTC_MONTH, 0x12);
	cmos_write(f, RTC_DAY_OF_MONTH, 0x31);
	cmos_write(f, RTC_HOURS, 0x23);
	cmos_write(f, RTC_MINUTES, 0x59);
	cmos_write(f, RTC_SECONDS, 0x50);
	/* Frozen while SET: the host clock moving does not show. */
	fake_time += 100;
	assert_int_equal(cmos_read(f, RTC_SECONDS), 0x50);
	cmos_write(f, RTC_REG_B, RTC_B_24H);
	/* Running again from 2031-12-31 23:59:50. */
	fake_time += 15;
	assert_int_equal(cmos_read(f, RTC_SECONDS), 0x05);
	assert_int_equal(cmos_read(f, RTC_MINUTES), 0x00);
	assert_int_equal(cmos_read(f, RTC_HOURS), 0x00);
	assert_int_equal(cmos_read(f, RTC_DAY_OF_MONTH), 0x01);
	assert_int_equal(cmos_read(f, RTC_MONTH), 0x01);
	assert_int_equal(cmos_read(f, RTC_YEAR), 0x32);
	assert_int_equal(cmos_read(f, RTC_CENTURY), 0x20);
	fixture_free(f);
}

static void test_set_time_while_running(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);

	(void)state;
	cmos_write(f, RTC_MINUTES, 0x10);
	assert_int_equal(cmos_read(f, RTC_MINUTES), 0x10);
	assert_int_equal(cmos_read(f, RTC_HOURS), 0x13);
	fake_time += 60;
	assert_int_equal(cmos_read(f, RTC_MINUTES), 0x11);
	/* The century register moves the year by 100. */
	cmos_write(f, RTC_CENTURY, 0x21);
	assert_int_equal(cmos_read(f, RTC_YEAR), 0x24);
	assert_int_equal(cmos_read(f, RTC_CENTURY), 0x21);
	fixture_free(f);
}

static void test_register_c_update_flag(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);

	(void)state;
	assert_int_equal(cmos_read(f, RTC_REG_C), 0);
	fake_time++;
	assert_int_equal(cmos_read(f, RTC_REG_C), RTC_C_UF);
	/* Read clears. */
	assert_int_equal(cmos_read(f, RTC_REG_C), 0);
	cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	fake_time++;
	assert_int_equal(cmos_read(f, RTC_REG_C), RTC_C_UF | RTC_C_IRQF);
	/* C and D are read-only. */
	cmos_write(f, RTC_REG_D, 0);
	assert_int_equal(cmos_read(f, RTC_REG_D), RTC_D_VRT);
	cmos_write(f, RTC_REG_A, 0xff);
	assert_int_equal(cmos_read(f, RTC_REG_A), 0x7f);
	fixture_free(f);
}

/* Register C, read every 50 ms for up to 3 s, until it shows flag. */
static u8 wait_flag(struct fixture *f, u8 flag)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	u8 seen = 0;
	int i;

	for (i = 0; i < 60 && !(seen & flag); i++) {
		nanosleep(&pause, NULL);
		seen = cmos_read(f, RTC_REG_C);
	}
	return seen;
}

/*
 * The timer thread's flags: an alarm whose bytes say "any" rings at the
 * next second, one that names another second does not, and the periodic
 * interrupt at 2 Hz (rate 15) sets PF until it is disabled.
 */
static void test_alarm_and_periodic_flags(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);
	struct timespec pause = { 1, 300 * 1000 * 1000 };
	u8 c;

	(void)state;
	cmos_write(f, RTC_SECONDS_ALARM, RTC_ALARM_ANY);
	cmos_write(f, RTC_MINUTES_ALARM, 0xff);
	cmos_write(f, RTC_HOURS_ALARM, RTC_ALARM_ANY);
	cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	fake_time++;
	c = wait_flag(f, RTC_C_AF);
	assert_int_equal(c & (RTC_C_AF | RTC_C_IRQF), RTC_C_AF | RTC_C_IRQF);

	/* 13:45:56 + 2: an alarm at second 30 stays quiet. */
	cmos_write(f, RTC_SECONDS_ALARM, 0x30);
	cmos_read(f, RTC_REG_C);
	fake_time++;
	nanosleep(&pause, NULL);
	c = cmos_read(f, RTC_REG_C);
	assert_int_equal(c & RTC_C_AF, 0);
	assert_int_equal(c & RTC_C_IRQF, 0);	/* UF is set, but not enabled */

	cmos_write(f, RTC_REG_B, RTC_B_24H);
	cmos_write(f, RTC_REG_A, 0x20 | 15);
	cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	c = wait_flag(f, RTC_C_PF);
	assert_int_equal(c & (RTC_C_PF | RTC_C_IRQF), RTC_C_PF | RTC_C_IRQF);
	cmos_write(f, RTC_REG_B, RTC_B_24H);
	cmos_read(f, RTC_REG_C);
	nanosleep(&pause, NULL);
	assert_int_equal(cmos_read(f, RTC_REG_C) & RTC_C_PF, 0);
	fixture_free(f);
}

/*
 * Linux's rtc-cmos sets an alarm for the next second with AIE off, reads
 * C, enables AIE and reads C again to catch an alarm whose update came in
 * between. The MC146818 sets AF at that update whatever AIE says, so the
 * second read must show it (a slow guest, nested KVM, hits that window).
 */
static void test_alarm_due_before_enable(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);

	(void)state;
	cmos_write(f, RTC_REG_B, RTC_B_24H);
	cmos_write(f, RTC_SECONDS_ALARM, 0x57);	/* T0 + 1 */
	cmos_write(f, RTC_MINUTES_ALARM, 0x45);
	cmos_write(f, RTC_HOURS_ALARM, 0x13);
	assert_int_equal(cmos_read(f, RTC_REG_C), 0);
	fake_time++;
	cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	assert_int_equal(cmos_read(f, RTC_REG_C),
			 RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	/* Read clears; the next update does not match. */
	fake_time++;
	assert_int_equal(cmos_read(f, RTC_REG_C), RTC_C_UF);
	/* Several updates unread: AF if any of them matched. */
	cmos_write(f, RTC_SECONDS_ALARM, 0x59);	/* 13:45:59, T0 + 3 */
	fake_time += 10;
	assert_int_equal(cmos_read(f, RTC_REG_C),
			 RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	/* The clock set back: no update, no flag. */
	fake_time -= 60;
	assert_int_equal(cmos_read(f, RTC_REG_C), 0);
	cmos_write(f, RTC_REG_B, RTC_B_24H);
	fixture_free(f);
}

static void test_memory_bytes_128m(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 4);
	u16 sum = 0;
	unsigned int i;

	(void)state;
	assert_int_equal(cmos_read(f, 0x15) | cmos_read(f, 0x16) << 8, 640);
	assert_int_equal(cmos_read(f, 0x17) | cmos_read(f, 0x18) << 8, 0xffff);
	assert_int_equal(cmos_read(f, 0x30) | cmos_read(f, 0x31) << 8, 0xffff);
	assert_int_equal(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8,
			 (128 - 16) * MiB / (64 * KiB));
	assert_int_equal(cmos_read(f, 0x5b) | cmos_read(f, 0x5c) << 8 |
			 cmos_read(f, 0x5d) << 16, 0);
	assert_int_equal(cmos_read(f, 0x5f), 3);
	for (i = 0x10; i <= 0x2d; i++)
		sum += cmos_read(f, i);
	assert_int_equal(cmos_read(f, 0x2e) << 8 | cmos_read(f, 0x2f), sum);
	fixture_free(f);
}

static void test_memory_bytes_small_and_high(void **state)
{
	struct fixture *f = fixture_new(8 * MiB, 1);

	(void)state;
	assert_int_equal(cmos_read(f, 0x17) | cmos_read(f, 0x18) << 8, 7 * 1024);
	assert_int_equal(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8, 0);
	fixture_free(f);

	f = fixture_new(4 * GiB, 64);
	/* Low RAM stops at the hole; the rest is above 4 GiB. */
	assert_int_equal(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8,
			 (MEM_LOW_RAM_MAX - 16 * MiB) / (64 * KiB));
	assert_int_equal(cmos_read(f, 0x5b) | cmos_read(f, 0x5c) << 8 |
			 cmos_read(f, 0x5d) << 16,
			 (4 * GiB - MEM_LOW_RAM_MAX) / (64 * KiB));
	assert_int_equal(cmos_read(f, 0x5f), 63);
	fixture_free(f);
}

static void test_index_port_and_ram(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);
	u8 value = 0, index;

	(void)state;
	/* Bit 7 of the index masks NMI; it does not pick a register. */
	assert_int_equal(cmos_read(f, 0x80 | RTC_REG_D), RTC_D_VRT);
	/* The index port reads back all-ones. */
	assert_true(bus_read(&f->vm->pio, 0x70, &value, 1));
	assert_int_equal(value, 0xff);
	/* Plain CMOS RAM keeps what is written. */
	cmos_write(f, 0x40, 0xa5);
	cmos_write(f, 0x7f, 0x5a);
	assert_int_equal(cmos_read(f, 0x40), 0xa5);
	assert_int_equal(cmos_read(f, 0x7f), 0x5a);
	/* The index wraps at 128 bytes. */
	index = 0x40 | 0x80;
	assert_true(bus_write(&f->vm->pio, 0x70, &index, 1));
	assert_true(bus_read(&f->vm->pio, 0x71, &value, 1));
	assert_int_equal(value, 0xa5);
	fixture_free(f);
}

static void test_garbage_time_writes(void **state)
{
	struct fixture *f = fixture_new(128 * MiB, 1);
	unsigned int reg, v, i;
	u8 regs[] = { RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_MONTH,
		      RTC_MONTH, RTC_YEAR, RTC_CENTURY };
	u8 b;

	(void)state;
	/* Every byte into every time register, in every mode: never a crash,
	 * and reads stay in their encoding's range. */
	for (b = 0; b < 8; b++) {
		cmos_write(f, RTC_REG_B, (b & 1 ? RTC_B_DM_BINARY : 0) |
					 (b & 2 ? RTC_B_24H : 0) |
					 (b & 4 ? RTC_B_SET : 0));
		for (reg = 0; reg < ARRAY_SIZE(regs); reg++)
			for (v = 0; v < 256; v++)
				cmos_write(f, regs[reg], v);
	}
	cmos_write(f, RTC_REG_B, RTC_B_24H);
	for (i = 0; i < ARRAY_SIZE(regs); i++) {
		u8 r = cmos_read(f, regs[i]);

		assert_true((r & 0xf) <= 9 && (r >> 4) <= 9);
	}
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_in_bcd),
		cmocka_unit_test(test_real_clock),
		cmocka_unit_test(test_uip_each_second),
		cmocka_unit_test(test_binary_and_12_hour),
		cmocka_unit_test(test_set_time_with_set_bit),
		cmocka_unit_test(test_set_time_while_running),
		cmocka_unit_test(test_register_c_update_flag),
		cmocka_unit_test(test_alarm_and_periodic_flags),
		cmocka_unit_test(test_alarm_due_before_enable),
		cmocka_unit_test(test_memory_bytes_128m),
		cmocka_unit_test(test_memory_bytes_small_and_high),
		cmocka_unit_test(test_index_port_and_ram),
		cmocka_unit_test(test_garbage_time_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
