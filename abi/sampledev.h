/* SPDX-License-Identifier: MIT */
/*
 * sampledev, the vfio-user sample device that tests/servers/sampledev.c
 * serves out of process (not to be confused with uvmm's built-in PCI test
 * function, abi/pci_testdev.h): its PCI identity and register map. Plain #defines only (no includes, no types): the host
 * server, the unit tests and the freestanding guest programs all include
 * this file.
 *
 * PCI function
 *   vendor 0x5555, device 0x0001 (made up, for tests only), revision 1,
 *   class 0xff0000, subsystem 0x5555:0x0001, interrupt pin INTA#.
 *   Config space: 256 bytes (vfio-user region 7), type-0 header, a
 *   capability list MSI (0x40) -> MSI-X (0x50) -> vendor-specific (0x60),
 *   and a scratch area the guest may read and write (0x80-0xff).
 *   BAR0: 16 KiB 32-bit memory, registers (below); the MSI-X table at
 *   0x1000 and the PBA at 0x2000.
 *   BAR2: 1 MiB 32-bit prefetchable memory, backed by a memfd the server
 *   offers as one mmap-able area (the whole BAR): a client maps it and
 *   the server reads the same bytes (BAR2_CSUM, DMA).
 *   BAR1, BAR3-5, the ROM: absent (region size 0, registers read 0).
 *   IRQs: INTx 1, MSI 1 (64-bit address, no per-vector mask), MSI-X 8.
 *
 * Register accesses (BAR0 below 0x1000): any size and alignment; the
 * registers are 32-bit little-endian words, a wider access covers the
 * words it spans in ascending address order (an 8-byte write at DMA_SRC
 * sets both halves; at DMA_LEN it sets LEN, then writes CMD). A partial
 * write merges into the stored value of a read/write register and into 0
 * for the others. Unlisted offsets read 0 and ignore writes.
 *
 * Interrupts: a doorbell value (DOORBELL, DMA_IRQ) names one interrupt:
 *   SAMPLEDEV_IRQ_MSIX(n)  MSI-X vector n (0-7)
 *   SAMPLEDEV_IRQ_MSI      MSI (vector 0)
 *   SAMPLEDEV_IRQ_INTX     INTx: level. INTX_STATUS gets a cause bit and the
 *                        line stays asserted until every cause bit is
 *                        cleared through INTX_ACK. The server signals the
 *                        client's INTx eventfd on each assertion (edge, as
 *                        vfio-user servers do); an UNMASK of INTx through
 *                        SET_IRQS (what a client does on a resample, after
 *                        the guest's EOI) signals it again while the line
 *                        is still asserted. COMMAND.INTX_DISABLE holds the
 *                        signal back (the status bits still set); clearing
 *                        it signals a line that is asserted.
 * An MSI or MSI-X vector the client masked with SET_IRQS ACTION_MASK is
 * held pending (its PBA bit reads 1) and sent on ACTION_UNMASK. An
 * interrupt that cannot be sent (no eventfd from the client, a bad vector
 * or kind) is counted in IRQ_LOST; each one sent in IRQ_COUNT. The MSI
 * and MSI-X capability registers and the MSI-X table are plain storage:
 * a client emulates them (uvmm does) and gives the server one eventfd per
 * vector.
 *
 * DMA engine: SRC, DST (u64), LEN (bytes, at most SAMPLEDEV_DMA_MAX_LEN),
 * then a write to DMA_CMD starts an operation:
 *   SAMPLEDEV_DMA_OP_COPY   copy LEN bytes SRC -> DST (as memmove)
 *   SAMPLEDEV_DMA_OP_CSUM   read LEN bytes at SRC (DST unused)
 * Both put the checksum of the bytes read in DMA_CSUM, or 0 with
 * SAMPLEDEV_DMA_NO_CSUM (a plain copy, for benchmarks). An address is a
 * guest-physical address (IOVA = GPA) inside a DMA_MAP'ed range, or, with
 * SAMPLEDEV_DMA_BAR2 set (bit 63), an offset into BAR2. A copy between two
 * ranges the server has mapped (BAR2, or guest RAM whose DMA_MAP came
 * with an fd) is one memmove; otherwise it goes through a 1 MiB bounce
 * buffer, by DMA_READ/DMA_WRITE messages where RAM is not mapped, and an
 * error stops it where it happened. The operation runs
 * after the DMA_CMD write completes (STATUS reads BUSY until then; poll
 * STATUS), or before the write completes with SAMPLEDEV_DMA_SYNC. On the
 * end STATUS is DONE or ERROR (DMA_ERR says why), DMA_NS holds how long
 * the engine took (server clock, CLOCK_MONOTONIC, saturating), DMA_COUNT
 * counts the operations that ended DONE, and DMA_IRQ, when it has
 * SAMPLEDEV_DMA_IRQ_EN, raises its interrupt (INTx cause SAMPLEDEV_INTX_DMA).
 * A DMA_CMD write while BUSY, or with no op, is ignored.
 *
 * Checksum: 32-bit FNV-1a over the bytes,
 *   h = SAMPLEDEV_FNV1A_INIT; for each byte b: h = SAMPLEDEV_FNV1A_STEP(h, b)
 * with h an unsigned 32-bit variable.
 *
 * Write ordering: each write to SEQ folds its 4 bytes (little-endian)
 * into SEQ_HASH (FNV-1a, below, from SAMPLEDEV_FNV1A_INIT) and counts in
 * SEQ_COUNT, so a sequence of writes shows whether every one arrived, in
 * order. POSTED_COUNT counts the commands that came with NO_REPLY (posted
 * writes), whatever their target, since the server started (kept across
 * resets).
 *
 * ioeventfd doorbells: the server offers one eventfd through
 * DEVICE_GET_REGION_IO_FDS for two 4-byte BAR0 registers: EFD_DOORBELL
 * (any value) and EFD_MATCH (datamatch SAMPLEDEV_EFD_MATCH_VALUE). A client
 * that registers them with KVM makes such a guest write signal the
 * eventfd without any message; EFD_COUNT reads how many signals the
 * server consumed (the eventfd's counter is read at that moment).
 * A write to either register that comes as a REGION_WRITE instead counts
 * in EFD_TRAPPED. A reset zeroes EFD_COUNT (the eventfd is drained) and
 * EFD_TRAPPED.
 *
 * EFD_IRQ is a doorbell with an eventfd of its own, which a thread of the
 * server waits on: each wake raises MSI-X vector 0 from that thread at
 * once, as an NVMe controller's doorbell thread posts a completion,
 * without the device loop or any message. It only needs the client to
 * have given vector 0 an eventfd (SET_IRQS and --strict-pci masks do not
 * hold it back). Written by message, it does the same from the loop (and
 * counts in EFD_TRAPPED). EFD_IRQ_COUNT counts the interrupts so raised;
 * a reset zeroes it.
 *
 * Device reset (vfio-user DEVICE_RESET): every register, the config space
 * (BARs and COMMAND included), the MSI-X table, pending bits, INTx state
 * and BAR2's contents go back to their power-on values (BAR2: zeros);
 * RESET_COUNT counts these resets and is kept.
 */
