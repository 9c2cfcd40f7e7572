/* Whether a file's bytes are in the page cache, asked without blocking,
 * so that the ring sends cached pages by sendfile and reads the others
 * through the ring instead of waiting for the disk on its thread.
 *
 * cachestat(2) answers where the kernel has it (Linux 6.5); elsewhere
 * mincore(2) on a read-only mapping of the file, made on first use and
 * kept with the file (a mapping costs address space, not memory). */
#ifndef RH_PAGECACHE_H
#define RH_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A file's mapping for mincore, or none yet. */
struct rh_file_map {
	void *addr;
	size_t len;
};

/* Whether bytes [OFF, OFF + LEN) of file FD, SIZE bytes long, are all
 * cached. When it cannot tell, it says no: the read path is always safe. */
bool rh_pagecache_holds(int fd, uint64_t size, uint64_t off, uint64_t len, struct rh_file_map *map);
void rh_pagecache_unmap(struct rh_file_map *map);

#endif
