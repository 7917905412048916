// SPDX-License-Identifier: MIT
/*
 * 16550A UART: every register, the divisor latch, the FIFOs' flags,
 * loopback (Linux's 8250 probe relies on it), and the interrupt line for
 * received data, THR empty, line status and modem status.
 */
#define LOG_PREFIX "uart"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "devices/uart16550.h"
#include "vmm/services.h"

#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01	/* received data available */
#define IER_THRI 0x02	/* THR empty */
#define IER_RLSI 0x04	/* receiver line status */
#define IER_MSI 0x08	/* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define RX_FIFO_SIZE 64
#define CTRL_A 0x01

struct uart {
	const struct dev_services *svc;
	u16 base;
	unsigned int irq;
	int out_fd;
	int in_fd;

	/* lock protects every register and FIFO field below. */
	pthread_mutex_t lock;
	u8 ier, lcr, mcr, lsr, msr, scr, fcr;
	u8 dll, dlm;
	bool thri_pending;	/* THR-empty interrupt not yet acknowledged */
	bool irq_level;
	u8 rx_fifo[RX_FIFO_SIZE];
	unsigned int rx_head, rx_count;

	/* Console input thread (only when in_fd is a terminal). */
	pthread_t input_thread;
	bool input_started;
	int wake_fd;
	bool saw_ctrl_a;
	bool termios_saved;
	struct termios saved_termios;
};

static void uart_rx_push(struct uart *u, u8 byte)
{
	if (u->rx_count == RX_FIFO_SIZE) {
		u->lsr |= LSR_OE;
		return;
	}
	u->rx_fifo[(u->rx_head + u->rx_count) % RX_FIFO_SIZE] = byte;
	u->rx_count++;
	u->lsr |= LSR_DR;
}

static u8 uart_rx_pop(struct uart *u)
{
	u8 byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_FIFO_SIZE;
	if (--u->rx_count == 0)
		u->lsr &= ~LSR_DR;
	return byte;
}

/* The highest-priority pending interrupt's IIR code, or IIR_NO_INT. */
static u8 uart_pending(const struct uart *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr & (LSR_OE | LSR_BI)))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && (u->lsr & LSR_DR))
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thri_pending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & 0x0f))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Caller holds lock. On a PC the line reaches the PIC only with OUT2 set. */
static void uart_update_irq(struct uart *u)
{
	bool level = uart_pending(u) != IIR_NO_INT && (u->mcr & MCR_OUT2);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	svc_set_irq_line(u->svc, u->irq, level);
}

static void uart_transmit(struct uart *u, u8 byte)
{
	if (u->mcr & MCR_LOOP) {
		uart_rx_push(u, byte);
		return;
	}
	if (u->out_fd < 0)
		return;
	while (write(u->out_fd, &byte, 1) < 0 && errno == EINTR)
		;
}

/* In loopback the modem inputs are wired to the modem outputs. */
static void uart_update_msr(struct uart *u)
{
	u8 old = u->msr, status;

	if (u->mcr & MCR_LOOP) {
		status = 0;
		if (u->mcr & MCR_RTS)
			status |= MSR_CTS;
		if (u->mcr & MCR_DTR)
			status |= MSR_DSR;
		if (u->mcr & MCR_OUT1)
			status |= MSR_RI;
		if (u->mcr & MCR_OUT2)
			status |= MSR_DCD;
	} else {
		/* A console that is always there. */
		status = MSR_DCD | MSR_DSR | MSR_CTS;
	}
	u->msr = status | (old & 0x0f);
	if ((status ^ old) & MSR_CTS)
		u->msr |= MSR_DCTS;
	if ((status ^ old) & MSR_DSR)
		u->msr |= MSR_DDSR;
	if ((old & MSR_RI) && !(status & MSR_RI))
		u->msr |= MSR_TERI;
	if ((status ^ old) & MSR_DCD)
		u->msr |= MSR_DDCD;
}

static u8 uart_read_reg(struct uart *u, unsigned int reg)
{
	u8 value, code;

	switch (reg) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		return uart_rx_pop(u);
	case UART_IER:
		if (u->lcr & LCR_DLAB)
			return u->dlm;
		return u->ier;
	case UART_IIR_FCR:
		code = uart_pending(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if (code == IIR_THRI)
			u->thri_pending = false;
		return code | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ENABLED : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		value = u->lsr;
		/* Error bits clear on read. */
		u->lsr &= ~(LSR_OE | LSR_BI);
		return value;
	case UART_MSR:
		value = u->msr;
		u->msr &= 0xf0;
		return value;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

static void uart_write_reg(struct uart *u, unsigned int reg, u8 value)
{
	switch (reg) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = value;
			return;
		}
		uart_transmit(u, value);
		/* Sent at once: the THR is empty again and says so. */
		u->lsr |= LSR_THRE | LSR_TEMT;
		u->thri_pending = true;
		return;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = value;
			return;
		}
		/* Enabling THRI with an empty THR raises it at once. */
		if (!(u->ier & IER_THRI) && (value & IER_THRI) &&
		    (u->lsr & LSR_THRE))
			u->thri_pending = true;
		u->ier = value & 0x0f;
		return;
	case UART_IIR_FCR:
		if (value & FCR_CLEAR_RX) {
			u->rx_head = u->rx_count = 0;
			u->lsr &= ~LSR_DR;
		}
		u->fcr = value & 0xc9;
		return;
	case UART_LCR:
		u->lcr = value;
		return;
	case UART_MCR:
		u->mcr = value & 0x1f;
		uart_update_msr(u);
		return;
	case UART_LSR:
	case UART_MSR:
		return;		/* read-only */
	case UART_SCR:
		u->scr = value;
		return;
	}
}

