/* control/consdiff: consensus diffs in tor's format (dir-spec "Consensus
 * diffs", tor's consdiff.c): an exact diff of two small documents, a real
 * tor 0.4.9 consensus (vectors/dirdoc) changed the way the next one
 * changes, a large synthetic pair (size and generation time printed), the
 * generator's refusals, and every rule tor's applier enforces. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/consdiff.h"
#include "crypto/kdf.h"
#include "dirdoc_vectors.h"

/* SHA3-256 of a document as signed: through the space after the first
 * "directory-signature" that starts a line. */
static void
digest_as_signed(const char *doc, size_t len, uint8_t out[32])
{
	const char *sig = strstr(doc, "\ndirectory-signature ");
	size_t signed_len = sig != NULL ? (size_t)(sig - doc) + strlen("\ndirectory-signature ")
					: len;

	assert_int_equal(kdf_sha3_256(doc, signed_len, out), 0);
}

static void
digests(const char *base, size_t base_len, const char *target, size_t target_len,
		uint8_t d1[32], uint8_t d2[32])
{
	digest_as_signed(base, base_len, d1);
	assert_int_equal(kdf_sha3_256(target, target_len, d2), 0);
}

static char *
hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02X", d[i]);
	return out;
}

/* Generates, checks the header, applies and compares with target; returns
 * the diff, NUL-terminated (caller frees). */
static char *
round_trip(const char *base, size_t base_len, const char *target, size_t target_len,
		size_t *diff_len)
{
	uint8_t d1[32], d2[32], h1[32], h2[32], *diff, *result;
	size_t result_len;
	char header[200], x1[65], x2[65];

	digests(base, base_len, target, target_len, d1, d2);
	assert_int_equal(consdiff_generate((const uint8_t *)base, base_len,
			(const uint8_t *)target, target_len, d1, d2, &diff, diff_len), 0);
	snprintf(header, sizeof(header), "network-status-diff-version 1\nhash %s %s\n",
			hex(d1, x1), hex(d2, x2));
	assert_true(*diff_len > strlen(header));
	assert_memory_equal(diff, header, strlen(header));
	assert_int_equal(consdiff_apply((const uint8_t *)base, base_len, diff, *diff_len, h1, h2,
			&result, &result_len), 0);
	assert_memory_equal(h1, d1, 32);
	assert_memory_equal(h2, d2, 32);
	assert_int_equal(result_len, target_len);
	assert_memory_equal(result, target, target_len);
	free(result);
	/* NUL-terminated for the string checks. */
	diff = realloc(diff, *diff_len + 1);
	assert_non_null(diff);
	diff[*diff_len] = '\0';
	return (char *)diff;
}

static const char small_base[] =
	"network-status-version 3 microdesc\n"
	"valid-after 2026-12-02 21:00:00\n"
	"r a AAAA 2026-12-02 20:00:00 10.0.0.1 9001 0\n"
	"m aaaa\n"
	"s Fast Running\n"
	"r b BBBB 2026-12-02 20:00:00 10.0.0.2 9001 0\n"
	"m bbbb\n"
	"s Running\n"
	"r d DDDD 2026-12-02 20:00:00 10.0.0.4 9001 0\n"
	"m dddd\n"
	"s Running\n"
	"directory-footer\n"
	"directory-signature sha256 X1 Y1\n"
	"-----BEGIN SIGNATURE-----\n"
	"b2xk\n"
	"-----END SIGNATURE-----\n";

/* valid-after changes, b's flags change, c is added, d is gone, new
 * signatures. */
static const char small_target[] =
	"network-status-version 3 microdesc\n"
	"valid-after 2026-12-02 22:00:00\n"
	"r a AAAA 2026-12-02 20:00:00 10.0.0.1 9001 0\n"
	"m aaaa\n"
	"s Fast Running\n"
	"r b BBBB 2026-12-02 20:00:00 10.0.0.2 9001 0\n"
	"m bbbb\n"
	"s Fast Running Stable\n"
	"r c CCCC 2026-12-02 21:30:00 10.0.0.3 9001 0\n"
	"m cccc\n"
	"s Running\n"
	"directory-footer\n"
	"directory-signature sha256 X1 Y1\n"
	"-----BEGIN SIGNATURE-----\n"
	"bmV3\n"
	"-----END SIGNATURE-----\n";

