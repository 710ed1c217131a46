/* control/tls_handshake: hsrelay's TLS session against a plain OpenSSL peer
 * (its own SSL over memory BIOs, not using the module) in both roles, for
 * every suite and group hsrelay offers; after the handover the worker's
 * record layer (crypto/tls_record) must exchange records with the peer's
 * SSL_read/SSL_write both ways. Also: pipelined records after Finished,
 * a tor-like server's NewSessionTickets, the RFC 5705 exporter on both
 * ends, the link credentials, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "control/tls_handshake.h"
#include "crypto/engine.h"
#include "crypto/kdf.h"
#include "crypto/rsa_identity.h"
#include "crypto/tls_record.h"
#include "tests/unit/openssl_peer.h"
#include "tests/unit/test_util.h"

/* ------------------------------------------------------------------ */
/* The OpenSSL peer. */

struct peer_config {
	const char *suites13;	/* NULL: OpenSSL's default */
	const char *ciphers12;	/* NULL: OpenSSL's default */
	const char *groups;	/* NULL: OpenSSL's default */
	int max_version;	/* 0: TLS 1.3 */
	int num_tickets;	/* -1: OpenSSL's default (2) */
	bool no_ticket;
};

static void
peer_init(struct peer *p, bool server, const struct peer_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->ctx = SSL_CTX_new(TLS_method());
	assert_non_null(p->ctx);
	SSL_CTX_set_security_level(p->ctx, 1);
	if (cfg->suites13)
		assert_int_equal(SSL_CTX_set_ciphersuites(p->ctx, cfg->suites13), 1);
	if (cfg->ciphers12)
		assert_int_equal(SSL_CTX_set_cipher_list(p->ctx, cfg->ciphers12), 1);
	if (cfg->groups)
		assert_int_equal(SSL_CTX_set1_groups_list(p->ctx, cfg->groups), 1);
	if (cfg->max_version)
		assert_int_equal(SSL_CTX_set_max_proto_version(p->ctx, cfg->max_version), 1);
	if (cfg->num_tickets >= 0)
		assert_int_equal(SSL_CTX_set_num_tickets(p->ctx, (size_t)cfg->num_tickets), 1);
	if (cfg->no_ticket)
		SSL_CTX_set_options(p->ctx, SSL_OP_NO_TICKET);
	openssl_peer_start(p, server);
}

static void
peer_step(struct peer *p)
{
	int r;

	if (p->done)
		return;
	r = SSL_do_handshake(p->ssl);
	if (r == 1) {
		p->done = true;
		return;
	}
	assert_int_equal(SSL_get_error(p->ssl, r), SSL_ERROR_WANT_READ);
}

/* Everything the peer wrote so far. */
static size_t
peer_take_output(struct peer *p, uint8_t *out, size_t out_len)
{
	size_t n = BIO_ctrl_pending(p->wbio);

	assert_true(n <= out_len);
	if (n)
		assert_int_equal(BIO_read(p->wbio, out, (int)n), (int)n);
	return n;
}

static void
session_to_peer(struct tls_session *s, struct peer *p)
{
	uint8_t buf[16384];
	size_t n;

	while ((n = tls_session_drain_output(s, buf, sizeof(buf))) > 0)
		assert_int_equal(BIO_write(p->rbio, buf, (int)n), (int)n);
	assert_int_equal(tls_session_output_pending(s), 0);
}

static void
peer_to_session(struct peer *p, struct tls_session *s)
{
	uint8_t buf[65536];
	size_t n = peer_take_output(p, buf, sizeof(buf));

	assert_int_equal(tls_session_feed(s, buf, n), 0);
}

/* Runs the handshake. Peer output goes to the session only while the
 * session is still handshaking; once it is done, whatever the peer writes
 * stays in the peer's wbio (records the worker would receive after the
 * handover). With hold_after_peer_done, the pump also stops delivering
 * peer output as soon as the peer is done, so that a test can append
 * records to the peer's last flight. */
static void
pump(struct tls_session *s, struct peer *p, bool hold_after_peer_done)
{
	int r = TLS_SESSION_WANT_INPUT;

	for (int i = 0; i < 16; i++) {
		r = tls_session_step(s);
		if (r < 0)
			fail_msg("session failed: %d %s", r, tls_session_error(s));
		session_to_peer(s, p);
		peer_step(p);
		if (hold_after_peer_done && p->done)
			return;
		if (r == TLS_SESSION_WANT_INPUT)
			peer_to_session(p, s);
		if (r == TLS_SESSION_DONE && p->done)
			return;
	}
	fail_msg("handshake did not finish (session %d, peer %d)", r, p->done);
}

/* ------------------------------------------------------------------ */
/* The worker's side: records through crypto/tls_record. */

struct stream {
	uint8_t buf[1 << 17];
	size_t len, off;
};

static void
stream_add(struct stream *st, const uint8_t *data, size_t len)
{
	assert_true(len <= sizeof(st->buf) - st->len);
	if (len)
		memcpy(st->buf + st->len, data, len);
	st->len += len;
}

static void
stream_add_peer_output(struct stream *st, struct peer *p)
{
	st->len += peer_take_output(p, st->buf + st->len, sizeof(st->buf) - st->len);
}

/* Opens the next whole record of st under dir; the plaintext is decrypted
 * in place. Fails the test when no whole record is there. */
static void
open_next(struct tls_record_dir *dir, struct stream *st, uint8_t *type,
		const uint8_t **plaintext, uint32_t *len)
{
	uint8_t *h = st->buf + st->off;
	size_t body;
	struct crypto_iov iov;
	struct tls_record_open rec;

	assert_true(st->len - st->off >= TLS_RECORD_HEADER_LEN);
	body = (size_t)h[3] << 8 | h[4];
	assert_true(st->len - st->off >= TLS_RECORD_HEADER_LEN + body);
	iov.base = h + TLS_RECORD_HEADER_LEN;
	iov.len = (uint32_t)body;
	memset(&rec, 0, sizeof(rec));
	rec.dir = dir;
	rec.header = h;
	rec.segments = &iov;
	rec.nb_segments = 1;
	assert_int_equal(tls_record_open_burst(engine, &rec, 1), 1);
	assert_int_equal(rec.status, 0);
	*type = rec.content_type;
	*plaintext = iov.base + rec.plaintext_offset;
	*len = rec.plaintext_len;
	st->off += TLS_RECORD_HEADER_LEN + body;
}

