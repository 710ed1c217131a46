/* control/metrics.c (snapshot registry, Prometheus text format 0.0.4 and
 * the libmicrohttpd server on 127.0.0.1) and control/relay_metrics.c (the
 * relay's families, checked against a real tor 0.4.9.11's MetricsPort
 * output in vectors/tor-0.4.9-metrics/metricsport.txt). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "control/metrics.h"
#include "control/relay_metrics.h"

static const char *vectors_dir = ".";

static char *
render(const struct metrics_snapshot *s)
{
	char *text;
	size_t len;

	assert_int_equal(metrics_snapshot_render(s, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

/* Families in order, HELP and TYPE once each, escaping of help text and
 * label values, samples with and without labels. */
static struct metrics_snapshot *
example_snapshot(void)
{
	struct metrics_snapshot *s = metrics_snapshot_new();
	int a, b, c;

	assert_non_null(s);
	a = metrics_snapshot_family(s, "hsrelay_cells_total",
			"Cells per worker", METRICS_COUNTER);
	assert_int_equal(a, 0);
	b = metrics_snapshot_family(s, "hsrelay_links_open",
			"Links open\\now\nsecond line \"quoted\"", METRICS_GAUGE);
	assert_int_equal(b, 1);
	c = metrics_snapshot_family(s, "ns:empty_family", "", METRICS_GAUGE);
	assert_int_equal(c, 2);
	assert_int_equal(metrics_snapshot_sample(s, a, (struct metrics_label[]){
			{ "worker", "0" }, { "direction", "in" } }, 2, 12345), 0);
	assert_int_equal(metrics_snapshot_sample(s, a, (struct metrics_label[]){
			{ "worker", "0" }, { "direction", "out" } }, 2, UINT64_MAX), 0);
	assert_int_equal(metrics_snapshot_sample(s, b, NULL, 0, 7), 0);
	assert_int_equal(metrics_snapshot_sample(s, a, (struct metrics_label[]){
			{ "worker", "1" }, { "reason", "a\"b\\c\nd" } }, 2, 0), 0);
	return s;
}

static const char example_text[] =
	"# HELP hsrelay_cells_total Cells per worker\n"
	"# TYPE hsrelay_cells_total counter\n"
	"hsrelay_cells_total{worker=\"0\",direction=\"in\"} 12345\n"
	"hsrelay_cells_total{worker=\"0\",direction=\"out\"} 18446744073709551615\n"
	"hsrelay_cells_total{worker=\"1\",reason=\"a\\\"b\\\\c\\nd\"} 0\n"
	"# HELP hsrelay_links_open Links open\\\\now\\nsecond line \"quoted\"\n"
	"# TYPE hsrelay_links_open gauge\n"
	"hsrelay_links_open 7\n"
	"# HELP ns:empty_family \n"
	"# TYPE ns:empty_family gauge\n";

static void
test_render_exact(void **state)
{
	struct metrics_snapshot *s = example_snapshot();
	char *text = render(s);

	(void)state;
	assert_string_equal(text, example_text);
	free(text);
	metrics_snapshot_free(s);

	/* Nothing published: an empty body. */
	text = render(NULL);
	assert_string_equal(text, "");
	free(text);
	s = metrics_snapshot_new();
	text = render(s);
	assert_string_equal(text, "");
	free(text);
	metrics_snapshot_free(s);
	metrics_snapshot_free(NULL);
}

