/* TCP header and options codec (RFC 9293 3.1, RFC 7323, RFC 2018, RFC 6691).
 *
 * Pure functions over byte buffers, no DPDK dependency, so unit tests and the
 * fuzz target link them alone. Sequence numbers and ports are host order in
 * the structs and network order on the wire. */
#ifndef HSRELAY_DATAPLANE_TCP_OPTIONS_H
#define HSRELAY_DATAPLANE_TCP_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Header flag bits as in the 14th header byte. */
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

#define TCP_HEADER_MIN_LEN 20
/* Data offset is 4 bits of 32-bit words: at most 60 bytes of header. */
#define TCP_OPTIONS_MAX_LEN 40

/* Bits of tcp_options.present. */
#define TCP_OPT_MSS		0x01u
#define TCP_OPT_WSCALE		0x02u
#define TCP_OPT_SACK_PERMITTED	0x04u
#define TCP_OPT_SACK		0x08u
#define TCP_OPT_TIMESTAMP	0x10u

/* RFC 7323 2.3: a shift above 14 is used as 14. */
#define TCP_WSCALE_MAX 14
/* RFC 2018 3: at most 4 blocks fit in 40 bytes, 3 next to a timestamp. */
#define TCP_SACK_BLOCKS_MAX 4

struct tcp_sack_block {
	uint32_t left;	/* first sequence number of the block */
	uint32_t right;	/* sequence number just after the block */
};

struct tcp_options {
	uint32_t present;	/* TCP_OPT_* bits */
	uint16_t mss;
	uint8_t wscale;		/* as received (not clamped; see TCP_WSCALE_MAX) */
	uint8_t sack_count;
	struct tcp_sack_block sack[TCP_SACK_BLOCKS_MAX];
	uint32_t ts_val;
	uint32_t ts_ecr;
};

struct tcp_header {
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t seq;
	uint32_t ack;
	uint8_t header_len;	/* bytes, 20..60, a multiple of 4 */
	uint8_t flags;		/* TCP_FLAG_* */
	uint16_t window;	/* raw field, not scaled */
	uint16_t checksum;
	uint16_t urgent;
	struct tcp_options options;
};

/* Parses an options area [*p, end) (RFC 9293 3.1: EOL, NOP, kind-length
 * options). Unknown kinds are skipped. Returns 0 and sets *p = end, or
 * -EINVAL for a length below 2, an option running past end, or a known option
 * with an impossible length (MSS != 4, WS != 3, SACK-permitted != 2,
 * timestamps != 10, SACK not 2 + 8n with 1 <= n <= 4). */
int tcp_options_parse(const uint8_t **p, const uint8_t *end, struct tcp_options *out);

/* Encodes in->present in a fixed layout padded to a multiple of 4 bytes:
 * MSS; SACK-permitted + timestamps (or NOP NOP + timestamps, or NOP NOP +
 * SACK-permitted); NOP + window scale; NOP NOP + SACK blocks. Returns the
 * length, -EINVAL for a sack_count outside 1..4 with TCP_OPT_SACK, or
 * -EMSGSIZE when the result would exceed out_len or 40 bytes. */
ssize_t tcp_options_encode(const struct tcp_options *in, uint8_t *out, size_t out_len);

/* Length tcp_options_encode() would produce, or -EMSGSIZE / -EINVAL. */
ssize_t tcp_options_encoded_len(const struct tcp_options *in);

/* Parses a TCP header with its options from [*p, end). Advances *p past the
 * header (to the payload) on success. Returns -EMSGSIZE when fewer bytes than
 * the header (or its data offset) are present, -EINVAL for a data offset
 * below 5 words or malformed options. */
int tcp_header_parse(const uint8_t **p, const uint8_t *end, struct tcp_header *out);

/* Writes the header and in->options; header_len is computed, not read.
 * The checksum field is written from in->checksum. Returns the header length
 * or a negative error as tcp_options_encode(). */
ssize_t tcp_header_encode(const struct tcp_header *in, uint8_t *out, size_t out_len);

#endif
