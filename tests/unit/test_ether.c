/* Unit tests for dataplane/ether.{c,h}: Ethernet II and ARP codecs checked
 * against frames written by scapy 2.5 (Debian 12 python3-scapy), every
 * malformed case, and the ARP cache driven with virtual time. The cache
 * never dereferences the mbufs it holds, so these tests hold stand-in
 * pointers and need no EAL. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/ether.h"
#include "tests/unit/net_test_util.h"

/* Ether(dst=ff:ff:ff:ff:ff:ff, src=02:00:00:00:01:01) /
 * ARP(op=1, hwsrc=02:00:00:00:01:01, psrc=10.99.1.1, pdst=10.99.1.2) */
static const char arp_request_hex[] =
	"ffffffffffff020000000101 0806"
	"0001 0800 06 04 0001 020000000101 0a630101 000000000000 0a630102";
/* Ether(dst=02:00:00:00:01:01, src=02:00:00:00:01:02) /
 * ARP(op=2, hwsrc=02:00:00:00:01:02, psrc=10.99.1.2,
 *     hwdst=02:00:00:00:01:01, pdst=10.99.1.1) */
static const char arp_reply_hex[] =
	"020000000101020000000102 0806"
	"0001 0800 06 04 0002 020000000102 0a630102 020000000101 0a630101";

static const struct rte_ether_addr mac_a = {{0x02, 0, 0, 0, 0x01, 0x01}};
static const struct rte_ether_addr mac_c = {{0x02, 0, 0, 0, 0x01, 0x03}};

static void
test_ether_header(void **state)
{
	uint8_t frame[64], out[ETHER_HEADER_LEN];
	size_t len = hex(arp_reply_hex, frame, sizeof(frame));
	const uint8_t *p = frame;
	struct ether_header eth;

	(void)state;
	assert_int_equal(ether_header_parse(&p, frame + len, &eth), 0);
	assert_ptr_equal(p, frame + ETHER_HEADER_LEN);
	assert_memory_equal(&eth.dst, &mac_a, 6);
	assert_memory_equal(&eth.src, &mac_b, 6);
	assert_int_equal(eth.ether_type, RTE_ETHER_TYPE_ARP);
	assert_int_equal(ether_header_encode(&eth, out, sizeof(out)),
			ETHER_HEADER_LEN);
	assert_memory_equal(out, frame, ETHER_HEADER_LEN);
	assert_int_equal(ether_header_encode(&eth, out, ETHER_HEADER_LEN - 1),
			-EMSGSIZE);
}

static void
test_ether_header_malformed(void **state)
{
	uint8_t frame[64];
	size_t len = hex(arp_reply_hex, frame, sizeof(frame));
	static const uint16_t vlan_types[] = {0x8100, 0x88a8, 0x9100};
	struct ether_header eth;
	const uint8_t *p;

	(void)state;
	for (size_t cut = 0; cut < ETHER_HEADER_LEN; cut++) {
		p = frame;
		assert_int_equal(ether_header_parse(&p, frame + cut, &eth),
				-EINVAL);
		assert_ptr_equal(p, frame);
	}
	for (size_t i = 0; i < sizeof(vlan_types) / sizeof(vlan_types[0]);
			i++) {
		frame[12] = (uint8_t)(vlan_types[i] >> 8);
		frame[13] = (uint8_t)vlan_types[i];
		p = frame;
		assert_int_equal(ether_header_parse(&p, frame + len, &eth),
				-ENOTSUP);
		assert_ptr_equal(p, frame);
	}
	/* An IEEE 802.3 length field instead of an EtherType. */
	frame[12] = 0x00;
	frame[13] = 0x2e;
	p = frame;
	assert_int_equal(ether_header_parse(&p, frame + len, &eth), -EINVAL);
	frame[12] = 0x05;
	frame[13] = 0xff;
	assert_int_equal(ether_header_parse(&p, frame + len, &eth), -EINVAL);
	/* 0x0600 is the first EtherType. */
	frame[13] = 0x00;
	frame[12] = 0x06;
	assert_int_equal(ether_header_parse(&p, frame + len, &eth), 0);
}

