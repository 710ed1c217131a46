/* The relays under test (RUTs) of the relay and rendezvous benches:
 * /usr/bin/tor (0.4.9, the reference) and hsrelay, each started alone in
 * the bench's network namespace (bench_env.h) with a DataDirectory in the
 * bench's work directory, stopped, and measured.
 *
 *   tor      a non-exit relay on ORPort BENCH_NS_ADDR:BENCH_TOR_OR_PORT,
 *            reached over the namespace's loopback: TestingTorNetwork with
 *            a fake DirAuthority (so that ExtendAllowPrivateAddresses lets
 *            it extend to private addresses; it extends without any
 *            consensus, from the link specifiers), AssumeReachable,
 *            PublishServerDescriptor 0. CPU: the whole process.
 *   hsrelay  hsrelay -f FILE with W workers, Address BENCH_HS_ADDR, on one
 *            of two transports:
 *            af_packet: DPDK net_af_packet (qpairs = W) on one end of a
 *              veth pair; the other end is where the namespace routes
 *              BENCH_SUBNET, with offloads off (full checksums, no
 *              super-packets). RX reads the kernel's mmap ring without a
 *              system call; TX is one sendto() per burst, inside which the
 *              kernel delivers the frames to the peers' sockets (softirq
 *              in the worker's context, charged to the worker, as tor's
 *              loopback sends are charged to tor);
 *            tap: DPDK net_tap (W queues), routed to the subnet: a readv()
 *              per received and a writev() per sent frame, a SIGIO per
 *              wake-up;
 *            memif (one worker): DPDK net_memif (client) to a bridge
 *              process between the memif and the veth end (bench_memif.h):
 *              no system call and no kernel work in hsrelay's worker at
 *              all; the bridge's sendto() carries the kernel work instead;
 *            memif-direct (one worker): DPDK net_memif (client) to the
 *              relay or rendezvous bench's generator process
 *              (bench_ugen.h), which serves the memif on hsrelay's own
 *              dataplane: no bridge, no veth, no kernel between them; the
 *              kernel of the namespace has no route to hsrelay.
 *            DPDKIdleSleepUsec lets an idle worker sleep. CPU: the
 *            workers' busy time, i.e. their threads' CPU time (rte-worker-N,
 *            /proc/PID/task/TID/schedstat) less the TSC time of their
 *            empty polls, which hsrelay prints on SIGUSR1 at both ends of
 *            a window; their whole thread CPU time is reported as well.
 */
#ifndef HSRELAY_BENCH_BENCH_RUT_H
#define HSRELAY_BENCH_BENCH_RUT_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/bench_env.h"
#include "bench/bench_memif.h"
#include "bench/bench_ugen.h"

/* Addresses exist only inside the bench's namespace. */
#define BENCH_NS_ADDR "10.79.0.1"	/* lo: tor and the generator */
#define BENCH_HS_ADDR "10.79.0.2"	/* hsrelay behind its port */
#define BENCH_HS_MAC "02:00:00:79:00:02"
#define BENCH_SUBNET "10.79.0.0/24"
#define BENCH_TOR_OR_PORT 9101
#define BENCH_HS_OR_PORT 9001
#define BENCH_MAX_WORKERS 4

enum bench_rut_kind { BENCH_RUT_TOR, BENCH_RUT_HSRELAY };

/* How hsrelay's port meets the namespace's kernel. net_af_xdp on the veth
 * was tried: with chains linearized it carries the handshakes and the
 * first few thousand cells, then traffic stops (DPDK 22.11, kernel 6.18,
 * zero-copy and force_copy alike), so it is not offered. */
enum bench_transport {
	BENCH_TRANSPORT_TAP, BENCH_TRANSPORT_AF_PACKET, BENCH_TRANSPORT_MEMIF,
	BENCH_TRANSPORT_MEMIF_DIRECT,
};

/* "tap", "af_packet", "memif", "memif-direct". */
const char *bench_transport_name(enum bench_transport t);

/* Sets *out from a name above. 0, or -EINVAL for an unknown name. */
int bench_transport_parse(const char *name, enum bench_transport *out);

/* bench_rut_options.idle_sleep_usec: let bench_rut_idle_sleep() choose. */
#define BENCH_IDLE_SLEEP_AUTO UINT_MAX

/* The DPDK generator's and the memif bridge's idle sleep: they share CPU 0
 * with hsrelay's control thread and the kernel's work. */
#define BENCH_HELPER_IDLE_SLEEP_USEC 50

struct bench_rut_options {
	const char *bench;		/* "relay", "rendezvous": in messages */
	const char *tor_path;
	const char *hsrelay_path;
	enum bench_transport transport;
	unsigned workers;		/* hsrelay: 1..BENCH_MAX_WORKERS */
	/* hsrelay's DPDKIdleSleepUsec, or BENCH_IDLE_SLEEP_AUTO: see
	 * bench_rut_idle_sleep(). */
	unsigned idle_sleep_usec;
	const char *tor_extra;		/* torrc lines appended, or NULL */
	const char *hsrelay_extra;	/* hsrelay config lines appended, or NULL */
	/* memif-direct: the generator's case (circuits, links, window, rate,
	 * the RUT's keys, sink port, verbose); bench_rut fills in the
	 * addresses, the MAC, the CPU and the idle sleep. NULL otherwise. */
	const struct bench_ugen_params *ugen;
};

