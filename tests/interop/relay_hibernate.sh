#!/usr/bin/env bash
# relay_hibernate.sh HSRELAY RATELIMIT_CLIENT HIBERNATE_CLIENT
# AccountingMax hibernation as tor 0.4.9 does it (hibernate.c; hsrelay's
# control/accounting.c): hsrelay runs alone on DPDK net_tap in a network
# namespace this test creates, publishing to a stub directory authority
# (standalone_lib.sh), with AccountingMax 4 MBytes, AccountingRule max and
# an AccountingStart 12 hours away (no interval ends during the test).
#  1. Awake: descriptors without "hibernating", and without
#     tunnelled-dir-server (tor's router_should_be_dirserver(): 4 MBytes a
#     day could not pay for directory service at BandwidthRate); a link and
#     a circuit from hibernate_client work.
#  2. ratelimit_client's cells across a splice spend the budget up to just
#     past the soft limit (95 %, not the 4 MBytes): hsrelay logs tor's
#     "Bandwidth soft limit reached", refuses new connections, answers a
#     CREATE_FAST on the open link with DESTROY(HIBERNATING = 4), keeps that
#     link, and uploads a descriptor with "hibernating 1" and observed
#     bandwidth 0.
#  3. DROP cells on the open link spend the rest: hsrelay goes dormant and
#     closes the link; it still uploads descriptors.
#  4. SIGTERM saves DataDirectory/state (tor's Accounting* keys); a restart
#     reads it and is dormant from the start (connections refused).
#  5. SIGHUP without AccountingMax: tor's "Hibernation period ended",
#     connections accepted again, a descriptor without "hibernating" and
#     with tunnelled-dir-server.
# MetricsPort's hsrelay_accounting_* and hsrelay_hibernation_state follow.
# Exit 77 (meson: skipped) without root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

hsrelay=$1
rate_client=$2
hib_client=$3
require_root
require_python

ns=hshib-$$
tap=hshib$$
orport=9001
metrics_port=9038
max=4194304
soft=$((max * 95 / 100))
begin_test 0 hibernate hsrelay_pid authority_pid client_pid
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay"
standalone_stub_authority
standalone_publish=1
accounting_start="day $(date -d '+12 hours' +%H:%M)"
accounting_lines=("AccountingMax 4 MBytes" "AccountingStart $accounting_start")
standalone_config hibernator 1 "${accounting_lines[@]}" \
  "MetricsPort 127.0.0.1:$metrics_port" "MetricsPortPolicy accept 127.0.0.1"
standalone_start

# A hibernate_client session on the coprocess HC: ask CMD prints its answer.
client_start() {
  mkdir -p -m 0700 "$work/client_keys"
  coproc HC { ip netns exec "$ns" "$hib_client" "$ip_ours" "$orport" "$work/hsrelay" \
    "$work/client_keys" 2>"$work/hibernate_client.err"; }
  client_pid=$HC_PID
}
ask() {
  local answer
  echo "$1" >&"${HC[1]}"
  read -r -t 30 answer <&"${HC[0]}" ||
    { cat "$work/hibernate_client.err" >&2; fail "hibernate_client did not answer '$1'"; }
  echo "$answer"
}
client_stop() {
  echo quit >&"${HC[1]}"
  wait "$client_pid" || fail "hibernate_client exited $?"
  client_pid=
}
# metric SERIES from the MetricsPort (refreshed every second).
metric_now() {
  standalone_metrics "$metrics_port"
  metric "$1"
}
used_bytes() {
  standalone_metrics "$metrics_port"
  local r w
  r=$(metric 'hsrelay_accounting_bytes{direction="read"}')
  w=$(metric 'hsrelay_accounting_bytes{direction="written"}')
  [ -n "$r" ] && [ -n "$w" ] || fail "the MetricsPort lacks hsrelay_accounting_bytes"
  echo $((r > w ? r : w))
}

