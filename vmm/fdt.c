// SPDX-License-Identifier: MIT
/*
 * The device tree builder (see fdt.h), with libfdt's sequential-write
 * API: a node's properties, then its subnodes, in one pass.
 */
#define LOG_PREFIX "fdt"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "devices/debug_exit.h"
#include "devices/pci_host.h"
#include "devices/rtc.h"
#include "devices/uart16550.h"
#include "vmm/fdt.h"
#include "vmm/memory.h"
#include "vmm/pci_irq.h"

#define UART_CLOCK_HZ 1843200
#define UART_BAUD 115200
#define ISA_SPACE_IO 1

/* PCI address space codes of the "ranges" phys.hi cell. */
#define PCI_RANGE_IO 0x01000000u
#define PCI_RANGE_MEM32 0x02000000u
#define PCI_RANGE_MEM64 0x03000000u

/* libfdt errors are negative FDT_ERR_* codes; the callers want errno. */
static int fdt_errno(int err)
{
	return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

/* A run of big-endian cells as one property. */
static int prop_cells(void *fdt, const char *name, const u32 *cells,
		      unsigned int n)
{
	fdt32_t be[64];
	unsigned int i;

	if (n > ARRAY_SIZE(be))
		return -FDT_ERR_NOSPACE;
	for (i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return fdt_property(fdt, name, be, n * sizeof(be[0]));
}

/* <addr size> with two cells each, the root's layout. */
static int prop_reg64(void *fdt, u64 addr, u64 size)
{
	u32 cells[4] = { addr >> 32, (u32)addr, size >> 32, (u32)size };

	return prop_cells(fdt, "reg", cells, 4);
}

#define TRY(expr)				\
	do {					\
		int _r = (expr);		\
		if (_r < 0)			\
			return _r;		\
	} while (0)

static int add_cpus(void *fdt, unsigned int nr_cpus)
{
	char name[32];
	unsigned int i;

	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 1));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (i = 0; i < nr_cpus; i++) {
		snprintf(name, sizeof(name), "cpu@%x", i);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		/* reg is the APIC ID, which uvmm makes the vCPU index. */
		TRY(fdt_property_u32(fdt, "reg", i));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_memory(void *fdt, u64 memory_bytes)
{
	struct mem_region regions[MEM_MAX_REGIONS];
	unsigned int n = mem_layout(memory_bytes, regions), i;
	char name[40];

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "memory@%llx",
			 (unsigned long long)regions[i].gpa);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "memory"));
		TRY(prop_reg64(fdt, regions[i].gpa, regions[i].size));
		TRY(fdt_end_node(fdt));
	}
	return 0;
}

static int add_apics(void *fdt)
{
	char name[48];

	snprintf(name, sizeof(name), "interrupt-controller@%llx",
		 LAPIC_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "intel,ce4100-lapic"));
	TRY(prop_reg64(fdt, LAPIC_BASE, APIC_MMIO_SIZE));
	/* The MP table says the same: virtual wire, no IMCR. */
	TRY(fdt_property(fdt, "intel,virtual-wire-mode", NULL, 0));
	TRY(fdt_end_node(fdt));

	snprintf(name, sizeof(name), "interrupt-controller@%llx",
		 IOAPIC_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "intel,ce4100-ioapic"));
	TRY(prop_reg64(fdt, IOAPIC_BASE, APIC_MMIO_SIZE));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 2));
	/* No unit address in interrupt-map's parent specifiers. */
	TRY(fdt_property_u32(fdt, "#address-cells", 0));
	TRY(fdt_property_u32(fdt, "phandle", DTB_IOAPIC_PHANDLE));
	return fdt_end_node(fdt);
}

