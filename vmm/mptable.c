// SPDX-License-Identifier: MIT
/*
 * MP table builder. The routing it describes is the one KVM's in-kernel
 * irqchip implements by default: ISA IRQ n is IOAPIC pin n (and PIC input
 * n), PCI INTx lines go to pins 16-23, the PIC reaches the CPUs as ExtINT
 * on LINT0 and NMI comes in on LINT1.
 */
#define LOG_PREFIX "mptable"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "vmm/e820.h"
#include "abi/machine.h"
#include "vmm/mptable.h"

/* CPUID 1 signature and features we claim in processor entries. */
#define MP_CPU_SIGNATURE 0x00000600	/* family 6 */
#define MP_CPU_FEATURES ((1u << 0) | (1u << 9))	/* FPU, APIC */

/* ISA IRQs wired to the IOAPIC: all but 2, the PIC cascade. */
#define ISA_IRQS 16
#define ISA_CASCADE_IRQ 2

/* Local interrupt inputs */
#define LINT0 0
#define LINT1 1
#define ALL_LAPICS 0xff

/* The table stays inside the BIOS area e820 reserves. */
#define MPTABLE_AREA_SIZE (E820_BIOS_END - LAYOUT_MPTABLE)

static u8 checksum(const u8 *bytes, size_t len)
{
	u8 sum = 0;

	while (len--)
		sum += *bytes++;
	return (u8)-sum;
}

struct builder {
	u8 *buf;
	size_t len;
	size_t used;
	unsigned int entries;
};

static void *add_entry(struct builder *b, size_t size)
{
	void *entry;

	if (b->used + size > b->len)
		return NULL;
	entry = b->buf + b->used;
	memset(entry, 0, size);
	b->used += size;
	b->entries++;
	return entry;
}

static bool add_intsrc(struct builder *b, u8 type, u8 irqtype, u16 flags,
		       u8 bus, u8 bus_irq, u8 dst_apic, u8 dst_irq)
{
	struct mpc_intsrc *e = add_entry(b, sizeof(*e));

	if (!e)
		return false;
	*e = (struct mpc_intsrc) {
		.type = type, .irqtype = irqtype, .irqflag = flags,
		.srcbus = bus, .srcbusirq = bus_irq, .dstapic = dst_apic,
		.dstirq = dst_irq,
	};
	return true;
}

