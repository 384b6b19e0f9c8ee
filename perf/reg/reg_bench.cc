// Benchmarks of the registration data plane and the snapshot builder. Small and realistic:
// each measures one thing a worker or the control plane does at scale.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "regfront/common/clock.h"
#include "regfront/config/model.h"
#include "regfront/reg/engine.h"
#include "regfront/reg/request.h"
#include "regfront/reg/timer_wheel.h"
#include "regfront/reg/trace.h"
#include "regfront/sip/message.h"
#include "regfront/snapshot/builder.h"

namespace {

using namespace regfront;

// As a worker loop does: advance() again while the engine has work due now (paced starts leave
// kStartsPerAdvance per call, so the worker can answer in between).
void advance_all(reg::Engine& eng, const reg::SnapshotPin& pin, std::uint64_t now) {
  do {
    eng.advance(pin, now);
  } while (eng.next_deadline_ms(pin) <= now);
}

// ---- build_register with Authorization (qop=auth, opaque): every refresh of a challenged
// registrar sends one ----
void BM_BuildAuthenticatedRegister(benchmark::State& state) {
  reg::AuthorizationFields a;
  a.username = "4085550100";
  a.realm = "sip.provider-a.example";
  a.nonce = "5f1c2a9e0b7d4c3a8e6f1d2c3b4a5968";
  a.uri = "sip:sip.provider-a.example";
  a.response = "0123456789abcdef0123456789abcdef";
  a.qop = auth::Qop::auth;
  a.cnonce = "0a1b2c3d4e5f6071";
  a.nc = "00000001";
  a.opaque = "b7e1";
  a.opaque_present = true;
  reg::RegisterRequest r;
  r.request_uri = "sip:sip.provider-a.example";
  r.domain = "sip.provider-a.example";
  r.via_host = "203.0.113.7:5060";
  r.contact_host = "203.0.113.7:5060";
  r.number = "+14085550100";
  r.branch = "z9hG4bKrf00000001000000020123456789abcdef";
  r.call_id = "0011223344556677-00000001-00";
  r.from_tag = "a1b2c3d4e5f6";
  r.cseq = 2;
  r.user_agent = "regfront/0.1";
  r.auth = &a;
  char buf[2048];
  std::size_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    n = reg::build_register(r, buf, sizeof buf);
    benchmark::DoNotOptimize(buf);
  }
  state.counters["bytes"] = static_cast<double>(n);
}
BENCHMARK(BM_BuildAuthenticatedRegister);

// ---- the response path of a challenged registration: on_datagram(401) → authenticated
// REGISTER queued, then on_datagram(200) → registered. One iteration = one registration
// (two responses). ----

snapshot::RegistrarAddresses bench_addresses() {
  snapshot::RegistrarAddresses a;
  snapshot::ResolvedRegistrar r;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(5060);
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  std::memcpy(&r.addr, &sin, sizeof sin);
  r.addr_len = sizeof sin;
  r.local_ip = "127.0.0.1";
  a[0] = r;
  return a;
}

std::string hdr(const sip::Message& m, sip::HeaderId id) {
  const sip::Header* h = m.first(id);
  return h ? std::string(h->value) : std::string();
}

// A registrar's response to the request in `item`.
std::string response_to(const reg::TxQueue::Item& item, int code, const std::string& extra) {
  const std::string_view text(item.data, item.len);
  sip::Header hs[sip::kMaxHeaders];
  sip::Message m;
  if (sip::parse(text, m, hs) != sip::ParseStatus::ok) std::abort();
  std::string r = "SIP/2.0 " + std::to_string(code) + (code == 200 ? " OK" : " Unauthorized") + "\r\n";
  r += "Via: " + hdr(m, sip::HeaderId::via) + ";received=127.0.0.1\r\n";
  r += "From: " + hdr(m, sip::HeaderId::from) + "\r\n";
  r += "To: " + hdr(m, sip::HeaderId::to) + ";tag=9fx2\r\n";
  r += "Call-ID: " + hdr(m, sip::HeaderId::call_id) + "\r\n";
  r += "CSeq: " + hdr(m, sip::HeaderId::cseq) + "\r\n";
  if (code == 200) r += "Contact: " + hdr(m, sip::HeaderId::contact) + ";expires=3600\r\n";
  r += extra;
  r += "Server: kamailio (5.6)\r\nContent-Length: 0\r\n\r\n";
  return r;
}