static int add_isa(void *fdt, enum debug_exit_mode debug_exit)
{
	u32 reg[3];
	u32 irq[2] = { UART_COM1_IRQ, DTB_IRQ_EDGE_RISING };

	TRY(fdt_begin_node(fdt, "isa"));
	TRY(fdt_property_string(fdt, "compatible", "isa"));
	TRY(fdt_property_string(fdt, "device_type", "isa"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 1));
	/* Ports are the CPU's ports: Linux translates reg 1:1 into resources. */
	TRY(fdt_property(fdt, "ranges", NULL, 0));

	TRY(fdt_begin_node(fdt, "serial@3f8"));
	TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
	reg[0] = ISA_SPACE_IO;
	reg[1] = UART_COM1_BASE;
	reg[2] = 8;
	TRY(prop_cells(fdt, "reg", reg, 3));
	TRY(fdt_property_u32(fdt, "clock-frequency", UART_CLOCK_HZ));
	TRY(fdt_property_u32(fdt, "current-speed", UART_BAUD));
	TRY(prop_cells(fdt, "interrupts", irq, 2));
	TRY(fdt_end_node(fdt));

	/*
	 * Linux on x86 registers its CMOS RTC from the device tree when
	 * there is one, not at the fixed ports: without this node a guest
	 * has no /dev/rtc0.
	 */
	TRY(fdt_begin_node(fdt, "rtc@70"));
	TRY(fdt_property_string(fdt, "compatible", "motorola,mc146818"));
	reg[1] = RTC_INDEX_PORT;
	reg[2] = 2;
	TRY(prop_cells(fdt, "reg", reg, 3));
	irq[0] = RTC_IRQ;
	TRY(prop_cells(fdt, "interrupts", irq, 2));
	TRY(fdt_end_node(fdt));

	TRY(fdt_begin_node(fdt, "debug-exit@f4"));
	TRY(fdt_property_string(fdt, "compatible", "uvmm,debug-exit"));
	reg[1] = DEBUG_EXIT_PORT;
	reg[2] = DEBUG_EXIT_PORT_SIZE;
	TRY(prop_cells(fdt, "reg", reg, 3));
	/* How the VMM turns a written value V into its exit status. */
	TRY(fdt_property_string(fdt, "uvmm,status-rule",
				debug_exit == DEBUG_EXIT_RAW ? "raw" : "qemu"));
	TRY(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

static int add_pci(void *fdt, u64 memory_bytes)
{
	u64 m64 = pci_mmio64_base(memory_bytes);
	const u32 bus_range[2] = { 0, PCI_BUS_MAX };
	const u32 ranges[] = {
		PCI_RANGE_IO, 0, (u32)PCI_WIN_IO_BASE,
		0, (u32)PCI_WIN_IO_BASE, 0, (u32)PCI_WIN_IO_SIZE,
		PCI_RANGE_MEM32, 0, (u32)PCI_WIN_MMIO32_BASE,
		0, (u32)PCI_WIN_MMIO32_BASE, 0, (u32)PCI_WIN_MMIO32_SIZE,
		PCI_RANGE_MEM64, m64 >> 32, (u32)m64,
		m64 >> 32, (u32)m64, PCI_WIN_MMIO64_SIZE >> 32,
		(u32)PCI_WIN_MMIO64_SIZE,
	};
	/* Match the slot (device number) and the pin. */
	const u32 map_mask[4] = { 0x1f << 11, 0, 0, 7 };
	enum { MAP_CELLS = 7, SLOTS = 32, PINS = 4 };
	fdt32_t *map, *p;
	unsigned int slot, pin;
	char name[40];
	int ret;

	snprintf(name, sizeof(name), "pci@%llx", PCI_ECAM_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	TRY(fdt_property_string(fdt, "device_type", "pci"));
	TRY(prop_reg64(fdt, PCI_ECAM_BASE, PCI_ECAM_SIZE));
	TRY(prop_cells(fdt, "bus-range", bus_range, 2));
	TRY(fdt_property_u32(fdt, "#address-cells", 3));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
	TRY(prop_cells(fdt, "ranges", ranges, ARRAY_SIZE(ranges)));
	TRY(prop_cells(fdt, "interrupt-map-mask", map_mask, 4));

	/* slot << 11, 0, 0, pin -> IOAPIC, GSI, level low: every slot. */
	map = calloc(SLOTS * PINS * MAP_CELLS, sizeof(*map));
	if (!map)
		return -FDT_ERR_NOSPACE;
	p = map;
	for (slot = 0; slot < SLOTS; slot++) {
		for (pin = 1; pin <= PINS; pin++) {
			*p++ = cpu_to_fdt32(slot << 11);
			*p++ = 0;
			*p++ = 0;
			*p++ = cpu_to_fdt32(pin);
			*p++ = cpu_to_fdt32(DTB_IOAPIC_PHANDLE);
			*p++ = cpu_to_fdt32(pci_intx_gsi(slot, pin));
			*p++ = cpu_to_fdt32(DTB_IRQ_LEVEL_LOW);
		}
	}
	ret = fdt_property(fdt, "interrupt-map", map,
			   SLOTS * PINS * MAP_CELLS * sizeof(*map));
	free(map);
	TRY(ret);
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	return fdt_end_node(fdt);
}

static int build(void *fdt, size_t size, const struct vm_config *cfg)
{
	TRY(fdt_create(fdt, size));
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_string(fdt, "compatible", "uvmm,x86-64"));
	TRY(fdt_property_string(fdt, "model", "uvmm"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "interrupt-parent", DTB_IOAPIC_PHANDLE));

	TRY(fdt_begin_node(fdt, "chosen"));
	TRY(fdt_property_string(fdt, "bootargs",
				cfg->cmdline ? cfg->cmdline : ""));
	TRY(fdt_property_string(fdt, "stdout-path", DTB_PATH_SERIAL));
	TRY(fdt_end_node(fdt));

	TRY(fdt_begin_node(fdt, "aliases"));
	TRY(fdt_property_string(fdt, "serial0", DTB_PATH_SERIAL));
	TRY(fdt_end_node(fdt));

	TRY(add_cpus(fdt, cfg->nr_cpus));
	TRY(add_memory(fdt, cfg->memory_bytes));
	TRY(add_apics(fdt));
	TRY(add_isa(fdt, cfg->debug_exit));
	TRY(add_pci(fdt, cfg->memory_bytes));

	TRY(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

int dtb_build(const struct vm_config *cfg, void **blob, size_t *size,
	      char *err, size_t err_len)
{
	void *fdt = malloc(DTB_MAX_SIZE), *packed;
	int ret;

	if (!fdt)
		return -ENOMEM;
	ret = build(fdt, DTB_MAX_SIZE, cfg);
	if (ret >= 0)
		ret = fdt_pack(fdt);
	if (ret < 0) {
		free(fdt);
		return err_fmt(err, err_len, fdt_errno(ret),
			       "cannot build the device tree: %s",
			       fdt_strerror(ret));
	}
	*size = fdt_totalsize(fdt);
	packed = realloc(fdt, *size);
	*blob = packed ? packed : fdt;
	return 0;
}

int dtb_write_file(const char *path, const void *blob, size_t size,
		   char *err, size_t err_len)
{
	const u8 *p = blob;
	size_t done = 0;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "--dump-dtb: cannot create %s: %s", path,
			 strerror(errno));
		return ret;
	}
	while (done < size) {
		ssize_t n = write(fd, p + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, err_len, "--dump-dtb: cannot write %s: %s",
				 path, strerror(-ret));
			break;
		}
		done += n;
	}
	if (close(fd) < 0 && !ret) {
		ret = -errno;
		snprintf(err, err_len, "--dump-dtb: cannot write %s: %s", path,
			 strerror(errno));
	}
	return ret;
}
