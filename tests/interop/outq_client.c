/* outq_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR NEXT_ADDR NEXT_PORT NEXT_FINGERPRINT
 *             NEXT_NTOR_KEY NEXT_PID
 *
 * Drives hsrelay's outbound queue limit and tor's dos_num_circ_max_outq
 * detection (docs/dos.md, "Full outbound queues") as a client that ignores
 * flow control would, run by relay_dos_outq.sh with the relay configured
 * DoSCircuitCreationEnabled 1 and a real tor relay (process NEXT_PID) as
 * the next hop at NEXT_ADDR:NEXT_PORT, whose RSA identity is
 * NEXT_FINGERPRINT (40 hex digits) and whose ntor onion key is
 * NEXT_NTOR_KEY (64 hex digits). The client is the project's own
 * (tests/interop/test_client.h), an unauthenticated client on one link:
 *   1. three circuits: CREATE_FAST to the relay, then EXTEND2 to tor with
 *      a real ntor onion skin; tor's EXTENDED2 must come back and verify;
 *   2. tor is stopped (SIGSTOP): it reads nothing more, so the relay's
 *      link to it fills (tor's socket, the relay's TCP send buffer, its
 *      record backlog) and then each circuit's queue towards it;
 *   3. relay cells for tor are pushed on the first circuit, without
 *      waiting for SENDMEs, until the relay closes it with DESTROY
 *      RESOURCELIMIT (its queue reached the limit); then the same on the
 *      second and on the third;
 *   4. the third full queue marks the client's address (tor's
 *      dos_num_circ_max_outq, default 3): a new CREATE_FAST on the same
 *      link is answered DESTROY RESOURCELIMIT;
 *   5. tor is let go again (SIGCONT).
 * Prints "expect: ..." with the counters this caused, for the script to
 * compare with hsrelay's MetricsPort and exit counters. Alarm after 80 s.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "control/circ_cells.h"
#include "crypto/ntor.h"
#include "crypto/tls_record.h"
#include "dataplane/cell.h"
#include "tests/interop/test_client.h"

#define CIRCUITS 3
/* Cells per record while pushing (as many as a record holds). */
#define PUSH_BATCH (TLS_RECORD_MAX_PLAINTEXT / CELL_LEN)
/* More than any circuit can need: tor's receive buffer, the relay's send
 * buffer and backlog, then the queue limit's cells. */
#define PUSH_MAX 40000
/* hsrelay's per-circuit queue limit without a consensus, tor's default
 * (dataplane/relay_msg.h RELAY_CIRCUIT_QUEUE_MAX). */
#define QUEUE_MAX 2500

static uint8_t next_id[20], next_ntor[NTOR_KEY_LEN];
static struct sockaddr_in next_addr;

static void
hex_arg(const char *what, const char *hex, uint8_t *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		test_die("%s: %zu hex digits expected", what, 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			test_die("%s: not hex", what);
		out[i] = (uint8_t)v;
	}
}

/* CREATE_FAST to the relay, then EXTEND2 to tor (tor-spec 5.1.2) with its
 * address and RSA identity, and an ntor onion skin for its key; the
 * EXTENDED2 must carry tor's valid ntor answer. */
static void
build_circuit(struct test_link *l, struct test_hop *hop, unsigned index)
{
	struct extended2_cell extended;
	struct ntor_client_state st;
	uint8_t skin[NTOR_ONIONSKIN_LEN];
	uint8_t material[NTOR_TOR1_KEY_MATERIAL_LEN];
	const uint8_t *payload, *p;
	struct test_cell c;

	if (!test_create_fast(l, hop))
		test_die("circuit %u: CREATE_FAST: %s", index, test_detail);
	if (ntor_client_create(&st, next_id, next_ntor, skin, sizeof(skin)) != NTOR_ONIONSKIN_LEN)
		test_die("ntor_client_create");
	test_extend2_send(l, hop, &next_addr, next_id, skin);
	if (test_link_next_cell(l, &c, 3 * TEST_IO_TIMEOUT_MS) != 1)
		test_die("circuit %u: no answer to EXTEND2 (%s)", index, l->how);
	if (c.circ_id != hop->circ_id || c.command != CELL_COMMAND_RELAY) {
		test_cell_describe(&c, test_detail, sizeof(test_detail));
		test_die("circuit %u: EXTEND2 answered %s", index, test_detail);
	}
	if (!test_relay_cell_open(hop, &c))
		test_die("circuit %u: %s", index, test_detail);
	payload = c.payload;
	if (payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_EXTENDED2)
		test_die("circuit %u: relay command %u, not EXTENDED2", index,
				payload[RELAY_OFFSET_COMMAND]);
	p = payload + RELAY_HEADER_LEN;
	if (extended2_cell_parse(&p, payload + CELL_PAYLOAD_LEN, &extended) != 0 ||
	    ntor_client_complete(&st, extended.hdata, extended.hlen, material,
			sizeof(material)) != 0)
		test_die("circuit %u: tor's EXTENDED2 does not verify", index);
	printf("ok: 1. circuit %u: 0x%08x through the relay to tor (EXTENDED2 verified)\n",
			index, hop->circ_id);
}

