#include "site_conf.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_chars.h"
#include "vhost.h"

static bool oom(const struct rh_conf_err *e, const config_setting_t *s)
{
	return rh_conf_fail(e, s, "out of memory");
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

/* The names of one site; that no two sites share a name is checked once
 * all are known (rh_sites_conf_parse). */
bool rh_site_parse_server_name(const struct rh_conf_err *e, const config_setting_t *s,
			       const struct rh_conf_key *k, void *dst)
{
	struct rh_site_conf *sc = dst;
	int n;

	(void)k;
	if (!rh_conf_strings_of(e, s, true, &n))
		return false;
	rh_conf_free_strings(sc->server_name, sc->n_server_name);
	sc->n_server_name = 0;
	sc->server_name = calloc(n ? n : 1, sizeof *sc->server_name);
	if (!sc->server_name)
		return oom(e, s);
	for (int i = 0; i < n; i++) {
		const char *text = rh_conf_string_at(s, i);
		char *name = strdup(text);

		if (!name)
			return oom(e, s);
		sc->server_name[sc->n_server_name++] = name;
		if (!normalize_server_name(name))
			return rh_conf_fail(e, s,
					    "\"%s\" is not a host name (letters, digits, '-', '_' and "
					    "dots, optionally behind a leading \"*.\"; no port)",
					    text);
		for (size_t j = 0; j + 1 < sc->n_server_name; j++)
			if (!strcmp(sc->server_name[j], name))
				return rh_conf_fail(e, s, "\"%s\" is listed twice", text);
	}
	return true;
}

/* The other keys */

/* Index names are looked up in the directory requested: one path segment,
 * neither "." nor ".." (which would name the directory or its parent). */
bool rh_site_parse_index(const struct rh_conf_err *e, const config_setting_t *s,
			 const struct rh_conf_key *k, void *dst)
{
	struct rh_site_conf *sc = (void *)((char *)dst - k->site_off);

	if (!rh_conf_strings(e, s, k, dst))
		return false;
	for (size_t i = 0; i < sc->n_index; i++) {
		const char *v = sc->index[i];
		if (!v[0] || strchr(v, '/') || !strcmp(v, ".") || !strcmp(v, ".."))
			return rh_conf_fail(e, s, "\"%s\" is not a file name", v);
	}
	return true;
}

bool rh_site_parse_tls_files(const struct rh_conf_err *e, const config_setting_t *s,
			     const struct rh_conf_key *k, void *dst)
{
	struct rh_tls_files *f = dst;
	int n;

	(void)k;
	if (!rh_conf_strings_of(e, s, true, &n))
		return false;
	if (!n)
		return rh_conf_fail(e, s, "needs at least one path");
	rh_conf_free_strings(f->path, f->n);
	f->n = 0;
	f->path = calloc(n, sizeof *f->path);
	if (!f->path)
		return oom(e, s);
	for (int i = 0; i < n; i++) {
		const char *v = rh_conf_string_at(s, i);

		if (v[0] != '/')
			return rh_conf_fail(e, s, "\"%s\" is not an absolute path", v);
		if (!(f->path[f->n] = strdup(v)))
			return oom(e, s);
		f->n++;
	}
	f->list = rh_conf_is_list(s);
	f->line = config_setting_source_line(s);
	return true;
}

bool rh_site_parse_hsts(const struct rh_conf_err *e, const config_setting_t *s,
			const struct rh_conf_key *k, void *dst)
{
	const char *v;

	if (!rh_conf_string(e, s, k, dst))
		return false;
	v = *(char **)dst;
	/* sent as it is, as a field value */
	return (!rh_has_ctl(v) && v[0] != ' ' && (!*v || v[strlen(v) - 1] != ' ')) ||
	       rh_conf_fail(e, s, "\"%s\" is not a field value, like \"max-age=31536000\"", v);
}

/* The certificate pairs of a site: both keys or neither, and as many
 * keys as certificates. */
static bool check_tls_pairs(const struct rh_conf_err *e, const config_setting_t *g,
			    const struct rh_site_conf *site)
{
	const struct rh_tls_files *c = &site->tls_certificate, *k = &site->tls_key;
	const config_setting_t *key = config_setting_get_member(g, "tls_key");
	const config_setting_t *cert = config_setting_get_member(g, "tls_certificate");

	if (!c->n && !k->n)
		return true;
	if (!k->n)
		return rh_conf_fail(e, cert, "needs tls_key beside it");
	if (!c->n)
		return rh_conf_fail(e, key, "needs tls_certificate beside it");
	if (c->list != k->list || c->n != k->n)
		return rh_conf_fail(e, key,
				    "%zu key(s) for %zu certificate(s): both strings, or lists of the "
				    "same length (one key per certificate)",
				    k->n, c->n);
	return true;
}

/* FNV-1a of the pairs' paths: sites with the same files get the same. */
static uint64_t tls_id_of(const struct rh_site_conf *site)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < site->tls_certificate.n; i++) {
		const char *parts[2] = { site->tls_certificate.path[i], site->tls_key.path[i] };

		for (int p = 0; p < 2; p++)
			for (const char *c = parts[p];; c++) {
				h = (h ^ (unsigned char)*c) * 1099511628211ULL;
				if (!*c)
					break;
			}
	}
	return h | 1;
}

