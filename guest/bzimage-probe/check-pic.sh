#!/bin/bash
# Refuses a bzimage-probe ELF (linked with -q) that would not run at any
# load address: an absolute or GOT relocation anywhere but the real-mode
# header (whose fields are absolute numbers) and the debug sections.
set -euo pipefail
elf=$1
bad=$(readelf -rW "$elf" | awk '
	/^Relocation section/ { sec = $3; gsub(/\047/, "", sec); next }
	sec ~ /header|debug/ { next }
	$3 ~ /^R_X86_64_(64|32|32S|16|8|GOT.*|REX_GOT.*|COPY|GLOB_DAT|JUMP_SLOT|RELATIVE)$/ { print sec ": " $0 }')
if [[ -n $bad ]]; then
	echo "check-pic: $elf is not position independent:" >&2
	echo "$bad" | head -20 >&2
	exit 1
fi
