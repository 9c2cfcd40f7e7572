#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_read.h"
#include "http_chars.h"
#include "http_cond.h"
#include "listen.h"
#include "log.h"
#include "site_conf.h"
#include "tls_context.h"

#define NONE RH_CONF_NONE
#define IN_CONFIG(field) .config_off = offsetof(struct rh_config, field), .site_off = NONE, \
			 .sites_off = NONE
#define IN_SITE(field) .config_off = NONE, .site_off = offsetof(struct rh_site_conf, field), \
		       .sites_off = NONE
#define IN_SITES(field) .config_off = NONE, .site_off = NONE, \
			.sites_off = offsetof(struct rh_sites_conf, field)
/* parsers that fill several fields of a site get the whole site */
#define WHOLE_SITE .config_off = NONE, .site_off = 0, .sites_off = NONE

static bool is_power_of_two(unsigned v)
{
	return v && !(v & (v - 1));
}

static rh_conf_parse_fn parse_ring_entries, parse_buffer_count, parse_listen, parse_root,
	parse_access_log, parse_log_level, parse_types, parse_tls_protocols, parse_tls_ciphers,
	parse_ktls;

/* Every key of the file: the loaders (here for the server, site_conf.c
 * for sites), -t, the restart check of a reload and ringhttpd.conf(5)
 * (which tests/unit/test_config.c compares with it) come from it. */
