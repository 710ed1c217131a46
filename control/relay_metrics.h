/* The relay's metric families: what the control thread publishes on the
 * MetricsPort (control/metrics.h) from the workers' statistics
 * (struct relay_worker_stats, collected with RELAY_MSG_STATS) and its own
 * counters.
 *
 * Names tor's MetricsPort also has keep tor's spelling, type and labels
 * (tor 0.4.9.11, src/feature/relay/relay_metrics.c; checked against a real
 * tor's output in tests/unit/vectors/tor-0.4.9-metrics):
 *   tor_relay_connections_total{type="OR",direction,state="created"|"rejected",family="ipv4"}
 *   tor_relay_circuits_total{state="opened"}            (a gauge, as in tor)
 *   tor_relay_destroy_cell_total, tor_relay_drop_cell_total,
 *   tor_relay_circ_proto_violation_total
 *   tor_relay_traffic_bytes{direction="read"|"written"}
 *   tor_relay_load_onionskins_total{type,action="processed"|"dropped"}
 * hsrelay's own are per worker (label worker="N") and prefixed hsrelay_:
 *   hsrelay_cells_total{worker,direction="in"|"out"|"to_control"}
 *   hsrelay_records_total{worker,action="opened"|"sealed"}
 *   hsrelay_drops_total{worker,reason}   reasons: link_full, bad_record,
 *       bad_cell, no_mbuf, no_link, event_ring_full, backlog_overflow,
 *       unknown_circuit, padding, other_cell
 *   hsrelay_links_open{worker}, hsrelay_circuits_open{worker} (gauges)
 *   hsrelay_links_total{worker,event="accepted"|"connected"|"closed"}
 *   hsrelay_circuit_cells_total{worker,direction="forward"|"backward"|"local"|"to_control"}
 *   hsrelay_circuits_closed_total{worker,reason="protocol"|"destroy"|"link"}
 *   hsrelay_spliced_cells_total{worker}
 *   hsrelay_cell_latency_seconds{worker,kind="forward"|"splice"}, a histogram
 *       (_bucket{le}, _sum, _count) of the time relay cells spend in
 *       hsrelay, with fixed buckets 2^10 .. 2^27 ns (1.024 us .. 134 ms)
 *       and +Inf; what is measured: struct relay_worker_stats.latency
 *       (dataplane/relay_msg.h)
 *   hsrelay_truncated_sent_total{worker}, hsrelay_stale_messages_total{worker}
 */
#ifndef HSRELAY_CONTROL_RELAY_METRICS_H
#define HSRELAY_CONTROL_RELAY_METRICS_H

#include <stdint.h>

#include "control/metrics.h"
#include "dataplane/relay_msg.h"

/* Onionskin handshake types, in tor's order and spelling for the label
 * type= of tor_relay_load_onionskins_total ("tap" is gone in 0.4.9 but
 * tor still prints it). */
enum relay_metrics_onionskin {
	RELAY_METRICS_ONIONSKIN_TAP = 0,
	RELAY_METRICS_ONIONSKIN_FAST,
	RELAY_METRICS_ONIONSKIN_NTOR,
	RELAY_METRICS_ONIONSKIN_NTOR_V3,
	RELAY_METRICS_ONIONSKINS,
};

#define RELAY_METRICS_EST_REND_ACTIONS 6
#define RELAY_METRICS_REND1_ACTIONS 5

/* Label values in tor's order (relay_metrics.c fill_est_intro_cells,
 * fill_intro1_cells); the same order as control/intro_point.h. */
#define RELAY_METRICS_EST_INTRO_ACTIONS 4	/* success malformed unsuitable_circuit circuit_dead */
#define RELAY_METRICS_INTRO1_ACTIONS 7		/* success circuit_dead malformed unknown_service
						 * rate_limited circuit_reused single_hop */

/* Most workers relay_metrics_fill() labels. */
#define RELAY_METRICS_WORKERS_MAX 64

