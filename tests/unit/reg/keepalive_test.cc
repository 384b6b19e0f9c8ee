// OPTIONS keepalive of a registrar (voice class sip-options-keepalive): the keepalive worker
// sends OPTIONS (RFC 3261 §11) in its own transaction, `retry` unanswered ones mark the registrar
// down, nothing but the keepalive goes to it while it is down (on the other workers too, told by
// the snapshot), and its held bindings come back through its pacer when it answers again.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "regfront/reg/engine.h"

namespace regfront::reg {
namespace {

using test::load_config;
using test::loopback_addresses;
using test::ok_with_contact;
using test::respond;
using test::Sent;

constexpr std::uint64_t kStart = 10'000'000;

// A datagram the engine queued: OPTIONS or REGISTER.
struct Out {
  std::uint64_t at;
  std::string method;
  std::string text;
  Sent req;  // REGISTERs only (test::parse_sent expects one)
};

std::string method_of(std::string_view text) { return std::string(text.substr(0, text.find(' '))); }
std::string header(std::string_view text, std::string_view name) {
  const std::string key = "\r\n" + std::string(name) + ": ";
  const std::size_t p = text.find(key);
  if (p == std::string_view::npos) return {};
  const std::size_t e = text.find("\r\n", p + key.size());
  return std::string(text.substr(p + key.size(), e - p - key.size()));
}

// A response to an OPTIONS as a registrar (or Kamailio) writes it.
std::string answer_options(const std::string& req, int code, std::string_view reason = "Whatever") {
  std::string r = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  r += "Via: " + header(req, "Via") + ";received=127.0.0.1\r\n";
  r += "From: " + header(req, "From") + "\r\n";
  r += "To: " + header(req, "To") + ";tag=ka-1\r\n";
  r += "Call-ID: " + header(req, "Call-ID") + "\r\n";
  r += "CSeq: " + header(req, "CSeq") + "\r\nContent-Length: 0\r\n\r\n";
  return r;
}

std::string config(int bindings, int rate, std::string_view profile, std::string_view extra = {}) {
  std::string cfg = "voice class sip-options-keepalive 7\n" + std::string(profile);
  for (int i = 0; i < bindings; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + std::to_string(7000 + i) + "\n";
  }
  cfg += "sip-ua\n registrar 1 dns:reg-a.example expires 60 options-keepalive profile 7\n registration rate " +
         std::to_string(rate) + "\n" + std::string(extra);
  return cfg;
}

class KeepaliveTest : public ::testing::Test {
 protected:
  void start(const std::string& cfg, std::uint32_t worker = 0, std::uint32_t workers = 1) {
    EngineOptions opts;
    opts.worker = worker;
    opts.capacity = 512;
    opts.max_inflight = 512;
    opts.key = SipKey{0x1122334455667788ull, 0x99aabbccddeeff00ull};
    builder_ = std::make_unique<snapshot::Builder>(workers);
    engine_ = std::make_unique<Engine>(opts, tx_);
    rebuild(cfg);
  }
  void rebuild(const std::string& cfg) {
    cfg_ = cfg;
    snaps_.push_back(builder_->build(load_config(cfg), loopback_addresses(), 5060, {}, nullptr, 0, {}));
    engine_->adopt(OwnedSnapshotPin(snaps_.back().get()), now_);
  }
  OwnedSnapshotPin pin() const { return OwnedSnapshotPin(snaps_.back().get()); }
  std::vector<Out> drain() {
    std::vector<Out> out;
    for (std::size_t i = 0; i < tx_.size(); ++i) {
      Out o{now_, method_of({tx_[i].data, tx_[i].len}), std::string(tx_[i].data, tx_[i].len), {}};
      if (o.method == "REGISTER") o.req = test::parse_sent(tx_[i]);
      out.push_back(std::move(o));
    }
    tx_.clear();
    return out;
  }
  // Advances the clock `ms` milliseconds; `on` sees each datagram sent and may answer it.
  template <typename Fn>
  std::vector<Out> run(std::uint64_t ms, Fn&& on) {
    std::vector<Out> all;
    for (std::uint64_t i = 0; i < ms; ++i) {
      ++now_;
      for (int calls = 0; calls < 1000; ++calls) {
        engine_->advance(pin(), now_);
        std::vector<Out> got = drain();
        for (Out& o : got) {
          on(o);
          all.push_back(o);
        }
        if (engine_->next_deadline_ms(pin()) > now_) break;
      }
    }
    return all;
  }
  std::vector<Out> run(std::uint64_t ms) {
    return run(ms, [](const Out&) {});
  }
  void deliver(const std::string& d) { engine_->on_datagram(pin(), d, now_); }
  // A registrar that answers everything: OPTIONS with `options_code`, REGISTER with 200.
  auto answering(int options_code = 200) {
    return [this, options_code](const Out& o) {
      if (o.method == "OPTIONS") deliver(answer_options(o.text, options_code));
      if (o.method == "REGISTER") deliver(ok_with_contact(o.req, 60));
    };
  }
  const RegistrarCounters& rc(int i = 0) const { return engine_->counters().registrar[i]; }
  std::size_t count(const std::vector<Out>& v, std::string_view method) const {
    return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [&](const Out& o) { return o.method == method; }));
  }
  std::size_t rows_in(BindingState st) {
    BindingStatus rows[512];
    std::uint32_t next = 0;
    const std::size_t n = engine_->status(pin(), 0, rows, 512, next, now_);
    return static_cast<std::size_t>(std::count_if(rows, rows + n, [&](const BindingStatus& r) { return r.state == st; }));
  }

