/* Consensus parsing and signature checks (control/consensus.c) on the ns
 * and microdesc consensuses a real tor 0.4.9.11 authority served
 * (tests/unit/vectors/dirdoc). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "control/consensus.h"
#include "dirdoc_vectors.h"

struct fixture {
	struct authority_cert *certs[3];
	size_t n_certs;
	uint8_t authorities[8][20];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->n_certs = dirdoc_load_certs(f->certs, 3);
	for (int i = 0; i < 3; i++)
		dirdoc_hex20(dirdoc_authority_hex[i], f->authorities[i]);
	/* Identities no certificate or signature has. */
	for (int i = 3; i < 8; i++)
		memset(f->authorities[i], 0xa0 + i, 20);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->n_certs; i++)
		authority_cert_free(f->certs[i]);
	free(f);
	return 0;
}

static struct consensus *
parse_vector(const char *name)
{
	size_t len;
	uint8_t *doc = dirdoc_load(name, &len);
	struct consensus *c = NULL;
	struct dirdoc_error err;

	if (consensus_parse(doc, len, &c, &err) != 0)
		fail_msg("%s: %s", name, err.message);
	free(doc);
	return c;
}

static int
verify(const struct fixture *f, const struct consensus *c, size_t n_auth,
		size_t n_certs, time_t now, struct consensus_verify_result *r)
{
	return consensus_verify(c, (const uint8_t (*)[20])f->authorities,
			n_auth, (struct authority_cert *const *)f->certs,
			n_certs, now, r);
}

static const struct consensus_router *
router_by_hex(const struct consensus *c, const char *hex)
{
	uint8_t id[20];

	dirdoc_hex20(hex, id);
	return consensus_find_router(c, id);
}

#define RUNNING_RELAY_FLAGS (CONSENSUS_FLAG_FAST | CONSENSUS_FLAG_GUARD | \
	CONSENSUS_FLAG_HSDIR | CONSENSUS_FLAG_RUNNING | CONSENSUS_FLAG_STABLE | \
	CONSENSUS_FLAG_V2DIR | CONSENSUS_FLAG_VALID)

