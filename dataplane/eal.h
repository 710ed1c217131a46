/* DPDK EAL start-up from the configuration (control/config.h).
 *
 * The EAL command line is built as a pure function of the configuration
 * and the number of free 2 MB hugepages, so the choice between hugepages
 * and plain memory is made (and unit-tested) before rte_eal_init(), which
 * cannot be retried in the same process:
 *   - lcores:  --lcores=<DPDKLcores>; the first lcore is the control
 *              (main) lcore, the others run workers;
 *   - ports:   -a <BDF> for each PCI port and --no-pci when there is none,
 *              so EAL never scans the PCI bus; --vdev <spec> for each
 *              virtual device (net_tap, net_af_packet, net_memif, ...);
 *   - memory:  --in-memory on hugepages (works without a hugetlbfs mount
 *              and leaves no files), or --no-huge -m <DPDKMemoryMB>
 *              --no-shconf when hugepages are off, or auto and fewer than
 *              DPDKMemoryMB of 2 MB pages are free.
 * Nothing here calls rte_exit(): failures are returned to the caller.
 */
#ifndef HSRELAY_DATAPLANE_EAL_H
#define HSRELAY_DATAPLANE_EAL_H

#include <stdbool.h>
#include <stddef.h>

#include "control/config.h"

/* Room for the EAL argument vector and the strings it points to. */
#define EAL_ARGS_MAX 32
#define EAL_ARGS_TEXT_MAX 2048

struct eal_args {
	int argc;
	char *argv[EAL_ARGS_MAX + 1]; /* argv[argc] is NULL */
	bool hugepages;                /* --in-memory chosen (else --no-huge) */
	char text[EAL_ARGS_TEXT_MAX];  /* storage behind argv */
};

/* Free 2 MB hugepages according to the meminfo file at path (normally
 * /proc/meminfo): HugePages_Free when Hugepagesize is 2048 kB, else 0.
 * Returns the count, or a negative errno when the file cannot be read. */
long eal_free_hugepages_2mb(const char *meminfo_path);

/* Builds the EAL command line for config with program as argv[0], given
 * free_hugepages free 2 MB pages. Returns 0, -EMSGSIZE when the
 * arguments do not fit struct eal_args, or -EINVAL for an empty port
 * list. */
int eal_args_build(const struct config_dpdk *config, const char *program,
		long free_hugepages, struct eal_args *out);

/* Reads /proc/meminfo, builds the arguments into *args and calls
 * rte_eal_init() on a copy of them. Returns 0, or a negative errno
 * (rte_errno) when EAL did not start; EAL cannot be started again in
 * this process either way. */
int eal_start(const struct config_dpdk *config, const char *program,
		struct eal_args *args);

/* Blocks SIGIO in the calling thread. net_tap drives its RX with a
 * process-wide SIGIO handler; the control thread calls this after
 * eal_start() so the signal goes to a worker lcore (whose idle sleep it
 * cuts short) instead of interrupting the control thread's waits. The
 * worker threads were created by rte_eal_init() before this call, with
 * SIGIO unblocked. Returns 0 or a negative errno. */
int eal_block_sigio(void);

/* EAL for a program's main thread, as hsrelay and hsrelay-netcheck start
 * it: eal_start(), then SIGIO blocked in the calling thread (see
 * eal_block_sigio(); the workers keep it). Reports on stderr as
 * "<name>: EAL on hugepages (--in-memory)" or "... plain memory
 * (--no-huge)", or "<name>: EAL did not start: <reason>". Returns 0 or the
 * negative errno of eal_start(). */
int eal_start_main(const struct config_dpdk *config, const char *program, const char *name);

/* rte_eal_cleanup(); returns its result. */
int eal_stop(void);

#endif
