// ICMP destination unreachable (issue 11, item 1). An ICMP/ICMPv6 unreachable counts only when
// it quotes a request of ours that is still in flight (RFC 5927 §4.1: check what the ICMP
// quotes against the connection state): the quoted Via branch names the transaction (MAC
// checked), the quoted destination is its registrar, and the quoted bytes are the start of what
// was sent. Then that transaction — and no other — fails at the next advance() instead of
// retransmitting until Timer F. Anything else (forged, late, too short to reach the branch) is
// counted as ignored and changes nothing: an off-path attacker who knows only the addresses and
// ports can no longer stop a registrar's REGISTERs.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"

namespace regfront::reg {
namespace {

using test::drain;
using test::loopback_addresses;
using test::ok_with_contact;
using test::Sent;

constexpr std::string_view kConfig =
    "dial-peer voice 1 pots\n destination-pattern 1001\n"
    "dial-peer voice 2 pots\n destination-pattern 1002\n"
    "sip-ua\n registrar 1 dns:reg-a.example expires 60\n";

struct Fixture {
  TxQueue tx{64};
  snapshot::Builder builder{1};
  std::unique_ptr<Snapshot> snap;
  std::unique_ptr<Engine> engine;
  std::uint64_t now = 10'000'000;

  Fixture() {
    EngineOptions o;
    o.capacity = 16;
    o.max_inflight = 16;
    o.key = SipKey{1, 2};
    engine = std::make_unique<Engine>(o, tx);
    snap = builder.build(test::load_config(kConfig), loopback_addresses(), 5060);
    engine->adopt(OwnedSnapshotPin(snap.get()), now);
  }
  // Advances `ms` one millisecond at a time; returns what was sent.
  std::vector<Sent> run(std::uint64_t ms) {
    std::vector<Sent> out;
    for (std::uint64_t i = 0; i < ms; ++i) {
      engine->advance(OwnedSnapshotPin(snap.get()), ++now);
      for (Sent& s : drain(tx)) out.push_back(std::move(s));
    }
    return out;
  }
  void deliver(const std::string& d) {
    engine->on_datagram(OwnedSnapshotPin(snap.get()), d, now);
    drain(tx);
  }
  bool icmp(std::string_view quoted, const sockaddr_storage& dst) {
    return engine->on_unreachable(OwnedSnapshotPin(snap.get()), dst, quoted, now);
  }
  bool icmp(std::string_view quoted) { return icmp(quoted, registrar_address()); }
  sockaddr_storage registrar_address() const {
    sockaddr_storage dst{};
    std::memcpy(&dst, &loopback_addresses()[0]->addr, loopback_addresses()[0]->addr_len);
    return dst;
  }
  BindingStatus status(std::string_view number) {
    BindingStatus rows[16];
    std::uint32_t next = 0;
    const std::size_t n = engine->status(OwnedSnapshotPin(snap.get()), 0, rows, 16, next, now);
    for (std::size_t i = 0; i < n; ++i) {
      if (snap->number(snap->endpoints[rows[i].endpoint]) == number) return rows[i];
    }
    ADD_FAILURE() << "no binding " << number;
    return {};
  }
  const RegistrarCounters& rc() const { return engine->counters().registrar[0]; }
  const WorkerCounters& wc() const { return engine->counters(); }
};

const Sent* find(const std::vector<Sent>& v, std::string_view number) {
  for (const Sent& s : v) {
    if (s.number == number) return &s;
  }
  return nullptr;
}

TEST(Unreachable, QuotingTheRequestFailsOnlyThatTransactionAtOnce) {
  Fixture f;
  const auto first = f.run(1);
  ASSERT_EQ(first.size(), 2u);
  const Sent* a = find(first, "1001");
  ASSERT_NE(a, nullptr);
  // Linux quotes the whole datagram up to 576 bytes of ICMP: the first 520 of the request.
  EXPECT_TRUE(f.icmp(std::string_view(a->text).substr(0, std::min<std::size_t>(a->text.size(), 520))));
  EXPECT_EQ(f.wc().icmp_accepted.get(), 1u);
  EXPECT_EQ(f.wc().icmp_ignored.get(), 0u);
  // 1001 fails at the next advance (503, unreachable), before any Timer E; 1002 retransmits.
  const auto next = f.run(600);
  EXPECT_EQ(f.rc().unreachable.get(), 1u);
  EXPECT_EQ(f.status("1001").state, BindingState::backoff);
  EXPECT_EQ(f.status("1001").last_code, 503);
  EXPECT_EQ(f.status("1001").reason, FailReason::unreachable);
  EXPECT_EQ(f.status("1002").state, BindingState::registering);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].number, "1002");  // its Timer E retransmission, and nothing of 1001
  EXPECT_EQ(f.rc().retransmitted.get(), 1u);
  EXPECT_EQ(f.engine->inflight(), 1u);
  // The ICMP of 1001's retransmissions (none here) or a repeat comes too late: ignored.
  EXPECT_FALSE(f.icmp(a->text));
  EXPECT_EQ(f.wc().icmp_ignored.get(), 1u);
}

