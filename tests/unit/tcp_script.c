#include "tests/unit/tcp_script.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dataplane/ipv4.h"

#define NS_PER_MS 1000000ull
#define WILD 0xffffffffffffull

static struct rte_mempool *pool;

struct rte_mempool *
script_pool(void)
{
	static char *argv[] = {
		"test_tcp", "--no-huge", "--no-pci", "--no-shconf", "-m", "512",
		"--log-level=lib.eal:error", NULL,
	};

	if (pool != NULL)
		return pool;
	assert_true(rte_eal_init(7, argv) >= 0);
	pool = rte_pktmbuf_pool_create("tcp_script", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			SOCKET_ID_ANY);
	assert_non_null(pool);
	return pool;
}

uint8_t
script_stack_byte(uint32_t rel_seq)
{
	return (uint8_t)(rel_seq * 7 + 3);
}

uint8_t
script_peer_byte(uint32_t rel_seq)
{
	return (uint8_t)(rel_seq * 13 + 5);
}

void
script_config(struct tcp_stack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->pool = script_pool();
	cfg->socket_id = SOCKET_ID_ANY;
	cfg->max_connections = 64;
	cfg->recv_buffer = 65535 * 4;	/* window scale 2 */
	cfg->send_buffer = 1 << 20;
	for (unsigned i = 0; i < TCP_SECRET_LEN; i++)
		cfg->secret[i] = (uint8_t)i;
}

void
script_start(struct tcp_script *s, const struct tcp_stack_config *cfg)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->pool = cfg->pool;
	s->stack = tcp_stack_create(cfg, &err);
	assert_non_null(s->stack);
	s->local_ip = 0x0a000001;
	s->remote_ip = 0x0a000002;
	s->local_port = 8080;
	s->remote_port = 40000;
	s->remote_isn = 1000000;
}

void
script_stop(struct tcp_script *s)
{
	while (s->fifo_count > 0) {
		rte_pktmbuf_free(s->fifo[s->fifo_head].m);
		s->fifo_head = (s->fifo_head + 1) % SCRIPT_FIFO;
		s->fifo_count--;
	}
	tcp_stack_destroy(s->stack);
}

void
script_listen(struct tcp_script *s)
{
	assert_int_equal(tcp_listen(s->stack, s->local_ip, s->local_port, &s->listener), 0);
}

/* What a device does with a segment marked RTE_MBUF_F_TX_TCP_CKSUM, after
 * checking DPDK's contract (rte_mbuf_core.h): marked IPv4, l3_len and
 * l4_len set, the field holding the pseudo-header sum with the TCP length
 * (rte_ipv4_phdr_cksum() without TSO). */
static void
device_checksum(struct tcp_script *s, struct rte_mbuf *m)
{
	static uint8_t flat[65536];
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ip + 1);
	const void *l4;

	assert_true(m->ol_flags & RTE_MBUF_F_TX_IPV4);
	assert_int_equal(m->l3_len, 20);
	assert_true(m->l4_len >= 20);
	assert_int_equal(t->cksum, rte_ipv4_phdr_cksum(ip, m->ol_flags));
	t->cksum = 0;
	l4 = rte_pktmbuf_read(m, 20, m->pkt_len - 20, flat);
	assert_non_null(l4);
	t->cksum = rte_ipv4_udptcp_cksum(ip, l4);
	s->device_checksums++;
}

static void
collect(struct tcp_script *s)
{
	struct rte_mbuf *out[64];
	unsigned n;

	while ((n = tcp_output_drain(s->stack, out, 64, s->now_ms * NS_PER_MS)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (out[i]->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM)
				device_checksum(s, out[i]);
			/* Every segment's IPv4 header checksum verifies. */
			assert_int_equal(inet_checksum(rte_pktmbuf_mtod(out[i], const void *), 20), 0);
			assert_true(s->fifo_count < SCRIPT_FIFO);
			s->fifo[(s->fifo_head + s->fifo_count) % SCRIPT_FIFO].t_ms = s->now_ms;
			s->fifo[(s->fifo_head + s->fifo_count) % SCRIPT_FIFO].m = out[i];
			s->fifo_count++;
		}
	}
}

