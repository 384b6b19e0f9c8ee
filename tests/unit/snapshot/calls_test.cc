// What the builder gives the call relay: voip dial peers in tag order with their session
// targets, the outbound/inbound matchers (shared with the previous build when the patterns are
// the same), the trusted list, the From hosts of F6; and per endpoint the chain of its binding
// slots and the number index the relay looks numbers up in.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <set>

#include "harness.h"
#include "regfront/call/dial_peer_match.h"

namespace regfront::snapshot {
namespace {

config::Config calls_config() {
  config::Config cfg = test::load_config(
      "dial-peer voice 1 pots\n destination-pattern 4085550100\n"
      "sip-ua\n registrar 1 ipv4:127.0.0.1:6000\n registrar 2 ipv4:127.0.0.1:6001\n"
      " credentials number 4085550111 username u password 0 p realm r\n"
      " localhost dns:sbc.example preferred\n");
  config::DialPeer out;
  out.tag = 100;
  out.type = config::DialPeerType::voip;
  out.destination_pattern = ".T";
  out.voip.emplace().session_target.kind = config::SessionTargetKind::registrar;
  cfg.dial_peers[100] = out;
  config::DialPeer in;
  in.tag = 200;
  in.type = config::DialPeerType::voip;
  config::VoipSettings& v = in.voip.emplace();
  v.incoming_called_number = "408555....";
  v.session_target = {config::SessionTargetKind::ipv4, "192.0.2.9", 5070};
  v.preference = 3;
  v.huntstop = true;
  in.localhost.emplace(config::Localhost{"core-facing.example", true});
  cfg.dial_peers[200] = in;
  cfg.voice.trusted.present = true;
  cfg.voice.trusted.ipv4.push_back({0xc0000200, 24});  // 192.0.2.0/24
  return cfg;
}

TargetAddresses targets() {
  ResolvedRegistrar r;
  auto& sin = reinterpret_cast<sockaddr_in&>(r.addr);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(5070);
  inet_pton(AF_INET, "192.0.2.9", &sin.sin_addr);
  r.addr_len = sizeof sin;
  r.local_ip = "192.0.2.1";
  return {{"192.0.2.9:5070", r}};
}

TEST(BuilderCalls, DialPeersTargetsMatchersAndTrust) {
  Builder b(2);
  const auto s = b.build(calls_config(), test::loopback_addresses(), 5060, {}, nullptr, 0, {}, targets());
  const reg::SnapCalls& c = s->calls;
  ASSERT_EQ(c.dial_peers.size(), 2u);
  EXPECT_EQ(c.dial_peers[0].tag, 100u);
  EXPECT_EQ(c.dial_peers[0].target, reg::SnapDialPeer::Target::registrar);
  EXPECT_EQ(c.dial_peers[1].tag, 200u);
  EXPECT_EQ(c.dial_peers[1].target, reg::SnapDialPeer::Target::address);
  EXPECT_EQ(c.dial_peers[1].addr_len, sizeof(sockaddr_in));
  EXPECT_EQ(c.dial_peers[1].target_host, "192.0.2.9:5070");
  EXPECT_EQ(c.dial_peers[1].local_ip, "192.0.2.1");
  EXPECT_EQ(c.dial_peers[1].preference, 3);
  EXPECT_TRUE(c.dial_peers[1].huntstop);
  EXPECT_EQ(c.dial_peers[1].from_host, "core-facing.example");
  EXPECT_EQ(c.ua_from_host, "sbc.example");
  ASSERT_EQ(c.trusted.size(), 1u);
  EXPECT_EQ(c.trusted[0].length, 24);
  ASSERT_NE(c.outbound, nullptr);
  ASSERT_NE(c.inbound, nullptr);
  ASSERT_EQ(c.outbound_scratch.size(), 2u) << "one scratch per worker";
  std::uint32_t ids[4];
  ASSERT_EQ(c.outbound->match("2125550123", *c.outbound_scratch[1], ids, 4), 1u);
  EXPECT_EQ(ids[0], 0u);
  ASSERT_EQ(c.inbound->match("4085550100", *c.inbound_scratch[0], ids, 4), 1u);
  EXPECT_EQ(ids[0], 1u);
  EXPECT_EQ(c.inbound->match("2125550123", *c.inbound_scratch[0], ids, 4), 0u);
}

TEST(BuilderCalls, MatchersAreSharedUntilThePatternsChange) {
  Builder b(1);
  config::Config cfg = calls_config();
  const auto s1 = b.build(cfg, test::loopback_addresses(), 5060);
  cfg.sip_ua.retry_register = 3;  // a change that does not touch routing
  const auto s2 = b.build(cfg, test::loopback_addresses(), 5060, {}, s1.get(), 0);
  EXPECT_EQ(s1->calls.outbound, s2->calls.outbound);
  EXPECT_EQ(s1->calls.inbound, s2->calls.inbound);
  cfg.dial_peers[100].destination_pattern = "9T";
  const auto s3 = b.build(cfg, test::loopback_addresses(), 5060, {}, s2.get(), 0);
  EXPECT_NE(s3->calls.outbound, s2->calls.outbound);
  EXPECT_EQ(s3->calls.inbound, s2->calls.inbound);
  cfg.dial_peers.erase(100);
  const auto s4 = b.build(cfg, test::loopback_addresses(), 5060, {}, s3.get(), 0);
  EXPECT_EQ(s4->calls.outbound, nullptr);
  EXPECT_EQ(s4->calls.dial_peers.size(), 1u);
}

TEST(BuilderCalls, EachEndpointChainsItsBindingSlotsAndIsIndexedByNumber) {
  Builder b(2);
  const auto s = b.build(calls_config(), test::loopback_addresses(), 5060);
  for (const char* number : {"4085550100", "4085550111"}) {
    const std::uint32_t e = s->find_endpoint(number);
    ASSERT_NE(e, reg::kNoEntry) << number;
    EXPECT_EQ(s->number(s->endpoints[e]), number);
    const auto& plan = s->plans[reg::owner_of(number, 2)];
    std::set<int> registrars;
    for (std::uint32_t slot = s->endpoints[e].first_slot; slot != reg::kNoEntry; slot = plan[slot].next_slot) {
      EXPECT_EQ(plan[slot].endpoint, e);
      registrars.insert(plan[slot].registrar);
    }
    EXPECT_EQ(registrars, (std::set<int>{0, 1})) << number << ": one binding per registrar";
  }
  EXPECT_EQ(s->find_endpoint("2125550123"), reg::kNoEntry);
}

}  // namespace
}  // namespace regfront::snapshot

namespace regfront::snapshot {
namespace {

// A voip dial peer whose destination-pattern is the number of a POTS one (calls to it go there)
// is not that number's dial peer: the POTS one's authentication still answers (F2, F4.1).
TEST(BuilderCalls, AVoipDialPeerWithANumberDoesNotTakeTheEndpointsCredentials) {
  config::Config cfg = test::load_config(
      "dial-peer voice 5 voip\n destination-pattern 4085550100\n session target ipv4:192.0.2.9\n"
      "dial-peer voice 7 pots\n destination-pattern 4085550100\n"
      " authentication username alice password 0 secret realm realm-a\n"
      "sip-ua\n registrar 1 ipv4:127.0.0.1:6000\n");
  Builder b(1);
  const auto s = b.build(cfg, test::loopback_addresses(), 5060);
  const std::uint32_t e = s->find_endpoint("4085550100");
  ASSERT_NE(e, reg::kNoEntry);
  EXPECT_EQ(s->endpoints[e].dial_peer, 7u);
  const auto c = s->choose_credential(e, s->realms.find("realm-a"));
  ASSERT_NE(c.cred, nullptr);
  EXPECT_EQ(s->username(*c.cred), "alice");
}

}  // namespace
}  // namespace regfront::snapshot
