// Benchmarks of the SIP parser on what a registration front end receives most: a 401 digest
// challenge and a 200 OK to REGISTER (~600 octets each), and the per-response work of the engine
// (parse, then Via branch, CSeq, Call-ID and the granted expiry).
//
// Target: ≤ 250 ns per message up to 1 KB (x86-64-v2, one core). Run the binary directly from
// a Release build; ctest only smoke-runs it.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "regfront/sip/message.h"

namespace {

using namespace regfront::sip;

constexpr std::string_view k401 =
    "SIP/2.0 401 Unauthorized\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK.rf.0000003f.00017.7c1e;"
    "received=198.51.100.7;rport=5060\r\n"
    "From: <sip:+493012345678@sip.carrier-one.example>;tag=rf-8f2c41d0\r\n"
    "To: <sip:+493012345678@sip.carrier-one.example>;tag=as7d1f4e2b\r\n"
    "Call-ID: rf-0-0000003f-4711@198.51.100.7\r\n"
    "CSeq: 17 REGISTER\r\n"
    "WWW-Authenticate: Digest realm=\"sip.carrier-one.example\", "
    "nonce=\"5f3a9c1e7b2d4a6f8e0c2b4d6f8a0c2e4b6d8f0a\", qop=\"auth\", algorithm=MD5, "
    "opaque=\"4f2a9b7c1d3e5f60\"\r\n"
    "Server: Carrier-SBC 4.2\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

constexpr std::string_view k200 =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK.rf.0000003f.00018.7c1e;"
    "received=198.51.100.7;rport=5060\r\n"
    "From: <sip:+493012345678@sip.carrier-one.example>;tag=rf-8f2c41d0\r\n"
    "To: <sip:+493012345678@sip.carrier-one.example>;tag=as7d1f4e2b\r\n"
    "Call-ID: rf-0-0000003f-4711@198.51.100.7\r\n"
    "CSeq: 18 REGISTER\r\n"
    "Contact: <sip:+493012345678@198.51.100.7:5060;transport=udp>;expires=1800\r\n"
    "Expires: 1800\r\n"
    "Date: Tue, 04 Mar 2025 10:00:00 GMT\r\n"
    "Server: Carrier-SBC 4.2\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REGISTER, NOTIFY\r\n"
    "Supported: path, outbound\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

void parse_only(benchmark::State& state, std::string_view msg) {
  std::array<Header, kMaxHeaders> headers;
  Message m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(msg.data());
    const ParseStatus st = parse(msg, m, headers);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
  state.counters["octets"] = static_cast<double>(msg.size());
}

void BM_Parse401(benchmark::State& state) { parse_only(state, k401); }
void BM_Parse200(benchmark::State& state) { parse_only(state, k200); }

// What the engine does per response: parse, match the transaction (top Via branch, CSeq),
// find the binding (Call-ID), and for a 2xx read the granted expiry (Contact expires, else
// Expires).
struct Extracted {
  std::string_view branch;
  std::string_view call_id;
  std::uint32_t cseq = 0;
  std::uint32_t expires = 0;
};

bool extract(std::string_view datagram, Message& m, std::span<Header> headers, Extracted& out) {
  if (parse(datagram, m, headers) != ParseStatus::ok) return false;
  const Header* via = m.first(HeaderId::via);
  const Header* cseq = m.first(HeaderId::cseq);
  const Header* call_id = m.first(HeaderId::call_id);
  if (via == nullptr || cseq == nullptr || call_id == nullptr) return false;
  std::size_t pos = 0;
  std::string_view top;
  Via v;
  if (!next_list_element(via->value, pos, top) || !parse_via(top, v)) return false;
  CSeq c;
  if (!parse_cseq(cseq->value, c)) return false;
  out.branch = v.branch;
  out.cseq = c.number;
  out.call_id = call_id->value;
  out.expires = 0;
  if (m.status >= 200 && m.status < 300) {
    bool found = false;
    if (const Header* contact = m.first(HeaderId::contact)) {
      std::size_t cpos = 0;
      std::string_view el;
      NameAddr na;
      if (next_list_element(contact->value, cpos, el) && parse_name_addr(el, na)) {
        std::size_t ppos = 0;
        std::string_view name;
        std::string_view value;
        while (next_param(na.params, ppos, name, value)) {
          if (iequals(name, "expires")) {
            found = parse_delta_seconds(value, out.expires);
            break;
          }
        }
      }
    }
    if (!found) {
      if (const Header* e = m.first(HeaderId::expires)) parse_delta_seconds(e->value, out.expires);
    }
  }
  return true;
}

void engine(benchmark::State& state, std::string_view msg) {
  std::array<Header, kMaxHeaders> headers;
  Message m;
  Extracted x;
  for (auto _ : state) {
    benchmark::DoNotOptimize(msg.data());
    const bool ok = extract(msg, m, headers, x);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(x);
  }
  if (!extract(msg, m, headers, x) || x.cseq == 0 || x.branch.empty()) {
    state.SkipWithError("extraction failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}

void BM_Engine401(benchmark::State& state) { engine(state, k401); }
void BM_Engine200(benchmark::State& state) { engine(state, k200); }

BENCHMARK(BM_Parse401);
BENCHMARK(BM_Parse200);
BENCHMARK(BM_Engine401);
BENCHMARK(BM_Engine200);

}  // namespace

namespace {

// The helpers alone, to see where the engine's time goes.
void BM_ParseVia(benchmark::State& state) {
  constexpr std::string_view v =
      "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK.rf.0000003f.00018.7c1e;"
      "received=198.51.100.7;rport=5060";
  Via via;
  for (auto _ : state) {
    benchmark::DoNotOptimize(v.data());
    std::size_t pos = 0;
    std::string_view el;
    bool ok = next_list_element(v, pos, el) && parse_via(el, via);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(via);
  }
}
BENCHMARK(BM_ParseVia);

void BM_ContactExpires(benchmark::State& state) {
  constexpr std::string_view c =
      "<sip:+493012345678@198.51.100.7:5060;transport=udp>;expires=1800";
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.data());
    NameAddr na;
    std::uint32_t e = 0;
    if (parse_name_addr(c, na)) {
      std::size_t pos = 0;
      std::string_view n, v;
      while (next_param(na.params, pos, n, v)) {
        if (iequals(n, "expires")) parse_delta_seconds(v, e);
      }
    }
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_ContactExpires);

void BM_CSeq(benchmark::State& state) {
  constexpr std::string_view c = "18 REGISTER";
  CSeq cseq;
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.data());
    bool ok = parse_cseq(c, cseq);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(cseq);
  }
}
BENCHMARK(BM_CSeq);

}  // namespace
