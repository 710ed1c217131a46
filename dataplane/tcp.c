/* TCP stack: creation, connection table, events, and the upper-layer API.
 * Segment processing is in tcp_input.c, segment building in tcp_output.c,
 * timers in tcp_timer.c. */
#include "dataplane/tcp.h"
#include "dataplane/ipv4.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <sodium.h>

#include "crypto/ct.h"
#include "dataplane/tcp_internal.h"

void
tcp_stack_config_defaults(struct tcp_stack_config *cfg)
{
	if (cfg->max_listeners == 0)
		cfg->max_listeners = 16;
	if (cfg->syn_queue_max == 0)
		cfg->syn_queue_max = cfg->max_connections / 4 ? cfg->max_connections / 4 : 1;
	if (cfg->output_queue_size == 0)
		cfg->output_queue_size = 1024;
	if (cfg->mss == 0)
		cfg->mss = 1460;
	if (cfg->recv_buffer == 0)
		cfg->recv_buffer = 256 * 1024;
	if (cfg->send_buffer == 0)
		cfg->send_buffer = 256 * 1024;
	if (cfg->ooo_max_ranges == 0)
		cfg->ooo_max_ranges = 32;
	if (cfg->rto_initial_ns == 0)
		cfg->rto_initial_ns = TCP_NS_PER_S;
	if (cfg->rto_min_ns == 0)
		cfg->rto_min_ns = 200 * TCP_NS_PER_MS;
	if (cfg->rto_max_ns == 0)
		cfg->rto_max_ns = 60 * TCP_NS_PER_S;
	if (cfg->delayed_ack_ns == 0)
		cfg->delayed_ack_ns = 40 * TCP_NS_PER_MS;
	if (cfg->time_wait_ns == 0)
		cfg->time_wait_ns = 60 * TCP_NS_PER_S;
	if (cfg->max_retransmits == 0)
		cfg->max_retransmits = 15;
	if (cfg->max_syn_retransmits == 0)
		cfg->max_syn_retransmits = 6;
	if (cfg->challenge_ack_limit == 0)
		cfg->challenge_ack_limit = 1000;
}

static void
ring_init(struct tcp_index_ring *r, uint32_t *slots, uint32_t size)
{
	r->slots = slots;
	r->head = 0;
	r->count = 0;
	r->size = size;
}

static void
ring_push(struct tcp_index_ring *r, uint32_t v)
{
	r->slots[(r->head + r->count) % r->size] = v;
	r->count++;
}

static uint32_t
ring_pop(struct tcp_index_ring *r)
{
	uint32_t v = r->slots[r->head];

	r->head = (r->head + 1) % r->size;
	r->count--;
	return v;
}

