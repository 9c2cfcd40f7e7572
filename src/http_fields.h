/* The request in a form no protocol owns, and the checks of its fields
 * that every protocol shares (RFC 9110): the method, the target, the
 * authority (Host, or HTTP/2's :authority), Content-Length, Transfer-
 * Encoding, Expect, Connection, the field syntax, and the fields the
 * handler reads. HTTP/1's parser (http_parse.h) and HTTP/2's session
 * (h2.h) tokenize, each its own way, and hand every field to these. */
#ifndef RH_HTTP_FIELDS_H
#define RH_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* What the fields seen so far say, for the checks made once all are seen. */
struct rh_fields {
	bool conn_close, conn_keep_alive;
	bool expect_ok;
	bool te_seen, te_chunked_last, te_bad, te_unknown; /* Transfer-Encoding */
	struct rh_str host;	 /* the Host field's value */
	struct rh_str authority; /* HTTP/2's :authority; p is NULL when absent */
};

/* P[0..LEN) without the whitespace (SP, HTAB) around it. */
struct rh_str rh_trim_ows(const char *p, size_t len);
/* A fresh REQ of VERSION (10, 11, or 20 for HTTP/2) and F. */
void rh_fields_begin(struct rh_request *req, struct rh_fields *f, unsigned version);
/* The method NAME (a token). */
void rh_request_method(struct rh_request *req, struct rh_str name);
/* The request-target: origin-form, absolute-form (its path is used) or
 * asterisk-form (OPTIONS only). 0, or -400. */
int rh_request_target(struct rh_request *req, struct rh_str target);
/* One field, NAME (a token, any case) with VALUE (its surrounding
 * whitespace trimmed). 0, or -400 (invalid characters, a second Host,
 * conflicting Content-Length values) or -431 (a list field on too many
 * lines). */
int rh_fields_add(struct rh_request *req, struct rh_fields *f, struct rh_str name,
		  struct rh_str value);
/* After the last field: 0, or the status of RFC 9112's and RFC 9113's
 * rules on Host and :authority (400), on framing (400, 501) and on Expect
 * (417); a 400 takes precedence over 501, which takes precedence over 417. */
int rh_fields_end(struct rh_request *req, struct rh_fields *f);

#endif
