// The call relay (regfront/call/relay.h) under a manual clock, with the TxQueue as its wire:
// outbound calls through `session target registrar` with a challenge answered (CSeq + 1 both
// ways), failover on 503 and on timeout, huntstop, CANCEL before and after the challenge,
// in-dialog challenges, inbound calls to the core, OPTIONS, untrusted sources, unknown numbers,
// forged and late responses, a full table. Registrar slot i is 127.0.0.1:(6000 + i); the core
// is 127.0.0.1:7000; regfront is 127.0.0.1:5060.
#include "regfront/call/relay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../snapshot/harness.h"
#include "regfront/call/dial_peer_match.h"
#include "regfront/sip/builder.h"
#include "regfront/sip/message.h"

namespace regfront::call {
namespace {

using snapshot::test::load_config;
using snapshot::test::loopback_addresses;

constexpr std::uint16_t kCorePort = 7000;

sockaddr_storage addr(const char* ip, std::uint16_t port) {
  sockaddr_storage ss{};
  auto& s = reinterpret_cast<sockaddr_in&>(ss);
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  inet_pton(AF_INET, ip, &s.sin_addr);
  return ss;
}
std::uint16_t port_of(const sockaddr_storage& ss) { return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port); }

// One datagram the relay sent, parsed. Its message points into its own text and header array:
// it is never copied or moved (tests keep the vector that owns it).
struct Out {
  Out() = default;
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  std::uint16_t to_port = 0;
  std::string text;
  sip::Header hs[sip::kMaxHeaders];
  sip::Message m;
  std::string h(sip::HeaderId id) const {
    const sip::Header* x = m.first(id);
    return x ? std::string(x->value) : std::string();
  }
  std::uint32_t cseq() const {
    sip::CSeq c;
    return sip::parse_cseq(h(sip::HeaderId::cseq), c) ? c.number : 0;
  }
  std::string top_via() const {
    std::size_t pos = 0;
    std::string_view el;
    const std::string v = h(sip::HeaderId::via);
    return sip::next_list_element(v, pos, el) ? std::string(el) : std::string();
  }
  std::string branch() const {
    sip::Via v;
    const std::string t = top_via();
    return sip::parse_via(t, v) ? std::string(v.branch) : std::string();
  }
};

constexpr std::string_view kConfig = R"(dial-peer voice 1 pots
 destination-pattern 4085550100
 authentication username 4085550100 password 0 secretA realm reg-a.example
sip-ua
 registrar 1 ipv4:127.0.0.1:6000 expires 300
 registrar 2 ipv4:127.0.0.1:6001 expires 300
 credentials number 4085550100 username acct-b password 0 secretB realm reg-b.example
)";

// A voip dial peer of a test (the builder makes the rest of the snapshot from kConfig).
struct DialPeer {
  std::uint32_t tag;
  std::string pattern, incoming;
  reg::SnapDialPeer::Target target;
  std::uint16_t port = 0;  // Target::address: 127.0.0.1:port
  std::uint8_t preference = 0;
  bool huntstop = false;
};

class RelayTest : public ::testing::Test {
 protected:
  void build(std::vector<DialPeer> peers = {{100, ".T", "", reg::SnapDialPeer::Target::registrar},
                                            {200, "", "408555....", reg::SnapDialPeer::Target::address, kCorePort}},
             std::string_view config = kConfig) {
    snap_ = builder_.build(load_config(config), loopback_addresses(), 5060);
    reg::SnapCalls& c = snap_->calls;
    std::vector<DialPeerPattern> out, in;
    for (const DialPeer& p : peers) {
      reg::SnapDialPeer dp;
      dp.tag = p.tag;
      dp.preference = p.preference;
      dp.huntstop = p.huntstop;
      dp.target = p.target;
      dp.local_ip = "127.0.0.1";
      if (p.target == reg::SnapDialPeer::Target::address) {
        dp.addr = addr("127.0.0.1", p.port);
        dp.addr_len = sizeof(sockaddr_in);
        dp.target_host = "127.0.0.1:" + std::to_string(p.port);
      }
      patterns_.push_back(p.pattern);
      patterns_.push_back(p.incoming);
      const auto id = static_cast<std::uint32_t>(c.dial_peers.size());
      if (!p.pattern.empty()) out.push_back({id, patterns_[patterns_.size() - 2], p.preference, p.tag});
      if (!p.incoming.empty()) in.push_back({id, patterns_.back(), p.preference, p.tag});
      c.dial_peers.push_back(dp);
    }
    auto make = [&](std::vector<DialPeerPattern>& list, std::shared_ptr<const DialPeerMatcher>& m,
                    std::vector<std::shared_ptr<MatchScratch>>& scratch) {
      if (list.empty()) return;
      auto built = DialPeerMatcher::build(list);
      ASSERT_TRUE(built.ok()) << built.status().message();
      auto owned = std::make_shared<DialPeerMatcher>(std::move(*built));
      auto s = owned->make_scratch();
      ASSERT_TRUE(s.ok());
      scratch.push_back(std::make_shared<MatchScratch>(std::move(*s)));
      m = owned;
    };
    make(out, c.outbound, c.outbound_scratch);
    make(in, c.inbound, c.inbound_scratch);
    RelayOptions o;
    o.key = SipKey{7, 8};
    o.max_calls = max_calls_;
    o.via_port = 5060;
    relay_ = std::make_unique<Relay>(o, tx_, Liveness{&RelayTest::is_live, this});
    relay_->adopt(pin(), now_);
  }
  reg::OwnedSnapshotPin pin() const { return reg::OwnedSnapshotPin(snap_.get()); }

