// SPDX-License-Identifier: MIT
/*
 * The PVH ELF loader on any bytes: pvh_load() into a small guest RAM
 * (4 MiB low, 1 MiB at 4 GiB, each its own heap block so ASan traps a
 * copy past either), then the start_info writer, as loader.c calls them.
 * An image it accepts must have its entry inside what it loaded, and
 * everything it loaded at or above 1 MiB and inside RAM.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "vmm/e820.h"
#include "abi/machine.h"
#include "vmm/pvh.h"

#define LOW_RAM (4 * MiB)
#define HIGH_RAM (1 * MiB)

static struct guest_memory mem;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERR);
	fuzz_mem_init(&mem, LOW_RAM, HIGH_RAM);
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct pvh_image img;
	unsigned int nr_e820;
	char err[256];
	u8 *image;
	int ret;

	if (size > 2 * LOW_RAM)
		return 0;
	image = fuzz_dup(data, size);
	err[0] = '\0';
	ret = pvh_load(&mem, image, size, &img, err, sizeof(err));
	if (ret) {
		/* Every refusal names its cause. */
		FUZZ_CHECK(ret < 0 && err[0] != '\0');
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)));
		goto out;
	}
	FUZZ_CHECK(pvh_is_elf(image, size));
	FUZZ_CHECK(img.lowest >= LAYOUT_IMAGE_MIN && img.lowest < img.highest);
	FUZZ_CHECK(img.entry >= img.lowest && img.entry < img.highest);
	FUZZ_CHECK(img.entry <= UINT32_MAX);
	/* lowest and highest may lie in different regions; each is RAM. */
	FUZZ_CHECK(mem_gpa_to_hva(&mem, img.lowest, 1));
	FUZZ_CHECK(mem_gpa_to_hva(&mem, img.highest - 1, 1));

	nr_e820 = e820_build(&mem, e820);
	FUZZ_CHECK(nr_e820 <= E820_MAX_ENTRIES);
	FUZZ_CHECK(pvh_write_start_info(&mem, "console=ttyS0", e820, nr_e820,
					NULL, 0) == LAYOUT_START_INFO);
out:
	free(image);
	return 0;
}
