#ifndef HSRELAY_BENCH_BENCH_TCP_H
#define HSRELAY_BENCH_BENCH_TCP_H

/* The "tcp" benchmark: bulk transfer goodput and segments per second per
 * core between two hsrelay TCP stacks over net_memif (one poll-mode worker
 * per side, each in its own DPDK process), and between two Linux kernel
 * TCP sockets over a veth pair joining two network namespaces, measured in
 * the same run. Needs root (namespaces). Returns a process exit code. */
int bench_tcp_main(int argc, char **argv);

#endif