static size_t
seal_one(struct tls_record_dir *dir, uint8_t type, const uint8_t *plaintext,
		size_t len, uint8_t *out)
{
	enum tls_record_version v = (enum tls_record_version)dir->version;
	unsigned pre = tls_record_prefix_len(v);
	struct crypto_iov iov = { out + pre, (uint32_t)len };
	struct tls_record_seal rec;

	memcpy(out + pre, plaintext, len);
	memset(&rec, 0, sizeof(rec));
	rec.dir = dir;
	rec.prefix = out;
	rec.segments = &iov;
	rec.nb_segments = 1;
	rec.content_type = type;
	rec.suffix = out + pre + len;
	assert_int_equal(tls_record_seal_burst(engine, &rec, 1), 1);
	assert_int_equal(rec.status, 0);
	return pre + len + tls_record_suffix_len(v);
}

/* Several records each way, of different sizes (the last a full 2^14):
 * peer SSL_write -> our open; our seal -> peer SSL_read. inbound already
 * holds what arrived before (leftover and any post-handshake records the
 * caller consumed). */
static void
exchange_records(struct tls_record_dir *rd, struct tls_record_dir *wr,
		struct peer *p, struct stream *inbound)
{
	static const size_t sizes[] = { 1, 514, 3000, TLS_RECORD_MAX_PLAINTEXT };
	static uint8_t msg[TLS_RECORD_MAX_PLAINTEXT], got[TLS_RECORD_MAX_PLAINTEXT];
	static uint8_t wire[TLS_RECORD_MAX_PLAINTEXT + 64];
	uint64_t read_seq0 = rd->seq, write_seq0 = wr->seq;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const uint8_t *pt;
		uint32_t pt_len;
		uint8_t type;
		size_t n;

		test_fill(msg, sizes[i], 100 + i);
		assert_int_equal(SSL_write(p->ssl, msg, (int)sizes[i]), (int)sizes[i]);
		stream_add_peer_output(inbound, p);
		open_next(rd, inbound, &type, &pt, &pt_len);
		assert_int_equal(type, TLS_CONTENT_APPLICATION_DATA);
		assert_int_equal(pt_len, sizes[i]);
		assert_memory_equal(pt, msg, sizes[i]);
		assert_int_equal(rd->seq, read_seq0 + i + 1);

		test_fill(msg, sizes[i], 200 + i);
		n = seal_one(wr, TLS_CONTENT_APPLICATION_DATA, msg, sizes[i], wire);
		assert_int_equal(BIO_write(p->rbio, wire, (int)n), (int)n);
		assert_int_equal(SSL_read(p->ssl, got, sizeof(got)), (int)sizes[i]);
		assert_memory_equal(got, msg, sizes[i]);
		assert_int_equal(wr->seq, write_seq0 + i + 1);
	}
	assert_int_equal(inbound->off, inbound->len);
}

/* Opens n NewSessionTicket records (inner type 22, handshake type 4) as
 * the worker does before discarding them. */
static void
skip_tickets(struct tls_record_dir *rd, struct stream *inbound, unsigned n)
{
	const uint8_t *pt;
	uint32_t pt_len;
	uint8_t type;
	uint64_t seq0 = rd->seq;

	for (unsigned i = 0; i < n; i++) {
		open_next(rd, inbound, &type, &pt, &pt_len);
		assert_int_equal(type, TLS_CONTENT_HANDSHAKE);
		assert_true(pt_len > 4);
		assert_int_equal(pt[0], 4);
		assert_int_equal(((uint32_t)pt[1] << 16 | (uint32_t)pt[2] << 8 | pt[3]) + 4,
				pt_len);
		assert_int_equal(rd->seq, seq0 + i + 1);
	}
}

static void
check_exporter(struct tls_session *s, struct peer *p)
{
	uint8_t cid[32], ours[32], theirs[32], plain[32];
	static const char label[] = "EXPORTER FOR TOR TLS CLIENT BINDING AUTH0003";

	test_fill(cid, sizeof(cid), 77);
	assert_int_equal(tls_session_export_auth0003(s, cid, ours), 0);
	assert_int_equal(SSL_export_keying_material(p->ssl, theirs, sizeof(theirs), label,
			strlen(label), cid, sizeof(cid), 1), 1);
	assert_memory_equal(ours, theirs, sizeof(ours));
	/* a different context gives a different secret */
	cid[0] ^= 1;
	assert_int_equal(tls_session_export_keying_material(s, label, cid, sizeof(cid), true,
			plain, sizeof(plain)), 0);
	assert_memory_not_equal(plain, ours, sizeof(ours));
}

/* ------------------------------------------------------------------ */
/* Suites x groups x roles. */

struct suite_case {
	const char *name;
	uint16_t id;
	int version;
	uint8_t key_len;
	const char *suites13;
	const char *ciphers12;
};

static const struct suite_case suite_cases[] = {
	{ "TLS_AES_128_GCM_SHA256", 0x1301, TLS1_3_VERSION, 16,
	  "TLS_AES_128_GCM_SHA256", NULL },
	{ "TLS_AES_256_GCM_SHA384", 0x1302, TLS1_3_VERSION, 32,
	  "TLS_AES_256_GCM_SHA384", NULL },
	{ "ECDHE-RSA-AES128-GCM-SHA256", 0xc02f, TLS1_2_VERSION, 16,
	  NULL, "ECDHE-RSA-AES128-GCM-SHA256" },
	{ "ECDHE-RSA-AES256-GCM-SHA384", 0xc030, TLS1_2_VERSION, 32,
	  NULL, "ECDHE-RSA-AES256-GCM-SHA384" },
};

