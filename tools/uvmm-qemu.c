// SPDX-License-Identifier: MIT
/*
 * uvmm-qemu: takes the QEMU command line a firmware test runner writes
 * (kvm-unit-tests' x86/run and run_tests.sh, among others) and runs it on
 * uvmm. Only the options such runners use are accepted; anything else is
 * one line on stderr and status 1, never a silent misrun. On success it
 * writes nothing to stderr: runners treat any line there as a failure.
 *
 * It checks and translates, then execs the uvmm installed next to it (or
 * $UVMM), so uvmm's exit status is the run's: odd statuses are the
 * guest's isa-debug-exit value, as on QEMU.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "uvmm-qemu"
#define MAX_CPUS 64
#define MAX_ARGS 64

struct qemu_cmd {
	const char *kernel;
	const char *initrd;
	const char *append;
	unsigned long cpus;
	char memory[32];	/* "256M"; empty for uvmm's default */
	bool pc_testdev;
	bool pci_testdev;
	bool serial_none;
};

static void usage(FILE *out)
{
	fprintf(out,
		"uvmm-qemu version %s: QEMU's command line on uvmm\n"
		"usage: uvmm-qemu [QEMU options] -kernel FILE\n"
		"Runs a Multiboot, PVH or bzImage kernel on uvmm, taking the subset of\n"
		"QEMU's (qemu-system-x86_64) options that firmware test runners such as\n"
		"kvm-unit-tests use:\n"
		"  -kernel FILE  -initrd FILE  -append STRING  -smp N  -m SIZE[M|G]\n"
		"  -machine [pc][,accel=kvm][,kernel_irqchip=on]  -accel kvm  -enable-kvm\n"
		"  -cpu host|max[,+FEATURE...]  -nodefaults  -display none  -nographic\n"
		"  -vga none  -serial stdio|none  -no-reboot  -device help\n"
		"  -device pc-testdev  -device isa-debug-exit,iobase=0xf4,iosize=0x4\n"
		"  -device pci-testdev  -global kvm-pit.lost_tick_policy=...\n"
		"Anything else is refused with status 1. The exit status is uvmm's:\n"
		"odd values come from the guest's write to port 0xf4, (V << 1) | 1,\n"
		"as with QEMU's isa-debug-exit.\n",
		UVMM_VERSION);
}

static void device_list(void)
{
	/* QEMU's format: runners grep for the quoted names. */
	printf("Devices uvmm-qemu supports (see uvmm --help):\n"
	       "name \"pc-testdev\", bus ISA, desc \"QEMU's PC test device\"\n"
	       "name \"isa-debug-exit\", bus ISA, desc \"exit status port, iobase 0xf4 iosize 4 only\"\n"
	       "name \"pci-testdev\", bus PCI, desc \"uvmm's built-in PCI test function\"\n");
}

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Splits "a,b=c" in place; each call returns the next item or NULL. */
static char *next_item(char **s)
{
	char *item = *s, *comma;

	if (!item || !*item)
		return NULL;
	comma = strchr(item, ',');
	if (comma) {
		*comma = '\0';
		*s = comma + 1;
	} else {
		*s = NULL;
	}
	return item;
}

static bool parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return s[0] >= '0' && s[0] <= '9' && !*end && !errno;
}

static int opt_smp(struct qemu_cmd *q, char *arg)
{
	unsigned long n = 0, max = 0;
	char *item;

	while ((item = next_item(&arg))) {
		if (!strncmp(item, "cpus=", 5)) {
			if (!parse_ulong(item + 5, &n))
				return fail("-smp: '%s' is not a number", item);
		} else if (!strncmp(item, "maxcpus=", 8)) {
			if (!parse_ulong(item + 8, &max))
				return fail("-smp: '%s' is not a number", item);
		} else if (parse_ulong(item, &n)) {
			continue;
		} else {
			return fail("-smp: '%s' is not supported (only N, cpus=N, maxcpus=N)",
				    item);
		}
	}
	if (max && max != n)
		return fail("-smp: CPU hotplug is not supported (maxcpus=%lu, cpus=%lu)",
			    max, n);
	/* QEMU's wording: kvm-unit-tests reads the limit from it. */
	if (n < 1 || n > MAX_CPUS)
		return fail("Invalid SMP CPUs %lu. The max CPUs supported by machine 'uvmm' is %d",
			    n, MAX_CPUS);
	q->cpus = n;
	return 0;
}