#ifndef UVMM_ABI_SAMPLEDEV_REGS_H
#define UVMM_ABI_SAMPLEDEV_REGS_H

/* ---- PCI identity and config space -------------------------------------- */

#define SAMPLEDEV_VENDOR_ID		0x5555
#define SAMPLEDEV_DEVICE_ID		0x0001
#define SAMPLEDEV_SUBSYS_VENDOR_ID	0x5555
#define SAMPLEDEV_SUBSYS_ID		0x0001
#define SAMPLEDEV_REVISION		0x01
#define SAMPLEDEV_CLASS			0xff0000	/* class ff, sub 00, prog-if 00 */

#define SAMPLEDEV_CFG_SIZE		256
#define SAMPLEDEV_CFG_MSI_CAP		0x40	/* id 0x05, next 0x50 */
#define SAMPLEDEV_CFG_MSIX_CAP		0x50	/* id 0x11, next 0x60 */
#define SAMPLEDEV_CFG_VNDR_CAP		0x60	/* id 0x09, next 0 */
#define SAMPLEDEV_CFG_VNDR_LEN		0x10	/* cap length byte (0x62) */
/* In the vendor capability: a signature and where the scratch area is. */
#define SAMPLEDEV_CFG_VNDR_SIG_OFF	0x64	/* u32, read-only */
#define SAMPLEDEV_CFG_VNDR_SIG		0x76656474	/* "tdev" in memory */
#define SAMPLEDEV_CFG_VNDR_SCRATCH_OFF	0x68	/* u16: SAMPLEDEV_CFG_SCRATCH */
#define SAMPLEDEV_CFG_VNDR_SCRATCH_LEN	0x6a	/* u16: SAMPLEDEV_CFG_SCRATCH_SIZE */
#define SAMPLEDEV_CFG_SCRATCH		0x80	/* read/write, any size */
#define SAMPLEDEV_CFG_SCRATCH_SIZE	0x80

