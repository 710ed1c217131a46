/* Segment building: SYN / SYN-ACK with option negotiation, data with
 * congestion and flow control (RFC 5681, RFC 9293 3.8.6), retransmissions,
 * zero-window probes, pure ACKs with SACK blocks (RFC 2018), resets and
 * stateless SYN-ACKs carrying SYN cookies. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_tcp.h>

#include "dataplane/ipv4.h"
#include "dataplane/tcp_internal.h"

#define IPV4_HEADER_LEN 20
#define DEFAULT_TTL 64

bool
tcp_txq_full(const struct tcp_stack *s)
{
	return s->txq_count == s->cfg.output_queue_size;
}

static void
txq_push(struct tcp_stack *s, struct rte_mbuf *m)
{
	if (tcp_txq_full(s)) {
		s->stats.drop_output_full++;
		rte_pktmbuf_free(m);
		return;
	}
	s->txq[(s->txq_head + s->txq_count) % s->cfg.output_queue_size] = m;
	s->txq_count++;
	s->stats.segments_out++;
}

uint32_t
tcp_ts_now(const struct tcp_conn *c, uint64_t now)
{
	return (uint32_t)(now / TCP_NS_PER_MS) + c->ts_offset;
}

uint32_t
tcp_rcv_space(const struct tcp_stack *s, const struct tcp_conn *c)
{
	if (c->flags & CF_USER_CLOSED)
		return s->cfg.recv_buffer;
	return c->rq_bytes < s->cfg.recv_buffer ? s->cfg.recv_buffer - c->rq_bytes : 0;
}

uint32_t
tcp_rcv_window_update(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t space = tcp_rcv_space(s, c);
	uint32_t cur, field;

	if (SEQ_LT(c->rcv_adv, c->rcv_nxt))
		c->rcv_adv = c->rcv_nxt;
	cur = c->rcv_adv - c->rcv_nxt;
	/* RFC 9293 3.8.6.2.2: move the right edge only by at least
	 * min(buffer / 2, MSS), and never back (RFC 7323 2.4). */
	if (space > cur && (space - cur >= RTE_MIN(s->cfg.recv_buffer / 2, (uint32_t)c->mss) ||
			    space == s->cfg.recv_buffer))
		cur = space;
	/* Round up so the scaled field never advertises less than before. */
	field = (cur + (1u << c->rcv_wscale) - 1) >> c->rcv_wscale;
	if (field > 0xffff)
		field = 0xffff;
	c->rcv_adv = c->rcv_nxt + (field << c->rcv_wscale);
	return field;
}

/* RFC 2018 4: the block holding the latest segment first, then the others
 * by how recently they changed. */
static unsigned
sack_blocks(const struct tcp_conn *c, struct tcp_sack_block *out, unsigned max)
{
	struct tcp_sack_block runs[64];
	uint32_t stamps[64];
	unsigned n = 0, chosen = 0;
	bool used[64] = { false };

	for (unsigned i = 0; i < c->ooo_count && n < 64; i++) {
		const struct tcp_ooo_entry *e = &c->ooo[i];

		if (n > 0 && runs[n - 1].right == e->seq) {
			runs[n - 1].right = e->seq + e->len;
			if (e->stamp > stamps[n - 1])
				stamps[n - 1] = e->stamp;
			continue;
		}
		runs[n].left = e->seq;
		runs[n].right = e->seq + e->len;
		stamps[n] = e->stamp;
		n++;
	}
	while (chosen < max && chosen < n) {
		unsigned best = n;

		for (unsigned i = 0; i < n; i++)
			if (!used[i] && (best == n || stamps[i] > stamps[best]))
				best = i;
		used[best] = true;
		out[chosen++] = runs[best];
	}
	return chosen;
}

struct segment_spec {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const struct tcp_options *options;
	uint32_t data_len;
};

/* The send queue segment holding seq, and in *mseq the sequence of its
 * first byte (starting from the cursor the last build left when seq is not
 * before it); NULL when seq is past the queue. */
static struct rte_mbuf *
sq_find(const struct tcp_conn *c, uint32_t seq, uint32_t *mseq_out)
{
	struct rte_mbuf *m = c->sq_head;
	uint32_t mseq = c->sq_seq - c->sq_head_off;

	if (c->sq_cursor != NULL && SEQ_GEQ(seq, c->sq_cursor_seq) &&
	    SEQ_GT(c->sq_cursor_seq, mseq)) {
		m = c->sq_cursor;
		mseq = c->sq_cursor_seq;
	}
	while (m != NULL && seq - mseq >= m->data_len) {
		mseq += m->data_len;
		m = m->next;
	}
	*mseq_out = mseq;
	return m;
}