static const struct {
	const char *name;
	int nid;
} group_cases[] = {
	{ "P-256", NID_X9_62_prime256v1 },
	{ "X25519", NID_X25519 },
};

static void check_hostname(const char *name, const char *suffix, size_t min, size_t max);

static void
run_case(enum tls_role role, const struct suite_case *sc, const char *group, int nid)
{
	struct peer_config cfg = {
		.suites13 = sc->suites13, .ciphers12 = sc->ciphers12, .groups = group,
		.max_version = sc->version, .num_tickets = -1,
	};
	static struct stream inbound;
	struct tls_record_dir rd, wr;
	struct tls_handover h;
	struct tls_session *s;
	struct peer p;
	const uint8_t *der, *sha;
	size_t der_len;
	uint64_t seq0 = sc->version == TLS1_3_VERSION ? 0 : 1;

	print_message("%s %s %s\n", role == TLS_ROLE_SERVER ? "server" : "client", sc->name, group);
	/* the peer is a client when we are the server */
	peer_init(&p, role == TLS_ROLE_CLIENT, &cfg);
	assert_int_equal(tls_session_create(role == TLS_ROLE_SERVER ? server_context :
			client_context, &s), 0);
	assert_int_equal(tls_session_state(s), TLS_SESSION_HANDSHAKING);
	pump(s, &p, false);
	assert_int_equal(tls_session_state(s), TLS_SESSION_COMPLETE);
	assert_string_equal(tls_session_error(s), "");
	assert_int_equal(tls_session_group_nid(s), nid);
	assert_int_equal(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(p.ssl)), sc->id);

	assert_int_equal(tls_session_handover(s, &h), 0);
	assert_int_equal(tls_session_state(s), TLS_SESSION_HANDED_OVER);
	assert_int_equal(h.cipher_suite, sc->id);
	assert_int_equal(h.protocol_version, sc->version);
	assert_int_equal(h.version, sc->version == TLS1_3_VERSION ? TLS_RECORD_TLS13 :
			TLS_RECORD_TLS12);
	assert_int_equal(h.key_len, sc->key_len);
	assert_int_equal(h.read.iv_len, sc->version == TLS1_3_VERSION ? 12 : 4);
	assert_int_equal(h.read.seq, seq0);
	assert_int_equal(h.write.seq, seq0);
	assert_int_equal(h.leftover_len, 0);
	/* a second handover is refused */
	{
		struct tls_handover again;

		assert_int_equal(tls_session_handover(s, &again), -EINVAL);
	}
	assert_int_equal(tls_handover_install(engine, &h, &rd, &wr), 0);
	tls_handover_wipe(&h);
	assert_int_equal(h.read.key[0] | h.write.key[0] | h.read.iv[0], 0);

	memset(&inbound, 0, sizeof(inbound));
	stream_add_peer_output(&inbound, &p);
	if (role == TLS_ROLE_CLIENT && sc->version == TLS1_3_VERSION) {
		/* the OpenSSL server's two default tickets, written when it
		 * read our Finished: records 0 and 1 under its application
		 * key */
		skip_tickets(&rd, &inbound, 2);
	} else {
		/* our server sends none; in TLS 1.2 a ticket precedes CCS */
		assert_int_equal(inbound.len, 0);
	}
	exchange_records(&rd, &wr, &p, &inbound);
	check_exporter(s, &p);

	if (role == TLS_ROLE_CLIENT) {
		const char *sni = SSL_get_servername(p.ssl, TLSEXT_NAMETYPE_host_name);
		unsigned char *peer_der = NULL;
		int n = i2d_X509(peer_cert, &peer_der);
		uint8_t digest[32];

		/* tor's fake server name: www.<4..25 base32>.com */
		assert_non_null(sni);
		check_hostname(sni, ".com", 4, 25);
		assert_int_equal(tls_session_peer_cert(s, &der, &der_len, &sha), 0);
		assert_int_equal(der_len, n);
		assert_memory_equal(der, peer_der, der_len);
		assert_int_equal(kdf_sha256(peer_der, (size_t)n, digest), 0);
		assert_memory_equal(sha, digest, 32);
		OPENSSL_free(peer_der);
	} else {
		/* the peer saw our link certificate */
		unsigned char *seen = NULL;
		int n = i2d_X509(SSL_get0_peer_certificate(p.ssl), &seen);
		size_t link_len;
		const uint8_t *link = tls_link_credentials_link_cert(credentials, &link_len);

		assert_int_equal(n, link_len);
		assert_memory_equal(seen, link, link_len);
		OPENSSL_free(seen);
		assert_int_equal(tls_session_peer_cert(s, &der, &der_len, &sha), -ENOENT);
	}
	tls_record_dir_clear(&rd);
	tls_record_dir_clear(&wr);
	tls_session_free(s);
	peer_free(&p);
}

static void
test_matrix(enum tls_role role)
{
	for (size_t i = 0; i < sizeof(suite_cases) / sizeof(suite_cases[0]); i++)
		for (size_t g = 0; g < sizeof(group_cases) / sizeof(group_cases[0]); g++)
			run_case(role, &suite_cases[i], group_cases[g].name, group_cases[g].nid);
}

static void
test_server_all_suites_and_groups(void **state)
{
	(void)state;
	test_matrix(TLS_ROLE_SERVER);
}

static void
test_client_all_suites_and_groups(void **state)
{
	(void)state;
	test_matrix(TLS_ROLE_CLIENT);
}

/* Default peers: our server's preference wins (AES-256 first, like tor);
 * our client against a default OpenSSL server (which also prefers
 * AES-256) gets AES-256 too; a TLS 1.2-capped client gets the 1.2 suite. */
