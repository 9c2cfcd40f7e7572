/* The whole server: listening sockets, rings, the current site, and the
 * start, reload and stop sequences the main thread drives. */
#ifndef RH_SERVER_H
#define RH_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "listen.h"

struct rh_ring;
struct rh_site;

struct rh_server {
	const char *config_path;
	const struct rh_config_overrides *overrides;
	const struct rh_config *cfg; /* as started: the keys a reload cannot change */
	struct rh_site *boot_site;   /* holds cfg */
	struct rh_listeners listeners;
	struct rh_ring *rings;
	unsigned n_rings;
	struct rh_site *site;
	uint32_t max_conns;	   /* for the whole server: every ring's slab can hold them all */
	atomic_uint open_conns;
	unsigned buffers_provided, buffers_owned;
	unsigned file_cache_entries; /* per ring: open files it may keep */
	atomic_bool stopping;

	/* start-up handshake between the main thread and the rings */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n_set_up, n_accepting;
	int go; /* 0: wait, 1: serve, -1: give up */
};

/* Binds (or takes systemd's sockets), starts every ring and, once they
 * are set up, drops privileges and lets them accept. Takes CFG. After a
 * failure, rh_server_stop() releases what was set up. */
int rh_server_start(struct rh_server *s, struct rh_config *cfg);
/* Re-reads the configuration; on error logs it and keeps the old one. */
void rh_server_reload(struct rh_server *s);
/* Stops accepting, lets responses in flight finish, joins the rings. */
void rh_server_stop(struct rh_server *s);
void rh_server_stats(struct rh_server *s, uint64_t *requests, unsigned *conns);
/* True while every ring's loop ticked within the last few seconds. */
bool rh_server_healthy(struct rh_server *s);

/* For the rings: report set-up (or its failure in setup_error), then wait
 * for the go; false means give up. */
bool rh_server_ring_set_up(struct rh_server *s);
void rh_server_ring_accepting(struct rh_server *s);

#endif
