#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access_log.h"
#include "file.h"
#include "http_cond.h"
#include "http_parse.h"
#include "http_resp.h"
#include "listen.h"
#include "log.h"
#include "ring.h"
#include "server.h"
#include "site.h"

#define LINGER_SECONDS 5
/* Request bodies (which no GET or HEAD needs) up to this size are read and
 * dropped, keeping the connection; a larger one closes it. */
#define MAX_DISCARD (64 * 1024)
#define NO_CONN UINT32_MAX
#define PAGE 4096

static void conn_abort(struct rh_ring *r, struct rh_conn *c);
static void conn_process(struct rh_ring *r, struct rh_conn *c);
static void body_step(struct rh_ring *r, struct rh_conn *c);
static void start_send(struct rh_ring *r, struct rh_conn *c, uint32_t len, bool more);

int rh_conns_init(struct rh_ring *r, uint32_t cap)
{
	/* mapped, not touched: a slot costs memory once it is first used */
	r->conns_bytes = (size_t)cap * sizeof *r->conns;
	r->conns = mmap(NULL, r->conns_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (r->conns == MAP_FAILED) {
		r->conns = NULL;
		return -errno;
	}
	r->conn_cap = cap;
	r->conn_hw = 0;
	r->conn_free = NO_CONN;
	return 0;
}

void rh_conns_destroy(struct rh_ring *r)
{
	for (uint32_t i = 0; i < r->conn_hw; i++)
		if (r->conns[i].phase != RH_CONN_FREE)
			close(r->conns[i].fd);
	if (r->conns)
		munmap(r->conns, r->conns_bytes);
	r->conns = NULL;
}

static uint32_t conn_index(struct rh_ring *r, struct rh_conn *c)
{
	return c - r->conns;
}

static uint64_t ud(struct rh_ring *r, struct rh_conn *c, enum rh_op op)
{
	return rh_ud(op, conn_index(r, c), c->gen);
}

static const struct rh_config *cfg(struct rh_ring *r)
{
	return r->site->cfg;
}

/* The access log record, when there is one, takes the end of the out buffer. */
static size_t rec_offset(const struct rh_ring *r)
{
	return (r->pool.size - RH_ACCESS_REC_MAX) & ~(size_t)7;
}

static size_t out_cap(const struct rh_ring *r, const struct rh_conn *c)
{
	return c->logged ? rec_offset(r) : r->pool.size;
}

static struct rh_access_rec *access_rec(struct rh_ring *r, struct rh_conn *c)
{
	return (struct rh_access_rec *)(rh_buf(&r->pool, c->out) + rec_offset(r));
}

static int get_buffer(struct rh_ring *r)
{
	int b = rh_bufpool_get(&r->pool);
	if (b < 0 && rh_ring_may_warn(r))
		rh_warn("ring %u: all %u buffers in use; answering 503", r->id,
			r->pool.count - r->pool.n_provided);
	return b;
}

static void put_buffer(struct rh_ring *r, int32_t *b)
{
	if (*b >= 0)
		rh_bufpool_put(&r->pool, *b);
	*b = -1;
}

/* Releases the out buffer, logging the request it answered. */
static void release_out(struct rh_ring *r, struct rh_conn *c)
{
	if (c->out >= 0 && c->logged) {
		char peer[RH_PEER_MAX];

		rh_peer_addr(c->fd, peer, sizeof peer);
		rh_access_log_request(&r->access, r->site, r->wall, peer, access_rec(r, c), c->status,
				      c->bytes_sent,
				      c->bytes_sent > c->head_len ? c->bytes_sent - c->head_len : 0,
				      rh_ring_usec());
		rh_ring_log_write(r);
	}
	c->logged = false;
	put_buffer(r, &c->out);
}

/* Receives into a provided buffer, at most LEN bytes. */
static void arm_recv(struct rh_ring *r, struct rh_conn *c, unsigned len)
{
	struct io_uring_sqe *sqe = rh_ring_sqe(r, 1);

	io_uring_prep_recv(sqe, c->fd, NULL, len, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 0;
	io_uring_sqe_set_data64(sqe, ud(r, c, RH_OP_RECV));
	c->pending++;
}

static void send_out(struct rh_ring *r, struct rh_conn *c, bool more)
{
	struct io_uring_sqe *sqe = rh_ring_sqe(r, 1);

	io_uring_prep_send(sqe, c->fd, rh_buf(&r->pool, c->out) + c->out_off,
			   c->out_len - c->out_off, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	io_uring_sqe_set_data64(sqe, ud(r, c, RH_OP_SEND));
	c->pending++;
}

/* Reads LEN bytes of the body into the out buffer after its first OFF
 * bytes (the head, if any), linked to the SEND of all OFF + LEN: one
 * submission. A short read (the file shrank) cancels the SEND. */
static void read_and_send(struct rh_ring *r, struct rh_conn *c, uint32_t off, uint32_t len)
{
	struct io_uring_sqe *sqe = rh_ring_sqe(r, 2);
	char *dst = rh_buf(&r->pool, c->out) + off;

	if (r->fixed_buffers)
		io_uring_prep_read_fixed(sqe, c->file->fd, dst, len, c->body_off, 0);
	else
		io_uring_prep_read(sqe, c->file->fd, dst, len, c->body_off);
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, ud(r, c, RH_OP_READ));
	c->pending++;
	c->read_len = len;
	c->body_off += len;
	c->body_left -= len;
	start_send(r, c, off + len, c->body_left > 0);
}

/* A pipe to splice through: one of the ring's spares, or a new one. */
static bool take_pipe(struct rh_ring *r, struct rh_conn *c)
{
	int fds[2];

	if (r->n_pipes) {
		struct rh_pipe p = r->pipes[--r->n_pipes];
		c->pipe_rd = p.rd;
		c->pipe_wr = p.wr;
		return true;
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		return false;
	fcntl(fds[1], F_SETPIPE_SZ, r->pipe_size); /* best effort: splices adapt */
	c->pipe_rd = fds[0];
	c->pipe_wr = fds[1];
	return true;
}

static void return_pipe(struct rh_ring *r, struct rh_conn *c)
{
	if (c->pipe_rd < 0)
		return;
	/* a pipe that still holds bytes cannot serve another response */
	if (c->pipe_fill == 0 && r->n_pipes < r->pipes_cap) {
		r->pipes[r->n_pipes++] = (struct rh_pipe){ c->pipe_rd, c->pipe_wr };
	} else {
		close(c->pipe_rd);
		close(c->pipe_wr);
	}
	c->pipe_rd = c->pipe_wr = -1;
	c->pipe_fill = 0;
}

static void conn_release(struct rh_ring *r, struct rh_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->file)
		rh_file_put(c->file);
	c->file = NULL;
	put_buffer(r, &c->in);
	release_out(r, c);
	return_pipe(r, c);
	sqe = rh_ring_sqe(r, 1);
	io_uring_prep_close(sqe, c->fd);
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_IGNORE, 0, 0));
	c->phase = RH_CONN_FREE;
	c->gen++;
	c->next_free = r->conn_free;
	r->conn_free = conn_index(r, c);
	atomic_fetch_sub_explicit(&r->n_conns, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&r->srv->open_conns, 1, memory_order_relaxed);
}

