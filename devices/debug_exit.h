/* SPDX-License-Identifier: MIT */
#ifndef UVMM_DEBUG_EXIT_H
#define UVMM_DEBUG_EXIT_H

#include "abi/machine.h"

#include "common/types.h"
#include "vmm/config.h"

struct dev_services;
struct debug_exit;


/* The exit status a guest's write of value means under mode. */
int debug_exit_status(enum debug_exit_mode mode, u32 value);

int debug_exit_create(const struct dev_services *svc, enum debug_exit_mode mode,
		      struct debug_exit **out);
void debug_exit_destroy(struct debug_exit *dev);

#endif
