# Limits: uvmm runs with the least it needs. While a guest runs, every fd
# of the real process (/dev/kvm, the VM and vCPU fds, eventfds, irqfds, the
# signalfd, guest RAM, ...) is close-on-exec, so none leaks into anything
# started beside it; an fd it inherited is left alone; guest RAM is sealed
# against shrinking and growing. Sourced by tests/boot/run-boot.sh, which
# provides result_*, $UVMM, $G and $tmp.
#
# The nested KVM host can be very slow when the machine is busy: every
# wait below is bounded by the clock, not by a count, and the loops fork
# as little as they can.

# The fd table of $1 as "N -> target" lines (one fork).
limits_fd_table() {
	ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.* \([0-9][0-9]*\) -> /\1 -> /p'
}

limits_case() {
	local name="limits: fds close-on-exec, inherited fd untouched, RAM sealed"
	local pid n target flags key value seals="" memfd="" bad="" checked=0
	local table="" state deadline

	# uvmm starts with 0-2 and fd 9, inherited without close-on-exec as
	# from a careless parent; whatever else this shell holds is closed
	# first, so every other fd it has is its own.
	(
		for n in /proc/$BASHPID/fd/*; do
			n=${n##*/}
			[[ $n -gt 2 ]] && eval "exec $n>&-"
		done 2>/dev/null
		exec "$UVMM" --timeout 120 --serial none "$G/spin.elf" 9<"$tmp" \
			>"$tmp/limits.out" 2>&1 </dev/null
	) &
	pid=$!
	# A vCPU fd means vm_build() is done and the guest runs.
	deadline=$((SECONDS + 60))
	while ((SECONDS < deadline)); do
		state=$(<"/proc/$pid/stat") 2>/dev/null || break
		state=${state##*) }
		[[ ${state%% *} == Z ]] && break	# exited, not yet reaped
		table=$(limits_fd_table "$pid")
		[[ $table == *anon_inode:kvm-vcpu* ]] && break
		table=""
		sleep 0.2
	done
	if [[ $table != *anon_inode:kvm-vcpu* ]]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		result_fail "$name: uvmm ran no vCPU within 60 s"
		sed 's/^/    | /' "$tmp/limits.out" | tail -10
		return
	fi
	while read -r n _ target; do
		[[ $n -le 2 || $n -eq 9 ]] && continue
		flags=""
		while read -r key value; do
			[[ $key == flags: ]] && flags=$value
		done <"/proc/$pid/fdinfo/$n" 2>/dev/null
		[[ -n $flags ]] || continue	# closed meanwhile
		checked=$((checked + 1))
		# O_CLOEXEC is 02000000 in fdinfo's octal flags.
		(( 8#$flags & 8#2000000 )) || bad+=" $n ($target)"
		[[ $target == /memfd:uvmm-guest-ram* ]] && memfd=$n
	done <<<"$table"
	[[ $table == *"9 -> "* ]] || bad+=" 9 (the inherited fd was closed)"
	# The seals belong to the inode: read them through a fresh open of it
	# (F_GET_SEALS is 1034).
	if [[ -n $memfd ]]; then
		seals=$(perl -e 'open(my $f, "<", $ARGV[0]) or die "$!\n";
			my $s = fcntl($f, 1034, 0); print defined $s ? $s + 0 : -1' \
			"/proc/$pid/fd/$memfd" 2>&1)
	fi
	kill -TERM "$pid" 2>/dev/null
	deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
		state=$(<"/proc/$pid/stat") 2>/dev/null || break
		state=${state##*) }
		[[ ${state%% *} == Z ]] && break
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null

	if [[ -n $bad ]]; then
		result_fail "$name: not close-on-exec:$bad"
	elif [[ -z $memfd ]]; then
		result_fail "$name: no guest RAM memfd among uvmm's fds"
	elif ! [[ $seals =~ ^[0-9]+$ ]] || (( (seals & 7) != 7 )); then
		# F_SEAL_SEAL 1, F_SEAL_SHRINK 2, F_SEAL_GROW 4.
		result_fail "$name: guest RAM seals are '$seals', expected SEAL|SHRINK|GROW"
	elif [[ $checked -lt 6 ]]; then
		result_fail "$name: only $checked fds seen, expected /dev/kvm, VM, vCPU, RAM and more"
	else
		result_pass "$name ($checked fds checked, seals $seals)"
	fi
}

limits_case