  static bool is_live(const void* ctx, std::uint32_t slot, std::uint64_t) {
    return static_cast<const RelayTest*>(ctx)->dead_.count(slot) == 0;
  }
  static void flush_hook(void* ctx, reg::TxQueue& q) { static_cast<RelayTest*>(ctx)->drain_into_sent(q); }
  void drain_into_sent(reg::TxQueue& q) {
    for (std::size_t i = 0; i < q.size(); ++i) {
      auto o = std::make_unique<Out>();
      o->to_port = port_of(q[i].dst);
      o->text.assign(q[i].data, q[i].len);
      EXPECT_EQ(sip::parse(o->text, o->m, o->hs), sip::ParseStatus::ok) << o->text;
      sent_.push_back(std::move(o));
    }
    q.clear();
  }
  // What the relay sent since the last call. The datagrams stay owned by the fixture for the
  // whole test (a parsed Out points into itself), so references into earlier batches stay valid.
  std::vector<const Out*> take() {
    drain_into_sent(tx_);
    batches_.push_back(std::move(sent_));
    sent_.clear();
    std::vector<const Out*> v;
    for (const auto& o : batches_.back()) v.push_back(o.get());
    return v;
  }

  void request(const std::string& text, std::uint16_t from_port, const char* from_ip = "127.0.0.1") {
    owned_.push_back(text);
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    ASSERT_EQ(sip::parse(owned_.back(), m, hs), sip::ParseStatus::ok) << text;
    const sockaddr_storage src = addr(from_ip, from_port);
    relay_->on_request(pin(), m, src, sizeof(sockaddr_in), now_);
  }
  void response(const std::string& text) {
    owned_.push_back(text);
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    ASSERT_EQ(sip::parse(owned_.back(), m, hs), sip::ParseStatus::ok) << text;
    relay_->on_response(pin(), m, now_);
  }
  void run(std::uint64_t ms) {
    for (std::uint64_t i = 0; i < ms; ++i) relay_->advance(pin(), ++now_);
  }

  // A response to `req` as a UAS writes it (its Vias, From, To with `to_tag`, Call-ID, CSeq).
  static std::string reply(const Out& req, int code, std::string_view reason, std::string_view extra = {},
                           std::string_view to_tag = "uas-1") {
    std::string r = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
    for (std::uint16_t i = 0; i < req.m.header_count; ++i) {
      const sip::Header& h = req.m.headers[i];
      if (h.id == sip::HeaderId::via || h.id == sip::HeaderId::from || h.id == sip::HeaderId::call_id ||
          h.id == sip::HeaderId::cseq || h.id == sip::HeaderId::record_route) {
        r += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
      }
    }
    std::string to = req.h(sip::HeaderId::to);
    if (code > 100 && sip::tag_of(to).empty()) to += ";tag=" + std::string(to_tag);
    r += "To: " + to + "\r\n" + std::string(extra) + "Content-Length: 0\r\n\r\n";
    return r;
  }
  static std::string core_invite(std::string_view call_id = "call-1", std::uint32_t cseq = 100,
                                 std::string_view called = "2125550123", std::string_view calling = "4085550100") {
    return "INVITE sip:" + std::string(called) + "@127.0.0.1:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKcore-" + std::string(call_id) + "-" + std::to_string(cseq) +
           ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:" + std::string(calling) + "@core.example>;tag=core-tag\r\n"
           "To: <sip:" + std::string(called) + "@127.0.0.1>\r\nCall-ID: " + std::string(call_id) +
           "\r\nCSeq: " + std::to_string(cseq) + " INVITE\r\nContact: <sip:" + std::string(calling) +
           "@127.0.0.1:7000>\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n";
  }
  static std::string challenge(std::string_view realm, std::string_view nonce = "n-1") {
    return "Proxy-Authenticate: Digest realm=\"" + std::string(realm) + "\", nonce=\"" + std::string(nonce) + "\"\r\n";
  }
  // Sent items going to `port`.
  static std::vector<const Out*> to(const std::vector<const Out*>& v, std::uint16_t port) {
    std::vector<const Out*> r;
    for (const Out* o : v)
      if (o->to_port == port) r.push_back(o);
    return r;
  }

  snapshot::Builder builder_{1};
  std::unique_ptr<reg::Snapshot> snap_;
  std::deque<std::string> patterns_;  // the matchers read views into it while they build
  reg::TxQueue tx_{256, &RelayTest::flush_hook, this};
  std::vector<std::unique_ptr<Out>> sent_;
  std::deque<std::vector<std::unique_ptr<Out>>> batches_;
  std::vector<std::string> owned_;
  std::set<std::uint32_t> dead_;
  std::uint32_t max_calls_ = 64;
  std::unique_ptr<Relay> relay_;
  std::uint64_t now_ = 1'000'000;
};

