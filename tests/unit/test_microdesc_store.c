/* control/microdesc_store with documents a tor 0.4.9.11 network served
 * (vectors/dirdoc): the fetch URL for a consensus' "m" digests, an
 * authority's /tor/micro/d/ answer kept, and dir_server's answer from the
 * store byte-identical to the authority's; wrong digests, retention over
 * consensuses, bounds of the URL builder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/consensus.h"
#include "control/dir_server.h"
#include "control/microdesc_store.h"
#include "dirdoc_vectors.h"

/* The five "m" lines of vectors/dirdoc/consensus-microdesc, in consensus
 * order, joined as tor's client joins them. */
static const char consensus_m_url[] =
	"/tor/micro/d/w2Oe/5DwtZ1tA+udsgdEwnBOJGMdzfOY1D+BcIRKn9o-"
	"+eoqJP3nXP6nfjrqLDplhqkMo1cYopehHndqh5x4w6s-"
	"Y07ud08mxNr6BJ73uC3XoRKpE/ZS2eTmwTAx3lN8ZyA-"
	"cgf18LtQawIhx33IfPGL3LVHB5Us/CLZpcbkLqKj5A4-"
	"leq/6jcWGQqkPcxo5as8kssV0rkHyWWp3qbcrLpH3VQ";

static struct consensus *
load_consensus(void)
{
	size_t len;
	uint8_t *doc = dirdoc_load("consensus-microdesc", &len);
	struct consensus *c = NULL;

	assert_int_equal(consensus_parse(doc, len, &c, NULL), 0);
	free(doc);
	return c;
}

static int
store_microdesc(void *ctx, const uint8_t *digest, const uint8_t **text,
		size_t *len)
{
	return microdesc_store_get(ctx, digest, text, len);
}

static void
test_fetch_and_serve(void **state)
{
	struct consensus *c = load_consensus();
	struct microdesc_store *s = microdesc_store_new();
	uint8_t missing[8][MICRODESC_DIGEST_LEN];
	char url[MICRODESC_STORE_URL_MAX], request[MICRODESC_STORE_URL_MAX + 128];
	size_t answer_len, n;
	uint8_t *answer = dirdoc_load("microdescs", &answer_len);
	struct microdesc_store_stats st;
	struct dir_store store = { .ctx = s, .microdesc = store_microdesc };
	struct dir_request req;
	struct dir_response_info info;
	const uint8_t *p;
	uint8_t *out;
	size_t out_len;
	const char *body;
	uint8_t *plain;
	size_t plain_len;

	(void)state;
	assert_non_null(s);
	microdesc_store_set_consensus(s, c);
	n = microdesc_store_missing(s, c, missing, 8);
	assert_int_equal(n, 5);
	assert_int_equal(microdesc_store_url(
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])missing, n, url,
			sizeof(url)), strlen(consensus_m_url));
	assert_string_equal(url, consensus_m_url);

	/* Only four of them asked for: the fifth in the answer is dropped. */
	assert_int_equal(microdesc_store_add_answer(s, answer, answer_len,
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])missing + 1, 4), 4);
	assert_int_equal(microdesc_store_missing(s, c, missing, 8), 1);
	assert_int_equal(microdesc_store_add_answer(s, answer, answer_len,
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])missing, 1), 1);
	assert_int_equal(microdesc_store_missing(s, c, missing, 8), 0);
	microdesc_store_get_stats(s, &st);
	assert_int_equal(st.entries, 5);
	assert_int_equal(st.added, 5);
	assert_int_equal(st.unwanted, 1 + 4);
	assert_int_equal(st.bytes, answer_len);

	/* Served back, to what a tor 0.4.9 client asks: the body is x-zstd
	 * (dircache.c's first choice for answers compressed as they go) and
	 * decodes to the authority's answer, byte for byte (descending digest
	 * order, as dircache.c flushes its spool). */
	snprintf(request, sizeof(request), "GET %s.z HTTP/1.0\r\nAccept-Encoding: "
			"x-tor-lzma, x-zstd, deflate, gzip, identity\r\n\r\n", url);
	p = (const uint8_t *)request;
	assert_int_equal(dir_request_parse(&p, p + strlen(request), &req), 0);
	assert_int_equal(dir_server_respond(&req, &store, DIRDOC_NOW, NULL,
			false, &info, &out, &out_len), 0);
	assert_int_equal(info.status, 200);
	assert_int_equal(info.items, 5);
	body = NULL;
	for (size_t i = 0; i + 4 <= out_len && body == NULL; i++)
		if (memcmp(out + i, "\r\n\r\n", 4) == 0)
			body = (const char *)out + i + 4;
	assert_non_null(body);
	assert_non_null(memmem(out, (size_t)(body - (const char *)out),
			"\r\nContent-Encoding: x-zstd\r\n", 26));
	assert_int_equal(dir_decompress(DIR_COMPRESS_ZSTD, (const uint8_t *)body,
			out_len - (size_t)(body - (const char *)out), 1u << 20, &plain,
			&plain_len), 0);
	assert_int_equal(plain_len, answer_len);
	assert_memory_equal(plain, answer, answer_len);
	free(plain);
	free(out);

	free(answer);
	microdesc_store_free(s);
	consensus_free(c);
}

