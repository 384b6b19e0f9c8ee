#!/usr/bin/env python3
"""regfrontd and regfront-cli as processes: start-up refusals, --check-config, the control
socket's show commands and error forms, and a `dns:` registrar resolved through c-ares (the
hosts file's `localhost`) registering at a real Kamailio.

  python3 tests/e2e/test_daemon.py --bin-dir BUILD/bin
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402

BIN_DIR = ""
DATA = os.path.join(HERE, "..", "data", "config")


def regfrontd(*args, **kw):
    return subprocess.run([os.path.join(BIN_DIR, "regfrontd"), *args], capture_output=True,
                          text=True, timeout=30, **kw)


def cli(sock, *commands, stdin=None):
    argv = [os.path.join(BIN_DIR, "regfront-cli"), "--socket", sock]
    for c in commands:
        argv += ["-c", c]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, input=stdin)


class CheckConfig(unittest.TestCase):
    def test_seed_examples_load(self):
        for name in ("seed-example-1.cfg", "seed-example-2.cfg", "seed-example-3.cfg"):
            r = regfrontd("--check-config", os.path.join(DATA, name))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("OK", r.stdout)

    def test_bad_line_refused_with_line_number(self):
        path = os.path.join(DATA, "bad-line-5.cfg")
        r = regfrontd("--check-config", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad-line-5.cfg:5:", r.stderr)
        self.assertIn("% Invalid input detected at '^' marker.", r.stderr)

    def test_dpdk_profile_checked_with_the_config(self):
        work = kam.make_workdir("daemon-profile-")
        good = os.path.join(work, "good.profile")
        with open(good, "w") as f:
            f.write("! comment\n-l 0-1\n--in-memory\nport 0000:03:00.0\nvdev net_tap0,iface=rft0\n")
        cfg = os.path.join(DATA, "seed-example-1.cfg")
        r = regfrontd("--check-config", cfg, "--dpdk-profile", good)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{good}: OK (EAL arguments: -l 0-1 --in-memory -a 0000:03:00.0 --vdev net_tap0,iface=rft0)",
                      r.stdout)
        bad = os.path.join(work, "bad.profile")
        with open(bad, "w") as f:
            f.write("--in-memory\nlcores 0-1\n")
        r = regfrontd("--check-config", cfg, "--dpdk-profile", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{bad}:2: % expected an EAL option", r.stderr)
        # At start: refused before anything is opened, and never with the socket backend.
        sock = os.path.join(work, "c.sock")
        r = regfrontd("--config", cfg, "--io", "dpdk", "--dpdk-profile", bad, "--control-socket", sock)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{bad}: profile refused", r.stderr)
        r = regfrontd("--config", cfg, "--dpdk-profile", good, "--control-socket", sock)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--dpdk-profile is for --io dpdk", r.stderr)
        self.assertFalse(os.path.exists(sock))

    def test_daemon_refuses_bad_config_at_start(self):
        work = kam.make_workdir("daemon-bad-")
        r = regfrontd("--config", os.path.join(DATA, "bad-line-5.cfg"), "--listen",
                      f"127.0.0.1:{kam.allocate_udp_ports(1)[0]}", "--control-socket",
                      os.path.join(work, "c.sock"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad-line-5.cfg:5:", r.stderr)
        self.assertIn("configuration refused", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(work, "c.sock")))

    def test_restriction_error_names_line(self):
        work = kam.make_workdir("daemon-r1-")
        path = os.path.join(work, "r1.cfg")
        with open(path, "w") as f:
            f.write("sip-ua\n registrar 1 dns:a.example expires 60\n registrar dns:b.example expires 60\n")
        r = regfrontd("--check-config", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("r1.cfg:3:", r.stderr)

    def test_usage_errors(self):
        self.assertEqual(regfrontd().returncode, 2)
        self.assertEqual(regfrontd("--config", "x", "--workers", "0").returncode, 2)
        self.assertEqual(regfrontd("--config", "x", "--listen", "127.0.0.1:99999").returncode, 2)
        self.assertNotEqual(regfrontd("--config", "/nonexistent/file").returncode, 0)


class ControlSocketAndDns(unittest.TestCase):
    """One Kamailio registrar reached as dns:localhost:PORT; the control socket's commands."""

    def test_dns_registrar_and_show_commands(self):
        work = kam.make_workdir("daemon-dns-")
        users = [(f"u{n}", f"p{n}") for n in range(5000, 5020)]
        reg = kam.KamailioRegistrar("dns", "dns-realm.test", users, algorithm="SHA-256", qop="auth",
                                    min_expires=10, workdir=os.path.join(work, "kam"))
        cfg = os.path.join(work, "startup-config")
        with open(cfg, "w") as f:
            f.write("sip-ua\n")
            for user, pw in users:
                f.write(f" credentials number {user[1:]} username {user} password 0 {pw} realm dns-realm.test\n")
            f.write(f" registrar 1 dns:localhost:{reg.port} expires 60\n")
        sock = os.path.join(work, "c.sock")
        proc = None
        log = open(os.path.join(work, "regfrontd.log"), "w")
        try:
            reg.start()
            proc = subprocess.Popen([os.path.join(BIN_DIR, "regfrontd"), "--config", cfg, "--listen",
                                     f"127.0.0.1:{kam.allocate_udp_ports(1)[0]}", "--control-socket", sock],
                                    stderr=log)
            kam.wait_until(lambda: len(reg.ul_dump()) == len(users), timeout=20)
            table = reg.ul_dump()
            for user, _ in users:
                self.assertIn(user[1:], {aor.split("@")[0] for aor in table})

            st = json.loads(cli(sock, "show sip-ua register registrars | json").stdout)["registrars"][0]
            self.assertEqual(st["address"], f"localhost:{reg.port}")
            self.assertEqual(st["resolved"], f"127.0.0.1:{reg.port}")
            self.assertEqual(st["registered"], len(users))
            # Abbreviations, text output and | include.
            r = cli(sock, "sh sip-ua reg st | include 5003")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(r.stdout.splitlines()), 1)
            self.assertIn("registered", r.stdout)
            self.assertIn("dns-realm.test", r.stdout)
            stats = json.loads(cli(sock, "show sip-ua statistics | json").stdout)
            self.assertEqual(stats["registrars"][0]["accepted"], len(users))
            self.assertEqual(stats["dataplane"]["forged"], 0)
            dp_all = json.loads(cli(sock, "show dataplane | json").stdout)
            dp = dp_all["workers"]
            self.assertEqual(sum(w["bindings"] for w in dp), len(users))
            # Each publication is reported: the start-up snapshot, run by every worker by now.
            first = dp_all["snapshot"]
            self.assertGreaterEqual(first["version"], 1)
            self.assertGreaterEqual(first["build_ms"], 0)
            self.assertIsNotNone(first["adopted_ms"])
            # A live change publishes a newer one; its report follows it.
            self.assertEqual(cli(sock, "enable", "configure terminal", "hostname snaprep", "end").returncode, 0)

            def reported():
                snap = json.loads(cli(sock, "show dataplane | json").stdout)["snapshot"]
                return snap if snap["version"] > first["version"] and snap["adopted_ms"] is not None else None
            kam.wait_until(reported, timeout=10, what="the live change's snapshot reported as adopted")
            self.assertGreaterEqual(reported()["build_ms"], 0)
            self.assertRegex(cli(sock, "show dataplane").stdout,
                             r"Snapshot \d+: built in [0-9.]+ ms, run by every worker [0-9.]+ ms after publication")
            # A session starts in user exec, where the configuration (it holds passwords) is
            # not shown: enable first, as on IOS.
            self.assertEqual(cli(sock, "show running-config").returncode, 1)
            rc = cli(sock, "enable", "show running-config")
            self.assertIn(f"registrar 1 dns:localhost:{reg.port} expires 60", rc.stdout)
            self.assertNotIn("p5000", cli(sock, "show sip-ua register status").stdout)
            # Error forms: non-zero exit, IOS wording, nothing printed on stdout.
            bad = cli(sock, "show sip-ua bogus")
            self.assertEqual(bad.returncode, 1)
            self.assertIn("% Invalid input detected", bad.stderr)
            self.assertEqual(cli(sock, "show sip-ua").returncode, 1)
            self.assertIn("% Incomplete command.", cli(sock, "show sip-ua").stderr)
            self.assertIn("% Ambiguous command", cli(sock, "enable", "show s").stderr)
            # A script on stdin: every command runs; the exit status says one failed.
            script = cli(sock, stdin="show dataplane\nshow nonsense\nshow sip-ua statistics\n")
            self.assertEqual(script.returncode, 1)
            self.assertIn("Worker", script.stdout)
            self.assertIn("Registrar-Index 1", script.stdout)
        finally:
            if proc:
                proc.send_signal(signal.SIGTERM)
                try:
                    self.assertEqual(proc.wait(timeout=20), 0)
                finally:
                    if proc.poll() is None:
                        proc.kill()
            if reg.running():
                kam.wait_until(lambda: len(reg.ul_dump()) == 0, timeout=10)
            reg.stop()
            log.close()


