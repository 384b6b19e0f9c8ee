#!/usr/bin/python3
"""Scenario (g): a live change at storm scale — from a CLI command to every worker on it.

N endpoints x R registrars (one `credentials` line per binding, the storm's configuration)
register with the registrar emulator; then each kind of command an operator types on a loaded
box is applied `--repeat` times (and undone), and for each the daemon's own account of the
publication is read from `show dataplane | json` ("snapshot": build_ms = from the command's
arrival to the publication, adopted_ms = from the publication until every worker ran it),
beside the whole round trip as regfront-cli sees it. regfrontd's resident memory before the
commands and its peak (VmHWM) after them bound what a snapshot pair costs during publication.
  live_change.py [--endpoints 100000] [--registrars 6] [--workers 2] [--repeat 5]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoints", type=int, default=100000)
    ap.add_argument("--registrars", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=300, help="seconds to wait for every binding")
    ap.add_argument("--smoke", action="store_true", help="2k x 2, 2 repeats: the CI check that it runs")
    ap.add_argument("--out", default=os.path.join(c.REPO, "perf", "results", "live_change"))
    a = ap.parse_args()
    if a.smoke:
        a.endpoints, a.registrars, a.repeat, a.timeout = 2000, 2, 2, 60
    wd = c.workdir("live")
    ports = c.free_ports(a.registrars, contiguous=False)
    realms = [f"realm{i}.example" for i in range(1, a.registrars + 1)]
    numbers = [str(14080000000 + i) for i in range(a.endpoints)]
    emu = c.Emulator(wd, ports, realms)
    rf = c.Regfrontd(wd, c.storm_config(numbers, ports, realms, 3600, a.rate), workers=a.workers,
                     max_bindings=a.endpoints * a.registrars + 1024)
    ok = False
    rows, result = [], {}
    try:
        emu.start()
        rf.start()
        want = a.endpoints * a.registrars
        deadline = time.monotonic() + a.timeout
        registered = 0
        while time.monotonic() < deadline:
            regs = rf.registrars() or []
            registered = sum(r.get("registered", 0) for r in regs)
            if registered >= want:
                break
            time.sleep(1)
        if registered < want:
            raise RuntimeError(f"only {registered} of {want} bindings registered")
        c.log(f"all {want} bindings registered")
        time.sleep(2)
        rss0 = c.vm_kib(rf.pid, "VmRSS")
        first, new = numbers[a.endpoints // 2], "19990000000"
        p1 = ports[0]
        # (what, command, the command that undoes it): each in sip-ua configuration mode.
        kinds = [
            ("password of one number", f"credentials number {first} username {first} password 0 other realm {realms[0]}",
             f"credentials number {first} username {first} password 0 pw-{first} realm {realms[0]}"),
            ("registration rate", f"registration rate {a.rate + 1000}", f"registration rate {a.rate}"),
            ("registrar 1 expires", f"registrar 1 ipv4:127.0.0.1:{p1} expires 1800",
             f"registrar 1 ipv4:127.0.0.1:{p1} expires 3600"),
            ("sip-ua authentication", "authentication username extra password 0 x realm extra.example",
             "no authentication username extra password 0 x realm extra.example"),
            ("a new number (+ its bindings)", f"credentials number {new} username {new} password 0 pw-{new} realm {realms[0]}",
             f"no credentials number {new} username {new} password 0 pw-{new} realm {realms[0]}"),
        ]
        for what, do, undo in kinds:
            builds, adopts, trips = [], [], []
            for i in range(2 * a.repeat):  # done, undone, done, ...: ends as it began
                line = do if i % 2 == 0 else undo
                t0 = time.monotonic()
                res = subprocess.run([rf.cli_bin, "--socket", rf.control_socket, "-c", "enable", "-c", "configure terminal",
                                      "-c", "sip-ua", "-c", line, "-c", "end"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
                trips.append((time.monotonic() - t0) * 1000)
                if res.returncode != 0 or "%" in res.stdout:
                    raise RuntimeError(f"{line!r}: {res.stdout}")
                snap = {}
                for _ in range(400):
                    snap = (rf.cli_json("show dataplane") or {}).get("snapshot", {})
                    if (snap.get("adopted_ms") or -1) >= 0:
                        break
                    time.sleep(0.05)
                if (snap.get("adopted_ms") or -1) < 0:
                    raise RuntimeError(f"{line!r}: the workers did not adopt the snapshot: {snap}")
                builds.append(snap["build_ms"])
                adopts.append(snap["adopted_ms"])
            rows.append([what, f"{statistics.median(builds):.1f}", f"{max(builds):.1f}",
                         f"{statistics.median(adopts):.1f}", f"{max(adopts):.1f}",
                         f"{statistics.median(trips):.0f}"])
        peak = c.vm_kib(rf.pid, "VmHWM")
        result = {"endpoints": a.endpoints, "registrars": a.registrars, "workers": a.workers,
                  "bindings": want, "rss_before_kib": rss0, "peak_kib": peak, "table": rows,
                  "machine": c.machine()}
        print()
        print(f"live change: {a.endpoints} endpoints x {a.registrars} registrars = {want} bindings, "
              f"{a.workers} workers, each kind of command done and undone {a.repeat} times; "
              f"load {c.loadavg()}")
        print(c.table(["command", "build ms (median)", "build ms (max)", "adopted ms (median)",
                       "adopted ms (max)", "CLI round trip ms"], rows))
        print(f"regfrontd resident {rss0 / 1024:.0f} MiB before the commands, peak {peak / 1024:.0f} MiB "
              f"(the peak includes the start-up storm: a snapshot pair costs at most the difference)")
        c.write_json(a.out + ".json", result)
        ok = True
    finally:
        rf.stop(timeout=120)
        emu.stop()
        if not ok:
            print(rf.log_tail(), file=sys.stderr)
        c.cleanup(wd)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
