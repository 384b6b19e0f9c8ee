"""Runs SIPp (Debian's `sip-tester`, binary `sipp`) scenarios for regfront's call tests.

One `Sipp` is one SIPp process playing one scenario of tests/e2e/sipp/ (`-sf`), bound to one
address and port (`-i ADDR -p PORT -bind_local`), on loopback or inside a network namespace
(`ip netns exec`). It is started in its own session and registered with the harness's
ProcessRegistry (kamailio.REGISTRY), so it is killed at exit whatever happens.

Every run writes into its own directory: the scenario screen (stdout), the message trace
(`-trace_msg`), the unexpected messages (`-trace_err`), the `<log>` actions (`-trace_logs`) and
the statistics (`-trace_stat`). `wait()` returns a `SippResult` with the exit status, the
statistics of the last row, every SIP message sent and received (parsed), and `describe()` for
failure messages.

Runs are bounded twice: SIPp's own `-timeout Ns -timeout_error` (a hard stop: plain `-timeout`
only stops placing new calls and waits for running ones), and `wait()`, which kills the process
a few seconds after that. Aborted calls send nothing (`-default_behaviors all,-bye`): a test
that fails leaves no stray BYE or CANCEL in the next one.

    uas = Sipp("far_uas.xml", local=("127.0.0.3", port), workdir=wd, name="far").start()
    uas.wait_listening()
    uac = Sipp("core_uac.xml", local=("127.0.0.1", 0), remote=("127.0.0.1", 5060),
               service="2125550199", keys={"caller": "4085550100"}, workdir=wd).start()
    res = uac.wait(); assert res.ok, res.describe()

SIPp exit statuses: 0 every call succeeded, 1 at least one failed, 97 internal command,
99 no call processed, 255/254 (-1/-2) fatal error or socket bind error.

Python standard library only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import time
from typing import Dict, List, Optional, Sequence, Tuple

import kamailio as kam

SIPP_BIN = os.environ.get("SIPP_BIN") or shutil.which("sipp") or "/usr/bin/sipp"
SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")
IP_BIN = os.environ.get("IP_BIN", "ip")

_TRACE_RULE = "-" * 47  # SIPp's separator line in -trace_msg files
# The block of a message on the wire ("UDP message sent (470 bytes):", "UDP message received
# [470] bytes :"); SIPp's notes about messages ("Unexpected UDP message received:") repeat one.
_TRACE_LABEL = re.compile(r"^(?:UDP|TCP|TLS|SCTP|WSS?) message (sent|received)\b")


def have_sipp() -> bool:
    return os.access(SIPP_BIN, os.X_OK)


def sipp_version() -> str:
    """First line of `sipp -v` (e.g. 'SIPp v3.6.1-SCTP-PCAP-RTPSTREAM.')."""
    res = subprocess.run([SIPP_BIN, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=10)
    for line in res.stdout.splitlines():
        if line.strip().startswith("SIPp"):
            return line.strip()
    return res.stdout.strip()


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class SipMessage:
    """One message of SIPp's message trace: what it sent or received."""
    direction: str             # "sent" | "received"
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def is_response(self) -> bool:
        return self.first_line.startswith("SIP/2.0 ")

    @property
    def method(self) -> str:
        """The request's method; for a response, the method of its CSeq."""
        if self.is_response:
            return self.cseq[1]
        return self.first_line.split(" ", 1)[0]

    @property
    def code(self) -> int:
        if not self.is_response:
            return 0
        parts = self.first_line.split(" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    @property
    def request_uri(self) -> str:
        return "" if self.is_response else (self.first_line.split(" ") + ["", ""])[1]

    def headers(self, name: str) -> List[str]:
        """Values of every header `name` (compact forms of the common ones understood)."""
        compact = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
                   "l": "content-length", "c": "content-type", "k": "supported"}
        want = name.lower()
        out = []
        head = self.text.split("\n\n", 1)[0]
        for line in head.split("\n")[1:]:
            hname, sep, value = line.partition(":")
            if not sep:
                continue
            hname = hname.strip().lower()
            if compact.get(hname, hname) == want:
                out.append(value.strip())
        return out

    def header(self, name: str) -> Optional[str]:
        values = self.headers(name)
        return values[0] if values else None

    @property
    def cseq(self) -> Tuple[int, str]:
        value = self.header("CSeq") or ""
        number, _, method = value.partition(" ")
        return (int(number) if number.isdigit() else -1, method.strip())

    @property
    def body(self) -> str:
        parts = self.text.split("\n\n", 1)
        return parts[1] if len(parts) > 1 else ""

    def summary(self) -> str:
        arrow = "->" if self.direction == "sent" else "<-"
        n, m = self.cseq
        return f"{arrow} {self.first_line}  [CSeq {n} {m}]"


