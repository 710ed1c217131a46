/* intro_flood ADDR PORT RELAY_DATADIR CLIENT_DATADIR COUNT AUTH_KEY_HEX...
 * intro_flood --rate RATE --seconds SECONDS ADDR PORT RELAY_DATADIR
 *             CLIENT_DATADIR AUTH_KEY_HEX...
 *
 * An INTRODUCE1 flood against hsrelay as introduction point of a real tor
 * onion service (run by onion_e2e.sh), built on test_client.h. Over one
 * link authenticated as a relay (so hsrelay does not take it for a
 * one-hop client, tor's channel_is_client()), INTRODUCE1s for the 32-byte
 * auth keys given in hex (the service's intro circuits at hsrelay), each
 * on its own CREATE_FAST circuit (rend-spec-v3 3.2.1: one introduction
 * per circuit; the encrypted part is random, the intro point never looks
 * into it). Every INTRODUCE_ACK is read, matched to its circuit and
 * counted by status: 0000 relayed, 0001 refused (tor answers an empty
 * INTRODUCE2 token bucket with 0001, hs_intropoint.c handle_introduce1),
 * anything else is a failure.
 *
 * Burst (COUNT): for each key in turn, COUNT circuits are built, then one
 * INTRODUCE1 is sent on each, back to back, and the ACKs read. Prints per
 * key "flood: key K sent N relayed S refused R in T ms".
 *
 * Paced (--rate, --seconds): for SECONDS, RATE INTRODUCE1 per second per
 * key, the keys taken in turn, on a fixed schedule (send i is due at
 * i / (RATE * keys) s after the start; a late one goes as soon as it
 * can, so the mean rate holds), with circuits built about a second ahead
 * and the ACKs read in between; each circuit gets DESTROY (FINISHED) once
 * its ACK is in, as a tor client closes its intro circuit. Prints, per
 * wall-clock window of about a second, "window: from A to B sent N
 * relayed S refused R" (A, B: CLOCK_REALTIME in ms; an ACK counts in the
 * window it arrived in), per key "flood: key K sent N relayed S refused
 * R in T ms limited_from=A limited_to=B" and on the total line "start=A
 * end=B" (CLOCK_REALTIME ms), so that a test can place its own events
 * inside the flood. limited_from and limited_to (0 when none) bound when
 * hsrelay was seen rate-limiting the key: a refusal decided before the
 * key relayed another INTRODUCE1 is no unknown key (hsrelay does not get
 * a key back once its circuit is gone), so the bucket was empty then;
 * limited_from is the ACK time of the first such refusal (decided before
 * it), limited_to the send time of the last one (decided after it). The
 * order of the decisions is taken from send and ACK times (a refusal's
 * ACK arrived before the relayed one was sent), since an ACK for a
 * relayed INTRODUCE1 may come later than one sent after it.
 *
 * Both end with "total: sent=N relayed=S refused=R ms=T" (T from the
 * first INTRODUCE1 to the last ACK, summed over the keys in burst mode).
 * Exit 0 when every INTRODUCE1 got an ACK of status 0000 or 0001, 1
 * otherwise, 2 for a bad command line; alarm after 60 s (burst) or
 * SECONDS + 60 s (paced).
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
/* Circuits a paced flood may use in all (RATE * SECONDS * keys). */
#define PACED_MAX 50000
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

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall-clock ms, to compare with date +%s%3N in the test. */
static unsigned long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u;
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

/* Sends one INTRODUCE1 for key on hop's circuit. */
static void
send_introduce1(struct test_hop *hop, const uint8_t key[HS_AUTH_KEY_LEN])
{
	uint8_t body[RELAY_DATA_MAX], cell[CELL_LEN];
	size_t len = introduce1_body(key, body);

	test_relay_cell(hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_INTRODUCE1, 0, body,
			(uint16_t)len);
	test_link_send_cell(&link_c, cell);
}

/* The INTRODUCE_ACK in cell, received on hop's circuit: its status into
 * *status. False with test_detail set when it is anything else. */
