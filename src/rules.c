#include "rules.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_chars.h"

static bool fail(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return false;
}

/* Glob */

bool rh_glob_compile(struct rh_glob *g, const char *text, char *msg, size_t msglen)
{
	size_t len = strlen(text);

	memset(g, 0, sizeof *g);
	if (!len)
		return fail(msg, msglen, "the glob is empty");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = text[i];
		if (rh_is_ctl(c) || c == ' ')
			return fail(msg, msglen, "\"%s\" holds a space or a control character", text);
		if (c == '*' && text[i + 1] == '*')
			return fail(msg, msglen,
				    "\"%s\": \"**\" is not supported (a final \"/*\" already matches "
				    "every depth)",
				    text);
	}
	if (text[0] != '/' && strchr(text, '/'))
		return fail(msg, msglen,
			    "\"%s\" is neither a file name glob (without '/') nor a path glob "
			    "(starting with '/')",
			    text);
	g->pat = strdup(text);
	if (!g->pat)
		return fail(msg, msglen, "out of memory");
	g->len = len;
	g->whole_path = text[0] == '/';
	return true;
}

void rh_glob_free(struct rh_glob *g)
{
	free(g->pat);
	g->pat = NULL;
	g->len = 0;
}

/* One segment (no '/' on either side): '*' any run, '?' one byte. */
static bool segment_match(const char *p, size_t pl, const char *s, size_t sl)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < sl) {
		if (pi < pl && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pl && (p[pi] == '?' || p[pi] == s[si])) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pl && p[pi] == '*')
		pi++;
	return pi == pl;
}

/* Segment by segment: the same number of '/' on both sides. */
static bool path_match(const char *p, size_t pl, const char *s, size_t sl)
{
	for (;;) {
		const char *ps = memchr(p, '/', pl), *ss = memchr(s, '/', sl);
		size_t pn = ps ? (size_t)(ps - p) : pl, sn = ss ? (size_t)(ss - s) : sl;

		if (!segment_match(p, pn, s, sn))
			return false;
		if (!ps || !ss)
			return !ps && !ss;
		p += pn + 1;
		pl -= pn + 1;
		s += sn + 1;
		sl -= sn + 1;
	}
}

bool rh_glob_match(const struct rh_glob *g, const char *path, size_t len)
{
	if (!g->pat)
		return false;
	if (!g->whole_path) {
		const char *name = path;
		for (size_t i = 0; i < len; i++)
			if (path[i] == '/')
				name = path + i + 1;
		return segment_match(g->pat, g->len, name, len - (name - path));
	}
	if (g->len >= 2 && g->pat[g->len - 1] == '*' && g->pat[g->len - 2] == '/') {
		/* A prefix: the glob up to its last '/' against as many
		 * segments of the path; the rest is free. */
		size_t slashes = 0, k;

		for (size_t i = 0; i < g->len - 1; i++)
			slashes += g->pat[i] == '/';
		for (k = 0; k < len && slashes; k++)
			slashes -= path[k] == '/';
		return !slashes && path_match(g->pat, g->len - 1, path, k);
	}
	return path_match(g->pat, g->len, path, len);
}

/* Fields the server frames the response with, or sends once itself: a
 * second line of them would contradict the first. */
static const char *const managed[] = {
	"Content-Length", "Transfer-Encoding", "Connection",    "Keep-Alive",  "Upgrade",
	"TE",		  "Trailer",	       "Content-Encoding", "Content-Range", "Date",
	"Content-Type",	  "ETag",	       "Last-Modified", "Server",	 "Location",
	"Retry-After",	  "Accept-Ranges",     "Allow",
};

