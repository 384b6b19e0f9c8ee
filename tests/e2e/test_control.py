#!/usr/bin/env python3
"""regfrontd's control plane under a bad day (issue 11, items 3, 4, 5), as processes with real
sockets and real Kamailio registrars:

  SigHup        SIGHUP applies an edited startup-config as a live change: the endpoint added
                registers, the one removed unregisters, every other binding sends nothing
                (counters and Kamailio's tables); a file that does not load (a bad line, then a
                FIFO in its place) is refused with FILE:LINE / the reason in the log and changes
                nothing; SIGINT then stops it and removes the control socket file.
  ConfigFiles   --config and --check-config refuse a directory, a FIFO (without waiting for a
                writer), a device, a file the daemon's user cannot read (made real for root by
                running the daemon as nobody), and a read error (/proc/self/mem), with FILE and
                the reason.
  ControlSocket a client that sends 200 large show requests and never reads is held to one
                reply and disconnected (counted), the daemon's RSS stays flat and another
                operator is answered meanwhile; at most --control-sessions sessions.
  WorkersUnderAbuse  every session slot flooded with show requests never read, connections
                beyond the cap: the worker's refreshes at a real Kamailio go on (none lapses,
                times out or is retransmitted).

    python3 tests/e2e/test_control.py --bin-dir BUILD/bin [unittest args]

Loopback only; every wait is bounded; no timing is asserted. REGFRONT_E2E_KEEP=1 keeps the
temporary directories.
"""

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
import unittest
from typing import Dict, List, Optional, Set

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402

BIN_DIR = ""
REALMS = {1: "h1.test", 2: "h2.test"}
EXPIRES = 300  # no refresh during the test: any REGISTER for an untouched binding is extra


