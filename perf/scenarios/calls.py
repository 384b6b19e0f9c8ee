#!/usr/bin/python3
"""Relayed calls: regfrontd vs Kamailio 5.6 doing the same job, between the same core and the
same provider, on the same machine.

    SIPp "core" (UAC)  ->  relay under test  ->  Kamailio provider proxy  ->  SIPp far end (UAS)
    127.0.0.4              127.0.0.1              127.0.0.1                    127.0.0.3

The core places short calls at a fixed rate (INVITE, 200, ACK, --hold-ms, BYE; 180 from the
far end). The provider (tests/e2e/kamailio.py, KamailioRegistrar with a ProviderRole: tm, rr,
auth_db on db_text, MD5, qop=auth) challenges every INVITE with 407 and relays the
authenticated one to the far end; it does not challenge in-dialog requests. It runs with the
tlsf memory manager (--provider-mem; the e2e tests leave Debian's qm, which costs it about
twice the CPU): it shares the machine's 2 cores with everything else. The relay under
test answers the 407 (ACK, INVITE with Proxy-Authorization, CSeq + 1) and keeps the CSeq right
for the rest of the dialog: the far end checks that the ACK carries the authenticated INVITE's
CSeq and the BYE one above it, the core that its responses carry its own CSeq; a wrong one
fails the call.

  regfrontd  --io socket --workers 1; registers the calling number at the provider first
             (`session target registrar` needs a live binding), `credentials number` for the
             provider's realm, `dial-peer voice 100 voip / destination-pattern .T / session
             target registrar`, the core in `ip address trusted list`. --max-calls is sized to
             the rate: an ended call keeps its slot 8 s (for its BYE's retransmissions).
  kamailio   a stateful relay: tm, rr (record_route, loose_route), dialog (dlg_manage() on the
             initial INVITE, modparam track_cseq_updates 1), uac (modparam credential
             "user:realm:password"; uac_auth() in the failure route on 401/407, then
             t_relay()); the Request-URI goes to the provider as regfrontd's does.
             children=--kam-children (default 1: one SIP worker process, like regfrontd's one
             worker).

Measured per run, over the steady window (from --warmup s after the first call to the end of
call generation): calls completed (SIPp's SuccessfulCall, per-second statistics) and the relay's
CPU (utime+stime from /proc/PID/stat: regfrontd's process, all threads; every process of the
Kamailio relay's tree), interpolated at SIPp's sample times. Failures: failed calls at the core
and the far end, calls not finished 15 s after the last was placed. The provider's and SIPp's
CPU and that of every process on the machine are printed too: they share its 2 cores and show
who is the limit.

Two parts, each relay's runs alternating (the machine is shared; load averages are printed):
  1. a rate ladder (--rates): each relay at each rate until its first failing rate; the
     highest rate without failures is what it sustains here;
  2. CPU per call at --common-rate, --repeat times each, alternating.

--io dpdk (as root): regfrontd poll-mode (one worker lcore, net_tap) in a network namespace, as
compare_uac.py runs it (common.TapRig): regfrontd is 10.77.0.1:5060 on the tap and answers ARP
itself; the core (10.77.0.14), the provider (10.77.0.11), the far end (10.77.0.13) and the
Kamailio relay (10.77.0.12) are addresses on the tap's kernel side and run in the namespace, so
every datagram to or from regfrontd crosses the tap. A poll-mode worker spins its whole core, so
regfrontd's cost is its worker's CPU time scaled by its busy share (busy_tsc of `show dataplane`
between a reading when the window opens and one when it closes) plus the control thread's CPU
time (common.busy_cpu); the process's CPU time is printed beside it. The Kamailio relay is
measured as in socket mode (every process, kernel sockets), inside the same namespace.

  calls.py [--rates 100,200,400,...] [--common-rate 200] [--duration 20] [--hold-ms 500]
           [--relays regfrontd,kamailio] [--io socket|dpdk] [--smoke]
Exit status 1 when a run of --smoke does not complete every call.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "e2e"))
import common as c  # noqa: E402
import kamailio as kam  # noqa: E402

SIPP_BIN = os.environ.get("SIPP_BIN", "/usr/bin/sipp")
SIPP_DIR = os.path.join(HERE, "sipp")
NUMBER, PASSWORD = "4085550100", "secretA"   # the calling number, its account at the provider
REALM = "provider.perf"
CALLED = "2125550199"
HOST, CORE_HOST, FAR_HOST = "127.0.0.1", "127.0.0.4", "127.0.0.3"
# --io dpdk: the peers' addresses on the tap's kernel side, in the rig's namespace (regfrontd is
# c.TapRig.DUT, 10.77.0.1, listening on DPDK_PORT).
TAP_PEER, TAP_PROVIDER, TAP_RELAY, TAP_FAR, TAP_CORE = ("10.77.0.254", "10.77.0.11", "10.77.0.12",
                                                        "10.77.0.13", "10.77.0.14")
DPDK_PORT = 5060
CORE_CSEQ = 100
LINGER_S = 8           # regfrontd keeps an ended call's slot this long after its BYE (relay.cc, kByeLingerMs)
DRAIN_S = 15           # after the last call is placed, how long the running ones may take


# ---- processes ---------------------------------------------------------------------------------

def cpu_of(pids: Sequence[int]) -> float:
    total = 0.0
    for p in pids:
        try:
            total += c.cpu_seconds(p)
        except (OSError, ValueError, IndexError):
            pass
    return total


def user_of(pids: Sequence[int]) -> float:
    """utime alone: the processes' own code, without the kernel's work for them (system calls,
    UDP, wake-ups)."""
    total = 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                total += int(f.read().rsplit(")", 1)[1].split()[11]) / c.CLK_TCK
        except (OSError, ValueError, IndexError):
            pass
    return total


def wakeups_of(pids: Sequence[int]) -> int:
    """Voluntary context switches of every thread of the processes: how often they slept and
    were woken (a blocking receive per datagram, or a poll per burst)."""
    total = 0
    for p in pids:
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/status") as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            total += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return total


def machine_cpu() -> float:
    """CPU seconds of every process on the machine (others' builds included). /proc/stat is not
    used: on this VM its idle accounting loses time while processes sleep and wake often (a
    second of wall time shows ~1.4 s of jiffies on 2 CPUs instead of 2)."""
    total = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
            total += int(v[11]) + int(v[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / c.CLK_TCK


def free_port(host: str, count: int = 1) -> int:
    return kam.allocate_udp_ports(count, contiguous=count > 1, host=host)[0]


class Net:
    """Where the processes run and bind.
    socket: the root namespace's loopback: regfrontd and the Kamailio relay on 127.0.0.1, the
            provider on 127.0.0.1, the far end on 127.0.0.3, the core on 127.0.0.4.
    dpdk:   c.TapRig's namespace: regfrontd poll-mode on net_tap as 10.77.0.1:5060 (it answers
            ARP itself); the kernel side of the tap carries the core (10.77.0.14), the provider
            (10.77.0.11), the far end (10.77.0.13) and the Kamailio relay (10.77.0.12), all run in
            the namespace: everything to and from regfrontd crosses the tap, the provider reaches
            the far end (and the core and provider the Kamailio relay) over the namespace's
            loopback, as over 127.0.0.x in socket mode. Ports there: a fresh namespace, counted
            up from 20000 (no other process binds in it)."""

    def __init__(self, io: str):
        self.io = io
        self.rig = None
        self.ns: Optional[str] = None
        self._next = 20000
        if io == "dpdk":
            self.rig = c.TapRig("calls", addresses=(TAP_PEER, TAP_PROVIDER, TAP_RELAY, TAP_FAR, TAP_CORE))
            self.ns = self.rig.ns
            self.relay_host, self.provider_host, self.far_host, self.core_host = (
                TAP_RELAY, TAP_PROVIDER, TAP_FAR, TAP_CORE)
        else:
            self.relay_host, self.provider_host, self.far_host, self.core_host = (HOST, HOST, FAR_HOST, CORE_HOST)

    def port(self, host: str, count: int = 1) -> int:
        if self.rig is None:
            return free_port(host, count)
        p, self._next = self._next, self._next + count
        return p

    def wrap(self, cmd: Sequence[str]) -> List[str]:
        return self.rig.wrap(cmd) if self.rig else list(cmd)

    def close(self) -> None:
        if self.rig is not None:
            self.rig.close()


class Sipp:
    """One SIPp process: statistics every second (-trace_stat -fd 1), nothing else traced."""

    def __init__(self, wd: str, name: str, scenario: str, host: str, net: Net, args: Sequence[str] = (),
                 remote: Optional[Tuple[str, int]] = None):
        self.name = name
        self.host = host
        self.port = net.port(host)
        self.csv = os.path.join(wd, f"{name}.csv")
        self.out = os.path.join(wd, f"{name}.out")
        self.cmd = [SIPP_BIN] + ([f"{remote[0]}:{remote[1]}"] if remote else []) + [
            "-sf", os.path.join(SIPP_DIR, scenario), "-i", host, "-p", str(self.port), "-bind_local",
            "-nostdin", "-default_behaviors", "all,-bye", "-mp", str(net.port(host, 4)),
            "-trace_stat", "-stf", self.csv, "-fd", "1", *args]
        if os.environ.get("REGFRONT_PERF_TRACE") == "1":  # every message, for post-mortems
            self.cmd += ["-trace_msg", "-message_file", os.path.join(wd, f"{name}.msg")]
        self.cmd = net.wrap(self.cmd)
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "Sipp":
        c.log(f"{self.name}: " + " ".join(self.cmd))
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        kam.REGISTRY.add(self.proc)
        time.sleep(0.3)
        if self.proc.poll() is not None:
            raise RuntimeError(f"sipp {self.name} exited {self.proc.returncode}: "
                               f"{open(self.out, errors='replace').read()[-2000:]}")
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            kam.kill_tree(self.proc, grace=3.0)
            kam.REGISTRY.remove(self.proc)

    def rows(self) -> List[dict]:
        """SIPp's statistics rows: t (epoch of the row), start (epoch of the run), counters."""
        out = []
        try:
            with open(self.csv, newline="") as f:
                for r in csv.DictReader(f, delimiter=";"):
                    try:
                        row = {"t": float(r["CurrentTime"].split("\t")[-1]),
                               "start": float(r["StartTime"].split("\t")[-1])}
                        for k in ("OutgoingCall(C)", "IncomingCall(C)", "SuccessfulCall(C)",
                                  "FailedCall(C)", "Retransmissions(C)", "CurrentCall",
                                  "FailedTestDoesntMatch(C)", "FailedUnexpectedMessage(C)",
                                  "FailedMaxUDPRetrans(C)", "DeadCallMsgs(C)"):
                            row[k] = int(float(r.get(k) or 0))
                    except (KeyError, ValueError):
                        continue
                    out.append(row)
        except OSError:
            pass
        return out


