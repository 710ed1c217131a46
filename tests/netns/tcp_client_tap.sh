#!/usr/bin/env bash
# tcp_client_tap.sh NETCHECK [KBYTES] [CONNECTIONS] [WORKERS] [CHECKSUM_OFFLOAD]
# hsrelay-netcheck's TCP client -> a kernel echo server (tcp_peer.py) over
# net_tap, in a fresh network namespace:
#   - netcheck opens CONNECTIONS (default 1) connections (spread over
#     WORKERS workers, default 1, each on a local port whose flow hash names
#     its worker), sends KBYTES (default 100000, i.e. 100 MB) kB of its
#     pattern on each, reads the echo back and checks it byte for byte;
#   - netcheck's SHA-256 of what came back, the kernel server's SHA-256 of
#     what it received and the SHA-256 of the pattern must all be equal;
#   - netcheck exits 0 by itself once every connection is done;
#   - with CHECKSUM_OFFLOAD 1 (the default) net_tap verifies and computes
#     every TCP checksum; with 0 (DPDKChecksumOffload 0) the stack sums
#     them all in software and the kernel checks what it sent.
# Prints the goodput (MB/s each way) netcheck measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
netcheck=$1
kbytes=${2:-100000}
connections=${3:-1}
workers=${4:-1}
checksum_offload=${5:-1}
require_root
require_python

ns=hsnc-tc-$$
tap=hsntc$$
port=7009
begin_test 4 tcpclient server

add_netns "$ns"

bytes=$((kbytes * 1000))
ip netns exec "$ns" timeout 100 "$python" "$here/tcp_peer.py" server "$port" \
  --connections "$connections" --out "$work/server" >"$work/server.log" 2>&1 &
server=$!
wait_until 10 grep -q listening "$work/server.log" || fail "kernel echo server did not start"
expected=$("$python" "$here/tcp_peer.py" pattern "$bytes")

write_netcheck_conf "$workers" "net_tap0,iface=$tap" "DPDKMemoryMB 512" 32767 20 \
  "NetcheckConnect $ip_kernel:$port" "NetcheckConnectBytes $bytes" \
  "NetcheckConnections $connections" "DPDKChecksumOffload $checksum_offload"
start_netcheck "$ns" 100 90 15
# The tap exists once netcheck runs; its first ARP request for the server
# may go out before the address is there, and is repeated a second later.
tap_up "$ns" "$tap" 10000

rc=0
wait "$pid" || rc=$?
pid=
cat "$work/out"
[ "$rc" -eq 0 ] || { cat "$work/err" >&2; fail "netcheck exited with status $rc"; }
wait "$server" || fail "kernel echo server failed: $(cat "$work/server.log")"
server=
n_ok=$(grep -c '^client .* status=ok ' "$work/out" || true)
[ "$n_ok" -eq "$connections" ] || fail "$n_ok of $connections client connections ok"
for sha in $(sed -n 's/^client .* sha256=\([0-9a-f]*\)$/\1/p' "$work/out"); do
  [ "$sha" = "$expected" ] || fail "netcheck's SHA-256 $sha, pattern's $expected"
done
while read -r _ i b s; do
  [ "$b" = "bytes=$bytes" ] || fail "kernel server conn $i: $b, expected $bytes"
  [ "$s" = "sha256=$expected" ] || fail "kernel server conn $i: $s, pattern's $expected"
done <"$work/server"
[ "$(wc -l <"$work/server")" -eq "$connections" ] || fail "kernel server saw $(wc -l <"$work/server") connections"
checked "$connections x $kbytes kB: netcheck's, the kernel server's and the pattern's SHA-256 agree ($expected)"
awk '/^client /{for (i = 1; i <= NF; i++) if ($i ~ /^(seconds|mbytes_per_s)=/) s = s " " $i; print "ok: client " $2 ":" s; s = ""}' "$work/out" | head -4
awk '/^client /{for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) {split($i, a, "="); if (a[2] > m) m = a[2]}} END {printf "ok: all %d connections done in %.2f s: %.1f MB/s each way in all\n", '"$connections"', m, '"$bytes"' * '"$connections"' / 1e6 / m}' "$work/out"
for ((w = 0; w < workers; w++)); do
  [ "$(counter "$work/out" $w tcp_drop_checksum)" -eq 0 ] || fail "worker $w: TCP checksum drops"
  [ "$(counter "$work/out" $w tcp_not_owned)" -eq 0 ] || fail "worker $w: frames of flows it does not own"
  check_checksum_offloads "$work/out" $w "$checksum_offload"
done
echo "PASS tcp_client_tap ${connections}x${kbytes}kB workers=$workers checksum_offload=$checksum_offload"
