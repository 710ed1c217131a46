#!/usr/bin/env bash
# hsdir_testnet.sh HSRELAY
# hsrelay as the only HSDir of a private tor 0.4.9 network
# (tests/interop/testnet/lib.sh, in network namespaces this test creates):
# 3 tor authorities that vote hsrelay, and nobody else, HSDir
# (TestingDirAuthVoteHSDir $hsrelay, TestingDirAuthVoteHSDirIsStrict 1),
# 3 tor relays, hsrelay in the seat on DPDK net_tap, a tor onion service
# whose port 80 is the HTTP origin, and a tor client.
#   1. the consensus lists hsrelay Running, Valid, HSDir (its descriptor
#      says HSDir=2 and hidden-service-dir), also in the client's;
#   2. the onion service starts once that is so; it uploads its
#      descriptors: the service's log shows the upload request to hsrelay
#      and a 200 answer, hsrelay's log names each stored blinded key;
#   3. the client fetches the onion service's page byte for byte: its log
#      shows the descriptor fetch for a blinded key hsrelay stored, sent to
#      hsrelay, answered 200; intro and rendezvous points are tor relays
#      (hsrelay offers neither role);
#   4. a one-hop (non-anonymous) BEGIN_DIR fetch of that blinded key from
#      an unauthenticated client (begindir_client) is refused as tor refuses
#      it: 503 "Rejecting single hop HS v3 descriptor request";
#   5. hsrelay's MetricsPort counts the stored uploads, the fetch hits and
#      the single-hop refusal.
# Exit 77 (meson: skipped) without root, tor, tor-gencert or curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/testnet/lib.sh"

hsrelay=$1
begindir_client=${2:-$(dirname "$hsrelay")/tests/interop/begindir_client}
tap=hsdtap$$

testnet_begin hsdir 3
"$tn_tor" --version | head -1
testnet_generate 3
testnet_node_keys hsrelay
hsdir_fp=${tn_fp[hsrelay]}
# Only hsrelay is HSDir; its microdescriptor carries its Ed25519 id.
# hsrelay offers no intro or rendezvous role yet, but tor 0.4.9 does not
# look at HSIntro/HSRend when it picks those (routerlist.c
# router_can_choose_node): keep hsrelay out of them by leaving it without
# Stable. Intro points need uptime (hs_service.c pick_intro_point,
# CRN_NEED_UPTIME), and so does the client's rendezvous point with port 80
# in LongLivedPorts; tor relaxes that only when no Stable relay is left.
# Without a guaranteed uptime (lib.sh sets 0), Stable means an uptime of
# at least the median (voteflags.c, real_uptime = the descriptor's uptime
# + the time since it was published): hsrelay, started once the tor
# relays are listed, stays below, and so do the two youngest tor relays,
# leaving 4 Stable ones. hs_intro_num_extra=0: the service picks 3 intro
# points per descriptor, not 5, so it never runs out of Stable ones.
for a in "${tn_auths[@]}"; do
  printf '%s\n' "TestingDirAuthVoteHSDir \$$hsdir_fp" "TestingDirAuthVoteHSDirIsStrict 1" \
    "AuthDirVoteStableGuaranteeMinUptime 30 days" "ConsensusParams hs_intro_num_extra=0" \
    >>"${tn_dir[$a]}/torrc"
done
printf '%s\n' "Log info file ${tn_dir[client]}/info.log" "LongLivedPorts 80" \
  >>"${tn_dir[client]}/torrc"

conf=$tn_work/hsrelay.conf
tn_hsrelay=$hsrelay
testnet_hsrelay_conf "$conf" 1 "$tap" 9036 hsrelay

# The onion service (started in step 2): port 80 is the origin.
tn_node hs "$tn_ns" 5340
{ tn_common_torrc hs; testnet_network_torrc
  printf '%s\n' "SocksPort 0" "Log info file ${tn_dir[hs]}/info.log" \
    "LearnCircuitBuildTimeout 0" "CircuitBuildTimeout 30" "PathsNeededToBuildCircuits 0.67" \
    "HiddenServiceDir ${tn_dir[hs]}/hidden_service" \
    "HiddenServicePort 80 $tn_addr:$tn_origin_port"; } >"${tn_dir[hs]}/torrc"

testnet_start_origin
testnet_start_network
tor_fps=()
for name in "${tn_auths[@]}" "${tn_relays[@]}"; do tor_fps+=("${tn_fp[$name]}"); done
testnet_wait_running a1 120 "${tor_fps[@]}" >/dev/null ||
  fail "a1's consensus does not list the tor relays Running+Valid"
