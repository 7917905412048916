#!/bin/sh
# A stand-in for a QEMU that cannot start with KVM on this host, as QEMU 7.2
# does on PVM: make check points the bench smoke run at it
# (UVMM_BENCH_QEMU) to show that such a host still gets every uvmm row.
echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3030: kvm_buf_set_msrs: Assertion \`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
kill -ABRT $$
