/* The Prometheus metrics endpoint (MetricsPort), served by the control
 * process on a kernel socket with libmicrohttpd.
 *
 * Who touches what: workers never do. The control thread collects worker
 * statistics on its own schedule, builds a struct metrics_snapshot (families
 * of counters, gauges and histograms with labels) and hands it to the
 * server with metrics_server_publish(); the server keeps the latest one.
 * The HTTP thread (libmicrohttpd's) renders that snapshot for each GET
 * /metrics under a mutex owned by this module: the slow path only, so a
 * lock is fine there.
 *
 * Output is the Prometheus text exposition format 0.0.4: per family one
 * "# HELP", one "# TYPE" line and its samples, in the order they were
 * added; help text escapes '\' and newline, label values also '"'. Names
 * shared with tor's MetricsPort keep tor's spelling (control/relay_metrics.h).
 *
 * Requests: GET /metrics only; another path gets 404, another method 405,
 * and a client address the policy (MetricsPortPolicy) does not accept gets
 * 403 whatever it asked for. tor closes such connections without an
 * answer; a status is kinder to an operator debugging a scrape.
 */
#ifndef HSRELAY_CONTROL_METRICS_H
#define HSRELAY_CONTROL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "control/config.h"

/* The Content-Type of /metrics. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_type {
	METRICS_COUNTER = 0,
	METRICS_GAUGE,
	/* samples added with metrics_snapshot_histogram() only */
	METRICS_HISTOGRAM,
};

/* One label of a sample; both strings are copied. */
struct metrics_label {
	const char *name;
	const char *value;
};

struct metrics_snapshot;
struct metrics_server;

/* An empty snapshot, or NULL when out of memory. */
struct metrics_snapshot *metrics_snapshot_new(void);

/* Frees s and everything it holds; NULL is ignored. */
void metrics_snapshot_free(struct metrics_snapshot *s);

/* Adds a family. name must be a Prometheus metric name
 * ([a-zA-Z_:][a-zA-Z0-9_:]*), help any text (copied). Returns the family's
 * id (>= 0) for metrics_snapshot_sample(), -EINVAL for a bad name,
 * -EEXIST when s already has a family of that name, -ENOMEM. */
int metrics_snapshot_family(struct metrics_snapshot *s, const char *name,
		const char *help, enum metrics_type type);

/* Adds a sample to family with n_labels labels (names
 * [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"; values any text) in the
 * given order. hsrelay counts things, so values are non-negative integers.
 * Returns 0, -EINVAL (no such family, bad label name), -EEXIST (the family
 * has a sample with the same labels) or -ENOMEM; s is unchanged on error. */
int metrics_snapshot_sample(struct metrics_snapshot *s, int family,
		const struct metrics_label *labels, size_t n_labels, uint64_t value);

/* Adds one series to a METRICS_HISTOGRAM family, as the exposition
 * format has it: name_bucket{labels,le="bounds[i]"} cumulative[i] for
 * each of the n_bounds finite bounds (ascending; the caller spells them),
 * name_bucket{labels,le="+Inf"} count, name_sum{labels} and
 * name_count{labels} count. cumulative[] must not decrease nor exceed
 * count. The sum is an integer in a smaller unit, rendered exactly as
 * sum / 10^sum_decimals (nanoseconds as seconds: 9). Returns 0, -EINVAL
 * (not a histogram family, bad buckets, a label named le, bad label
 * name), -EEXIST or -ENOMEM; s is unchanged on error. */
int metrics_snapshot_histogram(struct metrics_snapshot *s, int family,
		const struct metrics_label *labels, size_t n_labels, const char *const bounds[],
		const uint64_t cumulative[], size_t n_bounds, uint64_t count, uint64_t sum,
		unsigned sum_decimals);

/* Renders s in the text exposition format into a NUL-terminated buffer
 * the caller frees. Returns 0 with *text and *len (without the NUL) set,
 * or -ENOMEM. */
int metrics_snapshot_render(const struct metrics_snapshot *s, char **text,
		size_t *len);

/* Starts serving on address:port (host order; port 0 picks a free port,
 * see metrics_server_port()) with a copy of policy. The listening socket
 * is opened here, so the errors are bind's and listen's: -EADDRINUSE,
 * -EADDRNOTAVAIL, -EACCES, ...; -ENOMEM; -EIO when libmicrohttpd does not
 * start. Until the first publish, /metrics answers an empty body. */
int metrics_server_start(uint32_t address, uint16_t port,
		const struct config_policy *policy, struct metrics_server **out);

/* The port the server listens on. */
uint16_t metrics_server_port(const struct metrics_server *server);

/* Makes snapshot the one served from now on; the server owns it (and
 * frees the previous one). A request being rendered finishes with the
 * previous snapshot. */
void metrics_server_publish(struct metrics_server *server,
		struct metrics_snapshot *snapshot);

/* Replaces the server's policy with a copy of policy (a reloaded
 * MetricsPortPolicy); requests that arrive afterwards are checked against
 * it. */
void metrics_server_set_policy(struct metrics_server *server,
		const struct config_policy *policy);

/* Stops the HTTP thread, closes the socket and frees everything; NULL is
 * ignored. */
void metrics_server_stop(struct metrics_server *server);

#endif
