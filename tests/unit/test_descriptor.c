/* control/descriptor: the server descriptor against the one tor 0.4.9.11
 * uploaded for the same keys (vectors/tor-0.4.9-relay/server-descriptor,
 * captured from its POST /tor/), signature and crosscert checks done the
 * way an authority does them (dir-spec 2.1.1, tor-roles-and-directory
 * 4.3), run on tor's descriptor and on ours, line order, roles, parameter
 * checks; and crypto/onion_key_crosscert's key conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "control/descriptor.h"
#include "control/relay_keys.h"
#include "crypto/kdf.h"
#include "crypto/onion_key_crosscert.h"
#include "crypto/rsa_identity.h"
#include "crypto/tor_keys.h"
#include "crypto/torcert.h"
#include "relay_test_util.h"

static const char *vector_dir;
static char datadir[256];

/* "published 2026-12-01 01:00:08" of tor's descriptor. */
#define TOR_PUBLISHED ((time_t)1796086808)

static struct relay_keys *keys;

static int
setup(void **state)
{
	struct relay_keys_error err;

	(void)state;
	test_datadir_name(datadir, sizeof(datadir));
	test_datadir_from_vectors(vector_dir, datadir);
	if (relay_keys_load_or_create(datadir, TOR_PUBLISHED, &keys, &err) != 0)
		fail_msg("%s: %s", err.path, err.message);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	relay_keys_free(keys);
	keys = NULL;
	test_remove_tree(datadir);
	return 0;
}

/* The parameters that reproduce tor's descriptor (its torrc: Nickname
 * hsrelaytest, ORPort 127.0.0.1:27942, ContactInfo, default bandwidth). */
static struct descriptor_params
tor_params(void)
{
	struct descriptor_params params = {
		.nickname = "hsrelaytest",
		.address = "127.0.0.1",
		.or_port = 27942,
		.platform = "Tor 0.4.9.11 on Linux",
		.contact = "hsrelaytest@test.invalid",
		.bandwidth_rate = 1073741824,
		.bandwidth_burst = 1073741824,
		.bandwidth_observed = 0,
		.uptime = 0,
		.published = TOR_PUBLISHED,
		.roles = DESCRIPTOR_ROLES_ALL,
	};

	return params;
}

static char *
read_tor_descriptor(size_t *len)
{
	char path[512];
	uint8_t *data;

	snprintf(path, sizeof(path), "%s/server-descriptor", vector_dir);
	data = test_read_file(path, len);
	assert_non_null(data);
	return (char *)data;
}

