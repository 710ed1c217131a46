/* Unit tests for dataplane/ipv4.{c,h} and the mbuf-level helpers of
 * dataplane/ether.h: the Internet checksum against RFC 1071's example and a
 * captured IPv4 header, IPv4 and ICMP echo codecs against frames written by
 * scapy 2.5 (Debian 12 python3-scapy), every malformed case, burst
 * classification, and the in-place ICMP echo and ARP replies on real mbufs
 * (EAL started once, --no-huge). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/ether.h"
#include "dataplane/ipv4.h"
#include "tests/unit/net_test_util.h"

/* Ether(dst=02:00:00:00:01:02, src=02:00:00:00:01:01) /
 * IP(src=10.99.1.1, dst=10.99.1.2, id=0x1234, flags=DF, ttl=63) /
 * ICMP(type=8, id=0x77, seq=1) / bytes(range(0x10, 0x48)) */
static const char echo_request_hex[] =
	"020000000102020000000101 0800"
	"4500 0054 1234 4000 3f01 12ad 0a630101 0a630102"
	"0800 3eb3 0077 0001"
	"101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
	"303132333435363738393a3b3c3d3e3f4041424344454647";
/* The reply as scapy writes it: addresses swapped, ttl=64, type 0. */
static const char echo_reply_hex[] =
	"020000000101020000000102 0800"
	"4500 0054 1234 4000 4001 11ad 0a630102 0a630101"
	"0000 46b3 0077 0001"
	"101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
	"303132333435363738393a3b3c3d3e3f4041424344454647";
/* IP(src=10.99.1.1, dst=10.99.1.2, id=9, flags=DF, ttl=64) /
 * TCP(sport=40000, dport=9001, flags=S, seq=1000) */
static const char tcp_syn_hex[] =
	"020000000102020000000101 0800"
	"4500 0028 0009 4000 4006 23ff 0a630101 0a630102"
	"9c40 2329 000003e8 00000000 5002 2000 b5c8 0000";
/* The same SYN with IP(id=7, ttl=61, options=[IPOption_RR(routers=
 * ["1.2.3.4"])]): IHL 7, record-route option 07 07 04 01020304, EOL. */
static const char tcp_options_hex[] =
	"020000000102020000000101 0800"
	"4700 0030 0007 0000 3d06 53ee 0a630101 0a630102"
	"07070401020304 00"
	"9c40 2329 000003e8 00000000 5002 2000 b5c8 0000";
/* IP(id=9, flags=MF, ttl=64, proto=1) / b"x" * 16 */
static const char fragment_mf_hex[] =
	"020000000102020000000101 0800"
	"4500 0024 0009 2000 4001 4408 0a630101 0a630102"
	"78787878787878787878787878787878";
/* IP(id=9, frag=2, ttl=64, proto=6) / b"x" * 16 */
static const char fragment_offset_hex[] =
	"020000000102020000000101 0800"
	"4500 0024 0009 0002 4006 6401 0a630101 0a630102"
	"78787878787878787878787878787878";
/* IP(id=9, ttl=64) / UDP(sport=1, dport=2) / b"hi" */
static const char udp_hex[] =
	"020000000102020000000101 0800"
	"4500 001e 0009 0000 4011 63fe 0a630101 0a630102"
	"0001 0002 000a 80a5 6869";
/* Ether(dst=broadcast, src=02:00:00:00:01:01) / ARP who-has 10.99.1.2
 * tell 10.99.1.1, and B's reply (see tests/unit/test_ether.c). */
static const char arp_request_hex[] =
	"ffffffffffff020000000101 0806"
	"0001 0800 06 04 0001 020000000101 0a630101 000000000000 0a630102";
static const char arp_reply_hex[] =
	"020000000101020000000102 0806"
	"0001 0800 06 04 0002 020000000102 0a630102 020000000101 0a630101";

/* A captured IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199) with its
 * checksum 0xb861, the worked example of the IPv4 header checksum. */
static const char captured_header_hex[] =
	"4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7";

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
test_checksum_vectors(void **state)
{
	/* RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2. */
	static const uint8_t rfc1071[] = {
		0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7,
	};
	static const uint8_t odd[] = {0x01};
	static const uint8_t odd3[] = {0x12, 0x34, 0x56};
	uint8_t header[IPV4_HEADER_MIN_LEN];

	(void)state;
	assert_int_equal(inet_checksum(rfc1071, sizeof(rfc1071)), 0x220d);
	/* An odd trailing byte is padded with zero on the right. */
	assert_int_equal(inet_checksum(odd, 1), 0xfeff);
	assert_int_equal(inet_checksum(odd3, 3), (uint16_t)~(0x1234 + 0x5600));
	assert_int_equal(inet_checksum(odd, 0), 0xffff);

	assert_int_equal(hex(captured_header_hex, header, sizeof(header)), 20);
	assert_int_equal(inet_checksum(header, sizeof(header)), 0);
	put_u16(header + 10, 0);
	assert_int_equal(inet_checksum(header, sizeof(header)), 0xb861);
}

