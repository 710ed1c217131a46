/* TLS record framing over mbuf chains; see tls_stream.h. */
#include "dataplane/tls_stream.h"

#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/wire.h"

void
tls_stream_rx_init(struct tls_stream_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void
tls_stream_rx_append(struct tls_stream_rx *rx, struct rte_mbuf *chain)
{
	while (chain != NULL) {
		struct rte_mbuf *next = chain->next;

		chain->next = NULL;
		chain->nb_segs = 1;
		chain->pkt_len = chain->data_len;
		if (chain->data_len == 0) {
			rte_pktmbuf_free_seg(chain);
		} else {
			if (rx->tail != NULL)
				rx->tail->next = chain;
			else
				rx->head = chain;
			rx->tail = chain;
			rx->queued += chain->data_len;
		}
		chain = next;
	}
}

/* Finds the segment and the offset in it of unread byte number skip. */
static void
rx_locate(const struct tls_stream_rx *rx, uint32_t skip, struct rte_mbuf **seg,
		uint32_t *off)
{
	struct rte_mbuf *m = rx->head;
	uint32_t o = rx->offset + skip;

	while (m != NULL && o >= m->data_len) {
		o -= m->data_len;
		m = m->next;
	}
	*seg = m;
	*off = o;
}

uint32_t
tls_stream_rx_copy(const struct tls_stream_rx *rx, uint32_t skip, void *out, uint32_t len)
{
	struct rte_mbuf *m;
	uint32_t off, done = 0;

	if (skip >= rx->queued)
		return 0;
	if (len > rx->queued - skip)
		len = rx->queued - skip;
	rx_locate(rx, skip, &m, &off);
	while (done < len && m != NULL) {
		uint32_t chunk = m->data_len - off;

		if (chunk > len - done)
			chunk = len - done;
		memcpy((uint8_t *)out + done, rte_pktmbuf_mtod_offset(m, uint8_t *, off), chunk);
		done += chunk;
		m = m->next;
		off = 0;
	}
	return done;
}

int
tls_stream_rx_peek_record(const struct tls_stream_rx *rx, uint32_t skip,
		enum tls_record_version version, struct tls_stream_record *rec)
{
	struct rte_mbuf *m;
	uint32_t off, left, max_body;
	uint16_t n = 0;

	if (skip > rx->queued || rx->queued - skip < TLS_RECORD_HEADER_LEN)
		return -EAGAIN;
	tls_stream_rx_copy(rx, skip, rec->header, TLS_RECORD_HEADER_LEN);
	rec->content_type = rec->header[0];
	/* RFC 8446 5.1 / RFC 5246 6.2.1: after the handshake every record has
	 * legacy version 0x0303 and one of the four content types. */
	if (rec->content_type < TLS_CONTENT_CHANGE_CIPHER_SPEC ||
	    rec->content_type > TLS_CONTENT_APPLICATION_DATA ||
	    wire_read_u16(rec->header + 1) != 0x0303)
		return -EPROTO;
	rec->body_len = wire_read_u16(rec->header + 3);
	max_body = version == TLS_RECORD_TLS13 ? TLS_STREAM_MAX_BODY_TLS13
					       : TLS_STREAM_MAX_BODY_TLS12;
	if (rec->body_len > max_body)
		return -EMSGSIZE;
	if (rx->queued - skip - TLS_RECORD_HEADER_LEN < rec->body_len)
		return -EAGAIN;

	rx_locate(rx, skip + TLS_RECORD_HEADER_LEN, &m, &off);
	left = rec->body_len;
	while (left > 0) {
		uint32_t chunk = m->data_len - off;

		if (n == TLS_STREAM_MAX_SEGMENTS)
			return -EMSGSIZE;
		if (chunk > left)
			chunk = left;
		rec->segments[n].base = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
		rec->segments[n].len = chunk;
		n++;
		left -= chunk;
		m = m->next;
		off = 0;
	}
	rec->nb_segments = n;
	return TLS_RECORD_HEADER_LEN + rec->body_len;
}

void
tls_stream_rx_consume(struct tls_stream_rx *rx, uint32_t bytes)
{
	if (bytes > rx->queued)
		bytes = rx->queued;
	rx->queued -= bytes;
	while (bytes > 0) {
		struct rte_mbuf *m = rx->head;
		uint32_t here = m->data_len - rx->offset;

		if (bytes < here) {
			rx->offset += bytes;
			return;
		}
		bytes -= here;
		rx->head = m->next;
		rx->offset = 0;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	if (rx->head == NULL)
		rx->tail = NULL;
	else if (rx->offset == rx->head->data_len) {
		/* Cannot happen: a fully read head was freed above. */
		rx->offset = 0;
	}
}

void
tls_stream_rx_release(struct tls_stream_rx *rx)
{
	struct rte_mbuf *m = rx->head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	tls_stream_rx_init(rx);
}

/* Headroom kept in front of the record prefix. TCP builds its headers in
 * mbufs of its own and sends the record's segments as indirect mbufs, so
 * none is needed for them; a little keeps the prefix away from the buffer
 * start for prefetching. */
#define TX_HEADROOM 64

int
tls_stream_tx_begin(struct tls_stream_tx_record *rec, struct rte_mempool *pool,
		enum tls_record_version version)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == NULL)
		return -ENOBUFS;
	m->data_off = RTE_MIN((uint16_t)TX_HEADROOM, m->data_off);
	m->data_len = (uint16_t)tls_record_prefix_len(version);
	rec->head = m;
	rec->tail = m;
	rec->plaintext_len = 0;
	rec->version = (uint8_t)version;
	rec->nb_segments = 0;
	return 0;
}

