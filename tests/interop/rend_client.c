/* rend_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR [--links N] [--pairs N] [--cells N]
 *
 * Both sides of onion-service rendezvous against hsrelay as the rendezvous
 * point (rend-spec-v3 4.1, 4.2; tor 0.4.9 rendmid.c and the splice in
 * relay.c), run by relay_rend.sh. Every circuit is one hop: a client
 * circuit A and a service circuit B per pair, both ending at the relay.
 * tor's DoSRefuseSingleHopClientRendezvous (default 0, dos.c) would drop
 * ESTABLISH_RENDEZVOUS from a client channel silently; hsrelay creates its
 * rendezvous table with that default (relay_control.c), so one-hop
 * circuits from an unauthenticated link are served as tor serves them.
 *
 * Scenarios, each checking the relay's exact answers:
 *  1. one pair: ESTABLISH_RENDEZVOUS on A -> RENDEZVOUS_ESTABLISHED (empty);
 *     RENDEZVOUS1 on B (cookie + a 64-byte HANDSHAKE_INFO, what tor
 *     services send) -> RENDEZVOUS2 on A with exactly those 64 bytes; then
 *     --cells DATA cells each way under an end-to-end layer of ours
 *     (rend_pump.h), concurrent, several records per send: each arrives
 *     intact and in order, nothing lost or duplicated.
 *  2. --pairs pairs over --links links at once (A and B of a pair on the
 *     same link or on different ones; HANDSHAKE_INFO of 64, 148 and 478
 *     bytes), --cells each way per pair, records mixing circuits.
 *  3. a duplicate cookie closes the new circuit (DESTROY PROTOCOL), the
 *     first one still joins and carries cells.
 *  4. RENDEZVOUS1 with an unknown cookie, and with the cookie of a pair
 *     already joined, closes that circuit (DESTROY PROTOCOL).
 *  5. DESTROY on A -> DESTROY DESTROYED on B (tor command.c: the received
 *     reason is not passed on), and the other way round; A's link closing
 *     -> DESTROY CHANNEL_CLOSED on B.
 *  6. a waiting circuit closes (DESTROY) before its service's RENDEZVOUS1,
 *     right behind it in one record and later on another link: the cookie
 *     is unknown (DESTROY PROTOCOL on the service's circuit), as in tor.
 *  7. the relay still serves: a new pair joins and carries cells.
 *  8. the service sends cells right behind RENDEZVOUS1 in the same record:
 *     they reach the client after RENDEZVOUS2, in order, as in tor (the
 *     worker holds them until the join); behind an unknown cookie they go
 *     with the service's circuit (DESTROY PROTOCOL only).
 * At the end prints an "expect:" line with the counts the relay must show
 * (tor_relay_est_rend_total, tor_relay_rend1_total, spliced cells).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/hs_cells.h"
#include "dataplane/wire.h"
#include "tests/interop/rend_pump.h"
#include "tests/interop/test_client.h"

#define MAX_LINKS 32
#define MAX_PAIRS 64
/* tor hs_cell.c: SERVER_PK (32) || AUTH (32). */
#define TOR_HANDSHAKE_INFO_LEN 64

static struct test_link links[MAX_LINKS + 4];
static char link_names[MAX_LINKS + 4][8];
static unsigned nb_links;

static struct {
	unsigned est_success, est_duplicate, rend1_success, rend1_unknown;
	unsigned closed_waiting;
	unsigned long long spliced;
} expect;

static struct test_link *
new_link(void)
{
	struct test_link *l;

	if (nb_links == MAX_LINKS + 4)
		test_die("too many links");
	l = &links[nb_links];
	snprintf(link_names[nb_links], sizeof(link_names[nb_links]), "L%u", nb_links);
	nb_links++;
	if (!test_link_open(l, link_names[nb_links - 1]))
		test_die("%s", test_detail);
	return l;
}

static void
check(bool ok, const char *what)
{
	if (!ok)
		test_die("%s: %s", what, test_detail);
}

/* A one-hop circuit (CREATE_FAST) on l for end e. */
static bool
end_circuit(struct rend_end *e, struct test_link *l)
{
	e->link = l;
	return test_create_fast(l, &e->hop);
}

/* Circuits for a pair on la / lb, ESTABLISH_RENDEZVOUS, RENDEZVOUS1 with
 * info_len bytes of handshake info, RENDEZVOUS2 checked. */
static bool
join_pair(struct rend_end *a, struct rend_end *b, uint32_t pair, struct test_link *la,
		struct test_link *lb, uint16_t info_len, uint8_t cookie[HS_REND_COOKIE_LEN])
{
	uint8_t info[RELAY_DATA_MAX];

