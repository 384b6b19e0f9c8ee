// ICMP destination unreachable → fast failure of the registrar's transactions: an ICMP/ICMPv6
// port- or host-unreachable for the registrar's address ends its transaction at the next
// Timer E instead of leaving it to retransmit until Timer F.
#include <gtest/gtest.h>

#include "harness.h"

namespace regfront::reg {
namespace {

using test::drain;
using test::loopback_addresses;

constexpr std::string_view kConfig =
    "dial-peer voice 1 pots\n destination-pattern 1001\n"
    " authentication username alice password 0 secret realm reg-a.example\n"
    "sip-ua\n registrar 1 dns:reg-a.example expires 3600\n";

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
  // Advances `ms` one millisecond at a time; returns the ms offsets at which requests left.
  std::vector<std::uint64_t> run(std::uint64_t ms, std::uint64_t from) {
    std::vector<std::uint64_t> at;
    for (std::uint64_t i = 0; i < ms; ++i) {
      engine->advance(OwnedSnapshotPin(snap.get()), ++now);
      for (std::size_t n = drain(tx).size(); n > 0; --n) at.push_back(now - from);
    }
    return at;
  }
  sockaddr_storage registrar_address() const {
    sockaddr_storage dst{};
    std::memcpy(&dst, &loopback_addresses()[0]->addr, loopback_addresses()[0]->addr_len);
    return dst;
  }
  const RegistrarCounters& rc() const { return engine->counters().registrar[0]; }
};

TEST(Unreachable, FailsTheTransactionAtTheNextTimerEInsteadOfRetrying) {
  Fixture f;
  const std::uint64_t t0 = f.now;
  ASSERT_EQ(f.run(1, t0).size(), 1u);  // the REGISTER
  f.engine->on_unreachable(OwnedSnapshotPin(f.snap.get()), f.registrar_address(), f.now);
  EXPECT_TRUE(f.run(600, t0).empty());  // no retransmission at T1
  EXPECT_EQ(f.rc().unreachable.get(), 1u);
  EXPECT_EQ(f.rc().retransmitted.get(), 0u);
  EXPECT_EQ(f.rc().timed_out.get(), 0u);
  EXPECT_EQ(f.engine->inflight(), 0u);
  // The binding backs off (2-4 s), then tries again, and that attempt retransmits normally.
  const auto again = f.run(5000, t0);
  ASSERT_GE(again.size(), 2u);
  EXPECT_GE(again[0], 2000u);
  EXPECT_EQ(again[1] - again[0], 500u);  // Timer E of the new transaction
}

TEST(Unreachable, OtherDestinationsChangeNothing) {
  Fixture f;
  const std::uint64_t t0 = f.now;
  ASSERT_EQ(f.run(1, t0).size(), 1u);
  sockaddr_storage other = f.registrar_address();
  reinterpret_cast<sockaddr_in&>(other).sin_port = htons(1);  // another port
  f.engine->on_unreachable(OwnedSnapshotPin(f.snap.get()), other, f.now);
  sockaddr_in6 v6{};  // another family
  v6.sin6_family = AF_INET6;
  sockaddr_storage v6s{};
  std::memcpy(&v6s, &v6, sizeof v6);
  f.engine->on_unreachable(OwnedSnapshotPin(f.snap.get()), v6s, f.now);
  EXPECT_EQ(f.run(600, t0), (std::vector<std::uint64_t>{501}));  // Timer E retransmission
  EXPECT_EQ(f.rc().unreachable.get(), 0u);
}

TEST(Unreachable, PausesNewTransactionsForASecond) {
  Fixture f;
  // Reported before anything was sent: the first REGISTER waits about a second.
  f.engine->on_unreachable(OwnedSnapshotPin(f.snap.get()), f.registrar_address(), f.now);
  const std::uint64_t t0 = f.now;
  const auto at = f.run(1500, t0);
  ASSERT_FALSE(at.empty());
  EXPECT_GE(at[0], 1000u);
}

}  // namespace
}  // namespace regfront::reg
