/* hsrelay-bench relay: relay cells per second forwarded by a relay under
 * test (RUT), and relay cells per CPU-second of the RUT, for hsrelay and
 * for tor 0.4.9 in the same run with the same generator.
 *
 * The generator is this process, built from the project's own code, in a
 * network namespace it creates:
 *   clients  open L links to the RUT (kernel TCP sockets; TLS client and
 *            link-handshake initiator of control/tls_handshake.h and
 *            control/link_handshake.h, not authenticating, as a tor
 *            client), create a circuit to the RUT with CREATE2 (ntor,
 *            crypto/ntor.h) and extend it with EXTEND2 (control/
 *            circ_cells.h, in RELAY_EARLY) to the sink; then push RELAY
 *            DROP cells, encrypted with the sink's layer then the RUT's
 *            (crypto/relay_crypto.h), in 31-cell TLS records sealed by
 *            crypto/tls_record.h, on N circuits spread over the links;
 *   the sink listens on a kernel socket, accepts the RUT's link (TLS
 *            server with its own relay keys, link-handshake responder; the
 *            RUT must authenticate), answers the CREATE2 the RUT forwards
 *            (control/circuit_handshake.h), counts the relay cells of
 *            every circuit, and decrypts one cell in SAMPLE_EVERY with its
 *            own layer: it must be a DROP cell with "recognized" zero
 *            carrying the client's circuit number, the cell's sequence
 *            number and the pattern. The sink's keystream position is the
 *            cell's index, so a lost, duplicated, reordered or wrongly
 *            decrypted cell fails the check.
 * Each client circuit keeps at most --window cells in flight (sent, not
 * yet counted by the sink; by default 1000 cells, tor's circuit window,
 * shared by all circuits of the case): the RUT gets as much as it accepts
 * without unbounded queues. With a rate the
 * clients also pace themselves to that many cells per second in all.
 *
 * The RUTs (bench/bench_rut.h): tor as a non-exit relay on the
 * namespace's loopback (TestingTorNetwork with a fake DirAuthority, so
 * that ExtendAllowPrivateAddresses lets it extend to the sink on
 * 10.79.0.1:9201), and hsrelay with one worker on net_af_packet over a
 * veth (default), net_tap, or net_memif to a bridge process that moves
 * frames between the memif and the veth end (bench_memif.h: no system
 * call and no kernel work in hsrelay's worker at all; the bridge's
 * sendto() carries the kernel work instead) (--transport). With
 * --transport memif-direct the generator of hsrelay's cases is not this
 * process but a DPDK process on hsrelay's own stack serving the memif
 * hsrelay connects to (bench_ugen.h: same clients, circuits, sink and
 * checks, no kernel in between); tor's cases keep the kernel sockets.
 * CPU: tor's
 * whole process; hsrelay's worker busy time, i.e. its thread's CPU time
 * (/proc/PID/task/TID/schedstat) times the busy share of its loop's TSC
 * time, which hsrelay prints on SIGUSR1 at both ends of the window (the
 * worker's whole thread CPU time and the whole process are reported as
 * well).
 * Both RUTs get their keys from control/relay_keys.h in a DataDirectory
 * made here (tor reads the same files); the ntor key is read back from
 * keys/secret_onion_key_ntor once the RUT runs.
 *
 * Measurement: after the circuits are built and a warm-up, a window of
 * --seconds: cells counted by the sink, CPU time of the RUT (utime + stime
 * from /proc), CPU time of the generator (getrusage), wall time, and the
 * machine's busy and softirq time (/proc/stat) with the ksoftirqd threads'
 * CPU time, so kernel work that left both processes (softirq deferred to
 * ksoftirqd) is visible. This kernel samples CPU time per tick without
 * IRQ time accounting: softirq work that runs while a task is current
 * (in its system calls or interrupting it) is in that task's figure. Per
 * circuits value the order is tor (unpaced), hsrelay paced to tor's
 * measured rate (same offered load: tor's cost per cell falls as load
 * rises), then hsrelay unpaced. Everything made here (namespace, RUT
 * processes, temporary directory) is removed on every exit path, SIGINT
 * and SIGTERM included; RUT processes also die with this one
 * (PR_SET_PDEATHSIG). */
#include "bench/bench_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_env.h"
#include "bench/bench_rut.h"
#include "bench/bench_ugen.h"
#include "bench/bench_util.h"
#include "control/circ_cells.h"
#include "control/circuit_handshake.h"
#include "control/link_cells.h"
#include "control/link_handshake.h"
#include "control/relay_keys.h"
#include "control/tls_handshake.h"
#include "crypto/engine.h"
#include "crypto/ntor.h"
#include "crypto/relay_crypto.h"
#include "crypto/rsa_identity.h"
#include "crypto/tls_record.h"
#include "crypto/tor_keys.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"

#define MAX_CIRCUITS 64
#define MAX_LINKS 16
#define MAX_SINK_LINKS 8
#define MAX_CASES 8

/* The sink listens on BENCH_NS_ADDR (bench_rut.h) with the clients. */
#define SINK_PORT 9201

#define WINDOW_DEFAULT 1000
/* The sink decrypts cells whose index is a multiple of this. */
#define SAMPLE_EVERY 64
#define RECORD_CELLS 31			/* 31 * 514 bytes fit a 16 KiB record */
#define RECORDS_PER_SEND 4
#define RAW_CAP (1u << 20)
#define PLAIN_CAP (2u << 20)
#define RECORD_WIRE_MAX (TLS_RECORD_HEADER_LEN + TLS_RECORD_EXPLICIT_NONCE_LEN + \
		TLS_RECORD_MAX_PLAINTEXT + TLS_RECORD_TAG_LEN + 1)
#define SETUP_TIMEOUT_S 20
#define DRAIN_TIMEOUT_NS (5ull * 1000000000)
/* Offsets of the client circuit number and the sequence number in the
 * data of a DROP cell. */
#define DROP_INDEX_OFFSET RELAY_HEADER_LEN
#define DROP_SEQ_OFFSET (RELAY_HEADER_LEN + 4)
#define DROP_PATTERN_OFFSET (RELAY_HEADER_LEN + 12)

#define GET(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define PUT(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* ---- options and results ---------------------------------------------- */

struct options {
	bool quick;
	double seconds;
	double warmup;
	unsigned n_cases;
	unsigned circuits[MAX_CASES];
	unsigned links;			/* 0: min(circuits, 4) */
	unsigned window;		/* per circuit; 0: WINDOW_DEFAULT / circuits */
	bool skip_tor, skip_hsrelay, skip_max;
	double rate;		/* --rate: hsrelay's offered load without tor; 0: none */
	unsigned rounds;	/* --rounds: tor / hsrelay (matched) pairs per case */
	bool verbose;
	struct bench_rut_options rut;	/* tor and hsrelay paths, transport */
	char hsrelay_path[PATH_MAX + 16];
};

struct measurement {
	unsigned circuits, links, window;
	double offered;			/* cells/s the clients paced to; 0: unpaced */
	double seconds;
	uint64_t cells;
	double cpu_seconds;		/* what cells_per_cpu_second divides by */
	double process_cpu_seconds;
	/* hsrelay: its workers' loop time in the window (bench_rut.h), and
	 * their threads' CPU time from /proc */
	double worker_busy_wall_seconds, worker_idle_poll_seconds, worker_thread_cpu_seconds;
	double worker_runqueue_wait_seconds;
	/* every cell the clients sent in the case, and how many of them the
	 * sink had not received once the clients stopped and a drain ended */
	uint64_t cells_sent_total, cells_lost;
	double generator_cpu_seconds;
	/* The machine's view over the window (/proc/stat, all CPUs): busy
	 * time, of which softirq (charged to whichever task was running, or
	 * to ksoftirqd), and the ksoftirqd threads' own time. */
	double system_busy_seconds;
	double system_softirq_seconds;
	double ksoftirqd_cpu_seconds;
	const char *transport;		/* how the generator reached the RUT */
	unsigned idle_sleep_usec;	/* hsrelay's DPDKIdleSleepUsec */
	unsigned worker_threads;
	uint64_t verified, verify_failures;
	uint64_t backward_cells;
	unsigned sink_links;
	bool sink_authenticated;
	uint16_t tls_version;
	uint16_t cipher_suite;
	double load_average;
	unsigned round;			/* --rounds: which (from 1) */
	double round_trip_ns[2];	/* bench_rut.h: before and after the case */
	uint64_t rut_forwarded;		/* hsrelay: its own counter, from the exit stats */
	bool have_rut_forwarded;
	/* hsrelay: cells in its forward latency histogram and their summed
	 * latency (hsrelay_cell_latency_seconds{kind="forward"}), exit stats */
	uint64_t rut_latency_cells;
	uint64_t rut_latency_sum_ns;
	/* memif-direct: the generator process's busy loop time (bench_ugen.h) */
	bool dpdk_generator;
	double generator_busy_seconds;
};

/* ---- small helpers ---------------------------------------------------- */