static bool
open_ack(struct test_hop *hop, struct test_cell *cell, uint16_t *status)
{
	const uint8_t *p;
	uint16_t len;
	struct hs_extension_list ext;

	if (cell->command != CELL_COMMAND_RELAY || !test_relay_cell_open(hop, cell))
		return test_why("cell %u on 0x%08x is no awaited INTRODUCE_ACK", cell->command,
				cell->circ_id);
	if (cell->payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_INTRODUCE_ACK)
		return test_why("relay command %u on 0x%08x, wanted INTRODUCE_ACK",
				cell->payload[RELAY_OFFSET_COMMAND], cell->circ_id);
	len = wire_read_u16(cell->payload + RELAY_OFFSET_LENGTH);
	p = cell->payload + RELAY_HEADER_LEN;
	if (len > RELAY_DATA_MAX || introduce_ack_parse(&p, p + len, status, &ext) != 0)
		return test_why("INTRODUCE_ACK of %u bytes does not parse", len);
	if (*status != INTRODUCE_ACK_SUCCESS && *status != INTRODUCE_ACK_UNKNOWN_ID)
		return test_why("INTRODUCE_ACK status %04x on 0x%08x", *status, cell->circ_id);
	return true;
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
	unsigned i = 0;

	if (test_link_next_cell(&link_c, &cell, TEST_IO_TIMEOUT_MS) != 1)
		return test_why("no INTRODUCE_ACK came: %s", test_detail);
	while (i < count && (hops[i].circ_id != cell.circ_id || answered[i]))
		i++;
	if (i == count)
		return test_why("cell %u on 0x%08x is no awaited INTRODUCE_ACK", cell.command,
				cell.circ_id);
	if (!open_ack(&hops[i], &cell, status))
		return false;
	answered[i] = true;
	return true;
}

/* COUNT introductions for key, back to back; adds to the totals. */
static bool
flood(const char *hex, unsigned count, unsigned *relayed, unsigned *refused, uint64_t *ms)
{
	uint8_t key[HS_AUTH_KEY_LEN];
	unsigned ok = 0, no = 0;
	uint64_t t0;

	if (!parse_key(hex, key))
		test_die("bad auth key %s (64 hex digits)", hex);
	for (unsigned i = 0; i < count; i++)
		if (!test_create_fast(&link_c, &hops[i]))
			return false;
	t0 = now_ms();
	for (unsigned i = 0; i < count; i++)
		send_introduce1(&hops[i], key);
	memset(answered, 0, sizeof(answered));
	for (unsigned i = 0; i < count; i++) {
		uint16_t status;

		if (!read_ack(count, answered, &status))
			return false;
		if (status == INTRODUCE_ACK_SUCCESS)
			ok++;
		else
			no++;
	}
	*ms += now_ms() - t0;
	printf("flood: key %.16s... sent %u relayed %u refused %u in %llu ms\n", hex, count, ok, no,
			(unsigned long long)(now_ms() - t0));
	fflush(stdout);
	*relayed += ok;
	*refused += no;
	return true;
}

/* ------------------------------------------------------------------ */
/* Paced flood                                                         */

enum paced_state { PACED_PENDING, PACED_READY, PACED_SENT, PACED_DONE };

/* One circuit of the paced flood: circuit i carries send i, for key
 * i % keys. */
struct paced_circ {
	uint32_t circ_id;
	uint8_t state;
	unsigned long long sent_at;	/* wall ms of its INTRODUCE1 */
	uint8_t x[CREATE_FAST_KEY_LEN];	/* CREATE_FAST's X until CREATED_FAST */
};

/* Counts of one window, of one key, or of all. */
struct paced_count {
	unsigned sent, relayed, refused;
};

/* When one key's bucket was seen limiting, in wall ms (0: never). A 0001
 * is a rate limit, not an unknown key, when hsrelay relayed an
 * INTRODUCE1 for the key after deciding it: hsrelay never gets a key
 * back once its circuit is gone. Certainly after: the relayed one was
 * sent after the ACK of the refused one arrived. */
struct paced_limits {
	unsigned long long first_refused_ack;
	unsigned long long last_refused_sent, last_refused_ack;
	unsigned long long from;	/* ACK of the first such refusal */
	unsigned long long to;		/* INTRODUCE1 of the last such refusal */
};

struct paced {
	unsigned keys, total;		/* sends in all: rate * seconds * keys */
	uint64_t interval_ns;		/* between two sends (all keys) */
	uint8_t (*key)[HS_AUTH_KEY_LEN];
	struct paced_circ *circ;
	struct test_hop *hop;
	uint32_t first_id;		/* circ[i].circ_id == first_id + i */
	unsigned created, pending, sent, acked;	/* pending: no CREATED_FAST yet */
	struct paced_count all, *per_key, window;
	struct paced_limits *limits;	/* per key */
	unsigned long long window_from;
};

static void
paced_window_print(struct paced *f, unsigned long long to)
{
	printf("window: from %llu to %llu sent %u relayed %u refused %u\n", f->window_from, to,
			f->window.sent, f->window.relayed, f->window.refused);
	fflush(stdout);
	f->window = (struct paced_count){ 0 };
	f->window_from = to;
}

