/* SPDX-License-Identifier: MIT */
#ifndef UVMM_I8042_H
#define UVMM_I8042_H

#include "abi/machine.h"

struct dev_services;
struct i8042;


int i8042_create(const struct dev_services *svc, struct i8042 **out);
void i8042_destroy(struct i8042 *dev);

#endif
