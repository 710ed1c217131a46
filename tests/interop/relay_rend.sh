#!/usr/bin/env bash
# relay_rend.sh HSRELAY REND_CLIENT [WORKERS]
# hsrelay as a rendezvous point over the network: hsrelay runs alone (no
# tor network, as in relay_hostile.sh) on DPDK net_tap in a network
# namespace this test creates, at 10.77.8.2:9001; rend_client
# (rend_client.c) connects from the namespace's kernel side and plays both
# the onion client and the service over one-hop circuits: joins, thousands
# of cells each way through the splice under an end-to-end layer, many
# pairs at once, duplicate and unknown cookies, DESTROY both ways.
# Then the MetricsPort must show what the client did (tor_relay_est_rend_total,
# tor_relay_rend1_total, hsrelay_spliced_cells_total, and as many cells in
# the splice latency histogram hsrelay_cell_latency_seconds) and hsrelay must
# stop on SIGTERM with status 0 and nothing lost.
# With WORKERS=2 hsrelay runs two workers on a multi-queue tap; the client
# opens more links so that both workers own some, pairs then join circuits
# of different workers, and the cells that crossed between workers for a
# splice (CROSS_TO_SPLICE) must show in hsrelay's exit counters.
# Exit 77 (meson: skipped) without root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

hsrelay=$1
client=$2
workers=${3:-1}
require_root

ns=hsrend-$$
tap=hsrend$$
orport=9001
metrics_port=9036
begin_test 8 rend hsrelay_pid
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay" "$work/client"
standalone_config rendtarget "$workers" "MetricsPort 127.0.0.1:$metrics_port" \
  "MetricsPortPolicy accept 127.0.0.1"
standalone_start

# Two workers: 8 links for the pairs (the kernel spreads them over the
# queues by flow hash), 24 pairs so that many join circuits of different
# links.
if [ "$workers" -gt 1 ]; then args=(--links 8 --pairs 24); else args=(--links 4 --pairs 16); fi
rc=0
ip netns exec "$ns" timeout 140 "$client" "$ip_ours" "$orport" "$work/hsrelay" "$work/client" \
  "${args[@]}" >"$work/client.out" 2>&1 || rc=$?
grep -v '^  \[' "$work/client.out" || true
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/client.out" | grep '^  \[' >&2 || true
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  kill -TERM "$hsrelay_pid" 2>/dev/null && wait "$hsrelay_pid" || true
  hsrelay_pid=
  grep '^hsrelay: stats' "$work/hsrelay.out" | sed 's/^/  /' >&2
  fail "rend_client exited $rc"
fi

# metric FAMILY [LABEL_MATCH]: the family's samples summed over workers.
metric() {
  awk -v f="$1" -v m="${2:-}" '$1 ~ "^"f"({|$)" && index($1, m) {s += $2} END {print s + 0}' \
    "$work/metrics"
}
fetch_metrics() {
  ip netns exec "$ns" curl -s --max-time 5 "http://127.0.0.1:$metrics_port/metrics" \
    >"$work/metrics"
}
metrics_match() {
  fetch_metrics || return 1
  [ "$(metric tor_relay_est_rend_total 'action="success"')" = "$(want est_rend_success)" ] &&
    [ "$(metric tor_relay_rend1_total 'action="success"')" = "$(want rend1_success)" ] &&
    [ "$(metric hsrelay_spliced_cells_total)" = "$(want spliced_cells)" ] &&
    latency_match
}
# Every spliced cell was sent on a link: each is in the splice latency
# histogram once (+Inf bucket = _count); the circuits are one-hop, so no
# cell was forwarded and the forward histogram stays empty.
latency_match() {
  [ "$(metric hsrelay_cell_latency_seconds_count 'kind="splice"')" = "$(want spliced_cells)" ] &&
    [ "$(metric hsrelay_cell_latency_seconds_bucket 'kind="splice",le="+Inf"')" = \
      "$(want spliced_cells)" ] &&
    [ "$(metric hsrelay_cell_latency_seconds_count 'kind="forward"')" = 0 ]
}
# The MetricsPort shows the workers' counters of their last report (about
# once a second).
if ! wait_until 10 metrics_match; then
  grep -E '^(tor_relay_est_rend_total|tor_relay_rend1_total|hsrelay_spliced_cells_total|hsrelay_cell_latency_seconds_count)' \
    "$work/metrics" | sed 's/^/  metrics: /' >&2 || true
  fail "MetricsPort does not match the client: $(grep '^expect: ' "$work/client.out")"
