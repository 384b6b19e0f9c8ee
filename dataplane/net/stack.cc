// dataplane/net/stack.cc — NetStack set-up, routes, the neighbour table (ARP and NDP share it)
// and housekeeping. Receive is in rx.cc, transmit in tx.cc.
#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cassert>

#include "internal.h"

namespace regfront::net {

// ---- counters ----
REGFRONT_DEFINE_COUNTER_SET(REGFRONT_NET_COUNTERS, NetCounters, kNetCounterInfo, kNetCounterCount, net_counter)

// ---- addresses ----
IpAddr IpAddr::v4(std::uint32_t host_order) {
  IpAddr a;
  a.family = 4;
  wire::put32(a.b.data(), host_order);
  return a;
}
IpAddr IpAddr::v6(const std::uint8_t (&bytes)[16]) {
  IpAddr a;
  a.family = 6;
  std::memcpy(a.b.data(), bytes, 16);
  return a;
}
bool IpAddr::parse(const char* text, IpAddr& out) {
  IpAddr a;
  if (inet_pton(AF_INET, text, a.b.data()) == 1) {
    a.family = 4;
  } else if (inet_pton(AF_INET6, text, a.b.data()) == 1) {
    a.family = 6;
  } else {
    return false;
  }
  out = a;
  return true;
}
std::uint32_t IpAddr::v4_host() const { return wire::be32(b.data()); }
std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family == 4) inet_ntop(AF_INET, b.data(), buf, sizeof buf);
  if (family == 6) inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
  return buf;
}

void TxBatch::consumed(std::uint16_t sent) {
  if (sent >= count) {
    count = 0;
    return;
  }
  std::memmove(pkts, pkts + sent, sizeof(rte_mbuf*) * (count - sent));
  count = std::uint16_t(count - sent);
}

namespace wire {
std::uint32_t pseudo_sum(const IpAddr& src, const IpAddr& dst, std::uint8_t proto, std::uint32_t len) {
  std::uint8_t ph[40];
  std::size_t n = 0;
  const std::size_t alen = src.family == 4 ? 4 : 16;
  std::memcpy(ph, src.b.data(), alen);
  std::memcpy(ph + alen, dst.b.data(), alen);
  n = 2 * alen;
  std::uint8_t tail[8] = {};
  if (src.family == 4) {  // zero, protocol, UDP length (16 bits)
    tail[1] = proto;
    put16(tail + 2, std::uint16_t(len));
    std::memcpy(ph + n, tail, 4);
    n += 4;
  } else {  // upper-layer length (32 bits), three zero bytes, next header
    put32(tail, len);
    tail[7] = proto;
    std::memcpy(ph + n, tail, 8);
    n += 8;
  }
  return rte_raw_cksum(ph, n);
}
// RFC 1071: the ones'-complement sum can be taken over wider words and folded at the end.
// Four 64-bit accumulators of native 32-bit loads (no carry is lost below 2^32 words) sum
// 16 bytes per step without a dependency chain; the halves then fold like rte_raw_cksum's
// 16-bit units. rte_raw_cksum's 16-bit loop cost ~115 ns per 600-byte SIP datagram here,
// paid once on RX (verification: memif and most virtual ports have no offload) and once on TX.
std::uint16_t raw_sum(const void* data, std::size_t len) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (; len >= 16; p += 16, len -= 16) {
    std::uint32_t w[4];
    std::memcpy(w, p, 16);
    s0 += w[0];
    s1 += w[1];
    s2 += w[2];
    s3 += w[3];
  }
  for (; len >= 4; p += 4, len -= 4) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    s0 += w;
  }
  if (len != 0) {  // 1-3 bytes, zero-padded in memory order (a trailing odd byte as RFC 1071)
    std::uint32_t w = 0;
    std::memcpy(&w, p, len);
    s1 += w;
  }
  std::uint64_t s = s0 + s1 + s2 + s3;  // < 2^62 for any datagram
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  return fold(std::uint32_t(s));
}

std::uint16_t mbuf_sum(const rte_mbuf* m, std::uint32_t off, std::uint32_t len) {
  if (off + len <= m->data_len) return raw_sum(rte_pktmbuf_mtod_offset(m, const std::uint8_t*, off), len);
  std::uint16_t s = 0;
  if (rte_raw_cksum_mbuf(m, off, len, &s) != 0) return 0;  // out of range: callers checked
  return s;
}
}  // namespace wire

// ---- set-up ----
NetStack::NetStack(NetConfig cfg, rte_mempool* pool)
    : s_(std::make_unique<State>(std::move(cfg), pool)) {}

