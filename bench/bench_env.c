/* Commands, children, namespaces and CPU figures for the benches: see
 * bench_env.h. */
#include "bench/bench_env.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"

volatile sig_atomic_t bench_interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

void
bench_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void
bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000) };

	nanosleep(&ts, NULL);
}

int
bench_run_command(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
bench_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

bool
bench_file_contains(const char *path, const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

void
bench_print_log_tail(const char *path, unsigned lines)
{
	static char buf[64][256];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	if (lines > 64)
		lines = 64;
	while (fgets(buf[n % 64], sizeof(buf[0]), f) != NULL)
		n++;
	fclose(f);
	for (unsigned i = n > lines ? n - lines : 0; i < n; i++)
		fprintf(stderr, "  %s", buf[i % 64]);
}

pid_t
bench_spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	unsetenv("MALLOC_PERTURB_");
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	execv(argv[0], argv);
	_exit(127);
}

bool
bench_child_alive(pid_t pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

int
bench_child_stop(pid_t *pid, uint64_t timeout_ns)
{
	uint64_t end = bench_now_ns() + timeout_ns;
	bool killed = false;
	int status = 0;

	if (*pid <= 0)
		return 0;
	kill(*pid, SIGTERM);
	for (;;) {
		pid_t w = waitpid(*pid, &status, WNOHANG);

		if (w == *pid || (w < 0 && errno != EINTR))
			break;
		if (!killed && bench_now_ns() > end) {
			kill(*pid, SIGKILL);
			killed = true;
		}
		bench_sleep_ns(10000000);
	}
	*pid = 0;
	return killed || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ? -1 : 0;
}

/* ---- namespaces and the work directory ------------------------------- */

int
bench_netns_create(const char *name)
{
	return BENCH_RUN("ip", "netns", "add", (char *)name) == 0 ? 0 : -EPERM;
}

int
bench_netns_enter(const char *name)
{
	char path[256];
	int fd, rc;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc < 0 ? -errno : 0;
}

void
bench_netns_delete(const char *name)
{
	BENCH_RUN("ip", "netns", "del", (char *)name);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
bench_environment_cleanup(struct bench_environment *env)
{
	if (env->netns_made)
		bench_netns_delete(env->netns);
	env->netns_made = false;
	if (env->work[0] != '\0')
		nftw(env->work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	env->work[0] = '\0';
}

int
bench_environment_setup(struct bench_environment *env, const char *tag, const char *lo_addr)
{
	char addr[64];
	int rc;

	memset(env, 0, sizeof(*env));
	snprintf(env->work, sizeof(env->work), "/tmp/hsrelay-bench-%s-XXXXXX", tag);
	if (mkdtemp(env->work) == NULL) {
		env->work[0] = '\0';
		return -errno;
	}
	snprintf(env->netns, sizeof(env->netns), "hsb%.4s%d", tag, (int)getpid());
	rc = bench_netns_create(env->netns);
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench %s: ip netns add failed (iproute2 and root needed)\n",
				tag);
		return rc;
	}
	env->netns_made = true;
	rc = bench_netns_enter(env->netns);
	if (rc < 0)
		return rc;
	if (BENCH_RUN("ip", "link", "set", "lo", "up") != 0 ||
	    BENCH_RUN("sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=0",
		"net.ipv4.conf.default.arp_ignore=0", "net.ipv4.conf.all.arp_announce=0",
		"net.ipv4.conf.default.arp_announce=0", "net.ipv4.conf.all.rp_filter=0",
		"net.ipv4.conf.default.rp_filter=0") != 0)
		return -EIO;
	if (lo_addr != NULL) {
		snprintf(addr, sizeof(addr), "%s/32", lo_addr);
		if (BENCH_RUN("ip", "addr", "add", addr, "dev", "lo") != 0)
			return -EIO;
	}
	return 0;
}

/* ---- CPU time -------------------------------------------------------- */

/* utime + stime of /proc/.../stat in clock ticks, or -1. */
static long long
stat_ticks(const char *path)
{
	char buf[1024];
	unsigned long long utime, stime;
	FILE *f = fopen(path, "r");
	size_t n;
	char *p;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After "(comm)": state ppid pgrp session tty_nr tpgid flags minflt
	 * cminflt majflt cmajflt utime stime (proc(5) fields 3-15). */
	if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&utime, &stime) != 2)
		return -1;
	return (long long)(utime + stime);
}

