#!/usr/bin/env python3
"""regfront end-to-end: the call relay between Kamailio providers and a SIPp SBC core.

    python3 tests/e2e/test_calls.py --bin-dir BUILD/bin [unittest args]

Two providers, each a Kamailio registrar and proxy (kamailio.ProviderRole) with its own realm
and its own far end (a SIPp UAS or UAC on 127.0.0.3):
  A  realm-a.e2e  user 4085550100 / secretA   challenges in-dialog requests of its users too
  B  realm-b.e2e  user acct-b     / secretB   challenges INVITEs only; pings contacts (OPTIONS)
regfrontd (socket backend, 127.0.0.1) registers 4085550100 at both: the dial peer's
authentication answers realm-a.e2e, the sip-ua credentials realm-b.e2e (F4, F7). The SBC core
is SIPp on 127.0.0.1 (trusted list); calls to the providers go through dial peer 100
(`session target registrar`), calls from them through dial peer 200 (`session target
ipv4:127.0.0.1:PCORE`).

What the relay must do (DESIGN.md "Calls (the relay)"), asserted here:
  outbound  the core's INVITE goes to registrar 1 (index order, a live binding), Request-URI
            host the registrar's; A's 407 is answered with realm-a's credential only, the
            authenticated INVITE carries the core's CSeq + 1; the far end answers; the core gets
            180/200 with its own CSeq; ACK and BYE flow; A challenges the BYE too, regfront
            answers it and the far end sees a BYE above its INVITE (no 500); the core's BYE gets
            its 200 with the core's CSeq. A proxy keeps the Call-ID.
  failover  A answers 503: the call goes to B (acct-b / realm-b.e2e) and completes (run late:
            the 503's Retry-After keeps A out of the hunt for its 1 s).
  inbound   the far end calls 4085550100 at A, A's location lookup sends it to regfront,
            regfront to the core; 200, ACK, BYE.
  CANCEL    the core gives up after 180: the CANCEL reaches the far end on the authenticated
            INVITE's transaction and the core gets its 487.
  OPTIONS   B's keepalives to regfront's Contact are answered 200 with an Allow header.
  trust     a call from 127.0.0.2 (neither a registrar, a session target nor trusted) gets 403
            and nothing reaches the core or a provider.
  show      `show sip-ua calls` (text and `| json`) lists the call while it is up: numbers,
            direction, dial peer, registrar, state.
  F7        no provider is ever offered a (username, realm) other than its own, REGISTER or call.
DpdkCalls runs outbound and inbound with `regfrontd --io dpdk` on net_af_packet over a veth pair
into a namespace that holds both providers and the SIPps (needs root).

The suite fails (never skips) until the relay exists. REGFRONT_E2E_KEEP=1 keeps every
directory (regfrontd's config and log, Kamailio's logs, SIPp's message traces).
"""

import collections
import json
import os
import re
import subprocess
import sys
import time
import unittest
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kamailio as kam  # noqa: E402
import netrig  # noqa: E402
import regfrontd as rfd  # noqa: E402
import sipp  # noqa: E402

BIN_DIR: Optional[str] = None  # --bin-dir

NUMBER = "4085550100"                 # the endpoint: dial peer 1's number
CALLED = "2125550199"                 # a far-end number, registered nowhere
FAR_CALLER = "2125550123"             # who calls NUMBER from the far end
REALM_A, USER_A, PASS_A = "realm-a.e2e", NUMBER, "secretA"
REALM_B, USER_B, PASS_B = "realm-b.e2e", "acct-b", "secretB"
FAR_HOST = "127.0.0.3"                # the far ends (loopback is a /8)
UNTRUSTED_HOST = "127.0.0.2"
EXPIRES = 300
CORE_CSEQ = 100                       # the core's first CSeq: distinct from everyone else's
FAR_CSEQ = 300
PING_INTERVAL = 2                     # B's OPTIONS keepalives


