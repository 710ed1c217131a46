/* intro_flood ADDR PORT RELAY_DATADIR CLIENT_DATADIR COUNT AUTH_KEY_HEX...
 *
 * An INTRODUCE1 flood against hsrelay as introduction point of a real tor
 * onion service (run by onion_e2e.sh), built on test_client.h. Over one
 * link authenticated as a relay (so hsrelay does not take it for a
 * one-hop client, tor's channel_is_client()), for each 32-byte auth key
 * given in hex (the service's intro circuits at hsrelay), COUNT
 * CREATE_FAST circuits are built and then one INTRODUCE1 for that key is
 * sent on each, back to back (rend-spec-v3 3.2.1: one introduction per
 * circuit; the encrypted part is random, the intro point never looks into
 * it). Every INTRODUCE_ACK is read and counted by status: 0000 relayed,
 * 0001 refused (tor answers an empty INTRODUCE2 token bucket with 0001,
 * hs_intropoint.c handle_introduce1), anything else is a failure.
 *
 * Prints per key "flood: key K sent N relayed S refused R in T ms" and a
 * last line "total: sent=N relayed=S refused=R ms=T" (T from the first
 * INTRODUCE1 to the last ACK). Exit 0 when every INTRODUCE1 got an ACK
 * of status 0000 or 0001, 1 otherwise, 2 for a bad command line; alarm
 * after 60 s.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/hs_cells.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"
#include "tests/interop/test_client.h"

#define FLOOD_MAX 1000
/* Bytes of random "encrypted part" after the cleartext header: what a tor
 * client's INTRODUCE1 carries at least (CLIENT_PK, padded data, MAC). */
#define FLOOD_ENCRYPTED_LEN 300

static struct test_link link_c;
static struct test_hop hops[FLOOD_MAX];
static bool answered[FLOOD_MAX];	/* INTRODUCE_ACK read, per hop */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool
parse_key(const char *hex, uint8_t key[HS_AUTH_KEY_LEN])
{
	if (strlen(hex) != 2 * HS_AUTH_KEY_LEN)
		return false;
	for (size_t i = 0; i < HS_AUTH_KEY_LEN; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		key[i] = (uint8_t)v;
	}
	return true;
}

/* An INTRODUCE1 body as a tor client lays it out (rend-spec-v3 3.2.1):
 * LEGACY_KEY_ID zero, AUTH_KEY_TYPE 2, AUTH_KEY_LEN 32, AUTH_KEY, no
 * extensions, then the encrypted part (random here). */
static size_t
introduce1_body(const uint8_t key[HS_AUTH_KEY_LEN], uint8_t *out)
{
	size_t n = INTRODUCE1_LEGACY_KEY_ID_LEN;

	memset(out, 0, n);
	out[n++] = HS_AUTH_KEY_TYPE_ED25519;
	out[n++] = 0;
	out[n++] = HS_AUTH_KEY_LEN;
	memcpy(out + n, key, HS_AUTH_KEY_LEN);
	n += HS_AUTH_KEY_LEN;
	out[n++] = 0;
	test_random_bytes(out + n, FLOOD_ENCRYPTED_LEN);
	return n + FLOOD_ENCRYPTED_LEN;
}

/* The next INTRODUCE_ACK on any of the first count hops still waiting
 * for one (answered[i] false): its status into *status. An ACK for a
 * relayed INTRODUCE1 waits for the worker's word on its INTRODUCE2
 * (control/intro_point.h), so ACKs may come in another order than the
 * INTRODUCE1s across circuits: each is matched by circuit. */