struct tcp_stack *
tcp_stack_create(const struct tcp_stack_config *in, int *error)
{
	static uint32_t instance;
	struct tcp_stack_config cfg = *in;
	struct rte_hash_parameters hp;
	struct tcp_stack *s;
	char name[RTE_HASH_NAMESIZE];
	uint8_t derived[48];

	tcp_stack_config_defaults(&cfg);
	/* The largest segment, 40 bytes of headers and 40 of options around
	 * an MSS of payload, must fit the 16-bit IPv4 total length. */
	if (cfg.pool == NULL || cfg.max_connections == 0 || cfg.mss < 64 ||
	    cfg.mss > UINT16_MAX - 80 || cfg.max_connections > (1u << 24)) {
		*error = -EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		*error = -ENOMEM;
		return NULL;
	}
	s = rte_zmalloc_socket("tcp_stack", sizeof(*s), RTE_CACHE_LINE_SIZE, cfg.socket_id);
	if (s == NULL) {
		*error = -ENOMEM;
		return NULL;
	}
	s->cfg = cfg;
	s->conns = rte_zmalloc_socket("tcp_conns", sizeof(*s->conns) * cfg.max_connections,
			RTE_CACHE_LINE_SIZE, cfg.socket_id);
	s->ooo_entries = rte_zmalloc_socket("tcp_ooo", sizeof(*s->ooo_entries) *
			cfg.max_connections * cfg.ooo_max_ranges, RTE_CACHE_LINE_SIZE, cfg.socket_id);
	s->free_list = rte_malloc_socket("tcp_free", sizeof(uint32_t) * cfg.max_connections, 0,
			cfg.socket_id);
	s->events.slots = rte_malloc_socket("tcp_events", sizeof(uint32_t) * cfg.max_connections,
			0, cfg.socket_id);
	s->dirty.slots = rte_malloc_socket("tcp_dirty", sizeof(uint32_t) * cfg.max_connections,
			0, cfg.socket_id);
	s->txq = rte_malloc_socket("tcp_txq", sizeof(*s->txq) * cfg.output_queue_size, 0,
			cfg.socket_id);
	s->listeners = rte_zmalloc_socket("tcp_listeners", sizeof(*s->listeners) *
			cfg.max_listeners, 0, cfg.socket_id);
	snprintf(name, sizeof(name), "tcp%u", __atomic_fetch_add(&instance, 1, __ATOMIC_RELAXED));
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	hp.entries = cfg.max_connections * 2 > 8 ? cfg.max_connections * 2 : 8;
	hp.key_len = sizeof(struct tcp_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = cfg.socket_id;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	s->table = rte_hash_create(&hp);
	if (s->conns == NULL || s->ooo_entries == NULL || s->free_list == NULL ||
	    s->events.slots == NULL || s->dirty.slots == NULL || s->txq == NULL ||
	    s->listeners == NULL || s->table == NULL) {
		tcp_stack_destroy(s);
		*error = -ENOMEM;
		return NULL;
	}
	ring_init(&s->events, s->events.slots, cfg.max_connections);
	ring_init(&s->dirty, s->dirty.slots, cfg.max_connections);
	for (uint32_t i = 0; i < cfg.max_connections; i++) {
		s->free_list[i] = cfg.max_connections - 1 - i;
		s->conns[i].wheel_slot = TCP_NONE;
		s->conns[i].ooo = s->ooo_entries + (size_t)i * cfg.ooo_max_ranges;
	}
	s->free_count = cfg.max_connections;
	s->tw_head = s->tw_tail = TCP_NONE;
	for (uint32_t i = 0; i < TCP_WHEEL_SLOTS; i++)
		s->wheel_heads[i] = TCP_NONE;
	/* Independent keys for ISNs, cookies and ports from the one secret. */
	crypto_generichash(derived, sizeof(derived), cfg.secret, sizeof(cfg.secret), NULL, 0);
	memcpy(s->isn_key, derived, 16);
	memcpy(s->cookie_key, derived + 16, 16);
	memcpy(s->port_key, derived + 32, 16);
	ct_wipe(derived, sizeof(derived));
	ct_wipe(s->cfg.secret, sizeof(s->cfg.secret));
	/* RFC 7323 2.3: the smallest shift that lets the whole buffer be
	 * advertised. */
	if (!cfg.no_window_scale)
		while (s->rcv_wscale < TCP_WSCALE_MAX &&
		       (65535u << s->rcv_wscale) < cfg.recv_buffer)
			s->rcv_wscale++;
	*error = 0;
	return s;
}

void
tcp_mbuf_chain_free(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
}

static void
conn_release_buffers(struct tcp_conn *c)
{
	tcp_mbuf_chain_free(c->sq_head);
	c->sq_head = c->sq_tail = c->sq_cursor = NULL;
	c->sq_bytes = 0;
	c->sq_head_off = 0;
	tcp_mbuf_chain_free(c->rq_head);
	c->rq_head = c->rq_last = NULL;
	c->rq_bytes = 0;
	c->rq_segs = 0;
	for (unsigned i = 0; i < c->ooo_count; i++)
		tcp_mbuf_chain_free(c->ooo[i].m);
	c->ooo_count = 0;
}

void
tcp_stack_destroy(struct tcp_stack *s)
{
	if (s == NULL)
		return;
	if (s->conns != NULL)
		for (uint32_t i = 0; i < s->cfg.max_connections; i++)
			if (s->conns[i].flags & CF_IN_USE)
				conn_release_buffers(&s->conns[i]);
	if (s->txq != NULL)
		for (uint32_t i = 0; i < s->txq_count; i++)
			rte_pktmbuf_free(s->txq[(s->txq_head + i) % s->cfg.output_queue_size]);
	rte_hash_free(s->table);
	rte_free(s->conns);
	rte_free(s->ooo_entries);
	rte_free(s->free_list);
	rte_free(s->events.slots);
	rte_free(s->dirty.slots);
	rte_free(s->txq);
	rte_free(s->listeners);
	ct_wipe(s->isn_key, sizeof(s->isn_key));
	ct_wipe(s->cookie_key, sizeof(s->cookie_key));
	rte_free(s);
}

const struct tcp_stats *
tcp_stack_stats(const struct tcp_stack *s)
{
	return &s->stats;
}

uint32_t
tcp_conn_index(const struct tcp_stack *s, const struct tcp_conn *c)
{
	return (uint32_t)(c - s->conns);
}

struct tcp_conn *
tcp_conn_lookup(struct tcp_stack *s, const struct tcp_key *key)
{
	void *data;

	if (rte_hash_lookup_data(s->table, key, &data) < 0)
		return NULL;
	return data;
}

static void
time_wait_unlink(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!(c->flags & CF_IN_TIME_WAIT))
		return;
	if (c->tw_prev != TCP_NONE)
		s->conns[c->tw_prev].tw_next = c->tw_next;
	else
		s->tw_head = c->tw_next;
	if (c->tw_next != TCP_NONE)
		s->conns[c->tw_next].tw_prev = c->tw_prev;
	else
		s->tw_tail = c->tw_prev;
	c->tw_prev = c->tw_next = TCP_NONE;
	c->flags &= ~CF_IN_TIME_WAIT;
}

