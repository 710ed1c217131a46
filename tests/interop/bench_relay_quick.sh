#!/usr/bin/env bash
# bench_relay_quick.sh HSRELAY_BENCH [TRANSPORT]
# hsrelay-bench relay --quick: tor 0.4.9 and hsrelay (over TRANSPORT:
# af_packet by default, or tap, memif or memif-direct) as the relay under
# test, about a second each; the generator is the bench's kernel-socket one,
# except for hsrelay over memif-direct (the DPDK generator process, whose
# line says "generator": "dpdk"). Passes when there is one JSON line
# per impl with the keys of the output contract, cells reached the sink
# (cells > 0), every cell the clients sent reached it (cells_lost 0 after
# the drain), the sink decrypted its samples (verified_cells > 0,
# verify_failures 0), the relay authenticated its link to the sink, and the
# hsrelay line carries ratio_vs_reference, its transport and its worker's
# busy CPU time (no more than its thread's CPU time), and hsrelay's forward
# latency histogram holds exactly the cells it forwarded; every line says
# how far apart CPUs 0 and 1 were (cpu_round_trip_ns). Timings are not
# checked. Exit 77 (meson: skipped) without root or tor.
set -euo pipefail
bench=$1
transport=${2:-af_packet}
out=$(mktemp /tmp/bench_relay_quick.XXXXXX)
trap 'rm -f "$out"' EXIT
status=0
"$bench" relay --quick --transport "$transport" >"$out" || status=$?
[ "$status" -ne 77 ] || exit 77
cat "$out"
[ "$status" -eq 0 ] || { echo "FAIL: hsrelay-bench relay --quick --transport $transport exited $status" >&2; exit 1; }
/usr/bin/python3 - "$out" "$transport" <<'PY'
import json, sys
transport = sys.argv[2]
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
seen = {}
for d in lines:
    assert d["bench"] == "relay", d
    for key in ("impl", "circuits", "links", "cells", "seconds", "cells_per_s", "cpu_seconds",
                "cells_per_cpu_second", "cpu_what", "transport", "cells_sent_total",
                "cells_lost", "cpu"):
        assert key in d, (key, d)
    assert d["cells"] > 0 and d["cells_per_s"] > 0, d
    assert d["cells_sent_total"] >= d["cells"] and d["cells_lost"] == 0, d
    assert d["verified_cells"] > 0 and d["verify_failures"] == 0, d
    assert d["sink_peer_authenticated"], d
    assert d["cpu_seconds"] > 0, d
    # CPU 0 <-> CPU 1 before and after the case (null with one CPU).
    rt = d["cpu_round_trip_ns"]
    assert isinstance(rt, list) and len(rt) == 2, d
    assert all(x is None or x > 0 for x in rt), d
    seen[d["impl"]] = d
assert set(seen) == {"tor", "hsrelay"}, seen.keys()
hs, tor = seen["hsrelay"], seen["tor"]
assert "ratio_vs_reference" in hs, hs
assert hs["transport"] == transport and tor["transport"] == "loopback", (hs, tor)
assert hs["cpu_what"] == "worker busy iterations" and tor["cpu_what"] == "process"
for key in ("worker_thread_cpu_seconds", "worker_idle_poll_seconds", "worker_busy_wall_seconds"):
    assert key in hs and hs[key] >= 0, (key, hs)
assert hs["cpu_seconds"] <= hs["worker_thread_cpu_seconds"] + 1e-3, hs
assert hs["relay_forwarded_total"] == hs["cells_sent_total"], hs
# Every cell hsrelay forwarded was sent on a link, so each is in its
# forward latency histogram exactly once (hsrelay_cell_latency_seconds).
assert hs["relay_latency_cells"] == hs["relay_forwarded_total"], hs
assert hs["relay_latency_mean_us"] > 0, hs
# memif-direct: hsrelay's generator is the DPDK process on hsrelay's own
# stack (bench/bench_ugen.c); tor's is always the kernel-socket one.
assert tor["generator"] == "kernel_sockets", tor
assert hs["generator"] == ("dpdk" if transport == "memif-direct" else "kernel_sockets"), hs
if transport == "memif-direct":
    assert hs["generator_busy_seconds"] > 0, hs
print("PASS bench_relay_quick (%s): tor %d cells/s, hsrelay %d cells/s, ratio %.3f, "
      "%d cells in hsrelay's latency histogram (mean %.1f us)" % (
    transport, tor["cells_per_s"], hs["cells_per_s"], hs["ratio_vs_reference"],
    hs["relay_latency_cells"], hs["relay_latency_mean_us"]))
PY
