# shellcheck shell=bash
# A private tor 0.4.9 network in which hsrelay plays every onion-service
# role at once: the only HSDir, an introduction point of the onion service
# and the client's rendezvous point (shared docs tor-roles-and-directory.md
# 5.5, "Forcing roles onto one relay deterministically"). Sourced by
# onion_e2e.sh (and deploy/run.sh's mission demo), not run. Built on
# testnet/lib.sh (namespaces, keys, authorities, origin, cleanup trap):
#   - authorities a1..a3 (the only Guards), middle-only tor relays r1..rN;
#   - hsrelay on DPDK net_tap in the seat (10.78.S.2:9001), MetricsPort
#     127.0.0.1:$on_metrics_port in the network's namespace;
#   - the authorities vote hsrelay and nobody else HSDir
#     (TestingDirAuthVoteHSDir + IsStrict), read a bandwidth file
#     (V3BandwidthsFile) weighting hsrelay 10000 and every tor relay 1,
#     and set hs_intro_num_extra=0 (the service opens exactly
#     HiddenServiceNumIntroductionPoints intro circuits per descriptor, so
#     it does not drop hsrelay among the fastest few). hsrelay is never
#     voted Guard: it is the only relay of real middle weight, hence the
#     service's first intro pick and the client's rendezvous point;
#   - onion service "hs" (port 80 = the origin), started with
#     DisableNetwork 1 and let onto the network only once the consensus
#     lists hsrelay Running, HSDir and weighted (a service that uploads
#     while no HSDir exists does not re-upload by itself);
#   - client "client" (SocksPort 127.0.0.1:9050, info log), and
#     on_extra_clients more tor clients "client2", "client3", ... (SocksPort
#     127.0.0.1:9062, 9063, ..., ControlPort 9072, 9073, ..., info log, the
#     same torrc otherwise): separate tor processes, each with its own
#     descriptor and intro-point failure caches.
#
# Functions (in the order a test calls them):
#   onion_net_setup HSRELAY TAG SUBNET RELAYS  testnet_begin, keys, torrc
#                        files, bandwidth file, hsrelay.conf; extra lines
#                        from the arrays on_service_lines (inside the
#                        service's HiddenServiceDir block),
#                        on_hsrelay_lines, on_client_lines (set them
#                        after sourcing this file; on_extra_clients too)
#   onion_net_make_file NAME MIB SEED  NAME (not index.html or big.bin,
#                        which testnet_start_origin writes) in the origin's directory:
#                        MIB MiB of python3 random.Random(SEED) bytes
#   onion_net_start      origin, network, hsrelay (its tap attached)
#   onion_net_wait_ready SECONDS  hsrelay Running+HSDir+weight 10000 in
#                        a1's and the client's consensus, every client
#                        bootstrapped, service let on the network; its
#                        descriptor stored at hsrelay and hsrelay an
#                        established intro point of it; sets on_onion
#   onion_net_no_rotation_for SECONDS  returns once no descriptor rotation
#                        of the service can fall in the next SECONDS (waits
#                        for an imminent one and the intro circuits and
#                        descriptor upload after it)
#   onion_net_service_intro_points  fingerprints of the relays the
#                        service holds established intro circuits to
#   onion_net_client_only_via_hsrelay  every client's ExcludeNodes = the
#                        service's other intro points, HSLayer2Nodes = the
#                        remaining tor relays: it must introduce through
#                        hsrelay
#   onion_net_curl USER OUT URL [CURL ARGS...]  curl through the client,
#                        SOCKS credentials USER:x (a circuit per USER)
#   onion_net_curl_via NODE USER OUT URL [CURL ARGS...]  the same through
#                        client NODE (one of on_clients)
#   onion_net_fetch_via_rp PREFIX OUT PAGE  fetches PAGE (a file of the
#                        origin) with credentials PREFIX1, PREFIX2, ... (a
#                        new circuit each) until it is byte-exact and the
#                        client's joined HS_CLIENT_REND circuit ends at
#                        hsrelay (20 tries); sets on_rp_user, on_rp_try and
#                        on_rend (that circuit's line); fails otherwise
#   onion_net_circuits NODE PURPOSE  NODE's circuit-status lines of PURPOSE
#   onion_net_metrics OUT  hsrelay's MetricsPort text into OUT, 2.2 s
#                        after the call (what happened before it included)
#   onion_net_metric FILE NAME [LABEL]  sum of NAME's samples in FILE
#                        (those whose labels contain LABEL)
#   onion_net_auth_keys_hex  the auth keys hsrelay's log says it holds
#                        intro circuits for, in hex
# Variables: on_hsrelay_fp, on_conf, on_onion, on_tap, on_metrics_port,
# on_hsrelay_pid, on_clients (client, client2, ...), on_socks_port[NODE],
# plus testnet/lib.sh's (tn_ns, tn_work, tn_dir, ...).

