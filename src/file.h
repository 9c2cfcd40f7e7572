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
#include "pagecache.h"

struct rh_site;
struct io_uring;

/* What a look-up found. */
enum rh_lookup {
	RH_LOOKUP_FILE,	     /* a regular file */
	RH_LOOKUP_DIRECTORY, /* a directory named without its '/': redirect */
	RH_LOOKUP_NO_INDEX,  /* a directory named with its '/', without an index file */
	RH_LOOKUP_COLD,	     /* not in the dentry cache: warm rh_file_cold_path, then ask again */
	RH_LOOKUP_MISSING,   /* 404 */
	RH_LOOKUP_FORBIDDEN, /* 403: permissions, or not a regular file */
	RH_LOOKUP_NO_FDS,    /* 503: out of file descriptors */
	RH_LOOKUP_FAILED,    /* 500 */
};

/* The most open files a ring's cache keeps: part of the descriptor budget. */
#define RH_FILE_CACHE_ENTRIES 1024

struct rh_file {
	int fd;
	uint64_t size;
	char *data; /* the whole file, or NULL when it is sent from fd */
	char *loading; /* the buffer of a READ of the whole file in flight, or NULL */
	struct rh_file_map map; /* for the page-cache question, where it needs one */
	bool hashed;	/* in the cache's table */
	bool queued;	/* waits for its bytes to be read into memory */
	struct rh_file *load_next;
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

/* File bytes read into memory at once: each READ is one slot. */
#define RH_FILE_LOADS_MAX 32

struct rh_file_cache {
	struct rh_file **buckets;
	size_t mask;
	unsigned count, capacity;
	uint64_t data_bytes;   /* file bytes held by hashed entries */
	uint64_t data_limit;   /* file_cache_size */
	uint64_t data_max_file; /* file_cache_max_file */
	atomic_uint_fast64_t hits, misses; /* read by the status endpoint */
	struct rh_file lru; /* sentinel: lru.lru_next is the most recent */
	struct rh_file *load_head, *load_tail; /* files whose bytes are still to be read */
	struct rh_file *loads[RH_FILE_LOADS_MAX]; /* READs in flight, by slot */
	char cold_path[4096]; /* the path of the last RH_LOOKUP_COLD, from /, to warm */
};

/* CAPACITY open files, of which those up to MAX_FILE bytes are kept in
 * memory too while their bytes add up to at most DATA_LIMIT. */
int rh_file_cache_init(struct rh_file_cache *c, unsigned capacity, uint64_t data_limit,
		       uint64_t max_file);
void rh_file_cache_destroy(struct rh_file_cache *c);
/* Drops every entry (after a reload changed the site). */
void rh_file_cache_flush(struct rh_file_cache *c);

/* Resolves the normalized PATH (starting with '/') under the root of
 * site IDX of SITE (cfg->sites->site[IDX]), with its index files, and on
 * RH_LOOKUP_FILE puts a referenced file in *OUT. Unless MAY_BLOCK, only
 * what the kernel's dentry cache already holds is looked up: a path it
 * does not hold answers RH_LOOKUP_COLD, with the path to warm (through the
 * ring) in c->cold_path. A small file's bytes are read into memory
 * through the ring (rh_file_cache_submit_loads); until they arrive it is
 * sent from its descriptor. */
enum rh_lookup rh_file_get(struct rh_file_cache *c, const struct rh_site *site, unsigned idx,
			   const char *path, size_t len, time_t now, bool may_block,
			   struct rh_file **out);
/* Submits a READ (RH_OP_FILE_LOAD, slot in the index) for each file whose
 * bytes are due in memory, while slots are free. */
void rh_file_cache_submit_loads(struct rh_file_cache *c, struct io_uring *u);
/* The READ in SLOT completed with RES. */
void rh_file_cache_loaded(struct rh_file_cache *c, uint32_t slot, int res);
/* Opens the directory PATH under site IDX's root for a listing: its
 * descriptor, with the root's in *ROOT_FD and its status in *ST, or
 * -errno (-EAGAIN: not in the dentry cache and not MAY_BLOCK; the path to
 * warm is in c->cold_path). */
int rh_file_open_dir(struct rh_file_cache *c, const struct rh_site *site, unsigned idx,
		     const char *path, bool may_block, int *root_fd, struct stat *st);
void rh_file_put(struct rh_file *f);

#endif