int mptable_build(u8 *buf, size_t buf_len, u32 base, unsigned int nr_cpus,
		  const struct mptable_intx *pci_intx, unsigned int nr_intx)
{
	struct builder b = { .buf = buf, .len = buf_len };
	unsigned int ioapic_id = mptable_ioapic_id(nr_cpus), i;
	struct mpf_intel *mpf;
	struct mpc_table *mpc;
	struct mpc_ioapic *ioapic;
	struct mpc_bus *bus;

	if (nr_cpus == 0 || nr_cpus > MPTABLE_MAX_CPUS ||
	    nr_intx > MPTABLE_MAX_INTX || (nr_intx && !pci_intx))
		return -EINVAL;
	for (i = 0; i < nr_intx; i++)
		if (pci_intx[i].slot > 31 || pci_intx[i].pin < 1 ||
		    pci_intx[i].pin > 4 ||
		    pci_intx[i].gsi >= MPTABLE_IOAPIC_PINS)
			return -EINVAL;
	if (buf_len < sizeof(*mpf) + sizeof(*mpc))
		return -ENOSPC;
	memset(buf, 0, sizeof(*mpf) + sizeof(*mpc));

	mpf = (struct mpf_intel *)buf;
	mpc = (struct mpc_table *)(buf + sizeof(*mpf));
	b.buf = (u8 *)mpc;
	b.len = buf_len - sizeof(*mpf);
	b.used = sizeof(*mpc);

	for (i = 0; i < nr_cpus; i++) {
		struct mpc_cpu *cpu = add_entry(&b, sizeof(*cpu));

		if (!cpu)
			return -ENOSPC;
		cpu->type = MP_PROCESSOR;
		cpu->apicid = i;	/* vCPU i has APIC ID i (vmm/vcpu.c) */
		cpu->apicver = MPTABLE_LAPIC_VERSION;
		cpu->cpuflag = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0);
		cpu->cpufeature = MP_CPU_SIGNATURE;
		cpu->featureflag = MP_CPU_FEATURES;
	}

	bus = add_entry(&b, sizeof(*bus));
	if (!bus)
		return -ENOSPC;
	*bus = (struct mpc_bus) { .type = MP_BUS, .busid = MPTABLE_BUS_PCI };
	memcpy(bus->bustype, "PCI   ", 6);
	bus = add_entry(&b, sizeof(*bus));
	if (!bus)
		return -ENOSPC;
	*bus = (struct mpc_bus) { .type = MP_BUS, .busid = MPTABLE_BUS_ISA };
	memcpy(bus->bustype, "ISA   ", 6);

	ioapic = add_entry(&b, sizeof(*ioapic));
	if (!ioapic)
		return -ENOSPC;
	*ioapic = (struct mpc_ioapic) {
		.type = MP_IOAPIC, .apicid = ioapic_id,
		.apicver = MPTABLE_IOAPIC_VERSION, .flags = 1,
		.apicaddr = IOAPIC_BASE,
	};

	/* ISA: edge, active high (the bus default), identity-mapped pins. */
	for (i = 0; i < ISA_IRQS; i++) {
		if (i == ISA_CASCADE_IRQ)
			continue;
		if (!add_intsrc(&b, MP_INTSRC, MP_INT, 0, MPTABLE_BUS_ISA, i,
				ioapic_id, i))
			return -ENOSPC;
	}
	for (i = 0; i < nr_intx; i++) {
		const struct mptable_intx *x = &pci_intx[i];

		if (!add_intsrc(&b, MP_INTSRC, MP_INT,
				MP_IRQ_ACTIVE_LOW | MP_IRQ_LEVEL,
				MPTABLE_BUS_PCI, (x->slot << 2) | (x->pin - 1),
				ioapic_id, x->gsi))
			return -ENOSPC;
	}
	if (!add_intsrc(&b, MP_LINTSRC, MP_EXTINT, 0, MPTABLE_BUS_ISA, 0,
			ALL_LAPICS, LINT0) ||
	    !add_intsrc(&b, MP_LINTSRC, MP_NMI, 0, MPTABLE_BUS_ISA, 0,
			ALL_LAPICS, LINT1))
		return -ENOSPC;

	memcpy(mpc->signature, MPTABLE_CONFIG_SIGNATURE, 4);
	mpc->length = b.used;
	mpc->spec = MPTABLE_SPEC_REV;
	memcpy(mpc->oem, "UVMM    ", 8);
	memcpy(mpc->productid, "uvmm        ", 12);
	mpc->oemcount = b.entries;
	mpc->lapic = LAPIC_BASE;
	mpc->checksum = checksum((u8 *)mpc, b.used);

	memcpy(mpf->signature, MPTABLE_SIGNATURE, 4);
	mpf->physptr = base + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = MPTABLE_SPEC_REV;
	mpf->checksum = checksum((u8 *)mpf, sizeof(*mpf));
	return sizeof(*mpf) + b.used;
}

int mptable_write(struct guest_memory *mem, unsigned int nr_cpus,
		  const struct mptable_intx *pci_intx, unsigned int nr_intx)
{
	u8 *area = mem_gpa_to_hva(mem, LAYOUT_MPTABLE, MPTABLE_AREA_SIZE);
	int ret;

	if (!area)
		return -EFAULT;
	ret = mptable_build(area, MPTABLE_AREA_SIZE, LAYOUT_MPTABLE, nr_cpus,
			    pci_intx, nr_intx);
	if (ret < 0)
		return ret;
	log_debug("%u CPUs, %u PCI INTx lines, %d bytes at %#llx", nr_cpus,
		  nr_intx, ret, (unsigned long long)LAYOUT_MPTABLE);
	return 0;
}