// The whole outbound call: 100 to the core, INVITE to registrar 1, its 407 ACKed and answered
// with realm-a's credential at CSeq + 1, 180/200 back at the core's CSeq, ACK and BYE + 1.
TEST_F(RelayTest, OutboundCallAnswersTheChallengeAndKeepsTheCseqOffset) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  ASSERT_EQ(out.size(), 2u);
  const auto trying = to(out, kCorePort);
  ASSERT_EQ(trying.size(), 1u);
  EXPECT_EQ(trying[0]->m.status, 100);
  const auto inv = to(out, 6000);
  ASSERT_EQ(inv.size(), 1u) << "registrar 1 first (index order)";
  const Out& first = *inv[0];
  EXPECT_EQ(first.m.request_uri, "sip:2125550123@127.0.0.1:6000");
  EXPECT_EQ(first.cseq(), 100u);
  EXPECT_TRUE(is_relay_branch(first.branch()));
  EXPECT_EQ(first.h(sip::HeaderId::record_route), "<sip:127.0.0.1:5060;lr>");
  EXPECT_EQ(first.h(sip::HeaderId::max_forwards), "69");
  EXPECT_EQ(first.h(sip::HeaderId::from), "<sip:4085550100@127.0.0.1>;tag=core-tag") << "F6: the local address";
  EXPECT_EQ(first.m.body, "v=0\n");

  response(reply(first, 407, "Proxy Authentication Required", challenge("reg-a.example")));
  out = take();
  const auto at_a = to(out, 6000);
  ASSERT_EQ(at_a.size(), 2u) << "the ACK of the 407 and the authenticated INVITE";
  EXPECT_EQ(at_a[0]->m.method, "ACK");
  EXPECT_EQ(at_a[0]->branch(), first.branch()) << "§17.1.1.3: the ACK has the INVITE's branch";
  EXPECT_EQ(at_a[0]->cseq(), 100u);
  const Out& authed = *at_a[1];
  EXPECT_EQ(authed.m.method, "INVITE");
  EXPECT_EQ(authed.cseq(), 101u);
  EXPECT_NE(authed.branch(), first.branch());
  const std::string pa = authed.h(sip::HeaderId::proxy_authorization);
  EXPECT_NE(pa.find("username=\"4085550100\""), std::string::npos) << pa;
  EXPECT_NE(pa.find("realm=\"reg-a.example\""), std::string::npos) << pa;
  EXPECT_NE(pa.find("uri=\"sip:2125550123@127.0.0.1:6000\""), std::string::npos) << pa;
  EXPECT_TRUE(to(out, kCorePort).empty()) << "the core never sees the challenge";

  response(reply(authed, 180, "Ringing"));
  response(reply(authed, 200, "OK"));
  out = take();
  const auto at_core = to(out, kCorePort);
  ASSERT_EQ(at_core.size(), 2u);
  EXPECT_EQ(at_core[0]->m.status, 180);
  EXPECT_EQ(at_core[1]->m.status, 200);
  EXPECT_EQ(at_core[1]->cseq(), 100u) << "the core's own CSeq";
  EXPECT_EQ(at_core[1]->top_via(), "SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKcore-call-1-100;rport");
  EXPECT_EQ(relay_->counters().answered.get(), 1u);

  // ACK and BYE from the core along the Record-Route.
  const std::string route = "Route: <sip:127.0.0.1:5060;lr>\r\n";
  request("ACK sip:2125550123@127.0.0.1:6100 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKack1\r\n" + route +
              "Max-Forwards: 70\r\nFrom: <sip:4085550100@core.example>;tag=core-tag\r\n"
              "To: <sip:2125550123@127.0.0.1>;tag=uas-1\r\nCall-ID: call-1\r\nCSeq: 100 ACK\r\nContent-Length: 0\r\n\r\n",
          kCorePort);
  request("BYE sip:2125550123@127.0.0.1:6100 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKbye1\r\n" + route +
              "Max-Forwards: 70\r\nFrom: <sip:4085550100@core.example>;tag=core-tag\r\n"
              "To: <sip:2125550123@127.0.0.1>;tag=uas-1\r\nCall-ID: call-1\r\nCSeq: 101 BYE\r\nContent-Length: 0\r\n\r\n",
          kCorePort);
  out = take();
  const auto far = to(out, 6100);  // the Request-URI: the callee's Contact
  ASSERT_EQ(far.size(), 2u);
  EXPECT_EQ(far[0]->m.method, "ACK");
  EXPECT_EQ(far[0]->cseq(), 101u) << "the ACK carries the authenticated INVITE's CSeq";
  EXPECT_TRUE(far[0]->h(sip::HeaderId::route).empty()) << "our Route entry is popped";
  EXPECT_EQ(far[1]->m.method, "BYE");
  EXPECT_EQ(far[1]->cseq(), 102u) << "the core's 101 + the offset";
  response(reply(*far[1], 200, "OK"));
  out = take();
  const auto bye_ok = to(out, kCorePort);
  ASSERT_EQ(bye_ok.size(), 1u);
  EXPECT_EQ(bye_ok[0]->cseq(), 101u);
  EXPECT_EQ(bye_ok[0]->top_via(), "SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKbye1");

  // The 200 was lost on the way to the core: its retransmitted BYE goes along the dialog again,
  // as the same transaction at the far end (same branch and CSeq), and its answer comes back.
  const std::string far_branch = far[1]->branch();
  run(1000);
  request("BYE sip:2125550123@127.0.0.1:6100 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKbye1\r\n" + route +
              "Max-Forwards: 70\r\nFrom: <sip:4085550100@core.example>;tag=core-tag\r\n"
              "To: <sip:2125550123@127.0.0.1>;tag=uas-1\r\nCall-ID: call-1\r\nCSeq: 101 BYE\r\nContent-Length: 0\r\n\r\n",
          kCorePort);
  out = take();
  EXPECT_TRUE(to(out, kCorePort).empty()) << "no 481 of regfront's own for a BYE it already relayed";
  const auto again = to(out, 6100);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]->m.method, "BYE");
  EXPECT_EQ(again[0]->branch(), far_branch);
  EXPECT_EQ(again[0]->cseq(), 102u);
  response(reply(*again[0], 200, "OK"));
  out = take();
  const auto ok_again = to(out, kCorePort);
  ASSERT_EQ(ok_again.size(), 1u);
  EXPECT_EQ(ok_again[0]->m.status, 200);
  EXPECT_EQ(ok_again[0]->cseq(), 101u);
  // Other requests in the finished dialog are refused; the linger is not extended.
  request("INFO sip:2125550123@127.0.0.1:6100 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKinfo1\r\n" + route +
              "Max-Forwards: 70\r\nFrom: <sip:4085550100@core.example>;tag=core-tag\r\n"
              "To: <sip:2125550123@127.0.0.1>;tag=uas-1\r\nCall-ID: call-1\r\nCSeq: 102 INFO\r\nContent-Length: 0\r\n\r\n",
          kCorePort);
  out = take();
  const auto info = to(out, kCorePort);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0]->m.status, 481);
  EXPECT_TRUE(to(out, 6100).empty());
  run(6500);
  EXPECT_EQ(relay_->active_calls(), 1u) << "kept for the BYE's retransmissions";
  run(1000);
  EXPECT_EQ(relay_->active_calls(), 0u) << "released 8 s after the first BYE's answer, not the second's";
}