/* RFC 1624's incremental update agrees with a full recomputation. */
static void
test_checksum_adjust(void **state)
{
	uint8_t buf[64];

	(void)state;
	for (uint64_t seed = 1; seed <= 2000; seed++) {
		uint16_t old_word, new_word, adjusted, full;

		test_fill(buf, sizeof(buf), seed);
		put_u16(buf + 2, 0);
		put_u16(buf + 2, inet_checksum(buf, sizeof(buf)));
		old_word = get_u16(buf + 4);
		new_word = (uint16_t)(seed * 40503u);
		adjusted = inet_checksum_adjust(get_u16(buf + 2), old_word,
				new_word);
		put_u16(buf + 4, new_word);
		put_u16(buf + 2, 0);
		full = inet_checksum(buf, sizeof(buf));
		assert_true(adjusted == full ||
				(adjusted == 0xffff && full == 0x0000));
		put_u16(buf + 2, adjusted);
		assert_int_equal(inet_checksum(buf, sizeof(buf)), 0);
	}
	/* A change that leaves the data summing to zero: the full result
	 * 0x0000 is written as the equivalent 0xffff. */
	memset(buf, 0, sizeof(buf));
	put_u16(buf + 4, 0x1234);
	put_u16(buf + 2, inet_checksum(buf, sizeof(buf)));
	assert_int_equal(get_u16(buf + 2), 0xedcb);
	put_u16(buf + 6, 0xedcb);
	assert_int_equal(inet_checksum_adjust(0xedcb, 0x0000, 0xedcb), 0xffff);
	put_u16(buf + 2, 0xffff);
	assert_int_equal(inet_checksum(buf, sizeof(buf)), 0);
	/* The all-zero case: an echo request with id 0, seq 0 and no data
	 * (08 00 f7 ff 0000 0000) becomes an all-zero reply whose only valid
	 * checksum is 0xffff. */
	assert_int_equal(inet_checksum_adjust(0xf7ff, 0x0800, 0x0000), 0xffff);
	memset(buf, 0, 8);
	put_u16(buf + 2, 0xffff);
	assert_int_equal(inet_checksum(buf, 8), 0);
	put_u16(buf + 2, 0x0000);
	assert_int_not_equal(inet_checksum(buf, 8), 0);
	/* The echo request -> reply change in scapy's frames: the type word
	 * 0x0800 becomes 0x0000 and the checksum 0x3eb3 becomes 0x46b3. */
	assert_int_equal(inet_checksum_adjust(0x3eb3, 0x0800, 0x0000), 0x46b3);
}

static void
test_ipv4_parse(void **state)
{
	uint8_t frame[128], out[IPV4_HEADER_MAX_LEN];
	size_t len = hex(tcp_syn_hex, frame, sizeof(frame));
	const uint8_t *ip = frame + ETHER_HEADER_LEN;
	const uint8_t *p = ip;
	struct ipv4_header h;

	(void)state;
	assert_int_equal(ipv4_header_parse(&p, frame + len, &h), 0);
	assert_ptr_equal(p, ip + 20);
	assert_int_equal(h.header_len, 20);
	assert_int_equal(h.tos, 0);
	assert_int_equal(h.total_len, 40);
	assert_int_equal(h.packet_id, 9);
	assert_int_equal(h.fragment, IPV4_FLAG_DF);
	assert_false(ipv4_is_fragment(&h));
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.protocol, IPPROTO_TCP);
	assert_int_equal(h.checksum, 0x23ff);
	assert_int_equal(h.src, ip4(10, 99, 1, 1));
	assert_int_equal(h.dst, ip4(10, 99, 1, 2));
	assert_int_equal(ipv4_header_encode(&h, out, sizeof(out)), 20);
	assert_memory_equal(out, ip, 20);
	assert_int_equal(ipv4_header_encode(&h, out, 19), -EMSGSIZE);

	/* With options. */
	len = hex(tcp_options_hex, frame, sizeof(frame));
	p = ip;
	assert_int_equal(ipv4_header_parse(&p, frame + len, &h), 0);
	assert_ptr_equal(p, ip + 28);
	assert_int_equal(h.header_len, 28);
	assert_int_equal(h.total_len, 48);
	assert_int_equal(h.ttl, 61);
	assert_ptr_equal(h.options, ip + 20);
	assert_int_equal(h.options[0], 0x07);
	assert_int_equal(ipv4_header_encode(&h, out, sizeof(out)), 28);
	assert_memory_equal(out, ip, 28);
	assert_int_equal(ipv4_header_encode(&h, out, 27), -EMSGSIZE);

	/* Trailing bytes beyond total_len (Ethernet padding) are allowed. */
	memset(frame + len, 0, 6);
	p = ip;
	assert_int_equal(ipv4_header_parse(&p, frame + len + 6, &h), 0);
	assert_int_equal(h.total_len, 48);

	/* Encoder argument checks. */
	h.header_len = 22;
	assert_int_equal(ipv4_header_encode(&h, out, sizeof(out)), -EINVAL);
	h.header_len = 64;
	assert_int_equal(ipv4_header_encode(&h, out, sizeof(out)), -EINVAL);
	h.header_len = 16;
	assert_int_equal(ipv4_header_encode(&h, out, sizeof(out)), -EINVAL);
	h.header_len = 28;
	h.total_len = 27;
	assert_int_equal(ipv4_header_encode(&h, out, sizeof(out)), -EINVAL);
}

static void
test_ipv4_captured_header(void **state)
{
	uint8_t packet[0x73];
	const uint8_t *p = packet;
	struct ipv4_header h;

	(void)state;
	memset(packet, 0, sizeof(packet));
	hex(captured_header_hex, packet, sizeof(packet));
	assert_int_equal(ipv4_header_parse(&p, packet + sizeof(packet), &h), 0);
	assert_int_equal(h.protocol, IPPROTO_UDP);
	assert_int_equal(h.total_len, 0x73);
	assert_int_equal(h.src, ip4(192, 168, 0, 1));
	assert_int_equal(h.dst, ip4(192, 168, 0, 199));
	/* One byte short of total_len. */
	p = packet;
	assert_int_equal(ipv4_header_parse(&p, packet + sizeof(packet) - 1, &h),
			-EINVAL);
}

