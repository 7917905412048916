// SPDX-License-Identifier: MIT
/*
 * bench-vfu: the guest side of `make bench` (bench/measure.sh), with two
 * test devices (tests/servers/sampledev: the first one DMA-mapped, the
 * second with --no-dma-fd) and uvmm's built-in PCI function 1234:7e57 as
 * the in-process reference. Every timed loop runs at CPL3 (run_user),
 * which software KVM runs natively, and prints its raw samples as
 *
 *	BENCH <name> <unit> <ops per sample> <sample> <sample> ...
 *
 * (more such lines for the same name continue it), unit "ticks" (TSC) or
 * "ns". bench/measure.sh turns them into results. What is timed:
 *
 *   cfg_vfu, cfg_ref     a 4-byte ECAM config read: of the vfio-user
 *                        device (a REGION_READ of config space), and of
 *                        the built-in function (answered inside uvmm)
 *   bar0_vfu, bar0_ref   a 4-byte BAR0 register read, the same two ways
 *   bar0w_vfu, bar0w_ref a 4-byte BAR0 scratch register write: posted to
 *                        the server (REGION_WRITE, NO_REPLY), and to the
 *                        built-in function (answered inside uvmm)
 *   efd_vfu, efd_ref     a 4-byte write to an ioeventfd doorbell: the
 *                        server's (from GET_REGION_IO_FDS), and the
 *                        built-in function's (uvmm's own KVM ioeventfd)
 *   port_read            an unclaimed port (one exit, the bus's default)
 *   bar2_read/_write     4-byte accesses to the mmap'ed BAR2 (no exit),
 *   ram_read/_write      and the same to guest RAM
 *   dma_map, dma_msg     DMA_CMD write (COPY | SYNC | NO_CSUM) of
 *                        bench.dma_mib MiB within guest RAM until it
 *                        returns: device 0 copies through its mapping,
 *                        device 1 by DMA_READ/DMA_WRITE messages;
 *   dma_map_server, ...  the same copies as the server timed them (DMA_NS)
 *   irq_vfu, irq_ref     doorbell write to MSI-X handler entry: through
 *                        the server (REGION_WRITE, its eventfd, KVM's
 *                        irqfd), and through the built-in function (its
 *                        eventfd written on the vCPU thread, same irqfd)
 *   irq_efd              the same through the server's EFD_IRQ doorbell:
 *                        a KVM ioeventfd wakes the server's thread, which
 *                        writes the vector's eventfd (no message, no exit
 *                        to uvmm); timed interleaved with irq_ref again
 *
 * Command line: bench.n=N (samples of each trapped access, default 1000),
 * bench.batches=N (samples of 1024 mmap/RAM accesses, default 100),
 * bench.dma_mib=N (default 64), bench.dma_runs=N (default 5; one more,
 * untimed, first warms the server's mapping).
 */
#include "sampledev.h"
#include "abi/pci_testdev.h"

#define VEC_VFU		0x40
#define VEC_REF		0x41
#define BATCH		1024
/* A lost interrupt must not hang the bench: ~30 s at any plausible TSC. */
#define IRQ_GIVE_UP	(100ull << 30)

struct target {
	u64 cfg;		/* ECAM address of a 4-byte config read */
	u64 bar0;		/* a BAR0 register read */
	u64 bar0w;		/* a BAR0 register write */
	u64 efd;		/* an ioeventfd doorbell */
	u64 efd_count;		/* how many times it rang */
	u64 doorbell;		/* where to write what raises MSI-X vector 0 */
	u32 doorbell_val;
	u32 vector;
};

struct bench {
	unsigned int n, batches, dma_runs;
	u64 dma_len;
	struct sampledev dev[2];
	struct target vfu, ref, vfu_efd;
	u64 *a, *b;		/* samples */
	u8 *src, *dst;		/* DMA buffers */
	bool ok;
};

static volatile u64 irq_tsc;
static volatile u32 irq_vector;

static void irq_handler(unsigned int vector)
{
	irq_tsc = rdtsc();
	irq_vector = vector;
}

/* ---- trapped accesses: one exit each, interleaved with the reference ------ */

static void time_reads(struct bench *b, u64 vfu_addr, u64 ref_addr,
		       const char *vfu_name, const char *ref_name)
{
	u32 sink = 0;
	unsigned int i;
	u64 t;

	for (i = 0; i < b->n; i++) {
		t = rdtsc();
		sink += readl(vfu_addr);
		b->a[i] = rdtsc() - t;
		t = rdtsc();
		sink += readl(ref_addr);
		b->b[i] = rdtsc() - t;
	}
	bench_emit(vfu_name, "ticks", 1, b->a, b->n);
	bench_emit(ref_name, "ticks", 1, b->b, b->n);
	if (!sink)
		b->ok = false;
}