static int
send_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
set_timeout(int fd, unsigned seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static uint32_t
ipv4_of(const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	return ntohl(a.s_addr);
}

/* Runs argv (no shell), output to /dev/null; its exit status or -1. */
/* ---- TLS records on a kernel socket ----------------------------------- */

/* One link after the TLS handover: the record layer of crypto/tls_record.h
 * on a blocking socket. The read side belongs to one thread, the write
 * side to one thread (each with its own crypto engine). */
struct record_link {
	struct tls_record_dir read_dir;
	struct tls_record_dir write_dir;
	int fd;
	enum tls_record_version version;
	uint16_t protocol_version, cipher_suite;
	uint8_t *raw;		/* received bytes not yet opened */
	size_t raw_len;
	uint8_t *plain;		/* opened application data not yet consumed */
	size_t plain_off, plain_len;
};

static struct record_link *
record_link_new(int fd)
{
	struct record_link *l = aligned_alloc(64, (sizeof(*l) + 63) & ~(size_t)63);

	if (l == NULL)
		return NULL;
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->raw = malloc(RAW_CAP);
	l->plain = malloc(PLAIN_CAP);
	if (l->raw == NULL || l->plain == NULL) {
		free(l->raw);
		free(l->plain);
		free(l);
		return NULL;
	}
	return l;
}

static void
record_link_free(struct record_link *l)
{
	if (l == NULL)
		return;
	tls_record_dir_clear(&l->read_dir);
	tls_record_dir_clear(&l->write_dir);
	if (l->fd >= 0)
		close(l->fd);
	free(l->raw);
	free(l->plain);
	free(l);
}

/* Seals data into as many records as needed and sends them. */
static int
record_send(struct record_link *l, struct crypto_engine *engine, const uint8_t *data, size_t len)
{
	uint8_t rec[RECORD_WIRE_MAX];
	unsigned pre = tls_record_prefix_len(l->version), suf = tls_record_suffix_len(l->version);

	while (len > 0) {
		size_t n = len < TLS_RECORD_MAX_PLAINTEXT ? len : TLS_RECORD_MAX_PLAINTEXT;
		struct crypto_iov iov = { .base = rec + pre, .len = (uint32_t)n };
		struct tls_record_seal seal = {
			.dir = &l->write_dir, .prefix = rec, .segments = &iov, .nb_segments = 1,
			.content_type = TLS_CONTENT_APPLICATION_DATA, .suffix = rec + pre + n,
		};
		int rc;

		memcpy(rec + pre, data, n);
		if (tls_record_seal_burst(engine, &seal, 1) != 1)
			return seal.status < 0 ? seal.status : -EIO;
		rc = send_all(l->fd, rec, pre + n + suf);
		if (rc < 0)
			return rc;
		data += n;
		len -= n;
	}
	return 0;
}

/* Opens every complete record received so far (in bursts of up to 32) and
 * appends the application data to plain. Handshake records (a TLS 1.3
 * server's tickets) are dropped; an alert ends the link. */
static int
record_open_available(struct record_link *l, struct crypto_engine *engine)
{
	size_t off = 0;

	for (;;) {
		struct tls_record_open recs[32];
		struct crypto_iov iovs[32];
		unsigned n = 0;

		while (n < 32 && l->raw_len - off >= TLS_RECORD_HEADER_LEN) {
			const uint8_t *h = l->raw + off;
			size_t len = wire_read_u16(h + 3);

			if (len > TLS_RECORD_MAX_PLAINTEXT + 256)
				return -EMSGSIZE;
			if (l->raw_len - off < TLS_RECORD_HEADER_LEN + len)
				break;
			iovs[n] = (struct crypto_iov){ .base = l->raw + off + TLS_RECORD_HEADER_LEN,
				.len = (uint32_t)len };
			recs[n] = (struct tls_record_open){ .dir = &l->read_dir, .header = h,
				.segments = &iovs[n], .nb_segments = 1 };
			n++;
			off += TLS_RECORD_HEADER_LEN + len;
		}
		if (n == 0)
			break;
		tls_record_open_burst(engine, recs, n);
		for (unsigned i = 0; i < n; i++) {
			if (recs[i].status < 0)
				return recs[i].status;
			if (recs[i].content_type == TLS_CONTENT_HANDSHAKE)
				continue;
			if (recs[i].content_type == TLS_CONTENT_ALERT)
				return -ECONNRESET;
			if (recs[i].content_type != TLS_CONTENT_APPLICATION_DATA)
				return -EPROTO;
			if (l->plain_off + l->plain_len + recs[i].plaintext_len > PLAIN_CAP) {
				memmove(l->plain, l->plain + l->plain_off, l->plain_len);
				l->plain_off = 0;
				if (l->plain_len + recs[i].plaintext_len > PLAIN_CAP)
					return -EMSGSIZE;
			}
			memcpy(l->plain + l->plain_off + l->plain_len,
					iovs[i].base + recs[i].plaintext_offset, recs[i].plaintext_len);
			l->plain_len += recs[i].plaintext_len;
		}
	}
	memmove(l->raw, l->raw + off, l->raw_len - off);
	l->raw_len -= off;
	return 0;
}

/* One recv() and the records it completed. */
static int
record_recv(struct record_link *l, struct crypto_engine *engine)
{
	ssize_t n;

	if (l->raw_len == RAW_CAP)
		return -EMSGSIZE;
	do {
		n = recv(l->fd, l->raw + l->raw_len, RAW_CAP - l->raw_len, 0);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	l->raw_len += (size_t)n;
	return record_open_available(l, engine);
}

static void
plain_consume(struct record_link *l, size_t n)
{
	l->plain_off += n;
	l->plain_len -= n;
	if (l->plain_len == 0)
		l->plain_off = 0;
}

/* The next cell (4-byte circuit ids); its payload points into l->plain
 * and stays valid until the next call on l. */
static int
record_next_cell(struct record_link *l, struct crypto_engine *engine, struct cell_frame *frame)
{
	for (;;) {
		const uint8_t *start = l->plain + l->plain_off, *p = start;
		int rc = cell_frame_parse(&p, start + l->plain_len, CELL_CIRC_ID_LEN, frame, NULL);

		if (rc == 0) {
			plain_consume(l, (size_t)(p - start));
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
		rc = record_recv(l, engine);
		if (rc < 0)
			return rc;
	}
}

/* The TLS handshake in role ctx on l's socket, then the key handover.
 * *session stays alive for the link handshake's exporter. */
static int
tls_run(struct record_link *l, struct tls_handshake_context *ctx, struct crypto_engine *engine,
		struct tls_session **session, char *why, size_t why_len)
{
	uint8_t buf[16384];
	struct tls_handover h;
	struct tls_session *s;
	int rc, step;

	rc = tls_session_create(ctx, &s);
	if (rc < 0)
		return rc;
	step = tls_session_step(s);
	for (;;) {
		size_t n;

		while ((n = tls_session_drain_output(s, buf, sizeof(buf))) > 0) {
			rc = send_all(l->fd, buf, n);
			if (rc < 0)
				goto fail;
		}
		if (step < 0) {
			snprintf(why, why_len, "TLS: %s", tls_session_error(s));
			rc = step;
			goto fail;
		}
		if (step == TLS_SESSION_DONE)
			break;
		ssize_t got = recv(l->fd, buf, sizeof(buf), 0);

		if (got <= 0) {
			rc = got == 0 ? -ECONNRESET : errno == EAGAIN ? -ETIMEDOUT : -errno;
			snprintf(why, why_len, "TLS handshake: %s", strerror(-rc));
			goto fail;
		}
		rc = tls_session_feed(s, buf, (size_t)got);
		step = rc < 0 ? rc : tls_session_step(s);
	}
	rc = tls_session_handover(s, &h);
	if (rc == 0) {
		l->version = h.version;
		l->protocol_version = h.protocol_version;
		l->cipher_suite = h.cipher_suite;
		rc = tls_handover_install(engine, &h, &l->read_dir, &l->write_dir);
		if (rc == 0 && h.leftover_len > 0) {
			memcpy(l->raw, h.leftover, h.leftover_len);
			l->raw_len = h.leftover_len;
		}
		tls_handover_wipe(&h);
		/* The peer's first records may have come with its Finished
		 * (hsrelay sends VERSIONS in the same segment). */
		if (rc == 0)
			rc = record_open_available(l, engine);
	}
	if (rc < 0) {
		snprintf(why, why_len, "TLS handover failed (%d)", rc);
		goto fail;
	}
	*session = s;
	return 0;
fail:
	tls_session_free(s);
	return rc;
}

static int
export_auth(void *arg, const uint8_t cid[LINK_SHA256_LEN], uint8_t out[LINK_SHA256_LEN])
{
	return tls_session_export_auth0003(arg, cid, out);
}

/* Runs the link handshake hs over l until it is open. */
static int
link_run(struct record_link *l, struct crypto_engine *engine, struct link_handshake *hs,
		char *why, size_t why_len)
{
	for (;;) {
		const uint8_t *data, *start, *p;
		size_t n = link_handshake_output(hs, &data);
		int rc;

		if (n > 0) {
			rc = record_send(l, engine, data, n);
			if (rc < 0) {
				snprintf(why, why_len, "link handshake: send: %s", strerror(-rc));
				return rc;
			}
			link_handshake_output_consumed(hs, n);
		}
		if (link_handshake_state(hs) == LINK_HANDSHAKE_OPEN)
			return 0;
		if (link_handshake_state(hs) == LINK_HANDSHAKE_FAILED) {
			snprintf(why, why_len, "link handshake: %s", link_handshake_reason(hs));
			return link_handshake_error(hs);
		}
		start = p = l->plain + l->plain_off;
		rc = link_handshake_receive(hs, &p, start + l->plain_len, time(NULL), NULL);
		plain_consume(l, (size_t)(p - start));
		if (rc == -EAGAIN) {
			rc = record_recv(l, engine);
			if (rc < 0) {
				snprintf(why, why_len, "link handshake: %s", strerror(-rc));
				return rc;
			}
		} else if (rc < 0 && link_handshake_state(hs) != LINK_HANDSHAKE_FAILED) {
			snprintf(why, why_len, "link handshake: error %d", rc);
			return rc;
		}
	}
}

/* ---- the generator ---------------------------------------------------- */

/* A circuit as the sink sees it, shared with the client that built it
 * (matched by the client's ntor public key X of the sink's onion skin). */
struct circuit_slot {
	struct relay_cipher sink_forward;	/* the sink's layer (sink thread) */
	uint8_t client_key[NTOR_KEY_LEN];
	uint64_t received;			/* written by the sink thread */
	uint32_t client_index;			/* written by the client before any cell */
	bool claimed;
};

struct generator;

struct client_circuit {
	struct relay_cipher rut_forward;
	struct relay_cipher sink_forward;
	struct relay_cipher rut_backward;
	struct relay_digest rut_forward_digest, rut_backward_digest;
	struct circuit_slot *slot;
	uint32_t circ_id;
	uint32_t index;
	uint64_t sent;
};

struct client_link {
	struct generator *g;
	struct record_link *rl;
	struct tls_session *tls;
	struct link_handshake *hs;
	struct client_circuit *circuits[MAX_CIRCUITS];
	unsigned n_circuits;
	double rate;				/* cells/s for this link; 0: unpaced */
	pthread_t writer, reader;
	bool writer_started, reader_started;
	uint64_t backward_cells;
};

struct sink_circuit {
	uint32_t circ_id;
	struct circuit_slot *slot;
};

struct sink_link {
	struct generator *g;
	struct record_link *rl;
	uint32_t peer_ip;
	pthread_t thread;
	bool started;
	bool authenticated;
	struct sink_circuit circuits[MAX_CIRCUITS];
	unsigned n_circuits;
	uint64_t verified, verify_failures;
};

struct generator {
	/* the sink's identity */
	struct relay_keys *sink_keys;
	struct tls_link_credentials *sink_tls;
	struct link_credentials *sink_link_credentials;
	struct tls_handshake_context *server_ctx, *client_ctx;
	struct circuit_handshake_keys sink_hs;
	uint32_t sink_ip;
	/* the RUT */
	struct bench_rut_keys rut;
	uint32_t rut_ip;
	uint16_t rut_port;
	/* run state */
	unsigned window;
	bool verbose;
	uint8_t drop_template[CELL_PAYLOAD_LEN];
	int listener;
	pthread_t acceptor;
	bool acceptor_started;
	pthread_mutex_t lock;
	struct circuit_slot *slots;		/* MAX_CIRCUITS, 64-byte aligned */
	unsigned n_slots;
	struct sink_link *sinks[MAX_SINK_LINKS];
	unsigned n_sinks;
	struct client_link clients[MAX_LINKS];
	unsigned n_clients;
	uint32_t stop;
	uint32_t drain;		/* writers stop; the rest runs on */
	uint32_t failed;
	char error[320];
	/* memif-direct: the case's generator is this process (bench_ugen.h)
	 * instead of the threads above, started with these */
	struct bench_ugen *ugen;
	unsigned ugen_circuits, ugen_links;
	double ugen_rate;
};

static void
gen_fail(struct generator *g, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g->lock);
	if (g->verbose) {
		fprintf(stderr, "hsrelay-bench relay: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (!g->failed && !GET(g->stop)) {
		va_start(ap, fmt);
		vsnprintf(g->error, sizeof(g->error), fmt, ap);
		va_end(ap);
		PUT(g->failed, 1);
	}
	pthread_mutex_unlock(&g->lock);
}

static bool
gen_running(struct generator *g)
{
	return !GET(g->stop) && !GET(g->failed) && !bench_interrupted;
}

/* The sink's keys and link credentials, made once per bench run in dir
 * (relay_keys creates them as tor would). */
static int
generator_init(struct generator *g, const char *dir)
{
	struct relay_keys_error kerr;
	struct link_credentials_params p;
	struct ntor_server_keys ntor;
	uint8_t crosscert[512];
	const uint8_t *link_der, *id_der, *signing_cert;
	size_t link_len, id_len, signing_len;
	ssize_t cross_len;
	time_t now = time(NULL);
	int rc;

	memset(g, 0, sizeof(*g));
	g->listener = -1;
	pthread_mutex_init(&g->lock, NULL);
	rc = relay_keys_load_or_create(dir, now, &g->sink_keys, &kerr);
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench relay: sink keys: %s: %s\n", kerr.path, kerr.message);
		return rc;
	}
	rc = tls_link_credentials_create(relay_keys_identity(g->sink_keys), 0, now, &g->sink_tls);
	if (rc == 0)
		rc = tls_handshake_context_create(TLS_ROLE_SERVER, g->sink_tls, &g->server_ctx);
	if (rc == 0)
		rc = tls_handshake_context_create(TLS_ROLE_CLIENT, NULL, &g->client_ctx);
	if (rc < 0)
		return rc;
	cross_len = rsa_ed25519_crosscert_create(relay_keys_master(g->sink_keys)->public_key,
			torcert_hours_from_time(now + 30 * 24 * 3600),
			relay_keys_identity(g->sink_keys), crosscert, sizeof(crosscert));
	if (cross_len < 0)
		return (int)cross_len;
	link_der = tls_link_credentials_link_cert(g->sink_tls, &link_len);
	id_der = tls_link_credentials_identity_cert(g->sink_tls, &id_len);
	signing_cert = relay_keys_signing_cert(g->sink_keys, &signing_len);
	memset(&p, 0, sizeof(p));
	p.rsa_identity = relay_keys_identity(g->sink_keys);
	p.ed25519_identity = relay_keys_master(g->sink_keys)->public_key;
	p.ed25519_signing = relay_keys_signing(g->sink_keys);
	p.signing_cert = signing_cert;
	p.signing_cert_len = signing_len;
	p.rsa_crosscert = crosscert;
	p.rsa_crosscert_len = (size_t)cross_len;
	p.identity_x509 = id_der;
	p.identity_x509_len = id_len;
	p.link_x509 = link_der;
	p.link_x509_len = link_len;
	rc = link_credentials_new(&p, now, &g->sink_link_credentials);
	if (rc < 0)
		return rc;
	relay_keys_ntor_server_keys(g->sink_keys, &ntor);
	memcpy(g->sink_hs.rsa_id, ntor.node_id, sizeof(g->sink_hs.rsa_id));
	memcpy(g->sink_hs.ed25519_id, relay_keys_master(g->sink_keys)->public_key,
			sizeof(g->sink_hs.ed25519_id));
	memcpy(g->sink_hs.onion_keys, ntor.onion_keys, sizeof(ntor.onion_keys));
	g->sink_hs.onion_key_count = ntor.onion_key_count;
	g->sink_ip = ipv4_of(BENCH_NS_ADDR);
	g->slots = aligned_alloc(64, MAX_CIRCUITS * sizeof(*g->slots));
	if (g->slots == NULL)
		return -ENOMEM;

	/* DROP cell: command 10, recognized 0, stream 0, digest 0, a full
	 * RELAY_DATA_MAX of data; client number and sequence written per cell. */
	struct relay_cell drop = { .command = RELAY_COMMAND_DROP, .length = RELAY_DATA_MAX };
	uint8_t data[RELAY_DATA_MAX];

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	drop.data = data;
	if (relay_cell_encode(&drop, g->drop_template, sizeof(g->drop_template)) < 0)
		return -EINVAL;
	return 0;
}

static void
generator_free(struct generator *g)
{
	link_credentials_free(g->sink_link_credentials);
	tls_handshake_context_free(g->server_ctx);
	tls_handshake_context_free(g->client_ctx);
	tls_link_credentials_free(g->sink_tls);
	relay_keys_free(g->sink_keys);
	free(g->slots);
	pthread_mutex_destroy(&g->lock);
}

/* ---- the sink --------------------------------------------------------- */

static struct circuit_slot *
slot_register(struct generator *g, const uint8_t client_key[NTOR_KEY_LEN])
{
	struct circuit_slot *s = NULL;

	pthread_mutex_lock(&g->lock);
	if (g->n_slots < MAX_CIRCUITS) {
		struct circuit_slot fresh;

		memset(&fresh, 0, sizeof(fresh));
		memcpy(fresh.client_key, client_key, NTOR_KEY_LEN);
		g->slots[g->n_slots] = fresh;
		s = &g->slots[g->n_slots++];
	}
	pthread_mutex_unlock(&g->lock);
	return s;
}

static struct circuit_slot *
slot_claim(struct generator *g, const uint8_t client_key[NTOR_KEY_LEN], uint32_t index)
{
	struct circuit_slot *found = NULL;

	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->n_slots; i++)
		if (!g->slots[i].claimed && memcmp(g->slots[i].client_key, client_key, NTOR_KEY_LEN) == 0) {
			found = &g->slots[i];
			found->claimed = true;
			PUT(found->client_index, index);
			break;
		}
	pthread_mutex_unlock(&g->lock);
	return found;
}

static void
sink_answer_create(struct sink_link *s, struct crypto_engine *engine, const uint8_t *cell)
{
	struct generator *g = s->g;
	struct circuit_keys keys;
	struct circuit_handshake_result result;
	uint8_t reply[CELL_LEN];
	struct circuit_slot *slot;
	int rc;

	rc = circuit_handshake_server(&g->sink_hs, cell, &keys, reply, &result);
	if (rc < 0) {
		gen_fail(g, "sink: CREATE2 from the relay under test refused (%d)", rc);
		return;
	}
	if (s->n_circuits == MAX_CIRCUITS ||
	    wire_read_u16(cell + CELL_CIRC_ID_LEN + 1) != HANDSHAKE_TYPE_NTOR) {
		gen_fail(g, "sink: unexpected CREATE2");
		return;
	}
	/* HTYPE HLEN, then the ntor onion skin NODEID KEYID CLIENT_KP. */
	slot = slot_register(g, cell + CELL_CIRC_ID_LEN + 1 + 4 + NTOR_NODE_ID_LEN + NTOR_KEY_LEN);
	if (slot == NULL) {
		gen_fail(g, "sink: too many circuits");
		return;
	}
	relay_cipher_init(engine, &slot->sink_forward, keys.forward_key);
	s->circuits[s->n_circuits++] = (struct sink_circuit){ .circ_id = cell_wire_circ_id(cell),
		.slot = slot };
	memset(&keys, 0, sizeof(keys));
	rc = record_send(s->rl, engine, reply, sizeof(reply));
	if (rc < 0)
		gen_fail(g, "sink: sending CREATED2: %s", strerror(-rc));
}

/* Decrypts a copy of cell number k of slot with the sink's layer and
 * checks it is the DROP cell the client made. */
static bool
sink_verify(struct generator *g, struct crypto_engine *engine, struct circuit_slot *slot,
		const uint8_t *payload, uint64_t k)
{
	uint8_t copy[CELL_PAYLOAD_LEN];
	uint8_t *p = copy;
	struct relay_cipher *c = &slot->sink_forward;

	memcpy(copy, payload, sizeof(copy));
	relay_cipher_seek(c, k * CELL_PAYLOAD_LEN);
	relay_crypt_burst(engine, &c, &p, 1);
	return copy[RELAY_OFFSET_COMMAND] == RELAY_COMMAND_DROP &&
		wire_read_u16(copy + RELAY_OFFSET_RECOGNIZED) == 0 &&
		wire_read_u16(copy + RELAY_OFFSET_STREAM_ID) == 0 &&
		relay_payload_length(copy) == RELAY_DATA_MAX &&
		wire_read_u32(copy + DROP_INDEX_OFFSET) == GET(slot->client_index) &&
		wire_read_u32(copy + DROP_SEQ_OFFSET) == (uint32_t)(k >> 32) &&
		wire_read_u32(copy + DROP_SEQ_OFFSET + 4) == (uint32_t)k &&
		memcmp(copy + DROP_PATTERN_OFFSET, g->drop_template + DROP_PATTERN_OFFSET,
				CELL_PAYLOAD_LEN - DROP_PATTERN_OFFSET) == 0;
}

/* Handles every whole cell in the link's plaintext. */
static void
sink_cells(struct sink_link *s, struct crypto_engine *engine)
{
	struct record_link *l = s->rl;
	struct generator *g = s->g;
	unsigned last = 0;

	while (l->plain_len >= CELL_CIRC_ID_LEN + 1) {
		const uint8_t *cell = l->plain + l->plain_off;
		uint8_t command = cell[CELL_CIRC_ID_LEN];

		if (cell_command_is_var(command)) {
			struct cell_frame frame;
			const uint8_t *p = cell;

			if (cell_frame_parse(&p, cell + l->plain_len, CELL_CIRC_ID_LEN, &frame, NULL) < 0)
				return;
			plain_consume(l, (size_t)(p - cell));
			continue;
		}
		if (l->plain_len < CELL_LEN)
			return;
		if (command == CELL_COMMAND_RELAY || command == CELL_COMMAND_RELAY_EARLY) {
			uint32_t id = cell_wire_circ_id(cell);
			struct circuit_slot *slot;

			if (last >= s->n_circuits || s->circuits[last].circ_id != id)
				for (last = 0; last < s->n_circuits && s->circuits[last].circ_id != id; last++)
					;
			if (last == s->n_circuits) {
				gen_fail(g, "sink: relay cell on unknown circuit %08x", id);
				return;
			}
			slot = s->circuits[last].slot;
			uint64_t k = slot->received;

			if (k % SAMPLE_EVERY == 0) {
				if (sink_verify(g, engine, slot, cell + CELL_CIRC_ID_LEN + 1, k))
					s->verified++;
				else
					s->verify_failures++;
			}
			PUT(slot->received, k + 1);
		} else if (command == CELL_COMMAND_CREATE2) {
			sink_answer_create(s, engine, cell);
		} else if (command == CELL_COMMAND_DESTROY) {
			gen_fail(g, "sink: the relay under test destroyed circuit %08x (reason %u)",
					cell_wire_circ_id(cell), cell[CELL_CIRC_ID_LEN + 1]);
		} else if (command != CELL_COMMAND_PADDING && command != CELL_COMMAND_PADDING_NEGOTIATE &&
				command != CELL_COMMAND_NETINFO) {
			gen_fail(g, "sink: unexpected cell command %u", command);
		}
		plain_consume(l, CELL_LEN);
	}
}

static void *
sink_link_main(void *arg)
{
	struct sink_link *s = arg;
	struct generator *g = s->g;
	struct crypto_engine *engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	struct tls_session *tls = NULL;
	struct link_handshake *hs = NULL;
	char why[256] = "";
	int rc;

	if (engine == NULL) {
		gen_fail(g, "sink: no crypto engine");
		return NULL;
	}
	rc = tls_run(s->rl, g->server_ctx, engine, &tls, why, sizeof(why));
	if (rc == 0) {
		struct link_handshake_params p = {
			.role = LINK_ROLE_RESPONDER,
			.credentials = g->sink_link_credentials,
			.export_keying_material = export_auth,
			.export_arg = tls,
			.peer_address = { .type = NETINFO_ADDRESS_IPV4 },
			.my_addresses = { { .type = NETINFO_ADDRESS_IPV4 } },
			.n_my_addresses = 1,
		};

		wire_write_u32(p.peer_address.bytes, s->peer_ip);
		wire_write_u32(p.my_addresses[0].bytes, g->sink_ip);
		rc = link_handshake_new(&p, time(NULL), &hs);
		if (rc == 0)
			rc = link_run(s->rl, engine, hs, why, sizeof(why));
	}
	if (rc < 0) {
		gen_fail(g, "sink: link from the relay under test: %s", why[0] ? why : strerror(-rc));
		goto out;
	}
	s->authenticated = link_handshake_peer_authenticated(hs);
	set_timeout(s->rl->fd, 0);
	while (gen_running(g)) {
		sink_cells(s, engine);
		rc = record_recv(s->rl, engine);
		if (rc < 0) {
			if (gen_running(g))
				gen_fail(g, "sink: link from the relay under test: %s", strerror(-rc));
			break;
		}
	}
out:
	link_handshake_free(hs);
	tls_session_free(tls);
	crypto_engine_destroy(engine);
	return NULL;
}

static void *
acceptor_main(void *arg)
{
	struct generator *g = arg;

	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(g->listener, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		struct sink_link *s;
		int one = 1;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;	/* shut down by the main thread */
		}
		if (!gen_running(g) || g->n_sinks == MAX_SINK_LINKS ||
		    (s = calloc(1, sizeof(*s))) == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_timeout(fd, SETUP_TIMEOUT_S);
		s->g = g;
		s->peer_ip = ntohl(peer.sin_addr.s_addr);
		s->rl = record_link_new(fd);
		if (s->rl == NULL) {
			close(fd);
			free(s);
			continue;
		}
		pthread_mutex_lock(&g->lock);
		g->sinks[g->n_sinks++] = s;
		s->started = pthread_create(&s->thread, NULL, sink_link_main, s) == 0;
		pthread_mutex_unlock(&g->lock);
	}
}

/* ---- the clients ------------------------------------------------------ */

static void
split_keys(const uint8_t *m, struct circuit_keys *keys)
{
	memcpy(keys->forward_digest, m, RELAY_CRYPTO_DIGEST_SEED_LEN);
	memcpy(keys->backward_digest, m + 20, RELAY_CRYPTO_DIGEST_SEED_LEN);
	memcpy(keys->forward_key, m + 40, RELAY_CRYPTO_KEY_LEN);
	memcpy(keys->backward_key, m + 56, RELAY_CRYPTO_KEY_LEN);
}

/* The next cell for circ_id, skipping link padding. DESTROY is an error. */
static int
client_wait_cell(struct client_link *c, struct crypto_engine *engine, uint32_t circ_id,
		uint8_t cell[CELL_LEN], char *why, size_t why_len)
{
	for (;;) {
		struct cell_frame f;
		int rc = record_next_cell(c->rl, engine, &f);

		if (rc < 0) {
			snprintf(why, why_len, "waiting for the relay's answer: %s", strerror(-rc));
			return rc;
		}
		if (cell_command_is_var(f.command) || f.command == CELL_COMMAND_PADDING ||
		    f.command == CELL_COMMAND_PADDING_NEGOTIATE)
			continue;
		if (f.circ_id != circ_id) {
			snprintf(why, why_len, "cell %u on unexpected circuit %08x", f.command, f.circ_id);
			return -EPROTO;
		}
		if (f.command == CELL_COMMAND_DESTROY) {
			snprintf(why, why_len, "the relay destroyed circuit %08x (reason %u)", circ_id,
					f.payload[0]);
			return -ECONNREFUSED;
		}
		cell_wire_set_circ_id(cell, f.circ_id);
		cell[CELL_CIRC_ID_LEN] = f.command;
		memcpy(cell_wire_payload(cell), f.payload, CELL_PAYLOAD_LEN);
		return 0;
	}
}

/* CREATE2 to the RUT, EXTEND2 to the sink. */
static int
client_build_circuit(struct client_link *c, struct crypto_engine *engine,
		struct client_circuit *cc, char *why, size_t why_len)
{
	struct generator *g = c->g;
	uint8_t cell[CELL_LEN], hdata[CREATE2_HDATA_MAX], material[NTOR_TOR1_KEY_MATERIAL_LEN];
	uint8_t body[RELAY_DATA_MAX], client_key[NTOR_KEY_LEN];
	struct ntor_client_state rut_state, sink_state;
	struct circuit_keys keys;
	struct created2_cell created;
	const uint8_t *p;
	uint8_t *payload = cell_wire_payload(cell);
	ssize_t n;
	int rc;

	n = ntor_client_create(&rut_state, g->rut.rsa_id, g->rut.ntor, hdata, sizeof(hdata));
	if (n < 0)
		return (int)n;
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, cc->circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE2;
	if (create2_cell_encode(&(struct create2_cell){ .htype = HANDSHAKE_TYPE_NTOR,
				.hlen = (uint16_t)n, .hdata = hdata }, payload, CELL_PAYLOAD_LEN) < 0)
		return -EINVAL;
	rc = record_send(c->rl, engine, cell, sizeof(cell));
	if (rc == 0)
		rc = client_wait_cell(c, engine, cc->circ_id, cell, why, why_len);
	if (rc < 0)
		return rc;
	p = payload;
	if (cell[CELL_CIRC_ID_LEN] != CELL_COMMAND_CREATED2 ||
	    created2_cell_parse(&p, payload + CELL_PAYLOAD_LEN, &created) < 0 ||
	    ntor_client_complete(&rut_state, created.hdata, created.hlen, material, sizeof(material)) < 0) {
		snprintf(why, why_len, "no valid CREATED2 from the relay (command %u)",
				cell[CELL_CIRC_ID_LEN]);
		return -EPROTO;
	}
	split_keys(material, &keys);
	relay_cipher_init(engine, &cc->rut_forward, keys.forward_key);
	relay_cipher_init(engine, &cc->rut_backward, keys.backward_key);
	relay_digest_init(&cc->rut_forward_digest, keys.forward_digest);
	relay_digest_init(&cc->rut_backward_digest, keys.backward_digest);

	/* EXTEND2 (tor-spec "Extending a circuit"): IPv4, RSA id, Ed25519 id,
	 * and the ntor onion skin for the sink; in RELAY_EARLY. */
	struct extend2_cell ext = { .n_specifiers = 3 };

	n = ntor_client_create(&sink_state, g->sink_hs.rsa_id, g->sink_hs.onion_keys[0].public_key,
			hdata, sizeof(hdata));
	if (n < 0)
		return (int)n;
	memcpy(client_key, sink_state.ephemeral.public_key, sizeof(client_key));
	ext.specifiers[0].type = LINK_SPECIFIER_IPV4;
	ext.specifiers[0].length = LINK_SPECIFIER_IPV4_LEN;
	wire_write_u32(ext.specifiers[0].u.ipv4.address, g->sink_ip);
	ext.specifiers[0].u.ipv4.port = SINK_PORT;
	ext.specifiers[1].type = LINK_SPECIFIER_LEGACY_ID;
	ext.specifiers[1].length = LINK_SPECIFIER_LEGACY_ID_LEN;
	memcpy(ext.specifiers[1].u.legacy_id, g->sink_hs.rsa_id, LINK_SPECIFIER_LEGACY_ID_LEN);
	ext.specifiers[2].type = LINK_SPECIFIER_ED25519_ID;
	ext.specifiers[2].length = LINK_SPECIFIER_ED25519_ID_LEN;
	memcpy(ext.specifiers[2].u.ed25519_id, g->sink_hs.ed25519_id, LINK_SPECIFIER_ED25519_ID_LEN);
	ext.create2 = (struct create2_cell){ .htype = HANDSHAKE_TYPE_NTOR, .hlen = (uint16_t)n,
		.hdata = hdata };
	n = extend2_cell_encode(&ext, body, sizeof(body));
	if (n < 0)
		return (int)n;
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, cc->circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY_EARLY;
	if (relay_cell_encode(&(struct relay_cell){ .command = RELAY_COMMAND_EXTEND2,
				.length = (uint16_t)n, .data = body }, payload, CELL_PAYLOAD_LEN) < 0)
		return -EINVAL;
	relay_digest_stamp(&cc->rut_forward_digest, payload);
	{
		struct relay_cipher *ciph = &cc->rut_forward;

		relay_crypt_burst(engine, &ciph, &payload, 1);
	}
	rc = record_send(c->rl, engine, cell, sizeof(cell));
	if (rc == 0)
		rc = client_wait_cell(c, engine, cc->circ_id, cell, why, why_len);
	if (rc < 0)
		return rc;
	{
		struct relay_cipher *ciph = &cc->rut_backward;
		struct relay_cell rcell;
		struct extended2_cell extended;

		relay_crypt_burst(engine, &ciph, &payload, 1);
		p = payload;
		if (cell[CELL_CIRC_ID_LEN] != CELL_COMMAND_RELAY ||
		    !relay_digest_check(&cc->rut_backward_digest, payload) ||
		    relay_cell_parse(&p, payload + CELL_PAYLOAD_LEN, &rcell) < 0) {
			snprintf(why, why_len, "no recognized answer to EXTEND2 (command %u)",
					cell[CELL_CIRC_ID_LEN]);
			return -EPROTO;
		}
		if (rcell.command == RELAY_COMMAND_TRUNCATED) {
			snprintf(why, why_len, "the relay could not extend to the sink: TRUNCATED "
					"reason %u", rcell.length > 0 ? rcell.data[0] : 0);
			return -ECONNREFUSED;
		}
		p = rcell.data;
		if (rcell.command != RELAY_COMMAND_EXTENDED2 ||
		    extended2_cell_parse(&p, rcell.data + rcell.length, &extended) < 0 ||
		    ntor_client_complete(&sink_state, extended.hdata, extended.hlen, material,
				    sizeof(material)) < 0) {
			snprintf(why, why_len, "no valid EXTENDED2 (relay command %u)", rcell.command);
			return -EPROTO;
		}
	}
	split_keys(material, &keys);
	relay_cipher_init(engine, &cc->sink_forward, keys.forward_key);
	memset(&keys, 0, sizeof(keys));
	memset(material, 0, sizeof(material));
	cc->slot = slot_claim(g, client_key, cc->index);
	if (cc->slot == NULL) {
		snprintf(why, why_len, "the sink did not see circuit %u's CREATE2", cc->index);
		return -ENOENT;
	}
	return 0;
}

static int
tcp_connect(uint32_t ip, uint16_t port, uint64_t timeout_ns)
{
	uint64_t end = bench_now_ns() + timeout_ns;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(ip) };

	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

		if (fd < 0)
			return -errno;
		set_timeout(fd, SETUP_TIMEOUT_S);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			return fd;
		}
		int err = errno;

		close(fd);
		if ((err != ECONNREFUSED && err != ETIMEDOUT && err != EHOSTUNREACH &&
		     err != EINPROGRESS && err != EAGAIN) || bench_now_ns() > end || bench_interrupted)
			return -err;
		bench_sleep_ns(100000000);
	}
}

