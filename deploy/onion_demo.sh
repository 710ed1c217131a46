#!/usr/bin/env bash
# onion_demo.sh HSRELAY: the mission, shown (deploy/run.sh's main job).
# A private tor 0.4.9 network in network namespaces this script creates
# (tests/interop/onion_net_lib.sh: 3 authorities, 4 tor relays, hsrelay on
# DPDK net_tap, a tor onion service with an HTTP origin, a tor client) in
# which hsrelay is the onion service's only HSDir, one of its introduction
# points and the client's rendezvous point. The client fetches a page and
# a file from the onion service; the script proves each role from the
# client's control port and hsrelay's MetricsPort, then prints the roles
# hsrelay played and the cells per second it spliced and forwarded.
# Needs root; removes everything it made on exit. DEMO_MIB sets the file
# size (default 20).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/interop/onion_net_lib.sh
. "$top/tests/interop/onion_net_lib.sh"

hsrelay=$1
mib=${DEMO_MIB:-20}

onion_net_setup "$hsrelay" demo 7 4
onion_net_make_file demo.bin "$mib" 7
onion_net_start
onion_net_wait_ready 150
onion=$on_onion
hs_fp=$on_hsrelay_fp
onion_net_client_only_via_hsrelay >/dev/null
onion_net_metrics "$tn_work/metrics.0"

# Fresh SOCKS credentials (a new circuit each) until the client's
# rendezvous circuit ends at hsrelay; bandwidth weights make it the first
# choice almost always.
onion_net_fetch_via_rp demo "$tn_work/page" index.html
rp_user=$on_rp_user
rend=$on_rend

t0=$(date +%s%N)
onion_net_curl "$rp_user" "$tn_work/demo.out" "http://$onion/demo.bin" --max-time 120 ||
  fail "the $mib MiB download failed"
ms=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
want=$(sha256sum <"$tn_work/www/demo.bin" | cut -d' ' -f1)
got=$(sha256sum <"$tn_work/demo.out" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the download's SHA-256 $got differs from the file's $want"
onion_net_metrics "$tn_work/metrics.1"

m() { onion_net_metric "$tn_work/metrics.$1" "$2" "${3:-}"; }
delta() { echo $(( $(m 1 "$1" "${2:-}") - $(m 0 "$1" "${2:-}") )); }
stored=$(m 1 hsrelay_hsdir_uploads_total '"stored"')
served=$(m 1 hsrelay_hsdir_fetches_total '"hit"')
est_intro=$(m 1 tor_relay_est_intro_total '"success"')
intro1=$(m 1 tor_relay_intro1_total '"success"')
rend1=$(m 1 tor_relay_rend1_total '"success"')
spliced=$(delta hsrelay_spliced_cells_total)
forwarded=$(( $(delta hsrelay_circuit_cells_total '"forward"') + $(delta hsrelay_circuit_cells_total '"backward"') ))
[ "$stored" -ge 1 ] && [ "$served" -ge 1 ] || fail "hsrelay stored $stored and served $served descriptors"
[ "$est_intro" -ge 1 ] && [ "$intro1" -ge 1 ] || fail "hsrelay has $est_intro intro circuits, relayed $intro1 introductions"
[ "$rend1" -ge 1 ] || fail "hsrelay joined no rendezvous"

echo
echo "=== the onion service http://$onion/ reached through hsrelay (\$$hs_fp)"
echo "  page: $(head -c 120 "$tn_work/page" | tr -s '\n' ' ')"
echo "  $mib MiB file: SHA-256 $want matches, $ms ms ($(( mib * 1024 * 1000 / ms )) KiB/s)"
echo "  the client's rendezvous circuit: $(awk '{print $1, $3}' <<<"$rend")"
echo "=== roles hsrelay played (its MetricsPort)"
echo "  HSDir (the only one):  $stored descriptor uploads stored, $served descriptor fetches served"
echo "  introduction point:    $est_intro intro circuits established, $intro1 INTRODUCE1 relayed as INTRODUCE2"
echo "  rendezvous point:      $rend1 rendezvous joined; the download's circuit ends here"
echo "=== cells per second during the download ($ms ms)"
echo "  spliced across the rendezvous: $spliced cells, $(( spliced * 1000 / ms )) cells/s"
echo "  forwarded as a middle hop:      $forwarded cells, $(( forwarded * 1000 / ms )) cells/s"
echo "=== time a cell spends in hsrelay (hsrelay_cell_latency_seconds, since it started)"
echo "  spliced:   $(latency_summary "$tn_work/metrics.1" splice)"
echo "  forwarded: $(latency_summary "$tn_work/metrics.1" forward)"
echo "  (the tor client and service share this machine's CPUs with hsrelay: the"
echo "  download's rate is theirs; hsrelay-bench measures hsrelay's own cost)"
kill -0 "$on_hsrelay_pid" || fail "hsrelay exited"
testnet_log "done"
echo "PASS onion_demo"
