// libFuzzer target for the worker's input path: datagrams from a registrar's address into
// Engine::on_datagram, on a snapshot built from a real configuration by the real builder, with
// the clock and the engine's timers running between them.
//
// The input is a sequence of datagrams separated by "\n%%\n". Before it is delivered, a datagram
// has the words $VIA $FROM $TO $CALLID $CSEQ $CONTACT replaced by the header values of the last
// REGISTER the engine sent for a binding ("#D\n" first picks which), so that mutations reach
// past the branch MAC into the challenge, digest, Retry-After, 423 and 2xx handling instead of
// dying as `forged`; $REQUEST is that whole REGISTER. A datagram that starts with "#UR\n" is
// delivered instead as the quote of an ICMP unreachable naming registrar slot R.
// Oracles beside "no crash, no sanitizer report": every datagram the engine queues parses as a
// SIP REGISTER; the engine's own counters see every datagram it was given.
// Replayed by ctest through fuzz_replay_engine_datagram.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/config/commands.h"
#include "regfront/reg/engine.h"
#include "regfront/reg/snapshot_pin.h"
#include "regfront/sip/message.h"
#include "regfront/snapshot/builder.h"

namespace {

using namespace regfront;

constexpr std::size_t kMaxInput = 1 << 16;
constexpr int kMaxDatagrams = 64;
constexpr std::string_view kSeparator = "\n%%\n";

// Registrar 1 with a realm-scoped credential, registrar 2 answered by a realm-less one (realm
// learning), registrar 3 with a per-number credential; SHA realms known for registrar 1.
constexpr std::string_view kConfig = R"(dial-peer voice 1 pots
 destination-pattern 4085550100
 authentication username alice password 0 secret realm realm-a.ux
 authentication username any password 0 anything
dial-peer voice 2 pots
 destination-pattern 4085550101
sip-ua
 registrar 1 ipv4:127.0.0.1:6000 expires 600
 registrar 2 ipv4:127.0.0.1:6001 expires 3600
 registrar 3 ipv4:127.0.0.1:6002 expires 120
 credentials number 4085550101 username bob password 0 pw realm realm-c.ux
)";

snapshot::RegistrarAddresses addresses() {
  snapshot::RegistrarAddresses a;
  for (int i = 0; i < reg::kRegistrarSlots; ++i) {
    snapshot::ResolvedRegistrar r;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<std::uint16_t>(6000 + i));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::memcpy(&r.addr, &sin, sizeof sin);
    r.addr_len = sizeof sin;
    r.local_ip = "127.0.0.1";
    a[static_cast<std::size_t>(i)] = r;
  }
  return a;
}

const reg::Snapshot& the_snapshot() {
  static const std::unique_ptr<reg::Snapshot> s = [] {
    config::Config cfg;
    if (const config::LoadResult r = config::load_startup_config(kConfig, cfg); !r.ok()) {
      std::fprintf(stderr, "%s\n", r.errors.front().format("kConfig").c_str());
      __builtin_trap();
    }
    snapshot::Builder b(1);
    return b.build(cfg, addresses(), 5060, {"learned.ux"}, nullptr, 0, {"realm-a.ux"});
  }();
  return *s;
}

// The header values of a REGISTER the engine queued (the $WORDS' replacements).
struct Request {
  std::string via, from, to, call_id, cseq, contact, text;
};
// The latest REGISTERs, one per Call-ID (i.e. per binding), in order of first appearance; a
// datagram that starts with "#D\n" (D a digit) answers entry D modulo their number, any other
// the last one sent.
struct LastRequest {
  std::vector<Request> by_binding;
  std::size_t last = 0;
  void add(Request r) {
    for (std::size_t i = 0; i < by_binding.size(); ++i) {
      if (by_binding[i].call_id == r.call_id) {
        by_binding[i] = std::move(r);
        last = i;
        return;
      }
    }
    if (by_binding.size() == 64) return;
    by_binding.push_back(std::move(r));
    last = by_binding.size() - 1;
  }
  Request pick(std::string& dg) const {
    if (by_binding.empty()) return {};
    if (dg.size() >= 3 && dg[0] == '#' && dg[1] >= '0' && dg[1] <= '9' && dg[2] == '\n') {
      const std::size_t k = std::size_t(dg[1] - '0') % by_binding.size();
      dg.erase(0, 3);
      return by_binding[k];
    }
    return by_binding[last];
  }
};

void take(reg::TxQueue& tx, LastRequest& last) {
  for (std::size_t i = 0; i < tx.size(); ++i) {
    const std::string_view text(tx[i].data, tx[i].len);
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    if (sip::parse(text, m, hs) != sip::ParseStatus::ok || !m.is_request || m.method != "REGISTER") {
      __builtin_trap();  // the engine built something that is not a REGISTER
    }
    auto value = [&](sip::HeaderId id) {
      const sip::Header* h = m.first(id);
      return h ? std::string(h->value) : std::string();
    };
    last.add({value(sip::HeaderId::via), value(sip::HeaderId::from), value(sip::HeaderId::to),
              value(sip::HeaderId::call_id), value(sip::HeaderId::cseq), value(sip::HeaderId::contact),
              std::string(text)});
  }
  tx.clear();
}