/* Opens link c to the RUT: TCP, TLS, link handshake as a client. */
static int
client_link_open(struct client_link *c, struct crypto_engine *engine, char *why, size_t why_len)
{
	struct generator *g = c->g;
	const uint8_t *der, *digest;
	size_t der_len;
	int fd, rc;

	fd = tcp_connect(g->rut_ip, g->rut_port, 10ull * 1000000000);
	if (fd < 0) {
		snprintf(why, why_len, "connect to the relay: %s", strerror(-fd));
		return fd;
	}
	c->rl = record_link_new(fd);
	if (c->rl == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = tls_run(c->rl, g->client_ctx, engine, &c->tls, why, why_len);
	if (rc < 0)
		return rc;
	rc = tls_session_peer_cert(c->tls, &der, &der_len, &digest);
	if (rc < 0) {
		snprintf(why, why_len, "the relay sent no TLS certificate");
		return rc;
	}
	struct link_handshake_params p = {
		.role = LINK_ROLE_INITIATOR,
		.credentials = g->sink_link_credentials,	/* not sent: a client */
		.export_keying_material = export_auth,
		.export_arg = c->tls,
		.peer_address = { .type = NETINFO_ADDRESS_IPV4 },
		.peer_tls_cert_digest = digest,
		.expected_rsa_fingerprint = g->rut.rsa_id,
		.expected_ed25519_identity = g->rut.ed_id,
		.authenticate = false,
	};

	wire_write_u32(p.peer_address.bytes, g->rut_ip);
	rc = link_handshake_new(&p, time(NULL), &c->hs);
	if (rc < 0)
		return rc;
	return link_run(c->rl, engine, c->hs, why, why_len);
}

static void
token_refill(double *tokens, double rate, uint64_t *last)
{
	uint64_t now = bench_now_ns();
	double cap = rate * 0.005 > RECORD_CELLS * RECORDS_PER_SEND ?
		rate * 0.005 : RECORD_CELLS * RECORDS_PER_SEND;

	*tokens += rate * (double)(now - *last) / 1e9;
	if (*tokens > cap)
		*tokens = cap;
	*last = now;
}

/* Pushes DROP cells on the link's circuits, RECORDS_PER_SEND records of
 * RECORD_CELLS cells per send(), round-robin over the circuits, each kept
 * below the window; paced when c->rate is set. */
static void *
client_writer_main(void *arg)
{
	struct client_link *c = arg;
	struct generator *g = c->g;
	struct record_link *l = c->rl;
	const unsigned pre = tls_record_prefix_len(l->version), suf = tls_record_suffix_len(l->version);
	const size_t stride = pre + RECORD_CELLS * CELL_LEN + suf;
	const unsigned max_cells = RECORD_CELLS * RECORDS_PER_SEND;
	struct crypto_engine *engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	uint8_t *buf = malloc(stride * RECORDS_PER_SEND);
	uint8_t *payloads[RECORD_CELLS * RECORDS_PER_SEND];
	struct relay_cipher *sink_layer[RECORD_CELLS * RECORDS_PER_SEND];
	struct relay_cipher *rut_layer[RECORD_CELLS * RECORDS_PER_SEND];
	struct tls_record_seal seals[RECORDS_PER_SEND];
	struct crypto_iov iovs[RECORDS_PER_SEND];
	uint64_t allowance[MAX_CIRCUITS];
	double tokens = 0;
	uint64_t last = bench_now_ns();
	unsigned next = 0;

	if (engine == NULL || buf == NULL) {
		gen_fail(g, "client: out of memory");
		goto out;
	}
	while (gen_running(g) && !GET(g->drain)) {
		unsigned budget = max_cells, n = 0, open = 0;

		if (c->rate > 0) {
			/* Whole records only: paced, the cells go in the same
			 * full RECORD_CELLS records as unpaced (the reference
			 * run), not in more, smaller ones, each of which costs
			 * the relay a record. */
			token_refill(&tokens, c->rate, &last);
			budget = tokens < max_cells ? (unsigned)tokens : max_cells;
			budget -= budget % RECORD_CELLS;
		}
		for (unsigned i = 0; i < c->n_circuits; i++) {
			struct client_circuit *cc = c->circuits[i];
			uint64_t in_flight = cc->sent - GET(cc->slot->received);

			allowance[i] = in_flight < g->window ? g->window - in_flight : 0;
			open += allowance[i] > 0;
		}
		while (n < budget && open > 0) {
			unsigned i = next;
			struct client_circuit *cc = c->circuits[i];

			next = next + 1 == c->n_circuits ? 0 : next + 1;
			if (allowance[i] == 0)
				continue;
			if (--allowance[i] == 0)
				open--;
			uint8_t *cell = buf + (n / RECORD_CELLS) * stride + pre + (n % RECORD_CELLS) * CELL_LEN;
			uint8_t *payload = cell_wire_payload(cell);

			cell_wire_set_circ_id(cell, cc->circ_id);
			cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
			memcpy(payload, g->drop_template, CELL_PAYLOAD_LEN);
			wire_write_u32(payload + DROP_INDEX_OFFSET, cc->index);
			wire_write_u32(payload + DROP_SEQ_OFFSET, (uint32_t)(cc->sent >> 32));
			wire_write_u32(payload + DROP_SEQ_OFFSET + 4, (uint32_t)cc->sent);
			cc->sent++;
			payloads[n] = payload;
			sink_layer[n] = &cc->sink_forward;
			rut_layer[n] = &cc->rut_forward;
			n++;
		}
		if (n == 0) {
			bench_sleep_ns(20000);
			continue;
		}
		if (c->rate > 0)
			tokens -= n;
		/* The sink's layer first, then the RUT's (the RUT removes its
		 * own, the sink the inner one). */
		relay_crypt_burst(engine, sink_layer, payloads, n);
		relay_crypt_burst(engine, rut_layer, payloads, n);
		unsigned records = (n + RECORD_CELLS - 1) / RECORD_CELLS;
		size_t total = 0;

		for (unsigned r = 0; r < records; r++) {
			unsigned cells = r + 1 < records ? RECORD_CELLS : n - r * RECORD_CELLS;
			uint8_t *base = buf + r * stride;

			iovs[r] = (struct crypto_iov){ .base = base + pre, .len = cells * CELL_LEN };
			seals[r] = (struct tls_record_seal){ .dir = &l->write_dir, .prefix = base,
				.segments = &iovs[r], .nb_segments = 1,
				.content_type = TLS_CONTENT_APPLICATION_DATA,
				.suffix = base + pre + cells * CELL_LEN };
			total = r * stride + pre + cells * CELL_LEN + suf;
		}
		if (tls_record_seal_burst(engine, seals, records) != records) {
			gen_fail(g, "client: sealing a record failed");
			break;
		}
		int rc = send_all(l->fd, buf, total);

		if (rc < 0) {
			if (gen_running(g))
				gen_fail(g, "client: send to the relay under test: %s", strerror(-rc));
			break;
		}
	}
out:
	free(buf);
	crypto_engine_destroy(engine);
	return NULL;
}

/* Reads what the RUT sends back: nothing is expected but padding; a
 * DESTROY fails the run. */
static void *
client_reader_main(void *arg)
{
	struct client_link *c = arg;
	struct generator *g = c->g;
	struct crypto_engine *engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);

	if (engine == NULL) {
		gen_fail(g, "client: no crypto engine");
		return NULL;
	}
	while (gen_running(g)) {
		struct cell_frame f;
		int rc = record_next_cell(c->rl, engine, &f);

		if (rc < 0) {
			if (gen_running(g))
				gen_fail(g, "client: link to the relay under test: %s", strerror(-rc));
			break;
		}
		if (f.command == CELL_COMMAND_DESTROY) {
			gen_fail(g, "client: the relay under test destroyed circuit %08x (reason %u)",
					f.circ_id, f.payload[0]);
			break;
		}
		if (f.command == CELL_COMMAND_RELAY || f.command == CELL_COMMAND_RELAY_EARLY)
			__atomic_add_fetch(&c->backward_cells, 1, __ATOMIC_RELAXED);
	}
	crypto_engine_destroy(engine);
	return NULL;
}

