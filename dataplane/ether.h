/* Ethernet II framing, ARP for IPv4 over Ethernet (RFC 826) and the
 * per-worker ARP cache.
 *
 * Parsers follow the project convention
 *   int foo_parse(const uint8_t **p, const uint8_t *end, struct foo *out)
 * returning 0 and advancing *p over the bytes they consumed, or a negative
 * errno value (leaving *p untouched): -EINVAL for malformed or truncated
 * input, -ENOTSUP for well-formed input this stack does not handle (VLAN
 * tags, ARP for other hardware or protocol types, RARP/InARP opcodes).
 * Encoders return the number of bytes written or -EMSGSIZE when out_len is
 * too small. None of them reads or writes outside the given buffer.
 *
 * IPv4 addresses are rte_be32_t in network byte order everywhere (as they
 * sit on the wire); every other integer in the structs is in host order.
 *
 * The ARP cache never allocates and never frees mbufs: it stores the mbuf
 * pointers it is asked to hold and hands them back to the caller, who
 * transmits or frees them. It never dereferences them, so the cache logic is
 * usable (and tested) without an EAL.
 */
#ifndef HSRELAY_DATAPLANE_ETHER_H
#define HSRELAY_DATAPLANE_ETHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>

struct rte_mbuf;

/* Ethernet II header: destination, source, EtherType (IEEE 802.3 clause 3). */
#define ETHER_HEADER_LEN 14
/* ARP body for IPv4 over Ethernet: 8-byte fixed part + 2 * (6 + 4). */
#define ARP_IPV4_LEN 28
/* A whole ARP frame as this stack builds it (without the padding to the
 * 60-byte Ethernet minimum, which the NIC or PMD adds). */
#define ARP_FRAME_LEN (ETHER_HEADER_LEN + ARP_IPV4_LEN)

/* Most local IPv4 addresses one worker answers for. */
#define NET_LOCAL_MAX_IP 4

/* The addresses a worker owns: its port's MAC and up to NET_LOCAL_MAX_IP
 * IPv4 addresses. */
struct net_local {
	struct rte_ether_addr mac;
	uint32_t n_ip;
	rte_be32_t ip[NET_LOCAL_MAX_IP];
};

static inline bool
net_local_has_ip(const struct net_local *local, rte_be32_t ip)
{
	for (uint32_t i = 0; i < local->n_ip && i < NET_LOCAL_MAX_IP; i++)
		if (local->ip[i] == ip)
			return true;
	return false;
}

/* An Ethernet II header. ether_type is in host order. */
struct ether_header {
	struct rte_ether_addr dst;
	struct rte_ether_addr src;
	uint16_t ether_type;
};

/* Parses the 14-byte Ethernet II header at *p. Returns -EINVAL when fewer
 * than 14 bytes remain or the type field is an IEEE 802.3 length
 * (< 0x0600), -ENOTSUP for 802.1Q/802.1ad VLAN tags (this stack runs on
 * untagged ports). */
int ether_header_parse(const uint8_t **p, const uint8_t *end,
		struct ether_header *out);

/* Writes the 14-byte header. Returns 14 or -EMSGSIZE. */
ssize_t ether_header_encode(const struct ether_header *in, uint8_t *out,
		size_t out_len);

/* An ARP message for IPv4 over Ethernet (RFC 826): hardware type 1,
 * protocol 0x0800, address lengths 6 and 4. op is RTE_ARP_OP_REQUEST or
 * RTE_ARP_OP_REPLY. */
struct arp_ipv4 {
	uint16_t op;
	struct rte_ether_addr sender_mac;
	rte_be32_t sender_ip;
	struct rte_ether_addr target_mac;
	rte_be32_t target_ip;
};

/* Parses the 28-byte ARP body at *p (bytes after it, such as Ethernet
 * padding, are left alone). Returns -EINVAL when truncated or when the
 * hardware/protocol types say Ethernet/IPv4 but the address lengths are not
 * 6/4, -ENOTSUP for other hardware or protocol types and for opcodes other
 * than request and reply. */
int arp_ipv4_parse(const uint8_t **p, const uint8_t *end,
		struct arp_ipv4 *out);

/* Writes the 28-byte ARP body. Returns 28, -EINVAL for an opcode other
 * than request or reply, or -EMSGSIZE. */
ssize_t arp_ipv4_encode(const struct arp_ipv4 *in, uint8_t *out,
		size_t out_len);

