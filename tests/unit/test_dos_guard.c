/* Unit tests for control/dos_guard.{c,h} on virtual time: the parameters
 * resolved as tor 0.4.9's dos.c resolves them (torrc, then the consensus
 * with tor's defaults and bounds), the circuit bucket's refill, the
 * minimum-connections threshold, marks and their expiry, the concurrent
 * connection cap, the connect rate, relay links, and a full table. The
 * random extra time of a mark is injected, so every deadline is exact. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "control/dos_guard.h"

#define ADDR_A 0x0a000001u	/* 10.0.0.1 */
#define ADDR_B 0x0a000002u
#define T0 1000000

/* The random source: the value to return, kept below upper; the last
 * upper asked for. */
struct fake_random {
	uint32_t value;
	uint32_t last_upper;
};

static uint32_t
fake_below(void *arg, uint32_t upper)
{
	struct fake_random *r = arg;

	r->last_upper = upper;
	return r->value < upper ? r->value : upper - 1;
}

static struct fake_random rnd;

static struct dos_guard *
guard_new(uint32_t capacity)
{
	struct dos_guard_config cfg = {
		.capacity = capacity, .random_below = fake_below, .random_arg = &rnd,
	};
	struct dos_guard *g;

	memset(cfg.hash_key, 0x5a, sizeof(cfg.hash_key));
	memset(&rnd, 0, sizeof(rnd));
	g = dos_guard_create(&cfg);
	assert_non_null(g);
	return g;
}

/* A consensus "params" line: name=value pairs, looked up with
 * consensus_param()'s rule (absent: the default; out of bounds: the
 * nearer bound). */
struct fake_params {
	const char *names[8];
	int32_t values[8];
	unsigned n;
};

static int32_t
fake_param(void *arg, const char *name, int32_t def, int32_t min, int32_t max)
{
	const struct fake_params *p = arg;

	for (unsigned i = 0; i < p->n; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->values[i] < min ? min : p->values[i] > max ? max : p->values[i];
	return def;
}

static void
set_cc(struct dos_guard *g, uint32_t min_conn, uint32_t rate, uint32_t burst, int32_t period)
{
	struct dos_guard_params p = *dos_guard_get_params(g);

	p.cc_enabled = true;
	p.cc_min_concurrent_conn = min_conn;
	p.cc_circuit_rate = rate;
	p.cc_circuit_burst = burst;
	p.cc_defense_time_period = period;
	p.cc_defense_type = DOS_GUARD_DEFENSE_REFUSE;
	dos_guard_set_params(g, &p);
}

static void
set_conn(struct dos_guard *g, uint32_t max_concurrent, uint32_t rate, uint32_t burst,
		int32_t period)
{
	struct dos_guard_params p = *dos_guard_get_params(g);

	p.conn_enabled = true;
	p.conn_max_concurrent_count = max_concurrent;
	p.conn_connect_rate = rate;
	p.conn_connect_burst = burst;
	p.conn_connect_defense_time_period = period;
	p.conn_defense_type = DOS_GUARD_DEFENSE_REFUSE;
	dos_guard_set_params(g, &p);
}

static uint32_t
bucket_of(struct dos_guard *g, uint32_t addr)
{
	struct dos_guard_entry_view v;

	assert_true(dos_guard_peek(g, addr, &v));
	return v.circuit_bucket;
}

static void
test_params_resolve(void **state)
{
	struct dos_guard_params p;
	struct fake_params consensus = {
		.names = { "DoSCircuitCreationEnabled", "DoSCircuitCreationBurst",
			   "DoSCircuitCreationRate", "DoSCircuitCreationMinConnections",
			   "DoSConnectionMaxConcurrentCount", "DoSCircuitCreationDefenseType",
			   "DoSConnectionConnectDefenseTimePeriod", "DoSConnectionEnabled" },
		.values = { 1, 60, 2, 2, 50, 3, 5, 1 },
		.n = 8,
	};
	struct dos_guard_options torrc = {
		.cc_enabled = -1, .conn_enabled = 0, .cc_burst = 10, .cc_defense_type = -4,
		.conn_connect_defense_time_period = 3,
	};

	(void)state;
	/* No torrc value, no consensus: tor dos.h's defaults, both off. */
	dos_guard_params_resolve(NULL, NULL, NULL, &p);
	assert_false(p.cc_enabled);
	assert_int_equal(p.cc_min_concurrent_conn, 3);
	assert_int_equal(p.cc_circuit_rate, 3);
	assert_int_equal(p.cc_circuit_burst, 90);
	assert_int_equal(p.cc_defense_type, 2);
	assert_int_equal(p.cc_defense_time_period, 3600);
	assert_false(p.conn_enabled);
	assert_int_equal(p.conn_max_concurrent_count, 100);
	assert_int_equal(p.conn_defense_type, 2);
	assert_int_equal(p.conn_connect_rate, 20);
	assert_int_equal(p.conn_connect_burst, 40);
	assert_int_equal(p.conn_connect_defense_time_period, 86400);
	assert_int_equal(p.cc_num_circ_max_outq, 3);

	/* The live network's values; out-of-bounds ones are clamped (defense
	 * type 3 to 2, a connect period 5 to 10). */
	dos_guard_params_resolve(NULL, fake_param, &consensus, &p);
	assert_true(p.cc_enabled);
	assert_int_equal(p.cc_circuit_burst, 60);
	assert_int_equal(p.cc_circuit_rate, 2);
	assert_int_equal(p.cc_min_concurrent_conn, 2);
	assert_int_equal(p.conn_max_concurrent_count, 50);
	assert_int_equal(p.cc_defense_type, 2);
	assert_int_equal(p.conn_connect_defense_time_period, 10);
	assert_true(p.conn_enabled);

	/* torrc wins and is taken as written: auto follows the consensus, 0
	 * turns the connection defence off, -4 and 3 s are not clamped. */
	dos_guard_params_resolve(&torrc, fake_param, &consensus, &p);
	assert_true(p.cc_enabled);
	assert_false(p.conn_enabled);
	assert_int_equal(p.cc_circuit_burst, 10);
	assert_int_equal(p.cc_circuit_rate, 2);
	assert_int_equal(p.cc_defense_type, -4);
	assert_int_equal(p.conn_connect_defense_time_period, 3);
}

static void
test_disabled_tracks_nothing(void **state)
{
	struct dos_guard *g = guard_new(0);
	struct dos_guard_entry_view v;

	(void)state;
	assert_false(dos_guard_connection_opened(g, ADDR_A, T0));
	assert_true(dos_guard_connection_allowed(g, ADDR_A, T0));
	for (int i = 0; i < 200; i++)
		assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0));
	assert_false(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(dos_guard_get_stats(g)->entries, 0);
	dos_guard_destroy(g);
}

