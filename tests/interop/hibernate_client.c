/* hibernate_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR
 *
 * A link to hsrelay kept open across its AccountingMax hibernation (tor
 * hibernate.c), driven by commands on stdin, one per line, each answered
 * by one line on stdout (the script reads them as they come):
 *   open     opens the link (authenticated as a relay) and a CREATE_FAST
 *            circuit: "open ok", or "open failed WHY"
 *   create   CREATE_FAST on a new circuit id of that link: "create ok"
 *            (CREATED_FAST), "create destroy REASON" (DESTROY with its
 *            reason number; tor answers 4, HIBERNATING, while it
 *            hibernates) or "create closed WHY" (the link went)
 *   connect  a new TCP connection to the relay: "connect ok" or
 *            "connect refused WHY" (tor closes its listeners while it
 *            hibernates)
 *   drop N   N RELAY DROP cells on the circuit (tor-spec 6.1: the relay
 *            discards them; they are read, and count against AccountingMax):
 *            "drop ok", or "drop closed WHY" when the link went
 *   closed MS  waits up to MS ms for the relay to close the link:
 *            "closed yes WHY" or "closed no" (any cell but PADDING is a
 *            failure)
 *   quit
 * Exit 0 after quit, 1 on a failure of the client itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/cell.h"
#include "tests/interop/test_client.h"

static struct test_link link_l, probe;

static void
answer(const char *fmt, const char *what)
{
	printf(fmt, what);
	putchar('\n');
	fflush(stdout);
}

static void
do_create(void)
{
	uint32_t circ_id = test_new_circ_id();
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN];
	struct test_cell c;
	char reason[8];
	int rc;

	test_create_fast_cell(cell, circ_id, x);
	test_link_send_cell(&link_l, cell);
	rc = test_link_next_cell(&link_l, &c, 5000);
	if (rc < 0) {
		answer("create closed %s", link_l.how);
		return;
	}
	if (rc == 0)
		test_die("no answer to CREATE_FAST in 5 s");
	if (c.circ_id != circ_id)
		test_die("a cell for circuit %08x, not %08x", c.circ_id, circ_id);
	if (c.command == CELL_COMMAND_CREATED_FAST) {
		answer("create %s", "ok");
		return;
	}
	if (c.command != CELL_COMMAND_DESTROY)
		test_die("CREATE_FAST answered with %s", test_command_name(c.command));
	snprintf(reason, sizeof(reason), "%u", c.payload[0]);
	answer("create destroy %s", reason);
}

static void
do_closed(int ms)
{
	struct test_cell c;
	int rc = test_link_next_cell(&link_l, &c, ms);

	if (rc > 0)
		test_die("unexpected %s while waiting for the close",
				test_command_name(c.command));
	if (rc < 0)
		answer("closed yes %s", link_l.how);
	else
		answer("closed %s", "no");
}

int
main(int argc, char **argv)
{
	struct test_hop hop;
	char line[64];

	if (argc != 5) {
		fprintf(stderr, "usage: hibernate_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR\n");
		return 2;
	}
	link_l.fd = probe.fd = -1;
	test_client_init("hibernate_client", argv[1], argv[2]);
	test_client_load_keys(argv[3], argv[4]);
	test_client_quiet = true;
	/* A relay's link: not a client's, so no DoS limit of client links
	 * applies (tor channel_is_client()). */
	test_client_authenticate = true;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "open") == 0) {
			if (!test_link_open(&link_l, "L"))
				answer("open failed %s", test_detail);
			else if (!test_create_fast(&link_l, &hop))
				answer("open failed %s", test_detail);
			else
				answer("open %s", "ok");
		} else if (strcmp(line, "create") == 0) {
			do_create();
		} else if (strcmp(line, "connect") == 0) {
			if (test_link_connect(&probe, "P"))
				answer("connect %s", "ok");
			else
				answer("connect refused %s", test_detail);
			test_link_close(&probe);
		} else if (strncmp(line, "drop ", 5) == 0) {
			uint8_t cell[CELL_LEN];

			for (int i = atoi(line + 5); i > 0 && !link_l.closed; i--) {
				test_relay_cell(&hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_DROP, 0,
						NULL, 0);
				test_link_send_cell(&link_l, cell);
			}
			if (link_l.closed)
				answer("drop closed %s", link_l.how);
			else
				answer("drop %s", "ok");
		} else if (strncmp(line, "closed ", 7) == 0) {
			do_closed(atoi(line + 7));
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else {
			test_die("unknown command '%s'", line);
		}
	}
	test_link_close(&link_l);
	test_client_free();
	return 0;
}
