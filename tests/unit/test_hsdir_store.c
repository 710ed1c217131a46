/* Unit tests for control/hsdir_store.{c,h}: tor 0.4.9's HSDir cache rules
 * (hs_cache.c) on the descriptor a real tor 0.4.9.11 service published
 * (tests/unit/vectors/hs-descriptor) and on synthetic descriptors signed
 * here, one blinded key per seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "control/hsdir_store.h"
#include "control/metrics.h"
#include "crypto/torcert.h"
#include "test_util.h"

static const char *vector_dir;

/* The real descriptor: captured at VECTOR_NOW, lifetime 180 min,
 * revision 14781062, certificate valid until hour 498970. */
#define VECTOR_NOW 1796096364
#define VECTOR_REVISION 14781062
#define VECTOR_CERT_END (498970LL * 3600)

#define NOW 1700000000
#define CERT_HOURS (NOW / 3600 + 54)

static char *
read_vector(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf = malloc(65536);

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", vector_dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

static void
append(char *out, size_t *off, size_t cap, const char *s)
{
	size_t n = strlen(s);

	assert_true(*off + n < cap);
	memcpy(out + *off, s, n);
	*off += n;
	out[*off] = '\0';
}

static void
append_object(char *out, size_t *off, size_t cap, const char *type, const uint8_t *data,
		size_t len)
{
	static char b64[140000];
	int n = EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
	char line[80];

	assert_true(n >= 0 && (size_t)n < sizeof(b64));
	snprintf(line, sizeof(line), "-----BEGIN %s-----\n", type);
	append(out, off, cap, line);
	for (int i = 0; i < n; i += 64) {
		snprintf(line, sizeof(line), "%.*s\n", n - i < 64 ? n - i : 64, b64 + i);
		append(out, off, cap, line);
	}
	snprintf(line, sizeof(line), "-----END %s-----\n", type);
	append(out, off, cap, line);
}

/* A valid descriptor for the blinded key made from seed (one byte
 * repeated), with the given lifetime (minutes), revision and size of the
 * superencrypted blob. Returns its length. */
static size_t
build_desc(uint8_t seed_byte, unsigned lifetime_min, uint64_t revision, size_t super_len,
		char *out, size_t cap)
{
	static const char prefix[] = "Tor onion service descriptor sig v3";
	static uint8_t super[100000];
	static char signed_msg[140000];
	struct ed25519_keypair blinded, signing;
	uint8_t seed[32], cert[TORCERT_WITH_SIGNING_KEY_LEN], sig[64];
	char line[200], b64[100];
	size_t off = 0;

	memset(seed, seed_byte, sizeof(seed));
	assert_int_equal(ed25519_keypair_from_seed(&blinded, seed), 0);
	memset(seed, (uint8_t)(seed_byte ^ 0xff), sizeof(seed));
	assert_int_equal(ed25519_keypair_from_seed(&signing, seed), 0);
	assert_int_equal(torcert_create(TORCERT_TYPE_HS_DESC_SIGNING, TORCERT_KEY_TYPE_ED25519,
			signing.public_key, CERT_HOURS, &blinded, true, cert, sizeof(cert)),
			sizeof(cert));
	out[0] = '\0';
	snprintf(line, sizeof(line), "hs-descriptor 3\ndescriptor-lifetime %u\n"
			"descriptor-signing-key-cert\n", lifetime_min);
	append(out, &off, cap, line);
	append_object(out, &off, cap, "ED25519 CERT", cert, sizeof(cert));
	snprintf(line, sizeof(line), "revision-counter %llu\nsuperencrypted\n",
			(unsigned long long)revision);
	append(out, &off, cap, line);
	assert_true(super_len <= sizeof(super));
	for (size_t i = 0; i < super_len; i++)
		super[i] = (uint8_t)(i * 31 + seed_byte);
	append_object(out, &off, cap, "MESSAGE", super, super_len);
	memcpy(signed_msg, prefix, sizeof(prefix) - 1);
	memcpy(signed_msg + sizeof(prefix) - 1, out, off);
	assert_int_equal(ed25519_sign(sig, (uint8_t *)signed_msg, sizeof(prefix) - 1 + off,
			&signing), 0);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)b64, sig, 64), 88);
	b64[86] = '\0';
	snprintf(line, sizeof(line), "signature %s\n", b64);
	append(out, &off, cap, line);
	return off;
}

