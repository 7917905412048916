// SPDX-License-Identifier: MIT
/*
 * The command line parser: the input split at NUL bytes into argv[1..]
 * (argv[0] is "uvmm"), each argument a heap block of its own. Whatever
 * config_parse() returns, config_free() must release everything (LSan
 * checks at exit); a configuration it accepts must lie inside the limits
 * vm_build() relies on; a refusal names its cause in one line.
 */
#include <errno.h>
#include <sys/un.h>

#include "tests/fuzz/fuzz.h"
#include "vmm/config.h"

#define MAX_ARGS 32

static void check_config(const struct vm_config *cfg)
{
	unsigned int i;

	FUZZ_CHECK(cfg->memory_bytes >= CONFIG_MIN_MEMORY &&
		   cfg->memory_bytes <= CONFIG_MAX_MEMORY);
	FUZZ_CHECK(cfg->memory_bytes % 4096 == 0);
	FUZZ_CHECK(cfg->nr_cpus >= 1 && cfg->nr_cpus <= CONFIG_MAX_CPUS);
	FUZZ_CHECK(cfg->image_path || cfg->bios_path);
	FUZZ_CHECK(!cfg->initrd_path || cfg->image_path);
	FUZZ_CHECK(cfg->nr_devices <= CONFIG_MAX_DEVICES);
	FUZZ_CHECK(cfg->serial != SERIAL_FILE ||
		   (cfg->serial_path && cfg->serial_path[0]));
	for (i = 0; i < cfg->nr_devices; i++) {
		const struct device_config *d = &cfg->devices[i];

		FUZZ_CHECK(d->socket_path && d->socket_path[0]);
		FUZZ_CHECK(strlen(d->socket_path) <
			   sizeof(((struct sockaddr_un *)0)->sun_path));
		FUZZ_CHECK(d->timeout_ms > 0);
		FUZZ_CHECK(d->on_error == DEVICE_ON_ERROR_STOP ||
			   d->on_error == DEVICE_ON_ERROR_CONTINUE);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *copy[MAX_ARGS + 2];
	struct vm_config cfg;
	enum config_result res;
	char err[512];
	size_t start = 0, i;
	int argc = 1, j;
	u64 bytes;

	if (size > 4096)
		return 0;
	argv[0] = copy[0] = strdup("uvmm");
	for (i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (i < size && data[i] != '\0')
			continue;
		if (i == size && i == start && argc > 1)
			break;
		copy[argc] = malloc(i - start + 1);
		if (!copy[argc])
			abort();
		memcpy(copy[argc], data + start, i - start);
		copy[argc][i - start] = '\0';
		argv[argc] = copy[argc];
		argc++;
		start = i + 1;
	}
	argv[argc] = NULL;
	if (!argv[0])
		abort();

	/* getopt_long permutes argv: it gets the array, we keep copy[]. */
	memset(err, 'x', sizeof(err));
	res = config_parse(argc, argv, &cfg, err, sizeof(err));
	switch (res) {
	case CONFIG_RUN:
		check_config(&cfg);
		break;
	case CONFIG_ERROR:
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		/* An unknown option is named as it was written. */
		if (!strncmp(err, "unknown option '", 16))
			FUZZ_CHECK(err[16] == '-');
		break;
	case CONFIG_HELP:
	case CONFIG_VERSION:
		break;
	}
	config_free(&cfg);

	/* The size parser alone, on the first argument. */
	if (!config_parse_size(copy[1], &bytes))
		FUZZ_CHECK(copy[1][0] >= '0' && copy[1][0] <= '9');

	for (j = 0; j < argc; j++)
		free(copy[j]);
	return 0;
}
