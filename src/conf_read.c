#include "conf_read.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct rh_conf_key *rh_conf_key_find(const char *name)
{
	for (size_t i = 0; i < rh_conf_n_keys; i++)
		if (!strcmp(rh_conf_keys[i].name, name))
			return &rh_conf_keys[i];
	return NULL;
}

void rh_conf_key_doc(const struct rh_conf_key *k, char *buf, size_t len)
{
	char bounds[64] = "", def[128];

	switch (k->type) {
	case RH_CONF_BOOL:
		snprintf(def, sizeof def, "%s", k->def ? "true" : "false");
		break;
	case RH_CONF_UINT:
	case RH_CONF_UINT64:
		snprintf(bounds, sizeof bounds, ", %lld to %lld", k->min, k->max);
		snprintf(def, sizeof def, "%lld", k->def);
		break;
	case RH_CONF_STRING: /* a long default is described instead */
		if (k->doc_default)
			snprintf(def, sizeof def, "%s", k->doc_default);
		else
			snprintf(def, sizeof def, "\\(dq%s\\(dq", k->def_str);
		break;
	default:
		snprintf(def, sizeof def, "%s", k->doc_default);
	}
	snprintf(buf, len, "%s%s, default %s%s", k->doc_type, bounds, def,
		 k->reload ? "" : "; restart");
}

bool rh_conf_set_default(const struct rh_conf_key *k, void *dst)
{
	switch (k->type) {
	case RH_CONF_BOOL:
		*(bool *)dst = k->def;
		return true;
	case RH_CONF_UINT:
		*(unsigned *)dst = k->def;
		return true;
	case RH_CONF_UINT64:
		*(uint64_t *)dst = k->def;
		return true;
	case RH_CONF_STRING:
		free(*(char **)dst);
		*(char **)dst = strdup(k->def_str);
		return *(char **)dst != NULL;
	default:
		return true;
	}
}

bool rh_conf_same(const struct rh_conf_key *k, const void *a, const void *b)
{
	switch (k->type) {
	case RH_CONF_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case RH_CONF_UINT:
		return *(const unsigned *)a == *(const unsigned *)b;
	case RH_CONF_UINT64:
		return *(const uint64_t *)a == *(const uint64_t *)b;
	case RH_CONF_STRING:
		return !strcmp(*(char *const *)a, *(char *const *)b);
	case RH_CONF_STRINGS: {
		size_t n = *(const size_t *)((const char *)a + k->count_off);
		char *const *va = *(char **const *)a, *const *vb = *(char **const *)b;

		if (n != *(const size_t *)((const char *)b + k->count_off))
			return false;
		for (size_t i = 0; i < n; i++)
			if (strcmp(va[i], vb[i]))
				return false;
		return true;
	}
	default:
		return true;
	}
}

/* The name a message gives S: its own, or that of the list it is in. */
static const char *key_of(const config_setting_t *s)
{
	for (; s; s = config_setting_parent(s))
		if (config_setting_name(s))
			return config_setting_name(s);
	return "(top level)";
}

bool rh_conf_fail(const struct rh_conf_err *e, const config_setting_t *s, const char *fmt, ...)
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

bool rh_conf_bool(const struct rh_conf_err *e, const config_setting_t *s,
		  const struct rh_conf_key *k, void *dst)
{
	(void)k;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return rh_conf_fail(e, s, "expected true or false");
	*(bool *)dst = config_setting_get_bool(s);
	return true;
}

bool rh_conf_int(const struct rh_conf_err *e, const config_setting_t *s, long long *dst)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return rh_conf_fail(e, s, "expected an integer");
	*dst = config_setting_get_int64(s);
	return true;
}

static bool in_bounds(const struct rh_conf_err *e, const config_setting_t *s,
		      const struct rh_conf_key *k, long long v)
{
	return (v >= k->min && v <= k->max) ||
	       rh_conf_fail(e, s, "%lld is out of range (%lld to %lld)", v, k->min, k->max);
}

bool rh_conf_uint(const struct rh_conf_err *e, const config_setting_t *s,
		  const struct rh_conf_key *k, void *dst)
{
	long long v = 0;

	if (!rh_conf_int(e, s, &v) || !in_bounds(e, s, k, v))
		return false;
	*(unsigned *)dst = v;
	return true;
}

bool rh_conf_uint64(const struct rh_conf_err *e, const config_setting_t *s,
		    const struct rh_conf_key *k, void *dst)
{
	int t = config_setting_type(s);
	long long v;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return rh_conf_fail(e, s, "expected an integer (64-bit: 1234L)");
	v = config_setting_get_int64(s);
	if (!in_bounds(e, s, k, v))
		return false;
	*(uint64_t *)dst = v;
	return true;
}

bool rh_conf_string(const struct rh_conf_err *e, const config_setting_t *s,
		    const struct rh_conf_key *k, void *dst)
{
	char **p = dst;

	(void)k;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return rh_conf_fail(e, s, "expected a string");
	free(*p);
	*p = strdup(config_setting_get_string(s));
	return *p || rh_conf_fail(e, s, "out of memory");
}

bool rh_conf_is_list(const config_setting_t *s)
{
	int t = config_setting_type(s);
	return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY;
}

bool rh_conf_strings_of(const struct rh_conf_err *e, const config_setting_t *s, bool one_ok,
			int *n)
{
	if (one_ok && config_setting_type(s) == CONFIG_TYPE_STRING) {
		*n = 1;
		return true;
	}
	if (!rh_conf_is_list(s))
		return rh_conf_fail(e, s, "expected a list of strings, like [ \"a\", \"b\" ]");
	*n = config_setting_length(s);
	for (int i = 0; i < *n; i++)
		if (config_setting_type(config_setting_get_elem(s, i)) != CONFIG_TYPE_STRING)
			return rh_conf_fail(e, s, "element %d is not a string", i + 1);
	return true;
}

const char *rh_conf_string_at(const config_setting_t *s, int i)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return config_setting_get_string(s);
	return config_setting_get_string(config_setting_get_elem(s, i));
}

void rh_conf_free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

bool rh_conf_strings(const struct rh_conf_err *e, const config_setting_t *s,
		     const struct rh_conf_key *k, void *dst)
{
	size_t *count = (size_t *)((char *)dst + k->count_off);
	char **v;
	int n;

	if (!rh_conf_strings_of(e, s, false, &n))
		return false;
	v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return rh_conf_fail(e, s, "out of memory");
	for (int i = 0; i < n; i++)
		if (!(v[i] = strdup(rh_conf_string_at(s, i)))) {
			rh_conf_free_strings(v, i);
			return rh_conf_fail(e, s, "out of memory");
		}
	rh_conf_free_strings(*(char ***)dst, *count);
	*(char ***)dst = v;
	*count = n;
	return true;
}

bool rh_conf_groups_of(const struct rh_conf_err *e, const config_setting_t *s,
		       const char *example, int *n)
{
	if (!rh_conf_is_list(s))
		return rh_conf_fail(e, s, "expected a list of groups, like %s", example);
	*n = config_setting_length(s);
	for (int i = 0; i < *n; i++)
		if (config_setting_type(config_setting_get_elem(s, i)) != CONFIG_TYPE_GROUP)
			return rh_conf_fail(e, s, "element %d is not a group { ... }", i + 1);
	return true;
}
