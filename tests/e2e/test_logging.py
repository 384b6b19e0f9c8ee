#!/usr/bin/env python3
"""`show logging` against a real Kamailio registrar (regfrontd, socket backend, two workers):

  * a configuration session that leaves configuration mode is logged once, as IOS does,
    `%SYS-5-CONFIG_I: Configured from console by vtyN (uid U)`, and `logging buffered SIZE
    LEVEL` shows in the running-config and the buffer's header;
  * a registrar challenging a number with a realm none of its credentials may answer gives a
    `%SIP-4-REALM_REFUSED` line naming the registrar, while the number with the right realm
    registers;
  * the daemon's start is there (`%SYS-5-RESTART`), `clear logging` empties the buffer, and
    every line is IOS-stamped (`*Mmm dd hh:mm:ss.mmm: %FAC-SEV-MNEMONIC: text`);
  * `show logging | json` has the text's lines and counters;
  * `terminal monitor`: a session that asked receives the `%SYS-5-CONFIG_I` line of another
    session's change as it is logged, one that did not (or no longer does) receives nothing; one
    that does not read is bounded (the lines beyond the bound are counted, and it is told how
    many it lost).

    python3 tests/e2e/test_logging.py --bin-dir BUILD/bin

Loopback only; every wait is bounded; no timing is asserted.
"""

import json
import re
import socket
import subprocess
import sys
import os
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402
import test_debug as dbg  # noqa: E402

BIN_DIR = ""
STAMP = rfd.IOS_STAMP


