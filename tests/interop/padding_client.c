/* padding_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR: connection-level
 * padding negotiation against hsrelay (tor-spec "PADDING_NEGOTIATE",
 * padding-spec "Connection-level padding"), as a tor client asks its guard.
 *
 * One link as a client (not authenticated), link protocol 5, a CREATE_FAST
 * circuit and a RELAY_EARLY cell on it (tor pads only channels that were
 * used), then PADDING_NEGOTIATE START asking for the shortest window the
 * consensus allows: a relay draws each idle timeout from
 * [nf_ito_low, nf_ito_high) = [1.5 s, 9.5 s) by default, so in IDLE_MS of
 * silence at least one PADDING cell must come and at most IDLE_MS / 1500.
 * Then STOP: in the next IDLE_MS no PADDING cell may come. The link must
 * stay open throughout; any other cell from the relay fails the test.
 * Prints "expect: negotiations=2 padding_min=N" for the script to compare
 * with hsrelay's exit counters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/cell.h"
#include "tests/interop/test_client.h"

#define IDLE_MS 10500

static struct test_link link_l;

static void
send_negotiate(uint8_t command)
{
	struct padding_negotiate_cell body = {
		.version = PADDING_NEGOTIATE_VERSION,
		.command = command,
		.ito_low_ms = 0,	/* the consensus minimum */
		.ito_high_ms = 0,
	};
	uint8_t cell[CELL_LEN];

	test_cell_start(cell, 0, CELL_COMMAND_PADDING_NEGOTIATE);
	if (padding_negotiate_cell_encode(&body, cell + CELL_CIRC_ID_LEN + 1,
			CELL_PAYLOAD_LEN) != PADDING_NEGOTIATE_LEN)
		test_die("padding_negotiate_cell_encode");
	test_link_send_cell(&link_l, cell);
}

/* Waits ms on the link; any cell other than PADDING fails, as does a
 * close. Returns the PADDING cells that came. */
static unsigned
idle(int ms)
{
	struct test_cell c;
	unsigned before = link_l.padding_cells;
	int rc = test_link_next_cell(&link_l, &c, ms);

	if (rc > 0)
		test_die("unexpected cell while idle");
	if (rc < 0)
		test_die("the link closed while idle: %s", link_l.how);
	return link_l.padding_cells - before;
}

int
main(int argc, char **argv)
{
	struct test_hop hop;
	uint8_t cell[CELL_LEN];
	unsigned during, after;

	if (argc != 5) {
		fprintf(stderr, "usage: padding_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR\n");
		return 2;
	}
	alarm(50);
	test_client_init("padding_client", argv[1], argv[2]);
	test_client_load_keys(argv[3], argv[4]);
	if (!test_link_open(&link_l, "L"))
		test_die("link L: %s", test_detail);
	if (!test_create_fast(&link_l, &hop))
		test_die("CREATE_FAST: %s", test_detail);
	/* A RELAY_EARLY cell: the channel counts as used (tor's
	 * nf_pad_before_usage). DROP is discarded by the relay. */
	test_relay_cell(&hop, cell, CELL_COMMAND_RELAY_EARLY, RELAY_COMMAND_DROP, 0, NULL, 0);
	test_link_send_cell(&link_l, cell);

	send_negotiate(PADDING_NEGOTIATE_START);
	during = idle(IDLE_MS);
	printf("  START: %u PADDING cells in %d ms of silence\n", during, IDLE_MS);
	if (during < 1 || during > IDLE_MS / 1500)
		test_die("%u PADDING cells after START, expected 1..%d", during, IDLE_MS / 1500);

	send_negotiate(PADDING_NEGOTIATE_STOP);
	/* A PADDING cell already on its way when STOP left is not the
	 * relay's fault: allow the first 200 ms. */
	(void)idle(200);
	after = idle(IDLE_MS);
	printf("  STOP: %u PADDING cells in %d ms of silence\n", after, IDLE_MS);
	if (after != 0)
		test_die("%u PADDING cells after STOP", after);
	printf("ok: padding negotiated: START gave %u cells in %.1f s, STOP none in %.1f s\n",
			during, IDLE_MS / 1000.0, IDLE_MS / 1000.0);
	printf("expect: negotiations=2 cells_sent_min=%u\n", during);
	test_link_close(&link_l);
	test_client_free();
	return 0;
}
