/* SPDX-License-Identifier: MIT */
#ifndef UVMM_STATUS_H
#define UVMM_STATUS_H

/* Exit statuses (docs/design.md, "Exit status"). Only vmm/main.c exits. */
#define STATUS_OK 0
#define STATUS_BAD_CLI 2
#define STATUS_HOST_SETUP 4
#define STATUS_BAD_IMAGE 6
#define STATUS_GUEST_CRASH 8
#define STATUS_DEVICE_FAILED 10
#define STATUS_SANDBOX 12
#define STATUS_TIMEOUT 124

#endif