TEST_F(RelayTest, ChallengesOfAnotherRealmAreNeverAnsweredWithThisOne) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  const Out& inv = *to(out, 6000)[0];
  response(reply(inv, 407, "Proxy Authentication Required", challenge("reg-b.example")));
  out = take();
  // reg-b's credential belongs to the number too (credentials … realm reg-b.example), so it may
  // answer a reg-b challenge from registrar 1: F7 is about realms, not registrars.
  const auto at_a = to(out, 6000);
  ASSERT_EQ(at_a.size(), 2u);
  EXPECT_NE(at_a[1]->h(sip::HeaderId::proxy_authorization).find("username=\"acct-b\""), std::string::npos);
  // A realm nobody configured is never answered: the challenge goes back to the core.
  response(reply(*at_a[1], 407, "Proxy Authentication Required", challenge("evil.example", "n-2")));
  out = take();
  const auto at_core = to(out, kCorePort);
  ASSERT_EQ(at_core.size(), 1u);
  EXPECT_EQ(at_core[0]->m.status, 407);
  EXPECT_EQ(at_core[0]->cseq(), 100u);
  for (const Out* o : to(out, 6000)) EXPECT_EQ(o->m.method, "ACK") << "no credential offered to evil.example";
  EXPECT_EQ(relay_->counters().no_credential.get(), 1u);
}

TEST_F(RelayTest, FailoverOn503ToTheNextRegistrarHonouringRetryAfter) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  response(reply(*to(out, 6000)[0], 503, "Service Unavailable", "Retry-After: 60\r\n"));
  out = take();
  ASSERT_EQ(to(out, 6000).size(), 1u);
  EXPECT_EQ(to(out, 6000)[0]->m.method, "ACK");
  const auto at_b = to(out, 6001);
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(at_b[0]->m.method, "INVITE");
  EXPECT_EQ(at_b[0]->cseq(), 100u) << "a new target starts without an offset";
  EXPECT_TRUE(to(out, kCorePort).empty());
  response(reply(*at_b[0], 200, "OK"));
  out = take();
  ASSERT_EQ(to(out, kCorePort).size(), 1u);
  EXPECT_EQ(to(out, kCorePort)[0]->m.status, 200);
  EXPECT_EQ(relay_->counters().hunted.get(), 1u);
  // Within the Retry-After, a new call skips registrar 1.
  request(core_invite("call-2"), kCorePort);
  out = take();
  EXPECT_TRUE(to(out, 6000).empty());
  EXPECT_EQ(to(out, 6001).size(), 1u);
}

TEST_F(RelayTest, TimeoutRetransmitsThenHuntsAndFinallyAnswers408) {
  build();
  request(core_invite(), kCorePort);
  take();
  run(600);  // Timer A: one retransmission at T1
  auto out = take();
  EXPECT_EQ(to(out, 6000).size(), 1u);
  run(32000);  // Timer B (64·T1) → registrar 2
  out = take();
  EXPECT_FALSE(to(out, 6001).empty());
  run(33000);
  out = take();
  const auto at_core = to(out, kCorePort);
  ASSERT_EQ(at_core.size(), 1u);
  EXPECT_EQ(at_core[0]->m.status, 408);
  EXPECT_EQ(relay_->counters().timeouts.get(), 2u);
}

