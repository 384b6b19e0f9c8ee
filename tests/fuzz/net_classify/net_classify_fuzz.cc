// libFuzzer target for the DPDK L2-L4 classifier (NetStack::classify): Ethernet/802.1Q, ARP,
// IPv4/IPv6 with options, extension headers and fragments, UDP, ICMP/ICMPv6 (echo, NDP,
// unreachables quoting our datagrams), on mbuf chains from a real mempool under EAL
// (--no-huge, --no-pci).
//
// Input: one flags byte, then frames, each as a 2-byte big-endian length and its bytes.
//   flags bit 0: fix the IPv4 header checksum and the UDP/ICMP/ICMPv6 checksums before
//                delivery, so mutations get past the checksum checks into the parsers behind;
//   flags bits 1-2: segment size of the mbuf chain (2048, 256, 61, 7 bytes), so every header
//                may straddle segments.
// Oracles beside "no crash, no sanitizer report": no delivered datagram is longer than the
// frames it can come from and each is to one of our ports; after each input
// (fragments timed out, TX drained) the mempool holds exactly the mbufs it held before: the
// classifier neither leaks nor double-frees an mbuf, whatever the frame.
// Replayed by ctest through fuzz_replay_net_classify.
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../../support/mbuf_chain.h"
#include "regfront/net/stack.h"

