#include "http_parse.h"

#include <string.h>

#include "http_chars.h"

static int parse_request_line(const char *p, size_t len, struct rh_request *req)
{
	const char *end = p + len, *sp1, *sp2;
	int rc;

	for (sp1 = p; sp1 < end && rh_is_tchar(*sp1); sp1++)
		;
	if (sp1 == p || sp1 == end || *sp1 != ' ')
		return -400;
	rh_request_method(req, (struct rh_str){ p, sp1 - p });
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
	return (rc = rh_request_target(req, (struct rh_str){ sp1 + 1, sp2 - (sp1 + 1) })) < 0 ? rc
											      : 0;
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

static ssize_t parse(const char *buf, size_t len, size_t max_head, struct rh_request *req)
{
	size_t line_limit = max_head < RH_MAX_REQUEST_LINE ? max_head : RH_MAX_REQUEST_LINE;
	const char *p = buf, *end = buf + len, *eol;
	struct rh_fields f;
	int rc;

	rh_fields_begin(req, &f, 0);
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
		value = rh_trim_ows(colon + 1, eol - 1 - (colon + 1));
		/* the value's characters are checked with what it means */
		if ((rc = rh_fields_add(req, &f, name, value)) < 0)
			return rc;
		p = eol + 1;
	}
	p = eol + 1;
	if ((size_t)(p - buf) > max_head)
		return -431;
	if ((rc = rh_fields_end(req, &f)) < 0)
		return rc;
	return p - buf;
}

ssize_t rh_http_parse(const char *buf, size_t len, size_t max_head, struct rh_request *req)
{
	ssize_t n = parse(buf, len, max_head, req);

	/* a full buffer that is still not a whole head never will be */
	return n == 0 && len >= max_head ? -431 : n;
}