/* Copies [seq, seq + len) of the send queue to dst and, unless sum is NULL
 * (the device checksums the segment), stores the folded sum of the bytes
 * copied (inet_copy_sum()), in one pass: a segment of one mbuf costs the
 * PMD and the pool less than a header and indirect mbufs, whose attach and
 * detach each take an atomic on the queued mbuf. */
static int
copy_payload(struct tcp_conn *c, uint8_t *dst, uint32_t seq, uint32_t len, uint16_t *sum)
{
	uint32_t mseq, done = 0;
	struct rte_mbuf *m = sq_find(c, seq, &mseq);
	uint16_t total = 0;

	while (done < len && m != NULL) {
		uint32_t off = seq - mseq;
		uint32_t take = RTE_MIN((uint32_t)m->data_len - off, len - done);

		if (sum != NULL)
			total = inet_sum_add(total, inet_copy_sum(dst + done,
					rte_pktmbuf_mtod_offset(m, const uint8_t *, off), take),
					done);
		else
			rte_memcpy(dst + done, rte_pktmbuf_mtod_offset(m, const uint8_t *, off),
					take);
		seq += take;
		done += take;
		if (off + take == m->data_len) {
			mseq += m->data_len;
			m = m->next;
		}
	}
	if (m != NULL) {
		c->sq_cursor = m;
		c->sq_cursor_seq = mseq;
	}
	if (sum != NULL)
		*sum = total;
	return done == len ? 0 : -EINVAL;
}

/* Attaches [seq, seq + len) of the send queue to h as indirect mbufs (a
 * segment larger than one mbuf's room). */
static int
attach_payload(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *h, uint32_t seq,
		uint32_t len)
{
	uint32_t mseq;
	struct rte_mbuf *m = sq_find(c, seq, &mseq);
	struct rte_mbuf *tail = h;

	while (len > 0 && m != NULL) {
		uint32_t off = seq - mseq;
		uint32_t take = RTE_MIN((uint32_t)m->data_len - off, len);
		struct rte_mbuf *mi = rte_pktmbuf_alloc(s->cfg.pool);

		if (mi == NULL)
			return -ENOBUFS;
		rte_pktmbuf_attach(mi, m);
		mi->data_off = (uint16_t)(mi->data_off + off);
		mi->data_len = (uint16_t)take;
		mi->pkt_len = take;
		mi->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
		tail->next = mi;
		tail = mi;
		h->nb_segs++;
		h->pkt_len += take;
		seq += take;
		len -= take;
		if (off + take == m->data_len) {
			mseq += m->data_len;
			m = m->next;
		}
	}
	if (m != NULL) {
		c->sq_cursor = m;
		c->sq_cursor_seq = mseq;
	}
	return len == 0 ? 0 : -EINVAL;
}

/* The pool is empty: count it, and keep the connection dirty so what it
 * could not build (its ACK, data, SYN) is retried on the next drain, once
 * transmitted mbufs have come back, instead of waiting for a timer or a
 * segment that may never come. */
static int
no_mbuf(struct tcp_stack *s, struct tcp_conn *c)
{
	s->stats.drop_no_mbuf++;
	if (c != NULL)
		tcp_mark_dirty(s, c);
	return -ENOBUFS;
}

