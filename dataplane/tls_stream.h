/* TLS record framing over TCP byte streams held in mbuf chains: the
 * worker's half of a link's TLS (the control thread ran the handshake and
 * handed the keys over, see docs/links.md).
 *
 * Receive side: the bytes tcp_recv() returns are appended to a
 * struct tls_stream_rx without copying. tls_stream_rx_peek_record() finds
 * the next complete record and describes its body as segments pointing into
 * the mbufs, ready for tls_record_open_burst() (crypto/tls_record.h); after
 * the burst, tls_stream_rx_consume() releases the mbufs of every record
 * opened. Several records of one link can be peeked before consuming, so a
 * burst opens records of many links at once.
 *
 * Send side: a struct tls_stream_tx_record is a record being filled with
 * plaintext (cells) in an mbuf chain from the worker's pool, with room for
 * the record prefix in front and the suffix (inner type, tag) behind;
 * tls_stream_tx_seal_prepare() describes it for tls_record_seal_burst(), and
 * tls_stream_tx_take() returns the sealed record as a chain for tcp_send().
 *
 * Nothing here allocates memory beyond mbufs from the caller's pool or
 * makes a system call. Record sizes follow RFC 8446 5.1/5.2 and RFC 5246
 * 6.2.3.
 */
#ifndef HSRELAY_DATAPLANE_TLS_STREAM_H
#define HSRELAY_DATAPLANE_TLS_STREAM_H

#include <stdint.h>

#include "crypto/tls_record.h"

struct rte_mbuf;
struct rte_mempool;

/* Largest record body (after the 5-byte header) a peer may send: 2^14 + 256
 * in TLS 1.3 (RFC 8446 5.2), 2^14 + 2048 in TLS 1.2 (RFC 5246 6.2.3). */
#define TLS_STREAM_MAX_BODY_TLS13 (16384 + 256)
#define TLS_STREAM_MAX_BODY_TLS12 (16384 + 2048)
/* Segments one record body can span in the receive chain: a body of at most
 * 18432 bytes in mbufs of at least 64 data bytes, with slack. Records that
 * need more (a peer trickling bytes in tiny segments) are refused. */
#define TLS_STREAM_MAX_SEGMENTS 64

struct tls_stream_rx {
	struct rte_mbuf *head;	/* first segment holding unread bytes */
	struct rte_mbuf *tail;	/* last segment */
	uint32_t offset;	/* unread bytes start here in head */
	uint32_t queued;	/* unread bytes in the whole chain */
};

/* A complete record found by tls_stream_rx_peek_record(). */
struct tls_stream_record {
	uint8_t header[TLS_RECORD_HEADER_LEN];
	uint8_t content_type;
	uint16_t body_len;	/* bytes after the header */
	uint16_t nb_segments;
	struct crypto_iov segments[TLS_STREAM_MAX_SEGMENTS];
};

void tls_stream_rx_init(struct tls_stream_rx *rx);

/* Appends a chain of received bytes (ownership moves to rx; segments with
 * no data are freed at once). */
void tls_stream_rx_append(struct tls_stream_rx *rx, struct rte_mbuf *chain);

/* Looks for a complete record skip bytes past the unread start (the sum of
 * the wire lengths of the records already peeked in this burst).
 * Returns the record's wire length (header + body) and fills rec, with its
 * segments pointing into rx's mbufs (valid until tls_stream_rx_consume()
 * or tls_stream_rx_release());
 * -EAGAIN when the record is not complete yet;
 * -EPROTO when the header is impossible (content type not 20-23, legacy
 *   version not 0x0303): the link must be closed;
 * -EMSGSIZE when the length exceeds the version's maximum or the body
 *   spans more than TLS_STREAM_MAX_SEGMENTS segments: the link must be
 *   closed (record_overflow). */
int tls_stream_rx_peek_record(const struct tls_stream_rx *rx, uint32_t skip,
		enum tls_record_version version, struct tls_stream_record *rec);

/* Drops the first bytes unread bytes (at most rx->queued), freeing the
 * segments that become empty. */
void tls_stream_rx_consume(struct tls_stream_rx *rx, uint32_t bytes);

/* Copies up to len unread bytes from skip on into out, without consuming
 * them (pre-handover bytes passed to the control thread). Returns the
 * count copied. */
uint32_t tls_stream_rx_copy(const struct tls_stream_rx *rx, uint32_t skip, void *out,
		uint32_t len);

/* Frees everything rx holds. */
void tls_stream_rx_release(struct tls_stream_rx *rx);

/* A record being built for sending. */
struct tls_stream_tx_record {
	struct rte_mbuf *head;
	struct rte_mbuf *tail;
	uint32_t plaintext_len;
	uint8_t version;	/* enum tls_record_version */
	uint16_t nb_segments;
	struct crypto_iov segments[TLS_STREAM_MAX_SEGMENTS];
};

/* Starts a record: takes one mbuf from pool and reserves the prefix (and
 * headroom for the TCP/IP/Ethernet headers, which TCP builds in separate
 * mbufs anyway). Returns 0 or -ENOBUFS (pool empty; rec untouched). */
int tls_stream_tx_begin(struct tls_stream_tx_record *rec, struct rte_mempool *pool,
		enum tls_record_version version);

/* Appends len plaintext bytes, chaining mbufs from pool as needed.
 * Returns 0; -EMSGSIZE when the plaintext would exceed
 * TLS_RECORD_MAX_PLAINTEXT (nothing appended); -ENOBUFS when the pool ran
 * dry (nothing appended; the record is still valid without these bytes). */
int tls_stream_tx_append(struct tls_stream_tx_record *rec, struct rte_mempool *pool,
		const void *data, uint32_t len);

/* Room left in the record's plaintext. */
static inline uint32_t
tls_stream_tx_room(const struct tls_stream_tx_record *rec)
{
	return TLS_RECORD_MAX_PLAINTEXT - rec->plaintext_len;
}

/* Reserves the suffix and fills seal (dir, prefix, segments, suffix,
 * content type) for tls_record_seal_burst(). Returns 0 or -ENOBUFS (no mbuf
 * for the suffix; the record is unchanged and may be retried). */
int tls_stream_tx_seal_prepare(struct tls_stream_tx_record *rec, struct rte_mempool *pool,
		struct tls_record_dir *dir, uint8_t content_type,
		struct tls_record_seal *seal);

/* After sealing: returns the record as one mbuf chain with pkt_len and
 * nb_segs set (ownership to the caller, usually tcp_send()); rec is empty
 * afterwards. */
struct rte_mbuf *tls_stream_tx_take(struct tls_stream_tx_record *rec);

/* Frees a record that will not be sent. */
void tls_stream_tx_discard(struct tls_stream_tx_record *rec);

#endif
