#!/usr/bin/env bash
# onion_e2e.sh HSRELAY INTRO_FLOOD
# Issue 6's end-to-end test: a real tor 0.4.9 client reaches a real tor
# onion service with hsrelay as its only HSDir, its introduction point and
# the client's rendezvous point, in a private network in namespaces this
# test creates (onion_net_lib.sh: 3 authorities, 4 middle-only tor relays,
# hsrelay on DPDK net_tap, the service with an HTTP origin, a client).
#   1. HSDir: the consensus lists hsrelay as the only HSDir; the service's
#      descriptors are stored there and the client's descriptor fetch goes
#      there (client log, hsrelay log, hsrelay_hsdir_* metrics);
#   2. intro point: the service holds intro circuits at hsrelay
#      (tor_relay_est_intro_total{action="success"}); the client is
#      configured so that hsrelay is the only intro point of the service
#      it may use (ExcludeNodes = the service's other intro points), and
#      hsrelay's tor_relay_intro1_total{action="success"} grows by exactly
#      the number of INTRODUCE1 the client's log says it sent;
#   3. rendezvous point: the client's control port shows its
#      HS_CLIENT_REND circuit joined with hsrelay as the last hop (fresh
#      SOCKS credentials until it is so), tor_relay_est_rend_total and
#      tor_relay_rend1_total{action="success"} grow, and so do the cells
#      hsrelay re-encrypted across the splice, each of which is in the
#      splice latency histogram (hsrelay_cell_latency_seconds{kind="splice"})
#      once it was sent;
#   4. 100 page fetches byte-exact and a 50 MiB download (fixed seed)
#      whose SHA-256 matches, on that circuit through hsrelay; then 8
#      concurrent fetches with fresh credentials (8 more introductions
#      and rendezvous), every join counted by hsrelay as the client's
#      circuits show it;
#   5. an INTRODUCE1 flood from the project's own client (intro_flood.c)
#      to the service's auth keys at hsrelay is cut to the service's
#      HiddenServiceEnableIntroDoS* bucket (rate 5/s, burst 10) by hsrelay:
#      tor_relay_dos_total{type="introduce2_rejected"} grows by the
#      refusals the flood saw, about flood - burst; afterwards a real tor
#      client with fresh credentials still reaches the service.
# Exit 77 (meson: skipped) without root, tor, tor-gencert or curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=onion_net_lib.sh
. "$here/onion_net_lib.sh"

hsrelay=$1
intro_flood=${2:-$(dirname "$hsrelay")/tests/interop/intro_flood}
fetches=${FETCHES:-100}
big_mib=${BIG_MIB:-50}
flood=${FLOOD:-100}
parallel=${PARALLEL:-8}
dos_rate=5
dos_burst=10

on_service_lines=("HiddenServiceEnableIntroDoSDefense 1"
  "HiddenServiceEnableIntroDoSRatePerSec $dos_rate"
  "HiddenServiceEnableIntroDoSBurstPerSec $dos_burst")
onion_net_setup "$hsrelay" onion 6 4
onion_net_make_file onion.bin "$big_mib" 6
onion_net_start
onion_net_wait_ready 150
onion=$on_onion
hs_fp=$on_hsrelay_fp

# 1. The only HSDir.
others=()
for name in "${tn_auths[@]}" "${tn_relays[@]}"; do others+=("${tn_fp[$name]}"); done
testnet_ctl client flags "${others[@]}" >"$tn_work/flags.others" || true
if grep -q ' HSDir' "$tn_work/flags.others"; then
  cat "$tn_work/flags.others"
  fail "a tor relay is HSDir too"
fi
grep -o 'hsdir: stored descriptor .*' "$tn_work/hsrelay.log" | sed 's/^/  hsrelay: /'

# 2. The service's intro points; the client may introduce only at hsrelay.
intro_points=$(onion_net_service_intro_points)
grep -qx "$hs_fp" <<<"$intro_points" || fail "hsrelay is not among the service's intro points"
checked "the service's intro points: $(tr '\n' ' ' <<<"$intro_points")(hsrelay \$$hs_fp)"
excluded=$(onion_net_client_only_via_hsrelay)
checked "client: ExcludeNodes ${excluded:-(none)}; hsrelay is its only usable intro point"

onion_net_metrics "$tn_work/metrics.0"