class ProviderKamailio(kam.KamailioRegistrar):
    """The e2e harness's provider, started with another memory manager (-x/-X) when `mem` is
    not Debian's default (qm): the harness execs KAMAILIO_BIN, so a wrapper adds the options."""

    def __init__(self, *args, mem: str = "qm", **kw):
        super().__init__(*args, **kw)
        self.mem = mem

    def start(self, timeout: float = 15.0) -> None:
        if self.mem == "qm":
            return super().start(timeout)
        wrapper = os.path.join(self.workdir, "kamailio-mem.sh")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nexec {kam.KAMAILIO_BIN} -x {self.mem} -X {self.mem} "$@"\n')
        os.chmod(wrapper, 0o755)
        saved, kam.KAMAILIO_BIN = kam.KAMAILIO_BIN, wrapper
        try:
            super().start(timeout)
        finally:
            kam.KAMAILIO_BIN = saved


def provider_kamailio(wd: str, far: Tuple[str, int], children: int, mem: str, net: Net) -> "kam.KamailioRegistrar":
    return ProviderKamailio(
        "PROVIDER", REALM, [(NUMBER, PASSWORD)], algorithm="MD5", qop="auth", children=children,
        shm_mb=256, pkg_mb=16, debug=0, default_expires=3600, max_expires=3600,
        host=net.provider_host, netns=net.ns, port=net.port(net.provider_host),
        workdir=os.path.join(wd, "provider"),
        provider=kam.ProviderRole(far_end=far, challenge_in_dialog=False), mem=mem)


