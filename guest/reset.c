// SPDX-License-Identifier: MIT
/*
 * reset: checks the i8042 answers like a PS/2 controller (self-test 0x55),
 * then resets the machine with 0xfe to port 0x64. uvmm treats a reset as a
 * normal end: status 0. Reaching the line after the reset is a failure.
 */
#include "guest.h"

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define I8042_OBF 0x01

static int read_reply(u8 *out)
{
	unsigned int tries;

	for (tries = 0; tries < 1000; tries++) {
		if (inb(I8042_STATUS) & I8042_OBF) {
			*out = inb(I8042_DATA);
			return 0;
		}
	}
	return -1;
}

int main(void)
{
	u8 reply = 0;

	outb(I8042_STATUS, 0xaa);	/* controller self-test */
	report(read_reply(&reply) == 0 && reply == 0x55,
	       "i8042 self-test answers 0x55 (got %#x)", reply);
	outb(I8042_STATUS, 0x20);	/* read the configuration byte */
	report(read_reply(&reply) == 0, "i8042 returns its configuration byte");
	report_summary();
	printf("reset: pulsing the reset line through the i8042\n");
	outb(I8042_STATUS, 0xfe);
	report(false, "still running after the reset");
	return report_summary();
}