bool
tcp_conn_available(const struct tcp_stack *s)
{
	return s->free_count > 0 || s->tw_head != TCP_NONE;
}

struct tcp_conn *
tcp_conn_alloc(struct tcp_stack *s, const struct tcp_key *key)
{
	struct tcp_conn *c;
	struct tcp_ooo_entry *ooo;
	uint32_t slot_flags;

	if (s->free_count == 0 && s->tw_head != TCP_NONE) {
		/* Table full: a TIME-WAIT TCB only guards against old
		 * duplicates (RFC 9293 3.6.1), a new connection is worth more;
		 * reuse the one closest to expiry, as Linux does past
		 * tcp_max_tw_buckets. */
		s->stats.time_wait_recycled++;
		tcp_conn_free(s, &s->conns[s->tw_head]);
	}
	if (s->free_count == 0)
		return NULL;
	c = &s->conns[s->free_list[s->free_count - 1]];
	if (rte_hash_add_key_data(s->table, key, c) < 0)
		return NULL;
	s->free_count--;
	slot_flags = c->flags & CF_SLOT_FLAGS;
	ooo = c->ooo;
	memset(c, 0, sizeof(*c));
	c->ooo = ooo;
	c->flags = slot_flags | CF_IN_USE;
	c->key = *key;
	c->wheel_slot = TCP_NONE;
	c->wheel_prev = c->wheel_next = TCP_NONE;
	c->tw_prev = c->tw_next = TCP_NONE;
	c->listener = TCP_NONE;
	return c;
}

void
tcp_conn_free(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!(c->flags & CF_IN_USE))
		return;
	tcp_timer_remove(s, c);
	time_wait_unlink(s, c);
	rte_hash_del_key(s->table, &c->key);
	conn_release_buffers(c);
	if (c->flags & CF_SYN_QUEUE)
		s->syn_queue_len--;
	c->flags &= CF_SLOT_FLAGS;
	c->events = 0;
	c->state = TCP_STATE_CLOSED;
	s->free_list[s->free_count++] = tcp_conn_index(s, c);
}

uint32_t
tcp_isn(const struct tcp_stack *s, const struct tcp_key *key, uint64_t now)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint32_t f;

	/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
	 * secretkey), M a 4 microsecond timer. */
	crypto_shorthash(out, (const uint8_t *)key, sizeof(*key), s->isn_key);
	memcpy(&f, out, sizeof(f));
	return (uint32_t)(now / 4000) + f;
}

void
tcp_conn_init_tcb(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	uint8_t out[crypto_shorthash_BYTES];
	struct tcp_key k = c->key;

	c->rto = s->cfg.rto_initial_ns;
	c->iss = tcp_isn(s, &c->key, now);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->recover = c->iss;
	c->dsack_round = c->iss;
	c->reo_wnd_mult = 1;
	c->ssthresh = UINT32_MAX;
	tcp_cubic_reset(&c->cubic);
	c->rcv_wscale = 0;
	c->snd_wscale = 0;
	/* RFC 7323 7.1: a per-connection random TSval offset. */
	k.local_port ^= 0x5a5a;
	crypto_shorthash(out, (const uint8_t *)&k, sizeof(k), s->isn_key);
	memcpy(&c->ts_offset, out, sizeof(c->ts_offset));
}