struct ChallengeFixture {
  static constexpr std::uint32_t kBindings = 4096;
  std::unique_ptr<reg::Snapshot> snap;
  reg::EngineOptions opts;
  std::vector<std::string> challenges, oks;

  explicit ChallengeFixture(bool sha256) {
    config::Config cfg;
    for (std::uint32_t i = 0; i < kBindings; ++i) {
      config::DialPeer dp;
      dp.tag = i + 1;
      dp.destination_pattern = std::to_string(4085550000ull + i);
      cfg.dial_peers.emplace(dp.tag, dp);
    }
    cfg.sip_ua.authentication.push_back({"trunk", "pw", "sip.provider-a.example"});
    config::Registrar r;
    r.index = 1;
    r.address.host = "sip.provider-a.example";
    cfg.sip_ua.registrars.emplace(1, r);
    cfg.sip_ua.registration_rate = 1000000;
    snapshot::Builder b(1);
    snap = b.build(cfg, bench_addresses(), 5060, {}, nullptr, 0, {"sip.provider-a.example"});  // a SHA realm
    opts.capacity = kBindings;
    opts.max_inflight = kBindings;
    opts.key = SipKey{7, 8};
    opts.ticks = &monotonic_ns;  // answers timed as a socket worker times them (two clock reads)
    // Probe run: identifiers are deterministic (key, slot, generation, CSeq), so the responses
    // crafted here match every fresh engine built the same way.
    const std::string challenge =
        sha256 ? "WWW-Authenticate: Digest realm=\"sip.provider-a.example\", nonce=\"6a1f0e9d8c7b6a59\", "
                 "algorithm=SHA-256, qop=\"auth\", opaque=\"b7e1\"\r\n"
               : "WWW-Authenticate: Digest realm=\"sip.provider-a.example\", nonce=\"6a1f0e9d8c7b6a59\", "
                 "qop=\"auth\"\r\n";
    reg::TxQueue tx(kBindings);
    auto eng = start(tx);
    if (tx.size() != kBindings) std::abort();
    for (std::size_t i = 0; i < tx.size(); ++i) challenges.push_back(response_to(tx[i], 401, challenge));
    tx.clear();
    for (std::uint32_t i = 0; i < kBindings; ++i) {
      eng->on_datagram(pin(), challenges[i], 2000);
      if (tx.size() != 1) std::abort();
      oks.push_back(response_to(tx[0], 200, ""));
      tx.clear();
    }
  }
  std::unique_ptr<reg::Engine> start(reg::TxQueue& tx) const {
    auto eng = std::make_unique<reg::Engine>(opts, tx);
    eng->adopt(pin(), 1000);
    advance_all(*eng, pin(), 2000);
    return eng;
  }
  reg::OwnedSnapshotPin pin() const { return reg::OwnedSnapshotPin(snap.get()); }
};

