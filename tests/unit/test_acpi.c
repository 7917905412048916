// SPDX-License-Identifier: MIT
/*
 * The ACPI builder and the PM block: every table's checksum and links,
 * the MADT against the CPU count, the FADT's PM blocks, MCFG's window;
 * the PM timer's rate on a clock the test controls, and its registers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/acpi_pm.h"
#include "devices/pci_host.h"
#include "tests/unit/support/fake_vm.h"
#include "vmm/acpi.h"
#include "vmm/mptable.h"

static const struct acpi_table_header *table_at(struct guest_memory *mem,
						u64 gpa)
{
	const struct acpi_table_header *h = mem_gpa_to_hva(mem, gpa, sizeof(*h));

	assert_non_null(h);
	assert_non_null(mem_gpa_to_hva(mem, gpa, h->length));
	assert_int_equal(acpi_sum(h, h->length), 0);
	return h;
}

static void check_tables(unsigned int cpus)
{
	struct guest_memory mem;
	struct acpi_table tables[ACPI_MAX_TABLES];
	const struct acpi_rsdp *rsdp;
	const struct acpi_table_header *rsdt, *xsdt, *h;
	const u8 *madt, *fadt, *mcfg = NULL, *p;
	unsigned int i, n, lapics = 0, ioapics = 0;
	u32 ptr, pm_tmr, facs;
	u64 xptr, ecam;
	int nr;

	assert_int_equal(mem_create(&mem, 16 * MiB), 0);
	nr = acpi_build(&mem, cpus, tables);
	assert_int_equal(nr, 8);
	assert_string_equal(tables[0].name, "RSDP");
	for (i = 0; i < (unsigned int)nr; i++)
		assert_true(tables[i].gpa >= LAYOUT_ACPI &&
			    tables[i].gpa + tables[i].length <=
			    LAYOUT_ACPI + LAYOUT_ACPI_SIZE);

	/* The RSDP: 16-byte aligned, both checksums, both roots. */
	rsdp = mem_gpa_to_hva(&mem, tables[0].gpa, sizeof(*rsdp));
	assert_int_equal(tables[0].gpa % 16, 0);
	assert_memory_equal(rsdp->signature, "RSD PTR ", 8);
	assert_int_equal(acpi_sum(rsdp, 20), 0);
	assert_int_equal(acpi_sum(rsdp, sizeof(*rsdp)), 0);
	assert_int_equal(rsdp->revision, 2);
	rsdt = table_at(&mem, rsdp->rsdt_address);
	xsdt = table_at(&mem, rsdp->xsdt_address);
	assert_memory_equal(rsdt->signature, "RSDT", 4);
	assert_memory_equal(xsdt->signature, "XSDT", 4);

	/* RSDT and XSDT list the same tables. */
	n = (rsdt->length - sizeof(*rsdt)) / 4;
	assert_int_equal(n, 3);
	assert_int_equal((xsdt->length - sizeof(*xsdt)) / 8, n);
	madt = fadt = NULL;
	for (i = 0; i < n; i++) {
		memcpy(&ptr, (const u8 *)(rsdt + 1) + i * 4, 4);
		memcpy(&xptr, (const u8 *)(xsdt + 1) + i * 8, 8);
		assert_int_equal(ptr, xptr);
		h = table_at(&mem, ptr);
		if (!memcmp(h->signature, "APIC", 4))
			madt = (const u8 *)h;
		else if (!memcmp(h->signature, "FACP", 4))
			fadt = (const u8 *)h;
		else if (!memcmp(h->signature, "MCFG", 4))
			mcfg = (const u8 *)h;
	}
	assert_non_null(madt);
	assert_non_null(fadt);
	assert_non_null(mcfg);

	/* FADT: the PM blocks, FACS (64-byte aligned) and DSDT. */
	memcpy(&pm_tmr, fadt + 76, 4);
	assert_int_equal(pm_tmr, ACPI_PM_TMR);
	memcpy(&ptr, fadt + 64, 4);
	assert_int_equal(ptr, ACPI_PM1_CNT);
	assert_int_equal(fadt[91], 4);		/* PM_TMR_LEN */
	memcpy(&facs, fadt + 36, 4);
	assert_int_equal(facs % 64, 0);
	assert_memory_equal(mem_gpa_to_hva(&mem, facs, 4), "FACS", 4);
	memcpy(&ptr, fadt + 40, 4);
	assert_memory_equal(table_at(&mem, ptr)->signature, "DSDT", 4);

	/* MADT: one enabled LAPIC per CPU, IDs 0..n-1, and the IOAPIC. */
	for (p = madt + 44; p < madt + ((const struct acpi_table_header *)madt)->length;
	     p += p[1]) {
		assert_true(p[1] >= 2);
		if (p[0] == 0) {
			assert_int_equal(p[3], lapics);
			assert_int_equal(p[4] & 1, 1);
			lapics++;
		} else if (p[0] == 1) {
			u32 addr;

			memcpy(&addr, p + 4, 4);
			assert_int_equal(addr, IOAPIC_BASE);
			assert_int_equal(p[2], mptable_ioapic_id(cpus));
			ioapics++;
		}
	}
	assert_int_equal(lapics, cpus);
	assert_int_equal(ioapics, 1);

	/* MCFG: ECAM for segment 0, buses 0-255. */
	memcpy(&ecam, mcfg + 44, 8);
	assert_int_equal(ecam, PCI_ECAM_BASE);
	assert_int_equal(mcfg[54], 0);
	assert_int_equal(mcfg[55], 255);
	mem_destroy(&mem);
}

