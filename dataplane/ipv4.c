/* IPv4 header, Internet checksum, ICMP echo and burst classification.
 *
 * Wire layouts:
 *   IPv4 (RFC 791 3.1): Version|IHL[1] TOS[1] TotalLength[2] ID[2]
 *     Flags|FragmentOffset[2] TTL[1] Protocol[1] HeaderChecksum[2]
 *     Source[4] Destination[4] Options[IHL * 4 - 20]
 *   ICMP echo (RFC 792): Type[1] Code[1] Checksum[2] Identifier[2]
 *     SequenceNumber[2] Data[...]
 */
#include "dataplane/ipv4.h"
#include "dataplane/wire.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_mbuf.h>

uint16_t
inet_checksum(const void *buf, size_t len)
{
	/* rte_raw_cksum() sums native-order words; the one's complement sum
	 * is byte-order independent (RFC 1071 2.B), so swapping the folded
	 * result gives the big-endian value. */
	return rte_be_to_cpu_16((uint16_t)~rte_raw_cksum(buf, len));
}

/* The one's complement sum of native-order 16-bit words (RFC 1071), the
 * sum rte_raw_cksum() makes, 32 bytes per step: eight 32-bit lanes each
 * add both halves of a 32-bit word. A lane gains at most 2 * 0xffff per
 * step, so the lanes are folded into the 64-bit total every
 * SUM_CHUNK bytes, long before they could overflow. */
#define SUM_BLOCK 32
#define SUM_CHUNK 65536
typedef uint32_t sum_lanes __attribute__((vector_size(SUM_BLOCK)));

static inline __attribute__((always_inline)) uint64_t
raw_sum_body(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;

	while (len >= 2 * SUM_BLOCK) {
		size_t chunk = len < SUM_CHUNK ? len : SUM_CHUNK;
		sum_lanes a = { 0 }, b = { 0 };

		len -= chunk - chunk % (2 * SUM_BLOCK);
		for (; chunk >= 2 * SUM_BLOCK; chunk -= 2 * SUM_BLOCK, p += 2 * SUM_BLOCK) {
			sum_lanes x, y;

			memcpy(&x, p, SUM_BLOCK);
			memcpy(&y, p + SUM_BLOCK, SUM_BLOCK);
			a += (x & 0xffff) + (x >> 16);
			b += (y & 0xffff) + (y >> 16);
		}
		for (unsigned i = 0; i < SUM_BLOCK / sizeof(uint32_t); i++)
			sum += (uint64_t)a[i] + b[i];
	}
	for (; len >= 2; len -= 2, p += 2) {
		uint16_t v;

		memcpy(&v, p, sizeof(v));
		sum += v;
	}
	if (len == 1) {
		/* The odd byte as the first byte of a word padded with zero,
		 * in memory order (RFC 1071 4.1), so the sum stays byte-order
		 * independent. */
		uint16_t v = 0;

		memcpy(&v, p, 1);
		sum += v;
	}
	return sum;
}

/* raw_sum_body() that also copies the bytes summed to dst: the segment
 * builder fills a packet from the send queue and sums it in one pass over
 * the bytes, while they are in registers. */
