/* crypto/tls_key_update: the post-handshake message parser, HKDF-Expand-
 * Label on ipsec-mb's SHA-2 (RFC 8448 key/iv vectors, OpenSSL's TLS13-KDF
 * for "traffic upd" and SHA-384), and KeyUpdate against OpenSSL's own TLS
 * stack: hsrelay's TLS session (control/tls_handshake) and a plain OpenSSL
 * peer over memory BIOs, the keys and traffic secrets handed over to the
 * worker's record layer; the peer calls SSL_key_update() and the records it
 * writes afterwards must open under the keys tls_key_update_apply()
 * derives (and not under the old ones), and our KeyUpdate answer and the
 * records after it must be accepted by SSL_read(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "control/tls_handshake.h"
#include "crypto/engine.h"
#include "crypto/kdf.h"
#include "crypto/rsa_identity.h"
#include "crypto/tls_key_update.h"
#include "crypto/tls_record.h"
#include "tests/unit/openssl_peer.h"
#include "tests/unit/test_util.h"

/* ------------------------------------------------------------------ */
/* The parser. */

static int
parse(const char *hex, bool *requested, size_t *used)
{
	uint8_t buf[256];
	size_t n = test_hex(hex, buf, sizeof(buf));
	const uint8_t *p = buf;
	int rc;

	assert_true(n != (size_t)-1);
	*requested = false;
	rc = tls_post_handshake_parse(&p, buf + n, requested);
	assert_true(p >= buf && p <= buf + n);
	if (used)
		*used = (size_t)(p - buf);
	return rc;
}

static void
test_parse(void **state)
{
	bool req;
	size_t used;

	(void)state;
	/* one and two NewSessionTickets (bodies not looked into) */
	assert_int_equal(parse("04000003 aabbcc", &req, &used), TLS_POST_HANDSHAKE_TICKETS);
	assert_int_equal(used, 7);
	assert_int_equal(parse("04000001 00 04000000", &req, NULL), TLS_POST_HANDSHAKE_TICKETS);
	/* KeyUpdate, both request values, alone and after a ticket */
	assert_int_equal(parse("18000001 00", &req, &used), TLS_POST_HANDSHAKE_KEY_UPDATE);
	assert_false(req);
	assert_int_equal(used, 5);
	assert_int_equal(parse("18000001 01", &req, NULL), TLS_POST_HANDSHAKE_KEY_UPDATE);
	assert_true(req);
	assert_int_equal(parse("04000002 abcd 18000001 01", &req, &used),
			TLS_POST_HANDSHAKE_KEY_UPDATE);
	assert_true(req);
	assert_int_equal(used, 11);
	/* decode_error: request_update 2 or 0xff, length 0 or 2 */
	assert_int_equal(parse("18000001 02", &req, NULL), -EBADMSG);
	assert_int_equal(parse("18000001 ff", &req, NULL), -EBADMSG);
	assert_int_equal(parse("18000000", &req, NULL), -EBADMSG);
	assert_int_equal(parse("18000002 0000", &req, NULL), -EBADMSG);
	assert_int_equal(parse("18010001 00", &req, NULL), -EBADMSG);
	/* unexpected_message: not at a record boundary (RFC 8446 5.1) */
	assert_int_equal(parse("18000001 00 04000000", &req, &used), -EPROTO);
	assert_int_equal(used, 5);
	assert_int_equal(parse("18000001 01 18000001 01", &req, NULL), -EPROTO);
	/* cut by the record's end, empty, other message types */
	assert_int_equal(parse("18000001", &req, NULL), -EPROTO);
	assert_int_equal(parse("180000", &req, NULL), -EPROTO);
	assert_int_equal(parse("04000005 aabb", &req, NULL), -EPROTO);
	assert_int_equal(parse("", &req, NULL), -EPROTO);
	assert_int_equal(parse("0d000000", &req, NULL), -EPROTO);	/* CertificateRequest */
	assert_int_equal(parse("01000000", &req, NULL), -EPROTO);	/* ClientHello */
	assert_int_equal(parse("04000000 05000000", &req, NULL), -EPROTO);
	assert_false(req);
}

