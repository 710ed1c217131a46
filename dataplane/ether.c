/* Ethernet II framing, ARP for IPv4 over Ethernet and the ARP cache.
 *
 * Wire layouts:
 *   Ethernet II:  Destination[6] Source[6] EtherType[2]
 *   ARP (RFC 826, IPv4 over Ethernet):
 *     HardwareType[2]=1 ProtocolType[2]=0x0800 HLen[1]=6 PLen[1]=4 Op[2]
 *     SenderMAC[6] SenderIP[4] TargetMAC[6] TargetIP[4]
 */
#include "dataplane/ether.h"
#include "dataplane/wire.h"

#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

/* EtherType values below this are IEEE 802.3 length fields. */
#define ETHER_TYPE_MIN 0x0600

static bool
ether_type_is_vlan(uint16_t type)
{
	return type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ ||
		type == RTE_ETHER_TYPE_QINQ1 || type == RTE_ETHER_TYPE_QINQ2 ||
		type == RTE_ETHER_TYPE_QINQ3;
}

int
ether_header_parse(const uint8_t **p, const uint8_t *end,
		struct ether_header *out)
{
	const uint8_t *q = *p;
	uint16_t type;

	if (end - q < ETHER_HEADER_LEN)
		return -EINVAL;
	type = wire_read_u16(q + 12);
	if (type < ETHER_TYPE_MIN)
		return -EINVAL;
	if (ether_type_is_vlan(type))
		return -ENOTSUP;
	memcpy(out->dst.addr_bytes, q, RTE_ETHER_ADDR_LEN);
	memcpy(out->src.addr_bytes, q + 6, RTE_ETHER_ADDR_LEN);
	out->ether_type = type;
	*p = q + ETHER_HEADER_LEN;
	return 0;
}

