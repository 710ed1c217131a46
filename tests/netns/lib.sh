# Shared helpers of the netns tests; sourced, not run.
# Every test creates its own namespaces (names carry the test's PID), uses
# only 10.77.x.y addresses inside them, and deletes them on exit (trap).

fail() { echo "FAIL: $*" >&2; exit 1; }
checked() { echo "ok: $*"; }

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "skipping: needs root for network namespaces"
    exit 77
  fi
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

# wait_until SECONDS COMMAND...: polls COMMAND every 0.05 s.
wait_until() {
  local limit=$1; shift
  local end=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$end" ] || return 1
    sleep 0.05
  done
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