static void
test_message(void **state)
{
	uint8_t m[TLS_KEY_UPDATE_MSG_LEN];
	const uint8_t *p = m;
	bool req = true;

	(void)state;
	tls_key_update_message(m, false);
	assert_memory_equal(m, "\x18\x00\x00\x01\x00", 5);
	assert_int_equal(tls_post_handshake_parse(&p, m + sizeof(m), &req),
			TLS_POST_HANDSHAKE_KEY_UPDATE);
	assert_false(req);
	tls_key_update_message(m, true);
	assert_memory_equal(m, "\x18\x00\x00\x01\x01", 5);
}

/* ------------------------------------------------------------------ */
/* HKDF-Expand-Label on ipsec-mb. */

/* RFC 8448 section 3 (TLS_AES_128_GCM_SHA256): application traffic
 * secrets and the write keys derived from them. */
static void
test_expand_label_rfc8448(void **state)
{
	static const struct {
		const char *secret, *label, *want;
	} cases[] = {
		{ "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", "key",
		  "9f02283b6c9c07efc26bb9f2ac92e356" },
		{ "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", "iv",
		  "cf782b88dd83549aadf1e984" },
		{ "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", "key",
		  "17422dda596ed5d9acd890e3c63f5051" },
		{ "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", "iv",
		  "5b78923dee08579033e523d9" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t secret[32], want[16], out[16];
		size_t want_len = test_hex(cases[i].want, want, sizeof(want));

		assert_int_equal(test_hex(cases[i].secret, secret, sizeof(secret)), 32);
		assert_int_equal(tls_key_update_expand_label(engine, secret, 32, cases[i].label,
				out, (unsigned)want_len), 0);
		assert_memory_equal(out, want, want_len);
	}
}

/* OpenSSL's TLS13-KDF in expand mode: HKDF-Expand-Label as its TLS stack
 * computes it. */
static void
openssl_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
		const char *label, uint8_t *out, size_t out_len)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[6];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	EVP_KDF_CTX *ctx;

	assert_non_null(kdf);
	ctx = EVP_KDF_CTX_new(kdf);
	assert_non_null(ctx);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret,
			secret_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (char *)"tls13 ",
			6);
	params[4] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label,
			strlen(label));
	params[5] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_KDF_derive(ctx, out, out_len, params), 1);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

static void
test_expand_label_against_openssl(void **state)
{
	static const char *const labels[] = { "traffic upd", "key", "iv", "finished" };
	static const unsigned lens[] = { 1, 12, 16, 31, 32, 48 };

	(void)state;
	for (unsigned h = 0; h < 2; h++) {
		unsigned hash_len = h == 0 ? 32 : 48;
		uint8_t secret[48], ours[48], theirs[48];

		test_fill(secret, sizeof(secret), 31 + h);
		for (size_t l = 0; l < sizeof(labels) / sizeof(labels[0]); l++) {
			for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
				if (lens[k] > hash_len)
					continue;
				assert_int_equal(tls_key_update_expand_label(engine, secret,
						hash_len, labels[l], ours, lens[k]), 0);
				openssl_expand_label(h == 0 ? "SHA256" : "SHA384", secret,
						hash_len, labels[l], theirs, lens[k]);
				assert_memory_equal(ours, theirs, lens[k]);
			}
		}
		/* and kdf.c's OpenSSL-based HKDF-Expand-Label agrees on the
		 * secret update */
		assert_int_equal(kdf_tls13_expand_label(h == 0 ? KDF_HASH_SHA256 : KDF_HASH_SHA384,
				secret, hash_len, "traffic upd", NULL, 0, theirs, hash_len), 0);
		{
			struct tls_traffic_secret s = { .len = (uint8_t)hash_len };

			memcpy(s.bytes, secret, hash_len);
			assert_int_equal(tls_key_update_next_secret(engine, &s), 0);
			assert_memory_equal(s.bytes, theirs, hash_len);
		}
	}
}

