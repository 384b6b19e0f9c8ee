#!/usr/bin/env python3
"""regfrontd (socket backend) against real Kamailio under what an off-path attacker or a
refusing provider does (issue 11).

    python3 tests/e2e/test_resilience.py --bin-dir BUILD/bin

ForgedIcmp (item 1): forged ICMP port unreachables at 10/s — the registrar's address and port,
regfront's address and port, a junk payload — aimed at a Kamailio's bindings for three expiry
periods leave every binding registered and refreshed (before, each one paused the registrar's
REGISTERs for a second: no refresh ever left), counted as icmp_ignored; while a second
registrar on a closed port, whose ICMP unreachables are real, still fails every transaction
fast (icmp_accepted, no Timer F). Needs root (a raw ICMP socket); CI runs as root.

WrongPassword (item 8): a Kamailio that answers a wrong digest with a fresh 401 gets one wrong
digest per attempt (before: four), and every binding says auth_failed with the realm.

HostileRealms (item 2): a Kamailio challenging each binding with a realm of its own fills only
its own learned realms (--learned-realms 4, least recently used evicted); a registrar added
later with an unnamed realm is still answered by the realm-less credential.
"""

import hashlib
import os
import socket
import struct
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402

BIN_DIR = ""


def inet_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def icmp_port_unreachable(src_port: int, dst_port: int, payload: bytes) -> bytes:
    """ICMP type 3 code 3 quoting a UDP datagram 127.0.0.1:src_port -> 127.0.0.1:dst_port."""
    lo = socket.inet_aton("127.0.0.1")
    udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x1234, 0, 64, 17, 0, lo, lo)
    ip = ip[:10] + struct.pack("!H", inet_sum(ip)) + ip[12:]
    body = struct.pack("!BBHI", 3, 3, 0, 0) + ip + udp
    return body[:2] + struct.pack("!H", inet_sum(body)) + body[4:]


def stats(rf):
    return rf.cli_json("show sip-ua statistics") or {}


def registrar_stats(rf, index):
    for r in stats(rf).get("registrars", []):
        if r.get("index") == index:
            return r
    return {}


def bindings(rf, registrar):
    rows = (rf.cli_json("show sip-ua register status") or {}).get("bindings", [])
    return [b for b in rows if b.get("registrar") == registrar]


