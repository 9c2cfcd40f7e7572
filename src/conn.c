#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "clock.h"
#include "exchange.h"
#include "file.h"
#include "h2.h"
#include "log.h"
#include "mailbox.h"
#include "ring.h"
#include "server.h"
#include "site.h"
#include "sq.h"

#define LINGER_SECONDS 5

static void conn_process(struct rh_ring *r, struct rh_conn *c);

int rh_conns_init(struct rh_conn_slab *s, uint32_t cap)
{
	s->bytes = (size_t)cap * sizeof *s->slots;
	s->slots = mmap(NULL, s->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->slots == MAP_FAILED) {
		s->slots = NULL;
		return -errno;
	}
	s->hw = 0;
	s->free = RH_NO_CONN;
	s->buf_waiters = s->recv_waiters = (struct rh_connq){ RH_NO_CONN, RH_NO_CONN };
	return 0;
}

void rh_conns_destroy(struct rh_conn_slab *s)
{
	for (uint32_t i = 0; i < s->hw; i++) {
		if (s->slots[i].phase == RH_CONN_FREE)
			continue;
		rh_tls_free(s->slots[i].w.tls);
		close(s->slots[i].w.fd);
	}
	if (s->slots)
		munmap(s->slots, s->bytes);
	s->slots = NULL;
}

static const struct rh_config *cfg(struct rh_ring *r)
{
	return r->site->cfg;
}

struct rh_exchange_env rh_conn_exchange_env(struct rh_ring *r, struct rh_conn *c)
{
	return (struct rh_exchange_env){
		.site = r->site, .files = &r->files, .body = &r->body, .access = &r->access,
		.stats = &r->stats, .plan = &r->plan, .now = r->now, .wall = r->wall,
		.date = r->date, .random = rh_ring_random(r), .peer = &c->peer,
		.last_warning = &r->last_warning, .may_block = c->warmups >= RH_WARMUPS_MAX,
		.listings = r->srv->listings,
		.listing_since = c->listing_since ? c->listing_since : r->now,
		.wake = rh_mailbox_post, .wake_ctx = &r->mailbox,
		.token = rh_wire_ud(&c->w, RH_OP_LISTING),
		.metrics = rh_ring_metrics_text, .metrics_ctx = r,
		.tls = c->w.tls != NULL,
		.server_name = c->w.tls ? rh_tls_server_name(c->w.tls) : NULL,
		.https_port = r->srv->listeners.tls_port,
	};
}

/* The ring's queues of waiting connections, linked through their slots. */
static struct rh_connq *queue_of(struct rh_ring *r, enum rh_conn_wait what)
{
	return what == RH_WAIT_BUF ? &r->conns.buf_waiters : &r->conns.recv_waiters;
}

static void wait_for(struct rh_ring *r, struct rh_conn *c, enum rh_conn_wait what)
{
	struct rh_connq *q = queue_of(r, what);

	if (what == RH_WAIT_BUF) {
		atomic_fetch_add_explicit(&r->stats.buffer_waits, 1, memory_order_relaxed);
		r->bufs.waiters++;
	}
	c->waiting = what;
	c->wait_next = RH_NO_CONN;
	c->wait_prev = q->tail;
	if (q->tail == RH_NO_CONN)
		q->head = c->w.idx;
	else
		r->conns.slots[q->tail].wait_next = c->w.idx;
	q->tail = c->w.idx;
}

static void stop_waiting(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_connq *q;

	if (c->waiting == RH_WAIT_NONE)
		return;
	if (c->waiting == RH_WAIT_BUF)
		r->bufs.waiters--;
	q = queue_of(r, c->waiting);
	if (c->wait_prev == RH_NO_CONN)
		q->head = c->wait_next;
	else
		r->conns.slots[c->wait_prev].wait_next = c->wait_next;
	if (c->wait_next == RH_NO_CONN)
		q->tail = c->wait_prev;
	else
		r->conns.slots[c->wait_next].wait_prev = c->wait_prev;
	c->waiting = RH_WAIT_NONE;
}

static struct rh_conn *first_waiting(struct rh_ring *r, enum rh_conn_wait what)
{
	struct rh_connq *q = queue_of(r, what);
	struct rh_conn *c;

	if (q->head == RH_NO_CONN)
		return NULL;
	c = &r->conns.slots[q->head];
	stop_waiting(r, c);
	return c;
}