void
tcp_event(struct tcp_stack *s, struct tcp_conn *c, enum tcp_event_type type)
{
	if (!(c->flags & CF_USER_VISIBLE) || (c->flags & CF_USER_CLOSED))
		return;
	c->events |= (uint8_t)(1u << type);
	if (!(c->flags & CF_IN_EVENTS)) {
		c->flags |= CF_IN_EVENTS;
		ring_push(&s->events, tcp_conn_index(s, c));
	}
}

void
tcp_mark_dirty(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!(c->flags & CF_IN_DIRTY)) {
		c->flags |= CF_IN_DIRTY;
		ring_push(&s->dirty, tcp_conn_index(s, c));
	}
}

void
tcp_conn_closed(struct tcp_stack *s, struct tcp_conn *c, int error)
{
	c->state = TCP_STATE_CLOSED;
	c->t_rexmit = c->t_delack = c->t_2msl = c->t_probe = c->t_reorder = 0;
	tcp_timer_update(s, c);
	if (!(c->flags & CF_USER_VISIBLE) || (c->flags & CF_USER_CLOSED)) {
		tcp_conn_free(s, c);
		return;
	}
	c->error = (int16_t)error;
	tcp_mbuf_chain_free(c->sq_head);
	c->sq_head = c->sq_tail = c->sq_cursor = NULL;
	c->sq_bytes = 0;
	tcp_event(s, c, error ? TCP_EVENT_RESET : TCP_EVENT_CLOSED);
}

void
tcp_enter_time_wait(struct tcp_stack *s, struct tcp_conn *c, uint64_t now)
{
	c->state = TCP_STATE_TIME_WAIT;
	c->t_rexmit = c->t_probe = c->t_reorder = 0;
	c->flags &= ~(CF_PERSIST | CF_REXMIT_ONE | CF_PROBE | CF_LOSS_PROBE);
	c->t_2msl = now + s->cfg.time_wait_ns;
	tcp_timer_update(s, c);
	s->stats.time_wait_entered++;
	if (!(c->flags & CF_IN_TIME_WAIT)) {
		uint32_t idx = tcp_conn_index(s, c);

		c->flags |= CF_IN_TIME_WAIT;
		c->tw_next = TCP_NONE;
		c->tw_prev = s->tw_tail;
		if (s->tw_tail != TCP_NONE)
			s->conns[s->tw_tail].tw_next = idx;
		else
			s->tw_head = idx;
		s->tw_tail = idx;
	}
}

struct rte_mbuf *
tcp_chain_trim_front(struct rte_mbuf *m, uint32_t n)
{
	uint32_t pkt_len = m->pkt_len;
	uint16_t nb_segs = m->nb_segs;

	while (m->next != NULL && n >= m->data_len) {
		struct rte_mbuf *next = m->next;

		n -= m->data_len;
		pkt_len -= m->data_len;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
		nb_segs--;
	}
	if (n > m->data_len)
		n = m->data_len;
	m->data_off = (uint16_t)(m->data_off + n);
	m->data_len = (uint16_t)(m->data_len - n);
	m->pkt_len = pkt_len - n;
	m->nb_segs = nb_segs;
	return m;
}

void
tcp_chain_trim_back(struct rte_mbuf *m, uint32_t keep)
{
	struct rte_mbuf *seg = m;
	uint32_t before = 0;
	uint16_t segs = 1;

	while (seg->next != NULL && before + seg->data_len < keep) {
		before += seg->data_len;
		seg = seg->next;
		segs++;
	}
	if (keep - before < seg->data_len)
		seg->data_len = (uint16_t)(keep - before);
	tcp_mbuf_chain_free(seg->next);
	seg->next = NULL;
	m->pkt_len = keep;
	m->nb_segs = segs;
}

/* The segment's TCP checksum is right: by the device's verdict where the
 * port verifies checksums and gave one (NONE: the device checked the data's
 * integrity and left the field as it was, e.g. a virtio peer on the same
 * host), else summed here. */