static void
test_circuit_bucket_refill(void **state)
{
	struct dos_guard *g = guard_new(0);

	(void)state;
	/* Two connections needed to be marked, one open: the bucket alone. */
	set_cc(g, 2, 2, 5, 100);
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	/* The first CREATE fills the bucket to the burst, then takes one. */
	for (uint32_t i = 1; i <= 5; i++) {
		assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0));
		assert_int_equal(bucket_of(g, ADDR_A), 5 - i);
	}
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0));
	assert_int_equal(bucket_of(g, ADDR_A), 0);
	/* One second: rate 2 tokens, one taken. */
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0 + 1));
	assert_int_equal(bucket_of(g, ADDR_A), 1);
	/* Same second: nothing added. */
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0 + 1));
	assert_int_equal(bucket_of(g, ADDR_A), 0);
	/* Ten seconds: 20 tokens, capped at the burst. */
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0 + 11));
	assert_int_equal(bucket_of(g, ADDR_A), 4);
	/* The clock went back: full again (tor's rule). */
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0 + 5));
	assert_int_equal(bucket_of(g, ADDR_A), 4);
	assert_int_equal(dos_guard_get_stats(g)->marked_address, 0);
	assert_int_equal(dos_guard_get_stats(g)->circuit_rejected, 0);
	dos_guard_destroy(g);
}

static void
test_min_connections_threshold(void **state)
{
	struct dos_guard *g = guard_new(0);
	struct dos_guard_entry_view v;

	(void)state;
	set_cc(g, 3, 1, 4, 100);
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	/* Two connections, threshold three: the empty bucket marks nothing. */
	for (int i = 0; i < 10; i++)
		assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0));
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.cc_marked_until, 0);
	/* A third connection: the next CREATE on an empty bucket marks the
	 * address and is itself refused (tor counts, then checks). */
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	assert_true(dos_guard_circuit_create(g, ADDR_A, true, T0));
	assert_int_equal(dos_guard_get_stats(g)->marked_address, 1);
	assert_int_equal(dos_guard_get_stats(g)->circuit_rejected, 1);
	/* The mark is per address: fewer connections change nothing. */
	dos_guard_connection_closed(g, ADDR_A);
	dos_guard_connection_closed(g, ADDR_A);
	assert_true(dos_guard_circuit_create(g, ADDR_A, true, T0 + 1));
	assert_int_equal(dos_guard_get_stats(g)->circuit_rejected, 2);
	/* Another address is not affected. */
	assert_true(dos_guard_connection_opened(g, ADDR_B, T0 + 1));
	assert_false(dos_guard_circuit_create(g, ADDR_B, true, T0 + 1));
	dos_guard_destroy(g);
}

