/* A client connection: its slot, its lifecycle from the first request
 * byte to the close, the wire it owns, the dispatch of its completions
 * and its timeouts; and, for now its only protocol, HTTP/1 framing: one
 * exchange at a time, or, when the client speaks it (ALPN over TLS, the
 * prior-knowledge preface on plain TCP), HTTP/2 (h2.h). Over TLS the wire's engine decrypts what arrives and
 * the framing reads the plain bytes. Connections live in a per-ring slab of small slots;
 * what a response needs while it is in flight lives in the exchange
 * record taken for it. */
#ifndef RH_CONN_H
#define RH_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/stat.h>
#include <time.h>

#include "exchange.h"
#include "peer.h"
#include "request.h"
#include "ud.h"
#include "wire.h"

struct rh_ring;
struct rh_exchange;
struct rh_h2;
struct io_uring_cqe;

/* A look-up through the ring of a path the dentry cache lacks: it only
 * warms the cache, and the request is planned again when it is done. */
struct rh_warm {
	struct statx stx;
	char path[4096];
};

enum rh_conn_phase {
	RH_CONN_FREE,
	RH_CONN_READING,    /* waiting for (the rest of) a request head */
	RH_CONN_READING_BODY, /* dropping a request body before its answer goes out */
	RH_CONN_WAITING,    /* a request waits for a path to be warmed, then is planned again */
	RH_CONN_LISTING,    /* a request waits for its listing to be built, then is planned again */
	RH_CONN_RESPONDING, /* a response is being sent */
	RH_CONN_LINGERING,  /* last response sent; reading what the client still sends */
	RH_CONN_H2,	    /* HTTP/2: the session (h2.h) says what happens */
	RH_CONN_CLOSING,    /* shut down; waiting for its operations to end */
};

enum rh_conn_wait { RH_WAIT_NONE, RH_WAIT_BUF, RH_WAIT_RECV };

/* Head buffers: most heads that arrive in pieces fit the small ones; the
 * large ones are buffer_size, the largest head taken. */
#define RH_HEAD_SMALL 2048

/* Each warm-up brings at least one more piece of a path into the dentry
 * cache; after this many the request is planned with look-ups that may
 * block, so that it always ends. */
#define RH_WARMUPS_MAX 4

struct rh_conn {
	struct rh_wire w; /* its socket, slot index, generation, operations in flight */
	uint32_t next_free;
	uint32_t wait_prev, wait_next; /* in the ring's queue for what it waits for */
	uint8_t phase;
	uint8_t waiting; /* enum rh_conn_wait */
	bool keep_alive;
	bool fresh;  /* accepted, no request yet: a stop still answers it */
	bool linger; /* after a bad request: read what the client still sends before closing */
	bool processing; /* taking the requests of its in buffer, one by one */
	bool leftover;	 /* bytes received after the request being answered */
	bool http2;	 /* h2 holds its session (from RH_CONN_H2 on) */
	uint8_t warmups; /* paths warmed for the request waiting in the in buffer */
	struct rh_peer peer;
	uint32_t deadline;	/* CLOCK_MONOTONIC seconds */
	uint32_t listing_since; /* LISTING: the second the request first asked */
	char *in; /* unparsed request bytes (a head buffer), or NULL */
	uint32_t in_off, in_len, in_cap;
	uint32_t linger_unsent; /* bytes the socket still held at the last linger check */
	struct rh_framing framing;
	union { /* one at a time: a request waits before it has an exchange */
		struct rh_exchange *x; /* the response in flight, or NULL */
		struct rh_warm *warm;  /* WAITING: the look-up in flight */
		struct rh_h2 *h2;      /* http2: its session */
	};
};

#define RH_NO_CONN UINT32_MAX

struct rh_connq {
	uint32_t head, tail; /* RH_NO_CONN when empty */
};

static inline bool rh_connq_empty(const struct rh_connq *q)
{
	return q->head == RH_NO_CONN;
}

struct rh_conn_slab {
	struct rh_conn *slots; /* mapped, not touched: a slot costs memory once used */
	size_t bytes;
	uint32_t hw, free; /* slots ever used; the first free one */
	struct rh_connq buf_waiters;  /* responses waiting for a pooled buffer */
	struct rh_connq recv_waiters; /* receives waiting for the provided ring */
	/* the 503 for a connection over a limit, remade each second for its
	 * Date; two, so that a send still reading last second's is left alone */
	char refusal[2][512];
	size_t refusal_len;
};

int rh_conns_init(struct rh_conn_slab *s, uint32_t cap);
void rh_conns_destroy(struct rh_conn_slab *s);
/* A new connection, already counted in the ring's and the server's totals.
 * Over max_connections_per_ip it is refused. */
void rh_conn_accepted(struct rh_ring *r, int fd, bool tls);
/* The 503 of a connection over a limit, then its close (TLS: the close). */
void rh_conn_refuse(struct rh_ring *r, int fd, bool tls);
/* A new second of the ring's clock: the refusal's Date follows it. */
void rh_conns_second(struct rh_ring *r);
void rh_conn_complete(struct rh_ring *r, const struct io_uring_cqe *cqe);
/* After each batch of completions: buffers that came back go to the
 * connections waiting for them, in the order they began to wait. */
void rh_conns_wake(struct rh_ring *r);
/* A mailbox token: the listing a connection waits for is built. */
void rh_conn_listing_ready(struct rh_ring *r, uint64_t token);
/* Once a second: closes connections past their deadline. */
void rh_conns_expire(struct rh_ring *r);
/* Server stopping: closes idle connections, lets busy ones finish. */
void rh_conns_drain(struct rh_ring *r);
/* A new configuration: HTTP/2 connections are asked to go (GOAWAY). */
void rh_conns_reloaded(struct rh_ring *r);

/* For the protocols: what C's exchanges need of the ring. */
struct rh_exchange_env rh_conn_exchange_env(struct rh_ring *r, struct rh_conn *c);
/* Looks up the ring's cold path (files.cold_path) for C through the ring:
 * RH_OP_WARM completes when it is done. NULL when there is no room. */
struct rh_warm *rh_conn_warm(struct rh_ring *r, struct rh_conn *c);

#endif
