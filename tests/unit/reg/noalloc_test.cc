// "Workers never allocate": a full registration storm through one Engine with every heap entry
// point counted (tests/support/alloc_counter.h: the malloc family, operator new/delete and
// OpenSSL's memory functions), so it is a binary of its own. Counting is switched on only around
// Engine::on_datagram, Engine::advance and Engine::begin_shutdown; the fake registrar in between may
// allocate.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <string>

#include "alloc_counter.h"
#include "harness.h"
#include "regfront/reg/engine.h"

namespace regfront::reg {
namespace {

using test::drain;
using test::Sent;
namespace heap = regfront::test::alloc;
using heap::Counting;

TEST(NoAllocation, RegistrationStorm) {
  ASSERT_TRUE(heap::openssl_hooked());
  constexpr int kEndpoints = 1000;
  std::string cfg;
  for (int i = 0; i < kEndpoints; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " +
           std::to_string(8000 + i) + "\n";
  }
  cfg +=
      "sip-ua\n"
      " authentication username trunk-a password 0 pw-a realm reg-a.example\n"
      " authentication username trunk-b password 0 pw-b realm reg-b.example\n"
      " registrar 1 dns:reg-a.example expires 60\n"
      " registrar 2 dns:reg-b.example expires 60\n"
      " registration rate 2000\n";
  snapshot::Builder builder(1);
  // reg-b challenges with SHA-256: a SHA realm, as the daemon would have learned it.
  const auto snap = builder.build(test::load_config(cfg), test::loopback_addresses(), 5060, {}, nullptr, 0,
                                  {"reg-b.example"});

  TxQueue tx(4096);
  EngineOptions opts;
  opts.capacity = 4096;
  opts.max_inflight = 4096;
  opts.key = SipKey{42, 43};
  Engine eng(opts, tx);
  std::uint64_t now = 5'000'000;
  const OwnedSnapshotPin pin(snap.get());
  eng.adopt(pin, now);

  const heap::Counts before = heap::counts();
  std::size_t answered = 0, dropped = 0;
  const std::string drop_number = "8123";  // its reg-a refresh goes unanswered: a timeout
  bool dropping = false;

  auto answer = [&](const Sent& r) {
    std::string resp;
    if (dropping && r.number == drop_number && r.registrar == 0) {
      ++dropped;
      return;
    }
    if (r.authorization.empty()) {
      resp = r.registrar == 0
                 ? test::respond(r, 401, "Unauthorized",
                                 "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"na" +
                                     std::to_string(answered) + "\"\r\n")
                 : test::respond(r, 407, "Proxy Authentication Required",
                                 "Proxy-Authenticate: Digest realm=\"reg-b.example\", nonce=\"nb" +
                                     std::to_string(answered) +
                                     "\", algorithm=SHA-256, qop=auth, opaque=\"o\"\r\n");
    } else {
      resp = test::ok_with_contact(r, r.expires == "0" ? 0 : 60);
    }
    ++answered;
    Counting c;
    eng.on_datagram(pin, resp, now);
  };
  auto step = [&](std::uint64_t ms) {
    for (std::uint64_t i = 0; i < ms; ++i) {
      ++now;
      {
        Counting c;
        eng.advance(pin, now);
      }
      // Answers can queue more requests (authenticated retries): loop until quiet.
      while (tx.size() != 0) {
        for (const Sent& r : drain(tx)) answer(r);
      }
    }
  };

  step(3000);  // 2000 bindings at 2000/s per registrar, each 401/407 → auth → 200
  EXPECT_EQ(eng.registered_count(now), 2u * kEndpoints);
  EXPECT_EQ(eng.counters().registrar[0].accepted.get(), std::uint64_t{kEndpoints});
  EXPECT_EQ(eng.counters().registrar[1].authenticated.get(), std::uint64_t{kEndpoints});

  dropping = true;
  step(70000);  // every binding refreshes once (30–48 s: the first refresh), preemptively; one
                // refresh times out (+19.5 s); the next 200 moves its retry forward
  dropping = false;
  EXPECT_EQ(eng.counters().registrar[0].accepted.get(), 2u * kEndpoints - 1);
  EXPECT_EQ(eng.counters().registrar[1].accepted.get(), 2u * kEndpoints);
  EXPECT_GE(eng.counters().registrar[0].timed_out.get(), 1u);
  EXPECT_GE(eng.counters().registrar[0].retransmitted.get(), 6u);
  EXPECT_GT(dropped, 1u);

  {
    Counting c;
    eng.begin_shutdown(pin, now);
  }
  for (int i = 0; i < 20000 && !eng.shutdown_done(); ++i) step(1);
  EXPECT_TRUE(eng.shutdown_done());
  EXPECT_EQ(eng.counters().registrar[0].unregistered.get() + eng.counters().registrar[1].unregistered.get(),
            2u * kEndpoints);

  EXPECT_EQ((heap::counts() - before).malloc_family, 0u) << "malloc family calls on the hot path";
  EXPECT_EQ((heap::counts() - before).operator_new, 0u) << "operator new calls on the hot path";
  EXPECT_EQ((heap::counts() - before).openssl, 0u) << "OpenSSL allocations on the hot path";
}

}  // namespace
}  // namespace regfront::reg
