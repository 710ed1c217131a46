/* Both ends of rendezvous circuits through one relay acting as the
 * rendezvous point, and the cell pump that drives traffic through its
 * splice (rend-spec-v3 4.2; tor relay.c circuit_receive_relay_cell()).
 * Used by tests/interop/rend_client.c; shaped for a benchmark as well.
 *
 * An end is a one-hop circuit to the relay (tests/interop/test_client.h)
 * plus an end-to-end layer of our own between the two ends of a pair, as
 * an onion client and service add one (rend-spec-v3 4.2.1): a sender
 * stamps the e2e running digest and applies the e2e keystream, then its
 * layer for the relay hop, without touching that hop's digest (the cell
 * is not for the relay). The relay must take its layer of the sending
 * circuit off and add its layer of the partner; the receiver takes the
 * hop layer off and the e2e layer, which must then be recognized
 * (recognized == 0 and the e2e digest matching). The e2e layer uses the
 * project's tor1 relay crypto (AES-128-CTR, SHA-1 running digest) with
 * random keys that both ends of a pair share; real onion services use
 * AES-256 and SHA3-256 there, which the relay never sees either way.
 *
 * Data cells carry (pair, direction, sequence number) and a pattern
 * derived from them, so that each arriving cell proves it is intact, in
 * order, neither lost nor duplicated.
 *
 * Single-threaded; the pump multiplexes every link with poll().
 */
#ifndef HSRELAY_TESTS_INTEROP_REND_PUMP_H
#define HSRELAY_TESTS_INTEROP_REND_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/interop/test_client.h"

/* Bytes at the start of a data body naming the cell: pair (4), direction
 * (1), sequence number (4). */
#define REND_DATA_HEADER_LEN 9
/* With rend_pump_config.latency_ns set, bytes REND_DATA_HEADER_LEN ..
 * REND_DATA_HEADER_LEN + 8 of a data body (when it is that long) carry
 * the time the sender sealed the cell (CLOCK_MONOTONIC, ns, big-endian)
 * instead of pattern bytes, under the e2e layer. */
#define REND_DATA_STAMP_LEN 8
/* RENDEZVOUS1's HANDSHAKE_INFO as a tor service sends it (tor hs_cell.c:
 * SERVER_PK (32) || AUTH (32)); the relay passes it on as RENDEZVOUS2. */
#define REND_HANDSHAKE_INFO_LEN 64
/* The stream id data cells travel on (the ends never open a stream at the
 * relay: the relay must not look at it). */
#define REND_DATA_STREAM 1

/* One direction of the e2e layer at one end. */
struct rend_e2e_dir {
	struct relay_cipher cipher;
	struct relay_digest digest;
};

/* One end of a rendezvous: the one-hop circuit to the relay, its e2e
 * layer and what it sent and received of the pump's data. */
struct rend_end {
	struct test_link *link;
	struct test_hop hop;
	struct rend_e2e_dir send, recv;
	struct rend_end *peer;		/* the other end of the pair */
	uint32_t pair;
	uint8_t direction;		/* 0: client (A), 1: service (B) */
	/* pump state */
	uint32_t sent, received;
	uint32_t to_send;		/* cells this end sends in this run */
};

/* Makes client and service the two ends of pair number pair: random e2e
 * keys shared by both (client sends with the forward ones, the service
 * with the backward ones), peers of each other, counters zero. The links
 * and hops are the caller's. */
void rend_pair_init(struct rend_end *client, struct rend_end *service, uint32_t pair);

/* A relay cell from end e through the relay to its peer: relay_command,
 * stream_id and len bytes of data (at most RELAY_DATA_MAX), e2e digest
 * stamped and e2e layer added, then e's hop layer. */
void rend_end_seal(struct rend_end *e, uint8_t cell[CELL_LEN], uint8_t relay_command,
		uint16_t stream_id, const uint8_t *data, uint16_t len);

