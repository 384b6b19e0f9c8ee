#!/usr/bin/env python3
"""Validates the call harness itself, without regfrontd: the SIPp runner (sipp.py), the SIPp
scenarios (tests/e2e/sipp/) and the provider role of the Kamailio harness (kamailio.py's
ProviderRole), so that a failure of test_calls.py is regfront's and not the harness's.

    python3 tests/e2e/test_call_harness.py [unittest args]

  * SIPp against SIPp: a call (core_uac -> far_uas_cseq), the far end's CSeq check rejecting a
    BYE whose CSeq is below the INVITE's with 500 (uac_stale_bye), a CANCEL after 180
    (uac_cancel -> uas_cancel); the message trace and statistics parsed.
  * A Kamailio provider (realm-a.e2e) with a far end (127.0.0.3): a call from one of its users
    is challenged with 407 for realm-a.e2e, the INVITE with credentials (CSeq + 1) relayed to
    the far end with a Record-Route, the BYE challenged and answered too, the far end's CSeq
    check satisfied; a wrong password is 403 and relayed nowhere; a call from the far end to a
    registered number goes to its Contact; a CANCEL goes the same way; every credential
    offered is in the log.
  * Role options: in-dialog challenges off, 503 + Retry-After for every INVITE, OPTIONS
    keepalives to registered contacts and their replies (with Allow) in the log.

Loopback only (127.0.0.1 and 127.0.0.3); every wait is bounded; runs in well under a minute.
Fails (never skips) when sipp or Kamailio is missing: deploy/install-deps.sh installs both.
"""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kamailio as kam  # noqa: E402
import sipp  # noqa: E402
from kamailio import parse_digest_params  # noqa: E402
from minisip import RegisterClient  # noqa: E402

FAR_HOST = "127.0.0.3"  # the far end has an address of its own (loopback is a /8)
REALM_A = "realm-a.e2e"
CALLED = "2125550199"   # a number of the far end's (registered nowhere)
FAR_CALLER = "2125550123"


def register(reg: kam.KamailioRegistrar, number: str, password: str, contact: str,
             expires: int = 120) -> None:
    with RegisterClient(reg.address, number, contact=contact) as c:
        _, final = c.register(number, password, expires=expires)
        if final.code != 200:
            raise AssertionError(f"REGISTER {number} at {reg.name}: {final.code}\n{final.raw}")


class ParserTest(unittest.TestCase):
    TRACE = (
        "----------------------------------------------- 2026-01-01 10:00:00.000001\n"
        "UDP message sent (120 bytes):\n\n"
        "INVITE sip:2125550199@127.0.0.1:5060 SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\n"
        "CSeq: 41 INVITE\n"
        "Content-Length: 4\n\n"
        "v=0\n\n"
        "----------------------------------------------- 2026-01-01 10:00:00.000002\n"
        "UDP message received [80] bytes :\n\n"
        "SIP/2.0 200 OK\n"
        "v: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\n"
        "CSeq: 41 INVITE\n"
        "Allow: INVITE, BYE\n\n"
        "----------------------------------------------- 2026-01-01 10:00:00.000003\n"
        "Unexpected UDP message received:\n\n"
        "SIP/2.0 500 Oops\n\n")

    def test_message_trace(self):
        msgs = sipp.parse_message_trace(self.TRACE)
        self.assertEqual([(m.direction, m.first_line) for m in msgs],
                         [("sent", "INVITE sip:2125550199@127.0.0.1:5060 SIP/2.0"),
                          ("received", "SIP/2.0 200 OK")])
        self.assertEqual(msgs[0].method, "INVITE")
        self.assertEqual(msgs[0].cseq, (41, "INVITE"))
        self.assertEqual(msgs[0].request_uri, "sip:2125550199@127.0.0.1:5060")
        self.assertEqual(msgs[0].body.strip(), "v=0")
        self.assertEqual((msgs[1].code, msgs[1].method), (200, "INVITE"))
        self.assertEqual(msgs[1].header("via"), "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1")
        self.assertEqual(msgs[1].header("Allow"), "INVITE, BYE")

    def test_stats(self):
        stats = sipp.parse_stats("StartTime;SuccessfulCall(C);FailedCall(C);\n"
                                 "x;0;0;\n" "y;1;0;\n")
        self.assertEqual((stats["SuccessfulCall(C)"], stats["FailedCall(C)"]), ("1", "0"))

    def test_sipp_is_installed(self):
        self.assertTrue(sipp.have_sipp(), f"no sipp at {sipp.SIPP_BIN}")
        self.assertRegex(sipp.sipp_version(), r"SIPp v3\.")


