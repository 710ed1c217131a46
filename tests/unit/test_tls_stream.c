/* TLS record framing over mbuf chains (dataplane/tls_stream.c): records
 * built and sealed by the send side, cut at every possible split into
 * received segments, opened with crypto/tls_record and compared byte for
 * byte, for TLS 1.2 and 1.3; every refusal; and no mbuf leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "crypto/engine.h"
#include "crypto/tls_record.h"
#include "dataplane/tls_stream.h"
#include "tests/unit/test_util.h"

#define POOL_SIZE 4095

static struct rte_mempool *pool;
static struct crypto_engine *engine;

static int
setup(void **state)
{
	char *argv[] = {
		"test_tls_stream", "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--log-level=lib.eal:error",
	};

	(void)state;
	if (rte_eal_init(7, argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("tls_stream", POOL_SIZE, 0, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	return pool != NULL && engine != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	crypto_engine_destroy(engine);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

static void
dirs_init(struct tls_record_dir *tx, struct tls_record_dir *rx, enum tls_record_version v,
		unsigned key_len)
{
	uint8_t key[32], iv[12];

	test_fill(key, sizeof(key), 7);
	test_fill(iv, sizeof(iv), 8);
	assert_int_equal(tls_record_dir_init(engine, tx, v, key, key_len, iv,
			v == TLS_RECORD_TLS13 ? 12 : 4, 1), 0);
	assert_int_equal(tls_record_dir_init(engine, rx, v, key, key_len, iv,
			v == TLS_RECORD_TLS13 ? 12 : 4, 1), 0);
}

/* Builds one sealed record of len plaintext bytes (appended in pieces of
 * piece bytes) and returns its chain. */
static struct rte_mbuf *
build_record(struct tls_record_dir *tx, enum tls_record_version v, const uint8_t *pt,
		uint32_t len, uint32_t piece, uint8_t type)
{
	struct tls_stream_tx_record rec;
	struct tls_record_seal seal;
	uint32_t done = 0;

	assert_int_equal(tls_stream_tx_begin(&rec, pool, v), 0);
	while (done < len) {
		uint32_t n = len - done < piece ? len - done : piece;

		assert_int_equal(tls_stream_tx_append(&rec, pool, pt + done, n), 0);
		done += n;
	}
	assert_int_equal(rec.plaintext_len, len);
	assert_int_equal(tls_stream_tx_seal_prepare(&rec, pool, tx, type, &seal), 0);
	assert_int_equal(tls_record_seal_burst(engine, &seal, 1), 1);
	assert_int_equal(seal.status, 0);
	return tls_stream_tx_take(&rec);
}

/* Copies a chain's bytes into a flat buffer. */
static uint32_t
flatten(struct rte_mbuf *m, uint8_t *out, uint32_t cap)
{
	uint32_t n = 0;

	for (; m != NULL; m = m->next) {
		assert_true(n + m->data_len <= cap);
		memcpy(out + n, rte_pktmbuf_mtod(m, uint8_t *), m->data_len);
		n += m->data_len;
	}
	return n;
}

/* Feeds bytes into rx in segments whose sizes cycle through sizes[]. */
static void
feed(struct tls_stream_rx *rx, const uint8_t *bytes, uint32_t len, const uint32_t *sizes,
		unsigned nb_sizes)
{
	uint32_t done = 0;
	unsigned i = 0;

	while (done < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint32_t n = sizes[i++ % nb_sizes];

		assert_non_null(m);
		if (n > len - done)
			n = len - done;
		if (n > rte_pktmbuf_tailroom(m))
			n = rte_pktmbuf_tailroom(m);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), bytes + done, n);
		done += n;
		tls_stream_rx_append(rx, m);
	}
}

/* Three records (31 cells, 1 cell, a short alert-sized one) sealed by the
 * send side, cut from segment patterns down to one byte, opened and
 * compared. */