const struct rh_conf_key rh_conf_keys[] = {
	/* Workers */
	{ "cpu_limit", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(cpu_limit), .max = 4096,
	  .doc_type = "integer" },
	{ "share_ring_backend", RH_CONF_BOOL, rh_conf_bool, IN_CONFIG(share_ring_backend),
	  .def = true, .doc_type = "boolean" },
	{ "enable_sq_poll", RH_CONF_BOOL, rh_conf_bool, IN_CONFIG(enable_sq_poll),
	  .doc_type = "boolean" },
	{ "register_buffers", RH_CONF_BOOL, rh_conf_bool, IN_CONFIG(register_buffers), .def = true,
	  .doc_type = "boolean" },
	{ "ring_entries", RH_CONF_UINT, parse_ring_entries, IN_CONFIG(ring_entries), .min = 64,
	  .max = 32768, .def = 4096, .doc_type = "integer" },
	{ "buffer_size", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(buffer_size), .min = 4096,
	  .max = 1 << 20, .def = 16384, .doc_type = "integer" },
	{ "buffer_count", RH_CONF_UINT, parse_buffer_count, IN_CONFIG(buffer_count),
	  .max = 65536, .doc_type = "integer" },
	{ "file_cache_size", RH_CONF_UINT64, rh_conf_uint64, IN_CONFIG(file_cache_size),
	  .max = 1LL << 40, .def = 64 << 20, .doc_type = "integer bytes" },
	/* above 32 KiB sendfile costs less (README.md) */
	{ "file_cache_max_file", RH_CONF_UINT64, rh_conf_uint64, IN_CONFIG(file_cache_max_file),
	  .max = 1LL << 40, .def = 32 << 10, .doc_type = "integer bytes" },
	{ "splice_threshold", RH_CONF_UINT64, rh_conf_uint64, IN_CONFIG(splice_threshold),
	  .max = INT32_MAX, .reload = true, .doc_type = "integer bytes" },
	{ "document_root", RH_CONF_STRING, parse_root,
	  .config_off = offsetof(struct rh_config, document_root),
	  .site_off = offsetof(struct rh_site_conf, document_root), .sites_off = NONE,
	  .def_str = "/var/www/html", .reload = true, .doc_type = "string" },
	{ "index", RH_CONF_STRINGS, rh_site_parse_index, IN_SITE(index),
	  .count_off = offsetof(struct rh_site_conf, n_index) - offsetof(struct rh_site_conf, index),
	  .reload = true, .doc_type = "list of strings",
	  .doc_default = "[ \\(dqindex.html\\(dq ]" },
	{ "types", RH_CONF_OTHER, parse_types, IN_CONFIG(types), .reload = true,
	  .doc_type = "group", .doc_default = "{ }" },
	/* Sites */
	{ "sites", RH_CONF_OTHER, NULL, .config_off = NONE, .site_off = NONE, .sites_off = NONE,
	  .reload = true, .doc_type = "list of groups", .doc_default = "( )" },
	{ "server_name", RH_CONF_OTHER, rh_site_parse_server_name, WHOLE_SITE, .reload = true,
	  .doc_type = "string or list of strings", .doc_default = "[ ]" },
	{ "charset", RH_CONF_STRING, rh_site_parse_charset, IN_SITE(charset), .def_str = "",
	  .reload = true, .doc_type = "string" },
	{ "precompressed", RH_CONF_OTHER, rh_site_parse_precompressed, WHOLE_SITE, .reload = true,
	  .doc_type = "list of strings", .doc_default = "[ ]" },
	{ "dotfiles", RH_CONF_OTHER, rh_site_parse_dotfiles, IN_SITE(dotfiles), .reload = true,
	  .doc_type = "string", .doc_default = "\\(dqdeny\\(dq" },
	{ "directory_listing", RH_CONF_BOOL, rh_conf_bool, IN_SITE(directory_listing),
	  .reload = true, .doc_type = "boolean" },
	{ "error_pages", RH_CONF_OTHER, rh_site_parse_error_pages, WHOLE_SITE, .reload = true,
	  .doc_type = "list of groups", .doc_default = "( )" },
	{ "fallback", RH_CONF_STRING, rh_site_parse_path, IN_SITE(fallback), .def_str = "",
	  .reload = true, .doc_type = "string" },
	{ "headers", RH_CONF_OTHER, rh_site_parse_headers, WHOLE_SITE, .reload = true,
	  .doc_type = "list of groups", .doc_default = "( )" },
	{ "redirects", RH_CONF_OTHER, rh_site_parse_redirects, WHOLE_SITE, .reload = true,
	  .doc_type = "list of groups", .doc_default = "( )" },
	{ "listing_max_entries", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(listing_max_entries),
	  .min = 1, .max = 1000000, .def = 10000, .reload = true, .doc_type = "integer" },
	/* Status endpoint */
	{ "status_path", RH_CONF_STRING, rh_site_parse_path, IN_SITES(status_path), .def_str = "",
	  .reload = true, .doc_type = "string" },
	{ "status_allow", RH_CONF_OTHER, rh_site_parse_status_allow, IN_SITES(status_allow),
	  .reload = true, .doc_type = "list of strings",
	  .doc_default = "[ \\(dq127.0.0.1\\(dq, \\(dq::1\\(dq ]" },
	/* Network */
	{ "listen", RH_CONF_STRINGS, parse_listen, IN_CONFIG(listen),
	  .count_off = offsetof(struct rh_config, n_listen) - offsetof(struct rh_config, listen),
	  .doc_type = "list of strings",
	  .doc_default = "[ \\(dq0.0.0.0:80\\(dq, \\(dq[::]:80\\(dq ]" },
	{ "tls_listen", RH_CONF_STRINGS, parse_listen, IN_CONFIG(tls_listen),
	  .count_off = offsetof(struct rh_config, n_tls_listen) -
		       offsetof(struct rh_config, tls_listen),
	  .doc_type = "list of strings", .doc_default = "[ ]" },
	{ "user", RH_CONF_STRING, rh_conf_string, IN_CONFIG(user), .def_str = "www-data",
	  .doc_type = "string" },
	{ "keepalive_timeout", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(keepalive_timeout), .min = 1,
	  .max = 86400, .def = 75, .reload = true, .doc_type = "integer seconds" },
	{ "header_timeout", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(header_timeout), .min = 1,
	  .max = 86400, .def = 10, .reload = true, .doc_type = "integer seconds" },
	{ "send_timeout", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(send_timeout), .min = 1,
	  .max = 86400, .def = 60, .reload = true, .doc_type = "integer seconds" },
	{ "max_ranges", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(max_ranges), .min = 1,
	  .max = RH_MAX_RANGES_CAP, .def = 16, .reload = true, .doc_type = "integer" },
	{ "max_connections", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(max_connections),
	  .max = 1 << 24, .doc_type = "integer" },
	{ "max_connections_per_ip", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(max_connections_per_ip),
	  .max = 1 << 24, .doc_type = "integer" },
	{ "max_connections_per_ip_v6_prefix", RH_CONF_UINT, rh_conf_uint,
	  IN_CONFIG(max_connections_per_ip_v6_prefix), .min = 1, .max = 128, .def = 64,
	  .doc_type = "integer" },
	/* TLS (per site: tls_certificate, tls_key, https_redirect, hsts) */
	{ "tls_certificate", RH_CONF_OTHER, rh_site_parse_tls_files, IN_SITE(tls_certificate),
	  .reload = true, .doc_type = "string or list of strings", .doc_default = "[ ]" },
	{ "tls_key", RH_CONF_OTHER, rh_site_parse_tls_files, IN_SITE(tls_key), .reload = true,
	  .doc_type = "string or list of strings", .doc_default = "[ ]" },
	{ "https_redirect", RH_CONF_BOOL, rh_conf_bool, IN_SITE(https_redirect), .reload = true,
	  .doc_type = "boolean" },
	{ "hsts", RH_CONF_STRING, rh_site_parse_hsts, IN_SITE(hsts), .def_str = "",
	  .reload = true, .doc_type = "string" },
	{ "tls_protocols", RH_CONF_OTHER, parse_tls_protocols, IN_CONFIG(tls_protocols),
	  .reload = true, .doc_type = "list of strings",
	  .doc_default = "[ \\(dqTLSv1.2\\(dq, \\(dqTLSv1.3\\(dq ]" },
	{ "tls_ciphers", RH_CONF_STRING, parse_tls_ciphers, IN_CONFIG(tls_ciphers),
	  .def_str = RH_TLS_DEFAULT_CIPHERS, .reload = true, .doc_type = "string",
	  .doc_default = "ECDHE with AES-GCM or ChaCha20-Poly1305, below" },
	{ "tls_ciphersuites", RH_CONF_STRING, parse_tls_ciphers, IN_CONFIG(tls_ciphersuites),
	  .def_str = RH_TLS_DEFAULT_CIPHERSUITES, .reload = true, .doc_type = "string",
	  .doc_default = "AES-GCM and ChaCha20-Poly1305, below" },
	{ "tls_session_tickets", RH_CONF_BOOL, rh_conf_bool, IN_CONFIG(tls_session_tickets),
	  .def = true, .reload = true, .doc_type = "boolean" },
	{ "ktls", RH_CONF_OTHER, parse_ktls, IN_CONFIG(ktls), .reload = true,
	  .doc_type = "string", .doc_default = "\\(dqauto\\(dq" },
	/* HTTP/2 */
	{ "http2", RH_CONF_BOOL, rh_conf_bool, IN_CONFIG(http2), .def = true, .reload = true,
	  .doc_type = "boolean" },
	{ "http2_max_streams", RH_CONF_UINT, rh_conf_uint, IN_CONFIG(http2_max_streams), .min = 1,
	  .max = 1000, .def = 128, .reload = true, .doc_type = "integer" },
	/* Logging */
	{ "access_log", RH_CONF_STRING, parse_access_log, IN_CONFIG(access_log), .def_str = "off",
	  .reload = true, .doc_type = "string" },
	{ "log_level", RH_CONF_OTHER, parse_log_level, IN_CONFIG(log_level), .reload = true,
	  .doc_type = "string", .doc_default = "\\(dqinfo\\(dq" },
};
const size_t rh_conf_n_keys = sizeof rh_conf_keys / sizeof *rh_conf_keys;

