#!/bin/bash
# Installs the Debian packages uvmm needs that are missing, and only those.
# Usage: scripts/setup-deps.sh [--missing] [build|check|bench|fuzz|linux]...
#   (default: check). As root it runs apt-get; otherwise it prints the exact
#   command to run. --missing installs nothing: it names what is missing
#   and how to install it, and fails (plain `make` uses it).
set -euo pipefail

only_report=0
if [[ ${1:-} == --missing ]]; then
	only_report=1
	shift
fi
profiles=("${@:-check}")

pkgs_build=(gcc make linux-libc-dev libfdt-dev libcmocka-dev libjson-c-dev
	libseccomp-dev acpica-tools)
pkgs_check=(gcc make pkg-config linux-libc-dev libfdt-dev libcmocka-dev
	libjson-c-dev libseccomp-dev device-tree-compiler clang libclang-rt-14-dev valgrind
	cpio xz-utils acpica-tools)
pkgs_bench=(qemu-system-x86 gnuplot-nox jq)
pkgs_fuzz=(clang libclang-rt-14-dev)
# check-linux: the kvm-host VM where KVM is not hardware (QEMU, a static
# busybox), script(1) for the shell's pty, e2fsck and debugfs for the
# file system the guest made.
pkgs_linux=(cpio xz-utils qemu-system-x86 busybox-static util-linux e2fsprogs)

want=()
for p in "${profiles[@]}"; do
	case "$p" in
	build) want+=("${pkgs_build[@]}") ;;
	check) want+=("${pkgs_check[@]}") ;;
	bench) want+=("${pkgs_check[@]}" "${pkgs_bench[@]}") ;;
	fuzz) want+=("${pkgs_fuzz[@]}") ;;
	linux) want+=("${pkgs_check[@]}" "${pkgs_linux[@]}") ;;
	*) echo "setup-deps: unknown profile '$p'" >&2; exit 2 ;;
	esac
done

# Without /dev/kvm the boot tests run in a nested-KVM VM under QEMU's TCG
# (tests/kvm-host/run.sh), which needs QEMU and a static busybox.
if ((!only_report)) && [[ ! -w /dev/kvm ]] && printf '%s\n' "${profiles[@]}" | grep -qxE 'check|linux'; then
	want+=(qemu-system-x86 busybox-static xz-utils)
fi

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi
if ((only_report)); then
	echo "setup-deps: the build needs Debian packages that are missing: ${missing[*]}" >&2
	echo "setup-deps: install them with 'make deps' as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "setup-deps: installing missing Debian packages: ${missing[*]}"
cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo apt-get update -q && sudo "${cmd[@]}"
		exit $?
	fi
	echo "setup-deps: not root; run this, then try again:" >&2
	echo "  sudo apt-get update && sudo ${cmd[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once when the
# install cannot find a package.
if ! "${cmd[@]}" >/tmp/uvmm-apt.log 2>&1; then
	apt-get update -q >/tmp/uvmm-apt-update.log 2>&1
	"${cmd[@]}" >/tmp/uvmm-apt.log 2>&1 || {
		echo "setup-deps: apt-get failed; see /tmp/uvmm-apt.log" >&2
		tail -20 /tmp/uvmm-apt.log >&2
		exit 1
	}
fi
echo "setup-deps: done"
