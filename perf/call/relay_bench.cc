// The call relay (regfront/call/relay.h) in-process: one relayed outbound call per iteration,
// as a worker sees it, without the I/O.
//
//   core  → INVITE                       relay → 100 (core), INVITE (provider)
//   prov. → 407 Proxy-Authenticate        relay → ACK, INVITE with credentials, CSeq + 1
//   prov. → 180, 200 (SDP, Record-Route)  relay → 180, 200 (core's CSeq)
//   core  → ACK, BYE (Route set)          relay → ACK, BYE (CSeq + offset) to the provider
//   prov. → 200 (BYE)                     relay → 200 (core's CSeq)
//
// 7 datagrams in and 9 out per challenged call; 6 in and 7 out without a challenge (Arg 0).
// Each datagram is parsed (sip::parse, as the worker does before handing it over) and given to
// the relay; what it queues is dropped at once (the worker would send it). Challenges: MD5
// and SHA-256, both qop=auth, a fresh nonce per call.
//
// Messages are built once (like reg_bench's ChallengeFixture): a probe relay runs the calls
// first and the provider's responses are written from the requests it sent; a fresh relay
// built with the same options (key, seed) sends the same branches, so the responses match it.
// 2,048 calls per relay (the daemon's default --max-calls): a finished call keeps its slot while
// it absorbs retransmissions (32 s), so the benchmark builds a new relay every 2,048 calls,
// outside the timing. Each call uses another slot, another calling number (1,024 endpoints)
// and another called number, as at a carrier.
//
// The probe also checks the relay's work (the authenticated INVITE at the core's CSeq + 1, the
// ACK and BYE raised by the offset, the responses back at the core's own CSeq): a relay that
// got it wrong makes the benchmark abort instead of timing it.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/call/relay.h"
#include "regfront/config/commands.h"
#include "regfront/sip/builder.h"
#include "regfront/sip/message.h"
#include "regfront/snapshot/builder.h"