static void
test_arp_request(void **state)
{
	uint8_t frame[64], out[64];
	size_t len = hex(arp_request_hex, frame, sizeof(frame));
	const uint8_t *p = frame + ETHER_HEADER_LEN;
	struct arp_ipv4 arp;

	(void)state;
	assert_int_equal(len, ARP_FRAME_LEN);
	assert_int_equal(arp_ipv4_parse(&p, frame + len, &arp), 0);
	assert_ptr_equal(p, frame + len);
	assert_int_equal(arp.op, RTE_ARP_OP_REQUEST);
	assert_memory_equal(&arp.sender_mac, &mac_a, 6);
	assert_int_equal(arp.sender_ip, ip4(10, 99, 1, 1));
	assert_true(rte_is_zero_ether_addr(&arp.target_mac));
	assert_int_equal(arp.target_ip, ip4(10, 99, 1, 2));
	assert_int_equal(arp_ipv4_encode(&arp, out, sizeof(out)),
			ARP_IPV4_LEN);
	assert_memory_equal(out, frame + ETHER_HEADER_LEN, ARP_IPV4_LEN);

	memset(out, 0xaa, sizeof(out));
	assert_int_equal(arp_request_build(&mac_a, ip4(10, 99, 1, 1),
			ip4(10, 99, 1, 2), out, sizeof(out)), ARP_FRAME_LEN);
	assert_memory_equal(out, frame, ARP_FRAME_LEN);
	assert_int_equal(out[ARP_FRAME_LEN], 0xaa);
	assert_int_equal(arp_request_build(&mac_a, ip4(10, 99, 1, 1),
			ip4(10, 99, 1, 2), out, ARP_FRAME_LEN - 1), -EMSGSIZE);
}

static void
test_arp_reply(void **state)
{
	uint8_t frame[64], expect[64], out[64];
	size_t len = hex(arp_request_hex, frame, sizeof(frame));
	struct net_local local = local_b();
	const uint8_t *p;
	struct arp_ipv4 arp;

	(void)state;
	assert_int_equal(hex(arp_reply_hex, expect, sizeof(expect)), len);
	p = expect + ETHER_HEADER_LEN;
	assert_int_equal(arp_ipv4_parse(&p, expect + len, &arp), 0);
	assert_int_equal(arp.op, RTE_ARP_OP_REPLY);
	assert_memory_equal(&arp.target_mac, &mac_a, 6);
	assert_int_equal(arp_ipv4_encode(&arp, out, ARP_IPV4_LEN),
			ARP_IPV4_LEN);
	assert_memory_equal(out, expect + ETHER_HEADER_LEN, ARP_IPV4_LEN);

	/* The request scapy wrote becomes, in place, the reply it wrote. */
	assert_int_equal(arp_reply_in_place(frame, len, &local), 0);
	assert_memory_equal(frame, expect, len);
	/* A reply is not answered. */
	assert_int_equal(arp_reply_in_place(frame, len, &local), -EINVAL);
	/* A request for somebody else's address is not answered. */
	hex(arp_request_hex, frame, sizeof(frame));
	local.ip[0] = ip4(10, 99, 1, 9);
	assert_int_equal(arp_reply_in_place(frame, len, &local), -ENOENT);
	/* Nor is a short or non-ARP frame. */
	local = local_b();
	assert_int_equal(arp_reply_in_place(frame, len - 1, &local), -EINVAL);
	frame[13] = 0x00;
	assert_int_equal(arp_reply_in_place(frame, len, &local), -EINVAL);
	/* A second local address is answered as such. */
	hex(arp_request_hex, frame, sizeof(frame));
	frame[41] = 7;
	local.n_ip = 2;
	local.ip[1] = ip4(10, 99, 1, 7);
	assert_int_equal(arp_reply_in_place(frame, len, &local), 0);
	assert_memory_equal(frame + ETHER_HEADER_LEN + 14, &local.ip[1], 4);
}

