/* Microdescriptors (control/microdesc.c) as a real tor 0.4.9.11 authority
 * served them, matched to the microdesc consensus by digest and to the
 * relays' own key files (tests/unit/vectors/dirdoc/relays.txt). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "control/consensus.h"
#include "control/microdesc.h"
#include "dirdoc_vectors.h"

struct relay_keys {
	char nickname[20];
	uint8_t identity[20];
	uint8_t ed25519[32];
	uint8_t ntor[32];
};

static void
b64_32(const char *s, uint8_t out[32])
{
	struct dirdoc_span sp = { (const uint8_t *)s, strlen(s) };

	assert_int_equal(dirdoc_base64_decode(sp, false, out, 32), 32);
}

static size_t
load_relays(struct relay_keys *relays, size_t max)
{
	size_t len, n = 0;
	char *text = (char *)dirdoc_load("relays.txt", &len);
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line != NULL && n < max;
			line = strtok_r(NULL, "\n", &save)) {
		char nick[20], fp[41], ed[64], ntor[64];

		assert_int_equal(sscanf(line, "%19s %40s %63s %63s", nick, fp,
					ed, ntor), 4);
		strcpy(relays[n].nickname, nick);
		dirdoc_hex20(fp, relays[n].identity);
		b64_32(ed, relays[n].ed25519);
		b64_32(ntor, relays[n].ntor);
		n++;
	}
	free(text);
	return n;
}

static void
test_served_microdescs(void **state)
{
	struct relay_keys relays[5];
	size_t len, clen, n = 0;
	uint8_t *doc = dirdoc_load("microdescs", &len);
	uint8_t *cdoc = dirdoc_load("consensus-microdesc", &clen);
	struct consensus *c = NULL;
	const uint8_t *p = doc;
	struct dirdoc_error err;

	(void)state;
	assert_int_equal(load_relays(relays, 5), 5);
	assert_int_equal(consensus_parse(cdoc, clen, &c, NULL), 0);
	while (p < doc + len) {
		struct microdesc md;
		const struct consensus_router *router;
		const struct relay_keys *keys = NULL;

		if (microdesc_parse(&p, doc + len, &md, &err) != 0)
			fail_msg("%s", err.message);
		n++;
		assert_true(md.has_tap_key);
		assert_true(md.has_ed25519_id);
		assert_false(md.has_rsa1024_id);
		assert_false(md.has_family);
		assert_false(md.has_protocols);
		/* No "p" line: tor omits "p reject 1-65535". */
		assert_false(md.ipv4_policy.present);
		assert_false(microdesc_policy_allows(&md.ipv4_policy, 80));
		assert_int_equal(md.text.ptr[0], 'o');
		router = microdesc_find_router(c, &md);
		assert_non_null(router);
		for (size_t i = 0; i < 5; i++)
			if (memcmp(relays[i].identity, router->identity, 20) == 0)
				keys = &relays[i];
		assert_non_null(keys);
		assert_string_equal(router->nickname, keys->nickname);
		assert_memory_equal(md.ntor_onion_key, keys->ntor, 32);
		assert_memory_equal(md.ed25519_id, keys->ed25519, 32);
		assert_true(router->flags & CONSENSUS_FLAG_RUNNING);
		assert_true(router->flags & CONSENSUS_FLAG_VALID);
	}
	assert_int_equal(n, 5);
	consensus_free(c);
	free(cdoc);
	free(doc);
}

/* The client's cache has "@last-listed" annotations before each
 * microdescriptor; they are not part of the digest. */
static void
test_annotated_cache(void **state)
{
	size_t len, clen, n = 0, matched = 0;
	uint8_t *doc = dirdoc_load("cached-microdescs", &len);
	uint8_t *cdoc = dirdoc_load("consensus-microdesc", &clen);
	struct consensus *c = NULL;
	const uint8_t *p = doc;

	(void)state;
	assert_int_equal(doc[0], '@');
	assert_int_equal(consensus_parse(cdoc, clen, &c, NULL), 0);
	while (p < doc + len) {
		struct microdesc md;

		assert_int_equal(microdesc_parse(&p, doc + len, &md, NULL), 0);
		assert_true(md.text.ptr[0] == 'o');
		n++;
		if (microdesc_find_router(c, &md) != NULL)
			matched++;
	}
	assert_int_equal(n, 5);
	assert_int_equal(matched, 5);
	consensus_free(c);
	free(cdoc);
	free(doc);
}

static int
parse_one(const char *text, struct microdesc *md, struct dirdoc_error *err)
{
	const uint8_t *p = (const uint8_t *)text;

	return microdesc_parse(&p, p + strlen(text), md, err);
}

