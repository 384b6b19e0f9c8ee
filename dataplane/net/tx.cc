// dataplane/net/tx.cc — building frames: UDP datagrams (with fragmentation above the MTU),
// ARP and NDP messages, ICMP echo replies. Every frame ends in a port's TxBatch, in a
// neighbour's wait queue, or freed and counted.
#include <rte_ip.h>

#include <algorithm>

#include "internal.h"

namespace regfront::net {

using namespace wire;

namespace {
constexpr std::uint16_t kMaxFragments = 64;  // 65535 / (576 - 20) would need 118: refused above

void write_ipv4(std::uint8_t* p, const IpAddr& src, const IpAddr& dst, std::uint16_t total,
                std::uint8_t proto, std::uint16_t id) {
  p[0] = 0x45;
  p[1] = 0;
  put16(p + 2, total);
  put16(p + 4, id);
  put16(p + 6, 0);  // DF clear: we fragment ourselves, routers may too
  p[8] = 64;
  p[9] = proto;
  p[10] = p[11] = 0;
  std::memcpy(p + 12, src.b.data(), 4);
  std::memcpy(p + 16, dst.b.data(), 4);
}

void write_ipv6(std::uint8_t* p, const IpAddr& src, const IpAddr& dst, std::uint16_t payload_len,
                std::uint8_t nh, std::uint8_t hop) {
  put32(p, 0x60000000u);
  put16(p + 4, payload_len);
  p[6] = nh;
  p[7] = hop;
  std::memcpy(p + 8, src.b.data(), 16);
  std::memcpy(p + 24, dst.b.data(), 16);
}

// Stores a ones'-complement checksum computed over native loads (see wire::fold).
void store_sum(std::uint8_t* p, std::uint16_t folded, bool udp) {
  std::uint16_t v = std::uint16_t(~folded);
  if (udp && v == 0) v = 0xffff;  // RFC 768: a computed zero is sent as all ones
  std::memcpy(p, &v, 2);
}
}  // namespace

void NetStack::State::emit(std::uint16_t port, rte_mbuf* m) {
  TxBatch& b = tx[port];
  if (b.count == b.capacity && flush != nullptr) flush(flush_ctx, port, b);
  if (b.count == b.capacity) {
    c.drop_tx_batch_full.inc();
    rte_pktmbuf_free(m);
    return;
  }
  b.pkts[b.count++] = m;
}

void NetStack::State::write_l2(const Iface& f, std::uint8_t* p, const std::uint8_t* dst_mac,
                               std::uint16_t ethertype) {
  if (dst_mac != nullptr) std::memcpy(p, dst_mac, 6);
  else std::memset(p, 0, 6);  // filled at next-hop resolution
  std::memcpy(p + 6, f.cfg.mac.data(), 6);
  if (f.cfg.vlan != 0) {
    put16(p + 12, kEthVlan);
    put16(p + 14, f.cfg.vlan);
    put16(p + 16, ethertype);
  } else {
    put16(p + 12, ethertype);
  }
}

std::uint8_t* NetStack::State::new_frame(std::uint16_t iface, const std::uint8_t* dst_mac,
                                         std::uint16_t ethertype, std::uint32_t l3_bytes, rte_mbuf*& m) {
  const Iface& f = ifaces[iface];
  m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) {
    c.drop_tx_no_mbuf.inc();
    return nullptr;
  }
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, std::uint16_t(f.l2_len + l3_bytes)));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    c.drop_tx_no_mbuf.inc();
    return nullptr;
  }
  write_l2(f, p, dst_mac, ethertype);
  m->l2_len = f.l2_len;
  return p + f.l2_len;
}

void NetStack::State::send_arp(std::uint16_t iface, std::uint16_t op, const std::uint8_t* eth_dst,
                               const std::uint8_t* tha, std::uint32_t spa, std::uint32_t tpa) {
  const Iface& f = ifaces[iface];
  const std::uint32_t l3 = std::max<std::uint32_t>(28, 60 - f.l2_len);  // pad to the Ethernet minimum
  rte_mbuf* m;
  std::uint8_t* a = new_frame(iface, eth_dst, kEthArp, l3, m);
  if (a == nullptr) return;
  std::memset(a, 0, l3);
  put16(a, 1);
  put16(a + 2, kEthIpv4);
  a[4] = 6;
  a[5] = 4;
  put16(a + 6, op);
  std::memcpy(a + 8, f.cfg.mac.data(), 6);
  put32(a + 14, spa);
  std::memcpy(a + 18, tha, 6);
  put32(a + 24, tpa);
  emit(f.cfg.port, m);
}