class SippPairTest(unittest.TestCase):
    """SIPp against SIPp on loopback: the scenarios do what their comments say."""

    def setUp(self):
        self.workdir = kam.make_workdir("call-harness-")

    def uas(self, scenario: str, name: str) -> sipp.Sipp:
        s = sipp.Sipp(scenario, (FAR_HOST, 0), self.workdir, name=name, timeout=15)
        self.addCleanup(s.stop)
        return s.start().wait_listening()

    def uac(self, scenario: str, remote: sipp.Sipp, **kw) -> sipp.SippResult:
        kw.setdefault("service", CALLED)
        kw.setdefault("keys", {"caller": "4085550100"})
        return sipp.run(scenario, ("127.0.0.1", 0), self.workdir, remote=remote.address,
                        timeout=15, **kw)

    def test_call_in_order(self):
        far = self.uas("far_uas_cseq.xml", "far")
        core = self.uac("core_uac.xml", far, base_cseq=41, duration_ms=50)
        got = far.wait()
        self.assertTrue(core.ok, core.describe() + "\n" + got.describe())
        self.assertTrue(got.ok, got.describe())
        self.assertEqual([m.cseq for m in core.sent(responses=False)],
                         [(41, "INVITE"), (41, "ACK"), (42, "BYE")], core.flow())
        self.assertEqual([(m.code, m.cseq) for m in core.received()],
                         [(180, (41, "INVITE")), (200, (41, "INVITE")), (200, (42, "BYE"))])
        self.assertIn("SIPP-E2E BYE cseq=42 invite_cseq=41", "\n".join(got.logs))
        self.assertEqual((core.stat("SuccessfulCall"), core.stat("FailedCall")), (1, 0))
        self.assertEqual(got.received("INVITE")[0].header("Content-Type"), "application/sdp")

    def test_far_end_rejects_a_bye_below_the_invite(self):
        far = self.uas("far_uas_cseq.xml", "far")
        stale = self.uac("uac_stale_bye.xml", far, base_cseq=41, duration_ms=10)
        got = far.wait()
        self.assertTrue(stale.ok, stale.describe())
        self.assertEqual(stale.sent("BYE")[0].cseq, (40, "BYE"))
        self.assertEqual([m.code for m in got.sent("BYE", responses=True)], [500], got.flow())
        self.assertEqual(got.rc, 1, f"the far end must fail the call:\n{got.describe()}")
        self.assertIn("SIPP-E2E BYE cseq=40 invite_cseq=41", "\n".join(got.logs))

    def test_cancel_after_180(self):
        callee = self.uas("uas_cancel.xml", "callee")
        caller = self.uac("uac_cancel.xml", callee, base_cseq=7)
        got = callee.wait()
        self.assertTrue(caller.ok, caller.describe() + "\n" + got.describe())
        self.assertTrue(got.ok, got.describe())
        self.assertEqual(sorted((m.code, m.cseq) for m in caller.received()),
                         [(180, (7, "INVITE")), (200, (7, "CANCEL")), (487, (7, "INVITE"))])
        self.assertEqual([m.cseq for m in got.received(responses=False)],
                         [(7, "INVITE"), (7, "CANCEL"), (7, "ACK")])

    def test_retransmissions_are_counted_once(self):
        res = sipp.SippResult("x", [], 0, {}, sipp.parse_message_trace(
            ParserTest.TRACE.replace("SIP/2.0 500 Oops", "SIP/2.0 200 OK") * 2), [], "", "", "")
        self.assertEqual(len(res.sent("INVITE")), 1)
        self.assertEqual(len(res.sent("INVITE", retransmissions=True)), 2)

    def test_runner_timeout_kills_and_reports(self):
        # A UAS nobody calls: SIPp's own -timeout_error ends it, and the result says so.
        lonely = sipp.Sipp("far_uas.xml", (FAR_HOST, 0), self.workdir, name="lonely", timeout=1)
        self.addCleanup(lonely.stop)
        res = lonely.start().wait()
        self.assertNotEqual(res.rc, 0, res.describe())
        self.assertEqual(res.messages, [])
        self.assertIn("lonely", res.describe())