on_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=testnet/lib.sh
. "$on_lib_dir/testnet/lib.sh"

on_metrics_port=9037
on_service_lines=()
on_hsrelay_lines=()
on_client_lines=()
on_extra_clients=0
on_clients=(client)
declare -A on_socks_port=([client]=9050)
on_onion=
on_hsrelay_pid=

# on_bandwidth_file FILE: dir-spec's bandwidth file (bandwidth-file-spec
# 1.0.0: a timestamp line, then "node_id=$FP bw=KB" per relay): hsrelay
# 10000, every tor relay and authority 1.
on_bandwidth_file() {
  local name
  {
    date +%s
    for name in "${tn_auths[@]}" "${tn_relays[@]}"; do
      echo "node_id=\$${tn_fp[$name]} bw=1"
    done
    echo "node_id=\$$on_hsrelay_fp bw=10000"
  } >"$1"
}

onion_net_setup() {
  local relays=$4 a line i name
  on_hsrelay=$1
  testnet_begin "$2" "$3"
  "$tn_tor" --version | head -1
  tn_relay_kind=noexit
  testnet_generate "$relays"
  testnet_node_keys hsrelay
  on_hsrelay_fp=${tn_fp[hsrelay]}
  on_tap=ontap$$
  on_bandwidth_file "$tn_work/bandwidth"
  for a in "${tn_auths[@]}"; do
    printf '%s\n' "TestingDirAuthVoteHSDir \$$on_hsrelay_fp" "TestingDirAuthVoteHSDirIsStrict 1" \
      "ConsensusParams hs_intro_num_extra=0" "V3BandwidthsFile $tn_work/bandwidth" \
      >>"${tn_dir[$a]}/torrc"
  done
  { echo "Log info file ${tn_dir[client]}/info.log"
    for line in ${on_client_lines[@]+"${on_client_lines[@]}"}; do echo "$line"; done; } >>"${tn_dir[client]}/torrc"
  for ((i = 2; i <= on_extra_clients + 1; i++)); do
    name=client$i
    tn_node "$name" "$tn_ns" $((9070 + i))
    on_clients+=("$name")
    on_socks_port[$name]=$((9060 + i))
    { tn_common_torrc "$name"; testnet_network_torrc
      tn_client_torrc | sed "s/^SocksPort .*/SocksPort 127.0.0.1:${on_socks_port[$name]}/"
      echo "Log info file ${tn_dir[$name]}/info.log"
      for line in ${on_client_lines[@]+"${on_client_lines[@]}"}; do echo "$line"; done
    } >"${tn_dir[$name]}/torrc"
  done

  on_conf=$tn_work/hsrelay.conf
  tn_hsrelay=$on_hsrelay
  testnet_hsrelay_conf "$on_conf" 1 "$on_tap" "$on_metrics_port" hsrelay \
    ${on_hsrelay_lines[@]+"${on_hsrelay_lines[@]}"}

  tn_node hs "$tn_ns" 5340
  { tn_common_torrc hs; testnet_network_torrc
    printf '%s\n' "SocksPort 0" "Log info file ${tn_dir[hs]}/info.log" "DisableNetwork 1" \
      "LearnCircuitBuildTimeout 0" "CircuitBuildTimeout 30" "PathsNeededToBuildCircuits 0.67" \
      "HiddenServiceDir ${tn_dir[hs]}/hidden_service" \
      "HiddenServicePort 80 $tn_addr:$tn_origin_port" \
      "HiddenServiceNumIntroductionPoints 3"
    for line in ${on_service_lines[@]+"${on_service_lines[@]}"}; do echo "$line"; done; } >"${tn_dir[hs]}/torrc"
}

