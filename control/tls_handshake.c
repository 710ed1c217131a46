/* TLS handshake over memory BIOs and the record-key handover
 * (control/tls_handshake.h; tcp-tls-design.md B.3 and V). */
#include "control/tls_handshake.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto/kdf.h"
#include "crypto/rsa_identity.h"
/* after OpenSSL's headers: see control/tls_handshake.h */
#include "crypto/tls_record.h"

/* ------------------------------------------------------------------ */
/* Randomness helpers. */

/* Uniform in [0, bound), bound > 0; rejection sampling avoids modulo bias. */
static int
random_below(uint32_t bound, uint32_t *out)
{
	uint32_t limit = UINT32_MAX - UINT32_MAX % bound;
	uint32_t v;

	do {
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return -EIO;
	} while (v >= limit);
	*out = v % bound;
	return 0;
}

/* prefix, then min_len..max_len random characters of tor's base32 alphabet
 * (tor crypto_random_hostname: base32 of random bytes, truncated), then
 * suffix. out must hold prefix + max_len + suffix + NUL. */
static int
random_hostname(unsigned min_len, unsigned max_len, const char *prefix,
		const char *suffix, char *out, size_t out_len)
{
	static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t bytes[64];
	uint32_t extra;
	size_t n, plen = strlen(prefix), slen = strlen(suffix);
	int rc;

	rc = random_below(max_len - min_len + 1, &extra);
	if (rc < 0)
		return rc;
	n = min_len + extra;
	if (n > sizeof(bytes) || plen + n + slen + 1 > out_len)
		return -EINVAL;
	if (RAND_bytes(bytes, (int)n) != 1)
		return -EIO;
	memcpy(out, prefix, plen);
	for (size_t i = 0; i < n; i++)
		out[plen + i] = base32[bytes[i] & 31];
	memcpy(out + plen + n, suffix, slen + 1);
	return 0;
}

#define HOSTNAME_MAX 64

/* ------------------------------------------------------------------ */
/* Link credentials. */

struct tls_link_credentials {
	EVP_PKEY *link_key;
	X509 *link_cert;
	uint8_t *link_der;
	size_t link_der_len;
	uint8_t *identity_der;
	size_t identity_der_len;
	uint8_t link_sha256[TLS_HANDSHAKE_SHA256_LEN];
};

/* tor tor_tls_pick_certificate_lifetime: start part-way through the
 * lifetime (at least a day of it left, and never in the future), rounded
 * down to a day boundary, so that the certificate looks issued earlier. */
static int
pick_validity(time_t now, unsigned lifetime, time_t *start, time_t *end)
{
	const time_t day = 24 * 3600;
	time_t earliest, t;
	uint32_t offset;
	int rc;

	if ((time_t)lifetime <= 2 * day)
		earliest = now - 1;
	else
		earliest = now + 2 * day - (time_t)lifetime;
	rc = random_below((uint32_t)(now - earliest), &offset);
	if (rc < 0)
		return rc;
	t = earliest + (time_t)offset;
	t -= t % day;
	*start = t;
	*end = t + (time_t)lifetime;
	return 0;
}

static X509_NAME *
name_with_common_name(const char *common_name)
{
	X509_NAME *name = X509_NAME_new();

	if (name && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
			(const unsigned char *)common_name, -1, -1, 0) == 1)
		return name;
	X509_NAME_free(name);
	return NULL;
}

/* An X.509 v3 certificate for subject_key, signed by signer, shaped as tor's
 * tor_tls_create_certificate: 8 random serial bytes, commonName-only
 * names, SHA-256, no extensions. */
