"""Reusable harness that runs real Kamailio 5.6 registrars for regfront's end-to-end tests.

Each `KamailioRegistrar` is one Kamailio process tree listening on 127.0.0.1:<port> (UDP only)
with an in-memory location table (usrloc db_mode 0), digest authentication against a db_text
`subscriber` table (auth_db, plain-text passwords, HA1 computed by Kamailio with the configured
algorithm) and a binrpc control socket for `kamcmd`.

Every REGISTER is logged by the routing script with machine-readable `REGFRONT-E2E` lines:
  * `NOAUTH`   - a REGISTER without credentials (it gets challenged),
  * `CRED`     - one line per Authorization/Proxy-Authorization header, raw, so that the test can
                 see every (username, realm) a client ever offered, even the ones Kamailio ignores
                 because their realm is not its own,
  * `RESULT`   - the outcome of www_authorize: $au, $ar and the auth return code,
  * `SAVED`    - the registrar accepted the binding (after save()).
`auth_log()` parses these lines into `AuthEvent`s.

With a `ProviderRole` the same process is also the provider's proxy (tm, rr; no dialog module,
so Kamailio never changes a CSeq): calls from the provider's users are challenged with 407
against the same subscriber table and relayed to a far end, calls to registered numbers go to
their Contact (`lookup("location")`), in-dialog requests follow the Route set. It logs more
`REGFRONT-E2E` lines, parsed by `events()`:
  * `REQ`       - every request other than REGISTER, as received (method, Request-URI, From,
                  To, tags, CSeq, the Route header),
  * `CRED`/`RESULT` - as for REGISTER, for INVITE, BYE, re-INVITE, UPDATE (method=[...]),
  * `CHALLENGE` - a 407 sent; `REJECT` - a 503 sent (role option); `LOOKUP` - the Contact a
                  call to a registered number goes to; `RELAY` - a request relayed, and where,
  * `REPLY`     - every reply Kamailio receives (from the far end, from regfront, and the
                  answers to its OPTIONS keepalives), with its Allow header.

Only the Python standard library is used.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import ipaddress
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

KAMAILIO_BIN = os.environ.get("KAMAILIO_BIN", "/usr/sbin/kamailio")
KAMCMD_BIN = os.environ.get("KAMCMD_BIN", "/usr/sbin/kamcmd")
MODULES_DIR = os.environ.get("KAMAILIO_MODULES", "/usr/lib/x86_64-linux-gnu/kamailio/modules")

LOG_TAG = "REGFRONT-E2E"

# Return codes of auth_db's www_authorize() (auth module's auth_cfg_result_t).
AUTH_OK = 1
AUTH_ERROR = -1
AUTH_INVALID_PASSWORD = -2
AUTH_USER_UNKNOWN = -3
AUTH_STALE_NONCE = -4
AUTH_NO_CREDENTIALS = -5
AUTH_NONCE_REUSED = -6


class HarnessError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# Small helpers: polling, ports, temp dirs, process bookkeeping
# --------------------------------------------------------------------------------------------

def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.2,
               what: str = "condition"):
    """Polls `predicate` until it returns a truthy value or `timeout` seconds pass.

    Returns the truthy value; raises HarnessError on timeout. Exceptions from the predicate
    count as "not yet" (the last one is reported on timeout)."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - reported on timeout
            last_exc = exc
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.1f}s waiting for {what}"
            if last_exc is not None:
                msg += f" (last error: {last_exc!r})"
            raise HarnessError(msg)
        time.sleep(interval)


def _udp_port_free(port: int, host: str = "127.0.0.1") -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_handed_out_ports: set = set()


def allocate_udp_ports(count: int = 1, contiguous: bool = False, host: str = "127.0.0.1",
                       attempts: int = 200) -> List[int]:
    """Returns `count` UDP ports that are free on `host` right now.

    With contiguous=True the ports form one range [base, base+count) (regfrontd's workers use
    PORT+i). Ports handed out earlier in this process are never handed out again, so that two
    allocations made before anything binds do not collide."""
    if count < 1:
        raise ValueError("count must be >= 1")
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    result: List[int] = []
    for _ in range(attempts):
        if contiguous:
            base = rng.randrange(20000, 60000 - count)
            candidates = list(range(base, base + count))
        else:
            candidates = [rng.randrange(20000, 60000)]
        if any(p in _handed_out_ports for p in candidates):
            continue
        if all(_udp_port_free(p, host) for p in candidates):
            result.extend(candidates)
            _handed_out_ports.update(candidates)
            if len(result) >= count:
                return result[:count]
    raise HarnessError(f"could not find {count} free UDP port(s) after {attempts} attempts")


