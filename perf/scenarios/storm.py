#!/usr/bin/python3
"""Scenario (a): cold-start storm — N endpoints x R registrars registered from a cold start.

regfrontd (socket backend) starts with one `credentials number` per (endpoint, realm) and R
registrars, all played by one regfront-registrar-emu (one UDP socket per registrar). Measured:
  * time from regfrontd's start to every binding registered (from `show sip-ua status
    registrar`), and the config-load part of it (until the control socket first answers);
  * per registrar and second, REGISTERs the emulator received: new attempts (the paced starts,
    answered 401) and all REGISTERs (new + authenticated retries, which are not paced);
    the peak of new attempts must not exceed `registration rate`;
  * CPU-seconds of regfrontd (/proc/PID/stat utime+stime, all threads) and of the emulator;
  * RSS (/proc/PID/statm): total ÷ bindings, and growth from the control socket's first answer
    to the end ÷ bindings registered in between.
Also reports the 401 → authenticated REGISTER latency measured by the emulator (e).

  storm.py [--endpoints 100000] [--registrars 6] [--rate 20000] [--workers 2] [--smoke]
Exit status 1 when not every binding registered before --timeout (the CI smoke asserts that).
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoints", type=int, default=100000)
    ap.add_argument("--registrars", type=int, default=6)
    ap.add_argument("--rate", type=int, default=20000, help="registration rate per registrar")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--algorithm", default="MD5", choices=["MD5", "SHA-256"])
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--out", default=os.path.join(c.REPO, "perf", "results", "storm"),
                    help="output prefix (.png, .json)")
    ap.add_argument("--shared-credentials", action="store_true",
                    help="per-number credentials for registrar 1 only; one shared "
                         "`authentication` per other realm (memory split: credentials vs bindings)")
    ap.add_argument("--max-bindings", type=int, default=None,
                    help="regfrontd --max-bindings (slots per worker; default: its own sizing, "
                         "the startup-config's plus a quarter)")
    ap.add_argument("--smoke", action="store_true", help="no PNG; assert completion only")
    a = ap.parse_args()

    total = a.endpoints * a.registrars
    wd = c.workdir("storm")
    ports = c.free_ports(a.registrars)
    realms = [f"storm-{i}.test" for i in range(1, a.registrars + 1)]
    numbers = [str(4000000000 + i) for i in range(a.endpoints)]
    emu = c.Emulator(wd, ports, realms, ["--algorithm", a.algorithm])
    cfg = c.storm_config(numbers, ports, realms, a.expires, a.rate,
                         per_realm_credentials=not a.shared_credentials)
    del numbers
    rf = c.Regfrontd(wd, cfg, workers=a.workers, max_bindings=a.max_bindings)
    del cfg
    m = c.machine()
    c.log(f"storm: {a.endpoints} endpoints x {a.registrars} registrars = {total} bindings, "
          f"rate {a.rate}/s per registrar, {a.workers} workers; load {m['loadavg']}")
    # Baseline: the same daemon and registrars with no endpoint at all, once its control socket
    # answers (fixed cost: code, jemalloc arenas, the minimum binding pools, socket buffers).
    rf0 = c.Regfrontd(c.workdir("storm-base"), c.storm_config([], ports, realms, a.expires, a.rate),
                      workers=a.workers)
    rf0.start()
    rss0 = None
    for _ in range(100):
        if rf0.registrars() is not None:
            time.sleep(0.5)
            rss0 = c.rss_bytes(rf0.pid)
            break
        time.sleep(0.1)
    rf0.kill()
    c.cleanup(rf0.workdir)
    c.log(f"baseline RSS with no endpoint: {rss0 / 2**20 if rss0 else float('nan'):.1f} MiB")
    emu.start()
    ok = False
    samples = []  # (t, cpu, rss, registered)
    base = None   # (t, rss, registered) at the control socket's first answer
    try:
        t0 = rf.start()
        deadline = t0 + a.timeout
        registered = 0
        while time.monotonic() < deadline:
            if not rf.alive():
                raise RuntimeError(f"regfrontd exited:\n{rf.log_tail()}")
            regs = rf.registrars()
            now = time.monotonic() - t0
            if regs is not None:
                registered = sum(r.get("registered", 0) for r in regs)
                cpu, rss = c.cpu_seconds(rf.pid), c.rss_bytes(rf.pid)
                samples.append((now, cpu, rss, registered))
                if base is None:
                    base = (now, rss, registered)
                    c.log(f"control socket up at {now:.2f}s (RSS {rss / 2**20:.1f} MiB, "
                          f"{registered} registered)")
                if registered >= total:
                    ok = True
                    break
            time.sleep(0.2)
        t_done = time.monotonic() - t0
        cpu_end, rss_end = c.cpu_seconds(rf.pid), c.rss_bytes(rf.pid)
        stats = rf.statistics() or {}
        # No allocation on a worker thread during the storm (jemalloc's per-thread
        # count since each worker adopted its first snapshot; null when not tracked).
        heap = [w.get("heap_allocated") for w in (rf.cli_json("show dataplane") or {}).get("workers", [])]
        c.log(f"worker heap bytes allocated during the run (must be 0): {heap}")
        heap_ok = bool(heap) and all(h == 0 for h in heap)
        if not heap_ok:
            c.log("FAIL: a worker allocated on the heap (or the count is unavailable)")
        load_end = c.loadavg()
    finally:
        rf.kill()  # SIGKILL: the unregistration at shutdown is not part of the storm
        emu_cpu = c.cpu_seconds(emu.proc.pid) if emu.proc and emu.proc.poll() is None else None
        summary = emu.stop()
    rows = emu.rows()
    new_ps = c.per_second(rows, "rx_new")
    all_ps = c.per_second(rows, "rx_register")

    def peak_window(series: dict, w: int) -> int:
        """Largest mean over w consecutive seconds (absorbs the receiver's 1-s bucketing of a
        backlog the kernel queued while the emulator's threads waited for a CPU)."""
        vals = [series[t] for t in sorted(series)]
        if len(vals) < w:
            return int(sum(vals) / max(1, len(vals)))
        return int(max(sum(vals[k:k + w]) / w for k in range(len(vals) - w + 1)))

    table_rows = []
    for i in range(1, a.registrars + 1):
        st = next((r for r in stats.get("registrars", []) if r.get("index") == i), {})
        kern = next((x.get("new_by_kernel_second", []) for x in (summary or {}).get("registrars", [])
                     if x.get("index") == i), [])
        table_rows.append([i, realms[i - 1], max(kern) if kern else "?",
                           max(new_ps.get(i, {0: 0}).values()),
                           peak_window(new_ps.get(i, {0: 0}), 3),
                           max(all_ps.get(i, {0: 0}).values()), a.rate,
                           st.get("accepted", "?"), st.get("retransmitted", "?"),
                           st.get("timed_out", "?")])
    reg_time = t_done if ok else None
    result = {
        "machine": m, "load_end": load_end, "endpoints": a.endpoints, "registrars": a.registrars,
        "bindings": total, "rate": a.rate, "max_bindings": a.max_bindings, "shared_credentials": a.shared_credentials, "workers": a.workers, "algorithm": a.algorithm,
        "all_registered": ok, "registered": samples[-1][3] if samples else 0,
        "seconds_to_all_registered": reg_time,
        "seconds_to_control_socket": base[0] if base else None,
        "regfrontd_cpu_seconds": cpu_end, "emulator_cpu_seconds": emu_cpu, "rss_end_bytes": rss_end,
        "rss_per_binding_total": rss_end / total, "rss_baseline_bytes": rss0,
        "rss_growth_over_baseline_per_binding": (rss_end - rss0) / total if rss0 else None,
        "rss_growth_per_binding": ((rss_end - base[1]) / max(1, (samples[-1][3] - base[2])))
        if base and samples else None,
        "emulator": summary, "per_registrar": table_rows,
    }
    print()
    print(f"cold-start storm: {a.endpoints} endpoints x {a.registrars} registrars = {total} bindings; "
          f"rate {a.rate}/s/registrar; {a.workers} workers; {a.algorithm}; "
          f"{'shared credentials for registrars 2-6; ' if a.shared_credentials else ''}"
          f"{'--max-bindings %d; ' % a.max_bindings if a.max_bindings else ''}"
          f"load {m['loadavg']} -> {load_end}")
    print("new REGISTER/s: REGISTERs without Authorization seen for the first time (paced starts), "
          "per second of kernel receive time (SO_TIMESTAMPNS), and per second of the emulator's "
          "processing (1 s / 3 s mean); all: with authenticated retries and retransmissions")
    print(c.table(["registrar", "realm", "peak new REGISTER/s (kernel time)", "(emulator time, 1 s)",
                   "(3 s mean)", "peak all REGISTER/s",
                   "configured rate", "accepted", "retransmitted", "timed out"], table_rows))
    print()
    lat = summary or {}
    print(c.table(["metric", "value"], [
        ["all registered", ok],
        ["time to all registered (from exec)", f"{reg_time:.2f} s" if ok else "NOT REACHED"],
        ["  of which config load + start", f"{base[0]:.2f} s" if base else "?"],
        ["regfrontd CPU-seconds", f"{cpu_end:.2f}"],
        ["regfrontd CPU µs per binding", f"{cpu_end / total * 1e6:.2f}"],
        ["emulator CPU-seconds (all 6 threads) / µs per REGISTER handled",
         f"{emu_cpu:.2f} / {emu_cpu * 1e6 / max(1, sum(x.get('rx_register', 0) for x in (summary or {}).get('registrars', []))):.2f}"
         if emu_cpu is not None else "?"],
        ["RSS at end", f"{rss_end / 2**20:.1f} MiB"],
        ["RSS ÷ bindings (total)", f"{rss_end / total:.0f} B"],
        ["RSS with no endpoint (baseline)", f"{rss0 / 2**20:.1f} MiB" if rss0 else "?"],
        ["(RSS at end − baseline) ÷ bindings",
         f"{(rss_end - rss0) / total:.0f} B" if rss0 else "?"],
        ["RSS growth after the control socket is up (pools are preallocated)",
         f"{(rss_end - base[1]) / 2**20:.1f} MiB" if base else "?"],
        ["401 → auth REGISTER latency p50 / p99 / p99.9 (emulator, incl. kernel)",
         f"{lat.get('latency_p50_us', '?')} / {lat.get('latency_p99_us', '?')} / "
         f"{lat.get('latency_p999_us', '?')} µs ({lat.get('latency_samples', 0)} samples)"],
    ]))
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    if not a.smoke:
        c.write_json(a.out + ".json", result)
        plt = c.pyplot()
        if plt:
            fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 5.2), sharex=True)
            for i in sorted(new_ps):
                ts = sorted(new_ps[i])
                ax1.plot(ts, [new_ps[i][t] for t in ts], label=f"registrar {i}", lw=1)
            ax1.axhline(a.rate, color="k", ls="--", lw=0.8, label="registration rate")
            ax1.set_ylabel("new REGISTER/s")
            ax1.legend(fontsize=6, ncol=4)
            ax1.set_title(f"cold-start storm: {total} bindings, {a.workers} workers "
                          f"(load {m['loadavg']})", fontsize=9)
            st = [s[0] for s in samples]
            ax2.plot(st, [s[3] for s in samples], label="bindings registered")
            ax2.set_ylabel("registered")
            ax3 = ax2.twinx()
            ax3.plot(st, [s[2] / 2**20 for s in samples], color="tab:red", lw=0.8)
            ax3.set_ylabel("regfrontd RSS MiB", color="tab:red")
            ax2.set_xlabel("seconds (emulator: since its start; registered: since regfrontd exec)")
            fig.tight_layout()
            c.save_png(fig, a.out + ".png")
            c.log(f"wrote {a.out}.png")
    if ok:
        c.cleanup(wd)
    else:
        print(f"NOT every binding registered ({result['registered']}/{total}); files kept in {wd}")
        print(rf.log_tail())
    return 0 if ok and heap_ok else 1


if __name__ == "__main__":
    sys.exit(main())
