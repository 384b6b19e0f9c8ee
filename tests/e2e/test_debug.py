#!/usr/bin/env python3
"""`debug ccsip messages number N` and `debug ccsip events number N` on a long-lived regfront-cli
session (a script on its standard input, one session) against a real Kamailio registrar
(regfrontd, socket backend, two workers):

  * the session sees N's REGISTER, the 401, the REGISTER with credentials and the 200, each
    under an IOS-stamped header line and `Sent:` / `Received:`, and N's state changes
    (`QUEUED -> REGISTERING`, `REGISTERING -> REGISTERED (200)`);
  * nothing of another number registering at the same time, and nothing at all in another
    session that did not ask;
  * `show debugging` says what is on; after `undebug all` nothing more comes;
  * on an interactive regfront-cli (tmux), the events appear while the operator sits at the
    prompt with a half-typed command, which is drawn again under them and still runs.

The debug output reaches the client as monitor frames between replies; a CLI reading a script
prints them with its next reply.

    python3 tests/e2e/test_debug.py --bin-dir BUILD/bin

Loopback only; every wait is bounded; no timing is asserted.
"""

import os
import queue
import re
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402
import test_cli_tty as tty  # noqa: E402

BIN_DIR = ""
STAMP = rfd.IOS_STAMP


def log(msg: str) -> None:
    print(f"[e2e-debug {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Session:
    """regfront-cli reading commands from a pipe: one long-lived control session."""

    def __init__(self, rf):
        self.proc = subprocess.Popen([rf.cli, "--socket", rf.control_socket], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, command: str):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, text: str, timeout: float = 10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} from the session in {timeout} s:\n{''.join(self.seen)}")

    def finish(self, timeout: float = 10) -> str:
        self.proc.stdin.close()
        self.proc.wait(timeout=timeout)
        time.sleep(0.2)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None and not f.closed:
                try:
                    f.close()
                except OSError:
                    pass


class DebugCcsipAgainstKamailio(unittest.TestCase):
    def test_one_numbers_transactions_and_nothing_else(self):
        traced, other = "7600001", "7600002"
        reg = kam.KamailioRegistrar("dbg", "dbg.test", users=[(f"u{traced}", "pt"), (f"u{other}", "po")],
                                    default_expires=300)
        reg.start()
        self.addCleanup(reg.stop)
        registrar = f"registrar 1 ipv4:{reg.address[0]}:{reg.address[1]} expires 300"
        rf = rfd.SocketRegfrontd(BIN_DIR, "sip-ua\n " + registrar + "\n", workers=2, name="rf-debug")
        self.addCleanup(rf.kill)
        rf.start(log)
        s = Session(rf)
        self.addCleanup(s.kill)
        quiet = Session(rf)  # a session that asks for nothing
        self.addCleanup(quiet.kill)
        try:
            s.send("enable")
            s.send(f"debug ccsip messages number {traced}")
            s.expect("SIP Call messages tracing is enabled")
            s.send(f"debug ccsip events number {traced}")
            s.expect("SIP Call events tracing is enabled")
            quiet.send("enable")
            # Both numbers are added at once: their REGISTERs go out side by side.
            out = rf.run_cli(["enable", "configure terminal", "sip-ua",
                              f"credentials number {traced} username u{traced} password 0 pt realm dbg.test",
                              f"credentials number {other} username u{other} password 0 po realm dbg.test",
                              "end"])
            self.assertNotIn("%", out.replace("%SYS", ""), out)
            kam.wait_until(lambda: {traced, other} <= set(reg.ul_dump()), timeout=20,
                           what="both numbers registered at Kamailio")
            s.send("show debugging")
            s.expect("SIP Call events tracing is enabled")
            s.send("undebug all")
            s.expect("All possible debugging has been turned off")
            text = s.finish()
            quiet.send("show debugging")
            quiet_text = quiet.finish()
            log(f"session output, {len(text)} bytes:\n{text}")

            self.assertNotIn(other, text, "another number's messages")
            self.assertNotIn("ccsipDisplayMsg", quiet_text, "a session that did not ask")
            self.assertNotIn("sipBindingState", quiet_text)
            blocks = re.findall(STAMP + rf"//{traced}/registrar 1/SIP/Msg/ccsipDisplayMsg:\n(Sent|Received):\n(\S+ \S+)",
                                text)
            flow = [f"{d} {first}" for d, first in blocks]
            self.assertGreaterEqual(len(flow), 4, text)
            self.assertEqual(flow[:4], ["Sent REGISTER sip:" + reg.address[0] + ":" + str(reg.address[1]),
                                        "Received SIP/2.0 401", "Sent REGISTER sip:" + reg.address[0] + ":" +
                                        str(reg.address[1]), "Received SIP/2.0 200"], text)
            self.assertRegex(text, r"Sent:\nREGISTER [^\n]*\n(?:[^\n]+\n)*Authorization: Digest username=\"u"
                             + traced + '"')
            self.assertRegex(text, r"Received:\nSIP/2.0 401[^\n]*\n(?:[^\n]+\n)*WWW-Authenticate: Digest realm=\"dbg.test\"")
            self.assertRegex(text, STAMP + rf"//{traced}/registrar 1/SIP/Event/sipBindingState: QUEUED -> REGISTERING\n")
            self.assertRegex(text, STAMP + rf"//{traced}/registrar 1/SIP/Event/sipBindingState: "
                             r"REGISTERING -> REGISTERED \(200\)\n")
            self.assertIn("filter is ON: number " + traced, text)
            self.assertRegex(text, r"  Trace: [1-9]\d* records, 0 lost \(per worker: a 64 KiB ring, at most 500 "
                                   r"records/s\); 0 not queued to sessions reading too slowly\n")
            dp = rf.cli_json("show dataplane")
            self.assertEqual([w.get("heap_allocated") for w in dp["workers"]], [0, 0], dp)
        except Exception:
            log(rf.log_tail())
            raise


