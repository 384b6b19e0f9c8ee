// "Workers never allocate": a full registration storm through one Engine with every heap entry
// point counted (tests/support/alloc_counter.h: the malloc family, operator new/delete and
// OpenSSL's memory functions), so it is a binary of its own. Counting is switched on only around
// Engine::on_datagram, Engine::advance, Engine::reregister and Engine::begin_shutdown; the fake
// registrar in between may allocate.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "alloc_counter.h"
#include "harness.h"
#include "regfront/common/clock.h"
#include "regfront/reg/engine.h"
#include "regfront/reg/trace.h"

namespace regfront::reg {
namespace {

using test::drain;
using test::Sent;
namespace heap = regfront::test::alloc;
using heap::Counting;

// POTS dial peers 1..n for the numbers 8000.. (the endpoints of these tests).
std::string numbered_dial_peers(int n) {
  std::string cfg;
  for (int i = 0; i < n; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " +
           std::to_string(8000 + i) + "\n";
  }
  return cfg;
}

// 200 numbers at one registrar (realm reg-a.example) at `rate` REGISTERs per second.
std::string one_registrar_config(int rate) {
  return numbered_dial_peers(200) +
         "sip-ua\n"
         " authentication username trunk-a password 0 pw-a realm reg-a.example\n"
         " registrar 1 dns:reg-a.example expires 60\n"
         " registration rate " + std::to_string(rate) + "\n";
}

// One worker's engine on the snapshot of `cfg` (`slots` binding slots and transactions),
// adopted at `now`; set up before the counting starts.
struct EngineRig {
  EngineRig(const std::string& cfg, std::uint32_t slots, std::size_t tx_size, std::uint64_t now,
            const std::vector<std::string>& sha_realms = {}, Tracer* tracer = nullptr)
      : snap(builder.build(test::load_config(cfg), test::loopback_addresses(), 5060, {}, nullptr, 0,
                           sha_realms)),
        tx(tx_size),
        eng(options(slots, tracer), tx),
        pin(snap.get()) {
    eng.adopt(pin, now);
  }
  static EngineOptions options(std::uint32_t slots, Tracer* tracer = nullptr) {
    EngineOptions o;
    o.tracer = tracer;
    o.capacity = slots;
    o.max_inflight = slots;
    o.key = SipKey{42, 43};
    o.ticks = &monotonic_ns;  // as a socket worker: the challenge-answer latency is timed too
    return o;
  }
  snapshot::Builder builder{1};
  std::unique_ptr<Snapshot> snap;
  TxQueue tx;
  Engine eng;
  const OwnedSnapshotPin pin;
};

TEST(NoAllocation, RegistrationStorm) {
  ASSERT_TRUE(heap::openssl_hooked());
  constexpr int kEndpoints = 1000;
  std::string cfg = numbered_dial_peers(kEndpoints);
  cfg +=
      "sip-ua\n"
      " authentication username trunk-a password 0 pw-a realm reg-a.example\n"
      " authentication username trunk-b password 0 pw-b realm reg-b.example\n"
      " registrar 1 dns:reg-a.example expires 60\n"
      " registrar 2 dns:reg-b.example expires 60\n"
      " registration rate 2000\n";
  std::uint64_t now = 5'000'000;
  // reg-b challenges with SHA-256: a SHA realm, as the daemon would have learned it.
  EngineRig rig(cfg, 4096, 4096, now, {"reg-b.example"});
  TxQueue& tx = rig.tx;
  Engine& eng = rig.eng;
  const OwnedSnapshotPin& pin = rig.pin;

  const heap::Counts before = heap::counts();
  std::size_t answered = 0, dropped = 0;
  std::uint64_t oks[2] = {};  // 2xx given to registrations and refreshes, per registrar
  const std::string drop_number = "8123";  // its reg-a refresh goes unanswered until it times out
  bool dropping = false;

  auto answer = [&](const Sent& r) {
    std::string resp;
    if (dropping && r.number == drop_number && r.registrar == 0 &&
        eng.counters().registrar[0].timed_out.get() == 0) {
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
      if (r.expires != "0") ++oks[r.registrar];
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

  // 2000 bindings at 2000/s per registrar, each 401/407 → auth → 200; the first refreshes
  // (each binding's phase, 1–48 s after its 2xx) begin.
  step(3000);
  EXPECT_EQ(eng.registered_count(now), 2u * kEndpoints);
  EXPECT_GE(oks[0], std::uint64_t{kEndpoints});
  EXPECT_EQ(eng.counters().registrar[0].accepted.get(), oks[0]);
  EXPECT_GE(eng.counters().registrar[1].authenticated.get(), std::uint64_t{kEndpoints});

  dropping = true;
  const std::uint64_t storm_oks[2] = {oks[0], oks[1]};
  step(70000);  // every binding refreshes at least once, preemptively; one refresh times out
                // (+19.5 s) and the next 200 moves its retry forward
  dropping = false;
  EXPECT_EQ(eng.counters().registrar[0].accepted.get(), oks[0]);
  EXPECT_EQ(eng.counters().registrar[1].accepted.get(), oks[1]);
  EXPECT_GE(oks[0] - storm_oks[0], std::uint64_t{kEndpoints});
  EXPECT_GE(oks[1] - storm_oks[1], std::uint64_t{kEndpoints});
  EXPECT_GE(eng.counters().registrar[0].timed_out.get(), 1u);
  EXPECT_GE(eng.counters().registrar[0].retransmitted.get(), 6u);
  EXPECT_GT(dropped, 1u);

  // clear sip-ua registration: one number, then every binding of registrar 2 (swept a chunk
  // per advance), all through the pacer.
  {
    Counting c;
    eng.reregister(pin, 0x1, "8007", now);
    eng.reregister(pin, 0x2, "", now);
  }
  step(2000);
  EXPECT_EQ(eng.counters().registrar[0].reregistered.get(), 1u);
  EXPECT_EQ(eng.counters().registrar[1].reregistered.get(), std::uint64_t{kEndpoints});
  EXPECT_EQ(eng.registered_count(now), 2u * kEndpoints);

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

// debug ccsip messages and events on for one number: the engine writes its REGISTER, 401,
// REGISTER, 200 and its state changes into the tracer's ring, and nothing of the other numbers,
// without allocating; the control thread (here: between steps, not counted) drains it.
TEST(NoAllocation, DebugTraceOfOneNumber) {
  ASSERT_TRUE(heap::openssl_hooked());
  const std::string cfg = one_registrar_config(1000);
  std::uint64_t now = 5'000'000;
  auto tracer = std::make_unique<Tracer>();
  TraceFilter f;
  f.kinds = kTraceMessages | kTraceEvents;
  ASSERT_TRUE(f.add_number("8123"));
  tracer->set_filter(f);
  EngineRig rig(cfg, 1024, 1024, now, {}, tracer.get());
  std::vector<std::string> seen;  // "S REGISTER", "R 401", "E ..." for 8123
  std::size_t others = 0;
  const heap::Counts before = heap::counts();
  for (int ms = 0; ms < 3000; ++ms) {
    ++now;
    {
      Counting c;
      rig.eng.advance(rig.pin, now);
    }
    while (rig.tx.size() != 0) {
      for (const Sent& r : drain(rig.tx)) {
        const std::string resp =
            r.authorization.empty()
                ? test::respond(r, 401, "Unauthorized",
                                "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n\"\r\n")
                : test::ok_with_contact(r, 60);
        Counting c;
        rig.eng.on_datagram(rig.pin, resp, now);
      }
    }
    TraceRecord rec;
    std::string text;
    while (tracer->pop(rec, text)) {
      if (std::string_view(rec.number) != "8123") ++others;
      const char d = rec.direction == kTraceSent ? 'S' : rec.direction == kTraceReceived ? 'R' : 'E';
      seen.push_back(std::string(1, d) + " " + (d == 'E' ? text : text.substr(0, text.find(' ', 8))));
    }
  }
  EXPECT_EQ(rig.eng.registered_count(now), 200u);
  EXPECT_EQ(others, 0u);
  EXPECT_EQ(seen,
            (std::vector<std::string>{"E QUEUED -> REGISTERING", "S REGISTER", "R SIP/2.0 401", "S REGISTER",
                                      "R SIP/2.0 200", "E REGISTERING -> REGISTERED (200)"}));
  EXPECT_EQ(tracer->lost_total(), 0u);
  EXPECT_EQ((heap::counts() - before).malloc_family, 0u) << "malloc family calls on the hot path";
  EXPECT_EQ((heap::counts() - before).operator_new, 0u) << "operator new calls on the hot path";
}

// A registrar silent for 40 s, then back and challenging: retransmissions and authenticated
// retries that wait for a token of its rate (deferred, queued, sent later) allocate nothing.
TEST(NoAllocation, RetransmissionsAndRetriesWaitingForTheRate) {
  ASSERT_TRUE(heap::openssl_hooked());
  const std::string cfg = one_registrar_config(20);
  std::uint64_t now = 5'000'000;
  EngineRig rig(cfg, 1024, 4096, now);
  TxQueue& tx = rig.tx;
  Engine& eng = rig.eng;
  const OwnedSnapshotPin& pin = rig.pin;

  const heap::Counts before = heap::counts();
  bool silent = true;
  std::size_t nonce = 0;
  std::vector<std::string> answers;  // the registrar answers every 200 ms: 401s come in groups
  auto step = [&](std::uint64_t ms) {
    for (std::uint64_t i = 0; i < ms; ++i) {
      ++now;
      {
        Counting c;
        eng.advance(pin, now);
      }
      for (const Sent& r : drain(tx)) {
        if (silent) continue;
        answers.push_back(r.authorization.empty()
                              ? test::respond(r, 401, "Unauthorized",
                                              "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n" +
                                                  std::to_string(++nonce) + "\"\r\n")
                              : test::ok_with_contact(r, r.expires == "0" ? 0 : 60));
      }
      if (now % 200 != 0) continue;
      std::vector<std::string> batch;
      batch.swap(answers);
      for (const std::string& resp : batch) {
        Counting c;
        eng.on_datagram(pin, resp, now);
      }
    }
  };
  step(40000);
  silent = false;
  step(60000);
  const RegistrarCounters& rc = eng.counters().registrar[0];
  EXPECT_GT(rc.retransmit_deferred.get(), 0u);
  EXPECT_GT(rc.retry_deferred.get(), 0u);
  EXPECT_EQ(eng.registered_count(now), 200u);
  {
    Counting c;
    eng.begin_shutdown(pin, now);
  }
  for (int i = 0; i < 40000 && !eng.shutdown_done(); ++i) step(1);
  EXPECT_TRUE(eng.shutdown_done());
  EXPECT_EQ((heap::counts() - before).malloc_family, 0u) << "malloc family calls on the hot path";
  EXPECT_EQ((heap::counts() - before).operator_new, 0u) << "operator new calls on the hot path";
  EXPECT_EQ((heap::counts() - before).openssl, 0u) << "OpenSSL allocations on the hot path";
}

// The worker-input paths of the resilience work: ICMP unreachables (accepted and ignored), a
// response refused for its size, a challenge refused as auth_failed, a capped Retry-After.
TEST(NoAllocation, IcmpOversizedAndRefusedCredentials) {
  constexpr int kEndpoints = 64;
  std::string cfg = numbered_dial_peers(kEndpoints);
  cfg +=
      "sip-ua\n"
      " authentication username trunk-a password 0 pw-a realm reg-a.example\n"
      " registrar 1 dns:reg-a.example expires 60\n";
  std::uint64_t now = 5'000'000;
  EngineRig rig(cfg, 256, 1024, now);
  TxQueue& tx = rig.tx;
  Engine& eng = rig.eng;
  const OwnedSnapshotPin& pin = rig.pin;
  sockaddr_storage dst{};
  std::memcpy(&dst, &test::loopback_addresses()[0]->addr, test::loopback_addresses()[0]->addr_len);
  const std::string big = "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"" + std::string(9000, 'x') + "\"\r\n";

  const heap::Counts before = heap::counts();
  std::size_t n = 0;
  for (int ms = 0; ms < 20000; ++ms) {
    ++now;
    {
      Counting c;
      eng.advance(pin, now);
      eng.on_unreachable(pin, dst, "REGISTER sip:forged SIP/2.0\r\n", now);
    }
    while (tx.size() != 0) {
      for (const Sent& r : drain(tx)) {
        std::string resp;
        switch (n++ % 4) {
          case 0: {  // a real unreachable, quoting the request
            Counting c;
            eng.on_unreachable(pin, dst, r.text, now);
            continue;
          }
          case 1: resp = test::respond(r, 401, "Unauthorized", big); break;
          case 2: resp = test::respond(r, 503, "Service Unavailable", "Retry-After: 999999999\r\n"); break;
          default:
            resp = test::respond(r, 401, "Unauthorized",
                                 "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"n" + std::to_string(n) + "\"\r\n");
        }
        Counting c;
        eng.on_datagram(pin, resp, now);
      }
    }
  }
  const RegistrarCounters& rc = eng.counters().registrar[0];
  EXPECT_GT(eng.counters().icmp_accepted.get(), 0u);
  EXPECT_GT(eng.counters().icmp_ignored.get(), 0u);
  EXPECT_GT(rc.unreachable.get(), 0u);
  EXPECT_GT(rc.response_too_large.get(), 0u);
  EXPECT_GT(rc.retry_after_capped.get(), 0u);
  EXPECT_GT(rc.auth_failed.get(), 0u);
  EXPECT_EQ((heap::counts() - before).malloc_family, 0u) << "malloc family calls on the hot path";
  EXPECT_EQ((heap::counts() - before).operator_new, 0u) << "operator new calls on the hot path";
  EXPECT_EQ((heap::counts() - before).openssl, 0u) << "OpenSSL allocations on the hot path";
}

}  // namespace
}  // namespace regfront::reg

namespace regfront::reg {
namespace {

// The OPTIONS keepalive: OPTIONS sent, retransmitted and timed out, the registrar marked down
// (refreshes held), answered again and marked up, the held bindings restarted through the pacer.
TEST(NoAllocation, OptionsKeepaliveDownAndUp) {
  ASSERT_TRUE(heap::openssl_hooked());
  std::string cfg = "voice class sip-options-keepalive 1\n up-interval 5\n down-interval 5\n retry 1\n";
  cfg += numbered_dial_peers(100);
  cfg += "sip-ua\n registrar 1 dns:reg-a.example expires 30 options-keepalive profile 1\n"
         " registration rate 50\n timers register 100\n";
  std::uint64_t now = 5'000'000;
  EngineRig rig(cfg, 1024, 4096, now);
  TxQueue& tx = rig.tx;
  Engine& eng = rig.eng;
  const OwnedSnapshotPin& pin = rig.pin;
  const heap::Counts before = heap::counts();
  bool silent = false;
  auto step = [&](std::uint64_t ms) {
    for (std::uint64_t i = 0; i < ms; ++i) {
      ++now;
      {
        Counting c;
        eng.advance(pin, now);
      }
      std::vector<std::string> answers;
      for (std::size_t k = 0; k < tx.size(); ++k) {
        if (silent) continue;
        const std::string_view d(tx[k].data, tx[k].len);
        if (d.substr(0, 8) == "OPTIONS ") {
          auto h = [&](std::string_view name) {
            const std::size_t p = d.find(name);
            return std::string(d.substr(p, d.find("\r\n", p + 2) - p + 2));
          };
          answers.push_back("SIP/2.0 405 Method Not Allowed\r\n" + h("\r\nVia: ").substr(2) + h("\r\nFrom: ").substr(2) +
                            h("\r\nTo: ").substr(2) + h("\r\nCall-ID: ").substr(2) + h("\r\nCSeq: ").substr(2) +
                            "Content-Length: 0\r\n\r\n");
        } else {
          answers.push_back(test::ok_with_contact(test::parse_sent(tx[k]), 30));
        }
      }
      tx.clear();
      for (const std::string& resp : answers) {
        Counting c;
        eng.on_datagram(pin, resp, now);
      }
    }
  };
  step(5000);
  EXPECT_EQ(eng.registered_count(now), 100u);
  silent = true;
  step(60000);
  const RegistrarCounters& rc = eng.counters().registrar[0];
  EXPECT_EQ(rc.keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::down));
  EXPECT_GT(rc.keepalive_held.get(), 0u);
  EXPECT_EQ(eng.registered_count(now), 0u);
  silent = false;
  step(20000);
  EXPECT_EQ(rc.keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::up));
  EXPECT_EQ(eng.registered_count(now), 100u);
  EXPECT_EQ((heap::counts() - before).malloc_family, 0u) << "malloc family calls on the hot path";
  EXPECT_EQ((heap::counts() - before).operator_new, 0u) << "operator new calls on the hot path";
}

}  // namespace
}  // namespace regfront::reg
