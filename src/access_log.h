/* The access log: one journal entry per request with structured fields, or
 * Common Log Format lines in a file, buffered per ring and written by the
 * ring itself (IORING_OP_WRITE), so that logging never blocks serving. */
#ifndef RH_ACCESS_LOG_H
#define RH_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http_parse.h"

struct rh_site;

#define RH_ACCESS_BUF (64 * 1024)

/* Request facts kept from the head until the response ends. It lives in
 * the response's exchange record, so logging allocates nothing. */
struct rh_access_rec {
	uint64_t start_usec;
	uint16_t method_len, target_len, agent_len;
	uint8_t version;
	char text[]; /* method, target, user agent */
};
#define RH_ACCESS_REC_MAX 1024

struct rh_access_log {
	char *bufs[2];
	size_t len[2];
	int active;		 /* buffer taking new lines */
	struct rh_site *writing; /* the site whose file a write in flight goes to */
	uint64_t dropped;
	time_t last_warning;
};

int rh_access_log_init(struct rh_access_log *log);
void rh_access_log_destroy(struct rh_access_log *log);
/* Whether SITE logs requests at all. */
bool rh_access_log_enabled(const struct rh_site *site);
/* Fills REC (of RH_ACCESS_REC_MAX bytes) from the request. */
void rh_access_rec_fill(struct rh_access_rec *rec, const struct rh_request *req,
			uint64_t start_usec);
/* One request is done: BYTES_SENT in all, BODY_BYTES of them the body.
 * WALL: the time in seconds; PEER: the client's address. */
void rh_access_log_request(struct rh_access_log *log, const struct rh_site *site, time_t wall,
			   const char *peer, const struct rh_access_rec *rec, int status,
			   uint64_t bytes_sent, uint64_t body_bytes, uint64_t now_usec);
/* Buffered lines to write to SITE's file, if any and no write is in
 * flight: the caller submits the write and reports it to
 * rh_access_log_written. Every tick, and when a buffer fills. */
bool rh_access_log_next_write(struct rh_access_log *log, struct rh_site *site, const char **buf,
			      size_t *len);
void rh_access_log_written(struct rh_access_log *log, int res);
/* Whether the lines buffered so far are worth a write before the tick. */
static inline bool rh_access_log_half_full(const struct rh_access_log *log)
{
	return log->len[log->active] >= RH_ACCESS_BUF / 2;
}
/* At the ring's end: what is still buffered, written synchronously. */
void rh_access_log_final_flush(struct rh_access_log *log, const struct rh_site *site);

#endif
