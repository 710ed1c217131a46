/* IPv4 (RFC 791), the Internet checksum (RFC 1071, RFC 1624), ICMP echo
 * (RFC 792) and the classification of a received burst for the worker.
 *
 * Parsers follow the project convention
 *   int foo_parse(const uint8_t **p, const uint8_t *end, struct foo *out)
 * returning 0 and advancing *p over the bytes they consumed, or a negative
 * errno value (leaving *p untouched): -EINVAL for malformed or truncated
 * input, -EBADMSG for a bad checksum, -ENOTSUP for well-formed input this
 * stack does not handle. Encoders return the bytes written or a negative
 * errno value (-EMSGSIZE when out_len is too small).
 *
 * IPv4 addresses are rte_be32_t in network byte order (as on the wire);
 * every other integer in the structs is in host order.
 */
#ifndef HSRELAY_DATAPLANE_IPV4_H
#define HSRELAY_DATAPLANE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dataplane/ether.h"

struct rte_mbuf;

#define IPV4_HEADER_MIN_LEN 20
#define IPV4_HEADER_MAX_LEN 60
/* Hop limit of every datagram this stack sends (RFC 1700's default, the
 * Linux default). */
#define IPV4_DEFAULT_TTL 64
/* Flags and offset field (RFC 791 3.1). */
#define IPV4_FLAG_RESERVED 0x8000
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

#define ICMP_ECHO_HEADER_LEN 8

/* One's complement sum of [buf, buf + len) folded to 16 bits and
 * complemented (RFC 1071), as a host-order number to be written to the wire
 * big-endian. Over a region that includes a correct checksum field the
 * result is 0. */
uint16_t inet_checksum(const void *buf, size_t len);

/* The TCP or UDP checksum over IPv4 (RFC 9293 3.1, RFC 768) of the bytes
 * of chain m from l4_off to its end (pkt_len), with the pseudo-header of
 * ip: the value rte_ipv4_udptcp_cksum_mbuf() gives (0 is written as
 * 0xffff), computed 32 bytes at a time (AVX2 where the CPU has it). The
 * L4 checksum field must be zero. Returns it host-order; 0 when l4_off is
 * past the end. */
uint16_t ipv4_l4_checksum_mbuf(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		uint32_t l4_off);

/* Copies len bytes from src to dst (not overlapping) and returns their
 * one's complement sum (RFC 1071) of native-order 16-bit words, folded to
 * 16 bits and not complemented: one pass over the bytes for both. */
uint16_t inet_copy_sum(void *dst, const void *src, size_t len);

/* Adds part, the folded sum of bytes that start offset bytes into the
 * summed data, to sum, the folded sum of the bytes before them: a part at
 * an odd offset has its bytes in the other halves of the words
 * (RFC 1071 2.B), so it is byte-swapped. */
uint16_t inet_sum_add(uint16_t sum, uint16_t part, uint32_t offset);

/* The checksum of ipv4_l4_checksum_mbuf() for L4 bytes given as a head of
 * head_len bytes (even: a header) at l4, checksum field zero, and the
 * folded sum of the bytes after it (inet_copy_sum(), inet_sum_add()); the
 * L4 length is taken from ip's total length. Host order. */
uint16_t ipv4_l4_checksum_split(const struct rte_ipv4_hdr *ip, const void *l4,
		uint32_t head_len, uint16_t tail_sum);

/* True when the L4 bytes of m from l4_off to its end, checksum field
 * included, verify against ip's pseudo-header (what
 * rte_ipv4_udptcp_cksum_mbuf_verify() accepts). */
bool ipv4_l4_checksum_mbuf_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		uint32_t l4_off);

/* RFC 1624 eqn. 3: the checksum old_checksum after one 16-bit word of the
 * covered data changed from old_word to new_word (all host order). Where
 * the full computation would give 0x0000 this returns the equivalent
 * 0xffff, which also verifies when the covered data is all zero. */
uint16_t inet_checksum_adjust(uint16_t old_checksum, uint16_t old_word,
		uint16_t new_word);

/* A parsed IPv4 header. */
struct ipv4_header {
	uint8_t header_len;      /* bytes, 20 .. 60, a multiple of 4 */
	uint8_t tos;
	uint16_t total_len;      /* header and payload */
	uint16_t packet_id;
	uint16_t fragment;       /* flags and offset field as on the wire */
	uint8_t ttl;
	uint8_t protocol;
	uint16_t checksum;       /* as received; ignored by the encoder */
	rte_be32_t src;
	rte_be32_t dst;
	const uint8_t *options;  /* header_len - 20 bytes, into the parsed buffer */
};

/* True for any piece of a fragmented datagram (RFC 791: MF set or a
 * non-zero offset). This stack does not reassemble: callers drop these. */
static inline bool
ipv4_is_fragment(const struct ipv4_header *h)
{
	return (h->fragment & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) != 0;
}

/* Parses and verifies the IPv4 header at *p: version 4, IHL >= 5 with the
 * whole header present, total length >= header length and <= the bytes in
 * [*p, end) (more bytes, e.g. Ethernet padding, are allowed), and a header
 * checksum that verifies (-EBADMSG otherwise). Fragments parse (see
 * ipv4_is_fragment()). Advances *p over the header only; the payload is the
 * next total_len - header_len bytes. */
int ipv4_header_parse(const uint8_t **p, const uint8_t *end,
		struct ipv4_header *out);

/* Writes the header in (with its options) and a freshly computed checksum.
 * Returns header_len, -EINVAL when header_len is not a multiple of 4 in
 * 20 .. 60 or total_len < header_len, or -EMSGSIZE. */
