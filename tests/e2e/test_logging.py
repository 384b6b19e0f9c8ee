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
  * `show logging | json` has the text's lines and counters.

    python3 tests/e2e/test_logging.py --bin-dir BUILD/bin

Loopback only; every wait is bounded; no timing is asserted.
"""

import json
import re
import sys
import os
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402

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


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