/* memif-direct: the generator process's error as the case's failure. */
static void
ugen_failed(struct generator *g)
{
	const char *message;

	if (bench_ugen_error(g->ugen, &message) < 0)
		gen_fail(g, "generator: %s", message);
	else if (!GET(g->failed))
		gen_fail(g, "the generator process is gone");
}

/* memif-direct: waits until the generator process has built every
 * circuit and pumps. */
static int
ugen_wait_pumping(struct generator *g)
{
	int rc = bench_ugen_wait_state(g->ugen, BENCH_UGEN_PUMPING,
			(uint64_t)SETUP_TIMEOUT_S * 1000000000);

	if (rc == -ETIMEDOUT)
		gen_fail(g, "the generator did not build its circuits in %d s", SETUP_TIMEOUT_S);
	else if (rc < 0)
		ugen_failed(g);
	return rc;
}

/* memif-direct: the sink's counters from the generator process. */
static void
ugen_results(struct bench_ugen *u, struct measurement *m)
{
	const struct bench_ugen_shared *sh = u->shared;

	if (sh == NULL)
		return;
	m->verified = __atomic_load_n(&sh->ugen.verified, __ATOMIC_RELAXED);
	m->verify_failures = __atomic_load_n(&sh->ugen.verify_failures, __ATOMIC_RELAXED);
	m->backward_cells = __atomic_load_n(&sh->ugen.backward_cells, __ATOMIC_RELAXED);
	m->sink_links = __atomic_load_n(&sh->ugen.sink_links, __ATOMIC_RELAXED);
	m->sink_authenticated = __atomic_load_n(&sh->ugen.sink_authenticated, __ATOMIC_RELAXED);
	m->tls_version = __atomic_load_n(&sh->ugen.tls_version, __ATOMIC_RELAXED);
	m->cipher_suite = __atomic_load_n(&sh->ugen.cipher_suite, __ATOMIC_RELAXED);
}

