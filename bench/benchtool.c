// SPDX-License-Identifier: MIT
/*
 * benchtool: the small host-side measurements of `make bench`
 * (bench/measure.sh), each printing what it measured on stdout.
 *
 *   benchtool exec [-s STATUS] [-o FILE] -- CMD [ARGS...]
 *	Runs CMD once (stdin /dev/null, stdout and stderr to FILE, default
 *	/dev/null) and prints the nanoseconds from just before fork() to
 *	its exit. Status 0 when CMD exited with STATUS (default 0), else 1
 *	with a line on stderr.
 *   benchtool memcpy MIB RUNS
 *	The host's limit for a DMA copy: memcpy() of MIB MiB between two
 *	buffers touched beforehand, RUNS times; prints
 *	"BENCH memcpy ns 1 <ns> ...".
 *   benchtool tsc-khz
 *	The TSC rate KVM gives a vCPU (KVM_GET_TSC_KHZ), which the guest
 *	programs' rdtsc ticks count at.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "common/clock.h"
#include "common/types.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: benchtool exec [-s STATUS] [-o FILE] -- CMD [ARGS...]\n"
		"       benchtool memcpy MIB RUNS\n"
		"       benchtool tsc-khz\n");
	return 2;
}

static int cmd_exec(int argc, char **argv)
{
	const char *out = "/dev/null";
	int want = 0, opt, status, fd;
	u64 start, end;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+s:o:")) != -1) {
		switch (opt) {
		case 's':
			want = atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	/* Opened here, not in the child: the timed part is fork to exit. */
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "benchtool: %s: %s\n", out, strerror(errno));
		return 1;
	}
	start = mono_ns();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "benchtool: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);

		if (in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(126);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "benchtool: waitpid: %s\n",
				strerror(errno));
			return 1;
		}
	}
	end = mono_ns();
	close(fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != want) {
		fprintf(stderr, "benchtool: %s: %s %d, expected status %d\n",
			argv[optind],
			WIFEXITED(status) ? "status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) :
					    WTERMSIG(status), want);
		return 1;
	}
	printf("%llu\n", (unsigned long long)(end - start));
	return 0;
}

static int cmd_memcpy(int argc, char **argv)
{
	u64 size, t;
	int runs, i;
	char *a, *b;

	if (argc != 3)
		return usage();
	size = strtoull(argv[1], NULL, 0) << 20;
	runs = atoi(argv[2]);
	if (!size || runs < 1)
		return usage();
	a = malloc(size);
	b = malloc(size);
	if (!a || !b) {
		fprintf(stderr, "benchtool: no memory for 2 x %llu MiB\n",
			(unsigned long long)(size >> 20));
		return 1;
	}
	/* Faulted in first, as guest RAM is by the time a device copies. */
	memset(a, 0x5a, size);
	memset(b, 0xa5, size);
	printf("BENCH memcpy ns 1");
	for (i = 0; i < runs; i++) {
		t = mono_ns();
		memcpy(b, a, size);
		/* Keep the copy: the compiler may not drop it. */
		asm volatile("" : : "r"(b) : "memory");
		printf(" %llu", (unsigned long long)(mono_ns() - t));
	}
	printf("\n");
	free(a);
	free(b);
	return 0;
}

static int cmd_tsc_khz(void)
{
	int kvm, vm, vcpu, khz;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "benchtool: /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	vcpu = vm < 0 ? -1 : ioctl(vm, KVM_CREATE_VCPU, 0);
	khz = vcpu < 0 ? -1 : ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0) {
		fprintf(stderr, "benchtool: KVM_GET_TSC_KHZ: %s\n",
			strerror(errno));
		return 1;
	}
	printf("%d\n", khz);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "exec"))
		return cmd_exec(argc - 1, argv + 1);
	if (!strcmp(argv[1], "memcpy"))
		return cmd_memcpy(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tsc-khz") && argc == 2)
		return cmd_tsc_khz();
	return usage();
}
