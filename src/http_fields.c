#include "http_fields.h"

#include <string.h>
#include <strings.h>

#include "http_chars.h"

/* Case-insensitive comparison of S with the NUL-terminated LIT. */
static bool str_eq_ci(struct rh_str s, const char *lit)
{
	return strlen(lit) == s.len && strncasecmp(s.p, lit, s.len) == 0;
}

struct rh_str rh_trim_ows(const char *p, size_t len)
{
	while (len && rh_is_ows(*p))
		p++, len--;
	while (len && rh_is_ows(p[len - 1]))
		len--;
	return (struct rh_str){ p, len };
}

/* dec-octet "." dec-octet "." dec-octet "." dec-octet, no leading zeros */
static bool valid_ipv4(const char *p, size_t len)
{
	size_t i = 0;

	for (int octet = 0; octet < 4; octet++) {
		size_t start;
		unsigned v = 0;

		if (octet && (i == len || p[i++] != '.'))
			return false;
		start = i;
		while (i < len && rh_is_digit(p[i]) && i - start < 3)
			v = v * 10 + (p[i++] - '0');
		if (i == start || v > 255 || (p[start] == '0' && i - start > 1))
			return false;
	}
	return i == len;
}

/* IPv6address of RFC 3986 3.2.2: up to eight h16, one "::" standing for at
 * least one of them, and possibly an IPv4 address as the last two. */
static bool valid_ipv6(const char *p, size_t len)
{
	size_t i = 0;
	unsigned groups = 0;
	bool elided = false;

	if (len >= 2 && p[0] == ':' && p[1] == ':') {
		elided = true;
		i = 2;
	} else if (len && p[0] == ':') {
		return false;
	}
	while (i < len) {
		size_t j = i;

		while (j < len && rh_hexval(p[j]) >= 0 && j - i <= 4)
			j++;
		if (j < len && p[j] == '.') {
			if (!valid_ipv4(p + i, len - i))
				return false;
			groups += 2;
			break;
		}
		if (j == i || j - i > 4)
			return false;
		groups++;
		i = j;
		if (i == len)
			break;
		if (p[i++] != ':' || i == len)
			return false; /* a single trailing ':' */
		if (p[i] == ':') {
			if (elided)
				return false;
			elided = true;
			i++;
		}
	}
	return elided ? groups <= 7 : groups == 8;
}

/* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
static bool valid_ipvfuture(const char *p, size_t len)
{
	size_t i = 1;

	if (!len || (p[0] | 0x20) != 'v')
		return false;
	while (i < len && rh_hexval(p[i]) >= 0)
		i++;
	if (i == 1 || i == len || p[i++] != '.' || i == len)
		return false;
	for (; i < len; i++)
		if (!rh_is_reg_name_char(p[i]) && p[i] != ':' && p[i] != ',')
			return false;
	return true;
}

/* reg-name: host characters and %HH */
static bool valid_reg_name(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '%') {
			if (len - i < 3 || rh_hexval(p[i + 1]) < 0 || rh_hexval(p[i + 2]) < 0)
				return false;
			i += 2;
		} else if (!rh_is_reg_name_char(p[i])) {
			return false;
		}
	}
	return true;
}

/* uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2-3.2.3), split into
 * HOST and PORT. No userinfo, path, comma or whitespace; the host may be
 * empty, which the caller decides about. */
static bool parse_authority(struct rh_str v, struct rh_str *host, struct rh_str *port)
{
	const char *end = v.p + v.len, *colon;

	if (v.len && v.p[0] == '[') {
		const char *close = memchr(v.p, ']', v.len);

		if (!close || !(valid_ipv6(v.p + 1, close - v.p - 1) ||
				valid_ipvfuture(v.p + 1, close - v.p - 1)))
			return false;
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon && *colon != ':')
			return false;
		*host = (struct rh_str){ v.p, close + 1 - v.p };
	} else {
		colon = memchr(v.p, ':', v.len);
		*host = (struct rh_str){ v.p, (colon ? colon : end) - v.p };
		if (!valid_reg_name(host->p, host->len))
			return false;
	}
	*port = (struct rh_str){ NULL, 0 };
	if (colon) {
		*port = (struct rh_str){ colon + 1, end - (colon + 1) };
		for (size_t i = 0; i < port->len; i++)
			if (!rh_is_digit(port->p[i]))
				return false;
	}
	return true;
}

