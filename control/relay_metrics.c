#include "control/relay_metrics.h"

#include <errno.h>
#include <inttypes.h>
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
 * fill_dos_values), those hsrelay counts; the queue-limit ones
 * (circuit_killed_max_cell*, marked_address_maxq) and the exit's
 * stream_rejected are not exported. */
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
	sample(b, (struct metrics_label[]){ { "type", "marked_address" } }, 1,
			control->dos_marked_address);
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

	family(b, "tor_relay_load_onionskins_total", "Total number of onionskins handled",
			METRICS_COUNTER);
	for (int t = 0; t < RELAY_METRICS_ONIONSKINS; t++) {
		sample(b, (struct metrics_label[]){ { "type", onionskin_names[t] },
				{ "action", "processed" } }, 2, control->onionskins_processed[t]);
		sample(b, (struct metrics_label[]){ { "type", onionskin_names[t] },
				{ "action", "dropped" } }, 2, control->onionskins_dropped[t]);
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

	family(&b, "hsrelay_cells_total", "Cells per worker: received on links, sent "
			"on links, handed to the control thread", METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		worker_sample(&b, names[w], "direction", "in", workers[w].cells_in);
		worker_sample(&b, names[w], "direction", "out", workers[w].cells_out);
		worker_sample(&b, names[w], "direction", "to_control",
				workers[w].cells_to_control);
	}

	family(&b, "hsrelay_records_total", "TLS records opened (decrypted) and sealed "
			"(encrypted) per worker", METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		worker_sample(&b, names[w], "action", "opened", workers[w].records_opened);
		worker_sample(&b, names[w], "action", "sealed", workers[w].records_sealed);
	}

	family(&b, "hsrelay_drops_total", "What a worker dropped, by reason",
			METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		const struct relay_worker_stats *st = &workers[w];

		worker_sample(&b, names[w], "reason", "link_full", st->drop_link_full);
		worker_sample(&b, names[w], "reason", "bad_record", st->drop_bad_record);
		worker_sample(&b, names[w], "reason", "bad_cell", st->drop_bad_cell);
		worker_sample(&b, names[w], "reason", "no_mbuf", st->drop_no_mbuf);
		worker_sample(&b, names[w], "reason", "no_link", st->drop_no_link);
		worker_sample(&b, names[w], "reason", "event_ring_full", st->drop_events);
		worker_sample(&b, names[w], "reason", "backlog_overflow", st->backlog_overflow);
		worker_sample(&b, names[w], "reason", "unknown_circuit",
				st->circuits.drop_unknown_circuit);
		worker_sample(&b, names[w], "reason", "padding", st->circuits.drop_padding);
		worker_sample(&b, names[w], "reason", "other_cell", st->circuits.drop_other);
	}

	family(&b, "hsrelay_padding_total", "Connection-level padding per worker: "
			"PADDING_NEGOTIATE cells applied and ignored, PADDING cells sent",
			METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		worker_sample(&b, names[w], "event", "negotiated",
				workers[w].padding_negotiations);
		worker_sample(&b, names[w], "event", "negotiate_ignored",
				workers[w].padding_negotiate_ignored);
		worker_sample(&b, names[w], "event", "padding_sent",
				workers[w].padding_cells_sent);
	}

	family(&b, "hsrelay_tcp_retransmits_total", "TCP loss recovery per worker: segments "
			"retransmitted, retransmission timeouts, recoveries (fast: all; sack: "
			"RFC 6675; reorder: by the reordering window), tail loss probes (sent, "
			"repaired a loss, needless by D-SACK), retransmissions lost again",
			METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		const struct tcp_stats *t = &workers[w].tcp;

		worker_sample(&b, names[w], "event", "segments", t->retransmitted_segments);
		worker_sample(&b, names[w], "event", "timeouts", t->retransmit_timeouts);
		worker_sample(&b, names[w], "event", "fast_recoveries", t->fast_retransmits);
		worker_sample(&b, names[w], "event", "sack_recoveries", t->sack_recoveries);
		worker_sample(&b, names[w], "event", "reorder_recoveries", t->reorder_recoveries);
		worker_sample(&b, names[w], "event", "loss_probes", t->loss_probes);
		worker_sample(&b, names[w], "event", "loss_probe_repairs", t->loss_probe_repairs);
		worker_sample(&b, names[w], "event", "loss_probes_spurious",
				t->loss_probes_spurious);
		worker_sample(&b, names[w], "event", "lost_retransmits", t->lost_retransmits);
	}

	family(&b, "hsrelay_tcp_drops_total", "TCP segments a worker dropped, by reason",
			METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		const struct tcp_stats *t = &workers[w].tcp;

		worker_sample(&b, names[w], "reason", "malformed", t->drop_malformed);
		worker_sample(&b, names[w], "reason", "checksum", t->drop_checksum);
		worker_sample(&b, names[w], "reason", "no_socket", t->drop_no_socket);
		worker_sample(&b, names[w], "reason", "out_of_window", t->drop_out_of_window);
		worker_sample(&b, names[w], "reason", "paws", t->drop_paws);
		worker_sample(&b, names[w], "reason", "bad_ack", t->drop_bad_ack);
		worker_sample(&b, names[w], "reason", "ooo_full", t->drop_ooo_full);
		worker_sample(&b, names[w], "reason", "no_mbuf", t->drop_no_mbuf);
		worker_sample(&b, names[w], "reason", "output_full", t->drop_output_full);
	}

	family(&b, "hsrelay_links_open", "Links (TLS connections) open per worker",
			METRICS_GAUGE);
	for (w = 0; w < n; w++)
		worker_sample(&b, names[w], NULL, NULL, workers[w].links_open);

	family(&b, "hsrelay_links_total", "Links accepted, connected and closed per worker",
			METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		worker_sample(&b, names[w], "event", "accepted", workers[w].links_accepted);
		worker_sample(&b, names[w], "event", "connected", workers[w].links_connected);
		worker_sample(&b, names[w], "event", "closed", workers[w].links_closed);
	}

	family(&b, "hsrelay_circuits_open", "Circuits open per worker", METRICS_GAUGE);
	for (w = 0; w < n; w++)
		worker_sample(&b, names[w], NULL, NULL, workers[w].circuits.circuits_open);

	family(&b, "hsrelay_circuit_cells_total", "Relay cells per worker: forwarded "
			"towards n, backwarded towards p, for this hop, handed to control",
			METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		const struct circuit_counters *cc = &workers[w].circuits;

		worker_sample(&b, names[w], "direction", "forward", cc->forwarded);
		worker_sample(&b, names[w], "direction", "backward", cc->backwarded);
		worker_sample(&b, names[w], "direction", "local", cc->local);
		worker_sample(&b, names[w], "direction", "to_control", cc->to_control);
	}

	family(&b, "hsrelay_circuits_closed_total", "Circuits closed per worker, by reason",
			METRICS_COUNTER);
	for (w = 0; w < n; w++) {
		const struct circuit_counters *cc = &workers[w].circuits;

		worker_sample(&b, names[w], "reason", "protocol", cc->closed_protocol);
		worker_sample(&b, names[w], "reason", "destroy", cc->closed_by_destroy);
		worker_sample(&b, names[w], "reason", "link", cc->closed_by_link);
	}

	family(&b, "hsrelay_spliced_cells_total", "Relay cells re-encrypted for a rendezvous "
			"partner circuit, per worker", METRICS_COUNTER);
	for (w = 0; w < n; w++)
		worker_sample(&b, names[w], NULL, NULL, workers[w].circuits.spliced);

	fill_latency(&b, workers, n, names);

	family(&b, "hsrelay_truncated_sent_total", "TRUNCATED cells sent per worker",
			METRICS_COUNTER);
	for (w = 0; w < n; w++)
		worker_sample(&b, names[w], NULL, NULL, workers[w].circuits.truncated_sent);

	family(&b, "hsrelay_stale_messages_total", "Control messages about links or "
			"circuits that had gone, per worker", METRICS_COUNTER);
	for (w = 0; w < n; w++)
		worker_sample(&b, names[w], NULL, NULL, workers[w].stale_messages);

	return b.rc;
}