/* Ends the connection: shutdown() makes every pending operation complete,
 * and the slot is released when the last one has. */
static void conn_abort(struct rh_ring *r, struct rh_conn *c)
{
	if (c->phase == RH_CONN_CLOSING)
		return;
	c->phase = RH_CONN_CLOSING;
	if (c->pending)
		shutdown(c->fd, SHUT_RDWR);
	else
		conn_release(r, c);
}

void rh_conn_accepted(struct rh_ring *r, int fd)
{
	struct rh_conn *c;
	uint32_t idx, gen;

	if (r->conn_free != NO_CONN) {
		idx = r->conn_free;
		r->conn_free = r->conns[idx].next_free;
	} else {
		idx = r->conn_hw++; /* below conn_cap: the server-wide count says so */
		r->conns[idx].gen = 0;
	}
	c = &r->conns[idx];
	gen = c->gen;
	memset(c, 0, sizeof *c);
	c->gen = gen;
	c->fd = fd;
	c->in = c->out = c->pipe_rd = c->pipe_wr = -1;
	c->phase = RH_CONN_READING;
	c->fresh = true;
	c->deadline = r->now + cfg(r)->header_timeout;
	arm_recv(r, c, r->pool.size);
}

/* Keeps the unparsed bytes DATA[0..LEN) in the connection's in buffer. */
static bool stash_input(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	if (c->in < 0) {
		c->in = get_buffer(r);
		if (c->in < 0)
			return false;
		c->in_off = c->in_len = 0;
	}
	memcpy(rh_buf(&r->pool, c->in) + c->in_off + c->in_len, data, len);
	c->in_len += len;
	return true;
}

