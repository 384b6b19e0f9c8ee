"""Network rigs for regfront's DPDK end-to-end tests: namespaces, veth pairs, taps, VLANs.

A `NetRig` creates Linux network namespaces, veth pairs, persistent taps, 802.1Q
sub-interfaces, addresses (IPv4 and IPv6), routes and forwarding in a "router" namespace, and
runs commands (Kamailio) inside a namespace with `ip netns exec`. Everything it creates carries
a per-run tag in its name and is torn down by `close()` — also at interpreter exit (atexit) and
when the rig is used as a context manager and the body raises. A later run also removes what a
killed run (SIGKILL: no atexit) left behind: names embed the creating pid, and objects whose pid
is dead are deleted at the next `NetRig()`.

Naming (interface names are at most 15 characters):
  namespaces  rfe2e-<pid>-<n>-<role>     e.g. rfe2e-4242-1-router
  interfaces  r<tag><suffix>             tag = 6 hex characters per rig, suffix <= 8 chars

Needs root (CAP_NET_ADMIN) and iproute2. Traffic stays on links the rig creates. Every command
is bounded by a timeout. Only the Python standard library is used.

    with NetRig() as rig:
        router = rig.netns("router")
        reg = rig.netns("reg")
        dp, peer = rig.veth("d0", "p0", b_ns=router)        # dp stays in the root namespace
        rig.up(dp); rig.disable_ipv6(dp)                     # DPDK's af_packet takes dp
        rig.addr(peer, "10.77.0.254/24", ns=router)
        r1, k1 = rig.veth("r1", "k1", a_ns=router, b_ns=reg)
        rig.addr(r1, "10.79.0.254/24", ns=router); rig.addr(k1, "10.79.0.1/24", ns=reg)
        rig.route("default", "10.79.0.254", ns=reg)
        rig.forwarding(router)
        rig.run(["ping", "-c1", "10.79.0.1"], ns=router)
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import itertools
import os
import re
import secrets
import select
import socket
import struct
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

IP_BIN = os.environ.get("IP_BIN", "ip")
NS_PREFIX = "rfe2e-"
CMD_TIMEOUT = 20.0

_seq = itertools.count(1)


class RigError(RuntimeError):
    pass


def _run(cmd: Sequence[str], timeout: float = CMD_TIMEOUT, check: bool = True,
         input_text: Optional[str] = None) -> subprocess.CompletedProcess:
    try:
        res = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=timeout, input=input_text)
    except subprocess.TimeoutExpired as exc:
        raise RigError(f"{' '.join(cmd)}: no answer in {timeout:.0f}s") from exc
    if check and res.returncode != 0:
        raise RigError(f"{' '.join(cmd)} exited {res.returncode}: {res.stderr.strip()}")
    return res


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def sweep_stale() -> List[str]:
    """Deletes namespaces (and root-namespace links) left by rigs whose process is gone."""
    removed = []
    res = _run([IP_BIN, "netns", "list"], check=False)
    for line in res.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(re.escape(NS_PREFIX) + r"(\d+)-", name)
        if m and not _pid_alive(int(m.group(1))):
            _run([IP_BIN, "netns", "del", name], check=False)
            removed.append(name)
    # Root-namespace links: their alias records the owner pid ("rfe2e pid=N").
    res = _run([IP_BIN, "-o", "link", "show"], check=False)
    for line in res.stdout.splitlines():
        m = re.search(r"^\d+: ([^:@]+)[:@].*alias rfe2e pid=(\d+)", line)
        if m and not _pid_alive(int(m.group(2))):
            _run([IP_BIN, "link", "del", m.group(1)], check=False)
            removed.append(m.group(1))
    return removed


class NetRig:
    """A set of namespaces and links owned by this process; see the module docstring."""

    def __init__(self, sweep: bool = True):
        if os.geteuid() != 0:
            raise RigError("network rigs need root (CAP_NET_ADMIN)")
        if sweep:
            sweep_stale()
        self.tag = secrets.token_hex(3)
        self.serial = next(_seq)
        self.namespaces: List[str] = []
        self.root_links: List[str] = []
        self.processes: List[subprocess.Popen] = []
        self.closed = False
        atexit.register(self.close)

    # -- naming -------------------------------------------------------------------------------

    def ifname(self, suffix: str) -> str:
        name = f"r{self.tag}{suffix}"
        if len(name) > 15 or not re.match(r"^[A-Za-z0-9._-]+$", name):
            raise RigError(f"bad interface name {name!r} (suffix {suffix!r} too long?)")
        return name

    # -- namespaces ---------------------------------------------------------------------------

    def netns(self, role: str) -> str:
        """Creates namespace rfe2e-<pid>-<serial>-<role> with `lo` up; returns its name."""
        name = f"{NS_PREFIX}{os.getpid()}-{self.serial}-{role}"
        _run([IP_BIN, "netns", "add", name])
        self.namespaces.append(name)
        self.up("lo", ns=name)
        return name

    @staticmethod
    def _ip(ns: Optional[str]) -> List[str]:
        return [IP_BIN] + (["-n", ns] if ns else [])

    def ip(self, *args: str, ns: Optional[str] = None, check: bool = True) -> str:
        return _run(self._ip(ns) + list(args), check=check).stdout

    # -- links --------------------------------------------------------------------------------

    def _owned(self, name: str, ns: Optional[str]) -> None:
        if ns is None:
            self.root_links.append(name)
            self.ip("link", "set", "dev", name, "alias", f"rfe2e pid={os.getpid()}", check=False)

    def veth(self, a_suffix: str, b_suffix: str, a_ns: Optional[str] = None,
             b_ns: Optional[str] = None, mtu: Optional[int] = None, up: bool = True
             ) -> Tuple[str, str]:
        """A veth pair r<tag><a>/r<tag><b>, each end in its namespace (None: root). Returns names."""
        a, b = self.ifname(a_suffix), self.ifname(b_suffix)
        cmd = ["link", "add", a]
        if a_ns:
            cmd += ["netns", a_ns]
        cmd += ["type", "veth", "peer", "name", b]
        if b_ns:
            cmd += ["netns", b_ns]
        self.ip(*cmd)
        self._owned(a, a_ns)
        self._owned(b, b_ns)
        for name, ns in ((a, a_ns), (b, b_ns)):
            if mtu:
                self.ip("link", "set", "dev", name, "mtu", str(mtu), ns=ns)
            if up:
                self.up(name, ns=ns)
        return a, b

    def tap(self, suffix: str, ns: Optional[str] = None, multi_queue: bool = True) -> str:
        """A persistent tap (in `ns`, else the root namespace). DPDK's net_tap (`--vdev
        net_tap0,iface=NAME`) attaches to it (it opens the tap multi-queue, hence the flag), so
        the kernel side can be addressed, and a registrar bound to it, before regfrontd runs.
        regfrontd must then run in the same namespace (net_tap configures the tap by name)."""
        name = self.ifname(suffix)
        cmd = ["tuntap", "add", "dev", name, "mode", "tap"]
        if multi_queue:
            cmd.append("multi_queue")
        self.ip(*cmd, ns=ns)
        self._owned(name, ns)
        return name

    def vlan(self, parent: str, vid: int, ns: Optional[str] = None, name: Optional[str] = None,
             up: bool = True) -> str:
        """802.1Q sub-interface PARENT.VID (or `name`) in the parent's namespace.

        Kernels built without 8021q (no `type vlan`: "Unknown device type") get an emulated
        one: a tap named like the sub-interface, with the parent's MAC, and a small process in
        the namespace (this file, --vlan-bridge) that moves frames tagged VID between the
        parent (AF_PACKET) and the tap, popping/pushing the tag. To the tests it is the same:
        an interface PARENT.VID that sends and receives VLAN VID on PARENT."""
        name = name or f"{parent}.{vid}"
        if len(name) > 15:
            name = f"{parent[:15 - len(str(vid)) - 1]}.{vid}"
        res = _run(self._ip(ns) + ["link", "add", "link", parent, "name", name, "type", "vlan",
                                   "id", str(vid)], check=False)
        if res.returncode == 0:
            if ns is None:
                self._owned(name, None)
        elif "Unknown device type" in res.stderr or "not supported" in res.stderr.lower():
            self._vlan_bridge(parent, vid, name, ns)
        else:
            raise RigError(f"vlan {name}: {res.stderr.strip()}")
        if up:
            self.up(name, ns=ns)
        return name

    def _vlan_bridge(self, parent: str, vid: int, name: str, ns: Optional[str]) -> None:
        mac = self.mac(parent, ns=ns)
        proc = self.popen([sys.executable, os.path.abspath(__file__), "--vlan-bridge", parent,
                           str(vid), name, mac], ns=ns, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.processes.append(proc)
        line = ""
        ready, _, _ = select.select([proc.stdout], [], [], 10.0)
        if ready:
            line = proc.stdout.readline().strip()
        if line != "ready":
            rest = ""
            with contextlib.suppress(Exception):
                proc.kill()
                rest = proc.communicate(timeout=5)[0]
            raise RigError(f"vlan bridge for {name} did not start: {line!r} {rest!r}")
        if ns is None:
            self._owned(name, None)

    def up(self, name: str, ns: Optional[str] = None) -> None:
        self.ip("link", "set", "dev", name, "up", ns=ns)

    def mtu(self, name: str, mtu: int, ns: Optional[str] = None) -> None:
        self.ip("link", "set", "dev", name, "mtu", str(mtu), ns=ns)

    def mac(self, name: str, ns: Optional[str] = None) -> str:
        out = self.ip("-o", "link", "show", "dev", name, ns=ns)
        m = re.search(r"link/ether ([0-9a-f:]{17})", out)
        if not m:
            raise RigError(f"no MAC for {name}: {out}")
        return m.group(1)

    def addr(self, name: str, cidr: str, ns: Optional[str] = None) -> None:
        """IPv4 or IPv6 address; IPv6 without duplicate address detection (usable at once)."""
        iface = ipaddress.ip_interface(cidr)
        cmd = ["addr", "add", cidr, "dev", name]
        if iface.version == 6:
            cmd.append("nodad")
        self.ip(*cmd, ns=ns)

    def route(self, dst: str, via: str, ns: Optional[str] = None, dev: Optional[str] = None) -> None:
        v6 = ":" in via
        cmd = (["-6"] if v6 else []) + ["route", "replace", dst, "via", via]
        if dev:
            cmd += ["dev", dev]
        self.ip(*cmd, ns=ns)

    # -- sysctls (per namespace) --------------------------------------------------------------

    def sysctl(self, key: str, value: str, ns: Optional[str] = None) -> None:
        cmd = ["sysctl", "-q", "-w", f"{key}={value}"]
        if ns:
            cmd = [IP_BIN, "netns", "exec", ns] + cmd
        elif not key.startswith(("net.ipv4.conf.r", "net.ipv6.conf.r")):
            raise RigError(f"refusing to change root-namespace sysctl {key}")
        _run(cmd)

    def forwarding(self, ns: str, v4: bool = True, v6: bool = True) -> None:
        """Turns `ns` into a router (namespaces start with forwarding off)."""
        if v4:
            self.sysctl("net.ipv4.ip_forward", "1", ns=ns)
        if v6:
            self.sysctl("net.ipv6.conf.all.forwarding", "1", ns=ns)

    def disable_ipv6(self, name: str, ns: Optional[str] = None) -> None:
        """No link-local address, RS or MLD on a link DPDK owns (keeps its traffic ours)."""
        self.sysctl(f"net.ipv6.conf.{name}.disable_ipv6", "1", ns=ns)

    def tx_checksum_off(self, name: str, ns: Optional[str] = None) -> None:
        """Software checksums on frames leaving `name` (ethtool -K NAME tx off, without
        ethtool). veth otherwise hands packets on with CHECKSUM_PARTIAL, i.e. an unfinished
        UDP checksum, and a DPDK af_packet port on the other end sees them as corrupt."""
        self.run([sys.executable, os.path.abspath(__file__), "--tx-csum-off", name], ns=ns)

    def icmp_unlimited(self, ns: str) -> None:
        """No ICMP rate limit in `ns` (every datagram to a closed port gets its unreachable)."""
        self.sysctl("net.ipv4.icmp_ratelimit", "0", ns=ns)
        self.sysctl("net.ipv6.icmp.ratelimit", "0", ns=ns)

    # -- commands in a namespace --------------------------------------------------------------

    @staticmethod
    def wrap(cmd: Sequence[str], ns: Optional[str]) -> List[str]:
        """`cmd` prefixed with `ip netns exec NS` (ip execs it: same pid, same process group)."""
        return ([IP_BIN, "netns", "exec", ns] if ns else []) + list(cmd)

    def run(self, cmd: Sequence[str], ns: Optional[str] = None, timeout: float = CMD_TIMEOUT,
            check: bool = True) -> subprocess.CompletedProcess:
        return _run(self.wrap(cmd, ns), timeout=timeout, check=check)

    def popen(self, cmd: Sequence[str], ns: Optional[str] = None, **kw) -> subprocess.Popen:
        kw.setdefault("start_new_session", True)
        return subprocess.Popen(self.wrap(cmd, ns), **kw)

    def ping(self, dst: str, ns: Optional[str] = None, count: int = 1, timeout: float = 3.0) -> bool:
        """ICMP/ICMPv6 echo from `ns` (this file's --ping: no ping binary needed). True if any
        of `count` echoes is answered within `timeout` seconds each."""
        res = self.run([sys.executable, os.path.abspath(__file__), "--ping", dst, str(count),
                        str(timeout)], ns=ns, timeout=timeout * count + 10, check=False)
        return res.returncode == 0

    def wait_link(self, name: str, ns: Optional[str] = None, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ip("link", "show", "dev", name, ns=ns, check=False):
                return
            time.sleep(0.1)
        raise RigError(f"link {name} did not appear in {timeout:.0f}s")

    def describe(self) -> str:
        """Addresses, routes and neighbours of every namespace (for failure diagnostics)."""
        parts = []
        for ns in [None] + self.namespaces:
            label = ns or "root"
            try:
                links = self.ip("-br", "addr", ns=ns)
                if ns is None:
                    links = "\n".join(l for l in links.splitlines()
                                      if l.startswith(f"r{self.tag}"))
                parts.append(f"[{label}] addresses:\n{links}")
                if ns is not None:
                    parts.append(f"[{label}] neighbours:\n{self.ip('neigh', ns=ns, check=False)}"
                                 f"{self.ip('-6', 'neigh', ns=ns, check=False)}")
                    parts.append(f"[{label}] routes:\n{self.ip('route', ns=ns, check=False)}"
                                 f"{self.ip('-6', 'route', ns=ns, check=False)}")
            except RigError as exc:
                parts.append(f"[{label}] {exc}")
        return "\n".join(parts)

    # -- teardown -----------------------------------------------------------------------------

    def close(self) -> None:
        """Deletes every namespace (and so the links inside) and every root link. Idempotent."""
        if self.closed:
            return
        self.closed = True
        errors = []
        for proc in self.processes:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, 9)
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        self.processes.clear()
        for name in reversed(self.root_links):
            res = _run([IP_BIN, "link", "del", name], check=False)
            if res.returncode != 0 and "Cannot find device" not in res.stderr \
                    and "does not exist" not in res.stderr:
                errors.append(f"link {name}: {res.stderr.strip()}")
        for ns in reversed(self.namespaces):
            # Processes still running inside would keep the namespace's links alive.
            pids = _run([IP_BIN, "netns", "pids", ns], check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            res = _run([IP_BIN, "netns", "del", ns], check=False)
            if res.returncode != 0:
                errors.append(f"netns {ns}: {res.stderr.strip()}")
        self.root_links.clear()
        self.namespaces.clear()
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)
        if errors:
            raise RigError("teardown: " + "; ".join(errors))

    def __enter__(self) -> "NetRig":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# Userspace 802.1Q sub-interface (kernels without 8021q): `python3 netrig.py --vlan-bridge
