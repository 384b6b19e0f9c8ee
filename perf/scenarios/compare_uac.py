#!/usr/bin/python3
"""Scenario (d): regfrontd vs Kamailio 5.6 `uac_reg`, the same accounts, the same real registrar.

One real Kamailio registrar (tests/e2e/kamailio.py: auth_db on db_text, MD5, qop=auth, usrloc
in memory) holds N subscribers. Two runs, one after the other, each against a freshly started
registrar (empty location table):
  regfrontd   one `credentials number` per account, `registration rate --rate`;
  uac_reg     a second Kamailio (tm, uac with reg_db_url on a db_text `uacreg` table of the
              same N accounts), started with `reg_active 0`, then `kamcmd uac.reg_active 1`.
Every registration is challenged (REGISTER → 401 → REGISTER with Authorization → 200).
CPU = utime+stime from /proc/PID/stat: regfrontd (all threads); for uac_reg, the sum over every
process of that Kamailio (main, UDP receivers, timers). Window: regfrontd from its control
socket's first answer (config loaded) to all registered; uac_reg from reg_active 1 to all
registered; divided by the registrations completed in the window (the registrar's
usrloc:registered_users).

--io dpdk: regfrontd runs poll-mode (`--io dpdk`, one worker, net_tap) in a network namespace
whose tap's kernel side (10.77.0.254) is where the registrar listens; uac_reg runs in the same
namespace against the same address. A poll-mode worker's CPU time is the whole core whatever it
does, so regfrontd's figure is its worker's CPU time scaled by its *busy* share (`busy_ns /
wall time, busy_tsc of `show dataplane | json`: loop iterations that received or sent something) plus the
control thread's CPU; the process CPU time is printed too. (Scaling the thread's CPU time rather
than taking busy_ns itself keeps out the time the worker was descheduled, which on a shared
2-core machine is most of it.)
The namespace, tap and accounting are common.py's (TapRig, busy_polled, busy_cpu), shared with
calls.py --io dpdk.
  compare_uac.py [--accounts 10000] [--rate 2000] [--io socket|dpdk]
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "e2e"))
import common as c  # noqa: E402
import kamailio as kam  # noqa: E402
import netrig  # noqa: E402

REALM = "cmp.test"


def registered_users(reg: "kam.KamailioRegistrar") -> int:
    res = reg.kamcmd("stats.get_statistics", "registered_users", timeout=10, check=False)
    for line in res.stdout.splitlines():
        if "registered_users" in line:
            return int(line.rsplit("=", 1)[-1].strip().strip('",'))
    raise RuntimeError(f"no usrloc:registered_users in {res.stdout!r}")


def tree_cpu(pids) -> float:
    total = 0.0
    for p in pids:
        try:
            total += c.cpu_seconds(p)
        except OSError:
            pass
    return total


def wait_registered(reg, n: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registered_users(reg) >= n:
            return time.monotonic()
        time.sleep(0.2)
    raise RuntimeError(f"only {registered_users(reg)}/{n} registered after {timeout}s")


def uac_config(wd: str, dbdir: str, port: int, ctl: str, children: int) -> str:
    return f"""#!KAMAILIO
