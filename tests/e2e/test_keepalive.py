#!/usr/bin/env python3
"""OPTIONS keepalive of a registrar (`voice class sip-options-keepalive`, applied with the
regfront extension `registrar N … options-keepalive profile TAG`) against a real Kamailio that
stops answering (regfrontd, socket backend, two workers).

    python3 tests/e2e/test_keepalive.py --bin-dir BUILD/bin

Kamailio sits behind a user-space relay (impair.py, no loss) that counts the requests it passes
per method and second. Kamailio answers regfront's OPTIONS with 405 (it serves only REGISTER),
which is an answer: the registrar is up. Then Kamailio is frozen (SIGSTOP: it stops answering,
no ICMP): within up-interval + retry × Timer F the keepalive marks it down, and from then on the
registrar receives only OPTIONS — no REGISTER, no retransmission — from either worker, while
the bindings lapse and show as `held`. Kamailio is resumed (SIGCONT): the next OPTIONS is
answered, the registrar is up, and every binding registers again through its pacer, never more
than the registration rate (plus the documented allowance) in a second.
"""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import impair  # noqa: E402
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402

BIN_DIR = ""


def log(msg: str) -> None:
    print(f"[e2e-keepalive {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def registrar_row(rf, index=1):
    for r in (rf.cli_json("show sip-ua register registrars") or {}).get("registrars", []):
        if r.get("index") == index:
            return r
    return {}


def keepalive(rf, index=1):
    return registrar_row(rf, index).get("keepalive") or {}


def registrar_stats(rf, index=1):
    for r in (rf.cli_json("show sip-ua statistics") or {}).get("registrars", []):
        if r.get("index") == index:
            return r
    return {}


def bindings(rf):
    return (rf.cli_json("show sip-ua register status") or {}).get("bindings", [])


def registered(rf):
    return len([b for b in bindings(rf) if b.get("seconds_left", 0) > 0])


class KeepaliveAgainstKamailio(unittest.TestCase):
    def test_frozen_registrar_gets_only_options_and_comes_back_paced(self):
        n, rate, workers, expires = 30, 10, 2, 20
        numbers = [str(7400000 + i) for i in range(n)]
        reg = kam.KamailioRegistrar("ka", "ka.test", users=[(f"u{x}", f"p{x}") for x in numbers],
                                    default_expires=expires)
        reg.start()
        self.addCleanup(reg.stop)
        relay = impair.ImpairRelay(reg.address)
        relay.start()
        self.addCleanup(relay.stop)
        # T1 100 ms: Timer F 6.4 s. up/down-interval at their minimum (5 s), down after 1 miss.
        config = ("voice class sip-options-keepalive 1\n up-interval 5\n down-interval 5\n retry 1\n!\n"
                  + "sip-ua\n"
                  + "".join(f" credentials number {x} username u{x} password 0 p{x} realm ka.test\n" for x in numbers)
                  + f" registrar 1 ipv4:{relay.address[0]}:{relay.address[1]} expires {expires}"
                  + " options-keepalive profile 1\n"
                  + f" registration rate {rate}\n timers register 100\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=workers, name="rf-keepalive")
        self.addCleanup(rf.kill)
        rf.start(log)
        self.addCleanup(reg.thaw)
        t0 = time.monotonic()
        try:
            kam.wait_until(lambda: registered(rf) == n, timeout=20, what="every binding registered")
            kam.wait_until(lambda: keepalive(rf).get("state") == "up" and keepalive(rf).get("last_code") == 405,
                           timeout=10, what="the keepalive answered (405 from Kamailio)")
            log(f"all {n} registered, keepalive up at {time.monotonic() - t0:.1f} s: {keepalive(rf)}")

            reg.freeze()
            stopped = time.monotonic()
            kam.wait_until(lambda: keepalive(rf).get("state") == "down", timeout=5 + 6.4 + 5,
                           what="the keepalive marks the frozen registrar down")
            down_after = time.monotonic() - stopped
            log(f"marked down {down_after:.1f} s after Kamailio stopped answering: {keepalive(rf)}")
            # Let the control loop publish it to the other worker, then count for 15 s.
            time.sleep(0.5)
            reg_before = relay.requests["REGISTER"]
            opt_before = relay.requests["OPTIONS"]
            time.sleep(15)
            registers = relay.requests["REGISTER"] - reg_before
            options = relay.requests["OPTIONS"] - opt_before
            rows = bindings(rf)
            held = [b for b in rows if b.get("state") == "held"]
            lapsed = [b for b in rows if b.get("seconds_left", 0) <= 0]
            log(f"down for 15 s: {registers} REGISTERs and {options} OPTIONS reached the registrar; "
                f"{len(held)} bindings held, {len(lapsed)} lapsed; {registrar_row(rf)}")
            self.assertEqual(registers, 0, "REGISTERs sent to a registrar the keepalive has down")
            self.assertGreaterEqual(options, 2)  # the keepalive goes on (with its retransmissions)
            self.assertEqual(len(lapsed), n)
            self.assertGreater(len(held), 0)
            text = rf.run_cli(["show sip-ua register registrars"])
            self.assertIn("Keepalive:      OPTIONS (profile 1): down", text, text)

            reg.thaw()
            resumed = time.monotonic()
            kam.wait_until(lambda: keepalive(rf).get("state") == "up", timeout=5 + 6.4 + 3,
                           what="the keepalive finds the registrar up again")
            up_after = time.monotonic() - resumed
            kam.wait_until(lambda: registered(rf) == n, timeout=15, what="every binding registered again")
            back_after = time.monotonic() - resumed
            time.sleep(1)
            per_second = relay.per_second["REGISTER"]
            series = [per_second.get(s, 0) for s in range(max(per_second) + 1)]
            after = series[int(resumed - relay.t0):]
            st = registrar_stats(rf)
            log(f"up {up_after:.1f} s after Kamailio resumed; all {n} registered {back_after:.1f} s after; "
                f"REGISTERs per second after: {after} (rate {rate})")
            log("statistics: " + ", ".join(f"{k} {st.get(k)}" for k in (
                "options_sent", "options_retransmitted", "options_answered", "options_timed_out", "keepalive_down",
                "keepalive_up", "keepalive_held", "sent", "retransmitted", "timed_out")))
            self.assertLessEqual(max(after), rate + rate // 10 + 2 * workers, after)
            self.assertGreaterEqual(back_after - up_after, (n - rate) / rate - 1)  # paced, not at once
            self.assertEqual(st.get("keepalive_down"), 1, st)
            self.assertEqual(st.get("keepalive_up"), 1, st)
            self.assertGreaterEqual(st.get("options_timed_out", 0), 1, st)
            self.assertGreater(st.get("keepalive_held", 0), 0, st)
            self.assertIn("%SIP-5-REGISTRAR_STATUS: Registrar 1 Status is changed to DOWN (OPTIONS keepalive",
                          rf.log_tail(200))
            # The same event in the logging buffer, IOS-stamped, the way back up after it.
            shown = rf.run_cli(["show logging"])
            self.assertRegex(shown, r"\*\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: %SIP-5-REGISTRAR_STATUS: Registrar 1 "
                                    r"Status is changed to DOWN[^\n]*\n(.*\n)*.*Registrar 1 Status is changed to UP")
            dp = rf.cli_json("show dataplane")
            self.assertEqual([w.get("heap_allocated") for w in dp["workers"]], [0] * workers, dp)
            log(f"total {time.monotonic() - t0:.1f} s")
        except Exception:
            log(rf.log_tail())
            raise


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
