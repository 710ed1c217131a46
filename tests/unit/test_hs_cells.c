/* Unit tests for control/hs_cells.{c,h}.
 *
 * ESTABLISH_INTRO bodies are laid out by hand from rend-spec-v3 3.1.1 and
 * authenticated here with OpenSSL's EVP SHA3-256 and libsodium's
 * crypto_sign_detached directly, not with the module's code, so the
 * builder is checked against an independent computation. One MAC is also
 * pinned to a value computed with Python's hashlib.sha3_256. Every check
 * of tor 0.4.9's order (docs/hs-roles.md) has a failing input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "control/hs_cells.h"
#include "dataplane/cell.h"

static const char sig_prefix[] = "Tor establish-intro cell v1";

static void
fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* SHA3-256(INT_8(20) || kh || msg) with EVP, as rend-spec-v3 3.1.1 and
 * tor's crypto_mac_sha3_256 define it. */
static void
reference_mac(const uint8_t kh[20], const uint8_t *msg, size_t len,
		uint8_t out[32])
{
	static const uint8_t key_len[8] = { 0, 0, 0, 0, 0, 0, 0, 20 };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned out_len = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha3_256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, key_len, 8), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, kh, 20), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, msg, len), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, out, &out_len), 1);
	assert_int_equal(out_len, 32);
	EVP_MD_CTX_free(ctx);
}

/* libsodium Ed25519 over sig_prefix || msg. */
static void
reference_sign(const uint8_t sk[crypto_sign_SECRETKEYBYTES],
		const uint8_t *msg, size_t len, uint8_t out[64])
{
	uint8_t buf[600];

	assert_true(sizeof(sig_prefix) - 1 + len <= sizeof(buf));
	memcpy(buf, sig_prefix, sizeof(sig_prefix) - 1);
	memcpy(buf + sizeof(sig_prefix) - 1, msg, len);
	assert_int_equal(crypto_sign_detached(out, NULL, buf,
		sizeof(sig_prefix) - 1 + len, sk), 0);
}

/* The layout knobs a malformed ESTABLISH_INTRO test needs. */
struct intro_layout {
	uint8_t auth_key_type;
	uint16_t auth_key_len;          /* written; the key bytes follow */
	const uint8_t *extensions;      /* N_EXTENSIONS included */
	size_t extensions_len;
	uint16_t sig_len;               /* written; that many bytes follow */
};

/* Builds a body by hand: type, length, key (auth_key_len bytes: the
 * public key, zero-extended or cut), extensions, MAC with kh, SIG_LEN and
 * a signature (truncated or zero-extended to sig_len). */
static size_t
reference_establish_intro(const struct intro_layout *layout,
		const uint8_t pk[32], const uint8_t sk[64], const uint8_t kh[20],
		uint8_t *out)
{
	static const uint8_t no_ext[1] = { 0 };
	size_t off = 0;
	uint8_t sig[64];

	out[off++] = layout->auth_key_type;
	out[off++] = (uint8_t)(layout->auth_key_len >> 8);
	out[off++] = (uint8_t)layout->auth_key_len;
	memset(out + off, 0, layout->auth_key_len);
	memcpy(out + off, pk, layout->auth_key_len < 32 ?
		layout->auth_key_len : 32);
	off += layout->auth_key_len;
	if (layout->extensions != NULL) {
		memcpy(out + off, layout->extensions, layout->extensions_len);
		off += layout->extensions_len;
	} else {
		out[off++] = no_ext[0];
	}
	reference_mac(kh, out, off, out + off);
	off += 32;
	reference_sign(sk, out, off, sig);
	out[off++] = (uint8_t)(layout->sig_len >> 8);
	out[off++] = (uint8_t)layout->sig_len;
	memset(out + off, 0, layout->sig_len);
	memcpy(out + off, sig, layout->sig_len < 64 ? layout->sig_len : 64);
	off += layout->sig_len;
	return off;
}

struct keys {
	uint8_t seed[32];
	uint8_t pk[32];
	uint8_t sk[64];
	struct ed25519_keypair keypair;
	uint8_t kh[20];
};

