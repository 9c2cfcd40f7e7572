#include "body.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bufpool.h"
#include "file.h"
#include "pagecache.h"
#include "slab.h"
#include "sq.h"

#define PAGE 4096
/* Bytes one connection may sendfile before the ring's other connections
 * get their turn (it then waits for POLLOUT, which fires at once). */
#define SENDFILE_TURN (256u << 10)

void rh_tx_memory(struct rh_tx *t, const char *head, uint32_t len, const char *mem,
		  uint64_t mem_len)
{
	*t = (struct rh_tx){ .mode = RH_TX_MEMORY, .head = head, .head_len = len, .mem = mem,
			     .left = mem_len, .buf = -1 };
}

void rh_tx_file(struct rh_tx *t, const char *head, uint32_t len, struct rh_file *f, uint64_t off,
		uint64_t n, bool reads_only)
{
	*t = (struct rh_tx){ .mode = RH_TX_FILE, .reads_only = reads_only, .head = head,
			     .head_len = len, .file = f, .off = off, .left = n, .buf = -1 };
}

bool rh_tx_multipart(const struct rh_body_env *env, struct rh_tx *t, const char *head,
		     uint32_t len, struct rh_file *f, const struct rh_ranges *ranges,
		     const char *boundary, const char *type, bool reads_only)
{
	struct rh_multipart *m = rh_slab_get(env->multiparts);

	rh_tx_file(t, head, len, f, 0, 0, reads_only);
	if (!m)
		return false;
	m->ranges = *ranges;
	m->next = 0;
	memcpy(m->boundary, boundary, RH_BOUNDARY_MAX);
	snprintf(m->type, sizeof m->type, "%s", type);
	m->size = f->size;
	t->parts = m;
	return true;
}

/* A part's head: "\r\n--" boundary "\r\nContent-Type: " type
 * "\r\nContent-Range: bytes " three numbers "\r\n\r\n" always fits. */
_Static_assert(RH_PART_HEAD_MAX >= RH_BOUNDARY_MAX + sizeof(((struct rh_multipart *)0)->type) +
					  3 * 20 + 64,
	       "a part's head must fit RH_PART_HEAD_MAX");

/* After a part's bytes: the next part's head and bytes, or the tail.
 * False when there is nothing more. */
static bool next_part(struct rh_tx *t)
{
	struct rh_multipart *m = t->parts;
	struct rh_str boundary = { m->boundary, strlen(m->boundary) };
	struct rh_str type = { m->type, strlen(m->type) };
	size_t n;

	if (m->next > m->ranges.n)
		return false;
	if (m->next == m->ranges.n) {
		n = rh_multipart_tail(m->head, sizeof m->head, boundary);
	} else {
		struct rh_byte_range part = m->ranges.r[m->next];
		n = rh_multipart_part_head(m->head, sizeof m->head, boundary, type, part, m->size);
		t->off = part.first;
		t->left = part.last - part.first + 1;
	}
	m->next++;
	t->head = m->head;
	t->head_len = n;
	t->head_sent = 0;
	return true;
}

/* Whether more body bytes follow what is left of the current head and range. */
static bool more_follows(const struct rh_tx *t)
{
	return t->left || (t->parts && t->parts->next <= t->parts->ranges.n);
}

static enum rh_tx_status wait_writable(const struct rh_body_env *env, struct rh_wire *w)
{
	return rh_wire_wait_writable(env->uring, w) < 0 ? RH_TX_CLOSED : RH_TX_BUSY;
}

/* What is left of the head, then of the body in memory or in the pooled
 * buffer, into T->iov: their count. */
static size_t pending_iov(const struct rh_body_env *env, struct rh_tx *t)
{
	size_t n = 0;

	if (t->head_sent < t->head_len)
		t->iov[n++] = (struct iovec){ (char *)t->head + t->head_sent, t->head_len - t->head_sent };
	if (t->mode == RH_TX_MEMORY && t->left)
		t->iov[n++] = (struct iovec){ (char *)t->mem, t->left };
	else if (t->buf >= 0 && t->buf_sent < t->buf_len)
		t->iov[n++] = (struct iovec){ rh_buf(env->bufs, t->buf) + t->buf_sent,
					      t->buf_len - t->buf_sent };
	return n;
}

