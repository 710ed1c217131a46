/* libFuzzer target: TCP header + options parser (dataplane/tcp_options.c).
 * A header that parses is re-encoded in the canonical layout and parsed
 * again; the two parses must agree field for field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/tcp_options.h"

static void
check_same(const struct tcp_header *a, const struct tcp_header *b)
{
	if (a->src_port != b->src_port || a->dst_port != b->dst_port || a->seq != b->seq ||
	    a->ack != b->ack || a->flags != b->flags || a->window != b->window ||
	    a->checksum != b->checksum || a->urgent != b->urgent ||
	    memcmp(&a->options, &b->options, sizeof(a->options)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	struct tcp_header h, again;
	struct tcp_options o, o2;
	uint8_t buf[TCP_HEADER_MIN_LEN + TCP_OPTIONS_MAX_LEN];
	ssize_t n;

	if (tcp_header_parse(&p, data + size, &h) == 0) {
		if (p != data + h.header_len || h.header_len > size)
			abort();
		n = tcp_header_encode(&h, buf, sizeof(buf));
		/* Six options with four SACK blocks may not fit the canonical
		 * layout; anything else must. */
		if (n >= 0) {
			const uint8_t *r = buf;

			if (tcp_header_parse(&r, buf + n, &again) != 0 || r != buf + n)
				abort();
			check_same(&h, &again);
		} else if (!(h.options.present & TCP_OPT_SACK)) {
			abort();
		}
	}
	p = data;
	if (tcp_options_parse(&p, data + size, &o) == 0) {
		if (p != data + size)
			abort();
		n = tcp_options_encode(&o, buf, sizeof(buf));
		if (n >= 0) {
			const uint8_t *r = buf;

			if (tcp_options_parse(&r, buf + n, &o2) != 0 || memcmp(&o, &o2, sizeof(o)) != 0)
				abort();
		}
	}
	return 0;
}
