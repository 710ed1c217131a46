/* begindir_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR OUT [URL [REPEAT]]
 *
 * A directory client of hsrelay's directory cache over a one-hop circuit
 * (run by relay_testnet.sh), written with the project's own modules over a
 * kernel TCP socket, as tor's dirclient does it for a tunnelled request
 * (tor-spec "Opening a directory stream"; dir-spec "HTTP headers"):
 * TLS and an unauthenticated link handshake as a client (the relay's CERTS
 * checked against the fingerprint in RELAY_DATADIR), CREATE_FAST; 100 DATA
 * cells on a stream that does not exist, after which the relay must send a
 * circuit SENDME v1 carrying our forward digest after the 100th (prop 289:
 * this checks the digests the worker reports with received cells); then
 * REPEAT times (default 1), on streams 1, 2, ...: BEGIN_DIR -> CONNECTED;
 * one DATA cell with "GET URL HTTP/1.0" (default the microdesc
 * consensus); DATA cells until END DONE. The last response is checked for
 * "HTTP/1.0 200" and its body written to OUT; the caller compares it with
 * what an authority serves.
 *
 * Flow control as a tor 0.4.9 client without congestion control does it
 * (CREATE_FAST negotiates none; tor relay.c, sendme.c): every received
 * DATA cell counts against the circuit deliver window (1000) and the
 * stream's (500); at 900 the client sends a circuit SENDME version 1
 * carrying the 20-byte backward running digest right after that DATA
 * cell (prop 289), at 450 an empty stream SENDME. So a response of more
 * than 1000 cells only arrives when these SENDMEs are right, and the relay
 * closes the circuit for a wrong digest: with more than 100 DATA cells
 * over the REPEAT streams, the later streams work only if the relay
 * accepted our SENDME (this checks the digests the worker reports for
 * cells it sent).
 *
 * Every relay cell from the relay must be recognized at our hop
 * (recognized == 0 and the backward digest matching). Prints the counts;
 * exit 0 on success.
 *
 * Links, CREATE_FAST and relay cells: tests/interop/test_client.h.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/link_cells.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"
#include "tests/interop/test_client.h"

/* tor or.h */
#define CIRCWINDOW_START 1000
#define CIRCWINDOW_INCREMENT 100
#define STREAMWINDOW_START 500
#define STREAMWINDOW_INCREMENT 50
#define RESPONSE_MAX (64u << 20)

/* ------------------------------------------------------------------ */
/* The directory request                                               */

/* Circuit-level counters across the streams of the circuit. */
struct circuit_state {
	int deliver_window;
	unsigned nb_data, nb_circ_sendme, nb_stream_sendme;
	/* prop 289 from our side: the forward digests the relay's circuit
	 * SENDMEs must carry, in order */
	uint8_t expected[8][20];
	unsigned nb_expected, next_expected, nb_sendme_checked;
};

/* A circuit SENDME from the relay (sendme.c build_cell_payload_v1): must
 * be version 1 with the digest of the DATA cell of ours that crossed the
 * relay's threshold. */
static bool
check_sendme(struct circuit_state *cs, const uint8_t *body, uint16_t length)
{
	if (length != 23 || body[0] != 1 || wire_read_u16(body + 1) != 20)
		return test_why("circuit SENDME from the relay is not v1 with 20 bytes (length %u)",
				length);
	if (cs->next_expected == cs->nb_expected)
		return test_why("circuit SENDME from the relay that we did not ask for");
	if (memcmp(body + 3, cs->expected[cs->next_expected++], 20) != 0)
		return test_why("circuit SENDME from the relay carries the wrong digest");
	cs->nb_sendme_checked++;
	return true;
}

/* 100 DATA cells on a stream that does not exist: each counts against the
 * relay's circuit deliver window (tor relay.c), so the 100th makes it send
 * a circuit SENDME v1 carrying our forward digest after that cell. */
