/* Rendezvous ends and the cell pump; see rend_pump.h. */
#include "tests/interop/rend_pump.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/hs_cells.h"
#include "control/link_cells.h"
#include "dataplane/wire.h"
#include "tests/interop/test_record.h"

/* Smallest TLS record the pump cuts (the last of a buffer may be
 * shorter). */
#define RECORD_MIN 200

static uint64_t
mix64(uint64_t x)
{
	/* splitmix64 finalizer: spreads every input bit over the output */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rng_state;

static uint32_t
rng_below(uint32_t n)
{
	if (rng_state == 0)
		test_random_bytes(&rng_state, sizeof(rng_state));
	rng_state = mix64(rng_state);
	return n == 0 ? 0 : (uint32_t)(rng_state % n);
}

void
rend_pair_init(struct rend_end *client, struct rend_end *service, uint32_t pair)
{
	uint8_t kf[RELAY_CRYPTO_KEY_LEN], kb[RELAY_CRYPTO_KEY_LEN];
	uint8_t df[RELAY_CRYPTO_DIGEST_SEED_LEN], db[RELAY_CRYPTO_DIGEST_SEED_LEN];
	struct crypto_engine *engine = test_client_engine();

	test_random_bytes(kf, sizeof(kf));
	test_random_bytes(kb, sizeof(kb));
	test_random_bytes(df, sizeof(df));
	test_random_bytes(db, sizeof(db));
	relay_cipher_init(engine, &client->send.cipher, kf);
	relay_digest_init(&client->send.digest, df);
	relay_cipher_init(engine, &service->recv.cipher, kf);
	relay_digest_init(&service->recv.digest, df);
	relay_cipher_init(engine, &service->send.cipher, kb);
	relay_digest_init(&service->send.digest, db);
	relay_cipher_init(engine, &client->recv.cipher, kb);
	relay_digest_init(&client->recv.digest, db);
	client->peer = service;
	service->peer = client;
	client->pair = service->pair = pair;
	client->direction = 0;
	service->direction = 1;
	client->sent = client->received = client->to_send = 0;
	service->sent = service->received = service->to_send = 0;
}

void
rend_end_seal(struct rend_end *e, uint8_t cell[CELL_LEN], uint8_t relay_command,
		uint16_t stream_id, const uint8_t *data, uint16_t len)
{
	struct crypto_engine *engine = test_client_engine();
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *cipher;

	if (len > RELAY_DATA_MAX)
		test_die("rend_end_seal: %u bytes do not fit a relay cell", len);
	test_cell_start(cell, e->hop.circ_id, CELL_COMMAND_RELAY);
	payload[RELAY_OFFSET_COMMAND] = relay_command;
	wire_write_u16(payload + RELAY_OFFSET_STREAM_ID, stream_id);
	wire_write_u16(payload + RELAY_OFFSET_LENGTH, len);
	if (len > 0)
		memcpy(payload + RELAY_HEADER_LEN, data, len);
	relay_digest_stamp(&e->send.digest, payload);
	cipher = &e->send.cipher;
	relay_crypt_burst(engine, &cipher, &payload, 1);
	/* The relay's layer, without its digest: the cell is not for it. */
	cipher = &e->hop.forward;
	relay_crypt_burst(engine, &cipher, &payload, 1);
}

/* Takes e's hop layer and the e2e layer off payload, which must be a
 * relay cell (command) on e's circuit circ_id. */
static bool
payload_open(struct rend_end *e, uint8_t command, uint32_t circ_id, uint8_t *payload)
{
	struct crypto_engine *engine = test_client_engine();
	struct relay_cipher *cipher = &e->hop.backward;

	if (command != CELL_COMMAND_RELAY)
		return test_why("pair %u %s: %s on 0x%08x instead of RELAY", e->pair,
				e->direction ? "service" : "client", test_command_name(command),
				circ_id);
	relay_crypt_burst(engine, &cipher, &payload, 1);
	cipher = &e->recv.cipher;
	relay_crypt_burst(engine, &cipher, &payload, 1);
	if (wire_read_u16(payload + RELAY_OFFSET_RECOGNIZED) != 0 ||
	    !relay_digest_check(&e->recv.digest, payload))
		return test_why("pair %u %s: cell %u from the peer is not recognized end to end "
				"(damaged, reordered, lost or duplicated on the way)", e->pair,
				e->direction ? "service" : "client", e->received);
	return true;
}

bool
rend_end_open(struct rend_end *e, struct test_cell *c)
{
	return payload_open(e, c->command, c->circ_id, c->payload);
}

static uint16_t
data_len(uint32_t pair, uint8_t direction, uint32_t seq, bool full)
{
	if (full)
		return RELAY_DATA_MAX;
	return (uint16_t)(REND_DATA_HEADER_LEN +
			mix64((uint64_t)pair << 40 ^ (uint64_t)direction << 32 ^ seq) %
			(RELAY_DATA_MAX - REND_DATA_HEADER_LEN + 1));
}

static void
data_pattern(uint8_t *out, size_t len, uint32_t pair, uint8_t direction, uint32_t seq)
{
	uint64_t x = (uint64_t)pair << 33 ^ (uint64_t)direction << 32 ^ seq ^ 0x5eed;

	for (size_t i = 0; i < len; i += 8) {
		uint8_t word[8];

		x = mix64(x);
		memcpy(word, &x, sizeof(word));
		memcpy(out + i, word, len - i < 8 ? len - i : 8);
	}
}

static bool
has_stamp(uint16_t len)
{
	return len >= REND_DATA_HEADER_LEN + REND_DATA_STAMP_LEN;
}

static void
stamp_write(uint8_t *body, uint64_t ns)
{
	wire_write_u32(body + REND_DATA_HEADER_LEN, (uint32_t)(ns >> 32));
	wire_write_u32(body + REND_DATA_HEADER_LEN + 4, (uint32_t)ns);
}

static uint64_t
stamp_read(const uint8_t *body)
{
	return (uint64_t)wire_read_u32(body + REND_DATA_HEADER_LEN) << 32 |
		wire_read_u32(body + REND_DATA_HEADER_LEN + 4);
}

uint16_t
rend_data_fill(uint8_t *body, uint32_t pair, uint8_t direction, uint32_t seq, bool full)
{
	uint16_t len = data_len(pair, direction, seq, full);

	wire_write_u32(body, pair);
	body[4] = direction;
	wire_write_u32(body + 5, seq);
	data_pattern(body + REND_DATA_HEADER_LEN, len - REND_DATA_HEADER_LEN, pair, direction,
			seq);
	return len;
}

/* rend_data_check(); with stamp set, a body long enough for one carries a
 * send time (returned in *stamp, 0 when there is none) where the pattern
 * would be, and those bytes are not compared. */
static bool
data_check(const uint8_t *body, uint16_t len, uint32_t pair, uint8_t direction, uint32_t seq,
		bool full, uint64_t *stamp)
{
	uint8_t expected[RELAY_DATA_MAX];
	uint16_t want = rend_data_fill(expected, pair, direction, seq, full);

	if (stamp != NULL) {
		*stamp = 0;
		if (has_stamp(len) && len == want) {
			*stamp = stamp_read(body);
			memcpy(expected + REND_DATA_HEADER_LEN, body + REND_DATA_HEADER_LEN,
					REND_DATA_STAMP_LEN);
		}
	}
	if (len < REND_DATA_HEADER_LEN)
		return test_why("pair %u: data cell of %u bytes", pair, len);
	if (wire_read_u32(body) != pair || body[4] != direction)
		return test_why("pair %u: data cell of pair %u direction %u arrived", pair,
				wire_read_u32(body), body[4]);
	if (wire_read_u32(body + 5) != seq)
		return test_why("pair %u direction %u: cell %u arrived where %u was due", pair,
				direction, wire_read_u32(body + 5), seq);
	if (len != want || memcmp(body, expected, want) != 0)
		return test_why("pair %u direction %u: cell %u damaged (%u bytes, %u expected)",
				pair, direction, seq, len, want);
	return true;
}

bool
rend_data_check(const uint8_t *body, uint16_t len, uint32_t pair, uint8_t direction,
		uint32_t seq, bool full)
{
	return data_check(body, len, pair, direction, seq, full, NULL);
}

bool
rend_end_take_data(struct rend_end *e, uint8_t command, uint32_t circ_id, uint8_t *payload,
		bool full, uint64_t *stamp)
{
	if (e->received >= e->peer->to_send)
		return test_why("pair %u %s: a cell after the %u the peer sent", e->pair,
				e->direction ? "service" : "client", e->peer->to_send);
	if (!payload_open(e, command, circ_id, payload))
		return false;
	if (payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_DATA ||
	    wire_read_u16(payload + RELAY_OFFSET_STREAM_ID) != REND_DATA_STREAM)
		return test_why("pair %u: relay command %u stream %u instead of DATA", e->pair,
				payload[RELAY_OFFSET_COMMAND],
				wire_read_u16(payload + RELAY_OFFSET_STREAM_ID));
	if (!data_check(payload + RELAY_HEADER_LEN, wire_read_u16(payload + RELAY_OFFSET_LENGTH),
			e->pair, e->peer->direction, e->received, full, stamp))
		return false;
	e->received++;
	return true;
}

void
rend_end_seal_data(struct rend_end *e, uint8_t cell[CELL_LEN], bool full, uint64_t stamp_ns)
{
	uint8_t body[RELAY_DATA_MAX];
	uint16_t len = rend_data_fill(body, e->pair, e->direction, e->sent, full);

	if (stamp_ns != 0 && has_stamp(len))
		stamp_write(body, stamp_ns);
	rend_end_seal(e, cell, RELAY_COMMAND_DATA, REND_DATA_STREAM, body, len);
	e->sent++;
}

/* ------------------------------------------------------------------ */
/* Joining a pair at the relay                                         */

void
rend_establish_cell(struct rend_end *e, const uint8_t *cookie, uint8_t cell[CELL_LEN])
{
	test_relay_cell(&e->hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_ESTABLISH_RENDEZVOUS, 0,
			cookie, HS_REND_COOKIE_LEN);
}

bool
rend_check_established(struct rend_end *e, struct test_cell *c)
{
	if (!test_relay_cell_open(&e->hop, c))
		return false;
	if (c->payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_RENDEZVOUS_ESTABLISHED ||
	    wire_read_u16(c->payload + RELAY_OFFSET_LENGTH) != 0 ||
	    wire_read_u16(c->payload + RELAY_OFFSET_STREAM_ID) != 0)
		return test_why("answer to ESTABLISH_RENDEZVOUS: relay command %u, %u bytes, "
				"stream %u (wanted RENDEZVOUS_ESTABLISHED, empty, stream 0)",
				c->payload[RELAY_OFFSET_COMMAND],
				wire_read_u16(c->payload + RELAY_OFFSET_LENGTH),
				wire_read_u16(c->payload + RELAY_OFFSET_STREAM_ID));
	return true;
}

/* ESTABLISH_RENDEZVOUS with cookie on e's circuit; the relay must answer
 * an empty RENDEZVOUS_ESTABLISHED on stream 0 (tor rendmid.c). */
bool
rend_establish(struct rend_end *e, const uint8_t *cookie)
{
	uint8_t cell[CELL_LEN];
	struct test_cell c;

	rend_establish_cell(e, cookie, cell);
	test_link_send_cell(e->link, cell);
	return test_link_expect(e->link, e->hop.circ_id, CELL_COMMAND_RELAY, -1, &c) &&
		rend_check_established(e, &c);
}

/* RENDEZVOUS1 on service's circuit: cookie || handshake info, then
 * cells_behind data cells of the service's pair, written to cells. */
size_t
rend_rendezvous1_cells(struct rend_end *service, uint8_t *cells, const uint8_t *cookie,
		const uint8_t *info, uint16_t info_len, uint32_t cells_behind)
{
	uint8_t body[RELAY_DATA_MAX];
	uint16_t len;

	memcpy(body, cookie, HS_REND_COOKIE_LEN);
	memcpy(body + HS_REND_COOKIE_LEN, info, info_len);
	test_relay_cell(&service->hop, cells, CELL_COMMAND_RELAY, RELAY_COMMAND_RENDEZVOUS1, 0,
			body, (uint16_t)(HS_REND_COOKIE_LEN + info_len));
	for (uint32_t i = 0; i < cells_behind; i++) {
		len = rend_data_fill(body, service->pair, service->direction, i, false);
		rend_end_seal(service, cells + (1 + i) * CELL_LEN, RELAY_COMMAND_DATA,
				REND_DATA_STREAM, body, len);
	}
	return (size_t)(1 + cells_behind) * CELL_LEN;
}

/* The same, sent in one record. */
void
rend_send_rendezvous1(struct rend_end *service, const uint8_t *cookie,
		const uint8_t *info, uint16_t info_len, uint32_t cells_behind)
{
	uint8_t cells[(1 + REND_CELLS_BEHIND_MAX) * CELL_LEN];
	size_t len;

	if (cells_behind > REND_CELLS_BEHIND_MAX)
		test_die("%u cells behind RENDEZVOUS1 (at most %u)", cells_behind,
				REND_CELLS_BEHIND_MAX);
	len = rend_rendezvous1_cells(service, cells, cookie, info, info_len, cells_behind);
	test_link_send_plain(service->link, cells, len, len);
}

bool
rend_check_rendezvous2(struct rend_end *client, struct test_cell *c, const uint8_t *info,
		uint16_t info_len)
{
	if (!test_relay_cell_open(&client->hop, c))
		return false;
	if (c->payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_RENDEZVOUS2 ||
	    wire_read_u16(c->payload + RELAY_OFFSET_STREAM_ID) != 0)
		return test_why("relay command %u stream %u instead of RENDEZVOUS2 on stream 0",
				c->payload[RELAY_OFFSET_COMMAND],
				wire_read_u16(c->payload + RELAY_OFFSET_STREAM_ID));
	if (wire_read_u16(c->payload + RELAY_OFFSET_LENGTH) != info_len ||
	    memcmp(c->payload + RELAY_HEADER_LEN, info, info_len) != 0)
		return test_why("RENDEZVOUS2 carries %u bytes that are not the service's %u bytes "
				"of HANDSHAKE_INFO", wire_read_u16(c->payload + RELAY_OFFSET_LENGTH),
				info_len);
	return true;
}

/* The client must get RENDEZVOUS2 on stream 0 carrying exactly info. */
bool
rend_expect_rendezvous2(struct rend_end *client, const uint8_t *info, uint16_t info_len)
{
	struct test_cell c;

	return test_link_expect(client->link, client->hop.circ_id, CELL_COMMAND_RELAY, -1, &c) &&
		rend_check_rendezvous2(client, &c, info, info_len);
}

/* ------------------------------------------------------------------ */
/* The pump                                                            */

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static double
now_seconds(void)
{
	return (double)now_ns() / 1e9;
}

static struct rend_end *
end_of(struct rend_end *const ends[], unsigned n_ends, const struct test_link *l,
		uint32_t circ_id)
{
	for (unsigned i = 0; i < n_ends; i++) {
		if (ends[i]->link == l && ends[i]->hop.circ_id == circ_id)
			return ends[i];
	}
	return NULL;
}

/* One arriving cell, cut at time now: it must be the peer's next data
 * cell. Its latency goes to cfg->latency_ns when asked for. */
static bool
take_cell(struct rend_end *const ends[], unsigned n_ends, struct test_link *l,
		struct test_cell *c, const struct rend_pump_config *cfg, uint64_t now,
		struct rend_pump_result *res)
{
	uint64_t stamp = 0;

	struct rend_end *e = end_of(ends, n_ends, l, c->circ_id);
	char text[96];

	if (e == NULL) {
		test_cell_describe(c, text, sizeof(text));
		return test_why("[%s] %s on a circuit of no end", l->name, text);
	}
	if (c->command == CELL_COMMAND_DESTROY) {
		test_cell_describe(c, text, sizeof(text));
		return test_why("[%s] pair %u %s: %s after %u cells", l->name, e->pair,
				e->direction ? "service" : "client", text, e->received);
	}
	if (!rend_end_take_data(e, c->command, c->circ_id, c->payload, cfg->full_cells,
			cfg->latency_ns != NULL ? &stamp : NULL))
		return false;
	if (stamp != 0 && res->latencies < cfg->latency_cap) {
		uint64_t ns = now > stamp ? now - stamp : 0;

		cfg->latency_ns[res->latencies++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	}
	return true;
}

/* Reads whatever the links have and checks every cell. Returns the number
 * of cells taken, or -1 with test_detail set. */
static long
read_links(struct rend_end *const ends[], unsigned n_ends, struct test_link *const links[],
		unsigned n_links, int timeout_ms, const struct rend_pump_config *cfg,
		struct rend_pump_result *res)
{
	struct pollfd pfd[64];
	struct test_cell c;
	long taken = 0;
	int rc;

	if (n_links > 64)
		test_die("rend_pump: at most 64 links");
	for (unsigned i = 0; i < n_links; i++) {
		pfd[i].fd = links[i]->fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	rc = poll(pfd, n_links, timeout_ms);
	if (rc < 0)
		return 0;
	for (unsigned i = 0; i < n_links; i++) {
		struct test_link *l = links[i];
		uint64_t now;
		size_t off = 0;

		if (pfd[i].revents != 0 && !test_link_pump(l, 0) && l->closed && l->plain_len == 0)
			return test_why("[%s] closed: %s", l->name, l->how), -1;
		now = cfg->latency_ns != NULL ? now_ns() : 0;
		while (test_link_cut_cell(l, &off, &c)) {
			if (!take_cell(ends, n_ends, l, &c, cfg, now, res)) {
				test_link_drop_cut(l, off);
				return -1;
			}
			taken++;
		}
		test_link_drop_cut(l, off);
	}
	return taken;
}

static bool
all_received(struct rend_end *const ends[], unsigned n_ends)
{
	for (unsigned i = 0; i < n_ends; i++) {
		if (ends[i]->received < ends[i]->peer->to_send)
			return false;
	}
	return true;
}

uint32_t
rend_end_quota(const struct rend_end *e, uint32_t window, uint32_t burst, bool service_waits)
{
	uint32_t in_flight = e->sent - e->peer->received;
	uint32_t n = 1 + rng_below(burst);

	if (e->direction == 1 && service_waits && e->received == 0 && e->peer->to_send > 0)
		return 0;
	if (in_flight >= window)
		return 0;
	if (n > window - in_flight)
		n = window - in_flight;
	if (n > e->to_send - e->sent)
		n = e->to_send - e->sent;
	return n;
}

/* Fills link l's buffer with cells of its ends (interleaved by end) and
 * sends it as records of random sizes in one send(). Returns the cells
 * sent. */
static uint32_t
send_round(struct rend_end *const ends[], unsigned n_ends, struct test_link *l,
		uint8_t *plain, uint8_t *wire, size_t *owner_change, const struct rend_pump_config *cfg,
		uint64_t *budget, struct rend_pump_result *res)
{
	struct crypto_engine *engine = test_client_engine();
	size_t plain_len = 0, wire_len = 0, nb_changes = 0;
	uint32_t cells = 0;
	uint64_t records = 0;

	for (unsigned i = 0; i < n_ends; i++) {
		struct rend_end *e = ends[i];
		uint32_t n;

		if (e->link != l || *budget == 0 ||
		    (n = rend_end_quota(e, cfg->window, cfg->burst, cfg->service_waits)) == 0)
			continue;
		if (n > *budget)
			n = (uint32_t)*budget;
		*budget -= n;
		owner_change[nb_changes++] = plain_len;
		for (uint32_t k = 0; k < n; k++) {
			rend_end_seal_data(e, plain + plain_len, cfg->full_cells,
					cfg->latency_ns != NULL ? now_ns() : 0);
			plain_len += CELL_LEN;
		}
		cells += n;
	}
	if (plain_len == 0)
		return 0;
	for (size_t off = 0; off < plain_len;) {
		size_t rec = RECORD_MIN + rng_below(TLS_RECORD_MAX_PLAINTEXT - RECORD_MIN + 1);
		ssize_t w;
		unsigned circuits = 0;

		if (rec > plain_len - off)
			rec = plain_len - off;
		for (size_t k = 0; k < nb_changes; k++) {
			if (owner_change[k] < off + rec &&
			    (k + 1 == nb_changes ? plain_len : owner_change[k + 1]) > off)
				circuits++;
		}
		if (circuits > 1)
			res->mixed_records++;
		w = test_record_seal(engine, &l->wr, TLS_CONTENT_APPLICATION_DATA, plain + off,
				rec, wire + wire_len);
		if (w < 0)
			test_die("rend_pump: sealing a record failed (%zd)", w);
		wire_len += (size_t)w;
		off += rec;
		records++;
	}
	test_link_send_raw(l, wire, wire_len);
	res->records_sent += records;
	res->sends++;
	if (records > res->max_records_per_send)
		res->max_records_per_send = records;
	res->cells_sent += cells;
	return cells;
}

bool
rend_pump_run(struct rend_end *const ends[], unsigned n_ends, struct test_link *const links[],
		unsigned n_links, const struct rend_pump_config *cfg, struct rend_pump_result *res)
{
	size_t plain_max = (size_t)n_ends * cfg->burst * CELL_LEN;
	uint8_t *plain = malloc(plain_max);
	uint8_t *wire = malloc(plain_max + (plain_max / RECORD_MIN + 1) * 64);
	size_t *changes = calloc(n_ends, sizeof(*changes));
	double start, last_progress, done_at, tokens = 0;
	uint64_t last_refill;
	bool ok = false;

	memset(res, 0, sizeof(*res));
	if (plain == NULL || wire == NULL || changes == NULL)
		test_die("rend_pump: out of memory");
	for (unsigned i = 0; i < n_ends; i++) {
		if (ends[i]->to_send == 0)
			ends[i]->to_send = cfg->cells;
	}
	start = last_progress = now_seconds();
	last_refill = now_ns();
	while (!all_received(ends, n_ends)) {
		uint32_t sent = 0;
		uint64_t budget = UINT64_MAX;
		long got;

		if (cfg->rate > 0) {
			/* The token bucket: at most 5 ms of cells (at least one
			 * end's burst, so that a slow rate still moves), spent
			 * in rounds of at least 1 ms of cells, so that pacing
			 * does not cut the traffic into more, smaller records
			 * than the same rate unpaced would have. */
			uint64_t t = now_ns();
			double cap = cfg->rate * 0.005 > cfg->burst ? cfg->rate * 0.005 : cfg->burst;
			double round = cfg->rate * 0.001 > 1 ? cfg->rate * 0.001 : 1;

			tokens += cfg->rate * (double)(t - last_refill) / 1e9;
			if (tokens > cap)
				tokens = cap;
			last_refill = t;
			budget = tokens >= round ? (uint64_t)tokens : 0;
		}
		for (unsigned i = 0; i < n_links; i++) {
			uint64_t before = budget;

			if (links[i]->closed) {
				test_why("[%s] closed: %s", links[i]->name, links[i]->how);
				goto out;
			}
			sent += send_round(ends, n_ends, links[i], plain, wire, changes, cfg, &budget,
					res);
			if (cfg->rate > 0)
				tokens -= (double)(before - budget);
		}
		got = read_links(ends, n_ends, links, n_links,
				sent > 0 ? 0 : cfg->rate > 0 ? 1 : 20, cfg, res);
		if (got < 0)
			goto out;
		res->cells_received += (uint64_t)got;
		if (got > 0 || sent > 0)
			last_progress = now_seconds();
		else if ((now_seconds() - last_progress) * 1000 > cfg->stall_ms) {
			uint64_t missing = 0;
			char where[256] = "";
			size_t used = 0;

			for (unsigned i = 0; i < n_ends; i++) {
				const struct rend_end *e = ends[i];

				missing += e->peer->to_send - e->received;
				if (e->received < e->peer->to_send && used < sizeof(where) - 64)
					used += (size_t)snprintf(where + used, sizeof(where) - used,
							" pair %u %s on [%s] 0x%08x got %u of %u;",
							e->pair, e->direction ? "service" : "client",
							e->link->name, e->hop.circ_id, e->received,
							e->peer->to_send);
			}
			test_why("stalled: %llu cells sent, %llu received, %llu missing after %d ms "
					"without progress:%s", (unsigned long long)res->cells_sent,
					(unsigned long long)res->cells_received,
					(unsigned long long)missing, cfg->stall_ms, where);
			goto out;
		}
	}
	done_at = now_seconds();
	res->seconds = done_at - start;
	while ((now_seconds() - done_at) * 1000 < cfg->settle_ms) {
		long got = read_links(ends, n_ends, links, n_links, 20, cfg, res);

		if (got < 0)
			goto out;
		if (got > 0) {
			test_why("%ld cells arrived after every expected one", got);
			goto out;
		}
	}
	ok = true;
out:
	free(plain);
	free(wire);
	free(changes);
	return ok;
}