/* Sends the ring's 503 and closes: the answer when no buffer is left. */
static void respond_overloaded(struct rh_ring *r, struct rh_conn *c)
{
	struct io_uring_sqe *sqe = rh_ring_sqe(r, 1);

	io_uring_prep_send(sqe, c->fd, r->overload[r->wall & 1], r->overload_len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud(r, c, RH_OP_SEND));
	c->pending++;
	c->phase = RH_CONN_CLOSING; /* its completion ends the connection */
}

static void start_send(struct rh_ring *r, struct rh_conn *c, uint32_t len, bool more)
{
	c->out_off = 0;
	c->out_len = len;
	c->phase = RH_CONN_RESPONDING;
	c->deadline = r->now + cfg(r)->send_timeout;
	send_out(r, c, more);
}

/* SIZE: of the file, for the Content-Range of a 416 */
static void respond_error(struct rh_ring *r, struct rh_conn *c, int status, bool keep_alive,
			  bool head_only, uint64_t size)
{
	struct rh_resp resp = { .status = status, .keep_alive = keep_alive, .date = r->date,
				.head_only = head_only, .size = size };

	size_t n = rh_resp_error(rh_buf(&r->pool, c->out), out_cap(r, c), &resp);

	c->keep_alive = keep_alive;
	if (!keep_alive)
		c->linger = true;
	c->status = status;
	c->head_len = n - (head_only ? 0 : resp.content_length);
	start_send(r, c, n, false);
}

/* A response that is a head alone (204, 301). */
static void respond_head(struct rh_ring *r, struct rh_conn *c, const struct rh_resp *resp)
{
	c->status = resp->status;
	c->head_len = rh_resp_head(rh_buf(&r->pool, c->out), out_cap(r, c), resp);
	start_send(r, c, c->head_len, false);
}

/* The body: small files go with the head in one send (read into the same
 * buffer first, linked); others follow the head (splice or read loop). */
static void respond_file(struct rh_ring *r, struct rh_conn *c, struct rh_resp *resp,
			 bool head_only)
{
	uint64_t threshold = cfg(r)->splice_threshold;
	char *out = rh_buf(&r->pool, c->out);
	size_t cap = out_cap(r, c), head = rh_resp_head(out, cap, resp);
	uint64_t body = head_only ? 0 : resp->content_length;

	if (!head) {
		respond_error(r, c, 500, false, head_only, 0);
		return;
	}
	c->status = resp->status;
	c->head_len = head;
	c->body_left = body;
	if (body && head + body <= cap && (threshold == 0 || body < threshold)) {
		read_and_send(r, c, head, body);
		return;
	}
	c->use_splice = threshold == 0 || body >= threshold;
	start_send(r, c, head, body > 0);
}

/* Decides the response to one parsed request and starts sending it. */
static void respond(struct rh_ring *r, struct rh_conn *c, const struct rh_request *req)
{
	const struct rh_site *site = r->site;
	bool head_only = req->method == RH_METHOD_HEAD;
	char path[RH_MAX_REQUEST_LINE + 1];
	struct rh_resp resp = { .date = r->date, .keep_alive = c->keep_alive };
	uint64_t first, last;
	struct rh_str etag;
	ssize_t plen;
	int status;

	if (req->method == RH_METHOD_OTHER) {
		respond_error(r, c, 405, c->keep_alive, false, 0);
		return;
	}
	if (req->method == RH_METHOD_OPTIONS) {
		resp.status = 204;
		resp.allow = true;
		respond_head(r, c, &resp);
		return;
	}
	plen = rh_path_decode(req->path.p, req->path.len, path, sizeof path);
	if (plen <= 0 || path[0] != '/') {
		respond_error(r, c, 400, false, head_only, 0);
		return;
	}
	status = rh_file_get(&r->files, site, path, plen, r->now, &c->file);
	if (status == 301) {
		resp.status = 301;
		resp.location = req->path;
		resp.location_query = req->query;
		resp.location_has_query = req->has_query;
		respond_head(r, c, &resp);
		return;
	}
	if (status != 200) {
		if (status >= 500 && rh_ring_may_warn(r)) {
			char peer[64];
			struct rh_log_request rq = { peer, head_only ? "HEAD" : "GET", req->path.p,
						     req->path.len, status };
			rh_peer_addr(c->fd, peer, sizeof peer);
			rh_log_req(RH_LOG_WARNING, &rq, "%s: %s", path,
				   status == 503 ? "out of file descriptors" : "cannot open");
		}
		respond_error(r, c, status, c->keep_alive, head_only, 0);
		return;
	}

	etag = (struct rh_str){ c->file->etag, c->file->etag_len };
	resp.status = 200;
	resp.etag = etag;
	resp.last_modified = c->file->last_modified;
	resp.content_type = c->file->mime;
	resp.content_length = c->file->size;
	c->body_off = 0;
	if (rh_not_modified(req, etag, c->file->mtime)) {
		resp.status = 304;
		resp.content_type = NULL;
		head_only = true;
	} else if (req->range.p && req->method == RH_METHOD_GET &&
		   rh_if_range_holds(req, etag, c->file->mtime)) {
		/* GET only: RFC 9110 14.2 defines ranges for no other method */
		switch (rh_range_parse(req->range, c->file->size, &first, &last)) {
		case RH_RANGE_PARTIAL:
			resp.status = 206;
			resp.ranged = true;
			resp.first = first;
			resp.last = last;
			resp.size = c->file->size;
			resp.content_length = last - first + 1;
			c->body_off = first;
			break;
		case RH_RANGE_UNSATISFIABLE:
			rh_file_put(c->file);
			c->file = NULL;
			respond_error(r, c, 416, c->keep_alive, head_only, resp.content_length);
			return;
		case RH_RANGE_WHOLE:
			break;
		}
	}
	respond_file(r, c, &resp, head_only);
}

