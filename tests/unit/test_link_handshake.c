/* Unit tests for control/link_handshake.{c,h}: two instances completing the
 * handshake with and without initiator authentication, the initiator against
 * the cells a real tor 0.4.9.11 relay sent (tor_link_capture.h) and mutated
 * variants of them, a hand-built AUTHENTICATE checked field by field, and
 * order/format violations. X.509 certificates are made here with OpenSSL. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "control/link_cells.h"
#include "control/link_handshake.h"
#include "crypto/kdf.h"
#include "crypto/rsa_identity.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"
#include "test_util.h"
#include "tor_link_capture.h"

/* The capture's NETINFO time: 2026-11-30 22:36:29 UTC. */
#define CAPTURE_TIME ((time_t)0x6b0dfa6d)
/* Offsets in tor_responder_stream: VERSIONS (11 bytes), CERTS (7 + 1459),
 * AUTH_CHALLENGE (7 + 36), NETINFO (514). */
#define CAPTURE_CERTS_AT 11
#define CAPTURE_CHALLENGE_AT 1477
#define CAPTURE_NETINFO_AT 1520
/* Certificates inside the stream: type, offset of the body, length. */
static const struct {
	uint8_t type;
	size_t at;
	size_t len;
} capture_certs[] = {
	{ 1, 22, 582 }, { 2, 607, 452 }, { 4, 1062, 140 }, { 5, 1205, 104 },
	{ 7, 1312, 165 },
};
/* SHA-1 of the type 2 certificate's RSA key, computed with
 * `openssl x509 -pubkey | openssl rsa -pubin -RSAPublicKey_out -outform DER
 * | sha1sum`; the Ed25519 identity is in the type 4 extension and type 7. */
static const char capture_rsa_fingerprint[] =
	"d0695f37df471a142271b8052ec830de8a9953da";
static const char capture_ed_identity[] =
	"c58aa7f8ff5f32a233a63108616d0d10ccbaa40c2bdf9d4f8e990dd482128dbe";

#define NOW CAPTURE_TIME

/* One relay's keys and certificates, as the caller of the module has them. */
struct relay {
	struct rsa_identity *rsa;
	EVP_PKEY *rsa_evp;
	EVP_PKEY *link_evp;
	struct ed25519_keypair ed_identity;
	struct ed25519_keypair ed_signing;
	uint8_t signing_cert[TORCERT_WITH_SIGNING_KEY_LEN];
	size_t signing_cert_len;
	uint8_t crosscert[RSA_CROSSCERT_SIGNED_LEN + 1 + 128];
	size_t crosscert_len;
	uint8_t *identity_x509;
	size_t identity_x509_len;
	uint8_t *link_x509;
	size_t link_x509_len;
	uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN];
	struct link_credentials *creds;
};

static EVP_PKEY *
make_rsa(unsigned bits)
{
	EVP_PKEY *key = EVP_RSA_gen(bits);

	assert_non_null(key);
	return key;
}

static size_t
make_x509(EVP_PKEY *subject, EVP_PKEY *issuer, const char *subject_cn,
		const char *issuer_cn, time_t not_before, time_t not_after,
		uint8_t **der)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	int len;

	assert_non_null(cert);
	assert_int_equal(X509_set_version(cert, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 7), 1);
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0,
		&not_before));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(cert), 0, 0,
		&not_after));
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)subject_cn, -1, -1, 0);
	name = X509_get_issuer_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)issuer_cn, -1, -1, 0);
	assert_int_equal(X509_set_pubkey(cert, subject), 1);
	assert_true(X509_sign(cert, issuer, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509(cert, der);
	assert_true(len > 0);
	X509_free(cert);
	return (size_t)len;
}

static void
relay_make(struct relay *r, time_t now)
{
	struct link_credentials_params params;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long pem_len;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->rsa_evp = make_rsa(1024);
	r->link_evp = make_rsa(1024);
	assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, r->rsa_evp,
		NULL, NULL, 0, NULL, NULL), 1);
	pem_len = BIO_get_mem_data(bio, &pem);
	assert_int_equal(rsa_identity_from_private_pem(pem, (size_t)pem_len,
		&r->rsa), 0);
	BIO_free(bio);
	assert_int_equal(rsa_identity_fingerprint(r->rsa, r->fingerprint), 0);

	r->identity_x509_len = make_x509(r->rsa_evp, r->rsa_evp,
		"www.identity.net", "www.identity.net", now - 86400,
		now + 365 * 86400, &r->identity_x509);
	r->link_x509_len = make_x509(r->link_evp, r->rsa_evp, "www.link.com",
		"www.identity.net", now - 86400, now + 60 * 86400,
		&r->link_x509);

	assert_int_equal(ed25519_keypair_generate(&r->ed_identity), 0);
	assert_int_equal(ed25519_keypair_generate(&r->ed_signing), 0);
	n = torcert_create(TORCERT_TYPE_SIGNING, TORCERT_KEY_TYPE_ED25519,
		r->ed_signing.public_key,
		torcert_hours_from_time(now + 30 * 86400), &r->ed_identity,
		true, r->signing_cert, sizeof(r->signing_cert));
	assert_int_equal(n, TORCERT_WITH_SIGNING_KEY_LEN);
	r->signing_cert_len = (size_t)n;
	n = rsa_ed25519_crosscert_create(r->ed_identity.public_key,
		torcert_hours_from_time(now + 365 * 86400), r->rsa,
		r->crosscert, sizeof(r->crosscert));
	assert_true(n > 0);
	r->crosscert_len = (size_t)n;

	params = (struct link_credentials_params){
		.rsa_identity = r->rsa,
		.ed25519_identity = r->ed_identity.public_key,
		.ed25519_signing = &r->ed_signing,
		.signing_cert = r->signing_cert,
		.signing_cert_len = r->signing_cert_len,
		.rsa_crosscert = r->crosscert,
		.rsa_crosscert_len = r->crosscert_len,
		.identity_x509 = r->identity_x509,
		.identity_x509_len = r->identity_x509_len,
		.link_x509 = r->link_x509,
		.link_x509_len = r->link_x509_len,
	};
	assert_int_equal(link_credentials_new(&params, now, &r->creds), 0);
}

static void
relay_free(struct relay *r)
{
	link_credentials_free(r->creds);
	rsa_identity_free(r->rsa);
	EVP_PKEY_free(r->rsa_evp);
	EVP_PKEY_free(r->link_evp);
	OPENSSL_free(r->identity_x509);
	OPENSSL_free(r->link_x509);
}

/* Two relays made once: making RSA keys is the slow part. */
static struct relay alice; /* initiator */
static struct relay bob;   /* responder */

static int
group_setup(void **state)
{
	(void)state;
	relay_make(&alice, NOW);
	relay_make(&bob, NOW);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	relay_free(&alice);
	relay_free(&bob);
	return 0;
}

/* The fake TLS session: both ends derive the exporter value from the same
 * secret, as both ends of a real TLS session would. */
struct fake_tls {
	uint8_t secret[32];
	unsigned calls;
};