static void
test_arp_malformed(void **state)
{
	uint8_t frame[64], body[ARP_IPV4_LEN];
	size_t len = hex(arp_request_hex, frame, sizeof(frame));
	struct arp_ipv4 arp;
	const uint8_t *p;
	struct {
		size_t offset;
		uint8_t value;
		int rc;
	} cases[] = {
		{0, 0x00, 0},        /* hardware type 0x0001 (unchanged) */
		{1, 0x06, -ENOTSUP}, /* hardware type 6 (IEEE 802) */
		{2, 0x86, -ENOTSUP}, /* protocol 0x8600 */
		{4, 0x05, -EINVAL},  /* hardware length 5 */
		{4, 0x08, -EINVAL},  /* hardware length 8 */
		{5, 0x10, -EINVAL},  /* protocol length 16 */
		{5, 0x00, -EINVAL},  /* protocol length 0 */
		{7, 0x03, -ENOTSUP}, /* RARP request */
		{7, 0x08, -ENOTSUP}, /* InARP request */
		{7, 0x00, -ENOTSUP}, /* opcode 0 */
		{6, 0x01, -ENOTSUP}, /* opcode 0x0101 */
	};

	(void)state;
	memcpy(body, frame + ETHER_HEADER_LEN, sizeof(body));
	for (size_t cut = 0; cut < ARP_IPV4_LEN; cut++) {
		p = body;
		assert_int_equal(arp_ipv4_parse(&p, body + cut, &arp), -EINVAL);
		assert_ptr_equal(p, body);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t copy[ARP_IPV4_LEN];

		memcpy(copy, body, sizeof(copy));
		copy[cases[i].offset] = cases[i].value;
		p = copy;
		assert_int_equal(arp_ipv4_parse(&p, copy + sizeof(copy), &arp),
				cases[i].rc);
		assert_ptr_equal(p, cases[i].rc == 0 ? copy + sizeof(copy) :
				copy);
	}
	/* Trailing Ethernet padding is not consumed. */
	memset(frame + len, 0, 18);
	p = frame + ETHER_HEADER_LEN;
	assert_int_equal(arp_ipv4_parse(&p, frame + 60, &arp), 0);
	assert_ptr_equal(p, frame + ARP_FRAME_LEN);

	arp.op = RTE_ARP_OP_REVREQUEST;
	assert_int_equal(arp_ipv4_encode(&arp, body, sizeof(body)), -EINVAL);
	arp.op = RTE_ARP_OP_REPLY;
	assert_int_equal(arp_ipv4_encode(&arp, body, sizeof(body) - 1),
			-EMSGSIZE);
}

/* ARP cache with virtual time. */

#define MS 1000000ull
#define T0 (1000 * MS)

/* Stand-in packets: the cache only stores and returns the pointers. */
static char tokens[64];
#define PKT(i) ((struct rte_mbuf *)(void *)&tokens[i])

struct cache_fixture {
	struct arp_cache_config cfg;
	void *mem;
	struct arp_cache *cache;
	struct net_local local;
};

static struct arp_cache_config
default_config(void)
{
	struct arp_cache_config cfg = {
		.capacity = 16,
		.held_per_entry = 3,
		.max_requests = 3,
		.reachable_ns = 30000 * MS,
		.retry_ns = 1000 * MS,
	};
	return cfg;
}

static void
fixture_open(struct cache_fixture *f, const struct arp_cache_config *cfg)
{
	size_t size = arp_cache_footprint(cfg);

	assert_true(size > 0);
	f->cfg = *cfg;
	f->mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
	assert_non_null(f->mem);
	f->cache = arp_cache_init(f->mem, size, cfg);
	assert_non_null(f->cache);
	f->local = local_b();
}

static void
fixture_close(struct cache_fixture *f)
{
	struct rte_mbuf *left[8];

	assert_int_equal(arp_cache_drain(f->cache, left, 8), 0);
	free(f->mem);
}

/* An ARP message from (mac, ip) to target_ip. */
static struct arp_ipv4
arp_from(uint16_t op, const struct rte_ether_addr *mac, rte_be32_t ip,
		rte_be32_t target_ip)
{
	struct arp_ipv4 msg;

	memset(&msg, 0, sizeof(msg));
	msg.op = op;
	msg.sender_mac = *mac;
	msg.sender_ip = ip;
	msg.target_ip = target_ip;
	return msg;
}

static void
test_cache_config(void **state)
{
	struct arp_cache_config cfg = default_config();
	uint64_t mem[512];
	size_t size;

	(void)state;
	size = arp_cache_footprint(&cfg);
	assert_true(size > 0 && size <= sizeof(mem));
	assert_null(arp_cache_init(mem, size - 1, &cfg));
	assert_null(arp_cache_init((uint8_t *)mem + 4, size, &cfg));
	assert_null(arp_cache_init(NULL, size, &cfg));
	assert_non_null(arp_cache_init(mem, size, &cfg));

	cfg.capacity = 0;
	assert_int_equal(arp_cache_footprint(&cfg), 0);
	assert_null(arp_cache_init(mem, sizeof(mem), &cfg));
	cfg = default_config();
	cfg.held_per_entry = ARP_CACHE_HELD_MAX + 1;
	assert_int_equal(arp_cache_footprint(&cfg), 0);
	cfg = default_config();
	cfg.max_requests = 0;
	assert_int_equal(arp_cache_footprint(&cfg), 0);
	cfg = default_config();
	cfg.retry_ns = 0;
	assert_int_equal(arp_cache_footprint(&cfg), 0);
	cfg = default_config();
	cfg.reachable_ns = 0;
	assert_int_equal(arp_cache_footprint(&cfg), 0);
	cfg = default_config();
	cfg.capacity = (1u << 20) + 1;
	assert_int_equal(arp_cache_footprint(&cfg), 0);
}