static struct rh_slab *heads_of(struct rh_ring *r, uint32_t cap)
{
	return cap == RH_HEAD_SMALL ? &r->heads : &r->heads_large;
}

static void put_in(struct rh_ring *r, struct rh_conn *c)
{
	if (c->in)
		rh_slab_put(heads_of(r, c->in_cap), c->in);
	c->in = NULL;
	c->in_off = c->in_len = c->in_cap = 0;
}

static bool in_held(const struct rh_conn *c, const char *data)
{
	return c->in && data >= c->in && data < c->in + c->in_cap;
}

/* Keeps DATA[0..LEN) behind the unparsed bytes already held: in a small
 * head buffer while they fit, else in one of buffer_size (the largest
 * head). Heads live apart from the pooled buffers, so a client that sends
 * its head slowly holds no buffer another response could use. */
static bool stash(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	size_t need = c->in_len + len;

	if (!c->in || need > c->in_cap) {
		uint32_t cap = need <= RH_HEAD_SMALL ? RH_HEAD_SMALL : r->bufs.size;
		char *in = need <= cap ? rh_slab_get(heads_of(r, cap)) : NULL;

		if (!in)
			return false;
		if (c->in) {
			memcpy(in, c->in + c->in_off, c->in_len);
			rh_slab_put(heads_of(r, c->in_cap), c->in);
		}
		c->in = in;
		c->in_cap = cap;
		c->in_off = 0;
	} else if (c->in_off + need > c->in_cap) {
		memmove(c->in, c->in + c->in_off, c->in_len);
		c->in_off = 0;
	}
	memcpy(c->in + c->in_off + c->in_len, data, len);
	c->in_len += len;
	return true;
}

/* Gives back the connection's place in the totals it was counted in. */
static void uncount(struct rh_ring *r)
{
	atomic_fetch_sub_explicit(&r->n_conns, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&r->srv->open_conns, 1, memory_order_relaxed);
}

/* The exchange in flight is over: logged, counted, given back. */
static void end_exchange(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_exchange_env env;

	if (!c->x)
		return;
	env = rh_conn_exchange_env(r, c);
	rh_exchange_end(&env, c->x);
	rh_slab_put(&r->exchanges, c->x);
	c->x = NULL;
}

static void conn_release(struct rh_ring *r, struct rh_conn *c)
{
	stop_waiting(r, c);
	if (c->http2)
		rh_h2_free(r, c);
	else
		end_exchange(r, c);
	put_in(r, c);
	rh_wire_close(&r->uring, &c->w);
	c->phase = RH_CONN_FREE;
	c->w.gen++;
	c->next_free = r->conns.free;
	r->conns.free = c->w.idx;
	rh_peer_limit_put(&r->srv->per_ip, &c->peer);
	uncount(r);
}

/* Ends the connection: aborting the wire makes every pending operation
 * complete, and the slot is released when the last one has. */
static void conn_abort(struct rh_ring *r, struct rh_conn *c)
{
	if (c->phase == RH_CONN_CLOSING)
		return;
	c->phase = RH_CONN_CLOSING;
	stop_waiting(r, c);
	if (c->w.pending)
		rh_wire_abort(&c->w);
	else
		conn_release(r, c);
}

/* Receives at most LEN bytes. */
static void arm_recv(struct rh_ring *r, struct rh_conn *c, unsigned len)
{
	if (rh_wire_recv(&r->uring, &c->w, len) < 0)
		conn_abort(r, c);
}

/* Room for the rest of a head: the unparsed bytes go to the front of
 * their buffer and the receive asks for no more than fits behind them. */
static void read_more(struct rh_ring *r, struct rh_conn *c)
{
	arm_recv(r, c, r->bufs.size - c->in_len);
}

void rh_conns_second(struct rh_ring *r)
{
	struct rh_conn_slab *s = &r->conns;

	s->refusal_len = rh_exchange_refusal(s->refusal[r->wall & 1], sizeof s->refusal[0], r->date);
}