# 3 + 4. The first fetch: fresh credentials until hsrelay is the RP.
page=$tn_work/www/index.html
onion_net_fetch_via_rp rp "$tn_work/page.0" index.html
rp_user=$on_rp_user
rend=$on_rend
attempt=$on_rp_try
checked "fetch $attempt (SOCKS user $rp_user) byte-exact at $(testnet_elapsed) s; client circuit: $(awk '{print $1, $2, $3, $5, $6}' <<<"$rend")"

# The descriptor came from hsrelay.
fetch_line=$(grep -m1 'Descriptor fetch request for service .* with blinded key .* to directory' \
  "${tn_dir[client]}/info.log") || fail "the client's log has no descriptor fetch request"
case "$fetch_line" in *"$hs_fp"*) ;; *) fail "the client's descriptor fetch went elsewhere: $fetch_line" ;; esac
key=$(sed -n 's/.* with blinded key \([A-Za-z0-9+/]*\) to directory.*/\1/p' <<<"$fetch_line")
grep -q "hsdir: fetch for blinded key $key: served" "$tn_work/hsrelay.log" ||
  fail "hsrelay's log shows no fetch of $key it served"
checked "the client fetched the descriptor (blinded key $key) from hsrelay"

# 100 fetches on the same circuit, byte-exact.
t0=$(date +%s%N)
args=()
for i in $(seq 1 "$fetches"); do args+=(-o "$tn_work/page.$i" "http://$onion/index.html"); done
ip netns exec "$tn_ns" curl -sS --max-time 120 --socks5-hostname "$rp_user:x@127.0.0.1:$tn_socks_port" \
  "${args[@]}" || fail "the $fetches fetches failed"
for i in $(seq 1 "$fetches"); do
  cmp -s "$tn_work/page.$i" "$page" || fail "fetch $i differs from the page"
done
checked "$fetches fetches byte-exact in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# 50 MiB through the same circuit.
t0=$(date +%s%N)
onion_net_curl "$rp_user" "$tn_work/big.out" "http://$onion/onion.bin" --max-time 120 ||
  fail "the ${big_mib} MiB download failed"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
