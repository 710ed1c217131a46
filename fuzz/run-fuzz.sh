#!/usr/bin/env bash
# run-fuzz.sh TARGET SEED_DIR WORK_DIR SECONDS
# Runs one libFuzzer target for a bounded time. New inputs go to WORK_DIR so
# the checked-in seed corpus is never modified; any crash, leak, sanitizer
# report or timeout makes libFuzzer (and so this test) exit non-zero.
# -error_exitcode=1: libFuzzer's default (77) is meson's "skipped", which
# would hide a crash as a skip.
set -euo pipefail
target=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work" "$seeds"
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work" "$seeds"
