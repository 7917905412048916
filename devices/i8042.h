/* SPDX-License-Identifier: MIT */
#ifndef UVMM_I8042_H
#define UVMM_I8042_H

#include "abi/machine.h"

struct vm;
struct i8042;


int i8042_create(struct vm *vm, struct i8042 **out);
void i8042_destroy(struct i8042 *dev);

#endif