static void time_writes(struct bench *b, u64 vfu_addr, u64 ref_addr,
			const char *vfu_name, const char *ref_name)
{
	unsigned int i;
	u64 t;

	for (i = 0; i < b->n; i++) {
		t = rdtsc();
		writel(vfu_addr, i);
		b->a[i] = rdtsc() - t;
		t = rdtsc();
		writel(ref_addr, i);
		b->b[i] = rdtsc() - t;
	}
	bench_emit(vfu_name, "ticks", 1, b->a, b->n);
	bench_emit(ref_name, "ticks", 1, b->b, b->n);
}

static void time_port(struct bench *b)
{
	unsigned int i;
	u32 sink = 0;
	u64 t;

	for (i = 0; i < b->n; i++) {
		t = rdtsc();
		sink += inb(0x100);
		b->a[i] = rdtsc() - t;
	}
	bench_emit("port_read", "ticks", 1, b->a, b->n);
	if (sink != 0xffu * b->n)
		b->ok = false;
}

/* ---- mmap'ed BAR2 against RAM: no exits, so batches -------------------------- */

static u64 batch_read(u64 addr)
{
	volatile u32 *p = (volatile u32 *)addr;
	u32 sink = 0;
	u64 t = rdtsc();
	unsigned int i;

	for (i = 0; i < BATCH; i++)
		sink += p[i];
	t = rdtsc() - t;
	return t + (sink == 0x5eed ? 1 : 0);	/* keep the loads */
}

static u64 batch_write(u64 addr)
{
	volatile u32 *p = (volatile u32 *)addr;
	u64 t = rdtsc();
	unsigned int i;

	for (i = 0; i < BATCH; i++)
		p[i] = i;
	return rdtsc() - t;
}

static void time_mmap(struct bench *b, u64 ram)
{
	u64 bar2 = b->dev[0].bar2.addr;
	unsigned int i;

	for (i = 0; i < b->batches; i++) {
		b->a[i] = batch_read(bar2);
		b->b[i] = batch_read(ram);
	}
	bench_emit("bar2_read", "ticks", BATCH, b->a, b->batches);
	bench_emit("ram_read", "ticks", BATCH, b->b, b->batches);
	for (i = 0; i < b->batches; i++) {
		b->a[i] = batch_write(bar2);
		b->b[i] = batch_write(ram);
	}
	bench_emit("bar2_write", "ticks", BATCH, b->a, b->batches);
	bench_emit("ram_write", "ticks", BATCH, b->b, b->batches);
}

/* ---- DMA ------------------------------------------------------------------ */

/*
 * One SYNC copy src -> dst: ticks until the STATUS read after the DMA_CMD
 * write returned (the write may be posted; the read comes after it).
 */
static u64 dma_once(struct bench *b, const struct sampledev *d, u64 *server_ns)
{
	u32 status;
	u64 t;

	sampledev_set(d, SAMPLEDEV_REG_DMA_SRC_LO, (u32)(u64)b->src);
	sampledev_set(d, SAMPLEDEV_REG_DMA_SRC_HI, (u64)b->src >> 32);
	sampledev_set(d, SAMPLEDEV_REG_DMA_DST_LO, (u32)(u64)b->dst);
	sampledev_set(d, SAMPLEDEV_REG_DMA_DST_HI, (u64)b->dst >> 32);
	sampledev_set(d, SAMPLEDEV_REG_DMA_LEN, (u32)b->dma_len);
	t = rdtsc();
	sampledev_set(d, SAMPLEDEV_REG_DMA_CMD, SAMPLEDEV_DMA_OP_COPY |
		    SAMPLEDEV_DMA_SYNC | SAMPLEDEV_DMA_NO_CSUM);
	status = sampledev_reg(d, SAMPLEDEV_REG_DMA_STATUS);
	t = rdtsc() - t;
	if (status != SAMPLEDEV_DMA_DONE) {
		printf("FAIL: DMA copy: status %u, error %u\n", status,
		       sampledev_reg(d, SAMPLEDEV_REG_DMA_ERR));
		b->ok = false;
	}
	*server_ns = sampledev_reg(d, SAMPLEDEV_REG_DMA_NS);
	return t;
}

static bool same_words(const u8 *x, const u8 *y, u64 len)
{
	u64 off;

	for (off = 0; off < len; off += 4096)
		if (*(const u64 *)(x + off) != *(const u64 *)(y + off))
			return false;
	return true;
}

