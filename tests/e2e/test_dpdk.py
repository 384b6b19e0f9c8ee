#!/usr/bin/env python3
"""regfront end-to-end over the DPDK backend: regfrontd --io dpdk against real Kamailio.

    python3 tests/e2e/test_dpdk.py --bin-dir BUILD/bin [unittest args]

Every scenario builds its own network with netrig.py (namespaces, veth pairs, a tap, a VLAN; all
torn down, also on failure) and runs regfrontd inside a "dut" namespace with EAL virtual devices
(`--no-huge --no-pci -m 512 --file-prefix <unique>`). The registrars are Kamailio 5.6 processes
inside namespaces of the rig. As in test_registration.py, the truth is Kamailio's own location
table and auth log: numbers registered there, no credential offered to a wrong realm, bindings
removed when regfrontd gets SIGTERM. regfront-cli (`| json`) adds counter assertions.

Routed rig (scenarios b, c, e over IPv6, f, g):
    [dut ns]  regfrontd ── af_packet on r<tag>d0 ══ veth ══ r<tag>p0 [router ns] 10.77.0.254
              dpdk0 10.77.0.1/24, 2001:db8:77::1/64             2001:db8:77::fe  (forwarding)
              ip route 0.0.0.0 0.0.0.0 10.77.0.254              r<tag>r1 10.79.0.254, ::fe
              ipv6 route ::/0 2001:db8:77::fe                      ║ veth
                                                       [reg ns] r<tag>k1 10.79.0.1, .2
                                                                2001:db8:79::1, ::2
                                                                Kamailio R1 (.1), R2 (.2)
    (d) adds r<tag>p0.100 10.78.0.254/24 in the router and dpdk0.100 10.78.0.1/24 (dot1Q 100).
Tap rig (a, e over IPv4): a persistent multi-queue tap in the dut namespace, kernel side 10.77.0.254/24 and
    2001:db8:77::fe/64; net_tap attaches to it; Kamailio listens on the kernel side.

RigSelfTest checks the rigs without regfrontd: the dut end is addressed like regfront would be
and a tiny UAC (this file, --probe) registers through the router over IPv4, IPv6 and the VLAN,
receives a reply bigger than the MTU, and gets ECONNREFUSED from the closed port.

If regfrontd (or its DPDK backend) is missing, the scenarios FAIL: they are acceptance tests.
REGFRONT_E2E_KEEP=1 keeps temp dirs (configs, logs). Every wait is bounded.
"""

import collections
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest
from typing import Dict, List, Optional, Set, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kamailio as kam
import regfrontd as rfd  # noqa: E402
import netrig  # noqa: E402

BIN_DIR: Optional[str] = None  # --bin-dir
THIS = os.path.abspath(__file__)
EXPIRES = 30
SIP_PORT = 5060
PAD = 3000  # bytes of header Kamailio adds to each reply in scenario (e): 3 fragments at 1500

_run_seq = iter(range(1, 1000))