static int
generator_listen(struct generator *g)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(SINK_PORT),
		.sin_addr.s_addr = htonl(g->sink_ip) };
	int one = 1;

	g->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->listener < 0 ||
	    setsockopt(g->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(g->listener, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(g->listener, 16) < 0)
		return -errno;
	if (pthread_create(&g->acceptor, NULL, acceptor_main, g) != 0)
		return -EAGAIN;
	g->acceptor_started = true;
	return 0;
}

/* Builds the links and circuits of one case and starts pushing. */
static int
generator_start(struct generator *g, unsigned circuits, unsigned links, double rate)
{
	struct crypto_engine *engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	char why[256] = "";
	int rc = 0;

	/* Reset for the generator process too: gen_fail() records nothing
	 * once the previous case's stop is set. */
	PUT(g->stop, 0);
	PUT(g->drain, 0);
	PUT(g->failed, 0);
	g->error[0] = '\0';
	if (g->ugen != NULL) {
		crypto_engine_destroy(engine);
		return ugen_wait_pumping(g);
	}
	if (engine == NULL)
		return -ENOMEM;
	g->n_slots = 0;
	g->n_sinks = 0;
	g->n_clients = 0;
	memset(g->clients, 0, sizeof(g->clients));
	rc = generator_listen(g);
	if (rc < 0) {
		snprintf(why, sizeof(why), "sink listener: %s", strerror(-rc));
		goto out;
	}
	for (unsigned i = 0; i < links && rc == 0; i++) {
		struct client_link *c = &g->clients[i];

		c->g = g;
		c->rate = rate > 0 ? rate / links : 0;
		g->n_clients++;
		rc = client_link_open(c, engine, why, sizeof(why));
	}
	for (unsigned k = 0; k < circuits && rc == 0; k++) {
		struct client_link *c = &g->clients[k % links];
		struct client_circuit *cc = aligned_alloc(64, (sizeof(*cc) + 63) & ~(size_t)63);

		if (cc == NULL) {
			rc = -ENOMEM;
			break;
		}
		memset(cc, 0, sizeof(*cc));
		cc->index = k;
		cc->circ_id = 0x80000000u | (k + 1);
		c->circuits[c->n_circuits++] = cc;
		rc = client_build_circuit(c, engine, cc, why, sizeof(why));
		if (rc == 0 && GET(g->failed))
			rc = -EIO;
	}
	for (unsigned i = 0; i < g->n_clients && rc == 0; i++) {
		struct client_link *c = &g->clients[i];

		set_timeout(c->rl->fd, 0);
		c->reader_started = pthread_create(&c->reader, NULL, client_reader_main, c) == 0;
		if (c->n_circuits > 0)
			c->writer_started = pthread_create(&c->writer, NULL, client_writer_main, c) == 0;
		if (!c->reader_started || (c->n_circuits > 0 && !c->writer_started))
			rc = -EAGAIN;
	}
out:
	if (rc < 0 && !GET(g->failed))
		gen_fail(g, "%s", why[0] ? why : strerror(-rc));
	crypto_engine_destroy(engine);
	return rc;
}