static void
round_trip(enum tls_record_version v, unsigned key_len)
{
	static const uint32_t lens[3] = { 31 * 514, 514, 2 };
	static const uint32_t patterns[][4] = {
		{ 1448, 1448, 1448, 1448 }, { 200, 200, 200, 200 }, { 700, 5, 1, 2000 },
		{ 2048, 2048, 2048, 2048 },
	};
	static uint8_t pt[3][31 * 514], wire[3 * 17000], out[16384 + 256];
	struct tls_record_dir tx, rx_dir;
	unsigned avail = rte_mempool_avail_count(pool);

	for (unsigned p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		struct tls_stream_rx rx;
		struct tls_stream_record rec;
		uint32_t wire_len = 0, skip = 0;

		dirs_init(&tx, &rx_dir, v, key_len);
		for (int r = 0; r < 3; r++) {
			struct rte_mbuf *chain;

			test_fill(pt[r], lens[r], 100 + r + p);
			chain = build_record(&tx, v, pt[r], lens[r], r == 0 ? 514 : 1,
					r == 2 ? TLS_CONTENT_ALERT : TLS_CONTENT_APPLICATION_DATA);
			wire_len += flatten(chain, wire + wire_len, sizeof(wire) - wire_len);
			rte_pktmbuf_free(chain);
		}
		tls_stream_rx_init(&rx);
		/* 200-byte segments cannot carry a 16 KB record (64 segments
		 * at most): the link would be closed. */
		if (patterns[p][0] == 200) {
			feed(&rx, wire, wire_len, patterns[p], 4);
			assert_int_equal(tls_stream_rx_peek_record(&rx, 0, v, &rec), -EMSGSIZE);
			tls_stream_rx_release(&rx);
			continue;
		}
		/* Feed in two halves: the first peek after half the bytes is
		 * incomplete. */
		feed(&rx, wire, 100, patterns[p], 4);
		assert_int_equal(tls_stream_rx_peek_record(&rx, 0, v, &rec), -EAGAIN);
		feed(&rx, wire + 100, wire_len - 100, patterns[p], 4);
		assert_int_equal(rx.queued, wire_len);
		for (int r = 0; r < 3; r++) {
			struct tls_record_open open = { 0 };
			int n = tls_stream_rx_peek_record(&rx, skip, v, &rec);

			assert_true(n > 0);
			/* TLS 1.3 hides the type inside (RFC 8446 5.2); 1.2 shows it. */
			assert_int_equal(rec.content_type,
					v == TLS_RECORD_TLS12 && r == 2 ? TLS_CONTENT_ALERT
									: TLS_CONTENT_APPLICATION_DATA);
			open.dir = &rx_dir;
			open.header = rec.header;
			open.segments = rec.segments;
			open.nb_segments = rec.nb_segments;
			open.out = out;
			assert_int_equal(tls_record_open_burst(engine, &open, 1), 1);
			assert_int_equal(open.status, 0);
			assert_int_equal(open.content_type,
					r == 2 ? TLS_CONTENT_ALERT : TLS_CONTENT_APPLICATION_DATA);
			assert_int_equal(open.plaintext_len, lens[r]);
			assert_memory_equal(out, pt[r], lens[r]);
			skip += (uint32_t)n;
		}
		assert_int_equal(skip, wire_len);
		assert_int_equal(tls_stream_rx_peek_record(&rx, skip, v, &rec), -EAGAIN);
		tls_stream_rx_consume(&rx, skip);
		assert_int_equal(rx.queued, 0);
		assert_null(rx.head);
		assert_null(rx.tail);
		tls_record_dir_clear(&tx);
		tls_record_dir_clear(&rx_dir);
	}
	assert_int_equal(rte_mempool_avail_count(pool), avail);
}

static void
test_round_trip_tls13_aes128(void **state)
{
	(void)state;
	round_trip(TLS_RECORD_TLS13, 16);
}

static void
test_round_trip_tls13_aes256(void **state)
{
	(void)state;
	round_trip(TLS_RECORD_TLS13, 32);
}

static void
test_round_trip_tls12(void **state)
{
	(void)state;
	round_trip(TLS_RECORD_TLS12, 16);
	round_trip(TLS_RECORD_TLS12, 32);
}

/* Partial consumption keeps the rest in place and frees emptied segments. */
static void
test_consume_partial(void **state)
{
	static const uint32_t sizes[] = { 10, 20, 30 };
	uint8_t bytes[60], got[60];
	struct tls_stream_rx rx;
	unsigned avail = rte_mempool_avail_count(pool);

	(void)state;
	test_fill(bytes, sizeof(bytes), 3);
	tls_stream_rx_init(&rx);
	feed(&rx, bytes, 60, sizes, 3);
	assert_int_equal(rte_mempool_avail_count(pool), avail - 3);
	tls_stream_rx_consume(&rx, 15);
	assert_int_equal(rte_mempool_avail_count(pool), avail - 2);
	assert_int_equal(rx.queued, 45);
	assert_int_equal(tls_stream_rx_copy(&rx, 0, got, 60), 45);
	assert_memory_equal(got, bytes + 15, 45);
	assert_int_equal(tls_stream_rx_copy(&rx, 40, got, 60), 5);
	assert_memory_equal(got, bytes + 55, 5);
	assert_int_equal(tls_stream_rx_copy(&rx, 45, got, 60), 0);
	tls_stream_rx_consume(&rx, 1000);
	assert_int_equal(rx.queued, 0);
	assert_null(rx.head);
	assert_int_equal(rte_mempool_avail_count(pool), avail);
}

