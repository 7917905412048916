#!/bin/bash
# `make install` as a user of the vfio-user server library sees it: into a
# temporary DESTDIR, then examples/counter built from a copy outside the
# tree with nothing but what pkg-config says about the installed
# uvmm-vfio-user.pc, and run until it listens. (tests/boot/cases/
# 46-example.sh boots a guest on the same device.)
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

tmp=$(mktemp -d)
server_pid=
cleanup() {
	[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

root=$tmp/root
name="install: make install DESTDIR=... PREFIX=/usr"
if ! make --no-print-directory install BUILD="$BUILD" SANITIZE="${SANITIZE:-}" \
		DESTDIR="$root" PREFIX=/usr >"$tmp/install.log" 2>&1; then
	result_fail "$name: failed"
	sed 's/^/    | /' "$tmp/install.log" | tail -10
	exit 0
fi
missing=
for f in bin/uvmm bin/uvmm-nvme bin/uvmm-qemu share/man/man1/uvmm-nvme.1 \
	lib/libuvmm-vfio-user.a lib/pkgconfig/uvmm-vfio-user.pc \
	include/uvmm/vfio-user/server.h include/uvmm/vfio-user/protocol.h \
	include/uvmm/common/types.h; do
	[[ -f $root/usr/$f ]] || missing="$missing $f"
done
if [[ -n $missing ]]; then
	result_fail "$name: not installed:$missing"
	exit 0
fi
result_pass "$name: programs, man page, library, headers, pkg-config file"

if ! command -v pkg-config >/dev/null; then
	result_missing "install: the example from the installed library: no pkg-config (apt-get install pkg-config)"
	exit 0
fi
# The installed file, seen from the DESTDIR as if it were /.
export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
name="install: pkg-config finds uvmm-vfio-user in the DESTDIR"
dir=$(pkg-config --variable=pcfiledir uvmm-vfio-user 2>&1)
if [[ $dir == "$root/usr/lib/pkgconfig" ]] &&
	[[ $(pkg-config --modversion uvmm-vfio-user) =~ ^[0-9]+\.[0-9]+ ]]; then
	result_pass "$name ($(pkg-config --cflags --libs uvmm-vfio-user | tr -s ' '))"
else
	result_fail "$name: $dir"
	exit 0
fi

# A copy of the example, away from the tree's headers and objects. The
# sanitizer build's library needs its runtime in the link too.
cp -r examples/counter "$tmp/counter"
rm -f "$tmp/counter/counter"
cflags="-O2 -g -Wall -Wextra -Werror"
cc=cc
if [[ ${SANITIZE:-} == 1 ]]; then
	cc=clang
	cflags="$cflags -fsanitize=address,undefined"
fi
name="install: examples/counter builds from the installed files alone"
if make --no-print-directory -C "$tmp/counter" CC="$cc" CFLAGS="$cflags" \
		>"$tmp/build.log" 2>&1 && [[ -x $tmp/counter/counter ]]; then
	result_pass "$name"
else
	result_fail "$name"
	sed 's/^/    | /' "$tmp/build.log" | tail -10
	exit 0
fi

name="install: the example built from the install serves its socket"
"$tmp/counter/counter" "$tmp/counter.sock" 2>"$tmp/counter.log" &
server_pid=$!
for i in $(seq 1 100); do
	grep -q "listening on" "$tmp/counter.log" && break
	sleep 0.05
done
if grep -q "^counter: listening on $tmp/counter.sock$" "$tmp/counter.log" &&
	[[ -S $tmp/counter.sock ]]; then
	result_pass "$name"
else
	result_fail "$name"
	sed 's/^/    | /' "$tmp/counter.log" | tail -5
fi
