/* cmocka assertions shared by the unit tests on published vectors (hex
 * strings). Include after <cmocka.h> (and the headers cmocka needs). */
#ifndef HSRELAY_TESTS_UNIT_TEST_ASSERTS_H
#define HSRELAY_TESTS_UNIT_TEST_ASSERTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decodes hex, which must be exactly 2 * len hex digits, into out; fails
 * the test otherwise. */
static inline void
assert_unhex(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned int byte;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
}

/* got[0 .. len) must be the bytes of want_hex (at most 512). */
static inline void
assert_hex_equal(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[512];

	assert_true(len <= sizeof(want));
	assert_unhex(want_hex, want, len);
	assert_memory_equal(got, want, len);
}

/* Every byte of p[0 .. len) must be zero (a wiped key, a refused output). */
static inline void
assert_all_zero(const void *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		assert_int_equal(((const uint8_t *)p)[i], 0);
}

#endif
