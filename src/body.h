/* Body transport: a planned response's head and body bytes onto the
 * socket by the cheapest path measured for them (see README.md):
 *  - from memory (the file cache's bytes, or a head alone): one SENDMSG of
 *    the head and the body;
 *  - a file not in memory below splice_threshold: read into a pooled
 *    buffer, linked to its SENDMSG, one page-aligned chunk at a time;
 *  - a large file: sendfile(2) on the nonblocking socket from the ring's
 *    thread, and a POLLOUT on the ring when the socket is full, so that a
 *    client that reads slowly or never holds no kernel thread.
 * The functions report what the connection does next. */
#ifndef RH_BODY_H
#define RH_BODY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "http_cond.h"

struct rh_ring;
struct rh_conn;

enum rh_tx_mode { RH_TX_MEMORY, RH_TX_READ, RH_TX_SENDFILE };

/* A multipart/byteranges body: each part's head is made when its turn
 * comes, its bytes go by sendfile, and the tail ends it. */
#define RH_PART_HEAD_MAX 640
struct rh_multipart {
	struct rh_ranges ranges;
	unsigned next; /* the part whose head goes next; ranges.n: the tail */
	char boundary[RH_BOUNDARY_MAX];
	char type[256]; /* a copy: a reload may free the media types meanwhile */
	uint64_t size;
	char head[RH_PART_HEAD_MAX];
};

void rh_multipart_init(struct rh_multipart *m, const struct rh_ranges *ranges,
		       const char *boundary, const char *type, uint64_t size);

struct rh_tx {
	uint8_t mode;
	const char *head;
	uint32_t head_len, head_sent;
	const char *mem;	/* RH_TX_MEMORY: the body's next bytes */
	int fd;			/* RH_TX_READ, RH_TX_SENDFILE: the file */
	uint64_t off, left;	/* body bytes not yet sent (READ: not yet read) */
	int32_t buf;		/* RH_TX_READ: the pooled buffer in flight, or -1 */
	uint32_t buf_len, buf_sent;
	uint32_t read_len;	/* asked of the READ in flight */
	uint64_t bytes_sent;	/* head and body */
	struct rh_multipart *parts; /* RH_TX_SENDFILE: a multipart body, or NULL */
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

enum rh_tx_status rh_tx_start(struct rh_ring *r, struct rh_conn *c);
/* Pooled buffer BUF is the connection's now. */
enum rh_tx_status rh_tx_resume(struct rh_ring *r, struct rh_conn *c, uint32_t buf);
enum rh_tx_status rh_tx_sent(struct rh_ring *r, struct rh_conn *c, int res);
enum rh_tx_status rh_tx_read(struct rh_conn *c, int res);
enum rh_tx_status rh_tx_writable(struct rh_ring *r, struct rh_conn *c, int res);
/* The response is over: gives back what it holds. */
void rh_tx_end(struct rh_ring *r, struct rh_tx *tx);

#endif
