/* libFuzzer target for control/intro_point.c: the input is a script of
 * operations on a few circuits (two bytes of header each: operation and
 * circuit, then a length byte and a body for the message operations):
 * ESTABLISH_INTRO with the given bytes, a valid ESTABLISH_INTRO for one of
 * four auth keys with DoS parameters from the input, INTRODUCE1 with the
 * given bytes or for one of the four keys, close reports, link closes,
 * consensus defaults, time steps; with an odd input length INTRODUCE2 goes
 * through send_confirmed and the script answers (sent or gone, for one of
 * the last ids) or lets the ACKs time out. Checks: the state stays consistent
 * (intro circuits <= circuits <= the limit), every relay message the module
 * sends fits a relay cell, an INTRODUCE2 is byte for byte the INTRODUCE1,
 * and freeing leaves nothing behind (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/hs_cells.h"
#include "control/intro_point.h"
#include "dataplane/cell.h"

static const uint8_t *current_body;
static size_t current_len;

static int
fuzz_send(void *ctx, const struct intro_circuit *circ, uint8_t command, const uint8_t *body,
		size_t len)
{
	(void)ctx;
	(void)circ;
	if (len > RELAY_DATA_MAX)
		abort();
	if (command == RELAY_COMMAND_INTRODUCE2 &&
	    (len != current_len || memcmp(body, current_body, len) != 0))
		abort();
	return 0;
}

static uint32_t last_id;

static int
fuzz_send_confirmed(void *ctx, const struct intro_circuit *circ, uint8_t command,
		const uint8_t *body, size_t len, uint32_t id)
{
	if (id == 0)
		abort();
	last_id = id;
	return fuzz_send(ctx, circ, command, body, len);
}

static void
fuzz_close(void *ctx, const struct intro_circuit *circ, uint8_t reason)
{
	(void)ctx;
	(void)circ;
	(void)reason;
}

static void
fuzz_watch(void *ctx, const struct intro_circuit *circ)
{
	(void)ctx;
	(void)circ;
}

static struct intro_circuit
circuit_of(uint8_t n)
{
	/* Few handles, two p sides each: handle reuse is exercised. */
	return (struct intro_circuit){
		.worker = n & 1, .handle = (n >> 1) & 7, .p_link = 0x100000u + ((n >> 4) & 3),
		.p_circ_id = 0x80000000u + (n & 0x3f),
	};
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ed25519_keypair keys[4];
	static bool keys_made;
	static const uint8_t kh[HS_CIRCUIT_KH_LEN] = { 7, 7, 7 };
	struct intro_point_config cfg = {
		.ops = { .send = fuzz_send, .close = fuzz_close, .watch = fuzz_watch },
		.max_circuits = 12,
	};
	struct intro_point *ip;
	const uint8_t *p = data, *end = data + size;
	uint32_t now = 1000;

	if (size & 1)
		cfg.ops.send_confirmed = fuzz_send_confirmed;
	last_id = 0;
	if (!keys_made) {
		for (unsigned i = 0; i < 4; i++) {
			uint8_t seed[32] = { (uint8_t)(i + 1) };

			if (ed25519_keypair_from_seed(&keys[i], seed) != 0)
				abort();
		}
		keys_made = true;
	}
	ip = intro_point_new(&cfg);
	if (ip == NULL)
		abort();
	while (end - p >= 2) {
		uint8_t op = p[0], arg = p[1];
		struct intro_circuit circ = circuit_of(arg);
		struct intro_circuit_info info = {
			.has_next_hop = (op & 0x10) != 0,
			.previous_hop_is_client = (op & 0x20) != 0,
			.other_purpose = (op & 0x40) != 0 && (op & 0x80) != 0,
		};
		uint8_t body[RELAY_DATA_MAX];
		size_t len = 0;

		p += 2;
		switch (op & 0x0f) {
		case 0:
		case 1:
			/* Message bytes from the input. */
			if (p < end) {
				len = *p++;
				if (len > (size_t)(end - p))
					len = (size_t)(end - p);
				memcpy(body, p, len);
				p += len;
			}
			current_body = body;
			current_len = len;
			if ((op & 0x0f) == 0)
				intro_point_establish(ip, &circ, &info, (op & 0x40) ? NULL : kh, body,
						len, now);
			else
				intro_point_introduce1(ip, &circ, &info, body, len, now);
			break;
		case 2: {
			/* A valid ESTABLISH_INTRO for key arg >> 6 with DoS
			 * parameters from the next two bytes. */
			uint8_t ext[64];
			ssize_t ext_len = 0, n;
			uint64_t rate = end - p >= 2 ? p[0] : 0, burst = end - p >= 2 ? p[1] : 0;

			if (end - p >= 2)
				p += 2;
			if (rate != 0)
				ext_len = hs_dos_extension_list_build(rate, burst, ext, sizeof(ext));
			n = establish_intro_cell_build(&keys[arg >> 6], kh, ext_len > 0 ? ext : NULL,
					(size_t)(ext_len > 0 ? ext_len : 0), body, sizeof(body));
			if (n < 0)
				abort();
			intro_point_establish(ip, &circ, &info, kh, body, (size_t)n, now);
			break;
		}
		case 3: {
			/* A well-formed INTRODUCE1 for key arg >> 6. */
			size_t n = 0;

			memset(body, 0, 20);
			n = 20;
			body[n++] = HS_AUTH_KEY_TYPE_ED25519;
			body[n++] = 0;
			body[n++] = 32;
			memcpy(body + n, keys[arg >> 6].public_key, 32);
			n += 32;
			body[n++] = 0;
			memset(body + n, op, 40);
			n += 40;
			current_body = body;
			current_len = n;
			intro_point_introduce1(ip, &circ, &info, body, n, now);
			break;
		}
		case 4:
			intro_point_circuit_closed(ip, &circ);
			break;
		case 5:
			intro_point_link_closed(ip, circ.p_link);
			break;
		case 6:
			intro_point_circuit_gone(ip, circ.p_link, circ.p_circ_id);
			break;
		case 7: {
			struct intro_point_dos_defaults d = {
				.enabled = (arg & 1) != 0, .rate_per_sec = arg >> 4,
				.burst_per_sec = arg & 0x0e,
			};

			intro_point_set_dos_defaults(ip, &d);
			break;
		}
		case 8:
			now += arg;
			break;
		case 9:
			intro_point_introduce2_sent(ip, last_id - (arg & 3), (arg & 4) != 0);
			break;
		case 10:
			intro_point_poll(ip, now);
			break;
		default:
			(void)intro_point_is_intro_circuit(ip, &circ);
			break;
		}
		{
			const struct intro_point_stats *st = intro_point_stats(ip);

			if (st->intro_circuits > st->circuits || st->circuits > 12 ||
			    st->acks_pending > INTRO_POINT_PENDING_ACKS)
				abort();
		}
	}
	intro_point_free(ip);
	return 0;
}
