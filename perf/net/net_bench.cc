// Micro-benchmarks of dataplane/net: classification of a burst of 600-byte SIP/UDP/IPv4 frames
// (header checks, software IPv4 and UDP checksums, listener match, payload view) and building
// the same datagram for a resolved next hop. Per-packet time = 1 / items_per_second.
// EAL runs without hugepages or PCI, as in the unit tests.
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "regfront/net/stack.h"

namespace regfront::net {
namespace {

rte_mempool* pool() {
  static rte_mempool* p = [] {
    std::vector<std::string> args = {"bench_net", "--no-huge", "--no-pci", "--file-prefix",
                                     "regfront-net-bench-" + std::to_string(getpid()), "-m", "256",
                                     "--log-level=*:error", "--no-telemetry", "-l", "0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    if (rte_eal_init(int(argv.size()), argv.data()) < 0) return static_cast<rte_mempool*>(nullptr);
    return rte_pktmbuf_pool_create("net_bench", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  }();
  return p;
}

NetConfig config() {
  NetConfig c;
  IpAddr ours;
  IpAddr::parse("10.77.0.1", ours);
  c.interfaces.push_back({0, 0, {2, 0, 0, 0, 0, 1}, 1500, {{ours, 24}}, {}});
  c.udp_ports = {5060};
  return c;
}

// A 600-byte SIP payload from 10.77.0.2:5060 to 10.77.0.1:5060 with valid checksums, built by
// a stack playing the peer.
std::vector<std::uint8_t> sip_frame() {
  NetConfig pc;
  IpAddr peer;
  IpAddr::parse("10.77.0.2", peer);
  pc.interfaces.push_back({0, 0, {2, 0, 0, 0, 0, 2}, 1500, {{peer, 24}}, {}});
  NetStack p(pc, pool());
  if (!p.init().ok()) std::abort();
  // Teach the peer our MAC with an ARP request from us.
  std::uint8_t arp[60] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 6, 0, 1, 8, 0, 6, 4, 0, 1,
                          2, 0, 0, 0, 0, 1, 10, 77, 0, 1, 0, 0, 0, 0, 0, 0, 10, 77, 0, 2};
  rte_mbuf* m = rte_pktmbuf_alloc(pool());
  std::memcpy(rte_pktmbuf_append(m, sizeof arp), arp, sizeof arp);
  m->port = 0;  // rte_pktmbuf_alloc leaves RTE_MBUF_PORT_INVALID
  RxDatagram out[1];
  p.classify(&m, 1, 0, out, 1);
  TxBatch& b = p.tx(0);
  rte_pktmbuf_free_bulk(b.pkts, b.count);
  b.consumed(b.count);
  std::string sip(600, 'x');
  sip.replace(0, 8, "SIP/2.0 ");
  IpAddr ours;
  IpAddr::parse("10.77.0.1", ours);
  p.send_udp(5060, {ours, 5060}, sip.data(), sip.size(), 0);
  std::vector<std::uint8_t> frame(rte_pktmbuf_pkt_len(b.pkts[0]));
  std::memcpy(frame.data(), rte_pktmbuf_mtod(b.pkts[0], void*), frame.size());
  rte_pktmbuf_free_bulk(b.pkts, b.count);
  b.consumed(b.count);
  return frame;
}

void BM_ClassifySipBurst(benchmark::State& state) {
  if (pool() == nullptr) return state.SkipWithError("EAL init failed");
  NetStack s(config(), pool());
  if (const Status st = s.init(); !st.ok()) return state.SkipWithError(st.message().c_str());
  const auto frame = sip_frame();
  constexpr unsigned kBurst = 32;
  rte_mbuf* pkts[kBurst];
  rte_pktmbuf_alloc_bulk(pool(), pkts, kBurst);
  for (rte_mbuf* m : pkts) {
    std::memcpy(rte_pktmbuf_append(m, std::uint16_t(frame.size())), frame.data(), frame.size());
    m->port = 0;
  }
  RxDatagram out[kBurst];
  std::size_t delivered = 0;
  for (auto _ : state) {
    // An extra reference keeps each mbuf (and its bytes) alive across release(): the loop then
    // measures classification, not a NIC's DMA or a copy.
    for (rte_mbuf* m : pkts) rte_mbuf_refcnt_update(m, 1);
    delivered += s.classify(pkts, kBurst, 0, out, kBurst);
    benchmark::DoNotOptimize(out[kBurst - 1].payload);
    s.release();
  }
  if (delivered != std::size_t(state.iterations()) * kBurst) state.SkipWithError("frames not delivered");
  rte_pktmbuf_free_bulk(pkts, kBurst);
  state.SetItemsProcessed(std::int64_t(state.iterations() * kBurst));
}
BENCHMARK(BM_ClassifySipBurst);

void BM_BuildSipDatagram(benchmark::State& state) {
  if (pool() == nullptr) return state.SkipWithError("EAL init failed");
  NetConfig c = config();
  c.port_caps = {PortCaps{state.range(0) != 0, state.range(0) != 0}};
  NetStack s(c, pool());
  if (const Status st = s.init(); !st.ok()) return state.SkipWithError(st.message().c_str());
  // Resolve 10.77.0.2 with an ARP request from it.
  std::uint8_t arp[60] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 6, 0, 1, 8, 0, 6, 4, 0, 1,
                          2, 0, 0, 0, 0, 2, 10, 77, 0, 2, 0, 0, 0, 0, 0, 0, 10, 77, 0, 1};
  rte_mbuf* m = rte_pktmbuf_alloc(pool());
  std::memcpy(rte_pktmbuf_append(m, sizeof arp), arp, sizeof arp);
  m->port = 0;  // rte_pktmbuf_alloc leaves RTE_MBUF_PORT_INVALID
  RxDatagram out[1];
  s.classify(&m, 1, 0, out, 1);
  TxBatch& b = s.tx(0);
  rte_pktmbuf_free_bulk(b.pkts, b.count);
  b.consumed(b.count);
  std::string sip(600, 'x');
  IpAddr peer;
  IpAddr::parse("10.77.0.2", peer);
  constexpr unsigned kBurst = 32;
  std::size_t sent = 0;
  for (auto _ : state) {
    for (unsigned i = 0; i < kBurst; ++i)
      sent += s.send_udp(5060, {peer, 5060}, sip.data(), sip.size(), 0) == SendResult::sent;
    rte_pktmbuf_free_bulk(b.pkts, b.count);  // stands in for rte_eth_tx_burst
    b.consumed(b.count);
  }
  if (sent != std::size_t(state.iterations()) * kBurst) state.SkipWithError("datagrams not sent");
  state.SetItemsProcessed(std::int64_t(state.iterations() * kBurst));
  state.SetLabel(state.range(0) ? "checksum offload flags" : "software checksums");
}
BENCHMARK(BM_BuildSipDatagram)->Arg(0)->Arg(1);

}  // namespace
}  // namespace regfront::net
