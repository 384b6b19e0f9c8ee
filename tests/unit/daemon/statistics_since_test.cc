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

TEST(Statistics, IosSectionsFirstFromTheRegistrarCounters) {
  Statistics st;
  st.registrars.push_back({1, {{"sent", 10}, {"retransmitted", 2}, {"accepted", 7}, {"options_sent", 4},
                               {"options_retransmitted", 1}, {"options_answered", 3}},
                           {{401, 5}, {503, 1}, {599, 2}}});
  st.registrars.push_back({2, {{"sent", 5}, {"accepted", 1}}, {{401, 1}}});
  const std::string text = render_statistics(st, false);
  EXPECT_EQ(text.rfind("SIP Response Statistics (Inbound/Outbound)\n    Success:\n      OkRegister 8/0, OkOptions 3/0\n", 0),
            0u)
      << text;
  EXPECT_NE(text.find("      BadRequest 0/0, Unauthorized 6/0,\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ServiceUnavail 1/0"), std::string::npos) << text;
  EXPECT_NE(text.find("Other599 2/0"), std::string::npos) << "a code IOS has no name for, in its section";
  EXPECT_NE(text.find("SIP Total Traffic Statistics (Inbound/Outbound)\n      Register 0/17, Options 0/5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Retry Statistics\n      Register 2, Options 1\n"), std::string::npos) << text;
  EXPECT_LT(text.find("Retry Statistics"), text.find("Registrar-Index 1")) << "regfront's counters follow";
  EXPECT_NE(text.find("Registrar-Index 1\n  sent                  10\n"), std::string::npos) << text;
  st.help["registrar:sent"] = "REGISTER transactions started";
  EXPECT_NE(render_statistics(st, false).find("Registrar-Index 1\n  sent                  10" + std::string(11, ' ') +
                                              "REGISTER transactions started\n"),
            std::string::npos)
      << render_statistics(st, false);
  Statistics plain = st;
  plain.help.clear();
  EXPECT_EQ(render_statistics(st, true), render_statistics(plain, true)) << "descriptions are for the text only";
  const std::string json = render_statistics(st, true);
  EXPECT_NE(json.find("\"sip_traffic\":{\"ok_options_in\":3,\"ok_register_in\":8,\"options_out\":5,"
                      "\"options_retries\":1,\"register_out\":17,\"register_retries\":2,"
                      "\"responses_in\":{\"401\":6,\"503\":1,\"599\":2}}"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace regfront::cli