void
script_connect(struct tcp_script *s)
{
	assert_int_equal(tcp_connect(s->stack, s->local_ip, s->local_port, s->remote_ip,
			s->remote_port, s->now_ms * NS_PER_MS, &s->conn), 0);
	s->have_conn = true;
	collect(s);
}

void
script_advance(struct tcp_script *s, uint64_t t_ms)
{
	assert_true(t_ms >= s->now_ms);
	collect(s);
	while (s->now_ms < t_ms) {
		s->now_ms++;
		tcp_timers_run(s->stack, s->now_ms * NS_PER_MS, 1000);
		collect(s);
	}
}

unsigned
script_events(struct tcp_script *s)
{
	struct tcp_event ev[16];
	unsigned n, mask = 0;

	while ((n = tcp_events_drain(s->stack, ev, 16)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			mask |= 1u << ev[i].type;
			s->got_event[ev[i].type] = true;
			if (ev[i].type == TCP_EVENT_ACCEPTED) {
				s->conn = ev[i].conn;
				s->have_conn = true;
			}
			if (ev[i].type == TCP_EVENT_RESET)
				s->last_event_error = ev[i].error;
		}
	}
	return mask;
}

/* A parsed spec; WILD for "*", WILD+1 for "not given". */
#define ABSENT (WILD + 1)
struct spec {
	uint8_t flags;
	uint64_t seq, ack, win, len;
	bool has_options;
	struct tcp_options o;
	uint64_t mss, wscale, ts_val, ts_ecr;
	uint64_t sack[TCP_SACK_BLOCKS_MAX][2];
	bool bad_checksum;
};

static uint64_t
number(const char **p)
{
	char *end;
	uint64_t v;

	while (**p == ' ')
		(*p)++;
	if (**p == '*') {
		(*p)++;
		return WILD;
	}
	v = strtoull(*p, &end, 10);
	assert_true(end != *p);
	*p = end;
	return v;
}

static bool
word(const char **p, const char *w)
{
	size_t n = strlen(w);

	while (**p == ' ' || **p == ',')
		(*p)++;
	if (strncmp(*p, w, n) != 0)
		return false;
	*p += n;
	return true;
}

static void
parse_spec(const char *text, struct spec *sp)
{
	const char *p = text;

	memset(sp, 0, sizeof(*sp));
	sp->seq = sp->ack = sp->win = sp->len = ABSENT;
	for (; *p && *p != ' '; p++) {
		switch (*p) {
		case 'S': sp->flags |= TCP_FLAG_SYN; break;
		case 'F': sp->flags |= TCP_FLAG_FIN; break;
		case 'R': sp->flags |= TCP_FLAG_RST; break;
		case 'P': sp->flags |= TCP_FLAG_PSH; break;
		case '.': sp->flags |= TCP_FLAG_ACK; break;
		default: fail_msg("bad flag in '%s'", text);
		}
	}
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == 0)
			break;
		if (word(&p, "seq")) {
			sp->seq = number(&p);
		} else if (word(&p, "ack")) {
			sp->ack = number(&p);
		} else if (word(&p, "win")) {
			sp->win = number(&p);
		} else if (word(&p, "len")) {
			sp->len = number(&p);
		} else if (word(&p, "badcsum")) {
			sp->bad_checksum = true;
		} else if (*p == '<') {
			p++;
			sp->has_options = true;
			while (*p && *p != '>') {
				if (word(&p, "mss")) {
					sp->o.present |= TCP_OPT_MSS;
					sp->mss = number(&p);
				} else if (word(&p, "sackOK")) {
					sp->o.present |= TCP_OPT_SACK_PERMITTED;
				} else if (word(&p, "TS val")) {
					sp->o.present |= TCP_OPT_TIMESTAMP;
					sp->ts_val = number(&p);
					assert_true(word(&p, "ecr"));
					sp->ts_ecr = number(&p);
				} else if (word(&p, "nop")) {
					continue;
				} else if (word(&p, "wscale")) {
					sp->o.present |= TCP_OPT_WSCALE;
					sp->wscale = number(&p);
				} else if (word(&p, "sack")) {
					sp->o.present |= TCP_OPT_SACK;
					while (*p == ' ' && p[1] >= '0' && p[1] <= '9') {
						assert_true(sp->o.sack_count < TCP_SACK_BLOCKS_MAX);
						sp->sack[sp->o.sack_count][0] = number(&p);
						assert_true(*p == ':');
						p++;
						sp->sack[sp->o.sack_count][1] = number(&p);
						sp->o.sack_count++;
					}
				} else if (*p == ',' || *p == ' ') {
					p++;
				} else {
					fail_msg("bad option in '%s'", text);
				}
			}
			assert_true(*p == '>');
			p++;
		} else {
			fail_msg("bad spec '%s'", text);
		}
	}
}

