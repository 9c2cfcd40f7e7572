/* libFuzzer target: the TLS engine (tls.c) fed records as the ring feeds
 * it, with a site loaded from a configuration whose ECDSA P-256 pair is
 * made here at start (memory files, read through their /proc/self/fd
 * paths). The engine writes to one end of a socketpair; the target reads
 * the other. The first byte of an input picks the mode, the client's
 * highest version (bit 2: TLS 1.2, else 1.3) and the size of each feed
 * (bits 3-7: 1 to 4,434 bytes):
 *   bit 0-1 = 0: the rest is what a client sends first (a ClientHello, or
 *                not TLS at all);
 *            1: a handshake with an OpenSSL client first, then the rest as
 *                raw records (garbage under the session's keys);
 *            2: a handshake, then the rest encrypted by the client: the
 *                engine must decrypt exactly those bytes, the client must
 *                read exactly what the engine encrypts back, and the
 *                client's close_notify must end it;
 *            3: like 0, one feed per byte.
 * Whatever the bytes, the engine never gives more plain bytes than were
 * sent, never says "plain HTTP" after the first feed, and nothing leaks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "site.h"
#include "tls.h"

static struct rh_site *site;
static SSL_CTX *client_ctx;

/* A memory file holding what BIO B holds; its fd (kept open: its path is
 * read by a reload too). */
static int memory_file(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	int fd = memfd_create("rh-fuzz-tls", 0);

	if (fd < 0 || n <= 0 || write(fd, p, n) != n)
		abort();
	BIO_free(b);
	return fd;
}

/* A self-signed ECDSA P-256 certificate for localhost, and its key. */
static void make_pair(int *cert_fd, int *key_fd)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	BIO *c = BIO_new(BIO_s_mem()), *k = BIO_new(BIO_s_mem());

	if (!key || !x || !c || !k)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
				   -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, key, EVP_sha256()) || !PEM_write_bio_X509(c, x) ||
	    !PEM_write_bio_PrivateKey(k, key, NULL, NULL, 0, NULL, NULL))
		abort();
	*cert_fd = memory_file(c);
	*key_fd = memory_file(k);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void init(void)
{
	char text[512], path[64], err[1024] = "";
	int cert_fd, key_fd, conf_fd = memfd_create("rh-fuzz-tls-conf", 0);
	struct rh_config *cfg;
	int n;

	make_pair(&cert_fd, &key_fd);
	n = snprintf(text, sizeof text,
		     "document_root = \"/\";\nuser = \"\";\ntls_listen = [ \"127.0.0.1:0\" ];\n"
		     "tls_certificate = \"/proc/self/fd/%d\";\ntls_key = \"/proc/self/fd/%d\";\n",
		     cert_fd, key_fd);
	if (conf_fd < 0 || write(conf_fd, text, n) != n)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", conf_fd);
	cfg = rh_config_load(path, NULL, err, sizeof err);
	if (!cfg || !(site = rh_site_new(cfg, err, sizeof err)) || !site->tls) {
		fprintf(stderr, "fuzz_tls: no site with TLS: %s\n", err);
		abort();
	}
	client_ctx = SSL_CTX_new(TLS_client_method());
	if (!client_ctx)
		abort();
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
}

/* What one side of the socketpair holds now, appended to the BIO B. */
static void drain(int fd, BIO *b)
{
	char buf[16384];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		BIO_write(b, buf, n);
}

struct peer {
	struct rh_tls *engine;
	int fds[2]; /* [0]: the engine's socket, [1]: the client's end */
	bool first_fed;
	size_t plain_in; /* plain bytes the engine gave */
	unsigned char got[65536];
};

/* Feeds LEN bytes in pieces of STEP; the plain bytes the engine gives
 * are appended to P->got. Returns the last result. */
static enum rh_tls_in feed(struct peer *p, const uint8_t *data, size_t len, size_t step)
{
	enum rh_tls_in r = RH_TLS_DATA;