/* Takes e's hop layer and the e2e layer off the relay cell c, which
 * arrived on e's circuit from its peer. Returns true when it is recognized
 * end to end; false with test_detail set otherwise. */
bool rend_end_open(struct rend_end *e, struct test_cell *c);

/* Data cell e->sent of e's pair and direction (rend_data_fill(), full
 * bodies when full), with send time stamp_ns in it when stamp_ns is not 0
 * (REND_DATA_STAMP_LEN; any clock, the receiver's must be the same),
 * sealed into cell by rend_end_seal(); e->sent advances. */
void rend_end_seal_data(struct rend_end *e, uint8_t cell[CELL_LEN], bool full, uint64_t stamp_ns);

/* A cell (cell command command, on circuit circ_id: in messages) that
 * arrived on e's circuit from the relay, payload decrypted in place: it
 * must be RELAY, recognized end to end, DATA on REND_DATA_STREAM, and
 * exactly the peer's next data cell (full bodies when full), and the peer
 * must not have sent all its cells yet. When stamp is not NULL, *stamp
 * gets the send time the cell carries (0 when it has none), and those
 * bytes are not compared. e->received advances. Returns true, or false
 * with test_detail set. */
bool rend_end_take_data(struct rend_end *e, uint8_t command, uint32_t circ_id, uint8_t *payload,
		bool full, uint64_t *stamp);

/* How many data cells end e may send now: 1..burst at random, fewer to
 * keep at most window of its cells on the way (sent minus what its peer
 * received) and not beyond e->to_send; 0 for a service end (direction 1)
 * that has received nothing yet from its client when service_waits. */
uint32_t rend_end_quota(const struct rend_end *e, uint32_t window, uint32_t burst,
		bool service_waits);

/* Writes the body of data cell seq of (pair, direction) into body (room
 * for RELAY_DATA_MAX bytes) and returns its length: RELAY_DATA_MAX when
 * full, else a length between REND_DATA_HEADER_LEN and RELAY_DATA_MAX
 * that varies with seq. */
uint16_t rend_data_fill(uint8_t *body, uint32_t pair, uint8_t direction, uint32_t seq,
		bool full);

/* True when [body, body + len) is exactly what rend_data_fill() writes
 * for (pair, direction, seq); false with test_detail set otherwise. */
bool rend_data_check(const uint8_t *body, uint16_t len, uint32_t pair, uint8_t direction,
		uint32_t seq, bool full);

/* The ESTABLISH_RENDEZVOUS cell with cookie (HS_REND_COOKIE_LEN bytes)
 * for e's circuit, our hop layer on (rend-spec-v3 4.1). */
void rend_establish_cell(struct rend_end *e, const uint8_t *cookie, uint8_t cell[CELL_LEN]);

/* c, from the relay on e's circuit, must be (once our hop layer is off)
 * an empty RENDEZVOUS_ESTABLISHED on stream 0 (tor rendmid.c). Returns
 * true, or false with test_detail set. */
bool rend_check_established(struct rend_end *e, struct test_cell *c);

/* c, from the relay on client's circuit, must be (once our hop layer is
 * off) RENDEZVOUS2 on stream 0 carrying exactly info. Returns true, or
 * false with test_detail set. */
bool rend_check_rendezvous2(struct rend_end *client, struct test_cell *c, const uint8_t *info,
		uint16_t info_len);

/* ESTABLISH_RENDEZVOUS with cookie (HS_REND_COOKIE_LEN bytes) on e's
 * circuit; the relay must answer an empty RENDEZVOUS_ESTABLISHED on
 * stream 0 (tor rendmid.c). Returns true, or false with test_detail set. */
bool rend_establish(struct rend_end *e, const uint8_t *cookie);