static void
test_ipv4_build(void **state)
{
	uint8_t frame[128];
	struct rte_ipv4_hdr h;

	(void)state;
	hex(tcp_syn_hex, frame, sizeof(frame));
	ipv4_header_build(&h, ip4(10, 99, 1, 1), ip4(10, 99, 1, 2),
			IPPROTO_TCP, 20, 9);
	assert_int_equal(sizeof(h), 20);
	assert_memory_equal(&h, frame + ETHER_HEADER_LEN, 20);
}

static void
test_ipv4_malformed(void **state)
{
	uint8_t frame[128], ip[64];
	size_t len = hex(tcp_options_hex, frame, sizeof(frame)) -
		ETHER_HEADER_LEN;
	const uint8_t *p;
	struct ipv4_header h;

	(void)state;
	memcpy(ip, frame + ETHER_HEADER_LEN, len);
	/* Truncation at every length short of total_len (48). */
	for (size_t cut = 0; cut < len; cut++) {
		p = ip;
		assert_int_equal(ipv4_header_parse(&p, ip + cut, &h), -EINVAL);
		assert_ptr_equal(p, ip);
	}
	/* A flipped bit anywhere in the header fails the checksum, except
	 * in the fields checked first. */
	for (size_t bit = 0; bit < 28 * 8; bit++) {
		uint8_t copy[64];
		int rc;

		memcpy(copy, ip, len);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		p = copy;
		rc = ipv4_header_parse(&p, copy + len, &h);
		if (bit / 8 == 0 || bit / 8 == 2 || bit / 8 == 3)
			assert_true(rc == -EINVAL || rc == -EBADMSG);
		else
			assert_int_equal(rc, -EBADMSG);
		assert_ptr_equal(p, copy);
	}
	/* Version 6, fixed checksum. */
	{
		uint8_t copy[64];

		memcpy(copy, ip, len);
		copy[0] = 0x67;
		put_u16(copy + 10, 0);
		put_u16(copy + 10, inet_checksum(copy, 28));
		p = copy;
		assert_int_equal(ipv4_header_parse(&p, copy + len, &h), -EINVAL);
		/* IHL 4 and IHL 15 (longer than the datagram). */
		copy[0] = 0x44;
		assert_int_equal(ipv4_header_parse(&p, copy + len, &h), -EINVAL);
		copy[0] = 0x4f;
		assert_int_equal(ipv4_header_parse(&p, copy + len, &h), -EINVAL);
		/* Total length below the header length, and above the
		 * buffer, with a valid checksum each time. */
		memcpy(copy, ip, len);
		put_u16(copy + 2, 27);
		put_u16(copy + 10, 0);
		put_u16(copy + 10, inet_checksum(copy, 28));
		assert_int_equal(ipv4_header_parse(&p, copy + len, &h), -EINVAL);
		put_u16(copy + 2, 49);
		put_u16(copy + 10, 0);
		put_u16(copy + 10, inet_checksum(copy, 28));
		assert_int_equal(ipv4_header_parse(&p, copy + len, &h), -EINVAL);
		/* total_len == header_len (no payload) is fine. */
		put_u16(copy + 2, 28);
		put_u16(copy + 10, 0);
		put_u16(copy + 10, inet_checksum(copy, 28));
		assert_int_equal(ipv4_header_parse(&p, copy + len, &h), 0);
		assert_ptr_equal(p, copy + 28);
	}
}

static void
test_ipv4_fragments(void **state)
{
	uint8_t frame[128];
	size_t len;
	const uint8_t *p;
	struct ipv4_header h;

	(void)state;
	len = hex(fragment_mf_hex, frame, sizeof(frame));
	p = frame + ETHER_HEADER_LEN;
	assert_int_equal(ipv4_header_parse(&p, frame + len, &h), 0);
	assert_int_equal(h.fragment, IPV4_FLAG_MF);
	assert_true(ipv4_is_fragment(&h));

	len = hex(fragment_offset_hex, frame, sizeof(frame));
	p = frame + ETHER_HEADER_LEN;
	assert_int_equal(ipv4_header_parse(&p, frame + len, &h), 0);
	assert_int_equal(h.fragment & IPV4_OFFSET_MASK, 2);
	assert_true(ipv4_is_fragment(&h));

	h.fragment = IPV4_FLAG_DF;
	assert_false(ipv4_is_fragment(&h));
	h.fragment = IPV4_FLAG_RESERVED;
	assert_false(ipv4_is_fragment(&h));
	h.fragment = IPV4_OFFSET_MASK;
	assert_true(ipv4_is_fragment(&h));
}