static int
make_certificate(EVP_PKEY *subject_key, EVP_PKEY *signer,
		const char *subject_cn, const char *issuer_cn,
		unsigned lifetime, time_t now, X509 **out)
{
	uint8_t serial_bytes[8];
	BIGNUM *serial = NULL;
	X509_NAME *subject = NULL, *issuer = NULL;
	X509 *cert = NULL;
	time_t start, end;
	int rc;

	rc = pick_validity(now, lifetime, &start, &end);
	if (rc < 0)
		return rc;
	rc = -EIO;
	if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1)
		goto out;
	cert = X509_new();
	serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), NULL);
	subject = name_with_common_name(subject_cn);
	issuer = name_with_common_name(issuer_cn);
	if (!cert || !serial || !subject || !issuer) {
		rc = -ENOMEM;
		goto out;
	}
	if (X509_set_version(cert, 2) != 1 ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) ||
	    X509_set_subject_name(cert, subject) != 1 ||
	    X509_set_issuer_name(cert, issuer) != 1 ||
	    !ASN1_TIME_set(X509_getm_notBefore(cert), start) ||
	    !ASN1_TIME_set(X509_getm_notAfter(cert), end) ||
	    X509_set_pubkey(cert, subject_key) != 1 ||
	    X509_sign(cert, signer, EVP_sha256()) <= 0)
		goto out;
	*out = cert;
	cert = NULL;
	rc = 0;
out:
	X509_free(cert);
	BN_free(serial);
	X509_NAME_free(subject);
	X509_NAME_free(issuer);
	return rc;
}

static int
cert_der(X509 *cert, uint8_t **der, size_t *len)
{
	unsigned char *buf = NULL;
	int n = i2d_X509(cert, &buf);

	if (n <= 0)
		return -EIO;
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_free(buf);
		return -ENOMEM;
	}
	memcpy(*der, buf, (size_t)n);
	OPENSSL_free(buf);
	*len = (size_t)n;
	return 0;
}

/* The identity key as an OpenSSL key with its private half. The
 * rsa_identity module keeps its EVP_PKEY private, so go through the PEM it
 * writes; the PEM copy is wiped. */
static int
identity_pkey(const struct rsa_identity *identity, EVP_PKEY **out)
{
	char pem[2048];
	ssize_t n;
	BIO *bio;
	EVP_PKEY *pkey;

	if (!rsa_identity_has_private(identity))
		return -EINVAL;
	n = rsa_identity_to_private_pem(identity, pem, sizeof(pem));
	if (n < 0)
		return (int)n;
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio) {
		OPENSSL_cleanse(pem, sizeof(pem));
		return -ENOMEM;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(pem, sizeof(pem));
	if (!pkey)
		return -EIO;
	*out = pkey;
	return 0;
}

/* tor router_initialize_tls_context: 5..365 days in whole days, and half
 * the time one second less. */
static int
tor_like_link_lifetime(unsigned *out)
{
	const uint32_t day = 24 * 3600;
	uint32_t v, coin;
	int rc;

	rc = random_below(365 * day - 5 * day, &v);
	if (rc == 0)
		rc = random_below(2, &coin);
	if (rc < 0)
		return rc;
	v += 5 * day;
	v -= v % day;
	*out = v - coin;
	return 0;
}

int
tls_link_credentials_create(const struct rsa_identity *identity,
		unsigned link_cert_lifetime, time_t now,
		struct tls_link_credentials **out)
{
	struct tls_link_credentials *c;
	EVP_PKEY *id_key = NULL;
	X509 *id_cert = NULL;
	char link_cn[HOSTNAME_MAX], issuer_cn[HOSTNAME_MAX];
	int rc;

