/* Request framing: where a request head ends and how much body follows
 * it, which is read and dropped (no static resource takes a body). */
#ifndef RH_REQUEST_H
#define RH_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_parse.h"

/* Request bodies up to this size are read and dropped, keeping the
 * connection; a larger one closes it. */
#define RH_MAX_DISCARD (64 * 1024)

struct rh_framing {
	uint64_t body_left; /* Content-Length bytes still to drop */
};

/* Parses the head at DATA[0..LEN) (at most MAX_HEAD bytes) into REQ and
 * F. Returns the head's length, 0 when incomplete, or -status. */
ssize_t rh_request_head(const char *data, size_t len, size_t max_head, struct rh_request *req,
			struct rh_framing *f);
/* Whether the connection may take another request after this one's body. */
bool rh_request_body_keeps_connection(const struct rh_framing *f);
/* Drops body bytes at the start of DATA[0..LEN); returns how many. */
size_t rh_request_drop_body(struct rh_framing *f, const char *data, size_t len);
static inline bool rh_request_in_body(const struct rh_framing *f)
{
	return f->body_left > 0;
}

#endif
