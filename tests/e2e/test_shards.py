#!/usr/bin/env python3
"""Shards: several regfrontd boxes share one set of numbers (regfrontd --shard I/N, the
startup-config's `shard I of N`), against real Kamailio registrars.

    python3 tests/e2e/test_shards.py --bin-dir BUILD/bin

Three regfrontd (socket backend, loopback) are given the same startup-config: 30,000 numbers and
two Kamailio registrars; each is started with --shard 0/3, 1/3, 2/3. Every number ends up
registered exactly once at each registrar (one contact), by the box whose shard it is — computed
here with an independent implementation of the same published hash (FNV-1a 64, then jump
consistent hashing), so a change of the daemon's hash fails this test.

Then a fourth shard is added the way an operator grows a StatefulSet: the three running boxes are
told `shard I of 4` as a live change, and a fourth starts with --shard 3/4. The numbers whose
shard moves (about a quarter, all into shard 3) are unregistered by their old box and registered
by the new one; every other number's contact at both registrars keeps its Call-ID and contact
(it was not registered again; its CSeq moves only when its own refresh falls in the window).
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
N = int(os.environ.get("SHARDS_NUMBERS", "30000"))  # a smaller N to try the test quickly
RATE = 400  # per box and registrar: db_text looks a user up by a scan of its 30,000 rows
EXPIRES = 1800


def log(msg: str) -> None:
    print(f"[e2e-shards {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fnv1a64(s: str) -> int:
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def shard_of(number: str, count: int) -> int:
    key, b, j = fnv1a64(number), -1, 0
    while j < count:
        b = j
        key = (key * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF
        j = int((b + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return b


class Shards(unittest.TestCase):
    def contacts(self, reg, numbers):
        """{number: [Contact]} at `reg` for `numbers` (missing numbers absent)."""
        dump = reg.ul_dump()
        return {n: dump[n] for n in numbers if n in dump}

    def port_of(self, contact) -> int:
        hostport = contact.uri.split("@", 1)[-1].split(";", 1)[0].rstrip(">")
        return int(hostport.rsplit(":", 1)[1])

    def test_three_shards_then_a_fourth(self):
        numbers = [str(4470000000 + i) for i in range(N)]
        users = [(f"u{n}", f"p{n}") for n in numbers]
        regs = [kam.KamailioRegistrar(f"shard{r}", "shard.test", users=users, qop="auth",
                                      default_expires=EXPIRES, max_expires=EXPIRES) for r in (1, 2)]
        for reg in regs:
            reg.start(timeout=120)
            self.addCleanup(reg.stop)
        lines = ["sip-ua"]
        for r, reg in enumerate(regs, 1):
            lines.append(f" registrar {r} ipv4:127.0.0.1:{reg.port} expires {EXPIRES}")
        # both registrars are one provider's realm
        lines += [f" credentials number {n} username u{n} password 0 p{n} realm shard.test" for n in numbers]
        lines.append(f" registration rate {RATE}")
        config = "\n".join(lines) + "\n!\nend\n"

        boxes = []

        def start_box(i: int, count: int):
            rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=1, name=f"rf-shard{i}")
            rf.extra_args = ["--shard", f"{i}/{count}", "--max-bindings", str(2 * N)]
            self.addCleanup(rf.kill)
            rf.start(log, ready_timeout=60)
            boxes.append(rf)
            return rf

        for i in range(3):
            start_box(i, 3)
        port_box = {rf.port: i for i, rf in enumerate(boxes)}
        want3 = {n: shard_of(n, 3) for n in numbers}
        log(f"shard sizes of 3: {[sum(1 for v in want3.values() if v == s) for s in range(3)]}")

        state = {}

        def settled(want):
            for r, reg in enumerate(regs, 1):
                got = self.contacts(reg, numbers)
                missing = N - len(got)
                several = sum(1 for cs in got.values() if len(cs) != 1)
                wrong = sum(1 for n, cs in got.items() if port_box.get(self.port_of(cs[0])) != want[n])
                state[r] = f"registrar {r}: {missing} missing, {several} with several contacts, {wrong} by another box"
                if missing or several or wrong:
                    return False
            return True

        def diagnose():
            log("; ".join(state.values()))
            for rf in boxes:
                log(rf.log_tail(6))

        try:
            kam.wait_until(lambda: settled(want3), timeout=180, interval=5.0,
                           what=f"{N} numbers x 2 registrars, each registered once by its shard's box")
        except Exception:
            diagnose()
            raise
        before = [self.contacts(reg, numbers) for reg in regs]
        for rf in boxes:
            self.assertIn(f"(shard {boxes.index(rf)} of 3)", rf.log_tail(400))

        # A fourth shard: a live change on the three, a new box for shard 3.
        for i, rf in enumerate(boxes):
            out = rf.run_cli(["enable", "configure terminal", "sip-ua", f"shard {i} of 4", "end",
                              "show running-config | include shard"])
            self.assertIn(f" shard {i} of 4", out)
        start_box(3, 4)
        port_box[boxes[3].port] = 3
        want4 = {n: shard_of(n, 4) for n in numbers}
        moved = {n for n in numbers if want4[n] != want3[n]}
        log(f"{len(moved)} numbers move to shard 3")
        self.assertTrue(all(want4[n] == 3 for n in moved))
        self.assertAlmostEqual(len(moved) / N, 0.25, delta=0.02)
        try:
            kam.wait_until(lambda: settled(want4), timeout=180, interval=5.0,
                           what="the moved numbers registered by the fourth box only")
        except Exception:
            diagnose()
            raise
        for r, reg in enumerate(regs):
            after = self.contacts(reg, numbers)
            refreshed = 0
            for n in numbers:
                a, b = before[r][n][0], after[n][0]
                if n in moved:
                    self.assertNotEqual(a.callid, b.callid, n)
                    continue
                # Not moved: the same binding (Call-ID, contact), never registered again; its
                # CSeq moves only if its own refresh fell in the window (a storm's first
                # refreshes are spread from 1 s to the refresh point): one REGISTER, or two
                # when the cached nonce was challenged.
                self.assertEqual((a.callid, a.uri), (b.callid, b.uri), f"{n} does not move")
                self.assertIn(b.cseq - a.cseq, (0, 1, 2), f"{n}: CSeq {a.cseq} -> {b.cseq}")
                refreshed += b.cseq != a.cseq
            log(f"registrar {r + 1}: {refreshed} of {N - len(moved)} numbers that did not move refreshed "
                f"on their schedule during the change")
            self.assertLess(refreshed, (N - len(moved)) // 5, "more refreshes than the schedule explains")
        for rf in boxes:
            dp = rf.cli_json("show dataplane") or {}
            self.assertEqual(sum((w.get("heap_allocated") or 0) for w in dp.get("workers", [])), 0)


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
