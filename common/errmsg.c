// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "common/errmsg.h"

int err_fmt(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return ret;
}