static bool
rx_checksum_ok(struct tcp_stack *s, const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		uint32_t l4_off)
{
	if (s->cfg.rx_checksum_offload) {
		uint64_t verdict = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

		if (verdict == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			return false;
		if (verdict == RTE_MBUF_F_RX_L4_CKSUM_GOOD || verdict == RTE_MBUF_F_RX_L4_CKSUM_NONE) {
			s->stats.rx_checksum_offloaded++;
			return true;
		}
	}
	return ipv4_l4_checksum_mbuf_ok(m, ip, l4_off);
}

/* Input: IPv4 + TCP header checks, then per-segment processing. */
static void
input_one(struct tcp_stack *s, struct rte_mbuf *m, uint64_t now)
{
	const struct rte_ipv4_hdr *ip;
	const uint8_t *p, *end;
	struct tcp_segment seg;
	uint32_t off = m->l2_len;
	uint32_t ihl, total;

	s->stats.segments_in++;
	if (m->data_len < off + sizeof(struct rte_ipv4_hdr))
		goto malformed;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, off);
	ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	total = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || ip->next_proto_id != IPPROTO_TCP ||
	    total < ihl + TCP_HEADER_MIN_LEN || off + total > m->pkt_len ||
	    m->data_len < off + ihl + TCP_HEADER_MIN_LEN ||
	    (rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		goto malformed;
	if (off + total < m->pkt_len)
		tcp_chain_trim_back(m, off + total);
	if (!rx_checksum_ok(s, m, ip, off + ihl)) {
		s->stats.drop_checksum++;
		rte_pktmbuf_free(m);
		return;
	}
	p = rte_pktmbuf_mtod_offset(m, const uint8_t *, off + ihl);
	end = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_MIN((uint32_t)m->data_len, off + total));
	if (tcp_header_parse(&p, end, &seg.h) != 0)
		goto malformed;
	seg.local_ip = rte_be_to_cpu_32(ip->dst_addr);
	seg.remote_ip = rte_be_to_cpu_32(ip->src_addr);
	seg.len = total - ihl - seg.h.header_len;
	seg.m = tcp_chain_trim_front(m, off + ihl + seg.h.header_len);
	tcp_segment_input(s, &seg, now);
	if (seg.m != NULL)
		rte_pktmbuf_free(seg.m);
	return;
malformed:
	s->stats.drop_malformed++;
	rte_pktmbuf_free(m);
}

unsigned
tcp_input_burst(struct tcp_stack *s, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		input_one(s, pkts[i], now);
	}
	return n;
}

unsigned
tcp_output_drain(struct tcp_stack *s, struct rte_mbuf **out, unsigned max, uint64_t now)
{
	unsigned n = 0;

	for (;;) {
		while (n < max && s->txq_count > 0) {
			out[n++] = s->txq[s->txq_head];
			s->txq_head = (s->txq_head + 1) % s->cfg.output_queue_size;
			s->txq_count--;
		}
		if (n == max || s->dirty.count == 0)
			break;
		/* Build for dirty connections until the queue fills; one
		 * that could not finish is marked dirty again. */
		for (uint32_t k = s->dirty.count; k > 0 && !tcp_txq_full(s); k--) {
			struct tcp_conn *c = &s->conns[ring_pop(&s->dirty)];

			c->flags &= ~CF_IN_DIRTY;
			if (c->flags & CF_IN_USE)
				tcp_conn_output(s, c, now);
		}
		if (s->txq_count == 0)
			break;
	}
	return n;
}

unsigned
tcp_events_drain(struct tcp_stack *s, struct tcp_event *ev, unsigned max)
{
	static const uint8_t order[] = {
		TCP_EVENT_ACCEPTED, TCP_EVENT_CONNECTED, TCP_EVENT_READABLE, TCP_EVENT_WRITABLE,
		TCP_EVENT_PEER_CLOSED, TCP_EVENT_CLOSED, TCP_EVENT_RESET,
	};
	unsigned n = 0;

	while (n < max && s->events.count > 0) {
		uint32_t idx = ring_pop(&s->events);
		struct tcp_conn *c = &s->conns[idx];

		c->flags &= ~CF_IN_EVENTS;
		if (!(c->flags & CF_IN_USE) || !(c->flags & CF_USER_VISIBLE) ||
		    (c->flags & CF_USER_CLOSED)) {
			c->events = 0;
			continue;
		}
		if (c->rq_bytes == 0)
			c->events &= (uint8_t)~(1u << TCP_EVENT_READABLE);
		for (unsigned i = 0; i < sizeof(order) && c->events; i++) {
			uint8_t bit = (uint8_t)(1u << order[i]);

			if (!(c->events & bit))
				continue;
			if (n == max) {
				c->flags |= CF_IN_EVENTS;
				ring_push(&s->events, idx);
				break;
			}
			ev[n].conn = idx;
			ev[n].type = order[i];
			ev[n].error = order[i] == TCP_EVENT_RESET ? c->error : 0;
			ev[n].listener = c->listener;
			ev[n].user = c->user;
			n++;
			c->events &= (uint8_t)~bit;
		}
	}
	return n;
}

