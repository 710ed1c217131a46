/* IPv4 address classes tor tells apart; pure, header only, shared by the
 * control thread's EXTEND2 checks and the relay worker's rate limit. */
#ifndef HSRELAY_DATAPLANE_IPV4_ADDRESS_H
#define HSRELAY_DATAPLANE_IPV4_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>

/* tor address.c tor_addr_is_internal(addr, 0) for IPv4 (host order):
 * 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16. */
static inline bool
ipv4_address_is_internal(uint32_t v)
{
	return (v & 0xff000000u) == 0x0a000000u ||	/* 10/8 */
		(v & 0xff000000u) == 0x00000000u ||	/* 0/8 */
		(v & 0xff000000u) == 0x7f000000u ||	/* 127/8 */
		(v & 0xffc00000u) == 0x64400000u ||	/* 100.64/10 */
		(v & 0xffff0000u) == 0xa9fe0000u ||	/* 169.254/16 */
		(v & 0xfff00000u) == 0xac100000u ||	/* 172.16/12 */
		(v & 0xffff0000u) == 0xc0a80000u;	/* 192.168/16 */
}

#endif
