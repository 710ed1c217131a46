#!/usr/bin/env bash
# netcheck_tap_ping.sh NETCHECK
# hsrelay-netcheck on net_tap inside a fresh network namespace; the kernel
# side of the tap, in the same namespace, is configured by this test:
#   1. the kernel resolves the dataplane's MAC by ARP (broadcast request);
#   2. ping -c 5 gets 5 replies;
#   3. with the kernel's reachable time shortened to 0.5 s its entry
#      expires repeatedly and its unicast ARP probes are answered, so the
#      entry keeps our MAC and pings go on;
#   4. netcheck exits 0 on SIGTERM (net_tap's SIGIO does not break the
#      control thread) and its counters match what the kernel saw.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
netcheck=$1
require_root

ns=hsnc-tap-$$
tap=hsnct$$
begin_test 1 tap

add_netns "$ns"
# net_tap gives the kernel interface the port's MAC: mac_ours is another one.
write_netcheck_conf 1 "net_tap0,iface=$tap" "DPDKHugepages auto" 2047 100
start_netcheck "$ns" 60 50 10
ip -n "$ns" link show "$tap" >/dev/null || fail "no tap interface $tap"
report_eal_mode

tap_up "$ns" "$tap"
ip netns exec "$ns" sysctl -qw "net.ipv4.neigh.$tap.base_reachable_time_ms=500" \
  "net.ipv4.neigh.$tap.delay_first_probe_time=1"

# 1 + 2: ARP, then five echo replies.
ping_out=$(ip netns exec "$ns" ping -c 5 -i 0.2 -W 2 "$ip_ours" 2>&1) ||
  { echo "$ping_out" >&2; fail "ping -c 5 $ip_ours failed"; }
echo "$ping_out" | grep -q '5 packets transmitted, 5 received' ||
  { echo "$ping_out" >&2; fail "ping: not 5 of 5 replies"; }
checked "ping -c 5 $ip_ours: 5 of 5 replies"
neigh=$(ip -n "$ns" neigh show "$ip_ours" dev "$tap")
echo "$neigh" | grep -qi "lladdr $mac_ours" ||
  fail "kernel neighbour entry is '$neigh', expected lladdr $mac_ours"
checked "kernel resolved $ip_ours to $mac_ours by ARP ($neigh)"

# 3: with a 0.5 s reachable time the kernel's entry expires again and
# again; each time the kernel re-validates it with a unicast ARP probe
# (REACHABLE -> DELAY -> PROBE) that the dataplane must answer, or the entry
# fails. After 3 s (several lifetimes) it must still hold our MAC.
states=""
for _ in $(seq 30); do
  s=$(ip -n "$ns" neigh show "$ip_ours" dev "$tap" | awk '{print $NF}')
  case " $states " in *" $s "*) ;; *) states="$states $s" ;; esac
  sleep 0.1
done
neigh=$(ip -n "$ns" neigh show "$ip_ours" dev "$tap")
echo "$neigh" | grep -qi "lladdr $mac_ours" || fail "kernel entry lost after expiry: '$neigh'"
echo "$neigh" | grep -qE 'FAILED|INCOMPLETE' && fail "kernel entry failed: '$neigh'"
checked "kernel entry re-validated across expiries (states seen:$states; now: $neigh)"
ip netns exec "$ns" ping -c 4 -i 0.3 -W 2 "$ip_ours" >"$work/ping2" 2>&1 ||
  { cat "$work/ping2" >&2; fail "ping after expiries failed"; }
grep -q '4 packets transmitted, 4 received' "$work/ping2" ||
  { cat "$work/ping2" >&2; fail "ping after expiries: not 4 of 4"; }
checked "ping after the expiries: 4 of 4 replies"

# 4: counters.
finish_netcheck
icmp=$(counter "$work/out" 0 icmp_replies)
arp=$(counter "$work/out" 0 arp_replies)
txd=$(counter "$work/out" 0 tx_dropped)
[ "${icmp:-0}" -ge 9 ] || fail "icmp_replies=$icmp, expected >= 9"
[ "${arp:-0}" -ge 3 ] || fail "arp_replies=$arp, expected >= 3 (request + unicast probes)"
[ "${txd:-1}" -eq 0 ] || fail "tx_dropped=$txd"
checked "counters: icmp_replies=$icmp arp_replies=$arp tx_dropped=0"
echo "PASS netcheck_tap_ping"
