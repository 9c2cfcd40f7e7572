/* Session ticket keys: made in memory at start, shared by every ring and
 * every context (so a ticket from one ring or from before a reload
 * resumes on another), replaced each hour, and never written anywhere.
 * A ticket sealed with one of the previous keys still resumes, and the
 * client gets a new one. */
#ifndef RH_TLS_TICKETS_H
#define RH_TLS_TICKETS_H

#include <openssl/ssl.h>

/* The callback of SSL_CTX_set_tlsext_ticket_key_evp_cb. */
int rh_tls_ticket_key(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cipher,
		      EVP_MAC_CTX *mac, int enc);

#endif