static double
ticks_to_seconds(long long ticks)
{
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

double
bench_process_cpu(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return ticks_to_seconds(stat_ticks(path));
}

/* The first line of a /proc comm file into comm ("" when unreadable). */
static void
read_comm(const char *path, char *comm, size_t len)
{
	FILE *f = fopen(path, "r");

	comm[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(comm, (int)len, f) == NULL)
		comm[0] = '\0';
	fclose(f);
}

/* Calls fn(arg, path of the thread's /proc directory) for every thread of
 * pid whose name starts with prefix ("" for all). */
static void
for_each_thread(pid_t pid, const char *prefix, void (*fn)(void *arg, const char *dir), void *arg)
{
	char dir[64];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[600], comm[64];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
		read_comm(path, comm, sizeof(comm));
		if (strncmp(comm, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fn(arg, path);
	}
	closedir(d);
}

struct tick_sum {
	long long total;
	unsigned count;
};

static void
add_ticks(void *arg, const char *dir)
{
	struct tick_sum *sum = arg;
	char path[700];
	long long t;

	snprintf(path, sizeof(path), "%s/stat", dir);
	t = stat_ticks(path);
	if (t >= 0) {
		sum->total += t;
		sum->count++;
	}
}

double
bench_threads_cpu(pid_t pid, const char *prefix, unsigned *count)
{
	struct tick_sum sum = { 0, 0 };

	for_each_thread(pid, prefix, add_ticks, &sum);
	*count = sum.count;
	return ticks_to_seconds(sum.total);
}

/* Adds a thread's /proc schedstat: time on a CPU and time waiting on a
 * run queue, both in ns. */
static void
add_schedstat(void *arg, const char *dir)
{
	struct bench_schedstat *sum = arg;
	unsigned long long run, wait;
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/schedstat", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
		sum->run_ns += run;
		sum->wait_ns += wait;
		sum->threads++;
	}
	fclose(f);
}

void
bench_threads_schedstat(pid_t pid, const char *prefix, struct bench_schedstat *out)
{
	memset(out, 0, sizeof(*out));
	for_each_thread(pid, prefix, add_schedstat, out);
}

uint64_t
bench_process_cpu_ns(pid_t pid)
{
	struct bench_schedstat sum;

	bench_threads_schedstat(pid, "", &sum);
	return sum.run_ns;
}

/* This kernel samples CPU time per tick (no IRQ time accounting): a tick
 * that lands in softirq is charged to the task it interrupted as well, so
 * softirq work done while a measured task ran is inside its own figure;
 * what ran in ksoftirqd is in neither, and shows here. */
void
bench_system_cpu(double *busy, double *softirq)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	*busy = *softirq = 0;
	if (f == NULL)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) == 8) {
		*busy = ticks_to_seconds((long long)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]));
		*softirq = ticks_to_seconds((long long)v[6]);
	}
	fclose(f);
}

double
bench_ksoftirqd_cpu(void)
{
	long long total = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[64];

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		read_comm(path, comm, sizeof(comm));
		if (strncmp(comm, "ksoftirqd/", 10) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		long long t = stat_ticks(path);

		if (t > 0)
			total += t;
	}
	closedir(d);
	return ticks_to_seconds(total);
}

double
bench_self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double
bench_load_average(void)
{
	double load = 0;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lf", &load) != 1)
		load = 0;
	fclose(f);
	return load;
}

/* ---- CPU placement --------------------------------------------------- */

#define ROUND_TRIPS 2000
#define ROUND_TRIP_SAMPLES 5

struct ping_pong {
	/* The line that moves: odd values are written by the first side,
	 * even ones by the second. */
	alignas(64) volatile uint64_t turn;
	/* The rest on lines of their own. */
	alignas(64) int cpu[2];
	/* Each thread says whether it got its CPU; 0 = not yet. */
	volatile int placed[2];
	uint64_t ns[ROUND_TRIP_SAMPLES];
};