namespace {

using namespace regfront::net;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kMaxFrames = 32;
constexpr std::size_t kMaxFrame = 9216;
constexpr std::uint64_t kFragTimeoutMs = 2000;
constexpr std::uint64_t kSettleMs = 6000;  // > fragment timeout, > 3 resolve retries of 1 s

rte_mempool* g_pool = nullptr;
NetStack* g_stack = nullptr;

IpAddr addr(const char* text) {
  IpAddr a;
  if (!IpAddr::parse(text, a)) __builtin_trap();
  return a;
}

void init() {
  const std::string prefix = "regfront-fuzz-net-" + std::to_string(getpid());
  std::vector<std::string> args = {"fuzz_net", "--no-huge", "--no-pci", "--file-prefix", prefix,
                                   "-m", "128", "--log-level=*:error", "--no-telemetry", "-l", "0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(int(argv.size()), argv.data()) < 0) __builtin_trap();
  // No per-lcore cache, so that the available count is exact (the leak oracle).
  g_pool = rte_pktmbuf_pool_create("fuzz_net", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (g_pool == nullptr) __builtin_trap();
  NetConfig c;
  const MacAddr ours{0x02, 0, 0, 0, 0, 0x01};
  c.interfaces.push_back({0, 0, ours, 1500, {{addr("10.77.0.1"), 24}}, {{addr("2001:db8:77::1"), 64}}});
  c.interfaces.push_back({0, 100, ours, 1500, {{addr("10.78.0.1"), 24}}, {}});
  c.routes.push_back({{addr("0.0.0.0"), 0}, addr("10.77.0.254")});
  c.udp_ports = {5060};
  c.ticks_per_second = 1000;  // now is in milliseconds
  c.frag_max_datagrams = 64;
  c.frag_timeout_ms = kFragTimeoutMs;
  g_stack = new NetStack(c, g_pool);
  if (!g_stack->init().ok()) __builtin_trap();
}

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t s = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) s += std::uint32_t(p[i] << 8 | p[i + 1]);
  if (n % 2) s += std::uint32_t(p[n - 1] << 8);
  return s;
}
std::uint16_t fold(std::uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return std::uint16_t(~s);
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = std::uint8_t(v >> 8);
  p[1] = std::uint8_t(v);
}

// Makes the checksums right for whatever the headers say (where they say enough).
void fix_checksums(Bytes& f) {
  std::size_t l3 = 14;
  if (f.size() < l3) return;
  std::uint16_t type = std::uint16_t(f[12] << 8 | f[13]);
  if (type == 0x8100 && f.size() >= 18) {
    type = std::uint16_t(f[16] << 8 | f[17]);
    l3 = 18;
  }
  std::uint8_t* ip = f.data() + l3;
  const std::size_t avail = f.size() - l3;
  if (type == 0x0800 && avail >= 20) {
    const std::size_t ihl = std::size_t(ip[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > avail) return;
    put16(ip + 10, 0);
    put16(ip + 10, fold(sum16(ip, ihl)));
    const std::size_t total = std::min<std::size_t>(std::uint16_t(ip[2] << 8 | ip[3]), avail);
    const bool first_fragment_only = (std::uint16_t(ip[6] << 8 | ip[7]) & 0x3fff) == 0;
    if (total <= ihl || !first_fragment_only) return;
    std::uint8_t* l4 = ip + ihl;
    const std::size_t len = total - ihl;
    if (ip[9] == 17 && len >= 8) {
      put16(l4 + 6, 0);  // IPv4 UDP: checksum 0 means none
    } else if (ip[9] == 1 && len >= 4) {
      put16(l4 + 2, 0);
      put16(l4 + 2, fold(sum16(l4, len)));
    }
  } else if (type == 0x86dd && avail >= 40) {
    const std::uint8_t nh = ip[6];
    const std::size_t len = std::min<std::size_t>(std::uint16_t(ip[4] << 8 | ip[5]), avail - 40);
    std::uint8_t* l4 = ip + 40;
    std::size_t at = nh == 17 ? 6 : nh == 58 ? 2 : 0;
    if (at == 0 || len < at + 2) return;
    put16(l4 + at, 0);
    std::uint32_t s = sum16(ip + 8, 32);
    s += std::uint32_t(len >> 16) + std::uint32_t(len & 0xffff) + nh;
    std::uint16_t c = fold(sum16(l4, len, s));
    if (nh == 17 && c == 0) c = 0xffff;
    put16(l4 + at, c);
  }
}

void drain_tx() {
  TxBatch& b = g_stack->tx(0);
  for (std::uint32_t i = 0; i < b.count; ++i) rte_pktmbuf_free(b.pkts[i]);
  b.consumed(std::uint16_t(b.count));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::uint64_t now = 1'000'000;
  if (g_stack == nullptr) init();
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  static constexpr std::size_t kSegs[] = {2048, 256, 61, 7};
  const std::size_t seg = kSegs[(flags >> 1) & 3];
  const unsigned level = rte_mempool_avail_count(g_pool);

  std::size_t pos = 1;
  std::size_t bytes_in = 0;  // a reassembled datagram is made of this input's earlier frames
  RxDatagram out[32];
  for (std::size_t k = 0; k < kMaxFrames && pos + 2 <= size; ++k) {
    const std::size_t len = std::min<std::size_t>(std::size_t(data[pos] << 8 | data[pos + 1]), kMaxFrame);
    pos += 2;
    Bytes frame(data + pos, data + std::min(size, pos + len));
    pos += len;
    if (flags & 1) fix_checksums(frame);
    bytes_in += frame.size();
    rte_mbuf* m = regfront::test::mbuf_chain(g_pool, frame.data(), frame.size(), 0, seg);
    if (m == nullptr) break;
    const std::size_t n = g_stack->classify(&m, 1, ++now, out, 32);
    for (std::size_t i = 0; i < n; ++i) {
      if (out[i].len > bytes_in || out[i].dst.port != 5060) __builtin_trap();
      volatile std::uint8_t x = 0;  // touch every byte: ASan checks the view
      for (std::uint32_t j = 0; j < out[i].len; ++j) x = x ^ out[i].payload[j];
      (void)x;
    }
    (void)g_stack->events().size();
    g_stack->release();
    drain_tx();
  }
  // Every fragment held for reassembly times out, every frame waiting for a neighbour is sent
  // or given up on (resolve_retries x resolve_interval_ms); what the stack sent is dropped.
  for (std::uint64_t t = 0; t <= kSettleMs; t += 250) {
    now += 250;
    g_stack->poll(now);
    drain_tx();
  }
  if (rte_mempool_avail_count(g_pool) != level) __builtin_trap();  // an mbuf leaked or was freed twice
  return 0;
}