	if (!identity || !out || link_cert_lifetime > INT_MAX)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = identity_pkey(identity, &id_key);
	if (rc < 0)
		goto fail;
	if (link_cert_lifetime == 0) {
		rc = tor_like_link_lifetime(&link_cert_lifetime);
		if (rc < 0)
			goto fail;
	}
	/* tor tor_tls_context_init_certificates: the link certificate's
	 * subject ends in .net, the identity's name in .com. */
	rc = random_hostname(8, 20, "www.", ".net", link_cn, sizeof(link_cn));
	if (rc == 0)
		rc = random_hostname(8, 20, "www.", ".com", issuer_cn, sizeof(issuer_cn));
	if (rc < 0)
		goto fail;
	c->link_key = EVP_RSA_gen(TLS_LINK_KEY_BITS);
	if (!c->link_key) {
		rc = -EIO;
		goto fail;
	}
	rc = make_certificate(c->link_key, id_key, link_cn, issuer_cn,
			link_cert_lifetime, now, &c->link_cert);
	if (rc == 0)
		rc = make_certificate(id_key, id_key, issuer_cn, issuer_cn,
				TLS_IDENTITY_CERT_LIFETIME, now, &id_cert);
	if (rc == 0)
		rc = cert_der(c->link_cert, &c->link_der, &c->link_der_len);
	if (rc == 0)
		rc = cert_der(id_cert, &c->identity_der, &c->identity_der_len);
	if (rc == 0)
		rc = kdf_sha256(c->link_der, c->link_der_len, c->link_sha256);
	if (rc < 0)
		goto fail;
	X509_free(id_cert);
	EVP_PKEY_free(id_key);
	*out = c;
	return 0;
fail:
	X509_free(id_cert);
	EVP_PKEY_free(id_key);
	tls_link_credentials_free(c);
	ERR_clear_error();
	return rc;
}

void
tls_link_credentials_free(struct tls_link_credentials *c)
{
	if (!c)
		return;
	EVP_PKEY_free(c->link_key);	/* OpenSSL clears RSA private parts */
	X509_free(c->link_cert);
	free(c->link_der);
	free(c->identity_der);
	free(c);
}

const uint8_t *
tls_link_credentials_link_cert(const struct tls_link_credentials *c, size_t *len)
{
	*len = c->link_der_len;
	return c->link_der;
}

const uint8_t *
tls_link_credentials_identity_cert(const struct tls_link_credentials *c, size_t *len)
{
	*len = c->identity_der_len;
	return c->identity_der;
}

const uint8_t *
tls_link_credentials_link_cert_sha256(const struct tls_link_credentials *c)
{
	return c->link_sha256;
}

/* ------------------------------------------------------------------ */
/* Sessions' shared plumbing: ex_data slot and keylog capture. */

#define TRAFFIC_SECRET_MAX KDF_SHA384_LEN

struct tls_session {
	SSL *ssl;
	BIO *rbio;		/* peer -> OpenSSL; owned by ssl */
	BIO *wbio;		/* OpenSSL -> peer; owned by ssl */
	enum tls_role role;
	enum tls_session_state state;
	bool started;
	int error;
	size_t fed_total;
	/* TLS 1.3 application traffic secrets from the keylog callback */
	uint8_t client_secret[TRAFFIC_SECRET_MAX];
	uint8_t server_secret[TRAFFIC_SECRET_MAX];
	uint8_t client_secret_len;
	uint8_t server_secret_len;
	uint8_t *leftover;
	size_t leftover_len;
	/* OpenSSL's state name before the last step, for error messages
	 * (after a failure OpenSSL only says "error") */
	const char *last_state;
	uint8_t *peer_cert;
	size_t peer_cert_len;
	uint8_t peer_cert_sha256[TLS_HANDSHAKE_SHA256_LEN];
	char error_text[192];
};

static pthread_once_t ex_index_once = PTHREAD_ONCE_INIT;
static int ex_index = -1;