/* The line starting with keyword followed by ' ' or '\n', or NULL. */
static const char *
find_line(const char *text, const char *keyword)
{
	size_t len = strlen(keyword);
	const char *line = text;

	while (line != NULL && *line != '\0') {
		if (strncmp(line, keyword, len) == 0 &&
				(line[len] == ' ' || line[len] == '\n'))
			return line;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return NULL;
}

/* Decodes the object on the lines after line (BEGIN .. END). */
static size_t
object_after(const char *line, uint8_t *out, size_t out_len)
{
	const char *begin = strchr(line, '\n') + 1, *body, *end;
	size_t len = 0;

	assert_true(strncmp(begin, "-----BEGIN ", 11) == 0);
	body = strchr(begin, '\n') + 1;
	end = strstr(body, "-----END ");
	assert_non_null(end);
	assert_int_equal(sodium_base642bin(out, out_len, body,
			(size_t)(end - body), "\n", &len, NULL,
			sodium_base64_VARIANT_ORIGINAL), 0);
	return len;
}

/* Decodes the unpadded base64 argument of a keyword line. */
static size_t
argument_base64(const char *line, uint8_t *out, size_t out_len)
{
	const char *arg = strchr(line, ' ') + 1, *eol = strchr(arg, '\n');
	size_t len = 0;

	assert_int_equal(sodium_base642bin(out, out_len, arg,
			(size_t)(eol - arg), NULL, &len, NULL,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING), 0);
	return len;
}

enum check_failure {
	CHECK_OK = 0,
	CHECK_IDENTITY_CERT = 1,
	CHECK_MASTER_KEY,
	CHECK_FINGERPRINT,
	CHECK_TAP_CROSSCERT,
	CHECK_NTOR_CROSSCERT,
	CHECK_ED25519_SIGNATURE,
	CHECK_RSA_SIGNATURE,
};

/* What an authority checks (routerparse.c, in its order). Returns the first
 * failed check. */
static int
check_descriptor(const char *text, time_t now)
{
	uint8_t cert_bytes[256], master[32], der[RSA_PUBLIC_DER_MAX];
	uint8_t tap_der[RSA_PUBLIC_DER_MAX], crosscert[256], ntor[32];
	uint8_t ntor_cert[256], signature[128], digest[32];
	char hex[41], fingerprint_line[64];
	const uint8_t *cursor = cert_bytes;
	struct rsa_identity *identity = NULL, *tap = NULL;
	struct kdf_digest *sha256;
	struct torcert cert;
	const char *line, *signed_end;
	size_t cert_len, der_len, tap_len, crosscert_len, ntor_cert_len, i, j;
	int sign_bit, result = CHECK_OK;

	/* router first, identity-ed25519 second. */
	assert_true(strncmp(text, "router ", 7) == 0);
	line = strchr(text, '\n') + 1;
	assert_true(strncmp(line, "identity-ed25519\n", 17) == 0);
	cert_len = object_after(line, cert_bytes, sizeof(cert_bytes));
	if (torcert_parse(&cursor, cert_bytes + cert_len, &cert) != 0 ||
			cert.cert_type != TORCERT_TYPE_SIGNING ||
			!cert.has_signing_key ||
			torcert_verify(&cert, NULL, now) != 0)
		return CHECK_IDENTITY_CERT;
	line = find_line(text, "master-key-ed25519");
	assert_int_equal(argument_base64(line, master, sizeof(master)), 32);
	if (memcmp(master, cert.signing_key, 32) != 0)
		return CHECK_MASTER_KEY;

	der_len = object_after(find_line(text, "signing-key"), der, sizeof(der));
	assert_int_equal(rsa_identity_from_public_der(der, der_len, &identity), 0);
	assert_int_equal(kdf_sha1(der, der_len, digest), 0);
	rsa_fingerprint_to_hex(digest, hex);
	for (i = 0, j = 0; i < 40; i += 4)
		j += (size_t)snprintf(fingerprint_line + j,
				sizeof(fingerprint_line) - j, " %.4s", hex + i);
	line = find_line(text, "fingerprint");
	if (strncmp(line + strlen("fingerprint"), fingerprint_line, j) != 0) {
		result = CHECK_FINGERPRINT;
		goto out;
	}

	tap_len = object_after(find_line(text, "onion-key"), tap_der,
			sizeof(tap_der));
	assert_int_equal(rsa_identity_from_public_der(tap_der, tap_len, &tap), 0);
	crosscert_len = object_after(find_line(text, "onion-key-crosscert"),
			crosscert, sizeof(crosscert));
	if (tap_onion_key_crosscert_verify(crosscert, crosscert_len, tap,
			identity, master) != 0) {
		result = CHECK_TAP_CROSSCERT;
		goto out;
	}

	assert_int_equal(argument_base64(find_line(text, "ntor-onion-key"),
			ntor, sizeof(ntor)), 32);
	line = find_line(text, "ntor-onion-key-crosscert");
	sign_bit = line[strlen("ntor-onion-key-crosscert ")] - '0';
	ntor_cert_len = object_after(line, ntor_cert, sizeof(ntor_cert));
	if (ntor_onion_key_crosscert_verify(ntor_cert, ntor_cert_len, ntor,
			sign_bit, master, now) != 0) {
		result = CHECK_NTOR_CROSSCERT;
		goto out;
	}

	/* router-sig-ed25519 second-to-last, router-signature last. */
	line = strstr(text, "\nrouter-sig-ed25519 ");
	assert_non_null(line);
	signed_end = line + strlen("\nrouter-sig-ed25519 ");
	assert_true(strncmp(strchr(signed_end, '\n'), "\nrouter-signature\n",
			18) == 0);
	assert_int_equal(argument_base64(line + 1, signature, 64), 64);
	sha256 = kdf_digest_new(KDF_HASH_SHA256);
	assert_non_null(sha256);
	kdf_digest_update(sha256, DESCRIPTOR_ED25519_SIGNATURE_PREFIX,
			strlen(DESCRIPTOR_ED25519_SIGNATURE_PREFIX));
	kdf_digest_update(sha256, text, (size_t)(signed_end - text));
	assert_int_equal(kdf_digest_peek(sha256, digest, 32), 32);
	kdf_digest_free(sha256);
	if (ed25519_verify(signature, digest, 32, cert.certified_key) != 0) {
		result = CHECK_ED25519_SIGNATURE;
		goto out;
	}

	line = strstr(text, "\nrouter-signature\n");
	signed_end = line + strlen("\nrouter-signature\n");
	assert_int_equal(kdf_sha1(text, (size_t)(signed_end - text), digest), 0);
	assert_int_equal(object_after(line + 1, signature, sizeof(signature)),
			128);
	if (rsa_identity_verify_digest(identity, digest, 20, signature,
			128) != 0)
		result = CHECK_RSA_SIGNATURE;
out:
	rsa_identity_free(identity);
	rsa_identity_free(tap);
	return result;
}

static char *
build(const struct descriptor_params *params, size_t *len,
		uint8_t digest[DESCRIPTOR_DIGEST_LEN])
{
	char *out = malloc(DESCRIPTOR_MAX_LEN + 1);
	ssize_t n;

	assert_non_null(out);
	n = descriptor_build(params, keys, out, DESCRIPTOR_MAX_LEN + 1, digest);
	if (n < 0)
		fail_msg("descriptor_build: %zd", n);
	assert_int_equal(strlen(out), (size_t)n);
	*len = (size_t)n;
	return out;
}

/* Removes the line starting with keyword (and its newline). */
static void
remove_line(char *text, const char *keyword)
{
	char *line = (char *)find_line(text, keyword), *next;

	assert_non_null(line);
	next = strchr(line, '\n') + 1;
	memmove(line, next, strlen(next) + 1);
}

/* Replaces the line starting with keyword by replacement (with '\n'). */
static void
replace_line(char *text, size_t cap, const char *keyword,
		const char *replacement)
{
	char *line = (char *)find_line(text, keyword), *next;
	size_t add = strlen(replacement);

	assert_non_null(line);
	next = strchr(line, '\n') + 1;
	assert_true(strlen(text) - (size_t)(next - line) + add < cap);
	memmove(line + add, next, strlen(next) + 1);
	memcpy(line, replacement, add);
}

static void
test_tor_descriptor_passes_checks(void **state)
{
	size_t len;
	char *tor = read_tor_descriptor(&len);

	(void)state;
	assert_int_equal(check_descriptor(tor, TOR_PUBLISHED), CHECK_OK);
	free(tor);
}

/* Everything but what we leave out on purpose (proto entries, the
 * extra-info digest) is byte for byte what tor wrote for the same keys and
 * time, including both crosscerts (RSA PKCS#1 v1.5 and Ed25519 signatures
 * are deterministic, so this also proves tor's curve25519 -> Ed25519
 * derivation). */
static void
test_matches_tor(void **state)
{
	struct descriptor_params params = tor_params();
	char proto[256], proto_line[300];
	size_t tor_len, our_len, prefix_len;
	char *tor = read_tor_descriptor(&tor_len);
	char *ours = build(&params, &our_len, NULL);
	const char *tor_sig, *our_sig;

	(void)state;
	tor = realloc(tor, tor_len + 256);
	assert_true(descriptor_protocols(DESCRIPTOR_ROLES_ALL, proto,
			sizeof(proto)) > 0);
	snprintf(proto_line, sizeof(proto_line), "proto %s\n", proto);
	replace_line(tor, tor_len + 256, "proto", proto_line);
	remove_line(tor, "extra-info-digest");

	tor_sig = strstr(tor, "\nrouter-sig-ed25519 ");
	our_sig = strstr(ours, "\nrouter-sig-ed25519 ");
	assert_non_null(tor_sig);
	assert_non_null(our_sig);
	prefix_len = (size_t)(tor_sig - tor);
	assert_int_equal((size_t)(our_sig - ours), prefix_len);
	assert_memory_equal(ours, tor, prefix_len);
	/* Same shape after the signatures too: one empty line at the end. */
	assert_int_equal(our_len, strlen(tor));
	assert_string_equal(ours + our_len - 25, "-----END SIGNATURE-----\n\n");
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED), CHECK_OK);
	free(tor);
	free(ours);
}