void
script_inject(struct tcp_script *s, uint64_t t_ms, const char *text)
{
	struct spec sp;
	struct tcp_header h;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	uint8_t frame[2048];
	uint8_t *p;
	char *dst;
	uint32_t len;
	ssize_t hl;

	script_advance(s, t_ms);
	parse_spec(text, &sp);
	len = sp.len == ABSENT ? 0 : (uint32_t)sp.len;
	memset(&h, 0, sizeof(h));
	h.src_port = s->remote_port;
	h.dst_port = s->local_port;
	h.seq = s->remote_isn + (sp.seq == ABSENT ? 0 : (uint32_t)sp.seq);
	h.ack = sp.ack == ABSENT ? 0 : s->local_iss + (uint32_t)sp.ack;
	h.flags = sp.flags;
	h.window = sp.win == ABSENT ? 65535 : (uint16_t)sp.win;
	h.options = sp.o;
	h.options.mss = (uint16_t)sp.mss;
	h.options.wscale = (uint8_t)sp.wscale;
	h.options.ts_val = (uint32_t)sp.ts_val;
	/* A first SYN echoes nothing; everything else echoes the stack's
	 * clock, written relative to it. */
	h.options.ts_ecr = (sp.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN ?
		(uint32_t)sp.ts_ecr : s->ts_base + (uint32_t)sp.ts_ecr;
	for (unsigned i = 0; i < sp.o.sack_count; i++) {
		h.options.sack[i].left = s->local_iss + (uint32_t)sp.sack[i][0];
		h.options.sack[i].right = s->local_iss + (uint32_t)sp.sack[i][1];
	}
	hl = tcp_options_encoded_len(&h.options);
	assert_true(hl >= 0);
	assert_true((size_t)(40 + hl + len) <= sizeof(frame));
	p = frame;
	ip = (struct rte_ipv4_hdr *)p;
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(40 + hl + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(s->remote_ip);
	ip->dst_addr = rte_cpu_to_be_32(s->local_ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	assert_int_equal(tcp_header_encode(&h, p + 20, (size_t)(20 + hl)), 20 + hl);
	for (uint32_t i = 0; i < len; i++)
		p[40 + hl + i] = script_peer_byte((uint32_t)sp.seq + i);
	((struct rte_tcp_hdr *)(p + 20))->cksum = 0;
	((struct rte_tcp_hdr *)(p + 20))->cksum = rte_ipv4_udptcp_cksum(ip, p + 20);
	if (sp.bad_checksum)
		((struct rte_tcp_hdr *)(p + 20))->cksum ^= 0x0100;
	m = rte_pktmbuf_alloc(s->pool);
	assert_non_null(m);
	dst = rte_pktmbuf_append(m, (uint16_t)(40 + hl + len));
	assert_non_null(dst);
	memcpy(dst, frame, 40 + hl + len);
	m->l2_len = 0;
	m->l3_len = 20;
	m->ol_flags = s->rx_ol_flags;
	tcp_input_burst(s->stack, &m, 1, s->now_ms * NS_PER_MS);
	collect(s);
}

static void
check(const char *what, const char *text, uint64_t want, uint32_t got)
{
	if (want == ABSENT || want == WILD)
		return;
	if ((uint32_t)want != got)
		fail_msg("%s: %s is %u, expected %u", text, what, got, (uint32_t)want);
}

static void pop_emitted(struct tcp_script *s, uint64_t t_ms, struct tcp_header *h,
		uint32_t *len);

void
script_pop(struct tcp_script *s, uint64_t t_ms, struct tcp_header *h, uint32_t *len)
{
	script_advance(s, t_ms);
	pop_emitted(s, t_ms, h, len);
}

/* The oldest segment emitted, which must have been at t_ms. */
static void
pop_emitted(struct tcp_script *s, uint64_t t_ms, struct tcp_header *h, uint32_t *len)
{
	struct rte_mbuf *m;
	const struct rte_ipv4_hdr *ip;
	uint8_t hdr[60];
	const uint8_t *p;
	uint32_t total;

	if (s->fifo_count == 0)
		fail_msg("at %llu ms: no segment emitted", (unsigned long long)t_ms);
	m = s->fifo[s->fifo_head].m;
	if (s->fifo[s->fifo_head].t_ms != t_ms)
		fail_msg("segment emitted at %llu ms, expected at %llu ms",
			(unsigned long long)s->fifo[s->fifo_head].t_ms, (unsigned long long)t_ms);
	s->fifo_head = (s->fifo_head + 1) % SCRIPT_FIFO;
	s->fifo_count--;
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	{
		/* Over a flat copy: DPDK 22.11's rte_raw_cksum_mbuf() is wrong
		 * for chains with an odd-length piece. */
		static uint8_t flat[65536];
		const void *l4 = rte_pktmbuf_read(m, 20, m->pkt_len - 20, flat);

		assert_non_null(l4);
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, l4), 0);
	}
	assert_int_equal(rte_be_to_cpu_32(ip->src_addr), s->local_ip);
	assert_int_equal(rte_be_to_cpu_32(ip->dst_addr), s->remote_ip);
	total = rte_be_to_cpu_16(ip->total_length);
	assert_int_equal(total, m->pkt_len);
	p = rte_pktmbuf_read(m, 20, RTE_MIN(60u, m->data_len - 20u), hdr);
	{
		const uint8_t *q = p;

		assert_int_equal(tcp_header_parse(&q, p + RTE_MIN(60u, m->data_len - 20u), h), 0);
	}
	*len = total - 20 - h->header_len;
	if (len != NULL && h->src_port == s->local_port && h->dst_port == s->remote_port &&
	    (h->flags & TCP_FLAG_SYN) && !s->have_iss) {
		s->local_iss = h->seq;
		s->have_iss = true;
	}
	/* Payload bytes follow the stack-side pattern. */
	for (uint32_t i = 0; i < *len; i++) {
		uint8_t b;
		const uint8_t *q = rte_pktmbuf_read(m, 20 + h->header_len + i, 1, &b);

		if (*q != script_stack_byte(h->seq - s->local_iss + i))
			fail_msg("payload byte %u of seq %u wrong", i, h->seq - s->local_iss);
	}
	rte_pktmbuf_free(m);
}

void
script_expect(struct tcp_script *s, uint64_t t_ms, const char *text)
{
	struct spec sp;
	struct tcp_header h;
	uint32_t len;
	bool first_syn = !s->have_iss;

	parse_spec(text, &sp);
	script_pop(s, t_ms, &h, &len);
	if (h.flags != sp.flags)
		fail_msg("%s: flags are 0x%02x, expected 0x%02x", text, h.flags, sp.flags);
	assert_int_equal(h.src_port, s->local_port);
	assert_int_equal(h.dst_port, s->remote_port);
	if (first_syn && s->have_iss && sp.seq != ABSENT && sp.seq != WILD)
		s->local_iss = h.seq - (uint32_t)sp.seq;
	check("seq", text, sp.seq, h.seq - s->local_iss);
	check("ack", text, sp.ack, h.ack - s->remote_isn);
	check("win", text, sp.win, h.window);
	check("len", text, sp.len, len);
	if (!sp.has_options)
		return;
	if (h.options.present != sp.o.present)
		fail_msg("%s: options 0x%x, expected 0x%x", text, h.options.present, sp.o.present);
	check("mss", text, sp.mss, h.options.mss);
	check("wscale", text, sp.wscale, h.options.wscale);
	if (sp.o.present & TCP_OPT_TIMESTAMP) {
		if (!s->have_ts && sp.ts_val != WILD) {
			s->ts_base = h.options.ts_val - (uint32_t)sp.ts_val;
			s->have_ts = true;
		}
		check("TS val", text, sp.ts_val, h.options.ts_val - s->ts_base);
		check("TS ecr", text, sp.ts_ecr, h.options.ts_ecr);
	}
	if (sp.o.present & TCP_OPT_SACK) {
		assert_int_equal(h.options.sack_count, sp.o.sack_count);
		for (unsigned i = 0; i < sp.o.sack_count; i++) {
			check("sack left", text, sp.sack[i][0], h.options.sack[i].left - s->remote_isn);
			check("sack right", text, sp.sack[i][1], h.options.sack[i].right - s->remote_isn);
		}
	}
}

void
script_expect_none(struct tcp_script *s, uint64_t t_ms)
{
	script_advance(s, t_ms);
	if (s->fifo_count > 0) {
		struct tcp_header h;
		uint32_t len;
		uint64_t t = s->fifo[s->fifo_head].t_ms;

		pop_emitted(s, t, &h, &len);
		fail_msg("unexpected segment at %llu ms: flags 0x%02x seq %u ack %u len %u",
			(unsigned long long)t, h.flags, h.seq - s->local_iss, h.ack - s->remote_isn, len);
	}
}

void
script_send(struct tcp_script *s, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	while (len > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(s->pool);
		uint32_t n = RTE_MIN(len, 2000u);
		uint8_t *p;

		assert_non_null(m);
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		assert_non_null(p);
		for (uint32_t i = 0; i < n; i++)
			p[i] = script_stack_byte(s->sent_bytes + 1 + i);
		s->sent_bytes += n;
		len -= n;
		if (tail != NULL)
			tail->next = m;
		else
			head = m;
		tail = m;
	}
	assert_int_equal(tcp_send(s->stack, s->conn, head, s->now_ms * NS_PER_MS), 0);
	collect(s);
}

void
script_read(struct tcp_script *s, uint32_t len)
{
	script_read_at_most(s, UINT32_MAX, len);
}

void
script_read_at_most(struct tcp_script *s, uint32_t at_most, uint32_t len)
{
	struct rte_mbuf *m, *seg;
	int n = tcp_recv_at_most(s->stack, s->conn, at_most, &m, s->now_ms * NS_PER_MS);
	uint32_t i = 0;

	assert_int_equal(n, (int)len);
	assert_int_equal(m->pkt_len, len);
	for (seg = m; seg != NULL; seg = seg->next)
		for (uint16_t k = 0; k < seg->data_len; k++, i++)
			if (rte_pktmbuf_mtod(seg, uint8_t *)[k] != script_peer_byte(s->read_bytes + 1 + i))
				fail_msg("received byte %u wrong", s->read_bytes + 1 + i);
	assert_int_equal(i, len);
	s->read_bytes += len;
	rte_pktmbuf_free(m);
	collect(s);
}

struct tcp_conn_info
script_info(struct tcp_script *s)
{
	struct tcp_conn_info i;

	assert_int_equal(tcp_conn_info(s->stack, s->conn, &i), 0);
	return i;
}
