/* Whether a file's bytes are in the page cache and ready, asked without
 * blocking, so that the ring sends ready pages by sendfile and reads the
 * others through the ring instead of waiting for the disk on its thread.
 *
 * mincore(2) on a read-only mapping of the file, made on first use and
 * kept with the file (a mapping costs address space, not memory; it is
 * never touched, so it maps no page). mincore answers for pages that are
 * up to date. cachestat(2) (Linux 6.5) was measured and set aside: it
 * also counts pages that readahead has only begun to read, and a sendfile
 * of those waits for the disk on the ring's thread (p99 of cached requests
 * 385 ms beside 4 cold downloads, against a few ms with mincore). */
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
 * cached and up to date. When it cannot tell, it says no: the read path
 * is always safe. */
bool rh_pagecache_holds(int fd, uint64_t size, uint64_t off, uint64_t len, struct rh_file_map *map);
void rh_pagecache_unmap(struct rh_file_map *map);

#endif
