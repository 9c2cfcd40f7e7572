/* HTTP/2 (RFC 9113) on a connection: a libnghttp2 session does the
 * framing, HPACK, flow control and stream states; this file feeds it the
 * bytes the wire received, plans each stream as an exchange (exchange.h),
 * and writes what the session and the streams' body sources have to send
 * from the ring's thread, never waiting:
 *  - frames from the session, and DATA frames' heads, are gathered into a
 *    buffer of the connection's, written when it fills or when nothing
 *    more is due, so that many small responses make one send (one TLS
 *    record);
 *  - DATA from memory (the file cache, a listing, an error page) is
 *    copied into that buffer behind its frame head;
 *  - DATA from a file whose pages are cached: on plain TCP and kTLS the
 *    frame head, then sendfile(2) of exactly the frame's length; when the
 *    wire encrypts, pread(2) into the buffer behind the head;
 *  - pages not cached are read through the ring into a pooled buffer
 *    first (one read per connection at a time), and the stream waits
 *    meanwhile without holding up the others.
 * A stream whose window stays closed gives its pooled buffer back; one
 * that cannot send for send_timeout is reset. The limits that hold
 * against hostile peers (rapid reset, CONTINUATION, header lists, frame
 * floods) are in h2.c, next to the callbacks that count them. */
#ifndef RH_H2_H
#define RH_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slab.h"

struct rh_ring;
struct rh_conn;
struct rh_h2;

/* A ring's records for its HTTP/2 connections. */
struct rh_h2_pool {
	struct rh_slab sessions, streams;
	struct rh_slab outs; /* out buffers, held while bytes wait to be written */
};

void rh_h2_pool_init(struct rh_h2_pool *p);
void rh_h2_pool_destroy(struct rh_h2_pool *p);

/* What the connection does after a call. */
enum rh_h2_next {
	RH_H2_GO_ON,	/* nothing: the session goes on */
	RH_H2_WAIT_BUF, /* wait for a pooled buffer, then rh_h2_buffer */
	RH_H2_DONE,	/* over, everything sent: close gracefully */
	RH_H2_FAILED,	/* the socket or the peer failed: close at once */
};

/* Whether DATA[0..LEN) begins with the client's connection preface: 1
 * (whole), 0 (a part of it so far), -1 (not). */
int rh_h2_preface(const char *data, size_t len);

/* Makes C an HTTP/2 connection; its SETTINGS go out with the first write.
 * NULL when out of memory. */
struct rh_h2 *rh_h2_new(struct rh_ring *r, struct rh_conn *c);
/* Ends every stream (each logged) and the session. */
void rh_h2_free(struct rh_ring *r, struct rh_conn *c);

/* Bytes received (decrypted, over TLS); the caller then receives again. */
enum rh_h2_next rh_h2_received(struct rh_ring *r, struct rh_conn *c, const char *data,
			       size_t len);
/* The socket has room. */
enum rh_h2_next rh_h2_writable(struct rh_ring *r, struct rh_conn *c, int res);
/* The read of a stream's next chunk completed. */
enum rh_h2_next rh_h2_read_done(struct rh_ring *r, struct rh_conn *c, int res);
/* Pooled buffer BUF is the connection's now. */
enum rh_h2_next rh_h2_buffer(struct rh_ring *r, struct rh_conn *c, uint32_t buf);
/* The look-up of a path for a stream is done. */
enum rh_h2_next rh_h2_warmed(struct rh_ring *r, struct rh_conn *c);
/* A listing some stream waits for is built. */
enum rh_h2_next rh_h2_listing_ready(struct rh_ring *r, struct rh_conn *c);
/* Once a second: streams past send_timeout, idle connections. */
enum rh_h2_next rh_h2_tick(struct rh_ring *r, struct rh_conn *c);
/* Stop or reload: GOAWAY; the streams in flight finish, then the close. */
enum rh_h2_next rh_h2_goaway(struct rh_ring *r, struct rh_conn *c);

#endif
