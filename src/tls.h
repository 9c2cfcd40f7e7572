/* A connection's TLS engine, driven by its ring: never a blocking call,
 * never a thread. Ciphertext arrives in the ring's provided buffers and is
 * read by OpenSSL through a BIO over those bytes (no copy into a memory
 * BIO); the handshake and the decrypted bytes come out of the same call.
 * Records go out through a socket BIO on the nonblocking socket, from the
 * ring's thread: a full socket makes a write return -EAGAIN, and the ring
 * waits for POLLOUT. That BIO also lets OpenSSL hand sending to the
 * kernel (kTLS): after such a handshake the socket takes plain bytes,
 * sendfile(2) included, and the connection sends as on plain TCP. */
#ifndef RH_TLS_H
#define RH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct rh_site;
struct rh_tls;

/* A server-side engine for socket FD with SITE's contexts (the site is
 * held until rh_tls_free). NULL when out of memory. */
struct rh_tls *rh_tls_new(struct rh_site *site, int fd);
void rh_tls_free(struct rh_tls *t);

enum rh_tls_in {
	RH_TLS_DATA,	   /* *OUT holds *OUT_LEN decrypted bytes (maybe 0: more are needed);
			    * the client's close_notify may follow them (rh_tls_peer_closed) */
	RH_TLS_PLAIN_HTTP, /* the first bytes are an HTTP request, not TLS */
	RH_TLS_FAILED,	   /* a fatal error; an alert went out when it could */
	RH_TLS_CLOSED,	   /* the client's close_notify */
};

/* Feeds the ciphertext DATA[0..LEN) in: the handshake goes on, and what
 * it decrypts is in *OUT[0..*OUT_LEN), a buffer of the thread's that the
 * next call on this thread reuses. */
enum rh_tls_in rh_tls_feed(struct rh_tls *t, const char *data, size_t len, char **out,
			   size_t *out_len);

/* The handshake is done. */
bool rh_tls_established(const struct rh_tls *t);
/* The kernel encrypts what the socket sends (kTLS): send plain bytes. */
bool rh_tls_kernel_sends(const struct rh_tls *t);
/* The client sent close_notify: nothing more comes. */
bool rh_tls_peer_closed(const struct rh_tls *t);
/* The first bytes were not a TLS record (for the counts). */
bool rh_tls_not_tls(const struct rh_tls *t);
/* ALPN chose h2. */
bool rh_tls_h2(const struct rh_tls *t);
/* The name the client asked for by SNI, or NULL. */
const char *rh_tls_server_name(const struct rh_tls *t);
/* "TLSv1.3 TLS_AES_128_GCM_SHA256", for the log. */
void rh_tls_describe(const struct rh_tls *t, char *buf, size_t len);

/* Encrypts and writes at most one record of the bytes of IOV[0..N) (up
 * to 16 KiB). Returns the plain bytes it took, -EAGAIN when the socket is
 * full (call again with the same bytes once it has room), or -EPIPE. */
ssize_t rh_tls_write(struct rh_tls *t, const struct iovec *iov, int n);
/* Sends close_notify, if the socket takes it at once. */
void rh_tls_close_notify(struct rh_tls *t);

/* A thread that fed engines ends: its buffer goes. */
void rh_tls_thread_end(void);

#endif