class UnreachableOnSockets(unittest.TestCase):
    """The socket backend reads ICMP errors (IP_RECVERR) when ppoll reports POLLERR, or once a
    millisecond while busy: a registrar port nobody listens on must fail its transactions at
    once, not after Timer F (32 s) of retransmissions."""

    def test_icmp_port_unreachable_fails_fast(self):
        numbers = [str(7000 + i) for i in range(50)]
        dead = kam.allocate_udp_ports(1)[0]  # free: the kernel answers port unreachable
        config = ("sip-ua\n"
                  + "".join(f" credentials number {n} username u{n} password 0 p{n} realm dead.test\n"
                            for n in numbers)
                  + f" registrar 1 ipv4:127.0.0.1:{dead} expires 60\n registration rate 1000\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=1, name="rf-unreachable")
        rf.start()
        try:
            def failed_fast():
                st = (rf.cli_json("show sip-ua statistics") or {}).get("registrars", [{}])[0]
                return st if st.get("unreachable", 0) >= len(numbers) else None
            st = kam.wait_until(failed_fast, timeout=8, interval=0.2,
                                what="every transaction failed by ICMP")  # Timer F is 32 s
            self.assertEqual(st.get("timed_out", 0), 0, st)
            self.assertEqual(st.get("accepted", 0), 0, st)
            # A retransmission or two may race the ICMP answer; Timer F would mean ~10 each.
            self.assertLessEqual(st.get("retransmitted", 0), len(numbers), st)
        finally:
            rf.kill()


class Persistence(unittest.TestCase):
    """write memory, restart with the written file, identical running-config (CLI issue)."""

    def start(self, cfg, sock):
        proc = subprocess.Popen([os.path.join(BIN_DIR, "regfrontd"), "--config", cfg, "--listen",
                                 f"127.0.0.1:{kam.allocate_udp_ports(1)[0]}", "--control-socket", sock],
                                stderr=subprocess.DEVNULL)
        kam.wait_until(lambda: os.path.exists(sock), timeout=10)
        return proc

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        try:
            self.assertEqual(proc.wait(timeout=20), 0)
        finally:
            if proc.poll() is None:
                proc.kill()

    def test_write_memory_restart_same_running_config(self):
        work = kam.make_workdir("daemon-wr-")
        cfg = os.path.join(work, "startup-config")
        with open(cfg, "w") as f:
            f.write("sip-ua\n registrar 1 ipv4:127.0.0.1:9 expires 600\n"
                    " credentials number 4001 username a password 0 Pw-Secret-A1 realm r.example\n")
        sock = os.path.join(work, "c.sock")
        proc = self.start(cfg, sock)
        try:
            live = cli(sock, "enable", "configure terminal", "service password-encryption",
                       "dial-peer voice 7 pots", "destination-pattern 4002",
                       "authentication username b password 0 Pw-Secret-B2 realm r.example", "exit", "sip-ua",
                       "registrar 2 ipv4:127.0.0.1:19 expires 300 refresh-ratio 70",
                       "registration rate 250", "end", "write memory")
            self.assertEqual(live.returncode, 0, live.stderr)
            self.assertIn("[OK]", live.stdout)
            shown = cli(sock, "enable", "show running-config").stdout
            # IOS's header, then the configuration as the file holds it.
            header, before = shown.split("\n", 3)[:3], shown.split("\n", 3)[3]
            self.assertEqual(header[:2], ["Building configuration...", ""])
            self.assertEqual(header[2], f"Current configuration : {len(before.encode())} bytes")
            self.assertIn("registrar 2 ipv4:127.0.0.1:19 expires 300 refresh-ratio 70", before)
            self.assertIn("registration rate 250", before)
            self.assertNotIn("Pw-Secret-B2", before)  # type 7 with service password-encryption
            self.assertEqual(cli(sock, "enable", "show startup-config").stdout, before)
        finally:
            self.stop(proc)
        with open(cfg) as f:
            self.assertEqual(f.read(), before)
        proc = self.start(cfg, sock)
        try:
            after = cli(sock, "enable", "show running-config").stdout
            self.assertEqual(after, shown)
            # Passwords appear in the running-config only: not in the other shows.
            for show in ("show sip-ua register status", "show sip-ua register registrars",
                         "show sip-ua statistics", "show dataplane"):
                out = cli(sock, show).stdout
                self.assertTrue(out, show)
                self.assertNotIn("Pw-Secret", out, show)
        finally:
            self.stop(proc)


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)

if __name__ == "__main__":
    main()