static void
allocate_ex_index(void)
{
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the hex that runs to the end of s into out; returns the byte
 * count, or -1 when it is malformed or longer than out_len. */
static int
decode_hex_secret(const char *s, uint8_t *out, size_t out_len)
{
	size_t n = 0;

	while (*s) {
		int hi = hex_value(s[0]), lo;

		if (hi < 0 || !s[1] || (lo = hex_value(s[1])) < 0 || n == out_len)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return (int)n;
}

/* Keylog lines are "LABEL <client_random hex> <secret hex>" (NSS key log
 * format). Only the two application traffic secrets are kept, in the
 * session; nothing is ever written anywhere else. OpenSSL wipes the line
 * after the callback returns. */
static void
keylog_callback(const SSL *ssl, const char *line)
{
	struct tls_session *s = SSL_get_ex_data(ssl, ex_index);
	static const char client_label[] = "CLIENT_TRAFFIC_SECRET_0 ";
	static const char server_label[] = "SERVER_TRAFFIC_SECRET_0 ";
	uint8_t *dst;
	uint8_t *dst_len;
	const char *p;
	int n;

	if (!s)
		return;
	if (strncmp(line, client_label, sizeof(client_label) - 1) == 0) {
		dst = s->client_secret;
		dst_len = &s->client_secret_len;
	} else if (strncmp(line, server_label, sizeof(server_label) - 1) == 0) {
		dst = s->server_secret;
		dst_len = &s->server_secret_len;
	} else {
		return;
	}
	p = strchr(line + sizeof(client_label) - 1, ' ');
	if (!p)
		return;
	n = decode_hex_secret(p + 1, dst, TRAFFIC_SECRET_MAX);
	if (n <= 0)
		OPENSSL_cleanse(dst, TRAFFIC_SECRET_MAX);
	*dst_len = n > 0 ? (uint8_t)n : 0;
}

/* ------------------------------------------------------------------ */
/* Contexts. */

struct tls_handshake_context {
	SSL_CTX *ctx;
	enum tls_role role;
};

/* tor always_accept_verify_cb: the chain is checked later, against the
 * CERTS cell (tor-spec 4.2), not by TLS. */
static int
accept_any_certificate(int preverify_ok, X509_STORE_CTX *store)
{
	(void)preverify_ok;
	(void)store;
	return 1;
}

int
tls_handshake_context_create(enum tls_role role,
		const struct tls_link_credentials *credentials,
		struct tls_handshake_context **out)
{
	struct tls_handshake_context *c;
	bool server = role == TLS_ROLE_SERVER;
	SSL_CTX *ctx;
	uint64_t options;

	if (!out || (role != TLS_ROLE_SERVER && role != TLS_ROLE_CLIENT) ||
	    (server && !credentials))
		return -EINVAL;
	pthread_once(&ex_index_once, allocate_ex_index);
	if (ex_index < 0)
		return -EIO;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ctx = SSL_CTX_new(TLS_method());
	if (!ctx) {
		free(c);
		return -ENOMEM;
	}
	c->ctx = ctx;
	c->role = role;
	options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
		SSL_OP_CIPHER_SERVER_PREFERENCE;
	if (server)
		options |= SSL_OP_NO_TICKET;
	else
		options |= SSL_OP_TLSEXT_PADDING;
	SSL_CTX_set_options(ctx, options);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_security_level(ctx, 1);
	SSL_CTX_set_keylog_callback(ctx, keylog_callback);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_num_tickets(ctx, 0) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "P-256:X25519") != 1)
		goto fail;
	if (server) {
		if (SSL_CTX_set_ciphersuites(ctx,
				"TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256") != 1 ||
		    SSL_CTX_set_cipher_list(ctx,
				"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256") != 1 ||
		    SSL_CTX_use_certificate(ctx, credentials->link_cert) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, credentials->link_key) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		if (SSL_CTX_set_ciphersuites(ctx,
				"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384") != 1 ||
		    SSL_CTX_set_cipher_list(ctx,
				"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384") != 1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_certificate);
	}
	*out = c;
	return 0;
fail:
	ERR_clear_error();
	tls_handshake_context_free(c);
	return -EIO;
}

