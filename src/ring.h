/* One worker: a thread pinned to one CPU that owns one io_uring and the
 * ring's resources -- its buffer pool, connection slab, exchange records,
 * file cache and access-log buffer, each a type of its own -- and runs
 * the dispatch loop. */
#ifndef RH_RING_H
#define RH_RING_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "access_log.h"
#include "body.h"
#include "bufpool.h"
#include "conn.h"
#include "file.h"
#include "h2.h"
#include "handler.h"
#include "http_date.h"
#include "mailbox.h"
#include "slab.h"
#include "stats.h"

struct rh_server;
struct rh_site;

struct rh_ring {
	struct rh_server *srv;
	unsigned id;
	int cpu;
	pthread_t thread;
	struct io_uring uring;
	bool uring_ready;
	int setup_error; /* -errno, reported to the main thread */
	char setup_msg[256];

	/* made and closed by the server, so that they outlive the thread: a
	 * listing worker may post after the ring has stopped */
	int wake_fd;
	struct rh_mailbox mailbox; /* listings built for its connections */
	uint64_t wake_buf;
	uint64_t *tokens;	   /* what the last take got, kept for the next */
	size_t tokens_cap;
	struct rh_site *site;
	_Atomic(struct rh_site *) next_site;

	struct rh_bufpool bufs;
	struct rh_body_env body; /* the pool, the ring, whether the pool is registered */
	struct rh_conn_slab conns;
	struct rh_slab exchanges;
	struct rh_slab heads, heads_large; /* request heads that arrive in pieces */
	struct rh_slab multiparts;	   /* multipart/byteranges bodies in flight */
	struct rh_slab warms;		   /* look-ups of paths the dentry cache lacked */
	struct rh_h2_pool h2;		   /* HTTP/2 sessions, streams and out buffers */
	struct rh_plan plan;		   /* the request being planned */
	uint64_t random;		   /* xorshift state: multipart boundaries */
	struct rh_file_cache files;
	struct rh_access_log access;

	time_t now; /* CLOCK_MONOTONIC seconds */
	time_t wall;
	char date[RH_HTTP_DATE_LEN + 1];
	struct __kernel_timespec tick_ts;
	time_t last_warning;

	bool *accepting;    /* per listener: its multishot accept is armed */
	bool accept_retry;  /* re-arm the accepts that ended, at the next tick */
	bool stopping;
	time_t stop_deadline;

	/* read by the main thread for STATUS= and the watchdog */
	atomic_uint_fast64_t requests;
	struct rh_ring_stats stats;
	atomic_uint n_conns; /* also counts connections handed to it, still in flight */
	atomic_int_fast64_t heartbeat; /* CLOCK_MONOTONIC seconds of the last tick */
};

/* Starts the ring's thread; it sets up the ring, then waits for the
 * server's go before it accepts. WAKE_FD and MAILBOX are set up already. */
int rh_ring_start(struct rh_ring *r);
void rh_ring_join(struct rh_ring *r);
/* Main thread: wakes the ring to look at stop and reload requests. */
void rh_ring_wake(struct rh_ring *r);

/* The status endpoint's text (handler.h): every ring's counters, read
 * without locks; CTX is the ring asking. */
char *rh_ring_metrics_text(void *ctx, size_t *len);

/* Rate-limited warning for conditions that can repeat per request. */
static inline bool rh_ring_may_warn(struct rh_ring *r)
{
	if (r->now == r->last_warning)
		return false;
	r->last_warning = r->now;
	return true;
}

/* A fresh pseudo-random value (xorshift64*), seeded from getrandom. */
static inline uint64_t rh_ring_random(struct rh_ring *r)
{
	r->random ^= r->random >> 12;
	r->random ^= r->random << 25;
	r->random ^= r->random >> 27;
	return r->random * 0x2545f4914f6cdd1dULL;
}

#endif