static void
test_small_exact(void **state)
{
	size_t len;
	char *diff = round_trip(small_base, strlen(small_base), small_target,
			strlen(small_target), &len);
	const char *body = strchr(strchr(diff, '\n') + 1, '\n') + 1;

	(void)state;
	/* The base's signatures (lines 13-16) go first; then, from the end:
	 * the new signatures after the footer; b's flags, d's "r" and "m"
	 * (8-10) become b's new flags and c's "r" and "m", d's "s Running"
	 * staying as c's (the longest common subsequence keeps it);
	 * valid-after (2). */
	assert_string_equal(body,
			"13,$d\n"
			"12a\n"
			"directory-signature sha256 X1 Y1\n"
			"-----BEGIN SIGNATURE-----\n"
			"bmV3\n"
			"-----END SIGNATURE-----\n"
			".\n"
			"8,10c\n"
			"s Fast Running Stable\n"
			"r c CCCC 2026-12-02 21:30:00 10.0.0.3 9001 0\n"
			"m cccc\n"
			".\n"
			"2c\n"
			"valid-after 2026-12-02 22:00:00\n"
			".\n");
	assert_int_equal(strlen(diff), len);
	free(diff);
}

/* The real consensus with what the next one of a network changes:
 * times, one router gone, one router's flags, a new router, parameters,
 * signatures. */
static void
test_real_consensus(void **state)
{
	size_t len, diff_len;
	char *base = (char *)dirdoc_load("consensus-microdesc", &len);
	char *target = malloc(len + 4096), *w = target, *diff;
	const char *p = base, *line_end;
	int routers = 0;
	bool in_signature = false;

	(void)state;
	assert_non_null(target);
	for (; *p != '\0'; p = line_end + 1) {
		size_t n;

		line_end = strchr(p, '\n');
		assert_non_null(line_end);
		n = (size_t)(line_end - p) + 1;
		if (strncmp(p, "valid-after ", 12) == 0) {
			w += sprintf(w, "valid-after 2026-12-01 00:56:20\n");
			continue;
		}
		if (strncmp(p, "r ", 2) == 0 && ++routers == 2) {
			/* Router 2 is gone: skip it up to the next entry. */
			while (strncmp(line_end + 1, "r ", 2) != 0)
				line_end = strchr(line_end + 1, '\n');
			continue;
		}
		if (strncmp(p, "s ", 2) == 0 && routers == 3) {
			w += sprintf(w, "s Fast Running Stable Valid\n");
			continue;
		}
		if (strncmp(p, "directory-footer", 16) == 0) {
			/* A new router, its identity after every other one. */
			w += sprintf(w, "r newrelay ////////////////////////////w 2026-12-01 00:56:15 "
					"127.0.0.1 5999 0\nm AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
					"s Running Valid\nv Tor 0.4.9.11\npr Relay=2-4\nw Bandwidth=20\n");
		}
		/* Other signatures: one line of each replaced. */
		if (strncmp(p, "-----END SIGNATURE-----", 23) == 0)
			in_signature = false;
		if (in_signature) {
			w += sprintf(w, "c2lnbmF0dXJlIG9mIHRoZSBuZXh0IGNvbnNlbnN1cw==\n");
			while (strncmp(line_end + 1, "-----END SIGNATURE-----", 23) != 0)
				line_end = strchr(line_end + 1, '\n');
			continue;
		}
		if (strncmp(p, "-----BEGIN SIGNATURE-----", 25) == 0)
			in_signature = true;
		memcpy(w, p, n);
		w += n;
	}
	assert_int_equal(routers, 5);
	diff = round_trip(base, len, target, (size_t)(w - target), &diff_len);
	assert_true(diff_len < (size_t)(w - target) / 2);
	/* Only the base's signatures go with "$". */
	assert_non_null(strstr(diff, ",$d\n"));
	assert_null(strstr(strstr(diff, ",$d\n") + 4, "$"));
	free(diff);
	free(target);
	free(base);
}

/* Identities in base64 order: 23 'A' and id in four base64 digits. */
static void
synthetic_identity(unsigned id, char out[28])
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(out, 'A', 23);
	for (int k = 0; k < 4; k++)
		out[23 + k] = digits[(id >> (6 * (3 - k))) & 63];
	out[27] = '\0';
}