static void
test_signatures_and_digest(void **state)
{
	struct descriptor_params params = tor_params();
	uint8_t digest[DESCRIPTOR_DIGEST_LEN], expected[20];
	size_t len, signed_len;
	char *ours, *signature_line;

	(void)state;
	params.published = TOR_PUBLISHED + 7200;
	params.uptime = 7200;
	ours = build(&params, &len, digest);
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED + 7200), CHECK_OK);
	signature_line = strstr(ours, "\nrouter-signature\n");
	assert_int_equal(kdf_sha1(ours, (size_t)(signature_line - ours) + 18,
			expected), 0);
	assert_memory_equal(digest, expected, 20);
	signed_len = descriptor_signed_length(ours, len);
	assert_int_equal(signed_len, len - 1);
	assert_int_equal(ours[signed_len - 1], '\n');
	assert_int_equal(ours[signed_len - 2], '-');

	/* One changed byte in the Ed25519-signed part, then in the part only
	 * RSA covers (the router-sig-ed25519 value): each check catches its
	 * own. */
	*strstr(ours, "uptime 7200") = 'U';
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED + 7200),
			CHECK_ED25519_SIGNATURE);
	*strstr(ours, "Uptime 7200") = 'u';
	signature_line = strstr(ours, "\nrouter-sig-ed25519 ") + 20;
	signature_line[85] = signature_line[85] == 'A' ? 'Q' : 'A';
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED + 7200),
			CHECK_ED25519_SIGNATURE);
	free(ours);

	/* Expired certificates are what an authority would refuse. */
	params.published = TOR_PUBLISHED;
	ours = build(&params, &len, NULL);
	assert_int_equal(check_descriptor(ours, (time_t)499631 * 3600 + 1),
			CHECK_IDENTITY_CERT);
	free(ours);
}

