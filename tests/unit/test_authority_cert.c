/* Authority key certificates (control/authority_cert.c), checked against
 * certificates tor-gencert wrote and an authority served
 * (tests/unit/vectors/dirdoc). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "control/authority_cert.h"
#include "crypto/rsa_identity.h"
#include "dirdoc_vectors.h"

/* Copy of text with the first occurrence of from replaced by to. */
static char *
replaced(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t head, n;
	char *out;

	assert_non_null(at);
	head = (size_t)(at - text);
	n = strlen(text) - strlen(from) + strlen(to);
	out = malloc(n + 1);
	assert_non_null(out);
	memcpy(out, text, head);
	memcpy(out + head, to, strlen(to));
	strcpy(out + head + strlen(to), at + strlen(from));
	return out;
}

static int
parse_text(const char *text, struct authority_cert **cert,
		struct dirdoc_error *err)
{
	const uint8_t *p = (const uint8_t *)text;

	return authority_cert_parse(&p, p + strlen(text), cert, err);
}

static void
test_real_certificates(void **state)
{
	static const uint16_t dir_ports[3] = { 33200, 33201, 33202 };

	(void)state;
	for (int i = 0; i < 3; i++) {
		char name[64];
		size_t len;
		uint8_t *doc;
		const uint8_t *p;
		struct authority_cert *cert;
		uint8_t identity[20];
		uint32_t ip;
		uint16_t port;

		snprintf(name, sizeof(name), "authority_certificate-a%d", i);
		doc = dirdoc_load(name, &len);
		p = doc;
		assert_int_equal(authority_cert_parse(&p, doc + len, &cert,
					NULL), 0);
		assert_ptr_equal(p, doc + len);
		dirdoc_hex20(dirdoc_authority_hex[i], identity);
		assert_memory_equal(authority_cert_identity_digest(cert),
				identity, 20);
		assert_true(authority_cert_dir_address(cert, &ip, &port));
		assert_int_equal(ip, 0x7f000001);
		assert_int_equal(port, dir_ports[i]);
		/* tor-gencert -m 12: published + 365 days. */
		assert_int_equal(authority_cert_expires(cert) -
				authority_cert_published(cert), 365 * 86400);
		assert_int_equal(rsa_identity_bits(
				authority_cert_identity_key(cert)), 3072);
		assert_int_equal(rsa_identity_bits(
				authority_cert_signing_key(cert)), 2048);
		assert_int_equal(authority_cert_verify(cert, DIRDOC_NOW), 0);
		authority_cert_free(cert);
		free(doc);
	}
}

static void
test_keys_all(void **state)
{
	struct authority_cert *certs[4];
	uint8_t identity[20];
	uint8_t signing[20];
	size_t n;

	(void)state;
	n = dirdoc_load_certs(certs, 4);
	assert_int_equal(n, 3);
	/* Served in identity order: a2, a1, a0. */
	for (size_t i = 0; i < 3; i++) {
		dirdoc_hex20(dirdoc_authority_hex[2 - i], identity);
		assert_memory_equal(authority_cert_identity_digest(certs[i]),
				identity, 20);
		assert_int_equal(authority_cert_verify(certs[i], DIRDOC_NOW), 0);
	}
	/* a0's signing key digest as named in the consensus signatures. */
	dirdoc_hex20(dirdoc_authority_hex[0], identity);
	dirdoc_hex20("6A6F34E19C298AD01E1192A5CAC1C1AB84EEEE0C", signing);
	assert_ptr_equal(authority_cert_find(certs, n, identity, signing),
			certs[2]);
	signing[0] ^= 1;
	assert_null(authority_cert_find(certs, n, identity, signing));
	for (size_t i = 0; i < n; i++)
		authority_cert_free(certs[i]);
}

static void
test_lifetime(void **state)
{
	size_t len;
	uint8_t *doc = dirdoc_load("authority_certificate-a0", &len);
	const uint8_t *p = doc;
	struct authority_cert *cert;
	time_t published;

	(void)state;
	assert_int_equal(authority_cert_parse(&p, doc + len, &cert, NULL), 0);
	published = authority_cert_published(cert);
	assert_int_equal(authority_cert_expires(cert), DIRDOC_A0_EXPIRES);
	assert_int_equal(authority_cert_verify(cert, DIRDOC_A0_EXPIRES - 1), 0);
	assert_int_equal(authority_cert_verify(cert, DIRDOC_A0_EXPIRES),
			-EKEYEXPIRED);
	assert_int_equal(authority_cert_verify(cert, DIRDOC_A0_EXPIRES + 86400),
			-EKEYEXPIRED);
	assert_int_equal(authority_cert_verify(cert,
				published - AUTHORITY_CERT_MAX_SKEW), 0);
	assert_int_equal(authority_cert_verify(cert,
				published - AUTHORITY_CERT_MAX_SKEW - 1),
			-EKEYREJECTED);
	authority_cert_free(cert);
	free(doc);
}

