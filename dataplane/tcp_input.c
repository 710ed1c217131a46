/* Segment arrival, RFC 9293 3.10.7, with RFC 5961 hardening, RFC 7323 PAWS,
 * RFC 6298 RTT sampling, RFC 5681 / RFC 6582 congestion control, RFC 2018
 * out-of-order queueing and RFC 4987 SYN cookies. */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/tcp_internal.h"

static void
challenge_ack(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	/* RFC 5961 7: a per-stack limit on challenge ACKs per second. */
	if (now - s->challenge_window >= TCP_NS_PER_S || s->challenge_window == 0) {
		s->challenge_window = now ? now : 1;
		s->challenge_count = 0;
	}
	if (s->challenge_count >= s->cfg.challenge_ack_limit) {
		s->stats.challenge_acks_suppressed++;
		return;
	}
	s->challenge_count++;
	s->stats.challenge_acks++;
	c->flags |= CF_ACK_NOW;
	tcp_mark_dirty(s, c);
}

static void
negotiate(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_options *o, uint64_t now)
{
	uint32_t mss, opt_len;

	c->peer_mss = (o->present & TCP_OPT_MSS) ? o->mss : TCP_DEFAULT_PEER_MSS;
	if ((o->present & TCP_OPT_WSCALE) && !s->cfg.no_window_scale) {
		c->flags |= CF_WS_OK;
		c->snd_wscale = RTE_MIN(o->wscale, TCP_WSCALE_MAX);
		c->rcv_wscale = s->rcv_wscale;
	}
	if ((o->present & TCP_OPT_TIMESTAMP) && !s->cfg.no_timestamps) {
		c->flags |= CF_TS_OK;
		c->ts_recent = o->ts_val;
		c->ts_recent_time = now;
	}
	if ((o->present & TCP_OPT_SACK_PERMITTED) && !s->cfg.no_sack)
		c->flags |= CF_SACK_OK;
	/* RFC 6691: the MSS counts no options; timestamps come out of it.
	 * A peer MSS below 64 bytes of payload is raised to that floor
	 * before (not after) the subtraction: an MSS of 0..11 with
	 * timestamps must not wrap around to a 64 KiB segment. */
	opt_len = (c->flags & CF_TS_OK) ? TCP_TS_OPTION_LEN : 0;
	mss = RTE_MIN((uint32_t)c->peer_mss, (uint32_t)s->cfg.mss);
	mss = RTE_MAX(mss, 64u + opt_len) - opt_len;
	c->mss = (uint16_t)mss;
	/* RFC 6928 2: IW = min(10 MSS, max(2 MSS, 14600)). */
	c->cwnd = RTE_MIN(10 * mss, RTE_MAX(2 * mss, 14600u));
}

static void
append_rq(struct tcp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	if (c->rq_last != NULL)
		c->rq_last->next = m;
	else
		c->rq_head = m;
	c->rq_segs += m->nb_segs;
	c->rq_last = rte_pktmbuf_lastseg(m);
	c->rq_bytes += len;
}

/* Chains tail (a chain of its own) after the entry's data; false when the
 * chain would pass mbuf's 16-bit segment count (the caller keeps tail
 * apart then). */
static bool
ooo_chain(struct tcp_ooo_entry *e, struct rte_mbuf *tail, uint32_t len)
{
	if ((uint32_t)e->m->nb_segs + tail->nb_segs > UINT16_MAX)
		return false;
	e->last->next = tail;
	e->last = rte_pktmbuf_lastseg(tail);
	e->m->nb_segs = (uint16_t)(e->m->nb_segs + tail->nb_segs);
	e->m->pkt_len += len;
	e->len += len;
	return true;
}

/* Keeps entries sorted, disjoint and apart: a segment that touches the
 * range before or after it joins that range, so an entry is a run of
 * received data between two holes and the bound (ooo_max_ranges) is on
 * holes, not on segments. What is held is bounded by the receive window
 * (segment_input() trims data beyond it), as in Linux; a bound on
 * segments would drop everything a window's worth past the first loss on
 * a path of more than that many segments, and the peer, having no SACK
 * for it, could only resend it after a retransmission timeout. Takes
 * ownership of m. */
static void
ooo_insert(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint32_t len, struct rte_mbuf *m)
{
	uint32_t end = seq + len;
	unsigned i = 0;
	bool joins_prev, joins_next;

	while (i < c->ooo_count && SEQ_LEQ(c->ooo[i].seq + c->ooo[i].len, seq))
		i++;
	if (i < c->ooo_count && SEQ_LEQ(c->ooo[i].seq, seq)) {
		uint32_t e_end = c->ooo[i].seq + c->ooo[i].len;

		if (SEQ_GEQ(e_end, end)) {
			c->ooo[i].stamp = ++c->ooo_stamp;
			rte_pktmbuf_free(m);
			return;
		}
		m = tcp_chain_trim_front(m, e_end - seq);
		len -= e_end - seq;
		seq = e_end;
		i++;
	}
	while (i < c->ooo_count && SEQ_LEQ(c->ooo[i].seq + c->ooo[i].len, end)) {
		rte_pktmbuf_free(c->ooo[i].m);
		memmove(&c->ooo[i], &c->ooo[i + 1], (c->ooo_count - i - 1) * sizeof(c->ooo[0]));
		c->ooo_count--;
	}
	if (i < c->ooo_count && SEQ_LT(c->ooo[i].seq, end)) {
		len = c->ooo[i].seq - seq;
		end = seq + len;
		if (len == 0) {
			/* Between two adjacent entries: nothing new. */
			c->ooo[i].stamp = ++c->ooo_stamp;
			rte_pktmbuf_free(m);
			return;
		}
		tcp_chain_trim_back(m, len);
	}
	s->stats.ooo_segments++;
	joins_prev = i > 0 && c->ooo[i - 1].seq + c->ooo[i - 1].len == seq;
	joins_next = i < c->ooo_count && c->ooo[i].seq == end;
	if (joins_prev && ooo_chain(&c->ooo[i - 1], m, len)) {
		c->ooo[i - 1].stamp = ++c->ooo_stamp;
		/* The hole after it closed too: one range. */
		if (joins_next && ooo_chain(&c->ooo[i - 1], c->ooo[i].m, c->ooo[i].len)) {
			memmove(&c->ooo[i], &c->ooo[i + 1],
					(c->ooo_count - i - 1) * sizeof(c->ooo[0]));
			c->ooo_count--;
		}
		return;
	}
	if (joins_next) {
		struct tcp_ooo_entry head = {
			.seq = seq, .len = len, .m = m, .last = rte_pktmbuf_lastseg(m),
		};

		if (ooo_chain(&head, c->ooo[i].m, c->ooo[i].len)) {
			head.stamp = ++c->ooo_stamp;
			c->ooo[i] = head;
			return;
		}
	}
	if (c->ooo_count == s->cfg.ooo_max_ranges) {
		/* Full: keep the data closest to RCV.NXT, which fills the
		 * next hole soonest; drop the highest entry for a lower
		 * segment, else the segment (the peer retransmits either). */
		s->stats.drop_ooo_full++;
		if (i == c->ooo_count) {
			rte_pktmbuf_free(m);
			return;
		}
		c->ooo_count--;
		rte_pktmbuf_free(c->ooo[c->ooo_count].m);
	}
	memmove(&c->ooo[i + 1], &c->ooo[i], (c->ooo_count - i) * sizeof(c->ooo[0]));
	c->ooo[i].seq = seq;
	c->ooo[i].len = len;
	c->ooo[i].m = m;
	c->ooo[i].last = rte_pktmbuf_lastseg(m);
	c->ooo[i].stamp = ++c->ooo_stamp;
	c->ooo_count++;
}

