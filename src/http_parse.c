#include "http_parse.h"

#include <string.h>
#include <strings.h>

/* tchar of RFC 9110 5.6.2 */
static bool is_tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr(extra, c));
}

/* field-value characters: VCHAR, obs-text, SP, HTAB */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Case-insensitive comparison of S with the NUL-terminated LIT. */
static bool str_eq_ci(struct rh_str s, const char *lit)
{
	return strlen(lit) == s.len && strncasecmp(s.p, lit, s.len) == 0;
}

static struct rh_str trim_ows(const char *p, size_t len)
{
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	return (struct rh_str){ p, len };
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

/* The request-target: origin-form, absolute-form (its path is used) or
 * asterisk-form (OPTIONS only). */
static int parse_target(const char *p, size_t len, struct rh_request *req)
{
	const char *q;

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
	if (len && p[0] != '/') {
		const char *scheme_end = memmem(p, len, "://", 3);
		const char *slash;

		if (!scheme_end)
			return -400;
		slash = memchr(scheme_end + 3, '/', len - (scheme_end + 3 - p));
		if (!slash) { /* "http://host" means "/": the last '/' of "://" says it */
			p = scheme_end + 2;
			len = 1;
		} else {
			len -= slash - p;
			p = slash;
		}
	}
	if (!len)
		return -400;
	q = memchr(p, '?', len);
	if (q) {
		req->has_query = true;
		req->query = (struct rh_str){ q + 1, len - (q + 1 - p) };
		len = q - p;
	}
	req->path = (struct rh_str){ p, len };
	return 0;
}

static int parse_request_line(const char *p, size_t len, struct rh_request *req)
{
	const char *end = p + len, *sp1, *sp2;
	int rc;

	for (sp1 = p; sp1 < end && is_tchar(*sp1); sp1++)
		;
	if (sp1 == p || sp1 == end || *sp1 != ' ')
		return -400;
	req->method_name = (struct rh_str){ p, sp1 - p };
	req->method = method_of(req->method_name);
	sp2 = memchr(sp1 + 1, ' ', end - (sp1 + 1));
	if (!sp2)
		return -400;
	if ((rc = parse_target(sp1 + 1, sp2 - (sp1 + 1), req)) < 0)
		return rc;
	p = sp2 + 1;
	if (end - p != 8 || memcmp(p, "HTTP/", 5) || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
	    p[7] < '0' || p[7] > '9')
		return -400;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return -505;
	req->version = p[7] == '1' ? 11 : 10;
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
		struct rh_str opt = trim_ows(p, (comma ? comma : end) - p);

		if (str_eq_ci(opt, "close"))
			*close = true;
		else if (str_eq_ci(opt, "keep-alive"))
			*keep_alive = true;
		p = comma ? comma + 1 : end;
	}
}

static ssize_t parse(const char *buf, size_t len, size_t max_head, struct rh_request *req)
{
	size_t line_limit = max_head < RH_MAX_REQUEST_LINE ? max_head : RH_MAX_REQUEST_LINE;
	const char *p = buf, *end = buf + len, *eol;
	bool conn_close = false, conn_keep_alive = false, has_te = false;
	int rc;

	memset(req, 0, sizeof *req);
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	if (p == end || (end - p == 1 && *p == '\r'))
		return (size_t)(p - buf) >= max_head ? -400 : 0;

	eol = memchr(p, '\n', end - p);
	if (!eol)
		return (size_t)(end - p) >= line_limit ? -414 : 0;
	if ((size_t)(eol - p) > line_limit)
		return -414;
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
		for (colon = p; colon < eol - 1 && is_tchar(*colon); colon++)
			;
		if (colon == p || *colon != ':') /* also rejects obs-fold and " :" */
			return -400;
		name = (struct rh_str){ p, colon - p };
		for (const char *c = colon + 1; c < eol - 1; c++)
			if (!is_field_char(*c))
				return -400;
		value = trim_ows(colon + 1, eol - 1 - (colon + 1));

		if (str_eq_ci(name, "host")) {
			if (req->has_host)
				return -400;
			req->has_host = true;
		} else if (str_eq_ci(name, "content-length")) {
			if ((rc = parse_content_length(value, req)) < 0)
				return rc;
		} else if (str_eq_ci(name, "transfer-encoding")) {
			has_te = true;
		} else if (str_eq_ci(name, "connection")) {
			parse_connection(value, &conn_close, &conn_keep_alive);
		} else if (str_eq_ci(name, "if-none-match")) {
			req->if_none_match = value;
		} else if (str_eq_ci(name, "if-modified-since")) {
			req->if_modified_since = value;
		} else if (str_eq_ci(name, "range")) {
			req->range = value;
		} else if (str_eq_ci(name, "if-range")) {
			req->if_range = value;
		} else if (str_eq_ci(name, "user-agent")) {
			req->user_agent = value;
		}
		p = eol + 1;
	}
	p = eol + 1;
	if ((size_t)(p - buf) > max_head)
		return -431;
	if (req->version == 11 && !req->has_host)
		return -400;
	if (has_te) /* no request bodies are served; framing must not be guessed */
		return req->has_content_length ? -400 : -501;
	req->keep_alive = req->version == 11 ? !conn_close : conn_keep_alive && !conn_close;
	return p - buf;
}

ssize_t rh_http_parse(const char *buf, size_t len, size_t max_head, struct rh_request *req)
{
	ssize_t n = parse(buf, len, max_head, req);

	/* a full buffer that is still not a whole head never will be */
	return n == 0 && len >= max_head ? -431 : n;
}
