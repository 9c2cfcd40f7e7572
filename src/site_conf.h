/* The sites of the configuration, compiled at load into immutable structs:
 * everything the request path needs to pick a site and apply its keys
 * without allocating per request.
 *
 * The top level of the file describes the default site (site[0]); every
 * group of `sites = ( { ... }, ... )` adds one. A site in `sites` stands
 * alone: a per-site key it does not set has its built-in default, not the
 * top level's value (the top level is the default site, not a template).
 * Only server-wide keys (listen, the ring and buffer keys, timeouts,
 * types, access_log, log_level, status_path, status_allow) are shared,
 * and they cannot stand inside a site. */
#ifndef RH_SITE_CONF_H
#define RH_SITE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf_read.h"
#include "metrics.h"
#include "negotiate.h"
#include "rules.h"

enum rh_dotfiles { RH_DOTFILES_DENY, RH_DOTFILES_ALLOW };

struct rh_error_page {
	unsigned status; /* 400 to 599 */
	char *page;      /* a path in the site, starting with '/' */
};

/* tls_certificate or tls_key: one path, or a list of them (pairs by
 * position: an ECDSA and an RSA one), and where they were set. */
struct rh_tls_files {
	char **path;
	size_t n;
	bool list;
	unsigned line; /* 0: not set */
};

/* The most `set` lines a site's `headers` may hold in all: a response
 * carries them in its head, which has a bounded size. */
#define RH_SITE_HEADER_LINES_MAX 64

struct rh_site_conf {
	/* server_name, lower case, without a trailing dot: "example.org" or
	 * "*.example.org". Empty only for the default site. */
	char **server_name;
	size_t n_server_name;
	const char *name;    /* server_name[0], or "" (for logs) */
	char *document_root; /* absolute */
	char **index;        /* single path segments, default { "index.html" } */
	size_t n_index;
	char *charset;       /* "" (default): none appended */
	enum rh_coding precompressed[RH_CODING_COUNT - 1]; /* configured order */
	size_t n_precompressed;
	enum rh_dotfiles dotfiles;  /* default deny */
	bool directory_listing;     /* default false */
	struct rh_error_page *error_pages; /* one per status */
	size_t n_error_pages;
	char *fallback;             /* "" (default) or a path starting with '/' */
	struct rh_header_rule *headers;
	size_t n_headers;
	size_t max_header_lines;    /* enough OUT for rh_rules_headers */
	struct rh_redirect *redirects;
	size_t n_redirects;
	struct rh_tls_files tls_certificate, tls_key; /* none: the default site's */
	/* which certificate the site's TLS clients see: a hash of its files'
	 * paths, the same for sites that share them (and so their context);
	 * 0 when no site has one */
	uint64_t tls_id;
	bool https_redirect;
	char *hsts; /* "" (default): no Strict-Transport-Security */
	unsigned line;              /* the site's group in the file; 0: top level */
	unsigned root_line;         /* the line of its document_root, or 0 */
};

struct rh_vhost;
struct config_setting_t; /* libconfig.h */

struct rh_sites_conf {
	struct rh_site_conf *site; /* site[0] is the default site */
	size_t n_site;
	size_t max_header_lines;   /* the largest of the sites' */
	/* "" (default): no status endpoint. Compared with the normalized
	 * path before any site rule: "/.ringhttpd/metrics" is answered
	 * although it is a dotfile path, and on every site. */
	char *status_path;
	struct rh_cidr *status_allow; /* default 127.0.0.1 and ::1 */
	size_t n_status_allow;
	struct rh_vhost *vhost;    /* Host -> site, see vhost.h */
};

/* The parsers of the per-site keys and of status_path and status_allow,
 * for the table of keys (config.c). A WHOLE_SITE parser gets the struct
 * rh_site_conf, the others their field; rh_site_parse_path takes a path
 * in the site ("" or starting with '/'). */
rh_conf_parse_fn rh_site_parse_server_name, rh_site_parse_index, rh_site_parse_charset,
	rh_site_parse_precompressed, rh_site_parse_dotfiles, rh_site_parse_error_pages,
	rh_site_parse_path, rh_site_parse_headers, rh_site_parse_redirects,
	rh_site_parse_status_allow, rh_site_parse_tls_files, rh_site_parse_hsts;

/* Compiles the sites from the file's ROOT group. DEFAULT_ROOT is the
 * default site's document root as the server-wide loader settled it
 * (the file's top-level document_root, its default or --root). Keys the
 * server-wide loader reads are skipped at the top level; inside a site
 * they are refused as server-wide. Pure: no file system access. NULL with
 * one line in ERR on a bad key, a server name of two sites or when out of
 * memory. */
struct rh_sites_conf *rh_sites_conf_parse(const struct config_setting_t *root,
					  const char *default_root, const struct rh_conf_err *err);
/* The file-system checks of `ringhttpd -t` for the sites of `sites` (the
 * default site's root is the server-wide loader's): each document_root
 * exists, is a directory and is searchable. False with one line in ERR. */
bool rh_sites_conf_check_roots(const struct rh_sites_conf *sc, const struct rh_conf_err *err);
void rh_sites_conf_free(struct rh_sites_conf *sc);

/* The site for a request's Host (rh_vhost_select): never NULL. */
const struct rh_site_conf *rh_sites_select(const struct rh_sites_conf *sc, const char *host,
					   size_t len);

/* The `error_pages` page for STATUS, or NULL. */
const char *rh_site_error_page(const struct rh_site_conf *s, unsigned status);

#endif