bool rh_header_line_parse(struct rh_header_line *h, const char *text, char *msg, size_t msglen)
{
	const char *colon = strchr(text, ':'), *v, *vend;
	size_t name_len;

	memset(h, 0, sizeof *h);
	if (!colon)
		return fail(msg, msglen, "\"%s\" is not \"Name: value\"", text);
	name_len = colon - text;
	if (!name_len)
		return fail(msg, msglen, "\"%s\" has no header name", text);
	for (size_t i = 0; i < name_len; i++)
		if (!rh_is_tchar((unsigned char)text[i]))
			return fail(msg, msglen, "\"%.*s\" is not a valid header name", (int)name_len,
				    text);
	for (size_t i = 0; i < sizeof managed / sizeof *managed; i++)
		if (strlen(managed[i]) == name_len && !strncasecmp(text, managed[i], name_len))
			return fail(msg, msglen, "%s is set by the server", managed[i]);
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	vend = v + strlen(v);
	while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
		vend--;
	for (const char *p = v; *p; p++)
		if (rh_is_ctl((unsigned char)*p) && *p != '\t')
			return fail(msg, msglen,
				    "the value of %.*s holds a control character (CR, LF or other)",
				    (int)name_len, text);
	h->line_len = name_len + 2 + (vend - v);
	h->line = malloc(h->line_len + 1);
	if (!h->line)
		return fail(msg, msglen, "out of memory");
	memcpy(h->line, text, name_len);
	memcpy(h->line + name_len, ": ", 2);
	memcpy(h->line + name_len + 2, v, vend - v);
	h->line[h->line_len] = '\0';
	h->name_len = name_len;
	h->acao = name_len == 27 && !strncasecmp(text, "Access-Control-Allow-Origin", 27);
	return true;
}

void rh_header_line_free(struct rh_header_line *h)
{
	free(h->line);
	h->line = NULL;
}

static bool same_name(const struct rh_header_line *a, const struct rh_header_line *b)
{
	return a->name_len == b->name_len && !strncasecmp(a->line, b->line, a->name_len);
}

size_t rh_rules_headers(const struct rh_header_rule *rules, size_t n, const char *path,
			size_t len, unsigned flags, struct rh_header_out *out, size_t cap,
			bool *cors)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rh_header_rule *r = &rules[i];
		size_t w = 0;

		if (((flags & RH_RULES_ERROR) && !r->always) || !rh_glob_match(&r->match, path, len))
			continue;
		for (size_t j = 0; j < k; j++) {
			bool replaced = false;
			for (size_t m = 0; m < r->n_set && !replaced; m++)
				replaced = same_name(out[j].h, &r->set[m]);
			if (!replaced)
				out[w++] = out[j];
		}
		k = w;
		for (size_t m = 0; m < r->n_set && k < cap; m++)
			out[k++] = (struct rh_header_out){ &r->set[m], r->always };
	}
	if (cors) {
		*cors = false;
		for (size_t j = 0; j < k; j++)
			*cors = *cors || out[j].h->acao;
	}
	return k;
}

/* Redirects */

static bool has_bad_byte(const char *s)
{
	for (; *s; s++)
		if (rh_is_ctl((unsigned char)*s) || *s == ' ')
			return true;
	return false;
}

