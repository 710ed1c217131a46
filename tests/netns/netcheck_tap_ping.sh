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
ip_ours=10.77.1.2
ip_kernel=10.77.1.1
mac_ours=02:00:00:77:01:02
work=$(mktemp -d /tmp/hsrelay-netns-tap.XXXXXX)
pid=

cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
  net.ipv6.conf.default.disable_ipv6=1

cat > "$work/netcheck.conf" <<CONF
# written by netcheck_tap_ping.sh
DPDKLcores $(lcores_for 1)
DPDKPort net_tap0,iface=$tap
DPDKWorkerQueues 1
DPDKHugepages auto
DPDKMbufsPerWorker 2047
DPDKIdleSleepUsec 100
# net_tap gives the kernel interface the port's MAC: use another one.
DPDKMac $mac_ours
Address $ip_ours/24
CONF

ip netns exec "$ns" timeout 60 "$netcheck" -f "$work/netcheck.conf" --seconds 50 \
  >"$work/out" 2>"$work/err" &
pid=$!
if ! wait_until 10 grep -q '^netcheck: port' "$work/out"; then
  cat "$work/err" >&2
  fail "netcheck did not come up"
fi
ip -n "$ns" link show "$tap" >/dev/null || fail "no tap interface $tap"
checked "netcheck up: $(head -1 "$work/out")"
checked "$(grep -m1 'EAL on' "$work/err" || echo 'EAL memory mode not reported')"

ip -n "$ns" addr add "$ip_kernel/24" dev "$tap"
ip -n "$ns" link set "$tap" up
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
stop_netcheck "$pid" "$work/out"
pid=
cat "$work/out"
icmp=$(counter "$work/out" 0 icmp_replies)
arp=$(counter "$work/out" 0 arp_replies)
txd=$(counter "$work/out" 0 tx_dropped)
[ "${icmp:-0}" -ge 9 ] || fail "icmp_replies=$icmp, expected >= 9"
[ "${arp:-0}" -ge 3 ] || fail "arp_replies=$arp, expected >= 3 (request + unicast probes)"
[ "${txd:-1}" -eq 0 ] || fail "tx_dropped=$txd"
checked "counters: icmp_replies=$icmp arp_replies=$arp tx_dropped=0"
echo "PASS netcheck_tap_ping"
