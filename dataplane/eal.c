#include "dataplane/eal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

long
eal_free_hugepages_2mb(const char *meminfo_path)
{
	char line[256];
	long free_pages = -1, page_kb = -1;
	FILE *f = fopen(meminfo_path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		long v;

		if (sscanf(line, "HugePages_Free: %ld", &v) == 1)
			free_pages = v;
		else if (sscanf(line, "Hugepagesize: %ld kB", &v) == 1)
			page_kb = v;
	}
	fclose(f);
	/* EAL's default page size is the kernel's default; only 2 MB pages
	 * are counted because DPDKMemoryMB is converted at 2 MB a page. */
	if (free_pages < 0 || page_kb != 2048)
		return 0;
	return free_pages;
}

struct args_builder {
	struct eal_args *out;
	size_t used;
	int rc;
};

static void
add_arg(struct args_builder *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(b->out->text) - b->used;
	int n;

	if (b->rc < 0)
		return;
	if (b->out->argc == EAL_ARGS_MAX) {
		b->rc = -EMSGSIZE;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->out->text + b->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		b->rc = -EMSGSIZE;
		return;
	}
	b->out->argv[b->out->argc++] = b->out->text + b->used;
	b->out->argv[b->out->argc] = NULL;
	b->used += (size_t)n + 1;
}

int
eal_args_build(const struct config_dpdk *config, const char *program,
		long free_hugepages, struct eal_args *out)
{
	struct args_builder b = { .out = out, .used = 0, .rc = 0 };
	bool any_pci = false;
	long pages_needed = (long)(config->memory_mb + 1) / 2;

	memset(out, 0, sizeof(*out));
	if (config->n_ports == 0)
		return -EINVAL;
	switch (config->hugepages) {
	case CONFIG_HUGEPAGES_ON:
		out->hugepages = true;
		break;
	case CONFIG_HUGEPAGES_OFF:
		out->hugepages = false;
		break;
	case CONFIG_HUGEPAGES_AUTO:
		out->hugepages = free_hugepages >= pages_needed;
		break;
	}

	add_arg(&b, "%s", program);
	add_arg(&b, "--lcores=%s", config->lcores);
	for (unsigned i = 0; i < config->n_ports; i++) {
		if (config->ports[i].is_pci) {
			add_arg(&b, "-a");
			add_arg(&b, "%s", config->ports[i].spec);
			any_pci = true;
		} else {
			add_arg(&b, "--vdev");
			add_arg(&b, "%s", config->ports[i].spec);
		}
	}
	if (!any_pci)
		add_arg(&b, "--no-pci");
	if (out->hugepages) {
		add_arg(&b, "--in-memory");
	} else {
		/* --no-shconf: without hugepages EAL would otherwise lock
		 * /var/run/dpdk/rte/config and a second process would fail. */
		add_arg(&b, "--no-huge");
		add_arg(&b, "-m");
		add_arg(&b, "%u", config->memory_mb);
		add_arg(&b, "--no-shconf");
	}
	add_arg(&b, "--log-level=lib.eal:warning");
	return b.rc;
}

int
eal_start(const struct config_dpdk *config, const char *program,
		struct eal_args *args)
{
	char *argv[EAL_ARGS_MAX + 1];
	long free_pages = eal_free_hugepages_2mb("/proc/meminfo");
	int rc;

	rc = eal_args_build(config, program, free_pages < 0 ? 0 : free_pages, args);
	if (rc < 0)
		return rc;
	/* rte_eal_init() may permute argv; keep args intact for logging. */
	memcpy(argv, args->argv, sizeof(argv));
	if (rte_eal_init(args->argc, argv) < 0)
		return rte_errno > 0 ? -rte_errno : -EINVAL;
	return 0;
}

int
eal_block_sigio(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int
eal_start_main(const struct config_dpdk *config, const char *program, const char *name)
{
	struct eal_args args;
	int rc = eal_start(config, program, &args);

	if (rc < 0) {
		fprintf(stderr, "%s: EAL did not start: %s\n", name, rte_strerror(-rc));
		return rc;
	}
	/* The workers keep SIGIO (net_tap's RX trigger); this thread does not. */
	eal_block_sigio();
	fprintf(stderr, "%s: EAL on %s\n", name, args.hugepages ?
			"hugepages (--in-memory)" : "plain memory (--no-huge)");
	return 0;
}

int
eal_stop(void)
{
	return rte_eal_cleanup();
}