void rh_conn_refuse(struct rh_ring *r, int fd, bool tls)
{
	/* a TLS client would take the 503 for a broken handshake: it is
	 * only closed */
	struct io_uring_sqe *sqe = tls ? NULL : rh_sq_get(&r->uring, 2);

	if (!sqe) {
		close(fd);
		return;
	}
	/* hard-linked: the close happens even if the send fails */
	io_uring_prep_send(sqe, fd, r->conns.refusal[r->wall & 1], r->conns.refusal_len,
			   MSG_NOSIGNAL | MSG_DONTWAIT);
	sqe->flags |= IOSQE_IO_HARDLINK;
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_IGNORE, 0, 0));
	sqe = io_uring_get_sqe(&r->uring);
	io_uring_prep_close(sqe, fd);
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_IGNORE, 0, 0));
}

void rh_conn_accepted(struct rh_ring *r, int fd, bool tls)
{
	struct rh_conn_slab *s = &r->conns;
	struct rh_peer peer;
	struct rh_tls *engine = NULL;
	struct rh_conn *c;
	uint32_t idx, gen;

	rh_peer_of_socket(&peer, fd);
	if (!rh_peer_limit_take(&r->srv->per_ip, &peer)) {
		char addr[RH_PEER_STR];
		uncount(r);
		if (rh_ring_may_warn(r)) {
			rh_peer_format(&peer, addr);
			rh_warn("%s has %u connections open, the most allowed (max_connections_per_ip); "
				"answering 503", addr, r->srv->per_ip.per_ip);
		}
		rh_conn_refuse(r, fd, tls);
		return;
	}
	if (tls && !(engine = r->site->tls ? rh_tls_new(r->site, fd) : NULL)) {
		if (rh_ring_may_warn(r))
			rh_warn(r->site->tls ? "ring %u: out of memory for a TLS connection; closed"
					     : "ring %u: a TLS connection, and no site has a certificate "
					       "(tls_certificate); closed",
				r->id);
		rh_peer_limit_put(&r->srv->per_ip, &peer);
		uncount(r);
		close(fd);
		return;
	}

	if (s->free != RH_NO_CONN) {
		idx = s->free;
		s->free = s->slots[idx].next_free;
	} else {
		idx = s->hw++; /* below cap: the server-wide count says so */
		s->slots[idx].w.gen = 0;
	}
	c = &s->slots[idx];
	gen = c->w.gen;
	memset(c, 0, sizeof *c);
	c->w = (struct rh_wire){ .fd = fd, .idx = idx, .gen = gen, .tls = engine };
	c->phase = RH_CONN_READING;
	c->fresh = true;
	c->deadline = r->now + cfg(r)->header_timeout;
	c->peer = peer;
	atomic_fetch_add_explicit(&r->stats.accepts, 1, memory_order_relaxed);
	arm_recv(r, c, r->bufs.size);
}

/* Reads what the client still sends until it closes, then closes: a close
 * with unread bytes, or while bytes are still on their way, would reset
 * the connection and could destroy the response before it is read. */
static void start_lingering(struct rh_ring *r, struct rh_conn *c)
{
	put_in(r, c);
	rh_wire_close_notify(&c->w);
	rh_wire_shutdown_send(&c->w);
	c->phase = RH_CONN_LINGERING;
	c->deadline = r->now + LINGER_SECONDS;
	c->linger_unsent = rh_wire_unsent(&c->w);
	arm_recv(r, c, r->bufs.size);
}

/* What an HTTP/2 session said it does next; ARM: a receive is due (its
 * bytes were taken). Once the connection is ending, only a failure counts. */
static void h2_after(struct rh_ring *r, struct rh_conn *c, enum rh_h2_next next, bool arm)
{
	if (c->phase != RH_CONN_H2) {
		if (next == RH_H2_FAILED)
			conn_abort(r, c);
		return;
	}
	switch (next) {
	case RH_H2_WAIT_BUF:
		if (c->waiting == RH_WAIT_NONE)
			wait_for(r, c, RH_WAIT_BUF);
		/* fall through */
	case RH_H2_GO_ON:
		if (arm)
			arm_recv(r, c, r->bufs.size);
		break;
	case RH_H2_DONE:
		stop_waiting(r, c);
		start_lingering(r, c);
		break;
	case RH_H2_FAILED:
		conn_abort(r, c);
		break;
	}
}

/* Whether the connection's first bytes DATA[0..LEN) begin HTTP/2: 1, 0
 * while they may, -1 when they do not. Over TLS, ALPN said. */
static int speaks_h2(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	if (c->w.tls)
		return rh_tls_h2(c->w.tls) ? 1 : -1;
	return cfg(r)->http2 ? rh_h2_preface(data, len) : -1;
}

