// dataplane/net/rx.cc — classification of received frames.
//
// Order of work per burst: prefetch the next frame's first cache line, classify each frame
// (Ethernet → interface → ARP | IPv4 | IPv6 → UDP | ICMP), count the burst once, then flush
// reassembly's death row. Headers are read with rte_pktmbuf_read, which returns a pointer into
// the first segment when the header is contiguous (the usual case) and copies it into a stack
// buffer otherwise, so one code path covers multi-segment mbufs. Every frame ends in exactly one
// place: a delivered datagram (mbuf held until release()), a reply (new mbuf; the request is
// freed), reassembly (DPDK holds it), or a counted drop.
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "internal.h"

namespace regfront::net {

using namespace wire;

namespace {
bool is_multicast_mac(const std::uint8_t* mac) { return (mac[0] & 1) != 0; }
constexpr std::uint8_t kIcmpEchoReply = 0, kIcmpUnreach = 3, kIcmpEcho = 8;
constexpr std::uint8_t kIcmp6Unreach = 1, kIcmp6Echo = 128, kIcmp6Ns = 135, kIcmp6Na = 136;
}  // namespace

std::size_t NetStack::classify(rte_mbuf** pkts, std::size_t n, std::uint64_t now, RxDatagram* out,
                               std::size_t max_out) {
  assert(n <= kMaxBurst);
  release();
  State& s = *s_;
  State::Rx rx{out, max_out, 0};
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    s.rx_one(pkts[i], now, rx);
  }
  s.c.rx_packets.inc(n);
  s.c.rx_udp_delivered.inc(rx.count);
  s.flush_death_row(false);
  return rx.count;
}

void NetStack::State::raise(const UnreachableEvent& e, rte_mbuf* m, std::uint32_t off, std::uint32_t len) {
  if (nevents == events.size()) {
    c.drop_event_overflow.inc();
    return;
  }
  UnreachableEvent& out = events[nevents++];
  out.dst = e.dst;  // field by field: `e` carries no quote, and a whole copy would move 512 bytes
  out.src = e.src;
  out.reporter = e.reporter;
  out.kind = e.kind;
  out.type = e.type;
  out.code = e.code;
  out.interface = e.interface;
  const std::uint32_t n = std::min<std::uint32_t>(len, UnreachableEvent::kMaxQuoted);
  const void* q = n != 0 ? rte_pktmbuf_read(m, off, n, out.quoted) : nullptr;
  if (q != nullptr && q != out.quoted) std::memcpy(out.quoted, q, n);
  out.quoted_len = static_cast<std::uint16_t>(q != nullptr ? n : 0);
  c.icmp_unreachable.inc();
}

void NetStack::State::rx_one(rte_mbuf* m, std::uint64_t now, Rx& rx) {
  std::uint8_t buf[kEthLen + kVlanLen];
  const std::uint32_t plen = rte_pktmbuf_pkt_len(m);
  const auto* eth = plen >= kEthLen ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 0, kEthLen, buf))
                                    : nullptr;
  if (eth == nullptr) {
    c.drop_eth_short.inc();
    rte_pktmbuf_free(m);
    return;
  }
  std::uint16_t type = be16(eth + 12);
  std::uint32_t l2 = kEthLen;
  std::uint16_t vlan = 0;
  if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) vlan = m->vlan_tci & 0xfff;
  if (type == kEthVlan) {
    const auto* tag = plen >= kEthLen + kVlanLen
                          ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, kEthLen, kVlanLen, buf + kEthLen))
                          : nullptr;
    if (tag == nullptr) {
      c.drop_eth_short.inc();
      rte_pktmbuf_free(m);
      return;
    }
    vlan = be16(tag) & 0xfff;
    type = be16(tag + 2);
    l2 += kVlanLen;
  }
  if (type == kEthVlan || type == kEthQinQ) {  // stacked tags: not ours to unwrap
    c.drop_ethertype.inc();
    rte_pktmbuf_free(m);
    return;
  }
  const int iface = find_iface(m->port, vlan);
  if (iface < 0) {
    c.drop_vlan_unknown.inc();
    rte_pktmbuf_free(m);
    return;
  }
  if (!is_multicast_mac(eth) && std::memcmp(eth, ifaces[iface].cfg.mac.data(), 6) != 0) {
    c.drop_eth_not_ours.inc();
    rte_pktmbuf_free(m);
    return;
  }
  std::uint8_t src_mac[6];
  std::memcpy(src_mac, eth + 6, 6);
  switch (type) {
    case kEthIpv4: rx_ipv4(m, std::uint16_t(iface), l2, now, rx); return;
    case kEthIpv6: rx_ipv6(m, std::uint16_t(iface), l2, src_mac, now, rx); return;
    case kEthArp: rx_arp(m, std::uint16_t(iface), l2, now); return;
    default:
      c.drop_ethertype.inc();
      rte_pktmbuf_free(m);
  }
}

