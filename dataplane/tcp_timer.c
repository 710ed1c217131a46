/* Per-stack timer wheel and the timer handlers: retransmission (RFC 6298),
 * tail loss probe (RFC 8985 7), persist (RFC 9293 3.8.6.1), delayed ACK
 * (RFC 9293 3.8.6.3), TIME-WAIT (RFC 9293 3.6.1) and the FIN-WAIT-2 limit
 * for connections the user closed.
 * Each connection keeps its deadlines and sits in the wheel once, at the
 * earliest one. */
#include <errno.h>

#include "dataplane/tcp_internal.h"

static void
wheel_unlink(struct tcp_stack *s, struct tcp_conn *c)
{
	if (c->wheel_slot == TCP_NONE)
		return;
	if (c->wheel_prev != TCP_NONE)
		s->conns[c->wheel_prev].wheel_next = c->wheel_next;
	else
		s->wheel_heads[c->wheel_slot] = c->wheel_next;
	if (c->wheel_next != TCP_NONE)
		s->conns[c->wheel_next].wheel_prev = c->wheel_prev;
	c->wheel_slot = TCP_NONE;
	c->wheel_prev = c->wheel_next = TCP_NONE;
	s->wheel_linked--;
}

static void
wheel_link(struct tcp_stack *s, struct tcp_conn *c, uint64_t deadline)
{
	uint64_t tick = deadline / TCP_WHEEL_TICK_NS;
	uint32_t idx = tcp_conn_index(s, c);
	uint32_t slot;

	/* A deadline behind the cursor goes where the cursor is, so it is
	 * seen on the next run rather than a rotation later. */
	if (tick < s->wheel_tick)
		tick = s->wheel_tick;
	slot = (uint32_t)(tick % TCP_WHEEL_SLOTS);
	c->wheel_prev = TCP_NONE;
	c->wheel_next = s->wheel_heads[slot];
	if (c->wheel_next != TCP_NONE)
		s->conns[c->wheel_next].wheel_prev = idx;
	s->wheel_heads[slot] = idx;
	c->wheel_slot = slot;
	c->wheel_deadline = deadline;
	s->wheel_linked++;
}

void
tcp_timer_remove(struct tcp_stack *s, struct tcp_conn *c)
{
	wheel_unlink(s, c);
}

uint64_t
tcp_conn_next_deadline(const struct tcp_conn *c)
{
	const uint64_t t[] = { c->t_rexmit, c->t_delack, c->t_2msl, c->t_probe, c->t_reorder };
	uint64_t d = 0;

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] != 0 && (d == 0 || t[i] < d))
			d = t[i];
	return d;
}

void
tcp_timer_update(struct tcp_stack *s, struct tcp_conn *c)
{
	uint64_t d = tcp_conn_next_deadline(c);

	if (d == 0) {
		wheel_unlink(s, c);
		return;
	}
	if (c->wheel_slot != TCP_NONE && c->wheel_deadline == d)
		return;
	wheel_unlink(s, c);
	wheel_link(s, c, d);
}

void
tcp_rto_update(struct tcp_conn *c, const struct tcp_stack_config *cfg, uint64_t rtt)
{
	uint64_t var;

	if (rtt == 0)
		rtt = 1;
	/* RFC 6298 2.2 and 2.3, alpha 1/8, beta 1/4. */
	if (c->srtt == 0) {
		c->srtt = rtt;
		c->rttvar = rtt / 2;
	} else {
		uint64_t delta = c->srtt > rtt ? c->srtt - rtt : rtt - c->srtt;

		c->rttvar = (3 * c->rttvar + delta) / 4;
		c->srtt = (7 * c->srtt + rtt) / 8;
	}
	/* G, the clock granularity, is the 1 ms timestamp clock. */
	var = 4 * c->rttvar > TCP_NS_PER_MS ? 4 * c->rttvar : TCP_NS_PER_MS;
	c->rto = c->srtt + var;
	if (c->rto < cfg->rto_min_ns)
		c->rto = cfg->rto_min_ns;
	if (c->rto > cfg->rto_max_ns)
		c->rto = cfg->rto_max_ns;
}

static uint64_t
backed_off(const struct tcp_stack *s, uint64_t rto, unsigned shift)
{
	uint64_t v = rto;

	while (shift-- > 0 && v < s->cfg.rto_max_ns)
		v *= 2;
	return v > s->cfg.rto_max_ns ? s->cfg.rto_max_ns : v;
}

