/* TCP checksum offloads (dataplane/tcp.c, tcp_output.c): the stack takes a
 * device's RX verdict in ol_flags when told the port verifies checksums,
 * and leaves the TX checksum to the device, as DPDK's
 * RTE_MBUF_F_TX_TCP_CKSUM contract asks, for single-segment frames or for
 * all of them. tcp_script.c plays the device: it checks the pseudo-header
 * sum left in the field, completes the checksum and verifies every segment. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/tcp.h"
#include "tests/unit/tcp_script.h"

/* A jumbo MSS: a 4000-byte segment does not fit in its header mbuf, so it
 * leaves as a chain (header + indirect payload mbufs). */
#define JUMBO_MSS 8960

static const struct tcp_stats *
stats(const struct tcp_script *s)
{
	return tcp_stack_stats(s->stack);
}

static void
start(struct tcp_script *s, bool rx_offload, enum tcp_tx_checksum tx)
{
	struct tcp_stack_config cfg;

	script_config(&cfg);
	cfg.mss = JUMBO_MSS;
	cfg.rx_checksum_offload = rx_offload;
	cfg.tx_checksum = tx;
	script_start(s, &cfg);
	script_listen(s);
}

/* Passive open by a peer with MSS 4000, whose SYN has a wrong checksum
 * that the device vouched for. */
static void
open_trusting_the_device(struct tcp_script *s)
{
	s->rx_ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	script_inject(s, 0, "S seq 0 win 65535 <mss 4000> badcsum");
	script_expect(s, 0, "S. seq 0 ack 1 <mss 8960>");
	script_inject(s, 10, ". seq 1 ack 1");
	assert_true(script_events(s) & (1u << TCP_EVENT_ACCEPTED));
	assert_int_equal(stats(s)->rx_checksum_offloaded, 2);
	assert_int_equal(stats(s)->drop_checksum, 0);
}

/* Sends 5000 bytes: 4000 as a chain, 1000 copied into the header mbuf.
 * Returns how many of the two the device was left to checksum. */
static unsigned
send_chain_and_single(struct tcp_script *s, uint64_t t_ms)
{
	unsigned before = s->device_checksums;
	struct tcp_header h;
	uint32_t len;

	script_advance(s, t_ms);
	script_send(s, 5000);
	script_pop(s, t_ms, &h, &len);
	assert_int_equal(len, 4000);
	script_pop(s, t_ms, &h, &len);
	assert_int_equal(len, 1000);
	return s->device_checksums - before;
}

static void
test_rx_verdicts(void **state)
{
	struct tcp_script s;

	(void)state;
	start(&s, true, TCP_TX_CHECKSUM_SOFTWARE);
	open_trusting_the_device(&s);
	/* BAD: dropped although the checksum is right. */
	s.rx_ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD;
	script_inject(&s, 20, "P. seq 1 ack 1 len 100");
	assert_int_equal(stats(&s)->drop_checksum, 1);
	script_expect_none(&s, 200);
	/* UNKNOWN (the device did not look): summed here, and wrong. */
	s.rx_ol_flags = RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	script_inject(&s, 210, "P. seq 1 ack 1 len 100 badcsum");
	assert_int_equal(stats(&s)->drop_checksum, 2);
	script_expect_none(&s, 400);
	/* UNKNOWN and right: taken. */
	script_inject(&s, 410, "P. seq 1 ack 1 len 100");
	script_read(&s, 100);
	/* NONE (data integrity checked, field left as it came): taken. */
	s.rx_ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;
	script_inject(&s, 420, "P. seq 101 ack 1 len 100 badcsum");
	script_read(&s, 100);
	/* Two small segments: the delayed ACK, 40 ms after the first. */
	script_expect(&s, 450, ". seq 1 ack 201");
	assert_int_equal(stats(&s)->rx_checksum_offloaded, 3);
	assert_int_equal(stats(&s)->drop_checksum, 2);
	/* Software TX: nothing was left to a device. */
	assert_int_equal(s.device_checksums, 0);
	assert_int_equal(stats(&s)->tx_checksum_offloaded, 0);
	script_stop(&s);
}

static void
test_rx_flags_ignored_without_offload(void **state)
{
	struct tcp_script s;

	(void)state;
	start(&s, false, TCP_TX_CHECKSUM_SOFTWARE);
	s.rx_ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	script_inject(&s, 0, "S seq 0 win 65535 <mss 4000> badcsum");
	script_expect_none(&s, 100);
	assert_int_equal(stats(&s)->drop_checksum, 1);
	assert_int_equal(stats(&s)->rx_checksum_offloaded, 0);
	s.rx_ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD;
	script_inject(&s, 200, "S seq 0 win 65535 <mss 4000>");
	script_expect(&s, 200, "S. seq 0 ack 1 <mss 8960>");
	script_stop(&s);
}

static void
test_tx_single_segment_only(void **state)
{
	struct tcp_script s;

	(void)state;
	start(&s, true, TCP_TX_CHECKSUM_OFFLOAD_SINGLE);
	open_trusting_the_device(&s);
	/* The SYN-ACK went to the device. */
	assert_int_equal(s.device_checksums, 1);
	/* The chain is summed here, the single segment by the device. */
	assert_int_equal(send_chain_and_single(&s, 20), 1);
	assert_int_equal(stats(&s)->tx_checksum_offloaded, s.device_checksums);
	script_stop(&s);
}

static void
test_tx_every_segment(void **state)
{
	struct tcp_script s;

	(void)state;
	start(&s, true, TCP_TX_CHECKSUM_OFFLOAD);
	open_trusting_the_device(&s);
	assert_int_equal(s.device_checksums, 1);
	assert_int_equal(send_chain_and_single(&s, 20), 2);
	/* The peer acknowledges the first segment only; the second is sent
	 * again (a loss probe or the RTO), built again from the send queue,
	 * and goes to the device as well. */
	script_inject(&s, 30, ". seq 1 ack 4001");
	{
		unsigned before = s.device_checksums;
		struct tcp_header h;
		uint64_t t = 30;
		uint32_t len;

		while (s.fifo_count == 0 && t < 3000)
			script_advance(&s, ++t);
		script_pop(&s, t, &h, &len);
		assert_int_equal(h.seq - s.local_iss, 4001);
		assert_int_equal(len, 1000);
		assert_int_equal(s.device_checksums, before + 1);
	}
	assert_int_equal(stats(&s)->tx_checksum_offloaded, s.device_checksums);
	script_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_verdicts),
		cmocka_unit_test(test_rx_flags_ignored_without_offload),
		cmocka_unit_test(test_tx_single_segment_only),
		cmocka_unit_test(test_tx_every_segment),
	};

	script_pool();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
