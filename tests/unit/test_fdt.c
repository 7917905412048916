// SPDX-License-Identifier: MIT
/*
 * The device tree builder, read back with libfdt: memory, CPUs, /chosen,
 * the interrupt controllers, the ISA devices and the PCI host node; the
 * --dump-dtb writer; and the PVH loader handing the tree over as the
 * "dtb" module.
 */
#include <elf.h>
#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/pci_host.h"
#include "vmm/fdt.h"
#include "abi/machine.h"
#include "vmm/loader.h"
#include "vmm/pci_irq.h"
#include "vmm/pvh.h"
#include "tests/unit/support/fake_vm.h"

struct tree {
	struct vm_config cfg;
	void *blob;
	size_t size;
};

static void build(struct tree *t, u64 memory, unsigned int cpus,
		  const char *cmdline)
{
	memset(&t->cfg, 0, sizeof(t->cfg));
	t->cfg.memory_bytes = memory;
	t->cfg.nr_cpus = cpus;
	t->cfg.cmdline = (char *)cmdline;
	assert_int_equal(dtb_build(&t->cfg, &t->blob, &t->size, NULL, 0), 0);
	assert_int_equal(fdt_check_header(t->blob), 0);
	assert_int_equal(fdt_totalsize(t->blob), t->size);
	assert_true(t->size <= DTB_MAX_SIZE);
}

