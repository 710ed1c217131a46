/* control/dir_compress: tor's Content-Encoding names and server
 * preferences (dircache.c), Accept-Encoding parsing, and streams in the
 * formats tor 0.4.9 reads: the magic bytes its detect_compression_method
 * looks for, round trips at both levels, and corrupt, truncated and
 * oversized input refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/dir_compress.h"

#define ALL_METHODS ((1u << DIR_COMPRESS_METHODS) - 1)
#define SET(m) (1u << (m))

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(dir_compress_name(DIR_COMPRESS_IDENTITY), "identity");
	assert_string_equal(dir_compress_name(DIR_COMPRESS_GZIP), "gzip");
	assert_string_equal(dir_compress_name(DIR_COMPRESS_DEFLATE), "deflate");
	assert_string_equal(dir_compress_name(DIR_COMPRESS_LZMA), "x-tor-lzma");
	assert_string_equal(dir_compress_name(DIR_COMPRESS_ZSTD), "x-zstd");
	assert_null(dir_compress_name(DIR_COMPRESS_METHODS));
}

static unsigned
parse(const char *s)
{
	return dir_accept_encoding_parse(s, strlen(s));
}

static void
test_accept_encoding(void **state)
{
	static const char cut[] = "gzip, x-zstd";

	(void)state;
	/* What tor 0.4.9's dirclient.c sends. */
	assert_int_equal(parse("x-tor-lzma, x-zstd, deflate, gzip, identity"), ALL_METHODS);
	assert_int_equal(parse(""), SET(DIR_COMPRESS_IDENTITY));
	assert_int_equal(parse(" deflate ,\tgzip,,  ,"),
			SET(DIR_COMPRESS_IDENTITY) | SET(DIR_COMPRESS_DEFLATE) |
			SET(DIR_COMPRESS_GZIP));
	/* tor matches names exactly: no case folding, no parameters, no
	 * prefixes. */
	assert_int_equal(parse("Deflate, gzip;q=1.0, x-zstd2, x-tor, bogus"),
			SET(DIR_COMPRESS_IDENTITY));
	/* Bounded by len: the "x-zstd" after it is not read. */
	assert_int_equal(dir_accept_encoding_parse(cut, 4),
			SET(DIR_COMPRESS_IDENTITY) | SET(DIR_COMPRESS_GZIP));
	assert_int_equal(dir_accept_encoding_parse(cut, 9),
			SET(DIR_COMPRESS_IDENTITY) | SET(DIR_COMPRESS_GZIP));
}

static void
test_choose(void **state)
{
	(void)state;
	/* srv_meth_pref_precompressed: lzma, zstd, deflate, gzip. */
	assert_int_equal(dir_compress_choose(ALL_METHODS, true), DIR_COMPRESS_LZMA);
	assert_int_equal(dir_compress_choose(ALL_METHODS & ~SET(DIR_COMPRESS_LZMA), true),
			DIR_COMPRESS_ZSTD);
	assert_int_equal(dir_compress_choose(SET(DIR_COMPRESS_GZIP) | SET(DIR_COMPRESS_DEFLATE),
			true), DIR_COMPRESS_DEFLATE);
	assert_int_equal(dir_compress_choose(SET(DIR_COMPRESS_GZIP), true), DIR_COMPRESS_GZIP);
	assert_int_equal(dir_compress_choose(SET(DIR_COMPRESS_IDENTITY), true),
			DIR_COMPRESS_IDENTITY);
	/* srv_meth_pref_streaming_compression: zstd, deflate, gzip; never
	 * lzma. */
	assert_int_equal(dir_compress_choose(ALL_METHODS, false), DIR_COMPRESS_ZSTD);
	assert_int_equal(dir_compress_choose(SET(DIR_COMPRESS_LZMA) | SET(DIR_COMPRESS_GZIP),
			false), DIR_COMPRESS_GZIP);
	assert_int_equal(dir_compress_choose(SET(DIR_COMPRESS_LZMA), false),
			DIR_COMPRESS_IDENTITY);
	assert_int_equal(dir_compress_choose(0, false), DIR_COMPRESS_IDENTITY);
}

/* A directory-like document: routers' lines with varying fields. */
static uint8_t *
make_document(size_t *len)
{
	size_t cap = 200000, n = 0;
	char *doc = malloc(cap);

	assert_non_null(doc);
	for (unsigned i = 0; n + 200 < cap; i++)
		n += (size_t)snprintf(doc + n, cap - n,
				"r relay%u %08x%08x 2026-12-02 21:%02u:%02u 10.%u.%u.%u 9001 0\n"
				"m %08x%08x%08x\ns Fast Running Stable Valid\nw Bandwidth=%u\n",
				i, i * 2654435761u, i * 40503u, i % 60, (i * 7) % 60, i % 250,
				(i / 250) % 250, i % 7, i * 97u, i * 31337u, i ^ 0x5a5a5a5au,
				(i * 131u) % 100000u);
	*len = n;
	return (uint8_t *)doc;
}