static void
test_negotiation_defaults(void **state)
{
	struct peer_config cfg = { .num_tickets = 0 };
	struct tls_handover h;
	struct tls_session *s;
	struct peer p;
	int rc;

	(void)state;
	/* peer client offering AES-128 first */
	cfg.suites13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
	peer_init(&p, false, &cfg);
	assert_int_equal(tls_session_create(server_context, &s), 0);
	pump(s, &p, false);
	assert_int_equal(tls_session_handover(s, &h), 0);
	assert_int_equal(h.cipher_suite, 0x1302);
	assert_int_equal(tls_session_group_nid(s), NID_X25519); /* OpenSSL client's share */
	tls_handover_wipe(&h);
	tls_session_free(s);
	peer_free(&p);

	/* TLS 1.2 likewise: AES-256 although the client lists AES-128 first */
	cfg.suites13 = NULL;
	cfg.max_version = TLS1_2_VERSION;
	cfg.ciphers12 = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";
	peer_init(&p, false, &cfg);
	assert_int_equal(tls_session_create(server_context, &s), 0);
	pump(s, &p, false);
	assert_int_equal(tls_session_handover(s, &h), 0);
	assert_int_equal(h.cipher_suite, 0xc030);
	tls_handover_wipe(&h);
	tls_session_free(s);
	peer_free(&p);
	cfg.max_version = 0;
	cfg.ciphers12 = NULL;

	/* a TLS 1.1 client is refused (tor 0.4.9 requires 1.2 or later) */
	peer_init(&p, false, &cfg);
	SSL_set_security_level(p.ssl, 0);
	assert_int_equal(SSL_set_min_proto_version(p.ssl, TLS1_1_VERSION), 1);
	assert_int_equal(SSL_set_max_proto_version(p.ssl, TLS1_1_VERSION), 1);
	peer_step(&p);
	assert_int_equal(tls_session_create(server_context, &s), 0);
	peer_to_session(&p, s);
	rc = tls_session_step(s);
	print_message("TLS 1.1 client: %s\n", tls_session_error(s));
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(tls_session_error(s), "protocol"));
	tls_session_free(s);
	peer_free(&p);

	/* our client capped at TLS 1.2 against a default server */
	cfg.suites13 = NULL;
	peer_init(&p, true, &cfg);
	assert_int_equal(tls_session_create(client_context, &s), 0);
	assert_int_equal(tls_session_set_max_version(s, 0x0301), -EINVAL);
	assert_int_equal(tls_session_set_max_version(s, TLS1_2_VERSION), 0);
	pump(s, &p, false);
	assert_int_equal(tls_session_set_max_version(s, TLS1_3_VERSION), -EINVAL);
	assert_int_equal(tls_session_handover(s, &h), 0);
	assert_int_equal(h.protocol_version, TLS1_2_VERSION);
	assert_true(h.cipher_suite == 0xc02f || h.cipher_suite == 0xc030);
	/* our client offers P-256 first, the server takes it */
	assert_int_equal(tls_session_group_nid(s), NID_X9_62_prime256v1);
	tls_handover_wipe(&h);
	tls_session_free(s);
	peer_free(&p);
}

/* ------------------------------------------------------------------ */
/* Pipelining and post-handshake records. */

/* Our server, TLS 1.3: the client's Finished and its first application
 * record arrive in one buffer; the record stays for the worker at seq 0.
 * (An OpenSSL TLS 1.2 client cannot pipeline: it has no False Start. The
 * TLS 1.2 direction is covered by test_pipelined_server_record.) */
static void
test_pipelined_client_record(void **state)
{
	static const uint8_t first[] = "VERSIONS cell goes here";
	struct peer_config cfg = { .num_tickets = -1 };
	static struct stream inbound;
	struct tls_record_dir rd, wr;
	struct tls_handover h;
	struct tls_session *s;
	struct peer p;
	const uint8_t *pt;
	uint32_t pt_len;
	uint8_t type;

	(void)state;
	for (int k = 0; k < 2; k++) {
		cfg.suites13 = k == 0 ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256";
		peer_init(&p, false, &cfg);
		assert_int_equal(tls_session_create(server_context, &s), 0);
		pump(s, &p, true);
		/* the client is done and its Finished not yet delivered */
		assert_true(p.done);
		assert_int_equal(tls_session_state(s), TLS_SESSION_HANDSHAKING);
		assert_int_equal(SSL_write(p.ssl, first, sizeof(first)), (int)sizeof(first));
		peer_to_session(&p, s);
		assert_int_equal(tls_session_step(s), TLS_SESSION_DONE);
		assert_int_equal(tls_session_output_pending(s), 0);
		assert_int_equal(tls_session_handover(s, &h), 0);
		assert_true(h.leftover_len > sizeof(first));
		assert_int_equal(h.read.seq, 0);
		assert_int_equal(h.write.seq, 0);
		assert_int_equal(tls_handover_install(engine, &h, &rd, &wr), 0);
		memset(&inbound, 0, sizeof(inbound));
		stream_add(&inbound, h.leftover, h.leftover_len);
		tls_handover_wipe(&h);
		open_next(&rd, &inbound, &type, &pt, &pt_len);
		assert_int_equal(type, TLS_CONTENT_APPLICATION_DATA);
		assert_int_equal(pt_len, sizeof(first));
		assert_memory_equal(pt, first, sizeof(first));
		assert_int_equal(inbound.off, inbound.len);
		exchange_records(&rd, &wr, &p, &inbound);
		tls_session_free(s);
		peer_free(&p);
	}
}

/* Our client, TLS 1.2: the server's CCS + Finished and its first record in
 * one buffer; and TLS 1.3 with bytes fed after completion but before the
 * handover, which join the leftover. */
