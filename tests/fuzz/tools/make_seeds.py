#!/usr/bin/env python3
"""Writes the seed corpora of the net_classify, engine_datagram, config_loader and
control_session fuzz targets (tests/fuzz/*/corpus/seed-*). Run it again after changing a seed;
inputs the fuzzer finds go elsewhere (see each target's CMakeLists.txt)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.dirname(HERE)


def write(target, name, data):
    d = os.path.join(FUZZ, target, "corpus")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- net_classify: flags byte, then (len16, frame)* --------------------------------------
OUR_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([2, 0, 0, 0, 0, 2])
BCAST = b"\xff" * 6


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def eth(dst, typ, payload, vlan=0):
    tag = struct.pack("!HH", 0x8100, vlan) if vlan else b""
    return dst + PEER_MAC + tag + struct.pack("!H", typ) + payload


def ipv4(src, dst, proto, l4, ident=7, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, frag, 64, proto, 0, ip4(src), ip4(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + ip6(src) + ip6(dst) + payload


def frames(flags, *fs):
    return bytes([flags]) + b"".join(struct.pack("!H", len(f)) + f for f in fs)


SIP = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.77.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
       b"To: <sip:a@x>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, ip4("10.77.0.254"), b"\0" * 6, ip4("10.77.0.1"))
write("net_classify", "arp-request", frames(0, eth(BCAST, 0x0806, arp)))
write("net_classify", "udp-sip", frames(1, eth(OUR_MAC, 0x0800, ipv4("10.77.0.254", "10.77.0.1", 17, udp(5060, 5060, SIP)))))
write("net_classify", "udp-sip-vlan-chain", frames(1 | 4, eth(OUR_MAC, 0x0800, ipv4("10.78.0.9", "10.78.0.1", 17, udp(5060, 5060, SIP)), vlan=100)))
echo = b"\x08\x00\x00\x00\x00\x01\x00\x01" + b"ping"
write("net_classify", "icmp-echo", frames(1, eth(OUR_MAC, 0x0800, ipv4("10.77.0.254", "10.77.0.1", 1, echo))))
quoted = ipv4("10.77.0.1", "192.0.2.10", 17, udp(5060, 5060, b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 10.77.0.1;branch=z9hG4bKq\r\n"))
unreach = b"\x03\x03\x00\x00\x00\x00\x00\x00" + quoted
write("net_classify", "icmp-port-unreachable", frames(1, eth(OUR_MAC, 0x0800, ipv4("192.0.2.10", "10.77.0.1", 1, unreach))))
body = udp(5060, 5060, SIP * 3)
half = (len(body) // 2) & ~7
write("net_classify", "ipv4-fragments", frames(
    1, eth(OUR_MAC, 0x0800, ipv4("10.77.0.254", "10.77.0.1", 17, body[:half], ident=9, frag=0x2000)),
    eth(OUR_MAC, 0x0800, ipv4("10.77.0.254", "10.77.0.1", 17, body[half:], ident=9, frag=half // 8))))
ns = b"\x87\x00\x00\x00\x00\x00\x00\x00" + ip6("2001:db8:77::1") + b"\x01\x01" + PEER_MAC
write("net_classify", "ipv6-ns", frames(1, eth(b"\x33\x33\xff\x00\x00\x01", 0x86DD, ipv6("2001:db8:77::2", "ff02::1:ff00:1", 58, ns))))
write("net_classify", "ipv6-udp-sip", frames(1 | 2, eth(OUR_MAC, 0x86DD, ipv6("2001:db8:77::2", "2001:db8:77::1", 17, udp(5060, 5060, SIP)))))

# ---- engine_datagram: datagrams separated by "\n%%\n" with $WORDS ------------------------
def resp(code, reason, extra="", to_tag=True, binding=0):
    # "#D": which binding's last REGISTER the $WORDS come from (0: 4085550100 at registrar 1,
    # 2: the same number at registrar 2, answered by the realm-less credential; see the target).
    return (f"#{binding}\nSIP/2.0 {code} {reason}\r\nVia: $VIA\r\nFrom: $FROM\r\nTo: $TO" + (";tag=reg1" if to_tag else "")
            + f"\r\nCall-ID: $CALLID\r\nCSeq: $CSEQ\r\n{extra}Content-Length: 0\r\n\r\n")


SEP = "\n%%\n"
write("engine_datagram", "401-then-200", resp(401, "Unauthorized",
      'WWW-Authenticate: Digest realm="realm-a.ux", nonce="n1", qop="auth", algorithm=MD5\r\n')
      + SEP + resp(200, "OK", "Contact: $CONTACT;expires=600\r\n"))
write("engine_datagram", "407-sha256", resp(407, "Proxy Authentication Required",
      'Proxy-Authenticate: Digest realm="realm-a.ux", nonce="n2", qop="auth,auth-int", algorithm=SHA-256\r\n'))
write("engine_datagram", "401-learned-realm", resp(401, "Unauthorized",
      'WWW-Authenticate: Digest realm="learned.ux", nonce="n3", opaque="o"\r\n', binding=2)
      + SEP + resp(200, "OK", "Contact: $CONTACT;expires=600\r\n", binding=2))
write("engine_datagram", "401-unknown-realm", resp(401, "Unauthorized",
      'WWW-Authenticate: Digest realm="new.ux", nonce="n3", opaque="o"\r\n', binding=2))
write("engine_datagram", "401-stale-twice", resp(401, "Unauthorized",
      'WWW-Authenticate: Digest realm="realm-a.ux", nonce="n4", stale=true\r\n') + SEP
      + resp(401, "Unauthorized", 'WWW-Authenticate: Digest realm="realm-a.ux", nonce="n5", stale=true\r\n'))
write("engine_datagram", "423", resp(423, "Interval Too Brief", "Min-Expires: 1800\r\n"))
write("engine_datagram", "503-retry-after", resp(503, "Service Unavailable", "Retry-After: 120\r\n"))
write("engine_datagram", "100-then-200", resp(100, "Trying", to_tag=False) + SEP
      + resp(200, "OK", "Contact: $CONTACT;expires=60\r\n"))
write("engine_datagram", "icmp-real-quote", "#0\n#U0\n$REQUEST")
write("engine_datagram", "icmp-forged", "#U0\nREGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
      + SEP + "#U1\nREG")
write("engine_datagram", "request", "OPTIONS sip:4085550100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKx\r\n"
      "From: <sip:p@x>;tag=1\r\nTo: <sip:4085550100@x>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")

# ---- config_loader and control_session --------------------------------------------------
CONFIG = """hostname edge-1
interface dpdk0
 ip address 10.77.0.1 255.255.255.0
 ipv6 address 2001:db8:77::1/64