static bool parse_ring_entries(const struct rh_conf_err *e, const config_setting_t *s,
			       const struct rh_conf_key *k, void *dst)
{
	if (!rh_conf_uint(e, s, k, dst))
		return false;
	return is_power_of_two(*(unsigned *)dst) ||
	       rh_conf_fail(e, s, "%u is not a power of two", *(unsigned *)dst);
}

static bool parse_buffer_count(const struct rh_conf_err *e, const config_setting_t *s,
			       const struct rh_conf_key *k, void *dst)
{
	unsigned *v = dst;

	if (!rh_conf_uint(e, s, k, dst))
		return false;
	return *v == 0 || *v >= 4 ||
	       rh_conf_fail(e, s, "%u is out of range (0 for the default, or 4 to 65536)", *v);
}

static bool parse_listen(const struct rh_conf_err *e, const config_setting_t *s,
			 const struct rh_conf_key *k, void *dst)
{
	char **v;
	size_t n;

	if (!rh_conf_strings(e, s, k, dst))
		return false;
	v = *(char ***)dst;
	n = *(size_t *)((char *)dst + k->count_off);
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		if (rh_listen_parse_addr(v[i], &ss) < 0)
			return rh_conf_fail(e, s, "\"%s\" is not ADDR:PORT (IPv6: [ADDR]:PORT)", v[i]);
	}
	return true;
}

