/* The fixture shared by the TLS unit tests that run hsrelay's TLS session
 * (control/tls_handshake) against a plain OpenSSL peer: a crypto engine,
 * hsrelay's link credentials with a server and a client context, and the
 * peer's own RSA key and self-signed certificate. Made once per test group
 * (RSA key generation dominates the run time). Include it in one test
 * file per executable, after cmocka.h: it defines the fixture's static
 * variables. */
#ifndef HSRELAY_TESTS_UNIT_OPENSSL_PEER_H
#define HSRELAY_TESTS_UNIT_OPENSSL_PEER_H

#include <stdbool.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "control/tls_handshake.h"
#include "crypto/engine.h"
#include "crypto/rsa_identity.h"

static struct crypto_engine *engine;
static struct rsa_identity *identity;
static struct tls_link_credentials *credentials;
static struct tls_handshake_context *server_context;
static struct tls_handshake_context *client_context;
static EVP_PKEY *peer_key;	/* the OpenSSL peer's own key and cert */
static X509 *peer_cert;

/* cmocka group setup: makes everything above; -1 on any failure. */
static int
openssl_peer_group_setup(void **state)
{
	X509_NAME *name;

	(void)state;
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	if (!engine || rsa_identity_generate(&identity) != 0 ||
	    tls_link_credentials_create(identity, 0, time(NULL), &credentials) != 0 ||
	    tls_handshake_context_create(TLS_ROLE_SERVER, credentials, &server_context) != 0 ||
	    tls_handshake_context_create(TLS_ROLE_CLIENT, NULL, &client_context) != 0)
		return -1;
	peer_key = EVP_RSA_gen(2048);
	peer_cert = X509_new();
	name = X509_NAME_new();
	if (!peer_key || !peer_cert || !name) {
		X509_NAME_free(name);
		return -1;
	}
	X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
			(const unsigned char *)"peer.example", -1, -1, 0);
	X509_set_version(peer_cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(peer_cert), 7);
	X509_set_subject_name(peer_cert, name);
	X509_set_issuer_name(peer_cert, name);
	X509_gmtime_adj(X509_getm_notBefore(peer_cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(peer_cert), 3600);
	X509_set_pubkey(peer_cert, peer_key);
	X509_NAME_free(name);
	return X509_sign(peer_cert, peer_key, EVP_sha256()) > 0 ? 0 : -1;
}

/* cmocka group teardown: frees what the setup made. */
static int
openssl_peer_group_teardown(void **state)
{
	(void)state;
	tls_handshake_context_free(server_context);
	tls_handshake_context_free(client_context);
	tls_link_credentials_free(credentials);
	rsa_identity_free(identity);
	crypto_engine_destroy(engine);
	X509_free(peer_cert);
	EVP_PKEY_free(peer_key);
	return 0;
}

/* A plain OpenSSL peer over memory BIOs (not using hsrelay's module). */
struct peer {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;
	bool done;
};

/* Finishes a peer whose p->ctx the test configured: a server gets
 * peer_cert and peer_key; the SSL reads from p->rbio and writes to
 * p->wbio, which report "retry" rather than EOF when empty. */
static void
openssl_peer_start(struct peer *p, bool server)
{
	if (server) {
		assert_int_equal(SSL_CTX_use_certificate(p->ctx, peer_cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(p->ctx, peer_key), 1);
	}
	p->ssl = SSL_new(p->ctx);
	p->rbio = BIO_new(BIO_s_mem());
	p->wbio = BIO_new(BIO_s_mem());
	assert_non_null(p->ssl);
	BIO_set_mem_eof_return(p->rbio, -1);
	BIO_set_mem_eof_return(p->wbio, -1);
	SSL_set_bio(p->ssl, p->rbio, p->wbio);
	if (server)
		SSL_set_accept_state(p->ssl);
	else
		SSL_set_connect_state(p->ssl);
}

static void
peer_free(struct peer *p)
{
	SSL_free(p->ssl);
	SSL_CTX_free(p->ctx);
}

#endif