int
tcp_listen(struct tcp_stack *s, uint32_t local_ip, uint16_t port, uint32_t *listener)
{
	uint32_t free_slot = TCP_NONE;

	for (uint32_t i = 0; i < s->cfg.max_listeners; i++) {
		struct tcp_listener *l = &s->listeners[i];

		if (!l->in_use) {
			if (free_slot == TCP_NONE)
				free_slot = i;
			continue;
		}
		if (l->port == port && (l->local_ip == local_ip || l->local_ip == 0 || local_ip == 0))
			return -EADDRINUSE;
	}
	if (free_slot == TCP_NONE)
		return -ENOSPC;
	s->listeners[free_slot].in_use = true;
	s->listeners[free_slot].local_ip = local_ip;
	s->listeners[free_slot].port = port;
	*listener = free_slot;
	return 0;
}

int
tcp_unlisten(struct tcp_stack *s, uint32_t listener)
{
	if (listener >= s->cfg.max_listeners || !s->listeners[listener].in_use)
		return -EBADF;
	s->listeners[listener].in_use = false;
	return 0;
}

static int
default_port(const struct tcp_stack *s, uint32_t local_ip, uint32_t remote_ip,
		uint16_t remote_port, uint32_t attempt, uint16_t *port)
{
	uint8_t in[14], out[crypto_shorthash_BYTES];
	uint32_t h;

	/* RFC 6056 3.3.3 (algorithm 3): a keyed hash of the addresses picks
	 * the start, successive attempts walk from there. */
	memcpy(in, &local_ip, 4);
	memcpy(in + 4, &remote_ip, 4);
	memcpy(in + 8, &remote_port, 2);
	memcpy(in + 10, &attempt, 4);
	crypto_shorthash(out, in, 10, s->port_key);
	memcpy(&h, out, 4);
	*port = (uint16_t)(49152 + (h + attempt) % 16384);
	return 0;
}

static struct tcp_conn *
conn_of(const struct tcp_stack *s, uint32_t conn)
{
	struct tcp_conn *c;

	if (conn >= s->cfg.max_connections)
		return NULL;
	c = &s->conns[conn];
	if (!(c->flags & CF_IN_USE) || !(c->flags & CF_USER_VISIBLE) || (c->flags & CF_USER_CLOSED))
		return NULL;
	return c;
}

int
tcp_connect(struct tcp_stack *s, uint32_t local_ip, uint16_t local_port, uint32_t remote_ip,
		uint16_t remote_port, uint64_t now, uint32_t *conn)
{
	struct tcp_key key = {
		.remote_ip = remote_ip, .local_ip = local_ip, .remote_port = remote_port,
	};
	struct tcp_conn *c = NULL;

	if (remote_port == 0 || remote_ip == 0 || local_ip == 0)
		return -EINVAL;
	if (!tcp_conn_available(s))
		return -ENOSPC;
	if (local_port != 0) {
		key.local_port = local_port;
		if (tcp_conn_lookup(s, &key) != NULL)
			return -EADDRINUSE;
		c = tcp_conn_alloc(s, &key);
	} else {
		for (uint32_t attempt = 0; attempt < 64 && c == NULL; attempt++) {
			uint16_t port;
			int rc = s->cfg.choose_port != NULL ?
				s->cfg.choose_port(s->cfg.choose_port_arg, local_ip, remote_ip,
					remote_port, attempt, &port) :
				default_port(s, local_ip, remote_ip, remote_port, attempt, &port);

			if (rc < 0)
				break;
			if (port == 0)
				continue;
			key.local_port = port;
			if (tcp_conn_lookup(s, &key) == NULL)
				c = tcp_conn_alloc(s, &key);
		}
	}
	if (c == NULL)
		return -EADDRINUSE;
	tcp_conn_init_tcb(s, c, now);
	c->state = TCP_STATE_SYN_SENT;
	c->flags |= CF_SEND_SYN | CF_USER_VISIBLE;
	c->sq_seq = c->iss + 1;
	tcp_mark_dirty(s, c);
	*conn = tcp_conn_index(s, c);
	return 0;
}