static int node(struct tree *t, const char *path)
{
	int off = fdt_path_offset(t->blob, path);

	if (off < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const char *str_prop(struct tree *t, int off, const char *name)
{
	const char *s = fdt_getprop(t->blob, off, name, NULL);

	if (!s)
		fail_msg("no property %s", name);
	return s;
}

/* The property as host-endian cells; *n cells. */
static const fdt32_t *cells(struct tree *t, int off, const char *name,
			    unsigned int *n)
{
	int len = 0;
	const fdt32_t *p = fdt_getprop(t->blob, off, name, &len);

	if (!p)
		fail_msg("no property %s", name);
	*n = len / 4;
	return p;
}

static u32 cell(const fdt32_t *p, unsigned int i)
{
	return fdt32_to_cpu(p[i]);
}

static u64 cell64(const fdt32_t *p, unsigned int i)
{
	return (u64)cell(p, i) << 32 | cell(p, i + 1);
}

static void test_memory_nodes_cover_ram(void **state)
{
	struct tree t;
	unsigned int n;
	const fdt32_t *reg;

	(void)state;
	build(&t, 128 * MiB, 1, NULL);
	reg = cells(&t, node(&t, "/memory@0"), "reg", &n);
	assert_int_equal(n, 4);
	assert_int_equal(cell64(reg, 0), 0);
	assert_int_equal(cell64(reg, 2), 128 * MiB);
	assert_string_equal(str_prop(&t, node(&t, "/memory@0"), "device_type"),
			    "memory");
	assert_true(fdt_path_offset(t.blob, "/memory@100000000") < 0);
	free(t.blob);

	/* 4 GiB: split around the hole like the memory map. */
	build(&t, 4 * GiB, 1, NULL);
	reg = cells(&t, node(&t, "/memory@0"), "reg", &n);
	assert_int_equal(cell64(reg, 2), MEM_LOW_RAM_MAX);
	reg = cells(&t, node(&t, "/memory@100000000"), "reg", &n);
	assert_int_equal(cell64(reg, 0), 4 * GiB);
	assert_int_equal(cell64(reg, 2), 4 * GiB - MEM_LOW_RAM_MAX);
	free(t.blob);
}

static void test_cpus_by_apic_id(void **state)
{
	struct tree t;
	int cpus, cpu;
	unsigned int count = 0, n;

	(void)state;
	build(&t, 64 * MiB, 5, NULL);
	cpus = node(&t, "/cpus");
	fdt_for_each_subnode(cpu, t.blob, cpus) {
		const fdt32_t *reg = cells(&t, cpu, "reg", &n);

		assert_int_equal(n, 1);
		assert_int_equal(cell(reg, 0), count);
		assert_string_equal(str_prop(&t, cpu, "device_type"), "cpu");
		count++;
	}
	assert_int_equal(count, 5);
	free(t.blob);

	/* The most uvmm allows still fits in the 64 KiB area. */
	build(&t, 64 * MiB, CONFIG_MAX_CPUS, NULL);
	assert_true(fdt_path_offset(t.blob, "/cpus/cpu@3f") >= 0);
	free(t.blob);
}

/* An ISA device node: compatible, I/O ports, an edge-triggered IRQ. */
static void check_isa_device(struct tree *t, int off, const char *compatible,
			     u32 port, u32 len, u32 irq_nr)
{
	const fdt32_t *reg, *irq;
	unsigned int n;

	assert_int_equal(fdt_node_check_compatible(t->blob, off, compatible), 0);
	reg = cells(t, off, "reg", &n);
	assert_int_equal(n, 3);
	assert_int_equal(cell(reg, 0), 1);		/* I/O space */
	assert_int_equal(cell(reg, 1), port);
	assert_int_equal(cell(reg, 2), len);
	irq = cells(t, off, "interrupts", &n);
	assert_int_equal(n, 2);
	assert_int_equal(cell(irq, 0), irq_nr);
	assert_int_equal(cell(irq, 1), DTB_IRQ_EDGE_RISING);
}

static void test_chosen_and_console(void **state)
{
	struct tree t;
	int chosen, serial;

	(void)state;
	build(&t, 64 * MiB, 1, "console=ttyS0 mem=64M");
	chosen = node(&t, "/chosen");
	assert_string_equal(str_prop(&t, chosen, "bootargs"),
			    "console=ttyS0 mem=64M");
	serial = node(&t, str_prop(&t, chosen, "stdout-path"));
	assert_int_equal(serial, node(&t, DTB_PATH_SERIAL));
	check_isa_device(&t, serial, "ns16550a", 0x3f8, 8, 4);
	assert_string_equal(str_prop(&t, node(&t, "/aliases"), "serial0"),
			    DTB_PATH_SERIAL);
	free(t.blob);

	/* No command line: an empty bootargs, still there. */
	build(&t, 64 * MiB, 1, NULL);
	assert_string_equal(str_prop(&t, node(&t, "/chosen"), "bootargs"), "");
	free(t.blob);
}

static void test_debug_exit_node(void **state)
{
	struct tree t;
	const fdt32_t *reg;
	unsigned int n;
	int off;

	(void)state;
	build(&t, 64 * MiB, 1, NULL);
	off = node(&t, DTB_PATH_DEBUG_EXIT);
	reg = cells(&t, off, "reg", &n);
	assert_int_equal(cell(reg, 1), 0xf4);
	assert_int_equal(cell(reg, 2), 4);
	assert_string_equal(str_prop(&t, off, "uvmm,status-rule"), "qemu");
	free(t.blob);

	t.cfg.debug_exit = DEBUG_EXIT_RAW;
	assert_int_equal(dtb_build(&t.cfg, &t.blob, &t.size, NULL, 0), 0);
	assert_string_equal(str_prop(&t, node(&t, DTB_PATH_DEBUG_EXIT),
				     "uvmm,status-rule"), "raw");
	free(t.blob);
}

/* Linux finds its CMOS RTC here; "ranges" lets it translate the ports. */
static void test_rtc_node(void **state)
{
	struct tree t;
	int len;

	(void)state;
	build(&t, 64 * MiB, 1, NULL);
	assert_non_null(fdt_getprop(t.blob, node(&t, "/isa"), "ranges", &len));
	assert_int_equal(len, 0);
	check_isa_device(&t, node(&t, DTB_PATH_RTC), "motorola,mc146818", 0x70,
			 2, 8);
	free(t.blob);
}

static void test_interrupt_controllers(void **state)
{
	struct tree t;
	const fdt32_t *reg, *p;
	unsigned int n;
	int ioapic, lapic;

	(void)state;
	build(&t, 64 * MiB, 1, NULL);
	ioapic = fdt_node_offset_by_compatible(t.blob, -1, "intel,ce4100-ioapic");
	assert_true(ioapic >= 0);
	reg = cells(&t, ioapic, "reg", &n);
	assert_int_equal(cell64(reg, 0), 0xfec00000);
	assert_non_null(fdt_getprop(t.blob, ioapic, "interrupt-controller", NULL));
	p = cells(&t, ioapic, "#interrupt-cells", &n);
	assert_int_equal(cell(p, 0), 2);
	assert_int_equal(fdt_get_phandle(t.blob, ioapic), DTB_IOAPIC_PHANDLE);
	/* The root's default interrupt parent is the IOAPIC. */
	p = cells(&t, 0, "interrupt-parent", &n);
	assert_int_equal(fdt_node_offset_by_phandle(t.blob, cell(p, 0)), ioapic);
	lapic = fdt_node_offset_by_compatible(t.blob, -1, "intel,ce4100-lapic");
	assert_true(lapic >= 0);
	reg = cells(&t, lapic, "reg", &n);
	assert_int_equal(cell64(reg, 0), 0xfee00000);
	free(t.blob);
}

static void test_pci_host_node(void **state)
{
	struct tree t;
	const fdt32_t *p;
	unsigned int n, i, slot, pin;
	int pci, ioapic;
	u64 m64 = pci_mmio64_base(4 * GiB);

	(void)state;
	build(&t, 4 * GiB, 1, NULL);
	pci = fdt_node_offset_by_compatible(t.blob, -1, "pci-host-ecam-generic");
	assert_int_equal(pci, node(&t, DTB_PATH_PCI));
	assert_string_equal(str_prop(&t, pci, "device_type"), "pci");
	p = cells(&t, pci, "reg", &n);
	assert_int_equal(cell64(p, 0), PCI_ECAM_BASE);
	assert_int_equal(cell64(p, 2), PCI_ECAM_SIZE);
	p = cells(&t, pci, "bus-range", &n);
	assert_int_equal(n, 2);
	assert_int_equal(cell(p, 0), 0);
	assert_int_equal(cell(p, 1), 255);

	/* ranges: I/O, 32-bit, 64-bit; 3 + 2 + 2 cells each, identity. */
	p = cells(&t, pci, "ranges", &n);
	assert_int_equal(n, 21);
	assert_int_equal(cell(p, 0), 0x01000000);
	assert_int_equal(cell64(p, 1), PCI_WIN_IO_BASE);
	assert_int_equal(cell64(p, 3), PCI_WIN_IO_BASE);
	assert_int_equal(cell64(p, 5), PCI_WIN_IO_SIZE);
	assert_int_equal(cell(p, 7), 0x02000000);
	assert_int_equal(cell64(p, 8), 0xc0000000);
	assert_int_equal(cell64(p, 10), 0xc0000000);
	assert_int_equal(cell64(p, 12), 0x3c000000);
	assert_int_equal(cell(p, 14), 0x03000000);
	assert_int_equal(cell64(p, 15), m64);
	assert_int_equal(m64, 6 * GiB);
	assert_int_equal(cell64(p, 17), m64);
	assert_int_equal(cell64(p, 19), PCI_WIN_MMIO64_SIZE);

	/* interrupt-map: every slot and pin, to the IOAPIC, level low. */
	ioapic = fdt_node_offset_by_compatible(t.blob, -1, "intel,ce4100-ioapic");
	p = cells(&t, pci, "interrupt-map-mask", &n);
	assert_int_equal(n, 4);
	assert_int_equal(cell(p, 0), 0xf800);
	assert_int_equal(cell(p, 3), 7);
	p = cells(&t, pci, "interrupt-map", &n);
	assert_int_equal(n, 32 * 4 * 7);
	for (i = 0; i < n; i += 7) {
		slot = cell(p, i) >> 11;
		pin = cell(p, i + 3);
		assert_int_equal(slot, i / 28);
		assert_int_equal(pin, (i / 7) % 4 + 1);
		assert_int_equal(fdt_node_offset_by_phandle(t.blob, cell(p, i + 4)),
				 ioapic);
		assert_int_equal(cell(p, i + 5), pci_intx_gsi(slot, pin));
		assert_int_equal(cell(p, i + 6), DTB_IRQ_LEVEL_LOW);
	}
	free(t.blob);
}

static void test_same_config_same_bytes(void **state)
{
	struct tree a, b;

	(void)state;
	build(&a, 256 * MiB, 2, "x=1");
	build(&b, 256 * MiB, 2, "x=1");
	assert_int_equal(a.size, b.size);
	assert_memory_equal(a.blob, b.blob, a.size);
	free(b.blob);
	build(&b, 256 * MiB, 2, "x=2");
	assert_true(a.size != b.size || memcmp(a.blob, b.blob, a.size));
	free(a.blob);
	free(b.blob);
}

static void test_write_file(void **state)
{
	char path[] = "/tmp/uvmm-test-dtb-XXXXXX", err[256] = "";
	struct tree t;
	u8 back[DTB_MAX_SIZE];
	FILE *f;
	size_t n;
	int fd;

	(void)state;
	build(&t, 64 * MiB, 1, "hello");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(dtb_write_file(path, t.blob, t.size, err, sizeof(err)), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(back, 1, sizeof(back), f);
	fclose(f);
	unlink(path);
	assert_int_equal(n, t.size);
	assert_memory_equal(back, t.blob, t.size);

	assert_int_equal(dtb_write_file("/nonexistent/dir/x.dtb", t.blob, t.size,
					err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dir/x.dtb"));
	free(t.blob);
}

/* A PVH ELF: one LOAD at 1 MiB and the entry note. */
static void write_pvh_image(const char *path)
{
	u8 img[0x1200] = { 0 };
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 4,
			  .n_type = XEN_ELFNOTE_PHYS32_ENTRY };
	u32 entry = 0x100000;
	FILE *f;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr) {
		.p_type = PT_LOAD, .p_offset = 0x1000, .p_vaddr = 0x100000,
		.p_paddr = 0x100000, .p_filesz = 0x100, .p_memsz = 0x1000,
		.p_flags = PF_R | PF_X,
	};
	memcpy(img + 0x800, &nh, sizeof(nh));
	memcpy(img + 0x800 + sizeof(nh), "Xen", 4);
	memcpy(img + 0x800 + sizeof(nh) + 4, &entry, 4);
	ph[1] = (Elf64_Phdr) {
		.p_type = PT_NOTE, .p_offset = 0x800, .p_filesz = sizeof(nh) + 8,
	};
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, sizeof(img), f), sizeof(img));
	fclose(f);
}

static void test_pvh_guest_gets_dtb_module(void **state)
{
	char path[] = "/tmp/uvmm-test-pvh-XXXXXX", err[512] = "";
	struct vm_config cfg = {
		.memory_bytes = 16 * MiB, .nr_cpus = 2, .cmdline = "a=b",
	};
	const struct hvm_start_info *si;
	const struct hvm_modlist_entry *mod;
	struct vm *vm;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_pvh_image(path);
	cfg.image_path = path;
	vm = fake_vm_create(&cfg, cfg.memory_bytes);
	assert_non_null(vm);
	assert_int_equal(dtb_build(&cfg, &vm->dtb, &vm->dtb_size, NULL, 0), 0);
	assert_int_equal(loader_load(vm, err, sizeof(err)), 0);
	unlink(path);

	si = gpa_to_hva(vm, vm->boot.rbx, sizeof(*si));
	assert_non_null(si);
	assert_int_equal(si->nr_modules, 1);
	mod = gpa_to_hva(vm, si->modlist_paddr, sizeof(*mod));
	assert_non_null(mod);
	assert_int_equal(mod->paddr, LAYOUT_DTB);
	assert_int_equal(mod->size, vm->dtb_size);
	assert_string_equal((const char *)gpa_to_hva(vm, mod->cmdline_paddr, 4),
			    "dtb");
	assert_memory_equal(gpa_to_hva(vm, LAYOUT_DTB, vm->dtb_size), vm->dtb,
			    vm->dtb_size);
	assert_int_equal(fdt_check_header(gpa_to_hva(vm, LAYOUT_DTB,
						     vm->dtb_size)), 0);
	free(vm->dtb);
	fake_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_nodes_cover_ram),
		cmocka_unit_test(test_cpus_by_apic_id),
		cmocka_unit_test(test_chosen_and_console),
		cmocka_unit_test(test_debug_exit_node),
		cmocka_unit_test(test_rtc_node),
		cmocka_unit_test(test_interrupt_controllers),
		cmocka_unit_test(test_pci_host_node),
		cmocka_unit_test(test_same_config_same_bytes),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_pvh_guest_gets_dtb_module),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