bool rh_site_parse_charset(const struct rh_conf_err *e, const config_setting_t *s,
			   const struct rh_conf_key *k, void *dst)
{
	const char *v;

	if (!rh_conf_string(e, s, k, dst))
		return false;
	v = *(char **)dst;
	return !*v || rh_is_token(v) ||
	       rh_conf_fail(e, s, "\"%s\" is not a charset name, like \"utf-8\"", v);
}

bool rh_site_parse_dotfiles(const struct rh_conf_err *e, const config_setting_t *s,
			    const struct rh_conf_key *k, void *dst)
{
	enum rh_dotfiles *d = dst;
	const char *v;

	(void)k;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return rh_conf_fail(e, s, "expected a string");
	v = config_setting_get_string(s);
	if (!strcmp(v, "deny"))
		*d = RH_DOTFILES_DENY;
	else if (!strcmp(v, "allow"))
		*d = RH_DOTFILES_ALLOW;
	else
		return rh_conf_fail(e, s, "\"%s\" is not \"deny\" or \"allow\"", v);
	return true;
}

bool rh_site_parse_precompressed(const struct rh_conf_err *e, const config_setting_t *s,
				 const struct rh_conf_key *k, void *dst)
{
	struct rh_site_conf *sc = dst;
	int n;

	(void)k;
	if (!rh_conf_strings_of(e, s, false, &n))
		return false;
	sc->n_precompressed = 0;
	for (int i = 0; i < n; i++) {
		const char *v = rh_conf_string_at(s, i);
		int c = rh_coding_from_name(v);

		if (c < 0)
			return rh_conf_fail(e, s, "\"%s\" is not one of \"br\", \"zstd\", \"gzip\"", v);
		for (size_t j = 0; j < sc->n_precompressed; j++)
			if (sc->precompressed[j] == (enum rh_coding)c)
				return rh_conf_fail(e, s, "\"%s\" is listed twice", v);
		sc->precompressed[sc->n_precompressed++] = c;
	}
	return true;
}

static bool parse_path_key(const struct rh_conf_err *e, const config_setting_t *s, char **dst,
			   bool empty_ok)
{
	if (!rh_conf_string(e, s, NULL, dst))
		return false;
	if (empty_ok && !**dst)
		return true;
	if (**dst != '/')
		return rh_conf_fail(e, s, "\"%s\" does not start with '/'", *dst);
	if (rh_has_ctl(*dst) || strpbrk(*dst, "?#"))
		return rh_conf_fail(e, s, "\"%s\" holds a control character, '?' or '#'", *dst);
	return true;
}

