// SPDX-License-Identifier: MIT
#define LOG_PREFIX "loader"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/e820.h"
#include "vmm/layout.h"
#include "vmm/loader.h"
#include "vmm/pvh.h"
#include "vmm/vm.h"

static int fail(char *err, size_t err_len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return ret;
}

int loader_read_file(const char *path, u64 max_size, u8 **data, size_t *size,
		     char *err, size_t err_len)
{
	struct stat st;
	size_t done = 0;
	u8 *buf = NULL;
	int fd, ret;

	*data = NULL;
	*size = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fail(err, err_len, -errno, "%s: %s", path,
			    strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = fail(err, err_len, -errno, "%s: %s", path,
			   strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = fail(err, err_len, -EINVAL, "%s: not a regular file",
			   path);
		goto out;
	}
	if (st.st_size == 0) {
		ret = fail(err, err_len, -EINVAL, "%s: the file is empty", path);
		goto out;
	}
	if ((u64)st.st_size > max_size) {
		ret = fail(err, err_len, -EFBIG,
			   "%s: %lld bytes do not fit in %llu MiB of guest RAM",
			   path, (long long)st.st_size,
			   (unsigned long long)(max_size >> 20));
		goto out;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		ret = fail(err, err_len, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = fail(err, err_len, n < 0 ? -errno : -EIO,
				   "%s: read failed: %s", path,
				   n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		done += n;
	}
	*data = buf;
	*size = done;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

static int load_pvh(struct vm *vm, const u8 *image, size_t size, char *err,
		    size_t err_len)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct pvh_image info;
	unsigned int nr_e820;
	int ret;

	ret = pvh_load(&vm->mem, image, size, &info, err, err_len);
	if (ret)
		return ret;
	nr_e820 = e820_build(&vm->mem, e820);
	vm->boot.rbx = pvh_write_start_info(&vm->mem, vm->cfg->cmdline, e820,
					    nr_e820, NULL, 0);
	if (!vm->boot.rbx)
		return fail(err, err_len, -E2BIG,
			    "cannot place the boot information (command line longer than %llu bytes?)",
			    (unsigned long long)LAYOUT_CMDLINE_MAX - 1);
	vm->boot.mode = BOOT_PVH32;
	vm->boot.entry = info.entry;
	log_info("PVH image [%#llx, %#llx), entry %#llx",
		 (unsigned long long)info.lowest,
		 (unsigned long long)info.highest,
		 (unsigned long long)info.entry);
	return 0;
}

static bool is_bzimage(const u8 *image, size_t size)
{
	return size >= 0x206 && !memcmp(image + 0x202, "HdrS", 4);
}

int loader_load(struct vm *vm, char *err, size_t err_len)
{
	const struct vm_config *cfg = vm->cfg;
	size_t size;
	u8 *image;
	int ret;

	if (cfg->bios_path)
		return fail(err, err_len, -ENOTSUP,
			    "--bios: raw ROM images are not supported yet");
	ret = loader_read_file(cfg->image_path, vm->mem.size, &image, &size,
			       err, err_len);
	if (ret)
		return ret;
	if (pvh_is_elf(image, size)) {
		if (cfg->initrd_path)
			ret = fail(err, err_len, -EINVAL,
				   "%s: --initrd is for bzImage kernels, not PVH ELF images",
				   cfg->image_path);
		else
			ret = load_pvh(vm, image, size, err, err_len);
	} else if (is_bzimage(image, size)) {
		ret = fail(err, err_len, -ENOTSUP,
			   "%s: bzImage boot is not supported yet",
			   cfg->image_path);
	} else {
		ret = fail(err, err_len, -ENOEXEC,
			   "%s: unknown image format (neither an ELF with a PVH note nor a bzImage)",
			   cfg->image_path);
	}
	if (ret && strncmp(err, cfg->image_path, strlen(cfg->image_path))) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", cfg->image_path, err);
		snprintf(err, err_len, "%s", msg);
	}
	free(image);
	return ret;
}