static int
emit(struct tcp_stack *s, const struct tcp_key *key, struct tcp_conn *c,
		const struct segment_spec *spec)
{
	struct tcp_header th;
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *h;
	ssize_t opt_len = spec->options != NULL ? tcp_options_encoded_len(spec->options) : 0;
	uint32_t tcp_len;
	uint16_t payload_sum = 0;
	bool copied = false, offload;
	uint8_t *p;

	if (opt_len < 0)
		return (int)opt_len;
	h = rte_pktmbuf_alloc(s->cfg.pool);
	if (h == NULL)
		return no_mbuf(s, c);
	tcp_len = TCP_HEADER_MIN_LEN + (uint32_t)opt_len;
	p = (uint8_t *)rte_pktmbuf_append(h, (uint16_t)(IPV4_HEADER_LEN + tcp_len));
	if (p == NULL) {
		rte_pktmbuf_free(h);
		return no_mbuf(s, c);
	}
	copied = spec->data_len > 0 && spec->data_len <= rte_pktmbuf_tailroom(h);
	offload = s->cfg.tx_checksum == TCP_TX_CHECKSUM_OFFLOAD ||
		(s->cfg.tx_checksum == TCP_TX_CHECKSUM_OFFLOAD_SINGLE &&
		 (copied || spec->data_len == 0));
	if (copied) {
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(h, (uint16_t)spec->data_len);

		if (copy_payload(c, d, spec->seq, spec->data_len,
				offload ? NULL : &payload_sum) != 0) {
			rte_pktmbuf_free(h);
			return -EINVAL;
		}
	} else if (spec->data_len > 0 &&
		   attach_payload(s, c, h, spec->seq, spec->data_len) != 0) {
		rte_pktmbuf_free(h);
		return no_mbuf(s, c);
	}
	ip = (struct rte_ipv4_hdr *)p;
	{
		uint16_t total = (uint16_t)(IPV4_HEADER_LEN + tcp_len + spec->data_len);
		uint16_t id = s->ip_id++;
		/* RFC 1071 over the header's 16-bit words as numbers, from the
		 * values rather than read back from the header just stored (a
		 * load that waited for those stores). */
		uint32_t sum = 0x4500u + total + id + RTE_IPV4_HDR_DF_FLAG +
			((uint32_t)DEFAULT_TTL << 8 | IPPROTO_TCP) +
			(key->local_ip >> 16) + (key->local_ip & 0xffff) +
			(key->remote_ip >> 16) + (key->remote_ip & 0xffff);

		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ip->version_ihl = 0x45;
		ip->type_of_service = 0;
		ip->total_length = rte_cpu_to_be_16(total);
		ip->packet_id = rte_cpu_to_be_16(id);
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = DEFAULT_TTL;
		ip->next_proto_id = IPPROTO_TCP;
		ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
		ip->src_addr = rte_cpu_to_be_32(key->local_ip);
		ip->dst_addr = rte_cpu_to_be_32(key->remote_ip);
	}

	memset(&th, 0, sizeof(th));
	th.src_port = key->local_port;
	th.dst_port = key->remote_port;
	th.seq = spec->seq;
	th.ack = spec->ack;
	th.flags = spec->flags;
	th.window = spec->window;
	if (spec->options != NULL)
		th.options = *spec->options;
	if (tcp_header_encode(&th, p + IPV4_HEADER_LEN, tcp_len) != (ssize_t)tcp_len) {
		rte_pktmbuf_free(h);
		return -EINVAL;
	}
	h->l2_len = 0;
	h->l3_len = IPV4_HEADER_LEN;
	h->l4_len = (uint8_t)tcp_len;
	h->ol_flags = 0;
	{
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(p + IPV4_HEADER_LEN);

		if (offload) {
			/* The device fills in the checksum from the pseudo-header
			 * sum (with the TCP length: no TSO) left in the field,
			 * DPDK's convention (rte_mbuf_core.h,
			 * RTE_MBUF_F_TX_TCP_CKSUM); l2_len is set where the
			 * Ethernet header goes on (stack.c). */
			h->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
			t->cksum = rte_ipv4_phdr_cksum(ip, h->ol_flags);
			s->stats.tx_checksum_offloaded++;
		} else {
			t->cksum = 0;
			t->cksum = rte_cpu_to_be_16(copied ?
					ipv4_l4_checksum_split(ip, t, tcp_len, payload_sum) :
					ipv4_l4_checksum_mbuf(h, ip, IPV4_HEADER_LEN));
		}
	}
	s->stats.bytes_out += spec->data_len;
	txq_push(s, h);
	if (c != NULL && (spec->flags & TCP_FLAG_ACK)) {
		c->last_ack_sent = spec->ack;
		c->flags &= ~CF_ACK_NOW;
		c->t_delack = 0;
	}
	return 0;
}

static void
syn_options(struct tcp_stack *s, struct tcp_conn *c, bool syn_ack, uint64_t now,
		struct tcp_options *o)
{
	memset(o, 0, sizeof(*o));
	o->present = TCP_OPT_MSS;
	o->mss = s->cfg.mss;
	if (syn_ack ? (c->flags & CF_SACK_OK) != 0 : !s->cfg.no_sack)
		o->present |= TCP_OPT_SACK_PERMITTED;
	if (syn_ack ? (c->flags & CF_TS_OK) != 0 : !s->cfg.no_timestamps) {
		o->present |= TCP_OPT_TIMESTAMP;
		o->ts_val = tcp_ts_now(c, now);
		o->ts_ecr = syn_ack ? c->ts_recent : 0;
	}
	if (syn_ack ? (c->flags & CF_WS_OK) != 0 : !s->cfg.no_window_scale) {
		o->present |= TCP_OPT_WSCALE;
		o->wscale = syn_ack ? c->rcv_wscale : s->rcv_wscale;
	}
}

