#include "site_conf.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_chars.h"
#include "vhost.h"

/* Keys of the server, not of a site. */
static const char *const server_keys[] = {
	"cpu_limit",	    "share_ring_backend", "enable_sq_poll",	"register_buffers",
	"ring_entries",	    "buffer_size",	  "splice_threshold",	"buffer_count",
	"file_cache_size",  "file_cache_max_file", "listen",		"user",
	"keepalive_timeout", "header_timeout",	  "send_timeout",	"max_connections",
	"access_log",	    "log_level",	  "types",		"status_path",
	"status_allow",	    "sites",
};

/* Keys of a site that only this file reads (index and document_root are
 * read by the server-wide loader too, for the default site). */
static const char *const site_keys[] = {
	"server_name", "charset",     "precompressed", "dotfiles", "directory_listing",
	"error_pages", "fallback",    "headers",       "redirects",
};

static bool in(const char *k, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(k, list[i]))
			return true;
	return false;
}

#define IN(k, list) in((k), (list), sizeof(list) / sizeof *(list))

bool rh_site_conf_key(const char *key)
{
	return IN(key, site_keys) || !strcmp(key, "sites") || !strcmp(key, "status_path") ||
	       !strcmp(key, "status_allow");
}

/* The name a message gives S: its own, or that of the list it is in. */
static const char *key_of(const config_setting_t *s)
{
	for (; s; s = config_setting_parent(s))
		if (config_setting_name(s))
			return config_setting_name(s);
	return "(top level)";
}

static bool failf(const struct rh_conf_err *e, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes "FILE:LINE: key: message" (the line of setting S) and returns false. */
static bool failf(const struct rh_conf_err *e, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (s && config_setting_source_line(s))
		snprintf(e->buf, e->len, "%s:%u: %s: %s", e->path, config_setting_source_line(s),
			 key_of(s), msg);
	else if (s)
		snprintf(e->buf, e->len, "%s: %s: %s", e->path, key_of(s), msg);
	else
		snprintf(e->buf, e->len, "%s: %s", e->path, msg);
	return false;
}

static bool oom(const struct rh_conf_err *e, const config_setting_t *s)
{
	return failf(e, s, "out of memory");
}

static bool get_bool(const struct rh_conf_err *e, const config_setting_t *s, bool *dst)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return failf(e, s, "expected true or false");
	*dst = config_setting_get_bool(s);
	return true;
}

static bool get_int(const struct rh_conf_err *e, const config_setting_t *s, long long *dst)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return failf(e, s, "expected an integer");
	*dst = config_setting_get_int64(s);
	return true;
}

static bool get_string(const struct rh_conf_err *e, const config_setting_t *s, char **dst)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return failf(e, s, "expected a string");
	free(*dst);
	*dst = strdup(config_setting_get_string(s));
	return *dst || oom(e, s);
}

static bool is_list(const config_setting_t *s)
{
	int t = config_setting_type(s);
	return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY;
}

/* The strings of S: a list or array of strings, or, when ONE_OK, a
 * single string. Their count, or -1 after an error. */
static int strings_of(const struct rh_conf_err *e, const config_setting_t *s, bool one_ok)
{
	int n;

	if (one_ok && config_setting_type(s) == CONFIG_TYPE_STRING)
		return 1;
	if (!is_list(s))
		return failf(e, s, "expected a list of strings, like [ \"a\", \"b\" ]"), -1;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++)
		if (config_setting_type(config_setting_get_elem(s, i)) != CONFIG_TYPE_STRING)
			return failf(e, s, "element %d is not a string", i + 1), -1;
	return n;
}

static const char *string_at(const config_setting_t *s, int i)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return config_setting_get_string(s);
	return config_setting_get_string(config_setting_get_elem(s, i));
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A list of groups (or an empty list). Its count, or -1 after an error. */
static int groups_of(const struct rh_conf_err *e, const config_setting_t *s, const char *example)
{
	int n;

	if (!is_list(s))
		return failf(e, s, "expected a list of groups, like %s", example), -1;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++)
		if (config_setting_type(config_setting_get_elem(s, i)) != CONFIG_TYPE_GROUP)
			return failf(e, s, "element %d is not a group { ... }", i + 1), -1;
	return n;
}

