/* The rendezvous point's cookie table and checks; see rendezvous.h. */
#include "control/rendezvous.h"

#include <stdlib.h>
#include <string.h>

#include "dataplane/cell.h"

/* Cookies are random (chosen by the client), so their first bytes spread
 * evenly over the buckets. */
#define BUCKETS 4096

struct waiting {
	uint8_t cookie[HS_REND_COOKIE_LEN];
	struct rendezvous_circuit circ;
	bool client;		/* previous hop is a client */
	time_t since;		/* RENDEZVOUS_ESTABLISHED sent */
	struct waiting *next;		/* same cookie bucket */
	struct waiting *next_by_p;	/* same p-side bucket */
};

struct rendezvous_table {
	struct rendezvous_config cfg;
	struct waiting *buckets[BUCKETS];
	/* The same entries by p side: close reports and the purpose checks
	 * look circuits up by it. */
	struct waiting *by_p[BUCKETS];
	struct rendezvous_counters counters;
};

static const char *const est_names[REND_EST_ACTION_COUNT] = {
	"success", "unsuitable_circuit", "single_hop", "malformed", "duplicate_cookie",
	"circuit_dead",
};

static const char *const rend1_names[REND1_ACTION_COUNT] = {
	"success", "unsuitable_circuit", "malformed", "unknown_cookie", "circuit_dead",
};

const char *
rendezvous_est_action_name(enum rendezvous_est_action a)
{
	return (unsigned)a < REND_EST_ACTION_COUNT ? est_names[a] : "unknown";
}

const char *
rendezvous1_action_name(enum rendezvous1_action a)
{
	return (unsigned)a < REND1_ACTION_COUNT ? rend1_names[a] : "unknown";
}

struct rendezvous_table *
rendezvous_table_create(const struct rendezvous_config *cfg)
{
	struct rendezvous_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (cfg != NULL)
		t->cfg = *cfg;
	if (t->cfg.max_waiting == 0)
		t->cfg.max_waiting = RENDEZVOUS_DEFAULT_MAX_WAITING;
	return t;
}

void
rendezvous_set_refuse_single_hop(struct rendezvous_table *t, bool refuse)
{
	t->cfg.refuse_single_hop_client = refuse;
}

static size_t
p_bucket_of(uint32_t p_link, uint32_t p_circ_id)
{
	uint32_t h = p_link * 0x9e3779b1u ^ p_circ_id * 0x85ebca6bu;

	return (h ^ h >> 15) % BUCKETS;
}

/* Frees w, which the caller has taken out of its cookie bucket. */
static void
waiting_free(struct rendezvous_table *t, struct waiting *w)
{
	struct waiting **pp = &t->by_p[p_bucket_of(w->circ.p_link, w->circ.p_circ_id)];

	while (*pp != NULL && *pp != w)
		pp = &(*pp)->next_by_p;
	if (*pp == w)
		*pp = w->next_by_p;
	memset(w->cookie, 0, sizeof(w->cookie));
	free(w);
	t->counters.waiting--;
}

void
rendezvous_table_destroy(struct rendezvous_table *t)
{
	if (t == NULL)
		return;
	for (size_t b = 0; b < BUCKETS; b++) {
		while (t->buckets[b] != NULL) {
			struct waiting *w = t->buckets[b];

			t->buckets[b] = w->next;
			waiting_free(t, w);
		}
	}
	free(t);
}

static size_t
bucket_of(const uint8_t cookie[HS_REND_COOKIE_LEN])
{
	return ((size_t)cookie[0] << 8 | cookie[1]) % BUCKETS;
}

static struct waiting **
find_cookie(struct rendezvous_table *t, const uint8_t cookie[HS_REND_COOKIE_LEN])
{
	struct waiting **pp = &t->buckets[bucket_of(cookie)];

	while (*pp != NULL && memcmp((*pp)->cookie, cookie, HS_REND_COOKIE_LEN) != 0)
		pp = &(*pp)->next;
	return pp;
}

static bool
same_p_side(const struct rendezvous_circuit *c, uint32_t p_link, uint32_t p_circ_id)
{
	return c->p_link == p_link && c->p_circ_id == p_circ_id;
}

static struct waiting *
find_p_side(const struct rendezvous_table *t, uint32_t p_link, uint32_t p_circ_id)
{
	struct waiting *w = t->by_p[p_bucket_of(p_link, p_circ_id)];

	while (w != NULL && !same_p_side(&w->circ, p_link, p_circ_id))
		w = w->next_by_p;
	return w;
}

bool
rendezvous_is_waiting(const struct rendezvous_table *t, uint32_t p_link, uint32_t p_circ_id)
{
	return find_p_side(t, p_link, p_circ_id) != NULL;
}

static struct rendezvous_result
close_with(uint8_t reason)
{
	struct rendezvous_result r;

	memset(&r, 0, sizeof(r));
	r.verdict = RENDEZVOUS_CLOSE;
	r.destroy_reason = reason;
	return r;
}

