/* The rendezvous point's cookie table and tor 0.4.9's checks
 * (control/rendezvous.c): ESTABLISH_RENDEZVOUS in tor's order, duplicate
 * cookies, RENDEZVOUS1 joining (HANDSHAKE_INFO of any length handed over
 * unchanged), unknown cookies, the idle-client expiry with virtual time,
 * links closing, and tor's metric action counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "control/rendezvous.h"
#include "dataplane/cell.h"
#include "tests/unit/test_util.h"

static const struct rendezvous_circuit_state relay_hop = { .previous_hop_is_client = false };
static const struct rendezvous_circuit_state client_hop = { .previous_hop_is_client = true };

static struct rendezvous_circuit
circ(uint32_t link, uint32_t id)
{
	struct rendezvous_circuit c = { .worker = link & 1, .handle = id + 100, .p_link = link,
		.p_circ_id = id };

	return c;
}

static void
test_establish_and_join(void **state)
{
	struct rendezvous_table *t = rendezvous_table_create(NULL);
	struct rendezvous_circuit a = circ(1, 10), b = circ(2, 20), a2 = circ(3, 30);
	uint8_t cookie[HS_REND_COOKIE_LEN], rend1[HS_REND_COOKIE_LEN + 64];
	struct rendezvous_result r;

	(void)state;
	assert_non_null(t);
	test_fill(cookie, sizeof(cookie), 1);
	r = rendezvous_establish(t, &a, &relay_hop, cookie, sizeof(cookie), 1000);
	assert_int_equal(r.verdict, RENDEZVOUS_REPLY);
	assert_true(rendezvous_is_waiting(t, a.p_link, a.p_circ_id));
	assert_int_equal(rendezvous_counters(t)->waiting, 1);

	/* The same cookie from another circuit: the new one closes (tor
	 * rend_mid_establish_rendezvous), the first keeps waiting. */
	r = rendezvous_establish(t, &a2, &relay_hop, cookie, sizeof(cookie), 1000);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	assert_int_equal(r.destroy_reason, DESTROY_REASON_PROTOCOL);
	assert_int_equal(rendezvous_counters(t)->est_rend[REND_EST_DUPLICATE_COOKIE], 1);
	/* A second ESTABLISH_RENDEZVOUS on a waiting circuit: its purpose is
	 * not OR any more. */
	test_fill(cookie, sizeof(cookie), 2);
	r = rendezvous_establish(t, &a, &relay_hop, cookie, sizeof(cookie), 1000);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	assert_int_equal(rendezvous_counters(t)->est_rend[REND_EST_UNSUITABLE_CIRCUIT], 1);
	test_fill(cookie, sizeof(cookie), 1);

	/* RENDEZVOUS1 on the service's circuit: JOIN with the waiting one,
	 * HANDSHAKE_INFO as the RENDEZVOUS2 body. */
	memcpy(rend1, cookie, sizeof(cookie));
	test_fill(rend1 + HS_REND_COOKIE_LEN, 64, 3);
	r = rendezvous_rendezvous1(t, &b, &relay_hop, rend1, sizeof(rend1));
	assert_int_equal(r.verdict, RENDEZVOUS_JOIN);
	assert_int_equal(r.waiting.p_link, a.p_link);
	assert_int_equal(r.waiting.p_circ_id, a.p_circ_id);
	assert_int_equal(r.waiting.handle, a.handle);
	assert_int_equal(r.waiting.worker, a.worker);
	assert_ptr_equal(r.handshake_info, rend1 + HS_REND_COOKIE_LEN);
	assert_int_equal(r.handshake_info_len, 64);
	assert_false(rendezvous_is_waiting(t, a.p_link, a.p_circ_id));
	assert_int_equal(rendezvous_counters(t)->rend1[REND1_SUCCESS], 1);
	assert_int_equal(rendezvous_counters(t)->waiting, 0);

	/* The cookie is used up: the same RENDEZVOUS1 again is unknown and
	 * closes that circuit. */
	r = rendezvous_rendezvous1(t, &b, &relay_hop, rend1, sizeof(rend1));
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	assert_int_equal(r.destroy_reason, DESTROY_REASON_PROTOCOL);
	assert_int_equal(rendezvous_counters(t)->rend1[REND1_UNKNOWN_COOKIE], 1);

	/* HSRend=2: HANDSHAKE_INFO of any length, even none. */
	r = rendezvous_establish(t, &a2, &relay_hop, cookie, sizeof(cookie), 1000);
	assert_int_equal(r.verdict, RENDEZVOUS_REPLY);
	r = rendezvous_rendezvous1(t, &b, &relay_hop, rend1, HS_REND_COOKIE_LEN);
	assert_int_equal(r.verdict, RENDEZVOUS_JOIN);
	assert_int_equal(r.handshake_info_len, 0);
	assert_string_equal(rendezvous_est_action_name(REND_EST_DUPLICATE_COOKIE),
			"duplicate_cookie");
	assert_string_equal(rendezvous1_action_name(REND1_UNKNOWN_COOKIE), "unknown_cookie");
	rendezvous_table_destroy(t);
}

