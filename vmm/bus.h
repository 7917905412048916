/* SPDX-License-Identifier: MIT */
#ifndef UVMM_BUS_H
#define UVMM_BUS_H

#include <pthread.h>

#include "common/types.h"

/*
 * A device's access handlers. The bus passes the offset inside the
 * registered range, never the absolute address; len is 1, 2, 4 or 8.
 */
struct bus_ops {
	void (*read)(void *dev, u64 off, void *data, u32 len);
	void (*write)(void *dev, u64 off, const void *data, u32 len);
};

struct bus_range {
	u64 base;
	u64 len;
	const struct bus_ops *ops;
	void *dev;
	const char *name;
};

#define BUS_LOGGED_SLOTS 64

/*
 * One address space (port I/O or MMIO). lock protects ranges, nr_ranges
 * and cap_ranges; it is never held while a device handler runs, so a
 * handler may move its own ranges (a BAR being reprogrammed).
 */
struct bus {
	const char *name;
	pthread_mutex_t lock;
	struct bus_range *ranges;	/* sorted by base, never overlapping */
	size_t nr_ranges;
	size_t cap_ranges;
	/* Unclaimed addresses already logged, so each is logged once. */
	u64 logged[BUS_LOGGED_SLOTS];
	unsigned int nr_logged;
};

int bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);
int bus_register(struct bus *bus, u64 base, u64 len, const struct bus_ops *ops,
		 void *dev, const char *name);
int bus_unregister(struct bus *bus, u64 base, void *dev);
int bus_lookup(struct bus *bus, u64 addr, u32 len, struct bus_range *out);

/*
 * Dispatch one access. Returns true when a device claimed it; an unclaimed
 * read fills data with all-ones and an unclaimed write is dropped.
 */
bool bus_read(struct bus *bus, u64 addr, void *data, u32 len);
bool bus_write(struct bus *bus, u64 addr, const void *data, u32 len);

#endif
