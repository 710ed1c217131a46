# shellcheck shell=bash
# A private tor 0.4.9 network inside network namespaces the test creates;
# sourced by the interop tests, not run. Needs root, tor, tor-gencert, curl
# and /usr/bin/python3 (tests exit 77 without them).
#
# Address plan (S = the subnet number given to testnet_begin, default 0):
#   namespace hstn-<pid>           the network: its lo carries 10.78.S.1/32
#                                  besides 127.0.0.1; every tor process and
#                                  the HTTP origin listen on 10.78.S.1,
#                                  control and SOCKS ports on 127.0.0.1.
#     authorities a1..a3           ORPort 10.78.S.1:5101..5103,
#                                  DirPort 10.78.S.1:5201..5203,
#                                  ControlPort 127.0.0.1:5301..5303
#     relays r1..rN                ORPort 10.78.S.1:5111.., ControlPort 5311..
#                                  (exits: ExitPolicy accept *:*)
#     ghost (optional)             advertises ORPort 10.78.S.1:5119 but
#                                  listens on 5129; ControlPort 5319
#     client                       SocksPort 127.0.0.1:9050, ControlPort 9051
#     origin                       http://10.78.S.1:8080/ (origin.py)
#   the seat, 10.78.S.2            where hsrelay sits: hsrelay runs in the
#                                  network's namespace on DPDK net_tap with
#                                  address 10.78.S.2/24 (MAC 02:00:00:78:S:02)
#                                  and ORPort 9001; the
#                                  kernel end of its tap is handed to
#                                  testnet_attach_link, which routes
#                                  10.78.S.0/24 through it (source 10.78.S.1;
#                                  the kernel answers ARP for 10.78.S.1 on
#                                  any link). Until hsrelay exists a tor relay
#                                  takes the seat: testnet_generate's SEAT
#                                  relay runs in namespace hstn-<pid>-seat,
#                                  joined by a veth pair (tn-seat <-> eth0).
# Nothing is configured outside these namespaces; testnet_cleanup (the EXIT
# trap) kills every process started here and deletes the namespaces.
#
# Functions (in the order a test calls them):
#   testnet_begin TAG [SUBNET]     namespace, its address, work dir, trap
#   testnet_generate RELAYS [SEAT [GHOST]]  keys and torrc of a1..a3,
#                                  r1..rRELAYS and the client; relay number
#                                  SEAT (unless 0) is a non-exit tor relay
#                                  in the seat; GHOST=1 adds an unreachable
#                                  relay (negative control)
#   testnet_network_torrc          TestingTorNetwork + the DirAuthority lines
#   testnet_seat_torrc NICK        what hsrelay (or a tor relay) in the seat
#                                  needs: the network lines, Nickname, ORPort
#                                  10.78.S.2:9001, ContactInfo, ExitPolicy
#   testnet_node_keys NAME         tor-made relay keys in $tn_work/NAME
#                                  (for hsrelay); sets tn_fp[NAME]
#   testnet_hsrelay_conf FILE WORKERS IFACE METRICS_PORT NAME [LINE...]
#                                  hsrelay's configuration for the seat
#   testnet_start_network          starts every node testnet_generate wrote
#   testnet_spawn NS LOG CMD...    starts CMD in NS, killed by the cleanup
#   testnet_start_origin           index.html (small) + big.bin (20 MiB)
#   testnet_attach_link IFACE      route the seat's subnet through IFACE
#   testnet_wait_running NODE SECONDS FP...   NODE's consensus lists every FP
#                                  Running + Valid
#   testnet_wait_exits_know SECONDS FP...  the same in every exit's consensus
#   testnet_wait_bootstrap SECONDS the client is bootstrapped 100 %
#   testnet_force_middle FP        the client's middle hop is FP (SETCONF)
#   testnet_fetch URL OUT TAG FP [COUNT [EXPECT]]  fetch through the
#                                  client, prove hop 2 = FP for each fetch
#   testnet_ctl NODE ARGS...       torctl.py on NODE's control port
#   testnet_elapsed                seconds since testnet_begin (0.1 s)
#   testnet_log MESSAGE            MESSAGE after the elapsed time
#   testnet_cleanup                the EXIT trap
#
# Variables a test reads: tn_ns (the network's namespace), tn_work (work
# directory), tn_addr / tn_seat_addr / tn_seat_orport (10.78.S.1,
# 10.78.S.2, 9001), tn_fp[NAME] (fingerprints), tn_auths, tn_relays,
# tn_exits, tn_ghost (node names), tn_origin (http://10.78.S.1:8080),
# tn_tor; and ip_kernel / ip_ours / mac_ours as ../../netns/lib.sh names
# them (10.78.S.1, 10.78.S.2, 02:00:00:78:SS:02 with SS = S in hex).

