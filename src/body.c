#include "body.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>

#include "conn.h"
#include "file.h"
#include "ring.h"
#include "sq.h"

#define PAGE 4096
/* Bytes one connection may sendfile before the ring's other connections
 * get their turn (it then waits for POLLOUT, which fires at once). */
#define SENDFILE_TURN (256u << 10)

static enum rh_tx_status submit(struct rh_conn *c, struct io_uring_sqe *sqe, enum rh_op op)
{
	io_uring_sqe_set_data64(sqe, rh_conn_ud(c, op));
	c->pending++;
	return RH_TX_BUSY;
}

/* What is left of the head, then of the body in memory or in the pooled
 * buffer, in one SENDMSG. */
static enum rh_tx_status send_pending(struct rh_ring *r, struct rh_conn *c, struct io_uring_sqe *sqe)
{
	struct rh_tx *t = &c->x->f.tx;
	size_t n = 0;
	bool more;

	if (!sqe && !(sqe = rh_sq_get(&r->uring, 1)))
		return RH_TX_CLOSED;
	if (t->head_sent < t->head_len)
		t->iov[n++] = (struct iovec){ (char *)t->head + t->head_sent, t->head_len - t->head_sent };
	if (t->mode == RH_TX_MEMORY && t->left)
		t->iov[n++] = (struct iovec){ (char *)t->mem, t->left };
	else if (t->mode == RH_TX_READ && t->buf >= 0)
		t->iov[n++] = (struct iovec){ rh_buf(&r->bufs, t->buf) + t->buf_sent,
					      t->buf_len - t->buf_sent };
	t->msg = (struct msghdr){ .msg_iov = t->iov, .msg_iovlen = n };
	more = t->mode == RH_TX_READ && t->left; /* more chunks follow this send */
	io_uring_prep_sendmsg(sqe, c->fd, &t->msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	return submit(c, sqe, RH_OP_SEND);
}

/* The next chunk of the file into buffer BUF, linked to its send: one
 * submission. A short read (the file shrank) cancels the send. */
static enum rh_tx_status read_chunk(struct rh_ring *r, struct rh_conn *c, uint32_t buf)
{
	struct rh_tx *t = &c->x->f.tx;
	/* whole pages of the file: unaligned reads and sends cost far more
	 * (measured: 15 KiB chunks took about twice the CPU of 16 KiB ones) */
	size_t chunk = (r->bufs.size & ~(size_t)(PAGE - 1)) - (t->off & (PAGE - 1));
	uint32_t len = t->left < chunk ? t->left : chunk;
	struct io_uring_sqe *sqe = rh_sq_get(&r->uring, 2);
	char *dst = rh_buf(&r->bufs, buf);

	t->buf = buf;
	if (!sqe)
		return RH_TX_CLOSED;
	if (r->fixed_buffers)
		io_uring_prep_read_fixed(sqe, t->fd, dst, len, t->off, 0);
	else
		io_uring_prep_read(sqe, t->fd, dst, len, t->off);
	sqe->flags |= IOSQE_IO_LINK;
	submit(c, sqe, RH_OP_READ);
	t->read_len = t->buf_len = len;
	t->buf_sent = 0;
	t->off += len;
	t->left -= len;
	return send_pending(r, c, io_uring_get_sqe(&r->uring));
}

/* A pooled buffer for the next chunk, unless others wait for one first. */
static enum rh_tx_status next_chunk(struct rh_ring *r, struct rh_conn *c)
{
	int buf = rh_connq_empty(&r->conns.buf_waiters) ? rh_bufpool_take(&r->bufs) : -1;

	return buf < 0 ? RH_TX_NEED_BUF : read_chunk(r, c, buf);
}

static enum rh_tx_status wait_writable(struct rh_ring *r, struct rh_conn *c)
{
	struct io_uring_sqe *sqe = rh_sq_get(&r->uring, 1);

