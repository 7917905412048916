// SPDX-License-Identifier: MIT
#define LOG_PREFIX "bus"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/bus.h"

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_mutex_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	pthread_mutex_destroy(&bus->lock);
	memset(bus, 0, sizeof(*bus));
}

/* Index of the first range whose end lies above addr. Caller holds lock. */
static size_t bus_first_above(const struct bus *bus, u64 addr)
{
	size_t lo = 0, hi = bus->nr_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (r->base + r->len - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, u64 base, u64 len, const struct bus_ops *ops,
		 void *dev, const char *name)
{
	struct bus_range *r;
	size_t idx;
	int ret = 0;

	if (!len || !ops || base + len - 1 < base)
		return -EINVAL;

	pthread_mutex_lock(&bus->lock);
	idx = bus_first_above(bus, base);
	if (idx < bus->nr_ranges && bus->ranges[idx].base <= base + len - 1) {
		r = &bus->ranges[idx];
		log_debug("%s: %s [%#llx, +%#llx) overlaps %s [%#llx, +%#llx)",
			  bus->name, name ? name : "?",
			  (unsigned long long)base, (unsigned long long)len,
			  r->name ? r->name : "?",
			  (unsigned long long)r->base,
			  (unsigned long long)r->len);
		ret = -EBUSY;
		goto out;
	}
	if (bus->nr_ranges == bus->cap_ranges) {
		size_t cap = bus->cap_ranges ? bus->cap_ranges * 2 : 16;

		r = realloc(bus->ranges, cap * sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = r;
		bus->cap_ranges = cap;
	}
	memmove(&bus->ranges[idx + 1], &bus->ranges[idx],
		(bus->nr_ranges - idx) * sizeof(*r));
	bus->ranges[idx] = (struct bus_range) {
		.base = base, .len = len, .ops = ops, .dev = dev, .name = name,
	};
	bus->nr_ranges++;
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, u64 base, void *dev)
{
	size_t idx;
	int ret = -ENOENT;

	pthread_mutex_lock(&bus->lock);
	idx = bus_first_above(bus, base);
	if (idx < bus->nr_ranges && bus->ranges[idx].base == base &&
	    bus->ranges[idx].dev == dev) {
		memmove(&bus->ranges[idx], &bus->ranges[idx + 1],
			(bus->nr_ranges - idx - 1) * sizeof(bus->ranges[0]));
		bus->nr_ranges--;
		ret = 0;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

/* A hit must hold the whole access: [addr, addr + len) inside one range. */
int bus_lookup(struct bus *bus, u64 addr, u32 len, struct bus_range *out)
{
	const struct bus_range *r;
	size_t idx;
	int ret = -ENOENT;

	pthread_mutex_lock(&bus->lock);
	idx = bus_first_above(bus, addr);
	if (idx < bus->nr_ranges) {
		r = &bus->ranges[idx];
		if (r->base <= addr && addr - r->base + len <= r->len) {
			*out = *r;
			ret = 0;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

static void bus_log_unclaimed(struct bus *bus, u64 addr, u32 len, bool write)
{
	unsigned int i;
	bool first = true;

	if (log_get_level() < LOG_DEBUG)
		return;
	pthread_mutex_lock(&bus->lock);
	for (i = 0; i < bus->nr_logged; i++) {
		if (bus->logged[i] == addr) {
			first = false;
			break;
		}
	}
	if (first && bus->nr_logged < BUS_LOGGED_SLOTS)
		bus->logged[bus->nr_logged++] = addr;
	else if (first)
		first = false;	/* table full: stay quiet */
	pthread_mutex_unlock(&bus->lock);
	if (first)
		log_debug("%s: unclaimed %u-byte %s at %#llx", bus->name, len,
			  write ? "write" : "read", (unsigned long long)addr);
}

bool bus_read(struct bus *bus, u64 addr, void *data, u32 len)
{
	struct bus_range r;

	/*
	 * The handler runs without the lock: devices live until every vCPU
	 * is joined, so the copied range stays valid even if it moves.
	 */
	if (bus_lookup(bus, addr, len, &r) == 0 && r.ops->read) {
		r.ops->read(r.dev, addr - r.base, data, len);
		return true;
	}
	memset(data, 0xff, len);
	bus_log_unclaimed(bus, addr, len, false);
	return false;
}

bool bus_write(struct bus *bus, u64 addr, const void *data, u32 len)
{
	struct bus_range r;

	if (bus_lookup(bus, addr, len, &r) == 0 && r.ops->write) {
		r.ops->write(r.dev, addr - r.base, data, len);
		return true;
	}
	bus_log_unclaimed(bus, addr, len, true);
	return false;
}