/* A document root: absolute, at the top level as in a site. */
static bool parse_root(const struct rh_conf_err *e, const config_setting_t *s,
		       const struct rh_conf_key *k, void *dst)
{
	if (!rh_conf_string(e, s, k, dst))
		return false;
	return **(char **)dst == '/' ||
	       rh_conf_fail(e, s, "\"%s\" is not an absolute path", *(char **)dst);
}

static bool parse_access_log(const struct rh_conf_err *e, const config_setting_t *s,
			     const struct rh_conf_key *k, void *dst)
{
	const char *v;

	if (!rh_conf_string(e, s, k, dst))
		return false;
	v = *(char **)dst;
	return !strcmp(v, "off") || !strcmp(v, "journal") || v[0] == '/' ||
	       rh_conf_fail(e, s, "expected \"off\", \"journal\" or an absolute file path");
}

static bool parse_log_level(const struct rh_conf_err *e, const config_setting_t *s,
			    const struct rh_conf_key *k, void *dst)
{
	int *level = dst;

	(void)k;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return rh_conf_fail(e, s, "expected a string");
	*level = rh_log_level_parse(config_setting_get_string(s));
	return *level >= 0 ||
	       rh_conf_fail(e, s, "\"%s\" is not one of error, warning, notice, info, debug",
			    config_setting_get_string(s));
}

static bool parse_types(const struct rh_conf_err *e, const config_setting_t *s,
			const struct rh_conf_key *k, void *dst)
{
	struct rh_config *cfg = (void *)((char *)dst - k->config_off);
	int count;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return rh_conf_fail(e, s, "expected a group, like { md = \"text/markdown\"; }");
	count = config_setting_length(s);
	cfg->types = calloc(count ? count : 1, sizeof *cfg->types);
	if (!cfg->types)
		return rh_conf_fail(e, s, "out of memory");
	for (int i = 0; i < count; i++) {
		const config_setting_t *t = config_setting_get_elem(s, i);
		const char *type;

		if (config_setting_type(t) != CONFIG_TYPE_STRING)
			return rh_conf_fail(e, t, "expected a media type string");
		type = config_setting_get_string(t);
		/* it is sent in Content-Type as it is */
		if (!*type || rh_has_ctl(type))
			return rh_conf_fail(e, t, "\"%s\" is not a media type", type);
		cfg->types[i].ext = strdup(config_setting_name(t));
		cfg->types[i].type = strdup(type);
		cfg->n_types++;
		if (!cfg->types[i].ext || !cfg->types[i].type)
			return rh_conf_fail(e, t, "out of memory");
	}
	return true;
}