static void
blinded_of(uint8_t seed_byte, uint8_t out[32])
{
	struct ed25519_keypair kp;
	uint8_t seed[32];

	memset(seed, seed_byte, sizeof(seed));
	assert_int_equal(ed25519_keypair_from_seed(&kp, seed), 0);
	memcpy(out, kp.public_key, 32);
}

/* The real descriptor is stored, served byte for byte, a replay of it is
 * refused (same revision), and it expires 180 minutes after storing. */
static void
test_real_descriptor(void **state)
{
	size_t len;
	char *text = read_vector("tor-0.4.9.11-service.txt", &len);
	struct hsdir_store *s = hsdir_store_new(0);
	struct hsdir_store_result r;
	const uint8_t *got;
	size_t got_len;
	uint8_t blinded[32], other[32] = { 0 };
	uint64_t downloads, revision;

	(void)state;
	assert_non_null(s);
	assert_int_equal(test_hex("250505244e5340cfb99164a4e83a5226"
			"cb3a9f18b215096152f9761fad34a7eb", blinded, 32), 32);
	assert_int_equal(hsdir_store_publish(s, (const uint8_t *)text, len,
			HS_DESC_MAX_SIZE_DEFAULT, VECTOR_NOW, &r), 0);
	assert_int_equal(r.outcome, HSDIR_STORE_STORED);
	assert_memory_equal(r.blinded_key, blinded, 32);
	assert_true(r.revision_counter == VECTOR_REVISION);
	assert_int_equal(r.expires, VECTOR_NOW + 180 * 60);
	assert_false(r.replaced);
	assert_true(hsdir_store_stats(s)->entries == 1);
	assert_true(hsdir_store_stats(s)->bytes == len + HSDIR_STORE_ENTRY_OVERHEAD);

	assert_int_equal(hsdir_store_fetch(s, blinded, &got, &got_len), 0);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, text, len);
	assert_int_equal(hsdir_store_fetch(s, other, &got, &got_len), -ENOENT);
	assert_int_equal(hsdir_store_entry_info(s, blinded, &downloads, &revision), 0);
	assert_true(downloads == 1 && revision == VECTOR_REVISION);
	assert_true(hsdir_store_stats(s)->fetch_hits == 1);
	assert_true(hsdir_store_stats(s)->fetch_misses == 1);

	/* Same revision again: tor's "greater or equal ... Rejecting!". */
	assert_int_equal(hsdir_store_publish(s, (const uint8_t *)text, len,
			HS_DESC_MAX_SIZE_DEFAULT, VECTOR_NOW + 1, &r), -EEXIST);
	assert_int_equal(r.outcome, HSDIR_STORE_NOT_NEWER);
	assert_true(r.stored_revision_counter == VECTOR_REVISION);

	/* A smaller HSV3MaxDescriptorSize refuses it (length >= max). */
	hsdir_store_clean(s, VECTOR_NOW + 180 * 60);
	assert_true(hsdir_store_stats(s)->entries == 0);
	assert_int_equal(hsdir_store_publish(s, (const uint8_t *)text, len, len, VECTOR_NOW, &r),
			-EPROTO);
	assert_int_equal(r.outcome, HSDIR_STORE_TOO_BIG);
	assert_int_equal(hsdir_store_publish(s, (const uint8_t *)text, len, len + 1, VECTOR_NOW,
			&r), 0);

	/* After the certificate's expiry the upload is invalid. */
	hsdir_store_clean(s, VECTOR_NOW + 180 * 60);
	assert_int_equal(hsdir_store_publish(s, (const uint8_t *)text, len,
			HS_DESC_MAX_SIZE_DEFAULT, (time_t)VECTOR_CERT_END + 1, &r), -EPROTO);
	assert_int_equal(r.outcome, HSDIR_STORE_INVALID);
	assert_int_equal(r.check, HS_DESC_CERT_EXPIRED);

	assert_true(hsdir_store_stats(s)->uploads[HSDIR_STORE_STORED] == 2);
	assert_true(hsdir_store_stats(s)->uploads[HSDIR_STORE_NOT_NEWER] == 1);
	assert_true(hsdir_store_stats(s)->uploads[HSDIR_STORE_TOO_BIG] == 1);
	assert_true(hsdir_store_stats(s)->uploads[HSDIR_STORE_INVALID] == 1);
	assert_true(hsdir_store_stats(s)->expired == 2);
	hsdir_store_free(s);
	free(text);
}