/* Headers that must close the link, and the length limits per version. */
static void
test_bad_headers(void **state)
{
	static const struct {
		const char *hex;
		enum tls_record_version v;
		int want;
	} cases[] = {
		{ "1703030000", TLS_RECORD_TLS13, 5 },		/* empty body: complete */
		{ "1803030010", TLS_RECORD_TLS13, -EPROTO },		/* type 24 */
		{ "1303030010", TLS_RECORD_TLS13, -EPROTO },		/* type 19 */
		{ "1703010010", TLS_RECORD_TLS13, -EPROTO },		/* version 0x0301 */
		{ "1704030010", TLS_RECORD_TLS13, -EPROTO },
		{ "1703034101", TLS_RECORD_TLS13, -EMSGSIZE },	/* 2^14 + 257 */
		{ "1703034100", TLS_RECORD_TLS13, -EAGAIN },		/* 2^14 + 256: wait */
		{ "1703034801", TLS_RECORD_TLS12, -EMSGSIZE },	/* 2^14 + 2049 */
		{ "1703034800", TLS_RECORD_TLS12, -EAGAIN },
		{ "17030300", TLS_RECORD_TLS13, -EAGAIN },		/* short header */
	};
	static const uint32_t sizes[] = { 2048 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tls_stream_rx rx;
		struct tls_stream_record rec;
		uint8_t hdr[5];
		size_t n = test_hex(cases[i].hex, hdr, sizeof(hdr));
		int rc;

		tls_stream_rx_init(&rx);
		feed(&rx, hdr, (uint32_t)n, sizes, 1);
		rc = tls_stream_rx_peek_record(&rx, 0, cases[i].v, &rec);
		assert_int_equal(rc, cases[i].want);
		if (rc > 0)
			assert_int_equal(rec.nb_segments, 0);
		tls_stream_rx_release(&rx);
	}
}

/* The send side refuses plaintext beyond 2^14 and survives an empty pool
 * with the record intact. */
static void
test_tx_limits(void **state)
{
	static uint8_t big[16385];
	struct tls_stream_tx_record rec;
	struct rte_mempool *tiny;
	struct rte_mbuf *hold[8];
	unsigned held = 0;

	(void)state;
	assert_int_equal(tls_stream_tx_begin(&rec, pool, TLS_RECORD_TLS13), 0);
	assert_int_equal(tls_stream_tx_append(&rec, pool, big, sizeof(big)), -EMSGSIZE);
	assert_int_equal(tls_stream_tx_append(&rec, pool, big, 16384), 0);
	assert_int_equal(tls_stream_tx_room(&rec), 0);
	assert_int_equal(tls_stream_tx_append(&rec, pool, big, 1), -EMSGSIZE);
	tls_stream_tx_discard(&rec);

	tiny = rte_pktmbuf_pool_create("tls_stream_tiny", 3, 0, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	assert_non_null(tiny);
	assert_int_equal(tls_stream_tx_begin(&rec, tiny, TLS_RECORD_TLS13), 0);
	/* Two mbufs left: about 6.4 KB fit in the three. */
	assert_int_equal(tls_stream_tx_append(&rec, tiny, big, 8000), -ENOBUFS);
	assert_int_equal(rec.plaintext_len, 0);
	assert_int_equal(rte_mempool_avail_count(tiny), 2);
	assert_int_equal(tls_stream_tx_append(&rec, tiny, big, 3000), 0);
	assert_int_equal(rec.plaintext_len, 3000);
	while (held < 8 && (hold[held] = rte_pktmbuf_alloc(tiny)) != NULL)
		held++;
	assert_int_equal(held, 1);
	tls_stream_tx_discard(&rec);
	rte_pktmbuf_free(hold[0]);
	assert_int_equal(rte_mempool_avail_count(tiny), 3);
	rte_mempool_free(tiny);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_tls13_aes128),
		cmocka_unit_test(test_round_trip_tls13_aes256),
		cmocka_unit_test(test_round_trip_tls12),
		cmocka_unit_test(test_consume_partial),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_tx_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
