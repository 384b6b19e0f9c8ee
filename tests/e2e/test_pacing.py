#!/usr/bin/env python3
"""Every REGISTER a registrar receives is within its budget (regfrontd, socket backend, against
real Kamailio).

    python3 tests/e2e/test_pacing.py --bin-dir BUILD/bin

RestartedRegistrar: 200 bindings with a 10-s expiry at `registration rate 100`, through a
user-space relay (impair.py, no loss) that counts the REGISTERs it passes to Kamailio per second.
Kamailio is stopped for 15 s (every refresh falls in the outage and retransmits) and started
again (new nonce secret: every cached nonce is refused, so each binding comes back with a 401
and an authenticated retry). In no second does the registrar receive more than its rate plus
the documented allowance (10 % and 2 requests per worker); before, the outage's unpaced
retransmissions and the restart's authenticated retries made several times the rate.

Shutdown: 5,000 bindings on one registrar at `registration rate 2000` unregister within the
default --shutdown-timeout (10 s): Kamailio's location table is empty after SIGTERM and
regfrontd exited 0 in time, without the start-up warning; the same bindings at rate 400
(12.5 s) make regfrontd say at start-up that shutdown will not fit.

Coalescing: 2,000 bindings at `registration rate 2000`, one socket worker, registered by a
regfrontd with the default --socket-coalesce and by one with `--socket-coalesce 0`, one after
the other against one Kamailio. Both register every binding; the coalescing one reads several
datagrams per sleep and asks the kernel for fewer system calls (sleeps, recvmmsg, sendmmsg) than
the one that wakes for every datagram; the other never sleeps coalesced. Counts, not timings.
An interval out of range is refused at start-up.
"""

