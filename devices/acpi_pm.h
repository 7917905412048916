/* SPDX-License-Identifier: MIT */
#ifndef UVMM_ACPI_PM_H
#define UVMM_ACPI_PM_H

#include "common/types.h"

struct dev_services;
struct acpi_pm;

/*
 * The ACPI PM block the FADT names (vmm/acpi.h): PM1a event (status,
 * enable), PM1a control (SCI_EN always set: there is no legacy mode to
 * leave), and the 24-bit PM timer at 3.579545 MHz. SLP_EN with the DSDT's
 * _S5 type powers off (status 0); with _S3 the machine sleeps until an
 * enabled wake event (acpi_pm_wake_event()) sets WAK_STS and wakes it.
 */
int acpi_pm_create(const struct dev_services *svc, struct acpi_pm **out);
void acpi_pm_destroy(struct acpi_pm *pm);
/*
 * A wake source fired (ACPI_PM1_RTC_STS: the RTC alarm). While asleep with
 * that source enabled in PM1 enable, it sets the status bits and wakes
 * the machine; otherwise nothing.
 */
void acpi_pm_wake_event(struct acpi_pm *pm, u16 source);

/* For tests: the clock (nanoseconds) the timer counts from. */
void acpi_pm_set_clock(struct acpi_pm *pm, u64 (*now_ns)(void));

#endif
