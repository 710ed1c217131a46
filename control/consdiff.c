/* Consensus diffs: see consdiff.h. */
#include "control/consdiff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/dirdoc_meta.h"

static const char version_line[] = "network-status-diff-version 1";
static const char signatures_start[] = "directory-signature ";
/* tor's apply_ed_diff refuses command lines of 128 bytes or more. */
#define COMMAND_LINE_MAX 127
/* Largest LCS table for one slice between two matched routers (cells of
 * 4 bytes); a bigger slice (thousands of routers replaced at once) is sent
 * as one replacement, which is still a correct diff. */
#define LCS_CELLS_MAX (1u << 22)

struct line {
	const uint8_t *s;
	uint32_t len;
};

struct lines {
	struct line *v;
	size_t n;
};

/* Every line must end with '\n' (tor's consensus_split_lines). */
static int
split_lines(const uint8_t *p, size_t len, struct lines *out)
{
	const uint8_t *end = p + len;
	size_t n = 0;

	for (const uint8_t *q = p; q < end; q++)
		n += *q == '\n';
	if (len > 0 && end[-1] != '\n')
		return -EINVAL;
	out->v = malloc((n > 0 ? n : 1) * sizeof(out->v[0]));
	if (out->v == NULL)
		return -ENOMEM;
	out->n = 0;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(nl - p) > UINT32_MAX) {
			free(out->v);
			return -EINVAL;
		}
		out->v[out->n].s = p;
		out->v[out->n].len = (uint32_t)(nl - p);
		out->n++;
		p = nl + 1;
	}
	return 0;
}