void
tls_handshake_context_free(struct tls_handshake_context *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

/* ------------------------------------------------------------------ */
/* Sessions. */

static void
wipe_secrets(struct tls_session *s)
{
	OPENSSL_cleanse(s->client_secret, sizeof(s->client_secret));
	OPENSSL_cleanse(s->server_secret, sizeof(s->server_secret));
	s->client_secret_len = 0;
	s->server_secret_len = 0;
}

/* Marks the session failed with error and a reason: what, then OpenSSL's
 * first queued error reason if any (reasons name alerts and malformed
 * messages, never key material). Returns error. */
static int
fail_session(struct tls_session *s, int error, const char *what)
{
	unsigned long e = ERR_peek_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	snprintf(s->error_text, sizeof(s->error_text), "%s%s%s (in %s)", what,
		 reason ? ": " : "", reason ? reason : "", s->last_state);
	ERR_clear_error();
	s->error = error;
	s->state = TLS_SESSION_FAILED;
	wipe_secrets(s);
	return error;
}

int
tls_session_create(struct tls_handshake_context *context,
		struct tls_session **out)
{
	struct tls_session *s;
	char hostname[HOSTNAME_MAX];

	if (!context || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->role = context->role;
	s->state = TLS_SESSION_HANDSHAKING;
	s->last_state = "before the handshake";
	s->ssl = SSL_new(context->ctx);
	s->rbio = BIO_new(BIO_s_mem());
	s->wbio = BIO_new(BIO_s_mem());
	if (!s->ssl || !s->rbio || !s->wbio) {
		BIO_free(s->rbio);
		BIO_free(s->wbio);
		SSL_free(s->ssl);
		free(s);
		ERR_clear_error();
		return -ENOMEM;
	}
	/* An empty memory BIO must mean "retry later", not end of stream. */
	BIO_set_mem_eof_return(s->rbio, -1);
	BIO_set_mem_eof_return(s->wbio, -1);
	SSL_set_bio(s->ssl, s->rbio, s->wbio);
	if (SSL_set_ex_data(s->ssl, ex_index, s) != 1)
		goto fail;
	if (s->role == TLS_ROLE_SERVER) {
		SSL_set_accept_state(s->ssl);
	} else {
		/* tor tor_tls_new: a random "www.<4..25>.com" server name, as
		 * browsers send one. */
		if (random_hostname(4, 25, "www.", ".com", hostname, sizeof(hostname)) < 0 ||
		    SSL_set_tlsext_host_name(s->ssl, hostname) != 1)
			goto fail;
		SSL_set_connect_state(s->ssl);
	}
	*out = s;
	return 0;
fail:
	SSL_free(s->ssl);
	free(s);
	ERR_clear_error();
	return -EIO;
}

void
tls_session_free(struct tls_session *s)
{
	if (!s)
		return;
	wipe_secrets(s);
	SSL_free(s->ssl);	/* frees both BIOs */
	free(s->leftover);
	free(s->peer_cert);
	free(s);
}

int
tls_session_set_max_version(struct tls_session *s, uint16_t version)
{
	if (!s || s->started || s->state != TLS_SESSION_HANDSHAKING ||
	    (version != TLS1_2_VERSION && version != TLS1_3_VERSION))
		return -EINVAL;
	return SSL_set_max_proto_version(s->ssl, version) == 1 ? 0 : -EIO;
}

int
tls_session_feed(struct tls_session *s, const uint8_t *data, size_t len)
{
	size_t buffered;

	if (!s || (len && !data))
		return -EINVAL;
	/* Bytes that arrive after completion but before the handover are
	 * application records: they join the leftover. */
	if (s->state != TLS_SESSION_HANDSHAKING && s->state != TLS_SESSION_COMPLETE)
		return -EINVAL;
	buffered = BIO_ctrl_pending(s->rbio);
	if (len > TLS_SESSION_MAX_BUFFERED - buffered ||
	    len > TLS_SESSION_MAX_INPUT - s->fed_total)
		return fail_session(s, -EMSGSIZE, "peer sent too many handshake bytes");
	if (len == 0)
		return 0;
	if (BIO_write(s->rbio, data, (int)len) != (int)len)
		return fail_session(s, -ENOMEM, "buffering handshake bytes");
	s->fed_total += len;
	return 0;
}

/* Handshake finished: keep the peer certificate (tor checks it against the
 * CERTS cell's type 1 certificate, tor-spec 4.2). */
static int
complete_session(struct tls_session *s)
{
	X509 *peer = SSL_get0_peer_certificate(s->ssl);
	int rc;

	if (peer) {
		rc = cert_der(peer, &s->peer_cert, &s->peer_cert_len);
		if (rc == 0)
			rc = kdf_sha256(s->peer_cert, s->peer_cert_len, s->peer_cert_sha256);
		if (rc < 0)
			return fail_session(s, rc, "keeping the peer certificate");
	}
	s->state = TLS_SESSION_COMPLETE;
	return TLS_SESSION_DONE;
}

int
tls_session_step(struct tls_session *s)
{
	int r, err;

	if (!s)
		return -EINVAL;
	switch (s->state) {
	case TLS_SESSION_FAILED:
		return s->error;
	case TLS_SESSION_COMPLETE:
	case TLS_SESSION_HANDED_OVER:
		return TLS_SESSION_DONE;
	case TLS_SESSION_HANDSHAKING:
		break;
	}
	s->started = true;
	s->last_state = SSL_state_string_long(s->ssl);
	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1)
		return complete_session(s);
	err = SSL_get_error(s->ssl, r);
	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:	/* a memory BIO takes any write */
		return TLS_SESSION_WANT_INPUT;
	case SSL_ERROR_ZERO_RETURN:
		return fail_session(s, -ECONNRESET, "peer closed the TLS connection");
	case SSL_ERROR_SSL:
		return fail_session(s, -EPROTO, "TLS handshake failed");
	default:
		return fail_session(s, -EIO, "TLS handshake error");
	}
}