static inline __attribute__((always_inline)) uint64_t
copy_sum_body(uint8_t *dst, const uint8_t *p, size_t len)
{
	uint64_t sum = 0;

	while (len >= 2 * SUM_BLOCK) {
		size_t chunk = len < SUM_CHUNK ? len : SUM_CHUNK;
		sum_lanes a = { 0 }, b = { 0 };

		len -= chunk - chunk % (2 * SUM_BLOCK);
		for (; chunk >= 2 * SUM_BLOCK;
		     chunk -= 2 * SUM_BLOCK, p += 2 * SUM_BLOCK, dst += 2 * SUM_BLOCK) {
			sum_lanes x, y;

			memcpy(&x, p, SUM_BLOCK);
			memcpy(&y, p + SUM_BLOCK, SUM_BLOCK);
			memcpy(dst, &x, SUM_BLOCK);
			memcpy(dst + SUM_BLOCK, &y, SUM_BLOCK);
			a += (x & 0xffff) + (x >> 16);
			b += (y & 0xffff) + (y >> 16);
		}
		for (unsigned i = 0; i < SUM_BLOCK / sizeof(uint32_t); i++)
			sum += (uint64_t)a[i] + b[i];
	}
	/* The tail (under 64 bytes) in 8-byte words: summing 32-bit halves
	 * gives the same folded sum as 16-bit words, 2^16 being 1 modulo
	 * 0xffff. A variable-length memcpy() here would be a rep movs. */
	for (; len >= 8; len -= 8, p += 8, dst += 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		memcpy(dst, &v, sizeof(v));
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	sum += raw_sum_body(p, len);
	for (size_t i = 0; i < len; i++)
		dst[i] = p[i];
	return sum;
}

static uint64_t
raw_sum_generic(const uint8_t *p, size_t len)
{
	return raw_sum_body(p, len);
}

static uint64_t
copy_sum_generic(uint8_t *dst, const uint8_t *p, size_t len)
{
	return copy_sum_body(dst, p, len);
}

/* Both AVX2 variants are tuned for Haswell: generic tuning splits each
 * unaligned 32-byte load and store in two 16-byte halves. */
__attribute__((target("avx2,tune=haswell"))) static uint64_t
copy_sum_avx2(uint8_t *dst, const uint8_t *p, size_t len)
{
	return copy_sum_body(dst, p, len);
}

__attribute__((target("avx2,tune=haswell"))) static uint64_t
raw_sum_avx2(const uint8_t *p, size_t len)
{
	return raw_sum_body(p, len);
}

static uint64_t (*raw_sum)(const uint8_t *p, size_t len) = raw_sum_generic;
static uint64_t (*copy_sum)(uint8_t *dst, const uint8_t *p, size_t len) = copy_sum_generic;

/* Picked once at load, before any thread runs. */
__attribute__((constructor)) static void
raw_sum_pick(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2")) {
		raw_sum = raw_sum_avx2;
		copy_sum = copy_sum_avx2;
	}
}

static uint16_t
sum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The folded sum of the bytes [off, pkt_len) of chain m; false when off
 * is past the end. A segment that starts at an odd offset of the summed
 * bytes has its sum byte-swapped (RFC 1071 2.B). */
static bool
chain_sum(const struct rte_mbuf *m, uint32_t off, uint16_t *out)
{
	uint64_t sum = 0;
	uint32_t done = 0, len;

	if (off > m->pkt_len)
		return false;
	len = m->pkt_len - off;
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	for (; m != NULL && done < len; m = m->next, off = 0) {
		uint32_t n = RTE_MIN((uint32_t)m->data_len - off, len - done);
		uint16_t s = sum_fold(raw_sum(rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n));

		sum += (done & 1) ? rte_bswap16(s) : s;
		done += n;
	}
	*out = sum_fold(sum);
	return true;
}

uint16_t
ipv4_l4_checksum_mbuf(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t l4_off)
{
	uint16_t sum, checksum;

	if (!chain_sum(m, l4_off, &sum))
		return 0;
	/* Native-order words: the stored form of the result is already
	 * big-endian (RFC 1071 2.B); convert it for the caller. */
	checksum = (uint16_t)~sum_fold((uint64_t)sum + rte_ipv4_phdr_cksum(ip, 0));
	return checksum == 0 ? 0xffff : rte_be_to_cpu_16(checksum);
}

uint16_t
inet_copy_sum(void *dst, const void *src, size_t len)
{
	return sum_fold(copy_sum(dst, src, len));
}

uint16_t
inet_sum_add(uint16_t sum, uint16_t part, uint32_t offset)
{
	return sum_fold((uint64_t)sum + ((offset & 1) ? rte_bswap16(part) : part));
}

