#!/usr/bin/env bash
# bench_relay_quick.sh HSRELAY_BENCH
# hsrelay-bench relay --quick: tor 0.4.9 and hsrelay (net_tap) as the relay
# under test of the same generator, about a second each. Passes when there
# is one JSON line per impl, cells reached the sink (cells > 0), the sink
# decrypted its samples (verified_cells > 0, verify_failures 0), the relay
# authenticated its link to the sink, and the hsrelay line carries
# ratio_vs_reference. Exit 77 (meson: skipped) without root or tor.
set -euo pipefail
bench=$1
out=$(mktemp /tmp/bench_relay_quick.XXXXXX)
trap 'rm -f "$out"' EXIT
status=0
"$bench" relay --quick >"$out" || status=$?
[ "$status" -ne 77 ] || exit 77
cat "$out"
[ "$status" -eq 0 ] || { echo "FAIL: hsrelay-bench relay --quick exited $status" >&2; exit 1; }
/usr/bin/python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
seen = {}
for d in lines:
    assert d["bench"] == "relay", d
    for key in ("circuits", "links", "cells", "seconds", "cells_per_s", "cpu_seconds",
                "cells_per_cpu_second", "cpu_what", "cpu"):
        assert key in d, (key, d)
    assert d["cells"] > 0 and d["cells_per_s"] > 0, d
    assert d["verified_cells"] > 0 and d["verify_failures"] == 0, d
    assert d["sink_peer_authenticated"], d
    assert d["cpu_seconds"] > 0, d
    seen[d["impl"]] = d
assert set(seen) == {"tor", "hsrelay"}, seen.keys()
assert "ratio_vs_reference" in seen["hsrelay"], seen["hsrelay"]
assert seen["hsrelay"]["cpu_what"] == "worker lcore threads"
assert seen["tor"]["cpu_what"] == "process"
print("PASS bench_relay_quick: tor %d cells/s, hsrelay %d cells/s, ratio %.3f" % (
    seen["tor"]["cells_per_s"], seen["hsrelay"]["cells_per_s"],
    seen["hsrelay"]["ratio_vs_reference"]))
PY