static void
send_syn(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	struct tcp_options o;
	struct segment_spec spec;
	bool syn_ack = c->state == TCP_STATE_SYN_RECEIVED;
	uint32_t space = tcp_rcv_space(s, c);

	syn_options(s, c, syn_ack, now, &o);
	memset(&spec, 0, sizeof(spec));
	spec.seq = c->iss;
	spec.flags = TCP_FLAG_SYN;
	/* RFC 7323 2.2: the window in a SYN is never scaled. */
	spec.window = (uint16_t)RTE_MIN(space, 0xffffu);
	spec.options = &o;
	if (syn_ack) {
		spec.flags |= TCP_FLAG_ACK;
		spec.ack = c->rcv_nxt;
		c->rcv_adv = c->rcv_nxt + spec.window;
	}
	if (emit(s, &c->key, c, &spec) != 0)
		return;
	if (c->retries == 0)
		c->rtt_start = now;
	if (SEQ_LT(c->snd_max, c->iss + 1))
		c->snd_max = c->iss + 1;
	c->snd_nxt = c->iss + 1;
	c->flags &= ~CF_SEND_SYN;
	if (c->t_rexmit == 0)
		c->t_rexmit = now + c->rto;
}

static void
data_options(struct tcp_conn *c, uint64_t now, struct tcp_options *o)
{
	o->present = 0;
	if (c->flags & CF_TS_OK) {
		o->present |= TCP_OPT_TIMESTAMP;
		o->ts_val = tcp_ts_now(c, now);
		o->ts_ecr = c->ts_recent;
	}
	if ((c->flags & CF_SACK_OK) && (c->ooo_count > 0 || (c->flags & CF_DSACK))) {
		unsigned max = (c->flags & CF_TS_OK) ? 3 : TCP_SACK_BLOCKS_MAX, n = 0;

		/* RFC 2883 4: a duplicate is reported in the first block. */
		if (c->flags & CF_DSACK)
			o->sack[n++] = (struct tcp_sack_block){ .left = c->dsack_left,
								 .right = c->dsack_right };
		n += sack_blocks(c, o->sack + n, max - n);
		o->sack_count = (uint8_t)n;
		o->present |= TCP_OPT_SACK;
	}
}

/* Payload bytes a full segment can carry next to the options in o. */
static uint32_t
segment_room(const struct tcp_conn *c, const struct tcp_options *o)
{
	uint32_t room = c->mss;
	uint32_t sack = (o->present & TCP_OPT_SACK) ? 4u + 8u * o->sack_count : 0;

	return room > sack + 1 ? room - sack : 1;
}

static int
send_data(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin,
		uint64_t now)
{
	struct tcp_options o;
	struct segment_spec spec;
	uint32_t data_end = c->sq_seq + c->sq_bytes;
	int rc;

	data_options(c, now, &o);
	memset(&spec, 0, sizeof(spec));
	spec.seq = seq;
	spec.ack = c->rcv_nxt;
	spec.flags = TCP_FLAG_ACK;
	if (len > 0 && seq + len == data_end)
		spec.flags |= TCP_FLAG_PSH;
	if (fin)
		spec.flags |= TCP_FLAG_FIN;
	spec.window = (uint16_t)tcp_rcv_window_update(s, c);
	spec.options = &o;
	spec.data_len = len;
	rc = emit(s, &c->key, c, &spec);
	if (rc == 0 && (c->flags & CF_DSACK)) {
		/* Reported once (RFC 2883 4). */
		c->flags &= ~CF_DSACK;
		s->stats.dsacks_sent++;
	}
	return rc;
}

/* A segment without data carries SND.MAX, not SND.NXT: after a timeout
 * SND.NXT goes back to SND.UNA (go-back-N), below what the peer may have
 * received already, and the peer would find such an ACK outside its
 * window (RFC 9293 3.10.7.4) and drop it, its acknowledgment unread. Two
 * stacks both in that state ignore each other's ACKs for good (seen in
 * test_tcp_wire at 5 % loss). */
static void
send_ack(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	send_data(s, c, c->snd_max, 0, false, now);
}