namespace {

using namespace regfront;

constexpr std::uint32_t kCalls = 2048;      // calls per relay (its slots)
constexpr std::uint32_t kEndpoints = 1024;  // calling numbers
constexpr std::string_view kRealm = "sip.provider-a.example";
constexpr const char* kProviderIp = "203.0.113.5";
constexpr const char* kCoreIp = "192.0.2.10";
constexpr std::uint16_t kSipPort = 5060;

enum class Challenge { none, md5, sha256 };

sockaddr_storage addr(const char* ip, std::uint16_t port) {
  sockaddr_storage ss{};
  auto& s = reinterpret_cast<sockaddr_in&>(ss);
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  inet_pton(AF_INET, ip, &s.sin_addr);
  return ss;
}

std::string calling_number(std::uint32_t i) { return std::to_string(4085000000ull + i % kEndpoints); }
std::string called_number(std::uint32_t i) { return std::to_string(2125000000ull + (i * 7919u) % 1000000u); }

// The startup-config: one registrar (the provider), a credential per calling number, the dial
// peer that sends everything from the core to the registrars, the core trusted.
std::string startup_config() {
  std::string c = "sip-ua\n registrar 1 ipv4:203.0.113.5:5060 expires 3600\n";
  for (std::uint32_t i = 0; i < kEndpoints; ++i) {
    const std::string n = calling_number(i);
    c += " credentials number " + n + " username " + n + " password 0 pw-" + n + " realm " +
         std::string(kRealm) + "\n";
  }
  c += "dial-peer voice 100 voip\n destination-pattern .T\n session target registrar\n"
       "voice service voip\n ip address trusted list\n  ipv4 192.0.2.10 255.255.255.255\n";
  return c;
}

std::string header(const sip::Message& m, sip::HeaderId id) {
  const sip::Header* h = m.first(id);
  return h ? std::string(h->value) : std::string();
}

// Every header line `name: value` of `id` in `m`, in order.
std::string lines_of(const sip::Message& m, sip::HeaderId id) {
  std::string out;
  for (std::uint16_t i = 0; i < m.header_count; ++i) {
    if (m.headers[i].id != id) continue;
    out += std::string(m.headers[i].name) + ": " + std::string(m.headers[i].value) + "\r\n";
  }
  return out;
}

std::uint32_t cseq_of(const sip::Message& m) {
  sip::CSeq c;
  return sip::parse_cseq(header(m, sip::HeaderId::cseq), c) ? c.number : 0;
}

constexpr std::string_view kCoreSdp =
    "v=0\r\no=core 1001 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
    "m=audio 20000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n";
constexpr std::string_view kFarSdp =
    "v=0\r\no=far 2002 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.8\r\nt=0 0\r\n"
    "m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    "a=ptime:20\r\n";

// The core's requests of call i.
std::string core_invite(std::uint32_t i) {
  const std::string n = std::to_string(i), a = calling_number(i), b = called_number(i);
  return "INVITE sip:" + b + "@192.0.2.1:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-core-" + n + "-i;rport\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:" + a + "@192.0.2.10>;tag=core-" + n + "\r\n"
         "To: <sip:" + b + "@192.0.2.1>\r\nCall-ID: " + n + "-a81f77c2@192.0.2.10\r\nCSeq: 100 INVITE\r\n"
         "Contact: <sip:" + a + "@192.0.2.10:5060>\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE\r\n"
         "Supported: timer\r\nUser-Agent: core-sbc/4.2\r\nContent-Type: application/sdp\r\n"
         "Content-Length: " + std::to_string(kCoreSdp.size()) + "\r\n\r\n" + std::string(kCoreSdp);
}
// ACK (CSeq 100) or BYE (CSeq 101) along the route set of the 200.
std::string core_in_dialog(std::uint32_t i, bool bye) {
  const std::string n = std::to_string(i), a = calling_number(i), b = called_number(i);
  return std::string(bye ? "BYE" : "ACK") + " sip:" + b + "@198.51.100.7:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-core-" + n + (bye ? "-b" : "-a") + ";rport\r\n"
         "Route: <sip:192.0.2.1:5060;lr>, <sip:203.0.113.5:5060;lr>\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:" + a + "@192.0.2.10>;tag=core-" + n + "\r\n"
         "To: <sip:" + b + "@192.0.2.1>;tag=far-" + n + "\r\nCall-ID: " + n + "-a81f77c2@192.0.2.10\r\n"
         "CSeq: " + (bye ? "101 BYE" : "100 ACK") + "\r\nUser-Agent: core-sbc/4.2\r\nContent-Length: 0\r\n\r\n";
}

// The provider's (and, behind it, the far end's) response to a request the relay sent.
std::string provider_response(const sip::Message& req, int code, std::uint32_t i, Challenge ch) {
  const std::string n = std::to_string(i);
  std::string r = "SIP/2.0 " + std::to_string(code) + " ";
  r += code == 407 ? "Proxy Authentication Required" : code == 180 ? "Ringing" : "OK";
  r += "\r\n" + lines_of(req, sip::HeaderId::via);
  const bool invite = req.method == "INVITE";
  if (invite && code != 407) {
    // The provider's proxy record-routes too; the far end copies the set.
    r += "Record-Route: <sip:203.0.113.5:5060;lr>\r\n" + lines_of(req, sip::HeaderId::record_route);
  }
  r += lines_of(req, sip::HeaderId::from);
  std::string to = header(req, sip::HeaderId::to);
  if (sip::tag_of(to).empty()) to += code == 407 ? ";tag=prov-" + n : ";tag=far-" + n;
  r += "To: " + to + "\r\n" + lines_of(req, sip::HeaderId::call_id) + lines_of(req, sip::HeaderId::cseq);
  if (code == 407) {
    char nonce[40];
    std::snprintf(nonce, sizeof nonce, "%08x%08x5f1c2a9e0b7d4c3a", i * 2654435761u, i ^ 0x9e3779b9u);
    r += "Proxy-Authenticate: Digest realm=\"" + std::string(kRealm) + "\", nonce=\"" + nonce + "\", qop=\"auth\"";
    if (ch == Challenge::sha256) r += ", algorithm=SHA-256";
    r += "\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n";
    return r;
  }
  if (invite) {
    r += "Contact: <sip:" + called_number(i) + "@198.51.100.7:5060>\r\n"
         "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\nServer: far-end\r\n";
    if (code == 200) {
      return r + "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(kFarSdp.size()) +
             "\r\n\r\n" + std::string(kFarSdp);
    }
  }
  return r + "Content-Length: 0\r\n\r\n";
}

// One message for the relay: a request from the core or a response from the provider.
struct Input {
  std::string text;
  bool request;
};

// What a worker has: the snapshot, a pin, the TxQueue, the relay's options.
struct Rig {
  std::unique_ptr<reg::Snapshot> snap;
  call::RelayOptions opts;
  sockaddr_storage core = addr(kCoreIp, kSipPort);