static void
test_mark_expiry(void **state)
{
	struct dos_guard *g = guard_new(0);
	struct dos_guard_entry_view v;
	uint32_t created = 0;

	(void)state;
	set_cc(g, 1, 3, 90, 3600);
	/* The largest extra time: crypto_rand_int_range(1, 1800) gives at
	 * most 1799. */
	rnd.value = UINT32_MAX;
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	while (!dos_guard_circuit_create(g, ADDR_A, true, T0))
		created++;
	/* Burst 90: 89 created, the 90th empties the bucket and is refused. */
	assert_int_equal(created, 89);
	assert_int_equal(rnd.last_upper, 1799);
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.cc_marked_until, T0 + 3600 + 1799);
	/* Nothing more until then (and no refill while marked matters: each
	 * refused CREATE still takes a token, as in tor). */
	rnd.value = 0;
	assert_true(dos_guard_circuit_create(g, ADDR_A, true, T0 + 3600 + 1799));
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	/* Refused with tokens left: the mark is not pushed further. */
	assert_int_equal(v.cc_marked_until, T0 + 3600 + 1799);
	/* One second later the mark has expired; the bucket is full again. */
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0 + 3600 + 1800));
	assert_int_equal(dos_guard_get_stats(g)->circuit_rejected, 2);
	/* Marked again later: tor counts an address once. */
	while (!dos_guard_circuit_create(g, ADDR_A, true, T0 + 3600 + 1800))
		;
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.cc_marked_until, T0 + 3600 + 1800 + 3600 + 1);
	assert_int_equal(dos_guard_get_stats(g)->marked_address, 1);
	dos_guard_destroy(g);
}

/* tor dos.c dos_note_circ_max_outq(): the third circuit of an address
 * closed for a full outbound queue marks it; relay links, untracked
 * addresses, a disabled defense and a parameter of 0 count nothing. */
static void
test_circuit_max_outq(void **state)
{
	struct dos_guard *g = guard_new(0);
	struct dos_guard_params p;
	struct dos_guard_entry_view v;

	(void)state;
	/* Off: nothing counts. */
	assert_false(dos_guard_connection_opened(g, ADDR_A, T0));
	set_cc(g, 3, 3, 90, 600);
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	assert_true(dos_guard_connection_opened(g, ADDR_B, T0));
	/* A relay's link and an address never seen do not count. */
	for (int i = 0; i < 5; i++) {
		assert_false(dos_guard_circuit_max_outq(g, ADDR_A, false, T0));
		assert_false(dos_guard_circuit_max_outq(g, ADDR_A + 7, true, T0));
	}
	/* Two are tolerated, the third marks: CREATEs are refused from then
	 * on although A's circuit bucket is full and it has one connection
	 * (fewer than MinConnections). */
	assert_false(dos_guard_circuit_max_outq(g, ADDR_A, true, T0));
	assert_false(dos_guard_circuit_max_outq(g, ADDR_A, true, T0 + 1));
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0 + 1));
	assert_true(dos_guard_circuit_max_outq(g, ADDR_A, true, T0 + 2));
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.cc_marked_until, T0 + 2 + 600 + 1);
	assert_true(dos_guard_circuit_create(g, ADDR_A, true, T0 + 3));
	/* Marked: more full queues change nothing. */
	assert_false(dos_guard_circuit_max_outq(g, ADDR_A, true, T0 + 4));
	assert_int_equal(dos_guard_get_stats(g)->marked_address_maxq, 1);
	assert_int_equal(dos_guard_get_stats(g)->marked_address, 0);
	/* B is not affected. */
	assert_false(dos_guard_circuit_create(g, ADDR_B, true, T0 + 4));
	/* After the mark the count starts again from 0 (three more to mark
	 * again), and an address is counted once. */
	assert_false(dos_guard_circuit_max_outq(g, ADDR_A, true, T0 + 700));
	assert_false(dos_guard_circuit_max_outq(g, ADDR_A, true, T0 + 700));
	assert_true(dos_guard_circuit_max_outq(g, ADDR_A, true, T0 + 700));
	assert_int_equal(dos_guard_get_stats(g)->marked_address_maxq, 1);
	/* dos_num_circ_max_outq=0 turns the detection off. */
	p = *dos_guard_get_params(g);
	p.cc_num_circ_max_outq = 0;
	dos_guard_set_params(g, &p);
	for (int i = 0; i < 5; i++)
		assert_false(dos_guard_circuit_max_outq(g, ADDR_B, true, T0 + 10));
	assert_false(dos_guard_circuit_create(g, ADDR_B, true, T0 + 10));
	dos_guard_destroy(g);
}