static void
test_snapshot_errors(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot_new();
	char *text;
	int f;

	(void)state;
	assert_int_equal(metrics_snapshot_family(s, "", "h", METRICS_GAUGE), -EINVAL);
	assert_int_equal(metrics_snapshot_family(s, "0abc", "h", METRICS_GAUGE), -EINVAL);
	assert_int_equal(metrics_snapshot_family(s, "a-b", "h", METRICS_GAUGE), -EINVAL);
	assert_int_equal(metrics_snapshot_family(s, "a b", "h", METRICS_GAUGE), -EINVAL);
	assert_int_equal(metrics_snapshot_family(s, "ok", NULL, METRICS_GAUGE), -EINVAL);
	assert_int_equal(metrics_snapshot_family(s, "ok", "h", (enum metrics_type)7), -EINVAL);
	f = metrics_snapshot_family(s, "ok", "h", METRICS_COUNTER);
	assert_int_equal(f, 0);
	assert_int_equal(metrics_snapshot_family(s, "ok", "again", METRICS_GAUGE), -EEXIST);

	assert_int_equal(metrics_snapshot_sample(s, 1, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_snapshot_sample(s, -1, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_snapshot_sample(s, f, (struct metrics_label[]){
			{ "__reserved", "x" } }, 1, 1), -EINVAL);
	assert_int_equal(metrics_snapshot_sample(s, f, (struct metrics_label[]){
			{ "a:b", "x" } }, 1, 1), -EINVAL);
	assert_int_equal(metrics_snapshot_sample(s, f, (struct metrics_label[]){
			{ "9a", "x" } }, 1, 1), -EINVAL);
	assert_int_equal(metrics_snapshot_sample(s, f, (struct metrics_label[]){
			{ "a", NULL } }, 1, 1), -EINVAL);
	assert_int_equal(metrics_snapshot_sample(s, f, (struct metrics_label[]){
			{ "a", "x" } }, 1, 1), 0);
	/* The same series twice. */
	assert_int_equal(metrics_snapshot_sample(s, f, (struct metrics_label[]){
			{ "a", "x" } }, 1, 2), -EEXIST);
	assert_int_equal(metrics_snapshot_sample(s, f, NULL, 0, 3), 0);
	assert_int_equal(metrics_snapshot_sample(s, f, NULL, 0, 4), -EEXIST);
	/* Refused samples left nothing behind. */
	text = render(s);
	assert_string_equal(text, "# HELP ok h\n# TYPE ok counter\nok{a=\"x\"} 1\nok 3\n");
	free(text);
	metrics_snapshot_free(s);
}

/* A histogram family: cumulative buckets with le last, +Inf = count, the
 * sum in a smaller unit rendered exactly, _count; bad buckets refused. */
static void
test_histogram(void **state)
{
	static const char *const bounds[] = { "0.001", "0.01", "0.1" };
	const uint64_t cumulative[] = { 1, 3, 3 };
	const uint64_t decreasing[] = { 2, 1, 3 };
	struct metrics_snapshot *s = metrics_snapshot_new();
	const struct metrics_label labels[] = { { "worker", "0" } };
	char *text;
	int h, c;

	(void)state;
	h = metrics_snapshot_family(s, "x_seconds", "help", METRICS_HISTOGRAM);
	c = metrics_snapshot_family(s, "y_total", "help", METRICS_COUNTER);
	assert_true(h >= 0 && c >= 0);
	/* Plain samples are not histograms, and the other way round. */
	assert_int_equal(metrics_snapshot_sample(s, h, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_snapshot_histogram(s, c, NULL, 0, bounds, cumulative, 3, 4,
			0, 0), -EINVAL);
	/* Decreasing, or more than count. */
	assert_int_equal(metrics_snapshot_histogram(s, h, labels, 1, bounds, decreasing, 3, 4,
			0, 0), -EINVAL);
	assert_int_equal(metrics_snapshot_histogram(s, h, labels, 1, bounds, cumulative, 3, 2,
			0, 0), -EINVAL);
	assert_int_equal(metrics_snapshot_histogram(s, h, (struct metrics_label[]){
			{ "le", "1" } }, 1, bounds, cumulative, 3, 4, 0, 0), -EINVAL);
	assert_int_equal(metrics_snapshot_histogram(s, h, labels, 1, bounds, cumulative, 3, 4,
			1234567890, 9), 0);
	assert_int_equal(metrics_snapshot_histogram(s, h, NULL, 0, bounds, cumulative, 3, 3,
			5, 3), 0);
	/* The same series again: refused, nothing left behind. */
	assert_int_equal(metrics_snapshot_histogram(s, h, labels, 1, bounds, cumulative, 3, 4,
			1, 0), -EEXIST);
	text = render(s);
	assert_string_equal(text,
			"# HELP x_seconds help\n"
			"# TYPE x_seconds histogram\n"
			"x_seconds_bucket{worker=\"0\",le=\"0.001\"} 1\n"
			"x_seconds_bucket{worker=\"0\",le=\"0.01\"} 3\n"
			"x_seconds_bucket{worker=\"0\",le=\"0.1\"} 3\n"
			"x_seconds_bucket{worker=\"0\",le=\"+Inf\"} 4\n"
			"x_seconds_sum{worker=\"0\"} 1.234567890\n"
			"x_seconds_count{worker=\"0\"} 4\n"
			"x_seconds_bucket{le=\"0.001\"} 1\n"
			"x_seconds_bucket{le=\"0.01\"} 3\n"
			"x_seconds_bucket{le=\"0.1\"} 3\n"
			"x_seconds_bucket{le=\"+Inf\"} 3\n"
			"x_seconds_sum 0.005\n"
			"x_seconds_count 3\n"
			"# HELP y_total help\n"
			"# TYPE y_total counter\n");
	free(text);
	metrics_snapshot_free(s);
}

/* Reads a whole file into a NUL-terminated buffer. */
static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The line of text that starts with prefix (up to its newline), or NULL. */
static const char *
find_line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *line = text; line && *line;) {
		if (strncmp(line, prefix, n) == 0)
			return line;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

static void
test_relay_families(void **state)
{
	struct relay_worker_stats workers[2];
	struct relay_metrics_control control;
	struct metrics_snapshot *s = metrics_snapshot_new();
	char path[512], *tor_text, *text;
	int tor_series = 0;

	(void)state;
	memset(workers, 0, sizeof(workers));
	memset(&control, 0, sizeof(control));
	workers[0].links_open = 3;
	workers[0].links_accepted = 10;
	workers[0].links_connected = 1;
	workers[0].cells_in = 1000;
	workers[0].cells_out = 900;
	workers[0].records_sealed = 77;
	workers[0].drop_bad_record = 2;
	workers[1].tcp.retransmit_timeouts = 3;
	workers[1].tcp.loss_probes = 14;
	workers[0].tcp.drop_checksum = 6;
	workers[1].tcp.rx_checksum_offloaded = 4321;
	workers[0].circuits.circuits_open = 5;
	workers[0].circuits.destroy_received = 4;
	workers[0].circuits.closed_protocol = 1;
	workers[1].links_open = 4;
	workers[1].links_accepted = 20;
	workers[1].links_connected = 2;
	workers[1].cells_in = 2000;
	workers[1].circuits.circuits_open = 6;
	workers[1].circuits.destroy_received = 5;
	workers[1].circuits.drop_unknown_circuit = 9;
	workers[1].padding_negotiations = 2;
	workers[1].padding_cells_sent = 17;
	workers[0].relayed_limit_write_reached = 8;
	workers[1].rate_limit_read_reached = 3;
	/* Cell latencies: worker 0 forwarded cells of 500 ns, 1.5 us and
	 * 3 ms; worker 1 spliced one of 200 ms (above the last bound). */
	latency_histogram_add(&workers[0].latency[LATENCY_KIND_FORWARD - 1], 500);
	latency_histogram_add(&workers[0].latency[LATENCY_KIND_FORWARD - 1], 1500);
	latency_histogram_add(&workers[0].latency[LATENCY_KIND_FORWARD - 1], 3000000);
	latency_histogram_add(&workers[1].latency[LATENCY_KIND_SPLICE - 1], 200000000);
	control.onionskins_processed[RELAY_METRICS_ONIONSKIN_NTOR_V3] = 42;
	control.onionskins_dropped[RELAY_METRICS_ONIONSKIN_NTOR] = 3;
	control.drop_cells = 8;
	control.bytes_read = 123456;
	control.bytes_written = 654321;
	control.rate_limit_read_reached = 31;
	control.rate_limit_write_reached = 29;
	control.est_intro[2] = 6;
	control.intro1[4] = 12;
	control.introduce2_rejected = 13;
	control.dos_circuit_rejected = 21;
	control.dos_circuit_killed_max_cell = 17;
	control.dos_circuit_killed_max_cell_outq = 16;
	control.dos_marked_address = 2;
	control.dos_marked_address_maxq = 1;
	control.dos_conn_rejected = 5;
	control.dos_concurrent_conn_rejected = 7;
	control.single_hop_refused = 4;
	control.connections_rejected = 12;
	assert_int_equal(relay_metrics_fill(s, workers, 2, &control), 0);
	text = render(s);

	/* Sums over workers under tor's names. */
	assert_non_null(find_line(text, "tor_relay_connections_total{type=\"OR\","
			"direction=\"received\",state=\"created\",family=\"ipv4\"} 30\n"));
	assert_non_null(find_line(text, "tor_relay_connections_total{type=\"OR\","
			"direction=\"initiated\",state=\"created\",family=\"ipv4\"} 3\n"));
	assert_non_null(find_line(text, "tor_relay_circuits_total{state=\"opened\"} 11\n"));
	assert_non_null(find_line(text, "tor_relay_destroy_cell_total 9\n"));
	assert_non_null(find_line(text, "tor_relay_drop_cell_total 8\n"));
	assert_non_null(find_line(text, "tor_relay_circ_proto_violation_total 1\n"));
	assert_non_null(find_line(text, "tor_relay_traffic_bytes{direction=\"read\"} 123456\n"));
	assert_non_null(find_line(text,
			"tor_relay_traffic_bytes{direction=\"written\"} 654321\n"));
	assert_non_null(find_line(text, "tor_relay_load_global_rate_limit_reached_total"
			"{side=\"read\"} 31\n"));
	assert_non_null(find_line(text, "tor_relay_load_global_rate_limit_reached_total"
			"{side=\"write\"} 29\n"));
	assert_non_null(find_line(text, "tor_relay_load_onionskins_total{type=\"ntor_v3\","
			"action=\"processed\"} 42\n"));
	assert_non_null(find_line(text, "tor_relay_load_onionskins_total{type=\"ntor\","
			"action=\"dropped\"} 3\n"));
	/* The introduction point (control/intro_point.h). */
	assert_non_null(find_line(text,
			"tor_relay_est_intro_total{action=\"unsuitable_circuit\"} 6\n"));
	assert_non_null(find_line(text, "tor_relay_intro1_total{action=\"rate_limited\"} 12\n"));
	assert_non_null(find_line(text,
			"tor_relay_dos_total{type=\"introduce2_rejected\"} 13\n"));
	/* The DoS limits (control/dos_guard.h), in tor's order. */
	{
		static const char *const dos_lines[] = {
			"tor_relay_dos_total{type=\"circuit_rejected\"} 21\n",
			"tor_relay_dos_total{type=\"circuit_killed_max_cell\"} 17\n",
			"tor_relay_dos_total{type=\"circuit_killed_max_cell_outq\"} 16\n",
			"tor_relay_dos_total{type=\"marked_address\"} 2\n",
			"tor_relay_dos_total{type=\"marked_address_maxq\"} 1\n",
			"tor_relay_dos_total{type=\"conn_rejected\"} 5\n",
			"tor_relay_dos_total{type=\"concurrent_conn_rejected\"} 7\n",
			"tor_relay_dos_total{type=\"single_hop_refused\"} 4\n",
			"tor_relay_dos_total{type=\"introduce2_rejected\"} 13\n",
		};
		const char *previous = text;

		for (size_t i = 0; i < sizeof(dos_lines) / sizeof(dos_lines[0]); i++) {
			const char *at = find_line(text, dos_lines[i]);

			assert_non_null(at);
			assert_true(at > previous);
			previous = at;
		}
	}
	assert_non_null(find_line(text, "tor_relay_connections_total{type=\"OR\","
			"direction=\"received\",state=\"rejected\",family=\"ipv4\"} 12\n"));
	/* Per worker under hsrelay's. */
	assert_non_null(find_line(text,
			"hsrelay_cells_total{worker=\"0\",direction=\"in\"} 1000\n"));
	assert_non_null(find_line(text,
			"hsrelay_cells_total{worker=\"1\",direction=\"in\"} 2000\n"));
	assert_non_null(find_line(text,
			"hsrelay_cells_total{worker=\"0\",direction=\"out\"} 900\n"));
	assert_non_null(find_line(text,
			"hsrelay_records_total{worker=\"0\",action=\"sealed\"} 77\n"));
	assert_non_null(find_line(text,
			"hsrelay_drops_total{worker=\"0\",reason=\"bad_record\"} 2\n"));
	assert_non_null(find_line(text,
			"hsrelay_drops_total{worker=\"1\",reason=\"unknown_circuit\"} 9\n"));
	/* The worker's TCP (dataplane/tcp.h). */
	assert_non_null(find_line(text,
			"hsrelay_tcp_retransmits_total{worker=\"1\",event=\"timeouts\"} 3\n"));
	assert_non_null(find_line(text,
			"hsrelay_tcp_retransmits_total{worker=\"1\",event=\"loss_probes\"} 14\n"));
	assert_non_null(find_line(text,
			"hsrelay_tcp_retransmits_total{worker=\"0\",event=\"loss_probes\"} 0\n"));
	assert_non_null(find_line(text,
			"hsrelay_tcp_drops_total{worker=\"0\",reason=\"checksum\"} 6\n"));
	assert_non_null(find_line(text, "hsrelay_tcp_checksum_offloaded_total{worker=\"1\","
			"direction=\"rx\"} 4321\n"));
	assert_non_null(find_line(text, "hsrelay_links_open{worker=\"1\"} 4\n"));
	assert_non_null(find_line(text,
			"hsrelay_padding_total{worker=\"1\",event=\"padding_sent\"} 17\n"));
	assert_non_null(find_line(text,
			"hsrelay_padding_total{worker=\"1\",event=\"negotiated\"} 2\n"));
	assert_non_null(find_line(text, "hsrelay_circuits_open{worker=\"0\"} 5\n"));
	assert_non_null(find_line(text, "# TYPE hsrelay_links_open gauge\n"));
	assert_non_null(find_line(text, "hsrelay_bandwidth_limit_reached_total{worker=\"0\","
			"bucket=\"relayed_write\"} 8\n"));
	assert_non_null(find_line(text, "hsrelay_bandwidth_limit_reached_total{worker=\"1\","
			"bucket=\"read\"} 3\n"));
	assert_non_null(find_line(text, "hsrelay_bandwidth_limit_reached_total{worker=\"1\","
			"bucket=\"relayed_read\"} 0\n"));
	/* The latency histograms, per worker and kind. */
	assert_non_null(find_line(text, "# TYPE hsrelay_cell_latency_seconds histogram\n"));
	{
		static const char *const latency_lines[] = {
			"hsrelay_cell_latency_seconds_bucket{worker=\"0\",kind=\"forward\","
				"le=\"0.000001024\"} 1\n",
			"hsrelay_cell_latency_seconds_bucket{worker=\"0\",kind=\"forward\","
				"le=\"0.000002048\"} 2\n",
			"hsrelay_cell_latency_seconds_bucket{worker=\"0\",kind=\"forward\","
				"le=\"0.002097152\"} 2\n",
			"hsrelay_cell_latency_seconds_bucket{worker=\"0\",kind=\"forward\","
				"le=\"0.004194304\"} 3\n",
			"hsrelay_cell_latency_seconds_bucket{worker=\"0\",kind=\"forward\","
				"le=\"0.134217728\"} 3\n",
			"hsrelay_cell_latency_seconds_bucket{worker=\"0\",kind=\"forward\","
				"le=\"+Inf\"} 3\n",
			"hsrelay_cell_latency_seconds_sum{worker=\"0\",kind=\"forward\"} "
				"0.003002000\n",
			"hsrelay_cell_latency_seconds_count{worker=\"0\",kind=\"forward\"} 3\n",
			"hsrelay_cell_latency_seconds_count{worker=\"0\",kind=\"splice\"} 0\n",
			"hsrelay_cell_latency_seconds_bucket{worker=\"1\",kind=\"splice\","
				"le=\"0.134217728\"} 0\n",
			"hsrelay_cell_latency_seconds_bucket{worker=\"1\",kind=\"splice\","
				"le=\"+Inf\"} 1\n",
			"hsrelay_cell_latency_seconds_sum{worker=\"1\",kind=\"splice\"} "
				"0.200000000\n",
			"hsrelay_cell_latency_seconds_count{worker=\"1\",kind=\"splice\"} 1\n",
		};
		const char *previous = text;

		for (size_t i = 0; i < sizeof(latency_lines) / sizeof(latency_lines[0]); i++) {
			const char *at = find_line(text, latency_lines[i]);

			if (at == NULL)
				fail_msg("no line %s", latency_lines[i]);
			assert_true(at > previous);
			previous = at;
		}
	}

	/* Every tor_ family hsrelay exports has tor's HELP and TYPE lines, and
	 * every tor_ series' label set appears in tor's own output. */
	snprintf(path, sizeof(path), "%s/tor-0.4.9-metrics/metricsport.txt", vectors_dir);
	tor_text = read_text(path);
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		char key[512];
		size_t n = (size_t)(end - line);

		assert_non_null(end);
		if (strncmp(line, "# HELP tor_", 11) == 0 || strncmp(line, "# TYPE tor_", 11) == 0) {
			snprintf(key, sizeof(key), "%.*s\n", (int)n, line);
			if (!find_line(tor_text, key))
				fail_msg("tor has no line '%.*s'", (int)n, line);
		} else if (strncmp(line, "tor_", 4) == 0) {
			/* Up to and including the space before the value. */
			const char *space = memrchr(line, ' ', n);
			size_t series;

			assert_non_null(space);
			series = (size_t)(space - line) + 1;

			assert_true(series <= n);
			snprintf(key, sizeof(key), "%.*s", (int)series, line);
			if (!find_line(tor_text, key))
				fail_msg("tor has no series '%s'", key);
			tor_series++;
		}
		line = end + 1;
	}
	/* connections (2 created + 1 rejected) + ... + est_rend (6 actions) +
	 * rend1 (5) + dos (9: all of tor's but the exit's stream_rejected) +
	 * est_intro (4) + intro1 (7) + global_rate_limit_reached (2). */
	assert_int_equal(tor_series, 3 + 1 + 1 + 1 + 1 + 2 + 8 + 6 + 5 + 9 + 4 + 7 + 2);
	free(tor_text);
	free(text);

	/* Limits. */
	assert_int_equal(relay_metrics_fill(s, workers, 2, &control), -EEXIST);
	metrics_snapshot_free(s);
	s = metrics_snapshot_new();
	assert_int_equal(relay_metrics_fill(s, workers, RELAY_METRICS_WORKERS_MAX + 1,
			&control), -EINVAL);
	metrics_snapshot_free(s);
}

/* AccountingMax (control/accounting.h): hsrelay's own families, only
 * when accounting is on; one hibernation state at 1. */
static void
test_relay_families_accounting(void **state)
{
	struct relay_worker_stats workers[1];
	struct relay_metrics_control control;
	struct metrics_snapshot *s = metrics_snapshot_new();
	char *text;

	(void)state;
	memset(workers, 0, sizeof(workers));
	memset(&control, 0, sizeof(control));
	assert_int_equal(relay_metrics_fill(s, workers, 1, &control), 0);
	text = render(s);
	assert_null(strstr(text, "hsrelay_accounting"));
	assert_null(strstr(text, "hsrelay_hibernation_state"));
	free(text);
	metrics_snapshot_free(s);

	s = metrics_snapshot_new();
	control.accounting_on = true;
	control.accounting_max = 4194304;
	control.accounting_read = 4306240;
	control.accounting_written = 4076977;
	control.accounting_interval_end = 1796371200;
	control.hibernation_state = 2;		/* HIBERNATE_HARD */
	control.creates_refused_hibernating = 3;
	assert_int_equal(relay_metrics_fill(s, workers, 1, &control), 0);
	text = render(s);
	assert_non_null(find_line(text, "# TYPE hsrelay_accounting_max_bytes gauge\n"));
	assert_non_null(find_line(text, "hsrelay_accounting_max_bytes 4194304\n"));
	assert_non_null(find_line(text,
			"hsrelay_accounting_bytes{direction=\"read\"} 4306240\n"));
	assert_non_null(find_line(text,
			"hsrelay_accounting_bytes{direction=\"written\"} 4076977\n"));
	assert_non_null(find_line(text,
			"hsrelay_accounting_interval_end_timestamp_seconds 1796371200\n"));
	assert_non_null(find_line(text, "hsrelay_hibernation_state{state=\"awake\"} 0\n"));
	assert_non_null(find_line(text, "hsrelay_hibernation_state{state=\"soft\"} 0\n"));
	assert_non_null(find_line(text, "hsrelay_hibernation_state{state=\"hard\"} 1\n"));
	assert_non_null(find_line(text, "# TYPE hsrelay_creates_refused_hibernating_total "
			"counter\n"));
	assert_non_null(find_line(text, "hsrelay_creates_refused_hibernating_total 3\n"));
	free(text);
	metrics_snapshot_free(s);
}

/* ---- The server, fetched with a plain socket client ---- */

struct http_reply {
	int status;
	char content_type[128];
	char *body;
	size_t body_len;
};

static int
http_request(uint16_t port, const char *request, struct http_reply *reply)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval timeout = { .tv_sec = 5 };
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1), *headers_end, *ct;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || !buf)
		return -errno;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int rc = -errno;

		close(fd);
		free(buf);
		return rc;
	}
	assert_int_equal(send(fd, request, strlen(request), MSG_NOSIGNAL),
			(ssize_t)strlen(request));
	for (;;) {
		ssize_t n;

		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0)
			fail_msg("recv: %s", strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	memset(reply, 0, sizeof(*reply));
	if (sscanf(buf, "HTTP/1.%*d %d", &reply->status) != 1)
		fail_msg("not an HTTP reply: '%s'", buf);
	headers_end = strstr(buf, "\r\n\r\n");
	assert_non_null(headers_end);
	*headers_end = '\0';
	ct = strcasestr(buf, "\r\nContent-Type: ");
	if (ct)
		sscanf(ct + 16, "%127[^\r]", reply->content_type);
	reply->body_len = len - (size_t)(headers_end + 4 - buf);
	reply->body = malloc(reply->body_len + 1);
	memcpy(reply->body, headers_end + 4, reply->body_len + 1);
	free(buf);
	return 0;
}