# 1. Awake.
wait_until 30 uploaded "bandwidth 1073741824 1073741824 [0-9]*" ||
  { tail -20 "$work/hsrelay.err" >&2; fail "no descriptor reached the stub authority"; }
uploaded "hibernating 1" && fail "an awake relay uploaded 'hibernating 1'"
uploaded "tunnelled-dir-server" &&
  fail "AccountingMax 4 MBytes a day, yet the descriptor offers directory service"
[ "$(metric_now 'hsrelay_hibernation_state{state="awake"}')" = 1 ] ||
  fail "hsrelay_hibernation_state: $(grep hibernation "$work/metrics")"
[ "$(metric hsrelay_accounting_max_bytes)" = "$max" ] ||
  fail "hsrelay_accounting_max_bytes is '$(metric hsrelay_accounting_max_bytes)'"
checked "awake: descriptor without hibernating 1 nor tunnelled-dir-server; hsrelay_accounting_max_bytes $max"
client_start
[ "$(ask open)" = "open ok" ] || fail "no link and circuit while awake"
[ "$(ask create)" = "create ok" ] || fail "CREATE_FAST refused while awake"

# 2. To just past the soft limit: a first run measures the bytes a cell
# costs (read and written once each across the splice, TLS included).
run_rate() {
  mkdir -p -m 0700 "$work/rate$1"
  ip netns exec "$ns" timeout 120 "$rate_client" "$ip_ours" "$orport" "$work/hsrelay" \
    "$work/rate$1" "$ip_kernel" a_to_b "$2" >"$work/rate$1.out" 2>&1 ||
    { tail -20 "$work/rate$1.out" >&2; fail "ratelimit_client run $1 failed"; }
}
used0=$(used_bytes)
run_rate 1 2000
used1=$(used_bytes)
per_cell=$(( (used1 - used0) / 2000 ))
[ "$per_cell" -ge 514 ] || fail "2000 cells cost $((used1 - used0)) bytes of accounting"
# Aim 100 KB past the soft limit: the window to the hard one is 5 %.
cells=$(( (soft + 102400 - used1) / per_cell ))
run_rate 2 "$cells"
wait_until 10 grep -q 'Bandwidth soft limit reached; commencing hibernation' "$work/hsrelay.err" ||
  fail "no soft hibernation at $(used_bytes) bytes (soft limit $soft)"
used2=$(used_bytes)
[ "$used2" -ge "$soft" ] && [ "$used2" -lt "$max" ] ||
  fail "soft hibernation at $used2 bytes, outside [$soft, $max)"
[ "$(metric 'hsrelay_hibernation_state{state="soft"}')" = 1 ] ||
  fail "hsrelay_hibernation_state: $(grep hibernation "$work/metrics")"
checked "soft limit: $used2 bytes used ($per_cell per cell), hibernating softly"
answer=$(ask create)
[ "$answer" = "create destroy 4" ] || fail "CREATE_FAST while hibernating: '$answer', not DESTROY(HIBERNATING)"
answer=$(ask connect)
case $answer in "connect refused"*) ;; *) fail "a new connection while hibernating: '$answer'" ;; esac
[ "$(ask 'closed 1000')" = "closed no" ] || fail "soft hibernation closed the open link"
[ "$(metric_now hsrelay_creates_refused_hibernating_total)" = 1 ] ||
  fail "hsrelay_creates_refused_hibernating_total: $(metric hsrelay_creates_refused_hibernating_total)"
wait_until 10 uploaded "hibernating 1" || fail "no descriptor with 'hibernating 1'"
uploaded "bandwidth 1073741824 1073741824 0" ||
  fail "the hibernating descriptor does not report observed bandwidth 0"
checked "soft: CREATE_FAST -> DESTROY(4), new connection $answer, open link kept, descriptor 'hibernating 1' with bandwidth observed 0"

# 3. The rest of the budget in DROP cells on the open link.
before_hard=$(uploads)
drops=$(( (max - used2) / 514 + 200 ))
answer=$(ask "drop $drops")
case $answer in "drop ok" | "drop closed"*) ;; *) fail "drop: '$answer'" ;; esac
wait_until 15 grep -q 'Going dormant until .* Blowing away remaining connections' "$work/hsrelay.err" ||
  fail "not dormant at $(used_bytes) bytes (AccountingMax $max)"
