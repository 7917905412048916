// SPDX-License-Identifier: MIT
/*
 * pc-testdev: the ports and memory QEMU's PC test device offers, with the
 * same behaviour, so kvm-unit-tests' x86 tests that poke it run unchanged
 * (devices/pc_testdev.h has the map).
 */
#define LOG_PREFIX "pc-testdev"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "devices/pc_testdev.h"
#include "vmm/services.h"

#define SHUTDOWN_WORD "Shutdown"

struct pc_testdev {
	const struct dev_services *svc;
	pthread_mutex_t lock;	/* scratch, iomem and the shutdown match */
	u32 scratch;
	unsigned int shutdown_matched;	/* bytes of SHUTDOWN_WORD seen */
	u8 iomem[PC_TESTDEV_IOMEM_LEN];
};

/* Byte lanes of the scratch register: an access at off touches its own. */
static void scratch_write(struct pc_testdev *dev, u64 off, const u8 *data,
			  u32 len)
{
	u32 i;

	for (i = 0; i < len && off + i < 4; i++) {
		dev->scratch &= ~(0xffu << ((off + i) * 8));
		dev->scratch |= (u32)data[i] << ((off + i) * 8);
	}
}

static void scratch_read(struct pc_testdev *dev, u64 off, u8 *data, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		data[i] = off + i < 4 ? dev->scratch >> ((off + i) * 8) : 0;
}

static void port_read(void *opaque, u64 off, void *data, u32 len)
{
	struct pc_testdev *dev = opaque;

	pthread_mutex_lock(&dev->lock);
	scratch_read(dev, off, data, len);
	pthread_mutex_unlock(&dev->lock);
}

static void port_write(void *opaque, u64 off, const void *data, u32 len)
{
	struct pc_testdev *dev = opaque;

	pthread_mutex_lock(&dev->lock);
	scratch_write(dev, off, data, len);
	pthread_mutex_unlock(&dev->lock);
}

static const struct bus_ops port_ops = {
	.read = port_read,
	.write = port_write,
};

/*
 * QEMU drops the host mapping of the page (mprotect to nothing and back):
 * the contents stay, but KVM loses its mapping and faults the page in on
 * the next access. eventinj uses it to make event delivery itself fault
 * on the IDT or the stack.
 */
static void flush_write(void *opaque, u64 off, const void *data, u32 len)
{
	struct pc_testdev *dev = opaque;
	u32 gpa = 0;
	u8 *hva;
	long page = sysconf(_SC_PAGESIZE);

	(void)off;
	memcpy(&gpa, data, MIN(len, sizeof(gpa)));
	hva = mem_gpa_to_hva(dev->svc->mem, gpa & ~(u64)(page - 1), page);
	if (!hva)
		return;
	if (mprotect(hva, page, PROT_NONE) ||
	    mprotect(hva, page, PROT_READ | PROT_WRITE))
		log_warn("flushing page %#x: %s", gpa, strerror(errno));
}

static void flush_read(void *opaque, u64 off, void *data, u32 len)
{
	(void)opaque;
	(void)off;
	memset(data, 0xff, len);
}

static const struct bus_ops flush_ops = {
	.read = flush_read,
	.write = flush_write,
};

/* Each byte written to 0x2000 + N sets or clears line N, as QEMU splits it. */
static void irq_write(void *opaque, u64 off, const void *data, u32 len)
{
	struct pc_testdev *dev = opaque;
	const u8 *b = data;
	u32 i;

	for (i = 0; i < len && off + i < PC_TESTDEV_NR_IRQS; i++)
		svc_set_irq_line(dev->svc, off + i, b[i] != 0);
}

static void irq_read(void *opaque, u64 off, void *data, u32 len)
{
	(void)opaque;
	(void)off;
	memset(data, 0, len);
}

static const struct bus_ops irq_ops = {
	.read = irq_read,
	.write = irq_write,
};

static void iomem_read(void *opaque, u64 off, void *data, u32 len)
{
	struct pc_testdev *dev = opaque;

	/* The bus hands only accesses inside the range. */
	pthread_mutex_lock(&dev->lock);
	memcpy(data, dev->iomem + off, len);
	pthread_mutex_unlock(&dev->lock);
}

static void iomem_write(void *opaque, u64 off, const void *data, u32 len)
{
	struct pc_testdev *dev = opaque;

	pthread_mutex_lock(&dev->lock);
	memcpy(dev->iomem + off, data, len);
	pthread_mutex_unlock(&dev->lock);
}

static const struct bus_ops iomem_ops = {
	.read = iomem_read,
	.write = iomem_write,
};

/* Bochs' shutdown port: the bytes of "Shutdown" in a row stop the VM. */
static void shutdown_write(void *opaque, u64 off, const void *data, u32 len)
{
	struct pc_testdev *dev = opaque;
	const u8 *b = data;
	bool done = false;
	u32 i;

	(void)off;
	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < len; i++) {
		if (b[i] == SHUTDOWN_WORD[dev->shutdown_matched])
			dev->shutdown_matched++;
		else
			dev->shutdown_matched = b[i] == SHUTDOWN_WORD[0];
		if (dev->shutdown_matched == strlen(SHUTDOWN_WORD)) {
			dev->shutdown_matched = 0;
			done = true;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	if (done)
		svc_request_stop(dev->svc, STATUS_OK, NULL);
}

static const struct bus_ops shutdown_ops = {
	.read = flush_read,
	.write = shutdown_write,
};

static const struct {
	bool mmio;
	u64 base;
	u64 len;
	const struct bus_ops *ops;
	const char *name;
} ranges[] = {
	{ false, PC_TESTDEV_PORT, 4, &port_ops, "pc-testdev" },
	{ false, PC_TESTDEV_FLUSH_PORT, 4, &flush_ops, "pc-testdev-flush" },
	{ false, PC_TESTDEV_BYTE_PORT, 4, &port_ops, "pc-testdev-byte" },
	{ false, PC_TESTDEV_IRQ_PORT, PC_TESTDEV_NR_IRQS, &irq_ops,
	  "pc-testdev-irq" },
	{ false, PC_TESTDEV_SHUTDOWN_PORT, 1, &shutdown_ops, "shutdown" },
	{ true, PC_TESTDEV_IOMEM, PC_TESTDEV_IOMEM_LEN, &iomem_ops,
	  "pc-testdev-iomem" },
};

static void unregister(struct pc_testdev *dev, unsigned int n)
{
	while (n--)
		bus_unregister(ranges[n].mmio ? dev->svc->mmio : dev->svc->pio,
			       ranges[n].base, dev);
}

int pc_testdev_create(const struct dev_services *svc, struct pc_testdev **out)
{
	struct pc_testdev *dev = calloc(1, sizeof(*dev));
	unsigned int i;
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->svc = svc;
	pthread_mutex_init(&dev->lock, NULL);
	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		ret = bus_register(ranges[i].mmio ? svc->mmio : svc->pio,
				   ranges[i].base, ranges[i].len, ranges[i].ops,
				   dev, ranges[i].name);
		if (ret) {
			unregister(dev, i);
			pthread_mutex_destroy(&dev->lock);
			free(dev);
			return ret;
		}
	}
	*out = dev;
	return 0;
}

void pc_testdev_destroy(struct pc_testdev *dev)
{
	if (!dev)
		return;
	unregister(dev, ARRAY_SIZE(ranges));
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}