static void
test_short_and_none_defense(void **state)
{
	struct dos_guard *g = guard_new(0);
	struct dos_guard_params p;
	struct dos_guard_entry_view v;

	(void)state;
	/* Period 0 (allowed by the consensus bounds): marked for 1 s. */
	set_cc(g, 1, 1, 1, 0);
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	assert_true(dos_guard_circuit_create(g, ADDR_A, true, T0));
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.cc_marked_until, T0 + 1);
	/* Defense type 1: detected and counted, never refused. */
	p = *dos_guard_get_params(g);
	p.cc_defense_type = DOS_GUARD_DEFENSE_NONE;
	dos_guard_set_params(g, &p);
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0));
	assert_int_equal(dos_guard_get_stats(g)->circuit_rejected, 2);
	/* Turned off by a new consensus: nothing is refused or counted. */
	p.cc_enabled = false;
	p.cc_defense_type = DOS_GUARD_DEFENSE_REFUSE;
	dos_guard_set_params(g, &p);
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0));
	assert_int_equal(dos_guard_get_stats(g)->circuit_rejected, 2);
	dos_guard_destroy(g);
}

static void
test_concurrent_cap(void **state)
{
	struct dos_guard *g = guard_new(0);
	struct dos_guard_params p;

	(void)state;
	set_conn(g, 3, 20, 40, 86400);
	/* tor refuses when more than the maximum are open already: four
	 * connections get in, the fifth is closed. */
	for (int i = 0; i < 4; i++) {
		assert_true(dos_guard_connection_allowed(g, ADDR_A, T0));
		assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	}
	assert_false(dos_guard_connection_allowed(g, ADDR_A, T0));
	assert_int_equal(dos_guard_get_stats(g)->concurrent_conn_rejected, 1);
	assert_int_equal(dos_guard_get_stats(g)->connections_closed, 1);
	/* Other addresses are not affected. */
	assert_true(dos_guard_connection_allowed(g, ADDR_B, T0));
	/* One closes: room again. */
	dos_guard_connection_closed(g, ADDR_A);
	assert_true(dos_guard_connection_allowed(g, ADDR_A, T0));
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	assert_false(dos_guard_connection_allowed(g, ADDR_A, T0));
	/* Defense type 1: counted, not closed. */
	p = *dos_guard_get_params(g);
	p.conn_defense_type = DOS_GUARD_DEFENSE_NONE;
	dos_guard_set_params(g, &p);
	assert_true(dos_guard_connection_allowed(g, ADDR_A, T0));
	assert_int_equal(dos_guard_get_stats(g)->concurrent_conn_rejected, 3);
	assert_int_equal(dos_guard_get_stats(g)->connections_closed, 2);
	dos_guard_destroy(g);
}

static void
test_connect_rate(void **state)
{
	struct dos_guard *g = guard_new(0);
	struct dos_guard_entry_view v;

	(void)state;
	set_conn(g, 100, 1, 3, 20);
	rnd.value = 4;	/* extra 1 + 4 = 5 s (random below 20/2 - 1 = 9) */
	/* Three connections take the burst; the third empties it: marked. */
	for (int i = 0; i < 3; i++) {
		assert_true(dos_guard_connection_allowed(g, ADDR_A, T0));
		assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
		dos_guard_connection_closed(g, ADDR_A);
	}
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.connect_tokens, 0);
	assert_int_equal(v.conn_marked_until, T0 + 20 + 5);
	assert_int_equal(rnd.last_upper, 9);
	/* Refused until the mark ends, however few connections are open. */
	assert_false(dos_guard_connection_allowed(g, ADDR_A, T0 + 1));
	assert_false(dos_guard_connection_allowed(g, ADDR_A, T0 + 25));
	assert_int_equal(dos_guard_get_stats(g)->conn_rejected, 2);
	/* After it, allowed; the bucket refilled (1 per second, burst 3). */
	assert_true(dos_guard_connection_allowed(g, ADDR_A, T0 + 26));
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0 + 26));
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.connect_tokens, 2);
	assert_int_equal(v.conn_marked_until, 0);
	assert_int_equal(v.concurrent, 1);
	/* Partial refill: two more connections one second apart. */
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0 + 26));
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0 + 27));
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.connect_tokens, 1);
	dos_guard_destroy(g);
}

