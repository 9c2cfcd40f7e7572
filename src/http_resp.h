/* Response heads and the short bodies of error responses. */
#ifndef RH_HTTP_RESP_H
#define RH_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"
#include "rules.h"

struct rh_resp {
	int status;
	bool keep_alive;
	bool head_only;	  /* HEAD: the head announces a body it does not carry */
	const char *date; /* HTTP-date of now */
	const char *content_type;
	uint64_t content_length;
	struct rh_str etag;
	const char *last_modified;
	bool accept_ranges;	/* a file: Range is honoured (Accept-Ranges: bytes) */
	bool ranged;		/* 206: Content-Range: bytes first-last/size */
	bool unsatisfiable;	/* 416: Content-Range: bytes star/size */
	uint64_t first, last, size;
	struct rh_str location; /* 301-308: as is; with location_slash, '/' and "?query" follow */
	bool location_slash;
	struct rh_str location_query;
	bool location_has_query;
	bool allow;		/* 405, OPTIONS: Allow: GET, HEAD */
	unsigned retry_after;	/* 503: Retry-After in seconds, when nonzero */
	const char *content_encoding; /* a precompressed sidecar's coding, or NULL */
	const char *vary;	/* "Accept-Encoding", "Accept", or NULL */
	const char *hsts;	/* Strict-Transport-Security, or NULL */
	const struct rh_header_out *extra; /* the site's header rules that apply */
	size_t n_extra;
};

const char *rh_status_reason(int status);

/* Writes the head of R into BUF. Returns its length, or 0 if CAP is short. */
size_t rh_resp_head(char *buf, size_t cap, const struct rh_resp *r);

/* A complete error response for R (status, date, keep_alive and, for 416,
 * size): its head and, unless R->head_only, a short HTML body. Returns its
 * length, or 0 if CAP is short. */
size_t rh_resp_error(char *buf, size_t cap, struct rh_resp *r);

#endif
