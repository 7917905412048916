// SPDX-License-Identifier: MIT
#define LOG_PREFIX "phases"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/phase.h"

#define PHASE_MAX_RECORDS (1u << 17)

struct phase_rec {
	u16 id, cmd;
	u32 region;
	u64 t[4];
};

bool phase_enabled;
__thread struct phase_cur phase_cur;

static const char *phase_path;
/* opened at start: the sandbox allows no new files later (vmm/sandbox.c) */
static FILE *phase_file;
static struct phase_rec *recs;
static unsigned int nr_recs;	/* atomic */

u64 phase_now(void)
{
	return mono_ns();
}

void phase_start_from_env(void)
{
	const char *path = getenv("UVMM_PHASES");

	if (!path || !*path)
		return;
	/* Touched now, so recording never faults a page in. */
	recs = calloc(PHASE_MAX_RECORDS, sizeof(*recs));
	if (!recs) {
		log_warn("UVMM_PHASES: no memory for the records");
		return;
	}
	phase_file = fopen(path, "w");
	if (!phase_file) {
		log_warn("UVMM_PHASES: cannot write %s", path);
		free(recs);
		recs = NULL;
		return;
	}
	phase_path = path;
	phase_enabled = true;
}

void phase_record(u16 id, u16 cmd, u32 region, u64 t0, u64 t1, u64 t2,
		  u64 t3)
{
	unsigned int i = __atomic_fetch_add(&nr_recs, 1, __ATOMIC_RELAXED);

	if (i >= PHASE_MAX_RECORDS)
		return;
	recs[i] = (struct phase_rec){ id, cmd, region, { t0, t1, t2, t3 } };
}

void phase_finish(void)
{
	unsigned int i, n = __atomic_load_n(&nr_recs, __ATOMIC_RELAXED);
	FILE *f;

	if (!phase_enabled)
		return;
	phase_enabled = false;
	f = phase_file;
	phase_file = NULL;
	if (!f) {
		log_warn("UVMM_PHASES: cannot write %s", phase_path);
	} else {
		for (i = 0; i < n && i < PHASE_MAX_RECORDS; i++)
			fprintf(f, "%u %u %u %llu %llu %llu %llu\n", recs[i].id,
				recs[i].cmd, recs[i].region,
				(unsigned long long)recs[i].t[0],
				(unsigned long long)recs[i].t[1],
				(unsigned long long)recs[i].t[2],
				(unsigned long long)recs[i].t[3]);
		fclose(f);
	}
	free(recs);
	recs = NULL;
}