ssize_t
ether_header_encode(const struct ether_header *in, uint8_t *out,
		size_t out_len)
{
	if (out_len < ETHER_HEADER_LEN)
		return -EMSGSIZE;
	memcpy(out, in->dst.addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(out + 6, in->src.addr_bytes, RTE_ETHER_ADDR_LEN);
	wire_write_u16(out + 12, in->ether_type);
	return ETHER_HEADER_LEN;
}

int
arp_ipv4_parse(const uint8_t **p, const uint8_t *end, struct arp_ipv4 *out)
{
	const uint8_t *q = *p;
	uint16_t op;

	if (end - q < ARP_IPV4_LEN)
		return -EINVAL;
	if (wire_read_u16(q) != RTE_ARP_HRD_ETHER ||
			wire_read_u16(q + 2) != RTE_ETHER_TYPE_IPV4)
		return -ENOTSUP;
	if (q[4] != RTE_ETHER_ADDR_LEN || q[5] != 4)
		return -EINVAL;
	op = wire_read_u16(q + 6);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return -ENOTSUP;
	out->op = op;
	memcpy(out->sender_mac.addr_bytes, q + 8, RTE_ETHER_ADDR_LEN);
	memcpy(&out->sender_ip, q + 14, 4);
	memcpy(out->target_mac.addr_bytes, q + 18, RTE_ETHER_ADDR_LEN);
	memcpy(&out->target_ip, q + 24, 4);
	*p = q + ARP_IPV4_LEN;
	return 0;
}

ssize_t
arp_ipv4_encode(const struct arp_ipv4 *in, uint8_t *out, size_t out_len)
{
	if (in->op != RTE_ARP_OP_REQUEST && in->op != RTE_ARP_OP_REPLY)
		return -EINVAL;
	if (out_len < ARP_IPV4_LEN)
		return -EMSGSIZE;
	wire_write_u16(out, RTE_ARP_HRD_ETHER);
	wire_write_u16(out + 2, RTE_ETHER_TYPE_IPV4);
	out[4] = RTE_ETHER_ADDR_LEN;
	out[5] = 4;
	wire_write_u16(out + 6, in->op);
	memcpy(out + 8, in->sender_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(out + 14, &in->sender_ip, 4);
	memcpy(out + 18, in->target_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(out + 24, &in->target_ip, 4);
	return ARP_IPV4_LEN;
}

ssize_t
arp_request_build(const struct rte_ether_addr *our_mac, rte_be32_t our_ip,
		rte_be32_t target_ip, uint8_t *out, size_t out_len)
{
	struct ether_header eth;
	struct arp_ipv4 arp;

	if (out_len < ARP_FRAME_LEN)
		return -EMSGSIZE;
	memset(&eth.dst, 0xff, sizeof(eth.dst));
	eth.src = *our_mac;
	eth.ether_type = RTE_ETHER_TYPE_ARP;
	memset(&arp, 0, sizeof(arp));
	arp.op = RTE_ARP_OP_REQUEST;
	arp.sender_mac = *our_mac;
	arp.sender_ip = our_ip;
	arp.target_ip = target_ip;
	ether_header_encode(&eth, out, out_len);
	arp_ipv4_encode(&arp, out + ETHER_HEADER_LEN, out_len - ETHER_HEADER_LEN);
	return ARP_FRAME_LEN;
}

int
arp_reply_in_place(uint8_t *frame, size_t len, const struct net_local *local)
{
	const uint8_t *p = frame + ETHER_HEADER_LEN;
	struct arp_ipv4 msg;

	if (len < ARP_FRAME_LEN || wire_read_u16(frame + 12) != RTE_ETHER_TYPE_ARP)
		return -EINVAL;
	if (arp_ipv4_parse(&p, frame + len, &msg) != 0 ||
			msg.op != RTE_ARP_OP_REQUEST)
		return -EINVAL;
	if (!net_local_has_ip(local, msg.target_ip))
		return -ENOENT;
	wire_write_u16(frame + ETHER_HEADER_LEN + 6, RTE_ARP_OP_REPLY);
	/* Sender fields: our MAC and the address that was asked for. */
	memcpy(frame + ETHER_HEADER_LEN + 8, local->mac.addr_bytes,
			RTE_ETHER_ADDR_LEN);
	memcpy(frame + ETHER_HEADER_LEN + 14, &msg.target_ip, 4);
	/* Target fields: the requester. */
	memcpy(frame + ETHER_HEADER_LEN + 18, msg.sender_mac.addr_bytes,
			RTE_ETHER_ADDR_LEN);
	memcpy(frame + ETHER_HEADER_LEN + 24, &msg.sender_ip, 4);
	memcpy(frame, msg.sender_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(frame + 6, local->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	return 0;
}

/* ARP cache. Entries live in a fixed array threaded by a free list; an open
 * addressing index (linear probing, at least twice as many slots as entries,
 * backward-shift deletion so no tombstones build up) maps an address to its
 * entry. Held packets of entry i live in a ring at held[i * held_per_entry]. */

enum arp_entry_state {
	ARP_ENTRY_FREE = 0,
	ARP_ENTRY_PENDING,
	ARP_ENTRY_RESOLVED,
};

#define ARP_NO_ENTRY UINT32_MAX

struct arp_entry {
	uint64_t confirmed_at;    /* resolved: last confirmation */
	uint64_t requested_at;    /* last request asked of the caller */
	rte_be32_t ip;
	uint32_t next_free;
	struct rte_ether_addr mac;
	uint8_t state;
	uint8_t requests;         /* requests in this resolution or refresh */
	uint8_t held_head;        /* ring index of the oldest held packet */
	uint8_t n_held;
};

struct arp_cache {
	struct arp_cache_config cfg;
	struct arp_cache_stats stats;
	uint32_t slot_mask;       /* number of slots - 1 */
	uint32_t slot_shift;      /* 32 - log2(number of slots) */
	uint32_t free_head;
	uint32_t n_used;
	struct arp_entry *entries;
	uint32_t *slots;          /* entry index + 1, 0 = empty */
	struct rte_mbuf **held;
};

#define ARP_CACHE_CAPACITY_MAX (1u << 20)

static bool
arp_config_is_valid(const struct arp_cache_config *cfg)
{
	return cfg->capacity >= 1 && cfg->capacity <= ARP_CACHE_CAPACITY_MAX &&
		cfg->held_per_entry <= ARP_CACHE_HELD_MAX &&
		cfg->max_requests >= 1 && cfg->max_requests <= UINT8_MAX &&
		cfg->reachable_ns > 0 && cfg->retry_ns > 0;
}

static uint32_t
arp_slot_count(uint32_t capacity)
{
	uint32_t n = 2;

	while (n < 2 * capacity)
		n <<= 1;
	return n;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

size_t
arp_cache_footprint(const struct arp_cache_config *cfg)
{
	if (!arp_config_is_valid(cfg))
		return 0;
	return align8(sizeof(struct arp_cache)) +
		align8((size_t)cfg->capacity * sizeof(struct arp_entry)) +
		align8((size_t)arp_slot_count(cfg->capacity) * sizeof(uint32_t)) +
		(size_t)cfg->capacity * cfg->held_per_entry *
			sizeof(struct rte_mbuf *);
}

struct arp_cache *
arp_cache_init(void *mem, size_t mem_len, const struct arp_cache_config *cfg)
{
	size_t need = arp_cache_footprint(cfg);
	struct arp_cache *cache = mem;
	uint8_t *cursor = mem;
	uint32_t n_slots;

	if (need == 0 || mem == NULL || mem_len < need ||
			((uintptr_t)mem & 7) != 0)
		return NULL;
	memset(mem, 0, need);
	n_slots = arp_slot_count(cfg->capacity);
	cache->cfg = *cfg;
	cache->slot_mask = n_slots - 1;
	cache->slot_shift = 32 - (uint32_t)__builtin_ctz(n_slots);
	cursor += align8(sizeof(struct arp_cache));
	cache->entries = (struct arp_entry *)cursor;
	cursor += align8((size_t)cfg->capacity * sizeof(struct arp_entry));
	cache->slots = (uint32_t *)cursor;
	cursor += align8((size_t)n_slots * sizeof(uint32_t));
	cache->held = (struct rte_mbuf **)cursor;
	for (uint32_t i = 0; i < cfg->capacity; i++)
		cache->entries[i].next_free = i + 1 < cfg->capacity ?
			i + 1 : ARP_NO_ENTRY;
	cache->free_head = 0;
	return cache;
}

static uint32_t
arp_home_slot(const struct arp_cache *cache, rte_be32_t ip)
{
	/* Fibonacci hashing: the top bits of a multiplicative hash. */
	return (uint32_t)(((uint32_t)ip * 0x9e3779b1u) >> cache->slot_shift) &
		cache->slot_mask;
}

static uint32_t
arp_find_slot(const struct arp_cache *cache, rte_be32_t ip)
{
	uint32_t slot = arp_home_slot(cache, ip);

	for (;;) {
		uint32_t v = cache->slots[slot];

		if (v == 0 || cache->entries[v - 1].ip == ip)
			return slot;
		slot = (slot + 1) & cache->slot_mask;
	}
}

static struct arp_entry *
arp_find(const struct arp_cache *cache, rte_be32_t ip)
{
	uint32_t v = cache->slots[arp_find_slot(cache, ip)];

	return v == 0 ? NULL : &cache->entries[v - 1];
}

static uint32_t
arp_entry_index(const struct arp_cache *cache, const struct arp_entry *e)
{
	return (uint32_t)(e - cache->entries);
}

static struct rte_mbuf **
arp_held_ring(const struct arp_cache *cache, const struct arp_entry *e)
{
	return &cache->held[(size_t)arp_entry_index(cache, e) *
		cache->cfg.held_per_entry];
}

/* Takes the oldest held packet out of e. */
static struct rte_mbuf *
arp_held_pop(struct arp_cache *cache, struct arp_entry *e)
{
	struct rte_mbuf **ring = arp_held_ring(cache, e);
	struct rte_mbuf *m = ring[e->held_head];

	ring[e->held_head] = NULL;
	e->held_head = (uint8_t)((e->held_head + 1) % cache->cfg.held_per_entry);
	e->n_held--;
	return m;
}

/* Removes e from the index and puts it on the free list. Its held packets
 * must have been taken out. */
static void
arp_remove(struct arp_cache *cache, struct arp_entry *e)
{
	uint32_t hole = arp_find_slot(cache, e->ip);
	uint32_t slot = hole;

	/* Backward-shift deletion: move later members of the probe run into
	 * the hole when the hole lies between their home slot and them. */
	for (;;) {
		uint32_t v, home;

		slot = (slot + 1) & cache->slot_mask;
		v = cache->slots[slot];
		if (v == 0)
			break;
		home = arp_home_slot(cache, cache->entries[v - 1].ip);
		if (((slot - home) & cache->slot_mask) >=
				((slot - hole) & cache->slot_mask)) {
			cache->slots[hole] = v;
			hole = slot;
		}
	}
	cache->slots[hole] = 0;
	e->state = ARP_ENTRY_FREE;
	e->next_free = cache->free_head;
	cache->free_head = arp_entry_index(cache, e);
	cache->n_used--;
}

static uint64_t
arp_age(uint64_t now, uint64_t since)
{
	return now > since ? now - since : 0;
}

/* Time after the last confirmation when a resolved entry stops being used. */
static uint64_t
arp_lifetime(const struct arp_cache *cache)
{
	return cache->cfg.reachable_ns +
		(uint64_t)cache->cfg.max_requests * cache->cfg.retry_ns;
}

static bool
arp_resolved_is_expired(const struct arp_cache *cache,
		const struct arp_entry *e, uint64_t now)
{
	return arp_age(now, e->confirmed_at) >= arp_lifetime(cache);
}

static bool
arp_pending_has_failed(const struct arp_cache *cache,
		const struct arp_entry *e, uint64_t now)
{
	return e->requests >= cache->cfg.max_requests &&
		arp_age(now, e->requested_at) >= cache->cfg.retry_ns;
}

/* Finds an entry for a new address: a free one, else an expired resolved
 * one, else the least recently confirmed resolved one. */
static struct arp_entry *
arp_take_entry(struct arp_cache *cache, uint64_t now)
{
	struct arp_entry *oldest = NULL;
	struct arp_entry *e;

	if (cache->free_head == ARP_NO_ENTRY) {
		for (uint32_t i = 0; i < cache->cfg.capacity; i++) {
			struct arp_entry *e = &cache->entries[i];

			if (e->state != ARP_ENTRY_RESOLVED)
				continue;
			if (arp_resolved_is_expired(cache, e, now)) {
				oldest = e;
				cache->stats.expired++;
				break;
			}
			if (oldest == NULL ||
					e->confirmed_at < oldest->confirmed_at)
				oldest = e;
		}
		if (oldest == NULL)
			return NULL;
		if (!arp_resolved_is_expired(cache, oldest, now))
			cache->stats.evicted++;
		arp_remove(cache, oldest);
	}
	e = &cache->entries[cache->free_head];
	cache->free_head = e->next_free;
	cache->n_used++;
	memset(e, 0, sizeof(*e));
	return e;
}

static struct arp_entry *
arp_insert(struct arp_cache *cache, rte_be32_t ip, uint64_t now)
{
	struct arp_entry *e = arp_take_entry(cache, now);

	if (e == NULL)
		return NULL;
	e->ip = ip;
	cache->slots[arp_find_slot(cache, ip)] = arp_entry_index(cache, e) + 1;
	return e;
}

/* Puts pkt into a pending entry, pushing out the oldest when full. */
static void
arp_hold(struct arp_cache *cache, struct arp_entry *e, struct rte_mbuf *pkt,
		struct arp_lookup_result *result)
{
	uint32_t cap = cache->cfg.held_per_entry;

	if (pkt == NULL)
		return;
	if (cap == 0) {
		result->evicted = pkt;
		cache->stats.held_evicted++;
		return;
	}
	if (e->n_held == cap) {
		result->evicted = arp_held_pop(cache, e);
		cache->stats.held_evicted++;
	}
	arp_held_ring(cache, e)[(e->held_head + e->n_held) % cap] = pkt;
	e->n_held++;
	cache->stats.held++;
}

static bool
arp_request_is_due(const struct arp_cache *cache, const struct arp_entry *e,
		uint64_t now)
{
	return e->requests < cache->cfg.max_requests &&
		(e->requests == 0 ||
		 arp_age(now, e->requested_at) >= cache->cfg.retry_ns);
}

static void
arp_note_request(struct arp_cache *cache, struct arp_entry *e, uint64_t now)
{
	e->requests++;
	e->requested_at = now;
	cache->stats.requests++;
}

enum arp_cache_status
arp_cache_lookup(struct arp_cache *cache, rte_be32_t ip, struct rte_mbuf *pkt,
		uint64_t now, struct arp_lookup_result *result)
{
	struct arp_entry *e = arp_find(cache, ip);

	result->send_request = false;
	result->evicted = NULL;
	if (e != NULL && e->state == ARP_ENTRY_RESOLVED) {
		uint64_t age = arp_age(now, e->confirmed_at);

		if (age < cache->cfg.reachable_ns) {
			result->mac = e->mac;
			cache->stats.hits++;
			return ARP_CACHE_HIT;
		}
		if (age < arp_lifetime(cache)) {
			/* Stale: keep using it, ask for a confirmation. */
			result->mac = e->mac;
			cache->stats.stale_hits++;
			if (arp_request_is_due(cache, e, now)) {
				arp_note_request(cache, e, now);
				result->send_request = true;
			}
			return ARP_CACHE_HIT;
		}
		/* Expired: resolve the address again from scratch. */
		cache->stats.expired++;
		memset(&e->mac, 0, sizeof(e->mac));
		e->state = ARP_ENTRY_PENDING;
		e->requests = 0;
		e->held_head = 0;
		e->n_held = 0;
		cache->stats.misses++;
	} else if (e != NULL) {
		if (arp_pending_has_failed(cache, e, now)) {
			cache->stats.unreachable++;
			return ARP_CACHE_UNREACHABLE;
		}
		cache->stats.pending_lookups++;
	} else {
		e = arp_insert(cache, ip, now);
		if (e == NULL) {
			cache->stats.full++;
			return ARP_CACHE_FULL;
		}
		e->state = ARP_ENTRY_PENDING;
		cache->stats.misses++;
	}
	arp_hold(cache, e, pkt, result);
	if (arp_request_is_due(cache, e, now)) {
		arp_note_request(cache, e, now);
		result->send_request = true;
	}
	return ARP_CACHE_PENDING;
}

int
arp_cache_peek(const struct arp_cache *cache, rte_be32_t ip, uint64_t now,
		struct rte_ether_addr *mac)
{
	const struct arp_entry *e = arp_find(cache, ip);

	if (e == NULL || e->state != ARP_ENTRY_RESOLVED ||
			arp_resolved_is_expired(cache, e, now))
		return -ENOENT;
	*mac = e->mac;
	return 0;
}

int
arp_cache_input(struct arp_cache *cache, const struct arp_ipv4 *msg,
		const struct net_local *local, uint64_t now,
		struct arp_release *release)
{
	struct arp_entry *e;

	release->n = 0;
	release->mac = msg->sender_mac;
	if (net_local_has_ip(local, msg->sender_ip)) {
		cache->stats.conflicts++;
		return 0;
	}
	if (msg->sender_ip == 0 || rte_is_multicast_ether_addr(&msg->sender_mac) ||
			rte_is_zero_ether_addr(&msg->sender_mac)) {
		cache->stats.ignored++;
		return 0;
	}
	e = arp_find(cache, msg->sender_ip);
	if (e == NULL) {
		/* RFC 826: only a message addressed to us creates an entry. */
		if (msg->sender_ip == msg->target_ip ||
				!net_local_has_ip(local, msg->target_ip)) {
			cache->stats.ignored++;
			return 0;
		}
		e = arp_insert(cache, msg->sender_ip, now);
		if (e == NULL) {
			cache->stats.ignored++;
			return 0;
		}
		cache->stats.inserts++;
	} else if (e->state == ARP_ENTRY_PENDING) {
		cache->stats.resolved++;
		while (e->n_held > 0)
			release->pkts[release->n++] = arp_held_pop(cache, e);
		cache->stats.released += release->n;
	} else {
		if (!rte_is_same_ether_addr(&e->mac, &msg->sender_mac))
			cache->stats.mac_changes++;
		cache->stats.updates++;
	}
	e->state = ARP_ENTRY_RESOLVED;
	e->mac = msg->sender_mac;
	e->confirmed_at = now;
	e->requests = 0;
	e->held_head = 0;
	return 1;
}

uint32_t
arp_cache_tick(struct arp_cache *cache, uint64_t now, rte_be32_t *requests,
		uint32_t max_requests, struct rte_mbuf **dropped,
		uint32_t max_dropped, uint32_t *n_dropped)
{
	uint32_t n_requests = 0;

	*n_dropped = 0;
	for (uint32_t i = 0; i < cache->cfg.capacity; i++) {
		struct arp_entry *e = &cache->entries[i];

		if (e->state == ARP_ENTRY_RESOLVED) {
			if (arp_resolved_is_expired(cache, e, now)) {
				cache->stats.expired++;
				arp_remove(cache, e);
			}
			continue;
		}
		if (e->state != ARP_ENTRY_PENDING)
			continue;
		if (arp_pending_has_failed(cache, e, now)) {
			if (max_dropped - *n_dropped < e->n_held)
				continue;
			cache->stats.failed++;
			cache->stats.failed_dropped += e->n_held;
			while (e->n_held > 0)
				dropped[(*n_dropped)++] = arp_held_pop(cache, e);
			arp_remove(cache, e);
			continue;
		}
		if (arp_request_is_due(cache, e, now) &&
				n_requests < max_requests) {
			arp_note_request(cache, e, now);
			requests[n_requests++] = e->ip;
		}
	}
	return n_requests;
}

uint32_t
arp_cache_drain(struct arp_cache *cache, struct rte_mbuf **pkts, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < cache->cfg.capacity && n < max; i++) {
		struct arp_entry *e = &cache->entries[i];

		while (e->state == ARP_ENTRY_PENDING && e->n_held > 0 &&
				n < max)
			pkts[n++] = arp_held_pop(cache, e);
	}
	return n;
}

uint32_t
arp_cache_count(const struct arp_cache *cache)
{
	return cache->n_used;
}

const struct arp_cache_stats *
arp_cache_get_stats(const struct arp_cache *cache)
{
	return &cache->stats;
}

int
net_arp_input(struct arp_cache *cache, const struct net_local *local,
		struct rte_mbuf *m, uint64_t now, struct arp_release *release)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const uint8_t *p = frame + ETHER_HEADER_LEN;
	const uint8_t *end = frame + rte_pktmbuf_data_len(m);
	struct arp_ipv4 msg;
	int rc;

	release->n = 0;
	if (rte_pktmbuf_data_len(m) < ARP_FRAME_LEN)
		return -EINVAL;
	rc = arp_ipv4_parse(&p, end, &msg);
	if (rc != 0)
		return rc;
	arp_cache_input(cache, &msg, local, now, release);
	if (msg.op != RTE_ARP_OP_REQUEST || msg.sender_ip == msg.target_ip ||
			!net_local_has_ip(local, msg.target_ip))
		return 0;
	if (arp_reply_in_place(frame, ARP_FRAME_LEN, local) != 0)
		return 0;
	/* The reply is exactly an ARP frame; drop any received padding. */
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - ARP_FRAME_LEN));
	return 1;
}
