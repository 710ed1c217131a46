#ifndef HSRELAY_BENCH_BENCH_REND_H
#define HSRELAY_BENCH_BENCH_REND_H

/* The "rendezvous" benchmark: cells per second spliced by a rendezvous
 * point under test (hsrelay, and tor 0.4.9 as the reference, in the same
 * run with the same generator), per CPU-second of the relay, and per-cell
 * latency (p50/p99) measured end to end by the generator. The generator is
 * the project's own client code (tests/interop/test_client.h and
 * rend_pump.h): pairs of one-hop circuits joined with
 * ESTABLISH_RENDEZVOUS / RENDEZVOUS1, then DATA cells both ways through
 * the splice under an end-to-end layer, each checked on arrival. Needs
 * root (a network namespace); exit code 77 without it. Returns a process
 * exit code. */
int bench_rend_main(int argc, char **argv);

#endif
