# bench/results.json from bench/measure.sh's raw.txt (jq -R -s, the raw
# file as one string). Every sample is kept; each row gets the median and
# the 10th-90th percentile spread of uvmm's figure and of its reference,
# and their ratio (uvmm / reference: 1.0 is as good as the reference).

def parse:
	split("\n") | map(select(length > 0) | split(" "));

def info_of($lines):
	reduce ($lines[] | select(.[0] == "INFO")) as $l ({};
		.[$l[1]] = ($l[2:] | join(" ")));

def skips_of($lines):
	reduce ($lines[] | select(.[0] == "SKIP")) as $l ({};
		.[$l[1]] = ($l[2:] | join(" ")));

def fails_of($lines):
	reduce ($lines[] | select(.[0] == "FAIL")) as $l ({};
		.[$l[1]] = ($l[2:] | join(" ")));

# BENCH name unit ops v... -> {name: {unit, ops_per_sample, samples}}
def bench_of($lines):
	reduce ($lines[] | select(.[0] == "BENCH")) as $l ({};
		.[$l[1]] |= {
			unit: $l[2],
			ops_per_sample: ($l[3] | tonumber),
			samples: ((.samples // []) + ($l[4:] | map(tonumber)))
		});

# One sample in the row's unit: ns (ticks converted), B or count.
def per_op($m; $khz):
	($m.samples | map(. / $m.ops_per_sample)) as $v |
	if $m.unit == "ticks" then
		(if $khz > 0 then $v | map(. * 1000000 / $khz) else null end)
	else $v end;

def pick($s; $q):
	$s[(($s | length) - 1) * $q | floor];

def stats:
	sort as $s | ($s | length) as $n |
	if $n == 0 then null else {
		n: $n,
		median: (if $n % 2 == 1 then $s[($n - 1) / 2]
			 else ($s[$n / 2 - 1] + $s[$n / 2]) / 2 end),
		p10: pick($s; 0.1),
		p90: ($s[(($n - 1) * 0.9 | ceil)]),
		min: $s[0],
		max: $s[$n - 1]
	} end;

# A reference made of parts (exit + round trip): the sums of their figures.
def sum_stats($parts):
	if ($parts | any(. == null)) then null else {
		n: ($parts | map(.n) | min),
		median: ($parts | map(.median) | add),
		p10: ($parts | map(.p10) | add),
		p90: ($parts | map(.p90) | add),
		min: ($parts | map(.min) | add),
		max: ($parts | map(.max) | add)
	} end;

# Row 9: nvme-bench.elf's four measures (raw names nvmeg_RUN_MEASURE) for
# each way uvmm-nvme takes doorbells, against QEMU's nvme in the same run.
def nvmeg_measures: ["rd_qd1", "wr_qd1", "rd_qd32", "wr_qd32"];
def nvmeg_rows:
	[{run: "trap", ref: "qemu", short: "trapped db",
	  how: "uvmm + uvmm-nvme, doorbells trapped (posted REGION_WRITEs), guest rings the registers",
	  refhow: "the guest rings the registers (no shadow doorbells)"},
	 {run: "efd", ref: "qemushadow", short: "eventfd db",
	  how: "uvmm + uvmm-nvme --doorbells eventfd (SQ tails as KVM ioeventfds), guest with shadow doorbells (nvmeb.shadow=1)",
	  refhow: "guest with shadow doorbells, ioeventfd=on"},
	 {run: "poll", ref: "qemu", short: "polling",
	  how: "uvmm + uvmm-nvme, both polling (--poll-us, poll-us=), I/O on the server loop (--io-threads 0), doorbells trapped, guest rings the registers",
	  refhow: "the guest rings the registers (no shadow doorbells)"}] as $runs |
	[{short: "rd QD1", what: "4 KiB random read at queue depth 1, time per I/O"},
	 {short: "wr QD1", what: "4 KiB random write at queue depth 1, time per I/O"},
	 {short: "rd QD32", what: "4 KiB random reads, 32 in flight, time per I/O"},
	 {short: "wr QD32", what: "4 KiB random writes, 32 in flight, time per I/O"}] as $ms |
	[range(0; 3) as $i | range(0; 4) as $j | $runs[$i] as $run |
	 $ms[$j] as $x | nvmeg_measures[$j] as $m | ($i * 4 + $j) as $k |
	 {id: ("9" + ("abcdefghijkl"[$k:$k + 1])),
	  name: "NVMe \($x.short), \($run.short)", refname: "QEMU nvme",
	  group: "nvme", unit: "ns",
	  m: ["nvmeg_\($run.run)_\($m)"], r: ["nvmeg_\($run.ref)_\($m)"],
	  what: "guest-timed \($x.what): \($run.how)",
	  ref: "QEMU -M pc -enable-kvm -device nvme (cache=writeback), same guest and image; \($run.refhow)"}];

def rows($dma):
	[
	{id: "1a", name: "hello.elf exec->exit", refname: "kvm_min (limit)", group: "start", unit: "ns", m: ["start_uvmm"], r: ["start_kvm_min"],
	 what: "hello.elf: exec to exit",
	 ref: "kvm_min: /dev/kvm, a VM with uvmm's irqchip, PIT and 128 MiB memfd RAM, one port write (the limit)"},
	{id: "1d", name: "one port write exec->exit", refname: "kvm_min (limit)", group: "start", unit: "ns", m: ["start_rom"], r: ["start_kvm_min"],
	 what: "exit-rom.bin (--bios: the reset vector writes the debug-exit port at once): exec to exit, uvmm's own start-up and tear-down",
	 ref: "kvm_min: /dev/kvm, a VM with uvmm's irqchip, PIT and 128 MiB memfd RAM, one port write (the limit)"},
	{id: "1b", name: "hello.elf exec->exit", refname: "QEMU microvm", group: "start", unit: "ns", m: ["start_uvmm"], r: ["start_qemu"],
	 what: "hello.elf: exec to exit",
	 ref: "QEMU -M microvm -enable-kvm, same ELF, isa-debug-exit"},
	{id: "1c", name: "Multiboot test exec->exit", refname: "QEMU -M pc", group: "start", unit: "ns", m: ["mb_uvmm"], r: ["mb_qemu"],
	 what: "multiboot.elf under uvmm-qemu (kvm-unit-tests' runner view): exec to exit",
	 ref: "QEMU -M pc -enable-kvm, the same command line (SeaBIOS loads the Multiboot image)"},
	{id: "2a", name: "bzimage-probe, 1 vCPU", refname: "QEMU microvm", group: "boot", unit: "ns", m: ["probe1_uvmm"], r: ["probe1_qemu"],
	 what: "bzimage-probe, 1 vCPU: exec to exit",
	 ref: "QEMU -M microvm -enable-kvm, same image, through its 16-bit setup (probe.vmm=other)"},
	{id: "2b", name: "bzimage-probe, 4 vCPUs", refname: "QEMU microvm", group: "boot", unit: "ns", m: ["probe4_uvmm"], r: ["probe4_qemu"],
	 what: "bzimage-probe, 4 vCPUs: exec to exit",
	 ref: "QEMU -M microvm -enable-kvm, same image, through its 16-bit setup (probe.vmm=other)"},
	{id: "2c", name: "Debian Linux to /init", refname: "QEMU microvm", group: "boot", unit: "ns", m: ["linux_uvmm"], r: ["linux_qemu"],
	 what: "Debian kernel + initramfs, 2 vCPUs, 512 MiB: exec to /init",
	 ref: "QEMU -M microvm, same kernel, initramfs, memory, vCPUs"},
	{id: "3a", name: "config read, 4 B", refname: "exit + socket RTT", group: "trap", unit: "ns", m: ["cfg_vfu"], r: ["cfg_ref", "bare_rtt"],
	 what: "vfio-user config read, 4 B (guest-timed)",
	 ref: "limit: MMIO exit to uvmm (built-in function's config read) + bare socketpair round trip"},
	{id: "3b", name: "BAR0 read, 4 B", refname: "exit + socket RTT", group: "trap", unit: "ns", m: ["bar0_vfu"], r: ["bar0_ref", "bare_rtt"],
	 what: "vfio-user BAR0 register read, 4 B (guest-timed)",
	 ref: "limit: MMIO exit to uvmm (built-in function's BAR0 read) + bare socketpair round trip"},
	{id: "3c", name: "posted BAR0 write, 4 B", refname: "exit + socket send", group: "trap", unit: "ns", m: ["bar0w_vfu"], r: ["bar0w_ref", "bare_send"],
	 what: "vfio-user posted BAR0 write, 4 B (guest-timed)",
	 ref: "limit: MMIO exit to uvmm (built-in function's BAR0 write) + bare socketpair send of the same 36 bytes"},
	{id: "3d", name: "ioeventfd doorbell, 4 B", refname: "bare KVM ioeventfd", group: "trap", unit: "ns", m: ["efd_vfu"], r: ["efd_ref"],
	 what: "vfio-user ioeventfd doorbell write, 4 B (guest-timed)",
	 ref: "limit: a KVM ioeventfd of uvmm's own (built-in function's doorbell)"},
	{id: "4a", name: "BAR2 read, 4 B (mmap)", refname: "RAM read", group: "mmap", unit: "ns", m: ["bar2_read"], r: ["ram_read"],
	 what: "mmap'ed BAR2 read, 4 B (guest-timed)",
	 ref: "the same on guest RAM"},
	{id: "4b", name: "BAR2 write, 4 B (mmap)", refname: "RAM write", group: "mmap", unit: "ns", m: ["bar2_write"], r: ["ram_write"],
	 what: "mmap'ed BAR2 write, 4 B (guest-timed)",
	 ref: "the same on guest RAM"},
	{id: "5a", name: "DMA \($dma) MiB, mapped", refname: "host memcpy", group: "dma", unit: "ns", m: ["dma_map"], r: ["memcpy"],
	 what: "DMA copy of \($dma) MiB through the server's mapping of guest RAM",
	 ref: "memcpy of \($dma) MiB on the host (the limit)"},
	{id: "5b", name: "DMA \($dma) MiB, messages", refname: "host memcpy", group: "dma", unit: "ns", m: ["dma_msg"], r: ["memcpy"],
	 what: "DMA copy of \($dma) MiB by DMA_READ/DMA_WRITE messages (--no-dma-fd)",
	 ref: "memcpy of \($dma) MiB on the host (the limit)"},
	{id: "6", name: "MSI-X round trip", refname: "built-in fn, irqfd", group: "irq", unit: "ns", m: ["irq_vfu"], r: ["irq_ref"],
	 what: "MSI-X round trip: doorbell write to handler entry (guest-timed)",
	 ref: "same guest, built-in function: its eventfd written on uvmm's vCPU thread, same KVM irqfd"},
	{id: "6b", name: "MSI-X RT, ioeventfd doorbell", refname: "built-in fn, irqfd", group: "irq", unit: "ns", m: ["irq_efd"], r: ["irq_ref"],
	 what: "MSI-X round trip through the server's ioeventfd doorbell: write to handler entry (guest-timed)",
	 ref: "same guest, built-in function: its eventfd written on uvmm's vCPU thread, same KVM irqfd"},
	{id: "7a", name: "RSS besides guest RAM", refname: "QEMU microvm", group: "footprint", unit: "B", m: ["rss_uvmm"], r: ["rss_qemu"],
	 what: "resident memory besides guest RAM, idle guest",
	 ref: "QEMU -M microvm, same guest (guest RAM in a memfd too)"},
	{id: "7b", name: "binary size", refname: "QEMU", group: "footprint", unit: "B", m: ["size_uvmm"], r: ["size_qemu"],
	 what: "binary size (stripped)",
	 ref: "qemu-system-x86_64 (Debian's, stripped)"},
	{id: "7c", name: "threads", refname: "QEMU microvm", group: "footprint", unit: "count", m: ["threads_uvmm"], r: ["threads_qemu"],
	 what: "threads, idle guest",
	 ref: "QEMU -M microvm, same guest"},
	{id: "8a", name: "NVMe 4 KiB read, QD1", refname: "host pread", group: "nvme", unit: "ns", m: ["nvme_qd1"], r: ["pread_qd1"],
	 what: "4 KiB random read through uvmm-nvme at queue depth 1 (host client polling the CQ, page-cached image)",
	 ref: "pread() of a random 4 KiB block of the same image"},
	{id: "8b", name: "NVMe 4 KiB read, QD32", refname: "host pread", group: "nvme", unit: "ns", m: ["nvme_qd32"], r: ["pread_qd32"],
	 what: "4 KiB random reads through uvmm-nvme, 32 in flight, time per read",
	 ref: "pread() of 32 random 4 KiB blocks one after another, time per read"},
	{id: "8c", name: "NVMe 128 KiB seq. reads", refname: "host pread", group: "nvme", unit: "ns", m: ["nvme_seq128"], r: ["pread_seq128"],
	 what: "sequential 128 KiB reads through uvmm-nvme (PRP lists), 4 in flight, time per read (page-cached image)",
	 ref: "pread() of the same 128 KiB blocks one after another, time per read"}
	] + nvmeg_rows;

# Why a figure is missing: its SKIP line, else "not measured".
def why($names; $skip; $what):
	([$names[] | $skip[.] // empty | $what + ": " + .] + [$what])[0];

. as $text | parse as $lines |
info_of($lines) as $info |
skips_of($lines) as $skip |
fails_of($lines) as $fail |
bench_of($lines) as $bench |
(($info.tsc_khz // "0") | tonumber) as $khz |
# nvme_io failing as a whole fails both of its rows.
($fail + (if $fail.nvme_qd1 then {nvme_qd32: $fail.nvme_qd1, nvme_seq128: $fail.nvme_qd1} else {} end)) as $fail |
# nvme-bench.elf failing in one run fails that run's four measures.
($fail + (reduce ("trap", "efd", "poll", "qemu", "qemushadow") as $run ({};
	if $fail["nvmeg_" + $run] then
		reduce nvmeg_measures[] as $m (.;
			.["nvmeg_\($run)_\($m)"] = $fail["nvmeg_" + $run])
	else . end))) as $fail |
# bench-vfu.elf failing as a whole fails each of its rows.
($fail + (if $fail.bench_vfu then
	reduce ("cfg_vfu", "bar0_vfu", "bar0w_vfu", "efd_vfu", "bar2_read", "bar2_write", "dma_map",
		"dma_msg", "irq_vfu", "irq_efd") as $n ({}; .[$n] = $fail.bench_vfu)
	else {} end)) as $fail |
def figure($names):
	[$names[] | if $bench[.] then (per_op($bench[.]; $khz) | stats) else null end] |
	if length == 1 then .[0] else sum_stats(.) end;
{
	date: $info.date,
	quick: ($info.quick == "1"),
	host: {
		kind: $info.host_kind,
		description: $info.kvm_description,
		cpu: $info.host_cpu,
		cpus: $info.host_cpus,
		memory: $info.host_memory,
		kernel: $info.host_kernel,
		measured_in: {
			kernel: $info.measured_kernel,
			cpu: $info.measured_cpu,
			cpus: $info.measured_cpus
		}
	},
	versions: {
		uvmm: $info.uvmm_version,
		git: $info.git,
		compiler: $info.compiler,
		qemu: $info.qemu_version,
		linux_guest: $info.linux_kernel
	},
	build: $info.build,
	params: $info.params,
	tsc_khz: $khz,
	# Rows 3-6: how long the first server and uvmm's client looked for
	# the next message before sleeping (BENCH_POLL_US).
	poll_us: (($info.poll_us // "0") | tonumber),
	# make bench from start to the report, waits for the kvm-host VM's
	# lock included; measure_seconds: the measuring alone.
	wall_seconds: (($info.wall_seconds // "0") | tonumber),
	measure_seconds: (($info.measure_seconds // "0") | tonumber),
	rows: [rows($info.dma_mib // "64")[] |
		figure(.m) as $u | figure(.r) as $r |
		{
			id, group, name, what, unit,
			uvmm: $u,
			reference: ({name: .refname, what: .ref} + ($r // {})),
			ratio: (if $u and $r and $r.median > 0 then $u.median / $r.median else null end),
			status: (if ([(.m + .r)[] | $fail[.] // empty] | length) > 0 then "failed"
				 elif $u == null then "not measured"
				 elif $r == null then "reference not measured"
				 else "ok" end),
			note: ([(.m + .r)[] | $fail[.] // empty | "failed: " + .][0] //
			       (if $u == null then why(.m; $skip; "not measured")
				elif $r == null then why(.r; $skip; "reference not measured")
				else null end)),
			sources: {uvmm: .m, reference: .r}
		}],
	# Row 3b's BAR0 read, phase by phase (medians, ns): uvmm and the
	# server stamped each message (UVMM_PHASES); the KVM part is what the
	# guest saw beyond the time in uvmm.
	phases: (if $bench.phase_in_uvmm and $bench.bar0_vfu then
		([("to_send", "to_server", "server", "to_client", "to_entry",
		   "in_uvmm") as $p |
		  {key: $p, value: (per_op($bench["phase_" + $p]; $khz) | stats | .median)}] |
		 from_entries) as $ph |
		$ph + {
			n: ($bench.phase_in_uvmm.samples | length),
			kvm_exit_entry: ((per_op($bench.bar0_vfu; $khz) | stats | .median) - $ph.in_uvmm)
		}
		else null end),
	raw: $bench,
	skipped: $skip,
	failed: $fail,
	info: $info
}