tn_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# fail, checked, require_root, add_netns, wait_until, write_netcheck_conf.
# shellcheck source-path=SCRIPTDIR source=../../netns/lib.sh
. "$tn_lib_dir/../../netns/lib.sh"

tn_python=/usr/bin/python3
tn_tor=${TOR:-/usr/bin/tor}
tn_gencert=${TOR_GENCERT:-/usr/bin/tor-gencert}
tn_seat_orport=9001
tn_socks_port=9050
tn_origin_port=8080

# Per node: its data directory, namespace, control port, fingerprint.
declare -A tn_dir tn_node_ns tn_ctl_port tn_fp
tn_auths=()      # a1 a2 a3
tn_relays=()     # r1 .. rN (the seat relay included)
tn_exits=()      # relays that exit (all but the seat relay)
tn_pids=()       # every process started here
# What testnet_generate makes of relays r1..rN other than the seat: exit,
# or noexit (middles only; set before testnet_generate).
tn_relay_kind=exit
tn_work=
tn_hsrelay=      # the hsrelay binary, for testnet_hsrelay_conf
tn_seat_ns=

# testnet_begin TAG [SUBNET]: checks the prerequisites (exit 77 without
# them), creates namespace hstn-<pid> with lo up, IPv6 off and
# 10.78.SUBNET.1/32 on lo, a work directory
# /tmp/hsrelay-testnet-TAG.*, and installs testnet_cleanup as the EXIT
# trap (INT, TERM and HUP exit through it). Sets tn_ns, tn_addr (10.78.S.1),
# tn_seat_addr (10.78.S.2), and ip_kernel/ip_ours/mac_ours of
# ../../netns/lib.sh to the same plan (for write_netcheck_conf).
testnet_begin() {
  local tag=$1 subnet=${2:-0} tool
  require_root
  for tool in "$tn_tor" "$tn_gencert" "$tn_python" curl; do
    if ! command -v "$tool" >/dev/null; then
      echo "skipping: needs $tool"
      exit 77
    fi
  done
  tn_t0=$(date +%s%N)
  tn_ns=hstn-$$
  tn_addr=10.78.$subnet.1
  tn_seat_addr=10.78.$subnet.2
  tn_subnet=10.78.$subnet.0/24
  # shellcheck disable=SC2034 # read by write_netcheck_conf / tap_up
  ip_kernel=$tn_addr
  # shellcheck disable=SC2034
  ip_ours=$tn_seat_addr
  # shellcheck disable=SC2034
  mac_ours=$(printf '02:00:00:78:%02x:02' "$subnet")
  tn_work=$(mktemp -d "/tmp/hsrelay-testnet-$tag.XXXXXX")
  fail_note_file=$tn_work/failures
  # A command that fails under set -e ends the test without a FAIL line:
  # note each failed command that set -e would act on (errtrace: in
  # functions and command substitutions too; one a caller tests with ||
  # or if is not noted) for testnet_cleanup to show.
  set -E
  trap 'tn_status=$?; echo "${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND (status $tn_status)" \
    >>"$tn_work/errors" 2>/dev/null' ERR
  chmod 755 "$tn_work"
  trap testnet_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  add_netns "$tn_ns"
  tn_arp_any_link "$tn_ns"
  ip -n "$tn_ns" addr add "$tn_addr/32" dev lo
}

