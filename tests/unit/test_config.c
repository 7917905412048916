// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/config.h"

static char err[512];

#define PARSE(cfg, ...)                                                   \
	({                                                                \
		char *argv_[] = { "uvmm", __VA_ARGS__, NULL };            \
		config_parse(ARRAY_SIZE(argv_) - 1, argv_, (cfg), err,    \
			     sizeof(err));                                \
	})

static void test_defaults(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "image.elf"), CONFIG_RUN);
	assert_int_equal(cfg.memory_bytes, 128 * MiB);
	assert_int_equal(cfg.nr_cpus, 1);
	assert_string_equal(cfg.image_path, "image.elf");
	assert_int_equal(cfg.serial, SERIAL_STDIO);
	assert_int_equal(cfg.debug_exit, DEBUG_EXIT_QEMU);
	assert_int_equal(cfg.timeout_seconds, 0);
	assert_null(cfg.cmdline);
	config_free(&cfg);
}

static void test_all_options(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "-m", "2G", "--cpus", "4", "--cmdline",
			       "console=ttyS0", "--initrd", "rd.img",
			       "--serial", "file:/tmp/out", "--timeout", "30",
			       "--debug-exit", "raw", "-v", "-v",
			       "--dump-dtb", "x.dtb", "bzImage"),
			 CONFIG_RUN);
	assert_int_equal(cfg.memory_bytes, 2 * GiB);
	assert_int_equal(cfg.nr_cpus, 4);
	assert_string_equal(cfg.cmdline, "console=ttyS0");
	assert_string_equal(cfg.initrd_path, "rd.img");
	assert_int_equal(cfg.serial, SERIAL_FILE);
	assert_string_equal(cfg.serial_path, "/tmp/out");
	assert_int_equal(cfg.timeout_seconds, 30);
	assert_int_equal(cfg.debug_exit, DEBUG_EXIT_RAW);
	assert_int_equal(cfg.verbosity, 2);
	assert_string_equal(cfg.dump_dtb_path, "x.dtb");
	assert_string_equal(cfg.image_path, "bzImage");
	config_free(&cfg);
}

static void test_sizes(void **state)
{
	u64 bytes;

	(void)state;
	assert_int_equal(config_parse_size("512M", &bytes), 0);
	assert_int_equal(bytes, 512 * MiB);
	assert_int_equal(config_parse_size("2g", &bytes), 0);
	assert_int_equal(bytes, 2 * GiB);
	assert_int_equal(config_parse_size("64K", &bytes), 0);
	assert_int_equal(bytes, 64 * KiB);
	assert_int_equal(config_parse_size("1MiB", &bytes), 0);
	assert_int_equal(bytes, MiB);
	assert_int_equal(config_parse_size("4096", &bytes), 0);
	assert_int_equal(bytes, 4096);
	assert_int_not_equal(config_parse_size("", &bytes), 0);
	assert_int_not_equal(config_parse_size("M", &bytes), 0);
	assert_int_not_equal(config_parse_size("-1M", &bytes), 0);
	assert_int_not_equal(config_parse_size("12X", &bytes), 0);
	assert_int_not_equal(config_parse_size("1MX", &bytes), 0);
	assert_int_not_equal(config_parse_size("99999999999999999999", &bytes), 0);
	assert_int_not_equal(config_parse_size("17179869184T", &bytes), 0);
}

static void test_rejects_bad_memory(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "-m", "0", "x.elf"), CONFIG_ERROR);
	assert_non_null(strstr(err, "--memory"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "-m", "1T", "x.elf"), CONFIG_ERROR);
	assert_non_null(strstr(err, "outside"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "-m", "lots", "x.elf"), CONFIG_ERROR);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "-m", "3000001", "x.elf"), CONFIG_ERROR);
	assert_non_null(strstr(err, "4K"));
	config_free(&cfg);
}

static void test_rejects_bad_cpus(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "-c", "0", "x.elf"), CONFIG_ERROR);
	assert_non_null(strstr(err, "--cpus"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--cpus", "65", "x.elf"), CONFIG_ERROR);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--cpus", "1000", "x.elf"), CONFIG_ERROR);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--cpus", "64", "x.elf"), CONFIG_RUN);
	assert_int_equal(cfg.nr_cpus, 64);
	config_free(&cfg);
}

static void test_rejects_unknown_and_missing(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--bogus", "x.elf"), CONFIG_ERROR);
	assert_non_null(strstr(err, "--bogus"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--timeout"), CONFIG_ERROR);
	assert_non_null(strstr(err, "needs a value"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "-v"), CONFIG_ERROR);
	assert_non_null(strstr(err, "no image"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "a.elf", "b.elf"), CONFIG_ERROR);
	assert_non_null(strstr(err, "b.elf"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--serial", "tcp:1", "x.elf"), CONFIG_ERROR);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--serial", "file:", "x.elf"), CONFIG_ERROR);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--debug-exit", "odd", "x.elf"), CONFIG_ERROR);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--timeout", "0", "x.elf"), CONFIG_ERROR);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--timeout", "1s", "x.elf"), CONFIG_ERROR);
	config_free(&cfg);
}

