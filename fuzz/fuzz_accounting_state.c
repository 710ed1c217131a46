/* libFuzzer target for control/accounting.c's state file reader: parses
 * the input as DataDirectory/state, then checks what the reader promises.
 * On failure the reported line is a line of the input and the output is
 * untouched. On success the three soft-limit values are all zero unless
 * the soft limit came after the interval start, the seconds fit tor's
 * int, and the values go through accounting_state_format() and back
 * unchanged apart from the read and written counts rounded up to 1024
 * (tor's ROUND_UP) and times after 9999 written as its last second (tor's
 * correct_tm(); if that puts the soft limit at the interval start, its
 * values are dropped on the way back); formatting that result again gives
 * the same text. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/accounting.h"

/* 2024-03-15 12:00:00 UTC: LastWritten. */
#define FUZZ_NOW ((time_t)1710504000)

static unsigned
count_lines(const uint8_t *data, size_t size)
{
	unsigned lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	return lines;
}

static uint64_t
round_up_kib(uint64_t x)
{
	return (x + 0x3ff) & ~(uint64_t)0x3ff;
}

/* 9999-12-31 23:59:59 UTC. */
#define LAST_WRITABLE_TIME ((time_t)253402300799)

static time_t
writable_time(time_t t)
{
	return t > LAST_WRITABLE_TIME ? LAST_WRITABLE_TIME : t;
}

static void
same(const struct accounting_saved *a, const struct accounting_saved *b)
{
	if (a->interval_start != b->interval_start || a->bytes_read != b->bytes_read ||
			a->bytes_written != b->bytes_written ||
			a->seconds_active != b->seconds_active ||
			a->expected_usage != b->expected_usage ||
			a->seconds_to_soft_limit != b->seconds_to_soft_limit ||
			a->soft_limit_hit_at != b->soft_limit_hit_at ||
			a->bytes_at_soft_limit != b->bytes_at_soft_limit)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char first[2048], second[2048];
	struct accounting_saved parsed, before, again, want;
	unsigned bad_line = 0;
	int rc, n1, n2;

	memset(&parsed, 0x5a, sizeof(parsed));
	before = parsed;
	rc = accounting_state_parse((const char *)data, size, &parsed, &bad_line);
	if (rc < 0) {
		if (rc != -EINVAL || bad_line == 0 || bad_line > count_lines(data, size) ||
				memcmp(&parsed, &before, sizeof(parsed)) != 0)
			abort();
		return 0;
	}
	if (rc != 0 || parsed.interval_start < 0 || parsed.soft_limit_hit_at < 0 ||
			parsed.seconds_active > INT_MAX || parsed.seconds_to_soft_limit > INT_MAX)
		abort();
	if (parsed.soft_limit_hit_at <= parsed.interval_start &&
			(parsed.soft_limit_hit_at != 0 || parsed.seconds_to_soft_limit != 0 ||
			 parsed.bytes_at_soft_limit != 0))
		abort();

	n1 = accounting_state_format(&parsed, FUZZ_NOW, first, sizeof(first));
	if (n1 <= 0 || (size_t)n1 != strlen(first))
		abort();
	bad_line = 0;
	if (accounting_state_parse(first, (size_t)n1, &again, &bad_line) != 0 || bad_line != 0)
		abort();
	want = parsed;
	want.bytes_read = round_up_kib(parsed.bytes_read);
	want.bytes_written = round_up_kib(parsed.bytes_written);
	want.interval_start = writable_time(parsed.interval_start);
	if (parsed.soft_limit_hit_at != 0) {
		want.soft_limit_hit_at = writable_time(parsed.soft_limit_hit_at);
		if (want.soft_limit_hit_at <= want.interval_start) {
			want.soft_limit_hit_at = 0;
			want.seconds_to_soft_limit = 0;
			want.bytes_at_soft_limit = 0;
		}
	}
	same(&again, &want);

	n2 = accounting_state_format(&again, FUZZ_NOW, second, sizeof(second));
	if (n2 != n1 || memcmp(first, second, (size_t)n1) != 0)
		abort();
	return 0;
}
