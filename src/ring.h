/* One worker: a thread pinned to one CPU, owning one io_uring, its
 * buffers, its connections and its open-file cache. */
#ifndef RH_RING_H
#define RH_RING_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "access_log.h"
#include "bufpool.h"
#include "file.h"
#include "http_date.h"

struct rh_server;
struct rh_site;
struct rh_conn;

/* What a completion is for; with the connection index and generation it
 * makes up user_data, so a late completion for a closed slot is dropped. */
enum rh_op {
	RH_OP_ACCEPT = 1,
	RH_OP_RECV,
	RH_OP_SEND,
	RH_OP_READ,
	RH_OP_SPLICE_IN,
	RH_OP_SPLICE_OUT,
	RH_OP_TICK,
	RH_OP_WAKE,
	RH_OP_LOG_WRITE,
	RH_OP_HANDOFF,	    /* a connection another ring accepted for this one */
	RH_OP_HANDOFF_SENT, /* this ring's message to another ring */
	RH_OP_IGNORE, /* close, cancel: nothing to do on completion */
};

static inline uint64_t rh_ud(enum rh_op op, uint32_t idx, uint32_t gen)
{
	return (uint64_t)op << 56 | (uint64_t)(gen & 0xffffff) << 32 | idx;
}
static inline enum rh_op rh_ud_op(uint64_t ud) { return ud >> 56; }
static inline uint32_t rh_ud_gen(uint64_t ud) { return (ud >> 32) & 0xffffff; }
static inline uint32_t rh_ud_idx(uint64_t ud) { return (uint32_t)ud; }

struct rh_pipe {
	int rd, wr;
};

struct rh_ring {
	struct rh_server *srv;
	unsigned id;
	int cpu;
	pthread_t thread;
	struct io_uring uring;
	bool uring_ready;
	int setup_error; /* -errno, reported to the main thread */
	char setup_msg[256];

	int wake_fd;
	uint64_t wake_buf;
	struct rh_site *site;
	_Atomic(struct rh_site *) next_site;

	struct rh_bufpool pool;
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	bool fixed_buffers;

	struct rh_conn *conns;
	size_t conns_bytes;
	uint32_t conn_cap, conn_hw, conn_free;

	struct rh_file_cache files;
	struct rh_access_log access;
	struct rh_pipe *pipes;
	unsigned n_pipes, pipes_cap;
	unsigned pipe_size;

	time_t now; /* CLOCK_MONOTONIC seconds */
	time_t wall;
	char date[RH_HTTP_DATE_LEN + 1];
	/* the 503 sent when no buffer is left, remade each second for its Date;
	 * two, so that a send still reading last second's is left alone */
	char overload[2][512];
	size_t overload_len;
	struct __kernel_timespec tick_ts;
	time_t last_warning;

	unsigned accepts_armed;
	bool accept_retry; /* re-arm the accepts at the next tick */
	bool stopping;
	time_t stop_deadline;

	/* read by the main thread for STATUS= and the watchdog */
	atomic_uint_fast64_t requests;
	atomic_uint n_conns; /* also counts connections handed to it, still in flight */
	atomic_int_fast64_t heartbeat; /* CLOCK_MONOTONIC seconds of the last tick */
};

/* Starts the ring's thread; it sets up the ring, then waits for the
 * server's go before it accepts. */
int rh_ring_start(struct rh_ring *r);
void rh_ring_join(struct rh_ring *r);
/* Main thread: wakes the ring to look at stop and reload requests. */
void rh_ring_wake(struct rh_ring *r);

/* For conn.c: a free submission queue entry (submitting when full), with
 * room for N linked entries. */
struct io_uring_sqe *rh_ring_sqe(struct rh_ring *r, unsigned n);
void rh_ring_recycle(struct rh_ring *r, uint32_t bid);
/* Submits the access log write that is due, if any. */
void rh_ring_log_write(struct rh_ring *r);
/* Rate-limited warning for conditions that can repeat per request. */
bool rh_ring_may_warn(struct rh_ring *r);
/* CLOCK_MONOTONIC in microseconds. */
uint64_t rh_ring_usec(void);

#endif
