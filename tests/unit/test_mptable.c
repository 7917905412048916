// SPDX-License-Identifier: MIT
/*
 * The MP table, parsed back the way an OS reads it and checked against the
 * MultiProcessor Specification 1.4: the floating pointer and where it may
 * be, both checksums, the entry sizes and their order, one enabled
 * processor per vCPU with one BSP, unique APIC IDs, buses, the IOAPIC and
 * every interrupt entry pointing at things that exist.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/e820.h"
#include "abi/machine.h"
#include "vmm/mptable.h"
#include "vmm/pci_irq.h"

#define BASE 0xf0000U
#define BUF_SIZE 0x10000

struct parsed {
	const struct mpf_intel *mpf;
	const struct mpc_table *mpc;
	unsigned int nr_cpus, nr_buses, nr_ioapics, nr_intsrc, nr_lint;
	struct mpc_cpu cpus[MPTABLE_MAX_CPUS];
	struct mpc_bus buses[8];
	struct mpc_ioapic ioapic;
	struct mpc_intsrc intsrc[256];
	struct mpc_intsrc lint[8];
};

static u8 sum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 s = 0;

	while (len--)
		s += *b++;
	return s;
}

static size_t entry_size(u8 type)
{
	switch (type) {
	case MP_PROCESSOR:
		return 20;
	case MP_BUS:
	case MP_IOAPIC:
	case MP_INTSRC:
	case MP_LINTSRC:
		return 8;
	default:
		return 0;
	}
}

/* buf holds what sits at guest-physical BASE. */
static void parse(const u8 *buf, size_t len, struct parsed *p)
{
	const u8 *entry, *end;
	unsigned int count = 0;
	int last_type = -1;
	size_t off;

	memset(p, 0, sizeof(*p));
	/* The pointer: on a 16-byte boundary in the BIOS area. */
	for (off = 0; off + 16 <= len; off += 16)
		if (!memcmp(buf + off, "_MP_", 4))
			break;
	assert_true(off + 16 <= len);
	assert_true(BASE + off >= 0xf0000 && BASE + off + 16 <= 0x100000);
	p->mpf = (const struct mpf_intel *)(buf + off);
	assert_int_equal(p->mpf->length, 1);
	assert_int_equal(sum(p->mpf, 16), 0);
	assert_true(p->mpf->specification == 1 || p->mpf->specification == 4);
	assert_int_equal(p->mpf->feature1, 0);		/* table present */
	assert_true(p->mpf->physptr >= BASE && p->mpf->physptr < BASE + len);

	p->mpc = (const struct mpc_table *)(buf + (p->mpf->physptr - BASE));
	assert_memory_equal(p->mpc->signature, "PCMP", 4);
	assert_true(p->mpf->physptr - BASE + p->mpc->length <= len);
	assert_int_equal(sum(p->mpc, p->mpc->length), 0);
	assert_int_equal(p->mpc->spec, p->mpf->specification);
	assert_int_equal(p->mpc->lapic, 0xfee00000);
	assert_int_equal(p->mpc->ext_length, 0);

	entry = (const u8 *)p->mpc + sizeof(*p->mpc);
	end = (const u8 *)p->mpc + p->mpc->length;
	while (entry < end) {
		size_t size = entry_size(entry[0]);

		assert_int_not_equal(size, 0);
		assert_true(entry + size <= end);
		/* Entries come grouped by type, in ascending type order. */
		assert_true(entry[0] >= last_type);
		last_type = entry[0];
		switch (entry[0]) {
		case MP_PROCESSOR:
			memcpy(&p->cpus[p->nr_cpus++], entry, size);
			break;
		case MP_BUS:
			memcpy(&p->buses[p->nr_buses++], entry, size);
			break;
		case MP_IOAPIC:
			memcpy(&p->ioapic, entry, size);
			p->nr_ioapics++;
			break;
		case MP_INTSRC:
			memcpy(&p->intsrc[p->nr_intsrc++], entry, size);
			break;
		case MP_LINTSRC:
			memcpy(&p->lint[p->nr_lint++], entry, size);
			break;
		}
		entry += size;
		count++;
	}
	assert_ptr_equal(entry, end);
	assert_int_equal(count, p->mpc->oemcount);
}

static int bus_id(const struct parsed *p, const char *type)
{
	unsigned int i;

	for (i = 0; i < p->nr_buses; i++)
		if (!memcmp(p->buses[i].bustype, type, 6))
			return p->buses[i].busid;
	return -1;
}