static void
test_cache_resolution(void **state)
{
	struct arp_cache_config cfg = default_config();
	struct cache_fixture f;
	struct arp_lookup_result r;
	struct arp_release rel;
	struct arp_ipv4 reply;
	struct rte_ether_addr mac;
	rte_be32_t peer = ip4(10, 99, 1, 1);
	const struct arp_cache_stats *st;

	(void)state;
	fixture_open(&f, &cfg);
	st = arp_cache_get_stats(f.cache);

	/* Miss: pending, packet held, a request asked for. */
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(0), T0, &r),
			ARP_CACHE_PENDING);
	assert_true(r.send_request);
	assert_null(r.evicted);
	assert_int_equal(arp_cache_count(f.cache), 1);
	assert_int_equal(arp_cache_peek(f.cache, peer, T0, &mac), -ENOENT);

	/* Within retry_ns: held, no new request (rate limit). */
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(1),
			T0 + cfg.retry_ns - 1, &r), ARP_CACHE_PENDING);
	assert_false(r.send_request);
	assert_int_equal(arp_cache_lookup(f.cache, peer, NULL,
			T0 + cfg.retry_ns - 1, &r), ARP_CACHE_PENDING);
	assert_false(r.send_request);

	/* At retry_ns: the next request. */
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(2),
			T0 + cfg.retry_ns, &r), ARP_CACHE_PENDING);
	assert_true(r.send_request);
	assert_null(r.evicted);
	assert_int_equal(st->requests, 2);

	/* The fourth packet pushes the oldest out (held_per_entry 3). */
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(3),
			T0 + cfg.retry_ns + 1, &r), ARP_CACHE_PENDING);
	assert_ptr_equal(r.evicted, PKT(0));
	assert_int_equal(st->held_evicted, 1);
	assert_int_equal(st->held, 4);

	/* The reply resolves it and releases 1, 2, 3 in order. */
	reply = arp_from(RTE_ARP_OP_REPLY, &mac_a, peer, f.local.ip[0]);
	reply.target_mac = mac_b;
	assert_int_equal(arp_cache_input(f.cache, &reply, &f.local,
			T0 + 2 * cfg.retry_ns, &rel), 1);
	assert_int_equal(rel.n, 3);
	assert_ptr_equal(rel.pkts[0], PKT(1));
	assert_ptr_equal(rel.pkts[1], PKT(2));
	assert_ptr_equal(rel.pkts[2], PKT(3));
	assert_memory_equal(&rel.mac, &mac_a, 6);
	assert_int_equal(st->resolved, 1);
	assert_int_equal(st->released, 3);

	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(4),
			T0 + 2 * cfg.retry_ns, &r), ARP_CACHE_HIT);
	assert_memory_equal(&r.mac, &mac_a, 6);
	assert_false(r.send_request);
	assert_null(r.evicted);
	assert_int_equal(arp_cache_peek(f.cache, peer, T0 + 2 * cfg.retry_ns,
			&mac), 0);
	assert_memory_equal(&mac, &mac_a, 6);
	assert_int_equal(st->hits, 1);
	assert_int_equal(st->misses, 1);
	fixture_close(&f);
}

