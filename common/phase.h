/* SPDX-License-Identifier: MIT */
#ifndef UVMM_COMMON_PHASE_H
#define UVMM_COMMON_PHASE_H

/*
 * Per-phase timestamps of vfio-user messages, for `make bench`: with
 * UVMM_PHASES=FILE, uvmm records for each request a vCPU made: the vCPU's
 * exit, the send of the request, the reply received, its re-entry; a
 * server (sampledev) records when it had each request and when it replied.
 * CLOCK_MONOTONIC is one clock for both processes, so bench/measure.sh
 * joins the two files on the message id. Off (one predictable branch)
 * without the variable; FILE is written at exit, one line a message:
 *   id cmd region t0 t1 t2 t3   (ns; uvmm: exit, send called, reply,
 *                                entry;
 *                                server: 0 rx tx 0)
 */

#include "common/types.h"

struct phase_cur {
	bool set;
	u16 id, cmd;
	u32 region;
	u64 exit, sent, reply;
};

extern bool phase_enabled;
/* The vCPU thread's request in flight (set by the client on that thread). */
extern __thread struct phase_cur phase_cur;

u64 phase_now(void);
/* UVMM_PHASES names the file: start recording. */
void phase_start_from_env(void);
void phase_record(u16 id, u16 cmd, u32 region, u64 t0, u64 t1, u64 t2,
		  u64 t3);
/* Write the file (at exit). */
void phase_finish(void);

#endif
