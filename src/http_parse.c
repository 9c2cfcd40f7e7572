#include "http_parse.h"

#include <string.h>
#include <strings.h>

#include "http_chars.h"

/* Case-insensitive comparison of S with the NUL-terminated LIT. */
static bool str_eq_ci(struct rh_str s, const char *lit)
{
	return strlen(lit) == s.len && strncasecmp(s.p, lit, s.len) == 0;
}

static struct rh_str trim_ows(const char *p, size_t len)
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

/* The request-target: origin-form, absolute-form (its path is used) or
 * asterisk-form (OPTIONS only). */
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

static int parse_target(const char *p, size_t len, struct rh_request *req)
{
	const char *q;
	int rc;

	req->target = (struct rh_str){ p, len };
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

static int parse_request_line(const char *p, size_t len, struct rh_request *req)
{
	const char *end = p + len, *sp1, *sp2;
	int rc;

	for (sp1 = p; sp1 < end && rh_is_tchar(*sp1); sp1++)
		;
	if (sp1 == p || sp1 == end || *sp1 != ' ')
		return -400;
	req->method_name = (struct rh_str){ p, sp1 - p };
	req->method = method_of(req->method_name);
	sp2 = memchr(sp1 + 1, ' ', end - (sp1 + 1));
	if (!sp2)
		return -400;
	/* the version first: the answer to a bad target is logged with it */
	p = sp2 + 1;
	if (end - p != 8 || memcmp(p, "HTTP/", 5) || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
	    p[7] < '0' || p[7] > '9')
		return -400;
	/* a later 1.x is answered as 1.1 (RFC 9110 2.5) */
	if (p[5] != '1')
		return -505;
	req->version = p[7] == '0' ? 10 : 11;
	return (rc = parse_target(sp1 + 1, sp2 - (sp1 + 1), req)) < 0 ? rc : 0;
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
		struct rh_str opt = trim_ows(p, (comma ? comma : end) - p);

		if (str_eq_ci(opt, "close"))
			*close = true;
		else if (str_eq_ci(opt, "keep-alive"))
			*keep_alive = true;
		p = comma ? comma + 1 : end;
	}
}

/* A request line longer than the limit: 414 only when the method ended in
 * the first LEN bytes and the target is what makes it long; a method that
 * long, or malformed, is 400. */
static int line_too_long(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && rh_is_tchar(p[i]))
		i++;
	return i > 0 && i < len && p[i] == ' ' ? -414 : -400;
}

/* Transfer-Encoding, possibly over several lines: a list of codings, each
 * a token with optional parameters. chunked must be the last and appear
 * once (RFC 9112 6.3); it takes no parameters. */
struct te_state {
	bool seen;
	bool chunked_last; /* the last coding so far is chunked */
	bool bad;	   /* 400 */
	bool unknown;	   /* a coding we do not implement: 501 */
};

static void parse_transfer_encoding(struct rh_str v, struct te_state *te)
{
	const char *p = v.p, *end = v.p + v.len;
	bool any = false;

	te->seen = true;
	while (p < end) {
		const char *comma = memchr(p, ',', end - p);
		struct rh_str el = trim_ows(p, (comma ? comma : end) - p);
		size_t n = 0;

		p = comma ? comma + 1 : end;
		if (!el.len) /* RFC 9110 5.6.1: empty list elements are allowed */
			continue;
		any = true;
		while (n < el.len && rh_is_tchar(el.p[n]))
			n++;
		if (!n || (n < el.len && el.p[n] != ' ' && el.p[n] != '\t' && el.p[n] != ';'))
			te->bad = true;
		if (te->chunked_last) /* something after chunked */
			te->bad = true;
		if (str_eq_ci((struct rh_str){ el.p, n }, "chunked")) {
			te->chunked_last = true;
			if (n != el.len)
				te->bad = true;
		} else {
			te->unknown = true;
		}
	}
	if (!any)
		te->bad = true;
}

/* Expect: a list of expectations; only 100-continue is known (RFC 9110
 * 10.1.1). Returns false for any other. */