/* server_name */

/* After lower-casing: a DNS label's letters and digits, '-', and '_'
 * (which some host names use). */
static bool is_label_char(char c)
{
	return rh_is_alnum(c) || c == '-' || c == '_';
}

/* Lower-cases NAME in place and removes one trailing dot; whether it is
 * a host name, optionally behind a leading "*.". */
static bool normalize_server_name(char *name)
{
	size_t len, label = 0;
	char *p = name;

	for (char *q = name; *q; q++)
		*q = tolower((unsigned char)*q);
	len = strlen(name);
	if (len && name[len - 1] == '.')
		name[--len] = '\0';
	if (!strncmp(p, "*.", 2))
		p += 2;
	if (!*p || strlen(p) > 253)
		return false;
	for (; *p; p++) {
		if (*p == '.') {
			if (!label || p[-1] == '-')
				return false;
			label = 0;
		} else if (!is_label_char(*p) || (*p == '-' && !label) || ++label > 63) {
			return false;
		}
	}
	return label && p[-1] != '-';
}

static bool parse_server_name(const struct rh_conf_err *e, const config_setting_t *s,
			      struct rh_site_conf *sc, const struct rh_sites_conf *all)
{
	int n = strings_of(e, s, true);

	if (n < 0)
		return false;
	free_strings(sc->server_name, sc->n_server_name);
	sc->n_server_name = 0;
	sc->server_name = calloc(n ? n : 1, sizeof *sc->server_name);
	if (!sc->server_name)
		return oom(e, s);
	for (int i = 0; i < n; i++) {
		const char *text = string_at(s, i);
		char *name = strdup(text);

		if (!name)
			return oom(e, s);
		sc->server_name[sc->n_server_name++] = name;
		if (!normalize_server_name(name))
			return failf(e, s,
				     "\"%s\" is not a host name (letters, digits, '-', '_' and dots, "
				     "optionally behind a leading \"*.\"; no port)",
				     text);
		for (size_t j = 0; j + 1 < sc->n_server_name; j++)
			if (!strcmp(sc->server_name[j], name))
				return failf(e, s, "\"%s\" is listed twice", text);
		for (size_t k = 0; k < all->n_site; k++)
			for (size_t j = 0; j < all->site[k].n_server_name; j++)
				if (!strcmp(all->site[k].server_name[j], name)) {
					if (all->site[k].line)
						return failf(e, s,
							     "\"%s\" is already a name of the site at "
							     "line %u",
							     text, all->site[k].line);
					return failf(e, s,
						     "\"%s\" is already a name of the default site",
						     text);
				}
	}
	return true;
}

/* The other keys */

static bool parse_index(const struct rh_conf_err *e, const config_setting_t *s,
			struct rh_site_conf *sc)
{
	int n = strings_of(e, s, false);

	if (n < 0)
		return false;
	free_strings(sc->index, sc->n_index);
	sc->n_index = 0;
	sc->index = calloc(n ? n : 1, sizeof *sc->index);
	if (!sc->index)
		return oom(e, s);
	for (int i = 0; i < n; i++) {
		const char *v = string_at(s, i);
		if (!v[0] || strchr(v, '/'))
			return failf(e, s, "\"%s\" is not a file name", v);
		if (!(sc->index[i] = strdup(v)))
			return oom(e, s);
		sc->n_index++;
	}
	return true;
}

static bool parse_precompressed(const struct rh_conf_err *e, const config_setting_t *s,
				struct rh_site_conf *sc)
{
	int n = strings_of(e, s, false);

	if (n < 0)
		return false;
	sc->n_precompressed = 0;
	for (int i = 0; i < n; i++) {
		const char *v = string_at(s, i);
		int c = rh_coding_from_name(v);

		if (c < 0)
			return failf(e, s, "\"%s\" is not one of \"br\", \"zstd\", \"gzip\"", v);
		for (size_t j = 0; j < sc->n_precompressed; j++)
			if (sc->precompressed[j] == (enum rh_coding)c)
				return failf(e, s, "\"%s\" is listed twice", v);
		sc->precompressed[sc->n_precompressed++] = c;
	}
	return true;
}

