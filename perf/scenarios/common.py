"""Shared plumbing of the load scenarios: processes, ports, /proc accounting, tables, plots.

Binaries come from $REGFRONT_BUILD (default: this checkout's build/, the release preset):
  <build>/bin/regfrontd, <build>/bin/regfront-cli, <build>/perf/regfront-registrar-emu.
Every scenario is `python3 perf/scenarios/<name>.py [options]`, prints a table, writes a PNG
(when matplotlib is importable) and a JSON result next to it.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Dict, List, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def build_dir() -> str:
    env = os.environ.get("REGFRONT_BUILD")
    if env:
        return env
    return os.path.join(REPO, "build")


def binary(name: str) -> str:
    b = build_dir()
    for sub in ("bin", "perf"):
        p = os.path.join(b, sub, name)
        if os.access(p, os.X_OK):
            return p
    raise SystemExit(f"{name} not found under {b}/bin or {b}/perf: build it "
                     f"(cmake --build {b} --target {name}) or set REGFRONT_BUILD")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine() -> Dict[str, str]:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": str(os.cpu_count()), "cpu": model, "kernel": platform.release(),
            "loadavg": loadavg()}


def free_ports(count: int, contiguous: bool = True) -> List[int]:
    """`count` free UDP ports on 127.0.0.1, contiguous (regfrontd's workers use PORT+i)."""
    import random
    for _ in range(200):
        base = random.randint(20000, 60000 - count)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return list(range(base, base + count))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port range")


# ---- /proc accounting -------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def vm_kib(pid: int, field: str) -> int:
    """A /proc/PID/status figure in KiB (VmRSS, VmHWM, …); 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def tree_pids(root: int) -> List[int]:
    """root and all its descendants (Kamailio forks its processes from the main one)."""
    kids: Dict[int, List[int]] = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(p))
    out, i = [root], 0
    while i < len(out):
        out.extend(kids.get(out[i], []))
        i += 1
    return out


def thread_cpus(pid: int) -> Dict[str, float]:
    """CPU seconds (utime+stime) per thread of `pid`, keyed "tid name"."""
    out = {}
    with contextlib.suppress(OSError):
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/stat") as f:
                    s = f.read()
            except OSError:
                continue
            name = s.split("(", 1)[1].rsplit(")", 1)[0]
            v = s.rsplit(")", 1)[1].split()
            out[f"{t} {name}"] = (int(v[11]) + int(v[12])) / CLK_TCK
    return out


def thread_cpu(pid: int, name_prefix: str) -> float:
    """CPU seconds of the threads of `pid` whose name starts with name_prefix."""
    return sum(v for k, v in thread_cpus(pid).items() if k.split(" ", 1)[1].startswith(name_prefix))


# ---- DPDK poll-mode accounting ------------------------------------------------------------------
# A poll-mode worker's CPU time is its whole core whatever it does. Its cost is counted as its
# *busy* share: busy_tsc / tsc_hz of `show dataplane | json` (loop iterations that received or
# sent something) over wall time, times the worker thread's CPU time over the same window
# (scaling the thread's CPU time rather than taking busy time itself keeps out the time the
# worker was descheduled, which on a shared 2-core machine is most of it); plus the CPU time of
# regfrontd's control thread (named "regfrontd"; the DPDK worker lcores are named "*worker*").

def busy_polled(rf: "Regfrontd") -> tuple:
    """(busy seconds summed over the workers, monotonic time of the reading)."""
    dp = rf.cli_json("show dataplane") or {}
    busy = 0.0
    for w in dp.get("workers", []):
        ctr = w.get("counters", {})
        busy += ctr.get("busy_tsc", 0) / max(1, ctr.get("tsc_hz", 1))
    return busy, time.monotonic()


def worker_cpu(pid: int) -> float:
    """CPU seconds of regfrontd's DPDK worker threads (the lcores DPDK names "*worker*")."""
    return sum(v for k, v in thread_cpus(pid).items() if "worker" in k.split(" ", 1)[1])


def worker_stime(pid: int) -> float:
    """System time alone of the worker threads: the kernel's work for them (with net_tap, the
    readv/writev of every frame and the kernel's delivery of what they write)."""
    total = 0.0
    with contextlib.suppress(OSError):
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/stat") as f:
                    s = f.read()
            except OSError:
                continue
            if "worker" in s.split("(", 1)[1].rsplit(")", 1)[0]:
                total += int(s.rsplit(")", 1)[1].split()[12]) / CLK_TCK
    return total


def busy_cpu(worker_s: float, busy0: tuple, busy1: tuple, control_s: float) -> dict:
    """The poll-mode cost over a window: the worker threads' CPU seconds `worker_s` scaled by
    their busy share between the readings busy0 and busy1 (busy_polled), plus the control
    thread's CPU seconds `control_s`."""
    share = (busy1[0] - busy0[0]) / max(1e-9, busy1[1] - busy0[1])
    return {"busy_share": share, "worker_cpu": worker_s, "busy": worker_s * share,
            "busy_tsc": busy1[0] - busy0[0], "control_cpu": control_s,
            "cpu": worker_s * share + control_s}


class TapRig:
    """regfrontd poll-mode on net_tap: a network namespace holding a persistent tap whose kernel
    side carries `addresses` (the first, 10.77.0.254, is the tap's own; the others are where more
    kernel-socket peers bind, all on-link). regfrontd runs in the namespace too (net_tap opens the
    tap by name) as 10.77.0.1 on `interface dpdk0`, and answers ARP for it itself. Frames between
    a peer and regfrontd cross the tap; peers talk to each other over the namespace's loopback.
    Needs root; tests/e2e/netrig.py does the work and tears everything down (also at exit)."""

    DUT = "10.77.0.1"

    def __init__(self, role: str, addresses: Sequence[str] = ("10.77.0.254",)):
        import sys
        sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
        import netrig  # noqa: E402 - needs root: only imported for --io dpdk
        self.netrig = netrig
        self.rig = netrig.NetRig()
        self.ns = self.rig.netns(role)
        self.tap = self.rig.tap("t0", ns=self.ns)
        self.rig.up(self.tap, ns=self.ns)
        self.addresses = list(addresses)
        for a in self.addresses:
            self.rig.addr(self.tap, f"{a}/24", ns=self.ns)
        self.host = self.addresses[0]

    def eal(self, tag: str) -> str:
        """EAL arguments: the main lcore and one worker lcore, net_tap on the rig's tap."""
        return (f"--no-huge --no-pci -m 512 --file-prefix rf{tag}-{os.getpid()} --no-telemetry "
                f"--log-level=*:notice -l 0-1 --vdev net_tap0,iface={self.tap}")

    def interface_config(self) -> List[str]:
        return ["interface dpdk0", f" ip address {self.DUT} 255.255.255.0", "!"]

    def wrap(self, cmd: Sequence[str]) -> List[str]:
        """`cmd` run inside the namespace (`ip netns exec` execs it: same pid)."""
        return self.netrig.NetRig.wrap(cmd, self.ns)

    def close(self) -> None:
        self.rig.close()


# ---- processes --------------------------------------------------------------------------------

class Emulator:
    """regfront-registrar-emu with one socket per registrar."""

    def __init__(self, workdir: str, ports: Sequence[int], realms: Sequence[str],
                 extra: Sequence[str] = (), name: str = "emu"):
        self.workdir = workdir
        self.ports = list(ports)
        self.realms = list(realms)
        self.csv_path = os.path.join(workdir, f"{name}.csv")
        self.summary_path = os.path.join(workdir, f"{name}.json")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.cmd = [binary("regfront-registrar-emu"), "--ports", ",".join(map(str, ports)),
                    "--realms", ",".join(realms), "--csv", self.csv_path,
                    "--summary", self.summary_path, *extra]
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        log("emulator: " + " ".join(self.cmd))
        with open(self.log_path, "wb") as lf:
            self.proc = subprocess.Popen(self.cmd, stdout=lf, stderr=subprocess.STDOUT)
        time.sleep(0.3)
        if self.proc.poll() is not None:
            raise RuntimeError(f"emulator exited: {open(self.log_path).read()}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self) -> dict:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(OSError, ValueError):
            with open(self.summary_path) as f:
                return json.load(f)
        return {}

    def rows(self) -> List[dict]:
        with open(self.csv_path) as f:
            return [{k: (float(v) if k == "t" else int(v)) for k, v in r.items()}
                    for r in csv.DictReader(f)]


class Regfrontd:
    def __init__(self, workdir: str, config_text: str, workers: int = 1,
                 max_bindings: Optional[int] = None, io: str = "socket",
                 extra: Sequence[str] = (), eal: Optional[str] = None,
                 netns: Optional[str] = None):
        self.workdir = workdir
        self.workers = workers
        self.port = free_ports(workers)[0]
        self.config_path = os.path.join(workdir, "startup-config")
        self.control_socket = os.path.join(workdir, "control.sock")
        self.log_path = os.path.join(workdir, "regfrontd.log")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        # `--io dpdk`: the EAL arguments (vdevs) in `eal`; the addresses come from the
        # configuration's interfaces. `netns`: run inside that namespace (`ip netns exec`
        # execs, so self.pid is regfrontd's own).
        where = ["--eal", eal or ""] if io == "dpdk" else ["--listen", f"127.0.0.1:{self.port}"]
        self.cmd = [binary("regfrontd"), "--config", self.config_path, "--io", io, *where,
                    "--workers", str(workers), "--control-socket", self.control_socket, *extra]
        if netns:
            self.cmd = ["ip", "netns", "exec", netns] + self.cmd
        if max_bindings:
            self.cmd += ["--max-bindings", str(max_bindings)]
        self.proc: Optional[subprocess.Popen] = None
        self.cli_bin = binary("regfront-cli")

    def start(self) -> float:
        log("regfrontd: " + " ".join(self.cmd))
        with open(self.log_path, "wb") as lf:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=lf,
                                         stderr=subprocess.STDOUT)
        self.started = time.monotonic()
        return self.started

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cli_json(self, command: str, timeout: float = 30.0):
        if not os.path.exists(self.control_socket):
            return None
        try:
            res = subprocess.run([self.cli_bin, "--socket", self.control_socket, "-c",
                                  f"{command} | json"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if res.returncode != 0:
            return None
        with contextlib.suppress(ValueError):
            return json.loads(res.stdout)
        return None

    def registrars(self) -> Optional[List[dict]]:
        j = self.cli_json("show sip-ua register registrars")
        return None if j is None else j.get("registrars", [])

    def statistics(self) -> Optional[dict]:
        return self.cli_json("show sip-ua statistics")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: no unregistration at shutdown (scenarios that only measure registering)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, n: int = 30) -> str:
        with contextlib.suppress(OSError), open(self.log_path, errors="replace") as f:
            return "\n".join(f.read().splitlines()[-n:])
        return ""


def storm_config(numbers: Sequence[str], ports: Sequence[int], realms: Sequence[str],
                 expires: int, rate: int, per_realm_credentials: bool = True) -> str:
    """sip-ua with one registrar per emulator port and one credential per (number, realm).

    Username = the number (the emulator's rule makes the password pw-<n>). With
    per_realm_credentials=False only the first realm has per-number credentials; the others
    answer with one shared `authentication` entry per realm (username "shared")."""
    out = ["sip-ua"]
    for i, p in enumerate(ports, 1):
        out.append(f" registrar {i} ipv4:127.0.0.1:{p} expires {expires}")
    out.append(f" registration rate {rate}")
    if not per_realm_credentials:
        for r in realms[1:]:
            out.append(f" authentication username shared password 0 pw-shared realm {r}")
    for n in numbers:
        for r in (realms if per_realm_credentials else realms[:1]):
            out.append(f" credentials number {n} username {n} password 0 pw-{n} realm {r}")
    out.append("!")
    out.append("end")
    return "\n".join(out) + "\n"


def workdir(name: str) -> str:
    base = os.environ.get("REGFRONT_PERF_TMP") or tempfile.gettempdir()
    return tempfile.mkdtemp(prefix=f"regfront-{name}-", dir=base)


def cleanup(path: str) -> None:
    if os.environ.get("REGFRONT_PERF_KEEP") != "1":
        shutil.rmtree(path, ignore_errors=True)


# ---- output -----------------------------------------------------------------------------------

def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def pyplot():
    """matplotlib.pyplot with the Agg backend, or None (Debian: python3-matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        log("matplotlib not importable: no PNG (apt-get install python3-matplotlib, run with "
            "/usr/bin/python3)")
        return None


def per_second(rows: List[dict], field: str) -> Dict[int, Dict[float, int]]:
    """{registrar: {t: value}} from the emulator's CSV."""
    out: Dict[int, Dict[float, int]] = {}
    for r in rows:
        out.setdefault(r["registrar"], {})[r["t"]] = r[field]
    return out


def write_json(path: str, obj: dict) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)


def timeline(name: str, endpoints: int, registrars: int, expires: int, rate: int, workers: int,
             duration: float, events=(), emu_extra: Sequence[str] = ()) -> dict:
    """Runs regfrontd against the emulator for `duration` seconds and returns the emulator's
    per-second rows plus regfrontd's CPU/RSS/statistics. `events`: (t, callable(emu)) pairs run
    at t seconds after regfrontd's start (e.g. an outage via SIGUSR1/SIGUSR2)."""
    wd = workdir(name)
    ports = free_ports(registrars)
    realms = [f"{name}-{i}.test" for i in range(1, registrars + 1)]
    numbers = [str(5000000000 + i) for i in range(endpoints)]
    emu = Emulator(wd, ports, realms, emu_extra)
    rf = Regfrontd(wd, storm_config(numbers, ports, realms, expires, rate), workers=workers)
    m = machine()
    emu.start()
    pending = sorted(events, key=lambda e: e[0])
    samples = []
    try:
        t0 = rf.start()
        t_emu0 = time.monotonic()
        while True:
            now = time.monotonic() - t0
            if now >= duration:
                break
            if not rf.alive():
                raise RuntimeError(f"regfrontd exited:\n{rf.log_tail()}")
            while pending and pending[0][0] <= now:
                t, fn = pending.pop(0)
                log(f"t={now:.1f}s: event")
                fn(emu)
            regs = rf.registrars()
            if regs is not None:
                samples.append((now, [r.get("registered", 0) for r in regs]))
            time.sleep(1.0)
        cpu, rss = cpu_seconds(rf.pid), rss_bytes(rf.pid)
        stats = rf.statistics() or {}
    finally:
        rf.kill()
        summary = emu.stop()
    rows = emu.rows()
    cleanup(wd)
    return {"rows": rows, "samples": samples, "cpu": cpu, "rss": rss, "stats": stats,
            "summary": summary, "machine": m, "load_end": loadavg(), "realms": realms,
            "emu_offset": t_emu0 - t0}


def save_png(fig, path: str) -> None:
    """Saves a figure small: 80 dpi, then quantized to a 64-colour palette when PIL is there."""
    fig.savefig(path, dpi=80)
    try:
        from PIL import Image
        Image.open(path).convert("RGB").quantize(colors=64).save(path, optimize=True)
    except Exception:  # noqa: BLE001 - the unquantized PNG is fine too
        pass


# ---- a regfrontd --io dpdk run against regfront_loadgen over net_memif (storm_dpdk.py,
# calls_memif.py) ----

def memif_eal(prefix: str, vdev: str, lcores: Sequence[str]) -> List[str]:
    """EAL arguments of one side of a net_memif pair: no hugepages, no PCI, no telemetry."""
    return ["--no-huge", "--no-pci", "-m", "512", "--file-prefix", prefix, "--no-telemetry",
            "--log-level=*:warning", *lcores, "--vdev", vdev]


def loadgen_summary(path: str) -> Optional[dict]:
    """The generator's closing JSON line (REGFRONT-LOADGEN {...}) from its log."""
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("REGFRONT-LOADGEN "):
                return json.loads(line.split(" ", 1)[1])
    return None


def cli_show_json(cli: str, ctl: str, command: str) -> Optional[dict]:
    """`regfront-cli --socket CTL -c "COMMAND | json"`, parsed; None when it fails."""
    try:
        r = subprocess.run([cli, "--socket", ctl, "-c", f"{command} | json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=10)
        return json.loads(r.stdout) if r.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        return None


def wait_for_summary(proc: subprocess.Popen, log_path: str, timeout: float) -> bool:
    """The generator runs with --hold: when done it prints its summary and keeps its memif port
    up without polling it, until SIGINT. Waits for that line (or for its exit); True when the
    summary is there. regfrontd must then stop first: the memif PMD unmaps a departed peer's
    rings from its interrupt thread under an lcore that may still poll them (a segfault)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None and loadgen_summary(log_path) is None:
        time.sleep(0.05)
    return loadgen_summary(log_path) is not None


class Processes:
    """Processes of a run, each in a session of its own with its output in a file; stop() ends
    them in the reverse order of their start: the last started (regfrontd, after the generator)
    with SIGKILL, then the others with SIGINT (the generator, holding its port, exits on it)."""

    def __init__(self):
        self.procs: List[subprocess.Popen] = []

    def start(self, cmd: Sequence[str], log_path: str) -> subprocess.Popen:
        with open(log_path, "wb") as lf:
            p = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL if p is self.procs[-1] else signal.SIGINT)
                    p.wait(timeout=10)
                except Exception:  # noqa: BLE001
                    pass


def finish_run(ok: bool, wd: str, out: Optional[str], result: dict, failure: str, logs: Sequence[str],
               tail: int = 12) -> int:
    """Writes `result` to `out` (if any); removes the work directory of a run that passed, or
    says `failure`, keeps it and prints the tail of each log. The exit status."""
    if out:
        write_json(out, result)
    if ok:
        cleanup(wd)
        return 0
    print(f"{failure}; files kept in {wd}")
    for path in logs:
        with open(path, errors="replace") as f:
            print(f"--- {path}\n" + "".join(f.readlines()[-tail:]))
    return 1