  TxQueue tx_{4096};
  std::unique_ptr<snapshot::Builder> builder_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::unique_ptr<Snapshot>> snaps_;
  std::string cfg_;
  std::uint64_t now_ = kStart;
};

TEST_F(KeepaliveTest, OptionsIsAnRfc3261Request) {
  start(config(1, 100, " up-interval 10\n"));
  const std::vector<Out> first = run(1);
  ASSERT_EQ(count(first, "OPTIONS"), 1u);
  const std::string& o = std::find_if(first.begin(), first.end(), [](const Out& x) { return x.method == "OPTIONS"; })->text;
  EXPECT_EQ(o.substr(0, o.find("\r\n")), "OPTIONS sip:reg-a.example SIP/2.0");
  EXPECT_EQ(header(o, "Max-Forwards"), "70");
  EXPECT_EQ(header(o, "Via").substr(0, 30), "SIP/2.0/UDP 127.0.0.1:5060;bra");
  EXPECT_NE(header(o, "Via").find(";branch=z9hG4bKrf"), std::string::npos);
  EXPECT_EQ(header(o, "To"), "<sip:reg-a.example>");
  EXPECT_NE(header(o, "From").find(";tag="), std::string::npos);
  EXPECT_NE(header(o, "CSeq").find(" OPTIONS"), std::string::npos);
  EXPECT_EQ(header(o, "Accept"), "application/sdp");
  EXPECT_EQ(header(o, "Content-Length"), "0");
  EXPECT_EQ(rc().options_sent.get(), 1u);
  // Answered 405 (Kamailio's answer to what it does not serve): up. The next one comes after
  // up-interval (10 s), not before.
  deliver(answer_options(o, 405, "Method Not Allowed"));
  EXPECT_EQ(rc().options_answered.get(), 1u);
  EXPECT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::up));
  EXPECT_EQ(rc().keepalive_last_code.get(), 405u);
  std::vector<Out> later = run(9990, answering(405));
  EXPECT_EQ(count(later, "OPTIONS"), 0u);
  later = run(20, answering(405));
  EXPECT_EQ(count(later, "OPTIONS"), 1u);
  // A forged answer (wrong MAC in the branch) changes nothing and is counted.
  const std::uint64_t forged = engine_->counters().forged.get();
  std::string bad = answer_options(later[0].text, 200);
  bad.replace(bad.find("z9hG4bKrf") + 40, 4, "0000");
  deliver(bad);
  EXPECT_EQ(engine_->counters().forged.get(), forged + 1);
}