NetStack::~NetStack() {
  if (!s_) return;
  release();
  for (std::uint32_t i = 0; i < s_->nused; ++i)
    while (s_->neigh[i].queued != 0) rte_pktmbuf_free(s_->dequeue(s_->neigh[i]));
  for (TxBatch& b : s_->tx) {
    for (std::uint16_t i = 0; i < b.count; ++i) rte_pktmbuf_free(b.pkts[i]);
    b.count = 0;
  }
  if (s_->frag != nullptr) {
    s_->flush_death_row(true);
    rte_ip_frag_table_destroy(s_->frag);
  }
}

static bool in_prefix(const IpAddr& a, const Prefix& p) {
  if (a.family != p.addr.family) return false;
  const unsigned full = p.len / 8, rest = p.len % 8;
  if (std::memcmp(a.b.data(), p.addr.b.data(), full) != 0) return false;
  if (rest == 0) return true;
  const std::uint8_t mask = std::uint8_t(0xff << (8 - rest));
  return (a.b[full] & mask) == (p.addr.b[full] & mask);
}

Status NetStack::init() {
  State& s = *s_;
  if (s.pool == nullptr) return Status::invalid_argument("net: no mbuf pool");
  if (s.cfg.interfaces.empty()) return Status::invalid_argument("net: no interface");
  s.hz = s.cfg.ticks_per_second != 0 ? s.cfg.ticks_per_second : rte_get_tsc_hz();
  s.resolve_ticks = s.ms(s.cfg.resolve_interval_ms);
  s.reachable_ticks = s.ms(s.cfg.reachable_ms);
  s.failed_ticks = s.ms(s.cfg.failed_hold_ms);

  std::uint16_t ports = 0;
  for (std::size_t i = 0; i < s.cfg.interfaces.size(); ++i) {
    const InterfaceConfig& ic = s.cfg.interfaces[i];
    if (ic.vlan > 4094) return Status::invalid_argument("net: VLAN id out of range");
    if (ic.mtu < 1280 && !ic.ipv6.empty()) return Status::invalid_argument("net: IPv6 needs an MTU of 1280 or more");
    if (ic.mtu < 576) return Status::invalid_argument("net: MTU below 576");
    if (s.find_iface(ic.port, ic.vlan) >= 0) return Status::invalid_argument("net: duplicate port/VLAN interface");
    Iface f;
    f.cfg = ic;
    f.l2_len = std::uint16_t(wire::kEthLen + (ic.vlan != 0 ? wire::kVlanLen : 0));
    for (const Prefix& p : ic.ipv4)
      if (!p.addr.is_v4() || p.len > 32) return Status::invalid_argument("net: bad IPv4 address on interface");
    for (const Prefix& p : ic.ipv6)
      if (!p.addr.is_v6() || p.len > 128) return Status::invalid_argument("net: bad IPv6 address on interface");
    f.v6 = ic.ipv6;
    if (!ic.ipv6.empty()) {  // fe80::/64 + modified EUI-64 (RFC 4291 appendix A)
      std::uint8_t ll[16] = {0xfe, 0x80};
      ll[8] = ic.mac[0] ^ 0x02;
      ll[9] = ic.mac[1];
      ll[10] = ic.mac[2];
      ll[11] = 0xff;
      ll[12] = 0xfe;
      ll[13] = ic.mac[3];
      ll[14] = ic.mac[4];
      ll[15] = ic.mac[5];
      f.v6.push_back(Prefix{IpAddr::v6(ll), 64});
    }
    s.ifaces.push_back(std::move(f));
    ports = std::max<std::uint16_t>(ports, std::uint16_t(ic.port + 1));
  }
  // Connected subnets, then static routes whose gateway sits on one of them.
  for (std::size_t i = 0; i < s.ifaces.size(); ++i) {
    for (const Prefix& p : s.ifaces[i].cfg.ipv4) s.routes.push_back({p, IpAddr{}, std::uint16_t(i)});
    for (const Prefix& p : s.ifaces[i].v6) s.routes.push_back({p, IpAddr{}, std::uint16_t(i)});
  }
  const std::size_t connected = s.routes.size();
  for (const RouteConfig& r : s.cfg.routes) {
    if (r.dst.addr.family != r.gateway.family || r.dst.addr.family == 0)
      return Status::invalid_argument("net: route and gateway of different families");
    int out = -1;
    for (std::size_t i = 0; i < connected && out < 0; ++i)
      if (in_prefix(r.gateway, s.routes[i].dst)) out = s.routes[i].iface;
    if (out < 0) return Status::invalid_argument("net: gateway " + r.gateway.to_string() + " is on no connected subnet");
    s.routes.push_back({r.dst, r.gateway, std::uint16_t(out)});
  }
  std::stable_sort(s.routes.begin(), s.routes.end(),
                   [](const Route& a, const Route& b) { return a.dst.len > b.dst.len; });

  s.qcap = s.cfg.neighbour_queue;
  s.neigh.resize(s.cfg.neighbours);
  const std::size_t slots = s.cfg.neighbour_queue_total != 0 ? s.cfg.neighbour_queue_total
                                                             : std::size_t(s.cfg.neighbours) * s.qcap;
  s.qslot.assign(slots, nullptr);
  s.qnext.resize(slots);
  for (std::size_t k = 0; k < slots; ++k) s.qnext[k] = k + 1 < slots ? std::uint32_t(k + 1) : kNoSlot;
  s.qfree = slots != 0 ? 0 : kNoSlot;

  // Reassembly: one bucket per expected datagram, 16-way buckets (RTE_IP_FRAG_TBL_BUCKET_ENTRIES).
  const std::uint32_t buckets = std::max<std::uint32_t>(rte_align32pow2(s.cfg.frag_max_datagrams), 16);
  s.frag = rte_ip_frag_table_create(buckets, 16, s.cfg.frag_max_datagrams, s.ms(s.cfg.frag_timeout_ms),
                                    int(rte_socket_id()));
  if (s.frag == nullptr) return Status::resource_exhausted("net: cannot create the reassembly table");

  s.held.resize(kMaxBurst);
  s.scratch.resize(s.cfg.scratch_bytes);
  s.events.resize(s.cfg.max_events);
  s.tx_store.resize(ports);
  s.tx.resize(ports);
  for (std::uint16_t p = 0; p < ports; ++p) {
    s.tx_store[p].resize(s.cfg.tx_batch);
    s.tx[p].pkts = s.tx_store[p].data();
    s.tx[p].capacity = s.cfg.tx_batch;
  }
  s.cfg.port_caps.resize(ports);
  return {};
}

