// SPDX-License-Identifier: MIT
/* Samples for bench/measure.sh, printed by the guest-timed benchmarks. */
#include "runtime.h"

#define LINE_MAX_CHARS	400

/*
 * Lines short enough for the console's 511-byte limit; called at CPL3 by
 * the benchmarks, where printing runs natively.
 */
void bench_emit(const char *name, const char *unit, u64 ops, const u64 *v,
		unsigned int n)
{
	char line[LINE_MAX_CHARS + 32];
	unsigned int i = 0, len;

	while (i < n) {
		len = (unsigned int)snprintf(line, sizeof(line),
					     "BENCH %s %s %lu", name, unit, ops);
		while (i < n && len < LINE_MAX_CHARS)
			len += (unsigned int)snprintf(line + len,
						      sizeof(line) - len,
						      " %lu", v[i++]);
		puts(line);
	}
}
