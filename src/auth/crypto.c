/*
 * crypto.c - the hashing auth needs, all through OpenSSL.
 *
 * Each worker thread keeps one EVP_MD_CTX and one HMAC EVP_MAC_CTX, created
 * on first use and freed when the thread exits, and the algorithms are
 * fetched once per process: a REGISTER costs several digests and an HMAC,
 * and none of them should allocate or walk the provider store.
 */
#include "auth/auth_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "util/log.h"

struct auth_tl {
	EVP_MD_CTX *md;
	EVP_MAC_CTX *mac;
	unsigned char key[AUTH_KEY_LEN];  /* the key mac holds (its pads are precomputed) */
	bool keyed;
};

static pthread_once_t auth_crypto_once = PTHREAD_ONCE_INIT;
static pthread_key_t auth_tl_key;
static EVP_MD *auth_mds[AUTH_ALG__COUNT];
static EVP_MAC *auth_hmac_alg;
static bool auth_crypto_ready;

static void auth_tl_destroy(void *p)
{
	struct auth_tl *t = p;

	EVP_MD_CTX_free(t->md);
	EVP_MAC_CTX_free(t->mac);
	free(t);
}

static void auth_crypto_init(void)
{
	auth_mds[AUTH_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
	auth_mds[AUTH_SHA256] = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	auth_hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	auth_crypto_ready = auth_mds[AUTH_MD5] && auth_mds[AUTH_SHA256] && auth_hmac_alg &&
			    pthread_key_create(&auth_tl_key, auth_tl_destroy) == 0;
	if (!auth_crypto_ready)
		log_err("auth: OpenSSL lacks MD5, SHA-256 or HMAC");
}

/* The digest is fixed once here so each HMAC only has to set the key. */
static EVP_MAC_CTX *auth_mac_new(void)
{
	char dig[] = "SHA2-256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, dig, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *m = EVP_MAC_CTX_new(auth_hmac_alg);

	if (m && !EVP_MAC_CTX_set_params(m, params)) {
		EVP_MAC_CTX_free(m);
		m = NULL;
	}
	return m;
}

static struct auth_tl *auth_tl_get(void)
{
	struct auth_tl *t;

	pthread_once(&auth_crypto_once, auth_crypto_init);
	if (!auth_crypto_ready)
		return NULL;
	t = pthread_getspecific(auth_tl_key);
	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->md = EVP_MD_CTX_new();
	t->mac = auth_mac_new();
	if (!t->md || !t->mac || pthread_setspecific(auth_tl_key, t) != 0) {
		auth_tl_destroy(t);
		return NULL;
	}
	return t;
}

void auth_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int auth_hash_hex(enum auth_alg a, const struct auth_part *parts, size_t n, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct auth_tl *t = auth_tl_get();

	out[0] = '\0';
	if (!t || (unsigned)a >= AUTH_ALG__COUNT)
		return -1;
	if (!EVP_DigestInit_ex(t->md, auth_mds[a], NULL))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (parts[i].len && !EVP_DigestUpdate(t->md, parts[i].p, parts[i].len))
			return -1;
	if (!EVP_DigestFinal_ex(t->md, md, &mdlen) || mdlen * 2 != auth_alg_hexlen(a))
		return -1;
	auth_hex(md, mdlen, out);
	return 0;
}

int auth_hmac(const unsigned char key[AUTH_KEY_LEN], const struct auth_part *parts, size_t n,
	      unsigned char out[32])
{
	size_t outl = 0;
	struct auth_tl *t = auth_tl_get();

	if (!t)
		return -1;
	/* The key is the process's and rarely changes: set it once per thread,
	 * then re-init without one, which restarts from the keyed state
	 * instead of hashing the key into the pads again. */
	if (!t->keyed || memcmp(t->key, key, AUTH_KEY_LEN) != 0) {
		t->keyed = false;
		if (!EVP_MAC_init(t->mac, key, AUTH_KEY_LEN, NULL))
			return -1;
		memcpy(t->key, key, AUTH_KEY_LEN);
		t->keyed = true;
	} else if (!EVP_MAC_init(t->mac, NULL, 0, NULL)) {
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (parts[i].len && !EVP_MAC_update(t->mac, parts[i].p, parts[i].len))
			return -1;
	if (!EVP_MAC_final(t->mac, out, &outl, 32) || outl != 32)
		return -1;
	return 0;
}