static void
test_icmp_echo(void **state)
{
	uint8_t frame[128], out[128];
	size_t len = hex(echo_request_hex, frame, sizeof(frame));
	uint8_t *icmp = frame + ETHER_HEADER_LEN + 20;
	size_t icmp_len = len - ETHER_HEADER_LEN - 20;
	const uint8_t *p = icmp;
	struct icmp_echo echo;

	(void)state;
	assert_int_equal(icmp_len, 64);
	assert_int_equal(icmp_echo_parse(&p, icmp + icmp_len, &echo), 0);
	assert_ptr_equal(p, icmp + icmp_len);
	assert_int_equal(echo.type, RTE_IP_ICMP_ECHO_REQUEST);
	assert_int_equal(echo.id, 0x77);
	assert_int_equal(echo.seq, 1);
	assert_int_equal(echo.data_len, 56);
	assert_ptr_equal(echo.data, icmp + 8);
	assert_int_equal(icmp_echo_encode(&echo, out, sizeof(out)), 64);
	assert_memory_equal(out, icmp, 64);
	assert_int_equal(icmp_echo_encode(&echo, out, 63), -EMSGSIZE);

	/* The reply scapy wrote, encoded from fields. */
	hex(echo_reply_hex, frame, sizeof(frame));
	echo.type = RTE_IP_ICMP_ECHO_REPLY;
	echo.data = icmp + 8;
	assert_int_equal(icmp_echo_encode(&echo, out, sizeof(out)), 64);
	assert_memory_equal(out, icmp, 64);
	echo.type = 3;
	assert_int_equal(icmp_echo_encode(&echo, out, sizeof(out)), -EINVAL);

	/* An odd-length message checks and round-trips. */
	echo.type = RTE_IP_ICMP_ECHO_REQUEST;
	echo.data_len = 7;
	assert_int_equal(icmp_echo_encode(&echo, out, sizeof(out)), 15);
	assert_int_equal(inet_checksum(out, 15), 0);
	p = out;
	assert_int_equal(icmp_echo_parse(&p, out + 15, &echo), 0);
	assert_int_equal(echo.data_len, 7);
	/* No data at all. */
	echo.data_len = 0;
	assert_int_equal(icmp_echo_encode(&echo, out, 8), 8);
	p = out;
	assert_int_equal(icmp_echo_parse(&p, out + 8, &echo), 0);
}

static void
test_icmp_malformed(void **state)
{
	uint8_t frame[128], icmp[64];
	size_t len = hex(echo_request_hex, frame, sizeof(frame));
	const uint8_t *p;
	struct icmp_echo echo;

	(void)state;
	assert_int_equal(len - ETHER_HEADER_LEN - 20, sizeof(icmp));
	memcpy(icmp, frame + ETHER_HEADER_LEN + 20, sizeof(icmp));
	for (size_t cut = 0; cut < ICMP_ECHO_HEADER_LEN; cut++) {
		p = icmp;
		assert_int_equal(icmp_echo_parse(&p, icmp + cut, &echo), -EINVAL);
		assert_ptr_equal(p, icmp);
	}
	/* Any shorter message fails the checksum over the whole message. */
	for (size_t cut = ICMP_ECHO_HEADER_LEN; cut < sizeof(icmp); cut++) {
		p = icmp;
		assert_int_equal(icmp_echo_parse(&p, icmp + cut, &echo),
				-EBADMSG);
		assert_ptr_equal(p, icmp);
	}
	/* Every flipped bit after the type and code fails the checksum. */
	for (size_t bit = 16; bit < sizeof(icmp) * 8; bit++) {
		uint8_t copy[64];

		memcpy(copy, icmp, sizeof(copy));
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		p = copy;
		assert_int_equal(icmp_echo_parse(&p, copy + sizeof(copy), &echo),
				-EBADMSG);
	}
	/* Destination unreachable is not an echo. */
	icmp[0] = 3;
	p = icmp;
	assert_int_equal(icmp_echo_parse(&p, icmp + sizeof(icmp), &echo),
			-ENOTSUP);
	/* Code 1 is malformed for an echo. */
	icmp[0] = 8;
	icmp[1] = 1;
	assert_int_equal(icmp_echo_parse(&p, icmp + sizeof(icmp), &echo),
			-EINVAL);
}

static void
test_icmp_reply_in_place(void **state)
{
	uint8_t frame[128], expect[128];
	size_t len = hex(echo_request_hex, frame, sizeof(frame));
	uint8_t *ip = frame + ETHER_HEADER_LEN;

	(void)state;
	hex(echo_reply_hex, expect, sizeof(expect));
	assert_int_equal(icmp_echo_reply_in_place(ip, len - ETHER_HEADER_LEN),
			0);
	assert_memory_equal(ip, expect + ETHER_HEADER_LEN,
			len - ETHER_HEADER_LEN);
	/* A reply is not turned again. */
	assert_int_equal(icmp_echo_reply_in_place(ip, len - ETHER_HEADER_LEN),
			-EINVAL);
	/* Too short, or not ICMP. */
	hex(echo_request_hex, frame, sizeof(frame));
	assert_int_equal(icmp_echo_reply_in_place(ip, 27), -EINVAL);
	assert_int_equal(icmp_echo_reply_in_place(ip, 19), -EINVAL);
	ip[9] = IPPROTO_TCP;
	assert_int_equal(icmp_echo_reply_in_place(ip, len - ETHER_HEADER_LEN),
			-EINVAL);

	/* With IP options the options stay and the ICMP header is found
	 * after them. */
	{
		uint8_t pkt[64 + 8];
		struct icmp_echo echo = {
			.type = RTE_IP_ICMP_ECHO_REQUEST, .id = 5, .seq = 6,
		};
		struct ipv4_header h;
		const uint8_t *p = pkt;
		const uint8_t options[8] = {0x07, 0x07, 0x04, 1, 2, 3, 4, 0};

		memset(&h, 0, sizeof(h));
		h.header_len = 28;
		h.total_len = 36;
		h.ttl = 3;
		h.protocol = IPPROTO_ICMP;
		h.src = ip4(10, 0, 0, 1);
		h.dst = ip4(10, 0, 0, 2);
		h.options = options;
		assert_int_equal(ipv4_header_encode(&h, pkt, sizeof(pkt)), 28);
		assert_int_equal(icmp_echo_encode(&echo, pkt + 28, 8), 8);
		assert_int_equal(icmp_echo_reply_in_place(pkt, 36), 0);
		assert_int_equal(ipv4_header_parse(&p, pkt + 36, &h), 0);
		assert_int_equal(h.src, ip4(10, 0, 0, 2));
		assert_int_equal(h.dst, ip4(10, 0, 0, 1));
		assert_int_equal(h.ttl, IPV4_DEFAULT_TTL);
		assert_memory_equal(h.options, options, 8);
		assert_int_equal(icmp_echo_parse(&p, pkt + 36, &echo), 0);
		assert_int_equal(echo.type, RTE_IP_ICMP_ECHO_REPLY);
		assert_int_equal(echo.id, 5);
		assert_int_equal(echo.seq, 6);
	}
}

