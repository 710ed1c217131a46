/* TCP header and options codec (dataplane/tcp_options.c) and SYN cookies
 * (dataplane/syn_cookie.c). The option bytes are those of a Linux 6.x SYN
 * (mss 1460, sackOK, TS, nop, wscale 7) and ACK (nop nop TS, nop nop SACK). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/syn_cookie.h"
#include "dataplane/tcp_options.h"

static const uint8_t linux_syn_options[20] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x64,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

static const uint8_t linux_sack_ack_options[24] = {
	0x01, 0x01, 0x08, 0x0a, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
	0x01, 0x01, 0x05, 0x0a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,
};

static void
test_linux_syn_options(void **state)
{
	const uint8_t *p = linux_syn_options;
	struct tcp_options o;
	uint8_t out[TCP_OPTIONS_MAX_LEN];

	(void)state;
	assert_int_equal(tcp_options_parse(&p, p + sizeof(linux_syn_options), &o), 0);
	assert_ptr_equal(p, linux_syn_options + sizeof(linux_syn_options));
	assert_int_equal(o.present, TCP_OPT_MSS | TCP_OPT_SACK_PERMITTED | TCP_OPT_TIMESTAMP |
			TCP_OPT_WSCALE);
	assert_int_equal(o.mss, 1460);
	assert_int_equal(o.ts_val, 100);
	assert_int_equal(o.ts_ecr, 0);
	assert_int_equal(o.wscale, 7);
	assert_int_equal(tcp_options_encode(&o, out, sizeof(out)), 20);
	assert_memory_equal(out, linux_syn_options, 20);
}

static void
test_sack_ack_options(void **state)
{
	const uint8_t *p = linux_sack_ack_options;
	struct tcp_options o;
	uint8_t out[TCP_OPTIONS_MAX_LEN];

	(void)state;
	assert_int_equal(tcp_options_parse(&p, p + sizeof(linux_sack_ack_options), &o), 0);
	assert_int_equal(o.present, TCP_OPT_TIMESTAMP | TCP_OPT_SACK);
	assert_int_equal(o.ts_val, 0x12345678);
	assert_int_equal(o.ts_ecr, 0x9abcdef0);
	assert_int_equal(o.sack_count, 1);
	assert_int_equal(o.sack[0].left, 0x1000);
	assert_int_equal(o.sack[0].right, 0x2000);
	assert_int_equal(tcp_options_encode(&o, out, sizeof(out)), 24);
	assert_memory_equal(out, linux_sack_ack_options, 24);
}

static void
test_truncated_options(void **state)
{
	/* Cutting the SYN options anywhere but an option boundary is an
	 * impossible option. */
	static const size_t boundaries[] = { 0, 4, 6, 16, 17, 20 };

	(void)state;
	for (size_t n = 0; n <= sizeof(linux_syn_options); n++) {
		const uint8_t *p = linux_syn_options;
		struct tcp_options o;
		bool boundary = false;
		int rc;

		for (size_t k = 0; k < sizeof(boundaries) / sizeof(boundaries[0]); k++)
			boundary |= boundaries[k] == n;
		rc = tcp_options_parse(&p, linux_syn_options + n, &o);
		if (boundary) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_ptr_equal(p, linux_syn_options);
		}
	}
}

static void
test_bad_option_lengths(void **state)
{
	static const struct {
		uint8_t bytes[44];
		size_t len;
	} bad[] = {
		{ { 0x02, 0x03, 0x05 }, 3 },			/* MSS length 3 */
		{ { 0x03, 0x04, 0x07, 0x00 }, 4 },		/* WS length 4 */
		{ { 0x04, 0x03, 0x00 }, 3 },			/* SACK-permitted length 3 */
		{ { 0x08, 0x09, 0, 0, 0, 0, 0, 0, 0 }, 9 },	/* TS length 9 */
		{ { 0x05, 0x09, 0, 0, 0, 0, 0, 0, 0 }, 9 },	/* SACK 2 + 7 */
		{ { 0x05, 0x02 }, 2 },				/* SACK with no block */
		{ { 0x05, 0x2a }, 42 },				/* SACK with 5 blocks */
		{ { 0x1e, 0x00 }, 2 },				/* length 0 */
		{ { 0x1e, 0x01 }, 2 },				/* length 1 */
		{ { 0x1e, 0x05, 0, 0 }, 4 },			/* past the end */
		{ { 0x1e }, 1 },				/* no length byte */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const uint8_t *p = bad[i].bytes;
		struct tcp_options o;

		assert_int_equal(tcp_options_parse(&p, p + bad[i].len, &o), -EINVAL);
		assert_ptr_equal(p, bad[i].bytes);
	}
}

static void
test_unknown_and_eol(void **state)
{
	/* Unknown kind 30 skipped; after EOL nothing is read. */
	static const uint8_t bytes[12] = {
		0x1e, 0x04, 0xff, 0xff, 0x02, 0x04, 0x02, 0x18, 0x00, 0x02, 0x01, 0xff,
	};
	const uint8_t *p = bytes;
	struct tcp_options o;

	(void)state;
	assert_int_equal(tcp_options_parse(&p, bytes + sizeof(bytes), &o), 0);
	assert_int_equal(o.present, TCP_OPT_MSS);
	assert_int_equal(o.mss, 536);
	assert_ptr_equal(p, bytes + sizeof(bytes));
}