static void
test_retention_and_garbage(void **state)
{
	struct consensus *c = load_consensus();
	struct microdesc_store *s = microdesc_store_new();
	uint8_t missing[8][MICRODESC_DIGEST_LEN];
	size_t answer_len;
	uint8_t *answer = dirdoc_load("microdescs", &answer_len);
	struct consensus *ns;
	size_t ns_len;
	uint8_t *ns_doc = dirdoc_load("consensus-ns", &ns_len);
	struct microdesc_store_stats st;
	const uint8_t *text;
	size_t len;
	static const char garbage[] = "ntor-onion-key !!!\n";

	(void)state;
	assert_int_equal(consensus_parse(ns_doc, ns_len, &ns, NULL), 0);
	microdesc_store_set_consensus(s, c);
	assert_int_equal(microdesc_store_missing(s, c, missing, 8), 5);
	assert_int_equal(microdesc_store_add_answer(s, answer, answer_len,
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])missing, 5), 5);
	/* Asked again (already held): nothing new. */
	assert_int_equal(microdesc_store_add_answer(s, answer, answer_len,
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])missing, 5), 0);
	/* A malformed answer stops parsing; nothing kept. */
	assert_int_equal(microdesc_store_add_answer(s,
			(const uint8_t *)garbage, strlen(garbage),
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])missing, 5), 0);
	microdesc_store_get_stats(s, &st);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(microdesc_store_get(s, missing[0], &text, &len), 0);
	assert_true(len > 100);
	assert_memory_equal(text, "onion-key\n", 10);

	/* A consensus listing none of them (the ns flavour lists no
	 * microdescriptors): still kept, the previous one listed them. */
	microdesc_store_set_consensus(s, ns);
	assert_int_equal(microdesc_store_get(s, missing[0], &text, &len), 0);
	/* Listed again: kept through the next one too. */
	microdesc_store_set_consensus(s, c);
	microdesc_store_set_consensus(s, ns);
	assert_int_equal(microdesc_store_get(s, missing[0], &text, &len), 0);
	/* Two consensuses without them: dropped. */
	microdesc_store_set_consensus(s, ns);
	assert_int_equal(microdesc_store_get(s, missing[0], &text, &len),
			-ENOENT);
	microdesc_store_get_stats(s, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.dropped, 5);
	assert_int_equal(microdesc_store_missing(s, ns, missing, 8), 0);

	free(ns_doc);
	consensus_free(ns);
	free(answer);
	microdesc_store_free(s);
	consensus_free(c);
}

static void
test_url_bounds(void **state)
{
	static uint8_t digests[MICRODESC_STORE_BATCH + 1][MICRODESC_DIGEST_LEN];
	char url[MICRODESC_STORE_URL_MAX];

	(void)state;
	memset(digests, 0xff, sizeof(digests));
	assert_int_equal(microdesc_store_url(
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])digests,
			MICRODESC_STORE_BATCH, url, sizeof(url)),
			sizeof(url) - 1);
	assert_memory_equal(url + 13,
			"//////////////////////////////////////////8-", 44);
	assert_int_equal(microdesc_store_url(
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])digests,
			MICRODESC_STORE_BATCH, url, sizeof(url) - 1), -EMSGSIZE);
	assert_int_equal(microdesc_store_url(
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])digests,
			MICRODESC_STORE_BATCH + 1, url, sizeof(url)), -EINVAL);
	assert_int_equal(microdesc_store_url(
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])digests, 0, url,
			sizeof(url)), -EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_and_serve),
		cmocka_unit_test(test_retention_and_garbage),
		cmocka_unit_test(test_url_bounds),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	dirdoc_vector_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
