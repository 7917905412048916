// SPDX-License-Identifier: MIT
/*
 * Per-vCPU CPUID (vcpu_cpuid_for) on a table shaped like what
 * KVM_GET_SUPPORTED_CPUID returns: every place a guest reads its APIC ID
 * or the topology from must agree with the vCPU's APIC ID and the vCPU
 * count, on Intel-style and AMD-style leaves alike.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/vcpu.h"

#define MAX_ENTRIES 32

static struct kvm_cpuid2 *supported_table(void)
{
	struct kvm_cpuid2 *t = calloc(1, sizeof(*t) +
				      MAX_ENTRIES * sizeof(t->entries[0]));
	unsigned int n = 0, i;

#define ADD(fn, idx, flg, a, b, c, d)                                        \
	t->entries[n++] = (struct kvm_cpuid_entry2) {                        \
		.function = (fn), .index = (idx), .flags = (flg),            \
		.eax = (a), .ebx = (b), .ecx = (c), .edx = (d),              \
	}
	assert_non_null(t);
	ADD(0, 0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69);
	/* As KVM reports it: APIC ID 0, count 0, CLFLUSH size 8 in ebx[15:8]. */
	ADD(1, 0, 0, 0x000806f8, 0x00000800, 0x7ffafbff, 0x0f8bfbff);
	/* Four caches and the terminating null subleaf; host topology bits set. */
	for (i = 0; i < 4; i++)
		ADD(4, i, KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		    0xfc004121 + (i == 3 ? 0x42 : 0) + (i == 1 ? 1 : 0),
		    0x01c0003f, 0x3f, 0);
	ADD(4, 4, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 0, 0);
	for (i = 0; i < 3; i++) {
		ADD(0xb, i, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 1, 2, 0x100 | i, 7);
		ADD(0x1f, i, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 1, 2, 0x100 | i, 7);
	}
	ADD(0x80000000, 0, 0, 0x80000021, 0, 0, 0);
	ADD(0x80000001, 0, 0, 0, 0, 0x00400001 | (1u << 22), 0x2c100800);
	ADD(0x80000008, 0, 0, 0x3030, 0, 0x0000f00f, 0);
	ADD(0x8000001e, 0, 0, 0, 0, 0, 0);
#undef ADD
	t->nent = n;
	return t;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *t,
					   u32 function, u32 index)
{
	unsigned int i;

	for (i = 0; i < t->nent; i++)
		if (t->entries[i].function == function &&
		    t->entries[i].index == index)
			return &t->entries[i];
	fail_msg("no leaf %#x.%u", function, index);
	return NULL;
}

static void check_vcpu(const struct kvm_cpuid2 *supported, unsigned int apic_id,
		       unsigned int nr_cpus)
{
	struct kvm_cpuid2 *c = vcpu_cpuid_for(supported, apic_id, nr_cpus);
	const struct kvm_cpuid_entry2 *e, *orig;
	unsigned int i, shift;

	assert_non_null(c);
	assert_int_equal(c->nent, supported->nent);

	/* Leaf 1: initial APIC ID, logical processor count, HTT, hypervisor. */
	e = find(c, 1, 0);
	orig = find(supported, 1, 0);
	assert_int_equal(e->ebx >> 24, apic_id);
	assert_true(((e->ebx >> 16) & 0xff) >= nr_cpus);
	assert_int_equal(e->ebx & 0xffff, orig->ebx & 0xffff);
	assert_int_equal(!!(e->edx & (1u << 28)), nr_cpus > 1);
	assert_true(e->ecx & (1u << 31));
	assert_int_equal(e->eax, orig->eax);

	/* Leaves 0xb and 0x1f: SMT level of 1 thread, core level of nr_cpus. */
	for (i = 0; i < 3; i++) {
		e = find(c, 0xb, i);
		assert_int_equal(e->edx, apic_id);
		/* 0x1f says the same as 0xb (its function number aside). */
		assert_memory_equal(&e->eax, &find(c, 0x1f, i)->eax, 16);
	}
	e = find(c, 0xb, 0);
	assert_int_equal((e->ecx >> 8) & 0xff, 1);	/* SMT */
	assert_int_equal(e->ecx & 0xff, 0);
	assert_int_equal(e->eax & 0x1f, 0);
	assert_int_equal(e->ebx & 0xffff, 1);
	e = find(c, 0xb, 1);
	assert_int_equal((e->ecx >> 8) & 0xff, 2);	/* core */
	assert_int_equal(e->ecx & 0xff, 1);
	shift = e->eax & 0x1f;
	assert_true((1u << shift) >= nr_cpus);
	assert_true(shift == 0 || (1u << (shift - 1)) < nr_cpus);
	assert_int_equal(e->ebx & 0xffff, nr_cpus);
	/* The package ID the guest derives is the same on every vCPU. */
	assert_int_equal(apic_id >> shift, 0);
	e = find(c, 0xb, 2);
	assert_int_equal((e->ecx >> 8) & 0xff, 0);	/* invalid: the end */
	assert_int_equal(e->ebx & 0xffff, 0);

	/* Leaf 4: cores per package, one thread per cache; the null leaf untouched. */
	for (i = 0; i < 4; i++) {
		e = find(c, 4, i);
		orig = find(supported, 4, i);
		assert_int_equal((e->eax >> 26) + 1, nr_cpus);
		assert_int_equal((e->eax >> 14) & 0xfff, 0);
		assert_int_equal(e->eax & 0x3fff, orig->eax & 0x3fff);
		assert_int_equal(e->ebx, orig->ebx);
	}
	e = find(c, 4, 4);
	assert_int_equal(e->eax | e->ebx | e->ecx | e->edx, 0);

	/* AMD 0x80000008: NC = nr_cpus - 1, ApicIdCoreIdSize covers it. */
	e = find(c, 0x80000008, 0);
	assert_int_equal((e->ecx & 0xff) + 1, nr_cpus);
	shift = (e->ecx >> 12) & 0xf;
	assert_true((1u << shift) >= nr_cpus);
	assert_int_equal(e->eax, find(supported, 0x80000008, 0)->eax);

	/* AMD 0x8000001e: extended APIC ID, one thread per core, node 0. */
	e = find(c, 0x8000001e, 0);
	assert_int_equal(e->eax, apic_id);
	assert_int_equal(e->ebx & 0xff, apic_id);
	assert_int_equal((e->ebx >> 8) & 0xff, 0);
	assert_int_equal(e->ecx & 0xff, 0);
	assert_int_equal((e->ecx >> 8) & 7, 0);

	/* Leaves without topology are copied as they are. */
	assert_memory_equal(find(c, 0, 0), find(supported, 0, 0), sizeof(*e));
	assert_memory_equal(find(c, 0x80000001, 0), find(supported, 0x80000001, 0),
			    sizeof(*e));
	free(c);
}