enum tls_session_state
tls_session_state(const struct tls_session *s)
{
	return s->state;
}

const char *
tls_session_error(const struct tls_session *s)
{
	return s->state == TLS_SESSION_FAILED ? s->error_text : "";
}

size_t
tls_session_output_pending(const struct tls_session *s)
{
	return BIO_ctrl_pending(s->wbio);
}

size_t
tls_session_drain_output(struct tls_session *s, uint8_t *out, size_t out_len)
{
	size_t pending = BIO_ctrl_pending(s->wbio);
	int n;

	if (out_len > pending)
		out_len = pending;
	if (out_len > INT_MAX)
		out_len = INT_MAX;
	if (out_len == 0)
		return 0;
	n = BIO_read(s->wbio, out, (int)out_len);
	return n > 0 ? (size_t)n : 0;
}

/* ------------------------------------------------------------------ */
/* Handover. */

struct suite_params {
	uint16_t id;
	uint16_t protocol_version;
	uint8_t key_len;
	enum kdf_hash hash;
};

/* The suites the worker's record layer has (B.1 consequences). */
static const struct suite_params suites[] = {
	{ 0x1301, TLS1_3_VERSION, 16, KDF_HASH_SHA256 },	/* TLS_AES_128_GCM_SHA256 */
	{ 0x1302, TLS1_3_VERSION, 32, KDF_HASH_SHA384 },	/* TLS_AES_256_GCM_SHA384 */
	{ 0xc02f, TLS1_2_VERSION, 16, KDF_HASH_SHA256 },	/* ECDHE-RSA-AES128-GCM-SHA256 */
	{ 0xc030, TLS1_2_VERSION, 32, KDF_HASH_SHA384 },	/* ECDHE-RSA-AES256-GCM-SHA384 */
};

/* RFC 8446 7.3: key = HKDF-Expand-Label(secret, "key", "", key_len),
 * iv = HKDF-Expand-Label(secret, "iv", "", 12). */