class ProcessRegistry:
    """Every process the harness starts is registered here and killed at exit if still alive.

    Processes are started in their own session, so a whole Kamailio tree (main + children) can
    be signalled through its process group id, which is the pid of the process we started."""

    def __init__(self):
        self._procs: List[subprocess.Popen] = []
        atexit.register(self.kill_all)

    def add(self, proc: subprocess.Popen) -> None:
        self._procs.append(proc)

    def remove(self, proc: subprocess.Popen) -> None:
        with contextlib.suppress(ValueError):
            self._procs.remove(proc)

    def kill_all(self) -> None:
        for proc in list(self._procs):
            kill_tree(proc, grace=2.0)
            self.remove(proc)


def kill_tree(proc: subprocess.Popen, grace: float = 5.0, sig: int = signal.SIGTERM) -> Optional[int]:
    """Sends `sig` to the process group led by `proc` and waits; SIGKILLs it after `grace` s."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Kamailio's children share the group; make sure none outlive the main process.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    return proc.poll()


REGISTRY = ProcessRegistry()


def make_workdir(prefix: str = "regfront-e2e-") -> str:
    """A fresh temp directory; kept when REGFRONT_E2E_KEEP=1 (for post-mortems)."""
    path = tempfile.mkdtemp(prefix=prefix)
    if not os.environ.get("REGFRONT_E2E_KEEP"):
        atexit.register(shutil.rmtree, path, True)
    return path


# --------------------------------------------------------------------------------------------
# ul.dump parsing
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Contact:
    aor: str
    uri: str
    expires: Optional[int]       # seconds left as reported by usrloc (None if "permanent")
    received: str = ""
    callid: str = ""
    cseq: Optional[int] = None
    user_agent: str = ""
    raw: Dict[str, str] = dataclasses.field(default_factory=dict)


def parse_ul_dump(text: str) -> Dict[str, List[Contact]]:
    """Parses kamcmd's text rendering of `ul.dump` into {aor: [Contact, ...]}.

    kamcmd prints nested structs as indented `Key: value` lines and `{`/`}` blocks. We only rely
    on the line-oriented keys: `AoR:` starts a record, `Address:` starts a contact, and the
    contact's attributes (Expires, Received, Call-ID, CSeq, User-Agent) follow it."""
    table: Dict[str, List[Contact]] = collections.OrderedDict()
    aor: Optional[str] = None
    current: Optional[Contact] = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped in ("{", "}"):
            continue
        key, sep, value = stripped.partition(":")
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        if key in ("Stats", "Domain"):
            aor, current = None, None
        elif key == "AoR":
            aor = value
            table.setdefault(aor, [])
            current = None
        elif key == "Address" and aor is not None:
            current = Contact(aor=aor, uri=value, expires=None)
            table[aor].append(current)
        elif current is not None:
            current.raw[key] = value
            if key == "Expires":
                if value.lstrip("-").isdigit():
                    current.expires = int(value)
                else:
                    current.expires = None  # "permanent" / "deleted"
            elif key == "Received":
                current.received = value
            elif key == "Call-ID":
                current.callid = value
            elif key == "CSeq" and value.isdigit():
                current.cseq = int(value)
            elif key == "User-Agent":
                current.user_agent = value
    return table


def parse_ul_dump_json(result) -> Dict[str, List[Contact]]:
    """Parses the JSON-RPC `ul.dump` result into {aor: [Contact, ...]}.

    The result nests Domains -> Domain -> AoRs -> Info -> Contacts -> Contact; we walk it
    generically and pick every object that has an `AoR` key."""
    table: Dict[str, List[Contact]] = collections.OrderedDict()

    def contacts_of(node):
        if isinstance(node, dict):
            if "Address" in node:
                yield node
            else:
                for v in node.values():
                    yield from contacts_of(v)
        elif isinstance(node, list):
            for v in node:
                yield from contacts_of(v)

    def walk(node):
        if isinstance(node, dict):
            if "AoR" in node and isinstance(node["AoR"], str):
                aor = node["AoR"]
                lst = table.setdefault(aor, [])
                for c in contacts_of(node.get("Contacts", [])):
                    exp = c.get("Expires")
                    if isinstance(exp, str) and exp.lstrip("-").isdigit():
                        exp = int(exp)
                    cseq = c.get("CSeq")
                    lst.append(Contact(
                        aor=aor, uri=str(c.get("Address", "")),
                        expires=exp if isinstance(exp, int) else None,
                        received=str(c.get("Received", "")), callid=str(c.get("Call-ID", "")),
                        cseq=cseq if isinstance(cseq, int) else None,
                        user_agent=str(c.get("User-Agent", "")),
                        raw={k: str(v) for k, v in c.items()}))
                return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(result)
    return table


# --------------------------------------------------------------------------------------------
# Auth log parsing
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class OfferedCredential:
    """One Authorization/Proxy-Authorization header a client sent to the registrar."""
    registrar: str
    to_user: str
    callid: str
    cseq: str
    source: str
    header: str
    username: str
    realm: str
    params: Dict[str, str]
    method: str = "REGISTER"     # the request that carried it (CSeq method)
    from_user: str = ""