import os
import subprocess
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
    print(f"[e2e-pacing {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def allowance(rate: int, workers: int) -> int:
    """The most REGISTERs a registrar may receive in one second (README, registration rate)."""
    return rate + rate // 10 + 2 * workers


def credentials(numbers, realm):
    return "".join(f" credentials number {n} username u{n} password 0 p{n} realm {realm}\n" for n in numbers)


def registrar_stats(rf, index=1):
    for r in (rf.cli_json("show sip-ua statistics") or {}).get("registrars", []):
        if r.get("index") == index:
            return r
    return {}


class RestartedRegistrar(unittest.TestCase):
    def test_restarted_registrar_never_sees_more_than_its_rate_plus_the_allowance(self):
        n, rate, workers, expires = 200, 100, 1, 10
        numbers = [str(7300000 + i) for i in range(n)]
        reg = kam.KamailioRegistrar("pace", "pace.test", users=[(f"u{x}", f"p{x}") for x in numbers],
                                    qop="auth", default_expires=expires)
        reg.start()
        self.addCleanup(reg.stop)
        relay = impair.ImpairRelay(reg.address)
        relay.start()
        self.addCleanup(relay.stop)
        config = ("sip-ua\n" + credentials(numbers, "pace.test")
                  + f" registrar 1 ipv4:{relay.address[0]}:{relay.address[1]} expires {expires}\n"
                  + f" registration rate {rate}\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=workers, name="rf-pacing-restart")
        self.addCleanup(rf.kill)
        rf.start(log)
        try:
            kam.wait_until(lambda: len(reg.ul_dump().keys() & set(numbers)) == n, timeout=30,
                           what="every binding registered")
            outage_at = time.monotonic() - relay.t0
            reg.stop()
            time.sleep(15)  # refreshes fall due (5-8 s after registering) and retransmit
            restart_at = time.monotonic() - relay.t0
            reg.start()
            kam.wait_until(lambda: len(reg.ul_dump().keys() & set(numbers)) == n, timeout=40,
                           what="every binding registered again after the restart")
            time.sleep(1)
            per_second = relay.per_second["REGISTER"]
            series = [per_second.get(s, 0) for s in range(max(per_second) + 1)]
            st = registrar_stats(rf)
            log(f"REGISTERs per second at the registrar (outage at {outage_at:.1f} s, restart at "
                f"{restart_at:.1f} s): {series}")
            log(f"registrar 1: sent {st.get('sent')} retransmitted {st.get('retransmitted')} "
                f"retransmit_deferred {st.get('retransmit_deferred')} authenticated {st.get('authenticated')} "
                f"retry_deferred {st.get('retry_deferred')} timed_out {st.get('timed_out')}")
            during = series[int(outage_at):int(restart_at) + 1]
            after = series[int(restart_at):]
            log(f"most in one second: {max(series)} overall, {max(during)} during the outage, "
                f"{max(after)} after the restart; rate {rate}, allowance {allowance(rate, workers)}")
            self.assertGreater(st.get("retransmitted", 0), 0, st)  # the outage was felt
            self.assertLessEqual(max(series), allowance(rate, workers), series)
            dp = rf.cli_json("show dataplane")
            self.assertEqual([w.get("heap_allocated") for w in dp["workers"]], [0] * workers, dp)
        except Exception:
            log(rf.log_tail())
            raise


class Shutdown(unittest.TestCase):
    N = 5000

    def test_5000_bindings_unregister_within_the_shutdown_timeout(self):
        numbers = [str(7400000 + i) for i in range(self.N)]
        reg = kam.KamailioRegistrar("shut", "shut.test", users=[(f"u{x}", f"p{x}") for x in numbers],
                                    qop="auth", default_expires=600)
        reg.start()
        self.addCleanup(reg.stop)
        base = "sip-ua\n" + credentials(numbers, "shut.test") + f" registrar 1 ipv4:127.0.0.1:{reg.port} expires 600\n"
        rf = rfd.SocketRegfrontd(BIN_DIR, base + " registration rate 2000\n", workers=2, name="rf-pacing-shutdown")
        self.addCleanup(rf.kill)
        rf.start(log)
        try:
            kam.wait_until(lambda: len(reg.ul_dump().keys() & set(numbers)) == self.N, timeout=40,
                           what=f"{self.N} bindings registered")
            self.assertNotIn("shutdown will not fit", rf.log_tail(200))
            code, took = rf.terminate(timeout=15)
            left = len(reg.ul_dump().keys() & set(numbers))
            log(f"{self.N} bindings at rate 2000/s: regfrontd exited {code} {took:.1f} s after SIGTERM; "
                f"{left} left at the registrar")
            self.assertEqual(code, 0, rf.log_tail())
            self.assertLessEqual(took, 10.5)
            self.assertEqual(left, 0)
        except Exception:
            log(rf.log_tail())
            raise
        # The same bindings at 400/s (12.5 s) against a port nobody answers: said at start-up.
        dead = kam.allocate_udp_ports(1)[0]
        slow = rfd.SocketRegfrontd(BIN_DIR, "sip-ua\n" + credentials(numbers, "shut.test")
                                   + f" registrar 1 ipv4:127.0.0.1:{dead} expires 600\n registration rate 400\n",
                                   workers=2, name="rf-pacing-slow")
        self.addCleanup(slow.kill)
        slow.start(log)
        line = kam.wait_until(lambda: next((x for x in slow.log_tail(50).splitlines()
                                            if "shutdown will not fit" in x), None),
                              timeout=10, what="the start-up warning")
        log(f"start-up warning: {line}")
        self.assertRegex(line, r"its 5000 bindings take 1[2-3]\.\d s to unregister at registration rate 400/s")
        # An operator's rate change: said when the verdict changes, once.
        out = slow.run_cli(["enable", "configure terminal", "sip-ua", "registration rate 1000", "end"])
        self.assertNotIn("%", out, out)
        kam.wait_until(lambda: "shutdown fits --shutdown-timeout 10 s again" in slow.log_tail(20), timeout=5,
                       what="the warning lifted after registration rate 1000")
        out = slow.run_cli(["enable", "configure terminal", "sip-ua", "registration rate 300", "end"])
        self.assertNotIn("%", out, out)
        kam.wait_until(lambda: "registration rate 300/s" in slow.log_tail(20), timeout=5,
                       what="the warning again after registration rate 300")
        out = slow.run_cli(["enable", "configure terminal", "sip-ua", "registration rate 200", "end"])
        time.sleep(0.5)
        self.assertEqual(slow.log_tail(400).count("shutdown will not fit"), 2, "said once per change of verdict")
        slow.kill()


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


class Coalescing(unittest.TestCase):
    N = 2000

    def run_one(self, reg, numbers, extra):
        base = ("sip-ua\n" + credentials(numbers, "coal.test")
                + f" registrar 1 ipv4:127.0.0.1:{reg.port} expires 600\n registration rate 2000\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, base, workers=1, name="rf-coalesce")
        rf.extra_args = extra
        self.addCleanup(rf.kill)
        rf.start(log)
        try:
            kam.wait_until(lambda: len(reg.ul_dump().keys() & set(numbers)) == len(numbers), timeout=60,
                           what=f"{len(numbers)} bindings registered {extra}")
            dp = rf.cli_json("show dataplane") or {}
            c = dp["workers"][0]["counters"]
            self.assertEqual(dp["workers"][0]["heap_allocated"] or 0, 0)
        except Exception:
            log(rf.log_tail())
            raise
        code, _ = rf.terminate(timeout=15)
        self.assertEqual(code, 0, rf.log_tail())
        sleeps = c.get("sleeps_on_socket", 0) + c.get("sleeps_coalesced", 0)
        calls = sleeps + c["recvmmsg_calls"] + c["sendmmsg_calls"]
        log(f"{extra or 'default'}: {c}; {c['recvmmsg_datagrams'] / max(1, sleeps):.2f} datagrams read per sleep, "
            f"{calls / len(numbers):.2f} system calls per registration")
        return c, sleeps, calls

    def test_coalescing_reads_several_datagrams_per_wake_up(self):
        numbers = [str(7600000 + i) for i in range(2 * self.N)]
        reg = kam.KamailioRegistrar("coal", "coal.test", users=[(f"u{x}", f"p{x}") for x in numbers],
                                    qop="auth", default_expires=600)
        reg.start()
        self.addCleanup(reg.stop)
        c0, sleeps0, calls0 = self.run_one(reg, numbers[self.N:], ["--socket-coalesce", "0"])
        c1, sleeps1, calls1 = self.run_one(reg, numbers[:self.N], [])
        self.assertEqual(c0.get("sleeps_coalesced", 0), 0, c0)
        self.assertGreater(c1.get("sleeps_coalesced", 0), 0, c1)
        # Each registration is two datagrams in (401, 200) and two out, whatever the mode.
        self.assertGreaterEqual(c1["recvmmsg_datagrams"], 2 * self.N)
        self.assertGreaterEqual(c1["recvmmsg_datagrams"] / sleeps1, 2.0, c1)
        self.assertLess(calls1, 0.75 * calls0, (c0, c1))

    def test_an_interval_out_of_range_is_refused(self):
        rf = rfd.SocketRegfrontd(BIN_DIR, "sip-ua\n", workers=1, name="rf-coalesce-bad")
        for bad in ("5001", "-1", "2ms", ""):
            res = subprocess.run(rf.command() + ["--socket-coalesce", bad], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=10)
            self.assertEqual(res.returncode, 2, res.stdout)
            self.assertIn("--socket-coalesce must be 0..5000 microseconds", res.stdout)


if __name__ == "__main__":
    main()