onion_net_make_file() {
  mkdir -p "$tn_work/www"
  "$tn_python" -c 'import random, sys
sys.stdout.buffer.write(random.Random(int(sys.argv[2])).randbytes(int(sys.argv[1]) << 20))' \
    "$2" "$3" >"$tn_work/www/$1"
}

onion_net_start() {
  local name
  testnet_start_origin
  testnet_start_network
  for name in "${on_clients[@]:1}"; do testnet_start_tor "$name"; done
  testnet_start_tor hs
  testnet_spawn "$tn_ns" "$tn_work/hsrelay.log" "$on_hsrelay" -f "$on_conf"
  # shellcheck disable=SC2034 # read by the test
  on_hsrelay_pid=${tn_pids[-1]}
  wait_until 30 ip -n "$tn_ns" link show "$on_tap" >/dev/null 2>&1 ||
    { cat "$tn_work/hsrelay.log"; fail "hsrelay's tap $on_tap did not appear"; }
  testnet_attach_link "$on_tap"
  testnet_log "hsrelay \$$on_hsrelay_fp started on $tn_seat_addr:$tn_seat_orport ($on_tap);" \
    "the onion service waits with DisableNetwork 1"
}

# on_hsrelay_listed NODE: NODE's consensus lists hsrelay Running, HSDir and
# with the bandwidth file's weight.
on_hsrelay_listed() {
  local entry
  entry=$(testnet_ctl "$1" run "GETINFO ns/id/$on_hsrelay_fp" 2>/dev/null) || return 1
  grep -q '^s .* HSDir .*Running' <<<"$entry" || return 1
  grep -q '^w Bandwidth=10000' <<<"$entry"
}

# on_wait_listed NODE DEADLINE: on_hsrelay_listed NODE, polled every second
# until DEADLINE (date +%s).
on_wait_listed() {
  until on_hsrelay_listed "$1"; do
    [ "$(date +%s)" -lt "$2" ] || {
      testnet_ctl "$1" run "GETINFO ns/id/$on_hsrelay_fp" >&2 || true
      tail -20 "$tn_work/hsrelay.log" >&2
      return 1
    }
    sleep 1
  done
}

on_bootstrapped() { [ "$(testnet_ctl "$1" bootstrap 2>/dev/null)" = 100 ]; }

onion_net_wait_ready() {
  local end=$(( $(date +%s) + $1 )) entry name
  on_wait_listed a1 "$end" || fail "a1's consensus does not list hsrelay Running, HSDir, Bandwidth=10000"
  entry=$(testnet_ctl a1 run "GETINFO ns/id/$on_hsrelay_fp")
  grep -q '^s .*Guard' <<<"$entry" && fail "hsrelay is voted Guard"
  checked "a1's consensus: hsrelay $(grep '^s ' <<<"$entry" | cut -c3-), $(grep '^w ' <<<"$entry" | cut -c3-) at $(testnet_elapsed) s"
  on_wait_listed client "$end" || fail "the client's consensus does not list hsrelay so"
  testnet_wait_bootstrap $(( end - $(date +%s) )) || fail "the client did not bootstrap"
  for name in "${on_clients[@]:1}"; do
    wait_until $(( end - $(date +%s) )) on_bootstrapped "$name" || fail "$name did not bootstrap"
  done
  checked "the client's consensus lists hsrelay so and it is bootstrapped at $(testnet_elapsed) s"
  testnet_ctl hs run "SETCONF DisableNetwork=0" >/dev/null || fail "SETCONF DisableNetwork=0 on the service"
  testnet_log "onion service let onto the network"
  on_onion=$(cat "${tn_dir[hs]}/hidden_service/hostname")
  wait_until $(( end - $(date +%s) )) grep -q 'hsdir: stored descriptor for blinded key' \
      "$tn_work/hsrelay.log" ||
    { grep -iE 'upload|descriptor' "${tn_dir[hs]}/info.log" | tail -10 >&2
      fail "hsrelay stored no descriptor of the service"; }
  wait_until $(( end - $(date +%s) )) grep -q 'intro point: circuit .* established for auth key' \
      "$tn_work/hsrelay.log" ||
    { grep -E 'pick_intro_point|launch_intro_point|intro.*(fail|clos|expir)|ESTABLISH_INTRO' \
        "${tn_dir[hs]}/info.log" | tail -20 >&2
      grep -iE 'intro|ESTABLISH' "$tn_work/hsrelay.log" | tail -10 >&2
      fail "the service established no intro circuit at hsrelay"; }
  # Both descriptors' intro circuits (current and next time period).
  wait_until 20 on_service_intro_count_is 6 ||
    testnet_log "the service holds $(on_service_intros) established intro circuits"
  checked "$on_onion: descriptor stored at hsrelay, intro circuit(s) established there at $(testnet_elapsed) s"
}

