/* libFuzzer target for control/link_handshake.c: arbitrary cell sequences
 * fed to a responder and to an initiator, and a complete handshake between
 * two instances with fuzzer-chosen byte changes in transit.
 *
 * First input byte: the mode.
 *   0  responder; the rest is the initiator's byte stream.
 *   1  initiator expecting the real tor relay of tests/unit/tor_link_capture.h
 *      (its TLS certificate digest, the capture's time); the rest is the
 *      responder's byte stream (the capture is a seed).
 *   2  initiator and responder talking to each other; the rest is a list of
 *      3-byte changes (offset u16, xor u8) applied to the concatenated bytes
 *      in flight, in order.
 * Keys are deterministic (a fixed RSA key, Ed25519 keys from fixed seeds,
 * X.509 certificates with fixed dates) and made once; random bytes come from
 * a counter. Checks: no crash; failure is sticky and carries a reason; a
 * responder never authenticates an initiator whose AUTHENTICATE the fuzzer
 * wrote; mode 2 with no change always opens with the right identities. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "control/link_handshake.h"
#include "crypto/kdf.h"
#include "crypto/rsa_identity.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"

/* The capture's time (tests/unit/tor_link_capture.h) and the SHA-256 of its
 * type 1 certificate, which its type 5 certificate certifies. */
#define FUZZ_NOW ((time_t)0x6b0dfa6d)
static const uint8_t capture_link_digest[32] = {
	0x74, 0xd9, 0x73, 0x47, 0x77, 0x4b, 0x88, 0xb3, 0xf2, 0x88, 0xb9, 0x56,
	0x76, 0x19, 0x8a, 0x13, 0x19, 0x08, 0x27, 0xe0, 0x3e, 0xbc, 0xb6, 0x6b,
	0x61, 0x92, 0xa6, 0x4f, 0x90, 0x5e, 0xf7, 0xc8,
};

/* A throwaway identity key written by tor (tests/unit/vectors). */
static const char identity_pem[] =
	"-----BEGIN RSA PRIVATE KEY-----\n"
	"MIICXAIBAAKBgQC+TWCZEbPA/CMwLFw2FILWlJ6CYUpVoRgQMGCwtBMRmNuY/G6R\n"
	"eEfYzDlQN9lqWnxbLfTMfFFzDm52qZTXsbpUCyp2YLfNHudFtD7cPLnk+qUAjUn9\n"
	"cl2dSqoxMaas3eV/eEqj9L2RD8dTl0jyjZZ95BQefyGtrMO55bpQfLZmrQIDAQAB\n"
	"AoGARux9qO6xCKav0p9lyn4AeUqwfLUXyCwe1MHC93hVdwR6K11BNBQY6tLKNXxr\n"
	"GjkZCb5p8uAOVww03SK8p1rErzMVcKqJTQanfIIDwdV9XowMWJprEeGVZRznIcVk\n"
	"/n9QbjKBvrnF08f7GTyB+xddo24Dh5pXUmk5oACj/1Zbe70CQQDrAIf7yNCfbfax\n"
	"ADjYyDdcSb9+lUu3FFPjb5tk77to1rKJGkfVuN2yeuNoOlHrv7I9EXBQJQiyzXQx\n"
	"sHSLBlO/AkEAz05gYvakX6XiBnsFcCxfLIXSRmqG8OeN0gyeXh7yq3nsEFH1ry36\n"
	"0N0zTa43Y1/ukYZTm4eS0/UQh7Fw7b+wkwJBANgdnvDwlttnl0zj9WN3jWHz+IWC\n"
	"6yStLxCkHPZQebtKZtorLxDfeBKhbOz3ZUs2+cWreexagotc4pSnwCXyZaUCQCgf\n"
	"NzBwI+gPJuuyK59GNzVawRO30l4VsrEQmCYHP1hIxJN0CWTaNUzvQtqp+TZWfsnT\n"
	"gaL8XkJ/j69zfDPHgdkCQBlczvgaDdqc5rsv2kKq7UBFM5JapEd5vn1YblIZHkqw\n"
	"61njopsVORpsnrwiUrQDXS7l9JiVmTpobLUjewCS8Ms=\n"
	"-----END RSA PRIVATE KEY-----\n";

struct relay {
	struct rsa_identity *rsa;
	struct ed25519_keypair ed_identity;
	uint8_t ed_signing_seed;
	struct link_credentials *creds;
	uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN];
};

static struct relay alice, bob;