/* What the relay sent: true once DESTROY RESOURCELIMIT for hop's circuit
 * came; any other DESTROY or a closed link ends the test. */
static bool
destroyed(struct test_link *l, const struct test_hop *hop, int timeout_ms)
{
	struct test_cell c;
	int rc;

	/* test_link_next_cell() with no time left only cuts what is
	 * buffered: take in what has arrived first. */
	while (timeout_ms == 0 && test_link_pump(l, 0))
		;
	while ((rc = test_link_next_cell(l, &c, timeout_ms)) == 1) {
		if (c.command != CELL_COMMAND_DESTROY)
			continue;
		if (c.circ_id != hop->circ_id || c.payload[0] != DESTROY_REASON_RESOURCELIMIT) {
			test_cell_describe(&c, test_detail, sizeof(test_detail));
			test_die("unexpected %s", test_detail);
		}
		return true;
	}
	if (rc < 0)
		test_die("the relay closed the link: %s", l->how);
	return false;
}

/* Pushes cells on hop's circuit until the relay destroys it; returns how
 * many were sent. */
static unsigned
push_until_destroyed(struct test_link *l, struct test_hop *hop, unsigned index)
{
	static uint8_t batch[PUSH_BATCH * CELL_LEN];
	unsigned sent = 0;

	while (sent < PUSH_MAX) {
		for (unsigned i = 0; i < PUSH_BATCH; i++)
			test_relay_cell_beyond(hop, batch + (size_t)i * CELL_LEN);
		test_link_send_plain(l, batch, sizeof(batch), sizeof(batch));
		sent += PUSH_BATCH;
		if (destroyed(l, hop, 0))
			return sent;
	}
	/* The last cells may still be on their way through the relay. */
	if (destroyed(l, hop, TEST_IO_TIMEOUT_MS))
		return sent;
	test_die("circuit %u: %u cells pushed and no DESTROY RESOURCELIMIT", index, sent);
}

int
main(int argc, char **argv)
{
	static struct test_link link;
	struct test_hop hops[CIRCUITS];
	uint32_t circ_id;
	pid_t next_pid;
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN];
	struct test_cell c;

	alarm(80);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 10) {
		fprintf(stderr, "usage: outq_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR "
				"NEXT_ADDR NEXT_PORT NEXT_FINGERPRINT NEXT_NTOR_KEY NEXT_PID\n");
		return 2;
	}
	test_client_init("outq_client", argv[1], argv[2]);
	test_client_load_keys(argv[3], argv[4]);
	test_parse_addr(argv[5], argv[6], &next_addr);
	hex_arg("NEXT_FINGERPRINT", argv[7], next_id, sizeof(next_id));
	hex_arg("NEXT_NTOR_KEY", argv[8], next_ntor, sizeof(next_ntor));
	next_pid = (pid_t)atoi(argv[9]);
	if (next_pid <= 1)
		test_die("NEXT_PID: %s", argv[9]);

	if (!test_link_open(&link, "C"))
		test_die("link: %s", test_detail);
	for (unsigned i = 0; i < CIRCUITS; i++)
		build_circuit(&link, &hops[i], i);

	if (kill(next_pid, SIGSTOP) != 0)
		test_die("SIGSTOP %d failed", (int)next_pid);
	printf("ok: 2. tor (pid %d) stopped\n", (int)next_pid);
	test_client_quiet = true;
	for (unsigned i = 0; i < CIRCUITS; i++) {
		unsigned sent = push_until_destroyed(&link, &hops[i], i);

		/* Its queue alone holds QUEUE_MAX cells before the relay gives
		 * up on it. */
		if (sent < QUEUE_MAX)
			test_die("circuit %u: DESTROY after only %u cells, fewer than the "
					"queue limit of %u", i, sent, QUEUE_MAX);
		printf("ok: 3. circuit %u: DESTROY RESOURCELIMIT after %u cells pushed\n", i, sent);
	}
	test_client_quiet = false;

	/* 4. The address is marked: no new circuit. */
	circ_id = test_new_circ_id();
	test_create_fast_cell(cell, circ_id, x);
	test_link_send_cell(&link, cell);
	if (!test_link_expect(&link, circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_RESOURCELIMIT, &c))
		test_die("4. CREATE_FAST after three full queues: %s", test_detail);
	printf("ok: 4. CREATE_FAST after three full queues: DESTROY RESOURCELIMIT\n");

	if (kill(next_pid, SIGCONT) != 0)
		test_die("SIGCONT %d failed", (int)next_pid);
	printf("ok: 5. tor let go again\n");
	test_link_close(&link);
	test_client_free();
	printf("expect: closed_queue_limit_outq=%u marked_address_maxq=1 circuit_rejected=1\n",
			CIRCUITS);
	printf("PASS\n");
	return 0;
}
