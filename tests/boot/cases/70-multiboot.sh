# Multiboot 1 and fw_cfg: guest/multiboot/, a 32-bit Multiboot ELF of our
# own built as kvm-unit-tests builds its tests, checks the Multiboot
# information, its module and fw_cfg against what it is told here.
# Sourced by tests/boot/run-boot.sh, which provides boot_case, $G and $tmp.

printf 'uvmm-module-0123456789\n' >"$tmp/module.txt"

boot_case "multiboot: entry state, memory map, command line, module, fw_cfg" 1 \
'^PASS: multiboot: eax at entry is 0x2badb002
^PASS: multiboot: entered in protected mode with paging off
^PASS: multiboot: RAM in the map .* = mem=0x8000000
^PASS: multiboot: mem_upper 130048 KiB matches the map
^PASS: multiboot: the first word is the kernel.s name
^PASS: multiboot: module holds the file.s bytes
^PASS: multiboot: module at 0x[0-9a-f]+: page-aligned, after the image
^PASS: fw_cfg RAM_SIZE 0x8000000 = mem=0x8000000
^PASS: fw_cfg NB_CPUS 1 = cpus=1
^PASS: fw_cfg file directory is empty
^PASS: no pc-testdev unless asked for
^SUMMARY: .* 0 unexpected failures' -- --initrd "$tmp/module.txt" \
	--cmdline "mem=128M cpus=1 module=uvmm-module-0123456789" \
	"$G/multiboot.elf"

boot_case "multiboot: -m 300M -c 3 reach the map and fw_cfg" 1 \
'^PASS: multiboot: RAM in the map .* = mem=0x12c00000
^PASS: fw_cfg RAM_SIZE 0x12c00000 = mem=0x12c00000
^PASS: fw_cfg NB_CPUS 3 = cpus=3
^PASS: fw_cfg MAX_CPUS 3 = cpus=3
^PASS: acpi: RSDP found in the BIOS area
^PASS: acpi: [0-9]+ tables in the RSDT, every checksum right
^PASS: acpi: MADT: 3 enabled local APICs = cpus=3
^PASS: acpi: PM timer at port 0x608 counts
^SUMMARY: .* 0 unexpected failures' -- -m 300M -c 3 --initrd "$tmp/module.txt" \
	--cmdline "mem=300M cpus=3 module=uvmm-module-0123456789" \
	"$G/multiboot.elf"

# The guest's own checks must be able to fail: told the wrong sizes, it
# says so and exits 3.
boot_case "multiboot: a memory size other than -m's fails" 3 \
'^FAIL: multiboot: RAM in the map .* = mem=0x10000000
^FAIL: fw_cfg RAM_SIZE 0x8000000 = mem=0x10000000
^FAIL: fw_cfg NB_CPUS 1 = cpus=2
^FAIL: acpi: MADT: 1 enabled local APICs = cpus=2' -- --initrd "$tmp/module.txt" \
	--cmdline "mem=256M cpus=2 module=uvmm-module-0123456789" \
	"$G/multiboot.elf"

boot_case "multiboot: a module other than the one given fails" 3 \
'^FAIL: multiboot: module holds the file.s bytes' -- \
	--initrd "$tmp/module.txt" \
	--cmdline "mem=128M cpus=1 module=uvmm-module-0123456780" \
	"$G/multiboot.elf"

boot_case "pc-testdev: scratch ports, iomem, page flush, ISA IRQ lines" 1 \
'^PASS: pc-testdev: 0xe0: scratch register with byte lanes
^PASS: pc-testdev: 0xe8: the same register byte by byte
^PASS: pc-testdev: iomem at 0xff000000 keeps what is written
^PASS: pc-testdev: 0xe4: a flushed page keeps its contents
^PASS: pc-testdev: 0x200a: ISA line 10 interrupts
^PASS: pc-testdev: 0x200e: ISA line 14 interrupts
^PASS: pc-testdev: 0x2017: line 23 interrupts
^SUMMARY: .* 0 unexpected failures' -- --device pc-testdev \
	--initrd "$tmp/module.txt" \
	--cmdline "mem=128M cpus=1 module=uvmm-module-0123456789 pc-testdev" \
	"$G/multiboot.elf"

if run_expect "boot: pc-testdev: \"Shutdown\" to port 0x8900 exits 0" 0 \
	"$tmp/out" -- "$UVMM" --device pc-testdev --initrd "$tmp/module.txt" \
	--cmdline "mem=128M cpus=1 module=uvmm-module-0123456789 pc-testdev shutdown" \
	"$G/multiboot.elf"; then
	expect_lines "boot: shutdown" "$tmp/out" '^shutdown: writing "Shutdown"' &&
		refuse_lines "boot: shutdown" "$tmp/out" "^FAIL|still running" &&
		result_pass "boot: pc-testdev: \"Shutdown\" to port 0x8900 exits 0"
fi

# ACPI S3 as kvm-unit-tests' s3 test does it: the RTC alarm (RTC_EN) wakes
# the machine, vCPU 0 resumes in real mode at the FACS waking vector, and
# the guest's real-mode stub exits with status 1 only when PM1 status shows
# WAK_STS and RTC_STS and nothing ran after the sleep write. Two vCPUs: the
# AP parks too and comes back waiting for INIT/SIPI.
boot_case "multiboot: ACPI S3: the RTC alarm wakes it in real mode at the FACS vector" 1 \
'^SUMMARY: .* 0 unexpected failures
^s3: sleeping \(RTC alarm enabled as a wake event\), waking vector 0x1000
uvmm: vm: ACPI S3: the guest sleeps
uvmm: vcpu: ACPI S3: vCPU 0 resumes in real mode at 0x1000' -- \
	-v -c 2 --initrd "$tmp/module.txt" \
	--cmdline "mem=128M cpus=2 module=uvmm-module-0123456789 s3=wake" \
	"$G/multiboot.elf"
# Without RTC_EN the alarm is no wake event: asleep until --timeout (124).
boot_case "multiboot: ACPI S3: no enabled wake event, no wake (asleep until --timeout)" 124 \
'^s3: sleeping \(no wake event enabled\)
uvmm: vm: ACPI S3: the guest sleeps' -- \
	-v --timeout 3 --initrd "$tmp/module.txt" \
	--cmdline "mem=128M cpus=1 module=uvmm-module-0123456789 s3=nowake" \
	"$G/multiboot.elf"
