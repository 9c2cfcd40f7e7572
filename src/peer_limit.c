#include "peer_limit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

int rh_peer_limit_init(struct rh_peer_limit *l, uint32_t max_conns, unsigned per_ip)
{
	uint32_t n = 16;

	memset(l, 0, sizeof *l);
	l->per_ip = per_ip;
	if (!per_ip)
		return 0;
	while (n < max_conns && n < (1u << 24))
		n *= 2;
	l->buckets = malloc(n * sizeof *l->buckets);
	l->nodes = malloc((size_t)max_conns * sizeof *l->nodes);
	if (!l->buckets || !l->nodes) {
		rh_peer_limit_destroy(l);
		return -ENOMEM;
	}
	l->mask = n - 1;
	for (uint32_t i = 0; i < n; i++)
		l->buckets[i] = NONE;
	for (uint32_t i = 0; i < max_conns; i++)
		l->nodes[i].next = i + 1 < max_conns ? i + 1 : NONE;
	l->free = max_conns ? 0 : NONE;
	pthread_mutex_init(&l->lock, NULL);
	return 0;
}

void rh_peer_limit_destroy(struct rh_peer_limit *l)
{
	if (l->buckets && l->nodes)
		pthread_mutex_destroy(&l->lock);
	free(l->buckets);
	free(l->nodes);
	l->buckets = NULL;
	l->nodes = NULL;
}

static uint32_t hash(const struct rh_peer *p)
{
	uint32_t h = 2166136261u ^ p->family;

	for (size_t i = 0; i < sizeof p->addr; i++)
		h = (h ^ p->addr[i]) * 16777619u;
	return h;
}

static bool same(const struct rh_peer *a, const struct rh_peer *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof a->addr);
}

/* The node of P in its bucket; *LINK points at the link to it. */
static uint32_t find(struct rh_peer_limit *l, const struct rh_peer *p, uint32_t **link)
{
	uint32_t *at = &l->buckets[hash(p) & l->mask];

	while (*at != NONE && !same(&l->nodes[*at].addr, p))
		at = &l->nodes[*at].next;
	*link = at;
	return *at;
}

bool rh_peer_limit_take(struct rh_peer_limit *l, const struct rh_peer *p)
{
	uint32_t *link, i;
	bool ok = true;

	if (!l->per_ip)
		return true;
	pthread_mutex_lock(&l->lock);
	i = find(l, p, &link);
	if (i != NONE) {
		ok = l->nodes[i].count < l->per_ip;
		l->nodes[i].count += ok;
	} else if (l->free != NONE) { /* there is one node per connection */
		i = l->free;
		l->free = l->nodes[i].next;
		l->nodes[i] = (struct rh_peer_count){ *p, 1, NONE };
		*link = i;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void rh_peer_limit_put(struct rh_peer_limit *l, const struct rh_peer *p)
{
	uint32_t *link, i;

	if (!l->per_ip)
		return;
	pthread_mutex_lock(&l->lock);
	i = find(l, p, &link);
	if (i != NONE && --l->nodes[i].count == 0) {
		*link = l->nodes[i].next;
		l->nodes[i].next = l->free;
		l->free = i;
	}
	pthread_mutex_unlock(&l->lock);
}
