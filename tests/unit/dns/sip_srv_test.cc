// RFC 3263 / RFC 2782 selection (dns::udp_srv_name, dns::order_srv): the NAPTR record for UDP,
// SRV priority order, the weighted random order within a priority and its proportions.
#include "regfront/dns/sip_srv.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace regfront::dns {
namespace {

TEST(UdpSrvName, BestSipD2uRecordElseTheDefault) {
  const std::vector<NaptrRecord> naptr = {
      {10, 10, "s", "SIP+D2T", "_sip._tcp.example.com"},
      {20, 5, "S", "sip+d2u", "_sip._udp.later.example.com"},
      {20, 1, "s", "SIP+D2U", "_sip._udp.best.example.com"},
      {5, 1, "u", "SIP+D2U", "!^.*$!sip:x@example.com!"},  // not an "s" record: not ours
      {1, 1, "s", "SIPS+D2T", "_sips._tcp.example.com"},
  };
  EXPECT_EQ(udp_srv_name(naptr), "_sip._udp.best.example.com");
  EXPECT_EQ(udp_srv_name({}), "") << "no NAPTR: SRV directly";
  EXPECT_EQ(udp_srv_name({{10, 10, "s", "SIP+D2T", "_sip._tcp.example.com"}}), "") << "no UDP NAPTR: SRV directly";
  EXPECT_EQ(default_srv_name("example.com"), "_sip._udp.example.com");
}

TEST(OrderSrv, PriorityFirstAndDotTargetsDropped) {
  std::mt19937 rng(1);
  auto uniform = [&](std::uint32_t n) { return std::uniform_int_distribution<std::uint32_t>(0, n)(rng); };
  const std::vector<SrvRecord> in = {
      {20, 100, 5060, "c.example"}, {10, 0, 5060, "a.example"}, {30, 5, 5060, "."}, {15, 1, 5062, "b.example"}};
  for (int i = 0; i < 50; ++i) {
    const std::vector<SrvRecord> out = order_srv(in, uniform);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].target, "a.example");
    EXPECT_EQ(out[1].target, "b.example");
    EXPECT_EQ(out[1].port, 5062);
    EXPECT_EQ(out[2].target, "c.example");
  }
  EXPECT_TRUE(order_srv({{0, 0, 0, "."}}, uniform).empty()) << "\".\": the service is not there";
}

TEST(OrderSrv, WeightsSetTheShareOfFirstPlaces) {
  std::mt19937 rng(42);
  auto uniform = [&](std::uint32_t n) { return std::uniform_int_distribution<std::uint32_t>(0, n)(rng); };
  const std::vector<SrvRecord> in = {{1, 60, 5060, "sixty"}, {1, 30, 5060, "thirty"}, {1, 10, 5060, "ten"},
                                     {1, 0, 5060, "zero"}, {2, 50, 5060, "backup"}};
  std::map<std::string, int> first;
  constexpr int kRuns = 20000;
  for (int i = 0; i < kRuns; ++i) {
    const std::vector<SrvRecord> out = order_srv(in, uniform);
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out.back().target, "backup") << "a lower priority never comes before";
    ++first[out[0].target];
  }
  // P(first) = weight / (sum + 1) with RFC 2782's draw in [0, sum] (weight 0 wins on a draw of 0).
  EXPECT_NEAR(first["sixty"] / double(kRuns), 60.0 / 101, 0.02);
  EXPECT_NEAR(first["thirty"] / double(kRuns), 30.0 / 101, 0.02);
  EXPECT_NEAR(first["ten"] / double(kRuns), 10.0 / 101, 0.015);
  EXPECT_NEAR(first["zero"] / double(kRuns), 1.0 / 101, 0.005);
}

TEST(OrderSrv, DeterministicDrawsPickByRunningSum) {
  // Draws of n (the sum) always pick the last record of the running sum: the order reverses.
  const std::vector<SrvRecord> in = {{1, 1, 5060, "a"}, {1, 2, 5060, "b"}, {1, 3, 5060, "c"}};
  const auto top = order_srv(in, [](std::uint32_t n) { return n; });
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].target, "c");
  EXPECT_EQ(top[1].target, "b");
  EXPECT_EQ(top[2].target, "a");
  // Draws of 1 pick the first record whose running sum reaches 1.
  const auto low = order_srv(in, [](std::uint32_t) { return 1u; });
  EXPECT_EQ(low[0].target, "a");
  EXPECT_EQ(low[1].target, "b");
  EXPECT_EQ(low[2].target, "c");
}

}  // namespace
}  // namespace regfront::dns