static void
ooo_pull(struct tcp_stack *s, struct tcp_conn *c)
{
	while (c->ooo_count > 0 && SEQ_LEQ(c->ooo[0].seq, c->rcv_nxt)) {
		struct tcp_ooo_entry e = c->ooo[0];
		uint32_t end = e.seq + e.len;

		memmove(&c->ooo[0], &c->ooo[1], (c->ooo_count - 1) * sizeof(c->ooo[0]));
		c->ooo_count--;
		if (SEQ_LEQ(end, c->rcv_nxt)) {
			rte_pktmbuf_free(e.m);
			continue;
		}
		if (c->rcv_nxt != e.seq)
			e.m = tcp_chain_trim_front(e.m, c->rcv_nxt - e.seq);
		append_rq(c, e.m, end - c->rcv_nxt);
		s->stats.bytes_in += end - c->rcv_nxt;
		c->rcv_nxt = end;
	}
}

static void
receive_data(struct tcp_stack *s, struct tcp_conn *c, struct tcp_segment *seg, uint32_t seq,
		uint32_t len, uint64_t now)
{
	if (seq == c->rcv_nxt) {
		bool had_ooo = c->ooo_count > 0;

		append_rq(c, seg->m, len);
		seg->m = NULL;
		c->rcv_nxt += len;
		s->stats.bytes_in += len;
		if (had_ooo) {
			/* RFC 5681 4.2: ACK at once when a hole fills. */
			ooo_pull(s, c);
			c->flags |= CF_ACK_NOW;
		} else if (c->rcv_nxt - c->last_ack_sent >= 2u * c->mss) {
			/* RFC 9293 3.8.6.3: at least every second full segment. */
			c->flags |= CF_ACK_NOW;
		} else if (c->t_delack == 0) {
			c->t_delack = now + s->cfg.delayed_ack_ns;
		}
		tcp_event(s, c, TCP_EVENT_READABLE);
	} else {
		ooo_insert(s, c, seq, len, seg->m);
		seg->m = NULL;
		/* RFC 5681 4.2: an out-of-order segment is ACKed at once. */
		c->flags |= CF_ACK_NOW;
	}
}

static void
drop_acked_data(struct tcp_conn *c, uint32_t n)
{
	c->sq_bytes -= n;
	c->sq_seq += n;
	while (n > 0 && c->sq_head != NULL) {
		struct rte_mbuf *m = c->sq_head;
		uint32_t left = m->data_len - c->sq_head_off;

		if (n < left) {
			c->sq_head_off += n;
			break;
		}
		n -= left;
		c->sq_head = m->next;
		c->sq_head_off = 0;
		if (c->sq_cursor == m)
			c->sq_cursor = NULL;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
	}
	if (c->sq_head == NULL)
		c->sq_tail = NULL;
}

static void
process_fin(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	c->rcv_nxt++;
	/* The FIN ends the stream: out-of-order data held above it (a peer
	 * that sent bytes past its own FIN) can never be delivered. */
	while (c->ooo_count > 0)
		rte_pktmbuf_free(c->ooo[--c->ooo_count].m);
	c->flags |= CF_ACK_NOW | CF_PEER_FIN;
	c->flags &= ~CF_OOO_FIN;
	switch (c->state) {
	case TCP_STATE_SYN_RECEIVED:
	case TCP_STATE_ESTABLISHED:
		c->state = TCP_STATE_CLOSE_WAIT;
		tcp_event(s, c, TCP_EVENT_PEER_CLOSED);
		break;
	case TCP_STATE_FIN_WAIT_1:
		/* Simultaneous close: our FIN is not yet acknowledged. */
		c->state = TCP_STATE_CLOSING;
		break;
	case TCP_STATE_FIN_WAIT_2:
		c->t_2msl = 0;
		tcp_enter_time_wait(s, c, now);
		break;
	case TCP_STATE_TIME_WAIT:
		c->t_2msl = now + s->cfg.time_wait_ns;
		tcp_timer_update(s, c);
		break;
	default:
		break;
	}
}

/* RFC 2883: bytes received twice are reported in the next ACK's first
 * SACK block, so the peer can tell a needless retransmission (a loss
 * probe's, RFC 8985 7.4) from a repair. */
static void
note_duplicate(struct tcp_conn *c, uint32_t left, uint32_t right)
{
	if (!(c->flags & CF_SACK_OK) || !SEQ_LT(left, right))
		return;
	c->dsack_left = left;
	c->dsack_right = right;
	c->flags |= CF_DSACK;
}