def log(msg: str) -> None:
    print(f"[e2e-dpdk {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Rigs
# --------------------------------------------------------------------------------------------

class Routed:
    """The routed rig of the module docstring. `dut_addressed` puts regfront's addresses on the
    dut end of the veth (kernel stack) for RigSelfTest; regfrontd needs it bare."""

    DUT4, GW4 = "10.77.0.1", "10.77.0.254"
    DUT6, GW6 = "2001:db8:77::1", "2001:db8:77::fe"
    VLAN_ID, DUTV4, GWV4 = 100, "10.78.0.1", "10.78.0.254"
    REG4 = ("10.79.0.1", "10.79.0.2")
    REG6 = ("2001:db8:79::1", "2001:db8:79::2")
    RGW4, RGW6 = "10.79.0.254", "2001:db8:79::fe"

    def __init__(self, rig: netrig.NetRig, vlan: bool = False, dut_addressed: bool = False,
                 ring_mtu: Optional[int] = None):
        self.rig = rig
        self.dut = rig.netns("dut")
        self.router = rig.netns("router")
        self.reg = rig.netns("reg")
        self.dut_if, self.gw_if = rig.veth("d0", "p0", a_ns=self.dut, b_ns=self.router)
        rig.addr(self.gw_if, f"{self.GW4}/24", ns=self.router)
        rig.tx_checksum_off(self.gw_if, ns=self.router)  # af_packet sees finished checksums
        rig.addr(self.gw_if, f"{self.GW6}/64", ns=self.router)
        self.gw_vlan_if = None
        if vlan:
            self.gw_vlan_if = rig.vlan(self.gw_if, self.VLAN_ID, ns=self.router)
            rig.addr(self.gw_vlan_if, f"{self.GWV4}/24", ns=self.router)
        r1, k1 = rig.veth("r1", "k1", a_ns=self.router, b_ns=self.reg, mtu=ring_mtu)
        rig.addr(r1, f"{self.RGW4}/24", ns=self.router)
        rig.addr(r1, f"{self.RGW6}/64", ns=self.router)
        for a in self.REG4:
            rig.addr(k1, f"{a}/24", ns=self.reg)
        for a in self.REG6:
            rig.addr(k1, f"{a}/64", ns=self.reg)
        rig.route("default", self.RGW4, ns=self.reg)
        rig.route("default", self.RGW6, ns=self.reg)
        rig.forwarding(self.router)
        rig.icmp_unlimited(self.reg)
        rig.icmp_unlimited(self.router)
        if dut_addressed:
            rig.addr(self.dut_if, f"{self.DUT4}/24", ns=self.dut)
            rig.addr(self.dut_if, f"{self.DUT6}/64", ns=self.dut)
            rig.route("default", self.GW4, ns=self.dut)
            rig.route("default", self.GW6, ns=self.dut)
            if vlan:
                v = rig.vlan(self.dut_if, self.VLAN_ID, ns=self.dut)
                rig.addr(v, f"{self.DUTV4}/24", ns=self.dut)
                rig.route("10.79.0.0/24", self.GWV4, ns=self.dut)
        else:
            # The dut end belongs to DPDK's af_packet: no kernel IPv6 chatter on it.
            rig.disable_ipv6(self.dut_if, ns=self.dut)


class Tapped:
    """The tap rig: kernel side of the tap = the registrar's link, in the dut namespace."""

    DUT4, PEER4 = "10.77.0.1", "10.77.0.254"
    DUT6, PEER6 = "2001:db8:77::1", "2001:db8:77::fe"

    def __init__(self, rig: netrig.NetRig):
        self.rig = rig
        self.dut = rig.netns("dut")
        self.tap = rig.tap("t0", ns=self.dut)
        rig.up(self.tap, ns=self.dut)
        rig.addr(self.tap, f"{self.PEER4}/24", ns=self.dut)
        rig.addr(self.tap, f"{self.PEER6}/64", ns=self.dut)
        rig.icmp_unlimited(self.dut)


# --------------------------------------------------------------------------------------------
# regfrontd --io dpdk
# --------------------------------------------------------------------------------------------

def eal_args(vdevs: List[str], workers: int, telemetry: bool = False) -> str:
    """EAL arguments: no hugepages, no PCI, a unique file prefix, one lcore per worker plus the
    main lcore (mapped onto the machine's CPUs: CI runners may have fewer CPUs than lcores);
    DPDK telemetry only when asked for."""
    ncpu = os.cpu_count() or 1
    lcores = workers + 1
    if lcores <= ncpu:
        lc = ["-l", f"0-{lcores - 1}"]
    else:
        lc = ["--lcores", f"(0-{lcores - 1})@(0-{ncpu - 1})"]
    prefix = f"rfe2e-{os.getpid()}-{next(_run_seq)}"
    args = ["--no-huge", "--no-pci", "-m", "512", "--file-prefix", prefix,
            "--log-level=*:notice"] + ([] if telemetry else ["--no-telemetry"]) + lc
    for v in vdevs:
        args += ["--vdev", v]
    return " ".join(args)


class DpdkRegfrontd(rfd.DpdkRegfrontd):
    """One `regfrontd --io dpdk` running inside a namespace (see regfrontd.py)."""

    def __init__(self, config_text: str, eal: str, netns: Optional[str], workers: int = 1,
                 name: str = "regfrontd-dpdk"):
        super().__init__(BIN_DIR, config_text, eal, lambda cmd: netrig.NetRig.wrap(cmd, netns),
                         workers, name)
        self.netns = netns

    def start(self) -> None:
        # EAL start-up (memory, vdevs) takes a moment; the control socket says it is up.
        super().start(log, ready_timeout=20)

    def kill(self, grace: float = 5.0) -> None:
        super().kill(grace)

    def registrar_stats(self, index: int) -> Dict[str, int]:
        stats = self.cli_json("show sip-ua statistics") or {}
        for r in stats.get("registrars", []):
            if r.get("index") == index:
                return r
        return {}

    def diagnostics(self) -> str:
        parts = [f"--- command: {' '.join(self.command())}",
                 f"--- regfrontd log tail ({self.log_path}):\n{self.log_tail()}"]
        status = self.cli_json("show sip-ua register status")
        if status is not None:
            states = collections.Counter((b.get("registrar"), b.get("state"), b.get("last_code"))
                                         for b in status.get("bindings", []))
            parts.append("--- register status (registrar, state, last_code): count\n"
                         + "\n".join(f"{k}: {v}" for k, v in sorted(states.items(), key=str)))
        for what in ("show sip-ua statistics", "show dataplane"):
            j = self.cli_json(what)
            if j is not None:
                parts.append(f"--- {what}\n{json.dumps(j)[:3000]}")
        return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# Configuration and assertions
# --------------------------------------------------------------------------------------------

# Numbers with credentials for both realms register at R1 and R2; ONLY_A has none for realm-b:
# R2 challenges it and regfront must give up without ever sending an Authorization there.
BOTH = [f"{3001 + i}" for i in range(8)]
ONLY_A = "3100"
NUMBERS = BOTH + [ONLY_A]


def users(realm_letter: str) -> List[Tuple[str, str]]:
    nums = NUMBERS if realm_letter == "a" else BOTH
    return [(f"u{n}{realm_letter}", f"p{n}{realm_letter}") for n in nums]


def interface_block(dut4: str, dut6: Optional[str], gw4: Optional[str], gw6: Optional[str],
                    vlan: Optional[Tuple[int, str]] = None, extra_routes: Tuple[str, ...] = (),
                    bind: str = "dpdk0") -> str:
    lines = ["interface dpdk0", f" ip address {dut4} 255.255.255.0"]
    if dut6:
        lines.append(f" ipv6 address {dut6}/64")
    if vlan:
        vid, addr = vlan
        lines += [f"interface dpdk0.{vid}", f" encapsulation dot1Q {vid}",
                  f" ip address {addr} 255.255.255.0"]
    if gw4:
        lines.append(f"ip route 0.0.0.0 0.0.0.0 {gw4}")
    if gw6:
        lines.append(f"ipv6 route ::/0 {gw6}")
    lines += list(extra_routes)
    lines += ["voice service voip", " sip", f"  bind control source-interface {bind}",
              f"  listen-port non-secure {SIP_PORT}"]
    return "\n".join(lines) + "\n"


def sip_ua_block(registrars: Dict[int, str], numbers: List[str] = NUMBERS,
                 both: List[str] = BOTH, rate: int = 200) -> str:
    lines = ["sip-ua"]
    for idx, addr in sorted(registrars.items()):
        lines.append(f" registrar {idx} {addr} expires {EXPIRES}")
    for n in numbers:
        lines.append(f" credentials number {n} username u{n}a password 0 p{n}a realm realm-a.test")
        if n in both:
            lines.append(f" credentials number {n} username u{n}b password 0 p{n}b "
                         f"realm realm-b.test")
    lines.append(f" registration rate {rate}")
    return "\n".join(lines) + "\n"


def v4(addr: str, port: int = SIP_PORT) -> str:
    return f"ipv4:{addr}:{port}"


def v6(addr: str, port: int = SIP_PORT) -> str:
    return f"ipv6:[{addr}]:{port}"


_URI_RE = re.compile(r"^sips?:(?:(?P<user>[^@;>]+)@)?(?P<host>\[[^\]]+\]|[^:;>]+)"
                     r"(?::(?P<port>\d+))?")


class DpdkCase(unittest.TestCase):
    """Shared steps: build a rig, start registrars and regfrontd, assert Kamailio's tables."""

    def make_rig(self) -> netrig.NetRig:
        rig = netrig.NetRig()
        self.addCleanup(rig.close)
        self.rig = rig
        return rig

    def start_registrars(self, regs: List[kam.KamailioRegistrar]) -> None:
        kam.start_all(regs)
        self.addCleanup(kam.stop_all, regs)
        for r in regs:
            log(f"{r.name} {r.realm} on {r.listen_spec} in {r.netns} (log {r.log_path})")

    def start_regfrontd(self, config: str, vdevs: List[str], netns: str, workers: int = 1,
                        name: str = "regfrontd-dpdk", telemetry: bool = False) -> DpdkRegfrontd:
        rf = DpdkRegfrontd(config, eal_args(vdevs, workers, telemetry), netns, workers=workers, name=name)
        self.addCleanup(rf.kill)
        rf.check_config()
        rf.start()
        return rf

    def fail_with(self, rf: DpdkRegfrontd, msg: str) -> None:
        self.fail(f"{msg}\n{rf.diagnostics()}\n--- rig:\n{self.rig.describe()}")

    def wait_registered(self, rf: DpdkRegfrontd, expected: Dict[kam.KamailioRegistrar, Set[str]],
                        timeout: float, what: str) -> float:
        t0 = time.monotonic()
        missing: Dict[str, List[str]] = {}
        while time.monotonic() < t0 + timeout:
            if not rf.alive():
                self.fail_with(rf, f"regfrontd died ({rf.proc.returncode}) waiting for {what}")
            missing = {}
            for reg, nums in expected.items():
                table = reg.ul_dump()
                miss = sorted(n for n in nums if not table.get(n))
                if miss:
                    missing[reg.name] = miss
            if not missing:
                dt = time.monotonic() - t0
                log(f"{what}: all bindings in Kamailio after {dt:.2f}s")
                return dt
            time.sleep(0.3)
        self.fail_with(rf, f"{what}: bindings missing from Kamailio after {timeout:.0f}s: "
                           f"{missing}")
        return timeout

    def assert_contacts(self, reg: kam.KamailioRegistrar, numbers: Set[str], host: str,
                        ports: Set[int]) -> None:
        """One contact per number, on regfront's interface address (and a worker's port)."""
        table = reg.ul_dump()
        for n in sorted(numbers):
            contacts = table.get(n, [])
            self.assertEqual(len(contacts), 1, f"{reg.name}: {n}: {contacts}")
            m = _URI_RE.match(contacts[0].uri)
            self.assertIsNotNone(m, contacts[0].uri)
            self.assertEqual(m.group("user"), n)
            self.assertEqual(m.group("host").strip("[]").lower(), host.lower(),
                             f"{reg.name}: contact of {n} not on {host}: {contacts[0].uri}")
            self.assertIn(int(m.group("port") or 5060), ports, contacts[0].uri)
            self.assertIsNotNone(contacts[0].expires)
            self.assertTrue(1 <= contacts[0].expires <= EXPIRES, contacts[0].raw)

    def assert_sources(self, reg: kam.KamailioRegistrar, host: str) -> None:
        """Every REGISTER Kamailio saw came from regfront's address (routed, not rewritten)."""
        srcs = collections.Counter(s.get("src", "").rsplit(":", 1)[0].strip("[]").lower()
                                   for s in reg.auth_log().saved)
        self.assertTrue(srcs, f"{reg.name}: nothing saved")
        self.assertEqual(set(srcs), {host.lower()}, f"{reg.name}: REGISTER sources {srcs}")

    def assert_realms(self, reg: kam.KamailioRegistrar, allowed_numbers: Set[str]) -> None:
        """F7: every Authorization offered carries reg's realm and the number's own username;
        numbers without a credential for that realm never send one."""
        log_ = reg.auth_log()
        letter = reg.realm.split("-")[1][0]
        wrong = [(o.to_user, o.username, o.realm) for o in log_.offered
                 if o.realm != reg.realm or o.to_user not in allowed_numbers
                 or o.username != f"u{o.to_user}{letter}"]
        self.assertEqual(wrong, [], f"{reg.name} (realm {reg.realm}) was offered credentials "
                                    f"it must never see (number, username, realm)")
        for n in allowed_numbers:
            self.assertTrue(any(o.to_user == n for o in log_.offered),
                            f"{reg.name}: {n} never offered credentials")

    def assert_unregistered_on_sigterm(self, rf: DpdkRegfrontd,
                                       expected: Dict[kam.KamailioRegistrar, Set[str]]) -> None:
        rc, took = rf.terminate(timeout=15)
        log(f"regfrontd exited {rc} {took:.2f}s after SIGTERM")
        if rc != 0:
            self.fail_with(rf, f"regfrontd should exit 0 on SIGTERM, got {rc}")

        def left():
            out = {}
            for reg, nums in expected.items():
                table = reg.ul_dump()
                still = sorted(n for n in nums if table.get(n))
                if still:
                    out[reg.name] = still
            return out

        try:
            kam.wait_until(lambda: not left(), 10, 0.3, "tables to empty after SIGTERM")
        except kam.HarnessError:
            self.fail(f"bindings left after SIGTERM (no unregistration over DPDK): {left()}\n"
                      f"{rf.log_tail()}")

    def two_realm_registrars(self, hosts: Tuple[str, str], netns: str, pad: int = 0,
                             ports: Tuple[int, int] = (SIP_PORT, SIP_PORT)
                             ) -> Tuple[kam.KamailioRegistrar, kam.KamailioRegistrar]:
        r1 = kam.KamailioRegistrar("R1", "realm-a.test", users("a"), host=hosts[0], netns=netns,
                                   port=ports[0], algorithm="MD5", default_expires=EXPIRES,
                                   children=2, reply_padding=pad)
        r2 = kam.KamailioRegistrar("R2", "realm-b.test", users("b"), host=hosts[1], netns=netns,
                                   port=ports[1], algorithm="SHA-256", qop="auth",
                                   default_expires=EXPIRES, children=2, reply_padding=pad)
        self.start_registrars([r1, r2])
        return r1, r2

    def net_counter(self, rf: DpdkRegfrontd, name: str) -> int:
        """A NetStack counter summed over the workers (`show dataplane | json`)."""
        dp = rf.cli_json("show dataplane") or {}
        return sum(w.get("counters", {}).get(name, 0) for w in dp.get("workers", []))

    def standard_run(self, rf: DpdkRegfrontd, r1: kam.KamailioRegistrar,
                     r2: kam.KamailioRegistrar, contact_host: str, what: str,
                     fragmented: bool = False, before_stop=None) -> None:
        """Registered at R1 (all numbers) and R2 (BOTH only), realm scoping, contacts, sources,
        ONLY_A tried R2 without credentials, unregistration on SIGTERM."""
        expected = {r1: set(NUMBERS), r2: set(BOTH)}
        self.wait_registered(rf, expected, 30, what)
        kam.wait_until(lambda: any(n.get("to") == ONLY_A for n in r2.auth_log().noauth), 10,
                       0.3, f"{ONLY_A} to try R2 without credentials")
        time.sleep(1.0)
        ports = set(range(SIP_PORT, SIP_PORT + max(1, rf.workers)))
        for reg in (r1, r2):
            self.assert_contacts(reg, expected[reg], contact_host, ports)
            self.assert_sources(reg, contact_host)
        self.assert_realms(r1, set(NUMBERS))
        self.assert_realms(r2, set(BOTH))
        self.assertNotIn(ONLY_A, r2.ul_dump(), f"{ONLY_A} has no realm-b credential")
        self.assertEqual([o for o in r2.auth_log().offered if o.to_user == ONLY_A], [])
        stats = rf.cli_json("show sip-ua statistics")
        log(f"{what}: statistics {json.dumps(stats)[:1500] if stats else None}")
        if stats is not None:
            self.assertEqual(stats.get("dataplane", {}).get("forged", 0), 0)
        dp = rf.cli_json("show dataplane")
        log(f"{what}: dataplane {json.dumps(dp)[:1500] if dp else None}")
        # The poll-mode loop allocated nothing (jemalloc's per-thread count since the worker's
        # first snapshot): RX, reassembly, engine, TX, ARP/NDP, all from mempools and arenas.
        self.assertIsNotNone(dp, "show dataplane | json")
        self.assertEqual([w.get("heap_allocated") for w in dp["workers"]], [0] * len(dp["workers"]), dp)
        if fragmented:
            # Every reply (401 and 200) was 3 fragments on the wire: each one reassembled.
            got = self.net_counter(rf, "frag_reassembled")
            self.assertGreaterEqual(got, len(NUMBERS) + len(BOTH) + len(NUMBERS),
                                    f"datagrams reassembled: {got}")
            log(f"{what}: {got} datagrams reassembled from "
                f"{self.net_counter(rf, 'frag_received')} fragments")
        if before_stop is not None:
            before_stop()
        self.assert_unregistered_on_sigterm(rf, expected)

    def assert_telemetry(self, rf: DpdkRegfrontd, r1: kam.KamailioRegistrar) -> None:
        """DPDK's own client (dpdk-telemetry.py, Debian dpdk-dev) lists regfrontd's commands
        beside /ethdev/*, and their answers agree with the show commands."""
        prefix = rf.eal.split("--file-prefix ")[1].split()[0]
        dp = rf.cli_json("show dataplane")
        stats = rf.cli_json("show sip-ua statistics")
        self.assertIsNotNone(dp)
        self.assertIsNotNone(stats)
        time.sleep(1.5)  # the telemetry copy is refreshed once a second
        cmds = ["/", "/regfront/info", "/regfront/workers", "/regfront/worker,0", "/regfront/registrars",
                "/regfront/registrar,1", "/ethdev/list"]
        r = subprocess.run([sys.executable, "/usr/bin/dpdk-telemetry.py", "-f", prefix],
                           input="\n".join(cmds) + "\n", capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = {}
        for line in r.stdout.splitlines():
            if line.startswith("{"):
                got.update(json.loads(line))
        log(f"telemetry: {json.dumps(got)[:1500]}")
        for c in ("/regfront/info", "/regfront/workers", "/regfront/worker", "/regfront/registrars",
                  "/regfront/registrar"):
            self.assertIn(c, got.get("/", []), f"{c} not listed by the telemetry socket")
        info = got["/regfront/info"]
        self.assertEqual(info["io"], "dpdk")
        self.assertEqual(info["workers"], len(dp["workers"]))
        self.assertEqual(info["bindings"], sum(w["bindings"] for w in dp["workers"]))
        self.assertEqual(got["/regfront/workers"], list(range(len(dp["workers"]))))
        self.assertGreater(got["/regfront/worker"]["rx"], 0)
        self.assertEqual(got["/regfront/registrars"], [1, 2])
        reg1 = got["/regfront/registrar"]
        self.assertEqual(reg1["address"], f"{r1.host}:{r1.port}")
        want = next(x for x in stats["registrars"] if x["index"] == 1)
        self.assertEqual(reg1["accepted"], want["accepted"])
        self.assertEqual(reg1.get("code_401", 0), (want.get("responses") or {}).get("401", 0))
        self.assertGreater(reg1.get("code_401", 0), 0, "the registrar challenged every binding")
        self.assertEqual(got["/ethdev/list"], [0], "DPDK's own commands still answer")
        # Unknown registrar or worker: no data (telemetry's null), not a crash.
        r = subprocess.run([sys.executable, "/usr/bin/dpdk-telemetry.py", "-f", prefix],
                           input="/regfront/registrar,5\n/regfront/worker,x\n/regfront/info\n",
                           capture_output=True, text=True, timeout=30)
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        self.assertEqual(len(lines), 3, r.stdout)
        self.assertIsNone(lines[0]["/regfront/registrar"])
        self.assertIsNone(lines[1]["/regfront/worker"])
        self.assertEqual(lines[2]["/regfront/info"]["io"], "dpdk")


# --------------------------------------------------------------------------------------------
# Rig self-test (kernel stack on the dut side instead of regfrontd)
# --------------------------------------------------------------------------------------------

def probe_main(argv: List[str]) -> int:
    """--probe HOST PORT [SRC]: one REGISTER without credentials; prints `CODE LEN` of the
    reply, or `REFUSED` (ICMP port unreachable), or `TIMEOUT`. Runs inside a namespace."""
    host, port = argv[0], int(argv[1])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if len(argv) > 2:
        s.bind((argv[2], 0))
    s.settimeout(2.0)
    s.connect((host, port))
    lhost, lport = s.getsockname()[:2]
    lh = f"[{lhost}]" if ":" in lhost else lhost
    rh = f"[{host}]" if ":" in host else host
    msg = (f"REGISTER sip:{rh}:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP {lh}:{lport};branch=z9hG4bK{os.urandom(6).hex()};rport\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:probe@{rh}>;tag={os.urandom(4).hex()}\r\n"
           f"To: <sip:probe@{rh}>\r\nCall-ID: {os.urandom(8).hex()}\r\nCSeq: 1 REGISTER\r\n"
           f"Contact: <sip:probe@{lh}:{lport}>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n")
    for _ in range(3):
        try:
            s.send(msg.encode())
            data = s.recv(65535)
        except ConnectionRefusedError:
            print("REFUSED")
            return 0
        except socket.timeout:
            continue
        print(f"{data.split(b' ', 2)[1].decode()} {len(data)}")
        return 0
    print("TIMEOUT")
    return 0


class RigSelfTest(DpdkCase):
    """The rigs work with the kernel in regfront's place (no DPDK): routing v4/v6, VLAN,
    replies larger than the MTU, ICMP port unreachable; and they are torn down."""

    def probe(self, ns: str, host: str, port: int = SIP_PORT, src: Optional[str] = None) -> str:
        cmd = [sys.executable, THIS, "--probe", host, str(port)] + ([src] if src else [])
        return self.rig.run(cmd, ns=ns, timeout=20).stdout.strip()

    def test_routed_rig(self):
        rig = self.make_rig()
        t = Routed(rig, vlan=True, dut_addressed=True)
        self.assertTrue(rig.ping(Routed.REG4[0], ns=t.dut), rig.describe())
        self.assertTrue(rig.ping(Routed.REG6[0], ns=t.dut), rig.describe())
        r1 = kam.KamailioRegistrar("P1", "realm-a.test", [("u", "p")], host=Routed.REG4[0],
                                   netns=t.reg, children=1, reply_padding=PAD)
        r6 = kam.KamailioRegistrar("P6", "realm-b.test", [("u", "p")], host=Routed.REG6[0],
                                   netns=t.reg, children=1)
        self.start_registrars([r1, r6])
        code, length = self.probe(t.dut, Routed.REG4[0]).split()
        self.assertEqual(code, "401")
        self.assertGreater(int(length), PAD + 200, "padded reply (bigger than the MTU)")
        self.assertEqual(self.probe(t.dut, Routed.REG6[0]).split()[0], "401")
        # IPv4 to 10.79/24 goes through the VLAN (route via 10.78.0.254): the registrar sees
        # the dut's VLAN address, whatever the socket was bound to.
        srcs = {n.get("src", "").rsplit(":", 1)[0] for n in r1.auth_log().noauth}
        self.assertEqual(srcs, {Routed.DUTV4})
        self.assertEqual(self.probe(t.dut, Routed.REG4[0], port=5070), "REFUSED")
        self.assertEqual(self.probe(t.dut, Routed.REG6[0], port=5070), "REFUSED")
        names = list(rig.namespaces)
        rig.close()
        listed = netrig._run(["ip", "netns", "list"]).stdout
        for ns in names:
            self.assertNotIn(ns, listed, "namespace left after close()")

    def test_tap_rig(self):
        rig = self.make_rig()
        t = Tapped(rig)
        info = rig.run(["ip", "-d", "link", "show", t.tap], ns=t.dut).stdout
        self.assertIn("multi_queue", info, "net_tap opens taps IFF_MULTI_QUEUE")
        r = kam.KamailioRegistrar("PT", "realm-a.test", [("u", "p")], host=Tapped.PEER4,
                                  netns=t.dut, children=1)
        self.start_registrars([r])  # Kamailio binds the tap's kernel address before DPDK runs
        rig.close()


# --------------------------------------------------------------------------------------------
# The DPDK scenarios
# --------------------------------------------------------------------------------------------

class DpdkScenarios(DpdkCase):

    def routed(self, **kw) -> Routed:
        return Routed(self.make_rig(), **kw)

    def af_packet(self, t: Routed, qpairs: int = 1) -> str:
        return f"net_af_packet0,iface={t.dut_if},qpairs={qpairs}"

    def test_a_net_tap(self):
        """(a) net_tap; the registrars on the kernel side of the tap."""
        rig = self.make_rig()
        t = Tapped(rig)
        # Both on the tap's kernel address, on two ports.
        r1, r2 = self.two_realm_registrars((Tapped.PEER4, Tapped.PEER4), t.dut,
                                           ports=(SIP_PORT, SIP_PORT + 10))
        config = (interface_block(Tapped.DUT4, Tapped.DUT6, None, None)
                  + sip_ua_block({1: v4(r1.host), 2: v4(r2.host, r2.port)}))
        rf = self.start_regfrontd(config, [f"net_tap0,iface={t.tap}"], t.dut, name="rf-a-tap", telemetry=True)
        self.assert_device_signals_reach_workers_only(rf)
        self.standard_run(rf, r1, r2, Tapped.DUT4, "(a) net_tap", before_stop=lambda: self.assert_telemetry(rf, r1))

    def assert_device_signals_reach_workers_only(self, rf: DpdkRegfrontd) -> None:
        """net_tap asks for a real-time signal per received frame (F_SETSIG): every thread but
        the poll-mode workers blocks SIGIO and SIGRTMIN..SIGRTMAX, so the control loop is not
        woken once per frame (SigBlk in /proc: bit N-1 for signal N)."""
        device = (1 << (signal.SIGIO - 1))
        for sig in range(signal.SIGRTMIN, signal.SIGRTMAX + 1):
            device |= 1 << (sig - 1)
        masks = {}
        for tid in os.listdir(f"/proc/{rf.proc.pid}/task"):
            with open(f"/proc/{rf.proc.pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{rf.proc.pid}/task/{tid}/status") as f:
                blk = int(next(l for l in f if l.startswith("SigBlk:")).split()[1], 16)
            masks[(name, int(tid))] = blk
        workers = {k: m for k, m in masks.items() if k[0].startswith("rte-worker")}
        self.assertTrue(workers, f"no worker thread in {sorted(masks)}")
        for k, m in workers.items():
            self.assertEqual(m & device, 0, f"worker {k} blocks device signals: {m:#x}")
        main = masks.get(("regfrontd", rf.proc.pid))
        self.assertIsNotNone(main, f"no main thread in {sorted(masks)}")
        self.assertEqual(main & device, device, f"the control thread takes device signals: {main:#x}")

    def test_b_af_packet_routed_v4(self):
        """(b) net_af_packet on a veth; registrars two hops away through a router (ARP for the
        gateway, ip route 0.0.0.0 0.0.0.0 GW)."""
        t = self.routed()
        r1, r2 = self.two_realm_registrars(Routed.REG4, t.reg)
        config = (interface_block(Routed.DUT4, Routed.DUT6, Routed.GW4, Routed.GW6)
                  + sip_ua_block({1: v4(Routed.REG4[0]), 2: v4(Routed.REG4[1])}))
        rf = self.start_regfrontd(config, [self.af_packet(t)], t.dut, name="rf-b-v4")
        self.standard_run(rf, r1, r2, Routed.DUT4, "(b) af_packet IPv4 routed")
        # The router resolved regfront's address by ARP (regfront answered for 10.77.0.1).
        neigh = self.rig.ip("neigh", "show", Routed.DUT4, ns=t.router, check=False)
        self.assertIn("lladdr", neigh, f"router has no ARP entry for regfront: {neigh!r}")

    def test_c_af_packet_routed_v6(self):
        """(c) the same over IPv6 (NDP for the gateway, ipv6 route ::/0 GW)."""
        t = self.routed()
        r1, r2 = self.two_realm_registrars(Routed.REG6, t.reg)
        config = (interface_block(Routed.DUT4, Routed.DUT6, Routed.GW4, Routed.GW6)
                  + sip_ua_block({1: v6(Routed.REG6[0]), 2: v6(Routed.REG6[1])}))
        rf = self.start_regfrontd(config, [self.af_packet(t)], t.dut, name="rf-c-v6")
        self.standard_run(rf, r1, r2, Routed.DUT6, "(c) af_packet IPv6 routed")
        neigh = self.rig.ip("-6", "neigh", "show", Routed.DUT6, ns=t.router, check=False)
        self.assertIn("lladdr", neigh, f"router has no NDP entry for regfront: {neigh!r}")

    def test_d_vlan_subinterface(self):
        """(d) dpdk0.100 (dot1Q 100) to a VLAN interface of the router; the untagged dpdk0 has
        no route to the registrars, so only tagged frames can carry the registrations."""
        t = self.routed(vlan=True)
        r1, r2 = self.two_realm_registrars(Routed.REG4, t.reg)
        config = (interface_block(Routed.DUT4, None, None, None,
                                  vlan=(Routed.VLAN_ID, Routed.DUTV4),
                                  extra_routes=(f"ip route 10.79.0.0 255.255.255.0 "
                                                f"{Routed.GWV4}",),
                                  bind=f"dpdk0.{Routed.VLAN_ID}")
                  + sip_ua_block({1: v4(Routed.REG4[0]), 2: v4(Routed.REG4[1])}))
        rf = self.start_regfrontd(config, [self.af_packet(t)], t.dut, name="rf-d-vlan")
        self.standard_run(rf, r1, r2, Routed.DUTV4, "(d) VLAN sub-interface")
        neigh = self.rig.ip("neigh", "show", Routed.DUTV4, ns=t.router, check=False)
        self.assertIn("lladdr", neigh, f"router has no ARP entry for 10.78.0.1: {neigh!r}")
        self.assertIn(t.gw_vlan_if, neigh, f"10.78.0.1 learnt off the VLAN: {neigh!r}")

    def test_e_fragmented_responses(self):
        """(e) every reply carries a 3000-byte header: 401s and 200s arrive as three IPv4
        fragments (MTU 1500) and must be reassembled by regfront (rte_ip_frag).

        Over net_tap, not net_af_packet: DPDK 22.11's af_packet joins its sockets to a
        PACKET_FANOUT group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles IPv4
        fragments before the PMD sees them (and truncates the 3.4 kB datagram to its 2 kB
        frame): over af_packet regfront never receives an IPv4 fragment."""
        rig = self.make_rig()
        t = Tapped(rig)
        r1, r2 = self.two_realm_registrars((Tapped.PEER4, Tapped.PEER4), t.dut, pad=PAD,
                                           ports=(SIP_PORT, SIP_PORT + 10))
        config = (interface_block(Tapped.DUT4, Tapped.DUT6, None, None)
                  + sip_ua_block({1: v4(r1.host), 2: v4(r2.host, r2.port)}))
        rf = self.start_regfrontd(config, [f"net_tap0,iface={t.tap}"], t.dut, name="rf-e-frag")
        self.standard_run(rf, r1, r2, Tapped.DUT4, "(e) fragmented responses", fragmented=True)

    def test_e6_fragmented_responses_v6(self):
        """(e) over IPv6: Kamailio's 4 kB replies leave as IPv6 fragments (fragment header)."""
        t = self.routed()
        r1, r2 = self.two_realm_registrars(Routed.REG6, t.reg, pad=PAD)
        config = (interface_block(Routed.DUT4, Routed.DUT6, Routed.GW4, Routed.GW6)
                  + sip_ua_block({1: v6(Routed.REG6[0]), 2: v6(Routed.REG6[1])}))
        rf = self.start_regfrontd(config, [self.af_packet(t)], t.dut, name="rf-e6-frag")
        self.standard_run(rf, r1, r2, Routed.DUT6, "(e) fragmented responses IPv6",
                          fragmented=True)

    def test_f_unreachable_fails_fast(self):
        """(f) registrar 2 has no process on its port: the registrar host's kernel answers ICMP
        port unreachable, which must fail the transactions at once (no Timer E/F cycle), while
        registrar 1 registers normally."""
        t = self.routed()
        r1 = kam.KamailioRegistrar("R1", "realm-a.test", users("a"), host=Routed.REG4[0],
                                   netns=t.reg, default_expires=EXPIRES, children=2)
        self.start_registrars([r1])
        dead_port = 5099
        config = (interface_block(Routed.DUT4, Routed.DUT6, Routed.GW4, Routed.GW6)
                  + sip_ua_block({1: v4(Routed.REG4[0]), 2: v4(Routed.REG4[1], dead_port)}))
        rf = self.start_regfrontd(config, [self.af_packet(t)], t.dut, name="rf-f-unreach")
        self.wait_registered(rf, {r1: set(NUMBERS)}, 30, "(f) R1 next to a dead registrar")
        bindings = len(NUMBERS)
        deadline = time.monotonic() + 8.0  # Timer F is 32 s: this must happen long before
        st: Dict[str, int] = {}
        while time.monotonic() < deadline:
            st = rf.registrar_stats(2)
            if st.get("unreachable", 0) >= bindings:
                break
            time.sleep(0.3)
        elapsed = time.monotonic() - rf.started_at
        log(f"(f) registrar 2 after {elapsed:.1f}s: {json.dumps(st)}")
        if st.get("unreachable", 0) < 1:
            self.fail_with(rf, f"(f) no transaction failed by ICMP within {elapsed:.0f}s: {st}")
        self.assertGreaterEqual(st.get("unreachable", 0), bindings,
                                f"every binding to the dead registrar should fail fast: {st}")
        # A handful of Timer E retransmissions may race the ICMP answer; a transaction that
        # waited for Timer F would have retransmitted ~10 times each.
        self.assertLessEqual(st.get("retransmitted", 0), bindings,
                             f"retransmissions to an unreachable registrar: {st}")
        self.assertEqual(st.get("timed_out", 0), 0, f"timeouts instead of fast failure: {st}")
        self.assertEqual(st.get("accepted", 0), 0, st)
        self.assert_realms(r1, set(NUMBERS))
        self.assert_unregistered_on_sigterm(rf, {r1: set(NUMBERS)})

    def test_g_two_workers(self):
        """(g) --workers 2 on af_packet with 2 queue pairs: every binding has one owner worker,
        both workers own bindings and move packets, all registered, nothing forged/misrouted."""
        t = self.routed()
        r1, r2 = self.two_realm_registrars(Routed.REG4, t.reg)
        config = (interface_block(Routed.DUT4, Routed.DUT6, Routed.GW4, Routed.GW6)
                  + sip_ua_block({1: v4(Routed.REG4[0]), 2: v4(Routed.REG4[1])}))
        rf = self.start_regfrontd(config, [self.af_packet(t, qpairs=2)], t.dut, workers=2,
                                  name="rf-g-2w")
        expected = {r1: set(NUMBERS), r2: set(BOTH)}
        self.wait_registered(rf, expected, 30, "(g) two workers")
        dp = rf.cli_json("show dataplane")
        stats = rf.cli_json("show sip-ua statistics")
        log(f"(g) dataplane {json.dumps(dp)}")
        if dp is None or stats is None:
            self.fail_with(rf, "(g) show dataplane / statistics | json unavailable")
        workers = dp.get("workers", [])
        self.assertEqual(len(workers), 2, dp)
        self.assertEqual([w.get("heap_allocated") for w in workers], [0, 0], dp)
        total = 2 * len(NUMBERS)  # every endpoint x every registrar, ONLY_A's R2 binding too
        self.assertEqual(sum(w.get("bindings", 0) for w in workers), total, dp)
        for w in workers:
            self.assertGreater(w.get("bindings", 0), 0, f"worker owns no binding: {dp}")
            self.assertGreater(w.get("rx", 0), 0, f"worker received nothing: {dp}")
            self.assertGreater(w.get("tx", 0), 0, f"worker sent nothing: {dp}")
        # Responses that the NIC (af_packet fanout) gave to the wrong queue went through the
        # handoff ring to their owner, none lost.
        handoff_out = sum(w.get("counters", {}).get("handoff_out", 0) for w in workers)
        handoff_in = sum(w.get("counters", {}).get("handoff_in", 0) for w in workers)
        self.assertEqual(handoff_out, handoff_in, f"handoffs lost: {dp}")
        self.assertEqual(sum(w.get("counters", {}).get("handoff_drop", 0) for w in workers), 0)
        log(f"(g) bindings per worker {[w.get('bindings') for w in workers]}, "
            f"handoffs {handoff_out}")
        plane = stats.get("dataplane", {})
        self.assertEqual(plane.get("forged", 0), 0, plane)
        self.assertEqual(plane.get("misrouted", 0), 0, f"a response reached a worker that does "
                                                       f"not own its binding: {plane}")
        ports = {SIP_PORT, SIP_PORT + 1}
        for reg in (r1, r2):
            self.assert_contacts(reg, expected[reg], Routed.DUT4, ports)
        self.assert_realms(r1, set(NUMBERS))
        self.assert_realms(r2, set(BOTH))
        # Every binding unregistered on SIGTERM with two workers too: a worker done with its own
        # bindings keeps receiving and handing off until both are done (a 401 for the other
        # worker's unregistration may land on its queue).
        self.assert_unregistered_on_sigterm(rf, expected)


def main() -> None:
    global BIN_DIR
    if len(sys.argv) > 1 and sys.argv[1] == "--probe":
        sys.exit(probe_main(sys.argv[2:]))
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    if os.geteuid() != 0:
        print("FAIL: the DPDK e2e suite needs root (network namespaces, veth, tap)",
              file=sys.stderr)
        sys.exit(1)
    unittest.main(argv=argv, verbosity=2)

if __name__ == "__main__":
    main()
