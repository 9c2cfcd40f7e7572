#include "wire.h"

#include <errno.h>
#include <liburing.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "sq.h"

void rh_wire_track(struct rh_wire *w, struct io_uring_sqe *sqe, enum rh_op op)
{
	io_uring_sqe_set_data64(sqe, rh_wire_ud(w, op));
	w->pending++;
}

int rh_wire_recv(struct io_uring *u, struct rh_wire *w, unsigned len)
{
	struct io_uring_sqe *sqe = rh_sq_get(u, 1);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv(sqe, w->fd, NULL, len, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 0;
	rh_wire_track(w, sqe, RH_OP_RECV);
	return 0;
}

int rh_wire_sendmsg(struct io_uring *u, struct rh_wire *w, struct io_uring_sqe *sqe,
		    const struct msghdr *msg, bool more)
{
	if (!sqe && !(sqe = rh_sq_get(u, 1)))
		return -EBUSY;
	io_uring_prep_sendmsg(sqe, w->fd, msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	rh_wire_track(w, sqe, RH_OP_SEND);
	return 0;
}

int rh_wire_wait_writable(struct io_uring *u, struct rh_wire *w)
{
	struct io_uring_sqe *sqe = rh_sq_get(u, 1);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, w->fd, POLLOUT);
	rh_wire_track(w, sqe, RH_OP_POLL);
	return 0;
}

ssize_t rh_wire_send_raw(struct rh_wire *w, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(w->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t rh_wire_write(struct rh_wire *w, const struct iovec *iov, int n)
{
	return rh_tls_write(w->tls, iov, n);
}

ssize_t rh_wire_send_now(struct rh_wire *w, const void *buf, size_t len, bool more)
{
	ssize_t n;

	if (rh_wire_encrypts(w)) {
		struct iovec iov = { (void *)buf, len };

		return rh_tls_write(w->tls, &iov, 1);
	}
	do
		n = send(w->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t rh_wire_sendfile(struct rh_wire *w, int fd, uint64_t *off, size_t len)
{
	off_t pos = *off;
	ssize_t n;

	do
		n = sendfile(w->fd, fd, &pos, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*off = pos;
	return n;
}

bool rh_wire_unsettled(const struct rh_wire *w)
{
	int unread = 0;

	if (ioctl(w->fd, SIOCINQ, &unread) == 0 && unread > 0)
		return true;
	return rh_wire_unsent(w) > 0;
}

unsigned rh_wire_unsent(const struct rh_wire *w)
{
	int unsent = 0;

	return ioctl(w->fd, SIOCOUTQ, &unsent) == 0 && unsent > 0 ? (unsigned)unsent : 0;
}

void rh_wire_close_notify(struct rh_wire *w)
{
	if (w->tls)
		rh_tls_close_notify(w->tls);
}

void rh_wire_cork(struct rh_wire *w, bool on)
{
	int v = on;

	setsockopt(w->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v);
}

void rh_wire_shutdown_send(struct rh_wire *w)
{
	shutdown(w->fd, SHUT_WR);
}

void rh_wire_abort(struct rh_wire *w)
{
	shutdown(w->fd, SHUT_RDWR);
}

void rh_wire_close(struct io_uring *u, struct rh_wire *w)
{
	struct io_uring_sqe *sqe = rh_sq_get(u, 1);

	rh_tls_free(w->tls);
	w->tls = NULL;
	if (sqe) {
		io_uring_prep_close(sqe, w->fd);
		io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_IGNORE, 0, 0));
	} else {
		close(w->fd);
	}
	w->fd = -1;
}
