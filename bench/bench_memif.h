/* The memif transport of the benches' hsrelay (bench_rut.h, --transport
 * memif of hsrelay-bench relay and rendezvous): hsrelay's port is net_memif
 * (shared-memory rings, no system call and no kernel work in its worker),
 * and a bridge process moves frames between that memif and a veth end the
 * kernel of the bench's namespace routes to, where the generator's kernel
 * sockets are. The kernel's work for the generator (veth, TCP, socket
 * delivery) runs in the bridge's and the generator's system calls, so
 * none of it is charged to hsrelay's worker.
 *
 *   generator sockets -- kernel TCP -- veth -- [bridge: net_af_packet |
 *   net_memif server] == memif rings == [hsrelay: net_memif client]
 */
#ifndef HSRELAY_BENCH_BENCH_MEMIF_H
#define HSRELAY_BENCH_BENCH_MEMIF_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The bridge process (hsrelay-bench memif-bridge, re-executed from this
 * binary), as seen by the bench. */
struct bench_memif_bridge {
	pid_t pid;
	char socket_path[PATH_MAX];	/* the memif server's control socket */
	char log[PATH_MAX];		/* its stdout and stderr */
	char prefix[32];		/* its EAL --file-prefix */
};

/* Starts the bridge between the veth end iface (net_af_packet) and a
 * memif server whose socket is made in the directory work, with EAL lcore
 * 0 allowed on the CPUs in cpus ("0-1"); waits until both ports run.
 * idle_sleep_usec: the bridge's back-off after empty polls. Returns 0, or
 * a negative errno (the bridge's log is printed to stderr; anything
 * started is stopped). */
int bench_memif_bridge_start(struct bench_memif_bridge *bridge, const char *work,
		const char *iface, const char *cpus, unsigned idle_sleep_usec);

/* Makes the bridge stop polling the memif (SIGUSR1) and waits until it
 * says so: the memif peer may then go away (a peer's disconnect unmaps
 * the shared rings, which must not happen under a polling lcore).
 * Returns 0 or -ETIMEDOUT. */
int bench_memif_bridge_halt(struct bench_memif_bridge *bridge);

/* Stops the bridge (SIGTERM, SIGKILL after a timeout), removes its EAL
 * runtime directory and its socket. Returns 0 for a clean exit, -1
 * otherwise. Does nothing for a bridge never started. */
int bench_memif_bridge_stop(struct bench_memif_bridge *bridge);

/* Waits up to timeout_ns for the bridge to see its memif peer connected.
 * Returns 0, -ETIMEDOUT, or -ECHILD when the bridge is gone. */
int bench_memif_bridge_wait_connected(struct bench_memif_bridge *bridge, uint64_t timeout_ns);

/* Copies the bridge's counter line ("memif-bridge: stats ...", written on
 * exit), or with all its whole log, to to, indented. */
void bench_memif_bridge_report(const struct bench_memif_bridge *bridge, FILE *to, bool all);

/* The bridge process itself: argv is "memif-bridge --socket PATH --iface
 * IF --cpus LIST --prefix P [--idle-sleep-usec U]". Returns an exit code. */
int bench_memif_bridge_main(int argc, char **argv);

#endif