static void
paced_create(struct paced *f)
{
	struct paced_circ *c = &f->circ[f->created];
	uint8_t cell[CELL_LEN];

	c->circ_id = test_new_circ_id();
	if (f->created == 0)
		f->first_id = c->circ_id;
	else if (c->circ_id != f->first_id + f->created)
		test_die("circuit ids are not consecutive");
	c->state = PACED_PENDING;
	test_create_fast_cell(cell, c->circ_id, c->x);
	test_link_send_cell(&link_c, cell);
	f->created++;
	f->pending++;
}

/* A cell from the relay: a CREATED_FAST or an INTRODUCE_ACK of ours. */
static bool
paced_cell(struct paced *f, struct test_cell *cell)
{
	uint32_t i = cell->circ_id - f->first_id;
	struct paced_circ *c;
	uint16_t status;
	uint8_t destroy[CELL_LEN];
	unsigned long long t = wall_ms();
	struct paced_limits *lim;

	if (cell->circ_id < f->first_id || i >= f->created)
		return test_why("cell %u on 0x%08x, no circuit of ours", cell->command,
				cell->circ_id);
	c = &f->circ[i];
	if (c->state == PACED_PENDING) {
		if (cell->command != CELL_COMMAND_CREATED_FAST)
			return test_why("cell %u on 0x%08x, wanted CREATED_FAST", cell->command,
					cell->circ_id);
		if (!test_create_fast_complete(&f->hop[i], c->circ_id, c->x, cell))
			return false;
		c->state = PACED_READY;
		f->pending--;
		return true;
	}
	if (c->state != PACED_SENT)
		return test_why("cell %u on 0x%08x, which awaits nothing", cell->command,
				cell->circ_id);
	if (!open_ack(&f->hop[i], cell, &status))
		return false;
	lim = &f->limits[i % f->keys];
	c->state = PACED_DONE;
	f->acked++;
	test_cell_start(destroy, c->circ_id, CELL_COMMAND_DESTROY);
	cell_wire_payload(destroy)[0] = DESTROY_REASON_FINISHED;
	test_link_send_cell(&link_c, destroy);
	if (status == INTRODUCE_ACK_SUCCESS) {
		if (lim->from == 0 && lim->first_refused_ack != 0 &&
		    lim->first_refused_ack < c->sent_at)
			lim->from = lim->first_refused_ack;
		if (lim->last_refused_ack != 0 && lim->last_refused_ack < c->sent_at &&
		    lim->last_refused_sent > lim->to)
			lim->to = lim->last_refused_sent;
		f->all.relayed++;
		f->per_key[i % f->keys].relayed++;
		f->window.relayed++;
		return true;
	}
	if (lim->first_refused_ack == 0)
		lim->first_refused_ack = t;
	lim->last_refused_sent = c->sent_at;
	lim->last_refused_ack = t;
	f->all.refused++;
	f->per_key[i % f->keys].refused++;
	f->window.refused++;
	return true;
}

static bool
paced_flood(struct paced *f, unsigned rate, unsigned long long *start, uint64_t *ms)
{
	/* Circuits built ahead of the sends: about a second's worth. */
	unsigned ahead = rate * f->keys;
	uint64_t t0 = now_ns(), last_progress = t0;

	*start = wall_ms();
	f->window_from = *start;
	while (f->acked < f->total) {
		struct test_cell cell;
		uint64_t now, due;
		int timeout_ms, rc;

		while (f->created < f->total && f->created - f->sent < ahead) {
			paced_create(f);
			last_progress = now_ns();
		}
		now = now_ns();
		if (wall_ms() - f->window_from >= 1000)
			paced_window_print(f, wall_ms());
		due = t0 + f->sent * f->interval_ns;
		if (f->sent < f->total && f->circ[f->sent].state == PACED_READY && now >= due) {
			send_introduce1(&f->hop[f->sent], f->key[f->sent % f->keys]);
			f->circ[f->sent].state = PACED_SENT;
			f->circ[f->sent].sent_at = wall_ms();
			f->all.sent++;
			f->per_key[f->sent % f->keys].sent++;
			f->window.sent++;
			f->sent++;
			last_progress = now_ns();
			continue;
		}
		if (f->sent < f->total && f->circ[f->sent].state == PACED_READY)
			timeout_ms = (int)((due - now) / 1000000u) + 1;
		else
			timeout_ms = TEST_IO_TIMEOUT_MS;
		if (timeout_ms > 100)
			timeout_ms = 100;	/* the windows close on time */
		rc = test_link_next_cell(&link_c, &cell, timeout_ms);
		if (rc < 0)
			return test_why("the link closed: %s", link_c.how);
		if (rc == 0) {
			if (f->pending + (f->sent - f->acked) > 0 &&
			    now_ns() - last_progress > (uint64_t)TEST_IO_TIMEOUT_MS * 1000000u)
				return test_why("nothing from the relay for %d ms (%u circuits "
						"created, %u INTRODUCE1 sent, %u ACKs)",
						TEST_IO_TIMEOUT_MS, f->created, f->sent, f->acked);
			continue;
		}
		last_progress = now_ns();
		if (!paced_cell(f, &cell))
			return false;
	}
	paced_window_print(f, wall_ms());
	*ms = (now_ns() - t0) / 1000000u;
	return true;
}

