# standalone_lib.sh: hsrelay alone on DPDK net_tap (no tor network) in the
# namespace a test made with ../netns/lib.sh (begin_test, add_netns), for
# the tests that drive it with the project's own client code
# (relay_hostile, relay_keyupdate, relay_intro, relay_rend). Source it
# after lib.sh; it uses the test's $ns, $tap, $orport, $work, $hsrelay and
# lib.sh's addresses, and sets $conf and $hsrelay_pid.

# standalone_config NICKNAME WORKERS [LINE...]: writes $work/hsrelay.conf
# (a non-publishing relay, unless standalone_publish=1: then it uploads to
# the one DirAuthority, standalone_stub_authority) with the extra config
# LINEs, and checks it with --verify-config.
standalone_config() {
  local nickname=$1 workers=$2 line
  shift 2
  conf=$work/hsrelay.conf
  {
    echo "# written by $(basename "$0")"
    echo "DPDKLcores $(lcores_for "$workers")"
    echo "DPDKPort net_tap0,iface=$tap"
    echo "DPDKWorkerQueues $workers"
    echo "DPDKMemoryMB 512"
    echo "DPDKMbufsPerWorker 16383"
    echo "DPDKIdleSleepUsec 100"
    echo "DPDKMac $mac_ours"
    echo "Address $ip_ours/24"
    echo "DataDirectory $work/hsrelay"
    echo "Nickname $nickname"
    echo "ORPort $orport"
    echo "ContactInfo hsrelay $(basename "$0" .sh) test"
    echo "ExitRelay 0"
    echo "PublishServerDescriptor ${standalone_publish:-0}"
    echo "TestingTorNetwork 1"
    # With PublishServerDescriptor 0 it is never used; else the stub below.
    echo "DirAuthority nowhere orport=5101 v3ident=0123456789ABCDEF0123456789ABCDEF01234567" \
      "$ip_kernel:5201 89AB CDEF 0123 4567 89AB CDEF 0123 4567 89AB CDEF"
    for line in "$@"; do
      echo "$line"
    done
  } >"$conf"
  "$hsrelay" -f "$conf" --verify-config >/dev/null || fail "hsrelay --verify-config refused $conf"
}

# standalone_start: runs hsrelay -f $conf in $ns (stdout in
# $work/hsrelay.out, stderr in $work/hsrelay.err), brings its tap up and
# waits for its start line.
standalone_start() {
  ip netns exec "$ns" "$hsrelay" -f "$conf" >"$work/hsrelay.out" 2>"$work/hsrelay.err" &
  hsrelay_pid=$!
  wait_until 30 ip -n "$ns" link show "$tap" ||
    { cat "$work/hsrelay.err" >&2; fail "hsrelay's tap $tap did not appear"; }
  tap_up "$ns" "$tap"
  wait_until 30 grep -q '^hsrelay: relay ' "$work/hsrelay.out" ||
    { cat "$work/hsrelay.err" >&2; fail "hsrelay did not start"; }
  checked "hsrelay up: $(head -1 "$work/hsrelay.out")"
}

# standalone_stop: hsrelay must still run, stop on SIGTERM within 15 s
# with status 0; prints its exit counters.
standalone_stop() {
  local status=0
  kill -0 "$hsrelay_pid" 2>/dev/null || fail "hsrelay is gone after the client"
  kill -TERM "$hsrelay_pid"
  wait_until 15 sh -c "! kill -0 $hsrelay_pid 2>/dev/null" || fail "hsrelay did not stop on SIGTERM"
  wait "$hsrelay_pid" || status=$?
  hsrelay_pid=
  [ "$status" -eq 0 ] || fail "hsrelay exited $status after SIGTERM"
  grep '^hsrelay: stats' "$work/hsrelay.out" | sed 's/^/  /'
  checked "hsrelay stopped on SIGTERM with status 0"
}

# standalone_metrics PORT: hsrelay's MetricsPort page (on the namespace's
# 127.0.0.1:PORT) into $work/metrics, after the second it takes to be
# refreshed.
standalone_metrics() {
  sleep 2
  ip netns exec "$ns" curl -s --max-time 5 "http://127.0.0.1:$1/metrics" \
    >"$work/metrics" || fail "hsrelay's MetricsPort did not answer"
}

# metric SERIES: the value of SERIES (name and labels as printed) in
# $work/metrics.
metric() {
  awk -v k="$1" 'index($0, k " ") == 1 {print $2}' "$work/metrics"
}

# stat LINE_PREFIX NAME: NAME=value from hsrelay's "hsrelay: stats ..." line.
stat() {
  grep "^hsrelay: stats $1 " "$work/hsrelay.out" | head -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# want NAME: the value the client printed in its "expect:" line.
want() {
  grep '^expect: ' "$work/client.out" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# check_stat LINE_PREFIX NAME [CLIENT_NAME]: hsrelay's counter must equal
# what the client says it caused; prints NAME=value.
check_stat() {
  local line=$1 name=$2 as=${3:-$2} got expected
  got=$(stat "$line" "$name")
  expected=$(want "$as")
  [ -n "$got" ] || fail "hsrelay printed no $name"
  [ "$got" = "$expected" ] || fail "hsrelay $name=$got, the client caused $expected"
  echo "$name=$got"
}

# standalone_stub_authority: a stub directory authority on the namespace's
# kernel side at $ip_kernel:5201 (the DirAuthority of the configs here),
# listening before hsrelay's first upload: each POST /tor/ body is kept in
# $work/uploads/N (dir-spec 3.1) and answered 200; every GET gets 404.
# Sets authority_pid (give it to begin_test to be killed). Needs
# require_python.
standalone_stub_authority() {
  mkdir -p "$work/uploads"
  ip netns exec "$ns" "$python" -c '
import http.server, os, sys
out = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n = len(os.listdir(out))
        with open(os.path.join(out, "%d.tmp" % n), "wb") as f:
            f.write(body)
        os.rename(os.path.join(out, "%d.tmp" % n), os.path.join(out, str(n)))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_GET(self):
        self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer((sys.argv[2], int(sys.argv[3])), H).serve_forever()
' "$work/uploads" 0.0.0.0 5201 &
  authority_pid=$!
}

# uploaded PATTERN: some descriptor the stub authority kept has a line
# PATTERN (grep -x).
uploaded() {
  local f
  for f in "$work"/uploads/*; do
    case $f in *.tmp) continue ;; esac
    [ -f "$f" ] && grep -qx "$1" "$f" && return 0
  done
  return 1
}

# uploads: how many descriptors the stub authority kept.
uploads() {
  find "$work/uploads" -type f ! -name '*.tmp' | wc -l
}

# last_upload: the file of the newest descriptor the stub authority kept.
last_upload() {
  echo "$work/uploads/$(( $(uploads) - 1 ))"
}
