/* max_connections_per_ip: how many connections each client address has
 * open, for the whole server. Rings take and give back under a mutex: once
 * per connection, never per request. */
#ifndef RH_PEER_LIMIT_H
#define RH_PEER_LIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "peer.h"

struct rh_peer_count {
	struct rh_peer addr;
	uint32_t count;
	uint32_t next; /* in its bucket's chain, or the free list */
};

struct rh_peer_limit {
	unsigned per_ip; /* 0: no limit, and nothing is counted */
	pthread_mutex_t lock;
	uint32_t *buckets;
	uint32_t mask;
	struct rh_peer_count *nodes; /* one per connection that can be open */
	uint32_t free;
};

/* For at most MAX_CONNS connections at once, PER_IP from one address. */
int rh_peer_limit_init(struct rh_peer_limit *l, uint32_t max_conns, unsigned per_ip);
void rh_peer_limit_destroy(struct rh_peer_limit *l);
/* Counts a connection from P; false (nothing counted) when P has PER_IP. */
bool rh_peer_limit_take(struct rh_peer_limit *l, const struct rh_peer *p);
/* A connection from P, counted by rh_peer_limit_take, closed. */
void rh_peer_limit_put(struct rh_peer_limit *l, const struct rh_peer *p);

#endif
