/* Body sources, and how their bytes reach the wire by the cheapest path
 * measured for them (see README.md):
 *  - a memory span (the file cache's bytes, a listing, the status text, or
 *    a head alone): one SENDMSG of the head and the bytes;
 *  - a file range: page by page, whichever way never waits for the disk on
 *    the ring's thread. Each chunk is asked of the page cache first
 *    (pagecache.h): cached pages go by sendfile(2) from the ring's thread
 *    on the nonblocking socket, up to a turn, then a POLLOUT through the
 *    ring lets the ring's other connections go first; pages that are not
 *    cached are read through the ring (READ into a pooled buffer, linked to
 *    its SENDMSG) and arrive without any thread waiting for them. Files
 *    below splice_threshold always take the read path, which measured
 *    cheaper for them; so does every file on a wire that encrypts (TLS
 *    in user space), where each chunk is read, then encrypted and written;
 *  - multipart/byteranges: file ranges, each led by a part head made when
 *    its turn comes, then the tail.
 * Body code sees the wire, never the connection; the functions say what
 * the connection does next. */
#ifndef RH_BODY_H
#define RH_BODY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "http_cond.h"
#include "wire.h"

struct io_uring;
struct rh_bufpool;
struct rh_file;
struct rh_slab;

/* What moving body bytes needs of its ring. */
struct rh_body_env {
	struct io_uring *uring;
	struct rh_bufpool *bufs;
	bool fixed_buffers; /* the pool is registered: READ_FIXED into it */
	struct rh_slab *multiparts;
};

enum rh_tx_mode { RH_TX_MEMORY, RH_TX_FILE };

/* A multipart/byteranges body: each part's head is made when its turn
 * comes, its bytes go as a file range, and the tail ends it. */
#define RH_PART_HEAD_MAX 640
struct rh_multipart {
	struct rh_ranges ranges;
	unsigned next; /* the part whose head goes next; ranges.n: the tail */
	char boundary[RH_BOUNDARY_MAX];
	char type[256]; /* a copy: a reload may free the media types meanwhile */
	uint64_t size;
	char head[RH_PART_HEAD_MAX];
};

struct rh_tx {
	uint8_t mode;
	bool reads_only;	/* RH_TX_FILE: every chunk by the read path */
	const char *head;
	uint32_t head_len, head_sent;
	const char *mem;	/* RH_TX_MEMORY: the body's next bytes */
	struct rh_file *file;	/* RH_TX_FILE: the file, referenced by the exchange */
	uint64_t off, left;	/* body bytes not yet sent (read path: not yet read) */
	int32_t buf;		/* the pooled buffer of the chunk in flight, or -1 */
	uint32_t buf_len, buf_sent;
	uint64_t bytes_sent;	/* head and body */
	struct rh_multipart *parts; /* a multipart body, or NULL */
	struct msghdr msg;
	struct iovec iov[2];
};

enum rh_tx_status {
	RH_TX_BUSY,	  /* an operation is in flight: wait for its completion */
	RH_TX_DONE,	  /* the last byte is sent */
	RH_TX_NEED_BUF,	  /* wait for a pooled buffer, then rh_tx_resume */
	RH_TX_CLOSED,	  /* the socket failed: end the connection */
	RH_TX_SHORT_FILE, /* the file shrank or failed while sent: end the connection */
};

/* HEAD[0..LEN) and then the bytes at MEM[0..MEM_LEN). */
void rh_tx_memory(struct rh_tx *t, const char *head, uint32_t len, const char *mem,
		  uint64_t mem_len);
/* HEAD[0..LEN) and then bytes [OFF, OFF + N) of F. */
void rh_tx_file(struct rh_tx *t, const char *head, uint32_t len, struct rh_file *f, uint64_t off,
		uint64_t n, bool reads_only);
/* HEAD[0..LEN) and then a multipart body of F's ranges; false when out of
 * memory (the head alone goes then). */
bool rh_tx_multipart(const struct rh_body_env *env, struct rh_tx *t, const char *head,
		     uint32_t len, struct rh_file *f, const struct rh_ranges *ranges,
		     const char *boundary, const char *type, bool reads_only);

enum rh_tx_status rh_tx_start(const struct rh_body_env *env, struct rh_tx *t, struct rh_wire *w);
/* Pooled buffer BUF is this body's now. */
enum rh_tx_status rh_tx_resume(const struct rh_body_env *env, struct rh_tx *t, struct rh_wire *w,
			       uint32_t buf);
enum rh_tx_status rh_tx_sent(const struct rh_body_env *env, struct rh_tx *t, struct rh_wire *w,
			     int res);
enum rh_tx_status rh_tx_read(const struct rh_body_env *env, struct rh_tx *t, struct rh_wire *w,
			     int res);
enum rh_tx_status rh_tx_writable(const struct rh_body_env *env, struct rh_tx *t,
				 struct rh_wire *w, int res);
/* For a protocol that frames the body itself (HTTP/2), which pulls its
 * bytes span by span: */
/* The head went in the protocol's own form: its first LEN bytes are done
 * with. What follows them (an error's short page) is body. */
void rh_tx_head_taken(struct rh_tx *t, uint32_t len);
enum rh_span {
	RH_SPAN_END,	/* the body is over */
	RH_SPAN_MEMORY, /* *P: a part's head, bytes in memory, or a chunk read ahead */
	RH_SPAN_FILE,	/* the file's bytes from t->off; read them ahead, or send its pages */
};
/* Where the next bytes are, and how many (*LEN) are there. */
enum rh_span rh_tx_span(const struct rh_body_env *env, struct rh_tx *t, const char **p,
			uint64_t *len);
/* N bytes of the span are sent (a chunk read ahead goes back once all are). */
void rh_tx_took(const struct rh_body_env *env, struct rh_tx *t, uint64_t n);
/* Up to LEN of the file's next bytes by sendfile, at once: as
 * rh_wire_sendfile. */
ssize_t rh_tx_sendfile(struct rh_tx *t, struct rh_wire *w, size_t len);
/* Whether the file's next LEN bytes are in the page cache. */
bool rh_tx_cached(const struct rh_tx *t, uint64_t len);
/* The file's next chunk into pooled buffer BUF by a READ through the ring
 * (RH_OP_READ on W); its bytes are a span once it completes with
 * t->buf_len. RH_TX_BUSY, or RH_TX_CLOSED when the ring is full. */
enum rh_tx_status rh_tx_read_ahead(const struct rh_body_env *env, struct rh_tx *t,
				   struct rh_wire *w, uint32_t buf);
/* Gives the chunk read ahead back unsent: its bytes are read again later. */
void rh_tx_unread(const struct rh_body_env *env, struct rh_tx *t);

/* The body is over: gives back what it holds. */
void rh_tx_end(const struct rh_body_env *env, struct rh_tx *t);

#endif