// ---- ARP (RFC 826, gratuitous ARP per RFC 5227 §3) ----
void NetStack::State::rx_arp(rte_mbuf* m, std::uint16_t iface, std::uint32_t l2, std::uint64_t now) {
  std::uint8_t buf[28];
  const auto* a = rte_pktmbuf_pkt_len(m) >= l2 + 28
                      ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l2, 28, buf))
                      : nullptr;
  const std::uint16_t op = a ? be16(a + 6) : 0;
  if (a == nullptr || be16(a) != 1 || be16(a + 2) != kEthIpv4 || a[4] != 6 || a[5] != 4 ||
      (op != 1 && op != 2) || is_multicast_mac(a + 8)) {
    c.drop_arp_bad.inc();
    rte_pktmbuf_free(m);
    return;
  }
  std::uint8_t sha[6];
  std::memcpy(sha, a + 8, 6);
  const std::uint32_t spa = be32(a + 14), tpa = be32(a + 24);
  const IpAddr target = IpAddr::v4(tpa), sender = IpAddr::v4(spa);
  const bool for_us = is_local(ifaces[iface], target);
  const bool known = spa != 0 && find_neigh(sender, iface) != nullptr;
  // Merge (RFC 826): refresh a neighbour we track; add the sender when the packet is for us.
  if (spa != 0 && (known || for_us)) learn(sender, iface, sha, now, for_us);
  if (op == 1 && for_us && spa != tpa) {
    send_arp(iface, 2, sha, sha, tpa, spa);
    c.arp_requests_answered.inc();
  } else if (!for_us && !known) {
    c.drop_arp_ignored.inc();
  }
  rte_pktmbuf_free(m);
}

// ---- IPv4 (RFC 791, RFC 1122 §3.2.1) ----
void NetStack::State::rx_ipv4(rte_mbuf* m, std::uint16_t iface, std::uint32_t l2, std::uint64_t now, Rx& rx) {
  std::uint8_t buf[60];
  std::uint32_t plen = rte_pktmbuf_pkt_len(m);
  const auto* h = plen >= l2 + kIpv4Len ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l2, kIpv4Len, buf))
                                        : nullptr;
  const std::uint32_t ihl = h ? (h[0] & 0xfu) * 4 : 0;
  const std::uint32_t total = h ? be16(h + 2) : 0;
  if (h == nullptr || (h[0] >> 4) != 4 || ihl < kIpv4Len || total < ihl || total > plen - l2 || h[8] == 0) {
    c.drop_ipv4_bad_header.inc();
    rte_pktmbuf_free(m);
    return;
  }
  if (ihl > kIpv4Len) h = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l2, ihl, buf));
  const std::uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD || (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && rte_raw_cksum(h, ihl) != 0xffff)) {
    c.drop_ipv4_bad_checksum.inc();
    rte_pktmbuf_free(m);
    return;
  }
  const IpAddr src = IpAddr::v4(be32(h + 12)), dst = IpAddr::v4(be32(h + 16));
  const std::uint32_t s4 = src.v4_host();
  if (s4 == 0 || s4 == 0xffffffffu || (s4 >> 28) == 0xe) {
    c.drop_ipv4_martian_source.inc();
    rte_pktmbuf_free(m);
    return;
  }
  if (!is_local(ifaces[iface], dst)) {
    c.drop_ip_not_ours.inc();
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint8_t proto = h[9];
  const std::uint16_t ff = be16(h + 6);
  // Ethernet pads short frames: cut the mbuf to the IP datagram (padding sits in the last segment).
  if (plen - l2 > total && rte_pktmbuf_trim(m, std::uint16_t(plen - l2 - total)) != 0) {
    c.drop_ipv4_bad_header.inc();
    rte_pktmbuf_free(m);
    return;
  }
  bool reassembled = false;
  std::uint32_t l4_len = total - ihl;
  if ((ff & 0x3fff) != 0) {  // MF set or offset non-zero
    const std::uint32_t ofs = std::uint32_t(ff & 0x1fff) * 8;
    const bool more = (ff & 0x2000) != 0;
    if (l4_len == 0 || ofs + l4_len > 65535 - ihl || (more && l4_len % 8 != 0) ||
        rte_pktmbuf_data_len(m) < l2 + ihl) {
      c.drop_frag_bad.inc();
      rte_pktmbuf_free(m);
      return;
    }
    c.frag_received.inc();
    m->l2_len = l2;
    m->l3_len = ihl;
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l2);
    rte_mbuf* r = rte_ipv4_frag_reassemble_packet(frag, &dr, m, now, ip);
    flush_death_row(false);
    if (r == nullptr) return;  // held until complete, or dropped into the death row
    c.frag_reassembled.inc();
    m = r;
    l2 = m->l2_len;
    h = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l2, kIpv4Len, buf));
    l4_len = be16(h + 2) - ihl;
    if (rte_pktmbuf_pkt_len(m) < l2 + ihl + l4_len) {  // should not happen: counted, not asserted
      c.drop_frag_bad.inc();
      rte_pktmbuf_free(m);
      return;
    }
    reassembled = true;
  }
  switch (proto) {
    case kProtoUdp: rx_udp(m, iface, src, dst, l2 + ihl, l4_len, reassembled, rx); return;
    case kProtoIcmp: rx_icmp4(m, iface, src, dst, l2, l2 + ihl, l4_len); return;
    default:
      c.drop_ip_proto.inc();
      rte_pktmbuf_free(m);
  }
}