static enum rh_method method_of(struct rh_str m)
{
	if (m.len == 3 && !memcmp(m.p, "GET", 3))
		return RH_METHOD_GET;
	if (m.len == 4 && !memcmp(m.p, "HEAD", 4))
		return RH_METHOD_HEAD;
	if (m.len == 7 && !memcmp(m.p, "OPTIONS", 7))
		return RH_METHOD_OPTIONS;
	return RH_METHOD_OTHER;
}

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static bool valid_scheme(const char *p, size_t len)
{
	if (!len || !rh_is_alpha(p[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!rh_is_alnum(p[i]) && p[i] != '+' && p[i] != '-' && p[i] != '.')
			return false;
	return true;
}

/* absolute-form: scheme "://" authority path-abempty [ "?" query ]. The
 * authority is the request's host (RFC 9112 3.2.2) and must not be empty
 * (RFC 9110 4.2.1). Without a path the path is "/", the last '/' of "://".
 * Leaves in *P, *LEN the path and query. */
static int parse_absolute(const char **p, size_t *len, struct rh_request *req)
{
	const char *s = *p, *end = s + *len, *sep = memmem(s, *len, "://", 3), *a;

	if (!sep || !valid_scheme(s, sep - s))
		return -400;
	for (a = sep + 3; a < end && *a != '/' && *a != '?'; a++)
		;
	req->authority = (struct rh_str){ sep + 3, a - (sep + 3) };
	if (!req->authority.len || !parse_authority(req->authority, &req->host, &req->port))
		return -400;
	if (a == end || *a == '?') {
		req->path = (struct rh_str){ sep + 2, 1 };
		if (a < end) {
			req->has_query = true;
			req->query = (struct rh_str){ a + 1, end - (a + 1) };
		}
		return 1;
	}
	*p = a;
	*len = end - a;
	return 0;
}

/* One more line of a list field; false when there are too many. */
static bool add_line(struct rh_list *l, struct rh_str value)
{
	if (l->n == RH_LIST_LINES)
		return false;
	l->line[l->n++] = value;
	return true;
}

/* RFC 3986 3.4: query = *( pchar / "/" / "?" ), with whole escapes. */
static bool valid_query(struct rh_str q)
{
	for (size_t i = 0; i < q.len; i++) {
		unsigned char c = q.p[i];

		if (c == '%') {
			if (i + 2 >= q.len || rh_hexval(q.p[i + 1]) < 0 || rh_hexval(q.p[i + 2]) < 0)
				return false;
			i += 2;
		} else if (!rh_is_pchar(c) && c != '/' && c != '?') {
			return false;
		}
	}
	return true;
}

int rh_request_target(struct rh_request *req, struct rh_str t)
{
	const char *p = t.p, *q;
	size_t len = t.len;
	int rc;

	req->target = t;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f || p[i] == '#')
			return -400;
	if (len == 1 && p[0] == '*') {
		if (req->method != RH_METHOD_OPTIONS)
			return -400;
		req->path = (struct rh_str){ p, 1 };
		return 0;
	}
	if (len && p[0] != '/' && (rc = parse_absolute(&p, &len, req)) != 0)
		return rc < 0 ? rc : 0;
	if (!len)
		return -400;
	q = memchr(p, '?', len);
	if (q) {
		req->has_query = true;
		req->query = (struct rh_str){ q + 1, len - (q + 1 - p) };
		len = q - p;
		if (!valid_query(req->query))
			return -400;
	}
	req->path = (struct rh_str){ p, len };
	return 0;
}

static int parse_content_length(struct rh_str v, struct rh_request *req)
{
	uint64_t n = 0;

	if (!v.len)
		return -400;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9' || n > (UINT64_MAX - 9) / 10)
			return -400;
		n = n * 10 + (v.p[i] - '0');
	}
	if (req->has_content_length && req->content_length != n)
		return -400;
	req->has_content_length = true;
	req->content_length = n;
	return 0;
}