static int
tls13_direction(const struct suite_params *p, const uint8_t *secret,
		size_t secret_len, struct tls_handover_direction *d)
{
	int rc;

	if (secret_len != kdf_hash_len(p->hash))
		return -EIO;
	rc = kdf_tls13_expand_label(p->hash, secret, secret_len, "key", NULL, 0,
			d->key, p->key_len);
	if (rc == 0)
		rc = kdf_tls13_expand_label(p->hash, secret, secret_len, "iv", NULL, 0,
				d->iv, 12);
	d->iv_len = 12;
	/* read and write start at 0: see tls_session_handover() */
	d->seq = 0;
	/* kept for the worker's KeyUpdate (RFC 8446 7.2) */
	if (secret_len > sizeof(d->secret))
		return -EIO;
	memcpy(d->secret, secret, secret_len);
	d->secret_len = (uint8_t)secret_len;
	return rc < 0 ? -EIO : 0;
}

/* RFC 5246 6.3 and RFC 5288 3: key_block = PRF(master_secret,
 * "key expansion", server_random | client_random) split as client key,
 * server key, client salt (4), server salt (4); GCM suites have no MAC
 * keys. */
static int
tls12_keys(struct tls_session *s, const struct suite_params *p,
		struct tls_handover_direction *client, struct tls_handover_direction *server)
{
	uint8_t master[SSL_MAX_MASTER_KEY_LENGTH];
	uint8_t seed[2 * SSL3_RANDOM_SIZE];
	uint8_t block[2 * 32 + 2 * 4];
	size_t master_len, n = 2u * p->key_len + 8;
	int rc;

	master_len = SSL_SESSION_get_master_key(SSL_get_session(s->ssl), master,
			sizeof(master));
	if (SSL_get_server_random(s->ssl, seed, SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE ||
	    SSL_get_client_random(s->ssl, seed + SSL3_RANDOM_SIZE, SSL3_RANDOM_SIZE) !=
			SSL3_RANDOM_SIZE || master_len != SSL3_MASTER_SECRET_SIZE) {
		OPENSSL_cleanse(master, sizeof(master));
		return -EIO;
	}
	rc = kdf_tls12_prf(p->hash, master, master_len, "key expansion", seed,
			sizeof(seed), block, n);
	OPENSSL_cleanse(master, sizeof(master));
	if (rc < 0) {
		OPENSSL_cleanse(block, sizeof(block));
		return -EIO;
	}
	memcpy(client->key, block, p->key_len);
	memcpy(server->key, block + p->key_len, p->key_len);
	memcpy(client->iv, block + 2 * p->key_len, 4);
	memcpy(server->iv, block + 2 * p->key_len + 4, 4);
	client->iv_len = server->iv_len = 4;
	/* Finished was record 0 under these keys, both ways. */
	client->seq = server->seq = 1;
	OPENSSL_cleanse(block, sizeof(block));
	return 0;
}

int
tls_session_handover(struct tls_session *s, struct tls_handover *out)
{
	const struct suite_params *p = NULL;
	const SSL_CIPHER *cipher;
	struct tls_handover_direction *client, *server;
	uint16_t id;
	size_t pending;
	int rc;

	if (!s || !out || s->state != TLS_SESSION_COMPLETE)
		return -EINVAL;
	if (BIO_ctrl_pending(s->wbio) != 0)
		return -EAGAIN;
	/* Read-ahead is off, so OpenSSL stopped at the last handshake record
	 * and left everything after it in the rbio (design doc V). */
	if (SSL_pending(s->ssl) != 0 || SSL_has_pending(s->ssl))
		return fail_session(s, -EPROTO, "OpenSSL holds unread application data");
	cipher = SSL_get_current_cipher(s->ssl);
	id = cipher ? SSL_CIPHER_get_protocol_id(cipher) : 0;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			p = &suites[i];
	if (!p || SSL_version(s->ssl) != p->protocol_version)
		return fail_session(s, -EPROTO, "negotiated a suite the record layer lacks");

	memset(out, 0, sizeof(*out));
	out->version = p->protocol_version == TLS1_3_VERSION ? TLS_RECORD_TLS13 :
		TLS_RECORD_TLS12;
	out->protocol_version = p->protocol_version;
	out->cipher_suite = p->id;
	out->key_len = p->key_len;
	client = s->role == TLS_ROLE_CLIENT ? &out->write : &out->read;
	server = s->role == TLS_ROLE_CLIENT ? &out->read : &out->write;
	if (out->version == TLS_RECORD_TLS13) {
		/* TLS 1.3 sequence numbers start at 0 both ways: our server
		 * writes no NewSessionTicket (num_tickets 0); a client's last
		 * handshake record, Finished, uses the handshake keys; and no
		 * record under the application keys has been read (read-ahead
		 * off, checked above). */
		rc = tls13_direction(p, s->client_secret, s->client_secret_len, client);
		if (rc == 0)
			rc = tls13_direction(p, s->server_secret, s->server_secret_len, server);
	} else {
		rc = tls12_keys(s, p, client, server);
	}
	wipe_secrets(s);
	if (rc < 0) {
		tls_handover_wipe(out);
		return fail_session(s, rc, "deriving the record keys");
	}

	pending = BIO_ctrl_pending(s->rbio);
	if (pending) {
		s->leftover = malloc(pending);
		if (!s->leftover || BIO_read(s->rbio, s->leftover, (int)pending) != (int)pending) {
			tls_handover_wipe(out);
			return fail_session(s, -ENOMEM, "moving the leftover bytes");
		}
		s->leftover_len = pending;
	}
	out->leftover = s->leftover;
	out->leftover_len = s->leftover_len;
	s->state = TLS_SESSION_HANDED_OVER;
	return 0;
}

int
tls_handover_install(struct crypto_engine *engine, const struct tls_handover *h,
		struct tls_record_dir *read_dir, struct tls_record_dir *write_dir)
{
	int rc;