static void
test_line_order(void **state)
{
	static const char *const expected[] = {
		"router", "identity-ed25519", "-----BEGIN", "*", "-----END",
		"master-key-ed25519", "platform", "proto", "published",
		"fingerprint", "uptime", "bandwidth",
		"onion-key", "-----BEGIN", "*", "-----END",
		"signing-key", "-----BEGIN", "*", "-----END",
		"onion-key-crosscert", "-----BEGIN", "*", "-----END",
		"ntor-onion-key-crosscert", "-----BEGIN", "*", "-----END",
		"family", "hidden-service-dir", "contact", "ntor-onion-key",
		"reject", "tunnelled-dir-server", "router-sig-ed25519",
		"router-signature", "-----BEGIN", "*", "-----END", "",
	};
	static const char *const family[] = {
		"$C0935D555E1366D3B39C982EFE47624DB9A44859", "othernick",
		"$0123456789abcdef0123456789ABCDEF01234567~nick",
	};
	struct descriptor_params params = tor_params();
	size_t len, index = 0;
	char *ours, *line;

	(void)state;
	params.family = family;
	params.n_family = 3;
	ours = build(&params, &len, NULL);
	for (line = ours; *line != '\0'; line = strchr(line, '\n') + 1) {
		size_t word = strcspn(line, " \n");

		assert_true(index < sizeof(expected) / sizeof(expected[0]));
		if (strcmp(expected[index], "*") == 0) {
			/* base64 lines of an object */
			if (strncmp(line, "-----END", 8) != 0)
				continue;
			index++;
		}
		if (strcmp(expected[index], "-----BEGIN") == 0 ||
				strcmp(expected[index], "-----END") == 0)
			assert_true(strncmp(line, expected[index],
					strlen(expected[index])) == 0);
		else if (strlen(expected[index]) != word ||
				strncmp(line, expected[index], word) != 0)
			fail_msg("line %zu: expected %s, got %.*s", index,
					expected[index], (int)word, line);
		index++;
	}
	assert_int_equal(index, sizeof(expected) / sizeof(expected[0]));
	assert_non_null(strstr(ours, "\nfamily $C0935D555E1366D3B39C982EFE47624DB9A44859 "
			"othernick $0123456789abcdef0123456789ABCDEF01234567~nick\n"));
	assert_true(strncmp(ours, "router hsrelaytest 127.0.0.1 27942 0 0\n", 39) == 0);
	assert_non_null(strstr(ours, "\nreject *:*\n"));
	assert_null(strstr(ours, "extra-info-digest"));
	assert_null(strstr(ours, "caches-extra-info"));
	free(ours);
}

