#include "config.h"

#include "http_cond.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "listen.h"
#include "log.h"
#include "site_conf.h"

struct loader {
	const char *path;
	char *err;
	size_t errlen;
};

static bool failf(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes "FILE:LINE: key: message" (the line of setting S) and returns false. */
static bool failf(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (s)
		snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", ld->path,
			 config_setting_source_line(s), config_setting_name(s), msg);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->path, msg);
	return false;
}

static bool get_bool(struct loader *ld, const config_setting_t *s, void *dst)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return failf(ld, s, "expected true or false");
	*(bool *)dst = config_setting_get_bool(s);
	return true;
}

static bool get_uint(struct loader *ld, const config_setting_t *s, long long min,
		     long long max, unsigned *dst)
{
	int t = config_setting_type(s);
	long long v;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return failf(ld, s, "expected an integer");
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return failf(ld, s, "%lld is out of range (%lld to %lld)", v, min, max);
	*dst = (unsigned)v;
	return true;
}

static bool get_uint64(struct loader *ld, const config_setting_t *s, long long max,
		       uint64_t *dst)
{
	int t = config_setting_type(s);
	long long v;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return failf(ld, s, "expected an integer (64-bit: 1234L)");
	v = config_setting_get_int64(s);
	if (v < 0 || v > max)
		return failf(ld, s, "%lld is out of range (0 to %lld)", v, max);
	*dst = (uint64_t)v;
	return true;
}

static bool get_string(struct loader *ld, const config_setting_t *s, char **dst)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return failf(ld, s, "expected a string");
	free(*dst);
	*dst = strdup(config_setting_get_string(s));
	return *dst != NULL || failf(ld, s, "out of memory");
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool get_string_list(struct loader *ld, const config_setting_t *s, char ***dst,
			    size_t *n)
{
	int t = config_setting_type(s);
	int count;
	char **v;

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return failf(ld, s, "expected a list of strings, like [ \"a\", \"b\" ]");
	count = config_setting_length(s);
	v = calloc(count ? count : 1, sizeof *v);
	if (!v)
		return failf(ld, s, "out of memory");
	for (int i = 0; i < count; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			free_strings(v, i);
			return failf(ld, s, "element %d is not a string", i + 1);
		}
		v[i] = strdup(config_setting_get_string(e));
	}
	free_strings(*dst, *n);
	*dst = v;
	*n = count;
	return true;
}

static bool load_types(struct loader *ld, const config_setting_t *s, struct rh_config *cfg)
{
	int count;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return failf(ld, s, "expected a group, like { md = \"text/markdown\"; }");
	count = config_setting_length(s);
	cfg->types = calloc(count ? count : 1, sizeof *cfg->types);
	if (!cfg->types)
		return failf(ld, s, "out of memory");
	for (int i = 0; i < count; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *type;

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return failf(ld, e, "expected a media type string");
		type = config_setting_get_string(e);
		if (!*type || strpbrk(type, "\r\n"))
			return failf(ld, e, "\"%s\" is not a media type", type);
		cfg->types[i].ext = strdup(config_setting_name(e));
		cfg->types[i].type = strdup(type);
		cfg->n_types++;
	}
	return true;
}

static bool is_power_of_two(unsigned v)
{
	return v && !(v & (v - 1));
}