static bool parse_path_key(const struct rh_conf_err *e, const config_setting_t *s, char **dst,
			   bool empty_ok)
{
	if (!get_string(e, s, dst))
		return false;
	if (empty_ok && !**dst)
		return true;
	if (**dst != '/')
		return failf(e, s, "\"%s\" does not start with '/'", *dst);
	if (rh_has_ctl(*dst) || strpbrk(*dst, "?#"))
		return failf(e, s, "\"%s\" holds a control character, '?' or '#'", *dst);
	return true;
}

static bool parse_error_pages(const struct rh_conf_err *e, const config_setting_t *s,
			      struct rh_site_conf *sc)
{
	int n = groups_of(e, s, "( { status = 404; page = \"/404.html\"; } )");
	size_t cap = 0;

	if (n < 0)
		return false;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, i), *st, *pg;
		char *page = NULL;
		int count;

		for (int k = 0; k < config_setting_length(g); k++) {
			const config_setting_t *m = config_setting_get_elem(g, k);
			if (strcmp(config_setting_name(m), "status") &&
			    strcmp(config_setting_name(m), "page"))
				return failf(e, m, "unknown key (an error page has status and page)");
		}
		st = config_setting_get_member(g, "status");
		pg = config_setting_get_member(g, "page");
		if (!st || !pg)
			return failf(e, g, "entry %d needs both status and page", i + 1);
		if (!parse_path_key(e, pg, &page, false)) {
			free(page);
			return false;
		}
		count = is_list(st) ? config_setting_length(st) : 1;
		if (count == 0) {
			free(page);
			return failf(e, st, "the list is empty");
		}
		for (int k = 0; k < count; k++) {
			const config_setting_t *v = is_list(st) ? config_setting_get_elem(st, k) : st;
			long long code = 0;
			struct rh_error_page *ep;

			if (!get_int(e, v, &code)) {
				free(page);
				return false;
			}
			if (code < 400 || code > 599) {
				free(page);
				return failf(e, v, "%lld is not an error status (400 to 599)", code);
			}
			if (rh_site_error_page(sc, code)) {
				free(page);
				return failf(e, v, "%lld already has a page", code);
			}
			if (sc->n_error_pages == cap) {
				cap = cap ? 2 * cap : 4;
				ep = realloc(sc->error_pages, cap * sizeof *ep);
				if (!ep) {
					free(page);
					return oom(e, s);
				}
				sc->error_pages = ep;
			}
			ep = &sc->error_pages[sc->n_error_pages];
			ep->status = code;
			ep->page = k == count - 1 ? page : strdup(page);
			if (!ep->page) {
				free(page);
				return oom(e, s);
			}
			sc->n_error_pages++;
		}
	}
	return true;
}

static bool parse_header_rule(const struct rh_conf_err *e, const config_setting_t *g, int i,
			      struct rh_header_rule *r)
{
	const config_setting_t *m = NULL, *set = NULL, *al = NULL;
	char msg[400];
	int n;

	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, k);
		const char *name = config_setting_name(s);
		if (!strcmp(name, "match"))
			m = s;
		else if (!strcmp(name, "set"))
			set = s;
		else if (!strcmp(name, "always"))
			al = s;
		else
			return failf(e, s, "unknown key (a headers entry has match, set and always)");
	}
	if (!m || !set)
		return failf(e, g, "entry %d needs both match and set", i + 1);
	if (config_setting_type(m) != CONFIG_TYPE_STRING)
		return failf(e, m, "expected a string");
	if (!rh_glob_compile(&r->match, config_setting_get_string(m), msg, sizeof msg))
		return failf(e, m, "%s", msg);
	if (al && !get_bool(e, al, &r->always))
		return false;
	n = strings_of(e, set, true);
	if (n < 0)
		return false;
	if (n == 0)
		return failf(e, set, "the list is empty");
	r->set = calloc(n, sizeof *r->set);
	if (!r->set)
		return oom(e, set);
	for (int k = 0; k < n; k++) {
		if (!rh_header_line_parse(&r->set[k], string_at(set, k), msg, sizeof msg))
			return failf(e, set, "%s", msg);
		r->n_set++;
	}
	return true;
}