/* FamilyId (tor 0.4.9 router.c): one family-cert per family key, after
 * hidden-service-dir and before contact, each a type 0x0C certificate of
 * our Ed25519 identity signed by the family key (in extension 04), valid
 * 30 days from the publication time; the rest of the descriptor still
 * passes an authority's checks. */
static void
test_family_certs(void **state)
{
	struct ed25519_keypair family_keys[2];
	struct descriptor_params params = tor_params();
	const char *line, *contact;
	uint8_t cert_bytes[256];
	size_t len;
	char *ours;

	(void)state;
	assert_int_equal(ed25519_keypair_generate(&family_keys[0]), 0);
	assert_int_equal(ed25519_keypair_generate(&family_keys[1]), 0);
	params.family_keys = family_keys;
	params.n_family_keys = 2;
	ours = build(&params, &len, NULL);
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED), CHECK_OK);
	contact = find_line(ours, "contact");
	assert_non_null(contact);
	line = ours;
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *p = cert_bytes;
		struct torcert cert;
		size_t cert_len;

		line = find_line(line, "family-cert");
		assert_non_null(line);
		assert_true(line > find_line(ours, "hidden-service-dir") && line < contact);
		assert_true(strncmp(strchr(line, '\n') + 1, "-----BEGIN FAMILY CERT-----\n",
				28) == 0);
		cert_len = object_after(line, cert_bytes, sizeof(cert_bytes));
		assert_int_equal(torcert_parse(&p, cert_bytes + cert_len, &cert), 0);
		assert_ptr_equal(p, cert_bytes + cert_len);
		assert_int_equal(cert.cert_type, TORCERT_TYPE_FAMILY);
		assert_int_equal(cert.key_type, TORCERT_KEY_TYPE_ED25519);
		assert_memory_equal(cert.certified_key, relay_keys_master(keys)->public_key, 32);
		assert_true(cert.has_signing_key);
		assert_memory_equal(cert.signing_key, family_keys[i].public_key, 32);
		assert_int_equal(cert.expiration_hours,
				torcert_hours_from_time(TOR_PUBLISHED + 30 * 86400));
		assert_int_equal(torcert_verify(&cert, family_keys[i].public_key,
				TOR_PUBLISHED), 0);
		line++;
	}
	assert_null(find_line(line, "family-cert"));
	free(ours);
	/* Keys promised but not given. */
	params.family_keys = NULL;
	assert_int_equal(descriptor_build(&params, keys, (char *)cert_bytes,
			sizeof(cert_bytes), NULL), -EINVAL);
}