static void
test_cache_resolution_fails(void **state)
{
	struct arp_cache_config cfg = default_config();
	struct cache_fixture f;
	struct arp_lookup_result r;
	struct rte_mbuf *dropped[8];
	rte_be32_t requests[4];
	rte_be32_t peer = ip4(10, 99, 1, 1);
	uint32_t n_dropped;
	uint64_t t = T0;
	const struct arp_cache_stats *st;

	(void)state;
	fixture_open(&f, &cfg);
	st = arp_cache_get_stats(f.cache);
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(0), t, &r),
			ARP_CACHE_PENDING);
	assert_true(r.send_request);

	/* The timer sends the retries without new traffic, one per
	 * retry_ns, max_requests in all. */
	assert_int_equal(arp_cache_tick(f.cache, t + cfg.retry_ns - 1, requests,
			4, dropped, 8, &n_dropped), 0);
	assert_int_equal(n_dropped, 0);
	for (uint32_t i = 1; i < cfg.max_requests; i++) {
		t += cfg.retry_ns;
		assert_int_equal(arp_cache_tick(f.cache, t, requests, 4,
				dropped, 8, &n_dropped), 1);
		assert_int_equal(requests[0], peer);
		assert_int_equal(n_dropped, 0);
	}
	assert_int_equal(st->requests, cfg.max_requests);
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(1),
			t + cfg.retry_ns - 1, &r), ARP_CACHE_PENDING);
	assert_false(r.send_request);

	/* retry_ns after the last request it has failed. */
	t += cfg.retry_ns;
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(2), t, &r),
			ARP_CACHE_UNREACHABLE);
	assert_false(r.send_request);
	assert_int_equal(st->unreachable, 1);

	/* A full dropped[] postpones the entry; then it is freed. */
	assert_int_equal(arp_cache_tick(f.cache, t, requests, 4, dropped, 1,
			&n_dropped), 0);
	assert_int_equal(n_dropped, 0);
	assert_int_equal(arp_cache_count(f.cache), 1);
	assert_int_equal(arp_cache_tick(f.cache, t, requests, 4, dropped, 8,
			&n_dropped), 0);
	assert_int_equal(n_dropped, 2);
	assert_ptr_equal(dropped[0], PKT(0));
	assert_ptr_equal(dropped[1], PKT(1));
	assert_int_equal(arp_cache_count(f.cache), 0);
	assert_int_equal(st->failed, 1);
	assert_int_equal(st->failed_dropped, 2);

	/* The next packet starts over. */
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(3), t, &r),
			ARP_CACHE_PENDING);
	assert_true(r.send_request);
	assert_int_equal(arp_cache_drain(f.cache, dropped, 8), 1);
	assert_ptr_equal(dropped[0], PKT(3));
	fixture_close(&f);
}

static void
test_cache_tick_request_budget(void **state)
{
	struct arp_cache_config cfg = default_config();
	struct cache_fixture f;
	struct arp_lookup_result r;
	struct rte_mbuf *dropped[8];
	rte_be32_t requests[4];
	uint32_t n_dropped;

	(void)state;
	cfg.held_per_entry = 0;
	fixture_open(&f, &cfg);
	/* With no room to hold, the packet comes straight back. */
	for (uint8_t i = 1; i <= 3; i++) {
		assert_int_equal(arp_cache_lookup(f.cache, ip4(10, 0, 0, i),
				PKT(i), T0, &r), ARP_CACHE_PENDING);
		assert_ptr_equal(r.evicted, PKT(i));
		assert_true(r.send_request);
	}
	/* Three retries due, room for two: the third waits for the next
	 * tick and is not counted as sent. */
	assert_int_equal(arp_cache_tick(f.cache, T0 + cfg.retry_ns, requests, 2,
			dropped, 8, &n_dropped), 2);
	assert_int_equal(arp_cache_get_stats(f.cache)->requests, 5);
	assert_int_equal(arp_cache_tick(f.cache, T0 + cfg.retry_ns, requests, 2,
			dropped, 8, &n_dropped), 1);
	assert_int_equal(arp_cache_get_stats(f.cache)->requests, 6);
	assert_int_equal(arp_cache_tick(f.cache, T0 + cfg.retry_ns, requests, 2,
			dropped, 8, &n_dropped), 0);
	fixture_close(&f);
}