/* QEMU's -m: a number of MiB, or with a K/M/G/T suffix; "size=" allowed. */
static int opt_memory(struct qemu_cmd *q, char *arg)
{
	unsigned long long v;
	char *end;

	if (!strncmp(arg, "size=", 5))
		arg += 5;
	if (strchr(arg, ','))
		return fail("-m: '%s': only a size is supported", arg);
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || errno || v == 0 ||
	    (*end && (end[1] || !strchr("kKmMgGtT", *end))))
		return fail("-m: '%s' is not a size", arg);
	snprintf(q->memory, sizeof(q->memory), "%llu%c", v,
		 *end ? (*end | 0x20) - 'a' + 'A' : 'M');
	return 0;
}

static int opt_machine(char *arg)
{
	char *item;

	while ((item = next_item(&arg))) {
		if (!strcmp(item, "pc") || !strcmp(item, "type=pc") ||
		    !strcmp(item, "accel=kvm") ||
		    !strcmp(item, "kernel_irqchip=on") ||
		    !strcmp(item, "kernel-irqchip=on"))
			continue;
		return fail("-machine: '%s' is not supported (uvmm is a PC with KVM's in-kernel irqchip)",
			    item);
	}
	return 0;
}

static int opt_cpu(char *arg)
{
	char *model = next_item(&arg), *item;

	if (!model || (strcmp(model, "host") && strcmp(model, "max")))
		return fail("-cpu: model '%s' is not supported (host or max: the CPU KVM offers)",
			    model ? model : "");
	/* +FEATURE asks for no more than host/max already have. */
	while ((item = next_item(&arg))) {
		if (item[0] != '+')
			return fail("-cpu: '%s' is not supported (only +FEATURE on host or max)",
				    item);
	}
	return 0;
}

static int opt_device(struct qemu_cmd *q, char *arg)
{
	char *spec = arg, *name = next_item(&spec), *item;
	bool iobase = false, iosize = false;

	if (!name)
		return fail("-device: empty");
	if (!strcmp(name, "pc-testdev") && !spec) {
		q->pc_testdev = true;
		return 0;
	}
	if (!strcmp(name, "pci-testdev") && !spec) {
		q->pci_testdev = true;
		return 0;
	}
	if (!strcmp(name, "isa-debug-exit")) {
		/* uvmm has it built in, at 0xf4 with 4 ports: nothing else. */
		while ((item = next_item(&spec))) {
			if (!strcmp(item, "iobase=0xf4"))
				iobase = true;
			else if (!strcmp(item, "iosize=0x4") ||
				 !strcmp(item, "iosize=4"))
				iosize = true;
			else
				return fail("-device isa-debug-exit: '%s' is not supported (iobase=0xf4,iosize=0x4 only)",
					    item);
		}
		(void)iobase;
		(void)iosize;
		return 0;
	}
	return fail("-device '%s' is not supported (see -device help)", arg);
}

static int opt_global(const char *arg)
{
	/* Harmless: uvmm's in-kernel PIT has no lost-tick policy to set. */
	if (!strncmp(arg, "kvm-pit.lost_tick_policy=", 25))
		return 0;
	return fail("-global '%s' is not supported", arg);
}

/* Every option takes a value but these. */
static bool is_flag(const char *o)
{
	static const char *const flags[] = {
		"nodefaults", "no-reboot", "enable-kvm", "nographic", "S",
		"no-shutdown", "h", "help", "version",
	};
	unsigned int i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strcmp(o, flags[i]))
			return true;
	return false;
}

