#!/usr/bin/env bash
# bench_rend_quick.sh HSRELAY_BENCH [TRANSPORT]
# hsrelay-bench rendezvous --quick: tor 0.4.9 and hsrelay (over TRANSPORT:
# af_packet by default, or memif-direct) as the rendezvous point of the
# same generator code (2 pairs of one-hop circuits, 2000 DATA cells each
# way per pair under an end-to-end layer); over memif-direct hsrelay's
# generator is the DPDK process on hsrelay's own dataplane (bench_ugen.c,
# its line says "generator": "dpdk"), tor's the kernel-socket one.
# Not a timing test: passes when there is one well-formed JSON line per
# impl with the contract's keys, every cell arrived (the generator checks
# each one; cells == 2 * pairs * cells_per_pair, all_cells_arrived), the
# rates, CPU seconds and latencies are non-zero, hsrelay's own counter of
# spliced cells equals what arrived, and the hsrelay line carries
# ratio_vs_reference. The intro phase (256 INTRODUCE1 on fresh ntor
# circuits, each ACKed and relayed as INTRODUCE2, which the generator
# compares with what it sent) gives one "introduce" line per impl that
# must count every introduction; the HSDir phase (a descriptor made by the
# bench, published over BEGIN_DIR, then 256 GETs on parallel streams, each
# answer 200 with exactly that descriptor) one "hsdir" line per impl that
# must count every fetch (over memif-direct both phases are left out: they
# do not use that transport). Exit 77 (meson: skipped) without root or tor.
set -euo pipefail
bench=$1
transport=${2:-af_packet}
phases=()
# Over memif-direct (no intro or HSDir phase) two rounds of tor and
# hsrelay, so that the ratio_summary line is checked too.
[ "$transport" != memif-direct ] || phases=(--introductions 0 --fetches 0 --rounds 2)
out=$(mktemp /tmp/bench_rend_quick.XXXXXX)
trap 'rm -f "$out"' EXIT
status=0
"$bench" rendezvous --quick --transport "$transport" "${phases[@]}" >"$out" || status=$?
[ "$status" -ne 77 ] || exit 77
cat "$out"
[ "$status" -eq 0 ] || { echo "FAIL: hsrelay-bench rendezvous --quick --transport $transport exited $status" >&2; exit 1; }
/usr/bin/python3 - "$out" "$transport" <<'PY'
import json, sys
transport = sys.argv[2]
raw = [l for l in open(sys.argv[1]) if l.strip()]
lines = [json.loads(l) for l in raw]
seen = {}
intro = {}
hsdir = {}
summaries = []
matched_ratios = []
for d in lines:
    if d["impl"] == "ratio_summary":
        summaries.append(d)
        continue
    if d["bench"] == "rendezvous" and d["impl"] == "hsrelay" and d["load"] == "matched":
        matched_ratios.append(d["ratio_vs_reference"])
    if d["bench"] == "hsdir":
        for key in ("impl", "fetches", "descriptor_bytes", "seconds", "fetches_per_s",
                    "cpu_seconds", "fetches_per_cpu_second", "cpu_what", "cpu"):
            assert key in d, (key, d)
        assert d["fetches"] == 256, d
        assert d["fetches_per_s"] > 0 and d["cpu_seconds"] > 0, d
        assert d["response_bytes"] > d["fetches"] * d["descriptor_bytes"], d
        hsdir[d["impl"]] = d
        continue
    if d["bench"] == "introduce":
        for key in ("impl", "introductions", "introduce_acks", "seconds", "introduce2_per_s",
                    "cpu_seconds", "introduce2_per_cpu_second", "cpu_what", "cpu"):
            assert key in d, (key, d)
        assert d["introductions"] == d["introduce_acks"] == 256, d
        assert d["introduce2_per_s"] > 0 and d["cpu_seconds"] > 0, d
        intro[d["impl"]] = d
        continue
    assert d["bench"] == "rendezvous", d
    for key in ("impl", "load", "circuit_pairs", "cells_per_pair", "cells", "seconds",
                "cells_per_s", "cpu_seconds", "cells_per_cpu_second", "cpu_what",
                "p50_us", "p99_us", "latency_samples", "cpu", "load_average"):
        assert key in d, (key, d)
    assert d["cells"] > 0 and d["cells"] == 2 * d["circuit_pairs"] * d["cells_per_pair"], d
    assert d["all_cells_arrived"] is True, d
    assert d["latency_samples"] == d["cells"], d
    for key in ("cells_per_s", "cpu_seconds", "cells_per_cpu_second", "p50_us", "p99_us"):
        assert d[key] > 0, (key, d)
    assert d["p50_us"] <= d["p99_us"] <= d["max_us"], d
    # CPU 0 <-> CPU 1 before and after the case (null with one CPU).
    rt = d["cpu_round_trip_ns"]
    assert isinstance(rt, list) and len(rt) == 2, d
    assert all(x is None or x > 0 for x in rt), d
    seen[d["impl"]] = d