static void
test_round_trip_and_magic(void **state)
{
	static const enum dir_compress_level levels[] = { DIR_COMPRESS_LOW, DIR_COMPRESS_HIGH };
	size_t len;
	uint8_t *doc = make_document(&len);

	(void)state;
	for (unsigned m = 0; m < DIR_COMPRESS_METHODS; m++) {
		for (unsigned l = 0; l < 2; l++) {
			uint8_t *packed, *plain;
			size_t packed_len, plain_len;

			assert_int_equal(dir_compress(m, levels[l], doc, len, &packed,
					&packed_len), 0);
			if (m == DIR_COMPRESS_IDENTITY) {
				assert_int_equal(packed_len, len);
			} else {
				/* Compressed well below half. */
				assert_true(packed_len < len / 2);
			}
			/* compress.c detect_compression_method's tests. */
			switch (m) {
			case DIR_COMPRESS_GZIP:
				assert_memory_equal(packed, "\x1f\x8b", 2);
				break;
			case DIR_COMPRESS_DEFLATE:
				assert_int_equal(packed[0] & 0x0f, 8);
				assert_int_equal((packed[0] << 8 | packed[1]) % 31, 0);
				break;
			case DIR_COMPRESS_LZMA:
				/* lzma_alone: lc=3 lp=0 pb=2, a dictionary of
				 * whole 64 KiB units, size unknown. */
				assert_memory_equal(packed, "\x5d\x00\x00", 3);
				assert_memory_equal(packed + 5,
						"\xff\xff\xff\xff\xff\xff\xff\xff", 8);
				break;
			case DIR_COMPRESS_ZSTD:
				assert_memory_equal(packed, "\x28\xb5\x2f\xfd", 4);
				break;
			default:
				break;
			}
			assert_int_equal(dir_decompress(m, packed, packed_len, len, &plain,
					&plain_len), 0);
			assert_int_equal(plain_len, len);
			assert_memory_equal(plain, doc, len);
			free(plain);
			/* One byte short of the output: refused. */
			assert_int_equal(dir_decompress(m, packed, packed_len, len - 1, &plain,
					&plain_len), -EMSGSIZE);
			free(packed);
		}
	}
	free(doc);
}

static void
test_bad_streams(void **state)
{
	size_t len;
	uint8_t *doc = make_document(&len);

	(void)state;
	for (unsigned m = 1; m < DIR_COMPRESS_METHODS; m++) {
		uint8_t *packed, *plain, *longer;
		size_t packed_len, plain_len;

		assert_int_equal(dir_compress(m, DIR_COMPRESS_LOW, doc, len, &packed,
				&packed_len), 0);
		/* Truncated. */
		assert_int_equal(dir_decompress(m, packed, packed_len - 1, 1u << 20, &plain,
				&plain_len), -EBADMSG);
		assert_int_equal(dir_decompress(m, packed, 0, 1u << 20, &plain, &plain_len),
				-EBADMSG);
		/* Bytes after the end of the stream. */
		longer = malloc(packed_len + 3);
		assert_non_null(longer);
		memcpy(longer, packed, packed_len);
		memcpy(longer + packed_len, "abc", 3);
		assert_int_equal(dir_decompress(m, longer, packed_len + 3, 1u << 20, &plain,
				&plain_len), -EBADMSG);
		free(longer);
		/* Another method's stream, and plain text. */
		assert_int_equal(dir_decompress(m == DIR_COMPRESS_ZSTD ? DIR_COMPRESS_LZMA
				: DIR_COMPRESS_ZSTD, packed, packed_len, 1u << 20, &plain,
				&plain_len), -EBADMSG);
		assert_int_equal(dir_decompress(m, doc, 4096, 1u << 20, &plain, &plain_len),
				-EBADMSG);
		free(packed);
	}
	assert_int_equal(dir_decompress(DIR_COMPRESS_METHODS, doc, 10, 100, &(uint8_t *){ NULL },
			&len), -EBADMSG);
	free(doc);
}

static void
test_empty_input(void **state)
{
	(void)state;
	for (unsigned m = 0; m < DIR_COMPRESS_METHODS; m++) {
		uint8_t *packed, *plain;
		size_t packed_len, plain_len;

		assert_int_equal(dir_compress(m, DIR_COMPRESS_HIGH, (const uint8_t *)"", 0,
				&packed, &packed_len), 0);
		assert_int_equal(dir_decompress(m, packed, packed_len, 16, &plain, &plain_len),
				0);
		assert_int_equal(plain_len, 0);
		free(plain);
		free(packed);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_round_trip_and_magic),
		cmocka_unit_test(test_bad_streams),
		cmocka_unit_test(test_empty_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
