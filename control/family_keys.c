/* Family keys from tor's key files (family_keys.h). */
#include "control/family_keys.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static bool
has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && strcmp(name + n - k, suffix) == 0;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
family_keys_load(const char *dir, const uint8_t (*ids)[RELAY_FAMILY_ID_LEN],
		unsigned n_ids, bool all, struct ed25519_keypair *keys, unsigned max,
		char *errbuf, size_t errbuf_len)
{
	char *names[64];
	unsigned n_names = 0, n = 0;
	bool found[RELAY_FAMILY_IDS_MAX] = { false };
	struct dirent *e;
	int rc = 0;
	DIR *d;

	if (n_ids > RELAY_FAMILY_IDS_MAX)
		return -EINVAL;
	if (n_ids == 0 && !all)
		return 0;
	d = opendir(dir);
	if (d == NULL) {
		rc = -errno;
		snprintf(errbuf, errbuf_len, "%s: %s (the family key directory)", dir,
				strerror(-rc));
		return rc;
	}
	/* Sorted by name, so that the descriptor's family-cert lines keep one
	 * order from start to start. */
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (!has_suffix(e->d_name, RELAY_FAMILY_KEY_FILE_SUFFIX))
			continue;
		if (n_names == sizeof(names) / sizeof(names[0])) {
			snprintf(errbuf, errbuf_len, "%s: more than %zu family key files", dir,
					sizeof(names) / sizeof(names[0]));
			rc = -E2BIG;
			break;
		}
		names[n_names] = strdup(e->d_name);
		if (names[n_names] == NULL) {
			snprintf(errbuf, errbuf_len, "%s: out of memory", dir);
			rc = -ENOMEM;
			break;
		}
		n_names++;
	}
	closedir(d);
	qsort(names, n_names, sizeof(names[0]), compare_names);

	for (unsigned i = 0; i < n_names && rc == 0; i++) {
		struct ed25519_secret_key_file file;
		char path[4096];
		bool wanted = all, duplicate = false;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = ed25519_secret_key_file_load(path, &file);
		if (rc == 0 && strcmp(file.tag, RELAY_FAMILY_KEY_FILE_TAG) != 0)
			rc = -EINVAL;
		if (rc != 0) {
			snprintf(errbuf, errbuf_len, "%s: %s", path, rc == -EINVAL ?
					"not a family key (tor --keygen-family writes them)" :
					strerror(-rc));
			break;
		}
		for (unsigned k = 0; k < n_ids; k++) {
			if (memcmp(ids[k], file.keypair.public_key, RELAY_FAMILY_ID_LEN) == 0) {
				wanted = true;
				found[k] = true;
			}
		}
		for (unsigned k = 0; k < n; k++)
			duplicate |= memcmp(keys[k].public_key, file.keypair.public_key,
					ED25519_PUBLIC_KEY_LEN) == 0;
		if (wanted && !duplicate) {
			if (n == max) {
				snprintf(errbuf, errbuf_len, "%s: more than %u family keys", dir, max);
				rc = -E2BIG;
			} else {
				keys[n++] = file.keypair;
			}
		}
		sodium_memzero(&file, sizeof(file));
	}
	for (unsigned i = 0; i < n_names; i++)
		free(names[i]);
	for (unsigned k = 0; k < n_ids && rc == 0; k++) {
		if (!found[k]) {
			char id[RELAY_FAMILY_ID_BASE64_LEN + 1];

			relay_family_id_format(ids[k], id);
			snprintf(errbuf, errbuf_len, "FamilyId %s: no key for it in %s (a file "
					"NAME" RELAY_FAMILY_KEY_FILE_SUFFIX " from tor --keygen-family)",
					id, dir);
			rc = -ENOENT;
		}
	}
	if (rc != 0) {
		sodium_memzero(keys, (size_t)max * sizeof(keys[0]));
		return rc;
	}
	return (int)n;
}
