#include "tls_tickets.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "clock.h"

#define KEY_SECONDS 3600
/* tickets live two hours (SSL_CTX_set_timeout): the current key and the
 * two before it open every ticket still valid */
#define KEYS 3

struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
	uint64_t born; /* CLOCK_MONOTONIC seconds; 0: not made yet */
};

static struct {
	pthread_mutex_t lock;
	struct ticket_key keys[KEYS]; /* [0] seals new tickets */
} store = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Under the lock: a new current key when the hour is over. */
static bool rotate(uint64_t now)
{
	struct ticket_key fresh;

	if (store.keys[0].born && now - store.keys[0].born < KEY_SECONDS)
		return true;
	if (RAND_bytes(fresh.name, sizeof fresh.name) != 1 ||
	    RAND_bytes(fresh.aes, sizeof fresh.aes) != 1 ||
	    RAND_bytes(fresh.hmac, sizeof fresh.hmac) != 1)
		return store.keys[0].born != 0;
	fresh.born = now ? now : 1;
	memmove(&store.keys[1], &store.keys[0], (KEYS - 1) * sizeof store.keys[0]);
	store.keys[0] = fresh;
	OPENSSL_cleanse(&fresh, sizeof fresh);
	return true;
}

static int set_up(const struct ticket_key *k, unsigned char *iv, EVP_CIPHER_CTX *cipher,
		  EVP_MAC_CTX *mac, int enc)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (EVP_MAC_init(mac, k->hmac, sizeof k->hmac, params) != 1)
		return -1;
	return EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), NULL, k->aes, iv, enc) == 1 ? 1 : -1;
}

int rh_tls_ticket_key(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cipher,
		      EVP_MAC_CTX *mac, int enc)
{
	uint64_t now = rh_monotonic_usec() / 1000000;
	struct ticket_key k;
	int ret = 0;

	(void)ssl;
	pthread_mutex_lock(&store.lock);
	if (enc) {
		if (rotate(now)) {
			k = store.keys[0];
			ret = 1;
		}
	} else {
		for (int i = 0; i < KEYS; i++) {
			if (store.keys[i].born && !memcmp(store.keys[i].name, name, 16)) {
				k = store.keys[i];
				/* 2: valid, but the client should get a ticket sealed anew */
				ret = i == 0 && now - k.born < KEY_SECONDS ? 1 : 2;
				break;
			}
		}
	}
	pthread_mutex_unlock(&store.lock);
	if (ret == 0) /* sealing: no ticket; opening: a full handshake, and a new ticket */
		return 0;
	if (enc) {
		memcpy(name, k.name, sizeof k.name);
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1)
			ret = -1;
	}
	if (ret > 0 && set_up(&k, iv, cipher, mac, enc) < 0)
		ret = -1;
	OPENSSL_cleanse(&k, sizeof k);
	return ret;
}