static void
test_bad_arguments(void **state)
{
	uint8_t secret[48] = { 1 }, out[48];
	struct tls_traffic_secret none = { .len = 0 }, s32 = { .len = 32 };
	struct tls_record_dir dir;
	uint8_t key[32] = { 0 }, iv[12] = { 0 };

	(void)state;
	assert_int_equal(tls_key_update_expand_label(engine, secret, 20, "key", out, 16),
			-EINVAL);
	assert_int_equal(tls_key_update_expand_label(engine, secret, 32, "key", out, 33),
			-EINVAL);
	assert_int_equal(tls_key_update_expand_label(engine, secret, 32, "key", out, 0),
			-EINVAL);
	assert_int_equal(tls_key_update_expand_label(engine, secret, 32, "", out, 16),
			-EINVAL);
	assert_int_equal(tls_key_update_next_secret(engine, &none), -EINVAL);
	/* a SHA-256 secret with AES-256 keys, a TLS 1.2 direction, no secret */
	assert_int_equal(tls_record_dir_init(engine, &dir, TLS_RECORD_TLS13, key, 32, iv, 12, 5),
			0);
	assert_int_equal(tls_key_update_apply(engine, &dir, &s32), -EINVAL);
	assert_int_equal(dir.seq, 5);
	assert_int_equal(tls_key_update_apply(engine, &dir, &none), -EINVAL);
	assert_int_equal(tls_record_dir_init(engine, &dir, TLS_RECORD_TLS12, key, 16, iv, 4, 1),
			0);
	assert_int_equal(tls_key_update_apply(engine, &dir, &s32), -EINVAL);
	tls_record_dir_clear(&dir);
}

/* ------------------------------------------------------------------ */
/* Against OpenSSL's TLS stack. */

static void
peer_init(struct peer *p, bool server, const char *suite)
{
	memset(p, 0, sizeof(*p));
	p->ctx = SSL_CTX_new(TLS_method());
	assert_non_null(p->ctx);
	SSL_CTX_set_security_level(p->ctx, 1);
	assert_int_equal(SSL_CTX_set_ciphersuites(p->ctx, suite), 1);
	assert_int_equal(SSL_CTX_set_min_proto_version(p->ctx, TLS1_3_VERSION), 1);
	openssl_peer_start(p, server);
}

struct stream {
	uint8_t buf[1 << 16];
	size_t len, off;
};

static void
peer_output(struct peer *p, struct stream *st)
{
	size_t n = BIO_ctrl_pending(p->wbio);

	assert_true(n <= sizeof(st->buf) - st->len);
	if (n)
		assert_int_equal(BIO_read(p->wbio, st->buf + st->len, (int)n), (int)n);
	st->len += n;
}

/* The handshake between s and p; whatever p writes once s is done stays in
 * p's wbio. */
static void
handshake(struct tls_session *s, struct peer *p)
{
	uint8_t buf[16384];
	size_t n;
	int r = TLS_SESSION_WANT_INPUT;

	for (int i = 0; i < 16; i++) {
		r = tls_session_step(s);
		assert_true(r >= 0);
		while ((n = tls_session_drain_output(s, buf, sizeof(buf))) > 0)
			assert_int_equal(BIO_write(p->rbio, buf, (int)n), (int)n);
		if (!p->done) {
			int pr = SSL_do_handshake(p->ssl);

			if (pr == 1)
				p->done = true;
			else
				assert_int_equal(SSL_get_error(p->ssl, pr), SSL_ERROR_WANT_READ);
		}
		if (r == TLS_SESSION_WANT_INPUT) {
			struct stream st = { .len = 0 };

			peer_output(p, &st);
			assert_int_equal(tls_session_feed(s, st.buf, st.len), 0);
		}
		if (r == TLS_SESSION_DONE && p->done)
			return;
	}
	fail_msg("handshake did not finish");
}

/* Opens the next record of st (copying it, so that a failed attempt leaves
 * the stream as it was). Returns the status; on success sets the type and
 * the plaintext and moves on. */