static void
test_cache_expiry(void **state)
{
	struct arp_cache_config cfg = default_config();
	struct cache_fixture f;
	struct arp_lookup_result r;
	struct arp_release rel;
	struct arp_ipv4 msg;
	struct rte_ether_addr mac;
	struct rte_mbuf *dropped[8];
	rte_be32_t requests[4];
	rte_be32_t peer = ip4(10, 99, 1, 1);
	uint64_t lifetime = cfg.reachable_ns + cfg.max_requests * cfg.retry_ns;
	uint32_t n_dropped;
	const struct arp_cache_stats *st;

	(void)state;
	fixture_open(&f, &cfg);
	st = arp_cache_get_stats(f.cache);
	/* A request to us from the peer teaches its address. */
	msg = arp_from(RTE_ARP_OP_REQUEST, &mac_a, peer, f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 1);
	assert_int_equal(rel.n, 0);
	assert_int_equal(st->inserts, 1);

	assert_int_equal(arp_cache_lookup(f.cache, peer, NULL,
			T0 + cfg.reachable_ns - 1, &r), ARP_CACHE_HIT);
	assert_false(r.send_request);
	/* Stale: still used, with a refresh request at most per retry_ns. */
	assert_int_equal(arp_cache_lookup(f.cache, peer, NULL,
			T0 + cfg.reachable_ns, &r), ARP_CACHE_HIT);
	assert_true(r.send_request);
	assert_memory_equal(&r.mac, &mac_a, 6);
	assert_int_equal(arp_cache_lookup(f.cache, peer, NULL,
			T0 + cfg.reachable_ns + cfg.retry_ns - 1, &r),
			ARP_CACHE_HIT);
	assert_false(r.send_request);
	assert_int_equal(arp_cache_lookup(f.cache, peer, NULL,
			T0 + cfg.reachable_ns + cfg.retry_ns, &r),
			ARP_CACHE_HIT);
	assert_true(r.send_request);
	assert_int_equal(st->stale_hits, 3);
	assert_int_equal(arp_cache_peek(f.cache, peer, T0 + lifetime - 1, &mac),
			0);
	assert_int_equal(arp_cache_peek(f.cache, peer, T0 + lifetime, &mac),
			-ENOENT);
	/* Nothing expires before its time at a tick... */
	assert_int_equal(arp_cache_tick(f.cache, T0 + lifetime - 1, requests, 4,
			dropped, 8, &n_dropped), 0);
	assert_int_equal(arp_cache_count(f.cache), 1);

	/* ...and a confirmation (a reply to the refresh) restarts the clock. */
	msg = arp_from(RTE_ARP_OP_REPLY, &mac_a, peer, f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local,
			T0 + lifetime - 1, &rel), 1);
	assert_int_equal(st->updates, 1);
	assert_int_equal(st->mac_changes, 0);
	assert_int_equal(arp_cache_lookup(f.cache, peer, NULL,
			T0 + lifetime, &r), ARP_CACHE_HIT);
	assert_false(r.send_request);

	/* Left alone it expires; a tick frees it. */
	assert_int_equal(arp_cache_tick(f.cache, T0 + 2 * lifetime - 2,
			requests, 4, dropped, 8, &n_dropped), 0);
	assert_int_equal(arp_cache_count(f.cache), 1);
	assert_int_equal(arp_cache_tick(f.cache, T0 + 2 * lifetime - 1,
			requests, 4, dropped, 8, &n_dropped), 0);
	assert_int_equal(arp_cache_count(f.cache), 0);
	assert_int_equal(st->expired, 1);

	/* An expired entry met by a lookup before any tick is resolved again
	 * from scratch. */
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 1);
	assert_int_equal(arp_cache_lookup(f.cache, peer, PKT(5),
			T0 + lifetime, &r), ARP_CACHE_PENDING);
	assert_true(r.send_request);
	assert_int_equal(st->expired, 2);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local,
			T0 + lifetime + 1, &rel), 1);
	assert_int_equal(rel.n, 1);
	assert_ptr_equal(rel.pkts[0], PKT(5));
	fixture_close(&f);
}

static void
test_cache_learning_rules(void **state)
{
	struct arp_cache_config cfg = default_config();
	struct cache_fixture f;
	struct arp_release rel;
	struct arp_ipv4 msg;
	struct rte_ether_addr mac;
	struct rte_ether_addr multicast = {{0x01, 0x00, 0x5e, 0, 0, 1}};
	rte_be32_t peer = ip4(10, 99, 1, 1);
	rte_be32_t other = ip4(10, 99, 1, 3);
	const struct arp_cache_stats *st;

	(void)state;
	fixture_open(&f, &cfg);
	st = arp_cache_get_stats(f.cache);

	/* Between two other hosts: nothing learnt (RFC 826 merge rule). */
	msg = arp_from(RTE_ARP_OP_REQUEST, &mac_a, peer, other);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 0);
	/* Gratuitous ARP for an unknown address: not learnt either. */
	msg = arp_from(RTE_ARP_OP_REQUEST, &mac_c, other, other);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 0);
	msg.op = RTE_ARP_OP_REPLY;
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 0);
	/* RFC 5227 probe (sender 0.0.0.0) for our address. */
	msg = arp_from(RTE_ARP_OP_REQUEST, &mac_c, 0, f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 0);
	/* Multicast and zero sender MACs. */
	msg = arp_from(RTE_ARP_OP_REPLY, &multicast, peer, f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 0);
	memset(&mac, 0, sizeof(mac));
	msg = arp_from(RTE_ARP_OP_REPLY, &mac, peer, f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 0);
	assert_int_equal(st->ignored, 6);
	/* Somebody claiming our address. */
	msg = arp_from(RTE_ARP_OP_REPLY, &mac_c, f.local.ip[0], f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 0);
	assert_int_equal(st->conflicts, 1);
	assert_int_equal(arp_cache_count(f.cache), 0);

	/* An unsolicited reply to us is learnt. */
	msg = arp_from(RTE_ARP_OP_REPLY, &mac_a, peer, f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 1);
	/* Once known, a gratuitous ARP or traffic between others updates it
	 * (RFC 826: the merge happens before looking at the target). */
	msg = arp_from(RTE_ARP_OP_REQUEST, &mac_c, peer, peer);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0 + 1, &rel),
			1);
	assert_int_equal(arp_cache_peek(f.cache, peer, T0 + 1, &mac), 0);
	assert_memory_equal(&mac, &mac_c, 6);
	msg = arp_from(RTE_ARP_OP_REQUEST, &mac_a, peer, other);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0 + 2, &rel),
			1);
	assert_int_equal(arp_cache_peek(f.cache, peer, T0 + 2, &mac), 0);
	assert_memory_equal(&mac, &mac_a, 6);
	assert_int_equal(st->inserts, 1);
	assert_int_equal(st->updates, 2);
	assert_int_equal(st->mac_changes, 2);
	fixture_close(&f);
}