void NetStack::set_flush_hook(TxFlushFn fn, void* ctx) {
  s_->flush = fn;
  s_->flush_ctx = ctx;
}

TxBatch& NetStack::tx(std::uint16_t port) {
  assert(port < s_->tx.size());
  return s_->tx[port];
}
std::uint16_t NetStack::port_count() const { return std::uint16_t(s_->tx.size()); }
const NetCounters& NetStack::counters() const { return s_->c; }
const NetConfig& NetStack::config() const { return s_->cfg; }
std::span<const UnreachableEvent> NetStack::events() const { return {s_->events.data(), s_->nevents}; }

void NetStack::release() {
  State& s = *s_;
  for (std::uint32_t i = 0; i < s.nheld; ++i) rte_pktmbuf_free(s.held[i]);
  s.nheld = 0;
  s.scratch_used = 0;
  s.nevents = 0;
}

SendResult NetStack::send_udp(std::uint16_t src_port, const Endpoint& dst, const void* payload,
                              std::size_t len, std::uint64_t now, const IpAddr* src_addr) {
  return s_->send_udp(src_port, dst, static_cast<const std::uint8_t*>(payload), len, now, src_addr);
}

bool NetStack::neighbour(const IpAddr& ip, std::uint16_t interface, MacAddr& mac) const {
  for (std::uint32_t i = 0; i < s_->nused; ++i) {
    const Neighbour& n = s_->neigh[i];
    if (n.iface == interface && n.ip == ip && n.state == NeighState::reachable) {
      mac = n.mac;
      return true;
    }
  }
  return false;
}

// ---- lookups ----
int NetStack::State::find_iface(std::uint16_t port, std::uint16_t vlan) const {
  for (std::size_t i = 0; i < ifaces.size(); ++i)
    if (ifaces[i].cfg.port == port && ifaces[i].cfg.vlan == vlan) return int(i);
  return -1;
}

bool NetStack::State::is_local(const Iface& f, const IpAddr& a) const {
  if (a.is_v4()) {
    for (const Prefix& p : f.cfg.ipv4)
      if (p.addr == a) return true;
  } else {
    for (const Prefix& p : f.v6)
      if (p.addr == a) return true;
  }
  return false;
}

bool NetStack::State::is_ours_any(const IpAddr& a) const {
  for (const Iface& f : ifaces)
    if (is_local(f, a)) return true;
  return false;
}