fi
grep -E '^(tor_relay_est_rend_total|tor_relay_rend1_total|hsrelay_spliced_cells_total)' \
  "$work/metrics" | grep -v ' 0$' | sed 's/^/  metrics: /'
for check in "est_rend_total duplicate_cookie est_rend_duplicate_cookie" \
             "rend1_total unknown_cookie rend1_unknown_cookie"; do
  set -- $check
  got=$(metric "tor_relay_$1" "action=\"$2\"")
  [ "$got" = "$(want "$3")" ] || fail "tor_relay_$1{action=\"$2\"} is $got, the client caused $(want "$3")"
done
for action in unsuitable_circuit single_hop malformed circuit_dead; do
  got=$(metric tor_relay_est_rend_total "action=\"$action\"")
  [ "$got" = 0 ] || fail "tor_relay_est_rend_total{action=\"$action\"} is $got"
done
checked "MetricsPort: est_rend success=$(want est_rend_success)" \
  "duplicate_cookie=$(want est_rend_duplicate_cookie), rend1 success=$(want rend1_success)" \
  "unknown_cookie=$(want rend1_unknown_cookie), spliced cells=$(want spliced_cells), as the client did"
checked "splice latency (hsrelay_cell_latency_seconds): $(latency_summary "$work/metrics" splice)"

# The client closed every link; let hsrelay see the FINs.
sleep 0.3
standalone_stop

sum_stat() {
  local total=0 w v
  for ((w = 0; w < workers; w++)); do
    v=$(stat "$1 $w" "$2")
    [ -n "$v" ] || fail "hsrelay printed no $2 for worker $w"
    total=$((total + v))
  done
  echo "$total"
}
[ "$(sum_stat worker links_accepted)" = "$(want links)" ] ||
  fail "hsrelay accepted $(sum_stat worker links_accepted) links, the client opened $(want links)"
for name in drop_no_mbuf drop_events cross_ring_full circuits_open drop_bad_record drop_bad_cell; do
  [ "$(sum_stat worker "$name")" = 0 ] || fail "$name=$(sum_stat worker "$name")"
done
# Circuits the worker closed itself for a protocol violation (a cell not
# recognized on a circuit that ends here, e.g. before its join): none.
[ "$(sum_stat "circuits worker" closed_protocol)" = 0 ] ||
  fail "closed_protocol=$(sum_stat "circuits worker" closed_protocol)"
[ "$(stat control cross_lost)" = 0 ] || fail "cross_lost=$(stat control cross_lost)"
# Waiting circuits that closed before a join were reported by the workers
# (their cookies freed at once, scenario 7).
[ "$(stat "rendezvous control" closed_waiting)" = "$(want closed_waiting)" ] ||
  fail "closed_waiting=$(stat "rendezvous control" closed_waiting), the client closed $(want closed_waiting) waiting circuits"
[ "$(stat "rendezvous control" waiting)" = 0 ] ||
  fail "$(stat "rendezvous control" waiting) cookies still waiting at the end"
checked "links=$(want links) accepted; no mbuf, event, cross-ring drops; no circuit left open"

if [ "$workers" -gt 1 ]; then
  split=""
  for ((w = 0; w < workers; w++)); do
    split+=" worker$w: links=$(stat "worker $w" links_accepted)"
    split+=" spliced=$(stat "rendezvous worker $w" spliced)"
    split+=" splice_cells_in=$(stat "rendezvous worker $w" cross_splice_cells_in)"
    split+=" splice_joins_in=$(stat "rendezvous worker $w" cross_splice_joins_in)"
  done
  echo "  split:$split"
  joins=$(sum_stat "rendezvous worker" cross_splice_joins_in)
  cells=$(sum_stat "rendezvous worker" cross_splice_cells_in)
  [ "$joins" -gt 0 ] || fail "no splice joined circuits of two workers (links per worker:$split)"
  [ "$cells" -gt 0 ] || fail "no cell crossed between workers for a splice"
  checked "$joins joins and $cells cells crossed between workers for splices (CROSS_TO_SPLICE), every cell arrived"
fi
echo "PASS relay_rend ($workers worker(s)) in $(( ($(date +%s%N) - start) / 1000000 )) ms"