# on_service_intros: the intro circuits the service holds established.
on_service_intros() {
  onion_net_circuits hs HS_SERVICE_INTRO | grep -c HSSI_ESTABLISHED || true
}

on_service_intro_count_is() { [ "$(on_service_intros)" -ge "$1" ]; }

# The service rotates its descriptors at the start of each shared-random
# protocol run (tor hs_service.c set_rotation_time(), every 24 voting
# intervals: 4 minutes here), at its first consensus at or after that
# time: the current descriptor and its intro circuits go, the next one
# becomes current, and a new next descriptor gets new intro circuits
# (hsrelay among them, being the heaviest relay) and is uploaded. A test
# step that counts introductions per auth key must not straddle that.
on_rotated='Time to rotate our descriptors'
on_rotations() { grep -c "$on_rotated" "${tn_dir[hs]}/info.log" || true; }
on_stored() { grep -c 'hsdir: stored descriptor for blinded key' "$tn_work/hsrelay.log" || true; }
on_more_than() { [ "$("$1")" -gt "$2" ]; }

# onion_net_next_rotation: the time (date +%s) the service logged for its
# next rotation ("Next descriptor rotation time set to", local time).
onion_net_next_rotation() {
  local when
  when=$(grep -o 'Next descriptor rotation time set to [0-9-]* [0-9:]*' \
    "${tn_dir[hs]}/info.log" | tail -1 | awk '{print $7, $8}') || true
  [ -n "$when" ] || fail "the service logged no next descriptor rotation time"
  date -d "$when" +%s
}

onion_net_no_rotation_for() {
  local need=$1 due rotations stored last
  due=$(onion_net_next_rotation)
  # The rotation waits for a consensus (up to a voting interval, 10 s)
  # and its intro circuits take a few seconds more.
  if [ "$due" -le $(( $(date +%s) + need + 20 )) ]; then
    rotations=$(on_rotations)
    stored=$(on_stored)
    testnet_log "the service's descriptor rotation is due at $(date -d "@$due" +%T), within ${need} s: waiting for it"
    wait_until $(( due - $(date +%s) + 40 )) on_more_than on_rotations "$rotations" ||
      fail "the service did not rotate its descriptors at $(date -d "@$due" +%T)"
    wait_until 40 on_more_than on_stored "$stored" ||
      fail "hsrelay stored no descriptor in the 40 s after the service's rotation"
  else
    # A rotation of the last 40 s may still be building intro circuits
    # (none yet: grep finds nothing).
    last=$(grep "$on_rotated" "${tn_dir[hs]}/info.log" | tail -1 | cut -c1-15) || true
    [ -n "$last" ] && [ "$(date -d "$last" +%s)" -gt $(( $(date +%s) - 40 )) ] || return 0
  fi
  # Fewer than 6 after 40 s is logged below, as in onion_net_wait_ready.
  wait_until 40 on_service_intro_count_is 6 || true
  testnet_log "after the service's descriptor rotation: $(on_service_intros) intro circuits established, $(on_stored) descriptors stored at hsrelay"
}

onion_net_circuits() {
  testnet_ctl "$1" run "GETINFO circuit-status" 2>/dev/null | sed 's/^circuit-status=//' |
    grep " PURPOSE=$2 " || true
}

