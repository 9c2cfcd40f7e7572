#include "peer_limit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define NONE UINT32_MAX

int rh_peer_limit_init(struct rh_peer_limit *l, uint32_t max_conns, unsigned per_ip,
		       unsigned v6_prefix)
{
	uint32_t n = 16;

	memset(l, 0, sizeof *l);
	l->per_ip = per_ip;
	l->v6_prefix = v6_prefix;
	if (!per_ip)
		return 0;
	if (getrandom(l->key, sizeof l->key, 0) != sizeof l->key)
		return -errno;
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

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3) \
	do { \
		v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32); \
		v2 += v3, v3 = rotl(v3, 16), v3 ^= v2; \
		v0 += v3, v3 = rotl(v3, 21), v3 ^= v0; \
		v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32); \
	} while (0)

/* SipHash-1-3 of the 24 bytes family, address and padding, with the
 * table's key: the kernel's and Rust's choice for hash tables that
 * clients fill. */
static uint32_t hash(const struct rh_peer_limit *l, const struct rh_peer *p)
{
	uint64_t m[3] = { p->family, 0, 0 };
	uint64_t v0 = l->key[0] ^ 0x736f6d6570736575ULL, v1 = l->key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = l->key[0] ^ 0x6c7967656e657261ULL, v3 = l->key[1] ^ 0x7465646279746573ULL;

	memcpy(&m[1], p->addr, sizeof p->addr);
	for (int i = 0; i < 3; i++) {
		v3 ^= m[i];
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v3 ^= 24ULL << 56;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= 24ULL << 56;
	v2 ^= 0xff;
	for (int i = 0; i < 3; i++)
		SIPROUND(v0, v1, v2, v3);
	return (uint32_t)(v0 ^ v1 ^ v2 ^ v3);
}

/* What is counted for P: an IPv6 address masked to the prefix. */
static struct rh_peer counted(const struct rh_peer_limit *l, const struct rh_peer *p)
{
	struct rh_peer c = *p;

	if (c.family == AF_INET6 && l->v6_prefix < 128) {
		unsigned full = l->v6_prefix / 8, bits = l->v6_prefix % 8;

		if (bits)
			c.addr[full++] &= (uint8_t)(0xff << (8 - bits));
		memset(c.addr + full, 0, sizeof c.addr - full);
	}
	return c;
}

static bool same(const struct rh_peer *a, const struct rh_peer *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof a->addr);
}

/* The node of P in its bucket; *LINK points at the link to it. */
static uint32_t find(struct rh_peer_limit *l, const struct rh_peer *p, uint32_t **link)
{
	uint32_t *at = &l->buckets[hash(l, p) & l->mask];

	while (*at != NONE && !same(&l->nodes[*at].addr, p))
		at = &l->nodes[*at].next;
	*link = at;
	return *at;
}

bool rh_peer_limit_take(struct rh_peer_limit *l, const struct rh_peer *peer)
{
	struct rh_peer p;
	uint32_t *link, i;
	bool ok = true;

	if (!l->per_ip)
		return true;
	p = counted(l, peer);
	pthread_mutex_lock(&l->lock);
	i = find(l, &p, &link);
	if (i != NONE) {
		ok = l->nodes[i].count < l->per_ip;
		l->nodes[i].count += ok;
	} else if (l->free != NONE) { /* there is one node per connection */
		i = l->free;
		l->free = l->nodes[i].next;
		l->nodes[i] = (struct rh_peer_count){ p, 1, NONE };
		*link = i;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void rh_peer_limit_put(struct rh_peer_limit *l, const struct rh_peer *peer)
{
	struct rh_peer p;
	uint32_t *link, i;

	if (!l->per_ip)
		return;
	p = counted(l, peer);
	pthread_mutex_lock(&l->lock);
	i = find(l, &p, &link);
	if (i != NONE && --l->nodes[i].count == 0) {
		*link = l->nodes[i].next;
		l->nodes[i].next = l->free;
		l->free = i;
	}
	pthread_mutex_unlock(&l->lock);
}