/* "scheme://": ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) then "://". */
static bool is_absolute_uri(const char *s)
{
	const char *p = s;

	if (!rh_is_alpha(*p))
		return false;
	while (rh_is_alnum(*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return !strncmp(p, "://", 3) && p[3];
}

bool rh_redirect_compile(struct rh_redirect *r, const char *from, const char *to,
			 unsigned status, char *msg, size_t msglen)
{
	size_t fl = strlen(from), tl = strlen(to);
	const char *star = strchr(from, '*'), *hash;

	memset(r, 0, sizeof *r);
	if (from[0] != '/')
		return fail(msg, msglen, "from \"%s\" does not start with '/'", from);
	if (has_bad_byte(from) || strpbrk(from, "?#"))
		return fail(msg, msglen, "from \"%s\" holds a space, a control character, '?' or '#'",
			    from);
	if (star && (star != from + fl - 1 || star[-1] != '/'))
		return fail(msg, msglen,
			    "from \"%s\": '*' may only end a prefix, as in \"/old/*\"", from);
	if (!tl)
		return fail(msg, msglen, "to is empty");
	if (to[0] != '/' && !is_absolute_uri(to))
		return fail(msg, msglen,
			    "to \"%s\" is neither a path starting with '/' nor an absolute URI "
			    "like \"https://host/path\"",
			    to);
	if (!strncmp(to, "//", 2))
		return fail(msg, msglen,
			    "to \"%s\" names a host without a scheme: write \"https:%s\" or a path",
			    to, to);
	if (has_bad_byte(to))
		return fail(msg, msglen, "to \"%s\" holds a space or a control character", to);
	if (star && strpbrk(to, "?#"))
		return fail(msg, msglen,
			    "to \"%s\": the target of a prefix cannot hold '?' or '#'", to);
	/* the rest of the path is appended: after a bare authority it would
	 * continue the host name ("https://a.example" + "@b.example/") */
	if (star && to[0] != '/' && !strchr(strstr(to, "://") + 3, '/'))
		return fail(msg, msglen,
			    "to \"%s\": the target of a prefix needs a path, as in \"%.*s/\"", to,
			    (int)(to[tl - 1] == '*' ? tl - 1 : tl), to);
	if (status != 301 && status != 302 && status != 307 && status != 308)
		return fail(msg, msglen, "%u is not 301, 302, 307 or 308", status);
	r->prefix = star != NULL;
	r->from_len = r->prefix ? fl - 1 : fl;
	if (r->prefix && to[tl - 1] == '*')
		tl--;
	r->from = strndup(from, r->from_len);
	r->to = strndup(to, tl);
	if (!r->from || !r->to) {
		rh_redirect_free(r);
		return fail(msg, msglen, "out of memory");
	}
	r->to_len = tl;
	hash = memchr(r->to, '#', tl);
	r->to_base = hash ? (size_t)(hash - r->to) : tl;
	r->to_query = memchr(r->to, '?', r->to_base) != NULL;
	r->status = status;
	return true;
}

void rh_redirect_free(struct rh_redirect *r)
{
	free(r->from);
	free(r->to);
	r->from = r->to = NULL;
}

const struct rh_redirect *rh_redirect_find(const struct rh_redirect *r, size_t n,
					   const char *path, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].prefix ? len >= r[i].from_len && !memcmp(path, r[i].from, r[i].from_len)
				: len == r[i].from_len && !memcmp(path, r[i].from, len))
			return &r[i];
	}
	return NULL;
}

struct out {
	char *p;
	size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap)
		memcpy(o->p + o->len, s, n < o->cap - o->len ? n : o->cap - o->len);
	o->len += n;
}

size_t rh_redirect_location(const struct rh_redirect *r, const char *rest, size_t len,
			    const char *query, size_t query_len, bool has_query, char *buf,
			    size_t cap)
{
	struct out o = { buf, cap, 0 };

	put(&o, r->to, r->to_base);
	if (r->prefix && len) {
		if (r->to[r->to_base - 1] != '/')
			put(&o, "/", 1);
		put(&o, rest, len);
	}
	if (has_query && (query_len || !r->to_query)) {
		put(&o, r->to_query ? "&" : "?", 1);
		put(&o, query, query_len);
	}
	put(&o, r->to + r->to_base, r->to_len - r->to_base);
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}

/* Dotfiles and the fallback */

bool rh_rules_dotfile(const char *path, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (path[i] != '/' || i + 1 >= len || path[i + 1] != '.')
			continue;
		if (i == 0 && len >= 12 && !memcmp(path + 1, ".well-known", 11) &&
		    (len == 12 || path[12] == '/'))
			continue;
		return true;
	}
	return false;
}

bool rh_rules_fallback_applies(const char *path, size_t len)
{
	size_t last = 0;

	for (size_t i = 0; i < len; i++) {
		if (path[i] != '/')
			continue;
		if (i + 1 < len && path[i + 1] == '.')
			return false;
		last = i + 1;
	}
	return !memchr(path + last, '.', len - last);
}