# tn_arp_any_link NS: answer ARP for any local address on any link, pick
# any local source address and skip reverse-path filtering, whatever the
# host's defaults are (a new namespace inherits the host's IPv4 settings):
# the seat reaches 10.78.S.1 over a link that does not carry it.
tn_arp_any_link() {
  ip netns exec "$1" sysctl -qw net.ipv4.conf.all.arp_ignore=0 \
    net.ipv4.conf.default.arp_ignore=0 net.ipv4.conf.all.arp_announce=0 \
    net.ipv4.conf.default.arp_announce=0 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
}

# testnet_elapsed: seconds since testnet_begin, one decimal.
testnet_elapsed() {
  local ns=$(( $(date +%s%N) - tn_t0 ))
  printf '%d.%d' $(( ns / 1000000000 )) $(( ns / 100000000 % 10 ))
}

# testnet_log MESSAGE: prints MESSAGE after the elapsed time.
testnet_log() { printf '[%6ss] %s\n' "$(testnet_elapsed)" "$*"; }

# tn_node NAME NS CONTROL_PORT: registers a node and makes its directory.
tn_node() {
  tn_dir[$1]=$tn_work/$1
  tn_node_ns[$1]=$2
  tn_ctl_port[$1]=$3
  mkdir -p "${tn_dir[$1]}/keys"
  chmod 700 "${tn_dir[$1]}"
}

# tn_relay_keys NAME: tor writes NAME's relay identity keys (RSA-1024 and
# ed25519) into its data directory and prints the fingerprint line to
# DIR/fingerprint.out. Runs as a job of tn_make_keys.
tn_relay_keys() {
  ip netns exec "${tn_node_ns[$1]}" "$tn_tor" -f "$tn_work/empty" \
    --defaults-torrc "$tn_work/empty" --DataDirectory "${tn_dir[$1]}" \
    --Nickname "$1" --ORPort "$tn_addr:1" --DisableNetwork 1 --SocksPort 0 \
    --ControlPort 0 --Log "warn stderr" --list-fingerprint \
    >"${tn_dir[$1]}/fingerprint.out" 2>"${tn_dir[$1]}/keys.log"
}

# tn_authority_keys NAME DIRPORT: tor-gencert makes NAME's authority identity
# (RSA-3072), signing key and certificate (12 months, dir-address
# 10.78.S.1:DIRPORT). Runs as a job of tn_make_keys.
tn_authority_keys() {
  local d=${tn_dir[$1]}
  echo "" | "$tn_gencert" --create-identity-key --passphrase-fd 0 -m 12 \
      -a "$tn_addr:$2" -i "$d/keys/authority_identity_key" \
      -s "$d/keys/authority_signing_key" -c "$d/keys/authority_certificate" \
      >"$d/gencert.log" 2>&1
}

