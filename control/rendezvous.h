/* The rendezvous point's control logic (rend-spec-v3 4.1, 4.2; tor 0.4.9
 * rendmid.c): the cookie table of circuits waiting for their service, the
 * checks tor makes on ESTABLISH_RENDEZVOUS and RENDEZVOUS1 in tor's order,
 * and tor's MetricsPort counters for both (tor_relay_est_rend_total,
 * tor_relay_rend1_total).
 *
 * The caller (control/relay_control.c) turns verdicts into worker messages:
 * RENDEZVOUS_ESTABLISHED is originated on the circuit, a join becomes
 * RELAY_MSG_CIRCUIT_SPLICE (RENDEZVOUS2 on the waiting circuit, then the
 * splice on the workers, dataplane/circuit.h circuit_splice()), a close a
 * DESTROY. No DPDK here: circuits are named by plain values, time is passed
 * in. Single-threaded (the control thread).
 */
#ifndef HSRELAY_CONTROL_RENDEZVOUS_H
#define HSRELAY_CONTROL_RENDEZVOUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "control/hs_cells.h"

/* tor circuituse.c IDLE_ONE_HOP_CIRC_TIMEOUT. */
#define RENDEZVOUS_IDLE_CLIENT_TIMEOUT 60
/* Waiting circuits kept at most by default (hsrelay's bound; tor relies on
 * its generic circuit limits). */
#define RENDEZVOUS_DEFAULT_MAX_WAITING 65536

/* A circuit ending here, as the workers name it (struct relay_circuit_ref
 * plus its worker). */
struct rendezvous_circuit {
	unsigned worker;
	uint32_t handle;
	uint32_t p_link;
	uint32_t p_circ_id;
};

/* What the caller knows about the circuit a message arrived on. */
struct rendezvous_circuit_state {
	/* tor's purpose is not plain OR: an introduction point, or a circuit
	 * with streams */
	bool busy;
	/* the previous hop is a client (did not authenticate as a relay) */
	bool previous_hop_is_client;
	/* the circuit goes on to a next hop (it does not end here) */
	bool extended;
};

struct rendezvous_config {
	/* DoSRefuseSingleHopClientRendezvous (tor dos.c, default 0) */
	bool refuse_single_hop_client;
	size_t max_waiting;	/* 0: RENDEZVOUS_DEFAULT_MAX_WAITING */
};

/* tor relay_metrics.c, in tor's label order. */
enum rendezvous_est_action {
	REND_EST_SUCCESS,
	REND_EST_UNSUITABLE_CIRCUIT,
	REND_EST_SINGLE_HOP,
	REND_EST_MALFORMED,
	REND_EST_DUPLICATE_COOKIE,
	REND_EST_CIRCUIT_DEAD,
	REND_EST_ACTION_COUNT,
};

enum rendezvous1_action {
	REND1_SUCCESS,
	REND1_UNSUITABLE_CIRCUIT,
	REND1_MALFORMED,
	REND1_UNKNOWN_COOKIE,
	REND1_CIRCUIT_DEAD,
	REND1_ACTION_COUNT,
};

/* The labels tor uses for the actions above ("success", ...). */
const char *rendezvous_est_action_name(enum rendezvous_est_action a);
const char *rendezvous1_action_name(enum rendezvous1_action a);

enum rendezvous_verdict {
	RENDEZVOUS_REPLY,	/* send RENDEZVOUS_ESTABLISHED (empty body) */
	RENDEZVOUS_JOIN,	/* send RENDEZVOUS2 on join.waiting and splice */
	RENDEZVOUS_CLOSE,	/* DESTROY the circuit with destroy_reason */
	RENDEZVOUS_IGNORE,	/* nothing (tor drops it silently) */
};

struct rendezvous_result {
	enum rendezvous_verdict verdict;
	uint8_t destroy_reason;		/* CLOSE */
	/* JOIN: the waiting client circuit (now forgotten here) and the
	 * RENDEZVOUS2 body (RENDEZVOUS1's HANDSHAKE_INFO, pointing into the
	 * body given) */
	struct rendezvous_circuit waiting;
	const uint8_t *handshake_info;
	size_t handshake_info_len;
};