static void
make_keys(struct keys *k)
{
	for (int i = 0; i < 32; i++)
		k->seed[i] = (uint8_t)i;
	for (int i = 0; i < 20; i++)
		k->kh[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, k->seed), 0);
	assert_int_equal(ed25519_keypair_from_seed(&k->keypair, k->seed), 0);
	assert_memory_equal(k->keypair.public_key, k->pk, 32);
}

static const struct intro_layout good_layout = {
	.auth_key_type = 2, .auth_key_len = 32, .sig_len = 64,
};

/* DoS extension exactly as prop 305 lays it out, rate 25, burst 200. */
static const uint8_t dos_ext_25_200[22] = {
	0x01,                           /* N_EXTENSIONS */
	0x01, 0x13,                     /* TYPE 01, LEN 19 */
	0x02,                           /* N_PARAMS */
	0x01, 0, 0, 0, 0, 0, 0, 0, 25,
	0x02, 0, 0, 0, 0, 0, 0, 0, 200,
};

static void
test_establish_intro_build(void **state)
{
	struct keys k;
	uint8_t expect[RELAY_DATA_MAX], got[RELAY_DATA_MAX], ext[32];
	struct intro_layout layout = good_layout;
	size_t expect_len;
	ssize_t n;

	(void)state;
	make_keys(&k);

	expect_len = reference_establish_intro(&layout, k.pk, k.sk, k.kh,
		expect);
	assert_int_equal(expect_len, ESTABLISH_INTRO_MIN_LEN);
	n = establish_intro_cell_build(&k.keypair, k.kh, NULL, 0, got,
		sizeof(got));
	assert_int_equal(n, 134);
	assert_memory_equal(got, expect, 134);

	/* The same body from a third implementation, Python's hashlib and
	 * pyca/cryptography (seed bytes 0..31, KH bytes a0..b3):
	 *   body = bytes([2, 0, 32]) + pk + b"\0"
	 *   mac = sha3_256(b"\0" * 7 + b"\x14" + kh + body)
	 *   sig = sign(b"Tor establish-intro cell v1" + body + mac)
	 *   cell = body + mac + b"\0\x40" + sig */
	static const char python_cell[] =
		"02002003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc86"
		"64125531b800942f7e8f1076c03bd9c0523563fc6b620d11cb5cd850f7ab"
		"a81848f98e49e5af004011cecdfcbcd10c0f2a8267511f3cd7cbf4baa4c5"
		"65f5a574772621ccea5f396ec229da2a5cc84bc1a6f9e90c7c992a86bbf0"
		"8d55a934fa4b605e8520b2a63f01";
	uint8_t python_bytes[134];
	assert_int_equal(strlen(python_cell), 2 * sizeof(python_bytes));
	for (size_t i = 0; i < sizeof(python_bytes); i++) {
		unsigned v;
		assert_int_equal(sscanf(python_cell + 2 * i, "%2x", &v), 1);
		python_bytes[i] = (uint8_t)v;
	}
	assert_memory_equal(got, python_bytes, sizeof(python_bytes));

	assert_int_equal(hs_dos_extension_list_build(25, 200, ext,
		sizeof(ext)), 22);
	assert_memory_equal(ext, dos_ext_25_200, 22);
	layout.extensions = dos_ext_25_200;
	layout.extensions_len = sizeof(dos_ext_25_200);
	expect_len = reference_establish_intro(&layout, k.pk, k.sk, k.kh,
		expect);
	assert_int_equal(expect_len, 155);
	n = establish_intro_cell_build(&k.keypair, k.kh, ext, 22, got,
		sizeof(got));
	assert_int_equal(n, 155);
	assert_memory_equal(got, expect, 155);

	assert_int_equal(establish_intro_cell_build(&k.keypair, k.kh, ext, 22,
		got, 154), -EMSGSIZE);
	assert_int_equal(hs_dos_extension_list_build(1, 2, ext, 21),
		-EMSGSIZE);
}

