#!/bin/bash
# Runs a command where /dev/kvm works.  On a machine without /dev/kvm it boots
# Debian's kernel in QEMU with TCG and `-cpu max` (which emulates SVM, so
# kvm_amd loads and the guest has a working, slow /dev/kvm), shares the host's
# / read-write over 9p, chroots into it and runs the command there.
#
# Usage: tests/kvm-host/run.sh [--memory 6G] [--cpus 2] [--timeout SECONDS] -- COMMAND [ARGS...]
#
# Exit status: COMMAND's; 4 if the VM cannot provide /dev/kvm or QEMU dies;
# 5 if the VM's own kernel panicked before the command finished (QEMU's
# emulation of the host CPU failed it: the nested guest is not to blame);
# 124 on timeout; 2 on bad usage.  COMMAND runs as root in the VM, in the
# caller's directory, with stdin /dev/null and stdout+stderr on one pipe that
# streams to this script's stdout.  Environment knobs: KVM_HOST_FORCE_VM=1
# uses the VM even where /dev/kvm works; KVM_HOST_DEBUG=1 traces the guest's
# init into the console log; KVM_HOST_9P_CACHE=mmap|loose (default loose);
# KVM_HOST_CPU: QEMU's -cpu (default max); KVM_HOST_TCG_THREAD=single|multi
# (default single); KVM_HOST_KVM_AMD: kvm_amd's parameters, comma-separated
# (e.g. npt=0).
# Kernel and initramfs are cached in
# ${UVMM_CACHE:-$HOME/.cache/uvmm}/kvm-host/<kernel version>/ (~40 MB);
# the guest console log of the last run is kvm-host/last-console.log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${UVMM_CACHE:-$HOME/.cache/uvmm}/kvm-host
memory=6G   # room for a nested guest of up to 4 GiB plus the test itself
cpus=2
timeout=1500
# Environment passed into the VM (plus every UVMM_* and LINUX_* variable:
# the knobs of tests/linux/run-linux.sh).
# The sanitizer options make `make check SANITIZE=1` fail on any report
# there too (tests/lib/sanitize.sh).
pass_vars=(PATH HOME CI BUILD LANG LC_ALL TZ USER CC CFLAGS
	SANITIZE SANITIZER_LOGS ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS)
# Modules to load, before their dependencies are added (9p/virtio, then KVM).
want_mods=(virtio_pci virtio_console 9pnet_virtio 9p kvm_amd)

die() { echo "kvm-host: $*" >&2; exit 4; }
usage() { sed -n "7s/^# //p" "$0" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
	case "$1" in
	--memory) memory=${2:?}; shift 2 ;;
	--cpus) cpus=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[[ $# -gt 0 ]] || usage
[[ $timeout =~ ^[0-9]+$ && $cpus =~ ^[0-9]+$ ]] || usage

# Where KVM already works there is nothing to emulate.
if [[ -w /dev/kvm && -z ${KVM_HOST_FORCE_VM:-} ]]; then
	exec timeout --foreground -k 10 "$timeout" "$@"
fi

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: install the Debian package qemu-system-x86"
# A dynamically linked busybox (package busybox) would not run in the initramfs.
if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
	die "static /bin/busybox missing: install the Debian package busybox-static"
fi

# --- Kernel: the version linux-image-amd64 currently depends on -------------
resolve_kpkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }' || true
}
apt_update() {
	echo "kvm-host: running apt-get update to find the kernel package" >&2
	apt-get update -qq >/dev/null || die "apt-get update failed (needs root and network)"
}
# apt-cache takes ~0.8 s: reuse its last answer until the apt lists change.
stamp=$cache/kernel-package
if [[ -s $stamp && -z $(find /var/lib/apt/lists -maxdepth 1 -newer "$stamp" 2>/dev/null) ]]; then
	kpkg=$(<"$stamp")
else
	kpkg=$(resolve_kpkg)
fi
if [[ -z $kpkg ]]; then
	# No package lists: use a cached kernel if there is one, else update.
	kver=$(cd "$cache" 2>/dev/null && printf '%s\n' [0-9]* | sort -V | tail -n 1 || true)
	if [[ -n $kver && -f $cache/$kver/kernel ]]; then
		kpkg=linux-image-$kver
	else
		apt_update
		kpkg=$(resolve_kpkg)
		[[ -n $kpkg ]] || die "cannot resolve linux-image-amd64 with apt-cache"
	fi