# tn_make_keys: every node's keys at once (RSA key generation is most of
# the set-up time; the jobs share the CPUs), then tn_fp[NAME] for each
# relay and tn_v3ident[NAME] for each authority.
declare -A tn_v3ident
tn_make_keys() {
  local name jobs=() job fp
  for name in "${tn_auths[@]}"; do
    tn_authority_keys "$name" $((5200 + ${name#a})) &
    jobs+=($!)
  done
  for name in "${tn_auths[@]}" "${tn_relays[@]}" ${tn_ghost:+"$tn_ghost"}; do
    tn_relay_keys "$name" &
    jobs+=($!)
  done
  tn_pids+=("${jobs[@]}")
  for job in "${jobs[@]}"; do wait "$job" || true; done
  for name in "${tn_auths[@]}"; do
    tn_v3ident[$name]=$(sed -n 's/^fingerprint //p' "${tn_dir[$name]}/keys/authority_certificate" 2>/dev/null)
    [[ ${tn_v3ident[$name]} =~ ^[0-9A-F]{40}$ ]] ||
      { cat "${tn_dir[$name]}/gencert.log" >&2; fail "tor-gencert for $name"; }
  done
  for name in "${tn_auths[@]}" "${tn_relays[@]}" ${tn_ghost:+"$tn_ghost"}; do
    fp=$(sed -n "s/^$name //p" "${tn_dir[$name]}/fingerprint.out" | tr -d ' ')
    [[ $fp =~ ^[0-9A-F]{40}$ ]] ||
      { cat "${tn_dir[$name]}/keys.log" >&2; fail "tor --list-fingerprint for $name"; }
    tn_fp[$name]=$fp
  done
}

# testnet_node_keys NAME: tor writes relay identity keys for NAME (nickname
# NAME) into $tn_work/NAME (keys/secret_id_key, keys/ed25519_master_id_*,
# ...: the files hsrelay loads, crypto/tor_keys.h) and sets tn_fp[NAME]
# (call it directly, not in $(...), or the setting is lost). After
# testnet_begin; for a relay testnet_generate does not make, e.g. hsrelay.
testnet_node_keys() {
  [ -n "${tn_dir[$1]:-}" ] || tn_node "$1" "$tn_ns" 0
  : >"$tn_work/empty"
  tn_relay_keys "$1" || { cat "${tn_dir[$1]}/keys.log" >&2; fail "tor --list-fingerprint for $1"; }
  tn_fp[$1]=$(sed -n "s/^$1 //p" "${tn_dir[$1]}/fingerprint.out" | tr -d ' ')
  [[ ${tn_fp[$1]} =~ ^[0-9A-F]{40}$ ]] || fail "no fingerprint for $1"
}

# testnet_network_torrc: the lines every node of this network needs.
testnet_network_torrc() {
  local i a
  echo "TestingTorNetwork 1"
  for i in 1 2 3; do
    a=a$i
    echo "DirAuthority $a orport=$((5100 + i)) no-v2 v3ident=${tn_v3ident[$a]}" \
      "$tn_addr:$((5200 + i)) ${tn_fp[$a]}"
  done
}

# testnet_seat_torrc NICK: the torrc lines of a relay in the seat
# (10.78.S.2:9001), non-exit. hsrelay reads these (torrc syntax) next to its
# DPDK lines; a tor relay adds Address and its local settings.
testnet_seat_torrc() {
  testnet_network_torrc
  echo "Nickname $1"
  echo "ORPort $tn_seat_addr:$tn_seat_orport"
  echo "ContactInfo $1@test.invalid"
  echo "ExitPolicy reject *:*"
}

# testnet_hsrelay_conf FILE WORKERS IFACE METRICS_PORT NAME [LINE...]:
# hsrelay's configuration for the seat: DPDK net_tap IFACE with WORKERS
# worker queues, 10.78.S.2/24, DataDirectory $tn_work/NAME (keys from
# testnet_node_keys NAME), MetricsPort 127.0.0.1:METRICS_PORT, non-exit,
# 10 MBytes/s advertised, the network's torrc lines, Nickname hsrelay,
# ORPort 10.78.S.2:9001, then the extra LINEs; checked with
# --verify-config ($tn_hsrelay must name the binary).
testnet_hsrelay_conf() {
  local file=$1 workers=$2 iface=$3 metrics_port=$4 name=$5 line
  shift 5
  {
    echo "# written by $(basename "$0")"
    echo "DPDKLcores $(lcores_for "$workers")"
    echo "DPDKPort net_tap0,iface=$iface"
    echo "DPDKWorkerQueues $workers"
    echo "DPDKMemoryMB 512"
    echo "DPDKMbufsPerWorker 16383"
    echo "DPDKIdleSleepUsec 100"
    echo "DPDKMac $mac_ours"
    echo "Address $ip_ours/24"
    echo "DataDirectory ${tn_dir[$name]}"
    echo "ContactInfo hsrelay $(basename "$0" .sh) test"
    echo "BandwidthRate 10 MBytes"
    echo "BandwidthBurst 10 MBytes"
    echo "ExitRelay 0"
    echo "MetricsPort 127.0.0.1:$metrics_port"
    echo "MetricsPortPolicy accept 127.0.0.1"
    testnet_network_torrc
    echo "Nickname hsrelay"
    echo "ORPort $tn_seat_addr:$tn_seat_orport"
    for line in "$@"; do echo "$line"; done
  } >"$file"
  "$tn_hsrelay" -f "$file" --verify-config >/dev/null || fail "hsrelay --verify-config refused $file"
}

# tn_common_torrc NAME: local settings of a tor process. The owning
# controller process is this shell: tor exits by itself if the test dies
# without running its trap (tor polls it every 15 s). No GeoIP tables:
# parsing them costs each tor several CPU seconds at start.
tn_common_torrc() {
  cat <<EOF
# $1, written by tests/interop/testnet/lib.sh
DataDirectory ${tn_dir[$1]}
Log notice file ${tn_dir[$1]}/notice.log
SafeLogging 0
RunAsDaemon 0
ShutdownWaitLength 0
ControlPort 127.0.0.1:${tn_ctl_port[$1]}
CookieAuthentication 1
__OwningControllerProcess $$
ClientUseIPv6 0
GeoIPFile $tn_work/empty
GeoIPv6File $tn_work/empty
EOF
}

# tn_relay_torrc NAME ORPORT KIND: the relay part (authorities too); KIND
# is exit, noexit or authority. Relays publish without their own ORPort
# self-test (AssumeReachable 1), but authorities must not have it: on an
# authority AssumeReachable votes every relay Running untested
# (voteflags.c dirserv_set_router_is_running).
tn_relay_torrc() {
  cat <<EOF
Nickname $1
Address $tn_addr
ORPort $tn_addr:$2
SocksPort 0
ContactInfo $1@test.invalid
EOF
  [ "$3" = authority ] || echo "AssumeReachable 1"
  if [ "$3" = exit ]; then
    printf '%s\n' "ExitRelay 1" "ExitPolicyRejectPrivate 0" "ExitPolicy accept *:*"
  else
    printf '%s\n' "ExitRelay 0" "ExitPolicy reject *:*"
  fi
}

# tn_authority_torrc DIRPORT: a v3 authority voting every 10 s (the lowest
# interval TestingTorNetwork allows; first consensus ~10 s after start),
# testing reachability itself (AuthDirTestReachability 1: Running means an
# authority completed a link handshake with the relay's ORPort). Only the
# authorities are voted Guard, so relays (and hsrelay) are free for the
# middle and exit positions.
tn_authority_torrc() {
  local guards
  guards=$(for a in "${tn_auths[@]}"; do printf '$%s,' "${tn_fp[$a]}"; done)
  cat <<EOF
DirPort $tn_addr:$1
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
V3AuthNIntervalsValid 2
TestingV3AuthInitialVotingInterval 10
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
AuthDirTestReachability 1
AuthDirMaxServersPerAddr 0
AuthDirVoteStableGuaranteeMinUptime 0
TestingDirAuthVoteGuard ${guards%,}
TestingDirAuthVoteGuardIsStrict 1
EOF
}

# tn_client_torrc: SOCKS on 127.0.0.1; no conflux (its legs must not share
# a middle, and one forced middle is the point here); a fixed circuit build
# timeout instead of learning one.
tn_client_torrc() {
  cat <<EOF
SocksPort 127.0.0.1:$tn_socks_port
ConfluxEnabled 0
LearnCircuitBuildTimeout 0
CircuitBuildTimeout 30
PathsNeededToBuildCircuits 0.67
EOF
}

# testnet_generate RELAYS [SEAT [GHOST]]: keys and torrc files of
# authorities a1..a3, relays r1..rRELAYS (exits, or middles only with
# tn_relay_kind=noexit) and the client. Relay
# number SEAT, if not 0, is a non-exit tor relay in the seat (namespace
# hstn-<pid>-seat, 10.78.S.2:9001, configured by testnet_seat_torrc)
# standing in for hsrelay. GHOST=1 adds relay "ghost" (tn_ghost), whose
# descriptor advertises ORPort 10.78.S.1:5119 where nothing listens (it
# listens on 5129): the authorities must never vote it Running, which shows
# that they do test reachability.
testnet_generate() {
  local relays=$1 seat=${2:-0} ghost=${3:-0} i name
  for i in 1 2 3; do
    tn_auths+=("a$i")
    tn_node "a$i" "$tn_ns" $((5300 + i))
  done
  for ((i = 1; i <= relays; i++)); do
    name=r$i
    tn_relays+=("$name")
    if [ "$i" -eq "$seat" ]; then
      tn_add_seat_netns
      tn_node "$name" "$tn_seat_ns" 5330
      tn_seat_relay=$name
    else
      tn_node "$name" "$tn_ns" $((5310 + i))
      [ "$tn_relay_kind" != exit ] || tn_exits+=("$name")
    fi
  done
  tn_node client "$tn_ns" 9051
  tn_ghost=
  if [ "$ghost" = 1 ]; then
    tn_ghost=ghost
    tn_node ghost "$tn_ns" 5319
  fi
  : >"$tn_work/empty"
  tn_make_keys

  for name in "${tn_auths[@]}"; do
    { tn_common_torrc "$name"; testnet_network_torrc
      tn_relay_torrc "$name" $((5100 + ${name#a})) authority
      tn_authority_torrc $((5200 + ${name#a})); } >"${tn_dir[$name]}/torrc"
  done
  if [ -n "$tn_ghost" ]; then
    { tn_common_torrc ghost; testnet_network_torrc
      tn_relay_torrc ghost 5119 noexit | sed 's/^ORPort .*/& NoListen/'
      echo "ORPort $tn_addr:5129 NoAdvertise"; } >"${tn_dir[ghost]}/torrc"
  fi
  for name in "${tn_relays[@]}"; do
    if [ "$name" = "${tn_seat_relay:-}" ]; then
      { tn_common_torrc "$name"; testnet_seat_torrc "$name"
        printf '%s\n' "Address $tn_seat_addr" "SocksPort 0" "ExitRelay 0" \
          "AssumeReachable 1"; } >"${tn_dir[$name]}/torrc"
    else
      { tn_common_torrc "$name"; testnet_network_torrc
        tn_relay_torrc "$name" $((5110 + ${name#r})) "$tn_relay_kind"; } >"${tn_dir[$name]}/torrc"
    fi
  done
  { tn_common_torrc client; testnet_network_torrc; tn_client_torrc; } >"${tn_dir[client]}/torrc"
}

# tn_add_seat_netns: namespace hstn-<pid>-seat holding 10.78.S.2/24 on eth0,
# the peer of tn-seat in the network's namespace, which is attached like
# hsrelay's tap would be.
tn_add_seat_netns() {
  tn_seat_ns=$tn_ns-seat
  add_netns "$tn_seat_ns"
  tn_arp_any_link "$tn_seat_ns"
  ip -n "$tn_ns" link add tn-seat type veth peer name eth0 netns "$tn_seat_ns"
  ip -n "$tn_seat_ns" addr add "$tn_seat_addr/24" dev eth0
  ip -n "$tn_seat_ns" link set eth0 up
  testnet_attach_link tn-seat
}

# testnet_attach_link IFACE: brings IFACE (in the network's namespace) up
# and routes 10.78.S.0/24 through it with source 10.78.S.1: the kernel end of
# hsrelay's net_tap device, or of the seat's veth.
testnet_attach_link() {
  ip -n "$tn_ns" link set "$1" up
  ip -n "$tn_ns" route replace "$tn_subnet" dev "$1" src "$tn_addr"
}

# testnet_spawn NS LOG COMMAND...: starts COMMAND in namespace NS (ip netns
# exec execs it, so $! is the command's PID), output to LOG; records the PID
# for testnet_cleanup. hsrelay is started this way, in $tn_ns.
testnet_spawn() {
  local ns=$1 log=$2
  shift 2
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  tn_pids+=($!)
}

# testnet_start_tor NAME: starts tor on NAME's torrc in NAME's namespace
# (without meson's MALLOC_PERTURB_: tor is not under test here, and glibc
# filling every allocation slows it).
testnet_start_tor() {
  testnet_spawn "${tn_node_ns[$1]}" "${tn_dir[$1]}/stdout" env -u MALLOC_PERTURB_ "$tn_tor" \
    -f "${tn_dir[$1]}/torrc" --defaults-torrc "$tn_work/empty"
}

# testnet_start_network: every node testnet_generate wrote, at once.
testnet_start_network() {
  local name
  for name in "${tn_auths[@]}" "${tn_relays[@]}" ${tn_ghost:+"$tn_ghost"} client; do
    testnet_start_tor "$name"
  done
  testnet_log "started ${#tn_auths[@]} authorities, ${#tn_relays[@]} relays${tn_ghost:+, $tn_ghost} and a client"
}

# testnet_start_origin: origin.py (python3 http.server; exits with this
# shell) on 10.78.S.1:8080 serving index.html (a 4 KiB page) and big.bin
# (20 MiB of random bytes) from $tn_work/www; sets tn_origin (its base
# URL); fails unless it answers within 10 s.
testnet_start_origin() {
  local www=$tn_work/www
  mkdir -p "$www"
  { echo "<html><body><pre>"; head -c 3000 /dev/urandom | base64; echo "</pre></body></html>"; } \
    >"$www/index.html"
  head -c $((20 * 1024 * 1024)) /dev/urandom >"$www/big.bin"
  tn_origin=http://$tn_addr:$tn_origin_port
  testnet_spawn "$tn_ns" "$tn_work/origin.log" "$tn_python" "$tn_lib_dir/origin.py" \
    --bind "$tn_addr" --port "$tn_origin_port" --directory "$www" --owner $$
  wait_until 10 ip netns exec "$tn_ns" curl -sf -o /dev/null "$tn_origin/index.html" ||
    { cat "$tn_work/origin.log" >&2; fail "the origin does not answer on $tn_origin"; }
}

# testnet_ctl NODE ARGS...: torctl.py (cookie authentication) on NODE's
# control port, in NODE's namespace.
testnet_ctl() {
  local node=$1
  shift
  ip netns exec "${tn_node_ns[$node]}" "$tn_python" "$tn_lib_dir/torctl.py" \
    --port "${tn_ctl_port[$node]}" --cookie "${tn_dir[$node]}/control_auth_cookie" "$@"
}

# testnet_wait_running NODE SECONDS FP...: polls NODE's consensus (GETINFO
# ns/id) every second until every FP is listed Running and Valid, logging
# each change of the relays listed so; prints the entries then. Returns 1
# (entries printed) after SECONDS.
testnet_wait_running() {
  local node=$1 limit=$2 end ready last=
  shift 2
  end=$(( $(date +%s) + limit ))
  while ! testnet_ctl "$node" flags "$@" >"$tn_work/flags.$node" 2>&1; do
    ready=$(awk '/ Running .*Valid/ {printf "%s ", $2}' "$tn_work/flags.$node")
    if [ "$ready" != "$last" ]; then
      testnet_log "$node's consensus: Running+Valid: ${ready:-none}"
      last=$ready
    fi
    if [ "$(date +%s)" -ge "$end" ]; then
      sed "s/^/  $node: /" "$tn_work/flags.$node" >&2
      return 1
    fi
    sleep 1
  done
  sed "s/^/  /" "$tn_work/flags.$node"
}

# testnet_wait_exits_know SECONDS FP...: testnet_wait_running on every exit
# relay. An exit refuses streams arriving from a previous hop it does not
# know as a relay (refuseunknownexits, on by default: connection_edge.c
# connection_exit_begin_conn ends them with TORPROTOCOL, which the client
# reports as SOCKS5 "general failure"), so a new middle hop is usable only
# once the exits' consensus lists it.
testnet_wait_exits_know() {
  local limit=$1 name
  shift
  for name in "${tn_exits[@]}"; do
    testnet_wait_running "$name" "$limit" "$@" >/dev/null || return 1
  done
}

# testnet_wait_bootstrap SECONDS: polls the client until bootstrapped 100 %.
testnet_wait_bootstrap() {
  local end=$(( $(date +%s) + $1 )) progress
  while :; do
    progress=$(testnet_ctl client bootstrap 2>/dev/null || echo 0)
    [ "$progress" != 100 ] || return 0
    if [ "$(date +%s)" -ge "$end" ]; then
      echo "client bootstrap at $progress %" >&2
      return 1
    fi
    sleep 1
  done
}

# testnet_force_middle FP: the client builds its circuits with FP as the
# middle hop (MiddleNodes), exits among the exit relays other than FP
# (ExitNodes) and guards among the authorities (EntryNodes; they are the
# only relays voted Guard). EntryNodes is needed: with MiddleNodes set, tor
# counts as guards only those MiddleNodes with the Guard flag when it
# decides whether it has enough directory information (nodelist.c
# compute_frac_paths_available), and would stop building circuits. tor
# drops its unused circuits on this change; testnet_fetch checks every
# circuit it uses.
testnet_force_middle() {
  local fp=${1#\$} exits="" guards="" name
  for name in "${tn_exits[@]}"; do
    [ "${tn_fp[$name]}" = "$fp" ] || exits+="\$${tn_fp[$name]},"
  done
  for name in "${tn_auths[@]}"; do guards+="\$${tn_fp[$name]},"; done
  [ -n "$exits" ] || fail "no exit relay left besides \$$fp"
  testnet_ctl client run \
    "SETCONF MiddleNodes=\$$fp EntryNodes=${guards%,} ExitNodes=${exits%,}" >/dev/null ||
    fail "SETCONF MiddleNodes/EntryNodes/ExitNodes on the client"
}

# testnet_fetch URL OUT TAG FP [COUNT [EXPECT]]: fetches URL through the
# client's SOCKS port into OUT, COUNT times (default 1), each on a circuit
# of its own (SOCKS username TAG, or TAG1..TAGCOUNT), and proves from the
# client's control port that each fetch's stream went over a 3-hop circuit
# whose second hop is FP; with EXPECT, each body must equal that file.
# Prints torctl's line per fetch ("TAG: stream .. circuit .. path ..");
# returns non-zero at the first fetch that fails (reason on stderr).
testnet_fetch() {
  testnet_ctl client fetch --socks "127.0.0.1:$tn_socks_port" --url "$1" --out "$2" \
    --isolation "$3" --middle "$4" --count "${5:-1}" ${6:+--expect "$6"} --max-time 120
}

# testnet_cleanup: the EXIT trap. SIGTERM to every process started here,
# SIGKILL after 2 s to those left, SIGKILL to anything else still inside the
# namespaces (only this test's processes can be there), then the
# namespaces go; on failure the tail of each node's log is printed; the
# work directory stays only with KEEP_WORK set.
testnet_cleanup() {
  local status=$? pid='' ns name i
  set +eu
  trap - INT TERM HUP ERR
  for pid in "${tn_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for i in $(seq 40); do
    for pid in "${tn_pids[@]}"; do kill -0 "$pid" 2>/dev/null && break; pid=; done
    [ -n "$pid" ] || break
    sleep 0.05
  done
  for pid in "${tn_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for ns in "${test_namespaces[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  wait 2>/dev/null
  for ns in "${test_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [ "$status" -ne 0 ] && [ -n "$tn_work" ]; then
    for name in "${!tn_dir[@]}"; do
      [ -s "${tn_dir[$name]}/notice.log" ] || continue
      echo "---- $name notice.log (last 8 lines)" >&2
      tail -8 "${tn_dir[$name]}/notice.log" >&2
    done
    if [ -s "$tn_work/failures" ]; then
      echo "---- the failure (repeated after the logs above)" >&2
      sed 's/^/FAIL: /' "$tn_work/failures" >&2
    elif [ -s "$tn_work/errors" ]; then
      echo "---- exit status $status without a FAIL line; the last failed commands:" >&2
      tail -3 "$tn_work/errors" >&2
    fi
  fi
  if [ -n "${KEEP_WORK:-}" ]; then
    echo "work directory kept: $tn_work" >&2
  elif [ -n "$tn_work" ]; then
    rm -rf "$tn_work"
  fi
  exit "$status"
}
