#include "dataplane/tcp_options.h"

#include <errno.h>
#include <string.h>

#include "dataplane/wire.h"

/* Option kinds, RFC 9293 3.1 and the IANA registry. */
enum {
	KIND_EOL = 0,
	KIND_NOP = 1,
	KIND_MSS = 2,
	KIND_WSCALE = 3,
	KIND_SACK_PERMITTED = 4,
	KIND_SACK = 5,
	KIND_TIMESTAMP = 8,
};

int
tcp_options_parse(const uint8_t **p, const uint8_t *end, struct tcp_options *out)
{
	const uint8_t *q = *p;
	struct tcp_options o;

	memset(&o, 0, sizeof(o));
	while (q < end) {
		uint8_t kind = q[0];
		size_t len;

		if (kind == KIND_EOL)
			break;
		if (kind == KIND_NOP) {
			q++;
			continue;
		}
		if (end - q < 2)
			return -EINVAL;
		len = q[1];
		if (len < 2 || len > (size_t)(end - q))
			return -EINVAL;
		switch (kind) {
		case KIND_MSS:
			if (len != 4)
				return -EINVAL;
			o.present |= TCP_OPT_MSS;
			o.mss = wire_read_u16(q + 2);
			break;
		case KIND_WSCALE:
			if (len != 3)
				return -EINVAL;
			o.present |= TCP_OPT_WSCALE;
			o.wscale = q[2];
			break;
		case KIND_SACK_PERMITTED:
			if (len != 2)
				return -EINVAL;
			o.present |= TCP_OPT_SACK_PERMITTED;
			break;
		case KIND_SACK:
			if (len < 10 || (len - 2) % 8 != 0 || (len - 2) / 8 > TCP_SACK_BLOCKS_MAX)
				return -EINVAL;
			o.present |= TCP_OPT_SACK;
			o.sack_count = (uint8_t)((len - 2) / 8);
			memset(o.sack, 0, sizeof(o.sack));
			for (unsigned i = 0; i < o.sack_count; i++) {
				o.sack[i].left = wire_read_u32(q + 2 + 8 * i);
				o.sack[i].right = wire_read_u32(q + 6 + 8 * i);
			}
			break;
		case KIND_TIMESTAMP:
			if (len != 10)
				return -EINVAL;
			o.present |= TCP_OPT_TIMESTAMP;
			o.ts_val = wire_read_u32(q + 2);
			o.ts_ecr = wire_read_u32(q + 6);
			break;
		default:
			break;
		}
		q += len;
	}
	*out = o;
	*p = end;
	return 0;
}

ssize_t
tcp_options_encoded_len(const struct tcp_options *in)
{
	size_t n = 0;

	if (in->present & TCP_OPT_MSS)
		n += 4;
	if (in->present & TCP_OPT_TIMESTAMP)
		n += 12;
	else if (in->present & TCP_OPT_SACK_PERMITTED)
		n += 4;
	if (in->present & TCP_OPT_WSCALE)
		n += 4;
	if (in->present & TCP_OPT_SACK) {
		if (in->sack_count < 1 || in->sack_count > TCP_SACK_BLOCKS_MAX)
			return -EINVAL;
		n += 4 + 8u * in->sack_count;
	}
	if (n > TCP_OPTIONS_MAX_LEN)
		return -EMSGSIZE;
	return (ssize_t)n;
}