static void
test_establish_intro_verify(void **state)
{
	struct keys k;
	uint8_t body[RELAY_DATA_MAX];
	struct intro_layout layout = good_layout;
	struct establish_intro_cell cell;
	enum establish_intro_check failed;
	size_t len;

	(void)state;
	make_keys(&k);
	layout.extensions = dos_ext_25_200;
	layout.extensions_len = sizeof(dos_ext_25_200);
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);

	assert_int_equal(establish_intro_precheck(body, len),
		ESTABLISH_INTRO_OK);
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), 0);
	assert_int_equal(failed, ESTABLISH_INTRO_OK);
	assert_int_equal(cell.auth_key_type, 2);
	assert_int_equal(cell.auth_key_len, 32);
	assert_ptr_equal(cell.auth_key, body + 3);
	assert_memory_equal(cell.auth_key, k.pk, 32);
	assert_int_equal(cell.extensions.count, 1);
	assert_int_equal(cell.mac_covered_len, 35 + 22);
	assert_int_equal(cell.sig_covered_len, 35 + 22 + 32);
	assert_ptr_equal(cell.handshake_mac, body + 57);
	assert_int_equal(cell.sig_len, 64);
	assert_ptr_equal(cell.sig, body + 91);

	/* Bytes after SIG are tolerated, as by tor's generated parser. */
	body[len] = 0xee;
	assert_int_equal(establish_intro_verify(body, len + 1, k.kh, &cell,
		&failed), 0);

	/* Another hop's KH: signature fine, MAC wrong. */
	uint8_t other_kh[20];
	memcpy(other_kh, k.kh, 20);
	other_kh[19] ^= 1;
	assert_int_equal(establish_intro_verify(body, len, other_kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_BAD_MAC);
	assert_string_equal(establish_intro_check_name(failed), "bad-mac");

	/* A flipped MAC byte is caught by the signature first (tor checks
	 * the signature, which covers the MAC, before the MAC). */
	body[60] ^= 1;
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_BAD_SIGNATURE);
	body[60] ^= 1;

	body[len - 1] ^= 0x40;
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_BAD_SIGNATURE);
	body[len - 1] ^= 0x40;

	/* A signature by another key. */
	uint8_t other_pk[32], other_sk[64], other_seed[32];
	memset(other_seed, 0x55, sizeof(other_seed));
	crypto_sign_seed_keypair(other_pk, other_sk, other_seed);
	uint8_t forged[RELAY_DATA_MAX];
	size_t forged_len = reference_establish_intro(&layout, k.pk, other_sk,
		k.kh, forged);
	assert_int_equal(establish_intro_verify(forged, forged_len, k.kh,
		&cell, &failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_BAD_SIGNATURE);

	assert_int_equal(establish_intro_verify(body, RELAY_DATA_MAX + 1,
		k.kh, &cell, &failed), -EINVAL);
}