static void time_dma(struct bench *b)
{
	static const char *const names[2] = { "dma_map", "dma_msg" };
	static const char *const server[2] = { "dma_map_server",
					       "dma_msg_server" };
	unsigned int d, r;
	u64 i, *w = (u64 *)b->src, ns;

	for (d = 0; d < 2; d++) {
		/* A new pattern each time, so a copy that did nothing shows. */
		for (i = 0; i < b->dma_len / 8; i++)
			w[i] = i * 0x9e3779b97f4a7c15ull + d;
		dma_once(b, &b->dev[d], &ns);		/* warm-up */
		for (r = 0; r < b->dma_runs; r++)
			b->a[r] = dma_once(b, &b->dev[d], &b->b[r]);
		if (!same_words(b->src, b->dst, b->dma_len)) {
			printf("FAIL: DMA copy by device %u: destination differs\n",
			       d);
			b->ok = false;
		}
		bench_emit(names[d], "ticks", 1, b->a, b->dma_runs);
		bench_emit(server[d], "ns", 1, b->b, b->dma_runs);
	}
}

/* ---- interrupts ------------------------------------------------------------- */

static u64 irq_once(const struct target *t, bool *lost)
{
	u64 start;

	irq_vector = 0;
	start = rdtsc();
	writel(t->doorbell, t->doorbell_val);
	while (irq_vector != t->vector) {
		if (rdtsc() - start > IRQ_GIVE_UP) {
			*lost = true;
			return 0;
		}
		cpu_relax();
	}
	return irq_tsc - start;
}

/* Round trips through t, each followed by one through the reference. */
static bool time_irq_against_ref(struct bench *b, const struct target *t,
				 const char *name)
{
	bool lost = false;
	unsigned int i;

	/* IOPL 3 lets CPL3 take interrupts; the handlers run at CPL0. */
	asm volatile("sti" ::: "memory");
	for (i = 0; i < b->n && !lost; i++) {
		b->a[i] = irq_once(t, &lost);
		b->b[i] = irq_once(&b->ref, &lost);
	}
	asm volatile("cli" ::: "memory");
	if (lost) {
		printf("FAIL: %s: an MSI-X interrupt did not arrive\n", name);
		b->ok = false;
		return false;
	}
	bench_emit(name, "ticks", 1, b->a, b->n);
	bench_emit("irq_ref", "ticks", 1, b->b, b->n);
	return true;
}

static void time_irq(struct bench *b)
{
	if (time_irq_against_ref(b, &b->vfu, "irq_vfu"))
		time_irq_against_ref(b, &b->vfu_efd, "irq_efd");
}

static int run(void *arg)
{
	struct bench *b = arg;

	time_reads(b, b->vfu.cfg, b->ref.cfg, "cfg_vfu", "cfg_ref");
	time_reads(b, b->vfu.bar0, b->ref.bar0, "bar0_vfu", "bar0_ref");
	time_writes(b, b->vfu.bar0w, b->ref.bar0w, "bar0w_vfu", "bar0w_ref");
	/* Every write reached the server, in order, before this read. */
	if (readl(b->vfu.bar0w) != b->n - 1) {
		printf("FAIL: posted writes: scratch reads %u, want %u\n",
		       readl(b->vfu.bar0w), b->n - 1);
		b->ok = false;
	}
	time_writes(b, b->vfu.efd, b->ref.efd, "efd_vfu", "efd_ref");
	/* The doorbells rang as eventfds, none as a message. */
	if (readl(b->vfu.efd_count) != b->n || readl(b->ref.efd_count) != b->n ||
	    readl(b->dev[0].bar0.addr + SAMPLEDEV_REG_EFD_TRAPPED)) {
		printf("FAIL: doorbells: server %u, built-in %u, want %u; %u by message\n",
		       readl(b->vfu.efd_count), readl(b->ref.efd_count), b->n,
		       readl(b->dev[0].bar0.addr + SAMPLEDEV_REG_EFD_TRAPPED));
		b->ok = false;
	}
	time_port(b);
	time_mmap(b, (u64)b->dst);
	time_dma(b);
	time_irq(b);
	return 0;
}

/* ---- set-up (CPL0) ------------------------------------------------------------ */

static void msix_vector0(u32 bdf, u64 table, u8 apic, u8 vector)
{
	u8 cap = pci_find_cap(bdf, PCI_CAP_MSIX);

	writel(table, (u32)msi_address(apic));
	writel(table + 4, msi_address(apic) >> 32);
	writel(table + 8, msi_data(vector));
	writel(table + 12, 0);				/* unmasked */
	pci_write(bdf, cap + 2, 2, 0x8000);		/* enable, no mask */
}

static bool find_builtin(u32 *bdf)
{
	u32 bdfs[32];
	unsigned int n, i;

	n = pci_scan_bus(0, bdfs, 32);
	for (i = 0; i < n; i++) {
		if (pci_read(bdfs[i], PCI_CFG_VENDOR, 2) == PCI_TESTDEV_VENDOR_ID &&
		    pci_read(bdfs[i], PCI_CFG_DEVICE, 2) == PCI_TESTDEV_DEVICE_ID) {
			*bdf = bdfs[i];
			return true;
		}
	}
	return false;
}

