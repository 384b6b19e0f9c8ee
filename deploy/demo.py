#!/usr/bin/env python3
"""regfront demo: three local Kamailio providers, one regfrontd, bindings and calls coming up.

Starts three real Kamailio registrars on 127.0.0.1 (different realms: MD5 without qop, SHA-256
with qop=auth, and one whose minimum expiry forces a 423), each also its provider's proxy with
a far end of its own (a SIPp UAS on 127.0.0.3). Writes an IOS startup-config with N endpoints
(dial peers and `credentials`) and the two VoIP dial peers of the relay, runs regfrontd on the
kernel-socket backend and prints, every second, how many bindings each registrar holds — as
regfront sees it (`show sip-ua register registrars`) and as the registrars' own location tables
(ul.dump) see it.

Then an SBC core (SIPp on 127.0.0.1, the trusted list) places calls from registered numbers
through regfront: dial peer 100 (`session target registrar`) sends each to the first registrar
holding a live binding of the calling number, that provider challenges the INVITE (and later
the BYE) with 407, regfront answers with the realm's credential, the provider relays the call
to its far end. A far end also calls one registered number: its provider's location lookup
sends the INVITE to regfront, dial peer 200 to the core. Every second a line shows the calls as
regfront counts them (`show sip-ua calls | json`, `show sip-ua statistics | json`) next to what
the providers logged. Then a few lines of the show commands, SIGTERM, and the registrars
emptied by the unregistrations.

  python3 deploy/demo.py --bin-dir build/bin [--endpoints 3000] [--calls 20] [--keep]
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402
import sipp  # noqa: E402

CALL_RATE = 4                 # calls the core starts per second
CALL_SECONDS = 3              # how long each call lasts once answered
FAR_HOST = "127.0.0.3"        # the far ends (loopback is a /8)
FIRST_CALLED = 2125550100     # the core calls 2125550100, 2125550101, ... (registered nowhere)
FAR_CALLER = "3125550123"     # who calls a registered number from a far end
FIRST_NUMBER = 4085550000     # the endpoints: 4085550000, 4085550001, ...
POTS_TAG = 1000               # POTS dial peers are 1001.. (100 and 200 are the VoIP ones)


def startup_config(numbers, regs, core_addr) -> str:
    # Registrar A trusts dial-peer credentials (realm-a), B the `credentials` entries (realm-b),
    # C a sip-ua `authentication` entry (realm-c) and asks for a longer expiry than configured.
    half = len(numbers) // 2
    lines = ["! regfront demo startup-config", "hostname demo", "!"]
    for i, num in enumerate(numbers[:half]):
        lines += [f"dial-peer voice {POTS_TAG + 1 + i} pots", f" destination-pattern {num}",
                  " authentication username dp-user password 0 dp-secret realm realm-a.demo", "!"]
    lines.append("sip-ua")
    for num in numbers:
        lines.append(f" credentials number {num} username u{num} password 0 pw-{num} realm realm-b.demo")
    lines.append(" authentication username trunk password 0 trunk-secret realm realm-c.demo")
    # Endpoints from `credentials` have no dial peer: give them realm-a credentials too.
    lines.append(" authentication username dp-user password 0 dp-secret realm realm-a.demo")
    lines += [f" registrar {i + 1} ipv4:127.0.0.1:{r.port} expires 60" for i, r in enumerate(regs)]
    lines += [" registration rate 2000", "!",
              # The relay: calls from the core go to the registrars in index order (those that
              # hold a live binding of the calling number); calls to the endpoints go to the core.
              "dial-peer voice 100 voip",
              " description calls from the SBC core to the providers",
              " destination-pattern .T",
              " session target registrar",
              "dial-peer voice 200 voip",
              " description calls from the providers to the SBC core",
              " incoming called-number 408555....",
              f" session target ipv4:{core_addr[0]}:{core_addr[1]}",
              "voice service voip",
              " ip address trusted list",
              "  ipv4 127.0.0.1 255.255.255.255",
              "!", "end"]
    return "\n".join(lines) + "\n"


def cli(rf, *commands: str) -> str:
    """regfront-cli's output for `commands`, run in one session ("" if it failed)."""
    argv = [rf.cli, "--socket", rf.control_socket]
    for c in commands:
        argv += ["-c", c]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    return out.stdout if out.returncode == 0 else ""


# --------------------------------------------------------------------------------------------
# What the providers log about calls
# --------------------------------------------------------------------------------------------