void replace_all(std::string& s, std::string_view word, const std::string& by) {
  for (std::size_t at = s.find(word); at != std::string::npos; at = s.find(word, at + by.size())) {
    s.replace(at, word.size(), by);
  }
}

// Runs the clock `ms` milliseconds as an idle worker loop would: it sleeps until the engine's
// next deadline, advances, sends what was queued (at most kMaxWakeups wake-ups).
constexpr int kMaxWakeups = 512;
void run(reg::Engine& e, const reg::SnapshotPin& pin, reg::TxQueue& tx, std::uint64_t& now, std::uint64_t ms,
         LastRequest& last) {
  const std::uint64_t end = now + ms;
  for (int wakeups = 0; now < end && wakeups < kMaxWakeups; ++wakeups) {
    now = std::min(end, std::max(now + 1, e.next_deadline_ms(pin)));
    e.advance(pin, now);
    take(tx, last);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const reg::OwnedSnapshotPin pin(&the_snapshot());

  reg::TxQueue tx(256);
  reg::EngineOptions opts;
  opts.capacity = 64;
  opts.max_inflight = 64;
  opts.key = SipKey{0x0123456789abcdefull, 0xfedcba9876543210ull};
  reg::Engine engine(opts, tx);
  std::uint64_t now = 1'000'000;
  LastRequest last;
  engine.adopt(pin, now);
  run(engine, pin, tx, now, 50, last);  // the first REGISTERs leave

  std::uint64_t given = 0, unreachables = 0;
  std::size_t pos = 0;
  for (int n = 0; pos <= input.size() && n < kMaxDatagrams; ++n) {
    std::size_t end = input.find(kSeparator, pos);
    if (end == std::string_view::npos) end = input.size();
    std::string dg(input.substr(pos, end - pos));
    pos = end + kSeparator.size();
    const Request r = last.pick(dg);
    replace_all(dg, "$VIA", r.via);
    replace_all(dg, "$FROM", r.from);
    replace_all(dg, "$TO", r.to);
    replace_all(dg, "$CALLID", r.call_id);
    replace_all(dg, "$CSEQ", r.cseq);
    replace_all(dg, "$CONTACT", r.contact);
    replace_all(dg, "$REQUEST", r.text);
    // "#UR\n": the rest is the quoted payload of an ICMP unreachable whose quoted destination
    // is registrar slot R (forged or real: only a quote of a request in flight may count).
    if (dg.size() >= 4 && dg[0] == '#' && dg[1] == 'U' && dg[2] >= '0' && dg[2] <= '9' && dg[3] == '\n') {
      static const snapshot::RegistrarAddresses addrs = addresses();
      const sockaddr_storage& dst = addrs[std::size_t(dg[2] - '0') % reg::kRegistrarSlots]->addr;
      (void)engine.on_unreachable(pin, dst, std::string_view(dg).substr(4), now);
      ++unreachables;
    } else {
      engine.on_datagram(pin, dg, now);
      ++given;
    }
    take(tx, last);
    std::string realm;
    std::uint8_t slot = 0;
    for (int k = 0; k < 16 && engine.pop_unknown_realm(realm, slot); ++k) {
      if (slot >= reg::kRegistrarSlots) __builtin_trap();
    }
    for (int k = 0; k < 16 && engine.pop_used_realm(realm, slot); ++k) {
      if (slot >= reg::kRegistrarSlots) __builtin_trap();
    }
    run(engine, pin, tx, now, 5, last);
  }
  const reg::WorkerCounters& counted = engine.counters();
  if (counted.rx_datagrams.get() != given) __builtin_trap();
  if (counted.icmp_accepted.get() + counted.icmp_ignored.get() != unreachables) __builtin_trap();
  // Long enough for retransmissions (Timer E), Timer F, backoffs and short refreshes to fire on
  // what the input did.
  run(engine, pin, tx, now, 40000, last);
  // REGFRONT_FUZZ_VERBOSE=1: how far the input got (for checking that seeds pass the MAC).
  if (std::getenv("REGFRONT_FUZZ_VERBOSE") != nullptr) {
    const reg::WorkerCounters& c = engine.counters();
    for (std::size_t i = 0; i < reg::kWorkerCounterCount; ++i) {
      if (const std::uint64_t v = reg::worker_counter(c, i)) std::fprintf(stderr, " %s=%llu", reg::kWorkerCounterInfo[i].name, (unsigned long long)v);
    }
    for (int r = 0; r < reg::kRegistrarSlots; ++r) {
      for (std::size_t i = 0; i < reg::kRegistrarCounterCount; ++i) {
        if (const std::uint64_t v = reg::registrar_counter(c.registrar[r], i)) {
          std::fprintf(stderr, " r%d.%s=%llu", r + 1, reg::kRegistrarCounterInfo[i].name, (unsigned long long)v);
        }
      }
    }
    std::fprintf(stderr, "\n");
  }
  return 0;
}
