// SPDX-License-Identifier: MIT
/*
 * ACPI tables, built from the same facts as the MP table (vmm/mptable.h)
 * and the PCI host bridge: CPU count, the IOAPIC, the ECAM window, and the
 * PM block of devices/acpi_pm.c. ACPI 4.0 layouts (FADT revision 4).
 */
#define LOG_PREFIX "acpi"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "abi/machine.h"
#include "common/errmsg.h"
#include "devices/pci_host.h"
#include "vmm/acpi.h"
#include "vmm/mptable.h"

/* dsdt_aml_code[]: vmm/dsdt.asl, compiled by iasl at build time. */
#include "dsdt.hex"

#define OEM_ID "UVMM  "
#define OEM_TABLE_ID "UVMMACPI"
#define CREATOR_ID "UVMM"

/* Generic address structure: where a register block lives. */
struct acpi_gas {
	u8 space_id;		/* 1: system I/O */
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;		/* 1 byte, 2 word, 3 dword */
	u64 address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_table_header h;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_req;
	u8 pstate_cnt;
	u32 pm1a_evt_blk;
	u32 pm1b_evt_blk;
	u32 pm1a_cnt_blk;
	u32 pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk;
	u32 gpe0_blk;
	u32 gpe1_blk;
	u8 pm1_evt_len;
	u8 pm1_cnt_len;
	u8 pm2_cnt_len;
	u8 pm_tmr_len;
	u8 gpe0_blk_len;
	u8 gpe1_blk_len;
	u8 gpe1_base;
	u8 cst_cnt;
	u16 p_lvl2_lat;
	u16 p_lvl3_lat;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alrm;
	u8 mon_alrm;
	u8 century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u8 reserved2[3];
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 244, "FADT revision 4 is 244 bytes");
_Static_assert(__builtin_offsetof(struct acpi_fadt, pm_tmr_blk) == 76,
	       "PM_TMR_BLK at 76");

#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5)	/* no sleep button */
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042 (1u << 1)