static bool
provoke_sendme(struct test_link *l, struct test_hop *hop, struct circuit_state *cs)
{
	uint8_t cell[CELL_LEN], junk[RELAY_DATA_MAX];
	struct test_cell c;

	memset(junk, 'x', sizeof(junk));
	for (unsigned i = 1; i <= CIRCWINDOW_INCREMENT; i++) {
		test_relay_cell(hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_DATA, 9, junk,
				sizeof(junk));
		test_link_send_cell(l, cell);
	}
	relay_digest_current(&hop->forward_digest, cs->expected[cs->nb_expected++]);
	for (;;) {
		int rc = test_link_next_cell(l, &c, 3 * TEST_IO_TIMEOUT_MS);

		if (rc <= 0)
			return test_why("no circuit SENDME after %u DATA cells",
					CIRCWINDOW_INCREMENT);
		if (c.command == CELL_COMMAND_DESTROY)
			return test_why("the relay destroyed the circuit: reason %u", c.payload[0]);
		if (c.command != CELL_COMMAND_RELAY || c.circ_id != hop->circ_id)
			continue;
		if (!test_relay_cell_open(hop, &c))
			return false;
		if (c.payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_SENDME ||
		    wire_read_u16(c.payload + RELAY_OFFSET_STREAM_ID) != 0)
			return test_why("relay command %u while waiting for a circuit SENDME",
					c.payload[RELAY_OFFSET_COMMAND]);
		return check_sendme(cs, c.payload + RELAY_HEADER_LEN,
				wire_read_u16(c.payload + RELAY_OFFSET_LENGTH));
	}
}