/* One key of the file: checked for its type and range, stored in CFG. */
static bool load_setting(struct loader *ld, const config_setting_t *s, struct rh_config *cfg)
{
	const char *k = config_setting_name(s);
	unsigned u;

	if (!strcmp(k, "cpu_limit"))
		return get_uint(ld, s, 0, 4096, &cfg->cpu_limit);
	if (!strcmp(k, "share_ring_backend"))
		return get_bool(ld, s, &cfg->share_ring_backend);
	if (!strcmp(k, "enable_sq_poll"))
		return get_bool(ld, s, &cfg->enable_sq_poll);
	if (!strcmp(k, "register_buffers"))
		return get_bool(ld, s, &cfg->register_buffers);
	if (!strcmp(k, "ring_entries")) {
		if (!get_uint(ld, s, 64, 32768, &cfg->ring_entries))
			return false;
		return is_power_of_two(cfg->ring_entries) ||
		       failf(ld, s, "%u is not a power of two", cfg->ring_entries);
	}
	if (!strcmp(k, "buffer_size"))
		return get_uint(ld, s, 4096, 1 << 20, &cfg->buffer_size);
	if (!strcmp(k, "splice_threshold")) {
		if (!get_uint(ld, s, 0, INT32_MAX, &u))
			return false;
		cfg->splice_threshold = u;
		return true;
	}
	if (!strcmp(k, "document_root"))
		return get_string(ld, s, &cfg->document_root);
	if (!strcmp(k, "listen")) {
		if (!get_string_list(ld, s, &cfg->listen, &cfg->n_listen))
			return false;
		for (size_t i = 0; i < cfg->n_listen; i++) {
			struct sockaddr_storage ss;
			if (rh_listen_parse_addr(cfg->listen[i], &ss) < 0)
				return failf(ld, s, "\"%s\" is not ADDR:PORT (IPv6: [ADDR]:PORT)",
					     cfg->listen[i]);
		}
		return true;
	}
	if (!strcmp(k, "user"))
		return get_string(ld, s, &cfg->user);
	if (!strcmp(k, "index")) {
		if (!get_string_list(ld, s, &cfg->index, &cfg->n_index))
			return false;
		for (size_t i = 0; i < cfg->n_index; i++)
			if (!cfg->index[i][0] || strchr(cfg->index[i], '/'))
				return failf(ld, s, "\"%s\" is not a file name", cfg->index[i]);
		return true;
	}
	if (!strcmp(k, "keepalive_timeout"))
		return get_uint(ld, s, 1, 86400, &cfg->keepalive_timeout);
	if (!strcmp(k, "header_timeout"))
		return get_uint(ld, s, 1, 86400, &cfg->header_timeout);
	if (!strcmp(k, "send_timeout"))
		return get_uint(ld, s, 1, 86400, &cfg->send_timeout);
	if (!strcmp(k, "max_connections"))
		return get_uint(ld, s, 0, 1 << 24, &cfg->max_connections);
	if (!strcmp(k, "max_connections_per_ip"))
		return get_uint(ld, s, 0, 1 << 24, &cfg->max_connections_per_ip);
	if (!strcmp(k, "file_cache_size"))
		return get_uint64(ld, s, 1LL << 40, &cfg->file_cache_size);
	if (!strcmp(k, "file_cache_max_file"))
		return get_uint64(ld, s, 1LL << 40, &cfg->file_cache_max_file);
	if (!strcmp(k, "buffer_count")) {
		if (!get_uint(ld, s, 0, 65536, &cfg->buffer_count))
			return false;
		return cfg->buffer_count == 0 || cfg->buffer_count >= 4 ||
		       failf(ld, s, "%u is out of range (0 for the default, or 4 to 65536)",
			     cfg->buffer_count);
	}
	if (!strcmp(k, "max_ranges"))
		return get_uint(ld, s, 1, RH_MAX_RANGES_CAP, &cfg->max_ranges);
	if (!strcmp(k, "listing_max_entries"))
		return get_uint(ld, s, 1, 1000000, &cfg->listing_max_entries);
	if (!strcmp(k, "access_log")) {
		if (!get_string(ld, s, &cfg->access_log))
			return false;
		return !strcmp(cfg->access_log, "off") || !strcmp(cfg->access_log, "journal") ||
		       cfg->access_log[0] == '/' ||
		       failf(ld, s, "expected \"off\", \"journal\" or an absolute file path");
	}
	if (!strcmp(k, "log_level")) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return failf(ld, s, "expected a string");
		cfg->log_level = rh_log_level_parse(config_setting_get_string(s));
		return cfg->log_level >= 0 ||
		       failf(ld, s, "\"%s\" is not one of error, warning, notice, info, debug",
			     config_setting_get_string(s));
	}
	if (!strcmp(k, "types"))
		return load_types(ld, s, cfg);
	if (rh_site_conf_key(k))
		return true; /* rh_sites_conf_parse reads it */
	return failf(ld, s, "unknown key");
}

