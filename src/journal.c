#include "journal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define SEND_BUFFER (8 << 20) /* what sd-journal asks for: bursts queue up */

static int journal_fd = -1;
static atomic_uint_fast64_t dropped;
static atomic_int last_error;

void rh_journal_init(void)
{
	int size = SEND_BUFFER;

	if (journal_fd >= 0)
		return;
	journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (journal_fd >= 0 &&
	    setsockopt(journal_fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
		setsockopt(journal_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

void rh_journal_begin(struct rh_journal_entry *e)
{
	e->len = 0;
	e->overflow = false;
}

static void put(struct rh_journal_entry *e, const void *p, size_t n)
{
	if (e->overflow || n > sizeof e->data - e->len) {
		e->overflow = true;
		return;
	}
	if (n) /* P may be NULL for an empty value */
		memcpy(e->data + e->len, p, n);
	e->len += n;
}

void rh_journal_add(struct rh_journal_entry *e, const char *name, const char *value, size_t len)
{
	put(e, name, strlen(name));
	if (len && memchr(value, '\n', len)) {
		/* NAME \n, the length as 64-bit little endian, the bytes, \n */
		unsigned char le[8];
		for (int i = 0; i < 8; i++)
			le[i] = (uint64_t)len >> (8 * i);
		put(e, "\n", 1);
		put(e, le, sizeof le);
	} else {
		put(e, "=", 1);
	}
	put(e, value, len);
	put(e, "\n", 1);
}

void rh_journal_vaddf(struct rh_journal_entry *e, const char *name, const char *fmt, va_list ap)
{
	char value[2048];
	int n = vsnprintf(value, sizeof value, fmt, ap);

	if (n < 0)
		n = 0;
	rh_journal_add(e, name, value, (size_t)n < sizeof value ? (size_t)n : sizeof value - 1);
}

void rh_journal_addf(struct rh_journal_entry *e, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rh_journal_vaddf(e, name, fmt, ap);
	va_end(ap);
}

static int drop(int err)
{
	atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
	atomic_store_explicit(&last_error, err, memory_order_relaxed);
	return -err;
}

/* The ring's own rule is that nothing it does waits. Entries are not
 * submitted as IORING_OP_SENDMSG: a datagram to a local socket is queued or
 * refused at once, so a nonblocking sendmsg() never waits either, and it
 * copies the entry before returning, where a SENDMSG in flight would need
 * its buffer kept until the completion. */
int rh_journal_send(const struct rh_journal_entry *e)
{
	static const struct sockaddr_un addr = { .sun_family = AF_UNIX,
						 .sun_path = RH_JOURNAL_SOCKET };
	struct iovec iov = { (void *)e->data, e->len };
	struct msghdr mh = {
		.msg_name = (void *)&addr,
		.msg_namelen = sizeof addr,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	if (e->overflow)
		return drop(EMSGSIZE);
	if (journal_fd < 0)
		return drop(EBADF);
	if (sendmsg(journal_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return drop(errno);
	return 0;
}

uint64_t rh_journal_dropped(int *err)
{
	if (err)
		*err = atomic_load_explicit(&last_error, memory_order_relaxed);
	return atomic_load_explicit(&dropped, memory_order_relaxed);
}