// ---- IPv6 (RFC 8200) ----
void NetStack::State::rx_ipv6(rte_mbuf* m, std::uint16_t iface, std::uint32_t l2, const std::uint8_t* src_mac,
                              std::uint64_t now, Rx& rx) {
  std::uint8_t buf[kIpv6Len];
  const std::uint32_t plen = rte_pktmbuf_pkt_len(m);
  const auto* h = plen >= l2 + kIpv6Len ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l2, kIpv6Len, buf))
                                        : nullptr;
  const std::uint32_t pl = h ? be16(h + 4) : 0;
  if (h == nullptr || (h[0] >> 4) != 6 || kIpv6Len + pl > plen - l2 || h[8] == 0xff) {  // h[8]: multicast source
    c.drop_ipv6_bad_header.inc();
    rte_pktmbuf_free(m);
    return;
  }
  IpAddr src, dst;
  src.family = dst.family = 6;
  std::memcpy(src.b.data(), h + 8, 16);
  std::memcpy(dst.b.data(), h + 24, 16);
  std::uint8_t nh = h[6];
  const std::uint8_t hop = h[7];
  const Iface& f = ifaces[iface];
  bool unicast = is_local(f, dst);
  if (!unicast) {
    // ff02::1 (all nodes) or ff02::1:ffXX:XXXX, the solicited-node group of one of ours.
    static constexpr std::uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::uint8_t kSolicited[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
    bool joined = std::memcmp(dst.b.data(), kAllNodes, 16) == 0;
    if (!joined && std::memcmp(dst.b.data(), kSolicited, 13) == 0)
      for (const Prefix& p : f.v6) joined |= std::memcmp(p.addr.b.data() + 13, dst.b.data() + 13, 3) == 0;
    if (!joined) {
      c.drop_ip_not_ours.inc();
      rte_pktmbuf_free(m);
      return;
    }
  }
  if (plen - l2 > kIpv6Len + pl && rte_pktmbuf_trim(m, std::uint16_t(plen - l2 - kIpv6Len - pl)) != 0) {
    c.drop_ipv6_bad_header.inc();
    rte_pktmbuf_free(m);
    return;
  }
  std::uint32_t off = l2 + kIpv6Len, len = pl;
  // Hop-by-hop and destination options carry nothing for us: skip up to two of them.
  for (int k = 0; k < 2 && (nh == kProtoHopByHop || nh == kProtoDestOpts); ++k) {
    std::uint8_t eb[2];
    const auto* e = len >= 8 ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, off, 2, eb)) : nullptr;
    const std::uint32_t elen = e ? (e[1] + 1u) * 8 : 0;
    if (e == nullptr || elen > len) {
      c.drop_ipv6_ext.inc();
      rte_pktmbuf_free(m);
      return;
    }
    nh = e[0];
    off += elen;
    len -= elen;
  }
  bool reassembled = false;
  if (nh == kProtoFrag6) {
    std::uint8_t fb[8];
    const auto* fh = len >= 8 ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, off, 8, fb)) : nullptr;
    if (fh == nullptr) {
      c.drop_frag_bad.inc();
      rte_pktmbuf_free(m);
      return;
    }
    const std::uint16_t fd = be16(fh + 2);
    const std::uint32_t ofs = fd & 0xfff8u, data = len - 8;
    const bool more = (fd & 1) != 0;
    if (ofs == 0 && !more) {  // atomic fragment (RFC 6946): process as a whole datagram
      nh = fh[0];
      off += 8;
      len = data;
    } else {
      // rte_ip_frag wants the fragment header right after the fixed header, contiguous.
      if (off != l2 + kIpv6Len || data == 0 || ofs + data > 65535 || (more && data % 8 != 0) ||
          rte_pktmbuf_data_len(m) < off + 8) {
        c.drop_frag_bad.inc();
        rte_pktmbuf_free(m);
        return;
      }
      c.frag_received.inc();
      m->l2_len = l2;
      m->l3_len = kIpv6Len + 8;
      auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, l2);
      auto* fe = rte_pktmbuf_mtod_offset(m, rte_ipv6_fragment_ext*, l2 + kIpv6Len);
      rte_mbuf* r = rte_ipv6_frag_reassemble_packet(frag, &dr, m, now, ip, fe);
      flush_death_row(false);
      if (r == nullptr) return;
      c.frag_reassembled.inc();
      m = r;
      l2 = m->l2_len;
      h = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l2, kIpv6Len, buf));
      nh = h[6];
      off = l2 + kIpv6Len;
      len = be16(h + 4);
      if (nh == kProtoFrag6 || rte_pktmbuf_pkt_len(m) < off + len) {
        c.drop_frag_bad.inc();
        rte_pktmbuf_free(m);
        return;
      }
      reassembled = true;
    }
  }
  switch (nh) {
    case kProtoUdp:
      if (!unicast) break;
      rx_udp(m, iface, src, dst, off, len, reassembled, rx);
      return;
    case kProtoIcmp6: rx_icmp6(m, iface, src, dst, hop, src_mac, l2, off, len, now); return;
    case kProtoHopByHop:
    case kProtoDestOpts:
    case 43:  // routing header: never for a host that is the final destination of SIP
      c.drop_ipv6_ext.inc();
      rte_pktmbuf_free(m);
      return;
    default: break;
  }
  c.drop_ip_proto.inc();
  rte_pktmbuf_free(m);
}

