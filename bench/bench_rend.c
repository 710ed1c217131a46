/* hsrelay-bench rendezvous: cells per second spliced by a rendezvous point
 * under test (RUT), per CPU-second of the RUT, and per-cell latency, for
 * hsrelay and for tor 0.4.9 in the same run with the same generator.
 *
 * The generator is this process, built from the project's own client code
 * (tests/interop/test_client.h, rend_pump.h), in a network namespace it
 * creates, reaching the RUT with kernel TCP sockets:
 *   - L links to the RUT (TLS and link handshake as an unauthenticated
 *     client, as a tor client's first hop is);
 *   - per pair, two one-hop circuits (ntor CREATE2): the onion client's
 *     circuit A on link i % L and the service's circuit B on the next
 *     link, so that the splice joins circuits of different links (and,
 *     with two workers, often of different workers);
 *   - ESTABLISH_RENDEZVOUS with a random cookie on A (an empty
 *     RENDEZVOUS_ESTABLISHED expected), RENDEZVOUS1 with the cookie and a
 *     64-byte HANDSHAKE_INFO on B, RENDEZVOUS2 with exactly those bytes on
 *     A (rend-spec-v3 4.1, 4.2);
 *   - then --cells DATA cells each way per pair through the splice
 *     (rend_pump_run()): every body full (498 bytes), under an end-to-end
 *     layer of the pair (AES-128-CTR and a running SHA-1 digest, as tor1;
 *     the RUT never sees it), carrying pair, direction, sequence number,
 *     the send time and a pattern; each end keeps at most --window of its
 *     cells in flight; cells of all the ends of a link go out in TLS
 *     records of random sizes, several per send(). Every cell that
 *     arrives is opened and checked (recognized end to end, the peer's
 *     next sequence number, the exact body): a lost, duplicated,
 *     reordered or damaged cell, a DESTROY or a stall fails the bench.
 *     The latency of a cell is the time from sealing it at the sender to
 *     cutting it from the receiver's records (CLOCK_MONOTONIC, inside the
 *     DATA payload); p50/p99 are over all cells of the run.
 * The generator is single-threaded (poll() over the links); it does more
 * work per cell than the RUT (two layers and a digest each way, the
 * pattern check), so on a small machine it, not the RUT, may set the pace:
 * read limited_by and generator_cpu_seconds.
 *
 * With --transport memif-direct hsrelay's generator is instead the DPDK
 * process of bench_ugen.h in rendezvous mode, hsrelay's memif peer on
 * hsrelay's own dataplane (no kernel between them): the same pairs on the
 * same links, the same joins, the same cell code (rend_pump.h's
 * rend_end_seal_data(), rend_end_take_data(), rend_end_quota()) in its
 * poll loop, records of up to 31 cells; it waits with the pairs joined
 * until the bench has read the CPU counters (bench_ugen_go()) and says
 * when every cell arrived (generate_dpdk()). tor keeps this process's
 * generator; the intro and HSDir phases run hsrelay on af_packet.
 *
 * Single-hop rendezvous: tor 0.4.9 refuses ESTABLISH_RENDEZVOUS from a
 * client's channel only when dos_should_refuse_single_hop_client() says so
 * (dos.c): never outside public server mode (an ORPort and no
 * BridgeRelay: our tor is in it, PublishServerDescriptor 0 or not), else
 * per the torrc option DoSRefuseSingleHopClientRendezvous or, when that is
 * "auto", the consensus parameter of that name, default 0. The reference
 * tor has no consensus and its torrc sets the option to 0, so the one-hop
 * circuits are served as a two-hop client's would be; hsrelay reads the
 * parameter from its consensus (default 0) and has none here either.
 * (tor's source marks a channel as a client's when a CREATE_FAST arrives
 * on it, command.c, or its link protocol is below 3, connection_or.c; the
 * intro and HSDir phases, which need a non-client previous hop, use ntor
 * on links that authenticated as a relay.)
 *
 * Two more phases, each on a freshly started RUT, tor then hsrelay:
 *   intro  (--introductions N): a service circuit (CREATE_FAST, whose KH
 *          keys the ESTABLISH_INTRO MAC) with the DoS extension at tor's
 *          maximum rate and burst, then N INTRODUCE1 from a link that
 *          authenticated as a relay, each on its own fresh ntor circuit (a
 *          circuit carries one INTRODUCE1), INTRODUCE_ACK 0000 and an
 *          INTRODUCE2 equal to the INTRODUCE1 checked, INTRO_BATCH per
 *          round trip; one "introduce" line per impl;
 *   hsdir  (--fetches N): a v3 descriptor made here (bench_hsdir.h)
 *          published with POST /tor/hs/3/publish over BEGIN_DIR, then N
 *          GET /tor/hs/3/<blinded key>, HSDIR_PARALLEL streams at a time
 *          on one ntor circuit from an authenticated link (an "anonymous"
 *          request: the previous hop is no client channel), each answer
 *          200 with exactly the descriptor; one "hsdir" line per impl.
 * Both relays handle these on one thread (tor's main thread plus its
 * cpuworkers for ntor; hsrelay's control thread), so their CPU is the
 * whole process for both.
 *
 * The RUTs (bench/bench_rut.h): tor on the namespace's loopback (CPU: its
 * whole process), hsrelay with --workers workers on net_af_packet over a
 * veth (default), net_tap, net_memif to a bridge process (one worker;
 * bench_memif.h) or to the DPDK generator (memif-direct, one worker).
 * hsrelay's CPU is its workers' busy time: their threads'
 * CPU time times the busy share of their loop's TSC time, which hsrelay prints
 * on SIGUSR1 (bench_rut.h), so that idle polling is not charged to the
 * splice; the threads' whole CPU time is the line's
 * worker_thread_cpu_seconds. On af_packet and tap the kernel's delivery
 * of its frames to the generator's sockets runs inside the worker's
 * sendto() or writev() and is charged to it, as tor's loopback sends are
 * charged to tor. Per run the order is tor unpaced, hsrelay paced to
 * tor's measured rate (load "matched": the same offered load), then
 * hsrelay unpaced (load "max") for each --workers value. With --rate every
 * run is paced to that rate (load "paced").
 *
 * CPU seconds of the RUT are read from /proc just before the first DATA
 * cell and just after the last one arrived (pair set-up excluded). The
 * namespace, the RUT processes and the work directory are removed on
 * every exit path (atexit, signals; the RUTs also die with this process).
 */
#include "bench/bench_rend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_env.h"
#include "bench/bench_hsdir.h"
#include "bench/bench_rut.h"
#include "bench/bench_util.h"
#include "control/hs_cells.h"
#include "control/hs_descriptor.h"
#include "control/relay_keys.h"
#include "crypto/tor_keys.h"
#include "dataplane/wire.h"
#include "tests/interop/rend_pump.h"
#include "tests/interop/test_client.h"

#define MAX_PAIRS 64
#define MAX_LINKS 16
#define MAX_WORKER_CASES 2
#define STALL_MS 10000
/* memif-direct: building and joining the pairs, and the latency
 * percentiles after the last cell. */
