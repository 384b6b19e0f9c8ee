// The DPDK backend's plain set-up logic: the sockaddr ↔ Endpoint conversions between the
// engine and the network stack, and the mbuf pool's sizing. No EAL needed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "regfront/io/dpdk_plan.h"
#include "regfront/io/dpdk_port.h"

namespace regfront::io {
namespace {

TEST(EndpointConversion, RoundTripsBothFamilies) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(5080);
  inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
  sockaddr_storage ss{};
  std::memcpy(&ss, &v4, sizeof v4);
  const net::Endpoint e4 = to_endpoint(ss);
  EXPECT_EQ(e4.addr.to_string(), "192.0.2.7");
  EXPECT_EQ(e4.port, 5080);
  sockaddr_storage back{};
  EXPECT_EQ(to_sockaddr(e4, back), sizeof(sockaddr_in));
  EXPECT_EQ(std::memcmp(&back, &ss, sizeof(sockaddr_in)), 0);

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(5060);
  inet_pton(AF_INET6, "2001:db8::9", &v6.sin6_addr);
  std::memset(&ss, 0, sizeof ss);
  std::memcpy(&ss, &v6, sizeof v6);
  const net::Endpoint e6 = to_endpoint(ss);
  EXPECT_EQ(e6.addr.to_string(), "2001:db8::9");
  EXPECT_EQ(e6.port, 5060);
  std::memset(&back, 0, sizeof back);
  EXPECT_EQ(to_sockaddr(e6, back), sizeof(sockaddr_in6));
  const auto& b6 = reinterpret_cast<const sockaddr_in6&>(back);
  EXPECT_EQ(b6.sin6_port, htons(5060));
  EXPECT_EQ(std::memcmp(&b6.sin6_addr, &v6.sin6_addr, 16), 0);
}

TEST(PoolSize, CapsAndReportsWhatTheQueuesWouldWant) {
  PoolSizing one;
  one.net.neighbour_queue_total = 8192;
  one.net.tx_batch = 8192 + 1024;
  std::uint64_t wanted = 0;
  const std::uint32_t small = pool_size(one, &wanted);
  EXPECT_EQ(small, wanted) << "one worker, one port: under the cap";
  EXPECT_GE(small, 8192u);
  PoolSizing many = one;
  many.workers = 8;
  many.ports = 2;
  many.handoff_ring = 8192;
  const std::uint32_t capped = pool_size(many, &wanted);
  EXPECT_EQ(capped, 512u * 1024u);
  EXPECT_GT(wanted, std::uint64_t{capped}) << "8 workers x 2 ports want more than the cap";
}

}  // namespace
}  // namespace regfront::io