static bool parse_tls_protocols(const struct rh_conf_err *e, const config_setting_t *s,
				const struct rh_conf_key *k, void *dst)
{
	unsigned *set = dst;
	int n;

	(void)k;
	if (!rh_conf_strings_of(e, s, false, &n))
		return false;
	*set = 0;
	for (int i = 0; i < n; i++) {
		const char *v = rh_conf_string_at(s, i);

		if (!strcmp(v, "TLSv1.2"))
			*set |= RH_TLS_V1_2;
		else if (!strcmp(v, "TLSv1.3"))
			*set |= RH_TLS_V1_3;
		else
			return rh_conf_fail(e, s, "\"%s\" is not \"TLSv1.2\" or \"TLSv1.3\" (older "
					    "versions are not offered)", v);
	}
	return *set || rh_conf_fail(e, s, "needs at least one of \"TLSv1.2\" and \"TLSv1.3\"");
}

static bool parse_tls_ciphers(const struct rh_conf_err *e, const config_setting_t *s,
			      const struct rh_conf_key *k, void *dst)
{
	bool v13 = !strcmp(k->name, "tls_ciphersuites");
	char why[200];

	if (!rh_conf_string(e, s, k, dst))
		return false;
	return rh_tls_check_ciphers(*(char **)dst, v13, why, sizeof why) ||
	       rh_conf_fail(e, s, "%s", why);
}

static bool parse_ktls(const struct rh_conf_err *e, const config_setting_t *s,
		       const struct rh_conf_key *k, void *dst)
{
	const char *v;

	(void)k;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return rh_conf_fail(e, s, "expected a string");
	v = config_setting_get_string(s);
	if (strcmp(v, "auto") && strcmp(v, "off"))
		return rh_conf_fail(e, s, "\"%s\" is not \"auto\" or \"off\"", v);
	*(bool *)dst = !strcmp(v, "auto");
	return true;
}

/* One top-level key of the file: a server-wide one is read into CFG, one
 * of the default site is left to rh_sites_conf_parse. */
static bool load_setting(const struct rh_conf_err *e, const config_setting_t *s,
			 struct rh_config *cfg)
{
	const struct rh_conf_key *k = rh_conf_key_find(config_setting_name(s));

	if (!k)
		return rh_conf_fail(e, s, "unknown key");
	if (k->config_off == NONE)
		return true;
	return k->parse(e, s, k, (char *)cfg + k->config_off);
}

static struct rh_config *config_defaults(void)
{
	static const char *const listen[] = { "0.0.0.0:80", "[::]:80" };
	struct rh_config *cfg = calloc(1, sizeof *cfg);

	if (!cfg)
		return NULL;
	for (size_t i = 0; i < rh_conf_n_keys; i++) {
		const struct rh_conf_key *k = &rh_conf_keys[i];
		if (k->config_off != NONE && !rh_conf_set_default(k, (char *)cfg + k->config_off)) {
			rh_config_free(cfg);
			return NULL;
		}
	}
	cfg->listen = calloc(2, sizeof(char *));
	if (!cfg->listen) {
		rh_config_free(cfg);
		return NULL;
	}
	cfg->n_listen = 2;
	cfg->listen[0] = strdup(listen[0]);
	cfg->listen[1] = strdup(listen[1]);
	cfg->log_level = RH_LOG_INFO;
	cfg->tls_protocols = RH_TLS_V1_2 | RH_TLS_V1_3;
	cfg->ktls = true;
	return cfg;
}