/* N bytes of the pending ones are sent. */
static void advance(struct rh_tx *t, uint32_t n)
{
	uint32_t head = t->head_len - t->head_sent;

	t->bytes_sent += n;
	if (n < head) {
		t->head_sent += n;
		return;
	}
	t->head_sent = t->head_len;
	n -= head;
	if (t->mode == RH_TX_MEMORY) {
		t->mem += n;
		t->left -= n;
	} else {
		t->buf_sent += n;
	}
}

static enum rh_tx_status push_file(const struct rh_body_env *env, struct rh_tx *t,
				   struct rh_wire *w);

/* The bytes of the next chunk of the file: whole pages, since unaligned
 * reads and sends cost far more (measured: 15 KiB chunks took about twice
 * the CPU of 16 KiB ones). */
static uint32_t chunk_len(const struct rh_body_env *env, const struct rh_tx *t)
{
	size_t chunk = (env->bufs->size & ~(size_t)(PAGE - 1)) - (t->off & (PAGE - 1));

	return t->left < chunk ? t->left : chunk;
}

/* The next chunk into the pooled buffer the last one was in, at once:
 * only when its pages are cached, so the read never waits for the disk.
 * False when they are not (the ring reads it then) or the file shrank
 * (*SHORTER). */
static bool refill_cached(const struct rh_body_env *env, struct rh_tx *t, bool *shorter)
{
	uint32_t len = chunk_len(env, t);
	ssize_t n;

	*shorter = false;
	if (!rh_pagecache_holds(t->file->fd, t->file->size, t->off, len, &t->file->map))
		return false;
	n = pread(t->file->fd, rh_buf(env->bufs, t->buf), len, t->off);
	if (n != (ssize_t)len) {
		*shorter = true;
		return false;
	}
	t->buf_len = len;
	t->buf_sent = 0;
	t->off += len;
	t->left -= len;
	return true;
}

/* An encrypting wire: the pending bytes are written from the ring's
 * thread, a record at a time, until the socket is full (then POLLOUT) or
 * this connection's turn is over (then POLLOUT too, which fires at once).
 * A file's chunks whose pages are cached are read here too, into the same
 * buffer; the others through the ring. */
static enum rh_tx_status write_pending(const struct rh_body_env *env, struct rh_tx *t,
				       struct rh_wire *w)
{
	size_t budget = SENDFILE_TURN;

	for (;;) {
		size_t n = pending_iov(env, t);
		ssize_t sent;
		bool shorter;

		if (!n && t->mode == RH_TX_MEMORY)
			return RH_TX_DONE;
		if (!n && t->buf >= 0 && t->left && budget) {
			if (refill_cached(env, t, &shorter))
				continue;
			if (shorter)
				return RH_TX_SHORT_FILE;
		}
		if (!n) {
			if (t->buf >= 0) { /* the chunk is out */
				rh_bufpool_release(env->bufs, t->buf);
				t->buf = -1;
			}
			return push_file(env, t, w);
		}
		if (!budget)
			return wait_writable(env, w);
		sent = rh_wire_write(w, t->iov, n);
		if (sent == -EAGAIN)
			return wait_writable(env, w);
		if (sent <= 0)
			return RH_TX_CLOSED;
		advance(t, sent);
		budget -= (size_t)sent < budget ? (size_t)sent : budget;
	}
}

/* What is left of the head, then of the body in memory or in the pooled
 * buffer, in one SENDMSG (in SQE, or a new one); written at once instead
 * on a wire that encrypts. */
static enum rh_tx_status send_pending(const struct rh_body_env *env, struct rh_tx *t,
				      struct rh_wire *w, struct io_uring_sqe *sqe)
{
	size_t n;

	if (rh_wire_encrypts(w))
		return write_pending(env, t, w);
	n = pending_iov(env, t);
	t->msg = (struct msghdr){ .msg_iov = t->iov, .msg_iovlen = n };
	return rh_wire_sendmsg(env->uring, w, sqe, &t->msg, t->mode == RH_TX_FILE && more_follows(t))
		       ? RH_TX_CLOSED
		       : RH_TX_BUSY;
}