bool rh_site_parse_path(const struct rh_conf_err *e, const config_setting_t *s,
			const struct rh_conf_key *k, void *dst)
{
	(void)k;
	return parse_path_key(e, s, dst, true);
}

bool rh_site_parse_error_pages(const struct rh_conf_err *e, const config_setting_t *s,
			       const struct rh_conf_key *key, void *dst)
{
	struct rh_site_conf *sc = dst;
	int n;
	size_t cap = 0;

	(void)key;
	if (!rh_conf_groups_of(e, s,
			       "( { status = 404; page = \"/404.html\"; } )",
			       &n))
		return false;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, i), *st, *pg;
		char *page = NULL;
		int count;

		for (int k = 0; k < config_setting_length(g); k++) {
			const config_setting_t *m = config_setting_get_elem(g, k);
			if (strcmp(config_setting_name(m), "status") &&
			    strcmp(config_setting_name(m), "page"))
				return rh_conf_fail(e, m, "unknown key (an error page has status and page)");
		}
		st = config_setting_get_member(g, "status");
		pg = config_setting_get_member(g, "page");
		if (!st || !pg)
			return rh_conf_fail(e, g, "entry %d needs both status and page", i + 1);
		if (!parse_path_key(e, pg, &page, false)) {
			free(page);
			return false;
		}
		count = rh_conf_is_list(st) ? config_setting_length(st) : 1;
		if (count == 0) {
			free(page);
			return rh_conf_fail(e, st, "the list is empty");
		}
		for (int k = 0; k < count; k++) {
			const config_setting_t *v = rh_conf_is_list(st) ? config_setting_get_elem(st, k) : st;
			long long code = 0;
			struct rh_error_page *ep;

			if (!rh_conf_int(e, v, &code)) {
				free(page);
				return false;
			}
			if (code < 400 || code > 599) {
				free(page);
				return rh_conf_fail(e, v, "%lld is not an error status (400 to 599)", code);
			}
			if (rh_site_error_page(sc, code)) {
				free(page);
				return rh_conf_fail(e, v, "%lld already has a page", code);
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
			return rh_conf_fail(e, s, "unknown key (a headers entry has match, set and always)");
	}
	if (!m || !set)
		return rh_conf_fail(e, g, "entry %d needs both match and set", i + 1);
	if (config_setting_type(m) != CONFIG_TYPE_STRING)
		return rh_conf_fail(e, m, "expected a string");
	if (!rh_glob_compile(&r->match, config_setting_get_string(m), msg, sizeof msg))
		return rh_conf_fail(e, m, "%s", msg);
	if (al && !rh_conf_bool(e, al, NULL, &r->always))
		return false;
	if (!rh_conf_strings_of(e, set, true, &n))
		return false;
	if (n == 0)
		return rh_conf_fail(e, set, "the list is empty");
	r->set = calloc(n, sizeof *r->set);
	if (!r->set)
		return oom(e, set);
	for (int k = 0; k < n; k++) {
		if (!rh_header_line_parse(&r->set[k], rh_conf_string_at(set, k), msg, sizeof msg))
			return rh_conf_fail(e, set, "%s", msg);
		r->n_set++;
	}
	return true;
}

bool rh_site_parse_headers(const struct rh_conf_err *e, const config_setting_t *s,
			   const struct rh_conf_key *k, void *dst)
{
	struct rh_site_conf *sc = dst;
	int n;

	(void)k;
	if (!rh_conf_groups_of(e, s,
			       "( { match = \"*.css\"; set = [ \"Cache-Control: max-age=3600\" ]; } )",
			       &n))
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
			return rh_conf_fail(e, s, "more than %d header lines in all", RH_SITE_HEADER_LINES_MAX);
	}
	return true;
}