static void
test_pipelined_server_record(void **state)
{
	static const uint8_t first[] = "first server record";
	struct peer_config cfg = { .num_tickets = 0, .max_version = TLS1_2_VERSION };
	static struct stream inbound;
	struct tls_record_dir rd, wr;
	struct tls_handover h;
	struct tls_session *s;
	struct peer p;
	const uint8_t *pt;
	uint32_t pt_len;
	uint8_t type;

	(void)state;
	peer_init(&p, true, &cfg);
	assert_int_equal(tls_session_create(client_context, &s), 0);
	pump(s, &p, true);
	assert_int_equal(tls_session_state(s), TLS_SESSION_HANDSHAKING);
	assert_int_equal(SSL_write(p.ssl, first, sizeof(first)), (int)sizeof(first));
	peer_to_session(&p, s);
	assert_int_equal(tls_session_step(s), TLS_SESSION_DONE);
	assert_int_equal(tls_session_output_pending(s), 0);
	assert_int_equal(tls_session_handover(s, &h), 0);
	assert_int_equal(h.read.seq, 1);
	assert_int_equal(tls_handover_install(engine, &h, &rd, &wr), 0);
	memset(&inbound, 0, sizeof(inbound));
	stream_add(&inbound, h.leftover, h.leftover_len);
	tls_handover_wipe(&h);
	open_next(&rd, &inbound, &type, &pt, &pt_len);
	assert_int_equal(type, TLS_CONTENT_APPLICATION_DATA);
	assert_memory_equal(pt, first, sizeof(first));
	assert_int_equal(rd.seq, 2);
	exchange_records(&rd, &wr, &p, &inbound);
	tls_session_free(s);
	peer_free(&p);

	/* TLS 1.3, our client: complete, then (before handing over) the
	 * worker forwards a record; it must come out as leftover, and the
	 * handover must wait for our Finished to be drained. */
	cfg.max_version = 0;
	peer_init(&p, true, &cfg);
	assert_int_equal(tls_session_create(client_context, &s), 0);
	for (int i = 0; i < 4 && tls_session_step(s) != TLS_SESSION_DONE; i++) {
		session_to_peer(s, &p);
		peer_step(&p);
		peer_to_session(&p, s);
	}
	assert_int_equal(tls_session_state(s), TLS_SESSION_COMPLETE);
	assert_true(tls_session_output_pending(s) > 0);
	assert_int_equal(tls_session_handover(s, &h), -EAGAIN);
	session_to_peer(s, &p);
	peer_step(&p);
	assert_true(p.done);
	assert_int_equal(SSL_write(p.ssl, first, sizeof(first)), (int)sizeof(first));
	peer_to_session(&p, s);
	assert_int_equal(tls_session_handover(s, &h), 0);
	assert_int_equal(h.read.seq, 0);
	assert_int_equal(h.write.seq, 0);
	assert_int_equal(tls_session_feed(s, first, 1), -EINVAL);
	assert_int_equal(tls_handover_install(engine, &h, &rd, &wr), 0);
	memset(&inbound, 0, sizeof(inbound));
	stream_add(&inbound, h.leftover, h.leftover_len);
	tls_handover_wipe(&h);
	open_next(&rd, &inbound, &type, &pt, &pt_len);
	assert_int_equal(type, TLS_CONTENT_APPLICATION_DATA);
	assert_memory_equal(pt, first, sizeof(first));
	exchange_records(&rd, &wr, &p, &inbound);
	tls_session_free(s);
	peer_free(&p);
}

/* A tor-like server (SSL_OP_NO_TICKET, default num_tickets) sends two
 * NewSessionTicket messages after our client's Finished: the worker opens
 * them at read seq 0 and 1 (inner type 22, handshake type 4) and the
 * application data follows at seq 2. */
static void
test_tor_like_server_tickets(void **state)
{
	static const uint8_t versions[] = { 0, 0, 7, 0, 6, 0, 3, 0, 4, 0, 5 };
	static struct stream inbound;
	struct tls_record_dir rd, wr;
	struct tls_handover h;
	struct tls_session *s;
	struct peer p;
	const uint8_t *pt;
	uint32_t pt_len;
	uint8_t type;

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct peer_config cfg = {
			.num_tickets = -1, .no_ticket = true,
			.suites13 = k == 0 ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256",
		};

		peer_init(&p, true, &cfg);
		assert_int_equal(tls_session_create(client_context, &s), 0);
		pump(s, &p, false);
		assert_int_equal(tls_session_handover(s, &h), 0);
		assert_int_equal(h.cipher_suite, k == 0 ? 0x1302 : 0x1301);
		assert_int_equal(h.read.seq, 0);
		assert_int_equal(h.write.seq, 0);
		assert_int_equal(tls_handover_install(engine, &h, &rd, &wr), 0);
		memset(&inbound, 0, sizeof(inbound));
		stream_add(&inbound, h.leftover, h.leftover_len);
		tls_handover_wipe(&h);
		assert_int_equal(SSL_write(p.ssl, versions, sizeof(versions)), (int)sizeof(versions));
		stream_add_peer_output(&inbound, &p);
		skip_tickets(&rd, &inbound, 2);
		open_next(&rd, &inbound, &type, &pt, &pt_len);
		assert_int_equal(type, TLS_CONTENT_APPLICATION_DATA);
		assert_int_equal(pt_len, sizeof(versions));
		assert_memory_equal(pt, versions, sizeof(versions));
		assert_int_equal(rd.seq, 3);
		exchange_records(&rd, &wr, &p, &inbound);
		check_exporter(s, &p);
		tls_session_free(s);
		peer_free(&p);
	}
}

/* The exporter before the handover equals the one after, and in TLS 1.2 an
 * empty context with use_context differs from no context (design doc V). */