/* The next chunk of the file into buffer BUF, linked to its send: one
 * submission. A short read (the file shrank) cancels the send. On a wire
 * that encrypts, the read alone: its bytes are encrypted when it is done. */
static enum rh_tx_status read_chunk(const struct rh_body_env *env, struct rh_tx *t,
				    struct rh_wire *w, uint32_t buf, bool linked)
{
	uint32_t len = chunk_len(env, t);
	struct io_uring_sqe *sqe = rh_sq_get(env->uring, linked ? 2 : 1);
	char *dst = rh_buf(env->bufs, buf);

	t->buf = buf;
	if (!sqe)
		return RH_TX_CLOSED;
	if (env->fixed_buffers)
		io_uring_prep_read_fixed(sqe, t->file->fd, dst, len, t->off, 0);
	else
		io_uring_prep_read(sqe, t->file->fd, dst, len, t->off);
	rh_wire_track(w, sqe, RH_OP_READ);
	t->buf_len = len;
	t->buf_sent = 0;
	t->off += len;
	t->left -= len;
	if (!linked)
		return RH_TX_BUSY;
	sqe->flags |= IOSQE_IO_LINK;
	return send_pending(env, t, w, io_uring_get_sqe(env->uring));
}

static enum rh_tx_status read_next(const struct rh_body_env *env, struct rh_tx *t,
				   struct rh_wire *w)
{
	int buf = rh_bufpool_take_in_turn(env->bufs);

	return buf < 0 ? RH_TX_NEED_BUF : read_chunk(env, t, w, buf, !rh_wire_encrypts(w));
}

/* Sends the file range from the ring's thread while its pages are cached,
 * until the socket is full or this connection's turn is over; the first
 * chunk that is not cached goes by the read path instead. */
static enum rh_tx_status push_file(const struct rh_body_env *env, struct rh_tx *t,
				   struct rh_wire *w)
{
	size_t budget = SENDFILE_TURN;
	bool pages = !t->reads_only && rh_wire_sends_pages(w);

	for (;;) {
		uint64_t want;
		ssize_t n;

		if (t->head_sent == t->head_len && !t->left && (!t->parts || !next_part(t)))
			return RH_TX_DONE;
		if (!budget)
			return wait_writable(env, w);
		if (!t->left) /* a multipart tail: its head alone */
			return send_pending(env, t, w, NULL);
		want = t->left < budget ? t->left : budget;
		if (!pages ||
		    !rh_pagecache_holds(t->file->fd, t->file->size, t->off, want, &t->file->map))
			return read_next(env, t, w); /* the head goes with the chunk */
		if (t->head_sent < t->head_len) {
			n = rh_wire_send_now(w, t->head + t->head_sent, t->head_len - t->head_sent,
					     more_follows(t));
			if (n > 0)
				t->head_sent += n;
		} else {
			n = rh_wire_sendfile(w, t->file->fd, &t->off, want);
			if (n == 0)
				return RH_TX_SHORT_FILE;
			if (n > 0)
				t->left -= n;
		}
		if (n == -EAGAIN)
			return wait_writable(env, w);
		if (n < 0)
			return RH_TX_CLOSED;
		t->bytes_sent += n;
		budget -= (size_t)n < budget ? (size_t)n : budget;
	}
}

enum rh_tx_status rh_tx_start(const struct rh_body_env *env, struct rh_tx *t, struct rh_wire *w)
{
	return t->mode == RH_TX_FILE ? push_file(env, t, w) : send_pending(env, t, w, NULL);
}

enum rh_tx_status rh_tx_resume(const struct rh_body_env *env, struct rh_tx *t, struct rh_wire *w,
			       uint32_t buf)
{
	return read_chunk(env, t, w, buf, !rh_wire_encrypts(w));
}

enum rh_tx_status rh_tx_sent(const struct rh_body_env *env, struct rh_tx *t, struct rh_wire *w,
			     int res)
{
	/* io_uring hands a full socket back as -EAGAIN in some states (a
	 * client that has half-closed): wait for room on the ring */
	if (res == -EAGAIN)
		return wait_writable(env, w);
	if (res <= 0)
		return RH_TX_CLOSED;
	advance(t, res);
	if (t->head_sent < t->head_len)
		return send_pending(env, t, w, NULL);
	if (t->mode == RH_TX_MEMORY)
		return t->left ? send_pending(env, t, w, NULL) : RH_TX_DONE;
	if (t->buf >= 0 && t->buf_sent < t->buf_len)
		return send_pending(env, t, w, NULL);
	if (t->buf >= 0) { /* the chunk is out: its buffer goes back before the next is taken */
		rh_bufpool_release(env->bufs, t->buf);
		t->buf = -1;
	}
	return push_file(env, t, w);
}