class ProviderEmu:
    """regfront-provider-emu (perf/emulator/provider_emu.cc): the provider and its far end in
    one process, no SIPp behind it: 407 on every INVITE, digest checked, 200 (no 180: it keeps no
    state, so the INVITE's retransmissions recover a lost 200), CSeq checks on the authenticated
    INVITE, the ACK and the BYE; answers REGISTER 200 unchallenged."""

    def __init__(self, wd: str, net: Net):
        self.host = net.provider_host
        self.port = net.port(self.host)
        self.summary = os.path.join(wd, "provider-emu.json")
        self.log = os.path.join(wd, "provider-emu.log")
        self.cmd = [c.binary("regfront-provider-emu"), "--address", self.host, "--port", str(self.port),
                    "--realm", REALM, "--user", NUMBER, "--password", PASSWORD, "--summary", self.summary]
        self.cmd = net.wrap(self.cmd)
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 10.0) -> None:
        c.log("provider: " + " ".join(self.cmd))
        with open(self.log, "wb") as lf:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        kam.REGISTRY.add(self.proc)
        time.sleep(0.2)
        if self.proc.poll() is not None:
            raise RuntimeError(f"regfront-provider-emu exited: {open(self.log).read()[-2000:]}")

    def stop(self) -> dict:
        if self.proc is not None:
            kam.kill_tree(self.proc, grace=3.0)
            kam.REGISTRY.remove(self.proc)
        try:
            with open(self.summary) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


class RegfrontRelay:
    name = "regfrontd"

    def __init__(self, wd: str, provider: "kam.KamailioRegistrar", rate: int, hold_ms: int, net: Net,
                 max_calls: Optional[int] = None, **_):
        # Slots: the calls being set up or in a dialog, and the finished ones absorbing
        # retransmissions for LINGER_S; twice that, at least the daemon's default.
        need = int(rate * (LINGER_S + hold_ms / 1000 + 2) * 2)
        self.max_calls = max_calls or max(2048, need)
        self.net = net
        self.io = net.io
        # --io dpdk: 10.77.0.1 on dpdk0, SIP on DPDK_PORT there (as tests/e2e/test_calls.py's
        # DpdkCalls configures it).
        prelude = "" if net.rig is None else "\n".join(net.rig.interface_config() + [
            "voice service voip", " sip", "  bind control source-interface dpdk0",
            f"  listen-port non-secure {DPDK_PORT}", ""])
        cfg = prelude + f"""sip-ua
 registrar 1 ipv4:{provider.host}:{provider.port} expires 3600
 credentials number {NUMBER} username {NUMBER} password 0 {PASSWORD} realm {REALM}
dial-peer voice 100 voip
 description calls from the core to the provider
 destination-pattern .T
 session target registrar
voice service voip
 ip address trusted list
  ipv4 {net.core_host} 255.255.255.255
!
end
"""
        eal = net.rig.eal("calls") if net.rig is not None else None
        self.rf = c.Regfrontd(wd, cfg, workers=1, io=net.io, eal=eal, netns=net.ns,
                              extra=["--max-calls", str(self.max_calls)])

    def start(self) -> None:
        self.rf.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not self.rf.alive():
                raise RuntimeError(f"regfrontd exited:\n{self.rf.log_tail()}")
            regs = self.rf.registrars()
            if regs and regs[0].get("registered", 0) >= 1:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{NUMBER} not registered at the provider:\n{self.rf.log_tail()}")

    @property
    def address(self) -> Tuple[str, int]:
        return (c.TapRig.DUT, DPDK_PORT) if self.io == "dpdk" else (HOST, self.rf.port)

    def pids(self) -> List[int]:
        return [self.rf.pid]

    def polled(self):
        """--io dpdk: (worker threads' CPU-s, control thread's CPU-s, worker threads' system time),
        else None (cheap: /proc)."""
        if self.io != "dpdk":
            return None
        return c.worker_cpu(self.rf.pid), c.thread_cpu(self.rf.pid, "regfrontd"), c.worker_stime(self.rf.pid)

    def busy(self):
        """--io dpdk: the workers' busy time reading (c.busy_polled: a control-socket query)."""
        return c.busy_polled(self.rf) if self.io == "dpdk" else None

    def describe(self) -> str:
        io = ("dpdk (net_tap, 1 worker lcore + the main lcore, EAL -l 0-1)" if self.io == "dpdk"
              else "socket")
        return f"regfrontd --io {io} --workers 1 --max-calls {self.max_calls}"

    def counters(self) -> dict:
        return self.rf.statistics() or {}

    def stop(self) -> None:
        self.rf.kill()


