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
^SUMMARY: .* 0 unexpected failures' -- --initrd "$tmp/module.txt" \
	--cmdline "mem=128M cpus=1 module=uvmm-module-0123456789" \
	"$G/multiboot.elf"

boot_case "multiboot: -m 300M -c 3 reach the map and fw_cfg" 1 \
'^PASS: multiboot: RAM in the map .* = mem=0x12c00000
^PASS: fw_cfg RAM_SIZE 0x12c00000 = mem=0x12c00000
^PASS: fw_cfg NB_CPUS 3 = cpus=3
^PASS: fw_cfg MAX_CPUS 3 = cpus=3
^SUMMARY: .* 0 unexpected failures' -- -m 300M -c 3 --initrd "$tmp/module.txt" \
	--cmdline "mem=300M cpus=3 module=uvmm-module-0123456789" \
	"$G/multiboot.elf"

# The guest's own checks must be able to fail: told the wrong sizes, it
# says so and exits 3.
boot_case "multiboot: a memory size other than -m's fails" 3 \
'^FAIL: multiboot: RAM in the map .* = mem=0x10000000
^FAIL: fw_cfg RAM_SIZE 0x8000000 = mem=0x10000000
^FAIL: fw_cfg NB_CPUS 1 = cpus=2' -- --initrd "$tmp/module.txt" \
	--cmdline "mem=256M cpus=2 module=uvmm-module-0123456789" \
	"$G/multiboot.elf"

boot_case "multiboot: a module other than the one given fails" 3 \
'^FAIL: multiboot: module holds the file.s bytes' -- \
	--initrd "$tmp/module.txt" \
	--cmdline "mem=128M cpus=1 module=uvmm-module-0123456780" \
	"$G/multiboot.elf"
