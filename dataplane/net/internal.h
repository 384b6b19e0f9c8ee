// dataplane/net/internal.h — NetStack's private state and the wire helpers its files share.
// Not a public header: include/regfront/net/stack.h is the interface.
#pragma once

#include <rte_byteorder.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <cstring>
#include <vector>

#include "regfront/net/stack.h"

namespace regfront::net {

namespace wire {
constexpr std::uint16_t kEthIpv4 = 0x0800, kEthArp = 0x0806, kEthIpv6 = 0x86dd;
constexpr std::uint16_t kEthVlan = 0x8100, kEthQinQ = 0x88a8;
constexpr std::uint8_t kProtoIcmp = 1, kProtoUdp = 17, kProtoFrag6 = 44, kProtoIcmp6 = 58;
constexpr std::uint8_t kProtoHopByHop = 0, kProtoDestOpts = 60;
constexpr std::size_t kEthLen = 14, kVlanLen = 4, kIpv4Len = 20, kIpv6Len = 40, kUdpLen = 8;

inline std::uint16_t be16(const std::uint8_t* p) { return std::uint16_t(p[0] << 8 | p[1]); }
inline std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
inline void put16(std::uint8_t* p, std::uint16_t v) { p[0] = std::uint8_t(v >> 8); p[1] = std::uint8_t(v); }
inline void put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = std::uint8_t(v >> 24); p[1] = std::uint8_t(v >> 16); p[2] = std::uint8_t(v >> 8); p[3] = std::uint8_t(v);
}
// Ones'-complement arithmetic on sums of native-order 16-bit loads (rte_raw_cksum convention):
// the folded sum of a correct packet is 0xffff whatever the host's byte order.
inline std::uint16_t fold(std::uint32_t s) {
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return std::uint16_t(s);
}
// Sum of the IPv4/IPv6 pseudo-header for an upper-layer protocol (RFC 768, RFC 8200 §8.1).
std::uint32_t pseudo_sum(const IpAddr& src, const IpAddr& dst, std::uint8_t proto, std::uint32_t len);
// Folded raw sum of `len` bytes at `off` in a (possibly multi-segment) mbuf.
std::uint16_t mbuf_sum(const rte_mbuf* m, std::uint32_t off, std::uint32_t len);
// Folded raw sum of `len` contiguous bytes: the value rte_raw_cksum gives, in 32-bit units.
std::uint16_t raw_sum(const void* data, std::size_t len);
}  // namespace wire

struct Iface {
  InterfaceConfig cfg;
  std::vector<Prefix> v6;  // configured + EUI-64 link-local (last)
  std::uint16_t l2_len;    // 14 or 18
};

struct Route {
  Prefix dst;
  IpAddr gateway;  // family 0 for connected subnets (next hop = destination)
  std::uint16_t iface;
};

enum class NeighState : std::uint8_t { incomplete, reachable, failed };

struct Neighbour {
  IpAddr ip;
  std::uint16_t iface;
  NeighState state;
  std::uint8_t tries;       // requests sent in the current resolution/refresh round
  MacAddr mac;
  std::uint64_t deadline;   // incomplete: next retry; failed: end of hold; reachable: next refresh probe
  std::uint64_t confirmed;  // last time we heard from it
  std::uint32_t queued;     // frames in this entry's queue
  std::uint32_t qhead, qtail;  // its first and last slot in State::qslot (kNoSlot when empty)
};
inline constexpr std::uint32_t kNoSlot = ~std::uint32_t(0);

struct NetStack::State {
  NetConfig cfg;
  rte_mempool* pool;
  NetCounters c;
  std::vector<Iface> ifaces;
  std::vector<Route> routes;  // sorted longest prefix first

  std::uint64_t hz = 0;
  std::uint64_t resolve_ticks = 0, reachable_ticks = 0, failed_ticks = 0;

  // Neighbours: [0, nused) in use; entry i's queue is queue[i * qcap, i * qcap + queued).
  std::vector<Neighbour> neigh;
  // Frames waiting for resolution: slots shared by all entries, each entry a FIFO linked
  // through qnext; free slots form a stack from qfree.
  std::vector<rte_mbuf*> qslot;
  std::vector<std::uint32_t> qnext;
  std::uint32_t qfree = kNoSlot;
  std::uint32_t nused = 0, qcap = 0;
  void enqueue(Neighbour& n, rte_mbuf* m);   // caller checked n.queued < qcap and qfree
  rte_mbuf* dequeue(Neighbour& n);           // n.queued > 0
  void drop_queue(Neighbour& n);             // frees the frames, counts drop_tx_unresolved

  // Reassembly.
  rte_ip_frag_tbl* frag = nullptr;
  rte_ip_frag_death_row dr{};