// Timer E retransmits the OPTIONS; Timer F (64·T1) ends it as a miss; `retry` misses in a row put
// the registrar down. While down, nothing but OPTIONS is sent: no refresh, no retransmission.
// When an OPTIONS is answered again, the held bindings restart at the registration rate.
TEST_F(KeepaliveTest, DownHoldsRegistersAndUpRestartsThemPaced) {
  constexpr int kBindings = 60;
  constexpr int kRate = 10;
  // T1 100 ms: Timer F 6.4 s. retry 2, down-interval 5 s.
  start(config(kBindings, kRate, " up-interval 5\n down-interval 5\n retry 2\n", " timers register 100\n"));
  // Everything registers (60 at 10/s: 6 s), the keepalive answered.
  run(10000, answering(200));
  ASSERT_EQ(engine_->registered_count(now_), static_cast<std::uint32_t>(kBindings));
  // The registrar goes silent.
  const std::uint64_t silent = now_;
  std::uint64_t down_at = 0;
  std::vector<Out> during;
  for (int i = 0; i < 60000 && down_at == 0; ++i) {
    for (Out& o : run(1)) during.push_back(o);
    if (rc().keepalive_state.get() == static_cast<std::uint64_t>(KeepaliveState::down)) down_at = now_;
  }
  ASSERT_NE(down_at, 0u) << "never marked down";
  EXPECT_EQ(rc().options_timed_out.get(), 2u);
  EXPECT_GT(rc().options_retransmitted.get(), 0u);
  EXPECT_EQ(rc().keepalive_down.get(), 1u);
  // The next OPTIONS within up-interval, then two that each last Timer F (the second one
  // starts at once: down-interval is shorter than Timer F).
  EXPECT_LE(down_at - silent, 5000u + 2 * 6400u + 10u);
  std::printf("[ measure ] marked down %.1f s after the registrar went silent (retry 2, T1 100 ms)\n",
              static_cast<double>(down_at - silent) / 1000);
  // Down for 120 s: the registrations lapse (expires 60), nothing but OPTIONS is sent, once per
  // down-interval or Timer F.
  const std::uint64_t held_before = rc().keepalive_held.get();
  const std::vector<Out> down = run(120000);
  EXPECT_EQ(count(down, "REGISTER"), 0u);
  const std::size_t options = count(down, "OPTIONS");
  EXPECT_GE(options, 120000u / 6400u);
  EXPECT_LE(options, 120000u / 5000u * 8u);  // each with its retransmissions
  EXPECT_GT(rc().keepalive_held.get(), held_before);
  EXPECT_EQ(engine_->registered_count(now_), 0u);
  EXPECT_EQ(rows_in(BindingState::held), static_cast<std::size_t>(kBindings));
  // Up again: the next OPTIONS answered (404 is an answer too).
  std::uint64_t up_at = 0;
  std::vector<std::uint64_t> starts;
  std::uint64_t all_back = 0;
  for (int i = 0; i < 30000 && all_back == 0; ++i) {
    for (const Out& o : run(1, [&](const Out& x) {
           if (x.method == "OPTIONS") deliver(answer_options(x.text, 404));
           if (x.method == "REGISTER") deliver(ok_with_contact(x.req, 60));
         })) {
      if (o.method == "REGISTER") starts.push_back(o.at);
    }
    if (up_at == 0 && rc().keepalive_state.get() == static_cast<std::uint64_t>(KeepaliveState::up)) up_at = now_;
    if (engine_->registered_count(now_) == static_cast<std::uint32_t>(kBindings)) all_back = now_;
  }
  ASSERT_NE(up_at, 0u);
  ASSERT_NE(all_back, 0u) << engine_->registered_count(now_) << " back";
  EXPECT_EQ(rc().keepalive_up.get(), 1u);
  // Paced: at most the rate (plus the documented allowance) in any second, so N/rate seconds.
  std::size_t worst = 0;
  for (std::size_t i = 0, j = 0; i < starts.size(); ++i) {
    while (j < starts.size() && starts[j] < starts[i] + 1000) ++j;
    worst = std::max(worst, j - i);
  }
  EXPECT_LE(worst, static_cast<std::size_t>(kRate) + 2);
  EXPECT_GE(all_back - up_at, 1000u * (kBindings - 2) / kRate);
  std::printf("[ measure ] %d bindings back %.1f s after the keepalive found the registrar up "
              "(rate %d/s, at most %zu REGISTERs in 1 s)\n",
              kBindings, static_cast<double>(all_back - up_at) / 1000, kRate, worst);
}

// 503, 505 and 408 answers count as unanswered; other codes (486, 400…) as up.
TEST_F(KeepaliveTest, ServiceUnavailableCountsAsUnanswered) {
  start(config(1, 100, " up-interval 5\n down-interval 5\n retry 3\n"));
  run(20000, answering(503));
  EXPECT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::down));
  EXPECT_GE(rc().options_failed.get(), 3u);
  EXPECT_EQ(rc().options_answered.get(), 0u);
  EXPECT_EQ(rc().keepalive_last_code.get(), 503u);
  run(6000, answering(486));
  EXPECT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::up));
  EXPECT_EQ(rc().keepalive_last_code.get(), 486u);
  for (int code : {505, 408}) {
    SCOPED_TRACE(code);
    run(20000, answering(code));
    EXPECT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::down));
    run(6000, answering(400));
    EXPECT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::up));
  }
}