static void
test_drop_reason_names(void **state)
{
	(void)state;
	for (int i = 0; i < NET_DROP_REASON_COUNT; i++) {
		const char *name = net_drop_reason_name((enum net_drop_reason)i);

		assert_non_null(name);
		assert_string_not_equal(name, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(name, net_drop_reason_name(
					(enum net_drop_reason)j));
	}
	assert_string_equal(net_drop_reason_name(NET_DROP_REASON_COUNT),
			"unknown");
	assert_string_equal(net_drop_reason_name(NET_DROP_IPV4_FRAGMENT),
			"ipv4_fragment");
}

/* mbuf tests */

static struct rte_mempool *pool;

static int
eal_setup(void **state)
{
	char *argv[] = {
		"test_ipv4", "-l", "0", "--no-huge", "--no-pci", "--no-shconf",
		"-m", "256", "--no-telemetry", "--log-level=lib.eal:error",
	};

	(void)state;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test_ipv4", 255, 0, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return pool == NULL ? -1 : 0;
}

static int
eal_teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

static struct rte_mbuf *
mbuf_from(const uint8_t *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *data;

	assert_non_null(m);
	data = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(data);
	memcpy(data, bytes, len);
	return m;
}

static struct rte_mbuf *
mbuf_hex(const char *h)
{
	uint8_t frame[256];
	size_t len = hex(h, frame, sizeof(frame));

	return mbuf_from(frame, len);
}

/* A frame built from hex with one byte changed. */
static struct rte_mbuf *
mbuf_hex_patched(const char *h, size_t offset, uint8_t value)
{
	struct rte_mbuf *m = mbuf_hex(h);

	rte_pktmbuf_mtod(m, uint8_t *)[offset] = value;
	return m;
}

/* Rewrites the IPv4 header checksum of a frame after a change. */
static void
fix_ip_checksum(struct rte_mbuf *m)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, ETHER_HEADER_LEN);

	put_u16(ip + 10, 0);
	put_u16(ip + 10, inet_checksum(ip, (size_t)(ip[0] & 0xf) * 4));
}

static void
test_classify_burst(void **state)
{
	struct net_local local = local_b();
	struct net_classes classes;
	struct net_counters counters;
	struct rte_mbuf *pkts[32];
	uint8_t expect_reason[32];
	uint16_t n = 0, n_drop_expected = 0;
	struct rte_mbuf *m, *seg2;

	(void)state;
	memset(&counters, 0, sizeof(counters));
	memset(expect_reason, 0xff, sizeof(expect_reason));
	/* Kept frames. */
	pkts[n++] = mbuf_hex(arp_request_hex);           /* 0: ARP */
	pkts[n++] = mbuf_hex(echo_request_hex);          /* 1: ICMP */
	pkts[n++] = mbuf_hex(tcp_syn_hex);               /* 2: TCP */
	pkts[n++] = mbuf_hex(tcp_options_hex);           /* 3: TCP, IHL 7 */
	m = mbuf_hex(tcp_syn_hex);                       /* 4: TCP, padded */
	memset(rte_pktmbuf_append(m, 6), 0, 6);
	pkts[n++] = m;
	pkts[n++] = mbuf_hex_patched(arp_reply_hex, 5, 0x02); /* 5: ARP */

#define DROP(mbuf, reason) do { \
		expect_reason[n] = (reason); \
		pkts[n++] = (mbuf); \
		n_drop_expected++; \
	} while (0)
	DROP(mbuf_hex(fragment_mf_hex), NET_DROP_IPV4_FRAGMENT);
	DROP(mbuf_hex(fragment_offset_hex), NET_DROP_IPV4_FRAGMENT);
	DROP(mbuf_hex(udp_hex), NET_DROP_IPV4_PROTOCOL);
	DROP(mbuf_hex(echo_reply_hex), NET_DROP_ETHER_NOT_FOR_US);
	/* The echo reply sent to our MAC and address: a valid ICMP message
	 * (its checksum does not cover the IP addresses) but not a request. */
	m = mbuf_hex_patched(echo_reply_hex, 5, 0x02);
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, 30), &local.ip[0], 4);
	fix_ip_checksum(m);
	DROP(m, NET_DROP_ICMP_TYPE);
	DROP(mbuf_hex_patched(echo_request_hex, 24, 0x00),
			NET_DROP_IPV4_CHECKSUM);
	DROP(mbuf_hex_patched(echo_request_hex, 50, 0x00),
			NET_DROP_ICMP_CHECKSUM);
	m = mbuf_hex_patched(echo_request_hex, 34, 13); /* timestamp request */
	DROP(m, NET_DROP_ICMP_TYPE);
	m = mbuf_hex_patched(echo_request_hex, 35, 1);  /* code 1 */
	DROP(m, NET_DROP_ICMP_MALFORMED);
	m = mbuf_hex_patched(echo_request_hex, 33, 0x09); /* to 10.99.1.9 */
	fix_ip_checksum(m);
	DROP(m, NET_DROP_IPV4_NOT_FOR_US);
	m = mbuf_hex_patched(echo_request_hex, 16, 0x00); /* total len 20 */
	rte_pktmbuf_mtod(m, uint8_t *)[17] = 20;
	fix_ip_checksum(m);
	DROP(m, NET_DROP_ICMP_MALFORMED);
	m = mbuf_hex_patched(echo_request_hex, 14, 0x55); /* version 5 */
	DROP(m, NET_DROP_IPV4_MALFORMED);
	m = mbuf_hex_patched(echo_request_hex, 14, 0x46); /* IHL 6 */
	DROP(m, NET_DROP_IPV4_CHECKSUM);
	m = mbuf_hex_patched(tcp_syn_hex, 12, 0x86);      /* IPv6 */
	rte_pktmbuf_mtod(m, uint8_t *)[13] = 0xdd;
	DROP(m, NET_DROP_ETHER_TYPE);
	m = mbuf_hex_patched(tcp_syn_hex, 12, 0x81);      /* 802.1Q */
	rte_pktmbuf_mtod(m, uint8_t *)[13] = 0x00;
	DROP(m, NET_DROP_ETHER_VLAN);
	m = mbuf_hex(tcp_syn_hex);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - 10));
	DROP(m, NET_DROP_ETHER_MALFORMED);
	DROP(mbuf_hex_patched(arp_request_hex, 18, 0x05), NET_DROP_ARP_MALFORMED);
	DROP(mbuf_hex_patched(arp_request_hex, 21, 0x03), NET_DROP_ARP_UNSUPPORTED);
	m = mbuf_hex(arp_request_hex);
	rte_pktmbuf_trim(m, 1);
	DROP(m, NET_DROP_ARP_MALFORMED);
	DROP(mbuf_hex_patched(tcp_syn_hex, 0, 0x01), NET_DROP_ETHER_NOT_FOR_US);
	m = mbuf_hex(tcp_syn_hex);
	seg2 = mbuf_hex(tcp_syn_hex);
	assert_int_equal(rte_pktmbuf_chain(m, seg2), 0);
	DROP(m, NET_DROP_SEGMENTED);