static int
paced_main(unsigned rate, unsigned seconds, int nkeys, char **hex)
{
	struct paced f = { .keys = (unsigned)nkeys };
	unsigned long long start;
	uint64_t ms;

	f.total = rate * seconds * f.keys;
	f.interval_ns = 1000000000u / ((uint64_t)rate * f.keys);
	f.key = calloc(f.keys, sizeof(*f.key));
	f.per_key = calloc(f.keys, sizeof(*f.per_key));
	f.limits = calloc(f.keys, sizeof(*f.limits));
	f.circ = calloc(f.total, sizeof(*f.circ));
	f.hop = calloc(f.total, sizeof(*f.hop));
	if (f.key == NULL || f.per_key == NULL || f.limits == NULL || f.circ == NULL ||
	    f.hop == NULL)
		test_die("out of memory");
	for (unsigned k = 0; k < f.keys; k++)
		if (!parse_key(hex[k], f.key[k]))
			test_die("bad auth key %s (64 hex digits)", hex[k]);
	test_client_quiet = true;
	if (!paced_flood(&f, rate, &start, &ms)) {
		printf("FAIL: paced flood after %u INTRODUCE1 and %u ACKs: %s\n", f.sent, f.acked,
				test_detail);
		return 1;
	}
	for (unsigned k = 0; k < f.keys; k++)
		printf("flood: key %.16s... sent %u relayed %u refused %u in %llu ms "
				"limited_from=%llu limited_to=%llu\n", hex[k], f.per_key[k].sent,
				f.per_key[k].relayed, f.per_key[k].refused, (unsigned long long)ms,
				f.limits[k].from, f.limits[k].to);
	printf("total: sent=%u relayed=%u refused=%u ms=%llu start=%llu end=%llu\n", f.all.sent,
			f.all.relayed, f.all.refused, (unsigned long long)ms, start, wall_ms());
	free(f.key);
	free(f.per_key);
	free(f.limits);
	free(f.circ);
	free(f.hop);
	return 0;
}

static unsigned
parse_count(const char *s, unsigned max, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end != '\0' || v == 0 || v > max) {
		fprintf(stderr, "intro_flood: %s must be 1..%u\n", what, max);
		exit(2);
	}
	return (unsigned)v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: intro_flood ADDR PORT RELAY_DATADIR CLIENT_DATADIR COUNT "
			"AUTH_KEY_HEX...\n"
			"       intro_flood --rate RATE --seconds SECONDS ADDR PORT RELAY_DATADIR "
			"CLIENT_DATADIR AUTH_KEY_HEX...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	unsigned count = 0, rate = 0, seconds = 0, relayed = 0, refused = 0, sent = 0;
	uint64_t ms = 0;
	int a = 1, rc = 0;

	if (argc > 5 && strcmp(argv[1], "--rate") == 0 && strcmp(argv[3], "--seconds") == 0) {
		rate = parse_count(argv[2], 1000, "RATE");
		seconds = parse_count(argv[4], 3600, "SECONDS");
		a = 5;
		if (argc - a < 5)
			usage();
		if ((unsigned long long)rate * seconds * (unsigned)(argc - a - 4) > PACED_MAX) {
			fprintf(stderr, "intro_flood: RATE * SECONDS * keys must be at most %d\n",
					PACED_MAX);
			return 2;
		}
		alarm(seconds + 60);
	} else {
		if (argc < 7)
			usage();
		count = parse_count(argv[5], FLOOD_MAX, "COUNT");
		alarm(60);
	}
	test_client_init("intro_flood", argv[a], argv[a + 1]);
	test_client_load_keys(argv[a + 2], argv[a + 3]);
	test_client_authenticate = true;
	if (!test_link_open(&link_c, "C"))
		test_die("link C (authenticated): %s", test_detail);
	if (rate != 0) {
		rc = paced_main(rate, seconds, argc - a - 4, argv + a + 4);
	} else {
		for (int k = 6; k < argc; k++) {
			if (!flood(argv[k], count, &relayed, &refused, &ms)) {
				printf("FAIL: flood of key %s: %s\n", argv[k], test_detail);
				return 1;
			}
			sent += count;
		}
		printf("total: sent=%u relayed=%u refused=%u ms=%llu\n", sent, relayed, refused,
				(unsigned long long)ms);
	}
	test_link_close(&link_c);
	test_client_free();
	return rc;
}