testnet_log "the tor relays are listed; starting hsrelay"
testnet_spawn "$tn_ns" "$tn_work/hsrelay.log" "$hsrelay" -f "$conf"
hsrelay_pid=${tn_pids[-1]}
wait_until 30 ip -n "$tn_ns" link show "$tap" >/dev/null 2>&1 ||
  { cat "$tn_work/hsrelay.log"; fail "hsrelay's tap $tap did not appear"; }
testnet_attach_link "$tap"
testnet_log "hsrelay \$$hsdir_fp started on $tn_seat_addr:$tn_seat_orport ($tap)"

# 1. hsrelay Running, Valid and HSDir, the only HSDir.
wait_hsdir() {
  local node=$1 limit=$2 end
  end=$(( $(date +%s) + limit ))
  until testnet_ctl "$node" flags "$hsdir_fp" 2>/dev/null | grep -q ' Running .*HSDir\| HSDir .*Running'; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 1
  done
}
if ! wait_hsdir a1 180; then
  testnet_ctl a1 flags "$hsdir_fp" || true
  tail -30 "$tn_work/hsrelay.log"
  fail "a1's consensus does not list hsrelay Running and HSDir"
fi
checked "a1's consensus: $(testnet_ctl a1 flags "$hsdir_fp" | cut -d' ' -f2-) at $(testnet_elapsed) s"
testnet_ctl a1 flags "$hsdir_fp" | grep -q ' Stable' &&
  fail "hsrelay is Stable: it could be picked as an intro point"
testnet_ctl a1 flags "${tor_fps[@]}" >"$tn_work/flags.others" || true
if grep -q ' HSDir' "$tn_work/flags.others"; then
  cat "$tn_work/flags.others"
  fail "another relay is HSDir (TestingDirAuthVoteHSDirIsStrict)"
fi
wait_hsdir client 90 || fail "the client's consensus does not list hsrelay HSDir"
testnet_wait_bootstrap 90 || fail "the client did not bootstrap"
checked "the client's consensus lists hsrelay HSDir, client bootstrapped at $(testnet_elapsed) s"
grep -o 'hsdir: listed HSDir; .*' "$tn_work/hsrelay.log" | tail -1 | cut -c1-160 | sed 's/^/  hsrelay: /' || true

# 2. The onion service publishes to hsrelay.
testnet_start_tor hs
testnet_log "onion service started"
wait_until 120 grep -q 'hsdir: stored descriptor for blinded key' "$tn_work/hsrelay.log" || {
  grep -E 'upload|Upload|descriptor' "${tn_dir[hs]}/info.log" | tail -10
  grep hsdir "$tn_work/hsrelay.log" | tail -10
  fail "hsrelay stored no descriptor"
}
onion=$(cat "${tn_dir[hs]}/hidden_service/hostname")
wait_until 30 grep -q 'Uploading hidden service descriptor: finished with status 200' \
  "${tn_dir[hs]}/info.log" || fail "the service's log shows no upload answered 200"
grep -q "initiated upload request to \\\$$hsdir_fp" "${tn_dir[hs]}/info.log" ||
  grep -q "upload request to .*$hsdir_fp" "${tn_dir[hs]}/info.log" ||
  fail "the service's log does not name hsrelay as the HSDir it uploaded to"
grep -o 'initiated upload request to [^ ]*' "${tn_dir[hs]}/info.log" | sort | uniq -c | sed 's/^/  service: /'
grep -o 'hsdir: stored descriptor .*' "$tn_work/hsrelay.log" | sed 's/^/  hsrelay: /'
checked "$onion: the service uploaded to hsrelay (200) and hsrelay stored $(grep -c 'hsdir: stored descriptor' "$tn_work/hsrelay.log") descriptor(s) at $(testnet_elapsed) s"

# 3. The client reaches the onion service, with the descriptor from hsrelay.
ok=0
for attempt in $(seq 1 60); do
  if ip netns exec "$tn_ns" curl -s --max-time 30 --socks5-hostname "u$attempt:p@127.0.0.1:$tn_socks_port" \
      -o "$tn_work/onion.page" "http://$onion/index.html" &&
      cmp -s "$tn_work/onion.page" "$tn_work/www/index.html"; then
    ok=1
    break
  fi
  sleep 1