def log(msg: str) -> None:
    print(f"[e2e-control {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cli(sock: str, *commands: str, timeout: float = 30):
    argv = [os.path.join(BIN_DIR, "regfront-cli"), "--socket", sock]
    for c in commands:
        argv += ["-c", c]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def cli_json(sock: str, command: str):
    res = cli(sock, f"{command} | json")
    if res.returncode != 0:
        raise AssertionError(f"`{command} | json` failed ({res.returncode}): {res.stdout}{res.stderr}")
    return json.loads(res.stdout)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def wait_for(pred, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


def user(idx: int, number: str) -> str:
    return f"u{idx}x{number}"


def password(idx: int, number: str) -> str:
    return f"pw{idx}-{number}"


def config_text(regs: Dict[int, kam.KamailioRegistrar], numbers: List[str]) -> str:
    lines = ["hostname Router", "sip-ua"]
    for idx, r in regs.items():
        lines.append(f" registrar {idx} ipv4:127.0.0.1:{r.port} expires {EXPIRES}")
    for n in numbers:
        for idx, realm in REALMS.items():
            lines.append(f" credentials number {n} username {user(idx, n)} password 0 {password(idx, n)} "
                         f"realm {realm}")
    return "\n".join(lines) + "\n"


def counters(sock: str) -> Dict[int, Dict[str, int]]:
    return {int(r["index"]): r for r in cli_json(sock, "show sip-ua statistics")["registrars"]}


class SigHup(unittest.TestCase):
    """SIGHUP = `configure replace` from the file; bad files change nothing."""

    @classmethod
    def setUpClass(cls):
        cls.numbers = [str(5550000 + i) for i in range(20)]
        cls.added = "5559999"
        everyone = cls.numbers + [cls.added]
        cls.regs = {idx: kam.KamailioRegistrar(f"H{idx}", realm,
                                               [(user(idx, n), password(idx, n)) for n in everyone],
                                               default_expires=EXPIRES, children=2)
                    for idx, realm in REALMS.items()}
        kam.start_all(list(cls.regs.values()))
        cls.rf = rfd.SocketRegfrontd(BIN_DIR, config_text(cls.regs, cls.numbers), workers=2,
                                     name="regfrontd-sighup")
        try:
            cls.rf.start(log)
        except BaseException:
            kam.stop_all(list(cls.regs.values()))
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rf.kill()
        kam.stop_all(list(cls.regs.values()))

    def present(self, idx: int, numbers) -> Set[str]:
        table = self.regs[idx].ul_dump()
        return {n for n in numbers if table.get(n)}

    def wait_tables(self, want: Set[str], absent: Set[str], what: str) -> None:
        def done():
            self.assertTrue(self.rf.alive(), f"regfrontd died during {what}:\n{self.rf.log_tail()}")
            return all(self.present(i, want) == want and not self.present(i, absent) for i in self.regs)
        try:
            wait_for(done, 60, what, interval=0.5)
        except AssertionError:
            raise AssertionError(f"{what}: tables {[(i, sorted(self.present(i, want | absent))) for i in self.regs]}"
                                 f"\n{self.rf.log_tail()}")

    def settled(self) -> Dict[int, Dict[str, int]]:
        """The counters once nothing has moved for 1.5 s (no transaction in flight)."""
        state = {"last": counters(self.rf.control_socket), "since": time.monotonic()}

        def quiet():
            now = counters(self.rf.control_socket)
            if now != state["last"]:
                state["last"], state["since"] = now, time.monotonic()
                return None
            return now if time.monotonic() - state["since"] >= 1.5 else None
        return wait_for(quiet, 30, "counters settle", interval=0.25)

    def log_since(self, offset: int) -> str:
        with open(self.rf.log_path, errors="replace") as f:
            f.seek(offset)
            return f.read()

    def hup_and_wait_log(self, needle: str) -> str:
        offset = os.path.getsize(self.rf.log_path)
        self.rf.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: needle in self.log_since(offset), 20, f"log line {needle!r} after SIGHUP")
        self.assertTrue(self.rf.alive(), "SIGHUP killed regfrontd")
        return self.log_since(offset)

    def test_sighup(self):
        sock = self.rf.control_socket
        everyone = set(self.numbers)
        self.wait_tables(everyone, {self.added}, "initial registration")
        before = self.settled()
        running_before = cli(sock, "enable", "show running-config").stdout

        # (1) A bad line: refused with FILE:LINE and the reason, nothing changes.
        with open(self.rf.config_path) as f:
            good = f.read()
        removed = self.numbers[0]
        edited = config_text(self.regs, [n for n in self.numbers if n != removed] + [self.added])
        bad = edited.replace(" registrar 2 ", " registrar 9 ", 1)
        bad_line = bad.splitlines().index(next(l for l in bad.splitlines() if "registrar 9" in l)) + 1
        with open(self.rf.config_path, "w") as f:
            f.write(bad)
        out = self.hup_and_wait_log("nothing changed")
        log("SIGHUP with a bad line:\n" + out.strip())
        self.assertIn(f"{self.rf.config_path}:{bad_line}: % Invalid input", out)
        self.assertIn("refused", out)
        self.assertEqual(cli(sock, "enable", "show running-config").stdout, running_before)
        ctl = cli_json(sock, "show control")
        self.assertEqual((ctl["reloads"], ctl["reloads_refused"]), (0, 1))

        # (2) A FIFO in the file's place: refused at once (no writer awaited), nothing changes.
        os.remove(self.rf.config_path)
        os.mkfifo(self.rf.config_path)
        out = self.hup_and_wait_log("nothing changed")
        log("SIGHUP with a FIFO:\n" + out.strip())
        self.assertIn("is a FIFO", out)
        self.assertEqual(cli(sock, "enable", "show running-config").stdout, running_before,
                         "the daemon answers (it did not block on the FIFO) and nothing changed")
        os.remove(self.rf.config_path)
        self.assertEqual(self.settled(), before, "refused reloads sent nothing")

        # (3) The edit: one endpoint removed, one added; the rest untouched.
        with open(self.rf.config_path, "w") as f:
            f.write(edited)
        out = self.hup_and_wait_log("applied")
        log("SIGHUP with an edit:\n" + out.strip())
        want = (everyone - {removed}) | {self.added}
        self.wait_tables(want, {removed}, "after SIGHUP")
        after = self.settled()
        for idx in self.regs:
            delta = {k: after[idx][k] - before[idx][k] for k in ("sent", "accepted", "unregistered", "challenged")
                     if isinstance(after[idx].get(k), int)}
            log(f"R{idx} after SIGHUP: {delta}")
            self.assertEqual(delta["unregistered"], 1, f"R{idx}: only the removed endpoint unregisters")
            # The added endpoint's registration (an unregistration counts as `unregistered`
            # only): nothing for the 19 untouched bindings.
            self.assertEqual(delta["accepted"], 1, f"R{idx}: {delta}")
        ctl = cli_json(sock, "show control")
        self.assertEqual((ctl["reloads"], ctl["reloads_refused"]), (1, 2))
        running = cli(sock, "enable", "show running-config").stdout
        self.assertIn(f"credentials number {self.added} ", running)
        self.assertNotIn(f"credentials number {removed} ", running)
        self.assertNotEqual(good, edited)

        # (4) SIGINT stops it as before, and the control socket file goes with it.
        self.rf.proc.send_signal(signal.SIGINT)
        rc = self.rf.proc.wait(timeout=20)
        self.assertEqual(rc, 0, self.rf.log_tail())
        self.assertFalse(os.path.exists(sock), "the control socket file stayed behind")


class ConfigFiles(unittest.TestCase):
    """Only a regular file read to the end is a startup-config."""

    def setUp(self):
        self.dir = kam.make_workdir("regfront-cfgfiles-")
        os.chmod(self.dir, 0o755)

    def run_daemon(self, path: str, check: bool, as_nobody: bool = False):
        sock = os.path.join(self.dir, "control.sock")
        argv = [os.path.join(BIN_DIR, "regfrontd")]
        argv += ["--check-config", path] if check else [
            "--config", path, "--io", "socket", "--listen", f"127.0.0.1:{kam.allocate_udp_ports(1)[0]}",
            "--control-socket", sock]
        pre = None
        if as_nobody and os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")

            def pre():
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
        res = subprocess.run(argv, capture_output=True, text=True, timeout=20, preexec_fn=pre,
                             stdin=subprocess.DEVNULL)
        return res, sock

    def expect_refused(self, path: str, reason: str, as_nobody: bool = False):
        for check in (True, False):
            res, sock = self.run_daemon(path, check, as_nobody)
            what = "--check-config" if check else "--config"
            log(f"{what} {path} -> {res.returncode}: {res.stderr.strip()}")
            self.assertEqual(res.returncode, 1, f"{what} {path}: {res.stdout}{res.stderr}")
            self.assertNotIn("OK", res.stdout, f"{what} {path}")
            self.assertIn(path, res.stderr)
            self.assertIn(reason, res.stderr)
            self.assertFalse(os.path.exists(sock))

    def test_directory(self):
        self.expect_refused(self.dir, "is a directory")

    def test_fifo(self):
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        self.expect_refused(fifo, "is a FIFO")  # a blocking open would hit the 20-s timeout

    def test_device(self):
        self.expect_refused("/dev/null", "is a character device")

    def test_unreadable(self):
        path = os.path.join(self.dir, "startup-config")
        with open(path, "w") as f:
            f.write("hostname Router\n")
        os.chmod(path, 0)
        # root reads mode 000 files: the daemon runs as nobody, so the refusal is real for root.
        self.expect_refused(path, "Permission denied", as_nobody=True)

    def test_read_error(self):
        # Opens, then read() fails (nothing mapped at address 0): no longer an empty config.
        self.expect_refused("/proc/self/mem", "read error")

    def test_regular_file_still_loads(self):
        path = os.path.join(self.dir, "startup-config")
        with open(path, "w") as f:
            f.write("hostname Router\n")
        res, _ = self.run_daemon(path, True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("OK", res.stdout)


class ControlSocket(unittest.TestCase):
    """Bounded sessions: a never-reading client, the session cap."""

    def start(self, *extra: str, binary: Optional[str] = None):
        self.dir = kam.make_workdir("regfront-ctl-")
        cfg = os.path.join(self.dir, "startup-config")
        # 3000 endpoints x 2 registrars that never answer (closed ports): ~6000 rows in
        # `show sip-ua register status`, well over half a megabyte a reply.
        dead = kam.allocate_udp_ports(2)
        lines = ["sip-ua"] + [f" registrar {i + 1} ipv4:127.0.0.1:{p} expires 3600" for i, p in enumerate(dead)]
        lines += [f" credentials number {7770000 + i} username u{i} password 0 p{i} realm r.test" for i in range(3000)]
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.sock = os.path.join(self.dir, "control.sock")
        self.log_path = os.path.join(self.dir, "regfrontd.log")
        argv = [binary or os.path.join(BIN_DIR, "regfrontd"), "--config", cfg, "--io", "socket",
                "--listen", f"127.0.0.1:{kam.allocate_udp_ports(1)[0]}", "--control-socket", self.sock, *extra]
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        kam.REGISTRY.add(self.proc)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 20, "control socket")
        self.assertIsNone(self.proc.poll(), "regfrontd exited at start")

    def tearDown(self):
        if getattr(self, "proc", None) is not None:
            kam.kill_tree(self.proc, grace=5)
            kam.REGISTRY.remove(self.proc)

    def hammer_without_reading(self, requests: int = 200) -> socket.socket:
        """Sends `requests` show requests and reads nothing; stops when the daemon stops
        taking them (the socket buffers are full). Returns the socket, still open."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.setblocking(False)
        data = b"exec show sip-ua register status\n" * requests
        sent, stalls = 0, 0
        while sent < len(data) and stalls < 20:
            try:
                sent += s.send(data[sent:])
                stalls = 0
            except BlockingIOError:
                stalls += 1
                time.sleep(0.1)
        log(f"never-reading client: {sent // 34} of {requests} requests taken by the socket")
        return s

    def test_never_reading_client_is_bounded_and_disconnected(self):
        self.start("--control-idle-timeout", "3")
        one = cli(self.sock, "show sip-ua register status").stdout
        self.assertGreater(len(one), 500_000, "the reply is large")
        time.sleep(1)
        base = rss_kib(self.proc.pid)
        s = self.hammer_without_reading()
        # Meanwhile another operator is answered.
        self.assertEqual(cli(self.sock, "show control").returncode, 0)
        peak = rss_kib(self.proc.pid)
        ctl = cli_json(self.sock, "show control")
        log(f"RSS before {base} KiB, with the client holding its requests {peak} KiB "
            f"(+{peak - base} KiB; one reply {len(one) // 1024} KiB); pending_output {ctl['pending_output']}")
        self.assertLessEqual(ctl["pending_output"], ctl["output_high_water"] + len(one) + 4096)
        # 200 replies would be 200 x the reply (> 100 MiB); one reply and slack is the bound.
        self.assertLess(peak - base, 32 * 1024, "the daemon buffered the replies of a client that does not read")
        # Nothing moves for the idle timeout: disconnected and counted as a slow reader.
        wait_for(lambda: cli_json(self.sock, "show control")["slow_readers"] == 1, 30, "slow reader disconnected")
        ctl = cli_json(self.sock, "show control")
        self.assertEqual(ctl["pending_output"], 0)
        s.setblocking(True)
        s.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            while s.recv(1 << 20):
                pass  # drains what the kernel held, then EOF: the daemon closed it
        s.close()
        self.assertIsNone(self.proc.poll())
        self.assertLess(rss_kib(self.proc.pid) - base, 32 * 1024)

    def test_session_cap(self):
        self.start("--control-sessions", "3")
        held = []
        for _ in range(3):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(self.sock)
            c.sendall(b"prompt\n")
            c.settimeout(10)
            self.assertTrue(c.recv(4096).startswith(b"0 0 Router>"))
            held.append(c)
        res = cli(self.sock, "show control")
        log(f"4th session: rc {res.returncode}: {res.stdout.strip()} {res.stderr.strip()}")
        self.assertEqual(res.returncode, 1, "a refusal")
        self.assertIn("Too many control sessions (3 at most)", res.stdout + res.stderr)
        held.pop().close()
        ctl = wait_for(lambda: (lambda c: c if c["sessions"] == 3 else None)(cli_json(self.sock, "show control")),
                       10, "a freed session slot")
        self.assertEqual(ctl["refused_full"], 1)
        self.assertEqual(ctl["max_sessions"], 3)
        for c in held:
            c.close()
        # SIGTERM with sessions open: exit 0, the socket file removed.
        extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        extra.connect(self.sock)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=30), 0)
        extra.close()
        self.assertFalse(os.path.exists(self.sock), "the control socket file stayed behind")


class WorkersUnderAbuse(unittest.TestCase):
    """The workers are unaffected while the control socket is abused: every session slot taken
    by clients flooding the largest show (some never reading), and a flood of connections
    beyond the cap. Meanwhile every binding keeps refreshing at a real Kamailio (short
    expiry): none lapses, none times out, no REGISTER is retransmitted."""

    def test_refreshes_go_on_while_the_control_socket_is_flooded(self):
        numbers = [str(7780000 + i) for i in range(200)]
        reg = kam.KamailioRegistrar("abuse", "abuse.test", [(f"u{n}", f"p{n}") for n in numbers], default_expires=10)
        reg.start()
        self.addCleanup(reg.stop)
        cfg = ("sip-ua\n" + "".join(f" credentials number {n} username u{n} password 0 p{n} realm abuse.test\n"
                                    for n in numbers)
               + f" registrar 1 ipv4:127.0.0.1:{reg.port} expires 10\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, cfg, workers=1, name="rf-control-abuse")
        rf.extra_args = ["--control-sessions", "8", "--control-idle-timeout", "2"]
        rf.start(log)
        self.addCleanup(rf.kill)
        wait_for(lambda: len(reg.ul_dump().keys() & set(numbers)) == len(numbers), 30, "every binding registered")
        before = counters(rf.control_socket)[1]
        stop = time.monotonic() + 25
        readers: List[socket.socket] = []  # flood and read every reply (a dump each)
        silent: List[socket.socket] = []   # flood and never read (closed by the idle timeout)
        received = 0
        while time.monotonic() < stop:
            for group in (readers, silent):
                for c in list(group):
                    try:
                        c.send(b"exec show sip-ua register status\n" * 8, socket.MSG_DONTWAIT)
                        while group is readers:
                            chunk = c.recv(1 << 20, socket.MSG_DONTWAIT)
                            if not chunk:
                                raise ConnectionResetError
                            received += len(chunk)
                    except BlockingIOError:
                        pass
                    except OSError:
                        group.remove(c)
                        c.close()
            # Every free slot taken again (4 readers, the rest silent), and 20 connections
            # beyond the cap each round, refused by the daemon.
            for _ in range(8 - len(readers) - len(silent) + 20):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    c.connect(rf.control_socket)
                except OSError:
                    c.close()
                    continue
                if len(readers) < 4:
                    readers.append(c)
                elif len(silent) < 4:
                    silent.append(c)
                else:
                    c.close()
            self.assertTrue(rf.alive(), rf.log_tail())
            time.sleep(0.05)
        for c in readers + silent:
            c.close()
        after = counters(rf.control_socket)[1]
        ctl = cli_json(rf.control_socket, "show control")
        delta = {k: after[k] - before[k] for k in ("accepted", "timed_out", "retransmitted", "sent")}
        log(f"25 s of control-socket abuse: {received // 1024} KiB of show output read, {ctl['refused_full']} "
            f"sessions refused, {ctl['slow_readers']} slow readers closed; the worker meanwhile: {delta}")
        self.assertGreater(received, 1 << 20, "the readers kept the daemon dumping")
        self.assertGreater(ctl["refused_full"], 0, "the cap was reached")
        self.assertEqual(delta["timed_out"], 0, delta)
        self.assertEqual(delta["retransmitted"], 0, delta)
        # Expiry 10 s, refreshed at most ~9 s apart: at least two refreshes each in 25 s.
        self.assertGreaterEqual(delta["accepted"], 2 * len(numbers), delta)
        self.assertEqual(len(reg.ul_dump().keys() & set(numbers)), len(numbers), "a binding lapsed")
        # clear sip-ua statistics: show counts from the clear on (the workers' counters untouched).
        out = rf.run_cli(["enable", "clear sip-ua statistics"])
        self.assertNotIn("%", out, out)
        since = counters(rf.control_socket)[1]
        self.assertLess(since["accepted"], after["accepted"] - before["accepted"], since)
        self.assertLess(since["sent"], len(numbers), "a few refreshes at most since the clear")
        wait_for(lambda: counters(rf.control_socket)[1]["accepted"] > since["accepted"], 15,
                 "refreshes counted again after the clear")


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
