#include "pagecache.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

#define PAGE 4096ull
/* The most pages one question covers: a sendfile turn (256 KiB). */
#define MAX_PAGES 64

struct cachestat_range {
	uint64_t off, len;
};
struct cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

/* Cleared the first time the kernel says it has no cachestat. */
static atomic_bool have_cachestat = true;

static uint64_t pages_in(uint64_t off, uint64_t len)
{
	return (off + len + PAGE - 1) / PAGE - off / PAGE;
}

static bool mincore_holds(int fd, uint64_t size, uint64_t off, uint64_t len, struct rh_file_map *map)
{
	unsigned char vec[MAX_PAGES];
	uint64_t first = off & ~(PAGE - 1), n = pages_in(off, len);

	if (n > MAX_PAGES)
		return false;
	if (!map->addr) {
		void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return false;
		map->addr = p;
		map->len = size;
	}
	if (off + len > map->len) /* the file grew since: not this mapping's */
		return false;
	if (mincore((char *)map->addr + first, n * PAGE, vec) < 0)
		return false;
	for (uint64_t i = 0; i < n; i++)
		if (!(vec[i] & 1))
			return false;
	return true;
}

bool rh_pagecache_holds(int fd, uint64_t size, uint64_t off, uint64_t len, struct rh_file_map *map)
{
	if (!len)
		return true;
	if (atomic_load_explicit(&have_cachestat, memory_order_relaxed)) {
		struct cachestat_range range = { off, len };
		struct cachestat cs;

		if (syscall(__NR_cachestat, fd, &range, &cs, 0) == 0)
			return cs.nr_cache >= pages_in(off, len);
		if (errno != ENOSYS)
			return false;
		atomic_store_explicit(&have_cachestat, false, memory_order_relaxed);
	}
	return mincore_holds(fd, size, off, len, map);
}

void rh_pagecache_unmap(struct rh_file_map *map)
{
	if (map->addr)
		munmap(map->addr, map->len);
	map->addr = NULL;
	map->len = 0;
}