# PARENT VID TAPNAME MAC`, run inside the namespace. Frames tagged VID on PARENT reach the tap
# untagged; frames the kernel sends on the tap leave PARENT tagged VID.
# --------------------------------------------------------------------------------------------

_TUNSETIFF = 0x400454CA
_IFF_TAP, _IFF_NO_PI = 0x0002, 0x1000
_ETH_P_ALL, _ETH_P_8021Q = 0x0003, 0x8100
_SOL_PACKET, _PACKET_AUXDATA, _TP_STATUS_VLAN_VALID = 263, 8, 0x10
_PACKET_OUTGOING = 4


def _vlan_bridge_main(parent: str, vid: int, tap_name: str, mac: str) -> int:
    import fcntl
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, _TUNSETIFF, struct.pack("16sH", tap_name.encode(), _IFF_TAP | _IFF_NO_PI))
    _run([IP_BIN, "link", "set", "dev", tap_name, "address", mac])
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
    raw.setsockopt(_SOL_PACKET, _PACKET_AUXDATA, 1)
    raw.bind((parent, _ETH_P_ALL))
    print("ready", flush=True)
    tag = struct.pack("!HH", _ETH_P_8021Q, vid & 0x0FFF)
    while True:
        ready, _, _ = select.select([raw, tap], [], [])
        if raw in ready:
            data, anc, _flags, addr = raw.recvmsg(65536, socket.CMSG_LEN(64))
            if addr[2] == _PACKET_OUTGOING or len(data) < 14:
                continue
            frame_vid = None
            for level, kind, blob in anc:
                if level == _SOL_PACKET and kind == _PACKET_AUXDATA and len(blob) >= 20:
                    status, _len, _snap, _mac, _net, tci, _tpid = struct.unpack("IIIHHHH",
                                                                                blob[:20])
                    if status & _TP_STATUS_VLAN_VALID:
                        frame_vid = tci & 0x0FFF
            if frame_vid is None and data[12:14] == b"\x81\x00" and len(data) >= 18:
                frame_vid = struct.unpack("!H", data[14:16])[0] & 0x0FFF
                data = data[:12] + data[16:]  # tag still inline: pop it
            if frame_vid == vid:
                with contextlib.suppress(OSError):
                    os.write(tap, data)
        if tap in ready:
            data = os.read(tap, 65536)
            if len(data) >= 14:
                with contextlib.suppress(OSError):
                    raw.send(data[:12] + tag + data[12:])


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ping_main(dst: str, count: int, timeout: float) -> int:
    """Exit 0 when one of `count` ICMP echo requests to `dst` is answered."""
    v6 = ":" in dst
    sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                         socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    for seq in range(1, count + 1):
        body = struct.pack("!d", time.time()) + b"regfront-netrig"
        if v6:  # the kernel fills in the ICMPv6 checksum
            pkt = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + body
        else:
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            pkt = struct.pack("!BBHHH", 8, 0, _checksum(hdr + body), ident, seq) + body
        sock.sendto(pkt, (dst, 0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            data = sock.recv(65535)
            icmp = data if v6 else data[(data[0] & 0x0F) * 4:]
            if len(icmp) >= 8:
                typ, _code, _ck, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
                if typ == (129 if v6 else 0) and rid == ident and rseq == seq:
                    return 0
    return 1


def _tx_csum_off_main(name: str) -> int:
    import array
    import fcntl
    siocethtool, ethtool_stxcsum, ethtool_gtxcsum = 0x8946, 0x17, 0x16
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for cmd in (ethtool_stxcsum, ethtool_gtxcsum):
        buf = array.array("I", [cmd, 0])
        ifreq = struct.pack("16sP", name.encode(), buf.buffer_info()[0])
        fcntl.ioctl(sock, siocethtool, ifreq)
    if buf[1] != 0:
        print(f"{name}: tx checksumming still on", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--tx-csum-off":
        sys.exit(_tx_csum_off_main(sys.argv[2]))
    if len(sys.argv) == 5 and sys.argv[1] == "--ping":
        sys.exit(_ping_main(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
    if len(sys.argv) == 6 and sys.argv[1] == "--vlan-bridge":
        sys.exit(_vlan_bridge_main(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
    print("usage: netrig.py --vlan-bridge PARENT VID TAPNAME MAC (see NetRig.vlan)",
          file=sys.stderr)
    sys.exit(2)