uint16_t
ipv4_l4_checksum_split(const struct rte_ipv4_hdr *ip, const void *l4, uint32_t head_len,
		uint16_t tail_sum)
{
	uint16_t checksum = (uint16_t)~sum_fold((uint64_t)sum_fold(raw_sum(l4, head_len)) +
			tail_sum + rte_ipv4_phdr_cksum(ip, 0));

	return checksum == 0 ? 0xffff : rte_be_to_cpu_16(checksum);
}

bool
ipv4_l4_checksum_mbuf_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t l4_off)
{
	uint16_t sum;

	return chain_sum(m, l4_off, &sum) &&
	       sum_fold((uint64_t)sum + rte_ipv4_phdr_cksum(ip, 0)) == 0xffff;
}

uint16_t
inet_checksum_adjust(uint16_t old_checksum, uint16_t old_word,
		uint16_t new_word)
{
	/* HC' = ~(~HC + ~m + m') in one's complement arithmetic. */
	uint32_t sum = (uint16_t)~old_checksum;
	uint16_t checksum;

	sum += (uint16_t)~old_word;
	sum += new_word;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	checksum = (uint16_t)~sum;
	/* A result of +0 means the covered data now sums to a zero of one's
	 * complement arithmetic, and the equation cannot tell which: if the
	 * data is all zero bytes only -0 (0xffff) verifies. -0 verifies in
	 * both cases, so it is the one written. */
	return checksum == 0 ? 0xffff : checksum;
}

int
ipv4_header_parse(const uint8_t **p, const uint8_t *end,
		struct ipv4_header *out)
{
	const uint8_t *q = *p;
	size_t avail = (size_t)(end - q);
	size_t header_len;
	uint16_t total_len;

	if (avail < IPV4_HEADER_MIN_LEN)
		return -EINVAL;
	if (q[0] >> 4 != 4)
		return -EINVAL;
	header_len = (size_t)(q[0] & 0x0f) * 4;
	if (header_len < IPV4_HEADER_MIN_LEN || header_len > avail)
		return -EINVAL;
	total_len = wire_read_u16(q + 2);
	if (total_len < header_len || total_len > avail)
		return -EINVAL;
	if (inet_checksum(q, header_len) != 0)
		return -EBADMSG;
	out->header_len = (uint8_t)header_len;
	out->tos = q[1];
	out->total_len = total_len;
	out->packet_id = wire_read_u16(q + 4);
	out->fragment = wire_read_u16(q + 6);
	out->ttl = q[8];
	out->protocol = q[9];
	out->checksum = wire_read_u16(q + 10);
	memcpy(&out->src, q + 12, 4);
	memcpy(&out->dst, q + 16, 4);
	out->options = q + IPV4_HEADER_MIN_LEN;
	*p = q + header_len;
	return 0;
}

ssize_t
ipv4_header_encode(const struct ipv4_header *in, uint8_t *out, size_t out_len)
{
	size_t header_len = in->header_len;

	if (header_len < IPV4_HEADER_MIN_LEN ||
			header_len > IPV4_HEADER_MAX_LEN || header_len % 4 != 0 ||
			in->total_len < header_len)
		return -EINVAL;
	if (out_len < header_len)
		return -EMSGSIZE;
	out[0] = (uint8_t)(0x40 | header_len / 4);
	out[1] = in->tos;
	wire_write_u16(out + 2, in->total_len);
	wire_write_u16(out + 4, in->packet_id);
	wire_write_u16(out + 6, in->fragment);
	out[8] = in->ttl;
	out[9] = in->protocol;
	wire_write_u16(out + 10, 0);
	memcpy(out + 12, &in->src, 4);
	memcpy(out + 16, &in->dst, 4);
	if (header_len > IPV4_HEADER_MIN_LEN)
		memcpy(out + IPV4_HEADER_MIN_LEN, in->options,
				header_len - IPV4_HEADER_MIN_LEN);
	wire_write_u16(out + 10, inet_checksum(out, header_len));
	return (ssize_t)header_len;
}

