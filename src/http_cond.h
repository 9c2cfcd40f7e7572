/* Validators and conditional requests (RFC 9110 8.8, 13), byte ranges and
 * multipart/byteranges framing (RFC 9110 14): pure functions over header
 * values, without allocation or I/O. */
#ifndef RH_HTTP_COND_H
#define RH_HTTP_COND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http_parse.h"

#define RH_MTIME_HEX_MAX 25 /* 24 hex digits and a NUL */
#define RH_ETAG_MAX 64

/* The modification time TS in nanoseconds since 1970, in hex, into OUT:
 * distinct times give distinct strings, whatever their range (a time from
 * 1970 to 2554 as its 64-bit count, any other as a wider one). Returns
 * the length. */
size_t rh_mtime_hex(char out[RH_MTIME_HEX_MAX], const struct timespec *ts);
/* A strong entity tag, quoted, from the file's identity, size and mtime. */
size_t rh_etag_format(char out[RH_ETAG_MAX], const struct stat *st);

enum rh_precond {
	RH_PRECOND_PROCEED,	 /* evaluate Range, then answer 200 or 206 */
	RH_PRECOND_NOT_MODIFIED, /* 304 */
	RH_PRECOND_FAILED,	 /* 412 */
};

/* The preconditions of REQ for an existing representation with entity tag
 * ETAG (as sent in ETag, "W/" included if weak) and Last-Modified MTIME,
 * in the order of RFC 9110 13.2.2:
 *  1. If-Match: "*" or a strongly matching tag, else 412;
 *  2. without If-Match, If-Unmodified-Since: 412 when MTIME is later;
 *  3. If-None-Match: "*" or a weakly matching tag is 304 for GET and HEAD,
 *     412 for other methods;
 *  4. without If-None-Match, for GET and HEAD only, If-Modified-Since:
 *     304 when MTIME is not later; ignored when the date is later than NOW.
 * An invalid date is ignored; a malformed tag list matches nothing. An
 * MTIME that an HTTP-date cannot say (its Last-Modified is clamped) is no
 * modification date: both date conditions are then ignored (RFC 9110
 * 13.1.3, 13.1.4), and an If-Range date never holds. The
 * caller evaluates them only where the answer would otherwise be 2xx or
 * 412 (RFC 9110 13.2.1), and If-Range afterwards (rh_if_range_holds). */
enum rh_precond rh_preconditions(const struct rh_request *req, struct rh_str etag, time_t mtime,
				 time_t now);

/* If-Range: true when the Range header may be honoured: no If-Range, an
 * entity tag that strongly matches ETAG or a date that is exactly MTIME. */
bool rh_if_range_holds(const struct rh_request *req, struct rh_str etag, time_t mtime);

enum rh_range {
	RH_RANGE_WHOLE,		/* no usable Range: send the whole file */
	RH_RANGE_PARTIAL,	/* 206 with [*first, *last] */
	RH_RANGE_UNSATISFIABLE, /* 416 */
};

#define RH_MAX_RANGES_CAP 64	  /* satisfiable ranges a request may list */
#define RH_RANGE_COALESCE_GAP 80 /* parts fewer bytes apart are merged */

struct rh_byte_range {
	uint64_t first, last; /* inclusive */
};

struct rh_ranges {
	unsigned n;
	struct rh_byte_range r[RH_MAX_RANGES_CAP];
};

/* A Range header value (RFC 9110 14.1.2, 14.2) for a representation of
 * SIZE bytes, into OUT: RH_RANGE_PARTIAL with OUT->n parts (sorted,
 * with at least RH_RANGE_COALESCE_GAP bytes between two; one part is a plain
 * 206, more a multipart/byteranges one), RH_RANGE_UNSATISFIABLE when no
 * range is satisfiable (416), or RH_RANGE_WHOLE (200) when the field is
 * not understood: another unit, a syntax error, more than
 * RH_MAX_RANGES_CAP satisfiable ranges, or, after unsatisfiable ranges are
 * dropped and overlapping or close ones merged, more than MAX_RANGES parts
 * (at most RH_MAX_RANGES_CAP) or more bytes than SIZE: never an answer
 * larger than the whole. MAX_RANGES 1 allows no multipart answer, 0 no
 * partial one at all. */
enum rh_range rh_ranges_parse(struct rh_str range, uint64_t size, unsigned max_ranges,
			      struct rh_ranges *out);

/* multipart/byteranges (RFC 9110 14.6). The response's Content-Type is
 * "multipart/byteranges; boundary=" followed by the boundary; its body is,
 * for each part, the part's head and its bytes, then the tail. */
#define RH_BOUNDARY_MAX 24

/* A boundary made from the caller's 64-bit random value, NUL-terminated;
 * returns its length. */
size_t rh_multipart_boundary(uint64_t random, char out[RH_BOUNDARY_MAX]);

/* "\r\n--BOUNDARY\r\nContent-Type: T\r\nContent-Range: bytes a-b/size\r\n\r\n"
 * into OUT (the Content-Type line only when T is not empty), not
 * NUL-terminated; returns its length, or 0 when CAP is too small. */
size_t rh_multipart_part_head(char *out, size_t cap, struct rh_str boundary,
			      struct rh_str content_type, struct rh_byte_range part, uint64_t size);

/* The closing delimiter "\r\n--BOUNDARY--\r\n" into OUT, not
 * NUL-terminated; returns its length, or 0 when CAP is too small. */
size_t rh_multipart_tail(char *out, size_t cap, struct rh_str boundary);

/* The exact Content-Length of the multipart body for RANGES. */
uint64_t rh_multipart_length(const struct rh_ranges *ranges, struct rh_str boundary,
			     struct rh_str content_type, uint64_t size);

#endif