static bool parse_headers(const struct rh_conf_err *e, const config_setting_t *s,
			  struct rh_site_conf *sc)
{
	int n = groups_of(e, s, "( { match = \"*.css\"; set = [ \"Cache-Control: max-age=3600\" ]; } )");

	if (n < 0)
		return false;
	sc->headers = calloc(n ? n : 1, sizeof *sc->headers);
	if (!sc->headers)
		return oom(e, s);
	for (int i = 0; i < n; i++) {
		/* counted first, so that a half-parsed entry is freed */
		sc->n_headers++;
		if (!parse_header_rule(e, config_setting_get_elem(s, i), i, &sc->headers[i]))
			return false;
		sc->max_header_lines += sc->headers[i].n_set;
		if (sc->max_header_lines > RH_SITE_HEADER_LINES_MAX)
			return failf(e, s, "more than %d header lines in all", RH_SITE_HEADER_LINES_MAX);
	}
	return true;
}

static bool parse_redirects(const struct rh_conf_err *e, const config_setting_t *s,
			    struct rh_site_conf *sc)
{
	int n = groups_of(e, s, "( { from = \"/old\"; to = \"/new\"; status = 301; } )");

	if (n < 0)
		return false;
	sc->redirects = calloc(n ? n : 1, sizeof *sc->redirects);
	if (!sc->redirects)
		return oom(e, s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, i), *from = NULL, *to = NULL,
				       *st = NULL;
		long long status = 302;
		char msg[400];

		for (int k = 0; k < config_setting_length(g); k++) {
			const config_setting_t *m = config_setting_get_elem(g, k);
			const char *name = config_setting_name(m);
			if (!strcmp(name, "from"))
				from = m;
			else if (!strcmp(name, "to"))
				to = m;
			else if (!strcmp(name, "status"))
				st = m;
			else
				return failf(e, m,
					     "unknown key (a redirect has from, to and status)");
		}
		if (!from || !to)
			return failf(e, g, "entry %d needs both from and to", i + 1);
		if (config_setting_type(from) != CONFIG_TYPE_STRING)
			return failf(e, from, "expected a string");
		if (config_setting_type(to) != CONFIG_TYPE_STRING)
			return failf(e, to, "expected a string");
		if (st && !get_int(e, st, &status))
			return false;
		if (status < 0 || status > 999)
			return failf(e, st, "%lld is not 301, 302, 307 or 308", status);
		if (!rh_redirect_compile(&sc->redirects[i], config_setting_get_string(from),
					 config_setting_get_string(to), status, msg, sizeof msg)) {
			/* the message names from, to or the status */
			const config_setting_t *at = !strncmp(msg, "from", 4) ? from
						     : !strncmp(msg, "to", 2) ? to
						     : st ? st : g;
			return failf(e, at, "%s", msg);
		}
		sc->n_redirects++;
	}
	return true;
}

static bool set_defaults(struct rh_site_conf *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->name = "";
	sc->index = calloc(1, sizeof *sc->index);
	sc->charset = strdup("");
	sc->fallback = strdup("");
	if (!sc->index || !sc->charset || !sc->fallback)
		return false;
	sc->index[0] = strdup("index.html");
	sc->n_index = sc->index[0] != NULL;
	return sc->n_index == 1;
}