/* Writes RENDEZVOUS1 on service's circuit: cookie || info (info_len
 * bytes of HANDSHAKE_INFO, at most RELAY_DATA_MAX - HS_REND_COOKIE_LEN),
 * then cells_behind data cells of the service's pair (rend_data_fill()
 * sequence numbers 0, 1, ..., not full) on REND_DATA_STREAM, into cells
 * (room for (1 + cells_behind) * CELL_LEN bytes). Returns the bytes
 * written. Cells behind RENDEZVOUS1 are a service sending before the
 * relay has joined the pair. */
size_t rend_rendezvous1_cells(struct rend_end *service, uint8_t *cells, const uint8_t *cookie,
		const uint8_t *info, uint16_t info_len, uint32_t cells_behind);

/* Most data cells rend_send_rendezvous1() sends behind RENDEZVOUS1. */
#define REND_CELLS_BEHIND_MAX 8

/* rend_rendezvous1_cells() sent on service's link in one record;
 * cells_behind at most REND_CELLS_BEHIND_MAX (dies beyond). */
void rend_send_rendezvous1(struct rend_end *service, const uint8_t *cookie,
		const uint8_t *info, uint16_t info_len, uint32_t cells_behind);

/* The client must get RENDEZVOUS2 on stream 0 carrying exactly info.
 * Returns true, or false with test_detail set. */
bool rend_expect_rendezvous2(struct rend_end *client, const uint8_t *info, uint16_t info_len);

struct rend_pump_config {
	uint32_t cells;			/* data cells each end sends */
	/* an end sends while fewer than window of its cells are on the way
	 * (sent minus what its peer received) */
	uint32_t window;
	/* how many of an end's cells go into a link's buffer per round:
	 * 1..burst, at random */
	uint32_t burst;
	bool full_cells;		/* every body RELAY_DATA_MAX bytes */
	/* a service end (direction 1) sends only once it has received a
	 * cell from its client, as a tor service answers the client's BEGIN
	 * (the relay has joined both circuits by then) */
	bool service_waits;
	int stall_ms;			/* no cell received for this long: fail */
	int settle_ms;			/* afterwards: no further cell may arrive */
	/* cells per second sent by all ends together (a token bucket
	 * holding at most 5 ms worth, spent in rounds of at least 1 ms
	 * worth); 0: as fast as the windows allow */
	double rate;
	/* when set, data cells carry their send time (REND_DATA_STAMP_LEN)
	 * and each arrival's latency in ns (sealed at the sender to cut
	 * from the receiving link's records; UINT32_MAX when longer) is
	 * stored here, up to latency_cap of them */
	uint32_t *latency_ns;
	uint64_t latency_cap;
};

struct rend_pump_result {
	uint64_t cells_sent, cells_received;
	uint64_t records_sent;		/* TLS records */
	uint64_t sends;			/* send() calls (each of several records) */
	uint64_t max_records_per_send;
	uint64_t mixed_records;		/* records carrying cells of several circuits */
	uint64_t latencies;		/* entries written to cfg->latency_ns */
	double seconds;			/* first send to last cell received */
};

/* Runs the pump over the ends (each on one of links, ends with to_send
 * set by the caller or cfg->cells when 0): every round each link gets a
 * buffer of cells from all its ends (up to cfg->burst each, interleaved),
 * cut into TLS records of random sizes that need not end on a cell
 * boundary and sent with one send() (cfg->rate, when set, caps the cells
 * per round); then every link is read and each
 * arriving cell checked (rend_end_open(), then DATA on REND_DATA_STREAM
 * with the next sequence number of its peer and the right body). Ends
 * when every end has received all its peer's cells and settle_ms passed
 * without another cell. Returns true, or false with test_detail set (a
 * cell that is not the expected one, a DESTROY, a link closed, a stall). */
bool rend_pump_run(struct rend_end *const ends[], unsigned n_ends, struct test_link *const links[],
		unsigned n_links, const struct rend_pump_config *cfg, struct rend_pump_result *res);

#endif