static size_t
synthetic_router(char *w, unsigned id, unsigned version)
{
	char identity[28];

	synthetic_identity(id, identity);
	return (size_t)sprintf(w,
			"r relay%u %s 2026-12-02 %02u:00:00 10.%u.%u.%u 9001 0\n"
			"m %08u%08uAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			"s Fast Guard HSDir Running Stable V2Dir Valid\n"
			"v Tor 0.4.9.%u\n"
			"pr Conflux=1 Cons=1-2 Desc=1-2 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4-5 "
			"HSRend=1-2 Link=1-5 LinkAuth=1,3 Microdesc=1-2 Padding=2 Relay=1-4\n"
			"w Bandwidth=%u\n",
			id, identity, version % 24, id & 255, (id >> 8) & 255, 1 + version % 7,
			id, version, version % 12, 1000 + (id * 31 + version * 7) % 50000);
}

/* 6000 routers; the next consensus drops 3 %, adds 3 % and changes the
 * bandwidth of a third and the descriptor of 5 %. */
static char *
synthetic_consensus(unsigned next, size_t *len)
{
	char *doc = malloc(6000 * 420 + 4096), *w = doc;

	assert_non_null(doc);
	w += sprintf(w, "network-status-version 3 microdesc\nvalid-after 2026-12-02 %02u:00:00\n",
			21 + next);
	for (unsigned i = 0; i < 6200; i++) {
		bool in_base = i % 33 != 5 && i < 6000;
		bool in_next = i % 33 != 7 && (i < 6000 || i % 33 < 7);

		if (!(next ? in_next : in_base))
			continue;
		w += synthetic_router(w, i, next && i % 20 == 3 ? 2 : (next && i % 3 == 0 ? 1 : 0));
	}
	w += sprintf(w, "directory-footer\nbandwidth-weights Wbd=0\n"
			"directory-signature sha256 A B\n-----BEGIN SIGNATURE-----\n%s\n"
			"-----END SIGNATURE-----\n", next ? "bmV4dA==" : "YmFzZQ==");
	*len = (size_t)(w - doc);
	return doc;
}

