// SPDX-License-Identifier: MIT
/*
 * Just enough of the PS/2 controller for a guest to find it, pass its
 * self-test, and reset the machine through it (0xfe to port 0x64, or the
 * output port's reset bit), which uvmm treats as a normal exit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "vmm/services.h"

#define STATUS_OBF 0x01		/* output buffer full */
#define STATUS_SYS 0x04		/* system flag: self-test passed */
#define STATUS_CMD 0x08		/* last write was a command */

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUTPUT 0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_PULSE_RESET 0xfe

struct i8042 {
	const struct dev_services *svc;
	/* lock protects the fields below. */
	pthread_mutex_t lock;
	u8 status;
	u8 ctr;			/* controller configuration byte */
	u8 output;		/* the byte a read of port 0x60 returns */
	u8 pending_cmd;		/* command waiting for its data byte */
};

static void i8042_put_output(struct i8042 *dev, u8 byte)
{
	dev->output = byte;
	dev->status |= STATUS_OBF;
}

static void i8042_reset_machine(struct i8042 *dev)
{
	svc_request_reset(dev->svc, "through the i8042");
}

static void i8042_command(struct i8042 *dev, u8 cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_put_output(dev, dev->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT:
		dev->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		i8042_put_output(dev, 0x55);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		i8042_put_output(dev, 0x00);
		break;
	case CMD_READ_OUTPUT:
		i8042_put_output(dev, 0x01);	/* reset line not asserted */
		break;
	case CMD_KBD_DISABLE:
		dev->ctr |= 0x10;
		break;
	case CMD_KBD_ENABLE:
		dev->ctr &= ~0x10;
		break;
	case CMD_AUX_DISABLE:
		dev->ctr |= 0x20;
		break;
	case CMD_AUX_ENABLE:
		dev->ctr &= ~0x20;
		break;
	case CMD_PULSE_RESET:
		i8042_reset_machine(dev);
		break;
	default:
		/* 0xf0-0xff pulse output lines; bit 0 is the reset line. */
		if ((cmd & 0xf0) == 0xf0 && !(cmd & 0x01))
			i8042_reset_machine(dev);
		break;
	}
}

static void i8042_data_write(struct i8042 *dev, u8 byte)
{
	switch (dev->pending_cmd) {
	case CMD_WRITE_CTR:
		dev->ctr = byte;
		break;
	case CMD_WRITE_OUTPUT:
		if (!(byte & 0x01))
			i8042_reset_machine(dev);
		break;
	default:
		/* A byte for a keyboard we do not have: answer "resend". */
		i8042_put_output(dev, 0xfe);
		break;
	}
	dev->pending_cmd = 0;
}

static void i8042_read(void *opaque, u64 off, void *data, u32 len)
{
	struct i8042 *dev = opaque;
	u8 value;

	memset(data, 0xff, len);
	pthread_mutex_lock(&dev->lock);
	if (off == 0) {
		value = dev->output;
		dev->status &= ~STATUS_OBF;
	} else {
		value = dev->status;
	}
	pthread_mutex_unlock(&dev->lock);
	*(u8 *)data = value;
}

static void i8042_data_port_write(void *opaque, u64 off, const void *data,
				  u32 len)
{
	struct i8042 *dev = opaque;

	(void)off;
	(void)len;
	pthread_mutex_lock(&dev->lock);
	dev->status &= ~STATUS_CMD;
	i8042_data_write(dev, *(const u8 *)data);
	pthread_mutex_unlock(&dev->lock);
}

static void i8042_command_port_write(void *opaque, u64 off, const void *data,
				     u32 len)
{
	struct i8042 *dev = opaque;

	(void)off;
	(void)len;
	pthread_mutex_lock(&dev->lock);
	dev->status |= STATUS_CMD;
	i8042_command(dev, *(const u8 *)data);
	pthread_mutex_unlock(&dev->lock);
}

static void i8042_status_read(void *opaque, u64 off, void *data, u32 len)
{
	i8042_read(opaque, off + 1, data, len);
}

static const struct bus_ops i8042_data_ops = {
	.read = i8042_read,
	.write = i8042_data_port_write,
};

static const struct bus_ops i8042_command_ops = {
	.read = i8042_status_read,
	.write = i8042_command_port_write,
};

int i8042_create(const struct dev_services *svc, struct i8042 **out)
{
	struct i8042 *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->svc = svc;
	dev->status = STATUS_SYS;
	dev->ctr = 0x30;	/* both ports disabled, no interrupts */
	ret = -pthread_mutex_init(&dev->lock, NULL);
	if (ret)
		goto err_free;
	ret = bus_register(svc->pio, I8042_DATA_PORT, 1, &i8042_data_ops, dev,
			   "i8042-data");
	if (ret)
		goto err_mutex;
	ret = bus_register(svc->pio, I8042_COMMAND_PORT, 1, &i8042_command_ops,
			   dev, "i8042-command");
	if (ret)
		goto err_data;
	*out = dev;
	return 0;

err_data:
	bus_unregister(svc->pio, I8042_DATA_PORT, dev);
err_mutex:
	pthread_mutex_destroy(&dev->lock);
err_free:
	free(dev);
	return ret;
}

void i8042_destroy(struct i8042 *dev)
{
	if (!dev)
		return;
	bus_unregister(dev->svc->pio, I8042_COMMAND_PORT, dev);
	bus_unregister(dev->svc->pio, I8042_DATA_PORT, dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}
