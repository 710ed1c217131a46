/* What the Ethernet/ARP/IPv4 unit tests share: the addresses of the vector
 * frames (worker B is 02:00:00:00:01:02, 10.99.1.2) and a hex decoder that
 * fails the test on a bad vector. Include after cmocka.h. */
#ifndef HSRELAY_TESTS_UNIT_NET_TEST_UTIL_H
#define HSRELAY_TESTS_UNIT_NET_TEST_UTIL_H

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "dataplane/ether.h"
#include "tests/unit/test_util.h"

static const struct rte_ether_addr mac_b = {{0x02, 0, 0, 0, 0x01, 0x02}};

static inline rte_be32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return rte_cpu_to_be_32((uint32_t)a << 24 | (uint32_t)b << 16 |
			(uint32_t)c << 8 | d);
}

static inline struct net_local
local_b(void)
{
	struct net_local local;

	memset(&local, 0, sizeof(local));
	local.mac = mac_b;
	local.n_ip = 1;
	local.ip[0] = ip4(10, 99, 1, 2);
	return local;
}

static size_t
hex(const char *h, uint8_t *out, size_t len)
{
	size_t n = test_hex(h, out, len);

	assert_true(n != (size_t)-1);
	return n;
}

#endif
