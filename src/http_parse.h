/* HTTP/1.x request head parser (RFC 9112), strict, without allocation or
 * I/O: a pure function over bytes, so it can be unit-tested and fuzzed. */
#ifndef RH_HTTP_PARSE_H
#define RH_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RH_MAX_REQUEST_LINE 8192

enum rh_method { RH_METHOD_GET, RH_METHOD_HEAD, RH_METHOD_OPTIONS, RH_METHOD_OTHER };

struct rh_str {
	const char *p;
	size_t len;
};

/* A list field (RFC 9110 5.6.1) whose lines together are one list. */
#define RH_LIST_LINES 8
struct rh_list {
	unsigned n; /* 0: the field is absent */
	struct rh_str line[RH_LIST_LINES];
};

struct rh_request {
	enum rh_method method;
	struct rh_str method_name;
	struct rh_str target; /* the request-target as sent */
	struct rh_str path;  /* still percent-encoded; "*" for OPTIONS * */
	struct rh_str query; /* after '?', empty when none */
	bool has_query;
	unsigned version; /* 10 or 11 */
	bool keep_alive;  /* the version's default, adjusted by Connection */
	bool has_host;	  /* a Host header field was sent */
	/* The authority the request is for: that of an absolute-form target,
	 * else the Host field's value. host is the uri-host without the port
	 * (an IP-literal keeps its brackets, letters keep their case); port is
	 * the digits after ':' (p is NULL without a ':'). All p are NULL for an
	 * HTTP/1.0 request without Host. */
	struct rh_str authority;
	struct rh_str host;
	struct rh_str port;
	bool has_content_length;
	uint64_t content_length;
	/* Transfer-Encoding: chunked, the only coding: a body follows the
	 * head, framed as rh_chunked_feed (http_chunked.h) reads it */
	bool chunked;
	bool expect_continue; /* Expect: 100-continue, on HTTP/1.1 only */
	/* conditionals as sent; when a field is repeated, the last line wins */
	struct rh_list if_match;
	struct rh_str if_unmodified_since;
	struct rh_list if_none_match;
	struct rh_str if_modified_since;
	struct rh_str range;
	struct rh_str if_range;
	struct rh_str user_agent;
	struct rh_str accept_encoding; /* p is NULL when absent */
	struct rh_str accept;
};

/* Parses the request head at the start of BUF[0..LEN). Returns its length
 * in bytes when complete, 0 when more bytes are needed, or minus the HTTP
 * status to answer:
 *   -400 malformed: syntax, a request line too long because of its method,
 *        an HTTP/1.1 request without Host, several Host lines or an invalid
 *        Host or target authority, Transfer-Encoding with Content-Length or
 *        in HTTP/1.0, chunked not the last coding or repeated, conflicting
 *        Content-Length values;
 *   -414 request target too long;
 *   -417 an expectation other than 100-continue;
 *   -431 head larger than MAX_HEAD;
 *   -501 a transfer coding other than chunked;
 *   -505 unsupported version.
 * A 400 takes precedence over 501, which takes precedence over 417. */
ssize_t rh_http_parse(const char *buf, size_t len, size_t max_head, struct rh_request *req);

#endif
