/* From a response plan to the connection's exchange record: the head
 * written out, where the body comes from, what the access log records;
 * and, at the response's end, the record given back. */
#ifndef RH_RESPOND_H
#define RH_RESPOND_H

#include "http_parse.h"

struct rh_ring;
struct rh_conn;

/* Plans the answer to REQ (or to a head that failed to parse with
 * PARSE_STATUS) into C's exchange. Nothing is sent yet. */
void rh_respond_plan(struct rh_ring *r, struct rh_conn *c, const struct rh_request *req,
		     int parse_status);
/* A request body that turned out malformed (400) or too large (413): the
 * planned answer is replaced by STATUS, and the connection closes. */
void rh_respond_refuse_body(struct rh_ring *r, struct rh_conn *c, int status);
/* The response is over: its log record, its file and its buffers go. */
void rh_respond_end(struct rh_ring *r, struct rh_conn *c);

#endif
