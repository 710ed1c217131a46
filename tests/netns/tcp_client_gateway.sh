#!/usr/bin/env bash
# tcp_client_gateway.sh NETCHECK [KBYTES]
# DPDKGateway: hsrelay-netcheck's TCP client reaches a kernel echo server
# that is one routed hop away, as a relay on a real NIC reaches the rest of
# the Internet through its default router:
#   netcheck (10.77.4.2/24, DPDKGateway 10.77.4.1) --net_tap-- router
#   namespace (10.77.4.1 on the tap, forwarding) --veth-- far namespace
#   (10.77.14.2/24, route to 10.77.4.0/24 via the router).
# The echo must come back byte-exact, the far server must have seen
# netcheck's own address (no NAT), and netcheck must have dropped nothing
# for want of a route.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
netcheck=$1
kbytes=${2:-2000}
require_root
require_python

ns=hsnc-gw-$$
far=hsnc-gwf-$$
tap=hsngw$$
port=7009
ip_far=10.77.14.2
begin_test 4 gateway server

add_netns "$ns" "$far"
ip link add "vgw$$" netns "$ns" type veth peer name "vgwf$$" netns "$far"
ip -n "$ns" addr add 10.77.14.1/24 dev "vgw$$"
ip -n "$ns" link set "vgw$$" up
ip -n "$far" addr add "$ip_far/24" dev "vgwf$$"
ip -n "$far" link set "vgwf$$" up
ip -n "$far" route add 10.77.4.0/24 via 10.77.14.1
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1

bytes=$((kbytes * 1000))
ip netns exec "$far" timeout 60 "$python" "$here/tcp_peer.py" server "$port" \
  --connections 1 --out "$work/server" >"$work/server.log" 2>&1 &
server=$!
wait_until 10 grep -q listening "$work/server.log" || fail "kernel echo server did not start"
expected=$("$python" "$here/tcp_peer.py" pattern "$bytes")

write_netcheck_conf 1 "net_tap0,iface=$tap" "DPDKMemoryMB 512" 8191 20 \
  "DPDKGateway $ip_kernel" "NetcheckConnect $ip_far:$port" "NetcheckConnectBytes $bytes"
start_netcheck "$ns" 60 50 15
tap_up "$ns" "$tap"

rc=0
wait "$pid" || rc=$?
pid=
cat "$work/out"
[ "$rc" -eq 0 ] || { cat "$work/err" >&2; fail "netcheck exited with status $rc"; }
wait "$server" || fail "kernel echo server failed: $(cat "$work/server.log")"
server=
grep -q '^client .* status=ok ' "$work/out" || fail "netcheck's client connection did not finish ok"
sha=$(sed -n 's/^client .* sha256=\([0-9a-f]*\)$/\1/p' "$work/out")
[ "$sha" = "$expected" ] || fail "netcheck's SHA-256 '$sha', pattern's $expected"
read -r _ _ b s <"$work/server"
[ "$b" = "bytes=$bytes" ] || fail "far server: $b, expected $bytes"
[ "$s" = "sha256=$expected" ] || fail "far server: $s, pattern's $expected"
grep -q "peer=$ip_ours:" "$work/server.log" || fail "far server did not see $ip_ours as the peer: $(cat "$work/server.log")"
no_route=$(counter "$work/out" 0 drop_no_route)
[ -z "$no_route" ] || [ "$no_route" -eq 0 ] || fail "netcheck dropped $no_route packets for want of a route"
checked "$kbytes kB echoed byte-exact by $ip_far through the gateway $ip_kernel"
echo "PASS tcp_client_gateway ${kbytes}kB"