static bool
read_ack(unsigned count, bool *answered, uint16_t *status)
{
	struct test_cell cell;
	const uint8_t *p;
	uint16_t len;
	struct hs_extension_list ext;
	unsigned i = 0;

	if (test_link_next_cell(&link_c, &cell, TEST_IO_TIMEOUT_MS) != 1)
		return test_why("no INTRODUCE_ACK came: %s", test_detail);
	while (i < count && (hops[i].circ_id != cell.circ_id || answered[i]))
		i++;
	if (i == count || cell.command != CELL_COMMAND_RELAY ||
	    !test_relay_cell_open(&hops[i], &cell))
		return test_why("cell %u on 0x%08x is no awaited INTRODUCE_ACK", cell.command,
				cell.circ_id);
	if (cell.payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_INTRODUCE_ACK)
		return test_why("relay command %u on 0x%08x, wanted INTRODUCE_ACK",
				cell.payload[RELAY_OFFSET_COMMAND], cell.circ_id);
	len = wire_read_u16(cell.payload + RELAY_OFFSET_LENGTH);
	p = cell.payload + RELAY_HEADER_LEN;
	if (len > RELAY_DATA_MAX || introduce_ack_parse(&p, p + len, status, &ext) != 0)
		return test_why("INTRODUCE_ACK of %u bytes does not parse", len);
	answered[i] = true;
	return true;
}

/* COUNT introductions for key; adds to the totals. */
static bool
flood(const char *hex, unsigned count, unsigned *relayed, unsigned *refused, uint64_t *ms)
{
	uint8_t key[HS_AUTH_KEY_LEN], body[RELAY_DATA_MAX], cell[CELL_LEN];
	unsigned ok = 0, no = 0;
	uint64_t t0;

	if (!parse_key(hex, key))
		test_die("bad auth key %s (64 hex digits)", hex);
	for (unsigned i = 0; i < count; i++)
		if (!test_create_fast(&link_c, &hops[i]))
			return false;
	t0 = now_ms();
	for (unsigned i = 0; i < count; i++) {
		size_t len = introduce1_body(key, body);

		test_relay_cell(&hops[i], cell, CELL_COMMAND_RELAY, RELAY_COMMAND_INTRODUCE1, 0,
				body, (uint16_t)len);
		test_link_send_cell(&link_c, cell);
	}
	memset(answered, 0, sizeof(answered));
	for (unsigned i = 0; i < count; i++) {
		uint16_t status;

		if (!read_ack(count, answered, &status))
			return false;
		if (status == INTRODUCE_ACK_SUCCESS)
			ok++;
		else if (status == INTRODUCE_ACK_UNKNOWN_ID)
			no++;
		else
			return test_why("INTRODUCE_ACK status %04x", status);
	}
	*ms += now_ms() - t0;
	printf("flood: key %.16s... sent %u relayed %u refused %u in %llu ms\n", hex, count, ok, no,
			(unsigned long long)(now_ms() - t0));
	fflush(stdout);
	*relayed += ok;
	*refused += no;
	return true;
}

int
main(int argc, char **argv)
{
	unsigned count, relayed = 0, refused = 0, sent = 0;
	uint64_t ms = 0;
	char *end;

	if (argc < 7) {
		fprintf(stderr, "usage: intro_flood ADDR PORT RELAY_DATADIR CLIENT_DATADIR COUNT "
				"AUTH_KEY_HEX...\n");
		return 2;
	}
	count = (unsigned)strtoul(argv[5], &end, 10);
	if (*end != '\0' || count == 0 || count > FLOOD_MAX) {
		fprintf(stderr, "intro_flood: COUNT must be 1..%d\n", FLOOD_MAX);
		return 2;
	}
	alarm(60);
	test_client_init("intro_flood", argv[1], argv[2]);
	test_client_load_keys(argv[3], argv[4]);
	test_client_authenticate = true;
	if (!test_link_open(&link_c, "C"))
		test_die("link C (authenticated): %s", test_detail);
	for (int k = 6; k < argc; k++) {
		if (!flood(argv[k], count, &relayed, &refused, &ms)) {
			printf("FAIL: flood of key %s: %s\n", argv[k], test_detail);
			return 1;
		}
		sent += count;
	}
	printf("total: sent=%u relayed=%u refused=%u ms=%llu\n", sent, relayed, refused,
			(unsigned long long)ms);
	test_link_close(&link_c);
	test_client_free();
	return 0;
}