static size_t
make_x509(EVP_PKEY *key, const char *cn, uint8_t **der)
{
	X509 *cert = X509_new();
	time_t not_before = FUZZ_NOW - 86400;
	time_t not_after = FUZZ_NOW + 365 * 86400;
	int len;

	if (cert == NULL || X509_set_version(cert, 2) != 1 ||
			ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1 ||
			X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0,
				&not_before) == NULL ||
			X509_time_adj_ex(X509_getm_notAfter(cert), 0, 0,
				&not_after) == NULL ||
			X509_NAME_add_entry_by_txt(X509_get_subject_name(cert),
				"CN", MBSTRING_ASC, (const unsigned char *)cn,
				-1, -1, 0) != 1 ||
			X509_NAME_add_entry_by_txt(X509_get_issuer_name(cert),
				"CN", MBSTRING_ASC, (const unsigned char *)cn,
				-1, -1, 0) != 1 ||
			X509_set_pubkey(cert, key) != 1 ||
			X509_sign(cert, key, EVP_sha256()) <= 0)
		abort();
	*der = NULL;
	len = i2d_X509(cert, der);
	if (len <= 0)
		abort();
	X509_free(cert);
	return (size_t)len;
}

static void
relay_make(struct relay *r, uint8_t seed_byte)
{
	uint8_t seed[ED25519_SEED_LEN];
	struct ed25519_keypair signing;
	uint8_t signing_cert[TORCERT_WITH_SIGNING_KEY_LEN];
	uint8_t crosscert[RSA_CROSSCERT_SIGNED_LEN + 1 + 128];
	uint8_t *identity_x509, *link_x509;
	size_t identity_len, link_len;
	BIO *bio;
	EVP_PKEY *key;
	ssize_t cross_len;

	/* Both relays share the RSA key: it makes no difference to the
	 * handshake, and keeps start-up fast. */
	if (rsa_identity_from_private_pem(identity_pem, sizeof(identity_pem) - 1,
			&r->rsa) != 0 ||
			rsa_identity_fingerprint(r->rsa, r->fingerprint) != 0)
		abort();
	bio = BIO_new_mem_buf(identity_pem, -1);
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL)
		abort();
	identity_len = make_x509(key, "www.identity.net", &identity_x509);
	link_len = make_x509(key, "www.link.net", &link_x509);
	EVP_PKEY_free(key);

	memset(seed, seed_byte, sizeof(seed));
	if (ed25519_keypair_from_seed(&r->ed_identity, seed) != 0)
		abort();
	seed[0] ^= 0xff;
	if (ed25519_keypair_from_seed(&signing, seed) != 0)
		abort();
	if (torcert_create(TORCERT_TYPE_SIGNING, TORCERT_KEY_TYPE_ED25519,
			signing.public_key,
			torcert_hours_from_time(FUZZ_NOW + 30 * 86400),
			&r->ed_identity, true, signing_cert,
			sizeof(signing_cert)) != sizeof(signing_cert))
		abort();
	cross_len = rsa_ed25519_crosscert_create(r->ed_identity.public_key,
		torcert_hours_from_time(FUZZ_NOW + 365 * 86400), r->rsa,
		crosscert, sizeof(crosscert));
	if (cross_len <= 0)
		abort();

	struct link_credentials_params params = {
		.rsa_identity = r->rsa,
		.ed25519_identity = r->ed_identity.public_key,
		.ed25519_signing = &signing,
		.signing_cert = signing_cert,
		.signing_cert_len = sizeof(signing_cert),
		.rsa_crosscert = crosscert,
		.rsa_crosscert_len = (size_t)cross_len,
		.identity_x509 = identity_x509,
		.identity_x509_len = identity_len,
		.link_x509 = link_x509,
		.link_x509_len = link_len,
	};
	if (link_credentials_new(&params, FUZZ_NOW, &r->creds) != 0)
		abort();
	OPENSSL_free(identity_x509);
	OPENSSL_free(link_x509);
}

static int
fake_export(void *arg, const uint8_t cid[32], uint8_t out[32])
{
	(void)arg;
	return kdf_hmac_sha256("fuzz", 4, cid, 32, out);
}

static uint64_t random_counter;

static int
counter_random(void *arg, uint8_t *out, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(++random_counter * 0x9e3779b97f4a7c15ull >> 56);
	return 0;
}

static struct link_handshake *
make(enum link_role role, const struct relay *self,
		const uint8_t *peer_digest)
{
	struct link_handshake_params params = {
		.role = role,
		.credentials = self->creds,
		.export_keying_material = fake_export,
		.random_bytes = counter_random,
		.peer_address = { 4, { 127, 0, 0, 1 } },
		.my_addresses = { { 4, { 127, 0, 0, 2 } } },
		.n_my_addresses = 1,
		.peer_tls_cert_digest = peer_digest,
		.authenticate = true,
	};
	struct link_handshake *hs;

	if (link_handshake_new(&params, FUZZ_NOW, &hs) != 0)
		abort();
	return hs;
}