// ---- UDP (RFC 768; IPv6 zero checksum forbidden, RFC 8200 §8.1) ----
void NetStack::State::rx_udp(rte_mbuf* m, std::uint16_t iface, const IpAddr& src, const IpAddr& dst,
                             std::uint32_t l4, std::uint32_t l4_len, bool reassembled, Rx& rx) {
  std::uint8_t buf[kUdpLen];
  const auto* u = l4_len >= kUdpLen ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l4, kUdpLen, buf))
                                    : nullptr;
  // Strict: the UDP length must be the IP payload length (no trailing bytes inside IP).
  if (u == nullptr || be16(u + 4) != l4_len) {
    c.drop_udp_bad_length.inc();
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint16_t sum = std::uint16_t(u[6] << 8 | u[7]);
  // The NIC cannot have checked a reassembled datagram's sum: its flags describe one fragment.
  const std::uint64_t ck = reassembled ? RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN : (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK);
  bool ok;
  if (ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD) ok = true;
  else if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD) ok = false;
  else if (sum == 0) ok = src.is_v4();
  else ok = fold(pseudo_sum(src, dst, kProtoUdp, l4_len) + mbuf_sum(m, l4, l4_len)) == 0xffff;
  if (!ok) {
    c.drop_udp_bad_checksum.inc();
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint16_t dport = be16(u + 2);
  bool listening = false;
  for (std::uint16_t p : cfg.udp_ports) listening |= p == dport;
  if (!listening) {
    c.drop_udp_no_listener.inc();
    rte_pktmbuf_free(m);
    return;
  }
  if (rx.count == rx.max_out || nheld == held.size()) {
    c.drop_rx_overflow.inc();
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint32_t off = l4 + kUdpLen, len = l4_len - kUdpLen;
  const std::uint8_t* payload;
  if (off + len <= rte_pktmbuf_data_len(m)) {
    payload = rte_pktmbuf_mtod_offset(m, const std::uint8_t*, off);
  } else {
    if (scratch.size() - scratch_used < len) {
      c.drop_scratch_full.inc();
      rte_pktmbuf_free(m);
      return;
    }
    std::uint8_t* to = scratch.data() + scratch_used;
    payload = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, off, len, to));
    if (payload == to) {
      scratch_used += len;
      c.rx_linearised.inc();
    }
  }
  rx.out[rx.count++] = RxDatagram{payload, len, Endpoint{src, be16(u)}, Endpoint{dst, dport}, iface};
  held[nheld++] = m;
}

