#!/usr/bin/env python3
"""RFC 3263 failover of a `dns:` registrar, with a real DNS server and real registrars:

  dnsmasq on 127.0.0.1 (its own port, no system configuration) serves
      voip.test            NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.voip.test
      _sip._udp.voip.test  SRV   10 50 PORT_A sip-a.voip.test     (the preferred target)
                           SRV   20 50 PORT_B sip-b.voip.test
      sip-a/sip-b.voip.test A    127.0.0.1
  in front of two Kamailio registrars of one provider (realm dns.test, the same subscribers)
  on PORT_A and PORT_B. regfrontd (`registrar 1 dns:voip.test`, `--dns-server` that dnsmasq)
  registers every binding at A; A is killed; the bindings' next REGISTERs to A fail (ICMP port
  unreachable), the registrar moves to B (`show sip-ua register registrars | json`: targets,
  in_use, target_switches) and every binding is registered in B's location table within a
  bounded time. The failover time (kill to all registered at B) is printed.

    python3 tests/e2e/test_dns_failover.py --bin-dir BUILD/bin [unittest args]

Loopback only; every wait is bounded. REGFRONT_E2E_KEEP=1 keeps the temporary directories.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402

BIN_DIR = ""
REALM = "dns.test"
DOMAIN = "voip.test"
EXPIRES = 20        # refreshes at 50 %: A's death is seen within ~10 s
NUMBERS = [str(4405550000 + i) for i in range(12)]
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


def log(msg: str) -> None:
    print(f"[e2e-dns {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_for(pred, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


def user(n: str) -> str:
    return f"u{n}"


def password(n: str) -> str:
    return f"pw-{n}"


class Dnsmasq:
    """dnsmasq in the foreground on 127.0.0.1:port with only the records given on its command
    line (no /etc/dnsmasq.conf, no resolv.conf, no hosts file)."""

    def __init__(self, records, ttl: int = 30):
        self.port = kam.allocate_udp_ports(1)[0]
        self.workdir = kam.make_workdir("dnsmasq-")
        self.log_path = os.path.join(self.workdir, "dnsmasq.log")
        self.argv = [DNSMASQ, "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
                     "--bind-interfaces", "--listen-address=127.0.0.1", "--except-interface=nonexistent0",
                     f"--port={self.port}", f"--local-ttl={ttl}", "--log-queries", "--log-facility=-",
                     f"--pid-file={os.path.join(self.workdir, 'dnsmasq.pid')}", "--user=" + (
                         "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody"))] + list(records)
        self.proc = None

    def start(self) -> None:
        with open(self.log_path, "ab") as f:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        kam.REGISTRY.add(self.proc)
        # Ready when it answers a query; c-ares is what regfrontd uses, a raw UDP query will do here.
        import socket
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" +
                 b"".join(bytes([len(p)]) + p.encode() for p in DOMAIN.split(".")) + b"\x00\x00\x23\x00\x01")

        def answers():
            if self.proc.poll() is not None:
                raise AssertionError(f"dnsmasq exited {self.proc.returncode}: {open(self.log_path).read()[-2000:]}")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.3)
                try:
                    s.sendto(query, ("127.0.0.1", self.port))
                    reply = s.recv(4096)
                except OSError:
                    return False
                return reply[:2] == b"\x12\x34" and (reply[7] > 0)  # one answer at least
        wait_for(answers, 10, "dnsmasq answers the NAPTR query")

    def stop(self) -> None:
        if self.proc is not None:
            kam.kill_tree(self.proc, grace=3)
            kam.REGISTRY.remove(self.proc)
            self.proc = None


def config_text() -> str:
    lines = ["hostname Router", "sip-ua",
             f" registrar 1 dns:{DOMAIN} expires {EXPIRES} refresh-ratio 50",
             " registration rate 200"]
    for n in NUMBERS:
        lines.append(f" credentials number {n} username {user(n)} password 0 {password(n)} realm {REALM}")
    return "\n".join(lines) + "\n"


class DnsFailover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(DNSMASQ, os.X_OK):
            raise AssertionError(f"dnsmasq not installed ({DNSMASQ}): run deploy/install-deps.sh")
        users = [(user(n), password(n)) for n in NUMBERS]
        cls.a = kam.KamailioRegistrar("A", REALM, users, default_expires=EXPIRES, children=2)
        cls.b = kam.KamailioRegistrar("B", REALM, users, default_expires=EXPIRES, children=2)
        cls.dns = Dnsmasq([
            f"--naptr-record={DOMAIN},10,10,s,SIP+D2U,,_sip._udp.{DOMAIN}",
            f"--srv-host=_sip._udp.{DOMAIN},sip-a.{DOMAIN},{cls.a.port},10,50",
            f"--srv-host=_sip._udp.{DOMAIN},sip-b.{DOMAIN},{cls.b.port},20,50",
            f"--host-record=sip-a.{DOMAIN},127.0.0.1",
            f"--host-record=sip-b.{DOMAIN},127.0.0.1",
        ])
        cls.dns.start()
        kam.start_all([cls.a, cls.b])
        cls.rf = rfd.SocketRegfrontd(BIN_DIR, config_text(), workers=2, name="regfrontd-dns")
        base = cls.rf.command

        def command():
            return base() + ["--dns-server", f"127.0.0.1:{cls.dns.port}", "--dns-hold-down", "120"]
        cls.rf.command = command
        try:
            cls.rf.check_config()
            cls.rf.start(log)
        except BaseException:
            kam.stop_all([cls.a, cls.b])
            cls.dns.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rf.kill()
        kam.stop_all([r for r in (cls.a, cls.b) if r.running()])
        cls.dns.stop()

    def registered_at(self, reg) -> int:
        table = reg.ul_dump()
        return sum(1 for n in NUMBERS if table.get(n))

    def status(self):
        res = subprocess.run([self.rf.cli, "--socket", self.rf.control_socket, "-c",
                              "show sip-ua register registrars | json"], capture_output=True, text=True, timeout=20)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        return json.loads(res.stdout)["registrars"][0]

    def test_failover_to_the_next_srv_target(self):
        everyone = len(NUMBERS)
        try:
            wait_for(lambda: self.registered_at(self.a) == everyone, 30, "every binding registered at A")
        except AssertionError:
            raise AssertionError(f"at A: {self.registered_at(self.a)}\n{self.rf.log_tail()}")
        st = self.status()
        log(f"before: {st}")
        self.assertEqual(st["resolved_by"], "NAPTR+SRV")
        self.assertEqual([(t["priority"], t["address"]) for t in st["targets"]],
                         [(10, f"127.0.0.1:{self.a.port}"), (20, f"127.0.0.1:{self.b.port}")])
        self.assertEqual([t["in_use"] for t in st["targets"]], [True, False])
        self.assertEqual(st["resolved"], f"127.0.0.1:{self.a.port}")
        self.assertEqual(st["target_switches"], 0)
        self.assertEqual(self.registered_at(self.b), 0, "nothing at B while A answers")

        killed = time.monotonic()
        self.a.stop()
        log("A killed")
        try:
            wait_for(lambda: self.registered_at(self.b) == everyone, 45, "every binding registered at B",
                     interval=0.25)
        except AssertionError:
            raise AssertionError(f"at B: {self.registered_at(self.b)}; {self.status()}\n{self.rf.log_tail()}")
        took = time.monotonic() - killed
        st = self.status()
        log(f"after: {st}")
        moved_at = None
        with open(self.rf.log_path, errors="replace") as f:
            for line in f:
                if "%SIP-4-REGISTRAR_FAILOVER: Registrar 1 target" in line:
                    moved_at = line.strip()
        log(f"failover: every binding registered at B {took:.1f} s after A was killed "
            f"(expires {EXPIRES}, refresh at 50 %); {moved_at}")
        self.assertEqual([t["in_use"] for t in st["targets"]], [False, True])
        self.assertEqual(st["resolved"], f"127.0.0.1:{self.b.port}")
        self.assertEqual(st["target_switches"], 1)
        self.assertGreater(st["targets"][0]["down_for_seconds"], 0, "A is held down")
        self.assertEqual(st["registered"], everyone)
        stats = {r["index"]: r for r in self.rf.cli_json("show sip-ua statistics")["registrars"]}[1]
        self.assertGreaterEqual(stats["unreachable"] + stats["timed_out"] + stats["responses"].get("503", 0), 3,
                                "the failures that moved it")
        self.assertIsNotNone(moved_at, "the switch is logged")
        # Bounded: the refresh (EXPIRES / 2) that meets the dead target, the failures, the move
        # and B's paced registrations.
        self.assertLess(took, EXPIRES / 2 + 15)


if __name__ == "__main__":
    BIN_DIR, argv = rfd.suite_args(__doc__.splitlines()[0])
    unittest.main(argv=argv, verbosity=2)
