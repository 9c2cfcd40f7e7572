#include "tls_context.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "site_conf.h"
#include "tls_tickets.h"

#define GROUPS "X25519:P-256:P-384"
#define SESSION_SECONDS 7200

/* The first error OpenSSL queued: the cause ("no start line"), where the
 * last is only where it surfaced ("PEM lib"). */
static const char *openssl_reason(void)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "not usable";
}

bool rh_tls_check_ciphers(const char *list, bool v13, char *why, size_t len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	bool ok;

	if (!ctx) {
		snprintf(why, len, "out of memory");
		return false;
	}
	ERR_clear_error();
	ok = v13 ? SSL_CTX_set_ciphersuites(ctx, list) == 1 && *list
		 : SSL_CTX_set_cipher_list(ctx, list) == 1;
	if (!ok)
		snprintf(why, len, "\"%s\" selects no cipher OpenSSL knows (%s)", list,
			 *list ? openssl_reason() : "empty");
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

bool rh_tls_ktls_usable(const struct rh_config *cfg, const char **why)
{
	char ulps[256] = "";
	FILE *f;

	if (!cfg->ktls) {
		*why = "ktls is \"off\"";
		return false;
	}
	f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "re");
	if (f) {
		if (!fgets(ulps, sizeof ulps, f))
			ulps[0] = '\0';
		fclose(f);
	}
	for (char *tok = strtok(ulps, " \n"); tok; tok = strtok(NULL, " \n"))
		if (!strcmp(tok, "tls"))
			return true;
	*why = "the kernel's tls module is not loaded (tcp_available_ulp has no \"tls\")";
	return false;
}

/* SNI: the context of the site the name selects, as Host selects sites.
 * Without SNI, or for a name no site has, the default site's stays. */
static int select_site(SSL *ssl, int *alert, void *arg)
{
	const struct rh_tls_contexts *t = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct rh_site_conf *sc;

	(void)alert;
	(void)arg;
	if (!t || !name)
		return SSL_TLSEXT_ERR_OK;
	sc = rh_sites_select(t->sites, name, strlen(name));
	if (t->site[sc - t->sites->site] != SSL_get_SSL_CTX(ssl))
		SSL_set_SSL_CTX(ssl, t->site[sc - t->sites->site]);
	return SSL_TLSEXT_ERR_OK;
}

/* ALPN: the protocols the server speaks, h2 first when http2 is on (ARG
 * is the context's cfg); a client that offers none of them gets
 * no_application_protocol (RFC 7301 3.2). */