#define SETUP_TIMEOUT_NS (60ull * 1000000000)
#define LATENCY_TIMEOUT_NS (10ull * 1000000000)
/* Introductions per round trip of the intro phase. */
#define INTRO_BATCH 32
/* The DoS extension's rate and burst: tor's largest (INT32_MAX), so that
 * no INTRODUCE2 is rate limited (rend-spec-v3 3.1.1.1). */
#define INTRO_DOS_MAX 0x7fffffffu
/* The HSDir phase's descriptor: about the size of a real one with a few
 * introduction points (tests/unit/vectors/hs-descriptor: 14 KB), and how
 * many fetches are in flight on the directory circuit. */
#define HSDIR_SUPERENCRYPTED_LEN 8192
#define HSDIR_PARALLEL 8

/* What a run measures. */
enum phase { PHASE_SPLICE, PHASE_INTRO, PHASE_HSDIR };

struct options {
	bool quick, verbose;
	bool skip_tor, skip_hsrelay, skip_max;
	unsigned pairs, links, window, burst;
	uint32_t cells;
	double rate;			/* --rate: every run paced; 0: tor unpaced */
	uint32_t introductions;		/* intro phase: INTRODUCE1 cells; 0: none */
	uint32_t fetches;		/* HSDir phase: descriptor GETs; 0: none */
	unsigned rounds;		/* --rounds: tor / hsrelay (matched) pairs */
	unsigned n_workers;
	unsigned workers[MAX_WORKER_CASES];
	struct bench_rut_options rut;
	char hsrelay_path[PATH_MAX + 16];
};

struct rend_result {
	enum bench_rut_kind kind;
	const char *load;		/* "max", "matched", "paced" */
	double offered;			/* cells/s the generator paced to; 0: unpaced */
	unsigned workers;
	unsigned links;
	const char *transport;
	unsigned idle_sleep_usec;	/* hsrelay's DPDKIdleSleepUsec */
	bool dpdk_generator;		/* memif-direct: bench_ugen.h's process */
	uint64_t cells;			/* DATA cells that crossed the splice */
	uint64_t expected;
	struct rend_pump_result pump;
	struct bench_cpu_window w;
	double p50_us, p99_us, max_us;
	uint64_t latency_samples;
	uint64_t spliced_by_worker[BENCH_MAX_WORKERS];
	unsigned n_spliced;		/* hsrelay: workers that reported */
	uint64_t cross_splice_cells;	/* hsrelay: cells handed between workers */
	/* the intro phase */
	uint64_t introduced;		/* INTRODUCE2 that reached the service */
	uint64_t intro_acks;		/* INTRODUCE_ACK 0000 to the clients */
	/* the HSDir phase */
	uint64_t fetched;		/* answers 200 with the exact descriptor */
	size_t descriptor_bytes;
	struct bench_hsdir_fetches dir;
	unsigned round;			/* --rounds: which (from 1) */
	double round_trip_ns[2];	/* bench_rut.h: before and after the case */
};

static struct bench_environment env;

static void
cleanup_at_exit(void)
{
	bench_environment_cleanup(&env);
}

/* ---- one run ---------------------------------------------------------- */

static void
latency_result(const struct bench_latency *l, struct rend_result *res)
{
	res->latency_samples = l->samples;
	res->p50_us = l->p50_ns / 1e3;
	res->p99_us = l->p99_ns / 1e3;
	res->max_us = l->max_ns / 1e3;
}

/* p50, p99 and the largest of n latencies in ns (sorted here), in us. */
static void
percentiles(uint32_t *ns, uint64_t n, struct rend_result *res)
{
	struct bench_latency l;

	bench_latency_percentiles(ns, n, &l);
	latency_result(&l, res);
}

/* Circuits, ESTABLISH_RENDEZVOUS, RENDEZVOUS1 and RENDEZVOUS2 of pair i,
 * its client end on la and its service end on lb. */
static bool
join_pair(struct rend_end *a, struct rend_end *b, uint32_t i, struct test_link *la,
		struct test_link *lb)
{
	uint8_t cookie[HS_REND_COOKIE_LEN], info[REND_HANDSHAKE_INFO_LEN];

	rend_pair_init(a, b, i);
	a->link = la;
	b->link = lb;
	test_random_bytes(cookie, sizeof(cookie));
	test_random_bytes(info, sizeof(info));
	if (!test_create_ntor(la, &a->hop) || !test_create_ntor(lb, &b->hop) ||
	    !rend_establish(a, cookie))
		return false;
	rend_send_rendezvous1(b, cookie, info, sizeof(info), 0);
	return rend_expect_rendezvous2(a, info, sizeof(info));
}

/* The generator against a running RUT: links, pairs, the pump, the CPU
 * window around it. */