static void
rexmit_timeout(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	uint32_t flight;

	c->flags &= ~CF_RTT_TIMING;	/* Karn: no sample from a retransmission */
	if (c->state == TCP_STATE_SYN_SENT || c->state == TCP_STATE_SYN_RECEIVED) {
		if (c->retries >= s->cfg.max_syn_retransmits) {
			s->stats.connect_timeouts++;
			tcp_conn_closed(s, c, -ETIMEDOUT);
			return;
		}
		c->retries++;
		s->stats.retransmit_timeouts++;
		c->rto = backed_off(s, c->rto, 1);
		c->flags |= CF_SEND_SYN;
		c->t_rexmit = now + c->rto;
		tcp_mark_dirty(s, c);
		return;
	}
	if (c->snd_una == c->snd_max)
		return;
	if (c->retries >= s->cfg.max_retransmits) {
		s->stats.data_timeouts++;
		tcp_conn_closed(s, c, -ETIMEDOUT);
		return;
	}
	c->retries++;
	s->stats.retransmit_timeouts++;
	flight = c->snd_max - c->snd_una;
	/* RFC 5681 3.1 eq. (4) (RFC 9438 4.8 for CUBIC), only for the first
	 * retransmission of a segment; the loss window is one segment. */
	if (c->backoff == 0)
		c->ssthresh = tcp_congestion_ssthresh(s, c, flight, true);
	c->cwnd = c->mss;
	/* RFC 6582 4.1: no fast retransmit for data sent before the timeout. */
	c->recover = c->snd_max;
	/* No undo after a timeout (F-RTO, RFC 5682, is not implemented). */
	c->flags &= ~(CF_RECOVERY | CF_SACK_RECOVERY | CF_REXMIT_ONE | CF_LOSS_PROBE |
			CF_PROBE_OUT | CF_PROBE_RETRANS | CF_UNDO | CF_UNDONE);
	c->t_probe = c->t_reorder = 0;
	c->dupacks = 0;
	c->snd_nxt = c->snd_una;
	/* RFC 2018 8: after a timeout the sender turns off all SACKed bits
	 * (the receiver may renege) and resends from SND.UNA. */
	tcp_sack_board_clear(&c->sack_board);
	c->high_rxt = c->snd_una;
	/* RFC 6298 5.5 and 5.6. */
	if (c->backoff < 63)
		c->backoff++;
	c->rto = backed_off(s, c->rto, 1);
	c->t_rexmit = now + c->rto;
	tcp_mark_dirty(s, c);
}

/* RFC 8985 7.2: 2 SRTT, plus a delayed ACK when only one segment is out
 * (its ACK may be delayed), at least 10 ms (below it a probe would race
 * ordinary ACKs), at most what is left of the RTO: as Linux does, the
 * probe then goes out in the RTO's place, and the RTO waits one more. */
#define LOSS_PROBE_DELAYED_ACK_NS (200 * TCP_NS_PER_MS)
#define LOSS_PROBE_MIN_NS (10 * TCP_NS_PER_MS)

void
tcp_loss_probe_arm(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	uint32_t flight = c->snd_max - c->snd_una;
	uint64_t pto;

	c->t_probe = 0;
	/* 7.2: with SACK only, and not in fast recovery, after a timeout
	 * (backoff), with SACKed segments (RACK's domain) or a probe out. */
	if (s->cfg.no_tail_loss_probe || !(c->flags & CF_SACK_OK) || flight == 0 ||
	    c->srtt == 0 || c->backoff > 0 || c->sack_board.count > 0 || c->t_rexmit == 0 ||
	    (c->flags & (CF_RECOVERY | CF_PROBE_OUT | CF_LOSS_PROBE | CF_PERSIST)))
		return;
	switch (c->state) {
	case TCP_STATE_ESTABLISHED:
	case TCP_STATE_CLOSE_WAIT:
	case TCP_STATE_FIN_WAIT_1:
	case TCP_STATE_CLOSING:
	case TCP_STATE_LAST_ACK:
		break;
	default:
		return;
	}
	pto = 2 * c->srtt;
	if (flight <= c->mss)
		pto += LOSS_PROBE_DELAYED_ACK_NS;
	if (pto < LOSS_PROBE_MIN_NS)
		pto = LOSS_PROBE_MIN_NS;
	if (c->t_rexmit <= now)
		return;
	c->t_probe = RTE_MIN(now + pto, c->t_rexmit);
}