static void test_tables_one_cpu(void **state)
{
	(void)state;
	check_tables(1);
}

static void test_tables_many_cpus(void **state)
{
	(void)state;
	check_tables(5);
	check_tables(MPTABLE_MAX_CPUS);
}

/* The one descriptor of tag (a large resource) in the DSDT's AML. */
static const u8 *find_descriptor(const u8 *aml, u32 len, u8 tag, u16 size,
				 u8 type)
{
	const u8 *found = NULL;
	u32 i;

	for (i = sizeof(struct acpi_table_header); i + 3u + size <= len; i++) {
		if (aml[i] != tag || aml[i + 1] != (u8)size ||
		    aml[i + 2] != size >> 8 || aml[i + 3] != type)
			continue;
		assert_null(found);
		found = aml + i;
	}
	assert_non_null(found);
	return found;
}

/*
 * The DSDT is vmm/dsdt.asl's AML with the 64-bit window of this much RAM:
 * its QWordMemory bounds follow pci_mmio64_base(), no placeholder is left,
 * and the fixed windows are abi/machine.h's.
 */
static void check_dsdt(u64 ram)
{
	struct guest_memory mem;
	struct acpi_table tables[ACPI_MAX_TABLES];
	const struct acpi_table_header *dsdt = NULL;
	const u8 *aml, *d;
	u64 min, max, len, m64 = pci_mmio64_base(ram);
	u32 min32, max32, i;
	int nr;

	assert_int_equal(mem_create(&mem, ram), 0);
	nr = acpi_build(&mem, 2, tables);
	assert_true(nr > 0);
	for (i = 0; i < (u32)nr; i++)
		if (!strcmp(tables[i].name, "DSDT"))
			dsdt = table_at(&mem, tables[i].gpa);
	assert_non_null(dsdt);
	aml = (const u8 *)dsdt;
	assert_true(dsdt->length > sizeof(*dsdt) + 100);

	d = find_descriptor(aml, dsdt->length, 0x8a, 0x2b, 0); /* QWord mem */
	memcpy(&min, d + 14, 8);
	memcpy(&max, d + 22, 8);
	memcpy(&len, d + 38, 8);
	assert_int_equal(min, m64);
	assert_int_equal(len, PCI_WIN_MMIO64_SIZE);
	assert_int_equal(max, m64 + PCI_WIN_MMIO64_SIZE - 1);
	for (i = 0; i + 8 <= dsdt->length; i++) {
		u64 v;

		memcpy(&v, aml + i, 8);
		assert_true(v != ACPI_DSDT_MMIO64_MIN &&
			    v != ACPI_DSDT_MMIO64_MAX);
	}
	d = find_descriptor(aml, dsdt->length, 0x87, 0x17, 0); /* DWord mem */
	memcpy(&min32, d + 10, 4);
	memcpy(&max32, d + 14, 4);
	assert_int_equal(min32, PCI_WIN_MMIO32_BASE);
	assert_int_equal(max32, PCI_WIN_MMIO32_BASE + PCI_WIN_MMIO32_SIZE - 1);
	d = find_descriptor(aml, dsdt->length, 0x86, 0x09, 0); /* ECAM */
	memcpy(&min32, d + 4, 4);
	memcpy(&max32, d + 8, 4);
	assert_int_equal(min32, PCI_ECAM_BASE);
	assert_int_equal(max32, PCI_ECAM_SIZE);
	mem_destroy(&mem);
}

