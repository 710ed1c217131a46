#include "dataplane/syn_cookie.h"

#include <sodium.h>
#include <string.h>

#include "crypto/ct.h"

/* Common MSS values, smallest first: the RFC 9293 default, then what IPv4
 * paths with tunnels, PPPoE and plain Ethernet give. */
static const uint16_t mss_table[8] = { 536, 1200, 1360, 1400, 1440, 1452, 1460, 8960 };

uint8_t
syn_cookie_mss_index(uint16_t mss)
{
	uint8_t i = 7;

	while (i > 0 && mss_table[i] > mss)
		i--;
	return i;
}

uint16_t
syn_cookie_mss(uint8_t index)
{
	return mss_table[index & 7];
}

static uint32_t
cookie_hash(const uint8_t key[SYN_COOKIE_KEY_LEN], const struct syn_cookie_tuple *t,
		uint32_t peer_isn, uint32_t counter, uint8_t mss_index)
{
	uint8_t in[21];
	uint8_t out[crypto_shorthash_BYTES];
	uint32_t h;

	memcpy(in, &t->local_ip, 4);
	memcpy(in + 4, &t->remote_ip, 4);
	memcpy(in + 8, &t->local_port, 2);
	memcpy(in + 10, &t->remote_port, 2);
	memcpy(in + 12, &peer_isn, 4);
	memcpy(in + 16, &counter, 4);
	in[20] = mss_index;
	crypto_shorthash(out, in, sizeof(in), key);
	memcpy(&h, out, 4);
	return h;
}

uint32_t
syn_cookie_make(const uint8_t key[SYN_COOKIE_KEY_LEN], const struct syn_cookie_tuple *t,
		uint32_t peer_isn, uint64_t now, uint8_t mss_index)
{
	uint32_t counter = (uint32_t)(now / SYN_COOKIE_PERIOD_NS);

	mss_index &= 7;
	return (cookie_hash(key, t, peer_isn, counter, mss_index) & 0xffffff00u) |
		(counter & 0x1f) << 3 | mss_index;
}

bool
syn_cookie_check(const uint8_t key[SYN_COOKIE_KEY_LEN], const struct syn_cookie_tuple *t,
		uint32_t peer_isn, uint32_t cookie, uint64_t now, uint8_t *mss_index)
{
	uint32_t counter = (uint32_t)(now / SYN_COOKIE_PERIOD_NS);
	uint8_t index = cookie & 7;

	for (uint32_t age = 0; age < 2; age++) {
		uint32_t c = counter - age;
		uint32_t expect, got;

		if (((cookie >> 3) & 0x1f) != (c & 0x1f))
			continue;
		expect = cookie_hash(key, t, peer_isn, c, index) & 0xffffff00u;
		got = cookie & 0xffffff00u;
		if (ct_equal(&expect, &got, sizeof(expect))) {
			*mss_index = index;
			return true;
		}
	}
	return false;
}

uint32_t
syn_cookie_ts_encode(uint32_t ts_val, uint8_t wscale, bool sack_permitted)
{
	return (ts_val & ~0x3fu) | (uint32_t)(wscale & 0xf) << 1 | (sack_permitted ? 1u : 0u);
}

void
syn_cookie_ts_decode(uint32_t ts_ecr, uint8_t *wscale, bool *sack_permitted)
{
	*wscale = (uint8_t)((ts_ecr >> 1) & 0xf);
	*sack_permitted = (ts_ecr & 1) != 0;
}
