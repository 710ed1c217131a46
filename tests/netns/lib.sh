# Shared helpers of the netns tests; sourced, not run.
# Every test creates its own namespaces (names carry the test's PID), uses
# only 10.77.x.y addresses inside them, and deletes them on exit (trap).
# The netcheck helpers read the caller's netcheck (the binary), here (this
# folder), work (begin_test), port and python (require_python).

# fail MESSAGE: also appends MESSAGE to $fail_note_file when a test sets
# one, so that a cleanup trap which dumps logs can repeat it last (a CI
# excerpt shows only the end of a failed test's output; the file also
# catches a fail in a subshell).
fail() {
  echo "FAIL: $*" >&2
  [ -z "${fail_note_file:-}" ] || echo "$*" >>"$fail_note_file" 2>/dev/null || true
  exit 1
}
checked() { echo "ok: $*"; }

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "skipping: needs root for network namespaces"
    exit 77
  fi
}

# require_python: sets python to /usr/bin/python3, or fails without it.
require_python() {
  python=/usr/bin/python3
  [ -x "$python" ] || fail "needs $python"
}

# use_subnet N: sets ip_kernel (10.77.N.1), ip_ours (10.77.N.2) and
# mac_ours (02:00:00:77:0N:02; N < 10) for a test's own subnet.
use_subnet() {
  ip_kernel=10.77.$1.1
  ip_ours=10.77.$1.2
  mac_ours=02:00:00:77:0$1:02
}

# begin_test SUBNET TAG [HELPER_VAR...]: use_subnet SUBNET, a fresh work
# directory in work (/tmp/hsrelay-netns-TAG.*), pid (netcheck's) and each
# HELPER_VAR (a helper process's PID) empty, and cleanup_test of them all
# as the EXIT trap.
begin_test() {
  local subnet=$1 tag=$2 var
  shift 2
  use_subnet "$subnet"
  work=$(mktemp -d "/tmp/hsrelay-netns-$tag.XXXXXX")
  pid=
  for var in "$@"; do printf -v "$var" '%s' ''; done
  # shellcheck disable=SC2064 # the variable names are fixed here on purpose
  trap "cleanup_test pid $*" EXIT
}

# The namespaces add_netns created; cleanup_test deletes them.
test_namespaces=()

# add_netns NS...: creates each namespace with lo up and IPv6 off.
add_netns() {
  local ns
  for ns in "$@"; do
    ip netns add "$ns"
    test_namespaces+=("$ns")
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
      net.ipv6.conf.default.disable_ipv6=1
  done
}

