/* SPDX-License-Identifier: MIT */
#ifndef UVMM_TESTS_FUZZ_H
#define UVMM_TESTS_FUZZ_H

/*
 * Helpers shared by the libFuzzer targets in tests/fuzz/. Each target is
 * one fuzz_NAME.c with LLVMFuzzerTestOneInput; `make fuzz` builds them
 * with ASan, UBSan and coverage, tests/fuzz/run-fuzz.sh runs them.
 *
 * A target checks more than "does not crash": where the code under test
 * promises something about what it accepted (a count below a limit, a
 * range inside a region), FUZZ_CHECK aborts when the promise is broken,
 * so the fuzzer reports it like a memory error.
 */

#include <sanitizer/common_interface_defs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/types.h"
#include "vmm/memory.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * The message goes where sanitizer reports go: libFuzzer's copy of stderr,
 * which stays open when the runner closes the target's own stderr
 * (-close_fd_mask=2, to keep uvmm's log lines out of the way).
 */
#define FUZZ_CHECK(cond)                                                 \
	do {                                                             \
		if (!(cond)) {                                           \
			__sanitizer_report_error_summary(                \
				__FILE__ ":" FUZZ_STR(__LINE__)          \
				": FUZZ_CHECK failed: " #cond);          \
			abort();                                         \
		}                                                        \
	} while (0)
#define FUZZ_STR(x) FUZZ_STR_(x)
#define FUZZ_STR_(x) #x

/* A cursor over the input: takes little-endian integers, 0 when dry. */
struct fuzz_in {
	const u8 *p;
	size_t len;
};

static inline u64 fuzz_take(struct fuzz_in *in, unsigned int bytes)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->len; i++, in->p++, in->len--)
		v |= (u64)in->p[0] << (8 * i);
	return v;
}

/*
 * The rest of the input in a buffer of its own, so ASan sees a read one
 * byte past its end (libFuzzer's buffer would hide it if it were larger).
 * Never NULL for len 0. Free with free().
 */
static inline u8 *fuzz_dup(const u8 *p, size_t len)
{
	u8 *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	if (len)
		memcpy(copy, p, len);
	return copy;
}

/*
 * Guest RAM for the loaders without a memfd: each region a heap block of
 * its own, so ASan traps a write past the end of either. Low RAM at 0
 * and, if high_size, a second region at 4 GiB, as mem_layout() makes.
 */
static inline void fuzz_mem_init(struct guest_memory *mem, u64 low_size,
				 u64 high_size)
{
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->regions[0] = (struct mem_region){
		.gpa = 0, .size = low_size, .fd_offset = 0,
		.hva = calloc(1, low_size),
	};
	mem->nr_regions = 1;
	if (high_size) {
		mem->regions[1] = (struct mem_region){
			.gpa = MEM_HIGH_RAM_BASE, .size = high_size,
			.fd_offset = low_size, .hva = calloc(1, high_size),
		};
		mem->nr_regions = 2;
	}
	if (!mem->regions[0].hva || (high_size && !mem->regions[1].hva))
		abort();
	mem->base = mem->regions[0].hva;
	mem->size = low_size + high_size;
}

#endif