static int
generate(const struct options *o, struct bench_rut *r, double rate, struct rend_result *res)
{
	static char names[MAX_LINKS][16];
	char host[INET_ADDRSTRLEN], port[8], client_dir[PATH_MAX + 16];
	struct in_addr addr = { .s_addr = htonl(r->ip) };
	struct test_link *links = calloc(res->links, sizeof(*links));
	struct test_link *link_list[MAX_LINKS];
	struct rend_end *ends = calloc(2 * o->pairs, sizeof(*ends));
	struct rend_end *end_list[2 * MAX_PAIRS];
	uint32_t *latency = NULL;
	struct bench_cpu_sample s0, s1;
	int rc = 0, one = 1;

	res->expected = 2ull * o->pairs * o->cells;
	latency = calloc(res->expected, sizeof(*latency));
	if (links == NULL || ends == NULL || latency == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	inet_ntop(AF_INET, &addr, host, sizeof(host));
	snprintf(port, sizeof(port), "%u", r->port);
	snprintf(client_dir, sizeof(client_dir), "%s/client-data", env.work);
	test_client_init("hsrelay-bench rendezvous", host, port);
	test_client_load_keys(r->dir, client_dir);
	for (unsigned i = 0; i < res->links; i++) {
		links[i].fd = -1;
		link_list[i] = &links[i];
		snprintf(names[i], sizeof(names[i]), "L%u", i);
		if (!test_link_open(&links[i], names[i])) {
			fprintf(stderr, "hsrelay-bench rendezvous: %s: link %u: %s\n",
					bench_rut_name(r), i, test_detail);
			rc = -EIO;
			goto out;
		}
		/* As tor does on its OR connections: no Nagle delay behind
		 * unacknowledged data. */
		setsockopt(links[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	for (unsigned i = 0; i < o->pairs; i++) {
		struct test_link *la = &links[i % res->links];
		struct test_link *lb = &links[(i + 1) % res->links];

		end_list[2 * i] = &ends[2 * i];
		end_list[2 * i + 1] = &ends[2 * i + 1];
		if (!join_pair(&ends[2 * i], &ends[2 * i + 1], i, la, lb)) {
			fprintf(stderr, "hsrelay-bench rendezvous: %s: pair %u: %s\n",
					bench_rut_name(r), i, test_detail);
			rc = -EPROTO;
			goto out;
		}
	}
	struct rend_pump_config cfg = {
		.cells = o->cells, .window = o->window, .burst = o->burst, .full_cells = true,
		.service_waits = true, .stall_ms = STALL_MS, .settle_ms = 0, .rate = rate,
		.latency_ns = latency, .latency_cap = res->expected,
	};

	rc = bench_rut_sample(r, &s0);
	if (rc < 0)
		goto out;
	bool ok = rend_pump_run(end_list, 2 * o->pairs, link_list, res->links, &cfg, &res->pump);

	rc = bench_rut_sample(r, &s1);
	bench_cpu_window(&s0, &s1, &res->w);
	res->cells = res->pump.cells_received;
	if (rc < 0)
		goto out;
	if (!ok) {
		fprintf(stderr, "hsrelay-bench rendezvous: %s: %s\n", bench_rut_name(r), test_detail);
		rc = -EIO;
		goto out;
	}
	percentiles(latency, res->pump.latencies, res);
out:
	for (unsigned i = 0; links != NULL && i < res->links; i++)
		test_link_close(&links[i]);
	if (ends != NULL) {
		for (unsigned i = 0; i < 2 * o->pairs; i++) {
			relay_cipher_clear(&ends[i].hop.forward);
			relay_cipher_clear(&ends[i].hop.backward);
			relay_cipher_clear(&ends[i].send.cipher);
			relay_cipher_clear(&ends[i].recv.cipher);
		}
	}
	test_client_free();
	free(links);
	free(ends);
	free(latency);
	return rc;
}

/* memif-direct: the generator process's case (bench_ugen.h, rendezvous
 * mode): the same pairs, cells, window, burst and rate as generate(). */
static void
ugen_params(const struct options *o, const struct bench_rut_keys *keys, double rate,
		struct bench_ugen_params *up)
{
	memset(up, 0, sizeof(*up));
	up->mode = BENCH_UGEN_RENDEZVOUS;
	up->pairs = o->pairs;
	up->cells = o->cells;
	up->burst = o->burst;
	up->links = o->links;
	up->window = o->window;
	up->rate = rate;
	bench_rut_keys_to_ugen(keys, up);
	up->verbose = o->verbose;
}

/* memif-direct: the generator process (started with hsrelay, its memif
 * peer) builds and joins the pairs; the CPU window runs from just before
 * its go to just after its last data cell arrived, as in generate(). */
static int
generate_dpdk(const struct options *o, struct bench_rut *r, struct rend_result *res)
{
	struct bench_ugen *g = &r->ugen;
	const struct bench_ugen_shared *sh = g->shared;
	struct bench_cpu_sample s0, s1;
	struct bench_latency latency;
	const char *why = "";
	int rc, rc1;

	res->expected = 2ull * o->pairs * o->cells;
	rc = bench_ugen_wait_state(g, BENCH_UGEN_PUMPING, SETUP_TIMEOUT_NS);
	if (rc < 0) {
		bench_ugen_error(g, &why);
		fprintf(stderr, "hsrelay-bench rendezvous: hsrelay: the generator did not join its "
				"pairs: %s %s\n", strerror(-rc), why);
		return rc;
	}
	rc = bench_rut_sample(r, &s0);
	if (rc < 0)
		return rc;
	bench_ugen_go(g);
	rc = bench_ugen_wait_finished(g, (uint64_t)STALL_MS * 1000000);
	rc1 = bench_rut_sample(r, &s1);
	bench_cpu_window(&s0, &s1, &res->w);
	res->cells = bench_ugen_received(g);
	res->pump.cells_sent = bench_ugen_sent(g);
	res->pump.cells_received = res->cells;
	res->pump.records_sent = __atomic_load_n(&sh->ugen.records_sent, __ATOMIC_RELAXED);
	res->pump.mixed_records = __atomic_load_n(&sh->ugen.mixed_records, __ATOMIC_RELAXED);
	if (rc == 0)
		rc = rc1;
	if (rc == 0)
		rc = bench_ugen_latency(g, LATENCY_TIMEOUT_NS, &latency);
	if (rc < 0) {
		bench_ugen_error(g, &why);
		fprintf(stderr, "hsrelay-bench rendezvous: hsrelay: %s%s%s (%" PRIu64 " of %" PRIu64
				" cells arrived)\n", strerror(-rc), why[0] != '\0' ? ": " : "", why,
				res->cells, res->expected);
		return rc;
	}
	latency_result(&latency, res);
	return 0;
}

/* ---- the intro phase -------------------------------------------------- */

/* A relay cell for us on hop from l, opened; its relay command and body
 * into *command, body and *len. Any other cell fails. */
static bool
next_relay(struct test_link *l, struct test_hop *hop, uint8_t *command, uint8_t *body,
		uint16_t *len)
{
	struct test_cell c;

	if (!test_link_expect(l, hop->circ_id, CELL_COMMAND_RELAY, -1, &c) ||
	    !test_relay_cell_open(hop, &c))
		return false;
	*command = c.payload[RELAY_OFFSET_COMMAND];
	*len = wire_read_u16(c.payload + RELAY_OFFSET_LENGTH);
	if (*len > RELAY_DATA_MAX)
		return test_why("relay length %u", *len);
	memcpy(body, c.payload + RELAY_HEADER_LEN, *len);
	return true;
}

/* The service's intro circuit on ls: CREATE_FAST (its KH keys the
 * ESTABLISH_INTRO MAC, tor-spec 5.1.5), ESTABLISH_INTRO for key with the
 * DoS extension at INTRO_DOS_MAX, INTRO_ESTABLISHED expected. */
static bool
intro_establish(struct test_link *ls, struct test_hop *hop, const struct ed25519_keypair *key)
{
	uint32_t circ_id = test_new_circ_id();
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN], ext[64], body[RELAY_DATA_MAX];
	struct test_cell reply;
	ssize_t ext_len, len;
	uint8_t command;
	uint16_t got;

	test_create_fast_cell(cell, circ_id, x);
	test_link_send_cell(ls, cell);
	if (!test_link_expect(ls, circ_id, CELL_COMMAND_CREATED_FAST, -1, &reply) ||
	    !test_create_fast_complete(hop, circ_id, x, &reply))
		return false;
	ext_len = hs_dos_extension_list_build(INTRO_DOS_MAX, INTRO_DOS_MAX, ext, sizeof(ext));
	len = ext_len < 0 ? ext_len : establish_intro_cell_build(key,
			reply.payload + CREATE_FAST_KEY_LEN, ext, (size_t)ext_len, body, sizeof(body));
	if (len < 0)
		test_die("building ESTABLISH_INTRO failed (%zd)", len);
	test_relay_cell(hop, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_ESTABLISH_INTRO, 0, body,
			(uint16_t)len);
	test_link_send_cell(ls, cell);
	if (!next_relay(ls, hop, &command, body, &got))
		return false;
	if (command != RELAY_COMMAND_INTRO_ESTABLISHED || got != INTRO_ESTABLISHED_LEN)
		return test_why("answer to ESTABLISH_INTRO: relay command %u, %u bytes", command, got);
	return true;
}

/* An INTRODUCE1 body as a tor client lays it out (legacy key id zero, auth
 * key type 02, no extensions), the encrypted part random: the intro point
 * never looks into it. */
static uint16_t
introduce1_body(const uint8_t key[ED25519_PUBLIC_KEY_LEN], uint8_t *out)
{
	uint16_t n = INTRODUCE1_LEGACY_KEY_ID_LEN;

	memset(out, 0, n);
	out[n++] = 2;
	out[n++] = 0;
	out[n++] = ED25519_PUBLIC_KEY_LEN;
	memcpy(out + n, key, ED25519_PUBLIC_KEY_LEN);
	n += ED25519_PUBLIC_KEY_LEN;
	out[n++] = 0;
	test_random_bytes(out + n, 300);
	return (uint16_t)(n + 300);
}

/* The index in [0, n) of the circuit of cell c among hops, which are not
 * yet marked in seen (and then marked), or -1. */
static int
batch_index(const struct test_hop *hops, bool *seen, unsigned n, const struct test_cell *c)
{
	for (unsigned i = 0; i < n; i++) {
		if (!seen[i] && hops[i].circ_id == c->circ_id) {
			seen[i] = true;
			return (int)i;
		}
	}
	return -1;
}

/* The next cell on l other than padding, or false with test_detail set. */
static bool
batch_next(struct test_link *l, struct test_cell *c, const char *what)
{
	int rc = test_link_next_cell(l, c, TEST_IO_TIMEOUT_MS);

	if (rc == 1)
		return true;
	return test_why("%s: %s while waiting for %s", l->name, rc < 0 ? l->how : "timeout",
			what);
}

/* One batch of n introductions: n ntor circuits on lc (CREATE2 cells in
 * one record, then the CREATED2s, in whatever order the relay's workers
 * finish them), an INTRODUCE1 on each (in one record), an INTRODUCE_ACK
 * 0000 on each, n INTRODUCE2 on the service's circuit each equal to one of
 * the INTRODUCE1s, then DESTROY for the n circuits (a circuit carries one
 * INTRODUCE1). */
static bool
intro_batch(struct test_link *lc, struct test_link *ls, struct test_hop *service,
		const uint8_t key[ED25519_PUBLIC_KEY_LEN], unsigned n, struct rend_result *res)
{
	static uint8_t cells[INTRO_BATCH * CELL_LEN];
	static uint8_t bodies[INTRO_BATCH][RELAY_DATA_MAX];
	static uint16_t lens[INTRO_BATCH];
	static struct ntor_client_state st[INTRO_BATCH];
	static struct test_hop hops[INTRO_BATCH];
	uint8_t body[RELAY_DATA_MAX], skin[NTOR_ONIONSKIN_LEN], command;
	bool seen[INTRO_BATCH];
	struct test_cell c;
	uint16_t len;
	int k;

	for (unsigned i = 0; i < n; i++) {
		hops[i].circ_id = test_new_circ_id();
		test_ntor_onion_skin(&st[i], skin, false, false);
		test_create2_cell(cells + i * CELL_LEN, hops[i].circ_id, HANDSHAKE_TYPE_NTOR, skin,
				NTOR_ONIONSKIN_LEN);
	}
	test_link_send_plain(lc, cells, n * CELL_LEN, TLS_RECORD_MAX_PLAINTEXT);
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < n; i++) {
		if (!batch_next(lc, &c, "CREATED2"))
			return false;
		k = batch_index(hops, seen, n, &c);
		if (k < 0 || c.command != CELL_COMMAND_CREATED2)
			return test_why("%s on 0x%08x instead of CREATED2",
					test_command_name(c.command), c.circ_id);
		if (!test_ntor_complete(&hops[k], hops[k].circ_id, &st[k], &c))
			return false;
		lens[k] = introduce1_body(key, bodies[k]);
		test_relay_cell(&hops[k], cells + k * CELL_LEN, CELL_COMMAND_RELAY,
				RELAY_COMMAND_INTRODUCE1, 0, bodies[k], lens[k]);
	}
	test_link_send_plain(lc, cells, n * CELL_LEN, TLS_RECORD_MAX_PLAINTEXT);
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < n; i++) {
		if (!batch_next(lc, &c, "INTRODUCE_ACK"))
			return false;
		k = batch_index(hops, seen, n, &c);
		if (k < 0 || c.command != CELL_COMMAND_RELAY || !test_relay_cell_open(&hops[k], &c))
			return test_why("%s on 0x%08x instead of INTRODUCE_ACK",
					test_command_name(c.command), c.circ_id);
		command = c.payload[RELAY_OFFSET_COMMAND];
		len = wire_read_u16(c.payload + RELAY_OFFSET_LENGTH);
		memcpy(body, c.payload + RELAY_HEADER_LEN, len <= RELAY_DATA_MAX ? len : 0);
		if (command != RELAY_COMMAND_INTRODUCE_ACK || len != INTRODUCE_ACK_LEN ||
		    wire_read_u16(body) != 0)
			return test_why("introduction %" PRIu64 ": relay command %u, %u bytes, status "
					"%04x instead of INTRODUCE_ACK 0000", res->intro_acks, command,
					len, len >= 2 ? wire_read_u16(body) : 0xffff);
		res->intro_acks++;
	}
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < n; i++) {
		if (!next_relay(ls, service, &command, body, &len))
			return false;
		for (k = 0; k < (int)n; k++) {
			if (!seen[k] && len == lens[k] && memcmp(body, bodies[k], len) == 0)
				break;
		}
		if (command != RELAY_COMMAND_INTRODUCE2 || k == (int)n)
			return test_why("introduction %" PRIu64 ": the service got relay command %u "
					"(%u bytes), not the INTRODUCE1 as INTRODUCE2", res->introduced,
					command, len);
		seen[k] = true;
		res->introduced++;
	}
	for (unsigned i = 0; i < n; i++) {
		test_cell_start(cells + i * CELL_LEN, hops[i].circ_id, CELL_COMMAND_DESTROY);
		cell_wire_payload(cells + i * CELL_LEN)[0] = DESTROY_REASON_FINISHED;
		relay_cipher_clear(&hops[i].forward);
		relay_cipher_clear(&hops[i].backward);
	}
	test_link_send_plain(lc, cells, n * CELL_LEN, TLS_RECORD_MAX_PLAINTEXT);
	return true;
}