/* COMMAND bits the device stores (MEM, MASTER, PARITY, SERR,
 * INTX_DISABLE); the others read 0. */
#define SAMPLEDEV_CFG_COMMAND_WMASK	0x0546

/* ---- BARs ------------------------------------------------------------- */

#define SAMPLEDEV_BAR0_SIZE		0x4000		/* 16 KiB, 32-bit memory */
#define SAMPLEDEV_BAR2_SIZE		0x100000	/* 1 MiB, 32-bit prefetchable */

/* ---- BAR0 registers ------------------------------------------------------ */

#define SAMPLEDEV_REG_ID			0x000	/* ro: SAMPLEDEV_ID_MAGIC */
#define SAMPLEDEV_ID_MAGIC		0x75766d6d	/* "uvmm" */
#define SAMPLEDEV_REG_VERSION		0x004	/* ro: SAMPLEDEV_VERSION */
#define SAMPLEDEV_VERSION			1
#define SAMPLEDEV_REG_SCRATCH		0x008	/* rw */
#define SAMPLEDEV_REG_RESET_COUNT		0x00c	/* ro: DEVICE_RESETs seen */
#define SAMPLEDEV_REG_DOORBELL		0x010	/* wo: a doorbell value */
#define SAMPLEDEV_REG_INTX_STATUS		0x014	/* ro: SAMPLEDEV_INTX_* causes */
#define SAMPLEDEV_REG_INTX_ACK		0x018	/* w1c: clears INTX_STATUS bits */
#define SAMPLEDEV_REG_IRQ_COUNT		0x01c	/* ro: interrupts signalled */
#define SAMPLEDEV_REG_IRQ_LOST		0x020	/* ro: interrupts not sent */
#define SAMPLEDEV_REG_BAR2_CSUM_LEN	0x024	/* rw: N, at most the BAR size */
#define SAMPLEDEV_REG_BAR2_CSUM		0x028	/* ro: FNV-1a of BAR2[0, N) */
#define SAMPLEDEV_REG_BAR2_SIZE		0x02c	/* ro: SAMPLEDEV_BAR2_SIZE */

#define SAMPLEDEV_REG_DMA_SRC_LO		0x040	/* rw */
#define SAMPLEDEV_REG_DMA_SRC_HI		0x044	/* rw */
#define SAMPLEDEV_REG_DMA_DST_LO		0x048	/* rw */
#define SAMPLEDEV_REG_DMA_DST_HI		0x04c	/* rw */
#define SAMPLEDEV_REG_DMA_LEN		0x050	/* rw */
#define SAMPLEDEV_REG_DMA_CMD		0x054	/* wo: op | flags, starts */
#define SAMPLEDEV_REG_DMA_STATUS		0x058	/* ro: SAMPLEDEV_DMA_* state */
#define SAMPLEDEV_REG_DMA_ERR		0x05c	/* ro: SAMPLEDEV_DMA_ERR_* */
#define SAMPLEDEV_REG_DMA_CSUM		0x060	/* ro: FNV-1a of the bytes read */
#define SAMPLEDEV_REG_DMA_COUNT		0x064	/* ro: operations ended DONE */
#define SAMPLEDEV_REG_DMA_IRQ		0x068	/* rw: EN | a doorbell value */
#define SAMPLEDEV_REG_DMA_NS		0x06c	/* ro: last operation's ns */

