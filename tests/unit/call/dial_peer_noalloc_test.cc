// "Workers never allocate": DialPeerMatcher::match on both engines, and the relay through whole
// calls (challenge answered, BYE, CANCEL, failover, timeouts), with every heap entry point
// counted (tests/support/alloc_counter.h: the malloc family, which Hyperscan allocates through,
// operator new/delete and OpenSSL's memory functions), so it is a binary of its own. Counting is
// on only around the data plane's calls; building tables, snapshots and scratches (control
// plane) may allocate.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "regfront/call/dial_peer_match.h"
#include "regfront/call/relay.h"
#include "regfront/config/commands.h"
#include "regfront/sip/builder.h"
#include "regfront/sip/message.h"
#include "regfront/snapshot/builder.h"

namespace regfront::call {
namespace {

namespace heap = regfront::test::alloc;
using heap::Counting;

TEST(NoAllocation, MatchOnBothEngines) {
  // Every construct: explicit prefixes with wildcards, ranges, '$', 'T', repetition, groups,
  // E.164 '+', catch-alls.
  std::vector<std::string> text;
  for (int i = 0; i < 1000; ++i) {
    text.push_back("1408" + std::to_string(100 + i % 900) +
                   std::string(static_cast<std::size_t>(i % 5), '.'));
  }
  for (const char* p :
       {"1T", ".T", "T", "1408[2-5]..$", "1408(555)?1%", "+1408T", "5+23$", "[^0-2]T", "5%"}) {
    text.emplace_back(p);
  }
  std::vector<DialPeerPattern> peers;
  for (std::size_t i = 0; i < text.size(); ++i) {
    peers.push_back({static_cast<std::uint32_t>(i), text[i], static_cast<std::uint8_t>(i % 10),
                     static_cast<std::uint32_t>(i)});
  }
  const char* numbers[] = {"14085550100",
                           "14081000000",
                           "+14085550100",
                           "5523",
                           "",
                           "1408",
                           "99999",
                           "1408555123456789012345678901234",
                           "12a",
                           "14082991"};
  for (MatchEngine e : {MatchEngine::hyperscan, MatchEngine::trie}) {
    auto m = DialPeerMatcher::build(peers, e);
    ASSERT_TRUE(m.ok()) << m.status().message();
    auto s = m->make_scratch();
    ASSERT_TRUE(s.ok());
    std::uint32_t ids[kDefaultHuntDepth];
    const heap::Counts before = heap::counts();
    std::size_t found = 0;
    for (int round = 0; round < 100; ++round) {
      for (const char* n : numbers) {
        Counting c;
        found += m->match(n, *s, ids, kDefaultHuntDepth);
      }
    }
    EXPECT_GT(found, 0u);
    EXPECT_EQ((heap::counts() - before).malloc_family, 0u)
        << match_engine_name(e) << ": malloc family calls in match()";
    EXPECT_EQ((heap::counts() - before).operator_new, 0u)
        << match_engine_name(e) << ": operator new calls in match()";
  }
}

// ---- the relay through whole calls ----

// What the relay sends lands here without allocating: a fixed ring of buffers.
struct Wire {
  static constexpr std::size_t kSlots = 1024;
  struct Datagram {
    std::uint16_t port;
    std::uint16_t len;
    char data[sip::kMaxBuilt];
  };
  std::unique_ptr<Datagram[]> slots{new Datagram[kSlots]};
  std::size_t count = 0;
  static void flush(void* ctx, reg::TxQueue& q) {
    Wire& w = *static_cast<Wire*>(ctx);
    for (std::size_t i = 0; i < q.size(); ++i) {
      Datagram& d = w.slots[w.count++ % kSlots];
      d.port = ntohs(reinterpret_cast<const sockaddr_in&>(q[i].dst).sin_port);
      d.len = q[i].len;
      std::memcpy(d.data, q[i].data, q[i].len);
    }
    q.clear();
  }
};

// A response to the datagram `req` (parsed into `m`), written into `out` without allocating.
std::size_t answer(const sip::Message& req, int code, std::string_view extra, char* out) {
  sip::Writer w(out, sip::kMaxBuilt);
  w.put("SIP/2.0 ");
  w.put_u32(static_cast<std::uint32_t>(code));
  w.put(code == 407 ? " Proxy Authentication Required\r\n" : " Whatever\r\n");
  for (std::uint16_t i = 0; i < req.header_count; ++i) {
    const sip::Header& h = req.headers[i];
    if (h.id != sip::HeaderId::via && h.id != sip::HeaderId::from && h.id != sip::HeaderId::call_id &&
        h.id != sip::HeaderId::cseq && h.id != sip::HeaderId::to) {
      continue;
    }
    w.put(h.name);
    w.put(": ");
    w.put(h.value);
    if (h.id == sip::HeaderId::to && sip::tag_of(h.value).empty()) w.put(";tag=far");
    w.put("\r\n");
  }
  w.put(extra);
  w.put("Content-Length: 0\r\n\r\n");
  return w.finish();
}

TEST(NoAllocation, RelayThroughWholeCalls) {
  config::Config cfg;
  ASSERT_TRUE(config::load_startup_config(
                  "dial-peer voice 1 pots\n destination-pattern 4085550100\n"
                  " authentication username 4085550100 password 0 s realm reg-a.example\n"
                  "sip-ua\n registrar 1 ipv4:127.0.0.1:6000\n registrar 2 ipv4:127.0.0.1:6001\n"
                  " credentials number 4085550100 username b password 0 s realm reg-b.example\n",
                  cfg)
                  .ok());
  snapshot::RegistrarAddresses addrs;
  for (int i = 0; i < 2; ++i) {
    snapshot::ResolvedRegistrar r;
    auto& sin = reinterpret_cast<sockaddr_in&>(r.addr);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<std::uint16_t>(6000 + i));
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    r.addr_len = sizeof sin;
    r.local_ip = "127.0.0.1";
    addrs[static_cast<std::size_t>(i)] = r;
  }
  snapshot::Builder builder(1);
  auto snap = builder.build(cfg, addrs, 5060);
  reg::SnapDialPeer dp;
  dp.tag = 100;
  dp.target = reg::SnapDialPeer::Target::registrar;
  dp.local_ip = "127.0.0.1";
  snap->calls.dial_peers.push_back(dp);
  snap->calls.trusted.push_back({0x7f000001, 32});  // the core, on the registrars' address
  const DialPeerPattern pattern{0, ".T", 0, 100};
  auto m = DialPeerMatcher::build({&pattern, 1});
  ASSERT_TRUE(m.ok());
  auto scratch = m->make_scratch();
  ASSERT_TRUE(scratch.ok());
  snap->calls.outbound = std::make_shared<DialPeerMatcher>(std::move(*m));
  snap->calls.outbound_scratch.push_back(std::make_shared<MatchScratch>(std::move(*scratch)));