/* The intro phase against a running RUT: a service link and circuit, a
 * client link authenticated as a relay (tor and hsrelay refuse INTRODUCE1
 * from a client's channel: the previous hop of a real INTRODUCE1 is the
 * client's middle relay), then o->introductions introductions in batches,
 * the CPU window around them. */
static int
introduce(const struct options *o, struct bench_rut *r, struct rend_result *res)
{
	static struct test_link ls, lc;
	char host[INET_ADDRSTRLEN], port[8], client_dir[PATH_MAX + 16];
	struct in_addr addr = { .s_addr = htonl(r->ip) };
	struct ed25519_keypair key;
	struct test_hop service;
	struct bench_cpu_sample s0, s1;
	int rc = 0, one = 1;
	bool ok;

	ls.fd = lc.fd = -1;
	res->expected = o->introductions;
	inet_ntop(AF_INET, &addr, host, sizeof(host));
	snprintf(port, sizeof(port), "%u", r->port);
	snprintf(client_dir, sizeof(client_dir), "%s/client-data", env.work);
	test_client_init("hsrelay-bench rendezvous", host, port);
	test_client_load_keys(r->dir, client_dir);
	if (ed25519_keypair_generate(&key) != 0)
		test_die("ed25519_keypair_generate");
	test_client_authenticate = false;
	ok = test_link_open(&ls, "S");
	test_client_authenticate = true;
	ok = ok && test_link_open(&lc, "C");
	test_client_authenticate = false;
	if (ok) {
		setsockopt(ls.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(lc.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	ok = ok && intro_establish(&ls, &service, &key);
	if (!ok) {
		fprintf(stderr, "hsrelay-bench rendezvous: %s: intro set-up: %s\n", bench_rut_name(r),
				test_detail);
		rc = -EPROTO;
		goto out;
	}
	rc = bench_rut_sample(r, &s0);
	ok = rc == 0;
	for (uint32_t done = 0; ok && done < o->introductions; done += INTRO_BATCH) {
		unsigned n = o->introductions - done < INTRO_BATCH ? o->introductions - done :
			INTRO_BATCH;

		ok = intro_batch(&lc, &ls, &service, key.public_key, n, res);
	}
	if (rc == 0)
		rc = bench_rut_sample(r, &s1);
	bench_cpu_window(&s0, &s1, &res->w);
	res->cells = res->introduced;
	if (!ok && rc == 0) {
		fprintf(stderr, "hsrelay-bench rendezvous: %s: introductions: %s\n",
				bench_rut_name(r), test_detail);
		rc = -EIO;
	}
out:
	test_link_close(&ls);
	test_link_close(&lc);
	relay_cipher_clear(&service.forward);
	relay_cipher_clear(&service.backward);
	memset(&key, 0, sizeof(key));
	test_client_free();
	return rc;
}

/* ---- the HSDir phase -------------------------------------------------- */

/* The HSDir phase against a running RUT: a link authenticated as a relay
 * and an ntor circuit on it (both relays answer HS descriptor requests
 * only when they are "anonymous": the circuit's previous hop is not a
 * client channel, tor's connection_dir_is_anonymous(), and tor marks a
 * channel as a client's on CREATE_FAST), a descriptor made here (checked
 * with our own HSDir parser first) published over BEGIN_DIR, then
 * o->fetches GETs of it with HSDIR_PARALLEL streams in flight, the CPU
 * window around those. */
static int
hsdir_phase(const struct options *o, struct bench_rut *r, struct rend_result *res)
{
	static struct test_link l;
	static struct bench_hsdir_circuit dc;
	char host[INET_ADDRSTRLEN], port[8], client_dir[PATH_MAX + 16];
	struct in_addr addr = { .s_addr = htonl(r->ip) };
	struct bench_hs_descriptor d;
	struct hs_desc_outer outer;
	enum hs_desc_check failed;
	struct test_hop hop;
	struct bench_cpu_sample s0, s1;
	int rc, one = 1;
	bool ok;

	memset(&hop, 0, sizeof(hop));
	l.fd = -1;
	res->expected = o->fetches;
	rc = bench_hs_descriptor_make(&d, HSDIR_SUPERENCRYPTED_LEN, (uint64_t)time(NULL),
			time(NULL));
	if (rc == 0 && hs_desc_outer_parse(d.text, d.len, HS_DESC_MAX_SIZE_DEFAULT, time(NULL),
			&outer, &failed) != 0) {
		fprintf(stderr, "hsrelay-bench rendezvous: the descriptor made here fails the "
				"check %s\n", hs_desc_check_name(failed));
		rc = -EPROTO;
	}
	if (rc < 0) {
		bench_hs_descriptor_free(&d);
		return rc;
	}
	res->descriptor_bytes = d.len;
	inet_ntop(AF_INET, &addr, host, sizeof(host));
	snprintf(port, sizeof(port), "%u", r->port);
	snprintf(client_dir, sizeof(client_dir), "%s/client-data", env.work);
	test_client_init("hsrelay-bench rendezvous", host, port);
	test_client_load_keys(r->dir, client_dir);
	test_client_authenticate = true;
	ok = test_link_open(&l, "D");
	test_client_authenticate = false;
	if (ok)
		setsockopt(l.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ok = ok && test_create_ntor(&l, &hop);
	if (ok)
		bench_hsdir_circuit_init(&dc, &l, &hop);
	ok = ok && bench_hsdir_publish(&dc, &d);
	if (!ok) {
		fprintf(stderr, "hsrelay-bench rendezvous: %s: HSDir set-up and upload: %s\n",
				bench_rut_name(r), test_detail);
		rc = -EPROTO;
		goto out;
	}
	rc = bench_rut_sample(r, &s0);
	ok = rc == 0 && bench_hsdir_fetch(&dc, &d, o->fetches, HSDIR_PARALLEL, &res->dir);
	if (rc == 0)
		rc = bench_rut_sample(r, &s1);
	bench_cpu_window(&s0, &s1, &res->w);
	res->fetched = res->dir.fetches;
	if (!ok && rc == 0) {
		fprintf(stderr, "hsrelay-bench rendezvous: %s: fetches: %s\n", bench_rut_name(r),
				test_detail);
		rc = -EIO;
	}
out:
	test_link_close(&l);
	relay_cipher_clear(&hop.forward);
	relay_cipher_clear(&hop.backward);
	bench_hs_descriptor_free(&d);
	test_client_free();
	return rc;
}

/* One RUT started, measured (phase) and stopped. */
static int
run_case(const struct options *o, enum bench_rut_kind kind, unsigned workers, double rate,
		const char *load, enum phase phase, struct rend_result *res)
{
	struct bench_rut_options ro = o->rut;
	struct bench_ugen_params up;
	struct bench_rut_keys keys;
	struct bench_rut r;
	int rc;

	memset(res, 0, sizeof(*res));
	ro.workers = kind == BENCH_RUT_HSRELAY ? workers : 1;
	res->kind = kind;
	res->load = load;
	res->offered = rate;
	res->workers = kind == BENCH_RUT_HSRELAY ? workers : 0;
	res->links = o->links;
	bench_rut_init(&r, kind, env.work);
	/* The keys are made before the RUT starts (tor reads relay_keys'
	 * files), so that nothing writes into its DataDirectory while it
	 * runs, and the DPDK generator gets them with its parameters. */
	rc = bench_rut_read_keys(r.dir, &keys);
	if (kind == BENCH_RUT_HSRELAY && ro.transport == BENCH_TRANSPORT_MEMIF_DIRECT) {
		/* The intro and HSDir phases speak through the kernel-socket
		 * client: hsrelay is on af_packet for them. */
		if (phase != PHASE_SPLICE) {
			ro.transport = BENCH_TRANSPORT_AF_PACKET;
		} else {
			ugen_params(o, &keys, rate, &up);
			ro.ugen = &up;
			res->dpdk_generator = true;
		}
	}
	res->transport = bench_rut_transport(&r, &ro);
	res->idle_sleep_usec = bench_rut_idle_sleep(&ro);
	if (rc == 0)
		rc = bench_rut_start(&r, env.work, &ro);
	if (rc == 0)
		rc = phase == PHASE_INTRO ? introduce(o, &r, res) :
			phase == PHASE_HSDIR ? hsdir_phase(o, &r, res) :
			res->dpdk_generator ? generate_dpdk(o, &r, res) : generate(o, &r, rate, res);
	if (rc == 0 && kind == BENCH_RUT_HSRELAY && res->w.worker_threads != workers) {
		fprintf(stderr, "hsrelay-bench rendezvous: %u rte-worker threads in hsrelay, %u "
				"expected\n", res->w.worker_threads, workers);
		rc = -ESRCH;
	}
	if (r.pid > 0 && !bench_child_alive(r.pid)) {
		fprintf(stderr, "hsrelay-bench rendezvous: %s exited during the run; its log:\n",
				bench_rut_name(&r));
		bench_print_log_tail(r.log, 20);
		rc = rc < 0 ? rc : -ECHILD;
	}
	if (bench_rut_stop(&r, o->verbose || rc < 0) < 0 && rc == 0) {
		fprintf(stderr, "hsrelay-bench rendezvous: %s did not stop cleanly\n",
				bench_rut_name(&r));
		rc = -ECHILD;
	}
	res->round_trip_ns[0] = r.round_trip_before_ns;
	res->round_trip_ns[1] = r.round_trip_after_ns;
	if (kind == BENCH_RUT_HSRELAY) {
		uint64_t cross[BENCH_MAX_WORKERS];
		unsigned n;

		res->n_spliced = bench_rut_exit_stats(&r, "hsrelay: stats rendezvous worker",
				" spliced=", res->spliced_by_worker, BENCH_MAX_WORKERS,
				o->verbose || rc < 0);
		n = bench_rut_exit_stats(&r, "hsrelay: stats rendezvous worker",
				" cross_splice_cells_in=", cross, BENCH_MAX_WORKERS, false);
		for (unsigned i = 0; i < n; i++)
			res->cross_splice_cells += cross[i];
		if (rc < 0 && o->verbose)
			bench_print_log_tail(r.log, 20);
	} else if (rc < 0 && o->verbose) {
		bench_print_log_tail(r.notice_log, 20);
	}
	if (rc == 0 && phase == PHASE_SPLICE && res->cells != res->expected) {
		fprintf(stderr, "hsrelay-bench rendezvous: %s: %" PRIu64 " cells arrived, %" PRIu64
				" sent\n", bench_rut_name(&r), res->cells, res->expected);
		rc = -EIO;
	}
	return rc;
}

/* ---- output ----------------------------------------------------------- */

static double
cells_per_s(const struct rend_result *m)
{
	return m->w.seconds > 0 ? (double)m->cells / m->w.seconds : 0;
}

static double
cells_per_cpu(const struct rend_result *m)
{
	return m->w.rut_cpu > 0 ? (double)m->cells / m->w.rut_cpu : 0;
}

static const char *
limited_by(const struct rend_result *m)
{
	unsigned threads = m->w.worker_threads > 0 ? m->w.worker_threads : 1;
	double utilization = m->w.rut_cpu / m->w.seconds / threads;

	if (m->offered > 0 && cells_per_s(m) >= 0.95 * m->offered)
		return "offered_load";
	if (utilization >= (m->kind == BENCH_RUT_TOR ? 0.85 : 0.9))
		return "relay_under_test";
	return "generator_or_transport";
}

static void
print_line(const struct options *o, const struct rend_result *m,
		const struct rend_result *reference, const struct rend_result *one_worker)
{
	const struct bench_cpu_window *w = &m->w;

	printf("{\"bench\":\"rendezvous\",\"impl\":\"%s\",\"load\":\"%s\",\"round\":%u,\"circuit_pairs\":%u,"
	       "\"links\":%u,\"cells_per_pair\":%" PRIu32 ",\"window\":%u,"
	       "\"offered_cells_per_s\":%.0f,\"cells\":%" PRIu64 ",\"all_cells_arrived\":%s,"
	       "\"seconds\":%.3f,\"cells_per_s\":%.0f,\"cpu_seconds\":%.3f,"
	       "\"cells_per_cpu_second\":%.0f,\"cpu_what\":\"%s\",\"p50_us\":%.1f,"
	       "\"p99_us\":%.1f,\"max_us\":%.1f,\"latency_samples\":%" PRIu64 ","
	       "\"process_cpu_seconds\":%.3f,\"relay_cpu_utilization\":%.3f,"
	       "\"generator_cpu_seconds\":%.3f,\"system_busy_cpu_seconds\":%.3f,"
	       "\"system_softirq_cpu_seconds\":%.3f,\"ksoftirqd_cpu_seconds\":%.3f,"
	       "\"transport\":\"%s\",\"limited_by\":\"%s\",\"records_sent\":%" PRIu64
	       ",\"mixed_records\":%" PRIu64 ",\"generator\":\"%s\"",
	       m->kind == BENCH_RUT_TOR ? "tor" : "hsrelay", m->load, m->round, o->pairs, m->links,
	       o->cells,
	       o->window, m->offered, m->cells, m->cells == m->expected ? "true" : "false",
	       w->seconds, cells_per_s(m), w->rut_cpu, cells_per_cpu(m),
	       bench_rut_cpu_what(m->kind), m->p50_us, m->p99_us,
	       m->max_us, m->latency_samples, w->process_cpu,
	       w->seconds > 0 ? w->rut_cpu / w->seconds : 0, w->generator_cpu, w->system_busy,
	       w->system_softirq, w->ksoftirqd_cpu, m->transport, limited_by(m),
	       m->pump.records_sent, m->pump.mixed_records,
	       m->dpdk_generator ? "dpdk" : "kernel_sockets");
	if (m->kind == BENCH_RUT_HSRELAY) {
		uint64_t total = 0;

		printf(",\"workers\":%u,\"worker_threads\":%u,\"worker_thread_cpu_seconds\":%.3f,"
		       "\"worker_idle_poll_seconds\":%.3f,\"worker_busy_wall_seconds\":%.3f,"
		       "\"worker_runqueue_wait_seconds\":%.3f,\"worker_idle_sleep_usec\":%u,"
		       "\"cells_per_s_per_worker\":%.0f,\"spliced_by_worker\":[", m->workers,
		       w->worker_threads, w->worker_thread_cpu, w->worker_idle_poll,
		       w->worker_busy_wall, w->worker_runqueue_wait, m->idle_sleep_usec,
		       cells_per_s(m) / (w->worker_threads > 0 ? w->worker_threads : 1));
		for (unsigned i = 0; i < m->n_spliced; i++) {
			printf("%s%" PRIu64, i > 0 ? "," : "", m->spliced_by_worker[i]);
			total += m->spliced_by_worker[i];
		}
		printf("],\"relay_spliced_total\":%" PRIu64 ",\"cross_worker_cells\":%" PRIu64, total,
		       m->cross_splice_cells);
		if (m->dpdk_generator)
			printf(",\"generator_busy_seconds\":%.3f", w->generator_busy);
		if (one_worker != NULL && cells_per_s(one_worker) > 0)
			printf(",\"scaling_vs_1_worker\":%.3f", cells_per_s(m) / cells_per_s(one_worker));
	}
	if (reference != NULL && cells_per_cpu(reference) > 0)
		printf(",\"ratio_vs_reference\":%.3f", cells_per_cpu(m) / cells_per_cpu(reference));
	bench_print_line_end(m->round_trip_ns[0], m->round_trip_ns[1], w->load_average);
}

/* INTRODUCE2 per CPU-second of the whole process: hsrelay handles
 * CREATE2 and INTRODUCE1 on its control thread, not on the workers. */
static double
intro_per_cpu(const struct rend_result *m)
{
	return m->w.process_cpu > 0 ? (double)m->introduced / m->w.process_cpu : 0;
}

/* The intro phase's line: INTRODUCE2 relayed per second and per
 * CPU-second of the RUT's process, each on a fresh ntor circuit. */
static void
print_intro_line(const struct rend_result *m, const struct rend_result *reference)
{
	const struct bench_cpu_window *w = &m->w;

	printf("{\"bench\":\"introduce\",\"impl\":\"%s\",\"introductions\":%" PRIu64
	       ",\"introduce_acks\":%" PRIu64 ",\"batch\":%u,\"circuit_handshake\":\"ntor\","
	       "\"seconds\":%.3f,\"introduce2_per_s\":%.0f,\"cpu_seconds\":%.3f,"
	       "\"introduce2_per_cpu_second\":%.0f,\"cpu_what\":\"process\","
	       "\"generator_cpu_seconds\":%.3f,\"system_busy_cpu_seconds\":%.3f,"
	       "\"transport\":\"%s\"",
	       m->kind == BENCH_RUT_TOR ? "tor" : "hsrelay", m->introduced, m->intro_acks,
	       INTRO_BATCH, w->seconds, cells_per_s(m), w->process_cpu, intro_per_cpu(m),
	       w->generator_cpu, w->system_busy, m->transport);
	if (m->kind == BENCH_RUT_HSRELAY)
		printf(",\"workers\":%u,\"worker_cpu_seconds\":%.3f", m->workers, w->rut_cpu);
	if (reference != NULL && intro_per_cpu(reference) > 0)
		printf(",\"ratio_vs_reference\":%.3f", intro_per_cpu(m) / intro_per_cpu(reference));
	bench_print_line_end(m->round_trip_ns[0], m->round_trip_ns[1], w->load_average);
}

static double
fetches_per_cpu(const struct rend_result *m)
{
	return m->w.process_cpu > 0 ? (double)m->fetched / m->w.process_cpu : 0;
}

/* The HSDir phase's line: descriptor fetches per second and per
 * CPU-second of the RUT's process (hsrelay serves directory streams on its
 * control thread). */
static void
print_hsdir_line(const struct rend_result *m, const struct rend_result *reference)
{
	const struct bench_cpu_window *w = &m->w;

	printf("{\"bench\":\"hsdir\",\"impl\":\"%s\",\"fetches\":%" PRIu64
	       ",\"descriptor_bytes\":%zu,\"parallel_streams\":%u,\"seconds\":%.3f,"
	       "\"fetches_per_s\":%.0f,\"cpu_seconds\":%.3f,\"fetches_per_cpu_second\":%.0f,"
	       "\"cpu_what\":\"process\",\"response_bytes\":%" PRIu64 ",\"data_cells\":%" PRIu64
	       ",\"circuit_sendmes\":%" PRIu64 ",\"generator_cpu_seconds\":%.3f,"
	       "\"system_busy_cpu_seconds\":%.3f,\"transport\":\"%s\"",
	       m->kind == BENCH_RUT_TOR ? "tor" : "hsrelay", m->fetched, m->descriptor_bytes,
	       HSDIR_PARALLEL, w->seconds, w->seconds > 0 ? (double)m->fetched / w->seconds : 0,
	       w->process_cpu, fetches_per_cpu(m), m->dir.bytes, m->dir.data_cells,
	       m->dir.circuit_sendmes, w->generator_cpu, w->system_busy, m->transport);
	if (reference != NULL && fetches_per_cpu(reference) > 0)
		printf(",\"ratio_vs_reference\":%.3f", fetches_per_cpu(m) / fetches_per_cpu(reference));
	bench_print_line_end(m->round_trip_ns[0], m->round_trip_ns[1], w->load_average);
}

/* ---- options ---------------------------------------------------------- */

static void
usage(FILE *to)
{
	fprintf(to, "usage: hsrelay-bench rendezvous [--quick] [--pairs N] [--cells N] [--links L]\n"
		    "                                [--window CELLS] [--burst CELLS] [--rate CELLS/S]\n"
		    "                                [--workers N[,N]] [--no-max] [--introductions N]\n"
		    "                                [--fetches N] [--rounds N]\n"
		    "                                [--tor-only | --hsrelay-only] [--tor PATH]\n"
		    "                                [--hsrelay PATH] [--idle-sleep-usec U]\n"
		    "                                [--transport af_packet|tap|memif|memif-direct]\n"
		    "                                [--verbose]\n"
		    "  needs root: creates a network namespace; runs tor and hsrelay in it\n"
		    "  --rounds: alternate tor and hsrelay at tor's rate N times (1..20),\n"
		    "            then a ratio_summary line with the median\n");
}

/* A whole number in [min, max] from optarg, or -1. */
static long
number(const char *text, long min, long max)
{
	char *end;
	long v = strtol(text, &end, 10);

	return end != text && *end == '\0' && v >= min && v <= max ? v : -1;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option long_options[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "pairs", required_argument, NULL, 'p' },
		{ "cells", required_argument, NULL, 'c' },
		{ "links", required_argument, NULL, 'l' },
		{ "window", required_argument, NULL, 'w' },
		{ "burst", required_argument, NULL, 'b' },
		{ "rate", required_argument, NULL, 'R' },
		{ "workers", required_argument, NULL, 'W' },
		{ "introductions", required_argument, NULL, 'I' },
		{ "fetches", required_argument, NULL, 'F' },
		{ "rounds", required_argument, NULL, 'N' },
		{ "no-max", no_argument, NULL, 'n' },
		{ "tor-only", no_argument, NULL, 'T' },
		{ "hsrelay-only", no_argument, NULL, 'H' },
		BENCH_RUT_LONG_OPTIONS,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool pairs_set = false, cells_set = false, links_set = false, intro_set = false;
	bool fetches_set = false;
	int opt;
	long v = 0;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'q':
			o->quick = true;
			break;
		case 'p':
			v = number(optarg, 1, MAX_PAIRS);
			o->pairs = (unsigned)v;
			pairs_set = true;
			break;
		case 'c':
			v = number(optarg, 1, 10000000);
			o->cells = (uint32_t)v;
			cells_set = true;
			break;
		case 'l':
			v = number(optarg, 1, MAX_LINKS);
			o->links = (unsigned)v;
			links_set = true;
			break;
		case 'w':
			v = number(optarg, 1, 100000);
			o->window = (unsigned)v;
			break;
		case 'b':
			v = number(optarg, 1, 1000);
			o->burst = (unsigned)v;
			break;
		case 'R':
			o->rate = strtod(optarg, NULL);
			v = o->rate > 0 ? 0 : -1;
			break;
		case 'W':
			v = bench_parse_list(optarg, BENCH_MAX_WORKERS, o->workers, MAX_WORKER_CASES);
			o->n_workers = v > 0 ? (unsigned)v : 0;
			break;
		case 'I':
			v = number(optarg, 0, 10000000);
			o->introductions = (uint32_t)v;
			intro_set = true;
			break;
		case 'N':
			if (bench_parse_rounds(optarg, &o->rounds) < 0)
				return -EINVAL;
			break;
		case 'F':
			v = number(optarg, 0, 60000);
			o->fetches = (uint32_t)v;
			fetches_set = true;
			break;
		case 'n':
			o->skip_max = true;
			break;
		case 'T':
			o->skip_hsrelay = true;
			break;
		case 'H':
			o->skip_tor = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			v = bench_rut_option(opt, optarg, &o->rut, o->hsrelay_path,
					sizeof(o->hsrelay_path));
			if (v == 0)
				return -EINVAL;
			break;
		}
		if (v < 0)
			return -EINVAL;
	}
	if (optind != argc)
		return -EINVAL;
	if (o->quick) {
		o->pairs = pairs_set ? o->pairs : 2;
		o->cells = cells_set ? o->cells : 2000;
		o->introductions = intro_set ? o->introductions : 256;
		o->fetches = fetches_set ? o->fetches : 256;
		o->skip_max = true;
	}
	if (!links_set)
		o->links = 2 * o->pairs < 4 ? 2 * o->pairs : 4;
	if (o->links > 2 * o->pairs)
		o->links = 2 * o->pairs;
	/* The DPDK generator's limits (bench_ugen.h). */
	if (o->rut.transport == BENCH_TRANSPORT_MEMIF_DIRECT &&
	    (o->pairs > BENCH_UGEN_MAX_PAIRS || o->links > BENCH_UGEN_MAX_LINKS)) {
		fprintf(stderr, "hsrelay-bench rendezvous: memif-direct: at most %u pairs and %u "
				"links\n", BENCH_UGEN_MAX_PAIRS, BENCH_UGEN_MAX_LINKS);
		return -EINVAL;
	}
	return 0;
}

int
bench_rend_main(int argc, char **argv)
{
	struct options o = {
		.pairs = 8,
		.cells = 20000,
		.window = 100,
		.burst = 16,
		.n_workers = 1,
		.workers = { 1 },
		.introductions = 2048,
		.fetches = 2048,
		.rounds = 1,
		.rut = {
			.bench = "rendezvous",
			.tor_path = "/usr/bin/tor",
			.transport = BENCH_TRANSPORT_AF_PACKET,
			.workers = 1,
			.idle_sleep_usec = BENCH_IDLE_SLEEP_AUTO,
			/* Explicit, though 0 is also the consensus default that
			 * tor falls back to (dos.c); protocol warnings show in
			 * its notice log (--verbose on a failure). */
			.tor_extra = "DoSRefuseSingleHopClientRendezvous 0\nProtocolWarnings 1\n",
		},
	};
	struct rend_result tor, matched, max[MAX_WORKER_CASES], tor_intro, hs_intro;
	struct rend_result tor_dir, hs_dir;
	const struct rend_result *one_worker = NULL;
	double ratios[BENCH_MAX_ROUNDS];
	unsigned n_ratios = 0;
	bool have_tor = false;
	int status = 0, rc;

	bench_default_hsrelay_path(o.hsrelay_path, sizeof(o.hsrelay_path));
	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	o.rut.hsrelay_path = o.hsrelay_path;
	rc = bench_rut_check(&o.rut, !o.skip_tor, !o.skip_hsrelay);
	if (rc != 0)
		return rc;
	bench_catch_signals();
	signal(SIGPIPE, SIG_IGN);
	test_client_quiet = true;
	atexit(cleanup_at_exit);
	rc = bench_environment_setup(&env, "rendezvous", BENCH_NS_ADDR);
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench rendezvous: set-up failed: %s\n", strerror(-rc));
		return 1;
	}
	/* Each round: tor unpaced, then hsrelay at tor's measured rate (the
	 * same offered load). */
	for (unsigned round = 1; round <= o.rounds && !bench_interrupted; round++) {
		if (!o.skip_tor) {
			rc = run_case(&o, BENCH_RUT_TOR, 1, o.rate, o.rate > 0 ? "paced" : "max",
					PHASE_SPLICE, &tor);
			if (rc < 0)
				goto failed;
			tor.round = round;
			print_line(&o, &tor, NULL, NULL);
			have_tor = true;
		}
		if (!o.skip_hsrelay && have_tor && o.rate == 0) {
			rc = run_case(&o, BENCH_RUT_HSRELAY, o.workers[0], cells_per_s(&tor),
					"matched", PHASE_SPLICE, &matched);
			if (rc < 0)
				goto failed;
			matched.round = round;
			print_line(&o, &matched, &tor, NULL);
			if (cells_per_cpu(&tor) > 0)
				ratios[n_ratios++] = cells_per_cpu(&matched) / cells_per_cpu(&tor);
		}
	}
	if (o.rounds > 1 && n_ratios > 0)
		bench_print_ratio_summary("rendezvous", "matched", "circuit_pairs", o.pairs, ratios, n_ratios);
	for (unsigned i = 0; !o.skip_hsrelay && i < o.n_workers && !bench_interrupted; i++) {
		if (o.skip_max && have_tor && o.rate == 0)
			break;
		rc = run_case(&o, BENCH_RUT_HSRELAY, o.workers[i], o.rate, o.rate > 0 ? "paced" : "max",
				PHASE_SPLICE, &max[i]);
		if (rc < 0)
			goto failed;
		max[i].round = o.rounds;
		print_line(&o, &max[i], have_tor ? &tor : NULL,
				o.workers[i] > 1 ? one_worker : NULL);
		if (o.workers[i] == 1)
			one_worker = &max[i];
	}
	have_tor = false;
	if (o.introductions > 0 && !o.skip_tor && !bench_interrupted) {
		rc = run_case(&o, BENCH_RUT_TOR, 1, 0, "max", PHASE_INTRO, &tor_intro);
		if (rc < 0)
			goto failed;
		print_intro_line(&tor_intro, NULL);
		have_tor = true;
	}
	if (o.introductions > 0 && !o.skip_hsrelay && !bench_interrupted) {
		rc = run_case(&o, BENCH_RUT_HSRELAY, o.workers[0], 0, "max", PHASE_INTRO,
				&hs_intro);
		if (rc < 0)
			goto failed;
		print_intro_line(&hs_intro, have_tor ? &tor_intro : NULL);
	}
	have_tor = false;
	if (o.fetches > 0 && !o.skip_tor && !bench_interrupted) {
		rc = run_case(&o, BENCH_RUT_TOR, 1, 0, "max", PHASE_HSDIR, &tor_dir);
		if (rc < 0)
			goto failed;
		print_hsdir_line(&tor_dir, NULL);
		have_tor = true;
	}
	if (o.fetches > 0 && !o.skip_hsrelay && !bench_interrupted) {
		rc = run_case(&o, BENCH_RUT_HSRELAY, o.workers[0], 0, "max", PHASE_HSDIR, &hs_dir);
		if (rc < 0)
			goto failed;
		print_hsdir_line(&hs_dir, have_tor ? &tor_dir : NULL);
	}
	if (bench_interrupted)
		status = 1;
	bench_environment_cleanup(&env);
	return status;
failed:
	fprintf(stderr, "hsrelay-bench rendezvous: failed: %s\n", strerror(-rc));
	bench_environment_cleanup(&env);
	return 1;
}