  // Per burst.
  std::vector<rte_mbuf*> held;  // mbufs behind delivered datagrams
  std::uint32_t nheld = 0;
  std::vector<std::uint8_t> scratch;
  std::uint32_t scratch_used = 0;
  std::vector<UnreachableEvent> events;
  std::uint32_t nevents = 0;

  // Transmit.
  std::vector<std::vector<rte_mbuf*>> tx_store;
  std::vector<TxBatch> tx;
  TxFlushFn flush = nullptr;
  void* flush_ctx = nullptr;
  std::uint32_t ip_id = 1;

  State(NetConfig c, rte_mempool* p) : cfg(std::move(c)), pool(p) {}

  // ---- set-up / lookup (stack.cc) ----
  int find_iface(std::uint16_t port, std::uint16_t vlan) const;
  bool is_local(const Iface& f, const IpAddr& a) const;
  bool is_ours_any(const IpAddr& a) const;
  const Route* route(const IpAddr& dst) const;
  const IpAddr* source_for(const Iface& f, const IpAddr& dst) const;
  std::uint64_t ms(std::uint32_t v) const { return hz * v / 1000; }

  // ---- neighbours (stack.cc) ----
  Neighbour* find_neigh(const IpAddr& ip, std::uint16_t iface);
  void learn(const IpAddr& ip, std::uint16_t iface, const std::uint8_t* mac, std::uint64_t now,
             bool create);
  SendResult output(std::uint16_t iface, const IpAddr& next_hop, rte_mbuf* frame, std::uint64_t now);
  void remove_neigh(std::uint32_t i);
  void solicit(const Neighbour& n);
  void flush_death_row(bool force);

  // ---- receive (rx.cc) ----
  struct Rx {
    RxDatagram* out;
    std::size_t max_out;
    std::size_t count;
  };
  void rx_one(rte_mbuf* m, std::uint64_t now, Rx& rx);
  void rx_arp(rte_mbuf* m, std::uint16_t iface, std::uint32_t l2, std::uint64_t now);
  void rx_ipv4(rte_mbuf* m, std::uint16_t iface, std::uint32_t l2, std::uint64_t now, Rx& rx);
  void rx_ipv6(rte_mbuf* m, std::uint16_t iface, std::uint32_t l2, const std::uint8_t* src_mac,
               std::uint64_t now, Rx& rx);
  void rx_udp(rte_mbuf* m, std::uint16_t iface, const IpAddr& src, const IpAddr& dst,
              std::uint32_t l4, std::uint32_t l4_len, bool reassembled, Rx& rx);
  void rx_icmp4(rte_mbuf* m, std::uint16_t iface, const IpAddr& src, const IpAddr& dst,
                std::uint32_t l2, std::uint32_t l4, std::uint32_t l4_len);
  void rx_icmp6(rte_mbuf* m, std::uint16_t iface, const IpAddr& src, const IpAddr& dst,
                std::uint8_t hop_limit, const std::uint8_t* src_mac, std::uint32_t l2,
                std::uint32_t l4, std::uint32_t l4_len, std::uint64_t now);
  // Records an unreachable event with the quoted UDP payload at [off, off + len) of `m`
  // (clipped to UnreachableEvent::kMaxQuoted).
  void raise(const UnreachableEvent& e, rte_mbuf* m, std::uint32_t off, std::uint32_t len);

  // ---- transmit (tx.cc) ----
  void emit(std::uint16_t port, rte_mbuf* m);
  // A fresh single-segment frame with its L2 header written; returns the L3 pointer.
  std::uint8_t* new_frame(std::uint16_t iface, const std::uint8_t* dst_mac, std::uint16_t ethertype,
                          std::uint32_t l3_bytes, rte_mbuf*& m);
  void write_l2(const Iface& f, std::uint8_t* p, const std::uint8_t* dst_mac, std::uint16_t ethertype);
  void send_arp(std::uint16_t iface, std::uint16_t op, const std::uint8_t* eth_dst,
                const std::uint8_t* tha, std::uint32_t spa, std::uint32_t tpa);
  void send_ns(std::uint16_t iface, const IpAddr& target);
  void send_na(std::uint16_t iface, const IpAddr& dst, const std::uint8_t* dst_mac,
               const IpAddr& target, bool solicited);
  void send_echo_reply(std::uint16_t iface, rte_mbuf* req, const std::uint8_t* dst_mac,
                       const IpAddr& ours, const IpAddr& peer, std::uint32_t l4, std::uint32_t len);
  SendResult send_udp(std::uint16_t src_port, const Endpoint& dst, const std::uint8_t* payload,
                      std::size_t len, std::uint64_t now, const IpAddr* src_addr);
};

}  // namespace regfront::net