/* Replacement by a strictly greater revision keeps the download count;
 * expiry is exactly at stored_at + lifetime (tor: created_ts <= now -
 * lifetime removes). */
static void
test_revision_and_expiry(void **state)
{
	static char a[20000], b[20000], c[20000];
	size_t a_len = build_desc(1, 60, 10, 500, a, sizeof(a));
	size_t b_len = build_desc(1, 120, 11, 600, b, sizeof(b));
	size_t c_len = build_desc(1, 120, 9, 600, c, sizeof(c));
	struct hsdir_store *s = hsdir_store_new(0);
	struct hsdir_store_result r;
	uint8_t key[32];
	const uint8_t *got;
	size_t got_len;
	uint64_t downloads, revision;

	(void)state;
	blinded_of(1, key);
	assert_int_equal(hsdir_store_publish(s, (uint8_t *)a, a_len, 50000, NOW, &r), 0);
	assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), 0);
	assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), 0);
	assert_int_equal(hsdir_store_publish(s, (uint8_t *)c, c_len, 50000, NOW + 10, &r),
			-EEXIST);
	assert_true(r.stored_revision_counter == 10);
	assert_int_equal(hsdir_store_publish(s, (uint8_t *)b, b_len, 50000, NOW + 20, &r), 0);
	assert_true(r.replaced);
	assert_int_equal(r.expires, NOW + 20 + 120 * 60);
	assert_int_equal(hsdir_store_entry_info(s, key, &downloads, &revision), 0);
	assert_true(downloads == 2 && revision == 11);
	assert_true(hsdir_store_stats(s)->entries == 1);
	assert_true(hsdir_store_stats(s)->bytes == b_len + HSDIR_STORE_ENTRY_OVERHEAD);
	assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), 0);
	assert_int_equal(got_len, b_len);
	assert_memory_equal(got, b, b_len);

	assert_int_equal(hsdir_store_clean(s, NOW + 20 + 120 * 60 - 1), 0);
	assert_int_equal(hsdir_store_clean(s, NOW + 20 + 120 * 60), 1);
	assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), -ENOENT);
	assert_true(hsdir_store_stats(s)->bytes == 0);
	/* Once expired, a lower revision is accepted again. */
	assert_int_equal(hsdir_store_publish(s, (uint8_t *)c, c_len, 50000, NOW + 30, &r), 0);
	hsdir_store_free(s);
}

/* The cap: with the store over it, the next upload first prunes the
 * least-downloaded entries (count 0, then 1, ...) and is then stored. */
static void
test_cap_prunes_least_downloaded(void **state)
{
	static char d[8][20000];
	size_t len[8];
	struct hsdir_store *s;
	struct hsdir_store_result r;
	const uint8_t *got;
	size_t got_len, entry;
	uint8_t key[32];

	(void)state;
	for (unsigned i = 0; i < 8; i++)
		len[i] = build_desc((uint8_t)(0x40 + i), 180, 1, 1000, d[i], sizeof(d[i]));
	entry = len[0] + HSDIR_STORE_ENTRY_OVERHEAD;
	for (unsigned i = 1; i < 8; i++)
		assert_int_equal(len[i], len[0]);
	/* A cap below the spare room: tor removes half of what is held. */
	s = hsdir_store_new(3 * entry);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(hsdir_store_publish(s, (uint8_t *)d[i], len[i], 50000, NOW, &r), 0);
	/* 4 entries > cap of 3: nothing pruned yet (tor checks before the
	 * store). Downloads: key 0 x3, key 1 x1, keys 2 and 3 never. */
	assert_true(hsdir_store_stats(s)->entries == 4);
	for (unsigned n = 0; n < 3; n++) {
		blinded_of(0x40, key);
		assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), 0);
	}
	blinded_of(0x41, key);
	assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), 0);

	assert_int_equal(hsdir_store_publish(s, (uint8_t *)d[4], len[4], 50000, NOW, &r), 0);
	/* Half of 4 entries = 2 entries' bytes: the two never downloaded. */
	assert_int_equal(r.pruned_bytes, 2 * entry);
	assert_true(hsdir_store_stats(s)->entries == 3);
	for (unsigned i = 0; i < 5; i++) {
		blinded_of((uint8_t)(0x40 + i), key);
		assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len),
				i == 2 || i == 3 ? -ENOENT : 0);
	}
	assert_true(hsdir_store_stats(s)->pruned == 2);
	assert_true(hsdir_store_stats(s)->pruned_bytes == 2 * entry);

	/* Explicit prune walks up the download counts: key 4 (1 download
	 * from the loop above) goes with key 1 (2), key 0 (4) stays. */
	assert_int_equal(hsdir_store_prune(s, 2 * entry), 2 * entry);
	blinded_of(0x40, key);
	assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), 0);
	assert_true(hsdir_store_stats(s)->entries == 1);
	/* Asking for more than held empties the store and stops. */
	assert_int_equal(hsdir_store_prune(s, 100 * entry), entry);
	assert_true(hsdir_store_stats(s)->entries == 0);
	assert_int_equal(hsdir_store_prune(s, entry), 0);
	hsdir_store_free(s);

	/* No cap: nothing is ever pruned. */
	s = hsdir_store_new(0);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(hsdir_store_publish(s, (uint8_t *)d[i], len[i], 50000, NOW, &r), 0);
	assert_true(hsdir_store_stats(s)->entries == 8);
	hsdir_store_free(s);
}