TEST_F(RelayTest, OnlyRegistrarsWithALiveBindingAreTried) {
  build();
  // Registrar 1's binding of the calling number is not registered.
  for (std::uint32_t s = 0; s < snap_->plans[0].size(); ++s)
    if (snap_->plans[0][s].registrar == 0) dead_.insert(s);
  request(core_invite(), kCorePort);
  auto out = take();
  EXPECT_TRUE(to(out, 6000).empty());
  EXPECT_EQ(to(out, 6001).size(), 1u);
  // No live binding anywhere: 503 at once.
  for (std::uint32_t s = 0; s < snap_->plans[0].size(); ++s) dead_.insert(s);
  request(core_invite("call-2"), kCorePort);
  out = take();
  ASSERT_EQ(to(out, kCorePort).size(), 1u);
  EXPECT_EQ(to(out, kCorePort)[0]->m.status, 503);
}

TEST_F(RelayTest, HuntstopEndsTheHuntAtItsDialPeer) {
  build({{100, "2125550123", "", reg::SnapDialPeer::Target::address, 7100, 0, true},
         {101, "212.......", "", reg::SnapDialPeer::Target::address, 7200}});
  request(core_invite(), kCorePort);
  auto out = take();
  ASSERT_EQ(to(out, 7100).size(), 1u) << "the longest explicit match first";
  response(reply(*to(out, 7100)[0], 500, "Server Internal Error"));
  out = take();
  EXPECT_TRUE(to(out, 7200).empty()) << "huntstop";
  ASSERT_EQ(to(out, kCorePort).size(), 1u);
  EXPECT_EQ(to(out, kCorePort)[0]->m.status, 500);
}

TEST_F(RelayTest, NoHuntOn4xx) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  response(reply(*to(out, 6000)[0], 486, "Busy Here"));
  out = take();
  EXPECT_TRUE(to(out, 6001).empty());
  ASSERT_EQ(to(out, kCorePort).size(), 1u);
  EXPECT_EQ(to(out, kCorePort)[0]->m.status, 486);
  // The core's ACK for it ends the call at once.
  request("ACK sip:2125550123@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKcore-call-1-100\r\n"
          "From: <sip:4085550100@core.example>;tag=core-tag\r\nTo: <sip:2125550123@127.0.0.1>;tag=uas-1\r\n"
          "Call-ID: call-1\r\nCSeq: 100 ACK\r\nContent-Length: 0\r\n\r\n",
          kCorePort);
  EXPECT_EQ(relay_->active_calls(), 0u);
  EXPECT_TRUE(take().empty()) << "an ACK is never answered";
}

// F7 on calls as on REGISTER: a provider that challenges again for the realm just answered,
// even with a fresh nonce, refused the credential; it gets no second digest of it. A stale=true
// challenge (the digest was right, the nonce old) is answered once more, not twice.
TEST_F(RelayTest, AChallengeAgainForTheAnsweredRealmIsARefusal) {
  for (const bool stale : {false, true}) {
    SCOPED_TRACE(stale ? "stale" : "fresh nonce");
    build();
    request(core_invite(), kCorePort);
    auto out = take();
    response(reply(*to(out, 6000)[0], 407, "Proxy Authentication Required", challenge("reg-a.example", "n-1")));
    out = take();
    auto at_a = to(out, 6000);
    ASSERT_EQ(at_a.size(), 2u);
    const Out* authed = at_a[1];
    const std::string again = stale ? "Proxy-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-2\", stale=true\r\n"
                                    : challenge("reg-a.example", "n-2");
    response(reply(*authed, 407, "Proxy Authentication Required", again));
    out = take();
    at_a = to(out, 6000);
    if (stale) {
      ASSERT_EQ(at_a.size(), 2u) << "the ACK and one more answer, to the new nonce";
      EXPECT_NE(at_a[1]->h(sip::HeaderId::proxy_authorization).find("nonce=\"n-2\""), std::string::npos);
      const std::string third = "Proxy-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n-3\", stale=true\r\n";
      response(reply(*at_a[1], 407, "Proxy Authentication Required", third));
      out = take();
      at_a = to(out, 6000);
    }
    ASSERT_EQ(at_a.size(), 1u) << "the ACK only: no further digest for that realm";
    EXPECT_EQ(at_a[0]->m.method, "ACK");
    EXPECT_TRUE(to(out, 6001).empty()) << "no hunting on 4xx";
    ASSERT_EQ(to(out, kCorePort).size(), 1u);
    EXPECT_EQ(to(out, kCorePort)[0]->m.status, 407);
    EXPECT_EQ(relay_->counters().auth_failed.get(), 1u);
    EXPECT_EQ(relay_->counters().authenticated.get(), stale ? 2u : 1u);
  }
}

TEST_F(RelayTest, CancelAfterTheChallengeCancelsTheAuthenticatedInvite) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  response(reply(*to(out, 6000)[0], 407, "Proxy Authentication Required", challenge("reg-a.example")));
  out = take();
  const auto held = out;
  const Out& authed = *to(held, 6000)[1];
  response(reply(authed, 180, "Ringing"));
  take();
  request("CANCEL sip:2125550123@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKcore-call-1-100;rport\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:4085550100@core.example>;tag=core-tag\r\nTo: <sip:2125550123@127.0.0.1>\r\n"
          "Call-ID: call-1\r\nCSeq: 100 CANCEL\r\nContent-Length: 0\r\n\r\n",
          kCorePort);
  out = take();
  ASSERT_EQ(to(out, kCorePort).size(), 1u);
  EXPECT_EQ(to(out, kCorePort)[0]->m.status, 200);
  EXPECT_EQ(to(out, kCorePort)[0]->h(sip::HeaderId::cseq), "100 CANCEL");
  const auto cancel = to(out, 6000);
  ASSERT_EQ(cancel.size(), 1u);
  EXPECT_EQ(cancel[0]->m.method, "CANCEL");
  EXPECT_EQ(cancel[0]->branch(), authed.branch()) << "§9.1: the INVITE's branch";
  EXPECT_EQ(cancel[0]->cseq(), 101u) << "and its CSeq number";
  response(reply(authed, 487, "Request Terminated"));
  out = take();
  ASSERT_EQ(to(out, kCorePort).size(), 1u);
  EXPECT_EQ(to(out, kCorePort)[0]->m.status, 487);
  EXPECT_EQ(to(out, kCorePort)[0]->cseq(), 100u);
  EXPECT_EQ(relay_->counters().cancelled.get(), 1u);
}

