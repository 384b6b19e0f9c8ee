// regfront/net/stack.h — the small L2-L4 a SIP front end needs, on DPDK mbufs, one per worker.
//
// A NetStack turns bursts of received frames into UDP datagrams for the engine, answers what
// the network expects of a host (ARP, NDP, ICMP echo), reassembles fragments (rte_ip_frag),
// turns ICMP unreachables quoting our datagrams into events, and builds outgoing
// Ethernet/[802.1Q]/IPv4|IPv6/UDP frames (fragmenting above the MTU, resolving the next hop
// through ARP/NDP, queueing a bounded number of frames while it is unresolved).
//
//   NetConfig cfg;                       // interfaces, routes, UDP ports, limits
//   NetStack stack(cfg, pool);           // set-up: allocates every table
//   if (!stack.init(err)) …;
//   stack.announce(now);                 // gratuitous ARP / unsolicited NA at start
//   // worker loop:
//   n = rte_eth_rx_burst(port, q, pkts, 32);
//   k = stack.classify(pkts, n, now, dgrams, 32);   // mbufs are consumed
//   for (i < k) engine.on_datagram(dgrams[i].payload …);
//   for (const UnreachableEvent& e : stack.events()) engine.on_unreachable(e.dst …);
//   stack.release();                     // payload views end here
//   stack.send_udp(src_port, dst, bytes, len, now);   // engine output
//   stack.poll(now);                     // ARP/NDP retries, fragment timeouts (every ~ms)
//   for each port p: TxBatch& b = stack.tx(p); sent = rte_eth_tx_burst(p, q, b.pkts, b.count);
//                    b.consumed(sent);   // unsent frames stay for the next flush
//
// After init(), no call allocates, locks, logs or blocks: every table is sized by NetConfig,
// mbufs come from the pool given at construction, counters are per stack (counters.h).
// Time is whatever monotonic tick the caller passes (TSC cycles in the worker, milliseconds in
// tests): NetConfig::ticks_per_second says how many ticks make a second.
//
// Error policy (STYLE 8): nothing on the packet path asserts on network input. Malformed or
// unwanted frames are counted (NetCounters::drop_*) and freed. Debug asserts (assert) guard only
// caller contracts (burst sizes, port ids) that a test can break; they compile out in release.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/common/status.h"
#include "regfront/net/counters.h"

struct rte_mbuf;
struct rte_mempool;

namespace regfront::net {

// ---- Addresses ----
// An IPv4 or IPv6 address in network byte order; IPv4 uses the first 4 bytes.
struct IpAddr {
  std::uint8_t family = 0;  // 4 or 6; 0 = unset
  std::array<std::uint8_t, 16> b{};

