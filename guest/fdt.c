// SPDX-License-Identifier: MIT
/*
 * fdt: the device tree the VMM hands over (the "dtb" boot module) against
 * what was asked for and what the machine does: memory adds up to mem=,
 * the CPU count is cpus=, /chosen's bootargs is the command line, the
 * console, debug-exit and IOAPIC nodes name the hardware that answers,
 * and the PCI host node's ECAM reaches the host bridge.
 *
 * "mem=SIZE cpus=N" on the command line set what to expect; either may
 * be left out (that check is skipped).
 */
#include "guest.h"

/* Sum of the reg sizes of every memory node. */
static u64 dt_memory(unsigned int *nodes)
{
	int node;
	u64 total = 0, addr, size;
	unsigned int i;

	*nodes = 0;
	for (node = dt_first_child(dt_root()); node >= 0;
	     node = dt_next_sibling(node)) {
		const char *type = dt_prop_string(node, "device_type");

		if (!type || strcmp(type, "memory"))
			continue;
		(*nodes)++;
		for (i = 0; dt_reg(node, i, &addr, &size); i++) {
			report_info("memory: %#lx, %#lx bytes", addr, size);
			total += size;
		}
	}
	return total;
}

static void check_memory(void)
{
	unsigned int nodes;
	u64 total = dt_memory(&nodes), want;
	char val[32];

	if (!cmdline_param("mem", val, sizeof(val)) || !parse_size(val, &want)) {
		report_skip("memory: no mem= on the command line");
		return;
	}
	report(nodes > 0 && total == want,
	       "memory: %u nodes add up to %lu MiB, mem=%s", nodes,
	       total >> 20, val);
}

static void check_cpus(void)
{
	int cpus = dt_path("/cpus"), cpu;
	unsigned int count = 0, ids = 0;
	char val[16];
	u64 want;
	u32 reg;

	for (cpu = cpus >= 0 ? dt_first_child(cpus) : -1; cpu >= 0;
	     cpu = dt_next_sibling(cpu)) {
		const char *type = dt_prop_string(cpu, "device_type");

		if (!type || strcmp(type, "cpu"))
			continue;
		/* APIC IDs 0..n-1, each once */
		if (dt_prop_u32(cpu, "reg", &reg) && reg < 32)
			ids |= 1u << reg;
		count++;
	}
	if (!cmdline_param("cpus", val, sizeof(val)) || !parse_size(val, &want)) {
		report_skip("CPUs: no cpus= on the command line (%u in the tree)",
			    count);
		return;
	}
	report(count == want && (want > 32 || ids == (u32)((1ULL << want) - 1)),
	       "CPUs: %u cpu nodes with APIC IDs 0..%u, cpus=%s", count,
	       count ? count - 1 : 0, val);
}

static void check_chosen(void)
{
	int chosen = dt_path("/chosen"), serial, dbg;
	const char *args = dt_prop_string(chosen, "bootargs");
	const char *out = dt_prop_string(chosen, "stdout-path");
	u64 port = 0, size = 0, dport = 0, dsize = 0;

	report(args && !strcmp(args, boot_cmdline()),
	       "chosen: bootargs \"%s\" is the command line", args ? args : "(none)");
	serial = out ? dt_path(out) : -1;
	report(serial >= 0 && dt_is_compatible(serial, "ns16550a") &&
	       dt_reg(serial, 0, &port, &size) && port == (1ULL << 32 | 0x3f8) &&
	       size == 8, "chosen: stdout-path %s is a 16550 at I/O port 0x3f8",
	       out ? out : "(none)");
	/* The UART that answers there: the scratch register holds a value. */
	outb(0x3ff, 0xa5);
	report(inb(0x3ff) == 0xa5, "the console's scratch register keeps a byte");

	dbg = dt_find_compatible(-1, "uvmm,debug-exit");
	report(dbg >= 0 && dt_reg(dbg, 0, &dport, &dsize) &&
	       dport == (1ULL << 32 | 0xf4) && dsize == 4,
	       "debug-exit: I/O port 0xf4, 4 bytes, rule %s",
	       dbg >= 0 && dt_prop_string(dbg, "uvmm,status-rule") ?
	       dt_prop_string(dbg, "uvmm,status-rule") : "?");
}

static void check_ioapic(void)
{
	int node = dt_find_compatible(-1, "intel,ce4100-ioapic");
	u64 addr = 0, size = 0;
	u32 cells = 0, version;

	report(node >= 0 && dt_reg(node, 0, &addr, &size) && addr == IOAPIC_BASE &&
	       dt_prop(node, "interrupt-controller", NULL) &&
	       dt_prop_u32(node, "#interrupt-cells", &cells) && cells == 2,
	       "IOAPIC node at %#lx, two interrupt cells", addr);
	version = ioapic_read(1);
	report((version & 0xff) == 0x11 && ((version >> 16) & 0xff) + 1 == 24,
	       "an IOAPIC answers there: version %#x, %u pins", version & 0xff,
	       ((version >> 16) & 0xff) + 1);
	node = dt_find_compatible(-1, "intel,ce4100-lapic");
	report(node >= 0 && dt_reg(node, 0, &addr, &size) && addr == LAPIC_BASE,
	       "local APIC node at %#lx", addr);
}

static int check_pci(void *arg)
{
	int node = dt_find_compatible(-1, "pci-host-ecam-generic");
	const char *type = node >= 0 ? dt_prop_string(node, "device_type") : NULL;
	u32 len = 0, phandle;
	const u8 *map = node >= 0 ? dt_prop(node, "interrupt-map", &len) : NULL;
	int ioapic = dt_find_compatible(-1, "intel,ce4100-ioapic");
	unsigned int i, bad = 0;
	u64 base, size;

	(void)arg;
	report(node >= 0 && type && !strcmp(type, "pci") && pci_init(),
	       "PCI host node: pci-host-ecam-generic, ECAM at %#lx", pci_ecam_base());
	report(pci_ecam_read(0, 0, 4) == pci_conf1_read(0, 0, 4) &&
	       pci_ecam_read(0, 0, 2) != 0xffff,
	       "ECAM and conf1 both reach 00:00.0 (%04x:%04x)",
	       pci_ecam_read(0, 0, 2), pci_ecam_read(0, 2, 2));
	report(pci_window(PCI_WINDOW_IO, &base, &size) &&
	       pci_window(PCI_WINDOW_MEM32, &base, &size) &&
	       pci_window(PCI_WINDOW_MEM64, &base, &size),
	       "ranges name the I/O, 32-bit and 64-bit windows");
	/* Every interrupt-map entry points at the IOAPIC. */
	for (i = 0; map && i + 28 <= len; i += 28) {
		phandle = dt_be32(map + i + 16);
		if (dt_find_phandle(phandle) != ioapic ||
		    dt_be32(map + i + 20) < 16 || dt_be32(map + i + 20) > 23)
			bad++;
	}
	report(map && len && len % 28 == 0 && !bad,
	       "interrupt-map: %u entries, all to IOAPIC GSIs 16-23", len / 28);
	return 0;
}

int main(void)
{
	const struct hvm_modlist_entry *m = boot_find_module("dtb");

	if (!m)
		abort_test("no \"dtb\" module in start_info");
	report(dt_init((const void *)m->paddr, m->size),
	       "dtb module at %#llx, %llu bytes, version %u",
	       (unsigned long long)m->paddr, (unsigned long long)m->size,
	       dt_version());
	if (!dt_ready())
		return report_summary();
	check_memory();
	check_cpus();
	check_chosen();
	check_ioapic();
	run_user(check_pci, NULL);
	return report_summary();
}
