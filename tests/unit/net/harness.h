// tests/unit/net/harness.h — EAL set-up once per test binary, an mbuf pool whose level is
// checked after every test (no leak), and a frame crafter written independently of the stack
// (big-endian checksum arithmetic, byte vectors) so that the two cross-check each other.
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../../support/mbuf_chain.h"
#include "regfront/net/stack.h"

namespace regfront::net::test {

using Bytes = std::vector<std::uint8_t>;

inline rte_mempool* g_pool = nullptr;

// EAL without hugepages or PCI; a unique file prefix so parallel test runs do not collide.
class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string prefix = "regfront-net-test-" + std::to_string(getpid());
    std::vector<std::string> args = {"test_net", "--no-huge", "--no-pci", "--file-prefix", prefix, "-m", "256",
                                     "--log-level=*:error", "--no-telemetry", "-l", "0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(int(argv.size()), argv.data()), 0) << "rte_eal_init failed";
    // No per-lcore cache: rte_mempool_avail_count is then exact, which the leak checks need.
    g_pool = rte_pktmbuf_pool_create("net_test", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(g_pool, nullptr);
  }
  void TearDown() override { rte_eal_cleanup(); }
};

// ---- crafting ----
inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = std::uint8_t(v >> 8);
  b[at + 1] = std::uint8_t(v);
}
inline std::uint16_t get16(const std::uint8_t* p) { return std::uint16_t(p[0] << 8 | p[1]); }
inline void append(Bytes& b, const Bytes& tail) { b.insert(b.end(), tail.begin(), tail.end()); }

// RFC 1071 over big-endian words, returning the value to store (big-endian).
inline std::uint16_t inet_sum(const Bytes& d, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < d.size(); i += 2) sum += std::uint32_t(d[i] << 8 | d[i + 1]);
  if (d.size() % 2) sum += std::uint32_t(d.back() << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return std::uint16_t(~sum);
}

inline Bytes mac(std::uint8_t last) { return {0x02, 0, 0, 0, 0, last}; }

inline Bytes eth(const Bytes& dst, const Bytes& src, std::uint16_t type, std::uint16_t vlan = 0) {
  Bytes b = dst;
  append(b, src);
  if (vlan != 0) b.insert(b.end(), {0x81, 0x00, std::uint8_t(vlan >> 8), std::uint8_t(vlan)});
  b.insert(b.end(), {std::uint8_t(type >> 8), std::uint8_t(type)});
  return b;
}

inline Bytes v4(std::uint32_t a) { return {std::uint8_t(a >> 24), std::uint8_t(a >> 16), std::uint8_t(a >> 8), std::uint8_t(a)}; }
inline std::uint32_t ip4(int a, int b, int c, int d) { return std::uint32_t(a) << 24 | b << 16 | c << 8 | d; }

inline Bytes ipv4(std::uint32_t src, std::uint32_t dst, std::uint8_t proto, const Bytes& l4, std::uint16_t id = 7,
                  std::uint16_t frag = 0, std::uint8_t ttl = 64) {
  Bytes h(20, 0);
  h[0] = 0x45;
  put16(h, 2, std::uint16_t(20 + l4.size()));
  put16(h, 4, id);
  put16(h, 6, frag);
  h[8] = ttl;
  h[9] = proto;
  auto s = v4(src), d = v4(dst);
  std::copy(s.begin(), s.end(), h.begin() + 12);
  std::copy(d.begin(), d.end(), h.begin() + 16);
  put16(h, 10, inet_sum(h));
  append(h, l4);
  return h;
}

inline std::uint32_t pseudo(const Bytes& src, const Bytes& dst, std::uint8_t proto, std::uint32_t len) {
  Bytes p = src;
  append(p, dst);
  if (src.size() == 4) p.insert(p.end(), {0, proto, std::uint8_t(len >> 8), std::uint8_t(len)});
  else p.insert(p.end(), {std::uint8_t(len >> 24), std::uint8_t(len >> 16), std::uint8_t(len >> 8), std::uint8_t(len), 0, 0, 0, proto});
  std::uint32_t s = 0;
  for (std::size_t i = 0; i < p.size(); i += 2) s += std::uint32_t(p[i] << 8 | p[i + 1]);
  return s;
}

inline Bytes udp(const Bytes& src, const Bytes& dst, std::uint16_t sport, std::uint16_t dport, const Bytes& payload) {
  Bytes u(8, 0);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, std::uint16_t(8 + payload.size()));
  append(u, payload);
  std::uint16_t s = inet_sum(u, pseudo(src, dst, 17, std::uint32_t(u.size())));
  put16(u, 6, s == 0 ? 0xffff : s);
  return u;
}

inline Bytes ipv6(const Bytes& src, const Bytes& dst, std::uint8_t nh, const Bytes& payload, std::uint8_t hop = 64) {
  Bytes h(8, 0);
  h[0] = 0x60;
  put16(h, 4, std::uint16_t(payload.size()));
  h[6] = nh;
  h[7] = hop;
  append(h, src);
  append(h, dst);
  append(h, payload);
  return h;
}

inline Bytes icmp6(const Bytes& src, const Bytes& dst, std::uint8_t type, std::uint8_t code, const Bytes& body) {
  Bytes m = {type, code, 0, 0};
  append(m, body);
  put16(m, 2, inet_sum(m, pseudo(src, dst, 58, std::uint32_t(m.size()))));
  return m;
}

inline Bytes icmp4(std::uint8_t type, std::uint8_t code, const Bytes& body) {
  Bytes m = {type, code, 0, 0};
  append(m, body);
  put16(m, 2, inet_sum(m));
  return m;
}

inline Bytes payload(std::size_t n, std::uint8_t seed = 1) {
  Bytes p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = std::uint8_t(seed + i * 7);
  return p;
}

// Copies `b` into an mbuf chain whose segments hold at most `seg` bytes each.
inline rte_mbuf* to_mbuf(const Bytes& b, std::uint16_t port = 0, std::size_t seg = 2048) {
  return regfront::test::mbuf_chain(g_pool, b.data(), b.size(), port, seg);
}

inline Bytes from_mbuf(const rte_mbuf* m) {
  Bytes b(rte_pktmbuf_pkt_len(m));
  const void* p = rte_pktmbuf_read(m, 0, std::uint32_t(b.size()), b.data());
  if (p != b.data()) std::memcpy(b.data(), p, b.size());
  return b;
}

}  // namespace regfront::net::test
