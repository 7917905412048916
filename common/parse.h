/* SPDX-License-Identifier: MIT */
#ifndef UVMM_COMMON_PARSE_H
#define UVMM_COMMON_PARSE_H

/*
 * Numbers from command lines: one strict reading for uvmm, uvmm-nvme and
 * the test servers. Header-only, as common/clock.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

/*
 * A decimal number of 0 to max, digits only (no sign, no space, no
 * suffix): 0 with *out set, -EINVAL for anything else than digits, or
 * -ERANGE past max.
 */
static inline int parse_uint(const char *text, unsigned long max,
			     unsigned int *out)
{
	unsigned long value;
	char *end;

	if (!text || !isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || *end || end == text)
		return -EINVAL;
	if (value > max)
		return -ERANGE;
	*out = value;
	return 0;
}

#endif
