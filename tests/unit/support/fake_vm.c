// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/support/fake_vm.h"

struct vm *fake_vm_create(struct vm_config *cfg, u64 mem_bytes)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_eventfd = vm->serial_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->memslot_lock, NULL);
	pthread_mutex_init(&vm->sleep_lock, NULL);
	pthread_cond_init(&vm->sleep_cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->mem.memfd = -1;
	if (mem_bytes && mem_create(&vm->mem, mem_bytes)) {
		fake_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

void fake_vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->mem.base)
		mem_destroy(&vm->mem);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_mutex_destroy(&vm->memslot_lock);
	pthread_cond_destroy(&vm->sleep_cond);
	pthread_mutex_destroy(&vm->sleep_lock);
	free(vm);
}

int fake_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1;	/* the directory's own fd */
}