struct rendezvous_result
rendezvous_establish(struct rendezvous_table *t, const struct rendezvous_circuit *circ,
		const struct rendezvous_circuit_state *st, const uint8_t *body, size_t len,
		time_t now)
{
	uint8_t cookie[HS_REND_COOKIE_LEN];
	struct rendezvous_result r;
	struct waiting **pp, *w;

	memset(&r, 0, sizeof(r));
	/* tor rendmid.c rend_mid_establish_rendezvous(), in its order:
	 * purpose OR, single-hop refusal, ends here, length, duplicate. */
	if (st->busy || rendezvous_is_waiting(t, circ->p_link, circ->p_circ_id)) {
		t->counters.est_rend[REND_EST_UNSUITABLE_CIRCUIT]++;
		return close_with(DESTROY_REASON_PROTOCOL);
	}
	if (st->previous_hop_is_client && t->cfg.refuse_single_hop_client) {
		t->counters.est_rend[REND_EST_SINGLE_HOP]++;
		r.verdict = RENDEZVOUS_IGNORE;
		return r;
	}
	if (st->extended) {
		t->counters.est_rend[REND_EST_UNSUITABLE_CIRCUIT]++;
		return close_with(DESTROY_REASON_PROTOCOL);
	}
	if (establish_rendezvous_parse(body, len, cookie) < 0) {
		t->counters.est_rend[REND_EST_MALFORMED]++;
		return close_with(DESTROY_REASON_PROTOCOL);
	}
	pp = find_cookie(t, cookie);
	if (*pp != NULL) {
		/* The new circuit closes; the one waiting stays. */
		t->counters.est_rend[REND_EST_DUPLICATE_COOKIE]++;
		return close_with(DESTROY_REASON_PROTOCOL);
	}
	if (t->counters.waiting >= t->cfg.max_waiting) {
		t->counters.refused_full++;
		return close_with(DESTROY_REASON_RESOURCELIMIT);
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		t->counters.refused_full++;
		return close_with(DESTROY_REASON_RESOURCELIMIT);
	}
	memcpy(w->cookie, cookie, sizeof(cookie));
	w->circ = *circ;
	w->client = st->previous_hop_is_client;
	w->since = now;
	w->next = NULL;
	*pp = w;
	{
		size_t b = p_bucket_of(circ->p_link, circ->p_circ_id);

		w->next_by_p = t->by_p[b];
		t->by_p[b] = w;
	}
	t->counters.waiting++;
	t->counters.est_rend[REND_EST_SUCCESS]++;
	r.verdict = RENDEZVOUS_REPLY;
	return r;
}

struct rendezvous_result
rendezvous_rendezvous1(struct rendezvous_table *t, const struct rendezvous_circuit *circ,
		const struct rendezvous_circuit_state *st, const uint8_t *body, size_t len)
{
	const uint8_t *p = body;
	struct rendezvous1_cell cell;
	struct rendezvous_result r;
	struct waiting **pp, *w;

	memset(&r, 0, sizeof(r));
	/* tor rendmid.c rend_mid_rendezvous(): purpose OR and ends here,
	 * length, cookie known. */
	if (st->busy || st->extended || rendezvous_is_waiting(t, circ->p_link, circ->p_circ_id)) {
		t->counters.rend1[REND1_UNSUITABLE_CIRCUIT]++;
		return close_with(DESTROY_REASON_PROTOCOL);
	}
	if (rendezvous1_cell_parse(&p, body + len, &cell) < 0) {
		t->counters.rend1[REND1_MALFORMED]++;
		return close_with(DESTROY_REASON_PROTOCOL);
	}
	pp = find_cookie(t, cell.cookie);
	if (*pp == NULL) {
		t->counters.rend1[REND1_UNKNOWN_COOKIE]++;
		return close_with(DESTROY_REASON_PROTOCOL);
	}
	w = *pp;
	*pp = w->next;
	r.verdict = RENDEZVOUS_JOIN;
	r.waiting = w->circ;
	r.handshake_info = cell.handshake_info;
	r.handshake_info_len = cell.handshake_info_len;
	waiting_free(t, w);
	t->counters.rend1[REND1_SUCCESS]++;
	return r;
}

size_t
rendezvous_expire(struct rendezvous_table *t, time_t now, struct rendezvous_circuit *out,
		size_t max)
{
	size_t n = 0;

	for (size_t b = 0; b < BUCKETS && n < max; b++) {
		struct waiting **pp = &t->buckets[b];

		while (*pp != NULL && n < max) {
			struct waiting *w = *pp;

			if (w->client && now - w->since >= RENDEZVOUS_IDLE_CLIENT_TIMEOUT) {
				out[n++] = w->circ;
				*pp = w->next;
				waiting_free(t, w);
				t->counters.expired++;
			} else {
				pp = &w->next;
			}
		}
	}
	return n;
}

static void
forget_link(struct rendezvous_table *t, uint32_t p_link)
{
	for (size_t b = 0; b < BUCKETS; b++) {
		struct waiting **pp = &t->buckets[b];

		while (*pp != NULL) {
			struct waiting *w = *pp;

			if (w->circ.p_link == p_link) {
				*pp = w->next;
				waiting_free(t, w);
			} else {
				pp = &w->next;
			}
		}
	}
}

void
rendezvous_link_gone(struct rendezvous_table *t, uint32_t p_link)
{
	forget_link(t, p_link);
}

/* Takes w out of its cookie bucket and frees it. */
static void
forget(struct rendezvous_table *t, struct waiting *w)
{
	struct waiting **pp = find_cookie(t, w->cookie);

	if (*pp == w)
		*pp = w->next;
	waiting_free(t, w);
}

void
rendezvous_circuit_gone(struct rendezvous_table *t, uint32_t p_link, uint32_t p_circ_id)
{
	struct waiting *w = find_p_side(t, p_link, p_circ_id);

	if (w != NULL)
		forget(t, w);
}

bool
rendezvous_circuit_closed(struct rendezvous_table *t, const struct rendezvous_circuit *circ)
{
	struct waiting *w = find_p_side(t, circ->p_link, circ->p_circ_id);

	if (w == NULL || w->circ.worker != circ->worker || w->circ.handle != circ->handle)
		return false;
	forget(t, w);
	t->counters.closed_waiting++;
	return true;
}

const struct rendezvous_counters *
rendezvous_counters(const struct rendezvous_table *t)
{
	return &t->counters;
}