def kamailio_relay_config(host: str, port: int, ctl: str, provider: "kam.KamailioRegistrar", children: int) -> str:
    return f"""#!KAMAILIO
# The relay under test: answers the provider's 401/407 itself (uac_auth) and keeps the CSeq
# of the dialog right towards the provider (dialog module, CSeq tracking).
debug=0
log_stderror=yes
fork=yes
children={children}
listen=udp:{host}:{port}
disable_tcp=yes
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
mpath="{kam.MODULES_DIR}"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "ctl.so"
loadmodule "dialog.so"
loadmodule "uac.so"

modparam("ctl", "binrpc", "unix:{ctl}")
# The CSeq difference a uac_auth() makes is kept in the dialog and applied to the later
# requests towards the provider.
modparam("dialog", "track_cseq_updates", 1)
modparam("dialog", "hash_size", 4096)
modparam("dialog", "default_timeout", 3600)
modparam("uac", "credential", "{NUMBER}:{REALM}:{PASSWORD}")
modparam("uac", "restore_mode", "none")

request_route {{
	if (!mf_process_maxfwd_header("10")) {{
		sl_send_reply("483", "Too Many Hops");
		exit;
	}}
	if (has_totag()) {{
		if (loose_route()) {{
			t_relay();
			exit;
		}}
		if (is_method("ACK")) {{
			if (t_check_trans()) {{
				t_relay();
			}}
			exit;
		}}
		sl_send_reply("404", "Not Here");
		exit;
	}}
	if (is_method("CANCEL")) {{
		if (t_check_trans()) {{
			t_relay();
		}}
		exit;
	}}
	t_check_trans();
	if (!is_method("INVITE")) {{
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}}
	dlg_manage();
	record_route();
	$rd = "{provider.host}";
	$rp = {provider.port};
	t_on_failure("PROVIDER_AUTH");
	if (!t_relay()) {{
		sl_reply_error();
	}}
	exit;
}}

failure_route[PROVIDER_AUTH] {{
	if (t_is_canceled()) {{
		exit;
	}}
	if (t_check_status("401|407")) {{
		if (uac_auth()) {{
			t_relay();
		}}
		exit;
	}}
}}
"""