/* Drops up to AVAILABLE bytes of the body being skipped; returns how many. */
static size_t drop_body(struct rh_conn *c, size_t available)
{
	size_t n = c->skip < available ? c->skip : available;

	c->skip -= n;
	return n;
}

/* Parses the request at DATA and starts its response. Returns the bytes
 * it used, 0 when the head is incomplete. */
static size_t take_request(struct rh_ring *r, struct rh_conn *c, const char *data, size_t len)
{
	struct rh_request req;
	ssize_t n = rh_http_parse(data, len, r->pool.size, &req);

	if (n == 0)
		return 0;
	c->out = get_buffer(r);
	if (c->out < 0) {
		respond_overloaded(r, c);
		return len;
	}
	atomic_fetch_add_explicit(&r->requests, 1, memory_order_relaxed);
	c->fresh = false;
	c->bytes_sent = 0;
	c->logged = rh_access_log_enabled(r->site);
	if (c->logged)
		rh_access_rec_fill(access_rec(r, c), &req, rh_ring_usec());
	if (n < 0) {
		/* the framing is lost: answer, then close */
		respond_error(r, c, -n, false, false, 0);
		return len;
	}
	/* a body is never taken for the next request: it is dropped, the part
	 * that came with the head now, the rest as it arrives */
	c->skip = req.content_length;
	c->keep_alive = req.keep_alive && !r->stopping && c->skip <= MAX_DISCARD;
	c->linger = false;
	respond(r, c, &req);
	return n + drop_body(c, len - n);
}

/* Handles the buffered input: starts the next response, or waits for more. */
static void conn_process(struct rh_ring *r, struct rh_conn *c)
{
	char *in = rh_buf(&r->pool, c->in) + c->in_off;
	size_t used = take_request(r, c, in, c->in_len);

	if (used == 0) { /* incomplete: make room and read on */
		memmove(rh_buf(&r->pool, c->in), in, c->in_len);
		c->in_off = 0;
		arm_recv(r, c, r->pool.size - c->in_len);
		return;
	}
	c->in_off += used;
	c->in_len -= used;
	if (c->in_len == 0)
		put_buffer(r, &c->in);
}

/* After the last byte of a response: next request, more reading, or close. */
static void finish_response(struct rh_ring *r, struct rh_conn *c)
{
	if (c->file)
		rh_file_put(c->file);
	c->file = NULL;
	return_pipe(r, c);
	release_out(r, c);

	if (!c->keep_alive) {
		/* unread bytes on close would reset the connection: a body being
		 * skipped, pipelined requests, or what follows a bad request */
		if (!c->linger && !c->skip && c->in < 0) {
			conn_release(r, c);
			return;
		}
		/* the client may still be sending: a close now would reset the
		 * connection and could destroy the response before it is read */
		put_buffer(r, &c->in);
		shutdown(c->fd, SHUT_WR);
		c->phase = RH_CONN_LINGERING;
		c->deadline = r->now + LINGER_SECONDS;
		arm_recv(r, c, r->pool.size);
		return;
	}
	c->phase = RH_CONN_READING;
	if (c->in >= 0) {
		c->deadline = r->now + cfg(r)->header_timeout;
		conn_process(r, c);
		return;
	}
	c->deadline = r->now + cfg(r)->keepalive_timeout;
	arm_recv(r, c, r->pool.size);
}