static void
test_establish_intro_failures(void **state)
{
	struct keys k;
	uint8_t body[RELAY_DATA_MAX + 64];
	struct intro_layout layout;
	struct establish_intro_cell cell;
	enum establish_intro_check failed;
	size_t len;

	(void)state;
	make_keys(&k);

	/* Steps 1 and 2. */
	body[0] = 2;
	assert_int_equal(establish_intro_precheck(body, 0),
		ESTABLISH_INTRO_EMPTY);
	for (unsigned type = 0; type < 256; type++) {
		body[0] = (uint8_t)type;
		enum establish_intro_check want = type < 2 ?
			ESTABLISH_INTRO_LEGACY_KEY_TYPE : type == 2 ?
			ESTABLISH_INTRO_OK : ESTABLISH_INTRO_UNKNOWN_KEY_TYPE;
		assert_int_equal(establish_intro_precheck(body, 1), want);
	}

	/* Step 4, truncated: every proper prefix of a good body. */
	layout = good_layout;
	layout.extensions = dos_ext_25_200;
	layout.extensions_len = sizeof(dos_ext_25_200);
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(establish_intro_verify(body, cut, k.kh, &cell,
			&failed), -EPROTO);
		assert_int_equal(failed, ESTABLISH_INTRO_TRUNCATED);
	}
	/* An extension whose length runs past the body. */
	uint8_t long_ext[] = { 0x01, 0x07, 0xff };
	layout.extensions = long_ext;
	layout.extensions_len = sizeof(long_ext);
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);
	assert_int_equal(establish_intro_verify(body, 36 + 3 + 200, k.kh,
		&cell, &failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_TRUNCATED);

	/* Step 4, invalid: the parser refuses a type outside {0, 1, 2}. */
	layout = good_layout;
	layout.auth_key_type = 3;
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_INVALID);
	assert_int_equal(establish_intro_cell_parse(
		&(const uint8_t *){ body }, body + len, &cell), -EINVAL);

	/* Step 5: AUTH_KEY_LEN and SIG_LEN. */
	layout = good_layout;
	layout.auth_key_len = 31;
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_BAD_AUTH_KEY_LEN);
	layout.auth_key_len = 33;
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_BAD_AUTH_KEY_LEN);

	layout = good_layout;
	layout.sig_len = 63;
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_BAD_SIG_LEN);
	layout.sig_len = 65;
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_BAD_SIG_LEN);

	/* The v2 types pass the parser and are refused at the key type. */
	layout = good_layout;
	layout.auth_key_type = 1;
	len = reference_establish_intro(&layout, k.pk, k.sk, k.kh, body);
	assert_int_equal(establish_intro_verify(body, len, k.kh, &cell,
		&failed), -EPROTO);
	assert_int_equal(failed, ESTABLISH_INTRO_LEGACY_KEY_TYPE);
}

/* Builds a good ESTABLISH_INTRO with the given extension list, parses it
 * and applies its extensions to the consensus defaults. */
static struct hs_intro_dos_params
apply(const uint8_t *ext, size_t ext_len)
{
	struct keys k;
	uint8_t body[RELAY_DATA_MAX];
	struct establish_intro_cell cell;
	enum establish_intro_check failed;
	struct hs_intro_dos_params params = {
		.explicit_params = false, .enabled = false,
		.rate_per_sec = HS_DOS_DEFAULT_RATE_PER_SEC,
		.burst_per_sec = HS_DOS_DEFAULT_BURST_PER_SEC,
	};
	ssize_t len;

	make_keys(&k);
	len = establish_intro_cell_build(&k.keypair, k.kh, ext, ext_len, body,
		sizeof(body));
	assert_true(len > 0);
	assert_int_equal(establish_intro_verify(body, (size_t)len, k.kh,
		&cell, &failed), 0);
	establish_intro_apply_extensions(&cell, &params);
	return params;
}