static void
test_large_pair(void **state)
{
	size_t base_len, target_len, diff_len;
	char *base = synthetic_consensus(0, &base_len);
	char *target = synthetic_consensus(1, &target_len);
	struct timespec t0, t1;
	char *diff;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	diff = round_trip(base, base_len, target, target_len, &diff_len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# consdiff: base %zu bytes, target %zu bytes, diff %zu bytes (%.1f %%); "
			"generated, checked and applied again in %.1f ms\n",
			base_len, target_len, diff_len, 100.0 * (double)diff_len / (double)target_len,
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
					(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	/* A third of the routers changed one line: the diff is well under
	 * half of the target. */
	assert_true(diff_len < target_len / 3);
	free(diff);
	free(base);
	free(target);
}

static void
test_generate_refuses(void **state)
{
	static const char unsorted[] =
		"h\nr b BBBB x\nr a AAAA x\ndirectory-signature a b\n";
	static const char dot[] = "h\n.\ndirectory-signature a b\n";
	static const char no_newline[] = "h\nr a AAAA x";
	uint8_t d[32] = { 0 }, *out = NULL;
	size_t out_len;

	(void)state;
	assert_int_equal(consdiff_generate((const uint8_t *)small_base, strlen(small_base),
			(const uint8_t *)unsorted, strlen(unsorted), d, d, &out, &out_len), -EINVAL);
	assert_int_equal(consdiff_generate((const uint8_t *)unsorted, strlen(unsorted),
			(const uint8_t *)small_base, strlen(small_base), d, d, &out, &out_len), -EINVAL);
	assert_int_equal(consdiff_generate((const uint8_t *)small_base, strlen(small_base),
			(const uint8_t *)dot, strlen(dot), d, d, &out, &out_len), -EINVAL);
	assert_int_equal(consdiff_generate((const uint8_t *)small_base, strlen(small_base),
			(const uint8_t *)no_newline, strlen(no_newline), d, d, &out, &out_len),
			-EINVAL);
	assert_null(out);
}

#define HASH_LINE "hash " \
	"0000000000000000000000000000000000000000000000000000000000000000 " \
	"1111111111111111111111111111111111111111111111111111111111111111\n"
#define VERSION_LINE "network-status-diff-version 1\n"

static const char five[] = "one\ntwo\nthree\nfour\nfive\n";

static int
apply(const char *diff, char **out)
{
	uint8_t d1[32], d2[32], *result = NULL;
	size_t len;
	int rc = consdiff_apply((const uint8_t *)five, strlen(five), (const uint8_t *)diff,
			strlen(diff), d1, d2, &result, &len);

	if (rc == 0) {
		*out = malloc(len + 1);
		assert_non_null(*out);
		memcpy(*out, result, len);
		(*out)[len] = '\0';
		free(result);
	}
	return rc;
}

static void
test_apply_rules(void **state)
{
	/* Each breaks one rule of tor's consdiff_apply_diff. */
	static const char *const bad[] = {
		"network-status-diff-version 2\n" HASH_LINE,
		VERSION_LINE,
		VERSION_LINE "hash 00 11\n",
		VERSION_LINE "hash  0000000000000000000000000000000000000000000000000000000000000000"
			" 1111111111111111111111111111111111111111111111111111111111111111\n",
		VERSION_LINE "hash 000000000000000000000000000000000000000000000000000000000000000g"
			" 1111111111111111111111111111111111111111111111111111111111111111\n",
		VERSION_LINE HASH_LINE "d\n",			/* no line number */
		VERSION_LINE HASH_LINE "6d\n",			/* past the end */
		VERSION_LINE HASH_LINE "2d\n4d\n",		/* increasing order */
		VERSION_LINE HASH_LINE "3,2d\n",		/* end <= start */
		VERSION_LINE HASH_LINE "3,3d\n",
		VERSION_LINE HASH_LINE "3,$c\nx\n.\n",	/* $ with c */
		VERSION_LINE HASH_LINE "2,3a\nx\n.\n",	/* range with a */
		VERSION_LINE HASH_LINE "2a\n.\n",		/* nothing inserted */
		VERSION_LINE HASH_LINE "2a\nx\n",		/* no final "." */
		VERSION_LINE HASH_LINE "2x\n",			/* unknown command */
		VERSION_LINE HASH_LINE "2dd\n",		/* two characters */
		VERSION_LINE HASH_LINE "2\n",			/* no command */
		VERSION_LINE HASH_LINE "0d\n",
		VERSION_LINE HASH_LINE "99999999999d\n",	/* beyond INT32_MAX */
		VERSION_LINE HASH_LINE
			"0000000000000000000000000000000000000000000000000000000000000000000"
			"0000000000000000000000000000000000000000000000000000000000003d\n",
		VERSION_LINE HASH_LINE "2d",			/* no final newline */
	};
	char *out = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (apply(bad[i], &out) != -EBADMSG) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			fail();
		}
	}
	/* And what is allowed. */
	assert_int_equal(apply(VERSION_LINE HASH_LINE "4,$d\n2c\nTWO\n.\n0a\nzero\n.\n", &out), 0);
	assert_string_equal(out, "zero\none\nTWO\nthree\n");
	free(out);
	assert_int_equal(apply(VERSION_LINE HASH_LINE "5a\nsix\n.\n3d\n", &out), 0);
	assert_string_equal(out, "one\ntwo\nfour\nfive\nsix\n");
	free(out);
	/* An inserted line may look like a command; lowercase hex too. */
	assert_int_equal(apply(VERSION_LINE "hash "
			"abcdef0000000000000000000000000000000000000000000000000000000000 "
			"1111111111111111111111111111111111111111111111111111111111111111\n"
			"1,5c\n3d\n..\n.\n", &out), 0);
	assert_string_equal(out, "3d\n..\n");
	free(out);
	assert_int_equal(apply(VERSION_LINE HASH_LINE, &out), 0);
	assert_string_equal(out, five);
	free(out);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_exact),
		cmocka_unit_test(test_real_consensus),
		cmocka_unit_test(test_large_pair),
		cmocka_unit_test(test_generate_refuses),
		cmocka_unit_test(test_apply_rules),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 1;
	}
	dirdoc_vector_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