const Route* NetStack::State::route(const IpAddr& dst) const {
  for (const Route& r : routes)  // longest prefix first; a SIP front end has a handful of routes
    if (in_prefix(dst, r.dst)) return &r;
  return nullptr;
}

const IpAddr* NetStack::State::source_for(const Iface& f, const IpAddr& dst) const {
  if (dst.is_v4()) return f.cfg.ipv4.empty() ? nullptr : &f.cfg.ipv4.front().addr;
  const bool link_local = dst.b[0] == 0xfe && (dst.b[1] & 0xc0) == 0x80;
  if (link_local || f.cfg.ipv6.empty()) return f.v6.empty() ? nullptr : &f.v6.back().addr;
  return &f.v6.front().addr;
}

// ---- neighbours ----
Neighbour* NetStack::State::find_neigh(const IpAddr& ip, std::uint16_t iface) {
  // Linear over the entries in use: a front end talks to a gateway and a few registrars.
  for (std::uint32_t i = 0; i < nused; ++i)
    if (neigh[i].iface == iface && neigh[i].ip == ip) return &neigh[i];
  return nullptr;
}

void NetStack::State::enqueue(Neighbour& n, rte_mbuf* m) {
  const std::uint32_t k = qfree;
  qfree = qnext[k];
  qslot[k] = m;
  qnext[k] = kNoSlot;
  if (n.queued == 0) n.qhead = k;
  else qnext[n.qtail] = k;
  n.qtail = k;
  ++n.queued;
}

rte_mbuf* NetStack::State::dequeue(Neighbour& n) {
  const std::uint32_t k = n.qhead;
  rte_mbuf* m = qslot[k];
  n.qhead = qnext[k];
  if (--n.queued == 0) n.qhead = n.qtail = kNoSlot;
  qslot[k] = nullptr;
  qnext[k] = qfree;
  qfree = k;
  return m;
}

void NetStack::State::drop_queue(Neighbour& n) {
  c.drop_tx_unresolved.inc(n.queued);
  while (n.queued != 0) rte_pktmbuf_free(dequeue(n));
}

void NetStack::State::remove_neigh(std::uint32_t i) {
  drop_queue(neigh[i]);
  const std::uint32_t last = nused - 1;
  if (i != last) neigh[i] = neigh[last];  // its queue is empty; the moved entry keeps its slots
  --nused;
}

void NetStack::State::learn(const IpAddr& ip, std::uint16_t iface, const std::uint8_t* mac,
                            std::uint64_t now, bool create) {
  Neighbour* n = find_neigh(ip, iface);
  if (n == nullptr) {
    if (!create || nused == neigh.size()) return;
    n = &neigh[nused++];
    *n = Neighbour{ip, iface, NeighState::reachable, 0, {}, 0, now, 0, kNoSlot, kNoSlot};
  }
  std::memcpy(n->mac.data(), mac, 6);
  n->state = NeighState::reachable;
  n->tries = 0;
  n->confirmed = now;
  n->deadline = now + reachable_ticks;
  if (ip.is_v4()) c.arp_learned.inc(); else c.nd_learned.inc();
  // Release what waited for this next hop: the frames carry their L2 header, dst MAC blank.
  while (n->queued != 0) {
    rte_mbuf* m = dequeue(*n);
    std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), mac, 6);
    emit(ifaces[iface].cfg.port, m);
  }
}

void NetStack::State::solicit(const Neighbour& n) {
  if (n.ip.is_v4()) {
    static constexpr std::uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static constexpr std::uint8_t kZero[6] = {};
    const IpAddr* src = source_for(ifaces[n.iface], n.ip);
    // A refresh of a known neighbour goes unicast (RFC 1122 §2.3.2.1), a resolution broadcast.
    const bool refresh = n.state == NeighState::reachable;
    send_arp(n.iface, 1, refresh ? n.mac.data() : kBroadcast, kZero, src ? src->v4_host() : 0,
             n.ip.v4_host());
    c.tx_arp_requests.inc();
  } else {
    send_ns(n.iface, n.ip);
    c.tx_nd_solicitations.inc();
  }
}

