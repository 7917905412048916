# The hostile guest: guest/hostile writes every I/O port in every width,
# pokes the MMIO holes, ECAM and the PCI windows, fills every config
# register of every function with garbage, moves BARs over RAM, each
# other and the LAPIC, and raises interrupts through garbage MSI-X and
# MSI messages. uvmm must keep running to the end (status 1 and the
# guest's SUMMARY line), and the devices must still work afterwards
# (checked by the guest). With a vfio-user server attached, the server
# must live through it too: the guest checks it answers and delivers
# interrupts at the end, and it must leave cleanly (status 0) once uvmm
# exits. Sourced by tests/boot/run-boot.sh (boot_case,
# run_expect, $G, $tmp).

hostile_pats='^PASS: ports: every port 0-0xffff read and written in 1, 2 and 4 bytes
^PASS: ports: PCI headers restored, the test devices answer
^PASS: mmio: hole above RAM: [0-9]+ accesses, reads all-ones
^PASS: mmio: ECAM, absent functions: [0-9]+ accesses, reads all-ones
^PASS: mmio: 32-bit PCI window outside the BARs: [0-9]+ accesses
^PASS: mmio: 64-bit PCI window outside the BARs: [0-9]+ accesses
^PASS: config: garbage in every register of 00:00\.0 .*devices answer
^PASS: config: garbage in every register of 00:01\.0 .*devices answer
^PASS: BARs: [0-9]+ BARs over RAM: RAM answers
^PASS: BARs: [1-9][0-9]* BAR pairs overlapped
^PASS: BARs: BARs over the LAPIC, IOAPIC, ECAM
^PASS: BARs: I/O BAR over COM1, conf1
^PASS: irq: built-in test function: .*a good MSI-X vector arrives
^PASS: uvmm still running after all of it
^SUMMARY: .* 0 unexpected failures, 0 skipped'

boot_case "hostile guest: every port, MMIO holes, config garbage, BARs over everything, garbage MSI-X" 1 \
	"$hostile_pats" -- --device pci-testdev "$G/hostile.elf"

# The same guest with tests/servers/sampledev behind vfio-user.
hostile_dir=$(mktemp -d -p /dev/shm uvmm-hostile.XXXXXX 2>/dev/null || mktemp -d)
hostile_sock=$hostile_dir/sampledev.sock
"$BUILD/tests/servers/sampledev" "$hostile_sock" 2>"$tmp/hostile-server.log" &
hostile_srv=$!
for _ in $(seq 1 100); do
	grep -q "listening on" "$tmp/hostile-server.log" 2>/dev/null && break
	sleep 0.05
done
hostile_name="hostile guest with a vfio-user sampledev"
if ! grep -q "listening on" "$tmp/hostile-server.log"; then
	result_fail "boot: $hostile_name: sampledev did not start"
	sed 's/^/    | /' "$tmp/hostile-server.log"
else
	boot_case "$hostile_name: uvmm and the device live through it" 1 \
		"$hostile_pats
^PASS: vfio-user sampledev at 00:0[0-9a-f]\.0
^PASS: config: garbage in every register of 00:0[0-9a-f]\.0 \(5555:0001\), restored, devices answer
^PASS: irq: vfio-user sampledev: .*a good MSI-X vector arrives
^PASS: irq: vfio-user sampledev: INTx held back while disabled by a 1-byte command write" \
		-- --device pci-testdev --device "vfio-user,socket=$hostile_sock" "$G/hostile.elf"
	# The server serves one client and exits 0 when it goes: it must do
	# that now, by itself, not crash or hang.
	for _ in $(seq 1 100); do
		kill -0 $hostile_srv 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $hostile_srv 2>/dev/null; then
		result_fail "boot: $hostile_name: sampledev still running 10 s after uvmm exited"
	else
		wait $hostile_srv
		hostile_status=$?
		if [[ $hostile_status == 0 ]]; then
			result_pass "boot: $hostile_name: the server ended cleanly when uvmm exited"
		else
			result_fail "boot: $hostile_name: server exit status $hostile_status"
			sed 's/^/    | /' "$tmp/hostile-server.log" | tail -10
		fi
	fi
fi
kill -KILL $hostile_srv 2>/dev/null
{ wait $hostile_srv; } 2>/dev/null
rm -rf "$hostile_dir"
