/* The static-file handler: a parsed request and the site it is for become
 * a response plan -- the status and head fields, and which bytes of which
 * file make the body. Its only I/O is the file cache's look-ups (which
 * never wait for the disk unless allowed) and asking the listing cache for
 * a page, so C unit tests check it without sockets.
 *
 * In order: the site by Host (over TLS, 421 when SNI chose a site with
 * another certificate); the normalized path; on plain HTTP the site's
 * https_redirect; the method; the status endpoint; the site's redirects; its dotfile rule; the file (or its
 * precompressed sidecar, or the directory's index or listing, or the
 * fallback), with preconditions and ranges; for an error, the site's error
 * page; and the site's header rules on what comes out. */
#ifndef RH_HANDLER_H
#define RH_HANDLER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "http_cond.h"
#include "http_date.h"
#include "http_parse.h"
#include "http_resp.h"
#include "listing_cache.h"
#include "peer.h"
#include "site_conf.h"

struct rh_site;
struct rh_file;
struct rh_file_cache;

struct rh_handler_env {
	const struct rh_site *site;
	struct rh_file_cache *files;
	time_t now;	  /* CLOCK_MONOTONIC seconds: the cache's revalidation clock */
	time_t wall;	  /* the time, for dates sent in conditions */
	const char *date; /* HTTP-date of now */
	uint64_t random;  /* fresh for each request: a multipart boundary */
	const struct rh_peer *peer;
	bool may_block;	  /* look-ups may wait for the disk: a retry after a warm-up */
	/* directory listings: built by LISTINGS' workers, which call
	 * WAKE(WAKE_CTX, TOKEN) when a page this request waits for is done;
	 * LISTING_SINCE: the second the request first asked (see
	 * rh_listings_get) */
	struct rh_listings *listings;
	time_t listing_since;
	rh_listing_wake_fn *wake;
	void *wake_ctx;
	uint64_t token;
	/* The status endpoint's text, allocated (the caller's to free), and
	 * its length; NULL when out of memory. */
	char *(*metrics)(void *ctx, size_t *len);
	void *ctx;
	/* the connection: over TLS (then hsts applies), with the name the
	 * client gave by SNI or NULL; HTTPS_PORT: where https_redirect sends
	 * plain requests (443 is left out of the URL) */
	bool tls;
	const char *server_name;
	unsigned https_port;
};

struct rh_plan {
	/* the head; its strings point into the request's bytes, the file, the
	 * site's configuration, the environment and this plan, so it is
	 * written out before they change */
	struct rh_resp resp;
	bool error;	      /* resp is an error response: it carries its own short body */
	bool close;	      /* answer, then close: the request's framing is lost */
	bool cold;	      /* nothing planned: a look-up needs files->cold_path warmed */
	bool listing_wait;    /* nothing planned: a listing is being built; wait for the wake */
	struct rh_file *file; /* referenced when the body comes from a file */
	uint64_t body_off, body_len; /* a single part; multipart: body_len alone */
	char *owned;	      /* a body made for this response (the metrics), or NULL */
	struct rh_listing_page *page; /* a listing, referenced, or NULL */
	struct rh_ranges parts; /* a multipart/byteranges body: parts.n > 1 */
	const char *problem;	/* for a 5xx: what went wrong, for the log */
	const struct rh_site_conf *sc; /* the site the request is for */
	const char *path; /* the normalized path, or NULL when there is none */
	size_t path_len;
	char boundary[RH_BOUNDARY_MAX];
	char part_type[256]; /* of each part of a multipart body */
	char content_type[256];
	char last_modified[RH_HTTP_DATE_LEN + 1];
	char etag[64];
	struct rh_header_out extra[RH_SITE_HEADER_LINES_MAX];
	char location[3 * RH_MAX_REQUEST_LINE + 1]; /* percent-encoded */
	char normalized[RH_MAX_REQUEST_LINE + 1];
};

/* Plans the answer to REQ, or to a request whose head could not be parsed
 * when PARSE_STATUS is an error status (REQ is then unused). KEEP_ALIVE:
 * whether the connection may stay open after it. MAX_RANGES: parts a
 * multipart answer may have. Never fails: every outcome is a plan, or
 * plan->cold when a look-up would have waited for the disk (unless
 * env->may_block), or plan->listing_wait while a listing is built. The
 * caller drops plan->file with rh_file_put, plan->page with
 * rh_listing_page_put, and frees plan->owned. */
void rh_handle(const struct rh_handler_env *env, const struct rh_request *req, int parse_status,
	       bool keep_alive, unsigned max_ranges, struct rh_plan *plan);

#endif