/* The connection becomes HTTP/2, and DATA[0..LEN) are its first bytes. */
static void start_h2(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	struct rh_h2 *h2 = rh_h2_new(r, c);

	if (!h2) {
		if (rh_ring_may_warn(r))
			rh_warn("ring %u: out of memory for an HTTP/2 connection; closed", r->id);
		conn_abort(r, c);
		return;
	}
	c->h2 = h2;
	c->http2 = true;
	c->fresh = false;
	c->phase = RH_CONN_H2;
	h2_after(r, c, rh_h2_received(r, c, data, len), true);
	if (r->stopping && c->phase == RH_CONN_H2) /* its first requests are answered, then it goes */
		h2_after(r, c, rh_h2_goaway(r, c), false);
}

/* After the last byte of a response: next request, more reading, or close. */
static void finish_response(struct rh_ring *r, struct rh_conn *c)
{
	end_exchange(r, c);
	if (!c->keep_alive) {
		if (c->linger || c->leftover || c->in || rh_request_in_body(&c->framing) ||
		    rh_wire_unsettled(&c->w)) {
			start_lingering(r, c);
		} else {
			rh_wire_close_notify(&c->w);
			conn_release(r, c);
		}
		return;
	}
	c->phase = RH_CONN_READING;
	if (c->in) /* a pipelined request: its head has begun */
		c->deadline = r->now + cfg(r)->header_timeout;
	if (!c->processing)
		conn_process(r, c);
}

static void warn_file_changed(struct rh_ring *r, struct rh_conn *c, int res)
{
	char peer[RH_PEER_STR], path[4 * 1024];
	struct rh_file *f = c->x->f.file;
	/* only GET responses carry a body */
	struct rh_log_request rq = { peer, "GET", f->key, f->key_len, c->x->f.status };
	size_t n;

	if (!rh_ring_may_warn(r))
		return;
	rh_peer_format(&c->peer, peer);
	n = rh_log_escape(path, sizeof path, f->key, f->key_len);
	rh_log_req(RH_LOG_WARNING, &rq, "%.*s: %s while being sent; connection closed", (int)n,
		   path, res < 0 ? strerror(-res) : "shorter than announced");
}

/* What the transport said it does next. */
static void after_tx(struct rh_ring *r, struct rh_conn *c, enum rh_tx_status st, int res,
		     uint64_t sent_before)
{
	if (c->x && c->x->f.tx.bytes_sent != sent_before) /* progress restarts send_timeout */
		c->deadline = r->now + cfg(r)->send_timeout;
	switch (st) {
	case RH_TX_BUSY:
		break;
	case RH_TX_DONE:
		finish_response(r, c);
		break;
	case RH_TX_NEED_BUF:
		wait_for(r, c, RH_WAIT_BUF);
		break;
	case RH_TX_SHORT_FILE:
		warn_file_changed(r, c, res);
		conn_abort(r, c);
		break;
	case RH_TX_CLOSED:
		conn_abort(r, c);
		break;
	}
}

/* Sends the planned answer. A response that ends at once does not take
 * the next request itself: its caller goes on with the bytes it holds. */
static void start_response(struct rh_ring *r, struct rh_conn *c)
{
	c->phase = RH_CONN_RESPONDING;
	c->deadline = r->now + cfg(r)->send_timeout;
	c->processing = true;
	after_tx(r, c, rh_tx_start(&r->body, &c->x->f.tx, &c->w), 0, 0);
	c->processing = false;
}

/* Drops request body bytes at DATA; once the body has ended, its answer
 * goes out. Returns the bytes used. */
static size_t take_body(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	ssize_t n = rh_request_drop_body(&c->framing, data, len);

	if (n < 0) {
		struct rh_exchange_env env = rh_conn_exchange_env(r, c);

		rh_exchange_refuse_body(&env, c->x, -n);
		c->keep_alive = false;
		start_response(r, c);
		return len; /* the framing is lost: nothing more is taken */
	}
	if (!rh_request_in_body(&c->framing))
		start_response(r, c);
	return n;
}

/* "100 Continue" before the body is read: written at once, since the
 * socket has just delivered a head and so has room; if it cannot be, the
 * client sends its body after its own short wait (RFC 9110 10.1.1). */
static bool invite_body(struct rh_conn *c)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";

	/* a record TLS could not write whole stays due: the connection ends */
	return rh_wire_send_now(&c->w, line, sizeof line - 1, false) == sizeof line - 1 ||
	       !rh_wire_encrypts(&c->w);
}

