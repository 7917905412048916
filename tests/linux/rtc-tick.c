// SPDX-License-Identifier: MIT
/*
 * rtc-tick [DEVICE]: turns on the RTC's update-ended interrupt through
 * /dev/rtc0 (RTC_UIE_ON) and waits for two of them, 5 s at most each;
 * prints what the driver counted and exits 0 only if both came. Built
 * static for check-linux's initramfs: busybox has no tool that waits for
 * an RTC interrupt.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/rtc0";
	struct pollfd pfd;
	unsigned long data;
	int fd, i, ret = 1;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "rtc-tick: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (ioctl(fd, RTC_UIE_ON, 0) < 0) {
		fprintf(stderr, "rtc-tick: RTC_UIE_ON: %s\n", strerror(errno));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5000) != 1) {
			fprintf(stderr, "rtc-tick: no update interrupt in 5 s\n");
			goto off;
		}
		if (read(fd, &data, sizeof(data)) != sizeof(data)) {
			fprintf(stderr, "rtc-tick: read: %s\n", strerror(errno));
			goto off;
		}
		/* Low byte: the RTC_UF/AF/PF flags; the rest: interrupts counted. */
		printf("update interrupt %d: flags %#lx, count %lu\n", i + 1,
		       data & 0xff, data >> 8);
	}
	ret = 0;
off:
	ioctl(fd, RTC_UIE_OFF, 0);
out:
	close(fd);
	return ret;
}