struct bench_rut {
	enum bench_rut_kind kind;
	pid_t pid;
	char dir[PATH_MAX];		/* DataDirectory */
	char log[PATH_MAX];		/* stdout and stderr */
	char notice_log[PATH_MAX];	/* tor's notice log */
	char port_if[IFNAMSIZ];		/* hsrelay's port: the tap or its veth end */
	char kernel_if[IFNAMSIZ];	/* af_packet, memif: the namespace's veth end */
	bool veth_made;
	struct bench_memif_bridge bridge;	/* memif: between the veth end and hsrelay */
	struct bench_ugen ugen;		/* memif-direct: the generator, hsrelay's memif peer */
	unsigned cycles_answers;	/* hsrelay: SIGUSR1 answers read from the log */
	uint32_t ip;			/* its ORPort, host order */
	uint16_t port;
	/* bench_cpu_round_trip_ns(0, 1) when bench_rut_start() began and
	 * when bench_rut_stop() had stopped everything (-1: not measured). */
	double round_trip_before_ns;
	double round_trip_after_ns;
};

/* Sets r up for kind with its DataDirectory and log paths under work
 * (<work>/tor-data or <work>/hsrelay-data): a caller may create the keys
 * there (control/relay_keys.h; tor reads the same files) before
 * bench_rut_start(). Nothing is started. */
void bench_rut_init(struct bench_rut *r, enum bench_rut_kind kind, const char *work);

/* Writes the configuration, starts the RUT (the transport first, for
 * hsrelay) and waits until it listens (tor: its "Bootstrapped 0%" notice,
 * after keys and TLS context; hsrelay: its "hsrelay: relay" start line,
 * and over memif and memif-direct the bridge or the generator seeing
 * hsrelay's memif connected, hsrelay and its memif peer started again up
 * to twice when it never does) and its ORPort accepts a TCP connection
 * (not over memif-direct: only the generator reaches it), up to 60 s
 * each. On failure prints the log's tail; the caller still calls
 * bench_rut_stop(). 0 or a negative errno (-EINVAL: memif or memif-direct
 * with more than one worker, memif-direct without o->ugen). */
int bench_rut_start(struct bench_rut *r, const char *work, const struct bench_rut_options *o);

/* Halts the memif bridge or generator (the memif peer may leave only once
 * they no longer poll), SIGTERM to the RUT (SIGKILL after 10 s) and reaps
 * it, stops the bridge or generator and removes the veth. Returns 0 when
 * every process exited cleanly with status 0 (or never ran), -1 otherwise
 * (said on stderr for the bridge and the generator). With print (or a
 * bridge that failed) the bridge's counters (all its log) go to stderr,
 * and the generator's log with print or when it failed. Read the
 * generator's counters (r->ugen.shared) before: they are gone after. */
int bench_rut_stop(struct bench_rut *r, bool print);

/* What a client needs of the RUT: its identities and ntor onion key. */
struct bench_rut_keys {
	uint8_t rsa_id[20];
	uint8_t ed_id[32];
	uint8_t ntor[32];
};

/* Loads the RUT's keys from its DataDirectory dir into *out, creating
 * them there first when it has none (control/relay_keys.h; tor reads the
 * same files), the ntor key as the running relay has it when it replaced
 * it. 0, or a negative errno (said on stderr). */
int bench_rut_read_keys(const char *dir, struct bench_rut_keys *out);

/* Copies keys into the DPDK generator's parameters (rut_rsa_id, rut_ed_id,
 * rut_ntor). */
void bench_rut_keys_to_ugen(const struct bench_rut_keys *keys, struct bench_ugen_params *p);

/* "tor" or "hsrelay". */
const char *bench_rut_name(const struct bench_rut *r);

/* How the generator reaches it: "loopback" (tor) or the transport name. */
const char *bench_rut_transport(const struct bench_rut *r, const struct bench_rut_options *o);

/* What bench_cpu_window's rut_cpu measures for kind: "process" (tor) or
 * "worker busy iterations" (hsrelay). */
const char *bench_rut_cpu_what(enum bench_rut_kind kind);

/* hsrelay's worker loop time so far, summed over its workers. */
struct bench_worker_cycles {
	double busy_seconds;	/* iterations that did work */
	double poll_seconds;	/* all iterations, sleeps excluded */
	unsigned workers;
};