int main(void)
{
	static struct bench b;
	struct pci_bar regs, msix;
	u32 ref_bdf;
	u8 apic;

	b.n = cmdline_num("bench.n", 1000, 1, 1000000);
	b.batches = cmdline_num("bench.batches", 100, 1, 1000000);
	b.dma_runs = cmdline_num("bench.dma_runs", 5, 1, 1000000);
	b.dma_len = (u64)cmdline_num("bench.dma_mib", 64, 1, 1000000) << 20;
	b.ok = true;
	if (b.dma_len > SAMPLEDEV_DMA_MAX_LEN)
		b.dma_len = SAMPLEDEV_DMA_MAX_LEN;
	if (!sampledev_find(0, &b.dev[0]) || !sampledev_find(1, &b.dev[1]))
		abort_test("two sampledev servers on bus 0");
	if (!find_builtin(&ref_bdf))
		abort_test("uvmm's built-in function %04x:%04x",
			   PCI_TESTDEV_VENDOR_ID, PCI_TESTDEV_DEVICE_ID);
	if (!pci_ecam_base())
		abort_test("an ECAM window in the device tree");
	pci_bar_probe(ref_bdf, PCI_TESTDEV_BAR_REGS, &regs);
	pci_bar_probe(ref_bdf, PCI_TESTDEV_BAR_MSIX, &msix);
	pci_write(ref_bdf, PCI_CFG_COMMAND, 2,
		  pci_read(ref_bdf, PCI_CFG_COMMAND, 2) | PCI_CMD_MEM |
		  PCI_CMD_MASTER);

	b.vfu.cfg = pci_ecam_base() + ((u64)b.dev[0].bdf << 12) +
		    SAMPLEDEV_CFG_VNDR_SIG_OFF;
	b.ref.cfg = pci_ecam_base() + ((u64)ref_bdf << 12);
	b.vfu.bar0 = b.dev[0].bar0.addr + SAMPLEDEV_REG_ID;
	b.ref.bar0 = regs.addr + PCI_TESTDEV_REG_MAGIC;
	b.vfu.bar0w = b.dev[0].bar0.addr + SAMPLEDEV_REG_SCRATCH;
	b.ref.bar0w = regs.addr + PCI_TESTDEV_REG_SCRATCH;
	b.vfu.efd = b.dev[0].bar0.addr + SAMPLEDEV_REG_EFD_DOORBELL;
	b.ref.efd = regs.addr + PCI_TESTDEV_REG_DOORBELL;
	b.vfu.efd_count = b.dev[0].bar0.addr + SAMPLEDEV_REG_EFD_COUNT;
	b.ref.efd_count = regs.addr + PCI_TESTDEV_REG_DOORBELLS;
	b.vfu.doorbell = b.dev[0].bar0.addr + SAMPLEDEV_REG_DOORBELL;
	b.vfu.doorbell_val = SAMPLEDEV_IRQ_MSIX(0);
	b.vfu.vector = VEC_VFU;
	b.vfu_efd = b.vfu;
	b.vfu_efd.doorbell = b.dev[0].bar0.addr + SAMPLEDEV_REG_EFD_IRQ;
	b.vfu_efd.doorbell_val = 1;
	b.ref.doorbell = regs.addr + PCI_TESTDEV_REG_MSIX;
	b.ref.doorbell_val = 0;
	b.ref.vector = VEC_REF;

	lapic_enable();
	apic = lapic_id();
	set_irq_handler(VEC_VFU, irq_handler);
	set_irq_handler(VEC_REF, irq_handler);
	msix_vector0(b.dev[0].bdf, b.dev[0].bar0.addr + SAMPLEDEV_MSIX_TABLE,
		     apic, VEC_VFU);
	msix_vector0(ref_bdf, msix.addr, apic, VEC_REF);

	b.a = calloc(MAX(b.n, MAX(b.batches, b.dma_runs)), sizeof(u64));
	b.b = calloc(MAX(b.n, MAX(b.batches, b.dma_runs)), sizeof(u64));
	b.src = memalign(PAGE_SIZE, b.dma_len);
	b.dst = memalign(PAGE_SIZE, b.dma_len);
	if (!b.a || !b.b || !b.src || !b.dst)
		abort_test("memory for samples and 2 x %lu MiB of DMA buffers (-m)",
			   b.dma_len >> 20);
	printf("BENCH-START n=%u batches=%u dma_mib=%lu dma_runs=%u\n", b.n,
	       b.batches, b.dma_len >> 20, b.dma_runs);
	run_user(run, &b);
	report(b.ok, "every benchmark ran and checked out");
	return report_summary();
}
