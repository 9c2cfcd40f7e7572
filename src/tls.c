#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site.h"
#include "tls_context.h"

#define RECORD_MAX 16384
/* a record's ciphertext beyond its plaintext, at most (TLS 1.2 with an
 * explicit nonce and a tag; 1.3 is shorter) */
#define RECORD_OVERHEAD 256

struct rh_tls {
	SSL *ssl;
	struct rh_site *site; /* its contexts and names, for the connection's life */
	bool started;	      /* the first bytes have been looked at */
	bool not_tls;
	bool kernel_sends;
	bool peer_closed; /* close_notify came */
};

/* The bytes the read BIO gives OpenSSL: those of the feed under way on
 * this thread. OpenSSL keeps a record that arrives in pieces itself, so
 * nothing is left here between feeds. */
static _Thread_local struct {
	const char *p;
	size_t len;
} input;
/* Decrypted bytes of the last feed, and the bytes of a record being
 * gathered from several pieces: the thread's, reused by every connection. */
static _Thread_local char *plain;
static _Thread_local size_t plain_cap;
static _Thread_local char gather[RECORD_MAX];

static BIO_METHOD *input_method;
static pthread_once_t input_once = PTHREAD_ONCE_INIT;

static int input_read(BIO *b, char *out, int outl)
{
	size_t n = input.len < (size_t)outl ? input.len : (size_t)outl;

	BIO_clear_retry_flags(b);
	if (!n) {
		BIO_set_retry_read(b);
		return -1;
	}
	memcpy(out, input.p, n);
	input.p += n;
	input.len -= n;
	return n;
}

static long input_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH;
}

static int input_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void make_input_method(void)
{
	input_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ringhttpd input");
	if (input_method) {
		BIO_meth_set_read(input_method, input_read);
		BIO_meth_set_ctrl(input_method, input_ctrl);
		BIO_meth_set_create(input_method, input_create);
	}
}

struct rh_tls *rh_tls_new(struct rh_site *site, int fd)
{
	struct rh_tls *t = calloc(1, sizeof *t);
	BIO *in = NULL, *out = NULL;