static void
test_cache_capacity(void **state)
{
	struct arp_cache_config cfg = default_config();
	struct cache_fixture f;
	struct arp_lookup_result r;
	struct arp_release rel;
	struct arp_ipv4 msg;
	struct rte_ether_addr mac;
	struct rte_mbuf *left[8];
	const struct arp_cache_stats *st;

	(void)state;
	cfg.capacity = 4;
	fixture_open(&f, &cfg);
	st = arp_cache_get_stats(f.cache);
	/* Four resolved entries confirmed at T0 + 0, 10, 20, 30. */
	for (uint8_t i = 0; i < 4; i++) {
		msg = arp_from(RTE_ARP_OP_REPLY, &mac_a, ip4(10, 0, 0, i),
				f.local.ip[0]);
		assert_int_equal(arp_cache_input(f.cache, &msg, &f.local,
				T0 + i * 10, &rel), 1);
	}
	assert_int_equal(arp_cache_count(f.cache), 4);
	/* Refresh entry 0 so entry 1 is the least recently confirmed. */
	msg = arp_from(RTE_ARP_OP_REPLY, &mac_a, ip4(10, 0, 0, 0),
			f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0 + 40,
			&rel), 1);
	assert_int_equal(arp_cache_lookup(f.cache, ip4(10, 0, 0, 9), PKT(0),
			T0 + 50, &r), ARP_CACHE_PENDING);
	assert_int_equal(st->evicted, 1);
	assert_int_equal(arp_cache_peek(f.cache, ip4(10, 0, 0, 1), T0 + 50,
			&mac), -ENOENT);
	for (uint8_t i = 0; i < 4; i++)
		if (i != 1)
			assert_int_equal(arp_cache_peek(f.cache,
					ip4(10, 0, 0, i), T0 + 50, &mac), 0);
	/* Fill with pending entries: resolved ones are reused one by one. */
	assert_int_equal(arp_cache_lookup(f.cache, ip4(10, 0, 0, 10), PKT(1),
			T0 + 60, &r), ARP_CACHE_PENDING);
	assert_int_equal(arp_cache_lookup(f.cache, ip4(10, 0, 0, 11), PKT(2),
			T0 + 60, &r), ARP_CACHE_PENDING);
	assert_int_equal(arp_cache_lookup(f.cache, ip4(10, 0, 0, 12), PKT(3),
			T0 + 60, &r), ARP_CACHE_PENDING);
	assert_int_equal(st->evicted, 4);
	/* Now every entry is pending: the next address is refused and its
	 * packet stays with the caller. */
	assert_int_equal(arp_cache_lookup(f.cache, ip4(10, 0, 0, 13), PKT(4),
			T0 + 60, &r), ARP_CACHE_FULL);
	assert_null(r.evicted);
	assert_false(r.send_request);
	assert_int_equal(st->full, 1);
	/* An unsolicited reply cannot get an entry either. */
	msg = arp_from(RTE_ARP_OP_REPLY, &mac_a, ip4(10, 0, 0, 14),
			f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0 + 60,
			&rel), 0);
	assert_int_equal(arp_cache_drain(f.cache, left, 8), 4);
	free(f.mem);
}