  explicit Rig(bool sha) {
    config::Config cfg;
    if (!config::load_startup_config(startup_config(), cfg).ok()) std::abort();
    snapshot::RegistrarAddresses addrs;
    snapshot::ResolvedRegistrar r;
    r.addr = addr(kProviderIp, kSipPort);
    r.addr_len = sizeof(sockaddr_in);
    r.local_ip = "192.0.2.1";
    addrs[0] = r;
    snapshot::Builder b(1);
    std::vector<std::string> sha_realms;
    if (sha) sha_realms.emplace_back(kRealm);
    snap = b.build(cfg, addrs, kSipPort, {}, nullptr, 0, sha_realms);
    if (snap->calls.outbound == nullptr) std::abort();
    opts.key = SipKey{7, 8};
    opts.seed = 11;
    opts.max_calls = kCalls;
    opts.via_port = kSipPort;
    opts.listen_port = kSipPort;
  }
  reg::OwnedSnapshotPin pin() const { return reg::OwnedSnapshotPin(snap.get()); }
  std::unique_ptr<call::Relay> relay(reg::TxQueue& tx) const {
    auto r = std::make_unique<call::Relay>(
        opts, tx, call::Liveness{[](const void*, std::uint32_t, std::uint64_t) { return true; }, nullptr});
    r->adopt(pin(), 1'000'000);
    return r;
  }
  // One message to the relay, parsed as the worker does.
  void feed(call::Relay& relay, const reg::OwnedSnapshotPin& pin, const Input& in) const {
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    if (sip::parse(in.text, m, hs) != sip::ParseStatus::ok) std::abort();
    if (in.request) {
      relay.on_request(pin, m, core, sizeof(sockaddr_in), 1'000'000);
    } else {
      relay.on_response(pin, m, 1'000'000);
    }
  }
};

// The calls' messages, in the order the benchmark feeds them, written against a probe relay.
struct CallFixture {
  Rig rig;
  Challenge ch;
  std::vector<Input> inputs;
  std::size_t out_per_call = 0;

  explicit CallFixture(Challenge c) : rig(c == Challenge::sha256), ch(c) {
    struct Sent {
      std::string text;
      std::uint16_t port;
      std::string ip;
    };
    std::vector<Sent> sent;
    const auto drain = [](void* ctx, reg::TxQueue& q) {
      auto& v = *static_cast<std::vector<Sent>*>(ctx);
      for (std::size_t k = 0; k < q.size(); ++k) {
        const auto& sin = reinterpret_cast<const sockaddr_in&>(q[k].dst);
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip);
        v.push_back({std::string(q[k].data, q[k].len), ntohs(sin.sin_port), ip});
      }
      q.clear();
    };
    reg::TxQueue tx(256, drain, &sent);
    auto relay = rig.relay(tx);
    const auto pin = rig.pin();
    // Feeds one input and returns what the relay sent for it, parsed (views into `keep`).
    std::vector<std::string> keep;
    const auto step = [&](Input in, std::size_t expect) {
      inputs.push_back(in);
      sent.clear();
      rig.feed(*relay, pin, inputs.back());
      tx.flush();
      if (sent.size() != expect) {
        std::fprintf(stderr, "relay_bench: %zu datagrams for\n%s\n", sent.size(), inputs.back().text.c_str());
        std::abort();
      }
      out_per_call += sent.size();
      return sent;
    };
    const auto parse = [](const std::string& text, sip::Message& m, sip::Header* hs) {
      if (sip::parse(text, m, {hs, sip::kMaxHeaders}) != sip::ParseStatus::ok) std::abort();
    };
    const auto expect_cseq = [](const sip::Message& m, std::uint32_t want, const char* what) {
      if (cseq_of(m) != want) {
        std::fprintf(stderr, "relay_bench: %s has CSeq %u, not %u\n", what, cseq_of(m), want);
        std::abort();
      }
    };
    for (std::uint32_t i = 0; i < kCalls; ++i) {
      sip::Header hs[sip::kMaxHeaders], hs2[sip::kMaxHeaders];
      sip::Message m, m2;
      // INVITE → 100 to the core, INVITE to the provider.
      auto out = step({core_invite(i), true}, 2);
      std::string invite = out[1].text;
      parse(invite, m, hs);
      if (m.method != "INVITE" || out[1].ip != kProviderIp) std::abort();
      expect_cseq(m, 100, "the first INVITE");
      std::uint32_t offset = 0;
      if (ch != Challenge::none) {
        out = step({provider_response(m, 407, i, ch), false}, 2);  // ACK + INVITE with credentials
        invite = out[1].text;
        parse(invite, m, hs);
        if (m.first(sip::HeaderId::proxy_authorization) == nullptr) std::abort();
        expect_cseq(m, 101, "the authenticated INVITE");
        offset = 1;
      }
      const std::string ringing = provider_response(m, 180, i, ch), ok = provider_response(m, 200, i, ch);
      step({ringing, false}, 1);
      out = step({ok, false}, 1);
      parse(out[0].text, m2, hs2);
      expect_cseq(m2, 100, "the 200 to the core");
      out = step({core_in_dialog(i, false), true}, 1);
      parse(out[0].text, m2, hs2);
      expect_cseq(m2, 100 + offset, "the ACK");
      out = step({core_in_dialog(i, true), true}, 1);
      const std::string bye = out[0].text;
      parse(bye, m2, hs2);
      expect_cseq(m2, 101 + offset, "the BYE");
      out = step({provider_response(m2, 200, i, ch), false}, 1);
      parse(out[0].text, m2, hs2);
      expect_cseq(m2, 101, "the BYE's 200 to the core");
    }
    if (relay->counters().answered.get() != kCalls) std::abort();
    out_per_call /= kCalls;
  }
};

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