static int
fake_export(void *arg, const uint8_t cid[LINK_SHA256_LEN],
		uint8_t out[LINK_SHA256_LEN])
{
	struct fake_tls *tls = arg;

	tls->calls++;
	return kdf_hmac_sha256(tls->secret, sizeof(tls->secret), cid,
		LINK_SHA256_LEN, out);
}

static const struct link_address addr_alice = { 4, { 10, 0, 0, 1 } };
static const struct link_address addr_bob = { 6,
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };

static struct link_handshake *
make_initiator(const struct relay *self, const uint8_t *peer_tls_digest,
		struct fake_tls *tls, bool authenticate,
		const uint8_t *expected_rsa, const uint8_t *expected_ed,
		time_t now)
{
	struct link_handshake_params params = {
		.role = LINK_ROLE_INITIATOR,
		.credentials = self->creds,
		.export_keying_material = fake_export,
		.export_arg = tls,
		.peer_address = addr_bob,
		.my_addresses = { addr_alice },
		.n_my_addresses = 1,
		.peer_tls_cert_digest = peer_tls_digest,
		.expected_rsa_fingerprint = expected_rsa,
		.expected_ed25519_identity = expected_ed,
		.authenticate = authenticate,
	};
	struct link_handshake *hs = NULL;

	assert_int_equal(link_handshake_new(&params, now, &hs), 0);
	return hs;
}

static struct link_handshake *
make_responder(const struct relay *self, struct fake_tls *tls, time_t now)
{
	struct link_handshake_params params = {
		.role = LINK_ROLE_RESPONDER,
		.credentials = self->creds,
		.export_keying_material = fake_export,
		.export_arg = tls,
		.peer_address = addr_alice,
		.my_addresses = { addr_bob },
		.n_my_addresses = 1,
	};
	struct link_handshake *hs = NULL;

	assert_int_equal(link_handshake_new(&params, now, &hs), 0);
	return hs;
}

/* Feeds [data, data + len) cell by cell; returns the last result (0 when
 * everything was consumed). */