// ---- ICMP (RFC 792, RFC 1122 §3.2.2) ----
void NetStack::State::rx_icmp4(rte_mbuf* m, std::uint16_t iface, const IpAddr& src, const IpAddr& dst,
                               std::uint32_t l2, std::uint32_t l4, std::uint32_t l4_len) {
  std::uint8_t buf[8 + 60 + 8];
  const auto* ic = l4_len >= 8 ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l4, 8, buf)) : nullptr;
  if (ic == nullptr || fold(mbuf_sum(m, l4, l4_len)) != 0xffff) {
    c.drop_icmp_bad.inc();
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint8_t type = ic[0], code = ic[1];
  if (type == kIcmpEcho && code == 0) {
    std::uint8_t eb[6];
    const auto* eth = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 6, 6, eb));
    std::uint8_t mac[6];
    std::memcpy(mac, eth, 6);
    send_echo_reply(iface, m, mac, dst, src, l4, l4_len);
    c.icmp_echo_answered.inc();
  } else if (type == kIcmpUnreach && l4_len >= 8 + kIpv4Len + kUdpLen) {
    // The quoted datagram: its IP header (with options) and the first 8 bytes of its payload.
    const auto* q = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l4 + 8, kIpv4Len, buf + 8));
    const std::uint32_t qihl = (q[0] & 0xfu) * 4;
    const bool udp = (q[0] >> 4) == 4 && qihl >= kIpv4Len && q[9] == kProtoUdp && l4_len >= 8 + qihl + kUdpLen;
    const IpAddr qsrc = IpAddr::v4(be32(q + 12)), qdst = IpAddr::v4(be32(q + 16));
    std::uint8_t ub[kUdpLen];
    const auto* qu = udp ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l4 + 8 + qihl, kUdpLen, ub)) : nullptr;
    if (qu != nullptr && is_ours_any(qsrc)) {
      UnreachableKind k = UnreachableKind::other;
      if (code == 3) k = UnreachableKind::port;
      else if (code == 1) k = UnreachableKind::host;
      else if (code == 0) k = UnreachableKind::net;
      else if (code == 9 || code == 10 || code == 13) k = UnreachableKind::admin;
      const std::uint32_t qoff = 8 + qihl + kUdpLen;  // the quoted UDP payload, as much as came
      UnreachableEvent e;
      e.dst = Endpoint{qdst, be16(qu + 2)};
      e.src = Endpoint{qsrc, be16(qu)};
      e.reporter = src;
      e.kind = k;
      e.type = type;
      e.code = code;
      e.interface = iface;
      raise(e, m, l4 + qoff, l4_len - qoff);
    } else {
      c.drop_icmp_ignored.inc();
    }
  } else {
    c.drop_icmp_ignored.inc();  // echo replies, time exceeded, redirects, ... (kIcmpEchoReply too)
  }
  (void)kIcmpEchoReply;
  (void)l2;
  rte_pktmbuf_free(m);
}

