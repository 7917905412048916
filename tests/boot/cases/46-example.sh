# examples/counter, the library's example device (built in the tree as
# build/examples/counter; tests/cli/install-lib.sh builds it from an
# install): uvmm attaches it and pci-enum finds its ID and its 4 KiB BAR.
# Sourced by tests/boot/run-boot.sh (boot_case, $G, $tmp).

# UNIX sockets need a local file system (not the kvm-host VM's 9p share).
counter_dir=$(mktemp -d -p /dev/shm uvmm-counter.XXXXXX 2>/dev/null || mktemp -d)
counter_sock=$counter_dir/counter.sock
"$BUILD/examples/counter" "$counter_sock" 2>"$tmp/counter.log" &
counter_pid=$!
for i in $(seq 1 100); do
	grep -q "listening on" "$tmp/counter.log" 2>/dev/null && break
	sleep 0.05
done
boot_case "example: examples/counter enumerated over vfio-user" 1 \
'^00:01\.0 5555:c0de class ff0000$
^  BAR0  mem32 0x[0-9a-f]+ size 0x1000$
^SUMMARY: .* 0 unexpected failures' -- \
	--device "vfio-user,socket=$counter_sock" "$G/pci-enum.elf"
kill "$counter_pid" 2>/dev/null
wait "$counter_pid" 2>/dev/null
rm -rf "$counter_dir"