static int
feed(struct link_handshake *hs, const uint8_t *data, size_t len, time_t now)
{
	const uint8_t *p = data;
	const uint8_t *end = data + len;
	int rc = 0;

	while (p < end) {
		rc = link_handshake_receive(hs, &p, end, now, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Takes everything from's output queue into buf. */
static size_t
take(struct link_handshake *from, uint8_t *buf, size_t cap)
{
	const uint8_t *data;
	size_t len = link_handshake_output(from, &data);

	assert_true(len <= cap);
	memcpy(buf, data, len);
	link_handshake_output_consumed(from, len);
	return len;
}

static int
deliver(struct link_handshake *from, struct link_handshake *to, time_t now)
{
	static uint8_t buf[4 * CELL_VAR_PAYLOAD_MAX];
	size_t len = take(from, buf, sizeof(buf));

	return feed(to, buf, len, now);
}

/* Splits a byte stream of cells (the first with a 2-byte circ id when
 * first_legacy) into frames. */
static size_t
split_cells(const uint8_t *data, size_t len, bool first_legacy,
		struct cell_frame *frames, const uint8_t **starts, size_t max)
{
	const uint8_t *p = data;
	size_t n = 0;

	while (p < data + len) {
		unsigned circ_id_len = first_legacy && n == 0 ?
			CELL_CIRC_ID_LEN_LEGACY : CELL_CIRC_ID_LEN;

		assert_true(n < max);
		starts[n] = p;
		assert_int_equal(cell_frame_parse(&p, data + len, circ_id_len,
			&frames[n], NULL), 0);
		n++;
	}
	starts[n] = p;
	return n;
}

static void
sha256_of(const uint8_t *from, const uint8_t *to, uint8_t out[32])
{
	assert_int_equal(kdf_sha256(from, (size_t)(to - from), out), 0);
}

static void
check_certs_types(const struct cell_frame *frame, const uint8_t *types,
		size_t n)
{
	static struct certs_cell cell;
	const uint8_t *p = frame->payload;

	assert_int_equal(frame->command, CELL_COMMAND_CERTS);
	assert_int_equal(certs_cell_parse(&p, p + frame->payload_len, &cell),
		0);
	assert_int_equal(cell.n_certs, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cell.certs[i].type, types[i]);
}

static void
test_pair_authenticated(void **state)
{
	static uint8_t init_out[4 * CELL_VAR_PAYLOAD_MAX];
	static uint8_t resp_out[4 * CELL_VAR_PAYLOAD_MAX];
	static const uint8_t responder_types[] = { 1, 2, 4, 5, 7 };
	static const uint8_t initiator_types[] = { 2, 4, 6, 7 };
	struct fake_tls tls_a = { .secret = { 1, 2, 3 } };
	struct fake_tls tls_b = tls_a;
	struct cell_frame frames[8];
	const uint8_t *starts[9];
	uint8_t link_digest[32], digest[32], slog_a[32], clog_a[32];
	uint8_t slog_b[32], clog_b[32], got[32];
	struct link_handshake *init, *resp;
	struct link_peer_netinfo info;
	size_t init_len, resp_len, first_len, n;

	(void)state;
	link_credentials_link_cert_digest(bob.creds, link_digest);
	sha256_of(bob.link_x509, bob.link_x509 + bob.link_x509_len, digest);
	assert_memory_equal(link_digest, digest, 32);

	init = make_initiator(&alice, link_digest, &tls_a, true,
		bob.fingerprint, bob.ed_identity.public_key, NOW);
	resp = make_responder(&bob, &tls_b, NOW);
	assert_int_equal(link_handshake_circ_id_len(init), 2);

	/* -> VERSIONS 4 5 */
	first_len = take(init, init_out, sizeof(init_out));
	assert_int_equal(first_len, 9);
	assert_memory_equal(init_out, "\x00\x00\x07\x00\x04\x00\x04\x00\x05",
		9);
	assert_int_equal(feed(resp, init_out, first_len, NOW), 0);
	assert_int_equal(link_handshake_link_protocol(resp), 5);

	/* <- VERSIONS, CERTS 1 2 4 5 7, AUTH_CHALLENGE 3, NETINFO */
	resp_len = take(resp, resp_out, sizeof(resp_out));
	n = split_cells(resp_out, resp_len, true, frames, starts, 8);
	assert_int_equal(n, 4);
	assert_int_equal(frames[0].command, CELL_COMMAND_VERSIONS);
	check_certs_types(&frames[1], responder_types, 5);
	assert_int_equal(frames[2].command, CELL_COMMAND_AUTH_CHALLENGE);
	assert_int_equal(frames[2].payload_len, 36);
	assert_memory_equal(frames[2].payload + 32, "\x00\x01\x00\x03", 4);
	assert_int_equal(frames[3].command, CELL_COMMAND_NETINFO);
	sha256_of(starts[0], starts[3], slog_b);
	assert_int_equal(link_handshake_state(resp), LINK_HANDSHAKE_IN_PROGRESS);

	assert_int_equal(feed(init, resp_out, resp_len, NOW), 0);
	assert_int_equal(link_handshake_state(init), LINK_HANDSHAKE_OPEN);
	assert_true(link_handshake_peer_authenticated(init));
	assert_int_equal(link_handshake_link_protocol(init), 5);
	assert_int_equal(link_handshake_circ_id_len(init), 4);
	assert_int_equal(tls_a.calls, 1);

	/* -> CERTS 2 4 6 7, AUTHENTICATE, NETINFO */
	init_len = take(init, init_out + first_len,
		sizeof(init_out) - first_len);
	n = split_cells(init_out + first_len, init_len, false, frames, starts,
		8);
	assert_int_equal(n, 3);
	check_certs_types(&frames[0], initiator_types, 4);
	assert_int_equal(frames[1].command, CELL_COMMAND_AUTHENTICATE);
	assert_int_equal(frames[1].payload_len, 4 + 352);
	assert_int_equal(frames[2].command, CELL_COMMAND_NETINFO);
	/* CLOG covers our VERSIONS and CERTS. */
	sha256_of(init_out, starts[1], clog_b);

	assert_int_equal(feed(resp, init_out + first_len, init_len, NOW), 0);
	assert_int_equal(link_handshake_state(resp), LINK_HANDSHAKE_OPEN);
	assert_true(link_handshake_peer_authenticated(resp));
	assert_int_equal(tls_b.calls, 1);

	/* Each side learnt the other's identities. */
	assert_int_equal(link_handshake_peer_rsa_fingerprint(init, got), 0);
	assert_memory_equal(got, bob.fingerprint, 20);
	assert_int_equal(link_handshake_peer_ed25519_identity(init, got), 0);
	assert_memory_equal(got, bob.ed_identity.public_key, 32);
	assert_int_equal(link_handshake_peer_rsa_fingerprint(resp, got), 0);
	assert_memory_equal(got, alice.fingerprint, 20);
	assert_int_equal(link_handshake_peer_ed25519_identity(resp, got), 0);
	assert_memory_equal(got, alice.ed_identity.public_key, 32);

	/* SLOG / CLOG agree with each other and with the bytes on the wire. */
	assert_int_equal(link_handshake_auth_logs(init, slog_a, clog_a), 0);
	assert_int_equal(link_handshake_auth_logs(resp, digest, got), 0);
	assert_memory_equal(slog_a, digest, 32);
	assert_memory_equal(clog_a, got, 32);
	assert_memory_equal(slog_a, slog_b, 32);
	assert_memory_equal(clog_a, clog_b, 32);

	/* NETINFO both ways. */
	assert_int_equal(link_handshake_peer_netinfo(init, &info), 0);
	assert_int_equal(info.time, (uint32_t)NOW);
	assert_true(info.skew_known);
	assert_int_equal(info.clock_skew, 0);
	assert_memory_equal(&info.other_address, &addr_alice,
		sizeof(addr_alice));
	assert_int_equal(info.n_addresses, 1);
	assert_memory_equal(&info.addresses[0], &addr_bob, sizeof(addr_bob));
	assert_int_equal(link_handshake_peer_netinfo(resp, &info), 0);
	assert_int_equal(info.time, (uint32_t)NOW);
	assert_memory_equal(&info.other_address, &addr_bob, sizeof(addr_bob));
	assert_int_equal(info.n_addresses, 1);
	assert_memory_equal(&info.addresses[0], &addr_alice,
		sizeof(addr_alice));
	assert_int_equal(link_handshake_output(resp, &starts[0]), 0);
	assert_int_equal(link_handshake_output(init, &starts[0]), 0);

	link_handshake_free(init);
	link_handshake_free(resp);
}

static void
test_pair_client(void **state)
{
	static uint8_t out[4 * CELL_VAR_PAYLOAD_MAX];
	struct fake_tls tls = { .secret = { 9 } };
	struct cell_frame frames[4];
	const uint8_t *starts[5];
	uint8_t link_digest[32], got[32], got2[32];
	struct link_handshake *init, *resp;
	struct link_peer_netinfo info;
	struct netinfo_cell netinfo;
	const uint8_t *p;
	size_t len;

	(void)state;
	link_credentials_link_cert_digest(bob.creds, link_digest);
	init = make_initiator(&alice, link_digest, &tls, false, NULL, NULL,
		NOW);
	resp = make_responder(&bob, &tls, NOW + 1);
	assert_int_equal(deliver(init, resp, NOW + 1), 0);
	assert_int_equal(deliver(resp, init, NOW + 2), 0);
	assert_int_equal(link_handshake_state(init), LINK_HANDSHAKE_OPEN);
	assert_true(link_handshake_peer_authenticated(init));

	/* A client answers with NETINFO only: time 0, no addresses. */
	len = take(init, out, sizeof(out));
	assert_int_equal(split_cells(out, len, false, frames, starts, 4), 1);
	assert_int_equal(frames[0].command, CELL_COMMAND_NETINFO);
	p = frames[0].payload;
	assert_int_equal(netinfo_cell_parse(&p, p + frames[0].payload_len,
		&netinfo), 0);
	assert_int_equal(netinfo.time, 0);
	assert_int_equal(netinfo.n_my_addresses, 0);
	assert_int_equal(feed(resp, out, len, NOW + 3), 0);

	assert_int_equal(link_handshake_state(resp), LINK_HANDSHAKE_OPEN);
	assert_false(link_handshake_peer_authenticated(resp));
	assert_int_equal(link_handshake_peer_rsa_fingerprint(resp, got),
		-ENOENT);
	assert_int_equal(link_handshake_peer_ed25519_identity(resp, got),
		-ENOENT);
	assert_int_equal(link_handshake_auth_logs(resp, got, got2), -ENOENT);
	assert_int_equal(link_handshake_auth_logs(init, got, got2), -ENOENT);
	assert_int_equal(tls.calls, 0);
	assert_int_equal(link_handshake_peer_netinfo(resp, &info), 0);
	assert_int_equal(info.time, 0);
	assert_false(info.skew_known);
	assert_int_equal(info.n_addresses, 0);
	/* The initiator saw the responder's clock one second behind. */
	assert_int_equal(link_handshake_peer_netinfo(init, &info), 0);
	assert_true(info.skew_known);
	assert_int_equal(info.clock_skew, 1);

	link_handshake_free(init);
	link_handshake_free(resp);
}

/* The initiator against the real tor relay's cells. */

static void
capture_link_digest(uint8_t out[32])
{
	/* Type 5: VERSION TYPE EXPIRATION[4] KEY_TYPE, then the key. */
	memcpy(out, tor_responder_stream + capture_certs[3].at + 7, 32);
}

static struct link_handshake *
capture_initiator(const uint8_t *link_digest, const uint8_t *expected_rsa,
		const uint8_t *expected_ed, struct fake_tls *tls)
{
	return make_initiator(&alice, link_digest, tls, true, expected_rsa,
		expected_ed, CAPTURE_TIME);
}

static void
test_real_tor_responder(void **state)
{
	static uint8_t out[4 * CELL_VAR_PAYLOAD_MAX];
	struct fake_tls tls = { .secret = { 5 } };
	uint8_t link_digest[32], fingerprint[20], ed[32], got[32], slog[32];
	uint8_t clog[32], expect[32];
	struct cell_frame frames[4];
	const uint8_t *starts[5];
	struct link_handshake *init;
	struct link_peer_netinfo info;
	size_t len;

	(void)state;
	capture_link_digest(link_digest);
	/* tor's type 5 certifies the SHA-256 of its type 1 certificate. */
	sha256_of(tor_responder_stream + capture_certs[0].at,
		tor_responder_stream + capture_certs[0].at +
		capture_certs[0].len, got);
	assert_memory_equal(got, link_digest, 32);
	assert_int_equal(test_hex(capture_rsa_fingerprint, fingerprint, 20),
		20);
	assert_int_equal(test_hex(capture_ed_identity, ed, 32), 32);

	init = capture_initiator(link_digest, fingerprint, ed, &tls);
	link_handshake_output_consumed(init, 9);
	assert_int_equal(feed(init, tor_responder_stream, CAPTURE_NETINFO_AT,
		CAPTURE_TIME), 0);
	assert_int_equal(link_handshake_link_protocol(init), 5);
	assert_int_equal(link_handshake_state(init), LINK_HANDSHAKE_IN_PROGRESS);
	assert_true(link_handshake_peer_authenticated(init));
	assert_int_equal(link_handshake_peer_rsa_fingerprint(init, got), 0);
	assert_memory_equal(got, fingerprint, 20);
	assert_int_equal(link_handshake_peer_ed25519_identity(init, got), 0);
	assert_memory_equal(got, ed, 32);

	/* SLOG is the SHA-256 of everything tor sent up to AUTH_CHALLENGE. */
	assert_int_equal(link_handshake_auth_logs(init, slog, clog), 0);
	sha256_of(tor_responder_stream, tor_responder_stream +
		CAPTURE_NETINFO_AT, expect);
	assert_memory_equal(slog, expect, 32);
	len = take(init, out, sizeof(out));
	assert_int_equal(split_cells(out, len, false, frames, starts, 4), 3);
	assert_int_equal(frames[1].command, CELL_COMMAND_AUTHENTICATE);
	/* AUTH0003 SID is the SHA-256 of tor's RSA key, SID_ED its Ed25519
	 * identity, SCERT the TLS certificate digest. */
	assert_memory_equal(frames[1].payload + 4 + 8 + 3 * 32, ed, 32);
	assert_memory_equal(frames[1].payload + 4 + 8 + 6 * 32, link_digest,
		32);
	assert_memory_equal(frames[1].payload + 4 + 8 + 4 * 32, slog, 32);

	assert_int_equal(feed(init, tor_responder_stream + CAPTURE_NETINFO_AT,
		sizeof(tor_responder_stream) - CAPTURE_NETINFO_AT,
		CAPTURE_TIME + 5), 0);
	assert_int_equal(link_handshake_state(init), LINK_HANDSHAKE_OPEN);
	assert_int_equal(link_handshake_peer_netinfo(init, &info), 0);
	assert_int_equal(info.time, 0x6b0dfa6du);
	assert_true(info.skew_known);
	assert_int_equal(info.clock_skew, 5);
	assert_int_equal(info.other_address.type, 4);
	assert_memory_equal(info.other_address.bytes, "\x7f\x00\x00\x01", 4);
	assert_int_equal(info.n_addresses, 1);
	assert_memory_equal(info.addresses[0].bytes, "\x7f\x00\x00\x01", 4);
	link_handshake_free(init);

	/* An identity other than the one expected. */
	ed[0] ^= 1;
	init = capture_initiator(link_digest, fingerprint, ed, &tls);
	assert_int_equal(feed(init, tor_responder_stream, CAPTURE_CHALLENGE_AT,
		CAPTURE_TIME), -EKEYREJECTED);
	assert_non_null(strstr(link_handshake_reason(init), "Ed25519 identity"));
	assert_int_equal(link_handshake_peer_rsa_fingerprint(init, got),
		-ENOENT);
	link_handshake_free(init);
	fingerprint[19] ^= 1;
	init = capture_initiator(link_digest, fingerprint, NULL, &tls);
	assert_int_equal(feed(init, tor_responder_stream, CAPTURE_CHALLENGE_AT,
		CAPTURE_TIME), -EKEYREJECTED);
	assert_non_null(strstr(link_handshake_reason(init), "RSA identity"));
	link_handshake_free(init);

	/* A TLS certificate other than the one tor certified. */
	link_digest[31] ^= 1;
	init = capture_initiator(link_digest, NULL, NULL, &tls);
	assert_int_equal(feed(init, tor_responder_stream, CAPTURE_CHALLENGE_AT,
		CAPTURE_TIME), -EBADMSG);
	assert_string_equal(link_handshake_reason(init),
		"CERTS: type 5 certificate does not certify the peer's TLS certificate");
	assert_int_equal(link_handshake_state(init), LINK_HANDSHAKE_FAILED);
	link_handshake_free(init);
}

/* Runs the capture up to the end of CERTS with stream mutated and returns
 * the result of the last cell. */
static int
run_capture(const uint8_t *stream, size_t len, time_t now, char *reason,
		size_t reason_len)
{
	struct fake_tls tls = { .secret = { 5 } };
	uint8_t link_digest[32];
	struct link_handshake *init;
	int rc;

	capture_link_digest(link_digest);
	init = capture_initiator(link_digest, NULL, NULL, &tls);
	rc = feed(init, stream, len, now);
	snprintf(reason, reason_len, "%s", link_handshake_reason(init));
	if (rc != 0)
		assert_int_equal(link_handshake_state(init),
			LINK_HANDSHAKE_FAILED);
	link_handshake_free(init);
	return rc;
}

static void
test_real_tor_certs_flipped(void **state)
{
	static uint8_t stream[sizeof(tor_responder_stream)];
	char reason[200], expect[16];
	unsigned failures = 0;

	(void)state;
	memcpy(stream, tor_responder_stream, sizeof(stream));
	assert_int_equal(run_capture(stream, CAPTURE_CHALLENGE_AT,
		CAPTURE_TIME, reason, sizeof(reason)), 0);
	/* Every single-byte change in every certificate is caught, with the
	 * certificate's type in the reason. */
	for (size_t c = 0; c < sizeof(capture_certs) / sizeof(capture_certs[0]);
			c++) {
		snprintf(expect, sizeof(expect), "type %u",
			capture_certs[c].type);
		for (size_t i = 0; i < capture_certs[c].len; i++) {
			size_t at = capture_certs[c].at + i;
			int rc;

			stream[at] ^= 0x01;
			rc = run_capture(stream, CAPTURE_CHALLENGE_AT,
				CAPTURE_TIME, reason, sizeof(reason));
			stream[at] ^= 0x01;
			if (rc == 0 || strstr(reason, expect) == NULL) {
				print_message("type %u byte %zu: rc %d '%s'\n",
					capture_certs[c].type, i, rc, reason);
				failures++;
			}
		}
	}
	assert_int_equal(failures, 0);
}

/* The capture's CERTS with the certificates chosen by keep (a type list),
 * re-framed. Returns the stream length up to the end of CERTS. */
static size_t
rebuild_certs(uint8_t *out, size_t out_len, const uint8_t *keep,
		size_t n_keep)
{
	static struct certs_cell cell, kept;
	struct cell_frame frame;
	const uint8_t *p = tor_responder_stream + CAPTURE_CERTS_AT;
	const uint8_t *q;
	static uint8_t payload[CELL_VAR_PAYLOAD_MAX];
	ssize_t n;

	assert_int_equal(cell_frame_parse(&p, tor_responder_stream +
		sizeof(tor_responder_stream), 4, &frame, NULL), 0);
	q = frame.payload;
	assert_int_equal(certs_cell_parse(&q, q + frame.payload_len, &cell), 0);
	kept.n_certs = 0;
	for (size_t k = 0; k < n_keep; k++) {
		const struct certs_cell_entry *e = certs_cell_find(&cell,
			keep[k]);

		assert_non_null(e);
		kept.certs[kept.n_certs++] = *e;
	}
	n = certs_cell_encode(&kept, payload, sizeof(payload));
	assert_true(n > 0);
	frame.payload = payload;
	frame.payload_len = (uint16_t)n;
	memcpy(out, tor_responder_stream, CAPTURE_CERTS_AT);
	n = cell_frame_encode(&frame, out + CAPTURE_CERTS_AT,
		out_len - CAPTURE_CERTS_AT);
	assert_true(n > 0);
	return CAPTURE_CERTS_AT + (size_t)n;
}

static void
test_real_tor_certs_rejected(void **state)
{
	static uint8_t stream[2 * sizeof(tor_responder_stream)];
	static const uint8_t no7[] = { 1, 2, 4, 5 };
	static const uint8_t no1[] = { 2, 4, 5, 7 };
	static const uint8_t dup4[] = { 1, 2, 4, 4, 5, 7 };
	static const uint8_t no5[] = { 1, 2, 4, 7 };
	char reason[200];
	time_t type5_expiry = (time_t)wire_read_u32(tor_responder_stream +
		capture_certs[3].at + 2) * 3600;
	size_t len;

	(void)state;
	len = rebuild_certs(stream, sizeof(stream), no7, 4);
	assert_int_equal(run_capture(stream, len, CAPTURE_TIME, reason,
		sizeof(reason)), -EPROTO);
	assert_string_equal(reason, "CERTS: no type 7 certificate");
	len = rebuild_certs(stream, sizeof(stream), no5, 4);
	assert_int_equal(run_capture(stream, len, CAPTURE_TIME, reason,
		sizeof(reason)), -EPROTO);
	assert_string_equal(reason, "CERTS: no type 5 certificate");
	len = rebuild_certs(stream, sizeof(stream), dup4, 6);
	assert_int_equal(run_capture(stream, len, CAPTURE_TIME, reason,
		sizeof(reason)), -EPROTO);
	assert_string_equal(reason, "CERTS: duplicate type 4 certificate");
	/* Type 1 is optional with Ed25519 identities. */
	len = rebuild_certs(stream, sizeof(stream), no1, 4);
	assert_int_equal(run_capture(stream, len, CAPTURE_TIME, reason,
		sizeof(reason)), 0);

	/* Expiry judged by now: the 2-day type 5 certificate goes first, the
	 * X.509 identity certificate with tor's 2-day past slop and 30-day
	 * future slop. */
	len = CAPTURE_CHALLENGE_AT;
	assert_int_equal(run_capture(tor_responder_stream, len, type5_expiry,
		reason, sizeof(reason)), 0);
	assert_int_equal(run_capture(tor_responder_stream, len,
		type5_expiry + 1, reason, sizeof(reason)), -EKEYEXPIRED);
	assert_string_equal(reason, "CERTS: type 5 certificate expired");
	/* notAfter 2027-06-30 00:00:00 + 2 days. */
	assert_int_equal(run_capture(tor_responder_stream, len,
		(time_t)1814313600 + 2 * 86400 + 1, reason, sizeof(reason)),
		-EKEYEXPIRED);
	assert_string_equal(reason, "CERTS: type 2 certificate expired");
	/* notBefore 2026-06-30 00:00:00 - 30 days. */
	assert_int_equal(run_capture(tor_responder_stream, len,
		(time_t)1782777600 - 30 * 86400 - 1, reason, sizeof(reason)),
		-EKEYEXPIRED);
	assert_string_equal(reason, "CERTS: type 2 certificate is not yet valid");

	/* Order: NETINFO or AUTH_CHALLENGE before CERTS; CERTS twice. */
	memcpy(stream, tor_responder_stream, CAPTURE_CERTS_AT);
	memcpy(stream + CAPTURE_CERTS_AT, tor_responder_stream +
		CAPTURE_NETINFO_AT, 514);
	assert_int_equal(run_capture(stream, CAPTURE_CERTS_AT + 514,
		CAPTURE_TIME, reason, sizeof(reason)), -EPROTO);
	assert_string_equal(reason, "NETINFO before CERTS");
	memcpy(stream + CAPTURE_CERTS_AT, tor_responder_stream +
		CAPTURE_CHALLENGE_AT, 43);
	assert_int_equal(run_capture(stream, CAPTURE_CERTS_AT + 43,
		CAPTURE_TIME, reason, sizeof(reason)), -EPROTO);
	assert_string_equal(reason, "AUTH_CHALLENGE before CERTS");
	memcpy(stream, tor_responder_stream, CAPTURE_CHALLENGE_AT);
	memcpy(stream + CAPTURE_CHALLENGE_AT, tor_responder_stream +
		CAPTURE_CERTS_AT, CAPTURE_CHALLENGE_AT - CAPTURE_CERTS_AT);
	assert_int_equal(run_capture(stream, 2 * CAPTURE_CHALLENGE_AT -
		CAPTURE_CERTS_AT, CAPTURE_TIME, reason, sizeof(reason)),
		-EPROTO);
	assert_string_equal(reason, "second CERTS cell");
}

/* A responder against an initiator built by hand in this test, so the
 * responder's AUTHENTICATE check is tested against an independent
 * computation of every AUTH0003 field. */

struct manual_initiator {
	struct ed25519_keypair auth;
	uint8_t auth_cert[TORCERT_MIN_LEN];
	uint8_t versions_and_certs[8192];
	size_t versions_and_certs_len;
	size_t certs_at;
};

static void
manual_make(struct manual_initiator *m, const struct relay *self)
{
	static struct certs_cell cell;
	static uint8_t payload[CELL_VAR_PAYLOAD_MAX];
	struct cell_frame frame = { .circ_id_len = 4,
		.command = CELL_COMMAND_CERTS };
	ssize_t n;

	assert_int_equal(ed25519_keypair_generate(&m->auth), 0);
	assert_int_equal(torcert_create(TORCERT_TYPE_AUTH,
		TORCERT_KEY_TYPE_ED25519, m->auth.public_key,
		torcert_hours_from_time(NOW + 86400), &self->ed_signing, false,
		m->auth_cert, sizeof(m->auth_cert)), TORCERT_MIN_LEN);
	cell.n_certs = 4;
	cell.certs[0] = (struct certs_cell_entry){ 2,
		(uint16_t)self->identity_x509_len, self->identity_x509 };
	cell.certs[1] = (struct certs_cell_entry){ 4,
		(uint16_t)self->signing_cert_len, self->signing_cert };
	cell.certs[2] = (struct certs_cell_entry){ 6, TORCERT_MIN_LEN,
		m->auth_cert };
	cell.certs[3] = (struct certs_cell_entry){ 7,
		(uint16_t)self->crosscert_len, self->crosscert };
	n = certs_cell_encode(&cell, payload, sizeof(payload));
	assert_true(n > 0);
	/* VERSIONS 4 5 with a 2-byte circ id, then CERTS. */
	memcpy(m->versions_and_certs,
		"\x00\x00\x07\x00\x04\x00\x04\x00\x05", 9);
	m->certs_at = 9;
	frame.payload = payload;
	frame.payload_len = (uint16_t)n;
	n = cell_frame_encode(&frame, m->versions_and_certs + 9,
		sizeof(m->versions_and_certs) - 9);
	assert_true(n > 0);
	m->versions_and_certs_len = 9 + (size_t)n;
}

/* AUTHENTICATE for the responder's cells in resp_out; field (0..7: CID .. TLSSECRETS) gets a
 * wrong value when < 8. */
static size_t
manual_authenticate(const struct manual_initiator *m, const struct relay *self,
		const struct relay *peer, const uint8_t *resp_out,
		size_t resp_len, const struct fake_tls *tls, int wrong_field,
		uint8_t *out)
{
	struct cell_frame frames[4];
	const uint8_t *starts[5];
	uint8_t der[RSA_PUBLIC_DER_MAX];
	uint8_t auth[352];
	uint8_t payload[4 + 352];
	uint8_t *q = auth;
	struct cell_frame frame = { .circ_id_len = 4,
		.command = CELL_COMMAND_AUTHENTICATE, .payload = payload,
		.payload_len = sizeof(payload) };
	ssize_t n;

	assert_int_equal(split_cells(resp_out, resp_len, true, frames, starts,
		4), 4);
	memcpy(q, "AUTH0003", 8);
	q += 8;
	n = rsa_identity_public_der(self->rsa, der, sizeof(der));
	sha256_of(der, der + n, q);                             /* CID */
	q += 32;
	n = rsa_identity_public_der(peer->rsa, der, sizeof(der));
	sha256_of(der, der + n, q);                             /* SID */
	q += 32;
	memcpy(q, self->ed_identity.public_key, 32);            /* CID_ED */
	q += 32;
	memcpy(q, peer->ed_identity.public_key, 32);            /* SID_ED */
	q += 32;
	sha256_of(starts[0], starts[3], q);                     /* SLOG */
	q += 32;
	sha256_of(m->versions_and_certs, m->versions_and_certs +
		m->versions_and_certs_len, q);                  /* CLOG */
	q += 32;
	sha256_of(peer->link_x509, peer->link_x509 + peer->link_x509_len,
		q);                                             /* SCERT */
	q += 32;
	assert_int_equal(kdf_hmac_sha256(tls->secret, 32, auth + 8, 32, q),
		0);                                             /* TLSSECRETS */
	q += 32;
	memset(q, 0xab, 24);                                    /* RAND */
	if (wrong_field >= 0 && wrong_field < 8)
		auth[8 + 32 * wrong_field + 7] ^= 0x20;
	assert_int_equal(ed25519_sign(auth + 288, auth, 288, &m->auth), 0);
	wire_write_u16(payload, 3);
	wire_write_u16(payload + 2, 352);
	memcpy(payload + 4, auth, 352);
	n = cell_frame_encode(&frame, out, 4 + 1 + 2 + sizeof(payload));
	assert_int_equal(n, 7 + 356);
	return (size_t)n;
}

static const uint8_t client_netinfo[CELL_LEN] = {
	0, 0, 0, 0, CELL_COMMAND_NETINFO, 0, 0, 0, 0, 4, 4, 10, 0, 0, 1, 0,
};

static struct link_handshake *
manual_start(struct manual_initiator *m, struct fake_tls *tls,
		uint8_t *resp_out, size_t *resp_len, bool send_certs)
{
	struct link_handshake *resp = make_responder(&bob, tls, NOW);

	manual_make(m, &alice);
	assert_int_equal(feed(resp, m->versions_and_certs, m->certs_at, NOW),
		0);
	*resp_len = take(resp, resp_out, 8192);
	if (send_certs)
		assert_int_equal(feed(resp, m->versions_and_certs + m->certs_at,
			m->versions_and_certs_len - m->certs_at, NOW), 0);
	return resp;
}

static void
test_responder_checks_authenticate(void **state)
{
	static const char *names[] = { "CID", "SID", "CID_ED", "SID_ED",
		"SLOG", "CLOG", "SCERT", "TLSSECRETS" };
	static struct manual_initiator m;
	static uint8_t resp_out[8192];
	struct fake_tls tls = { .secret = { 7, 7 } };
	uint8_t cell[512], got[32], slog[32], clog[32], expect[32];
	char want[64];
	struct link_handshake *resp;
	size_t resp_len, len;

	(void)state;
	/* Correct: accepted, then NETINFO opens the link. */
	resp = manual_start(&m, &tls, resp_out, &resp_len, true);
	len = manual_authenticate(&m, &alice, &bob, resp_out, resp_len, &tls,
		-1, cell);
	assert_int_equal(feed(resp, cell, len, NOW), 0);
	assert_true(link_handshake_peer_authenticated(resp));
	assert_int_equal(link_handshake_auth_logs(resp, slog, clog), 0);
	assert_memory_equal(slog, cell + 7 + 4 + 8 + 4 * 32, 32);
	assert_memory_equal(clog, cell + 7 + 4 + 8 + 5 * 32, 32);
	assert_int_equal(link_handshake_state(resp), LINK_HANDSHAKE_IN_PROGRESS);
	assert_int_equal(feed(resp, client_netinfo, sizeof(client_netinfo),
		NOW), 0);
	assert_int_equal(link_handshake_state(resp), LINK_HANDSHAKE_OPEN);
	assert_int_equal(link_handshake_peer_ed25519_identity(resp, got), 0);
	assert_memory_equal(got, alice.ed_identity.public_key, 32);
	sha256_of(m.versions_and_certs, m.versions_and_certs +
		m.versions_and_certs_len, expect);
	assert_memory_equal(clog, expect, 32);
	link_handshake_free(resp);

	/* Each field wrong in turn (properly signed): named in the reason. */
	for (int field = 0; field < 8; field++) {
		resp = manual_start(&m, &tls, resp_out, &resp_len, true);
		len = manual_authenticate(&m, &alice, &bob, resp_out, resp_len,
			&tls, field, cell);
		assert_int_equal(feed(resp, cell, len, NOW), -EBADMSG);
		snprintf(want, sizeof(want), "AUTHENTICATE: %s does not match",
			names[field]);
		assert_string_equal(link_handshake_reason(resp), want);
		assert_false(link_handshake_peer_authenticated(resp));
		link_handshake_free(resp);
	}

	/* Signed by a key other than the type 6 one; RAND changed after
	 * signing. */
	for (int variant = 0; variant < 2; variant++) {
		resp = manual_start(&m, &tls, resp_out, &resp_len, true);
		len = manual_authenticate(&m, &alice, &bob, resp_out, resp_len,
			&tls, -1, cell);
		if (variant == 0)
			assert_int_equal(ed25519_sign(cell + 7 + 4 + 288,
				cell + 7 + 4, 288, &alice.ed_signing), 0);
		else
			cell[7 + 4 + 8 + 256 + 3] ^= 1;
		assert_int_equal(feed(resp, cell, len, NOW), -EBADMSG);
		assert_string_equal(link_handshake_reason(resp),
			"AUTHENTICATE: bad signature by the type 6 key");
		link_handshake_free(resp);
	}

	/* Unknown method; a longer authenticator; AUTHENTICATE before CERTS;
	 * NETINFO between CERTS and AUTHENTICATE; CERTS twice. */
	resp = manual_start(&m, &tls, resp_out, &resp_len, true);
	len = manual_authenticate(&m, &alice, &bob, resp_out, resp_len, &tls,
		-1, cell);
	cell[8] = 1;
	assert_int_equal(feed(resp, cell, len, NOW), -EPROTONOSUPPORT);
	assert_string_equal(link_handshake_reason(resp),
		"AUTHENTICATE of unsupported type 1");
	link_handshake_free(resp);

	resp = manual_start(&m, &tls, resp_out, &resp_len, true);
	len = manual_authenticate(&m, &alice, &bob, resp_out, resp_len, &tls,
		-1, cell);
	wire_write_u16(cell + 5, 4 + 353);
	wire_write_u16(cell + 9, 353);
	cell[len] = 0;
	assert_int_equal(feed(resp, cell, len + 1, NOW), -EPROTO);
	assert_string_equal(link_handshake_reason(resp),
		"AUTH0003 authenticator of 353 bytes (want 352)");
	link_handshake_free(resp);

	resp = manual_start(&m, &tls, resp_out, &resp_len, false);
	len = manual_authenticate(&m, &alice, &bob, resp_out, resp_len, &tls,
		-1, cell);
	assert_int_equal(feed(resp, cell, len, NOW), -EPROTO);
	assert_string_equal(link_handshake_reason(resp),
		"AUTHENTICATE before CERTS");
	link_handshake_free(resp);

	resp = manual_start(&m, &tls, resp_out, &resp_len, true);
	assert_int_equal(feed(resp, client_netinfo, sizeof(client_netinfo),
		NOW), -EPROTO);
	assert_string_equal(link_handshake_reason(resp),
		"NETINFO after CERTS without AUTHENTICATE");
	assert_int_equal(link_handshake_state(resp), LINK_HANDSHAKE_FAILED);
	/* A failed handshake stays failed. */
	assert_int_equal(feed(resp, client_netinfo, sizeof(client_netinfo),
		NOW), -EPROTO);
	link_handshake_free(resp);

	resp = manual_start(&m, &tls, resp_out, &resp_len, true);
	assert_int_equal(feed(resp, m.versions_and_certs + m.certs_at,
		m.versions_and_certs_len - m.certs_at, NOW), -EPROTO);
	assert_string_equal(link_handshake_reason(resp), "second CERTS cell");
	link_handshake_free(resp);
}

/* The module's own initiator with a different TLS secret, and a flipped
 * AUTHENTICATE signature. */
static void
test_pair_bad_authenticate(void **state)
{
	static uint8_t buf[4 * CELL_VAR_PAYLOAD_MAX];
	struct fake_tls tls_a = { .secret = { 1 } };
	struct fake_tls tls_b = { .secret = { 2 } };
	struct cell_frame frames[4];
	const uint8_t *starts[5];
	uint8_t link_digest[32];
	struct link_handshake *init, *resp;
	size_t len;

	(void)state;
	link_credentials_link_cert_digest(bob.creds, link_digest);
	init = make_initiator(&alice, link_digest, &tls_a, true, NULL, NULL,
		NOW);
	resp = make_responder(&bob, &tls_b, NOW);
	assert_int_equal(deliver(init, resp, NOW), 0);
	assert_int_equal(deliver(resp, init, NOW), 0);
	assert_int_equal(deliver(init, resp, NOW), -EBADMSG);
	assert_string_equal(link_handshake_reason(resp),
		"AUTHENTICATE: TLSSECRETS does not match");
	link_handshake_free(init);
	link_handshake_free(resp);

	tls_b = tls_a;
	init = make_initiator(&alice, link_digest, &tls_a, true, NULL, NULL,
		NOW);
	resp = make_responder(&bob, &tls_b, NOW);
	assert_int_equal(deliver(init, resp, NOW), 0);
	assert_int_equal(deliver(resp, init, NOW), 0);
	len = take(init, buf, sizeof(buf));
	assert_int_equal(split_cells(buf, len, false, frames, starts, 4), 3);
	/* Last byte of SIG. */
	buf[starts[2] - buf - 1] ^= 0x40;
	assert_int_equal(feed(resp, buf, len, NOW), -EBADMSG);
	assert_string_equal(link_handshake_reason(resp),
		"AUTHENTICATE: bad signature by the type 6 key");
	link_handshake_free(init);
	link_handshake_free(resp);
}

static void
test_versions_and_order(void **state)
{
	static const uint8_t v3[] = { 0, 0, 7, 0, 2, 0, 3 };
	static const uint8_t v123[] = { 0, 0, 7, 0, 6, 0, 1, 0, 2, 0, 3 };
	static const uint8_t odd[] = { 0, 0, 7, 0, 3, 0, 4, 0 };
	static const uint8_t v4[] = { 0, 0, 7, 0, 2, 0, 4 };
	static const uint8_t v5[] = { 0, 0, 7, 0, 2, 0, 5 };
	static const uint8_t vpadding_legacy[] = { 0, 0, 128, 0, 1, 0xee };
	static const uint8_t authorize_legacy[] = { 0, 0, 132, 0, 0 };
	static const uint8_t certs_legacy[] = { 0, 0, 129, 0, 1, 0 };
	uint8_t fixed[CELL_LEN] = { 0 };
	struct fake_tls tls = { .secret = { 3 } };
	uint8_t link_digest[32];
	struct link_handshake *hs;
	const uint8_t *p;
	uint8_t command;
	uint16_t low, high;

	(void)state;
	link_credentials_link_cert_digest(bob.creds, link_digest);

	hs = make_responder(&bob, &tls, NOW);
	assert_int_equal(feed(hs, v3, sizeof(v3), NOW), -EPROTONOSUPPORT);
	assert_string_equal(link_handshake_reason(hs),
		"VERSIONS: no link protocol in common (peer offers [3], we need 4 or 5)");
	assert_int_equal(link_handshake_output(hs, &p), 0);
	link_handshake_free(hs);

	hs = make_initiator(&alice, link_digest, &tls, true, NULL, NULL, NOW);
	assert_int_equal(feed(hs, v123, sizeof(v123), NOW), -EPROTONOSUPPORT);
	assert_int_equal(link_handshake_error(hs), -EPROTONOSUPPORT);
	assert_non_null(strstr(link_handshake_reason(hs), "[1 2 3]"));
	link_handshake_free(hs);

	hs = make_responder(&bob, &tls, NOW);
	assert_int_equal(feed(hs, odd, sizeof(odd), NOW), -EPROTO);
	assert_string_equal(link_handshake_reason(hs), "VERSIONS with odd length 3");
	link_handshake_free(hs);

	/* VPADDING and AUTHORIZE may precede VERSIONS; CERTS may not. */
	hs = make_responder(&bob, &tls, NOW);
	assert_int_equal(feed(hs, vpadding_legacy, sizeof(vpadding_legacy),
		NOW), 0);
	assert_int_equal(feed(hs, authorize_legacy, sizeof(authorize_legacy),
		NOW), 0);
	assert_int_equal(feed(hs, certs_legacy, sizeof(certs_legacy), NOW),
		-EPROTO);
	assert_string_equal(link_handshake_reason(hs),
		"CERTS cell (command 129) before VERSIONS");
	link_handshake_free(hs);

	/* Version 4 negotiated; a fixed-size PADDING during the handshake is
	 * refused (tor-spec 4: only VPADDING may intervene); so is CREATE2. */
	hs = make_responder(&bob, &tls, NOW);
	assert_int_equal(feed(hs, v4, sizeof(v4), NOW), 0);
	assert_int_equal(link_handshake_link_protocol(hs), 4);
	assert_int_equal(feed(hs, v3, sizeof(v3) - 2, NOW), -EAGAIN);
	fixed[4] = CELL_COMMAND_PADDING;
	assert_int_equal(feed(hs, fixed, sizeof(fixed), NOW), -EPROTO);
	assert_string_equal(link_handshake_reason(hs),
		"unexpected PADDING cell (command 0) during the handshake");
	link_handshake_free(hs);

	/* Open as a client, then link-level cells after the handshake. */
	hs = make_responder(&bob, &tls, NOW);
	assert_int_equal(feed(hs, v5, sizeof(v5), NOW), 0);
	assert_int_equal(feed(hs, client_netinfo, sizeof(client_netinfo), NOW),
		0);
	assert_int_equal(link_handshake_state(hs), LINK_HANDSHAKE_OPEN);
	fixed[4] = CELL_COMMAND_PADDING;
	assert_int_equal(feed(hs, fixed, sizeof(fixed), NOW), 0);
	assert_int_equal(link_handshake_padding_request(hs, &command, &low,
		&high), -ENOENT);
	fixed[4] = CELL_COMMAND_PADDING_NEGOTIATE;
	memcpy(fixed + 5, "\x00\x02\x05\xdc\x27\x10", 6);
	assert_int_equal(feed(hs, fixed, sizeof(fixed), NOW), 0);
	assert_int_equal(link_handshake_padding_request(hs, &command, &low,
		&high), 0);
	assert_int_equal(command, PADDING_NEGOTIATE_START);
	assert_int_equal(low, 1500);
	assert_int_equal(high, 10000);
	fixed[4] = CELL_COMMAND_CREATE2;
	p = fixed;
	assert_int_equal(link_handshake_receive(hs, &p, fixed + sizeof(fixed),
		NOW, NULL), -ENOTSUP);
	assert_ptr_equal(p, fixed);
	assert_int_equal(link_handshake_state(hs), LINK_HANDSHAKE_OPEN);
	fixed[4] = CELL_COMMAND_AUTH_CHALLENGE;
	fixed[5] = 0;
	fixed[6] = 0;
	assert_int_equal(feed(hs, fixed, 7, NOW), -EPROTO);
	assert_string_equal(link_handshake_reason(hs),
		"AUTH_CHALLENGE cell after the handshake");
	link_handshake_free(hs);
}

static void
test_credentials(void **state)
{
	struct link_credentials_params params = {
		.rsa_identity = alice.rsa,
		.ed25519_identity = alice.ed_identity.public_key,
		.ed25519_signing = &alice.ed_signing,
		.signing_cert = alice.signing_cert,
		.signing_cert_len = alice.signing_cert_len,
		.rsa_crosscert = bob.crosscert, /* for another identity */
		.rsa_crosscert_len = bob.crosscert_len,
		.identity_x509 = alice.identity_x509,
		.identity_x509_len = alice.identity_x509_len,
		.link_x509 = alice.link_x509,
		.link_x509_len = alice.link_x509_len,
	};
	struct link_credentials *creds = NULL;
	uint8_t digest[32], expect[32];
	time_t expiry;

	(void)state;
	assert_int_equal(link_credentials_new(&params, NOW, &creds), -EINVAL);
	params.rsa_crosscert = alice.crosscert;
	params.rsa_crosscert_len = alice.crosscert_len;
	params.identity_x509 = bob.identity_x509;
	params.identity_x509_len = bob.identity_x509_len;
	assert_int_equal(link_credentials_new(&params, NOW, &creds), -EINVAL);
	params.identity_x509 = alice.identity_x509;
	params.identity_x509_len = alice.identity_x509_len;
	assert_int_equal(link_credentials_new(&params, NOW + 31 * 86400,
		&creds), -EKEYEXPIRED);
	assert_int_equal(link_credentials_new(&params, NOW, &creds), 0);

	expiry = link_credentials_expiry(creds);
	assert_true(expiry >= NOW + LINK_CERT_LIFETIME);
	assert_true(expiry < NOW + LINK_CERT_LIFETIME + 3600);
	assert_int_equal(link_credentials_refresh(creds, NOW + 3600), 0);
	assert_int_equal(link_credentials_refresh(creds,
		expiry - LINK_CERT_REFRESH_SLOP + 1), 1);
	assert_true(link_credentials_expiry(creds) > expiry);

	/* A rotated link certificate: the type 5 certificate follows. */
	assert_int_equal(link_credentials_set_link_cert(creds, bob.link_x509,
		bob.link_x509_len, NOW), 0);
	link_credentials_link_cert_digest(creds, digest);
	sha256_of(bob.link_x509, bob.link_x509 + bob.link_x509_len, expect);
	assert_memory_equal(digest, expect, 32);
	assert_int_equal(link_credentials_set_link_cert(creds, expect, 32,
		NOW), -EINVAL);
	link_credentials_link_cert_digest(creds, digest);
	assert_memory_equal(digest, expect, 32);
	link_credentials_free(creds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_authenticated),
		cmocka_unit_test(test_pair_client),
		cmocka_unit_test(test_real_tor_responder),
		cmocka_unit_test(test_real_tor_certs_flipped),
		cmocka_unit_test(test_real_tor_certs_rejected),
		cmocka_unit_test(test_responder_checks_authenticate),
		cmocka_unit_test(test_pair_bad_authenticate),
		cmocka_unit_test(test_versions_and_order),
		cmocka_unit_test(test_credentials),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
