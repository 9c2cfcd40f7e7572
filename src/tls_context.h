/* The TLS contexts of a configuration (OpenSSL 3): one SSL_CTX per set of
 * certificate pairs, shared by the sites that name the same files, built
 * when the configuration is loaded and swapped with it by a reload. A
 * connection's SSL keeps its own reference, so connections in flight keep
 * the context they began with.
 *
 * Every context has the configuration's protocols, ciphers and tickets,
 * offers only the ALPN protocols the server speaks, and picks the site's
 * pair by SNI (exact name, then the longest wildcard, as for Host). */
#ifndef RH_TLS_CONTEXT_H
#define RH_TLS_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

struct rh_config;

/* The defaults of tls_ciphers (TLS 1.2: forward secret AEAD only) and
 * tls_ciphersuites (TLS 1.3). */
#define RH_TLS_DEFAULT_CIPHERS                                                                   \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                             \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                             \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define RH_TLS_DEFAULT_CIPHERSUITES                                                              \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* Whether OpenSSL takes LIST as a TLS 1.2 cipher list (V13: a TLS 1.3
 * ciphersuite list) that selects at least one cipher; else why not. */
bool rh_tls_check_ciphers(const char *list, bool v13, char *why, size_t len);

struct rh_sites_conf;

/* An SSL's app data (SSL_set_app_data) is the contexts it was made from. */
struct rh_tls_contexts {
	SSL_CTX **site; /* per site of the configuration; [0]: the default */
	size_t n;
	const struct rh_sites_conf *sites; /* for SNI: the configuration's, which outlives these */
	bool ktls; /* contexts offload sending to the kernel (SSL_OP_ENABLE_KTLS) */
};

/* Whether kTLS can be used: `ktls = "auto"` and the kernel's tls module
 * loaded. When not, *WHY says why. */
bool rh_tls_ktls_usable(const struct rh_config *cfg, const char **why);

/* The contexts of CFG's sites, reading every pair. NULL with *ERR set to
 * "" when no site has a pair; NULL with one line "FILE:LINE: key: ..."
 * when a pair cannot be used. WARN: also say what -t warns of (names not
 * covered, keys others can read). */
struct rh_tls_contexts *rh_tls_contexts_new(const struct rh_config *cfg, bool warn, char *err,
					    size_t errlen);
void rh_tls_contexts_free(struct rh_tls_contexts *t);

#endif