debug=1
log_stderror=yes
children={children}
listen=udp:127.0.0.1:{port}
mpath="{kam.MODULES_DIR}"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "ctl.so"
loadmodule "db_text.so"
loadmodule "uac.so"
modparam("ctl", "binrpc", "unix:{ctl}")
modparam("uac", "reg_db_url", "text://{dbdir}")
modparam("uac", "reg_contact_addr", "127.0.0.1:{port}")
modparam("uac", "reg_timer_interval", 1)
modparam("uac", "reg_retry_interval", 5)
modparam("uac", "reg_hash_size", 14)
modparam("uac", "reg_active", 0)
request_route {{
    exit;
}}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--rate", type=int, default=2000, help="regfrontd registration rate")
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--out", default=os.path.join(c.REPO, "perf", "results", "compare_uac"))
    ap.add_argument("--io", choices=["socket", "dpdk"], default="socket",
                    help="regfrontd's backend (dpdk: net_tap in a namespace, busy time counted)")
    ap.add_argument("--socket-coalesce", type=int, default=None,
                    help="regfrontd --socket-coalesce MICROSECONDS (default: regfrontd's)")
    ap.add_argument("--skip-uac", action="store_true",
                    help="regfrontd's run only (no ratio): for trying a change to regfrontd side by side")
    a = ap.parse_args()
    n = a.accounts
    m = c.machine()
    users = [(f"u{6000000 + i}", f"p{6000000 + i}") for i in range(n)]
    wd = c.workdir("cmp")
    rig, ns, host = None, None, "127.0.0.1"
    if a.io == "dpdk":
        rig = c.TapRig("cmp")
        ns, host = rig.ns, rig.host
    reg = kam.KamailioRegistrar("CMP", REALM, users, algorithm="MD5", qop="auth", children=4,
                                default_expires=a.expires, max_expires=a.expires, host=host,
                                netns=ns)
    results = {}
    try:
        # ---- regfrontd ----
        reg.start(timeout=60)
        lines = []
        if a.io == "dpdk":
            lines += rig.interface_config()
        lines += ["sip-ua", f" registrar 1 ipv4:{host}:{reg.port} expires {a.expires}",
                  f" registration rate {a.rate}"]
        for (u, p) in users:
            lines.append(f" credentials number {u[1:]} username {u} password 0 {p} realm {REALM}")
        eal = None
        if a.io == "dpdk":
            eal = rig.eal("cmp")
        extra = [] if a.socket_coalesce is None else ["--socket-coalesce", str(a.socket_coalesce)]
        rf = c.Regfrontd(wd, "\n".join(lines) + "\n!\nend\n", workers=1, io=a.io, eal=eal,
                         netns=ns, extra=extra)
        load0 = c.loadavg()
        rf.start()
        try:
            while rf.registrars() is None:
                if not rf.alive():
                    raise RuntimeError(rf.log_tail())
                time.sleep(0.05)
            main0 = c.thread_cpu(rf.pid, "regfrontd")  # the control thread (workers are named)
            threads0 = c.thread_cpus(rf.pid)
            cpu0, b0 = c.cpu_seconds(rf.pid), c.busy_polled(rf)
            r0, t0 = registered_users(reg), time.monotonic()
            t1 = wait_registered(reg, n, a.timeout)
            cpu1, b1 = c.cpu_seconds(rf.pid), c.busy_polled(rf)
            main1 = c.thread_cpu(rf.pid, "regfrontd")
            threads1 = c.thread_cpus(rf.pid)
            stats = rf.statistics() or {}
            dp = rf.cli_json("show dataplane") or {}
        finally:
            rf.kill()  # also on failure: never leave a regfrontd behind
        st = (stats.get("registrars") or [{}])[0]
        results["regfrontd"] = {"cpu": cpu1 - cpu0, "registrations": n - r0, "seconds": t1 - t0,
                                "challenged": st.get("challenged"), "load": f"{load0} -> {c.loadavg()}",
                                "io": a.io,
                                "worker_counters": [w.get("counters", {}) for w in dp.get("workers", [])],
                                "threads": {k: round(v - threads0.get(k, 0.0), 3) for k, v in threads1.items()}}
        if a.io == "dpdk":
            # The process CPU is the spinning worker's whole core: count its busy share instead.
            worker_cpu = sum(v for k, v in results["regfrontd"]["threads"].items() if "worker" in k)
            results["regfrontd"].update({"process_cpu": cpu1 - cpu0,
                                         **c.busy_cpu(worker_cpu, b0, b1, main1 - main0)})
        c.log(f"regfrontd: {results['regfrontd']}")
        reg.stop()
        if a.skip_uac:
            r = results["regfrontd"]
            print(f"regfrontd --io {a.io}: {r['registrations']} registrations in {r['seconds']:.2f} s, "
                  f"CPU {r['cpu']:.3f} s = {r['cpu'] / max(1, r['registrations']) * 1e6:.1f} µs per "
                  f"registration; {r}")
            c.cleanup(wd)
            return 0

        # ---- Kamailio uac_reg ----
        reg.start(timeout=60)
        udir = os.path.join(wd, "uac")
        dbdir = os.path.join(udir, "db")
        os.makedirs(dbdir)
        with open(os.path.join(dbdir, "version"), "w") as f:
            f.write("table_name(string) table_version(int)\nuacreg:5\n")
        esc = lambda s: s.replace(":", "\\:")  # noqa: E731 - db_text escapes ':' in values
        with open(os.path.join(dbdir, "uacreg"), "w") as f:
            f.write("id(int,auto) l_uuid(string) l_username(string) l_domain(string) "
                    "r_username(string) r_domain(string) realm(string) auth_username(string) "
                    "auth_password(string) auth_ha1(string,null) auth_proxy(string) expires(int) "
                    "flags(int) reg_delay(int) contact_addr(string,null) socket(string,null)\n")
            for i, (u, p) in enumerate(users, 1):
                f.write(f"{i}:{u}:{u}:{REALM}:{u}:{REALM}:{REALM}:{u}:{p}::"
                        f"{esc(f'sip:{host}:{reg.port}')}:{a.expires}:0:0::\n")
        uport = c.free_ports(1)[0]
        ctl = os.path.join(udir, "ctl.sock")
        cfg = os.path.join(udir, "uac.cfg")
        with open(cfg, "w") as f:
            f.write(uac_config(udir, dbdir, uport, ctl, children=2))
        ulog = open(os.path.join(udir, "uac.log"), "wb")
        up = subprocess.Popen(netrig.NetRig.wrap([kam.KAMAILIO_BIN, "-f", cfg, "-DD", "-E", "-m", "256", "-M", "32",
                               "-Y", udir, "-L", kam.MODULES_DIR], ns), stdout=ulog,
                              stderr=subprocess.STDOUT, start_new_session=True)
        try:
            kcmd = lambda *args: subprocess.run([kam.KAMCMD_BIN, "-s", f"unix:{ctl}", *args],  # noqa: E731
                                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                text=True, timeout=20)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if up.poll() is not None:
                    raise RuntimeError("uac kamailio exited: " + open(ulog.name).read()[-3000:])
                if os.path.exists(ctl) and kcmd("core.uptime").returncode == 0:
                    break
                time.sleep(0.2)
            time.sleep(1.0)
            pids = c.tree_pids(up.pid)
            load0 = c.loadavg()
            cpu0, r0, t0 = tree_cpu(pids), registered_users(reg), time.monotonic()
            res = kcmd("uac.reg_active", "1")
            if res.returncode != 0:
                raise RuntimeError(f"uac.reg_active 1: {res.stdout}")
            t1 = wait_registered(reg, n, a.timeout)
            cpu1 = tree_cpu(pids)
            results["uac_reg"] = {"cpu": cpu1 - cpu0, "registrations": n - r0, "seconds": t1 - t0,
                                  "processes": len(pids), "load": f"{load0} -> {c.loadavg()}"}
            c.log(f"uac_reg: {results['uac_reg']}")
        finally:
            kam.kill_tree(up, grace=3.0)
            ulog.close()
    finally:
        reg.stop()
        if rig is not None:
            rig.close()
    rows = []
    for k in ("regfrontd", "uac_reg"):
        r = results[k]
        r["cpu_s_per_1000"] = r["cpu"] / max(1, r["registrations"]) * 1000
        r["cpu_us_per_registration"] = r["cpu"] / max(1, r["registrations"]) * 1e6
        rows.append([k, r["registrations"], f"{r['seconds']:.2f}", f"{r['cpu']:.3f}",
                     f"{r['cpu_s_per_1000']:.4f}", f"{r['cpu_us_per_registration']:.1f}", r["load"]])
    ratio = results["uac_reg"]["cpu_s_per_1000"] / max(1e-9, results["regfrontd"]["cpu_s_per_1000"])
    results.update({"ratio": ratio, "accounts": n, "machine": m, "rate": a.rate})
    print()
    print(f"regfrontd vs Kamailio 5.6 uac_reg: {n} accounts, one Kamailio registrar (MD5, qop=auth), "
          f"every registration challenged; regfrontd rate {a.rate}/s, 1 worker, --io {a.io}")
    if a.io == "dpdk":
        r = results["regfrontd"]
        print(f"regfrontd --io dpdk: worker CPU {r['worker_cpu']:.2f} s x busy share {r['busy_share']:.3f} = "
              f"{r['busy']:.3f} s, + control thread {r['control_cpu']:.3f} s (process CPU "
              f"{r['process_cpu']:.2f} s: the poll loop spins for the whole {r['seconds']:.1f} s)")
    print(c.table(["client", "registrations", "seconds", "CPU-s", "CPU-s per 1,000",
                   "CPU µs per registration", "load"], rows))
    print(f"ratio uac_reg / regfrontd CPU per registration: {ratio:.1f}x (target ≥ 50x)")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    c.write_json(a.out + ".json", results)
    plt = c.pyplot()
    if plt:
        fig, ax = plt.subplots(figsize=(5, 3))
        vals = [results["regfrontd"]["cpu_us_per_registration"], results["uac_reg"]["cpu_us_per_registration"]]
        ax.bar(["regfrontd", "Kamailio uac_reg"], vals, color=["tab:blue", "tab:orange"])
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.1f} µs", ha="center", va="bottom", fontsize=8)
        ax.set_ylabel("CPU µs per challenged registration")
        ax.set_title(f"{n} accounts, same Kamailio registrar: {ratio:.0f}x (load {m['loadavg']})", fontsize=8)
        fig.tight_layout()
        c.save_png(fig, a.out + ".png")
        c.log(f"wrote {a.out}.png")
    c.cleanup(wd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