void
ipv4_header_build(struct rte_ipv4_hdr *h, rte_be32_t src, rte_be32_t dst,
		uint8_t protocol, uint16_t payload_len, uint16_t packet_id)
{
	h->version_ihl = RTE_IPV4_VHL_DEF;
	h->type_of_service = 0;
	h->total_length = rte_cpu_to_be_16((uint16_t)(payload_len +
			IPV4_HEADER_MIN_LEN));
	h->packet_id = rte_cpu_to_be_16(packet_id);
	h->fragment_offset = rte_cpu_to_be_16(IPV4_FLAG_DF);
	h->time_to_live = IPV4_DEFAULT_TTL;
	h->next_proto_id = protocol;
	h->hdr_checksum = 0;
	h->src_addr = src;
	h->dst_addr = dst;
	h->hdr_checksum = rte_ipv4_cksum(h);
}

int
icmp_echo_parse(const uint8_t **p, const uint8_t *end, struct icmp_echo *out)
{
	const uint8_t *q = *p;
	size_t len = (size_t)(end - q);

	if (len < ICMP_ECHO_HEADER_LEN)
		return -EINVAL;
	if (q[0] != RTE_IP_ICMP_ECHO_REQUEST && q[0] != RTE_IP_ICMP_ECHO_REPLY)
		return -ENOTSUP;
	if (q[1] != 0)
		return -EINVAL;
	if (inet_checksum(q, len) != 0)
		return -EBADMSG;
	out->type = q[0];
	out->id = wire_read_u16(q + 4);
	out->seq = wire_read_u16(q + 6);
	out->data = q + ICMP_ECHO_HEADER_LEN;
	out->data_len = len - ICMP_ECHO_HEADER_LEN;
	*p = end;
	return 0;
}

ssize_t
icmp_echo_encode(const struct icmp_echo *in, uint8_t *out, size_t out_len)
{
	size_t len = ICMP_ECHO_HEADER_LEN + in->data_len;

	if (in->type != RTE_IP_ICMP_ECHO_REQUEST &&
			in->type != RTE_IP_ICMP_ECHO_REPLY)
		return -EINVAL;
	if (in->data_len > out_len || out_len < len)
		return -EMSGSIZE;
	out[0] = in->type;
	out[1] = 0;
	wire_write_u16(out + 2, 0);
	wire_write_u16(out + 4, in->id);
	wire_write_u16(out + 6, in->seq);
	if (in->data_len > 0)
		memmove(out + ICMP_ECHO_HEADER_LEN, in->data, in->data_len);
	wire_write_u16(out + 2, inet_checksum(out, len));
	return (ssize_t)len;
}

int
icmp_echo_reply_in_place(uint8_t *ip, size_t len)
{
	size_t header_len;
	uint8_t *icmp;
	uint8_t addr[4];

	if (len < IPV4_HEADER_MIN_LEN)
		return -EINVAL;
	header_len = (size_t)(ip[0] & 0x0f) * 4;
	if (header_len < IPV4_HEADER_MIN_LEN ||
			len < header_len + ICMP_ECHO_HEADER_LEN ||
			ip[9] != IPPROTO_ICMP)
		return -EINVAL;
	icmp = ip + header_len;
	if (icmp[0] != RTE_IP_ICMP_ECHO_REQUEST || icmp[1] != 0)
		return -EINVAL;
	memcpy(addr, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, addr, 4);
	ip[8] = IPV4_DEFAULT_TTL;
	wire_write_u16(ip + 10, 0);
	wire_write_u16(ip + 10, inet_checksum(ip, header_len));
	/* Only the type/code word changes: 0x0800 -> 0x0000. */
	wire_write_u16(icmp + 2, inet_checksum_adjust(wire_read_u16(icmp + 2),
			(uint16_t)(RTE_IP_ICMP_ECHO_REQUEST << 8),
			(uint16_t)(RTE_IP_ICMP_ECHO_REPLY << 8)));
	icmp[0] = RTE_IP_ICMP_ECHO_REPLY;
	return 0;
}