static void test_dsdt_follows_ram(void **state)
{
	(void)state;
	check_dsdt(16 * MiB);
	check_dsdt(6 * GiB);	/* RAM above 4 GiB moves the window */
	assert_true(pci_mmio64_base(6 * GiB) != pci_mmio64_base(16 * MiB));
}

static void test_refuses_bad_counts(void **state)
{
	struct guest_memory mem;
	struct acpi_table tables[ACPI_MAX_TABLES];

	(void)state;
	assert_int_equal(mem_create(&mem, 2 * MiB), 0);
	assert_int_equal(acpi_build(&mem, 0, tables), -EINVAL);
	assert_int_equal(acpi_build(&mem, MPTABLE_MAX_CPUS + 1, tables), -EINVAL);
	mem_destroy(&mem);
}

static u64 fake_ns;

static u64 fake_now(void)
{
	return fake_ns;
}

static u32 pm_in(struct vm *vm, u16 port, u32 len)
{
	u32 v = 0;

	assert_true(bus_read(&vm->pio, port, &v, len));
	return v;
}

static void test_pm_timer_rate_and_wrap(void **state)
{
	struct vm_config cfg = { .nr_cpus = 1, .memory_bytes = 16 * MiB };
	struct vm *vm = fake_vm_create(&cfg, 16 * MiB);
	struct acpi_pm *pm;

	(void)state;
	assert_int_equal(acpi_pm_create(vm_services(vm), &pm), 0);
	acpi_pm_set_clock(pm, fake_now);
	fake_ns = 0;
	assert_int_equal(pm_in(vm, ACPI_PM_TMR, 4), 0);
	/* One second is 3579545 ticks. */
	fake_ns = 1000000000ULL;
	assert_int_equal(pm_in(vm, ACPI_PM_TMR, 4), 3579545);
	fake_ns = 1000;		/* 1 us: 3.58 ticks */
	assert_int_equal(pm_in(vm, ACPI_PM_TMR, 4), 3);
	/* 24 bits: 5 s = 17897725 ticks wraps to 17897725 - 2^24. */
	fake_ns = 5000000000ULL;
	assert_int_equal(pm_in(vm, ACPI_PM_TMR, 4), 17897725 - (1 << 24));
	/* Years of uptime do not overflow the scaling. */
	fake_ns = 100ULL * 365 * 24 * 3600 * 1000000000ULL;
	assert_true(pm_in(vm, ACPI_PM_TMR, 4) < (1 << 24));
	acpi_pm_destroy(pm);
	fake_vm_destroy(vm);
}

