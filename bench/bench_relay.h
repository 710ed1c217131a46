#ifndef HSRELAY_BENCH_BENCH_RELAY_H
#define HSRELAY_BENCH_BENCH_RELAY_H

/* The "relay" benchmark: relay cells per second forwarded by a relay under
 * test (hsrelay on net_af_packet, net_tap or net_memif, and tor 0.4.9 as
 * the reference, in the same run), and per CPU-second of the relay. A
 * load generator built from the project's own client code plays both
 * ends: clients that open links and
 * 2-hop circuits through the relay and push RELAY DROP cells, and the next
 * hop (a "sink" relay) that accepts the relay's link, answers its CREATE2,
 * counts the cells and decrypts a sample. Needs root (a network
 * namespace); exit code 77 without it. Returns a process exit code. */
int bench_relay_main(int argc, char **argv);

#endif
