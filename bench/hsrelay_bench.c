/* hsrelay-bench: benchmarks that print one JSON object per line.
 *
 *   hsrelay-bench crypto [--quick] [--aead aes128|aes256] [--seconds S]
 *   hsrelay-bench tcp [--quick] [--seconds S] [--connections N[,N...]]
 *   hsrelay-bench relay [--quick] [--seconds S] [--circuits N[,N...]]
 *   hsrelay-bench rendezvous [--quick] [--pairs N] [--cells N] [--workers N[,N]]
 *
 * See README "Bench" for the output contract. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_crypto.h"
#include "bench/bench_memif.h"
#include "bench/bench_relay.h"
#include "bench/bench_rend.h"
#include "bench/bench_tcp.h"
#include "bench/bench_ugen.h"
#include "bench/bench_util.h"

const char *
bench_cpu_model(void)
{
	static char model[128] = "unknown";
	static int done;
	char line[256];
	FILE *f;

	if (done)
		return model;
	done = 1;
	f = fopen("/proc/cpuinfo", "r");
	if (f == NULL)
		return model;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || colon == NULL)
			continue;
		colon += 2;
		size_t n = 0;

		for (; *colon && *colon != '\n' && n + 1 < sizeof(model); colon++)
			if (*colon != '"' && *colon != '\\')
				model[n++] = *colon;
		model[n] = '\0';
		break;
	}
	fclose(f);
	return model;
}

int
bench_parse_list(const char *text, unsigned max_value, unsigned *out, unsigned max_count)
{
	unsigned n = 0;
	char *end;

	while (*text != '\0') {
		unsigned long v = strtoul(text, &end, 10);

		if (end == text || v == 0 || v > max_value || n == max_count)
			return -EINVAL;
		out[n++] = (unsigned)v;
		if (*end != ',' && *end != '\0')
			return -EINVAL;
		text = *end == ',' ? end + 1 : end;
	}
	return n > 0 ? (int)n : -EINVAL;
}

static int
compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
bench_latency_percentiles(uint32_t *ns, uint64_t n, struct bench_latency *out)
{
	memset(out, 0, sizeof(*out));
	out->samples = n;
	if (n == 0)
		return;
	qsort(ns, n, sizeof(*ns), compare_u32);
	out->p50_ns = ns[(n - 1) * 50 / 100];
	out->p99_ns = ns[(n - 1) * 99 / 100];
	out->max_ns = ns[n - 1];
}

static void
usage(FILE *to)
{
	fprintf(to, "usage: hsrelay-bench crypto [--quick] [--aead aes128|aes256] [--seconds S]\n"
		    "                            [--relay-ctr aesni|vaes|ipsec_mb]\n"
		    "       hsrelay-bench tcp [--quick] [--seconds S] [--connections N[,N...]]\n"
		    "       hsrelay-bench relay [--quick] [--seconds S] [--circuits N[,N...]]\n"
		    "       hsrelay-bench rendezvous [--quick] [--pairs N] [--cells N]\n"
		    "                                [--workers N[,N]]\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "crypto") == 0)
		return bench_crypto_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "tcp") == 0)
		return bench_tcp_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "relay") == 0)
		return bench_relay_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "rendezvous") == 0)
		return bench_rend_main(argc - 1, argv + 1);
	/* Not for users: the bridge process of relay --transport memif. */
	if (strcmp(argv[1], "memif-bridge") == 0)
		return bench_memif_bridge_main(argc - 1, argv + 1);
	/* Not for users: the generator process of relay and rendezvous
	 * --transport memif-direct. */
	if (strcmp(argv[1], "ugen") == 0)
		return bench_ugen_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "hsrelay-bench: unknown benchmark '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