  Wire wire;
  reg::TxQueue tx(256, &Wire::flush, &wire);
  RelayOptions o;
  o.max_calls = 512;
  Relay relay(o, tx, Liveness{[](const void*, std::uint32_t, std::uint64_t) { return true; }, nullptr});
  const reg::OwnedSnapshotPin pin(snap.get());
  std::uint64_t now = 1'000'000;
  relay.adopt(pin, now);
  sockaddr_storage core{};
  auto& cs = reinterpret_cast<sockaddr_in&>(core);
  cs.sin_family = AF_INET;
  cs.sin_port = htons(7000);
  inet_pton(AF_INET, "127.0.0.1", &cs.sin_addr);

  // Everything below is built before counting starts.
  char invite[2048], bye[1024], out[sip::kMaxBuilt];
  const heap::Counts before = heap::counts();
  std::size_t answered = 0;
  const auto feed_request = [&](const char* text, std::size_t len) {
    sip::Header hs[sip::kMaxHeaders];
    sip::Message msg;
    if (sip::parse({text, len}, msg, hs) != sip::ParseStatus::ok) return;
    Counting c;
    relay.on_request(pin, msg, core, sizeof(sockaddr_in), now);
    tx.flush();
  };
  // Answers the last datagram sent to a provider with `code`.
  const auto provider_answers = [&](int code, std::string_view extra) {
    const Wire::Datagram& d = wire.slots[(wire.count - 1) % Wire::kSlots];
    sip::Header hs[sip::kMaxHeaders];
    sip::Message req;
    if (sip::parse({d.data, d.len}, req, hs) != sip::ParseStatus::ok) return;
    const std::size_t n = answer(req, code, extra, out);
    sip::Header rh[sip::kMaxHeaders];
    sip::Message resp;
    if (sip::parse({out, n}, resp, rh) != sip::ParseStatus::ok) return;
    Counting c;
    relay.on_response(pin, resp, now);
    tx.flush();
  };
  for (int call = 0; call < 300; ++call) {
    const int il = std::snprintf(invite, sizeof invite,
                                 "INVITE sip:2125550%03d@127.0.0.1:5060 SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKc%d\r\n"
                                 "From: <sip:4085550100@core>;tag=c%d\r\nTo: <sip:2125550%03d@x>\r\n"
                                 "Call-ID: call-%d\r\nCSeq: 10 INVITE\r\nContent-Length: 0\r\n\r\n",
                                 call, call, call, call, call);
    feed_request(invite, std::size_t(il));
    switch (call % 3) {
      case 0:  // challenged, answered, accepted, BYE
        provider_answers(407,
                         "Proxy-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n\", qop=\"auth\"\r\n");
        provider_answers(200, {});
        break;
      case 1:  // 503 → registrar 2 → accepted
        provider_answers(503, {});
        provider_answers(200, {});
        break;
      default:  // ringing, then nothing: Timer C is long; the core cancels
        provider_answers(180, {});
        break;
    }
    const int bl = std::snprintf(
        bye, sizeof bye,
        "%s sip:2125550%03d@127.0.0.1:6100 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:7000;branch=z9hG4bKb%d\r\nRoute: <sip:127.0.0.1:5060;lr>\r\n"
        "From: <sip:4085550100@core>;tag=c%d\r\nTo: <sip:2125550%03d@x>%s\r\n"
        "Call-ID: call-%d\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
        call % 3 == 2 ? "CANCEL" : "BYE", call, call, call, call, call % 3 == 2 ? "" : ";tag=far", call,
        call % 3 == 2 ? "10 CANCEL" : "11 BYE");
    feed_request(bye, std::size_t(bl));
    if (call % 3 != 2) provider_answers(200, {});
    {
      Counting c;
      for (int t = 0; t < 40; ++t) relay.advance(pin, ++now);
    }
    answered += 1;
  }
  {
    Counting c;
    // Retransmissions, Timer C of the cancelled calls nobody answered, lingers.
    for (int t = 0; t < 260000; t += 10) relay.advance(pin, now += 10);
    tx.flush();
  }
  EXPECT_GE(relay.counters().answered.get(), 200u);
  EXPECT_GE(relay.counters().authenticated.get(), 100u);
  EXPECT_EQ(relay.active_calls(), 0u);
  EXPECT_EQ((heap::counts() - before).malloc_family, 0u) << "malloc family calls in the relay";
  EXPECT_EQ((heap::counts() - before).operator_new, 0u) << "operator new calls in the relay";
  EXPECT_EQ((heap::counts() - before).openssl, 0u) << "OpenSSL allocations in the relay";
}

}  // namespace
}  // namespace regfront::call