// ---- ICMPv6 (RFC 4443) and neighbour discovery (RFC 4861) ----
void NetStack::State::rx_icmp6(rte_mbuf* m, std::uint16_t iface, const IpAddr& src, const IpAddr& dst,
                               std::uint8_t hop_limit, const std::uint8_t* src_mac, std::uint32_t l2,
                               std::uint32_t l4, std::uint32_t l4_len, std::uint64_t now) {
  std::uint8_t buf[64];
  const auto* ic = l4_len >= 8 ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l4, 8, buf)) : nullptr;
  if (ic == nullptr || fold(pseudo_sum(src, dst, kProtoIcmp6, l4_len) + mbuf_sum(m, l4, l4_len)) != 0xffff) {
    c.drop_icmp_bad.inc();
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint8_t type = ic[0], code = ic[1];
  const Iface& f = ifaces[iface];
  if (type == kIcmp6Ns || type == kIcmp6Na) {
    // RFC 4861 §7.1.1/§7.1.2: hop limit 255, code 0, at least 24 bytes, options of non-zero length.
    const auto* nd = l4_len >= 24 && l4_len <= sizeof buf
                         ? static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l4, l4_len, buf))
                         : nullptr;
    bool ok = nd != nullptr && hop_limit == 255 && code == 0;
    const std::uint8_t* lla = nullptr;  // source (NS) or target (NA) link-layer address option
    for (std::uint32_t o = 24; ok && o < l4_len;) {
      const std::uint32_t olen = o + 2 <= l4_len ? nd[o + 1] * 8u : 0;
      if (olen == 0 || o + olen > l4_len) ok = false;
      else if (((type == kIcmp6Ns && nd[o] == 1) || (type == kIcmp6Na && nd[o] == 2)) && olen >= 8) lla = nd + o + 2;
      o += olen;
    }
    IpAddr target;
    target.family = 6;
    if (ok) std::memcpy(target.b.data(), nd + 8, 16);
    const bool unspecified = std::all_of(src.b.begin(), src.b.end(), [](std::uint8_t b) { return b == 0; });
    if (ok && (target.b[0] == 0xff || (unspecified && (type == kIcmp6Na || lla != nullptr)))) ok = false;
    if (!ok) {
      c.drop_nd_bad.inc();
      rte_pktmbuf_free(m);
      return;
    }
    if (type == kIcmp6Ns) {
      if (!is_local(f, target)) {
        c.drop_icmp_ignored.inc();
      } else if (unspecified) {  // duplicate address detection: answer all-nodes (§7.2.4)
        static constexpr std::uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static constexpr std::uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 1};
        send_na(iface, IpAddr::v6(kAllNodes), kAllNodesMac, target, false);
        c.nd_solicitations_answered.inc();
      } else {
        const std::uint8_t* mac = lla != nullptr ? lla : src_mac;
        if (lla != nullptr) learn(src, iface, lla, now, true);
        send_na(iface, src, mac, target, true);
        c.nd_solicitations_answered.inc();
      }
    } else {
      // Advertisements update entries we are resolving or tracking; unsolicited ones create none.
      if (find_neigh(target, iface) != nullptr) learn(target, iface, lla != nullptr ? lla : src_mac, now, false);
      else c.drop_icmp_ignored.inc();
    }
    rte_pktmbuf_free(m);
    return;
  }
  if (type == kIcmp6Echo && code == 0 && is_local(f, dst)) {
    send_echo_reply(iface, m, src_mac, dst, src, l4, l4_len);
    c.icmp_echo_answered.inc();
  } else if (type == kIcmp6Unreach && l4_len >= 8 + kIpv6Len + kUdpLen) {
    const auto* q = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l4 + 8, kIpv6Len + kUdpLen, buf + 8));
    IpAddr qsrc, qdst;
    qsrc.family = qdst.family = 6;
    std::memcpy(qsrc.b.data(), q + 8, 16);
    std::memcpy(qdst.b.data(), q + 24, 16);
    if ((q[0] >> 4) == 6 && q[6] == kProtoUdp && is_ours_any(qsrc)) {
      UnreachableKind k = UnreachableKind::other;
      if (code == 4) k = UnreachableKind::port;
      else if (code == 3) k = UnreachableKind::host;
      else if (code == 0) k = UnreachableKind::net;
      else if (code == 1 || code == 5 || code == 6) k = UnreachableKind::admin;
      const std::uint32_t qoff = 8 + kIpv6Len + kUdpLen;  // the quoted UDP payload, as much as came
      UnreachableEvent e;
      e.dst = Endpoint{qdst, be16(q + kIpv6Len + 2)};
      e.src = Endpoint{qsrc, be16(q + kIpv6Len)};
      e.reporter = src;
      e.kind = k;
      e.type = type;
      e.code = code;
      e.interface = iface;
      raise(e, m, l4 + qoff, l4_len - qoff);
    } else {
      c.drop_icmp_ignored.inc();
    }
  } else {
    c.drop_icmp_ignored.inc();  // RS/RA/redirect, echo replies, packet too big, ...
  }
  (void)l2;
  rte_pktmbuf_free(m);
}

}  // namespace regfront::net