/* The request's path is not in the dentry cache: the request waits while
 * the ring looks the path up (in io-wq, never on this thread), then it is
 * planned again from the bytes kept in the in buffer. */
struct rh_warm *rh_conn_warm(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_warm *warm = rh_slab_get(&r->warms);
	struct io_uring_sqe *sqe = warm ? rh_sq_get(&r->uring, 1) : NULL;

	if (!sqe) {
		if (warm)
			rh_slab_put(&r->warms, warm);
		if (rh_ring_may_warn(r))
			rh_warn("ring %u: no room to look a path up", r->id);
		return NULL;
	}
	memcpy(warm->path, r->files.cold_path, sizeof warm->path);
	io_uring_prep_statx(sqe, AT_FDCWD, warm->path, 0, STATX_BASIC_STATS, &warm->stx);
	rh_wire_track(&c->w, sqe, RH_OP_WARM);
	return warm;
}

static void warm_path(struct rh_ring *r, struct rh_conn *c)
{
	c->warm = rh_conn_warm(r, c);
	if (!c->warm) {
		conn_abort(r, c);
		return;
	}
	c->phase = RH_CONN_WAITING;
	c->deadline = r->now + cfg(r)->send_timeout;
}

static void on_warm(struct rh_ring *r, struct rh_conn *c)
{
	if (c->http2) {
		if (c->phase == RH_CONN_H2) /* else its session's release gives the record back */
			h2_after(r, c, rh_h2_warmed(r, c), false);
		return;
	}
	rh_slab_put(&r->warms, c->warm);
	c->warm = NULL;
	if (c->phase != RH_CONN_WAITING)
		return;
	c->warmups++;
	c->phase = RH_CONN_READING;
	conn_process(r, c);
}

void rh_conn_listing_ready(struct rh_ring *r, uint64_t token)
{
	uint32_t idx = rh_ud_idx(token);
	struct rh_conn *c = idx < r->conns.hw ? &r->conns.slots[idx] : NULL;

	/* a connection that has gone, or moved on, since it asked */
	if (!c || (c->w.gen & 0xffffff) != rh_ud_gen(token))
		return;
	if (c->phase == RH_CONN_H2) {
		h2_after(r, c, rh_h2_listing_ready(r, c), false);
		return;
	}
	if (c->phase != RH_CONN_LISTING)
		return;
	c->phase = RH_CONN_READING;
	conn_process(r, c);
}

/* Parses the request at DATA and starts its response. Returns the bytes
 * it used, with the part of a body that came along, or 0 when the head is
 * incomplete. DATA stays in place until the response's head is written.
 * A request whose path must be warmed first is kept in the in buffer,
 * and the connection waits. */
static size_t take_request(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	struct rh_request req;
	struct rh_exchange_env env;
	enum rh_exchange_next next;
	ssize_t n;
	bool keep_alive;

	if (c->fresh && !c->warmups) {
		int h2 = speaks_h2(r, c, data, len);

		if (h2 == 0)
			return 0;
		if (h2 > 0) {
			start_h2(r, c, data, len);
			return len;
		}
	}
	n = rh_request_head(data, len, r->bufs.size, &req, &c->framing);
	if (n == 0)
		return 0;
	c->x = rh_slab_get(&r->exchanges);
	if (!c->x) {
		if (rh_ring_may_warn(r))
			rh_warn("ring %u: out of memory for a response; connection closed", r->id);
		conn_abort(r, c);
		return len;
	}
	rh_exchange_begin(c->x, &req, rh_access_log_enabled(r->site), rh_monotonic_usec());
	c->leftover = n > 0 && (size_t)n < len;
	keep_alive = n > 0 && req.keep_alive && !r->stopping && rh_request_body_fits(&c->framing);
	env = rh_conn_exchange_env(r, c);
	next = rh_exchange_plan(&env, c->x, &req, n < 0 ? -n : 0, &keep_alive);
	if (next == RH_X_WAIT_COLD || next == RH_X_WAIT_LISTING) {
		time_t since = env.listing_since;

		rh_exchange_drop(&env, c->x);
		rh_slab_put(&r->exchanges, c->x);
		c->x = NULL;
		if (!in_held(c, data) && !stash(r, c, data, len)) {
			conn_abort(r, c);
			return len;
		}
		if (next == RH_X_WAIT_COLD) {
			warm_path(r, c);
		} else {
			c->phase = RH_CONN_LISTING;
			c->listing_since = since;
			c->deadline = r->now + cfg(r)->send_timeout;
		}
		return in_held(c, data) ? 0 : len;
	}
	atomic_fetch_add_explicit(&r->requests, 1, memory_order_relaxed);
	c->warmups = 0;
	c->listing_since = 0;
	c->fresh = false;
	c->keep_alive = keep_alive;
	c->linger = next == RH_X_SEND_CLOSE;
	if (n < 0 || !rh_request_in_body(&c->framing)) {
		start_response(r, c);
		return n < 0 ? len : (size_t)n; /* after a bad head the framing is lost */
	}
	/* a body that fits is read (and dropped) before the answer, so that a
	 * malformed one is still answered 400; a larger one is answered at once,
	 * and the connection closes after a linger that reads the rest */
	if (!rh_request_body_fits(&c->framing)) {
		start_response(r, c);
		return len;
	}
	if (req.expect_continue && !invite_body(c)) {
		conn_abort(r, c);
		return len;
	}
	c->phase = RH_CONN_READING_BODY;
	return n + take_body(r, c, data + n, len - n);
}

