# Firmware basics: the guest/ programs of the foundation. Sourced by
# tests/boot/run-boot.sh, which provides boot_case, $G and $tmp.

boot_case "hello" 1 \
'^Hello from uvmm
^SUMMARY: .* 0 unexpected failures' -- "$G/hello.elf"

boot_case "hello with --debug-exit raw exits 0" 0 \
'^Hello from uvmm' -- --debug-exit raw "$G/hello.elf"

boot_case "--cmdline of 32767 bytes, the most it takes, reaches the guest" 1 \
'^INFO: command line: "0{100}
^SUMMARY: .* 0 unexpected failures' -- --cmdline "$(printf '%032767d' 0)" "$G/hello.elf"

boot_case "memory 128M" 1 \
'^PASS: RAM entries .* = mem=128M
^PASS: pattern in every page above the image
^SUMMARY: .* 0 unexpected failures' -- -m 128M --cmdline "mem=128M" "$G/memory.elf"

boot_case "memory 4G across the PCI hole" 1 \
'^INFO: memmap.* addr 0x100000000 size 0x50000000 type 1
^PASS: RAM entries .* = mem=4G
^PASS: pattern in every 256th page
^SUMMARY: .* 0 unexpected failures' -- -m 4G --cmdline "mem=4G pattern_step=256" "$G/memory.elf"

boot_case "memory map disagreeing with the command line fails" 3 \
'^FAIL: RAM entries .* = mem=128M' -- -m 64M --cmdline "mem=128M" "$G/memory.elf"

boot_case "ports: unclaimed ports and MMIO read all-ones" 1 \
'^PASS: .*port
^PASS: .*MMIO
^SUMMARY:' -- "$G/ports.elf"

boot_case "rtc: update, alarm and periodic interrupts on IRQ 8" 1 \
'^PASS: update-ended interrupt
^PASS: alarm interrupt
^PASS: periodic interrupt
^PASS: no interrupt with none enabled
^SUMMARY: .* 0 unexpected failures' -- "$G/rtc.elf"

boot_case "exceptions: #UD and #PF reach their handlers" 1 \
'^PASS: .*#UD
^PASS: .*#PF
^SUMMARY:' -- "$G/exceptions.elf"

boot_case "triple fault exits 8" 8 \
'uvmm: guest crashed: triple fault' -- "$G/triple-fault.elf"

boot_case "spin: --timeout 1 exits 124" 124 \
'uvmm: guest still running after --timeout 1 s' -- --timeout 1 "$G/spin.elf"

if run_expect "boot: --serial file:" 1 "$tmp/out" -- "$UVMM" \
	--serial "file:$tmp/serial.txt" "$G/hello.elf"; then
	if grep -q '^Hello from uvmm' "$tmp/serial.txt" &&
	   ! grep -q 'Hello' "$tmp/out"; then
		result_pass "boot: --serial file: sends the console to the file"
	else
		result_fail "boot: --serial file: greeting not in the file only"
	fi
fi

if run_expect "boot: --serial none" 1 "$tmp/out" -- "$UVMM" --serial none \
	"$G/hello.elf"; then
	refuse_lines "boot: --serial none" "$tmp/out" "Hello" &&
		result_pass "boot: --serial none prints nothing"
fi

boot_case "reset through the i8042 exits 0" 0 \
'^PASS: i8042 self-test answers 0x55
^reset: pulsing the reset line' -- "$G/reset.elf"

# --bios: a raw ROM from the reset vector (guest/rom/hello-rom.S), read
# through CS in real mode, then at 0xffffxxxx in flat protected mode.
boot_case "--bios: a ROM from the reset vector" 1 \
'^ROM: hello from the reset vector
^ROM: 32-bit protected mode, code at 0xffff[0-9a-f]{4}$
^PASS: a write into the ROM left it unchanged
^PASS: hvm_start_info at 0x6000
^PASS: MP floating pointer at 0xf0000
^ROM: done' -- --bios "$G/hello-rom.bin"

# The APs wait for INIT/SIPI: only the boot CPU runs the ROM.
boot_case "--bios with 2 CPUs: the APs wait" 1 \
'^ROM: hello from the reset vector
^ROM: done' -- --cpus 2 --bios "$G/hello-rom.bin"

# A 16-byte ROM: all of it is the reset vector's 16 bytes, and what lies
# below it in its page reads 0xff. It loads the byte at 0xffffffe0 through
# CS, adds 1 and writes that to port 0xf4: status 1 only for 0xff.
printf '\x2e\xa0\xe0\xff\xfe\xc0\xe6\xf4\xf4\xeb\xfd\xf4\xf4\xf4\xf4\xf4' \
	>"$tmp/tiny.rom"
if run_expect "boot: --bios with a 16-byte ROM" 1 "$tmp/out" -- "$UVMM" \
	--bios "$tmp/tiny.rom"; then
	result_pass "boot: --bios with a 16-byte ROM padded with 0xff (${LAST_MS} ms)"
fi