/* A reloaded MaxHSDirCacheBytes below what is held prunes at once, the
 * least downloaded first; a higher cap or none prunes nothing. */
static void
test_set_max_bytes(void **state)
{
	static char d[4][20000];
	size_t len[4], entry;
	struct hsdir_store *s;
	struct hsdir_store_result r;
	const uint8_t *got;
	size_t got_len;
	uint8_t key[32];

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		len[i] = build_desc((uint8_t)(0x50 + i), 180, 1, 1000, d[i], sizeof(d[i]));
	entry = len[0] + HSDIR_STORE_ENTRY_OVERHEAD;
	s = hsdir_store_new(0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(hsdir_store_publish(s, (uint8_t *)d[i], len[i], 50000, NOW, &r), 0);
	/* Keys 0 and 3 are downloaded, 1 and 2 never. */
	blinded_of(0x50, key);
	assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), 0);
	blinded_of(0x53, key);
	assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len), 0);
	assert_int_equal(hsdir_store_set_max_bytes(s, 100 * entry), 0);
	assert_true(hsdir_store_stats(s)->max_bytes == 100 * entry);
	assert_true(hsdir_store_stats(s)->entries == 4);
	/* A cap of 3 entries, below the spare room: half of 4 goes. */
	assert_int_equal(hsdir_store_set_max_bytes(s, 3 * entry), 2 * entry);
	assert_true(hsdir_store_stats(s)->max_bytes == 3 * entry);
	assert_true(hsdir_store_stats(s)->entries == 2);
	for (unsigned i = 0; i < 4; i++) {
		blinded_of((uint8_t)(0x50 + i), key);
		assert_int_equal(hsdir_store_fetch(s, key, &got, &got_len),
				i == 1 || i == 2 ? -ENOENT : 0);
	}
	assert_int_equal(hsdir_store_set_max_bytes(s, 0), 0);
	assert_true(hsdir_store_stats(s)->entries == 2);
	hsdir_store_free(s);
}

/* Descriptors above the default HSV3MaxDescriptorSize need the consensus
 * parameter; a store under its cap prunes nothing. */
static void
test_cap_spare_room(void **state)
{
	static char d[3][120000];
	size_t len[3];
	struct hsdir_store *s;
	struct hsdir_store_result r;
	uint64_t cap;

	(void)state;
	for (unsigned i = 0; i < 3; i++)
		len[i] = build_desc((uint8_t)(0x60 + i), 180, 1, 75000, d[i], sizeof(d[i]));
	/* 100 KB descriptors need HSV3MaxDescriptorSize above the default. */
	assert_true(len[0] > 100000);
	cap = HSDIR_STORE_PRUNE_SPARE_ROOM + len[0] + HSDIR_STORE_ENTRY_OVERHEAD;
	s = hsdir_store_new(cap);
	assert_int_equal(hsdir_store_publish(s, (uint8_t *)d[0], len[0], 50000, NOW, &r), -EPROTO);
	assert_int_equal(r.outcome, HSDIR_STORE_TOO_BIG);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(hsdir_store_publish(s, (uint8_t *)d[i], len[i], 200000, NOW, &r),
				0);
	/* Storing the third: held 2 entries <= cap, no pruning. */
	assert_int_equal(r.pruned_bytes, 0);
	hsdir_store_free(s);
}

