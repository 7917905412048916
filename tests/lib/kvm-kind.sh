# Which KVM this host has, for make check's first lines and bench's machine
# line: the figures and even some behaviours differ between them.
#   hardware  VMX or SVM underneath: what users have
#   nested    inside tests/kvm-host's VM (QEMU TCG with nested SVM), which
#             boots with kvmhost_dir= on its command line
#   pvm       the kvm_pvm module: KVM without VMX/SVM; guest CPL0 code runs
#             in KVM's instruction emulator, CPL3 natively, IOPL is not
#             honoured at CPL3 and "int N" from CPL3 is #UD
#   software  another KVM without VMX/SVM underneath
#   none      no usable /dev/kvm

kvm_kind() {
	if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
		echo none
	elif grep -q 'kvmhost_dir=' /proc/cmdline 2>/dev/null; then
		echo nested
	elif [[ -d /sys/module/kvm_pvm ]]; then
		echo pvm
	elif grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo hardware
	else
		echo software
	fi
}

kvm_kind_description() {
	local kind=${1:-$(kvm_kind)} ext
	case $kind in
	hardware)
		ext=SVM
		grep -qw vmx /proc/cpuinfo && ext=VMX
		echo "hardware KVM ($ext)" ;;
	nested) echo "nested KVM inside the kvm-host VM (QEMU TCG with nested SVM)" ;;
	pvm) echo "PVM (kvm_pvm: KVM without VMX/SVM, guest CPL0 emulated, CPL3 native)" ;;
	software) echo "software KVM (no VMX/SVM underneath)" ;;
	*) echo "no /dev/kvm" ;;
	esac
}