static bool
line_eq(const struct line *a, const struct line *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static bool
line_is(const struct line *a, const char *s)
{
	size_t n = strlen(s);

	return a->len == n && memcmp(a->s, s, n) == 0;
}

static bool
line_starts(const struct line *a, const char *s)
{
	size_t n = strlen(s);

	return a->len >= n && memcmp(a->s, s, n) == 0;
}

/* The identity of an "r NICKNAME IDENTITY ..." line: the run of base64
 * digits after the nickname (tor's get_id_hash). False when the line is
 * no router line. */
static bool
router_identity(const struct line *l, struct line *id)
{
	const uint8_t *end = l->s + l->len, *p;

	if (l->len < 2 || memcmp(l->s, "r ", 2) != 0)
		return false;
	p = memchr(l->s + 2, ' ', l->len - 2);
	if (p == NULL)
		return false;
	id->s = ++p;
	while (p < end && dirdoc_base64_value(*p) >= 0)
		p++;
	id->len = (uint32_t)(p - id->s);
	return id->len > 0;
}

/* Orders identities by their base64 digits' values (the decoded bytes'
 * order), a prefix first. */
static int
identity_cmp(const struct line *a, const struct line *b)
{
	uint32_t n = a->len < b->len ? a->len : b->len;

	for (uint32_t i = 0; i < n; i++) {
		int d = dirdoc_base64_value(a->s[i]) - dirdoc_base64_value(b->s[i]);

		if (d != 0)
			return d;
	}
	return (a->len > b->len) - (a->len < b->len);
}

struct router_line {
	size_t index;
	struct line id;
};

/* The router lines of lines[0, n), which must be in increasing identity
 * order; *out malloc'd. */
static int
router_lines(const struct lines *l, size_t n, struct router_line **out, size_t *count)
{
	struct router_line *r = malloc((n > 0 ? n : 1) * sizeof(*r));
	size_t k = 0;

	if (r == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct line id;

		if (!router_identity(&l->v[i], &id))
			continue;
		if (k > 0 && identity_cmp(&r[k - 1].id, &id) >= 0) {
			free(r);
			return -EINVAL;
		}
		r[k].index = i;
		r[k].id = id;
		k++;
	}
	*out = r;
	*count = k;
	return 0;
}

/* Marks the lines of a[s1, e1) not kept (deleted) and of b[s2, e2) not
 * kept (added) by a longest common subsequence of the two slices. */
static int
diff_slice(const struct lines *a, size_t s1, size_t e1, const struct lines *b, size_t s2,
		size_t e2, bool *deleted, bool *added)
{
	size_t n, m;
	uint32_t *lcs;

	while (s1 < e1 && s2 < e2 && line_eq(&a->v[s1], &b->v[s2])) {
		s1++;
		s2++;
	}
	while (s1 < e1 && s2 < e2 && line_eq(&a->v[e1 - 1], &b->v[e2 - 1])) {
		e1--;
		e2--;
	}
	n = e1 - s1;
	m = e2 - s2;
	if (n == 0 || m == 0 || (n + 1) * (m + 1) > LCS_CELLS_MAX) {
		for (size_t i = s1; i < e1; i++)
			deleted[i] = true;
		for (size_t j = s2; j < e2; j++)
			added[j] = true;
		return 0;
	}
	/* lcs[i * (m + 1) + j]: the LCS length of a[s1 + i, e1) and
	 * b[s2 + j, e2). */
	lcs = calloc((n + 1) * (m + 1), sizeof(*lcs));
	if (lcs == NULL)
		return -ENOMEM;
	for (size_t i = n; i-- > 0;) {
		for (size_t j = m; j-- > 0;) {
			uint32_t *cell = &lcs[i * (m + 1) + j];

			if (line_eq(&a->v[s1 + i], &b->v[s2 + j]))
				*cell = lcs[(i + 1) * (m + 1) + j + 1] + 1;
			else {
				uint32_t down = lcs[(i + 1) * (m + 1) + j];
				uint32_t right = lcs[i * (m + 1) + j + 1];

				*cell = down > right ? down : right;
			}
		}
	}
	{
		size_t i = 0, j = 0;

		while (i < n && j < m) {
			if (line_eq(&a->v[s1 + i], &b->v[s2 + j])) {
				i++;
				j++;
			} else if (lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
				deleted[s1 + i++] = true;
			} else {
				added[s2 + j++] = true;
			}
		}
		while (i < n)
			deleted[s1 + i++] = true;
		while (j < m)
			added[s2 + j++] = true;
	}
	free(lcs);
	return 0;
}

struct outbuf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void
out_add(struct outbuf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap > 0 ? b->cap : 4096;
		uint8_t *bigger;

		while (cap < b->len + len)
			cap *= 2;
		bigger = realloc(b->p, cap);
		if (bigger == NULL) {
			b->failed = true;
			return;
		}
		b->p = bigger;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
out_line(struct outbuf *b, const void *data, size_t len)
{
	out_add(b, data, len);
	out_add(b, "\n", 1);
}

static void
out_command(struct outbuf *b, size_t first, size_t last, char action)
{
	char cmd[64];
	int n = first == last ? snprintf(cmd, sizeof(cmd), "%zu%c", first, action)
			      : snprintf(cmd, sizeof(cmd), "%zu,%zu%c", first, last, action);

	out_line(b, cmd, (size_t)n);
}

static void
out_hex(struct outbuf *b, const uint8_t *d)
{
	static const char digits[] = "0123456789ABCDEF";
	char hex[2 * CONSDIFF_DIGEST_LEN];

	for (size_t i = 0; i < CONSDIFF_DIGEST_LEN; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	out_add(b, hex, sizeof(hex));
}

/* The ed commands from the marks, from the end of both documents back
 * (one command per run of changed lines, as tor's gen_ed_diff). */
static int
write_commands(struct outbuf *b, const struct lines *target, size_t n1, const bool *deleted,
		const bool *added)
{
	size_t i1 = n1, i2 = target->n;

	while (i1 > 0 || i2 > 0) {
		size_t end1 = i1, end2 = i2;

		if (!(i1 > 0 && deleted[i1 - 1]) && !(i2 > 0 && added[i2 - 1])) {
			if (i1 > 0)
				i1--;
			if (i2 > 0)
				i2--;
			continue;
		}
		while (i1 > 0 && deleted[i1 - 1])
			i1--;
		while (i2 > 0 && added[i2 - 1])
			i2--;
		/* Base lines i1 + 1 .. end1 (1-based) go; target lines
		 * [i2, end2) come in their place. */
		if (end2 == i2) {
			out_command(b, i1 + 1, end1, 'd');
			continue;
		}
		if (end1 == i1)
			out_command(b, i1, i1, 'a');
		else
			out_command(b, i1 + 1, end1, 'c');
		for (size_t j = i2; j < end2; j++) {
			if (line_is(&target->v[j], "."))
				return -EINVAL;
			out_line(b, target->v[j].s, target->v[j].len);
		}
		out_line(b, ".", 1);
	}
	return 0;
}

int
consdiff_generate(const uint8_t *base, size_t base_len, const uint8_t *target,
		size_t target_len, const uint8_t base_digest[CONSDIFF_DIGEST_LEN],
		const uint8_t target_digest[CONSDIFF_DIGEST_LEN], uint8_t **out, size_t *out_len)
{
	struct lines a = { 0 }, b = { 0 };
	struct router_line *r1 = NULL, *r2 = NULL;
	size_t nr1 = 0, nr2 = 0, n1, prev1 = 0, prev2 = 0, x = 0, y = 0;
	bool *deleted = NULL, *added = NULL;
	struct outbuf o = { 0 };
	uint8_t *check = NULL, d1[CONSDIFF_DIGEST_LEN], d2[CONSDIFF_DIGEST_LEN];
	size_t check_len = 0;
	int rc;

	rc = split_lines(base, base_len, &a);
	if (rc < 0)
		return rc;
	rc = split_lines(target, target_len, &b);
	if (rc < 0)
		goto done;
	/* The base's signatures go first, whatever they are. */
	for (n1 = 0; n1 < a.n && !line_starts(&a.v[n1], signatures_start); n1++)
		;
	rc = -ENOMEM;
	deleted = calloc(a.n + 1, sizeof(*deleted));
	added = calloc(b.n + 1, sizeof(*added));
	if (deleted == NULL || added == NULL)
		goto done;
	rc = router_lines(&a, n1, &r1, &nr1);
	if (rc == 0)
		rc = router_lines(&b, b.n, &r2, &nr2);
	if (rc < 0)
		goto done;
	/* Slices between routers present in both, as tor's gen_ed_diff
	 * walks them. */
	while (x < nr1 && y < nr2) {
		int cmp = identity_cmp(&r1[x].id, &r2[y].id);

		if (cmp < 0) {
			x++;
			continue;
		}
		if (cmp > 0) {
			y++;
			continue;
		}
		rc = diff_slice(&a, prev1, r1[x].index, &b, prev2, r2[y].index, deleted, added);
		if (rc < 0)
			goto done;
		prev1 = r1[x++].index;
		prev2 = r2[y++].index;
	}
	rc = diff_slice(&a, prev1, n1, &b, prev2, b.n, deleted, added);
	if (rc < 0)
		goto done;

	out_line(&o, version_line, strlen(version_line));
	out_add(&o, "hash ", 5);
	out_hex(&o, base_digest);
	out_add(&o, " ", 1);
	out_hex(&o, target_digest);
	out_add(&o, "\n", 1);
	if (n1 + 1 < a.n) {
		char cmd[64];
		int len = snprintf(cmd, sizeof(cmd), "%zu,$d", n1 + 1);

		out_line(&o, cmd, (size_t)len);
	} else if (n1 + 1 == a.n) {
		out_command(&o, n1 + 1, n1 + 1, 'd');
	}
	rc = write_commands(&o, &b, n1, deleted, added);
	if (rc < 0)
		goto done;
	rc = -ENOMEM;
	if (o.failed)
		goto done;
	/* tor checks its own diff before it serves it: so do we. */
	rc = consdiff_apply(base, base_len, o.p, o.len, d1, d2, &check, &check_len);
	if (rc == -ENOMEM)
		goto done;
	rc = -EINVAL;
	if (check == NULL || check_len != target_len || memcmp(check, target, target_len) != 0)
		goto done;
	*out = o.p;
	*out_len = o.len;
	o.p = NULL;
	rc = 0;
done:
	free(check);
	free(o.p);
	free(r1);
	free(r2);
	free(deleted);
	free(added);
	free(a.v);
	free(b.v);
	return rc;
}

static bool
decode_digest(const uint8_t *hex, uint8_t *out)
{
	struct dirdoc_span span = { .ptr = hex, .len = 2 * CONSDIFF_DIGEST_LEN };

	return dirdoc_hex_decode(span, out, CONSDIFF_DIGEST_LEN) == 0;
}

/* "hash" SP 64 hex SP 64 hex, nothing else (tor splits on single
 * spaces and wants exactly three words). */
static bool
parse_hash_line(const struct line *l, uint8_t *d1, uint8_t *d2)
{
	const size_t hex = 2 * CONSDIFF_DIGEST_LEN;

	return l->len == 5 + hex + 1 + hex && memcmp(l->s, "hash ", 5) == 0 &&
	       l->s[5 + hex] == ' ' && decode_digest(l->s + 5, d1) &&
	       decode_digest(l->s + 5 + hex + 1, d2);
}

/* A line number: decimal digits, 0..INT32_MAX (tor's get_linenum). */
static bool
parse_number(const uint8_t **p, const uint8_t *end, size_t *out)
{
	size_t v = 0;

	if (*p >= end || **p < '0' || **p > '9')
		return false;
	while (*p < end && **p >= '0' && **p <= '9') {
		v = v * 10 + (size_t)(**p - '0');
		if (v > 0x7fffffffu)
			return false;
		(*p)++;
	}
	*out = v;
	return true;
}

/* A piece of the result: lines [lo, hi) of the base or of the diff. */
struct piece {
	const struct lines *from;
	size_t lo, hi;
};

int
consdiff_apply(const uint8_t *base, size_t base_len, const uint8_t *diff, size_t diff_len,
		uint8_t base_digest[CONSDIFF_DIGEST_LEN],
		uint8_t target_digest[CONSDIFF_DIGEST_LEN], uint8_t **out, size_t *out_len)
{
	struct lines a = { 0 }, d = { 0 };
	struct piece *pieces = NULL;
	size_t np = 0, j, total = 0;
	uint8_t *result, *w;
	int rc;

	rc = split_lines(base, base_len, &a);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EBADMSG;
	rc = split_lines(diff, diff_len, &d);
	if (rc < 0) {
		free(a.v);
		return rc == -ENOMEM ? rc : -EBADMSG;
	}
	rc = -EBADMSG;
	if (d.n < 2 || !line_is(&d.v[0], version_line) ||
			!parse_hash_line(&d.v[1], base_digest, target_digest))
		goto done;
	/* Each command gives at most two pieces (kept base lines, inserted
	 * lines), and the base's first lines one more. */
	pieces = malloc((2 * d.n + 1) * sizeof(*pieces));
	if (pieces == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	j = a.n;
	for (size_t i = 2; i < d.n; i++) {
		const uint8_t *p = d.v[i].s, *end = p + d.v[i].len;
		size_t start, stop;
		bool range = false, to_eof = false;
		uint8_t action;

		if (d.v[i].len > COMMAND_LINE_MAX || !parse_number(&p, end, &start))
			goto done;
		stop = start;
		if (p < end && *p == ',') {
			range = true;
			p++;
			if (p < end && *p == '$') {
				to_eof = true;
				stop = a.n;
				p++;
			} else if (!parse_number(&p, end, &stop)) {
				goto done;
			}
			if (stop <= start)
				goto done;
		}
		/* Commands run from the end of the base to its start. */
		if (stop > j || p + 1 != end)
			goto done;
		action = *p;
		if (action != 'a' && action != 'c' && action != 'd')
			goto done;
		if ((to_eof && action != 'd') || (range && action == 'a'))
			goto done;
		/* Line 0 exists only as the place for "0a". */
		if (start == 0 && action != 'a')
			goto done;
		if (j > stop)
			pieces[np++] = (struct piece){ &a, stop, j };
		if (action != 'a')
			j = start - 1;
		else
			j = start;
		if (action != 'd') {
			size_t first = i + 1, k = first;

			while (k < d.n && !line_is(&d.v[k], "."))
				k++;
			if (k == d.n || k == first)
				goto done;
			pieces[np++] = (struct piece){ &d, first, k };
			i = k;
		}
	}
	if (j > 0)
		pieces[np++] = (struct piece){ &a, 0, j };
	for (size_t k = 0; k < np; k++)
		for (size_t l = pieces[k].lo; l < pieces[k].hi; l++)
			total += pieces[k].from->v[l].len + 1;
	result = malloc(total > 0 ? total : 1);
	if (result == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	w = result;
	for (size_t k = np; k-- > 0;) {
		for (size_t l = pieces[k].lo; l < pieces[k].hi; l++) {
			memcpy(w, pieces[k].from->v[l].s, pieces[k].from->v[l].len);
			w += pieces[k].from->v[l].len;
			*w++ = '\n';
		}
	}
	*out = result;
	*out_len = total;
	rc = 0;
done:
	free(pieces);
	free(a.v);
	free(d.v);
	return rc;
}