bool rh_site_parse_redirects(const struct rh_conf_err *e, const config_setting_t *s,
			     const struct rh_conf_key *key, void *dst)
{
	struct rh_site_conf *sc = dst;
	int n;

	(void)key;
	if (!rh_conf_groups_of(e, s,
			       "( { from = \"/old\"; to = \"/new\"; status = 301; } )",
			       &n))
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
				return rh_conf_fail(e, m,
					     "unknown key (a redirect has from, to and status)");
		}
		if (!from || !to)
			return rh_conf_fail(e, g, "entry %d needs both from and to", i + 1);
		if (config_setting_type(from) != CONFIG_TYPE_STRING)
			return rh_conf_fail(e, from, "expected a string");
		if (config_setting_type(to) != CONFIG_TYPE_STRING)
			return rh_conf_fail(e, to, "expected a string");
		if (st && !rh_conf_int(e, st, &status))
			return false;
		if (status < 0 || status > 999)
			return rh_conf_fail(e, st, "%lld is not 301, 302, 307 or 308", status);
		if (!rh_redirect_compile(&sc->redirects[i], config_setting_get_string(from),
					 config_setting_get_string(to), status, msg, sizeof msg)) {
			/* the message names from, to or the status */
			const config_setting_t *at = !strncmp(msg, "from", 4) ? from
						     : !strncmp(msg, "to", 2) ? to
						     : st ? st : g;
			return rh_conf_fail(e, at, "%s", msg);
		}
		sc->n_redirects++;
	}
	return true;
}

/* The table's defaults, but no document_root: a site in `sites` names its
 * own, the default site gets the server-wide loader's. */
static bool set_defaults(struct rh_site_conf *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->name = "";
	for (size_t i = 0; i < rh_conf_n_keys; i++) {
		const struct rh_conf_key *k = &rh_conf_keys[i];
		if (rh_conf_key_in_site(k) && k->config_off == RH_CONF_NONE &&
		    !rh_conf_set_default(k, (char *)sc + k->site_off))
			return false;
	}
	sc->index = calloc(1, sizeof *sc->index);
	if (!sc->index)
		return false;
	sc->index[0] = strdup("index.html");
	sc->n_index = sc->index[0] != NULL;
	return sc->n_index == 1;
}