#undef DROP
	assert_true(n <= 32);

	assert_int_equal(net_classify_burst(pkts, n, &local, &classes,
			&counters), n);
	assert_int_equal(classes.n_arp, 2);
	assert_ptr_equal(classes.arp[0], pkts[0]);
	assert_ptr_equal(classes.arp[1], pkts[5]);
	assert_int_equal(classes.n_icmp, 1);
	assert_ptr_equal(classes.icmp[0], pkts[1]);
	assert_int_equal(classes.n_tcp, 3);
	assert_ptr_equal(classes.tcp[0], pkts[2]);
	assert_ptr_equal(classes.tcp[1], pkts[3]);
	assert_ptr_equal(classes.tcp[2], pkts[4]);
	assert_int_equal(classes.n_drop, n_drop_expected);
	for (uint16_t i = 0, d = 0; i < n; i++) {
		if (expect_reason[i] == 0xff)
			continue;
		assert_ptr_equal(classes.drop[d], pkts[i]);
		assert_string_equal(net_drop_reason_name(classes.drop_reason[d]),
				net_drop_reason_name(expect_reason[i]));
		d++;
	}
	/* Layer lengths, and the padding cut from the TCP frame. */
	assert_int_equal(pkts[0]->l2_len, ETHER_HEADER_LEN);
	assert_int_equal(pkts[1]->l3_len, 20);
	assert_int_equal(pkts[2]->l3_len, 20);
	assert_int_equal(pkts[3]->l3_len, 28);
	assert_int_equal(rte_pktmbuf_pkt_len(pkts[4]), 54);
	assert_int_equal(rte_pktmbuf_data_len(pkts[4]), 54);

	assert_int_equal(counters.rx_frames, n);
	assert_int_equal(counters.arp, 2);
	assert_int_equal(counters.icmp_echo, 1);
	assert_int_equal(counters.tcp, 3);
	assert_int_equal(counters.drop[NET_DROP_IPV4_FRAGMENT], 2);
	assert_int_equal(counters.drop[NET_DROP_ICMP_TYPE], 2);
	assert_int_equal(counters.drop[NET_DROP_ICMP_MALFORMED], 2);
	assert_int_equal(counters.drop[NET_DROP_ETHER_NOT_FOR_US], 2);
	assert_int_equal(counters.drop[NET_DROP_SEGMENTED], 1);

	/* The ICMP one becomes scapy's reply. */
	{
		uint8_t expect[128];
		size_t len = hex(echo_reply_hex, expect, sizeof(expect));

		assert_int_equal(net_icmp_echo_reply(classes.icmp[0], &local),
				0);
		assert_int_equal(rte_pktmbuf_pkt_len(classes.icmp[0]), len);
		assert_memory_equal(rte_pktmbuf_mtod(classes.icmp[0], uint8_t *),
				expect, len);
		assert_int_equal(net_icmp_echo_reply(classes.icmp[0], &local),
				-EINVAL);
	}
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}

static void
test_classify_burst_limit(void **state)
{
	struct net_local local = local_b();
	struct net_classes classes;
	struct rte_mbuf *pkts[NET_BURST_MAX + 2];

	(void)state;
	for (int i = 0; i < NET_BURST_MAX + 2; i++)
		pkts[i] = mbuf_hex(tcp_syn_hex);
	assert_int_equal(net_classify_burst(pkts, NET_BURST_MAX + 2, &local,
			&classes, NULL), NET_BURST_MAX);
	assert_int_equal(classes.n_tcp, NET_BURST_MAX);
	assert_int_equal(net_classify_burst(pkts + NET_BURST_MAX, 2, &local,
			&classes, NULL), 2);
	assert_int_equal(classes.n_tcp, 2);
	assert_int_equal(net_classify_burst(pkts, 0, &local, &classes, NULL),
			0);
	assert_int_equal(classes.n_tcp + classes.n_drop, 0);
	for (int i = 0; i < NET_BURST_MAX + 2; i++)
		rte_pktmbuf_free(pkts[i]);
}