def parse_message_trace(text: str) -> List[SipMessage]:
    """SIPp's -trace_msg file -> the messages sent and received, in order. Blocks other than
    `UDP message sent` / `UDP message received` (unexpected-message notes, ignored
    retransmissions) are skipped: the received message itself has its own block."""
    messages: List[SipMessage] = []
    for block in text.split(_TRACE_RULE):
        lines = block.replace("\r\n", "\n").split("\n")
        # lines[0] is the rest of the rule line (a timestamp); then "UDP message sent (...):"
        rest = [l for l in lines[1:]]
        while rest and not rest[0].strip():
            rest.pop(0)
        if not rest:
            continue
        m = _TRACE_LABEL.match(rest[0].strip())
        if not m:
            continue
        direction = m.group(1)
        body = "\n".join(rest[1:]).strip("\n")
        if body:
            messages.append(SipMessage(direction, body + "\n"))
    return messages


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class SippResult:
    name: str
    command: List[str]
    rc: Optional[int]                 # None: killed by wait() after its timeout
    stats: Dict[str, str]
    messages: List[SipMessage]
    logs: List[str]                   # lines of the <log> actions
    errors: str                       # -trace_err file
    screen: str                       # stdout tail (the final scenario screen)
    workdir: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def stat(self, name: str) -> int:
        """A cumulative counter of the statistics file (e.g. 'SuccessfulCall', 'FailedCall')."""
        value = self.stats.get(f"{name}(C)", self.stats.get(name, "0"))
        try:
            return int(float(value))
        except ValueError:
            return 0

    def sent(self, method: Optional[str] = None, responses: Optional[bool] = None,
             retransmissions: bool = False) -> List[SipMessage]:
        """Messages sent (of `method`: a request's method, a response's CSeq method; only
        requests or only responses), each once unless `retransmissions`."""
        return self._select("sent", method, responses, retransmissions)

    def received(self, method: Optional[str] = None, responses: Optional[bool] = None,
                 retransmissions: bool = False) -> List[SipMessage]:
        return self._select("received", method, responses, retransmissions)

    def _select(self, direction: str, method: Optional[str], responses: Optional[bool],
                retransmissions: bool) -> List[SipMessage]:
        out, seen = [], set()
        for m in self.messages:
            if m.direction != direction:
                continue
            if method is not None and m.method != method:
                continue
            if responses is not None and m.is_response != responses:
                continue
            if not retransmissions:  # a retransmission is the same text again
                if m.text in seen:
                    continue
                seen.add(m.text)
            out.append(m)
        return out

    def flow(self) -> str:
        return "\n".join(m.summary() for m in self.messages) or "(no message sent or received)"

    def describe(self) -> str:
        parts = [f"--- sipp {self.name}: exit {self.rc}"
                 + (" (killed after its timeout)" if self.timed_out else "")
                 + f"; successful {self.stat('SuccessfulCall')}, failed {self.stat('FailedCall')}"
                 + f"; files in {self.workdir}",
                 "    " + " ".join(self.command),
                 f"--- sipp {self.name} message flow:\n{self.flow()}"]
        if self.errors.strip():
            parts.append(f"--- sipp {self.name} errors:\n{self.errors.strip()[-3000:]}")
        if self.logs:
            parts.append(f"--- sipp {self.name} log:\n" + "\n".join(self.logs[-20:]))
        if self.screen.strip():
            parts.append(f"--- sipp {self.name} screen (tail):\n"
                         + "\n".join(self.screen.strip().splitlines()[-25:]))
        return "\n".join(parts)