# cleanup_test VAR...: the EXIT trap: SIGKILLs the PIDs held in the named
# variables (empty ones are skipped), deletes the namespaces add_netns made
# and $work (kept when KEEP_WORK is set).
cleanup_test() {
  local var ns
  for var in "$@"; do
    if [ -n "${!var:-}" ]; then kill -KILL "${!var}" 2>/dev/null || true; fi
  done
  for ns in "${test_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}

# lcores SPEC for N workers: the control lcore and the workers, spread over
# the CPUs this process may use (two on CI; workers share them).
lcores_for() {
  local workers=$1 cpus spec i
  cpus=$(nproc)
  spec="0@0"
  for ((i = 1; i <= workers; i++)); do
    spec+=",$i@$(( i % cpus ))"
  done
  echo "$spec"
}

# write_netcheck_conf WORKERS PORT MEMORY MBUFS IDLE_USEC [SETTING...]:
# writes $work/netcheck.conf for WORKERS workers (one queue each) on DPDK
# port PORT, with the MEMORY line (or none when empty), mbufs per worker,
# idle sleep, MAC $mac_ours, address $ip_ours/24, then each SETTING line.
write_netcheck_conf() {
  local workers=$1 port=$2 memory=$3 mbufs=$4 idle_usec=$5
  shift 5
  {
    echo "# written by $(basename "$0")"
    echo "DPDKLcores $(lcores_for "$workers")"
    echo "DPDKPort $port"
    echo "DPDKWorkerQueues $workers"
    [ -z "$memory" ] || echo "$memory"
    echo "DPDKMbufsPerWorker $mbufs"
    echo "DPDKIdleSleepUsec $idle_usec"
    echo "DPDKMac $mac_ours"
    echo "Address $ip_ours/24"
    [ $# -eq 0 ] || printf '%s\n' "$@"
  } >"$work/netcheck.conf"
}

# start_netcheck NS TIMEOUT SECONDS UP_WITHIN: runs netcheck ($netcheck,
# $work/netcheck.conf) in NS for SECONDS under timeout TIMEOUT, output in
# $work/out and $work/err, PID in pid; fails unless its port is up within
# UP_WITHIN seconds.
start_netcheck() {
  local ns=$1 limit=$2 seconds=$3 up_within=$4
  ip netns exec "$ns" timeout "$limit" "$netcheck" -f "$work/netcheck.conf" --seconds "$seconds" \
    >"$work/out" 2>"$work/err" &
  pid=$!
  if ! wait_until "$up_within" grep -q '^netcheck: port' "$work/out"; then
    cat "$work/err" >&2
    fail "netcheck did not come up"
  fi
  checked "netcheck up: $(head -1 "$work/out")"
}

# report_eal_mode: prints the EAL memory mode netcheck logged.
report_eal_mode() {
  checked "$(grep -m1 'EAL on' "$work/err" || echo 'EAL memory mode not reported')"
}

# tap_up NS TAP [TXQUEUELEN]: gives the kernel's end of netcheck's tap the
# address $ip_kernel/24 (and the queue length) and brings it up.
tap_up() {
  ip -n "$1" addr add "$ip_kernel/24" dev "$2"
  [ -z "${3:-}" ] || ip -n "$1" link set "$2" txqueuelen "$3"
  ip -n "$1" link set "$2" up
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.05 s.
wait_until() {
  local limit=$1; shift
  local end=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$end" ] || return 1
    sleep 0.05
  done
}

# latency_summary METRICS KIND: "N cells, p50 <= X, p99 <= Y" from
# hsrelay_cell_latency_seconds{kind="KIND"} in a scraped MetricsPort page,
# summed over workers. A quantile is the upper bound (le) of the bucket it
# falls in: the histogram knows no more.
latency_summary() {
  awk -v kind="kind=\"$2\"" '
    function fmt(le) {
      if (le == "+Inf") return "> 134 ms"
      return le >= 0.001 ? sprintf("%.3g ms", le * 1e3) : sprintf("%.3g us", le * 1e6)
    }
    $1 ~ /^hsrelay_cell_latency_seconds_bucket[{]/ && index($1, kind) {
      le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
      if (!(le in n)) order[++k] = le
      n[le] += $2
    }
    $1 ~ /^hsrelay_cell_latency_seconds_count[{]/ && index($1, kind) { count += $2 }
    END {
      if (count == 0) { print "0 cells"; exit }
      for (q = 1; q <= 2; q++) {
        want = (q == 1 ? 0.5 : 0.99) * count
        for (i = 1; i <= k; i++) if (n[order[i]] >= want) { v[q] = order[i]; break }
      }
      printf "%d cells, p50 <= %s, p99 <= %s\n", count, fmt(v[1]), fmt(v[2])
    }' "$1"
}

# check_checksum_offloads FILE WORKER EXPECTED: with EXPECTED 1, the device
# verified every TCP segment worker WORKER received and was left the
# checksum of every one it sent (single-segment frames on net_tap); with 0,
# none of either (DPDKChecksumOffload 0).
check_checksum_offloads() {
  local file=$1 w=$2 expected=$3 seg_in seg_out rx tx
  seg_in=$(counter "$file" "$w" tcp_segments_in)
  seg_out=$(counter "$file" "$w" tcp_segments_out)
  rx=$(counter "$file" "$w" tcp_rx_checksum_offloaded)
  tx=$(counter "$file" "$w" tcp_tx_checksum_offloaded)
  if [ "$expected" -eq 1 ]; then
    [ "$seg_in" -gt 0 ] && [ "$rx" -eq "$seg_in" ] && [ "$tx" -eq "$seg_out" ] ||
      fail "worker $w: checksums offloaded rx $rx of $seg_in, tx $tx of $seg_out"
  else
    [ "$rx" -eq 0 ] && [ "$tx" -eq 0 ] ||
      fail "worker $w: checksums offloaded rx $rx tx $tx with DPDKChecksumOffload 0"
  fi
  checked "worker $w: TCP checksums by the device: rx $rx of $seg_in segments, tx $tx of $seg_out"
}

# counter FILE WORKER NAME: NAME=value from netcheck's "worker N ..." line.
counter() {
  grep "^worker $2 " "$1" | head -1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# stop_netcheck PID OUT: SIGTERM, wait (bounded), check the exit status and
# that counters were printed.
stop_netcheck() {
  local pid=$1 out=$2 rc=0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    fail "netcheck did not exit within 5 s of SIGTERM"
  fi
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "netcheck exited with status $rc"
  grep -q '^worker 0 ' "$out" || fail "netcheck printed no counters"
  checked "netcheck exited 0 on SIGTERM and printed its counters"
}

# finish_netcheck: stop_netcheck on $pid, clears pid, prints $work/out.
finish_netcheck() {
  stop_netcheck "$pid" "$work/out"
  pid=
  cat "$work/out"
}

# run_echo_client NS TIMEOUT BYTES CONNECTIONS: tcp_peer.py's kernel client
# in NS sends BYTES on each of CONNECTIONS connections to $ip_ours:$port and
# checks the echo; output in $work/client, printed. On failure stops
# netcheck and fails with its counters.
run_echo_client() {
  local ns=$1 limit=$2 bytes=$3 connections=$4
  if ! ip netns exec "$ns" timeout "$limit" "$python" "$here/tcp_peer.py" client "$ip_ours" "$port" \
      --bytes "$bytes" --connections "$connections" >"$work/client" 2>&1; then
    cat "$work/client" >&2
    stop_netcheck "$pid" "$work/out" || true
    pid=
    cat "$work/out" >&2
    fail "kernel client: echo incomplete or different"
  fi
  cat "$work/client"
}