class ProviderCase(unittest.TestCase):
    """A Kamailio provider with a far end on 127.0.0.3; subclasses choose the role."""

    NAME = "PA"
    ROLE = {}
    USERS = [("4085550100", "secretA"), ("4085550101", "secretA1"), ("4085550102", "secretA2"),
             ("4085550103", "secretA3")]

    @classmethod
    def setUpClass(cls):
        cls.workdir = kam.make_workdir("call-harness-")
        cls.far_port = kam.allocate_udp_ports(1, host=FAR_HOST)[0]
        role = kam.ProviderRole(far_end=(FAR_HOST, cls.far_port), **cls.ROLE)
        cls.prov = kam.KamailioRegistrar(cls.NAME, REALM_A, cls.USERS, provider=role,
                                         children=2, shm_mb=32)
        cls.prov.start()

    @classmethod
    def tearDownClass(cls):
        cls.prov.stop()

    def far_end(self, scenario: str = "far_uas_cseq.xml") -> sipp.Sipp:
        s = sipp.Sipp(scenario, (FAR_HOST, self.far_port), self.workdir, name="far", timeout=15)
        self.addCleanup(s.stop)
        return s.start().wait_listening()

    def user_call(self, number: str, password: str, base_cseq: int = 20,
                  scenario: str = "user_uac_auth.xml") -> sipp.SippResult:
        return sipp.run(scenario, ("127.0.0.1", 0), self.workdir, remote=self.prov.address,
                        service=CALLED, keys={"caller": number}, auth=(number, password),
                        base_cseq=base_cseq, duration_ms=50, timeout=15, name="user")

    def fail_with(self, msg: str, *results: sipp.SippResult) -> None:
        self.fail(msg + "\n" + "\n".join(r.describe() for r in results)
                  + f"\n--- {self.prov.name} log tail:\n{self.prov.log_tail(60)}")