/* Builds a whole broadcast "who has target_ip" frame (ARP_FRAME_LEN bytes)
 * from our_mac/our_ip, with a zero target hardware address (RFC 826).
 * Returns ARP_FRAME_LEN or -EMSGSIZE. */
ssize_t arp_request_build(const struct rte_ether_addr *our_mac,
		rte_be32_t our_ip, rte_be32_t target_ip, uint8_t *out,
		size_t out_len);

/* Turns the ARP request frame [frame, frame + len) (Ethernet header and ARP
 * body, already validated) into the reply from local in place: opcode 2,
 * the requester becomes the target, local->mac and the requested address
 * the sender; the Ethernet destination becomes the requester and the source
 * local->mac. Returns 0, -EINVAL when len < ARP_FRAME_LEN or the frame is not
 * an Ethernet/IPv4 request, -ENOENT when the requested address is not one
 * of local's. */
int arp_reply_in_place(uint8_t *frame, size_t len,
		const struct net_local *local);

/* ARP cache
 *
 * A fixed-capacity table from IPv4 address to MAC, one per worker, placed in
 * memory the caller provides (so the worker can put it on its own NUMA node
 * and the tests in plain malloc'ed memory). Every call takes the current
 * time `now` in nanoseconds; the cache never reads a clock.
 *
 * Entry life:
 * - A lookup miss creates a pending entry and asks the caller to send a
 *   request. Up to held_per_entry packets for the address are held; when one
 *   more arrives the oldest held packet is pushed out and handed back to be
 *   freed (the same policy as Linux's unresolved queue). At most one request
 *   per retry_ns is asked for, max_requests in all; retry_ns after the last
 *   one the resolution has failed: lookups then return ARP_CACHE_UNREACHABLE
 *   and arp_cache_tick() drops the held packets and frees the entry, so the
 *   next packet starts over.
 * - A reply (or any ARP naming the address as sender, RFC 826 merge rule)
 *   resolves it and releases the held packets, oldest first.
 * - A resolved entry is used without question for reachable_ns after it was
 *   last confirmed. For another max_requests * retry_ns after that it is
 *   still used, and lookups ask for a refresh request (at most one per
 *   retry_ns); if nothing confirms it by then it expires.
 * - When the table is full a new address takes an expired entry, else the
 *   least recently confirmed resolved entry; when every entry is pending the
 *   lookup returns ARP_CACHE_FULL.
 */

/* Upper bound of arp_cache_config.held_per_entry. */
#define ARP_CACHE_HELD_MAX 16

struct arp_cache_config {
	uint32_t capacity;       /* entries, 1 .. 1 << 20 */
	uint32_t held_per_entry; /* packets held per pending address, 0 .. ARP_CACHE_HELD_MAX */
	uint32_t max_requests;   /* requests per resolution, >= 1 */
	uint64_t reachable_ns;   /* lifetime of a confirmation, > 0 */
	uint64_t retry_ns;       /* minimum spacing of requests for one address, > 0 */
};

/* Event counters; every field counts calls or packets as named. */
struct arp_cache_stats {
	uint64_t hits;            /* lookups answered from a fresh entry */
	uint64_t stale_hits;      /* answered from an entry past reachable_ns */
	uint64_t misses;          /* lookups that created a pending entry */
	uint64_t pending_lookups; /* lookups on an entry still pending */
	uint64_t unreachable;     /* lookups on a failed resolution */
	uint64_t full;            /* lookups refused: every entry pending */
	uint64_t requests;        /* requests asked of the caller (incl. refresh) */
	uint64_t held;            /* packets taken into a pending entry */
	uint64_t held_evicted;    /* held packets pushed out by newer ones */
	uint64_t released;        /* held packets released on resolution */
	uint64_t failed;          /* resolutions given up by arp_cache_tick() */
	uint64_t failed_dropped;  /* held packets dropped with them */
	uint64_t inserts;         /* entries created by received ARP */
	uint64_t updates;         /* entries confirmed or changed by received ARP */
	uint64_t resolved;        /* pending entries resolved */
	uint64_t mac_changes;     /* resolved entries whose MAC changed */
	uint64_t expired;         /* entries freed after their lifetime */
	uint64_t evicted;         /* live resolved entries reused when full */
	uint64_t ignored;         /* received ARP that taught nothing */
	uint64_t conflicts;       /* received ARP claiming one of our addresses */
};

enum arp_cache_status {
	ARP_CACHE_HIT = 0,     /* result->mac is valid; the caller sends pkt */
	ARP_CACHE_PENDING,     /* pkt (if not NULL) is now held by the cache */
	ARP_CACHE_UNREACHABLE, /* resolution failed; pkt stays with the caller */
	ARP_CACHE_FULL,        /* no entry available; pkt stays with the caller */
};