static uint64_t
generator_received(struct generator *g)
{
	uint64_t total = 0;

	if (g->ugen != NULL)
		return bench_ugen_received(g->ugen);

	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->n_slots; i++)
		total += GET(g->slots[i].received);
	pthread_mutex_unlock(&g->lock);
	return total;
}

/* Stops the writers, then waits up to DRAIN_TIMEOUT_NS for the sink to
 * have every cell they sent; m gets the totals. */
static void
generator_drain(struct generator *g, struct measurement *m)
{
	uint64_t end, sent = 0, received = 0;

	if (g->ugen != NULL) {
		if (bench_ugen_drain(g->ugen, DRAIN_TIMEOUT_NS, &m->cells_sent_total, &m->cells_lost) < 0)
			ugen_failed(g);
		return;
	}
	PUT(g->drain, 1);
	for (unsigned i = 0; i < g->n_clients; i++) {
		struct client_link *c = &g->clients[i];

		if (c->writer_started)
			pthread_join(c->writer, NULL);
		c->writer_started = false;
		for (unsigned k = 0; k < c->n_circuits; k++)
			sent += c->circuits[k]->sent;
	}
	end = bench_now_ns() + DRAIN_TIMEOUT_NS;
	while ((received = generator_received(g)) < sent && bench_now_ns() < end &&
	       !GET(g->failed) && !bench_interrupted)
		bench_sleep_ns(10000000);
	m->cells_sent_total = sent;
	m->cells_lost = sent > received ? sent - received : 0;
}

/* Stops every thread and closes every socket of the case. */
static void
generator_stop(struct generator *g, struct measurement *m)
{
	if (g->ugen != NULL) {
		if (m != NULL)
			ugen_results(g->ugen, m);
		PUT(g->stop, 1);
		return;
	}
	PUT(g->stop, 1);
	if (g->listener >= 0)
		shutdown(g->listener, SHUT_RDWR);
	for (unsigned i = 0; i < g->n_clients; i++)
		if (g->clients[i].rl != NULL)
			shutdown(g->clients[i].rl->fd, SHUT_RDWR);
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->n_sinks; i++)
		shutdown(g->sinks[i]->rl->fd, SHUT_RDWR);
	pthread_mutex_unlock(&g->lock);
	if (g->acceptor_started)
		pthread_join(g->acceptor, NULL);
	g->acceptor_started = false;
	for (unsigned i = 0; i < g->n_clients; i++) {
		struct client_link *c = &g->clients[i];

		if (c->writer_started)
			pthread_join(c->writer, NULL);
		if (c->reader_started)
			pthread_join(c->reader, NULL);
		if (m != NULL)
			m->backward_cells += c->backward_cells;
		for (unsigned k = 0; k < c->n_circuits; k++) {
			relay_cipher_clear(&c->circuits[k]->rut_forward);
			relay_cipher_clear(&c->circuits[k]->rut_backward);
			relay_cipher_clear(&c->circuits[k]->sink_forward);
			free(c->circuits[k]);
		}
		link_handshake_free(c->hs);
		tls_session_free(c->tls);
		record_link_free(c->rl);
		memset(c, 0, sizeof(*c));
	}
	g->n_clients = 0;
	for (unsigned i = 0; i < g->n_sinks; i++) {
		struct sink_link *s = g->sinks[i];

		if (s->started)
			pthread_join(s->thread, NULL);
		if (m != NULL) {
			m->verified += s->verified;
			m->verify_failures += s->verify_failures;
			m->sink_authenticated = i == 0 ? s->authenticated :
				m->sink_authenticated && s->authenticated;
		}
		record_link_free(s->rl);
		free(s);
	}
	if (m != NULL)
		m->sink_links = g->n_sinks;
	g->n_sinks = 0;
	for (unsigned i = 0; i < g->n_slots; i++)
		relay_cipher_clear(&g->slots[i].sink_forward);
	g->n_slots = 0;
	if (g->listener >= 0)
		close(g->listener);
	g->listener = -1;
}