static void test_one_vcpu(void **state)
{
	struct kvm_cpuid2 *t = supported_table();

	(void)state;
	check_vcpu(t, 0, 1);
	free(t);
}

static void test_every_vcpu_of_many(void **state)
{
	static const unsigned int counts[] = { 2, 3, 4, 5, 8, 17, 64 };
	struct kvm_cpuid2 *t = supported_table(), *copy;
	size_t size = sizeof(*t) + t->nent * sizeof(t->entries[0]);
	unsigned int i, id;

	(void)state;
	copy = malloc(size);
	memcpy(copy, t, size);
	for (i = 0; i < ARRAY_SIZE(counts); i++)
		for (id = 0; id < counts[i]; id++)
			check_vcpu(t, id, counts[i]);
	/* The supported table itself is never modified. */
	assert_memory_equal(t, copy, size);
	free(copy);
	free(t);
}

static void test_apic_ids_are_unique(void **state)
{
	struct kvm_cpuid2 *t = supported_table(), *c;
	unsigned int seen[64] = { 0 }, id;

	(void)state;
	for (id = 0; id < 64; id++) {
		c = vcpu_cpuid_for(t, id, 64);
		seen[find(c, 1, 0)->ebx >> 24]++;
		assert_int_equal(find(c, 0xb, 0)->edx, find(c, 1, 0)->ebx >> 24);
		assert_int_equal(find(c, 0x8000001e, 0)->eax, find(c, 1, 0)->ebx >> 24);
		free(c);
	}
	for (id = 0; id < 64; id++)
		assert_int_equal(seen[id], 1);
	free(t);
}

/* KVM under nested SVM reported leaf 0xb with subleaf 0 only. */
static void test_missing_topology_subleaves_added(void **state)
{
	struct kvm_cpuid2 *t = supported_table(), *c;
	unsigned int i, n = 0, id;

	(void)state;
	for (i = 0; i < t->nent; i++)
		if (!((t->entries[i].function == 0xb ||
		       t->entries[i].function == 0x1f) && t->entries[i].index > 0))
			t->entries[n++] = t->entries[i];
	t->nent = n;
	for (id = 0; id < 4; id++) {
		c = vcpu_cpuid_for(t, id, 4);
		assert_int_equal(c->nent, n + 4);
		assert_int_equal(find(c, 0xb, 1)->ebx & 0xffff, 4);
		assert_int_equal((find(c, 0xb, 1)->ecx >> 8) & 0xff, 2);
		assert_int_equal(find(c, 0xb, 1)->edx, id);
		assert_int_equal((find(c, 0xb, 2)->ecx >> 8) & 0xff, 0);
		assert_int_equal(find(c, 0x1f, 1)->ebx & 0xffff, 4);
		assert_true(find(c, 0x1f, 2)->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
		free(c);
	}
	free(t);
}

/* No topology leaf at all (an AMD host): none is invented. */
static void test_no_topology_leaf_stays_absent(void **state)
{
	struct kvm_cpuid2 *t = supported_table(), *c;
	unsigned int i, n = 0;

	(void)state;
	for (i = 0; i < t->nent; i++)
		if (t->entries[i].function != 0xb && t->entries[i].function != 0x1f)
			t->entries[n++] = t->entries[i];
	t->nent = n;
	c = vcpu_cpuid_for(t, 1, 2);
	assert_int_equal(c->nent, n);
	for (i = 0; i < c->nent; i++)
		assert_int_not_equal(c->entries[i].function, 0xb);
	free(c);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_vcpu),
		cmocka_unit_test(test_every_vcpu_of_many),
		cmocka_unit_test(test_apic_ids_are_unique),
		cmocka_unit_test(test_missing_topology_subleaves_added),
		cmocka_unit_test(test_no_topology_leaf_stays_absent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