// A worker that does not ping the registrar follows the snapshot: the control plane publishes
// the keepalive worker's verdict, and this worker holds and releases its bindings by it.
TEST_F(KeepaliveTest, OtherWorkersFollowThePublishedVerdict) {
  constexpr int kBindings = 40;
  const std::string cfg = config(kBindings, 20, " up-interval 5\n");
  start(cfg, /*worker=*/1, /*workers=*/2);  // registrar 1's keepalive worker is worker 0
  const std::vector<Out> first = run(5000, answering(200));
  EXPECT_EQ(count(first, "OPTIONS"), 0u);  // not this worker's job
  const std::uint32_t mine = engine_->registered_count(now_);
  ASSERT_GT(mine, 0u);
  builder_->set_keepalive_down(0, true);
  rebuild(cfg);
  EXPECT_EQ(run(70000, answering(200)).size(), 0u);  // refreshes held; registrations lapse
  EXPECT_EQ(engine_->registered_count(now_), 0u);
  EXPECT_EQ(rows_in(BindingState::held), mine);
  builder_->set_keepalive_down(0, false);
  rebuild(cfg);
  run(10000, answering(200));
  EXPECT_EQ(engine_->registered_count(now_), mine);
}

// An ICMP unreachable quoting the OPTIONS in flight ends it at once as a miss (503), without
// waiting for Timer F; one quoting anything else (a forged branch) changes nothing.
TEST_F(KeepaliveTest, IcmpUnreachableQuotingTheOptionsIsAMiss) {
  start(config(1, 100, " up-interval 30\n retry 1\n"));
  const std::vector<Out> first = run(1);
  const auto it = std::find_if(first.begin(), first.end(), [](const Out& x) { return x.method == "OPTIONS"; });
  ASSERT_NE(it, first.end());
  sockaddr_storage dst{};
  std::memcpy(&dst, &loopback_addresses()[0]->addr, loopback_addresses()[0]->addr_len);
  std::string forged = it->text;
  forged.replace(forged.find("z9hG4bKrf") + 40, 4, "0000");
  EXPECT_FALSE(engine_->on_unreachable(pin(), dst, forged.substr(0, 300), now_));
  EXPECT_TRUE(engine_->on_unreachable(pin(), dst, std::string_view(it->text).substr(0, 300), now_));
  run(1);
  EXPECT_EQ(rc().options_timed_out.get(), 1u);
  EXPECT_EQ(rc().keepalive_last_code.get(), 503u);
  EXPECT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::down));
}

// Shutdown while the registrar is down: its unregistrations could not be answered; they are
// dropped (the bindings expire there) and shutdown does not wait for them.
TEST_F(KeepaliveTest, ShutdownDoesNotWaitForADownRegistrar) {
  start(config(20, 100, " up-interval 5\n down-interval 5\n retry 1\n", " timers register 100\n"));
  run(2000, answering(200));
  ASSERT_EQ(engine_->registered_count(now_), 20u);
  run(15000);  // silent: down
  ASSERT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::down));
  engine_->begin_shutdown(pin(), now_);
  const std::vector<Out> out = run(100);
  EXPECT_EQ(count(out, "REGISTER"), 0u);
  EXPECT_TRUE(engine_->shutdown_done());
}

// A profile removed from the registrar: the keepalive stops and nothing is held any more.
TEST_F(KeepaliveTest, RemovingTheProfileReleasesTheRegistrar) {
  start(config(10, 100, " up-interval 5\n down-interval 5\n retry 1\n", " timers register 100\n"));
  run(2000, answering(200));
  run(15000);  // silent: down
  ASSERT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::down));
  std::string cfg = cfg_;
  cfg.replace(cfg.find(" options-keepalive profile 7"), std::string(" options-keepalive profile 7").size(), "");
  rebuild(cfg);
  EXPECT_EQ(rc().keepalive_state.get(), static_cast<std::uint64_t>(KeepaliveState::none));
  const std::vector<Out> out = run(5000, answering(200));
  EXPECT_EQ(count(out, "OPTIONS"), 0u);
  EXPECT_EQ(engine_->registered_count(now_), 10u);
}

}  // namespace
}  // namespace regfront::reg