/* PATH, made absolute against the working directory. */
static char *absolute(const char *path)
{
	char cwd[4096], *abs;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof cwd))
		return NULL;
	if (asprintf(&abs, "%s/%s", strcmp(cwd, "/") ? cwd : "", path) < 0)
		return NULL;
	return abs;
}

static bool apply_overrides(const struct rh_conf_err *e, struct rh_config *cfg,
			    const struct rh_config_overrides *ov)
{
	if (ov->document_root) {
		free(cfg->document_root);
		cfg->document_root = absolute(ov->document_root);
		if (!cfg->document_root) {
			snprintf(e->buf, e->len, "--root %s: %s", ov->document_root, strerror(errno));
			return false;
		}
		cfg->origin[RH_KEY_DOCUMENT_ROOT].option = "--root";
	}
	if (ov->user) {
		free(cfg->user);
		cfg->user = strdup(ov->user);
		cfg->origin[RH_KEY_USER].option = "--user";
	}
	if (ov->n_listen) {
		char **v = calloc(ov->n_listen, sizeof *v);
		for (size_t i = 0; i < ov->n_listen; i++) {
			struct sockaddr_storage ss;
			if (rh_listen_parse_addr(ov->listen[i], &ss) < 0) {
				rh_conf_free_strings(v, i);
				snprintf(e->buf, e->len,
					 "--listen %s: not ADDR:PORT (IPv6: [ADDR]:PORT)", ov->listen[i]);
				return false;
			}
			v[i] = strdup(ov->listen[i]);
		}
		rh_conf_free_strings(cfg->listen, cfg->n_listen);
		cfg->listen = v;
		cfg->n_listen = ov->n_listen;
		cfg->origin[RH_KEY_LISTEN].option = "--listen";
	}
	if (ov->cpu_limit >= 0)
		cfg->cpu_limit = ov->cpu_limit;
	return true;
}

static const char *const tracked[RH_KEY_COUNT] = {
	[RH_KEY_DOCUMENT_ROOT] = "document_root",   [RH_KEY_USER] = "user",
	[RH_KEY_LISTEN] = "listen",		     [RH_KEY_ACCESS_LOG] = "access_log",
	[RH_KEY_ENABLE_SQ_POLL] = "enable_sq_poll", [RH_KEY_REGISTER_BUFFERS] = "register_buffers",
};

static void note_origin(struct rh_config *cfg, const config_setting_t *s)
{
	for (int k = 0; k < RH_KEY_COUNT; k++)
		if (!strcmp(config_setting_name(s), tracked[k]))
			cfg->origin[k].line = config_setting_source_line(s);
}

void rh_config_where(const struct rh_config *cfg, enum rh_config_key key, char *buf,
		     size_t len)
{
	const struct rh_config_origin *o = &cfg->origin[key];

	if (o->option)
		snprintf(buf, len, "%s", o->option);
	else if (o->line)
		snprintf(buf, len, "%s:%u: %s", cfg->path, o->line, tracked[key]);
	else
		snprintf(buf, len, "%s: %s", cfg->path, tracked[key]);
}

/* Checks across keys and of the file system, once every key is known:
 * what start-up would find wrong, found by -t and a reload too. */