	rend_pair_init(a, b, pair);
	test_random_bytes(cookie, HS_REND_COOKIE_LEN);
	test_random_bytes(info, info_len);
	if (!end_circuit(a, la) || !end_circuit(b, lb) || !rend_establish(a, cookie))
		return false;
	expect.est_success++;
	rend_send_rendezvous1(b, cookie, info, info_len, 0);
	if (!rend_expect_rendezvous2(a, info, info_len))
		return false;
	expect.rend1_success++;
	return true;
}

static struct rend_pump_config
pump_config(uint32_t cells)
{
	struct rend_pump_config cfg = {
		.cells = cells, .window = 64, .burst = 8, .full_cells = false,
		.service_waits = true, .stall_ms = 10000, .settle_ms = 200,
	};

	return cfg;
}

/* Runs the pump over n pairs (ends[2i] client, ends[2i+1] service). */
static void
pump(const char *what, struct rend_end *ends, unsigned n_pairs, uint32_t cells,
		struct test_link *const *ls, unsigned n_links)
{
	struct rend_end *list[2 * MAX_PAIRS];
	struct rend_pump_config cfg = pump_config(cells);
	struct rend_pump_result res;

	for (unsigned i = 0; i < 2 * n_pairs; i++) {
		list[i] = &ends[i];
		ends[i].to_send = 0;
	}
	if (!rend_pump_run(list, 2 * n_pairs, ls, n_links, &cfg, &res))
		test_die("%s: %s", what, test_detail);
	expect.spliced += res.cells_received;
	printf("ok: %s: %u pairs over %u links, %u cells each way per pair: %llu sent, %llu "
			"arrived intact and in order, none lost or duplicated, in %.2f s "
			"(%.0f cells/s); %llu records in %llu sends (up to %llu records per send, "
			"%llu records mixing circuits)\n", what, n_pairs, n_links, cells,
			(unsigned long long)res.cells_sent, (unsigned long long)res.cells_received,
			res.seconds, (double)res.cells_received / (res.seconds > 0 ? res.seconds : 1),
			(unsigned long long)res.records_sent, (unsigned long long)res.sends,
			(unsigned long long)res.max_records_per_send,
			(unsigned long long)res.mixed_records);
}

static void
scenario_one_pair(uint32_t cells)
{
	static struct rend_end ends[2];
	struct test_link *ls[2];
	uint8_t cookie[HS_REND_COOKIE_LEN];

	ls[0] = new_link();
	ls[1] = new_link();
	check(join_pair(&ends[0], &ends[1], 0, ls[0], ls[1], TOR_HANDSHAKE_INFO_LEN, cookie),
			"one pair");
	printf("ok: ESTABLISH_RENDEZVOUS -> empty RENDEZVOUS_ESTABLISHED; RENDEZVOUS1 with a "
			"%u-byte HANDSHAKE_INFO -> RENDEZVOUS2 with exactly those bytes\n",
			TOR_HANDSHAKE_INFO_LEN);
	pump("one pair", ends, 1, cells, ls, 2);
}

static void
scenario_pairs(unsigned n_pairs, unsigned n_links, uint32_t cells)
{
	static const uint16_t info_lens[] = { TOR_HANDSHAKE_INFO_LEN, 148,
					      RELAY_DATA_MAX - HS_REND_COOKIE_LEN };
	static struct rend_end ends[2 * MAX_PAIRS];
	struct test_link *ls[MAX_LINKS];
	uint8_t cookie[HS_REND_COOKIE_LEN];

	for (unsigned i = 0; i < n_links; i++)
		ls[i] = new_link();
	for (unsigned i = 0; i < n_pairs; i++) {
		/* Pairs 0..n_links-1 have both ends on one link, the next ones
		 * their service 1, 2, ... links further on. */
		struct test_link *la = ls[i % n_links];
		struct test_link *lb = ls[(i + i / n_links) % n_links];

		if (!join_pair(&ends[2 * i], &ends[2 * i + 1], 100 + i, la, lb,
				info_lens[i % 3], cookie))
			test_die("pair %u: %s", i, test_detail);
	}
	printf("ok: %u pairs joined (HANDSHAKE_INFO of 64, 148 and 478 bytes, each returned "
			"exactly)\n", n_pairs);
	pump("pairs", ends, n_pairs, cells, ls, n_links);
}