static void
test_dos_extension(void **state)
{
	uint8_t ext[64];
	struct hs_intro_dos_params p;

	(void)state;
	p = apply(NULL, 0);
	assert_false(p.explicit_params);
	assert_false(p.enabled);
	assert_int_equal(p.rate_per_sec, 25);

	hs_dos_extension_list_build(10, 80, ext, sizeof(ext));
	p = apply(ext, 22);
	assert_true(p.explicit_params);
	assert_true(p.enabled);
	assert_int_equal(p.rate_per_sec, 10);
	assert_int_equal(p.burst_per_sec, 80);

	hs_dos_extension_list_build(INT32_MAX, INT32_MAX, ext, sizeof(ext));
	p = apply(ext, 22);
	assert_true(p.enabled);
	assert_int_equal(p.rate_per_sec, INT32_MAX);

	/* Explicit but disabling: a zero, above INT32_MAX, burst < rate. */
	const uint64_t disabling[][2] = {
		{ 0, 200 }, { 25, 0 }, { (uint64_t)INT32_MAX + 1, INT32_MAX },
		{ 25, (uint64_t)INT32_MAX + 1 }, { 200, 25 }, { UINT64_MAX, 1 },
	};
	for (size_t i = 0; i < sizeof(disabling) / sizeof(disabling[0]); i++) {
		hs_dos_extension_list_build(disabling[i][0], disabling[i][1],
			ext, sizeof(ext));
		p = apply(ext, 22);
		assert_true(p.explicit_params);
		assert_false(p.enabled);
		assert_int_equal(p.rate_per_sec, 25);
		assert_int_equal(p.burst_per_sec, 200);
	}

	/* Only a rate: the burst counts as 0, so disabled. */
	const uint8_t rate_only[] = { 1, 0x01, 10, 1,
		0x01, 0, 0, 0, 0, 0, 0, 0, 5 };
	p = apply(rate_only, sizeof(rate_only));
	assert_true(p.explicit_params);
	assert_false(p.enabled);

	/* An unknown parameter type: the whole extension is ignored. */
	uint8_t unknown_param[22];
	memcpy(unknown_param, dos_ext_25_200, 22);
	unknown_param[13] = 0x03;
	p = apply(unknown_param, 22);
	assert_false(p.explicit_params);
	assert_false(p.enabled);

	/* N_PARAMS says 3, only 2 present: unparseable, ignored. */
	uint8_t short_params[22];
	memcpy(short_params, dos_ext_25_200, 22);
	short_params[3] = 3;
	p = apply(short_params, 22);
	assert_false(p.explicit_params);

	/* An empty DoS extension field: unparseable, ignored. */
	const uint8_t empty_field[] = { 1, 0x01, 0 };
	p = apply(empty_field, sizeof(empty_field));
	assert_false(p.explicit_params);

	/* N_PARAMS 0: valid, explicit, both 0, so disabled. */
	const uint8_t no_params[] = { 1, 0x01, 1, 0 };
	p = apply(no_params, sizeof(no_params));
	assert_true(p.explicit_params);
	assert_false(p.enabled);

	/* Bytes after the parameters are tolerated. */
	uint8_t trailing[23];
	memcpy(trailing, dos_ext_25_200, 22);
	trailing[2] = 20;
	trailing[22] = 0x99;
	p = apply(trailing, 23);
	assert_true(p.enabled);

	/* An unknown extension type is skipped; of two DoS extensions the
	 * last one counts, as in tor. */
	uint8_t two[2 + 3 + 2 * 21];
	size_t off = 0;
	two[off++] = 3;
	two[off++] = 0x7f;
	two[off++] = 1;
	two[off++] = 0xaa;
	hs_dos_extension_list_build(5, 50, ext, sizeof(ext));
	memcpy(two + off, ext + 1, 21);
	off += 21;
	hs_dos_extension_list_build(7, 70, ext, sizeof(ext));
	memcpy(two + off, ext + 1, 21);
	off += 21;
	p = apply(two, off);
	assert_true(p.enabled);
	assert_int_equal(p.rate_per_sec, 7);
	assert_int_equal(p.burst_per_sec, 70);
}