static void
check_common(const struct consensus *c)
{
	unsigned vote, dist;
	const struct consensus_srv *srv;
	const struct consensus_router *r;
	uint8_t id[20];

	assert_int_equal(consensus_method(c), 35);
	assert_int_equal(consensus_valid_after(c), DIRDOC_VALID_AFTER);
	assert_int_equal(consensus_fresh_until(c), DIRDOC_VALID_AFTER + 10);
	assert_int_equal(consensus_valid_until(c), DIRDOC_VALID_AFTER + 20);
	consensus_voting_delay(c, &vote, &dist);
	assert_int_equal(vote, 2);
	assert_int_equal(dist, 2);
	assert_int_equal(consensus_n_known_flags(c), 12);
	assert_string_equal(consensus_known_flag(c, 0), "Authority");
	assert_string_equal(consensus_known_flag(c, 11), "Valid");
	assert_null(consensus_known_flag(c, 12));

	assert_int_equal(consensus_n_params(c), 4);
	assert_int_equal(consensus_param(c, "hsdir_spread_store", 3, 1, 128), 4);
	assert_int_equal(consensus_param(c, "hsdir_n_replicas", 1, 1, 16), 2);
	assert_int_equal(consensus_param(c, "CircuitPriorityHalflifeMsec", -1,
				-1, INT32_MAX), 30000);
	assert_int_equal(consensus_param(c, "AuthDirMaxServersPerAddr", 7, 0,
				100), 0);
	assert_int_equal(consensus_param(c, "hsdir_spread_fetch", 3, 1, 128), 3);
	/* Out of range: clamped to the nearer bound, as tor does
	 * (networkstatus.c get_net_param_from_list). */
	assert_int_equal(consensus_param(c, "CircuitPriorityHalflifeMsec", 5,
				0, 100), 100);
	assert_int_equal(consensus_param(c, "hsdir_spread_store", 50, 10, 128), 10);

	srv = consensus_srv_current(c);
	assert_true(srv->present);
	assert_int_equal(srv->num_reveals, 3);
	/* Sz7i6lkD... */
	assert_int_equal(srv->value[0], 0x4b);
	assert_int_equal(srv->value[1], 0x3e);
	srv = consensus_srv_previous(c);
	assert_true(srv->present);
	assert_int_equal(srv->num_reveals, 3);
	/* 9JocRLvS... */
	assert_int_equal(srv->value[0], 0xf4);
	assert_int_equal(srv->value[1], 0x9a);

	assert_true(protover_supports(consensus_required_relay_protocols(c),
				PROTOVER_HSDIR, 2));
	assert_true(protover_supports(consensus_required_relay_protocols(c),
				PROTOVER_RELAY, 4));
	assert_false(protover_supports(consensus_required_relay_protocols(c),
				PROTOVER_RELAY, 5));
	assert_false(protover_supports(consensus_required_client_protocols(c),
				PROTOVER_HSDIR, 2));
	assert_true(protover_supports(consensus_recommended_client_protocols(c),
				PROTOVER_HSINTRO, 4));
	assert_false(protover_supports(consensus_recommended_client_protocols(c),
				PROTOVER_HSINTRO, 5));
	assert_true(protover_supports(consensus_recommended_relay_protocols(c),
				PROTOVER_LINKAUTH, 3));

	assert_int_equal(consensus_n_authorities(c), 3);
	assert_string_equal(consensus_authority_at(c, 0)->nickname, "a2");
	assert_int_equal(consensus_authority_at(c, 0)->dir_port, 33202);
	assert_int_equal(consensus_authority_at(c, 0)->or_port, 33102);
	assert_true(consensus_authority_at(c, 2)->has_vote_digest);
	assert_int_equal(consensus_n_signatures(c), 3);

	assert_int_equal(consensus_bandwidth_weight(c, "Wmg", -1), 4990);
	assert_int_equal(consensus_bandwidth_weight(c, "Wgg", -1), 5010);
	assert_int_equal(consensus_bandwidth_weight(c, "Wxx", -1), -1);

	/* Five routers in identity order: a0 r1 a1 r0 a2. */
	assert_int_equal(consensus_n_routers(c), 5);
	assert_string_equal(consensus_router_at(c, 0)->nickname, "a0");
	assert_string_equal(consensus_router_at(c, 1)->nickname, "r1");
	assert_string_equal(consensus_router_at(c, 4)->nickname, "a2");
	assert_null(consensus_router_at(c, 5));

	r = router_by_hex(c, "D5DCCF70FEC1DC245F12B16A65CEC431E87C1EBA");
	assert_non_null(r);
	assert_string_equal(r->nickname, "r0");
	assert_int_equal(r->ipv4, 0x7f000001);
	assert_int_equal(r->or_port, 33103);
	assert_int_equal(r->dir_port, 0);
	assert_false(r->has_ipv6);
	assert_int_equal(r->flags, RUNNING_RELAY_FLAGS);
	assert_true(r->has_bandwidth);
	assert_int_equal(r->bandwidth, 102);
	assert_true(r->bandwidth_unmeasured);
	assert_true(protover_supports(&r->protocols, PROTOVER_HSDIR, 2));
	assert_true(protover_supports(&r->protocols, PROTOVER_RELAY, 6));
	assert_false(protover_supports(&r->protocols, PROTOVER_RELAY, 7));

	r = router_by_hex(c, "46F74E96D43AD4FC501BFF664DD2F2AD5C7DAD0A");
	assert_non_null(r);
	assert_string_equal(r->nickname, "a0");
	assert_int_equal(r->dir_port, 33200);
	assert_int_equal(r->flags, RUNNING_RELAY_FLAGS | CONSENSUS_FLAG_AUTHORITY);
	/* known-flags index 0 (Authority) and 6 (Running). */
	assert_true(r->known_flag_bits & 1);
	assert_true(r->known_flag_bits & (1u << 6));

	dirdoc_hex20("583A540EEC9C56E3F98A7FB08DC3245A727D40AD", id);
	assert_true(consensus_router_has_flags(c, id, CONSENSUS_FLAG_RUNNING |
				CONSENSUS_FLAG_VALID | CONSENSUS_FLAG_HSDIR));
	assert_false(consensus_router_has_flags(c, id, CONSENSUS_FLAG_RUNNING |
				CONSENSUS_FLAG_AUTHORITY));
	id[19] ^= 1;
	assert_null(consensus_find_router(c, id));
	assert_false(consensus_router_has_flags(c, id, 0));
}