def log(msg: str) -> None:
    print(f"[e2e-calls {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def call_config(registrars: Tuple[str, str], core: str, trusted: str, prelude: str = "") -> str:
    """The startup-config of the call tests (the IOS commands of the relay, as specified)."""
    return f"""{prelude}dial-peer voice 1 pots
 destination-pattern {NUMBER}
 authentication username {USER_A} password 0 {PASS_A} realm {REALM_A}
sip-ua
 registrar 1 {registrars[0]} expires {EXPIRES}
 registrar 2 {registrars[1]} expires {EXPIRES}
 credentials number {NUMBER} username {USER_B} password 0 {PASS_B} realm {REALM_B}
dial-peer voice 100 voip
 description calls from the SBC core to the providers
 destination-pattern .T
 session target registrar
dial-peer voice 200 voip
 description calls from the providers to the SBC core
 incoming called-number 408555....
 session target {core}
voice service voip
 ip address trusted list
  ipv4 {trusted} 255.255.255.255
"""


_URI_RE = re.compile(r"^sips?:(?:(?P<user>[^@;>]+)@)?(?P<host>\[[^\]]+\]|[^:;>]+)"
                     r"(?::(?P<port>\d+))?")


def uri_parts(uri: str) -> Tuple[str, str, Optional[int]]:
    m = _URI_RE.match(uri.strip("<>"))
    if not m:
        raise AssertionError(f"unparsable URI {uri!r}")
    port = m.group("port")
    return m.group("user") or "", m.group("host").strip("[]"), int(port) if port else None


def flatten(node, prefix: str = "") -> Dict[str, object]:
    """{dotted.lowercase.key: scalar} of a JSON object (lists indexed)."""
    out: Dict[str, object] = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{str(k).lower()}."))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix.rstrip(".")] = node
    return out


def call_objects(doc) -> List[Dict[str, object]]:
    """The objects of a `show sip-ua calls | json` document that describe one call: the
    innermost dicts that mention NUMBER among their values (the shape may evolve)."""
    found: List[Dict[str, object]] = []

    def walk(node) -> bool:
        hit = False
        if isinstance(node, dict):
            inner = [walk(v) for v in node.values()]
            if any(inner):
                return True
            hit = any(str(v) == NUMBER or str(v).endswith(f":{NUMBER}") or f"{NUMBER}@" in str(v)
                      for v in flatten(node).values())
            if hit:
                found.append(flatten(node))
        elif isinstance(node, list):
            hit = any([walk(v) for v in node])
        return hit

    walk(doc)
    return found


class CallSuite(unittest.TestCase):
    """What the socket and DPDK classes share: providers, regfrontd, SIPp helpers, checks.

    A subclass's setUpClass sets: cls.a, cls.b (providers), cls.rf (regfrontd), cls.rf_addr
    (regfront's SIP address), cls.core_addr, cls.far_a / cls.far_b (far-end addresses),
    cls.local (address the core calls from), cls.netns (namespace of the SIPps, or None)."""

    netns: Optional[str] = None
    workdir: str = ""

    # -- set-up helpers ----------------------------------------------------------------------

    @classmethod
    def wait_registered(cls, timeout: float = 30.0) -> None:
        def done():
            if not cls.rf.alive():
                raise AssertionError(f"regfrontd died ({cls.rf.proc.returncode})\n"
                                     f"{cls.rf.log_tail()}")
            return all(reg.ul_dump().get(NUMBER) for reg in (cls.a, cls.b))
        try:
            kam.wait_until(done, timeout, 0.3, f"{NUMBER} registered at A and B")
        except kam.HarnessError as exc:
            raise AssertionError(f"{exc}\nA: {cls.a.ul_dump()}\nB: {cls.b.ul_dump()}\n"
                                 f"{cls.rf.log_tail()}") from None
        log(f"{NUMBER} registered at A and B")

    # -- SIPp --------------------------------------------------------------------------------

    def play(self, scenario: str, local: Tuple[str, int], name: str, timeout: float = 12,
             **kw) -> sipp.Sipp:
        s = sipp.Sipp(scenario, local, self.workdir, name=name, timeout=timeout,
                      netns=self.netns, **kw)
        self.addCleanup(s.stop)
        return s

    def uas(self, scenario: str, local: Tuple[str, int], name: str) -> sipp.Sipp:
        return self.play(scenario, local, name).start().wait_listening()

    def core_call(self, scenario: str = "core_uac.xml", called: str = CALLED,
                  local: Optional[Tuple[str, int]] = None, duration_ms: int = 300,
                  name: str = "core", timeout: float = 12) -> sipp.Sipp:
        """The core calls `called` through regfront (started, not waited for)."""
        return self.play(scenario, local or (self.local_host, self.next_port()), name,
                         timeout=timeout, remote=self.rf_addr, service=called,
                         keys={"caller": NUMBER}, base_cseq=CORE_CSEQ,
                         duration_ms=duration_ms).start()

    _port_seq = 0

    def next_port(self) -> int:
        """A port for a SIPp UAC: allocated on loopback, counted up inside a namespace."""
        if self.netns is None:
            return 0
        CallSuite._port_seq += 1
        return 5200 + CallSuite._port_seq

    # -- diagnostics -------------------------------------------------------------------------

    def diagnostics(self, *runs: sipp.SippResult) -> str:
        parts = [r.describe() for r in runs]
        parts.append(f"--- regfrontd log tail ({self.rf.log_path}):\n{self.rf.log_tail(40)}")
        for what in ("show sip-ua calls", "show sip-ua statistics"):
            j = self.rf.cli_json(what)
            if j is not None:
                parts.append(f"--- {what} | json\n{json.dumps(j)[:2000]}")
        for reg in (self.a, self.b):
            parts.append(f"--- {reg.name} events (last 25):\n" + "\n".join(
                f"{e['kind']} {e.get('method', '')} {e.get('code', '')} cseq={e.get('cseq')} "
                f"ru={e.get('ru', '')} src={e.get('src')}" for e in reg.events()[-25:]))
        return "\n".join(parts)

    def check(self, cond: bool, msg: str, *runs: sipp.SippResult) -> None:
        if not cond:
            self.fail(f"{msg}\n{self.diagnostics(*runs)}")

    # -- assertions shared by the scenarios --------------------------------------------------

    def assert_realm_scoping(self) -> None:
        """F7: every credential either provider was ever offered, for REGISTER or a call, is
        its own (username, realm)."""
        for reg, allowed in ((self.a, (USER_A, REALM_A)), (self.b, (USER_B, REALM_B))):
            pairs = collections.Counter((o.username, o.realm) for o in reg.auth_log().offered)
            wrong = {p: n for p, n in pairs.items() if p != allowed}
            self.assertEqual(wrong, {}, f"{reg.name} (realm {reg.realm}) was offered credentials "
                                        f"it must never see: {dict(pairs)}")

    def assert_core_saw_its_own_cseq(self, core: sipp.SippResult) -> None:
        """Every response the core got carries the CSeq of a request the core sent (the
        relay's offset never leaks towards the core), and no challenge reaches it."""
        sent = {m.cseq for m in core.sent(responses=False)}
        for m in core.received(responses=True):
            self.assertIn(m.cseq, sent, f"the core got a response for a CSeq it never sent: "
                                        f"{m.summary()}\n{core.flow()}")
            self.assertNotIn(m.code, (401, 407), f"a challenge reached the core: {m.summary()}")

    def provider_call(self, reg: kam.KamailioRegistrar, ci: str, until_method: str = "BYE"
                      ) -> List[Dict[str, str]]:
        """The provider's events for Call-ID `ci`, once the reply to `until_method` is in."""
        return reg.events_until(lambda ev: any(e["kind"] == "REPLY" and e["method"] == until_method
                                               and int(e.get("code", "0") or 0) >= 200
                                               for e in ev), ci=ci, timeout=5)

    def assert_outbound_through(self, reg: kam.KamailioRegistrar, other: kam.KamailioRegistrar,
                                user: str, realm: str, core: sipp.SippResult,
                                far: sipp.SippResult, challenged_bye: bool,
                                first_cseq_at_reg: int = CORE_CSEQ,
                                other_untouched: bool = True) -> None:
        """The full outbound contract for a call that completed through `reg`."""
        self.check(core.ok and far.ok, f"the call through {reg.name} did not complete "
                                       f"(core exit {core.rc}, far end exit {far.rc})", core, far)
        (core_invite,) = core.sent("INVITE", responses=False)
        (far_invite,) = far.received("INVITE", responses=False)
        ci = far_invite.header("Call-ID")
        self.assertEqual(ci, core_invite.header("Call-ID"), "a proxy keeps the Call-ID")
        ev = self.provider_call(reg, ci)
        reqs = [e for e in ev if e["kind"] == "REQ" and e["method"] == "INVITE"]
        self.check(len(reqs) >= 2, f"{reg.name} should see the INVITE twice (without, then "
                                   f"with credentials): {reqs}", core, far)
        # Request-URI: the called number at the registrar's domain.
        for e in reqs:
            user_part, host, port = uri_parts(e["ru"])
            self.assertEqual((user_part, host), (CALLED, reg.host), e["ru"])
            self.assertIn(port, (None, reg.port), e["ru"])
            self.assertEqual(e["from"], NUMBER)
        # 407 for the INVITE at the core's CSeq, answered once, with CSeq + 1.
        # (Sets: a retransmission of the first INVITE is challenged again, statelessly.)
        challenges = {int(e["cseq"]) for e in ev if e["kind"] == "CHALLENGE"
                      and e["method"] == "INVITE"}
        self.assertEqual(challenges, {first_cseq_at_reg}, f"{reg.name} challenges: {ev}")
        ok = {(int(e["cseq"]), e["au"], e["ar"]) for e in ev if e["kind"] == "RESULT"
              and e["method"] == "INVITE" and e["rc"] == str(kam.AUTH_OK)}
        self.assertEqual(ok, {(first_cseq_at_reg + 1, user, realm)},
                         "the authenticated INVITE carries CSeq + 1 and the realm's credential")
        self.assertEqual(far_invite.cseq, (first_cseq_at_reg + 1, "INVITE"))
        self.assertEqual(far_invite.header("Content-Type"), "application/sdp",
                         "the SDP passes untouched")
        self.assertIn("m=audio", far_invite.body)
        # The far end's BYE is above its INVITE (its own check passed: far.ok) and, when the
        # provider challenged the BYE, carries the answered challenge's +1 as well.
        (far_bye,) = far.received("BYE", responses=False)
        self.assertEqual([m.code for m in far.sent("BYE", responses=True)], [200],
                         "the far end accepted the BYE (500: its CSeq was not above the INVITE's)")
        expect_bye = first_cseq_at_reg + 2 + (1 if challenged_bye else 0)
        self.assertEqual(far_bye.cseq, (expect_bye, "BYE"), "dialog offset towards the provider")
        bye_challenges = {e["cseq"] for e in ev if e["kind"] == "CHALLENGE"
                          and e["method"] == "BYE"}
        self.assertEqual(len(bye_challenges), 1 if challenged_bye else 0, ev)
        if challenged_bye:
            bye_ok = {(e["au"], e["ar"]) for e in ev if e["kind"] == "RESULT"
                      and e["method"] == "BYE" and e["rc"] == str(kam.AUTH_OK)}
            self.assertEqual(bye_ok, {(user, realm)})
        # The core: 180 and 200 for its INVITE, 200 for its BYE, all with its own CSeq.
        self.assertEqual(sorted({(m.code, m.cseq) for m in core.received() if m.code >= 180}),
                         [(180, (CORE_CSEQ, "INVITE")), (200, (CORE_CSEQ, "INVITE")),
                          (200, (CORE_CSEQ + 1, "BYE"))], core.flow())
        self.assert_core_saw_its_own_cseq(core)
        # The ACK reached the far end (through the provider).
        self.assertEqual(len(far.received("ACK")), 1, far.flow())
        if other_untouched:
            self.assertEqual(other.events("REQ", ci=ci), [], f"{other.name} got part of the call")
        else:  # it answered the INVITE (503) and saw nothing after
            self.assertEqual({e["method"] for e in other.events("REQ", ci=ci)} - {"ACK"},
                             {"INVITE"}, f"{other.name} got more of the call than its INVITE")
        self.assert_realm_scoping()


class SocketCalls(CallSuite):
    """regfrontd on the socket backend, everything on loopback."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = kam.make_workdir("e2e-calls-")
        cls.local_host = "127.0.0.1"
        cls.far_a = (FAR_HOST, kam.allocate_udp_ports(1, host=FAR_HOST)[0])
        cls.far_b = (FAR_HOST, kam.allocate_udp_ports(1, host=FAR_HOST)[0])
        cls.core_addr = ("127.0.0.1", kam.allocate_udp_ports(1)[0])
        cls.a = kam.KamailioRegistrar(
            "A", REALM_A, [(USER_A, PASS_A)], children=2, shm_mb=32,
            provider=kam.ProviderRole(far_end=cls.far_a, challenge_in_dialog=True,
                                      retry_after=1))
        cls.b = kam.KamailioRegistrar(
            "B", REALM_B, [(USER_B, PASS_B)], children=2, shm_mb=32,
            provider=kam.ProviderRole(far_end=cls.far_b, challenge_in_dialog=False,
                                      ping_interval=PING_INTERVAL))
        kam.start_all([cls.a, cls.b])
        config = call_config((f"ipv4:127.0.0.1:{cls.a.port}", f"ipv4:127.0.0.1:{cls.b.port}"),
                             f"ipv4:{cls.core_addr[0]}:{cls.core_addr[1]}", "127.0.0.1")
        cls.rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=2, name="rf-calls")
        try:
            cls.rf.check_config()
            cls.rf.start(log)
            cls.rf_addr = ("127.0.0.1", cls.rf.port)
            cls.wait_registered()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "rf", None) is not None:
            cls.rf.kill()
        kam.stop_all([cls.a, cls.b])

    def setUp(self):
        self.a.set_reject_invites(False)
        self.b.set_reject_invites(False)

    def test_a_outbound_through_registrar_1(self):
        far = self.uas("far_uas_cseq.xml", self.far_a, "far-a")
        core = self.core_call().wait()
        got = far.wait()
        self.assert_outbound_through(self.a, self.b, USER_A, REALM_A, core, got,
                                     challenged_bye=True)

    def test_x_failover_to_registrar_2_on_503(self):
        # Late in the run: a 503's Retry-After keeps A out of the hunt for a while (1 s here),
        # and the tests before this one expect their calls to go through A.
        self.a.set_reject_invites(True)
        far_a = self.uas("far_uas.xml", self.far_a, "far-a")  # must get nothing
        far = self.uas("far_uas_cseq.xml", self.far_b, "far-b")
        core = self.core_call().wait()
        got = far.wait()
        (core_invite,) = core.sent("INVITE", responses=False)
        ci = core_invite.header("Call-ID")
        rejected = self.a.events("REJECT", ci=ci)
        self.check(len(rejected) == 1, f"A should have answered the INVITE 503 once: "
                                       f"{rejected}", core, got)
        self.assertEqual(int(rejected[0]["cseq"]), CORE_CSEQ)
        self.assertEqual(far_a.stop().messages, [], "nothing may reach A's far end")
        self.assert_outbound_through(self.b, self.a, USER_B, REALM_B, core, got,
                                     challenged_bye=False, other_untouched=False)

    def test_c_inbound_to_the_core(self):
        core = self.uas("core_uas.xml", self.core_addr, "core")
        far = self.play("far_uac.xml", (FAR_HOST, 0), "far-caller", remote=self.a.address,
                        service=NUMBER, keys={"caller": FAR_CALLER}, base_cseq=FAR_CSEQ,
                        duration_ms=300).start().wait()
        got = core.wait()
        self.assert_inbound(self.a, far, got)

    def assert_inbound(self, reg: kam.KamailioRegistrar, far: sipp.SippResult,
                       core: sipp.SippResult) -> None:
        self.check(far.ok and core.ok, f"the call from the far end did not complete (far end "
                                       f"exit {far.rc}, core exit {core.rc})", far, core)
        (invite,) = core.received("INVITE", responses=False)
        ci = invite.header("Call-ID")
        self.assertEqual(ci, far.sent("INVITE")[0].header("Call-ID"), "a proxy keeps the Call-ID")
        (lookup,) = reg.events("LOOKUP", ci=ci)
        user_part, host, port = uri_parts(lookup["contact"])
        self.assertEqual((user_part, host, port),
                         (NUMBER, self.rf_addr[0], self.rf_addr[1]),
                         "the provider sends the call to regfront's Contact")
        self.assertEqual(uri_parts(invite.request_uri)[0], NUMBER, invite.first_line)
        self.assertEqual(uri_parts((invite.header("From") or "").split(";")[0])[0], FAR_CALLER)
        self.assertEqual(invite.cseq, (FAR_CSEQ, "INVITE"))
        self.assertIn("m=audio", invite.body, "the SDP passes untouched")
        self.assertEqual([m.cseq for m in core.received(responses=False)],
                         [(FAR_CSEQ, "INVITE"), (FAR_CSEQ, "ACK"), (FAR_CSEQ + 1, "BYE")])
        self.assertEqual(sorted({(m.code, m.cseq) for m in far.received() if m.code >= 180}),
                         [(180, (FAR_CSEQ, "INVITE")), (200, (FAR_CSEQ, "INVITE")),
                          (200, (FAR_CSEQ + 1, "BYE"))], far.flow())
        self.assert_realm_scoping()

    def test_d_cancel_after_the_challenge(self):
        far = self.uas("uas_cancel.xml", self.far_a, "far-ringing")
        core = self.core_call("uac_cancel.xml", name="core-cancel").wait()
        got = far.wait()
        self.check(core.ok and got.ok, "CANCEL through regfront and A failed", core, got)
        self.assertEqual([m.method for m in got.received(responses=False)],
                         ["INVITE", "CANCEL", "ACK"])
        invite, cancel = got.received("INVITE")[0], got.received("CANCEL")[0]
        self.assertEqual(invite.cseq, (CORE_CSEQ + 1, "INVITE"))
        self.assertEqual(cancel.cseq, (CORE_CSEQ + 1, "CANCEL"),
                         "the CANCEL is for the INVITE that was authenticated")
        self.assertIn((487, (CORE_CSEQ, "INVITE")), [(m.code, m.cseq) for m in core.received()])
        self.assert_core_saw_its_own_cseq(core)
        self.assert_realm_scoping()

    def test_e_options_from_a_provider_answered_with_allow(self):
        replies = self.b.events_until(lambda ev: any(e["code"] == "200" for e in ev), "REPLY",
                                      method="OPTIONS", timeout=PING_INTERVAL * 3 + 2)
        pings = self.b.events("REPLY", method="OPTIONS")
        self.check(any(e["code"] == "200" for e in replies),
                   f"B's OPTIONS to regfront's Contact got no 200: {pings}")
        ok = [e for e in replies if e["code"] == "200"][-1]
        allow = {m.strip().upper() for m in ok.get("allow", "").split(",")}
        for method in ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"):
            self.assertIn(method, allow, f"Allow of regfront's 200 to OPTIONS: {ok.get('allow')}")
        self.assertEqual(ok["src"].rsplit(":", 1)[0], self.rf_addr[0])

    def test_f_untrusted_source_is_refused(self):
        core = self.uas("core_uas.xml", self.core_addr, "core-untouched")
        res = self.play("uac_403.xml", (UNTRUSTED_HOST, 0), "untrusted", remote=self.rf_addr,
                        service=NUMBER, keys={"caller": FAR_CALLER}).start().wait()
        self.check(res.ok, f"a call from {UNTRUSTED_HOST} should get 403", res)
        self.assertEqual(sorted({m.code for m in res.received()} - {100}), [403], res.flow())
        self.assertEqual(core.stop().messages, [], "nothing may reach the core")
        ci = res.sent("INVITE")[0].header("Call-ID")
        for reg in (self.a, self.b):
            self.assertEqual(reg.events("REQ", ci=ci), [], f"{reg.name} got the refused call")

    def test_g_show_calls_while_up(self):
        far = self.uas("far_uas_cseq.xml", self.far_a, "far-a")
        uac = self.core_call(duration_ms=4000, name="core-long", timeout=25)
        found: Dict[str, object] = {}

        established = ("active", "connect", "establish", "confirm", "answer", "up")

        def up():  # listed, and past ringing (the state names may evolve)
            doc = self.rf.cli_json("show sip-ua calls")
            for call in call_objects(doc or {}):
                if any(str(v) == CALLED or f"{CALLED}@" in str(v) for v in call.values()):
                    found.clear()
                    found.update(call)
                    return any(w in str(v).lower() for k, v in call.items() if "state" in k
                               for w in established)
            return False

        try:
            kam.wait_until(up, 3.5, 0.2, "the call in `show sip-ua calls | json`")
        except kam.HarnessError as exc:
            uac.stop()
            self.fail(f"{exc}; last document: {json.dumps(self.rf.cli_json('show sip-ua calls'))}"
                      f"\n{self.diagnostics(uac.stop(), far.stop())}")
        text = subprocess.run([self.rf.cli, "--socket", self.rf.control_socket, "-c",
                               "show sip-ua calls"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=10).stdout
        core, got = uac.wait(), far.wait()

        def field(pattern: str):
            for k, v in found.items():
                if re.search(pattern, k):
                    return v
            self.fail(f"no field matching {pattern!r} in the call: {found}")

        self.assertTrue(any(str(v) == NUMBER or f"{NUMBER}@" in str(v) for v in found.values()))
        self.assertIn("out", str(field(r"direction")).lower())
        self.assertIn("100", str(field(r"dial.?peer|peer")))
        registrar = str(field(r"registrar"))
        self.assertTrue(registrar == "1" or f"127.0.0.1:{self.a.port}" in registrar, registrar)
        state = str(field(r"state")).lower()
        self.assertTrue(any(s in state for s in established), state)
        # One challenge (A's 407 to the INVITE) answered so far, if the row says so.
        offsets = [v for k, v in found.items() if "offset" in k]
        if offsets:
            self.assertEqual(str(offsets[0]), "1", found)
        for needle in (NUMBER, CALLED):
            self.assertIn(needle, text, f"`show sip-ua calls`:\n{text}")
        self.assertTrue(core.ok and got.ok, self.diagnostics(core, got))

        def gone():
            doc = self.rf.cli_json("show sip-ua calls")
            return doc is not None and not any(
                any(str(v) == CALLED or f"{CALLED}@" in str(v) for v in c.values())
                for c in call_objects(doc))
        kam.wait_until(gone, 5, 0.2, "the call to leave `show sip-ua calls` after its BYE")

    def test_z_realm_scoping_over_the_whole_run(self):
        self.assert_realm_scoping()
        # Both providers did see credentials: the F7 check above is not vacuous.
        self.assertTrue(self.a.auth_log().offered and self.b.auth_log().offered)


# --------------------------------------------------------------------------------------------
# DPDK: the same relay behind `regfrontd --io dpdk` (net_af_packet on a veth pair)
# --------------------------------------------------------------------------------------------

class DpdkCalls(CallSuite):
    """[dut ns] regfrontd --io dpdk, af_packet on r<tag>d0 ═ veth ═ r<tag>p0 [peer ns]
    dpdk0 10.81.0.1/24                                             10.81.0.254/24 (+ below)
    In the peer namespace: provider A 10.81.0.11, B 10.81.0.12, the far end 10.81.0.13, the
    core 10.81.0.14 (trusted list), each on port 5060."""

    DUT, A, B, FAR, CORE, PEER = ("10.81.0.1", "10.81.0.11", "10.81.0.12", "10.81.0.13",
                                  "10.81.0.14", "10.81.0.254")
    PORT = 5060

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("the DPDK call tests need root (namespaces, veth)")
        import test_dpdk  # noqa: E402 - EAL arguments as the DPDK suite builds them
        cls.workdir = kam.make_workdir("e2e-calls-dpdk-")
        cls.rig = netrig.NetRig()
        try:
            cls.dut = cls.rig.netns("dut")
            cls.peer = cls.rig.netns("peer")
            cls.netns = cls.peer
            cls.local_host = cls.CORE
            dut_if, peer_if = cls.rig.veth("d0", "p0", a_ns=cls.dut, b_ns=cls.peer)
            cls.rig.disable_ipv6(dut_if, ns=cls.dut)
            cls.rig.tx_checksum_off(peer_if, ns=cls.peer)  # af_packet sees finished checksums
            for a in (cls.PEER, cls.A, cls.B, cls.FAR, cls.CORE):
                cls.rig.addr(peer_if, f"{a}/24", ns=cls.peer)
            cls.far_a = (cls.FAR, cls.PORT)
            cls.far_b = (cls.FAR, cls.PORT + 1)
            cls.core_addr = (cls.CORE, cls.PORT)
            cls.a = kam.KamailioRegistrar(
                "A", REALM_A, [(USER_A, PASS_A)], host=cls.A, netns=cls.peer, children=2,
                provider=kam.ProviderRole(far_end=cls.far_a, challenge_in_dialog=True))
            cls.b = kam.KamailioRegistrar(
                "B", REALM_B, [(USER_B, PASS_B)], host=cls.B, netns=cls.peer, children=2,
                provider=kam.ProviderRole(far_end=cls.far_b, challenge_in_dialog=False))
            kam.start_all([cls.a, cls.b])
            prelude = (f"interface dpdk0\n ip address {cls.DUT} 255.255.255.0\n"
                       f"voice service voip\n sip\n  bind control source-interface dpdk0\n"
                       f"  listen-port non-secure {cls.PORT}\n")
            config = call_config((f"ipv4:{cls.A}:{cls.PORT}", f"ipv4:{cls.B}:{cls.PORT}"),
                                 f"ipv4:{cls.CORE}:{cls.PORT}", cls.CORE, prelude=prelude)
            eal = test_dpdk.eal_args([f"net_af_packet0,iface={dut_if},qpairs=1"], 1)
            cls.rf = rfd.DpdkRegfrontd(BIN_DIR, config, eal,
                                       lambda cmd: netrig.NetRig.wrap(cmd, cls.dut), workers=1,
                                       name="rf-calls-dpdk")
            cls.rf.check_config()
            cls.rf.start(log)
            cls.rf_addr = (cls.DUT, cls.PORT)
            cls.wait_registered()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "rf", None) is not None:
            cls.rf.kill()
        for reg in (getattr(cls, "a", None), getattr(cls, "b", None)):
            if reg is not None:
                reg.stop()
        cls.rig.close()

    test_a_outbound_through_registrar_1 = SocketCalls.test_a_outbound_through_registrar_1
    assert_inbound = SocketCalls.assert_inbound

    def test_c_inbound_to_the_core(self):
        core = self.uas("core_uas.xml", self.core_addr, "core")
        far = self.play("far_uac.xml", (self.FAR, self.PORT + 2), "far-caller",
                        remote=self.a.address, service=NUMBER, keys={"caller": FAR_CALLER},
                        base_cseq=FAR_CSEQ, duration_ms=300).start().wait()
        got = core.wait()
        self.assert_inbound(self.a, far, got)


def main() -> None:
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    if not sipp.have_sipp():
        print(f"FAIL: sipp not installed ({sipp.SIPP_BIN}): run deploy/install-deps.sh",
              file=sys.stderr)
        sys.exit(1)
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
