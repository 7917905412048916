#!/bin/bash
# Debian's current kernel (the linux-image-*-amd64 that linux-image-amd64
# depends on) and busybox-static, taken from the Debian archive for the
# Linux boot tests. No root needed: `apt-get download` and `dpkg-deb -x`
# into ${UVMM_CACHE:-$HOME/.cache/uvmm}/debian/, reused when present.
#
# Sourced:  source tests/lib/debian-kernel.sh
#           debian_fetch [--offline] || echo "why: $DEBIAN_ERROR"
#           sets DEBIAN_KVER, DEBIAN_KERNEL (the bzImage), DEBIAN_BUSYBOX
#           (a static busybox binary)
#           debian_fetch_modules [--offline]: DEBIAN_MODULES, the NVMe
#           driver's and ext4's modules of that kernel (make check-linux)
# Run:      bash tests/lib/debian-kernel.sh [--offline] [--quiet]
#           fetches what is missing and prints the paths; status 1 and the
#           reason on stderr when it cannot.
#
# --offline uses the cache only (the kvm-host VM has no network): the newest
# cached kernel when apt-cache cannot name the current one.

: "${UVMM_CACHE:=$HOME/.cache/uvmm}"
DEBIAN_CACHE=$UVMM_CACHE/debian

# Print the package that linux-image-amd64 currently depends on.
debian_resolve_kpkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

debian_resolve_busybox_version() {
	apt-cache show --no-all-versions busybox-static 2>/dev/null |
		awk '$1 == "Version:" { print $2; exit }'
}

# apt-get download PKG into DIR; with stale package lists (the archive has
# moved on) one apt-get update, when we may, and a retry.
debian_download() {
	local pkg=$1 dir=$2 log=$2/apt.log

	if (cd "$dir" && apt-get download -q "$pkg") >"$log" 2>&1; then
		return 0
	fi
	if [[ $(id -u) -eq 0 ]] && apt-get update -qq >>"$log" 2>&1 &&
	   (cd "$dir" && apt-get download -q "$pkg") >>"$log" 2>&1; then
		return 0
	fi
	DEBIAN_ERROR="apt-get download $pkg failed: $(grep -E '^(E|W):' "$log" | tail -n 1)"
	return 1
}