static struct rh_config *config_defaults(void)
{
	static const char *const listen[] = { "0.0.0.0:80", "[::]:80" };
	struct rh_config *cfg = calloc(1, sizeof *cfg);

	if (!cfg)
		return NULL;
	cfg->share_ring_backend = true;
	cfg->register_buffers = true;
	cfg->ring_entries = 4096;
	cfg->buffer_size = 16384;
	cfg->document_root = strdup("/var/www/html");
	cfg->listen = calloc(2, sizeof(char *));
	cfg->n_listen = 2;
	cfg->listen[0] = strdup(listen[0]);
	cfg->listen[1] = strdup(listen[1]);
	cfg->user = strdup("www-data");
	cfg->index = calloc(1, sizeof(char *));
	cfg->n_index = 1;
	cfg->index[0] = strdup("index.html");
	cfg->keepalive_timeout = 75;
	cfg->header_timeout = 10;
	cfg->send_timeout = 60;
	cfg->file_cache_size = 64 << 20;
	cfg->file_cache_max_file = 32 << 10; /* above it sendfile costs less (README.md) */
	cfg->max_ranges = 16;
	cfg->listing_max_entries = 10000;
	cfg->access_log = strdup("off");
	cfg->log_level = RH_LOG_INFO;
	return cfg;
}

static bool apply_overrides(struct loader *ld, struct rh_config *cfg,
			    const struct rh_config_overrides *ov)
{
	if (ov->document_root) {
		free(cfg->document_root);
		cfg->document_root = strdup(ov->document_root);
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
				free_strings(v, i);
				snprintf(ld->err, ld->errlen,
					 "--listen %s: not ADDR:PORT (IPv6: [ADDR]:PORT)", ov->listen[i]);
				return false;
			}
			v[i] = strdup(ov->listen[i]);
		}
		free_strings(cfg->listen, cfg->n_listen);
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

/* Checks across keys and of the file system, once every key is known. */
static bool check_keys(struct loader *ld, const config_t *lc, const struct rh_config *cfg)
{
	const config_setting_t *s;
	char where[256];
	struct stat st;

	if (cfg->n_listen == 0)
		return failf(ld, config_lookup(lc, "listen"), "needs at least one address");
	if (cfg->file_cache_size && cfg->file_cache_max_file > cfg->file_cache_size) {
		s = config_lookup(lc, "file_cache_max_file");
		return failf(ld, s ? s : config_lookup(lc, "file_cache_size"),
			     "file_cache_max_file (%llu) exceeds file_cache_size (%llu)",
			     (unsigned long long)cfg->file_cache_max_file,
			     (unsigned long long)cfg->file_cache_size);
	}
	rh_config_where(cfg, RH_KEY_DOCUMENT_ROOT, where, sizeof where);
	if (stat(cfg->document_root, &st) < 0)
		snprintf(ld->err, ld->errlen, "%s: %s: %s", where, cfg->document_root,
			 strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(ld->err, ld->errlen, "%s: %s: not a directory", where, cfg->document_root);
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
	struct loader ld = { .path = path, .err = err, .errlen = errlen };
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

		ok = load_setting(&ld, s, cfg);
		note_origin(cfg, s);
	}
	if (ok && ov)
		ok = apply_overrides(&ld, cfg, ov);
	if (ok)
		ok = check_keys(&ld, &lc, cfg);
	if (ok) {
		struct rh_conf_err ce = { path, err, errlen };
		cfg->sites = rh_sites_conf_parse(root, cfg->document_root, &ce);
		ok = cfg->sites && rh_sites_conf_check_roots(cfg->sites, &ce);
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
	free_strings(cfg->listen, cfg->n_listen);
	free(cfg->user);
	free_strings(cfg->index, cfg->n_index);
	free(cfg->access_log);
	for (size_t i = 0; i < cfg->n_types; i++) {
		free(cfg->types[i].ext);
		free(cfg->types[i].type);
	}
	free(cfg->types);
	rh_sites_conf_free(cfg->sites);
	free(cfg);
}
