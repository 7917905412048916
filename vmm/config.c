// SPDX-License-Identifier: MIT
/*
 * Command line to struct vm_config. Pure: no files are opened and nothing
 * is printed here, so every rule is unit-tested on argument vectors.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/errmsg.h"
#include "common/parse.h"
#include "vmm/config.h"

#define DEVICE_DEFAULT_TIMEOUT_MS 5000
#define DEVICE_MAX_TIMEOUT_MS (3600 * 1000)
#define DEVICE_MAX_WAIT_SECONDS 3600
#define DEVICE_DEFAULT_RECONNECT_TIMEOUT 30
#define DEVICE_MAX_RECONNECT_TIMEOUT 3600
/* Busy-waiting longer than a scheduler tick buys nothing. */
#define DEVICE_MAX_POLL_US 10000
#define MAX_TIMEOUT_SECONDS (365 * 24 * 3600)

enum {
	OPT_INITRD = 0x100,
	OPT_CMDLINE,
	OPT_BIOS,
	OPT_DEVICE,
	OPT_SERIAL,
	OPT_TIMEOUT,
	OPT_DUMP_DTB,
	OPT_DUMP_ACPI,
	OPT_DEBUG_EXIT,
	OPT_SANDBOX,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "bios", required_argument, NULL, OPT_BIOS },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "dump-acpi", required_argument, NULL, OPT_DUMP_ACPI },
	{ "debug-exit", required_argument, NULL, OPT_DEBUG_EXIT },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void config_usage(FILE *out)
{
	fprintf(out,
		"usage: uvmm [options] IMAGE\n"
		"       uvmm [options] --bios FILE\n"
		"Runs IMAGE (a PVH ELF, a Multiboot kernel or a Linux bzImage) in a KVM\n"
		"virtual machine, or a raw ROM from the reset vector.\n"
		"\n"
		"  -m, --memory SIZE        guest RAM, e.g. 512M or 2G (default 128M)\n"
		"  -c, --cpus N             vCPUs, 1-%d (default 1)\n"
		"      --initrd FILE        initial ramdisk (bzImage) or module (Multiboot)\n"
		"      --cmdline STRING     kernel command line (at most 32K-1 bytes)\n"
		"      --bios FILE          raw ROM (at most 64K) ending at 4 GiB, run from\n"
		"                           the reset vector; not with IMAGE\n"
		"      --device vfio-user,socket=PATH[,timeout-ms=N][,wait=SECONDS]\n"
		"                                  [,on-error=stop|continue|reconnect]\n"
		"                                  [,reconnect-timeout=SECONDS]\n"
		"                                  [,posted-writes=on|off][,poll-us=N]\n"
		"      --device pci-testdev  uvmm's built-in PCI test function (1234:7e57\n"
		"                           at 00:01.0), for the project's test programs\n"
		"      --device pc-testdev   QEMU's ISA test device (ports 0xe0-0xeb,\n"
		"                           0x2000-0x2017, 0x8900; MMIO 0xff000000)\n"
		"      --serial stdio|file:PATH|none   where COM1 goes (default stdio)\n"
		"      --timeout SECONDS    stop the guest after this long (exit status 124)\n"
		"      --dump-dtb FILE      write the device tree handed to the guest, then run\n"
		"      --dump-acpi DIR      write the ACPI tables as DIR/NAME.dat, then run\n"
		"      --debug-exit qemu|raw  status rule of port 0xf4 (default qemu)\n"
		"      --sandbox on|off     seccomp filter once the VM runs (default: on\n"
		"                           where the kernel has seccomp)\n"
		"  -v, --verbose            more log; repeat for protocol traces\n"
		"  -h, --help               this text\n"
		"      --version            print the version\n"
		"\n"
		"Exit status: 0 guest shut down or reset; odd 1-255 the guest wrote to\n"
		"port 0xf4; 2 bad command line; 4 host setup failed; 6 image not loaded;\n"
		"8 guest crashed; 10 a vfio-user device failed; 12 the sandbox stopped a\n"
		"forbidden system call; 124 --timeout expired.\n",
		CONFIG_MAX_CPUS);
}