class ForgedIcmp(unittest.TestCase):
    def test_forged_icmp_leaves_bindings_registered_real_icmp_fails_fast(self):
        numbers = [str(7100 + i) for i in range(20)]
        expires = 20
        reg = kam.KamailioRegistrar("icmp", "icmp.test", users=[(f"u{n}", f"p{n}") for n in numbers])
        dead = kam.allocate_udp_ports(1)[0]  # nobody listens: the kernel answers port unreachable
        config = ("sip-ua\n"
                  + "".join(f" credentials number {n} username u{n} password 0 p{n} realm icmp.test\n"
                            for n in numbers)
                  + f" registrar 1 ipv4:127.0.0.1:{reg.port} expires {expires}\n"
                  + f" registrar 2 ipv4:127.0.0.1:{dead} expires {expires}\n"
                  + " registration rate 1000\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=1, name="rf-forged-icmp")
        reg.start()
        rf.start()
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        stop = threading.Event()
        sent = [0]

        def forge():
            # What an off-path attacker knows: both addresses and ports. Not our branch.
            junk = (b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;"
                    b"branch=z9hG4bKrf000000000100000001deadbeefdeadbeef;rport\r\n")
            while not stop.is_set():
                for port in (rf.port, rf.port + 1):  # the listen port and the worker's
                    raw.sendto(icmp_port_unreachable(port, reg.port, junk), ("127.0.0.1", 0))
                sent[0] += 1
                stop.wait(0.1)

        forger = threading.Thread(target=forge, daemon=True)
        try:
            kam.wait_until(lambda: len([b for b in bindings(rf, 1) if b.get("seconds_left", 0) > 0]) == len(numbers),
                           timeout=20, what="every binding registered at registrar 1")
            # Registrar 2's transactions fail on real ICMP unreachables: at once, no Timer F (32 s).
            st2 = kam.wait_until(lambda: (lambda s: s if s.get("unreachable", 0) >= len(numbers) else None)(
                registrar_stats(rf, 2)), timeout=8, what="registrar 2 failed by real ICMP")
            self.assertEqual(st2.get("timed_out", 0), 0, st2)
            self.assertTrue(all(b.get("reason") == "unreachable" and b.get("last_code") == 503
                                for b in bindings(rf, 2) if b.get("state") == "backoff"), bindings(rf, 2))
            accepted_before = registrar_stats(rf, 1).get("accepted", 0)
            forger.start()
            # Three expiry periods under forged ICMP at 10/s: never a binding lost.
            deadline = time.monotonic() + 3 * expires
            while time.monotonic() < deadline:
                lost = [b for b in bindings(rf, 1) if b.get("seconds_left", 0) <= 0]
                self.assertEqual(lost, [], "bindings lost under forged ICMP")
                time.sleep(1)
            stop.set()
            forger.join(timeout=5)
            st1 = registrar_stats(rf, 1)
            # Every binding refreshed (at least twice in three periods) and accepted by Kamailio.
            self.assertGreaterEqual(st1.get("accepted", 0) - accepted_before, 2 * len(numbers), st1)
            self.assertEqual(st1.get("unreachable", 0), 0, st1)
            self.assertEqual(sorted(reg.ul_dump().keys() & set(numbers)), sorted(numbers))
            dp = stats(rf).get("dataplane", {})
            self.assertGreaterEqual(dp.get("icmp_ignored", 0), 0.9 * sent[0], (dp, sent[0]))
            self.assertGreaterEqual(dp.get("icmp_accepted", 0), len(numbers), dp)
            self.assertGreaterEqual(registrar_stats(rf, 2).get("unreachable", 0), len(numbers))
        finally:
            stop.set()
            raw.close()
            rf.kill()
            reg.stop()


class WrongPassword(unittest.TestCase):
    def test_fresh_nonce_registrar_gets_one_wrong_digest_per_attempt(self):
        numbers = [str(7200 + i) for i in range(5)]
        reg = kam.KamailioRegistrar("wrongpw", "wrongpw.test", users=[(f"u{n}", f"right{n}") for n in numbers],
                                    reject_bad_password=False)  # a wrong digest gets a fresh 401
        config = ("sip-ua\n"
                  + "".join(f" credentials number {n} username u{n} password 0 wrong{n} realm wrongpw.test\n"
                            for n in numbers)
                  + f" registrar 1 ipv4:127.0.0.1:{reg.port} expires 60\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=1, name="rf-wrong-password")
        reg.start()
        rf.start()
        try:
            # Two attempts per binding at least (the second after a 2-4 s backoff).
            st = kam.wait_until(lambda: (lambda s: s if s.get("auth_failed", 0) >= 2 * len(numbers) else None)(
                registrar_stats(rf, 1)), timeout=30, what="two refused attempts per binding")
            offered = reg.auth_log_until(lambda log: len(log.offered) >= st["authenticated"], timeout=5).offered
            attempts = st["sent"]
            # One wrong digest per attempt (an attempt in flight may not have sent its own yet).
            self.assertLessEqual(st["authenticated"], attempts, st)
            self.assertLessEqual(len(offered), st["authenticated"] + len(numbers), st)
            per_call = {}
            for c in offered:
                per_call[c.callid] = per_call.get(c.callid, 0) + 1
            self.assertEqual(len(per_call), len(numbers))
            for row in bindings(rf, 1):
                if row.get("state") == "backoff":
                    self.assertEqual(row.get("reason"), "auth_failed", row)
                    self.assertEqual(row.get("realm"), "wrongpw.test", row)
                    self.assertEqual(row.get("last_code"), 401, row)
        finally:
            rf.kill()
            reg.stop()


class CyclingRealmRegistrar:
    """A hostile registrar on a real UDP socket: every REGISTER is challenged with a realm of
    its own, made from its Call-ID (Kamailio's www_challenge takes only a fixed realm), and
    nothing is ever accepted."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.realms = set()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self):
        while not self.stop_event.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            head = data.decode("utf-8", "replace").split("\r\n\r\n", 1)[0].split("\r\n")
            if not head[0].startswith("REGISTER "):
                continue
            keep = [l for l in head[1:] if l.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
            callid = next((l.split(":", 1)[1].strip() for l in keep if l.lower().startswith("call-id")), "")
            realm = "cyc-" + hashlib.md5(callid.encode()).hexdigest()[:12]
            self.realms.add(realm)
            reply = ("SIP/2.0 401 Unauthorized\r\n" + "".join(l + "\r\n" for l in keep)
                     + f'WWW-Authenticate: Digest realm="{realm}", nonce="{os.urandom(8).hex()}"\r\n'
                     + "Content-Length: 0\r\n\r\n")
            self.sock.sendto(reply.encode(), peer)


class HostileRealms(unittest.TestCase):
    """Item 2: a registrar that challenges every binding with a realm of its own (more realms
    than the learned-realm table used to hold) fills only its own learned realms; a second
    registrar added afterwards, challenging with a realm the configuration does not name, is
    still learned and every binding registers there."""

    def test_cycling_realms_at_one_registrar_leave_another_registrar_answered(self):
        count = 300
        numbers = [str(7300 + i) for i in range(count)]
        hostile = CyclingRealmRegistrar()
        good = kam.KamailioRegistrar("good", "good.test", users=[("shared", "pw-shared")])
        config = ("".join(f"dial-peer voice {i + 1} pots\n destination-pattern {n}\n" for i, n in enumerate(numbers))
                  + "sip-ua\n authentication username shared password 0 pw-shared\n"
                  + f" registrar 1 ipv4:127.0.0.1:{hostile.port} expires 60\n"
                  + " registration rate 100\n")
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=1, name="rf-hostile-realms")
        rf.extra_args = ["--learned-realms", "4"]
        hostile.start()
        good.start()
        rf.start()
        try:
            # Every binding at the hostile registrar reported its own realm once.
            kam.wait_until(lambda: registrar_stats(rf, 1).get("realm_learning", 0) >= count, timeout=30,
                           what="every binding at registrar 1 challenged with a realm of its own")
            row = kam.wait_until(lambda: (lambda r: r if r and r[0].get("learned_realms_evicted", 0) >= count - 4 - 20
                                          else None)(registrars(rf)), timeout=10,
                                 what="registrar 1's learned realms evicted")[0]
            self.assertLessEqual(len(row["learned_realms"]), 4, row)
            self.assertEqual(row["learned_realms_max"], 4, row)
            self.assertGreaterEqual(len(hostile.realms), count)
            # The good registrar, live: its realm is learned and every number registers there.
            out = rf.run_cli(["enable", "configure terminal", "sip-ua",
                          f"registrar 2 ipv4:127.0.0.1:{good.port} expires 60", "end"])
            self.assertNotIn("%", out, out)
            kam.wait_until(lambda: len([b for b in bindings(rf, 2) if b.get("seconds_left", 0) > 0]) == count,
                           timeout=30, what="every binding registered at registrar 2")
            self.assertEqual(len(good.ul_dump().keys() & set(numbers)), count)
            rows = {r["index"]: r for r in registrars(rf)}
            self.assertEqual(rows[2]["learned_realms"], ["good.test"], rows[2])
            self.assertEqual(rows[2]["learned_realms_evicted"], 0, rows[2])
            self.assertLessEqual(len(rows[1]["learned_realms"]), 4, rows[1])
        finally:
            rf.kill()
            hostile.stop()
            good.stop()


def registrars(rf):
    return (rf.cli_json("show sip-ua register registrars") or {}).get("registrars", [])


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