	for (size_t off = 0; off < len && r == RH_TLS_DATA; off += step) {
		size_t take = len - off < step ? len - off : step;
		char *out;
		size_t out_len;

		r = rh_tls_feed(p->engine, (const char *)data + off, take, &out, &out_len);
		if (r == RH_TLS_PLAIN_HTTP && (p->first_fed || data[0] < 'A' || data[0] > 'Z'))
			abort();
		p->first_fed = true;
		if (r == RH_TLS_DATA && out_len) {	/* what a failed feed holds is not used */
			if (p->plain_in + out_len > sizeof p->got)
				abort();
			memcpy(p->got + p->plain_in, out, out_len);
			p->plain_in += out_len;
		}
	}
	return r;
}

/* A client's handshake with the engine; false if it did not complete
 * (never, with this client and the engine's defaults). */
static bool handshake(struct peer *p, SSL *client, BIO *to_client, BIO *from_client)
{
	for (int round = 0; round < 8; round++) {
		char *data;
		long n;
		int r = SSL_do_handshake(client);

		if (r != 1 && SSL_get_error(client, r) != SSL_ERROR_WANT_READ)
			return false;
		n = BIO_get_mem_data(from_client, &data);
		if (n > 0 && feed(p, (const uint8_t *)data, n, n) != RH_TLS_DATA)
			return false;
		(void)BIO_reset(from_client);
		drain(p->fds[1], to_client);
		if (r == 1 && rh_tls_established(p->engine))
			return true;
	}
	return false;
}

/* Mode 2: DATA through the client's SSL_write must come out of the engine
 * as it was; the engine's answer, DATA again, must reach the client as it
 * was; the client's close_notify ends the engine's input. */
static void round_trip(struct peer *p, SSL *client, BIO *to_client, BIO *from_client,
		       const uint8_t *data, size_t len, size_t step)
{
	unsigned char back[65536];
	size_t got = 0;
	char *cipher;
	long n;

	if (len && SSL_write(client, data, len) != (int)len)
		abort();
	n = BIO_get_mem_data(from_client, &cipher);
	if (n > 0 && feed(p, (const uint8_t *)cipher, n, step) != RH_TLS_DATA)
		abort();
	(void)BIO_reset(from_client);
	if (p->plain_in != len || memcmp(p->got, data, len))
		abort();
	for (size_t off = 0; off < len;) {
		struct iovec iov = { (void *)(data + off), len - off };
		ssize_t w = rh_tls_write(p->engine, &iov, 1);

		if (w <= 0)
			abort();
		off += w;
		drain(p->fds[1], to_client);
		for (int r; (r = SSL_read(client, back + got, sizeof back - got)) > 0;)
			got += r;
	}
	if (got != len || memcmp(back, data, len))
		abort();
	SSL_shutdown(client);
	n = BIO_get_mem_data(from_client, &cipher);
	if (n <= 0 || feed(p, (const uint8_t *)cipher, n, step) != RH_TLS_CLOSED)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct peer p;
	unsigned mode;
	size_t step;

	if (!size || size > sizeof p.got)
		return 0;
	if (!site)
		init();
	mode = data[0] & 3;
	step = mode == 3 ? 1 : 1 + (size_t)(data[0] >> 3) * 143;
	memset(&p, 0, offsetof(struct peer, got));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.fds) < 0 ||
	    !(p.engine = rh_tls_new(site, p.fds[0])))
		abort();
	if (mode == 0 || mode == 3) {
		feed(&p, data + 1, size - 1, step);
		if (p.plain_in > size)
			abort();
	} else {
		SSL *client = SSL_new(client_ctx);
		BIO *to_client = BIO_new(BIO_s_mem()), *from_client = BIO_new(BIO_s_mem());

		if (!client || !to_client || !from_client)
			abort();
		SSL_set_bio(client, to_client, from_client);
		SSL_set_connect_state(client);
		SSL_set_tlsext_host_name(client, "localhost");
		if (data[0] & 4)
			SSL_set_max_proto_version(client, TLS1_2_VERSION);
		if (!handshake(&p, client, to_client, from_client))
			abort();
		if (mode == 1)
			feed(&p, data + 1, size - 1, step);
		else
			round_trip(&p, client, to_client, from_client, data + 1, size - 1, step);
		SSL_free(client);
	}
	rh_tls_free(p.engine);
	close(p.fds[0]);
	close(p.fds[1]);
	ERR_clear_error();
	return 0;
}
