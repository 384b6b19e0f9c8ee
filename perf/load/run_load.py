#!/usr/bin/env python3
"""Load run: regfront_loadgen (registrar emulator) ⇄ net_memif ⇄ regfrontd --io dpdk.

    run_load.py --loadgen BUILD/perf/regfront_loadgen --peer uac [--duration 4] [--smoke]
    run_load.py --loadgen BUILD/perf/regfront_loadgen --peer regfrontd --bin-dir BUILD/bin \
                [--bindings 20000] [--workers 1] [--mode refresh|stale] [--duration 20]

The registrar emulator is the memif server (socket in a temp dir); the peer is the client:
  uac        a second regfront_loadgen playing the client (validates the generator; gives the
             generator's own ceiling);
  regfrontd  regfrontd --io dpdk --eal "... --vdev net_memif0,role=client,socket=S" with
             `interface dpdk0` 10.77.0.1/24, one registrar ipv4:10.77.0.254:5060 and --bindings
             numbers (credentials in realm load.test), registration rate as high as allowed.
             Figures: the generator's rx/tx pps (= regfront's tx/rx) and, from
             `show dataplane | json`, packets per second per worker (rx+tx over the run).
The summary is one JSON line (REGFRONT-LOAD {...}). --smoke asserts that traffic flowed in both
directions and that no mbuf leaked in the generator. Each process runs with
--no-huge --no-pci -m 512 and its own --file-prefix; everything is killed at exit.
"""

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PROCS = []


def log(msg):
    print(f"[load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def kill_all():
    for p in PROCS:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
            except Exception:  # noqa: BLE001
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


atexit.register(kill_all)


def eal(prefix, vdev, lcores="0"):
    return ["--no-huge", "--no-pci", "-m", "512", "--file-prefix", prefix, "--no-telemetry",
            "--log-level=*:warning", "-l", lcores, "--vdev", vdev]


def start(cmd, log_path):
    f = open(log_path, "wb")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                         start_new_session=True)
    f.close()
    PROCS.append(p)
    return p


def summary(log_path):
    with open(log_path, errors="replace") as f:
        for line in f:
            if line.startswith("REGFRONT-LOADGEN "):
                return json.loads(line.split(" ", 1)[1])
    return None