struct acpi_facs {
	char signature[4];
	u32 length;
	u32 hardware_signature;
	u32 firmware_waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved[31];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");

struct acpi_madt {
	struct acpi_table_header h;
	u32 lapic_address;
	u32 flags;		/* 1: PC-AT compatible 8259s too */
} __attribute__((packed));

struct madt_lapic {
	u8 type;		/* 0 */
	u8 length;		/* 8 */
	u8 processor_id;
	u8 apic_id;
	u32 flags;		/* 1: enabled */
} __attribute__((packed));

struct madt_ioapic {
	u8 type;		/* 1 */
	u8 length;		/* 12 */
	u8 ioapic_id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __attribute__((packed));

struct madt_override {
	u8 type;		/* 2 */
	u8 length;		/* 10 */
	u8 bus;			/* 0: ISA */
	u8 source;
	u32 gsi;
	u16 flags;
} __attribute__((packed));

struct acpi_mcfg {
	struct acpi_table_header h;
	u64 reserved;
	u64 base;
	u16 segment;
	u8 bus_start;
	u8 bus_end;
	u32 reserved1;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG with one entry is 60 bytes");

u8 acpi_sum(const void *data, size_t len)
{
	const u8 *p = data;
	u8 sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

struct builder {
	struct guest_memory *mem;
	u64 next;		/* next free guest address */
	struct acpi_table *tables;
	unsigned int nr;
};

/* Reserves len bytes (aligned), zeroed, and records the table. */
static void *alloc_table(struct builder *b, const char *name, u32 len,
			 u64 align, u64 *gpa)
{
	u64 at = ALIGN_UP(b->next, align);
	void *p;

	if (at + len > LAYOUT_ACPI + LAYOUT_ACPI_SIZE || b->nr == ACPI_MAX_TABLES)
		return NULL;
	p = mem_gpa_to_hva(b->mem, at, len);
	if (!p)
		return NULL;
	memset(p, 0, len);
	b->next = at + len;
	snprintf(b->tables[b->nr].name, sizeof(b->tables[b->nr].name), "%s",
		 name);
	b->tables[b->nr].gpa = at;
	b->tables[b->nr].length = len;
	b->nr++;
	*gpa = at;
	return p;
}

static void header(struct acpi_table_header *h, const char *sig, u32 len,
		   u8 revision)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void finish(struct acpi_table_header *h)
{
	h->checksum = 0;
	h->checksum = -acpi_sum(h, h->length);
}

/*
 * Replaces the 8 bytes equal to from, which must occur exactly once: a
 * DSDT whose placeholder moved or doubled is an error, never a guess.
 */
static int patch_u64(u8 *aml, u32 len, u64 from, u64 to)
{
	u8 *found = NULL;
	u32 i;

	for (i = 0; i + 8 <= len; i++) {
		if (memcmp(aml + i, &from, 8))
			continue;
		if (found)
			return -EEXIST;
		found = aml + i;
	}
	if (!found)
		return -ENOENT;
	memcpy(found, &to, 8);
	return 0;
}

/* The DSDT of vmm/dsdt.asl with this machine's 64-bit PCI window. */
static int write_dsdt(struct acpi_table_header *dsdt, u64 ram_bytes)
{
	u64 m64 = pci_mmio64_base(ram_bytes);
	int ret;

	memcpy(dsdt, dsdt_aml_code, sizeof(dsdt_aml_code));
	ret = patch_u64((u8 *)dsdt, dsdt->length, ACPI_DSDT_MMIO64_MIN, m64);
	if (!ret)
		ret = patch_u64((u8 *)dsdt, dsdt->length, ACPI_DSDT_MMIO64_MAX,
				m64 + PCI_WIN_MMIO64_SIZE - 1);
	if (ret)
		return ret;
	finish(dsdt);
	return 0;
}

static struct acpi_gas pio(u16 port, u8 bytes)
{
	return (struct acpi_gas) {
		.space_id = 1, .bit_width = bytes * 8,
		.access_size = bytes == 1 ? 1 : bytes == 2 ? 2 : 3,
		.address = port,
	};
}

int acpi_build(struct guest_memory *mem, unsigned int nr_cpus,
	       struct acpi_table tables[ACPI_MAX_TABLES])
{
	struct builder b = {
		.mem = mem, .next = LAYOUT_ACPI, .tables = tables,
	};
	u64 rsdp_at, facs_at, dsdt_at, fadt_at, madt_at, mcfg_at, rsdt_at,
	    xsdt_at;
	u32 madt_len = sizeof(struct acpi_madt) +
		       nr_cpus * sizeof(struct madt_lapic) +
		       sizeof(struct madt_ioapic) + sizeof(struct madt_override);
	u32 rsdt_len = sizeof(struct acpi_table_header) + 3 * 4;
	u32 xsdt_len = sizeof(struct acpi_table_header) + 3 * 8;
	struct acpi_rsdp *rsdp;
	struct acpi_facs *facs;
	struct acpi_table_header *dsdt, *rsdt, *xsdt;
	struct acpi_fadt *fadt;
	struct acpi_madt *madt;
	struct acpi_mcfg *mcfg;
	struct madt_lapic *lapic;
	struct madt_ioapic *ioapic;
	struct madt_override *sci;
	unsigned int i;
	u32 ptrs[3];
	int ret;

	if (nr_cpus == 0 || nr_cpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	rsdp = alloc_table(&b, "RSDP", sizeof(*rsdp), 16, &rsdp_at);
	facs = alloc_table(&b, "FACS", sizeof(*facs), 64, &facs_at);
	dsdt = alloc_table(&b, "DSDT", sizeof(dsdt_aml_code), 16, &dsdt_at);
	fadt = alloc_table(&b, "FACP", sizeof(*fadt), 16, &fadt_at);
	madt = alloc_table(&b, "APIC", madt_len, 16, &madt_at);
	mcfg = alloc_table(&b, "MCFG", sizeof(*mcfg), 16, &mcfg_at);
	rsdt = alloc_table(&b, "RSDT", rsdt_len, 16, &rsdt_at);
	xsdt = alloc_table(&b, "XSDT", xsdt_len, 16, &xsdt_at);
	if (!rsdp || !facs || !dsdt || !fadt || !madt || !mcfg || !rsdt ||
	    !xsdt)
		return -ENOSPC;

	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	ret = write_dsdt(dsdt, mem->size);
	if (ret)
		return ret;

	header(&fadt->h, "FACP", sizeof(*fadt), 4);
	fadt->firmware_ctrl = facs_at;
	fadt->dsdt = dsdt_at;
	fadt->sci_int = ACPI_SCI_IRQ;
	/* SMI_CMD 0: always in ACPI mode, SCI_EN reads set. */
	fadt->pm1a_evt_blk = ACPI_PM1_EVT;
	fadt->pm1a_cnt_blk = ACPI_PM1_CNT;
	fadt->pm_tmr_blk = ACPI_PM_TMR;
	fadt->pm1_evt_len = 4;
	fadt->pm1_cnt_len = 2;
	fadt->pm_tmr_len = 4;
	/* No C2/C3: latencies above the limits say so. */
	fadt->p_lvl2_lat = 101;
	fadt->p_lvl3_lat = 1001;
	fadt->century = 0x32;		/* CMOS register, as the RTC has it */
	fadt->iapc_boot_arch = FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042;
	fadt->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON;
	fadt->x_dsdt = dsdt_at;
	fadt->x_pm1a_evt_blk = pio(ACPI_PM1_EVT, 4);
	fadt->x_pm1a_cnt_blk = pio(ACPI_PM1_CNT, 2);
	fadt->x_pm_tmr_blk = pio(ACPI_PM_TMR, 4);
	finish(&fadt->h);

	header(&madt->h, "APIC", madt_len, 3);
	madt->lapic_address = LAPIC_BASE;
	madt->flags = 1;
	lapic = (struct madt_lapic *)(madt + 1);
	for (i = 0; i < nr_cpus; i++)
		lapic[i] = (struct madt_lapic) {
			.type = 0, .length = sizeof(*lapic),
			.processor_id = i, .apic_id = i, .flags = 1,
		};
	ioapic = (struct madt_ioapic *)(lapic + nr_cpus);
	*ioapic = (struct madt_ioapic) {
		.type = 1, .length = sizeof(*ioapic),
		.ioapic_id = mptable_ioapic_id(nr_cpus),
		.address = IOAPIC_BASE, .gsi_base = 0,
	};
	/* ISA IRQ n is GSI n (as the MP table says); the SCI is level, high. */
	sci = (struct madt_override *)(ioapic + 1);
	*sci = (struct madt_override) {
		.type = 2, .length = sizeof(*sci), .bus = 0,
		.source = ACPI_SCI_IRQ, .gsi = ACPI_SCI_IRQ,
		.flags = 0x1 | (0x3 << 2),	/* active high, level */
	};
	finish(&madt->h);

	header(&mcfg->h, "MCFG", sizeof(*mcfg), 1);
	mcfg->base = PCI_ECAM_BASE;
	mcfg->segment = 0;
	mcfg->bus_start = 0;
	mcfg->bus_end = (PCI_ECAM_SIZE >> PCI_ECAM_BUS_SHIFT) - 1;
	finish(&mcfg->h);

	ptrs[0] = fadt_at;
	ptrs[1] = madt_at;
	ptrs[2] = mcfg_at;
	header(rsdt, "RSDT", rsdt_len, 1);
	memcpy(rsdt + 1, ptrs, sizeof(ptrs));
	finish(rsdt);
	header(xsdt, "XSDT", xsdt_len, 1);
	for (i = 0; i < 3; i++) {
		u64 p = ptrs[i];

		memcpy((u8 *)(xsdt + 1) + i * 8, &p, 8);
	}
	finish(xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt_address = rsdt_at;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt_at;
	rsdp->checksum = -acpi_sum(rsdp, 20);
	rsdp->extended_checksum = -acpi_sum(rsdp, sizeof(*rsdp));
	return b.nr;
}

int acpi_dump(struct guest_memory *mem, const struct acpi_table *tables,
	      unsigned int nr, const char *dir, char *err, size_t err_len)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		const void *data = mem_gpa_to_hva(mem, tables[i].gpa,
						  tables[i].length);
		char path[4096], name[5];
		ssize_t n;
		int fd;

		for (j = 0; j < 4; j++)
			name[j] = tables[i].name[j] | 0x20;
		name[4] = '\0';
		snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return err_fmt(err, err_len, -errno,
				    "--dump-acpi: cannot create %s: %s", path,
				    strerror(errno));
		n = data ? write(fd, data, tables[i].length) : -1;
		if (n != (ssize_t)tables[i].length) {
			int ret = n < 0 ? -errno : -EIO;

			close(fd);
			return err_fmt(err, err_len, ret,
				    "--dump-acpi: cannot write %s: %s", path,
				    strerror(-ret));
		}
		close(fd);
	}
	return 0;
}