void
tcp_send_rst(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint64_t now)
{
	struct segment_spec spec;

	(void)now;
	memset(&spec, 0, sizeof(spec));
	spec.seq = seq;
	spec.ack = c->rcv_nxt;
	spec.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	if (emit(s, &c->key, NULL, &spec) == 0)
		s->stats.resets_sent++;
}

void
tcp_send_reset_for(struct tcp_stack *s, const struct tcp_segment *seg)
{
	const struct tcp_header *h = &seg->h;
	struct tcp_key key = {
		.remote_ip = seg->remote_ip, .local_ip = seg->local_ip,
		.remote_port = h->src_port, .local_port = h->dst_port,
	};
	struct segment_spec spec;

	/* RFC 9293 3.10.7.1: never answer a reset with a reset. */
	if (h->flags & TCP_FLAG_RST)
		return;
	memset(&spec, 0, sizeof(spec));
	if (h->flags & TCP_FLAG_ACK) {
		spec.seq = h->ack;
		spec.flags = TCP_FLAG_RST;
	} else {
		spec.ack = h->seq + seg->len + ((h->flags & TCP_FLAG_SYN) ? 1 : 0) +
			((h->flags & TCP_FLAG_FIN) ? 1 : 0);
		spec.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	}
	if (emit(s, &key, NULL, &spec) == 0)
		s->stats.resets_sent++;
}

void
tcp_send_cookie_syn_ack(struct tcp_stack *s, const struct tcp_segment *seg, uint64_t now)
{
	const struct tcp_header *h = &seg->h;
	const struct tcp_options *po = &h->options;
	struct tcp_conn tmp;
	struct tcp_key key = {
		.remote_ip = seg->remote_ip, .local_ip = seg->local_ip,
		.remote_port = h->src_port, .local_port = h->dst_port,
	};
	struct syn_cookie_tuple t = {
		.local_ip = seg->local_ip, .remote_ip = seg->remote_ip,
		.local_port = h->dst_port, .remote_port = h->src_port,
	};
	struct tcp_options o;
	struct segment_spec spec;
	uint16_t peer_mss = (po->present & TCP_OPT_MSS) ? po->mss : TCP_DEFAULT_PEER_MSS;
	uint8_t index = syn_cookie_mss_index(RTE_MIN(peer_mss, s->cfg.mss));

	memset(&tmp, 0, sizeof(tmp));
	tmp.key = key;
	tcp_conn_init_tcb(s, &tmp, now);
	memset(&o, 0, sizeof(o));
	o.present = TCP_OPT_MSS;
	o.mss = s->cfg.mss;
	/* Without a timestamp to carry them, window scaling and SACK are not
	 * offered (the cookie has no room for them). */
	if ((po->present & TCP_OPT_TIMESTAMP) && !s->cfg.no_timestamps) {
		bool ws = (po->present & TCP_OPT_WSCALE) && !s->cfg.no_window_scale;
		bool sack = (po->present & TCP_OPT_SACK_PERMITTED) && !s->cfg.no_sack;

		o.present |= TCP_OPT_TIMESTAMP;
		o.ts_val = syn_cookie_ts_encode(tcp_ts_now(&tmp, now),
				ws ? RTE_MIN(po->wscale, TCP_WSCALE_MAX) : SYN_COOKIE_WSCALE_NONE, sack);
		o.ts_ecr = po->ts_val;
		if (ws) {
			o.present |= TCP_OPT_WSCALE;
			o.wscale = s->rcv_wscale;
		}
		if (sack)
			o.present |= TCP_OPT_SACK_PERMITTED;
	}
	memset(&spec, 0, sizeof(spec));
	spec.seq = syn_cookie_make(s->cookie_key, &t, h->seq, now, index);
	spec.ack = h->seq + 1;
	spec.flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
	spec.window = (uint16_t)RTE_MIN(s->cfg.recv_buffer, 0xffffu);
	spec.options = &o;
	if (emit(s, &key, NULL, &spec) == 0) {
		s->stats.syn_cookies_sent++;
		s->cookies_sent = true;
		s->last_cookie_sent = now;
	}
}

/* RFC 3042 2: on the first and second duplicate ACK, one new segment each
 * beyond cwnd (FlightSize up to cwnd + 2 SMSS), new data only, cwnd itself
 * unchanged. */