def cli_json(cli, sock, command):
    try:
        res = subprocess.run([cli, "--socket", sock, "-c", f"{command} | json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=10)
        return json.loads(res.stdout) if res.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        return None


def regfrontd_config(bindings, expires):
    lines = ["interface dpdk0", " ip address 10.77.0.1 255.255.255.0",
             "voice service voip", " sip", "  bind control source-interface dpdk0",
             "  listen-port non-secure 5060", "sip-ua",
             f" registrar 1 ipv4:10.77.0.254:5060 expires {expires}",
             " authentication username load password 0 load realm load.test",
             " registration rate 100000"]
    lines += [f"dial-peer voice {i + 1} pots\n destination-pattern {1000000 + i}"
              for i in range(bindings)]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--peer", choices=["uac", "regfrontd"], default="uac")
    ap.add_argument("--bin-dir", help="BUILD/bin (regfrontd, regfront-cli) for --peer regfrontd")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--bindings", type=int, default=2000)
    ap.add_argument("--window", type=int, default=512)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--mode", choices=["refresh", "stale"], default="refresh")
    ap.add_argument("--expires", type=int, default=60)
    ap.add_argument("--dup", type=int, default=0,
                    help="the emulator sends every response 1+N times (RX-side load)")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="regfront-load-")
    if not a.keep:
        atexit.register(shutil.rmtree, work, True)
    sock = os.path.join(work, "memif.sock")
    tag = f"rfload-{os.getpid()}"
    ncpu = os.cpu_count() or 1
    reg_log = os.path.join(work, "registrar.log")
    gen_secs = a.duration + 6  # the generator waits for the link, then runs its own clock
    # The emulator polls on CPU 0, with regfrontd's main lcore (control plane, mostly idle):
    # CPUs 1.. stay for regfrontd's workers (lcores 1..N), so no two pollers share a CPU.
    registrar = start([a.loadgen] + eal(f"{tag}-r", f"net_memif0,role=server,socket={sock}", "0")
                      + ["--", "--role", "registrar", "--local", "10.77.0.254",
                         "--peer", "10.77.0.1", "--duration", str(gen_secs),
                         "--mode", a.mode, "--expires", str(a.expires),
                         "--dup", str(a.dup)], reg_log)
    time.sleep(0.5)
    peer_log = os.path.join(work, "peer.log")
    result = {"peer": a.peer, "mode": a.mode}
    if a.peer == "uac":
        peer = start([a.loadgen] + eal(f"{tag}-u", f"net_memif0,role=client,socket={sock}", str(ncpu - 1))
                     + ["--", "--role", "uac", "--local", "10.77.0.1", "--peer", "10.77.0.254",
                        "--duration", str(a.duration), "--bindings", str(a.bindings),
                        "--window", str(a.window), "--hold"], peer_log)
        # The uac prints its summary and holds its port idle; the registrar (still polling)
        # stops and closes first, then the uac. The other order races the memif PMD, which
        # unmaps a disconnected peer's rings under a polling lcore.
        deadline = time.time() + a.duration + 25
        while time.time() < deadline and peer.poll() is None and summary(peer_log) is None:
            time.sleep(0.1)
        if summary(peer_log) is None:
            log("uac did not finish")
        registrar.send_signal(signal.SIGINT)
        registrar.wait(timeout=10)
        peer.send_signal(signal.SIGINT)
        peer.wait(timeout=10)
        result["registrar"] = summary(reg_log)
        result["uac"] = summary(peer_log)
        result["exit"] = {"registrar": registrar.returncode, "uac": peer.returncode}
    else:
        if not a.bin_dir:
            ap.error("--peer regfrontd needs --bin-dir")
        daemon = os.path.join(a.bin_dir, "regfrontd")
        cli = os.path.join(a.bin_dir, "regfront-cli")
        cfg = os.path.join(work, "startup-config")
        with open(cfg, "w") as f:
            f.write(regfrontd_config(a.bindings, a.expires))
        ctl = os.path.join(work, "control.sock")
        lc = (f"0-{a.workers}" if a.workers + 1 <= ncpu
              else f"(0-{a.workers})@(0-{ncpu - 1})")
        eal_s = " ".join(["--no-huge", "--no-pci", "-m", "512", "--file-prefix", f"{tag}-d",
                          "--no-telemetry", "--lcores" if "@" in lc else "-l", lc, "--vdev",
                          f"net_memif0,role=client,socket={sock}"])
        cmd = [daemon, "--io", "dpdk", "--eal", eal_s, "--config", cfg, "--control-socket", ctl,
               "--workers", str(a.workers)]
        log("regfrontd: " + " ".join(f"'{c}'" if " " in c else c for c in cmd))
        rf = start(cmd, peer_log)
        deadline = time.time() + 20
        while time.time() < deadline and not os.path.exists(ctl) and rf.poll() is None:
            time.sleep(0.1)
        t0 = time.time()
        d0 = cli_json(cli, ctl, "show dataplane")
        time.sleep(a.duration)
        d1 = cli_json(cli, ctl, "show dataplane")
        dt = time.time() - t0
        stats = cli_json(cli, ctl, "show sip-ua statistics")
        rf.send_signal(signal.SIGTERM)
        try:
            rf.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        registrar.send_signal(signal.SIGINT)
        registrar.wait(timeout=10)
        result["registrar"] = summary(reg_log)
        result["regfrontd_exit"] = rf.returncode
        if d0 and d1:
            per = []
            for w0, w1 in zip(d0.get("workers", []), d1.get("workers", [])):
                rx = w1.get("rx", 0) - w0.get("rx", 0)
                tx = w1.get("tx", 0) - w0.get("tx", 0)
                per.append({"worker": w1.get("worker"), "rx_pps": round(rx / dt),
                            "tx_pps": round(tx / dt), "pps": round((rx + tx) / dt),
                            "bindings": w1.get("bindings")})
            result["workers"] = per
            result["ports"] = d1.get("ports")
            # mbufs held before and after the run: a leak shows as `available` falling with the
            # packet count; heap bytes the worker loops allocated (must be 0).
            result["mbuf_pool"] = {"start": d0.get("mbuf_pool"), "end": d1.get("mbuf_pool")}
            result["heap_allocated"] = [w.get("heap_allocated") for w in d1.get("workers", [])]
            result["worker_counters"] = [{k: v for k, v in w.get("counters", {}).items() if v}
                                         for w in d1.get("workers", [])]
        result["statistics"] = stats
    print("REGFRONT-LOAD " + json.dumps(result), flush=True)
    if a.keep:
        log(f"logs in {work}")
    if a.smoke:
        r = result.get("registrar") or {}
        u = result.get("uac") or {}
        problems = []
        if not r or r.get("rx", 0) < 1000 or r.get("sent_200", 0) < 100 or r.get("sent_401", 0) < 100:
            problems.append(f"registrar emulator saw too little traffic: {r}")
        if a.peer == "uac" and (not u or u.get("got_200", 0) < 100):
            problems.append(f"uac got too few 200s: {u}")
        for name, rc in result.get("exit", {}).items():
            if rc not in (0, 1):  # 1: fewer than --min-rx (not asked for here); <0: a signal
                problems.append(f"{name} exited with {rc}")
        for name, s in (("registrar", r), ("uac", u)):
            if s and s.get("mempool_in_use_end", 0) > s.get("mempool_in_use_start", 0) + 64:
                problems.append(f"{name}: mbufs in use grew {s['mempool_in_use_start']} -> "
                                f"{s['mempool_in_use_end']}")
        if problems:
            for p in problems:
                log("FAIL: " + p)
            for path in (reg_log, peer_log):
                with open(path, errors="replace") as f:
                    log(f"--- {path}\n" + "".join(f.readlines()[-15:]))
            sys.exit(1)
        log("smoke OK")


if __name__ == "__main__":
    main()