/* Sends SIGUSR1 to hsrelay and waits up to 2 s for its answer in its log
 * ("hsrelay: cycles worker N busy_ns=.. poll_ns=.." lines, printed by the
 * control thread from counters the workers keep: dataplane/worker.h
 * worker_cycles()); r->cycles_answers counts the answers read so far, so
 * an old answer is never taken for a new one. Returns 0 and fills *out,
 * or -ETIMEDOUT (or -errno of kill()). */
int bench_rut_worker_cycles(struct bench_rut *r, struct bench_worker_cycles *out);

/* CPU figures at one instant, for a window between two samples. */
struct bench_cpu_sample {
	uint64_t ns;			/* CLOCK_MONOTONIC */
	double process;			/* the RUT's whole process */
	/* hsrelay: its rte-worker threads (how many, their schedstat) and
	 * their loop time (bench_rut_worker_cycles()) */
	unsigned threads;
	struct bench_schedstat workers;
	struct bench_worker_cycles cycles;
	/* the generator: this process, or over memif-direct the generator
	 * process, with its busy loop time (bench_ugen_loop_seconds()) */
	double self;
	double generator_busy;
	double busy, softirq;		/* bench_system_cpu() */
	double ksoftirqd;
};

/* What happened between two samples, in seconds. */
struct bench_cpu_window {
	double seconds;			/* wall */
	/* what cells_per_cpu_second divides by: tor's whole process;
	 * hsrelay's worker busy time, worker_thread_cpu times
	 * worker_busy_wall / (worker_busy_wall + worker_idle_poll) (the TSC
	 * times alone also count the time a worker was preempted, on a
	 * shared CPU) */
	double rut_cpu;
	unsigned worker_threads;	/* hsrelay's rte-worker threads; 0 for tor */
	/* hsrelay: its worker threads' CPU time (schedstat) and run-queue
	 * wait, and the TSC time of their busy iterations and of their empty
	 * polls; 0 for tor */
	double worker_thread_cpu, worker_runqueue_wait;
	double worker_busy_wall, worker_idle_poll;
	double process_cpu, generator_cpu;
	double generator_busy;		/* memif-direct: the generator's busy loop time */
	double system_busy, system_softirq, ksoftirqd_cpu;
	double load_average;		/* at the end */
};

/* Samples r (hsrelay: asks for its loop time first, so that both ends of
 * a window lag alike). 0, or bench_rut_worker_cycles()'s error (said on
 * stderr). */
int bench_rut_sample(struct bench_rut *r, struct bench_cpu_sample *s);

/* w = b - a (the load average is read now). */
void bench_cpu_window(const struct bench_cpu_sample *a, const struct bench_cpu_sample *b,
		struct bench_cpu_window *w);

/* hsrelay's exit counters, after bench_rut_stop(): the value of key (e.g.
 * " spliced=") on each line of its log that starts with prefix (e.g.
 * "hsrelay: stats rendezvous worker"), in order, into values (at most
 * max). Every "hsrelay: stats" line goes to stderr when print. Returns how
 * many values were found. */
unsigned bench_rut_exit_stats(const struct bench_rut *r, const char *prefix, const char *key,
		uint64_t *values, unsigned max, bool print);

/* getopt_long() entries of the options every bench with RUTs takes:
 * --tor PATH, --hsrelay PATH, --idle-sleep-usec U, --transport NAME (their
 * values 't', 'r', 'i', 'x' are bench_rut_option()'s). */
#define BENCH_RUT_LONG_OPTIONS \
	{ "tor", required_argument, NULL, 't' }, \
	{ "hsrelay", required_argument, NULL, 'r' }, \
	{ "idle-sleep-usec", required_argument, NULL, 'i' }, \
	{ "transport", required_argument, NULL, 'x' }

/* Applies option opt with argument arg to o; --hsrelay is copied into
 * hsrelay_path (len bytes), which o->hsrelay_path must point to. Returns 1
 * when opt is one of BENCH_RUT_LONG_OPTIONS, 0 when it is not, -EINVAL for
 * a bad value. */
int bench_rut_option(int opt, const char *arg, struct bench_rut_options *o, char *hsrelay_path,
		size_t len);

/* hsrelay's DPDKIdleSleepUsec for o: --idle-sleep-usec when given; else 0
 * (busy polling, as on a line-rate deployment with isolated cores) when
 * every worker has a CPU of its own, which is so on memif-direct with
 * fewer workers than CPUs (worker i on CPU i, everything else on CPU 0);
 * else 50 (the worker shares its CPU with the kernel's packet work or
 * another thread, so it must not spin). */
unsigned bench_rut_idle_sleep(const struct bench_rut_options *o);

/* What a bench checks before it starts: root (77 without: meson's
 * "skipped"), tor when need_tor (77 without), hsrelay when need_hsrelay
 * (2 without). Prints why on stderr. Returns 0 when all is there, else
 * that exit code. */
int bench_rut_check(const struct bench_rut_options *o, bool need_tor, bool need_hsrelay);

/* hsrelay next to the running binary, or one directory up (the build
 * tree), into out. */
void bench_default_hsrelay_path(char *out, size_t len);

#endif