class DebugOnATerminal(unittest.TestCase):
    def test_events_appear_at_the_prompt_and_the_typed_line_survives(self):
        number = "7600011"
        reg = kam.KamailioRegistrar("dbgt", "dbgt.test", users=[(f"u{number}", "pt")], default_expires=300)
        reg.start()
        self.addCleanup(reg.stop)
        registrar = f"registrar 1 ipv4:{reg.address[0]}:{reg.address[1]} expires 300"
        rf = rfd.SocketRegfrontd(BIN_DIR, "sip-ua\n " + registrar + "\n", workers=1, name="rf-debug-tty")
        self.addCleanup(rf.kill)
        rf.start(log)
        work = os.path.dirname(rf.control_socket)
        term = tty.Terminal(work, [rf.cli, "--socket", rf.control_socket])
        self.addCleanup(term.close)
        try:
            term.wait_last("Router>")
            term.type("enable")
            term.keys("Enter")
            term.wait_last("Router#")
            term.type(f"debug ccsip events number {number}")
            term.keys("Enter")
            term.wait(lambda ls: "SIP Call events tracing is enabled" in ls, "debug on")
            term.wait_last("Router#")
            term.type("show debug")  # half typed: the operator has not pressed Enter
            rf.run_cli(["enable", "conf t", "sip-ua",
                        f"credentials number {number} username u{number} password 0 pt realm dbgt.test", "end"])
            lines = term.wait(lambda ls: any("REGISTERING -> REGISTERED (200)" in l for l in ls),
                              "the events printed while idle at the prompt")
            self.assertRegex("\n".join(lines), STAMP + rf"//{number}/registrar 1/SIP/Event/sipBindingState: "
                             r"QUEUED -> REGISTERING")
            term.wait_last("Router#show debug")
            term.type("ging")
            term.keys("Enter")
            term.wait(lambda ls: any("SIP Call events tracing is enabled  (filter is ON: number " + number in l
                                     for l in ls), "the line typed across the output ran")
        except Exception:
            log("\n".join(term.lines()))
            log(rf.log_tail())
            raise


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