void NetStack::State::send_ns(std::uint16_t iface, const IpAddr& target) {
  const Iface& f = ifaces[iface];
  if (f.v6.empty()) return;
  IpAddr dst;  // solicited-node multicast ff02::1:ffXX:XXXX (RFC 4291 §2.7.1)
  dst.family = 6;
  dst.b = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target.b[13], target.b[14], target.b[15]};
  const std::uint8_t mac[6] = {0x33, 0x33, 0xff, target.b[13], target.b[14], target.b[15]};
  const IpAddr& src = f.v6.back().addr;  // link-local
  rte_mbuf* m;
  std::uint8_t* p = new_frame(iface, mac, kEthIpv6, kIpv6Len + 32, m);
  if (p == nullptr) return;
  write_ipv6(p, src, dst, 32, kProtoIcmp6, 255);
  std::uint8_t* ic = p + kIpv6Len;
  std::memset(ic, 0, 32);
  ic[0] = 135;
  std::memcpy(ic + 8, target.b.data(), 16);
  ic[24] = 1;  // source link-layer address option
  ic[25] = 1;
  std::memcpy(ic + 26, f.cfg.mac.data(), 6);
  store_sum(ic + 2, fold(pseudo_sum(src, dst, kProtoIcmp6, 32) + rte_raw_cksum(ic, 32)), false);
  emit(f.cfg.port, m);
}

void NetStack::State::send_na(std::uint16_t iface, const IpAddr& dst, const std::uint8_t* dst_mac,
                              const IpAddr& target, bool solicited) {
  const Iface& f = ifaces[iface];
  rte_mbuf* m;
  std::uint8_t* p = new_frame(iface, dst_mac, kEthIpv6, kIpv6Len + 32, m);
  if (p == nullptr) return;
  write_ipv6(p, target, dst, 32, kProtoIcmp6, 255);
  std::uint8_t* ic = p + kIpv6Len;
  std::memset(ic, 0, 32);
  ic[0] = 136;
  ic[4] = std::uint8_t((solicited ? 0x40 : 0) | 0x20);  // S, O (we are a host: R clear)
  std::memcpy(ic + 8, target.b.data(), 16);
  ic[24] = 2;  // target link-layer address option
  ic[25] = 1;
  std::memcpy(ic + 26, f.cfg.mac.data(), 6);
  store_sum(ic + 2, fold(pseudo_sum(target, dst, kProtoIcmp6, 32) + rte_raw_cksum(ic, 32)), false);
  emit(f.cfg.port, m);
}

void NetStack::State::send_echo_reply(std::uint16_t iface, rte_mbuf* req, const std::uint8_t* dst_mac,
                                      const IpAddr& ours, const IpAddr& peer, std::uint32_t l4,
                                      std::uint32_t len) {
  const Iface& f = ifaces[iface];
  const bool v4 = ours.is_v4();
  const std::uint32_t l3 = v4 ? kIpv4Len : kIpv6Len;
  // One frame only: an echo larger than the MTU is not answered (ping -s beyond MTU is no probe
  // of a SIP front end), nor one larger than an mbuf's room.
  rte_mbuf* m = nullptr;
  std::uint8_t* p = l3 + len <= f.cfg.mtu ? new_frame(iface, dst_mac, v4 ? kEthIpv4 : kEthIpv6, l3 + len, m) : nullptr;
  if (p == nullptr) {
    if (m == nullptr && l3 + len > f.cfg.mtu) c.drop_tx_too_big.inc();
    return;
  }
  std::uint8_t* ic = p + l3;
  const void* data = rte_pktmbuf_read(req, l4, len, ic);
  if (data != ic) std::memcpy(ic, data, len);
  ic[0] = v4 ? 0 : 129;
  ic[2] = ic[3] = 0;
  if (v4) {
    write_ipv4(p, ours, peer, std::uint16_t(l3 + len), kProtoIcmp, std::uint16_t(ip_id++));
    store_sum(p + 10, rte_raw_cksum(p, kIpv4Len), false);
    store_sum(ic + 2, rte_raw_cksum(ic, len), false);
  } else {
    write_ipv6(p, ours, peer, std::uint16_t(len), kProtoIcmp6, 64);
    store_sum(ic + 2, fold(pseudo_sum(ours, peer, kProtoIcmp6, len) + rte_raw_cksum(ic, len)), false);
  }
  emit(f.cfg.port, m);
}

