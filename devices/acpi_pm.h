/* SPDX-License-Identifier: MIT */
#ifndef UVMM_ACPI_PM_H
#define UVMM_ACPI_PM_H

#include "common/types.h"

struct dev_services;
struct acpi_pm;

/*
 * The ACPI PM block the FADT names (vmm/acpi.h): PM1a event (status,
 * enable), PM1a control (SCI_EN always set: there is no legacy mode to
 * leave), and the 24-bit PM timer at 3.579545 MHz. Sleep states are not
 * offered (the DSDT has no _Sx), so SLP_EN changes nothing.
 */
int acpi_pm_create(const struct dev_services *svc, struct acpi_pm **out);
void acpi_pm_destroy(struct acpi_pm *pm);

/* For tests: the clock (nanoseconds) the timer counts from. */
void acpi_pm_set_clock(struct acpi_pm *pm, u64 (*now_ns)(void));

#endif