static bool check_keys(const struct rh_conf_err *e, const config_t *lc, const struct rh_config *cfg)
{
	const config_setting_t *s;
	char where[256];
	struct stat st;

	if (cfg->n_listen + cfg->n_tls_listen == 0)
		return rh_conf_fail(e, config_lookup(lc, "listen"),
				    "needs at least one address (here or in tls_listen)");
	if (cfg->file_cache_size && cfg->file_cache_max_file > cfg->file_cache_size) {
		s = config_lookup(lc, "file_cache_max_file");
		return rh_conf_fail(e, s ? s : config_lookup(lc, "file_cache_size"),
				    "file_cache_max_file (%llu) exceeds file_cache_size (%llu)",
				    (unsigned long long)cfg->file_cache_max_file,
				    (unsigned long long)cfg->file_cache_size);
	}
	/* start-up opens it for appending, which a directory refuses */
	if (cfg->access_log[0] == '/' && stat(cfg->access_log, &st) == 0 && S_ISDIR(st.st_mode)) {
		rh_config_where(cfg, RH_KEY_ACCESS_LOG, where, sizeof where);
		snprintf(e->buf, e->len, "%s: %s: %s", where, cfg->access_log, strerror(EISDIR));
		return false;
	}
	rh_config_where(cfg, RH_KEY_DOCUMENT_ROOT, where, sizeof where);
	if (stat(cfg->document_root, &st) < 0)
		snprintf(e->buf, e->len, "%s: %s: %s", where, cfg->document_root, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(e->buf, e->len, "%s: %s: not a directory", where, cfg->document_root);
	else
		return true;
	return false;
}

/* An error is one line: the control bytes a value may bring into it (a
 * newline in a string) become \xHH, so that it cannot pose as another
 * line of the log. */
static void one_line(char *err, size_t errlen)
{
	char copy[1024];
	size_t n = 0;

	for (const char *p = err; *p && n + 5 < sizeof copy; p++) {
		unsigned char c = *p;
		if (c < 0x20 || c == 0x7f)
			n += snprintf(copy + n, sizeof copy - n, "\\x%02X", c);
		else
			copy[n++] = c;
	}
	copy[n] = '\0';
	snprintf(err, errlen, "%s", copy);
}

struct rh_config *rh_config_load(const char *path, const struct rh_config_overrides *ov,
				 char *err, size_t errlen)
{
	struct rh_conf_err e = { path, err, errlen };
	struct rh_config *cfg = config_defaults();
	config_setting_t *root;
	config_t lc;
	bool ok = true;

	if (!cfg) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	config_init(&lc);
	if (!config_read_file(&lc, path)) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&lc),
				 config_error_text(&lc));
		ok = false;
	}
	cfg->path = strdup(path);
	if (!cfg->path) {
		snprintf(err, errlen, "%s: out of memory", path);
		ok = false;
	}
	root = config_root_setting(&lc);
	for (int i = 0; ok && i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, i);

		ok = load_setting(&e, s, cfg);
		note_origin(cfg, s);
	}
	if (ok && ov)
		ok = apply_overrides(&e, cfg, ov);
	if (ok)
		ok = check_keys(&e, &lc, cfg);
	if (ok) {
		cfg->sites = rh_sites_conf_parse(root, cfg->document_root, &e);
		ok = cfg->sites && rh_sites_conf_check_roots(cfg->sites, &e);
	}
	config_destroy(&lc);
	if (!ok) {
		rh_config_free(cfg);
		one_line(err, errlen);
		return NULL;
	}
	return cfg;
}

void rh_config_free(struct rh_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->document_root);
	rh_conf_free_strings(cfg->listen, cfg->n_listen);
	rh_conf_free_strings(cfg->tls_listen, cfg->n_tls_listen);
	free(cfg->tls_ciphers);
	free(cfg->tls_ciphersuites);
	free(cfg->user);
	free(cfg->access_log);
	for (size_t i = 0; i < cfg->n_types; i++) {
		free(cfg->types[i].ext);
		free(cfg->types[i].type);
	}
	free(cfg->types);
	rh_sites_conf_free(cfg->sites);
	free(cfg);
}

size_t rh_config_restart_keys(const struct rh_config *old, const struct rh_config *new, char *buf,
			      size_t len)
{
	size_t n = 0, used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rh_conf_n_keys; i++) {
		const struct rh_conf_key *k = &rh_conf_keys[i];

		if (k->reload || k->config_off == NONE ||
		    rh_conf_same(k, (const char *)old + k->config_off, (const char *)new + k->config_off))
			continue;
		if (used < len)
			used += snprintf(buf + used, len - used, "%s%s", n ? ", " : "", k->name);
		n++;
	}
	return n;
}
