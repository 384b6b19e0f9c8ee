#!/usr/bin/env python3
"""Validates the Kamailio registrar harness (kamailio.py) with a tiny Python UAC.

Proves, against real Kamailio 5.6 processes, the behaviour regfront's end-to-end tests rely on:
challenge realm/algorithm/qop, digest verification (MD5 and SHA-256, with and without qop),
403 for a wrong password or unknown user, re-challenge for a wrong realm, 423 + Min-Expires
below min_expires, bindings visible in `kamcmd ul.dump`, unregistration, the auth log
(every offered username/realm recorded), and restart on the same port with an empty table.

Runs in a few seconds; part of CI (ctest label e2e). Loopback only.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kamailio as kam  # noqa: E402
from kamailio import parse_digest_params, parse_ul_dump  # noqa: E402
from minisip import RegisterClient, digest_authorization  # noqa: E402


def have_kamailio() -> bool:
    return os.access(kam.KAMAILIO_BIN, os.X_OK) and os.access(kam.KAMCMD_BIN, os.X_OK)


class ParserTest(unittest.TestCase):
    SAMPLE = (
        "{\n\tDomains: {\n\t\tDomain: {\n\t\t\tDomain: location\n\t\t\tSize: 4096\n"
        "\t\t\tAoRs: {\n\t\t\t\tInfo: {\n\t\t\t\t\tAoR: 4085550100\n\t\t\t\t\tHashID: 1\n"
        "\t\t\t\t\tContacts: {\n\t\t\t\t\t\tContact: {\n"
        "\t\t\t\t\t\t\tAddress: sip:4085550100@127.0.0.1:5070\n"
        "\t\t\t\t\t\t\tExpires: 57\n\t\t\t\t\t\t\tQ: -1.000000\n"
        "\t\t\t\t\t\t\tCall-ID: abc@127.0.0.1\n\t\t\t\t\t\t\tCSeq: 2\n"
        "\t\t\t\t\t\t\tUser-Agent: regfront\n\t\t\t\t\t\t\tReceived: [not set]\n"
        "\t\t\t\t\t\t}\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t}\n\t\t}\n\t}\n}\n")

    def test_ul_dump_text(self):
        table = parse_ul_dump(self.SAMPLE)
        self.assertEqual(list(table), ["4085550100"])
        (c,) = table["4085550100"]
        self.assertEqual(c.uri, "sip:4085550100@127.0.0.1:5070")
        self.assertEqual(c.expires, 57)
        self.assertEqual(c.cseq, 2)
        self.assertEqual(c.callid, "abc@127.0.0.1")

    def test_digest_params(self):
        p = parse_digest_params('Digest username="a b", realm="r.test", nonce="x,y", '
                                'uri="sip:h", response="00", algorithm=SHA-256, qop=auth, '
                                'nc=00000001, cnonce="c"')
        self.assertEqual(p["username"], "a b")
        self.assertEqual(p["realm"], "r.test")
        self.assertEqual(p["nonce"], "x,y")
        self.assertEqual(p["algorithm"], "SHA-256")
        self.assertEqual(p["qop"], "auth")

    def test_ports_contiguous(self):
        ports = kam.allocate_udp_ports(4, contiguous=True)
        self.assertEqual(ports, list(range(ports[0], ports[0] + 4)))


class HarnessTestBase(unittest.TestCase):
    REALM = "realm.test"
    ALGORITHM = "MD5"
    QOP = None
    MIN_EXPIRES = 0
    USERS = [("alice", "alice-pass"), ("bob", "b:o\\b")]

    @classmethod
    def setUpClass(cls):
        cls.reg = kam.KamailioRegistrar(cls.__name__, cls.REALM, cls.USERS,
                                        algorithm=cls.ALGORITHM, qop=cls.QOP,
                                        min_expires=cls.MIN_EXPIRES, max_expires=3600,
                                        default_expires=60, children=2, shm_mb=32)
        t0 = time.monotonic()
        cls.reg.start()
        print(f"\n[{cls.__name__}] kamailio up on udp/{cls.reg.port} in "
              f"{time.monotonic() - t0:.2f}s", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def client(self, number):
        c = RegisterClient(self.reg.address, number)
        self.addCleanup(c.close)
        return c

    def assert_challenge(self, resp):
        self.assertEqual(resp.code, 401, resp.raw)
        params = parse_digest_params(resp.header("WWW-Authenticate"))
        self.assertEqual(params["_scheme"], "Digest")
        self.assertEqual(params["realm"], self.REALM)
        if self.ALGORITHM:
            self.assertEqual(params.get("algorithm"), self.ALGORITHM)
        if self.QOP:
            self.assertIn(self.QOP, [q.strip() for q in params.get("qop", "").split(",")])
        else:
            self.assertNotIn("qop", params)
        return params


class Md5NoQopTest(HarnessTestBase):
    REALM = "realm-a.test"
    ALGORITHM = "MD5"

    def test_register_challenge_200_and_ul_dump(self):
        c = self.client("1001")
        challenge, final = c.register("alice", "alice-pass", expires=45)
        self.assert_challenge(challenge)
        self.assertEqual(final.code, 200, final.raw)
        table = self.reg.ul_dump()
        self.assertIn("1001", table)
        (contact,) = table["1001"]
        self.assertEqual(contact.uri, c.contact_uri)
        self.assertTrue(40 <= contact.expires <= 45, contact)
        log = self.reg.auth_log_until(lambda lg: any(s.get("to") == "1001" for s in lg.saved))
        self.assertIn(("alice", self.REALM), log.offered_pairs())
        self.assertTrue(any(r.au == "alice" and r.ar == self.REALM and r.rc == kam.AUTH_OK
                            and r.to_user == "1001" for r in log.results))
        self.assertTrue(any(n.get("to") == "1001" for n in log.noauth))
        self.assertTrue(any(s.get("to") == "1001" for s in log.saved))
        # The binrpc (kamcmd) and JSON-RPC (FIFO) views of the table agree.
        text = self.reg.ul_dump_text()
        self.assertEqual([(c.uri, c.callid) for c in text["1001"]],
                         [(c.uri, c.callid) for c in table["1001"]])
        # Unregister: Expires 0 with fresh credentials removes the binding.
        _, bye = c.register("alice", "alice-pass", expires=0)
        self.assertEqual(bye.code, 200, bye.raw)
        kam.wait_until(lambda: "1001" not in self.reg.ul_dump(), 5, what="1001 removed")

    def test_password_with_colon_and_backslash(self):
        _, final = self.client("1002").register("bob", "b:o\\b", expires=30)
        self.assertEqual(final.code, 200, final.raw)
        self.assertIn("1002", self.reg.ul_dump())

    def test_wrong_password_is_403_and_logged(self):
        _, final = self.client("1003").register("alice", "not-the-password", expires=30)
        self.assertEqual(final.code, 403, final.raw)
        self.assertNotIn("1003", self.reg.ul_dump())
        rcs = [r.rc for r in self.reg.auth_log().results if r.to_user == "1003"]
        self.assertEqual(rcs, [kam.AUTH_INVALID_PASSWORD])

    def test_unknown_user_is_403(self):
        _, final = self.client("1004").register("mallory", "x", expires=30)
        self.assertEqual(final.code, 403, final.raw)
        rcs = [r.rc for r in self.reg.auth_log().results if r.to_user == "1004"]
        self.assertEqual(rcs, [kam.AUTH_USER_UNKNOWN])

    def test_wrong_realm_is_rechallenged_and_logged(self):
        # Credentials computed for another realm: Kamailio ignores them (no credentials for its
        # realm) and challenges again; the log still shows what was offered, to which realm.
        _, final = self.client("1005").register("alice", "alice-pass", expires=30,
                                                realm_override="other-realm.test")
        self.assert_challenge(final)
        log = self.reg.auth_log()
        offered = [o for o in log.offered if o.to_user == "1005"]
        self.assertEqual([(o.username, o.realm) for o in offered],
                         [("alice", "other-realm.test")])
        self.assertEqual([r.rc for r in log.results if r.to_user == "1005"],
                         [kam.AUTH_NO_CREDENTIALS])
        self.assertNotIn("1005", self.reg.ul_dump())

    def test_every_authorization_header_is_logged(self):
        c = self.client("1006")
        challenge = parse_digest_params(c.transact(30).header("WWW-Authenticate"))
        good = digest_authorization(challenge, "REGISTER", c.request_uri, "alice", "alice-pass")
        foreign = digest_authorization(challenge, "REGISTER", c.request_uri, "carol", "pw",
                                       realm="realm-z.test")
        final = c.transact(30, foreign, extra_headers=(f"Authorization: {good}",))
        self.assertEqual(final.code, 200, final.raw)
        pairs = [(o.username, o.realm) for o in self.reg.auth_log().offered
                 if o.to_user == "1006"]
        self.assertEqual(sorted(pairs), [("alice", self.REALM), ("carol", "realm-z.test")])


class Sha256QopAuthTest(HarnessTestBase):
    REALM = "realm-b.test"
    ALGORITHM = "SHA-256"
    QOP = "auth"

    def test_register_sha256_qop_auth(self):
        c = self.client("2001")
        challenge, final = c.register("alice", "alice-pass", expires=30)
        self.assert_challenge(challenge)
        self.assertEqual(final.code, 200, final.raw)
        self.assertEqual(self.reg.ul_dump()["2001"][0].uri, c.contact_uri)
        offered = [o for o in self.reg.auth_log().offered if o.to_user == "2001"]
        self.assertEqual(offered[0].params.get("qop"), "auth")
        self.assertEqual(offered[0].params.get("algorithm"), "SHA-256")

    def test_md5_answer_to_sha256_challenge_fails(self):
        c = self.client("2002")
        challenge = parse_digest_params(c.transact(30).header("WWW-Authenticate"))
        challenge["algorithm"] = "MD5"
        auth = digest_authorization(challenge, "REGISTER", c.request_uri, "alice", "alice-pass")
        final = c.transact(30, auth)
        self.assertIn(final.code, (401, 403), final.raw)
        self.assertNotIn("2002", self.reg.ul_dump())


class MinExpiresTest(HarnessTestBase):
    REALM = "realm-c.test"
    ALGORITHM = None  # no algorithm parameter in the challenge (MD5 implied)
    MIN_EXPIRES = 90

    def test_423_with_min_expires_then_200(self):
        c = self.client("3001")
        challenge, final = c.register("alice", "alice-pass", expires=30)
        self.assert_challenge(challenge)
        self.assertEqual(final.code, 423, final.raw)
        self.assertEqual(final.header("Min-Expires"), "90")
        self.assertNotIn("3001", self.reg.ul_dump())
        _, ok = c.register("alice", "alice-pass", expires=90)
        self.assertEqual(ok.code, 200, ok.raw)
        (contact,) = self.reg.ul_dump()["3001"]
        self.assertTrue(85 <= contact.expires <= 90, contact)

    def test_restart_same_port_loses_table_keeps_log(self):
        c = self.client("3002")
        challenge = parse_digest_params(c.transact(120).header("WWW-Authenticate"))
        ok = c.transact(120, digest_authorization(challenge, "REGISTER", c.request_uri,
                                                  "alice", "alice-pass"))
        self.assertEqual(ok.code, 200)
        self.assertIn("3002", self.reg.ul_dump())
        port = self.reg.port
        t0 = time.monotonic()
        self.reg.restart()
        print(f"\n[restart] kamailio back on udp/{port} in {time.monotonic() - t0:.2f}s",
              file=sys.stderr)
        self.assertEqual(self.reg.port, port)
        self.assertEqual(self.reg.ul_dump(), {})
        # A nonce from before the restart (new secret) is challenged again, never 403: a client
        # refreshing with cached credentials must be able to recover.
        stale = c.transact(120, digest_authorization(challenge, "REGISTER", c.request_uri,
                                                     "alice", "alice-pass", nc=2))
        self.assert_challenge(stale)
        _, ok = self.client("3002").register("alice", "alice-pass", expires=120)
        self.assertEqual(ok.code, 200, ok.raw)
        self.assertIn("3002", self.reg.ul_dump())
        mine = lambda log: [s for s in log.saved if s.get("to") == "3002"]  # noqa: E731
        saved = mine(self.reg.auth_log_until(lambda log: len(mine(log)) >= 2))
        self.assertEqual(len(saved), 2)  # the log survives the restart


class ThroughputSmokeTest(unittest.TestCase):
    """3000 full REGISTER exchanges: the config is not a bottleneck and the JSON-RPC dump of
    a big table works (kamcmd's binrpc reply is limited to a few hundred contacts)."""

    def test_rate(self):
        n = 3000
        users = [(f"u{i}", f"p{i}") for i in range(n)]
        reg = kam.KamailioRegistrar("rate", "rate.test", users, algorithm="SHA-256",
                                    qop="auth", children=4)
        reg.start()
        self.addCleanup(reg.stop)
        t0 = time.monotonic()
        for i in range(n):
            with RegisterClient(reg.address, f"5{i:05d}") as c:
                _, final = c.register(f"u{i}", f"p{i}", expires=60)
                self.assertEqual(final.code, 200)
        dt = time.monotonic() - t0
        t1 = time.monotonic()
        table = reg.ul_dump()
        dump_dt = time.monotonic() - t1
        self.assertEqual(len(table), n)
        self.assertTrue(all(len(v) == 1 for v in table.values()))
        print(f"\n[rate] {n} sequential challenged REGISTERs in {dt:.2f}s "
              f"({n / dt:.0f}/s, one at a time); ul.dump of {n} AoRs in {dump_dt:.2f}s",
              file=sys.stderr)
        self.assertEqual(len(reg.auth_log_until(lambda lg: len(lg.saved) >= n).saved), n)


if __name__ == "__main__":
    # Never skip: CI installs Kamailio (deploy/install-deps.sh); without it this run must fail.
    if not have_kamailio():
        print("FAIL: kamailio/kamcmd not installed (run deploy/install-deps.sh)", file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)
