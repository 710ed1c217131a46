/* hostile_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR EXTEND_ADDR:PORT
 *
 * A misbehaving Tor client against hsrelay's ORPort (run by
 * relay_hostile.sh), written with the project's own modules over kernel
 * TCP sockets (tests/interop/test_client.h): control/tls_handshake.h as
 * TLS client, then every record sealed and opened with
 * crypto/tls_record.h; control/link_handshake.h as an unauthenticated
 * initiator (a client) that validates the relay's CERTS against the
 * fingerprint in RELAY_DATADIR; CREATE_FAST (KDF-TOR) and ntor CREATE2
 * (crypto/ntor.h) with the relay's onion key from RELAY_DATADIR; the
 * client's onion layer with crypto/relay_crypto.h.
 * CLIENT_DATADIR holds the client's own keys (made on first use): the
 * link handshake module wants credentials even when it never sends them.
 * EXTEND_ADDR:PORT must be a TCP port nothing listens on, reachable from
 * the relay (the kernel answers RST): an EXTEND2 there ends the circuit
 * with DESTROY reason CHANNEL_CLOSED (tor circuitbuild.c: the next
 * hop's channel failed), which proves the circuit was alive
 * and that both ends' forward crypto and digest were still in step (the
 * relay only reads an EXTEND2 it recognized).
 *
 * Scenarios, each with the relay's exact answer checked (tor-spec section
 * numbers as in the 2023 tor-spec):
 *   1. circuits A (CREATE_FAST) and B (ntor) on link L1; a RELAY cell on A
 *      that no hop recognizes (5.5.2.1: the circuit ends here) -> DESTROY
 *      A PROTOCOL; then CREATE_FAST C -> CREATED_FAST and an EXTEND2 on B
 *      -> DESTROY B CHANNEL_CLOSED, with no cell about B in between;
 *   2. eight RELAY_EARLY cells (RELAY_DROP, recognized and ignored) on D,
 *      a CREATE_FAST barrier answered with nothing before it, then a
 *      ninth RELAY_EARLY carrying an EXTEND2 -> DESTROY D PROTOCOL, not
 *      CHANNEL_CLOSED (5.6); circuit E on the link still extends;
 *   3. CREATE2 with the wrong NODEID, an unknown KEYID, a truncated ntor
 *      onion skin (HLEN 83), TAP (type 0) and an unknown type -> DESTROY
 *      PROTOCOL for that circuit id only; nothing is left installed (the
 *      id is answered again by a CREATE_FAST);
 *   4. CREATE2 and CREATE_FAST reusing the id of open circuit G ->
 *      dropped as tor (command.c: "for known circ. Dropping"): the next
 *      answer is a barrier's CREATED_FAST, and G still extends with the
 *      keys of its first handshake;
 *   5. record-layer garbage on other links, each opened fully with a
 *      circuit first: a record with a bad GCM tag, a record header whose
 *      length exceeds 2^14 + 256, and bytes that are not TLS at all -> the
 *      relay ends that link (TCP RST or FIN, or an alert), while L1's
 *      circuits keep working;
 *   6. on L1, VPADDING cells of 60000 bytes (in 16 KB records and in
 *      1000-byte records) and a 100-byte variable-length cell of unknown
 *      command 0xf0 -> ignored: a CREATE_FAST right after is answered.
 * Then: L1 carries a fresh CREATE_FAST -> CREATED_FAST, and circuit C,
 * made in scenario 1, still extends.
 *
 * Probes where hsrelay may differ from tor 0.4.9 (printed as "diverges:"
 * or "ok:", not counted as failures unless --strict):
 *   P1. CREATE_FAST from a client with the circuit id's high bit clear
 *       (tor-spec 5.1.1; tor command.c answers DESTROY PROTOCOL);
 *   P2. two CREATE_FAST with one new circuit id in one record (tor: the
 *       second is dropped, the id being in use since the first);
 *   P3. a variable-length cell of unknown command with 10000 bytes sent
 *       across records (tor buffers any var cell and ignores unknown
 *       commands).
 * and probes of hsrelay defects found with this tool ("bug:"):
 *   P4. a ClientHello sent right after connect() must be answered (every
 *       other link waits 20 ms after connect() so that the scenarios do
 *       not depend on this);
 *   P5. after 40 more EXTEND2 to the closed port (run last; the relay is
 *       configured with MaxLinksPerWorker 16, i.e. 32 TCP connections), a
 *       new link must still open.
 *
 * Prints one line per scenario ("ok: ..." / "FAIL: ...") and each cell
 * the relay sent ("  [L1] <- ..."). Exit 0 when every scenario passed, 1
 * otherwise (2 for a bad command line); alarm after 50 s.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/circ_cells.h"
#include "control/link_cells.h"
#include "crypto/ntor.h"
#include "crypto/relay_crypto.h"
#include "crypto/tls_record.h"
#include "dataplane/cell.h"
#include "tests/interop/test_client.h"

/* tor's TAP onion skin length (onion_tap.h TAP_ONIONSKIN_CHALLENGE_LEN). */
#define TAP_ONIONSKIN_LEN 186
/* tor-spec 5.6: a relay accepts 8 RELAY_EARLY cells per circuit. */
#define MAX_RELAY_EARLY 8