assert set(seen) == {"tor", "hsrelay"}, seen.keys()
hs = seen["hsrelay"]
assert hs["load"] == "matched" and hs["offered_cells_per_s"] > 0, hs
assert hs["ratio_vs_reference"] > 0, hs
assert hs["relay_spliced_total"] == hs["cells"], hs
assert hs["worker_threads"] == 1 and hs["cpu_what"] == "worker busy iterations", hs
assert 0 < hs["cpu_seconds"] <= hs["worker_thread_cpu_seconds"] + 1e-3, hs
assert seen["tor"]["cpu_what"] == "process"
assert seen["tor"]["transport"] == "loopback" and hs["transport"] == transport, (seen["tor"], hs)
assert seen["tor"]["generator"] == "kernel_sockets", seen["tor"]
print("PASS bench_rend_quick (%s): tor %d cells/s (p50 %.0f us), hsrelay %d cells/s (p50 %.0f us), "
      "ratio %.3f" % (transport, seen["tor"]["cells_per_s"], seen["tor"]["p50_us"],
                      hs["cells_per_s"], hs["p50_us"], hs["ratio_vs_reference"]))
if transport == "memif-direct":
    # The DPDK generator, hsrelay's memif peer; no intro or HSDir phase.
    assert hs["generator"] == "dpdk" and hs["generator_busy_seconds"] > 0, hs
    assert not intro and not hsdir, (intro, hsdir)
    # --rounds 2: each round's tor and hsrelay, then their summary.
    assert [d["round"] for d in lines if d["impl"] != "ratio_summary"] == [1, 1, 2, 2], lines
    assert len(summaries) == 1, summaries
    sm = summaries[0]
    assert sm["rounds"] == 2 and sm["circuit_pairs"] == hs["circuit_pairs"], sm
    assert [round(r, 3) for r in sm["ratios"]] == [round(r, 3) for r in matched_ratios], (sm, matched_ratios)
    assert sm["ratio_vs_reference_min"] <= sm["ratio_vs_reference_median"] <= sm["ratio_vs_reference_max"], sm
    assert abs(sm["ratio_vs_reference_median"] - sum(sm["ratios"]) / 2) < 2e-3, sm
    print("  two rounds: ratios %s, median %.3f" % (sm["ratios"], sm["ratio_vs_reference_median"]))
    sys.exit(0)
assert not summaries, summaries
assert hs["generator"] == "kernel_sockets", hs
assert set(intro) == {"tor", "hsrelay"}, intro.keys()
assert intro["hsrelay"]["ratio_vs_reference"] > 0, intro["hsrelay"]
assert set(hsdir) == {"tor", "hsrelay"}, hsdir.keys()
assert hsdir["hsrelay"]["ratio_vs_reference"] > 0, hsdir["hsrelay"]
print("  INTRODUCE2/s tor %d, hsrelay %d; descriptor fetches/s tor %d, hsrelay %d" % (
          intro["tor"]["introduce2_per_s"], intro["hsrelay"]["introduce2_per_s"],
          hsdir["tor"]["fetches_per_s"], hsdir["hsrelay"]["fetches_per_s"]))
PY
