/* Request framing: where a request head ends and how its body is framed
 * (Content-Length or chunked, RFC 9112 6); no static resource takes a
 * body, so it is read and dropped. */
#ifndef RH_REQUEST_H
#define RH_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_chunked.h"
#include "http_parse.h"

/* Request bodies up to this size are read and dropped before the answer,
 * keeping the connection; a larger one is answered at once, then the
 * connection closes. A chunked body is measured on the wire, framing
 * included. */
#define RH_MAX_DISCARD (64 * 1024)

struct rh_framing {
	uint64_t body_left; /* Content-Length bytes still to drop */
	bool chunked;	    /* a chunked body is being dropped */
	struct rh_chunked chunks;
};

/* Parses the head at DATA[0..LEN) (at most MAX_HEAD bytes) into REQ and
 * F. Returns the head's length, 0 when incomplete, or -status. */
ssize_t rh_request_head(const char *data, size_t len, size_t max_head, struct rh_request *req,
			struct rh_framing *f);
/* Whether a body follows that is still to be dropped. */
bool rh_request_in_body(const struct rh_framing *f);
/* Whether the body is small enough to be read before the answer: a
 * Content-Length over RH_MAX_DISCARD is known to be too large at once. */
bool rh_request_body_fits(const struct rh_framing *f);
/* Drops body bytes at the start of DATA[0..LEN). Returns how many, or
 * -400 for a malformed chunked body and -413 for one that grows past
 * RH_MAX_DISCARD bytes on the wire. */
ssize_t rh_request_drop_body(struct rh_framing *f, const char *data, size_t len);

#endif
