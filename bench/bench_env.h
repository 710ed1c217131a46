/* The process side of the hsrelay-bench subcommands that run other
 * programs: commands and children, network namespaces, work directories,
 * and the CPU-time figures read from /proc. Shared by bench_tcp.c,
 * bench_relay.c and bench_rend.c (through bench_rut.h). */
#ifndef HSRELAY_BENCH_BENCH_ENV_H
#define HSRELAY_BENCH_BENCH_ENV_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Set by the handler bench_catch_signals() installs (SIGINT, SIGTERM,
 * SIGHUP); the benches' wait loops give up when it is set. */
extern volatile sig_atomic_t bench_interrupted;

/* Installs the handler above. */
void bench_catch_signals(void);

void bench_sleep_ns(uint64_t ns);

/* Runs argv (no shell, PATH searched) with stdout and stderr to
 * /dev/null. Returns its exit status, or -1 when it could not run or died
 * of a signal. */
int bench_run_command(char *const argv[]);

#define BENCH_RUN(...) bench_run_command((char *const[]){ __VA_ARGS__, NULL })

/* Writes text to path (created or truncated). 0 or -errno. */
int bench_write_file(const char *path, const char *text);

/* True when a line of path contains needle (lines up to 1 KiB). */
bool bench_file_contains(const char *path, const char *needle);

/* The last lines (at most 64) of path on stderr, indented. */
void bench_print_log_tail(const char *path, unsigned lines);

/* Starts argv[0] (a path, no PATH search) with stdout and stderr to log;
 * the child dies with this process (PR_SET_PDEATHSIG) and gets default
 * signal dispositions. Returns its pid, or -errno when fork failed. */
pid_t bench_spawn(char *const argv[], const char *log);

/* True while child pid has not exited (reaps it when it has). */
bool bench_child_alive(pid_t pid);

/* SIGTERM to child *pid, SIGKILL after timeout_ns; reaps it and sets *pid
 * to 0. Returns 0 when it exited with status 0 of its own, -1 otherwise;
 * 0 when *pid was not set. */
int bench_child_stop(pid_t *pid, uint64_t timeout_ns);

/* ip netns add NAME. 0, or -EPERM when it failed (iproute2, root). */
int bench_netns_create(const char *name);

/* Moves the calling thread into namespace NAME (setns). 0 or -errno. */
int bench_netns_enter(const char *name);

/* ip netns del NAME. */
void bench_netns_delete(const char *name);

/* Removes /var/run/dpdk/PREFIX and the files in it: EAL keeps a runtime
 * directory per --file-prefix even with --no-shconf or --in-memory. */
void bench_eal_runtime_dir_remove(const char *prefix);

/* One run's surroundings: a namespace hsb<tag><pid> with lo up (and
 * address lo_addr on it when not NULL), ARP answered for any local address
 * on any link and no reverse-path filter, this process moved into it (the
 * programs it starts inherit it), and a work directory
 * /tmp/hsrelay-bench-<tag>-XXXXXX. */
struct bench_environment {
	char netns[32];
	bool netns_made;
	char work[PATH_MAX];
};

/* Sets up env as above. On failure what was made stays recorded in env
 * for bench_environment_cleanup(). 0 or a negative errno. */
int bench_environment_setup(struct bench_environment *env, const char *tag,
		const char *lo_addr);

/* Deletes the namespace and the work directory with everything in it.
 * Safe to call twice. */
void bench_environment_cleanup(struct bench_environment *env);

/* ---- CPU time -------------------------------------------------------- */

/* utime + stime of a process (all its threads), in seconds, from
 * /proc/PID/stat (clock ticks); -1 / CLK_TCK when unreadable. */
double bench_process_cpu(pid_t pid);

/* Sum of utime + stime over the threads of pid whose name starts with
 * prefix, in seconds; *count gets how many there were. */
double bench_threads_cpu(pid_t pid, const char *prefix, unsigned *count);

/* What /proc/PID/task/TID/schedstat says (ns resolution, unlike the
 * tick-sampled stat), summed over threads. */
struct bench_schedstat {
	uint64_t run_ns;	/* on a CPU (sum_exec_runtime) */
	uint64_t wait_ns;	/* runnable, waiting on a run queue */
	unsigned threads;
};

/* The schedstat of pid's threads whose name starts with prefix ("" for
 * all) into *out (zero when there are none). */
void bench_threads_schedstat(pid_t pid, const char *prefix, struct bench_schedstat *out);

/* Time every thread of pid spent on a CPU, in ns (schedstat). */
uint64_t bench_process_cpu_ns(pid_t pid);

/* The machine's busy time (user, nice, system, irq, softirq, steal) and
 * its softirq part, all CPUs, in seconds, from /proc/stat. */
void bench_system_cpu(double *busy, double *softirq);

/* CPU time of the kernel's ksoftirqd/N threads, in seconds. */
double bench_ksoftirqd_cpu(void);

/* This process's own CPU time (getrusage), in seconds. */
double bench_self_cpu(void);

/* The 1-minute load average, or 0. */
double bench_load_average(void);

/* How long a cache line takes to go from CPU a to CPU b and back, in ns:
 * two threads pinned to them pass a counter in one line, and the median of
 * a few samples of many round trips is returned; -1 when a thread could
 * not be placed (fewer CPUs, affinity refused). Both CPUs should be idle.
 * Why the benches print it: on a VM the host places the two vCPUs, and
 * moves them, on cores that share a cache or on cores that do not; the
 * second makes every transfer between the bench's two CPUs several times
 * dearer (on the Zen 5 VM of docs/STATUS.md 50-140 ns against 420), and
 * what crosses between them is the memif ring (hsrelay) or the socket
 * buffers (kernel, tor). */
double bench_cpu_round_trip_ns(int cpu_a, int cpu_b);

/* Ends a case's JSON line on stdout (and flushes it):
 * "cpu_round_trip_ns":[before,after] (bench_cpu_round_trip_ns(0, 1) just
 * before the case started and just after it ended; null where not
 * measured), "load_average" and "cpu" (the model). */
void bench_print_line_end(double round_trip_before_ns, double round_trip_after_ns,
		double load_average);

/* --rounds: the most rounds a bench repeats its tor / hsrelay pair. */
#define BENCH_MAX_ROUNDS 20

/* --rounds N: a whole number 1..BENCH_MAX_ROUNDS into *out; -EINVAL for
 * anything else (trailing characters included). */
int bench_parse_rounds(const char *text, unsigned *out);

/* After --rounds N alternations of the reference (tor, the kernel) and
 * hsrelay, one line for them: {"bench": bench, "impl": "ratio_summary",
 * ["load": load,] case_key: case_value, "rounds": n, "ratios": [...],
 * "ratio_vs_reference_median", "_min", "_max", "cpu"} (no "load" when
 * load is NULL). The host moves a VM's figures between runs by a quarter
 * or more (README), so a median of alternated rounds says more than one
 * pair. */
void bench_print_ratio_summary(const char *bench, const char *load, const char *case_key,
		unsigned case_value, const double *ratios, unsigned n);

#endif