ssize_t ipv4_header_encode(const struct ipv4_header *in, uint8_t *out,
		size_t out_len);

/* Fast-path builder for the datagrams this stack sends: a 20-byte header
 * with DF set, TTL IPV4_DEFAULT_TTL and the checksum filled in. */
void ipv4_header_build(struct rte_ipv4_hdr *h, rte_be32_t src, rte_be32_t dst,
		uint8_t protocol, uint16_t payload_len, uint16_t packet_id);

/* An ICMP echo request (type 8) or reply (type 0), RFC 792. */
struct icmp_echo {
	uint8_t type;
	uint16_t id;
	uint16_t seq;
	const uint8_t *data;     /* into the parsed buffer */
	size_t data_len;
};

/* Parses the whole ICMP message [*p, end) (the caller bounds end by the IP
 * total length) as an echo request or reply and verifies its checksum over
 * the whole message. Returns -EINVAL when shorter than 8 bytes or the code
 * is not 0, -ENOTSUP for other ICMP types, -EBADMSG for a bad checksum.
 * Advances *p to end. */
int icmp_echo_parse(const uint8_t **p, const uint8_t *end,
		struct icmp_echo *out);

/* Writes the echo message in with its checksum. Returns 8 + data_len,
 * -EINVAL for a type other than 0 or 8, or -EMSGSIZE. */
ssize_t icmp_echo_encode(const struct icmp_echo *in, uint8_t *out,
		size_t out_len);

/* Turns the IPv4 datagram [ip, ip + len) holding a verified echo request
 * into the echo reply in place: addresses swapped, TTL IPV4_DEFAULT_TTL, IP
 * checksum recomputed, ICMP type 0 with the checksum adjusted incrementally
 * (RFC 1624). Options are kept. Returns 0, or -EINVAL if the datagram is
 * shorter than its headers or is not an ICMP echo request. */
int icmp_echo_reply_in_place(uint8_t *ip, size_t len);

/* Why a received frame was dropped by net_classify_burst(). */
enum net_drop_reason {
	NET_DROP_SEGMENTED = 0,  /* frame spans several mbuf segments */
	NET_DROP_ETHER_MALFORMED,
	NET_DROP_ETHER_VLAN,
	NET_DROP_ETHER_NOT_FOR_US, /* unicast to another MAC, or multicast */
	NET_DROP_ETHER_TYPE,     /* neither ARP nor IPv4 (IPv6 included) */
	NET_DROP_ARP_MALFORMED,
	NET_DROP_ARP_UNSUPPORTED,
	NET_DROP_IPV4_MALFORMED,
	NET_DROP_IPV4_CHECKSUM,
	NET_DROP_IPV4_FRAGMENT,
	NET_DROP_IPV4_NOT_FOR_US,
	NET_DROP_IPV4_PROTOCOL,  /* neither ICMP nor TCP */
	NET_DROP_ICMP_MALFORMED,
	NET_DROP_ICMP_CHECKSUM,
	NET_DROP_ICMP_TYPE,      /* anything but an echo request */
	NET_DROP_REASON_COUNT,
};

/* Short stable name of a drop reason (for metrics), or "unknown". */
const char *net_drop_reason_name(enum net_drop_reason reason);

/* Most frames net_classify_burst() takes per call. */
#define NET_BURST_MAX 64

/* One received burst sorted by kind. Pointers move from the input array to
 * exactly one of the class arrays. */
struct net_classes {
	uint16_t n_arp;
	uint16_t n_icmp;
	uint16_t n_tcp;
	uint16_t n_drop;
	struct rte_mbuf *arp[NET_BURST_MAX];  /* valid ARP for IPv4 */
	struct rte_mbuf *icmp[NET_BURST_MAX]; /* verified echo requests to us */
	struct rte_mbuf *tcp[NET_BURST_MAX];  /* IPv4 proto 6 to us */
	struct rte_mbuf *drop[NET_BURST_MAX];
	uint8_t drop_reason[NET_BURST_MAX];   /* enum net_drop_reason */
};

/* Running totals a worker keeps across bursts. */
struct net_counters {
	uint64_t rx_frames;
	uint64_t arp;
	uint64_t icmp_echo;
	uint64_t tcp;
	uint64_t drop[NET_DROP_REASON_COUNT];
};

/* Sorts pkts[0 .. min(n, NET_BURST_MAX)) into out (which it resets) and adds
 * to counters (which may be NULL). Frames must be addressed to local->mac
 * or broadcast; ARP must parse; IPv4 must verify, not be a fragment and be
 * addressed to one of local's addresses; ICMP must be a verified echo
 * request. For every frame kept, l2_len and (for IPv4) l3_len are set and
 * the mbuf is trimmed to the IPv4 total length, dropping Ethernet padding;
 * TCP headers and checksums are left to the TCP layer. Nothing is freed or
 * allocated: the caller owns every mbuf, now listed in out, and frees
 * out->drop. Returns the number of frames taken from pkts. */
uint16_t net_classify_burst(struct rte_mbuf *pkts[], uint16_t n,
		const struct net_local *local, struct net_classes *out,
		struct net_counters *counters);

/* Turns an ICMP-class mbuf from net_classify_burst() into the echo reply
 * in place (Ethernet addresses swapped with local->mac as the source, then
 * icmp_echo_reply_in_place()). Returns 0, the caller transmits m; or
 * -EINVAL, the caller frees m. */
int net_icmp_echo_reply(struct rte_mbuf *m, const struct net_local *local);

#endif