  static IpAddr v4(std::uint32_t host_order);
  static IpAddr v6(const std::uint8_t (&bytes)[16]);
  // Parses dotted-quad or RFC 4291 text; false when malformed (set-up only: not on the hot path).
  static bool parse(const char* text, IpAddr& out);
  bool is_v4() const { return family == 4; }
  bool is_v6() const { return family == 6; }
  std::uint32_t v4_host() const;  // IPv4 in host order
  bool operator==(const IpAddr& o) const = default;
  std::string to_string() const;  // for tests and logs at set-up
};

struct Endpoint {
  IpAddr addr;
  std::uint16_t port = 0;  // host order
  bool operator==(const Endpoint& o) const = default;
};

using MacAddr = std::array<std::uint8_t, 6>;

// ---- Configuration (set-up time) ----
struct Prefix {
  IpAddr addr;           // our address on the interface (for routes: the network)
  std::uint8_t len = 0;  // prefix length
};

// An interface is a port plus an optional 802.1Q VLAN id (IOS "interface dpdk0.100" with
// "encapsulation dot1Q 100"), with its own addresses. An IPv6 link-local address derived from
// the MAC (EUI-64) is added to every interface that has IPv6 addresses.
struct InterfaceConfig {
  std::uint16_t port = 0;
  std::uint16_t vlan = 0;  // 0 = untagged
  MacAddr mac{};
  std::uint16_t mtu = 1500;  // IP MTU (bytes of IP datagram per frame)
  std::vector<Prefix> ipv4;
  std::vector<Prefix> ipv6;
};

// Static route: `ip route 0.0.0.0 0.0.0.0 10.77.0.254` is {0.0.0.0/0 via 10.77.0.254}. The
// outgoing interface is the one whose connected subnet holds the gateway.
struct RouteConfig {
  Prefix dst;
  IpAddr gateway;
};

// What the port can do for us (from rte_eth_dev_info.tx_offload_capa / rx): the backend fills
// this per port; the stack then sets mbuf offload flags instead of computing sums in software.
struct PortCaps {
  bool tx_ipv4_cksum = false;  // RTE_ETH_TX_OFFLOAD_IPV4_CKSUM
  bool tx_udp_cksum = false;   // RTE_ETH_TX_OFFLOAD_UDP_CKSUM
};

struct NetConfig {
  std::vector<InterfaceConfig> interfaces;
  std::vector<RouteConfig> routes;
  std::vector<std::uint16_t> udp_ports;  // we accept UDP datagrams to these ports (e.g. 5060)
  std::vector<PortCaps> port_caps;       // index = port id; missing = no offload
  std::uint64_t ticks_per_second = 0;    // 0 = rte_get_tsc_hz()

  // Neighbours (ARP and NDP share one table).
  std::uint32_t neighbours = 256;          // entries
  std::uint32_t neighbour_queue = 8;       // frames waiting per unresolved next hop
  // Frames waiting for all unresolved next hops together (one shared pool of slots);
  // 0 = neighbours × neighbour_queue. A front end talks to a handful of next hops, and at a
  // cold start all its REGISTERs wait for them at once: a deep queue per next hop with a
  // modest total bounds the mbufs held without dropping that first burst.
  std::uint32_t neighbour_queue_total = 0;
  std::uint32_t resolve_retries = 3;       // requests/solicitations before giving up
  std::uint32_t resolve_interval_ms = 1000;
  std::uint32_t reachable_ms = 300000;     // re-resolve (while still using the MAC) after this
  std::uint32_t failed_hold_ms = 3000;     // a failed entry drops new frames for this long

  // Reassembly: at most this many datagrams in flight; each dropped after frag_timeout_ms.
  std::uint32_t frag_max_datagrams = 1024;
  std::uint32_t frag_timeout_ms = 2000;