int
tcp_send(struct tcp_stack *s, uint32_t conn, struct rte_mbuf *chain, uint64_t now)
{
	struct tcp_conn *c = conn_of(s, conn);
	struct rte_mbuf *seg;

	(void)now;
	if (c == NULL)
		return -EBADF;
	switch (c->state) {
	case TCP_STATE_SYN_SENT:
	case TCP_STATE_SYN_RECEIVED:
	case TCP_STATE_ESTABLISHED:
	case TCP_STATE_CLOSE_WAIT:
		break;
	default:
		return c->state == TCP_STATE_CLOSED ? -ENOTCONN : -EPIPE;
	}
	if (c->flags & CF_FIN_QUEUED)
		return -EPIPE;
	if (c->sq_bytes >= s->cfg.send_buffer) {
		c->flags |= CF_WANT_WRITABLE;
		return -EAGAIN;
	}
	seg = chain;
	while (seg != NULL) {
		struct rte_mbuf *next = seg->next;

		seg->next = NULL;
		if (seg->data_len == 0) {
			seg->nb_segs = 1;
			rte_pktmbuf_free_seg(seg);
		} else {
			if (c->sq_tail != NULL)
				c->sq_tail->next = seg;
			else
				c->sq_head = seg;
			c->sq_tail = seg;
			c->sq_bytes += seg->data_len;
		}
		seg = next;
	}
	tcp_mark_dirty(s, c);
	return 0;
}

uint32_t
tcp_send_space(const struct tcp_stack *s, uint32_t conn)
{
	const struct tcp_conn *c = conn_of(s, conn);

	if (c == NULL || c->sq_bytes >= s->cfg.send_buffer)
		return 0;
	return s->cfg.send_buffer - c->sq_bytes;
}

int
tcp_recv(struct tcp_stack *s, uint32_t conn, struct rte_mbuf **chain, uint64_t now)
{
	return tcp_recv_at_most(s, conn, UINT32_MAX, chain, now);
}

int
tcp_recv_at_most(struct tcp_stack *s, uint32_t conn, uint32_t at_most,
		struct rte_mbuf **chain, uint64_t now)
{
	struct tcp_conn *c = conn_of(s, conn);
	struct rte_mbuf *head, *seg;
	uint32_t bytes = 0, segs = 0;
	uint32_t before;

	(void)now;
	*chain = NULL;
	if (c == NULL)
		return -EBADF;
	if (c->rq_bytes == 0)
		return 0;
	before = c->rcv_adv - c->rcv_nxt;
	head = c->rq_head;
	if (c->rq_segs <= UINT16_MAX && c->rq_bytes <= at_most) {
		bytes = c->rq_bytes;
		segs = c->rq_segs;
		c->rq_head = c->rq_last = NULL;
	} else {
		/* A prefix: whole segments up to at_most bytes, and at most
		 * 65535 of them (nb_segs is 16 bits). */
		seg = head;
		for (segs = 1;; segs++) {
			bytes += seg->data_len;
			if (segs == UINT16_MAX || bytes >= at_most || seg->next == NULL)
				break;
			seg = seg->next;
		}
		c->rq_head = seg->next;
		if (c->rq_head == NULL)
			c->rq_last = NULL;
		seg->next = NULL;
	}
	c->rq_bytes -= bytes;
	c->rq_segs -= segs;
	head->pkt_len = bytes;
	head->nb_segs = (uint16_t)segs;
	head->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	head->packet_type = 0;
	*chain = head;
	/* RFC 9293 3.8.6.2.2: send a window update once the window the
	 * receiver could offer grew by at least min(buffer / 2, 2 MSS)
	 * beyond what was last advertised, and only when that was under half
	 * the buffer (otherwise the next ACK carries it soon enough). */
	if (c->state == TCP_STATE_ESTABLISHED || c->state == TCP_STATE_FIN_WAIT_1 ||
	    c->state == TCP_STATE_FIN_WAIT_2) {
		/* What the window field can carry at this scale: without
		 * scaling a bigger buffer does not widen the window. */
		uint32_t space = RTE_MIN(tcp_rcv_space(s, c), 0xffffu << c->rcv_wscale);
		uint32_t threshold = RTE_MIN(s->cfg.recv_buffer / 2, 2u * c->mss);

		if (before < s->cfg.recv_buffer / 2 && space > before &&
		    space - before >= threshold) {
			c->flags |= CF_ACK_NOW;
			tcp_mark_dirty(s, c);
		}
	}
	return (int)bytes;
}

