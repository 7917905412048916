/* SPDX-License-Identifier: MIT */
#ifndef UVMM_COMMON_ERRMSG_H
#define UVMM_COMMON_ERRMSG_H

#include <stddef.h>

/*
 * Writes one line naming a problem into err (err may be NULL or err_len
 * 0: nothing is written) and returns ret, so a parser or loader can say
 * `return err_fmt(err, err_len, -EINVAL, "...", ...);`.
 */
int err_fmt(char *err, size_t err_len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