static uint32_t
limited_transmit_room(const struct tcp_conn *c)
{
	if ((c->flags & CF_RECOVERY) || c->dupacks == 0 || c->dupacks > 2 ||
	    c->snd_nxt != c->snd_max)
		return 0;
	return c->dupacks * (uint32_t)c->mss;
}

/* RFC 6675 5 step (C): cwnd - pipe >= 1 SMSS. */
static bool
sack_window_open(const struct tcp_conn *c)
{
	uint32_t pipe = tcp_sack_board_pipe(&c->sack_board, c->snd_una, c->snd_max, c->high_rxt,
			c->mss);

	return c->cwnd >= pipe && c->cwnd - pipe >= c->mss;
}

/* Sends [seq, seq + len) again in SACK recovery and counts it; HighRxt
 * moves past it unless it is the rescue retransmission (RFC 6675 5 step
 * (C.2)). Returns whether it was sent. */
static bool
sack_resend(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint32_t len, bool rescue,
		uint64_t now)
{
	if (len == 0 || send_data(s, c, seq, len, false, now) != 0)
		return false;
	if (rescue)
		c->flags |= CF_RESCUED;
	else
		c->high_rxt = seq + len;
	if (seq == c->snd_una)
		c->rxt_una_time = now;
	tcp_undo_note_retransmit(c, seq, len);
	s->stats.retransmitted_segments++;
	s->stats.sack_retransmits++;
	return true;
}

/* RFC 6675 5 step (C): while cwnd - pipe >= 1 SMSS, retransmit the
 * holes NextSeg() rule 1 picks (lowest lost one first, each byte once per
 * recovery). New data (rule 2) is left to the caller's loop. Returns
 * whether anything was sent. */
static bool
sack_retransmit(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	bool sent = false;

	while (!tcp_txq_full(s) && sack_window_open(c)) {
		struct tcp_options o;
		uint32_t seq, hole;

		if (!tcp_sack_board_next_lost(&c->sack_board, c->snd_una, c->high_rxt, c->mss,
				&seq, &hole))
			break;
		data_options(c, now, &o);
		if (!sack_resend(s, c, seq, RTE_MIN(hole, segment_room(c, &o)), false, now))
			break;
		sent = true;
	}
	if (tcp_txq_full(s))
		tcp_mark_dirty(s, c);
	return sent;
}

/* RFC 6675 5 step (C) with NextSeg() rules 3 and 4, once rules 1 and 2
 * found nothing (no lost hole, no new data the peer's window takes) while
 * cwnd - pipe >= 1 SMSS: a hole not deemed lost (rule 3, HighRxt moves),
 * else once per recovery a rescue retransmission of the segment that ends
 * at the highest un-SACKed byte (rule 4, HighRxt stays): loss at the end of
 * the window then costs a round trip instead of a timeout. Returns whether
 * anything was sent. */
static bool
sack_retransmit_unlost(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	uint32_t data_end = c->sq_seq + c->sq_bytes;
	/* Data sent, the FIN excluded. */
	uint32_t sent_end = SEQ_LT(c->snd_max, data_end) ? c->snd_max : data_end;
	bool sent = false;

	while (!tcp_txq_full(s) && sack_window_open(c)) {
		struct tcp_options o;
		uint32_t seq, len, top;

		data_options(c, now, &o);
		if (tcp_sack_board_next_hole(&c->sack_board, c->snd_una, c->high_rxt, &seq,
				&len)) {
			if (!sack_resend(s, c, seq, RTE_MIN(len, segment_room(c, &o)), false, now))
				break;
			sent = true;
			continue;
		}
		if (c->flags & CF_RESCUED)
			break;
		top = tcp_sack_board_top_unsacked(&c->sack_board, c->snd_una, sent_end);
		if (!SEQ_LT(c->snd_una, top))
			break;
		len = RTE_MIN(top - c->snd_una, segment_room(c, &o));
		sent |= sack_resend(s, c, top - len, len, true, now);
		break;
	}
	if (tcp_txq_full(s))
		tcp_mark_dirty(s, c);
	return sent;
}

/* RFC 8985 7.3: one segment of new data if the peer's window takes it,
 * else the last segment sent again; the probe's range is remembered for
 * its ACK (tcp_input.c) and the retransmission timer restarts. Returns
 * whether it was sent. */