static void on_recv(struct rh_ring *r, struct rh_conn *c, int res, unsigned flags)
{
	uint32_t bid = flags >> IORING_CQE_BUFFER_SHIFT;
	const char *data;
	size_t used;

	if (res == -ENOBUFS && c->phase != RH_CONN_CLOSING) {
		/* more receives finished at once than there are buffers; they are
		 * back by the time this is submitted */
		arm_recv(r, c, c->in >= 0 ? r->pool.size - c->in_len : r->pool.size);
		return;
	}
	if (res <= 0 || c->phase == RH_CONN_CLOSING) {
		if (flags & IORING_CQE_F_BUFFER)
			rh_ring_recycle(r, bid);
		conn_abort(r, c);
		return;
	}
	data = rh_buf(&r->pool, bid);
	if (c->phase == RH_CONN_LINGERING) {
		rh_ring_recycle(r, bid);
		arm_recv(r, c, r->pool.size);
		return;
	}
	if (c->skip) {
		size_t dropped = drop_body(c, res);
		if (dropped == (size_t)res) {
			rh_ring_recycle(r, bid);
			arm_recv(r, c, r->pool.size);
			return;
		}
		data += dropped;
		res -= dropped;
	}
	if (c->in >= 0) { /* the rest of a head: join it to what came before */
		bool ok = stash_input(r, c, data, res);
		rh_ring_recycle(r, bid);
		if (ok)
			conn_process(r, c);
		return;
	}
	/* the common case: parse straight from the receive buffer */
	used = take_request(r, c, data, res);
	if (used == 0) {
		c->deadline = r->now + cfg(r)->header_timeout;
		if (stash_input(r, c, data, res))
			arm_recv(r, c, r->pool.size - c->in_len);
		else
			respond_overloaded(r, c);
	} else if (used < (size_t)res && c->phase == RH_CONN_RESPONDING) {
		if (!stash_input(r, c, data + used, res - used)) /* pipelined */
			c->keep_alive = false;
	}
	rh_ring_recycle(r, bid);
}

/* RES bytes reached the socket (or it failed): progress that restarts
 * send_timeout. False when the connection is over. */
static bool sent(struct rh_ring *r, struct rh_conn *c, int res)
{
	if (res <= 0 || c->phase == RH_CONN_CLOSING) {
		conn_abort(r, c);
		return false;
	}
	c->deadline = r->now + cfg(r)->send_timeout;
	c->bytes_sent += res;
	return true;
}

static void on_send(struct rh_ring *r, struct rh_conn *c, int res)
{
	if (!sent(r, c, res))
		return;
	c->out_off += res;
	if (c->out_off < c->out_len) {
		send_out(r, c, c->body_left > 0);
		return;
	}
	if (c->body_left)
		body_step(r, c);
	else
		finish_response(r, c);
}

/* Moves LEN bytes from the pipe to the socket. */
static void splice_out(struct rh_ring *r, struct rh_conn *c, struct io_uring_sqe *sqe,
		       uint32_t len, bool more)
{
	io_uring_prep_splice(sqe, c->pipe_rd, -1, c->fd, -1, len, more ? SPLICE_F_MORE : 0);
	io_uring_sqe_set_data64(sqe, ud(r, c, RH_OP_SPLICE_OUT));
	c->pending++;
}

/* LEN bytes of the file into the pipe, linked to their move on to the
 * socket: io-wq runs both in one go, without a trip through the ring. */
static void splice_pair(struct rh_ring *r, struct rh_conn *c, uint32_t len)
{
	struct io_uring_sqe *sqe = rh_ring_sqe(r, 2);

	io_uring_prep_splice(sqe, c->file->fd, c->body_off, c->pipe_wr, -1, len, 0);
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, ud(r, c, RH_OP_SPLICE_IN));
	c->read_len = len;
	c->pending++;
	splice_out(r, c, io_uring_get_sqe(&r->uring), len, c->body_left > len);
}