static void
test_relay_links(void **state)
{
	struct dos_guard *g = guard_new(0);

	(void)state;
	set_cc(g, 1, 1, 2, 100);
	set_conn(g, 1, 20, 40, 86400);
	/* A relay's connections count like anyone's (tor 0.4.9 exempts no
	 * address: bug 40821)... */
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	assert_true(dos_guard_connection_opened(g, ADDR_A, T0));
	assert_false(dos_guard_connection_allowed(g, ADDR_A, T0));
	/* ... but its CREATEs on an authenticated link are not limited. */
	for (int i = 0; i < 50; i++)
		assert_false(dos_guard_circuit_create(g, ADDR_A, false, T0));
	assert_int_equal(dos_guard_get_stats(g)->circuit_rejected, 0);
	/* A client link from the same address is. */
	assert_false(dos_guard_circuit_create(g, ADDR_A, true, T0));
	assert_true(dos_guard_circuit_create(g, ADDR_A, true, T0));
	/* Once marked, a relay link from that address still creates. */
	assert_false(dos_guard_circuit_create(g, ADDR_A, false, T0));
	dos_guard_destroy(g);
}

static void
test_table_full(void **state)
{
	/* One bucket of DOS_GUARD_WAYS entries: every address collides. */
	struct dos_guard *g = guard_new(DOS_GUARD_WAYS);
	struct dos_guard_entry_view v;
	uint32_t outsider = 0x0b000001u;

	(void)state;
	assert_null(dos_guard_create(&(struct dos_guard_config){ .capacity = (1u << 24) + 1 }));
	set_cc(g, 1, 1, 1, 100);
	for (uint32_t i = 0; i < DOS_GUARD_WAYS; i++)
		assert_true(dos_guard_connection_opened(g, ADDR_A + i, T0 + i));
	assert_int_equal(dos_guard_get_stats(g)->entries, DOS_GUARD_WAYS);
	/* Full of addresses with open connections: the next is untracked
	 * and so never limited. */
	assert_false(dos_guard_connection_opened(g, outsider, T0 + 10));
	assert_int_equal(dos_guard_get_stats(g)->table_full, 1);
	assert_false(dos_guard_circuit_create(g, outsider, true, T0 + 10));
	assert_false(dos_guard_circuit_create(g, outsider, true, T0 + 10));
	/* Mark the first address, then close its connection: marked, so not
	 * reusable. Close the fourth's: idle, so the outsider takes it. */
	assert_true(dos_guard_circuit_create(g, ADDR_A, true, T0 + 10));
	dos_guard_connection_closed(g, ADDR_A);
	dos_guard_connection_closed(g, ADDR_A + 3);
	assert_true(dos_guard_connection_opened(g, outsider, T0 + 11));
	assert_false(dos_guard_peek(g, ADDR_A + 3, &v));
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_int_equal(v.concurrent, 0);
	assert_true(dos_guard_peek(g, outsider, &v));
	assert_int_equal(v.concurrent, 1);
	assert_int_equal(dos_guard_get_stats(g)->entries, DOS_GUARD_WAYS);
	/* Full again. At T0 + 200 the first address's mark has expired and
	 * the sixth closed its connection: both idle, the least recently
	 * seen goes (the sixth, last seen at T0 + 5; the first at T0 + 10). */
	assert_false(dos_guard_connection_opened(g, outsider + 1, T0 + 12));
	dos_guard_connection_closed(g, ADDR_A + 5);
	assert_true(dos_guard_connection_opened(g, outsider + 1, T0 + 200));
	assert_false(dos_guard_peek(g, ADDR_A + 5, &v));
	assert_true(dos_guard_peek(g, ADDR_A, &v));
	assert_true(dos_guard_connection_opened(g, outsider + 2, T0 + 200));
	assert_false(dos_guard_peek(g, ADDR_A, &v));
	/* Closing a connection of an untracked address changes nothing. */
	dos_guard_connection_closed(g, 0x0c000001u);
	assert_int_equal(dos_guard_get_stats(g)->table_full, 2);
	dos_guard_destroy(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_resolve),
		cmocka_unit_test(test_disabled_tracks_nothing),
		cmocka_unit_test(test_circuit_bucket_refill),
		cmocka_unit_test(test_min_connections_threshold),
		cmocka_unit_test(test_mark_expiry),
		cmocka_unit_test(test_circuit_max_outq),
		cmocka_unit_test(test_short_and_none_defense),
		cmocka_unit_test(test_concurrent_cap),
		cmocka_unit_test(test_connect_rate),
		cmocka_unit_test(test_relay_links),
		cmocka_unit_test(test_table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