/* ---- the relays under test (bench_rut.h) ------------------------------ */

/* Starts the RUT; its keys are made first (tor reads relay_keys' files)
 * so that the generator knows them before it runs, and read again once it
 * runs. Over memif-direct hsrelay's generator is started with it, for the
 * case in g (ugen_circuits, ugen_links, ugen_rate, window), and g->ugen
 * set. */
static int
rut_start(struct bench_rut *r, const char *work, const struct options *o, struct generator *g)
{
	struct bench_rut_options ro = o->rut;
	struct bench_ugen_params up;
	int rc = bench_rut_read_keys(r->dir, &g->rut);

	if (r->kind == BENCH_RUT_HSRELAY && o->rut.transport == BENCH_TRANSPORT_MEMIF_DIRECT) {
		memset(&up, 0, sizeof(up));
		up.circuits = g->ugen_circuits;
		up.links = g->ugen_links;
		up.window = g->window;
		up.rate = g->ugen_rate;
		bench_rut_keys_to_ugen(&g->rut, &up);
		up.sink_port = SINK_PORT;
		up.verbose = o->verbose;
		ro.ugen = &up;
		g->ugen = &r->ugen;
	}
	if (rc == 0)
		rc = bench_rut_start(r, work, &ro);
	if (rc == 0)
		rc = bench_rut_read_keys(r->dir, &g->rut);
	g->rut_ip = r->ip;
	g->rut_port = r->port;
	return rc;
}

/* ---- one case --------------------------------------------------------- */

static int
wait_ns(struct generator *g, uint64_t ns)
{
	uint64_t end = bench_now_ns() + ns;

	while (bench_now_ns() < end) {
		if (bench_interrupted)
			return -EINTR;
		if (GET(g->failed))
			return -EIO;
		if (g->ugen != NULL && bench_ugen_error(g->ugen, NULL) < 0) {
			ugen_failed(g);
			return -EIO;
		}
		bench_sleep_ns(10000000);
	}
	return 0;
}

static int
run_case(const struct options *o, struct generator *g, const char *work, enum bench_rut_kind kind,
		unsigned circuits, double rate, struct measurement *m)
{
	struct bench_rut r;
	unsigned links = o->links ? o->links : (circuits < 4 ? circuits : 4);
	const char *name;
	int rc;

	bench_rut_init(&r, kind, work);
	name = bench_rut_name(&r);
	if (links > circuits)
		links = circuits;
	memset(m, 0, sizeof(*m));
	m->circuits = circuits;
	m->links = links;
	/* Default: WINDOW_DEFAULT cells in flight in all, shared by the
	 * circuits (hsrelay closes an outbound link whose backlog overflows,
	 * which 8 circuits with 1000 cells each in flight do on net_tap). */
	m->window = o->window ? o->window : WINDOW_DEFAULT / circuits;
	if (m->window < 2 * RECORD_CELLS)
		m->window = 2 * RECORD_CELLS;
	g->window = m->window;
	g->ugen = NULL;
	g->ugen_circuits = circuits;
	g->ugen_links = links;
	g->ugen_rate = rate;
	m->offered = rate;
	m->transport = bench_rut_transport(&r, &o->rut);
	m->idle_sleep_usec = bench_rut_idle_sleep(&o->rut);
	rc = rut_start(&r, work, o, g);
	m->dpdk_generator = g->ugen != NULL;
	if (rc == 0)
		rc = generator_start(g, circuits, links, rate);
	if (rc == 0 && g->ugen == NULL && g->n_clients > 0) {
		m->tls_version = g->clients[0].rl->protocol_version;
		m->cipher_suite = g->clients[0].rl->cipher_suite;
	}
	if (rc == 0)
		rc = wait_ns(g, (uint64_t)(o->warmup * 1e9));
	if (rc == 0) {
		struct bench_cpu_sample s0, s1;
		struct bench_cpu_window w;
		uint64_t c0, c1;

		/* hsrelay answers SIGUSR1 with its workers' loop time; the
		 * sample asks just before each end of the window, so both
		 * ends lag alike. */
		rc = bench_rut_sample(&r, &s0);
		c0 = generator_received(g);
		if (rc == 0)
			rc = wait_ns(g, (uint64_t)(o->seconds * 1e9));
		if (rc == 0)
			rc = bench_rut_sample(&r, &s1);
		c1 = generator_received(g);
		bench_cpu_window(&s0, &s1, &w);
		m->load_average = w.load_average;
		m->seconds = w.seconds;
		m->cells = c1 - c0;
		m->cpu_seconds = w.rut_cpu;
		m->process_cpu_seconds = w.process_cpu;
		m->generator_cpu_seconds = w.generator_cpu;
		m->generator_busy_seconds = w.generator_busy;
		m->system_busy_seconds = w.system_busy;
		m->system_softirq_seconds = w.system_softirq;
		m->ksoftirqd_cpu_seconds = w.ksoftirqd_cpu;
		m->worker_threads = w.worker_threads;
		m->worker_thread_cpu_seconds = w.worker_thread_cpu;
		m->worker_runqueue_wait_seconds = w.worker_runqueue_wait;
		m->worker_busy_wall_seconds = w.worker_busy_wall;
		m->worker_idle_poll_seconds = w.worker_idle_poll;
		if (rc == 0 && kind == BENCH_RUT_HSRELAY && w.worker_threads == 0) {
			fprintf(stderr, "hsrelay-bench relay: no rte-worker thread (worker lcore) in hsrelay\n");
			rc = -ESRCH;
		}
	}
	if (rc == 0)
		generator_drain(g, m);
	if (GET(g->failed))
		fprintf(stderr, "hsrelay-bench relay: %s, %u circuits: %s\n", name, circuits, g->error);
	generator_stop(g, m);
	if (r.pid > 0 && !bench_child_alive(r.pid)) {
		fprintf(stderr, "hsrelay-bench relay: %s exited during the run; its log:\n", name);
		bench_print_log_tail(r.log, 20);
		rc = rc < 0 ? rc : -ECHILD;
	}
	/* The generator process's counters are read (generator_stop) and
	 * its shared block gone after this. */
	if (bench_rut_stop(&r, o->verbose || rc < 0) < 0 && rc == 0) {
		fprintf(stderr, "hsrelay-bench relay: %s did not stop cleanly\n", name);
		rc = -ECHILD;
	}
	g->ugen = NULL;
	m->round_trip_ns[0] = r.round_trip_before_ns;
	m->round_trip_ns[1] = r.round_trip_after_ns;
	if (kind == BENCH_RUT_HSRELAY) {
		uint64_t forwarded[BENCH_MAX_WORKERS];
		unsigned n = bench_rut_exit_stats(&r, "hsrelay: stats worker", " forwarded=",
				forwarded, BENCH_MAX_WORKERS, o->verbose || rc < 0);

		m->have_rut_forwarded = n > 0;
		for (unsigned i = 0; i < n; i++)
			m->rut_forwarded += forwarded[i];
		n = bench_rut_exit_stats(&r, "hsrelay: stats latency worker", " forward_cells=",
				forwarded, BENCH_MAX_WORKERS, false);
		for (unsigned i = 0; i < n; i++)
			m->rut_latency_cells += forwarded[i];
		n = bench_rut_exit_stats(&r, "hsrelay: stats latency worker", " forward_sum_ns=",
				forwarded, BENCH_MAX_WORKERS, false);
		for (unsigned i = 0; i < n; i++)
			m->rut_latency_sum_ns += forwarded[i];
	}
	if (rc < 0 && kind == BENCH_RUT_HSRELAY && o->verbose)
		bench_print_log_tail(r.log, 20);
	if (rc == 0 && m->verify_failures > 0) {
		fprintf(stderr, "hsrelay-bench relay: %s: %" PRIu64 " sampled cells did not decrypt "
				"to the DROP cell sent\n", name, m->verify_failures);
		rc = -EBADMSG;
	}
	if (rc == 0 && m->cells_lost > 0) {
		fprintf(stderr, "hsrelay-bench relay: %s: %" PRIu64 " of %" PRIu64 " cells sent never "
				"reached the sink\n", name, m->cells_lost, m->cells_sent_total);
		rc = -EIO;
	}
	if (rc == 0 && (m->cells == 0 || m->verified == 0)) {
		fprintf(stderr, "hsrelay-bench relay: %s: no cells reached the sink in the window\n",
				name);
		rc = -EIO;
	}
	return rc;
}

static const char *
limited_by(const struct measurement *m, enum bench_rut_kind kind)
{
	double utilization = m->cpu_seconds / m->seconds;

	if (m->offered > 0 && (double)m->cells / m->seconds >= 0.95 * m->offered)
		return "offered_load";
	if (utilization >= (kind == BENCH_RUT_TOR ? 0.85 : 0.9))
		return "relay_under_test";
	/* A poll-mode worker that (almost) never found its queues empty had
	 * work whenever it ran: on a shared machine it is then the limit even
	 * though other threads kept it off its CPU part of the window. */
	if (kind == BENCH_RUT_HSRELAY && m->worker_thread_cpu_seconds > 0 &&
	    m->worker_idle_poll_seconds < 0.05 * m->worker_thread_cpu_seconds)
		return "relay_under_test";
	return "generator_or_transport";
}

/* Cells per CPU-second of the RUT (0 without CPU time). */
static double
cells_per_cpu(const struct measurement *m)
{
	return m->cpu_seconds > 0 ? (double)m->cells / m->cpu_seconds : 0;
}