static void
test_header_round_trip(void **state)
{
	struct tcp_header h, again;
	uint8_t buf[60];
	const uint8_t *p;
	ssize_t n;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.src_port = 443;
	h.dst_port = 51000;
	h.seq = 0xfffffff0;
	h.ack = 0x01020304;
	h.flags = TCP_FLAG_ACK | TCP_FLAG_PSH;
	h.window = 502;
	h.checksum = 0xbeef;
	h.options.present = TCP_OPT_TIMESTAMP | TCP_OPT_SACK;
	h.options.ts_val = 7;
	h.options.ts_ecr = 8;
	h.options.sack_count = 3;
	for (unsigned i = 0; i < 3; i++) {
		h.options.sack[i].left = 1000 * i;
		h.options.sack[i].right = 1000 * i + 500;
	}
	n = tcp_header_encode(&h, buf, sizeof(buf));
	assert_int_equal(n, 20 + 12 + 28);
	assert_int_equal(buf[12] >> 4, 15);
	p = buf;
	assert_int_equal(tcp_header_parse(&p, buf + n, &again), 0);
	assert_ptr_equal(p, buf + n);
	assert_int_equal(again.header_len, 60);
	assert_int_equal(again.seq, h.seq);
	assert_int_equal(again.ack, h.ack);
	assert_int_equal(again.window, 502);
	assert_int_equal(again.checksum, 0xbeef);
	assert_int_equal(again.flags, h.flags);
	assert_memory_equal(&again.options, &h.options, sizeof(h.options));
	/* Truncation at every length below the header. */
	for (ssize_t k = 0; k < n; k++) {
		p = buf;
		assert_int_equal(tcp_header_parse(&p, buf + k, &again), -EMSGSIZE);
		assert_ptr_equal(p, buf);
	}
	/* Data offset below 5 words. */
	buf[12] = 4 << 4;
	p = buf;
	assert_int_equal(tcp_header_parse(&p, buf + n, &again), -EINVAL);
}

static void
test_encode_limits(void **state)
{
	struct tcp_options o;
	uint8_t out[TCP_OPTIONS_MAX_LEN];

	(void)state;
	memset(&o, 0, sizeof(o));
	o.present = TCP_OPT_TIMESTAMP | TCP_OPT_SACK;
	o.sack_count = 4;
	assert_int_equal(tcp_options_encode(&o, out, sizeof(out)), -EMSGSIZE);
	o.sack_count = 0;
	assert_int_equal(tcp_options_encode(&o, out, sizeof(out)), -EINVAL);
	o.sack_count = 3;
	assert_int_equal(tcp_options_encode(&o, out, 39), -EMSGSIZE);
	assert_int_equal(tcp_options_encode(&o, out, 40), 40);
	o.present = TCP_OPT_SACK;
	o.sack_count = 4;
	assert_int_equal(tcp_options_encode(&o, out, sizeof(out)), 36);
}

static void
test_syn_cookie(void **state)
{
	const uint8_t key[SYN_COOKIE_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct syn_cookie_tuple t = { 0x0a000001, 0x0a000002, 443, 50000 };
	struct syn_cookie_tuple other = t;
	const uint64_t now = 1000 * SYN_COOKIE_PERIOD_NS + 5;
	uint32_t cookie;
	uint8_t index, ws;
	bool sack;

	(void)state;
	assert_int_equal(syn_cookie_mss(syn_cookie_mss_index(1460)), 1460);
	assert_int_equal(syn_cookie_mss(syn_cookie_mss_index(1459)), 1452);
	assert_int_equal(syn_cookie_mss(syn_cookie_mss_index(100)), 536);
	cookie = syn_cookie_make(key, &t, 777, now, syn_cookie_mss_index(1460));
	assert_true(syn_cookie_check(key, &t, 777, cookie, now, &index));
	assert_int_equal(syn_cookie_mss(index), 1460);
	/* Still valid one period later, not two. */
	assert_true(syn_cookie_check(key, &t, 777, cookie, now + SYN_COOKIE_PERIOD_NS, &index));
	assert_false(syn_cookie_check(key, &t, 777, cookie, now + 2 * SYN_COOKIE_PERIOD_NS, &index));
	/* Bound to the tuple, the peer ISN, the MSS bits and the hash. */
	other.remote_port = 50001;
	assert_false(syn_cookie_check(key, &other, 777, cookie, now, &index));
	assert_false(syn_cookie_check(key, &t, 778, cookie, now, &index));
	assert_false(syn_cookie_check(key, &t, 777, cookie ^ 1, now, &index));
	assert_false(syn_cookie_check(key, &t, 777, cookie ^ 0x100, now, &index));
	syn_cookie_ts_decode(syn_cookie_ts_encode(0xffffffff, 7, true), &ws, &sack);
	assert_int_equal(ws, 7);
	assert_true(sack);
	syn_cookie_ts_decode(syn_cookie_ts_encode(0, SYN_COOKIE_WSCALE_NONE, false), &ws, &sack);
	assert_int_equal(ws, SYN_COOKIE_WSCALE_NONE);
	assert_false(sack);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_syn_options),
		cmocka_unit_test(test_sack_ack_options),
		cmocka_unit_test(test_truncated_options),
		cmocka_unit_test(test_bad_option_lengths),
		cmocka_unit_test(test_unknown_and_eol),
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_syn_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