static bool bus_exists(const struct parsed *p, u8 id)
{
	unsigned int i;

	for (i = 0; i < p->nr_buses; i++)
		if (p->buses[i].busid == id)
			return true;
	return false;
}

static void check_rules(const struct parsed *p, unsigned int nr_cpus)
{
	unsigned int i, j, bsps = 0;

	assert_int_equal(p->nr_cpus, nr_cpus);
	for (i = 0; i < p->nr_cpus; i++) {
		assert_true(p->cpus[i].cpuflag & MP_CPU_ENABLED);
		if (p->cpus[i].cpuflag & MP_CPU_BSP) {
			bsps++;
			assert_int_equal(p->cpus[i].apicid, 0);	/* vCPU 0 boots */
		}
		assert_int_equal(p->cpus[i].apicid, i);	/* vCPU i's APIC ID */
		assert_int_equal(p->cpus[i].apicver, 0x14);
		for (j = 0; j < i; j++)
			assert_int_not_equal(p->cpus[i].apicid, p->cpus[j].apicid);
	}
	assert_int_equal(bsps, 1);

	assert_int_equal(p->nr_buses, 2);
	assert_int_not_equal(bus_id(p, "PCI   "), -1);
	assert_int_not_equal(bus_id(p, "ISA   "), -1);
	assert_int_not_equal(p->buses[0].busid, p->buses[1].busid);

	assert_int_equal(p->nr_ioapics, 1);
	assert_int_equal(p->ioapic.apicaddr, 0xfec00000);
	assert_true(p->ioapic.flags & 1);
	for (i = 0; i < p->nr_cpus; i++)
		assert_int_not_equal(p->ioapic.apicid, p->cpus[i].apicid);

	for (i = 0; i < p->nr_intsrc; i++) {
		const struct mpc_intsrc *s = &p->intsrc[i];

		assert_true(bus_exists(p, s->srcbus));
		assert_int_equal(s->dstapic, p->ioapic.apicid);
		assert_true(s->dstirq < MPTABLE_IOAPIC_PINS);
		/*
		 * An edge-triggered ISA pin is never shared (PCI lines, level
		 * and active low, may share a pin with each other).
		 */
		for (j = 0; j < i; j++)
			if (s->srcbus == bus_id(p, "ISA   ") ||
			    p->intsrc[j].srcbus == bus_id(p, "ISA   "))
				assert_int_not_equal(s->dstirq, p->intsrc[j].dstirq);
	}
	/* ExtINT on LINT0 and NMI on LINT1 of every CPU. */
	assert_int_equal(p->nr_lint, 2);
	assert_int_equal(p->lint[0].irqtype, MP_EXTINT);
	assert_int_equal(p->lint[0].dstapic, 0xff);
	assert_int_equal(p->lint[0].dstirq, 0);
	assert_int_equal(p->lint[1].irqtype, MP_NMI);
	assert_int_equal(p->lint[1].dstapic, 0xff);
	assert_int_equal(p->lint[1].dstirq, 1);
}

/* ISA IRQ irq reaches the pin KVM's default routing wires it to. */
static void check_isa(const struct parsed *p)
{
	int isa = bus_id(p, "ISA   ");
	unsigned int irq, i, found;

	for (irq = 0; irq < 16; irq++) {
		found = 0;
		for (i = 0; i < p->nr_intsrc; i++) {
			const struct mpc_intsrc *s = &p->intsrc[i];

			if (s->srcbus != isa || s->srcbusirq != irq)
				continue;
			found++;
			assert_int_equal(s->irqtype, MP_INT);
			assert_int_equal(s->dstirq, irq);
			assert_int_equal(s->irqflag, 0);	/* ISA: edge, high */
		}
		assert_int_equal(found, irq == 2 ? 0 : 1);	/* 2: cascade */
	}
}

static void test_one_cpu(void **state)
{
	u8 *buf = calloc(1, BUF_SIZE);
	struct parsed *p = malloc(sizeof(*p));
	int len;

	(void)state;
	len = mptable_build(buf, BUF_SIZE, BASE, 1, NULL, 0);
	assert_true(len > 0);
	parse(buf, len, p);
	check_rules(p, 1);
	check_isa(p);
	assert_int_equal(p->ioapic.apicid, 1);
	free(p);
	free(buf);
}

