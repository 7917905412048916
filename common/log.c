// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

/*
 * The level is set once at start-up, before any thread exists, and only
 * read afterwards, so it needs no lock.
 */
static enum log_level current_level = LOG_WARN;
static const char *program_name = "uvmm";

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_set_program(const char *name)
{
	program_name = name;
}

void log_msg(enum log_level level, const char *prefix, const char *fmt, ...)
{
	char line[1024];
	int used;
	va_list ap;

	if (level > current_level)
		return;
	if (prefix)
		used = snprintf(line, sizeof(line), "%s: %s: ", program_name,
				prefix);
	else
		used = snprintf(line, sizeof(line), "%s: ", program_name);
	if (used < 0 || (size_t)used >= sizeof(line))
		used = 0;
	va_start(ap, fmt);
	vsnprintf(line + used, sizeof(line) - used, fmt, ap);
	va_end(ap);
	/* One write per line so lines from several threads do not mix. */
	fprintf(stderr, "%s\n", line);
}