/* RFC 2883 4: the ACK's first SACK block reports a duplicate when it lies
 * below the cumulative ACK or inside the second block. */
static const struct tcp_sack_block *
ack_dsack(const struct tcp_header *h, uint32_t ack)
{
	const struct tcp_sack_block *b = &h->options.sack[0];

	if (!(h->options.present & TCP_OPT_SACK) || h->options.sack_count == 0 ||
	    !SEQ_LT(b->left, b->right))
		return NULL;
	if (SEQ_LEQ(b->right, ack) ||
	    (h->options.sack_count > 1 && SEQ_GEQ(b->left, h->options.sack[1].left) &&
	     SEQ_LEQ(b->right, h->options.sack[1].right)))
		return b;
	return NULL;
}

/* RFC 8985 7.4: what an ACK says of the loss probe that is out. A probe of
 * new data needs nothing more once acknowledged. A retransmitted one was
 * needless if the peer reports it as a duplicate (D-SACK); it repaired a
 * loss, which congestion control must answer, if the ACK goes past it
 * without such a report, or if a duplicate ACK without SACK comes. */
static void
loss_probe_ack(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_header *h, uint32_t ack,
		bool duplicate)
{
	const struct tcp_sack_block *b = ack_dsack(h, ack);
	bool dsack = b != NULL && SEQ_LT(b->left, c->probe_end) &&
		SEQ_LT(c->probe_start, b->right);

	if (!SEQ_GEQ(ack, c->probe_end))
		return;
	/* A probe of new data is done once acknowledged. */
	if (c->flags & CF_PROBE_RETRANS) {
		if (dsack) {
			s->stats.loss_probes_spurious++;
		} else if (SEQ_GT(ack, c->probe_end) ||
			   (duplicate && !(h->options.present & TCP_OPT_SACK))) {
			/* 7.4.2: a loss repaired; reduce as for one loss. */
			s->stats.loss_probe_repairs++;
			c->flags &= ~CF_UNDO;
			c->ssthresh = tcp_congestion_ssthresh(s, c, c->cwnd, false);
			c->cwnd = c->ssthresh;
		} else {
			return;	/* the ACK of the probe itself: wait for the next */
		}
	}
	c->flags &= ~(CF_PROBE_OUT | CF_PROBE_RETRANS);
}

/* RFC 5827 (SACK, segment-based): with fewer than 4 segments out and
 * nothing new that could be sent, the duplicate threshold is one less
 * than the segments out, so a small window (or the tail a loss probe
 * uncovered) can still recover without a timeout. */
static bool
early_retransmit(const struct tcp_conn *c, uint32_t data_end)
{
	uint32_t out = c->snd_max - c->snd_una;
	uint32_t segments = (out + c->mss - 1) / c->mss;
	uint32_t sacked = (tcp_sack_board_bytes_above(&c->sack_board, c->snd_una) + c->mss - 1) /
		c->mss;
	bool unsent = SEQ_LT(c->snd_max, data_end) &&
		c->snd_wnd > out && c->cwnd > out;

	return segments >= 2 && segments < 4 && !unsent && sacked >= segments - 1;
}

/* RFC 9438 4.9: what a congestion event that starts a recovery is about
 * to reduce, kept so that it can be given back should the peer report
 * every retransmission of that recovery as a duplicate (RFC 3708: the
 * segment was late, not lost). */
static void
undo_save(struct tcp_conn *c)
{
	c->undo_cwnd = c->cwnd;
	c->undo_ssthresh = c->ssthresh;
	c->undo_cubic = c->cubic;
	c->undo_marker = c->undo_high = c->snd_una;
	c->undo_retrans = 0;
	c->flags = (c->flags | CF_UNDO) & ~CF_UNDONE;
}

void
tcp_undo_note_retransmit(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	if (!(c->flags & CF_UNDO) || len == 0 || SEQ_LT(seq, c->undo_marker))
		return;
	c->undo_retrans += (len + c->mss - 1) / c->mss;
	if (SEQ_GT(seq + len, c->undo_high))
		c->undo_high = seq + len;
}

static const struct tcp_sack_block *ack_dsack(const struct tcp_header *h, uint32_t ack);

/* RFC 3708 2: each D-SACK for data this recovery retransmitted says one
 * retransmission was needless; when all were, the reduction is given back
 * (RFC 9438 4.9: cwnd, ssthresh and CUBIC's state as before the event),
 * unless the window has grown past it since. */
static void
undo_check(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_header *h, uint32_t ack)
{
	const struct tcp_sack_block *b = ack_dsack(h, ack);
	uint32_t segments;

	if (b == NULL || c->undo_retrans == 0 || SEQ_LT(b->left, c->undo_marker) ||
	    SEQ_GT(b->right, c->undo_high))
		return;
	segments = (b->right - b->left + c->mss - 1) / c->mss;
	c->undo_retrans = segments >= c->undo_retrans ? 0 : c->undo_retrans - segments;
	if (c->undo_retrans > 0)
		return;
	c->flags &= ~CF_UNDO;
	if (c->cwnd >= c->undo_cwnd)
		return;
	c->cwnd = c->undo_cwnd;
	c->ssthresh = c->undo_ssthresh;
	c->cubic = c->undo_cubic;
	s->stats.recoveries_undone++;
	/* Still in the recovery: its end must not deflate the window. */
	if (c->flags & CF_RECOVERY)
		c->flags |= CF_UNDONE;
	tcp_mark_dirty(s, c);
}

uint32_t
tcp_congestion_ssthresh(struct tcp_stack *s, struct tcp_conn *c, uint32_t flight, bool timeout)
{
	if (s->cfg.congestion_control != TCP_CC_CUBIC)
		return RTE_MAX(flight / 2, 2u * c->mss);
	return timeout ? tcp_cubic_timeout(&c->cubic, c->cwnd, flight, c->mss)
		       : tcp_cubic_congestion_event(&c->cubic, c->cwnd, flight, c->mss);
}