TEST_F(RelayTest, CancelBeforeAnyProvisionalWaitsForOne) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  const auto held = out;
  const Out& inv = *to(held, 6000)[0];
  request("CANCEL sip:2125550123@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKcore-call-1-100;rport\r\n"
          "From: <sip:4085550100@core.example>;tag=core-tag\r\nTo: <sip:2125550123@127.0.0.1>\r\n"
          "Call-ID: call-1\r\nCSeq: 100 CANCEL\r\nContent-Length: 0\r\n\r\n",
          kCorePort);
  out = take();
  EXPECT_TRUE(to(out, 6000).empty()) << "no CANCEL before a provisional response (§9.1)";
  response(reply(inv, 180, "Ringing"));
  out = take();
  bool cancelled = false;
  for (const Out* o : to(out, 6000)) cancelled |= o->m.method == "CANCEL";
  EXPECT_TRUE(cancelled);
}

TEST_F(RelayTest, InDialogChallengeRaisesTheOffsetForLaterRequests) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  response(reply(*to(out, 6000)[0], 200, "OK"));  // answered without a challenge: offset 0
  take();
  const auto bye = [&](std::uint32_t cseq, std::string_view branch) {
    return "BYE sip:2125550123@127.0.0.1:6100 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=" + std::string(branch) +
           "\r\nRoute: <sip:127.0.0.1:5060;lr>\r\nFrom: <sip:4085550100@core.example>;tag=core-tag\r\n"
           "To: <sip:2125550123@127.0.0.1>;tag=uas-1\r\nCall-ID: call-1\r\nCSeq: " + std::to_string(cseq) +
           " BYE\r\nContent-Length: 0\r\n\r\n";
  };
  request(bye(101, "z9hG4bKbye1"), kCorePort);
  out = take();
  const auto held = out;
  const Out& first = *to(held, 6100)[0];
  EXPECT_EQ(first.cseq(), 101u);
  response(reply(first, 407, "Proxy Authentication Required", challenge("reg-a.example", "bye-nonce")));
  out = take();
  const auto again = to(out, 6100);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]->cseq(), 102u);
  EXPECT_NE(again[0]->h(sip::HeaderId::proxy_authorization).find("username=\"4085550100\""), std::string::npos);
  EXPECT_TRUE(to(out, kCorePort).empty());
  // The core retransmits its BYE: it goes as the authenticated one.
  request(bye(101, "z9hG4bKbye1"), kCorePort);
  out = take();
  ASSERT_EQ(to(out, 6100).size(), 1u);
  EXPECT_EQ(to(out, 6100)[0]->cseq(), 102u);
  response(reply(*again[0], 200, "OK"));
  out = take();
  ASSERT_EQ(to(out, kCorePort).size(), 1u);
  EXPECT_EQ(to(out, kCorePort)[0]->cseq(), 101u) << "the offset is removed from the response";
  // That 200 was lost: the core's next retransmission still goes as the authenticated BYE.
  request(bye(101, "z9hG4bKbye1"), kCorePort);
  out = take();
  ASSERT_EQ(to(out, 6100).size(), 1u);
  EXPECT_EQ(to(out, 6100)[0]->branch(), again[0]->branch());
  EXPECT_EQ(to(out, 6100)[0]->cseq(), 102u);
  EXPECT_NE(to(out, 6100)[0]->h(sip::HeaderId::proxy_authorization).find("username=\"4085550100\""), std::string::npos);
  EXPECT_TRUE(to(out, kCorePort).empty());
}

TEST_F(RelayTest, InboundCallGoesToTheCoreAndBack) {
  build();
  request("INVITE sip:4085550100@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKprov1;rport\r\n"
          "Record-Route: <sip:127.0.0.1:6000;lr>\r\nMax-Forwards: 69\r\nFrom: <sip:2125550123@reg-a.example>;tag=far-tag\r\n"
          "To: <sip:4085550100@reg-a.example>\r\nCall-ID: in-1\r\nCSeq: 300 INVITE\r\n"
          "Contact: <sip:2125550123@127.0.0.1:6200>\r\nContent-Length: 0\r\n\r\n",
          6000);
  auto out = take();
  ASSERT_EQ(to(out, 6000).size(), 1u);
  EXPECT_EQ(to(out, 6000)[0]->m.status, 100);
  const auto at_core = to(out, kCorePort);
  ASSERT_EQ(at_core.size(), 1u);
  EXPECT_EQ(at_core[0]->m.request_uri, "sip:4085550100@127.0.0.1:7000");
  EXPECT_EQ(at_core[0]->cseq(), 300u);
  EXPECT_EQ(at_core[0]->h(sip::HeaderId::from), "<sip:2125550123@reg-a.example>;tag=far-tag") << "inbound: From kept";
  response(reply(*at_core[0], 200, "OK"));
  out = take();
  ASSERT_EQ(to(out, 6000).size(), 1u);
  EXPECT_EQ(to(out, 6000)[0]->m.status, 200);
  EXPECT_EQ(to(out, 6000)[0]->cseq(), 300u);
  EXPECT_EQ(relay_->counters().calls_in.get(), 1u);
}