static bool parse_expect(struct rh_str v, bool *cont)
{
	const char *p = v.p, *end = v.p + v.len;

	while (p < end) {
		const char *comma = memchr(p, ',', end - p);
		struct rh_str el = trim_ows(p, (comma ? comma : end) - p);

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

static ssize_t parse(const char *buf, size_t len, size_t max_head, struct rh_request *req)
{
	size_t line_limit = max_head < RH_MAX_REQUEST_LINE ? max_head : RH_MAX_REQUEST_LINE;
	const char *p = buf, *end = buf + len, *eol;
	bool conn_close = false, conn_keep_alive = false, expect_ok = true;
	struct te_state te = { 0 };
	struct rh_str host_value = { 0 };
	int rc;

	memset(req, 0, sizeof *req);
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	if (p == end || (end - p == 1 && *p == '\r'))
		return (size_t)(p - buf) >= max_head ? -400 : 0;

	eol = memchr(p, '\n', end - p);
	if (!eol)
		return (size_t)(end - p) >= line_limit ? line_too_long(p, line_limit) : 0;
	if ((size_t)(eol - p) > line_limit)
		return line_too_long(p, line_limit);
	if (eol == p || eol[-1] != '\r')
		return -400;
	if ((rc = parse_request_line(p, eol - 1 - p, req)) < 0)
		return rc;
	p = eol + 1;

	for (;;) {
		const char *colon;
		struct rh_str name, value;

		eol = memchr(p, '\n', end - p);
		if (!eol)
			return len >= max_head ? -431 : 0;
		if (eol == p || eol[-1] != '\r')
			return -400;
		if (eol - 1 == p) /* the empty line ending the head */
			break;
		for (colon = p; colon < eol - 1 && rh_is_tchar(*colon); colon++)
			;
		if (colon == p || *colon != ':') /* also rejects obs-fold and " :" */
			return -400;
		name = (struct rh_str){ p, colon - p };
		for (const char *c = colon + 1; c < eol - 1; c++)
			if (!rh_is_field_char(*c))
				return -400;
		value = trim_ows(colon + 1, eol - 1 - (colon + 1));

		if (str_eq_ci(name, "host")) {
			if (req->has_host)
				return -400;
			req->has_host = true;
			host_value = value;
		} else if (str_eq_ci(name, "content-length")) {
			if ((rc = parse_content_length(value, req)) < 0)
				return rc;
		} else if (str_eq_ci(name, "transfer-encoding")) {
			parse_transfer_encoding(value, &te);
		} else if (str_eq_ci(name, "expect")) {
			expect_ok = parse_expect(value, &req->expect_continue) && expect_ok;
		} else if (str_eq_ci(name, "connection")) {
			parse_connection(value, &conn_close, &conn_keep_alive);
		} else if (str_eq_ci(name, "if-match")) {
			if (!add_line(&req->if_match, value))
				return -431;
		} else if (str_eq_ci(name, "if-unmodified-since")) {
			req->if_unmodified_since = value;
		} else if (str_eq_ci(name, "if-none-match")) {
			if (!add_line(&req->if_none_match, value))
				return -431;
		} else if (str_eq_ci(name, "if-modified-since")) {
			req->if_modified_since = value;
		} else if (str_eq_ci(name, "range")) {
			req->range = value;
		} else if (str_eq_ci(name, "if-range")) {
			req->if_range = value;
		} else if (str_eq_ci(name, "user-agent")) {
			req->user_agent = value;
		} else if (str_eq_ci(name, "accept-encoding")) {
			req->accept_encoding = value;
		} else if (str_eq_ci(name, "accept")) {
			req->accept = value;
		}
		p = eol + 1;
	}
	p = eol + 1;
	if ((size_t)(p - buf) > max_head)
		return -431;
	if ((rc = check_host(req, host_value)) < 0)
		return rc;
	/* framing must never be guessed (RFC 9112 6.1, 6.3): a 400 closes */
	if (te.seen && (te.bad || req->has_content_length || req->version == 10))
		return -400;
	if (te.unknown)
		return -501;
	req->chunked = te.seen;
	if (!expect_ok)
		return -417;
	if (req->version == 10) /* RFC 9110 10.1.1: ignored in HTTP/1.0 */
		req->expect_continue = false;
	req->keep_alive = req->version == 11 ? !conn_close : conn_keep_alive && !conn_close;
	return p - buf;
}

ssize_t rh_http_parse(const char *buf, size_t len, size_t max_head, struct rh_request *req)
{
	ssize_t n = parse(buf, len, max_head, req);

	/* a full buffer that is still not a whole head never will be */
	return n == 0 && len >= max_head ? -431 : n;
}