	rc = tls_record_dir_init(engine, read_dir, h->version, h->read.key, h->key_len,
			h->read.iv, h->read.iv_len, h->read.seq);
	if (rc == 0)
		rc = tls_record_dir_init(engine, write_dir, h->version, h->write.key,
				h->key_len, h->write.iv, h->write.iv_len, h->write.seq);
	return rc;
}

void
tls_handover_wipe(struct tls_handover *h)
{
	OPENSSL_cleanse(&h->read, sizeof(h->read));
	OPENSSL_cleanse(&h->write, sizeof(h->write));
	h->leftover = NULL;
	h->leftover_len = 0;
}

/* ------------------------------------------------------------------ */
/* After the handshake. */

static bool
handshake_complete(const struct tls_session *s)
{
	return s->state == TLS_SESSION_COMPLETE || s->state == TLS_SESSION_HANDED_OVER;
}

int
tls_session_export_keying_material(struct tls_session *s, const char *label,
		const uint8_t *context, size_t context_len, bool use_context,
		uint8_t *out, size_t out_len)
{
	if (!s || !label || !out || out_len == 0 || (context_len && !context) ||
	    !handshake_complete(s))
		return -EINVAL;
	if (SSL_export_keying_material(s->ssl, out, out_len, label, strlen(label),
			context, context_len, use_context) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

int
tls_session_export_auth0003(struct tls_session *s, const uint8_t cid[32],
		uint8_t out[TLS_EXPORTER_AUTH0003_LEN])
{
	return tls_session_export_keying_material(s, TLS_EXPORTER_LABEL_AUTH0003,
			cid, 32, true, out, TLS_EXPORTER_AUTH0003_LEN);
}

int
tls_session_peer_cert(const struct tls_session *s, const uint8_t **der,
		size_t *der_len, const uint8_t **sha256)
{
	if (!s || !handshake_complete(s))
		return -EINVAL;
	if (!s->peer_cert)
		return -ENOENT;
	if (der)
		*der = s->peer_cert;
	if (der_len)
		*der_len = s->peer_cert_len;
	if (sha256)
		*sha256 = s->peer_cert_sha256;
	return 0;
}

int
tls_session_group_nid(const struct tls_session *s)
{
	if (!s || !handshake_complete(s))
		return 0;
	return (int)SSL_get_negotiated_group(s->ssl);
}