# debian_extract PKG DEST FILE...: download PKG, unpack it with dpkg-deb -x
# and keep only FILEs (paths inside the package) in DEST; atomic, so a
# concurrent run or an interrupted one never leaves half a cache entry.
debian_extract() {
	local pkg=$1 dest=$2 f tmp
	shift 2

	mkdir -p "$DEBIAN_CACHE" || { DEBIAN_ERROR="cannot create $DEBIAN_CACHE"; return 1; }
	tmp=$(mktemp -d "$DEBIAN_CACHE/dl.XXXXXX") || { DEBIAN_ERROR="mktemp failed"; return 1; }
	echo "debian-kernel: downloading $pkg from the Debian archive" >&2
	if ! debian_download "$pkg" "$tmp"; then
		rm -rf "$tmp"
		return 1
	fi
	if ! dpkg-deb -x "$tmp"/*.deb "$tmp/x" 2>"$tmp/dpkg.log"; then
		DEBIAN_ERROR="dpkg-deb -x of $pkg failed: $(tail -n 1 "$tmp/dpkg.log")"
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "$tmp/keep"
	for f in "$@"; do
		if [[ ! -f $tmp/x/$f ]]; then
			DEBIAN_ERROR="$pkg has no $f"
			rm -rf "$tmp"
			return 1
		fi
		cp "$tmp/x/$f" "$tmp/keep/"
	done
	# A concurrent run may have won the race; its copy is as good as ours.
	mv -T "$tmp/keep" "$dest" 2>/dev/null || true
	rm -rf "$tmp"
	[[ -d $dest ]] || { DEBIAN_ERROR="cannot create $dest"; return 1; }
}

# The newest cached entry named PREFIX*, or nothing.
debian_newest_cached() {
	local prefix=$1

	find "$DEBIAN_CACHE" -maxdepth 1 -type d -name "$prefix*" 2>/dev/null |
		sort -V | tail -n 1
}

debian_fetch() {
	local offline= kpkg bbver dir
	[[ ${1:-} == --offline ]] && offline=1
	DEBIAN_ERROR=

	# The kernel.
	kpkg=$(debian_resolve_kpkg)
	if [[ -z $kpkg && -z $offline && $(id -u) -eq 0 ]]; then
		apt-get update -qq >/dev/null 2>&1
		kpkg=$(debian_resolve_kpkg)
	fi
	if [[ -n $kpkg && -f $DEBIAN_CACHE/$kpkg/vmlinuz ]]; then
		dir=$DEBIAN_CACHE/$kpkg
	elif [[ -n $kpkg && -z $offline ]]; then
		DEBIAN_KVER=${kpkg#linux-image-}
		debian_extract "$kpkg" "$DEBIAN_CACHE/$kpkg" \
			"boot/vmlinuz-$DEBIAN_KVER" "boot/config-$DEBIAN_KVER" || return 1
		mv "$DEBIAN_CACHE/$kpkg/vmlinuz-$DEBIAN_KVER" "$DEBIAN_CACHE/$kpkg/vmlinuz" 2>/dev/null
		mv "$DEBIAN_CACHE/$kpkg/config-$DEBIAN_KVER" "$DEBIAN_CACHE/$kpkg/config" 2>/dev/null
		dir=$DEBIAN_CACHE/$kpkg
	else
		dir=$(debian_newest_cached linux-image-)
	fi
	if [[ -z $dir || ! -f $dir/vmlinuz ]]; then
		DEBIAN_ERROR="no Debian kernel in $DEBIAN_CACHE${offline:+ (offline: fetch it first with bash tests/lib/debian-kernel.sh)}${kpkg:-; apt-cache cannot resolve linux-image-amd64 (run apt-get update)}"
		return 1
	fi
	DEBIAN_KERNEL=$dir/vmlinuz
	DEBIAN_KVER=$(basename "$dir")
	DEBIAN_KVER=${DEBIAN_KVER#linux-image-}

	# busybox-static.
	bbver=$(debian_resolve_busybox_version)
	bbver=${bbver//:/_}	# no epoch colon in a path
	if [[ -n $bbver && -x $DEBIAN_CACHE/busybox-static-$bbver/busybox ]]; then
		dir=$DEBIAN_CACHE/busybox-static-$bbver
	elif [[ -n $bbver && -z $offline ]]; then
		debian_extract busybox-static "$DEBIAN_CACHE/busybox-static-$bbver" \
			bin/busybox || return 1
		dir=$DEBIAN_CACHE/busybox-static-$bbver
	else
		dir=$(debian_newest_cached busybox-static-)
	fi
	if [[ -z $dir || ! -x $dir/busybox ]]; then
		DEBIAN_ERROR="no busybox-static in $DEBIAN_CACHE"
		return 1
	fi
	DEBIAN_BUSYBOX=$dir/busybox
	return 0
}

# The modules check-linux loads from DEBIAN_KVER's package, in load order
# (their dependencies first; the two crypto providers before the CRC
# libraries that look them up, since the initramfs has no modprobe to
# load them on demand): the NVMe driver, then ext4 (which also mounts
# ext2) for a file system on it. Sets DEBIAN_MODULES, a directory with
# the .ko files and "order", their names one per line. Call after
# debian_fetch.
DEBIAN_MODULES_ORDER="crypto/crct10dif_common crypto/crct10dif_generic
lib/crc-t10dif lib/crc64 crypto/crc64_rocksoft_generic lib/crc64-rocksoft
block/t10-pi drivers/nvme/host/nvme-core drivers/nvme/host/nvme
lib/crc16 crypto/crc32c_generic fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4"

debian_fetch_modules() {
	local offline= dir files=() m
	[[ ${1:-} == --offline ]] && offline=1
	dir=$DEBIAN_CACHE/linux-modules-$DEBIAN_KVER
	if [[ ! -f $dir/order && -z $offline ]]; then
		for m in $DEBIAN_MODULES_ORDER; do
			files+=("lib/modules/$DEBIAN_KVER/kernel/$m.ko")
		done
		debian_extract "linux-image-$DEBIAN_KVER" "$dir.tmp$$" "${files[@]}" ||
			return 1
		for m in $DEBIAN_MODULES_ORDER; do
			echo "${m##*/}"
		done >"$dir.tmp$$/order"
		mv -T "$dir.tmp$$" "$dir" 2>/dev/null || rm -rf "$dir.tmp$$"
	fi
	if [[ ! -f $dir/order ]]; then
		DEBIAN_ERROR="no NVMe and ext4 modules of $DEBIAN_KVER in $DEBIAN_CACHE${offline:+ (offline: fetch them first with bash tests/lib/debian-kernel.sh)}"
		return 1
	fi
	DEBIAN_MODULES=$dir
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -uo pipefail
	offline= quiet=
	for arg in "$@"; do
		case $arg in
		--offline) offline=--offline ;;
		--quiet) quiet=1 ;;
		*) echo "usage: $0 [--offline] [--quiet]" >&2; exit 2 ;;
		esac
	done
	if ! debian_fetch $offline || ! debian_fetch_modules $offline; then
		echo "debian-kernel: $DEBIAN_ERROR" >&2
		exit 1
	fi
	if [[ -z $quiet ]]; then
		echo "DEBIAN_KVER=$DEBIAN_KVER"
		echo "DEBIAN_KERNEL=$DEBIAN_KERNEL"
		echo "DEBIAN_BUSYBOX=$DEBIAN_BUSYBOX"
		echo "DEBIAN_MODULES=$DEBIAN_MODULES"
	fi
fi
