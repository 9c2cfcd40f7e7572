/* max_connections_per_ip: how many connections each client address has
 * open, for the whole server; IPv6 clients are counted per network (the
 * address's first V6_PREFIX bits), since one host is given a whole /64.
 * Rings take and give back under a mutex: once per connection, never per
 * request. The hash is keyed with a random key drawn at start, so that
 * clients cannot choose addresses that fall into one chain. */
#ifndef RH_PEER_LIMIT_H
#define RH_PEER_LIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "peer.h"

struct rh_peer_count {
	struct rh_peer addr; /* for IPv6, masked to the prefix */
	uint32_t count;
	uint32_t next; /* in its bucket's chain, or the free list */
};

struct rh_peer_limit {
	unsigned per_ip; /* 0: no limit, and nothing is counted */
	unsigned v6_prefix; /* 1 to 128 */
	uint64_t key[2];    /* SipHash key */
	pthread_mutex_t lock;
	uint32_t *buckets;
	uint32_t mask;
	struct rh_peer_count *nodes; /* one per connection that can be open */
	uint32_t free;
};

/* For at most MAX_CONNS connections at once, PER_IP from one IPv4 address
 * or IPv6 network of V6_PREFIX bits. 0 or -errno. */
int rh_peer_limit_init(struct rh_peer_limit *l, uint32_t max_conns, unsigned per_ip,
		       unsigned v6_prefix);
void rh_peer_limit_destroy(struct rh_peer_limit *l);
/* Counts a connection from P; false (nothing counted) when P's address
 * or network has PER_IP. */
bool rh_peer_limit_take(struct rh_peer_limit *l, const struct rh_peer *p);
/* A connection from P, counted by rh_peer_limit_take, closed. */
void rh_peer_limit_put(struct rh_peer_limit *l, const struct rh_peer *p);

#endif
