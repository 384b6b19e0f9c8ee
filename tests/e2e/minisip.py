"""A tiny SIP-over-UDP user agent client, just enough to drive REGISTER against Kamailio.

Used by test_kamailio_harness.py to prove the generated registrar configurations behave as the
regfront end-to-end tests assume (challenge realm/algorithm/qop, digest check, 423, 403).
Loopback only. Python standard library only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import time
from typing import Dict, List, Optional, Tuple

from kamailio import parse_digest_params


@dataclasses.dataclass
class SipResponse:
    code: int
    reason: str
    headers: List[Tuple[str, str]]
    raw: str

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name: str) -> List[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def parse_response(data: bytes) -> SipResponse:
    text = data.decode("utf-8", errors="replace")
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[0].startswith("SIP/2.0"):
        raise ValueError(f"not a SIP response: {lines[0]!r}")
    headers: List[Tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded line
            k, v = headers[-1]
            headers[-1] = (k, v + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return SipResponse(int(status[1]), status[2] if len(status) > 2 else "", headers, text)


def _hash(algorithm: str, data: str) -> str:
    algo = (algorithm or "MD5").upper()
    if algo.endswith("-SESS"):
        algo = algo[:-5]
    if algo == "MD5":
        return hashlib.md5(data.encode()).hexdigest()
    if algo == "SHA-256":
        return hashlib.sha256(data.encode()).hexdigest()
    if algo == "SHA-512-256":
        return hashlib.new("sha512_256", data.encode()).hexdigest()
    raise ValueError(f"unknown digest algorithm {algorithm!r}")


def digest_authorization(challenge: Dict[str, str], method: str, uri: str, username: str,
                         password: str, realm: Optional[str] = None, nc: int = 1,
                         cnonce: Optional[str] = None) -> str:
    """Builds an Authorization header value answering `challenge` (RFC 2617 / 7616).

    `realm` overrides the realm used (to build deliberately wrong-realm credentials)."""
    algorithm = challenge.get("algorithm", "")
    realm = challenge.get("realm", "") if realm is None else realm
    nonce = challenge["nonce"]
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in qops else (qops[0] if qops else "")
    cnonce = cnonce or os.urandom(8).hex()
    nc_str = f"{nc:08x}"
    ha1 = _hash(algorithm, f"{username}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = _hash(algorithm, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _hash(algorithm, f"{method}:{uri}")
    if qop:
        response = _hash(algorithm, f"{ha1}:{nonce}:{nc_str}:{cnonce}:{qop}:{ha2}")
    else:
        response = _hash(algorithm, f"{ha1}:{nonce}:{ha2}")
    parts = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"',
             f'uri="{uri}"', f'response="{response}"']
    if algorithm:
        parts.append(f"algorithm={algorithm}")
    if qop:
        parts += [f"qop={qop}", f"nc={nc_str}", f'cnonce="{cnonce}"']
    if "opaque" in challenge:
        parts.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(parts)


class RegisterClient:
    """Sends REGISTERs for one number from a UDP socket bound on 127.0.0.1."""

    def __init__(self, registrar: Tuple[str, int], number: str, timeout: float = 2.0,
                 contact: Optional[str] = None):
        """contact: the Contact URI to register (default: this client's own socket), e.g. a
        SIPp UAS that stands in for regfront in the call harness."""
        self.registrar = registrar
        self.number = number
        self.timeout = timeout
        self.contact = contact
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(timeout)
        self.local = self.sock.getsockname()
        self.callid = f"{os.urandom(8).hex()}@127.0.0.1"
        self.tag = os.urandom(4).hex()
        self.cseq = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def request_uri(self) -> str:
        return f"sip:{self.registrar[0]}:{self.registrar[1]}"

    @property
    def contact_uri(self) -> str:
        if self.contact:
            return self.contact
        return f"sip:{self.number}@{self.local[0]}:{self.local[1]}"

    def build(self, expires: int, authorization: Optional[str] = None,
              extra_headers: Tuple[str, ...] = ()) -> bytes:
        self.cseq += 1
        host = self.registrar[0]
        branch = "z9hG4bK" + os.urandom(8).hex()
        lines = [
            f"REGISTER {self.request_uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.local[0]}:{self.local[1]};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{self.number}@{host}>;tag={self.tag}",
            f"To: <sip:{self.number}@{host}>",
            f"Call-ID: {self.callid}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <{self.contact_uri}>",
            f"Expires: {expires}",
            "User-Agent: regfront-e2e-minisip",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        lines.extend(extra_headers)
        lines.append("Content-Length: 0")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def transact(self, expires: int, authorization: Optional[str] = None,
                 attempts: int = 3, extra_headers: Tuple[str, ...] = ()) -> SipResponse:
        """Sends one REGISTER and returns its final response (retransmits on loss)."""
        msg = self.build(expires, authorization, extra_headers)
        cseq = self.cseq
        for _ in range(attempts):
            self.sock.sendto(msg, self.registrar)
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                try:
                    data, _src = self.sock.recvfrom(65535)
                except socket.timeout:
                    break
                resp = parse_response(data)
                cseq_hdr = resp.header("CSeq") or ""
                if not cseq_hdr.startswith(f"{cseq} "):
                    continue  # stale response to an earlier request
                if resp.code >= 200:
                    return resp
        raise TimeoutError(f"no final response to REGISTER cseq {cseq} from {self.registrar}")

    def register(self, username: str, password: str, expires: int = 60,
                 realm_override: Optional[str] = None) -> Tuple[SipResponse, SipResponse]:
        """REGISTER, answer the 401 once; returns (challenge response, final response)."""
        first = self.transact(expires)
        if first.code not in (401, 407):
            return first, first
        hdr = first.header("WWW-Authenticate") or first.header("Proxy-Authenticate") or ""
        challenge = parse_digest_params(hdr)
        auth = digest_authorization(challenge, "REGISTER", self.request_uri, username,
                                    password, realm=realm_override)
        return first, self.transact(expires, auth)
