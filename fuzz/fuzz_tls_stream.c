/* libFuzzer target for the worker's TLS record framing over mbuf chains
 * (dataplane/tls_stream.c). The input's first byte picks the version and
 * a segment-size pattern; the rest is the received byte stream, fed in
 * segments of those sizes. Records are peeked and consumed as the worker
 * does; the segments of every record found must cover exactly its body
 * and lie inside the chain, and no mbuf may leak. EAL starts once, in
 * LLVMFuzzerInitialize. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/tls_stream.h"

#define POOL_SIZE 4095u
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct rte_mempool *pool;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *eal_argv[] = {
		"fuzz_tls_stream", "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--log-level=lib.eal:error", "--log-level=*:error", NULL,
	};

	(void)argc;
	(void)argv;
	if (rte_eal_init(8, eal_argv) < 0)
		abort();
	/* No per-lcore cache, so the available count is exact. */
	pool = rte_pktmbuf_pool_create("fuzz_tls_stream", POOL_SIZE, 0, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t patterns[4][4] = {
		{ 1448, 1448, 1448, 1448 }, { 1, 7, 300, 2048 }, { 5, 5, 5, 5 }, { 2048, 1, 2048, 3 },
	};
	enum tls_record_version v;
	const uint16_t *sizes;
	struct tls_stream_rx rx;
	struct tls_stream_record rec;
	unsigned avail = rte_mempool_avail_count(pool), i = 0;
	size_t done = 1;

	if (size < 1)
		return 0;
	v = data[0] & 1 ? TLS_RECORD_TLS13 : TLS_RECORD_TLS12;
	sizes = patterns[(data[0] >> 1) & 3];
	tls_stream_rx_init(&rx);
	while (done < size) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		size_t n = sizes[i++ % 4];
		int rc;

		if (m == NULL)
			break;
		if (n > size - done)
			n = size - done;
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), data + done, n);
		done += n;
		tls_stream_rx_append(&rx, m);
		/* The worker's loop: peek every complete record, then consume. */
		{
			uint32_t skip = 0, body = 0;

			while ((rc = tls_stream_rx_peek_record(&rx, skip, v, &rec)) > 0) {
				body = 0;
				CHECK(rec.nb_segments <= TLS_STREAM_MAX_SEGMENTS);
				for (unsigned s = 0; s < rec.nb_segments; s++) {
					CHECK(rec.segments[s].len > 0);
					/* Touch every byte: ASan checks the bounds. */
					volatile uint8_t sink = rec.segments[s].base[0];
					sink = rec.segments[s].base[rec.segments[s].len - 1];
					(void)sink;
					body += rec.segments[s].len;
				}
				CHECK(body == rec.body_len);
				CHECK((uint32_t)rc == TLS_RECORD_HEADER_LEN + rec.body_len);
				skip += (uint32_t)rc;
				CHECK(skip <= rx.queued);
			}
			CHECK(rc == -EAGAIN || rc == -EPROTO || rc == -EMSGSIZE);
			tls_stream_rx_consume(&rx, skip);
			if (rc != -EAGAIN) {
				/* The worker closes the link: drop everything. */
				tls_stream_rx_release(&rx);
			}
		}
	}
	tls_stream_rx_release(&rx);
	CHECK(rx.queued == 0 && rx.head == NULL);
	CHECK(rte_mempool_avail_count(pool) == avail);
	return 0;
}
