#include "vhost.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Exact names and wildcard suffixes in one open-addressing table. A
 * wildcard "*.example.org" is kept as its suffix ".example.org"; a host
 * is matched by looking up itself, then each of its suffixes that starts
 * at a dot, longest first. The hash runs from the end of the name, so
 * one pass over the host yields the hash of every suffix. */
struct vhost_name {
	const char *name; /* an exact name, or a wildcard's suffix ".example.org" */
	size_t len;
	size_t site;
	uint32_t hash;
	bool wild;
};

struct rh_vhost {
	struct vhost_name *slot; /* mask + 1 slots */
	size_t mask;
};

static inline uint32_t hash_step(uint32_t h, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return (h ^ c) * 16777619u;
}

#define HASH_INIT 2166136261u

/* FNV-1a over NAME[0..LEN) read backwards, case-insensitively. */
static uint32_t hash_back(const char *name, size_t len)
{
	uint32_t h = HASH_INIT;

	while (len)
		h = hash_step(h, name[--len]);
	return h;
}

static const struct vhost_name *lookup(const struct rh_vhost *v, const char *name, size_t len,
				       uint32_t h, bool wild)
{
	for (size_t k = h & v->mask; v->slot[k].name; k = (k + 1) & v->mask) {
		const struct vhost_name *e = &v->slot[k];
		if (e->hash == h && e->wild == wild && e->len == len &&
		    !strncasecmp(e->name, name, len))
			return e;
	}
	return NULL;
}

struct rh_vhost *rh_vhost_new(const struct rh_site_conf *sites, size_t n,
			      struct rh_vhost_dup *dup)
{
	struct rh_vhost *v = calloc(1, sizeof *v);
	size_t names = 0, slots = 4;

	if (dup)
		dup->site = SIZE_MAX;
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		names += sites[i].n_server_name;
	while (slots < 2 * names)
		slots *= 2;
	v->mask = slots - 1;
	v->slot = calloc(slots, sizeof *v->slot);
	if (!v->slot) {
		rh_vhost_free(v);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sites[i].n_server_name; j++) {
			const char *name = sites[i].server_name[j];
			bool wild = name[0] == '*';
			size_t len = strlen(name) - wild;
			uint32_t h = hash_back(name + wild, len);
			const struct vhost_name *seen = lookup(v, name + wild, len, h, wild);
			size_t k = h & v->mask;

			if (seen) {
				if (dup)
					*dup = (struct rh_vhost_dup){ i, j, seen->site };
				rh_vhost_free(v);
				return NULL;
			}
			while (v->slot[k].name)
				k = (k + 1) & v->mask;
			v->slot[k] = (struct vhost_name){ name + wild, len, i, h, wild };
		}
	return v;
}

void rh_vhost_free(struct rh_vhost *v)
{
	if (!v)
		return;
	free(v->slot);
	free(v);
}

size_t rh_vhost_select(const struct rh_vhost *v, const char *host, size_t len)
{
	const struct vhost_name *e;
	struct {
		size_t at;
		uint32_t hash; /* of host[at..len) */
	} dot[253];
	size_t n_dots = 0;
	const char *colon;
	uint32_t h = HASH_INIT;

	if (!host || !len || host[0] == '[')
		return 0;
	colon = memchr(host, ':', len);
	if (colon)
		len = colon - host;
	if (len && host[len - 1] == '.')
		len--;
	if (!len || len > 253)
		return 0;
	/* one pass from the end: the host's hash, and that of each suffix at
	 * a dot with a label before it */
	for (size_t i = len; i-- > 0;) {
		h = hash_step(h, host[i]);
		if (host[i] == '.' && i > 0)
			dot[n_dots].at = i, dot[n_dots++].hash = h;
	}
	if ((e = lookup(v, host, len, h, false)))
		return e->site;
	/* the longest suffix starts at the first dot, the last one found */
	while (n_dots--)
		if ((e = lookup(v, host + dot[n_dots].at, len - dot[n_dots].at, dot[n_dots].hash,
				true)))
			return e->site;
	return 0;
}
