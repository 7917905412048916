/* SPDX-License-Identifier: MIT */
#ifndef UVMM_UART16550_H
#define UVMM_UART16550_H

#include "abi/machine.h"

#include "common/types.h"

struct dev_services;
struct uart;


/*
 * A 16550A. Output goes to out_fd (not owned; -1 drops it). When in_fd is
 * a terminal, it is put in raw mode and read by a thread of the UART's
 * own; Ctrl-A x asks the VM to stop. in_fd is not owned either.
 */
int uart_create(const struct dev_services *svc, u16 base, unsigned int irq, int out_fd,
		int in_fd, struct uart **out);
int uart_start_input(struct uart *uart);
void uart_destroy(struct uart *uart);

#endif