static bool
send_loss_probe(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	uint32_t data_end = c->sq_seq + c->sq_bytes;
	uint32_t flight = c->snd_nxt - c->snd_una;
	uint32_t avail = SEQ_LT(c->snd_nxt, data_end) ? data_end - c->snd_nxt : 0;
	uint32_t wnd_room = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
	struct tcp_options o;
	uint32_t seq, len;
	bool fin, retrans;

	data_options(c, now, &o);
	if (avail > 0 && wnd_room > 0 && c->snd_nxt == c->snd_max) {
		seq = c->snd_nxt;
		len = RTE_MIN(RTE_MIN(avail, wnd_room), segment_room(c, &o));
		fin = (c->flags & CF_FIN_QUEUED) && seq + len == data_end;
		retrans = false;
	} else {
		/* Data sent, the FIN excluded. */
		uint32_t sent_end = SEQ_LT(c->snd_max, data_end) ? c->snd_max : data_end;

		if (SEQ_LEQ(sent_end, c->snd_una))
			return false;	/* only a FIN out: the RTO resends it */
		len = RTE_MIN(sent_end - c->snd_una, segment_room(c, &o));
		seq = sent_end - len;
		fin = (c->flags & CF_FIN_QUEUED) && sent_end == data_end &&
			SEQ_GT(c->snd_max, data_end);
		retrans = true;
	}
	if (send_data(s, c, seq, len, fin, now) != 0)
		return false;
	if (!retrans) {
		c->snd_nxt += len + (fin ? 1 : 0);
		c->snd_max = c->snd_nxt;
	} else {
		s->stats.retransmitted_segments++;
		c->flags |= CF_PROBE_RETRANS;
	}
	c->flags |= CF_PROBE_OUT;
	c->flags &= ~CF_RTT_TIMING;
	c->probe_start = seq;
	c->probe_end = seq + len + (fin ? 1 : 0);
	c->t_rexmit = now + c->rto;
	s->stats.loss_probes++;
	return true;
}

