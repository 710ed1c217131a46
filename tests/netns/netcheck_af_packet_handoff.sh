#!/usr/bin/env bash
# netcheck_af_packet_handoff.sh NETCHECK
# Two workers on net_af_packet qpairs=2 over a veth pair: the kernel peer in
# namespace K (10.77.2.1), the dataplane's end in namespace D without an IP.
# The kernel's fanout hash spreads flows over the two queues without regard
# for hsrelay's flow owner, so about half of the flows arrive at the wrong
# worker and must be handed over:
#   1. ARP and ping work with two queues;
#   2. 64 TCP connection attempts (distinct source ports) reach the
#      dataplane; hand-offs happened in at least one direction, every frame
#      handed out was taken in (none dropped), and no worker saw a TCP
#      frame of a flow it does not own (tcp_not_owned = 0).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
netcheck=$1
require_root
require_python

nsk=hsnc-k-$$
nsd=hsnc-d-$$
begin_test 2 afp

add_netns "$nsk" "$nsd"
ip link add veth-dp netns "$nsd" type veth peer name veth-k netns "$nsk"
# Offloads off on the kernel side: otherwise TCP frames reach af_packet
# with partial checksums (dpdk-on-ci-machines.md, section 2).
ip netns exec "$nsk" ethtool -K veth-k tx off tso off gso off >/dev/null
ip -n "$nsk" addr add "$ip_kernel/24" dev veth-k
ip -n "$nsk" link set veth-k up
ip -n "$nsd" link set veth-dp up

write_netcheck_conf 2 net_af_packet0,iface=veth-dp,qpairs=2 "" 4095 100
start_netcheck "$nsd" 60 50 10
report_eal_mode
grep -q 'queues 2' "$work/out" || fail "netcheck did not configure 2 queues"

ping_out=$(ip netns exec "$nsk" ping -c 3 -i 0.2 -W 2 "$ip_ours" 2>&1) ||
  { echo "$ping_out" >&2; fail "ping $ip_ours failed"; }
echo "$ping_out" | grep -q '3 packets transmitted, 3 received' ||
  { echo "$ping_out" >&2; fail "ping: not 3 of 3"; }
checked "ARP + ping over af_packet with two queues: 3 of 3 replies"

# 64 SYNs from 64 source ports; nothing listens (no TCP yet), so the
# kernel retransmits each once within the 1.5 s the sockets stay open.
ip netns exec "$nsk" "$python" - "$ip_ours" <<'PY'
import socket, sys, time
socks = []
for i in range(64):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((sys.argv[1], 9000))
    socks.append(s)
time.sleep(1.5)
for s in socks:
    s.close()
PY

finish_netcheck
tcp=0; out=0; in=0; dropped=0
for w in 0 1; do
  t=$(counter "$work/out" $w tcp); o=$(counter "$work/out" $w handoff_out)
  i=$(counter "$work/out" $w handoff_in); d=$(counter "$work/out" $w handoff_dropped)
  n=$(counter "$work/out" $w tcp_not_owned); r=$(counter "$work/out" $w rx)
  [ -n "$t" ] && [ -n "$o" ] && [ -n "$i" ] && [ -n "$n" ] || fail "worker $w: counters missing"
  [ "$n" -eq 0 ] || fail "worker $w processed $n TCP frames of flows it does not own"
  checked "worker $w: rx=$r tcp=$t handoff_out=$o handoff_in=$i tcp_not_owned=0"
  tcp=$((tcp + t)); out=$((out + o)); in=$((in + i)); dropped=$((dropped + d))
done
[ "$tcp" -ge 64 ] || fail "only $tcp TCP frames reached the workers, expected >= 64"
[ "$out" -gt 0 ] || fail "no frame was handed over: the hand-off was not exercised"
[ "$dropped" -eq 0 ] || fail "$dropped frames dropped at hand-off"
[ "$out" -eq "$in" ] || fail "handed out $out but taken in $in"
checked "foreign-flow hand-off exercised: $out frames handed over, all taken in by their owners, $tcp TCP frames in all"
echo "PASS netcheck_af_packet_handoff"
