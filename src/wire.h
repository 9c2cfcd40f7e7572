/* The wire: how a connection's bytes reach its socket. The layers above
 * (the connection, the exchange, the body sources) ask it to receive, to
 * send, to send file pages, to wait for room, and never touch the socket
 * themselves, so that a wire that encrypts can take this one's place.
 *
 * On plain TCP, on a nonblocking socket: RECV into the ring's provided
 * buffers, SEND and SENDMSG through the ring, sendfile(2) and short sends
 * straight from the ring's thread (they return at once on a full socket),
 * and POLLOUT through the ring to wait for room.
 *
 * With TLS (tls.h) it receives the same way and the connection has what
 * it receives decrypted (rh_tls_feed). Encrypting in user space, it writes
 * records from the ring's thread (rh_wire_write) instead of SEND, SENDMSG
 * and sendfile; with kTLS the kernel encrypts, and it sends as plain TCP.
 *
 * Every operation it submits carries the wire's slot index, generation
 * and the operation in user_data (ud.h), and is counted in PENDING until
 * its completion is seen, so a connection knows when its slot is free. */
#ifndef RH_WIRE_H
#define RH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "tls.h"
#include "ud.h"

struct io_uring;
struct io_uring_sqe;

struct rh_wire {
	int fd;
	uint32_t idx; /* the connection's slot */
	uint32_t gen; /* bumped each time the slot is reused */
	uint8_t pending; /* operations in flight */
	struct rh_tls *tls; /* NULL: plain TCP */
};

static inline uint64_t rh_wire_ud(const struct rh_wire *w, enum rh_op op)
{
	return rh_ud(op, w->idx, w->gen);
}

/* Tags SQE as the wire's operation OP and counts it in flight. */
void rh_wire_track(struct rh_wire *w, struct io_uring_sqe *sqe, enum rh_op op);

/* A receive of at most LEN bytes into a provided buffer (group 0): RH_OP_RECV.
 * -EBUSY when the ring takes no more submissions. */
int rh_wire_recv(struct io_uring *u, struct rh_wire *w, unsigned len);
/* MSG sent through the ring, in SQE (NULL: a new one): RH_OP_SEND. MORE:
 * further bytes follow at once (MSG_MORE). */
int rh_wire_sendmsg(struct io_uring *u, struct rh_wire *w, struct io_uring_sqe *sqe,
		    const struct msghdr *msg, bool more);
/* A POLLOUT through the ring: RH_OP_POLL completes when there is room. */
int rh_wire_wait_writable(struct io_uring *u, struct rh_wire *w);

/* Whether file pages can go to the socket without passing through user
 * space (sendfile): plain TCP, and TLS the kernel encrypts. */
static inline bool rh_wire_sends_pages(const struct rh_wire *w)
{
	return !w->tls || rh_tls_kernel_sends(w->tls);
}
/* Whether bytes are encrypted here before they are sent: then they go by
 * rh_wire_write alone, never through the ring or by sendfile. */
static inline bool rh_wire_encrypts(const struct rh_wire *w)
{
	return w->tls && !rh_tls_kernel_sends(w->tls);
}
/* On a wire that encrypts: some of the bytes of IOV[0..N), at once from
 * the ring's thread: the count taken, or -errno (-EAGAIN: full; the next
 * call must offer the same bytes again). */
ssize_t rh_wire_write(struct rh_wire *w, const struct iovec *iov, int n);
/* Bytes straight to the socket, past any TLS: the answer to a plain HTTP
 * request on a TLS port. */
ssize_t rh_wire_send_raw(struct rh_wire *w, const void *buf, size_t len);
/* Bytes sent at once from the ring's thread, or -errno (-EAGAIN: full). */
ssize_t rh_wire_send_now(struct rh_wire *w, const void *buf, size_t len, bool more);
/* Up to LEN bytes of file FD from *OFF, at once; *OFF moves on. Returns
 * the bytes sent, 0 at the file's end, or -errno (-EAGAIN: full). */
ssize_t rh_wire_sendfile(struct rh_wire *w, int fd, uint64_t *off, size_t len);

/* Bytes the client sent that nobody read, and bytes the socket has not
 * yet delivered: a close with either would reset the connection or could. */
bool rh_wire_unsettled(const struct rh_wire *w);
/* Bytes sent that the peer has not yet acknowledged. */
unsigned rh_wire_unsent(const struct rh_wire *w);
/* TLS: close_notify, when the socket takes it at once. */
void rh_wire_close_notify(struct rh_wire *w);
/* ON: what is written is held for full segments (TCP_CORK) until OFF,
 * which sends what is held. */
void rh_wire_cork(struct rh_wire *w, bool on);
/* No more sending (after close_notify): the peer reads to the end, then
 * sees the FIN. */
void rh_wire_shutdown_send(struct rh_wire *w);
/* Makes every operation in flight complete at once. */
void rh_wire_abort(struct rh_wire *w);
/* Closes the socket (through the ring when it can take it) and ends its
 * TLS engine. */
void rh_wire_close(struct io_uring *u, struct rh_wire *w);

#endif