static void
test_refusals(void **state)
{
	struct rendezvous_config cfg = { .refuse_single_hop_client = true, .max_waiting = 1 };
	struct rendezvous_table *t = rendezvous_table_create(&cfg);
	struct rendezvous_circuit a = circ(1, 10), b = circ(2, 20);
	struct rendezvous_circuit_state busy = { .busy = true };
	struct rendezvous_circuit_state extended = { .extended = true };
	uint8_t body[HS_REND_COOKIE_LEN + 1];
	struct rendezvous_result r;

	(void)state;
	test_fill(body, sizeof(body), 5);
	/* tor's order: purpose first (even before the single-hop refusal). */
	r = rendezvous_establish(t, &a, &busy, body, HS_REND_COOKIE_LEN, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	r = rendezvous_establish(t, &a, &client_hop, body, HS_REND_COOKIE_LEN, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_IGNORE);
	assert_int_equal(rendezvous_counters(t)->est_rend[REND_EST_SINGLE_HOP], 1);
	r = rendezvous_establish(t, &a, &extended, body, HS_REND_COOKIE_LEN, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	/* Exactly 20 bytes (tor 0.4.9; rend-spec would ignore the 21st). */
	r = rendezvous_establish(t, &a, &relay_hop, body, HS_REND_COOKIE_LEN + 1, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	r = rendezvous_establish(t, &a, &relay_hop, body, HS_REND_COOKIE_LEN - 1, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	assert_int_equal(rendezvous_counters(t)->est_rend[REND_EST_MALFORMED], 2);
	assert_int_equal(rendezvous_counters(t)->est_rend[REND_EST_UNSUITABLE_CIRCUIT], 2);
	r = rendezvous_establish(t, &a, &relay_hop, body, HS_REND_COOKIE_LEN, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_REPLY);
	/* The consensus turns the single-hop refusal off, then on again. */
	rendezvous_set_refuse_single_hop(t, false);
	body[0] ^= 2;
	r = rendezvous_establish(t, &b, &client_hop, body, HS_REND_COOKIE_LEN, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);	/* the table is full (max 1) */
	assert_int_equal(r.destroy_reason, DESTROY_REASON_RESOURCELIMIT);
	rendezvous_set_refuse_single_hop(t, true);
	r = rendezvous_establish(t, &b, &client_hop, body, HS_REND_COOKIE_LEN, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_IGNORE);
	assert_int_equal(rendezvous_counters(t)->est_rend[REND_EST_SINGLE_HOP], 2);
	body[0] ^= 2;
	/* Over hsrelay's bound: RESOURCELIMIT. */
	body[0] ^= 1;
	r = rendezvous_establish(t, &b, &relay_hop, body, HS_REND_COOKIE_LEN, 0);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	assert_int_equal(r.destroy_reason, DESTROY_REASON_RESOURCELIMIT);
	body[0] ^= 1;

	/* RENDEZVOUS1: unsuitable circuits and short bodies close. */
	r = rendezvous_rendezvous1(t, &b, &busy, body, HS_REND_COOKIE_LEN);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	r = rendezvous_rendezvous1(t, &a, &relay_hop, body, HS_REND_COOKIE_LEN);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	assert_int_equal(rendezvous_counters(t)->rend1[REND1_UNSUITABLE_CIRCUIT], 2);
	r = rendezvous_rendezvous1(t, &b, &relay_hop, body, HS_REND_COOKIE_LEN - 1);
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	assert_int_equal(rendezvous_counters(t)->rend1[REND1_MALFORMED], 1);
	/* None of that touched the waiting circuit. */
	assert_true(rendezvous_is_waiting(t, a.p_link, a.p_circ_id));
	rendezvous_table_destroy(t);
}

static void
test_expiry_and_links(void **state)
{
	struct rendezvous_table *t = rendezvous_table_create(NULL);
	struct rendezvous_circuit from_client = circ(1, 10), from_relay = circ(2, 20);
	struct rendezvous_circuit other = circ(2, 21), out[4];
	uint8_t cookie[HS_REND_COOKIE_LEN];

	(void)state;
	test_fill(cookie, sizeof(cookie), 7);
	assert_int_equal(rendezvous_establish(t, &from_client, &client_hop, cookie,
			sizeof(cookie), 1000).verdict, RENDEZVOUS_REPLY);
	cookie[0]++;
	assert_int_equal(rendezvous_establish(t, &from_relay, &relay_hop, cookie,
			sizeof(cookie), 1000).verdict, RENDEZVOUS_REPLY);
	cookie[0]++;
	assert_int_equal(rendezvous_establish(t, &other, &relay_hop, cookie,
			sizeof(cookie), 1000).verdict, RENDEZVOUS_REPLY);
	/* tor circuit_expire_old_circuits_serverside(): 60 s idle, client
	 * channels only. */
	assert_int_equal(rendezvous_expire(t, 1059, out, 4), 0);
	assert_int_equal(rendezvous_expire(t, 1060, out, 4), 1);
	assert_int_equal(out[0].p_link, from_client.p_link);
	assert_int_equal(out[0].p_circ_id, from_client.p_circ_id);
	assert_int_equal(rendezvous_counters(t)->expired, 1);
	assert_int_equal(rendezvous_expire(t, 1000000, out, 4), 0);
	assert_int_equal(rendezvous_counters(t)->waiting, 2);
	/* One circuit closes, then its link with the other. */
	rendezvous_circuit_gone(t, other.p_link, other.p_circ_id);
	assert_false(rendezvous_is_waiting(t, other.p_link, other.p_circ_id));
	assert_true(rendezvous_is_waiting(t, from_relay.p_link, from_relay.p_circ_id));
	rendezvous_link_gone(t, from_relay.p_link);
	assert_int_equal(rendezvous_counters(t)->waiting, 0);
	/* Its cookie is free again. */
	assert_int_equal(rendezvous_establish(t, &other, &relay_hop, cookie, sizeof(cookie),
			2000).verdict, RENDEZVOUS_REPLY);
	rendezvous_table_destroy(t);
}

/* The worker reports that a waiting circuit closed: its cookie goes at
 * once (tor frees the circuit and its circuitmap token together), so a
 * RENDEZVOUS1 with it is an unknown cookie; a report for another circuit
 * on the same p side (a reused handle, another worker) changes nothing;
 * many waiting circuits, each found by its p side. */
static void
test_close_report(void **state)
{
	struct rendezvous_table *t = rendezvous_table_create(NULL);
	struct rendezvous_circuit a = circ(4, 40), b = circ(5, 50), stale = circ(4, 40);
	uint8_t cookie[HS_REND_COOKIE_LEN], rend1[HS_REND_COOKIE_LEN + 64];
	struct rendezvous_result r;

	(void)state;
	test_fill(cookie, sizeof(cookie), 9);
	assert_int_equal(rendezvous_establish(t, &a, &relay_hop, cookie, sizeof(cookie),
			1000).verdict, RENDEZVOUS_REPLY);
	/* Same p side, another handle: not the waiting circuit. */
	stale.handle++;
	assert_false(rendezvous_circuit_closed(t, &stale));
	stale = a;
	stale.worker ^= 1;
	assert_false(rendezvous_circuit_closed(t, &stale));
	assert_true(rendezvous_is_waiting(t, a.p_link, a.p_circ_id));
	assert_true(rendezvous_circuit_closed(t, &a));
	assert_false(rendezvous_is_waiting(t, a.p_link, a.p_circ_id));
	assert_int_equal(rendezvous_counters(t)->waiting, 0);
	assert_int_equal(rendezvous_counters(t)->closed_waiting, 1);
	assert_false(rendezvous_circuit_closed(t, &a));
	memcpy(rend1, cookie, sizeof(cookie));
	test_fill(rend1 + HS_REND_COOKIE_LEN, 64, 10);
	r = rendezvous_rendezvous1(t, &b, &relay_hop, rend1, sizeof(rend1));
	assert_int_equal(r.verdict, RENDEZVOUS_CLOSE);
	assert_int_equal(r.destroy_reason, DESTROY_REASON_PROTOCOL);
	assert_int_equal(rendezvous_counters(t)->rend1[REND1_UNKNOWN_COOKIE], 1);
	assert_int_equal(rendezvous_counters(t)->rend1[REND1_SUCCESS], 0);

	/* 5000 waiting circuits on one link (more than the buckets): each
	 * close report finds its own. */
	for (uint32_t i = 0; i < 5000; i++) {
		struct rendezvous_circuit c = circ(6, 1000 + i);

		test_fill(cookie, sizeof(cookie), 100 + i);
		assert_int_equal(rendezvous_establish(t, &c, &relay_hop, cookie, sizeof(cookie),
				1000).verdict, RENDEZVOUS_REPLY);
	}
	for (uint32_t i = 0; i < 5000; i += 2) {
		struct rendezvous_circuit c = circ(6, 1000 + i);

		assert_true(rendezvous_circuit_closed(t, &c));
	}
	assert_int_equal(rendezvous_counters(t)->waiting, 2500);
	for (uint32_t i = 0; i < 5000; i++)
		assert_int_equal(rendezvous_is_waiting(t, 6, 1000 + i), i % 2 == 1);
	/* A joined cookie's circuit closing later is no longer waiting. */
	test_fill(cookie, sizeof(cookie), 101);
	memcpy(rend1, cookie, sizeof(cookie));
	r = rendezvous_rendezvous1(t, &b, &relay_hop, rend1, sizeof(rend1));
	assert_int_equal(r.verdict, RENDEZVOUS_JOIN);
	assert_false(rendezvous_circuit_closed(t, &(struct rendezvous_circuit){
			.worker = r.waiting.worker, .handle = r.waiting.handle,
			.p_link = r.waiting.p_link, .p_circ_id = r.waiting.p_circ_id }));
	rendezvous_link_gone(t, 6);
	assert_int_equal(rendezvous_counters(t)->waiting, 0);
	rendezvous_table_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_establish_and_join),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_expiry_and_links),
		cmocka_unit_test(test_close_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
