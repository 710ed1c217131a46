#include "control/relay_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Adds one family and its samples; a small table keeps the names, help
 * texts and labels in one place. */
struct family_builder {
	struct metrics_snapshot *s;
	int id;
	int rc;
};

static void
family(struct family_builder *b, const char *name, const char *help,
		enum metrics_type type)
{
	if (b->rc < 0)
		return;
	b->id = metrics_snapshot_family(b->s, name, help, type);
	if (b->id < 0)
		b->rc = b->id;
}

static void
sample(struct family_builder *b, const struct metrics_label *labels, size_t n,
		uint64_t value)
{
	if (b->rc < 0)
		return;
	b->rc = metrics_snapshot_sample(b->s, b->id, labels, n, value);
}

/* One per-worker sample with an extra label. */
static void
worker_sample(struct family_builder *b, const char *worker, const char *label,
		const char *value_name, uint64_t value)
{
	struct metrics_label labels[2] = {
		{ "worker", worker },
		{ label, value_name },
	};

	sample(b, labels, label ? 2 : 1, value);
}

/* Nanoseconds as seconds in decimal, exactly, without trailing zeros:
 * the le= of a latency bucket (1024 -> "0.000001024"). */
static void
seconds_text(char *out, size_t len, uint64_t ns)
{
	size_t n;

	snprintf(out, len, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
}

/* hsrelay_cell_latency_seconds{worker,kind}: the workers' histograms
 * (dataplane/latency_histogram.h), sums in nanoseconds rendered as
 * seconds. */
static void
fill_latency(struct family_builder *b, const struct relay_worker_stats *workers, unsigned n,
		char names[][12])
{
	static const char *const kinds[LATENCY_KINDS] = { "forward", "splice" };
	char bound_text[LATENCY_HISTOGRAM_BOUNDS][24];
	const char *bounds[LATENCY_HISTOGRAM_BOUNDS];

	for (unsigned i = 0; i < LATENCY_HISTOGRAM_BOUNDS; i++) {
		seconds_text(bound_text[i], sizeof(bound_text[i]), latency_histogram_bound_ns(i));
		bounds[i] = bound_text[i];
	}
	family(b, "hsrelay_cell_latency_seconds", "Time relay cells spent in hsrelay per "
			"worker, from the RX burst that brought them to the sealing of the "
			"record that sends them, queues and other workers' rings included; "
			"kind forward: relay cells passed on along their circuit, splice: "
			"relay cells passed across a rendezvous splice", METRICS_HISTOGRAM);
	for (unsigned w = 0; w < n; w++) {
		for (unsigned k = 0; k < LATENCY_KINDS; k++) {
			const struct latency_histogram *h = &workers[w].latency[k];
			struct metrics_label labels[2] = {
				{ "worker", names[w] }, { "kind", kinds[k] },
			};
			uint64_t cumulative[LATENCY_HISTOGRAM_BOUNDS];

			if (b->rc < 0)
				return;
			latency_histogram_cumulative(h, cumulative);
			b->rc = metrics_snapshot_histogram(b->s, b->id, labels, 2, bounds, cumulative,
					LATENCY_HISTOGRAM_BOUNDS, latency_histogram_count(h), h->sum_ns,
					9);
		}
	}
}

static const char *const est_rend_names[RELAY_METRICS_EST_REND_ACTIONS] = {
	"success", "unsuitable_circuit", "single_hop", "malformed", "duplicate_cookie",
	"circuit_dead",
};
static const char *const rend1_names[RELAY_METRICS_REND1_ACTIONS] = {
	"success", "unsuitable_circuit", "malformed", "unknown_cookie", "circuit_dead",
};

/* The introduction point's families, with tor's help texts, after
 * tor_relay_dos_total: its types in tor's order (relay_metrics.c
 * fill_dos_values); the exit's stream_rejected is not exported. */
static void
fill_intro(struct family_builder *b, const struct relay_metrics_control *control)
{
	static const char *const est_names[RELAY_METRICS_EST_INTRO_ACTIONS] = {
		"success", "malformed", "unsuitable_circuit", "circuit_dead",
	};
	static const char *const intro1_names[RELAY_METRICS_INTRO1_ACTIONS] = {
		"success", "circuit_dead", "malformed", "unknown_service", "rate_limited",
		"circuit_reused", "single_hop",
	};

	family(b, "tor_relay_dos_total", "Denial of Service defenses related counters",
			METRICS_COUNTER);
	sample(b, (struct metrics_label[]){ { "type", "circuit_rejected" } }, 1,
			control->dos_circuit_rejected);
	sample(b, (struct metrics_label[]){ { "type", "circuit_killed_max_cell" } }, 1,
			control->dos_circuit_killed_max_cell);
	sample(b, (struct metrics_label[]){ { "type", "circuit_killed_max_cell_outq" } }, 1,
			control->dos_circuit_killed_max_cell_outq);
	sample(b, (struct metrics_label[]){ { "type", "marked_address" } }, 1,
			control->dos_marked_address);
	sample(b, (struct metrics_label[]){ { "type", "marked_address_maxq" } }, 1,
			control->dos_marked_address_maxq);
	sample(b, (struct metrics_label[]){ { "type", "conn_rejected" } }, 1,
			control->dos_conn_rejected);
	sample(b, (struct metrics_label[]){ { "type", "concurrent_conn_rejected" } }, 1,
			control->dos_concurrent_conn_rejected);
	sample(b, (struct metrics_label[]){ { "type", "single_hop_refused" } }, 1,
			control->single_hop_refused);
	sample(b, (struct metrics_label[]){ { "type", "introduce2_rejected" } }, 1,
			control->introduce2_rejected);

	family(b, "tor_relay_est_intro_total", "Total number of EST_INTRO cells we received",
			METRICS_COUNTER);
	for (int i = 0; i < RELAY_METRICS_EST_INTRO_ACTIONS; i++)
		sample(b, (struct metrics_label[]){ { "action", est_names[i] } }, 1,
				control->est_intro[i]);

	family(b, "tor_relay_intro1_total", "Total number of INTRO1 cells we received",
			METRICS_COUNTER);
	for (int i = 0; i < RELAY_METRICS_INTRO1_ACTIONS; i++)
		sample(b, (struct metrics_label[]){ { "action", intro1_names[i] } }, 1,
				control->intro1[i]);
}

static void
fill_tor_totals(struct family_builder *b, const struct relay_worker_stats *workers,
		unsigned n, const struct relay_metrics_control *control)
{
	static const char *const onionskin_names[RELAY_METRICS_ONIONSKINS] = {
		"tap", "fast", "ntor", "ntor_v3",
	};
	uint64_t accepted = 0, connected = 0, circuits_open = 0, destroy = 0;
	uint64_t proto = 0;

	for (unsigned w = 0; w < n; w++) {
		accepted += workers[w].links_accepted;
		connected += workers[w].links_connected;
		circuits_open += workers[w].circuits.circuits_open;
		destroy += workers[w].circuits.destroy_received;
		proto += workers[w].circuits.closed_protocol;
	}

	/* tor's help texts and label sets, so one dashboard reads both. */
	family(b, "tor_relay_connections_total", "Total number of created/rejected connections",
			METRICS_COUNTER);
	sample(b, (struct metrics_label[]){ { "type", "OR" }, { "direction", "initiated" },
			{ "state", "created" }, { "family", "ipv4" } }, 4, connected);
	sample(b, (struct metrics_label[]){ { "type", "OR" }, { "direction", "received" },
			{ "state", "created" }, { "family", "ipv4" } }, 4, accepted);
	sample(b, (struct metrics_label[]){ { "type", "OR" }, { "direction", "received" },
			{ "state", "rejected" }, { "family", "ipv4" } }, 4,
			control->connections_rejected);

	family(b, "tor_relay_circuits_total", "Total number of circuits", METRICS_GAUGE);
	sample(b, (struct metrics_label[]){ { "state", "opened" } }, 1, circuits_open);

	family(b, "tor_relay_destroy_cell_total", "Total number of DESTROY cell we received",
			METRICS_COUNTER);
	sample(b, NULL, 0, destroy);

	family(b, "tor_relay_drop_cell_total", "Total number of DROP cell we received",
			METRICS_COUNTER);
	sample(b, NULL, 0, control->drop_cells);

	family(b, "tor_relay_circ_proto_violation_total",
			"Total number of circuit protocol violation", METRICS_COUNTER);
	sample(b, NULL, 0, proto);

	family(b, "tor_relay_traffic_bytes", "Traffic related counters", METRICS_COUNTER);
	sample(b, (struct metrics_label[]){ { "direction", "read" } }, 1, control->bytes_read);
	sample(b, (struct metrics_label[]){ { "direction", "written" } }, 1,
			control->bytes_written);

	/* tor relay_metrics.c fill_global_bw_limit_values(). */
	family(b, "tor_relay_load_global_rate_limit_reached_total",
			"Total number of global connection bucket limit reached", METRICS_COUNTER);
	sample(b, (struct metrics_label[]){ { "side", "read" } }, 1,
			control->rate_limit_read_reached);
	sample(b, (struct metrics_label[]){ { "side", "write" } }, 1,
			control->rate_limit_write_reached);

	/* tor relay_metrics.c fill_est_rend_cells() / fill_rend1_cells(). */
	family(b, "tor_relay_est_rend_total", "Total number of EST_REND cells we received",
			METRICS_COUNTER);
	for (int a = 0; a < RELAY_METRICS_EST_REND_ACTIONS; a++)
		sample(b, (struct metrics_label[]){ { "action", est_rend_names[a] } }, 1,
				control->est_rend[a]);
	family(b, "tor_relay_rend1_total", "Total number of REND1 cells we received",
			METRICS_COUNTER);
	for (int a = 0; a < RELAY_METRICS_REND1_ACTIONS; a++)
		sample(b, (struct metrics_label[]){ { "action", rend1_names[a] } }, 1,
				control->rend1[a]);

	fill_intro(b, control);

	if (control->accounting_on) {
		static const char *const states[] = { "awake", "soft", "hard" };

		family(b, "hsrelay_accounting_max_bytes",
				"AccountingMax: the bytes an accounting interval may use",
				METRICS_GAUGE);
		sample(b, NULL, 0, control->accounting_max);
		family(b, "hsrelay_accounting_bytes",
				"Bytes read and written in the current accounting interval",
				METRICS_GAUGE);
		sample(b, (struct metrics_label[]){ { "direction", "read" } }, 1,
				control->accounting_read);
		sample(b, (struct metrics_label[]){ { "direction", "written" } }, 1,
				control->accounting_written);
		family(b, "hsrelay_accounting_interval_end_timestamp_seconds",
				"When the current accounting interval ends (Unix time)",
				METRICS_GAUGE);
		sample(b, NULL, 0, (uint64_t)control->accounting_interval_end);
		family(b, "hsrelay_hibernation_state",
				"Hibernation for AccountingMax: 1 for the current state",
				METRICS_GAUGE);
		for (unsigned i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			sample(b, (struct metrics_label[]){ { "state", states[i] } }, 1,
					control->hibernation_state == i);
		family(b, "hsrelay_creates_refused_hibernating_total",
				"CREATE cells answered with DESTROY(HIBERNATING)", METRICS_COUNTER);
		sample(b, NULL, 0, control->creates_refused_hibernating);
	}

	family(b, "tor_relay_load_onionskins_total", "Total number of onionskins handled",
			METRICS_COUNTER);
	for (int t = 0; t < RELAY_METRICS_ONIONSKINS; t++) {
		sample(b, (struct metrics_label[]){ { "type", onionskin_names[t] },
				{ "action", "processed" } }, 2, control->onionskins_processed[t]);
		sample(b, (struct metrics_label[]){ { "type", onionskin_names[t] },
				{ "action", "dropped" } }, 2, control->onionskins_dropped[t]);
	}
}

/* Where a counter is in struct relay_worker_stats (all are uint64_t). */
#define STAT(member) offsetof(struct relay_worker_stats, member)

/* One sample of a per-worker family: its extra label's value (NULL when
 * the family has no extra label) and its counter. */
struct worker_field {
	const char *value;
	size_t offset;
};

/* A family with one sample per worker and field. */
struct worker_family {
	const char *name, *label, *help;
	enum metrics_type type;
	unsigned n_fields;
	struct worker_field fields[10];
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* n_fields and fields from one list. */
#define FIELDS(...) \
	sizeof((struct worker_field[]){ __VA_ARGS__ }) / sizeof(struct worker_field), \
	{ __VA_ARGS__ }

static const struct worker_family worker_families_before_latency[] = {
	{ "hsrelay_cells_total", "direction",
	  "Cells per worker: received on links, sent on links, handed to the control "
	  "thread",
	  METRICS_COUNTER, FIELDS(
		{ "in", STAT(cells_in) },
		{ "out", STAT(cells_out) },
		{ "to_control", STAT(cells_to_control) }) },
	{ "hsrelay_records_total", "action",
	  "TLS records opened (decrypted) and sealed (encrypted) per worker",
	  METRICS_COUNTER, FIELDS(
		{ "opened", STAT(records_opened) },
		{ "sealed", STAT(records_sealed) }) },
	{ "hsrelay_drops_total", "reason",
	  "What a worker dropped, by reason",
	  METRICS_COUNTER, FIELDS(
		{ "link_full", STAT(drop_link_full) },
		{ "bad_record", STAT(drop_bad_record) },
		{ "bad_cell", STAT(drop_bad_cell) },
		{ "no_mbuf", STAT(drop_no_mbuf) },
		{ "no_link", STAT(drop_no_link) },
		{ "event_ring_full", STAT(drop_events) },
		{ "backlog_overflow", STAT(backlog_overflow) },
		{ "unknown_circuit", STAT(circuits.drop_unknown_circuit) },
		{ "padding", STAT(circuits.drop_padding) },
		{ "other_cell", STAT(circuits.drop_other) }) },
	{ "hsrelay_bandwidth_limit_reached_total", "bucket",
	  "Times a worker's token buckets ran empty: the read and write buckets of "
	  "BandwidthRate, and those of RelayBandwidthRate for relayed traffic",
	  METRICS_COUNTER, FIELDS(
		{ "read", STAT(rate_limit_read_reached) },
		{ "write", STAT(rate_limit_write_reached) },
		{ "relayed_read", STAT(relayed_limit_read_reached) },
		{ "relayed_write", STAT(relayed_limit_write_reached) }) },
	{ "hsrelay_padding_total", "event",
	  "Connection-level padding per worker: PADDING_NEGOTIATE cells applied and "
	  "ignored, PADDING cells sent",
	  METRICS_COUNTER, FIELDS(
		{ "negotiated", STAT(padding_negotiations) },
		{ "negotiate_ignored", STAT(padding_negotiate_ignored) },
		{ "padding_sent", STAT(padding_cells_sent) }) },
	{ "hsrelay_tcp_retransmits_total", "event",
	  "TCP loss recovery per worker: segments retransmitted, retransmission timeouts, "
	  "recoveries (fast: all; sack: RFC 6675; reorder: by the reordering window), "
	  "tail loss probes (sent, repaired a loss, needless by D-SACK), retransmissions "
	  "lost again, recoveries undone (every retransmission needless by D-SACK)",
	  METRICS_COUNTER, FIELDS(
		{ "segments", STAT(tcp.retransmitted_segments) },
		{ "timeouts", STAT(tcp.retransmit_timeouts) },
		{ "fast_recoveries", STAT(tcp.fast_retransmits) },
		{ "sack_recoveries", STAT(tcp.sack_recoveries) },
		{ "reorder_recoveries", STAT(tcp.reorder_recoveries) },
		{ "loss_probes", STAT(tcp.loss_probes) },
		{ "loss_probe_repairs", STAT(tcp.loss_probe_repairs) },
		{ "loss_probes_spurious", STAT(tcp.loss_probes_spurious) },
		{ "lost_retransmits", STAT(tcp.lost_retransmits) },
		{ "recoveries_undone", STAT(tcp.recoveries_undone) }) },
	{ "hsrelay_tcp_drops_total", "reason",
	  "TCP segments a worker dropped, by reason",
	  METRICS_COUNTER, FIELDS(
		{ "malformed", STAT(tcp.drop_malformed) },
		{ "checksum", STAT(tcp.drop_checksum) },
		{ "no_socket", STAT(tcp.drop_no_socket) },
		{ "out_of_window", STAT(tcp.drop_out_of_window) },
		{ "paws", STAT(tcp.drop_paws) },
		{ "bad_ack", STAT(tcp.drop_bad_ack) },
		{ "ooo_full", STAT(tcp.drop_ooo_full) },
		{ "no_mbuf", STAT(tcp.drop_no_mbuf) },
		{ "output_full", STAT(tcp.drop_output_full) }) },
	{ "hsrelay_tcp_checksum_offloaded_total", "direction",
	  "TCP segments per worker whose checksum the port's device verified (rx) or "
	  "computes (tx): DPDKChecksumOffload, where the device offers it",
	  METRICS_COUNTER, FIELDS(
		{ "rx", STAT(tcp.rx_checksum_offloaded) },
		{ "tx", STAT(tcp.tx_checksum_offloaded) }) },
	{ "hsrelay_links_open", NULL,
	  "Links (TLS connections) open per worker",
	  METRICS_GAUGE, FIELDS(
		{ NULL, STAT(links_open) }) },
	{ "hsrelay_links_total", "event",
	  "Links accepted, connected and closed per worker",
	  METRICS_COUNTER, FIELDS(
		{ "accepted", STAT(links_accepted) },
		{ "connected", STAT(links_connected) },
		{ "closed", STAT(links_closed) }) },
	{ "hsrelay_circuits_open", NULL,
	  "Circuits open per worker",
	  METRICS_GAUGE, FIELDS(
		{ NULL, STAT(circuits.circuits_open) }) },
	{ "hsrelay_circuit_cells_total", "direction",
	  "Relay cells per worker: forwarded towards n, backwarded towards p, for this "
	  "hop, handed to control",
	  METRICS_COUNTER, FIELDS(
		{ "forward", STAT(circuits.forwarded) },
		{ "backward", STAT(circuits.backwarded) },
		{ "local", STAT(circuits.local) },
		{ "to_control", STAT(circuits.to_control) }) },
	{ "hsrelay_circuits_closed_total", "reason",
	  "Circuits closed per worker, by reason",
	  METRICS_COUNTER, FIELDS(
		{ "protocol", STAT(circuits.closed_protocol) },
		{ "destroy", STAT(circuits.closed_by_destroy) },
		{ "link", STAT(circuits.closed_by_link) }) },
	{ "hsrelay_spliced_cells_total", NULL,
	  "Relay cells re-encrypted for a rendezvous partner circuit, per worker",
	  METRICS_COUNTER, FIELDS(
		{ NULL, STAT(circuits.spliced) }) },
};

static const struct worker_family worker_families_after_latency[] = {
	{ "hsrelay_truncated_sent_total", NULL,
	  "TRUNCATED cells sent per worker",
	  METRICS_COUNTER, FIELDS(
		{ NULL, STAT(circuits.truncated_sent) }) },
	{ "hsrelay_stale_messages_total", NULL,
	  "Control messages about links or circuits that had gone, per worker",
	  METRICS_COUNTER, FIELDS(
		{ NULL, STAT(stale_messages) }) },
};

static void
fill_worker_families(struct family_builder *b, const struct worker_family *families,
		size_t n_families, const struct relay_worker_stats *workers, unsigned n,
		char names[][12])
{
	for (size_t i = 0; i < n_families; i++) {
		const struct worker_family *f = &families[i];

		family(b, f->name, f->help, f->type);
		for (unsigned w = 0; w < n; w++) {
			for (unsigned k = 0; k < f->n_fields; k++) {
				uint64_t value;

				memcpy(&value, (const uint8_t *)&workers[w] + f->fields[k].offset,
						sizeof(value));
				worker_sample(b, names[w], f->label, f->fields[k].value, value);
			}
		}
	}
}

int
relay_metrics_fill(struct metrics_snapshot *s, const struct relay_worker_stats *workers,
		unsigned n, const struct relay_metrics_control *control)
{
	struct family_builder b = { .s = s };
	char names[RELAY_METRICS_WORKERS_MAX][12];
	unsigned w;

	if (n > RELAY_METRICS_WORKERS_MAX)
		return -EINVAL;
	for (w = 0; w < n; w++)
		snprintf(names[w], sizeof(names[w]), "%u", w);

	fill_tor_totals(&b, workers, n, control);

	fill_worker_families(&b, worker_families_before_latency,
			ARRAY_LEN(worker_families_before_latency), workers, n, names);
	fill_latency(&b, workers, n, names);
	fill_worker_families(&b, worker_families_after_latency,
			ARRAY_LEN(worker_families_after_latency), workers, n, names);

	return b.rc;
}