class KamailioRelay:
    name = "kamailio"

    def __init__(self, wd: str, provider: "kam.KamailioRegistrar", net: Net, kam_children: int = 1,
                 kam_mem: str = "tlsf", **_):
        self.dir = os.path.join(wd, "relay")
        os.makedirs(self.dir, exist_ok=True)
        self.net = net
        self.host = net.relay_host
        self.port = net.port(self.host)
        self.children = kam_children
        self.mem = kam_mem
        self.ctl = os.path.join(self.dir, "ctl.sock")
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(kamailio_relay_config(self.host, self.port, self.ctl, provider, kam_children))
        self.log_path = os.path.join(self.dir, "kamailio.log")
        self.proc: Optional[subprocess.Popen] = None
        self._pids: List[int] = []

    def start(self) -> None:
        cmd = [kam.KAMAILIO_BIN, "-f", self.cfg, "-DD", "-E", "-m", "256", "-M", "16",
               "-x", self.mem, "-X", self.mem, "-Y", self.dir, "-L", kam.MODULES_DIR]
        cmd = self.net.wrap(cmd)
        c.log("kamailio relay: " + " ".join(cmd))
        with open(self.log_path, "wb") as lf:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=lf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        kam.REGISTRY.add(self.proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kamailio relay exited: " + open(self.log_path).read()[-3000:])
            if os.path.exists(self.ctl):
                res = subprocess.run([kam.KAMCMD_BIN, "-s", f"unix:{self.ctl}", "core.uptime"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
                if res.returncode == 0:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("kamailio relay did not come up: " + open(self.log_path).read()[-3000:])
        time.sleep(0.5)
        self._pids = c.tree_pids(self.proc.pid)

    @property
    def address(self) -> Tuple[str, int]:
        return (self.host, self.port)

    def pids(self) -> List[int]:
        return self._pids

    def polled(self):
        return None

    def busy(self):
        return None

    def describe(self) -> str:
        return (f"kamailio 5.6 relay, children={self.children} ({len(self._pids)} processes), "
                f"memory manager {self.mem} (shm and pkg)")

    def counters(self) -> dict:
        res = subprocess.run([kam.KAMCMD_BIN, "-s", f"unix:{self.ctl}", "stats.get_statistics", "all"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
        out = {}
        for line in res.stdout.splitlines():
            k, sep, v = line.strip().strip('",').partition(" = ")
            if sep and k.split(":", 1)[0] in ("dialog", "tmx", "core", "sl"):
                out[k] = v
        return out

    def stop(self) -> None:
        if self.proc is not None:
            kam.kill_tree(self.proc, grace=3.0)
            kam.REGISTRY.remove(self.proc)


RELAYS = {"regfrontd": RegfrontRelay, "kamailio": KamailioRelay}


# ---- one run -----------------------------------------------------------------------------------

def interp(samples: List[Tuple[float, float]], t: float) -> float:
    """The value of a (time, value) series at t (linear between samples, clamped)."""
    if not samples:
        return 0.0
    if t <= samples[0][0]:
        return samples[0][1]
    for (t0, v0), (t1, v1) in zip(samples, samples[1:]):
        if t0 <= t <= t1:
            return v0 + (v1 - v0) * (t - t0) / max(1e-9, t1 - t0)
    return samples[-1][1]


def run_one(kind: str, rate: int, a, net: Net) -> dict:
    wd = c.workdir(f"calls-{kind}")
    load0 = c.loadavg()
    total = rate * a.duration
    emu = a.provider == "emu"
    far = None if emu else Sipp(wd, "far", "calls_far_uas.xml", net.far_host, net)
    provider = None
    relay = None
    core = None
    emu_counters: dict = {}
    try:
        if emu:
            provider = ProviderEmu(wd, net)
        else:
            far.start()
            provider = provider_kamailio(wd, (net.far_host, far.port), a.provider_children, a.provider_mem, net)
        provider.start(timeout=30)
        relay = RELAYS[kind](wd, provider, rate=rate, hold_ms=a.hold_ms, kam_children=a.kam_children,
                             kam_mem=a.kam_mem, max_calls=a.max_calls, net=net)
        relay.start()
        time.sleep(1.0)
        rpids, ppids = relay.pids(), c.tree_pids(provider.proc.pid)
        # The relay's CPU with no call (timers, the registration engine): its floor. Poll-mode:
        # the workers' busy share of their CPU time plus the control thread's.
        i0, it0, ip0, ib0 = cpu_of(rpids), time.monotonic(), relay.polled(), relay.busy()
        time.sleep(a.idle_s)
        idle_share = (cpu_of(rpids) - i0) / max(1e-9, time.monotonic() - it0)
        if ip0 is not None:
            ip1, ib1 = relay.polled(), relay.busy()
            idle_share = c.busy_cpu(ip1[0] - ip0[0], ib0, ib1, ip1[1] - ip0[1])["cpu"] / max(1e-9, ib1[1] - ib0[1])
        core = Sipp(wd, "core", "calls_core_uac.xml", net.core_host, net, remote=relay.address,
                    args=["-s", CALLED, "-key", "caller", NUMBER, "-base_cseq", str(CORE_CSEQ),
                          "-r", str(rate), "-rp", "1000", "-m", str(total), "-d", str(a.hold_ms),
                          "-l", str(max(100, rate * 40))])
        core.start()
        t_core = time.time()
        fpids, cpids = ([far.proc.pid] if far else []), [core.proc.pid]
        # (epoch, relay, provider, core sipp, far sipp, every process, 0, relay utime, relay wake-ups,
        #  poll-mode: worker threads, control thread, worker threads' system time)
        samples = []
        busy_w: List[tuple] = []  # poll-mode: busy readings when the window opens and closes (2 queries)
        deadline = time.time() + a.duration + a.hold_ms / 1000 + DRAIN_S
        while core.alive() and time.time() < deadline:
            if len(samples) % 4 == 0:  # the whole /proc once a second
                mcpu = machine_cpu()
            pol = relay.polled() or (0.0, 0.0, 0.0)
            samples.append((time.time(), cpu_of(rpids), cpu_of(ppids), cpu_of(cpids), cpu_of(fpids), mcpu, 0.0,
                            user_of(rpids), wakeups_of(rpids), pol[0], pol[1], pol[2]))
            if ip0 is not None and len(busy_w) < 2 and time.time() >= t_core + (a.warmup, a.duration)[len(busy_w)]:
                busy_w.append(relay.busy())
            time.sleep(0.25)
        while ip0 is not None and len(busy_w) < 2:
            busy_w.append(relay.busy())
        finished = not core.alive()
        core.stop()
        time.sleep(1.2)  # the far end's last statistics row
        counters = relay.counters()
        desc = relay.describe()
    finally:
        for p in (core, relay):
            if p is not None:
                p.stop()
        if provider is not None:
            emu_counters = provider.stop() or {}
        if far is not None:
            far.stop()
    crow, frow = core.rows(), (far.rows() if far else [])
    load1 = c.loadavg()
    c.cleanup(wd)
    if not crow:
        raise RuntimeError(f"no SIPp statistics from the core ({core.out})")
    start = crow[0]["start"]
    w0, w1 = start + a.warmup, start + a.duration
    inside = [r for r in crow if w0 <= r["t"] <= w1]
    ra, rb = (inside[0], inside[-1]) if len(inside) >= 2 else (crow[0], crow[-1])
    span = max(1e-9, rb["t"] - ra["t"])
    calls = rb["SuccessfulCall(C)"] - ra["SuccessfulCall(C)"]
    placed = rb["OutgoingCall(C)"] - ra["OutgoingCall(C)"]

    def series(i):
        return [(s[0], s[i]) for s in samples]

    def delta(i):
        return interp(series(i), rb["t"]) - interp(series(i), ra["t"])

    hz = os.sysconf("SC_CLK_TCK")
    def machine_delta():
        every = [(s[0], s[5]) for i, s in enumerate(samples) if i % 4 == 0]
        return interp(every, rb["t"]) - interp(every, ra["t"])

    last_c, last_f = crow[-1], (frow[-1] if frow else {})
    if emu:  # the emulator's checks stand for the far end's
        bad = sum(int(emu_counters.get(k, 0)) for k in ("cseq_not_plus_one", "ack_cseq_wrong", "bye_cseq_wrong",
                                                            "auth_failed"))
        last_f = {"FailedCall(C)": bad, "FailedTestDoesntMatch(C)": bad - int(emu_counters.get("auth_failed", 0)),
                  "Retransmissions(C)": 0}
    failed = last_c["FailedCall(C)"] + last_f.get("FailedCall(C)", 0)
    unfinished = total - last_c["SuccessfulCall(C)"] - last_c["FailedCall(C)"]
    r = {
        "relay": kind, "provider": a.provider, "provider_counters": emu_counters, "describe": desc, "rate": rate, "duration": a.duration, "hold_ms": a.hold_ms,
        "window_s": span, "calls_in_window": calls, "placed_in_window": placed,
        "cps": calls / span, "placed_cps": placed / span,
        "relay_cpu": delta(1), "relay_user": delta(7), "relay_wakeups": delta(8), "provider_cpu": delta(2), "core_cpu": delta(3), "far_cpu": delta(4),
        "machine_busy_cores": machine_delta() / span,
        "total": total, "successful": last_c["SuccessfulCall(C)"], "failed": failed,
        "failed_core": last_c["FailedCall(C)"], "failed_far": last_f.get("FailedCall(C)", 0),
        "cseq_failures": last_c["FailedTestDoesntMatch(C)"] + last_f.get("FailedTestDoesntMatch(C)", 0),
        "unfinished": unfinished, "retransmissions": last_c["Retransmissions(C)"] + last_f.get("Retransmissions(C)", 0),
        "finished_in_time": finished, "idle_share": idle_share, "load": f"{load0} -> {load1}", "counters": counters, "clk_tck": hz,
    }
    if ip0 is not None:
        # Poll-mode: the process's CPU time is the spinning worker's whole core (printed as
        # process_cpu); the relay's cost is the workers' busy share of it plus the control thread.
        bc = c.busy_cpu(delta(9), busy_w[0], busy_w[1], delta(10))
        r.update({"process_cpu": r["relay_cpu"], "relay_cpu": bc["cpu"], "busy": bc["busy"],
                  "busy_share": bc["busy_share"], "worker_cpu": bc["worker_cpu"], "control_cpu": bc["control_cpu"],
                  "busy_tsc_s": bc["busy_tsc"], "busy_window_s": busy_w[1][1] - busy_w[0][1],
                  "worker_stime": delta(11)})
        r["worker_stime_us_per_call"] = r["worker_stime"] / max(1, calls) * 1e6
        r["process_us_per_call"] = r["process_cpu"] / max(1, calls) * 1e6
        r["busy_us_per_call"] = r["busy"] / max(1, calls) * 1e6
        r["control_us_per_call"] = r["control_cpu"] / max(1, calls) * 1e6
    r["io"] = net.io if kind == "regfrontd" else "socket"
    r["relay_us_per_call"] = r["relay_cpu"] / max(1, calls) * 1e6
    r["relay_user_us_per_call"] = r["relay_user"] / max(1, calls) * 1e6
    r["relay_wakeups_per_call"] = r["relay_wakeups"] / max(1, calls)
    r["relay_core_share"] = r["relay_cpu"] / span
    # Less what the relay spends with no call at all over the same time (10 ms ticks: rough).
    r["relay_us_per_call_net"] = max(0.0, r["relay_cpu"] - idle_share * span) / max(1, calls) * 1e6
    # Sustained: every call completed, none failed, and the core placed them at the rate asked.
    r["ok"] = (failed == 0 and unfinished == 0 and r["successful"] == total
               and r["placed_cps"] >= 0.97 * rate)
    c.log(f"{kind} @ {rate}/s: {r['cps']:.0f} calls/s in the window, {r['relay_us_per_call']:.1f} µs CPU "
          f"per call, {r['successful']}/{total} completed, {failed} failed, {unfinished} unfinished, "
          f"{r['retransmissions']} retransmissions; all processes {r['machine_busy_cores']:.2f} cores; "
          f"load {r['load']}")
    return r


def row(r: dict) -> list:
    w = r["window_s"]
    return [r["relay"], r["rate"], f"{r['cps']:.0f}", f"{r['successful']}/{r['total']}", r["failed"],
            r["unfinished"], r["retransmissions"], f"{r['relay_us_per_call']:.1f}",
            f"{r['relay_us_per_call_net']:.1f}",
            "-" if "process_cpu" in r else f"{r['relay_user_us_per_call']:.1f}",
            f"{r['relay_wakeups_per_call']:.1f}", f"{100 * r['idle_share']:.2f}",
            f"{100 * r['relay_core_share']:.1f}", f"{r['cps'] / max(1e-9, r['relay_core_share']):.0f}",
            f"{100 * r['provider_cpu'] / w:.0f}",
            f"{100 * r['core_cpu'] / w:.0f} / {100 * r['far_cpu'] / w:.0f}",
            f"{r['machine_busy_cores']:.2f}", "yes" if r["ok"] else "no", r["load"]]


HEADERS = ["relay", "rate/s", "calls/s (window)", "completed", "failed", "unfinished", "retrans",
           "relay CPU µs/call", "less idle", "of which user", "relay wake-ups/call", "relay idle % of a core", "relay % of a core", "calls/s per relay core (extrapolated)", "provider %", "SIPp core / far %",
           "all processes, cores", "sustained", "load"]


DPDK_HEADERS = ["relay", "rate/s", "calls (window)", "window s", "worker CPU-s", "of the wall time",
                "busy share", "busy µs/call", "control thread µs/call", "busy + control µs/call",
                "worker system time µs/call", "process CPU µs/call (spinning core)", "load"]


def dpdk_row(r: dict) -> list:
    return [r["relay"], r["rate"], r["calls_in_window"], f"{r['window_s']:.1f}", f"{r['worker_cpu']:.2f}",
            f"{r['worker_cpu'] / max(1e-9, r['window_s']):.3f}", f"{r['busy_share']:.4f}",
            f"{r['busy_us_per_call']:.1f}", f"{r['control_us_per_call']:.1f}", f"{r['relay_us_per_call']:.1f}",
            f"{r['worker_stime_us_per_call']:.1f}", f"{r['process_us_per_call']:.0f}", r["load"]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--relays", default="regfrontd,kamailio")
    ap.add_argument("--rates", default="100,200,400,700,1000,1400,2000,2800,4000",
                    help="the ladder (calls/s), each relay until its first failing rate; '' = none")
    ap.add_argument("--common-rate", type=int, default=200, help="CPU per call at this rate; 0 = skip")
    ap.add_argument("--repeat", type=int, default=2, help="runs per relay at the common rate")
    ap.add_argument("--duration", type=int, default=20, help="seconds of calls per run")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds before the window opens")
    ap.add_argument("--idle-s", type=float, default=3.0, help="seconds the relay's idle CPU is measured")
    ap.add_argument("--hold-ms", type=int, default=500, help="call length (ACK to BYE)")
    ap.add_argument("--kam-children", type=int, default=1, help="the Kamailio relay's SIP workers")
    ap.add_argument("--kam-mem", default="tlsf", choices=["tlsf", "fm", "qm"],
                    help="the Kamailio relay's memory manager (-x/-X); Debian's default is qm")
    ap.add_argument("--provider", default="kamailio", choices=["kamailio", "emu"],
                    help="kamailio: Kamailio proxy + SIPp far end; emu: regfront-provider-emu, both in "
                         "one light process (when the provider, not the relay, runs out first)")
    ap.add_argument("--provider-children", type=int, default=2)
    ap.add_argument("--provider-mem", default="tlsf", choices=["tlsf", "fm", "qm"],
                    help="the provider's memory manager (qm: as the e2e tests start it; tlsf "
                         "halves its CPU, and the provider shares the 2 cores with the relay)")
    ap.add_argument("--max-calls", type=int, default=None, help="regfrontd --max-calls (default: sized to the rate)")
    ap.add_argument("--io", choices=["socket", "dpdk"], default="socket",
                    help="regfrontd's backend (dpdk: poll-mode on net_tap in a namespace, the workers' busy "
                         "share counted; needs root)")
    ap.add_argument("--out", default=os.path.join(c.REPO, "perf", "results", "calls"))
    ap.add_argument("--smoke", action="store_true",
                    help="CI: each relay at 20 calls/s for 3 s; assert every call completed")
    a = ap.parse_args()
    kinds = [k for k in a.relays.split(",") if k]
    for k in kinds:
        if k not in RELAYS:
            ap.error(f"unknown relay {k!r}")
    if a.smoke:
        a.rates, a.common_rate, a.repeat, a.duration, a.warmup, a.idle_s = "", 20, 1, 3, 1.0, 0.5
    rates = [int(x) for x in a.rates.split(",") if x]
    m = c.machine()
    c.log(f"machine: {m['nproc']} CPUs, {m['cpu']}, load {m['loadavg']}")
    net = Net(a.io)
    try:
        return measure(a, kinds, rates, m, net)
    finally:
        net.close()


def measure(a, kinds: List[str], rates: List[int], m: dict, net: Net) -> int:
    ladder: List[dict] = []
    failed_at: Dict[str, int] = {}
    for i, rate in enumerate(rates):
        order = kinds if i % 2 == 0 else list(reversed(kinds))
        for k in order:
            if k in failed_at:
                continue
            r = run_one(k, rate, a, net)
            ladder.append(r)
            if not r["ok"]:
                failed_at[k] = rate
        if len(failed_at) == len(kinds):
            break
    common: List[dict] = []
    if a.common_rate:
        for i in range(a.repeat):
            for k in (kinds if i % 2 == 0 else list(reversed(kinds))):
                common.append(run_one(k, a.common_rate, a, net))

    print()
    path = ("regfront-provider-emu (407 on every INVITE, MD5, digest and CSeqs checked, 200)"
            if a.provider == "emu" else
            "Kamailio 5.6 provider (407 on every INVITE, MD5 qop=auth) -> SIPp far end")
    print(f"relayed calls, {time.strftime('%Y-%m-%d %H:%M %Z')}: SIPp core -> relay -> {path}; "
          f"calls of {a.hold_ms} ms, "
          f"{a.duration} s per run, window from {a.warmup:.0f} s; {m['nproc']} CPUs ({m['cpu']}), "
          f"everything on this machine; load at the start {m['loadavg']}, at the end {c.loadavg()}")
    print("calls/s per relay core: the window's calls/s divided by the relay's share of a core "
          "(a linear extrapolation, not a measured ceiling: the provider and SIPp share the cores)")
    for k in kinds:
        runs = [r for r in ladder + common if r["relay"] == k]
        if runs:
            print(f"{k}: {runs[0]['describe']}")
    if a.io == "dpdk":
        print("--io dpdk: regfrontd poll-mode on net_tap in a namespace (10.77.0.1 on the tap; the core, "
              "provider, far end and the Kamailio relay on its kernel side); its cost is the worker's CPU time over the window x its busy share (busy_tsc / tsc_hz of `show dataplane | "
              "json` over the wall time between two readings: loop iterations that received or sent "
              "something) + the control thread's CPU time; the process's CPU time (the worker spins its "
              "core whether or not there is work) is in the last table. The Kamailio relay and the "
              "provider run in the same namespace over kernel sockets; their CPU is every process's.")
    sustained: Dict[str, int] = {}
    if ladder:
        print()
        print("rate ladder (each relay until its first failing rate):")
        print(c.table(HEADERS, [row(r) for r in ladder]))
        for k in kinds:
            ok = [r["rate"] for r in ladder if r["relay"] == k and r["ok"]]
            sustained[k] = max(ok) if ok else 0
        print("highest rate without failures: " + ", ".join(
            f"{k} {sustained[k]}/s" + (f" (first failure at {failed_at[k]}/s)" if k in failed_at
                                       else " (no failure up to the top of the ladder)")
            for k in kinds))
    per_call: Dict[str, float] = {}
    per_call_user: Dict[str, float] = {}
    if common:
        print()
        print(f"CPU per call at {a.common_rate} calls/s ({a.repeat} run(s) each, alternating):")
        print(c.table(HEADERS, [row(r) for r in common]))
        for k in kinds:
            runs = [r for r in common if r["relay"] == k and r["calls_in_window"] > 0]
            if runs:
                per_call[k] = sum(r["relay_cpu"] for r in runs) / sum(r["calls_in_window"] for r in runs) * 1e6
                per_call_user[k] = sum(r["relay_user"] for r in runs) / sum(r["calls_in_window"] for r in runs) * 1e6
        dp = a.io == "dpdk"
        if dp:
            per_call_user.pop("regfrontd", None)  # the spinning worker is all user time
        print("relay CPU per call (all runs at the common rate): " +
              ", ".join(f"{k} {v:.1f} µs" + (" (busy + control thread)" if dp and k == "regfrontd" else "")
                        for k, v in per_call.items()))
        print("of which in user space (utime: the relay's own code, not the kernel's UDP path): " +
              ", ".join(f"{k} {v:.1f} µs" for k, v in per_call_user.items()))
        if "regfrontd" in per_call and "kamailio" in per_call:
            print(f"ratio kamailio / regfrontd CPU per call: "
                  f"{per_call['kamailio'] / max(1e-9, per_call['regfrontd']):.1f}x (goal ≥ 10x)" +
                  ("" if dp else f"; user space alone: "
                   f"{per_call_user['kamailio'] / max(1e-9, per_call_user['regfrontd']):.1f}x"))
    dpdk_runs = [r for r in ladder + common if "process_cpu" in r]
    if dpdk_runs:
        print()
        print("regfrontd --io dpdk, every run: busy share and the control thread:")
        print(c.table(DPDK_HEADERS, [dpdk_row(r) for r in dpdk_runs]))
    result = {"machine": m, "ladder": ladder, "common": common, "sustained": sustained,
              "per_call_us": per_call, "per_call_user_us": per_call_user, "args": vars(a), "io": a.io}
    if a.smoke:
        bad = [r for r in common if r["successful"] != r["total"] or r["failed"]]
        for r in bad:
            print(f"SMOKE FAILED: {r['relay']} completed {r['successful']}/{r['total']}, {r['failed']} failed")
        return 1 if bad else 0
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    c.write_json(a.out + ".json", result)
    plt = c.pyplot()
    if plt and (ladder or per_call):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        for k, colour in (("regfrontd", "tab:blue"), ("kamailio", "tab:orange")):
            runs = [r for r in ladder if r["relay"] == k]
            if runs:
                axes[0].plot([r["rate"] for r in runs], [r["relay_us_per_call"] for r in runs], "o-",
                             color=colour, label=k)
                for r in runs:
                    if not r["ok"]:
                        axes[0].plot([r["rate"]], [r["relay_us_per_call"]], "x", color="red", ms=10)
        axes[0].set_xlabel("call rate asked (calls/s); x = failures")
        axes[0].set_ylabel("relay CPU µs per call")
        axes[0].set_xscale("log")
        axes[0].legend(fontsize=8)
        if per_call:
            names = list(per_call)
            axes[1].bar(names, [per_call[n] for n in names],
                        color=["tab:blue" if n == "regfrontd" else "tab:orange" for n in names])
            for i, n in enumerate(names):
                axes[1].text(i, per_call[n], f"{per_call[n]:.1f} µs", ha="center", va="bottom", fontsize=8)
            axes[1].set_ylabel(f"CPU µs per call at {a.common_rate}/s")
        fig.suptitle(f"relayed calls with a 407 answered, regfrontd --io {a.io}"
                     f"{' (busy + control)' if a.io == 'dpdk' else ''} (load {m['loadavg']})", fontsize=9)
        fig.tight_layout()
        c.save_png(fig, a.out + ".png")
        c.log(f"wrote {a.out}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