static void site_free(struct rh_site_conf *sc)
{
	free_strings(sc->server_name, sc->n_server_name);
	free(sc->document_root);
	free_strings(sc->index, sc->n_index);
	free(sc->charset);
	for (size_t i = 0; i < sc->n_error_pages; i++)
		free(sc->error_pages[i].page);
	free(sc->error_pages);
	free(sc->fallback);
	for (size_t i = 0; i < sc->n_headers; i++) {
		rh_glob_free(&sc->headers[i].match);
		for (size_t j = 0; j < sc->headers[i].n_set; j++)
			rh_header_line_free(&sc->headers[i].set[j]);
		free(sc->headers[i].set);
	}
	free(sc->headers);
	for (size_t i = 0; i < sc->n_redirects; i++)
		rh_redirect_free(&sc->redirects[i]);
	free(sc->redirects);
}

/* One key of a site (or of the top level, when TOP). */
static bool parse_site_key(const struct rh_conf_err *e, const config_setting_t *s, bool top,
			   struct rh_site_conf *sc, const struct rh_sites_conf *all)
{
	const char *k = config_setting_name(s);

	if (!strcmp(k, "server_name"))
		return parse_server_name(e, s, sc, all);
	if (!strcmp(k, "index"))
		return parse_index(e, s, sc);
	if (!strcmp(k, "charset")) {
		if (!get_string(e, s, &sc->charset))
			return false;
		return !*sc->charset || rh_is_token(sc->charset) ||
		       failf(e, s, "\"%s\" is not a charset name, like \"utf-8\"", sc->charset);
	}
	if (!strcmp(k, "precompressed"))
		return parse_precompressed(e, s, sc);
	if (!strcmp(k, "dotfiles")) {
		const char *v;
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return failf(e, s, "expected a string");
		v = config_setting_get_string(s);
		if (!strcmp(v, "deny"))
			sc->dotfiles = RH_DOTFILES_DENY;
		else if (!strcmp(v, "allow"))
			sc->dotfiles = RH_DOTFILES_ALLOW;
		else
			return failf(e, s, "\"%s\" is not \"deny\" or \"allow\"", v);
		return true;
	}
	if (!strcmp(k, "directory_listing"))
		return get_bool(e, s, &sc->directory_listing);
	if (!strcmp(k, "error_pages"))
		return parse_error_pages(e, s, sc);
	if (!strcmp(k, "fallback"))
		return parse_path_key(e, s, &sc->fallback, true);
	if (!strcmp(k, "headers"))
		return parse_headers(e, s, sc);
	if (!strcmp(k, "redirects"))
		return parse_redirects(e, s, sc);
	if (top)
		return true; /* the server-wide loader's */
	if (!strcmp(k, "document_root")) {
		if (!get_string(e, s, &sc->document_root))
			return false;
		sc->root_line = config_setting_source_line(s);
		return sc->document_root[0] == '/' ||
		       failf(e, s, "\"%s\" is not an absolute path", sc->document_root);
	}
	if (IN(k, server_keys))
		return failf(e, s, "is server-wide: set it at the top level, not in a site");
	return failf(e, s, "unknown key");
}

static bool parse_status_allow(const struct rh_conf_err *e, const config_setting_t *s,
			       struct rh_sites_conf *sc)
{
	int n = strings_of(e, s, false);
	char msg[300];

	if (n < 0)
		return false;
	free(sc->status_allow);
	sc->n_status_allow = 0;
	sc->status_allow = calloc(n ? n : 1, sizeof *sc->status_allow);
	if (!sc->status_allow)
		return oom(e, s);
	for (int i = 0; i < n; i++) {
		if (!rh_cidr_parse(&sc->status_allow[i], string_at(s, i), msg, sizeof msg))
			return failf(e, s, "%s", msg);
		sc->n_status_allow++;
	}
	return true;
}

static bool add_site(const struct rh_conf_err *e, const config_setting_t *g, bool top,
		     struct rh_sites_conf *sc)
{
	struct rh_site_conf *site = &sc->site[sc->n_site];

	if (!set_defaults(site)) {
		site_free(site);
		return oom(e, g);
	}
	site->line = top ? 0 : config_setting_source_line(g);
	for (int i = 0; i < config_setting_length(g); i++)
		if (!parse_site_key(e, config_setting_get_elem(g, i), top, site, sc)) {
			site_free(site);
			return false;
		}
	if (!top && !site->n_server_name) {
		site_free(site);
		return failf(e, g, "a site needs a server_name");
	}
	if (!top && !site->document_root) {
		site_free(site);
		return failf(e, g, "a site needs a document_root");
	}
	if (site->n_server_name)
		site->name = site->server_name[0];
	if (site->max_header_lines > sc->max_header_lines)
		sc->max_header_lines = site->max_header_lines;
	sc->n_site++;
	return true;
}

