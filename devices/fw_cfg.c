// SPDX-License-Identifier: MIT
/*
 * fw_cfg at ports 0x510 (selector) and 0x511 (data), as QEMU's PC has it:
 * the keys a firmware test reads to learn the machine (signature, RAM
 * size, CPU counts) and an empty file directory. Values are little-endian
 * except the file directory's, which the interface defines big-endian.
 * A key with no item reads zeros; the data port ignores writes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/fw_cfg.h"
#include "vmm/services.h"

#define FW_CFG_MAX_ITEMS 16
#define FW_CFG_ITEM_MAX 16

struct fw_cfg_item {
	u16 key;
	u8 len;
	u8 data[FW_CFG_ITEM_MAX];
};

struct fw_cfg {
	const struct dev_services *svc;
	pthread_mutex_t lock;	/* vCPUs share the selector and offset */
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	unsigned int nr_items;
	const struct fw_cfg_item *cur;	/* selected item, NULL if none */
	u32 offset;
};

static void add_item(struct fw_cfg *dev, u16 key, const void *data, u8 len)
{
	struct fw_cfg_item *it = &dev->items[dev->nr_items++];

	it->key = key;
	it->len = len;
	memcpy(it->data, data, len);
}

/* Little-endian integer of len bytes (x86: host order). */
static void add_le(struct fw_cfg *dev, u16 key, u64 value, u8 len)
{
	add_item(dev, key, &value, len);
}

static void select_key(struct fw_cfg *dev, u16 key)
{
	unsigned int i;

	dev->cur = NULL;
	dev->offset = 0;
	for (i = 0; i < dev->nr_items; i++) {
		if (dev->items[i].key == key) {
			dev->cur = &dev->items[i];
			break;
		}
	}
}

/* One byte of the selected item; past its end (or none selected): 0. */
static u8 next_byte(struct fw_cfg *dev)
{
	if (!dev->cur || dev->offset >= dev->cur->len)
		return 0;
	return dev->cur->data[dev->offset++];
}

/*
 * As QEMU's combined port: any read returns one data byte, zero-extended
 * to the access size; a 16-bit write at the selector selects, anything
 * else written is ignored (the data port became read-only in QEMU 2.4).
 */
static void fw_cfg_read(void *opaque, u64 off, void *data, u32 len)
{
	struct fw_cfg *dev = opaque;

	(void)off;
	memset(data, 0, len);
	pthread_mutex_lock(&dev->lock);
	*(u8 *)data = next_byte(dev);
	pthread_mutex_unlock(&dev->lock);
}

static void fw_cfg_write(void *opaque, u64 off, const void *data, u32 len)
{
	struct fw_cfg *dev = opaque;
	u16 key;

	if (off != 0 || len < 2)
		return;
	memcpy(&key, data, sizeof(key));
	pthread_mutex_lock(&dev->lock);
	select_key(dev, key);
	pthread_mutex_unlock(&dev->lock);
}

static const struct bus_ops fw_cfg_ops = {
	.read = fw_cfg_read,
	.write = fw_cfg_write,
};

int fw_cfg_create(const struct dev_services *svc, struct fw_cfg **out)
{
	const struct guest_memory *mem = svc->mem;
	u64 ram_end = 0;
	struct fw_cfg *dev;
	unsigned int i;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->svc = svc;
	pthread_mutex_init(&dev->lock, NULL);
	for (i = 0; i < mem->nr_regions; i++)
		ram_end = MAX(ram_end, mem->regions[i].gpa + mem->regions[i].size);

	add_item(dev, FW_CFG_SIGNATURE, "QEMU", 4);
	add_le(dev, FW_CFG_ID, FW_CFG_ID_TRADITIONAL, 4);
	add_item(dev, FW_CFG_UUID, (const u8[16]){ 0 }, 16);
	add_le(dev, FW_CFG_RAM_SIZE, mem->size, 8);
	add_le(dev, FW_CFG_NOGRAPHIC, 1, 2);
	add_le(dev, FW_CFG_NB_CPUS, svc->nr_cpus, 2);
	/* No CPU hotplug: the most CPUs there will ever be. */
	add_le(dev, FW_CFG_MAX_CPUS, svc->nr_cpus, 2);
	/* The highest RAM address + 1: kvm-unit-tests caps its heap there. */
	add_le(dev, FW_CFG_MAX_RAM, ram_end, 8);
	/* The file directory: a big-endian count of 0 and no entries. */
	add_le(dev, FW_CFG_FILE_DIR, 0, 4);

	ret = bus_register(svc->pio, FW_CFG_PORT_SEL, FW_CFG_PORT_LEN,
			   &fw_cfg_ops, dev, "fw_cfg");
	if (ret) {
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

void fw_cfg_destroy(struct fw_cfg *dev)
{
	if (!dev)
		return;
	bus_unregister(dev->svc->pio, FW_CFG_PORT_SEL, dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}
