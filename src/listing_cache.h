/* Directory listings built off the ring threads, cached and shared.
 *
 * Server-wide: a worker thread (or a few) builds pages from a queue, and
 * a cache bounded in bytes (LRU) keeps them. A ring thread only takes the
 * module's mutex to look a page up or to queue a build; it never waits on
 * a build. A page is immutable once published and reference-counted, so
 * any number of connections on any ring send the same bytes; a page
 * evicted while still being sent lives until its last reference goes.
 *
 * Freshness, like the file cache's once-a-second revalidation: a page is
 * reused in the second (CLOCK_MONOTONIC) it was completed in, and built
 * again after that. Its validators come from what it shows: the ETag is a
 * strong tag of its bytes, Last-Modified the newest mtime of the directory
 * and the listed entries, so appending to a listed file changes both. */
#ifndef RH_LISTING_CACHE_H
#define RH_LISTING_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http_date.h"
#include "listing.h"

#define RH_LISTINGS_CACHE_BYTES (32u << 20) /* the server's default */

/* "\"l-0123456789abcdef\"", "-j" before the closing quote for JSON, so
 * the two forms never share a tag. */
#define RH_LISTING_PAGE_ETAG_MAX sizeof "\"l-0123456789abcdef-j\""

struct rh_listing_page {
	const char *body; /* the HTML or JSON */
	size_t len;
	const char *etag; /* strong: a 64-bit hash of BODY */
	size_t etag_len;
	char last_modified[RH_HTTP_DATE_LEN + 1]; /* HTTP-date of MTIME */
	time_t mtime;	 /* newest of the directory and its listed entries */
	int error;	 /* 0, or -errno when the directory could not be read;
			  * then nothing above is set: answer 403/404/500 */
	size_t listed;	 /* entries shown: at most the cap */
	size_t total;	 /* entries the directory has to list */

	/* private */
	atomic_uint refs;
	bool is_static; /* the last-resort -ENOMEM page: never freed */
	time_t built;	/* CLOCK_MONOTONIC second it was completed in */
	char etag_buf[RH_LISTING_PAGE_ETAG_MAX];
};

struct rh_listings;

/* What to list. The descriptors are borrowed: a queued build dups them. */
struct rh_listing_want {
	int root_fd;		  /* the document root */
	int dir_fd;		  /* the directory as serving resolved it (O_PATH or not) */
	const struct stat *dir_st; /* its fstat: dev and inode key the cache */
	const char *path;	  /* normalized, '/'-led and -ended: the directory under
				   * ROOT_FD, and the page's title */
	size_t path_len;
	enum rh_listing_format format;
	bool hide_dotfiles;
	unsigned max_entries; /* listing_max_entries */
};

/* Called once per rh_listings_get that returned NULL, from a worker, when
 * the build it waits for is published. It must be cheap and thread-safe
 * (a ring pushes TOKEN on a list and writes its eventfd) and must not call
 * back into this module. */
typedef void rh_listing_wake_fn(void *ctx, uint64_t token);

/* Starts N_THREADS workers (at least 1) and a cache of at most
 * CACHE_BYTES (pages, their keys and bookkeeping; the newest page always
 * stays, so one larger page can exceed it). 0 or -errno. */
int rh_listings_init(struct rh_listings **out, unsigned n_threads, size_t cache_bytes);
/* Stops and joins the workers, once the rings are gone: queued builds are
 * dropped without waking their waiters. Pages still referenced stay valid
 * until put. */
void rh_listings_destroy(struct rh_listings *l);

/* On a ring thread. NOW is CLOCK_MONOTONIC(_COARSE) seconds: for a new
 * request, the current second; when asking again after a wake, the NOW of
 * the first call, so the page completed meanwhile counts as fresh for it
 * whatever the time it took.
 *
 * A page completed in NOW's second or later (a cached one, or the build
 * this caller waited for): returns it referenced, to be put. An error page
 * (PAGE->error) is returned the same way, cached like the others; so is
 * an uncached one when the build cannot be queued (-ENOMEM, -EMFILE).
 *
 * Otherwise queues a build, or joins the one of the same key (directory,
 * path, format, hide_dotfiles, max_entries) already queued or running,
 * and returns NULL; WAKE(WAKE_CTX, TOKEN) follows once it is published.
 * Asking again then returns the page, unless it was evicted in between
 * (a cache much smaller than its pages): NULL again, and another wake. */
struct rh_listing_page *rh_listings_get(struct rh_listings *l, const struct rh_listing_want *w,
					time_t now, rh_listing_wake_fn *wake, void *wake_ctx,
					uint64_t token);
/* Drops a reference; the last one frees the page. */
void rh_listing_page_put(struct rh_listing_page *p);

#endif
