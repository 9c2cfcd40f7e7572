/* Reading the configuration file's settings (libconfig): the table entry
 * that describes a key, the errors "FILE:LINE: key: message", and the
 * typed values every loader shares. The table itself is config.c's
 * (rh_conf_keys): config.c reads the server-wide keys, site_conf.c the
 * keys of sites. */
#ifndef RH_CONF_READ_H
#define RH_CONF_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_setting_t; /* libconfig.h */

/* Where errors go: one line "PATH:LINE: key: message" (the key is the
 * setting's name, or for an element of a list the list's name). */
struct rh_conf_err {
	const char *path;
	char *buf;
	size_t len;
};

/* What the generic parts (defaults, the restart check, the manual's key
 * line) know of a value. */
enum rh_conf_type {
	RH_CONF_BOOL,    /* bool */
	RH_CONF_UINT,    /* unsigned, MIN to MAX */
	RH_CONF_UINT64,  /* uint64_t, MIN to MAX; 64-bit literals (1234L) too */
	RH_CONF_STRING,  /* char *, strdup'ed */
	RH_CONF_STRINGS, /* char ** with its size_t count at COUNT_OFF */
	RH_CONF_OTHER,   /* its parser's own */
};

#define RH_CONF_NONE SIZE_MAX /* an offset: not stored there */

struct rh_conf_key;
typedef bool rh_conf_parse_fn(const struct rh_conf_err *e, const struct config_setting_t *s,
			      const struct rh_conf_key *k, void *dst);

/* One key. It is server-wide unless SITE_OFF is set: then it belongs to
 * every site (and at the top level to the default site). */
struct rh_conf_key {
	const char *name;
	enum rh_conf_type type;
	rh_conf_parse_fn *parse; /* NULL: read by its loader itself (`sites`) */
	/* offsets of the value: in struct rh_config (read by the server-wide
	 * loader at the top level), struct rh_site_conf (read by the site
	 * loader, at the top level only when CONFIG_OFF is not set) and
	 * struct rh_sites_conf (server-wide keys of the site loader) */
	size_t config_off, site_off, sites_off;
	size_t count_off;
	long long min, max;  /* integers */
	long long def;       /* the default of a BOOL, UINT or UINT64 */
	const char *def_str; /* the default of a STRING */
	bool reload;         /* a reload (SIGHUP) applies it; else a restart */
	/* ringhttpd.conf(5): "integer seconds", "list of strings", ...; and
	 * for the types without a generic default (and a string whose default
	 * is too long to show), the default as written */
	const char *doc_type;
	const char *doc_default;
};

extern const struct rh_conf_key rh_conf_keys[];
extern const size_t rh_conf_n_keys;

/* The entry of NAME, or NULL. */
const struct rh_conf_key *rh_conf_key_find(const char *name);
static inline bool rh_conf_key_in_site(const struct rh_conf_key *k)
{
	return k->site_off != RH_CONF_NONE;
}
/* The text of K's line in ringhttpd.conf(5), between the parentheses of
 * `.BR name " (...)"`: "integer, 1 to 86400, default 75; restart". */
void rh_conf_key_doc(const struct rh_conf_key *k, char *buf, size_t len);

/* Sets the value of K at DST to its default (BOOL, UINT, UINT64, STRING;
 * nothing for the others). False when out of memory. */
bool rh_conf_set_default(const struct rh_conf_key *k, void *dst);
/* Whether the values of K at A and B are the same (not for OTHER). */
bool rh_conf_same(const struct rh_conf_key *k, const void *a, const void *b);

/* Writes "FILE:LINE: key: message" (the line of setting S; "FILE:
 * message" without S) and returns false. */
bool rh_conf_fail(const struct rh_conf_err *e, const struct config_setting_t *s, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

/* The parsers of the generic types, checking type and bounds. Like every
 * parser of the loaders: false after writing the error. */
rh_conf_parse_fn rh_conf_bool, rh_conf_uint, rh_conf_uint64, rh_conf_string,
	rh_conf_strings;

/* A list or array of strings, or, when ONE_OK, a single string: their
 * count in *N. */
bool rh_conf_strings_of(const struct rh_conf_err *e, const struct config_setting_t *s,
			bool one_ok, int *n);
const char *rh_conf_string_at(const struct config_setting_t *s, int i);
/* A list of groups (or an empty list): their count in *N. EXAMPLE
 * completes "expected a list of groups, like ". */
bool rh_conf_groups_of(const struct rh_conf_err *e, const struct config_setting_t *s,
		       const char *example, int *n);
/* An integer: false after an error. */
bool rh_conf_int(const struct rh_conf_err *e, const struct config_setting_t *s, long long *dst);
bool rh_conf_is_list(const struct config_setting_t *s);
void rh_conf_free_strings(char **v, size_t n);

#endif
