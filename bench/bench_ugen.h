/* The user-space generator of hsrelay-bench relay and rendezvous
 * --transport memif-direct:
 * one DPDK process (hsrelay-bench ugen, re-executed from this binary) that
 * speaks to hsrelay over net_memif directly, with no bridge and no kernel
 * in between, on the project's own dataplane:
 *
 *   [ugen: net_memif server | stack + TCP | TLS records | clients, sink]
 *        == memif rings == [hsrelay: net_memif client]
 *
 * Everything runs on the process's one lcore, in the worker poll loop of
 * dataplane/worker.h with the stack of dataplane/stack.h:
 *   clients  L TCP connections to hsrelay's ORPort (tcp_connect()); the TLS
 *            handshake as a client with control/tls_handshake.h (OpenSSL on
 *            memory buffers, as hsrelay's control thread runs it when it
 *            opens a link for EXTEND2) and the record keys handed over to
 *            crypto/tls_record.h; the link handshake as an unauthenticated
 *            initiator (control/link_handshake.h); then N circuits, one at
 *            a time: CREATE2 (ntor) to hsrelay and EXTEND2 to the sink;
 *   sink     a listener on the generator's own address: hsrelay's link to
 *            it (TLS server with the sink's relay keys, link responder: the
 *            relay under test must authenticate), CREATE2 answered
 *            (control/circuit_handshake.h), relay cells counted per
 *            circuit, one in BENCH_UGEN_SAMPLE_EVERY decrypted with the
 *            sink's layer and checked;
 *   pump     per poll, for every client link with send space: records of
 *            31 RELAY cells, round-robin over the link's circuits, each
 *            circuit kept below the window (cells sent and not yet counted
 *            by the sink), paced by a token bucket when a rate is given.
 * Per cell the pump copies a pre-built payload and applies hsrelay's layer
 * (relay_crypt_burst() over the whole burst); records are built in place in
 * one mbuf each, sealed in one tls_record_seal_burst() for all links and
 * handed to TCP without a copy. The sink's own (end-to-end) layer is
 * applied only to the sampled cells: cell k of a circuit with k a multiple
 * of BENCH_UGEN_SAMPLE_EVERY is a DROP cell carrying the circuit's number
 * and k, encrypted at keystream position k; every other cell carries a
 * fixed pre-built body whose "recognized" field is not zero, so hsrelay
 * forwards it exactly as it forwards any cell not addressed to it. The
 * sink counts cells in arrival order per circuit and checks the sampled
 * ones at the position of their arrival index, so a lost, duplicated,
 * reordered or wrongly decrypted cell fails a check.
 *
 * In rendezvous mode (hsrelay-bench rendezvous) the same process, links
 * and record path carry the rendezvous bench's pairs instead (no sink, no
 * EXTEND2): per pair two one-hop ntor circuits, the client's (A, on link
 * i % L) and the service's (B, on the next link); ESTABLISH_RENDEZVOUS
 * with a random cookie on A, RENDEZVOUS_ESTABLISHED expected, RENDEZVOUS1
 * with the cookie and a 64-byte HANDSHAKE_INFO on B, RENDEZVOUS2 with
 * exactly those bytes on A (rend-spec-v3 4.1, 4.2), one pair at a time;
 * then, once the bench says go, `cells` DATA cells each way per pair
 * through the splice, built, sealed, opened and checked per cell by the
 * kernel-socket generator's own code (tests/interop/rend_pump.h: full
 * bodies under an end-to-end layer of the pair, the send time in the
 * body, each end keeping at most `window` of its cells in flight and
 * adding 1..`burst` of them per turn, a service end waiting for its
 * client's first cell). Cells of a link's ends share records of up to 31
 * cells. A lost, duplicated, reordered or damaged cell fails the run;
 * once every cell arrived the process says finished, then publishes the
 * latency percentiles (send time to cutting the cell from the records).
 *
 * The bench and the process share one file-backed block (struct
 * bench_ugen_shared): the bench writes the parameters before the start and
 * the drain / halt / stop requests; the process publishes its state,
 * counters and any error. */