static const char *const net_drop_reason_names[NET_DROP_REASON_COUNT] = {
	[NET_DROP_SEGMENTED] = "segmented",
	[NET_DROP_ETHER_MALFORMED] = "ether_malformed",
	[NET_DROP_ETHER_VLAN] = "ether_vlan",
	[NET_DROP_ETHER_NOT_FOR_US] = "ether_not_for_us",
	[NET_DROP_ETHER_TYPE] = "ether_type",
	[NET_DROP_ARP_MALFORMED] = "arp_malformed",
	[NET_DROP_ARP_UNSUPPORTED] = "arp_unsupported",
	[NET_DROP_IPV4_MALFORMED] = "ipv4_malformed",
	[NET_DROP_IPV4_CHECKSUM] = "ipv4_checksum",
	[NET_DROP_IPV4_FRAGMENT] = "ipv4_fragment",
	[NET_DROP_IPV4_NOT_FOR_US] = "ipv4_not_for_us",
	[NET_DROP_IPV4_PROTOCOL] = "ipv4_protocol",
	[NET_DROP_ICMP_MALFORMED] = "icmp_malformed",
	[NET_DROP_ICMP_CHECKSUM] = "icmp_checksum",
	[NET_DROP_ICMP_TYPE] = "icmp_type",
};

const char *
net_drop_reason_name(enum net_drop_reason reason)
{
	if ((unsigned)reason >= NET_DROP_REASON_COUNT)
		return "unknown";
	return net_drop_reason_names[reason];
}

/* Kind a frame was sorted into; drops use their reason instead. */
enum net_class {
	NET_CLASS_ARP,
	NET_CLASS_ICMP,
	NET_CLASS_TCP,
	NET_CLASS_DROP,
};

static enum net_class
classify_ipv4(struct rte_mbuf *m, const uint8_t *frame, const uint8_t *end,
		const struct net_local *local, enum net_drop_reason *reason)
{
	const uint8_t *p = frame + ETHER_HEADER_LEN;
	struct ipv4_header ip;
	struct icmp_echo echo;
	int rc;

	rc = ipv4_header_parse(&p, end, &ip);
	if (rc != 0) {
		*reason = rc == -EBADMSG ? NET_DROP_IPV4_CHECKSUM :
			NET_DROP_IPV4_MALFORMED;
		return NET_CLASS_DROP;
	}
	if (ipv4_is_fragment(&ip)) {
		*reason = NET_DROP_IPV4_FRAGMENT;
		return NET_CLASS_DROP;
	}
	if (!net_local_has_ip(local, ip.dst)) {
		*reason = NET_DROP_IPV4_NOT_FOR_US;
		return NET_CLASS_DROP;
	}
	if (ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_ICMP) {
		*reason = NET_DROP_IPV4_PROTOCOL;
		return NET_CLASS_DROP;
	}
	if (ip.protocol == IPPROTO_ICMP) {
		rc = icmp_echo_parse(&p, frame + ETHER_HEADER_LEN + ip.total_len,
				&echo);
		if (rc != 0) {
			*reason = rc == -EBADMSG ? NET_DROP_ICMP_CHECKSUM :
				rc == -ENOTSUP ? NET_DROP_ICMP_TYPE :
				NET_DROP_ICMP_MALFORMED;
			return NET_CLASS_DROP;
		}
		if (echo.type != RTE_IP_ICMP_ECHO_REQUEST) {
			*reason = NET_DROP_ICMP_TYPE;
			return NET_CLASS_DROP;
		}
	}
	m->l3_len = ip.header_len;
	/* Cut Ethernet padding so the TCP layer can trust pkt_len. */
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) -
			(ETHER_HEADER_LEN + ip.total_len)));
	return ip.protocol == IPPROTO_TCP ? NET_CLASS_TCP : NET_CLASS_ICMP;
}