fi
kver=${kpkg#linux-image-}
kdir=$cache/$kver

if [[ ! -f $kdir/kernel ]]; then
	echo "kvm-host: downloading $kpkg from the Debian archive into $kdir" >&2
	mkdir -p "$cache"
	dl=$(mktemp -d "$cache/dl.XXXXXX")
	trap 'rm -rf "$dl"' EXIT
	if ! (cd "$dl" && apt-get download -qq "$kpkg" >/dev/null 2>&1); then
		# Stale lists name a version the archive no longer has.
		apt_update
		kpkg=$(resolve_kpkg); kver=${kpkg#linux-image-}; kdir=$cache/$kver
		(cd "$dl" && apt-get download -qq "$kpkg" >/dev/null) || die "apt-get download $kpkg failed"
	fi
	dpkg-deb -x "$dl"/*.deb "$dl/x"
	# Keep only what the VM needs (~16 MB instead of ~400 MB).
	mods=$dl/x/lib/modules/$kver
	mkdir -p "$dl/k/mod"
	# Boot the uncompressed ELF vmlinux through PVH: decompressing the xz
	# bzImage under TCG costs ~2.5 s per boot.  Fall back to the bzImage.
	bz=$dl/x/boot/vmlinuz-$kver
	off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1 || true)
	if [[ -n $off ]] && xz -dc --single-stream >"$dl/k/kernel" 2>/dev/null < <(tail -c +$((off + 1)) "$bz") &&
		[[ $(head -c 4 "$dl/k/kernel") == $'\x7fELF' ]]; then :; else cp "$bz" "$dl/k/kernel"; fi
	cp "$mods/modules.builtin" "$dl/k/"
	# Map module name -> file and record each module's dependencies, read
	# from its .modinfo section (the .deb has no modules.dep; depmod may be
	# absent), for every module the VM could need.
	while read -r path; do
		name=$(basename "$path" .ko); name=${name//-/_}
		deps=$(tr '\0' '\n' <"$mods/$path" | grep -a -m1 '^depends=' | cut -d= -f2 || true)
		echo "$name ${deps//,/ }" >>"$dl/k/deps"
		cp "$mods/$path" "$dl/k/mod/$name.ko"
	done < <(grep -E '/(virtio[^/]*|9p[^/]*|fscache|netfs|kvm[-_]amd|kvm|ccp|irqbypass)\.ko$' "$mods/modules.order")
	mv -T "$dl/k" "$kdir" 2>/dev/null || true   # a concurrent run may have won
	# Older kernels are of no further use.
	find "$cache" -mindepth 1 -maxdepth 1 -name '[0-9]*' ! -name "$kver" -exec rm -rf {} +
	rm -rf "$dl"
	trap - EXIT
fi

echo "$kpkg" >"$stamp"

# --- Initramfs: busybox, init and the modules, in load order ----------------
hash=$(cat "$here/run.sh" "$here/init" | sha256sum | cut -c1-12)
initrd=$kdir/initrd-$hash.cpio
if [[ ! -f $initrd ]]; then
	order=()
	add_mod() {   # depth-first, dependencies first; built-ins need nothing
		local m=$1 d
		grep -q "/${m//_/[-_]}\.ko$" "$kdir/modules.builtin" && return
		[[ " ${order[*]} " == *" $m "* ]] && return
		[[ -f $kdir/mod/$m.ko ]] || die "kernel $kver has no module $m"
		for d in $(awk -v m="$m" '$1 == m { $1 = ""; print }' "$kdir/deps"); do add_mod "$d"; done
		order+=("$m")
	}
	for m in "${want_mods[@]}"; do add_mod "$m"; done
	root=$(mktemp -d "$kdir/root.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	mkdir -p "$root"/{bin,mod,proc,sys,dev,host}
	cp /bin/busybox "$root/bin/"
	cp "$here/init" "$root/init"
	chmod 755 "$root/init"
	printf '%s\n' "${order[@]}" >"$root/modules"
	for m in "${order[@]}"; do cp "$kdir/mod/$m.ko" "$root/mod/"; done
	(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$initrd.$$"
	mv "$initrd.$$" "$initrd"
	# Drop initramfs images of older harness versions (unless just made).
	find "$kdir" -maxdepth 1 -name 'initrd-*' ! -name "${initrd##*/}" -mmin +10 -delete
	rm -rf "$root"
	trap - EXIT
fi

# --- Run ------------------------------------------------------------------
# The host directory must look the same in the guest: no whitespace, since it
# travels on the kernel command line.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvm-host.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
trap 'rm -rf "$tmp"' EXIT
[[ $tmp != *[[:space:]]* ]] || die "temporary directory path has whitespace: $tmp"

{
	echo "cd -- $(printf %q "$PWD") || exit 125"
	for v in "${pass_vars[@]}" $(compgen -v UVMM_ || true) $(compgen -v LINUX_ || true); do
		[[ -n ${!v+x} ]] && echo "export $v=$(printf %q "${!v}")"
	done
	echo "exec -- $(printf '%q ' "$@")"
} >"$tmp/cmd.sh"

# One VM at a time: each takes every core, and two would slow each other
# past their timeouts.
exec 9>"$cache/vm.lock"
if ! flock -n 9; then
	echo "kvm-host: waiting for another kvm-host VM on this machine to finish" >&2
	flock 9
fi
echo "kvm-host: no /dev/kvm here: running in a QEMU TCG VM with nested SVM (kernel $kver)"
# qboot (from qemu-system-data) starts faster than SeaBIOS.
# thread=single: with one host thread per vCPU (MTTCG), the VM's kernel
# froze within ~15 uvmm runs: both vCPUs looped on an int3 that text_poke
# had already removed (KVM flips static keys when a VM comes and goes, and
# a stale translation of the patched code kept running). One TCG thread for
# all vCPUs made 40 runs of the same test pass; it costs ~30% speed.
# KVM_HOST_TCG_THREAD=multi brings MTTCG back. The monitor socket lets a
# person look at a hung VM (info registers -a).
bios=/usr/share/qemu/qboot.rom; [[ -f $bios ]] || bios=
# shellcheck disable=SC2054 # the commas are QEMU's
qemu_args=(${bios:+-bios "$bios"}
	-accel "tcg,thread=${KVM_HOST_TCG_THREAD:-single}" -cpu "${KVM_HOST_CPU:-max}" -M pc -m "$memory" -smp "$cpus"
	-nodefaults -display none -vga none -no-reboot
	-monitor "unix:$tmp/monitor.sock,server=on,wait=off"
	-serial "file:$tmp/console.log"
	-kernel "$kdir/kernel" -initrd "$initrd"
	-append "console=ttyS0 loglevel=4 panic=-1 kvmhost_dir=$tmp${KVM_HOST_DEBUG:+ kvmhost_debug=1}${KVM_HOST_KVM_AMD:+ kvmhost_kvm_amd=$KVM_HOST_KVM_AMD}${KVM_HOST_9P_CACHE:+ kvmhost_cache=$KVM_HOST_9P_CACHE}"
	-fsdev "local,id=hostroot,path=/,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
	-device virtio-serial-pci
	-chardev stdio,id=out,signal=off
	-device virtconsole,chardev=out
)
# stdin is /dev/null: QEMU must not touch the caller's terminal, and CI has
# none.  QEMU runs in the background so that a SIGTERM to this script reaches
# it, and so that a VM which never starts the command is killed after 120 s
# instead of at the timeout.
set +e
SECONDS=0
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 "${qemu_args[@]}" \
	</dev/null 2>"$tmp/qemu.err" &
qpid=$!
trap 'interrupted=1; kill -TERM $qpid 2>/dev/null' TERM INT HUP
boot_hung='' interrupted=
while kill -0 $qpid 2>/dev/null; do
	if [[ -z $boot_hung && ! -e $tmp/started ]] && ((SECONDS > 120)); then
		boot_hung=1; kill -TERM $qpid
	fi
	sleep 0.2
done
wait $qpid; qrc=$?
set -e

mkdir -p "$cache"
cp "$tmp/console.log" "$cache/last-console.log" 2>/dev/null || true
if [[ -f $tmp/rc ]]; then
	exit "$(cat "$tmp/rc")"
elif [[ -n $interrupted ]]; then
	echo "kvm-host: interrupted; QEMU killed" >&2
	exit 143
elif [[ -n $boot_hung ]]; then
	die "the VM did not start the command within 120 s (log: $cache/last-console.log)"
elif [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
	echo "kvm-host: timed out after $timeout s; QEMU killed; the VM's console (kernel warnings) ends with:" >&2
	tail -n 40 "$tmp/console.log" | sed 's/^/kvm-host:   | /' >&2
	exit 124
elif reason=$(cat "$tmp/fail" 2>/dev/null ||
	sed -n 's/^kvm-host-init: //p' "$tmp/console.log" | tail -n 1) && [[ -n $reason ]]; then
	die "the VM cannot provide /dev/kvm: $reason (log: $cache/last-console.log)"
elif grep -q 'Kernel panic - not syncing' "$tmp/console.log"; then
	# panic=-1 and -no-reboot: the VM's kernel died and QEMU left.
	echo "kvm-host: the VM's own kernel panicked before the command finished (log: $cache/last-console.log):" >&2
	grep -E 'BUG:|Oops|RIP: 0010|Kernel panic' "$tmp/console.log" | head -n 4 | sed 's/^/kvm-host:   | /' >&2
	exit 5
else
	err=$(grep -v '^$' "$tmp/qemu.err" | tail -n 1 || true)
	die "QEMU exited with status $qrc before the command finished${err:+: $err} (log: $cache/last-console.log)"
fi