#ifndef HSRELAY_BENCH_BENCH_UGEN_H
#define HSRELAY_BENCH_BENCH_UGEN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/bench_util.h"

#define BENCH_UGEN_MAX_CIRCUITS 64
#define BENCH_UGEN_MAX_LINKS 16
#define BENCH_UGEN_SAMPLE_EVERY 64
#define BENCH_UGEN_MAX_PAIRS (BENCH_UGEN_MAX_CIRCUITS / 2)

enum bench_ugen_mode {
	BENCH_UGEN_RELAY,	/* hsrelay-bench relay: circuits to the sink */
	BENCH_UGEN_RENDEZVOUS,	/* hsrelay-bench rendezvous: pairs joined at the RUT */
};

/* What the process is doing (bench_ugen_shared.state). */
enum bench_ugen_state {
	BENCH_UGEN_STARTING,
	BENCH_UGEN_LISTENING,	/* memif server up: hsrelay may start */
	BENCH_UGEN_LINKED,	/* memif connected: links being opened */
	BENCH_UGEN_PUMPING,	/* every circuit built: cells flowing (rendezvous:
				 * every pair joined, cells flow once told to go) */
	BENCH_UGEN_HALTED,	/* the memif is no longer polled */
	BENCH_UGEN_EXITED,	/* EAL torn down, final counters written */
};

struct bench_ugen_params {
	enum bench_ugen_mode mode;
	unsigned circuits;		/* relay: 1 .. BENCH_UGEN_MAX_CIRCUITS */
	unsigned pairs;			/* rendezvous: 1 .. BENCH_UGEN_MAX_PAIRS */
	uint32_t cells;			/* rendezvous: data cells each end sends */
	unsigned burst;			/* rendezvous: most cells an end adds per turn */
	unsigned links;			/* 1 .. BENCH_UGEN_MAX_LINKS, <= circuits */
	unsigned window;		/* cells in flight per circuit (end) */
	double rate;			/* cells/s in all; 0: unpaced */
	uint32_t rut_ip;		/* hsrelay's Address, host order */
	uint16_t rut_port;		/* its ORPort */
	uint8_t rut_rsa_id[20];		/* its identities and ntor onion key */
	uint8_t rut_ed_id[32];
	uint8_t rut_ntor[32];
	uint32_t ip;			/* the generator's address (clients, sink) */
	uint8_t prefix_len;
	uint8_t mac[6];
	uint16_t sink_port;
	unsigned idle_sleep_usec;	/* back-off when idle (before the pump) */
	bool verbose;			/* stack counters on stderr at exit */
	char sink_dir[PATH_MAX];	/* the sink's DataDirectory */
	char socket_path[PATH_MAX];	/* memif control socket (we serve it) */
	char cpus[32];			/* CPU list for the lcore */
	char prefix[32];		/* EAL --file-prefix */
};

/* The block the bench and the process share (MAP_SHARED file). Each part
 * is written by one side only, with atomics. */
struct bench_ugen_shared {
	struct bench_ugen_params params;	/* bench, before the start */
	struct {
		uint32_t state;			/* enum bench_ugen_state */
		int32_t error;			/* negative errno once failed */
		char message[256];		/* why (written before error) */
		uint64_t sent;			/* cells sent on all circuits */
		uint64_t received;		/* cells the sink counted */
		uint64_t verified, verify_failures;
		uint64_t backward_cells;	/* relay cells to the clients */
		uint64_t busy_ns, poll_ns;	/* the loop: busy and all iterations */
		uint32_t sink_links;
		uint32_t sink_authenticated;	/* every sink link's peer did */
		uint16_t tls_version, cipher_suite;	/* of the first client link */
		uint32_t drained;		/* the pump stopped; sent is final */
		/* rendezvous: data cells sent and received are sent and
		 * received above */
		uint64_t records_sent, mixed_records;	/* mixed: cells of several circuits */
		uint64_t latency_samples;
		uint32_t latency_p50_ns, latency_p99_ns, latency_max_ns;
		uint32_t finished;		/* every data cell arrived, checked */
		uint32_t latency_ready;		/* the latency fields are final */
	} __attribute__((aligned(64))) ugen;
	struct {
		uint32_t go;		/* rendezvous: start the data cells */
		uint32_t drain;		/* stop sending, keep counting */
		uint32_t halt;		/* stop polling the memif */
		uint32_t stop;		/* tear down and exit */
	} __attribute__((aligned(64))) bench;
};

