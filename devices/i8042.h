/* SPDX-License-Identifier: MIT */
#ifndef UVMM_I8042_H
#define UVMM_I8042_H

struct vm;
struct i8042;

#define I8042_DATA_PORT 0x60
#define I8042_COMMAND_PORT 0x64

int i8042_create(struct vm *vm, struct i8042 **out);
void i8042_destroy(struct i8042 *dev);

#endif