static void
check_state(const struct link_handshake *hs, int rc)
{
	if (link_handshake_state(hs) == LINK_HANDSHAKE_FAILED) {
		if (link_handshake_error(hs) >= 0 ||
				link_handshake_reason(hs)[0] == '\0')
			abort();
	} else if (rc != 0 && rc != -EAGAIN && rc != -ENOTSUP) {
		abort();
	}
}

/* Feeds a stream; returns what is left unconsumed. */
static size_t
feed(struct link_handshake *hs, const uint8_t *data, size_t len)
{
	const uint8_t *p = data;
	const uint8_t *end = data + len;

	while (p < end) {
		const uint8_t *before = p;
		int rc = link_handshake_receive(hs, &p, end, FUZZ_NOW, NULL);

		check_state(hs, rc);
		if (rc != 0)
			break;
		if (p == before)
			abort();
	}
	return (size_t)(end - p);
}

static void
drain(struct link_handshake *hs)
{
	const uint8_t *data;

	link_handshake_output_consumed(hs, link_handshake_output(hs, &data));
}

static void
run_raw(enum link_role role, const uint8_t *data, size_t len)
{
	struct link_handshake *hs = make(role, &alice, capture_link_digest);
	uint8_t id[32];

	drain(hs);
	feed(hs, data, len);
	if (role == LINK_ROLE_RESPONDER &&
			link_handshake_peer_authenticated(hs))
		abort();
	if (link_handshake_peer_rsa_fingerprint(hs, id) == 0 &&
			!link_handshake_peer_authenticated(hs))
		abort();
	link_handshake_free(hs);
}

/* Moves from's output to to, applying the changes whose offsets fall in
 * this stretch of the conversation. */
static void
transfer(struct link_handshake *from, struct link_handshake *to,
		const uint8_t *changes, size_t n_changes, size_t *offset)
{
	static uint8_t buf[4 * CELL_VAR_PAYLOAD_MAX];
	const uint8_t *data;
	size_t len = link_handshake_output(from, &data);

	if (len > sizeof(buf))
		abort();
	memcpy(buf, data, len);
	link_handshake_output_consumed(from, len);
	for (size_t i = 0; i < n_changes; i++) {
		size_t at = (size_t)(changes[3 * i] << 8 | changes[3 * i + 1]);

		if (at >= *offset && at < *offset + len)
			buf[at - *offset] ^= changes[3 * i + 2];
	}
	*offset += len;
	feed(to, buf, len);
}

static void
run_pair(const uint8_t *changes, size_t n_changes)
{
	uint8_t link_digest[32], id[32];
	struct link_handshake *init, *resp;
	size_t offset = 0;

	link_credentials_link_cert_digest(bob.creds, link_digest);
	init = make(LINK_ROLE_INITIATOR, &alice, link_digest);
	resp = make(LINK_ROLE_RESPONDER, &bob, NULL);
	for (int round = 0; round < 3; round++) {
		transfer(init, resp, changes, n_changes, &offset);
		transfer(resp, init, changes, n_changes, &offset);
	}
	if (n_changes == 0) {
		if (link_handshake_state(init) != LINK_HANDSHAKE_OPEN ||
				link_handshake_state(resp) != LINK_HANDSHAKE_OPEN ||
				!link_handshake_peer_authenticated(resp) ||
				link_handshake_peer_ed25519_identity(resp, id) != 0 ||
				memcmp(id, alice.ed_identity.public_key, 32) != 0 ||
				link_handshake_peer_ed25519_identity(init, id) != 0 ||
				memcmp(id, bob.ed_identity.public_key, 32) != 0)
			abort();
	}
	/* Whatever the changes, an authenticated peer is the real one. */
	if (link_handshake_peer_ed25519_identity(resp, id) == 0 &&
			memcmp(id, alice.ed_identity.public_key, 32) != 0)
		abort();
	if (link_handshake_peer_ed25519_identity(init, id) == 0 &&
			memcmp(id, bob.ed_identity.public_key, 32) != 0)
		abort();
	link_handshake_free(init);
	link_handshake_free(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (alice.creds == NULL) {
		relay_make(&alice, 0x11);
		relay_make(&bob, 0x22);
	}
	random_counter = 0;
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		run_raw(LINK_ROLE_RESPONDER, data + 1, size - 1);
		break;
	case 1:
		run_raw(LINK_ROLE_INITIATOR, data + 1, size - 1);
		break;
	default:
		run_pair(data + 1, (size - 1) / 3 > 64 ? 64 : (size - 1) / 3);
		break;
	}
	return 0;
}
