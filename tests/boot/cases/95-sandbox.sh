# The seccomp sandbox (vmm/sandbox.c): every other boot case runs under it
# (it is on by default); these show a forbidden call is caught and named.
# Sanitizer builds run without it (their runtime needs ptrace at exit), so
# there the case checks that uvmm says so instead.

if [[ ${SANITIZE:-} == 1 ]]; then
	boot_case "sandbox: off in a sanitizer build, and says why" 1 \
'sandbox: off: not in a sanitizer build' -- -v "$G/hello.elf"
else
	export UVMM_SANDBOX_SELFTEST=1
	# Not anchored at the line's start: the guest's serial output shares
	# the file, and the line may land in the middle of one of its lines.
	boot_case "sandbox: a forbidden system call ends uvmm with status 12, named" 12 \
'uvmm: sandbox: forbidden system call socket \(41\) on thread [0-9]+; stopping$' -- "$G/hello.elf"
	unset UVMM_SANDBOX_SELFTEST
fi
boot_case "sandbox: --sandbox off runs the same guest" 1 \
'^SUMMARY: .* 0 unexpected failures' -- --sandbox off "$G/hello.elf"
