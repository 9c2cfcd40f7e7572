#include "pagecache.h"

#include <sys/mman.h>

#define PAGE 4096ull
/* The most pages one question covers: a sendfile turn (256 KiB). */
#define MAX_PAGES 64

bool rh_pagecache_holds(int fd, uint64_t size, uint64_t off, uint64_t len, struct rh_file_map *map)
{
	unsigned char vec[MAX_PAGES];
	uint64_t first = off & ~(PAGE - 1), n = (off + len + PAGE - 1) / PAGE - off / PAGE;

	if (!len)
		return true;
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

void rh_pagecache_unmap(struct rh_file_map *map)
{
	if (map->addr)
		munmap(map->addr, map->len);
	map->addr = NULL;
	map->len = 0;
}