static void
scenario_duplicate_cookie(void)
{
	static struct rend_end ends[2], second;
	struct test_link *ls[2] = { &links[0], &links[1] };
	uint8_t cookie[HS_REND_COOKIE_LEN], info[TOR_HANDSHAKE_INFO_LEN];
	uint8_t cell[CELL_LEN];

	rend_pair_init(&ends[0], &ends[1], 200);
	test_random_bytes(cookie, sizeof(cookie));
	test_random_bytes(info, sizeof(info));
	check(end_circuit(&ends[0], ls[0]) && rend_establish(&ends[0], cookie), "duplicate cookie");
	expect.est_success++;
	/* The same cookie on another circuit (on the other link). */
	check(end_circuit(&second, ls[1]), "duplicate cookie");
	test_relay_cell(&second.hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_ESTABLISH_RENDEZVOUS,
			0, cookie, sizeof(cookie));
	test_link_send_cell(second.link, cell);
	check(test_link_expect(second.link, second.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL), "duplicate cookie: the new circuit");
	expect.est_duplicate++;
	check(end_circuit(&ends[1], ls[1]), "duplicate cookie");
	rend_send_rendezvous1(&ends[1], cookie, info, sizeof(info), 0);
	check(rend_expect_rendezvous2(&ends[0], info, sizeof(info)), "duplicate cookie: the first");
	expect.rend1_success++;
	printf("ok: a duplicate cookie closed the new circuit (DESTROY PROTOCOL); the first "
			"circuit still joined\n");
	pump("after a duplicate cookie", ends, 1, 200, ls, 2);
}

static void
scenario_unknown_cookie(const uint8_t joined_cookie[HS_REND_COOKIE_LEN])
{
	struct rend_end service;
	uint8_t cookie[HS_REND_COOKIE_LEN], info[TOR_HANDSHAKE_INFO_LEN];

	test_random_bytes(cookie, sizeof(cookie));
	test_random_bytes(info, sizeof(info));
	check(end_circuit(&service, &links[1]), "unknown cookie");
	rend_send_rendezvous1(&service, cookie, info, sizeof(info), 0);
	check(test_link_expect(service.link, service.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL), "unknown cookie");
	expect.rend1_unknown++;
	/* A cookie is forgotten once joined (tor rendmid.c). */
	check(end_circuit(&service, &links[0]), "used cookie");
	rend_send_rendezvous1(&service, joined_cookie, info, sizeof(info), 0);
	check(test_link_expect(service.link, service.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL), "used cookie");
	expect.rend1_unknown++;
	printf("ok: RENDEZVOUS1 with an unknown cookie and with a cookie already joined: "
			"DESTROY PROTOCOL on that circuit\n");
}

static void
send_destroy(struct rend_end *e, uint8_t reason)
{
	uint8_t cell[CELL_LEN];

	test_cell_start(cell, e->hop.circ_id, CELL_COMMAND_DESTROY);
	cell_wire_payload(cell)[0] = reason;
	test_link_send_cell(e->link, cell);
}

static void
scenario_teardown(void)
{
	static struct rend_end ends[2];
	struct test_link *ls[2] = { &links[0], &links[1] };
	struct test_link *lx;
	uint8_t cookie[HS_REND_COOKIE_LEN];

	/* DESTROY from the client's side. */
	check(join_pair(&ends[0], &ends[1], 300, ls[0], ls[1], TOR_HANDSHAKE_INFO_LEN, cookie),
			"teardown 1");
	pump("before a client DESTROY", ends, 1, 100, ls, 2);
	send_destroy(&ends[0], DESTROY_REASON_FINISHED);
	check(test_link_expect(ends[1].link, ends[1].hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_DESTROYED, NULL), "client DESTROY FINISHED");
	/* DESTROY from the service's side. */
	check(join_pair(&ends[0], &ends[1], 301, ls[1], ls[0], TOR_HANDSHAKE_INFO_LEN, cookie),
			"teardown 2");
	pump("before a service DESTROY", ends, 1, 100, ls, 2);
	send_destroy(&ends[1], DESTROY_REASON_REQUESTED);
	check(test_link_expect(ends[0].link, ends[0].hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_DESTROYED, NULL), "service DESTROY REQUESTED");
	printf("ok: DESTROY FINISHED from the client -> DESTROY DESTROYED to the service, "
			"DESTROY REQUESTED from the service -> DESTROY DESTROYED to the client\n");
	/* The client's link closes. */
	lx = new_link();
	ls[0] = lx;
	check(join_pair(&ends[0], &ends[1], 302, lx, &links[1], TOR_HANDSHAKE_INFO_LEN, cookie),
			"teardown 3");
	pump("before the client's link closes", ends, 1, 100, ls, 2);
	test_link_close(lx);
	check(test_link_expect(ends[1].link, ends[1].hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_CHANNEL_CLOSED, NULL), "client link closed");
	printf("ok: the client's link closed -> DESTROY CHANNEL_CLOSED to the service\n");
}

