/* The access log: one journal entry per request with structured fields, or
 * Common Log Format lines in a file. File lines are buffered per ring; the
 * ring asks what to write (rh_access_log_next_write) and submits the write
 * itself, so that logging never blocks serving. Nothing here knows rings. */
#ifndef RH_ACCESS_LOG_H
#define RH_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http_parse.h"

struct rh_site;

#define RH_ACCESS_BUF (64 * 1024)
#define RH_ACCESS_REC_MAX 512
#define RH_ACCESS_METHOD_MAX 16
#define RH_ACCESS_AGENT_MAX 128

/* Request facts kept from the head until the response ends, at most
 * RH_ACCESS_REC_MAX bytes: the method (up to 16 bytes), the target and
 * the user agent, both truncated to fit. */
#define RH_ACCESS_SITE_MAX 64
struct rh_access_rec {
	uint64_t start_usec;
	uint16_t method_len, target_len, agent_len;
	uint8_t version;
	char site[RH_ACCESS_SITE_MAX]; /* the site's name (truncated), or "" */
	char text[RH_ACCESS_REC_MAX - 16 - RH_ACCESS_SITE_MAX]; /* method, target, user agent */
};

struct rh_access_log {
	char *bufs[2];
	size_t len[2];
	int active;		 /* buffer taking new lines */
	bool due;		 /* the tick asked for the buffered lines */
	struct rh_site *writing; /* the site whose file a write in flight goes to */
	uint64_t dropped;
	time_t wall;		 /* the latest wall-clock second seen */
	time_t last_warning;
};

int rh_access_log_init(struct rh_access_log *log);
void rh_access_log_destroy(struct rh_access_log *log);
/* Whether SITE logs requests at all. */
bool rh_access_log_enabled(const struct rh_site *site);
void rh_access_rec_fill(struct rh_access_rec *rec, const struct rh_request *req,
			uint64_t start_usec);
/* What the log records as the request's target: the normalized path
 * (percent-encoded) and the query, once the handler has them. */
void rh_access_rec_target(struct rh_access_rec *rec, const char *target, size_t len);
/* The name of the site that answered: in CLF lines a last, quoted field
 * (when not empty), in journal entries SITE=. */
void rh_access_rec_site(struct rh_access_rec *rec, const char *name);
/* One request is done: BYTES_SENT in all, BODY_BYTES of them the body.
 * PEER is the client's address as text, WALL the time of day in seconds,
 * NOW_USEC the clock of REC's start_usec. */
void rh_access_log_request(struct rh_access_log *log, const struct rh_site *site, time_t wall,
			   const char *peer, const struct rh_access_rec *rec, int status,
			   uint64_t bytes_sent, uint64_t body_bytes, uint64_t now_usec);
/* Once a second: whatever is buffered becomes due for writing. */
void rh_access_log_tick(struct rh_access_log *log);
/* The write to submit now, if any: *BUF and *LEN to append to
 * SITE->access_fd. True takes a reference on SITE until the completion,
 * which goes to rh_access_log_written(). Asked after each logged request,
 * each tick and each completion; says yes when a buffer is half full or
 * the tick asked, and no while a write is in flight. */
bool rh_access_log_next_write(struct rh_access_log *log, struct rh_site *site,
			      const char **buf, size_t *len);
void rh_access_log_written(struct rh_access_log *log, int res);
/* At the ring's end: what is still buffered, written synchronously. */
void rh_access_log_final_flush(struct rh_access_log *log, const struct rh_site *site);

#endif
