/* SPDX-License-Identifier: MIT */
#ifndef UVMM_LOADER_H
#define UVMM_LOADER_H

#include "common/types.h"

struct vm;

/*
 * Reads a whole image file: a regular, non-empty file of at most max_size
 * bytes (a directory, a FIFO or a device is refused without blocking).
 */
int loader_read_file(const char *path, u64 max_size, u8 **data, size_t *size,
		     char *err, size_t err_len);
/* The same, with limit naming what max_size is in the too-big message. */
int loader_read_file_within(const char *path, u64 max_size, const char *limit,
			    u8 **data, size_t *size, char *err, size_t err_len);

/*
 * Detects the image type from its bytes, loads it into guest RAM (or, for
 * --bios, the ROM below 4 GiB) and describes the machine to it (memory
 * map, command line, tables), filling vm->boot. On error, err names the
 * problem (exit status 6).
 */
int loader_load(struct vm *vm, char *err, size_t err_len);

#endif