struct ping_pong_side {
	struct ping_pong *pp;
	unsigned side;
};

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *
ping_pong_run(void *arg)
{
	const struct ping_pong_side *me = arg;
	struct ping_pong *pp = me->pp;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(pp->cpu[me->side], &set);
	pp->placed[me->side] =
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0 ? 1 : -1;
	/* Both must be in place before any timing, and both give up if one
	 * could not be placed. */
	while (pp->placed[!me->side] == 0)
		sched_yield();
	if (pp->placed[0] < 0 || pp->placed[1] < 0)
		return NULL;
	for (unsigned s = 0; s < ROUND_TRIP_SAMPLES; s++) {
		uint64_t base = (uint64_t)s * 2 * ROUND_TRIPS;
		uint64_t start = monotonic_ns();

		for (uint64_t i = 0; i < ROUND_TRIPS; i++) {
			uint64_t mine = base + 2 * i + 1 + me->side;

			while (pp->turn != mine - 1)
				;
			pp->turn = mine;
		}
		if (me->side == 0) {
			/* The last reply closes the sample. */
			while (pp->turn != base + 2 * ROUND_TRIPS)
				;
			pp->ns[s] = monotonic_ns() - start;
		}
	}
	return NULL;
}

static int
compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double
bench_cpu_round_trip_ns(int cpu_a, int cpu_b)
{
	struct ping_pong *pp;
	struct ping_pong_side sides[2];
	pthread_t threads[2];
	unsigned started = 0;
	double result = -1;

	if (cpu_a < 0 || cpu_b < 0 || cpu_a == cpu_b || cpu_a >= CPU_SETSIZE ||
	    cpu_b >= CPU_SETSIZE)
		return -1;
	pp = aligned_alloc(64, sizeof(*pp));
	if (pp == NULL)
		return -1;
	memset(pp, 0, sizeof(*pp));
	pp->cpu[0] = cpu_a;
	pp->cpu[1] = cpu_b;
	for (unsigned i = 0; i < 2; i++) {
		sides[i] = (struct ping_pong_side){ .pp = pp, .side = i };
		if (pthread_create(&threads[i], NULL, ping_pong_run, &sides[i]) != 0) {
			/* The started side must not wait for this one. */
			pp->placed[i] = -1;
			break;
		}
		started++;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (started == 2 && pp->placed[0] > 0 && pp->placed[1] > 0) {
		qsort(pp->ns, ROUND_TRIP_SAMPLES, sizeof(pp->ns[0]), compare_u64);
		result = (double)pp->ns[ROUND_TRIP_SAMPLES / 2] / ROUND_TRIPS;
	}
	free(pp);
	return result;
}

static void
print_round_trip(double ns)
{
	if (ns < 0)
		printf("null");
	else
		printf("%.0f", ns);
}

void
bench_print_line_end(double round_trip_before_ns, double round_trip_after_ns,
		double load_average)
{
	printf(",\"cpu_round_trip_ns\":[");
	print_round_trip(round_trip_before_ns);
	printf(",");
	print_round_trip(round_trip_after_ns);
	printf("],\"load_average\":%.2f,\"cpu\":\"%s\"}\n", load_average, bench_cpu_model());
	fflush(stdout);
}

int
bench_parse_rounds(const char *text, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (end == text || *end != '\0' || v < 1 || v > BENCH_MAX_ROUNDS)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void
bench_print_ratio_summary(const char *bench, const char *load, const char *case_key,
		unsigned case_value, const double *ratios, unsigned n)
{
	double sorted[BENCH_MAX_ROUNDS];
	double median;

	if (n == 0 || n > BENCH_MAX_ROUNDS)
		return;
	memcpy(sorted, ratios, n * sizeof(ratios[0]));
	qsort(sorted, n, sizeof(sorted[0]), compare_double);
	median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	printf("{\"bench\":\"%s\",\"impl\":\"ratio_summary\",", bench);
	if (load != NULL)
		printf("\"load\":\"%s\",", load);
	printf("\"%s\":%u,\"rounds\":%u,\"ratios\":[", case_key, case_value, n);
	for (unsigned i = 0; i < n; i++)
		printf("%s%.3f", i > 0 ? "," : "", ratios[i]);
	printf("],\"ratio_vs_reference_median\":%.3f,\"ratio_vs_reference_min\":%.3f,"
	       "\"ratio_vs_reference_max\":%.3f,\"cpu\":\"%s\"}\n", median, sorted[0],
	       sorted[n - 1], bench_cpu_model());
	fflush(stdout);
}

void
bench_eal_runtime_dir_remove(const char *prefix)
{
	char dir[128];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[400];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
