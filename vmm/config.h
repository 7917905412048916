/* SPDX-License-Identifier: MIT */
#ifndef UVMM_CONFIG_H
#define UVMM_CONFIG_H

#include <stdio.h>

#include "common/types.h"

#define CONFIG_MAX_CPUS 64
#define CONFIG_MAX_DEVICES 8
/*
 * The command line goes into the device tree's 64 KiB (bootargs) and the
 * boot information's 64 KiB: half leaves the tree room for the rest.
 */
#define CONFIG_MAX_CMDLINE (32 * KiB - 1)
#define CONFIG_DEFAULT_MEMORY (128 * MiB)
#define CONFIG_MIN_MEMORY (2 * MiB)
#define CONFIG_MAX_MEMORY (64 * GiB)

enum serial_mode {
	SERIAL_STDIO,
	SERIAL_FILE,
	SERIAL_NONE,
};

enum debug_exit_mode {
	DEBUG_EXIT_QEMU,	/* status (V << 1) | 1, as isa-debug-exit */
	DEBUG_EXIT_RAW,		/* status V & 0xff */
};

enum sandbox_mode {
	SANDBOX_AUTO,		/* on where the kernel has seccomp filters */
	SANDBOX_ON,		/* on, or status 4 */
	SANDBOX_OFF,
};

enum device_on_error {
	DEVICE_ON_ERROR_STOP,
	DEVICE_ON_ERROR_CONTINUE,
	/* Wait for the server to come back and replay (vfio-user/device.c). */
	DEVICE_ON_ERROR_RECONNECT,
};

struct device_config {
	char *socket_path;
	unsigned int timeout_ms;
	unsigned int wait_seconds;
	enum device_on_error on_error;
	/* on-error=reconnect: how long the server may stay away. */
	unsigned int reconnect_timeout;
	/* Trapped memory-BAR writes go out as NO_REPLY (posted-writes=on). */
	bool posted_writes;
	/* A vCPU waiting for a reply looks for it this long before sleeping. */
	unsigned int poll_us;
};

/*
 * Everything the command line says, and nothing else: parsing has no side
 * effects, so it is tested on argument vectors alone.
 */
struct vm_config {
	u64 memory_bytes;
	unsigned int nr_cpus;
	char *image_path;
	char *initrd_path;
	char *cmdline;
	char *bios_path;
	enum serial_mode serial;
	char *serial_path;
	unsigned int timeout_seconds;	/* 0: none */
	char *dump_dtb_path;
	char *dump_acpi_dir;	/* --dump-acpi: tables as DIR/NAME.dat */
	enum debug_exit_mode debug_exit;
	int verbosity;
	struct device_config devices[CONFIG_MAX_DEVICES];
	unsigned int nr_devices;
	bool pci_testdev;	/* --device pci-testdev */
	enum sandbox_mode sandbox;
	bool pc_testdev;	/* --device pc-testdev */
};

enum config_result {
	CONFIG_RUN = 0,		/* run a VM */
	CONFIG_HELP,		/* --help: print usage, exit 0 */
	CONFIG_VERSION,		/* --version: print it, exit 0 */
	CONFIG_ERROR,		/* bad command line: message set, exit 2 */
};

/*
 * Parses argv into cfg. On CONFIG_ERROR, err holds one line naming the
 * problem. cfg must be released with config_free() whatever the result.
 */
enum config_result config_parse(int argc, char **argv, struct vm_config *cfg,
				char *err, size_t err_len);
void config_free(struct vm_config *cfg);
int config_parse_size(const char *text, u64 *bytes);
void config_usage(FILE *out);

#endif