static void
test_exporter_contexts(void **state)
{
	struct peer_config cfg = { .num_tickets = 0, .max_version = TLS1_2_VERSION };
	uint8_t a[32], b[32], c[32], cid[32];
	struct tls_handover h;
	struct tls_session *s;
	struct peer p;

	(void)state;
	test_fill(cid, sizeof(cid), 9);
	peer_init(&p, false, &cfg);
	assert_int_equal(tls_session_create(server_context, &s), 0);
	assert_int_equal(tls_session_export_auth0003(s, cid, a), -EINVAL);
	pump(s, &p, false);
	assert_int_equal(tls_session_export_auth0003(s, cid, a), 0);
	assert_int_equal(tls_session_handover(s, &h), 0);
	tls_handover_wipe(&h);
	assert_int_equal(tls_session_export_auth0003(s, cid, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(tls_session_export_keying_material(s, "x", NULL, 0, true, b,
			sizeof(b)), 0);
	assert_int_equal(tls_session_export_keying_material(s, "x", NULL, 0, false, c,
			sizeof(c)), 0);
	assert_memory_not_equal(b, c, sizeof(b));
	check_exporter(s, &p);
	tls_session_free(s);
	peer_free(&p);
}

/* ------------------------------------------------------------------ */
/* Credentials. */

static time_t
asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return timegm(&tm);
}

static X509 *
parse_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	return x;
}

static void
common_name(X509_NAME *name, char *out, size_t out_len)
{
	assert_int_equal(X509_NAME_entry_count(name), 1);
	assert_true(X509_NAME_get_text_by_NID(name, NID_commonName, out, (int)out_len) > 0);
}