/* RFC 6675 5 step 4: fast retransmit and loss recovery driven by the
 * SACK scoreboard (tcp_conn_output() sends what NextSeg() picks while
 * cwnd - pipe allows). */
void
tcp_enter_sack_recovery(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	c->recover = c->snd_max;
	undo_save(c);
	c->ssthresh = tcp_congestion_ssthresh(s, c, flight, false);
	c->cwnd = c->ssthresh;
	c->high_rxt = c->snd_una;
	c->t_probe = c->t_reorder = c->rxt_una_time = 0;
	c->flags &= ~(CF_LOSS_PROBE | CF_PROBE_OUT | CF_PROBE_RETRANS);
	/* 4.3: the first segment presumed lost goes out whatever pipe is. */
	c->flags |= CF_RECOVERY | CF_SACK_RECOVERY | CF_REXMIT_ONE;
	c->flags &= ~(CF_RTT_TIMING | CF_RESCUED);
	s->stats.fast_retransmits++;
	s->stats.sack_recoveries++;
	tcp_mark_dirty(s, c);
}

/* Returns false when the connection is gone. */
static bool
process_ack(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_segment *seg, uint64_t now)
{
	const struct tcp_header *h = &seg->h;
	uint32_t ack = h->ack;
	uint32_t wnd = (uint32_t)h->window << c->snd_wscale;
	uint32_t data_end = c->sq_seq + c->sq_bytes;
	uint32_t newly_sacked = 0;
	bool counted_dupack = false, advanced = SEQ_GT(ack, c->snd_una);
	/* RFC 9438 5.8: the window grows only while it is what limits the
	 * sender, i.e. when it had no room for another full segment. */
	bool cwnd_limited = c->snd_max - c->snd_una + c->mss > c->cwnd;

	if (c->flags & CF_UNDO)
		undo_check(s, c, h, ack);
	/* RFC 6675 5: every ACK with SACK blocks updates the scoreboard. */
	if (c->flags & CF_SACK_OK) {
		uint32_t una = SEQ_GT(ack, c->snd_una) ? ack : c->snd_una;

		tcp_sack_board_advance(&c->sack_board, una);
		if (h->options.present & TCP_OPT_SACK)
			newly_sacked = tcp_sack_board_update(&c->sack_board, una, c->snd_max,
					h->options.sack, h->options.sack_count);
	}
	if (SEQ_GT(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;
		uint32_t data_acked = 0;
		bool partial = false;

		/* RFC 7323 4.1 (timestamps) or RFC 6298 3 with Karn. */
		if ((c->flags & CF_TS_OK) && (h->options.present & TCP_OPT_TIMESTAMP) &&
		    h->options.ts_ecr != 0 &&
		    (int32_t)(tcp_ts_now(c, now) - h->options.ts_ecr) >= 0) {
			tcp_rto_update(c, &s->cfg,
				(uint64_t)(tcp_ts_now(c, now) - h->options.ts_ecr) * TCP_NS_PER_MS);
		} else if ((c->flags & CF_RTT_TIMING) && SEQ_GEQ(ack, c->rtt_seq)) {
			tcp_rto_update(c, &s->cfg, now - c->rtt_start);
			c->flags &= ~CF_RTT_TIMING;
		}
		c->backoff = 0;
		c->retries = 0;
		if (SEQ_GT(ack, c->sq_seq))
			data_acked = RTE_MIN(ack - c->sq_seq, c->sq_bytes);
		if (c->flags & CF_RECOVERY) {
			if (SEQ_GEQ(ack, c->recover)) {
				/* RFC 6582 3.2 step 3: full acknowledgment
				 * (RFC 6675 5: recovery ends the same way). */
				uint32_t flight = c->snd_max - ack;

				if (!(c->flags & CF_UNDONE))
					c->cwnd = RTE_MIN(c->ssthresh,
							RTE_MAX(flight, (uint32_t)c->mss) + c->mss);
				c->flags &= ~(CF_RECOVERY | CF_SACK_RECOVERY | CF_UNDONE);
				c->dupacks = 0;
				if (c->reo_wnd_persist > 0)
					c->reo_wnd_persist--;
				else
					c->reo_wnd_mult = 1;
			} else if (c->flags & CF_SACK_RECOVERY) {
				/* RFC 6675 5: a partial ACK changes no cwnd;
				 * pipe falls and NextSeg() picks the next
				 * hole (tcp_conn_output()). */
				s->stats.partial_acks++;
				if (SEQ_LT(c->high_rxt, ack))
					c->high_rxt = ack;
				/* The new first hole: resent already (before
				 * now, as far as we know) or not yet. */
				c->rxt_una_time = SEQ_LT(ack, c->high_rxt) ? now : 0;
			} else {
				/* RFC 6582 3.2 step 4: partial acknowledgment. */
				s->stats.partial_acks++;
				c->flags |= CF_REXMIT_ONE;
				c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
				if (acked >= c->mss)
					c->cwnd += c->mss;
				if (c->cwnd < c->mss)
					c->cwnd = c->mss;
				partial = true;
			}
		} else {
			c->dupacks = 0;
			if (c->cwnd < c->ssthresh)
				c->cwnd += RTE_MIN(acked, (uint32_t)c->mss);	/* RFC 5681 3.1 */
			else if (s->cfg.congestion_control != TCP_CC_CUBIC)
				c->cwnd += RTE_MAX(1u, (uint32_t)c->mss * c->mss / c->cwnd);
			else if (cwnd_limited)
				c->cwnd = tcp_cubic_ack(&c->cubic, c->cwnd, acked, c->mss, now, c->srtt);
			else
				tcp_cubic_not_limited(&c->cubic);
		}
		drop_acked_data(c, data_acked);
		c->snd_una = ack;
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		if (!(c->flags & CF_PERSIST)) {
			/* RFC 6298 5.2 and 5.3. */
			if (c->snd_una == c->snd_max)
				c->t_rexmit = 0;
			else
				c->t_rexmit = now + c->rto;
		}
		(void)partial;
		if ((c->flags & CF_WANT_WRITABLE) && c->sq_bytes < s->cfg.send_buffer) {
			c->flags &= ~CF_WANT_WRITABLE;
			tcp_event(s, c, TCP_EVENT_WRITABLE);
		}
		tcp_mark_dirty(s, c);
		if ((c->flags & CF_FIN_QUEUED) && c->snd_max == data_end + 1 && ack == c->snd_max) {
			switch (c->state) {
			case TCP_STATE_FIN_WAIT_1:
				c->state = TCP_STATE_FIN_WAIT_2;
				/* Bound an orphaned FIN-WAIT-2 like TIME-WAIT. */
				c->t_2msl = now + s->cfg.time_wait_ns;
				break;
			case TCP_STATE_CLOSING:
				tcp_enter_time_wait(s, c, now);
				break;
			case TCP_STATE_LAST_ACK:
				tcp_conn_closed(s, c, 0);
				return false;
			default:
				break;
			}
		}
	} else if (ack == c->snd_una && seg->len == 0 &&
		   !(h->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) && c->snd_max != c->snd_una &&
		   wnd == c->snd_wnd && !(c->flags & CF_PERSIST)) {
		/* RFC 5681 2 duplicate ACK; 3.2 fast retransmit; RFC 6582. */
		c->dupacks++;
		counted_dupack = true;
		if (c->flags & CF_SACK_RECOVERY) {
			/* RFC 6675: no cwnd inflation; the SACK
			 * information it brought lowered pipe. */
			tcp_mark_dirty(s, c);
		} else if (c->dupacks < 3 && !(c->flags & CF_RECOVERY)) {
			/* RFC 3042: the first two may each release a new
			 * segment (tcp_conn_output) to keep the ACK clock. */
			tcp_mark_dirty(s, c);
		} else if (c->dupacks == 3 && !(c->flags & CF_RECOVERY) &&
			   c->sack_board.count == 0) {
			/* (With SACK information: the RFC 6675 entry below.) */
			if (SEQ_GT(ack, c->recover)) {
				uint32_t flight = c->snd_max - c->snd_una;

				undo_save(c);
				c->ssthresh = tcp_congestion_ssthresh(s, c, flight, false);
				c->recover = c->snd_max;
				c->cwnd = c->ssthresh + 3u * c->mss;
				c->t_probe = c->t_reorder = 0;
				c->flags &= ~(CF_LOSS_PROBE | CF_PROBE_OUT | CF_PROBE_RETRANS);
				c->flags |= CF_RECOVERY | CF_REXMIT_ONE;
				c->flags &= ~CF_RTT_TIMING;
				s->stats.fast_retransmits++;
				tcp_mark_dirty(s, c);
			}
		} else if (c->dupacks > 3 && (c->flags & CF_RECOVERY)) {
			c->cwnd += c->mss;
			tcp_mark_dirty(s, c);
		}
	}
	/* RFC 6675 5: with SACK, an ACK that brings new SACK information is a
	 * duplicate (RFC 5681 2's SACK alternative), data or not: so losses
	 * are found on two-way links too, where the peer's ACKs carry data.
	 * Recovery starts at DupThresh duplicates or as soon as IsLost(SND.UNA)
	 * (step 2), once per window (RFC 6582's recover). */
	if (!(c->flags & CF_RECOVERY) &&
	    (newly_sacked > 0 || (counted_dupack && c->sack_board.count > 0))) {
		if (!counted_dupack)
			c->dupacks++;
		if (SEQ_GT(c->snd_una, c->recover) && c->snd_una != c->snd_max &&
		    !(c->flags & CF_PERSIST) &&
		    (c->dupacks >= TCP_SACK_DUP_THRESH ||
		     tcp_sack_board_is_lost(&c->sack_board, c->snd_una, c->mss) ||
		     early_retransmit(c, data_end)))
			tcp_enter_sack_recovery(s, c);
	}
	if ((c->flags & CF_SACK_OK) && ack_dsack(h, ack) != NULL &&
	    SEQ_GEQ(c->snd_una, c->dsack_round)) {
		/* RFC 8985 6.2 step 4: once per round trip. */
		if (c->reo_wnd_mult < 4)
			c->reo_wnd_mult++;
		c->reo_wnd_persist = 16;
		c->dsack_round = c->snd_max;
	}
	/* Time-based detection (RACK's idea, RFC 8985 6.2): a hole with
	 * SACKed data above it is lost once that data has been known for a
	 * reordering window, since the hole was sent before it. The window
	 * starts when the hole at SND.UNA first has data SACKed above it
	 * (tcp_timer.c starts the recovery). */
	if ((c->flags & CF_RECOVERY) || c->sack_board.count == 0 || c->snd_una == c->snd_max ||
	    (c->flags & CF_PERSIST)) {
		c->t_reorder = 0;
	} else if (c->t_reorder == 0 || c->reorder_una != c->snd_una) {
		c->t_reorder = now + tcp_reorder_window(c);
		c->reorder_una = c->snd_una;
	}
	/* A retransmission lost again: the hole at SND.UNA was resent an
	 * RTT and a reordering window ago and is still missing while later
	 * data keeps arriving (RACK's lost-retransmission rule, 6.2). */
	if ((c->flags & CF_SACK_RECOVERY) && newly_sacked > 0 && c->rxt_una_time != 0 &&
	    c->sack_board.count > 0 && SEQ_LT(c->snd_una, c->sack_board.ranges[0].left) &&
	    now >= c->rxt_una_time + c->srtt + tcp_reorder_window(c)) {
		c->flags |= CF_REXMIT_ONE;
		c->rxt_una_time = 0;
		s->stats.lost_retransmits++;
		tcp_mark_dirty(s, c);
	}
	if (newly_sacked > 0)
		tcp_mark_dirty(s, c);
	if (c->flags & CF_PROBE_OUT)
		loss_probe_ack(s, c, h, ack, counted_dupack);
	/* RFC 8985 7.2: a cumulative ACK reschedules the probe (one due but
	 * not sent yet is no longer needed). */
	if (advanced) {
		c->flags &= ~CF_LOSS_PROBE;
		tcp_loss_probe_arm(s, c, now);
	}
	/* RFC 9293 3.10.7.4: window update from a newer segment. */
	if (SEQ_GEQ(ack, c->snd_una) &&
	    (SEQ_LT(c->snd_wl1, h->seq) || (c->snd_wl1 == h->seq && SEQ_LEQ(c->snd_wl2, ack)))) {
		if (wnd > c->snd_wnd)
			tcp_mark_dirty(s, c);
		c->snd_wnd = wnd;
		c->snd_wl1 = h->seq;
		c->snd_wl2 = ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (wnd > 0 && (c->flags & CF_PERSIST)) {
			/* The window opened: resend from SND.UNA, which also
			 * covers a probe byte the receiver dropped. */
			c->flags &= ~CF_PERSIST;
			c->persist_backoff = 0;
			c->snd_nxt = c->snd_una;
			c->t_rexmit = c->snd_una != c->snd_max ? now + c->rto : 0;
			tcp_mark_dirty(s, c);
		}
	}
	tcp_timer_update(s, c);
	return true;
}

static void
establish(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_header *h, uint64_t now)
{
	c->state = TCP_STATE_ESTABLISHED;
	c->snd_una = h->ack;
	c->sq_seq = c->iss + 1;
	/* RFC 7323 2.2: a SYN's window is never scaled. */
	c->snd_wnd = (h->flags & TCP_FLAG_SYN) ? h->window : (uint32_t)h->window << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = h->seq;
	c->snd_wl2 = h->ack;
	c->t_rexmit = 0;
	/* RFC 6298 2.2: first sample, from a SYN or SYN-ACK sent once. */
	if (c->retries == 0) {
		if ((c->flags & CF_TS_OK) && (h->options.present & TCP_OPT_TIMESTAMP) &&
		    h->options.ts_ecr != 0 && (int32_t)(tcp_ts_now(c, now) - h->options.ts_ecr) >= 0)
			tcp_rto_update(c, &s->cfg,
				(uint64_t)(tcp_ts_now(c, now) - h->options.ts_ecr) * TCP_NS_PER_MS);
		else
			tcp_rto_update(c, &s->cfg, now - c->rtt_start);
	}
	c->retries = 0;
	if (c->flags & CF_SYN_QUEUE) {
		c->flags &= ~CF_SYN_QUEUE;
		s->syn_queue_len--;
	}
	if (c->flags & CF_PASSIVE) {
		c->flags |= CF_USER_VISIBLE;
		s->stats.connections_accepted++;
		tcp_event(s, c, TCP_EVENT_ACCEPTED);
	} else {
		s->stats.connections_connected++;
		tcp_event(s, c, TCP_EVENT_CONNECTED);
	}
	tcp_timer_update(s, c);
	tcp_mark_dirty(s, c);
}

static void
syn_sent_input(struct tcp_stack *s, struct tcp_conn *c, struct tcp_segment *seg, uint64_t now)
{
	const struct tcp_header *h = &seg->h;

	/* RFC 9293 3.10.7.3. */
	if (h->flags & TCP_FLAG_ACK) {
		if (SEQ_LEQ(h->ack, c->iss) || SEQ_GT(h->ack, c->snd_max)) {
			s->stats.drop_bad_ack++;
			tcp_send_reset_for(s, seg);
			return;
		}
	}
	if (h->flags & TCP_FLAG_RST) {
		if (h->flags & TCP_FLAG_ACK) {
			s->stats.resets_received++;
			tcp_conn_closed(s, c, -ECONNREFUSED);
		}
		return;
	}
	if (!(h->flags & TCP_FLAG_SYN))
		return;
	negotiate(s, c, &h->options, now);
	c->irs = h->seq;
	c->rcv_nxt = h->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	if (h->flags & TCP_FLAG_ACK) {
		establish(s, c, h, now);
		c->flags |= CF_ACK_NOW;
		return;
	}
	/* Simultaneous open: SYN-RECEIVED, SYN-ACK with the same ISS. */
	c->state = TCP_STATE_SYN_RECEIVED;
	c->snd_wnd = h->window;
	c->snd_wl1 = h->seq;
	c->flags |= CF_SEND_SYN;
	tcp_mark_dirty(s, c);
}

static void
conn_input(struct tcp_stack *s, struct tcp_conn *c, struct tcp_segment *seg, uint64_t now)
{
	const struct tcp_header *h = &seg->h;
	uint32_t seq = h->seq;
	uint32_t len = seg->len;
	bool syn = (h->flags & TCP_FLAG_SYN) != 0;
	bool fin = (h->flags & TCP_FLAG_FIN) != 0;
	uint32_t seg_len = len + (syn ? 1 : 0) + (fin ? 1 : 0);
	uint32_t rcv_wnd;
	bool acceptable;

	if (c->state == TCP_STATE_SYN_SENT) {
		syn_sent_input(s, c, seg, now);
		return;
	}
	if (c->state == TCP_STATE_SYN_RECEIVED && syn && !(h->flags & (TCP_FLAG_ACK | TCP_FLAG_RST)) &&
	    seq == c->irs) {
		/* The peer did not get our SYN-ACK. */
		c->flags |= CF_SEND_SYN;
		tcp_mark_dirty(s, c);
		return;
	}
	/* RFC 7323 5.3 R1: PAWS. */
	if ((c->flags & CF_TS_OK) && (h->options.present & TCP_OPT_TIMESTAMP) &&
	    !(h->flags & TCP_FLAG_RST) && SEQ_LT(h->options.ts_val, c->ts_recent) &&
	    now - c->ts_recent_time < TCP_PAWS_IDLE_NS) {
		s->stats.drop_paws++;
		c->flags |= CF_ACK_NOW;
		tcp_mark_dirty(s, c);
		return;
	}
	/* RFC 9293 3.10.7.4 first: sequence number acceptability. */
	rcv_wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	if (seg_len == 0)
		acceptable = rcv_wnd == 0 ? seq == c->rcv_nxt :
			SEQ_LEQ(c->rcv_nxt, seq) && SEQ_LT(seq, c->rcv_nxt + rcv_wnd);
	else if (rcv_wnd == 0)
		acceptable = false;
	else
		acceptable = (SEQ_LEQ(c->rcv_nxt, seq) && SEQ_LT(seq, c->rcv_nxt + rcv_wnd)) ||
			(SEQ_LEQ(c->rcv_nxt, seq + seg_len - 1) &&
			 SEQ_LT(seq + seg_len - 1, c->rcv_nxt + rcv_wnd));
	if (!acceptable && rcv_wnd == 0 && seq == c->rcv_nxt && !syn) {
		/* A zero window still takes ACKs, RSTs and URGs: keep the
		 * header, drop the text. */
		len = 0;
		fin = false;
		seg_len = 0;
		acceptable = true;
		c->flags |= CF_ACK_NOW;
		tcp_mark_dirty(s, c);
	}
	if (!acceptable) {
		if (!(h->flags & TCP_FLAG_RST)) {
			if (len > 0 && SEQ_LEQ(seq + len, c->rcv_nxt))
				note_duplicate(c, seq, seq + len);
			c->flags |= CF_ACK_NOW;
			tcp_mark_dirty(s, c);
			if (c->state == TCP_STATE_TIME_WAIT && fin) {
				c->t_2msl = now + s->cfg.time_wait_ns;
				tcp_timer_update(s, c);
			}
		}
		s->stats.drop_out_of_window++;
		return;
	}
	/* RFC 5961 3.2: only an exact RST resets; an in-window one gets a
	 * challenge ACK. */
	if (h->flags & TCP_FLAG_RST) {
		if (seq != c->rcv_nxt) {
			challenge_ack(s, c, now);
			return;
		}
		s->stats.resets_received++;
		if (c->state == TCP_STATE_TIME_WAIT)
			return;	/* RFC 1337 */
		tcp_conn_closed(s, c, -ECONNRESET);
		return;
	}
	/* RFC 5961 4.2: any SYN in a synchronized state. */
	if (syn) {
		challenge_ack(s, c, now);
		return;
	}
	/* Trim to the window (RFC 9293 3.10.7.4). */
	if (SEQ_LT(seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - seq;

		if (len > 0)
			note_duplicate(c, seq, seq + RTE_MIN(skip, len));
		if (skip >= len) {
			if (skip > len)
				fin = false;
			len = 0;
		} else {
			seg->m = tcp_chain_trim_front(seg->m, skip);
			len -= skip;
		}
		seq = c->rcv_nxt;
	}
	if (len > 0 && SEQ_GT(seq + len, c->rcv_nxt + rcv_wnd)) {
		uint32_t keep = c->rcv_nxt + rcv_wnd - seq;

		fin = false;
		if (keep == 0)
			len = 0;
		else {
			tcp_chain_trim_back(seg->m, keep);
			len = keep;
		}
	}
	if (!(h->flags & TCP_FLAG_ACK))
		return;
	/* RFC 7323 4.3: TS.Recent from a segment covering Last.ACK.sent. */
	if ((c->flags & CF_TS_OK) && (h->options.present & TCP_OPT_TIMESTAMP) &&
	    SEQ_GEQ(h->options.ts_val, c->ts_recent) && SEQ_LEQ(h->seq, c->last_ack_sent)) {
		c->ts_recent = h->options.ts_val;
		c->ts_recent_time = now;
	}
	if (c->state == TCP_STATE_SYN_RECEIVED) {
		if (SEQ_GT(h->ack, c->snd_una) && SEQ_LEQ(h->ack, c->snd_max)) {
			establish(s, c, h, now);
		} else {
			s->stats.drop_bad_ack++;
			tcp_send_reset_for(s, seg);
			return;
		}
	}
	/* RFC 5961 5.2 and RFC 9293: ACK acceptability. */
	if (SEQ_GT(h->ack, c->snd_max)) {
		s->stats.drop_bad_ack++;
		challenge_ack(s, c, now);
		return;
	}
	if (SEQ_LT(h->ack, c->snd_una - c->max_snd_wnd)) {
		s->stats.drop_bad_ack++;
		challenge_ack(s, c, now);
		return;
	}
	if (!process_ack(s, c, seg, now))
		return;
	if (len > 0 && (c->flags & CF_USER_CLOSED) &&
	    (c->state == TCP_STATE_FIN_WAIT_1 || c->state == TCP_STATE_FIN_WAIT_2)) {
		/* New data nobody will read (RFC 9293 3.10.7.4 seventh, RFC
		 * 1122 4.2.2.13, as Linux): reset the sender rather than let
		 * it believe the bytes were delivered. A retransmission wholly
		 * below RCV.NXT is not acceptable and only gets an ACK. */
		s->stats.drop_after_close++;
		s->stats.resets_data_after_close++;
		tcp_send_reset_for(s, seg);
		tcp_conn_closed(s, c, -ECONNRESET);
		return;
	}
	if (len > 0) {
		switch (c->state) {
		case TCP_STATE_ESTABLISHED:
		case TCP_STATE_FIN_WAIT_1:
		case TCP_STATE_FIN_WAIT_2:
			receive_data(s, c, seg, seq, len, now);
			break;
		default:
			break;
		}
	}
	if (fin && c->state != TCP_STATE_CLOSED) {
		uint32_t fin_seq = seq + len;

		if (fin_seq == c->rcv_nxt) {
			process_fin(s, c, now);
		} else if (SEQ_GT(fin_seq, c->rcv_nxt)) {
			c->flags |= CF_OOO_FIN | CF_ACK_NOW;
			c->fin_seq = fin_seq;
		}
	}
	if ((c->flags & CF_OOO_FIN) && c->fin_seq == c->rcv_nxt)
		process_fin(s, c, now);
	if (c->flags & CF_ACK_NOW)
		tcp_mark_dirty(s, c);
	tcp_timer_update(s, c);
}

static const struct tcp_listener *
find_listener(const struct tcp_stack *s, uint32_t local_ip, uint16_t port)
{
	const struct tcp_listener *any = NULL;

	for (uint32_t i = 0; i < s->cfg.max_listeners; i++) {
		const struct tcp_listener *l = &s->listeners[i];

		if (!l->in_use || l->port != port)
			continue;
		if (l->local_ip == local_ip)
			return l;
		if (l->local_ip == 0)
			any = l;
	}
	return any;
}

static void
cookie_ack(struct tcp_stack *s, const struct tcp_listener *l, struct tcp_segment *seg,
		const struct tcp_key *key, uint64_t now)
{
	const struct tcp_header *h = &seg->h;
	struct syn_cookie_tuple t = {
		.local_ip = seg->local_ip, .remote_ip = seg->remote_ip,
		.local_port = h->dst_port, .remote_port = h->src_port,
	};
	struct tcp_options o;
	struct tcp_conn *c;
	uint8_t index;

	if (!s->cookies_sent || now - s->last_cookie_sent >= 2 * SYN_COOKIE_PERIOD_NS ||
	    !syn_cookie_check(s->cookie_key, &t, h->seq - 1, h->ack - 1, now, &index)) {
		if (s->cookies_sent)
			s->stats.syn_cookies_rejected++;
		s->stats.drop_no_socket++;
		tcp_send_reset_for(s, seg);
		return;
	}
	c = tcp_conn_alloc(s, key);
	if (c == NULL) {
		s->stats.drop_no_tcb++;
		return;
	}
	s->stats.syn_cookies_accepted++;
	tcp_conn_init_tcb(s, c, now);
	memset(&o, 0, sizeof(o));
	o.present = TCP_OPT_MSS;
	o.mss = syn_cookie_mss(index);
	if (h->options.present & TCP_OPT_TIMESTAMP) {
		uint8_t ws;
		bool sack;

		syn_cookie_ts_decode(h->options.ts_ecr, &ws, &sack);
		o.present |= TCP_OPT_TIMESTAMP;
		o.ts_val = h->options.ts_val;
		if (ws != SYN_COOKIE_WSCALE_NONE) {
			o.present |= TCP_OPT_WSCALE;
			o.wscale = ws;
		}
		if (sack)
			o.present |= TCP_OPT_SACK_PERMITTED;
	}
	negotiate(s, c, &o, now);
	c->iss = h->ack - 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->recover = c->iss;
	c->irs = h->seq - 1;
	c->rcv_nxt = h->seq;
	c->rcv_adv = c->rcv_nxt + RTE_MIN(s->cfg.recv_buffer, 0xffffu);
	c->last_ack_sent = c->rcv_nxt;
	c->listener = (uint32_t)(l - s->listeners);
	c->flags |= CF_PASSIVE;
	c->retries = 1;	/* no RTT sample from a SYN-ACK we did not time */
	c->state = TCP_STATE_SYN_RECEIVED;
	conn_input(s, c, seg, now);
}

static void
listen_input(struct tcp_stack *s, const struct tcp_listener *l, struct tcp_segment *seg,
		const struct tcp_key *key, uint64_t now)
{
	const struct tcp_header *h = &seg->h;
	struct tcp_conn *c;

	/* RFC 9293 3.10.7.2. */
	if (h->flags & TCP_FLAG_RST)
		return;
	if (h->flags & TCP_FLAG_ACK) {
		if (!(h->flags & TCP_FLAG_SYN)) {
			cookie_ack(s, l, seg, key, now);
			return;
		}
		s->stats.drop_no_socket++;
		tcp_send_reset_for(s, seg);
		return;
	}
	if (!(h->flags & TCP_FLAG_SYN))
		return;
	/* Every TCB holds a live connection: drop the SYN, as Linux does
	 * with a full accept queue, so the peer retries with its SYN back-off
	 * instead of believing a connection we cannot keep. */
	if (!tcp_conn_available(s)) {
		s->stats.drop_no_tcb++;
		return;
	}
	/* RFC 4987: past the bounded SYN queue, answer statelessly. */
	if (s->syn_queue_len >= s->cfg.syn_queue_max) {
		tcp_send_cookie_syn_ack(s, seg, now);
		return;
	}
	c = tcp_conn_alloc(s, key);
	if (c == NULL) {
		s->stats.drop_no_tcb++;
		return;
	}
	tcp_conn_init_tcb(s, c, now);
	negotiate(s, c, &h->options, now);
	c->flags |= CF_PASSIVE | CF_SYN_QUEUE | CF_SEND_SYN;
	s->syn_queue_len++;
	c->state = TCP_STATE_SYN_RECEIVED;
	c->listener = (uint32_t)(l - s->listeners);
	c->irs = h->seq;
	c->rcv_nxt = h->seq + 1;
	c->last_ack_sent = c->rcv_nxt;
	c->snd_wnd = h->window;
	c->snd_wl1 = h->seq;
	c->sq_seq = c->iss + 1;
	tcp_mark_dirty(s, c);
}

void
tcp_segment_input(struct tcp_stack *s, struct tcp_segment *seg, uint64_t now)
{
	const struct tcp_header *h = &seg->h;
	struct tcp_key key = {
		.remote_ip = seg->remote_ip, .local_ip = seg->local_ip,
		.remote_port = h->src_port, .local_port = h->dst_port,
	};
	const struct tcp_listener *l;
	struct tcp_conn *c = tcp_conn_lookup(s, &key);

	if (c != NULL && c->state == TCP_STATE_TIME_WAIT &&
	    (h->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN &&
	    find_listener(s, seg->local_ip, h->dst_port) != NULL &&
	    (((c->flags & CF_TS_OK) && (h->options.present & TCP_OPT_TIMESTAMP) &&
	      SEQ_GT(h->options.ts_val, c->ts_recent)) ||
	     (!(h->options.present & TCP_OPT_TIMESTAMP) && SEQ_GT(h->seq, c->rcv_nxt)))) {
		/* RFC 6191: a new incarnation may end TIME-WAIT. */
		s->stats.time_wait_expired++;
		tcp_conn_free(s, c);
		c = NULL;
	}
	if (c != NULL) {
		conn_input(s, c, seg, now);
		return;
	}
	l = find_listener(s, seg->local_ip, h->dst_port);
	if (l != NULL) {
		listen_input(s, l, seg, &key, now);
		return;
	}
	s->stats.drop_no_socket++;
	tcp_send_reset_for(s, seg);
}
