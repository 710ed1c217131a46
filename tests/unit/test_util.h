/* Small helpers shared by the unit tests. */
#ifndef HSRELAY_TESTS_UNIT_TEST_UTIL_H
#define HSRELAY_TESTS_UNIT_TEST_UTIL_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Decodes hex (whitespace ignored) into out; returns the byte count, or
 * (size_t)-1 on a bad digit or when out is too small. */
static inline size_t
test_hex(const char *hex, uint8_t *out, size_t out_len)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (isspace((unsigned char)*hex))
			continue;
		if (!isxdigit((unsigned char)*hex))
			return (size_t)-1;
		v = isdigit((unsigned char)*hex) ? *hex - '0' : (tolower((unsigned char)*hex) - 'a' + 10);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == out_len)
			return (size_t)-1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? n : (size_t)-1;
}

/* Deterministic test bytes (xorshift), so failures reproduce. */
static inline void
test_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

#endif