struct rendezvous_counters {
	uint64_t est_rend[REND_EST_ACTION_COUNT];
	uint64_t rend1[REND1_ACTION_COUNT];
	uint64_t waiting;		/* gauge */
	uint64_t expired;		/* waiting circuits closed idle */
	/* waiting circuits whose close the worker reported before a join */
	uint64_t closed_waiting;
	uint64_t refused_full;		/* ESTABLISH_RENDEZVOUS over max_waiting */
};

struct rendezvous_table;

/* A new empty table; NULL when out of memory. */
struct rendezvous_table *rendezvous_table_create(const struct rendezvous_config *cfg);

void rendezvous_table_destroy(struct rendezvous_table *t);

/* Sets DoSRefuseSingleHopClientRendezvous as the kept consensus says
 * (tor dos.c reads it from every new consensus): while true, an
 * ESTABLISH_RENDEZVOUS from a single-hop client is ignored. Cookies
 * already waiting stay. */
void rendezvous_set_refuse_single_hop(struct rendezvous_table *t, bool refuse);

/* ESTABLISH_RENDEZVOUS (relay command 33) with body [body, body + len) on
 * circ, in tor's order (tor-roles doc 2.1): unsuitable circuit (busy, or
 * already waiting here) -> CLOSE TORPROTOCOL; previous hop a client with
 * refuse_single_hop_client -> IGNORE; extended -> CLOSE; length other than
 * 20 -> CLOSE; cookie
 * already waiting -> CLOSE (the new circuit); then REPLY and circ waits on
 * the cookie from now (the caller asks the worker to report its close,
 * for rendezvous_circuit_closed()). A full table -> CLOSE RESOURCELIMIT (hsrelay's
 * bound, not tor's). Counts tor_relay_est_rend_total. */
struct rendezvous_result rendezvous_establish(struct rendezvous_table *t,
		const struct rendezvous_circuit *circ, const struct rendezvous_circuit_state *st,
		const uint8_t *body, size_t len, time_t now);

/* RENDEZVOUS1 (relay command 36) on circ (the service's): unsuitable
 * (busy, extended, or waiting here itself) -> CLOSE TORPROTOCOL; shorter than the
 * cookie -> CLOSE; unknown cookie -> CLOSE (tor closes this circuit); else
 * JOIN with the waiting circuit, whose cookie is forgotten. Counts
 * tor_relay_rend1_total. */
struct rendezvous_result rendezvous_rendezvous1(struct rendezvous_table *t,
		const struct rendezvous_circuit *circ, const struct rendezvous_circuit_state *st,
		const uint8_t *body, size_t len);

/* tor circuituse.c circuit_expire_old_circuits_serverside(): a waiting
 * circuit whose previous hop is a client closes (DESTROY FINISHED) once
 * its channel has been idle RENDEZVOUS_IDLE_CLIENT_TIMEOUT seconds; the
 * channel's last transmission is taken to be our RENDEZVOUS_ESTABLISHED.
 * Circuits from relays wait until they close, as in tor. Writes up to max
 * expired circuits (forgotten here) into out; returns how many. */
size_t rendezvous_expire(struct rendezvous_table *t, time_t now,
		struct rendezvous_circuit *out, size_t max);

/* Forgets every waiting circuit whose p side was on link p_link (the link
 * closed, and its circuits with it). */
void rendezvous_link_gone(struct rendezvous_table *t, uint32_t p_link);

/* Forgets the waiting circuit with that p side, if any (it closed). */
void rendezvous_circuit_gone(struct rendezvous_table *t, uint32_t p_link, uint32_t p_circ_id);

/* The worker reported that circ closed (RELAY_EV_CIRCUIT_CLOSED for a
 * circuit the caller asked to watch when it answered
 * RENDEZVOUS_REPLY): when circ still waits here (same worker, handle and
 * p side), its cookie is forgotten at once, as tor's circuitmap drops the
 * token of a freed circuit, so a later RENDEZVOUS1 with that cookie is an
 * unknown cookie. Returns whether it was waiting. Counts closed_waiting. */
bool rendezvous_circuit_closed(struct rendezvous_table *t, const struct rendezvous_circuit *circ);

/* True when a circuit with that p side waits on a cookie here (tor's
 * REND_POINT_WAITING purpose: other roles refuse it). */
bool rendezvous_is_waiting(const struct rendezvous_table *t, uint32_t p_link,
		uint32_t p_circ_id);

const struct rendezvous_counters *rendezvous_counters(const struct rendezvous_table *t);

#endif