static void
test_net_arp_input(void **state)
{
	struct arp_cache_config cfg = {
		.capacity = 8, .held_per_entry = 2, .max_requests = 3,
		.reachable_ns = 1000000000ull, .retry_ns = 100000000ull,
	};
	static uint64_t mem[1024];
	struct net_local local = local_b();
	struct arp_cache *cache;
	struct arp_release rel;
	struct arp_lookup_result r;
	struct rte_ether_addr mac;
	struct rte_mbuf *m, *held;
	uint8_t expect[64], frame[64];
	size_t len;
	char token;

	(void)state;
	assert_true(arp_cache_footprint(&cfg) <= sizeof(mem));
	cache = arp_cache_init(mem, sizeof(mem), &cfg);
	assert_non_null(cache);

	/* A padded request for our address: answered in place (scapy's
	 * reply) and the requester learnt. */
	len = hex(arp_reply_hex, expect, sizeof(expect));
	m = mbuf_hex(arp_request_hex);
	memset(rte_pktmbuf_append(m, 18), 0, 18);
	m->l2_len = ETHER_HEADER_LEN;
	assert_int_equal(net_arp_input(cache, &local, m, 5, &rel), 1);
	assert_int_equal(rel.n, 0);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), expect, len);
	assert_int_equal(arp_cache_peek(cache, ip4(10, 99, 1, 1), 5, &mac), 0);
	assert_memory_equal(mac.addr_bytes, expect, 6);
	/* Feeding our own reply back (sender is us) teaches nothing. */
	assert_int_equal(net_arp_input(cache, &local, m, 6, &rel), 0);
	assert_int_equal(arp_cache_get_stats(cache)->conflicts, 1);
	rte_pktmbuf_free(m);

	/* A request for another address is not answered. */
	m = mbuf_hex_patched(arp_request_hex, 41, 0x09);
	assert_int_equal(net_arp_input(cache, &local, m, 7, &rel), 0);
	rte_pktmbuf_free(m);

	/* A pending resolution is released by the peer's reply. */
	held = (struct rte_mbuf *)(void *)&token;
	assert_int_equal(arp_cache_lookup(cache, ip4(10, 99, 1, 3), held, 10,
			&r), ARP_CACHE_PENDING);
	assert_true(r.send_request);
	assert_int_equal(arp_request_build(&local.mac, local.ip[0],
			ip4(10, 99, 1, 3), frame, sizeof(frame)), ARP_FRAME_LEN);
	/* The peer answers: swap the request into its reply by hand. */
	{
		struct net_local peer = local_b();
		uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0x01, 0x03};

		memcpy(peer.mac.addr_bytes, peer_mac, 6);
		peer.ip[0] = ip4(10, 99, 1, 3);
		assert_int_equal(arp_reply_in_place(frame, ARP_FRAME_LEN, &peer),
				0);
		m = mbuf_from(frame, ARP_FRAME_LEN);
		assert_int_equal(net_arp_input(cache, &local, m, 20, &rel), 0);
		assert_int_equal(rel.n, 1);
		assert_ptr_equal(rel.pkts[0], held);
		assert_memory_equal(rel.mac.addr_bytes, peer_mac, 6);
		rte_pktmbuf_free(m);
	}
	/* Truncated ARP. */
	m = mbuf_hex(arp_request_hex);
	rte_pktmbuf_trim(m, 1);
	assert_int_equal(net_arp_input(cache, &local, m, 30, &rel), -EINVAL);
	rte_pktmbuf_free(m);
}

static uint64_t
xorshift(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* The checksum of the flat bytes ip header + l4 as the reference: one
 * rte_raw_cksum() over a contiguous copy. */
static uint16_t
reference_l4_checksum(const uint8_t *flat, uint32_t l4_len)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)flat;
	uint32_t sum = (uint32_t)rte_raw_cksum(flat + 20, l4_len) + rte_ipv4_phdr_cksum(ip, 0);
	uint16_t c;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	return c == 0 ? 0xffff : rte_be_to_cpu_16(c);
}

/* A chain of IPv4 header + l4_len bytes cut into segments of pseudo-random
 * lengths (odd ones included), and the same bytes flat in *flat. */
static struct rte_mbuf *
random_chain(uint64_t *rng, uint32_t l4_len, uint8_t *flat)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)flat;
	struct rte_mbuf *head = NULL;
	uint32_t total = 20 + l4_len, at = 0;

	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = (uint32_t)xorshift(rng);
	ip->dst_addr = (uint32_t)xorshift(rng);
	for (uint32_t i = 20; i < total; i++)
		flat[i] = (uint8_t)xorshift(rng);
	/* TCP's checksum field (l4 offset 16) is zero while summing. */
	if (l4_len >= 18)
		flat[20 + 16] = flat[20 + 17] = 0;
	while (at < total || head == NULL) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint32_t n = at == 0 ? 20 + (uint32_t)(xorshift(rng) % 80)
				: 1 + (uint32_t)(xorshift(rng) % 700);
		uint8_t *p;

		assert_non_null(m);
		n = RTE_MIN(n, total - at);
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		assert_true(n == 0 || p != NULL);
		memcpy(p, flat + at, n);
		at += n;
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
	}
	return head;
}

