#include "crypto/ct.h"

#include <sodium.h>

bool
ct_equal(const void *a, const void *b, size_t n)
{
	/* libsodium's sodium_memcmp is documented constant time in n. */
	return sodium_memcmp(a, b, n) == 0;
}

bool
ct_is_zero(const void *a, size_t n)
{
	return sodium_is_zero(a, n) == 1;
}

void
ct_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}