ip route 0.0.0.0 0.0.0.0 10.77.0.254
voice service voip
 ip address trusted list
  ipv4 192.0.2.0 255.255.255.0
dial-peer voice 1 pots
 destination-pattern 408555010.
 authentication username alice password 7 0822455D0A16 realm realm-a.ux
dial-peer voice 100 voip
 destination-pattern +1[2-9]..T
 session target registrar
 description provider B first
 preference 2
 huntstop
 voice-class sip localhost dns:edge.example.net preferred
dial-peer voice 101 voip
 incoming called-number 408555....
 session target ipv4:192.0.2.50:5070
sip-ua
 registrar 1 ipv4:192.0.2.10 expires 600
 registrar 2 dns:reg-b.example.net:5080 expires 3600
 registration rate 500
 credentials number 4085550101 username bob password 0 pw realm realm-b.ux
"""
write("config_loader", "full", CONFIG)
write("config_loader", "errors", "sip-ua\n registrar 9 dns:x\n bogus\ndial-peer voice 0 pots\n")
write("control_session", "configure", "exec enable\nexec configure terminal\nexec sip-ua\n"
      "exec registrar 3 ipv4:192.0.2.30 expires 300\nexec no registrar 2\nhelp regi\n"
      "complete cred\nexec exit\nexec dial-peer voice 7 voip\nexec destination-pattern 9T\n"
      "exec session target dns:x.example:5062\nexec do show running-config\nexec end\nprompt\n")
write("control_session", "refusals", "exec configure terminal\nexec enable\nexec conf t\nexec sip-ua\n"
      "exec registrar 9 dns:x\nexec authentication username a password 0\nexec no credentials number 1\n"
      "help \nexec exit\nexec exit\nexec exit\nexec exit\n")
write("control_session", "reply", "0 12 Router#\nhello world\n1 3 Router(config)#\n% x")