static void test_cpu_counts(void **state)
{
	static const unsigned int counts[] = { 2, 3, 4, 8, 63, 64 };
	u8 *buf = calloc(1, BUF_SIZE);
	struct parsed *p = malloc(sizeof(*p));
	unsigned int i;
	int len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		memset(buf, 0xcc, BUF_SIZE);
		len = mptable_build(buf, BUF_SIZE, BASE, counts[i], NULL, 0);
		assert_true(len > 0);
		parse(buf, len, p);
		check_rules(p, counts[i]);
		check_isa(p);
	}
	free(p);
	free(buf);
}

static void test_pci_intx_routing(void **state)
{
	struct mptable_intx intx[8];
	u8 *buf = calloc(1, BUF_SIZE);
	struct parsed *p = malloc(sizeof(*p));
	unsigned int i, j, found;
	int len, pci;

	(void)state;
	/*
	 * Slots 1-6 pin A, slot 9 pin A (shares slot 1's GSI) and slot 3
	 * pin D, routed as vmm/pci_irq.h says.
	 */
	for (i = 0; i < 6; i++)
		intx[i] = (struct mptable_intx) { .slot = i + 1, .pin = 1 };
	intx[6] = (struct mptable_intx) { .slot = 9, .pin = 1 };
	intx[7] = (struct mptable_intx) { .slot = 3, .pin = 4 };
	for (i = 0; i < 8; i++)
		intx[i].gsi = pci_intx_gsi(intx[i].slot, intx[i].pin);
	assert_int_equal(intx[6].gsi, intx[0].gsi);
	len = mptable_build(buf, BUF_SIZE, BASE, 2, intx, 8);
	assert_true(len > 0);
	parse(buf, len, p);
	check_rules(p, 2);
	check_isa(p);
	pci = bus_id(p, "PCI   ");
	for (i = 0; i < 8; i++) {
		found = 0;
		for (j = 0; j < p->nr_intsrc; j++) {
			const struct mpc_intsrc *s = &p->intsrc[j];

			if (s->srcbus != pci)
				continue;
			if (s->srcbusirq != ((intx[i].slot << 2) | (intx[i].pin - 1)))
				continue;
			found++;
			assert_int_equal(s->dstirq, intx[i].gsi);
			assert_int_equal(s->irqflag & 3, 3);		/* active low */
			assert_int_equal((s->irqflag >> 2) & 3, 3);	/* level */
		}
		assert_int_equal(found, 1);
	}
	free(p);
	free(buf);
}

static void test_rejects_bad_input(void **state)
{
	struct mptable_intx bad[] = {
		{ .slot = 32, .pin = 1, .gsi = 16 },
		{ .slot = 1, .pin = 0, .gsi = 16 },
		{ .slot = 1, .pin = 5, .gsi = 16 },
		{ .slot = 1, .pin = 1, .gsi = 24 },
	};
	u8 *buf = calloc(1, BUF_SIZE);
	unsigned int i;

	(void)state;
	assert_int_equal(mptable_build(buf, BUF_SIZE, BASE, 0, NULL, 0), -EINVAL);
	assert_int_equal(mptable_build(buf, BUF_SIZE, BASE, 65, NULL, 0), -EINVAL);
	assert_int_equal(mptable_build(buf, BUF_SIZE, BASE, 1, NULL, 1), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(mptable_build(buf, BUF_SIZE, BASE, 1, &bad[i], 1),
				 -EINVAL);
	assert_int_equal(mptable_build(buf, 20, BASE, 1, NULL, 0), -ENOSPC);
	assert_int_equal(mptable_build(buf, 200, BASE, 4, NULL, 0), -ENOSPC);
	free(buf);
}

static void test_written_in_guest_memory(void **state)
{
	struct guest_memory mem;
	struct parsed *p = malloc(sizeof(*p));
	u8 *area;

	(void)state;
	assert_int_equal(mem_create(&mem, 16 * MiB), 0);
	assert_int_equal(mptable_write(&mem, 4, NULL, 0), 0);
	/* Where Linux's scan of the BIOS area looks: 0xf0000-0xfffff. */
	area = mem_gpa_to_hva(&mem, 0xf0000, 0x10000);
	assert_non_null(area);
	assert_int_equal(LAYOUT_MPTABLE, BASE);
	parse(area, 0x10000, p);
	check_rules(p, 4);
	mem_destroy(&mem);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_cpu),
		cmocka_unit_test(test_cpu_counts),
		cmocka_unit_test(test_pci_intx_routing),
		cmocka_unit_test(test_rejects_bad_input),
		cmocka_unit_test(test_written_in_guest_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
