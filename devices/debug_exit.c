// SPDX-License-Identifier: MIT
/*
 * Port 0xf4: a guest writes a value and the VMM exits with a status made
 * from it. The default rule is QEMU's isa-debug-exit, (V << 1) | 1, so
 * firmware tests written for QEMU (kvm-unit-tests among them) run
 * unchanged; the raw rule lets a guest say 0 for success.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/debug_exit.h"
#include "vmm/services.h"

struct debug_exit {
	const struct dev_services *svc;
	enum debug_exit_mode mode;
};

int debug_exit_status(enum debug_exit_mode mode, u32 value)
{
	if (mode == DEBUG_EXIT_RAW)
		return value & 0xff;
	return ((value << 1) | 1) & 0xff;
}

static void debug_exit_read(void *dev, u64 off, void *data, u32 len)
{
	(void)dev;
	(void)off;
	memset(data, 0xff, len);
}

static void debug_exit_write(void *opaque, u64 off, const void *data, u32 len)
{
	struct debug_exit *dev = opaque;
	u32 value = 0;

	(void)off;
	memcpy(&value, data, MIN(len, sizeof(value)));
	/* The status is the guest's own word: no message of ours. */
	svc_request_stop(dev->svc, debug_exit_status(dev->mode, value), NULL);
}

static const struct bus_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

int debug_exit_create(const struct dev_services *svc, enum debug_exit_mode mode,
		      struct debug_exit **out)
{
	struct debug_exit *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->svc = svc;
	dev->mode = mode;
	ret = bus_register(svc->pio, DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_SIZE,
			   &debug_exit_ops, dev, "debug-exit");
	if (ret) {
		free(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

void debug_exit_destroy(struct debug_exit *dev)
{
	if (!dev)
		return;
	bus_unregister(dev->svc->pio, DEBUG_EXIT_PORT, dev);
	free(dev);
}