static void site_free(struct rh_site_conf *sc)
{
	rh_conf_free_strings(sc->server_name, sc->n_server_name);
	free(sc->document_root);
	rh_conf_free_strings(sc->index, sc->n_index);
	free(sc->charset);
	rh_conf_free_strings(sc->tls_certificate.path, sc->tls_certificate.n);
	rh_conf_free_strings(sc->tls_key.path, sc->tls_key.n);
	free(sc->hsts);
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

/* One key of a site, or of the top level (TOP): there the keys of the
 * default site and the server-wide keys kept in SC; the server-wide
 * loader has read, and checked the names of, the others. */
static bool parse_site_key(const struct rh_conf_err *e, const config_setting_t *s, bool top,
			   struct rh_site_conf *site, struct rh_sites_conf *sc)
{
	const struct rh_conf_key *k = rh_conf_key_find(config_setting_name(s));

	if (!k)
		return rh_conf_fail(e, s, "unknown key");
	if (top && k->sites_off != RH_CONF_NONE)
		return k->parse(e, s, k, (char *)sc + k->sites_off);
	if (top && (k->config_off != RH_CONF_NONE || !rh_conf_key_in_site(k)))
		return true;
	if (!rh_conf_key_in_site(k))
		return rh_conf_fail(e, s, "is server-wide: set it at the top level, not in a site");
	if (k->site_off == offsetof(struct rh_site_conf, document_root))
		site->root_line = config_setting_source_line(s);
	return k->parse(e, s, k, (char *)site + k->site_off);
}

bool rh_site_parse_status_allow(const struct rh_conf_err *e, const config_setting_t *s,
				const struct rh_conf_key *k, void *dst)
{
	struct rh_sites_conf *sc = (void *)((char *)dst - k->sites_off);
	int n;
	char msg[300];

	if (!rh_conf_strings_of(e, s, false, &n))
		return false;
	free(sc->status_allow);
	sc->n_status_allow = 0;
	sc->status_allow = calloc(n ? n : 1, sizeof *sc->status_allow);
	if (!sc->status_allow)
		return oom(e, s);
	for (int i = 0; i < n; i++) {
		if (!rh_cidr_parse(&sc->status_allow[i], rh_conf_string_at(s, i), msg, sizeof msg))
			return rh_conf_fail(e, s, "%s", msg);
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
		return rh_conf_fail(e, g, "a site needs a server_name");
	}
	if (!check_tls_pairs(e, g, site)) {
		site_free(site);
		return false;
	}
	if (site->tls_certificate.n)
		site->tls_id = tls_id_of(site);
	if (!top && !site->document_root) {
		site_free(site);
		return rh_conf_fail(e, g, "a site needs a document_root");
	}
	if (site->n_server_name)
		site->name = site->server_name[0];
	if (site->max_header_lines > sc->max_header_lines)
		sc->max_header_lines = site->max_header_lines;
	sc->n_site++;
	return true;
}

/* The error for a name that two sites share (rh_vhost_new found it): at
 * the second one's server_name, with the name as written there. */
static void shared_name(const struct rh_conf_err *e, const config_setting_t *root,
			const config_setting_t *sites, const struct rh_sites_conf *sc,
			const struct rh_vhost_dup *dup)
{
	const config_setting_t *g = dup->site ? config_setting_get_elem(sites, dup->site - 1) : root;
	const config_setting_t *s = config_setting_get_member(g, "server_name");
	const char *text = rh_conf_string_at(s, dup->name);

	if (sc->site[dup->first].line)
		rh_conf_fail(e, s, "\"%s\" is already a name of the site at line %u", text,
			     sc->site[dup->first].line);
	else
		rh_conf_fail(e, s, "\"%s\" is already a name of the default site", text);
}

struct rh_sites_conf *rh_sites_conf_parse(const struct config_setting_t *root,
					  const char *default_root, const struct rh_conf_err *err)
{
	struct rh_sites_conf *sc = calloc(1, sizeof *sc);
	const config_setting_t *sites = config_setting_get_member(root, "sites");
	const config_setting_t *s;
	struct rh_vhost_dup dup;
	char msg[200];
	int n = 0;

	if (!sc) {
		rh_conf_fail(err, NULL, "out of memory");
		return NULL;
	}
	if (sites && !rh_conf_groups_of(err, sites,
					"( { server_name = [ \"example.org\" ]; "
					"document_root = \"/srv/example\"; } )",
					&n))
		goto fail;
	sc->status_allow = calloc(2, sizeof *sc->status_allow);
	sc->site = calloc(n + 1, sizeof *sc->site);
	if (!rh_conf_set_default(rh_conf_key_find("status_path"), &sc->status_path) ||
	    !sc->status_allow || !sc->site) {
		rh_conf_fail(err, NULL, "out of memory");
		goto fail;
	}
	rh_cidr_parse(&sc->status_allow[0], "127.0.0.1", msg, sizeof msg);
	rh_cidr_parse(&sc->status_allow[1], "::1", msg, sizeof msg);
	sc->n_status_allow = 2;
	if (!add_site(err, root, true, sc))
		goto fail;
	sc->site[0].document_root = strdup(default_root ? default_root : "");
	if (!sc->site[0].document_root) {
		rh_conf_fail(err, NULL, "out of memory");
		goto fail;
	}
	if ((s = config_setting_get_member(root, "document_root")))
		sc->site[0].root_line = config_setting_source_line(s);
	for (int i = 0; i < n; i++)
		if (!add_site(err, config_setting_get_elem(sites, i), false, sc))
			goto fail;
	/* a site without a pair of its own shows the default site's */
	for (size_t i = 1; i < sc->n_site; i++)
		if (!sc->site[i].tls_id)
			sc->site[i].tls_id = sc->site[0].tls_id;
	sc->vhost = rh_vhost_new(sc->site, sc->n_site, &dup);
	if (!sc->vhost) {
		if (dup.site == SIZE_MAX)
			rh_conf_fail(err, NULL, "out of memory");
		else
			shared_name(err, root, sites, sc, &dup);
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