ssize_t
tcp_options_encode(const struct tcp_options *in, uint8_t *out, size_t out_len)
{
	ssize_t total = tcp_options_encoded_len(in);
	uint8_t *q = out;

	if (total < 0)
		return total;
	if ((size_t)total > out_len)
		return -EMSGSIZE;
	if (in->present & TCP_OPT_MSS) {
		q[0] = KIND_MSS;
		q[1] = 4;
		wire_write_u16(q + 2, in->mss);
		q += 4;
	}
	if (in->present & TCP_OPT_TIMESTAMP) {
		/* The layout Linux uses in a SYN: SACK-permitted fills the two
		 * bytes that would otherwise be NOPs before the timestamp. */
		if (in->present & TCP_OPT_SACK_PERMITTED) {
			q[0] = KIND_SACK_PERMITTED;
			q[1] = 2;
		} else {
			q[0] = KIND_NOP;
			q[1] = KIND_NOP;
		}
		q[2] = KIND_TIMESTAMP;
		q[3] = 10;
		wire_write_u32(q + 4, in->ts_val);
		wire_write_u32(q + 8, in->ts_ecr);
		q += 12;
	} else if (in->present & TCP_OPT_SACK_PERMITTED) {
		q[0] = KIND_NOP;
		q[1] = KIND_NOP;
		q[2] = KIND_SACK_PERMITTED;
		q[3] = 2;
		q += 4;
	}
	if (in->present & TCP_OPT_WSCALE) {
		q[0] = KIND_NOP;
		q[1] = KIND_WSCALE;
		q[2] = 3;
		q[3] = in->wscale;
		q += 4;
	}
	if (in->present & TCP_OPT_SACK) {
		q[0] = KIND_NOP;
		q[1] = KIND_NOP;
		q[2] = KIND_SACK;
		q[3] = (uint8_t)(2 + 8 * in->sack_count);
		q += 4;
		for (unsigned i = 0; i < in->sack_count; i++) {
			wire_write_u32(q, in->sack[i].left);
			wire_write_u32(q + 4, in->sack[i].right);
			q += 8;
		}
	}
	return total;
}

int
tcp_header_parse(const uint8_t **p, const uint8_t *end, struct tcp_header *out)
{
	const uint8_t *q = *p;
	const uint8_t *opt;
	struct tcp_header h;
	size_t header_len;
	int rc;

	if (end - q < TCP_HEADER_MIN_LEN)
		return -EMSGSIZE;
	header_len = (size_t)(q[12] >> 4) * 4;
	if (header_len < TCP_HEADER_MIN_LEN)
		return -EINVAL;
	if ((size_t)(end - q) < header_len)
		return -EMSGSIZE;
	memset(&h, 0, sizeof(h));
	h.src_port = wire_read_u16(q);
	h.dst_port = wire_read_u16(q + 2);
	h.seq = wire_read_u32(q + 4);
	h.ack = wire_read_u32(q + 8);
	h.header_len = (uint8_t)header_len;
	h.flags = q[13];
	h.window = wire_read_u16(q + 14);
	h.checksum = wire_read_u16(q + 16);
	h.urgent = wire_read_u16(q + 18);
	opt = q + TCP_HEADER_MIN_LEN;
	rc = tcp_options_parse(&opt, q + header_len, &h.options);
	if (rc < 0)
		return rc;
	*out = h;
	*p = q + header_len;
	return 0;
}

ssize_t
tcp_header_encode(const struct tcp_header *in, uint8_t *out, size_t out_len)
{
	ssize_t opt_len = tcp_options_encoded_len(&in->options);
	size_t total;

	if (opt_len < 0)
		return opt_len;
	total = TCP_HEADER_MIN_LEN + (size_t)opt_len;
	if (total > out_len)
		return -EMSGSIZE;
	wire_write_u16(out, in->src_port);
	wire_write_u16(out + 2, in->dst_port);
	wire_write_u32(out + 4, in->seq);
	wire_write_u32(out + 8, in->ack);
	out[12] = (uint8_t)((total / 4) << 4);
	out[13] = in->flags;
	wire_write_u16(out + 14, in->window);
	wire_write_u16(out + 16, in->checksum);
	wire_write_u16(out + 18, in->urgent);
	if (tcp_options_encode(&in->options, out + TCP_HEADER_MIN_LEN, (size_t)opt_len) != opt_len)
		return -EINVAL;
	return (ssize_t)total;
}