class ProviderTest(ProviderCase):
    NAME = "PA"
    ROLE = {"challenge_in_dialog": True}

    def test_call_from_a_user_is_challenged_and_relayed(self):
        number, password = self.USERS[0]
        # Registered, so that its in-dialog requests are challenged too.
        register(self.prov, number, password, f"sip:{number}@127.0.0.1:9")
        far = self.far_end()
        user = self.user_call(number, password, base_cseq=20)
        got = far.wait()
        if not (user.ok and got.ok):
            self.fail_with("the call through the provider failed", user, got)
        # 407 for the provider's realm, answered with CSeq + 1.
        (challenge,) = [m for m in user.received("INVITE") if m.code == 407]
        params = parse_digest_params(challenge.header("Proxy-Authenticate") or "")
        self.assertEqual(params.get("realm"), REALM_A)
        invites = [m.cseq for m in user.sent("INVITE", responses=False)]
        self.assertEqual(invites, [(20, "INVITE"), (21, "INVITE")])
        # The far end got the authenticated INVITE only, with the provider's Record-Route and
        # without the credentials (consumed), and a BYE whose CSeq is above it.
        (invite,) = got.received("INVITE", responses=False)
        self.assertEqual(invite.cseq, (21, "INVITE"))
        self.assertIsNone(invite.header("Proxy-Authorization"))
        self.assertIn(f"{self.prov.host}:{self.prov.port}", invite.header("Record-Route") or "")
        self.assertEqual(invite.header("Content-Type"), "application/sdp")
        (bye,) = got.received("BYE", responses=False)
        self.assertEqual(bye.cseq, (23, "BYE"), "BYE 22 challenged, BYE 23 with credentials")
        # The provider's log: who offered what, the results, where things went.
        ci = invite.header("Call-ID")
        ev = self.prov.events_until(lambda e: any(x["kind"] == "REPLY" and x["method"] == "BYE"
                                                  for x in e), ci=ci)
        kinds = [(e["kind"], e.get("method"), e.get("cseq")) for e in ev
                 if e["kind"] in ("CHALLENGE", "RESULT", "RELAY")]
        self.assertEqual(kinds, [("RESULT", "INVITE", "20"), ("CHALLENGE", "INVITE", "20"),
                                 ("RESULT", "INVITE", "21"), ("RELAY", "INVITE", "21"),
                                 ("RELAY", "ACK", "21"),
                                 ("RESULT", "BYE", "22"), ("CHALLENGE", "BYE", "22"),
                                 ("RESULT", "BYE", "23"), ("RELAY", "BYE", "23")], ev)
        relay = [e for e in ev if e["kind"] == "RELAY" and e["method"] == "INVITE"][0]
        self.assertEqual(relay["du"], f"sip:{FAR_HOST}:{self.far_port}")
        self.assertEqual(relay["ru"], f"sip:{CALLED}@{self.prov.host}:{self.prov.port}")
        log = self.prov.auth_log()
        offered = [(o.method, o.cseq, o.username, o.realm) for o in log.offered if o.callid == ci]
        self.assertEqual(offered, [("INVITE", "21", number, REALM_A), ("BYE", "23", number, REALM_A)])
        self.assertEqual([(r.method, r.rc) for r in log.results if r.callid == ci],
                         [("INVITE", kam.AUTH_NO_CREDENTIALS), ("INVITE", kam.AUTH_OK),
                          ("BYE", kam.AUTH_NO_CREDENTIALS), ("BYE", kam.AUTH_OK)])
        # Every reply the provider relayed back is logged, the far end's 200s among them.
        codes = sorted((e["method"], e["code"]) for e in ev if e["kind"] == "REPLY")
        self.assertIn(("INVITE", "200"), codes)
        self.assertIn(("BYE", "200"), codes)

    def test_wrong_password_is_403_and_relayed_nowhere(self):
        number, _ = self.USERS[1]
        user = self.user_call(number, "not-the-password", base_cseq=5)
        # The 403 may come twice (SIPp retransmits the INVITE it did not expect it for):
        # received() shows each distinct message once.
        self.assertEqual([m.code for m in user.received("INVITE")], [407, 403], user.flow())
        ci = user.sent("INVITE")[0].header("Call-ID")
        self.assertEqual(self.prov.events("RELAY", ci=ci), [])
        self.assertEqual([r.rc for r in self.prov.auth_log().results if r.callid == ci],
                         [kam.AUTH_NO_CREDENTIALS, kam.AUTH_INVALID_PASSWORD])

    def test_call_from_the_far_end_goes_to_the_contact(self):
        number, password = self.USERS[2]
        # The Contact stands in for regfront: a SIPp UAS on loopback.
        callee = sipp.Sipp("core_uas.xml", ("127.0.0.1", 0), self.workdir, name="callee",
                           timeout=15)
        self.addCleanup(callee.stop)
        callee.start().wait_listening()
        contact = f"sip:{number}@127.0.0.1:{callee.address[1]}"
        register(self.prov, number, password, contact)
        caller = sipp.run("far_uac.xml", (FAR_HOST, 0), self.workdir, remote=self.prov.address,
                          service=number, keys={"caller": FAR_CALLER}, base_cseq=300,
                          duration_ms=50, timeout=15, name="far-caller")
        got = callee.wait()
        if not (caller.ok and got.ok):
            self.fail_with("the call from the far end failed", caller, got)
        (invite,) = got.received("INVITE", responses=False)
        self.assertEqual(invite.request_uri, contact)
        self.assertEqual(invite.cseq, (300, "INVITE"))
        self.assertIn(f"{self.prov.host}:{self.prov.port}", invite.header("Record-Route") or "")
        self.assertEqual(got.received("BYE")[0].cseq, (301, "BYE"))
        ci = invite.header("Call-ID")
        (lookup,) = self.prov.events("LOOKUP", ci=ci)
        self.assertEqual(lookup["contact"], contact)
        # Nothing from the far end is challenged (its From is registered nowhere here).
        self.assertEqual(self.prov.events("CHALLENGE", ci=ci), [])

    def test_cancel_from_the_far_end(self):
        number, password = self.USERS[3]
        callee = sipp.Sipp("uas_cancel.xml", ("127.0.0.1", 0), self.workdir, name="ringing",
                           timeout=15)
        self.addCleanup(callee.stop)
        callee.start().wait_listening()
        register(self.prov, number, password, f"sip:{number}@127.0.0.1:{callee.address[1]}")
        caller = sipp.run("uac_cancel.xml", (FAR_HOST, 0), self.workdir,
                          remote=self.prov.address, service=number,
                          keys={"caller": FAR_CALLER}, base_cseq=70, timeout=15, name="canceller")
        got = callee.wait()
        if not (caller.ok and got.ok):
            self.fail_with("CANCEL through the provider failed", caller, got)
        self.assertEqual([m.method for m in got.received(responses=False)],
                         ["INVITE", "CANCEL", "ACK"])
        self.assertIn((487, (70, "INVITE")), [(m.code, m.cseq) for m in caller.received()])


