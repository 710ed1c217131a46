#!/usr/bin/env bash
# relay_ratelimit.sh HSRELAY RATELIMIT_CLIENT
# BandwidthRate and BandwidthBurst are enforced on hsrelay's links as tor
# enforces them (a read and a write token bucket, dataplane/token_bucket.h;
# tor connection.c). hsrelay runs alone on DPDK net_tap in a network
# namespace this test creates, at 10.77.9.2/24 with DPDKGateway 10.77.9.1,
# BandwidthRate and BandwidthBurst 256 KBytes. The namespace's kernel side
# has 10.77.9.1 (internal, tor_addr_is_internal) and 198.18.0.1 (the RFC
# 2544 benchmarking range, which tor does not call internal; hsrelay
# reaches it through the gateway). ratelimit_client joins a rendezvous
# pair: client end on link A from 10.77.9.1, service end on link B from
# SOURCE_B; then CELLS full cells cross the splice one way, each checked
# intact and in order.
#  1. TestingTorNetwork makes CountPrivateBandwidth 1 (tor's testnet
#     defaults): both links count. Each direction takes at least what the
#     buckets allow for its bytes (burst, then the rate) and not much more.
#  2. SIGHUP with CountPrivateBandwidth 0: link A (internal) is not limited,
#     link B (198.18.0.1) is. a_to_b is held by the write bucket alone (the
#     read bucket is not emptied), b_to_a by the read bucket alone.
#  3. The same with link B from 10.77.9.1 too: nothing is limited, a run
#     takes a fraction of the time and empties no bucket.
#  4. SIGHUP with RelayBandwidthRate 128 KBytes (tor's bucket for relayed
#     traffic, which every OR link carries): b_to_a from 198.18.0.1 again,
#     now held by the relayed read bucket at half the rate, the global
#     buckets not emptied.
# Then hsrelay must stop on SIGTERM with status 0.
# Exit 77 (meson: skipped) without root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

hsrelay=$1
client=$2
require_root

ns=hsrate-$$
tap=hsrate$$
orport=9001
metrics_port=9037
external=198.18.0.1
rate=262144
cells=2500
step_ms=100
begin_test 9 rate hsrelay_pid
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay"
standalone_config ratetarget 1 "BandwidthRate 256 KBytes" "BandwidthBurst 256 KBytes" \
  "DPDKGateway $ip_kernel" "MetricsPort 127.0.0.1:$metrics_port" \
  "MetricsPortPolicy accept 127.0.0.1"
standalone_start
ip -n "$ns" addr add "$external/32" dev "$tap"
grep -q "bandwidth: reads and writes limited to $rate bytes/s, bursts of $rate bytes .* links to internal addresses count" \
  "$work/hsrelay.err" || { grep 'bandwidth:' "$work/hsrelay.err" >&2 || true; fail "no rate limit at start"; }
checked "$(grep -o 'bandwidth: .*' "$work/hsrelay.err" | head -1)"

# counters: read_reached write_reached relayed_read_reached from the
# MetricsPort, once they stopped moving (workers report about once a
# second).
counters() {
  local before="" now=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    standalone_metrics "$metrics_port"
    now="$(metric 'tor_relay_load_global_rate_limit_reached_total{side="read"}') $(metric 'tor_relay_load_global_rate_limit_reached_total{side="write"}') $(metric 'hsrelay_bandwidth_limit_reached_total{worker="0",bucket="relayed_read"}')"
    [ "$now" != "$before" ] || break
    before=$now
  done
  [ "$(wc -w <<<"$now")" = 3 ] ||
    fail "the MetricsPort lacks tor_relay_load_global_rate_limit_reached_total or hsrelay_bandwidth_limit_reached_total"
  echo "$now"
}

# run NAME SOURCE_B DIRECTION: one client run; sets seconds and bytes.
runs=0
run_client() {
  local name=$1 rc=0 line
  runs=$((runs + 1))
  mkdir -m 0700 "$work/client$runs"
  # A full bucket for every run: idle for longer than burst / rate.
  sleep 1.2
  ip netns exec "$ns" timeout 120 "$client" "$ip_ours" "$orport" "$work/hsrelay" \
    "$work/client$runs" "$2" "$3" "$cells" >"$work/$name.out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -30 "$work/$name.out" >&2
    tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
    fail "ratelimit_client ($name) exited $rc"
  fi
  line=$(grep '^run ' "$work/$name.out") || fail "ratelimit_client ($name) printed no result"
  bytes=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$line")
  seconds=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
}