@dataclasses.dataclass
class AuthResult:
    registrar: str
    to_user: str
    callid: str
    cseq: str
    source: str
    au: str
    ar: str
    rc: int
    method: str = "REGISTER"
    from_user: str = ""


_LOG_RE = re.compile(LOG_TAG + r" (?P<kind>[A-Z]+) (?P<rest>.*)$")
_FIELD_RE = re.compile(r"(\w+)=\[(.*?)\](?= \w+=\[|$)")
_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def parse_digest_params(header_value: str) -> Dict[str, str]:
    """`Digest username="a", realm="b", ...` -> {"username": "a", "realm": "b", ...}."""
    value = header_value.strip()
    scheme, _, rest = value.partition(" ")
    params: Dict[str, str] = {"_scheme": scheme}
    pos = 0
    while pos < len(rest):
        m = _PARAM_RE.match(rest, pos)
        if not m or m.end() == pos:
            break
        name, val = m.group(1).lower(), m.group(2)
        if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
            val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[name] = val
        pos = m.end()
    return params


@dataclasses.dataclass
class AuthLog:
    noauth: List[Dict[str, str]]
    offered: List[OfferedCredential]
    results: List[AuthResult]
    saved: List[Dict[str, str]]

    def offered_pairs(self) -> collections.Counter:
        return collections.Counter((c.username, c.realm) for c in self.offered)


# --------------------------------------------------------------------------------------------
# The registrar
# --------------------------------------------------------------------------------------------

_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9._+@-]+$")

# Branch flag set on every saved contact when a provider sends OPTIONS keepalives (nathelper's
# sipping_bflag: only contacts carrying it are pinged with a SIP request).
PING_BFLAG = 7


@dataclasses.dataclass
class ProviderRole:
    """What makes a KamailioRegistrar a provider's proxy as well (see the module docstring).

    far_end: (host, port) of the far end (a SIPp UAS): an INVITE whose Request-URI user is not
    registered here is challenged (407, the registrar's realm) and, once authorised, relayed
    there with a Record-Route. An INVITE to a registered number goes to its Contact without a
    challenge (it comes from the far end, a peer).
    challenge_in_dialog: in-dialog BYE, re-INVITE, UPDATE (anything but ACK and CANCEL, which
    cannot be resubmitted with credentials) are challenged too when their From user is
    registered here, i.e. when they come from the provider's own user, whichever side of the
    call it is.
    reject_invites: every initial INVITE is answered `503 Service Unavailable` with
    `Retry-After: retry_after` and relayed nowhere (failover tests); set_reject_invites()
    switches it while Kamailio runs.
    ping_interval: seconds between OPTIONS keepalives to every registered contact (nathelper;
    0 = none); the replies show up as REPLY events with method OPTIONS."""

    far_end: Tuple[str, int]
    challenge_in_dialog: bool = True
    reject_invites: bool = False
    retry_after: int = 30
    ping_interval: int = 0

    def __post_init__(self):
        host, port = self.far_end
        ipaddress.ip_address(host)
        if not 0 < int(port) < 65536:
            raise ValueError(f"far_end port {port} out of range")
        if self.ping_interval < 0 or self.retry_after < 0:
            raise ValueError("ping_interval and retry_after must not be negative")

    @property
    def far_end_uri(self) -> str:
        host, port = self.far_end
        return f"sip:[{host}]:{port}" if ":" in host else f"sip:{host}:{port}"