static void
test_roles_and_proto(void **state)
{
	struct descriptor_params params = tor_params();
	char proto[256];
	size_t len;
	char *ours;
	static const char all[] = "Cons=1-2 Desc=1-2 DirCache=2 FlowCtrl=1-2 "
			"HSDir=2 HSIntro=4-5 HSRend=1-2 Link=4-5 LinkAuth=3 "
			"Microdesc=1-2 Relay=2-4";

	(void)state;
	assert_int_equal(descriptor_protocols(DESCRIPTOR_ROLES_ALL, proto,
			sizeof(proto)), (ssize_t)strlen(all));
	assert_string_equal(proto, all);
	assert_true(descriptor_protocols(0, proto, sizeof(proto)) > 0);
	assert_string_equal(proto, "Cons=1-2 Desc=1-2 FlowCtrl=1-2 Link=4-5 "
			"LinkAuth=3 Microdesc=1-2 Relay=2-4");
	assert_true(descriptor_protocols(DESCRIPTOR_ROLE_INTRO |
			DESCRIPTOR_ROLE_REND, proto, sizeof(proto)) > 0);
	assert_string_equal(proto, "Cons=1-2 Desc=1-2 FlowCtrl=1-2 HSIntro=4-5 "
			"HSRend=1-2 Link=4-5 LinkAuth=3 Microdesc=1-2 Relay=2-4");
	assert_int_equal(descriptor_protocols(0, proto, 10), -EMSGSIZE);

	params.roles = DESCRIPTOR_ROLE_INTRO | DESCRIPTOR_ROLE_REND;
	params.contact = NULL;
	ours = build(&params, &len, NULL);
	assert_null(strstr(ours, "hidden-service-dir"));
	assert_null(strstr(ours, "tunnelled-dir-server"));
	assert_null(strstr(ours, "\ncontact "));
	assert_non_null(strstr(ours, "\nproto Cons=1-2 Desc=1-2 FlowCtrl=1-2 "
			"HSIntro=4-5 HSRend=1-2 Link=4-5 LinkAuth=3 "
			"Microdesc=1-2 Relay=2-4\n"));
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED), CHECK_OK);
	free(ours);

	/* What hsrelay advertises: a directory cache (dir-spec 2.1.1
	 * "tunnelled-dir-server" after the exit policy, as tor writes it;
	 * DirCache=2 in the proto line), an HSDir (HSDir=2 and
	 * "hidden-service-dir" before "contact" and "ntor-onion-key", as tor
	 * writes it), an introduction point (HSIntro=4-5: services pick it,
	 * and send it the DoS extension) and the rendezvous point (HSRend=1-2,
	 * as tor 0.4.9.11 writes it: RENDEZVOUS1 of any length). */
	params.roles = DESCRIPTOR_ROLES_OFFERED;
	ours = build(&params, &len, NULL);
	assert_non_null(strstr(ours, "\nproto Cons=1-2 Desc=1-2 DirCache=2 "
			"FlowCtrl=1-2 HSDir=2 HSIntro=4-5 HSRend=1-2 Link=4-5 LinkAuth=3 "
			"Microdesc=1-2 "
			"Relay=2-4\npublished "));
	assert_non_null(strstr(ours, "\nreject *:*\ntunnelled-dir-server\n"
			"router-sig-ed25519 "));
	assert_non_null(strstr(ours, "\nhidden-service-dir\nntor-onion-key "));
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED), CHECK_OK);
	free(ours);

	/* After an overload (control/overload.h): tor's overload-general
	 * line between tunnelled-dir-server and the signatures, which cover
	 * it. */
	params.overload_general = "overload-general 1 2026-12-03 18:00:00\n";
	ours = build(&params, &len, NULL);
	assert_non_null(strstr(ours, "\nreject *:*\ntunnelled-dir-server\n"
			"overload-general 1 2026-12-03 18:00:00\nrouter-sig-ed25519 "));
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED), CHECK_OK);
	free(ours);

	/* Hibernating (AccountingMax, control/accounting.h): tor router.c
	 * writes "hibernating 1" between family and hidden-service-dir; and
	 * when accounting keeps it from serving directories, no
	 * tunnelled-dir-server while DirCache=2 stays in proto. */
	params.overload_general = NULL;
	params.hibernating = true;
	params.no_tunnelled_dir_server = true;
	ours = build(&params, &len, NULL);
	assert_non_null(strstr(ours, "\nhibernating 1\nhidden-service-dir\nntor-onion-key "));
	assert_null(strstr(ours, "tunnelled-dir-server"));
	assert_non_null(strstr(ours, " DirCache=2 "));
	assert_non_null(strstr(ours, "\nreject *:*\nrouter-sig-ed25519 "));
	assert_int_equal(check_descriptor(ours, TOR_PUBLISHED), CHECK_OK);
	free(ours);
}

static void
expect_invalid(const struct descriptor_params *params)
{
	char out[DESCRIPTOR_MAX_LEN + 1];

	assert_int_equal(descriptor_build(params, keys, out, sizeof(out), NULL),
			-EINVAL);
	assert_int_equal(out[0], '\0');
}

