#include "vhost.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct vhost_name {
	const char *name; /* an exact name, or a wildcard's suffix ".example.org" */
	size_t len;
	size_t site;
};

struct rh_vhost {
	struct vhost_name *exact; /* open addressing, mask + 1 slots */
	size_t mask;
	struct vhost_name *wild; /* longest suffix first */
	size_t n_wild;
};

static uint32_t hash_ci(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static int longer_first(const void *a, const void *b)
{
	const struct vhost_name *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->site < y->site ? -1 : x->site > y->site;
}

struct rh_vhost *rh_vhost_new(const struct rh_site_conf *sites, size_t n)
{
	struct rh_vhost *v = calloc(1, sizeof *v);
	size_t n_exact = 0, n_wild = 0, slots = 4;

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sites[i].n_server_name; j++) {
			if (sites[i].server_name[j][0] == '*')
				n_wild++;
			else
				n_exact++;
		}
	while (slots < 2 * n_exact)
		slots *= 2;
	v->mask = slots - 1;
	v->exact = calloc(slots, sizeof *v->exact);
	v->wild = calloc(n_wild ? n_wild : 1, sizeof *v->wild);
	if (!v->exact || !v->wild) {
		rh_vhost_free(v);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sites[i].n_server_name; j++) {
			const char *name = sites[i].server_name[j];
			size_t len = strlen(name);

			if (name[0] == '*') {
				v->wild[v->n_wild++] = (struct vhost_name){ name + 1, len - 1, i };
			} else {
				size_t k = hash_ci(name, len) & v->mask;
				while (v->exact[k].name)
					k = (k + 1) & v->mask;
				v->exact[k] = (struct vhost_name){ name, len, i };
			}
		}
	qsort(v->wild, v->n_wild, sizeof *v->wild, longer_first);
	return v;
}

void rh_vhost_free(struct rh_vhost *v)
{
	if (!v)
		return;
	free(v->exact);
	free(v->wild);
	free(v);
}

size_t rh_vhost_select(const struct rh_vhost *v, const char *host, size_t len)
{
	const char *colon;

	if (!host || !len || host[0] == '[')
		return 0;
	colon = memchr(host, ':', len);
	if (colon)
		len = colon - host;
	if (len && host[len - 1] == '.')
		len--;
	if (!len || len > 253)
		return 0;
	for (size_t k = hash_ci(host, len) & v->mask; v->exact[k].name; k = (k + 1) & v->mask)
		if (v->exact[k].len == len && !strncasecmp(v->exact[k].name, host, len))
			return v->exact[k].site;
	for (size_t i = 0; i < v->n_wild; i++) {
		const struct vhost_name *w = &v->wild[i];
		if (len > w->len && !strncasecmp(host + len - w->len, w->name, w->len))
			return w->site;
	}
	return 0;
}