static int
open_next(struct tls_record_dir *dir, struct stream *st, uint8_t *type, uint8_t *plain,
		uint32_t *len)
{
	uint8_t copy[TLS_RECORD_MAX_PLAINTEXT + 512];
	const uint8_t *h = st->buf + st->off;
	size_t body;
	struct crypto_iov iov;
	struct tls_record_open rec;

	assert_true(st->len - st->off >= TLS_RECORD_HEADER_LEN);
	body = (size_t)h[3] << 8 | h[4];
	assert_true(st->len - st->off >= TLS_RECORD_HEADER_LEN + body);
	memcpy(copy, h + TLS_RECORD_HEADER_LEN, body);
	iov.base = copy;
	iov.len = (uint32_t)body;
	memset(&rec, 0, sizeof(rec));
	rec.dir = dir;
	rec.header = h;
	rec.segments = &iov;
	rec.nb_segments = 1;
	rec.out = plain;
	tls_record_open_burst(engine, &rec, 1);
	if (rec.status != 0)
		return rec.status;
	*type = rec.content_type;
	*len = rec.plaintext_len;
	st->off += TLS_RECORD_HEADER_LEN + body;
	return 0;
}

static void
seal_to_peer(struct tls_record_dir *dir, struct peer *p, uint8_t type, const uint8_t *msg,
		size_t len)
{
	static uint8_t wire[TLS_RECORD_MAX_PLAINTEXT + 64];
	struct crypto_iov iov = { wire + TLS_RECORD_HEADER_LEN, (uint32_t)len };
	struct tls_record_seal rec;

	memcpy(wire + TLS_RECORD_HEADER_LEN, msg, len);
	memset(&rec, 0, sizeof(rec));
	rec.dir = dir;
	rec.prefix = wire;
	rec.segments = &iov;
	rec.nb_segments = 1;
	rec.content_type = type;
	rec.suffix = wire + TLS_RECORD_HEADER_LEN + len;
	assert_int_equal(tls_record_seal_burst(engine, &rec, 1), 1);
	len += TLS_RECORD_HEADER_LEN + tls_record_suffix_len(TLS_RECORD_TLS13);
	assert_int_equal(BIO_write(p->rbio, wire, (int)len), (int)len);
}

/* Opens the next record as the worker does: NewSessionTickets are skipped,
 * a KeyUpdate is applied (and answered when asked); returns when an
 * application data record was opened, into plain. */
static uint32_t
worker_read(struct tls_record_dir *rd, struct tls_traffic_secret *rs,
		struct tls_record_dir *wr, struct tls_traffic_secret *ws, struct peer *p,
		struct stream *st, uint8_t *plain, unsigned *key_updates)
{
	for (;;) {
		uint8_t type;
		uint32_t len;
		const uint8_t *q = plain;
		bool requested;
		int rc;

		assert_int_equal(open_next(rd, st, &type, plain, &len), 0);
		if (type == TLS_CONTENT_APPLICATION_DATA)
			return len;
		assert_int_equal(type, TLS_CONTENT_HANDSHAKE);
		rc = tls_post_handshake_parse(&q, plain + len, &requested);
		if (rc == TLS_POST_HANDSHAKE_TICKETS)
			continue;
		assert_int_equal(rc, TLS_POST_HANDSHAKE_KEY_UPDATE);
		(*key_updates)++;
		/* The next record is under the new key: the old one must
		 * fail on it (this is what makes the test able to fail). */
		if (st->len - st->off >= TLS_RECORD_HEADER_LEN) {
			struct tls_record_dir old = *rd;
			uint8_t scratch[TLS_RECORD_MAX_PLAINTEXT + 256];

			assert_int_equal(open_next(&old, st, &type, scratch, &len), -EBADMSG);
		}
		assert_int_equal(tls_key_update_apply(engine, rd, rs), 0);
		assert_int_equal(rd->seq, 0);
		if (requested) {
			uint8_t m[TLS_KEY_UPDATE_MSG_LEN];

			tls_key_update_message(m, false);
			seal_to_peer(wr, p, TLS_CONTENT_HANDSHAKE, m, sizeof(m));
			assert_int_equal(tls_key_update_apply(engine, wr, ws), 0);
		}
	}
}