static void
expect_bad_signature(const char *text, const char *from, const char *to)
{
	char *bad = replaced(text, from, to);
	struct authority_cert *cert;

	assert_int_equal(parse_text(bad, &cert, NULL), 0);
	assert_int_equal(authority_cert_verify(cert, DIRDOC_NOW), -EBADMSG);
	authority_cert_free(cert);
	free(bad);
}

static void
test_tampering(void **state)
{
	size_t len;
	char *text = (char *)dirdoc_load("authority_certificate-a0", &len);

	(void)state;
	/* One byte of the signed text, of each signature, of a date. */
	expect_bad_signature(text, "127.0.0.1:33200", "127.0.0.1:33201");
	expect_bad_signature(text, "dir-key-expires 2027", "dir-key-expires 2028");
	expect_bad_signature(text, "muQLVv6m", "muQLVv7m");
	expect_bad_signature(text, "hndF/bXr", "hndF/bXs");
	/* An unknown item inside the signed part is still signed. */
	expect_bad_signature(text, "dir-identity-key\n",
			"x-extra 1\ndir-identity-key\n");
	free(text);
}

static void
expect_malformed(const char *text, const char *from, const char *to,
		int code, const char *message)
{
	char *bad = replaced(text, from, to);
	struct authority_cert *cert = NULL;
	struct dirdoc_error err;
	const uint8_t *p = (const uint8_t *)bad;
	const uint8_t *start = p;

	memset(&err, 0, sizeof(err));
	assert_int_equal(authority_cert_parse(&p, p + strlen(bad), &cert, &err),
			code);
	assert_null(cert);
	assert_ptr_equal(p, start);
	if (strstr(err.message, message) == NULL)
		fail_msg("error '%s' lacks '%s'", err.message, message);
	free(bad);
}

static void
test_malformed(void **state)
{
	size_t len;
	char *text = (char *)dirdoc_load("authority_certificate-a0", &len);

	(void)state;
	expect_malformed(text, "dir-key-certificate-version 3",
			"dir-key-certificate-version 4", -EPROTO,
			"line 1: certificate does not start");
	expect_malformed(text, "fingerprint 873C", "fingerprint 973C", -EPROTO,
			"fingerprint does not match");
	expect_malformed(text, "fingerprint 873C", "fingerprint Z73C", -EPROTO,
			"line 3: fingerprint is not 40 hex digits");
	expect_malformed(text, "dir-key-published 2026-12-01 00:49:16",
			"dir-key-published 2026-12-32 00:49:16", -EPROTO,
			"line 4: bad dir-key-published");
	expect_malformed(text, "dir-key-expires",
			"dir-key-expires 2027-12-01 00:49:16\ndir-key-expires",
			-EPROTO, "line 6: dir-key-expires appears twice");
	expect_malformed(text, "dir-signing-key", "x-dir-signing-key", -EPROTO,
			"lacks dir-signing-key");
	expect_malformed(text, "-----END ID SIGNATURE-----",
			"-----END SIGNATURE-----", -EPROTO,
			"object END line does not match BEGIN");
	{
		/* BEGIN and END of the identity key's object. */
		char *other = replaced(text,
				"dir-identity-key\n-----BEGIN RSA PUBLIC KEY",
				"dir-identity-key\n-----BEGIN RSA PRIVATE KEY");

		expect_malformed(other, "-----END RSA PUBLIC KEY",
				"-----END RSA PRIVATE KEY", -EPROTO,
				"line 6: dir-identity-key needs an RSA PUBLIC KEY");
		free(other);
	}
	expect_malformed(text, "dir-key-certification\n",
			"dir-key-certification extra\n", -EPROTO,
			"takes no arguments");
	free(text);
}

/* Every truncation fails cleanly (and does not read past the end: the
 * ASan build checks that). */
static void
test_truncated(void **state)
{
	size_t len;
	uint8_t *doc = dirdoc_load("authority_certificate-a0", &len);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n + 1);
		const uint8_t *p = copy;
		struct authority_cert *cert = NULL;
		int rc;

		memcpy(copy, doc, n);
		rc = authority_cert_parse(&p, copy + n, &cert, NULL);
		assert_true(rc == -EPROTO || rc == -EMSGSIZE);
		assert_null(cert);
		free(copy);
	}
	free(doc);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_certificates),
		cmocka_unit_test(test_keys_all),
		cmocka_unit_test(test_lifetime),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	dirdoc_vector_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
