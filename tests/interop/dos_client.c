/* dos_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR OTHER_SOURCE MIN_CONNECTIONS BURST
 *            MAX_CONCURRENT
 *
 * Drives hsrelay's DoS limits (control/dos_guard.h, docs/dos.md) as a
 * flooding client would, run by relay_dos.sh with the relay configured
 * DoSCircuitCreationEnabled 1, DoSCircuitCreationMinConnections
 * MIN_CONNECTIONS, DoSCircuitCreationBurst BURST, DoSCircuitCreationRate 1,
 * DoSConnectionEnabled 1, DoSConnectionMaxConcurrentCount MAX_CONCURRENT
 * (defense types 2, tor's defaults). The client is the project's own
 * (tests/interop/test_client.h): links as an unauthenticated client,
 * CREATE_FAST and ntor CREATE2 circuits.
 *
 * From address A (the default source):
 *   1. MIN_CONNECTIONS links; circuits on the first, alternately
 *      CREATE_FAST and ntor CREATE2, until one is answered DESTROY
 *      RESOURCELIMIT (tor-spec 5.4; tor command.c): at least BURST - 1
 *      created first (the bucket's burst, plus what one circuit per second
 *      refills);
 *   2. every CREATE after that, on either link, is refused the same way;
 * from address B (OTHER_SOURCE, another address of the same host):
 *   3. MIN_CONNECTIONS links and BURST - 2 circuits: all created;
 * from A again:
 *   4. links until one is refused: MAX_CONCURRENT + 1 are open (tor closes
 *      a connection when more than the maximum are open already), the next
 *      one is closed before its TLS handshake completes;
 *   5. one link closed, a new one opens (its CREATE still refused: the
 *      mark is the address's); B still creates circuits.
 * Prints "expect: ..." with the counters this caused, for the script to
 * compare with hsrelay's MetricsPort and exit counters.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/cell.h"
#include "tests/interop/test_client.h"

#define MAX_LINKS 64

static struct test_link *links[MAX_LINKS];
static unsigned n_links;
static unsigned circuit_rejected;

/* A new link from the current source, kept in links[]; NULL when the
 * relay did not let it open (test_detail says how). */
static struct test_link *
open_link(const char *name)
{
	struct test_link *l;

	if (n_links == MAX_LINKS)
		test_die("too many links");
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		test_die("out of memory");
	if (!test_link_open(l, name)) {
		test_link_close(l);
		free(l);
		return NULL;
	}
	links[n_links++] = l;
	return l;
}

/* One circuit: 1 created, 0 refused with DESTROY RESOURCELIMIT, -1
 * anything else (test_detail says what). */
static int
create_once(struct test_link *l, bool ntor)
{
	uint32_t circ_id = test_new_circ_id();
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN], skin[NTOR_ONIONSKIN_LEN];
	struct ntor_client_state st;
	struct test_cell c;
	int rc;

	if (ntor) {
		test_ntor_onion_skin(&st, skin, false, false);
		test_create2_cell(cell, circ_id, HANDSHAKE_TYPE_NTOR, skin, NTOR_ONIONSKIN_LEN);
	} else {
		test_create_fast_cell(cell, circ_id, x);
	}
	test_link_send_cell(l, cell);
	rc = test_link_next_cell(l, &c, TEST_IO_TIMEOUT_MS);
	if (rc != 1)
		return test_why("%s: no answer to a CREATE (%s)", l->name,
				rc == 0 ? "timeout" : l->how), -1;
	if (c.circ_id != circ_id)
		return test_why("%s: answer for circuit 0x%08x, not 0x%08x", l->name, c.circ_id,
				circ_id), -1;
	if (c.command == (ntor ? CELL_COMMAND_CREATED2 : CELL_COMMAND_CREATED_FAST))
		return 1;
	if (c.command == CELL_COMMAND_DESTROY && c.payload[0] == DESTROY_REASON_RESOURCELIMIT) {
		circuit_rejected++;
		return 0;
	}
	test_cell_describe(&c, test_detail, sizeof(test_detail));
	return -1;
}

static void
expect_refused(struct test_link *l, bool ntor, const char *what)
{
	if (create_once(l, ntor) != 0)
		test_die("%s: not refused with DESTROY RESOURCELIMIT: %s", what, test_detail);
}