# limited NAME SOURCE_B DIRECTION: the run must take at least the time the
# buckets allow for its bytes: the burst at once, then the rate, with
# refills in whole steps (one more may fall inside the run) and 64 KiB of
# debt (the last segment or record, what TLS adds); and not more than
# twice the rate's time plus 2 s (the limiter must not starve a link).
limited() {
  local min max
  run_client "$@"
  min=$(awk -v b="$bytes" -v r="$rate" -v s="$step_ms" \
    'BEGIN { m = (b - r - 65536) / r - s / 1000; print (m > 0 ? m : 0) }')
  max=$(awk -v b="$bytes" -v r="$rate" 'BEGIN { print 2 * (b - r) / r + 2 }')
  awk -v t="$seconds" -v m="$min" 'BEGIN { exit !(t >= m) }' ||
    fail "$1: $bytes bytes in $seconds s: faster than the $rate bytes/s limit allows (at least $min s)"
  awk -v t="$seconds" -v m="$max" 'BEGIN { exit !(t <= m) }' ||
    fail "$1: $bytes bytes took $seconds s, more than $max s at $rate bytes/s"
  checked "$1: $bytes bytes in $seconds s (the limit allows it in no less than $min s)"
}

read -r r0 w0 x0 <<<"$(counters)"

# 1. Both links count.
limited limited_a_to_b "$external" a_to_b
limited limited_b_to_a "$external" b_to_a
read -r r1 w1 x1 <<<"$(counters)"
[ "$r1" -gt "$r0" ] || fail "CountPrivateBandwidth 1: the read bucket never ran empty"
checked "the read bucket ran empty $((r1 - r0)) times, the write bucket $((w1 - w0)) times"

# 2. CountPrivateBandwidth 0: A (internal) is free, B (198.18.0.1) is not.
echo "CountPrivateBandwidth 0" >>"$conf"
kill -HUP "$hsrelay_pid"
wait_until 10 grep -q 'SIGHUP: CountPrivateBandwidth changed: applied' "$work/hsrelay.err" ||
  { tail -20 "$work/hsrelay.err" >&2; fail "SIGHUP did not apply CountPrivateBandwidth"; }
wait_until 10 grep -q 'bandwidth: .* links to internal addresses are not limited' "$work/hsrelay.err" ||
  fail "the workers were not told that internal links are not limited"
checked "SIGHUP applied CountPrivateBandwidth 0"
limited mixed_a_to_b "$external" a_to_b
read -r r2 w2 x2 <<<"$(counters)"
[ "$w2" -gt "$w1" ] && [ "$r2" = "$r1" ] ||
  fail "a_to_b (read from internal A, written to external B): read bucket emptied $((r2 - r1)) times, write bucket $((w2 - w1)); only the write bucket may limit it"
checked "a_to_b was held by the write bucket alone (emptied $((w2 - w1)) times)"
limited mixed_b_to_a "$external" b_to_a
read -r r3 w3 x3 <<<"$(counters)"
[ "$r3" -gt "$r2" ] && [ "$w3" = "$w2" ] ||
  fail "b_to_a (read from external B, written to internal A): read bucket emptied $((r3 - r2)) times, write bucket $((w3 - w2)); only the read bucket may limit it"
checked "b_to_a was held by the read bucket alone (emptied $((r3 - r2)) times)"

# 3. Both links internal: not limited.
run_client internal_a_to_b "$ip_kernel" a_to_b
read -r r4 w4 x4 <<<"$(counters)"
quick=$(awk -v b="$bytes" -v r="$rate" 'BEGIN { print (b - r) / r / 3 }')
awk -v t="$seconds" -v q="$quick" 'BEGIN { exit !(t < q) }' ||
  fail "with both links internal $bytes bytes took $seconds s (limited: no less than 3x $quick s)"
[ "$r4" = "$r3" ] && [ "$w4" = "$w3" ] ||
  fail "with both links internal a bucket ran empty (read $((r4 - r3)), write $((w4 - w3)) times)"
checked "both links internal: $bytes bytes in $seconds s, no bucket emptied"

# 4. RelayBandwidthRate: a second, lower limit on relayed traffic.
echo "RelayBandwidthRate 128 KBytes" >>"$conf"
kill -HUP "$hsrelay_pid"
wait_until 10 grep -q 'bandwidth: relayed traffic limited to 131072 bytes/s, bursts of 131072 bytes' \
  "$work/hsrelay.err" || { tail -20 "$work/hsrelay.err" >&2; fail "SIGHUP did not apply RelayBandwidthRate"; }
rate=131072
cells=1200
limited relayed_b_to_a "$external" b_to_a
read -r r5 w5 x5 <<<"$(counters)"
[ "$x5" -gt "$x4" ] && [ "$r5" = "$r4" ] && [ "$w5" = "$w4" ] ||
  fail "RelayBandwidthRate: relayed read bucket emptied $((x5 - x4)) times, global read $((r5 - r4)), write $((w5 - w4)); only the relayed one may limit it"
checked "b_to_a was held by the relayed read bucket alone (emptied $((x5 - x4)) times)"

standalone_stop
[ "$(stat "bandwidth worker 0" read_limit_reached)" = "$r5" ] &&
  [ "$(stat "bandwidth worker 0" write_limit_reached)" = "$w5" ] &&
  [ "$(stat "bandwidth worker 0" relayed_read_limit_reached)" = "$x5" ] ||
  fail "exit stats $(grep '^hsrelay: stats bandwidth' "$work/hsrelay.out"), the MetricsPort said read $r5 write $w5 relayed read $x5"
echo "PASS relay_ratelimit in $(( ($(date +%s%N) - start) / 1000000 )) ms"