TEST(Unreachable, AQuoteReachingOnlyTheBranchIsEnough) {
  Fixture f;
  const auto first = f.run(1);
  ASSERT_EQ(first.size(), 2u);
  const std::string& t = first[0].text;
  const std::size_t end = t.find(first[0].branch) + first[0].branch.size();
  EXPECT_TRUE(f.icmp(std::string_view(t).substr(0, end)));
  EXPECT_FALSE(f.icmp(std::string_view(t).substr(0, end - 1)));  // the branch cut short
}

TEST(Unreachable, ForgedQuotesAreIgnoredAndCounted) {
  Fixture f;
  const auto first = f.run(1);
  ASSERT_EQ(first.size(), 2u);
  const std::string& t = first[0].text;
  // Only the UDP header quoted (RFC 792's minimum): nothing names a transaction.
  EXPECT_FALSE(f.icmp(""));
  // Garbage, a request of someone else, a branch of ours with a wrong MAC.
  EXPECT_FALSE(f.icmp("\x01\x02garbage"));
  EXPECT_FALSE(f.icmp("REGISTER sip:reg-a.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1234\r\n"));
  std::string wrong_mac = t;
  const std::size_t b = wrong_mac.find(first[0].branch);
  wrong_mac[b + first[0].branch.size() - 1] = wrong_mac[b + first[0].branch.size() - 1] == '0' ? '1' : '0';
  EXPECT_FALSE(f.icmp(wrong_mac));
  // Our branch, but bytes that are not what we sent (a forger who saw one branch).
  std::string tampered = t;
  tampered[tampered.find("Max-Forwards: 70") + 14] = '9';
  EXPECT_FALSE(f.icmp(tampered));
  // Our request exactly, but said to have gone elsewhere.
  sockaddr_storage other = f.registrar_address();
  reinterpret_cast<sockaddr_in&>(other).sin_port = htons(1);
  EXPECT_FALSE(f.icmp(t, other));
  sockaddr_storage v6{};
  v6.ss_family = AF_INET6;
  EXPECT_FALSE(f.icmp(t, v6));
  EXPECT_EQ(f.wc().icmp_ignored.get(), 7u);
  EXPECT_EQ(f.wc().icmp_accepted.get(), 0u);
  // Nothing failed: both transactions retransmit at T1.
  EXPECT_EQ(f.run(600).size(), 2u);
  EXPECT_EQ(f.rc().unreachable.get(), 0u);
}

// Forged ICMP at 10/s for ten minutes — the registrar's address, our port, junk payload —
// used to pause the registrar's paced starts for a second each: no refresh ever left and every
// binding expired. Now every binding refreshes and stays registered.
TEST(Unreachable, ForgedIcmpAtTenPerSecondLeavesEveryBindingRegistered) {
  Fixture f;
  std::uint64_t refreshed = 0, unregistered_ms = 0;
  for (std::uint64_t ms = 0; ms < 600'000; ++ms) {
    if (ms % 100 == 0) f.icmp("REGISTER sip:reg-a.example SIP/2.0\r\n");
    for (const Sent& s : f.run(1)) {
      f.deliver(ok_with_contact(s, 60));
      ++refreshed;
    }
    if (ms > 1000 && f.engine->registered_count(f.now) != 2) ++unregistered_ms;
  }
  EXPECT_EQ(unregistered_ms, 0u);
  EXPECT_GE(refreshed, 2u * 600 / 60);  // at least one refresh per binding per expiry period
  EXPECT_EQ(f.wc().icmp_ignored.get(), 6000u);
  EXPECT_EQ(f.wc().icmp_accepted.get(), 0u);
}

TEST(Unreachable, NewTransactionsAreNotPaused) {
  Fixture f;
  // An ICMP before anything was sent names nothing: the first REGISTERs leave at once.
  EXPECT_FALSE(f.icmp("REGISTER sip:reg-a.example SIP/2.0\r\n"));
  EXPECT_EQ(f.run(1).size(), 2u);
}

}  // namespace
}  // namespace regfront::reg