int
main(int argc, char **argv)
{
	struct in_addr other;
	unsigned min_conn, burst, max_conc, created = 0, open_from_a;
	struct test_link *a0, *a1, *b0, *l;
	char name[32];

	alarm(60);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 9 || inet_pton(AF_INET, argv[5], &other) != 1) {
		fprintf(stderr, "usage: dos_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR "
				"OTHER_SOURCE MIN_CONNECTIONS BURST MAX_CONCURRENT\n");
		return 2;
	}
	min_conn = (unsigned)atoi(argv[6]);
	burst = (unsigned)atoi(argv[7]);
	max_conc = (unsigned)atoi(argv[8]);
	if (min_conn < 2 || burst < 3 || max_conc < min_conn || max_conc + 4 > MAX_LINKS / 2)
		test_die("MIN_CONNECTIONS >= 2, BURST >= 3, MIN_CONNECTIONS <= MAX_CONCURRENT <= %d",
				MAX_LINKS / 2 - 4);
	test_client_init("dos_client", argv[1], argv[2]);
	test_client_load_keys(argv[3], argv[4]);

	/* 1. A's links and circuits up to the refusal. */
	for (unsigned i = 0; i < min_conn; i++) {
		snprintf(name, sizeof(name), "A%u", i);
		if (open_link(name) == NULL)
			test_die("%s: %s", name, test_detail);
	}
	a0 = links[0];
	a1 = links[1];
	for (;;) {
		int rc = create_once(a0, created % 2 == 1);

		if (rc < 0)
			test_die("A0 circuit %u: %s", created + 1, test_detail);
		if (rc == 0)
			break;
		if (++created > burst + 20)
			test_die("A0: %u circuits created, none refused (burst %u)", created, burst);
	}
	if (created + 1 < burst)
		test_die("A0: refused after %u circuits, before the burst of %u", created, burst);
	printf("ok: 1. from A with %u links: %u circuits created, then DESTROY RESOURCELIMIT "
			"(burst %u, 1/s refill)\n", min_conn, created, burst);

	/* 2. Everything from A is refused now, on any link. */
	for (int i = 0; i < 3; i++)
		expect_refused(a0, i == 1, "A0 after the mark");
	expect_refused(a1, false, "A1 (CREATE_FAST)");
	expect_refused(a1, true, "A1 (ntor)");
	printf("ok: 2. five more CREATEs from A on two links: each DESTROY RESOURCELIMIT\n");

	/* 3. B is another address. */
	test_client_source = other;
	for (unsigned i = 0; i < min_conn; i++) {
		snprintf(name, sizeof(name), "B%u", i);
		if (open_link(name) == NULL)
			test_die("%s: %s", name, test_detail);
	}
	b0 = links[min_conn];
	for (unsigned i = 0; i + 2 < burst; i++)
		if (create_once(b0, i % 2 == 0) != 1)
			test_die("B0 circuit %u: %s", i + 1, test_detail);
	printf("ok: 3. from B (%s) with %u links: %u circuits created\n", argv[5], min_conn,
			burst - 2);

	/* 4. A's connections up to the cap. */
	test_client_source.s_addr = INADDR_ANY;
	open_from_a = min_conn;
	for (;;) {
		snprintf(name, sizeof(name), "A%u", open_from_a);
		if (open_link(name) == NULL)
			break;
		if (++open_from_a > max_conc + 1)
			test_die("%u links open from A, none refused (max %u)", open_from_a, max_conc);
	}
	if (open_from_a != max_conc + 1)
		test_die("link %u from A refused (%s), expected link %u to be", open_from_a + 1,
				test_detail, max_conc + 2);
	printf("ok: 4. %u links open from A, link %u closed by the relay (%s)\n", open_from_a,
			open_from_a + 1, test_detail);

	/* 5. Room again after a close; the relay keeps serving B. */
	test_link_close(a1);
	sleep(1);
	l = open_link("A-again");
	if (l == NULL)
		test_die("no link from A after one closed: %s", test_detail);
	expect_refused(l, false, "A-again");
	if (create_once(b0, true) != 1 || create_once(links[min_conn + 1], false) != 1)
		test_die("B after A's flood: %s", test_detail);
	printf("ok: 5. one of A's links closed: a new one opens (its CREATE refused); B still "
			"creates circuits\n");

	for (unsigned i = 0; i < n_links; i++) {
		test_link_close(links[i]);
		free(links[i]);
	}
	test_client_free();
	printf("expect: circuit_rejected=%u marked_address=1 conn_rejected=0 "
			"concurrent_conn_rejected=1 connections_closed=1\n", circuit_rejected);
	printf("PASS\n");
	return 0;
}