class KamailioRegistrar:
    """One Kamailio registrar on 127.0.0.1:<port> (or host:<port>, host an IPv4/IPv6 literal).

    netns: run Kamailio inside that network namespace (`ip netns exec`); with a netns or a host
    of its own and no port, the port is 5060. reply_padding: add a header of that many bytes to
    every reply (replies larger than the MTU, i.e. fragmented on the wire). provider: also act
    as the provider's proxy for calls (ProviderRole); without it every request but REGISTER is
    answered 405.

    users: iterable of (username, password); all live in `realm` (the subscriber table is
    looked up by username + realm). algorithm: None (no algorithm parameter: MD5 implied),
    "MD5" or "SHA-256". qop: None or "auth"."""

    def __init__(self, name: str, realm: str, users: Iterable[Tuple[str, str]] = (),
                 port: Optional[int] = None, algorithm: Optional[str] = "MD5",
                 qop: Optional[str] = None, min_expires: int = 0, max_expires: int = 0,
                 default_expires: int = 3600, children: int = 4, shm_mb: int = 128,
                 pkg_mb: int = 16, workdir: Optional[str] = None, debug: int = 1,
                 reject_bad_password: bool = True, host: str = "127.0.0.1",
                 netns: Optional[str] = None, reply_padding: int = 0,
                 provider: Optional[ProviderRole] = None):
        if algorithm not in (None, "", "MD5", "SHA-256"):
            raise ValueError(f"Kamailio 5.6 auth supports MD5 and SHA-256, not {algorithm!r}")
        if qop not in (None, "", "auth", "auth-int"):
            raise ValueError(f"unsupported qop {qop!r}")
        for token in [realm] + [u for u, _ in users]:
            if not _SAFE_TOKEN.match(token):
                raise ValueError(f"unsafe token for the generated config: {token!r}")
        ipaddress.ip_address(host)  # raises ValueError on anything but a literal address
        if reply_padding < 0 or reply_padding > 16000:
            raise ValueError(f"reply_padding {reply_padding} out of [0, 16000]")
        if port is None and (netns is not None or host != "127.0.0.1"):
            port = 5060  # a namespace (or an address of its own) has the whole port space
        self.name = name
        self.realm = realm
        self.host = host
        self.netns = netns
        self.reply_padding = reply_padding
        self.users = list(users)
        self.port = port if port is not None else allocate_udp_ports(1)[0]
        self.algorithm = algorithm or None
        self.qop = qop or None
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.children = children
        self.shm_mb = shm_mb
        self.pkg_mb = pkg_mb
        self.debug = debug
        self.reject_bad_password = reject_bad_password
        self.provider = provider
        self.workdir = workdir or make_workdir(f"kam-{name}-")
        os.makedirs(self.workdir, exist_ok=True)
        self.dbdir = os.path.join(self.workdir, "db")
        self.rundir = os.path.join(self.workdir, "run")
        self.cfg_path = os.path.join(self.workdir, "kamailio.cfg")
        self.log_path = os.path.join(self.workdir, "kamailio.log")
        self.pid_path = os.path.join(self.rundir, "kamailio.pid")
        self.ctl_path = os.path.join(self.rundir, "ctl.sock")
        self.rpc_fifo = os.path.join(self.rundir, "rpc.fifo")
        self.proc: Optional[subprocess.Popen] = None
        self.frozen = False
        self.starts = 0

    # -- configuration ---------------------------------------------------------------------

    @property
    def address(self) -> Tuple[str, int]:
        return (self.host, self.port)

    @property
    def listen_spec(self) -> str:
        """Kamailio `listen=` value: udp:HOST:PORT, IPv6 literals in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"udp:{host}:{self.port}"

    def challenge_flags(self) -> int:
        return {None: 0, "auth": 1, "auth-int": 2}[self.qop]

    def write_files(self) -> None:
        os.makedirs(self.dbdir, exist_ok=True)
        os.makedirs(self.rundir, exist_ok=True)
        with open(os.path.join(self.dbdir, "subscriber"), "w") as f:
            f.write("id(int,auto) username(string) domain(string) password(string) "
                    "ha1(string,null) ha1b(string,null)\n")
            for i, (user, password) in enumerate(self.users, start=1):
                # db_text separates columns with ':'; escape it (and the escape char) in data.
                pw = password.replace("\\", "\\\\").replace(":", "\\:")
                f.write(f"{i}:{user}:{self.realm}:{pw}::\n")
        with open(os.path.join(self.dbdir, "version"), "w") as f:
            f.write("id(int,auto) table_name(string) table_version(int)\n1:subscriber:7\n")
        with open(self.cfg_path, "w") as f:
            f.write(self.render_config())

    def render_config(self) -> str:
        flags = self.challenge_flags()
        realm = self.realm
        algo_line = (f'modparam("auth", "algorithm", "{self.algorithm}")\n'
                     if self.algorithm else "")
        # reply_padding: every reply carries an X-Regfront-Pad header of that many bytes (so that
        # replies exceed a link's MTU and reach the client as IP fragments).
        pad_line = (f'append_to_reply("X-Regfront-Pad: {"p" * self.reply_padding}\\r\\n");\n\t'
                    if self.reply_padding else "")
        bad_pw = ("sl_send_reply(\"403\", \"Forbidden\");\n\t\t\texit;"
                  if self.reject_bad_password else
                  f"www_challenge(\"{realm}\", \"{flags}\");\n\t\t\texit;")
        role = self.provider
        ping = role is not None and role.ping_interval > 0
        if role is None:
            main_route = f"""request_route {{
	{pad_line}if (!is_method("REGISTER")) {{
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}}
	route(REGISTRAR);
}}
"""
        else:
            main_route = self._render_provider_routes(pad_line)
        # The provider pings contacts that carry PING_BFLAG (set before save()).
        ping_flag = f"setbflag({PING_BFLAG});\n\t\t" if ping else ""
        return f"""#!KAMAILIO