static void uart_io_read(void *dev, u64 off, void *data, u32 len)
{
	struct uart *u = dev;

	memset(data, 0xff, len);
	pthread_mutex_lock(&u->lock);
	*(u8 *)data = uart_read_reg(u, off);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_io_write(void *dev, u64 off, const void *data, u32 len)
{
	struct uart *u = dev;

	(void)len;
	pthread_mutex_lock(&u->lock);
	uart_write_reg(u, off, *(const u8 *)data);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static const struct bus_ops uart_ops = {
	.read = uart_io_read,
	.write = uart_io_write,
};

int uart_create(const struct dev_services *svc, u16 base, unsigned int irq, int out_fd,
		int in_fd, struct uart **out)
{
	struct uart *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	u->svc = svc;
	u->base = base;
	u->irq = irq;
	u->out_fd = out_fd;
	u->in_fd = in_fd;
	u->wake_fd = -1;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->dll = 0x0c;		/* 9600 baud, as after a BIOS */
	uart_update_msr(u);
	u->msr &= 0xf0;
	ret = -pthread_mutex_init(&u->lock, NULL);
	if (ret)
		goto err_free;
	ret = bus_register(svc->pio, base, 8, &uart_ops, u, "uart");
	if (ret)
		goto err_mutex;
	*out = u;
	return 0;

err_mutex:
	pthread_mutex_destroy(&u->lock);
err_free:
	free(u);
	return ret;
}

/* Ctrl-A x quits; Ctrl-A Ctrl-A sends one Ctrl-A. */
static void uart_console_byte(struct uart *u, u8 byte)
{
	if (u->saw_ctrl_a) {
		u->saw_ctrl_a = false;
		if (byte == 'x' || byte == 'X') {
			svc_request_stop(u->svc, STATUS_OK,
					"quit from the console (Ctrl-A x)");
			return;
		}
		if (byte != CTRL_A)
			return;
	} else if (byte == CTRL_A) {
		u->saw_ctrl_a = true;
		return;
	}
	pthread_mutex_lock(&u->lock);
	uart_rx_push(u, byte);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void *uart_input_thread(void *arg)
{
	struct uart *u = arg;
	struct pollfd fds[2] = {
		{ .fd = u->in_fd, .events = POLLIN },
		{ .fd = u->wake_fd, .events = POLLIN },
	};
	u8 buf[64];

	for (;;) {
		ssize_t n, i;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		if (!(fds[0].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(u->in_fd, buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;	/* the terminal went away: no more input */
		}
		for (i = 0; i < n; i++)
			uart_console_byte(u, buf[i]);
	}
	return NULL;
}

int uart_start_input(struct uart *u)
{
	struct termios raw;
	int ret;

	if (u->in_fd < 0 || !isatty(u->in_fd))
		return 0;
	if (tcgetattr(u->in_fd, &u->saved_termios) == 0) {
		raw = u->saved_termios;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST;	/* keep \n -> \r\n for our own messages */
		if (tcsetattr(u->in_fd, TCSANOW, &raw) == 0)
			u->termios_saved = true;
	}
	u->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (u->wake_fd < 0) {
		ret = -errno;
		goto err;
	}
	ret = -pthread_create(&u->input_thread, NULL, uart_input_thread, u);
	if (ret)
		goto err;
	u->input_started = true;
	return 0;
err:
	if (u->termios_saved)
		tcsetattr(u->in_fd, TCSANOW, &u->saved_termios);
	u->termios_saved = false;
	return ret;
}

void uart_destroy(struct uart *u)
{
	u64 one = 1;

	if (!u)
		return;
	if (u->input_started) {
		if (write(u->wake_fd, &one, sizeof(one)) < 0)
			log_warn("cannot wake the console thread: %s",
				 strerror(errno));
		pthread_join(u->input_thread, NULL);
	}
	if (u->wake_fd >= 0)
		close(u->wake_fd);
	if (u->termios_saved)
		tcsetattr(u->in_fd, TCSANOW, &u->saved_termios);
	bus_unregister(u->svc->pio, u->base, u);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