static void
check_hostname(const char *name, const char *suffix, size_t min, size_t max)
{
	size_t len = strlen(name), mid;

	assert_true(strncmp(name, "www.", 4) == 0);
	assert_true(len > 4 + strlen(suffix));
	assert_string_equal(name + len - strlen(suffix), suffix);
	mid = len - 4 - strlen(suffix);
	assert_true(mid >= min && mid <= max);
	for (size_t i = 4; i < 4 + mid; i++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", name[i]));
}

static void
test_credentials(void **state)
{
	const uint8_t *link, *id;
	size_t link_len, id_len;
	struct rsa_identity *from_id, *from_link;
	uint8_t fp1[20], fp2[20], digest[32];
	char link_cn[64], issuer_cn[64], id_cn[64], id_issuer[64];
	time_t now = time(NULL), nb, na;
	X509 *lx, *ix;
	struct tls_link_credentials *fixed;

	(void)state;
	link = tls_link_credentials_link_cert(credentials, &link_len);
	id = tls_link_credentials_identity_cert(credentials, &id_len);

	/* signatures: link by identity, identity by itself; not the reverse */
	assert_int_equal(rsa_identity_x509_check_signature(link, link_len, identity), 0);
	assert_int_equal(rsa_identity_x509_check_signature(id, id_len, identity), 0);
	assert_int_equal(rsa_identity_from_x509(id, id_len, &from_id), 0);
	assert_int_equal(rsa_identity_from_x509(link, link_len, &from_link), 0);
	assert_int_equal(rsa_identity_x509_check_signature(link, link_len, from_link),
			-EBADMSG);
	assert_int_equal(rsa_identity_fingerprint(identity, fp1), 0);
	assert_int_equal(rsa_identity_fingerprint(from_id, fp2), 0);
	assert_memory_equal(fp1, fp2, 20);
	assert_int_equal(rsa_identity_check_tor_params(from_id), 0);
	assert_int_equal(rsa_identity_bits(from_link), 2048);
	rsa_identity_free(from_id);
	rsa_identity_free(from_link);

	assert_int_equal(kdf_sha256(link, link_len, digest), 0);
	assert_memory_equal(tls_link_credentials_link_cert_sha256(credentials), digest, 32);

	lx = parse_der(link, link_len);
	ix = parse_der(id, id_len);
	assert_int_equal(X509_get_version(lx), 2);
	assert_int_equal(X509_get_version(ix), 2);
	assert_int_equal(X509_get_ext_count(lx), 0);
	assert_true(ASN1_STRING_length(X509_get0_serialNumber(lx)) > 0 &&
		    ASN1_STRING_length(X509_get0_serialNumber(lx)) <= 8);
	assert_int_equal(X509_get_signature_nid(lx), NID_sha256WithRSAEncryption);
	common_name(X509_get_subject_name(lx), link_cn, sizeof(link_cn));
	common_name(X509_get_issuer_name(lx), issuer_cn, sizeof(issuer_cn));
	common_name(X509_get_subject_name(ix), id_cn, sizeof(id_cn));
	common_name(X509_get_issuer_name(ix), id_issuer, sizeof(id_issuer));
	check_hostname(link_cn, ".net", 8, 20);
	check_hostname(issuer_cn, ".com", 8, 20);
	assert_string_equal(id_cn, issuer_cn);
	assert_string_equal(id_issuer, issuer_cn);
	assert_int_equal(X509_check_issued(ix, lx), X509_V_OK);

	/* link: valid now, starts on a day boundary, lives 5..365 days (tor
	 * rounds to whole days, minus one second half of the time) */
	nb = asn1_to_time(X509_get0_notBefore(lx));
	na = asn1_to_time(X509_get0_notAfter(lx));
	assert_true(nb <= now && na > now + 24 * 3600 - 60);
	assert_int_equal(nb % 86400, 0);
	assert_true(na - nb >= 5 * 86400 - 1 && na - nb <= 365 * 86400);
	assert_true((na - nb) % 86400 == 0 || (na - nb) % 86400 == 86399);
	/* identity: one year */
	nb = asn1_to_time(X509_get0_notBefore(ix));
	na = asn1_to_time(X509_get0_notAfter(ix));
	assert_int_equal(na - nb, TLS_IDENTITY_CERT_LIFETIME);
	assert_true(nb <= now && na > now);
	assert_int_equal(nb % 86400, 0);
	X509_free(lx);
	X509_free(ix);

	/* a given lifetime is used as is; a short one starts just before now */
	assert_int_equal(tls_link_credentials_create(identity, 3600, now, &fixed), 0);
	link = tls_link_credentials_link_cert(fixed, &link_len);
	lx = parse_der(link, link_len);
	nb = asn1_to_time(X509_get0_notBefore(lx));
	na = asn1_to_time(X509_get0_notAfter(lx));
	assert_int_equal(na - nb, 3600);
	assert_int_equal(nb, (now - 1) - (now - 1) % 86400);
	/* a new object is a new key and new names */
	assert_memory_not_equal(tls_link_credentials_link_cert_sha256(fixed),
			tls_link_credentials_link_cert_sha256(credentials), 32);
	X509_free(lx);
	tls_link_credentials_free(fixed);
}

static void
test_credentials_need_private_key(void **state)
{
	uint8_t der[RSA_PUBLIC_DER_MAX];
	ssize_t n = rsa_identity_public_der(identity, der, sizeof(der));
	struct rsa_identity *pub;
	struct tls_link_credentials *c = NULL;
	struct tls_handshake_context *ctx = NULL;

	(void)state;
	assert_true(n > 0);
	assert_int_equal(rsa_identity_from_public_der(der, (size_t)n, &pub), 0);
	assert_int_equal(tls_link_credentials_create(pub, 0, time(NULL), &c), -EINVAL);
	assert_null(c);
	rsa_identity_free(pub);
	assert_int_equal(tls_handshake_context_create(TLS_ROLE_SERVER, NULL, &ctx), -EINVAL);
	assert_null(ctx);
}

/* ------------------------------------------------------------------ */
/* Hostile input. */

static void
expect_failed(struct tls_session *s, int rc)
{
	uint8_t b = 0;

	assert_true(rc < 0);
	assert_int_equal(tls_session_state(s), TLS_SESSION_FAILED);
	assert_true(strlen(tls_session_error(s)) > 0);
	assert_int_equal(tls_session_step(s), rc);
	assert_int_equal(tls_session_feed(s, &b, 1), -EINVAL);
	{
		struct tls_handover h;

		assert_int_equal(tls_session_handover(s, &h), -EINVAL);
	}
}

static void
test_garbage(void **state)
{
	static uint8_t junk[4096];
	struct tls_session *s;
	int rc;

	(void)state;
	for (int role = 0; role < 2; role++) {
		for (uint64_t seed = 1; seed <= 8; seed++) {
			struct tls_handshake_context *ctx = role ? client_context : server_context;

			test_fill(junk, sizeof(junk), seed);
			assert_int_equal(tls_session_create(ctx, &s), 0);
			if (role)
				assert_int_equal(tls_session_step(s), TLS_SESSION_WANT_INPUT);
			assert_int_equal(tls_session_feed(s, junk, 1 + seed * 300), 0);
			rc = tls_session_step(s);
			expect_failed(s, rc);
			print_message("garbage -> %d %s\n", rc, tls_session_error(s));
			tls_session_free(s);
		}
	}
	/* A well-framed ClientHello / ServerHello (record and handshake
	 * lengths consistent) with a random body: the message parsers must
	 * refuse it. */
	for (int role = 0; role < 2; role++) {
		for (uint64_t seed = 1; seed <= 32; seed++) {
			struct tls_handshake_context *ctx = role ? client_context : server_context;
			size_t body = 40 + seed * 37;

			test_fill(junk, sizeof(junk), 1000 + seed);
			junk[0] = 0x16;
			junk[1] = 3;
			junk[2] = 1;
			junk[3] = (uint8_t)((body + 4) >> 8);
			junk[4] = (uint8_t)(body + 4);
			junk[5] = role ? 2 : 1;
			junk[6] = 0;
			junk[7] = (uint8_t)(body >> 8);
			junk[8] = (uint8_t)body;
			junk[9] = 3;	/* legacy_version 3.3, then random */
			junk[10] = 3;
			assert_int_equal(tls_session_create(ctx, &s), 0);
			if (role)
				assert_int_equal(tls_session_step(s), TLS_SESSION_WANT_INPUT);
			assert_int_equal(tls_session_feed(s, junk, 9 + body), 0);
			rc = tls_session_step(s);
			assert_int_equal(rc, -EPROTO);
			expect_failed(s, rc);
			tls_session_free(s);
		}
	}
	/* A record that looks like a handshake record but holds nonsense. */
	assert_int_equal(tls_session_create(server_context, &s), 0);
	memcpy(junk, "\x16\x03\x01\x00\x20", 5);
	memset(junk + 5, 0xff, 0x20);
	assert_int_equal(tls_session_feed(s, junk, 5 + 0x20), 0);
	rc = tls_session_step(s);
	assert_int_equal(rc, -EPROTO);
	expect_failed(s, rc);
	assert_true(tls_session_output_pending(s) > 0);	/* an alert to send */
	tls_session_free(s);
}

/* A real ClientHello cut short waits for more; the rest of it completes
 * the handshake; a ClientHello offering nothing we accept fails cleanly
 * with an alert. */
static void
test_truncated_and_refused_client_hello(void **state)
{
	struct peer_config cfg = { .num_tickets = 0 };
	uint8_t hello[4096];
	size_t n;
	struct tls_session *s;
	struct peer p;
	int rc;

	(void)state;
	peer_init(&p, false, &cfg);
	peer_step(&p);
	n = peer_take_output(&p, hello, sizeof(hello));
	assert_true(n > 100);
	assert_int_equal(tls_session_create(server_context, &s), 0);
	/* 37-byte pieces: nothing to say until the last one */
	for (size_t off = 0; off < n; off += 37) {
		size_t piece = n - off < 37 ? n - off : 37;

		assert_int_equal(tls_session_feed(s, hello + off, piece), 0);
		assert_int_equal(tls_session_step(s), TLS_SESSION_WANT_INPUT);
		assert_int_equal(tls_session_output_pending(s) > 0, off + piece == n);
	}
	session_to_peer(s, &p);
	pump(s, &p, false);
	tls_session_free(s);
	peer_free(&p);

	/* only ChaCha20 offered */
	cfg.suites13 = "TLS_CHACHA20_POLY1305_SHA256";
	cfg.ciphers12 = "ECDHE-RSA-CHACHA20-POLY1305";
	peer_init(&p, false, &cfg);
	peer_step(&p);
	assert_int_equal(tls_session_create(server_context, &s), 0);
	peer_to_session(&p, s);
	rc = tls_session_step(s);
	assert_int_equal(rc, -EPROTO);
	expect_failed(s, rc);
	print_message("refused: %s\n", tls_session_error(s));
	assert_non_null(strstr(tls_session_error(s), "no shared cipher"));
	assert_true(tls_session_output_pending(s) > 0);
	session_to_peer(s, &p);
	assert_int_equal(SSL_do_handshake(p.ssl), -1);	/* the peer got the alert */
	assert_int_equal(SSL_get_error(p.ssl, -1), SSL_ERROR_SSL);
	ERR_clear_error();
	tls_session_free(s);
	peer_free(&p);

	/* a peer closing during the handshake */
	cfg.suites13 = NULL;
	cfg.ciphers12 = NULL;
	peer_init(&p, true, &cfg);
	assert_int_equal(tls_session_create(client_context, &s), 0);
	assert_int_equal(tls_session_step(s), TLS_SESSION_WANT_INPUT);
	/* a close_notify alert record in plaintext */
	assert_int_equal(tls_session_feed(s, (const uint8_t *)"\x15\x03\x03\x00\x02\x01\x00",
			7), 0);
	rc = tls_session_step(s);
	print_message("close_notify: %d %s\n", rc, tls_session_error(s));
	assert_int_equal(rc, -ECONNRESET);
	expect_failed(s, rc);
	tls_session_free(s);
	peer_free(&p);
}

static void
test_input_bounds(void **state)
{
	static uint8_t big[TLS_SESSION_MAX_BUFFERED + 1];
	static uint8_t frag[9 * 1024];
	struct tls_session *s;
	size_t fed = 0;
	int rc = 0;

	(void)state;
	/* a record header announcing a large record, then more bytes than we
	 * buffer */
	assert_int_equal(tls_session_create(server_context, &s), 0);
	memcpy(big, "\x16\x03\x01\x40\x00", 5);
	assert_int_equal(tls_session_feed(s, big, TLS_SESSION_MAX_BUFFERED - 10), 0);
	assert_int_equal(tls_session_step(s), -EPROTO);	/* a HelloRequest to a server */
	tls_session_free(s);

	assert_int_equal(tls_session_create(server_context, &s), 0);
	assert_int_equal(tls_session_feed(s, big, 100), 0);
	rc = tls_session_feed(s, big, TLS_SESSION_MAX_BUFFERED);
	assert_int_equal(rc, -EMSGSIZE);
	expect_failed(s, rc);
	tls_session_free(s);

	/* A huge ClientHello in 4-byte handshake fragments: OpenSSL consumes
	 * every record, so the buffer stays small, but the total input bound
	 * stops it. */
	assert_int_equal(tls_session_create(server_context, &s), 0);
	for (size_t i = 0; i + 9 <= sizeof(frag); i += 9)
		memcpy(frag + i, "\x16\x03\x01\x00\x04\x00\x00\x00\x00", 9);
	memcpy(frag + 5, "\x01\x01\xff\x00", 4);	/* ClientHello of 130816 bytes */
	while (fed <= TLS_SESSION_MAX_INPUT) {
		rc = tls_session_feed(s, frag, sizeof(frag));
		if (rc < 0)
			break;
		fed += sizeof(frag);
		rc = tls_session_step(s);
		if (rc < 0)
			break;
		assert_int_equal(rc, TLS_SESSION_WANT_INPUT);
		if (fed == sizeof(frag))
			memcpy(frag + 5, "\x00\x00\x00\x00", 4);
	}
	print_message("fragments: %zu bytes fed, rc %d %s\n", fed, rc, tls_session_error(s));
	assert_true(rc < 0);
	expect_failed(s, rc);
	tls_session_free(s);
}

static void
test_call_order(void **state)
{
	struct tls_session *s;
	struct tls_handover h;
	uint8_t out[32];

	(void)state;
	assert_int_equal(tls_session_create(server_context, &s), 0);
	assert_int_equal(tls_session_handover(s, &h), -EINVAL);
	assert_int_equal(tls_session_peer_cert(s, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(tls_session_group_nid(s), 0);
	assert_int_equal(tls_session_export_keying_material(s, "x", NULL, 0, false, out,
			sizeof(out)), -EINVAL);
	assert_int_equal(tls_session_feed(s, NULL, 1), -EINVAL);
	assert_int_equal(tls_session_feed(s, out, 0), 0);
	assert_int_equal(tls_session_step(s), TLS_SESSION_WANT_INPUT);
	assert_int_equal(tls_session_drain_output(s, out, sizeof(out)), 0);
	tls_session_free(s);
	tls_session_free(NULL);
	tls_handshake_context_free(NULL);
	tls_link_credentials_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_all_suites_and_groups),
		cmocka_unit_test(test_client_all_suites_and_groups),
		cmocka_unit_test(test_negotiation_defaults),
		cmocka_unit_test(test_pipelined_client_record),
		cmocka_unit_test(test_pipelined_server_record),
		cmocka_unit_test(test_tor_like_server_tickets),
		cmocka_unit_test(test_exporter_contexts),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_credentials_need_private_key),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated_and_refused_client_hello),
		cmocka_unit_test(test_input_bounds),
		cmocka_unit_test(test_call_order),
	};

	return cmocka_run_group_tests(tests, openssl_peer_group_setup,
			openssl_peer_group_teardown);
}