/* Connection: a comma-separated list of options. */
static void parse_connection(struct rh_str v, bool *close, bool *keep_alive)
{
	const char *p = v.p, *end = v.p + v.len;

	while (p < end) {
		const char *comma = memchr(p, ',', end - p);
		struct rh_str opt = rh_trim_ows(p, (comma ? comma : end) - p);

		if (str_eq_ci(opt, "close"))
			*close = true;
		else if (str_eq_ci(opt, "keep-alive"))
			*keep_alive = true;
		p = comma ? comma + 1 : end;
	}
}

/* Transfer-Encoding, possibly over several lines: a list of codings, each
 * a token with optional parameters. chunked must be the last and appear
 * once (RFC 9112 6.3); it takes no parameters. */
static void parse_transfer_encoding(struct rh_str v, struct rh_fields *te)
{
	const char *p = v.p, *end = v.p + v.len;
	bool any = false;

	te->te_seen = true;
	while (p < end) {
		const char *comma = memchr(p, ',', end - p);
		struct rh_str el = rh_trim_ows(p, (comma ? comma : end) - p);
		size_t n = 0;

		p = comma ? comma + 1 : end;
		if (!el.len) /* RFC 9110 5.6.1: empty list elements are allowed */
			continue;
		any = true;
		while (n < el.len && rh_is_tchar(el.p[n]))
			n++;
		if (!n || (n < el.len && el.p[n] != ' ' && el.p[n] != '\t' && el.p[n] != ';'))
			te->te_bad = true;
		if (te->te_chunked_last) /* something after chunked */
			te->te_bad = true;
		if (str_eq_ci((struct rh_str){ el.p, n }, "chunked")) {
			te->te_chunked_last = true;
			if (n != el.len)
				te->te_bad = true;
		} else {
			te->te_unknown = true;
		}
	}
	if (!any)
		te->te_bad = true;
}

/* Expect: a list of expectations; only 100-continue is known (RFC 9110
 * 10.1.1). Returns false for any other. */
static bool parse_expect(struct rh_str v, bool *cont)
{
	const char *p = v.p, *end = v.p + v.len;

	while (p < end) {
		const char *comma = memchr(p, ',', end - p);
		struct rh_str el = rh_trim_ows(p, (comma ? comma : end) - p);

		p = comma ? comma + 1 : end;
		if (!el.len)
			continue;
		if (!str_eq_ci(el, "100-continue"))
			return false;
		*cont = true;
	}
	return true;
}

/* Host (RFC 9112 3.2) after all fields are seen: required in HTTP/1.1,
 * valid when present, not empty for an origin-form target. With an
 * absolute-form target, that authority is the host and Host is only
 * checked for syntax. */
static int check_host(struct rh_request *req, struct rh_str value)
{
	struct rh_str host, port;

	if (!req->has_host)
		return req->version == 11 ? -400 : 0;
	if (!parse_authority(value, &host, &port))
		return -400;
	if (req->authority.p) /* absolute-form */
		return 0;
	if (!host.len && !(req->path.len == 1 && req->path.p[0] == '*'))
		return -400;
	req->authority = value;
	req->host = host;
	req->port = port;
	return 0;
}

void rh_fields_begin(struct rh_request *req, struct rh_fields *f, unsigned version)
{
	memset(req, 0, sizeof *req);
	memset(f, 0, sizeof *f);
	req->version = version;
	f->expect_ok = true;
}

void rh_request_method(struct rh_request *req, struct rh_str name)
{
	req->method_name = name;
	req->method = method_of(name);
}

/* The fields the server reads, by name: one table for both protocols, as
 * nginx's headers_in and lighttpd's http_header.c. */
enum field {
	F_OTHER,
	F_HOST,
	F_CONTENT_LENGTH,
	F_TRANSFER_ENCODING,
	F_EXPECT,
	F_CONNECTION,
	F_IF_MATCH,
	F_IF_UNMODIFIED_SINCE,
	F_IF_NONE_MATCH,
	F_IF_MODIFIED_SINCE,
	F_RANGE,
	F_IF_RANGE,
	F_USER_AGENT,
	F_ACCEPT_ENCODING,
	F_ACCEPT,
};

