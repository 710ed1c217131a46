/* libFuzzer target for dataplane/ether.c and the frame classifier:
 * - parses the input as an Ethernet II frame and, for ARP, the ARP body;
 *   what parses is re-encoded and must reproduce the input, and a request
 *   answered in place must parse as the matching reply;
 * - classifies the input as one received frame (in a stack-built mbuf that
 *   only the mbuf accessors touch, so no EAL is needed) and passes ARP and
 *   ICMP results on to net_arp_input() and net_icmp_echo_reply();
 * - drives an ARP cache with the input read as a list of operations and
 *   checks that every held packet comes back exactly once and the table
 *   never exceeds its capacity. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/ether.h"
#include "dataplane/ipv4.h"

static const struct rte_ether_addr our_mac = {{0x02, 0, 0, 0, 0x01, 0x02}};

static void
fuzz_arp_frame(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + ETHER_HEADER_LEN;
	uint8_t encoded[ARP_IPV4_LEN];
	uint8_t frame[ARP_FRAME_LEN];
	struct net_local local;
	struct arp_ipv4 arp, reply;
	int rc;

	rc = arp_ipv4_parse(&p, data + size, &arp);
	if (rc != 0) {
		if (p != data + ETHER_HEADER_LEN ||
				(rc != -EINVAL && rc != -ENOTSUP))
			abort();
		return;
	}
	if (p != data + ARP_FRAME_LEN)
		abort();
	if (arp_ipv4_encode(&arp, encoded, sizeof(encoded)) != ARP_IPV4_LEN ||
			memcmp(encoded, data + ETHER_HEADER_LEN, ARP_IPV4_LEN) != 0)
		abort();

	/* Answer it as the owner of the requested address. */
	memset(&local, 0, sizeof(local));
	local.mac = our_mac;
	local.n_ip = 1;
	local.ip[0] = arp.target_ip;
	memcpy(frame, data, sizeof(frame));
	rc = arp_reply_in_place(frame, sizeof(frame), &local);
	if (rc != 0) {
		if (rc != -EINVAL || arp.op == RTE_ARP_OP_REQUEST)
			abort();
		return;
	}
	p = frame + ETHER_HEADER_LEN;
	if (arp_ipv4_parse(&p, frame + sizeof(frame), &reply) != 0 ||
			reply.op != RTE_ARP_OP_REPLY ||
			reply.sender_ip != arp.target_ip ||
			reply.target_ip != arp.sender_ip ||
			!rte_is_same_ether_addr(&reply.sender_mac, &our_mac) ||
			!rte_is_same_ether_addr(&reply.target_mac,
				&arp.sender_mac) ||
			memcmp(frame, &arp.sender_mac, 6) != 0 ||
			memcmp(frame + 6, &our_mac, 6) != 0)
		abort();
}

static void
fuzz_frame(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	uint8_t encoded[ETHER_HEADER_LEN];
	struct ether_header eth;
	int rc;

	rc = ether_header_parse(&p, data + size, &eth);
	if (rc != 0) {
		if (p != data || (rc != -EINVAL && rc != -ENOTSUP))
			abort();
		return;
	}
	if (p != data + ETHER_HEADER_LEN ||
			ether_header_encode(&eth, encoded, sizeof(encoded)) !=
				ETHER_HEADER_LEN ||
			memcmp(encoded, data, ETHER_HEADER_LEN) != 0)
		abort();
	if (eth.ether_type == RTE_ETHER_TYPE_ARP)
		fuzz_arp_frame(data, size);
}

static uint8_t frame_buf[4096];
static uint64_t cache_mem[4096];

static struct arp_cache *
small_cache(void)
{
	struct arp_cache_config cfg = {
		.capacity = 4, .held_per_entry = 2, .max_requests = 2,
		.reachable_ns = 100, .retry_ns = 10,
	};

	return arp_cache_init(cache_mem, sizeof(cache_mem), &cfg);
}