/* The next piece of a body that did not go with the head. */
static void body_step(struct rh_ring *r, struct rh_conn *c)
{
	if (!c->use_splice) {
		/* whole pages of the file: unaligned reads and sends cost far more
		 * (measured: 15 KiB chunks took about twice the CPU of 16 KiB ones) */
		size_t chunk = (out_cap(r, c) & ~(size_t)(PAGE - 1)) - (c->body_off & (PAGE - 1));
		read_and_send(r, c, 0, c->body_left < chunk ? c->body_left : chunk);
		return;
	}
	if (c->pipe_rd < 0 && !take_pipe(r, c)) {
		if (rh_ring_may_warn(r))
			rh_warn("ring %u: pipe: %s", r->id, strerror(errno));
		conn_abort(r, c);
		return;
	}
	splice_pair(r, c, c->body_left < r->pipe_size ? c->body_left : r->pipe_size);
}

static void warn_file_changed(struct rh_ring *r, struct rh_conn *c, int res)
{
	char peer[64];
	/* only GET responses carry a body */
	struct rh_log_request rq = { peer, "GET", c->file->key, c->file->key_len, c->status };

	if (!rh_ring_may_warn(r))
		return;
	rh_peer_addr(c->fd, peer, sizeof peer);
	rh_log_req(RH_LOG_WARNING, &rq, "%s: %s while being sent; connection closed", c->file->key,
		   res < 0 ? strerror(-res) : "shorter than announced");
}

static void on_read(struct rh_ring *r, struct rh_conn *c, int res)
{
	/* success: the linked SEND carries the bytes on */
	if (c->phase != RH_CONN_CLOSING && res != (int)c->read_len) {
		warn_file_changed(r, c, res);
		conn_abort(r, c);
	}
}

static void on_splice_in(struct rh_ring *r, struct rh_conn *c, int res)
{
	if (c->phase == RH_CONN_CLOSING)
		return;
	if (res <= 0) {
		warn_file_changed(r, c, res);
		conn_abort(r, c);
		return;
	}
	c->body_off += res;
	c->body_left -= res;
	c->pipe_fill = res;
	if ((uint32_t)res < c->read_len) {
		/* a short splice cancels the linked SPLICE_OUT: move what came */
		c->expect_cancel = true;
		splice_out(r, c, rh_ring_sqe(r, 1), res, c->body_left > 0);
	}
}

static void on_splice_out(struct rh_ring *r, struct rh_conn *c, int res)
{
	if (res == -ECANCELED && c->expect_cancel) {
		c->expect_cancel = false;
		return;
	}
	if (!sent(r, c, res))
		return;
	c->pipe_fill -= res;
	if (c->pipe_fill)
		splice_out(r, c, rh_ring_sqe(r, 1), c->pipe_fill, c->body_left > 0);
	else if (c->body_left)
		body_step(r, c);
	else
		finish_response(r, c);
}

void rh_conn_complete(struct rh_ring *r, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	uint32_t idx = rh_ud_idx(data);
	struct rh_conn *c;

	if (idx >= r->conn_hw)
		return;
	c = &r->conns[idx];
	if (c->phase == RH_CONN_FREE || (c->gen & 0xffffff) != rh_ud_gen(data))
		return; /* for a connection that is gone */
	c->pending--;
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
	case RH_OP_SPLICE_IN:
		on_splice_in(r, c, cqe->res);
		break;
	case RH_OP_SPLICE_OUT:
		on_splice_out(r, c, cqe->res);
		break;
	default:
		break;
	}
	if (c->phase == RH_CONN_CLOSING && c->pending == 0)
		conn_release(r, c);
}

void rh_conns_expire(struct rh_ring *r)
{
	bool hard_stop = r->stopping && r->now >= r->stop_deadline;

	for (uint32_t i = 0; i < r->conn_hw; i++) {
		struct rh_conn *c = &r->conns[i];
		if (c->phase != RH_CONN_FREE && c->phase != RH_CONN_CLOSING &&
		    (c->deadline <= r->now || hard_stop))
			conn_abort(r, c);
	}
}

void rh_conns_drain(struct rh_ring *r)
{
	for (uint32_t i = 0; i < r->conn_hw; i++) {
		struct rh_conn *c = &r->conns[i];
		/* idle between requests: nothing is lost; a request under way is
		 * answered (within its timeouts) and then the connection closes */
		if ((c->phase == RH_CONN_READING && c->in < 0 && !c->fresh) ||
		    c->phase == RH_CONN_LINGERING)
			conn_abort(r, c);
		else if (c->phase != RH_CONN_FREE)
			c->keep_alive = false;
	}
}
