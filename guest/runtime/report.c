// SPDX-License-Identifier: MIT
/* kvm-unit-tests style result lines, the summary, and exit. */
#include "runtime.h"
#include "abi/machine.h"

static unsigned int tests, failures, skipped;
static char prefix[128];

void report_prefix_push(const char *p)
{
	size_t len = strlen(prefix);

	snprintf(prefix + len, sizeof(prefix) - len, "%s: ", p);
}

void report_prefix_pop(void)
{
	size_t len = strlen(prefix);

	/* drop the last "name: " */
	if (len >= 2)
		len -= 2;
	while (len && !(len >= 2 && prefix[len - 2] == ':' && prefix[len - 1] == ' '))
		len--;
	prefix[len] = '\0';
}

static void report_line(const char *kind, const char *fmt, va_list ap)
{
	char buf[400];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	printf("%s: %s%s\n", kind, prefix, buf);
}

bool report(bool pass, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!pass)
		failures++;
	va_start(ap, fmt);
	report_line(pass ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	return pass;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	tests++;
	skipped++;
	va_start(ap, fmt);
	report_line("SKIP", fmt, ap);
	va_end(ap);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_line("INFO", fmt, ap);
	va_end(ap);
}

void report_count_failure(void)
{
	tests++;
	failures++;
}

void (*report_summary_hook)(void);

int report_summary(void)
{
	if (report_summary_hook)
		report_summary_hook();
	printf("SUMMARY: %u tests, %u unexpected failures, %u skipped\n",
	       tests, failures, skipped);
	return failures ? 1 : 0;
}

void exit(int code)
{
	outb(DEBUG_EXIT_PORT, code);
	/* still here: no debug-exit device */
	printf("exit(%d): port 0x%x did not stop the VM, halting\n", code,
	       DEBUG_EXIT_PORT);
	for (;;) {
		if (cpl() == 0)
			hlt();
		else
			cpu_relax();
	}
}

void abort_test(const char *fmt, ...)
{
	va_list ap;

	tests++;
	failures++;
	va_start(ap, fmt);
	report_line("FAIL", fmt, ap);
	va_end(ap);
	exit(report_summary());
}
