// SPDX-License-Identifier: MIT
/*
 * bar-read FILE OFFSET: mmaps a PCI resource file from sysfs
 * (/sys/bus/pci/devices/D/resourceN) and prints the 32-bit register at
 * OFFSET as 0x%08x. Built static by make check-linux and put into the
 * initramfs, because busybox's devmem goes through /dev/mem, not through
 * the BAR the kernel exposes for the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long offset;
	volatile uint32_t *reg;
	char *end;
	void *map;
	long page;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: bar-read FILE OFFSET\n");
		return 2;
	}
	errno = 0;
	offset = strtoul(argv[2], &end, 0);
	if (errno || *end || offset & 3) {
		fprintf(stderr, "bar-read: bad offset %s\n", argv[2]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_SYNC);
	if (fd < 0) {
		fprintf(stderr, "bar-read: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	page = sysconf(_SC_PAGESIZE);
	map = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, offset & ~(page - 1));
	if (map == MAP_FAILED) {
		fprintf(stderr, "bar-read: mmap %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	reg = (volatile uint32_t *)((char *)map + (offset & (page - 1)));
	printf("0x%08x\n", *reg);
	return 0;
}
