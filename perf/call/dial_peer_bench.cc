// Dial-peer matching: what a worker pays per INVITE to find the dial peers of a called number,
// and what the control plane pays per snapshot to build the table. Both engines, at 10, 10,000
// and 100,000 patterns, on a carrier-like mix:
//   * North American routes "1NPANXX...." (most of the table), area-code routes "1NPA",
//     exact numbers "1NPANXXXXXX$", ranges "1NPA[2-5]X[0-4]....", international "+44…", a
//     few with a repetition after the area code "1NPA(0)?NXX....", and catch-alls ("011T",
//     "+T", "1800T"), with preferences 0-2;
//   * numbers that match several dial peers (a route and its area code, often a range or a
//     duplicate route at another preference), and numbers in known area codes that match none.
// Tables are built once per (engine, size) and kept; the lookup benchmarks report that build's
// time and bytes. The build benchmarks measure repeated builds, but not Hyperscan's at 100k (about
// a minute of compiling each time): a smoke run (--benchmark_min_time=0.01) compiles that table
// once.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "regfront/call/dial_peer_match.h"

namespace {

using regfront::call::DialPeerMatcher;
using regfront::call::DialPeerPattern;
using regfront::call::MatchEngine;
using regfront::call::MatchScratch;

struct Mix {
  std::vector<std::string> text;
  std::vector<DialPeerPattern> peers;
  std::vector<std::string> several;  // each matches at least two dial peers
  std::vector<std::string> none;     // each matches none
};

std::string digits(std::mt19937& rng, int n, char first_min = '0') {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += static_cast<char>(i == 0 ? first_min +
                                        static_cast<char>(rng() % static_cast<unsigned>('9' - first_min + 1))
                                  : '0' + static_cast<char>(rng() % 10));
  }
  return s;
}

