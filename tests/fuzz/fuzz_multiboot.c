// SPDX-License-Identifier: MIT
/*
 * The Multiboot loader on any bytes: multiboot_load() into a small guest
 * RAM (4 MiB low, 1 MiB at 4 GiB, each its own heap block so ASan traps a
 * copy past either), then the info writer with a module made of the
 * input's tail, as loader.c calls them. An image it accepts must have its
 * entry inside what it loaded, all of it at or above 1 MiB, below 4 GiB
 * and in RAM; an info it writes must point inside RAM.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "vmm/e820.h"
#include "abi/machine.h"
#include "vmm/multiboot.h"

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
	struct multiboot_image img;
	struct multiboot_mod mod;
	const struct multiboot_info *mbi;
	unsigned int nr_e820;
	char err[256];
	u8 *image;
	long info;
	int ret;

	if (size > 2 * LOW_RAM)
		return 0;
	image = fuzz_dup(data, size);
	err[0] = '\0';
	ret = multiboot_load(&mem, image, size, &img, err, sizeof(err));
	if (ret) {
		/* Every refusal names its cause. */
		FUZZ_CHECK(ret < 0 && err[0] != '\0');
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)));
		goto out;
	}
	FUZZ_CHECK(multiboot_find_header(image, size) >= 0);
	FUZZ_CHECK(img.lowest >= LAYOUT_IMAGE_MIN && img.lowest < img.highest);
	FUZZ_CHECK(img.highest <= 4 * GiB);
	FUZZ_CHECK(img.entry >= img.lowest && img.entry < img.highest);
	FUZZ_CHECK(mem_gpa_to_hva(&mem, img.lowest, 1));
	FUZZ_CHECK(mem_gpa_to_hva(&mem, img.highest - 1, 1));

	/* The last quarter of the input doubles as a module. */
	mod = (struct multiboot_mod) {
		.data = image + size - size / 4, .size = size / 4,
		.cmdline = "module",
	};
	nr_e820 = e820_build(&mem, e820);
	err[0] = '\0';
	info = multiboot_write_info(&mem, &img, "fuzz console=ttyS0", e820,
				    nr_e820, &mod, 1, err, sizeof(err));
	if (info < 0) {
		FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	mbi = mem_gpa_to_hva(&mem, info, sizeof(*mbi));
	FUZZ_CHECK(mbi);
	FUZZ_CHECK(mbi->mods_count == 1);
	FUZZ_CHECK(mem_gpa_to_hva(&mem, mbi->mmap_addr, mbi->mmap_length));
	{
		const struct multiboot_module *m =
			mem_gpa_to_hva(&mem, mbi->mods_addr, sizeof(*m));

		FUZZ_CHECK(m && m->mod_start >= img.highest &&
			   m->mod_end - m->mod_start == mod.size);
	}
out:
	free(image);
	return 0;
}