void
tcp_conn_output(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	bool sent = false, sent_new = false;
	uint32_t data_end;

	switch (c->state) {
	case TCP_STATE_SYN_SENT:
	case TCP_STATE_SYN_RECEIVED:
		if (c->flags & CF_SEND_SYN)
			send_syn(s, c, now);
		else if (c->flags & CF_ACK_NOW)
			send_ack(s, c, now);
		tcp_timer_update(s, c);
		return;
	case TCP_STATE_CLOSED:
	case TCP_STATE_LISTEN:
		return;
	case TCP_STATE_TIME_WAIT:
		if (c->flags & CF_ACK_NOW)
			send_ack(s, c, now);
		return;
	default:
		break;
	}
	data_end = c->sq_seq + c->sq_bytes;
	if (c->flags & CF_REXMIT_ONE) {
		/* Fast retransmit / NewReno partial ACK: the first unacked
		 * segment, outside cwnd (RFC 5681 3.2 step 4). Only bytes
		 * already sent: a segment first sent shorter (room taken by
		 * SACK blocks) must not grow past SND.MAX here, where SND.MAX
		 * does not follow, or the peer's ACK of the extra bytes would
		 * look like an ACK of unsent data and be dropped for good. */
		uint32_t sent_end = SEQ_LT(c->snd_max, data_end) ? c->snd_max : data_end;
		uint32_t avail = SEQ_LT(c->snd_una, sent_end) ? sent_end - c->snd_una : 0;
		struct tcp_options o;
		uint32_t len;
		bool fin;

		data_options(c, now, &o);
		len = RTE_MIN(avail, segment_room(c, &o));
		/* With SACK: the hole only, not bytes the peer holds. */
		if ((c->flags & CF_SACK_RECOVERY) && c->sack_board.count > 0)
			len = RTE_MIN(len, c->sack_board.ranges[0].left - c->snd_una);
		fin = (c->flags & CF_FIN_QUEUED) && c->snd_una + len == data_end &&
			SEQ_GT(c->snd_max, data_end);
		c->flags &= ~(CF_REXMIT_ONE | CF_RTT_TIMING);
		if (len > 0 || fin) {
			if (send_data(s, c, c->snd_una, len, fin, now) == 0) {
				tcp_undo_note_retransmit(c, c->snd_una, len);
				s->stats.retransmitted_segments++;
				sent = true;
				if (SEQ_LT(c->high_rxt, c->snd_una + len))
					c->high_rxt = c->snd_una + len;
				c->rxt_una_time = now;
			} else {
				c->flags |= CF_REXMIT_ONE;
			}
		}
	}
	if (c->flags & CF_PROBE) {
		/* RFC 9293 3.8.6.1: probe a zero window with one byte. */
		c->flags &= ~CF_PROBE;
		if (SEQ_LT(c->snd_una, data_end)) {
			if (send_data(s, c, c->snd_una, 1, false, now) != 0) {
				c->flags |= CF_PROBE;
			} else {
				if (c->snd_nxt == c->snd_una)
					c->snd_nxt++;
				if (SEQ_LT(c->snd_max, c->snd_nxt))
					c->snd_max = c->snd_nxt;
				sent = true;
			}
		}
	}
	if (c->flags & CF_SACK_RECOVERY)
		sent |= sack_retransmit(s, c, now);
	if ((c->flags & CF_LOSS_PROBE) && !tcp_txq_full(s)) {
		c->flags &= ~CF_LOSS_PROBE;
		if (!(c->flags & CF_RECOVERY) && c->snd_una != c->snd_max &&
		    send_loss_probe(s, c, now))
			sent = true;
	}
	for (;;) {
		struct tcp_options o;
		uint32_t avail, win, flight, usable, room, len;
		bool fin_wanted, fin;

		if (tcp_txq_full(s)) {
			tcp_mark_dirty(s, c);
			break;
		}
		avail = SEQ_LT(c->snd_nxt, data_end) ? data_end - c->snd_nxt : 0;
		fin_wanted = (c->flags & CF_FIN_QUEUED) && SEQ_LEQ(c->snd_nxt, data_end);
		if (avail == 0 && !fin_wanted)
			break;
		win = RTE_MIN(c->snd_wnd, c->cwnd + limited_transmit_room(c));
		flight = c->snd_nxt - c->snd_una;
		usable = win > flight ? win - flight : 0;
		if (c->flags & CF_SACK_RECOVERY) {
			/* RFC 6675 NextSeg() rule 2: new data while cwnd -
			 * pipe allows, within the peer's window. */
			uint32_t pipe = tcp_sack_board_pipe(&c->sack_board, c->snd_una, c->snd_max,
					c->high_rxt, c->mss);

			usable = RTE_MIN(c->snd_wnd > flight ? c->snd_wnd - flight : 0,
					c->cwnd > pipe ? c->cwnd - pipe : 0);
		}
		data_options(c, now, &o);
		room = segment_room(c, &o);
		len = RTE_MIN(RTE_MIN(avail, usable), room);
		if (avail > 0) {
			if (len == 0)
				break;
			/* RFC 9293 3.8.6.2.1 sender SWS avoidance: a full
			 * segment, all that is queued, half the largest window
			 * seen, or nothing in flight. */
			if (len < room && len < avail && len < c->max_snd_wnd / 2 && flight > 0)
				break;
		}
		fin = fin_wanted && c->snd_nxt + len == data_end;
		if (len == 0 && !fin)
			break;
		if (send_data(s, c, c->snd_nxt, len, fin, now) != 0)
			break;
		sent = true;
		if (flight + len > c->cwnd && !(c->flags & CF_SACK_RECOVERY))
			s->stats.limited_transmits++;
		if (SEQ_LT(c->snd_nxt, c->snd_max)) {
			s->stats.retransmitted_segments++;
		} else if (!(c->flags & (CF_TS_OK | CF_RTT_TIMING)) && len > 0) {
			c->flags |= CF_RTT_TIMING;
			c->rtt_seq = c->snd_nxt + len;
			c->rtt_start = now;
		}
		c->snd_nxt += len + (fin ? 1 : 0);
		if (SEQ_LT(c->snd_max, c->snd_nxt)) {
			c->snd_max = c->snd_nxt;
			sent_new = true;
		}
		if (c->t_rexmit == 0 && !(c->flags & CF_PERSIST))
			c->t_rexmit = now + c->rto;
	}
	if (c->flags & CF_SACK_RECOVERY)
		sent |= sack_retransmit_unlost(s, c, now);
	/* RFC 8985 7.2: new data out, probe for its tail. */
	if (sent_new)
		tcp_loss_probe_arm(s, c, now);
	/* Zero window with data waiting and nothing in flight: persist. */
	if (c->snd_wnd == 0 && SEQ_LT(c->snd_nxt, data_end) && c->snd_una == c->snd_max &&
	    !(c->flags & CF_PERSIST)) {
		c->flags |= CF_PERSIST;
		c->persist_backoff = 0;
		c->t_rexmit = now + c->rto;
	}
	if (!sent && (c->flags & CF_ACK_NOW))
		send_ack(s, c, now);
	tcp_timer_update(s, c);
}