static enum net_class
classify_frame(struct rte_mbuf *m, const struct net_local *local,
		enum net_drop_reason *reason)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *end = frame + rte_pktmbuf_data_len(m);
	const uint8_t *p = frame;
	struct ether_header eth;
	struct arp_ipv4 arp;
	int rc;

	if (m->nb_segs != 1) {
		*reason = NET_DROP_SEGMENTED;
		return NET_CLASS_DROP;
	}
	rc = ether_header_parse(&p, end, &eth);
	if (rc != 0) {
		*reason = rc == -ENOTSUP ? NET_DROP_ETHER_VLAN :
			NET_DROP_ETHER_MALFORMED;
		return NET_CLASS_DROP;
	}
	if (!rte_is_same_ether_addr(&eth.dst, &local->mac) &&
			!rte_is_broadcast_ether_addr(&eth.dst)) {
		*reason = NET_DROP_ETHER_NOT_FOR_US;
		return NET_CLASS_DROP;
	}
	m->l2_len = ETHER_HEADER_LEN;
	m->l3_len = 0;
	switch (eth.ether_type) {
	case RTE_ETHER_TYPE_ARP:
		rc = arp_ipv4_parse(&p, end, &arp);
		if (rc != 0) {
			*reason = rc == -ENOTSUP ? NET_DROP_ARP_UNSUPPORTED :
				NET_DROP_ARP_MALFORMED;
			return NET_CLASS_DROP;
		}
		return NET_CLASS_ARP;
	case RTE_ETHER_TYPE_IPV4:
		return classify_ipv4(m, frame, end, local, reason);
	default:
		*reason = NET_DROP_ETHER_TYPE;
		return NET_CLASS_DROP;
	}
}

uint16_t
net_classify_burst(struct rte_mbuf *pkts[], uint16_t n,
		const struct net_local *local, struct net_classes *out,
		struct net_counters *counters)
{
	uint16_t count = n < NET_BURST_MAX ? n : NET_BURST_MAX;

	out->n_arp = 0;
	out->n_icmp = 0;
	out->n_tcp = 0;
	out->n_drop = 0;
	for (uint16_t i = 0; i < count; i++) {
		struct rte_mbuf *m = pkts[i];
		enum net_drop_reason reason = NET_DROP_ETHER_MALFORMED;

		if (i + 1 < count)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		switch (classify_frame(m, local, &reason)) {
		case NET_CLASS_ARP:
			out->arp[out->n_arp++] = m;
			break;
		case NET_CLASS_ICMP:
			out->icmp[out->n_icmp++] = m;
			break;
		case NET_CLASS_TCP:
			out->tcp[out->n_tcp++] = m;
			break;
		case NET_CLASS_DROP:
			out->drop_reason[out->n_drop] = (uint8_t)reason;
			out->drop[out->n_drop++] = m;
			break;
		}
	}
	if (counters != NULL) {
		counters->rx_frames += count;
		counters->arp += out->n_arp;
		counters->icmp_echo += out->n_icmp;
		counters->tcp += out->n_tcp;
		for (uint16_t i = 0; i < out->n_drop; i++)
			counters->drop[out->drop_reason[i]]++;
	}
	return count;
}

int
net_icmp_echo_reply(struct rte_mbuf *m, const struct net_local *local)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = rte_pktmbuf_data_len(m);
	int rc;

	if (len < ETHER_HEADER_LEN)
		return -EINVAL;
	rc = icmp_echo_reply_in_place(frame + ETHER_HEADER_LEN,
			len - ETHER_HEADER_LEN);
	if (rc != 0)
		return rc;
	memcpy(frame, frame + 6, RTE_ETHER_ADDR_LEN);
	memcpy(frame + 6, local->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	return 0;
}