static int select_protocol(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			   const unsigned char *in, unsigned inlen, void *arg)
{
	static const unsigned char both[] = "\x02h2\x08http/1.1";
	const struct rh_config *cfg = arg;
	const unsigned char *ours = cfg->http2 ? both : both + 3;
	unsigned char *chosen;

	(void)ssl;
	if (SSL_select_next_proto(&chosen, outlen, ours, both + sizeof both - 1 - ours, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = chosen;
	return SSL_TLSEXT_ERR_OK;
}

/* Why file PATH could not be used: the system's error opening it, else
 * WHAT with OpenSSL's reason. */
static const char *unusable(const char *path, const char *what, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return strerror(errno);
	close(fd);
	snprintf(buf, len, "%s (%s)", what, openssl_reason());
	return buf;
}

static bool fail_at(const struct rh_config *cfg, unsigned line, const char *key, const char *path,
		    const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s:%u: %s: %s: %s", cfg->path, line, key, path, what);
	ERR_clear_error();
	return false;
}

/* -t's warnings for one pair: a server name of the site its certificate
 * does not cover, a key file every user can read. */
static void warn_pair(const struct rh_config *cfg, const struct rh_site_conf *sc, size_t i,
		      X509 *leaf)
{
	const char *key = sc->tls_key.path[i];
	struct stat st;

	for (size_t n = 0; n < sc->n_server_name; n++) {
		const char *name = sc->server_name[n];
		char probe[300];

		/* a wildcard name is covered when one of its hosts is */
		snprintf(probe, sizeof probe, "%s%s", name[0] == '*' ? "x" : "", name + (name[0] == '*'));
		if (X509_check_host(leaf, probe, 0, 0, NULL) != 1)
			rh_warn("%s:%u: tls_certificate: %s does not cover the server name \"%s\"",
				cfg->path, sc->tls_certificate.line, sc->tls_certificate.path[i], name);
	}
	if (stat(key, &st) == 0 && (st.st_mode & S_IROTH))
		rh_warn("%s:%u: tls_key: %s is readable by every user (chmod o-r it)", cfg->path,
			sc->tls_key.line, key);
}

/* A pair of files into CTX: the certificate chain, then its key. */
static bool load_pair(const struct rh_config *cfg, const struct rh_site_conf *sc, size_t i,
		      SSL_CTX *ctx, bool warn, char *err, size_t errlen)
{
	const char *cert = sc->tls_certificate.path[i], *key = sc->tls_key.path[i];
	char why[160];

	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return fail_at(cfg, sc->tls_certificate.line, "tls_certificate", cert,
			       unusable(cert, "not a PEM certificate chain", why, sizeof why), err, errlen);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
			return fail_at(cfg, sc->tls_key.line, "tls_key", key,
				       "does not match the certificate beside it", err, errlen);
		return fail_at(cfg, sc->tls_key.line, "tls_key", key,
			       unusable(key, "not a PEM private key", why, sizeof why), err, errlen);
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		return fail_at(cfg, sc->tls_key.line, "tls_key", key,
			       "does not match the certificate beside it", err, errlen);
	if (warn)
		warn_pair(cfg, sc, i, SSL_CTX_get0_certificate(ctx));
	return true;
}

static SSL_CTX *context_new(const struct rh_config *cfg, const struct rh_site_conf *sc, bool ktls,
			    bool warn, char *err, size_t errlen)
{
	static const unsigned char sid_ctx[] = "ringhttpd";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
			   SSL_OP_NO_COMPRESSION | (ktls ? SSL_OP_ENABLE_KTLS : 0) |
			   (cfg->tls_session_tickets ? 0 : SSL_OP_NO_TICKET);

	if (!ctx) {
		snprintf(err, errlen, "%s: TLS: out of memory", cfg->path);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, cfg->tls_protocols & RH_TLS_V1_2 ? TLS1_2_VERSION
									 : TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, cfg->tls_protocols & RH_TLS_V1_3 ? TLS1_3_VERSION
									 : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, options);
	/* a record is written whole or not at all; an idle connection holds
	 * no record buffers */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers);
	SSL_CTX_set_ciphersuites(ctx, cfg->tls_ciphersuites);
	SSL_CTX_set1_groups_list(ctx, GROUPS);
	/* resumption by tickets alone: no session cache to share or lock */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
	SSL_CTX_set_timeout(ctx, SESSION_SECONDS);
	if (cfg->tls_session_tickets)
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, rh_tls_ticket_key);
	else
		SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_max_early_data(ctx, 0);
	SSL_CTX_set_tlsext_servername_callback(ctx, select_site);
	SSL_CTX_set_alpn_select_cb(ctx, select_protocol, (void *)cfg);
	for (size_t i = 0; i < sc->tls_certificate.n; i++) {
		if (!load_pair(cfg, sc, i, ctx, warn, err, errlen)) {
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

struct rh_tls_contexts *rh_tls_contexts_new(const struct rh_config *cfg, bool warn, char *err,
					    size_t errlen)
{
	const struct rh_sites_conf *sites = cfg->sites;
	struct rh_tls_contexts *t;
	const char *why;

	err[0] = '\0';
	if (!sites->site[0].tls_id) {
		for (size_t i = 1; i < sites->n_site; i++)
			if (sites->site[i].tls_certificate.n) {
				snprintf(err, errlen,
					 "%s:%u: tls_certificate: a site has a certificate, so the "
					 "default site (the top level) needs one too: it answers "
					 "clients that name no site",
					 cfg->path, sites->site[i].tls_certificate.line);
				return NULL;
			}
		return NULL;
	}
	t = calloc(1, sizeof *t);
	if (!t || !(t->site = calloc(sites->n_site, sizeof *t->site))) {
		free(t);
		snprintf(err, errlen, "%s: TLS: out of memory", cfg->path);
		return NULL;
	}
	t->sites = sites;
	t->ktls = rh_tls_ktls_usable(cfg, &why);
	for (size_t i = 0; i < sites->n_site; i++) {
		const struct rh_site_conf *sc = &sites->site[i];
		size_t same = 0;

		/* the first site with the same files, or the default site */
		while (same < i && sites->site[same].tls_id != sc->tls_id)
			same++;
		if (same < i || !sc->tls_certificate.n) {
			t->site[i] = t->site[same];
			SSL_CTX_up_ref(t->site[i]);
			continue;
		}
		t->site[i] = context_new(cfg, sc, t->ktls, warn, err, errlen);
		t->n = i + 1;
		if (!t->site[i]) {
			rh_tls_contexts_free(t);
			return NULL;
		}
	}
	t->n = sites->n_site;
	return t;
}

void rh_tls_contexts_free(struct rh_tls_contexts *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		SSL_CTX_free(t->site[i]);
	free(t->site);
	free(t);
}