static void
run_key_update(enum tls_role role, const char *suite, unsigned key_len, unsigned hash_len)
{
	static struct stream in;
	static uint8_t msg[TLS_RECORD_MAX_PLAINTEXT], plain[TLS_RECORD_MAX_PLAINTEXT + 256];
	struct tls_record_dir rd, wr;
	struct tls_traffic_secret rs, ws;
	struct tls_handover h;
	struct tls_session *s;
	struct peer p;
	unsigned updates = 0, expected_updates = 0;
	uint8_t first_read_key[32];

	print_message("%s %s\n", role == TLS_ROLE_SERVER ? "server" : "client", suite);
	peer_init(&p, role == TLS_ROLE_CLIENT, suite);
	assert_int_equal(tls_session_create(role == TLS_ROLE_SERVER ? server_context :
			client_context, &s), 0);
	handshake(s, &p);
	assert_int_equal(tls_session_handover(s, &h), 0);
	assert_int_equal(h.key_len, key_len);
	assert_int_equal(h.read.secret_len, hash_len);
	assert_int_equal(h.write.secret_len, hash_len);
	/* the handed-over key is HKDF-Expand-Label(secret, "key") */
	assert_int_equal(tls_key_update_expand_label(engine, h.read.secret, hash_len, "key",
			first_read_key, key_len), 0);
	assert_memory_equal(first_read_key, h.read.key, key_len);
	assert_int_equal(tls_handover_install(engine, &h, &rd, &wr), 0);
	rs.len = ws.len = (uint8_t)hash_len;
	memcpy(rs.bytes, h.read.secret, hash_len);
	memcpy(ws.bytes, h.write.secret, hash_len);
	in.len = in.off = 0;
	assert_true(h.leftover_len <= sizeof(in.buf));
	memcpy(in.buf, h.leftover, h.leftover_len);
	in.len = h.leftover_len;
	tls_handover_wipe(&h);

	/* Rounds: plain data, then the peer's KeyUpdate asking for ours, then
	 * one not asking, then two in a row (both asking), then one asking
	 * before a full-size record, each followed by data both ways. */
	for (unsigned round = 0; round < 5; round++) {
		size_t size = round == 4 ? TLS_RECORD_MAX_PLAINTEXT : 100 + 700 * round;
		uint8_t got[TLS_RECORD_MAX_PLAINTEXT];
		uint64_t write_seq = wr.seq;
		uint32_t len;

		if (round == 1 || round == 4) {
			assert_int_equal(SSL_key_update(p.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
			expected_updates++;
		}
		if (round == 2 || round == 3) {
			assert_int_equal(SSL_key_update(p.ssl, round == 3 ? SSL_KEY_UPDATE_REQUESTED :
					SSL_KEY_UPDATE_NOT_REQUESTED), 1);
			expected_updates++;
		}
		if (round == 3) {
			/* a second KeyUpdate asking for ours right after the
			 * first: the first one is sent by this write */
			assert_int_equal(SSL_write(p.ssl, "x", 1), 1);
			assert_int_equal(SSL_key_update(p.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
			expected_updates++;
		}
		test_fill(msg, size, 10 + round);
		assert_int_equal(SSL_write(p.ssl, msg, (int)size), (int)size);
		peer_output(&p, &in);
		if (round == 3) {
			len = worker_read(&rd, &rs, &wr, &ws, &p, &in, plain, &updates);
			assert_int_equal(len, 1);
			assert_int_equal(plain[0], 'x');
		}
		len = worker_read(&rd, &rs, &wr, &ws, &p, &in, plain, &updates);
		assert_int_equal(len, size);
		assert_memory_equal(plain, msg, size);
		assert_int_equal(in.off, in.len);
		assert_int_equal(updates, expected_updates);
		if (round == 1 || round == 4)
			assert_int_equal(wr.seq, 0);	/* our write key moved too */
		if (round == 2)
			assert_int_equal(wr.seq, write_seq);	/* and here it did not */

		/* our records, after our KeyUpdate when the peer asked */
		test_fill(msg, size, 50 + round);
		seal_to_peer(&wr, &p, TLS_CONTENT_APPLICATION_DATA, msg, size);
		assert_int_equal(SSL_read(p.ssl, got, sizeof(got)), (int)size);
		assert_memory_equal(got, msg, size);
	}
	/* The peer's write keys moved five times (the last two in one
	 * flight, both asking for ours), ours four times; nothing is left
	 * pending on the peer's side. */
	assert_int_equal(SSL_get_key_update_type(p.ssl), SSL_KEY_UPDATE_NONE);
	tls_record_dir_clear(&rd);
	tls_record_dir_clear(&wr);
	tls_traffic_secret_wipe(&rs);
	tls_traffic_secret_wipe(&ws);
	tls_session_free(s);
	peer_free(&p);
}

static void
test_openssl_server_role_aes128(void **state)
{
	(void)state;
	run_key_update(TLS_ROLE_SERVER, "TLS_AES_128_GCM_SHA256", 16, 32);
}

static void
test_openssl_server_role_aes256(void **state)
{
	(void)state;
	run_key_update(TLS_ROLE_SERVER, "TLS_AES_256_GCM_SHA384", 32, 48);
}

static void
test_openssl_client_role_aes128(void **state)
{
	(void)state;
	run_key_update(TLS_ROLE_CLIENT, "TLS_AES_128_GCM_SHA256", 16, 32);
}

static void
test_openssl_client_role_aes256(void **state)
{
	(void)state;
	run_key_update(TLS_ROLE_CLIENT, "TLS_AES_256_GCM_SHA384", 32, 48);
}

/* Our KeyUpdate sealed under a wrong (not updated) write key afterwards:
 * OpenSSL must refuse the next record, so the exchange above really checks
 * the derived keys. */
static void
test_openssl_refuses_stale_write_key(void **state)
{
	static struct stream in;
	struct tls_record_dir rd, wr;
	struct tls_handover h;
	struct tls_session *s;
	struct peer p;
	uint8_t m[TLS_KEY_UPDATE_MSG_LEN], got[16];
	int r;

	(void)state;
	peer_init(&p, false, "TLS_AES_128_GCM_SHA256");
	assert_int_equal(tls_session_create(server_context, &s), 0);
	handshake(s, &p);
	assert_int_equal(tls_session_handover(s, &h), 0);
	assert_int_equal(tls_handover_install(engine, &h, &rd, &wr), 0);
	tls_handover_wipe(&h);
	in.len = in.off = 0;
	tls_key_update_message(m, false);
	seal_to_peer(&wr, &p, TLS_CONTENT_HANDSHAKE, m, sizeof(m));
	seal_to_peer(&wr, &p, TLS_CONTENT_APPLICATION_DATA, (const uint8_t *)"stale", 5);
	r = SSL_read(p.ssl, got, sizeof(got));
	assert_true(r <= 0);
	assert_int_equal(SSL_get_error(p.ssl, r), SSL_ERROR_SSL);
	ERR_clear_error();
	tls_record_dir_clear(&rd);
	tls_record_dir_clear(&wr);
	tls_session_free(s);
	peer_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_expand_label_rfc8448),
		cmocka_unit_test(test_expand_label_against_openssl),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_openssl_server_role_aes128),
		cmocka_unit_test(test_openssl_server_role_aes256),
		cmocka_unit_test(test_openssl_client_role_aes128),
		cmocka_unit_test(test_openssl_client_role_aes256),
		cmocka_unit_test(test_openssl_refuses_stale_write_key),
	};

	return cmocka_run_group_tests(tests, openssl_peer_group_setup,
			openssl_peer_group_teardown);
}
