#!/usr/bin/env python3
"""`show sip-ua register status` rows say what went on the wire, against real Kamailio
registrars (regfrontd, socket backend, two workers).

    python3 tests/e2e/test_status_rows.py --bin-dir BUILD/bin

R1 (realm rows.test) knows every number's user; R2 challenges with a realm nobody configured
(stranger.test). After a credential is changed live (another username for one number), every
registrar-1 row's username, realm and address equal what Kamailio last received for that number
(its auth log) and where it listens; every registrar-2 row names stranger.test as its realm, says
there is no credential for it, and names R2's address. `clear sip-ua registration number N`
sends exactly one REGISTER for N and none for the other numbers (counted at Kamailio's auth log),
and says it queued one binding; `clear sip-ua registration registrar 1` says it queued every
binding, as many as the engine then counts; a registrar or number that is not configured is
refused.
"""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402

BIN_DIR = ""
EXPIRES = 20  # refreshes within the test's time


def log(msg: str) -> None:
    print(f"[e2e-status-rows {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def bindings(rf, index=None):
    rows = (rf.cli_json("show sip-ua register status") or {}).get("bindings", [])
    return [b for b in rows if index is None or b.get("registrar") == index]


class StatusRowsAgainstKamailio(unittest.TestCase):
    def test_rows_equal_what_kamailio_received(self):
        numbers = [str(7600000 + i) for i in range(6)]
        changed = numbers[2]
        # The changed number's new username is known to R1 from the start (the change is ours).
        users = [(f"u{x}", f"p{x}") for x in numbers] + [(f"v{changed}", f"q{changed}")]
        r1 = kam.KamailioRegistrar("rows1", "rows.test", users=users, default_expires=EXPIRES)
        r2 = kam.KamailioRegistrar("rows2", "stranger.test", users=users, default_expires=EXPIRES)
        kam.start_all([r1, r2])
        self.addCleanup(kam.stop_all, [r1, r2])
        config = ("sip-ua\n"
                  + "".join(f" credentials number {x} username u{x} password 0 p{x} realm rows.test\n"
                            for x in numbers)
                  + f" registrar 1 ipv4:127.0.0.1:{r1.port} expires {EXPIRES}\n"
                  + f" registrar 2 ipv4:127.0.0.1:{r2.port} expires {EXPIRES}\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=2, name="rows")
        rf.start(log)
        self.addCleanup(rf.kill)

        kam.wait_until(lambda: len([b for b in bindings(rf, 1) if b.get("seconds_left", 0) > 0]) == len(numbers),
                       30, 0.25, "every number registered at R1")
        kam.wait_until(lambda: len([b for b in bindings(rf, 2) if b.get("reason") == "no_credential"]) == len(numbers),
                       30, 0.25, "every number refused by R2's realm")

        # A credential changed live: used from the number's next refresh on.
        out = rf.run_cli(["enable", "configure terminal", "sip-ua",
                          f"credentials number {changed} username v{changed} password 0 q{changed} realm rows.test",
                          "end"])
        log(f"live change: {out.strip()!r}")

        def refreshed_with_new():
            return [o for o in r1.auth_log().offered if o.to_user == changed and o.username == f"v{changed}"]

        kam.wait_until(refreshed_with_new, EXPIRES + 10, 0.25, f"{changed}'s refresh with its new username")
        # Settled: the changed number's refresh was accepted.
        kam.wait_until(lambda: [b for b in bindings(rf, 1) if b["number"] == changed and b.get("username") == f"v{changed}"
                                and b.get("seconds_left", 0) > 0], 10, 0.25, f"{changed}'s row after its refresh")

        last = {}
        for o in r1.auth_log().offered:
            last[o.to_user] = (o.username, o.realm)
        rows = bindings(rf, 1)
        self.assertEqual(sorted(b["number"] for b in rows), sorted(numbers))
        for b in rows:
            self.assertEqual((b["username"], b["realm"]), last[b["number"]], f"row {b} vs R1's log")
            self.assertEqual(b["address"], f"127.0.0.1:{r1.port}", f"row {b}")
            self.assertTrue(0 < b["next_attempt_seconds"] <= EXPIRES, f"row {b}: next refresh")
            self.assertEqual(b["reason_text"], "", f"row {b}")
        self.assertEqual(last[changed], (f"v{changed}", "rows.test"))

        rows2 = bindings(rf, 2)
        self.assertEqual(len(rows2), len(numbers))
        for b in rows2:
            self.assertEqual(b["realm"], "stranger.test", f"row {b}")
            self.assertEqual(b["reason_text"], "no credential for realm stranger.test", f"row {b}")
            self.assertEqual(b["address"], f"127.0.0.1:{r2.port}", f"row {b}")
            self.assertEqual(b["username"], "", f"row {b}: nothing was answered")
            self.assertEqual(b["algorithm"], "MD5", f"row {b}")
        text = rf.run_cli(["show sip-ua register status"])
        self.assertIn("Registrar-Index  2", text)
        self.assertIn("no credential for realm stranger.test", text)
        log("show sip-ua register status:\n" + text)
        # IOS's filters: one registrar, one number.
        one = (rf.cli_json(f"show sip-ua register status registrar 2 {numbers[1]}") or {}).get("bindings", [])
        self.assertEqual([(b["number"], b["registrar"]) for b in one], [(numbers[1], 2)])
        only1 = (rf.cli_json("show sip-ua register status registrar 1") or {}).get("bindings", [])
        self.assertEqual(sorted(b["number"] for b in only1), sorted(numbers))
        self.assertEqual({b["registrar"] for b in only1}, {1})
        # The router's own registrar (IOS's status registrar) has no endpoints; regfront's
        # registrars are under register registrars.
        self.assertEqual(rf.cli_json("show sip-ua status registrar"), {"registrations": []})
        regs = (rf.cli_json("show sip-ua register registrars") or {}).get("registrars", [])
        self.assertEqual([r["index"] for r in regs], [1, 2])


def registers_by_number(reg):
    """REGISTER requests Kamailio received per To user: those it challenged (no credentials)
    plus those that carried credentials."""
    a = reg.auth_log()
    counts = {}
    for f in a.noauth:
        counts[f.get("to", "")] = counts.get(f.get("to", ""), 0) + 1
    for o in a.offered:
        counts[o.to_user] = counts.get(o.to_user, 0) + 1
    return counts


class ClearRegistrationAgainstKamailio(unittest.TestCase):
    def test_clear_one_number_sends_exactly_its_register(self):
        numbers = [str(7700000 + i) for i in range(8)]
        target = numbers[3]
        r1 = kam.KamailioRegistrar("clr1", "clr.test", users=[(f"u{x}", f"p{x}") for x in numbers])
        r1.start()
        self.addCleanup(r1.stop)
        config = ("sip-ua\n"
                  + "".join(f" credentials number {x} username u{x} password 0 p{x} realm clr.test\n" for x in numbers)
                  + f" registrar 1 ipv4:127.0.0.1:{r1.port} expires 3600\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=2, name="clr")
        rf.start(log)
        self.addCleanup(rf.kill)
        kam.wait_until(lambda: len([b for b in bindings(rf, 1) if b.get("seconds_left", 0) > 0]) == len(numbers),
                       30, 0.25, "every number registered")
        before = registers_by_number(r1)

        # Refused IOS-style, nothing sent: a registrar or number that is not configured.
        for bad in ("clear sip-ua registration registrar 5", "clear sip-ua registration number 999"):
            out = rf.run_cli(["enable", bad])
            self.assertIn("%", out, f"{bad}: {out!r}")
            log(f"{bad}: {out.strip()!r}")

        out = rf.run_cli(["enable", f"clear sip-ua registration number {target}"])
        self.assertNotIn("%", out, out)
        # It says how many bindings it queued: the number's one binding, at registrar 1.
        self.assertEqual(out.strip(), "1 binding queued to register again (registrar 1: 1)", out)

        def counted():
            for r in (rf.cli_json("show sip-ua statistics") or {}).get("registrars", []):
                if r.get("index") == 1:
                    return r.get("reregistered", 0) == 1 and r.get("accepted", 0) == len(numbers) + 1
            return False

        kam.wait_until(counted, 15, 0.25, f"{target}'s REGISTER accepted and counted")
        after = registers_by_number(r1)
        delta = {x: after.get(x, 0) - before.get(x, 0) for x in numbers}
        log(f"REGISTERs at Kamailio since the clear, per number: {delta}")
        self.assertEqual(delta[target], 1, f"exactly one REGISTER for {target}")
        self.assertEqual({x: d for x, d in delta.items() if x != target}, {x: 0 for x in numbers if x != target})

        # The whole registrar: every binding is registered, so every one is queued, and the
        # engine's own count (reregistered) reaches the figure the command printed.
        out = rf.run_cli(["enable", "clear sip-ua registration registrar 1"])
        n = len(numbers)
        self.assertEqual(out.strip(), f"{n} bindings queued to register again (registrar 1: {n})", out)

        def all_counted():
            for r in (rf.cli_json("show sip-ua statistics") or {}).get("registrars", []):
                if r.get("index") == 1:
                    return r.get("reregistered", 0) == 1 + n
            return False

        kam.wait_until(all_counted, 15, 0.25, f"{n} more bindings re-registered")


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
