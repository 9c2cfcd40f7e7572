/* The start-up handshake between the main thread and the rings: each ring
 * reports that it is set up (or failed) and waits for the go; the main
 * thread waits until all are set up, then says go (or give up) and waits
 * until all accept. */
#ifndef RH_STARTUP_H
#define RH_STARTUP_H

#include <pthread.h>
#include <stdbool.h>

struct rh_startup {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n_set_up, n_accepting;
	int go; /* 0: wait, 1: serve, -1: give up */
};

void rh_startup_init(struct rh_startup *st);
void rh_startup_destroy(struct rh_startup *st);
/* A ring: it is set up (or its error is recorded); false means give up. */
bool rh_startup_ring_set_up(struct rh_startup *st);
void rh_startup_ring_accepting(struct rh_startup *st);
/* The main thread. */
void rh_startup_wait_set_up(struct rh_startup *st, unsigned n);
void rh_startup_wait_accepting(struct rh_startup *st, unsigned n);
void rh_startup_go(struct rh_startup *st, bool serve);

#endif