static struct sockaddr_in extend_addr;
static unsigned failures, divergences;
static struct {
	/* links the relay did not accept although our connect() succeeded;
	 * links_accepted is test_client_links_connected() less these */
	unsigned links_not_accepted;
	unsigned tls_failures, create_failures, closed_protocol;
	unsigned drop_bad_record, extend_failures;
} expected;

/* Writes what a scenario saw, when it passed, into test_detail. */
static void summary(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
summary(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(test_detail, sizeof(test_detail), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Checks on links and circuits (test_client.h has the client itself)  */

/* The relay must end the link (RST, FIN or an alert) within 5 s. */
static bool
expect_closed(struct test_link *l)
{
	struct test_cell c;
	int rc;

	while ((rc = test_link_next_cell(l, &c, TEST_IO_TIMEOUT_MS)) == 1)
		;
	if (rc == 0)
		return test_why("%s still open %d ms after the garbage", l->name,
				TEST_IO_TIMEOUT_MS);
	return true;
}

/* EXTEND2 to the closed port, with a random RSA identity and an ntor
 * onion skin the next hop would never see. */
static void
send_extend2(struct test_link *l, struct test_hop *hop)
{
	uint8_t rsa_id[LINK_SPECIFIER_LEGACY_ID_LEN], skin[NTOR_ONIONSKIN_LEN];

	test_random_bytes(rsa_id, sizeof(rsa_id));
	test_random_bytes(skin, sizeof(skin));
	test_extend2_send(l, hop, &extend_addr, rsa_id, skin);
}

/* The circuit is alive and in step: an EXTEND2 to the closed port comes
 * back as DESTROY CHANNEL_CLOSED (tor's and hsrelay's reason for a next hop it
 * cannot reach). This ends the circuit. */
static bool
extends(struct test_link *l, struct test_hop *hop)
{
	send_extend2(l, hop);
	if (!test_link_expect(l, hop->circ_id, CELL_COMMAND_DESTROY, DESTROY_REASON_CHANNEL_CLOSED,
			NULL))
		return false;
	expected.extend_failures++;
	return true;
}

/* A CREATE_FAST whose CREATED_FAST must be the next cell on the link:
 * everything the relay did with earlier cells of the link (closing a
 * circuit included) was queued before it. */
static bool
barrier(struct test_link *l, struct test_hop *hop)
{
	static struct test_hop scratch;

	return test_create_fast(l, hop != NULL ? hop : &scratch);
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */

static struct test_link *l1;
static struct test_hop hop_c;	/* made in scenario 1, checked at the end */

static bool
scenario_unrecognized(void)
{
	struct test_hop a, b;
	uint8_t cell[CELL_LEN];

	if (!test_create_fast(l1, &a) || !test_create_ntor(l1, &b))
		return false;
	test_relay_cell_beyond(&a, cell);
	test_link_send_cell(l1, cell);
	if (!test_link_expect(l1, a.circ_id, CELL_COMMAND_DESTROY, DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.closed_protocol++;
	/* Nothing about B comes before C's answer. */
	if (!barrier(l1, &hop_c))
		return false;
	if (!extends(l1, &b))
		return false;
	summary("unrecognized RELAY on A 0x%08x -> DESTROY PROTOCOL; "
			"CREATE_FAST C 0x%08x -> CREATED_FAST; EXTEND2 on B (ntor) 0x%08x -> "
			"DESTROY CHANNEL_CLOSED", a.circ_id, hop_c.circ_id, b.circ_id);
	return true;
}

static bool
scenario_relay_early(void)
{
	struct test_hop d, e;
	uint8_t cell[CELL_LEN];

	if (!test_create_fast(l1, &d) || !test_create_fast(l1, &e))
		return false;
	for (int i = 0; i < MAX_RELAY_EARLY; i++) {
		test_relay_cell(&d, cell, CELL_COMMAND_RELAY_EARLY, RELAY_COMMAND_DROP, 0, NULL, 0);
		test_link_send_cell(l1, cell);
	}
	/* Eight accepted: no DESTROY before the barrier's answer. */
	if (!barrier(l1, NULL))
		return false;
	send_extend2(l1, &d);
	if (!test_link_expect(l1, d.circ_id, CELL_COMMAND_DESTROY, DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.closed_protocol++;
	if (!extends(l1, &e))
		return false;
	summary("8 RELAY_EARLY on 0x%08x accepted; the 9th (an EXTEND2) "
			"-> DESTROY PROTOCOL; EXTEND2 on 0x%08x -> DESTROY CHANNEL_CLOSED", d.circ_id,
			e.circ_id);
	return true;
}

static bool
scenario_bad_create2(void)
{
	static const char *const names[] = {
		"wrong NODEID", "unknown KEYID", "ntor HLEN 83", "TAP (type 0)", "type 9",
	};
	uint8_t cell[CELL_LEN], skin[TAP_ONIONSKIN_LEN];
	struct ntor_client_state st;
	struct test_hop keep, again;
	uint32_t ids[5];

	if (!test_create_fast(l1, &keep))
		return false;
	for (unsigned i = 0; i < 5; i++) {
		ids[i] = test_new_circ_id();
		switch (i) {
		case 0:
		case 1:
			test_ntor_onion_skin(&st, skin, i == 0, i == 1);
			test_create2_cell(cell, ids[i], HANDSHAKE_TYPE_NTOR, skin,
					NTOR_ONIONSKIN_LEN);
			break;
		case 2:
			test_ntor_onion_skin(&st, skin, false, false);
			test_create2_cell(cell, ids[i], HANDSHAKE_TYPE_NTOR, skin,
					NTOR_ONIONSKIN_LEN - 1);
			break;
		case 3:
			test_random_bytes(skin, TAP_ONIONSKIN_LEN);
			test_create2_cell(cell, ids[i], HANDSHAKE_TYPE_TAP, skin,
					TAP_ONIONSKIN_LEN);
			break;
		default:
			test_ntor_onion_skin(&st, skin, false, false);
			test_create2_cell(cell, ids[i], 9, skin, NTOR_ONIONSKIN_LEN);
			break;
		}
		test_link_send_cell(l1, cell);
		if (!test_link_expect(l1, ids[i], CELL_COMMAND_DESTROY, DESTROY_REASON_PROTOCOL,
				NULL)) {
			size_t n = strlen(test_detail);

			snprintf(test_detail + n, sizeof(test_detail) - n, " (CREATE2 with %s)",
					names[i]);
			return false;
		}
		expected.create_failures++;
	}
	/* Nothing was installed for a refused id: it is free for a new
	 * circuit. */
	{
		uint8_t x[CREATE_FAST_KEY_LEN];
		struct test_cell c;

		test_create_fast_cell(cell, ids[0], x);
		test_link_send_cell(l1, cell);
		if (!test_link_expect(l1, ids[0], CELL_COMMAND_CREATED_FAST, -1, &c) ||
		    !test_create_fast_complete(&again, ids[0], x, &c))
			return false;
	}
	if (!extends(l1, &again) || !extends(l1, &keep))
		return false;
	summary("CREATE2 with %s, %s, %s, %s, %s -> DESTROY PROTOCOL "
			"each (0x%08x..0x%08x); the first id is free again (CREATED_FAST); the "
			"other circuit extends", names[0], names[1], names[2], names[3], names[4],
			ids[0], ids[4]);
	return true;
}

static bool
scenario_reused_id(void)
{
	uint8_t cell[CELL_LEN], skin[NTOR_ONIONSKIN_LEN], x[CREATE_FAST_KEY_LEN];
	struct ntor_client_state st;
	struct test_hop g;

	if (!test_create_ntor(l1, &g))
		return false;
	test_ntor_onion_skin(&st, skin, false, false);
	test_create2_cell(cell, g.circ_id, HANDSHAKE_TYPE_NTOR, skin, NTOR_ONIONSKIN_LEN);
	test_link_send_cell(l1, cell);
	test_create_fast_cell(cell, g.circ_id, x);
	test_link_send_cell(l1, cell);
	/* Both dropped: the barrier's CREATED_FAST is the next cell. */
	if (!barrier(l1, NULL))
		return false;
	/* G keeps the keys of its first handshake. */
	if (!extends(l1, &g))
		return false;
	summary("CREATE2 and CREATE_FAST on open 0x%08x dropped; it "
			"still extends with its first keys", g.circ_id);
	return true;
}

enum garbage {
	GARBAGE_BAD_TAG,
	GARBAGE_OVERSIZED,
	GARBAGE_NOT_TLS,
};

static bool
garbage_link(enum garbage kind, const char *name, char *how, size_t how_len)
{
	static struct test_link l;
	struct test_hop h;
	bool ok;

	if (kind == GARBAGE_NOT_TLS) {
		static const char text[] = "GET / HTTP/1.0\r\n\r\n";

		if (!test_link_connect(&l, name))
			return false;
		test_link_send_raw(&l, (const uint8_t *)text, sizeof(text) - 1);
	} else {
		if (!test_link_open(&l, name) || !test_create_fast(&l, &h))
			return false;
		if (kind == GARBAGE_BAD_TAG) {
			uint8_t cell[CELL_LEN];

			test_relay_cell(&h, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_DROP, 0, NULL,
					0);
			test_link_send_record(&l, TLS_CONTENT_APPLICATION_DATA, cell, CELL_LEN,
					true);
		} else {
			/* RFC 8446 5.2: TLSCiphertext.length must not exceed
			 * 2^14 + 256. */
			static const uint8_t header[5] = { 0x17, 0x03, 0x03, 0x41, 0x01 };

			test_link_send_raw(&l, header, sizeof(header));
		}
	}
	ok = expect_closed(&l);
	if (ok && kind == GARBAGE_NOT_TLS)
		expected.tls_failures++;
	else if (ok)
		expected.drop_bad_record++;
	/* Before the handover, what the relay sent is plain TLS: an alert
	 * record is readable. */
	if (kind == GARBAGE_NOT_TLS && l.in_len >= 7 && l.in[0] == TLS_CONTENT_ALERT)
		snprintf(how, how_len, "TLS alert %u/%u, then %s", l.in[5], l.in[6], l.how);
	else
		snprintf(how, how_len, "%s", l.how);
	test_link_close(&l);
	return ok;
}

static bool
scenario_record_garbage(void)
{
	static const char *const names[] = { "L2", "L3", "L4" };
	static const char *const what[] = {
		"bad GCM tag", "record length 16641", "plain HTTP instead of TLS",
	};
	char how[3][160];
	struct test_hop h;

	for (int k = GARBAGE_BAD_TAG; k <= GARBAGE_NOT_TLS; k++) {
		if (!garbage_link((enum garbage)k, names[k], how[k], sizeof(how[k]))) {
			size_t n = strlen(test_detail);

			snprintf(test_detail + n, sizeof(test_detail) - n, " (%s)", what[k]);
			return false;
		}
	}
	if (!barrier(l1, &h) || !extends(l1, &h))
		return false;
	summary("%s -> %s; %s -> %s; %s -> %s; L1 still creates and "
			"extends", what[0], how[0], what[1], how[1], what[2], how[2]);
	return true;
}

/* A variable-length cell (4-byte circuit id 0) with len payload bytes. */
static size_t
var_cell(uint8_t *out, uint8_t command, uint16_t len)
{
	memset(out, 0, 7);
	out[4] = command;
	wire_write_u16(out + 5, len);
	test_random_bytes(out + 7, len);
	return 7u + len;
}

static bool
scenario_var_cells(void)
{
	static uint8_t buf[7 + 65535];
	struct test_hop h;
	size_t n;

	n = var_cell(buf, CELL_COMMAND_VPADDING, 60000);
	test_link_send_plain(l1, buf, n, TLS_RECORD_MAX_PLAINTEXT);
	n = var_cell(buf, CELL_COMMAND_VPADDING, 60000);
	test_link_send_plain(l1, buf, n, 1000);
	n = var_cell(buf, 0xf0, 100);
	test_link_send_plain(l1, buf, n, TLS_RECORD_MAX_PLAINTEXT);
	if (!barrier(l1, &h) || !extends(l1, &h))
		return false;
	summary("VPADDING 60000 B in 16 KB records and in 1000 B "
			"records, var cell 0xf0 of 100 B: ignored, the link creates and extends");
	return true;
}

/* ------------------------------------------------------------------ */
/* Probes of known differences from tor                                */

/* Prints "ok: NAME: ..." or, when the relay failed the probe, "LABEL:
 * NAME: ..." with LABEL "diverges" (from tor) or "bug" (of hsrelay). */
static void probe(const char *label, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
probe(const char *label, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s: ", ok ? "ok" : label, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		divergences++;
}

/* P1: tor-spec 5.1.1, the initiator sets the high bit. */
static void
probe_low_circ_id(void)
{
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN];
	uint32_t circ_id = 0x00000077u;
	struct test_cell c;
	int rc;

	test_create_fast_cell(cell, circ_id, x);
	test_link_send_cell(l1, cell);
	rc = test_link_next_cell(l1, &c, TEST_IO_TIMEOUT_MS);
	if (rc == 1 && c.circ_id == circ_id && c.command == CELL_COMMAND_DESTROY &&
	    c.payload[0] == DESTROY_REASON_PROTOCOL) {
		/* hsrelay's control thread refuses it as a failed create. */
		expected.create_failures++;
		probe("diverges", "P1 low circuit id from a client", true, "DESTROY PROTOCOL, as tor");
		return;
	}
	if (rc == 1 && c.circ_id == circ_id && c.command == CELL_COMMAND_CREATED_FAST) {
		struct test_hop h;

		probe("diverges", "P1 low circuit id from a client", false, "CREATE_FAST on 0x%08x answered "
				"CREATED_FAST (tor command.c: DESTROY PROTOCOL, \"unexpected "
				"circ_id\")", circ_id);
		/* Leave nothing open behind. */
		if (test_create_fast_complete(&h, circ_id, x, &c))
			extends(l1, &h);
		return;
	}
	probe("diverges", "P1 low circuit id from a client", false, "unexpected answer (%d)", rc);
}

/* P2: two CREATE_FAST with one new id in one record. */
static void
probe_double_create(void)
{
	uint8_t cells[2 * CELL_LEN], x[2][CREATE_FAST_KEY_LEN];
	uint32_t circ_id = test_new_circ_id();
	struct test_cell c;
	struct test_hop h;

	test_create_fast_cell(cells, circ_id, x[0]);
	test_create_fast_cell(cells + CELL_LEN, circ_id, x[1]);
	test_link_send_plain(l1, cells, sizeof(cells), TLS_RECORD_MAX_PLAINTEXT);
	if (!test_link_expect(l1, circ_id, CELL_COMMAND_CREATED_FAST, -1, &c) ||
	    !test_create_fast_complete(&h, circ_id, x[0], &c)) {
		probe("diverges", "P2 CREATE_FAST twice on one new id", false, "%s", test_detail);
		return;
	}
	/* tor: the second is dropped; the barrier's answer comes next. */
	{
		uint8_t cell[CELL_LEN], bx[CREATE_FAST_KEY_LEN];
		uint32_t barrier_id = test_new_circ_id();

		int rc;

		test_create_fast_cell(cell, barrier_id, bx);
		test_link_send_cell(l1, cell);
		rc = test_link_next_cell(l1, &c, TEST_IO_TIMEOUT_MS);
		if (rc == 1 && c.circ_id == barrier_id && c.command == CELL_COMMAND_CREATED_FAST) {
			probe("diverges", "P2 CREATE_FAST twice on one new id", true, "second one dropped, "
					"as tor");
			extends(l1, &h);
			return;
		}
		if (rc == 1 && c.circ_id == circ_id && c.command == CELL_COMMAND_DESTROY) {
			char text[96];
			bool alive;

			test_cell_describe(&c, text, sizeof(text));
			test_link_expect(l1, barrier_id, CELL_COMMAND_CREATED_FAST, -1, NULL);
			/* Is the circuit the client was told is destroyed
			 * still open in the relay, with the first keys? */
			alive = extends(l1, &h);
			probe("diverges", "P2 CREATE_FAST twice on one new id", false, "CREATED_FAST then %s "
					"for the second (tor drops it: the id is in use); the relay "
					"%s the circuit%s", text, alive ? "still holds" :
					"does not hold", alive ? " the client was told is gone "
					"(EXTEND2 under the first keys -> DESTROY CHANNEL_CLOSED)" : "");
			return;
		}
		probe("diverges", "P2 CREATE_FAST twice on one new id", false, "unexpected answer");
	}
}

/* P3: unknown var cell longer than the worker's carry buffer. */
static void
probe_long_unknown_var(void)
{
	static struct test_link l;
	static uint8_t buf[7 + 10000];
	struct test_hop h;
	size_t n;

	if (!test_link_open(&l, "L5") || !test_create_fast(&l, &h)) {
		probe("diverges", "P3 unknown var cell of 10000 B", false, "link set-up: %s",
				test_detail);
		test_link_close(&l);
		return;
	}
	n = var_cell(buf, 0xf0, 10000);
	test_link_send_plain(&l, buf, n, 1000);
	if (barrier(&l, NULL) && extends(&l, &h))
		probe("diverges", "P3 unknown var cell of 10000 B", true, "ignored, as tor");
	else
		probe("diverges", "P3 unknown var cell of 10000 B", false, "in 1000 B records: the link "
				"ended (%s) (tor channeltls.c ignores a var cell of unknown "
				"command of any length)", l.closed ? l.how : test_detail);
	test_link_close(&l);
}

/* P4: a ClientHello sent as soon as connect() returns; up to 5 tries,
 * each must get an answer within 1.5 s. */
static void
probe_accept_race(void)
{
	for (int attempt = 1; attempt <= 5; attempt++) {
		static struct test_link l;
		uint8_t buf[16384];
		size_t n;

		if (!test_link_connect(&l, "race")) {
			probe("bug", "P4 ClientHello right after the TCP handshake", false, "%s",
					test_detail);
			return;
		}
		if (tls_session_create(test_client_tls_context(), &l.tls) != 0)
			test_die("tls_session_create");
		tls_session_step(l.tls);
		while ((n = tls_session_drain_output(l.tls, buf, sizeof(buf))) > 0)
			test_link_send_raw(&l, buf, n);
		if (!test_link_pump(&l, 1500)) {
			probe("bug", "P4 ClientHello right after the TCP handshake", false, "connection %d: "
					"no answer in 1.5 s (%s): the worker dropped the READABLE event "
					"that came in one batch with ACCEPTED (ev.user not yet set)",
					attempt, l.closed ? l.how : "open, silent");
			test_link_close(&l);
			return;
		}
		test_link_close(&l);
	}
	probe("bug", "P4 ClientHello right after the TCP handshake", true, "5 connections answered");
}

/* P5: every extension to a closed port costs the relay a TCP connection
 * it never releases (the RESET handle is not passed to tcp_abort()).
 * With MaxLinksPerWorker 16 (32 TCP connections), 40 more of them leave
 * no room for a new link. Run last. */
static void
probe_connection_leak(void)
{
	static struct test_link l;
	struct test_hop h;
	int done = 0;

	for (; done < 40; done++)
		if (!test_create_fast(l1, &h) || !extends(l1, &h))
			break;
	if (done < 40) {
		probe("bug", "P5 TCP connections after 40 failed extensions", false, "extension %d: %s",
				done + 1, test_detail);
		return;
	}
	if (test_link_open(&l, "L6")) {
		probe("bug", "P5 TCP connections after 40 failed extensions", true, "a new link opens");
	} else {
		/* hsrelay had no connection for it: not accepted. */
		if (!l.closed || strncmp(l.how, "connect", 7) != 0)
			expected.links_not_accepted++;
		probe("bug", "P5 TCP connections after 40 failed extensions", false, "a new link does "
				"not open (%s): each refused connect leaked a TCP connection",
				test_detail);
	}
	test_link_close(&l);
}

/* ------------------------------------------------------------------ */

static void
run(const char *name, bool (*scenario)(void))
{
	test_detail[0] = '\0';
	printf("scenario %s\n", name);
	fflush(stdout);
	if (scenario()) {
		printf("ok: %s: %s\n", name, test_detail);
	} else {
		printf("FAIL: %s: %s\n", name, test_detail);
		failures++;
	}
	fflush(stdout);
}

static bool
final_check(void)
{
	struct test_hop h;

	if (!barrier(l1, &h) || !extends(l1, &h) || !extends(l1, &hop_c))
		return false;
	summary("L1 carries a fresh circuit 0x%08x (CREATED_FAST, then "
			"extends), and C 0x%08x from scenario 1 still extends", h.circ_id,
			hop_c.circ_id);
	return true;
}

int
main(int argc, char **argv)
{
	bool strict = false;
	char *colon;

	alarm(50);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 7 && strcmp(argv[6], "--strict") == 0) {
		strict = true;
		argc--;
	}
	if (argc != 6 || (colon = strchr(argv[5], ':')) == NULL) {
		fprintf(stderr, "usage: hostile_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR "
				"EXTEND_ADDR:PORT [--strict]\n");
		return 2;
	}
	test_client_init("hostile_client", argv[1], argv[2]);
	*colon = '\0';
	test_parse_addr(argv[5], colon + 1, &extend_addr);
	test_client_load_keys(argv[3], argv[4]);
	l1 = calloc(1, sizeof(*l1));
	if (l1 == NULL)
		test_die("out of memory");
	if (!test_link_open(l1, "L1"))
		test_die("L1: %s", test_detail);
	printf("ok: L1 open: TLS, then VERSIONS CERTS AUTH_CHALLENGE NETINFO from the relay "
			"(CERTS validated for its fingerprint), our NETINFO as a client\n");

	run("1 unrecognized relay cell closes that circuit only", scenario_unrecognized);
	run("2 ninth RELAY_EARLY", scenario_relay_early);
	run("3 bad CREATE2 handshakes", scenario_bad_create2);
	run("4 CREATE2 on an open circuit id", scenario_reused_id);
	run("5 record-layer garbage on other links", scenario_record_garbage);
	run("6 VPADDING 60 KB and an unknown var cell", scenario_var_cells);
	probe_low_circ_id();
	probe_double_create();
	probe_long_unknown_var();
	probe_accept_race();
	run("7 after everything, L1 still serves", final_check);
	probe_connection_leak();

	test_link_close(l1);
	free(l1);
	test_client_free();
	printf("expect: links_accepted=%u tls_failures=%u create_failures=%u closed_protocol=%u "
			"drop_bad_record=%u extend_failures=%u\n",
			test_client_links_connected() - expected.links_not_accepted,
			expected.tls_failures, expected.create_failures, expected.closed_protocol,
			expected.drop_bad_record, expected.extend_failures);
	printf("%s: %u scenario failures, %u probes where hsrelay differs from tor or has a bug\n",
			failures == 0 ? "PASS" : "FAIL", failures, divergences);
	return failures > 0 || (strict && divergences > 0) ? 1 : 0;
}