/* What a lookup asks of the caller besides its status. */
struct arp_lookup_result {
	struct rte_ether_addr mac;  /* on ARP_CACHE_HIT */
	bool send_request;          /* send a request for the address now */
	struct rte_mbuf *evicted;   /* a held packet pushed out: caller frees it */
};

/* Packets released by a resolution, all to be sent to mac. */
struct arp_release {
	struct rte_ether_addr mac;
	uint32_t n;
	struct rte_mbuf *pkts[ARP_CACHE_HELD_MAX];
};

struct arp_cache;

/* Bytes of memory arp_cache_init() needs for cfg, or 0 if cfg is invalid. */
size_t arp_cache_footprint(const struct arp_cache_config *cfg);

/* Lays an empty cache out in mem (8-byte aligned, at least
 * arp_cache_footprint(cfg) bytes). Returns the cache, which lives in mem, or
 * NULL if cfg is invalid or mem is too small or misaligned. Nothing needs
 * to be released: the caller frees mem after handing every held packet back
 * (arp_cache_drain()). */
struct arp_cache *arp_cache_init(void *mem, size_t mem_len,
		const struct arp_cache_config *cfg);

/* Resolves ip for sending pkt (which may be NULL for a bare lookup). See the
 * entry life above for what each status means. On ARP_CACHE_PENDING the
 * cache owns pkt until it comes back through arp_cache_input(),
 * arp_cache_tick(), arp_cache_drain() or result->evicted. */
enum arp_cache_status arp_cache_lookup(struct arp_cache *cache, rte_be32_t ip,
		struct rte_mbuf *pkt, uint64_t now, struct arp_lookup_result *result);

/* Reads the MAC of a resolved, unexpired entry without changing anything.
 * Returns 0 or -ENOENT. */
int arp_cache_peek(const struct arp_cache *cache, rte_be32_t ip, uint64_t now,
		struct rte_ether_addr *mac);

/* Learns from a received ARP message (RFC 826 "Packet Reception"): an
 * existing entry for the sender address is confirmed and its MAC updated;
 * a new one is created only when the message is addressed to one of local's
 * addresses. A gratuitous ARP (sender address == target address) therefore
 * updates but never creates. Messages from 0.0.0.0 (RFC 5227 probes), from a
 * multicast MAC, or claiming one of local's addresses teach nothing.
 * If a pending entry is resolved, its held packets are moved to release
 * (release->n of them, possibly 0). Returns 1 if the table changed, else 0. */
int arp_cache_input(struct arp_cache *cache, const struct arp_ipv4 *msg,
		const struct net_local *local, uint64_t now,
		struct arp_release *release);

/* Periodic work, O(capacity); call it from the timer phase every few
 * retry_ns at most. Frees expired entries and failed resolutions, moving
 * the latter's held packets to dropped[] for the caller to free; writes the
 * address of every pending resolution that is due another request to
 * requests[] (the caller sends them). Stops early when either array is full;
 * the rest is done on the next call. Returns the number of requests written
 * and sets *n_dropped. */
uint32_t arp_cache_tick(struct arp_cache *cache, uint64_t now,
		rte_be32_t *requests, uint32_t max_requests,
		struct rte_mbuf **dropped, uint32_t max_dropped,
		uint32_t *n_dropped);

/* Hands back every held packet (at shutdown), at most max of them per call.
 * Returns how many were written to pkts. */
uint32_t arp_cache_drain(struct arp_cache *cache, struct rte_mbuf **pkts,
		uint32_t max);

/* Number of entries in use (pending or resolved, expired or not). */
uint32_t arp_cache_count(const struct arp_cache *cache);

const struct arp_cache_stats *arp_cache_get_stats(const struct arp_cache *cache);

/* Handles one received ARP frame that net_classify_burst() put in the ARP
 * class (mbuf l2_len set, body validated): feeds the cache, and if it is a
 * request for one of local's addresses rewrites m in place into the reply.
 * Returns 1 when m is now a reply to transmit, 0 when the caller frees m,
 * or a negative error (malformed; the caller frees m). Packets released
 * by the resolution go to release; the caller sets their Ethernet
 * destination to release->mac and transmits them. */
int net_arp_input(struct arp_cache *cache, const struct net_local *local,
		struct rte_mbuf *m, uint64_t now, struct arp_release *release);

#endif