_EVENT_RE = re.compile(kam.LOG_TAG + r" ([A-Z]+) (.*)$")
_FIELD_RE = re.compile(r"(\w+)=\[(.*?)\](?= \w+=\[|$)")


class ProviderLog:
    """The call lines (REGFRONT-E2E, see tests/e2e/kamailio.py) a provider logs from now on,
    read as they are written; each count is a set of Call-IDs, so that a retransmission
    challenged or relayed again counts once."""

    KINDS = ("invite_407", "invite_ok", "relayed", "far_200", "bye_407", "bye_ok", "lookup",
             "in_200")

    def __init__(self, reg: kam.KamailioRegistrar, far_end, regfront_port: int):
        self.reg = reg
        self.far_end = f"{far_end[0]}:{far_end[1]}"
        self.regfront = f"127.0.0.1:{regfront_port}"
        self.offset = os.path.getsize(reg.log_path)
        self.rest = b""
        self.calls = {k: set() for k in self.KINDS}
        self.offered = set()     # (username, realm) of the credentials offered for calls

    def poll(self) -> "ProviderLog":
        with open(self.reg.log_path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        *lines, self.rest = (self.rest + data).split(b"\n")
        for raw in lines:
            m = _EVENT_RE.search(raw.decode("utf-8", "replace"))
            if m:
                self._count(m.group(1), dict(_FIELD_RE.findall(m.group(2))))
        return self

    def _count(self, kind: str, f) -> None:
        method, ci = f.get("method"), f.get("ci", "")
        key = None
        if kind == "CRED" and method in ("INVITE", "BYE"):
            p = kam.parse_digest_params(f.get("hdr", ""))
            self.offered.add((p.get("username", ""), p.get("realm", "")))
        elif kind == "CHALLENGE" and method in ("INVITE", "BYE"):
            key = f"{method.lower()}_407"
        elif kind == "RESULT" and method in ("INVITE", "BYE") and f.get("rc") == str(kam.AUTH_OK):
            key = f"{method.lower()}_ok"
        elif kind == "RELAY" and method == "INVITE" and self.far_end in f.get("du", ""):
            key = "relayed"
        elif kind == "LOOKUP":
            key = "lookup"
        elif kind == "REPLY" and method == "INVITE" and f.get("code") == "200":
            key = {self.far_end: "far_200", self.regfront: "in_200"}.get(f.get("src"))
        if key:
            self.calls[key].add(ci)

    def n(self, kind: str) -> int:
        return len(self.calls[kind])


def total(logs, kind: str) -> int:
    return sum(p.n(kind) for p in logs)


# --------------------------------------------------------------------------------------------
# The calls part
# --------------------------------------------------------------------------------------------

class CallsDemo:
    """The SBC core is one SIPp per call (core_uac.xml takes its calling number from
    `-key caller`, one per process) and one SIPp UAS (core_uas.xml) for the inbound call; each
    provider's far end is a SIPp UAS that also checks the CSeq order of the BYE it gets."""

    def __init__(self, count, work, rf, regs, fars, core_addr, numbers):
        self.work, self.rf, self.regs, self.fars = work, rf, regs, fars
        self.core_addr, self.count = core_addr, count
        n = len(numbers)
        stride = max(1, n // count)
        # Callers spread over the endpoints: dial-peer ones and `credentials` ones alike.
        self.callers = [numbers[(i * stride) % n] for i in range(count)]
        # The inbound call goes to a registered number that dial peer 200 matches, through B.
        self.inbound_number = numbers[min(n, 10000) - 1]
        self.inbound_via = regs[1]
        self.budget = count / CALL_RATE + CALL_SECONDS + 25
        self.uacs = []
        self.far_uas = []
        self.core_uas = None
        self.far_uac = None
        self.logs = []
        self.busiest = (0, "")       # the most calls `show sip-ua calls` listed, and its text

    def start_answering(self) -> None:
        """The far ends and the core's UAS, listening before any call."""
        for reg, far in zip(self.regs, self.fars):
            self.far_uas.append(sipp.Sipp("far_uas_cseq.xml", far, self.work, name=f"far-{reg.name}",
                                          calls=self.count, timeout=self.budget).start())
        self.core_uas = sipp.Sipp("core_uas.xml", self.core_addr, self.work, name="core-uas",
                                  calls=1, timeout=self.budget).start()
        for s in self.far_uas + [self.core_uas]:
            s.wait_listening()
        self.logs = [ProviderLog(reg, far, self.rf.port) for reg, far in zip(self.regs, self.fars)]

    def place(self, i: int) -> None:
        self.uacs.append(sipp.Sipp(
            "core_uac.xml", ("127.0.0.1", 0), self.work, name=f"core-{i + 1}",
            remote=("127.0.0.1", self.rf.port), service=str(FIRST_CALLED + i),
            keys={"caller": self.callers[i]}, duration_ms=CALL_SECONDS * 1000,
            timeout=CALL_SECONDS + 20).start())

    def call_in(self) -> None:
        self.far_uac = sipp.Sipp(
            "far_uac.xml", (FAR_HOST, 0), self.work, name="far-caller",
            remote=self.inbound_via.address, service=self.inbound_number,
            keys={"caller": FAR_CALLER}, duration_ms=CALL_SECONDS * 1000,
            timeout=CALL_SECONDS + 20).start()

    def sample(self):
        """(rows of show sip-ua calls, the calls counters of show sip-ua statistics)."""
        out = cli(self.rf, "show sip-ua calls | json", "show sip-ua statistics | json",
                  "show sip-ua calls").splitlines()
        if len(out) < 2:
            return None, {}
        rows = json.loads(out[0])["calls"]
        counters = json.loads(out[1])["calls"]
        if len(rows) > self.busiest[0]:
            self.busiest = (len(rows), "\n".join(out[2:]))
        for p in self.logs:
            p.poll()
        return rows, counters

    # The columns of the per-second table: regfront's view, then the providers' (all three).
    RF_COLUMNS = (("calls up", 8), ("out", 4), ("in", 3), ("answered", 8), ("407s answered", 13))
    PROVIDER_COLUMNS = (("INVITE 407", 10), ("authorised", 10), ("relayed", 7),
                        ("far end 200", 11), ("BYE 407", 7))

    def print_header(self) -> None:
        rf = " ".join(t.rjust(w) for t, w in self.RF_COLUMNS)
        pr = " ".join(t.rjust(w) for t, w in self.PROVIDER_COLUMNS)
        print(f"{'':12}{'regfront (show sip-ua calls, statistics)':<{len(rf)}}   providers' logs")
        print(f"{'':12}{rf}   {pr}")

    def print_row(self, label: str, rows, c) -> None:
        if rows is None:
            print(f"  {label}  (regfront-cli failed)")
            return
        rf = (len(rows), c.get("calls_out", 0), c.get("calls_in", 0), c.get("answered", 0),
              c.get("authenticated", 0))
        pr = [total(self.logs, k) for k in ("invite_407", "invite_ok", "relayed", "far_200", "bye_407")]
        print(f"  {label}  " + " ".join(str(v).rjust(w) for v, (_, w) in zip(rf, self.RF_COLUMNS))
              + "   " + " ".join(str(v).rjust(w) for v, (_, w) in zip(pr, self.PROVIDER_COLUMNS)))

    def run(self) -> bool:
        print(f"\ndemo: {self.count} calls from the SBC core (SIPp, 127.0.0.1) to 2125550100.. "
              f"through regfront, {CALL_RATE} a second, {CALL_SECONDS} s each; one call from "
              f"{self.inbound_via.name}'s far end to {self.inbound_number}")
        self.start_answering()
        self.print_header()
        t0 = time.monotonic()
        inbound_at = (self.count // 2) / CALL_RATE
        next_row = 1.0
        deadline = t0 + self.budget
        while True:
            now = time.monotonic() - t0
            while len(self.uacs) < self.count and len(self.uacs) / CALL_RATE <= now:
                self.place(len(self.uacs))
            if self.far_uac is None and inbound_at <= now:
                self.call_in()
            placed = len(self.uacs) == self.count and self.far_uac is not None
            ended = placed and not any(s.running() for s in self.uacs + [self.far_uac])
            if ended or now >= next_row:
                rows, counters = self.sample()
                if not ended:
                    self.print_row(f"t={now:5.1f}s", rows, counters)
                    next_row += 1.0
            if ended or time.monotonic() > deadline:
                break
            # Until the next call, row or start, and a tenth of a second at most: that is how
            # soon the end of the last call is noticed.
            due = [next_row]
            if len(self.uacs) < self.count:
                due.append(len(self.uacs) / CALL_RATE)
            if self.far_uac is None:
                due.append(inbound_at)
            time.sleep(max(0.0, min(min(due) - (time.monotonic() - t0), 0.1)))
        elapsed = time.monotonic() - t0
        # The last calls leave regfront's table when their BYE's 200 has gone through, and a
        # provider logs a reply after relaying it: give both a moment.
        want = sum(1 for s in self.uacs if s.wait().ok)
        try:
            kam.wait_until(lambda: self.sample()[0] == [] and
                           total(self.logs, "far_200") >= want, 3, 0.1, "the last log lines")
        except kam.HarnessError:
            pass
        rows, counters = self.sample()
        self.print_row(f"t={elapsed:5.1f}s", rows, counters)
        return self.report(elapsed)

    def report(self, elapsed: float) -> bool:
        results = [s.wait() for s in self.uacs]
        inbound = self.far_uac.wait() if self.far_uac else None
        core = self.core_uas.wait(timeout=5) if self.core_uas else None
        fars = [s.stop() for s in self.far_uas]
        ok = sum(1 for r in results if r.ok)
        print(f"demo: {ok} of {self.count} calls from the core completed (180, 200, ACK, BYE "
              f"answered 200) in {elapsed:.1f} s; the far ends answered "
              + ", ".join(f"{reg.name} {r.stat('SuccessfulCall')}" for reg, r in zip(self.regs, fars)))
        for reg, p in zip(self.regs, self.logs):
            parts = []
            if p.n("invite_407") or p.n("relayed"):
                creds = ", ".join(f"{u}/{r}" for u, r in sorted(p.offered)) or "none"
                parts.append(f"{p.n('invite_407')} INVITEs from regfront challenged (407), "
                             f"{p.n('invite_ok')} authorised, {p.n('relayed')} relayed to its far "
                             f"end, {p.n('far_200')} answered there; {p.n('bye_407')} BYEs "
                             f"challenged, {p.n('bye_ok')} authorised; credentials offered: {creds}")
            if p.n("lookup"):
                parts.append(f"{p.n('lookup')} call(s) to a registered number sent to regfront's "
                             f"Contact, {p.n('in_200')} answered")
            print(f"  provider {reg.name} ({reg.realm}): " + ("; ".join(parts) or "no calls"))
        inbound_ok = bool(inbound and inbound.ok and core and core.ok)
        print(f"demo: the call from {self.inbound_via.name}'s far end to {self.inbound_number} "
              f"{'reached the core and completed' if inbound_ok else 'FAILED'}")
        bad = [r for r in results if not r.ok] + [r for r in (inbound, core) if r and not r.ok]
        if bad:
            print(bad[0].describe()[-4000:])
            print(f"--- regfrontd log tail ({self.rf.log_path}):\n{self.rf.log_tail(30)}")
            if not os.environ.get("REGFRONT_E2E_KEEP"):
                print("(REGFRONT_E2E_KEEP=1 keeps every log and SIPp trace)")
        print()
        return ok == self.count and inbound_ok

    def show(self) -> None:
        """`show sip-ua calls` when most calls were up, and the calls counters now."""
        count, text = self.busiest
        lines = text.splitlines()
        if count:
            # The heading, the first few calls and the inbound one, in the table's order.
            rows = lines[2:2 + count]
            shown = [r for i, r in enumerate(rows) if i < 5 or " inbound " in r]
            print(f"show sip-ua calls (while {count} calls were up):")
            print("\n".join(lines[:2] + shown))
            if len(shown) < count:
                print(f"  ... ({count} calls)")
            print()
        stats = cli(self.rf, "show sip-ua statistics").splitlines()
        if "Calls" in stats:
            section = stats[stats.index("Calls") + 1:]
            keep = ("calls_out", "calls_in", "answered", "failed", "challenged", "authenticated",
                    "no_credential", "auth_failed")
            print("show sip-ua statistics (Calls, the counters above and any other non-zero):")
            print("\n".join(l for l in section
                            if l.split()[0] in keep or l.split()[-1] != "0"))
            print()

    def stop(self) -> None:
        for s in self.uacs + self.far_uas + [self.core_uas, self.far_uac]:
            if s is not None and s.running():
                s.stop()


# --------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "build", "bin"))
    ap.add_argument("--endpoints", type=int, default=3000)
    ap.add_argument("--calls", type=int, default=20, help="calls placed through regfront (0: none)")
    ap.add_argument("--keep", action="store_true", help="keep running until Ctrl-C")
    args = ap.parse_args()
    if args.endpoints < 1 or args.calls < 0:
        ap.error("--endpoints must be at least 1 and --calls not negative")
    if args.calls and not sipp.have_sipp():
        print(f"demo: sipp not found ({sipp.SIPP_BIN}): install the Debian package sip-tester "
              f"(deploy/install-deps.sh), or run with --calls 0", file=sys.stderr)
        return 1
    work = kam.make_workdir("regfront-demo-")
    n = args.endpoints
    numbers = [str(FIRST_NUMBER + i) for i in range(n)]
    fars = [(FAR_HOST, p) for p in (kam.allocate_udp_ports(1, host=FAR_HOST)[0] for _ in range(3))]
    core_addr = ("127.0.0.1", kam.allocate_udp_ports(1)[0])

    def provider(i):
        return kam.ProviderRole(far_end=fars[i], challenge_in_dialog=True)

    users_a = [("dp-user", "dp-secret")]
    users_b = [(f"u{num}", f"pw-{num}") for num in numbers]
    users_c = [("trunk", "trunk-secret")]
    regs = [
        kam.KamailioRegistrar("A", "realm-a.demo", users_a, algorithm="MD5", qop=None, min_expires=10,
                              workdir=os.path.join(work, "kam-a"), provider=provider(0)),
        kam.KamailioRegistrar("B", "realm-b.demo", users_b, algorithm="SHA-256", qop="auth",
                              min_expires=10, workdir=os.path.join(work, "kam-b"), provider=provider(1)),
        kam.KamailioRegistrar("C", "realm-c.demo", users_c, algorithm="MD5", qop="auth", min_expires=120,
                              workdir=os.path.join(work, "kam-c"), provider=provider(2)),
    ]
    rf = rfd.SocketRegfrontd(args.bin_dir, startup_config(numbers, regs, core_addr), workers=1,
                             name="regfront-demo-rf")
    calls = None
    begin = time.monotonic()
    try:
        kam.start_all(regs)
        print(f"demo: 3 Kamailio registrars (and providers) on 127.0.0.1:"
              f"{','.join(str(r.port) for r in regs)}; {n} endpoints; startup-config "
              f"{rf.config_path}; regfrontd log {rf.log_path}")
        rf.check_config()
        rf.start()
        start = time.monotonic()
        want = n * len(regs)
        while True:
            time.sleep(1)
            out = cli(rf, "show sip-ua register registrars | json")
            if not out:
                continue
            rows = json.loads(out)["registrars"]
            at_registrars = [len(r.ul_dump()) for r in regs]
            elapsed = time.monotonic() - start
            print(f"  t={elapsed:5.1f}s  regfront: " +
                  "  ".join(f"R{x['index']} {x['registered']}/{x['total']}" for x in rows) +
                  "   registrars' location tables: " + " ".join(str(c) for c in at_registrars))
            if sum(at_registrars) >= want or elapsed > 120:
                break
        registered = sum(at_registrars) >= want
        print(f"demo: {sum(at_registrars)} of {want} bindings registered in {elapsed:.1f} s")

        calls_ok = True
        if args.calls and registered:
            calls = CallsDemo(args.calls, work, rf, regs, fars, core_addr, numbers)
            calls_ok = calls.run()
            calls.stop()
        else:
            print()

        out = cli(rf, "show sip-ua register status").splitlines()
        print("\n".join(out[:8]))
        heads = ("Registrar-Index", "---", "Line ", "====")
        rows = [line for line in out if line.strip() and not line.startswith(heads)]
        print(f"  ... ({len(rows)} bindings)\n")
        calls_lines = "|calls_placed|calls_answered" if calls else ""
        print(cli(rf, f"show sip-ua statistics | include Registrar|sent|accepted|interval|timed{calls_lines}"))
        if calls:
            calls.show()
        if args.keep:
            print(f"demo: running; try: {rf.cli} --socket {rf.control_socket}   (Ctrl-C to stop)")
            try:
                rf.proc.wait()
            except KeyboardInterrupt:
                pass
        rc, seconds = rf.terminate(timeout=60)
        left = [len(r.ul_dump()) for r in regs]
        print(f"demo: regfrontd exited {rc} {seconds:.1f} s after SIGTERM; bindings left at the "
              f"registrars after unregistration: {left}")
        print(f"demo: {time.monotonic() - begin:.0f} s in all")
        return 0 if rc == 0 and registered and calls_ok else 1
    except AssertionError as exc:  # regfrontd refused its configuration or did not start
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    finally:
        if calls:
            calls.stop()
        rf.kill()
        kam.stop_all(regs)


if __name__ == "__main__":
    sys.exit(main())