static uint8_t *
chain_byte(struct rte_mbuf *m, uint32_t off)
{
	while (off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
		assert_non_null(m);
	}
	return rte_pktmbuf_mtod_offset(m, uint8_t *, off);
}

/* ipv4_l4_checksum_mbuf() against a flat rte_raw_cksum() reference over
 * chains of every shape (lengths 0-3000, odd segments and odd offsets),
 * and against DPDK's own mbuf function for single segments; then the
 * verify side: a correct checksum verifies, one flipped bit does not. */
static void
test_l4_checksum_mbuf(void **state)
{
	static uint8_t flat[20 + 3000];
	uint64_t rng = 0x1234567;

	(void)state;
	for (unsigned round = 0; round < 2000; round++) {
		uint32_t l4_len = round < 200 ? round : (uint32_t)(xorshift(&rng) % 3001);
		struct rte_mbuf *m = random_chain(&rng, l4_len, flat);
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		uint16_t got = ipv4_l4_checksum_mbuf(m, ip, 20);

		assert_int_equal(got, reference_l4_checksum(flat, l4_len));
		if (m->nb_segs == 1)
			assert_int_equal(got, rte_be_to_cpu_16(rte_ipv4_udptcp_cksum_mbuf(m, ip, 20)));
		if (l4_len >= 18) {
			/* Store it where TCP keeps it (offset 16) and verify. */
			uint32_t flip_at = 20 + (uint32_t)(xorshift(&rng) % l4_len);

			*chain_byte(m, 20 + 16) = (uint8_t)(got >> 8);
			*chain_byte(m, 20 + 17) = (uint8_t)got;
			assert_true(ipv4_l4_checksum_mbuf_ok(m, ip, 20));
			*chain_byte(m, flip_at) ^= 0x10;
			assert_false(ipv4_l4_checksum_mbuf_ok(m, ip, 20));
		}
		rte_pktmbuf_free(m);
	}
	/* Past the end: nothing to sum. */
	{
		struct rte_mbuf *m = random_chain(&rng, 0, flat);

		assert_int_equal(ipv4_l4_checksum_mbuf(m, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *),
				21), 0);
		rte_pktmbuf_free(m);
	}
}

/* The segment builder's path: the payload copied piece by piece
 * (pseudo-random piece lengths, odd ones and odd source and destination
 * alignments included) with inet_copy_sum(), the parts added with
 * inet_sum_add(), and ipv4_l4_checksum_split() over the header: the same
 * checksum as the flat reference, the bytes copied exactly and nothing
 * written past them. */
static void
test_l4_checksum_split(void **state)
{
	static uint8_t flat[20 + 3100], src[3200], dst[3200 + 64];
	uint64_t rng = 0x7654321;

	(void)state;
	for (unsigned round = 0; round < 3000; round++) {
		uint32_t head = 20 + 4 * (uint32_t)(xorshift(&rng) % 11);
		uint32_t payload = round < 300 ? round : (uint32_t)(xorshift(&rng) % 3001);
		uint32_t l4_len = head + payload, done = 0;
		uint32_t src_off = (uint32_t)(xorshift(&rng) % 64);
		uint32_t dst_off = (uint32_t)(xorshift(&rng) % 64);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)flat;
		uint16_t sum = 0;

		memset(ip, 0, 20);
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4_len));
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = (uint32_t)xorshift(&rng);
		ip->dst_addr = (uint32_t)xorshift(&rng);
		for (uint32_t i = 20; i < 20 + l4_len; i++)
			flat[i] = (uint8_t)xorshift(&rng);
		flat[20 + 16] = flat[20 + 17] = 0;
		memcpy(src + src_off, flat + 20 + head, payload);
		memset(dst, 0xa5, sizeof(dst));
		while (done < payload) {
			uint32_t n = RTE_MIN(payload - done, 1 + (uint32_t)(xorshift(&rng) % 1500));

			sum = inet_sum_add(sum, inet_copy_sum(dst + dst_off + done,
					src + src_off + done, n), done);
			done += n;
		}
		assert_memory_equal(dst + dst_off, flat + 20 + head, payload);
		for (uint32_t i = 0; i < dst_off; i++)
			assert_int_equal(dst[i], 0xa5);
		for (uint32_t i = dst_off + payload; i < sizeof(dst); i++)
			assert_int_equal(dst[i], 0xa5);
		assert_int_equal(ipv4_l4_checksum_split(ip, flat + 20, head, sum),
				reference_l4_checksum(flat, l4_len));
	}
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_checksum_vectors),
		cmocka_unit_test(test_checksum_adjust),
		cmocka_unit_test(test_ipv4_parse),
		cmocka_unit_test(test_ipv4_captured_header),
		cmocka_unit_test(test_ipv4_build),
		cmocka_unit_test(test_ipv4_malformed),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_icmp_malformed),
		cmocka_unit_test(test_icmp_reply_in_place),
		cmocka_unit_test(test_drop_reason_names),
	};
	const struct CMUnitTest mbufs[] = {
		cmocka_unit_test(test_classify_burst),
		cmocka_unit_test(test_classify_burst_limit),
		cmocka_unit_test(test_net_arp_input),
		cmocka_unit_test(test_l4_checksum_mbuf),
		cmocka_unit_test(test_l4_checksum_split),
	};
	int failed;

	failed = cmocka_run_group_tests_name("ipv4", pure, NULL, NULL);
	failed += cmocka_run_group_tests_name("mbufs", mbufs, eal_setup,
			eal_teardown);
	return failed;
}
