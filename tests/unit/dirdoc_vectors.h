/* Shared by the directory-document tests: loading the vectors in
 * tests/unit/vectors/dirdoc (see its README) and facts about them. */
#ifndef HSRELAY_TESTS_UNIT_DIRDOC_VECTORS_H
#define HSRELAY_TESTS_UNIT_DIRDOC_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "control/authority_cert.h"

/* valid-after of both consensus vectors, 2026-12-01 00:56:10 UTC. */
#define DIRDOC_VALID_AFTER ((time_t)1796086570)
/* A moment the certificates and consensus are valid at. */
#define DIRDOC_NOW (DIRDOC_VALID_AFTER + 5)
/* dir-key-expires of authority a0: 2027-12-01 00:49:16 UTC. */
#define DIRDOC_A0_EXPIRES ((time_t)1827622156)

/* The v3 identities of a0, a1, a2 (DirAuthority v3ident). */
static const char *const dirdoc_authority_hex[3] = {
	"873C6F75EDB09F2AD6D1D264059DF6BC0F18E0AB",
	"34A9513CC92AB1E2766CE83A85870F4CC2024BCE",
	"259F228EBA5F905AC5EBAFA4188E09760E9F512C",
};

static const char *dirdoc_vector_dir;

/* Reads vector `name` into a malloc'd buffer (NUL-terminated, not
 * counted); aborts the test run if it cannot. */
static inline uint8_t *
dirdoc_load(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	long size;
	uint8_t *buf;

	snprintf(path, sizeof(path), "%s/%s", dirdoc_vector_dir, name);
	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
			fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	buf = malloc((size_t)size + 1);
	if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size)
		abort();
	fclose(f);
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

/* Parses every certificate in keys-all into certs[]; returns how many. */
static inline size_t
dirdoc_load_certs(struct authority_cert **certs, size_t max)
{
	size_t len, n = 0;
	uint8_t *doc = dirdoc_load("keys-all", &len);
	const uint8_t *p = doc;

	while (p < doc + len && n < max) {
		if (authority_cert_parse(&p, doc + len, &certs[n], NULL) != 0)
			abort();
		n++;
	}
	free(doc);
	return n;
}

static inline void
dirdoc_hex20(const char *hex, uint8_t out[20])
{
	for (int i = 0; i < 20; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
}

#endif