static void test_pm_registers(void **state)
{
	struct vm_config cfg = { .nr_cpus = 1, .memory_bytes = 16 * MiB };
	struct vm *vm = fake_vm_create(&cfg, 16 * MiB);
	struct acpi_pm *pm;
	u32 v;

	(void)state;
	assert_int_equal(acpi_pm_create(vm_services(vm), &pm), 0);
	/* SCI_EN is set and stays set: no legacy mode. */
	assert_int_equal(pm_in(vm, ACPI_PM1_CNT, 2) & 1, 1);
	v = 0;
	bus_write(&vm->pio, ACPI_PM1_CNT, &v, 2);
	assert_int_equal(pm_in(vm, ACPI_PM1_CNT, 2), 1);
	/* SLP_EN with a sleep type the DSDT does not offer: nothing. */
	v = ACPI_PM1_CNT_SLP_EN | (1 << ACPI_PM1_CNT_SLP_TYP_SHIFT);
	bus_write(&vm->pio, ACPI_PM1_CNT, &v, 2);
	assert_false(vm_stopping(vm));
	assert_int_equal(pm_in(vm, ACPI_PM1_CNT, 2) & ACPI_PM1_CNT_SLP_EN, 0);
	/* Enable holds what is written; the timer ignores writes. */
	v = 0x0121;
	bus_write(&vm->pio, ACPI_PM1_EVT + 2, &v, 2);
	assert_int_equal(pm_in(vm, ACPI_PM1_EVT + 2, 2), 0x0121);
	v = 0xffffffff;
	bus_write(&vm->pio, ACPI_PM_TMR, &v, 4);
	assert_true(pm_in(vm, ACPI_PM_TMR, 4) < (1 << 24));
	/*
	 * _S3: the machine sleeps; the RTC alarm wakes it only once RTC_EN
	 * is set, and then PM1 status says why (WAK_STS, RTC_STS).
	 */
	v = ACPI_PM1_CNT_SLP_EN |
	    (ACPI_SLP_TYP_S3 << ACPI_PM1_CNT_SLP_TYP_SHIFT);
	bus_write(&vm->pio, ACPI_PM1_CNT, &v, 2);
	assert_true(vm->suspended);
	assert_int_equal(vm_sleep_epoch(vm), 1);
	assert_false(vm_stopping(vm));
	v = 0;
	bus_write(&vm->pio, ACPI_PM1_EVT + 2, &v, 2);
	acpi_pm_wake_event(pm, ACPI_PM1_RTC_STS);
	assert_true(vm->suspended);
	assert_int_equal(pm_in(vm, ACPI_PM1_EVT, 2) & ACPI_PM1_WAK_STS, 0);
	v = ACPI_PM1_RTC_STS;
	bus_write(&vm->pio, ACPI_PM1_EVT + 2, &v, 2);
	acpi_pm_wake_event(pm, ACPI_PM1_RTC_STS);
	assert_false(vm->suspended);
	assert_int_equal(pm_in(vm, ACPI_PM1_EVT, 2),
			 ACPI_PM1_WAK_STS | ACPI_PM1_RTC_STS);
	/* Write 1 to clear; an alarm while awake wakes nothing. */
	v = ACPI_PM1_WAK_STS | ACPI_PM1_RTC_STS;
	bus_write(&vm->pio, ACPI_PM1_EVT, &v, 2);
	acpi_pm_wake_event(pm, ACPI_PM1_RTC_STS);
	assert_int_equal(pm_in(vm, ACPI_PM1_EVT, 2), 0);
	assert_int_equal(vm_sleep_epoch(vm), 1);

	/* _S5: soft off ends the VM with status 0. */
	v = ACPI_PM1_CNT_SLP_EN |
	    (ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT);
	bus_write(&vm->pio, ACPI_PM1_CNT, &v, 2);
	assert_true(vm_stopping(vm));
	assert_int_equal(vm->exit_status, 0);
	acpi_pm_destroy(pm);
	fake_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_one_cpu),
		cmocka_unit_test(test_tables_many_cpus),
		cmocka_unit_test(test_dsdt_follows_ram),
		cmocka_unit_test(test_refuses_bad_counts),
		cmocka_unit_test(test_pm_timer_rate_and_wrap),
		cmocka_unit_test(test_pm_registers),
	};

	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