/* Counters appear on the MetricsPort snapshot with their labels. */
static void
test_metrics(void **state)
{
	static char a[20000];
	size_t a_len = build_desc(7, 60, 1, 500, a, sizeof(a));
	struct hsdir_store *s = hsdir_store_new(1000000);
	struct metrics_snapshot *m = metrics_snapshot_new();
	struct hsdir_store_result r;
	char *text, want[128];
	size_t text_len;

	(void)state;
	assert_int_equal(hsdir_store_publish(s, (uint8_t *)a, a_len, 50000, NOW, &r), 0);
	assert_int_equal(hsdir_store_publish(s, (uint8_t *)a, a_len, 50000, NOW, &r), -EEXIST);
	hsdir_store_note_single_hop(s, false);
	hsdir_store_note_single_hop(s, true);
	assert_int_equal(hsdir_store_metrics_fill(m, s), 0);
	assert_int_equal(metrics_snapshot_render(m, &text, &text_len), 0);
	assert_non_null(strstr(text, "hsrelay_hsdir_descriptors 1\n"));
	snprintf(want, sizeof(want), "hsrelay_hsdir_bytes %zu\n",
			a_len + HSDIR_STORE_ENTRY_OVERHEAD);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "hsrelay_hsdir_max_bytes 1000000\n"));
	assert_non_null(strstr(text, "hsrelay_hsdir_uploads_total{outcome=\"stored\"} 1\n"));
	assert_non_null(strstr(text, "hsrelay_hsdir_uploads_total{outcome=\"not_newer\"} 1\n"));
	assert_non_null(strstr(text, "hsrelay_hsdir_uploads_total{outcome=\"single_hop\"} 1\n"));
	assert_non_null(strstr(text, "hsrelay_hsdir_fetches_total{result=\"single_hop\"} 1\n"));
	assert_non_null(strstr(text, "hsrelay_hsdir_fetches_total{result=\"hit\"} 0\n"));
	assert_non_null(strstr(text, "tor_relay_load_oom_bytes_total{subsys=\"hsdir\"} 0\n"));
	free(text);
	metrics_snapshot_free(m);
	hsdir_store_free(s);
}

/* tor's compute_real_max_mem_in_queues / 5. */
static void
test_auto_max_bytes(void **state)
{
	const uint64_t gib = UINT64_C(1) << 30;

	(void)state;
	assert_true(hsdir_store_auto_max_bytes(0) == 8 * gib / 5);
	assert_true(hsdir_store_auto_max_bytes(4 * gib) == 3 * gib / 5);
	assert_true(hsdir_store_auto_max_bytes(16 * gib) == (16 * gib / 5 * 2) / 5);
	assert_true(hsdir_store_auto_max_bytes(64 * gib) == 8 * gib / 5);
	/* 3/4 of 256 MiB is below tor's floor of 256 MiB. */
	assert_true(hsdir_store_auto_max_bytes(256u << 20) == (gib / 4) / 5);
}

/* node_set_hsdir_index on a testing network (10 s voting: 4-minute
 * periods starting 2 minutes after each 4-minute mark; SRV runs of 240 s
 * starting on the mark): before the period start in a run the fetch index
 * uses the previous SRV, after it the current one. */
