#!/usr/bin/env python3
"""regfront end-to-end: live configuration changes against real Kamailio 5.6 registrars.

    python3 tests/e2e/test_live_config.py --bin-dir BUILD/bin [unittest args]

regfrontd is driven through its UNIX control socket with the session protocol of
include/regfront/protocol/protocol.h (`exec LINE` -> `STATUS LENGTH PROMPT\\n` + payload), by a
small client written here (regfront-cli is not used).

Four Kamailio registrars, each with its own realm and one user per endpoint:
  R1 r1.test MD5, R2 r2.test SHA-256 qop=auth, R3 r3.test MD5 qop=auth (configured live),
  R4 r4.test MD5 with a short expiry (20 s) so that its bindings refresh during the test.
R1, R2 and R3 are asked for 300 s: none of their bindings refreshes during the test, so their
REGISTER counters and Kamailio auth logs must not move unless the change concerns them.

  (a) `registrar 3 ...` live: every endpoint appears in R3's location table; R1/R2/R4's view of
      R1 and R2 unchanged (regfrontd counters sent/retransmitted/challenged/authenticated/...
      exactly equal, Kamailio logs of R1/R2 without a new line).
  (b) `no registrar 2`: every binding leaves R2's table (Expires: 0, answered challenges with
      r2.test credentials only); R1 and R3 unchanged.
  (c) a credential changed live (R4's subscriber changed the same moment, only the new password
      works there): nothing is sent for it at once; its next refresh's challenge is answered with
      the new password (Kamailio says rc=1) and never with the old one.
  (d) an endpoint removed (`no credentials number N realm R` for each of its realms): it
      unregisters from every registrar; the others stay.
Session test: errors keep the mode, `do show ...` works in configuration mode, `end` returns
to `Router#`.

Loopback only; every wait is bounded. REGFRONT_E2E_KEEP=1 keeps the temp dirs.
"""

import collections
import contextlib
import json
import os
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

BIN_DIR: Optional[str] = None  # set from --bin-dir in main()

N_ENDPOINTS = int(os.environ.get("REGFRONT_E2E_LIVE_ENDPOINTS", "200"))
LONG_EXPIRES = 300   # R1..R3: no refresh during the test
SHORT_EXPIRES = 20   # R4: refresh at 80 % (14.4-16 s)
REALMS = {1: "r1.test", 2: "r2.test", 3: "r3.test", 4: "r4.test"}
USER_PREFIX = {1: "a", 2: "b", 3: "c", 4: "d"}


