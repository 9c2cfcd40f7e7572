/* libFuzzer target: the configuration loader. Any text is either loaded
 * into a configuration whose invariants hold (at least one listen address,
 * a document root, the default site) or refused with one line of error
 * that names the file, never both and never neither. The text is read
 * from a memory file through its /proc/self/fd path, as a file would be.
 * Inputs with an @include directive are skipped: they would read other
 * files of the machine (or a device that never ends). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	struct rh_config *cfg;
	size_t len;

	if (memmem(data, size, "@include", 8))
		return 0;
	if (fd < 0) {
		fd = memfd_create("rh-fuzz-config", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	err[0] = '\0';
	cfg = rh_config_load(path, NULL, err, sizeof err);
	len = strlen(err);
	if (cfg) {
		if (len || !cfg->n_listen || !cfg->listen || !cfg->document_root || !cfg->user ||
		    !cfg->access_log || !cfg->sites || !cfg->buffer_size || !cfg->ring_entries)
			abort();
		for (size_t i = 0; i < cfg->n_listen; i++)
			if (!cfg->listen[i])
				abort();
		rh_config_free(cfg);
		return 0;
	}
	/* refused: one line, "PATH:LINE: message" or "PATH: message" */
	if (!len || len >= sizeof err - 1 || memchr(err, '\n', len) ||
	    strncmp(err, path, strlen(path)) || (err[strlen(path)] != ':'))
		abort();
	return 0;
}