static void
test_without_tap_key(void **state)
{
	static const char text[] =
		"ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Egw\n"
		"family $D5DCCF70FEC1DC245F12B16A65CEC431E87C1EBA somebody\n"
		"p accept 80,443,1000-2000\n"
		"p6 reject 25\n"
		"id rsa1024 1dzPcP7B3CRfErFqZc7EMeh8Hro\n"
		"id ed25519 wzTJVRmMvCqS7CqHn8p5SsZhnI9Xt8FTXqrhBMpzu40\n"
		"id x448 ignored\n"
		"pr Link=4-5 Relay=2-4\n"
		"ntor-onion-key PTmpz58jwK5N7kQ5NNC/H3NnIqYNohSGhW9Nh2aIjxk=\n";
	const uint8_t *p = (const uint8_t *)text;
	const uint8_t *end = p + strlen(text);
	struct microdesc md;

	(void)state;
	assert_int_equal(microdesc_parse(&p, end, &md, NULL), 0);
	assert_false(md.has_tap_key);
	assert_ptr_equal(md.text.ptr, text);
	assert_int_equal(md.text.len, strstr(text, "ntor-onion-key PT") - text);
	assert_true(md.has_family);
	assert_true(md.has_rsa1024_id);
	assert_int_equal(md.rsa1024_id[0], 0xd5);
	assert_true(md.has_protocols);
	assert_true(protover_supports(&md.protocols, PROTOVER_LINK, 5));
	assert_true(microdesc_policy_allows(&md.ipv4_policy, 80));
	assert_true(microdesc_policy_allows(&md.ipv4_policy, 1500));
	assert_false(microdesc_policy_allows(&md.ipv4_policy, 999));
	assert_false(microdesc_policy_allows(&md.ipv4_policy, 2001));
	assert_false(microdesc_policy_allows(&md.ipv6_policy, 25));
	assert_true(microdesc_policy_allows(&md.ipv6_policy, 26));

	/* The second one starts at its ntor-onion-key line. */
	assert_int_equal(microdesc_parse(&p, end, &md, NULL), 0);
	assert_ptr_equal(p, end);
	assert_int_equal(md.ntor_onion_key[0], 0x3d);
	assert_false(md.has_ed25519_id);
}

static void
expect_malformed(const char *text, int code, const char *message)
{
	struct microdesc md;
	struct dirdoc_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(parse_one(text, &md, &err), code);
	if (strstr(err.message, message) == NULL)
		fail_msg("error '%s' lacks '%s'", err.message, message);
}

static void
test_malformed(void **state)
{
	(void)state;
	expect_malformed("id ed25519 wzTJVRmMvCqS7CqHn8p5SsZhnI9Xt8FTXqrhBMpzu40\n",
			-EPROTO, "without ntor-onion-key");
	expect_malformed("ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Eg\n",
			-EPROTO, "line 1: bad ntor-onion-key");
	expect_malformed("ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Egw\n"
			"id ed25519 wzTJVRmMvCqS7CqHn8p5SsZhnI9Xt8FTXqrhBMpzu40\n"
			"id ed25519 wzTJVRmMvCqS7CqHn8p5SsZhnI9Xt8FTXqrhBMpzu40\n",
			-EPROTO, "line 3: two id ed25519 lines");
	expect_malformed("ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Egw\n"
			"p accept 0\n", -EPROTO, "line 2: bad port policy");
	expect_malformed("ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Egw\n"
			"p accept 5-3\n", -EPROTO, "line 2: bad port policy");
	expect_malformed("ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Egw\n"
			"p accept 80,\n", -EPROTO, "line 2: bad port policy");
	expect_malformed("ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Egw\n"
			"p allow 80\n", -EPROTO, "line 2: policy is neither");
	expect_malformed("ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Egw\n"
			"p6 accept 80\np6 accept 80\n", -EPROTO, "line 3: two p6");
	expect_malformed("@last-listed 2026-12-01\n\n"
			"onion-key\n-----BEGIN RSA PUBLIC KEY-----\n!!!!\n"
			"-----END RSA PUBLIC KEY-----\n", -EPROTO,
			"line 3: bad onion-key");
	expect_malformed("ntor-onion-key 3iFJG+O+QiK6jLgsicQE7J/bVRhr1krDA8MFwqW+Egw\n"
			"family\n-----BEGIN X-----\nAAAA\n-----END X-----\n",
			-EPROTO, "line 2: unexpected object");
	expect_malformed("", -EPROTO, "empty microdescriptor");
	expect_malformed("@last-listed 2026-12-01", -EPROTO, "annotation");
}

static void
test_truncated(void **state)
{
	size_t len;
	uint8_t *doc = dirdoc_load("cached-microdescs", &len);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n + 1);
		const uint8_t *p = copy;
		int rc = 0;

		memcpy(copy, doc, n);
		while (rc == 0 && p < copy + n) {
			struct microdesc md;

			rc = microdesc_parse(&p, copy + n, &md, NULL);
			assert_true(rc == 0 || rc == -EPROTO || rc == -EMSGSIZE);
		}
		free(copy);
	}
	free(doc);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served_microdescs),
		cmocka_unit_test(test_annotated_cache),
		cmocka_unit_test(test_without_tap_key),
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