static void test_help_and_version(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--help"), CONFIG_HELP);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "-h", "x.elf"), CONFIG_HELP);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--version"), CONFIG_VERSION);
	config_free(&cfg);
}

static void test_bios_without_image(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--bios", "rom.bin"), CONFIG_RUN);
	assert_null(cfg.image_path);
	assert_string_equal(cfg.bios_path, "rom.bin");
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--initrd", "rd", "--bios", "r"), CONFIG_ERROR);
	config_free(&cfg);
	/* The ROM is the whole boot: not with an IMAGE as well. */
	assert_int_equal(PARSE(&cfg, "--bios", "r", "x.elf"), CONFIG_ERROR);
	assert_non_null(strstr(err, "not both"));
	config_free(&cfg);
}

static void test_device_strings(void **state)
{
	struct vm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--device",
			       "vfio-user,socket=/tmp/a.sock,timeout-ms=250,wait=3,on-error=continue,posted-writes=off",
			       "--device", "vfio-user,socket=/tmp/b.sock",
			       "--device", "vfio-user,socket=/tmp/c.sock,on-error=reconnect,reconnect-timeout=7",
			       "--device", "vfio-user,socket=/tmp/d.sock,on-error=reconnect",
			       "x.elf"), CONFIG_RUN);
	assert_int_equal(cfg.nr_devices, 4);
	assert_int_equal(cfg.devices[2].on_error, DEVICE_ON_ERROR_RECONNECT);
	assert_int_equal(cfg.devices[2].reconnect_timeout, 7);
	assert_int_equal(cfg.devices[3].on_error, DEVICE_ON_ERROR_RECONNECT);
	assert_int_equal(cfg.devices[3].reconnect_timeout, 30);
	assert_string_equal(cfg.devices[0].socket_path, "/tmp/a.sock");
	assert_int_equal(cfg.devices[0].timeout_ms, 250);
	assert_int_equal(cfg.devices[0].wait_seconds, 3);
	assert_int_equal(cfg.devices[0].on_error, DEVICE_ON_ERROR_CONTINUE);
	assert_false(cfg.devices[0].posted_writes);
	assert_string_equal(cfg.devices[1].socket_path, "/tmp/b.sock");
	assert_int_equal(cfg.devices[1].timeout_ms, 5000);
	assert_int_equal(cfg.devices[1].on_error, DEVICE_ON_ERROR_STOP);
	assert_true(cfg.devices[1].posted_writes);
	config_free(&cfg);
}

static void test_device_rejects_malformed(void **state)
{
	static const char *bad[] = {
		"", "vfio-user", "virtio,socket=/x", "vfio-user,socket=",
		"vfio-user,socket", "vfio-user,socket=/x,timeout-ms=0",
		"vfio-user,socket=/x,timeout-ms=-5",
		"vfio-user,socket=/x,timeout-ms=abc",
		"vfio-user,socket=/x,on-error=maybe",
		"vfio-user,socket=/x,reconnect-timeout=5",
		"vfio-user,socket=/x,on-error=reconnect,reconnect-timeout=0",
		"vfio-user,socket=/x,on-error=reconnect,reconnect-timeout=x",
		"vfio-user,socket=/x,posted-writes=1",
		"vfio-user,socket=/x,posted-writes=",
		"vfio-user,socket=/x,colour=blue", "vfio-user,wait=3",
		"vfio-user,socket=/x,wait=99999999",
		"vfio-user,socket=/x,socket=/y", "vfio-user,,socket=/x",
		"vfio-user,socket=/x,", ",vfio-user,socket=/x",
		"vfio-user,socket=/x,wait=1,wait=2",
	};
	char long_path[300], spec[400];
	struct vm_config cfg;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(PARSE(&cfg, "--device", (char *)bad[i], "x.elf"),
				 CONFIG_ERROR);
		assert_non_null(strstr(err, "--device"));
		config_free(&cfg);
	}
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	snprintf(spec, sizeof(spec), "vfio-user,socket=%s", long_path);
	assert_int_equal(PARSE(&cfg, "--device", spec, "x.elf"), CONFIG_ERROR);
	assert_non_null(strstr(err, "longer than"));
	config_free(&cfg);
}

static void test_parse_twice_is_independent(void **state)
{
	struct vm_config cfg;

	(void)state;
	/* getopt keeps global state: a second parse must start afresh. */
	assert_int_equal(PARSE(&cfg, "-c", "2", "a.elf"), CONFIG_RUN);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "b.elf"), CONFIG_RUN);
	assert_int_equal(cfg.nr_cpus, 1);
	assert_string_equal(cfg.image_path, "b.elf");
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_rejects_bad_memory),
		cmocka_unit_test(test_rejects_bad_cpus),
		cmocka_unit_test(test_rejects_unknown_and_missing),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_bios_without_image),
		cmocka_unit_test(test_device_strings),
		cmocka_unit_test(test_device_rejects_malformed),
		cmocka_unit_test(test_parse_twice_is_independent),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