/* Scenario 6: a waiting circuit closes before its service comes. tor
 * frees the circuit and its cookie together, so the RENDEZVOUS1 is an
 * unknown cookie and closes the service's circuit: (a) DESTROY of A and
 * RENDEZVOUS1 on B in one record on one link, (b) on two links, the
 * RENDEZVOUS1 a moment later (another worker may own that link). hsrelay
 * must count both as unknown cookies and the waiting closes it heard of
 * (the worker reports the close of a waiting circuit at once). */
static void
scenario_waiting_closes(void)
{
	uint8_t cookie[HS_REND_COOKIE_LEN], info[TOR_HANDSHAKE_INFO_LEN];
	uint8_t cells[2 * CELL_LEN];
	struct rend_end a, b;

	for (int variant = 0; variant < 2; variant++) {
		struct test_link *lb = variant == 0 ? &links[0] : &links[1];

		test_random_bytes(cookie, sizeof(cookie));
		test_random_bytes(info, sizeof(info));
		check(end_circuit(&a, &links[0]) && end_circuit(&b, lb) && rend_establish(&a, cookie),
				"waiting circuit closes");
		expect.est_success++;
		test_cell_start(cells, a.hop.circ_id, CELL_COMMAND_DESTROY);
		cell_wire_payload(cells)[0] = DESTROY_REASON_FINISHED;
		rend_rendezvous1_cells(&b, cells + CELL_LEN, cookie, info, sizeof(info), 0);
		if (variant == 0) {
			test_link_send_plain(&links[0], cells, sizeof(cells), sizeof(cells));
		} else {
			test_link_send_cell(&links[0], cells);
			usleep(300 * 1000);
			test_link_send_cell(lb, cells + CELL_LEN);
		}
		check(test_link_expect(lb, b.hop.circ_id, CELL_COMMAND_DESTROY,
				DESTROY_REASON_PROTOCOL, NULL), variant == 0 ?
				"RENDEZVOUS1 behind the waiting circuit's DESTROY, same record" :
				"RENDEZVOUS1 after the waiting circuit's DESTROY, other link");
		expect.rend1_unknown++;
		expect.closed_waiting++;
	}
	printf("ok: a waiting circuit closed (DESTROY) -> its cookie is unknown to a "
			"RENDEZVOUS1 right behind it in the same record and on another link "
			"(DESTROY PROTOCOL)\n");
}

static void
scenario_still_serving(void)
{
	static struct rend_end ends[2];
	struct test_link *ls[2] = { &links[0], &links[1] };
	uint8_t cookie[HS_REND_COOKIE_LEN];

	check(join_pair(&ends[0], &ends[1], 400, ls[0], ls[1], TOR_HANDSHAKE_INFO_LEN, cookie),
			"still serving");
	pump("still serving", ends, 1, 300, ls, 2);
}

/* Scenario 8: the service sends cells right behind its RENDEZVOUS1, in the
 * same record. tor handles RENDEZVOUS1 (the join) before it reads the next
 * cell, so they are spliced to the client behind RENDEZVOUS2, in order.
 * hsrelay's worker holds them until the control thread's join (tor services
 * do not do this: they wait for the client's BEGIN). Then the same with an
 * unknown cookie: the service's circuit closes (DESTROY PROTOCOL) and the
 * held cells go with it. */
#define EARLY_CELLS 3

