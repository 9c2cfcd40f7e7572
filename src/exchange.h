/* An exchange: one request and its answer. It turns the request into a
 * plan (handler.h), the plan into a head and a body source (body.h), keeps
 * the access log's facts, and at the end logs and gives everything back.
 * It knows neither the connection nor the wire: what the connection does
 * after it (close, linger, wait) comes back as its answer. An HTTP/1
 * request is one; an HTTP/2 stream will be another. */
#ifndef RH_EXCHANGE_H
#define RH_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "access_log.h"
#include "body.h"
#include "http_parse.h"
#include "peer.h"
#include "stats.h"

struct rh_site;
struct rh_file;
struct rh_file_cache;
struct rh_plan;
struct rh_listings;
struct rh_listing_page;

/* What an exchange needs of its ring, for one call. */
struct rh_exchange_env {
	const struct rh_site *site;
	struct rh_file_cache *files;
	const struct rh_body_env *body;
	struct rh_access_log *access;
	struct rh_ring_stats *stats;
	struct rh_plan *plan; /* the ring's scratch plan: planning never nests */
	time_t now, wall;
	const char *date;
	uint64_t random;
	const struct rh_peer *peer;
	time_t *last_warning; /* the ring's: at most one warning a second */
	bool may_block; /* warmed several times already: look-ups may wait */
	/* listings (see handler.h) */
	struct rh_listings *listings;
	time_t listing_since;
	void (*wake)(void *wake_ctx, uint64_t token);
	void *wake_ctx;
	uint64_t token;
	/* the status endpoint's text (see handler.h) */
	char *(*metrics)(void *ctx, size_t *len);
	void *metrics_ctx;
	/* the connection (see handler.h) */
	bool tls;
	const char *server_name;
	unsigned https_port;
};

/* The record of one exchange in flight: its body's transport state, the
 * access log's request facts and the head, built here rather than in a
 * buffer. */
#define RH_EXCHANGE_SIZE 4096
struct rh_exchange_fixed {
	struct rh_tx tx;
	struct rh_file *file;
	char *owned;	/* a body made for this response, or NULL */
	struct rh_listing_page *page; /* a listing sent, referenced, or NULL */
	char *big_head; /* a head longer than the record holds, or NULL */
	uint16_t status;
	bool logged;	   /* rec holds the request's facts */
	uint32_t head_len; /* of the response head, without a built-in body */
	union {
		struct rh_access_rec rec;
		char rec_bytes[RH_ACCESS_REC_MAX];
	};
};
struct rh_exchange {
	struct rh_exchange_fixed f;
	char head[RH_EXCHANGE_SIZE - sizeof(struct rh_exchange_fixed)];
};

/* What the connection does with a planned exchange. */
enum rh_exchange_next {
	RH_X_SEND,	 /* send the answer */
	RH_X_SEND_CLOSE, /* send it, then close after reading what the client still sends */
	RH_X_WAIT_COLD,	 /* nothing planned: warm env->files->cold_path, then plan again */
	RH_X_WAIT_LISTING, /* nothing planned: plan again once env->wake says the listing is built */
};

/* A fresh record for REQ (its facts kept for the log when LOGGED). */
void rh_exchange_begin(struct rh_exchange *x, const struct rh_request *req, bool logged,
		       uint64_t start_usec);
/* Plans the answer to REQ (or to a head that failed to parse, with
 * PARSE_STATUS) into X; *KEEP_ALIVE: in, whether the connection may stay
 * open after it; out, what the head says. Nothing is sent yet. */
enum rh_exchange_next rh_exchange_plan(const struct rh_exchange_env *env, struct rh_exchange *x,
				       const struct rh_request *req, int parse_status,
				       bool *keep_alive);
/* A request body that turned out malformed (400) or too large (413): the
 * planned answer is replaced by STATUS, and the connection closes. */
void rh_exchange_refuse_body(const struct rh_exchange_env *env, struct rh_exchange *x,
			     int status);
/* The exchange is over: its log record, its counts, its file and its
 * buffers go. */
void rh_exchange_end(const struct rh_exchange_env *env, struct rh_exchange *x);
/* Drops a planned exchange that waits to be planned again: no log, no counts. */
void rh_exchange_drop(const struct rh_exchange_env *env, struct rh_exchange *x);

/* The 400 for a plain HTTP request on a TLS port, saying so: its length
 * in BUF (0: CAP is short). */
size_t rh_exchange_plain_on_tls(char *buf, size_t cap, const char *date);
/* The 503 for a connection over max_connections: its length in BUF. */
size_t rh_exchange_refusal(char *buf, size_t cap, const char *date);

#endif
