// `clear sip-ua statistics`: what show prints afterwards is the counters less their values at
// the clear, matched by registrar index, counter name, response code and dial-peer tag.
#include <gtest/gtest.h>

#include "regfront/cli/show.h"

namespace regfront::cli {
namespace {

TEST(StatisticsSince, CountsFromTheClear) {
  Statistics base;
  base.registrars.push_back({1, {{"sent", 100}, {"accepted", 90}}, {{401, 50}, {403, 2}}});
  base.dataplane = {{"rx_datagrams", 1000}};
  base.calls = {{"answered", 7}};
  base.dial_peers = {{10, 5, 4, 1}};
  Statistics now;
  now.registrars.push_back({1, {{"sent", 130}, {"accepted", 90}}, {{401, 60}, {403, 2}, {500, 1}}});
  now.registrars.push_back({2, {{"sent", 40}}, {}});  // configured after the clear: whole
  now.dataplane = {{"rx_datagrams", 1500}};
  now.calls = {{"answered", 9}};
  now.dial_peers = {{10, 5, 4, 1}, {20, 3, 3, 0}};
  const Statistics d = statistics_since(now, base);
  ASSERT_EQ(d.registrars.size(), 2u);
  EXPECT_EQ(d.registrars[0].counters, (NamedCounters{{"sent", 30}, {"accepted", 0}}));
  EXPECT_EQ(d.registrars[0].responses, (std::vector<std::pair<int, std::uint64_t>>{{401, 10}, {500, 1}}));
  EXPECT_EQ(d.registrars[1].counters, (NamedCounters{{"sent", 40}}));
  EXPECT_EQ(d.dataplane, (NamedCounters{{"rx_datagrams", 500}}));
  EXPECT_EQ(d.calls, (NamedCounters{{"answered", 2}}));
  ASSERT_EQ(d.dial_peers.size(), 1u) << "a dial peer with nothing since is not listed";
  EXPECT_EQ(d.dial_peers[0].tag, 20u);
  // Rendered, the counters since the clear are what show prints.
  const std::string text = render_statistics(d, false);
  EXPECT_NE(text.find("sent"), std::string::npos);
  EXPECT_EQ(render_statistics(statistics_since(now, now), true).find("\"sent\":30"), std::string::npos);
}

}  // namespace
}  // namespace regfront::cli