static void
test_ns_vector(void **state)
{
	const struct fixture *f = *state;
	struct consensus *c = parse_vector("consensus-ns");
	struct consensus_verify_result r;
	const struct consensus_router *router;
	time_t published;

	assert_int_equal(consensus_flavor(c), CONSENSUS_FLAVOR_NS);
	check_common(c);
	assert_int_equal(consensus_signature_at(c, 0)->alg,
			CONSENSUS_DIGEST_SHA1);
	router = router_by_hex(c, "D5DCCF70FEC1DC245F12B16A65CEC431E87C1EBA");
	/* r0 ... yxkw2KhncbKLn6WXTQRdr06qLsI 2026-12-01 00:50:41 */
	assert_int_equal(router->digest[0], 0xcb);
	assert_int_equal(router->digest[19], 0xc2);
	published = DIRDOC_VALID_AFTER - (5 * 60 + 29);
	assert_int_equal(router->published, published);
	assert_null(consensus_find_by_microdesc_digest(c, router->digest));

	assert_int_equal(verify(f, c, 3, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(r.n_valid, 3);
	assert_int_equal(r.n_bad + r.n_missing_cert + r.n_bad_cert +
			r.n_unknown_authority + r.n_unknown_alg, 0);
	consensus_free(c);
}

static void
test_microdesc_vector(void **state)
{
	const struct fixture *f = *state;
	struct consensus *c = parse_vector("consensus-microdesc");
	struct consensus_verify_result r;
	const struct consensus_router *router;

	assert_int_equal(consensus_flavor(c), CONSENSUS_FLAVOR_MICRODESC);
	check_common(c);
	assert_int_equal(consensus_signature_at(c, 0)->alg,
			CONSENSUS_DIGEST_SHA256);
	router = router_by_hex(c, "D5DCCF70FEC1DC245F12B16A65CEC431E87C1EBA");
	/* m cgf18LtQ...5A4 */
	assert_int_equal(router->digest[0], 0x72);
	assert_int_equal(router->digest[31], 0x0e);
	/* Fixed since consensus method 33. */
	assert_int_equal(router->published, 2145916800);
	assert_ptr_equal(consensus_find_by_microdesc_digest(c, router->digest),
			router);

	assert_int_equal(verify(f, c, 3, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(r.n_valid, 3);
	consensus_free(c);
}

/* Copy of the vector with the first occurrence of from replaced by to. */
static char *
edited_vector(const char *name, const char *from, const char *to)
{
	size_t len;
	char *text = (char *)dirdoc_load(name, &len);
	char *at = strstr(text, from);
	char *out;
	size_t head;

	assert_non_null(at);
	head = (size_t)(at - text);
	out = malloc(len - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, text, head);
	memcpy(out + head, to, strlen(to));
	strcpy(out + head + strlen(to), at + strlen(from));
	free(text);
	return out;
}

static struct consensus *
parse_text(const char *text)
{
	struct consensus *c = NULL;
	struct dirdoc_error err;

	if (consensus_parse((const uint8_t *)text, strlen(text), &c, &err) != 0)
		fail_msg("%s", err.message);
	return c;
}

static void
test_one_byte_changes(void **state)
{
	static const struct {
		const char *name, *from, *to;
	} edits[] = {
		{ "consensus-ns", "Bandwidth=102", "Bandwidth=103" },
		{ "consensus-ns", "valid-until 2026-12-01 00:56:30",
			"valid-until 2026-12-01 00:56:31" },
		{ "consensus-ns", "Wmm=10000", "Wmm=10001" },
		{ "consensus-microdesc", "m cgf18LtQ", "m cgf18LtR" },
		{ "consensus-microdesc", "s Fast Guard HSDir Running Stable",
			"s Fast Guard HSDir Running Sybil" },
		/* The space after the first "directory-signature" is signed. */
		{ "consensus-microdesc", "\ndirectory-signature sha256",
			"\ndirectory-signature\tsha256" },
	};
	const struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *text = edited_vector(edits[i].name, edits[i].from,
				edits[i].to);
		struct consensus *c = parse_text(text);
		struct consensus_verify_result r;

		assert_int_equal(verify(f, c, 3, 3, DIRDOC_NOW, &r), -EBADMSG);
		assert_int_equal(r.n_valid, 0);
		assert_int_equal(r.n_bad, 3);
		consensus_free(c);
		free(text);
	}
}

static void
test_signature_line_edits(void **state)
{
	const struct fixture *f = *state;
	struct consensus_verify_result r;
	char *text;
	struct consensus *c;

	(void)state;
	/* a2's signing key digest changed: its certificate is not found;
	 * a1 and a0 still make a majority of three. */
	text = edited_vector("consensus-ns",
			"66A999D1C9D87E47D330BA99607FC2ECA1D581CB",
			"66A999D1C9D87E47D330BA99607FC2ECA1D581CC");
	c = parse_text(text);
	assert_int_equal(verify(f, c, 3, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(r.n_valid, 2);
	assert_int_equal(r.n_missing_cert, 1);
	consensus_free(c);
	free(text);

	/* The signed part ends at the space after the first
	 * "directory-signature": what follows it is not signed. */
	text = edited_vector("consensus-microdesc", "directory-signature sha256",
			"directory-signature  sha256");
	c = parse_text(text);
	assert_int_equal(verify(f, c, 3, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(r.n_valid, 3);
	consensus_free(c);
	free(text);

	/* One byte of a0's signature. */
	text = edited_vector("consensus-microdesc", "EOIRDz9hW86q", "EOIRDz9hW86r");
	c = parse_text(text);
	assert_int_equal(verify(f, c, 3, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(r.n_valid, 2);
	assert_int_equal(r.n_bad, 1);
	consensus_free(c);
	free(text);

	/* An unknown algorithm is ignored (dir-spec 3.4.1). */
	text = edited_vector("consensus-microdesc", "directory-signature sha256 873C",
			"directory-signature sha3 873C");
	c = parse_text(text);
	assert_int_equal(verify(f, c, 3, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(r.n_valid, 2);
	assert_int_equal(r.n_unknown_alg, 1);
	consensus_free(c);
	free(text);
}

static void
test_too_few_signatures(void **state)
{
	const struct fixture *f = *state;
	struct consensus *c = parse_vector("consensus-ns");
	struct consensus_verify_result r;
	size_t len;
	char *text;
	char *second;

	/* Three real signatures: enough of 3 or 5 configured, not of 6 or 7. */
	assert_int_equal(verify(f, c, 5, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(verify(f, c, 6, 3, DIRDOC_NOW, &r), -EBADMSG);
	assert_int_equal(r.n_valid, 3);
	assert_int_equal(verify(f, c, 7, 3, DIRDOC_NOW, &r), -EBADMSG);
	/* Only a0 configured: the other two signatures are unknown. */
	assert_int_equal(verify(f, c, 1, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(r.n_valid, 1);
	assert_int_equal(r.n_unknown_authority, 2);
	assert_int_equal(verify(f, c, 0, 3, DIRDOC_NOW, &r), -EBADMSG);
	/* Only a2's certificate (first in keys-all) known. */
	assert_int_equal(verify(f, c, 3, 1, DIRDOC_NOW, &r), -EBADMSG);
	assert_int_equal(r.n_valid, 1);
	assert_int_equal(r.n_missing_cert, 2);
	/* All certificates expired. */
	assert_int_equal(verify(f, c, 3, 3, DIRDOC_A0_EXPIRES + 3600, &r),
			-EBADMSG);
	assert_int_equal(r.n_bad_cert, 3);
	consensus_free(c);

	/* The document with only its first signature. */
	text = (char *)dirdoc_load("consensus-ns", &len);
	second = strstr(strstr(text, "\ndirectory-signature ") + 1,
			"\ndirectory-signature ");
	assert_non_null(second);
	second[1] = '\0';
	c = parse_text(text);
	assert_int_equal(consensus_n_signatures(c), 1);
	assert_int_equal(verify(f, c, 3, 3, DIRDOC_NOW, &r), -EBADMSG);
	assert_int_equal(r.n_valid, 1);
	consensus_free(c);
	free(text);
}

static void
test_duplicate_signature_counts_once(void **state)
{
	const struct fixture *f = *state;
	size_t len;
	char *text = (char *)dirdoc_load("consensus-ns", &len);
	char *last = strstr(text, "directory-signature 873C");
	char *doubled = malloc(2 * len);
	struct consensus_verify_result r;
	struct consensus *c;

	assert_non_null(last);
	assert_non_null(doubled);
	/* Append a second copy of a0's signature. */
	memcpy(doubled, text, len);
	memcpy(doubled + len, last, strlen(last) + 1);
	c = parse_text(doubled);
	assert_int_equal(consensus_n_signatures(c), 4);
	assert_int_equal(verify(f, c, 5, 3, DIRDOC_NOW, &r), 0);
	assert_int_equal(r.n_valid, 3);
	/* 3 of 6 is not a majority, however often a0 signs. */
	assert_int_equal(verify(f, c, 6, 3, DIRDOC_NOW, &r), -EBADMSG);
	consensus_free(c);
	free(doubled);
	free(text);
}

static void
test_time(void **state)
{
	struct consensus *c = parse_vector("consensus-microdesc");
	time_t until = DIRDOC_VALID_AFTER + 20;

	(void)state;
	assert_int_equal(consensus_check_time(c, DIRDOC_NOW, 0), 0);
	assert_int_equal(consensus_check_time(c, DIRDOC_VALID_AFTER - 1, 0),
			-EAGAIN);
	assert_int_equal(consensus_check_time(c, DIRDOC_VALID_AFTER - 60, 60),
			0);
	assert_int_equal(consensus_check_time(c,
				until + CONSENSUS_REASONABLY_LIVE_SECS, 0), 0);
	assert_int_equal(consensus_check_time(c,
				until + CONSENSUS_REASONABLY_LIVE_SECS + 1, 0),
			-ESTALE);
	consensus_free(c);
}

static void
expect_malformed(const char *name, const char *from, const char *to,
		int code, const char *message)
{
	char *text = edited_vector(name, from, to);
	struct consensus *c = NULL;
	struct dirdoc_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = consensus_parse((const uint8_t *)text, strlen(text), &c, &err);
	if (rc != code)
		fail_msg("edit '%s': rc %d (%s)", to, rc, err.message);
	assert_null(c);
	if (strstr(err.message, message) == NULL)
		fail_msg("error '%s' lacks '%s'", err.message, message);
	free(text);
}

static void
test_malformed(void **state)
{
	(void)state;
	expect_malformed("consensus-ns", "network-status-version 3",
			"network-status-version 4", -EPROTO, "line 1:");
	expect_malformed("consensus-ns", "network-status-version 3",
			"network-status-version 3 unknown", -EPROTO,
			"line 1: unknown consensus flavour");
	expect_malformed("consensus-ns", "vote-status consensus",
			"vote-status vote", -EPROTO,
			"line 2: vote-status is not consensus");
	expect_malformed("consensus-ns", "valid-after 2026-12-01 00:56:10",
			"valid-after 2026-12-01 00:56", -EPROTO, "line 4: bad time");
	expect_malformed("consensus-ns", "fresh-until",
			"fresh-until 2026-12-01 00:56:20\nfresh-until", -EPROTO,
			"line 6: fresh-until appears twice");
	expect_malformed("consensus-ns", "known-flags", "x-known-flags", -EPROTO,
			"header lacks known-flags");
	expect_malformed("consensus-ns", "params AuthDirMaxServersPerAddr=0",
			"params AuthDirMaxServersPerAddr=x", -EPROTO,
			"line 15: bad Keyword=Int32");
	expect_malformed("consensus-ns", "shared-rand-current-value 3 Sz7i",
			"shared-rand-current-value 3 Sz7", -EPROTO,
			"line 17: bad shared random value");
	expect_malformed("consensus-ns", "s Fast Guard HSDir Running Stable",
			"s Fast Guard HSDir Running Lucky", -EPROTO,
			"flag not in known-flags");
	expect_malformed("consensus-ns", "r r1 WDpUDuyc", "r r1 vDpUDuyc",
			-EPROTO, "not sorted by identity");
	expect_malformed("consensus-ns", "r r1 WDpUDuycVuP5in+wjcMkWnJ9QK0",
			"r r1 WDpUDuycVuP5in+wjcMkWnJ9QK", -EPROTO, "bad r line");
	expect_malformed("consensus-ns", "127.0.0.1 33104 0",
			"127.0.0.1 33104 65536", -EPROTO, "bad r line");
	expect_malformed("consensus-microdesc",
			"m +eoqJP3nXP6nfjrqLDplhqkMo1cYopehHndqh5x4w6s\n", "",
			-EPROTO, "router r1 needs exactly one m line");
	expect_malformed("consensus-microdesc", "\ns Fast", "\nx-s Fast",
			-EPROTO, "router r1 needs exactly one s line");
	expect_malformed("consensus-ns", "pr Conflux=1 Cons=1-2",
			"pr Conflux=1 Cons=1-64", -EPROTO, "bad pr line");
	expect_malformed("consensus-ns", "directory-signature 873C",
			"directory-signature 973C", -EPROTO,
			"signature by an authority without dir-source");
	expect_malformed("consensus-ns", "directory-signature 873C",
			"x-late 1\ndirectory-signature 873C", -EPROTO,
			"item after directory-signature");
	expect_malformed("consensus-ns", "directory-footer\n",
			"directory-footer 1\n", -EPROTO,
			"misplaced directory-footer");
	expect_malformed("consensus-ns", "directory-footer\n",
			"directory-footer\n-----BEGIN X-----\nAAAA\n-----END X-----\n",
			-EPROTO, "unexpected object after directory-footer");
	expect_malformed("consensus-ns", "dir-source a2 259F",
			"dir-source a2 259", -EPROTO, "line 18: bad dir-source");
}

static void
test_unsigned(void **state)
{
	size_t len;
	char *text = (char *)dirdoc_load("consensus-ns", &len);
	char *footer_end = strstr(text, "\ndirectory-signature ");
	struct consensus *c = NULL;
	struct dirdoc_error err;

	(void)state;
	assert_non_null(footer_end);
	footer_end[1] = '\0';
	assert_int_equal(consensus_parse((const uint8_t *)text, strlen(text),
				&c, &err), -EPROTO);
	assert_null(c);
	assert_non_null(strstr(err.message, "no directory-signature"));
	free(text);
}

/* A synthetic microdesc consensus with n routers (identities 0, 1, 2...
 * big-endian) and one unverifiable signature by its only dir-source. */
static char *
synthetic_consensus(size_t n, size_t *len)
{
	static const char header[] =
		"network-status-version 3 microdesc\n"
		"vote-status consensus\n"
		"valid-after 2026-12-01 00:00:00\n"
		"fresh-until 2026-12-01 01:00:00\n"
		"valid-until 2026-12-01 03:00:00\n"
		"voting-delay 300 300\n"
		"known-flags Running Valid\n"
		"dir-source a0 873C6F75EDB09F2AD6D1D264059DF6BC0F18E0AB 127.0.0.1 127.0.0.1 1 2\n";
	size_t cap = sizeof(header) + n * 160 + 1024;
	char *out = malloc(cap);
	size_t off;
	uint8_t sig[128] = { 0 };
	char sig_b64[256];

	assert_non_null(out);
	off = (size_t)snprintf(out, cap, "%s", header);
	for (size_t i = 0; i < n; i++) {
		uint8_t id[20] = { 0 };
		uint8_t md[32] = { 0 };
		char id_b64[32], md_b64[48];

		id[0] = (uint8_t)(i >> 24);
		id[1] = (uint8_t)(i >> 16);
		id[2] = (uint8_t)(i >> 8);
		id[3] = (uint8_t)i;
		memcpy(md, id, 4);
		EVP_EncodeBlock((unsigned char *)id_b64, id, 20);
		EVP_EncodeBlock((unsigned char *)md_b64, md, 32);
		off += (size_t)snprintf(out + off, cap - off,
				"r n%zu %s 2038-01-01 00:00:00 10.0.0.1 9001 0\n"
				"m %s\ns Running Valid\npr Link=4-5\n",
				i, id_b64, md_b64);
	}
	EVP_EncodeBlock((unsigned char *)sig_b64, sig, sizeof(sig));
	off += (size_t)snprintf(out + off, cap - off,
			"directory-footer\n"
			"directory-signature sha256 873C6F75EDB09F2AD6D1D264059DF6BC0F18E0AB "
			"6A6F34E19C298AD01E1192A5CAC1C1AB84EEEE0C\n"
			"-----BEGIN SIGNATURE-----\n%s\n-----END SIGNATURE-----\n",
			sig_b64);
	assert_true(off < cap);
	*len = off;
	return out;
}

static void
test_router_limit(void **state)
{
	const struct fixture *f = *state;
	struct consensus *c = NULL;
	struct consensus_verify_result r;
	struct dirdoc_error err;
	size_t len;
	char *text = synthetic_consensus(CONSENSUS_MAX_ROUTERS, &len);
	uint8_t id[20] = { 0 };

	assert_int_equal(consensus_parse((const uint8_t *)text, len, &c, &err),
			0);
	assert_int_equal(consensus_n_routers(c), CONSENSUS_MAX_ROUTERS);
	id[2] = 0x12;
	id[3] = 0x34;
	assert_string_equal(consensus_find_router(c, id)->nickname, "n4660");
	assert_true(consensus_router_has_flags(c, id, CONSENSUS_FLAG_RUNNING |
				CONSENSUS_FLAG_VALID));
	assert_false(consensus_router_has_flags(c, id, CONSENSUS_FLAG_GUARD));
	assert_int_equal(verify(f, c, 1, 3, DIRDOC_NOW, &r), -EBADMSG);
	assert_int_equal(r.n_bad, 1);
	consensus_free(c);
	free(text);

	text = synthetic_consensus(CONSENSUS_MAX_ROUTERS + 1, &len);
	c = NULL;
	assert_int_equal(consensus_parse((const uint8_t *)text, len, &c, &err),
			-EMSGSIZE);
	assert_null(c);
	assert_non_null(strstr(err.message, "more than 20000 routers"));
	free(text);
}

/* Every truncation fails cleanly, except the two that end right after a
 * signature: those are complete documents with one or two signatures. */
static void
test_truncated(void **state)
{
	static const char sig_end[] = "-----END SIGNATURE-----\n";
	size_t len, complete = 0;
	uint8_t *doc = dirdoc_load("consensus-microdesc", &len);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n + 1);
		struct consensus *c = NULL;
		int rc;

		memcpy(copy, doc, n);
		rc = consensus_parse(copy, n, &c, NULL);
		if (rc == 0) {
			assert_true(n >= strlen(sig_end));
			assert_memory_equal(copy + n - strlen(sig_end), sig_end,
					strlen(sig_end));
			assert_int_equal(consensus_n_signatures(c), ++complete);
			consensus_free(c);
		} else {
			assert_true(rc == -EPROTO || rc == -EMSGSIZE);
			assert_null(c);
		}
		free(copy);
	}
	assert_int_equal(complete, 2);
	free(doc);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_vector),
		cmocka_unit_test(test_microdesc_vector),
		cmocka_unit_test(test_one_byte_changes),
		cmocka_unit_test(test_signature_line_edits),
		cmocka_unit_test(test_too_few_signatures),
		cmocka_unit_test(test_duplicate_signature_counts_once),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_router_limit),
		cmocka_unit_test(test_truncated),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	dirdoc_vector_dir = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
