/*
 * SPDX-License-Identifier: MIT
 *
 * uvmm's DSDT: what an ACPI operating system needs to find the PCI host
 * bridge, its windows and its INTx routing, and to power the machine off.
 * The build compiles it with Debian's iasl (acpica-tools) into a C array
 * that vmm/acpi.c copies into guest RAM. Every number here is a fact of
 * abi/machine.h and vmm/pci_irq.h; tests/unit/test_acpi.c checks the
 * copy against them.
 *
 * The 64-bit window follows RAM (it starts at the first GiB above it), so
 * its QWordMemory carries placeholder bounds that acpi.c replaces when it
 * builds the tables: ACPI_DSDT_MMIO64_MIN and _MAX in vmm/acpi.h.
 */
DefinitionBlock ("", "DSDT", 2, "UVMM  ", "UVMMDSDT", 1)
{
	Scope (\_SB)
	{
		Device (PCI0)
		{
			Name (_HID, EisaId ("PNP0A08"))	/* PCI Express root */
			Name (_CID, EisaId ("PNP0A03"))	/* PCI root */
			Name (_UID, Zero)
			Name (_SEG, Zero)
			Name (_BBN, Zero)
			Name (_CRS, ResourceTemplate ()
			{
				WordBusNumber (ResourceProducer, MinFixed, MaxFixed,
					PosDecode, 0x0000, 0x0000, 0x00FF, 0x0000,
					0x0100,,,)
				/* Configuration mechanism 1 */
				IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08,)
				/* PCI_WIN_IO_BASE, PCI_WIN_IO_SIZE */
				WordIO (ResourceProducer, MinFixed, MaxFixed,
					PosDecode, EntireRange, 0x0000, 0xC000,
					0xFFFF, 0x0000, 0x4000,,,, TypeStatic,
					DenseTranslation)
				/* PCI_WIN_MMIO32_BASE, PCI_WIN_MMIO32_SIZE */
				DWordMemory (ResourceProducer, PosDecode, MinFixed,
					MaxFixed, NonCacheable, ReadWrite,
					0x00000000, 0xC0000000, 0xFBFFFFFF,
					0x00000000, 0x3C000000,,,,
					AddressRangeMemory, TypeStatic)
				/* Placeholders; the length is PCI_WIN_MMIO64_SIZE */
				QWordMemory (ResourceProducer, PosDecode, MinFixed,
					MaxFixed, Cacheable, ReadWrite,
					0x0000000000000000, 0x5556560000000000,
					0x5556560FFFFFFFFF, 0x0000000000000000,
					0x0000001000000000,,,, AddressRangeMemory,
					TypeStatic)
			})

			/*
			 * INTx of bus 0: pin P (0-3 for A-D) of slot S is GSI
			 * 16 + (S + P) % 8, pci_intx_gsi() of vmm/pci_irq.h.
			 * One entry per slot and pin, built when the OS asks,
			 * rather than 128 written out by hand.
			 */
			Method (_PRT, 0, NotSerialized)
			{
				Local0 = Package (0x80) {}
				Local1 = Zero
				While (Local1 < 0x80)
				{
					Local2 = Local1 >> 2	/* slot */
					Local3 = Local1 & 3	/* pin */
					Local0 [Local1] = Package (4) { 0, 0, 0, 0 }
					DerefOf (Local0 [Local1]) [0] =
						(Local2 << 16) | 0xFFFF
					DerefOf (Local0 [Local1]) [1] = Local3
					DerefOf (Local0 [Local1]) [3] =
						16 + ((Local2 + Local3) % 8)
					Local1++
				}
				Return (Local0)
			}
		}

		/* The ECAM window of the MCFG, reserved as ACPI asks. */
		Device (MRES)
		{
			Name (_HID, EisaId ("PNP0C02"))
			Name (_UID, One)
			Name (_CRS, ResourceTemplate ()
			{
				/* PCI_ECAM_BASE, PCI_ECAM_SIZE */
				Memory32Fixed (ReadOnly, 0xB0000000, 0x10000000,)
			})
		}
	}

	/*
	 * Sleep to RAM: SLP_TYP 1 with SLP_EN parks the vCPUs until the RTC
	 * alarm (with RTC_EN) wakes the machine at the FACS waking vector.
	 * Soft off: SLP_TYP 5 ends the VM. ACPI_SLP_TYP_S3 and _S5.
	 */
	Name (_S3, Package (4) { 1, 1, 0, 0 })
	Name (_S5, Package (4) { 5, 5, 0, 0 })
}