Mix make_mix(std::size_t n) {
  std::mt19937 rng(static_cast<std::uint32_t>(n));
  Mix m;
  // Area codes: about one per 300 routes, at least two.
  std::vector<std::string> npa;
  for (std::size_t i = 0; i < std::max<std::size_t>(2, n / 300); ++i) npa.push_back(digits(rng, 3, '2'));
  for (const char* p : {"011T", "+T", "1800T", "1888T", "00T"}) {
    if (m.text.size() < std::max<std::size_t>(1, n / 2000)) m.text.emplace_back(p);
  }
  // Area-code routes for every other area code (the others have routes per exchange only).
  for (std::size_t i = 0; i < npa.size(); i += 2) {
    if (m.text.size() < n / 10 + 2) m.text.push_back("1" + npa[i]);
  }
  while (m.text.size() < n) {
    const std::string area = npa[rng() % npa.size()];
    const unsigned r = rng() % 100;
    if (r < 78) {
      m.text.push_back("1" + area + digits(rng, 3, '2') + "....");
    } else if (r < 86) {
      m.text.push_back("1" + area + digits(rng, 3, '2') + digits(rng, 4) + "$");
    } else if (r < 93) {
      m.text.push_back("+44" + digits(rng, 2 + static_cast<int>(rng() % 3), '1') + "......");
    } else if (r < 99) {
      m.text.push_back("1" + area + "[2-5]" + digits(rng, 1) + "[0-4]....");
    } else {
      m.text.push_back("1" + area + "(0)?" + digits(rng, 3, '2') + "....");
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    m.peers.push_back({static_cast<std::uint32_t>(i), m.text[i], static_cast<std::uint8_t>(rng() % 3),
                       static_cast<std::uint32_t>(1000 + i)});
  }

  auto trie = DialPeerMatcher::build(m.peers, MatchEngine::trie);
  auto scratch = trie->make_scratch();
  std::uint32_t ids[regfront::call::kDefaultHuntDepth];
  // Several: a route's own number (with its area-code route, and whatever else covers it).
  while (m.several.size() < 1024) {
    const std::string& p = m.text[rng() % n];
    if (p.size() != 11 || p[0] != '1' || p.substr(7) != "....") continue;
    const std::string number = p.substr(0, 7) + digits(rng, 4);
    if (trie->match(number, *scratch, ids, regfront::call::kDefaultHuntDepth) >= 2)
      m.several.push_back(number);
  }
  // None: known area codes, unknown exchanges.
  for (int tries = 0; m.none.size() < 1024 && tries < 1000000; ++tries) {
    const std::string number = "1" + npa[rng() % npa.size()] + digits(rng, 7, '2');
    if (trie->match(number, *scratch, ids, regfront::call::kDefaultHuntDepth) == 0) m.none.push_back(number);
  }
  return m;
}

const Mix& mix(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<Mix>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<Mix>(make_mix(n));
  return *slot;
}

struct Built {
  DialPeerMatcher matcher;
  double build_ms;
};

const Built& built(MatchEngine e, std::size_t n) {
  static std::map<std::pair<MatchEngine, std::size_t>, std::unique_ptr<Built>> cache;
  auto& slot = cache[{e, n}];
  if (!slot) {
    const Mix& m = mix(n);
    const auto start = std::chrono::steady_clock::now();
    auto matcher = DialPeerMatcher::build(m.peers, e);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    if (!matcher.ok()) {
      std::fprintf(stderr, "build: %s\n", matcher.status().message().c_str());
      std::abort();
    }
    slot = std::make_unique<Built>(Built{std::move(*matcher), took.count()});
  }
  return *slot;
}

// ---- lookup: one match() per iteration, cycling through 1024 numbers ----
template <MatchEngine E, bool kSeveral>
void BM_Lookup(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Built& b = built(E, n);
  const DialPeerMatcher& m = b.matcher;
  const std::vector<std::string>& numbers = kSeveral ? mix(n).several : mix(n).none;
  auto scratch = m.make_scratch();
  std::uint32_t ids[regfront::call::kDefaultHuntDepth];
  if (E != MatchEngine::trie) {
    // The engines must agree on these tables too (the unit tests check random ones).
    const DialPeerMatcher& ref = built(MatchEngine::trie, n).matcher;
    auto ref_scratch = ref.make_scratch();
    std::uint32_t want[regfront::call::kDefaultHuntDepth];
    for (const std::string& number : numbers) {
      const std::size_t got = m.match(number, *scratch, ids, regfront::call::kDefaultHuntDepth);
      if (got != ref.match(number, *ref_scratch, want, regfront::call::kDefaultHuntDepth) ||
          !std::equal(ids, ids + got, want)) {
        state.SkipWithError(("engines disagree on " + number).c_str());
        return;
      }
    }
  }
  std::size_t i = 0, found = 0;
  for (auto _ : state) {
    found += m.match(numbers[i++ & 1023], *scratch, ids, regfront::call::kDefaultHuntDepth);
    benchmark::DoNotOptimize(ids);
  }
  state.counters["matches/lookup"] =
      benchmark::Counter(static_cast<double>(found) / static_cast<double>(state.iterations()));
  state.counters["build_ms"] = benchmark::Counter(b.build_ms);  // wall time, once
  state.counters["table_bytes"] = benchmark::Counter(static_cast<double>(m.memory_bytes()));
}

// ---- build: the control plane's cost per snapshot, and the memory it leaves ----
template <MatchEngine E>
void BM_Build(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Mix& m = mix(n);
  std::size_t bytes = 0, scratch_bytes = 0;
  for (auto _ : state) {
    auto built = DialPeerMatcher::build(m.peers, E);
    benchmark::DoNotOptimize(built);
    state.PauseTiming();
    bytes = built->memory_bytes();
    scratch_bytes = built->make_scratch()->bytes();
    state.ResumeTiming();
  }
  state.counters["table_bytes"] = benchmark::Counter(static_cast<double>(bytes));
  state.counters["scratch_bytes"] = benchmark::Counter(static_cast<double>(scratch_bytes));
}

void sizes(benchmark::internal::Benchmark* b) { b->Arg(10)->Arg(10000)->Arg(100000); }
void small_sizes(benchmark::internal::Benchmark* b) { b->Arg(10)->Arg(10000); }

BENCHMARK(BM_Lookup<MatchEngine::trie, true>)->Name("lookup/several/trie")->Apply(sizes);
BENCHMARK(BM_Lookup<MatchEngine::hyperscan, true>)->Name("lookup/several/hyperscan")->Apply(sizes);
BENCHMARK(BM_Lookup<MatchEngine::trie, false>)->Name("lookup/none/trie")->Apply(sizes);
BENCHMARK(BM_Lookup<MatchEngine::hyperscan, false>)->Name("lookup/none/hyperscan")->Apply(sizes);
BENCHMARK(BM_Build<MatchEngine::trie>)->Name("build/trie")->Apply(sizes)->Unit(benchmark::kMillisecond);
// At 100k: the build_ms counter of lookup/*/hyperscan/100000.
BENCHMARK(BM_Build<MatchEngine::hyperscan>)
    ->Name("build/hyperscan")
    ->Apply(small_sizes)
    ->Unit(benchmark::kMillisecond);

}  // namespace