TEST_F(RelayTest, AnswersAndRefusalsOfItsOwn) {
  build();
  const auto req = [](std::string_view method, std::string_view uri, std::string_view extra = {}) {
    return std::string(method) + " " + std::string(uri) + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKo" +
           std::string(method) + "\r\n" + std::string(extra) +
           "From: <sip:x@reg-a.example>;tag=x1\r\nTo: <sip:4085550100@127.0.0.1>\r\nCall-ID: " + std::string(method) +
           "-1\r\nCSeq: 1 " + std::string(method) + "\r\nContent-Length: 0\r\n\r\n";
  };
  request(req("OPTIONS", "sip:4085550100@127.0.0.1:5060"), 6000);
  auto out = take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->m.status, 200);
  EXPECT_NE(out[0]->text.find("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"), std::string::npos);
  request(req("MESSAGE", "sip:4085550100@127.0.0.1:5060"), 6000);
  out = take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->m.status, 405);
  request(req("INVITE", "sip:9999@127.0.0.1:5060"), 6000);
  out = take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->m.status, 404) << "not a registered number";
  request(req("INVITE", "sip:4085550100@127.0.0.1:5060", "Max-Forwards: 0\r\n"), 6000);
  out = take();
  EXPECT_EQ(out[0]->m.status, 483);
  request(core_invite("evil"), 5555, "127.0.0.2");
  out = take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->m.status, 403);
  EXPECT_EQ(out[0]->to_port, 5555) << "answered to the source, not to where its Via points";
  EXPECT_EQ(relay_->counters().untrusted.get(), 1u);
  EXPECT_EQ(relay_->active_calls(), 0u);
}

TEST_F(RelayTest, ForgedAndLateResponsesAreCountedNotRelayed) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  const auto held = out;
  const Out& inv = *to(held, 6000)[0];
  std::string forged = reply(inv, 200, "OK");
  const std::size_t at = forged.find(";rport");
  forged[at - 1] = forged[at - 1] == 'a' ? 'b' : 'a';  // the MAC's last digit
  response(forged);
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(relay_->counters().forged.get(), 1u);
  response(reply(inv, 407, "Proxy Authentication Required", challenge("reg-a.example")));
  take();
  response(reply(inv, 200, "OK"));  // the first attempt's, after we moved on
  out = take();
  EXPECT_TRUE(to(out, kCorePort).empty());
  EXPECT_EQ(relay_->counters().stray.get(), 1u);
}

TEST_F(RelayTest, AFullTableAnswers503) {
  max_calls_ = 2;
  build();
  request(core_invite("c1"), kCorePort);
  request(core_invite("c2"), kCorePort);
  take();
  request(core_invite("c3"), kCorePort);
  auto out = take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->m.status, 503);
  EXPECT_EQ(relay_->counters().table_full.get(), 1u);
}

TEST_F(RelayTest, ARetransmittedInviteGetsTheSameAnswer) {
  build();
  request(core_invite(), kCorePort);
  take();
  request(core_invite(), kCorePort);
  auto out = take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->m.status, 100);
  EXPECT_EQ(relay_->counters().calls_out.get(), 1u);
}

TEST_F(RelayTest, StatusRowsSayWhatIsGoingOn) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  response(reply(*to(out, 6000)[0], 407, "Proxy Authentication Required", challenge("reg-a.example")));
  out = take();
  response(reply(*to(out, 6000)[1], 200, "OK"));
  take();
  CallStatus rows[4];
  std::uint32_t next = 0;
  ASSERT_EQ(relay_->status(pin(), 0, rows, 4, next, now_), 1u);
  EXPECT_EQ(rows[0].direction, CallDirection::outbound);
  EXPECT_EQ(rows[0].state, CallState::confirmed);
  EXPECT_EQ(rows[0].registrar, 0);
  EXPECT_EQ(rows[0].dial_peer_tag, 100u);
  EXPECT_EQ(rows[0].cseq_offset, 1u);
  EXPECT_STREQ(rows[0].calling, "4085550100");
  EXPECT_STREQ(rows[0].called, "2125550123");
}

}  // namespace
}  // namespace regfront::call