/* Returns 0 to run, 1 to exit 0 (help), -1 on error. */
static int parse(int argc, char **argv, struct qemu_cmd *q)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *o = argv[i], *v = NULL;
		int ret = 0;

		if (o[0] != '-')
			return fail("'%s': a kernel is given with -kernel", o);
		o += o[1] == '-' ? 2 : 1;
		if (!is_flag(o)) {
			if (i + 1 >= argc)
				return fail("-%s needs a value", o);
			v = argv[++i];
		}
		if (!strcmp(o, "h") || !strcmp(o, "help")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(o, "version")) {
			printf("uvmm-qemu version %s (uvmm with QEMU's options)\n",
			       UVMM_VERSION);
			return 1;
		} else if (!strcmp(o, "kernel")) {
			q->kernel = v;
		} else if (!strcmp(o, "initrd")) {
			q->initrd = v;
		} else if (!strcmp(o, "append")) {
			q->append = v;
		} else if (!strcmp(o, "smp")) {
			ret = opt_smp(q, v);
		} else if (!strcmp(o, "m")) {
			ret = opt_memory(q, v);
		} else if (!strcmp(o, "machine") || !strcmp(o, "M")) {
			ret = opt_machine(v);
		} else if (!strcmp(o, "accel")) {
			if (strcmp(v, "kvm"))
				ret = fail("-accel %s is not supported (kvm only)", v);
		} else if (!strcmp(o, "cpu")) {
			ret = opt_cpu(v);
		} else if (!strcmp(o, "device")) {
			if (!strcmp(v, "?") || !strcmp(v, "help")) {
				device_list();
				return 1;
			}
			ret = opt_device(q, v);
		} else if (!strcmp(o, "global")) {
			ret = opt_global(v);
		} else if (!strcmp(o, "display") || !strcmp(o, "vga")) {
			if (strcmp(v, "none"))
				ret = fail("-%s %s is not supported (none only)", o, v);
		} else if (!strcmp(o, "serial")) {
			if (!strcmp(v, "none"))
				q->serial_none = true;
			else if (strcmp(v, "stdio"))
				ret = fail("-serial %s is not supported (stdio or none)", v);
		} else if (!strcmp(o, "nodefaults") || !strcmp(o, "no-reboot") ||
			   !strcmp(o, "enable-kvm") || !strcmp(o, "nographic")) {
			/* uvmm's defaults already: no reboot, KVM, COM1 on stdio */
		} else {
			return fail("option -%s is not supported", o);
		}
		if (ret)
			return ret;
	}
	if (!q->kernel)
		return fail("no kernel: give one with -kernel FILE");
	return 0;
}

/* The uvmm binary: $UVMM, or the one in this program's directory. */
static int find_uvmm(char *path, size_t size)
{
	const char *env = getenv("UVMM");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(path, size, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return fail("cannot find this program's directory: %s",
			    strerror(errno));
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash || (size_t)(slash - self) + sizeof("/uvmm") > size)
		return fail("cannot find uvmm next to %s", self);
	memcpy(path, self, slash - self);
	strcpy(path + (slash - self), "/uvmm");
	return 0;
}

int main(int argc, char **argv)
{
	struct qemu_cmd q = { .cpus = 1 };
	char uvmm[PATH_MAX], cpus[16];
	char *args[MAX_ARGS];
	int n = 0, ret;

	ret = parse(argc, argv, &q);
	if (ret)
		return ret > 0 ? 0 : 1;
	/* QEMU's wording: runners probe with a missing kernel and read it. */
	if (access(q.kernel, R_OK)) {
		fail("could not load kernel '%s': %s", q.kernel, strerror(errno));
		return 1;
	}
	if (q.initrd && access(q.initrd, R_OK)) {
		fail("could not load initrd '%s': %s", q.initrd, strerror(errno));
		return 1;
	}
	if (find_uvmm(uvmm, sizeof(uvmm)))
		return 1;

	args[n++] = uvmm;
	snprintf(cpus, sizeof(cpus), "%lu", q.cpus);
	args[n++] = "--cpus";
	args[n++] = cpus;
	if (q.memory[0]) {
		args[n++] = "--memory";
		args[n++] = q.memory;
	}
	if (q.initrd) {
		args[n++] = "--initrd";
		args[n++] = (char *)q.initrd;
	}
	if (q.append) {
		args[n++] = "--cmdline";
		args[n++] = (char *)q.append;
	}
	if (q.pc_testdev) {
		args[n++] = "--device";
		args[n++] = "pc-testdev";
	}
	if (q.pci_testdev) {
		args[n++] = "--device";
		args[n++] = "pci-testdev";
	}
	if (q.serial_none) {
		args[n++] = "--serial";
		args[n++] = "none";
	}
	args[n++] = "--";
	args[n++] = (char *)q.kernel;
	args[n] = NULL;
	execv(uvmm, args);
	fail("cannot run %s: %s", uvmm, strerror(errno));
	return 1;
}
