#ifndef HSRELAY_BENCH_BENCH_CRYPTO_H
#define HSRELAY_BENCH_BENCH_CRYPTO_H

/* The "crypto" benchmark: relay forward and rendezvous splice per cell,
 * hsrelay's batch crypto against the way tor 0.4.9 does it with OpenSSL
 * EVP, measured in the same run. Returns a process exit code. */
int bench_crypto_main(int argc, char **argv);

#endif
