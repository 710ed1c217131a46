/* SYN cookies (RFC 4987 3.6): the SYN-ACK's ISN encodes what the listener
 * would otherwise keep in a half-open TCB, so a flood cannot exhaust it.
 *
 * Layout of the 32-bit cookie: bits 31..8 a 24-bit keyed hash (SipHash-2-4)
 * over the 4-tuple, the peer's ISN and the time counter; bits 7..3 the low 5
 * bits of the counter (one step per 64 s); bits 2..0 an index into a fixed
 * MSS table. When the SYN carried timestamps, the SYN-ACK's TSval low 6 bits
 * carry the window scale and SACK-permitted (syn_cookie_ts_*), as Linux does.
 * Pure functions; the key is TCP_SYN_COOKIE_KEY_LEN bytes. */
#ifndef HSRELAY_DATAPLANE_SYN_COOKIE_H
#define HSRELAY_DATAPLANE_SYN_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#define SYN_COOKIE_KEY_LEN 16
#define SYN_COOKIE_PERIOD_NS (64ull * 1000000000ull)
#define SYN_COOKIE_WSCALE_NONE 0xf

struct syn_cookie_tuple {
	uint32_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
};

/* Largest table MSS not above mss (the table starts at 536). */
uint8_t syn_cookie_mss_index(uint16_t mss);
uint16_t syn_cookie_mss(uint8_t index);

uint32_t syn_cookie_make(const uint8_t key[SYN_COOKIE_KEY_LEN], const struct syn_cookie_tuple *t,
		uint32_t peer_isn, uint64_t now, uint8_t mss_index);

/* Accepts cookies made in the current or the previous counter period.
 * Returns true and sets *mss_index when valid. */
bool syn_cookie_check(const uint8_t key[SYN_COOKIE_KEY_LEN], const struct syn_cookie_tuple *t,
		uint32_t peer_isn, uint32_t cookie, uint64_t now, uint8_t *mss_index);

/* Low 6 bits of TSval: window scale (0xf: none) and SACK-permitted. */
uint32_t syn_cookie_ts_encode(uint32_t ts_val, uint8_t wscale, bool sack_permitted);
void syn_cookie_ts_decode(uint32_t ts_ecr, uint8_t *wscale, bool *sack_permitted);

#endif