void BM_ChallengedRegistration(benchmark::State& state) {
  static ChallengeFixture md5(false), sha(true);
  const ChallengeFixture& f = state.range(0) ? sha : md5;
  reg::TxQueue tx(ChallengeFixture::kBindings);
  std::unique_ptr<reg::Engine> eng = f.start(tx);
  tx.clear();
  std::uint32_t i = 0;
  for (auto _ : state) {
    if (i == ChallengeFixture::kBindings) {
      state.PauseTiming();
      eng.reset();
      eng = f.start(tx);
      tx.clear();
      i = 0;
      state.ResumeTiming();
    }
    eng->on_datagram(f.pin(), f.challenges[i], 2000);
    eng->on_datagram(f.pin(), f.oks[i], 2000);
    ++i;
    if (i % 1024 == 0) tx.clear();  // the I/O backend would have sent them
  }
  if (eng->counters().registrar[0].accepted.get() == 0) state.SkipWithError("nothing registered");
  state.counters["registrations_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["ns_per_response"] = benchmark::Counter(2.0 * static_cast<double>(state.iterations()),
                                                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(state.range(0) ? "SHA-256 qop=auth" : "MD5 qop=auth");
}
BENCHMARK(BM_ChallengedRegistration)->Arg(0)->Arg(1);

// ---- the same response path with debug ccsip (reg::Tracer): Arg 0 no tracer, 1 a tracer and
// no debugging (the one relaxed load per packet), 2 `debug ccsip messages` and `events` for one
// number of the 4096 (its REGISTERs, 401s, 200s and state changes recorded, the rest filtered
// out), 3 for every number (every packet formatted into the ring until the worker's rate bound
// drops the rest). The ring is drained every 256 registrations outside the timing, as the
// control thread would. ----
void BM_ChallengedRegistrationDebug(benchmark::State& state) {
  static ChallengeFixture f(false);
  auto tracer = std::make_unique<reg::Tracer>();
  reg::TraceFilter filter;
  if (state.range(0) >= 2) filter.kinds = reg::kTraceMessages | reg::kTraceEvents;
  if (state.range(0) == 2) filter.add_number("4085550007");
  tracer->set_filter(filter);
  reg::EngineOptions opts = f.opts;
  opts.tracer = state.range(0) == 0 ? nullptr : tracer.get();
  reg::TxQueue tx(ChallengeFixture::kBindings);
  const reg::OwnedSnapshotPin pin(f.snap.get());
  auto start = [&] {
    auto eng = std::make_unique<reg::Engine>(opts, tx);
    eng->adopt(pin, 1000);
    advance_all(*eng, pin, 2000);
    tx.clear();
    return eng;
  };
  std::unique_ptr<reg::Engine> eng = start();
  reg::TraceRecord rec;
  std::string text;
  std::uint64_t records = 0;
  std::uint32_t i = 0;
  for (auto _ : state) {
    if (i == ChallengeFixture::kBindings || i % 256 == 0) {
      state.PauseTiming();
      if (i == ChallengeFixture::kBindings) {
        eng.reset();
        eng = start();
        i = 0;
      }
      while (tracer->pop(rec, text)) ++records;
      state.ResumeTiming();
    }
    eng->on_datagram(pin, f.challenges[i], 2000);
    eng->on_datagram(pin, f.oks[i], 2000);
    ++i;
    if (i % 1024 == 0) tx.clear();
  }
  while (tracer->pop(rec, text)) ++records;
  if (state.range(0) == 2 && records == 0) state.SkipWithError("nothing traced");
  state.counters["registrations_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["records"] = static_cast<double>(records);
  state.counters["lost"] = static_cast<double>(tracer->lost_total());
  static constexpr const char* kLabels[] = {"no tracer", "tracer, debug off", "debug on, one number",
                                            "debug on, every number"};
  state.SetLabel(kLabels[state.range(0)]);
}
BENCHMARK(BM_ChallengedRegistrationDebug)->DenseRange(0, 3);

// ---- a refresh cycle of 4096 challenged bindings: the refresh timers fire, the paced starts
// build each REGISTER with credentials for the registrar's cached nonce (Arg 1: preemptive,
// 2 datagrams per refresh) or without (Arg 0: the registrar will challenge it, 4 datagrams
// per refresh, the second half of which BM_ChallengedRegistration measures), then each 200 is
// handled. One iteration = one refresh. ----
void BM_RefreshCycle(benchmark::State& state) {
  static ChallengeFixture f(false);
  reg::EngineOptions opts = f.opts;
  opts.preemptive_auth = state.range(0) != 0;
  reg::TxQueue tx(ChallengeFixture::kBindings);
  auto eng = std::make_unique<reg::Engine>(opts, tx);
  const reg::OwnedSnapshotPin pin(f.snap.get());
  eng->adopt(pin, 1000);
  advance_all(*eng, pin, 2000);
  tx.clear();
  for (std::uint32_t i = 0; i < ChallengeFixture::kBindings; ++i) {
    eng->on_datagram(pin, f.challenges[i], 2000);
    eng->on_datagram(pin, f.oks[i], 2000);
  }
  tx.clear();
  std::uint64_t now = 2000;
  std::vector<std::string> oks;
  std::uint64_t refreshes = 0;
  for (auto _ : state) {
    now += 2881000;  // past every refresh point (80 % of 3600 s)
    advance_all(*eng, pin, now);
    const std::size_t n = tx.size();
    state.PauseTiming();
    oks.clear();
    for (std::size_t i = 0; i < n; ++i) oks.push_back(response_to(tx[i], 200, ""));
    tx.clear();
    state.ResumeTiming();
    for (const std::string& ok : oks) eng->on_datagram(pin, ok, now);
    refreshes += n;
  }
  if (refreshes != static_cast<std::uint64_t>(state.iterations()) * ChallengeFixture::kBindings) {
    state.SkipWithError("not every binding refreshed");
  }
  state.counters["ns_per_refresh"] = benchmark::Counter(static_cast<double>(refreshes),
                                                        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(state.range(0) ? "preemptive MD5 qop=auth" : "plain (to be challenged)");
}
BENCHMARK(BM_RefreshCycle)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// ---- timer wheel with 1M timers, due over the next hour (refresh timers) ----
constexpr std::uint32_t kTimers = 1u << 20;

std::vector<std::uint64_t> random_dues(std::uint64_t now) {
  std::mt19937_64 rng(1);
  std::vector<std::uint64_t> d(kTimers);
  for (auto& v : d) v = now + 1 + rng() % 3600000;
  return d;
}

void BM_WheelInsert(benchmark::State& state) {
  const auto dues = random_dues(1000);
  for (auto _ : state) {
    state.PauseTiming();
    auto w = std::make_unique<reg::TimerWheel>(kTimers, 1000);
    state.ResumeTiming();
    for (std::uint32_t i = 0; i < kTimers; ++i) w->schedule(i, dues[i]);
    benchmark::DoNotOptimize(w->size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kTimers);
}
BENCHMARK(BM_WheelInsert)->Unit(benchmark::kMillisecond);

void BM_WheelCancel(benchmark::State& state) {
  const auto dues = random_dues(1000);
  for (auto _ : state) {
    state.PauseTiming();
    auto w = std::make_unique<reg::TimerWheel>(kTimers, 1000);
    for (std::uint32_t i = 0; i < kTimers; ++i) w->schedule(i, dues[i]);
    state.ResumeTiming();
    for (std::uint32_t i = 0; i < kTimers; ++i) w->cancel(i);
    benchmark::DoNotOptimize(w->size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kTimers);
}
BENCHMARK(BM_WheelCancel)->Unit(benchmark::kMillisecond);

// Expire all 1M by advancing through the hour one millisecond at a time, as a worker's poll
// loop does (3.6M advance calls, cascades included).
void BM_WheelExpire(benchmark::State& state) {
  const auto dues = random_dues(1000);
  std::uint64_t fired = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto w = std::make_unique<reg::TimerWheel>(kTimers, 1000);
    for (std::uint32_t i = 0; i < kTimers; ++i) w->schedule(i, dues[i]);
    state.ResumeTiming();
    for (std::uint64_t t = 1001; t <= 1000 + 3600000; ++t) w->advance(t, [&](std::uint32_t) { ++fired; });
    benchmark::DoNotOptimize(fired);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kTimers);
}
BENCHMARK(BM_WheelExpire)->Unit(benchmark::kMillisecond);

// ---- snapshot::Builder: 100k endpoints (one `credentials` entry each) × 3 registrars ----
config::Config big_config(int registrars = 3, int realms_per_number = 1) {
  config::Config cfg;
  for (std::uint32_t i = 0; i < 100000; ++i) {
    const std::string number = std::to_string(14085000000ull + i);
    cfg.sip_ua.credentials.push_back({number, number, "pw" + number, "sip.provider-a.example"});
    for (int r = 2; r <= realms_per_number; ++r) {
      cfg.sip_ua.credentials.push_back({number, number, "pw" + number, "realm" + std::to_string(r) + ".example"});
    }
  }
  cfg.sip_ua.authentication.push_back({"trunk-b", "pw-b", "sip.provider-b.example"});
  cfg.sip_ua.authentication.push_back({"trunk-c", "pw-c", "sip.provider-c.example"});
  for (int i = 1; i <= registrars; ++i) {
    config::Registrar r;
    r.index = i;
    r.address.host = i <= 3 ? std::string("sip.provider-") + char('a' + i - 1) + ".example"
                            : "sip" + std::to_string(i) + ".provider-a.example";
    cfg.sip_ua.registrars.emplace(i, r);
  }
  return cfg;
}

void BM_SnapshotBuild(benchmark::State& state) {
  static const config::Config cfg = big_config();
  snapshot::RegistrarAddresses addrs = bench_addresses();
  addrs[1] = addrs[0];
  addrs[2] = addrs[0];
  const bool rebuild = state.range(0) != 0;
  snapshot::Builder persistent(4);
  // A rebuild is given the snapshot the workers run, as the daemon does: HA1s are copied from
  // it (the builder keeps only their fingerprints).
  std::unique_ptr<reg::Snapshot> previous;
  if (rebuild) previous = persistent.build(cfg, addrs, 5060);
  for (auto _ : state) {
    if (rebuild) {
      auto s = persistent.build(cfg, addrs, 5060, {}, previous.get());
      benchmark::DoNotOptimize(s.get());
      previous = std::move(s);
    } else {
      snapshot::Builder b(4);
      auto s = b.build(cfg, addrs, 5060);
      benchmark::DoNotOptimize(s.get());
    }
  }
  state.SetLabel(rebuild ? "rebuild (slots kept)" : "first build");
}
BENCHMARK(BM_SnapshotBuild)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// One live command at storm scale: 100k endpoints × 6 registrars = 600k bindings, and each
// iteration is the rebuild after one endpoint's password changed (what the daemon does after
// `credentials number … password …`), given the snapshot the workers run. Args: credentials per
// number (1, or 6 as in the storm scenarios: 600k credential lines), and the kind of command.
void BM_SnapshotCommand600k(benchmark::State& state) {
  config::Config cfg = big_config(6, static_cast<int>(state.range(0)));
  snapshot::RegistrarAddresses addrs = bench_addresses();
  for (auto& a : addrs) a = addrs[0];
  snapshot::Builder persistent(2);
  std::unique_ptr<reg::Snapshot> previous = persistent.build(cfg, addrs, 5060);
  config::Credential& changed = cfg.sip_ua.credentials[50000];
  // Arg 1 of the pair: the command adds and removes a sip-ua authentication instead (its
  // credential comes first: every other one moves by one index).
  const bool authentication = state.range(1) != 0;
  bool flip = false;
  for (auto _ : state) {
    flip = !flip;
    if (authentication && flip) cfg.sip_ua.authentication.push_back({"extra", "x", "extra.example"});
    else if (authentication) cfg.sip_ua.authentication.pop_back();
    else changed.password = flip ? "other" : "pw";
    auto s = persistent.build(cfg, addrs, 5060, {}, previous.get());
    benchmark::DoNotOptimize(s.get());
    previous = std::move(s);
  }
  state.counters["bindings"] = 600000;
  state.counters["credentials"] = static_cast<double>(cfg.sip_ua.credentials.size());
}
BENCHMARK(BM_SnapshotCommand600k)->Args({1, 0})->Args({6, 0})->Args({6, 1})->Unit(benchmark::kMillisecond);

}  // namespace