static void
fuzz_classify(const uint8_t *data, size_t size)
{
	struct rte_mbuf m;
	struct rte_mbuf *pkts[1] = {&m};
	struct net_classes classes;
	struct net_counters counters;
	struct net_local local;
	struct arp_release release;
	struct arp_cache *cache;
	uint16_t len;

	if (size > sizeof(frame_buf))
		return;
	memcpy(frame_buf, data, size);
	memset(&m, 0, sizeof(m));
	m.buf_addr = frame_buf;
	m.buf_len = sizeof(frame_buf);
	m.data_off = 0;
	m.data_len = (uint16_t)size;
	m.pkt_len = (uint32_t)size;
	m.nb_segs = 1;
	memset(&local, 0, sizeof(local));
	local.mac = our_mac;
	local.n_ip = 2;
	local.ip[0] = rte_cpu_to_be_32(0x0a630102);
	/* Also own whatever address an IPv4 frame is sent to, so frames the
	 * fuzzer did not aim at 10.99.1.2 still get past the address check. */
	if (size >= ETHER_HEADER_LEN + 20)
		memcpy(&local.ip[1], data + ETHER_HEADER_LEN + 16, 4);
	memset(&counters, 0, sizeof(counters));
	if (net_classify_burst(pkts, 1, &local, &classes, &counters) != 1 ||
			classes.n_arp + classes.n_icmp + classes.n_tcp +
				classes.n_drop != 1 ||
			counters.rx_frames != 1)
		abort();
	len = rte_pktmbuf_data_len(&m);
	if (len > size || rte_pktmbuf_pkt_len(&m) != len)
		abort();
	if (classes.n_arp == 1) {
		cache = small_cache();
		if (cache == NULL ||
				net_arp_input(cache, &local, &m, 1, &release) < 0 ||
				release.n != 0)
			abort();
	}
	if (classes.n_icmp == 1 && net_icmp_echo_reply(&m, &local) != 0)
		abort();
	if (classes.n_drop == 1 &&
			classes.drop_reason[0] >= NET_DROP_REASON_COUNT)
		abort();
}

/* Stand-in packets for the cache; held[i] says token i is in the cache. */
#define N_TOKENS 256
static char tokens[N_TOKENS];
static bool held[N_TOKENS];

static void
returned(struct rte_mbuf *m)
{
	size_t i;

	if (m == NULL)
		return;
	i = (size_t)((char *)(void *)m - tokens);
	if (i >= N_TOKENS || !held[i])
		abort();
	held[i] = false;
}

static void
fuzz_cache(const uint8_t *data, size_t size)
{
	struct arp_cache *cache = small_cache();
	struct net_local local;
	struct arp_lookup_result result;
	struct arp_release release;
	struct rte_mbuf *dropped[8];
	struct rte_ether_addr mac;
	rte_be32_t requests[8];
	uint32_t n_dropped;
	uint64_t now = 0;
	size_t next_token = 0;

	if (cache == NULL)
		abort();
	memset(held, 0, sizeof(held));
	memset(&local, 0, sizeof(local));
	local.mac = our_mac;
	local.n_ip = 1;
	local.ip[0] = rte_cpu_to_be_32(0x0a000064);
	/* Each operation is 3 bytes: kind and address, time step, argument. */
	for (size_t i = 0; i + 3 <= size; i += 3) {
		uint8_t kind = data[i] & 3;
		rte_be32_t ip = rte_cpu_to_be_32(0x0a000000 | (data[i] >> 2 & 7));
		uint8_t arg = data[i + 2];
		struct arp_ipv4 msg;

		now += data[i + 1];
		switch (kind) {
		case 0: {
			struct rte_mbuf *pkt = NULL;
			enum arp_cache_status st;

			if ((arg & 1) && next_token < N_TOKENS)
				pkt = (struct rte_mbuf *)(void *)
					&tokens[next_token];
			st = arp_cache_lookup(cache, ip, pkt, now, &result);
			if (st == ARP_CACHE_PENDING && pkt != NULL) {
				held[next_token++] = true;
				returned(result.evicted);
			} else if (result.evicted != NULL) {
				abort();
			}
			if (st == ARP_CACHE_HIT &&
					arp_cache_peek(cache, ip, now, &mac) != 0)
				abort();
			break;
		}
		case 1:
			memset(&msg, 0, sizeof(msg));
			msg.op = (arg & 1) ? RTE_ARP_OP_REPLY :
				RTE_ARP_OP_REQUEST;
			msg.sender_mac.addr_bytes[0] = (uint8_t)(arg & 0x0e);
			msg.sender_mac.addr_bytes[5] = arg;
			msg.sender_ip = ip;
			msg.target_ip = (arg & 0x10) ? local.ip[0] :
				(arg & 0x20) ? ip : rte_cpu_to_be_32(0x0a000063);
			arp_cache_input(cache, &msg, &local, now, &release);
			if (release.n > 2)
				abort();
			for (uint32_t k = 0; k < release.n; k++)
				returned(release.pkts[k]);
			break;
		case 2:
			arp_cache_tick(cache, now, requests, arg & 7, dropped,
					arg >> 5, &n_dropped);
			if (n_dropped > (uint32_t)(arg >> 5))
				abort();
			for (uint32_t k = 0; k < n_dropped; k++)
				returned(dropped[k]);
			break;
		default:
			(void)arp_cache_peek(cache, ip, now, &mac);
			break;
		}
		if (arp_cache_count(cache) > 4)
			abort();
	}
	for (;;) {
		uint32_t n = arp_cache_drain(cache, dropped, 8);

		if (n == 0)
			break;
		for (uint32_t k = 0; k < n; k++)
			returned(dropped[k]);
	}
	for (size_t i = 0; i < N_TOKENS; i++)
		if (held[i])
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_frame(data, size);
	fuzz_classify(data, size);
	fuzz_cache(data, size);
	return 0;
}