namespace regfront::call {
namespace {

TEST_F(RelayTest, TheOwnerOfACallIsTheWorkerOfItsNumber) {
  build();
  RelayOptions o;
  o.worker = 0;
  o.workers = 4;
  Relay relay(o, tx_, Liveness{&RelayTest::is_live, this});
  relay.adopt(pin(), now_);
  const auto owner = [&](const std::string& text, std::uint16_t port) {
    owned_.push_back(text);
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    EXPECT_EQ(sip::parse(owned_.back(), m, hs), sip::ParseStatus::ok);
    return relay.owner(pin(), m, addr("127.0.0.1", port));
  };
  // From the core: the calling number's worker; from a provider: the called number's.
  EXPECT_EQ(owner(core_invite("o1", 100, "2125550123", "4085550100"), kCorePort), reg::owner_of("4085550100", 4));
  EXPECT_EQ(owner("INVITE sip:4085550100@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKp\r\n"
                  "From: <sip:2125550123@x>;tag=a\r\nTo: <sip:4085550100@x>\r\nCall-ID: o2\r\nCSeq: 1 INVITE\r\n"
                  "Content-Length: 0\r\n\r\n",
                  6000),
            reg::owner_of("4085550100", 4));
  // Its CANCEL goes where the INVITE went; an in-dialog request to the worker its Route names
  // (a UA that sends it to the listen port rather than to the Route still reaches it).
  EXPECT_EQ(owner("CANCEL sip:2125550123@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKc\r\n"
                  "From: <sip:4085550199@core>;tag=c\r\nTo: <sip:2125550123@x>\r\nCall-ID: o3\r\nCSeq: 1 CANCEL\r\n"
                  "Content-Length: 0\r\n\r\n",
                  kCorePort),
            reg::owner_of("4085550199", 4));
  EXPECT_EQ(owner("BYE sip:2125550123@127.0.0.1:6100 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKb\r\n"
                  "Route: <sip:127.0.0.1:5061;lr>\r\nFrom: <sip:4085550199@core>;tag=c\r\nTo: <sip:2125550123@x>;tag=t\r\n"
                  "Call-ID: o3\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
                  kCorePort),
            1u);
}

}  // namespace
}  // namespace regfront::call

namespace regfront::call {
namespace {

// Providers may challenge the BYE with the nonce the INVITE was answered with (Kamailio does
// within its nonce's lifetime): a new request, so it is answered, with the next nonce count.
TEST_F(RelayTest, ABYEChallengedWithTheInvitesNonceIsAnsweredWithTheNextCount) {
  build();
  request(core_invite(), kCorePort);
  auto out = take();
  const std::string qop_challenge = "Proxy-Authenticate: Digest realm=\"reg-a.example\", nonce=\"same\", qop=\"auth\"\r\n";
  response(reply(*to(out, 6000)[0], 407, "Proxy Authentication Required", qop_challenge));
  out = take();
  EXPECT_NE(to(out, 6000)[1]->h(sip::HeaderId::proxy_authorization).find("nc=00000001"), std::string::npos);
  response(reply(*to(out, 6000)[1], 200, "OK"));
  take();
  request("BYE sip:2125550123@127.0.0.1:6100 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKbye9\r\n"
          "Route: <sip:127.0.0.1:5060;lr>\r\nFrom: <sip:4085550100@core.example>;tag=core-tag\r\n"
          "To: <sip:2125550123@127.0.0.1>;tag=uas-1\r\nCall-ID: call-1\r\nCSeq: 101 BYE\r\nContent-Length: 0\r\n\r\n",
          kCorePort);
  out = take();
  ASSERT_EQ(to(out, 6100).size(), 1u);
  response(reply(*to(out, 6100)[0], 407, "Proxy Authentication Required", qop_challenge));
  out = take();
  const auto again = to(out, 6100);
  ASSERT_EQ(again.size(), 1u) << "answered, not taken for a failed INVITE answer";
  EXPECT_EQ(again[0]->cseq(), 103u);
  EXPECT_NE(again[0]->h(sip::HeaderId::proxy_authorization).find("nc=00000002"), std::string::npos)
      << again[0]->h(sip::HeaderId::proxy_authorization);
  EXPECT_TRUE(to(out, kCorePort).empty());
}

}  // namespace
}  // namespace regfront::call

namespace regfront::call {
namespace {

TEST_F(RelayTest, CallsAreCountedPerDialPeerAndPerRegistrar) {
  build();
  request(core_invite("c1"), kCorePort);
  auto out = take();
  response(reply(*to(out, 6000)[0], 503, "Service Unavailable"));
  out = take();
  response(reply(*to(out, 6001)[0], 200, "OK"));
  take();
  const CallCounters& c = relay_->counters();
  EXPECT_EQ(c.via_registrar[0].get(), 1u);
  EXPECT_EQ(c.via_registrar[1].get(), 1u);
  EXPECT_EQ(c.answered_via_registrar[0].get(), 0u);
  EXPECT_EQ(c.answered_via_registrar[1].get(), 1u);
  const DialPeerCounters::Row& row = const_cast<DialPeerCounters&>(c.dial_peers).of(100);
  EXPECT_EQ(row.tag.load(), 100u);
  EXPECT_EQ(row.attempts.get(), 2u);
  EXPECT_EQ(row.answered.get(), 1u);
  // An inbound call is not one placed through a registrar.
  request("INVITE sip:4085550100@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKin\r\n"
          "From: <sip:2125550123@reg-a.example>;tag=f\r\nTo: <sip:4085550100@reg-a.example>\r\nCall-ID: in-9\r\n"
          "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
          6000);
  out = take();
  response(reply(*to(out, kCorePort)[0], 200, "OK"));
  take();
  EXPECT_EQ(c.answered_via_registrar[0].get(), 0u);
  EXPECT_EQ(const_cast<DialPeerCounters&>(c.dial_peers).of(200).answered.get(), 1u);
}

}  // namespace
}  // namespace regfront::call
