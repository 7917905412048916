# rt.user_io=trap: the guest runtime's fallback for hosts that do not
# honour IOPL at CPL3 or turn "int N" from CPL3 into #UD (PVM). The option
# forces it on any KVM (IOPL 0, a DPL 0 return gate), so every CPL3 port
# access and every run_user() return goes through the #GP/#UD handlers
# (guest/runtime/user.c); report_summary() then prints how many it
# finished, and each case asserts the counts that must not be zero.

# trapped IN_OUT STI_CLI: the runtime's count line, with a regex for each
trapped() {
	echo "^INFO: rt.user_io=trap: $1 in/out, $2 sti/cli, [1-9][0-9]* returns"
}
TRAPPED=$(trapped '[1-9][0-9]*' '[0-9]+')

boot_case "rt.user_io=trap: hello" 1 \
"^Hello from CPL3
^PASS: rt.user_io=trap: CPL3 port I/O and the return went through the fault handlers
$TRAPPED
^SUMMARY: .* 0 unexpected failures" -- --cmdline "rt.user_io=trap" "$G/hello.elf"

boot_case "rt.user_io=trap: memory 128M" 1 \
"^PASS: pattern in every page above the image
$(trapped '[0-9]+' '[0-9]+')
^SUMMARY: .* 0 unexpected failures" -- -m 128M \
	--cmdline "mem=128M rt.user_io=trap" "$G/memory.elf"

boot_case "rt.user_io=trap: ports" 1 \
"^PASS: .*port
$TRAPPED
^SUMMARY: .* 0 unexpected failures" -- --cmdline "rt.user_io=trap" "$G/ports.elf"

boot_case "rt.user_io=trap: pci-enum" 1 \
"^PASS: .*INTx
$TRAPPED
^SUMMARY: .* 0 unexpected failures, 0 skipped" -- \
	--device pci-testdev --cmdline "rt.user_io=trap" "$G/pci-enum.elf"

boot_case "rt.user_io=foo is refused by the runtime" 3 \
'^FAIL: rt.user_io= takes iopl or trap' -- --cmdline "rt.user_io=foo" "$G/hello.elf"

# bench-vfu's quick mode (as make bench QUICK=1 runs it): hot loops at
# CPL3, sti/cli around the MSI-X round trips.
if start_server trapa && sock_a=$SOCK && start_server trapb --no-dma-fd; then
	boot_case "rt.user_io=trap: bench-vfu quick mode" 1 \
"^BENCH irq_vfu
$(trapped '[1-9][0-9]*' '[1-9][0-9]*')
^SUMMARY: .* 0 unexpected failures" -- -m 160M \
		--device pci-testdev --device "vfio-user,socket=$sock_a" --device "vfio-user,socket=$SOCK" \
		--cmdline "bench.n=100 bench.batches=20 bench.dma_mib=16 bench.dma_runs=2 rt.user_io=trap" \
		"$G/bench-vfu.elf"
else
	result_fail "boot: rt.user_io=trap: bench-vfu quick mode: servers did not start"
fi
stop_servers
