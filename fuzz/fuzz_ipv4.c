/* libFuzzer target for dataplane/ipv4.c: parses the input as an IPv4
 * datagram and, for ICMP, as an echo message. Whatever parses is re-encoded
 * and must reproduce the input (up to the two one's complement zeros of a
 * checksum); an echo request is turned into its reply in place, which must
 * parse again with the addresses swapped and the echo fields kept. The
 * input is also parsed as a bare ICMP message. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/ipv4.h"

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* a and b (len bytes each) are equal, except that the checksum at
 * checksum_offset may read 0xffff in a and 0x0000 in b: both verify when
 * the other bytes sum to a non-zero multiple of 0xffff, and the encoder
 * writes the canonical 0x0000. */
static void
check_same(const uint8_t *a, const uint8_t *b, size_t len,
		size_t checksum_offset)
{
	uint16_t ca = get_u16(a + checksum_offset);
	uint16_t cb = get_u16(b + checksum_offset);

	if (memcmp(a, b, checksum_offset) != 0 ||
			memcmp(a + checksum_offset + 2, b + checksum_offset + 2,
				len - checksum_offset - 2) != 0)
		abort();
	if (ca != cb && !(ca == 0xffff && cb == 0x0000))
		abort();
}

static uint8_t encoded[65536 + 64];
static uint8_t datagram[65536];

static void
fuzz_echo_reply(const uint8_t *data, const struct ipv4_header *ip,
		const struct icmp_echo *echo)
{
	const uint8_t *p = datagram;
	struct ipv4_header reply_ip;
	struct icmp_echo reply;

	memcpy(datagram, data, ip->total_len);
	if (icmp_echo_reply_in_place(datagram, ip->total_len) != 0)
		abort();
	if (ipv4_header_parse(&p, datagram + ip->total_len, &reply_ip) != 0)
		abort();
	if (reply_ip.src != ip->dst || reply_ip.dst != ip->src ||
			reply_ip.ttl != IPV4_DEFAULT_TTL ||
			reply_ip.total_len != ip->total_len ||
			reply_ip.header_len != ip->header_len)
		abort();
	if (icmp_echo_parse(&p, datagram + ip->total_len, &reply) != 0)
		abort();
	if (reply.type != RTE_IP_ICMP_ECHO_REPLY || reply.id != echo->id ||
			reply.seq != echo->seq ||
			reply.data_len != echo->data_len ||
			memcmp(reply.data, echo->data, echo->data_len) != 0)
		abort();
}

static void
fuzz_icmp(const uint8_t *start, const uint8_t *end,
		const uint8_t *datagram_start, const struct ipv4_header *ip)
{
	const uint8_t *p = start;
	struct icmp_echo echo;
	ssize_t written;
	int rc;

	rc = icmp_echo_parse(&p, end, &echo);
	if (rc != 0) {
		if (p != start || (rc != -EINVAL && rc != -ENOTSUP &&
				rc != -EBADMSG))
			abort();
		return;
	}
	if (p != end || echo.data_len != (size_t)(end - start) - 8)
		abort();
	written = icmp_echo_encode(&echo, encoded, sizeof(encoded));
	if (written != end - start)
		abort();
	check_same(start, encoded, (size_t)written, 2);
	if (ip != NULL && echo.type == RTE_IP_ICMP_ECHO_REQUEST)
		fuzz_echo_reply(datagram_start, ip, &echo);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	const uint8_t *end = data + size;
	struct ipv4_header ip;
	ssize_t written;
	int rc;

	if (size > sizeof(datagram))
		return 0;
	rc = ipv4_header_parse(&p, end, &ip);
	if (rc == 0) {
		if (p != data + ip.header_len || ip.total_len > size ||
				ip.total_len < ip.header_len)
			abort();
		written = ipv4_header_encode(&ip, encoded, sizeof(encoded));
		if (written != ip.header_len)
			abort();
		check_same(data, encoded, ip.header_len, 10);
		if (ip.protocol == IPPROTO_ICMP && !ipv4_is_fragment(&ip))
			fuzz_icmp(p, data + ip.total_len, data, &ip);
	} else if (p != data || (rc != -EINVAL && rc != -EBADMSG)) {
		abort();
	}
	fuzz_icmp(data, end, NULL, NULL);
	return 0;
}