enum rh_tx_status rh_tx_read(const struct rh_body_env *env, struct rh_tx *t, struct rh_wire *w,
			     int res)
{
	if (res != (int)t->buf_len)
		return RH_TX_SHORT_FILE;
	/* the linked send carries the bytes on, or they are encrypted now */
	return rh_wire_encrypts(w) ? write_pending(env, t, w) : RH_TX_BUSY;
}

enum rh_tx_status rh_tx_writable(const struct rh_body_env *env, struct rh_tx *t,
				 struct rh_wire *w, int res)
{
	if (res < 0)
		return RH_TX_CLOSED;
	if (t->mode == RH_TX_MEMORY || t->buf >= 0) /* the rest of a send */
		return send_pending(env, t, w, NULL);
	return push_file(env, t, w);
}

void rh_tx_head_taken(struct rh_tx *t, uint32_t len)
{
	t->head_sent = len;
}

enum rh_span rh_tx_span(const struct rh_body_env *env, struct rh_tx *t, const char **p,
			uint64_t *len)
{
	for (;;) {
		if (t->head_sent < t->head_len) {
			*p = t->head + t->head_sent;
			*len = t->head_len - t->head_sent;
			return RH_SPAN_MEMORY;
		}
		if (t->mode == RH_TX_MEMORY) {
			*p = t->mem;
			*len = t->left;
			return t->left ? RH_SPAN_MEMORY : RH_SPAN_END;
		}
		if (t->buf >= 0 && t->buf_sent < t->buf_len) {
			*p = rh_buf(env->bufs, t->buf) + t->buf_sent;
			*len = t->buf_len - t->buf_sent;
			return RH_SPAN_MEMORY;
		}
		if (t->left) {
			*len = t->left;
			return RH_SPAN_FILE;
		}
		if (!t->parts || !next_part(t))
			return RH_SPAN_END;
	}
}

void rh_tx_took(const struct rh_body_env *env, struct rh_tx *t, uint64_t n)
{
	if (t->head_sent < t->head_len || t->mode == RH_TX_MEMORY ||
	    (t->buf >= 0 && t->buf_sent < t->buf_len)) {
		advance(t, n);
		if (t->buf >= 0 && t->buf_sent == t->buf_len) {
			rh_bufpool_release(env->bufs, t->buf);
			t->buf = -1;
		}
		return;
	}
	t->off += n;
	t->left -= n;
	t->bytes_sent += n;
}

ssize_t rh_tx_sendfile(struct rh_tx *t, struct rh_wire *w, size_t len)
{
	ssize_t n = rh_wire_sendfile(w, t->file->fd, &t->off, len);

	if (n > 0) {
		t->left -= n;
		t->bytes_sent += n;
	}
	return n;
}

bool rh_tx_cached(const struct rh_tx *t, uint64_t len)
{
	return rh_pagecache_holds(t->file->fd, t->file->size, t->off, len, &t->file->map);
}

enum rh_tx_status rh_tx_read_ahead(const struct rh_body_env *env, struct rh_tx *t,
				   struct rh_wire *w, uint32_t buf)
{
	return read_chunk(env, t, w, buf, false);
}

void rh_tx_unread(const struct rh_body_env *env, struct rh_tx *t)
{
	uint32_t unsent = t->buf_len - t->buf_sent;

	if (t->buf < 0)
		return;
	t->off -= unsent;
	t->left += unsent;
	rh_bufpool_release(env->bufs, t->buf);
	t->buf = -1;
}

void rh_tx_end(const struct rh_body_env *env, struct rh_tx *t)
{
	if (t->buf >= 0)
		rh_bufpool_release(env->bufs, t->buf);
	t->buf = -1;
	if (t->parts)
		rh_slab_put(env->multiparts, t->parts);
	t->parts = NULL;
}