def log(msg: str) -> None:
    print(f"[e2e-logging {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def buffer_lines(text: str):
    """The lines after "Log Buffer (N bytes):" of `show logging`."""
    _, _, tail = text.partition("bytes):\n")
    return [l for l in tail.splitlines() if l]


class LoggingAgainstKamailio(unittest.TestCase):
    def test_config_sessions_and_realm_refusals_are_logged(self):
        good, bad = "7500001", "7500002"
        reg = kam.KamailioRegistrar("lg", "lg.test", users=[(f"u{good}", "pg"), (f"u{bad}", "pb")],
                                    default_expires=300)
        reg.start()
        self.addCleanup(reg.stop)
        config = ("sip-ua\n"
                  f" credentials number {good} username u{good} password 0 pg realm lg.test\n"
                  f" credentials number {bad} username u{bad} password 0 pb realm elsewhere.test\n"
                  f" registrar 1 ipv4:{reg.address[0]}:{reg.address[1]} expires 300\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=2, name="rf-logging")
        self.addCleanup(rf.kill)
        rf.start(log)
        try:
            kam.wait_until(lambda: good in reg.ul_dump(), timeout=20, what=f"{good} registered at Kamailio")
            kam.wait_until(lambda: "%SIP-4-REALM_REFUSED" in rf.run_cli(["show logging"]), timeout=20,
                           what="the realm refusal logged")
            shown = rf.run_cli(["show logging"])
            self.assertRegex(shown, STAMP + r"%SIP-4-REALM_REFUSED: Registrar 1: \d+ challenge\(s\) no configured "
                                            r"credential may answer")
            self.assertRegex(shown, STAMP + r"%SYS-5-RESTART: System restarted")
            self.assertNotIn("CONFIG_I", shown, "no configuration session yet")
            self.assertNotIn(bad, reg.ul_dump(), "the refused number is not registered")

            out = rf.run_cli(["enable", "configure terminal", "logging buffered 65536 informational",
                              "hostname lgtest", "end", "show running-config | include logging", "show logging"])
            self.assertIn("logging buffered 65536 informational", out)
            self.assertIn("Buffer logging:  level informational", out)
            self.assertIn("Log Buffer (65536 bytes):", out)
            config_lines = [l for l in buffer_lines(out) if "%SYS-5-CONFIG_I" in l]
            self.assertEqual(len(config_lines), 1, out)
            self.assertRegex(config_lines[0], STAMP + r"%SYS-5-CONFIG_I: Configured from console by vty\d+ "
                                                      r"\(uid \d+\)$")
            # Every buffered line is in IOS's form; the journal (standard error) has them too.
            for line in buffer_lines(out):
                self.assertRegex(line, "^" + STAMP + r"%[A-Z]+-[0-7]-[A-Z_]+: ", out)
            self.assertIn("%SYS-5-CONFIG_I: Configured from console by vty", rf.log_tail(400))

            # A second session, two trips through configuration mode: two more lines; a third that
            # ends while in configuration mode (the client goes): one more.
            rf.run_cli(["enable", "conf t", "end", "conf t", "exit"])
            rf.run_cli(["enable", "conf t", "hostname lgtest"])
            kam.wait_until(lambda: len([l for l in buffer_lines(rf.run_cli(["show logging"])) if "%SYS-5-CONFIG_I" in l])
                           == 4, timeout=10, what="four configuration sessions logged")
            after = rf.run_cli(["show logging"])
            self.assertEqual(len([l for l in buffer_lines(after) if "%SYS-5-CONFIG_I" in l]), 4, after)
            # The JSON form has the same lines and counters.
            text_and_json = rf.run_cli(["show logging", "show logging | json"])
            text, _, last = text_and_json.rstrip("\n").rpartition("\n")
            doc = json.loads(last)
            self.assertEqual(buffer_lines(text), doc["lines"])
            self.assertEqual(len([l for l in doc["lines"] if "%SYS-5-CONFIG_I" in l]), 4, doc)
            self.assertIn(f"Log Buffer ({doc['buffer_bytes']} bytes):", text)
            self.assertEqual((doc["buffer_bytes"], doc["buffer_level"]), (65536, "informational"))
            self.assertIn(f"level {doc['buffer_level']}, {doc['logged']} messages logged", text)
            self.assertIn(f"{doc['overruns']} overruns", text)

            rf.run_cli(["enable", "clear logging"])
            cleared = rf.run_cli(["show logging"])
            self.assertNotIn("CONFIG_I", cleared, cleared)
            self.assertNotIn("REALM_REFUSED", cleared, cleared)
            # A bad logging command is refused and changes nothing.
            bad_out = rf.run_cli(["enable", "conf t", "logging buffered 100", "end",
                                  "show running-config | include logging"])
            self.assertIn("% Invalid input detected", bad_out)
            self.assertIn("logging buffered 65536 informational", bad_out)
        except Exception:
            log(rf.log_tail())
            raise

    def test_terminal_monitor_streams_log_lines_to_the_sessions_that_asked(self):
        reg = kam.KamailioRegistrar("mon", "mon.test", users=[("u7500101", "pm")], default_expires=300)
        reg.start()
        self.addCleanup(reg.stop)
        config = ("sip-ua\n"
                  " credentials number 7500101 username u7500101 password 0 pm realm mon.test\n"
                  f" registrar 1 ipv4:{reg.address[0]}:{reg.address[1]} expires 300\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=2, name="rf-monitor")
        self.addCleanup(rf.kill)
        rf.start(log)
        watcher = dbg.Session(rf)  # terminal monitor
        self.addCleanup(watcher.kill)
        quiet = dbg.Session(rf)  # no terminal monitor
        self.addCleanup(quiet.kill)
        try:
            watcher.send("enable")
            watcher.send("terminal monitor")
            watcher.send("show terminal")
            watcher.expect("Capabilities: Receives Logging Output")
            quiet.send("enable")
            quiet.send("show terminal")
            quiet.expect("Capabilities: none")
            # Another session's change: %SYS-5-CONFIG_I is queued to the watcher as it is logged;
            # a CLI reading a script prints it with its next reply.
            out = rf.run_cli(["enable", "configure terminal", "hostname montest", "end"])
            self.assertNotIn("% ", out, out)
            watcher.send("show clock")
            watcher.expect("%SYS-5-CONFIG_I")
            quiet.send("show clock")
            quiet.expect(" UTC ")
            # Off again: the next change does not reach it.
            watcher.send("terminal no monitor")
            watcher.send("show terminal")
            watcher.expect("Capabilities: none")
            rf.run_cli(["enable", "configure terminal", "hostname montest2", "end"])
            watcher.send("show clock")
            watcher.expect(" UTC ")
            watched = watcher.finish()
            quiet_text = quiet.finish()
            log(f"monitoring session:\n{watched}")
            config_lines = [line for line in watched.splitlines() if "%SYS-5-CONFIG_I" in line]
            self.assertEqual(len(config_lines), 1, watched)
            self.assertRegex(config_lines[0], "^" + STAMP + r"%SYS-5-CONFIG_I: Configured from console by vty\d+ "
                                                            r"\(uid \d+\)$")
            self.assertNotIn("%SYS-5-CONFIG_I", quiet_text, "a session without terminal monitor")
            # The same line is in the buffer, and show logging counts what went to monitors.
            shown = rf.cli_json("show logging")
            self.assertIn(config_lines[0], shown["lines"])
            self.assertGreaterEqual(shown["monitor_logged"], 1, shown)

            # Bounded: a monitoring session that does not read gets nothing beyond the monitor
            # bound once the socket's buffers are full; the rest is counted, and it is told how
            # many it lost with the next line it does get.
            slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.addCleanup(slow.close)
            slow.connect(rf.control_socket)
            slow.sendall(b"exec enable\nexec terminal monitor\n")
            got = b""
            while got.count(b"\n") < 2:  # the two replies: header lines, empty payloads
                chunk = slow.recv(4096)
                self.assertTrue(chunk, "the session ended")
                got += chunk
            dropped_before = rf.cli_json("show debugging")["monitor_dropped"]
            cycles = 4000  # ~90 bytes of %SYS-5-CONFIG_I each: more than the socket buffers and the bound
            script = "enable\n" + "configure terminal\nend\n" * cycles
            res = subprocess.run([rf.cli, "--socket", rf.control_socket], input=script, capture_output=True,
                                 text=True, timeout=120)
            self.assertEqual(res.returncode, 0, res.stderr[-2000:])
            dropped = rf.cli_json("show debugging")["monitor_dropped"] - dropped_before
            log(f"{cycles} configuration sessions; not queued to the session that did not read: {dropped}")
            self.assertGreater(dropped, 0)
            self.assertLess(dropped, cycles)
            # It reads now: what was queued (at most the bound beyond the socket's buffers), then,
            # after one more change, the count of what it lost and that change's line.
            slow.settimeout(0.5)
            try:
                while slow.recv(65536):
                    pass
            except socket.timeout:
                pass
            rf.run_cli(["enable", "configure terminal", "end"])
            slow.settimeout(None)
            tail = b""
            deadline = time.monotonic() + 10
            while b"%SYS-5-CONFIG_I" not in tail and time.monotonic() < deadline:
                slow.settimeout(max(0.1, deadline - time.monotonic()))
                tail += slow.recv(65536)
            text = tail.decode(errors="replace")
            self.assertRegex(text, rf"%{dropped} debug messages lost \(this session read too slowly\)\n" + STAMP +
                             r"%SYS-5-CONFIG_I: ")
        except Exception:
            log(rf.log_tail())
            raise


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