static void
test_ring_indexes(void **state)
{
	struct hs_time_period_params params = hs_time_period_params_testing(10);
	uint8_t id[32], cur[32], prev[32], want[32], disaster[32];
	struct hsdir_ring_indexes r;

	(void)state;
	memset(id, 0x5a, 32);
	memset(cur, 0xc1, 32);
	memset(prev, 0x9e, 32);
	/* 240000: a run starts, period 999 runs until 240120. */
	assert_int_equal(hsdir_ring_indexes(id, 240000, 10, &params, cur, prev, &r), 0);
	assert_false(r.between_tp_and_srv);
	assert_true(r.period_num == 999 && r.period_length == 4);
	assert_int_equal(hs_build_hsdir_index(id, prev, 999, 4, want), 0);
	assert_memory_equal(r.fetch, want, 32);
	assert_memory_equal(r.store_first, want, 32);
	assert_int_equal(hs_build_hsdir_index(id, cur, 1000, 4, want), 0);
	assert_memory_equal(r.store_second, want, 32);
	/* 240130: period 1000 started at 240120, between TP and next SRV. */
	assert_int_equal(hsdir_ring_indexes(id, 240130, 10, &params, cur, prev, &r), 0);
	assert_true(r.between_tp_and_srv);
	assert_true(r.period_num == 1000);
	assert_int_equal(hs_build_hsdir_index(id, cur, 1000, 4, want), 0);
	assert_memory_equal(r.fetch, want, 32);
	assert_memory_equal(r.store_second, want, 32);
	assert_int_equal(hs_build_hsdir_index(id, prev, 999, 4, want), 0);
	assert_memory_equal(r.store_first, want, 32);
	/* No SRVs in the consensus: the disaster SRV of each period. */
	assert_int_equal(hsdir_ring_indexes(id, 240130, 10, &params, NULL, NULL, &r), 0);
	assert_int_equal(hs_build_disaster_srv(4, 999, disaster), 0);
	assert_int_equal(hs_build_hsdir_index(id, disaster, 999, 4, want), 0);
	assert_memory_equal(r.store_first, want, 32);
	assert_int_equal(hs_build_disaster_srv(4, 1000, disaster), 0);
	assert_int_equal(hs_build_hsdir_index(id, disaster, 1000, 4, want), 0);
	assert_memory_equal(r.fetch, want, 32);
	assert_int_equal(hsdir_ring_indexes(id, 240130, 0, &params, cur, prev, &r), -EINVAL);
}

/* The ring positions as metrics: each index in full as a label, the period
 * and the flag; nothing before the first consensus. */
static void
test_ring_metrics(void **state)
{
	struct hs_time_period_params params = hs_time_period_params_testing(10);
	uint8_t id[32], cur[32], prev[32];
	struct hsdir_ring_indexes r;
	struct metrics_snapshot *m = metrics_snapshot_new();
	char *text, want[256], hex[65];
	size_t text_len;

	(void)state;
	memset(id, 0x5a, 32);
	memset(cur, 0xc1, 32);
	memset(prev, 0x9e, 32);
	assert_non_null(m);
	assert_int_equal(hsdir_ring_metrics_fill(m, NULL, false), 0);
	assert_int_equal(metrics_snapshot_render(m, &text, &text_len), 0);
	assert_null(strstr(text, "hsrelay_hsdir_"));
	free(text);
	assert_int_equal(hsdir_ring_indexes(id, 240130, 10, &params, cur, prev, &r), 0);
	assert_int_equal(hsdir_ring_metrics_fill(m, &r, true), 0);
	assert_int_equal(metrics_snapshot_render(m, &text, &text_len), 0);
	for (unsigned b = 0; b < 32; b++)
		snprintf(hex + 2 * b, 3, "%02x", r.store_first[b]);
	snprintf(want, sizeof(want),
			"hsrelay_hsdir_ring_index{index=\"store_first\",hsdir_index=\"%s\"} 1\n", hex);
	assert_non_null(strstr(text, want));
	for (unsigned b = 0; b < 32; b++)
		snprintf(hex + 2 * b, 3, "%02x", r.fetch[b]);
	snprintf(want, sizeof(want),
			"hsrelay_hsdir_ring_index{index=\"fetch\",hsdir_index=\"%s\"} 1\n", hex);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "{index=\"store_second\",hsdir_index=\""));
	assert_non_null(strstr(text, "hsrelay_hsdir_time_period 1000\n"));
	assert_non_null(strstr(text, "hsrelay_hsdir_time_period_minutes 4\n"));
	assert_non_null(strstr(text, "hsrelay_hsdir_listed 1\n"));
	free(text);
	metrics_snapshot_free(m);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_descriptor),
		cmocka_unit_test(test_revision_and_expiry),
		cmocka_unit_test(test_cap_prunes_least_downloaded),
		cmocka_unit_test(test_cap_spare_room),
		cmocka_unit_test(test_set_max_bytes),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_auto_max_bytes),
		cmocka_unit_test(test_ring_indexes),
		cmocka_unit_test(test_ring_metrics),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	vector_dir = argv[1];
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