def parse_stats(text: str) -> Dict[str, str]:
    """The last row of SIPp's ';'-separated statistics file, by column name."""
    rows = [l for l in text.splitlines() if l.strip()]
    if len(rows) < 2:
        return {}
    header = rows[0].rstrip(";").split(";")
    values = rows[-1].rstrip(";").split(";")
    return dict(zip(header, values))


# --------------------------------------------------------------------------------------------
# The runner
# --------------------------------------------------------------------------------------------

def scenario_path(scenario: str) -> str:
    path = scenario if os.path.isabs(scenario) else os.path.join(SCENARIO_DIR, scenario)
    if not os.path.exists(path):
        raise FileNotFoundError(f"SIPp scenario {path} not found")
    return path


def _addr(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Sipp:
    """One SIPp process playing `scenario` (a file name under tests/e2e/sipp/, or a path).

    local: (address, port) to bind (port 0: one is allocated, on loopback only); remote:
    (address, port) of the peer for a UAC (None for a UAS); service: the Request-URI user
    (`-s`); keys: `-key NAME VALUE` pairs ([NAME] in the scenario); auth: (username, password)
    for [authentication] (`-au`/`-ap`); duration_ms: the length of `<pause/>` (`-d`);
    base_cseq: the first [cseq]; calls: `-m`; timeout: seconds SIPp runs at most
    (`-timeout ... -timeout_error`); netns: run inside that network namespace."""

    def __init__(self, scenario: str, local: Tuple[str, int], workdir: str,
                 remote: Optional[Tuple[str, int]] = None, name: Optional[str] = None,
                 service: Optional[str] = None, keys: Optional[Dict[str, str]] = None,
                 auth: Optional[Tuple[str, str]] = None, duration_ms: int = 200,
                 base_cseq: Optional[int] = None, calls: int = 1, timeout: float = 20.0,
                 netns: Optional[str] = None, extra: Sequence[str] = ()):
        self.scenario = scenario_path(scenario)
        self.name = name or os.path.splitext(os.path.basename(self.scenario))[0]
        host, port = local
        if not port:
            if netns:
                raise ValueError("give an explicit port inside a namespace")
            port = kam.allocate_udp_ports(1, host=host)[0]
        self.local = (host, int(port))
        self.remote = remote
        self.netns = netns
        self.timeout = float(timeout)
        self.dir = os.path.join(workdir, f"sipp-{self.name}-{time.monotonic_ns() % 10**9}")
        os.makedirs(self.dir, exist_ok=True)
        self.files = {k: os.path.join(self.dir, f"{self.name}.{k}")
                      for k in ("msg", "err", "logs", "csv", "screen", "out")}
        cmd = [SIPP_BIN]
        if remote is not None:
            cmd.append(_addr(*remote))
        cmd += ["-sf", self.scenario, "-i", host, "-p", str(self.local[1]), "-bind_local",
                "-m", str(calls), "-nostdin", "-default_behaviors", "all,-bye",
                "-timeout", f"{max(1, int(round(self.timeout)))}s", "-timeout_error",
                "-d", str(int(duration_ms)),
                # RTP echo sockets are opened whatever the scenario: keep them apart too.
                "-mp", str(self._media_port(host)),
                "-trace_msg", "-message_file", self.files["msg"],
                "-trace_err", "-error_file", self.files["err"],
                "-trace_logs", "-log_file", self.files["logs"],
                "-trace_stat", "-stf", self.files["csv"],
                "-trace_screen", "-screen_file", self.files["screen"]]
        if service is not None:
            cmd += ["-s", service]
        for k, v in (keys or {}).items():
            cmd += ["-key", k, str(v)]
        if auth is not None:
            cmd += ["-au", auth[0], "-ap", auth[1]]
        if base_cseq is not None:
            cmd += ["-base_cseq", str(base_cseq)]
        cmd += list(extra)
        if netns:
            cmd = [IP_BIN, "netns", "exec", netns] + cmd
        self.command = cmd
        self.proc: Optional[subprocess.Popen] = None
        self.result: Optional[SippResult] = None

    def _media_port(self, host: str) -> int:
        if self.netns:  # a namespace of the test's own: only its SIPps use ports there
            return 30000 + (self.local[1] % 5000) * 4
        try:
            return kam.allocate_udp_ports(4, contiguous=True, host=host)[0]
        except kam.HarnessError:
            return 6000

    @property
    def address(self) -> Tuple[str, int]:
        return self.local

    @property
    def uri_host(self) -> str:
        return _addr(*self.local)

    def start(self) -> "Sipp":
        if not have_sipp():
            raise kam.HarnessError(f"sipp not found at {SIPP_BIN}: install the Debian package "
                                   f"sip-tester (deploy/install-deps.sh)")
        with open(self.files["out"], "wb") as out:
            self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=self.dir,
                                         start_new_session=True)
        kam.REGISTRY.add(self.proc)
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _bound(self) -> bool:
        """True once a UDP socket of SIPp's network namespace is bound to our port (read from
        /proc/PID/net/udp{,6}, which shows the namespace of that process)."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise kam.HarnessError(f"sipp {self.name} exited with {self.proc.returncode} before "
                                   f"listening:\n{self._read('out')[-2000:]}")
        want = f":{self.local[1]:04X}"
        for table in ("udp", "udp6"):
            try:
                with open(f"/proc/{self.proc.pid}/net/{table}") as f:
                    lines = f.read().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) > 1 and fields[1].endswith(want):
                    return True
        return False

    def wait_listening(self, timeout: float = 10.0) -> "Sipp":
        """Waits until SIPp has bound its port (a UAS must be ready before the call comes)."""
        kam.wait_until(self._bound, timeout, 0.05, f"sipp {self.name} on {self.uri_host}")
        return self

    def wait(self, timeout: Optional[float] = None) -> SippResult:
        """Waits for SIPp to end (killing it `timeout` s from now, default its own timeout plus
        5 s) and returns the parsed result."""
        if self.result is not None:
            return self.result
        assert self.proc is not None, "start() first"
        budget = (self.timeout + 5.0) if timeout is None else timeout
        timed_out = False
        try:
            self.proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            timed_out = True
            kam.kill_tree(self.proc, grace=2.0)
        kam.REGISTRY.remove(self.proc)
        self.result = self._collect(None if timed_out else self.proc.returncode, timed_out)
        return self.result

    def stop(self) -> SippResult:
        """Ends SIPp now (SIGTERM, then SIGKILL) and returns what it did so far."""
        if self.result is not None:
            return self.result
        if self.proc is not None:
            kam.kill_tree(self.proc, grace=3.0)
            kam.REGISTRY.remove(self.proc)
        self.result = self._collect(self.proc.returncode if self.proc else None, True)
        return self.result

    def _read(self, key: str) -> str:
        try:
            with open(self.files[key], errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def _collect(self, rc: Optional[int], timed_out: bool) -> SippResult:
        if rc is not None and rc > 127:
            rc -= 256  # -1 / -2 as SIPp means them
        return SippResult(
            name=self.name, command=self.command, rc=rc,
            stats=parse_stats(self._read("csv")),
            messages=parse_message_trace(self._read("msg")),
            logs=[l for l in self._read("logs").splitlines() if l.strip()],
            errors=self._read("err"), screen=self._read("out")[-6000:], workdir=self.dir,
            timed_out=timed_out)

    def __enter__(self) -> "Sipp":
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.running():
            self.stop()


def run(scenario: str, local: Tuple[str, int], workdir: str, **kw) -> SippResult:
    """Starts a scenario and waits for it (a UAC against something already listening)."""
    return Sipp(scenario, local, workdir, **kw).start().wait()