  std::uint32_t scratch_bytes = 256 * 1024;  // linearisation buffer, reused every burst
  std::uint32_t max_events = 64;             // unreachable events per burst
  std::uint16_t tx_batch = 512;              // frames per port between two flushes
};

// ---- Results ----
// A UDP datagram for one of our address/port pairs. `payload` points into the mbuf (single
// segment) or into the stack's scratch buffer (multi-segment or reassembled): valid until
// release() or the next classify().
struct RxDatagram {
  const std::uint8_t* payload;
  std::uint32_t len;
  Endpoint src;
  Endpoint dst;             // our address and port it was sent to
  std::uint16_t interface;  // index into NetConfig::interfaces
};

// An ICMP/ICMPv6 destination-unreachable quoting a UDP datagram from one of our addresses:
// the engine fails the transaction whose request it quotes (it checks the quoted payload
// against what it sent, so an off-path forgery fails nothing) instead of waiting for Timer F.
enum class UnreachableKind : std::uint8_t { port, host, net, admin, other };
struct UnreachableEvent {
  static constexpr std::size_t kMaxQuoted = 512;  // quoted UDP payload kept (a REGISTER's Via is in its first 300)
  Endpoint dst;       // the quoted original destination (registrar address:port)
  Endpoint src;       // our quoted source address:port
  IpAddr reporter;    // who sent the ICMP message
  UnreachableKind kind;
  std::uint8_t type, code;  // raw ICMP type/code
  std::uint16_t interface;
  std::uint16_t quoted_len = 0;    // bytes of the quoted UDP payload in `quoted` (0: only the header was quoted)
  std::uint8_t quoted[kMaxQuoted];  // the start of the quoted UDP payload
  std::string_view quoted_payload() const { return {reinterpret_cast<const char*>(quoted), quoted_len}; }
};

enum class SendResult : std::uint8_t {
  sent,        // frame(s) in the port's TX batch
  queued,      // waiting for ARP/NDP resolution of the next hop
  no_route,
  no_mbuf,
  too_big,
  unresolved,  // next hop failed resolution recently, or its queue is full
  neigh_full,
  batch_full,
};

// Frames to transmit on one port; the backend flushes them with rte_eth_tx_burst.
struct TxBatch {
  rte_mbuf** pkts = nullptr;
  std::uint16_t count = 0;
  std::uint16_t capacity = 0;
  // Drops the first `sent` frames (now owned by the NIC), keeping the rest in order.
  void consumed(std::uint16_t sent);
};

// Optional hook the stack calls when a port's batch is full (e.g. rte_eth_tx_burst there and
// then); without one, frames beyond the capacity are freed and counted.
using TxFlushFn = void (*)(void* ctx, std::uint16_t port, TxBatch& batch);

class NetStack {
 public:
  static constexpr std::size_t kMaxBurst = 64;

  // `pool` provides every mbuf the stack builds (replies, datagrams, fragment headers and
  // indirect fragment mbufs); the stack never frees the pool.
  NetStack(NetConfig cfg, rte_mempool* pool);
  ~NetStack();
  NetStack(const NetStack&) = delete;
  NetStack& operator=(const NetStack&) = delete;

  // Validates the configuration and allocates the tables (fragment table on the caller's
  // NUMA socket); a failure says what is wrong.
  Status init();
  void set_flush_hook(TxFlushFn fn, void* ctx);

  // Classifies `n` (≤ kMaxBurst) received frames; the stack takes ownership of every mbuf.
  // Writes up to `max_out` datagrams for the engine and returns their count; replies (ARP, NDP,
  // ICMP echo) go to the TX batches; events() holds this burst's unreachable events.
  std::size_t classify(rte_mbuf** pkts, std::size_t n, std::uint64_t now, RxDatagram* out,
                       std::size_t max_out);
  std::span<const UnreachableEvent> events() const;
  // Frees the mbufs behind the last burst's datagrams and forgets its events.
  void release();

  // Builds a UDP datagram from our `src_port` to `dst`; the source address is the outgoing
  // interface's first address of dst's family (or `src_addr` when given and ours).
  SendResult send_udp(std::uint16_t src_port, const Endpoint& dst, const void* payload,
                      std::size_t len, std::uint64_t now, const IpAddr* src_addr = nullptr);

  // Housekeeping, every millisecond or so: resolution retries and give-ups, fragment timeouts.
  void poll(std::uint64_t now);
  // Gratuitous ARP for every IPv4 address and an unsolicited NA for every IPv6 address.
  void announce(std::uint64_t now);

  TxBatch& tx(std::uint16_t port);
  std::uint16_t port_count() const;
  const NetCounters& counters() const;
  const NetConfig& config() const;

  // Starts resolving the next hop towards `dst` (ARP/NDP, as a first datagram would) unless it
  // is known. Returns false while a resolution is under way; true when the next hop is
  // reachable, has failed, or there is no route (nothing to wait for).
  bool resolve(const IpAddr& dst, std::uint64_t now);

  // Neighbour table inspection (tests, `show dataplane`): true with the MAC when resolved.
  bool neighbour(const IpAddr& ip, std::uint16_t interface, MacAddr& mac) const;

  struct State;  // private implementation (dataplane/net/)

 private:
  std::unique_ptr<State> s_;
};

}  // namespace regfront::net
