/* Safe path resolution under the document root and the per-ring file
 * cache: the open descriptor, size, validators and media type of each
 * file, and the bytes of the small and medium ones, so that they are sent
 * from memory without a read per request. */
#ifndef RH_FILE_H
#define RH_FILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http_cond.h"
#include "http_date.h"

struct rh_site;

/* rh_file_get's answer for a directory named with its '/' that has no
 * index file: 403, unless the site lists it. */
#define RH_FILE_NO_INDEX 1403

/* The most open files a ring's cache keeps: part of the descriptor budget. */
#define RH_FILE_CACHE_ENTRIES 1024

struct rh_file {
	int fd;
	uint64_t size;
	char *data; /* the whole file, or NULL when it is sent from fd */
	time_t mtime;
	long mtime_nsec;
	dev_t dev;
	ino_t ino;
	const char *mime;
	char etag[RH_ETAG_MAX];
	uint8_t etag_len;
	char last_modified[RH_HTTP_DATE_LEN + 1];

	/* the precompressed sidecars found beside it (RH_CODING_BIT), checked
	 * at most once a second */
	uint8_t sidecars;
	time_t sidecars_checked;

	/* cache bookkeeping */
	uint16_t site_idx;
	unsigned refs;	   /* the cache's own reference counts while hashed */
	time_t validated;  /* second of the last check against the file system */
	uint32_t hash;
	struct rh_file *hnext;
	struct rh_file *lru_prev, *lru_next;
	size_t key_len;
	char *served; /* the path of the file itself: KEY, or KEY and its index file's name */
	size_t served_len;
	char key[];
};

struct rh_file_cache {
	struct rh_file **buckets;
	size_t mask;
	unsigned count, capacity;
	uint64_t data_bytes;   /* file bytes held by hashed entries */
	uint64_t data_limit;   /* file_cache_size */
	uint64_t data_max_file; /* file_cache_max_file */
	atomic_uint_fast64_t hits, misses; /* read by the status endpoint */
	struct rh_file lru; /* sentinel: lru.lru_next is the most recent */
};

/* CAPACITY open files, of which those up to MAX_FILE bytes are kept in
 * memory too while their bytes add up to at most DATA_LIMIT. */
int rh_file_cache_init(struct rh_file_cache *c, unsigned capacity, uint64_t data_limit,
		       uint64_t max_file);
void rh_file_cache_destroy(struct rh_file_cache *c);
/* Drops every entry (after a reload changed the site). */
void rh_file_cache_flush(struct rh_file_cache *c);

/* Resolves the normalized PATH (starting with '/') under the root of
 * site IDX of SITE (cfg->sites->site[IDX]), with its index files. Returns
 * 200 with a referenced file in *OUT, or 301 (a directory named without
 * its trailing slash), RH_FILE_NO_INDEX, 403, 404, 500 or 503 (out of file
 * descriptors). */
int rh_file_get(struct rh_file_cache *c, const struct rh_site *site, unsigned idx,
		const char *path, size_t len, time_t now, struct rh_file **out);
/* Opens the directory PATH under site IDX's root, for a listing: its
 * descriptor with its status in *ST, or -errno. */
int rh_file_open_dir(const struct rh_site *site, unsigned idx, const char *path, struct stat *st);
void rh_file_put(struct rh_file *f);

#endif