#define SAMPLEDEV_REG_SEQ			0x070	/* wo: folded into SEQ_HASH */
#define SAMPLEDEV_REG_SEQ_HASH		0x074	/* ro: FNV-1a of SEQ writes */
#define SAMPLEDEV_REG_SEQ_COUNT		0x078	/* ro: SEQ writes */
#define SAMPLEDEV_REG_POSTED_COUNT	0x07c	/* ro: NO_REPLY commands seen */
#define SAMPLEDEV_REG_EFD_DOORBELL	0x080	/* wo: ioeventfd, any value */
#define SAMPLEDEV_REG_EFD_MATCH		0x084	/* wo: ioeventfd, datamatch */
#define SAMPLEDEV_REG_EFD_COUNT		0x088	/* ro: eventfd signals consumed */
#define SAMPLEDEV_REG_EFD_TRAPPED		0x08c	/* ro: EFD_* writes as messages */
#define SAMPLEDEV_REG_EFD_IRQ		0x090	/* wo: ioeventfd: MSI-X vector 0 */
#define SAMPLEDEV_REG_EFD_IRQ_COUNT	0x094	/* ro: raised through EFD_IRQ */
#define SAMPLEDEV_EFD_MATCH_VALUE		0x600d

#define SAMPLEDEV_MSIX_TABLE		0x1000	/* in BAR0, 16 bytes a vector */
#define SAMPLEDEV_MSIX_PBA		0x2000	/* in BAR0, ro */
#define SAMPLEDEV_MSIX_VECTORS		8

/* ---- doorbell values ----------------------------------------------------- */

#define SAMPLEDEV_IRQ_VECTOR_MASK		0xffff
#define SAMPLEDEV_IRQ_KIND_MASK		0x30000
#define SAMPLEDEV_IRQ_MSIX(n)		((n) & SAMPLEDEV_IRQ_VECTOR_MASK)
#define SAMPLEDEV_IRQ_MSI			0x10000
#define SAMPLEDEV_IRQ_INTX		0x20000

/* INTX_STATUS / INTX_ACK cause bits. */
#define SAMPLEDEV_INTX_DOORBELL		0x1
#define SAMPLEDEV_INTX_DMA		0x2

/* ---- DMA engine ---------------------------------------------------------- */

#define SAMPLEDEV_DMA_OP_MASK		0xf
#define SAMPLEDEV_DMA_OP_COPY		0x1
#define SAMPLEDEV_DMA_OP_CSUM		0x2
#define SAMPLEDEV_DMA_SYNC		0x100	/* done before the write returns */
#define SAMPLEDEV_DMA_NO_CSUM		0x200	/* DMA_CSUM reads 0 */

#define SAMPLEDEV_DMA_IRQ_EN		0x80000000

#define SAMPLEDEV_DMA_BAR2		0x8000000000000000ULL
#define SAMPLEDEV_DMA_MAX_LEN		0x4000000	/* 64 MiB */

/* DMA_STATUS */
#define SAMPLEDEV_DMA_IDLE		0
#define SAMPLEDEV_DMA_BUSY		1
#define SAMPLEDEV_DMA_DONE		2
#define SAMPLEDEV_DMA_ERROR		3

/* DMA_ERR */
#define SAMPLEDEV_DMA_ERR_NONE		0
#define SAMPLEDEV_DMA_ERR_LEN		1	/* LEN above SAMPLEDEV_DMA_MAX_LEN */
#define SAMPLEDEV_DMA_ERR_SRC		2	/* source not readable */
#define SAMPLEDEV_DMA_ERR_DST		3	/* destination not writable */
#define SAMPLEDEV_DMA_ERR_OP		4	/* unknown op */

/* ---- checksum ---------------------------------------------------------- */

#define SAMPLEDEV_FNV1A_INIT		0x811c9dc5u
#define SAMPLEDEV_FNV1A_PRIME		0x01000193u
#define SAMPLEDEV_FNV1A_STEP(h, b)	(((h) ^ (b)) * SAMPLEDEV_FNV1A_PRIME)

#endif