/* Takes the requests held in the in buffer, one after another while their
 * responses finish at once; then reads on. */
static void conn_process(struct rh_ring *r, struct rh_conn *c)
{
	while (c->phase == RH_CONN_READING) {
		size_t used;

		if (!c->in) {
			c->deadline = r->now + cfg(r)->keepalive_timeout;
			arm_recv(r, c, r->bufs.size);
			return;
		}
		used = take_request(r, c, c->in + c->in_off, c->in_len);
		if (c->phase == RH_CONN_WAITING || c->phase == RH_CONN_LISTING)
			return;
		if (!used) {
			read_more(r, c);
			return;
		}
		if (!c->in) /* the response ended the connection */
			return;
		c->in_off += used;
		c->in_len -= used;
		if (!c->in_len)
			put_in(r, c);
	}
	if (c->phase == RH_CONN_READING_BODY && !c->in)
		arm_recv(r, c, r->bufs.size);
}

/* Takes received request bytes at DATA (held until it returns): the body
 * being dropped, or a request; what is left begins the next request. */
static void take_received(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	bool incomplete = false;

	if (c->http2) {
		h2_after(r, c, rh_h2_received(r, c, data, len), true);
		return;
	}
	if (c->phase == RH_CONN_READING_BODY) {
		size_t used = take_body(r, c, data, len);
		data += used;
		len -= used;
	} else if (!c->in) {
		/* the common case: a whole head, parsed where it was received */
		size_t used = take_request(r, c, data, len);
		data += used;
		len -= used;
		/* header_timeout counts from a head's first byte, not from each */
		incomplete = !used;
		if (incomplete)
			c->deadline = r->now + cfg(r)->header_timeout;
	}
	/* what is left begins the next request, unless the connection is ending */
	if (len && (c->phase == RH_CONN_READING || c->phase == RH_CONN_RESPONDING) &&
	    !stash(r, c, data, len)) {
		conn_abort(r, c);
		return;
	}
	if (incomplete) /* parsed once already: read on */
		read_more(r, c);
	else if (c->phase == RH_CONN_READING)
		conn_process(r, c);
	else if (c->phase == RH_CONN_READING_BODY)
		arm_recv(r, c, r->bufs.size);
}

/* A plain HTTP request on a TLS port: a 400 that says so, in plain text,
 * then the close. */
static void answer_plain_http(struct rh_ring *r, struct rh_conn *c)
{
	char answer[1024];
	size_t n = rh_exchange_plain_on_tls(answer, sizeof answer, r->date);

	rh_wire_send_raw(&c->w, answer, n);
	c->keep_alive = false;
	start_lingering(r, c);
}