answer=$(ask 'closed 10000')
case $answer in "closed yes"*) ;; *) fail "dormant, yet the OR link stays: '$answer'" ;; esac
client_stop
[ "$(metric_now 'hsrelay_hibernation_state{state="hard"}')" = 1 ] ||
  fail "hsrelay_hibernation_state: $(grep hibernation "$work/metrics")"
wait_until 10 sh -c "[ \$(find '$work/uploads' -type f ! -name '*.tmp' | wc -l) -gt $before_hard ]" ||
  fail "no descriptor uploaded after going dormant"
grep -qx "hibernating 1" "$(last_upload)" || fail "the dormant relay's descriptor lacks 'hibernating 1'"
checked "hard: $(used_bytes) bytes used, the OR link closed ($answer), descriptor 'hibernating 1' still uploaded"

# 4. The counts survive a restart.
standalone_stop
state=$work/hsrelay/state
grep -q "^AccountingIntervalStart $(date -u +%Y-)" "$state" || fail "state file: $(cat "$state")"
read_kept=$(sed -n 's/^AccountingBytesReadInInterval //p' "$state")
[ -n "$read_kept" ] && [ "$read_kept" -ge "$max" ] && [ $((read_kept % 1024)) = 0 ] ||
  fail "AccountingBytesReadInInterval '$read_kept' (at least $max, a multiple of 1024 as tor writes it)"
checked "state file: AccountingBytesReadInInterval $read_kept"
mv "$work/hsrelay.err" "$work/hsrelay.err.1"
standalone_start
wait_until 10 grep -q 'Going dormant until' "$work/hsrelay.err" ||
  { cat "$work/hsrelay.err" >&2; fail "the restarted relay is not dormant"; }
client_start
answer=$(ask connect)
case $answer in "connect refused"*) ;; *) fail "connection to the dormant restarted relay: '$answer'" ;; esac
checked "restarted dormant from the state file: new connection $answer"

# 5. Accounting off by SIGHUP: awake at once.
grep -v '^Accounting' "$conf" >"$conf.new" && mv "$conf.new" "$conf"
before_wake=$(uploads)
kill -HUP "$hsrelay_pid"
wait_until 10 grep -q 'Hibernation period ended. Resuming normal activity.' "$work/hsrelay.err" ||
  { tail -20 "$work/hsrelay.err" >&2; fail "SIGHUP without AccountingMax did not wake the relay"; }
wait_until 10 sh -c "[ \"\$(echo connect | ip netns exec $ns $hib_client $ip_ours $orport $work/hsrelay $work/client_keys 2>/dev/null)\" = 'connect ok' ]" ||
  fail "connections still refused after waking"
[ "$(ask open)" = "open ok" ] || fail "no link after waking"
[ "$(ask create)" = "create ok" ] || fail "CREATE_FAST refused after waking"
client_stop
wait_until 10 sh -c "[ \$(find '$work/uploads' -type f ! -name '*.tmp' | wc -l) -gt $before_wake ]" ||
  fail "no descriptor uploaded after waking"
f=$(last_upload)
! grep -qx "hibernating 1" "$f" && grep -qx "tunnelled-dir-server" "$f" ||
  fail "the awake relay's descriptor: $(grep -E '^(hibernating|tunnelled|bandwidth)' "$f")"
standalone_metrics "$metrics_port"
grep -q '^hsrelay_hibernation_state' "$work/metrics" &&
  fail "accounting off, yet the MetricsPort has hsrelay_hibernation_state"
checked "SIGHUP without AccountingMax: awake, CREATE_FAST answered, descriptor without hibernating 1, with tunnelled-dir-server"

standalone_stop
echo "PASS relay_hibernate in $(( ($(date +%s%N) - start) / 1000000 )) ms"
