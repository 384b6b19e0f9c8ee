#!/usr/bin/env python3
"""A deliberately small stand-in for regfrontd, used ONLY to test the e2e tests themselves.

`test_registration.py --fake` runs the scenarios against this script instead of the real
daemon, so that the assertions (F4 order, realm scoping, 423, restart, unregistration) are
known to pass for a correct client and to be meaningful. It is not a reference implementation:
one UDP socket, a select loop, no retransmission subtleties, no control socket.

Command line mirrors regfrontd's: --config FILE --io socket --listen IP:PORT --workers N
--control-socket PATH, or --check-config FILE. FAKE_REGFRONTD_BUG=blind (offer a credential
whatever the realm, as CUBE does) or =no-unregister injects a bug the tests must catch.
"""

import argparse
import os
import random
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kamailio import parse_digest_params  # noqa: E402
from minisip import digest_authorization, parse_response  # noqa: E402


def parse_config(path):
    registrars, ua_auth, creds, peers = {}, [], {}, []
    mode, peer = None, None
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.strip().startswith("!"):
                continue
            words = line.split()
            if not line.startswith(" "):
                mode = words[0]
                if mode == "dial-peer":
                    peer = {"numbers": [], "auth": [], "pots": words[-1] == "pots"}
                    peers.append(peer)
                continue
            if mode == "sip-ua" and words[0] == "registrar":
                host, port = words[2].split(":", 1)[1].rsplit(":", 1)
                exp = int(words[words.index("expires") + 1]) if "expires" in words else 3600
                registrars[int(words[1])] = ((host, int(port)), exp)
            elif words[0] == "authentication":
                entry = (words[2], words[5], words[7] if "realm" in words else None)
                (ua_auth if mode == "sip-ua" else peer["auth"]).append(entry)
            elif mode == "sip-ua" and words[0] == "credentials":
                creds[(words[2], words[9])] = (words[4], words[7])  # (number, realm) key
            elif mode == "dial-peer" and words[0] == "destination-pattern":
                peer["numbers"].append(words[1])
    return registrars, ua_auth, creds, peers


class Binding:
    def __init__(self, number, idx, addr, expires):
        self.number, self.idx, self.addr, self.expires = number, idx, addr, expires
        self.callid = f"{os.urandom(8).hex()}@fake"
        self.cseq = 0
        self.next_at = time.monotonic() + random.random() * 0.5
        self.pending = None     # (cseq, sent_at, message, tries)
        self.state = "idle"
        self.auth_tries = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config")
    ap.add_argument("--check-config")
    ap.add_argument("--io", default="socket")
    ap.add_argument("--listen", default="127.0.0.1:5060")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--control-socket")
    a = ap.parse_args()
    if a.check_config:
        parse_config(a.check_config)
        return 0
    registrars, ua_auth, creds, peers = parse_config(a.config)
    host, port = a.listen.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, int(port)))
    peer_of = {}
    for p in peers:
        for n in p["numbers"]:
            peer_of.setdefault(n, p)
    numbers = list(dict.fromkeys([n for p in peers if p["pots"] for n in p["numbers"]] +
                                 [n for (n, _r) in creds]))
    bindings = [Binding(n, i, addr, exp) for n in numbers
                for i, (addr, exp) in sorted(registrars.items())]
    by_callid = {b.callid: b for b in bindings}

    bug = os.environ.get("FAKE_REGFRONTD_BUG", "")

    def choose(number, realm):
        dp = peer_of.get(number, {"auth": []})["auth"]
        if bug == "blind":  # CUBE's behaviour (seed note F7): first credential, any realm
            for u, p, r in dp + ua_auth:
                return u, p
        for u, p, r in dp:
            if r == realm:
                return u, p
        if (number, realm) in creds:
            return creds[(number, realm)]
        for u, p, r in ua_auth:
            if r == realm:
                return u, p
        for u, p, r in dp + ua_auth:
            if r is None:
                return u, p
        return None

    def send(b, expires, authorization=None):
        b.cseq += 1
        h = b.addr[0]
        msg = "\r\n".join([
            f"REGISTER sip:{h} SIP/2.0",
            f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{os.urandom(6).hex()};rport",
            "Max-Forwards: 70", f"From: <sip:{b.number}@{h}>;tag={b.callid[:8]}",
            f"To: <sip:{b.number}@{h}>", f"Call-ID: {b.callid}", f"CSeq: {b.cseq} REGISTER",
            f"Contact: <sip:{b.number}@{host}:{port}>", f"Expires: {expires}"] +
            ([f"Authorization: {authorization}"] if authorization else []) +
            ["Content-Length: 0", "", ""]).encode()
        b.pending = (b.cseq, time.monotonic(), msg, 1, expires)
        sock.sendto(msg, b.addr)

    stopping = [False]
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__(0, True))
    stop_deadline = None
    while True:
        now = time.monotonic()
        if stopping[0] and stop_deadline is None:
            stop_deadline = now + 4
            for b in bindings:
                if bug != "no-unregister" and (b.state == "registered" or b.pending):
                    b.expires, b.state, b.auth_tries = 0, "unregistering", 0
                    send(b, 0)
        if stop_deadline is not None and (now > stop_deadline or
                                          not any(b.pending for b in bindings)):
            return 0
        for b in bindings:
            if b.pending:
                cseq, sent, msg, tries, exp = b.pending
                if now - sent > 1.0:
                    if tries >= 4:
                        b.pending, b.state, b.next_at = None, "failed", now + 5
                    else:
                        b.pending = (cseq, now, msg, tries + 1, exp)
                        sock.sendto(msg, b.addr)
            elif stop_deadline is None and b.state not in ("dead",) and now >= b.next_at:
                b.auth_tries = 0
                send(b, b.expires)
        r, _, _ = select.select([sock], [], [], 0.05)
        for _ in range(256):
            if not r:
                break
            try:
                data, _src = sock.recvfrom(65535, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            try:
                resp = parse_response(data)
            except ValueError:
                continue
            b = by_callid.get(resp.header("Call-ID") or "")
            if not b or not b.pending or not (resp.header("CSeq") or "").startswith(f"{b.pending[0]} "):
                continue
            exp = b.pending[4]
            if resp.code < 200:
                continue
            b.pending = None
            if resp.code in (401, 407) and b.auth_tries < 2:
                ch = parse_digest_params(resp.header("WWW-Authenticate") or
                                         resp.header("Proxy-Authenticate") or "")
                cred = choose(b.number, ch.get("realm"))
                if cred is None:
                    b.state = "dead"  # F4.5: no blind retry
                    continue
                b.auth_tries += 1
                send(b, exp, digest_authorization(ch, "REGISTER", f"sip:{b.addr[0]}",
                                                  cred[0], cred[1]))
            elif resp.code == 423 and exp:
                b.expires = int(resp.header("Min-Expires") or b.expires * 2)
                b.auth_tries = 0
                send(b, b.expires)
            elif 200 <= resp.code < 300:
                b.state = "registered" if exp else "unregistered"
                b.next_at = time.monotonic() + exp * 0.8 * random.uniform(0.85, 1.0)
            else:
                b.state, b.next_at = "failed", time.monotonic() + 5


if __name__ == "__main__":
    sys.exit(main())