static void
test_invalid_params(void **state)
{
	static const char *const bad_family[] = { "$0123" };
	static const char *const bad_family2[] = { "with space" };
	struct descriptor_params params;

	(void)state;
	params = tor_params();
	params.nickname = "nick-name";
	expect_invalid(&params);
	params = tor_params();
	params.nickname = "abcdefghijklmnopqrst";
	expect_invalid(&params);
	params = tor_params();
	params.address = "127.0.0";
	expect_invalid(&params);
	params = tor_params();
	params.address = "::1";
	expect_invalid(&params);
	params = tor_params();
	params.or_port = 0;
	expect_invalid(&params);
	params = tor_params();
	params.bandwidth_rate = 0;
	expect_invalid(&params);
	params = tor_params();
	params.contact = "a\nreject *:*";
	expect_invalid(&params);
	params = tor_params();
	params.platform = "hsrelay\r";
	expect_invalid(&params);
	params = tor_params();
	params.platform = "";
	expect_invalid(&params);
	params = tor_params();
	params.platform = "caf\xc3\xa9";
	expect_invalid(&params);
	params = tor_params();
	params.family = bad_family;
	params.n_family = 1;
	expect_invalid(&params);
	params.family = bad_family2;
	expect_invalid(&params);
	params.family = NULL;
	expect_invalid(&params);
}

static void
test_sizes(void **state)
{
	struct descriptor_params params = tor_params();
	static const char *family[800];
	char *out = malloc(DESCRIPTOR_MAX_LEN + 1);
	size_t len, i;
	char *ours;

	(void)state;
	ours = build(&params, &len, NULL);
	/* Exactly enough room, then one byte short. */
	assert_int_equal(descriptor_build(&params, keys, out, len + 1, NULL),
			(ssize_t)len);
	assert_string_equal(out, ours);
	assert_int_equal(descriptor_build(&params, keys, out, len, NULL),
			-EMSGSIZE);
	assert_int_equal(out[0], '\0');
	assert_int_equal(descriptor_build(&params, keys, out, 0, NULL),
			-EMSGSIZE);
	/* Bandwidth above INT32_MAX is written as INT32_MAX. */
	params.bandwidth_rate = UINT64_MAX;
	params.bandwidth_observed = 5000000000ull;
	free(ours);
	ours = build(&params, &len, NULL);
	assert_non_null(strstr(ours, "\nbandwidth 2147483647 1073741824 "
			"2147483647\n"));
	free(ours);
	/* More than MAX_DESCRIPTOR_UPLOAD_SIZE: refused even with room. */
	params = tor_params();
	for (i = 0; i < 800; i++)
		family[i] = "$C0935D555E1366D3B39C982EFE47624DB9A44859";
	params.family = family;
	params.n_family = 800;
	assert_int_equal(descriptor_build(&params, keys, out,
			DESCRIPTOR_MAX_LEN + 1, NULL), -EMSGSIZE);
	free(out);
}

static void
test_curve25519_conversion(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 32; i++) {
		struct curve25519_keypair curve;
		struct ed25519_keypair ed;
		uint8_t converted[32], back[32], message[16];
		uint8_t signature[64];
		int sign_bit;

		assert_int_equal(curve25519_keypair_generate(&curve), 0);
		assert_int_equal(ed25519_keypair_from_curve25519(&ed, &sign_bit,
				&curve), 0);
		assert_true(sign_bit == 0 || sign_bit == 1);
		assert_int_equal(ed25519_public_from_curve25519(converted,
				curve.public_key, sign_bit), 0);
		assert_memory_equal(converted, ed.public_key, 32);
		assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(back,
				ed.public_key), 0);
		assert_memory_equal(back, curve.public_key, 32);
		/* The other sign is another key. */
		assert_int_equal(ed25519_public_from_curve25519(converted,
				curve.public_key, !sign_bit), 0);
		assert_memory_not_equal(converted, ed.public_key, 32);
		randombytes_buf(message, sizeof(message));
		assert_int_equal(ed25519_sign(signature, message,
				sizeof(message), &ed), 0);
		assert_int_equal(ed25519_verify(signature, message,
				sizeof(message), ed.public_key), 0);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tor_descriptor_passes_checks),
		cmocka_unit_test_setup_teardown(test_matches_tor, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_signatures_and_digest,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_order, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_family_certs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles_and_proto, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_invalid_params, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test(test_curve25519_conversion),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	vector_dir = argv[1];
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