	pthread_once(&input_once, make_input_method);
	if (!t || !input_method || !(t->ssl = SSL_new(site->tls->site[0])) ||
	    !(in = BIO_new(input_method)) || !(out = BIO_new_socket(fd, BIO_NOCLOSE))) {
		BIO_free(in);
		if (t)
			SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	SSL_set_bio(t->ssl, in, out);
	SSL_set_accept_state(t->ssl);
	SSL_set_app_data(t->ssl, site->tls);
	t->site = rh_site_get(site);
	return t;
}

void rh_tls_free(struct rh_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	rh_site_put(t->site);
	free(t);
}

/* An HTTP request begins with a method, in capitals; a TLS connection
 * with a handshake record (22). */
static bool looks_like_http(const char *data)
{
	return data[0] >= 'A' && data[0] <= 'Z';
}

/* Bytes that are no TLS record: a fatal unexpected_message alert (RFC
 * 8446 6), in a record of the version every peer reads, then the close. */
static void refuse_not_tls(struct rh_tls *t)
{
	static const unsigned char alert[] = { 21, 3, 1, 0, 2, 2, 10 };

	BIO_write(SSL_get_wbio(t->ssl), alert, sizeof alert);
}

static bool room_for(size_t need)
{
	char *p;

	if (need <= plain_cap)
		return true;
	p = realloc(plain, need);
	if (!p)
		return false;
	plain = p;
	plain_cap = need;
	return true;
}

enum rh_tls_in rh_tls_feed(struct rh_tls *t, const char *data, size_t len, char **out,
			   size_t *out_len)
{
	/* the plain bytes of this feed and of a record begun before it */
	size_t cap = len + RECORD_MAX + RECORD_OVERHEAD, n = 0;
	enum rh_tls_in ret = RH_TLS_DATA;

	*out = NULL;
	*out_len = 0;
	if (!t->started && len) {
		t->started = true;
		t->not_tls = data[0] != 22;
		if (looks_like_http(data))
			return RH_TLS_PLAIN_HTTP;
		if (t->not_tls) {
			refuse_not_tls(t);
			return RH_TLS_FAILED;
		}
	}
	if (!room_for(cap))
		return RH_TLS_FAILED;
	input.p = data;
	input.len = len;
	ERR_clear_error();
	if (!SSL_is_init_finished(t->ssl)) {
		int r = SSL_do_handshake(t->ssl);

		if (r != 1) {
			ret = SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ ? RH_TLS_DATA
									      : RH_TLS_FAILED;
			goto out;
		}
		t->kernel_sends = BIO_get_ktls_send(SSL_get_wbio(t->ssl));
	}
	for (;;) {
		int r = SSL_read(t->ssl, plain + n, cap - n);
		int e;

		if (r > 0) {
			n += r;
			if (n < cap)
				continue;
			ret = RH_TLS_FAILED; /* more than a feed can hold: never from a sane peer */
			break;
		}
		e = SSL_get_error(t->ssl, r);
		t->peer_closed = e == SSL_ERROR_ZERO_RETURN;
		if (e != SSL_ERROR_WANT_READ)
			ret = t->peer_closed && !n ? RH_TLS_CLOSED
			      : t->peer_closed	   ? RH_TLS_DATA
						   : RH_TLS_FAILED;
		break;
	}
	*out = plain;
	*out_len = n;
out:
	input.len = 0;
	ERR_clear_error();
	return ret;
}

bool rh_tls_established(const struct rh_tls *t)
{
	return SSL_is_init_finished(t->ssl);
}

bool rh_tls_kernel_sends(const struct rh_tls *t)
{
	return t->kernel_sends;
}

bool rh_tls_peer_closed(const struct rh_tls *t)
{
	return t->peer_closed;
}

bool rh_tls_not_tls(const struct rh_tls *t)
{
	return t->not_tls;
}

bool rh_tls_h2(const struct rh_tls *t)
{
	const unsigned char *proto;
	unsigned len;

	SSL_get0_alpn_selected(t->ssl, &proto, &len);
	return len == 2 && !memcmp(proto, "h2", 2);
}

const char *rh_tls_server_name(const struct rh_tls *t)
{
	return SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
}

void rh_tls_describe(const struct rh_tls *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s%s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl),
		 t->kernel_sends ? ", kTLS sending" : "");
}

ssize_t rh_tls_write(struct rh_tls *t, const struct iovec *iov, int n)
{
	const char *src = iov[0].iov_base;
	size_t len = iov[0].iov_len;
	int r;

	/* one record: the bytes as they are when one piece fills it, else
	 * gathered (a head and a small body make one record, one send) */
	if (n > 1 && len < RECORD_MAX) {
		len = 0;
		for (int i = 0; i < n && len < RECORD_MAX; i++) {
			size_t take = iov[i].iov_len < RECORD_MAX - len ? iov[i].iov_len
									: RECORD_MAX - len;
			memcpy(gather + len, iov[i].iov_base, take);
			len += take;
		}
		src = gather;
	}
	if (len > RECORD_MAX)
		len = RECORD_MAX;
	ERR_clear_error();
	r = SSL_write(t->ssl, src, len);
	if (r > 0)
		return r;
	r = SSL_get_error(t->ssl, r);
	ERR_clear_error();
	return r == SSL_ERROR_WANT_WRITE ? -EAGAIN : -EPIPE;
}

void rh_tls_thread_end(void)
{
	free(plain);
	plain = NULL;
	plain_cap = 0;
}

void rh_tls_close_notify(struct rh_tls *t)
{
	if (SSL_is_init_finished(t->ssl))
		SSL_shutdown(t->ssl);
	ERR_clear_error();
}
