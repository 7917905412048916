// SPDX-License-Identifier: MIT
/*
 * The bzImage loader on any bytes, as loader.c calls it: bzimage_load()
 * with a command line and an initrd chosen by the first input byte, into
 * 8 MiB of guest RAM (a heap block, so ASan traps a copy past its end).
 * A kernel it accepts lies at or above 1 MiB, inside RAM, with its entry
 * inside the kernel; the initrd lies above the kernel, inside RAM and
 * below initrd_addr_max; the zero page carries what the loader promised.
 *
 * Input:  [u8 flags: bit 0 initrd, bit 1 command line, bits 2-7 initrd
 *          size in 4 KiB pages][image...]
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "vmm/bzimage.h"
#include "abi/machine.h"

#define LOW_RAM (8 * MiB)

static struct guest_memory mem;
static u8 initrd[64 * 4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERR);
	fuzz_mem_init(&mem, LOW_RAM, 0);
	memset(initrd, 0xa5, sizeof(initrd));
	return 0;
}

static void check_loaded(const u8 *image, size_t size,
			 const struct bzimage_info *info, size_t initrd_size,
			 const char *cmdline)
{
	struct bzimage_header bz;
	struct boot_params zp;
	void *at;
	char err[256];

	FUZZ_CHECK(bzimage_parse(image, size, &bz, err, sizeof(err)) == 0);
	FUZZ_CHECK(info->load_addr >= LAYOUT_IMAGE_MIN);
	FUZZ_CHECK(info->kernel_end > info->load_addr);
	FUZZ_CHECK(info->kernel_end - info->load_addr >= bz.kernel_size);
	FUZZ_CHECK(info->kernel_end <= mem_low_end(&mem));
	FUZZ_CHECK(info->entry >= info->load_addr &&
		   info->entry < info->load_addr + bz.kernel_size);
	FUZZ_CHECK(mem_gpa_to_hva(&mem, info->load_addr, bz.kernel_size));
	if (initrd_size) {
		FUZZ_CHECK(info->initrd_size == initrd_size);
		FUZZ_CHECK(info->initrd_addr >= info->kernel_end);
		FUZZ_CHECK(info->initrd_addr + initrd_size - 1 <=
			   bz.hdr.initrd_addr_max);
		at = mem_gpa_to_hva(&mem, info->initrd_addr, initrd_size);
		FUZZ_CHECK(at && !memcmp(at, initrd, initrd_size));
	} else {
		FUZZ_CHECK(info->initrd_addr == 0 && info->initrd_size == 0);
	}
	at = mem_gpa_to_hva(&mem, info->cmdline, strlen(cmdline) + 1);
	FUZZ_CHECK(at && !strcmp(at, cmdline));
	at = mem_gpa_to_hva(&mem, info->zero_page, sizeof(zp));
	FUZZ_CHECK(at);
	memcpy(&zp, at, sizeof(zp));
	FUZZ_CHECK(zp.hdr.code32_start == info->load_addr);
	FUZZ_CHECK(zp.hdr.cmd_line_ptr == info->cmdline);
	FUZZ_CHECK(zp.hdr.ramdisk_image == info->initrd_addr);
	FUZZ_CHECK(zp.hdr.ramdisk_size == info->initrd_size);
	FUZZ_CHECK(zp.e820_entries > 0 && zp.e820_entries <= BZIMAGE_E820_MAX);
	FUZZ_CHECK(zp.sentinel == 0);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct bzimage_info info;
	const char *cmdline;
	size_t initrd_size;
	char err[256];
	u8 flags, *image;
	int ret;

	if (size < 1 || size > LOW_RAM)
		return 0;
	flags = data[0];
	initrd_size = (flags & 1) ? ((size_t)(flags >> 2) + 1) * 4096 - 7 : 0;
	cmdline = (flags & 2) ? "console=ttyS0 earlyprintk=serial panic=-1" :
				NULL;
	image = fuzz_dup(data + 1, size - 1);
	err[0] = '\0';
	ret = bzimage_load(&mem, image, size - 1, cmdline,
			   initrd_size ? initrd : NULL, initrd_size, &info, err,
			   sizeof(err));
	if (ret) {
		FUZZ_CHECK(ret < 0 && err[0] != '\0');
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)));
		if (ret == -ENOSPC && info.ram_needed)
			FUZZ_CHECK(info.ram_needed > mem_low_end(&mem));
	} else {
		check_loaded(image, size - 1, &info, initrd_size,
			     cmdline ? cmdline : "");
	}
	free(image);
	return 0;
}