# Generated by regfront tests/e2e/kamailio.py for registrar "{self.name}".
debug={self.debug}
log_stderror=yes
log_facility=LOG_LOCAL0
fork=yes
children={self.children}
listen={self.listen_spec}
disable_tcp=yes
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
udp_mtu=1300
mpath="{MODULES_DIR}"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "xlog.so"
loadmodule "ctl.so"
loadmodule "jsonrpcs.so"
loadmodule "db_text.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
{self._render_provider_modules()}
modparam("ctl", "binrpc", "unix:{self.ctl_path}")
# kamcmd cannot receive big replies (ul.dump of thousands of AoRs): dumps go through
# JSON-RPC over a per-instance FIFO instead, which streams any size.
modparam("jsonrpcs", "transport", 2)
modparam("jsonrpcs", "pretty_format", 0)
modparam("jsonrpcs", "fifo_name", "{self.rpc_fifo}")
modparam("jsonrpcs", "fifo_reply_dir", "{self.rundir}/")

modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 0)
modparam("usrloc", "timer_interval", 5)
modparam("usrloc", "hash_size", 12)

modparam("registrar", "min_expires", {self.min_expires})
modparam("registrar", "min_expires_mode", 1)
modparam("registrar", "max_expires", {self.max_expires})
modparam("registrar", "default_expires", {self.default_expires})
modparam("registrar", "max_contacts", 0)

{algo_line}modparam("auth", "nonce_expire", 300)
modparam("auth_db", "db_url", "text://{self.dbdir}")
modparam("auth_db", "calculate_ha1", 1)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "use_domain", 1)
modparam("auth_db", "version_table", 0)

{main_route}
route[REGISTRAR] {{
	if ($hdrc(Authorization) == 0 && $hdrc(Proxy-Authorization) == 0) {{
		xlog("L_NOTICE", "{LOG_TAG} NOAUTH reg=[{self.name}] to=[$tU] ci=[$ci] cseq=[$cs] src=[$si:$sp]\\n");
		www_challenge("{realm}", "{flags}");
		exit;
	}}
	# Record every credential offered, whatever its realm (www_authorize looks only at ours).
	route(CREDENTIALS);
	www_authorize("{realm}", "subscriber");
	$var(rc) = $rc;
	xlog("L_NOTICE", "{LOG_TAG} RESULT reg=[{self.name}] to=[$tU] ci=[$ci] cseq=[$cs] src=[$si:$sp] au=[$au] ar=[$ar] rc=[$var(rc)]\\n");
	if ($var(rc) == 1) {{
		{ping_flag}if (save("location")) {{
			xlog("L_NOTICE", "{LOG_TAG} SAVED reg=[{self.name}] to=[$tU] ci=[$ci] cseq=[$cs] src=[$si:$sp] expires=[$hdr(Expires)]\\n");
		}}
		exit;
	}}
	if ($var(rc) == -2 || $var(rc) == -3) {{
		{bad_pw}
	}}
	if ($var(rc) == -4) {{
		www_challenge("{realm}", "{flags | 16}");
		exit;
	}}
	www_challenge("{realm}", "{flags}");
	exit;
}}

# One CRED line per Authorization and Proxy-Authorization header, raw.
route[CREDENTIALS] {{
	$var(i) = 0;
	while ($var(i) < $hdrc(Authorization) && $var(i) < 32) {{
		xlog("L_NOTICE", "{LOG_TAG} CRED reg=[{self.name}] to=[$tU] ci=[$ci] cseq=[$cs] src=[$si:$sp] method=[$rm] from=[$fU] hf=[Authorization] hdr=[$(hdr(Authorization)[$var(i)])]\\n");
		$var(i) = $var(i) + 1;
	}}
	$var(i) = 0;
	while ($var(i) < $hdrc(Proxy-Authorization) && $var(i) < 32) {{
		xlog("L_NOTICE", "{LOG_TAG} CRED reg=[{self.name}] to=[$tU] ci=[$ci] cseq=[$cs] src=[$si:$sp] method=[$rm] from=[$fU] hf=[Proxy-Authorization] hdr=[$(hdr(Proxy-Authorization)[$var(i)])]\\n");
		$var(i) = $var(i) + 1;
	}}
}}
"""

    def _render_provider_modules(self) -> str:
        role = self.provider
        if role is None:
            return ""
        text = """loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "siputils.so"
loadmodule "maxfwd.so"
"""
        if role.ping_interval > 0:
            text += 'loadmodule "nathelper.so"\n'
        # Short transaction timers: a test that fails should fail in seconds, not in Timer C.
        text += f"""
modparam("tm", "fr_timer", 4000)
modparam("tm", "fr_inv_timer", 20000)
modparam("pv", "shvset", "reject_invites=i:{1 if role.reject_invites else 0}")
"""
        if role.ping_interval > 0:
            text += f"""modparam("nathelper", "natping_interval", {role.ping_interval})