done
[ "$ok" = 1 ] || {
  grep -E 'hs_client|descriptor|HSDir|rendezvous' "${tn_dir[client]}/info.log" | tail -20
  fail "the client could not fetch http://$onion/index.html"
}
checked "the client fetched http://$onion/index.html byte-exact ($(wc -c <"$tn_work/onion.page") bytes) at $(testnet_elapsed) s, attempt $attempt"
fetch_line=$(grep -m1 'Descriptor fetch request for service .* with blinded key .* to directory' \
  "${tn_dir[client]}/info.log") || fail "the client's log has no descriptor fetch request"
echo "  client: ${fetch_line#*] }"
case "$fetch_line" in *"$hsdir_fp"*) ;; *) fail "the client's descriptor fetch went to another directory" ;; esac
key=$(sed -n 's/.* with blinded key \([A-Za-z0-9+/]*\) to directory.*/\1/p' <<<"$fetch_line")
grep -q "hsdir: stored descriptor for blinded key $key " "$tn_work/hsrelay.log" ||
  fail "hsrelay did not store the descriptor for the blinded key $key the client asked for"
grep -q "hsdir: fetch for blinded key $key: served" "$tn_work/hsrelay.log" ||
  fail "hsrelay's log shows no fetch of $key it served"
checked "the client asked hsrelay (\$$hsdir_fp) for blinded key $key and hsrelay served it"

# The intro and rendezvous points are tor relays: hsrelay advertises no
# HSIntro/HSRend, so a client never picks it for them.
grep -q 'HSIntro\|HSRend' <(testnet_ctl a1 run "GETINFO ns/id/$hsdir_fp" 2>/dev/null) &&
  fail "hsrelay advertises an intro or rendezvous role"

# 4. Not anonymous: a one-hop circuit from a client that did not
# authenticate (directory.c connection_dir_is_anonymous).
[ -x "$begindir_client" ] || fail "no begindir_client at $begindir_client"
if ip netns exec "$tn_ns" "$begindir_client" "$tn_seat_addr" "$tn_seat_orport" "${tn_dir[hsrelay]}" \
    "$tn_work/begindir_client" "$tn_work/begindir.hs" "/tor/hs/3/$key" >"$tn_work/begindir.log" 2>&1; then
  fail "hsrelay served a descriptor on a one-hop circuit"
fi
grep -q 'HTTP/1.0 503 Rejecting single hop HS v' "$tn_work/begindir.log" ||
  { cat "$tn_work/begindir.log"; fail "no 503 single-hop answer to a one-hop HSDir fetch"; }
checked "one-hop BEGIN_DIR fetch of $key: $(grep -o 'HTTP/1.0 503 [^:]*' "$tn_work/begindir.log" | head -1)"

# 5. Counters on the MetricsPort.
sleep 2
ip netns exec "$tn_ns" curl -s --max-time 5 http://127.0.0.1:9036/metrics >"$tn_work/metrics" ||
  fail "hsrelay's MetricsPort did not answer"
grep -E '^(hsrelay_hsdir|tor_relay_load_oom_bytes_total)' "$tn_work/metrics" | sed 's/^/  metrics: /'
stored=$(awk '/^hsrelay_hsdir_uploads_total\{outcome="stored"\}/ {print $2}' "$tn_work/metrics")
hits=$(awk '/^hsrelay_hsdir_fetches_total\{result="hit"\}/ {print $2}' "$tn_work/metrics")
held=$(awk '/^hsrelay_hsdir_descriptors / {print $2}' "$tn_work/metrics")
[ "${stored:-0}" -ge 1 ] || fail "MetricsPort: no stored upload"
[ "${hits:-0}" -ge 1 ] || fail "MetricsPort: no fetch hit"
single=$(awk '/^hsrelay_hsdir_fetches_total\{result="single_hop"\}/ {print $2}' "$tn_work/metrics")
[ "${held:-0}" -ge 1 ] || fail "MetricsPort: no descriptor held"
[ "${single:-0}" -ge 1 ] || fail "MetricsPort: the single-hop fetch is not counted"
checked "MetricsPort: $stored uploads stored, $held descriptors held, $hits fetches served, $single single-hop fetch refused"

kill -0 "$hsrelay_pid" || fail "hsrelay exited"
kill -TERM "$hsrelay_pid"
wait_until 20 sh -c "! kill -0 $hsrelay_pid 2>/dev/null" || fail "hsrelay did not stop on SIGTERM"
testnet_log "done"
echo "PASS hsdir_testnet"