bool NetStack::resolve(const IpAddr& dst, std::uint64_t now) {
  State& s = *s_;
  const Route* r = dst.family != 0 ? s.route(dst) : nullptr;
  if (r == nullptr) return true;
  const IpAddr& next_hop = r->gateway.family != 0 ? r->gateway : dst;
  Neighbour* n = s.find_neigh(next_hop, r->iface);
  if (n != nullptr) return n->state != NeighState::incomplete;
  if (s.nused == s.neigh.size()) return true;
  n = &s.neigh[s.nused++];
  *n = Neighbour{next_hop, r->iface, NeighState::incomplete, 1, {}, now + s.resolve_ticks, 0, 0, kNoSlot, kNoSlot};
  s.solicit(*n);
  return false;
}

SendResult NetStack::State::output(std::uint16_t iface, const IpAddr& next_hop, rte_mbuf* frame,
                                   std::uint64_t now) {
  Neighbour* n = find_neigh(next_hop, iface);
  if (n != nullptr && n->state == NeighState::reachable) {
    std::memcpy(rte_pktmbuf_mtod(frame, std::uint8_t*), n->mac.data(), 6);
    emit(ifaces[iface].cfg.port, frame);
    return SendResult::sent;
  }
  if (n != nullptr && n->state == NeighState::failed) {
    rte_pktmbuf_free(frame);
    c.drop_tx_unresolved.inc();
    return SendResult::unresolved;
  }
  if (n == nullptr) {
    if (nused == neigh.size()) {
      rte_pktmbuf_free(frame);
      c.drop_tx_neigh_full.inc();
      return SendResult::neigh_full;
    }
    n = &neigh[nused++];
    *n = Neighbour{next_hop, iface, NeighState::incomplete, 1, {}, now + resolve_ticks, 0, 0, kNoSlot, kNoSlot};
    solicit(*n);
  }
  if (n->queued == qcap || qfree == kNoSlot) {
    rte_pktmbuf_free(frame);
    c.drop_tx_unresolved.inc();
    return SendResult::unresolved;
  }
  enqueue(*n, frame);
  c.tx_queued_unresolved.inc();
  return SendResult::queued;
}

void NetStack::State::flush_death_row(bool force) {
  // The death row holds RTE_IP_FRAG_DEATH_ROW_MBUF_LEN mbufs; one reassembly call adds at most
  // two datagrams' worth, so flush well before it could overflow.
  constexpr std::uint32_t kRoom = 2 * (RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1);
  if (dr.cnt == 0 || (!force && dr.cnt + kRoom < RTE_IP_FRAG_DEATH_ROW_MBUF_LEN)) return;
  c.drop_frag_reassembly.inc(dr.cnt);
  rte_ip_frag_free_death_row(&dr, 0);
}

void NetStack::poll(std::uint64_t now) {
  State& s = *s_;
  for (std::uint32_t i = 0; i < s.nused;) {
    Neighbour& n = s.neigh[i];
    if (now < n.deadline) {
      ++i;
      continue;
    }
    switch (n.state) {
      case NeighState::incomplete:
        if (n.tries < s.cfg.resolve_retries) {
          ++n.tries;
          n.deadline = now + s.resolve_ticks;
          s.solicit(n);
          ++i;
        } else {  // give up: drop what waited, refuse new frames for a while
          s.drop_queue(n);
          n.state = NeighState::failed;
          n.deadline = now + s.failed_ticks;
          ++i;
        }
        break;
      case NeighState::reachable:
        // Not heard from for reachable_ms: probe (still using the MAC); forget after the retries.
        if (n.tries < s.cfg.resolve_retries) {
          ++n.tries;
          n.deadline = now + s.resolve_ticks;
          s.solicit(n);
          ++i;
        } else {
          s.remove_neigh(i);
        }
        break;
      case NeighState::failed:
        s.remove_neigh(i);
        break;
    }
  }
  rte_ip_frag_table_del_expired_entries(s.frag, &s.dr, now);
  s.flush_death_row(true);
}

void NetStack::announce(std::uint64_t now) {
  State& s = *s_;
  static constexpr std::uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static constexpr std::uint8_t kZero[6] = {};
  for (std::size_t i = 0; i < s.ifaces.size(); ++i) {
    for (const Prefix& p : s.ifaces[i].cfg.ipv4)  // gratuitous ARP: request with spa == tpa
      s.send_arp(std::uint16_t(i), 1, kBroadcast, kZero, p.addr.v4_host(), p.addr.v4_host());
    static constexpr std::uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 1};
    for (const Prefix& p : s.ifaces[i].v6)  // unsolicited NA, override set (RFC 4861 §7.2.6)
      s.send_na(std::uint16_t(i), IpAddr::v6(kAllNodes), kAllNodesMac, p.addr, false);
  }
}

}  // namespace regfront::net