uint64_t
tcp_reorder_window(const struct tcp_conn *c)
{
	uint64_t w = (uint64_t)RTE_MAX(c->reo_wnd_mult, 1) * c->srtt / 4;

	return RTE_MAX(RTE_MIN(w, c->srtt), (uint64_t)TCP_NS_PER_MS);
}

/* The reordering window ran out with the hole at SND.UNA still there and
 * data SACKed above it: the hole is lost (tcp_input.c arms this). Once
 * per window, as a duplicate-ACK recovery would be (RFC 6582's recover). */
static void
reorder_timeout(struct tcp_stack *s, struct tcp_conn *c)
{
	if ((c->flags & (CF_RECOVERY | CF_PERSIST)) || c->sack_board.count == 0 ||
	    c->snd_una != c->reorder_una || c->snd_una == c->snd_max ||
	    !SEQ_GT(c->snd_una, c->recover))
		return;
	s->stats.reorder_recoveries++;
	tcp_enter_sack_recovery(s, c);
}

/* RFC 8985 7.3: send one probe (tcp_conn_output()); the RTO restarts. */
static void
loss_probe_timeout(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	if (c->snd_una == c->snd_max ||
	    (c->flags & (CF_RECOVERY | CF_PROBE_OUT | CF_PERSIST)))
		return;
	c->flags |= CF_LOSS_PROBE;
	c->t_rexmit = now + c->rto;
	tcp_mark_dirty(s, c);
}

static void
persist_timeout(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	c->flags |= CF_PROBE;
	if (c->persist_backoff < 63)
		c->persist_backoff++;
	c->t_rexmit = now + backed_off(s, c->rto, c->persist_backoff);
	s->stats.persist_probes++;
	tcp_mark_dirty(s, c);
}

static void
fire(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	if (c->t_2msl != 0 && c->t_2msl <= now) {
		if (c->state == TCP_STATE_TIME_WAIT)
			s->stats.time_wait_expired++;
		tcp_conn_closed(s, c, 0);
		return;
	}
	if (c->t_delack != 0 && c->t_delack <= now) {
		c->t_delack = 0;
		c->flags |= CF_ACK_NOW;
		s->stats.delayed_acks++;
		tcp_mark_dirty(s, c);
	}
	if (c->t_probe != 0 && c->t_probe <= now) {
		c->t_probe = 0;
		loss_probe_timeout(s, c, now);
	}
	if (c->t_reorder != 0 && c->t_reorder <= now) {
		c->t_reorder = 0;
		reorder_timeout(s, c);
	}
	if (c->t_rexmit != 0 && c->t_rexmit <= now) {
		c->t_rexmit = 0;
		if (c->flags & CF_PERSIST)
			persist_timeout(s, c, now);
		else
			rexmit_timeout(s, c, now);
		if (!(c->flags & CF_IN_USE))
			return;
	}
	tcp_timer_update(s, c);
}

unsigned
tcp_timers_run(struct tcp_stack *s, uint64_t now, unsigned budget)
{
	uint64_t last = now / TCP_WHEEL_TICK_NS;
	uint64_t t = s->wheel_tick;
	unsigned fired = 0;

	if (last < t)
		last = t;
	/* Nothing armed: no slot to visit, however far time jumped. */
	if (s->wheel_linked == 0) {
		s->wheel_tick = last;
		return 0;
	}
	if (last - t >= TCP_WHEEL_SLOTS)
		t = last - TCP_WHEEL_SLOTS + 1;
	for (; t <= last; t++) {
		uint32_t idx = s->wheel_heads[t % TCP_WHEEL_SLOTS];

		while (idx != TCP_NONE) {
			struct tcp_conn *c = &s->conns[idx];
			uint32_t next = c->wheel_next;

			if (c->wheel_deadline <= now) {
				if (fired == budget) {
					s->wheel_tick = t;
					return fired;
				}
				wheel_unlink(s, c);
				fire(s, c, now);
				fired++;
			}
			idx = next;
		}
	}
	s->wheel_tick = last;
	return fired;
}
