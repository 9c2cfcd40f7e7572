/* Validators and conditional requests (RFC 9110 8.8, 13) and single byte
 * ranges (RFC 9110 14): pure functions over header values. */
#ifndef RH_HTTP_COND_H
#define RH_HTTP_COND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http_parse.h"

#define RH_ETAG_MAX 48

/* A strong entity tag, quoted, from the file's identity, size and mtime. */
size_t rh_etag_format(char out[RH_ETAG_MAX], const struct stat *st);

/* If-None-Match (weak comparison, "*" matches) or, without it,
 * If-Modified-Since: true when the answer is 304 Not Modified. */
bool rh_not_modified(const struct rh_request *req, struct rh_str etag, time_t mtime);

/* If-Range: true when the Range header may be honoured. */
bool rh_if_range_holds(const struct rh_request *req, struct rh_str etag, time_t mtime);

enum rh_range {
	RH_RANGE_WHOLE,		/* no usable Range: send the whole file */
	RH_RANGE_PARTIAL,	/* 206 with [*first, *last] */
	RH_RANGE_UNSATISFIABLE, /* 416 */
};

/* A Range header value for a representation of SIZE bytes. Several ranges
 * are answered with the whole file. */
enum rh_range rh_range_parse(struct rh_str range, uint64_t size, uint64_t *first,
			     uint64_t *last);

#endif