static void
print_line(enum bench_rut_kind kind, const struct measurement *m, const struct measurement *reference)
{
	double cells_per_s = (double)m->cells / m->seconds;
	double per_cpu = cells_per_cpu(m);

	printf("{\"bench\":\"relay\",\"impl\":\"%s\",\"load\":\"%s\",\"round\":%u,\"circuits\":%u,\"links\":%u,"
	       "\"window\":%u,\"offered_cells_per_s\":%.0f,\"cells\":%" PRIu64 ",\"seconds\":%.3f,"
	       "\"cells_per_s\":%.0f,\"cpu_seconds\":%.3f,\"cells_per_cpu_second\":%.0f,"
	       "\"cpu_what\":\"%s\",\"process_cpu_seconds\":%.3f,\"relay_cpu_utilization\":%.3f,"
	       "\"generator_cpu_seconds\":%.3f,\"system_busy_cpu_seconds\":%.3f,"
	       "\"system_softirq_cpu_seconds\":%.3f,\"ksoftirqd_cpu_seconds\":%.3f,"
	       "\"transport\":\"%s\",\"limited_by\":\"%s\",\"verified_cells\":%" PRIu64
	       ",\"verify_failures\":%" PRIu64 ",\"sink_links\":%u,\"sink_peer_authenticated\":%s,"
	       "\"backward_cells\":%" PRIu64 ",\"tls\":\"0x%04x/0x%04x\"",
	       kind == BENCH_RUT_TOR ? "tor" : "hsrelay", m->offered > 0 ? "matched" : "max", m->round,
	       m->circuits,
	       m->links, m->window, m->offered, m->cells, m->seconds, cells_per_s, m->cpu_seconds, per_cpu,
	       bench_rut_cpu_what(kind), m->process_cpu_seconds,
	       m->cpu_seconds / m->seconds, m->generator_cpu_seconds, m->system_busy_seconds,
	       m->system_softirq_seconds, m->ksoftirqd_cpu_seconds, m->transport, limited_by(m, kind),
	       m->verified, m->verify_failures, m->sink_links,
	       m->sink_authenticated ? "true" : "false", m->backward_cells, m->tls_version,
	       m->cipher_suite);
	printf(",\"cells_sent_total\":%" PRIu64 ",\"cells_lost\":%" PRIu64, m->cells_sent_total,
			m->cells_lost);
	printf(",\"generator\":\"%s\"", m->dpdk_generator ? "dpdk" : "kernel_sockets");
	if (m->dpdk_generator)
		printf(",\"generator_busy_seconds\":%.3f", m->generator_busy_seconds);
	if (kind == BENCH_RUT_HSRELAY) {
		printf(",\"worker_threads\":%u,\"worker_thread_cpu_seconds\":%.3f,"
		       "\"worker_idle_poll_seconds\":%.3f,\"worker_busy_wall_seconds\":%.3f,"
		       "\"worker_runqueue_wait_seconds\":%.3f,\"worker_idle_sleep_usec\":%u",
		       m->worker_threads, m->worker_thread_cpu_seconds, m->worker_idle_poll_seconds,
		       m->worker_busy_wall_seconds, m->worker_runqueue_wait_seconds, m->idle_sleep_usec);
		if (m->have_rut_forwarded)
			printf(",\"relay_forwarded_total\":%" PRIu64 ",\"relay_latency_cells\":%"
			       PRIu64 ",\"relay_latency_mean_us\":%.1f", m->rut_forwarded,
			       m->rut_latency_cells, m->rut_latency_cells == 0 ? 0.0
			       : (double)m->rut_latency_sum_ns / (double)m->rut_latency_cells / 1e3);
	}
	if (reference != NULL && reference->cpu_seconds > 0)
		printf(",\"ratio_vs_reference\":%.3f", per_cpu / cells_per_cpu(reference));
	bench_print_line_end(m->round_trip_ns[0], m->round_trip_ns[1], m->load_average);
}

/* ---- options ---------------------------------------------------------- */

static void
usage(FILE *to)
{
	fprintf(to, "usage: hsrelay-bench relay [--quick] [--seconds S] [--circuits N[,N...]]\n"
		    "                           [--links L] [--window CELLS] [--no-max]\n"
		    "                           [--tor-only | --hsrelay-only] [--tor PATH]\n"
		    "                           [--hsrelay PATH] [--idle-sleep-usec U] [--verbose]\n"
		    "                           [--transport af_packet|tap|memif|memif-direct]\n"
		    "                           [--rate CELLS_PER_S] [--rounds N]\n"
		    "  needs root: creates a network namespace; runs tor and hsrelay in it\n"
		    "  --rate: with --hsrelay-only, offer hsrelay this load instead of tor's\n"
		    "          measured rate (for profiling one relay at a chosen load)\n"
		    "  --rounds: per circuits value, alternate tor and hsrelay at tor's rate\n"
		    "          N times (1..20), then a ratio_summary line with the median\n");
}

int
bench_relay_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 's' },
		{ "circuits", required_argument, NULL, 'c' },
		{ "links", required_argument, NULL, 'l' },
		{ "window", required_argument, NULL, 'w' },
		{ "no-max", no_argument, NULL, 'n' },
		{ "tor-only", no_argument, NULL, 'T' },
		{ "hsrelay-only", no_argument, NULL, 'H' },
		{ "rate", required_argument, NULL, 'a' },
		{ "rounds", required_argument, NULL, 'R' },
		BENCH_RUT_LONG_OPTIONS,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = {
		.seconds = 5.0,
		.warmup = 1.0,
		.rounds = 1,
		.n_cases = 2,
		.circuits = { 1, 8 },
		.window = 0,
		.rut = {
			.bench = "relay",
			.tor_path = "/usr/bin/tor",
			.transport = BENCH_TRANSPORT_AF_PACKET,
			.workers = 1,
			.idle_sleep_usec = BENCH_IDLE_SLEEP_AUTO,
		},
	};
	bool seconds_set = false, circuits_set = false;
	struct bench_environment env = { .netns_made = false };
	struct generator g;
	int opt, n, status = 0;
	char path[PATH_MAX + 16];

	bench_default_hsrelay_path(o.hsrelay_path, sizeof(o.hsrelay_path));
	o.rut.hsrelay_path = o.hsrelay_path;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'q':
			o.quick = true;
			break;
		case 's':
			o.seconds = strtod(optarg, NULL);
			seconds_set = true;
			if (!(o.seconds > 0 && o.seconds <= 600)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'c':
			circuits_set = true;
			n = bench_parse_list(optarg, MAX_CIRCUITS, o.circuits, MAX_CASES);
			o.n_cases = n > 0 ? (unsigned)n : 0;
			if (n < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'l':
			o.links = (unsigned)strtoul(optarg, NULL, 10);
			if (o.links == 0 || o.links > MAX_LINKS) {
				usage(stderr);
				return 2;
			}
			break;
		case 'w':
			o.window = (unsigned)strtoul(optarg, NULL, 10);
			if (o.window < RECORD_CELLS || o.window > 100000) {
				usage(stderr);
				return 2;
			}
			break;
		case 'n':
			o.skip_max = true;
			break;
		case 'T':
			o.skip_hsrelay = true;
			break;
		case 'H':
			o.skip_tor = true;
			break;
		case 'a':
			o.rate = strtod(optarg, NULL);
			if (!(o.rate > 0 && o.rate <= 1e8)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'R':
			if (bench_parse_rounds(optarg, &o.rounds) < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (bench_rut_option(opt, optarg, &o.rut, o.hsrelay_path,
					sizeof(o.hsrelay_path)) <= 0) {
				usage(stderr);
				return 2;
			}
			break;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.quick) {
		if (!seconds_set)
			o.seconds = 1.0;
		if (!circuits_set) {
			o.n_cases = 1;
			o.circuits[0] = 2;
		}
		o.warmup = 0.3;
		o.skip_max = true;
	}
	status = bench_rut_check(&o.rut, !o.skip_tor, !o.skip_hsrelay);
	if (status != 0)
		return status;
	bench_catch_signals();
	signal(SIGPIPE, SIG_IGN);

	int rc = bench_environment_setup(&env, "relay", BENCH_NS_ADDR);

	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/sink-data", env.work);
		rc = generator_init(&g, path);
		if (rc < 0)
			generator_free(&g);
	}
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench relay: set-up failed: %s\n", strerror(-rc));
		bench_environment_cleanup(&env);
		return 1;
	}
	g.verbose = o.verbose;
	for (unsigned i = 0; i < o.n_cases && status == 0 && !bench_interrupted; i++) {
		struct measurement tor = { 0 }, hs = { 0 };
		unsigned c = o.circuits[i];
		bool have_tor = false;
		double ratios[BENCH_MAX_ROUNDS];
		unsigned n_ratios = 0;

		/* Each round: tor unpaced, then hsrelay at tor's measured rate
		 * (the same offered load). */
		for (unsigned round = 1; round <= o.rounds && status == 0 && !bench_interrupted;
		     round++) {
			if (!o.skip_tor) {
				rc = run_case(&o, &g, env.work, BENCH_RUT_TOR, c, 0, &tor);
				if (rc < 0) {
					fprintf(stderr, "hsrelay-bench relay: tor, %u circuits: %s\n", c,
							strerror(-rc));
					status = 1;
					break;
				}
				tor.round = round;
				print_line(BENCH_RUT_TOR, &tor, NULL);
				have_tor = true;
			}
			if (o.skip_hsrelay || (!have_tor && o.rate == 0))
				continue;
			rc = run_case(&o, &g, env.work, BENCH_RUT_HSRELAY, c,
					have_tor ? (double)tor.cells / tor.seconds : o.rate, &hs);
			if (rc < 0) {
				fprintf(stderr, "hsrelay-bench relay: hsrelay (matched), %u circuits: %s\n",
						c, strerror(-rc));
				status = 1;
				break;
			}
			hs.round = round;
			print_line(BENCH_RUT_HSRELAY, &hs, have_tor ? &tor : NULL);
			if (have_tor && tor.cpu_seconds > 0 && hs.cpu_seconds > 0)
				ratios[n_ratios++] = cells_per_cpu(&hs) / cells_per_cpu(&tor);
		}
		if (status != 0 || bench_interrupted || o.skip_hsrelay)
			continue;
		if (o.rounds > 1 && n_ratios > 0)
			bench_print_ratio_summary("relay", "matched", "circuits", c, ratios, n_ratios);
		if ((!have_tor && o.rate == 0) || !o.skip_max) {
			rc = run_case(&o, &g, env.work, BENCH_RUT_HSRELAY, c, 0, &hs);
			if (rc < 0) {
				fprintf(stderr, "hsrelay-bench relay: hsrelay (max), %u circuits: %s\n", c,
						strerror(-rc));
				status = 1;
				break;
			}
			hs.round = o.rounds;
			print_line(BENCH_RUT_HSRELAY, &hs, have_tor ? &tor : NULL);
		}
	}
	if (bench_interrupted)
		status = 1;
	generator_free(&g);
	bench_environment_cleanup(&env);
	return status;
}