modparam("nathelper", "ping_nated_only", 0)
modparam("nathelper", "sipping_bflag", {PING_BFLAG})
modparam("nathelper", "sipping_from", "sip:pinger@{self.realm}")
modparam("nathelper", "sipping_method", "OPTIONS")
"""
        return text

    def _render_provider_routes(self, pad_line: str) -> str:
        role = self.provider
        assert role is not None
        realm, name, flags = self.realm, self.name, self.challenge_flags()
        tag = f"{LOG_TAG}"
        where = "ci=[$ci] cseq=[$cs] src=[$si:$sp]"
        bad_pw = ('sl_send_reply("403", "Forbidden");\n\t\texit;' if self.reject_bad_password
                  else f'proxy_challenge("{realm}", "{flags}");\n\t\texit;')
        # Out of service for calls (the failover tests): $shv(reject_invites), which
        # set_reject_invites() changes while Kamailio runs.
        reject = f"""if ($shv(reject_invites) == 1) {{
		append_to_reply("Retry-After: {role.retry_after}\\r\\n");
		xlog("L_NOTICE", "{tag} REJECT reg=[{name}] code=[503] method=[$rm] ru=[$ru] from=[$fU] {where}\\n");
		sl_send_reply("503", "Service Unavailable");
		exit;
	}}
	"""
        in_dialog_auth = ""
        if role.challenge_in_dialog:
            in_dialog_auth = f"""# The provider's own user (From registered here) authenticates in-dialog requests
		# too; ACK and CANCEL cannot be resubmitted with credentials, so never challenged.
		if (!is_method("ACK|CANCEL") && registered("location", "$fu")) {{
			route(AUTH);
		}}
		"""
        return f"""request_route {{
	{pad_line}if (is_method("REGISTER")) {{
		route(REGISTRAR);
		exit;
	}}
	xlog("L_NOTICE", "{tag} REQ reg=[{name}] method=[$rm] ru=[$ru] from=[$fU] to=[$tU] ftag=[$ft] ttag=[$tt] {where} route=[$hdr(Route)]\\n");
	route(CREDENTIALS);
	if (!mf_process_maxfwd_header("10")) {{
		sl_send_reply("483", "Too Many Hops");
		exit;
	}}
	if (has_totag()) {{
		route(IN_DIALOG);
		exit;
	}}
	if (is_method("CANCEL")) {{
		# Relayed on the INVITE's transaction, when there is one.
		if (t_check_trans()) {{
			route(RELAY);
		}}
		exit;
	}}
	if (is_method("ACK")) {{
		if (t_check_trans()) {{
			route(RELAY);
		}}
		exit;
	}}
	# A retransmission of a request being relayed: tm answers it and ends the script.
	t_check_trans();
	if (is_method("OPTIONS") && $rU == $null) {{
		sl_send_reply("200", "OK");
		exit;
	}}
	if (!is_method("INVITE")) {{
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}}
	{reject}if (registered("location")) {{
		# A call to one of the provider's numbers (from the far end): to its Contact.
		if (!lookup("location")) {{
			sl_send_reply("480", "Temporarily Unavailable");
			exit;
		}}
		xlog("L_NOTICE", "{tag} LOOKUP reg=[{name}] to=[$tU] contact=[$ru] {where}\\n");
		record_route();
		route(RELAY);
	}}
	# A call from one of the provider's users: it must authenticate, then to the far end.
	route(AUTH);
	record_route();
	$du = "{role.far_end_uri}";
	route(RELAY);
}}

route[AUTH] {{
	proxy_authorize("{realm}", "subscriber");
	$var(rc) = $rc;
	xlog("L_NOTICE", "{tag} RESULT reg=[{name}] to=[$tU] {where} method=[$rm] from=[$fU] au=[$au] ar=[$ar] rc=[$var(rc)]\\n");
	if ($var(rc) == 1) {{
		consume_credentials();
		return;
	}}
	if ($var(rc) == -2 || $var(rc) == -3) {{
		{bad_pw}
	}}
	xlog("L_NOTICE", "{tag} CHALLENGE reg=[{name}] code=[407] to=[$tU] {where} method=[$rm] from=[$fU] rc=[$var(rc)]\\n");
	if ($var(rc) == -4) {{
		proxy_challenge("{realm}", "{flags | 16}");
		exit;
	}}
	proxy_challenge("{realm}", "{flags}");
	exit;
}}

route[IN_DIALOG] {{
	if (loose_route()) {{
		{in_dialog_auth}route(RELAY);
	}}
	if (is_method("ACK")) {{
		# The ACK of a relayed non-2xx final reply goes on; the ACK of a reply sent here
		# (407, 503) ends here.
		if (t_check_trans()) {{
			route(RELAY);
		}}
		exit;
	}}
	sl_send_reply("404", "Not Here");
	exit;
}}

route[RELAY] {{
	xlog("L_NOTICE", "{tag} RELAY reg=[{name}] method=[$rm] ru=[$ru] du=[$du] from=[$fU] to=[$tU] {where}\\n");
	if (!t_relay()) {{
		sl_reply_error();
	}}
	exit;
}}