/* The process as the bench sees it. */
struct bench_ugen {
	pid_t pid;
	struct bench_ugen_shared *shared;
	char shared_path[PATH_MAX];
	char log[PATH_MAX];
	char prefix[32];
	char socket_path[PATH_MAX];
};

/* Makes the shared block in the directory work with params (socket_path,
 * sink_dir and prefix are filled here), starts the process with its lcore
 * on the CPUs in params->cpus and waits until its memif server is up.
 * Returns 0, or a negative errno after printing the process's log;
 * whatever was started is stopped. */
int bench_ugen_start(struct bench_ugen *ugen, const char *work,
		const struct bench_ugen_params *params);

/* Waits up to timeout_ns for state to reach at least want. Returns 0,
 * -ETIMEDOUT, -ECHILD (the process is gone) or the process's own error. */
int bench_ugen_wait_state(struct bench_ugen *ugen, enum bench_ugen_state want,
		uint64_t timeout_ns);

/* Cells the sink counted so far, and cells the clients sent. */
uint64_t bench_ugen_received(const struct bench_ugen *ugen);
uint64_t bench_ugen_sent(const struct bench_ugen *ugen);

/* The process's error (negative errno, 0 while none) and its message. */
int bench_ugen_error(const struct bench_ugen *ugen, const char **message);

/* Busy and total loop time of the process so far (seconds). */
void bench_ugen_loop_seconds(const struct bench_ugen *ugen, double *busy, double *poll);

/* Stops sending; waits up to timeout_ns for the sink to have every cell
 * sent. Sets *sent and *lost. Returns 0 or the process's error. */
int bench_ugen_drain(struct bench_ugen *ugen, uint64_t timeout_ns, uint64_t *sent,
		uint64_t *lost);

/* Rendezvous: starts the data cells (the process is PUMPING). */
void bench_ugen_go(struct bench_ugen *ugen);

/* Rendezvous: waits until every data cell arrived. Returns 0, the
 * process's error, -ECHILD (gone), -EINTR (bench_interrupted) or
 * -ETIMEDOUT once no cell arrived for stall_ns. */
int bench_ugen_wait_finished(struct bench_ugen *ugen, uint64_t stall_ns);

/* Rendezvous, once finished: waits up to timeout_ns for the latency
 * percentiles (ns) into *out. Returns 0, -ETIMEDOUT or the process's
 * error. */
int bench_ugen_latency(struct bench_ugen *ugen, uint64_t timeout_ns, struct bench_latency *out);

/* Makes the process stop polling the memif and waits until it has (the
 * memif peer may then go away). Returns 0, -ETIMEDOUT or -ECHILD. */
int bench_ugen_halt(struct bench_ugen *ugen);

/* Tells the process to exit (after its peer has gone), waits, kills it
 * after a timeout, removes its EAL runtime directory, socket and block.
 * Returns 0 for a clean exit, -1 otherwise. Safe on a zeroed struct. */
int bench_ugen_stop(struct bench_ugen *ugen);

/* Prints the process's log to stderr, indented. */
void bench_ugen_print_log(const struct bench_ugen *ugen);

/* The process itself: argv is "ugen --shared PATH". Returns an exit code. */
int bench_ugen_main(int argc, char **argv);

#endif