int
tcp_close(struct tcp_stack *s, uint32_t conn, uint64_t now)
{
	struct tcp_conn *c = conn_of(s, conn);

	(void)now;
	if (c == NULL)
		return -EBADF;
	c->flags |= CF_USER_CLOSED;
	c->events = 0;
	if (c->rq_bytes > 0 && c->state != TCP_STATE_CLOSED) {
		/* RFC 9293 3.10.4 and RFC 2525 2.17: closing with unread
		 * data loses it; tell the peer with a RST rather than a FIN
		 * it would take for a clean end of stream. */
		s->stats.resets_unread_at_close++;
		tcp_send_rst(s, c, c->snd_max, now);
		tcp_conn_free(s, c);
		return 0;
	}
	tcp_mbuf_chain_free(c->rq_head);
	c->rq_head = c->rq_last = NULL;
	c->rq_bytes = 0;
	c->rq_segs = 0;
	switch (c->state) {
	case TCP_STATE_ESTABLISHED:
		c->state = TCP_STATE_FIN_WAIT_1;
		c->flags |= CF_FIN_QUEUED;
		tcp_mark_dirty(s, c);
		break;
	case TCP_STATE_CLOSE_WAIT:
		c->state = TCP_STATE_LAST_ACK;
		c->flags |= CF_FIN_QUEUED;
		tcp_mark_dirty(s, c);
		break;
	case TCP_STATE_SYN_RECEIVED:
		tcp_send_rst(s, c, c->snd_nxt, now);
		tcp_conn_free(s, c);
		break;
	default:
		tcp_conn_free(s, c);
		break;
	}
	return 0;
}

int
tcp_abort(struct tcp_stack *s, uint32_t conn, uint64_t now)
{
	struct tcp_conn *c = conn_of(s, conn);

	if (c == NULL)
		return -EBADF;
	c->flags |= CF_USER_CLOSED;
	if (c->state >= TCP_STATE_SYN_RECEIVED && c->state != TCP_STATE_TIME_WAIT)
		tcp_send_rst(s, c, c->snd_max, now);
	tcp_conn_free(s, c);
	return 0;
}

int
tcp_set_user(struct tcp_stack *s, uint32_t conn, uint64_t user)
{
	struct tcp_conn *c = conn_of(s, conn);

	if (c == NULL)
		return -EBADF;
	c->user = user;
	return 0;
}

int
tcp_conn_info(const struct tcp_stack *s, uint32_t conn, struct tcp_conn_info *info)
{
	const struct tcp_conn *c;

	if (conn >= s->cfg.max_connections || !(s->conns[conn].flags & CF_IN_USE))
		return -EBADF;
	c = &s->conns[conn];
	memset(info, 0, sizeof(*info));
	info->state = c->state;
	info->local_ip = c->key.local_ip;
	info->remote_ip = c->key.remote_ip;
	info->local_port = c->key.local_port;
	info->remote_port = c->key.remote_port;
	info->iss = c->iss;
	info->irs = c->irs;
	info->snd_una = c->snd_una;
	info->snd_nxt = c->snd_nxt;
	info->snd_max = c->snd_max;
	info->snd_wnd = c->snd_wnd;
	info->cwnd = c->cwnd;
	info->ssthresh = c->ssthresh;
	info->rcv_nxt = c->rcv_nxt;
	info->rcv_wnd = c->rcv_adv - c->rcv_nxt;
	info->srtt_ns = c->srtt;
	info->rttvar_ns = c->rttvar;
	info->rto_ns = c->rto;
	info->send_queued = c->sq_bytes;
	info->recv_queued = c->rq_bytes;
	info->ooo_ranges = c->ooo_count;
	info->mss = c->mss;
	info->snd_wscale = c->snd_wscale;
	info->rcv_wscale = c->rcv_wscale;
	info->timestamps = (c->flags & CF_TS_OK) != 0;
	info->sack_permitted = (c->flags & CF_SACK_OK) != 0;
	info->in_recovery = (c->flags & CF_RECOVERY) != 0;
	return 0;
}

const char *
tcp_state_name(enum tcp_state state)
{
	static const char *const names[] = {
		"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
		"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
	};

	if ((unsigned)state >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[state];
}