def log(msg: str) -> None:
    print(f"[e2e-live {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def user(idx: int, number: str) -> str:
    return f"{USER_PREFIX[idx]}{number}"


def password(idx: int, number: str) -> str:
    return f"pw{idx}-{number}"


# --------------------------------------------------------------------------------------------
# The control-socket session client
# --------------------------------------------------------------------------------------------

class Session:
    """One CLI session on regfrontd's control socket."""

    def __init__(self, path: str, timeout: float = 10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.prompt = ""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def _read_until(self, pred) -> None:
        while not pred():
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("control socket closed by regfrontd")
            self.buf += data

    def request(self, verb: str, line: str) -> Tuple[int, str, str]:
        """Returns (status, prompt, payload)."""
        self.sock.sendall(f"{verb} {line}\n".encode())
        self._read_until(lambda: b"\n" in self.buf)
        head, _, self.buf = self.buf.partition(b"\n")
        fields = head.decode().split(" ", 2)
        if len(fields) < 2:
            raise AssertionError(f"bad reply header {head!r}")
        status, length = int(fields[0]), int(fields[1])
        prompt = fields[2] if len(fields) > 2 else ""
        self._read_until(lambda: len(self.buf) >= length)
        payload, self.buf = self.buf[:length].decode(errors="replace"), self.buf[length:]
        self.prompt = prompt
        return status, prompt, payload

    def run(self, line: str) -> str:
        """exec LINE, which must succeed; returns the payload."""
        status, prompt, payload = self.request("exec", line)
        if status != 0:
            raise AssertionError(f"`{line}` refused (status {status}, prompt {prompt}):\n{payload}")
        return payload

    def configure(self, lines: List[str]) -> None:
        """From any exec mode: enable, conf t, sip-ua, LINES, end."""
        if self.prompt.endswith(">") or not self.prompt:
            self.run("enable")
        self.run("configure terminal")
        self.run("sip-ua")
        for l in lines:
            self.run(l)
        self.run("end")

    def json(self, show: str):
        return json.loads(self.run(f"{show} | json"))


# --------------------------------------------------------------------------------------------
# Registrars and regfrontd
# --------------------------------------------------------------------------------------------

class LiveRegistrar(kam.KamailioRegistrar):
    """A KamailioRegistrar whose subscriber table can be changed while it runs: db_text in
    non-caching mode reloads the file when its mtime changes."""

    def render_config(self) -> str:
        text = super().render_config()
        anchor = 'loadmodule "db_text.so"\n'
        assert anchor in text
        return text.replace(anchor, anchor + 'modparam("db_text", "db_mode", 1)\n')

    def set_users(self, users) -> None:
        self.users = list(users)
        path = os.path.join(self.dbdir, "subscriber")
        before = os.stat(path).st_mtime
        self.write_files()
        # The reload is keyed on the mtime: make sure it moves even within the same second.
        st = os.stat(path)
        if st.st_mtime <= before + 1:
            os.utime(path, (st.st_atime, before + 2))


class Regfrontd(rfd.SocketRegfrontd):
    """regfrontd on sockets (see regfrontd.py), driven through control-socket sessions."""

    def __init__(self, config_text: str, workers: int = 2):
        super().__init__(BIN_DIR, config_text, workers, "regfrontd-live")

    def start(self) -> None:
        super().start(log, ready_timeout=15)

    def session(self) -> Session:
        return Session(self.control_socket)

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)
        kam.kill_tree(self.proc, grace=2.0)
        kam.REGISTRY.remove(self.proc)
        self.proc = None



# --------------------------------------------------------------------------------------------
# Observations
# --------------------------------------------------------------------------------------------

def registrar_counters(sess: Session) -> Dict[int, Dict[str, object]]:
    """{registrar index: counters} from `show sip-ua statistics | json`."""
    out = {}
    for r in sess.json("show sip-ua statistics").get("registrars", []):
        out[int(r["index"])] = {k: v for k, v in r.items() if k != "index"}
    return out


def log_counts(reg: kam.KamailioRegistrar) -> Dict[str, int]:
    a = reg.auth_log()
    return {"noauth": len(a.noauth), "offered": len(a.offered), "results": len(a.results),
            "saved": len(a.saved)}


def present(reg: kam.KamailioRegistrar, numbers) -> Set[str]:
    table = reg.ul_dump()
    return {n for n in numbers if table.get(n)}


def wait_stable_counters(sess: Session, timeout: float = 30.0, quiet: float = 1.5):
    """Waits until no counter moves for `quiet` seconds (no transaction in flight); returns them."""
    deadline = time.monotonic() + timeout
    last = registrar_counters(sess)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = registrar_counters(sess)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    raise AssertionError(f"regfrontd's counters did not settle within {timeout}s: {last}")


KEYS = ("sent", "retransmitted", "challenged", "authenticated", "accepted", "rejected",
        "timed_out", "unregistered", "auth_failed", "no_credential")


def brief(c: Dict[str, object]) -> str:
    return " ".join(f"{k}={c.get(k)}" for k in KEYS)


# --------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------

class LiveConfig(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.numbers = [str(4100000 + i) for i in range(N_ENDPOINTS)]
        cls.regs: Dict[int, LiveRegistrar] = {}
        for idx, realm in REALMS.items():
            users = [(user(idx, n), password(idx, n)) for n in cls.numbers]
            cls.regs[idx] = LiveRegistrar(
                f"R{idx}", realm, users,
                algorithm="SHA-256" if idx == 2 else "MD5",
                qop="auth" if idx in (2, 3) else None,
                default_expires=SHORT_EXPIRES if idx == 4 else LONG_EXPIRES, children=4)
        kam.start_all(list(cls.regs.values()))
        for idx, r in cls.regs.items():
            log(f"R{idx} {r.realm} {r.algorithm} qop={r.qop} on udp/{r.port} (log {r.log_path})")
        lines = ["sip-ua",
                 f" registrar 1 ipv4:127.0.0.1:{cls.regs[1].port} expires {LONG_EXPIRES}",
                 f" registrar 2 ipv4:127.0.0.1:{cls.regs[2].port} expires {LONG_EXPIRES}",
                 f" registrar 4 ipv4:127.0.0.1:{cls.regs[4].port} expires {SHORT_EXPIRES}",
                 " registration rate 500"]
        for n in cls.numbers:
            for idx, realm in REALMS.items():
                lines.append(f" credentials number {n} username {user(idx, n)} password 0 "
                             f"{password(idx, n)} realm {realm}")
        cls.rf = Regfrontd("\n".join(lines) + "\n")
        try:
            cls.rf.start()
        except BaseException:
            kam.stop_all(list(cls.regs.values()))
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rf.stop()
        kam.stop_all(list(cls.regs.values()))

    def wait_tables(self, want: Dict[int, Set[str]], absent: Dict[int, Set[str]], timeout: float,
                    what: str) -> float:
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            self.assertTrue(self.rf.alive(), f"regfrontd died during {what}:\n{self.rf.log_tail()}")
            missing = {i: set(ns) - present(self.regs[i], ns) for i, ns in want.items()}
            extra = {i: present(self.regs[i], ns) for i, ns in absent.items()}
            missing = {i: m for i, m in missing.items() if m}
            extra = {i: e for i, e in extra.items() if e}
            if not missing and not extra:
                return time.monotonic() - t0
            if time.monotonic() >= deadline:
                self.fail(f"{what}: after {timeout:.0f}s still missing "
                          f"{ {i: (len(m), sorted(m)[:5]) for i, m in missing.items()} }, still present "
                          f"{ {i: (len(e), sorted(e)[:5]) for i, e in extra.items()} }\n"
                          f"{self.rf.log_tail()}")
            time.sleep(0.5)

    def test_1_session(self):
        s = self.rf.session()
        try:
            st, prompt, _ = s.request("prompt", "")
            self.assertEqual((st, prompt), (0, "Router>"))
            st, prompt, out = s.request("exec", "configure terminal")
            self.assertEqual(st, 1, "configure terminal is not a user-exec command")
            self.assertEqual(prompt, "Router>")
            log(f"session: `configure terminal` in user exec -> {out.strip()!r}")
            s.run("enable")
            self.assertEqual(s.prompt, "Router#")
            s.run("conf t")
            self.assertEqual(s.prompt, "Router(config)#")
            s.run("sip-ua")
            self.assertEqual(s.prompt, "Router(config-sip-ua)#")
            for bad in ("registrar 9 ipv4:127.0.0.1:5999", "frobnicate the registrars",
                        "credentials number 1 username"):
                st, prompt, out = s.request("exec", bad)
                log(f"session: `{bad}` -> status {st}, {out.strip()!r}")
                self.assertEqual(st, 1, f"`{bad}` must be refused")
                self.assertTrue(out.lstrip().startswith("%") or "% " in out, out)
                self.assertEqual(prompt, "Router(config-sip-ua)#", "an error keeps the mode")
            out = s.run("do show sip-ua statistics | json")
            doc = json.loads(out)
            self.assertEqual(sorted(r["index"] for r in doc["registrars"]), [1, 2, 4])
            self.assertEqual(s.prompt, "Router(config-sip-ua)#")
            st, prompt, out = s.request("exec", "show sip-ua statistics")
            log(f"session: `show ...` without do in sip-ua mode -> status {st}")
            self.assertEqual(prompt, "Router(config-sip-ua)#")
            s.run("end")
            self.assertEqual(s.prompt, "Router#")
            self.assertIn("Registrar-Index 1", s.run("show sip-ua statistics"))
            st, prompt, _ = s.request("exec", "exit")
            self.assertEqual(st, 2, "exit from exec mode ends the session")
        finally:
            s.close()

    def test_2_live_changes(self):
        numbers = set(self.numbers)
        regs = self.regs
        t_start = time.monotonic()
        dt = self.wait_tables({1: numbers, 2: numbers, 4: numbers}, {3: numbers}, 60,
                              "initial registration")
        log(f"all {N_ENDPOINTS} endpoints registered at R1, R2, R4 in {dt:.1f}s")
        s = self.rf.session()
        self.addCleanup(s.close)
        s.run("enable")
        base = wait_stable_counters(s)
        for i in (1, 2):
            log(f"R{i} counters after start: {brief(base[i])}")
            # R2 challenges with SHA-256: bindings challenged before the daemon learned that
            # realm's SHA HA1s send nothing and start once more ~1 s later (one unanswered
            # challenge each), so only the answered transactions add up to one per endpoint.
            unanswered = base[i]["challenged"] - base[i]["authenticated"]
            self.assertEqual(base[i]["sent"] - unanswered, N_ENDPOINTS)
            self.assertEqual(base[i]["accepted"], N_ENDPOINTS)
            self.assertEqual(base[i]["retransmitted"], 0)
        logs = {i: log_counts(regs[i]) for i in (1, 2, 3)}
        log(f"Kamailio log lines before the changes: {logs}")

        # ---- (a) a registrar added live ----
        t0 = time.monotonic()
        s.configure([f"registrar 3 ipv4:127.0.0.1:{regs[3].port} expires {LONG_EXPIRES}"])
        dt = self.wait_tables({3: numbers}, {}, 60, "(a) every endpoint at R3")
        log(f"(a) registrar 3 added: all {N_ENDPOINTS} endpoints in R3's location table "
            f"{dt:.2f}s after the command")
        after_a = wait_stable_counters(s)
        for i in (1, 2):
            log(f"(a) R{i} counters: {brief(after_a[i])}")
            self.assertEqual(after_a[i], base[i], f"(a) R{i}'s counters moved")
            self.assertEqual(log_counts(regs[i]), logs[i], f"(a) R{i} saw traffic")
        log(f"(a) R3 counters: {brief(after_a[3])}")
        self.assertEqual(after_a[3]["sent"], N_ENDPOINTS)
        self.assertEqual(after_a[3]["accepted"], N_ENDPOINTS)
        a3 = regs[3].auth_log()
        self.assertEqual({(o.realm, o.username == user(3, o.to_user)) for o in a3.offered},
                         {("r3.test", True)}, "R3 was offered only r3.test credentials of the number")
        logs[3] = log_counts(regs[3])

        # ---- (b) a registrar removed live ----
        r2_before = regs[2].auth_log()
        s.configure(["no registrar 2"])
        dt = self.wait_tables({}, {2: numbers}, 60, "(b) every binding leaves R2")
        log(f"(b) `no registrar 2`: R2's location table empty of our {N_ENDPOINTS} endpoints "
            f"{dt:.2f}s after the command")
        after_b = wait_stable_counters(s)
        self.assertNotIn(2, after_b, "a removed registrar is not shown")
        rows_2 = [r for r in s.json("show sip-ua register status")["bindings"] if r.get("registrar") == 2]
        self.assertEqual(rows_2, [], "rows of the removed registrar outlived their unregistration")
        for i in (1, 3):
            log(f"(b) R{i} counters: {brief(after_b[i])}")
            self.assertEqual(after_b[i], after_a[i], f"(b) R{i}'s counters moved")
            self.assertEqual(log_counts(regs[i]), logs[i], f"(b) R{i} saw traffic")
        r2 = regs[2].auth_log()
        new_saved = r2.saved[len(r2_before.saved):]
        new_offered = r2.offered[len(r2_before.offered):]
        zero = collections.Counter(x.get("to") for x in new_saved if x.get("expires") == "0")
        log(f"(b) R2 saw {len(r2.noauth) - len(r2_before.noauth)} unauthenticated REGISTERs, "
            f"{len(new_offered)} answered challenges, {len(new_saved)} saves "
            f"({sum(zero.values())} with Expires: 0)")
        self.assertEqual(set(zero), numbers, "every endpoint sent Expires: 0 to R2")
        self.assertTrue(all(v == 1 for v in zero.values()), zero.most_common(3))
        self.assertEqual(len(new_saved), N_ENDPOINTS, "nothing but the unregistrations")
        self.assertEqual({(o.realm, o.username == user(2, o.to_user)) for o in new_offered},
                         {("r2.test", True)})
        # The unregistration used the binding's Call-ID (the one R2 stored at registration).
        first_callid = {x.get("to"): x.get("ci") for x in r2_before.saved}
        self.assertEqual({x.get("to"): x.get("ci") for x in new_saved}, first_callid)
        logs = {i: log_counts(regs[i]) for i in (1, 3)}

        # ---- (c) a credential changed live, used at R4's next refresh ----
        target = self.numbers[0]
        new_pw = "n3w-" + password(4, target)
        regs[4].set_users([(user(4, n), new_pw if n == target else password(4, n))
                           for n in self.numbers])
        r4_before = regs[4].auth_log()
        changed_at = time.monotonic()
        s.configure([f"credentials number {target} username {user(4, target)} password 0 {new_pw} "
                     f"realm r4.test"])
        after_c_cmd = registrar_counters(s)
        for i in (1, 3):
            self.assertEqual(after_c_cmd[i], after_b[i], "(c) the change sent nothing to R1/R3")

        def refreshed_with_new():
            a = regs[4].auth_log()
            res = [r for r in a.results[len(r4_before.results):] if r.to_user == target]
            return [r for r in res if r.rc == kam.AUTH_OK] and res

        res = kam.wait_until(refreshed_with_new, SHORT_EXPIRES + 10, 0.25,
                             f"(c) {target}'s next refresh at R4 to authenticate")
        took = time.monotonic() - changed_at
        log(f"(c) {target}'s refresh at R4 authenticated with the new password {took:.1f}s after "
            f"the change: results {[(r.au, r.rc) for r in res]}")
        self.assertTrue(all(r.rc == kam.AUTH_OK for r in res),
                        f"(c) the old password was offered after the change: {res}")
        self.assertTrue(present(regs[4], [target]))
        log(f"(c) R4 counters: {brief(registrar_counters(s)[4])}")

        # ---- (d) an endpoint removed live ----
        gone = self.numbers[1]
        s.configure([f"no credentials number {gone} realm {REALMS[i]}" for i in (1, 2, 3, 4)])
        t0 = time.monotonic()
        try:
            dt = self.wait_tables({1: numbers - {gone}, 3: numbers - {gone}},
                                  {1: {gone}, 3: {gone}, 4: {gone}}, 30,
                                  f"(d) {gone} unregistered everywhere")
            log(f"(d) {gone} removed: gone from R1, R3 and R4 {dt:.2f}s after the last command")
        finally:
            for i in (1, 3, 4):
                a = regs[i].auth_log()
                mine = [r for r in a.results if r.to_user == gone][-2:]
                zero = [x for x in a.saved if x.get("to") == gone and x.get("expires") == "0"]
                log(f"(d) R{i}: last auth results for {gone}: {[(r.au, r.rc) for r in mine]}; "
                    f"Expires: 0 saved: {len(zero)}; present: {bool(present(regs[i], [gone]))}")
            log(f"(d) counters: " + "; ".join(f"R{i} {brief(c)}" for i, c in
                                              registrar_counters(s).items()))
        for i in (1, 3):
            delta = {k: log_counts(regs[i])[k] - logs[i][k] for k in logs[i]}
            log(f"(d) R{i} log lines since (c): {delta}")
            self.assertLessEqual(delta["saved"], 1, f"(d) R{i}: only {gone}'s unregistration")
        log(f"live scenario took {time.monotonic() - t_start:.1f}s")


def main() -> None:
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)

if __name__ == "__main__":
    main()