SendResult NetStack::State::send_udp(std::uint16_t src_port, const Endpoint& dst, const std::uint8_t* payload,
                                     std::size_t len, std::uint64_t now, const IpAddr* src_addr) {
  const Route* r = dst.addr.family != 0 ? route(dst.addr) : nullptr;
  const IpAddr* src = r == nullptr ? nullptr : src_addr != nullptr ? src_addr : source_for(ifaces[r->iface], dst.addr);
  if (r == nullptr || src == nullptr || src->family != dst.addr.family) {
    c.drop_tx_no_route.inc();
    return SendResult::no_route;
  }
  const Iface& f = ifaces[r->iface];
  const IpAddr& next_hop = r->gateway.family != 0 ? r->gateway : dst.addr;
  const bool v4 = dst.addr.is_v4();
  const std::uint32_t l3 = v4 ? kIpv4Len : kIpv6Len;
  const std::size_t udp_len = kUdpLen + len;
  if (udp_len > 65535 - (v4 ? kIpv4Len : 0) || (l3 + udp_len > f.cfg.mtu && (f.cfg.mtu - l3 - (v4 ? 0 : 8)) / 8 * 8 * kMaxFragments < udp_len)) {
    c.drop_tx_too_big.inc();
    return SendResult::too_big;
  }
  const bool fragment = l3 + udp_len > f.cfg.mtu;
  // L2 goes in front now for a single frame, or per fragment after fragmentation.
  const std::uint32_t lead = fragment ? 0 : f.l2_len;
  const std::uint32_t hdrs = lead + l3 + kUdpLen;

  // The datagram as an mbuf chain: headers and as much payload as fits, then further segments.
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr || rte_pktmbuf_tailroom(m) < hdrs) {
    rte_pktmbuf_free(m);
    c.drop_tx_no_mbuf.inc();
    return SendResult::no_mbuf;
  }
  std::size_t first = std::min<std::size_t>(len, rte_pktmbuf_tailroom(m) - hdrs);
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, std::uint16_t(hdrs + first)));
  std::memcpy(p + hdrs, payload, first);
  rte_mbuf* last = m;
  for (std::size_t done = first; done < len;) {
    rte_mbuf* seg = rte_pktmbuf_alloc(pool);
    if (seg == nullptr) {
      rte_pktmbuf_free(m);
      c.drop_tx_no_mbuf.inc();
      return SendResult::no_mbuf;
    }
    const std::size_t n = std::min<std::size_t>(len - done, rte_pktmbuf_tailroom(seg));
    std::memcpy(rte_pktmbuf_append(seg, std::uint16_t(n)), payload + done, n);
    last->next = seg;
    last = seg;
    m->nb_segs++;
    m->pkt_len += std::uint32_t(n);
    done += n;
  }

  std::uint8_t* ip = p + lead;
  std::uint8_t* udp = ip + l3;
  const std::uint16_t id = std::uint16_t(ip_id++);
  if (v4) write_ipv4(ip, *src, dst.addr, std::uint16_t(l3 + udp_len), kProtoUdp, id);
  else write_ipv6(ip, *src, dst.addr, std::uint16_t(udp_len), kProtoUdp, 64);
  put16(udp, src_port);
  put16(udp + 2, dst.port);
  put16(udp + 4, std::uint16_t(udp_len));
  udp[6] = udp[7] = 0;

  const PortCaps& caps = cfg.port_caps[f.cfg.port];
  m->l2_len = lead;
  m->l3_len = l3;
  if (!fragment && caps.tx_udp_cksum) {
    m->ol_flags |= (v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) | RTE_MBUF_F_TX_UDP_CKSUM;
    const std::uint16_t ph = v4 ? rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(ip), m->ol_flags)
                                : rte_ipv6_phdr_cksum(reinterpret_cast<const rte_ipv6_hdr*>(ip), m->ol_flags);
    std::memcpy(udp + 6, &ph, 2);
  } else {
    store_sum(udp + 6, fold(pseudo_sum(*src, dst.addr, kProtoUdp, std::uint32_t(udp_len)) +
                            mbuf_sum(m, lead + l3, std::uint32_t(udp_len))),
              true);
  }
  c.tx_udp.inc();

  if (!fragment) {
    if (v4) {
      if (caps.tx_ipv4_cksum) m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
      else store_sum(ip + 10, rte_raw_cksum(ip, kIpv4Len), false);
    }
    write_l2(f, p, nullptr, v4 ? kEthIpv4 : kEthIpv6);
    return output(r->iface, next_hop, m, now);
  }

  rte_mbuf* frags[kMaxFragments];
  const std::int32_t n = v4 ? rte_ipv4_fragment_packet(m, frags, kMaxFragments, f.cfg.mtu, pool, pool)
                            : rte_ipv6_fragment_packet(m, frags, kMaxFragments, f.cfg.mtu, pool, pool);
  rte_pktmbuf_free(m);  // the fragments hold their own references to its data
  if (n < 0) {
    if (n == -ENOMEM) c.drop_tx_no_mbuf.inc();
    else c.drop_tx_too_big.inc();
    return n == -ENOMEM ? SendResult::no_mbuf : SendResult::too_big;
  }
  c.tx_fragments.inc(std::uint32_t(n));
  SendResult res = SendResult::sent;
  for (std::int32_t i = 0; i < n; ++i) {
    rte_mbuf* fm = frags[i];
    auto* fip = rte_pktmbuf_mtod(fm, std::uint8_t*);
    if (v4) {
      fip[10] = fip[11] = 0;
      store_sum(fip + 10, rte_raw_cksum(fip, kIpv4Len), false);
    } else {
      put32(fip + kIpv6Len + 4, id);  // our identification, not the library's (RFC 7739)
    }
    auto* l2p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(fm, f.l2_len));
    if (l2p == nullptr) {
      rte_pktmbuf_free(fm);
      c.drop_tx_no_mbuf.inc();
      res = SendResult::no_mbuf;
      continue;
    }
    write_l2(f, l2p, nullptr, v4 ? kEthIpv4 : kEthIpv6);
    fm->l2_len = f.l2_len;
    fm->l3_len = l3;
    const SendResult fr = output(r->iface, next_hop, fm, now);
    if (fr != SendResult::sent && res == SendResult::sent) res = fr;
  }
  return res;
}

}  // namespace regfront::net