static void
test_intro_established(void **state)
{
	uint8_t out[4] = { 0xff, 0xff, 0xff, 0xff };

	(void)state;
	assert_int_equal(intro_established_build(out, sizeof(out)), 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(intro_established_build(out, 0), -EMSGSIZE);
}

/* An INTRODUCE1 as a tor client sends it: zero legacy id, type 2, the auth
 * key, no extensions, then CLIENT_PK, encrypted data and MAC (opaque). */
static size_t
introduce1_body(uint8_t *out, size_t encrypted_len)
{
	size_t off = 0;

	memset(out, 0, 20);
	off += 20;
	out[off++] = 2;
	out[off++] = 0;
	out[off++] = 32;
	fill_pattern(out + off, 32, 0x31);
	off += 32;
	out[off++] = 0;
	fill_pattern(out + off, encrypted_len, 0x77);
	return off + encrypted_len;
}

static void
test_introduce1(void **state)
{
	uint8_t body[RELAY_DATA_MAX + 16];
	struct introduce1_cell cell;
	enum introduce1_check failed;
	size_t len;

	(void)state;
	/* 246 bytes is tor's client minimum (HS_CELL_INTRODUCE1_MIN_SIZE). */
	len = introduce1_body(body, 246 - 56);
	assert_int_equal(len, 246);
	assert_false(introduce1_is_too_short(len));
	assert_int_equal(introduce1_validate(body, len, &cell, &failed), 0);
	assert_int_equal(failed, INTRODUCE1_OK);
	assert_ptr_equal(cell.legacy_key_id, body);
	assert_int_equal(cell.auth_key_type, 2);
	assert_int_equal(cell.auth_key_len, 32);
	assert_ptr_equal(cell.auth_key, body + 23);
	assert_int_equal(cell.extensions.count, 0);
	assert_ptr_equal(cell.encrypted, body + 56);
	assert_int_equal(cell.encrypted_len, 190);

	/* Extensions in the cleartext part are carried, not interpreted. */
	len = introduce1_body(body, 100);
	body[55] = 1;
	memmove(body + 59, body + 56, 100);
	body[56] = 0x42;
	body[57] = 1;
	body[58] = 0x99;
	len += 3;
	assert_int_equal(introduce1_validate(body, len, &cell, &failed), 0);
	assert_int_equal(cell.extensions.count, 1);
	const uint8_t *cursor = NULL;
	struct hs_extension ext;
	assert_true(hs_extension_next(&cell.extensions, &cursor, &ext));
	assert_int_equal(ext.type, 0x42);
	assert_int_equal(ext.len, 1);
	assert_int_equal(ext.data[0], 0x99);
	assert_false(hs_extension_next(&cell.extensions, &cursor, &ext));
	assert_int_equal(cell.encrypted_len, 100);

	/* Lengths: < 20 closes, 490 is the largest accepted, 491 NACKs. */
	assert_true(introduce1_is_too_short(19));
	assert_false(introduce1_is_too_short(20));
	assert_int_equal(introduce1_validate(body, 19, &cell, &failed),
		-EPROTO);
	assert_int_equal(failed, INTRODUCE1_TOO_SHORT);
	len = introduce1_body(body, INTRODUCE1_MAX_LEN - 56);
	assert_int_equal(introduce1_validate(body, len, &cell, &failed), 0);
	len = introduce1_body(body, INTRODUCE1_MAX_LEN - 56 + 1);
	assert_int_equal(introduce1_validate(body, len, &cell, &failed),
		-EPROTO);
	assert_int_equal(failed, INTRODUCE1_TOO_LONG);

	/* Truncated: 20 <= length < 56 leaves a field short. */
	len = introduce1_body(body, 10);
	for (size_t cut = 20; cut < 56; cut++) {
		assert_int_equal(introduce1_validate(body, cut, &cell,
			&failed), -EPROTO);
		assert_int_equal(failed, INTRODUCE1_TRUNCATED);
	}
	/* Invalid: auth key type outside {0, 1, 2}. */
	body[20] = 3;
	assert_int_equal(introduce1_validate(body, len, &cell, &failed),
		-EPROTO);
	assert_int_equal(failed, INTRODUCE1_INVALID);
	/* Legacy key id not zero (checked before the type). */
	body[20] = 1;
	body[7] = 1;
	assert_int_equal(introduce1_validate(body, len, &cell, &failed),
		-EPROTO);
	assert_int_equal(failed, INTRODUCE1_LEGACY_KEY_ID);
	body[7] = 0;
	assert_int_equal(introduce1_validate(body, len, &cell, &failed),
		-EPROTO);
	assert_int_equal(failed, INTRODUCE1_BAD_AUTH_KEY_TYPE);
	body[20] = 2;
	/* AUTH_KEY_LEN 31: the key is one byte shorter and its last byte
	 * becomes N_EXTENSIONS. */
	uint8_t key_last = body[54];
	body[22] = 31;
	body[54] = 0;
	assert_int_equal(introduce1_validate(body, len, &cell, &failed),
		-EPROTO);
	assert_int_equal(failed, INTRODUCE1_BAD_AUTH_KEY_LEN);
	body[22] = 32;
	body[54] = key_last;
	/* Nothing after the extensions. */
	assert_int_equal(introduce1_validate(body, 56, &cell, &failed),
		-EPROTO);
	assert_int_equal(failed, INTRODUCE1_NO_ENCRYPTED);
	assert_string_equal(introduce1_check_name(failed),
		"no-encrypted-section");
	assert_int_equal(introduce1_validate(body, 57, &cell, &failed), 0);
}

static void
test_introduce_ack(void **state)
{
	uint8_t out[8];
	const uint8_t *p = out;
	uint16_t status;
	struct hs_extension_list ext;

	(void)state;
	assert_int_equal(introduce_ack_build(INTRODUCE_ACK_SUCCESS, out,
		sizeof(out)), 3);
	assert_memory_equal(out, ((uint8_t[]){ 0, 0, 0 }), 3);
	assert_int_equal(introduce_ack_build(INTRODUCE_ACK_UNKNOWN_ID, out,
		sizeof(out)), 3);
	assert_memory_equal(out, ((uint8_t[]){ 0, 1, 0 }), 3);
	assert_int_equal(introduce_ack_build(INTRODUCE_ACK_BAD_FORMAT, out,
		sizeof(out)), 3);
	assert_memory_equal(out, ((uint8_t[]){ 0, 2, 0 }), 3);
	assert_int_equal(introduce_ack_build(0, out, 2), -EMSGSIZE);

	assert_int_equal(introduce_ack_parse(&p, out + 3, &status, &ext), 0);
	assert_int_equal(status, 2);
	assert_int_equal(ext.count, 0);
	assert_ptr_equal(p, out + 3);
	p = out;
	assert_int_equal(introduce_ack_parse(&p, out + 2, &status, &ext),
		-EMSGSIZE);
	assert_ptr_equal(p, out);
}

static void
test_rendezvous(void **state)
{
	uint8_t body[RELAY_DATA_MAX], cookie[20], out[RELAY_DATA_MAX];
	struct rendezvous1_cell r1;
	const uint8_t *p;

	(void)state;
	fill_pattern(body, sizeof(body), 3);
	assert_int_equal(establish_rendezvous_parse(body, 20, cookie), 0);
	assert_memory_equal(cookie, body, 20);
	/* tor 0.4.9 wants exactly 20 bytes. */
	assert_int_equal(establish_rendezvous_parse(body, 19, cookie),
		-EINVAL);
	assert_int_equal(establish_rendezvous_parse(body, 21, cookie),
		-EINVAL);
	assert_int_equal(establish_rendezvous_parse(body, 0, cookie), -EINVAL);

	/* RENDEZVOUS1 from a tor service: cookie + 64 bytes. */
	p = body;
	assert_int_equal(rendezvous1_cell_parse(&p, body + 84, &r1), 0);
	assert_ptr_equal(p, body + 84);
	assert_ptr_equal(r1.cookie, body);
	assert_ptr_equal(r1.handshake_info, body + 20);
	assert_int_equal(r1.handshake_info_len, HS_HANDSHAKE_INFO_LEN);
	assert_int_equal(rendezvous2_build(&r1, out, sizeof(out)), 64);
	assert_memory_equal(out, body + 20, 64);
	assert_int_equal(rendezvous2_build(&r1, out, 63), -EMSGSIZE);

	/* Any HANDSHAKE_INFO length is passed on (HSRend=2). */
	p = body;
	assert_int_equal(rendezvous1_cell_parse(&p, body + RELAY_DATA_MAX,
		&r1), 0);
	assert_int_equal(rendezvous2_build(&r1, out, sizeof(out)),
		RELAY_DATA_MAX - 20);
	p = body;
	assert_int_equal(rendezvous1_cell_parse(&p, body + 20, &r1), 0);
	assert_int_equal(rendezvous2_build(&r1, out, 0), 0);
	p = body;
	assert_int_equal(rendezvous1_cell_parse(&p, body + 19, &r1), -EINVAL);
	assert_ptr_equal(p, body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_establish_intro_build),
		cmocka_unit_test(test_establish_intro_verify),
		cmocka_unit_test(test_establish_intro_failures),
		cmocka_unit_test(test_dos_extension),
		cmocka_unit_test(test_intro_established),
		cmocka_unit_test(test_introduce1),
		cmocka_unit_test(test_introduce_ack),
		cmocka_unit_test(test_rendezvous),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