want=$(sha256sum <"$tn_work/www/onion.bin" | cut -d' ' -f1)
got=$(sha256sum <"$tn_work/big.out" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the ${big_mib} MiB download's SHA-256 $got differs from $want"
checked "${big_mib} MiB download: SHA-256 $want matches, $ms ms ($(( big_mib * 1024 * 1000 / (ms + 1) )) KiB/s)"
rend_now=$(onion_net_circuits client HS_CLIENT_REND | grep "SOCKS_USERNAME=\"$rp_user\"" | head -1)
[ "$(awk '{print $1}' <<<"$rend_now")" = "$(awk '{print $1}' <<<"$rend")" ] ||
  fail "the fetches left the rendezvous circuit $(awk '{print $1}' <<<"$rend")"

# Concurrent introductions and rendezvous: fresh credentials each.
pids=()
for i in $(seq 1 "$parallel"); do
  onion_net_curl "par$i" "$tn_work/par.$i" "http://$onion/index.html" --max-time 90 \
    2>"$tn_work/par.$i.err" &
  pids+=($!)
done
for i in $(seq 1 "$parallel"); do
  wait "${pids[$((i - 1))]}" || fail "parallel fetch $i failed: $(head -c 200 "$tn_work/par.$i.err")"
  cmp -s "$tn_work/par.$i" "$page" || fail "parallel fetch $i differs from the page"
done
onion_net_circuits client HS_CLIENT_REND >"$tn_work/rend_circuits"
joined=0
for i in $(seq 1 "$parallel"); do
  line=$(grep "SOCKS_USERNAME=\"par$i\"" "$tn_work/rend_circuits" | grep HSCR_JOINED | head -1) ||
    fail "no joined rendezvous circuit for parallel fetch $i"
  [ "$(on_last_hop "$line")" != "$hs_fp" ] || joined=$((joined + 1))
done
checked "$parallel concurrent fetches with fresh credentials byte-exact; $joined of them with hsrelay as rendezvous point"

onion_net_metrics "$tn_work/metrics.1"
m() { onion_net_metric "$tn_work/metrics.$1" "$2" "${3:-}"; }
delta() { echo $(( $(m 1 "$1" "${2:-}") - $(m 0 "$1" "${2:-}") )); }
# The client's introductions: each names its intro point, each
# successful one logs the ACK.
introductions=$(grep -c 'handle_introduce_ack_success(): Received INTRODUCE_ACK ack' \
  "${tn_dir[client]}/info.log" || true)
grep -o 'Chose \$[0-9A-F]\{40\}.* as intro point' "${tn_dir[client]}/info.log" >"$tn_work/intro_choices" || true
if grep -v "Chose \\\$$hs_fp" "$tn_work/intro_choices"; then
  fail "the client chose another intro point than hsrelay"
fi
echo "  metrics: est_intro success $(m 1 tor_relay_est_intro_total success) intro1 success +$(delta tor_relay_intro1_total success) est_rend success +$(delta tor_relay_est_rend_total success) rend1 success +$(delta tor_relay_rend1_total success) spliced +$(delta hsrelay_spliced_cells_total) hsdir hits $(m 1 hsrelay_hsdir_fetches_total hit) stored $(m 1 hsrelay_hsdir_uploads_total stored)"
echo "  client log: $(wc -l <"$tn_work/intro_choices") intro point choice(s), all hsrelay; $introductions INTRODUCE_ACK success"
[ "$(m 1 hsrelay_hsdir_uploads_total '"stored"')" -ge 1 ] || fail "metrics: no descriptor stored"
[ "$(m 1 hsrelay_hsdir_fetches_total '"hit"')" -ge 1 ] || fail "metrics: no descriptor fetch served"
[ "$(m 1 tor_relay_est_intro_total '"success"')" -ge 1 ] || fail "metrics: no intro circuit established"
[ "$introductions" -ge 1 ] || fail "the client's log shows no acknowledged introduction"
[ "$(delta tor_relay_intro1_total '"success"')" = "$introductions" ] ||
  fail "hsrelay relayed $(delta tor_relay_intro1_total '"success"') introductions, the client made $introductions"
[ "$(delta tor_relay_est_rend_total '"success"')" -ge 1 ] || fail "metrics: no rendezvous established"
[ "$(delta tor_relay_est_rend_total '"success"')" -ge $((joined + 1)) ] ||
  fail "metrics: fewer rendezvous established than the client's circuits show"
[ "$(delta tor_relay_rend1_total '"success"')" = $((joined + 1)) ] ||
  fail "metrics: $(delta tor_relay_rend1_total '"success"') rendezvous joined, the client shows $((joined + 1))"
[ "$(delta hsrelay_spliced_cells_total)" -ge $(( big_mib * 1048576 / 498 )) ] ||
  fail "metrics: fewer spliced cells than the download needs"
# Every spliced cell hsrelay sent is in the splice latency histogram; one
# that was spliced but never sent (its link gone: drops no_link) is not.
# After the transfers nothing waits in a queue, so the two are equal
# unless such drops explain the difference.
spliced=$(delta hsrelay_spliced_cells_total)
measured=$(delta hsrelay_cell_latency_seconds_count '"splice"')
no_link=$(delta hsrelay_drops_total '"no_link"')
[ "$measured" -gt 0 ] || fail "metrics: no cell in the splice latency histogram"
[ "$measured" -le "$spliced" ] && [ "$measured" -ge $((spliced - no_link)) ] ||
  fail "metrics: $measured cells in the splice latency histogram, $spliced spliced ($no_link cells dropped for a gone link)"
[ "$(m 1 hsrelay_cell_latency_seconds_bucket 'kind="splice",le="+Inf"')" = \
  "$(m 1 hsrelay_cell_latency_seconds_count '"splice"')" ] ||
  fail "metrics: the splice latency histogram's +Inf bucket is not its count"
checked "splice latency: $measured of $spliced spliced cells measured ($no_link no_link drops): $(latency_summary "$tn_work/metrics.1" splice); forward: $(latency_summary "$tn_work/metrics.1" forward)"

checked "hsrelay: HSDir (descriptors stored, fetch served), intro point (every client introduction relayed), rendezvous point (joined, $(delta hsrelay_spliced_cells_total) cells spliced)"

# 5. INTRODUCE1 flood at hsrelay, addressed to the service's auth keys.
mapfile -t keys < <(onion_net_auth_keys_hex)
[ "${#keys[@]}" -ge 1 ] || fail "hsrelay logged no auth key"
flood_ok=1
mkdir -m 0700 "$tn_work/flood_client"
ip netns exec "$tn_ns" "$intro_flood" "$tn_seat_addr" "$tn_seat_orport" "${tn_dir[hsrelay]}" \
  "$tn_work/flood_client" "$flood" "${keys[@]}" >"$tn_work/flood.out" 2>&1 || flood_ok=0
grep -E '^(flood|total|FAIL)' "$tn_work/flood.out" | sed 's/^/  /'
[ "$flood_ok" = 1 ] || { tail -5 "$tn_work/flood.out"; fail "intro_flood failed"; }
onion_net_metrics "$tn_work/metrics.2"
total=$(grep '^total: ' "$tn_work/flood.out")
sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$total")
refused=$(sed -n 's/.* refused=\([0-9]*\).*/\1/p' <<<"$total")
ms=$(sed -n 's/.* ms=\([0-9]*\).*/\1/p' <<<"$total")
rejected=$(( $(m 2 tor_relay_dos_total introduce2_rejected) - $(m 1 tor_relay_dos_total introduce2_rejected) ))
limited=$(( $(m 2 tor_relay_intro1_total rate_limited) - $(m 1 tor_relay_intro1_total rate_limited) ))
unknown=$(( $(m 2 tor_relay_intro1_total unknown_service) - $(m 1 tor_relay_intro1_total unknown_service) ))
echo "  metrics: introduce2_rejected +$rejected, intro1 rate_limited +$limited, unknown_service +$unknown"
[ "$rejected" = "$limited" ] || fail "introduce2_rejected +$rejected but rate_limited +$limited"
[ $(( rejected + unknown )) = "$refused" ] ||
  fail "the flood saw $refused refusals, hsrelay counted $rejected rate-limited + $unknown unknown"
# Each key's bucket lets at most burst + rate per started second through.
allowed=$(( ${#keys[@]} * (dos_burst + dos_rate * (ms / 1000 + 1)) ))
[ "$rejected" -ge $(( sent - allowed - unknown )) ] ||
  fail "only $rejected of $sent INTRODUCE1 rate-limited (at most $allowed may pass)"
[ "$rejected" -gt 0 ] || fail "nothing rate-limited"
# The INTRODUCE2 that passed reached the service, which could not decrypt
# their random encrypted part (hs_circuit.c get_introduce2_keys_and_verify_mac).
relayed=$(sed -n 's/.* relayed=\([0-9]*\).*/\1/p' <<<"$total")
intro2_seen() { [ "$(grep -c 'Could not get valid INTRO2 keys' "${tn_dir[hs]}/notice.log")" -ge "$1" ]; }
wait_until 5 intro2_seen "$relayed" ||
  fail "the service logged $(grep -c 'Could not get valid INTRO2 keys' "${tn_dir[hs]}/notice.log") undecryptable INTRODUCE2, the flood had $relayed relayed"
checked "flood of $sent INTRODUCE1 in $ms ms: $rejected rate-limited at hsrelay (introduce2_rejected), $unknown for retired keys; at most $allowed could pass; the service got the $relayed relayed"

# A legitimate client still gets through once the flood stops (the
# buckets refill at $dos_rate/s).
sleep 2
ok=0
for attempt in $(seq 1 5); do
  if onion_net_curl "after$attempt" "$tn_work/page.after" "http://$onion/index.html" --max-time 60 \
      2>"$tn_work/curl.err" && cmp -s "$tn_work/page.after" "$page"; then
    ok=1
    break
  fi
  testnet_log "fetch after the flood, attempt $attempt: $(head -c 200 "$tn_work/curl.err")"
done
[ "$ok" = 1 ] || fail "no fetch of the onion service after the flood"
onion_net_metrics "$tn_work/metrics.3"
after=$(( $(m 3 tor_relay_intro1_total '"success"') - $(m 2 tor_relay_intro1_total '"success"') ))
[ "$after" -ge 1 ] || fail "the fetch after the flood did not introduce through hsrelay"
checked "after the flood a new client circuit (SOCKS user after$attempt) fetched the page byte-exact, introduced through hsrelay"

kill -0 "$on_hsrelay_pid" || fail "hsrelay exited"
testnet_log "done"
echo "PASS onion_e2e"