static void count(atomic_uint_fast64_t *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* A handshake that has just ended, well or not: counted, and said at debug. */
static void handshake_ended(struct rh_ring *r, struct rh_conn *c, bool ok)
{
	struct rh_tls *t = c->w.tls;
	char peer[RH_PEER_STR], how[128];

	if (rh_tls_not_tls(t))
		count(&r->stats.tls_not_tls);
	if (!ok) {
		count(&r->stats.tls_failures);
		return;
	}
	count(&r->stats.tls_handshakes);
	if (rh_tls_kernel_sends(t))
		count(&r->stats.ktls_connections);
	if (rh_log_enabled(RH_LOG_DEBUG)) {
		rh_peer_format(&c->peer, peer);
		rh_tls_describe(t, how, sizeof how);
		rh_debug("%s: TLS %s; sending %s", peer, how,
			 rh_tls_kernel_sends(t) ? "by the kernel (kTLS), files by sendfile"
						: "encrypted in user space, files read then encrypted");
	}
}

/* TLS: the ciphertext DATA[0..LEN) in, the plain bytes it holds taken. */
static void take_ciphertext(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	bool was = rh_tls_established(c->w.tls), closed;
	char *plain;
	size_t n;
	enum rh_tls_in st = rh_tls_feed(c->w.tls, data, len, &plain, &n);

	if (!was && (st != RH_TLS_DATA || rh_tls_established(c->w.tls)))
		handshake_ended(r, c, st == RH_TLS_DATA);
	switch (st) {
	case RH_TLS_PLAIN_HTTP:
		answer_plain_http(r, c);
		return;
	case RH_TLS_CLOSED: /* answered in kind (RFC 8446 6.1) */
		rh_wire_close_notify(&c->w);
		conn_abort(r, c);
		return;
	case RH_TLS_FAILED:
		conn_abort(r, c);
		return;
	case RH_TLS_DATA:
		break;
	}
	closed = rh_tls_peer_closed(c->w.tls);
	if (n)
		take_received(r, c, plain, n); /* which may end the connection */
	if (n && closed) {
		/* those were the last requests: answered, then the close */
		if (c->phase == RH_CONN_READING || c->phase == RH_CONN_READING_BODY ||
		    c->phase == RH_CONN_H2) {
			rh_wire_close_notify(&c->w);
			conn_abort(r, c);
		} else {
			c->keep_alive = false;
		}
	} else if (!n && c->in) /* the rest of a head, or of a record */
		read_more(r, c);
	else if (!n) /* a handshake keeps the deadline of its accept */
		arm_recv(r, c, r->bufs.size);
}

static void on_recv(struct rh_ring *r, struct rh_conn *c, int res, unsigned flags)
{
	uint32_t bid = flags >> IORING_CQE_BUFFER_SHIFT;

	if (flags & IORING_CQE_F_BUFFER)
		rh_bufpool_received(&r->bufs);
	if (res == -ENOBUFS && c->phase != RH_CONN_CLOSING) {
		/* every receive buffer is in use: wait for one to come back */
		wait_for(r, c, RH_WAIT_RECV);
		return;
	}
	if (res <= 0 || c->phase == RH_CONN_CLOSING) {
		if (flags & IORING_CQE_F_BUFFER)
			rh_bufpool_release(&r->bufs, bid);
		conn_abort(r, c);
		return;
	}
	if (c->phase == RH_CONN_LINGERING)
		arm_recv(r, c, r->bufs.size);
	else if (c->w.tls)
		take_ciphertext(r, c, rh_buf(&r->bufs, bid), res);
	else
		take_received(r, c, rh_buf(&r->bufs, bid), res);
	rh_bufpool_release(&r->bufs, bid);
}

static void on_send(struct rh_ring *r, struct rh_conn *c, int res)
{
	uint64_t before;

	if (c->phase == RH_CONN_CLOSING || c->http2)
		return;
	before = c->x->f.tx.bytes_sent;
	after_tx(r, c, rh_tx_sent(&r->body, &c->x->f.tx, &c->w, res), res, before);
}

static void on_read(struct rh_ring *r, struct rh_conn *c, int res)
{
	uint64_t before;

	if (c->phase == RH_CONN_CLOSING)
		return;
	if (c->http2) { /* once it has ended, its session's release takes care */
		if (c->phase == RH_CONN_H2)
			h2_after(r, c, rh_h2_read_done(r, c, res), false);
		return;
	}
	before = c->x->f.tx.bytes_sent;
	after_tx(r, c, rh_tx_read(&r->body, &c->x->f.tx, &c->w, res), res, before);
}

static void on_poll(struct rh_ring *r, struct rh_conn *c, int res)
{
	uint64_t before;

	if (c->phase == RH_CONN_CLOSING)
		return;
	if (c->http2) {
		if (c->phase == RH_CONN_H2)
			h2_after(r, c, rh_h2_writable(r, c, res), false);
		return;
	}
	before = c->x->f.tx.bytes_sent;
	after_tx(r, c, rh_tx_writable(&r->body, &c->x->f.tx, &c->w, res), res, before);
}

void rh_conn_complete(struct rh_ring *r, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	uint32_t idx = rh_ud_idx(data);
	struct rh_conn *c;

	if (idx >= r->conns.hw)
		return;
	c = &r->conns.slots[idx];
	if (c->phase == RH_CONN_FREE || (c->w.gen & 0xffffff) != rh_ud_gen(data))
		return; /* for a connection that is gone */
	c->w.pending--;
	switch (rh_ud_op(data)) {
	case RH_OP_RECV:
		on_recv(r, c, cqe->res, cqe->flags);
		break;
	case RH_OP_SEND:
		on_send(r, c, cqe->res);
		break;
	case RH_OP_READ:
		on_read(r, c, cqe->res);
		break;
	case RH_OP_POLL:
		on_poll(r, c, cqe->res);
		break;
	case RH_OP_WARM:
		on_warm(r, c);
		break;
	default:
		break;
	}
	if (c->phase == RH_CONN_CLOSING && c->w.pending == 0)
		conn_release(r, c);
}

void rh_conns_wake(struct rh_ring *r)
{
	struct rh_conn *c;
	unsigned ready;
	int buf;

	/* responses first: finishing them frees what they hold */
	while (!rh_connq_empty(&r->conns.buf_waiters) && (buf = rh_bufpool_take(&r->bufs)) >= 0) {
		c = first_waiting(r, RH_WAIT_BUF);
		if (c->http2) {
			h2_after(r, c, rh_h2_buffer(r, c, buf), false);
			continue;
		}
		after_tx(r, c, rh_tx_resume(&r->body, &c->x->f.tx, &c->w, buf), 0,
			 c->x->f.tx.bytes_sent);
	}
	rh_bufpool_refill(&r->bufs);
	for (ready = rh_bufpool_ring_ready(&r->bufs); ready; ready--) {
		if (!(c = first_waiting(r, RH_WAIT_RECV)))
			break;
		read_more(r, c);
	}
}

/* A lingering connection whose socket still delivers its last response
 * lingers on while the bytes keep moving. */
static bool still_delivering(struct rh_ring *r, struct rh_conn *c)
{
	uint32_t unsent = rh_wire_unsent(&c->w);

	if (!unsent || unsent == c->linger_unsent)
		return false;
	c->linger_unsent = unsent;
	c->deadline = r->now + LINGER_SECONDS;
	return true;
}

void rh_conns_expire(struct rh_ring *r)
{
	bool hard_stop = r->stopping && r->now >= r->stop_deadline;

	for (uint32_t i = 0; i < r->conns.hw; i++) {
		struct rh_conn *c = &r->conns.slots[i];
		if (c->phase == RH_CONN_FREE || c->phase == RH_CONN_CLOSING)
			continue;
		if (c->phase == RH_CONN_H2 && !hard_stop) {
			h2_after(r, c, rh_h2_tick(r, c), false);
			continue;
		}
		if (hard_stop || (c->deadline <= r->now &&
				  !(c->phase == RH_CONN_LINGERING && still_delivering(r, c))))
			conn_abort(r, c);
	}
}

void rh_conns_drain(struct rh_ring *r)
{
	for (uint32_t i = 0; i < r->conns.hw; i++) {
		struct rh_conn *c = &r->conns.slots[i];
		/* idle between requests: nothing is lost; a request under way is
		 * answered (within its timeouts) and then the connection closes */
		if (c->phase == RH_CONN_H2)
			h2_after(r, c, rh_h2_goaway(r, c), false);
		else if ((c->phase == RH_CONN_READING && !c->in && !c->fresh) ||
		    (c->phase == RH_CONN_LINGERING && !rh_wire_unsettled(&c->w)))
			conn_abort(r, c);
		else if (c->phase != RH_CONN_FREE)
			c->keep_alive = false;
	}
}

void rh_conns_reloaded(struct rh_ring *r)
{
	for (uint32_t i = 0; i < r->conns.hw; i++) {
		struct rh_conn *c = &r->conns.slots[i];

		if (c->phase == RH_CONN_H2)
			h2_after(r, c, rh_h2_goaway(r, c), false);
	}
}