static void
test_cache_capacity_prefers_expired(void **state)
{
	struct arp_cache_config cfg = default_config();
	struct cache_fixture f;
	struct arp_lookup_result r;
	struct arp_release rel;
	struct arp_ipv4 msg;
	struct rte_ether_addr mac;
	uint64_t lifetime = cfg.reachable_ns + cfg.max_requests * cfg.retry_ns;
	const struct arp_cache_stats *st;

	(void)state;
	cfg.capacity = 2;
	fixture_open(&f, &cfg);
	st = arp_cache_get_stats(f.cache);
	/* Entry 0 is older but entry 1 has expired. */
	msg = arp_from(RTE_ARP_OP_REPLY, &mac_a, ip4(10, 0, 0, 1),
			f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0, &rel), 1);
	msg = arp_from(RTE_ARP_OP_REPLY, &mac_a, ip4(10, 0, 0, 2),
			f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local, T0 + 10,
			&rel), 1);
	msg = arp_from(RTE_ARP_OP_REPLY, &mac_a, ip4(10, 0, 0, 1),
			f.local.ip[0]);
	assert_int_equal(arp_cache_input(f.cache, &msg, &f.local,
			T0 + lifetime, &rel), 1);
	assert_int_equal(arp_cache_lookup(f.cache, ip4(10, 0, 0, 3), NULL,
			T0 + lifetime + 10, &r), ARP_CACHE_PENDING);
	assert_int_equal(st->evicted, 0);
	assert_int_equal(st->expired, 1);
	assert_int_equal(arp_cache_peek(f.cache, ip4(10, 0, 0, 1),
			T0 + lifetime + 10, &mac), 0);
	fixture_close(&f);
}

/* Many inserts and removals through the open-addressing index, checked
 * against the set of addresses that should be present. */
static void
test_cache_index_churn(void **state)
{
	struct arp_cache_config cfg = default_config();
	struct cache_fixture f;
	struct arp_release rel;
	struct arp_ipv4 msg;
	struct rte_ether_addr mac;
	struct rte_mbuf *dropped[8];
	rte_be32_t requests[4];
	uint64_t lifetime;
	uint32_t n_dropped;
	bool present[600];
	uint64_t confirmed[600];
	uint64_t now = T0;

	(void)state;
	cfg.capacity = 256;
	cfg.reachable_ns = 1000;
	cfg.retry_ns = 1;
	cfg.max_requests = 1;
	lifetime = cfg.reachable_ns + 1;
	fixture_open(&f, &cfg);
	memset(present, 0, sizeof(present));
	for (int round = 0; round < 40; round++) {
		uint8_t seed[256];

		test_fill(seed, sizeof(seed), (uint64_t)round + 1);
		/* Insert up to 100 addresses from a pool of 600 clustered in
		 * one /22, confirmed at staggered times. */
		for (int i = 0; i < 100; i++) {
			uint32_t k = (uint32_t)(seed[2 * i] << 8 | seed[2 * i + 1]) %
				600;

			if (arp_cache_count(f.cache) == cfg.capacity)
				break;
			msg = arp_from(RTE_ARP_OP_REPLY, &mac_a,
					ip4(10, 1, (uint8_t)(k >> 8), (uint8_t)k),
					f.local.ip[0]);
			assert_int_equal(arp_cache_input(f.cache, &msg, &f.local,
					now, &rel), 1);
			present[k] = true;
			confirmed[k] = now;
			now += 7;
		}
		/* Expire roughly the older half. */
		now += lifetime / 2;
		arp_cache_tick(f.cache, now, requests, 4, dropped, 8,
				&n_dropped);
		for (uint32_t k = 0; k < 600; k++) {
			rte_be32_t ip = ip4(10, 1, (uint8_t)(k >> 8), (uint8_t)k);

			if (present[k] && now - confirmed[k] >= lifetime)
				present[k] = false;
			assert_int_equal(arp_cache_peek(f.cache, ip, now, &mac),
					present[k] ? 0 : -ENOENT);
		}
	}
	fixture_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ether_header),
		cmocka_unit_test(test_ether_header_malformed),
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_arp_reply),
		cmocka_unit_test(test_arp_malformed),
		cmocka_unit_test(test_cache_config),
		cmocka_unit_test(test_cache_resolution),
		cmocka_unit_test(test_cache_resolution_fails),
		cmocka_unit_test(test_cache_tick_request_budget),
		cmocka_unit_test(test_cache_expiry),
		cmocka_unit_test(test_cache_learning_rules),
		cmocka_unit_test(test_cache_capacity),
		cmocka_unit_test(test_cache_capacity_prefers_expired),
		cmocka_unit_test(test_cache_index_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