static bool
fetch(struct test_link *l, struct test_hop *hop, struct circuit_state *cs, uint16_t stream_id,
		const char *url, uint8_t **out, size_t *out_len)
{
	int stream_deliver = STREAMWINDOW_START;
	uint8_t cell[CELL_LEN], request[512];
	size_t len = 0, cap = 1 << 16;
	uint8_t *response = malloc(cap);
	bool connected = false;
	struct test_cell c;
	int n;

	if (response == NULL)
		test_die("out of memory");
	test_relay_cell(hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_BEGIN_DIR, stream_id, NULL, 0);
	test_link_send_cell(l, cell);
	n = snprintf((char *)request, sizeof(request), "GET %s HTTP/1.0\r\nHost: %s\r\n"
			"Accept-Encoding: identity\r\n\r\n", url,
			inet_ntoa(test_client_relay_addr()->sin_addr));
	if (n < 0 || (size_t)n >= sizeof(request))
		test_die("URL too long");
	test_relay_cell(hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_DATA, stream_id, request,
			(uint16_t)n);
	test_link_send_cell(l, cell);
	for (;;) {
		const uint8_t *payload;
		uint16_t length, sid;
		int rc = test_link_next_cell(l, &c, 3 * TEST_IO_TIMEOUT_MS);

		if (rc < 0)
			return test_why("the link closed (%s) during the fetch", l->how);
		if (rc == 0)
			return test_why("no cell for %d ms during the fetch (%zu bytes so far)",
					3 * TEST_IO_TIMEOUT_MS, len);
		if (c.command == CELL_COMMAND_DESTROY)
			return test_why("the relay destroyed the circuit: reason %u", c.payload[0]);
		if (c.command != CELL_COMMAND_RELAY || c.circ_id != hop->circ_id)
			continue;
		if (!test_relay_cell_open(hop, &c))
			return false;
		payload = c.payload;
		length = wire_read_u16(payload + RELAY_OFFSET_LENGTH);
		sid = wire_read_u16(payload + RELAY_OFFSET_STREAM_ID);
		if (length > RELAY_DATA_MAX)
			return test_why("relay cell length %u", length);
		switch (payload[RELAY_OFFSET_COMMAND]) {
		case RELAY_COMMAND_CONNECTED:
			if (sid != stream_id || connected)
				return test_why("CONNECTED on stream %u", sid);
			connected = true;
			break;
		case RELAY_COMMAND_DATA:
			if (sid != stream_id || !connected)
				return test_why("DATA on stream %u before CONNECTED", sid);
			cs->nb_data++;
			if (len + length > RESPONSE_MAX)
				return test_why("response too long");
			if (len + length > cap) {
				cap *= 2;
				response = realloc(response, cap);
				if (response == NULL)
					test_die("out of memory");
			}
			memcpy(response + len, payload + RELAY_HEADER_LEN, length);
			len += length;
			/* sendme.c sendme_circuit_consider_sending: version 1 with
			 * the digest of the cell that crossed the threshold. */
			if (--cs->deliver_window <= CIRCWINDOW_START - CIRCWINDOW_INCREMENT) {
				uint8_t body[3 + 20];

				cs->deliver_window += CIRCWINDOW_INCREMENT;
				body[0] = 1;
				wire_write_u16(body + 1, 20);
				relay_digest_current(&hop->backward_digest, body + 3);
				test_relay_cell(hop, cell, CELL_COMMAND_RELAY,
						RELAY_COMMAND_SENDME, 0, body, sizeof(body));
				test_link_send_cell(l, cell);
				cs->nb_circ_sendme++;
			}
			if (--stream_deliver <= STREAMWINDOW_START - STREAMWINDOW_INCREMENT) {
				stream_deliver += STREAMWINDOW_INCREMENT;
				test_relay_cell(hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_SENDME,
						stream_id, NULL, 0);
				test_link_send_cell(l, cell);
				cs->nb_stream_sendme++;
			}
			break;
		case RELAY_COMMAND_END:
			if (sid != stream_id)
				return test_why("END on stream %u", sid);
			if (length < 1 || payload[RELAY_HEADER_LEN] != 6)
				return test_why("END reason %u, wanted DONE (6)",
						length > 0 ? payload[RELAY_HEADER_LEN] : 0);
			*out = response;
			*out_len = len;
			return true;
		case RELAY_COMMAND_SENDME:
			if (sid == 0 && !check_sendme(cs, payload + RELAY_HEADER_LEN, length))
				return false;
			break;
		default:
			return test_why("unexpected relay command %u",
					payload[RELAY_OFFSET_COMMAND]);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *url = "/tor/status-vote/current/consensus-microdesc";
	struct circuit_state cs = { .deliver_window = CIRCWINDOW_START };
	unsigned repeat = 1;
	static struct test_link link;
	struct test_hop hop;
	uint8_t *response = NULL;
	size_t len = 0;
	const uint8_t *body;
	FILE *f;

	alarm(120);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: begindir_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR OUT "
				"[URL [REPEAT]]\n");
		return 2;
	}
	/* begindir_client has always named itself so in its fatal messages
	 * (it began as a copy of hostile_client); kept so that its output does
	 * not change. */
	test_client_init("begindir_client", argv[1], argv[2]);
	if (argc >= 7)
		url = argv[6];
	if (argc == 8 && (repeat = (unsigned)atoi(argv[7])) == 0)
		test_die("bad REPEAT %s", argv[7]);
	test_client_load_keys(argv[3], argv[4]);
	if (!test_link_open(&link, "L"))
		test_die("%s", test_detail);
	if (!test_create_fast(&link, &hop))
		test_die("%s", test_detail);
	if (!provoke_sendme(&link, &hop, &cs))
		test_die("%s", test_detail);
	/* REPEAT requests on streams 1, 2, ... of the same circuit: with more
	 * than 100 DATA cells in all, our circuit SENDME v1 reaches the relay,
	 * which checks its digest, and the next stream only works if it
	 * matched. */
	for (unsigned i = 0; i < repeat; i++) {
		free(response);
		response = NULL;
		if (!fetch(&link, &hop, &cs, (uint16_t)(i + 1), url, &response, &len))
			test_die("stream %u: %s", i + 1, test_detail);
	}
	if (len < 13 || memcmp(response, "HTTP/1.0 200 ", 13) != 0)
		test_die("response does not start with HTTP/1.0 200: %.40s",
				(const char *)response);
	body = memmem(response, len, "\r\n\r\n", 4);
	if (body == NULL)
		test_die("response without a header end");
	body += 4;
	f = fopen(argv[5], "wb");
	if (f == NULL || fwrite(body, 1, len - (size_t)(body - response), f) !=
			len - (size_t)(body - response) || fclose(f) != 0)
		test_die("cannot write %s", argv[5]);
	printf("begindir: %s on %u streams of one circuit: %zu response bytes (%zu body) "
			"each, END DONE; %u DATA cells in all; we sent %u circuit SENDMEs (v1) and %u "
			"stream SENDMEs; the relay sent %u circuit SENDMEs (v1), digests checked\n",
			url, repeat, len, len - (size_t)(body - response), cs.nb_data,
			cs.nb_circ_sendme, cs.nb_stream_sendme, cs.nb_sendme_checked);
	free(response);
	test_link_close(&link);
	test_client_free();
	return 0;
}