int
tls_stream_tx_append(struct tls_stream_tx_record *rec, struct rte_mempool *pool,
		const void *data, uint32_t len)
{
	struct rte_mbuf *first_new = NULL, *tail = rec->tail;
	uint16_t tail_len = tail->data_len;
	uint32_t done = 0;

	if (len > tls_stream_tx_room(rec))
		return -EMSGSIZE;
	while (done < len) {
		uint32_t room = rte_pktmbuf_tailroom(tail);
		uint32_t chunk;

		if (room == 0) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

			if (m == NULL) {
				/* Undo: free what was chained, restore the tail. */
				if (first_new != NULL)
					rte_pktmbuf_free(first_new);
				rec->tail->next = NULL;
				rec->tail->data_len = tail_len;
				return -ENOBUFS;
			}
			m->data_off = 0;
			tail->next = m;
			if (first_new == NULL)
				first_new = m;
			tail = m;
			continue;
		}
		chunk = RTE_MIN(room, len - done);
		memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t *, tail->data_len),
				(const uint8_t *)data + done, chunk);
		tail->data_len = (uint16_t)(tail->data_len + chunk);
		done += chunk;
	}
	rec->tail = tail;
	rec->plaintext_len += len;
	return 0;
}

int
tls_stream_tx_seal_prepare(struct tls_stream_tx_record *rec, struct rte_mempool *pool,
		struct tls_record_dir *dir, uint8_t content_type,
		struct tls_record_seal *seal)
{
	enum tls_record_version v = (enum tls_record_version)rec->version;
	unsigned prefix = tls_record_prefix_len(v), suffix = tls_record_suffix_len(v);
	struct rte_mbuf *m, *suffix_mbuf = rec->tail;
	uint8_t *suffix_at;
	uint16_t n = 0;

	/* The plaintext segments: the head after the prefix, then every
	 * following mbuf. */
	for (m = rec->head; m != NULL; m = m->next) {
		uint32_t start = m == rec->head ? prefix : 0;
		uint32_t len = m->data_len - start;

		if (len == 0)
			continue;
		if (n == TLS_STREAM_MAX_SEGMENTS)
			return -EMSGSIZE;
		rec->segments[n].base = rte_pktmbuf_mtod_offset(m, uint8_t *, start);
		rec->segments[n].len = len;
		n++;
	}
	/* The suffix must be contiguous: behind the last plaintext byte, or at
	 * the start of one more mbuf. */
	if (rte_pktmbuf_tailroom(suffix_mbuf) < suffix) {
		suffix_mbuf = rte_pktmbuf_alloc(pool);
		if (suffix_mbuf == NULL)
			return -ENOBUFS;
		suffix_mbuf->data_off = 0;
		rec->tail->next = suffix_mbuf;
	}
	suffix_at = rte_pktmbuf_mtod_offset(suffix_mbuf, uint8_t *, suffix_mbuf->data_len);
	suffix_mbuf->data_len = (uint16_t)(suffix_mbuf->data_len + suffix);
	rec->tail = suffix_mbuf;
	rec->nb_segments = n;

	seal->dir = dir;
	seal->prefix = rte_pktmbuf_mtod(rec->head, uint8_t *);
	seal->segments = rec->segments;
	seal->nb_segments = n;
	seal->content_type = content_type;
	seal->suffix = suffix_at;
	seal->status = 0;
	return 0;
}

struct rte_mbuf *
tls_stream_tx_take(struct tls_stream_tx_record *rec)
{
	struct rte_mbuf *head = rec->head, *m;
	uint32_t len = 0;
	uint16_t segs = 0;

	for (m = head; m != NULL; m = m->next) {
		len += m->data_len;
		segs++;
	}
	head->pkt_len = len;
	head->nb_segs = segs;
	rec->head = rec->tail = NULL;
	rec->plaintext_len = 0;
	rec->nb_segments = 0;
	return head;
}

void
tls_stream_tx_discard(struct tls_stream_tx_record *rec)
{
	if (rec->head != NULL)
		rte_pktmbuf_free(rec->head);
	rec->head = rec->tail = NULL;
	rec->plaintext_len = 0;
	rec->nb_segments = 0;
}