struct rh_sites_conf *rh_sites_conf_parse(const struct config_setting_t *root,
					  const char *default_root, const struct rh_conf_err *err)
{
	struct rh_sites_conf *sc = calloc(1, sizeof *sc);
	const config_setting_t *sites = config_setting_get_member(root, "sites");
	const config_setting_t *s;
	char msg[200];
	int n = 0;

	if (!sc) {
		failf(err, NULL, "out of memory");
		return NULL;
	}
	if (sites && (n = groups_of(err, sites, "( { server_name = [ \"example.org\" ]; "
						"document_root = \"/srv/example\"; } )")) < 0)
		goto fail;
	sc->status_path = strdup("");
	sc->status_allow = calloc(2, sizeof *sc->status_allow);
	sc->site = calloc(n + 1, sizeof *sc->site);
	if (!sc->status_path || !sc->status_allow || !sc->site) {
		failf(err, NULL, "out of memory");
		goto fail;
	}
	rh_cidr_parse(&sc->status_allow[0], "127.0.0.1", msg, sizeof msg);
	rh_cidr_parse(&sc->status_allow[1], "::1", msg, sizeof msg);
	sc->n_status_allow = 2;
	if ((s = config_setting_get_member(root, "status_path")) &&
	    !parse_path_key(err, s, &sc->status_path, true))
		goto fail;
	if ((s = config_setting_get_member(root, "status_allow")) &&
	    !parse_status_allow(err, s, sc))
		goto fail;
	if (!add_site(err, root, true, sc))
		goto fail;
	sc->site[0].document_root = strdup(default_root ? default_root : "");
	if (!sc->site[0].document_root) {
		failf(err, NULL, "out of memory");
		goto fail;
	}
	if ((s = config_setting_get_member(root, "document_root")))
		sc->site[0].root_line = config_setting_source_line(s);
	for (int i = 0; i < n; i++)
		if (!add_site(err, config_setting_get_elem(sites, i), false, sc))
			goto fail;
	sc->vhost = rh_vhost_new(sc->site, sc->n_site);
	if (!sc->vhost) {
		failf(err, NULL, "out of memory");
		goto fail;
	}
	return sc;
fail:
	rh_sites_conf_free(sc);
	return NULL;
}

bool rh_sites_conf_check_roots(const struct rh_sites_conf *sc, const struct rh_conf_err *err)
{
	for (size_t i = 1; i < sc->n_site; i++) {
		const struct rh_site_conf *s = &sc->site[i];
		const char *root = s->document_root;
		struct stat st;

		if (stat(root, &st) < 0 || (S_ISDIR(st.st_mode) && access(root, X_OK) < 0))
			snprintf(err->buf, err->len, "%s:%u: document_root: %s: %s", err->path,
				 s->root_line, root, strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			snprintf(err->buf, err->len, "%s:%u: document_root: %s: not a directory",
				 err->path, s->root_line, root);
		else
			continue;
		return false;
	}
	return true;
}

void rh_sites_conf_free(struct rh_sites_conf *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n_site; i++)
		site_free(&sc->site[i]);
	free(sc->site);
	free(sc->status_path);
	free(sc->status_allow);
	rh_vhost_free(sc->vhost);
	free(sc);
}

const struct rh_site_conf *rh_sites_select(const struct rh_sites_conf *sc, const char *host,
					   size_t len)
{
	return &sc->site[rh_vhost_select(sc->vhost, host, len)];
}

const char *rh_site_error_page(const struct rh_site_conf *s, unsigned status)
{
	for (size_t i = 0; i < s->n_error_pages; i++)
		if (s->error_pages[i].status == status)
			return s->error_pages[i].page;
	return NULL;
}
