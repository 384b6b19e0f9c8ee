"""A user-space UDP impairment relay for end-to-end tests (there is no `tc netem` here).

`ImpairRelay(upstream)` listens on 127.0.0.1:<port>; whoever sends to it (regfrontd, which takes
the relay for its registrar) is relayed to `upstream` from a socket of the relay's own, one per
client address, and what comes back on that socket is relayed to the client. Each direction
drops a datagram with probability `loss` (a seeded PRNG: a run is repeatable for a given
arrival order), and may duplicate (`dup`) or hold one back behind the next (`reorder`).
Registrars answer to the source address (regfront's Via carries ;rport, RFC 3581), so both
directions go through the relay.

It counts per direction: received, dropped, duplicated, reordered, sent; and the SIP requests
it relayed upstream by method and by whole second since start, so a test can check a
registrar's load (e.g. REGISTERs per second). Python standard library only; one thread."""

from __future__ import annotations

import collections
import random
import select
import socket
import threading
import time
from typing import Dict, Optional, Tuple

Addr = Tuple[str, int]


class ImpairRelay:
    def __init__(self, upstream: Addr, loss: float = 0.0, dup: float = 0.0, reorder: float = 0.0,
                 seed: int = 1, host: str = "127.0.0.1", port: int = 0, max_clients: int = 64):
        for name, p in (("loss", loss), ("dup", dup), ("reorder", reorder)):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"{name} {p} not in [0, 1)")
        self.upstream = upstream
        self.loss, self.dup, self.reorder = loss, dup, reorder
        self.rng = random.Random(seed)
        self.max_clients = max_clients
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.front.bind((host, port))
        self.address: Addr = self.front.getsockname()
        self.back: Dict[Addr, socket.socket] = {}       # client -> its upstream socket
        self.client_of: Dict[socket.socket, Addr] = {}  # upstream socket -> client
        self.held: Dict[str, Optional[Tuple[socket.socket, bytes, Addr]]] = {"up": None, "down": None}
        self.counts = {d: collections.Counter() for d in ("up", "down")}
        self.requests = collections.Counter()          # method -> relayed upstream
        self.per_second = collections.defaultdict(collections.Counter)  # method -> {second: n}
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="impair-relay", daemon=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> None:
        self.t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for s in [self.front] + list(self.back.values()):
            s.close()

    def set_loss(self, loss: float) -> None:
        self.loss = loss

    def _upstream_socket(self, client: Addr) -> Optional[socket.socket]:
        s = self.back.get(client)
        if s is None:
            if len(self.back) >= self.max_clients:
                self.counts["up"]["refused_clients"] += 1
                return None
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((self.address[0], 0))
            self.back[client] = s
            self.client_of[s] = client
        return s

    def _count_request(self, data: bytes) -> None:
        if data[:8] == b"SIP/2.0 ":
            return
        method = data.split(b" ", 1)[0].decode("ascii", "replace")
        self.requests[method] += 1
        self.per_second[method][int(time.monotonic() - self.t0)] += 1

    def _send(self, direction: str, sock: socket.socket, data: bytes, to: Addr) -> None:
        c = self.counts[direction]
        c["received"] += 1
        if self.rng.random() < self.loss:
            c["dropped"] += 1
            return
        copies = 2 if self.rng.random() < self.dup else 1
        if copies == 2:
            c["duplicated"] += 1
        if self.held[direction] is None and self.rng.random() < self.reorder:
            self.held[direction] = (sock, data, to)  # goes out after the next one
            c["reordered"] += 1
            return
        for _ in range(copies):
            if direction == "up":
                self._count_request(data)
            try:
                sock.sendto(data, to)
                c["sent"] += 1
            except OSError:
                c["send_errors"] += 1
        held, self.held[direction] = self.held[direction], None
        if held is not None:
            if direction == "up":
                self._count_request(held[1])
            try:
                held[0].sendto(held[1], held[2])
                c["sent"] += 1
            except OSError:
                c["send_errors"] += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            socks = [self.front] + list(self.back.values())
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                try:
                    data, src = s.recvfrom(65535)
                except OSError:
                    continue
                if s is self.front:
                    up = self._upstream_socket(src)
                    if up is not None:
                        self._send("up", up, data, self.upstream)
                else:
                    self._send("down", self.front, data, self.client_of[s])

    def summary(self) -> str:
        return (f"up {dict(self.counts['up'])}, down {dict(self.counts['down'])}, "
                f"requests {dict(self.requests)}")