# on_last_hop LINE: the fingerprint of the last hop of a circuit-status line.
on_last_hop() {
  awk '{print $3}' <<<"$1" | tr ',' '\n' | tail -1 | sed 's/^\$//; s/[~=].*//'
}

onion_net_service_intro_points() {
  local line
  onion_net_circuits hs HS_SERVICE_INTRO | grep HSSI_ESTABLISHED | while read -r line; do
    on_last_hop "$line"
  done | sort -u
}

onion_net_client_only_via_hsrelay() {
  local fp name exclude="" layer2="" node
  declare -A excluded=()
  for fp in $(onion_net_service_intro_points); do
    [ "$fp" = "$on_hsrelay_fp" ] && continue
    excluded[$fp]=1
    exclude+="\$$fp,"
  done
  for name in "${tn_auths[@]}" "${tn_relays[@]}"; do
    [ -n "${excluded[${tn_fp[$name]}]:-}" ] || layer2+="\$${tn_fp[$name]},"
  done
  [ -n "$layer2" ] || fail "no tor relay left for the client's second hop"
  for node in "${on_clients[@]}"; do
    if [ -n "$exclude" ]; then
      testnet_ctl "$node" run "SETCONF ExcludeNodes=${exclude%,} HSLayer2Nodes=${layer2%,}" >/dev/null ||
        fail "SETCONF ExcludeNodes/HSLayer2Nodes on $node"
    else
      testnet_ctl "$node" run "SETCONF HSLayer2Nodes=${layer2%,}" >/dev/null ||
        fail "SETCONF HSLayer2Nodes on $node"
    fi
  done
  echo "${exclude%,}"
}

onion_net_curl() { onion_net_curl_via client "$@"; }

onion_net_curl_via() {
  local node=$1 user=$2 out=$3 url=$4
  shift 4
  ip netns exec "$tn_ns" curl -sS --socks5-hostname "$user:x@127.0.0.1:${on_socks_port[$node]}" \
    -o "$out" "$@" "$url"
}

onion_net_fetch_via_rp() {
  local prefix=$1 out=$2 page=$3 user
  on_rp_user=
  on_rend=
  for on_rp_try in $(seq 1 20); do
    user=$prefix$on_rp_try
    if onion_net_curl "$user" "$out" "http://$on_onion/$page" --max-time 60 \
        2>"$tn_work/curl.err" && cmp -s "$out" "$tn_work/www/$page"; then
      on_rend=$(onion_net_circuits client HS_CLIENT_REND | grep "SOCKS_USERNAME=\"$user\"" |
        grep HSCR_JOINED | head -1) || true
      if [ -n "$on_rend" ] && [ "$(on_last_hop "$on_rend")" = "$on_hsrelay_fp" ]; then
        on_rp_user=$user
        return 0
      fi
      testnet_log "fetch $on_rp_try: rendezvous point $(on_last_hop "${on_rend:-x}") is not hsrelay; new credentials"
    else
      testnet_log "fetch $on_rp_try failed: $(head -c 200 "$tn_work/curl.err")"
      sleep 1
    fi
  done
  grep -E 'hs_client|rendezvous|intro' "${tn_dir[client]}/info.log" | tail -20 >&2
  fail "no fetch of http://$on_onion/$page with hsrelay as rendezvous point"
}

onion_net_metrics() {
  # hsrelay publishes a snapshot once a second, with the workers' counters
  # as they answered the previous second's request: wait for both.
  sleep 2.2
  ip netns exec "$tn_ns" curl -s --max-time 5 "http://127.0.0.1:$on_metrics_port/metrics" >"$1"
}

onion_net_metric() {
  awk -v name="$2" -v label="${3:-}" '
    { split($1, a, "{") }
    a[1] == name && (label == "" || index($1, label) > 0) { sum += $2 }
    END { printf "%d\n", sum }' "$1"
}

onion_net_auth_keys_hex() {
  local key
  sed -n 's/.*intro point: circuit .* established for auth key \([A-Za-z0-9+/]*\).*/\1/p' \
    "$tn_work/hsrelay.log" | sort -u | while read -r key; do
    "$tn_python" -c 'import base64, sys; print(base64.b64decode(sys.argv[1] + "=").hex())' "$key"
  done
}
