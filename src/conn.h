/* A client connection: its state machine from request bytes to the last
 * byte of each response. Connections live in a per-ring slab. */
#ifndef RH_CONN_H
#define RH_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct rh_ring;
struct rh_file;
struct io_uring_cqe;

enum rh_conn_phase {
	RH_CONN_FREE,
	RH_CONN_READING,    /* waiting for (the rest of) a request head */
	RH_CONN_RESPONDING, /* a response is being sent */
	RH_CONN_LINGERING,  /* last response sent; reading what the client still sends */
	RH_CONN_CLOSING,    /* shut down; waiting for its operations to end */
};

struct rh_conn {
	int fd;
	uint32_t gen;
	uint32_t next_free;
	uint8_t phase;
	uint8_t pending; /* operations in flight */
	bool keep_alive;
	bool fresh;	   /* accepted, no request yet: a stop still answers it */
	bool linger;	   /* after a bad request: read what the client still sends before closing */
	bool use_splice;   /* the body goes file -> pipe -> socket */
	bool expect_cancel; /* a short SPLICE_IN cancelled its linked SPLICE_OUT */
	bool logged;	   /* an access log record sits at the end of the out buffer */
	uint16_t status;
	uint32_t head_len;
	uint64_t bytes_sent;
	time_t deadline;
	uint64_t skip;	   /* bytes of a request body still to be read and dropped */
	int32_t in;	   /* pool buffer of unparsed request bytes, or -1 */
	uint32_t in_off, in_len;
	int32_t out;	   /* pool buffer of the response head (and small body), or -1 */
	uint32_t out_off, out_len;
	struct rh_file *file;
	uint64_t body_off, body_left; /* file bytes not yet read or spliced */
	uint32_t read_len; /* bytes asked of the READ or SPLICE_IN in flight */
	int pipe_rd, pipe_wr; /* while splicing, or -1 */
	uint32_t pipe_fill;   /* bytes in the pipe, not yet in the socket */
};

int rh_conns_init(struct rh_ring *r, uint32_t cap);
void rh_conns_destroy(struct rh_ring *r);
/* A new connection, already counted in the ring's and the server's totals. */
void rh_conn_accepted(struct rh_ring *r, int fd);
void rh_conn_complete(struct rh_ring *r, const struct io_uring_cqe *cqe);
/* Once a second: closes connections past their deadline. */
void rh_conns_expire(struct rh_ring *r);
/* Server stopping: closes idle connections, lets busy ones finish. */
void rh_conns_drain(struct rh_ring *r);

#endif