class ProviderNoInDialogChallengeTest(ProviderCase):
    NAME = "PB"
    ROLE = {"challenge_in_dialog": False}

    def test_bye_is_not_challenged(self):
        number, password = self.USERS[0]
        register(self.prov, number, password, f"sip:{number}@127.0.0.1:9")
        far = self.far_end()
        user = self.user_call(number, password, base_cseq=60)
        got = far.wait()
        if not (user.ok and got.ok):
            self.fail_with("the call through the provider failed", user, got)
        self.assertEqual([m.code for m in user.received("BYE")], [200], user.flow())
        self.assertEqual(got.received("BYE")[0].cseq, (62, "BYE"))
        ci = user.sent("INVITE")[0].header("Call-ID")
        self.assertEqual([e["method"] for e in self.prov.events("CHALLENGE", ci=ci)], ["INVITE"])


class ProviderRejectsTest(ProviderCase):
    NAME = "PC"
    ROLE = {"reject_invites": True, "retry_after": 17}

    def test_every_invite_is_503_with_retry_after(self):
        far = self.far_end("far_uas.xml")
        res = sipp.run("uac_503.xml", ("127.0.0.1", 0), self.workdir, remote=self.prov.address,
                       service=CALLED, keys={"caller": self.USERS[0][0]}, timeout=10,
                       name="rejected")
        self.assertTrue(res.ok, res.describe())
        (reply,) = [m for m in res.received("INVITE") if m.code >= 200]
        self.assertEqual((reply.code, reply.header("Retry-After")), (503, "17"))
        ci = res.sent("INVITE")[0].header("Call-ID")
        self.assertEqual(len(self.prov.events("REJECT", ci=ci)), 1)
        self.assertEqual(self.prov.events("RELAY", ci=ci), [])
        self.assertEqual(far.stop().messages, [], "nothing may reach the far end")

    def test_back_in_service_at_run_time(self):
        number, password = self.USERS[0]
        self.prov.set_reject_invites(False)
        self.addCleanup(self.prov.set_reject_invites, True)
        far = self.far_end()
        user = self.user_call(number, password, base_cseq=90)
        got = far.wait()
        if not (user.ok and got.ok):
            self.fail_with("the call after set_reject_invites(False) failed", user, got)
        self.prov.set_reject_invites(True)
        res = sipp.run("uac_503.xml", ("127.0.0.1", 0), self.workdir, remote=self.prov.address,
                       service=CALLED, keys={"caller": number}, timeout=10, name="rejected-again")
        self.assertTrue(res.ok, res.describe())


class ProviderPingsTest(ProviderCase):
    NAME = "PD"
    ROLE = {"ping_interval": 1}

    def test_options_to_registered_contacts_and_their_replies(self):
        number, password = self.USERS[0]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        self.addCleanup(sock.close)
        sock.settimeout(0.2)
        contact = f"sip:{number}@127.0.0.1:{sock.getsockname()[1]}"
        received = []
        stop = threading.Event()

        def answer():  # a Contact that answers OPTIONS 200 with an Allow header
            while not stop.is_set():
                try:
                    data, src = sock.recvfrom(65535)
                except (socket.timeout, OSError):
                    continue
                text = data.decode(errors="replace")
                received.append(text)
                if not text.startswith("OPTIONS "):
                    continue
                head = text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
                keep = [h for h in head if h.split(":", 1)[0].strip().lower()
                        in ("via", "from", "to", "call-id", "cseq")]
                reply = ("SIP/2.0 200 OK\r\n" + "\r\n".join(keep)
                         + "\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n"
                         "Content-Length: 0\r\n\r\n")
                sock.sendto(reply.encode(), src)

        t = threading.Thread(target=answer, daemon=True)
        t.start()
        self.addCleanup(t.join, 2)
        self.addCleanup(stop.set)
        register(self.prov, number, password, contact)
        replies = self.prov.events_until(lambda e: len(e) >= 1, "REPLY", method="OPTIONS",
                                         timeout=10)
        self.assertTrue(replies, f"no OPTIONS reply logged; the contact got {received}\n"
                                 f"{self.prov.log_tail()}")
        self.assertEqual(replies[0]["code"], "200")
        self.assertEqual(replies[0]["allow"], "INVITE, ACK, BYE, CANCEL, OPTIONS")
        options = [r for r in received if r.startswith("OPTIONS ")]
        self.assertTrue(options[0].startswith(f"OPTIONS {contact} SIP/2.0"), options[0])
        self.assertIn(f"sip:pinger@{REALM_A}", options[0])


if __name__ == "__main__":
    # Never skip: CI installs both (deploy/install-deps.sh); without them this run must fail.
    missing = [p for p in (kam.KAMAILIO_BIN, kam.KAMCMD_BIN, sipp.SIPP_BIN)
               if not os.access(p, os.X_OK)]
    if missing:
        print(f"FAIL: not installed: {missing} (run deploy/install-deps.sh)", file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)