	if (!sqe)
		return RH_TX_CLOSED;
	io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
	return submit(c, sqe, RH_OP_POLL);
}

void rh_multipart_init(struct rh_multipart *m, const struct rh_ranges *ranges,
		       const char *boundary, const char *type, uint64_t size)
{
	m->ranges = *ranges;
	m->next = 0;
	memcpy(m->boundary, boundary, RH_BOUNDARY_MAX);
	snprintf(m->type, sizeof m->type, "%s", type);
	m->size = size;
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

/* What is left of the head, then the file, straight from the ring's
 * thread until the socket is full or this connection's turn is over. */
static enum rh_tx_status push_sendfile(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_tx *t = &c->x->f.tx;
	size_t budget = SENDFILE_TURN;

	for (;;) {
		bool more;
		ssize_t n;

		if (t->head_sent == t->head_len && !t->left && (!t->parts || !next_part(t)))
			break;
		if (!budget)
			return wait_writable(r, c);
		more = t->left || (t->parts && t->parts->next <= t->parts->ranges.n);
		if (t->head_sent < t->head_len) {
			n = send(c->fd, t->head + t->head_sent, t->head_len - t->head_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0));
			if (n > 0)
				t->head_sent += n;
		} else {
			off_t off = t->off;
			n = sendfile(c->fd, t->fd, &off, t->left < budget ? t->left : budget);
			if (n == 0)
				return RH_TX_SHORT_FILE;
			if (n > 0) {
				t->off += n;
				t->left -= n;
			}
		}
		if (n < 0) {
			if (errno == EAGAIN)
				return wait_writable(r, c);
			if (errno == EINTR)
				continue;
			return RH_TX_CLOSED;
		}
		t->bytes_sent += n;
		budget -= (size_t)n < budget ? (size_t)n : budget;
	}
	return RH_TX_DONE;
}

enum rh_tx_status rh_tx_start(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_tx *t = &c->x->f.tx;

	switch (t->mode) {
	case RH_TX_SENDFILE:
		return push_sendfile(r, c);
	case RH_TX_READ:
		return next_chunk(r, c);
	default:
		return send_pending(r, c, NULL);
	}
}

enum rh_tx_status rh_tx_resume(struct rh_ring *r, struct rh_conn *c, uint32_t buf)
{
	return read_chunk(r, c, buf);
}

enum rh_tx_status rh_tx_sent(struct rh_ring *r, struct rh_conn *c, int res)
{
	struct rh_tx *t = &c->x->f.tx;
	uint32_t n = res, head = t->head_len - t->head_sent;

	/* io_uring hands a full socket back as -EAGAIN in some states (a
	 * client that has half-closed): wait for room on the ring */
	if (res == -EAGAIN)
		return wait_writable(r, c);
	if (res <= 0)
		return RH_TX_CLOSED;
	t->bytes_sent += n;
	if (n < head) {
		t->head_sent += n;
		return send_pending(r, c, NULL);
	}
	t->head_sent = t->head_len;
	n -= head;
	if (t->mode == RH_TX_MEMORY) {
		t->mem += n;
		t->left -= n;
		return t->left ? send_pending(r, c, NULL) : RH_TX_DONE;
	}
	t->buf_sent += n;
	if (t->buf >= 0 && t->buf_sent < t->buf_len)
		return send_pending(r, c, NULL);
	if (t->buf >= 0) { /* the chunk is out: its buffer goes back before the next is taken */
		rh_bufpool_release(&r->bufs, t->buf);
		t->buf = -1;
	}
	return t->left ? next_chunk(r, c) : RH_TX_DONE;
}

enum rh_tx_status rh_tx_read(struct rh_conn *c, int res)
{
	/* success: the linked send carries the bytes on */
	return res == (int)c->x->f.tx.read_len ? RH_TX_BUSY : RH_TX_SHORT_FILE;
}

enum rh_tx_status rh_tx_writable(struct rh_ring *r, struct rh_conn *c, int res)
{
	if (res < 0)
		return RH_TX_CLOSED;
	if (c->x->f.tx.mode == RH_TX_SENDFILE)
		return push_sendfile(r, c);
	return send_pending(r, c, NULL);
}

void rh_tx_end(struct rh_ring *r, struct rh_tx *t)
{
	if (t->buf >= 0)
		rh_bufpool_release(&r->bufs, t->buf);
	t->buf = -1;
	if (t->parts)
		rh_slab_put(&r->multiparts, t->parts);
	t->parts = NULL;
}