static void
http_get(uint16_t port, const char *path, struct http_reply *reply)
{
	char request[256];

	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"Connection: close\r\n\r\n", path);
	assert_int_equal(http_request(port, request, reply), 0);
}

static struct config_policy
policy_of(const char *line)
{
	struct config c;
	struct config_error err;

	config_init(&c);
	assert_int_equal(config_parse_text(&c, line, strlen(line), "p", &err), 0);
	return c.tor.metrics_policy;
}

static void
test_server(void **state)
{
	struct config_policy policy = policy_of("MetricsPortPolicy accept 127.0.0.1\n");
	struct metrics_server *server, *second;
	struct http_reply reply;
	uint16_t port;

	(void)state;
	assert_int_equal(metrics_server_start(0x7f000001, 0, &policy, &server), 0);
	port = metrics_server_port(server);
	assert_true(port != 0);

	/* Before any publish: 200 and an empty body. */
	http_get(port, "/metrics", &reply);
	assert_int_equal(reply.status, 200);
	assert_int_equal(reply.body_len, 0);
	free(reply.body);

	metrics_server_publish(server, example_snapshot());
	http_get(port, "/metrics", &reply);
	assert_int_equal(reply.status, 200);
	assert_string_equal(reply.content_type, "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(reply.body, example_text);
	free(reply.body);

	/* HTTP/1.0 as tor's own scrapers speak it. */
	assert_int_equal(http_request(port, "GET /metrics HTTP/1.0\r\n\r\n", &reply), 0);
	assert_int_equal(reply.status, 200);
	assert_string_equal(reply.body, example_text);
	free(reply.body);

	http_get(port, "/", &reply);
	assert_int_equal(reply.status, 404);
	free(reply.body);
	http_get(port, "/metrics/extra", &reply);
	assert_int_equal(reply.status, 404);
	free(reply.body);
	assert_int_equal(http_request(port, "POST /metrics HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: 0\r\nConnection: close\r\n\r\n", &reply), 0);
	assert_int_equal(reply.status, 405);
	free(reply.body);

	/* The port is taken. */
	assert_int_equal(metrics_server_start(0x7f000001, port, &policy, &second),
			-EADDRINUSE);

	/* A replaced snapshot is what the next request sees. */
	{
		struct metrics_snapshot *s = metrics_snapshot_new();
		int f = metrics_snapshot_family(s, "x", "y", METRICS_GAUGE);

		assert_int_equal(metrics_snapshot_sample(s, f, NULL, 0, 1), 0);
		metrics_server_publish(server, s);
	}
	http_get(port, "/metrics", &reply);
	assert_string_equal(reply.body, "# HELP x y\n# TYPE x gauge\nx 1\n");
	free(reply.body);

	metrics_server_stop(server);
	/* The socket is closed. */
	assert_int_equal(http_request(port, "GET /metrics HTTP/1.0\r\n\r\n", &reply),
			-ECONNREFUSED);
	metrics_server_stop(NULL);
}

static void
test_server_policy(void **state)
{
	static const char *const refusing[] = {
		"MetricsPortPolicy reject 127.0.0.1, accept *\n",
		"MetricsPortPolicy accept 10.0.0.0/8\n",
		"MetricsPortPolicy accept 127.0.0.2\n",
		"",	/* no policy: tor's reject-all default */
	};
	static const char *const accepting[] = {
		"MetricsPortPolicy accept 127.0.0.0/8\n",
		"MetricsPortPolicy reject 127.0.0.2\nMetricsPortPolicy accept *\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(refusing) / sizeof(refusing[0]); i++) {
		struct config_policy policy = policy_of(refusing[i]);
		struct metrics_server *server;
		struct http_reply reply;
		uint16_t port;

		assert_int_equal(metrics_server_start(0x7f000001, 0, &policy, &server), 0);
		port = metrics_server_port(server);
		metrics_server_publish(server, example_snapshot());
		/* Refused whatever the path. */
		http_get(port, "/metrics", &reply);
		assert_int_equal(reply.status, 403);
		assert_null(strstr(reply.body, "hsrelay_"));
		free(reply.body);
		http_get(port, "/other", &reply);
		assert_int_equal(reply.status, 403);
		free(reply.body);
		metrics_server_stop(server);
	}
	for (size_t i = 0; i < sizeof(accepting) / sizeof(accepting[0]); i++) {
		struct config_policy policy = policy_of(accepting[i]);
		struct metrics_server *server;
		struct http_reply reply;

		assert_int_equal(metrics_server_start(0x7f000001, 0, &policy, &server), 0);
		http_get(metrics_server_port(server), "/metrics", &reply);
		assert_int_equal(reply.status, 200);
		free(reply.body);
		metrics_server_stop(server);
	}
}

/* A publisher replaces the snapshot as fast as it can while requests are
 * served: every body must be one whole snapshot (a == b == c). */
struct publisher {
	struct metrics_server *server;
	volatile bool stop;
	uint64_t published;
};

static void *
publish_loop(void *arg)
{
	struct publisher *p = arg;

	for (uint64_t i = 1; !p->stop; i++) {
		struct metrics_snapshot *s = metrics_snapshot_new();
		const char *names[] = { "a_total", "b_total", "c_total" };

		for (int k = 0; k < 3; k++) {
			int f = metrics_snapshot_family(s, names[k], "consistency", METRICS_COUNTER);

			for (unsigned w = 0; w < 8; w++) {
				char worker[4];

				snprintf(worker, sizeof(worker), "%u", w);
				/* cmocka's asserts belong to the test's thread. */
				if (metrics_snapshot_sample(s, f, (struct metrics_label[]){
						{ "worker", worker } }, 1, i) != 0)
					abort();
			}
		}
		metrics_server_publish(p->server, s);
		p->published = i;
	}
	return NULL;
}

static void
test_concurrent_publish(void **state)
{
	struct config_policy policy = policy_of("MetricsPortPolicy accept 127.0.0.1\n");
	struct publisher p = { 0 };
	pthread_t thread;
	uint64_t last = 0;
	int distinct = 0;

	(void)state;
	assert_int_equal(metrics_server_start(0x7f000001, 0, &policy, &p.server), 0);
	assert_int_equal(pthread_create(&thread, NULL, publish_loop, &p), 0);
	for (int r = 0; r < 200; r++) {
		struct http_reply reply;
		unsigned long long first = 0, v;
		const char *line = NULL;
		int samples = 0;

		http_get(metrics_server_port(p.server), "/metrics", &reply);
		assert_int_equal(reply.status, 200);
		/* Every sample line carries the same value. */
		for (line = reply.body; *line; line = strchr(line, '\n') + 1) {
			const char *space;

			assert_non_null(strchr(line, '\n'));
			if (*line == '#')
				continue;
			space = strchr(line, ' ');
			assert_non_null(space);
			v = strtoull(space + 1, NULL, 10);
			if (samples++ == 0)
				first = v;
			else if (v != first)
				fail_msg("torn snapshot: %llu and %llu in one body", first, v);
		}
		if (samples) {
			assert_int_equal(samples, 24);
			if (first != last)
				distinct++;
			last = first;
		}
		free(reply.body);
	}
	p.stop = true;
	pthread_join(thread, NULL);
	metrics_server_stop(p.server);
	/* The publisher did run while requests were served. */
	assert_true(p.published > 1);
	assert_true(distinct > 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_snapshot_errors),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_relay_families),
		cmocka_unit_test(test_relay_families_accounting),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_server_policy),
		cmocka_unit_test(test_concurrent_publish),
	};

	if (argc > 1)
		vectors_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