static bool
scenario_early_service_cells(void)
{
	static struct rend_end ends[2];
	uint8_t cookie[HS_REND_COOKIE_LEN], info[TOR_HANDSHAKE_INFO_LEN];
	struct test_cell c;
	char text[96];

	rend_pair_init(&ends[0], &ends[1], 600);
	test_random_bytes(cookie, sizeof(cookie));
	test_random_bytes(info, sizeof(info));
	check(end_circuit(&ends[0], &links[0]) && end_circuit(&ends[1], &links[1]) &&
			rend_establish(&ends[0], cookie), "early service cells");
	expect.est_success++;
	rend_send_rendezvous1(&ends[1], cookie, info, sizeof(info), EARLY_CELLS);
	expect.rend1_success++;
	if (!rend_expect_rendezvous2(&ends[0], info, sizeof(info))) {
		char why[TEST_DETAIL_LEN];

		snprintf(why, sizeof(why), "%s", test_detail);
		if (test_link_next_cell(&links[1], &c, 500) == 1)
			test_cell_describe(&c, text, sizeof(text));
		else
			snprintf(text, sizeof(text), "nothing");
		return test_why("the service's circuit got %s; the client's: %.200s", text, why);
	}
	for (uint32_t i = 0; i < EARLY_CELLS; i++) {
		if (test_link_next_cell(&links[0], &c, TEST_IO_TIMEOUT_MS) != 1)
			return test_why("nothing after RENDEZVOUS2 and %u of the service's early "
					"cells on the client's link", i);
		test_cell_describe(&c, text, sizeof(text));
		if (c.circ_id != ends[0].hop.circ_id || !rend_end_open(&ends[0], &c) ||
		    !rend_data_check(c.payload + RELAY_HEADER_LEN,
				wire_read_u16(c.payload + RELAY_OFFSET_LENGTH), 600, 1, i, false)) {
			if (test_link_next_cell(&links[1], &c, 500) == 1)
				test_cell_describe(&c, text + strlen(text),
						sizeof(text) - strlen(text));
			return test_why("early service cell %u did not reach the client intact "
					"and in order (tor splices it): client got %s", i, text);
		}
		expect.spliced++;
	}
	send_destroy(&ends[0], DESTROY_REASON_FINISHED);
	if (!test_link_expect(&links[1], ends[1].hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_DESTROYED, NULL))
		return false;

	/* Unknown cookie, cells behind it: only DESTROY PROTOCOL comes back. */
	rend_pair_init(&ends[0], &ends[1], 601);
	test_random_bytes(cookie, sizeof(cookie));
	check(end_circuit(&ends[1], &links[1]), "early cells, unknown cookie");
	rend_send_rendezvous1(&ends[1], cookie, info, sizeof(info), EARLY_CELLS);
	expect.rend1_unknown++;
	return test_link_expect(&links[1], ends[1].hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL);
}

static unsigned
option(int argc, char **argv, const char *name, unsigned fallback, unsigned max)
{
	for (int i = 5; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], name) == 0) {
			unsigned v = (unsigned)strtoul(argv[i + 1], NULL, 10);

			if (v == 0 || v > max)
				test_die("bad %s %s", name, argv[i + 1]);
			return v;
		}
	}
	return fallback;
}

int
main(int argc, char **argv)
{
	unsigned n_links, n_pairs, cells;
	uint8_t first_cookie[HS_REND_COOKIE_LEN];
	static struct rend_end probe[2];

	alarm(150);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 5) {
		fprintf(stderr, "usage: rend_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR "
				"[--links N] [--pairs N] [--cells N]\n");
		return 2;
	}
	n_links = option(argc, argv, "--links", 4, MAX_LINKS);
	n_pairs = option(argc, argv, "--pairs", 16, MAX_PAIRS);
	cells = option(argc, argv, "--cells", 2000, 1000000);
	test_client_init("rend_client", argv[1], argv[2]);
	test_client_load_keys(argv[3], argv[4]);

	scenario_one_pair(cells);
	scenario_pairs(n_pairs, n_links, cells);
	scenario_duplicate_cookie();
	/* A cookie that was joined in scenario 1's style, for scenario 4. */
	check(join_pair(&probe[0], &probe[1], 500, &links[0], &links[1], TOR_HANDSHAKE_INFO_LEN,
			first_cookie), "cookie probe");
	scenario_unknown_cookie(first_cookie);
	scenario_teardown();
	scenario_waiting_closes();
	scenario_still_serving();
	check(scenario_early_service_cells(), "early service cells");
	printf("ok: %u cells the service sent right behind RENDEZVOUS1 (same record) reached "
			"the client after RENDEZVOUS2, intact and in order, as in tor; behind an "
			"unknown cookie only DESTROY PROTOCOL came back\n", EARLY_CELLS);

	printf("expect: links=%u est_rend_success=%u est_rend_duplicate_cookie=%u "
			"rend1_success=%u rend1_unknown_cookie=%u spliced_cells=%llu "
			"closed_waiting=%u\n",
			test_client_links_connected(), expect.est_success, expect.est_duplicate,
			expect.rend1_success, expect.rend1_unknown, expect.spliced,
			expect.closed_waiting);
	for (unsigned i = 0; i < nb_links; i++)
		test_link_close(&links[i]);
	test_client_free();
	return 0;
}