/* What the control thread counts itself. */
struct relay_metrics_control {
	uint64_t onionskins_processed[RELAY_METRICS_ONIONSKINS];
	uint64_t onionskins_dropped[RELAY_METRICS_ONIONSKINS];
	uint64_t drop_cells;		/* relay DROP cells received (tor-spec 6.1) */
	/* TCP payload of the workers' connections (TLS bytes of every link and
	 * directory fetch): read in order, written with retransmissions */
	uint64_t bytes_read;
	uint64_t bytes_written;
	/* BandwidthRate: times a worker's read / write bucket became empty */
	uint64_t rate_limit_read_reached;
	uint64_t rate_limit_write_reached;
	/* Rendezvous point, in tor's label order (control/rendezvous.h):
	 * success, unsuitable_circuit, single_hop, malformed,
	 * duplicate_cookie, circuit_dead / success, unsuitable_circuit,
	 * malformed, unknown_cookie, circuit_dead. */
	uint64_t est_rend[RELAY_METRICS_EST_REND_ACTIONS];
	uint64_t rend1[RELAY_METRICS_REND1_ACTIONS];

	/* The introduction point (control/intro_point.h), tor's names:
	 * tor_relay_est_intro_total{action}, tor_relay_intro1_total{action},
	 * tor_relay_dos_total{type="introduce2_rejected"}. */
	uint64_t est_intro[RELAY_METRICS_EST_INTRO_ACTIONS];
	uint64_t intro1[RELAY_METRICS_INTRO1_ACTIONS];
	uint64_t introduce2_rejected;

	/* tor's DoS subsystem (control/dos_guard.h), more types of
	 * tor_relay_dos_total: circuit_rejected, circuit_killed_max_cell
	 * (circuits closed for a queue too long, the workers' sum),
	 * circuit_killed_max_cell_outq (of which towards the next hop),
	 * marked_address, marked_address_maxq, conn_rejected,
	 * concurrent_conn_rejected, and single_hop_refused
	 * (the rendezvous point's est_rend single_hop); the connections the
	 * DoS limits closed are tor_relay_connections_total{type="OR",
	 * direction="received",state="rejected",family="ipv4"}. */
	uint64_t dos_circuit_rejected;
	uint64_t dos_circuit_killed_max_cell;
	uint64_t dos_circuit_killed_max_cell_outq;
	uint64_t dos_marked_address;
	uint64_t dos_marked_address_maxq;
	uint64_t dos_conn_rejected;
	uint64_t dos_concurrent_conn_rejected;
	uint64_t single_hop_refused;
	uint64_t connections_rejected;

	/* AccountingMax (control/accounting.h); tor 0.4.9's MetricsPort has
	 * no accounting family, so these are hsrelay's own, only when
	 * accounting is on:
	 *   hsrelay_accounting_max_bytes, hsrelay_accounting_bytes{direction},
	 *   hsrelay_accounting_interval_end_timestamp_seconds,
	 *   hsrelay_hibernation_state{state="awake"|"soft"|"hard"} (1 for the
	 *   current one), hsrelay_creates_refused_hibernating_total */
	bool accounting_on;
	uint64_t accounting_max;
	uint64_t accounting_read;
	uint64_t accounting_written;
	int64_t accounting_interval_end;
	unsigned hibernation_state;		/* enum hibernate_state */
	uint64_t creates_refused_hibernating;
};

/* Adds every family above to s: the tor_ totals summed over the n_workers
 * entries of workers, the hsrelay_ ones per worker. Returns 0, or the
 * metrics_snapshot_family()/_sample() error (s is then partly filled and
 * should be freed); -EINVAL for more than RELAY_METRICS_WORKERS_MAX. */
int relay_metrics_fill(struct metrics_snapshot *s,
		const struct relay_worker_stats *workers, unsigned n_workers,
		const struct relay_metrics_control *control);

#endif
