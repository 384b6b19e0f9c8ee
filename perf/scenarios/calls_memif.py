#!/usr/bin/python3
"""Relayed calls on the DPDK path over net_memif: the relay's own CPU per call, with no kernel
between it and its peers.

regfront_loadgen (memif server, 10.77.0.254) plays everyone but the relay: the registrar and
provider proxy of realm calls.test on UDP 5060 (REGISTER 401/200; INVITE without credentials
407, with them verified (MD5, HA1 from the configured password) then 200 OK), the far end on
5061 (ACK, BYE → 200) and the SBC core on 5070, which — once every number is registered —
places --calls calls at --call-rate per second: INVITE → 200 → ACK → BYE → 200 through
regfrontd. regfrontd runs `--io dpdk` as the memif client (10.77.0.1 on `interface dpdk0`):
--numbers pots dial peers (4000000000…), one `authentication … realm calls.test`, `dial-peer
voice 100000 voip / destination-pattern .T / session target registrar`, the core's address in
`ip address trusted list`. Per call regfrontd handles 6 datagrams in and 8 out (INVITE, 100,
INVITE, 407, ACK, INVITE+credentials, 200, 200, ACK, ACK, BYE, BYE, 200, 200).

Measured over the calls' window (the baseline is read in a 1 s pause the generator makes
between the last registration and the first call; the end once the generator is done):
  * the worker's busy time (busy_tsc of `show dataplane | json`: iterations that moved a packet)
    per call, and its per-stage split;
  * the control thread's CPU time per call (/proc);
  * the core's INVITE → 200 setup time (generator TSC) and the count of calls completed.
A kernel-socket relay doing the same job (perf/scenarios/calls.py: Kamailio with tm, rr, dialog
and uac_auth) pays its system calls and wake-ups in its figure; this one has none to pay, which
is what a carrier appliance with DPDK NICs runs.

  calls_memif.py [--numbers 100] [--calls 20000] [--call-rate 2000] [--hold-ms 0] [--smoke]
Exit status 1 when not every call completed, a digest failed verification, or the worker
allocated on the heap during the run.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402

PORT = 5060
REALM = "calls.test"


def config(numbers: int) -> str:
    out = ["interface dpdk0", " ip address 10.77.0.1 255.255.255.0", "!",
           "voice service voip", " ip address trusted list", "  ipv4 10.77.0.254 255.255.255.255",
           " sip", "  bind control source-interface dpdk0", f"  listen-port non-secure {PORT}", "!",
           "sip-ua", f" registrar 1 ipv4:10.77.0.254:{PORT} expires 3600",
           f" authentication username load password 0 pw-{REALM} realm {REALM}", "!"]
    for i in range(numbers):
        out.append(f"dial-peer voice {i + 1} pots\n destination-pattern {4000000000 + i}")
    out += ["dial-peer voice 100000 voip", " description calls from the core to the provider",
            " destination-pattern .T", " session target registrar", "end"]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--numbers", type=int, default=100, help="registered numbers placing the calls")
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--call-rate", type=float, default=2000, help="calls started per second")
    ap.add_argument("--hold-ms", type=float, default=0, help="ACK -> BYE at the core")
    ap.add_argument("--window", type=int, default=4096, help="calls at once, at most")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for the generator's run")
    ap.add_argument("--out", default=None, help="JSON result path (default: none)")
    ap.add_argument("--rt", action="store_true",
                    help="root: the pollers (generator, regfrontd's rte-worker-* threads) run SCHED_RR 1 once the link "
                         "is up, so that other processes cannot preempt them inside a busy iteration (busy time is "
                         "wall time: on a loaded machine it counts the preemptions too)")
    ap.add_argument("--smoke", action="store_true", help="CI: assert completion, verification and no heap use")
    a = ap.parse_args()
    if a.smoke:
        a.numbers, a.calls, a.call_rate, a.timeout = 10, 300, 300, 20

    loadgen, daemon, cli = c.binary("regfront_loadgen"), c.binary("regfrontd"), c.binary("regfront-cli")
    wd = c.workdir("calls-memif")
    sock, ctl = os.path.join(wd, "memif.sock"), os.path.join(wd, "control.sock")
    cfg_path = os.path.join(wd, "startup-config")
    with open(cfg_path, "w") as f:
        f.write(config(a.numbers))
    tag = f"rfcalls-{os.getpid()}"
    ncpu = os.cpu_count() or 1
    m = c.machine()
    eal = c.memif_eal
    gen_log, rf_log = os.path.join(wd, "loadgen.log"), os.path.join(wd, "regfrontd.log")
    max_calls = max(2048, int(a.call_rate * (8 + a.hold_ms / 1000 + 2) * 2))
    gen_cmd = [loadgen, *eal(f"{tag}-g", f"net_memif0,role=server,socket={sock}", ["-l", "0"]), "--",
               "--role", "calls", "--local", "10.77.0.254", "--peer", "10.77.0.1", "--port", str(PORT),
               "--realms", REALM, "--user", "load", "--password-prefix", "pw-", "--verify-every", "1",
               "--numbers", str(a.numbers), "--calls", str(a.calls), "--call-rate", str(a.call_rate),
               "--hold-ms", str(a.hold_ms), "--window", str(a.window), "--expires", "3600", "--call-delay", "1",
               "--linger", "0.3", "--duration", str(a.timeout), "--hold"]
    lc = "0-1" if ncpu >= 2 else "(0-1)@0"
    eal_s = " ".join(eal(f"{tag}-d", f"net_memif0,role=client,socket={sock}", ["--lcores" if "@" in lc else "-l", lc]))
    rf_cmd = [daemon, "--io", "dpdk", "--eal", eal_s, "--config", cfg_path, "--control-socket", ctl,
              "--workers", "1", "--stage-timing", "--max-calls", str(max_calls)]
    placement = "generator: CPU 0; regfrontd: control thread on CPU 0, worker on lcore 1 (CPU 1)"
    c.log(f"calls-memif: {a.calls} calls at {a.call_rate:g}/s from {a.numbers} numbers, hold {a.hold_ms:g} ms; "
          f"{placement}; load {m['loadavg']}")

    def show_dataplane():
        return c.cli_show_json(cli, ctl, "show dataplane")

    def log_has(text: str) -> bool:
        with open(gen_log, errors="replace") as f:
            return text in f.read()

    procs = c.Processes()
    start = procs.start

    d0 = d1 = None
    ctl0 = ctl1 = 0.0
    t0 = t1 = 0.0
    try:
        gen = start(gen_cmd, gen_log)
        time.sleep(0.5)
        rf = start(rf_cmd, rf_log)
        if a.rt:
            link_deadline = time.monotonic() + 20
            while time.monotonic() < link_deadline and not log_has("link up"):
                time.sleep(0.01)
            tids = [gen.pid]
            deadline = time.monotonic() + 20
            while len(tids) == 1 and time.monotonic() < deadline:
                for t in os.listdir(f"/proc/{rf.pid}/task"):
                    with open(f"/proc/{rf.pid}/task/{t}/comm") as f:
                        if f.read().startswith("rte-worker"):
                            tids.append(int(t))
                time.sleep(0.05)
            for t in tids:
                os.sched_setscheduler(t, os.SCHED_RR, os.sched_param(1))
            c.log(f"SCHED_RR 1 on threads {tids}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and gen.poll() is None and rf.poll() is None:
            # The generator waits 1 s between the last registration and the first call: the
            # baseline is read in that pause, so the window holds every call and nothing else.
            if log_has("numbers registered"):
                d0, ctl0, t0 = show_dataplane(), c.thread_cpu(rf.pid, "regfrontd"), time.monotonic()
                if log_has("calls start"):
                    c.log("the baseline came after the first call: the figures include a few registrations")
                break
            time.sleep(0.02)
        if not c.wait_for_summary(gen, gen_log, a.timeout + 30):
            c.log("the generator did not finish")
        for _ in range(3):  # the control socket may be slow to answer on a loaded machine
            if rf.poll() is not None or d1 is not None:
                break
            d1, ctl1, t1 = show_dataplane(), c.thread_cpu(rf.pid, "regfrontd"), time.monotonic()
        if d0 is None or d1 is None:
            c.log(f"no dataplane reading ({'before' if d0 is None else 'after'} the calls); regfrontd "
                  + ("running" if rf.poll() is None else f"exited {rf.returncode}"))
        load_end = c.loadavg()
    finally:
        procs.stop()
    s = c.loadgen_summary(gen_log) or {}
    done = s.get("calls_done", 0)
    heap = [w.get("heap_allocated") for w in (d1 or {}).get("workers", [])]
    ok = (done == a.calls and s.get("verify_failed", 1) == 0 and s.get("verified", 0) >= a.calls
          and bool(heap) and all(h == 0 for h in heap))
    rows = [["calls completed (INVITE-407-INVITE-200-ACK-BYE-200)", f"{done} of {a.calls}; failed "
             f"{s.get('calls_failed', '?')}, timed out {s.get('calls_timed_out', '?')}"],
            ["INVITEs challenged / answered with credentials, verified", f"{s.get('sent_407', '?')} / "
             f"{s.get('invites_authed', '?')}, {s.get('verified', '?')} verified, {s.get('verify_failed', '?')} failed"],
            ["calls window (first INVITE -> last BYE's 200)", f"{s.get('calls_seconds', -1):.3f} s"],
            ["setup INVITE -> 200 at the core p50 / p99 / max",
             f"{s.get('setup_p50_us', '?')} / {s.get('setup_p99_us', '?')} / {s.get('setup_max_us', '?')} µs"],
            ["worker heap bytes allocated (must be 0)", str(heap)]]
    result = {"machine": m, "load_end": load_end, "placement": placement, "numbers": a.numbers, "calls": a.calls,
              "call_rate": a.call_rate, "hold_ms": a.hold_ms, "generator": s, "heap_allocated": heap, "ok": ok}
    if d0 and d1 and done:
        w0, w1 = d0["workers"][0], d1["workers"][0]
        k0, k1 = w0.get("counters", {}), w1.get("counters", {})
        hz = k1.get("tsc_hz") or 1
        busy = (k1.get("busy_tsc", 0) - k0.get("busy_tsc", 0)) / hz
        pk = (w1.get("rx", 0) - w0.get("rx", 0)) + (w1.get("tx", 0) - w0.get("tx", 0))
        control = ctl1 - ctl0
        rows += [["worker busy time per call", f"{busy / done * 1e6:.2f} µs ({busy:.3f} s over {t1 - t0:.1f} s; "
                  f"{pk} datagrams in and out)"],
                 ["control thread CPU per call", f"{control / done * 1e6:.2f} µs ({control:.3f} s)"],
                 ["relay CPU per call (worker busy + control thread)", f"{(busy + control) / done * 1e6:.2f} µs"]]
        st = {n[6:-4]: (k1.get(n, 0) - k0.get(n, 0)) for n in k1 if n.startswith("stage_") and n.endswith("_tsc")}
        if st:
            rows.append(["worker µs per call by stage", ", ".join(f"{n} {v / hz / done * 1e6:.2f}"
                                                                 for n, v in st.items() if v)])
        result.update({"busy_s": busy, "control_s": control, "frames": pk, "window_s": t1 - t0,
                       "busy_us_per_call": busy / done * 1e6, "control_us_per_call": control / done * 1e6,
                       "relay_us_per_call": (busy + control) / done * 1e6})
        calls_ctr = {k: v for k, v in (w1.get("counters", {}) or {}).items() if k.startswith("call")}
        if calls_ctr:
            result["call_counters"] = calls_ctr
    print()
    print(f"relayed calls over net_memif: {a.calls} calls at {a.call_rate:g}/s, hold {a.hold_ms:g} ms, "
          f"{a.numbers} numbers; regfrontd --io dpdk --workers 1; load {m['loadavg']} -> {load_end}")
    print(placement)
    print(c.table(["metric", "value"], rows))
    return c.finish_run(ok, wd, a.out, result, "NOT every call completed/verified, or the worker allocated",
                        (gen_log, rf_log), tail=15)


if __name__ == "__main__":
    sys.exit(main())