void discard(void*, reg::TxQueue& q) { q.clear(); }

// One iteration = one call: every message of it parsed and handed to the relay.
void BM_RelayedCall(benchmark::State& state) {
  static CallFixture none(Challenge::none), md5(Challenge::md5), sha(Challenge::sha256);
  const CallFixture& f = state.range(0) == 0 ? none : state.range(0) == 1 ? md5 : sha;
  const std::size_t per_call = f.inputs.size() / kCalls;
  reg::TxQueue tx(256, discard, nullptr);
  const auto pin = f.rig.pin();
  std::unique_ptr<call::Relay> relay = f.rig.relay(tx);
  std::uint32_t i = 0;
  std::uint64_t answered = 0;
  const long faults0 = minor_faults();
  for (auto _ : state) {
    if (i == kCalls) {
      state.PauseTiming();
      answered += relay->counters().answered.get();
      relay.reset();
      relay = f.rig.relay(tx);
      i = 0;
      state.ResumeTiming();
    }
    const Input* in = &f.inputs[std::size_t(i) * per_call];
    for (std::size_t k = 0; k < per_call; ++k) {
      f.rig.feed(*relay, pin, in[k]);
      tx.flush();  // the worker sends after every burst
    }
    ++i;
  }
  answered += relay->counters().answered.get();
  if (answered != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("a call was not answered");
  const double calls = static_cast<double>(state.iterations());
  state.counters["calls_per_s"] = benchmark::Counter(calls, benchmark::Counter::kIsRate);
  state.counters["ns_per_msg_in"] = benchmark::Counter(calls * static_cast<double>(per_call),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["msgs_in"] = static_cast<double>(per_call);
  state.counters["msgs_out"] = static_cast<double>(f.out_per_call);
  // Page faults of the fresh relays' slots, per call: 0 means the figure is the relay's work.
  state.counters["faults_per_call"] = static_cast<double>(minor_faults() - faults0) / calls;
  state.SetLabel(state.range(0) == 0 ? "no challenge" : state.range(0) == 1 ? "407 MD5 qop=auth" : "407 SHA-256 qop=auth");
}
BENCHMARK(BM_RelayedCall)->Arg(0)->Arg(1)->Arg(2);

// The worker's part of the figure above: parsing the same call's datagrams, without the relay.
// BM_RelayedCall minus this is what the relay itself costs per call.
void BM_ParseCallMessages(benchmark::State& state) {
  static CallFixture md5(Challenge::md5);
  const std::size_t per_call = md5.inputs.size() / kCalls;
  std::uint32_t i = 0;
  for (auto _ : state) {
    if (i == kCalls) i = 0;
    const Input* in = &md5.inputs[std::size_t(i) * per_call];
    for (std::size_t k = 0; k < per_call; ++k) {
      sip::Header hs[sip::kMaxHeaders];
      sip::Message m;
      if (sip::parse(in[k].text, m, hs) != sip::ParseStatus::ok) std::abort();
      benchmark::DoNotOptimize(m.header_count);
    }
    ++i;
  }
  state.counters["ns_per_msg_in"] = benchmark::Counter(static_cast<double>(state.iterations() * per_call),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel("the 7 datagrams of a challenged call, parsed");
}
BENCHMARK(BM_ParseCallMessages);

}  // namespace