#define FIELD(name, f) { name, sizeof name - 1, f }
static const struct {
	const char *name;
	size_t len;
	enum field field;
} known_fields[] = {
	FIELD("host", F_HOST),
	FIELD("content-length", F_CONTENT_LENGTH),
	FIELD("transfer-encoding", F_TRANSFER_ENCODING),
	FIELD("expect", F_EXPECT),
	FIELD("connection", F_CONNECTION),
	FIELD("if-match", F_IF_MATCH),
	FIELD("if-unmodified-since", F_IF_UNMODIFIED_SINCE),
	FIELD("if-none-match", F_IF_NONE_MATCH),
	FIELD("if-modified-since", F_IF_MODIFIED_SINCE),
	FIELD("range", F_RANGE),
	FIELD("if-range", F_IF_RANGE),
	FIELD("user-agent", F_USER_AGENT),
	FIELD("accept-encoding", F_ACCEPT_ENCODING),
	FIELD("accept", F_ACCEPT),
};
#undef FIELD

static enum field field_of(struct rh_str name)
{
	for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++)
		if (known_fields[i].len == name.len &&
		    !strncasecmp(known_fields[i].name, name.p, name.len))
			return known_fields[i].field;
	return F_OTHER;
}

int rh_fields_add(struct rh_request *req, struct rh_fields *f, struct rh_str name,
		  struct rh_str value)
{
	for (size_t i = 0; i < name.len; i++)
		if (!rh_is_tchar(name.p[i]))
			return -400;
	for (size_t i = 0; i < value.len; i++)
		if (!rh_is_field_char(value.p[i]))
			return -400;
	switch (field_of(name)) {
	case F_HOST:
		if (req->has_host)
			return -400;
		req->has_host = true;
		f->host = value;
		break;
	case F_CONTENT_LENGTH:
		return parse_content_length(value, req);
	case F_TRANSFER_ENCODING:
		parse_transfer_encoding(value, f);
		break;
	case F_EXPECT:
		f->expect_ok = parse_expect(value, &req->expect_continue) && f->expect_ok;
		break;
	case F_CONNECTION:
		parse_connection(value, &f->conn_close, &f->conn_keep_alive);
		break;
	case F_IF_MATCH:
		return add_line(&req->if_match, value) ? 0 : -431;
	case F_IF_UNMODIFIED_SINCE:
		req->if_unmodified_since = value;
		break;
	case F_IF_NONE_MATCH:
		return add_line(&req->if_none_match, value) ? 0 : -431;
	case F_IF_MODIFIED_SINCE:
		req->if_modified_since = value;
		break;
	case F_RANGE:
		req->range = value;
		break;
	case F_IF_RANGE:
		req->if_range = value;
		break;
	case F_USER_AGENT:
		req->user_agent = value;
		break;
	case F_ACCEPT_ENCODING:
		req->accept_encoding = value;
		break;
	case F_ACCEPT:
		req->accept = value;
		break;
	case F_OTHER:
		break;
	}
	return 0;
}

/* HTTP/2 (RFC 9113 8.3.1): :authority is the request's Host, and a Host
 * field beside it must name the same; one of the two must be sent. */
static int take_authority(struct rh_request *req, struct rh_fields *f)
{
	if (f->authority.p) {
		if (req->has_host && (f->host.len != f->authority.len ||
				      strncasecmp(f->host.p, f->authority.p, f->host.len)))
			return -400;
		req->has_host = true;
		f->host = f->authority;
	}
	return req->has_host ? 0 : -400;
}

int rh_fields_end(struct rh_request *req, struct rh_fields *f)
{
	int rc;

	if (req->version == 20 && (rc = take_authority(req, f)) < 0)
		return rc;
	if ((rc = check_host(req, f->host)) < 0)
		return rc;
	/* framing must never be guessed (RFC 9112 6.1, 6.3); HTTP/2 has its
	 * own and forbids the field (RFC 9113 8.2.2) */
	if (f->te_seen && (f->te_bad || req->has_content_length || req->version != 11))
		return -400;
	if (f->te_unknown)
		return -501;
	req->chunked = f->te_seen;
	if (!f->expect_ok)
		return -417;
	/* ignored in HTTP/1.0 (RFC 9110 10.1.1); HTTP/2 bodies are never read */
	if (req->version != 11)
		req->expect_continue = false;
	if (req->version == 20)
		req->keep_alive = true;
	else
		req->keep_alive = req->version == 11 ? !f->conn_close
						     : f->conn_keep_alive && !f->conn_close;
	return 0;
}
