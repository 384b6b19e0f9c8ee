#!/usr/bin/python3
"""Scenario (a)+(e) on the DPDK path: the cold-start storm over net_memif.

regfront_loadgen plays R registrars (memif server; 10.77.0.254, UDP ports 5060..5060+R-1, realm
storm-N.test each, MD5 digest verified with HA1 from the configured password) and regfrontd runs
`--io dpdk` as the memif client (10.77.0.1 on `interface dpdk0`) with N dial-peer numbers and
one `authentication` per realm, so N x R bindings register from a cold start. Measured in the
generator (TSC, one clock):
  * per registrar: new REGISTERs (no Authorization, Via branch not seen before) in the busiest
    sliding second (and 100 ms x 10) vs `registration rate`; time from its first REGISTER to
    its last binding's 200;
  * challenged registrations per second = bindings / (first REGISTER -> last binding's 200);
  * 401 -> authenticated REGISTER latency: TSC after the generator's rte_eth_tx_burst of the 401
    to TSC after the rte_eth_rx_burst that brought the answer (matched by nonce): regfrontd's
    RX + parse + digest + build + TX and memif both ways;
  * regfrontd's worker counters from `show dataplane | json`: busy TSC ticks (iterations that
    moved a packet) and the per-stage split, i.e. ns per packet by stage.

  * regfrontd's RSS (/proc/PID/statm) when all are registered, minus that of the same daemon
    with no endpoint (storm.py's bytes per binding), and its peak (VmHWM); exec -> the last
    binding's 200 (the generator's TSC put on CLOCK_MONOTONIC).

  storm_dpdk.py [--endpoints 100000] [--registrars 6] [--rate 1000000] [--workers 1] [--scrape S]
                [--credentials-per-number] [--max-bindings N] [--settle 10] [--no-baseline]
                [--smoke]

A million bindings (perf/RESULTS.md, section i): --endpoints 200000 --registrars 5.

lcores: the generator polls CPU 0 together with regfrontd's main lcore (control thread, idle
once the config is loaded); regfrontd's workers poll lcores 1..W. With W >= nproc the workers
share CPUs with the generator (figures then say little). Exit status 1 when not every binding
registered.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402

BASE_PORT = 5060


def config(endpoints: int, registrars: int, rate: int, expires: int, per_number: bool = False) -> str:
    """per_number: one `credentials number N username N password 0 pw-N realm R` line per binding
    (N x R lines, the shape of storm.py's config and of the 600k memory figure) instead of the
    dial-peers and one `authentication` per realm."""
    out = ["interface dpdk0", " ip address 10.77.0.1 255.255.255.0", "!",
           "voice service voip", " sip", "  bind control source-interface dpdk0",
           "  listen-port non-secure 5060", "!", "sip-ua"]
    for i in range(registrars):
        out.append(f" registrar {i + 1} ipv4:10.77.0.254:{BASE_PORT + i} expires {expires}")
    realms = [f"storm-{i + 1}.test" for i in range(registrars)]
    if not per_number:
        for realm in realms:
            out.append(f" authentication username storm password 0 pw-{realm} realm {realm}")
    out.append(f" registration rate {rate}")
    if per_number:
        for i in range(endpoints):
            n = 4000000000 + i
            out.extend(f" credentials number {n} username {n} password 0 pw-{n} realm {realm}" for realm in realms)
    out.append("!")
    if not per_number:
        for i in range(endpoints):
            out.append(f"dial-peer voice {i + 1} pots\n destination-pattern {4000000000 + i}")
    out.append("end")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoints", type=int, default=100000)
    ap.add_argument("--registrars", type=int, default=6)
    ap.add_argument("--rate", type=int, default=1000000, help="registration rate per registrar")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--verify-every", type=int, default=1,
                    help="the generator checks every Nth authenticated REGISTER's response (1 = all)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for the generator's run")
    ap.add_argument("--loadgen", default=None, help="default: BUILD/perf/regfront_loadgen")
    ap.add_argument("--out", default=None, help="JSON result path (default: none)")
    ap.add_argument("--no-stage-timing", action="store_true",
                    help="run regfrontd without --stage-timing (no per-stage split; busy time is still counted)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the generator and regfrontd under `nice -n N` (e.g. -10 as root on a box whose "
                         "other users' builds would otherwise preempt the two pollers; see the table's load)")
    ap.add_argument("--rt", action="store_true",
                    help="root: the pollers (generator, regfrontd's rte-worker-* threads) run SCHED_RR 1 once the "
                         "control socket answers, so other users' builds cannot preempt them for milliseconds; "
                         "the kernel's RT throttling still leaves 5%% of each CPU to everything else")
    ap.add_argument("--perf", metavar="FILE", help="perf record -e cpu-clock -p REGFRONTD into FILE while the "
                    "storm runs (then: perf report -i FILE --comm rte-worker-1 --sort dso,sym)")
    ap.add_argument("--scrape", type=float, default=0, metavar="SECONDS",
                    help="run regfrontd with --metrics and scrape /metrics every SECONDS during the storm (0: off); "
                         "`promtool check metrics` must pass on a scrape taken mid-storm")
    ap.add_argument("--credentials-per-number", action="store_true",
                    help="one `credentials number` line per binding (username = the number, password pw-NUMBER, "
                         "as storm.py) instead of dial-peers and one `authentication` per realm; the generator "
                         "verifies with --per-user")
    ap.add_argument("--settle", type=float, default=10, metavar="SECONDS",
                    help="RSS again this long after all registered (pages jemalloc still holds from the config "
                         "load are returned over seconds; a fast storm may end first); 0: not")
    ap.add_argument("--max-bindings", type=int, default=None,
                    help="regfrontd --max-bindings (slots per worker; default: its own sizing, the "
                         "startup-config's largest plan plus a quarter)")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the no-endpoint regfrontd whose RSS is subtracted (bytes per binding)")
    ap.add_argument("--smoke", action="store_true", help="CI: assert completion and verification only")
    a = ap.parse_args()

    total = a.endpoints * a.registrars
    if a.smoke:  # CI asserts completion only: no memory figures (they take a second daemon and 10 s)
        a.settle, a.no_baseline = 0, True
    loadgen = a.loadgen or c.binary("regfront_loadgen")
    daemon, cli = c.binary("regfrontd"), c.binary("regfront-cli")
    wd = c.workdir("storm-dpdk")
    sock = os.path.join(wd, "memif.sock")
    ctl = os.path.join(wd, "control.sock")
    cfg_path = os.path.join(wd, "startup-config")
    with open(cfg_path, "w") as f:
        f.write(config(a.endpoints, a.registrars, a.rate, a.expires, a.credentials_per_number))
    tag = f"rfstorm-{os.getpid()}"
    ncpu = os.cpu_count() or 1
    realms = [f"storm-{i + 1}.test" for i in range(a.registrars)]
    m = c.machine()
    eal = c.memif_eal
    gen_log = os.path.join(wd, "loadgen.log")
    rf_log = os.path.join(wd, "regfrontd.log")
    procs = c.Processes()
    start = procs.start

    nice = ["nice", "-n", str(a.nice)] if a.nice else []
    gen_cmd = [*nice, loadgen, *eal(f"{tag}-r", f"net_memif0,role=server,socket={sock}", ["-l", "0"]), "--",
               "--role", "registrar", "--local", "10.77.0.254", "--peer", "10.77.0.1",
               "--port", str(BASE_PORT), "--realms", ",".join(realms), "--user", "storm",
               "--password-prefix", "pw-", "--verify-every", str(a.verify_every),
               "--expect", str(total), "--linger", "0.3", "--expires", str(a.expires),
               "--duration", str(a.timeout), "--queues", str(a.workers), "--hold",
               *(["--per-user"] if a.credentials_per_number else [])]
    lc = f"0-{a.workers}" if a.workers + 1 <= ncpu else f"(0-{a.workers})@(0-{ncpu - 1})"
    eal_s = " ".join(eal(f"{tag}-d", f"net_memif0,role=client,socket={sock}",
                         ["--lcores" if "@" in lc else "-l", lc]))
    rf_cmd = [*nice, daemon, "--io", "dpdk", "--eal", eal_s, "--config", cfg_path, "--control-socket", ctl,
              "--workers", str(a.workers), *([] if a.no_stage_timing else ["--stage-timing"]),
              *(["--max-bindings", str(a.max_bindings)] if a.max_bindings else [])]
    metrics_port = 0
    if a.scrape > 0:
        import socket
        with socket.socket() as so:
            so.bind(("127.0.0.1", 0))
            metrics_port = so.getsockname()[1]
        rf_cmd += ["--metrics", f"127.0.0.1:{metrics_port}"]
    scrapes = {"count": 0, "failed": 0, "mid": None}

    def scraper(stop):
        import urllib.request
        while not stop.wait(a.scrape):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
                    text = r.read().decode()
                scrapes["count"] += 1
                # Mid-storm: some bindings accepted, not all.
                accepted = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                               if line.startswith("regfront_registrar_accepted_total{"))
                if scrapes["mid"] is None and 0 < accepted < total:
                    scrapes["mid"] = text
            except OSError:
                scrapes["failed"] += 1
    placement = (f"generator: CPU 0 (lcore 0); regfrontd: main lcore 0 on CPU 0, "
                 + ", ".join(f"worker {w} on lcore {w + 1} (CPU {(w + 1) if a.workers + 1 <= ncpu else 'shared'})"
                             for w in range(a.workers)))
    c.log(f"storm-dpdk: {a.endpoints} x {a.registrars} = {total} bindings, rate {a.rate}/s/registrar, "
          f"{a.workers} worker(s); {placement}; load {m['loadavg']}"
          + (f"; nice {a.nice}" if a.nice else "") + ("; pollers SCHED_RR" if a.rt else ""))

    def show_dataplane(sock_path=ctl):
        return c.cli_show_json(cli, sock_path, "show dataplane")

    # Baseline for bytes per binding (storm.py's definition): the same daemon, EAL memory and
    # registrars with no endpoint, 0.5 s after its control socket answers (code, jemalloc arenas,
    # the mbuf pool, the minimum binding tables), against a generator of its own (a memif client
    # does not start without its server) that sees no REGISTER.
    rss0 = None
    if not a.no_baseline:
        wd0 = c.workdir("storm-dpdk-base")
        cfg0, ctl0 = os.path.join(wd0, "startup-config"), os.path.join(wd0, "control.sock")
        with open(cfg0, "w") as f:
            f.write(config(0, a.registrars, a.rate, a.expires))
        sock0 = os.path.join(wd0, "memif.sock")
        eal0 = " ".join(eal(f"{tag}-b", f"net_memif0,role=client,socket={sock0}",
                            ["--lcores" if "@" in lc else "-l", lc]))
        base = c.Processes()
        try:
            base.start([loadgen, *eal(f"{tag}-g", f"net_memif0,role=server,socket={sock0}", ["-l", "0"]), "--",
                        "--role", "registrar", "--local", "10.77.0.254", "--peer", "10.77.0.1",
                        "--port", str(BASE_PORT), "--realms", ",".join(realms), "--duration", "30",
                        "--queues", str(a.workers), "--hold"], os.path.join(wd0, "loadgen.log"))
            time.sleep(0.5)
            rf0 = base.start([daemon, "--io", "dpdk", "--eal", eal0, "--config", cfg0, "--control-socket", ctl0,
                              "--workers", str(a.workers), *([] if a.no_stage_timing else ["--stage-timing"])],
                             os.path.join(wd0, "regfrontd.log"))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and rf0.poll() is None:
                if os.path.exists(ctl0) and show_dataplane(ctl0) is not None:
                    time.sleep(0.5)
                    rss0 = c.rss_bytes(rf0.pid)
                    break
                time.sleep(0.05)
        finally:
            base.stop()
        if rss0 is None:
            with open(os.path.join(wd0, "regfrontd.log"), errors="replace") as f:
                c.log("baseline regfrontd did not answer: " + f.read()[-2000:])
        else:
            c.cleanup(wd0)
        c.log(f"baseline RSS with no endpoint: {rss0 / 2**20 if rss0 else float('nan'):.1f} MiB")

    d0 = d1 = None
    t_exec = None
    rss_ctl = rss_end = hwm = rss_settled = None
    try:
        gen = start(gen_cmd, gen_log)
        time.sleep(0.5)
        t_exec = time.monotonic()
        rf = start(rf_cmd, rf_log)
        # The control socket answers once the config is loaded; take the baseline counters then.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and rf.poll() is None and gen.poll() is None:
            if os.path.exists(ctl):
                d0 = show_dataplane()
                if d0 is not None:
                    break
            time.sleep(0.05)
        t_ctl = time.monotonic() - t_exec
        rss_ctl = c.rss_bytes(rf.pid) if rf.poll() is None else None
        if a.rt:
            # Not before the memif link is up: its handshake runs in the EAL interrupt threads,
            # which two RT pollers would starve (then the first ARP request is lost: 1 s).
            link_deadline = time.monotonic() + 20
            while time.monotonic() < link_deadline:
                with open(gen_log, errors="replace") as f:
                    if "link up" in f.read():
                        break
                time.sleep(0.01)
            tids = [gen.pid]
            for t in os.listdir(f"/proc/{rf.pid}/task"):
                with open(f"/proc/{rf.pid}/task/{t}/comm") as f:
                    if f.read().startswith("rte-worker"):
                        tids.append(int(t))
            for t in tids:
                os.sched_setscheduler(t, os.SCHED_RR, os.sched_param(1))
            c.log(f"SCHED_RR 1 on threads {tids}")
        scrape_stop = None
        if a.scrape > 0:
            import threading
            scrape_stop = threading.Event()
            threading.Thread(target=scraper, args=(scrape_stop,), daemon=True).start()
        perf = None
        if a.perf:
            perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-p", str(rf.pid), "-o", a.perf],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not c.wait_for_summary(gen, gen_log, a.timeout + 30):
            c.log("the generator did not finish")
        t_gen_end = time.monotonic() - t_exec
        rss_end = c.rss_bytes(rf.pid) if rf.poll() is None else None
        hwm = c.vm_kib(rf.pid, "VmHWM") * 1024 if rf.poll() is None else None
        if a.settle > 0 and rf.poll() is None:
            time.sleep(a.settle)
            rss_settled = c.rss_bytes(rf.pid) if rf.poll() is None else None
        if scrape_stop is not None:
            scrape_stop.set()
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=30)
        d1 = show_dataplane()
        load_end = c.loadavg()
    finally:
        procs.stop()
    s = c.loadgen_summary(gen_log) or {}
    # No allocation on a worker thread during the storm (jemalloc's per-thread count
    # since each worker adopted its first snapshot; null when not tracked).
    heap = [w.get("heap_allocated") for w in (d1 or {}).get("workers", [])]
    c.log(f"worker heap bytes allocated during the run (must be 0): {heap}")
    heap_ok = bool(heap) and all(h == 0 for h in heap)
    ok = s.get("bindings_done", 0) >= total and s.get("verify_failed", 1) == 0
    if a.scrape > 0:
        mid = scrapes["mid"]
        lint = subprocess.run(["promtool", "check", "metrics"], input=mid or "", capture_output=True, text=True)
        lint_ok = mid is not None and lint.returncode == 0 and not (lint.stdout + lint.stderr).strip()
        c.log(f"/metrics scraped {scrapes['count']} times every {a.scrape:g} s during the storm ({scrapes['failed']} "
              f"failed); promtool check metrics on a mid-storm scrape: "
              + ("passed" if lint_ok else f"FAILED {lint.stdout}{lint.stderr}" if mid else "no mid-storm scrape"))
        ok = ok and lint_ok and scrapes["count"] > 0
    span = s.get("first_register_to_last_200_s", -1)
    workers = []
    if d0 and d1:
        hz = None
        for w0, w1 in zip(d0.get("workers", []), d1.get("workers", [])):
            c0, c1 = w0.get("counters", {}), w1.get("counters", {})
            diff = {k: c1.get(k, 0) - c0.get(k, 0) for k in c1}
            hz = diff.get("tsc_hz") or c1.get("tsc_hz") or hz
            workers.append({"worker": w1.get("worker"), "rx": w1.get("rx", 0) - w0.get("rx", 0),
                            "tx": w1.get("tx", 0) - w0.get("tx", 0), "counters": diff,
                            "tsc_hz": c1.get("tsc_hz")})
    rows = []
    for r in s.get("registrars", []):
        rows.append([r["index"], r["realm"], r["new"], r["peak_new_sliding_1s"], r["peak_new_100ms_x10"],
                     r["peak_all_sliding_1s"], a.rate, r["bindings_done"], f"{r['first_to_last_200_s']:.3f}"])
    print()
    print(f"cold-start storm over net_memif: {a.endpoints} endpoints x {a.registrars} registrars = {total} "
          f"bindings; rate {a.rate}/s/registrar; regfrontd --io dpdk --workers {a.workers}; "
          f"load {m['loadavg']} -> {load_end}" + (f"; nice {a.nice}" if a.nice else "")
          + ("; pollers SCHED_RR 1" if a.rt else ""))
    print(placement)
    print(c.table(["registrar", "realm", "new REGISTERs", "peak new/s (sliding 1 s)",
                   "peak new/s (100 ms x 10)", "peak all REGISTER/s", "configured rate",
                   "bindings 200", "first REGISTER -> last 200 s"], rows))
    print()
    regs_s = total / span if span and span > 0 else 0
    t_all = s.get("last_200_monotonic_s", 0) - t_exec if s.get("last_200_monotonic_s") and t_exec else None
    mib = lambda v: f"{v / 2**20:.1f} MiB" if v else "?"  # noqa: E731
    metric_rows = [
        ["all registered, every response verified", f"{ok} ({s.get('bindings_done', 0)}/{total}; "
         f"verified {s.get('verified', 0)}, failed {s.get('verify_failed', '?')})"],
        ["regfrontd exec -> control socket (config load)", f"{t_ctl:.2f} s"],
        ["first REGISTER -> last binding's 200", f"{span:.3f} s" if span > 0 else "NOT REACHED"],
        ["regfrontd exec -> last binding's 200", f"{t_all:.2f} s" if t_all and span > 0 else "?"],
        ["challenged registrations/s (all workers)", f"{regs_s:,.0f}"],
        ["challenged registrations/s per worker", f"{regs_s / a.workers:,.0f}"],
        ["401 -> auth REGISTER latency p50 / p90 / p99 / p99.9 / max",
         f"{s.get('latency_p50_us', '?')} / {s.get('latency_p90_us', '?')} / {s.get('latency_p99_us', '?')} / "
         f"{s.get('latency_p999_us', '?')} / {s.get('latency_max_us', '?')} µs "
         f"({s.get('latency_samples', 0)} samples)"],
        ["REGISTERs repeated (retransmissions)", f"{s.get('repeated', '?')}"
         + (f" (the generator's branch table was full: {s['branches_not_remembered']} not remembered)"
            if s.get("branches_not_remembered") else "")],
        ["generator mbufs in use start/end", f"{s.get('mempool_in_use_start')}/{s.get('mempool_in_use_end')}"],
        ["regfrontd RSS: no endpoint (baseline) / config loaded / all registered / peak (VmHWM)",
         f"{mib(rss0)} / {mib(rss_ctl)} / {mib(rss_end)} / {mib(hwm)}"],
        ["(RSS all registered - baseline) / bindings",
         f"{(rss_end - rss0) / total:.0f} B" if rss0 and rss_end else "?"],
    ]
    if a.settle > 0:
        metric_rows.append([f"(RSS {a.settle:g} s later - baseline) / bindings",
                            f"{(rss_settled - rss0) / total:.0f} B ({mib(rss_settled)})" if rss0 and rss_settled else "?"])
    for w in workers:
        k = w["counters"]
        hz = w.get("tsc_hz") or 0
        pk = max(1, w["rx"] + w["tx"])
        busy = k.get("busy_tsc", 0)
        if hz:
            metric_rows.append([f"worker {w['worker']} busy (iterations that moved packets)",
                                f"{busy / hz:.3f} s of {t_gen_end:.1f} s; {busy / hz * 1e9 / pk:.0f} ns per packet "
                                f"(rx {w['rx']} + tx {w['tx']})"])
            st = {n[6:-4]: v for n, v in k.items() if n.startswith("stage_") and n.endswith("_tsc")}
            if st:
                ns = lambda v: f"{v / hz * 1e9 / pk:.0f}"  # noqa: E731
                io_rx = st.get("rx_burst", 0) + st.get("classify", 0) + st.get("release", 0)
                metric_rows.append([f"worker {w['worker']} ns per packet (rx+tx) by stage",
                                    f"rx_burst {ns(st.get('rx_burst', 0))}, classify (L2-L4) {ns(st.get('classify', 0))}, "
                                    f"engine per datagram (parse, match, digest, build) {ns(st.get('rx', 0) - io_rx)}, "
                                    f"mbuf free {ns(st.get('release', 0))}, build frames (send_udp) {ns(st.get('build', 0))}, "
                                    f"engine advance {ns(st.get('advance', 0))}, tx_burst {ns(st.get('tx', 0))}, "
                                    f"other {ns(st.get('other', 0))}"])
    for w in workers:
        k = w["counters"]
        buckets = [("2", "answer_le_2us"), ("5", "answer_le_5us"), ("10", "answer_le_10us"),
                   ("20", "answer_le_20us"), ("30", "answer_le_30us"), ("40", "answer_le_40us"),
                   ("50", "answer_le_50us"), ("100", "answer_le_100us"),
                   ("1000", "answer_le_1ms"), ("inf", "answer_over_1ms")]
        n = sum(k.get(b, 0) for _, b in buckets)
        if n:
            def pct(p):
                acc = 0
                for lim, b in buckets:
                    acc += k.get(b, 0)
                    if acc >= p * n:
                        return f"<= {lim} µs" if lim != "inf" else "> 1 ms"
                return "?"
            metric_rows.append([f"worker {w['worker']}: request in -> answer out, inside regfrontd (from the poll "
                                f"before the RX burst to the end of the answer's tx_burst) p50 / p99 / p99.9",
                                f"{pct(0.5)} / {pct(0.99)} / {pct(0.999)} ({n} frames; "
                                f"{k.get('answer_deferred', 0)} bursts waited for a full TX ring)"])
            result_answers = {b: k.get(b, 0) for _, b in buckets}
            result_answers["answer_deferred"] = k.get("answer_deferred", 0)
            w["answers"] = result_answers
    print(c.table(["metric", "value"], metric_rows))
    # Diagnostics: drops and queueing anywhere on the path.
    for w in workers:
        nz = {k: v for k, v in w["counters"].items()
              if v and not k.endswith("_tsc") and k != "tsc_hz" and not k.startswith("answer_")}
        print(f"worker {w['worker']} counters over the run: {json.dumps(nz)}")
    if d1:
        for p in d1.get("ports", []) or []:
            print(f"port {p.get('interface')}: " + json.dumps({k: v for k, v in p.items() if k not in ("interface",)}))
    for k in ("tx_fail", "net_drop_not_ours", "net_drop_udp_checksum", "net_drop_tx_batch_full"):
        if s.get(k):
            print(f"generator {k}: {s[k]}")
    result = {"machine": m, "load_end": load_end, "placement": placement, "endpoints": a.endpoints,
              "registrars": a.registrars, "rate": a.rate, "workers": a.workers, "generator": s,
              "regfrontd_workers": workers, "seconds_to_control_socket": t_ctl, "all_registered": ok,
              "registrations_per_second": regs_s, "heap_allocated": heap,
              "credentials_per_number": a.credentials_per_number, "seconds_exec_to_last_200": t_all,
              "rss_baseline_bytes": rss0, "rss_config_loaded_bytes": rss_ctl, "rss_end_bytes": rss_end,
              "rss_peak_bytes": hwm, "rss_settled_bytes": rss_settled, "settle_seconds": a.settle,
              "rss_growth_over_baseline_per_binding": (rss_end - rss0) / total if rss0 and rss_end else None}
    if not heap_ok:
        print("FAIL: a worker allocated on the heap during the storm (or the count is unavailable)")
        ok = False
    return c.finish_run(ok, wd, a.out, result, "NOT every binding registered/verified", (gen_log, rf_log))


if __name__ == "__main__":
    sys.exit(main())