# Every reply that reaches the provider, before tm matches it to a transaction.
reply_route {{
	xlog("L_NOTICE", "{tag} REPLY reg=[{name}] code=[$rs] method=[$rm] from=[$fU] to=[$tU] {where} allow=[$hdr(Allow)]\\n");
}}
"""

    # -- lifecycle ---------------------------------------------------------------------------

    def check_config(self) -> None:
        self.write_files()
        cmd = [KAMAILIO_BIN, "-c", "-f", self.cfg_path, "-L", MODULES_DIR]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        out = subprocess.run(cmd,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=30)
        if out.returncode != 0:
            raise HarnessError(f"kamailio -c rejected {self.cfg_path}:\n{out.stdout[-4000:]}")

    def start(self, timeout: float = 15.0) -> None:
        if self.running():
            raise HarnessError(f"{self.name} already running")
        self.write_files()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.ctl_path)
        self.starts += 1
        logf = open(self.log_path, "ab")
        logf.write(f"==== {LOG_TAG} START {self.name} #{self.starts} at {time.time():.3f}\n".encode())
        logf.flush()
        cmd = [KAMAILIO_BIN, "-f", self.cfg_path, "-DD", "-E", "-m", str(self.shm_mb),
               "-M", str(self.pkg_mb), "-Y", self.rundir, "-P", self.pid_path,
               "-L", MODULES_DIR]
        if self.netns:
            # `ip netns exec` execs Kamailio in place: same pid, same process group.
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=self.workdir)
        finally:
            logf.close()
        REGISTRY.add(self.proc)
        try:
            wait_until(self._ready, timeout, 0.1, f"kamailio {self.name} on port {self.port}")
        except HarnessError:
            tail = self.log_tail()
            self.stop()
            raise HarnessError(f"kamailio {self.name} did not come up; log tail:\n{tail}")

    def _ready(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise HarnessError(f"kamailio {self.name} exited with {self.proc and self.proc.poll()}")
        if not os.path.exists(self.ctl_path):
            return False
        res = self.kamcmd("core.uptime", timeout=3, check=False)
        return res.returncode == 0

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def freeze(self) -> None:
        """SIGSTOP to every Kamailio process (its own process group): it stops answering
        without closing a socket, as a hung registrar does. thaw() (or stop()) undoes it."""
        os.killpg(self.proc.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen and self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGCONT)
        self.frozen = False

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        if self.proc is None:
            return None
        self.thaw()
        rc = kill_tree(self.proc, grace=timeout)
        REGISTRY.remove(self.proc)
        self.proc = None
        return rc

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        if down_for > 0:
            time.sleep(down_for)
        self.start()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def set_reject_invites(self, reject: bool) -> None:
        """Provider role: answer every new INVITE 503 (True) or handle calls again (False),
        at once, without a restart (which would empty the location table)."""
        if self.provider is None:
            raise HarnessError(f"{self.name} has no provider role")
        self.kamcmd("pv.shvSet", "reject_invites", "int", "1" if reject else "0")

    # -- inspection --------------------------------------------------------------------------

    def kamcmd(self, *args: str, timeout: float = 20.0, check: bool = True):
        res = subprocess.run([KAMCMD_BIN, "-s", f"unix:{self.ctl_path}", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=timeout)
        if check and res.returncode != 0:
            raise HarnessError(f"kamcmd {' '.join(args)} on {self.name} failed "
                               f"({res.returncode}): {res.stderr.strip()}")
        return res

    def jsonrpc(self, method: str, *params, timeout: float = 30.0):
        """Calls a Kamailio RPC through jsonrpcs' FIFO transport; returns the `result`."""
        reply_name = f"reply-{os.getpid()}-{time.monotonic_ns()}"
        reply_path = os.path.join(self.rundir, reply_name)
        os.mkfifo(reply_path, 0o600)
        try:
            # Open our end first: Kamailio opens the reply FIFO for writing only if a reader exists.
            rfd = os.open(reply_path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                request = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params),
                                      "reply_name": reply_name, "id": 1})
                wfd = os.open(self.rpc_fifo, os.O_WRONLY | os.O_NONBLOCK)
                try:
                    os.write(wfd, (request + "\n").encode())
                finally:
                    os.close(wfd)
                chunks: List[bytes] = []
                deadline = time.monotonic() + timeout
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise HarnessError(f"jsonrpc {method} on {self.name}: no reply in {timeout}s")
                    ready, _, _ = select.select([rfd], [], [], min(remaining, 0.5))
                    if not ready:
                        continue
                    data = os.read(rfd, 1 << 20)
                    if data:
                        chunks.append(data)
                    elif chunks:
                        break  # writer closed after sending: complete
                    else:
                        time.sleep(0.01)  # no writer yet
            finally:
                os.close(rfd)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(reply_path)
        doc = json.loads(b"".join(chunks).decode("utf-8", errors="replace"))
        if "error" in doc:
            raise HarnessError(f"jsonrpc {method} on {self.name}: {doc['error']}")
        return doc.get("result")

    def ul_dump(self) -> Dict[str, List[Contact]]:
        """{aor: [Contact]} from the live location table (AoR = user part: use_domain=0)."""
        return parse_ul_dump_json(self.jsonrpc("ul.dump"))

    def ul_dump_text(self) -> Dict[str, List[Contact]]:
        """Same via `kamcmd ul.dump` (binrpc): only for small tables (kamcmd's reply limit)."""
        return parse_ul_dump(self.kamcmd("ul.dump").stdout)

    def log_text(self) -> str:
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def auth_log_until(self, done: Callable[[AuthLog], bool], timeout: float = 5.0) -> AuthLog:
        """auth_log() once done(log) holds, or as it is at the timeout. Kamailio writes its
        SAVED line after save() has sent the 200, so a reply can arrive before its log line."""
        def ready() -> Optional[AuthLog]:
            log = self.auth_log()
            return log if done(log) else None
        try:
            return wait_until(ready, timeout, interval=0.05, what="the auth log")
        except HarnessError:
            return self.auth_log()  # the caller's assertion says what is missing

    def auth_log(self) -> AuthLog:
        noauth: List[Dict[str, str]] = []
        offered: List[OfferedCredential] = []
        results: List[AuthResult] = []
        saved: List[Dict[str, str]] = []
        for line in self.log_text().splitlines():
            m = _LOG_RE.search(line)
            if not m:
                continue
            fields = dict(_FIELD_RE.findall(m.group("rest")))
            kind = m.group("kind")
            if kind == "NOAUTH":
                noauth.append(fields)
            elif kind == "SAVED":
                saved.append(fields)
            elif kind == "CRED":
                hdr = fields.get("hdr", "")
                params = parse_digest_params(hdr)
                offered.append(OfferedCredential(
                    registrar=fields.get("reg", ""), to_user=fields.get("to", ""),
                    callid=fields.get("ci", ""), cseq=fields.get("cseq", ""),
                    source=fields.get("src", ""), header=hdr,
                    username=params.get("username", ""), realm=params.get("realm", ""),
                    params=params, method=fields.get("method", "REGISTER"),
                    from_user=fields.get("from", "")))
            elif kind == "RESULT":
                try:
                    rc = int(fields.get("rc", ""))
                except ValueError:
                    rc = 0
                results.append(AuthResult(
                    registrar=fields.get("reg", ""), to_user=fields.get("to", ""),
                    callid=fields.get("ci", ""), cseq=fields.get("cseq", ""),
                    source=fields.get("src", ""), au=fields.get("au", ""),
                    ar=fields.get("ar", ""), rc=rc, method=fields.get("method", "REGISTER"),
                    from_user=fields.get("from", "")))
        return AuthLog(noauth, offered, results, saved)

    def events(self, *kinds: str, **match: str) -> List[Dict[str, str]]:
        """Every REGFRONT-E2E line of the log as a dict of its fields plus `kind`, in order;
        only those of the given kinds (REQ, RELAY, LOOKUP, CHALLENGE, REJECT, REPLY, CRED,
        RESULT, NOAUTH, SAVED) and whose fields equal `match` (ci="...", method="BYE")."""
        out: List[Dict[str, str]] = []
        for line in self.log_text().splitlines():
            m = _LOG_RE.search(line)
            if not m or m.group("kind") == "START" or (kinds and m.group("kind") not in kinds):
                continue
            fields = dict(_FIELD_RE.findall(m.group("rest")))
            fields["kind"] = m.group("kind")
            if all(fields.get(k) == v for k, v in match.items()):
                out.append(fields)
        return out

    def events_until(self, done: Callable[[List[Dict[str, str]]], bool], *kinds: str,
                     timeout: float = 5.0, **match: str) -> List[Dict[str, str]]:
        """events(...) once done(events) holds, or as they are at the timeout (the caller's
        assertion says what is missing): Kamailio logs a relayed reply after sending it."""
        def ready():
            ev = self.events(*kinds, **match)
            return ev if done(ev) else None
        try:
            return wait_until(ready, timeout, interval=0.05, what="kamailio events")
        except HarnessError:
            return self.events(*kinds, **match)

    def log_errors(self) -> List[str]:
        """Kamailio ERROR/CRITICAL lines (for diagnostics)."""
        return [l for l in self.log_text().splitlines()
                if " ERROR: " in l or " CRITICAL: " in l or " ALERT: " in l]


def start_all(registrars: Sequence[KamailioRegistrar]) -> None:
    """Starts every registrar; on any failure stops those already started and re-raises."""
    started: List[KamailioRegistrar] = []
    try:
        for r in registrars:
            r.start()
            started.append(r)
    except BaseException:
        for r in started:
            r.stop()
        raise


def stop_all(registrars: Sequence[KamailioRegistrar]) -> None:
    for r in registrars:
        with contextlib.suppress(Exception):
            r.stop()
