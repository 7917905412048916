// SPDX-License-Identifier: MIT
/* COM1 (16550) output and a small printf. */
#include "runtime.h"
#include "abi/machine.h"

#define COM1		UART_COM1_BASE
#define UART_THR	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_DLL	0
#define UART_DLM	1
#define UART_LCR_DLAB	0x80
#define UART_LCR_8N1	0x03
#define UART_LSR_THRE	0x20
#define UART_FIFO_SIZE	16

/*
 * Bytes we may still write before asking the UART again: THRE set with the
 * FIFO on means the whole 16-byte FIFO is free. Each port access is a VM
 * exit, so this is one LSR read per 16 bytes instead of one per byte.
 */
static unsigned int tx_room;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + UART_DLL, 1);		/* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, UART_LCR_8N1);
	outb(COM1 + UART_FCR, 0x07);		/* FIFO on, both cleared */
	outb(COM1 + UART_MCR, 0x03);		/* DTR, RTS */
	tx_room = 0;
}

static void serial_putc(char c)
{
	if (!tx_room) {
		unsigned int tries;

		/* bounded: a missing UART must not hang the test */
		for (tries = 0; tries < 100000; tries++) {
			if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
				break;
			cpu_relax();
		}
		tx_room = UART_FIFO_SIZE;
	}
	outb(COM1 + UART_THR, c);
	tx_room--;
}

void console_write(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		serial_putc(buf[i]);
}

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct fmt_out *o, char c, int count)
{
	while (count-- > 0)
		out_char(o, c);
}

#define FL_LEFT		0x01
#define FL_ZERO		0x02
#define FL_PLUS		0x04
#define FL_SPACE	0x08
#define FL_ALT		0x10
#define FL_UPPER	0x20

static void out_number(struct fmt_out *o, unsigned long long val, bool negative,
		       unsigned int base, int width, unsigned int flags)
{
	const char *digits = (flags & FL_UPPER) ? "0123456789ABCDEF" :
						  "0123456789abcdef";
	char tmp[24];
	char sign = 0;
	const char *prefix = "";
	int ndigits = 0, len;

	do {
		tmp[ndigits++] = digits[val % base];
		val /= base;
	} while (val);

	if (negative)
		sign = '-';
	else if (flags & FL_PLUS)
		sign = '+';
	else if (flags & FL_SPACE)
		sign = ' ';
	if ((flags & FL_ALT) && base == 16)
		prefix = (flags & FL_UPPER) ? "0X" : "0x";
	else if ((flags & FL_ALT) && base == 8 && tmp[ndigits - 1] != '0')
		prefix = "0";

	len = ndigits + (sign ? 1 : 0) + (int)strlen(prefix);
	if (!(flags & (FL_LEFT | FL_ZERO)))
		out_pad(o, ' ', width - len);
	if (sign)
		out_char(o, sign);
	while (*prefix)
		out_char(o, *prefix++);
	if ((flags & (FL_LEFT | FL_ZERO)) == FL_ZERO)
		out_pad(o, '0', width - len);
	while (ndigits)
		out_char(o, tmp[--ndigits]);
	if (flags & FL_LEFT)
		out_pad(o, ' ', width - len);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size, .len = 0 };

	for (; *fmt; fmt++) {
		unsigned int flags = 0, base = 10;
		int width = 0, precision = -1, lng = 0;
		unsigned long long uval;
		bool negative = false;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		for (;;) {
			fmt++;
			if (*fmt == '-')
				flags |= FL_LEFT;
			else if (*fmt == '0')
				flags |= FL_ZERO;
			else if (*fmt == '+')
				flags |= FL_PLUS;
			else if (*fmt == ' ')
				flags |= FL_SPACE;
			else if (*fmt == '#')
				flags |= FL_ALT;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= FL_LEFT;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			precision = 0;
			if (*fmt == '*') {
				precision = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					precision = precision * 10 + (*fmt++ - '0');
			}
		}
		/* lng: -2 hh, -1 h, 0 int, 1 long, 2 long long */
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'h')
				lng--;
			else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't')
				lng = 1;
			else
				break;
		}

		switch (*fmt) {
		case 'd':
		case 'i': {
			long long sval;

			if (lng >= 2)
				sval = va_arg(ap, long long);
			else if (lng == 1)
				sval = va_arg(ap, long);
			else
				sval = va_arg(ap, int);
			if (lng == -1)
				sval = (short)sval;
			else if (lng <= -2)
				sval = (signed char)sval;
			negative = sval < 0;
			uval = negative ? -(unsigned long long)sval : (unsigned long long)sval;
			out_number(&o, uval, negative, 10, width, flags);
			break;
		}
		case 'X':
			flags |= FL_UPPER;
			/* fall through */
		case 'x':
		case 'u':
		case 'o':
			base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			if (lng >= 2)
				uval = va_arg(ap, unsigned long long);
			else if (lng == 1)
				uval = va_arg(ap, unsigned long);
			else
				uval = va_arg(ap, unsigned int);
			if (lng == -1)
				uval = (unsigned short)uval;
			else if (lng <= -2)
				uval = (unsigned char)uval;
			out_number(&o, uval, false, base, width, flags);
			break;
		case 'p':
			uval = (unsigned long)va_arg(ap, void *);
			out_number(&o, uval, false, 16, width, flags | FL_ALT);
			break;
		case 'c':
			if (!(flags & FL_LEFT))
				out_pad(&o, ' ', width - 1);
			out_char(&o, (char)va_arg(ap, int));
			if (flags & FL_LEFT)
				out_pad(&o, ' ', width - 1);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len, i;

			if (!s)
				s = "(null)";
			len = (int)strnlen(s, precision < 0 ? (size_t)-1 : (size_t)precision);
			if (!(flags & FL_LEFT))
				out_pad(&o, ' ', width - len);
			for (i = 0; i < len; i++)
				out_char(&o, s[i]);
			if (flags & FL_LEFT)
				out_pad(&o, ' ', width - len);
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;	/* a lone '%' at the end */
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (o.size)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return ret;
}

#define PRINTF_MAX	512

int vprintf(const char *fmt, va_list ap)
{
	char buf[PRINTF_MAX];
	int len = vsnprintf(buf, sizeof(buf), fmt, ap);

	console_write(buf, len < PRINTF_MAX ? (size_t)len : PRINTF_MAX - 1);
	return len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vprintf(fmt, ap);
	va_end(ap);
	return ret;
}

int puts(const char *s)
{
	console_write(s, strlen(s));
	console_write("\n", 1);
	return 0;
}
