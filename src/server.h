/* The whole server: listening sockets, rings, the current site, and the
 * start, reload and stop sequences the main thread drives. */
#ifndef RH_SERVER_H
#define RH_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "listen.h"
#include "peer_limit.h"
#include "startup.h"

struct rh_ring;
struct rh_site;
struct rh_listings;

struct rh_server {
	const char *config_path;
	const struct rh_config_overrides *overrides;
	const struct rh_config *cfg; /* as started: the keys a reload cannot change */
	struct rh_site *boot_site;   /* holds cfg */
	struct rh_listeners listeners;
	struct rh_ring *rings;
	unsigned n_rings;
	unsigned n_ring_slots; /* rings allocated: their eventfds and mailboxes */
	struct rh_listings *listings; /* started with the first configuration that lists */
	struct rh_site *site;
	uint32_t max_conns;	   /* for the whole server: every ring's slab can hold them all */
	atomic_uint open_conns;
	struct rh_peer_limit per_ip;
	unsigned buffers_provided, buffers_owned;
	unsigned file_cache_entries; /* per ring: open files it may keep */
	time_t started;		     /* CLOCK_MONOTONIC seconds */
	bool tls_noted;		     /* how TLS sends has been said */
	bool ktls;		     /* new TLS connections give sending to the kernel */
	const char *ktls_why;	     /* why not, when they don't */
	atomic_bool stopping;
	char error[512]; /* why start-up failed, for STATUS= */

	struct rh_startup startup;
};

/* Binds (or takes systemd's sockets), drops privileges, starts every ring
 * and, once they are set up, lets them accept. Takes CFG. After a failure
 * (logged, and in s->error), rh_server_stop() releases what was set up. */
int rh_server_start(struct rh_server *s, struct rh_config *cfg);
/* Re-reads the configuration; on error logs it and keeps the old one,
 * log_level included. 0, or -1 when refused. */
int rh_server_reload(struct rh_server *s);
/* The access log file opened anew (log rotation): nothing else changes and
 * the configuration file is not read. 0, or -1 (logged). */
int rh_server_reopen_log(struct rh_server *s);
/* ringhttpd -t: what start-up would check of CFG, without binding or
 * serving (see preflight.h). 0, or -errno with the message in ERR. */
int rh_server_check(const struct rh_config *cfg, char *err, size_t errlen);
/* Stops accepting, lets responses in flight finish, joins the rings. */
void rh_server_stop(struct rh_server *s);
void rh_server_stats(struct rh_server *s, uint64_t *requests, unsigned *conns);
/* TLS handshakes completed, and of them those whose sending the kernel
 * took (kTLS), since start. */
void rh_server_tls_stats(struct rh_server *s, uint64_t *handshakes, uint64_t *ktls);
/* True while every ring's loop ticked within the last few seconds. */
bool rh_server_healthy(struct rh_server *s);

#endif