/* Sizes: a decimal number with an optional K, M, G or T suffix (binary). */
int config_parse_size(const char *text, u64 *bytes)
{
	unsigned long long value;
	u64 unit = 1;
	char *end;

	/*
	 * A digit first: strtoull() skips blanks and then takes a sign, so
	 * " -1" would wrap to a huge (or, well chosen, any) size.
	 */
	if (!text || !isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		unit = KiB;
		break;
	case 'm': case 'M':
		unit = MiB;
		break;
	case 'g': case 'G':
		unit = GiB;
		break;
	case 't': case 'T':
		unit = 1024 * GiB;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		/* Accept "512M", "512MB" and "512MiB". */
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (value > UINT64_MAX / unit)
		return -ERANGE;
	*bytes = value * unit;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * "vfio-user,socket=PATH[,timeout-ms=N][,wait=S]
 *  [,on-error=stop|continue|reconnect][,reconnect-timeout=S]
 *  [,posted-writes=on|off][,poll-us=N]"
 */
static int parse_device(const char *spec, struct device_config *dev,
			char *err, size_t err_len)
{
	static const char *const keys[] = {
		"socket", "timeout-ms", "wait", "on-error", "posted-writes",
		"reconnect-timeout", "poll-us",
	};
	char *copy, *rest, *item;
	unsigned int seen = 0, k;
	int ret = -EINVAL;
	bool first = true;

	if (!*spec) {
		err_fmt(err, err_len, 0, "--device: empty device string");
		return -EINVAL;
	}
	copy = rest = strdup(spec);
	if (!copy) {
		err_fmt(err, err_len, 0, "out of memory");
		return -ENOMEM;
	}
	dev->timeout_ms = DEVICE_DEFAULT_TIMEOUT_MS;
	dev->on_error = DEVICE_ON_ERROR_STOP;
	dev->reconnect_timeout = DEVICE_DEFAULT_RECONNECT_TIMEOUT;
	dev->posted_writes = true;

	/* strsep, not strtok: "a,,b" and a trailing comma are mistakes too. */
	while ((item = strsep(&rest, ","))) {
		char *value = strchr(item, '=');

		if (!*item) {
			err_fmt(err, err_len, 0,
				"--device: empty item in '%s' (a stray comma?)",
				spec);
			goto out;
		}
		if (first) {
			first = false;
			if (strcmp(item, "vfio-user")) {
				err_fmt(err, err_len, 0,
					"--device: unknown device type '%s' (vfio-user, pci-testdev or pc-testdev)",
					item);
				goto out;
			}
			continue;
		}
		if (!value) {
			err_fmt(err, err_len, 0,
				"--device: '%s' is not KEY=VALUE", item);
			goto out;
		}
		*value++ = '\0';
		/* A key given twice would silently override the first. */
		for (k = 0; k < ARRAY_SIZE(keys); k++) {
			if (strcmp(item, keys[k]))
				continue;
			if (seen & 1u << k) {
				err_fmt(err, err_len, 0,
					"--device: %s given twice", item);
				goto out;
			}
			seen |= 1u << k;
		}
		if (!strcmp(item, "socket")) {
			if (!*value) {
				err_fmt(err, err_len, 0, "--device: empty socket path");
				goto out;
			}
			if (strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
				err_fmt(err, err_len, 0,
					"--device: socket path is %zu bytes, longer than the %zu a UNIX socket allows",
					strlen(value),
					sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
				goto out;
			}
			free(dev->socket_path);
			dev->socket_path = strdup(value);
			if (!dev->socket_path) {
				ret = -ENOMEM;
				goto out;
			}
		} else if (!strcmp(item, "timeout-ms")) {
			if (parse_uint(value, DEVICE_MAX_TIMEOUT_MS,
				       &dev->timeout_ms) || !dev->timeout_ms) {
				err_fmt(err, err_len, 0,
					"--device: timeout-ms '%s' is not a number of milliseconds in 1-%u",
					value, DEVICE_MAX_TIMEOUT_MS);
				goto out;
			}
		} else if (!strcmp(item, "wait")) {
			if (parse_uint(value, DEVICE_MAX_WAIT_SECONDS,
				       &dev->wait_seconds)) {
				err_fmt(err, err_len, 0,
					"--device: wait '%s' is not a number of seconds in 0-%u",
					value, DEVICE_MAX_WAIT_SECONDS);
				goto out;
			}
		} else if (!strcmp(item, "on-error")) {
			if (!strcmp(value, "stop")) {
				dev->on_error = DEVICE_ON_ERROR_STOP;
			} else if (!strcmp(value, "continue")) {
				dev->on_error = DEVICE_ON_ERROR_CONTINUE;
			} else if (!strcmp(value, "reconnect")) {
				dev->on_error = DEVICE_ON_ERROR_RECONNECT;
			} else {
				err_fmt(err, err_len, 0,
					"--device: on-error must be stop, continue or reconnect, not '%s'",
					value);
				goto out;
			}
		} else if (!strcmp(item, "reconnect-timeout")) {
			if (parse_uint(value, DEVICE_MAX_RECONNECT_TIMEOUT,
				       &dev->reconnect_timeout) ||
			    !dev->reconnect_timeout) {
				err_fmt(err, err_len, 0,
					"--device: reconnect-timeout '%s' is not a number of seconds in 1-%u",
					value, DEVICE_MAX_RECONNECT_TIMEOUT);
				goto out;
			}
		} else if (!strcmp(item, "posted-writes")) {
			if (!strcmp(value, "on")) {
				dev->posted_writes = true;
			} else if (!strcmp(value, "off")) {
				dev->posted_writes = false;
			} else {
				err_fmt(err, err_len, 0,
					"--device: posted-writes must be on or off, not '%s'",
					value);
				goto out;
			}
		} else if (!strcmp(item, "poll-us")) {
			if (parse_uint(value, DEVICE_MAX_POLL_US,
				       &dev->poll_us)) {
				err_fmt(err, err_len, 0,
					"--device: poll-us '%s' is not a number of microseconds in 0-%u",
					value, DEVICE_MAX_POLL_US);
				goto out;
			}
		} else {
			err_fmt(err, err_len, 0, "--device: unknown key '%s'", item);
			goto out;
		}
	}
	if (!dev->socket_path) {
		err_fmt(err, err_len, 0, "--device: socket=PATH is required");
		goto out;
	}
	/* A timeout that nothing would use is a mistake in the command. */
	if ((seen & 1u << 5) && dev->on_error != DEVICE_ON_ERROR_RECONNECT) {
		err_fmt(err, err_len, 0,
			"--device: reconnect-timeout needs on-error=reconnect");
		goto out;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

static int replace_string(char **slot, const char *value)
{
	char *copy = dup_or_null(value);

	if (value && !copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

/* The test devices built into uvmm, each turned on by its bare name. */
static const struct {
	const char *name;
	size_t flag;		/* offset of its bool in struct vm_config */
} builtin_devices[] = {
	{ "pci-testdev", offsetof(struct vm_config, pci_testdev) },
	{ "pc-testdev", offsetof(struct vm_config, pc_testdev) },
};

/* The flag of the built-in device spec names ("NAME" or "NAME,..."). */
static bool *builtin_device(struct vm_config *cfg, const char *spec,
			    const char **name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(builtin_devices); i++) {
		size_t n = strlen(builtin_devices[i].name);

		if (!strncmp(spec, builtin_devices[i].name, n) &&
		    (spec[n] == '\0' || spec[n] == ',')) {
			*name = builtin_devices[i].name;
			return (bool *)((char *)cfg + builtin_devices[i].flag);
		}
	}
	return NULL;
}

enum config_result config_parse(int argc, char **argv, struct vm_config *cfg,
				char *err, size_t err_len)
{
	const char *builtin;
	bool *flag;
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_bytes = CONFIG_DEFAULT_MEMORY;
	cfg->nr_cpus = 1;
	cfg->serial = SERIAL_STDIO;
	cfg->debug_exit = DEBUG_EXIT_QEMU;
	if (err && err_len)
		err[0] = '\0';

	/* optind = 0 makes glibc's getopt start afresh on every call. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:c:vh", long_options,
				  NULL)) != -1) {
		int ret = 0;

		switch (opt) {
		case 'm':
			ret = config_parse_size(optarg, &cfg->memory_bytes);
			if (ret) {
				err_fmt(err, err_len, 0,
					"--memory: '%s' is not a size (e.g. 128M, 2G)",
					optarg);
				return CONFIG_ERROR;
			}
			if (cfg->memory_bytes < CONFIG_MIN_MEMORY ||
			    cfg->memory_bytes > CONFIG_MAX_MEMORY) {
				err_fmt(err, err_len, 0,
					"--memory: %s is outside 2M-64G", optarg);
				return CONFIG_ERROR;
			}
			if (!IS_ALIGNED(cfg->memory_bytes, 4096)) {
				err_fmt(err, err_len, 0,
					"--memory: %s is not a multiple of 4K", optarg);
				return CONFIG_ERROR;
			}
			break;
		case 'c':
			ret = parse_uint(optarg, CONFIG_MAX_CPUS, &cfg->nr_cpus);
			if (ret || cfg->nr_cpus == 0) {
				err_fmt(err, err_len, 0,
					"--cpus: '%s' is not a CPU count in 1-%d",
					optarg, CONFIG_MAX_CPUS);
				return CONFIG_ERROR;
			}
			break;
		case OPT_INITRD:
			ret = replace_string(&cfg->initrd_path, optarg);
			break;
		case OPT_CMDLINE:
			if (strlen(optarg) > CONFIG_MAX_CMDLINE) {
				err_fmt(err, err_len, 0,
					"--cmdline is %zu bytes, at most %u",
					strlen(optarg),
					(unsigned int)CONFIG_MAX_CMDLINE);
				return CONFIG_ERROR;
			}
			ret = replace_string(&cfg->cmdline, optarg);
			break;
		case OPT_BIOS:
			ret = replace_string(&cfg->bios_path, optarg);
			break;
		case OPT_DEVICE:
			/* built-in devices: a bare name, no keys */
			flag = builtin_device(cfg, optarg, &builtin);
			if (flag) {
				if (optarg[strlen(builtin)] == ',') {
					err_fmt(err, err_len, 0,
						"--device: %s takes no options",
						builtin);
					return CONFIG_ERROR;
				}
				if (*flag) {
					err_fmt(err, err_len, 0,
						"--device: %s given twice",
						builtin);
					return CONFIG_ERROR;
				}
				*flag = true;
				break;
			}
			if (cfg->nr_devices == CONFIG_MAX_DEVICES) {
				err_fmt(err, err_len, 0,
					"--device: at most %d devices",
					CONFIG_MAX_DEVICES);
				return CONFIG_ERROR;
			}
			ret = parse_device(optarg,
					   &cfg->devices[cfg->nr_devices],
					   err, err_len);
			/* Count it even on failure so config_free frees it. */
			cfg->nr_devices++;
			if (ret)
				return CONFIG_ERROR;
			break;
		case OPT_SERIAL:
			if (!strcmp(optarg, "stdio")) {
				cfg->serial = SERIAL_STDIO;
			} else if (!strcmp(optarg, "none")) {
				cfg->serial = SERIAL_NONE;
			} else if (!strncmp(optarg, "file:", 5) && optarg[5]) {
				cfg->serial = SERIAL_FILE;
				ret = replace_string(&cfg->serial_path, optarg + 5);
			} else {
				err_fmt(err, err_len, 0,
					"--serial: '%s' is not stdio, none or file:PATH",
					optarg);
				return CONFIG_ERROR;
			}
			break;
		case OPT_TIMEOUT:
			ret = parse_uint(optarg, MAX_TIMEOUT_SECONDS,
					 &cfg->timeout_seconds);
			if (ret || !cfg->timeout_seconds) {
				err_fmt(err, err_len, 0,
					"--timeout: '%s' is not a number of seconds (at least 1)",
					optarg);
				return CONFIG_ERROR;
			}
			break;
		case OPT_DUMP_DTB:
			ret = replace_string(&cfg->dump_dtb_path, optarg);
			break;
		case OPT_DUMP_ACPI:
			ret = replace_string(&cfg->dump_acpi_dir, optarg);
			break;
		case OPT_DEBUG_EXIT:
			if (!strcmp(optarg, "qemu")) {
				cfg->debug_exit = DEBUG_EXIT_QEMU;
			} else if (!strcmp(optarg, "raw")) {
				cfg->debug_exit = DEBUG_EXIT_RAW;
			} else {
				err_fmt(err, err_len, 0,
					"--debug-exit: '%s' is not qemu or raw", optarg);
				return CONFIG_ERROR;
			}
			break;
		case OPT_SANDBOX:
			if (!strcmp(optarg, "on")) {
				cfg->sandbox = SANDBOX_ON;
			} else if (!strcmp(optarg, "off")) {
				cfg->sandbox = SANDBOX_OFF;
			} else {
				err_fmt(err, err_len, 0,
					"--sandbox: '%s' is not on or off", optarg);
				return CONFIG_ERROR;
			}
			break;
		case 'v':
			cfg->verbosity++;
			break;
		case 'h':
			return CONFIG_HELP;
		case OPT_VERSION:
			return CONFIG_VERSION;
		case ':':
			err_fmt(err, err_len, 0, "option '%s' needs a value",
				argv[optind - 1]);
			return CONFIG_ERROR;
		default:
			/*
			 * An unknown short option inside a group ("-qv")
			 * leaves optind on its own word, so argv[optind - 1]
			 * would name the previous one: glibc's optopt has the
			 * letter (and is 0 for an unknown long option).
			 */
			if (optopt)
				err_fmt(err, err_len, 0, "unknown option '-%c'",
					optopt);
			else
				err_fmt(err, err_len, 0, "unknown option '%s'",
					argv[optind - 1]);
			return CONFIG_ERROR;
		}
		if (ret) {
			err_fmt(err, err_len, 0, "out of memory");
			return CONFIG_ERROR;
		}
	}

	if (optind < argc) {
		cfg->image_path = strdup(argv[optind++]);
		if (!cfg->image_path) {
			err_fmt(err, err_len, 0, "out of memory");
			return CONFIG_ERROR;
		}
	}
	if (optind < argc) {
		err_fmt(err, err_len, 0, "unexpected argument '%s' after the image",
			argv[optind]);
		return CONFIG_ERROR;
	}
	if (!cfg->image_path && !cfg->bios_path) {
		err_fmt(err, err_len, 0, "no image given (see uvmm --help)");
		return CONFIG_ERROR;
	}
	/*
	 * The ROM is the whole boot: it could not know where an IMAGE loaded
	 * into RAM starts, so the two are not mixed.
	 */
	if (cfg->bios_path && cfg->image_path) {
		err_fmt(err, err_len, 0,
			"--bios runs the ROM alone: give --bios FILE or IMAGE, not both");
		return CONFIG_ERROR;
	}
	if (cfg->initrd_path && !cfg->image_path) {
		err_fmt(err, err_len, 0, "--initrd needs a kernel image");
		return CONFIG_ERROR;
	}
	return CONFIG_RUN;
}

void config_free(struct vm_config *cfg)
{
	unsigned int i;

	free(cfg->image_path);
	free(cfg->initrd_path);
	free(cfg->cmdline);
	free(cfg->bios_path);
	free(cfg->serial_path);
	free(cfg->dump_dtb_path);
	free(cfg->dump_acpi_dir);
	for (i = 0; i < cfg->nr_devices; i++)
		free(cfg->devices[i].socket_path);
	memset(cfg, 0, sizeof(*cfg));
}
